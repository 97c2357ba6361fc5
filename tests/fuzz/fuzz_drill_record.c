/*
 * fuzz_drill_record.c - drill records, drills/<snapshot>/<drill>.json
 * (bs_drill_summary_parse), as bs_drill_list_load and snap list read them.
 *
 * Properties: a failure sets a message; an accepted record has an id, a
 * verdict and a mode, all NUL-terminated within their fields.
 */
#include "drill/drill.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bs_drill_summary s;
	struct bs_err err;
	int rc;

	fuzz_quiet();
	bs_err_init(&err);
	rc = bs_drill_summary_parse(&s, (const char *)data, size, &err);
	fuzz_check_err(rc, &err);
	if (rc == 0) {
		FUZZ_ASSERT(memchr(s.id, 0, sizeof(s.id)) && s.id[0]);
		FUZZ_ASSERT(memchr(s.snapshot, 0, sizeof(s.snapshot)));
		FUZZ_ASSERT(memchr(s.mode, 0, sizeof(s.mode)) && s.mode[0]);
		FUZZ_ASSERT(memchr(s.verdict, 0, sizeof(s.verdict)) && s.verdict[0]);
	}
	bs_drill_summary_release(&s);
	return 0;
}
