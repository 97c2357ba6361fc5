/* loaders.c - a pool of loader threads, each with its own session on the
 * target, fed through a bounded queue by the thread reading the archive.
 *
 * A chunk job decompresses one data member straight into COPY FROM STDIN
 * and digests the rows on the way, so the restored data can be checked
 * against the manifest.  While the loaders have a backlog, the reader
 * decompresses and digests chunks before queueing them (prepare()), so a
 * loader only has to keep its server process fed.
 *
 * Lanes: when the restore created the table (every restore but
 * --data-only) and its first chunk is not small (FREEZE_MIN_BYTES), the
 * loader that takes that chunk opens a
 * transaction, TRUNCATEs the (empty) table and loads with COPY FREEZE; it
 * keeps that transaction, and the table, for as long as it finds more of
 * the table's chunks in the queue, and commits when it moves on, when the
 * pool drains, or as soon as another loader finds nothing to do but chunks
 * of that table.  Frozen rows are written all-visible: the index builds,
 * ANALYZE and the first VACUUM that follow neither look up nor set hint
 * bits (nor dirty every page doing so), and the table keeps the archive's
 * row order.  So tables load in parallel with each other, frozen, and a
 * table that dominates the archive is loaded by every loader at once after
 * its first chunk (plain COPY: measured on pgbench, two sessions loading
 * one table beat one session with FREEZE by more than the slower index
 * build that follows costs).
 *
 * Post-data while loading: once a table's end member has come (format
 * version 3), its chunks are loaded and its lane committed, the table's
 * indexes and key constraints (rs_schema_early_run) may be built.  A
 * loader that finds no chunk it may load takes them (or, once the ready
 * tables hold EARLY_FIRST_BYTES of data, before it takes another table's
 * chunks), all the tables that are ready in one pg_restore --use-list
 * (one session, counted as that loader's: never more server sessions at
 * work than loaders).  It waits
 * until enough is ready to be worth a pg_restore process (EARLY_BYTES of
 * data or EARLY_TABLES tables), and starts one only while data is still
 * loading beside it (the final pass does the rest, in parallel).  Only
 * when there is
 * not even that to do does it ask a lane to share its table: two loaders
 * on one table interleave its pages (the table loses its physical order,
 * and its primary key builds slower).
 *
 * The first failure stops the pool: queued work is dropped, the other
 * loaders abort their COPY, and every later call returns that error.
 * Memory: at most 2 x loaders jobs are queued, and at most RS_QUEUE_BYTES
 * of data (compressed, or decompressed once prepared) are queued or being
 * loaded, plus the member the reader holds (at most RS_MEMBER_MAX
 * compressed or RS_PREP_MAX prepared).
 */
#include "restore/restore_int.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "archive/chunk.h"
#include "common/log.h"
#include "pg/conn.h"
#include "pg/copy.h"

/* What makes a post-data batch worth a pg_restore process (see above). */
/* A table whose first chunk holds less than this (compressed, or raw once
 * prepared) is small: it is loaded with plain COPY, without a lane.  The
 * lane's TRUNCATE makes new files for the table and its TOAST table and
 * index, and its transaction is a commit more: on 5,000 tables of a few
 * rows that was most of the data phase (bench/RESULTS.md, issue 12), and
 * FREEZE saves nothing worth it on a few pages. */
#define FREEZE_MIN_BYTES ((size_t)64 << 10)

#define EARLY_BYTES ((uint64_t)8 << 20)
#define EARLY_TABLES 200
/* Ready tables holding this much data have their post-data started at
 * once, before a loader takes another table's chunks: the index builds of
 * a large table (a GIN index on a large jsonb table takes three times its
 * load) are the restore's long pole, and the sooner they start the more
 * of the loading they overlap (snap copies such tables first). */
#define EARLY_FIRST_BYTES ((uint64_t)64 << 20)

