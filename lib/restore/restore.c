/* restore.c - the restore engine's orchestration: the steps in order.
 * See restore.h for what a restore does and restore_int.h for the files
 * that do each part. */
#include "restore/restore_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/globals.h"
#include "common/log.h"
#include "pg/conn.h"
#include "common/secret.h"

void bs_restore_result_init(struct bs_restore_result *r)
{
	memset(r, 0, sizeof(*r));
	bs_manifest_init(&r->manifest);
}

void bs_restore_result_release(struct bs_restore_result *r)
{
	if (!r)
		return;
	bs_manifest_release(&r->manifest);
	bs_restore_result_init(r);
}

/* ---- context ---- */

static void ctx_init(struct rs_ctx *cx, const struct bs_restore_opts *o, struct bs_rstream *in,
		     struct bs_restore_result *res)
{
	memset(cx, 0, sizeof(*cx));
	cx->o = o;
	cx->in = in;
	cx->res = res;
	cx->m = &res->manifest;
	cx->jobs = o->jobs < 1 ? 1 : o->jobs > 64 ? 64 : o->jobs;
	bs_toc_init(&cx->toc);
	rs_blobs_init(&cx->blobs);
	rs_schema_init(cx);
}

/* Release connections and threads (before a failed restore drops the
 * database) ... */
static void ctx_disconnect(struct rs_ctx *cx)
{
	rs_pool_free(cx->pool);
	cx->pool = NULL;
	if (cx->conn)
		PQfinish(cx->conn);
	cx->conn = NULL;
}

/* ... and everything else. */
static void ctx_release(struct rs_ctx *cx)
{
	size_t i;

	ctx_disconnect(cx);
	rs_schema_cleanup(cx);
	bs_areader_free(cx->ar);
	for (i = 0; i < cx->ntables; i++) {
		struct rs_table *t = &cx->tables[i];
		free(t->schema);
		free(t->name);
		free(t->qname);
		free(t->copy_sql);
		free(t->copy_freeze_sql);
		free(t->seen);
		free(t->loaded);
		free(t->early);
	}
	free(cx->tables);
	free(cx->by_no);
	for (i = 0; i < cx->nfilters; i++)
		bs_rfilter_release(&cx->filters[i]);
	free(cx->filters);
	bs_toc_release(&cx->toc);
	rs_blobs_release(&cx->blobs);
	bs_dbscript_release(&cx->dbs);
	if (cx->globals)
		explicit_bzero(cx->globals, cx->globals_len);
	free(cx->globals);
	free(cx->dbname);
	memset(cx, 0, sizeof(*cx));
}

static int cmp_by_no(const void *a, const void *b)
{
	uint32_t x = (*(struct rs_table *const *)a)->no, y = (*(struct rs_table *const *)b)->no;

	return x < y ? -1 : x > y;
}

struct rs_table *rs_table_by_no(struct rs_ctx *cx, uint32_t no)
{
	struct rs_table key, *kp = &key, **found;

	key.no = no;
	if (cx->ntables == 0)
		return NULL;
	found = bsearch(&kp, cx->by_no, cx->ntables, sizeof(*cx->by_no), cmp_by_no);
	return found ? *found : NULL;
}

void rs_progress_archive(struct rs_ctx *cx)
{
	if (cx->o->progress)
		atomic_store(&cx->o->progress->bytes, cx->in->bytes);
}

/* ---- archive head: backstop.json, then schema.dump ---- */

/* Advance to schema.dump (archive/reader.h checks the order and the
 * digests); globals.json on the way (format version 2) goes into *globals
 * (malloc'd) if globals, else is dropped. */
static int next_schema(struct bs_areader *ar, char **globals, size_t *glen, struct bs_err *err)
{
	struct bs_amember mem;
	int rc = bs_areader_next(ar, &mem, err);

	if (rc > 0 && mem.kind == BS_AM_GLOBALS) {
		char *buf = NULL;
		size_t len = 0;
		if (bs_areader_read_all(ar, RS_META_MAX, &buf, &len, err) < 0)
			return -1;
		if (globals) {
			*globals = buf;
			*glen = len;
		} else {
			explicit_bzero(buf, len);
			free(buf);
		}
		rc = bs_areader_next(ar, &mem, err);
	}
	if (rc < 0)
		return -1;
	if (rc == 0 || mem.kind != BS_AM_SCHEMA)
		return bs_err_set(err, BS_ERR_INTERNAL, "the archive reader passed over %s", BS_MEMBER_SCHEMA);
	return 0;
}

