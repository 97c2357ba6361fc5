/* globals.c - the globals.json member: the roles and tablespaces the
 * database needs (archive/globals.h), read on the coordinator within the
 * snapshot.  Role passwords only when the configuration asks for them
 * (snap.role_passwords) and the snapping user may read pg_authid. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/globals.h"
#include "common/log.h"
#include "pg/conn.h"
#include "snap/snap_int.h"

/* The roles the database references, why, and the roles linked to them by
 * memberships (both ways, transitively).  Dependencies on the bootstrap
 * superuser (oid 10) are not recorded in pg_shdepend: it is always listed. */
static const char roles_sql[] =
	"WITH RECURSIVE db AS (SELECT oid, datdba FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()),"
	" ts AS (SELECT t.oid, t.spcowner, t.spcacl FROM pg_catalog.pg_tablespace t"
	"        WHERE t.spcname NOT IN ('pg_default', 'pg_global')"
	"          AND (t.oid = (SELECT dattablespace FROM pg_catalog.pg_database"
	"                         WHERE datname = pg_catalog.current_database())"
	"               OR t.oid IN (SELECT reltablespace FROM pg_catalog.pg_class WHERE reltablespace <> 0))),"
	" refs(roleid, use) AS ("
	"  SELECT d.refobjid, CASE WHEN d.classid = 'pg_catalog.pg_user_mapping'::pg_catalog.regclass THEN 'other'"
	"                          WHEN d.deptype = 'o' THEN 'owner' WHEN d.deptype IN ('a', 'i') THEN 'acl'"
	"                          ELSE 'other' END"
	"    FROM pg_catalog.pg_shdepend d, db"
	"   WHERE d.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass"
	"     AND (d.dbid = db.oid OR (d.dbid = 0 AND d.classid = 'pg_catalog.pg_database'::pg_catalog.regclass"
	"                               AND d.objid = db.oid))"
	"  UNION ALL SELECT datdba, 'owner' FROM db"
	"  UNION ALL SELECT 10::oid, 'owner'"
	"  UNION ALL SELECT s.setrole, 'setting' FROM pg_catalog.pg_db_role_setting s, db"
	"             WHERE s.setdatabase = db.oid AND s.setrole <> 0"
	"  UNION ALL SELECT spcowner, 'owner' FROM ts"
	"  UNION ALL SELECT a.grantee, 'acl' FROM ts, pg_catalog.aclexplode(ts.spcacl) a WHERE a.grantee <> 0),"
	" base AS (SELECT DISTINCT roleid FROM refs),"
	" up(roleid) AS (SELECT roleid FROM base UNION"
	"   SELECT m.roleid FROM pg_catalog.pg_auth_members m JOIN up ON m.member = up.roleid),"
	" down(roleid) AS (SELECT roleid FROM base UNION"
	"   SELECT m.member FROM pg_catalog.pg_auth_members m JOIN down ON m.roleid = down.roleid),"
	" allr AS (SELECT roleid FROM up UNION SELECT roleid FROM down)"
	" SELECT r.oid, r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin,"
	"        r.rolreplication, r.rolbypassrls, r.rolconnlimit, r.rolvaliduntil,"
	"        pg_catalog.shobj_description(r.oid, 'pg_authid'),"
	"        (SELECT pg_catalog.string_agg(DISTINCT use, ',') FROM refs WHERE refs.roleid = r.oid),"
	"        r.rolname ~ '^pg_'"
	"   FROM pg_catalog.pg_roles r JOIN allr ON allr.roleid = r.oid ORDER BY r.rolname";

static const char config_sql[] =
	"SELECT pg_catalog.unnest(setconfig) FROM pg_catalog.pg_db_role_setting"
	" WHERE setdatabase = 0 AND setrole = $1::pg_catalog.oid";

static const char password_sql[] =
	"SELECT rolpassword FROM pg_catalog.pg_authid WHERE oid = $1::pg_catalog.oid AND rolpassword IS NOT NULL";

static const char members_sql[] =
	"SELECT r.rolname, m.rolname, a.admin_option, g.rolname"
	"  FROM pg_catalog.pg_auth_members a"
	"  JOIN pg_catalog.pg_roles r ON r.oid = a.roleid JOIN pg_catalog.pg_roles m ON m.oid = a.member"
	"  LEFT JOIN pg_catalog.pg_roles g ON g.oid = a.grantor"
	" WHERE a.roleid = ANY ($1::pg_catalog.oid[]) AND a.member = ANY ($1::pg_catalog.oid[])"
	" ORDER BY 1, 2";

