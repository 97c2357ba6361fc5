/*
 * probe_backup.c - the backup probe: how old the newest complete snapshot
 * of a database in a repository is, and (drill_max_age) how old its newest
 * passing drill.  Synchronous: the round runs it in a thread of its own.
 *
 * Steps of probe_backup_run:
 *
 *   1. open the repository (the command layer's callback)     UNKNOWN if not
 *   2. load the catalog (trusted records only, of the database)
 *   3. the database: the probe's, or the only one there       UNKNOWN if several
 *   4. the newest snapshot of it                              FAIL if none
 *   5. its age against max_age / warn_age                     FAIL / WARN
 *   6. the newest passing drill of any snapshot of it         FAIL if none or old
 *
 * Age is measured from a snapshot's start: its data is the database as of
 * then (pg_dump's snapshot is taken when it starts), and it is what a drill
 * measures as RPO (lib/command/drill.c) - a long dump does not make it
 * look fresher.  A drill's age is from its start too (the only time its
 * summary holds).  Times are wall clock: the catalog's are.
 *
 * The repository is only read; nothing is printed (a damaged drill record
 * is logged as a warning by bs_drill_list_load).
 */
#include "probe/probe_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "catalog/catalog.h"
#include "drill/drill.h"
#include "net/http_int.h"
#include "repo/repo.h"

#define AGE_MAX 32 /* "123d23h" */

/* One half of the verdict (the snapshot's age, the drill's). */
struct verdict {
	enum bs_state state;
	char reason[240];
	char exp[64], obs[96];
};

/* "45s", "12m", "3h12m", "27h", "9d4h": the two largest units, whole. */
static char *age_text(int64_t s, char *buf, size_t n)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(buf, n, "%" PRId64 "s", s);
	else if (s < 3600)
		snprintf(buf, n, "%" PRId64 "m", s / 60);
	else if (s < 48 * 3600 && s % 3600 / 60)
		snprintf(buf, n, "%" PRId64 "h%" PRId64 "m", s / 3600, s % 3600 / 60);
	else if (s < 48 * 3600)
		snprintf(buf, n, "%" PRId64 "h", s / 3600);
	else if (s % 86400 / 3600)
		snprintf(buf, n, "%" PRId64 "d%" PRId64 "h", s / 86400, s % 86400 / 3600);
	else
		snprintf(buf, n, "%" PRId64 "d", s / 86400);
	return buf;
}

