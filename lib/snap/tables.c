/* tables.c - which tables a snapshot copies, their locks, the COPY
 * statements, and the work items (whole tables or ctid page ranges). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/human.h"
#include "common/log.h"
#include "pg/conn.h"
#include "snap/snap_int.h"

#define MIB (1024 * 1024ULL)

/* ---- COPY statements ---- */

/* Append s to the growing buffer; returns -1 on allocation failure. */
static int sb_add(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t n = strlen(s);

	if (*len + n + 1 > *cap) {
		size_t ncap = (*len + n + 1) * 2;
		char *nb = realloc(*buf, ncap);
		if (!nb)
			return -1;
		*buf = nb;
		*cap = ncap;
	}
	memcpy(*buf + *len, s, n + 1);
	*len += n;
	return 0;
}

static int sb_ident(char **buf, size_t *len, size_t *cap, const char *ident)
{
	char *q = bs_pg_quote_ident(ident);
	int rc = q ? sb_add(buf, len, cap, q) : -1;

	free(q);
	return rc;
}

char *bs_snap_copy_sql(const struct bs_mtable *t, const char *where)
{
	char *buf = NULL;
	size_t len = 0, cap = 0, i;
	int bad = 0;

	/* Whole table: COPY t (cols) copies that table only (never inheritance
	 * children) and is the server's fastest path.  A slice needs a query. */
	if (!where && !(t->filter && *t->filter)) {
		bad |= sb_add(&buf, &len, &cap, "COPY ");
		bad |= sb_ident(&buf, &len, &cap, t->schema);
		bad |= sb_add(&buf, &len, &cap, ".");
		bad |= sb_ident(&buf, &len, &cap, t->name);
		if (t->ncolumns > 0) {
			bad |= sb_add(&buf, &len, &cap, " (");
			for (i = 0; i < t->ncolumns; i++) {
				if (i)
					bad |= sb_add(&buf, &len, &cap, ", ");
				bad |= sb_ident(&buf, &len, &cap, t->columns[i]);
			}
			bad |= sb_add(&buf, &len, &cap, ")");
		}
	} else {
		bad |= sb_add(&buf, &len, &cap, "COPY (SELECT ");
		for (i = 0; i < t->ncolumns; i++) {
			if (i)
				bad |= sb_add(&buf, &len, &cap, ", ");
			bad |= sb_ident(&buf, &len, &cap, t->columns[i]);
		}
		bad |= sb_add(&buf, &len, &cap, " FROM ONLY ");
		bad |= sb_ident(&buf, &len, &cap, t->schema);
		bad |= sb_add(&buf, &len, &cap, ".");
		bad |= sb_ident(&buf, &len, &cap, t->name);
		bad |= sb_add(&buf, &len, &cap, " WHERE ");
		if (t->filter && *t->filter) {
			/* an extension's configuration table: the rows it registered */
			bad |= sb_add(&buf, &len, &cap, "(");
			bad |= sb_add(&buf, &len, &cap, t->filter);
			bad |= sb_add(&buf, &len, &cap, where ? ") AND " : ")");
		}
		if (where)
			bad |= sb_add(&buf, &len, &cap, where);
		bad |= sb_add(&buf, &len, &cap, ")");
	}
	bad |= sb_add(&buf, &len, &cap, " TO STDOUT");
	if (bad) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* ---- table list ---- */

/* One row per (table, column) in COPY order; tables without columns give a
 * single row with a NULL attname.  No function here may lock a table
 * (pg_relation_size does): locks are taken next, under lock_timeout.  Ordinary tables only: partitioned parents
 * hold no rows, their leaf partitions are ordinary tables; foreign tables and
 * views have no data of their own. */
/* User tables, and the configuration tables of extensions (registered with
 * pg_extension_config_dump: pg_dump copies their rows, filtered by the
 * registered condition, and so does snap). */
static const char *list_sql =
	"SELECT n.nspname, c.relname, c.oid, a.attname, e.extname,"
	"       e.extcondition[pg_catalog.array_position(e.extconfig, c.oid)]"
	" FROM pg_catalog.pg_class c"
	" JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
	" LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0"
	"  AND NOT a.attisdropped%s"
	" LEFT JOIN pg_catalog.pg_extension e ON c.oid = ANY (e.extconfig)"
	" WHERE c.relkind = 'r' AND c.relpersistence <> 't' AND ((" SNAP_USER_REL_FILTER ") OR e.oid IS NOT NULL)"
	" ORDER BY n.nspname, c.relname, a.attnum";

/* Materialized views created WITH NO DATA: restore must not populate them
 * (it refreshes every other one, as pg_dump's data section would). */
static int snap_list_unpopulated(struct snap_ctx *ctx, struct bs_err *err)
{
	static const char sql[] = "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c"
				  " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
				  " WHERE c.relkind = 'm' AND NOT c.relispopulated AND " SNAP_USER_REL_FILTER
				  " ORDER BY 1, 2";
	PGresult *r = bs_pg_query(ctx->coord, sql, 0, NULL, err);
	int i;

	if (!r)
		return bs_err_prefix(err, "listing materialized views");
	for (i = 0; i < PQntuples(r); i++)
		if (bs_manifest_add_unpopulated(&ctx->m, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1)) < 0) {
			PQclear(r);
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		}
	PQclear(r);
	return 0;
}

