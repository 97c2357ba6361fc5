/* dbscript_test.c - the database-level part of schema.dump (lib/restore/dbscript.c) */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "restore/dbscript.h"

static const char toc[] = ";\n; Selected TOC Entries:\n;\n"
			  "3396; 0 0 ENCODING - ENCODING \n"
			  "3399; 1262 16388 DATABASE - app app_owner\n"
			  "3400; 0 0 DATABASE PROPERTIES - app app_owner\n"
			  "3401; 0 0 COMMENT - DATABASE app app_owner\n"
			  ";\tdepends on: 3399\n"
			  "3402; 0 0 ACL - DATABASE app app_owner\n"
			  "6; 2615 16389 SCHEMA - app app_owner\n"
			  "3500; 0 0 COMMENT - SCHEMA app postgres\n"
			  "3501; 0 0 ACL - SCHEMA app postgres\n";

TEST(list)
{
	char *l = bs_dbscript_list(toc, strlen(toc));

	CHECK(l != NULL);
	CHECK_STR(l, "3399; 1262 16388 DATABASE - app app_owner\n"
			"3400; 0 0 DATABASE PROPERTIES - app app_owner\n"
			"3401; 0 0 COMMENT - DATABASE app app_owner\n"
			"3402; 0 0 ACL - DATABASE app app_owner\n");
	free(l);
	l = bs_dbscript_list("6; 2615 16389 SCHEMA - app x\n", 29);
	CHECK_STR(l, "");
	free(l);
	/* a last entry without its newline still gets one, inside the buffer
	 * (a two-byte heap overflow the fuzzer found; ASan checks the bounds) */
	{
		static const char last[] = "3399; 1262 16388 DATABASE - app app_owner";
		char *exact = malloc(sizeof(last) - 1);
		memcpy(exact, last, sizeof(last) - 1);
		l = bs_dbscript_list(exact, sizeof(last) - 1);
		CHECK_STR(l, "3399; 1262 16388 DATABASE - app app_owner\n");
		free(l);
		free(exact);
	}
}

static const char script[] =
	"--\n-- PostgreSQL database dump\n--\n\n"
	"\\restrict abc\n\n"
	"SET statement_timeout = 0;\n"
	"SET standard_conforming_strings = on;\n"
	"--\n-- Name: app; Type: DATABASE; Schema: -; Owner: app\n--\n\n"
	"CREATE DATABASE app WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE_PROVIDER = icu "
	"LOCALE = 'C.UTF-8' ICU_LOCALE = 'de-DE';\n\n\n"
	"ALTER DATABASE app OWNER TO app;\n\n"
	"\\unrestrict abc\n\\connect app\n\\restrict abc\n\n"
	"ALTER DATABASE app SET search_path TO 'app', 'public';\n"
	"ALTER ROLE app IN DATABASE app SET work_mem TO '8MB';\n"
	"COMMENT ON DATABASE app IS 'the app; DATABASE app stays';\n"
	"GRANT CONNECT ON DATABASE app TO reporting;\n"
	"ALTER DATABASE app SET x.y TO $$a;b$$;\n"
	"/* done */\n";

TEST(parse)
{
	struct bs_dbscript s;
	struct bs_err err;

	bs_err_init(&err);
	bs_dbscript_init(&s);
	CHECK(bs_dbscript_parse(&s, script, "app", "App Copy", &err) == 0);
	CHECK(s.create != NULL);
	if (s.create)
		CHECK_STR(s.create, "--\n-- Name: app; Type: DATABASE; Schema: -; Owner: app\n--\n\n"
				       "CREATE DATABASE \"App Copy\" WITH TEMPLATE = template0 ENCODING = 'UTF8' "
				       "LOCALE_PROVIDER = icu LOCALE = 'C.UTF-8' ICU_LOCALE = 'de-DE'");
	CHECK(s.n == 8);
	if (s.n == 8) {
		CHECK_STR(s.stmts[0], "SET statement_timeout = 0");
		CHECK_STR(s.stmts[2], "ALTER DATABASE \"App Copy\" OWNER TO app");
		CHECK_STR(s.stmts[3], "ALTER DATABASE \"App Copy\" SET search_path TO 'app', 'public'");
		CHECK_STR(s.stmts[4], "ALTER ROLE app IN DATABASE \"App Copy\" SET work_mem TO '8MB'");
		CHECK_STR(s.stmts[5], "COMMENT ON DATABASE \"App Copy\" IS 'the app; DATABASE app stays'");
		CHECK_STR(s.stmts[6], "GRANT CONNECT ON DATABASE \"App Copy\" TO reporting");
		CHECK_STR(s.stmts[7], "ALTER DATABASE \"App Copy\" SET x.y TO $$a;b$$");
	}
	bs_dbscript_release(&s);
	/* quoted names, and a name that is not the archived one */
	{
		char *r = bs_dbscript_rename("ALTER DATABASE \"My \"\"DB\"\"\" RENAME; database other", "My \"DB\"", "n");
		CHECK_STR(r, "ALTER DATABASE \"n\" RENAME; database other");
		free(r);
	}
	bs_dbscript_init(&s);
	CHECK(bs_dbscript_parse(&s, "COMMENT ON DATABASE a IS 'open", "a", "b", &err) < 0);
	CHECK(err.code == BS_ERR_FORMAT);
	bs_dbscript_release(&s);
}

int main(void)
{
	RUN(list);
	RUN(parse);
	return DONE();
}
