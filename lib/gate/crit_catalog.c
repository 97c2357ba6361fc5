/*
 * crit_catalog.c - criteria read from the repository's catalog: 'backup'
 * (the newest snapshot of a database is young enough, and encrypted) and
 * 'drill' (a full restore drill passed recently, with its RTO in limit).
 *
 *   - kind: backup
 *     database: shop          default: the repository's only database
 *     max_age: 26h            default 26h
 *     encrypted: true         default true
 *     repository: offsite     a name of 'repositories:' or a location; default: the configured one
 *   - kind: drill
 *     database: shop
 *     max_age: 8d             default 8d
 *     max_rto: 30m            default: not checked
 *
 * An empty repository is missing evidence (FAIL); one that cannot be
 * read is UNKNOWN.
 */
#include "gate/gate_int.h"

#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "common/duration.h"
#include "common/human.h"
#include "drill/drill.h"
#include "repo/repo.h"

static void backup_init(struct bs_gate_criterion *c)
{
	c->max_age_ms = 26LL * 3600 * 1000;
	c->encrypted = 1;
}

static void drill_init(struct bs_gate_criterion *c)
{
	c->max_age_ms = 8LL * 86400 * 1000;
}

/* The catalog of the criterion's database, and the database's name
 * (*db); or an UNKNOWN/FAIL outcome and -1. */
static int load(struct bs_gate_eval *ev, const struct bs_gate_criterion *c, struct bs_gate_outcome *o,
		const char *expected, struct bs_repo **repo, int *own, struct bs_catalog *cat, const char **db)
{
	struct bs_err e;
	char names[200];
	int n;

	bs_err_init(&e);
	if (!(*repo = bs_gate_eval_repo(ev, c->repository, own, &e))) {
		bs_gate_set(o, BS_STATE_UNKNOWN, expected, "%s", e.msg);
		return -1;
	}
	if (bs_catalog_load_flags(*repo, c->database, BS_CATALOG_QUIET, cat, &e) < 0) {
		bs_gate_set(o, BS_STATE_UNKNOWN, expected, "cannot read the catalog of %s: %s", bs_repo_location(*repo),
			    e.msg);
		return -1;
	}
	if (cat->nbad)
		bs_gate_detail(o, "%zu catalog record%s not trusted, ignored", cat->nbad, cat->nbad == 1 ? "" : "s");
	if (c->database) {
		*db = c->database;
	} else if ((n = bs_catalog_databases(cat, names, sizeof(names))) > 1) {
		bs_gate_set(o, BS_STATE_UNKNOWN, expected,
			    "repository %s holds snapshots of %d databases (%s): set 'database:' on the criterion",
			    bs_repo_location(*repo), n, names);
		return -1;
	} else {
		*db = n == 1 ? cat->recs[0].database : NULL;
	}
	if (!*db || !bs_catalog_newest(cat, *db)) {
		bs_gate_set(o, BS_STATE_FAIL, expected, "no snapshot%s%s%s in repository %s", *db ? " of database '" : "",
			    *db ? *db : "", *db ? "'" : "", bs_repo_location(*repo));
		return -1;
	}
	return 0;
}

static void backup_eval(struct bs_gate_eval *ev, const struct bs_gate *g, const struct bs_gate_criterion *c,
			struct bs_gate_outcome *o)
{
	struct bs_catalog cat;
	struct bs_repo *repo = NULL;
	const struct bs_snap_record *s;
	const char *db = NULL;
	char expected[128], lim[BS_DURATION_FMT_MAX], age_s[32];
	int own = 0;
	int64_t age;

	(void)g;
	bs_duration_format(c->max_age_ms / 1000, lim, sizeof(lim));
	snprintf(expected, sizeof(expected), "a snapshot younger than %s%s", lim, c->encrypted ? ", encrypted" : "");
	bs_catalog_init(&cat);
	if (load(ev, c, o, expected, &repo, &own, &cat, &db) < 0)
		goto out;
	s = bs_catalog_newest(&cat, db);
	age = (int64_t)ev->env->now - (int64_t)s->start;
	if (age < 0)
		age = 0;
	bs_human_ms(age * 1000, age_s, sizeof(age_s));
	if (age * 1000 > c->max_age_ms)
		bs_gate_set(o, BS_STATE_FAIL, expected, "newest snapshot of '%s' is %s old (limit %s): %s", db, age_s, lim,
			    s->id);
	else if (c->encrypted && !s->encrypted)
		bs_gate_set(o, BS_STATE_FAIL, expected, "newest snapshot of '%s' (%s) is not encrypted", db, s->id);
	else
		bs_gate_set(o, BS_STATE_OK, expected, "newest snapshot of '%s' is %s old%s: %s", db, age_s,
			    s->encrypted ? ", encrypted" : "", s->id);
out:
	bs_catalog_release(&cat);
	if (own)
		bs_repo_close(repo);
}