int snap_list_tables(struct snap_ctx *ctx, struct bs_err *err)
{
	char sql[2048];
	PGresult *r;
	int i, n, start, rc = -1;
	const char **cols = NULL;
	size_t k;

	snprintf(sql, sizeof(sql), list_sql,
		 ctx->server_version_num >= 120000 ? " AND a.attgenerated = ''" : "");
	r = bs_pg_query(ctx->coord, sql, 0, NULL, err);
	if (!r)
		return bs_err_prefix(err, "listing tables");
	n = PQntuples(r);
	cols = calloc((size_t)n + 1, sizeof(*cols));
	ctx->tables = calloc((size_t)n + 1, sizeof(*ctx->tables));
	if (!cols || !ctx->tables) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i = start) {
		const char *schema = PQgetvalue(r, i, 0), *name = PQgetvalue(r, i, 1);
		struct snap_table *t = &ctx->tables[ctx->ntables];
		size_t nc = 0;

		start = i;
		while (start < n && strcmp(PQgetvalue(r, start, 0), schema) == 0 &&
		       strcmp(PQgetvalue(r, start, 1), name) == 0) {
			if (!PQgetisnull(r, start, 3))
				cols[nc++] = PQgetvalue(r, start, 3);
			start++;
		}
		t->no = (uint32_t)(ctx->ntables + 1);
		t->oid = (uint32_t)strtoul(PQgetvalue(r, i, 2), NULL, 10);
		t->qname = bs_pg_qualify(schema, name);
		if (!t->qname || !bs_manifest_add_table(&ctx->m, t->no, schema, name, cols, nc) ||
		    (!PQgetisnull(r, i, 4) &&
		     bs_mtable_set_extension(&ctx->m.tables[ctx->m.ntables - 1], PQgetvalue(r, i, 4),
					     PQgetisnull(r, i, 5) ? "" : PQgetvalue(r, i, 5)) < 0)) {
			free(t->qname);
			t->qname = NULL;
			bs_err_set(err, BS_ERR_NOMEM, "out of memory");
			goto out;
		}
		ctx->ntables++;
	}
	/* the manifest's table array no longer moves */
	for (k = 0; k < ctx->ntables; k++)
		ctx->tables[k].mt = &ctx->m.tables[k];
	if (ctx->o->progress)
		atomic_store(&ctx->o->progress->tables_total, ctx->ntables);
	rc = snap_list_unpopulated(ctx, err);
out:
	free(cols);
	PQclear(r);
	return rc;
}

static void fmt_timeout(char *out, size_t n, int ms)
{
	if (ms % 1000 == 0)
		snprintf(out, n, "%ds", ms / 1000);
	else
		snprintf(out, n, "%dms", ms);
}

