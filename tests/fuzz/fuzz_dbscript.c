/*
 * fuzz_dbscript.c - the database-level script restore takes from
 * schema.dump (lib/restore/dbscript.c): bs_dbscript_list over pg_restore
 * --list output, bs_dbscript_parse (statements split at ';' outside
 * quotes, dollar quotes and comments; \connect dropped) and
 * bs_dbscript_rename (every "DATABASE <archived name>" pointed at the
 * target).  The text is pg_restore's rendering of an archive: whoever can
 * write to the repository chooses it.
 *
 * Input: the archived database name, a newline, the script.
 *
 * Properties: a failure sets a message; statements never hold an
 * unclosed quote or comment (tests/fuzz/sqlcheck.h) when the script had
 * none; renaming keeps them so.
 */
#include "fuzz.h"
#include "restore/dbscript.h"
#include "sqlcheck.h"

#define TARGET "restored \"db\""

static void check(const char *stmt, const char *what)
{
	const char *open = stmt ? sql_unclosed(stmt) : NULL;

	if (open) {
		fprintf(stderr, "%s leaves %s open:\n%s\n", what, open, stmt);
		FUZZ_ASSERT(!"statements of a well-quoted script are well quoted");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strndup(data, size), *script, *list, *r;
	struct bs_dbscript s;
	struct bs_err err;
	const char *from = text;
	size_t i;
	int rc, script_ok;

	fuzz_quiet();
	list = bs_dbscript_list(text, strlen(text));
	free(list);
	script = strchr(text, '\n');
	if (!script)
		goto done;
	*script++ = '\0';
	script_ok = sql_unclosed(script) == NULL;

	bs_err_init(&err);
	bs_dbscript_init(&s);
	rc = bs_dbscript_parse(&s, script, from, TARGET, &err);
	fuzz_check_err(rc, &err);
	if (rc == 0 && script_ok) {
		check(s.create, "CREATE DATABASE statement");
		for (i = 0; i < s.n; i++) {
			check(s.stmts[i], "statement");
			r = bs_dbscript_rename(s.stmts[i], TARGET, from);
			FUZZ_ASSERT(r);
			check(r, "renamed statement");
			free(r);
		}
	}
	bs_dbscript_release(&s);
done:
	free(text);
	return 0;
}
