/* loaders.c - a pool of loader threads, each with its own session on the
 * target, fed through a bounded queue by the thread reading the archive.
 *
 * A chunk job decompresses one data member straight into COPY FROM STDIN
 * and digests the rows on the way, so the restored data can be checked
 * against the manifest.  Several loaders may load chunks of the same table
 * at once.  The first failure stops the pool: queued work is dropped, the
 * other loaders abort their COPY, and every later call returns that error.
 * Memory: at most 2 x loaders jobs are queued, and at most RS_QUEUE_BYTES
 * of compressed data are queued or being loaded (or one member, if larger).
 */
#include "restore/restore_int.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "archive/chunk.h"
#include "common/log.h"
#include "pg/conn.h"
#include "pg/copy.h"
#include "snap/rowhash.h"

struct rs_job {
	struct rs_job *next;
	struct rs_table *t;   /* chunk job, or NULL: SQL job */
	uint32_t seq;
	void *buf;
	size_t len;
	char *sql;
};

struct rs_worker {
	struct rs_pool *pool;
	PGconn *conn;
	pthread_t thread;
	int started;
	/* bs_digest_add_row on a reused context (OpenSSL 3's one-shot
	 * SHA256() costs 3x as much on short rows) */
	struct snap_rowhash *rh;
	/* partial row carried between decompressed pieces */
	char *part;
	size_t plen, pcap;
};

struct rs_pool {
	struct rs_ctx *cx;
	pthread_mutex_t mu;
	pthread_cond_t cv_work;    /* a job was queued, or stop */
	pthread_cond_t cv_space;   /* a job finished (space, idle) */
	struct rs_job *head, *tail;
	size_t queued;             /* jobs waiting */
	size_t bytes;              /* compressed bytes queued or being loaded */
	size_t busy;               /* jobs being run */
	int closing;
	atomic_int failed;
	struct bs_err err;         /* the first failure */
	struct rs_worker *w;
	int n;
};

static void job_free(struct rs_job *j)
{
	if (!j)
		return;
	free(j->buf);
	free(j->sql);
	free(j);
}

/* Record the first failure and stop everything; called with mu held. */
static void fail_locked(struct rs_pool *p, const struct bs_err *e)
{
	struct rs_job *j;

	if (!atomic_load(&p->failed)) {
		p->err = *e;
		atomic_store(&p->failed, 1);
	}
	while ((j = p->head)) {
		p->head = j->next;
		p->bytes -= j->len;
		job_free(j);
	}
	p->tail = NULL;
	p->queued = 0;
	pthread_cond_broadcast(&p->cv_work);
	pthread_cond_broadcast(&p->cv_space);
}

/* ---- chunk loading ---- */

struct sink {
	struct rs_worker *w;
	struct bs_digest digest;
	uint64_t raw;
};

static int part_append(struct rs_worker *w, const char *p, size_t n)
{
	if (w->plen + n > w->pcap) {
		size_t ncap = w->pcap ? w->pcap : 4096;
		char *np;
		while (ncap < w->plen + n)
			ncap *= 2;
		if (!(np = realloc(w->part, ncap)))
			return -1;
		w->part = np;
		w->pcap = ncap;
	}
	memcpy(w->part + w->plen, p, n);
	w->plen += n;
	return 0;
}

/* Digest whole rows; a row cut between pieces waits in w->part. */
static int digest_piece(struct sink *s, const char *p, size_t len)
{
	struct rs_worker *w = s->w;
	const char *end = p + len, *nl;

	if (w->plen > 0) {
		if (!(nl = memchr(p, '\n', len)))
			return part_append(w, p, len);
		if (part_append(w, p, (size_t)(nl - p)) < 0)
			return -1;
		snap_rowhash_add(w->rh, &s->digest, w->part, w->plen);
		w->plen = 0;
		p = nl + 1;
	}
	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
		snap_rowhash_add(w->rh, &s->digest, p, (size_t)(nl - p));
		p = nl + 1;
	}
	return p < end ? part_append(w, p, (size_t)(end - p)) : 0;
}

