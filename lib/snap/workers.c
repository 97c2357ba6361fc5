/* workers.c - N connections importing the exported snapshot, each taking
 * work items (largest first) and cutting its COPY stream into chunks. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/chunk.h"
#include "common/log.h"
#include "pg/conn.h"
#include "pg/copy.h"
#include "snap/snap_int.h"

struct snap_worker {
	struct snap_ctx *ctx;
	int idx;
	pthread_t th;
	int started;
	PGconn *conn;
	PGcancel *cancel;           /* guarded by ctx->cancel_mu */
	struct bs_chunk_compressor *cc;
	struct snap_table *cur;     /* table of the item being copied */
	struct bs_digest dg;        /* rows of the current chunk */
	uint64_t raw_limit;
};

static int flush_chunk(struct snap_worker *wk, struct bs_err *err)
{
	struct bs_mchunk c;
	const void *z;
	size_t zlen;

	memset(&c, 0, sizeof(c));
	c.raw_bytes = bs_chunk_raw_size(wk->cc);
	if (bs_chunk_finish(wk->cc, &z, &zlen, err) < 0)
		return -1;
	c.seq = atomic_fetch_add(&wk->cur->next_seq, 1);
	c.rows = wk->dg.rows;
	c.digest = wk->dg;
	c.zbytes = zlen;
	bs_digest_init(&wk->dg);
	return snap_writer_chunk(&wk->ctx->w, wk->cur->mt, &c, z, zlen, err);
}

static int on_row(void *ud, const char *row, size_t len, struct bs_err *err)
{
	struct snap_worker *wk = ud;

	if (atomic_load_explicit(&wk->ctx->failed, memory_order_relaxed))
		return bs_err_set(err, BS_ERR_INTERRUPTED, "cancelled");
	/* the row's COPY text line, without its newline */
	bs_digest_add_row(&wk->dg, row, len > 0 ? len - 1 : 0);
	if (bs_chunk_add(wk->cc, row, len, err) < 0)
		return -1;
	if (bs_chunk_raw_size(wk->cc) >= wk->raw_limit)
		return flush_chunk(wk, err);
	return 0;
}

/* Drop a libpq "COPY failed: " prefix: the caller names the table instead. */
static void strip_copy_prefix(struct bs_err *err)
{
	const char *pre = "COPY failed: ";
	size_t n = strlen(pre);

	if (strncmp(err->msg, pre, n) == 0)
		memmove(err->msg, err->msg + n, strlen(err->msg + n) + 1);
}

static int copy_item(struct snap_worker *wk, const struct snap_item *it, struct bs_err *err)
{
	struct snap_ctx *ctx = wk->ctx;
	char where[128], *sql;
	int rc;

	if (it->ranged) {
		if (it->from_page == 0)
			snprintf(where, sizeof(where), "ctid < '(%" PRIu64 ",0)'::pg_catalog.tid", it->to_page);
		else if (it->to_page == 0)
			snprintf(where, sizeof(where), "ctid >= '(%" PRIu64 ",0)'::pg_catalog.tid", it->from_page);
		else
			snprintf(where, sizeof(where),
				 "ctid >= '(%" PRIu64 ",0)'::pg_catalog.tid AND ctid < '(%" PRIu64 ",0)'::pg_catalog.tid",
				 it->from_page, it->to_page);
	}
	sql = bs_snap_copy_sql(it->t->mt, it->ranged ? where : NULL);
	if (!sql)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	wk->cur = it->t;
	bs_digest_init(&wk->dg);
	rc = bs_pg_copy_out(wk->conn, sql, on_row, wk, NULL, err);
	free(sql);
	/* the last, partial chunk; a table (or slice) without rows has none */
	if (rc == 0 && wk->dg.rows > 0)
		rc = flush_chunk(wk, err);
	if (rc < 0) {
		if (err->code == BS_ERR_PG)
			strip_copy_prefix(err);
		/* insufficient_privilege: no SELECT, or row-level security would hide rows */
		if (bs_err_is_sqlstate(err, "42501") && !err->hint[0])
			bs_err_hint(err, "snapshots read every row of every table: connect as the table owner,"
					 " a superuser, or a role with SELECT on every table and BYPASSRLS");
		return bs_err_prefix(err, "copying table %s", it->t->qname);
	}
	/* the table's last item: every chunk of it is written, say so */
	if (atomic_fetch_sub(&it->t->items_left, 1) == 1) {
		if (snap_writer_table_end(&ctx->w, it->t->mt, err) < 0)
			return bs_err_prefix(err, "copying table %s", it->t->qname);
		if (ctx->o->progress)
			atomic_fetch_add(&ctx->o->progress->tables_done, 1);
	}
	return 0;
}

