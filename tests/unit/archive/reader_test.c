/* reader_test.c - the archive reader (archive/reader.h): one table of
 * damaged and substituted archives, each read in strict mode (restore: an
 * error naming the problem) and in verifier mode (verify-restore: a note
 * naming it), against what the catalog record says. */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "archive/chunk.h"
#include "archive/manifest.h"
#include "archive/reader.h"
#include "archive/tar.h"
#include "common/hash.h"

#define ID "20261123T021500Z-3fa9c1"
#define OTHER_ID "20261124T021500Z-000000"
#define T0 1700000000

enum damage {
	D_NONE,
	D_TRUNCATED,      /* cut in the middle of the data */
	D_FLIP_HEADER,    /* a byte of backstop.json */
	D_FLIP_SCHEMA,    /* a byte of schema.dump */
	D_FLIP_ACL,       /* a byte of blobs/acl.sql */
	D_FLIP_MANIFEST,  /* a byte of manifest.json (still valid JSON) */
	D_NO_SCHEMA,      /* schema.dump missing */
	D_NO_MANIFEST,    /* the archive ends after the data */
	D_EXTRA,          /* an unknown member among the data */
	D_REORDERED,      /* a chunk after manifest.json */
	D_OTHER,          /* another snapshot's archive */
	D_APPENDED,       /* bytes after the end of the archive */
	D_STORED,         /* the record's archive digest differs */
	/* table end members (format version 3) */
	D_END_COUNT,      /* says 2 chunks, 1 came before it */
	D_END_EARLY,      /* a chunk of the table after its end member */
	D_END_MANIFEST,   /* says 2 chunks, and 2 came, but the manifest lists 1 */
	D_END_UNKNOWN,    /* of a table not in the header */
	D_END_DUP,        /* twice */
	D_END_BAD,        /* not the JSON it should be */
	D_END_NONE,       /* (not damage) no end member at all: read as before version 3 */
};

struct built {
	void *buf;
	size_t len;
	struct bs_archive_expect x;
};

static void fill(struct bs_manifest *m, const char *id)
{
	static const char *cols[] = { "id", "name" };
	struct bs_mtable *t;
	struct bs_mchunk c;

	bs_manifest_init(m);
	m->id = strdup(id);
	m->database = strdup("app");
	m->encoding = strdup("UTF8");
	m->server_version = strdup("15.18");
	m->server_version_num = 150018;
	m->start = strdup("2026-11-23T02:15:00Z");
	m->end = strdup("2026-11-23T02:16:12Z");
	t = bs_manifest_add_table(m, 1, "public", "accounts", cols, 2);
	memset(&c, 0, sizeof(c));
	bs_digest_init(&c.digest);
	bs_digest_add_payload(&c.digest, "1\ta\n2\tb\n", 8);
	c.rows = c.digest.rows;
	c.raw_bytes = 8;
	bs_mtable_add_chunk(t, &c);
	bs_digest_merge(&t->digest, &c.digest);
	t->rows = c.rows;
	t->raw_bytes = 8;
}

static void member_digest(struct bs_manifest *m, enum bs_mm k, const void *buf, size_t len)
{
	struct bs_err err;

	bs_err_init(&err);
	CHECK_INT(bs_sha256(buf, len, m->members[k].sha256, &err), 0);
	m->members[k].bytes = len;
	m->members[k].has = 1;
}

static void flip_in(unsigned char *a, size_t len, const char *needle, size_t nlen)
{
	unsigned char *p = memmem(a, len, needle, nlen);

	CHECK(p != NULL);
	if (p)
		p[nlen - 1] ^= 0x01;
}

/* The table's end member (format version 3), as damage d wants it. */
static void end_members(struct bs_tar_writer *w, enum damage d, struct bs_err *err)
{
	const char *body = d == D_END_COUNT || d == D_END_MANIFEST ? "{\"chunks\": 2}\n"
			   : d == D_END_BAD				 ? "{\"count\": 1}\n"
									 : "{\"chunks\": 1}\n";

	if (d == D_END_NONE)
		return;
	bs_tar_write_member(w, d == D_END_UNKNOWN ? "data/000009/end.json" : "data/000001/end.json", body,
			    strlen(body), NULL, T0, err);
	if (d == D_END_DUP)
		bs_tar_write_member(w, "data/000001/end.json", body, strlen(body), NULL, T0, err);
}

