/*
 * seeds.c - writes the parts of the seed corpora that the library itself
 * makes: a small archive (tar, archive), header + manifest + globals
 * (manifest), a snapshot record (catalog_record), a drill record
 * (drill_record), age files encrypted to the CCTV test key and with a cheap
 * passphrase (age_header), and damage scripts (age_stream).
 *
 *   build-fuzz/fuzz/seeds OUTDIR       writes OUTDIR/<target>/seed-*
 *
 * Run by tests/fuzz/make-corpus.sh; the output is committed under
 * tests/fuzz/corpus/.  Everything is deterministic except the age files
 * (random file keys): re-running changes their bytes, not their shape.
 */
#include <errno.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archive/chunk.h"
#include "archive/globals.h"
#include "archive/manifest.h"
#include "archive/tar.h"
#include "catalog/catalog.h"
#include "crypt/age.h"
#include "crypt/age_int.h"
#include "drill/drill.h"

#define CCTV_KEY "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0"
#define T0 1700000000

static const char *outdir;

static void die(const char *what, const struct bs_err *err)
{
	fprintf(stderr, "seeds: %s: %s\n", what, err ? err->msg : strerror(errno));
	exit(1);
}

static void put(const char *target, const char *name, const void *buf, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, target);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		die(path, NULL);
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0)
		die(path, NULL);
}

static void add_chunk(struct bs_tar_writer *w, struct bs_mtable *t, uint32_t seq, const char *rows)
{
	struct bs_chunk_compressor *c = bs_chunk_compressor_new(3);
	struct bs_mchunk mc;
	struct bs_err err;
	const void *z = NULL;
	size_t zlen = 0;
	char name[64];

	bs_err_init(&err);
	memset(&mc, 0, sizeof(mc));
	bs_digest_init(&mc.digest);
	bs_digest_add_payload(&mc.digest, rows, strlen(rows));
	if (!c || bs_chunk_add(c, rows, strlen(rows), &err) < 0 || bs_chunk_finish(c, &z, &zlen, &err) < 0)
		die("compress", &err);
	mc.seq = seq;
	mc.rows = mc.digest.rows;
	mc.zbytes = zlen;
	mc.raw_bytes = strlen(rows);
	bs_mtable_add_chunk(t, &mc);
	t->rows += mc.rows;
	t->raw_bytes += mc.raw_bytes;
	bs_digest_merge(&t->digest, &mc.digest);
	bs_member_chunk_name(name, t->no, seq);
	if (bs_tar_write_member(w, name, z, zlen, NULL, T0, &err) < 0)
		die(name, &err);
	bs_chunk_compressor_free(c);
}

static void add_blob(struct bs_tar_writer *w, struct bs_manifest *m)
{
	struct bs_chunk_compressor *c = bs_chunk_compressor_new(3);
	struct bs_digest_obj *o = bs_digest_obj_begin("16400");
	struct bs_err err;
	const void *z;
	size_t zlen;

	bs_err_init(&err);
	bs_digest_obj_update(o, "hello ", 6);
	bs_chunk_add(c, "hello ", 6, &err);
	bs_chunk_finish(c, &z, &zlen, &err);
	bs_tar_write_member(w, "blobs/16400/000000.zst", z, zlen, "postgres", T0, &err);
	bs_digest_obj_update(o, "world", 5);
	bs_chunk_add(c, "world", 5, &err);
	bs_chunk_finish(c, &z, &zlen, &err);
	if (bs_tar_write_member(w, "blobs/16400/000001.zst", z, zlen, "postgres", T0, &err) < 0)
		die("blob", &err);
	bs_chunk_compressor_free(c);
	bs_digest_init(&m->blob_digest);
	bs_digest_obj_end(&m->blob_digest, o);
	bs_manifest_add_blob(m, 16400, 11, 2);
	m->blob_bytes = 11;
}

static void concat3(char **out, size_t *len, const char *a, size_t na, const char *b, size_t nb,
		    const char *c, size_t nc)
{
	*len = na + 1 + nb + 1 + nc;
	*out = malloc(*len);
	memcpy(*out, a, na);
	(*out)[na] = 0;
	memcpy(*out + na + 1, b, nb);
	(*out)[na + 1 + nb] = 0;
	memcpy(*out + na + 2 + nb, c, nc);
}

