/*
 * policy.c - the retention engine: see policy.h and docs/retention.md.
 *
 * Steps of bs_retention_apply, in order (each adds a reason to the decision
 * it touches, so the reasons read in this order):
 *
 *   1. orphans (no catalog record): grace period only
 *   2. pinned, protected (prune's caller) -> keep
 *   3. start after now (clock skew)    -> keep, left out of every rule
 *   4. sort the rest newest first (start, then id)
 *   5. keep_newest, keep_newest_verified
 *   6. keep_last .. keep_yearly: restic's bucket walk
 *   7. keep_within (from the newest start), keep_window (from now)
 *   8. min_keep tops up with the newest deleted snapshots
 *   9. guard: never delete every complete snapshot
 */
#include "retention/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/duration.h"
#include "retention/policy_int.h"

#define DEFAULT_ORPHAN_GRACE 86400

/* The counted rules, in the order their reasons are written. */
static const struct {
	const char *name;  /* policy field / YAML key */
	const char *label; /* reason prefix */
	const char *fmt;   /* strftime bucket key in the policy's zone; NULL = every snapshot */
	size_t off;
} count_rules[] = {
	{"keep_last", "last", NULL, offsetof(struct bs_retention_policy, keep_last)},
	{"keep_hourly", "hourly", "%Y-%m-%dT%H", offsetof(struct bs_retention_policy, keep_hourly)},
	{"keep_daily", "daily", "%Y-%m-%d", offsetof(struct bs_retention_policy, keep_daily)},
	{"keep_weekly", "weekly", "%G-W%V", offsetof(struct bs_retention_policy, keep_weekly)},
	{"keep_monthly", "monthly", "%Y-%m", offsetof(struct bs_retention_policy, keep_monthly)},
	{"keep_yearly", "yearly", "%Y", offsetof(struct bs_retention_policy, keep_yearly)},
};
#define NCOUNT_RULES (sizeof(count_rules) / sizeof(count_rules[0]))

static int count_of(const struct bs_retention_policy *p, size_t r)
{
	return *(const int *)(const void *)((const char *)p + count_rules[r].off);
}

void bs_retention_policy_init(struct bs_retention_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->keep_last = p->keep_hourly = p->keep_daily = BS_RETENTION_UNSET;
	p->keep_weekly = p->keep_monthly = p->keep_yearly = BS_RETENTION_UNSET;
	p->keep_within = 0;
	p->keep_window = 0;
	p->min_keep = 1;
	p->keep_newest = 1;
	p->keep_newest_verified = 1;
	p->orphan_grace = DEFAULT_ORPHAN_GRACE;
	snprintf(p->timezone, sizeof(p->timezone), "UTC");
}

/* A duration as a retention policy writes it: never with 'm', which a
 * restic user reads as months ("90m" is written "5400s"). */
static char *fmt_dur(int64_t secs, char *buf, size_t n)
{
	if (secs % 3600 != 0 && secs % 60 == 0) {
		snprintf(buf, n, "%llds", (long long)secs);
		return buf;
	}
	return bs_duration_format(secs, buf, n);
}

/* ---- time zones ---------------------------------------------------------- */

static int tz_is_utc(const char *tz)
{
	return tz[0] == '\0' || strcmp(tz, "UTC") == 0;
}

/* An IANA name: "Area/City[/Sub]", no absolute or parent paths. */
static int tz_name_ok(const char *tz)
{
	const char *c;

	if (tz[0] == '/' || tz[0] == '.' || strstr(tz, "..") || strstr(tz, "//"))
		return 0;
	for (c = tz; *c; c++) {
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		      (*c >= '0' && *c <= '9') || *c == '/' || *c == '_' || *c == '-' ||
		      *c == '+' || *c == '.'))
			return 0;
	}
	return c[-1] != '/';
}

/* The zone exists when its TZif file does: glibc would silently fall back
 * to UTC for an unknown name, and buckets would be wrong without a word. */
static int tz_known(const char *tz)
{
	const char *dir = getenv("TZDIR");
	char path[512], magic[4];
	int fd, n;
	ssize_t got;

	if (tz_is_utc(tz))
		return 1;
	if (!tz_name_ok(tz))
		return 0;
	if (!dir || !*dir)
		dir = "/usr/share/zoneinfo";
	n = snprintf(path, sizeof(path), "%s/%s", dir, tz);
	if (n < 0 || (size_t)n >= sizeof(path))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	do
		got = read(fd, magic, sizeof(magic));
	while (got < 0 && errno == EINTR);
	close(fd);
	return got == (ssize_t)sizeof(magic) && memcmp(magic, "TZif", 4) == 0;
}