/* An archive of snapshot ID (or OTHER_ID) and the expectations its record gives. */
static void build(enum damage d, struct built *b)
{
	static const char schema[] = "PGDMP\x01 schema of the database, constraint v_not_empty";
	static const char acl[] = "GRANT SELECT ON LARGE OBJECT 16400 TO reader;\n";
	struct bs_wstream *out = bs_wstream_mem(1 << 20);
	struct bs_tar_writer *w = NULL;
	struct bs_chunk_compressor *cc = bs_chunk_compressor_new(3);
	struct bs_manifest m;
	struct bs_err err;
	char *h = NULL, *j = NULL;
	size_t hl = 0, jl = 0, zl = 0, len;
	const void *z = NULL, *data;

	bs_err_init(&err);
	fill(&m, d == D_OTHER ? OTHER_ID : ID);
	CHECK_INT(bs_manifest_header_json(&m, &h, &hl, &err), 0);
	member_digest(&m, BS_MM_HEADER, h, hl);
	member_digest(&m, BS_MM_SCHEMA, schema, sizeof(schema) - 1);
	member_digest(&m, BS_MM_BLOB_ACL, acl, sizeof(acl) - 1);
	CHECK_INT(bs_manifest_json(&m, &j, &jl, &err), 0);
	CHECK_INT(bs_chunk_add(cc, "1\ta\n2\tb\n", 8, &err), 0);
	CHECK_INT(bs_chunk_finish(cc, &z, &zl, &err), 0);

	/* the record of ID: what the untouched archive is */
	bs_archive_expect_init(&b->x);
	b->x.what = "archives/" ID ".tar";
	b->x.id = ID;
	b->x.database = "app";
	b->x.tables = 1;
	b->x.chunks = 1;
	b->x.has_digests = 1;
	if (d != D_OTHER) {
		memcpy(b->x.header_sha256, m.members[BS_MM_HEADER].sha256, 32);
		memcpy(b->x.schema_sha256, m.members[BS_MM_SCHEMA].sha256, 32);
		CHECK_INT(bs_sha256(j, jl, b->x.manifest_sha256, &err), 0);
	}

	CHECK_INT(bs_tar_writer_new(out, &w, &err), 0);
	bs_tar_write_member(w, BS_MEMBER_HEADER, h, hl, NULL, T0, &err);
	if (d != D_NO_SCHEMA)
		bs_tar_write_member(w, BS_MEMBER_SCHEMA, schema, sizeof(schema) - 1, NULL, T0, &err);
	bs_tar_write_member(w, "data/000001/000000.copy.zst", z, zl, NULL, T0, &err);
	if (d == D_END_MANIFEST)
		bs_tar_write_member(w, "data/000001/000001.copy.zst", z, zl, NULL, T0, &err);
	end_members(w, d, &err);
	if (d == D_END_EARLY)
		bs_tar_write_member(w, "data/000001/000001.copy.zst", z, zl, NULL, T0, &err);
	if (d == D_EXTRA)
		bs_tar_write_member(w, "notes.txt", "hi", 2, NULL, T0, &err);
	bs_tar_write_member(w, BS_MEMBER_BLOB_ACL, acl, sizeof(acl) - 1, NULL, T0, &err);
	if (d != D_NO_MANIFEST)
		bs_tar_write_member(w, BS_MEMBER_MANIFEST, j, jl, NULL, T0, &err);
	if (d == D_REORDERED)
		bs_tar_write_member(w, "data/000001/000001.copy.zst", z, zl, NULL, T0, &err);
	CHECK_INT(bs_tar_writer_close(w, &err), 0);
	bs_tar_writer_free(w);
	bs_chunk_compressor_free(cc);
	data = bs_wstream_mem_data(out, &len);
	b->buf = malloc(len + 64);
	memcpy(b->buf, data, len);
	b->len = len;
	bs_wstream_free(out);
	/* the record's size and digest of the archive as stored: the untouched one */
	CHECK_INT(bs_sha256(b->buf, b->len, b->x.archive_sha256, &err), 0);
	b->x.bytes = b->len;
	if (d == D_STORED)
		memset(b->x.archive_sha256, 0xab, 32);

	switch (d) {
	case D_TRUNCATED:
		b->len = 1536 + 512; /* inside the data */
		break;
	case D_FLIP_HEADER:
		flip_in(b->buf, b->len, "\"accounts\"", 10);
		break;
	case D_FLIP_SCHEMA:
		flip_in(b->buf, b->len, "v_not_empty", 11);
		break;
	case D_FLIP_ACL:
		flip_in(b->buf, b->len, "TO reader", 9);
		break;
	case D_FLIP_MANIFEST:
		flip_in(b->buf, b->len, "2026-11-23T02:16:12Z", 20);
		break;
	case D_APPENDED:
		memcpy((char *)b->buf + b->len, "appended", 8);
		b->len += 8;
		break;
	default:
		break;
	}
	bs_manifest_release(&m);
	free(h);
	free(j);
}

