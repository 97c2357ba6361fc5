/* data.c - the archive's members after schema.dump: data chunks go to the
 * loader pool, large objects to blobs.c, and manifest.json, the last
 * member, is what everything loaded is checked against.  Then sequences. */
#include "restore/restore_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "pg/conn.h"

int rs_read_member(struct bs_areader *ar, const char *name, uint64_t size, size_t max, char **out,
		   struct bs_err *err)
{
	char *buf;
	size_t got = 0;

	*out = NULL;
	if (size > max)
		return bs_err_set(err, BS_ERR_FORMAT, "archive member '%s' is too large (%" PRIu64 " bytes)", name,
				  size);
	if (!(buf = malloc((size_t)size + 1)))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory reading archive member '%s'", name);
	for (;;) {
		ssize_t n = bs_areader_read(ar, buf + got, (size_t)size - got, err);
		if (n < 0) {
			free(buf);
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got == size) {
			/* the member must end here */
			char c;
			n = bs_areader_read(ar, &c, 1, err);
			if (n < 0) {
				free(buf);
				return -1;
			}
			if (n == 0)
				break;
			got++;
			break;
		}
	}
	if (got != size) {
		free(buf);
		return bs_err_set(err, BS_ERR_FORMAT, "archive member '%s' is truncated", name);
	}
	buf[got] = '\0';
	*out = buf;
	return 0;
}

/* How far a chunk number may run ahead of the chunks of its table already
 * read.  snap numbers a table's chunks densely from 0 and writes them in
 * nearly that order (at most one chunk per worker, 64 at most, is numbered
 * but not yet written), so a valid archive stays far below this; a crafted
 * number ("4294967295") is refused before anything is allocated for it, and
 * the bitmap below grows only with chunks actually present. */
#define RS_SEQ_AHEAD_MAX 1024

/* Mark a chunk member as seen; 1 if it was seen before. */
static int mark_seen(struct rs_table *t, uint32_t seq, struct bs_err *err)
{
	size_t byte = seq / 8;

	if ((uint64_t)seq >= (uint64_t)t->nseen + RS_SEQ_AHEAD_MAX)
		return bs_err_set(err, BS_ERR_FORMAT,
				  "chunk %" PRIu32 " of table %s comes after only %zu of its chunks: "
				  "not an archive snap wrote",
				  seq, t->qname ? t->qname : "?", (size_t)t->nseen);

	if (byte >= t->seen_bytes) {
		size_t n = t->seen_bytes ? t->seen_bytes : 16;
		uint8_t *ns;
		while (n <= byte)
			n *= 2;
		if (!(ns = realloc(t->seen, n)))
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		memset(ns + t->seen_bytes, 0, n - t->seen_bytes);
		t->seen = ns;
		t->seen_bytes = n;
	}
	if (t->seen[byte] & (1u << (seq % 8)))
		return 1;
	t->seen[byte] |= (uint8_t)(1u << (seq % 8));
	t->nseen++;
	return 0;
}

static int is_seen(const struct rs_table *t, uint32_t seq)
{
	size_t byte = seq / 8;

	return byte < t->seen_bytes && (t->seen[byte] & (1u << (seq % 8)));
}

static int chunk_member(struct rs_ctx *cx, const char *name, uint32_t no, uint32_t seq, uint64_t size,
			struct bs_err *err)
{
	struct rs_table *t = rs_table_by_no(cx, no);
	char *buf = NULL;
	int dup;

	if (!t)
		return bs_err_set(err, BS_ERR_FORMAT, "unexpected member '%s': table %" PRIu32
						      " is not in %s",
				  name, no, BS_MEMBER_HEADER);
	if ((dup = mark_seen(t, seq, err)) != 0) {
		if (dup < 0)
			return -1;
		return bs_err_set(err, BS_ERR_FORMAT, "duplicate member '%s'", name);
	}
	if (!t->selected)
		return 0; /* not restored: the tar reader skips its data */
	if (rs_read_member(cx->ar, name, size, RS_MEMBER_MAX, &buf, err) < 0)
		return -1;
	cx->changed = 1;
	return rs_pool_chunk(cx->pool, t, seq, buf, (size_t)size, err);
}

