/* conn.c - see conn.h */
#include "pg/conn.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

static void first_line(char *dst, size_t n, const char *src)
{
	const char *nl;
	size_t len;

	if (!src)
		src = "";
	while (*src == ' ')
		src++;
	nl = strchr(src, '\n');
	len = nl ? (size_t)(nl - src) : strlen(src);
	if (len >= n)
		len = n - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

int bs_pg_connect(const char *conninfo, const char *dbname, PGconn **out, struct bs_err *err)
{
	const char *keys[] = { "dbname", "dbname", "fallback_application_name", NULL };
	const char *vals[] = { conninfo ? conninfo : "", dbname, "backstop", NULL };
	char msg[512];
	PGconn *c;

	*out = NULL;
	if (!dbname) {
		keys[1] = "fallback_application_name";
		vals[1] = "backstop";
		keys[2] = NULL;
	}
	/* expand_dbname=1: the first dbname may be a full conninfo/URI; a later
	 * plain dbname overrides the one inside it. */
	c = PQconnectdbParams(keys, vals, 1);
	if (!c)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory connecting to PostgreSQL");
	if (PQstatus(c) != CONNECTION_OK) {
		const char *em = PQerrorMessage(c);
		first_line(msg, sizeof(msg), em);
		/* libpq prefixes "connection to server ... failed: " — keep it, it names the host */
		bs_err_set(err, BS_ERR_PG_CONNECT, "unable to connect to database '%s': %s",
			   PQdb(c) ? PQdb(c) : "?", msg);
		if (strstr(em, "password authentication failed") || strstr(em, "no password supplied"))
			bs_err_hint(err, "check the user and password (PGPASSWORD, ~/.pgpass or PGPASSFILE)");
		else if (strstr(em, "No such file") || strstr(em, "Connection refused") ||
			 strstr(em, "could not connect"))
			bs_err_hint(err, "is the server running and accepting connections at that address?");
		else if (strstr(em, "does not exist"))
			bs_err_hint(err, "check the database name in the connection string");
		PQfinish(c);
		return -1;
	}
	/* No JIT in any session of ours (PostgreSQL 11+): our catalog queries
	 * (the schema inventory of snap and of drills) are large enough on
	 * databases of thousands of tables to pass jit_optimize_above_cost,
	 * and compiling took 6.1 of the inventory's 6.7 s of server CPU on
	 * 5,000 small tables (bench/RESULTS.md, issue 12); nothing we run
	 * gains from it.  Children (pg_dump, pg_restore): bs_pg_child_pgoptions. */
	if (PQserverVersion(c) >= 110000 && bs_pg_exec(c, "SET jit = off", err) < 0) {
		bs_err_prefix(err, "setting up the session");
		PQfinish(c);
		return -1;
	}
	*out = c;
	return 0;
}

char *bs_pg_child_pgoptions(int server_version_num, const char *ours)
{
	const char *old = getenv("PGOPTIONS");
	const char *jit = server_version_num >= 110000 ? "-c jit=off" : "";
	size_t n = (old ? strlen(old) : 0) + (ours ? strlen(ours) : 0) + strlen(jit) + 16;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "PGOPTIONS=%s%s%s%s%s", old ? old : "", old && *old ? " " : "", ours ? ours : "",
			 ours && *ours ? " " : "", jit);
	return s;
}

int bs_pg_session_setup(PGconn *c, struct bs_err *err)
{
	const char *enc = PQparameterStatus(c, "server_encoding");
	char sql[512];

	/* SQL_ASCII databases hold bytes in any encoding: read them raw. */
	snprintf(sql, sizeof(sql),
		 "SET client_encoding = '%s'; SET DateStyle = 'ISO, MDY'; SET TimeZone = 'UTC';"
		 " SET IntervalStyle = 'postgres'; SET extra_float_digits = 3;"
		 " SET bytea_output = 'hex'; SET statement_timeout = 0;"
		 " SET idle_in_transaction_session_timeout = 0; SET search_path = pg_catalog",
		 enc ? enc : "UTF8");
	return bs_pg_exec(c, sql, err);
}

