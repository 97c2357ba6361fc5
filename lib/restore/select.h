/*
 * select.h - which parts of a snapshot a restore applies (internal to
 * lib/restore, pure: no I/O, unit tested).
 *
 * Table filters ("--table"): "name" or "schema.name".  As with pg_dump -t,
 * an unquoted part is folded to lower case and a double-quoted part is
 * taken as written ("My Schema"."Tab.le", "a""b").  "name" matches that
 * name in any schema.  No wildcards.
 *
 * The schema TOC: the text `pg_restore --list --verbose schema.dump`
 * prints, one entry per line ("3246; 2606 16420 CONSTRAINT app orders
 * orders_pkey postgres") followed by its dependencies (";\tdepends on: 218").
 * bs_toc_select keeps, for a set of table filters:
 *   - the tables, views, materialized views, foreign tables and sequences
 *     the filters name;
 *   - the partitions and inheritance children of a kept table, the
 *     sequences owned by it (serial and identity columns) and the
 *     sequences its column defaults use;
 *   - everything attached to kept objects: indexes, constraints (without
 *     clean, a foreign key only when the table it references is kept too;
 *     with clean that table is in the target), triggers, rules,
 *     policies, defaults, comments,
 *     ACLs, security labels, statistics, partition attachments;
 *   - unless `clean`, the objects the kept ones need (schemas, types,
 *     domains, functions, collations, extensions...) with their comments
 *     and ACLs, so a filtered restore into an empty database works.  With
 *     clean these are expected to exist already (like pg_restore -t, which
 *     restores none of them), so --clean never drops a shared schema.
 * The ENCODING, STDSTRINGS and SEARCHPATH entries are always kept.
 */
#ifndef BS_RESTORE_SELECT_H
#define BS_RESTORE_SELECT_H

#include <stddef.h>

#include "common/err.h"

struct bs_rfilter {
	char *schema;   /* NULL: any schema */
	char *name;
	int matched;    /* set by the match functions */
};

/* Parse one filter.  An empty name, an empty or unterminated quoted part or
 * more than two parts is a BS_ERR_USAGE error quoting spec. */
int bs_rfilter_parse(const char *spec, struct bs_rfilter *f, struct bs_err *err);
void bs_rfilter_release(struct bs_rfilter *f);

/* 1 if (schema, name) matches any of the n filters (and marks those that
 * match), else 0. */
int bs_rfilter_match(struct bs_rfilter *f, size_t n, const char *schema, const char *name);

enum bs_toc_kind {
	BS_TOC_OTHER = 0,   /* standalone object: schema, type, function, ... */
	BS_TOC_ALWAYS,      /* ENCODING, STDSTRINGS, SEARCHPATH */
	BS_TOC_TABLE,
	BS_TOC_RELATION,    /* view, materialized view, foreign table */
	BS_TOC_SEQUENCE,
	BS_TOC_DEFAULT,
	BS_TOC_ATTACHED,    /* index, constraint, trigger, comment, ACL, ... */
};

struct bs_toc_entry {
	int id;             /* dump id */
	char *line;         /* the entry line as printed, without newline */
	const char *desc;   /* points into a static table ("TABLE", "FK CONSTRAINT", ...) or "?" */
	const char *rest;   /* points into line: "<schema> <tag> <owner>" */
	enum bs_toc_kind kind;
	int *deps;          /* dump ids */
	size_t ndeps;
	int keep;
};

struct bs_toc {
	struct bs_toc_entry *e;
	size_t n, cap;
};

void bs_toc_init(struct bs_toc *t);
void bs_toc_release(struct bs_toc *t);
/* Parse `pg_restore -l -v` output.  Comment lines other than dependency
 * lists are ignored. */
int bs_toc_parse(struct bs_toc *t, const char *text, size_t len, struct bs_err *err);

/* 1 if the entry's "<schema> <tag> <owner>" names schema.name. */
int bs_toc_entry_is(const struct bs_toc_entry *e, const char *schema, const char *name);

/* Mark the entries to keep (see above); marks the filters that match a
 * table, view, materialized view, foreign table or sequence. */
void bs_toc_select(struct bs_toc *t, struct bs_rfilter *f, size_t nf, int clean);

/* The kept entries' lines, newline-terminated, for pg_restore --use-list.
 * Returns a malloc'd string or NULL on allocation failure. */
char *bs_toc_list(const struct bs_toc *t, size_t *len);

#endif