/* Why one table could not be locked (r: the failed LOCK's result). */
static int lock_failed(struct snap_ctx *ctx, const struct snap_table *t, PGresult *r, const char *tmo,
		       struct bs_err *err)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	if (state && strcmp(state, "55P03") == 0) {
		bs_err_set(err, BS_ERR_PG, "unable to lock table %s: lock timeout after %s", t->qname, tmo);
		bs_err_hint(err, "another session holds a conflicting lock (long-running DDL, VACUUM FULL,"
				 " CLUSTER, REINDEX?); retry later or raise the lock timeout");
	} else {
		char what[600];
		snprintf(what, sizeof(what), "unable to lock table %.500s", t->qname);
		bs_pg_error(err, BS_ERR_PG, ctx->coord, r, what);
		if (bs_err_is_sqlstate(err, "42501") && !err->hint[0])
			bs_err_hint(err, "snapshots read every row of every table: connect as the table "
					 "owner, a superuser, or a role with SELECT on every table and BYPASSRLS");
	}
	return -1;
}

/* LOCK TABLE t[from..to) IN ACCESS SHARE MODE, one statement; the result. */
static PGresult *lock_range(struct snap_ctx *ctx, size_t from, size_t to, int *nomem)
{
	size_t i, len = 64;
	PGresult *r;
	char *q;

	for (i = from; i < to; i++)
		len += strlen(ctx->tables[i].qname) + 2;
	if (!(q = malloc(len))) {
		*nomem = 1;
		return NULL;
	}
	len = (size_t)sprintf(q, "LOCK TABLE ");
	for (i = from; i < to; i++)
		len += (size_t)sprintf(q + len, "%s%s", i > from ? ", " : "", ctx->tables[i].qname);
	strcpy(q + len, " IN ACCESS SHARE MODE");
	r = PQexec(ctx->coord, q);
	free(q);
	return r;
}

static int exec_ok(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	int ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;

	PQclear(r);
	return ok;
}

/* Lock every table, LOCK_BATCH to a statement (one round trip and one
 * statement for the server instead of one per table: it counts on
 * databases of thousands of small tables).  lock_timeout applies to each
 * lock acquisition, as before.  When a batch fails, it is rolled back to
 * its savepoint and locked one table at a time, so the error names the
 * table. */
#define LOCK_BATCH 256

int snap_lock_tables(struct snap_ctx *ctx, struct bs_err *err)
{
	char sql[128], tmo[32];
	size_t from, i;

	snprintf(sql, sizeof(sql), "SET lock_timeout = %d", ctx->o->lock_timeout_ms > 0 ? ctx->o->lock_timeout_ms : 0);
	if (bs_pg_exec(ctx->coord, sql, err) < 0)
		return -1;
	fmt_timeout(tmo, sizeof(tmo), ctx->o->lock_timeout_ms);
	for (from = 0; from < ctx->ntables; from += LOCK_BATCH) {
		size_t to = from + LOCK_BATCH < ctx->ntables ? from + LOCK_BATCH : ctx->ntables;
		int nomem = 0;
		PGresult *r;

		if (!exec_ok(ctx->coord, "SAVEPOINT backstop_lock"))
			return bs_pg_error(err, BS_ERR_PG, ctx->coord, NULL, "unable to lock the tables");
		r = lock_range(ctx, from, to, &nomem);
		if (nomem)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		if (r && PQresultStatus(r) == PGRES_COMMAND_OK) {
			PQclear(r);
			if (!exec_ok(ctx->coord, "RELEASE SAVEPOINT backstop_lock"))
				return bs_pg_error(err, BS_ERR_PG, ctx->coord, NULL, "unable to lock the tables");
			continue;
		}
		PQclear(r);
		/* which one?  (a timeout is retried once per table, as before) */
		if (!exec_ok(ctx->coord, "ROLLBACK TO SAVEPOINT backstop_lock"))
			return bs_pg_error(err, BS_ERR_PG, ctx->coord, NULL, "unable to lock the tables");
		for (i = from; i < to; i++) {
			r = lock_range(ctx, i, i + 1, &nomem);
			if (nomem)
				return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
			if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
				lock_failed(ctx, &ctx->tables[i], r, tmo, err);
				PQclear(r);
				return -1;
			}
			PQclear(r);
		}
		exec_ok(ctx->coord, "RELEASE SAVEPOINT backstop_lock");
	}
	return 0;
}