struct rs_job {
	struct rs_job *next;
	struct rs_table *t;   /* chunk job, or NULL: SQL job */
	uint32_t seq;
	void *buf;            /* the member (compressed), or NULL once prepared */
	size_t len;           /* bytes held: compressed, or raw once prepared */
	char *raw;            /* prepared: decompressed COPY text ... */
	size_t raw_len;
	struct bs_digest digest; /* ... and its digest */
	char *sql;
};

struct rs_worker {
	struct rs_pool *pool;
	PGconn *conn;
	struct rs_table *lane;   /* table whose FREEZE transaction is open */
	pthread_t thread;
	int started;
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
	size_t lanes;              /* loaders with an open transaction */
	int freeze;                /* the restore created the tables */
	int draining;              /* rs_pool_wait: close the lanes when idle */
	size_t pd_ready;           /* tables whose post-data may run */
	uint64_t pd_ready_bytes;   /* their data */
	size_t pd_batches, pd_tables;
	int pd_over;               /* rs_pool_wait returned: no more batches */
	int ends;                  /* the archive has table end members (version 3) */
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
	free(j->raw);
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
		bs_digest_add_row(&s->digest, w->part, w->plen);
		w->plen = 0;
		p = nl + 1;
	}
	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
		bs_digest_add_row(&s->digest, p, (size_t)(nl - p));
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

/* A prepared chunk: the COPY text is in memory, digested already. */
static int send_prepared(struct rs_worker *w, struct rs_job *j, struct bs_err *err)
{
	struct rs_pool *p = w->pool;
	size_t off = 0;

	while (off < j->raw_len) {
		size_t n = j->raw_len - off > RS_SEND_PIECE ? RS_SEND_PIECE : j->raw_len - off;
		if (atomic_load(&p->failed))
			return bs_err_set(err, BS_ERR_INTERNAL, "stopped after another loader failed");
		if (bs_pg_copy_in_send(w->conn, j->raw + off, n, err) < 0)
			return -1;
		if (p->cx->o->progress)
			atomic_fetch_add(&p->cx->o->progress->raw_bytes, n);
		off += n;
	}
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
	if (bs_pg_copy_in_begin(w->conn, w->lane == j->t ? j->t->copy_freeze_sql : j->t->copy_sql, err) < 0)
		return -1;
	if (j->raw) {
		rc = send_prepared(w, j, err);
		s.digest = j->digest;
		s.raw = j->raw_len;
	} else {
		rc = bs_chunk_decompress(j->buf, j->len, sink_fn, &s, err);
	}
	if (rc < 0) {
		bs_pg_copy_in_end(w->conn, "backstop: chunk not loaded", NULL);
		return -1;
	}
	if (bs_pg_copy_in_end(w->conn, NULL, err) < 0)
		return -1;
	if (w->plen > 0) { /* a last row without newline, as bs_digest_add_payload counts it */
		bs_digest_add_row(&s.digest, w->part, w->plen);
		w->plen = 0;
	}
	out->seq = j->seq;
	out->raw = s.raw;
	out->digest = s.digest;
	return 0;
}

/* t's post-data may run once its data is in and committed; called with
 * mu held. */
static void maybe_ready(struct rs_pool *p, struct rs_table *t)
{
	if (t->pd != RS_PD_WAIT || !t->ended || t->nloaded != t->claimed || t->state == RS_FREEZING)
		return;
	t->pd = RS_PD_READY;
	p->pd_ready++;
	p->pd_ready_bytes += t->raw_loaded;
	pthread_cond_broadcast(&p->cv_work);
}

/* The lane's table is complete: nothing more will come for it. */
static int lane_complete(const struct rs_table *t)
{
	return t->ended && t->nloaded == t->claimed;
}

/* Is a post-data batch worth starting now: enough of it, and data still
 * loading beside it (else the final pass, in parallel, does better)?
 * Called with mu held. */
