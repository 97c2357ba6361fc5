/*
 * azure_io.c - the Azure Blob backend's streams (azure_int.h).
 *
 * Read: the blob is fetched in AZ_READ_BLOCK ranged GETs (x-ms-range),
 * the next one in flight while the current one is consumed, each with
 * If-Match on the ETag the HEAD saw (a blob replaced under a reader is an
 * error, never a mix).  A dropped connection costs the retry of one block.
 * Memory: two blocks.
 *
 * Write: a marker object tmp/uploads/<h>.json records the put first (prune
 * finds it if this process dies; a writer whose marker prune removed fails
 * at finish instead of committing).  Bytes fill a block buffer.  A blob
 * that ends before its first block is full is one Put Blob.  Otherwise each
 * full block is a Put Block (at most AZ_BLOCKS_IN_FLIGHT at once) with a
 * fixed-length id, and finish commits them in order with Put Block List;
 * nothing is visible before that.  abort commits nothing (Azure drops
 * uncommitted blocks after a week) and removes the marker.  The block size
 * starts at the configured size (or size_hint / 45000 when larger) and
 * doubles every 5,000 blocks, so any archive stays under Azure's 50,000
 * blocks.  Memory: (AZ_BLOCKS_IN_FLIGHT + 1) blocks.
 * create_only: a HEAD first, then If-None-Match: * on the Put Blob or the
 * Put Block List, which Azure decides atomically (409 BlobAlreadyExists or
 * 412 is BS_ERR_EXISTS).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/hash.h"
#include "common/log.h"
#include "repo/azure_int.h"

/* ---- read ---- */

struct block {
	struct az_req q;
	uint64_t off, len;
	int busy;
	int done;
};

struct az_getter {
	struct az *a;
	struct bs_http *c;
	char key[BS_REPO_KEY_MAX + 1];
	char etag[160];
	uint64_t next_off, end;
	struct block b[2];
	int cur;
	size_t used;
};

static int block_start(struct az_getter *g, struct block *b, struct bs_err *err)
{
	char range[96], match[200];
	const char *extra[3] = { range, NULL, NULL };

	b->off = g->next_off;
	b->len = g->end - b->off < AZ_READ_BLOCK ? g->end - b->off : AZ_READ_BLOCK;
	g->next_off += b->len;
	snprintf(range, sizeof(range), "x-ms-range: bytes=%" PRIu64 "-%" PRIu64, b->off, b->off + b->len - 1);
	if (g->etag[0]) {
		snprintf(match, sizeof(match), "If-Match: %s", g->etag);
		extra[1] = match;
	}
	if (az_prepare(g->a, &b->q, "GET", g->key, NULL, 0, extra, NULL, 0, err) < 0)
		return -1;
	b->q.http.user = b;
	b->done = 0;
	if (bs_http_add(g->c, &b->q.http, err) < 0)
		return -1;
	b->busy = 1;
	return 0;
}

static int block_wait(struct az_getter *g, struct block *b, struct bs_err *err)
{
	while (!b->done) {
		struct bs_http_req *r = bs_http_next(g->c, -1);
		if (!r)
			return bs_err_set(err, BS_ERR_INTERNAL, "Azure read of '%s': a ranged GET went missing", g->key);
		((struct block *)r->user)->done = 1;
		((struct block *)r->user)->busy = 0;
	}
	if (!b->q.http.res.ok) {
		if (b->q.http.res.status == 412)
			return bs_err_set(err, BS_ERR_FORMAT, "'%s' in %s changed while it was being read", g->key,
					  g->a->where);
		return az_fail(g->a, &b->q.http.res, "GET", g->key, err);
	}
	if (b->q.http.res.body_len != b->len)
		return bs_err_set(err, BS_ERR_NET, "Azure GET '%s' in %s: %zu bytes at offset %" PRIu64
						   ", expected %" PRIu64, g->key, g->a->where, b->q.http.res.body_len,
				  b->off, b->len);
	return 0;
}

static ssize_t get_read(void *priv, void *buf, size_t len, struct bs_err *err)
{
	struct az_getter *g = priv;
	struct block *b = &g->b[g->cur];
	size_t n;

	if (!b->busy && !b->done)
		return 0;
	if (block_wait(g, b, err) < 0)
		return -1;
	n = b->q.http.res.body_len - g->used;
	if (n > len)
		n = len;
	memcpy(buf, b->q.http.res.body + g->used, n);
	g->used += n;
	if (g->used == b->q.http.res.body_len) {
		az_req_release(&b->q);
		b->done = 0;
		g->used = 0;
		g->cur ^= 1;
		if (g->next_off < g->end && !g->b[g->cur].busy && !g->b[g->cur].done &&
		    block_start(g, &g->b[g->cur], err) < 0)
			return -1;
		if (g->next_off < g->end && block_start(g, b, err) < 0)
			return -1;
	}
	return (ssize_t)n;
}