static int sink_fn(void *ud, const void *buf, size_t len, struct bs_err *err)
{
	struct sink *s = ud;
	struct rs_pool *p = s->w->pool;

	if (atomic_load(&p->failed))
		return bs_err_set(err, BS_ERR_INTERNAL, "stopped after another loader failed");
	if (bs_pg_copy_in_send(s->w->conn, buf, len, err) < 0)
		return -1;
	if (digest_piece(s, buf, len) < 0)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	s->raw += len;
	if (p->cx->o->progress)
		atomic_fetch_add(&p->cx->o->progress->raw_bytes, len);
	return 0;
}

static int load_chunk(struct rs_worker *w, struct rs_job *j, struct rs_chunk *out, struct bs_err *err)
{
	struct sink s;
	int rc;

	memset(&s, 0, sizeof(s));
	s.w = w;
	bs_digest_init(&s.digest);
	w->plen = 0;
	if (bs_pg_copy_in_begin(w->conn, j->t->copy_sql, err) < 0)
		return -1;
	rc = bs_chunk_decompress(j->buf, j->len, sink_fn, &s, err);
	if (rc < 0) {
		bs_pg_copy_in_end(w->conn, "backstop: chunk not loaded", NULL);
		return -1;
	}
	if (bs_pg_copy_in_end(w->conn, NULL, err) < 0)
		return -1;
	if (w->plen > 0) { /* a last row without newline, as bs_digest_add_payload counts it */
		snap_rowhash_add(w->rh, &s.digest, w->part, w->plen);
		w->plen = 0;
	}
	out->seq = j->seq;
	out->raw = s.raw;
	out->digest = s.digest;
	return 0;
}

static int record_chunk(struct rs_table *t, const struct rs_chunk *c)
{
	if (t->nloaded == t->loaded_cap) {
		size_t ncap = t->loaded_cap ? t->loaded_cap * 2 : 8;
		struct rs_chunk *nl = realloc(t->loaded, ncap * sizeof(*nl));
		if (!nl)
			return -1;
		t->loaded = nl;
		t->loaded_cap = ncap;
	}
	t->loaded[t->nloaded++] = *c;
	return 0;
}

static void *worker_main(void *arg)
{
	struct rs_worker *w = arg;
	struct rs_pool *p = w->pool;
	struct bs_progress *pg = p->cx->o->progress;

	for (;;) {
		struct rs_job *j;
		struct rs_chunk c;
		struct bs_err e;
		int rc;

		pthread_mutex_lock(&p->mu);
		while (!p->head && !p->closing && !atomic_load(&p->failed))
			pthread_cond_wait(&p->cv_work, &p->mu);
		if (atomic_load(&p->failed) || !p->head) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		j = p->head;
		p->head = j->next;
		if (!p->head)
			p->tail = NULL;
		p->queued--;
		p->busy++;
		pthread_mutex_unlock(&p->mu);
		/* the reader may be waiting for queue space */
		pthread_cond_broadcast(&p->cv_space);

		bs_err_init(&e);
		if (j->t) {
			char member[64];
			bs_member_chunk_name(member, j->t->no, j->seq);
			rc = load_chunk(w, j, &c, &e);
			if (rc < 0)
				bs_err_prefix(&e, "loading %s into %s", member, j->t->qname);
		} else {
			rc = bs_pg_exec(w->conn, j->sql, &e);
		}

		pthread_mutex_lock(&p->mu);
		p->busy--;
		p->bytes -= j->len;
		if (rc == 0 && j->t && record_chunk(j->t, &c) < 0) {
			bs_err_set(&e, BS_ERR_NOMEM, "out of memory");
			rc = -1;
		}
		if (rc < 0)
			fail_locked(p, &e);
		pthread_cond_broadcast(&p->cv_space);
		pthread_mutex_unlock(&p->mu);
		if (rc == 0 && j->t && pg) {
			atomic_fetch_add(&pg->rows, c.digest.rows);
		}
		job_free(j);
	}
	return NULL;
}

/* ---- the pool ---- */