static const char ts_sql[] =
	"SELECT t.spcname, pg_catalog.pg_get_userbyid(t.spcowner), pg_catalog.pg_tablespace_location(t.oid),"
	"       pg_catalog.shobj_description(t.oid, 'pg_tablespace'),"
	"       pg_catalog.array_to_string(t.spcoptions, chr(1)),"
	"       (SELECT pg_catalog.string_agg(CASE WHEN a.grantee = 0 THEN '' ELSE"
	"                pg_catalog.pg_get_userbyid(a.grantee) END || chr(2) || a.is_grantable::text, chr(1))"
	"          FROM pg_catalog.aclexplode(t.spcacl) a"
	"         WHERE a.grantee <> t.spcowner AND a.privilege_type = 'CREATE')"
	"  FROM pg_catalog.pg_tablespace t"
	" WHERE t.spcname NOT IN ('pg_default', 'pg_global')"
	"   AND (t.oid = (SELECT dattablespace FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())"
	"        OR t.oid IN (SELECT reltablespace FROM pg_catalog.pg_class WHERE reltablespace <> 0))"
	" ORDER BY 1";

static int nomem(struct bs_err *err)
{
	return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
}

static unsigned parse_uses(const char *s)
{
	unsigned u = 0;

	if (!s || !*s)
		return BS_GUSE_MEMBER;
	if (strstr(s, "owner"))
		u |= BS_GUSE_OWNER;
	if (strstr(s, "acl"))
		u |= BS_GUSE_ACL;
	if (strstr(s, "setting"))
		u |= BS_GUSE_SETTING;
	if (strstr(s, "other"))
		u |= BS_GUSE_OTHER;
	return u;
}

static int role_extras(PGconn *c, struct bs_grole *r, const char *oid, int passwords, struct bs_err *err)
{
	const char *params[1] = { oid };
	PGresult *res;
	int i;

	if (!(res = bs_pg_query(c, config_sql, 1, params, err)))
		return -1;
	for (i = 0; i < PQntuples(res); i++)
		if (bs_grole_add_config(r, PQgetvalue(res, i, 0)) < 0) {
			PQclear(res);
			return nomem(err);
		}
	PQclear(res);
	if (!passwords)
		return 0;
	if (!(res = bs_pg_query(c, password_sql, 1, params, err)))
		return -1;
	if (PQntuples(res) == 1 && !(r->password = strdup(PQgetvalue(res, 0, 0)))) {
		PQclear(res);
		return nomem(err);
	}
	if (PQntuples(res) == 1)
		explicit_bzero(PQgetvalue(res, 0, 0), strlen(PQgetvalue(res, 0, 0)));
	PQclear(res);
	return 0;
}

/* Roles; *oids receives "{oid,...}" of every listed role (pg_* included). */
static int collect_roles(PGconn *c, struct bs_globals *g, int passwords, char **oids, struct bs_err *err)
{
	PGresult *res = bs_pg_query(c, roles_sql, 0, NULL, err);
	size_t len = 2;
	int i;

	if (!res)
		return -1;
	for (i = 0; i < PQntuples(res); i++)
		len += strlen(PQgetvalue(res, i, 0)) + 1;
	if (!(*oids = malloc(len + 1))) {
		PQclear(res);
		return nomem(err);
	}
	strcpy(*oids, "{");
	for (i = 0; i < PQntuples(res); i++) {
		struct bs_grole *r;
		strcat(*oids, i ? "," : "");
		strcat(*oids, PQgetvalue(res, i, 0));
		if (strcmp(PQgetvalue(res, i, 13), "t") == 0)
			continue; /* predefined roles exist everywhere */
		if (!(r = bs_globals_add_role(g, PQgetvalue(res, i, 1)))) {
			PQclear(res);
			return nomem(err);
		}
		r->superuser = *PQgetvalue(res, i, 2) == 't';
		r->inherit = *PQgetvalue(res, i, 3) == 't';
		r->createrole = *PQgetvalue(res, i, 4) == 't';
		r->createdb = *PQgetvalue(res, i, 5) == 't';
		r->login = *PQgetvalue(res, i, 6) == 't';
		r->replication = *PQgetvalue(res, i, 7) == 't';
		r->bypassrls = *PQgetvalue(res, i, 8) == 't';
		r->connlimit = atoi(PQgetvalue(res, i, 9));
		r->uses = parse_uses(PQgetisnull(res, i, 12) ? NULL : PQgetvalue(res, i, 12));
		if ((!PQgetisnull(res, i, 10) && !(r->valid_until = strdup(PQgetvalue(res, i, 10)))) ||
		    (!PQgetisnull(res, i, 11) && !(r->comment = strdup(PQgetvalue(res, i, 11))))) {
			PQclear(res);
			return nomem(err);
		}
		if (role_extras(c, r, PQgetvalue(res, i, 0), passwords, err) < 0) {
			PQclear(res);
			return -1;
		}
	}
	strcat(*oids, "}");
	PQclear(res);
	return 0;
}

