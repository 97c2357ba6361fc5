/*
 * objstore_io.c - the streams of every object store backend (objstore.h).
 *
 * Read: the object is fetched in OS_READ_BLOCK ranged GETs, the next one
 * in flight while the current one is consumed.  The first answer gives the
 * object's size (Content-Range) and ETag, so a small object, such as a
 * catalog record, costs one request; every later block carries If-Match on
 * that ETag (an object replaced under a reader is an error, never a mix).
 * A dropped connection costs the retry of one block, from its first byte,
 * never the whole object.  Memory: two blocks.
 *
 * Write: a marker object tmp/uploads/<h>.json ("<key>\n<upload id or
 * ->\n") records the put first, so prune finds it if this process dies,
 * and a writer whose marker prune removed fails at finish instead of
 * committing.  Bytes fill a part buffer.  An object that ends before its
 * first part is full is one PUT.  Otherwise the driver's multipart upload
 * (S3: an upload id, which the marker is rewritten to name; Azure: blocks)
 * with at most OS_PARTS_IN_FLIGHT parts at once; finish sends the last part
 * and commits them in order, abort aborts; the marker goes either way.
 * The part size starts at the configured size (or size_hint / hint_div
 * when larger) and doubles every double_every parts, so an archive of any
 * size stays under the store's part limit.  Memory: (OS_PARTS_IN_FLIGHT +
 * 1) parts.  create_only: a HEAD first, and If-None-Match: * on the PUT or
 * the commit (412, or Azure's 409 BlobAlreadyExists, is BS_ERR_EXISTS); on
 * stores that may not decide it atomically, a second HEAD before the commit.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/hash.h"
#include "common/log.h"
#include "repo/objstore.h"

/* ---- read ---- */

struct block {
	struct os_req q;
	uint64_t off, len;
	int busy;   /* added to the client, not yet returned */
	int done;   /* returned by bs_http_next */
};

struct getter {
	struct objstore *os;
	struct bs_http *c;
	char key[BS_REPO_KEY_MAX + 1];
	char etag[160];
	uint64_t next_off, end; /* next block to request; end of the range */
	struct block b[2];
	int cur;                /* block being consumed */
	size_t used;            /* bytes of it handed out */
};

static int block_start(struct getter *g, struct block *b, struct bs_err *err)
{
	char range[96], match[200];
	const char *extra[3] = { range, NULL, NULL };

	b->off = g->next_off;
	b->len = g->end - b->off < OS_READ_BLOCK ? g->end - b->off : OS_READ_BLOCK;
	g->next_off += b->len;
	snprintf(range, sizeof(range), "%s: bytes=%" PRIu64 "-%" PRIu64, g->os->drv->range_header, b->off,
		 b->off + b->len - 1);
	if (g->etag[0]) {
		snprintf(match, sizeof(match), "If-Match: %s", g->etag);
		extra[1] = match;
	}
	if (g->os->drv->prepare(g->os, &b->q, "GET", g->key, extra, NULL, 0, err) < 0)
		return -1;
	b->q.http.user = b;
	b->done = 0;
	if (bs_http_add(g->c, &b->q.http, err) < 0)
		return -1;
	b->busy = 1;
	return 0;
}

/* Until block b came back. */
static int block_arrive(struct getter *g, struct block *b, struct bs_err *err)
{
	while (!b->done) {
		struct bs_http_req *r = bs_http_next(g->c, -1);
		if (!r)
			return bs_err_set(err, BS_ERR_INTERNAL, "%s read of '%s': a ranged GET went missing",
					  g->os->drv->name, g->key);
		((struct block *)r->user)->done = 1;
		((struct block *)r->user)->busy = 0;
	}
	return 0;
}

static int short_block(struct getter *g, const struct block *b, struct bs_err *err)
{
	return bs_err_set(err, BS_ERR_NET, "%s GET '%s' in %s: %zu bytes at offset %" PRIu64 ", expected %" PRIu64,
			  g->os->drv->name, g->key, g->os->where, b->q.http.res.body_len, b->off, b->len);
}

/* Wait until block b came back, and check it. */
static int block_wait(struct getter *g, struct block *b, struct bs_err *err)
{
	if (block_arrive(g, b, err) < 0)
		return -1;
	if (!b->q.http.res.ok) {
		if (b->q.http.res.status == 412)
			return bs_err_set(err, BS_ERR_FORMAT, "'%s' in %s changed while it was being read", g->key,
					  g->os->where);
		return g->os->drv->fail(g->os, &b->q.http.res, "GET", g->key, err);
	}
	return b->q.http.res.body_len != b->len ? short_block(g, b, err) : 0;
}

