/* restore_test.c - the restore engine's parts that need no server:
 * option checks, the target name, and walking an archive
 * (bs_restore_read_manifest) with damaged-archive scenarios.  Restores
 * into a real server are tested by tests/integration. */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "archive/chunk.h"
#include "archive/manifest.h"
#include "archive/tar.h"
#include "restore/restore.h"

/* ---- building archives ---- */

enum damage {
	D_NONE,
	D_NO_HEADER,      /* schema.dump first */
	D_NO_SCHEMA,      /* data right after the header */
	D_NO_MANIFEST,    /* ends (cleanly) without manifest.json */
	D_EXTRA,          /* an unknown member */
	D_AFTER_MANIFEST, /* a member after manifest.json */
	D_UNKNOWN_TABLE,  /* a chunk of a table the header does not list */
	D_OTHER_ID,       /* manifest of another snapshot */
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
	c.seq = 0;
	bs_digest_init(&c.digest);
	bs_digest_add_payload(&c.digest, "1\ta\n2\tb\n", 8);
	c.rows = c.digest.rows;
	c.raw_bytes = 8;
	bs_mtable_add_chunk(t, &c);
	bs_digest_merge(&t->digest, &c.digest);
	t->rows = c.rows;
	t->raw_bytes = 8;
}

static void *make_archive(enum damage d, size_t *len)
{
	struct bs_wstream *out = bs_wstream_mem(1 << 20);
	struct bs_tar_writer *w = NULL;
	struct bs_chunk_compressor *cc = bs_chunk_compressor_new(3);
	struct bs_manifest m, other;
	struct bs_err err;
	char *h = NULL, *j = NULL;
	size_t hl = 0, jl = 0, zl = 0;
	const void *z = NULL, *data;
	void *copy;

	bs_err_init(&err);
	fill(&m, "20261123T021500Z-3fa9c1");
	fill(&other, "20261124T021500Z-000000");
	CHECK_INT(bs_manifest_header_json(&m, &h, &hl, &err), 0);
	CHECK_INT(bs_manifest_json(d == D_OTHER_ID ? &other : &m, &j, &jl, &err), 0);
	CHECK_INT(bs_chunk_add(cc, "1\ta\n2\tb\n", 8, &err), 0);
	CHECK_INT(bs_chunk_finish(cc, &z, &zl, &err), 0);
	CHECK_INT(bs_tar_writer_new(out, &w, &err), 0);
	if (d != D_NO_HEADER)
		bs_tar_write_member(w, BS_MEMBER_HEADER, h, hl, NULL, 1700000000, &err);
	if (d != D_NO_SCHEMA)
		bs_tar_write_member(w, BS_MEMBER_SCHEMA, "PGDMP", 5, NULL, 1700000000, &err);
	bs_tar_write_member(w, "data/000001/000000.copy.zst", z, zl, NULL, 1700000000, &err);
	if (d == D_UNKNOWN_TABLE)
		bs_tar_write_member(w, "data/000007/000000.copy.zst", z, zl, NULL, 1700000000, &err);
	if (d == D_EXTRA)
		bs_tar_write_member(w, "notes.txt", "hi", 2, NULL, 1700000000, &err);
	if (d != D_NO_MANIFEST)
		bs_tar_write_member(w, BS_MEMBER_MANIFEST, j, jl, NULL, 1700000000, &err);
	if (d == D_AFTER_MANIFEST)
		bs_tar_write_member(w, "data/000001/000001.copy.zst", z, zl, NULL, 1700000000, &err);
	CHECK_INT(bs_tar_writer_close(w, &err), 0);
	bs_tar_writer_free(w);
	bs_chunk_compressor_free(cc);
	data = bs_wstream_mem_data(out, len);
	copy = malloc(*len);
	memcpy(copy, data, *len);
	bs_wstream_free(out);
	bs_manifest_release(&m);
	bs_manifest_release(&other);
	free(h);
	free(j);
	return copy;
}

static int read_manifest(const void *buf, size_t len, struct bs_manifest *m, struct bs_err *err)
{
	struct bs_rstream *in = bs_rstream_mem(buf, len);
	int rc = bs_restore_read_manifest(in, NULL, m, err);

	bs_rstream_free(in);
	return rc;
}

TEST(read_manifest_ok)
{
	struct bs_manifest m;
	struct bs_err err;
	size_t len;
	void *a = make_archive(D_NONE, &len);

	bs_err_init(&err);
	CHECK_INT(read_manifest(a, len, &m, &err), 0);
	CHECK(m.has_manifest);
	CHECK_STR(m.id, "20261123T021500Z-3fa9c1");
	CHECK_INT(m.ntables, 1);
	CHECK_INT(m.tables[0].rows, 2);
	bs_manifest_release(&m);
	free(a);
}

/* Every damaged archive fails with BS_ERR_FORMAT and a message naming the
 * problem. */
static const struct {
	const char *name;
	enum damage d;
	const char *msg;
} damaged[] = {
	{ "no header", D_NO_HEADER, "not a backstop archive" },
	{ "no schema", D_NO_SCHEMA, "where schema.dump was expected" },
	{ "no manifest", D_NO_MANIFEST, "manifest.json missing" },
	{ "extra member", D_EXTRA, "unexpected member 'notes.txt'" },
	{ "member after manifest", D_AFTER_MANIFEST, "after manifest.json" },
	{ "unknown table", D_UNKNOWN_TABLE, "table 7 is not in backstop.json" },
	{ "other snapshot's manifest", D_OTHER_ID, "differs" },
};

