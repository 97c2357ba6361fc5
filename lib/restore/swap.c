/* swap.c - restore --clean, all or nothing: the snapshot is restored into
 * a new database on the target's server, under a temporary name, and only
 * once that restore succeeded (every chunk checked against the manifest)
 * are the names swapped, in one transaction:
 *
 *   ALTER DATABASE <target> RENAME TO <target>_backstop_old_<time>;
 *   ALTER DATABASE <temporary> RENAME TO <target>;
 *
 * Until that commit the target is untouched; after it, it is the restored
 * database.  The previous one is kept under the _backstop_old_ name, or
 * dropped with drop_old.
 *
 * The swap needs the target database to itself for a moment: RENAME takes
 * an exclusive lock and fails while any other session is connected to it.
 * Sessions on the target are refused up front (and again at the swap)
 * with a list of them, unless terminate_sessions, which ends them
 * (pg_terminate_backend) right before the swap.
 *
 * Temporary databases are named backstop_clean_<yyyymmddhhmmss>_<6 hex>
 * (UTC) and locked, from before they are created until they are renamed
 * or dropped, by a session advisory lock on the maintenance connection.
 * An interrupt (the restore guard) drops the temporary database; a restore
 * killed outright leaves it behind, unlocked: the next restore --clean on
 * that server drops every database of that exact name shape that no
 * session holds locked and no session is connected to, unless it is
 * marked as kept (--keep-on-error marks the one it keeps with a comment).
 */
#include "restore/restore_int.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "pg/conn.h"
#include "common/secret.h"

#define SWAP_PREFIX "backstop_clean_"
#define SWAP_LOCK_CLASS "1651733603" /* drills use ...604 */
#define OLD_INFIX "_backstop_old_"
#define SESSIONS_MAX 10
/* COMMENT ON DATABASE of a temporary database kept by --keep-on-error:
 * stale clean-up leaves it */
#define KEPT_MARK "backstop: kept"

/* backstop_clean_ + 14 digits + _ + 6 lowercase hex digits */
int rs_swap_is_temp_name(const char *s)
{
	size_t i, pl = strlen(SWAP_PREFIX);

	if (strncmp(s, SWAP_PREFIX, pl) != 0 || strlen(s) != pl + 21)
		return 0;
	for (i = 0; i < 14; i++)
		if (s[pl + i] < '0' || s[pl + i] > '9')
			return 0;
	if (s[pl + 14] != '_')
		return 0;
	for (i = 15; i < 21; i++)
		if (!((s[pl + i] >= '0' && s[pl + i] <= '9') || (s[pl + i] >= 'a' && s[pl + i] <= 'f')))
			return 0;
	return 1;
}

static void temp_name(char out[64])
{
	unsigned char rnd[3] = { 0, 0, 0 };
	time_t t = time(NULL);
	struct tm tm;
	char ts[32];

	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		unsigned v = (unsigned)getpid() * 2654435761u ^ (unsigned)t;
		rnd[0] = (unsigned char)v;
		rnd[1] = (unsigned char)(v >> 8);
		rnd[2] = (unsigned char)(v >> 16);
	}
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y%m%d%H%M%S", &tm);
	snprintf(out, 64, "%s%s_%02x%02x%02x", SWAP_PREFIX, ts, rnd[0], rnd[1], rnd[2]);
}

/* <target>_backstop_old_<yyyymmddhhmmss>, the target's name cut so that
 * the whole fits in NAMEDATALEN - 1 bytes (at a character boundary). */
static void old_name(const char *target, char out[64])
{
	time_t t = time(NULL);
	struct tm tm;
	char ts[32];
	size_t room = 63 - strlen(OLD_INFIX) - 14, n = strlen(target);

	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y%m%d%H%M%S", &tm);
	if (n > room) {
		n = room;
		while (n > 0 && ((unsigned char)target[n] & 0xc0) == 0x80)
			n--; /* don't cut a UTF-8 sequence */
	}
	snprintf(out, 64, "%.*s%s%s", (int)n, target, OLD_INFIX, ts);
}

static void append_detail(struct bs_err *err, const char *line)
{
	char old[BS_ERR_DETAIL_MAX];

	if (err->detail[0]) {
		memcpy(old, err->detail, sizeof(old));
		bs_err_detail(err, "%s; %s", old, line);
	} else {
		bs_err_detail(err, "%s", line);
	}
}