static int worker_connect(struct snap_worker *wk, struct bs_err *err)
{
	struct snap_ctx *ctx = wk->ctx;
	char sql[256];

	if (bs_pg_connect(ctx->o->conninfo, NULL, &wk->conn, err) < 0)
		return -1;
	pthread_mutex_lock(&ctx->cancel_mu);
	wk->cancel = PQgetCancel(wk->conn);
	pthread_mutex_unlock(&ctx->cancel_mu);
	if (bs_pg_session_setup(wk->conn, err) < 0 ||
	    bs_pg_exec(wk->conn, SNAP_SESSION_SQL, err) < 0)
		return -1;
	snprintf(sql, sizeof(sql),
		 "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SET TRANSACTION SNAPSHOT '%s'",
		 ctx->snapshot_id);
	if (bs_pg_exec(wk->conn, sql, err) < 0)
		return bs_err_prefix(err, "importing the snapshot");
	if (bs_pg_exec(wk->conn, "SAVEPOINT backstop_copy", err) < 0)
		return -1;
	return 0;
}

/* A COPY takes a lock on its table that lasts until the end of the
 * transaction, and a worker's transaction lasts the whole snap: on a
 * database of thousands of tables the workers' locks came on top of the
 * coordinator's and pg_dump's (one each per table) and ran the server out
 * of lock table ("out of shared memory", max_locks_per_transaction).  The
 * coordinator's locks keep DDL away; a worker gives its own back every
 * WORKER_LOCKS_HELD items by rolling back to a savepoint taken before them
 * (a COPY TO changes nothing; the snapshot is the transaction's). */
#define WORKER_LOCKS_HELD 16

static int release_locks(struct snap_worker *wk, struct bs_err *err)
{
	if (bs_pg_exec(wk->conn, "ROLLBACK TO SAVEPOINT backstop_copy", err) < 0)
		return bs_err_prefix(err, "worker connection %d", wk->idx + 1);
	return 0;
}

static void *worker_main(void *arg)
{
	struct snap_worker *wk = arg;
	struct snap_ctx *ctx = wk->ctx;
	struct bs_err err;
	int held = 0;

	bs_err_init(&err);
	wk->cc = bs_chunk_compressor_new(ctx->o->compress_level);
	if (!wk->cc) {
		bs_err_set(&err, BS_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if (worker_connect(wk, &err) < 0) {
		bs_err_prefix(&err, "worker connection %d", wk->idx + 1);
		goto fail;
	}
	while (!atomic_load(&ctx->failed)) {
		size_t i = atomic_fetch_add(&ctx->next_item, 1);
		if (i >= ctx->nitems)
			break;
		if (copy_item(wk, &ctx->items[i], &err) < 0)
			goto fail;
		if (++held >= WORKER_LOCKS_HELD) {
			if (release_locks(wk, &err) < 0)
				goto fail;
			held = 0;
		}
	}
	bs_pg_exec(wk->conn, "COMMIT", &err);
	return NULL;
fail:
	snap_fail(ctx, &err);
	return NULL;
}

int snap_workers_start(struct snap_ctx *ctx, struct bs_err *err)
{
	int i, n = ctx->jobs > 0 ? ctx->jobs : 1;

	/* no point in more connections than work items */
	if (ctx->nitems == 0)
		return 0;
	if ((size_t)n > ctx->nitems)
		n = (int)ctx->nitems;
	ctx->workers = calloc((size_t)n, sizeof(*ctx->workers));
	if (!ctx->workers)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	ctx->nworkers = n;
	for (i = 0; i < n; i++) {
		struct snap_worker *wk = &ctx->workers[i];
		wk->ctx = ctx;
		wk->idx = i;
		wk->raw_limit = ctx->chunk_size;
		if (pthread_create(&wk->th, NULL, worker_main, wk) != 0)
			return bs_err_set(err, BS_ERR_INTERNAL, "unable to start worker thread %d", i + 1);
		wk->started = 1;
	}
	return 0;
}

void snap_workers_cancel(struct snap_ctx *ctx)
{
	char buf[256];
	int i;

	pthread_mutex_lock(&ctx->cancel_mu);
	for (i = 0; i < ctx->nworkers; i++)
		if (ctx->workers[i].cancel)
			PQcancel(ctx->workers[i].cancel, buf, sizeof(buf));
	pthread_mutex_unlock(&ctx->cancel_mu);
}

int snap_workers_join(struct snap_ctx *ctx)
{
	int i;

	for (i = 0; i < ctx->nworkers; i++) {
		struct snap_worker *wk = &ctx->workers[i];
		if (wk->started) {
			pthread_join(wk->th, NULL);
			wk->started = 0;
		}
		pthread_mutex_lock(&ctx->cancel_mu);
		if (wk->cancel)
			PQfreeCancel(wk->cancel);
		wk->cancel = NULL;
		pthread_mutex_unlock(&ctx->cancel_mu);
		if (wk->conn)
			PQfinish(wk->conn);
		wk->conn = NULL;
		bs_chunk_compressor_free(wk->cc);
		wk->cc = NULL;
	}
	free(ctx->workers);
	ctx->workers = NULL;
	ctx->nworkers = 0;
	return atomic_load(&ctx->failed) ? -1 : 0;
}
