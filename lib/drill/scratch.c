/*
 * scratch.c - scratch databases for restore drills (drill.h).
 *
 * Safety rules, in code order:
 *   - a drill only ever writes into, or drops, a database whose name has the
 *     exact generated shape (backstop_drill_<yyyymmddhhmmss>_<6hex>); the
 *     shape is checked again right before every DROP;
 *   - the name is locked (session advisory lock on the maintenance
 *     database) before it is checked to be free, and stays locked until
 *     the database is gone, so a running drill's database is never taken
 *     for a stale one;
 *   - the scratch conninfo's own database is only a maintenance connection:
 *     it may not carry the prefix, and it is never dropped or written.
 */
#include <ctype.h>
#include <inttypes.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "drill/drill.h"
#include "pg/conn.h"
#include "common/secret.h"

#define LOCK_CLASS_STR "1651733604"
#define CLAIM_TRIES 8
/* COMMENT ON DATABASE of a database kept with --keep: stale clean-up leaves it */
#define KEPT_MARK "backstop: kept"

void bs_drill_scratch_name(time_t t, char out[64])
{
	unsigned char rnd[3] = { 0, 0, 0 };
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
	snprintf(out, 64, "%s%s_%02x%02x%02x", BS_DRILL_PREFIX, ts, rnd[0], rnd[1], rnd[2]);
}

