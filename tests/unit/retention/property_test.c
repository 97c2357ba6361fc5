/*
 * property_test.c - the retention engine's safety rules over random inputs.
 *
 * Each case is a random snapshot set of one database (as prune hands the
 * engine one group at a time: start times clustered or spread over years,
 * equal start times, starts in the future, orphaned archives within and
 * past their grace period, pins, passing drills, protected snapshots) and
 * a random valid policy (keep_last/hourly/daily/weekly/monthly/yearly,
 * "unlimited", keep_within, keep_window, min_keep, keep_newest,
 * keep_newest_verified, orphan_grace, time zones with half-hour offsets
 * and DST).  For each case:
 *
 *   - the safety rules of tests/unit/retention/safety.h hold (newest
 *     complete, pinned, protected, min_keep, newest verified, orphans in
 *     grace, future starts, a reason for every decision);
 *   - the decisions are deterministic: the same call twice, and the same
 *     items in another order, decide the same for each item;
 *   - the count and time rules do keep what they name (keep_last's newest
 *     N, keep_within), and an orphan past its grace that nothing protects
 *     is deleted (or orphans pile up forever).
 *
 * The checker is itself tested: decisions broken on purpose are caught.
 *
 * BS_SEED=N (decimal or 0x...) replaces the fixed seed; BS_ITERATIONS=N
 * the number of cases (default 5000).  A failure prints the case's own
 * seed: BS_SEED=<it> BS_ITERATIONS=1 replays that one case.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "retention/policy.h"
#include "safety.h"

#define MAXN 80
#define HOUR 3600
#define DAY 86400
#define BASE_NOW ((time_t)1795953600) /* 2026-11-29T12:00:00Z */

static uint64_t seed = 0x62737470726f7031ULL; /* "bstprop1" */
static unsigned long iterations = 5000;

/* ---- random numbers (splitmix64: small, and the same everywhere) -------- */

static uint64_t rng;