int bs_pg_error(struct bs_err *err, int code, PGconn *c, const PGresult *res, const char *what)
{
	char msg[768];
	const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	const char *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (primary)
		snprintf(msg, sizeof(msg), "%s", primary);
	else
		first_line(msg, sizeof(msg), c ? PQerrorMessage(c) : "unknown error");
	if (msg[0] == '\0' && c && PQstatus(c) != CONNECTION_OK)
		snprintf(msg, sizeof(msg), "connection to server lost");
	bs_err_set(err, code, "%s: %s", what, msg);
	if (state && err)
		snprintf(err->sqlstate, sizeof(err->sqlstate), "%s", state);
	if (detail)
		bs_err_detail(err, "%s", detail);
	if (hint)
		bs_err_hint(err, "%s", hint);
	return -1;
}

int bs_pg_exec(PGconn *c, const char *sql, struct bs_err *err)
{
	PGresult *r = PQexec(c, sql);
	int st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		char what[160];
		snprintf(what, sizeof(what), "query failed (%.100s%s)", sql, strlen(sql) > 100 ? "..." : "");
		bs_pg_error(err, BS_ERR_PG, c, r, what);
		PQclear(r);
		return -1;
	}
	PQclear(r);
	return 0;
}

PGresult *bs_pg_query(PGconn *c, const char *sql, int nparams, const char *const *params,
		      struct bs_err *err)
{
	PGresult *r = nparams ? PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, 0)
			      : PQexec(c, sql);
	int st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;

	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		char what[160];
		snprintf(what, sizeof(what), "query failed (%.100s%s)", sql, strlen(sql) > 100 ? "..." : "");
		bs_pg_error(err, BS_ERR_PG, c, r, what);
		PQclear(r);
		return NULL;
	}
	return r;
}

char *bs_pg_quote_ident(const char *name)
{
	size_t n = strlen(name), i, j = 0;
	char *out = malloc(2 * n + 3);

	if (!out)
		return NULL;
	out[j++] = '"';
	for (i = 0; i < n; i++) {
		if (name[i] == '"')
			out[j++] = '"';
		out[j++] = name[i];
	}
	out[j++] = '"';
	out[j] = '\0';
	return out;
}

char *bs_pg_qualify(const char *schema, const char *name)
{
	char *s = bs_pg_quote_ident(schema), *n = bs_pg_quote_ident(name), *out = NULL;

	if (s && n && (out = malloc(strlen(s) + strlen(n) + 2)))
		sprintf(out, "%s.%s", s, n);
	free(s);
	free(n);
	return out;
}

/* Append key='value' with libpq quoting rules. */
static int append_kv(char **buf, size_t *len, size_t *cap, const char *k, const char *v)
{
	size_t need = strlen(k) + 2 * strlen(v) + 8;
	const char *p;

	if (*len + need >= *cap) {
		size_t ncap = (*cap + need) * 2;
		char *nb = realloc(*buf, ncap);
		if (!nb)
			return -1;
		*buf = nb;
		*cap = ncap;
	}
	*len += (size_t)sprintf(*buf + *len, "%s%s='", *len ? " " : "", k);
	for (p = v; *p; p++) {
		if (*p == '\'' || *p == '\\')
			(*buf)[(*len)++] = '\\';
		(*buf)[(*len)++] = *p;
	}
	(*buf)[(*len)++] = '\'';
	(*buf)[*len] = '\0';
	return 0;
}

/* Rebuild a conninfo with the keywords in keys[] (n of them) replaced by
 * vals[] (a NULL value leaves the keyword alone; one the conninfo lacks is
 * added); the password is moved to *password_out, or kept in the string
 * when password_out is NULL. */