static int exec_fmt(PGconn *c, struct bs_err *err, const char *fmt, const char *a, const char *b)
{
	char *qa = a ? bs_pg_quote_ident(a) : NULL, *qb = b ? bs_pg_quote_ident(b) : NULL;
	char *sql = NULL;
	int rc = -1;

	if ((a && !qa) || (b && !qb) || !(sql = malloc(strlen(fmt) + (qa ? strlen(qa) : 0) +
							(qb ? strlen(qb) : 0) + 1))) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	sprintf(sql, fmt, qa ? qa : "", qb ? qb : "");
	rc = bs_pg_exec(c, sql, err);
out:
	free(qa);
	free(qb);
	free(sql);
	return rc;
}

static int advisory(PGconn *c, const char *name, int unlock, int *got, struct bs_err *err)
{
	const char *params[1] = { name };
	PGresult *r = bs_pg_query(c,
				  unlock ? "SELECT pg_catalog.pg_advisory_unlock(" SWAP_LOCK_CLASS ", pg_catalog.hashtext($1))"
					 : "SELECT pg_catalog.pg_try_advisory_lock(" SWAP_LOCK_CLASS ", pg_catalog.hashtext($1))",
				  1, params, err);

	if (!r)
		return -1;
	if (got)
		*got = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	return 0;
}

/* Drop the temporary databases of restores that were killed: the exact
 * name shape, no lock held on the name, nobody connected. */
static int drop_stale(PGconn *c, struct bs_err *err)
{
	PGresult *r = bs_pg_query(
		c,
		"SELECT d.datname FROM pg_catalog.pg_database d"
		" WHERE d.datname ~ '^" SWAP_PREFIX "[0-9]{14}_[0-9a-f]{6}$'"
		"   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_locks l WHERE l.locktype = 'advisory'"
		"        AND l.classid = " SWAP_LOCK_CLASS "::pg_catalog.oid AND l.objsubid = 2"
		"        AND l.objid = (pg_catalog.hashtext(d.datname)::bigint & 4294967295)::pg_catalog.oid)"
		"   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a WHERE a.datid = d.oid)"
		"   AND COALESCE(pg_catalog.shobj_description(d.oid, 'pg_database'), '') NOT LIKE '" KEPT_MARK "%'"
		" ORDER BY 1",
		0, NULL, err);
	int i, rc = 0;

	if (!r)
		return -1;
	for (i = 0; i < PQntuples(r) && rc == 0; i++) {
		const char *name = PQgetvalue(r, i, 0);
		int got = 0;
		struct bs_err e;

		if (!rs_swap_is_temp_name(name) || advisory(c, name, 0, &got, err) < 0)
			continue;
		if (!got)
			continue; /* a restore that is alive after all */
		bs_err_init(&e);
		if (exec_fmt(c, &e, "DROP DATABASE IF EXISTS %s%s", name, NULL) == 0)
			bs_info("dropped %s, the temporary database of an interrupted restore --clean", name);
		else
			bs_warn("unable to drop %s, the temporary database of an interrupted restore --clean: %s",
				name, e.msg);
		advisory(c, name, 1, NULL, NULL);
	}
	PQclear(r);
	return rc;
}

/* Other sessions on database name: none (0), or a refusal naming them
 * (-1, BS_ERR_REFUSED); with terminate, they are ended instead.
 * Autovacuum workers do not count: ALTER DATABASE ... RENAME cancels them. */
#define NOT_AUTOVACUUM " AND backend_type IS DISTINCT FROM 'autovacuum worker'"
static int check_sessions(PGconn *c, const char *name, int terminate, struct bs_err *err)
{
	const char *params[1] = { name };
	PGresult *r = bs_pg_query(
		c,
		terminate ? "SELECT pg_catalog.pg_terminate_backend(pid)::text, '', '' FROM pg_catalog.pg_stat_activity"
			    " WHERE datname = $1 AND pid <> pg_catalog.pg_backend_pid()" NOT_AUTOVACUUM
			  : "SELECT pid::text, COALESCE(usename, backend_type, '?'),"
			    " COALESCE(NULLIF(application_name, ''), '?')"
			    " FROM pg_catalog.pg_stat_activity WHERE datname = $1 AND pid <> pg_catalog.pg_backend_pid()"
			    NOT_AUTOVACUUM " ORDER BY pid",
		1, params, err);
	char list[700] = "";
	size_t len = 0;
	int i, n;

	if (!r)
		return -1;
	n = PQntuples(r);
	if (terminate || n == 0) {
		if (n > 0)
			bs_warn("terminated %d session%s on database \"%s\" (--terminate-sessions)", n, n == 1 ? "" : "s",
				name);
		PQclear(r);
		return 0;
	}
	for (i = 0; i < n && i < SESSIONS_MAX && len < sizeof(list) - 80; i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%spid %s (user %s, application %s)",
					i ? ", " : "", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2));
	if (n > i)
		snprintf(list + len, sizeof(list) - len, " and %d more", n - i);
	bs_err_set(err, BS_ERR_REFUSED, "database \"%s\" has %d other session%s: %s", name, n, n == 1 ? "" : "s",
		   list);
	bs_err_hint(err, "restore --clean swaps the restored database in under the target's name, which needs "
			 "the target to itself for a moment: disconnect these sessions, or pass "
			 "--terminate-sessions to end them at the swap");
	PQclear(r);
	return -1;
}

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