/* data/<tno>/end.json: the reader checked that the table's chunks came
 * before it; once they are loaded, its post-data may run (loaders.c). */
static void table_end(struct rs_ctx *cx, uint32_t no, uint32_t chunks)
{
	struct rs_table *t = rs_table_by_no(cx, no);

	if (t && t->selected)
		rs_pool_table_end(cx->pool, t, chunks);
}

/* manifest.json: the archive reader reads and checks it, and the end of
 * the archive after it (archive/reader.h). */
static int manifest_member(struct rs_ctx *cx, struct bs_err *err)
{
	/* the loaders copied what they need from the header, but wait for
	 * them anyway: the checks read what they loaded, and the manifest
	 * is merged into the same struct */
	if (rs_pool_wait(cx->pool, err) < 0)
		return -1;
	return bs_areader_finish(cx->ar, err);
}

/* Stream every member after schema.dump, up to and including manifest.json
 * and the end of the archive. */
int rs_data_load(struct rs_ctx *cx, struct bs_err *err)
{
	int load_blobs = cx->nfilters == 0;

	for (;;) {
		struct bs_amember mem;
		int rc = bs_areader_next(cx->ar, &mem, err);

		rs_progress_archive(cx);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return bs_err_set(err, BS_ERR_INTERNAL, "the archive ended without %s", BS_MEMBER_MANIFEST);
		switch (mem.kind) {
		case BS_AM_CHUNK:
			rc = chunk_member(cx, mem.name, mem.a, mem.b, mem.size, err);
			break;
		case BS_AM_TABLE_END:
			table_end(cx, mem.a, mem.b);
			break;
		case BS_AM_BLOB:
			rc = load_blobs ? rs_blobs_member(cx, mem.name, mem.a, mem.b, mem.uname, mem.size, err) : 0;
			break;
		case BS_AM_BLOB_ACL:
			rc = load_blobs ? rs_blobs_acl(cx, mem.size, err) : 0;
			break;
		case BS_AM_MANIFEST:
			if ((load_blobs && rs_blobs_finish(cx, err) < 0) || manifest_member(cx, err) < 0)
				return -1;
			rs_progress_archive(cx);
			return 0;
		default:
			return bs_err_set(err, BS_ERR_INTERNAL, "member '%s' out of place", mem.name);
		}
		if (rc < 0)
			return -1;
	}
}

/* ---- checks against the manifest ---- */

static int cmp_chunk(const void *a, const void *b)
{
	uint32_t x = ((const struct rs_chunk *)a)->seq, y = ((const struct rs_chunk *)b)->seq;

	return x < y ? -1 : x > y;
}

static int check_table(struct rs_ctx *cx, struct rs_table *t, struct bs_err *err)
{
	const struct bs_mtable *mt = &cx->m->tables[t->idx];
	struct bs_digest sum;
	char member[64];
	size_t i;

	/* every chunk in the manifest is in the archive, and nothing else */
	for (i = 0; i < mt->nchunks; i++) {
		if (!is_seen(t, mt->chunks[i].seq)) {
			bs_member_chunk_name(member, t->no, mt->chunks[i].seq);
			bs_err_set(err, BS_ERR_FORMAT, "table %s: archive member '%s' is missing", t->qname, member);
			return -1;
		}
	}
	if (t->nseen != mt->nchunks)
		return bs_err_set(err, BS_ERR_FORMAT,
				  "table %s: the archive holds %" PRIu64 " chunks, the manifest lists %zu", t->qname,
				  t->nseen, mt->nchunks);
	if (!t->selected)
		return 0;

	/* each loaded chunk has the manifest's rows and digest */
	if (t->nloaded > 1)
		qsort(t->loaded, t->nloaded, sizeof(*t->loaded), cmp_chunk);
	bs_digest_init(&sum);
	for (i = 0; i < mt->nchunks; i++) {
		const struct bs_mchunk *mc = &mt->chunks[i];
		struct rs_chunk key, *c;
		key.seq = mc->seq;
		c = t->nloaded ? bsearch(&key, t->loaded, t->nloaded, sizeof(*t->loaded), cmp_chunk) : NULL;
		bs_member_chunk_name(member, t->no, mc->seq);
		if (!c)
			return bs_err_set(err, BS_ERR_FORMAT, "table %s: archive member '%s' was not loaded",
					  t->qname, member);
		if (c->digest.rows != mc->rows || !bs_digest_equal(&c->digest, &mc->digest)) {
			char a[BS_DIGEST_HEX_LEN + 1], x[BS_DIGEST_HEX_LEN + 1];
			bs_digest_hex(&c->digest, a);
			bs_digest_hex(&mc->digest, x);
			bs_err_set(err, BS_ERR_FORMAT,
				   "table %s: archive member '%s' does not match the manifest", t->qname, member);
			bs_err_detail(err, "loaded %" PRIu64 " rows with digest %s; the manifest says %" PRIu64
					   " rows with digest %s",
				      c->digest.rows, a, mc->rows, x);
			return -1;
		}
		bs_digest_merge(&sum, &c->digest);
	}
	if (sum.rows != mt->rows || !bs_digest_equal(&sum, &mt->digest))
		return bs_err_set(err, BS_ERR_FORMAT,
				  "table %s: %" PRIu64 " rows loaded, the manifest says %" PRIu64
				  " (or the digests differ)",
				  t->qname, sum.rows, mt->rows);
	return 0;
}