int rs_pool_start(struct rs_ctx *cx, int n, struct rs_pool **out, struct bs_err *err)
{
	struct rs_pool *p = calloc(1, sizeof(*p));
	int i;

	*out = NULL;
	if (!p || !(p->w = calloc((size_t)n, sizeof(*p->w)))) {
		free(p);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	p->cx = cx;
	p->n = n;
	atomic_init(&p->failed, 0);
	bs_err_init(&p->err);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv_work, NULL);
	pthread_cond_init(&p->cv_space, NULL);
	for (i = 0; i < n; i++) {
		p->w[i].pool = p;
		if (!(p->w[i].rh = snap_rowhash_new())) {
			bs_err_set(err, BS_ERR_NOMEM, "out of memory");
			goto fail;
		}
		if (rs_target_session(cx, &p->w[i].conn, err) < 0)
			goto fail;
		/* --data-only loads into a live schema: don't fire its triggers
		 * (audit rows, foreign-key checks across parallel loads) */
		if (cx->o->data_only && cx->superuser &&
		    bs_pg_exec(p->w[i].conn, "SET session_replication_role = replica", err) < 0)
			goto fail;
	}
	for (i = 0; i < n; i++) {
		if (pthread_create(&p->w[i].thread, NULL, worker_main, &p->w[i]) != 0) {
			bs_err_set(err, BS_ERR_INTERNAL, "unable to start a loader thread");
			goto fail;
		}
		p->w[i].started = 1;
	}
	*out = p;
	return 0;
fail:
	rs_pool_free(p);
	return -1;
}

static int submit(struct rs_pool *p, struct rs_job *j, struct bs_err *err)
{
	pthread_mutex_lock(&p->mu);
	while (!atomic_load(&p->failed) &&
	       (p->queued >= 2 * (size_t)p->n || (p->bytes > 0 && p->bytes + j->len > RS_QUEUE_BYTES)))
		pthread_cond_wait(&p->cv_space, &p->mu);
	if (atomic_load(&p->failed)) {
		*err = p->err;
		pthread_mutex_unlock(&p->mu);
		job_free(j);
		return -1;
	}
	j->next = NULL;
	if (p->tail)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	p->queued++;
	p->bytes += j->len;
	pthread_cond_signal(&p->cv_work);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

int rs_pool_chunk(struct rs_pool *p, struct rs_table *t, uint32_t seq, void *buf, size_t len,
		  struct bs_err *err)
{
	struct rs_job *j = calloc(1, sizeof(*j));

	if (!j) {
		free(buf);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	j->t = t;
	j->seq = seq;
	j->buf = buf;
	j->len = len;
	return submit(p, j, err);
}

int rs_pool_sql(struct rs_pool *p, const char *sql, struct bs_err *err)
{
	struct rs_job *j = calloc(1, sizeof(*j));

	if (!j || !(j->sql = strdup(sql))) {
		free(j);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	return submit(p, j, err);
}

int rs_pool_wait(struct rs_pool *p, struct bs_err *err)
{
	int rc = 0;

	pthread_mutex_lock(&p->mu);
	while (!atomic_load(&p->failed) && (p->head || p->busy > 0))
		pthread_cond_wait(&p->cv_space, &p->mu);
	if (atomic_load(&p->failed)) {
		*err = p->err;
		rc = -1;
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

void rs_pool_free(struct rs_pool *p)
{
	int i;

	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->closing = 1;
	if (!atomic_load(&p->failed)) {
		/* drop queued work without recording a failure */
		struct rs_job *j;
		while ((j = p->head)) {
			p->head = j->next;
			job_free(j);
		}
		p->tail = NULL;
		p->queued = 0;
	}
	pthread_cond_broadcast(&p->cv_work);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->n; i++) {
		if (p->w[i].started)
			pthread_join(p->w[i].thread, NULL);
		if (p->w[i].conn)
			PQfinish(p->w[i].conn);
		free(p->w[i].part);
		snap_rowhash_free(p->w[i].rh);
	}
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv_work);
	pthread_cond_destroy(&p->cv_space);
	free(p->w);
	free(p);
}