/* The two renames, in one transaction. */
static int swap_names(PGconn *c, const char *target, const char *tmp, const char *old, int terminate,
		      struct bs_err *err)
{
	if (check_sessions(c, target, terminate, err) < 0)
		return -1;
	if (bs_pg_exec(c, "BEGIN", err) < 0)
		return -1;
	if (exec_fmt(c, err, "ALTER DATABASE %s RENAME TO %s", target, old) < 0 ||
	    exec_fmt(c, err, "ALTER DATABASE %s RENAME TO %s", tmp, target) < 0 ||
	    bs_pg_exec(c, "COMMIT", err) < 0) {
		bs_pg_exec(c, "ROLLBACK", NULL);
		bs_err_prefix(err, "unable to swap the restored database in");
		if (bs_err_is_sqlstate(err, "55006")) /* object_in_use */
			bs_err_hint(err, "a session connected to \"%s\" meanwhile; try again, or pass "
					 "--terminate-sessions", target);
		return -1;
	}
	return 0;
}

/* Mark a temporary database kept by --keep-on-error (stale clean-up
 * leaves it; drop it by hand). */
static int keep_mark(PGconn *c, const char *tmp, const char *target)
{
	char *q = bs_pg_quote_ident(tmp), *lit = NULL, text[400];
	char *sql = NULL;
	struct bs_err e;
	int rc = -1;

	bs_err_init(&e);
	snprintf(text, sizeof(text), KEPT_MARK " (--keep-on-error): a failed restore --clean of \"%s\"", target);
	if (!q || !(lit = PQescapeLiteral(c, text, strlen(text))) ||
	    !(sql = malloc(strlen(q) + strlen(lit) + 32)))
		goto out;
	sprintf(sql, "COMMENT ON DATABASE %s IS %s", q, lit);
	rc = bs_pg_exec(c, sql, &e);
out:
	free(q);
	PQfreemem(lit);
	free(sql);
	return rc;
}

static void guard_set(struct bs_restore_guard *g, const char *target, const char *name, int armed)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->mu);
	g->target = target;
	snprintf(g->dbname, sizeof(g->dbname), "%s", name);
	g->armed = armed;
	pthread_mutex_unlock(&g->mu);
}

static int refuse_options(const struct bs_restore_opts *o, struct bs_err *err)
{
	if (o->data_only)
		return bs_err_set(err, BS_ERR_USAGE, "--clean cannot be used with --data-only");
	if (o->create) {
		bs_err_set(err, BS_ERR_USAGE, "--create cannot be used with --clean");
		bs_err_hint(err, "--create restores into a new database; --clean replaces an existing one");
		return -1;
	}
	if (o->tables && o->tables[0]) {
		bs_err_set(err, BS_ERR_USAGE, "--clean cannot be used with --table");
		bs_err_hint(err, "--clean replaces the whole database; restore the table into a new database "
				 "(--create) and copy it over");
		return -1;
	}
	return 0;
}

int rs_swap_run(const struct bs_restore_opts *o, struct bs_rstream *in, struct bs_restore_result *res,
		struct bs_err *err)
{
	struct bs_restore_opts o2;
	PGconn *mc = NULL;
	char *target = NULL, *ci = NULL;
	char tmp[64], old[64];
	int exists = 0, got = 0, rc = -1, restored = 0;