/* ---- the two modes ---- */

struct notes {
	char all[4096];
	int n;
};

static int note(void *ud, const char *member, const char *msg)
{
	struct notes *ns = ud;
	size_t l = strlen(ns->all);

	snprintf(ns->all + l, sizeof(ns->all) - l, "[%s] %s\n", member ? member : "-", msg);
	ns->n++;
	return 0;
}

/* Walk the whole archive reading every member; 0, or -1 with err. */
static int walk(struct built *b, struct notes *ns, struct bs_err *err)
{
	const struct bs_sha256_ctx *tap = NULL;
	struct bs_rstream *in = bs_rstream_sha256(bs_rstream_mem(b->buf, b->len), &tap);
	struct bs_areader *ar = NULL;
	struct bs_manifest m;
	int rc = -1;

	bs_manifest_init(&m);
	b->x.stored = tap;
	if (bs_areader_open(in, &b->x, &m, ns ? note : NULL, ns, &ar, err) < 0)
		goto out;
	for (;;) {
		struct bs_amember mem;
		char buf[256];
		ssize_t k;
		int n = bs_areader_next(ar, &mem, err);
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		if (mem.kind == BS_AM_MANIFEST) {
			if (bs_areader_finish(ar, err) < 0)
				goto out;
			break;
		}
		while ((k = bs_areader_read(ar, buf, sizeof(buf), err)) > 0)
			;
		if (k < 0)
			goto out;
	}
	rc = 0;
out:
	bs_areader_free(ar);
	bs_manifest_release(&m);
	bs_rstream_free(in);
	b->x.stored = NULL;
	return rc;
}

static const struct {
	const char *name;
	enum damage d;
	const char *want;      /* in the strict error, and in a note or the verifier's error */
} cases[] = {
	{ "truncated", D_TRUNCATED, "truncated" },
	{ "flipped byte in backstop.json", D_FLIP_HEADER, "'backstop.json'" },
	{ "flipped byte in schema.dump", D_FLIP_SCHEMA, "'schema.dump'" },
	{ "flipped byte in blobs/acl.sql", D_FLIP_ACL, "'blobs/acl.sql'" },
	{ "flipped byte in manifest.json", D_FLIP_MANIFEST, "'manifest.json'" },
	{ "schema.dump missing", D_NO_SCHEMA, "where schema.dump was expected" },
	{ "manifest.json missing", D_NO_MANIFEST, "manifest.json" },
	{ "extra member", D_EXTRA, "unexpected member 'notes.txt'" },
	{ "member after manifest.json", D_REORDERED, "after manifest.json" },
	{ "another snapshot's archive", D_OTHER, "it holds snapshot " OTHER_ID },
	{ "bytes appended", D_APPENDED, "follow the end of the archive" },
	{ "archive digest of the record differs", D_STORED, "SHA-256 in its catalog record" },
	{ "end member miscounts the chunks before it", D_END_COUNT,
	  "'data/000001/end.json' says table public.accounts has 2 chunks, the archive holds 1 before it" },
	{ "chunk after its table's end member", D_END_EARLY,
	  "'data/000001/000001.copy.zst' of table public.accounts comes after the table's end member" },
	{ "end member contradicts the manifest", D_END_MANIFEST,
	  "table public.accounts: archive member 'data/000001/end.json' says 2 chunks, manifest.json lists 1" },
	{ "end member of a table not in the header", D_END_UNKNOWN, "table 9 is not in backstop.json" },
	{ "end member twice", D_END_DUP, "duplicate member 'data/000001/end.json'" },
	{ "end member without a chunk count", D_END_BAD, "field 'chunks' is missing" },
};