static pthread_mutex_t tz_mutex = PTHREAD_MUTEX_INITIALIZER;

int bs_retention_localtimes(const char *tz, const time_t *ts, size_t n, struct tm *out,
			    struct bs_err *err)
{
	char *saved = NULL;
	const char *old;
	size_t i;
	int rc = 0;

	if (tz_is_utc(tz)) {
		for (i = 0; i < n; i++)
			if (!gmtime_r(&ts[i], &out[i]))
				return bs_err_set(err, BS_ERR_INTERNAL,
						  "time %lld is out of range", (long long)ts[i]);
		return 0;
	}
	/* localtime_r has no zone argument: switch TZ for the whole batch under
	 * one lock, then put the old value back.  The zone check reads the
	 * environment (TZDIR) too, so it runs under the same lock: getenv while
	 * another thread's setenv moves the environment reads freed memory. */
	pthread_mutex_lock(&tz_mutex);
	if (!tz_known(tz)) {
		pthread_mutex_unlock(&tz_mutex);
		bs_err_set(err, BS_ERR_POLICY, "unknown time zone '%s'", tz);
		bs_err_hint(err, "use an IANA zone name such as 'UTC', 'Europe/Berlin' or "
				 "'America/New_York'");
		return -1;
	}
	old = getenv("TZ");
	if (old && !(saved = strdup(old))) {
		pthread_mutex_unlock(&tz_mutex);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory saving TZ");
	}
	if (setenv("TZ", tz, 1) != 0) {
		rc = bs_err_sys(err, BS_ERR_INTERNAL, errno, "unable to set TZ to '%s'", tz);
	} else {
		tzset();
		for (i = 0; i < n; i++) {
			if (!localtime_r(&ts[i], &out[i])) {
				rc = bs_err_set(err, BS_ERR_INTERNAL, "time %lld is out of range",
						(long long)ts[i]);
				break;
			}
		}
	}
	if (saved)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	pthread_mutex_unlock(&tz_mutex);
	free(saved);
	return rc;
}

/* ---- validation ---------------------------------------------------------- */

struct problems {
	int n;
	char first[BS_ERR_MSG_MAX];
	char hint[BS_ERR_HINT_MAX];
	char all[BS_ERR_DETAIL_MAX];
};

