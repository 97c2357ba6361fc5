/*
 * policy_test.c - the retention engine (lib/retention/policy.c).
 *
 * Small cases have their expected keep sets written out by hand (snapshot
 * ids are named so that sorting them sorts them by time).  Larger generated
 * histories are checked against an independent re-implementation of
 * restic's ApplyPolicy (the "oracle" below: integer calendar arithmetic, no
 * libc time zone code), and against the worked examples in restic's
 * "Removing backup snapshots" documentation.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/duration.h"
#include "config/policy_file.h"
#include "harness.h"
#include "retention/policy.h"
#include "retention/policy_int.h"

#define HOUR 3600
#define DAY 86400

/* ---- fixture ------------------------------------------------------------- */

#define MAXN 40000
static struct bs_retention_item it[MAXN];
static struct bs_retention_decision dec[MAXN];
static char ids[MAXN][40];
static size_t nit;
static struct bs_err err;
static char out[1 << 16];

static time_t T(int y, int mo, int d, int h, int mi)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	return timegm(&tm);
}

static void reset(void)
{
	nit = 0;
	memset(it, 0, sizeof(it));
	bs_err_init(&err);
}

static size_t add(const char *id, time_t start)
{
	size_t i = nit++;

	snprintf(ids[i], sizeof(ids[i]), "%s", id);
	it[i].id = ids[i];
	it[i].start = start;
	it[i].complete = 1;
	it[i].pinned = 0;
	it[i].drill_passed = 0;
	return i;
}

static size_t find(const char *id)
{
	size_t i;

	for (i = 0; i < nit; i++)
		if (strcmp(ids[i], id) == 0)
			return i;
	printf("#   no item '%s'\n", id);
	return 0;
}

/* Rules only: every safety rule off, so a rule can be seen alone. */
static struct bs_retention_policy bare(void)
{
	struct bs_retention_policy p;