static int rebuild(const char *conninfo, const char *const *keys, const char *const *vals, size_t n,
		   char **conninfo_out, char **password_out, struct bs_err *err)
{
	char *perr = NULL, *buf = NULL;
	size_t len = 0, cap = 0, i;
	PQconninfoOption *opts, *o;
	unsigned seen = 0;

	*conninfo_out = NULL;
	if (password_out)
		*password_out = NULL;
	opts = PQconninfoParse(conninfo ? conninfo : "", &perr);
	if (!opts) {
		bs_err_set(err, BS_ERR_CONFIG, "invalid connection string: %s",
			   perr ? perr : "out of memory");
		PQfreemem(perr);
		return -1;
	}
	buf = calloc(1, 1);
	cap = 1;
	for (o = opts; buf && o->keyword; o++) {
		const char *v = o->val;
		for (i = 0; i < n; i++)
			if (strcmp(o->keyword, keys[i]) == 0) {
				seen |= 1u << i;
				if (vals[i])
					v = vals[i];
			}
		if (!v)
			continue;
		if (password_out && strcmp(o->keyword, "password") == 0) {
			*password_out = strdup(v);
			continue;
		}
		if (append_kv(&buf, &len, &cap, o->keyword, v) < 0) {
			free(buf);
			buf = NULL;
		}
	}
	for (i = 0; buf && i < n; i++)
		if (!(seen & (1u << i)) && vals[i] && append_kv(&buf, &len, &cap, keys[i], vals[i]) < 0) {
			free(buf);
			buf = NULL;
		}
	PQconninfoFree(opts);
	if (!buf) {
		if (password_out) {
			free(*password_out);
			*password_out = NULL;
		}
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	*conninfo_out = buf;
	return 0;
}

int bs_pg_conninfo_for_child(const char *conninfo, const char *dbname, char **conninfo_out,
			     char **password_out, struct bs_err *err)
{
	static const char *const keys[] = { "dbname" };
	const char *vals[] = { dbname };

	return rebuild(conninfo, keys, vals, 1, conninfo_out, password_out, err);
}

char *bs_pg_conninfo_with_dbname(const char *conninfo, const char *dbname, struct bs_err *err)
{
	static const char *const keys[] = { "dbname" };
	const char *vals[] = { dbname };
	char *out = NULL;

	if (rebuild(conninfo, keys, vals, 1, &out, NULL, err) < 0)
		return NULL;
	return out;
}

int bs_pg_conninfo_is_string(const char *s)
{
	return s && (strchr(s, '=') || strncmp(s, "postgresql://", 13) == 0 ||
		     strncmp(s, "postgres://", 11) == 0);
}

char *bs_pg_conninfo_build(const char *base, const char *dbname, const char *host, const char *port,
			   const char *user, struct bs_err *err)
{
	static const char *const keys[] = { "dbname", "host", "port", "user" };
	const char *vals[] = { NULL, host, port, user };
	char *out = NULL;

	if (dbname && bs_pg_conninfo_is_string(dbname))
		base = dbname;
	else if (dbname)
		vals[0] = dbname;
	if (rebuild(base, keys, vals, 4, &out, NULL, err) < 0)
		return NULL;
	return out;
}

char *bs_pg_conninfo_dbname(const char *conninfo)
{
	PQconninfoOption *opts, *o;
	char *perr = NULL, *db = NULL, *user = NULL;

	opts = PQconninfoParse(conninfo ? conninfo : "", &perr);
	if (!opts) {
		PQfreemem(perr);
		return NULL;
	}
	for (o = opts; o->keyword; o++) {
		if (strcmp(o->keyword, "dbname") == 0 && o->val)
			db = strdup(o->val);
		if (strcmp(o->keyword, "user") == 0 && o->val)
			user = o->val;
	}
	if (!db && getenv("PGDATABASE"))
		db = strdup(getenv("PGDATABASE"));
	if (!db && user)
		db = strdup(user);
	if (!db && getenv("PGUSER"))
		db = strdup(getenv("PGUSER"));
	PQconninfoFree(opts);
	return db;
}

int bs_pg_find_tool(const char *bindir, const char *tool, int server_version_num, char *out,
		    struct bs_err *err)
{
	int major = server_version_num / 10000, m;
	const char *path;

	if (bindir && *bindir) {
		snprintf(out, PATH_MAX, "%s/%s", bindir, tool);
		if (access(out, X_OK) == 0)
			return 0;
		bs_err_set(err, BS_ERR_SUBPROCESS, "%s not found in '%s'", tool, bindir);
		bs_err_hint(err, "install the PostgreSQL client tools or fix snap.pg_bindir in the configuration");
		return -1;
	}
	/* pg_dump must be at least as new as the server */
	for (m = major > 0 ? major : 15; m <= 30; m++) {
		snprintf(out, PATH_MAX, "/usr/lib/postgresql/%d/bin/%s", m, tool);
		if (access(out, X_OK) == 0)
			return 0;
	}
	path = getenv("PATH");
	while (path && *path) {
		const char *colon = strchr(path, ':');
		size_t n = colon ? (size_t)(colon - path) : strlen(path);
		if (n > 0 && n < PATH_MAX - 64) {
			snprintf(out, PATH_MAX, "%.*s/%s", (int)n, path, tool);
			if (access(out, X_OK) == 0)
				return 0;
		}
		path = colon ? colon + 1 : NULL;
	}
	bs_err_set(err, BS_ERR_SUBPROCESS, "%s not found", tool);
	bs_err_hint(err, "install postgresql-client-%d (Debian) or set snap.pg_bindir in the configuration",
		    major > 0 ? major : 15);
	return -1;
}