	if (refuse_options(o, err) < 0)
		return -1;
	if (!(target = bs_pg_conninfo_dbname(o->target))) {
		bs_err_set(err, BS_ERR_USAGE, "the target connection string names no database");
		bs_err_hint(err, "add dbname=NAME to the target");
		return -1;
	}
	snprintf(res->database, sizeof(res->database), "%s", target);
	if (rs_target_maintenance(o->target, &mc, err) < 0)
		goto out;
	if (database_exists(mc, target, &exists, err) < 0)
		goto out;
	if (!exists) {
		bs_err_set(err, BS_ERR_REFUSED, "database \"%s\" does not exist", target);
		bs_err_hint(err, "--clean replaces an existing database; restore into a new one with --create");
		goto out;
	}
	if (rs_swap_is_temp_name(target) || strstr(target, OLD_INFIX)) {
		bs_err_set(err, BS_ERR_REFUSED, "database \"%s\" is a database of restore --clean itself", target);
		goto out;
	}
	if (drop_stale(mc, err) < 0 || check_sessions(mc, target, o->terminate_sessions, err) < 0)
		goto out;
	do {
		temp_name(tmp);
		if (advisory(mc, tmp, 0, &got, err) < 0 || database_exists(mc, tmp, &exists, err) < 0)
			goto out;
		if (got && exists && advisory(mc, tmp, 1, NULL, err) < 0)
			goto out;
	} while (!got || exists);

	/* the restore proper, into the temporary database, as --create */
	if (!(ci = bs_pg_conninfo_with_dbname(o->target, tmp, err)))
		goto out;
	o2 = *o;
	o2.target = ci;
	o2.clean = 0;
	o2.create = 1;
	bs_info("restoring into the temporary database \"%s\"; \"%s\" is replaced only once that succeeded", tmp,
		target);
	if (bs_restore_run(&o2, in, res, err) < 0) {
		char line[400];
		if (o->keep_on_error)
			keep_mark(mc, tmp, target);
		snprintf(line, sizeof(line), "the database \"%s\" is unchanged", target);
		append_detail(err, line);
		goto out;
	}
	restored = 1;
	/* from here until the swap commits, an interrupt drops the temporary
	 * database (the guard's mutex is held during the swap) */
	guard_set(o->guard, o->target, tmp, !o->keep_on_error);
	if (o->guard)
		pthread_mutex_lock(&o->guard->mu);
	old_name(target, old);
	rc = swap_names(mc, target, tmp, old, o->terminate_sessions, err);
	if (o->guard) {
		o->guard->armed = 0;
		pthread_mutex_unlock(&o->guard->mu);
	}
	if (rc < 0)
		goto out;
	restored = 0;
	res->created = 0;
	snprintf(res->database, sizeof(res->database), "%s", target);
	if (o->drop_old) {
		struct bs_err e;
		bs_err_init(&e);
		if (exec_fmt(mc, &e, "DROP DATABASE %s WITH (FORCE)", old, NULL) < 0) {
			bs_warn("the previous database is kept as \"%s\": unable to drop it: %s", old, e.msg);
			snprintf(res->replaced, sizeof(res->replaced), "%s", old);
		}
	} else {
		snprintf(res->replaced, sizeof(res->replaced), "%s", old);
		bs_info("the previous database \"%s\" is kept as \"%s\" (drop it when it is no longer needed; "
			"--drop-old drops it after the swap)", target, old);
	}
	rc = 0;
out:
	if (restored) {
		/* restored but not swapped in */
		char line[BS_ERR_DETAIL_MAX];
		struct bs_err e;
		bs_err_init(&e);
		if (o->keep_on_error) {
			keep_mark(mc, tmp, target);
			snprintf(line, sizeof(line), "the restored database \"%s\" was kept (--keep-on-error); "
				 "the database \"%s\" is unchanged", tmp, target);
		} else if (exec_fmt(mc, &e, "DROP DATABASE IF EXISTS %s WITH (FORCE)", tmp, NULL) == 0)
			snprintf(line, sizeof(line), "the restored database \"%s\" was dropped; the database \"%s\" "
				 "is unchanged", tmp, target);
		else
			snprintf(line, sizeof(line), "the restored database \"%s\" could not be dropped (%.200s); "
				 "the database \"%s\" is unchanged", tmp, e.msg, target);
		append_detail(err, line);
	}
	if (mc)
		PQfinish(mc); /* releases the advisory lock */
	bs_secret_free(ci);
	free(target);
	return rc;
}