/* The archive (and, from the same manifest, the manifest seed). */
static void archive_seeds(void)
{
	static const char globals[] = "{\"roles\":[],\"tablespaces\":[]}\n";
	const char *cols1[] = {"id", "name"}, *cols2[] = {"k"};
	struct bs_wstream *out = bs_wstream_mem(1 << 20);
	struct bs_tar_writer *w = NULL;
	unsigned char sha[32];
	struct bs_manifest m;
	struct bs_mtable *t1, *t2;
	struct bs_err err;
	char *hdr = NULL, *man = NULL, *all;
	size_t hlen = 0, mlen = 0, alen;
	const void *data;

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
	bs_manifest_add_seq(&m, "public", "accounts_id_seq", 5, 1);
	bs_manifest_add_unpopulated(&m, "public", "mv_later");
	bs_manifest_add_inv(&m, "table", "public.accounts", "0123456789abcdef0123456789abcdef");
	bs_manifest_add_inv(&m, "index", "public.accounts_pkey", "fedcba9876543210fedcba9876543210");
	SHA256((const unsigned char *)globals, strlen(globals), sha);
	bs_manifest_set_globals(&m, strlen(globals), sha);

	if (bs_tar_writer_new(out, &w, &err) < 0 || bs_manifest_header_json(&m, &hdr, &hlen, &err) < 0 ||
	    bs_tar_write_member(w, BS_MEMBER_HEADER, hdr, hlen, NULL, T0, &err) < 0 ||
	    bs_tar_write_member(w, BS_MEMBER_GLOBALS_JSON, globals, strlen(globals), NULL, T0, &err) < 0 ||
	    bs_tar_write_member(w, BS_MEMBER_SCHEMA, "PGDMP-fake-schema", 17, NULL, T0, &err) < 0)
		die("archive", &err);
	add_chunk(w, t1, 0, "1\talice\n2\tbob\n3\t\\N\n");
	add_chunk(w, t2, 0, "x\ny\n");
	add_chunk(w, t1, 1, "4\tcarol\n5\tdave\n");
	add_blob(w, &m);
	if (bs_tar_write_member(w, BS_MEMBER_BLOB_ACL, "GRANT SELECT ON LARGE OBJECT 16400 TO app;\n", 43,
				NULL, T0, &err) < 0 ||
	    bs_manifest_json(&m, &man, &mlen, &err) < 0 ||
	    bs_tar_write_member(w, BS_MEMBER_MANIFEST, man, mlen, NULL, T0, &err) < 0 ||
	    bs_tar_writer_close(w, &err) < 0)
		die("archive", &err);
	bs_tar_writer_free(w);
	data = bs_wstream_mem_data(out, &alen);
	put("archive", "seed-small.tar", data, alen);
	put("tar", "seed-small.tar", data, alen);
	bs_wstream_free(out);

	concat3(&all, &alen, hdr, hlen, man, mlen, globals, strlen(globals));
	put("manifest", "seed-v2", all, alen);
	free(all);
	put("manifest", "seed-header-only", hdr, hlen);
	free(hdr);
	free(man);
	bs_manifest_release(&m);
}

static void record_seeds(void)
{
	static char *recipients[] = {"age1cy0su9fwf3gf9mw868g5yut09p6nytfmmnktexz2ya5uqg9vl9sss4euqm"};
	struct bs_snap_record r;
	struct bs_drill_report rep;
	struct bs_err err;
	char *buf;
	size_t len;

	bs_err_init(&err);
	bs_snap_record_init(&r);
	snprintf(r.id, sizeof(r.id), "20261123T021500Z-3fa9c1");
	r.database = "app";
	r.server_version = "15.18";
	r.start = T0;
	r.end = T0 + 60;
	r.duration_ms = 60000;
	r.bytes = 123456;
	r.archive = "archives/20261123T021500Z-3fa9c1.tar.age";
	r.status = "complete";
	r.encrypted = 1;
	r.recipients = recipients;
	r.nrecipients = 1;
	r.tool_version = "0.2.0";
	r.tables = 3;
	r.chunks = 3;
	if (bs_snap_record_to_json(&r, &buf, &len, &err) < 0)
		die("record", &err);
	put("catalog_record", "seed-encrypted.json", buf, len);
	free(buf);
	r.encrypted = 0;
	r.nrecipients = 0;
	r.recipients = NULL;
	r.archive = "archives/20261123T021500Z-3fa9c1.tar";
	if (bs_snap_record_to_json(&r, &buf, &len, &err) < 0)
		die("record", &err);
	put("catalog_record", "seed-plain.json", buf, len);
	free(buf);

	bs_drill_report_init(&rep, BS_DRILL_FULL);
	snprintf(rep.id, sizeof(rep.id), "20261124T030000Z-0a1b2c");
	snprintf(rep.snapshot, sizeof(rep.snapshot), "20261123T021500Z-3fa9c1");
	rep.database = strdup("app");
	rep.start = T0 + 86400;
	rep.end = T0 + 86400 + 90;
	rep.snapshot_start = T0;
	rep.rto_ms = 90000;
	rep.rpo_ms = 86400000;
	snprintf(rep.scratch_db, sizeof(rep.scratch_db), "backstop_drill_20261124030000_0a1b2c");
	bs_drill_report_add(&rep, BS_DRILL_AREA_TABLE, "public.accounts", "row count differs: %d != %d", 5, 4);
	if (bs_drill_record_json(&rep, &buf, &len, &err) < 0)
		die("drill record", &err);
	put("drill_record", "seed-fail.json", buf, len);
	free(buf);
	bs_drill_report_release(&rep);
}

