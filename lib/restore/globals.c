/* globals.c - the roles and tablespaces a snapshot needs (globals.json,
 * archive/globals.h), on the target server, before anything refers to
 * them: missing roles are created with their attributes, settings, comment
 * and the memberships that involve them; an existing role is never
 * altered.  When the restoring user cannot create a role the restore needs
 * (or cannot give objects their owners), the restore stops before it
 * changes anything and says which flags do without. */
#include "restore/restore_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/globals.h"
#include "common/log.h"
#include "pg/conn.h"

struct gx {
	struct bs_globals g;
	char *exists;              /* per role: exists on the target (or was created) */
	char *created;             /* per role: created by this restore */
	int superuser, createrole;
	char user[256];
};

static void gx_release(struct gx *x)
{
	bs_globals_release(&x->g);
	free(x->exists);
	free(x->created);
}

static const char *sqlstate(const PGresult *r)
{
	const char *s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	return s ? s : "";
}

/* A session on the target server: the target database unless it is to be
 * created, else the maintenance database. */
static int connect_server(const struct rs_ctx *cx, const char *target, int create, PGconn **c,
			  struct bs_err *err)
{
	struct bs_err e2;

	/* --globals-only -d may name a database that does not exist yet */
	if (!create && bs_pg_connect(target, NULL, c, err) == 0)
		return 0;
	bs_err_init(&e2);
	if (bs_pg_connect(target, "postgres", c, create ? err : &e2) == 0) {
		bs_err_clear(err);
		return 0;
	}
	bs_err_init(&e2);
	if (bs_pg_connect(target, "template1", c, &e2) == 0) {
		bs_err_clear(err);
		return 0;
	}
	(void)cx;
	return -1;
}

static int one_bool(PGconn *c, const char *sql, const char *arg, int *out, struct bs_err *err)
{
	const char *params[1] = { arg };
	PGresult *r = bs_pg_query(c, sql, arg ? 1 : 0, arg ? params : NULL, err);

	if (!r)
		return -1;
	*out = PQntuples(r) > 0 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	return 0;
}

static int load(struct gx *x, PGconn *c, const char *json, size_t len, struct bs_err *err)
{
	PGresult *r;
	size_t i;

	if (bs_globals_parse(&x->g, json, len, err) < 0)
		return -1;
	if (!(x->exists = calloc(x->g.nroles + 1, 1)) || !(x->created = calloc(x->g.nroles + 1, 1)))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	r = bs_pg_query(c, "SELECT current_user, rolsuper, rolcreaterole FROM pg_catalog.pg_roles"
			   " WHERE rolname = current_user", 0, NULL, err);
	if (!r)
		return -1;
	if (PQntuples(r) == 1) {
		snprintf(x->user, sizeof(x->user), "%s", PQgetvalue(r, 0, 0));
		x->superuser = *PQgetvalue(r, 0, 1) == 't';
		x->createrole = *PQgetvalue(r, 0, 2) == 't';
	}
	PQclear(r);
	for (i = 0; i < x->g.nroles; i++) {
		int e = 0;
		if (one_bool(c, "SELECT true FROM pg_catalog.pg_roles WHERE rolname = $1", x->g.roles[i].name, &e,
			     err) < 0)
			return -1;
		x->exists[i] = (char)e;
	}
	return 0;
}

/* Does the restore need this role, given the flags? */
static int needed(const struct rs_ctx *cx, const struct bs_grole *r)
{
	/* per-role settings in the database go with the owners: --no-owner
	 * restores them only where the roles exist and the user may */
	return (r->uses & BS_GUSE_OTHER) || ((r->uses & BS_GUSE_OWNER) && !cx->o->no_owner) ||
	       ((r->uses & BS_GUSE_ACL) && !cx->o->no_privileges) ||
	       ((r->uses & BS_GUSE_SETTING) && cx->o->create && !cx->o->no_owner);
}

static int role_exists(const struct gx *x, const char *name)
{
	size_t i;

	if (strncmp(name, "pg_", 3) == 0)
		return 1; /* predefined */
	for (i = 0; i < x->g.nroles; i++)
		if (strcmp(x->g.roles[i].name, name) == 0)
			return x->exists[i];
	return 0;
}

static int role_created(const struct gx *x, const char *name)
{
	size_t i;

	for (i = 0; i < x->g.nroles; i++)
		if (strcmp(x->g.roles[i].name, name) == 0)
			return x->created[i];
	return 0;
}

static void flags_hint(const struct rs_ctx *cx, struct bs_err *err, const char *why)
{
	const char *no = !cx->o->no_owner && !cx->o->no_privileges ? "--no-owner --no-privileges"
			 : !cx->o->no_owner ? "--no-owner" : "--no-privileges";

	bs_err_hint(err, "%s: pass %s to restore without the snapshot's %s, create the roles first "
			 "('backstop restore ID --globals-only' prints them), or restore as a superuser",
		    why, no, !cx->o->no_owner && !cx->o->no_privileges ? "owners and grants"
			     : !cx->o->no_owner ? "owners" : "grants");
}

/* Create the missing roles; for a restore (strict = 0) a role it may do
 * without is skipped when it cannot be created. */