/* ---- steps ---- */

static int step_check_options(struct rs_ctx *cx, struct bs_err *err)
{
	const struct bs_restore_opts *o = cx->o;
	size_t n = 0;

	if (o->create && o->data_only) {
		bs_err_set(err, BS_ERR_USAGE, "--create cannot be used with --data-only");
		bs_err_hint(err, "--data-only loads into an existing schema");
		return -1;
	}
	if (o->schema_only && o->data_only)
		return bs_err_set(err, BS_ERR_USAGE, "--schema-only and --data-only cannot be used together");
	if (o->clean && o->data_only)
		return bs_err_set(err, BS_ERR_USAGE, "--clean cannot be used with --data-only");
	if (o->create && o->clean) {
		bs_err_set(err, BS_ERR_USAGE, "--create cannot be used with --clean");
		bs_err_hint(err, "--create restores into a new database; --clean replaces the snapshot's objects "
				 "in an existing one");
		return -1;
	}
	while (o->tables && o->tables[n])
		n++;
	if (n > 0 && !(cx->filters = calloc(n, sizeof(*cx->filters))))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	for (cx->nfilters = 0; cx->nfilters < n; cx->nfilters++)
		if (bs_rfilter_parse(o->tables[cx->nfilters], &cx->filters[cx->nfilters], err) < 0)
			return -1;
	cx->dbname = bs_pg_conninfo_dbname(o->target);
	if (!cx->dbname) {
		char *ci = NULL, *pw = NULL;
		/* an invalid conninfo says so; a valid one names no database */
		if (bs_pg_conninfo_for_child(o->target, NULL, &ci, &pw, err) == 0) {
			bs_err_set(err, BS_ERR_USAGE, "the target connection string names no database");
			bs_err_hint(err, "add dbname=NAME to the target");
		}
		free(ci);
		bs_secret_free(pw);
		return -1;
	}
	snprintf(cx->res->database, sizeof(cx->res->database), "%s", cx->dbname);
	return 0;
}

static int step_read_header(struct rs_ctx *cx, struct bs_err *err)
{
	struct bs_manifest *m = cx->m;
	size_t i, j;

	if (bs_areader_open(cx->in, cx->o->expect, m, NULL, NULL, &cx->ar, err) < 0)
		return -1;
	rs_progress_archive(cx);
	if (m->ntables && (!(cx->tables = calloc(m->ntables, sizeof(*cx->tables))) ||
			   !(cx->by_no = calloc(m->ntables, sizeof(*cx->by_no)))))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	for (i = 0; i < m->ntables; i++) {
		const struct bs_mtable *mt = &m->tables[i];
		struct rs_table *t = &cx->tables[i];
		size_t len;

		cx->ntables++;
		t->idx = i;
		t->no = mt->no;
		t->schema = strdup(mt->schema);
		t->name = strdup(mt->name);
		t->qname = bs_pg_qualify(mt->schema, mt->name);
		t->keep_rows = mt->extension != NULL;
		if (!t->schema || !t->name || !t->qname)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		len = strlen(t->qname) + 64;
		for (j = 0; j < mt->ncolumns; j++)
			len += 2 * strlen(mt->columns[j]) + 4;
		if (!(t->copy_sql = malloc(len)))
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		len = (size_t)sprintf(t->copy_sql, "COPY %s ", t->qname);
		for (j = 0; j < mt->ncolumns; j++) {
			char *q = bs_pg_quote_ident(mt->columns[j]);
			if (!q)
				return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
			len += (size_t)sprintf(t->copy_sql + len, "%s%s", j ? ", " : "(", q);
			free(q);
		}
		sprintf(t->copy_sql + len, "%sFROM STDIN", mt->ncolumns ? ") " : "");
		if (!(t->copy_freeze_sql = malloc(strlen(t->copy_sql) + 16)))
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		sprintf(t->copy_freeze_sql, "%s WITH (FREEZE)", t->copy_sql);
		cx->by_no[i] = t;
	}
	if (cx->ntables > 1)
		qsort(cx->by_no, cx->ntables, sizeof(*cx->by_no), cmp_by_no);
	for (i = 0; i + 1 < cx->ntables; i++)
		if (cx->by_no[i]->no == cx->by_no[i + 1]->no)
			return bs_err_set(err, BS_ERR_FORMAT, "invalid %s: table number %" PRIu32 " appears twice",
					  BS_MEMBER_HEADER, cx->by_no[i]->no);
	if (cx->o->progress)
		atomic_store(&cx->o->progress->tables_total, (uint64_t)cx->ntables);
	return 0;
}

