/*
 * fuzz_retention_policy.c - retention policy files
 * (bs_retention_policy_load: counts, "unlimited", durations, booleans, time
 * zones, the "retention:" wrapper), then the policy at work: an accepted
 * policy is applied to a fixed set of snapshots (hourly to yearly spacing,
 * pins, a passing drill, orphans, a future start) and the decisions are
 * checked against the engine's safety rules (tests/unit/retention/safety.h).
 *
 * Properties: a failure is BS_ERR_POLICY (or I/O) with a message; an
 * accepted policy validates; applying it never breaks a safety rule and is
 * deterministic; bs_retention_policy_describe always terminates its text.
 */
#include "config/policy_file.h"
#include "fuzz.h"
#include "../unit/retention/safety.h"

#define NOW ((time_t)1795910400) /* 2026-11-29T00:00:00Z */
#define NITEMS 48

static struct bs_retention_item items[NITEMS];
static char ids[NITEMS][16];

static void setup(void)
{
	static const int64_t step[] = {3600, 5400, 86400, 86400 * 7, 86400 * 31, 86400 * 200};
	time_t t = NOW - 1800;
	size_t i;

	for (i = 0; i < NITEMS; i++) {
		items[i].start = t;
		t -= step[i % 6] + (int64_t)(i * 977 % 3600);
		snprintf(ids[i], sizeof(ids[i]), "snap-%02zu", i);
		items[i].id = ids[i];
		items[i].complete = 1;
	}
	items[3].pinned = 1;
	items[7].drill_passed = 1;
	items[20].drill_passed = 1;
	items[5].protect = "taken by a concurrent snap";
	items[10].complete = 0;              /* orphan past its grace */
	items[11].complete = 0;
	items[11].start = NOW - 600;         /* orphan within it */
	items[12].start = NOW + 7200;        /* clock skew */
	items[30].start = items[29].start;   /* same second */
}

static void apply_and_check(const struct bs_retention_policy *p)
{
	static struct bs_retention_decision d1[NITEMS], d2[NITEMS];
	struct bs_err err;
	const char *why;
	size_t bad, i;
	int rc, rc2;

	bs_err_init(&err);
	rc = bs_retention_apply(p, items, NITEMS, NOW, d1, &err);
	fuzz_check_err(rc, &err);
	if (rc < 0)
		FUZZ_ASSERT(err.code == BS_ERR_POLICY);
	why = safety_violation(p, items, NITEMS, NOW, rc, d1, &bad);
	if (why) {
		fprintf(stderr, "safety rule broken: %s (item %zu)\n", why, bad);
		for (i = 0; i < NITEMS; i++)
			fprintf(stderr, "  %s start %lld complete %d pinned %d drill %d: %s (%s)\n",
				items[i].id, (long long)items[i].start, items[i].complete, items[i].pinned,
				items[i].drill_passed, bs_retention_verdict_name(d1[i].verdict), d1[i].reasons);
		FUZZ_ASSERT(0);
	}
	rc2 = bs_retention_apply(p, items, NITEMS, NOW, d2, &err);
	FUZZ_ASSERT(rc == rc2);
	FUZZ_ASSERT(memcmp(d1, d2, sizeof(d1)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bs_retention_policy p;
	struct bs_err err;
	const char *path;
	char desc[512];
	int rc;

	fuzz_quiet();
	if (!items[0].id)
		setup();
	path = fuzz_write_file("retention.yaml", data, size);
	bs_err_init(&err);
	rc = bs_retention_policy_load(&p, path, &err);
	fuzz_check_err(rc, &err);
	if (rc < 0) {
		FUZZ_ASSERT(err.code == BS_ERR_POLICY || err.code == BS_ERR_IO || err.code == BS_ERR_NOMEM);
		return 0;
	}
	bs_err_init(&err);
	FUZZ_ASSERT(bs_retention_policy_validate(&p, &err) == 0);
	bs_retention_policy_describe(&p, desc, sizeof(desc));
	FUZZ_ASSERT(memchr(desc, 0, sizeof(desc)));
	apply_and_check(&p);
	return 0;
}