static int batch_wanted(const struct rs_pool *p)
{
	return p->pd_ready > 0 && !p->closing && !p->pd_over &&
	       (p->pd_ready_bytes >= EARLY_BYTES || p->pd_ready >= EARLY_TABLES) &&
	       (p->head || p->busy > 0 || p->lanes > 0);
}

/* Run the post-data of every ready table; called and returns with mu
 * held, released meanwhile. */
static int run_batch(struct rs_worker *w, struct bs_err *err)
{
	struct rs_pool *p = w->pool;
	struct rs_ctx *cx = p->cx;
	struct rs_table **tabs = calloc(p->pd_ready, sizeof(*tabs));
	size_t i, n = 0;
	double t0;
	int rc;

	if (!tabs)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	for (i = 0; i < cx->ntables && n < p->pd_ready; i++)
		if (cx->tables[i].pd == RS_PD_READY) {
			cx->tables[i].pd = RS_PD_RUNNING;
			tabs[n++] = &cx->tables[i];
		}
	p->pd_ready = 0;
	p->pd_ready_bytes = 0;
	p->busy++;
	p->pd_batches++;
	p->pd_tables += n;
	pthread_mutex_unlock(&p->mu);

	t0 = bs_now();
	bs_debug("restore: post-data of %zu table%s while loading, from %s", n, n == 1 ? "" : "s",
		 n ? tabs[0]->qname : "?");
	rc = rs_schema_early_run(cx, tabs, n, err);
	bs_debug("restore: post-data of %zu table%s while loading: %.3f s%s", n, n == 1 ? "" : "s",
		 bs_now() - t0, rc < 0 ? " (failed)" : "");

	pthread_mutex_lock(&p->mu);
	p->busy--;
	for (i = 0; i < n; i++)
		tabs[i]->pd = rc == 0 ? RS_PD_DONE : RS_PD_WAIT;
	free(tabs);
	pthread_cond_broadcast(&p->cv_space);
	return rc;
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
	t->raw_loaded += c->raw;
	return 0;
}

/* ---- scheduling ---- */

static struct rs_job *take(struct rs_pool *p, struct rs_job *j, struct rs_job *prev)
{
	if (prev)
		prev->next = j->next;
	else
		p->head = j->next;
	if (p->tail == j)
		p->tail = prev;
	p->queued--;
	return j;
}

/* What this loader does next, in this order of preference:
 *   1. more of its lane's table;
 *   2. the post-data of finished tables (*batch = 1) when they hold
 *      EARLY_FIRST_BYTES of data and other loaders go on loading;
 *   3. the first job whose table no other loader is loading (in a lane or
 *      with plain COPY);
 *   4. the post-data of finished tables (*batch = 1), when worth it;
 *   5. a chunk of a table another loader is loading with plain COPY (two
 *      loaders on one table: faster now, but the table's pages interleave);
 *   6. nothing: *blocked is a table in another loader's lane that has work
 *      queued, if any (the caller may ask it to share).
 * While the archive says when tables are complete (p->ends), a loader
 * whose lane is not complete waits for more of it rather than take 5 or
 * ask for 6.  Called with mu held; the job is taken off the queue. */
static struct rs_job *pick(struct rs_pool *p, struct rs_worker *w, struct rs_table **blocked, int *batch)
{
	struct rs_job *j, *prev = NULL, *best = NULL, *best_prev = NULL, *shared = NULL, *shared_prev = NULL;
	int waits_for_lane = p->ends && w->lane && !lane_complete(w->lane);