/* The work of building one index, in percent of the work of loading its
 * table, by access method: rough figures from restores measured on this
 * project's shapes (bench/RESULTS.md: a primary key on pgbench_accounts
 * took about a third of the table's load, a GIN index on a jsonb table
 * about three times its load); they only order the tables (snap_plan_items),
 * so a factor of two either way changes little. */
#define INDEX_COST_SQL \
	"CASE am.amname WHEN 'gin' THEN 300 WHEN 'gist' THEN 150 WHEN 'spgist' THEN 150" \
	" WHEN 'brin' THEN 5 ELSE 35 END"

/* Sizes, once the tables are locked: they plan the work and the progress. */
int snap_table_sizes(struct snap_ctx *ctx, struct bs_err *err)
{
	char *arr, *p;
	const char *params[1];
	PGresult *r;
	uint64_t total = 0;
	size_t i;
	int n, j;

	if (ctx->ntables == 0)
		return 0;
	arr = malloc(ctx->ntables * 12 + 3);
	if (!arr)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	p = arr;
	*p++ = '{';
	for (i = 0; i < ctx->ntables; i++)
		p += sprintf(p, "%s%u", i ? "," : "", ctx->tables[i].oid);
	strcpy(p, "}");
	params[0] = arr;
	/* The heap's main fork, and its TOAST table's (the work of fetching
	 * out-of-line values), not pg_table_size: that also opens the TOAST
	 * index and looks for the free space and visibility maps of both, which
	 * cost 0.59 s of server CPU on 5,000 small tables against 0.28 s for
	 * this (bench/RESULTS.md, issue 12); the maps and the TOAST index are
	 * not rows to copy. */
	/* and what a restore will do after loading it: its indexes, in percent
	 * of the work of loading it (index_cost_sql) */
	r = bs_pg_query(ctx->coord,
			"SELECT c.oid, pg_catalog.pg_relation_size(c.oid),"
			" CASE WHEN c.reltoastrelid <> 0 THEN pg_catalog.pg_relation_size(c.reltoastrelid) END,"
			" COALESCE((SELECT pg_catalog.sum(" INDEX_COST_SQL ")"
			"  FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid"
			"  JOIN pg_catalog.pg_am am ON am.oid = ic.relam WHERE i.indrelid = c.oid), 0)"
			" FROM pg_catalog.unnest($1::pg_catalog.oid[]) WITH ORDINALITY u(o, n)"
			" JOIN pg_catalog.pg_class c ON c.oid = u.o ORDER BY u.n",
			1, params, err);
	free(arr);
	if (!r)
		return bs_err_prefix(err, "measuring tables");
	n = PQntuples(r);
	for (j = 0; j < n; j++) {
		uint32_t oid = (uint32_t)strtoul(PQgetvalue(r, j, 0), NULL, 10);
		uint64_t size = strtoull(PQgetvalue(r, j, 1), NULL, 10);
		/* same order as the array, but do not rely on it */
		struct snap_table *t = (size_t)j < ctx->ntables && ctx->tables[j].oid == oid ? &ctx->tables[j] : NULL;
		for (i = 0; !t && i < ctx->ntables; i++)
			if (ctx->tables[i].oid == oid)
				t = &ctx->tables[i];
		if (t) {
			t->size = size;
			t->weight = size + strtoull(PQgetvalue(r, j, 2), NULL, 10);
			t->post = t->weight / 100 * strtoull(PQgetvalue(r, j, 3), NULL, 10);
			total += size;
		}
	}
	PQclear(r);
	if (ctx->o->progress)
		atomic_store(&ctx->o->progress->raw_total, total);
	bs_debug("snap: %zu tables, %" PRIu64 " bytes on disk", ctx->ntables, total);
	return 0;
}