static void problem(struct problems *pr, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(struct problems *pr, const char *hint, const char *fmt, ...)
{
	char text[256];
	size_t len = strlen(pr->all);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (pr->n++ == 0) {
		snprintf(pr->first, sizeof(pr->first), "%s", text);
		snprintf(pr->hint, sizeof(pr->hint), "%s", hint);
	}
	if (len < sizeof(pr->all) - 1)
		snprintf(pr->all + len, sizeof(pr->all) - len, "%s%s", len ? "; " : "", text);
}

int bs_retention_policy_validate(const struct bs_retention_policy *p, struct bs_err *err)
{
	struct problems pr;
	int rules = 0;
	size_t r;

	if (!p)
		return bs_err_set(err, BS_ERR_INTERNAL, "no retention policy given");
	memset(&pr, 0, sizeof(pr));

	for (r = 0; r < NCOUNT_RULES; r++) {
		int c = count_of(p, r);

		if (c > 0)
			rules++;
		else if (c < 0 && c != BS_RETENTION_UNSET)
			problem(&pr,
				"a count is 0 (off) or more; write 'unlimited' to keep every "
				"bucket (restic's -1)",
				"%s is %d", count_rules[r].name, c);
	}
	if (p->keep_within > 0)
		rules++;
	else if (p->keep_within < 0 && p->keep_within != BS_RETENTION_UNSET)
		problem(&pr, "write a duration such as '7d', or 0 to turn the rule off",
			"keep_within is negative (%lld s)", (long long)p->keep_within);
	if (p->keep_window > 0)
		rules++;
	else if (p->keep_window < 0 && p->keep_window != BS_RETENTION_UNSET)
		problem(&pr, "write a duration such as '30d', or 0 to turn the rule off",
			"keep_window is negative (%lld s)", (long long)p->keep_window);
	if (p->min_keep < 0)
		problem(&pr, "min_keep is 0 (off) or more; the default is 1", "min_keep is %d",
			p->min_keep);
	if (p->orphan_grace < 0)
		problem(&pr, "write a duration such as '24h'", "orphan_grace is negative (%lld s)",
			(long long)p->orphan_grace);
	if (!memchr(p->timezone, '\0', sizeof(p->timezone)))
		problem(&pr, "use an IANA zone name such as 'Europe/Berlin'",
			"timezone is longer than %zu characters", sizeof(p->timezone) - 1);
	else if (!tz_known(p->timezone))
		problem(&pr,
			"use an IANA zone name such as 'UTC', 'Europe/Berlin' or "
			"'America/New_York' (see /usr/share/zoneinfo)",
			"unknown time zone '%s'", p->timezone);
	if (rules == 0)
		problem(&pr,
			"set at least one of keep_last, keep_hourly, keep_daily, keep_weekly, "
			"keep_monthly, keep_yearly, keep_within or keep_window (e.g. "
			"keep_daily: 35); to keep everything write keep_last: unlimited",
			"no keep rule is set (empty policy)");

	if (pr.n == 0)
		return 0;
	bs_err_set(err, BS_ERR_POLICY, "invalid retention policy: %s", pr.first);
	if (pr.n > 1)
		bs_err_detail(err, "%d problems: %s", pr.n, pr.all);
	bs_err_hint(err, "%s", pr.hint);
	return -1;
}

/* ---- decisions ----------------------------------------------------------- */

static void vadd_reason(struct bs_retention_decision *d, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void vadd_reason(struct bs_retention_decision *d, const char *fmt, va_list ap)
{
	char part[BS_RETENTION_REASON_MAX];
	size_t len = strlen(d->reasons), room = sizeof(d->reasons) - len;
	int n;

	vsnprintf(part, sizeof(part), fmt, ap);
	n = snprintf(d->reasons + len, room, "%s%s", len ? ", " : "", part);
	if (n < 0 || (size_t)n >= room)
		memcpy(d->reasons + sizeof(d->reasons) - 4, "...", 4);
}

static void note(struct bs_retention_decision *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Add a reason without changing the verdict. */
static void note(struct bs_retention_decision *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vadd_reason(d, fmt, ap);
	va_end(ap);
}

static void keep(struct bs_retention_decision *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void keep(struct bs_retention_decision *d, const char *fmt, ...)
{
	va_list ap;

	d->verdict = BS_RETAIN_KEEP;
	va_start(ap, fmt);
	vadd_reason(d, fmt, ap);
	va_end(ap);
}

static void set_all(struct bs_retention_decision *d, size_t n, enum bs_retention_verdict v,
		    const char *reason)
{
	size_t i;

	for (i = 0; i < n; i++) {
		d[i].verdict = v;
		snprintf(d[i].reasons, sizeof(d[i].reasons), "%s", reason);
	}
}

int bs_retention_guard_delete_all(const struct bs_retention_item *items, size_t n,
				  struct bs_retention_decision *decisions, struct bs_err *err)
{
	size_t i, complete = 0, kept = 0;

	for (i = 0; i < n; i++) {
		if (!items[i].complete)
			continue;
		complete++;
		if (decisions[i].verdict == BS_RETAIN_KEEP)
			kept++;
	}
	if (complete == 0 || kept > 0)
		return 0;
	set_all(decisions, n, BS_RETAIN_KEEP, "refused: the policy would delete every snapshot");
	bs_err_set(err, BS_ERR_POLICY, "retention policy would delete all %zu snapshots",
		   complete);
	bs_err_detail(err, "nothing was deleted");
	bs_err_hint(err, "check the keep_* rules, and keep min_keep and keep_newest on");
	return -1;
}

int bs_retention_orphan_expired(const struct bs_retention_policy *p, time_t archive_mtime,
				time_t now)
{
	int64_t grace = (p && p->orphan_grace >= 0) ? p->orphan_grace : DEFAULT_ORPHAN_GRACE;

	if (archive_mtime >= now)
		return 0;
	return (int64_t)(now - archive_mtime) > grace;
}

struct entry {
	size_t i; /* index into items */
	time_t start;
	const char *id;
};

/* Newest first; equal starts by id (ids sort by time), then input order. */
static int newest_first(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c;

	if (x->start != y->start)
		return x->start > y->start ? -1 : 1;
	c = strcmp(y->id ? y->id : "", x->id ? x->id : "");
	if (c)
		return c;
	return x->i < y->i ? -1 : x->i > y->i;
}

static void apply_count_rules(const struct bs_retention_policy *p, const struct entry *L,
			      const struct tm *tms, size_t m, struct bs_retention_decision *dec)
{
	size_t r, j;

	for (r = 0; r < NCOUNT_RULES; r++) {
		char last[64] = "", key[64];
		int left = count_of(p, r);

		/* restic: walk newest first, keep the newest snapshot of each new
		 * bucket while the count lasts; if the count is not used up at
		 * the oldest snapshot, keep that one too ("oldest"). */
		for (j = 0; j < m && left > 0; j++) {
			if (count_rules[r].fmt) {
				if (strftime(key, sizeof(key), count_rules[r].fmt, &tms[j]) == 0)
					snprintf(key, sizeof(key), "?");
			} else {
				snprintf(key, sizeof(key), "#%zu", j + 1);
			}
			if (strcmp(key, last) != 0) {
				keep(&dec[L[j].i], "%s %s", count_rules[r].label, key);
				memcpy(last, key, sizeof(last));
				left--;
			} else if (j == m - 1) {
				keep(&dec[L[j].i], "oldest %s %s", count_rules[r].label, key);
				left--;
			}
		}
	}
}

/* Rules 5-7 over the complete snapshots L (m > 0, newest first). */
static void apply_time_rules(const struct bs_retention_policy *p, const struct bs_retention_item *items,
			     const struct entry *L, const struct tm *tms, size_t m, time_t now,
			     struct bs_retention_decision *dec)
{
	char dur[BS_DURATION_FMT_MAX];
	size_t j;

	/* 5 */
	if (p->keep_newest)
		keep(&dec[L[0].i], "newest");
	if (p->keep_newest_verified) {
		for (j = 0; j < m; j++) {
			if (items[L[j].i].drill_passed) {
				keep(&dec[L[j].i], "newest verified");
				break;
			}
		}
	}

	/* 6 */
	apply_count_rules(p, L, tms, m, dec);

	/* 7: restic keeps start > newest - within (strictly after) */
	if (p->keep_within > 0) {
		fmt_dur(p->keep_within, dur, sizeof(dur));
		for (j = 0; j < m && (int64_t)(L[0].start - L[j].start) < p->keep_within; j++)
			keep(&dec[L[j].i], "within %s", dur);
	}
	/* Barman: everything in [now - window, now], plus the newest one
	 * before it, so the state at the window's start stays restorable. */
	if (p->keep_window > 0) {
		fmt_dur(p->keep_window, dur, sizeof(dur));
		for (j = 0; j < m && (int64_t)(now - L[j].start) <= p->keep_window; j++)
			keep(&dec[L[j].i], "window %s", dur);
		if (j < m)
			keep(&dec[L[j].i], "window %s (newest before it)", dur);
	}
}

int bs_retention_apply(const struct bs_retention_policy *p, const struct bs_retention_item *items,
		       size_t n, time_t now, struct bs_retention_decision *dec,
		       struct bs_err *err)
{
	char dur[BS_DURATION_FMT_MAX];
	struct entry *L = NULL;
	struct tm *tms = NULL;
	time_t *ts = NULL;
	size_t i, j, m = 0, kept;
	int rc = -1;

	if (n > 0 && (!items || !dec))
		return bs_err_set(err, BS_ERR_USAGE, "retention: no snapshot or decision array");
	/* Until the end, a failure leaves every snapshot kept. */
	set_all(dec, n, BS_RETAIN_KEEP, "not decided: policy error");
	if (bs_retention_policy_validate(p, err) < 0)
		return -1;
	if (n == 0)
		return 0;

	L = calloc(n, sizeof(*L));
	ts = calloc(n, sizeof(*ts));
	tms = calloc(n, sizeof(*tms));
	if (!L || !ts || !tms) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory deciding on %zu snapshots", n);
		goto out;
	}
	set_all(dec, n, BS_RETAIN_DELETE, "");

	/* 1-3: orphans, pins, future start times */
	for (i = 0; i < n; i++) {
		const struct bs_retention_item *it = &items[i];

		if (it->pinned)
			keep(&dec[i], "pinned");
		if (it->protect && it->complete)
			keep(&dec[i], "%s", it->protect);
		if (!it->complete) {
			fmt_dur(p->orphan_grace, dur, sizeof(dur));
			if (bs_retention_orphan_expired(p, it->start, now))
				note(&dec[i], "orphan (no catalog record) older than %s grace", dur);
			else
				keep(&dec[i],
				     "orphan (no catalog record) within %s grace, snap may be running",
				     dur);
			continue;
		}
		if (it->start > now) {
			keep(&dec[i], "start in the future (clock skew?)");
			continue;
		}
		L[m].i = i;
		L[m].start = it->start;
		L[m].id = it->id;
		m++;
	}

	/* 4 */
	qsort(L, m, sizeof(*L), newest_first);
	for (j = 0; j < m; j++)
		ts[j] = L[j].start;
	if (bs_retention_localtimes(p->timezone, ts, m, tms, err) < 0)
		goto out;

	if (m > 0)
		apply_time_rules(p, items, L, tms, m, now, dec);

	/* 8 */
	kept = 0;
	for (i = 0; i < n; i++)
		if (items[i].complete && dec[i].verdict == BS_RETAIN_KEEP)
			kept++;
	for (j = 0; j < m && p->min_keep > 0 && kept < (size_t)p->min_keep; j++) {
		if (dec[L[j].i].verdict == BS_RETAIN_DELETE) {
			keep(&dec[L[j].i], "min_keep %d", p->min_keep);
			kept++;
		}
	}

	/* 9: on refusal the guard has already turned every decision into KEEP */
	if (bs_retention_guard_delete_all(items, n, dec, err) < 0)
		goto out_free;

	for (i = 0; i < n; i++)
		if (dec[i].verdict == BS_RETAIN_DELETE && dec[i].reasons[0] == '\0')
			snprintf(dec[i].reasons, sizeof(dec[i].reasons), "outside all rules");
	rc = 0;
	goto out_free;
out:
	set_all(dec, n, BS_RETAIN_KEEP, "not decided: error");
out_free:
	free(L);
	free(ts);
	free(tms);
	return rc;
}

const char *bs_retention_verdict_name(enum bs_retention_verdict v)
{
	switch (v) {
	case BS_RETAIN_KEEP:
		return "kept";
	case BS_RETAIN_DELETE:
		return "deleted";
	}
	return "undecided";
}

char *bs_retention_policy_describe(const struct bs_retention_policy *p, char *buf, size_t n)
{
	char dur[BS_DURATION_FMT_MAX];
	size_t r, len = 0;
	int any = 0;

#define PUT(...)                                                                         \
	do {                                                                             \
		if (len < n) {                                                           \
			int w_ = snprintf(buf + len, n - len, __VA_ARGS__);              \
			len = w_ < 0 ? n : len + (size_t)w_;                             \
		}                                                                        \
	} while (0)

	if (n == 0)
		return buf;
	buf[0] = '\0';
	for (r = 0; r < NCOUNT_RULES; r++) {
		int c = count_of(p, r);

		if (c == BS_RETENTION_UNLIMITED)
			PUT("%s%s unlimited", any++ ? ", " : "", count_rules[r].name);
		else if (c > 0)
			PUT("%s%s %d", any++ ? ", " : "", count_rules[r].name, c);
	}
	if (p->keep_within > 0)
		PUT("%skeep_within %s", any++ ? ", " : "",
		    fmt_dur(p->keep_within, dur, sizeof(dur)));
	if (p->keep_window > 0)
		PUT("%skeep_window %s", any++ ? ", " : "",
		    fmt_dur(p->keep_window, dur, sizeof(dur)));
	if (!any)
		PUT("no keep rule");
	PUT("; min_keep %d, keep_newest %s, keep_newest_verified %s, orphan_grace %s; timezone %.*s",
	    p->min_keep, p->keep_newest ? "on" : "off", p->keep_newest_verified ? "on" : "off",
	    fmt_dur(p->orphan_grace, dur, sizeof(dur)),
	    p->timezone[0] ? (int)strnlen(p->timezone, sizeof(p->timezone)) : 3,
	    p->timezone[0] ? p->timezone : "UTC");
#undef PUT
	return buf;
}