static int create_roles(const struct rs_ctx *cx, struct gx *x, PGconn *c, int strict, struct bs_err *err)
{
	size_t i;

	for (i = 0; i < x->g.nroles; i++) {
		const struct bs_grole *r = &x->g.roles[i];
		int need = strict || needed(cx, r);
		char *sql;
		PGresult *res;

		if (x->exists[i])
			continue;
		if (!x->superuser && !x->createrole) {
			if (!need)
				continue;
			bs_err_set(err, BS_ERR_REFUSED, "role \"%s\" does not exist on the target server, and \"%s\" "
							"may not create roles", r->name, x->user);
			flags_hint(cx, err, "the snapshot's objects refer to it");
			return -1;
		}
		if (!(sql = bs_globals_role_sql(r)))
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		res = PQexec(c, sql);
		free(sql);
		if (res && PQresultStatus(res) == PGRES_COMMAND_OK) {
			PQclear(res);
			x->exists[i] = x->created[i] = 1;
			bs_info("created role \"%s\"", r->name);
			continue;
		}
		if (strcmp(sqlstate(res), "42501") == 0 && !need) {
			bs_warn("role \"%s\" was not created (%s): the restore does without it", r->name,
				PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
			PQclear(res);
			continue;
		}
		{
			char what[400];
			snprintf(what, sizeof(what), "unable to create role \"%s\"", r->name);
			bs_pg_error(err, BS_ERR_PG, c, res, what);
		}
		if (strcmp(sqlstate(res), "42501") == 0)
			flags_hint(cx, err, "the snapshot's objects refer to it");
		PQclear(res);
		return -1;
	}
	return 0;
}

/* GRANT the memberships of roles created now (an existing role's
 * memberships are left as they are). */
static int grant_memberships(struct gx *x, PGconn *c, struct bs_err *err)
{
	size_t i;

	for (i = 0; i < x->g.nmembers; i++) {
		const struct bs_gmember *m = &x->g.members[i];
		int with_grantor = x->superuser && m->grantor && role_exists(x, m->grantor);
		char *sql;
		PGresult *res;

		if (!(role_created(x, m->role) || role_created(x, m->member)) || !role_exists(x, m->role) ||
		    !role_exists(x, m->member))
			continue;
		if (!(sql = bs_globals_member_sql(m, with_grantor)))
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		res = PQexec(c, sql);
		free(sql);
		if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
			bs_warn("unable to grant role \"%s\" to \"%s\": %s", m->role, m->member,
				res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : "no result");
		PQclear(res);
	}
	return 0;
}

/* Without --no-owner, a non-superuser can give an object to a role only
 * as a member of it. */
static int check_owners(const struct rs_ctx *cx, struct gx *x, PGconn *c, struct bs_err *err)
{
	size_t i;

	if (x->superuser || cx->o->no_owner)
		return 0;
	for (i = 0; i < x->g.nroles; i++) {
		const struct bs_grole *r = &x->g.roles[i];
		int member = 0;
		if (!(r->uses & BS_GUSE_OWNER) || !x->exists[i])
			continue;
		if (one_bool(c, "SELECT pg_catalog.pg_has_role(current_user, $1, 'MEMBER')", r->name, &member,
			     err) < 0)
			return -1;
		if (member)
			continue;
		bs_err_set(err, BS_ERR_REFUSED, "restoring as \"%s\", who is neither a superuser nor a member of "
						"role \"%s\", which owns objects of the snapshot", x->user, r->name);
		bs_err_hint(err, "pass --no-owner --no-privileges to restore the objects owned by \"%s\", or "
				 "restore as a superuser", x->user);
		return -1;
	}
	return 0;
}

static int check_tablespaces(const struct gx *x, PGconn *c, struct bs_err *err)
{
	size_t i;

	for (i = 0; i < x->g.ntablespaces; i++) {
		const struct bs_gtablespace *t = &x->g.tablespaces[i];
		int e = 0;
		if (one_bool(c, "SELECT true FROM pg_catalog.pg_tablespace WHERE spcname = $1", t->name, &e, err) < 0)
			return -1;
		if (e)
			continue;
		bs_err_set(err, BS_ERR_REFUSED, "tablespace \"%s\" does not exist on the target server", t->name);
		bs_err_hint(err, "create it first (its location was '%s'; 'backstop restore ID --globals-only' "
				 "prints the statement)", t->location);
		return -1;
	}
	return 0;
}

int rs_globals_apply(struct rs_ctx *cx, struct bs_err *err)
{
	struct gx x;
	PGconn *c = NULL;
	int rc = -1;

	if (!cx->globals || cx->o->data_only)
		return 0;
	memset(&x, 0, sizeof(x));
	if (connect_server(cx, cx->o->target, cx->o->create, &c, err) < 0)
		return -1;
	if (rs_session_role(cx, c, err) < 0 || load(&x, c, cx->globals, cx->globals_len, err) < 0 ||
	    check_tablespaces(&x, c, err) < 0 || create_roles(cx, &x, c, 0, err) < 0 ||
	    grant_memberships(&x, c, err) < 0 || check_owners(cx, &x, c, err) < 0)
		goto out;
	cx->superuser = x.superuser;
	rc = 0;
out:
	gx_release(&x);
	PQfinish(c);
	return rc;
}

/* ---- restore --globals-only ---- */

int bs_restore_globals_apply(const struct bs_restore_opts *o, const char *json, size_t len, int *created,
			     struct bs_err *err)
{
	struct rs_ctx cx;
	struct gx x;
	PGconn *c = NULL;
	size_t i;
	int rc = -1;

	memset(&cx, 0, sizeof(cx));
	memset(&x, 0, sizeof(x));
	cx.o = o;
	*created = 0;
	if (connect_server(&cx, o->target, 0, &c, err) < 0)
		return -1;
	if (rs_session_role(&cx, c, err) < 0 || load(&x, c, json, len, err) < 0 ||
	    create_roles(&cx, &x, c, 1, err) < 0 || grant_memberships(&x, c, err) < 0)
		goto out;
	for (i = 0; i < x.g.nroles; i++)
		*created += x.created[i];
	rc = 0;
out:
	gx_release(&x);
	PQfinish(c);
	return rc;
}
