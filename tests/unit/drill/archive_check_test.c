/* archive_check_test.c - lib/drill/archive_check.c: a good archive passes,
 * and a table of damaged archives each fails with the cause named. */
#include <stdlib.h>
#include <string.h>

#include "archive/chunk.h"
#include "archive/manifest.h"
#include "archive/tar.h"
#include "drill/drill.h"
#include "harness.h"

/* what to break while building */
enum damage {
	D_NONE,
	D_FLIP,            /* flip a byte inside a data chunk's payload */
	D_TRUNCATE,        /* cut the archive short */
	D_MISSING_CHUNK,   /* leave a chunk member out */
	D_EXTRA_MEMBER,    /* add a member that is no part of an archive */
	D_EXTRA_CHUNK,     /* add a chunk of a table the manifest does not have */
	D_ROWS,            /* manifest: a chunk and its table claim one row more */
	D_DIGEST,          /* manifest: a chunk and its table claim another digest */
	D_NO_MANIFEST,     /* archive ends (cleanly) without manifest.json */
	D_BLOB_MISSING,    /* a large object's chunk left out */
	D_DUP_CHUNK,       /* a chunk member twice */
	D_BAD_MANIFEST,    /* manifest.json that does not add up */
	D_ROW_SPLIT,       /* (not damage) rows longer than a decompression piece */
};

struct built {
	char *buf;
	size_t len;
};

static int add_chunk(struct bs_tar_writer *w, struct bs_manifest *m, struct bs_mtable *t, uint32_t seq,
		     const char *rows, int write_member, enum damage dmg, int flip_this, struct bs_err *err)
{
	struct bs_chunk_compressor *c = bs_chunk_compressor_new(3);
	struct bs_mchunk mc;
	const void *z;
	size_t zlen;
	char name[64], *copy;
	int rc;

	memset(&mc, 0, sizeof(mc));
	bs_digest_init(&mc.digest);
	bs_digest_add_payload(&mc.digest, rows, strlen(rows));
	bs_chunk_add(c, rows, strlen(rows), err);
	bs_chunk_finish(c, &z, &zlen, err);
	mc.seq = seq;
	mc.rows = mc.digest.rows;
	mc.zbytes = zlen;
	mc.raw_bytes = strlen(rows);
	bs_mtable_add_chunk(t, &mc);
	t->rows += mc.rows;
	t->raw_bytes += mc.raw_bytes;
	bs_digest_merge(&t->digest, &mc.digest);
	(void)m;
	bs_member_chunk_name(name, t->no, seq);
	copy = malloc(zlen);
	memcpy(copy, z, zlen);
	if (dmg == D_FLIP && flip_this)
		copy[zlen / 2] ^= 0x20;
	rc = 0;
	if (write_member) {
		rc = bs_tar_write_member(w, name, copy, zlen, NULL, 1700000000, err);
		if (dmg == D_DUP_CHUNK && flip_this)
			rc |= bs_tar_write_member(w, name, copy, zlen, NULL, 1700000000, err);
	}
	free(copy);
	bs_chunk_compressor_free(c);
	return rc;
}

static char *big_rows(void)
{
	size_t n = 3 * 200 * 1024 + 10, i;
	char *s = malloc(n + 1);

	/* three rows of ~200 KiB each: longer than zstd's output piece */
	for (i = 0; i < n; i++)
		s[i] = (char)('a' + i % 26);
	s[200 * 1024] = '\n';
	s[400 * 1024] = '\n';
	s[n - 1] = '\n';
	s[n] = '\0';
	return s;
}

static struct built build(enum damage dmg)
{
	struct bs_wstream *out = bs_wstream_mem(64 << 20);
	struct bs_tar_writer *w = NULL;
	struct bs_manifest m;
	struct bs_err err;
	struct bs_mtable *t1, *t2;
	const char *cols1[] = { "id", "name" }, *cols2[] = { "k" };
	struct built b = { NULL, 0 };
	char *json = NULL, *big = NULL;
	size_t jlen;
	const void *data;
	struct bs_chunk_compressor *c;
	const void *z;
	size_t zlen;
	struct bs_digest_obj *o;

	bs_err_init(&err);
	bs_manifest_init(&m);
	m.id = strdup("20261123T021500Z-3fa9c1");
	m.database = strdup("app");
	m.encoding = strdup("UTF8");
	m.server_version = strdup("15.18");
	m.server_version_num = 150018;
	m.start = strdup("2026-11-23T02:15:00Z");
	m.end = strdup("2026-11-23T02:16:00Z");
	t1 = bs_manifest_add_table(&m, 1, "public", "accounts", cols1, 2);
	t2 = bs_manifest_add_table(&m, 2, "app", "Odd \"name\"", cols2, 1);
	bs_manifest_add_table(&m, 3, "public", "empty", cols2, 1);
	bs_digest_init(&t1->digest);
	bs_digest_init(&t2->digest);

