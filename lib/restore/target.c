/* target.c - the database a restore writes into: create it or check that it
 * is empty (or ready for --data-only), open sessions on it, and drop it
 * again when a restore that created it fails. */
#include "restore/restore_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "pg/conn.h"

/* Connect to the same server's maintenance database. */
static int connect_maintenance(const char *target, PGconn **out, struct bs_err *err)
{
	struct bs_err e2;

	if (bs_pg_connect(target, "postgres", out, err) == 0)
		return 0;
	bs_err_init(&e2);
	if (bs_pg_connect(target, "template1", out, &e2) == 0) {
		bs_err_clear(err);
		return 0;
	}
	return -1;
}

int rs_target_maintenance(const char *target, PGconn **out, struct bs_err *err)
{
	return connect_maintenance(target, out, err);
}

/* Append a "SET x = 'v'" with v quoted as a literal. */
static int set_literal(PGconn *c, const char *name, const char *value, struct bs_err *err)
{
	char *lit = PQescapeLiteral(c, value, strlen(value));
	char *sql;
	int rc;

	if (!lit)
		return bs_pg_error(err, BS_ERR_PG, c, NULL, "unable to quote a setting");
	sql = malloc(strlen(name) + strlen(lit) + 16);
	if (!sql) {
		PQfreemem(lit);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	sprintf(sql, "SET %s = %s", name, lit);
	rc = bs_pg_exec(c, sql, err);
	PQfreemem(lit);
	free(sql);
	return rc;
}

/* Lock waits behind autovacuum: autovacuum gives way to a session that
 * waits for its lock, but only after deadlock_timeout (1 s by default),
 * and it picks up freshly loaded tables while the restore builds their
 * indexes.  Superusers may shorten the wait for their own sessions. */
#define RS_DEADLOCK_TIMEOUT "100ms"

int rs_target_session(struct rs_ctx *cx, PGconn **out, struct bs_err *err)
{
	PGconn *c = NULL;
	const char *su;

	*out = NULL;
	if (bs_pg_connect(cx->o->target, cx->dbname, &c, err) < 0)
		return -1;
	su = PQparameterStatus(c, "is_superuser");
	/* COPY text is in the archive's encoding, whatever the target's is */
	if (bs_pg_session_setup(c, err) < 0 ||
	    (cx->m->encoding && set_literal(c, "client_encoding", cx->m->encoding, err) < 0) ||
	    bs_pg_exec(c, "SET synchronous_commit = off", err) < 0 ||
	    (su && strcmp(su, "on") == 0 &&
	     bs_pg_exec(c, "SET deadlock_timeout = '" RS_DEADLOCK_TIMEOUT "'", err) < 0) ||
	    rs_session_role(cx, c, err) < 0) {
		PQfinish(c);
		return -1;
	}
	*out = c;
	return 0;
}

const char *rs_target_pgoptions(const struct rs_ctx *cx)
{
	return cx->superuser ? "-c synchronous_commit=off -c deadlock_timeout=" RS_DEADLOCK_TIMEOUT
			     : "-c synchronous_commit=off";
}

/* ---- create ---- */

static int database_exists(PGconn *c, const char *name, int *exists, struct bs_err *err)
{
	const char *params[1] = { name };
	PGresult *r = bs_pg_query(c, "SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1", 1, params, err);

	if (!r)
		return -1;
	*exists = PQntuples(r) > 0;
	PQclear(r);
	return 0;
}

/* CREATE DATABASE; *mismatch is set when the server rejected the
 * encoding/locale combination. */
static int create_database(PGconn *c, const char *qname, const char *enc, int locale_c, int *mismatch,
			   struct bs_err *err)
{
	char *lit = PQescapeLiteral(c, enc, strlen(enc));
	char *sql = NULL;
	PGresult *r = NULL;
	int rc = -1;

	*mismatch = 0;
	if (!lit)
		return bs_pg_error(err, BS_ERR_PG, c, NULL, "unable to quote the encoding");
	sql = malloc(strlen(qname) + strlen(lit) + 80);
	if (!sql) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	sprintf(sql, "CREATE DATABASE %s TEMPLATE template0 ENCODING %s%s", qname, lit,
		locale_c ? " LOCALE 'C'" : "");
	r = PQexec(c, sql);
	if (r && PQresultStatus(r) == PGRES_COMMAND_OK) {
		rc = 0;
		goto out;
	}
	{
		const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
		/* 22023 invalid_parameter_value: 'encoding "LATIN1" does not match
		 * locale "en_US.UTF-8"' (the only one a plain CREATE DATABASE
		 * ... ENCODING raises; a retry with LOCALE 'C' reports any other) */
		if (state && strcmp(state, "22023") == 0)
			*mismatch = 1;
	}
	bs_pg_error(err, BS_ERR_PG, c, r, "unable to create the database");
out:
	PQclear(r);
	PQfreemem(lit);
	free(sql);
	return rc;
}

static void guard_creating(struct rs_ctx *cx, int begin, int created);

static int target_create(struct rs_ctx *cx, struct bs_err *err)
{
	PGconn *c = NULL;
	char *qname = NULL;
	const char *enc = cx->m->encoding ? cx->m->encoding : "UTF8";
	int exists = 0, mismatch = 0, done = 0, rc = -1;

	if (connect_maintenance(cx->o->target, &c, err) < 0)
		return -1;
	if (database_exists(c, cx->dbname, &exists, err) < 0)
		goto out;
	if (exists) {
		bs_err_set(err, BS_ERR_REFUSED, "database \"%s\" already exists", cx->dbname);
		bs_err_hint(err, "choose another name, or restore without --create into an empty database");
		goto out;
	}
	if (!(qname = bs_pg_quote_ident(cx->dbname))) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	guard_creating(cx, 1, 0);
	if (rs_dbprops_create(cx, c, &done, err) < 0) {
		guard_creating(cx, 0, 0);
		goto out;
	}
	if (!done && create_database(c, qname, enc, 0, &mismatch, err) < 0) {
		if (!mismatch) {
			guard_creating(cx, 0, 0);
			goto out;
		}
		bs_warn("the server's default locale does not support encoding %s; creating database \"%s\""
			" with LOCALE 'C'", enc, cx->dbname);
		bs_err_clear(err);
		if (create_database(c, qname, enc, 1, &mismatch, err) < 0) {
			guard_creating(cx, 0, 0);
			goto out;
		}
	}
	guard_creating(cx, 0, 1);
	cx->created = cx->res->created = 1;
	cx->changed = 1;
	rc = 0;
out:
	if (rc < 0 && err->code != BS_ERR_REFUSED)
		bs_err_prefix(err, "unable to create database \"%s\"", cx->dbname);
	free(qname);
	PQfinish(c);
	return rc;
}

/* ---- empty check ---- */

static const char empty_sql[] =
	"WITH sys(nsp) AS (SELECT oid FROM pg_catalog.pg_namespace"
	"    WHERE nspname IN ('pg_catalog', 'information_schema') OR nspname ~ '^pg_(toast|temp_)'),"
	" ext AS (SELECT classid, objid FROM pg_catalog.pg_depend WHERE deptype = 'e'),"
	" objs(rank, kind, name) AS ("
	"  SELECT CASE c.relkind WHEN 'r' THEN 1 WHEN 'p' THEN 1 WHEN 'v' THEN 2 WHEN 'm' THEN 3"
	"              WHEN 'f' THEN 4 WHEN 'S' THEN 5 ELSE 7 END,"
	"         CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'v' THEN 'view'"
	"              WHEN 'm' THEN 'materialized view' WHEN 'f' THEN 'foreign table'"
	"              WHEN 'S' THEN 'sequence' ELSE 'type' END,"
	"         quote_ident(n.nspname) || '.' || quote_ident(c.relname)"
	"    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
	"   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S', 'c') AND c.relispartition IS NOT TRUE"
	"     AND n.oid NOT IN (SELECT nsp FROM sys)"
	"     AND (c.oid NOT IN (SELECT objid FROM ext WHERE classid = 'pg_catalog.pg_class'::regclass)"
	"     AND c.reltype NOT IN (SELECT objid FROM ext WHERE classid = 'pg_catalog.pg_type'::regclass))"
	"  UNION ALL"
	"  SELECT 6, CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END,"
	"         quote_ident(n.nspname) || '.' || quote_ident(p.proname)"
	"    FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace"
	"   WHERE n.oid NOT IN (SELECT nsp FROM sys)"
	"     AND p.oid NOT IN (SELECT objid FROM ext WHERE classid = 'pg_catalog.pg_proc'::regclass)"
	"  UNION ALL"
	"  SELECT 7, 'type', quote_ident(n.nspname) || '.' || quote_ident(t.typname)"
	"    FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace"
	"   WHERE n.oid NOT IN (SELECT nsp FROM sys) AND t.typrelid = 0"
	"     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type e WHERE e.typarray = t.oid)"
	"     AND t.oid NOT IN (SELECT objid FROM ext WHERE classid = 'pg_catalog.pg_type'::regclass)"
	"  UNION ALL"
	"  SELECT 8, 'schema', quote_ident(n.nspname) FROM pg_catalog.pg_namespace n"
	"   WHERE n.oid NOT IN (SELECT nsp FROM sys) AND n.nspname <> 'public'"
	"     AND n.oid NOT IN (SELECT objid FROM ext WHERE classid = 'pg_catalog.pg_namespace'::regclass)"
	"  UNION ALL"
	"  SELECT 10, 'large object', l.oid::text FROM pg_catalog.pg_largeobject_metadata l)"
	" SELECT kind, count(*), min(name) FROM objs GROUP BY rank, kind ORDER BY rank, kind";

static int target_check_empty(struct rs_ctx *cx, struct bs_err *err)
{
	PGresult *r = bs_pg_query(cx->conn, empty_sql, 0, NULL, err);
	char what[512] = "";
	size_t len = 0;
	int i;

	if (!r)
		return bs_err_prefix(err, "unable to inspect database \"%s\"", cx->dbname);
	if (PQntuples(r) == 0) {
		PQclear(r);
		return 0;
	}
	for (i = 0; i < PQntuples(r) && len < sizeof(what) - 64; i++) {
		long n = atol(PQgetvalue(r, i, 1));
		len += (size_t)snprintf(what + len, sizeof(what) - len, "%s%ld %s%s", i ? ", " : "", n,
					PQgetvalue(r, i, 0), n == 1 ? "" : "s");
	}
	bs_err_set(err, BS_ERR_REFUSED, "target database \"%s\" is not empty: %s, e.g. %s", cx->dbname, what,
		   PQgetvalue(r, 0, 2));
	bs_err_hint(err, "restore into a new database with --create, or pass --clean to drop the "
			 "snapshot's objects first");
	PQclear(r);
	return -1;
}

/* --data-only: the selected tables must exist and be empty. */
static int target_check_data_only(struct rs_ctx *cx, struct bs_err *err)
{
	size_t i;

	for (i = 0; i < cx->ntables; i++) {
		struct rs_table *t = &cx->tables[i];
		const char *params[1] = { t->qname };
		char sql[64 + 2 * 256];
		PGresult *r;
		int missing, rows;

		if (!t->selected)
			continue;
		r = bs_pg_query(cx->conn, "SELECT pg_catalog.to_regclass($1) IS NULL", 1, params, err);
		if (!r)
			return -1;
		missing = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
		PQclear(r);
		if (missing) {
			bs_err_set(err, BS_ERR_REFUSED, "table %s does not exist in database \"%s\"", t->qname,
				   cx->dbname);
			bs_err_hint(err, "--data-only loads into an existing schema: restore the schema first");
			return -1;
		}
		snprintf(sql, sizeof(sql), "SELECT 1 FROM %.*s LIMIT 1", 2 * 256, t->qname);
		if (!(r = bs_pg_query(cx->conn, sql, 0, NULL, err)))
			return -1;
		rows = PQntuples(r);
		PQclear(r);
		if (rows > 0) {
			bs_err_set(err, BS_ERR_REFUSED, "table %s in database \"%s\" is not empty", t->qname,
				   cx->dbname);
			bs_err_hint(err, "--data-only loads into empty tables: truncate them first, or restore "
					 "schema and data with --clean");
			return -1;
		}
	}
	return 0;
}

/* Does the target database not exist?  Asked of the server's catalog
 * (a failed connection carries no SQLSTATE, and its message is translated). */
static int target_missing(struct rs_ctx *cx)
{
	struct bs_err e2;
	PGconn *c = NULL;
	int exists = 1;

	bs_err_init(&e2);
	if (connect_maintenance(cx->o->target, &c, &e2) == 0)
		database_exists(c, cx->dbname, &exists, &e2);
	PQfinish(c);
	return !exists;
}

int rs_target_prepare(struct rs_ctx *cx, struct bs_err *err)
{
	const char *su;

	if (cx->o->create && target_create(cx, err) < 0)
		return -1;
	if (rs_target_session(cx, &cx->conn, err) < 0) {
		if (!cx->o->create && target_missing(cx))
			bs_err_hint(err, "create the database first, or pass --create");
		return -1;
	}
	cx->server_version = PQserverVersion(cx->conn);
	su = PQparameterStatus(cx->conn, "is_superuser");
	cx->superuser = su && strcmp(su, "on") == 0;
	if (cx->o->data_only)
		return target_check_data_only(cx, err);
	if (!cx->o->create && !cx->o->clean)
		return target_check_empty(cx, err);
	return 0;
}

/* ---- undo ---- */

static int drop_named(const char *target, const char *dbname, struct bs_err *err)
{
	PGconn *c = NULL;
	char *qname = bs_pg_quote_ident(dbname);
	char *sql = NULL;
	int rc = -1;

	if (!qname)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	if (connect_maintenance(target, &c, err) < 0)
		goto out;
	if (!(sql = malloc(strlen(qname) + 64))) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (PQserverVersion(c) >= 130000) {
		sprintf(sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", qname);
	} else {
		const char *params[1] = { dbname };
		PGresult *r = bs_pg_query(c, "SELECT pg_catalog.pg_terminate_backend(pid) FROM "
					     "pg_catalog.pg_stat_activity WHERE datname = $1 AND "
					     "pid <> pg_catalog.pg_backend_pid()",
					  1, params, err);
		if (!r)
			goto out;
		PQclear(r);
		sprintf(sql, "DROP DATABASE IF EXISTS %s", qname);
	}
	rc = bs_pg_exec(c, sql, err);
out:
	PQfinish(c);
	free(qname);
	free(sql);
	return rc;
}

static void add_detail(struct bs_err *err, const char *line)
{
	char old[BS_ERR_DETAIL_MAX];

	if (err->detail[0]) {
		memcpy(old, err->detail, sizeof(old));
		bs_err_detail(err, "%s; %s", old, line);
	} else {
		bs_err_detail(err, "%s", line);
	}
}

void rs_target_undo(struct rs_ctx *cx, struct bs_err *err)
{
	char line[BS_ERR_DETAIL_MAX];
	struct bs_err e2;

	if (!cx->changed || !cx->dbname)
		return;
	if (!cx->created) {
		snprintf(line, sizeof(line), "the target database \"%s\" holds a partial restore", cx->dbname);
	} else if (cx->o->keep_on_error && cx->o->caller_drops) {
		return;
	} else if (cx->o->keep_on_error) {
		snprintf(line, sizeof(line), "the partially restored database \"%s\" was kept (--keep-on-error)",
			 cx->dbname);
	} else {
		bs_err_init(&e2);
		if (drop_named(cx->o->target, cx->dbname, &e2) == 0) {
			cx->created = 0;
			snprintf(line, sizeof(line), "the partially restored database \"%s\" was dropped",
				 cx->dbname);
		} else {
			snprintf(line, sizeof(line), "the partially restored database \"%s\" could not be dropped: %s",
				 cx->dbname, e2.msg);
		}
	}
	add_detail(err, line);
}

/* ---- interrupt guard ---- */

void bs_restore_guard_init(struct bs_restore_guard *g)
{
	memset(g, 0, sizeof(*g));
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
}

/* with g->mu held */
static void settle_locked(struct bs_restore_guard *g, int timeout_ms)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (g->creating)
		if (pthread_cond_timedwait(&g->cv, &g->mu, &until) != 0)
			break;
}

void bs_restore_guard_settle(struct bs_restore_guard *g, int timeout_ms)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->mu);
	settle_locked(g, timeout_ms);
	pthread_mutex_unlock(&g->mu);
}