static int step_read_schema(struct rs_ctx *cx, struct bs_err *err)
{
	if (next_schema(cx->ar, &cx->globals, &cx->globals_len, err) < 0)
		return -1;
	if (cx->o->data_only)
		return 0; /* the tar reader skips it */
	if (rs_schema_spool(cx, err) < 0)
		return bs_err_prefix(err, "reading %s", BS_MEMBER_SCHEMA);
	rs_progress_archive(cx);
	return 0;
}

static int step_select(struct rs_ctx *cx, struct bs_err *err)
{
	return rs_schema_select(cx, err);
}

/* Roles before anything references them; with --create, the database's
 * own properties are read from schema.dump first. */
static int step_globals(struct rs_ctx *cx, struct bs_err *err)
{
	if (rs_dbprops_load(cx, err) < 0)
		return -1;
	return rs_globals_apply(cx, err);
}

/* Last: the database's owner, settings, comment and grants (a setting such
 * as default_transaction_read_only must not hit the restore itself). */
static int step_dbprops(struct rs_ctx *cx, struct bs_err *err)
{
	return rs_dbprops_apply(cx, err);
}

static int step_prepare_target(struct rs_ctx *cx, struct bs_err *err)
{
	return rs_target_prepare(cx, err);
}

static int step_predata(struct rs_ctx *cx, struct bs_err *err)
{
	if (cx->o->data_only)
		return 0;
	return rs_schema_predata(cx, err);
}

static int step_data(struct rs_ctx *cx, struct bs_err *err)
{
	if (cx->o->schema_only)
		return 0; /* stop reading: the data is not wanted */
	if (rs_schema_early_plan(cx, err) < 0 || rs_pool_start(cx, cx->jobs, &cx->pool, err) < 0 ||
	    rs_data_load(cx, err) < 0 ||
	    rs_data_check(cx, err) < 0 || rs_data_sequences(cx, err) < 0)
		return -1;
	if (cx->o->progress)
		atomic_store(&cx->o->progress->tables_done, cx->res->tables);
	return 0;
}

static int step_postdata(struct rs_ctx *cx, struct bs_err *err)
{
	if (cx->o->data_only)
		return 0;
	return rs_schema_postdata(cx, err);
}

static int step_matviews(struct rs_ctx *cx, struct bs_err *err)
{
	if (cx->o->schema_only)
		return 0; /* like pg_restore --schema-only: left unpopulated */
	return rs_schema_refresh_matviews(cx, err);
}

static int cmp_size_desc(const void *a, const void *b)
{
	const struct rs_table *x = *(struct rs_table *const *)a, *y = *(struct rs_table *const *)b;
	uint64_t bx = 0, by = 0;
	size_t i;

	for (i = 0; i < x->nloaded; i++)
		bx += x->loaded[i].raw;
	for (i = 0; i < y->nloaded; i++)
		by += y->loaded[i].raw;
	return bx < by ? 1 : bx > by ? -1 : 0;
}

/* Event triggers last, after the data and the materialized views (as
 * pg_restore, which creates them in its last pass): a trigger that logs
 * DDL must not fire on the restore's own statements. */
static int step_event_triggers(struct rs_ctx *cx, struct bs_err *err)
{
	if (cx->o->data_only)
		return 0;
	return rs_schema_event_triggers(cx, err);
}

