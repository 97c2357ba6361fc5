/*
 * s3_io.c - the S3 backend's streams (s3_int.h).
 *
 * Read: the object is fetched in S3_BLOCK ranged GETs, the next one in
 * flight while the current one is consumed.  The first answer gives the
 * object's size and ETag (a small object, such as a catalog record, costs
 * one request); every later block carries If-Match on that ETag (an object
 * replaced under a reader is an error, never a mix).  A dropped connection costs the retry of one block, from its
 * first byte (Range: bytes=N-M), never the whole object.  Memory: two
 * blocks.
 *
 * Write: a marker object tmp/uploads/<h>.json records the put first (so
 * prune finds it if this process dies, and a writer whose marker prune
 * removed fails at finish instead of committing).  Bytes fill a part
 * buffer.  An object that ends before its first part is full is one PUT.
 * Otherwise a multipart upload (the marker is rewritten to name it), then at most S3_PARTS_IN_FLIGHT parts are uploaded at
 * once; finish uploads the last part and completes the upload, abort
 * aborts it; the marker goes either way.  The part size starts at the
 * configured size (or size_hint / 9000 when larger) and doubles every
 * 1,000 parts, so an archive of any size stays under S3's 10,000 parts
 * (16 MiB parts reach 16 TiB).  Memory: (S3_PARTS_IN_FLIGHT + 1) parts.
 * create_only: a HEAD first, and If-None-Match: * on the PUT or the
 * completion (stores that honour it decide atomically; 412 is
 * BS_ERR_EXISTS).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/hash.h"
#include "common/log.h"
#include "net/xml.h"
#include "repo/s3_int.h"

/* ---- read ---- */

struct block {
	struct s3_req q;
	uint64_t off, len;
	int busy;   /* added to the client, not yet returned */
	int done;   /* returned by bs_http_next */
};

struct s3_get {
	struct s3 *s;
	struct bs_http *c;
	char key[BS_REPO_KEY_MAX + 1];
	char etag[160];
	uint64_t next_off, end; /* next block to request; end of the range */
	struct block b[2];
	int cur;                /* block being consumed */
	size_t used;            /* bytes of it handed out */
};

static int block_start(struct s3_get *g, struct block *b, struct bs_err *err)
{
	char range[96], match[200];
	const char *extra[3] = { range, NULL, NULL };

	b->off = g->next_off;
	b->len = g->end - b->off < S3_BLOCK ? g->end - b->off : S3_BLOCK;
	g->next_off += b->len;
	snprintf(range, sizeof(range), "Range: bytes=%" PRIu64 "-%" PRIu64, b->off, b->off + b->len - 1);
	if (g->etag[0]) {
		snprintf(match, sizeof(match), "If-Match: %s", g->etag);
		extra[1] = match;
	}
	if (s3_prepare(g->s, &b->q, "GET", g->key, NULL, 0, extra, NULL, 0, err) < 0)
		return -1;
	b->q.http.user = b;
	b->done = 0;
	if (bs_http_add(g->c, &b->q.http, err) < 0)
		return -1;
	b->busy = 1;
	return 0;
}

/* Wait until block b came back, and check it. */
static int block_wait(struct s3_get *g, struct block *b, struct bs_err *err)
{
	while (!b->done) {
		struct bs_http_req *r = bs_http_next(g->c, -1);
		if (!r)
			return bs_err_set(err, BS_ERR_INTERNAL, "S3 read of '%s': a ranged GET went missing", g->key);
		((struct block *)r->user)->done = 1;
		((struct block *)r->user)->busy = 0;
	}
	if (!b->q.http.res.ok) {
		if (b->q.http.res.status == 412)
			return bs_err_set(err, BS_ERR_FORMAT, "'%s' in %s changed while it was being read", g->key,
					  g->s->where);
		return s3_fail(g->s, &b->q.http.res, "GET", g->key, err);
	}
	if (b->q.http.res.body_len != b->len)
		return bs_err_set(err, BS_ERR_NET, "S3 GET '%s' in %s: %zu bytes at offset %" PRIu64 ", expected %" PRIu64,
				  g->key, g->s->where, b->q.http.res.body_len, b->off, b->len);
	return 0;
}