static int digits(const char *s, size_t n, int *out)
{
	size_t i;
	int v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int bs_drill_scratch_name_valid(const char *name, time_t *created)
{
	const size_t plen = sizeof(BS_DRILL_PREFIX) - 1;
	const char *p;
	struct tm tm;
	int i;

	if (!name || strlen(name) != BS_DRILL_NAME_LEN || strncmp(name, BS_DRILL_PREFIX, plen) != 0)
		return 0;
	p = name + plen;
	memset(&tm, 0, sizeof(tm));
	if (digits(p, 4, &tm.tm_year) < 0 || digits(p + 4, 2, &tm.tm_mon) < 0 ||
	    digits(p + 6, 2, &tm.tm_mday) < 0 || digits(p + 8, 2, &tm.tm_hour) < 0 ||
	    digits(p + 10, 2, &tm.tm_min) < 0 || digits(p + 12, 2, &tm.tm_sec) < 0)
		return 0;
	if (tm.tm_year < 2000 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return 0;
	if (p[14] != '_')
		return 0;
	for (i = 15; i < 21; i++)
		if (!isxdigit((unsigned char)p[i]) || isupper((unsigned char)p[i]))
			return 0;
	if (created) {
		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		*created = timegm(&tm);
	}
	return 1;
}

void bs_drill_scratch_init(struct bs_drill_scratch *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
}

void bs_drill_scratch_release(struct bs_drill_scratch *s)
{
	if (!s)
		return;
	if (s->lock_conn)
		PQfinish(s->lock_conn);
	bs_secret_free(s->server);
	bs_secret_free(s->target);
	free(s->maint_db);
	free(s->where);
	pthread_mutex_destroy(&s->mu);
	memset(s, 0, sizeof(*s));
}

/* conninfo with its database replaced by dbname (password and every other
 * option kept): what the restore engine and the verifiers connect to. */
static char *conninfo_with_db(const char *conninfo, const char *dbname, struct bs_err *err)
{
	char *s = bs_pg_conninfo_with_dbname(conninfo, dbname, err);

	if (!s && err && err->code == BS_ERR_CONFIG)
		err->code = BS_ERR_USAGE;
	return s;
}

int bs_drill_scratch_connect(struct bs_drill_scratch *s, const char *server_conninfo, struct bs_err *err)
{
	char where[300];
	const char *h, *p;

	s->maint_db = bs_pg_conninfo_dbname(server_conninfo);
	if (!s->maint_db)
		return bs_err_set(err, BS_ERR_USAGE, "invalid scratch connection string");
	if (strncmp(s->maint_db, BS_DRILL_PREFIX, sizeof(BS_DRILL_PREFIX) - 1) == 0) {
		bs_err_set(err, BS_ERR_REFUSED,
			   "refusing to use database '%s' as the scratch server's maintenance database: it "
			   "has the drill prefix '%s'",
			   s->maint_db, BS_DRILL_PREFIX);
		bs_err_hint(err, "the scratch conninfo names a server and a database that exists for good "
				 "(e.g. 'postgresql://drill@scratch-db/postgres'); drills create and drop "
				 "their own '%s...' databases on it",
			    BS_DRILL_PREFIX);
		return -1;
	}
	s->server = strdup(server_conninfo ? server_conninfo : "");
	if (!s->server)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	if (bs_pg_connect(s->server, NULL, &s->lock_conn, err) < 0) {
		bs_err_prefix(err, "scratch server");
		return -1;
	}
	/* the lock session idles for the whole drill: server-side idle
	 * timeouts must not end it (the drill's database would look abandoned) */
	if (bs_pg_exec(s->lock_conn,
		       PQserverVersion(s->lock_conn) >= 140000
			       ? "SET idle_session_timeout = 0; SET idle_in_transaction_session_timeout = 0"
			       : "SET idle_in_transaction_session_timeout = 0",
		       err) < 0)
		return bs_err_prefix(err, "scratch server");
	h = PQhost(s->lock_conn);
	p = PQport(s->lock_conn);
	snprintf(where, sizeof(where), "%s:%s", h && *h ? h : "local", p && *p ? p : "5432");
	s->where = strdup(where);
	if (!s->where)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	return 0;
}

/* pg_try_advisory_lock / pg_advisory_unlock on the lock session: 1 taken,
 * 0 held elsewhere, -1 error. */
static int name_lock(struct bs_drill_scratch *s, const char *name, int unlock, struct bs_err *err)
{
	const char *params[2] = { LOCK_CLASS_STR, name };
	PGresult *r;
	int got;

	r = bs_pg_query(s->lock_conn,
			unlock ? "SELECT pg_advisory_unlock($1::int, hashtext($2))"
			       : "SELECT pg_try_advisory_lock($1::int, hashtext($2))",
			2, params, err);
	if (!r)
		return -1;
	got = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	return got;
}

int bs_drill_scratch_exists(struct bs_drill_scratch *s, const char *name, struct bs_err *err)
{
	const char *params[1] = { name };
	PGresult *r = bs_pg_query(s->lock_conn, "SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1", 1,
				  params, err);
	int n;

	if (!r)
		return -1;
	n = PQntuples(r);
	PQclear(r);
	return n > 0;
}

static int set_target(struct bs_drill_scratch *s, struct bs_err *err)
{
	bs_secret_free(s->target);
	s->target = conninfo_with_db(s->server, s->name, err);
	return s->target ? 0 : -1;
}

int bs_drill_scratch_claim(struct bs_drill_scratch *s, struct bs_err *err)
{
	char name[64];
	int i, got, ex;

	for (i = 0; i < CLAIM_TRIES; i++) {
		bs_drill_scratch_name(time(NULL), name);
		got = name_lock(s, name, 0, err);
		if (got < 0)
			return -1;
		if (!got)
			continue;
		ex = bs_drill_scratch_exists(s, name, err);
		if (ex < 0)
			return -1;
		if (ex) {
			if (name_lock(s, name, 1, err) < 0)
				return -1;
			continue;
		}
		pthread_mutex_lock(&s->mu);
		snprintf(s->name, sizeof(s->name), "%s", name);
		s->owned = 1;
		s->dropped = 0;
		pthread_mutex_unlock(&s->mu);
		return set_target(s, err);
	}
	return bs_err_set(err, BS_ERR_INTERNAL, "unable to choose a free scratch database name in %d tries",
			  CLAIM_TRIES);
}

int bs_drill_scratch_adopt(struct bs_drill_scratch *s, const char *name, struct bs_err *err)
{
	int got, ex;

	if (!bs_drill_scratch_name_valid(name, NULL)) {
		bs_err_set(err, BS_ERR_REFUSED, "refusing to re-verify database '%s': it is not a drill database",
			   name);
		bs_err_hint(err, "--reverify takes the name of a database a drill left with --keep "
				 "(%s<yyyymmddhhmmss>_<6 hex>)",
			    BS_DRILL_PREFIX);
		return -1;
	}
	ex = bs_drill_scratch_exists(s, name, err);
	if (ex < 0)
		return -1;
	if (!ex) {
		bs_err_set(err, BS_ERR_NOT_FOUND, "drill database '%s' does not exist on %s", name, s->where);
		bs_err_hint(err, "run a drill with --keep first; it prints the name of the database it kept");
		return -1;
	}
	got = name_lock(s, name, 0, err);
	if (got < 0)
		return -1;
	if (!got) {
		bs_err_set(err, BS_ERR_REFUSED, "drill database '%s' is in use by a running drill", name);
		return -1;
	}
	pthread_mutex_lock(&s->mu);
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->owned = 1;
	s->dropped = 0;
	pthread_mutex_unlock(&s->mu);
	return set_target(s, err);
}

int bs_drill_scratch_mark_kept(struct bs_drill_scratch *s, const char *drill_id, struct bs_err *err)
{
	const char *params[1];
	PGconn *c = NULL;
	PGresult *r;
	char sql[320];
	int rc = 0;

	if (!s->owned || !bs_drill_scratch_name_valid(s->name, NULL) || !s->server)
		return 0;
	/* a connection of its own: also called from a signal watcher thread */
	if (bs_pg_connect(s->server, NULL, &c, err) < 0)
		return -1;
	params[0] = s->name;
	r = bs_pg_query(c, "SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1", 1, params, err);
	if (!r) {
		rc = -1;
	} else if (PQntuples(r) > 0) {
		snprintf(sql, sizeof(sql),
			 "COMMENT ON DATABASE \"%s\" IS '" KEPT_MARK " by drill %s (--keep): drop it when done'",
			 s->name, drill_id && bs_catalog_valid_id(drill_id) ? drill_id : "(interrupted)");
		rc = bs_pg_exec(c, sql, err) < 0 ? -1 : 1;
	}
	PQclear(r);
	PQfinish(c);
	return rc;
}

static int drop_on(PGconn *c, const char *name, struct bs_err *err)
{
	char sql[160];

	/* never anything but the generated shape: checked here, right before the DROP */
	if (!bs_drill_scratch_name_valid(name, NULL))
		return bs_err_set(err, BS_ERR_INTERNAL, "refusing to drop '%s': not a drill database name", name);
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", name);
	return bs_pg_exec(c, sql, err);
}

/* One pass over the drill databases; *busy counts the ones left alone only
 * because sessions were still connected to a young database. */
static int cleanup_pass(struct bs_drill_scratch *s, int64_t grace_ms, int *ndropped, int *busy, struct bs_err *err)
{
	const char *params[1] = { LOCK_CLASS_STR };
	PGresult *r;
	time_t now = time(NULL);
	int i;

	*busy = 0;
	r = bs_pg_query(s->lock_conn,
			"SELECT d.datname,"
			" (SELECT count(*) FROM pg_catalog.pg_stat_activity a"
			"   WHERE a.datname = d.datname AND a.pid <> pg_backend_pid()),"
			" EXISTS (SELECT 1 FROM pg_catalog.pg_locks l WHERE l.locktype = 'advisory'"
			"   AND l.classid = $1::oid AND l.objsubid = 2 AND l.granted"
			"   AND l.objid = (hashtext(d.datname)::bigint & 4294967295)::oid),"
			" COALESCE(pg_catalog.shobj_description(d.oid, 'pg_database'), '') LIKE '" KEPT_MARK "%'"
			" FROM pg_catalog.pg_database d WHERE d.datname LIKE 'backstop\\_drill\\_%' ORDER BY 1",
			1, params, err);
	if (!r)
		return bs_err_prefix(err, "listing drill databases on %s", s->where);
	for (i = 0; i < PQntuples(r); i++) {
		const char *name = PQgetvalue(r, i, 0);
		long sessions = atol(PQgetvalue(r, i, 1));
		int locked = strcmp(PQgetvalue(r, i, 2), "t") == 0, got;
		int kept = strcmp(PQgetvalue(r, i, 3), "t") == 0;
		time_t created;
		int64_t age_ms;
		struct bs_err e;

		if (strcmp(name, s->name) == 0 || strcmp(name, s->maint_db) == 0)
			continue;
		if (!bs_drill_scratch_name_valid(name, &created)) {
			bs_debug("leaving '%s' alone: not a generated drill database name", name);
			continue;
		}
		if (locked) {
			bs_debug("leaving '%s' alone: a running drill holds it", name);
			continue;
		}
		if (kept) {
			bs_debug("leaving '%s' alone: kept with --keep", name);
			continue;
		}
		age_ms = ((int64_t)now - (int64_t)created) * 1000;
		if (sessions > 0 && age_ms < grace_ms) {
			bs_debug("leaving '%s' alone for now: %ld sessions, younger than the grace period", name,
				 sessions);
			(*busy)++;
			continue;
		}
		bs_err_init(&e);
		got = name_lock(s, name, 0, &e);
		if (got <= 0) {
			if (got < 0)
				bs_warn("unable to lock stale drill database '%s': %s", name, e.msg);
			continue;
		}
		if (drop_on(s->lock_conn, name, &e) < 0)
			bs_warn("unable to drop stale drill database '%s': %s", name, e.msg);
		else {
			bs_info("dropped stale drill database '%s' (left by a drill that did not finish)", name);
			(*ndropped)++;
		}
		bs_err_init(&e);
		if (name_lock(s, name, 1, &e) < 0)
			bs_warn("unable to unlock '%s': %s", name, e.msg);
	}
	PQclear(r);
	return 0;
}

int bs_drill_scratch_cleanup(struct bs_drill_scratch *s, int64_t grace_ms, int *ndropped, struct bs_err *err)
{
	int busy = 0, pass;

	*ndropped = 0;
	/* The sessions of a drill killed a moment ago end within milliseconds
	 * (their client is gone); look once more before leaving its database to
	 * the grace period. */
	for (pass = 0; pass < 2; pass++) {
		if (pass)
			usleep(1000 * 1000);
		if (cleanup_pass(s, grace_ms, ndropped, &busy, err) < 0)
			return -1;
		if (!busy)
			break;
	}
	return 0;
}

int bs_drill_scratch_drop(struct bs_drill_scratch *s, struct bs_err *err)
{
	PGconn *c = NULL;
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	if (s->dropped || s->keep || !s->owned || !s->name[0] || !s->server)
		goto out;
	/* a connection of its own: the caller may be a signal watcher while the
	 * main thread is busy on the others */
	if (bs_pg_connect(s->server, NULL, &c, err) < 0) {
		rc = bs_err_prefix(err, "unable to drop scratch database '%s'", s->name);
		goto out;
	}
	if (drop_on(c, s->name, err) < 0) {
		rc = bs_err_prefix(err, "unable to drop scratch database '%s'", s->name);
		goto out;
	}
	s->dropped = 1;
	rc = 1;
out:
	if (c)
		PQfinish(c);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void bs_drill_guard_init(struct bs_drill_guard *g)
{
	pthread_mutex_init(&g->mu, NULL);
	g->active = NULL;
	bs_restore_guard_init(&g->creating);
}

void bs_drill_guard_set(struct bs_drill_guard *g, struct bs_drill_scratch *s)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->mu);
	g->active = s;
	pthread_mutex_unlock(&g->mu);
}

int bs_drill_guard_abort(struct bs_drill_guard *g, char name[64], int *kept, struct bs_err *err)
{
	struct bs_drill_scratch *s;

	name[0] = '\0';
	*kept = 0;
	pthread_mutex_lock(&g->mu); /* never unlocked: the process is ending */
	s = g->active;
	if (!s)
		return 0;
	/* a CREATE DATABASE the signal interrupted still ends on the server:
	 * wait for it, so the database it makes is dropped below */
	bs_restore_guard_settle(&g->creating, BS_RESTORE_SETTLE_MS);
	pthread_mutex_lock(&s->mu);
	snprintf(name, 64, "%s", s->name);
	*kept = s->keep && s->owned && s->name[0];
	pthread_mutex_unlock(&s->mu);
	if (*kept)
		return bs_drill_scratch_mark_kept(s, NULL, err) < 0 ? -1 : 0;
	return bs_drill_scratch_drop(s, err);
}
