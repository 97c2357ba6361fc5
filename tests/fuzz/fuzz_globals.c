/*
 * fuzz_globals.c - globals.json, the roles and tablespaces an archive
 * carries (bs_globals_parse), and the SQL restore makes of them
 * (bs_globals_role_sql, _member_sql, _tablespace_sql, _setting_sql,
 * bs_globals_print: restore --globals-only).
 *
 * Properties: a failure sets a message; an accepted document writes
 * (bs_globals_json) to a text that parses again and writes the same; every
 * SQL text generated from it has all its quotes and comments closed
 * (tests/fuzz/sqlcheck.h): a name in an archive never ends a literal or an
 * identifier early.
 *
 * Tablespace options ("name=value" from pg_tablespace.spcoptions) are
 * written with the name quoted as an identifier and the value as a
 * literal, so they are in the quoting check like everything else.
 */
#include "archive/globals.h"
#include "fuzz.h"
#include "sqlcheck.h"

static void check_sql(char *sql, const char *what)
{
	const char *open;

	FUZZ_ASSERT(sql);
	open = sql_unclosed(sql);
	if (open) {
		fprintf(stderr, "%s SQL leaves %s open:\n%s\n", what, open, sql);
		FUZZ_ASSERT(!"generated SQL is well quoted");
	}
	free(sql);
}

#define PLAIN_OPTIONS_ONLY 0 /* every option is quoted now */

static int plain_options(const struct bs_gtablespace *t)
{
	size_t i;

	for (i = 0; i < t->noptions; i++)
		if (strspn(t->options[i], "abcdefghijklmnopqrstuvwxyz_0123456789.=") != strlen(t->options[i]))
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct bs_globals g, g2;
	struct bs_err err;
	char *a = NULL, *b = NULL;
	size_t alen, blen, i, k;
	int rc;

	fuzz_quiet();
	if (!devnull)
		devnull = fopen("/dev/null", "w");
	FUZZ_ASSERT(devnull);
	bs_err_init(&err);
	bs_globals_init(&g);
	bs_globals_init(&g2);
	rc = bs_globals_parse(&g, (const char *)data, size, &err);
	fuzz_check_err(rc, &err);
	if (rc < 0)
		goto out;

	FUZZ_ASSERT(bs_globals_json(&g, &a, &alen, &err) == 0);
	if (bs_globals_parse(&g2, a, alen, &err) < 0) {
		fprintf(stderr, "written globals refused: %s\n%.*s\n", err.msg, (int)alen, a);
		FUZZ_ASSERT(0);
	}
	FUZZ_ASSERT(bs_globals_json(&g2, &b, &blen, &err) == 0);
	FUZZ_ASSERT(alen == blen && memcmp(a, b, alen) == 0);

	for (i = 0; i < g.nroles; i++) {
		check_sql(bs_globals_role_sql(&g.roles[i]), "role");
		for (k = 0; k < g.roles[i].nconfig; k++)
			check_sql(bs_globals_setting_sql(g.roles[i].name, g.roles[i].config[k]), "setting");
	}
	for (i = 0; i < g.nmembers; i++) {
		check_sql(bs_globals_member_sql(&g.members[i], 0), "membership");
		check_sql(bs_globals_member_sql(&g.members[i], 1), "membership");
	}
	for (i = 0; i < g.ntablespaces; i++) {
		char *sql = bs_globals_tablespace_sql(&g.tablespaces[i]);
		if (PLAIN_OPTIONS_ONLY && !plain_options(&g.tablespaces[i]))
			free(sql);
		else
			check_sql(sql, "tablespace");
	}
	bs_globals_print(&g, devnull);
out:
	free(a);
	free(b);
	bs_globals_release(&g);
	bs_globals_release(&g2);
	return 0;
}
