/* manifest_test.c - header and manifest JSON round trips and parse errors. */
#include <stdlib.h>
#include <string.h>

#include "archive/manifest.h"
#include "harness.h"

static void build(struct bs_manifest *m)
{
	const char *cols1[] = { "id", "owner", "balance" };
	const char *cols2[] = { "a \"quoted\" col", "ünï\xe2\x82\xac", "tab\there" };
	struct bs_mtable *t;
	struct bs_mchunk c;
	int i;

	bs_manifest_init(m);
	m->id = strdup("20261123T021500Z-3fa9c1");
	m->database = strdup("app \"prod\"");
	m->encoding = strdup("UTF8");
	m->server_version = strdup("15.18");
	m->server_version_num = 150018;
	m->start = strdup("2026-11-23T02:15:00Z");
	m->end = strdup("2026-11-23T02:16:12Z");
	t = bs_manifest_add_table(m, 1, "public", "accounts", cols1, 3);
	for (i = 0; i < 3; i++) {
		memset(&c, 0, sizeof(c));
		c.seq = (uint32_t)(2 - i); /* out of order on purpose */
		bs_digest_init(&c.digest);
		bs_digest_add_payload(&c.digest, i == 0 ? "1\ta\n2\tb\n" : "3\tc\n", i == 0 ? 8 : 4);
		c.rows = c.digest.rows;
		c.zbytes = 100 + (uint64_t)i;
		c.raw_bytes = i == 0 ? 8 : 4;
		bs_mtable_add_chunk(t, &c);
		bs_digest_merge(&t->digest, &c.digest);
		t->rows += c.rows;
		t->raw_bytes += c.raw_bytes;
	}
	bs_manifest_add_table(m, 2, "Schéma \"x\"", "we'ird \\ name\n", cols2, 3);
	bs_manifest_add_table(m, 3, "public", "no_columns", NULL, 0);
	bs_manifest_add_seq(m, "public", "accounts_id_seq", 100000, 1);
	bs_manifest_add_seq(m, "public", "neg", -9223372036854775807LL, 0);
	bs_manifest_add_blob(m, 16400, 1024, 1);
	bs_manifest_add_blob(m, 4294967295u, 1024, 2);
	m->blob_bytes = 2048;
	bs_digest_add_row(&m->blob_digest, "x", 1);
	bs_digest_add_row(&m->blob_digest, "y", 1);
	bs_manifest_add_inv(m, "index", "public.accounts_pkey", "0123456789abcdef0123456789abcdef");
	bs_manifest_add_inv(m, "function", "public.f(integer, text)", "ffffffffffffffffffffffffffffffff");
}

static int roundtrip(const struct bs_manifest *m, struct bs_manifest *out, struct bs_err *err)
{
	char *h = NULL, *j = NULL;
	size_t hl, jl;
	int rc = -1;

	bs_manifest_init(out);
	if (bs_manifest_header_json(m, &h, &hl, err) == 0 && bs_manifest_json(m, &j, &jl, err) == 0 &&
	    bs_manifest_parse_header(out, h, hl, err) == 0 && bs_manifest_parse(out, j, jl, err) == 0)
		rc = 0;
	free(h);
	free(j);
	return rc;
}

