/*
 * globals.h - the cluster-wide objects one database needs, as a snapshot
 * carries them (member globals.json, docs/format.md): the roles it
 * references (owners, grantees and grantors, roles named in policies, user
 * mappings and per-database role settings; the bootstrap superuser; the
 * roles these are members of and the roles that are members of them) with
 * their attributes and memberships, and the tablespaces it uses.
 * pg_dumpall --globals-only writes the same for a whole cluster.
 *
 * Pure: JSON in and out (jansson) and the SQL that recreates them.  Every
 * string is owned by the struct; bs_globals_release frees them all (a
 * password is wiped first).
 */
#ifndef BS_ARCHIVE_GLOBALS_H
#define BS_ARCHIVE_GLOBALS_H

#include <stddef.h>
#include <stdio.h>

#include "common/err.h"

#include "archive/manifest.h"

#define BS_MEMBER_GLOBALS BS_MEMBER_GLOBALS_JSON

/* Why the database needs a role (bits of bs_grole.uses). */
#define BS_GUSE_OWNER   0x01 /* owns the database or objects in it (-O does without) */
#define BS_GUSE_ACL     0x02 /* in an ACL or default ACL (-x does without) */
#define BS_GUSE_SETTING 0x04 /* ALTER ROLE ... IN DATABASE ... SET */
#define BS_GUSE_OTHER   0x08 /* a policy, a user mapping: always needed */
#define BS_GUSE_MEMBER  0x10 /* only through a membership */

struct bs_grole {
	char *name;
	int superuser, inherit, createrole, createdb, login, replication, bypassrls;
	int connlimit;          /* -1: none */
	char *valid_until;      /* NULL: none */
	char *password;         /* NULL: not captured (snap.role_passwords) */
	char *comment;          /* NULL: none */
	char **config;          /* "name=value" (pg_roles.rolconfig) */
	size_t nconfig;
	unsigned uses;          /* BS_GUSE_* */
};

struct bs_gmember {
	char *role, *member;
	char *grantor;          /* NULL: unknown or not among the captured roles */
	int admin;
};

struct bs_gtablespace {
	char *name, *owner, *location;
	char *comment;          /* NULL: none */
	char **options;         /* "name=value" (spcoptions) */
	size_t noptions;
	char **grantees;        /* CREATE granted to (a role name, or "" for PUBLIC) */
	int *grantable;
	size_t ngrantees;
};

struct bs_globals {
	struct bs_grole *roles;
	size_t nroles, roles_cap;
	struct bs_gmember *members;
	size_t nmembers, members_cap;
	struct bs_gtablespace *tablespaces;
	size_t ntablespaces, tablespaces_cap;
	int passwords;          /* passwords were captured */
};

void bs_globals_init(struct bs_globals *g);
void bs_globals_release(struct bs_globals *g);

/* Builders: copy their strings; NULL/-1 when out of memory. */
struct bs_grole *bs_globals_add_role(struct bs_globals *g, const char *name);
int bs_grole_add_config(struct bs_grole *r, const char *setting);
int bs_globals_add_member(struct bs_globals *g, const char *role, const char *member, const char *grantor,
			  int admin);
struct bs_gtablespace *bs_globals_add_tablespace(struct bs_globals *g, const char *name, const char *owner,
						 const char *location);
int bs_gtablespace_add_option(struct bs_gtablespace *t, const char *option);
int bs_gtablespace_add_grant(struct bs_gtablespace *t, const char *grantee, int grantable);
const struct bs_grole *bs_globals_role(const struct bs_globals *g, const char *name);

/* globals.json (malloc'd, newline-terminated) and back. */
int bs_globals_json(const struct bs_globals *g, char **out, size_t *len, struct bs_err *err);
int bs_globals_parse(struct bs_globals *g, const char *buf, size_t len, struct bs_err *err);

/* SQL, one statement per line group, malloc'd strings:
 * CREATE ROLE with every attribute (never ALTER of an existing one), then
 * its settings and comment; GRANT role TO member; CREATE TABLESPACE. */
char *bs_globals_role_sql(const struct bs_grole *r);
char *bs_globals_member_sql(const struct bs_gmember *m, int with_grantor);
char *bs_globals_tablespace_sql(const struct bs_gtablespace *t);
/* "ALTER ROLE r SET name = value" for one "name=value" (list settings such
 * as search_path quoted element by element, as pg_dumpall does). */
char *bs_globals_setting_sql(const char *role, const char *setting);

/* The whole script, as `restore --globals-only` prints it. */
int bs_globals_print(const struct bs_globals *g, FILE *f);

#endif