	bs_tar_writer_new(out, &w, &err);
	bs_manifest_header_json(&m, &json, &jlen, &err);
	bs_tar_write_member(w, BS_MEMBER_HEADER, json, jlen, NULL, 1700000000, &err);
	free(json);
	bs_tar_write_member(w, BS_MEMBER_SCHEMA, "PGDMP-fake-schema", 17, NULL, 1700000000, &err);
	add_chunk(w, &m, t1, 0, "1\talice\n2\tbob\n3\t\\N\n", 1, dmg, 0, &err);
	add_chunk(w, &m, t2, 0, "x\ny\n", 1, dmg, 0, &err);
	add_chunk(w, &m, t1, 1, "4\tcarol\n5\tdave\n", dmg != D_MISSING_CHUNK, dmg, 1, &err);
	if (dmg == D_ROW_SPLIT) {
		big = big_rows();
		add_chunk(w, &m, t2, 1, big, 1, dmg, 0, &err);
		free(big);
	}
	if (dmg == D_EXTRA_CHUNK) {
		c = bs_chunk_compressor_new(3);
		bs_chunk_add(c, "zz\n", 3, &err);
		bs_chunk_finish(c, &z, &zlen, &err);
		bs_tar_write_member(w, "data/000009/000000.copy.zst", z, zlen, NULL, 1700000000, &err);
		bs_chunk_compressor_free(c);
	}
	/* one large object in two chunks */
	c = bs_chunk_compressor_new(3);
	o = bs_digest_obj_begin("16400");
	bs_digest_obj_update(o, "hello ", 6);
	bs_chunk_add(c, "hello ", 6, &err);
	bs_chunk_finish(c, &z, &zlen, &err);
	if (dmg != D_BLOB_MISSING)
		bs_tar_write_member(w, "blobs/16400/000000.zst", z, zlen, "postgres", 1700000000, &err);
	bs_digest_obj_update(o, "world", 5);
	bs_chunk_add(c, "world", 5, &err);
	bs_chunk_finish(c, &z, &zlen, &err);
	bs_tar_write_member(w, "blobs/16400/000001.zst", z, zlen, "postgres", 1700000000, &err);
	bs_chunk_compressor_free(c);
	bs_digest_init(&m.blob_digest);
	bs_digest_obj_end(&m.blob_digest, o);
	bs_manifest_add_blob(&m, 16400, 11, 2);
	m.blob_bytes = 11;
	if (dmg == D_EXTRA_MEMBER)
		bs_tar_write_member(w, "notes.txt", "hi\n", 3, NULL, 1700000000, &err);

	if (dmg == D_ROWS) {
		t1->chunks[1].rows++;
		t1->chunks[1].digest.rows++;
		t1->rows++;
		t1->digest.rows++;
	}
	if (dmg == D_DIGEST) {
		t1->chunks[1].digest.lo++;
		t1->digest.lo++;
	}
	if (dmg == D_BAD_MANIFEST)
		t2->rows += 5;
	if (dmg != D_NO_MANIFEST) {
		bs_manifest_json(&m, &json, &jlen, &err);
		bs_tar_write_member(w, BS_MEMBER_MANIFEST, json, jlen, NULL, 1700000000, &err);
		free(json);
	}
	bs_tar_writer_close(w, &err);
	bs_tar_writer_free(w);
	data = bs_wstream_mem_data(out, &b.len);
	b.buf = malloc(b.len);
	memcpy(b.buf, data, b.len);
	bs_wstream_free(out);
	bs_manifest_release(&m);
	if (dmg == D_TRUNCATE)
		b.len = b.len / 2;
	return b;
}

static struct bs_drill_report rep;

static int check(enum damage dmg, int jobs)
{
	struct built b = build(dmg);
	struct bs_rstream *in = bs_rstream_mem(b.buf, b.len);
	struct bs_manifest m;
	struct bs_err err;
	int rc;

	bs_err_init(&err);
	bs_drill_report_release(&rep);
	bs_drill_report_init(&rep, BS_DRILL_ARCHIVE);
	rc = bs_drill_archive_check(in, NULL, jobs, NULL, &rep, &m, &err);
	bs_manifest_release(&m);
	bs_rstream_free(in);
	free(b.buf);
	return rc;
}

/* some finding mentions all of the given words */
static int has_finding(const char *area, const char *obj, const char *word)
{
	size_t i;

	for (i = 0; i < rep.nfindings; i++) {
		const struct bs_drill_finding *f = &rep.findings[i];
		if (area && strcmp(f->area, area) != 0)
			continue;
		if (obj && (!f->object || !strstr(f->object, obj)))
			continue;
		if (word && !strstr(f->message, word))
			continue;
		return 1;
	}
	return 0;
}

static void dump(void)
{
	size_t i;

	for (i = 0; i < rep.nfindings; i++)
		printf("#   finding: %s %s: %s\n", rep.findings[i].area,
		       rep.findings[i].object ? rep.findings[i].object : "-", rep.findings[i].message);
}