/* ---- work items ---- */

/* The order items are copied in, which is the order a restore loads them
 * (it streams the archive).  A restore builds a table's indexes as soon as
 * its data is in, while other tables load; a table whose indexes cost more
 * than its rows (a GIN index, many indexes) is the long pole when it comes
 * last, so those come first, costliest first.  The others follow largest
 * first, which balances the jobs.  The pieces of a table go in page order. */
static int post_first(const struct snap_table *t)
{
	return t->post > (t->weight > t->size ? t->weight : t->size);
}

static int cmp_item(const void *a, const void *b)
{
	const struct snap_item *x = a, *y = b;
	int px = post_first(x->t), py = post_first(y->t);

	if (px != py)
		return px ? -1 : 1;
	if (px && x->t->post != y->t->post)
		return x->t->post > y->t->post ? -1 : 1;
	if (x->est != y->est)
		return x->est > y->est ? -1 : 1;
	if (x->t->no != y->t->no)
		return x->t->no < y->t->no ? -1 : 1;
	return x->from_page < y->from_page ? -1 : x->from_page > y->from_page;
}

/*
 * Whole tables go out through plain `COPY t (cols) TO STDOUT`, the server's
 * cheapest path.  A slice of a table needs `COPY (SELECT ... WHERE ctid >=
 * ... AND ctid < ...)`, a TID Range Scan, which on PostgreSQL 14-15 costs
 * more server CPU per row than a sequential scan of the same pages: it gets
 * no bulk-read buffer ring (table_beginscan_tidrange passes neither
 * SO_ALLOW_STRAT nor SO_ALLOW_SYNC), so every page it reads evicts a buffer
 * of shared_buffers (clock sweep, mapping-lock traffic, a cold cache line
 * per page) instead of cycling through a 256 KiB ring, and it pushes the
 * cluster's working set out of shared_buffers.  Measured on pgbench_accounts
 * (scale 30, 384 MB, shared_buffers 256MB, bench/RESULTS.md): the two halves
 * together cost 7-25% more backend CPU than one COPY of the whole table.
 *
 * So a table is split only when that buys parallelism that would otherwise
 * be lost: on PostgreSQL 14+, with more than one job, when fewer tables than
 * jobs are comparable to the largest (at least half its size: otherwise the
 * jobs already have a big table each), and only the tables larger than
 * 64 MiB (or two chunks) and than 5/4 of the per-job share of the whole
 * snapshot: those would keep one connection busy while the others sit idle.
 * Their pieces are about half a job's share (balance), bounded by two chunks
 * or 32 MiB below and 1 GiB above.  One more kind of table is cut, of any
 * size over the threshold: one whose index builds are a restore's long pole
 * (estimated to cost more than its rows, and at least a job's share: a GIN
 * index on a large jsonb table).  Whole, it is copied by one job while the
 * others copy the rest, so its last rows come at the end of the archive
 * and a restore starts its indexes only after all the data; cut, every job
 * copies it first (cmp_item), and a restore builds its indexes while the
 * other tables load (measured on the saas shape, bench/RESULTS.md).
 * All figures are measured: table sizes with their TOAST
 * (snap_table_sizes), the work each table is and its indexes' estimated
 * build work, heap sizes (ranges divide the heap's pages: only a table
 * whose heap is over the threshold is cut), and the number of jobs
 * (--jobs).
 */
static uint64_t table_work(const struct snap_table *t)
{
	return t->weight > t->size ? t->weight : t->size;
}