/* "bytes A-B/TOTAL" (or "bytes * /TOTAL" of a 416) -> TOTAL; -1 if absent */
static int64_t range_total(const struct bs_http_result *res)
{
	const char *v = bs_http_header(res, "Content-Range"), *slash = v ? strrchr(v, '/') : NULL;

	return slash && slash[1] >= '0' && slash[1] <= '9' ? (int64_t)strtoull(slash + 1, NULL, 10) : -1;
}

static void block_clear(struct block *b)
{
	os_req_release(&b->q);
	b->done = 0;
}

/* The first block, fetched before the stream is handed out: a missing
 * object fails here (BS_ERR_NOT_FOUND), and its answer says the object's
 * size and ETag. */
static int first_block(struct getter *g, struct bs_err *err)
{
	struct block *b = &g->b[0];
	const struct bs_http_result *res = &b->q.http.res;
	const char *etag;
	int64_t total;

	if (g->next_off == g->end) /* nothing asked: only say whether it exists */
		return objstore_head(g->os, g->key, NULL, err);
	if (block_start(g, b, err) < 0 || block_arrive(g, b, err) < 0)
		return -1;
	if (res->status == 416) { /* the offset is at or past the end */
		block_clear(b);
		g->end = g->next_off = b->off;
		return 0;
	}
	if (!res->ok)
		return g->os->drv->fail(g->os, res, "GET", g->key, err);
	if ((total = range_total(res)) < 0) {
		if (res->status != 200 || b->off != 0)
			return bs_err_set(err, BS_ERR_NET, "%s GET '%s' in %s: the store ignored the range header",
					  g->os->drv->name, g->key, g->os->where);
		total = (int64_t)res->body_len; /* a whole object, sent without a range */
	}
	etag = bs_http_header(res, "ETag");
	snprintf(g->etag, sizeof(g->etag), "%s", etag ? etag : "");
	if (g->end > (uint64_t)total)
		g->end = (uint64_t)total;
	b->len = g->end > b->off ? (g->end - b->off < b->len ? g->end - b->off : b->len) : 0;
	g->next_off = b->off + b->len;
	if (res->body_len != b->len)
		return short_block(g, b, err);
	if (b->len == 0)
		block_clear(b);
	/* one block ahead */
	if (g->next_off < g->end && block_start(g, &g->b[1], err) < 0)
		return -1;
	return 0;
}

/* Move the transfers in flight along without waiting: the client's loop
 * runs only inside bs_http_next, so a block fetched ahead (or a part sent
 * ahead) progresses while the caller works only if it is pumped. */
static void get_pump(struct getter *g)
{
	struct bs_http_req *r;

	while (bs_http_pending(g->c) > 0 && (r = bs_http_next(g->c, 0))) {
		((struct block *)r->user)->done = 1;
		((struct block *)r->user)->busy = 0;
	}
}

