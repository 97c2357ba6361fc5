/*
 * fuzz_manifest.c - backstop.json and manifest.json (lib/archive/manifest.c):
 * bs_manifest_parse_header, then bs_manifest_parse merged over it, then
 * bs_manifest_check_globals.
 *
 * Input: the header text, a NUL byte, the manifest text, a NUL byte, a
 * globals.json text (later parts may be missing).  JSON text never holds a
 * raw NUL, so the split costs the parsers nothing.
 *
 * Properties: a failure sets a message; a header that parsed serializes
 * (bs_manifest_header_json) and that text parses again to the same text;
 * a merged manifest serializes too, and its tables' rows add up to their
 * chunks' (which the parser promises to have checked).
 */
#include "archive/manifest.h"
#include "fuzz.h"

/* Split data at its first NUL: the part before, and the rest after. */
static void split(const uint8_t **p, size_t *n, const uint8_t **rest, size_t *nrest)
{
	const uint8_t *z = memchr(*p, 0, *n);

	if (!z) {
		*rest = NULL;
		*nrest = 0;
		return;
	}
	*rest = z + 1;
	*nrest = *n - (size_t)(z - *p) - 1;
	*n = (size_t)(z - *p);
}

static void check_header_roundtrip(const struct bs_manifest *m)
{
	struct bs_manifest m2;
	struct bs_err err;
	char *a = NULL, *b = NULL;
	size_t alen, blen;

	bs_err_init(&err);
	bs_manifest_init(&m2);
	FUZZ_ASSERT(bs_manifest_header_json(m, &a, &alen, &err) == 0);
	if (bs_manifest_parse_header(&m2, a, alen, &err) < 0) {
		fprintf(stderr, "re-parse of a written header failed: %s\n%.*s\n", err.msg, (int)alen, a);
		FUZZ_ASSERT(0);
	}
	FUZZ_ASSERT(bs_manifest_header_json(&m2, &b, &blen, &err) == 0);
	FUZZ_ASSERT(alen == blen && memcmp(a, b, alen) == 0);
	free(a);
	free(b);
	bs_manifest_release(&m2);
}

static void check_sums(const struct bs_manifest *m)
{
	size_t i, k;

	for (i = 0; i < m->ntables; i++) {
		const struct bs_mtable *t = &m->tables[i];
		uint64_t rows = 0;
		for (k = 0; k < t->nchunks; k++)
			rows += t->chunks[k].rows;
		FUZZ_ASSERT(rows == t->rows);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *hdr = data, *man, *glob;
	size_t nhdr = size, nman, nglob;
	struct bs_manifest m;
	struct bs_err err;
	char *out = NULL;
	size_t outlen;
	int rc;

	fuzz_quiet();
	split(&hdr, &nhdr, &man, &nman);
	if (man)
		split(&man, &nman, &glob, &nglob);
	else
		glob = NULL, nglob = 0;

	bs_err_init(&err);
	bs_manifest_init(&m);
	rc = bs_manifest_parse_header(&m, (const char *)hdr, nhdr, &err);
	fuzz_check_err(rc, &err);
	if (rc == 0) {
		check_header_roundtrip(&m);
		if (man) {
			rc = bs_manifest_parse(&m, (const char *)man, nman, &err);
			fuzz_check_err(rc, &err);
			if (rc == 0) {
				FUZZ_ASSERT(m.has_manifest);
				check_sums(&m);
				FUZZ_ASSERT(bs_manifest_json(&m, &out, &outlen, &err) == 0);
				free(out);
			}
		}
		if (glob) {
			rc = bs_manifest_check_globals(&m, (const char *)glob, nglob, &err);
			fuzz_check_err(rc, &err);
		}
	}
	bs_manifest_release(&m);
	return 0;
}