/* "bytes A-B/TOTAL" (or "bytes * /TOTAL" of a 416) -> TOTAL; -1 if absent */
static int64_t range_total(const struct bs_http_result *res)
{
	const char *v = bs_http_header(res, "Content-Range"), *slash = v ? strrchr(v, '/') : NULL;

	return slash && slash[1] >= '0' && slash[1] <= '9' ? (int64_t)strtoull(slash + 1, NULL, 10) : -1;
}

static int first_block(struct s3_get *g, struct bs_err *err)
{
	struct block *b = &g->b[0];
	const struct bs_http_result *res = &b->q.http.res;
	const char *etag;
	int64_t total;

	if (g->next_off == g->end) /* nothing asked: only say whether it exists */
		return s3_head(g->s, g->key, NULL, err);
	if (block_start(g, b, err) < 0)
		return -1;
	while (!b->done) {
		struct bs_http_req *r = bs_http_next(g->c, -1);
		if (!r)
			return bs_err_set(err, BS_ERR_INTERNAL, "S3 read of '%s': a ranged GET went missing", g->key);
		b->done = 1;
		b->busy = 0;
	}
	if (res->status == 416) { /* the offset is at or past the end */
		s3_req_release(&b->q);
		b->done = 0;
		g->end = g->next_off = b->off;
		return 0;
	}
	if (!res->ok)
		return s3_fail(g->s, res, "GET", g->key, err);
	if ((total = range_total(res)) < 0) {
		if (res->status != 200 || b->off != 0)
			return bs_err_set(err, BS_ERR_NET, "S3 GET '%s' in %s: the store ignored the Range header",
					  g->key, g->s->where);
		total = (int64_t)res->body_len; /* a whole object, sent without a range */
	}
	etag = bs_http_header(res, "ETag");
	snprintf(g->etag, sizeof(g->etag), "%s", etag ? etag : "");
	if (g->end > (uint64_t)total)
		g->end = (uint64_t)total;
	b->len = g->end > b->off ? (g->end - b->off < b->len ? g->end - b->off : b->len) : 0;
	g->next_off = b->off + b->len;
	if (res->body_len != b->len)
		return bs_err_set(err, BS_ERR_NET, "S3 GET '%s' in %s: %zu bytes at offset %" PRIu64 ", expected %" PRIu64,
				  g->key, g->s->where, res->body_len, b->off, b->len);
	if (b->len == 0) {
		s3_req_release(&b->q);
		b->done = 0;
	}
	/* one block ahead */
	if (g->next_off < g->end && block_start(g, &g->b[1], err) < 0)
		return -1;
	return 0;
}