int rs_data_check(struct rs_ctx *cx, struct bs_err *err)
{
	struct bs_restore_result *res = cx->res;
	size_t i, j;

	for (i = 0; i < cx->ntables; i++) {
		struct rs_table *t = &cx->tables[i];
		if (check_table(cx, t, err) < 0)
			return -1;
		if (!t->selected)
			continue;
		res->tables++;
		res->chunks += t->nloaded;
		for (j = 0; j < t->nloaded; j++) {
			res->rows += t->loaded[j].digest.rows;
			res->bytes += t->loaded[j].raw;
		}
	}
	if (cx->nfilters == 0) {
		if (rs_blobs_check(cx, err) < 0 || rs_blobs_apply_acl(cx, err) < 0)
			return -1;
		res->blobs = cx->blobs.count;
	}
	return 0;
}

/* ---- sequences ---- */

/* A filtered restore sets only the sequences it restored. */
static int seq_restored(struct rs_ctx *cx, const struct bs_mseq *s, const char *qname, int *yes,
			struct bs_err *err)
{
	const char *params[1] = { qname };
	PGresult *r;
	size_t k;

	*yes = 0;
	if (cx->have_toc) {
		for (k = 0; k < cx->toc.n && !*yes; k++)
			*yes = cx->toc.e[k].keep && cx->toc.e[k].kind == BS_TOC_SEQUENCE &&
			       bs_toc_entry_is(&cx->toc.e[k], s->schema, s->name);
		if (!*yes)
			return 0;
	}
	/* --data-only: the sequences that exist */
	r = bs_pg_query(cx->conn, "SELECT pg_catalog.to_regclass($1) IS NOT NULL", 1, params, err);
	if (!r)
		return -1;
	*yes = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	return 0;
}

int rs_data_sequences(struct rs_ctx *cx, struct bs_err *err)
{
	size_t i;

	for (i = 0; i < cx->m->nseqs; i++) {
		const struct bs_mseq *s = &cx->m->seqs[i];
		char *q = bs_pg_qualify(s->schema, s->name);
		char val[32];
		const char *params[3];
		PGresult *r;
		int yes = 1;

		if (!q)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		if (cx->nfilters > 0 && seq_restored(cx, s, q, &yes, err) < 0) {
			free(q);
			return -1;
		}
		if (!yes) {
			free(q);
			continue;
		}
		snprintf(val, sizeof(val), "%" PRId64, s->last_value);
		params[0] = q;
		params[1] = val;
		params[2] = s->is_called ? "true" : "false";
		r = bs_pg_query(cx->conn, "SELECT pg_catalog.setval($1::regclass, $2::bigint, $3::boolean)", 3,
				params, err);
		if (!r) {
			bs_err_prefix(err, "unable to set sequence %s", q);
			free(q);
			return -1;
		}
		PQclear(r);
		free(q);
		cx->res->sequences++;
	}
	return 0;
}
