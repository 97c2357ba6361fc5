/*
 * archive_check.c - verify-restore --archive-only: prove an archive is
 * complete and matches its manifest without a database (drill.h).
 *
 * One reader (the calling thread) pulls the tar stream through decryption
 * (every age chunk authenticated) and hands each data chunk, still
 * compressed, to a bounded queue; `jobs` workers decompress it (zstd frame
 * checksum) and count and digest its rows.  Large objects are small in
 * number and digested by the reader in stream order.  When the stream ends
 * (or fails: the cause becomes a finding), every chunk seen is compared with
 * the manifest, and every manifest chunk must have been seen.
 *
 * Memory: at most QUEUE_PER_JOB * jobs + jobs compressed chunks in flight,
 * plus one result record per chunk (the manifest is as large anyway).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "archive/chunk.h"
#include "archive/reader.h"
#include "common/log.h"
#include "drill/drill.h"
#include "drill/drill_int.h"

#define QUEUE_PER_JOB 2
#define JSON_MEMBER_MAX (256u << 20)
#define CHUNK_MEMBER_MAX (512u << 20) /* compressed; snap chunks are at most 256 MiB raw */
#define ROW_MAX ((size_t)1 << 30)     /* PostgreSQL's own limit for one field */
#define SCHEMA_MAGIC "PGDMP"

/* ---- digest of a COPY payload arriving in pieces ------------------------- */

struct rowdig {
	struct bs_digest d;
	uint64_t raw;
	char *carry;       /* a row cut by a piece boundary */
	size_t clen, ccap;
};

static int carry_add(struct rowdig *rd, const char *p, size_t n, struct bs_err *err)
{
	if (rd->clen + n > ROW_MAX)
		return bs_err_set(err, BS_ERR_FORMAT, "corrupt chunk: a row longer than 1 GiB");
	if (rd->clen + n > rd->ccap) {
		size_t cap = rd->ccap ? rd->ccap : 4096;
		char *nc;
		while (cap < rd->clen + n)
			cap *= 2;
		nc = realloc(rd->carry, cap);
		if (!nc)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		rd->carry = nc;
		rd->ccap = cap;
	}
	memcpy(rd->carry + rd->clen, p, n);
	rd->clen += n;
	return 0;
}

static int rowdig_feed(void *ud, const void *buf, size_t len, struct bs_err *err)
{
	struct rowdig *rd = ud;
	const char *p = buf, *end = p + len, *nl;

	rd->raw += len;
	if (rd->clen) {
		nl = memchr(p, '\n', len);
		if (!nl)
			return carry_add(rd, p, len, err);
		if (carry_add(rd, p, (size_t)(nl - p), err) < 0)
			return -1;
		bs_digest_add_row(&rd->d, rd->carry, rd->clen);
		rd->clen = 0;
		p = nl + 1;
	}
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return carry_add(rd, p, (size_t)(end - p), err);
		bs_digest_add_row(&rd->d, p, (size_t)(nl - p));
		p = nl + 1;
	}
	return 0;
}

/* A last line without newline counts as a row (as bs_digest_add_payload). */
static void rowdig_end(struct rowdig *rd)
{
	if (rd->clen)
		bs_digest_add_row(&rd->d, rd->carry, rd->clen);
	rd->clen = 0;
}

/* ---- work queue ------------------------------------------------------------ */

struct chunk_result {
	uint32_t tno, seq;
	uint64_t zbytes, raw;
	struct bs_digest d;
	char *error;       /* decompression failure, or NULL */
};

struct job {
	uint32_t tno, seq;
	char *buf;
	size_t len;
};

struct checker {
	pthread_mutex_t mu;
	pthread_cond_t not_empty, not_full;
	struct job *q;
	size_t qcap, qhead, qlen;
	int closed;

	struct chunk_result *res;
	size_t nres, rescap;
	int nomem;

	struct bs_progress *progress;
};

