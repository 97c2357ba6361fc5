/*
 * fuzz_catalog_record.c - snapshot catalog records, snapshots/<id>.json
 * (bs_snap_record_from_json), as bs_catalog_load reads every record of a
 * repository: a record anyone with write access to the repository can edit.
 *
 * Properties: a failure sets a message; an accepted record has a
 * well-formed id and its archive and database; it serializes
 * (bs_snap_record_to_json) to a text that is accepted again and serializes
 * to the same text.
 */
#include "catalog/catalog.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bs_snap_record r, r2;
	struct bs_err err;
	char *a = NULL, *b = NULL;
	size_t alen, blen;
	int rc;

	fuzz_quiet();
	bs_err_init(&err);
	rc = bs_snap_record_from_json(&r, (const char *)data, size, "snapshots/fuzz.json", &err);
	fuzz_check_err(rc, &err);
	if (rc < 0)
		return 0;   /* released by the parser on failure */
	FUZZ_ASSERT(bs_catalog_valid_id(r.id));
	FUZZ_ASSERT(r.archive && r.database);

	FUZZ_ASSERT(bs_snap_record_to_json(&r, &a, &alen, &err) == 0);
	rc = bs_snap_record_from_json(&r2, a, alen, "snapshots/fuzz.json", &err);
	if (rc < 0) {
		fprintf(stderr, "a record written from an accepted one is refused: %s\n%.*s\n", err.msg,
			(int)alen, a);
		FUZZ_ASSERT(0);
	}
	FUZZ_ASSERT(bs_snap_record_to_json(&r2, &b, &blen, &err) == 0);
	if (alen != blen || memcmp(a, b, alen) != 0) {
		fprintf(stderr, "record not stable through write and read:\n%.*s\n%.*s\n", (int)alen, a,
			(int)blen, b);
		FUZZ_ASSERT(0);
	}
	free(a);
	free(b);
	bs_snap_record_release(&r);
	bs_snap_record_release(&r2);
	return 0;
}