/* ANALYZE the restored tables on the loader sessions, largest first. */
static int step_analyze(struct rs_ctx *cx, struct bs_err *err)
{
	struct rs_table **order;
	size_t i, n = 0;
	int rc = 0;

	if (cx->o->schema_only || !cx->pool)
		return 0;
	if (!(order = calloc(cx->ntables + 1, sizeof(*order))))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	for (i = 0; i < cx->ntables; i++)
		if (cx->tables[i].selected)
			order[n++] = &cx->tables[i];
	qsort(order, n, sizeof(*order), cmp_size_desc);
	for (i = 0; i < n && rc == 0; i++) {
		char sql[600];
		snprintf(sql, sizeof(sql), "ANALYZE %s", order[i]->qname);
		rc = rs_pool_sql(cx->pool, sql, err);
	}
	free(order);
	if (rc == 0)
		rc = rs_pool_wait(cx->pool, err);
	return rc < 0 ? bs_err_prefix(err, "unable to analyze the restored tables") : 0;
}

/* Sessions ran with synchronous_commit off: one synchronous commit flushes
 * the WAL of everything before it, so success means durable. */
static int step_flush(struct rs_ctx *cx, struct bs_err *err)
{
	if (bs_pg_exec(cx->conn, "SET synchronous_commit = on", err) < 0 ||
	    bs_pg_exec(cx->conn, "SELECT pg_catalog.txid_current()", err) < 0)
		return bs_err_prefix(err, "unable to flush the restored data");
	return 0;
}

/* A failure of pg_restore or of a statement, for a non-superuser who kept
 * the snapshot's owners or grants: those need --no-owner --no-privileges
 * (pg_restore's output carries no SQLSTATE to be more precise). */
static void rs_nonsuperuser_hint(const struct rs_ctx *cx, struct bs_err *err)
{
	if (!cx->server_version || cx->superuser || (cx->o->no_owner && cx->o->no_privileges) || err->hint[0] ||
	    (err->code != BS_ERR_SUBPROCESS && err->code != BS_ERR_PG))
		return;
	bs_err_hint(err, "restoring as a non-superuser: objects owned by other roles and their grants need "
			 "--no-owner --no-privileges");
}

/* The restore, in order.  Each step may do nothing for the options given
 * (schema-only, data-only); the first failure stops the list. */
enum step_timer { T_NONE, T_PREDATA, T_DATA, T_POSTDATA };

static const struct step {
	const char *name;
	int (*run)(struct rs_ctx *cx, struct bs_err *err);
	enum step_timer timer;
} steps[] = {
	{ "check options", step_check_options, T_NONE },
	{ "read header", step_read_header, T_NONE },
	{ "read schema", step_read_schema, T_PREDATA },
	{ "select tables", step_select, T_PREDATA },
	{ "roles", step_globals, T_NONE },
	{ "prepare target", step_prepare_target, T_NONE },
	{ "pre-data", step_predata, T_PREDATA },
	{ "data", step_data, T_DATA },
	{ "post-data", step_postdata, T_POSTDATA },
	{ "materialized views", step_matviews, T_POSTDATA },
	{ "analyze", step_analyze, T_POSTDATA },
	{ "event triggers", step_event_triggers, T_POSTDATA },
	{ "database properties", step_dbprops, T_POSTDATA },
	{ "flush", step_flush, T_POSTDATA },
};

int bs_restore_run(const struct bs_restore_opts *o, struct bs_rstream *in, struct bs_restore_result *res,
		   struct bs_err *err)
{
	struct rs_ctx cx;
	struct bs_err local;
	double t0 = bs_now();
	size_t i;
	int rc = 0;