TEST(good_archive_passes)
{
	CHECK_INT(check(D_NONE, 2), 0);
	CHECK_INT(rep.findings_total, 0);
	CHECK_INT(rep.chunks, 3);
	CHECK_INT(rep.rows, 7);
	CHECK_INT(rep.blobs, 1);
	CHECK_INT(rep.ntables, 3);
	CHECK(rep.tables[0].checked && rep.tables[0].ok);
	CHECK_INT(rep.tables[0].rows_actual, 5);
	CHECK(rep.tables[2].checked && rep.tables[2].ok); /* empty table: no chunks */
	CHECK_STR(bs_drill_verdict(&rep), "pass");
	CHECK_INT(bs_drill_exit_code(&rep), 0);
	dump();
}

TEST(good_archive_one_job)
{
	CHECK_INT(check(D_NONE, 1), 0);
	CHECK_INT(rep.findings_total, 0);
	dump();
}

TEST(rows_across_pieces)
{
	CHECK_INT(check(D_ROW_SPLIT, 3), 0);
	CHECK_INT(rep.findings_total, 0);
	CHECK_INT(rep.tables[1].rows_actual, 5);
	dump();
}

TEST(flipped_byte)
{
	CHECK_INT(check(D_FLIP, 2), 0);
	CHECK(has_finding("table", "public.accounts", "corrupt chunk"));
	CHECK(has_finding(NULL, NULL, "data/000001/000001.copy.zst"));
	CHECK_STR(bs_drill_verdict(&rep), "fail");
	CHECK_INT(bs_drill_exit_code(&rep), 1);
	dump();
}

TEST(truncated)
{
	CHECK_INT(check(D_TRUNCATE, 2), 0);
	CHECK(has_finding("archive", NULL, "truncated"));
	CHECK_STR(bs_drill_verdict(&rep), "fail");
	dump();
}

TEST(missing_chunk)
{
	CHECK_INT(check(D_MISSING_CHUNK, 2), 0);
	CHECK(has_finding("table", "public.accounts", "data/000001/000001.copy.zst (2 rows) is missing"));
	CHECK(!rep.tables[0].ok);
	dump();
}

TEST(extra_member)
{
	CHECK_INT(check(D_EXTRA_MEMBER, 2), 0);
	CHECK(has_finding("archive", "notes.txt", "extra member"));
	CHECK_INT(rep.findings_total, 1);
	dump();
}

TEST(extra_chunk)
{
	CHECK_INT(check(D_EXTRA_CHUNK, 2), 0);
	CHECK(has_finding("archive", "data/000009/000000.copy.zst", "table 9 is not in the snapshot"));
	dump();
}

TEST(duplicate_chunk)
{
	CHECK_INT(check(D_DUP_CHUNK, 2), 0);
	CHECK(has_finding("archive", "data/000001/000001.copy.zst", "twice"));
	dump();
}

TEST(manifest_rows_disagree)
{
	CHECK_INT(check(D_ROWS, 2), 0);
	CHECK(has_finding("table", "public.accounts", "holds 2 rows, the manifest says 3"));
	dump();
}

TEST(manifest_digest_disagrees)
{
	CHECK_INT(check(D_DIGEST, 2), 0);
	CHECK(has_finding("table", "public.accounts", "row digest"));
	CHECK_INT(rep.findings_total, 1);
	dump();
}

TEST(manifest_inconsistent)
{
	CHECK_INT(check(D_BAD_MANIFEST, 2), 0);
	CHECK(has_finding("archive", "manifest.json", "do not add up"));
	dump();
}

TEST(no_manifest)
{
	CHECK_INT(check(D_NO_MANIFEST, 2), 0);
	CHECK(has_finding("archive", "manifest.json", "missing"));
	dump();
}

TEST(blob_chunk_missing)
{
	CHECK_INT(check(D_BLOB_MISSING, 2), 0);
	CHECK(has_finding("large object", NULL, "5 bytes, the manifest says 11") ||
	      has_finding("large object", NULL, "starts at chunk 1"));
	dump();
}

TEST(not_an_archive)
{
	struct bs_rstream *in = bs_rstream_mem("hello world, not a tar", 22);
	struct bs_err err;

	bs_err_init(&err);
	bs_drill_report_release(&rep);
	bs_drill_report_init(&rep, BS_DRILL_ARCHIVE);
	CHECK_INT(bs_drill_archive_check(in, NULL, 2, NULL, &rep, NULL, &err), 0);
	CHECK(rep.findings_total >= 1);
	CHECK(has_finding("archive", NULL, NULL));
	bs_rstream_free(in);
	dump();
}

int main(void)
{
	bs_drill_report_init(&rep, BS_DRILL_ARCHIVE);
	RUN(good_archive_passes);
	RUN(good_archive_one_job);
	RUN(rows_across_pieces);
	RUN(flipped_byte);
	RUN(truncated);
	RUN(missing_chunk);
	RUN(extra_member);
	RUN(extra_chunk);
	RUN(duplicate_chunk);
	RUN(manifest_rows_disagree);
	RUN(manifest_digest_disagrees);
	RUN(manifest_inconsistent);
	RUN(no_manifest);
	RUN(blob_chunk_missing);
	RUN(not_an_archive);
	bs_drill_report_release(&rep);
	return DONE();
}
