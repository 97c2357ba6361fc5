/* dbprops.c - the database-level properties pg_dump --create carries
 * (encoding, locale and provider, template0, owner, ALTER DATABASE SET,
 * ALTER ROLE ... IN DATABASE SET, connection limit, comment, grants), taken
 * from schema.dump with pg_restore --create --file and pointed at the
 * target's name (dbscript.h); and the pg_restore flags --no-owner,
 * --no-privileges and --role. */
#include "restore/restore_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "pg/conn.h"

size_t rs_restore_flags(const struct rs_ctx *cx, const char **argv, size_t n, char *rolebuf, size_t rolelen)
{
	if (cx->o->no_owner)
		argv[n++] = "--no-owner";
	if (cx->o->no_privileges)
		argv[n++] = "--no-privileges";
	if (cx->o->role && *cx->o->role) {
		snprintf(rolebuf, rolelen, "--role=%s", cx->o->role);
		argv[n++] = rolebuf;
	}
	return n;
}

int rs_session_role(const struct rs_ctx *cx, PGconn *c, struct bs_err *err)
{
	char *q, *sql;
	int rc;

	if (!cx->o->role || !*cx->o->role)
		return 0;
	if (!(q = bs_pg_quote_ident(cx->o->role)))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	if (!(sql = malloc(strlen(q) + 16))) {
		free(q);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	sprintf(sql, "SET ROLE %s", q);
	rc = bs_pg_exec(c, sql, err);
	free(q);
	free(sql);
	return rc < 0 ? bs_err_prefix(err, "unable to switch to role \"%s\" (--role)", cx->o->role) : 0;
}

/* pg_restore --list --create (without --create it lists none of them), the
 * database-level entries only, into a list file. */
static int db_list(struct rs_ctx *cx, struct rs_spool *list, int *any, struct bs_err *err)
{
	static const char *const opts[] = { "--list", "--create", NULL };
	struct rs_spool out = { -1, "", "" };
	char *text = NULL, *sel = NULL;
	size_t len = 0;
	int rc = -1;

	*any = 0;
	if (rs_spool_create(&out, "toc", err) < 0)
		return -1;
	if (rs_run_pg_restore(cx, opts, 0, out.fd, err) < 0 || rs_read_fd(out.fd, &text, &len, err) < 0)
		goto out;
	if (!(sel = bs_dbscript_list(text, len))) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	*any = *sel != '\0';
	if (*any) {
		size_t n = strlen(sel);
		if (rs_spool_create(list, "dblist", err) < 0)
			goto out;
		if (write(list->fd, sel, n) != (ssize_t)n) {
			bs_err_set(err, BS_ERR_IO, "unable to write a temporary file");
			goto out;
		}
	}
	rc = 0;
out:
	rs_spool_release(&out);
	free(text);
	free(sel);
	return rc;
}

int rs_dbprops_load(struct rs_ctx *cx, struct bs_err *err)
{
	struct rs_spool list = { -1, "", "" }, out = { -1, "", "" };
	char listarg[PATH_MAX + 16];
	const char *opts[4];
	char *script = NULL;
	size_t len = 0;
	int any = 0, rc = -1;

	if (!cx->o->create || !cx->dump.path[0] || !cx->m->database)
		return 0;
	if (db_list(cx, &list, &any, err) < 0)
		goto out;
	if (!any) {
		bs_debug("restore: %s has no database-level entries (a snapshot taken without them)",
			 BS_MEMBER_SCHEMA);
		rc = 0;
		goto out;
	}
	snprintf(listarg, sizeof(listarg), "--use-list=%s", list.path);
	opts[0] = "--create";
	opts[1] = "--file=-";
	opts[2] = listarg;
	opts[3] = NULL;
	if (rs_spool_create(&out, "dbscript", err) < 0 || rs_run_pg_restore(cx, opts, 0, out.fd, err) < 0 ||
	    rs_read_fd(out.fd, &script, &len, err) < 0)
		goto out;
	if (bs_dbscript_parse(&cx->dbs, script, cx->m->database, cx->dbname, err) < 0)
		goto out;
	cx->have_dbs = 1;
	bs_debug("restore: %zu database-level statements%s", cx->dbs.n, cx->dbs.create ? " and CREATE DATABASE" : "");
	rc = 0;
out:
	if (rc < 0)
		bs_err_prefix(err, "unable to read the database-level properties of %s", BS_MEMBER_SCHEMA);
	rs_spool_release(&list);
	rs_spool_release(&out);
	free(script);
	return rc;
}

static const char *sqlstate(const PGresult *r)
{
	const char *s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	return s ? s : "";
}

int rs_dbprops_create(struct rs_ctx *cx, PGconn *c, int *done, struct bs_err *err)
{
	PGresult *r;
	const char *st;

	*done = 0;
	if (!cx->have_dbs || !cx->dbs.create)
		return 0;
	/* as pg_restore --create --role: CREATE DATABASE under that role */
	if (rs_session_role(cx, c, err) < 0)
		return -1;
	r = PQexec(c, cx->dbs.create);
	if (r && PQresultStatus(r) == PGRES_COMMAND_OK) {
		PQclear(r);
		*done = 1;
		return 0;
	}
	st = sqlstate(r);
	/* 22023 invalid_parameter_value (a locale the server does not have),
	 * 42704 undefined_object (a tablespace), 0A000 (ICU not built in):
	 * the database can still be created, with less fidelity */
	if (strcmp(st, "22023") == 0 || strcmp(st, "42704") == 0 || strcmp(st, "0A000") == 0) {
		const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
		bs_warn("the snapshot's database properties cannot be reproduced on this server (%s): creating "
			"database \"%s\" with the server's defaults and the snapshot's encoding",
			msg ? msg : "error", cx->dbname);
		bs_warn("the statement was: %s", cx->dbs.create);
		PQclear(r);
		return 0;
	}
	bs_pg_error(err, BS_ERR_PG, c, r, "unable to create the database");
	if (strcmp(st, "42501") == 0)
		bs_err_hint(err, "the restoring user needs the CREATEDB attribute to restore with --create");
	PQclear(r);
	return -1;
}

/* Is this statement one of the script's session settings? */
static int is_session_set(const char *s)
{
	return strncmp(s, "SET ", 4) == 0 || strncmp(s, "SELECT pg_catalog.set_config(", 29) == 0;
}

int rs_dbprops_apply(struct rs_ctx *cx, struct bs_err *err)
{
	PGconn *c = NULL;
	size_t i, skipped = 0;
	int rc = -1;

	if (!cx->have_dbs || cx->dbs.n == 0 || !cx->created)
		return 0;
	/* a drill's scratch database keeps the locale (CREATE DATABASE) but
	 * not settings such as IS_TEMPLATE or a connection limit that would
	 * stand in the way of checking and dropping it */
	if (cx->o->caller_drops)
		return 0;
	if (bs_pg_connect(cx->o->target, cx->dbname, &c, err) < 0)
		goto out;
	for (i = 0; i < cx->dbs.n; i++) {
		const char *s = cx->dbs.stmts[i], *st;
		PGresult *r = PQexec(c, s);
		if (r && (PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK)) {
			PQclear(r);
			continue;
		}
		st = sqlstate(r);
		/* 42501 insufficient_privilege, 42704 undefined_object (a role
		 * that could not be created): what --no-owner gave up */
		if ((cx->o->no_owner || cx->o->no_privileges) && !is_session_set(s) &&
		    (strcmp(st, "42501") == 0 || strcmp(st, "42704") == 0)) {
			const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
			bs_warn("skipped a database-level statement (%s): %s", msg ? msg : st, s);
			skipped++;
			PQclear(r);
			continue;
		}
		bs_pg_error(err, BS_ERR_PG, c, r, "unable to set the database's properties");
		bs_err_detail(err, "statement: %.*s", 1000, s);
		if (strcmp(st, "42501") == 0 && !cx->superuser)
			bs_err_hint(err, "restoring as a non-superuser: pass --no-owner --no-privileges, or restore "
					 "as a superuser");
		PQclear(r);
		goto out;
	}
	if (skipped)
		bs_warn("%zu database-level statement%s skipped: the restoring user may not run %s", skipped,
			skipped == 1 ? " was" : "s were", skipped == 1 ? "it" : "them");
	rc = 0;
out:
	PQfinish(c);
	return rc;
}
