/* snap.c - bs_snap_run as a list of named steps (see snap.h, DESIGN.md
 * "The snapshot" and docs/format.md). */
#include "snap/snap.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/progress.h"
#include "pg/conn.h"
#include "snap/inventory.h"
#include "snap/snap_int.h"

#define SNAP_MIN_SERVER 100000

/* Record the first error and stop everything else promptly: workers see
 * ctx->failed between rows, blocked COPYs are cancelled, chunk writers
 * waiting for the schema return. */
void snap_fail(struct snap_ctx *ctx, const struct bs_err *err)
{
	int first = 0;

	pthread_mutex_lock(&ctx->err_mu);
	if (!atomic_load(&ctx->failed)) {
		ctx->first_err = *err;
		atomic_store(&ctx->failed, 1);
		first = 1;
	}
	pthread_mutex_unlock(&ctx->err_mu);
	if (!first)
		return;
	if (ctx->writer_inited)
		snap_writer_stop(&ctx->w);
	snap_workers_cancel(ctx);
}


static void iso_time(char *out, size_t n, time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- steps ---- */

static int connect_coordinator(struct snap_ctx *ctx, struct bs_err *err)
{
	const char *sv, *enc;
	PGresult *r;
	char tmp[64], *p;

	if (bs_pg_connect(ctx->o->conninfo, NULL, &ctx->coord, err) < 0)
		return -1;
	ctx->server_version_num = PQserverVersion(ctx->coord);
	if (ctx->server_version_num < SNAP_MIN_SERVER) {
		bs_err_set(err, BS_ERR_PG, "PostgreSQL %d.%d is not supported (10 or later is required)",
			   ctx->server_version_num / 10000, ctx->server_version_num / 100 % 100);
		return -1;
	}
	if (bs_pg_session_setup(ctx->coord, err) < 0 ||
	    bs_pg_exec(ctx->coord, SNAP_SESSION_SQL, err) < 0 ||
	    bs_pg_exec(ctx->coord, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", err) < 0)
		return -1;
	sv = PQparameterStatus(ctx->coord, "server_version");
	snprintf(tmp, sizeof(tmp), "%s", sv ? sv : "");
	if ((p = strchr(tmp, ' ')) != NULL) /* "15.18 (Debian 15.18-1.pgdg120+1)" */
		*p = '\0';
	enc = PQparameterStatus(ctx->coord, "server_encoding");
	if (!(r = bs_pg_query(ctx->coord, "SHOW block_size", 0, NULL, err)))
		return -1;
	ctx->block_size = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	ctx->m.id = strdup(ctx->o->id);
	ctx->m.database = strdup(PQdb(ctx->coord));
	ctx->m.encoding = strdup(enc ? enc : "UTF8");
	ctx->m.server_version = strdup(tmp);
	ctx->m.server_version_num = ctx->server_version_num;
	iso_time(tmp, sizeof(tmp), ctx->start);
	ctx->m.start = strdup(tmp);
	if (!ctx->m.id || !ctx->m.database || !ctx->m.encoding || !ctx->m.server_version || !ctx->m.start)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	bs_debug("snap: database '%s', PostgreSQL %s", ctx->m.database, ctx->m.server_version);
	return 0;
}

static int export_snapshot(struct snap_ctx *ctx, struct bs_err *err)
{
	PGresult *r = bs_pg_query(ctx->coord, "SELECT pg_catalog.pg_export_snapshot()", 0, NULL, err);

	if (!r)
		return bs_err_prefix(err, "exporting the snapshot");
	snprintf(ctx->snapshot_id, sizeof(ctx->snapshot_id), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	bs_debug("snap: exported snapshot %s", ctx->snapshot_id);
	return 0;
}

static int write_header(struct snap_ctx *ctx, struct bs_err *err)
{
	char *json = NULL;
	size_t len;
	int rc;

	if (bs_manifest_header_json(&ctx->m, &json, &len, err) < 0)
		return -1;
	rc = bs_sha256(json, len, ctx->m.members[BS_MM_HEADER].sha256, err);
	ctx->m.members[BS_MM_HEADER].bytes = len;
	ctx->m.members[BS_MM_HEADER].has = 1;
	if (rc == 0)
		rc = snap_writer_member(&ctx->w, BS_MEMBER_HEADER, json, len, NULL, err);
	free(json);
	return rc;
}

static int cmp_chunk(const void *a, const void *b)
{
	const struct bs_mchunk *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int write_manifest(struct snap_ctx *ctx, struct bs_err *err)
{
	char *json = NULL, end[64];
	size_t len, i;
	int rc;

	for (i = 0; i < ctx->m.ntables; i++)
		if (ctx->m.tables[i].nchunks > 1)
			qsort(ctx->m.tables[i].chunks, ctx->m.tables[i].nchunks, sizeof(struct bs_mchunk),
			      cmp_chunk);
	iso_time(end, sizeof(end), time(NULL));
	free(ctx->m.end);
	ctx->m.end = strdup(end);
	if (!ctx->m.end)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	if (bs_manifest_json(&ctx->m, &json, &len, err) < 0)
		return -1;
	rc = bs_sha256(json, len, ctx->manifest_sha256, err);
	if (rc == 0)
		rc = snap_writer_member(&ctx->w, BS_MEMBER_MANIFEST, json, len, NULL, err);
	free(json);
	return rc;
}

static void fill_result(struct snap_ctx *ctx, struct bs_snap_result *res)
{
	size_t i;

	memset(res, 0, sizeof(*res));
	snprintf(res->database, sizeof(res->database), "%s", ctx->m.database ? ctx->m.database : "");
	snprintf(res->server_version, sizeof(res->server_version), "%s",
		 ctx->m.server_version ? ctx->m.server_version : "");
	res->server_version_num = ctx->server_version_num;
	res->start = ctx->start;
	res->end = time(NULL);
	res->tables = ctx->m.ntables;
	for (i = 0; i < ctx->m.ntables; i++) {
		res->chunks += ctx->m.tables[i].nchunks;
		res->rows += ctx->m.tables[i].rows;
		res->raw_bytes += ctx->m.tables[i].raw_bytes;
	}
	res->blobs = ctx->m.nblobs;
	res->sequences = ctx->m.nseqs;
	memcpy(res->header_sha256, ctx->m.members[BS_MM_HEADER].sha256, 32);
	memcpy(res->schema_sha256, ctx->m.members[BS_MM_SCHEMA].sha256, 32);
	memcpy(res->manifest_sha256, ctx->manifest_sha256, 32);
}

/* Size and SHA-256 of a member written from a file (schema.dump,
 * blobs/acl.sql), for the manifest's "members". */
int snap_member_digest(struct snap_ctx *ctx, enum bs_mm k, int fd, uint64_t size, struct bs_err *err)
{
	struct bs_mmember *mm = &ctx->m.members[k];

	if (bs_sha256_fd(fd, size, mm->sha256, err) < 0)
		return bs_err_prefix(err, "digesting %s", bs_mm_name(k));
	mm->bytes = size;
	mm->has = 1;
	return 0;
}

static void release(struct snap_ctx *ctx)
{
	size_t i;

	if (atomic_load(&ctx->failed))
		snap_workers_cancel(ctx);
	if (ctx->writer_inited)
		snap_writer_stop(&ctx->w);
	snap_workers_join(ctx);
	snap_schema_abort(ctx);
	if (ctx->writer_inited)
		snap_writer_release(&ctx->w);
	if (ctx->coord)
		PQfinish(ctx->coord);
	for (i = 0; i < ctx->ntables; i++)
		free(ctx->tables[i].qname);
	free(ctx->tables);
	free(ctx->items);
	if (ctx->globals_json) {
		explicit_bzero(ctx->globals_json, ctx->globals_len);
		free(ctx->globals_json);
	}
	bs_manifest_release(&ctx->m);
	pthread_mutex_destroy(&ctx->cancel_mu);
	pthread_mutex_destroy(&ctx->err_mu);
}

int bs_snap_run(const struct bs_snap_opts *o, struct bs_wstream *out, struct bs_snap_result *res,
		struct bs_err *err)
{
	struct snap_ctx *ctx = calloc(1, sizeof(*ctx));
	struct bs_err e;
	int rc = -1;

	bs_err_init(&e);
	if (!ctx)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	if (!o->id || !*o->id) {
		free(ctx);
		return bs_err_set(err, BS_ERR_INTERNAL, "snapshot id missing");
	}
	ctx->o = o;
	ctx->start = time(NULL);
	ctx->t0 = bs_now();
	ctx->chunk_size = o->chunk_size > 0 ? o->chunk_size : SNAP_DEFAULT_CHUNK;
	ctx->dump_fd = -1;
	bs_run_init(&ctx->dump);
	bs_manifest_init(&ctx->m);
	pthread_mutex_init(&ctx->cancel_mu, NULL);
	pthread_mutex_init(&ctx->err_mu, NULL);

	/* 1. a consistent view: coordinator, table list (its query fixes the
	 * transaction's snapshot), the snapshot exported; pg_dump starts in it
	 * at once (its catalog work is most of a snap of thousands of small
	 * tables) while the tables are locked and measured */
	if (connect_coordinator(ctx, &e) < 0 || snap_list_tables(ctx, &e) < 0 || export_snapshot(ctx, &e) < 0 ||
	    snap_schema_start(ctx, &e) < 0)
		goto fail;
	if (snap_lock_tables(ctx, &e) < 0 || snap_table_sizes(ctx, &e) < 0 || snap_plan_items(ctx, &e) < 0)
		goto fail;
	bs_debug("snap: tables locked, measured and planned at %.3f s", bs_now() - ctx->t0);
	/* 2. the roles and tablespaces the database needs */
	if (snap_globals_collect(ctx, &e) < 0)
		goto fail;
	/* 3. the archive: header first */
	if (snap_writer_init(&ctx->w, out, o->progress, ctx->start, &e) < 0)
		goto fail;
	ctx->writer_inited = 1;
	if (write_header(ctx, &e) < 0 || snap_globals_write(ctx, &e) < 0)
		goto fail;
	/* 4. data: workers start copying; their chunks wait for schema.dump */
	if (snap_workers_start(ctx, &e) < 0)
		goto fail;
	/* 5. meanwhile on the coordinator, while pg_dump still runs: sequences
	 * and the schema inventory (on thousands of tables the inventory and
	 * pg_dump each take about a second of catalog work; one after the
	 * other they were most of a snap's wall time) */
	if (snap_sequences(ctx, &e) < 0 || bs_inventory_collect(ctx->coord, &ctx->m, &e) < 0)
		goto fail;
	bs_debug("snap: schema inventory: %zu entries, done at %.3f s", ctx->m.ninv, bs_now() - ctx->t0);
	if (snap_schema_finish(ctx, &e) < 0)
		goto fail;
	bs_debug("snap: schema dumped at %.3f s", bs_now() - ctx->t0);
	if (snap_writer_set_ready(&ctx->w, &e) < 0)
		goto fail;
	if (snap_workers_join(ctx) < 0)
		goto fail_recorded;
	bs_debug("snap: table data copied at %.3f s", bs_now() - ctx->t0);
	/* 6. large objects, after all table data */
	if (snap_blobs(ctx, &e) < 0)
		goto fail;
	bs_debug("snap: large objects done at %.3f s", bs_now() - ctx->t0);
	/* 7. manifest last, then the end of the archive */
	if (write_manifest(ctx, &e) < 0 || snap_writer_close(&ctx->w, &e) < 0)
		goto fail;
	bs_debug("snap: manifest written, archive closed at %.3f s", bs_now() - ctx->t0);
	bs_pg_exec(ctx->coord, "COMMIT", &e);
	if (res)
		fill_result(ctx, res);
	rc = 0;
	goto out;
fail:
	snap_fail(ctx, &e);
fail_recorded:
	if (err)
		*err = ctx->first_err;
out:
	release(ctx);
	free(ctx);
	return rc;
}