TEST(roundtrip_header_and_manifest)
{
	struct bs_manifest m, r;
	struct bs_err err;
	struct bs_mtable *t, *t2;

	bs_err_init(&err);
	build(&m);
	CHECK_INT(roundtrip(&m, &r, &err), 0);
	if (err.code)
		printf("# %s\n", err.msg);
	CHECK_STR(r.id, m.id);
	CHECK_STR(r.database, "app \"prod\"");
	CHECK_STR(r.encoding, "UTF8");
	CHECK_STR(r.server_version, "15.18");
	CHECK_INT(r.server_version_num, 150018);
	CHECK_STR(r.start, m.start);
	CHECK_STR(r.end, m.end);
	CHECK_INT(r.has_manifest, 1);
	CHECK_INT(r.ntables, 3);
	t = bs_manifest_table(&r, 1);
	CHECK(t != NULL);
	if (t) {
		CHECK_INT(t->ncolumns, 3);
		CHECK_STR(t->columns[2], "balance");
		CHECK_INT(t->rows, 4);
		CHECK(bs_digest_equal(&t->digest, &m.tables[0].digest));
		CHECK_INT(t->nchunks, 3);
		CHECK_INT(t->chunks[0].seq, 0);
		CHECK_INT(t->chunks[2].seq, 2);
		CHECK_INT(t->chunks[2].zbytes, 100);
		CHECK_INT(t->chunks[2].raw_bytes, 8);
		CHECK_INT(t->raw_bytes, 16);
	}
	t2 = bs_manifest_table(&r, 2);
	CHECK(t2 != NULL);
	if (t2) {
		CHECK_STR(t2->schema, "Schéma \"x\"");
		CHECK_STR(t2->name, "we'ird \\ name\n");
		CHECK_STR(t2->columns[0], "a \"quoted\" col");
		CHECK_STR(t2->columns[1], "ünï\xe2\x82\xac");
		CHECK_INT(t2->rows, 0);
		CHECK_INT(t2->nchunks, 0);
	}
	CHECK_INT(bs_manifest_table(&r, 3)->ncolumns, 0);
	CHECK_INT(r.nseqs, 2);
	CHECK_INT(r.seqs[0].last_value, 100000);
	CHECK_INT(r.seqs[0].is_called, 1);
	CHECK_INT(r.seqs[1].last_value, -9223372036854775807LL);
	CHECK_INT(r.seqs[1].is_called, 0);
	CHECK_INT(r.nblobs, 2);
	CHECK_INT(r.blobs[1].oid, 4294967295u);
	CHECK_INT(r.blobs[1].chunks, 2);
	CHECK_INT(r.blob_bytes, 2048);
	CHECK(bs_digest_equal(&r.blob_digest, &m.blob_digest));
	CHECK_INT(r.ninv, 2);
	CHECK_STR(r.inv[1].name, "public.f(integer, text)");
	CHECK_STR(r.inv[1].kind, "function");
	bs_manifest_release(&m);
	bs_manifest_release(&r);
}

/* Parse the header of build(), then a manifest text with one edit applied. */
static void manifest_edit(const char *from, const char *to, struct bs_err *err, int *rc)
{
	struct bs_manifest m, r;
	char *h, *j, *p, *nj;
	size_t hl, jl;

	build(&m);
	bs_manifest_header_json(&m, &h, &hl, err);
	bs_manifest_json(&m, &j, &jl, err);
	bs_manifest_init(&r);
	bs_manifest_parse_header(&r, h, hl, err);
	p = strstr(j, from);
	CHECK(p != NULL);
	nj = malloc(jl + strlen(to) + 1);
	if (p) {
		memcpy(nj, j, (size_t)(p - j));
		strcpy(nj + (p - j), to);
		strcat(nj, p + strlen(from));
	} else {
		strcpy(nj, j);
	}
	bs_err_clear(err);
	*rc = bs_manifest_parse(&r, nj, strlen(nj), err);
	free(h);
	free(j);
	free(nj);
	bs_manifest_release(&m);
	bs_manifest_release(&r);
}