size_t bs_snap_plan_cut(const uint64_t *heap, const uint64_t *work, const uint64_t *post, size_t n, int jobs,
			uint64_t chunk, int server_version_num, uint32_t *parts, uint64_t *piece_out)
{
	uint64_t threshold, piece, total = 0, largest = 0, share;
	size_t i, comparable = 0, nsplit = 0;
	int split = 0, ranges;

	if (jobs < 1)
		jobs = 1;
	threshold = 2 * chunk > 64 * MIB ? 2 * chunk : 64 * MIB;
	for (i = 0; i < n; i++) {
		total += work[i];
		if (work[i] > largest)
			largest = work[i];
	}
	for (i = 0; i < n; i++)
		if (work[i] >= largest / 2)
			comparable++;
	share = total / (uint64_t)jobs;
	/* ctid ranges are only efficient with TID range scans (PostgreSQL 14) */
	ranges = server_version_num >= 140000 && jobs > 1;
	if (ranges && comparable < (size_t)jobs && largest > threshold && largest > share + share / 4)
		split = 1;
	piece = share / 2;
	if (piece < 2 * chunk)
		piece = 2 * chunk;
	if (piece < 32 * MIB)
		piece = 32 * MIB;
	if (piece > 1024 * MIB)
		piece = 1024 * MIB;
	for (i = 0; i < n; i++) {
		uint64_t p = 1;
		/* the heap itself must be large: a TOAST-heavy table (small heap,
		 * values fetched through the TOAST index) measured no faster cut
		 * into ranges (bench/RESULTS.md) */
		int large = heap[i] > threshold;
		/* a table whose index builds are the restore's long pole (they
		 * cost more than its rows, and at least a job's share) is cut
		 * whatever its size, so that every job copies it first and a
		 * restore has it all, and starts its indexes, early: in as many
		 * pieces as jobs (or a multiple), which all end about together */
		int long_pole = ranges && post && post[i] > work[i] && post[i] >= share;
		if (large && split && work[i] > share + share / 4) {
			p = (work[i] + piece - 1) / piece;
			if (p < 2)
				p = 2;
			nsplit++;
		} else if (large && long_pole) {
			uint64_t round = (uint64_t)jobs * 1024 * MIB;
			p = (uint64_t)jobs * ((work[i] + round - 1) / round);
			nsplit++;
		}
		parts[i] = (uint32_t)p;
	}
	if (piece_out)
		*piece_out = piece;
	return nsplit;
}

int bs_snap_plan_jobs(int cores, long free_slots, size_t items, uint64_t work, uint64_t chunk)
{
	uint64_t jobs = cores > 0 ? (uint64_t)cores : 2;

	if (items < jobs)
		jobs = items;
	if (chunk > 0 && work / chunk < jobs)
		jobs = work / chunk;
	if (free_slots >= 0 && (uint64_t)free_slots / 2 < jobs)
		jobs = (uint64_t)free_slots / 2;
	return jobs > 0 ? (int)jobs : 1;
}

/* Connection slots nobody uses now, for anyone but a superuser: -1 when
 * the server does not say (then the planner ignores them). */
static long free_slots(struct snap_ctx *ctx)
{
	struct bs_err e;
	PGresult *r;
	long n = -1;

	bs_err_init(&e);
	r = bs_pg_query(ctx->coord,
			"SELECT pg_catalog.current_setting('max_connections')::int"
			" - pg_catalog.current_setting('superuser_reserved_connections')::int"
			" - (SELECT pg_catalog.count(*) FROM pg_catalog.pg_stat_activity"
			"    WHERE backend_type = 'client backend')",
			0, NULL, &e);
	if (r && PQntuples(r) == 1)
		n = strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	/* pg_dump, started a moment ago, may not be counted yet */
	return n >= 0 ? (n > 0 ? n - 1 : 0) : -1;
}

/* The number of jobs: --jobs, or planned (bs_snap_plan_jobs) with the
 * tables cut for as many jobs as the machine and the server allow. */