static ssize_t get_read(void *priv, void *buf, size_t len, struct bs_err *err)
{
	struct getter *g = priv;
	struct block *b = &g->b[g->cur];
	size_t n;

	if (!b->busy && !b->done)
		return 0; /* nothing more was requested: the end */
	if (b->done)
		get_pump(g); /* the block ahead, while this one is consumed */
	if (block_wait(g, b, err) < 0)
		return -1;
	n = b->q.http.res.body_len - g->used;
	if (n > len)
		n = len;
	memcpy(buf, b->q.http.res.body + g->used, n);
	g->used += n;
	if (g->used == b->q.http.res.body_len) {
		block_clear(b);
		g->used = 0;
		g->cur ^= 1;
		/* the other block is in flight (or the end); keep one ahead */
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
	struct getter *g = priv;
	int i;

	if (g->b[0].busy || g->b[1].busy) { /* in flight: the client goes with it */
		bs_http_free(g->c);
		g->c = NULL;
	}
	for (i = 0; i < 2; i++)
		os_req_release(&g->b[i].q);
	if (g->c)
		objstore_client_put(g->os, g->c);
	free(g);
}

static const struct bs_rstream_ops get_ops = { get_read, get_free };

int objstore_get(struct bs_repo *r, const char *key, uint64_t offset, uint64_t length, struct bs_rstream **out,
		 struct bs_err *err)
{
	struct objstore *os = r->priv;
	struct getter *g;

	*out = NULL;
	if (!(g = calloc(1, sizeof(*g))))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	g->os = os;
	snprintf(g->key, sizeof(g->key), "%s", key);
	g->next_off = offset;
	g->end = length == BS_REPO_TO_END || length > UINT64_MAX - offset ? UINT64_MAX : offset + length;
	if (!(g->c = objstore_client(os, err))) {
		free(g);
		return -1;
	}
	if (first_block(g, err) < 0) {
		get_free(g);
		return -1;
	}
	if (!(*out = bs_rstream_new(&get_ops, g)))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	return 0;
}

/* ---- write ---- */

struct part {
	struct os_req q;
	char *buf;
	int no;
	int busy;
};

struct putter {
	struct objstore *os;
	struct bs_http *c;
	char key[BS_REPO_KEY_MAX + 1];
	char marker[96];
	int create_only;
	uint64_t base;          /* part size of the first double_every parts */
	char *buf;
	size_t len, cap;
	uint64_t total;         /* bytes written */
	int multipart;          /* parts were sent */
	char *upload;           /* the store's upload id, or NULL */
	int nparts;             /* parts started */
	char **etags;           /* [nparts] */
	struct part inflight[OS_PARTS_IN_FLIGHT];
	int done;
};

static uint64_t part_size(const struct putter *p, int no)
{
	const struct objstore_driver *d = p->os->drv;
	int shift = (no - 1) / d->double_every;
	uint64_t sz = p->base << (shift > 12 ? 12 : shift);

	return sz > d->part_limit ? d->part_limit : sz;
}

static int exists_error(struct putter *p, struct bs_err *err)
{
	bs_err_set(err, BS_ERR_EXISTS, "'%s' already exists in %s", p->key, p->os->where);
	bs_err_hint(err, "objects written create-only are never replaced; another writer made it first");
	return -1;
}

/* The marker of an unfinished put: "<key>\n<upload id or ->\n". */
static int write_marker(struct putter *p, struct bs_err *err)
{
	char body[BS_REPO_KEY_MAX + 1100];
	int n;

	if (!p->marker[0]) {
		unsigned char d[BS_SHA256_LEN];
		char hex[65], seed[BS_REPO_KEY_MAX + 64];
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		n = snprintf(seed, sizeof(seed), "%s %ld %ld %p", p->key, (long)ts.tv_sec, ts.tv_nsec, (void *)p);
		if (bs_sha256(seed, (size_t)n, d, err) < 0)
			return -1;
		bs_hex(d, 16, hex);
		snprintf(p->marker, sizeof(p->marker), OS_UPLOADS "%s.json", hex);
	}
	n = snprintf(body, sizeof(body), "%s\n%s\n", p->key, p->upload ? p->upload : "-");
	return objstore_small_put(p->os, p->marker, body, (size_t)n, err);
}

/* Before anything becomes visible: the marker must still be there (prune
 * removes the markers of uploads it judges abandoned; the writer must then
 * fail rather than commit), and a create-only key must still be absent. */
static int check_before_commit(struct putter *p, struct bs_err *err)
{
	int rc = objstore_head(p->os, p->marker, NULL, err);

	if (rc < 0 && err->code == BS_ERR_NOT_FOUND) {
		bs_err_set(err, BS_ERR_IO, "the upload of '%s' to %s was removed before it finished", p->key,
			   p->os->where);
		bs_err_hint(err, "a prune judged it abandoned; run again, and do not prune while writers run "
				 "longer than the lease TTL without renewing");
		return -1;
	}
	if (rc < 0 || !p->create_only || p->os->drv->create_only_atomic)
		return rc;
	if (objstore_head(p->os, p->key, NULL, err) == 0)
		return exists_error(p, err);
	if (err->code != BS_ERR_NOT_FOUND)
		return -1;
	bs_err_init(err);
	return 0;
}

/* A part came back: keep its ETag, or fail. */
static int part_done(struct putter *p, struct part *pt, struct bs_err *err)
{
	const char *etag;
	int rc = 0;

	pt->busy = 0;
	free(pt->buf);
	pt->buf = NULL;
	if (!pt->q.http.res.ok)
		rc = p->os->drv->fail(p->os, &pt->q.http.res, "upload a part of", p->key, err);
	else if (p->os->drv->part_etag) {
		etag = bs_http_header(&pt->q.http.res, "ETag");
		if (!etag || !(p->etags[pt->no - 1] = strdup(etag)))
			rc = bs_err_set(err, BS_ERR_NET, "%s part %d of '%s' in %s came back without an ETag",
					p->os->drv->name, pt->no, p->key, p->os->where);
	}
	os_req_release(&pt->q);
	return rc;
}

static int wait_one(struct putter *p, struct bs_err *err)
{
	struct bs_http_req *r = bs_http_next(p->c, -1);

	if (!r)
		return bs_err_set(err, BS_ERR_INTERNAL, "%s upload of '%s': a part went missing", p->os->drv->name,
				  p->key);
	return part_done(p, r->user, err);
}

static int wait_all(struct putter *p, struct bs_err *err)
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

static int begin_multipart(struct putter *p, struct bs_err *err)
{
	p->multipart = 1;
	if (!p->os->drv->begin)
		return 0;
	if (p->os->drv->begin(p->os, p->key, &p->upload, err) < 0)
		return -1;
	/* the marker names the upload, so that prune can abort it if this
	 * process dies */
	return write_marker(p, err);
}

static int send_part(struct putter *p, struct bs_err *err)
{
	struct part *pt = NULL;
	char **ne;
	int i;

	if (!p->multipart && begin_multipart(p, err) < 0)
		return -1;
	for (;;) {
		for (i = 0; i < OS_PARTS_IN_FLIGHT && !pt; i++)
			if (!p->inflight[i].busy)
				pt = &p->inflight[i];
		if (pt)
			break;
		if (wait_one(p, err) < 0)
			return -1;
	}
	if (p->nparts == p->os->drv->parts_max)
		return bs_err_set(err, BS_ERR_IO, "'%s' needs more than %d parts", p->key, p->os->drv->parts_max);
	if (!(ne = realloc(p->etags, (size_t)(p->nparts + 1) * sizeof(*ne))))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	p->etags = ne;
	p->etags[p->nparts] = NULL;
	pt->no = ++p->nparts;
	pt->buf = p->buf;
	p->buf = NULL;
	if (p->os->drv->part(p->os, &pt->q, p->key, p->upload, pt->no, pt->buf, p->len, err) < 0)
		return -1;
	pt->q.http.user = pt;
	p->len = p->cap = 0;
	if (bs_http_add(p->c, &pt->q.http, err) < 0)
		return -1;
	pt->busy = 1;
	return 0;
}

/* Parts in flight progress while the writer fills the next one (see
 * get_pump); those that finished are taken in (their ETags kept). */
static int put_pump(struct putter *p, struct bs_err *err)
{
	struct bs_http_req *r;

	while (bs_http_pending(p->c) > 0 && (r = bs_http_next(p->c, 0)))
		if (part_done(p, r->user, err) < 0)
			return -1;
	return 0;
}

static int put_write(void *priv, const void *buf, size_t len, struct bs_err *err)
{
	struct putter *p = priv;
	const char *b = buf;

	if (put_pump(p, err) < 0)
		return -1;

	while (len > 0) {
		size_t n;
		if (!p->buf) {
			p->cap = (size_t)part_size(p, p->nparts + 1);
			if (!(p->buf = malloc(p->cap)))
				return bs_err_set(err, BS_ERR_NOMEM, "out of memory for an upload part of %zu bytes", p->cap);
		}
		n = p->cap - p->len < len ? p->cap - p->len : len;
		memcpy(p->buf + p->len, b, n);
		p->len += n;
		p->total += n;
		b += n;
		len -= n;
		if (p->len == p->cap && send_part(p, err) < 0)
			return -1;
	}
	return 0;
}

/* A commit failed as "not there" or "exists" after a retry: an attempt
 * whose answer was lost may have made it; then the object is there with
 * exactly the bytes written. */
static int committed_already(struct putter *p, const struct os_req *q, const struct bs_err *err)
{
	struct bs_repo_stat st;
	struct bs_err e;

	if ((err->code != BS_ERR_EXISTS && err->code != BS_ERR_NOT_FOUND) || q->http.res.attempts < 2)
		return 0;
	bs_err_init(&e);
	return objstore_head(p->os, p->key, &st, &e) == 0 && st.size == p->total;
}

static int commit_one(struct putter *p, struct bs_err *err)
{
	const char *const *oh = p->os->drv->object_headers(p->os, 0);
	const char *extra[7] = { NULL };
	struct os_req q;
	int i, n = 0, rc;

	for (i = 0; oh && oh[i] && n < 5; i++)
		extra[n++] = oh[i];
	if (p->create_only)
		extra[n++] = "If-None-Match: *";
	rc = p->os->drv->prepare(p->os, &q, "PUT", p->key, extra, p->buf ? p->buf : "", p->len, err);
	if (rc == 0)
		rc = objstore_run(p->os, &q, "PUT", p->key, err);
	if (rc < 0 && committed_already(p, &q, err)) {
		bs_err_init(err); /* our own first attempt made it; its answer was lost */
		rc = 0;
	}
	os_req_release(&q);
	return rc < 0 && err->code == BS_ERR_EXISTS ? exists_error(p, err) : rc;
}

static int commit_parts(struct putter *p, struct bs_err *err)
{
	struct os_req q;
	int rc;

	memset(&q, 0, sizeof(q));
	rc = p->os->drv->complete(p->os, &q, p->key, p->upload, p->etags, p->nparts, p->create_only, err);
	if (rc < 0 && committed_already(p, &q, err)) {
		bs_err_init(err);
		rc = 0;
	}
	os_req_release(&q);
	return rc < 0 && err->code == BS_ERR_EXISTS ? exists_error(p, err) : rc;
}

static int drop_marker(struct putter *p, struct bs_err *err)
{
	int rc = 0;

	if (p->marker[0])
		rc = objstore_delete(p->os, p->marker, err);
	p->marker[0] = '\0';
	return rc;
}

static int put_finish(void *priv, struct bs_err *err)
{
	struct putter *p = priv;

	if (!p->multipart) { /* small: one PUT */
		if (check_before_commit(p, err) < 0 || commit_one(p, err) < 0)
			return -1;
	} else if ((p->len > 0 && send_part(p, err) < 0) || wait_all(p, err) < 0 ||
		   check_before_commit(p, err) < 0 || commit_parts(p, err) < 0) {
		return -1;
	}
	free(p->upload);
	p->upload = NULL;
	p->done = 1;
	return drop_marker(p, err);
}

static int put_abort(void *priv, struct bs_err *err)
{
	struct putter *p = priv;
	struct bs_err e;
	int rc = 0;

	bs_err_init(&e);
	wait_all(p, &e); /* parts in flight end first; their outcome no longer matters */
	p->done = 1;
	if (p->multipart && p->os->drv->abort)
		rc = p->os->drv->abort(p->os, p->key, p->upload, err);
	free(p->upload);
	p->upload = NULL;
	if (rc == 0)
		rc = drop_marker(p, err);
	return rc;
}

static void put_free(void *priv)
{
	struct putter *p = priv;
	struct bs_err e;
	int i;

	bs_err_init(&e);
	if (!p->done && put_abort(p, &e) < 0)
		bs_warn("%s (prune removes the upload later)", e.msg);
	for (i = 0; i < OS_PARTS_IN_FLIGHT; i++) {
		free(p->inflight[i].buf);
		os_req_release(&p->inflight[i].q);
	}
	for (i = 0; i < p->nparts; i++)
		free(p->etags[i]);
	free(p->etags);
	free(p->buf);
	free(p->upload);
	objstore_client_put(p->os, p->c);
	free(p);
}

static const struct bs_repo_put_ops put_ops = { put_write, put_finish, put_abort, put_free };

int objstore_put(struct bs_repo *r, const char *key, const struct bs_repo_put_opts *opts,
		 const struct bs_repo_put_ops **ops, void **priv, struct bs_err *err)
{
	struct objstore *os = r->priv;
	const struct objstore_driver *d = os->drv;
	struct putter *p;
	uint64_t hint = opts ? opts->size_hint : 0;

	if (opts && opts->create_only) { /* HEAD first: fail early (and most S3 stores ignore If-None-Match) */
		if (objstore_head(os, key, NULL, err) == 0) {
			bs_err_set(err, BS_ERR_EXISTS, "'%s' already exists in %s", key, os->where);
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
	p->os = os;
	snprintf(p->key, sizeof(p->key), "%s", key);
	p->create_only = opts && opts->create_only;
	p->base = os->part_size;
	if (hint / d->hint_div > p->base)
		p->base = (hint / d->hint_div + (1u << 20) - 1) & ~(uint64_t)((1u << 20) - 1);
	if (p->base > d->part_limit)
		p->base = d->part_limit;
	if (!(p->c = objstore_client(os, err))) {
		free(p);
		return -1;
	}
	if (write_marker(p, err) < 0) {
		objstore_client_put(os, p->c);
		free(p);
		return -1;
	}
	*ops = &put_ops;
	*priv = p;
	return 0;
}