	*blocked = NULL;
	*batch = 0;
	for (j = p->head; j; prev = j, j = j->next) {
		if (w->lane && j->t == w->lane)
			return take(p, j, prev);
		if (j->t && j->t->state == RS_FREEZING) {
			if (!*blocked)
				*blocked = j->t;
			continue;
		}
		if (j->t && j->t->active > 0) {
			if (!shared) {
				shared = j;
				shared_prev = prev;
			}
			continue;
		}
		if (!best) {
			best = j;
			best_prev = prev;
			if (!w->lane)
				break;
		}
	}
	/* post-data: before another table's chunks once the ready tables hold
	 * EARLY_FIRST_BYTES (2), otherwise only when there are none (4) */
	if (!w->lane && batch_wanted(p) && (!best || (p->n > 1 && p->pd_ready_bytes >= EARLY_FIRST_BYTES))) {
		*batch = 1;
		*blocked = NULL;
		return NULL;
	}
	if (best)
		return take(p, best, best_prev);
	if (waits_for_lane) {
		*blocked = NULL;
		return NULL;
	}
	if (shared)
		return take(p, shared, shared_prev);
	return NULL;
}

/* Commit the lane's transaction; the table is then open to every loader. */
static int close_lane(struct rs_worker *w, struct bs_err *err)
{
	struct rs_pool *p = w->pool;
	struct rs_table *t = w->lane;
	int rc = bs_pg_exec(w->conn, "COMMIT", err);

	if (rc < 0)
		bs_err_prefix(err, "loading %s", t->qname);
	pthread_mutex_lock(&p->mu);
	w->lane = NULL;
	p->lanes--;
	t->state = RS_LOADED;
	t->release = 0;
	maybe_ready(p, t);
	pthread_cond_broadcast(&p->cv_work);
	pthread_cond_broadcast(&p->cv_space);
	pthread_mutex_unlock(&p->mu);
	return rc;
}

/* Start a lane for a fresh table: BEGIN; TRUNCATE ONLY.  If the table
 * cannot be truncated (not its owner), load it without FREEZE. */
static int open_lane(struct rs_worker *w, struct rs_table *t, struct bs_err *err)
{
	struct rs_pool *p = w->pool;
	char sql[64 + 2 * 256 + 8];
	struct bs_err e2;

	if (bs_pg_exec(w->conn, "BEGIN", err) < 0)
		return -1;
	snprintf(sql, sizeof(sql), "TRUNCATE ONLY %.*s", 2 * 256 + 4, t->qname);
	bs_err_init(&e2);
	if (bs_pg_exec(w->conn, sql, &e2) < 0) {
		bs_debug("restore: %s: loading without FREEZE: %s", t->qname, e2.msg);
		if (bs_pg_exec(w->conn, "ROLLBACK", err) < 0)
			return -1;
		pthread_mutex_lock(&p->mu);
		t->state = RS_LOADED;
		maybe_ready(p, t);
		pthread_cond_broadcast(&p->cv_work);
		pthread_mutex_unlock(&p->mu);
		return 0;
	}
	pthread_mutex_lock(&p->mu);
	w->lane = t;
	p->lanes++;
	pthread_mutex_unlock(&p->mu);
	return 0;
}