static int push_job(struct checker *c, struct job *j)
{
	pthread_mutex_lock(&c->mu);
	while (c->qlen == c->qcap)
		pthread_cond_wait(&c->not_full, &c->mu);
	c->q[(c->qhead + c->qlen) % c->qcap] = *j;
	c->qlen++;
	pthread_cond_signal(&c->not_empty);
	pthread_mutex_unlock(&c->mu);
	return 0;
}

static int pop_job(struct checker *c, struct job *j)
{
	pthread_mutex_lock(&c->mu);
	while (c->qlen == 0 && !c->closed)
		pthread_cond_wait(&c->not_empty, &c->mu);
	if (c->qlen == 0) {
		pthread_mutex_unlock(&c->mu);
		return 0;
	}
	*j = c->q[c->qhead];
	c->qhead = (c->qhead + 1) % c->qcap;
	c->qlen--;
	pthread_cond_signal(&c->not_full);
	pthread_mutex_unlock(&c->mu);
	return 1;
}

static void add_result(struct checker *c, const struct chunk_result *r)
{
	pthread_mutex_lock(&c->mu);
	if (c->nres == c->rescap) {
		size_t cap = c->rescap ? c->rescap * 2 : 256;
		struct chunk_result *nr = realloc(c->res, cap * sizeof(*nr));
		if (!nr) {
			c->nomem = 1;
			free(r->error);
			pthread_mutex_unlock(&c->mu);
			return;
		}
		c->res = nr;
		c->rescap = cap;
	}
	c->res[c->nres++] = *r;
	pthread_mutex_unlock(&c->mu);
}

static void *worker(void *arg)
{
	struct checker *c = arg;
	struct rowdig rd;
	struct job j;

	memset(&rd, 0, sizeof(rd));
	while (pop_job(c, &j)) {
		struct chunk_result r;
		struct bs_err err;

		bs_err_init(&err);
		bs_digest_init(&rd.d);
		rd.raw = 0;
		rd.clen = 0;
		memset(&r, 0, sizeof(r));
		r.tno = j.tno;
		r.seq = j.seq;
		r.zbytes = j.len;
		if (bs_chunk_decompress(j.buf, j.len, rowdig_feed, &rd, &err) < 0)
			r.error = strdup(err.msg[0] ? err.msg : "corrupt chunk");
		rowdig_end(&rd);
		r.d = rd.d;
		r.raw = rd.raw;
		free(j.buf);
		if (c->progress) {
			atomic_fetch_add(&c->progress->raw_bytes, rd.raw);
			atomic_fetch_add(&c->progress->rows, rd.d.rows);
		}
		add_result(c, &r);
	}
	free(rd.carry);
	return NULL;
}

/* ---- large objects: digested in stream order by the reader ---------------- */

struct blob_seen {
	uint32_t oid;
	uint32_t chunks;
	uint64_t bytes;
};

struct blob_state {
	struct blob_seen *v;
	size_t n, cap;
	struct bs_digest total;
	struct bs_digest_obj *cur;  /* digest of the object being read */
	uint32_t cur_oid, next_seq;
	int open;
};

static int blob_end(struct blob_state *b)
{
	if (b->open) {
		bs_digest_obj_end(&b->total, b->cur);
		b->cur = NULL;
		b->open = 0;
	}
	return 0;
}

static int blob_feed(void *ud, const void *buf, size_t len, struct bs_err *err)
{
	struct blob_state *b = ud;

	bs_digest_obj_update(b->cur, buf, len);
	b->v[b->n - 1].bytes += len;
	return 0;
}

