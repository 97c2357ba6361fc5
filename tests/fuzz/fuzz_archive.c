/*
 * fuzz_archive.c - the archive reader as --archive-only runs it
 * (bs_drill_archive_check over an unencrypted archive): tar members, their
 * order, backstop.json, globals.json, schema.dump's magic, chunk and blob
 * member names, zstd decompression, row counting and digests on a worker
 * thread, manifest.json and the comparison of both; then the report is
 * rendered as text, JSON and JUnit XML, as the command would.
 *
 * Seeds: archives built by tests/fuzz/seeds.c and the version 1 snapshot
 * fixture (tests/data/v1-snapshot).
 *
 * Properties: the check never returns -1 for bad input (only for out of
 * memory or internal errors: bad input is a finding); a verdict of "pass"
 * means a header and a manifest were read.
 */
#include <jansson.h>

#include "drill/drill.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	const struct bs_drill_report *reps[1];
	struct bs_drill_report rep;
	struct bs_manifest m;
	struct bs_rstream *in;
	struct bs_err err;
	json_t *j;
	int rc;

	fuzz_quiet();
	if (!devnull)
		devnull = fopen("/dev/null", "w");
	FUZZ_ASSERT(devnull);
	bs_err_init(&err);
	in = bs_rstream_mem(data, size);
	FUZZ_ASSERT(in);
	bs_drill_report_init(&rep, BS_DRILL_ARCHIVE);
	rc = bs_drill_archive_check(in, NULL, 1, NULL, &rep, &m, &err);
	if (rc < 0)
		fprintf(stderr, "archive check failed: %s (%s)\n", err.msg, bs_err_name(err.code));
	FUZZ_ASSERT(rc == 0);
	if (strcmp(bs_drill_verdict(&rep), "pass") == 0)
		FUZZ_ASSERT(m.id && m.has_manifest);

	bs_drill_report_text(&rep, devnull);
	j = bs_drill_report_json(&rep);
	if (j) {
		char *s = json_dumps(j, JSON_COMPACT);
		free(s);
		json_decref(j);
	}
	reps[0] = &rep;
	bs_drill_junit(reps, 1, devnull);

	bs_manifest_release(&m);
	bs_drill_report_release(&rep);
	bs_rstream_free(in);
	return 0;
}