/* Around CREATE DATABASE: begin (creating) and end (armed if it worked
 * and the database is ours to drop on an abort). */
static void guard_creating(struct rs_ctx *cx, int begin, int created)
{
	struct bs_restore_guard *g = cx->o->guard;

	if (!g)
		return;
	pthread_mutex_lock(&g->mu);
	if (begin) {
		g->target = cx->o->target;
		snprintf(g->dbname, sizeof(g->dbname), "%s", cx->dbname);
		g->creating = 1;
	} else {
		g->creating = 0;
		if (created && !cx->o->keep_on_error)
			g->armed = 1;
		pthread_cond_broadcast(&g->cv);
	}
	pthread_mutex_unlock(&g->mu);
}

void rs_target_disarm(struct rs_ctx *cx)
{
	if (!cx->o->guard)
		return;
	pthread_mutex_lock(&cx->o->guard->mu);
	cx->o->guard->armed = 0;
	pthread_mutex_unlock(&cx->o->guard->mu);
}

int bs_restore_guard_abort(struct bs_restore_guard *g, char name[256], struct bs_err *err)
{
	int rc = 0;

	/* held to the end: the main thread cannot disarm (or succeed) halfway */
	pthread_mutex_lock(&g->mu);
	settle_locked(g, BS_RESTORE_SETTLE_MS);
	if (g->armed) {
		snprintf(name, 256, "%s", g->dbname);
		rc = drop_named(g->target, g->dbname, err) < 0 ? -1 : 1;
		g->armed = 0;
	}
	pthread_mutex_unlock(&g->mu);
	return rc;
}