static void age_file(const char *name, struct bs_age_recipients *r, const void *plain, size_t n)
{
	struct bs_wstream *mem = bs_wstream_mem(1 << 20), *enc;
	struct bs_err err;
	const void *data;
	size_t len;

	bs_err_init(&err);
	enc = bs_age_encrypt_new(mem, r, &err);
	if (!enc || bs_wstream_write(enc, plain, n, &err) < 0 || bs_wstream_finish(enc, &err) < 0)
		die(name, &err);
	data = bs_wstream_mem_data(mem, &len);
	put("age_header", name, data, len);
	bs_wstream_free(enc);
}

static void age_seeds(void)
{
	struct bs_age_recipients *r = bs_age_recipients_new(), *rp = bs_age_recipients_new();
	struct bs_err err;
	char *pub = NULL;
	/* age_stream: length (3 bytes LE), op count, ops (kind + 4 bytes), pattern */
	static const uint8_t s_clean[] = {0x20, 0x00, 0x00, 0x00, 'a', 'b', 'c'};
	static const uint8_t s_two_chunks[] = {0x10, 0x00, 0x01, 0x00, 'x', 'y'};
	static const uint8_t s_flip[] = {0x00, 0x01, 0x00, 0x01, 0, 0xc8, 0x00, 0x00, 0x40, 'p'};
	static const uint8_t s_trunc[] = {0x00, 0x00, 0x02, 0x01, 1, 0x00, 0x80, 0x00, 0x00, 'q', 'r'};
	static const uint8_t s_swap[] = {0x00, 0x00, 0x03, 0x02, 4, 0x00, 0x00, 0x01, 0x00,
					 2, 0x05, 0x00, 0x00, 0x00, 'z'};
	static const uint8_t s_dup_drop[] = {0x00, 0x00, 0x02, 0x02, 5, 0x00, 0x00, 0x00, 0x00,
					     6, 0x01, 0x00, 0x01, 0x00, 'k'};

	bs_err_init(&err);
	if (bs_age_identity_to_recipient(CCTV_KEY, &pub, &err) < 0 || bs_age_recipients_add(r, pub, &err) < 0 ||
	    bs_age_recipients_set_passphrase(rp, "password", &err) < 0)
		die("age keys", &err);
	bs_age_recipients_set_scrypt_log_n(rp, 4);
	age_file("seed-x25519-empty", r, "", 0);
	age_file("seed-x25519-short", r, "hello, archive\n", 15);
	age_file("seed-scrypt-short", rp, "hello, passphrase\n", 18);

	put("age_keys", "seed-identity", CCTV_KEY, strlen(CCTV_KEY));
	put("age_keys", "seed-recipient", pub, strlen(pub));
	put("age_keys", "seed-identity-lower", "age-secret-key-1egtzvffv20835nwyv6270lxyvk2vknx2mmdkwyklmgr48uawx40q2p2lm0",
	    strlen(CCTV_KEY));
	free(pub);

	put("age_stream", "seed-clean", s_clean, sizeof(s_clean));
	put("age_stream", "seed-two-chunks", s_two_chunks, sizeof(s_two_chunks));
	put("age_stream", "seed-flip", s_flip, sizeof(s_flip));
	put("age_stream", "seed-truncate", s_trunc, sizeof(s_trunc));
	put("age_stream", "seed-swap", s_swap, sizeof(s_swap));
	put("age_stream", "seed-dup-drop", s_dup_drop, sizeof(s_dup_drop));
	bs_age_recipients_free(r);
	bs_age_recipients_free(rp);
}

static void globals_seeds(void)
{
	struct bs_globals g;
	struct bs_grole *r;
	struct bs_gtablespace *t;
	struct bs_err err;
	char *buf;
	size_t len;

	bs_err_init(&err);
	bs_globals_init(&g);
	r = bs_globals_add_role(&g, "app");
	r->login = 1;
	r->connlimit = 5;
	r->valid_until = strdup("2030-01-01 00:00:00+00");
	r->comment = strdup("the app's role; /* not */ a comment");
	r->uses = BS_GUSE_OWNER;
	r = bs_globals_add_role(&g, "Rep'ort\"ing");
	r->inherit = 1;
	r->connlimit = -1;
	r->uses = BS_GUSE_ACL | BS_GUSE_SETTING;
	bs_grole_add_config(r, "search_path=app, \"My Schema\", \"a\"\"b\"");
	bs_grole_add_config(r, "work_mem=8MB");
	bs_globals_add_member(&g, "Rep'ort\"ing", "app", "app", 1);
	t = bs_globals_add_tablespace(&g, "fast", "app", "/srv/fast's");
	bs_gtablespace_add_option(t, "random_page_cost=1.1");
	bs_gtablespace_add_grant(t, "", 0);
	bs_gtablespace_add_grant(t, "app", 1);
	if (bs_globals_json(&g, &buf, &len, &err) < 0)
		die("globals", &err);
	put("globals", "seed-roles.json", buf, len);
	free(buf);
	bs_globals_release(&g);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: seeds OUTDIR\n");
		return 2;
	}
	outdir = argv[1];
	if (mkdir(outdir, 0755) < 0 && errno != EEXIST)
		die(outdir, NULL);
	archive_seeds();
	record_seeds();
	age_seeds();
	globals_seeds();
	return 0;
}