static void get_free(void *priv)
{
	struct az_getter *g = priv;
	int i;

	if (g->b[0].busy || g->b[1].busy) {
		bs_http_free(g->c);
		g->c = NULL;
	}
	for (i = 0; i < 2; i++)
		az_req_release(&g->b[i].q);
	if (g->c)
		az_client_put(g->a, g->c);
	free(g);
}

static const struct bs_rstream_ops get_ops = { get_read, get_free };

int az_get(struct bs_repo *r, const char *key, uint64_t offset, uint64_t length, struct bs_rstream **out,
	   struct bs_err *err)
{
	struct az *a = r->priv;
	struct az_getter *g;
	struct az_req q;
	const char *etag, *cl;
	uint64_t size;

	*out = NULL;
	if (!(g = calloc(1, sizeof(*g))))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	g->a = a;
	snprintf(g->key, sizeof(g->key), "%s", key);
	if (az_prepare(a, &q, "HEAD", key, NULL, 0, NULL, NULL, 0, err) < 0 || az_run(a, &q, "GET", key, err) < 0) {
		az_req_release(&q);
		free(g);
		return -1;
	}
	cl = bs_http_header(&q.http.res, "Content-Length");
	size = strtoull(cl ? cl : "0", NULL, 10);
	etag = bs_http_header(&q.http.res, "ETag");
	snprintf(g->etag, sizeof(g->etag), "%s", etag ? etag : "");
	az_req_release(&q);
	g->next_off = offset < size ? offset : size;
	g->end = length == BS_REPO_TO_END || length > size - g->next_off ? size : g->next_off + length;
	if (!(g->c = az_client(a, err))) {
		free(g);
		return -1;
	}
	if ((g->next_off < g->end && block_start(g, &g->b[0], err) < 0) ||
	    (g->next_off < g->end && block_start(g, &g->b[1], err) < 0)) {
		get_free(g);
		return -1;
	}
	if (!(*out = bs_rstream_new(&get_ops, g)))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	return 0;
}

/* ---- write ---- */

struct part {
	struct az_req q;
	char *buf;
	int no;
	int busy;
};

struct az_put {
	struct az *a;
	struct bs_http *c;
	char key[BS_REPO_KEY_MAX + 1];
	char marker[96];
	int create_only;
	uint64_t base;          /* block size of blocks 1..5000 */
	char *buf;
	size_t len, cap;
	uint64_t total;
	int nblocks;            /* blocks started */
	struct part inflight[AZ_BLOCKS_IN_FLIGHT];
	int done;
};

static uint64_t block_size(const struct az_put *p, int no)
{
	int shift = (no - 1) / 5000;
	uint64_t sz = p->base << (shift > 12 ? 12 : shift);

	return sz > AZ_BLOCK_LIMIT ? AZ_BLOCK_LIMIT : sz;
}

/* Block n's id: base64 of its 6-digit number (8 characters, no padding,
 * never '+' or '/': every id of a blob has the same length, as Azure
 * requires, and needs no escaping). */
static void block_id(int no, char out[16])
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char d[8];
	int i;

	snprintf(d, sizeof(d), "%06d", no);
	for (i = 0; i < 2; i++) {
		const unsigned char *s = (const unsigned char *)d + 3 * i;
		out[4 * i] = b64[s[0] >> 2];
		out[4 * i + 1] = b64[((s[0] & 3) << 4) | (s[1] >> 4)];
		out[4 * i + 2] = b64[((s[1] & 15) << 2) | (s[2] >> 6)];
		out[4 * i + 3] = b64[s[2] & 63];
	}
	out[8] = '\0';
}

static int write_marker(struct az_put *p, struct bs_err *err)
{
	char body[BS_REPO_KEY_MAX + 8];
	unsigned char d[BS_SHA256_LEN];
	char hex[65], seed[BS_REPO_KEY_MAX + 64];
	struct timespec ts;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	n = snprintf(seed, sizeof(seed), "%s %ld %ld %p", p->key, (long)ts.tv_sec, ts.tv_nsec, (void *)p);
	if (bs_sha256(seed, (size_t)n, d, err) < 0)
		return -1;
	bs_hex(d, 16, hex);
	snprintf(p->marker, sizeof(p->marker), AZ_UPLOADS "%s.json", hex);
	n = snprintf(body, sizeof(body), "%s\n", p->key);
	return az_small_put(p->a, p->marker, body, (size_t)n, err);
}