	bs_retention_policy_init(&p);
	p.min_keep = 0;
	p.keep_newest = 0;
	p.keep_newest_verified = 0;
	return p;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Apply, then list the kept ids sorted by id, space separated, or
 * "ERROR <code>: msg". */
static const char *kept(const struct bs_retention_policy *p, time_t now)
{
	static const char *list[MAXN];
	size_t i, k = 0, len = 0;

	bs_err_init(&err);
	if (bs_retention_apply(p, it, nit, now, dec, &err) != 0) {
		snprintf(out, sizeof(out), "ERROR %d: %s", err.code, err.msg);
		return out;
	}
	for (i = 0; i < nit; i++)
		if (dec[i].verdict == BS_RETAIN_KEEP)
			list[k++] = ids[i];
		else if (dec[i].verdict != BS_RETAIN_DELETE)
			return "BAD VERDICT";
	qsort(list, k, sizeof(list[0]), cmp_str);
	out[0] = '\0';
	for (i = 0; i < k && len < sizeof(out); i++)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s", i ? " " : "", list[i]);
	return out;
}

static const char *why(const char *id)
{
	return dec[find(id)].reasons;
}

static size_t count_kept(void)
{
	size_t i, k = 0;

	for (i = 0; i < nit; i++)
		k += dec[i].verdict == BS_RETAIN_KEEP;
	return k;
}

static size_t count_reason(const char *needle)
{
	size_t i, k = 0;

	for (i = 0; i < nit; i++)
		k += strstr(dec[i].reasons, needle) != NULL;
	return k;
}

/* nightly snapshots named prefix+MMDD at 02:00 UTC, from..to inclusive */
static void nightly(const char *prefix, time_t from, time_t to, int hour)
{
	time_t t;

	for (t = from; t <= to; t += DAY) {
		struct tm tm;
		char id[40];

		gmtime_r(&t, &tm);
		snprintf(id, sizeof(id), "%s%02d%02d", prefix, tm.tm_mon + 1, tm.tm_mday);
		add(id, t + hour * HOUR);
	}
}

/* ---- each rule alone, by hand -------------------------------------------- */

TEST(keep_last_alone_any_input_order)
{
	struct bs_retention_policy p = bare();

	reset();
	add("c", T(2026, 11, 20, 2, 0));
	add("a", T(2026, 11, 18, 2, 0));
	add("e", T(2026, 11, 22, 2, 0));
	add("b", T(2026, 11, 19, 2, 0));
	add("d", T(2026, 11, 21, 2, 0));
	p.keep_last = 3;
	CHECK_STR(kept(&p, T(2026, 11, 23, 0, 0)), "c d e");
	CHECK_STR(why("e"), "last #1");
	CHECK_STR(why("c"), "last #3");
	CHECK_STR(why("b"), "outside all rules");
	p.keep_last = 5;
	CHECK_STR(kept(&p, T(2026, 11, 23, 0, 0)), "a b c d e");
	p.keep_last = 50;
	CHECK_STR(kept(&p, T(2026, 11, 23, 0, 0)), "a b c d e");
}

TEST(keep_hourly_alone)
{
	struct bs_retention_policy p = bare();

	reset();
	add("h1", T(2026, 11, 20, 10, 5));
	add("h2", T(2026, 11, 20, 10, 40));
	add("h3", T(2026, 11, 20, 11, 10));
	add("h4", T(2026, 11, 20, 11, 50));
	add("h5", T(2026, 11, 20, 12, 30));
	p.keep_hourly = 2;
	CHECK_STR(kept(&p, T(2026, 11, 21, 0, 0)), "h4 h5");
	CHECK_STR(why("h4"), "hourly 2026-11-20T11");
	p.keep_hourly = 3;
	CHECK_STR(kept(&p, T(2026, 11, 21, 0, 0)), "h2 h4 h5");
	/* restic >= 0.17: count left at the oldest snapshot -> keep it too */
	p.keep_hourly = 5;
	CHECK_STR(kept(&p, T(2026, 11, 21, 0, 0)), "h1 h2 h4 h5");
	CHECK_STR(why("h1"), "oldest hourly 2026-11-20T10");
}

/* restic doc, "Removing snapshots according to a policy": one backup every
 * Sunday for 12 weeks, `forget --keep-daily 4` keeps the last four. */
TEST(keep_daily_restic_doc_example)
{
	static const struct {
		const char *id;
		int mo, d;
	} sundays[] = {
		{"0a1f9759", 9, 1},   {"46cfe4d5", 9, 8},   {"f6b1f037", 9, 15},
		{"eb430a5d", 9, 22},  {"8cf1cb9a", 9, 29},  {"5d33b116", 10, 6},
		{"b9553125", 10, 13}, {"e1a7b58b", 10, 20}, {"8f8018c0", 10, 27},
		{"59403279", 11, 3},  {"dfee9fb4", 11, 10}, {"e1ae2f40", 11, 17},
	};
	struct bs_retention_policy p = bare();
	size_t i;

	reset();
	for (i = 0; i < sizeof(sundays) / sizeof(sundays[0]); i++)
		add(sundays[i].id, T(2019, sundays[i].mo, sundays[i].d, 11, 0));
	p.keep_daily = 4;
	CHECK_STR(kept(&p, T(2019, 11, 18, 0, 0)), "59403279 8f8018c0 dfee9fb4 e1ae2f40");
	CHECK_STR(why("8f8018c0"), "daily 2019-10-27");
	CHECK_INT(count_kept(), 4);
}

TEST(keep_daily_two_on_one_day)
{
	struct bs_retention_policy p = bare();

	reset();
	add("d1", T(2026, 11, 18, 2, 0));
	add("d2a", T(2026, 11, 19, 2, 0));
	add("d2b", T(2026, 11, 19, 14, 0)); /* a manual snap the same day */
	add("d3", T(2026, 11, 20, 2, 0));
	p.keep_daily = 3;
	CHECK_STR(kept(&p, T(2026, 11, 21, 0, 0)), "d1 d2b d3");
	CHECK_STR(why("d2b"), "daily 2026-11-19");
	CHECK_STR(why("d2a"), "outside all rules");
}

TEST(keep_daily_oldest_is_kept_while_count_left)
{
	struct bs_retention_policy p = bare();

	reset();
	add("o1", T(2026, 11, 18, 2, 0));
	add("o2", T(2026, 11, 18, 14, 0));
	add("o3", T(2026, 11, 19, 2, 0));
	add("o4", T(2026, 11, 20, 2, 0));
	p.keep_daily = 5;
	CHECK_STR(kept(&p, T(2026, 11, 21, 0, 0)), "o1 o2 o3 o4");
	CHECK_STR(why("o1"), "oldest daily 2026-11-18");
	p.keep_daily = 3; /* used up by o4, o3, o2 */
	CHECK_STR(kept(&p, T(2026, 11, 21, 0, 0)), "o2 o3 o4");
}

TEST(keep_daily_unlimited)
{
	struct bs_retention_policy p = bare();
	char buf[256];

	reset();
	nightly("n", T(2026, 11, 1, 0, 0), T(2026, 11, 10, 0, 0), 2);
	add("n1105b", T(2026, 11, 5, 9, 0));
	add("n1101a", T(2026, 11, 1, 1, 0)); /* oldest, shares 11-01 with n1101 */
	p.keep_daily = BS_RETENTION_UNLIMITED;
	CHECK_STR(kept(&p, T(2026, 11, 11, 0, 0)),
		  "n1101 n1101a n1102 n1103 n1104 n1105b n1106 n1107 n1108 n1109 n1110");
	CHECK_STR(why("n1101a"), "oldest daily 2026-11-01");
	CHECK_STR(why("n1105"), "outside all rules");
	bs_retention_policy_describe(&p, buf, sizeof(buf));
	CHECK(strstr(buf, "keep_daily unlimited") == buf);
}

/* ISO weeks (restic uses Go's time.ISOWeek): 2026 has 53 of them. */
TEST(keep_weekly_iso_year_boundary)
{
	struct bs_retention_policy p = bare();

	reset();
	add("w1", T(2026, 12, 27, 2, 0)); /* Sun, 2026-W52 */
	add("w2", T(2026, 12, 28, 2, 0)); /* Mon, 2026-W53 */
	add("w3", T(2027, 1, 2, 2, 0));   /* Sat, 2026-W53 */
	add("w4", T(2027, 1, 3, 2, 0));   /* Sun, 2026-W53 */
	add("w5", T(2027, 1, 4, 2, 0));   /* Mon, 2027-W01 */
	p.keep_weekly = 3;
	CHECK_STR(kept(&p, T(2027, 1, 5, 0, 0)), "w1 w4 w5");
	CHECK_STR(why("w5"), "weekly 2027-W01");
	CHECK_STR(why("w4"), "weekly 2026-W53");
	CHECK_STR(why("w1"), "weekly 2026-W52");
}

TEST(keep_monthly_alone)
{
	struct bs_retention_policy p = bare();

	reset();
	add("m1", T(2026, 1, 31, 2, 0));
	add("m2", T(2026, 2, 1, 2, 0));
	add("m3", T(2026, 2, 28, 2, 0));
	add("m4", T(2026, 3, 1, 2, 0));
	p.keep_monthly = 2;
	CHECK_STR(kept(&p, T(2026, 3, 2, 0, 0)), "m3 m4");
	CHECK_STR(why("m3"), "monthly 2026-02");
	p.keep_monthly = 3;
	CHECK_STR(kept(&p, T(2026, 3, 2, 0, 0)), "m1 m3 m4");
}

TEST(keep_yearly_alone)
{
	struct bs_retention_policy p = bare();

	reset();
	add("y1", T(2024, 6, 1, 2, 0));
	add("y2", T(2024, 12, 31, 23, 0));
	add("y3", T(2025, 1, 1, 1, 0));
	add("y4", T(2026, 3, 1, 2, 0));
	p.keep_yearly = 2;
	CHECK_STR(kept(&p, T(2026, 3, 2, 0, 0)), "y3 y4");
	CHECK_STR(why("y3"), "yearly 2025");
	p.keep_yearly = 3;
	CHECK_STR(kept(&p, T(2026, 3, 2, 0, 0)), "y2 y3 y4");
}

/* restic: "keep all snapshots having a timestamp within the specified
 * duration of the latest snapshot" (strictly newer than latest - d). */
TEST(keep_within_alone)
{
	struct bs_retention_policy p = bare();

	reset();
	nightly("d", T(2026, 11, 3, 0, 0), T(2026, 11, 10, 0, 0), 2);
	p.keep_within = 7 * DAY;
	CHECK_STR(kept(&p, T(2026, 11, 11, 0, 0)), "d1104 d1105 d1106 d1107 d1108 d1109 d1110");
	CHECK_STR(why("d1104"), "within 7d");
	CHECK_STR(why("d1103"), "outside all rules"); /* exactly 7d before */
	/* relative to the newest snapshot, not to now */
	CHECK_STR(kept(&p, T(2027, 6, 1, 0, 0)), "d1104 d1105 d1106 d1107 d1108 d1109 d1110");
	add("d1103b", T(2026, 11, 3, 2, 0) + 1);
	CHECK_STR(kept(&p, T(2026, 11, 11, 0, 0)),
		  "d1103b d1104 d1105 d1106 d1107 d1108 d1109 d1110");
}

/* Barman: everything since now - window, plus the newest one before it. */
TEST(keep_window_alone)
{
	struct bs_retention_policy p = bare();
	size_t i;

	reset();
	nightly("n", T(2026, 10, 1, 0, 0), T(2026, 11, 23, 0, 0), 2);
	add("n1123b", T(2026, 11, 23, 2, 30));
	p.keep_window = 30 * DAY;
	/* boundary 2026-10-24 03:00: n1024 (02:00) is the newest before it */
	kept(&p, T(2026, 11, 23, 3, 0));
	CHECK_INT(count_kept(), 32);
	for (i = 0; i < nit; i++) {
		int want = it[i].start >= T(2026, 10, 24, 0, 0);

		CHECK_INT(dec[i].verdict == BS_RETAIN_KEEP, want);
	}
	CHECK_STR(why("n1024"), "window 30d (newest before it)");
	CHECK_STR(why("n1025"), "window 30d");
	CHECK_STR(why("n1123"), "window 30d"); /* same day as n1123b: no buckets here */
	CHECK_STR(why("n1023"), "outside all rules");

	/* backups stopped: nothing in the window, the newest before it stays */
	CHECK_STR(kept(&p, T(2027, 6, 1, 0, 0)), "n1123b");
	CHECK_STR(why("n1123b"), "window 30d (newest before it)");

	/* all of them in the window: nothing older to keep */
	p.keep_window = 400 * DAY;
	kept(&p, T(2026, 11, 23, 3, 0));
	CHECK_INT(count_kept(), nit);
}

/* ---- combined rules ------------------------------------------------------ */

TEST(combined_small_by_hand)
{
	struct bs_retention_policy p = bare();

	reset();
	nightly("n", T(2026, 11, 9, 0, 0), T(2026, 11, 22, 0, 0), 2); /* Mon W46 .. Sun W47 */
	p.keep_last = 2;
	p.keep_daily = 3;
	p.keep_weekly = 2;
	CHECK_STR(kept(&p, T(2026, 11, 23, 0, 0)), "n1115 n1120 n1121 n1122");
	CHECK_STR(why("n1122"), "last #1, daily 2026-11-22, weekly 2026-W47");
	CHECK_STR(why("n1121"), "last #2, daily 2026-11-21");
	CHECK_STR(why("n1120"), "daily 2026-11-20");
	CHECK_STR(why("n1115"), "weekly 2026-W46");
	p.keep_monthly = 1;
	p.keep_within = 2 * DAY;
	CHECK_STR(kept(&p, T(2026, 11, 23, 0, 0)), "n1115 n1120 n1121 n1122");
	CHECK_STR(why("n1122"),
		  "last #1, daily 2026-11-22, weekly 2026-W47, monthly 2026-11, within 2d");
}

/* restic doc: a backup every day for 100 years and `--keep-daily 7
 * --keep-weekly 5 --keep-monthly 12 --keep-yearly 75` keeps 7 daily, 4 more
 * weekly, 12 or 11 monthly and 75 or 74 yearly snapshots. */
TEST(combined_restic_doc_hundred_years)
{
	struct bs_retention_policy p = bare();
	time_t t, from = T(1926, 11, 23, 0, 0), to = T(2026, 11, 22, 0, 0);
	size_t i, weekly_only = 0;

	reset();
	for (t = from; t <= to; t += DAY) {
		char id[16];

		snprintf(id, sizeof(id), "s%06zu", nit);
		add(id, t + 3 * HOUR);
	}
	CHECK(nit > 36500 && nit < MAXN);
	p.keep_daily = 7;
	p.keep_weekly = 5;
	p.keep_monthly = 12;
	p.keep_yearly = 75;
	kept(&p, T(2026, 11, 23, 0, 0));
	CHECK_INT(count_reason("daily "), 7);
	CHECK_INT(count_reason("weekly "), 5);
	CHECK_INT(count_reason("monthly "), 12);
	CHECK_INT(count_reason("yearly "), 75);
	CHECK_INT(count_reason("oldest"), 0);
	for (i = 0; i < nit; i++)
		if (strncmp(dec[i].reasons, "weekly", 6) == 0)
			weekly_only++;
	CHECK_INT(weekly_only, 4);
	/* By hand, newest 2026-11-22 (a Sunday): 7 daily (11-16..11-22); weekly
	 * W47 is 11-22 again, so 4 more (11-15, 11-08, 11-01, 10-25); monthly
	 * 2026-11 is 11-22 again, 11 more (10-31 .. 2025-12-31); yearly 2026 is
	 * 11-22 and 2025 is 2025-12-31 again, 73 more (2024 .. 1952).  The doc's
	 * "75 or 74" misses that the last day of a year is also a monthly. */
	CHECK_INT(count_kept(), 7 + 4 + 11 + 73);
	CHECK_STR(why("s036518"), "daily 2026-11-16");
	CHECK_STR(why("s036198"), "monthly 2025-12, yearly 2025");
	CHECK_STR(why("s009535"), "yearly 1952");
	CHECK_STR(why("s009169"), "outside all rules"); /* 1951: the 76th year */
}

/* ---- the oracle: restic's ApplyPolicy, written independently -------------- */

static long long floor_div(long long a, long long b)
{
	return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

/* Howard Hinnant's civil-from-days / days-from-civil. */
static void civil(long long z, long long *y, int *m, int *d)
{
	long long era, yoe, doy, mp;

	z += 719468;
	era = floor_div(z, 146097);
	yoe = z - era * 146097;
	yoe = (yoe - yoe / 1460 + yoe / 36524 - yoe / 146096) / 365;
	doy = z - era * 146097 - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static long long days_from_civil(long long y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static long long obucket(int rule, time_t t, long long nr)
{
	long long z = floor_div(t, DAY), y, iy, th;
	int m, d, im, id, wd;

	civil(z, &y, &m, &d);
	switch (rule) {
	case 0:
		return nr;
	case 1:
		return ((y * 100 + m) * 100 + d) * 100 + (t - z * DAY) / HOUR;
	case 2:
		return (y * 100 + m) * 100 + d;
	case 3:
		wd = (int)((z % 7 + 7 + 3) % 7); /* Monday = 0; 1970-01-01 was a Thursday */
		th = z - wd + 3;                 /* the Thursday of this ISO week */
		civil(th, &iy, &im, &id);
		return iy * 100 + (th - days_from_civil(iy, 1, 1)) / 7 + 1;
	case 4:
		return y * 100 + m;
	default:
		return y;
	}
}

struct oent {
	time_t t;
	const char *id;
	size_t i;
};

static int ocmp(const void *a, const void *b)
{
	const struct oent *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? 1 : -1;
	return -strcmp(x->id, y->id);
}

/* keep[i] = 1 when restic's rules keep items[i].  Future start times are
 * left out and kept (our documented difference), incomplete are ignored. */
static void oracle(const struct bs_retention_policy *p, time_t now, int *keepv)
{
	static struct oent L[MAXN];
	int cnt[6] = {p->keep_last, p->keep_hourly, p->keep_daily, p->keep_weekly, p->keep_monthly,
		      p->keep_yearly};
	long long lastv[6] = {-1, -1, -1, -1, -1, -1};
	size_t i, m = 0;
	int b;

	for (b = 0; b < 6; b++)
		if (cnt[b] == BS_RETENTION_UNLIMITED)
			cnt[b] = -1; /* restic's spelling of unlimited */
		else if (cnt[b] == BS_RETENTION_UNSET)
			cnt[b] = 0;
	for (i = 0; i < nit; i++) {
		keepv[i] = 0;
		if (!it[i].complete)
			continue;
		if (it[i].start > now) {
			keepv[i] = 1;
			continue;
		}
		L[m].t = it[i].start;
		L[m].id = it[i].id;
		L[m].i = i;
		m++;
	}
	qsort(L, m, sizeof(L[0]), ocmp);
	for (i = 0; i < m; i++) {
		if (p->keep_within > 0 && L[i].t > L[0].t - p->keep_within)
			keepv[L[i].i] = 1;
		for (b = 0; b < 6; b++) {
			long long v;

			if (!(cnt[b] > 0 || cnt[b] == -1))
				continue;
			v = obucket(b, L[i].t, (long long)i);
			if (v != lastv[b] || i == m - 1) {
				keepv[L[i].i] = 1;
				lastv[b] = v;
				if (cnt[b] > 0)
					cnt[b]--;
			}
		}
	}
}

/* A year of nightly snapshots (02:15 UTC) with an outage, scattered missed
 * nights, two on one day, two with the same start second, one with a start
 * time in the future (clock skew), one orphan, in shuffled order. */
static time_t gen_now;

static void generate_year(void)
{
	time_t t, from = T(2025, 11, 23, 0, 0), to = T(2026, 11, 22, 0, 0);
	unsigned long long seed = 42;
	size_t i, k = 0;

	reset();
	gen_now = T(2026, 11, 23, 6, 0);
	for (t = from; t <= to; t += DAY, k++) {
		char id[40];
		struct tm tm;

		if (t >= T(2026, 8, 3, 0, 0) && t <= T(2026, 8, 12, 0, 0))
			continue; /* ten-day outage */
		if (k % 23 == 11)
			continue; /* a missed night now and then */
		gmtime_r(&t, &tm);
		strftime(id, sizeof(id), "%Y%m%dT021500Z-000000", &tm);
		add(id, t + 2 * HOUR + 15 * 60);
	}
	add("20260615T144000Z-manual", T(2026, 6, 15, 14, 40));
	add("20260505T021500Z-bbbbbb", T(2026, 5, 5, 2, 15)); /* tie with -000000 */
	add("20261123T090000Z-skewed", T(2026, 11, 23, 9, 0)); /* after gen_now */
	i = add("20261123T050000Z-orphan", T(2026, 11, 23, 5, 0));
	it[i].complete = 0;
	/* Fisher-Yates with a fixed LCG: the engine must not rely on order */
	for (i = nit - 1; i > 0; i--) {
		size_t j;
		struct bs_retention_item tmp;
		char tid[40];

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		j = (size_t)(seed >> 33) % (i + 1);
		tmp = it[i];
		it[i] = it[j];
		it[j] = tmp;
		memcpy(tid, ids[i], sizeof(tid));
		memcpy(ids[i], ids[j], sizeof(tid));
		memcpy(ids[j], tid, sizeof(tid));
		it[i].id = ids[i];
		it[j].id = ids[j];
	}
}

static int compare_with_oracle(const struct bs_retention_policy *p, const char *label)
{
	static int want[MAXN];
	size_t i;
	int bad = 0;

	bs_err_init(&err);
	if (bs_retention_apply(p, it, nit, gen_now, dec, &err) != 0) {
		printf("#   %s: apply failed: %s\n", label, err.msg);
		return 1;
	}
	oracle(p, gen_now, want);
	for (i = 0; i < nit; i++) {
		if (!it[i].complete)
			continue;
		if ((dec[i].verdict == BS_RETAIN_KEEP) != want[i]) {
			if (bad++ < 3)
				printf("#   %s: %s engine %s (%s), restic rules say %s\n", label,
				       it[i].id, bs_retention_verdict_name(dec[i].verdict),
				       dec[i].reasons, want[i] ? "keep" : "delete");
		}
	}
	return bad;
}

TEST(generated_year_each_rule_alone_matches_restic)
{
	static const char *const names[] = {"last", "hourly", "daily", "weekly", "monthly",
					    "yearly"};
	static const int counts[] = {1, 2, 7, 30, 300, BS_RETENTION_UNLIMITED};
	static const int64_t withins[] = {HOUR, DAY, 7 * DAY, 30 * DAY, 400 * DAY};
	size_t r, c;
	char label[64];

	generate_year();
	for (r = 0; r < 6; r++) {
		for (c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
			struct bs_retention_policy p = bare();
			int *f[] = {&p.keep_last,    &p.keep_hourly,  &p.keep_daily,
				    &p.keep_weekly,  &p.keep_monthly, &p.keep_yearly};

			*f[r] = counts[c];
			snprintf(label, sizeof(label), "keep_%s %d", names[r], counts[c]);
			CHECK_INT(compare_with_oracle(&p, label), 0);
		}
	}
	for (c = 0; c < sizeof(withins) / sizeof(withins[0]); c++) {
		struct bs_retention_policy p = bare();

		p.keep_within = withins[c];
		snprintf(label, sizeof(label), "keep_within %lld", (long long)withins[c]);
		CHECK_INT(compare_with_oracle(&p, label), 0);
	}
}

TEST(generated_year_random_combinations_match_restic)
{
	static const int counts[] = {BS_RETENTION_UNSET, 0, 0, 1, 2, 3, 5, 7, 12, 35, 400,
				     BS_RETENTION_UNLIMITED};
	static const int64_t withins[] = {0, 0, 0, HOUR, 7 * DAY, 30 * DAY, 400 * DAY};
	unsigned long long seed = 7;
	int run, bad_runs = 0, tried = 0;

	generate_year();
	for (run = 0; run < 400; run++) {
		struct bs_retention_policy p = bare();
		int *f[] = {&p.keep_last,   &p.keep_hourly,  &p.keep_daily,
			    &p.keep_weekly, &p.keep_monthly, &p.keep_yearly};
		char label[256];
		size_t b;

#define NEXT() (seed = seed * 6364136223846793005ULL + 1442695040888963407ULL, (size_t)(seed >> 33))
		for (b = 0; b < 6; b++)
			*f[b] = counts[NEXT() % (sizeof(counts) / sizeof(counts[0]))];
		p.keep_within = withins[NEXT() % (sizeof(withins) / sizeof(withins[0]))];
#undef NEXT
		if (bs_retention_policy_validate(&p, NULL) != 0)
			continue; /* drew an empty policy */
		tried++;
		bs_retention_policy_describe(&p, label, sizeof(label));
		bad_runs += compare_with_oracle(&p, label) != 0;
	}
	CHECK(tried > 300);
	CHECK_INT(bad_runs, 0);
}

TEST(generated_year_facts)
{
	struct bs_retention_policy p = bare();
	size_t i;

	generate_year();
	p.keep_daily = 35;
	p.keep_weekly = 8;
	kept(&p, gen_now);
	CHECK_INT(count_reason("daily "), 35);
	CHECK_INT(count_reason("weekly "), 8);
	CHECK_STR(why("20261123T090000Z-skewed"), "start in the future (clock skew?)");
	CHECK_STR(why("20261123T050000Z-orphan"),
		  "orphan (no catalog record) within 1d grace, snap may be running");
	CHECK(dec[find("20260505T021500Z-bbbbbb")].verdict == BS_RETAIN_DELETE); /* > 35 days */
	/* equal start times resolve by id; the later snap of a day wins it */
	p.keep_daily = BS_RETENTION_UNLIMITED;
	kept(&p, gen_now);
	CHECK_STR(why("20260505T021500Z-bbbbbb"), "daily 2026-05-05");
	CHECK_STR(why("20260505T021500Z-000000"), "outside all rules");
	CHECK_STR(why("20260615T144000Z-manual"), "daily 2026-06-15");
	CHECK_STR(why("20260615T021500Z-000000"), "outside all rules");
	/* the outage: no bucket is invented for missing days */
	for (i = 0; i < nit; i++)
		CHECK(strstr(dec[i].reasons, "daily 2026-08-05") == NULL);
	/* the engine never deletes every snapshot, whatever the rule */
	p = bare();
	p.keep_hourly = 1;
	kept(&p, gen_now);
	CHECK_INT(count_kept(), 3); /* newest, the future one, the young orphan */
}

/* ---- the shipped default policy ------------------------------------------ */

/* The shipped file, read by the real policy loader (lib/config). */
static int load_default_policy(struct bs_retention_policy *p)
{
	const char *root = getenv("BS_ROOT"); /* set by tests/run.sh */
	char path[4096];

	snprintf(path, sizeof(path), "%s/policies/retention.yaml", root && *root ? root : ".");
	if (access(path, R_OK) != 0)
		return 1;
	bs_err_init(&err);
	if (bs_retention_policy_load(p, path, &err) != 0) {
		printf("#   %s: %s\n", path, err.msg);
		return -1;
	}
	return 0;
}

TEST(default_policy_keeps_thirty_days)
{
	struct bs_retention_policy p;
	time_t month_ago;
	size_t i;
	int newest_before = -1, rc;

	rc = load_default_policy(&p);
	if (rc > 0)
		SKIP("policies/retention.yaml not found (run from the source tree or set BS_ROOT)");
	CHECK_INT(rc, 0);
	if (rc != 0)
		return;
	CHECK_INT(bs_retention_policy_validate(&p, &err), 0);
	CHECK(p.keep_window >= 30 * DAY || p.keep_daily >= 30);
	CHECK(p.min_keep >= 1 && p.keep_newest && p.keep_newest_verified);
	CHECK(p.orphan_grace >= HOUR);
	generate_year();
	kept(&p, gen_now);
	month_ago = gen_now - 30 * DAY;
	for (i = 0; i < nit; i++) {
		if (!it[i].complete)
			continue;
		/* every nightly of the last 30 days, and the state of 30 days ago */
		if (it[i].start >= month_ago)
			CHECK_INT(dec[i].verdict, BS_RETAIN_KEEP);
		else if (newest_before < 0 || it[i].start > it[newest_before].start)
			newest_before = (int)i;
	}
	CHECK(newest_before >= 0 && dec[newest_before].verdict == BS_RETAIN_KEEP);
	CHECK(count_kept() < nit / 2);
}

/* ---- time zones and DST -------------------------------------------------- */

/* Europe/Berlin springs forward on 2026-03-29 (CET+1 -> CEST+2). */
TEST(dst_berlin_spring)
{
	struct bs_retention_policy p = bare();

	reset();
	add("a", T(2026, 3, 28, 21, 0));  /* 03-28 22:00 CET  */
	add("b", T(2026, 3, 28, 23, 30)); /* 03-29 00:30 CET  */
	add("c", T(2026, 3, 29, 21, 30)); /* 03-29 23:30 CEST */
	add("d", T(2026, 3, 29, 22, 30)); /* 03-30 00:30 CEST */
	p.keep_daily = 3;
	snprintf(p.timezone, sizeof(p.timezone), "Europe/Berlin");
	CHECK_STR(kept(&p, T(2026, 4, 1, 0, 0)), "a c d");
	CHECK_STR(why("c"), "daily 2026-03-29");
	CHECK_STR(why("d"), "daily 2026-03-30");
	CHECK_STR(why("a"), "daily 2026-03-28");
	CHECK_STR(why("b"), "outside all rules");
	/* the same snapshots in UTC fall on other days */
	snprintf(p.timezone, sizeof(p.timezone), "UTC");
	p.keep_daily = 2;
	CHECK_STR(kept(&p, T(2026, 4, 1, 0, 0)), "b d");
	CHECK_STR(why("b"), "daily 2026-03-28");
}

/* Europe/Berlin falls back on 2026-10-25 (CEST+2 -> CET+1): a 25-hour day. */
TEST(dst_berlin_fall)
{
	struct bs_retention_policy p = bare();

	reset();
	add("g", T(2026, 10, 24, 21, 30)); /* 10-24 23:30 CEST */
	add("e", T(2026, 10, 24, 22, 30)); /* 10-25 00:30 CEST */
	add("f", T(2026, 10, 25, 22, 30)); /* 10-25 23:30 CET  */
	add("h", T(2026, 10, 25, 23, 30)); /* 10-26 00:30 CET  */
	p.keep_daily = 3;
	snprintf(p.timezone, sizeof(p.timezone), "Europe/Berlin");
	CHECK_STR(kept(&p, T(2026, 10, 27, 0, 0)), "f g h");
	CHECK_STR(why("f"), "daily 2026-10-25");
	CHECK_STR(why("g"), "daily 2026-10-24");
	CHECK_STR(why("e"), "outside all rules");
	CHECK_STR(why("h"), "daily 2026-10-26");
}

/* 02:30 happens twice on 2026-10-25 in Berlin: like restic (Go local time),
 * both fall into one hourly bucket and the later one is kept. */
TEST(dst_berlin_repeated_hour)
{
	struct bs_retention_policy p = bare();

	reset();
	add("x1", T(2026, 10, 25, 0, 30)); /* 02:30 CEST */
	add("x2", T(2026, 10, 25, 1, 30)); /* 02:30 CET  */
	add("x3", T(2026, 10, 25, 2, 30)); /* 03:30 CET  */
	p.keep_hourly = 2;
	snprintf(p.timezone, sizeof(p.timezone), "Europe/Berlin");
	CHECK_STR(kept(&p, T(2026, 10, 26, 0, 0)), "x2 x3");
	CHECK_STR(why("x2"), "hourly 2026-10-25T02");
	CHECK_STR(why("x3"), "hourly 2026-10-25T03");
}

/* America/New_York springs forward on 2026-03-08 (EST-5 -> EDT-4). */
TEST(dst_new_york_spring)
{
	struct bs_retention_policy p = bare();

	reset();
	add("a", T(2026, 3, 8, 4, 30)); /* 03-07 23:30 EST */
	add("b", T(2026, 3, 8, 5, 30)); /* 03-08 00:30 EST */
	add("c", T(2026, 3, 9, 3, 30)); /* 03-08 23:30 EDT */
	add("d", T(2026, 3, 9, 4, 30)); /* 03-09 00:30 EDT */
	p.keep_daily = 3;
	snprintf(p.timezone, sizeof(p.timezone), "America/New_York");
	CHECK_STR(kept(&p, T(2026, 3, 10, 0, 0)), "a c d");
	CHECK_STR(why("a"), "daily 2026-03-07");
	CHECK_STR(why("c"), "daily 2026-03-08");
	CHECK_STR(why("b"), "outside all rules");
}

/* America/New_York falls back on 2026-11-01 (EDT-4 -> EST-5). */
TEST(dst_new_york_fall)
{
	struct bs_retention_policy p = bare();

	reset();
	add("a", T(2026, 11, 1, 3, 30)); /* 10-31 23:30 EDT */
	add("b", T(2026, 11, 1, 4, 30)); /* 11-01 00:30 EDT */
	add("c", T(2026, 11, 2, 4, 30)); /* 11-01 23:30 EST */
	add("d", T(2026, 11, 2, 5, 30)); /* 11-02 00:30 EST */
	p.keep_daily = 3;
	snprintf(p.timezone, sizeof(p.timezone), "America/New_York");
	CHECK_STR(kept(&p, T(2026, 11, 3, 0, 0)), "a c d");
	CHECK_STR(why("a"), "daily 2026-10-31");
	CHECK_STR(why("c"), "daily 2026-11-01");
	CHECK_STR(why("d"), "daily 2026-11-02");
	CHECK_STR(why("b"), "outside all rules");
}

/* Sunday evening in New York is Monday in UTC: the week follows the zone. */
TEST(weekly_follows_time_zone)
{
	struct bs_retention_policy p = bare();

	reset();
	add("sun", T(2026, 11, 23, 2, 0)); /* Sun 11-22 21:00 EST, Mon 11-23 UTC */
	p.keep_weekly = 1;
	snprintf(p.timezone, sizeof(p.timezone), "America/New_York");
	kept(&p, T(2026, 11, 24, 0, 0));
	CHECK_STR(why("sun"), "weekly 2026-W47");
	snprintf(p.timezone, sizeof(p.timezone), "UTC");
	kept(&p, T(2026, 11, 24, 0, 0));
	CHECK_STR(why("sun"), "weekly 2026-W48");
}

TEST(time_zone_switch_restores_tz)
{
	struct bs_retention_policy p = bare();
	const char *tz;

	reset();
	add("a", T(2026, 3, 28, 23, 30));
	p.keep_daily = 1;
	snprintf(p.timezone, sizeof(p.timezone), "Europe/Berlin");

	setenv("TZ", "Asia/Tokyo", 1);
	tzset();
	kept(&p, T(2026, 4, 1, 0, 0));
	CHECK_STR(why("a"), "daily 2026-03-29");
	tz = getenv("TZ");
	CHECK_STR(tz, "Asia/Tokyo");

	unsetenv("TZ");
	tzset();
	kept(&p, T(2026, 4, 1, 0, 0));
	CHECK(getenv("TZ") == NULL);
}

struct tz_job {
	const char *tz;
	const char *want;
	int bad;
};

static void *tz_worker(void *arg)
{
	struct tz_job *job = arg;
	time_t t = T(2026, 3, 28, 23, 30);
	struct tm tm;
	char buf[16];
	int i;

	for (i = 0; i < 300; i++) {
		if (bs_retention_localtimes(job->tz, &t, 1, &tm, NULL) != 0) {
			job->bad++;
			continue;
		}
		strftime(buf, sizeof(buf), "%Y-%m-%d %H", &tm);
		job->bad += strcmp(buf, job->want) != 0;
	}
	return NULL;
}

TEST(time_zones_from_several_threads)
{
	struct tz_job jobs[] = {
		{"Europe/Berlin", "2026-03-29 00", 0},
		{"America/New_York", "2026-03-28 19", 0},
		{"UTC", "2026-03-28 23", 0},
		{"Asia/Kolkata", "2026-03-29 05", 0},
	};
	pthread_t th[4];
	int i;

	for (i = 0; i < 4; i++)
		CHECK_INT(pthread_create(&th[i], NULL, tz_worker, &jobs[i]), 0);
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CHECK_INT(jobs[i].bad, 0);
	}
}

/* ---- safety rules -------------------------------------------------------- */

TEST(safety_min_keep)
{
	struct bs_retention_policy p = bare();

	reset();
	nightly("n", T(2026, 11, 18, 0, 0), T(2026, 11, 22, 0, 0), 2);
	p.keep_last = 1;
	p.min_keep = 3;
	CHECK_STR(kept(&p, T(2026, 11, 23, 0, 0)), "n1120 n1121 n1122");
	CHECK_STR(why("n1122"), "last #1");
	CHECK_STR(why("n1121"), "min_keep 3");
	CHECK_STR(why("n1120"), "min_keep 3");
	/* min_keep above the number of snapshots keeps all of them */
	p.min_keep = 10;
	CHECK_STR(kept(&p, T(2026, 11, 23, 0, 0)), "n1118 n1119 n1120 n1121 n1122");
	/* kept-by-rule snapshots count towards min_keep */
	p.keep_last = 3;
	p.min_keep = 3;
	kept(&p, T(2026, 11, 23, 0, 0));
	CHECK_INT(count_reason("min_keep"), 0);
}

TEST(safety_keep_newest)
{
	struct bs_retention_policy p;

	bs_retention_policy_init(&p);
	reset();
	nightly("n", T(2026, 11, 18, 0, 0), T(2026, 11, 22, 0, 0), 2);
	p.keep_monthly = 1;
	CHECK_STR(kept(&p, T(2026, 11, 23, 0, 0)), "n1122");
	CHECK_STR(why("n1122"), "newest, monthly 2026-11");
	/* a young orphan or a future start time is not "the newest complete" */
	it[add("n1123orphan", T(2026, 11, 23, 1, 0))].complete = 0;
	add("n1124skew", T(2026, 11, 24, 2, 0));
	CHECK_STR(kept(&p, T(2026, 11, 23, 3, 0)), "n1122 n1123orphan n1124skew");
	CHECK_STR(why("n1122"), "newest, monthly 2026-11");
}

TEST(safety_newest_verified)
{
	struct bs_retention_policy p;

	bs_retention_policy_init(&p);
	reset();
	nightly("n", T(2026, 11, 13, 0, 0), T(2026, 11, 22, 0, 0), 2);
	it[find("n1118")].drill_passed = 1;
	it[find("n1115")].drill_passed = 1; /* older pass: not protected */
	p.keep_last = 2;
	CHECK_STR(kept(&p, T(2026, 11, 23, 0, 0)), "n1118 n1121 n1122");
	CHECK_STR(why("n1118"), "newest verified");
	CHECK_STR(why("n1115"), "outside all rules");
	p.keep_newest_verified = 0;
	CHECK_STR(kept(&p, T(2026, 11, 23, 0, 0)), "n1121 n1122");
}

TEST(safety_pinned)
{
	struct bs_retention_policy p;

	bs_retention_policy_init(&p);
	reset();
	nightly("n", T(2026, 1, 1, 0, 0), T(2026, 1, 10, 0, 0), 2);
	it[find("n0103")].pinned = 1;
	it[find("n0110")].pinned = 1;
	p.keep_daily = 1;
	CHECK_STR(kept(&p, T(2026, 11, 23, 0, 0)), "n0103 n0110");
	CHECK_STR(why("n0103"), "pinned");
	CHECK_STR(why("n0110"), "pinned, newest, daily 2026-01-10");
}

/* What a snap that prunes after itself protects (prune.c sets protect):
 * never deleted, the reason says why, and it still counts in every rule,
 * so a concurrent snap's newer snapshot in the same daily bucket spares
 * both. */
TEST(safety_protected_by_the_calling_snap)
{
	struct bs_retention_policy p;

	bs_retention_policy_init(&p);
	reset();
	add("a-old", T(2026, 11, 19, 2, 0));
	add("b-mine", T(2026, 11, 20, 2, 0));
	add("c-concurrent", T(2026, 11, 20, 2, 5));
	p.keep_daily = 1;
	p.min_keep = 1;
	/* without protection the newest of the day wins the bucket */
	CHECK_STR(kept(&p, T(2026, 11, 20, 3, 0)), "c-concurrent");
	it[find("b-mine")].protect = "taken by this snap";
	CHECK_STR(kept(&p, T(2026, 11, 20, 3, 0)), "b-mine c-concurrent");
	CHECK_STR(why("b-mine"), "taken by this snap");
	CHECK_STR(why("c-concurrent"), "newest, daily 2026-11-20");
	CHECK_STR(why("a-old"), "outside all rules");
	/* the concurrent snap's own prune: its snapshot is the newest, mine
	 * finished while it ran */
	it[find("b-mine")].protect = "taken by a concurrent snap";
	it[find("c-concurrent")].protect = "taken by this snap";
	CHECK_STR(kept(&p, T(2026, 11, 20, 3, 0)), "b-mine c-concurrent");
	CHECK_STR(why("c-concurrent"), "taken by this snap, newest, daily 2026-11-20");
	/* never on an orphan: it has no record to protect */
	it[find("a-old")].complete = 0;
	it[find("a-old")].protect = "taken by this snap";
	p.orphan_grace = 0;
	kept(&p, T(2026, 11, 20, 3, 0));
	CHECK_INT(dec[find("a-old")].verdict, BS_RETAIN_DELETE);
}

/* A policy's durations are shown without 'm' (restic reads it as months). */
TEST(describe_never_writes_minutes)
{
	struct bs_retention_policy p;
	char buf[512];

	bs_retention_policy_init(&p);
	p.keep_within = 5400;
	p.orphan_grace = 36 * HOUR;
	CHECK_STR(bs_retention_policy_describe(&p, buf, sizeof(buf)),
		  "keep_within 5400s; min_keep 1, keep_newest on, keep_newest_verified on, "
		  "orphan_grace 36h; timezone UTC");
}

TEST(safety_future_start_is_kept_and_not_counted)
{
	struct bs_retention_policy p = bare();

	reset();
	nightly("n", T(2026, 11, 19, 0, 0), T(2026, 11, 22, 0, 0), 2);
	add("skew", T(2026, 12, 25, 2, 0)); /* written by a host whose clock ran ahead */
	p.keep_last = 2;
	p.keep_within = DAY;
	CHECK_STR(kept(&p, T(2026, 11, 23, 0, 0)), "n1121 n1122 skew");
	CHECK_STR(why("skew"), "start in the future (clock skew?)");
	CHECK_STR(why("n1122"), "last #1, within 1d");
	/* once its time has come it is an ordinary snapshot */
	CHECK_STR(kept(&p, T(2026, 12, 26, 0, 0)), "n1122 skew");
}

TEST(safety_orphans_grace)
{
	struct bs_retention_policy p;
	size_t o1, o2, o3;

	bs_retention_policy_init(&p);
	reset();
	nightly("n", T(2026, 11, 20, 0, 0), T(2026, 11, 22, 0, 0), 2);
	o1 = add("orphan-young", T(2026, 11, 23, 1, 0));
	o2 = add("orphan-old", T(2026, 11, 21, 23, 0));
	o3 = add("orphan-pinned", T(2026, 10, 1, 0, 0));
	it[o1].complete = it[o2].complete = it[o3].complete = 0;
	it[o3].pinned = 1;
	p.keep_last = 1;
	CHECK_STR(kept(&p, T(2026, 11, 23, 2, 0)), "n1122 orphan-pinned orphan-young");
	CHECK_STR(why("orphan-young"),
		  "orphan (no catalog record) within 1d grace, snap may be running");
	CHECK_STR(why("orphan-old"), "orphan (no catalog record) older than 1d grace");
	CHECK_STR(why("orphan-pinned"), "pinned, orphan (no catalog record) older than 1d grace");
	/* orphans are never counted: keep_last 1 kept n1122, not the young orphan */
	CHECK_STR(why("n1122"), "newest, last #1");

	CHECK_INT(bs_retention_orphan_expired(&p, 1000, 1000 + 86400), 0);
	CHECK_INT(bs_retention_orphan_expired(&p, 1000, 1000 + 86401), 1);
	CHECK_INT(bs_retention_orphan_expired(&p, 5000, 1000), 0); /* mtime in the future */
	p.orphan_grace = 12 * HOUR;
	CHECK_INT(bs_retention_orphan_expired(&p, 0, 12 * HOUR + 1), 1);
	CHECK_INT(bs_retention_orphan_expired(NULL, 0, 86400), 0);
}

TEST(safety_guard_refuses_to_delete_everything)
{
	struct bs_retention_decision d[3];
	struct bs_retention_item items[3] = {
		{"a", 100, 1, 0, 0, NULL},
		{"b", 200, 1, 0, 0, NULL},
		{"orphan", 300, 0, 0, 0, NULL},
	};
	int i;

	for (i = 0; i < 3; i++) {
		d[i].verdict = BS_RETAIN_DELETE;
		snprintf(d[i].reasons, sizeof(d[i].reasons), "outside all rules");
	}
	bs_err_init(&err);
	CHECK_INT(bs_retention_guard_delete_all(items, 3, d, &err), -1);
	CHECK_INT(err.code, BS_ERR_POLICY);
	CHECK_STR(err.msg, "retention policy would delete all 2 snapshots");
	CHECK_STR(err.detail, "nothing was deleted");
	for (i = 0; i < 3; i++) {
		CHECK_INT(d[i].verdict, BS_RETAIN_KEEP);
		CHECK_STR(d[i].reasons, "refused: the policy would delete every snapshot");
	}
	/* one kept snapshot is enough; orphans alone are not snapshots */
	d[0].verdict = d[2].verdict = BS_RETAIN_DELETE;
	CHECK_INT(bs_retention_guard_delete_all(items, 3, d, &err), 0);
	CHECK_INT(d[0].verdict, BS_RETAIN_DELETE);
	CHECK_INT(bs_retention_guard_delete_all(&items[2], 1, &d[2], &err), 0);
}

/* ---- invalid policies are errors before any decision --------------------- */

static void check_all_kept(void)
{
	size_t i;

	for (i = 0; i < nit; i++)
		CHECK_INT(dec[i].verdict, BS_RETAIN_KEEP);
}

TEST(error_empty_policy)
{
	struct bs_retention_policy p;

	bs_retention_policy_init(&p);
	reset();
	nightly("n", T(2026, 11, 20, 0, 0), T(2026, 11, 22, 0, 0), 2);
	CHECK_STR(kept(&p, T(2026, 11, 23, 0, 0)),
		  "ERROR 102: invalid retention policy: no keep rule is set (empty policy)");
	CHECK(strstr(err.hint, "keep_daily: 35") != NULL);
	check_all_kept();
	/* zero counts are "off": still empty (restic: --keep-last 0 is empty too) */
	p.keep_last = p.keep_daily = 0;
	p.keep_within = p.keep_window = 0;
	CHECK_INT(bs_retention_policy_validate(&p, &err), -1);
	CHECK_INT(err.code, BS_ERR_POLICY);
	/* safety settings alone are not a policy */
	p.min_keep = 5;
	CHECK_INT(bs_retention_policy_validate(&p, &err), -1);
}

TEST(error_negative_values)
{
	struct bs_retention_policy p;

	bs_retention_policy_init(&p);
	reset();
	nightly("n", T(2026, 11, 20, 0, 0), T(2026, 11, 22, 0, 0), 2);
	p.keep_daily = -3;
	CHECK_STR(kept(&p, T(2026, 11, 23, 0, 0)), "ERROR 102: invalid retention policy: keep_daily is -3");
	CHECK(strstr(err.hint, "unlimited") != NULL);
	check_all_kept();

	/* every problem is reported, the first in the message */
	p.keep_daily = 7;
	p.keep_weekly = -2;
	p.min_keep = -1;
	p.orphan_grace = -5;
	p.keep_window = -86400;
	CHECK_INT(bs_retention_policy_validate(&p, &err), -1);
	CHECK_STR(err.msg, "invalid retention policy: keep_weekly is -2");
	CHECK_STR(err.detail, "4 problems: keep_weekly is -2; keep_window is negative (-86400 s); "
			      "min_keep is -1; orphan_grace is negative (-5 s)");

	/* -1 is "not given", not restic's "unlimited" */
	bs_retention_policy_init(&p);
	p.keep_daily = BS_RETENTION_UNSET;
	p.keep_last = 1;
	p.keep_within = BS_RETENTION_UNSET;
	CHECK_INT(bs_retention_policy_validate(&p, &err), 0);
}

TEST(error_bad_time_zone)
{
	static const char *const bad[] = {"Europe/Berln", "../../etc/passwd", "/etc/localtime",
					  "Europe/", "CET;rm", "Europe//Berlin", "Local"};
	struct bs_retention_policy p;
	size_t i;

	bs_retention_policy_init(&p);
	p.keep_daily = 7;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(p.timezone, sizeof(p.timezone), "%s", bad[i]);
		bs_err_init(&err);
		CHECK_INT(bs_retention_policy_validate(&p, &err), -1);
		CHECK_INT(err.code, BS_ERR_POLICY);
		CHECK(strstr(err.msg, "unknown time zone '") != NULL);
		CHECK(strstr(err.hint, "IANA") != NULL);
	}
	snprintf(p.timezone, sizeof(p.timezone), "Europe/Berlin");
	CHECK_INT(bs_retention_policy_validate(&p, &err), 0);
	p.timezone[0] = '\0'; /* empty means UTC */
	CHECK_INT(bs_retention_policy_validate(&p, &err), 0);
	memset(p.timezone, 'A', sizeof(p.timezone)); /* not terminated */
	CHECK_INT(bs_retention_policy_validate(&p, &err), -1);
	CHECK(strstr(err.msg, "timezone is longer than 63 characters") != NULL);
}

TEST(arguments_and_helpers)
{
	struct bs_retention_policy p;
	char buf[512];

	bs_retention_policy_init(&p);
	CHECK_INT(p.keep_daily, BS_RETENTION_UNSET);
	CHECK_INT(p.min_keep, 1);
	CHECK_INT(p.orphan_grace, 86400);
	CHECK_STR(p.timezone, "UTC");
	p.keep_daily = 7;
	bs_err_init(&err);
	CHECK_INT(bs_retention_apply(&p, NULL, 0, 0, NULL, &err), 0);
	CHECK_INT(bs_retention_apply(&p, NULL, 3, 0, dec, &err), -1);
	CHECK_INT(err.code, BS_ERR_USAGE);
	CHECK_STR(bs_retention_verdict_name(BS_RETAIN_KEEP), "kept");
	CHECK_STR(bs_retention_verdict_name(BS_RETAIN_DELETE), "deleted");
	p.keep_weekly = 8;
	p.keep_window = 30 * DAY;
	p.min_keep = 3;
	CHECK_STR(bs_retention_policy_describe(&p, buf, sizeof(buf)),
		  "keep_daily 7, keep_weekly 8, keep_window 30d; min_keep 3, keep_newest on, "
		  "keep_newest_verified on, orphan_grace 1d; timezone UTC");
	CHECK_STR(bs_retention_policy_describe(&p, buf, 10), "keep_dail");
}

TEST(reasons_list_every_rule_in_order)
{
	struct bs_retention_policy p;

	bs_retention_policy_init(&p);
	p.keep_last = p.keep_hourly = p.keep_daily = p.keep_weekly = 1000;
	p.keep_monthly = p.keep_yearly = 1000;
	p.keep_within = 400 * DAY;
	p.keep_window = 30 * DAY;
	p.min_keep = 1000000;
	reset();
	add("only", T(2026, 11, 22, 2, 0));
	it[0].pinned = it[0].drill_passed = 1;
	kept(&p, T(2026, 11, 23, 0, 0));
	CHECK_STR(dec[0].reasons, "pinned, newest, newest verified, last #1, hourly 2026-11-22T02, "
				  "daily 2026-11-22, weekly 2026-W47, monthly 2026-11, yearly 2026, "
				  "within 400d, window 30d");
}

int main(void)
{
	RUN(keep_last_alone_any_input_order);
	RUN(keep_hourly_alone);
	RUN(keep_daily_restic_doc_example);
	RUN(keep_daily_two_on_one_day);
	RUN(keep_daily_oldest_is_kept_while_count_left);
	RUN(keep_daily_unlimited);
	RUN(keep_weekly_iso_year_boundary);
	RUN(keep_monthly_alone);
	RUN(keep_yearly_alone);
	RUN(keep_within_alone);
	RUN(keep_window_alone);
	RUN(combined_small_by_hand);
	RUN(combined_restic_doc_hundred_years);
	RUN(generated_year_each_rule_alone_matches_restic);
	RUN(generated_year_random_combinations_match_restic);
	RUN(generated_year_facts);
	RUN(default_policy_keeps_thirty_days);
	RUN(dst_berlin_spring);
	RUN(dst_berlin_fall);
	RUN(dst_berlin_repeated_hour);
	RUN(dst_new_york_spring);
	RUN(dst_new_york_fall);
	RUN(weekly_follows_time_zone);
	RUN(time_zone_switch_restores_tz);
	RUN(time_zones_from_several_threads);
	RUN(safety_min_keep);
	RUN(safety_keep_newest);
	RUN(safety_newest_verified);
	RUN(safety_pinned);
	RUN(safety_protected_by_the_calling_snap);
	RUN(describe_never_writes_minutes);
	RUN(safety_future_start_is_kept_and_not_counted);
	RUN(safety_orphans_grace);
	RUN(safety_guard_refuses_to_delete_everything);
	RUN(error_empty_policy);
	RUN(error_negative_values);
	RUN(error_bad_time_zone);
	RUN(arguments_and_helpers);
	RUN(reasons_list_every_rule_in_order);
	return DONE();
}