static void *worker_main(void *arg)
{
	struct rs_worker *w = arg;
	struct rs_pool *p = w->pool;
	struct bs_progress *pg = p->cx->o->progress;

	for (;;) {
		struct rs_job *j = NULL;
		struct rs_table *blocked = NULL;
		struct rs_chunk c;
		struct bs_err e;
		int rc = 0, fresh = 0, batch = 0;

		bs_err_init(&e);
		pthread_mutex_lock(&p->mu);
		for (;;) {
			if (atomic_load(&p->failed))
				break;
			if (w->lane && w->lane->release)
				break; /* another loader waits for this table */
			if ((j = pick(p, w, &blocked, &batch)) || batch)
				break;
			if (w->lane && (p->draining || p->closing || lane_complete(w->lane)))
				break; /* nothing more for the lane: commit it */
			/* nothing else to do: share a lane's table */
			if (blocked)
				blocked->release = 1;
			if (p->closing && !p->head)
				break;
			pthread_cond_wait(&p->cv_work, &p->mu);
		}
		if (batch && !atomic_load(&p->failed)) {
			rc = run_batch(w, &e);
			if (rc < 0)
				fail_locked(p, &e);
			pthread_mutex_unlock(&p->mu);
			continue;
		}
		if (atomic_load(&p->failed) || (!j && !w->lane)) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		if (j) {
			p->busy++;
			if (j->t)
				j->t->active++;
			if (j->t && j->t->state == RS_FRESH && p->freeze && !j->t->keep_rows) {
				/* decided once, on the table's first chunk: a lane,
				 * or plain COPY for good (a lane opened later
				 * would TRUNCATE rows already loaded) */
				if (j->len >= FREEZE_MIN_BYTES) {
					j->t->state = RS_FREEZING;
					fresh = 1;
				} else {
					j->t->state = RS_LOADED;
				}
			}
		}
		pthread_mutex_unlock(&p->mu);
		/* the reader may be waiting for queue space */
		pthread_cond_broadcast(&p->cv_space);

		if (w->lane && (!j || j->t != w->lane))
			rc = close_lane(w, &e);
		if (rc == 0 && fresh)
			rc = open_lane(w, j->t, &e);
		if (rc == 0 && j && j->t) {
			char member[64];
			bs_member_chunk_name(member, j->t->no, j->seq);
			rc = load_chunk(w, j, &c, &e);
			if (rc < 0)
				bs_err_prefix(&e, "loading %s into %s", member, j->t->qname);
		} else if (rc == 0 && j) {
			rc = bs_pg_exec(w->conn, j->sql, &e);
		}

		pthread_mutex_lock(&p->mu);
		if (j) {
			p->busy--;
			p->bytes -= j->len;
			if (j->t)
				j->t->active--;
			if (rc == 0 && j->t && record_chunk(j->t, &c) < 0) {
				bs_err_set(&e, BS_ERR_NOMEM, "out of memory");
				rc = -1;
			}
			if (rc == 0 && j->t)
				maybe_ready(p, j->t);
		}
		if (rc < 0)
			fail_locked(p, &e);
		pthread_cond_broadcast(&p->cv_space);
		pthread_mutex_unlock(&p->mu);
		if (rc == 0 && j && j->t && pg)
			atomic_fetch_add(&pg->rows, c.digest.rows);
		job_free(j);
	}
	return NULL;
}

/* ---- the pool ---- */

/* A local (Unix-domain) connection buffers only wmem_default (~200 KiB)
 * between loader and server, a couple of milliseconds of COPY: a loader
 * thread scheduled late leaves its server process waiting for input.  Ask
 * for the most the kernel allows.  (TCP sockets are left to autotuning,
 * which a fixed SO_SNDBUF would switch off.) */