static void drill_eval(struct bs_gate_eval *ev, const struct bs_gate *g, const struct bs_gate_criterion *c,
		       struct bs_gate_outcome *o)
{
	struct bs_catalog cat;
	struct bs_drill_list dl;
	struct bs_repo *repo = NULL;
	const struct bs_drill_summary *d;
	const char *db = NULL;
	char expected[160], lim[BS_DURATION_FMT_MAX], rlim[BS_DURATION_FMT_MAX] = "", age_s[32], rto_s[32];
	struct bs_err e;
	int own = 0;
	int64_t age;

	(void)g;
	bs_duration_format(c->max_age_ms / 1000, lim, sizeof(lim));
	if (c->max_rto_ms > 0)
		bs_duration_format(c->max_rto_ms / 1000, rlim, sizeof(rlim));
	snprintf(expected, sizeof(expected), "a passing restore drill within %s%s%s", lim, rlim[0] ? ", RTO at most " : "",
		 rlim);
	bs_catalog_init(&cat);
	bs_drill_list_init(&dl);
	bs_err_init(&e);
	if (load(ev, c, o, expected, &repo, &own, &cat, &db) < 0)
		goto out;
	if (bs_drill_list_load(repo, NULL, &dl, &e) < 0) {
		bs_gate_set(o, BS_STATE_UNKNOWN, expected, "cannot read the drill records: %s", e.msg);
		goto out;
	}
	if (!(d = bs_drill_newest_pass(&dl, db, &cat, 1))) {
		bs_gate_set(o, BS_STATE_FAIL, expected, "no passing restore drill of database '%s' in %s", db,
			    bs_repo_location(repo));
		goto out;
	}
	age = (int64_t)ev->env->now - (int64_t)d->start;
	if (age < 0)
		age = 0;
	bs_human_ms(age * 1000, age_s, sizeof(age_s));
	bs_human_ms(d->rto_ms, rto_s, sizeof(rto_s));
	if (age * 1000 > c->max_age_ms)
		bs_gate_set(o, BS_STATE_FAIL, expected, "newest passing drill of '%s' is %s old (limit %s): %s", db, age_s,
			    lim, d->id);
	else if (c->max_rto_ms > 0 && (d->rto_ms < 0 || d->rto_ms > c->max_rto_ms))
		bs_gate_set(o, BS_STATE_FAIL, expected, "newest passing drill of '%s' took RTO %s (limit %s): %s", db,
			    rto_s, rlim, d->id);
	else
		bs_gate_set(o, BS_STATE_OK, expected, "drill %s of '%s' passed %s ago, RTO %s", d->id, db, age_s, rto_s);
	for (size_t i = dl.n; i-- > 0 && &dl.d[i] != d;) { /* newer drills of this database */
		if (dl.d[i].database && strcmp(dl.d[i].database, db) == 0 && strcmp(dl.d[i].verdict, "pass") != 0) {
			bs_gate_detail(o, "a later drill %s did not pass (%s)", dl.d[i].id, dl.d[i].verdict);
			break;
		}
	}
out:
	bs_drill_list_release(&dl);
	bs_catalog_release(&cat);
	if (own)
		bs_repo_close(repo);
}

#define C struct bs_gate_criterion
static const struct bs_bind_field backup_fields[] = {
	BS_CRIT_COMMON_FIELDS,
	BS_BIND_F_STRING("database", C, database, 0),
	BS_BIND_F_STRING("repository", C, repository, 0),
	{ .key = "max_age", .type = BS_BIND_DURATION, .offset = offsetof(C, max_age_ms), .scale = 1000, .min = 1,
	  .max = 366LL * 86400 },
	BS_BIND_F_BOOL("encrypted", C, encrypted),
	BS_BIND_F_END,
};

static const struct bs_bind_field drill_fields[] = {
	BS_CRIT_COMMON_FIELDS,
	BS_BIND_F_STRING("database", C, database, 0),
	BS_BIND_F_STRING("repository", C, repository, 0),
	{ .key = "max_age", .type = BS_BIND_DURATION, .offset = offsetof(C, max_age_ms), .scale = 1000, .min = 1,
	  .max = 366LL * 86400 },
	{ .key = "max_rto", .type = BS_BIND_DURATION, .offset = offsetof(C, max_rto_ms), .scale = 1000, .min = 1,
	  .max = 30LL * 86400 },
	BS_BIND_F_END,
};
#undef C

const struct bs_gate_kind_ops bs_crit_backup = {
	.name = "backup",
	.fields = backup_fields,
	.init = backup_init,
	.eval = backup_eval,
};

const struct bs_gate_kind_ops bs_crit_drill = {
	.name = "drill",
	.fields = drill_fields,
	.init = drill_init,
	.eval = drill_eval,
};