static ssize_t get_read(void *priv, void *buf, size_t len, struct bs_err *err)
{
	struct s3_get *g = priv;
	struct block *b = &g->b[g->cur];
	size_t n;

	if (!b->busy && !b->done)
		return 0; /* nothing more was requested: the end */
	if (block_wait(g, b, err) < 0)
		return -1;
	n = b->q.http.res.body_len - g->used;
	if (n > len)
		n = len;
	memcpy(buf, b->q.http.res.body + g->used, n);
	g->used += n;
	if (g->used == b->q.http.res.body_len) {
		s3_req_release(&b->q);
		b->done = 0;
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
	struct s3_get *g = priv;
	int i;

	if (g->b[0].busy || g->b[1].busy) { /* in flight: the client goes with it */
		bs_http_free(g->c);
		g->c = NULL;
	}
	for (i = 0; i < 2; i++)
		s3_req_release(&g->b[i].q);
	if (g->c)
		s3_client_put(g->s, g->c);
	free(g);
}

static const struct bs_rstream_ops get_ops = { get_read, get_free };

/* The first block, fetched before the stream is handed out: a missing
 * object fails here (BS_ERR_NOT_FOUND), and its answer says the object's
 * size (Content-Range) and ETag, so a small object costs one request. */
static int first_block(struct s3_get *g, struct bs_err *err);

int s3_get(struct bs_repo *r, const char *key, uint64_t offset, uint64_t length, struct bs_rstream **out,
	   struct bs_err *err)
{
	struct s3 *s = r->priv;
	struct s3_get *g;

	*out = NULL;
	if (!(g = calloc(1, sizeof(*g))))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	g->s = s;
	snprintf(g->key, sizeof(g->key), "%s", key);
	g->next_off = offset;
	g->end = length == BS_REPO_TO_END || length > UINT64_MAX - offset ? UINT64_MAX : offset + length;
	if (!(g->c = s3_client(s, err))) {
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
	struct s3_req q;
	char *buf;
	int no;
	int busy;
};

struct s3_put {
	struct s3 *s;
	struct bs_http *c;
	char key[BS_REPO_KEY_MAX + 1];
	char marker[96];
	int create_only;
	uint64_t base;          /* part size of parts 1..1000 */
	char *buf;
	size_t len, cap;
	uint64_t total;         /* bytes written */
	char *upload;           /* multipart upload id, or NULL */
	int nparts;             /* parts started */
	char **etags;           /* [nparts] */
	struct part inflight[S3_PARTS_IN_FLIGHT];
	int done;
};

static uint64_t part_size(const struct s3_put *p, int no)
{
	int shift = (no - 1) / 1000;
	uint64_t sz = p->base << (shift > 10 ? 10 : shift);

	return sz > (5ull << 30) ? (5ull << 30) : sz;
}

/* The marker of an unfinished put: "<key>\n<upload id or ->\n". */
static int write_marker(struct s3_put *p, struct bs_err *err)
{
	char body[BS_REPO_KEY_MAX + 1100];
	struct s3_req q;
	int n, rc;

	if (!p->marker[0]) {
		unsigned char d[BS_SHA256_LEN];
		char hex[65], seed[BS_REPO_KEY_MAX + 64];
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		n = snprintf(seed, sizeof(seed), "%s %ld %ld %p", p->key, (long)ts.tv_sec, ts.tv_nsec, (void *)p);
		if (bs_sha256(seed, (size_t)n, d, err) < 0)
			return -1;
		bs_hex(d, 16, hex);
		snprintf(p->marker, sizeof(p->marker), S3_UPLOADS "%s.json", hex);
	}
	n = snprintf(body, sizeof(body), "%s\n%s\n", p->key, p->upload ? p->upload : "-");
	rc = s3_prepare(p->s, &q, "PUT", p->marker, NULL, 0, NULL, body, (size_t)n, err);
	if (rc == 0)
		rc = s3_run(p->s, &q, "PUT", p->marker, err);
	s3_req_release(&q);
	return rc;
}

/* Before anything becomes visible: the marker must still be there (prune
 * removes the markers of uploads it judges abandoned; the writer must then
 * fail rather than commit), and a create-only key must still be absent. */
static int check_before_commit(struct s3_put *p, struct bs_err *err)
{
	struct s3_req q;
	int rc = s3_prepare(p->s, &q, "HEAD", p->marker, NULL, 0, NULL, NULL, 0, err);

	if (rc == 0)
		rc = s3_run(p->s, &q, "HEAD", p->marker, err);
	s3_req_release(&q);
	if (rc < 0 && err->code == BS_ERR_NOT_FOUND) {
		bs_err_set(err, BS_ERR_IO, "the upload of '%s' to %s was removed before it finished", p->key,
			   p->s->where);
		bs_err_hint(err, "a prune judged it abandoned; run again, and do not prune while writers run "
				 "longer than the lease TTL without renewing");
		return -1;
	}
	if (rc < 0 || !p->create_only)
		return rc;
	rc = s3_prepare(p->s, &q, "HEAD", p->key, NULL, 0, NULL, NULL, 0, err);
	if (rc == 0)
		rc = s3_run(p->s, &q, "HEAD", p->key, err);
	s3_req_release(&q);
	if (rc == 0) {
		bs_err_set(err, BS_ERR_EXISTS, "'%s' already exists in %s", p->key, p->s->where);
		bs_err_hint(err, "objects written create-only are never replaced; another writer made it first");
		return -1;
	}
	if (err->code != BS_ERR_NOT_FOUND)
		return -1;
	bs_err_init(err);
	return 0;
}

static int begin_multipart(struct s3_put *p, struct bs_err *err)
{
	struct bs_s3_query qv[1] = { { "uploads", "" } };
	char id[1024];
	struct s3_req q;
	struct bs_xml *x;
	int rc;

	if (s3_prepare(p->s, &q, "POST", p->key, qv, 1, (const char *const *)p->s->object_hdr, NULL, 0, err) < 0 ||
	    s3_run(p->s, &q, "start a multipart upload of", p->key, err) < 0) {
		s3_req_release(&q);
		return -1;
	}
	x = bs_xml_parse(q.http.res.body, q.http.res.body_len, "S3 multipart upload answer", err);
	rc = x && bs_xml_text(bs_xml_root(x), "UploadId", id, sizeof(id)) > 0 && strlen(id) < sizeof(id) - 1 ? 0 : -1;
	bs_xml_free(x);
	s3_req_release(&q);
	if (rc < 0)
		return bs_err_set(err, BS_ERR_FORMAT, "S3 gave no upload id for '%s' in %s", p->key, p->s->where);
	if (!(p->upload = strdup(id)))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	/* the marker names the upload, so that prune can abort it if this
	 * process dies */
	return write_marker(p, err);
}

/* A part came back: keep its ETag, or fail. */
static int part_done(struct s3_put *p, struct part *pt, struct bs_err *err)
{
	const char *etag;

	pt->busy = 0;
	free(pt->buf);
	pt->buf = NULL;
	if (!pt->q.http.res.ok) {
		s3_fail(p->s, &pt->q.http.res, "upload a part of", p->key, err);
		s3_req_release(&pt->q);
		return -1;
	}
	etag = bs_http_header(&pt->q.http.res, "ETag");
	if (!etag || !(p->etags[pt->no - 1] = strdup(etag))) {
		s3_req_release(&pt->q);
		return bs_err_set(err, BS_ERR_NET, "S3 part %d of '%s' in %s came back without an ETag", pt->no,
				  p->key, p->s->where);
	}
	s3_req_release(&pt->q);
	return 0;
}

static int wait_one(struct s3_put *p, struct bs_err *err)
{
	struct bs_http_req *r = bs_http_next(p->c, -1);

	if (!r)
		return bs_err_set(err, BS_ERR_INTERNAL, "S3 upload of '%s': a part went missing", p->key);
	return part_done(p, r->user, err);
}

static int wait_all(struct s3_put *p, struct bs_err *err)
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

static int send_part(struct s3_put *p, struct bs_err *err)
{
	char no[16];
	struct bs_s3_query qv[2];
	struct part *pt = NULL;
	char **ne;
	int i;

	if (!p->upload && begin_multipart(p, err) < 0)
		return -1;
	qv[0] = (struct bs_s3_query){ "partNumber", no };
	qv[1] = (struct bs_s3_query){ "uploadId", p->upload };
	for (;;) {
		for (i = 0; i < S3_PARTS_IN_FLIGHT && !pt; i++)
			if (!p->inflight[i].busy)
				pt = &p->inflight[i];
		if (pt)
			break;
		if (wait_one(p, err) < 0)
			return -1;
	}
	if (p->nparts == S3_PARTS_MAX)
		return bs_err_set(err, BS_ERR_IO, "'%s' needs more than %d parts", p->key, S3_PARTS_MAX);
	if (!(ne = realloc(p->etags, (size_t)(p->nparts + 1) * sizeof(*ne))))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	p->etags = ne;
	p->etags[p->nparts] = NULL;
	pt->no = ++p->nparts;
	snprintf(no, sizeof(no), "%d", pt->no);
	pt->buf = p->buf;
	p->buf = NULL;
	if (s3_prepare(p->s, &pt->q, "PUT", p->key, qv, 2, NULL, pt->buf, p->len, err) < 0)
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
	struct s3_put *p = priv;
	const char *b = buf;

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

/* The object is there with exactly the bytes written. */
static int completed_already(struct s3_put *p)
{
	struct s3_req q;
	struct bs_err e;
	const char *len;
	int ok = 0;

	bs_err_init(&e);
	if (s3_prepare(p->s, &q, "HEAD", p->key, NULL, 0, NULL, NULL, 0, &e) == 0 &&
	    s3_run(p->s, &q, "HEAD", p->key, &e) == 0) {
		len = bs_http_header(&q.http.res, "Content-Length");
		ok = len && strtoull(len, NULL, 10) == p->total;
	}
	s3_req_release(&q);
	return ok;
}

static int complete(struct s3_put *p, struct bs_err *err)
{
	struct bs_s3_query qv[1] = { { "uploadId", p->upload } };
	const char *extra[2] = { p->create_only ? "If-None-Match: *" : NULL, NULL };
	char *xml = NULL;
	size_t xl = 0;
	FILE *f = open_memstream(&xml, &xl);
	struct s3_req q;
	struct bs_xml *x;
	int i, rc;

	if (!f)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	fputs("<CompleteMultipartUpload>", f);
	for (i = 0; i < p->nparts; i++)
		fprintf(f, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", i + 1, p->etags[i]);
	fputs("</CompleteMultipartUpload>", f);
	if (fclose(f) != 0) {
		free(xml);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	rc = s3_prepare(p->s, &q, "POST", p->key, qv, 1, extra, xml, xl, err);
	if (rc == 0)
		rc = s3_run(p->s, &q, "complete the upload of", p->key, err);
	if (rc < 0 && (q.http.res.status == 404 || q.http.res.status == 412) && q.http.res.attempts > 1 &&
	    completed_already(p)) {
		/* an attempt whose answer was lost completed it; the retry found
		 * the upload gone and the object there, with every byte */
		bs_err_init(err);
		rc = 0;
	}
	/* S3 may answer 200 with an <Error> document */
	if (rc == 0 && q.http.res.body_len) {
		struct bs_err e;
		bs_err_init(&e);
		x = bs_xml_parse(q.http.res.body, q.http.res.body_len, "S3 completion answer", &e);
		if (!x || strcmp(bs_xml_name(bs_xml_root(x)), "Error") == 0) {
			q.http.res.status = 500;
			rc = s3_fail(p->s, &q.http.res, "complete the upload of", p->key, err);
		}
		bs_xml_free(x);
	}
	s3_req_release(&q);
	free(xml);
	return rc;
}

static int drop_marker(struct s3_put *p, struct bs_err *err)
{
	int rc = 0;

	if (p->marker[0])
		rc = s3_delete(p->s, p->marker, err);
	p->marker[0] = '\0';
	return rc;
}

static int put_finish(void *priv, struct bs_err *err)
{
	struct s3_put *p = priv;
	struct s3_req q;
	int rc;

	if (!p->upload) { /* small: one PUT */
		const char *extra[5] = { NULL };
		int i, n = 0;
		for (i = 0; p->s->object_hdr[i]; i++)
			extra[n++] = p->s->object_hdr[i];
		if (p->create_only)
			extra[n++] = "If-None-Match: *";
		if (check_before_commit(p, err) < 0)
			return -1;
		rc = s3_prepare(p->s, &q, "PUT", p->key, NULL, 0, extra, p->buf ? p->buf : "", p->len, err);
		if (rc == 0)
			rc = s3_run(p->s, &q, "PUT", p->key, err);
		if (rc < 0 && q.http.res.status == 412 && q.http.res.attempts > 1 && completed_already(p)) {
			bs_err_init(err); /* our own first attempt made it; its answer was lost */
			rc = 0;
		}
		s3_req_release(&q);
		if (rc < 0)
			return -1;
		p->done = 1;
		return drop_marker(p, err);
	}
	if ((p->len > 0 && send_part(p, err) < 0) || wait_all(p, err) < 0 || check_before_commit(p, err) < 0 ||
	    complete(p, err) < 0)
		return -1;
	free(p->upload);
	p->upload = NULL;
	p->done = 1;
	return drop_marker(p, err);
}

int s3_abort_upload(struct s3 *s, const char *key, const char *id, struct bs_err *err)
{
	struct bs_s3_query qv[1] = { { "uploadId", id } };
	struct s3_req q;
	int rc = s3_prepare(s, &q, "DELETE", key, qv, 1, NULL, NULL, 0, err);

	if (rc == 0)
		rc = s3_run(s, &q, "abort the multipart upload of", key, err);
	if (rc < 0 && (err->code == BS_ERR_NOT_FOUND)) {
		bs_err_init(err); /* gone already */
		rc = 0;
	} else if (rc < 0 && (q.http.res.status == 405 || q.http.res.status == 501)) {
		/* a store without AbortMultipartUpload: its parts stay until it
		 * expires them; nothing more this side can do */
		bs_warn("%s cannot abort multipart uploads (HTTP %ld): the parts of '%s' stay until the store "
			"removes them (a lifecycle rule for incomplete uploads does)", s->where, q.http.res.status, key);
		bs_err_init(err);
		rc = 0;
	}
	s3_req_release(&q);
	return rc;
}

static int put_abort(void *priv, struct bs_err *err)
{
	struct s3_put *p = priv;
	struct bs_err e;
	int rc;

	bs_err_init(&e);
	wait_all(p, &e); /* parts in flight end first; their outcome no longer matters */
	p->done = 1;
	rc = p->upload ? s3_abort_upload(p->s, p->key, p->upload, err) : 0;
	free(p->upload);
	p->upload = NULL;
	if (rc == 0)
		rc = drop_marker(p, err);
	return rc;
}

static void put_free(void *priv)
{
	struct s3_put *p = priv;
	struct bs_err e;
	int i;

	bs_err_init(&e);
	if (!p->done && put_abort(p, &e) < 0)
		bs_warn("%s (prune removes the upload later)", e.msg);
	for (i = 0; i < S3_PARTS_IN_FLIGHT; i++) {
		free(p->inflight[i].buf);
		s3_req_release(&p->inflight[i].q);
	}
	for (i = 0; i < p->nparts; i++)
		free(p->etags[i]);
	free(p->etags);
	free(p->buf);
	free(p->upload);
	s3_client_put(p->s, p->c);
	free(p);
}

static const struct bs_repo_put_ops put_ops = { put_write, put_finish, put_abort, put_free };

int s3_put(struct bs_repo *r, const char *key, const struct bs_repo_put_opts *opts,
	   const struct bs_repo_put_ops **ops, void **priv, struct bs_err *err)
{
	struct s3 *s = r->priv;
	struct s3_put *p;
	struct s3_req q;
	uint64_t hint = opts ? opts->size_hint : 0;

	if (opts && opts->create_only) { /* HEAD first: most stores ignore If-None-Match on writes */
		int rc = s3_prepare(s, &q, "HEAD", key, NULL, 0, NULL, NULL, 0, err);
		if (rc == 0)
			rc = s3_run(s, &q, "HEAD", key, err);
		s3_req_release(&q);
		if (rc == 0) {
			bs_err_set(err, BS_ERR_EXISTS, "'%s' already exists in %s", key, s->where);
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
	p->s = s;
	snprintf(p->key, sizeof(p->key), "%s", key);
	p->create_only = opts && opts->create_only;
	p->base = s->part_size;
	if (hint / 9000 > p->base)
		p->base = (hint / 9000 + (1u << 20) - 1) & ~(uint64_t)((1u << 20) - 1);
	if (!(p->c = s3_client(s, err))) {
		free(p);
		return -1;
	}
	if (write_marker(p, err) < 0) {
		s3_client_put(s, p->c);
		free(p);
		return -1;
	}
	*ops = &put_ops;
	*priv = p;
	return 0;
}