static uint64_t next(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t below(uint64_t n)
{
	return n ? next() % n : 0;
}

static int chance(int percent)
{
	return (int)below(100) < percent;
}

/* The seed of case i: case 0 uses the seed itself, so that a printed case
 * seed replays with BS_ITERATIONS=1. */
static uint64_t case_seed(unsigned long i)
{
	if (i == 0)
		return seed;
	rng = seed ^ (0xd1b54a32d192ed03ULL * i);
	return next();
}

/* ---- one case ----------------------------------------------------------- */

struct pcase {
	uint64_t seed;
	time_t now;
	struct bs_retention_policy p;
	struct bs_retention_item it[MAXN];
	char ids[MAXN][40];
	size_t n;
};

static const char *const zones[] = {
	"UTC", "", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe",
	"Pacific/Chatham", "America/St_Johns", "Pacific/Kiritimati", "America/Sao_Paulo",
};

static int random_count(void)
{
	static const int v[] = {0, 1, 1, 2, 3, 4, 5, 7, 12, 30, BS_RETENTION_UNLIMITED};

	return v[below(sizeof(v) / sizeof(v[0]))];
}

static int64_t random_span(void)
{
	static const int64_t v[] = {HOUR, 6 * HOUR, DAY, 2 * DAY, 7 * DAY, 30 * DAY, 365 * DAY};

	return chance(70) ? v[below(sizeof(v) / sizeof(v[0]))] : (int64_t)below(90 * DAY) + 1;
}

static void random_policy(struct bs_retention_policy *p)
{
	int *counts[] = {&p->keep_last, &p->keep_hourly, &p->keep_daily,
			 &p->keep_weekly, &p->keep_monthly, &p->keep_yearly};
	size_t i;

	bs_retention_policy_init(p);
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		if (chance(35))
			*counts[i] = random_count();
	if (chance(25))
		p->keep_within = random_span();
	if (chance(15))
		p->keep_window = random_span();
	if (chance(60))
		p->min_keep = (int)below(6);
	if (chance(20))
		p->keep_newest = 0;
	if (chance(20))
		p->keep_newest_verified = 0;
	if (chance(50))
		p->orphan_grace = chance(30) ? 0 : random_span();
	snprintf(p->timezone, sizeof(p->timezone), "%s", zones[below(sizeof(zones) / sizeof(zones[0]))]);
	/* an empty policy is invalid: give it one rule */
	if (p->keep_last <= 0 && p->keep_hourly <= 0 && p->keep_daily <= 0 && p->keep_weekly <= 0 &&
	    p->keep_monthly <= 0 && p->keep_yearly <= 0 && p->keep_within <= 0 && p->keep_window <= 0)
		p->keep_last = 1 + (int)below(5);
}

/* How far before now the next snapshot starts. */
static int64_t random_age(int mode)
{
	switch (mode) {
	case 0: /* a busy day: minutes to hours */
		return (int64_t)below(2 * DAY);
	case 1: /* nightly for months */
		return (int64_t)below(120) * DAY + (int64_t)below(HOUR);
	default: /* spread over three years */
		return (int64_t)below(3 * 365 * DAY);
	}
}

static void random_items(struct pcase *c)
{
	int64_t grace = c->p.orphan_grace >= 0 ? c->p.orphan_grace : SAFETY_DEFAULT_GRACE;
	int mode = (int)below(3);
	size_t i;

	c->n = chance(5) ? 0 : 1 + below(chance(70) ? 20 : MAXN);
	for (i = 0; i < c->n; i++) {
		struct bs_retention_item *x = &c->it[i];
		memset(x, 0, sizeof(*x));
		x->complete = !chance(12);
		if (!x->complete)
			/* an orphan: around its grace period, now and then in the future */
			x->start = chance(5) ? c->now + (time_t)below(HOUR) : c->now - (time_t)below(3 * (uint64_t)grace + 2);
		else if (i > 0 && chance(8))
			x->start = c->it[below(i)].start;        /* same second as another */
		else if (chance(3))
			x->start = c->now + 1 + (time_t)below(2 * HOUR); /* clock skew */
		else
			x->start = c->now - random_age(mode);
		x->pinned = chance(8);
		x->drill_passed = x->complete && chance(15);
		x->protect = x->complete && chance(4) ? "taken by a concurrent snap" : NULL;
		snprintf(c->ids[i], sizeof(c->ids[i]), "%012" PRIx64 "-%03zu", (uint64_t)x->start, i);
		x->id = c->ids[i];
	}
}

static void make_case(struct pcase *c, uint64_t s)
{
	rng = s;
	c->seed = s;
	c->now = BASE_NOW + (time_t)below(2 * 365 * DAY);
	random_policy(&c->p);
	random_items(c);
}

static void dump(const struct pcase *c, const struct bs_retention_decision *d, const char *why, size_t bad)
{
	char desc[512];
	size_t i;

	printf("#   %s (item %zu)\n", why, bad);
	printf("#   replay: BS_SEED=0x%016" PRIx64 " BS_ITERATIONS=1\n", c->seed);
	printf("#   now %lld; policy: %s\n", (long long)c->now,
	       bs_retention_policy_describe(&c->p, desc, sizeof(desc)));
	for (i = 0; i < c->n; i++)
		printf("#   [%zu] %s start %+lld%s%s%s%s: %s (%s)\n", i, c->it[i].id,
		       (long long)(c->it[i].start - c->now), c->it[i].complete ? "" : " orphan",
		       c->it[i].pinned ? " pinned" : "", c->it[i].drill_passed ? " drill-passed" : "",
		       c->it[i].protect ? " protected" : "", d ? bs_retention_verdict_name(d[i].verdict) : "-",
		       d ? d[i].reasons : "");
}

/* ---- the checks beyond safety.h ---------------------------------------- */

/* The engine's order: newest first, equal starts by id descending. */
static int newer(const struct bs_retention_item *a, const struct bs_retention_item *b)
{
	if (a->start != b->start)
		return a->start > b->start;
	return strcmp(a->id, b->id) > 0;
}

/* Rank of item i among the complete snapshots that do not start in the
 * future (0 = newest), or -1 if it is not one. */
static long rank_of(const struct pcase *c, size_t i)
{
	size_t j;
	long r = 0;

	if (!c->it[i].complete || c->it[i].start > c->now)
		return -1;
	for (j = 0; j < c->n; j++)
		if (j != i && c->it[j].complete && c->it[j].start <= c->now && newer(&c->it[j], &c->it[i]))
			r++;
	return r;
}

static const char *rules_violation(const struct pcase *c, const struct bs_retention_decision *d, size_t *bad)
{
	time_t newest = 0;
	int64_t grace = c->p.orphan_grace >= 0 ? c->p.orphan_grace : SAFETY_DEFAULT_GRACE;
	int any = 0;
	size_t i;

	for (i = 0; i < c->n; i++) {
		long r = rank_of(c, i);
		if (r == 0) {
			newest = c->it[i].start;
			any = 1;
		}
	}
	for (i = 0; i < c->n; i++) {
		const struct bs_retention_item *x = &c->it[i];
		long r = rank_of(c, i);
		*bad = i;
		if (d[i].verdict == BS_RETAIN_KEEP) {
			if (!x->complete && !x->pinned && x->start < c->now &&
			    (int64_t)(c->now - x->start) > grace)
				return "an orphan past its grace period is kept";
			continue;
		}
		if (r >= 0 && c->p.keep_last > 0 && r < c->p.keep_last)
			return "keep_last: one of the newest N is deleted";
		if (r >= 0 && any && c->p.keep_within > 0 && (int64_t)(newest - x->start) < c->p.keep_within)
			return "keep_within: a snapshot inside the span is deleted";
		if (r >= 0 && c->p.keep_window > 0 && (int64_t)(c->now - x->start) <= c->p.keep_window)
			return "keep_window: a snapshot inside the window is deleted";
	}
	*bad = c->n;
	return NULL;
}

/* ---- tests -------------------------------------------------------------- */

static struct pcase cs, shuffled;
static struct bs_retention_decision d1[MAXN], d2[MAXN], d3[MAXN];
static size_t perm[MAXN];

/* Run one case; 0 if every property holds, else -1 (after dumping it). */
static int run_case(uint64_t s)
{
	struct bs_err err;
	const char *why;
	size_t i, j, bad;
	int rc, rc2;

	make_case(&cs, s);
	bs_err_init(&err);
	if (bs_retention_policy_validate(&cs.p, &err) < 0) {
		dump(&cs, NULL, "the generator made an invalid policy", cs.n);
		printf("#   %s\n", err.msg);
		return -1;
	}
	rc = bs_retention_apply(&cs.p, cs.it, cs.n, cs.now, d1, &err);
	if (rc < 0 && err.code != BS_ERR_POLICY) {
		dump(&cs, d1, err.msg, cs.n);
		return -1;
	}
	if ((why = safety_violation(&cs.p, cs.it, cs.n, cs.now, rc, d1, &bad)) ||
	    (rc == 0 && (why = rules_violation(&cs, d1, &bad)))) {
		dump(&cs, d1, why, bad);
		return -1;
	}
	/* the same call again */
	rc2 = bs_retention_apply(&cs.p, cs.it, cs.n, cs.now, d2, &err);
	if (rc2 != rc || memcmp(d1, d2, cs.n * sizeof(d1[0])) != 0) {
		dump(&cs, d2, "a second identical call decides differently", cs.n);
		return -1;
	}
	/* the same items in another order (ids and strings stay with them) */
	shuffled = cs;
	for (i = 0; i < cs.n; i++)
		perm[i] = i;
	for (i = cs.n; i > 1; i--) {
		j = below(i);
		size_t t = perm[i - 1];
		perm[i - 1] = perm[j];
		perm[j] = t;
	}
	for (i = 0; i < cs.n; i++) {
		shuffled.it[i] = cs.it[perm[i]];
		shuffled.it[i].id = cs.ids[perm[i]];
	}
	rc2 = bs_retention_apply(&shuffled.p, shuffled.it, cs.n, cs.now, d3, &err);
	for (i = 0; i < cs.n; i++) {
		if (rc2 != rc || d3[i].verdict != d1[perm[i]].verdict ||
		    strcmp(d3[i].reasons, d1[perm[i]].reasons) != 0) {
			dump(&cs, d1, "the same items in another order are decided differently", perm[i]);
			printf("#   reordered: %s (%s)\n", bs_retention_verdict_name(d3[i].verdict), d3[i].reasons);
			return -1;
		}
	}
	return 0;
}

TEST(safety_rules_hold_over_random_cases)
{
	unsigned long i;
	unsigned long deleted = 0, refused = 0, cases = 0;

	for (i = 0; i < iterations; i++) {
		uint64_t s = case_seed(i);
		size_t k;
		if (run_case(s) < 0) {
			printf("#   case %lu of %lu (BS_SEED=0x%016" PRIx64 ")\n", i, iterations, seed);
			CHECK(!"a retention property failed");
			return;
		}
		cases++;
		for (k = 0; k < cs.n; k++)
			deleted += d1[k].verdict == BS_RETAIN_DELETE;
		refused += strstr(cs.n ? d1[0].reasons : "", "refused") != NULL;
	}
	printf("#   %lu cases (BS_SEED=0x%016" PRIx64 "), %lu deletions, %lu refusals\n", cases, seed,
	       deleted, refused);
	/* the generator must make the engine delete: a test that never sees a
	 * deletion proves nothing */
	CHECK(iterations < 100 || deleted > iterations);
}

/* The checker catches broken decisions: take the engine's decisions for
 * random cases, break one rule on purpose, and expect safety.h to say so. */
TEST(checker_catches_broken_decisions)
{
	unsigned long i, tried[6] = {0}, caught[6] = {0};
	size_t k, bad;

	for (i = 0; i < 400; i++) {
		struct bs_err err;
		int kind = (int)(i % 6);
		size_t pick = MAXN;
		time_t best = 0;

		make_case(&cs, case_seed(i) ^ 0x5a5a5a5aULL);
		bs_err_init(&err);
		if (bs_retention_apply(&cs.p, cs.it, cs.n, cs.now, d1, &err) < 0 || cs.n == 0)
			continue;
		for (k = 0; k < cs.n; k++) {
			const struct bs_retention_item *x = &cs.it[k];
			int fits = kind == 0 ? x->pinned
				 : kind == 1 ? x->protect != NULL
				 : kind == 2 ? (cs.p.keep_newest && x->complete)
				 : kind == 3 ? (cs.p.keep_newest_verified && x->complete && x->drill_passed)
				 : kind == 4 ? (!x->complete && x->start < cs.now &&
						(int64_t)(cs.now - x->start) <= (cs.p.orphan_grace >= 0 ? cs.p.orphan_grace : SAFETY_DEFAULT_GRACE))
				 : x->complete;
			if (!fits)
				continue;
			if (kind == 2 || kind == 3) {
				if (pick == MAXN || x->start > best) {
					pick = k;
					best = x->start;
				}
			} else if (pick == MAXN) {
				pick = k;
			}
		}
		if (pick == MAXN)
			continue;
		/* for the newest rules, delete every snapshot of the newest second */
		for (k = 0; k < cs.n; k++) {
			if (k == pick || ((kind == 2 || kind == 3) && cs.it[k].complete && cs.it[k].start == best &&
					  (kind == 2 || cs.it[k].drill_passed)))
				d1[k].verdict = BS_RETAIN_DELETE;
			if (kind == 5 && cs.it[k].complete)
				d1[k].verdict = BS_RETAIN_DELETE; /* min_keep / delete-all */
		}
		tried[kind]++;
		caught[kind] += safety_violation(&cs.p, cs.it, cs.n, cs.now, 0, d1, &bad) != NULL;
	}
	for (k = 0; k < 6; k++) {
		printf("#   broken rule %zu: %lu of %lu caught\n", k, caught[k], tried[k]);
		CHECK(tried[k] > 0);
		CHECK_INT(caught[k], tried[k]);
	}
}

/* A failed call keeps everything, and the checker knows it. */
TEST(failed_call_keeps_everything)
{
	struct bs_retention_policy p;
	struct bs_retention_item x[2];
	struct bs_retention_decision d[2];
	struct bs_err err;
	size_t bad;

	memset(x, 0, sizeof(x));
	x[0].id = "a";
	x[0].start = BASE_NOW - DAY;
	x[0].complete = 1;
	x[1].id = "b";
	x[1].start = BASE_NOW - 2 * DAY;
	x[1].complete = 1;
	bs_retention_policy_init(&p); /* empty: invalid */
	bs_err_init(&err);
	CHECK(bs_retention_apply(&p, x, 2, BASE_NOW, d, &err) < 0);
	CHECK_INT(err.code, BS_ERR_POLICY);
	CHECK(d[0].verdict == BS_RETAIN_KEEP && d[1].verdict == BS_RETAIN_KEEP);
	CHECK(safety_violation(&p, x, 2, BASE_NOW, -1, d, &bad) == NULL);
	d[1].verdict = BS_RETAIN_DELETE;
	CHECK(safety_violation(&p, x, 2, BASE_NOW, -1, d, &bad) != NULL);
}

int main(void)
{
	const char *s = getenv("BS_SEED"), *n = getenv("BS_ITERATIONS");

	if (s && *s)
		seed = strtoull(s, NULL, 0);
	if (n && *n)
		iterations = strtoul(n, NULL, 0);
	printf("# seed 0x%016" PRIx64 ", %lu cases (BS_SEED, BS_ITERATIONS)\n", seed, iterations);
	RUN(safety_rules_hold_over_random_cases);
	RUN(checker_catches_broken_decisions);
	RUN(failed_call_keeps_everything);
	return DONE();
}