TEST(parse_errors_name_the_field)
{
	struct bs_err err;
	int rc;

	bs_err_init(&err);
	manifest_edit("\"rows\": 4", "\"rows\": \"4\"", &err, &rc);
	CHECK_INT(rc, -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK(strstr(err.msg, "manifest.json") != NULL);
	CHECK(strstr(err.msg, "tables[0].rows") != NULL);

	manifest_edit("\"zbytes\": 101", "\"zbytes\": -1", &err, &rc);
	CHECK_INT(rc, -1);
	CHECK(strstr(err.msg, "tables[0].chunks[1].zbytes") != NULL);

	manifest_edit("\"is_called\": true", "\"is_called\": 1", &err, &rc);
	CHECK_INT(rc, -1);
	CHECK(strstr(err.msg, "sequences[0].is_called") != NULL);

	manifest_edit("\"oid\": 16400", "\"oidx\": 16400", &err, &rc);
	CHECK_INT(rc, -1);
	CHECK(strstr(err.msg, "blobs.items[0].oid") != NULL);
	CHECK(strstr(err.msg, "missing") != NULL);

	manifest_edit("\"format\": \"backstop-manifest\"", "\"format\": \"zip\"", &err, &rc);
	CHECK_INT(rc, -1);
	CHECK(strstr(err.msg, "'format'") != NULL);

	manifest_edit("\"version\": 3", "\"version\": 4", &err, &rc);
	CHECK_INT(rc, -1);
	CHECK(strstr(err.msg, "unsupported") != NULL);

	manifest_edit("\"no\": 2", "\"no\": 7", &err, &rc);
	CHECK_INT(rc, -1);
	CHECK(strstr(err.msg, "table number 7") != NULL);

	manifest_edit("\"tables\": [", "\"tables\": [ {\"no\": 1} ,", &err, &rc);
	CHECK_INT(rc, -1);

	manifest_edit("\"id\": \"20261123T021500Z-3fa9c1\"", "\"id\": \"other\"", &err, &rc);
	CHECK_INT(rc, -1);
	CHECK(strstr(err.msg, "differs") != NULL);

	/* a chunk digest that does not add up to the table digest */
	manifest_edit("\"seq\": 1,\n     \"rows\": 1,\n     \"digest\": \"",
		      "\"seq\": 1,\n     \"rows\": 1,\n     \"digest\": \"1", &err, &rc);
	CHECK_INT(rc, -1);
	CHECK(strstr(err.msg, "digest") != NULL);

	manifest_edit("\"chunks\": 3", "\"chunks\": 4", &err, &rc);
	CHECK_INT(rc, -1);
	CHECK(strstr(err.msg, "totals.chunks") != NULL);
}

TEST(header_parse_errors)
{
	struct bs_manifest m;
	struct bs_err err;
	const char *bad_json = "{\"format\": \"backstop-snapshot\", ";
	const char *bad_col =
		"{\"format\":\"backstop-snapshot\",\"version\":1,\"id\":\"x\",\"database\":\"d\","
		"\"encoding\":\"UTF8\",\"server_version\":\"15.1\",\"server_version_num\":150001,"
		"\"start\":\"s\",\"tables\":[{\"no\":1,\"schema\":\"s\",\"name\":\"n\",\"columns\":[\"a\",3]}]}";
	const char *dup =
		"{\"format\":\"backstop-snapshot\",\"version\":1,\"id\":\"x\",\"database\":\"d\","
		"\"encoding\":\"UTF8\",\"server_version\":\"15.1\",\"server_version_num\":150001,"
		"\"start\":\"s\",\"tables\":[{\"no\":1,\"schema\":\"s\",\"name\":\"n\",\"columns\":[]},"
		"{\"no\":1,\"schema\":\"s\",\"name\":\"m\",\"columns\":[]}]}";

	bs_err_init(&err);
	bs_manifest_init(&m);
	CHECK_INT(bs_manifest_parse_header(&m, bad_json, strlen(bad_json), &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK(strstr(err.msg, "backstop.json") != NULL);
	CHECK(strstr(err.msg, "line") != NULL);
	CHECK_INT(bs_manifest_parse_header(&m, bad_col, strlen(bad_col), &err), -1);
	CHECK(strstr(err.msg, "tables[0].columns[1]") != NULL);
	CHECK_INT(bs_manifest_parse_header(&m, dup, strlen(dup), &err), -1);
	CHECK(strstr(err.msg, "tables[1].no") != NULL);
	CHECK_INT(m.ntables, 0);
	bs_manifest_release(&m);
}

TEST(missing_table_in_manifest)
{
	struct bs_manifest m, r;
	struct bs_err err;
	char *h, *j;
	size_t hl, jl;

	bs_err_init(&err);
	build(&m);
	bs_manifest_header_json(&m, &h, &hl, &err);
	/* a 4th table only in the header */
	bs_manifest_add_table(&m, 4, "public", "extra", NULL, 0);
	free(h);
	bs_manifest_header_json(&m, &h, &hl, &err);
	m.ntables = 3; /* manifest without it */
	bs_manifest_json(&m, &j, &jl, &err);
	m.ntables = 4;
	bs_manifest_init(&r);
	CHECK_INT(bs_manifest_parse_header(&r, h, hl, &err), 0);
	CHECK_INT(bs_manifest_parse(&r, j, jl, &err), -1);
	CHECK(strstr(err.msg, "extra") != NULL);
	free(h);
	free(j);
	bs_manifest_release(&m);
	bs_manifest_release(&r);
}

TEST(invalid_utf8_name_is_an_error)
{
	struct bs_manifest m;
	struct bs_err err;
	const char *cols[] = { "ok" };
	char *h = NULL;
	size_t hl;

	bs_err_init(&err);
	bs_manifest_init(&m);
	m.id = strdup("x");
	bs_manifest_add_table(&m, 1, "public", "bad\xff", cols, 1);
	CHECK_INT(bs_manifest_header_json(&m, &h, &hl, &err), -1);
	CHECK(strstr(err.msg, "UTF-8") != NULL);
	CHECK(h == NULL);
	bs_manifest_release(&m);
}

TEST(unpopulated_matviews_in_header)
{
	struct bs_manifest m, h;
	struct bs_err err;
	char *json = NULL;
	size_t len = 0;

	build(&m);
	CHECK(bs_manifest_add_unpopulated(&m, "app", "later \"mv\"") == 0);
	bs_err_init(&err);
	CHECK(bs_manifest_header_json(&m, &json, &len, &err) == 0);
	bs_manifest_init(&h);
	CHECK(bs_manifest_parse_header(&h, json, len, &err) == 0);
	CHECK_INT(h.nunpopulated, 1);
	CHECK(bs_manifest_is_unpopulated(&h, "app", "later \"mv\""));
	CHECK(!bs_manifest_is_unpopulated(&h, "app", "later"));
	free(json);
	bs_manifest_release(&h);
	/* an archive without the key (older writer): nothing is unpopulated */
	bs_manifest_init(&h);
	m.nunpopulated = 0;
	CHECK(bs_manifest_header_json(&m, &json, &len, &err) == 0);
	CHECK(strstr(json, "unpopulated_matviews") == NULL);
	CHECK(bs_manifest_parse_header(&h, json, len, &err) == 0);
	CHECK_INT(h.nunpopulated, 0);
	m.nunpopulated = 1;
	free(json);
	bs_manifest_release(&h);
	bs_manifest_release(&m);
}

TEST(member_names)
{
	char buf[64];
	uint32_t a, b;

	bs_member_chunk_name(buf, 1, 0);
	CHECK_STR(buf, "data/000001/000000.copy.zst");
	CHECK_INT(bs_member_parse_chunk(buf, &a, &b), 0);
	CHECK_INT(a, 1);
	CHECK_INT(b, 0);
	bs_member_chunk_name(buf, 1234567, 7654321);
	CHECK_INT(bs_member_parse_chunk(buf, &a, &b), 0);
	CHECK_INT(a, 1234567);
	CHECK_INT(b, 7654321);
	bs_member_blob_name(buf, 16400, 3);
	CHECK_STR(buf, "blobs/16400/000003.zst");
	CHECK_INT(bs_member_parse_blob(buf, &a, &b), 0);
	CHECK_INT(a, 16400);
	CHECK_INT(b, 3);
	CHECK_INT(bs_member_parse_chunk("data/000001/000000.copy.zst.x", &a, &b), -1);
	CHECK_INT(bs_member_parse_chunk("data//000000.copy.zst", &a, &b), -1);
	CHECK_INT(bs_member_parse_chunk("data/99999999999/0.copy.zst", &a, &b), -1);
	CHECK_INT(bs_member_parse_chunk("blobs/1/000000.zst", &a, &b), -1);
	CHECK_INT(bs_member_parse_blob("blobs/acl.sql", &a, &b), -1);
	CHECK_INT(bs_member_parse_blob("data/000001/000000.copy.zst", &a, &b), -1);
}

/* Archives of format version 1 (no globals.json) are still read; version 2
 * carries globals.json's size and SHA-256 in header and manifest. */
TEST(version_1_and_globals_digest)
{
	static const char v1h[] =
		"{\"format\":\"backstop-snapshot\",\"version\":1,\"id\":\"x\",\"database\":\"d\","
		"\"encoding\":\"UTF8\",\"server_version\":\"15.1\",\"server_version_num\":150001,"
		"\"start\":\"s\",\"tables\":[]}";
	static const char v1m[] =
		"{\"format\":\"backstop-manifest\",\"version\":1,\"id\":\"x\",\"end\":\"e\",\"tables\":[],"
		"\"sequences\":[],\"blobs\":{\"count\":0,\"bytes\":0,"
		"\"digest\":\"00000000000000000000000000000000\",\"items\":[]},\"inventory\":[],"
		"\"totals\":{\"rows\":0,\"bytes\":0,\"chunks\":0}}";
	/* sha256("{}\n") */
	static const unsigned char md[32] = { 0xca, 0x3d, 0x16, 0x3b, 0xab, 0x05, 0x53, 0x81, 0x82, 0x72, 0x26, 0x14, 0x05, 0x68, 0xf3, 0xbe, 0xf7, 0xea, 0xac, 0x18, 0x7c, 0xeb, 0xd7, 0x68, 0x78, 0xe0, 0xb6, 0x3e, 0x9e, 0x44, 0x23, 0x56 };
	struct bs_manifest m, r;
	struct bs_err err;
	char *h = NULL, *j = NULL;
	size_t hl, jl;

	bs_err_init(&err);
	bs_manifest_init(&m);
	CHECK_INT(bs_manifest_parse_header(&m, v1h, strlen(v1h), &err), 0);
	CHECK_INT(m.version, 1);
	CHECK_INT(bs_manifest_parse(&m, v1m, strlen(v1m), &err), 0);
	CHECK_INT(m.has_globals, 0);
	CHECK_INT(bs_manifest_check_globals(&m, "{}\n", 3, &err), -1);
	bs_manifest_release(&m);

	build(&m);
	bs_manifest_set_globals(&m, 3, md);
	CHECK_INT(bs_mtable_set_extension(&m.tables[0], "ext", " WHERE NOT standard"), 0);
	CHECK_INT(bs_manifest_header_json(&m, &h, &hl, &err), 0);
	CHECK_INT(bs_manifest_json(&m, &j, &jl, &err), 0);
	bs_manifest_init(&r);
	CHECK_INT(bs_manifest_parse_header(&r, h, hl, &err), 0);
	CHECK_INT(r.version, BS_FORMAT_VERSION);
	CHECK_INT(r.has_globals, 1);
	CHECK_STR(r.tables[0].extension, "ext");
	CHECK_STR(r.tables[0].filter, "NOT standard");
	CHECK(r.tables[1].extension == NULL);
	CHECK_INT(bs_manifest_check_globals(&r, "{}\n", 3, &err), 0);
	CHECK_INT(bs_manifest_check_globals(&r, "{ }", 3, &err), -1);
	CHECK(strstr(err.msg, "digest") != NULL);
	CHECK_INT(bs_manifest_parse(&r, j, jl, &err), 0);
	bs_manifest_release(&r);
	/* a manifest whose globals digest differs from the header's */
	{
		char *p = strstr(j, "\"sha256\": \"ca3d");
		CHECK(p != NULL);
		if (p)
			p[11] = 'd';
		bs_manifest_init(&r);
		CHECK_INT(bs_manifest_parse_header(&r, h, hl, &err), 0);
		CHECK_INT(bs_manifest_parse(&r, j, jl, &err), -1);
		CHECK(strstr(err.msg, "globals") != NULL);
		bs_manifest_release(&r);
	}
	free(h);
	free(j);
	bs_manifest_release(&m);
}

int main(void)
{
	RUN(version_1_and_globals_digest);
	RUN(roundtrip_header_and_manifest);
	RUN(parse_errors_name_the_field);
	RUN(header_parse_errors);
	RUN(missing_table_in_manifest);
	RUN(invalid_utf8_name_is_an_error);
	RUN(unpopulated_matviews_in_header);
	RUN(member_names);
	return DONE();
}