static int blob_chunk(struct blob_state *b, struct bs_drill_report *r, const char *member, uint32_t oid,
		      uint32_t seq, const char *z, size_t zlen, struct bs_err *err)
{
	char label[16];
	struct bs_err e;

	if (!b->open || oid != b->cur_oid) {
		blob_end(b);
		if (seq != 0 &&
		    bs_drill_report_add(r, BS_DRILL_AREA_BLOB, member, "large object %u starts at chunk %u, not 0",
					oid, seq) < 0)
			return -1;
		if (b->n == b->cap) {
			size_t cap = b->cap ? b->cap * 2 : 64;
			struct blob_seen *nv = realloc(b->v, cap * sizeof(*nv));
			if (!nv)
				return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
			b->v = nv;
			b->cap = cap;
		}
		b->v[b->n].oid = oid;
		b->v[b->n].chunks = 0;
		b->v[b->n].bytes = 0;
		b->n++;
		snprintf(label, sizeof(label), "%u", oid);
		b->cur = bs_digest_obj_begin(label);
		if (!b->cur)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		b->cur_oid = oid;
		b->next_seq = seq;
		b->open = 1;
	}
	if (seq != b->next_seq &&
	    bs_drill_report_add(r, BS_DRILL_AREA_BLOB, member, "chunk %u of large object %u follows chunk %u", seq,
				oid, b->next_seq ? b->next_seq - 1 : 0) < 0)
		return -1;
	b->next_seq = seq + 1;
	b->v[b->n - 1].chunks++;
	bs_err_init(&e);
	if (bs_chunk_decompress(z, zlen, blob_feed, b, &e) < 0)
		return bs_drill_report_add(r, BS_DRILL_AREA_BLOB, member, "%s", e.msg);
	return 0;
}

/* ---- comparison with the manifest ----------------------------------------- */

