/* globals_test.c - roles and tablespaces of a snapshot (lib/archive/globals.c) */
#include "harness.h"

#include <stdlib.h>

#include "archive/globals.h"

static void build(struct bs_globals *g)
{
	struct bs_grole *r;
	struct bs_gtablespace *t;

	bs_globals_init(g);
	r = bs_globals_add_role(g, "app");
	r->login = r->createdb = 1;
	r->connlimit = 7;
	r->uses = BS_GUSE_OWNER | BS_GUSE_SETTING;
	r->password = strdup("SCRAM-SHA-256$4096:x");
	r = bs_globals_add_role(g, "Rep'ort\"ing");
	r->inherit = 0;
	r->uses = BS_GUSE_ACL;
	r->comment = strdup("it's read-only");
	r->valid_until = strdup("2099-01-01 00:00:00+00");
	bs_grole_add_config(r, "search_path=app, \"My Schema\", \"a\"\"b\"");
	bs_grole_add_config(r, "work_mem=8MB");
	bs_globals_add_member(g, "Rep'ort\"ing", "app", NULL, 1);
	t = bs_globals_add_tablespace(g, "fast", "app", "/srv/fast's");
	bs_gtablespace_add_option(t, "random_page_cost=1.1");
	bs_gtablespace_add_grant(t, "", 0);
	bs_gtablespace_add_grant(t, "app", 1);
	g->passwords = 1;
}

TEST(sql)
{
	struct bs_globals g;
	char *s;

	build(&g);
	s = bs_globals_role_sql(&g.roles[0]);
	CHECK_STR(s, "CREATE ROLE \"app\" WITH NOSUPERUSER INHERIT NOCREATEROLE CREATEDB LOGIN NOREPLICATION "
		     "NOBYPASSRLS CONNECTION LIMIT 7 PASSWORD 'SCRAM-SHA-256$4096:x';\n");
	free(s);
	s = bs_globals_role_sql(&g.roles[1]);
	CHECK_STR(s, "CREATE ROLE \"Rep'ort\"\"ing\" WITH NOSUPERUSER NOINHERIT NOCREATEROLE NOCREATEDB NOLOGIN "
		     "NOREPLICATION NOBYPASSRLS VALID UNTIL '2099-01-01 00:00:00+00';\n"
		     "ALTER ROLE \"Rep'ort\"\"ing\" SET \"search_path\" TO 'app', 'My Schema', 'a\"b';\n"
		     "ALTER ROLE \"Rep'ort\"\"ing\" SET \"work_mem\" TO '8MB';\n"
		     "COMMENT ON ROLE \"Rep'ort\"\"ing\" IS 'it''s read-only';\n");
	free(s);
	s = bs_globals_member_sql(&g.members[0], 1);
	CHECK_STR(s, "GRANT \"Rep'ort\"\"ing\" TO \"app\" WITH ADMIN OPTION;\n");
	free(s);
	s = bs_globals_tablespace_sql(&g.tablespaces[0]);
	CHECK_STR(s, "CREATE TABLESPACE \"fast\" OWNER \"app\" LOCATION '/srv/fast''s';\n"
		     "ALTER TABLESPACE \"fast\" SET (\"random_page_cost\" = '1.1');\n"
		     "GRANT CREATE ON TABLESPACE \"fast\" TO PUBLIC;\n"
		     "GRANT CREATE ON TABLESPACE \"fast\" TO \"app\" WITH GRANT OPTION;\n");
	free(s);
	s = bs_globals_setting_sql("r", "search_path=");
	CHECK_STR(s, "ALTER ROLE \"r\" SET \"search_path\" TO '';");
	free(s);
	bs_globals_release(&g);
}

TEST(json_roundtrip)
{
	struct bs_globals g, r;
	struct bs_err err;
	char *j = NULL;
	size_t len = 0;

	bs_err_init(&err);
	build(&g);
	CHECK_INT(bs_globals_json(&g, &j, &len, &err), 0);
	bs_globals_init(&r);
	CHECK_INT(bs_globals_parse(&r, j, len, &err), 0);
	CHECK_INT(r.nroles, 2);
	CHECK_INT(r.nmembers, 1);
	CHECK_INT(r.ntablespaces, 1);
	CHECK_INT(r.passwords, 1);
	if (r.nroles == 2) {
		CHECK_STR(r.roles[0].password, "SCRAM-SHA-256$4096:x");
		CHECK_INT(r.roles[0].uses, BS_GUSE_OWNER | BS_GUSE_SETTING);
		CHECK_INT(r.roles[0].connlimit, 7);
		CHECK_INT(r.roles[1].inherit, 0);
		CHECK_INT(r.roles[1].nconfig, 2);
		CHECK(r.roles[1].password == NULL);
		CHECK(bs_globals_role(&r, "Rep'ort\"ing") == &r.roles[1]);
	}
	if (r.ntablespaces == 1) {
		CHECK_INT(r.tablespaces[0].ngrantees, 2);
		CHECK_STR(r.tablespaces[0].grantees[0], "");
		CHECK_INT(r.tablespaces[0].grantable[1], 1);
	}
	bs_globals_release(&r);
	CHECK_INT(bs_globals_parse(&r, "{\"format\":\"backstop-globals\",\"version\":9}", 41, &err), -1);
	CHECK(strstr(err.msg, "unsupported") != NULL);
	CHECK_INT(bs_globals_parse(&r, "{\"format\":\"x\"}", 14, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	free(j);
	bs_globals_release(&g);
}

int main(void)
{
	RUN(sql);
	RUN(json_roundtrip);
	return DONE();
}