static int plan_jobs(struct snap_ctx *ctx, const uint64_t *heap, const uint64_t *work, const uint64_t *post,
		     uint32_t *parts, uint64_t total)
{
	int cores = ctx->o->cores > 0 ? ctx->o->cores : 2, jobs;
	long slots;
	size_t i, items = 0;

	if (ctx->o->jobs > 0)
		return ctx->o->jobs;
	slots = free_slots(ctx);
	jobs = bs_snap_plan_jobs(cores, slots, (size_t)-1, total, 0);
	bs_snap_plan_cut(heap, work, post, ctx->ntables, jobs, ctx->chunk_size, ctx->server_version_num, parts, NULL);
	for (i = 0; i < ctx->ntables; i++)
		items += parts[i];
	jobs = bs_snap_plan_jobs(cores, slots, items, total, ctx->chunk_size);
	bs_debug("snap: jobs planned: %d (%d cores, %ld free connection slots, %zu items, %" PRIu64 " bytes)",
		 jobs, cores, slots, items, total);
	return jobs;
}

int snap_plan_items(struct snap_ctx *ctx, struct bs_err *err)
{
	uint64_t chunk = ctx->chunk_size, piece = 0, total = 0, largest = 0;
	uint64_t bs = ctx->block_size > 0 ? (uint64_t)ctx->block_size : 8192;
	int jobs;
	size_t i, cap = 0, n = 0, comparable = 0, nsplit;
	uint64_t *heap = calloc(ctx->ntables + 1, sizeof(*heap)), *work = calloc(ctx->ntables + 1, sizeof(*work));
	uint64_t *post = calloc(ctx->ntables + 1, sizeof(*post));
	uint32_t *parts = calloc(ctx->ntables + 1, sizeof(*parts));

	if (!heap || !work || !post || !parts) {
		free(heap);
		free(work);
		free(post);
		free(parts);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	for (i = 0; i < ctx->ntables; i++) {
		heap[i] = ctx->tables[i].size;
		work[i] = table_work(&ctx->tables[i]);
		post[i] = ctx->tables[i].post;
		total += work[i];
		if (work[i] > largest)
			largest = work[i];
	}
	for (i = 0; i < ctx->ntables; i++)
		if (work[i] >= largest / 2)
			comparable++;
	jobs = ctx->jobs = plan_jobs(ctx, heap, work, post, parts, total);
	nsplit = bs_snap_plan_cut(heap, work, post, ctx->ntables, jobs, chunk, ctx->server_version_num, parts, &piece);
	for (i = 0; i < ctx->ntables; i++) {
		atomic_store(&ctx->tables[i].items_left, parts[i]);
		cap += parts[i];
	}
	free(heap);
	free(work);
	free(post);
	free(parts);
	bs_debug("snap: plan: %zu tables, %" PRIu64 " bytes, %d jobs, largest %" PRIu64 " bytes,"
		 " %zu comparable; %zu split into ctid ranges of about %" PRIu64 " bytes, %zu items",
		 ctx->ntables, total, jobs, largest, comparable, nsplit, piece, cap);
	{
		char h[32];
		bs_human_bytes(total, h, sizeof(h));
		bs_info("%zu tables, %s on disk: %d job%s%s", ctx->ntables, h, jobs, jobs == 1 ? "" : "s",
			ctx->o->jobs > 0 ? "" : " (planned; --jobs sets them)");
	}
	ctx->items = calloc(cap + 1, sizeof(*ctx->items));
	if (!ctx->items)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	for (i = 0; i < ctx->ntables; i++) {
		struct snap_table *t = &ctx->tables[i];
		uint32_t parts = atomic_load(&t->items_left), p;
		uint64_t pages = t->size / bs, step;

		if (parts <= 1) {
			ctx->items[n].t = t;
			ctx->items[n].est = table_work(t);
			n++;
			continue;
		}
		step = (pages + parts - 1) / parts;
		for (p = 0; p < parts; p++) {
			struct snap_item *it = &ctx->items[n++];
			it->t = t;
			it->ranged = 1;
			it->from_page = (uint64_t)p * step;
			it->to_page = p + 1 < parts ? (uint64_t)(p + 1) * step : 0;
			it->est = table_work(t) / parts;
		}
	}
	ctx->nitems = n;
	qsort(ctx->items, n, sizeof(*ctx->items), cmp_item);
	return 0;
}