static int collect_members(PGconn *c, struct bs_globals *g, const char *oids, struct bs_err *err)
{
	const char *params[1] = { oids };
	PGresult *res = bs_pg_query(c, members_sql, 1, params, err);
	int i;

	if (!res)
		return -1;
	for (i = 0; i < PQntuples(res); i++) {
		const char *grantor = PQgetisnull(res, i, 3) ? NULL : PQgetvalue(res, i, 3);
		/* a grantor that is not captured cannot be named on another cluster */
		if (grantor && !bs_globals_role(g, grantor))
			grantor = NULL;
		if (bs_globals_add_member(g, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), grantor,
					  *PQgetvalue(res, i, 2) == 't') < 0) {
			PQclear(res);
			return nomem(err);
		}
	}
	PQclear(res);
	return 0;
}

static int collect_tablespaces(PGconn *c, struct bs_globals *g, struct bs_err *err)
{
	PGresult *res = bs_pg_query(c, ts_sql, 0, NULL, err);
	int i, rc = -1;

	if (!res)
		return -1;
	for (i = 0; i < PQntuples(res); i++) {
		struct bs_gtablespace *t = bs_globals_add_tablespace(g, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
								     PQgetvalue(res, i, 2));
		char *list, *p, *save = NULL;
		if (!t)
			goto nomem;
		if (!PQgetisnull(res, i, 3) && !(t->comment = strdup(PQgetvalue(res, i, 3))))
			goto nomem;
		if (!(list = strdup(PQgetvalue(res, i, 4))))
			goto nomem;
		for (p = strtok_r(list, "\001", &save); p; p = strtok_r(NULL, "\001", &save))
			if (bs_gtablespace_add_option(t, p) < 0) {
				free(list);
				goto nomem;
			}
		free(list);
		if (!(list = strdup(PQgetvalue(res, i, 5))))
			goto nomem;
		for (p = strtok_r(list, "\001", &save); p; p = strtok_r(NULL, "\001", &save)) {
			char *sep = strchr(p, '\002');
			if (!sep)
				continue;
			*sep = '\0';
			if (bs_gtablespace_add_grant(t, p, strcmp(sep + 1, "true") == 0) < 0) {
				free(list);
				goto nomem;
			}
		}
		free(list);
	}
	rc = 0;
	goto out;
nomem:
	nomem(err);
out:
	PQclear(res);
	return rc;
}

/* May the session read role passwords? */
static int can_read_passwords(PGconn *c, struct bs_err *err)
{
	PGresult *res = bs_pg_query(c, "SELECT pg_catalog.has_table_privilege('pg_catalog.pg_authid', 'SELECT')", 0,
				    NULL, err);
	int ok;

	if (!res)
		return -1;
	ok = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return ok;
}

int snap_globals_collect(struct snap_ctx *ctx, struct bs_err *err)
{
	struct bs_globals g;
	char *oids = NULL, *json = NULL;
	size_t len = 0;
	unsigned char md[32];
	unsigned int mdlen = 0;
	int passwords = 0, rc = -1;

	bs_globals_init(&g);
	if (ctx->o->role_passwords) {
		if ((passwords = can_read_passwords(ctx->coord, err)) < 0)
			goto out;
		if (!passwords)
			bs_warn("snap.role_passwords is set but the snapping user may not read pg_authid: "
				"role passwords are not captured");
	}
	g.passwords = passwords;
	if (collect_roles(ctx->coord, &g, passwords, &oids, err) < 0 ||
	    collect_members(ctx->coord, &g, oids, err) < 0 || collect_tablespaces(ctx->coord, &g, err) < 0) {
		bs_err_prefix(err, "reading the roles and tablespaces of the database");
		goto out;
	}
	if (bs_globals_json(&g, &json, &len, err) < 0)
		goto out;
	if (!EVP_Digest(json, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32) {
		bs_err_set(err, BS_ERR_CRYPTO, "unable to compute a SHA-256 digest");
		goto out;
	}
	bs_manifest_set_globals(&ctx->m, (uint64_t)len, md);
	bs_debug("snap: %zu roles, %zu memberships, %zu tablespaces%s", g.nroles, g.nmembers, g.ntablespaces,
		 passwords ? " (with passwords)" : "");
	ctx->globals_json = json;
	ctx->globals_len = len;
	json = NULL;
	rc = 0;
out:
	if (json) {
		explicit_bzero(json, len);
		free(json);
	}
	free(oids);
	bs_globals_release(&g);
	return rc;
}

int snap_globals_write(struct snap_ctx *ctx, struct bs_err *err)
{
	int rc;

	if (!ctx->globals_json)
		return 0;
	rc = snap_writer_member(&ctx->w, BS_MEMBER_GLOBALS, ctx->globals_json, ctx->globals_len, NULL, err);
	explicit_bzero(ctx->globals_json, ctx->globals_len);
	free(ctx->globals_json);
	ctx->globals_json = NULL;
	return rc;
}
