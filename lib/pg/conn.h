/*
 * conn.h - libpq sessions as backstop uses them.
 *
 * Conninfo strings are passed to libpq untouched, so URIs, key=value
 * strings, PG* environment variables, .pgpass and service files all work.
 * Every session that reads or writes COPY text runs bs_pg_session_setup so
 * digests are computed over the same text on both sides (docs/format.md).
 */
#ifndef BS_PG_CONN_H
#define BS_PG_CONN_H

#include <libpq-fe.h>

#include "common/err.h"

/* Connect; conninfo NULL or "" means libpq defaults.  If dbname is not NULL
 * it replaces the conninfo's database.  On failure *out is NULL and err is
 * BS_ERR_PG_CONNECT naming host and database, with a hint for the common
 * causes (server down, authentication).  The session runs without JIT. */
int bs_pg_connect(const char *conninfo, const char *dbname, PGconn **out, struct bs_err *err);

/* Deterministic COPY text: DateStyle, TimeZone, IntervalStyle,
 * extra_float_digits, bytea_output; client_encoding = server encoding. */
int bs_pg_session_setup(PGconn *c, struct bs_err *err);

/* Run a command that returns no rows. */
int bs_pg_exec(PGconn *c, const char *sql, struct bs_err *err);

/* Run a query (optionally with text parameters); returns a result with
 * PGRES_TUPLES_OK or PGRES_COMMAND_OK owned by the caller (PQclear), or NULL
 * with err set (message, detail and hint taken from the server error). */
PGresult *bs_pg_query(PGconn *c, const char *sql, int nparams, const char *const *params,
		      struct bs_err *err);

/* Fill err from a failed result or connection: "<what>: <server message>". */
int bs_pg_error(struct bs_err *err, int code, PGconn *c, const PGresult *res, const char *what);

/* Quote an identifier: "schema"."name".  Returns malloc'd string or NULL. */
char *bs_pg_qualify(const char *schema, const char *name);
char *bs_pg_quote_ident(const char *name);

/* "PGOPTIONS=..." (malloc'd, NULL when out of memory) for a child process
 * (pg_dump, pg_restore): the caller's PGOPTIONS, then ours (may be NULL),
 * then what bs_pg_connect sets in our own sessions (no JIT). */
char *bs_pg_child_pgoptions(int server_version_num, const char *ours);

/* Split a conninfo for a child process (pg_dump, pg_restore): returns a
 * malloc'd conninfo without any password and with dbname replaced if
 * dbname != NULL, and the password (malloc'd, or NULL) to hand over in
 * PGPASSWORD, so secrets never appear in a process list. */
int bs_pg_conninfo_for_child(const char *conninfo, const char *dbname, char **conninfo_out,
			     char **password_out, struct bs_err *err);

/* A conninfo with its database replaced by dbname, every other option
 * (password included) kept, as a key='value' string (malloc'd; it may hold
 * a password: wipe before free).  NULL with err on a bad conninfo. */
char *bs_pg_conninfo_with_dbname(const char *conninfo, const char *dbname, struct bs_err *err);

/* Is s a connection string (key=value or a postgresql:// URI) rather than
 * a plain database name?  As pg_dump decides for its -d. */
int bs_pg_conninfo_is_string(const char *s);

/* pg_dump's connection options as one key='value' conninfo (malloc'd; it
 * may hold a password from base: wipe before free): dbname is a database
 * name or a whole connection string (which then replaces base); host, port
 * and user (each may be NULL) override what base or dbname say.  NULL with
 * err (BS_ERR_CONFIG) on a malformed connection string. */
char *bs_pg_conninfo_build(const char *base, const char *dbname, const char *host, const char *port,
			   const char *user, struct bs_err *err);

/* The database name a conninfo refers to (after libpq defaults), malloc'd. */
char *bs_pg_conninfo_dbname(const char *conninfo);

/* Locate a PostgreSQL client tool ("pg_dump", "pg_restore"): in bindir if
 * given, else /usr/lib/postgresql/<major>/bin for the server's major version
 * (or newer), else $PATH.  out must hold PATH_MAX bytes. */
int bs_pg_find_tool(const char *bindir, const char *tool, int server_version_num, char *out,
		    struct bs_err *err);

#endif