static void widen_socket(PGconn *c)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	int fd = PQsocket(c), size = 8 << 20;

	if (fd >= 0 && getsockname(fd, (struct sockaddr *)&sa, &len) == 0 && sa.ss_family == AF_UNIX)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

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
	p->freeze = !cx->o->data_only;
	p->ends = cx->m->version >= BS_FORMAT_VERSION_TABLE_END;
	atomic_init(&p->failed, 0);
	bs_err_init(&p->err);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv_work, NULL);
	pthread_cond_init(&p->cv_space, NULL);
	if (cx->o->data_only && !cx->superuser)
		bs_warn("not a superuser: the target's triggers (and foreign-key checks) fire while --data-only "
			"loads the tables");
	for (i = 0; i < n; i++) {
		p->w[i].pool = p;
		if (rs_target_session(cx, &p->w[i].conn, err) < 0)
			goto fail;
		widen_socket(p->w[i].conn);
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
	/* broadcast: the job may be for a loader other than the first awake */
	pthread_cond_broadcast(&p->cv_work);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

/* ---- preparing chunks on the reader thread ---- */

struct prep {
	char *buf;
	size_t len, cap;
};

static int prep_fn(void *ud, const void *b, size_t n, struct bs_err *err)
{
	struct prep *pr = ud;

	if (pr->len + n > RS_PREP_MAX)
		return bs_err_set(err, BS_ERR_INTERNAL, "chunk too large to prepare");
	if (pr->len + n > pr->cap) {
		size_t ncap = pr->cap ? pr->cap : (size_t)1 << 20;
		char *nb;
		while (ncap < pr->len + n)
			ncap *= 2;
		if (ncap > RS_PREP_MAX)
			ncap = RS_PREP_MAX;
		if (!(nb = realloc(pr->buf, ncap)))
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		pr->buf = nb;
		pr->cap = ncap;
	}
	memcpy(pr->buf + pr->len, b, n);
	pr->len += n;
	return 0;
}

/* Decompress and digest a chunk before it is queued, so that its loader
 * only has to send it: a loader busy decompressing and hashing keeps its
 * server process waiting for input (ClientRead), more so when the machine
 * is short of CPU.  The reader does this only while the loaders have a
 * backlog (it would wait for queue space anyway).  A chunk that fails to
 * decompress is left as it is: its loader reports the error. */
static void prepare(struct rs_pool *p, struct rs_job *j)
{
	struct prep pr = { NULL, 0, 0 };
	struct bs_err e;
	const char *q, *end, *nl;

	bs_err_init(&e);
	if (bs_chunk_decompress(j->buf, j->len, prep_fn, &pr, &e) < 0) {
		free(pr.buf);
		return;
	}
	bs_digest_init(&j->digest);
	for (q = pr.buf, end = pr.buf + pr.len; q < end; q = nl + 1) {
		if (!(nl = memchr(q, '\n', (size_t)(end - q))))
			nl = end; /* a last row without newline counts, as in bs_digest_add_payload */
		bs_digest_add_row(&j->digest, q, (size_t)(nl - q));
	}
	free(j->buf);
	j->buf = NULL;
	j->raw = pr.buf;
	j->raw_len = pr.len;
	j->len = pr.len;
}

int rs_pool_chunk(struct rs_pool *p, struct rs_table *t, uint32_t seq, void *buf, size_t len,
		  struct bs_err *err)
{
	struct rs_job *j = calloc(1, sizeof(*j));
	int backlog;

	if (!j) {
		free(buf);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	j->t = t;
	j->seq = seq;
	j->buf = buf;
	j->len = len;
	pthread_mutex_lock(&p->mu);
	backlog = p->queued >= (size_t)p->n && p->bytes < RS_QUEUE_BYTES / 2;
	pthread_mutex_unlock(&p->mu);
	if (backlog)
		prepare(p, j);
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

void rs_pool_table_end(struct rs_pool *p, struct rs_table *t, uint64_t claimed)
{
	pthread_mutex_lock(&p->mu);
	t->ended = 1;
	t->claimed = claimed;
	maybe_ready(p, t);
	/* a lane waiting for more of t can commit now */
	pthread_cond_broadcast(&p->cv_work);
	pthread_mutex_unlock(&p->mu);
}

int rs_pool_wait(struct rs_pool *p, struct bs_err *err)
{
	int rc = 0;

	pthread_mutex_lock(&p->mu);
	p->draining = 1;
	pthread_cond_broadcast(&p->cv_work);
	while (!atomic_load(&p->failed) && (p->head || p->busy > 0 || p->lanes > 0))
		pthread_cond_wait(&p->cv_space, &p->mu);
	p->draining = 0;
	p->pd_over = 1; /* the data is in: the rest is the final pass's */
	if (p->pd_batches) {
		bs_debug("restore: post-data of %zu tables ran in %zu batches while loading", p->pd_tables,
			 p->pd_batches);
		p->pd_batches = p->pd_tables = 0;
	}
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
	}
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv_work);
	pthread_cond_destroy(&p->cv_space);
	free(p->w);
	free(p);
}