static void run_damaged(size_t i)
{
	struct bs_manifest m;
	struct bs_err err;
	size_t len;
	void *a = make_archive(damaged[i].d, &len);

	bs_err_init(&err);
	CHECK_INT(read_manifest(a, len, &m, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	if (!strstr(err.msg, damaged[i].msg))
		printf("#   message: %s\n", err.msg);
	CHECK(strstr(err.msg, damaged[i].msg) != NULL);
	bs_manifest_release(&m);
	free(a);
}

static size_t cur_damage;
static void test_damaged(void)
{
	run_damaged(cur_damage);
}

TEST(read_manifest_truncated_everywhere)
{
	struct bs_manifest m;
	struct bs_err err;
	size_t len, cut;
	void *a = make_archive(D_NONE, &len);

	/* a cut anywhere (tar blocks are 512 bytes) is an error, never success */
	for (cut = 0; cut < len; cut += 256) {
		bs_err_init(&err);
		CHECK_INT(read_manifest(a, cut, &m, &err), -1);
		CHECK_INT(err.code, BS_ERR_FORMAT);
		bs_manifest_release(&m);
	}
	free(a);
}

/* ---- options: refused before anything is read or connected ---- */

static int run_opts(const struct bs_restore_opts *o, struct bs_err *err)
{
	struct bs_restore_result res;
	size_t len;
	void *a = make_archive(D_NONE, &len);
	struct bs_rstream *in = bs_rstream_mem(a, len);
	int rc;

	bs_restore_result_init(&res);
	rc = bs_restore_run(o, in, &res, err);
	bs_restore_result_release(&res);
	bs_rstream_free(in);
	free(a);
	return rc;
}

TEST(options_conflicts)
{
	struct bs_restore_opts o;
	struct bs_err err;

	memset(&o, 0, sizeof(o));
	o.target = "host=/nonexistent dbname=x";
	o.create = 1;
	o.data_only = 1;
	CHECK_INT(run_opts(&o, &err), -1);
	CHECK_INT(err.code, BS_ERR_USAGE);
	CHECK(strstr(err.msg, "--create") && strstr(err.msg, "--data-only"));

	memset(&o, 0, sizeof(o));
	o.target = "host=/nonexistent dbname=x";
	o.schema_only = o.data_only = 1;
	CHECK_INT(run_opts(&o, &err), -1);
	CHECK_INT(err.code, BS_ERR_USAGE);

	memset(&o, 0, sizeof(o));
	o.target = "host=/nonexistent dbname=x";
	o.clean = o.data_only = 1;
	CHECK_INT(run_opts(&o, &err), -1);
	CHECK_INT(err.code, BS_ERR_USAGE);

	memset(&o, 0, sizeof(o));
	o.target = "host=/nonexistent dbname=x";
	o.clean = o.create = 1;
	CHECK_INT(run_opts(&o, &err), -1);
	CHECK_INT(err.code, BS_ERR_USAGE);
}

TEST(options_bad_table_filter)
{
	static const char *tables[] = { "public.accounts", "a.b.c", NULL };
	struct bs_restore_opts o;
	struct bs_err err;

	memset(&o, 0, sizeof(o));
	o.target = "host=/nonexistent dbname=x";
	o.tables = tables;
	CHECK_INT(run_opts(&o, &err), -1);
	CHECK_INT(err.code, BS_ERR_USAGE);
	CHECK(strstr(err.msg, "'a.b.c'") != NULL);
}

TEST(target_names_a_database)
{
	struct bs_restore_opts o;
	struct bs_err err;

	unsetenv("PGDATABASE");
	unsetenv("PGUSER");
	memset(&o, 0, sizeof(o));
	o.target = "host=/nonexistent";
	CHECK_INT(run_opts(&o, &err), -1);
	CHECK_INT(err.code, BS_ERR_USAGE);
	CHECK(strstr(err.msg, "names no database") != NULL);

	o.target = "host=/nonexistent dbname='unterminated";
	CHECK_INT(run_opts(&o, &err), -1);
	CHECK_INT(err.code, BS_ERR_CONFIG);

	o.target = "postgresql:///restored%20db?host=/nonexistent";
	CHECK_INT(run_opts(&o, &err), -1);
	/* gets as far as connecting: the name was found */
	CHECK_INT(err.code, BS_ERR_PG_CONNECT);
	CHECK(strstr(err.msg, "restored db") != NULL);
}

TEST(not_an_archive_before_connecting)
{
	struct bs_restore_opts o;
	struct bs_restore_result res;
	struct bs_err err;
	struct bs_rstream *in = bs_rstream_mem("this is not a tar archive at all\n", 33);

	memset(&o, 0, sizeof(o));
	o.target = "host=/nonexistent dbname=x";
	o.create = 1;
	bs_restore_result_init(&res);
	CHECK_INT(bs_restore_run(&o, in, &res, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK(strstr(err.msg, "not a backstop archive") != NULL);
	CHECK_STR(res.database, "x");
	CHECK_INT(res.created, 0);
	bs_restore_result_release(&res);
	bs_rstream_free(in);
}

int main(void)
{
	size_t i;

	RUN(read_manifest_ok);
	for (i = 0; i < sizeof(damaged) / sizeof(damaged[0]); i++) {
		char name[96];
		snprintf(name, sizeof(name), "read_manifest_damaged: %s", damaged[i].name);
		cur_damage = i;
		RUN_NAMED(name, test_damaged);
	}
	RUN(read_manifest_truncated_everywhere);
	RUN(options_conflicts);
	RUN(options_bad_table_filter);
	RUN(target_names_a_database);
	RUN(not_an_archive_before_connecting);
	return DONE();
}