static int check_before_commit(struct az_put *p, struct bs_err *err)
{
	int rc = az_head(p->a, p->marker, NULL, err);

	if (rc < 0 && err->code == BS_ERR_NOT_FOUND) {
		bs_err_set(err, BS_ERR_IO, "the upload of '%s' to %s was removed before it finished", p->key,
			   p->a->where);
		bs_err_hint(err, "a prune judged it abandoned; run again, and do not prune while writers run "
				 "longer than the lease TTL without renewing");
		return -1;
	}
	return rc;
}

static int part_done(struct az_put *p, struct part *pt, struct bs_err *err)
{
	int rc = 0;

	pt->busy = 0;
	free(pt->buf);
	pt->buf = NULL;
	if (!pt->q.http.res.ok)
		rc = az_fail(p->a, &pt->q.http.res, "upload a block of", p->key, err);
	az_req_release(&pt->q);
	return rc;
}

static int wait_one(struct az_put *p, struct bs_err *err)
{
	struct bs_http_req *r = bs_http_next(p->c, -1);

	if (!r)
		return bs_err_set(err, BS_ERR_INTERNAL, "Azure upload of '%s': a block went missing", p->key);
	return part_done(p, r->user, err);
}

static int wait_all(struct az_put *p, struct bs_err *err)
{
	int rc = 0;

	while (bs_http_pending(p->c) > 0) {
		struct bs_err e;
		bs_err_init(&e);
		if (wait_one(p, rc ? &e : err) < 0)
			rc = -1;
	}
	return rc;
}

static int send_block(struct az_put *p, struct bs_err *err)
{
	char id[16];
	struct bs_az_query qv[2] = { { "comp", "block" }, { "blockid", id } };
	struct part *pt = NULL;
	int i;

	for (;;) {
		for (i = 0; i < AZ_BLOCKS_IN_FLIGHT && !pt; i++)
			if (!p->inflight[i].busy)
				pt = &p->inflight[i];
		if (pt)
			break;
		if (wait_one(p, err) < 0)
			return -1;
	}
	if (p->nblocks == AZ_BLOCKS_MAX)
		return bs_err_set(err, BS_ERR_IO, "'%s' needs more than %d blocks", p->key, AZ_BLOCKS_MAX);
	pt->no = ++p->nblocks;
	block_id(pt->no, id);
	pt->buf = p->buf;
	p->buf = NULL;
	if (az_prepare(p->a, &pt->q, "PUT", p->key, qv, 2, NULL, pt->buf, p->len, err) < 0)
		return -1;
	pt->q.http.user = pt;
	p->len = p->cap = 0;
	if (bs_http_add(p->c, &pt->q.http, err) < 0)
		return -1;
	pt->busy = 1;
	return 0;
}

static int put_write(void *priv, const void *buf, size_t len, struct bs_err *err)
{
	struct az_put *p = priv;
	const char *b = buf;

	while (len > 0) {
		size_t n;
		if (!p->buf) {
			p->cap = (size_t)block_size(p, p->nblocks + 1);
			if (!(p->buf = malloc(p->cap)))
				return bs_err_set(err, BS_ERR_NOMEM, "out of memory for an upload block of %zu bytes",
						  p->cap);
		}
		n = p->cap - p->len < len ? p->cap - p->len : len;
		memcpy(p->buf + p->len, b, n);
		p->len += n;
		p->total += n;
		b += n;
		len -= n;
		if (p->len == p->cap && send_block(p, err) < 0)
			return -1;
	}
	return 0;
}

/* The blob is there with exactly the bytes written. */
static int completed_already(struct az_put *p)
{
	struct bs_err e;
	uint64_t size = 0;

	bs_err_init(&e);
	return az_head(p->a, p->key, &size, &e) == 0 && size == p->total;
}