TEST(untouched_archive_passes_both_modes)
{
	struct built b;
	struct notes ns;
	struct bs_err err;

	memset(&ns, 0, sizeof(ns));
	bs_err_init(&err);
	build(D_NONE, &b);
	CHECK_INT(walk(&b, NULL, &err), 0);
	if (err.msg[0])
		printf("#   %s\n", err.msg);
	CHECK_INT(walk(&b, &ns, &err), 0);
	CHECK_INT(ns.n, 0);
	free(b.buf);
}

/* The end member reaches the caller with its table and count; an archive
 * without any end member is read as before version 3. */
TEST(table_end_member_is_returned)
{
	struct built b;
	struct notes ns;
	struct bs_err err;
	struct bs_rstream *in;
	struct bs_areader *ar = NULL;
	struct bs_manifest m;
	struct bs_amember mem;
	int n, ends = 0;

	bs_err_init(&err);
	build(D_NONE, &b);
	in = bs_rstream_mem(b.buf, b.len);
	bs_manifest_init(&m);
	CHECK_INT(bs_areader_open(in, NULL, &m, NULL, NULL, &ar, &err), 0);
	CHECK_INT(m.version, BS_FORMAT_VERSION);
	while (ar && (n = bs_areader_next(ar, &mem, &err)) > 0 && mem.kind != BS_AM_MANIFEST) {
		if (mem.kind == BS_AM_TABLE_END) {
			CHECK_INT(mem.a, 1);
			CHECK_INT(mem.b, 1);
			ends++;
		}
	}
	CHECK_INT(ends, 1);
	CHECK_INT(bs_areader_finish(ar, &err), 0);
	bs_areader_free(ar);
	bs_manifest_release(&m);
	bs_rstream_free(in);
	free(b.buf);

	memset(&ns, 0, sizeof(ns));
	build(D_END_NONE, &b);
	CHECK_INT(walk(&b, NULL, &err), 0);
	CHECK_INT(walk(&b, &ns, &err), 0);
	CHECK_INT(ns.n, 0);
	free(b.buf);
}

TEST(every_damage_fails_strict_mode)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct built b;
		struct bs_err err;
		bs_err_init(&err);
		build(cases[i].d, &b);
		if (walk(&b, NULL, &err) == 0) {
			printf("#   %s: accepted\n", cases[i].name);
			CHECK(!"a damaged archive was accepted");
		} else if (!strstr(err.msg, cases[i].want)) {
			printf("#   %s: '%s' lacks '%s'\n", cases[i].name, err.msg, cases[i].want);
			CHECK(!"the error names the problem");
		} else {
			CHECK_INT(err.code, BS_ERR_FORMAT);
		}
		free(b.buf);
	}
}

TEST(every_damage_is_reported_by_the_verifier)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct built b;
		struct notes ns;
		struct bs_err err;
		int rc;
		memset(&ns, 0, sizeof(ns));
		bs_err_init(&err);
		build(cases[i].d, &b);
		rc = walk(&b, &ns, &err);
		/* a note, or (stream damage, a foreign header) the walk's error */
		if (!strstr(ns.all, cases[i].want) && !(rc < 0 && strstr(err.msg, cases[i].want))) {
			printf("#   %s: notes '%s', error '%s' lack '%s'\n", cases[i].name, ns.all, err.msg,
			       cases[i].want);
			CHECK(!"the verifier names the problem");
		}
		free(b.buf);
	}
}

/* The verifier reads on after a problem: an extra member and a flipped
 * schema byte are both reported in one walk. */
TEST(verifier_reads_on)
{
	struct built b;
	struct notes ns;
	struct bs_err err;

	memset(&ns, 0, sizeof(ns));
	bs_err_init(&err);
	build(D_EXTRA, &b);
	flip_in(b.buf, b.len, "v_not_empty", 11);
	CHECK_INT(walk(&b, &ns, &err), 0);
	CHECK(strstr(ns.all, "notes.txt") != NULL);
	CHECK(strstr(ns.all, "'schema.dump'") != NULL);
	CHECK(ns.n >= 3); /* extra member, schema digest, the archive's own digest */
	free(b.buf);
}

int main(void)
{
	RUN(untouched_archive_passes_both_modes);
	RUN(table_end_member_is_returned);
	RUN(every_damage_fails_strict_mode);
	RUN(every_damage_is_reported_by_the_verifier);
	RUN(verifier_reads_on);
	return DONE();
}
