/*
 * fuzz_drill_policy.c - drill policy files (bs_drill_policy_load):
 * limits, durations and the smoke query list.
 *
 * Properties: a failure sets a BS_ERR_POLICY (or I/O) message; an accepted
 * policy keeps its documented bounds: at most BS_DRILL_SMOKE_MAX queries,
 * each with a name and SQL, exactly one of expect or a row range, and
 * min_rows <= max_rows.
 */
#include "drill/drill.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bs_drill_policy p;
	struct bs_err err;
	const char *path;
	size_t i;
	int rc;

	fuzz_quiet();
	path = fuzz_write_file("drill.yaml", data, size);
	bs_err_init(&err);
	rc = bs_drill_policy_load(&p, path, &err);
	fuzz_check_err(rc, &err);
	if (rc < 0) {
		FUZZ_ASSERT(err.code == BS_ERR_POLICY || err.code == BS_ERR_IO || err.code == BS_ERR_NOMEM);
	} else {
		FUZZ_ASSERT(p.nsmoke <= BS_DRILL_SMOKE_MAX);
		for (i = 0; i < p.nsmoke; i++) {
			const struct bs_drill_smoke *q = &p.smoke[i];
			int range = q->min_rows != BS_DRILL_UNSET || q->max_rows != BS_DRILL_UNSET;
			FUZZ_ASSERT(q->name && q->sql);
			FUZZ_ASSERT((q->expect != BS_DRILL_UNSET) != range);
			if (q->min_rows != BS_DRILL_UNSET && q->max_rows != BS_DRILL_UNSET)
				FUZZ_ASSERT(q->min_rows <= q->max_rows);
		}
	}
	bs_drill_policy_release(&p);
	return 0;
}