static int commit_blocks(struct az_put *p, struct bs_err *err)
{
	struct bs_az_query qv[1] = { { "comp", "blocklist" } };
	const char *extra[2] = { p->create_only ? "If-None-Match: *" : NULL, NULL };
	char *xml = NULL, id[16];
	size_t xl = 0;
	FILE *f = open_memstream(&xml, &xl);
	struct az_req q;
	int i, rc;

	if (!f)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	fputs("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>", f);
	for (i = 1; i <= p->nblocks; i++) {
		block_id(i, id);
		fprintf(f, "<Latest>%s</Latest>", id);
	}
	fputs("</BlockList>", f);
	if (fclose(f) != 0) {
		free(xml);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	rc = az_prepare(p->a, &q, "PUT", p->key, qv, 1, extra, xml, xl, err);
	if (rc == 0)
		rc = az_run(p->a, &q, "commit the blocks of", p->key, err);
	if (rc < 0 && err->code == BS_ERR_EXISTS && q.http.res.attempts > 1 && completed_already(p)) {
		bs_err_init(err); /* our own attempt committed it; its answer was lost */
		rc = 0;
	}
	if (rc < 0 && err->code == BS_ERR_EXISTS)
		bs_err_hint(err, "objects written create-only are never replaced; another writer made it first");
	az_req_release(&q);
	free(xml);
	return rc;
}

static int drop_marker(struct az_put *p, struct bs_err *err)
{
	int rc = 0;

	if (p->marker[0])
		rc = az_delete(p->a, p->marker, err);
	p->marker[0] = '\0';
	return rc;
}

static int put_finish(void *priv, struct bs_err *err)
{
	struct az_put *p = priv;
	struct az_req q;
	int rc;

	if (p->nblocks == 0) { /* small: one Put Blob */
		const char *extra[3] = { "x-ms-blob-type: BlockBlob", p->create_only ? "If-None-Match: *" : NULL,
					 NULL };
		if (check_before_commit(p, err) < 0)
			return -1;
		rc = az_prepare(p->a, &q, "PUT", p->key, NULL, 0, extra, p->buf ? p->buf : "", p->len, err);
		if (rc == 0)
			rc = az_run(p->a, &q, "PUT", p->key, err);
		if (rc < 0 && err->code == BS_ERR_EXISTS && q.http.res.attempts > 1 && completed_already(p)) {
			bs_err_init(err);
			rc = 0;
		}
		if (rc < 0 && err->code == BS_ERR_EXISTS)
			bs_err_hint(err, "objects written create-only are never replaced; another writer made it "
					 "first");
		az_req_release(&q);
		if (rc < 0)
			return -1;
		p->done = 1;
		return drop_marker(p, err);
	}
	if ((p->len > 0 && send_block(p, err) < 0) || wait_all(p, err) < 0 || check_before_commit(p, err) < 0 ||
	    commit_blocks(p, err) < 0)
		return -1;
	p->done = 1;
	return drop_marker(p, err);
}

static int put_abort(void *priv, struct bs_err *err)
{
	struct az_put *p = priv;
	struct bs_err e;

	bs_err_init(&e);
	wait_all(p, &e); /* blocks in flight end first; uncommitted, they expire */
	p->done = 1;
	return drop_marker(p, err);
}

static void put_free(void *priv)
{
	struct az_put *p = priv;
	struct bs_err e;
	int i;

	bs_err_init(&e);
	if (!p->done && put_abort(p, &e) < 0)
		bs_warn("%s (prune removes the upload later)", e.msg);
	for (i = 0; i < AZ_BLOCKS_IN_FLIGHT; i++) {
		free(p->inflight[i].buf);
		az_req_release(&p->inflight[i].q);
	}
	free(p->buf);
	az_client_put(p->a, p->c);
	free(p);
}

static const struct bs_repo_put_ops put_ops = { put_write, put_finish, put_abort, put_free };

int az_put(struct bs_repo *r, const char *key, const struct bs_repo_put_opts *opts,
	   const struct bs_repo_put_ops **ops, void **priv, struct bs_err *err)
{
	struct az *a = r->priv;
	struct az_put *p;
	uint64_t hint = opts ? opts->size_hint : 0;

	if (opts && opts->create_only) { /* fail early; the commit decides atomically */
		if (az_head(a, key, NULL, err) == 0) {
			bs_err_set(err, BS_ERR_EXISTS, "'%s' already exists in %s", key, a->where);
			bs_err_hint(err, "objects written create-only are never replaced; another writer made it "
					 "first");
			return -1;
		}
		if (err->code != BS_ERR_NOT_FOUND)
			return -1;
		bs_err_init(err);
	}
	if (!(p = calloc(1, sizeof(*p))))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	p->a = a;
	snprintf(p->key, sizeof(p->key), "%s", key);
	p->create_only = opts && opts->create_only;
	p->base = a->block_size;
	if (hint / 45000 > p->base)
		p->base = (hint / 45000 + (1u << 20) - 1) & ~(uint64_t)((1u << 20) - 1);
	if (p->base > AZ_BLOCK_LIMIT)
		p->base = AZ_BLOCK_LIMIT;
	if (!(p->c = az_client(a, err))) {
		free(p);
		return -1;
	}
	if (write_marker(p, err) < 0) {
		az_client_put(a, p->c);
		free(p);
		return -1;
	}
	*ops = &put_ops;
	*priv = p;
	return 0;
}
