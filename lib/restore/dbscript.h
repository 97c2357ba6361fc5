/*
 * dbscript.h - the database-level part of schema.dump, as pg_restore
 * --create prints it, made to apply to a database of another name (pure:
 * no I/O, unit tested).
 *
 * pg_dump puts the database's own properties in a few TOC entries:
 * DATABASE (CREATE DATABASE with encoding, locale, provider, template0;
 * ALTER DATABASE OWNER), DATABASE PROPERTIES (ALTER DATABASE SET,
 * ALTER ROLE ... IN DATABASE ... SET, CONNECTION LIMIT, IS_TEMPLATE),
 * COMMENT / ACL / SECURITY LABEL on "DATABASE <name>".  pg_restore --create
 * applies them to the archived name only; restore prints them with
 * pg_restore --create --file, and this module splits that script into
 * statements and points each at the target name: the identifier after the
 * keyword DATABASE, where it is the archived name.  No SQL is generated
 * here: the statements are pg_dump's.
 */
#ifndef BS_RESTORE_DBSCRIPT_H
#define BS_RESTORE_DBSCRIPT_H

#include <stddef.h>

#include "common/err.h"

/* From `pg_restore --list` output: the lines of the database-level entries,
 * newline-terminated (for --use-list), malloc'd; "" when there are none
 * (a schema.dump of a filtered pg_dump).  NULL when out of memory. */
char *bs_dbscript_list(const char *toc, size_t len);

struct bs_dbscript {
	char *create;      /* the CREATE DATABASE statement (no ';'), or NULL */
	char **stmts;      /* the others, in order (no ';'): SET, ALTER, COMMENT, GRANT... */
	size_t n, cap;
};

void bs_dbscript_init(struct bs_dbscript *s);
void bs_dbscript_release(struct bs_dbscript *s);

/* Split a pg_restore script into statements (quotes, dollar quotes and
 * comments respected; psql meta-commands such as \connect dropped; comment-
 * only text dropped) and rename the database `from` to `to` in each
 * (BS_ERR_FORMAT if the script is not understood: an unterminated quote). */
int bs_dbscript_parse(struct bs_dbscript *s, const char *script, const char *from, const char *to,
		      struct bs_err *err);

/* One statement with every "DATABASE <from>" made "DATABASE <to>" (a
 * quoted identifier); malloc'd, NULL when out of memory. */
char *bs_dbscript_rename(const char *stmt, const char *from, const char *to);

#endif