	if (!err)
		err = &local;
	bs_err_init(err);
	bs_restore_result_release(res);
	if (o->clean && !o->data_only)
		return rs_swap_run(o, in, res, err); /* back here with create */
	ctx_init(&cx, o, in, res);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]) && rc == 0; i++) {
		double ts = bs_now(), dt;
		rc = steps[i].run(&cx, err);
		dt = bs_now() - ts;
		bs_debug("restore: %s: %.3f s%s", steps[i].name, dt, rc ? " (failed)" : "");
		if (steps[i].timer == T_PREDATA)
			res->t_predata += dt;
		else if (steps[i].timer == T_DATA)
			res->t_data += dt;
		else if (steps[i].timer == T_POSTDATA)
			res->t_postdata += dt;
	}
	if (rc < 0) {
		ctx_disconnect(&cx);
		rs_nonsuperuser_hint(&cx, err);
		rs_target_undo(&cx, err);
	}
	rs_target_disarm(&cx);
	ctx_release(&cx);
	res->t_total = bs_now() - t0;
	return rc;
}

/* ---- header + manifest only ---- */

int bs_restore_read_manifest(struct bs_rstream *in, const struct bs_archive_expect *expect, struct bs_manifest *m,
			     struct bs_err *err)
{
	struct bs_areader *ar = NULL;
	struct bs_err local;
	int rc = -1;

	if (!err)
		err = &local;
	bs_err_init(err);
	bs_manifest_init(m);
	if (bs_areader_open(in, expect, m, NULL, NULL, &ar, err) < 0 || next_schema(ar, NULL, NULL, err) < 0)
		goto out;
	for (;;) {
		struct bs_amember mem;
		int n = bs_areader_next(ar, &mem, err);

		if (n < 0)
			goto out;
		if (n == 0)
			break;
		if (mem.kind == BS_AM_CHUNK && !bs_manifest_table(m, mem.a)) {
			bs_err_set(err, BS_ERR_FORMAT, "unexpected member '%s': table %" PRIu32 " is not in %s",
				   mem.name, mem.a, BS_MEMBER_HEADER);
			goto out;
		}
		if (mem.kind == BS_AM_MANIFEST) {
			if (bs_areader_finish(ar, err) < 0)
				goto out;
			break;
		}
	}
	rc = 0;
out:
	bs_areader_free(ar);
	return rc;
}

/* ---- --globals-only ---- */

/* The globals as SQL text, into *sql. */
static int globals_sql(const struct bs_globals *g, char **sql, struct bs_err *err)
{
	size_t len = 0;
	FILE *m = open_memstream(sql, &len);
	int rc;

	if (!m)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	rc = bs_globals_print(g, m);
	if (fclose(m) != 0 || rc < 0) {
		free(*sql);
		*sql = NULL;
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory rendering the roles as SQL");
	}
	return 0;
}

int bs_restore_globals(const struct bs_restore_opts *o, struct bs_rstream *in, char **sql, int *created,
		       struct bs_err *err)
{
	struct bs_areader *ar = NULL;
	struct bs_manifest m;
	struct bs_globals g;
	char *json = NULL;
	size_t len = 0;
	int rc = -1;

	bs_err_init(err);
	bs_manifest_init(&m);
	bs_globals_init(&g);
	*created = 0;
	if (bs_areader_open(in, o ? o->expect : NULL, &m, NULL, NULL, &ar, err) < 0 ||
	    next_schema(ar, &json, &len, err) < 0)
		goto out;
	if (!json) {
		bs_err_set(err, BS_ERR_NOT_FOUND, "snapshot %s holds no roles or tablespaces", m.id ? m.id : "?");
		bs_err_detail(err, "it was taken by a backstop that did not capture them (archive format version %d)",
			      m.version);
		bs_err_hint(err, "recreate the roles by hand, e.g. from pg_dumpall --globals-only of the old server");
		goto out;
	}
	if (o && o->target) {
		rc = bs_restore_globals_apply(o, json, len, created, err);
		goto out;
	}
	if (!sql) {
		bs_err_set(err, BS_ERR_INTERNAL, "bs_restore_globals: no target and nowhere to put the SQL");
		goto out;
	}
	if (bs_globals_parse(&g, json, len, err) < 0 || globals_sql(&g, sql, err) < 0)
		goto out;
	rc = 0;
out:
	if (json) {
		explicit_bzero(json, len);
		free(json);
	}
	bs_globals_release(&g);
	bs_manifest_release(&m);
	bs_areader_free(ar);
	return rc;
}