static void verdict_set(struct verdict *v, enum bs_state st, const char *exp, const char *obs,
			const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void verdict_set(struct verdict *v, enum bs_state st, const char *exp, const char *obs,
			const char *fmt, ...)
{
	va_list ap;

	v->state = st;
	snprintf(v->exp, sizeof(v->exp), "%s", exp ? exp : "");
	snprintf(v->obs, sizeof(v->obs), "%s", obs ? obs : "");
	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
	va_end(ap);
}

/* How bad a state is, for the worse of two. */
static int severity(enum bs_state s)
{
	switch (s) {
	case BS_STATE_OK:
		return 0;
	case BS_STATE_WARN:
		return 1;
	case BS_STATE_UNKNOWN:
		return 2;
	case BS_STATE_FAIL:
		return 3;
	default:
		return 0;
	}
}

/* The database to judge: the probe's, or the only one with snapshots.
 * NULL (and the result set) when there are several. */
static const char *pick_database(struct probe_run *r, const struct bs_catalog *cat, struct bs_repo *repo)
{
	char names[200];
	int n;

	if (r->p->database)
		return r->p->database;
	n = bs_catalog_databases(cat, names, sizeof(names));
	if (n <= 1)
		return n == 1 ? cat->recs[0].database : "";
	probe_set_result(
	    r, BS_STATE_UNKNOWN, "one database", names,
	    "repository %s holds snapshots of %d databases (%s): set 'database' to the one to check",
	    bs_repo_location(repo), n, names);
	return NULL;
}

static void judge_age(const struct bs_probe *p, const struct bs_snap_record *s, time_t now, struct verdict *v,
		      struct bs_probe_result *res)
{
	int64_t age = (int64_t)now - (int64_t)s->start;
	char a[AGE_MAX], lim[AGE_MAX], exp[AGE_MAX + 16];

	if (age < 0) /* a clock ahead of ours */
		age = 0;
	res->backup_age_s = (double)age;
	age_text(age, a, sizeof(a));
	if (p->max_age_ms > 0 && age * 1000 > p->max_age_ms) {
		age_text(p->max_age_ms / 1000, lim, sizeof(lim));
		snprintf(exp, sizeof(exp), "at most %s", lim);
		verdict_set(v, BS_STATE_FAIL, exp, a, "newest snapshot %s %s ago (expected at most %s)",
			    s->id, a, lim);
	} else if (p->warn_age_ms > 0 && age * 1000 > p->warn_age_ms) {
		age_text(p->warn_age_ms / 1000, lim, sizeof(lim));
		snprintf(exp, sizeof(exp), "at most %s", lim);
		verdict_set(v, BS_STATE_WARN, exp, a, "newest snapshot %s %s ago (warn above %s)", s->id, a,
			    lim);
	} else {
		verdict_set(v, BS_STATE_OK, NULL, a, "newest snapshot %s %s ago", s->id, a);
	}
}

static void judge_drill(const struct bs_probe *p, struct bs_repo *repo, const struct bs_catalog *cat,
			const char *db, time_t now, struct verdict *v, struct bs_probe_result *res)
{
	const struct bs_drill_summary *best = NULL;
	struct bs_drill_list dl;
	struct bs_err err;
	char a[AGE_MAX], lim[AGE_MAX], exp[AGE_MAX + 16], mode[32];
	int64_t age;

	bs_err_init(&err);
	age_text(p->drill_max_age_ms / 1000, lim, sizeof(lim));
	snprintf(exp, sizeof(exp), "a passing drill within %s", lim);
	if (bs_drill_list_load(repo, NULL, &dl, &err) < 0) {
		verdict_set(v, BS_STATE_UNKNOWN, exp, NULL, "cannot read the drill records: %s", err.msg);
		return;
	}
	best = bs_drill_newest_pass(&dl, db, cat, 0); /* every mode counts; one that restored nothing says so */
	if (!best) {
		verdict_set(v, BS_STATE_FAIL, exp, "none", "no passing drill of a snapshot of database '%s'",
			    db);
		goto out;
	}
	age = (int64_t)now - (int64_t)best->start;
	if (age < 0)
		age = 0;
	res->drill_age_s = (double)age;
	age_text(age, a, sizeof(a));
	/* every mode counts; one that restored nothing says so */
	mode[0] = '\0';
	if (strcmp(best->mode, "full") != 0)
		snprintf(mode, sizeof(mode), " (%s)", best->mode);
	if (age * 1000 > p->drill_max_age_ms)
		verdict_set(v, BS_STATE_FAIL, exp, a,
			    "newest passing drill %s%s %s ago (expected at most %s)", best->id, mode, a, lim);
	else
		verdict_set(v, BS_STATE_OK, exp, a, "newest passing drill %s%s %s ago", best->id, mode, a);
out:
	bs_drill_list_release(&dl);
}

/* The result from the snapshot's verdict and the drill's (if checked):
 * the worse one's state, expected and observed, and its reason first. */
static void conclude(struct probe_run *r, const struct verdict *age, const struct verdict *drill,
		     const struct bs_catalog *cat)
{
	const struct verdict *first = age, *second = drill;
	char extra[64] = "";

	if (drill && severity(drill->state) > severity(age->state)) {
		first = drill;
		second = age;
	}
	if (cat->nbad)
		snprintf(extra, sizeof(extra), " (%zu catalog record%s not trusted, ignored)", cat->nbad,
			 cat->nbad == 1 ? "" : "s");
	probe_set_result(r, first->state, first->exp[0] ? first->exp : NULL,
			 first->obs[0] ? first->obs : NULL, "%s%s%s%s", first->reason, second ? "; " : "",
			 second ? second->reason : "", extra);
}

void probe_backup_run(struct probe_run *r, bs_probe_repo_open_fn open_repo, void *ud)
{
	const struct bs_probe *p = r->p;
	const struct bs_snap_record *newest;
	struct bs_repo *repo = NULL;
	struct bs_catalog cat;
	struct verdict age, drill;
	struct bs_err err;
	int64_t t0 = bs_http_now_ms();
	time_t now = time(NULL);
	const char *db;

	bs_catalog_init(&cat);
	bs_err_init(&err);
	r->res->backup_age_s = r->res->drill_age_s = -1;
	r->res->attempts = 1;
	if (!open_repo) {
		probe_set_result(r, BS_STATE_UNKNOWN, NULL, NULL,
				 "cannot read repository: no repository to open");
		goto out;
	}
	if (open_repo(ud, p->repository, &repo, &err) < 0) {
		repo = NULL;
		probe_set_result(r, BS_STATE_UNKNOWN, NULL, NULL, "cannot read repository: %s", err.msg);
		goto out;
	}
	if (bs_catalog_load_flags(repo, p->database, BS_CATALOG_QUIET, &cat, &err) < 0) {
		probe_set_result(r, BS_STATE_UNKNOWN, NULL, NULL,
				 "cannot read the catalog of repository %s: %s", bs_repo_location(repo),
				 err.msg);
		goto out;
	}
	db = pick_database(r, &cat, repo);
	if (!db)
		goto out;
	newest = *db ? bs_catalog_newest(&cat, db) : NULL;
	if (!newest) {
		/* never age 0: no backup is the oldest there is */
		probe_set_result(r, BS_STATE_FAIL, "a complete snapshot", "none",
				 "never backed up: no complete snapshot%s%s%s in %s%s",
				 *db ? " of database '" : "", db, *db ? "'" : "", bs_repo_location(repo),
				 cat.nbad ? " (some catalog records are not trusted and were ignored)" : "");
		goto out;
	}
	judge_age(p, newest, now, &age, r->res);
	if (p->drill_max_age_ms > 0)
		judge_drill(p, repo, &cat, db, now, &drill, r->res);
	conclude(r, &age, p->drill_max_age_ms > 0 ? &drill : NULL, &cat);
out:
	bs_catalog_release(&cat);
	bs_repo_close(repo);
	r->res->seconds = (double)(bs_http_now_ms() - t0) / 1000.0;
	r->done = 1;
}