static int cmp_result(const void *a, const void *b)
{
	const struct chunk_result *x = a, *y = b;

	if (x->tno != y->tno)
		return x->tno < y->tno ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static const struct bs_mchunk *find_chunk(const struct bs_mtable *t, uint32_t seq)
{
	size_t lo = 0, hi = t->nchunks;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (t->chunks[mid].seq == seq)
			return &t->chunks[mid];
		if (t->chunks[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int compare_chunks(struct checker *c, struct bs_manifest *m, struct bs_drill_report *r, int complete)
{
	char member[64], q[512], he[BS_DIGEST_HEX_LEN + 1], ha[BS_DIGEST_HEX_LEN + 1];
	size_t i, j, k;

	if (c->nres)
		qsort(c->res, c->nres, sizeof(*c->res), cmp_result);
	/* chunks present: belong to the manifest, unique, equal */
	for (i = 0; i < c->nres; i++) {
		const struct chunk_result *x = &c->res[i];
		struct bs_mtable *t = bs_manifest_table(m, x->tno);
		const struct bs_mchunk *mc;

		bs_member_chunk_name(member, x->tno, x->seq);
		r->chunks++;
		r->rows += x->d.rows;
		r->raw_bytes += x->raw;
		if (i > 0 && x->tno == c->res[i - 1].tno && x->seq == c->res[i - 1].seq) {
			if (bs_drill_report_add(r, BS_DRILL_AREA_ARCHIVE, member, "member appears twice in the archive") < 0)
				return -1;
			continue;
		}
		if (!t) {
			if (bs_drill_report_add(r, BS_DRILL_AREA_ARCHIVE, member,
						"extra member: table %u is not in the snapshot", x->tno) < 0)
				return -1;
			continue;
		}
		bs_drill_qname(q, sizeof(q), t->schema, t->name);
		if (x->error) {
			if (bs_drill_report_add(r, BS_DRILL_AREA_TABLE, q, "chunk %s: %s", member, x->error) < 0)
				return -1;
			continue;
		}
		if (!m->has_manifest)
			continue;
		mc = find_chunk(t, x->seq);
		if (!mc) {
			if (bs_drill_report_add(r, BS_DRILL_AREA_ARCHIVE, member,
						"extra member: the manifest lists no chunk %u of table %s", x->seq, q) < 0)
				return -1;
			continue;
		}
		if (mc->rows != x->d.rows &&
		    bs_drill_report_add(r, BS_DRILL_AREA_TABLE, q, "chunk %s holds %" PRIu64 " rows, the manifest says %" PRIu64,
					member, x->d.rows, mc->rows) < 0)
			return -1;
		if (!bs_digest_equal(&mc->digest, &x->d)) {
			bs_digest_hex(&mc->digest, he);
			bs_digest_hex(&x->d, ha);
			if (bs_drill_report_add(r, BS_DRILL_AREA_TABLE, q,
						"chunk %s: row digest %s, the manifest says %s", member, ha, he) < 0)
				return -1;
		}
		if (mc->zbytes && mc->zbytes != x->zbytes &&
		    bs_drill_report_add(r, BS_DRILL_AREA_TABLE, q, "chunk %s is %" PRIu64 " bytes, the manifest says %" PRIu64,
					member, x->zbytes, mc->zbytes) < 0)
			return -1;
	}
	if (!m->has_manifest)
		return 0;
	/* manifest chunks: each present; table totals */
	for (i = 0; i < m->ntables; i++) {
		struct bs_mtable *t = &m->tables[i];
		struct bs_drill_table *rt = &r->tables[i];
		size_t missing = 0;
		int bad = 0;

		bs_drill_qname(q, sizeof(q), t->schema, t->name);
		bs_digest_init(&rt->actual);
		/* results are sorted: find this table's run */
		for (k = 0; k < c->nres && c->res[k].tno < t->no; k++)
			;
		for (j = 0; j < t->nchunks; j++) {
			const struct bs_mchunk *mc = &t->chunks[j];
			while (k < c->nres && c->res[k].tno == t->no && c->res[k].seq < mc->seq)
				k++;
			if (k < c->nres && c->res[k].tno == t->no && c->res[k].seq == mc->seq) {
				if (c->res[k].error)
					bad = 1;
				else
					bs_digest_merge(&rt->actual, &c->res[k].d);
				continue;
			}
			missing++;
			if (complete) {
				bs_member_chunk_name(member, t->no, mc->seq);
				if (bs_drill_report_add(r, BS_DRILL_AREA_TABLE, q, "chunk %s (%" PRIu64 " rows) is missing from the archive",
							member, mc->rows) < 0)
					return -1;
			}
		}
		rt->rows_actual = rt->actual.rows;
		rt->checked = complete || missing == 0;
		rt->ok = rt->checked && !bad && !missing && rt->rows_actual == t->rows &&
			 bs_digest_equal(&rt->actual, &t->digest);
		if (rt->checked && !rt->ok && !bad && !missing && r->findings_total == 0)
			/* chunks all matched but the sum does not: cannot happen with a
			 * manifest that parsed, but say so rather than pass */
			if (bs_drill_report_add(r, BS_DRILL_AREA_TABLE, q, "rows or digest of the table differ from the manifest") < 0)
				return -1;
	}
	return 0;
}

static int cmp_seen(const void *a, const void *b)
{
	const struct blob_seen *x = a, *y = b;

	return x->oid < y->oid ? -1 : x->oid > y->oid;
}

static int cmp_mblob(const void *a, const void *b)
{
	const struct bs_mblob *x = a, *y = b;

	return x->oid < y->oid ? -1 : x->oid > y->oid;
}

/* Both lists sorted by oid, then merged: missing, extra, size, chunks. */
static int compare_blobs(struct blob_state *b, struct bs_manifest *m, struct bs_drill_report *r)
{
	char obj[32], he[BS_DIGEST_HEX_LEN + 1], ha[BS_DIGEST_HEX_LEN + 1];
	size_t i = 0, j = 0, k;
	struct bs_mblob *mb = NULL;

	if (b->n)
		qsort(b->v, b->n, sizeof(*b->v), cmp_seen);
	for (k = 1; k < b->n; k++) {
		if (b->v[k].oid != b->v[k - 1].oid)
			continue;
		snprintf(obj, sizeof(obj), "%u", b->v[k].oid);
		if (bs_drill_report_add(r, BS_DRILL_AREA_BLOB, obj, "appears twice in the archive") < 0)
			return -1;
	}
	r->blobs = b->n;
	if (!m->has_manifest)
		return 0;
	if (m->nblobs) {
		mb = malloc(m->nblobs * sizeof(*mb));
		if (!mb)
			return -1;
		memcpy(mb, m->blobs, m->nblobs * sizeof(*mb));
		qsort(mb, m->nblobs, sizeof(*mb), cmp_mblob);
	}
	while (i < m->nblobs || j < b->n) {
		int rc = 0;
		if (j == b->n || (i < m->nblobs && mb[i].oid < b->v[j].oid)) {
			snprintf(obj, sizeof(obj), "%u", mb[i].oid);
			rc = bs_drill_report_add(r, BS_DRILL_AREA_BLOB, obj, "missing from the archive (%" PRIu64 " bytes)",
						 mb[i].bytes);
			i++;
		} else if (i == m->nblobs || b->v[j].oid < mb[i].oid) {
			snprintf(obj, sizeof(obj), "%u", b->v[j].oid);
			rc = bs_drill_report_add(r, BS_DRILL_AREA_BLOB, obj, "extra large object: not in the manifest");
			j++;
		} else {
			snprintf(obj, sizeof(obj), "%u", mb[i].oid);
			if (b->v[j].bytes != mb[i].bytes)
				rc = bs_drill_report_add(r, BS_DRILL_AREA_BLOB, obj, "%" PRIu64 " bytes, the manifest says %" PRIu64,
							 b->v[j].bytes, mb[i].bytes);
			if (rc == 0 && b->v[j].chunks != mb[i].chunks)
				rc = bs_drill_report_add(r, BS_DRILL_AREA_BLOB, obj, "%u chunks, the manifest says %u",
							 b->v[j].chunks, mb[i].chunks);
			i++;
			j++;
		}
		if (rc < 0) {
			free(mb);
			return -1;
		}
	}
	free(mb);
	if (!bs_digest_equal(&b->total, &m->blob_digest)) {
		bs_digest_hex(&m->blob_digest, he);
		bs_digest_hex(&b->total, ha);
		if (bs_drill_report_add(r, BS_DRILL_AREA_BLOB, NULL, "digest of all large objects is %s, the manifest says %s",
					ha, he) < 0)
			return -1;
	}
	return 0;
}

/* ---- the reader ------------------------------------------------------------ */

/* One walk over the archive (archive/reader.h in verifier mode: every
 * problem of order, digest or binding becomes a finding). */
struct walk {
	struct checker *c;
	struct blob_state *blobs;
	struct bs_drill_report *r;
	struct bs_manifest *m;
	struct bs_areader *ar;
	struct bs_rstream *in;
	struct bs_progress *progress;
	char cur[256];            /* the member being read, for findings */
	int complete;             /* the archive was read to its end */
};

static int note(void *ud, const char *member, const char *msg)
{
	struct walk *w = ud;

	return bs_drill_report_add(w->r, BS_DRILL_AREA_ARCHIVE, member, "%s", msg);
}

/* A failure of the walk itself: a finding, or (out of memory, internal) the error. */
static int walk_failed(struct walk *w, const char *member, const char *prefix, struct bs_err *e, struct bs_err *err)
{
	if (e->code == BS_ERR_NOMEM || e->code == BS_ERR_INTERNAL) {
		*err = *e;
		return -1;
	}
	if (bs_drill_report_add(w->r, BS_DRILL_AREA_ARCHIVE, member, "%s%s", prefix, e->msg) < 0)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	return 0;
}

static int check_schema_magic(struct walk *w, struct bs_err *e)
{
	char magic[5];
	ssize_t k = bs_areader_read(w->ar, magic, sizeof(magic), e);

	if (k < 0)
		return -1;
	if ((size_t)k < sizeof(magic) || memcmp(magic, SCHEMA_MAGIC, sizeof(magic)) != 0)
		if (bs_drill_report_add(w->r, BS_DRILL_AREA_ARCHIVE, BS_MEMBER_SCHEMA,
					"not a pg_dump custom-format archive") < 0)
			return bs_err_set(e, BS_ERR_NOMEM, "out of memory");
	return 0;
}

/* One member: 0 done, -1 with e (a stream failure, or out of memory). */
static int walk_member(struct walk *w, const struct bs_amember *mem, struct bs_err *e)
{
	char *buf = NULL;
	size_t len = 0;
	int n;

	switch (mem->kind) {
	case BS_AM_GLOBALS:
		/* the reader checks it against the header's digest */
		if (bs_areader_read_all(w->ar, JSON_MEMBER_MAX, &buf, &len, e) < 0)
			return -1;
		explicit_bzero(buf, len);
		free(buf);
		return 0;
	case BS_AM_SCHEMA:
		return check_schema_magic(w, e); /* the rest is digested by the reader */
	case BS_AM_CHUNK: {
		struct job j;
		if (mem->size > CHUNK_MEMBER_MAX) {
			if (bs_drill_report_add(w->r, BS_DRILL_AREA_ARCHIVE, mem->name,
						"member of %" PRIu64 " bytes is too large for a chunk", mem->size) < 0)
				return bs_err_set(e, BS_ERR_NOMEM, "out of memory");
			return 0;
		}
		if (bs_areader_read_all(w->ar, CHUNK_MEMBER_MAX, &j.buf, &j.len, e) < 0)
			return -1;
		j.tno = mem->a;
		j.seq = mem->b;
		return push_job(w->c, &j);
	}
	case BS_AM_BLOB:
		if (bs_areader_read_all(w->ar, CHUNK_MEMBER_MAX, &buf, &len, e) < 0)
			return -1;
		n = blob_chunk(w->blobs, w->r, mem->name, mem->a, mem->b, buf, len, e);
		free(buf);
		return n;
	case BS_AM_BLOB_ACL:
		return 0; /* digested by the reader, checked against the manifest */
	case BS_AM_TABLE_END:
		return 0; /* checked by the reader: its chunks before it, the manifest's count */
	case BS_AM_MANIFEST:
		blob_end(w->blobs);
		n = bs_areader_finish(w->ar, e);
		w->complete = 1;
		if (n < 0 && e->code != BS_ERR_NOMEM && e->code != BS_ERR_INTERNAL) {
			/* after the manifest: extra bytes, the stored digest */
			if (bs_drill_report_add(w->r, BS_DRILL_AREA_ARCHIVE, NULL, "%s", e->msg) < 0)
				return bs_err_set(e, BS_ERR_NOMEM, "out of memory");
			return 0;
		}
		return n;
	}
	return 0;
}

/* Walk the archive, handing chunks to the checker threads. */
static int walk_archive(struct walk *w, const struct bs_archive_expect *x, struct bs_err *err)
{
	struct bs_err e;

	bs_err_init(&e);
	if (bs_areader_open(w->in, x, w->m, note, w, &w->ar, &e) < 0)
		return walk_failed(w, NULL, "", &e, err);
	if (bs_drill_report_tables(w->r, w->m) < 0)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	for (;;) {
		struct bs_amember mem;
		int n = bs_areader_next(w->ar, &mem, &e);

		if (w->progress)
			atomic_store(&w->progress->bytes, w->in->bytes);
		if (n == 0) {
			w->complete = 1;
			return 0;
		}
		if (n < 0)
			return walk_failed(w, w->cur[0] ? w->cur : NULL, "archive unreadable: ", &e, err);
		snprintf(w->cur, sizeof(w->cur), "%s", mem.name);
		if (walk_member(w, &mem, &e) < 0)
			return walk_failed(w, w->cur, "archive unreadable: ", &e, err);
		if (mem.kind == BS_AM_MANIFEST)
			return 0;
	}
}

int bs_drill_archive_check(struct bs_rstream *in, const struct bs_archive_expect *x, int jobs,
			   struct bs_progress *progress, struct bs_drill_report *r, struct bs_manifest *mout,
			   struct bs_err *err)
{
	struct checker c;
	struct blob_state blobs;
	struct bs_manifest mloc, *m = mout ? mout : &mloc;
	struct walk w;
	pthread_t *th = NULL;
	size_t nth = 0, i;
	int rc = -1, complete = 0, seen_manifest = 0;
	double t0 = bs_now();

	memset(&c, 0, sizeof(c));
	memset(&blobs, 0, sizeof(blobs));
	memset(&w, 0, sizeof(w));
	bs_digest_init(&blobs.total);
	bs_manifest_init(m);
	pthread_mutex_init(&c.mu, NULL);
	pthread_cond_init(&c.not_empty, NULL);
	pthread_cond_init(&c.not_full, NULL);
	c.progress = progress;
	if (jobs < 1)
		jobs = 1;
	c.qcap = (size_t)jobs * QUEUE_PER_JOB;
	c.q = calloc(c.qcap, sizeof(*c.q));
	th = calloc((size_t)jobs, sizeof(*th));
	if (!c.q || !th) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < (size_t)jobs; i++) {
		if (pthread_create(&th[i], NULL, worker, &c) != 0) {
			bs_err_set(err, BS_ERR_INTERNAL, "unable to start a checker thread");
			goto out;
		}
		nth++;
	}
	w.c = &c;
	w.blobs = &blobs;
	w.r = r;
	w.m = m;
	w.in = in;
	w.progress = progress;
	if (walk_archive(&w, x, err) < 0)
		goto out;
	complete = w.complete;
	seen_manifest = m->has_manifest;
	r->members = w.ar ? bs_areader_members(w.ar) : 0;
	blob_end(&blobs);
	/* let the workers finish what is queued */
	pthread_mutex_lock(&c.mu);
	c.closed = 1;
	pthread_cond_broadcast(&c.not_empty);
	pthread_mutex_unlock(&c.mu);
	for (i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	nth = 0;
	if (c.nomem)
		goto nomem;
	if (m->id && !seen_manifest && !complete &&
	    bs_drill_report_add(r, BS_DRILL_AREA_ARCHIVE, BS_MEMBER_MANIFEST,
				"not reached: the chunks read could not be compared with the manifest") < 0)
		goto nomem;
	if (m->id && compare_chunks(&c, m, r, complete) < 0)
		goto nomem;
	if (m->id && compare_blobs(&blobs, m, r) < 0)
		goto nomem;
	if (m->has_manifest) {
		r->sequences = m->nseqs;
		r->schema_objects = m->ninv;
	}
	r->t_total = bs_now() - t0;
	rc = 0;
	goto out;
nomem:
	bs_err_set(err, BS_ERR_NOMEM, "out of memory checking the archive");
	rc = -1;
out:
	if (nth) {
		pthread_mutex_lock(&c.mu);
		c.closed = 1;
		pthread_cond_broadcast(&c.not_empty);
		pthread_mutex_unlock(&c.mu);
		for (i = 0; i < nth; i++)
			pthread_join(th[i], NULL);
	}
	/* jobs never taken (only on early failure) */
	while (c.qlen) {
		free(c.q[c.qhead].buf);
		c.qhead = (c.qhead + 1) % c.qcap;
		c.qlen--;
	}
	for (i = 0; i < c.nres; i++)
		free(c.res[i].error);
	free(c.res);
	free(c.q);
	free(th);
	if (blobs.cur)
		bs_digest_obj_free(blobs.cur);
	free(blobs.v);
	bs_areader_free(w.ar);
	pthread_mutex_destroy(&c.mu);
	pthread_cond_destroy(&c.not_empty);
	pthread_cond_destroy(&c.not_full);
	if (!mout)
		bs_manifest_release(&mloc);
	return rc;
}
