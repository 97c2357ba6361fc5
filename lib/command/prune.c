/*
 * prune.c - apply a retention policy to the repository.
 *
 * Steps: validate the policy -> take the exclusive lock (no snap is
 * writing) -> load the catalog -> find orphans (archives without a record,
 * stale temporary files) -> decide, each source database on its own (its
 * own keep_last, buckets, min_keep, newest rule and delete-all guard) and
 * the orphans apart -> delete in a crash-safe order -> return every
 * decision as one JSON document (bs_prune_print_text renders it).
 *
 * Order of deletion per snapshot: the record (the snapshot stops existing),
 * then its drills and the archive.  A prune killed in between leaves an
 * orphaned archive, which the next prune removes once the grace period
 * (measured from the archive's last write) has passed.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "command/prune.h"
#include "common/escape.h"
#include "common/log.h"

struct orphan {
	char *key;
	time_t mtime;
	int upload;     /* an unfinished upload (key is its id), not an object */
};

struct scan {
	struct bs_catalog *cat;
	struct orphan *v;
	size_t n, cap;
	struct bs_repo *repo;
	const char *database;
};

static int has_record(const struct bs_catalog *cat, const char *key)
{
	size_t i;

	for (i = 0; i < cat->n; i++)
		if (strcmp(cat->recs[i].archive, key) == 0)
			return 1;
	return 0;
}

static int add_orphan_key(struct scan *s, const char *key, time_t mtime, int upload, struct bs_err *err)
{
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 16;
		struct orphan *nv = realloc(s->v, ncap * sizeof(*nv));
		if (!nv)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		s->v = nv;
		s->cap = ncap;
	}
	s->v[s->n].key = strdup(key);
	s->v[s->n].mtime = mtime;
	s->v[s->n].upload = upload;
	if (!s->v[s->n].key)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	s->n++;
	return 0;
}

static int add_orphan(void *ud, const struct bs_repo_entry *e, struct bs_err *err)
{
	return add_orphan_key(ud, e->key, e->mtime, 0, err);
}

/* Unfinished uploads: writes of running or killed processes. */
static int add_upload(void *ud, const struct bs_repo_upload *u, struct bs_err *err)
{
	return add_orphan_key(ud, u->id, u->started, 1, err);
}

static int scan_archive(void *ud, const struct bs_repo_entry *e, struct bs_err *err)
{
	struct scan *s = ud;

	if (has_record(s->cat, e->key))
		return 0;
	return add_orphan(s, e, err);
}

/* drills/<id>/... of a snapshot that no longer has a record */
static int scan_drill(void *ud, const struct bs_repo_entry *e, struct bs_err *err)
{
	struct scan *s = ud;
	const char *p = e->key + strlen("drills/");
	size_t i;

	for (i = 0; i < s->cat->n; i++) {
		size_t n = strlen(s->cat->recs[i].id);
		if (strncmp(p, s->cat->recs[i].id, n) == 0 && p[n] == '/')
			return 0;
	}
	return add_orphan(s, e, err);
}

static int collect_key(void *ud, const struct bs_repo_entry *e, struct bs_err *err)
{
	return bs_repo_keys_add(ud, e->key, err);
}

/* The record first (from then on the snapshot is gone), then its drill
 * records and its archive, in one batch where the store has one. */
static int delete_snapshot(struct bs_repo *repo, const struct bs_snap_record *r, struct bs_err *err)
{
	struct bs_repo_keys k = { 0 };
	char key[160];
	int rc;

	snprintf(key, sizeof(key), "snapshots/%s.json", r->id);
	if (bs_repo_remove(repo, key, err) < 0)
		return -1;
	snprintf(key, sizeof(key), "drills/%s/", r->id);
	rc = bs_repo_list(repo, key, collect_key, &k, err);
	if (rc == 0)
		rc = bs_repo_keys_add(&k, r->archive, err);
	if (rc == 0)
		rc = bs_repo_remove_many(repo, (const char *const *)k.v, k.n, err);
	bs_repo_keys_release(&k);
	return rc;
}

static const char *db_of(const struct bs_snap_record *r)
{
	return r->database ? r->database : "";
}

/* What the calling snap asked to spare (bs_prune_request). */
static const char *protected_by(const struct bs_prune_request *rq, const struct bs_snap_record *r)
{
	if (rq->protect_id && strcmp(r->id, rq->protect_id) == 0)
		return "taken by this snap";
	if (rq->protect_since && r->end >= rq->protect_since)
		return "taken by a concurrent snap";
	return NULL;
}

/* Apply the policy to the items whose index is in idx[0..k) only. */
static int decide_group(const struct bs_retention_policy *policy, const struct bs_retention_item *items,
			const size_t *idx, size_t k, time_t now, struct bs_retention_decision *dec,
			struct bs_err *err)
{
	struct bs_retention_item *gi = calloc(k ? k : 1, sizeof(*gi));
	struct bs_retention_decision *gd = calloc(k ? k : 1, sizeof(*gd));
	size_t j;
	int rc = -1;

	if (!gi || !gd) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (j = 0; j < k; j++)
		gi[j] = items[idx[j]];
	if (bs_retention_apply(policy, gi, k, now, gd, err) < 0)
		goto out;
	for (j = 0; j < k; j++)
		dec[idx[j]] = gd[j];
	rc = 0;
out:
	free(gi);
	free(gd);
	return rc;
}

/* Decide: every database of cat on its own, then the orphans (items from
 * cat->n on) on their own. */
static int decide(const struct bs_prune_request *rq, const struct bs_catalog *cat,
		  const struct bs_retention_item *items, size_t n, time_t now,
		  struct bs_retention_decision *dec, struct bs_err *err)
{
	size_t *idx = calloc(n ? n : 1, sizeof(*idx)), i, j, k;
	int rc = -1;

	if (!idx)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	for (i = 0; i < cat->n; i++) {
		const char *db = db_of(&cat->recs[i]);

		for (j = 0; j < i; j++)
			if (strcmp(db_of(&cat->recs[j]), db) == 0)
				break;
		if (j < i)
			continue; /* decided with its database already */
		for (k = 0, j = i; j < cat->n; j++)
			if (strcmp(db_of(&cat->recs[j]), db) == 0)
				idx[k++] = j;
		if (decide_group(rq->policy, items, idx, k, now, dec, err) < 0) {
			bs_err_prefix(err, "database '%s'", db);
			goto out;
		}
	}
	for (k = 0, j = cat->n; j < n; j++)
		idx[k++] = j;
	if (k && decide_group(rq->policy, items, idx, k, now, dec, err) < 0)
		goto out;
	rc = 0;
out:
	free(idx);
	return rc;
}

/* The per-database summary entry of doc, created on first use. */
static json_t *db_summary(json_t *dbs, const char *db)
{
	size_t i;
	json_t *o;

	json_array_foreach(dbs, i, o)
		if (strcmp(json_string_value(json_object_get(o, "database")), db) == 0)
			return o;
	o = json_pack("{s:s,s:i,s:i}", "database", db, "kept", 0, "deleted", 0);
	json_array_append_new(dbs, o);
	return o;
}

static void count_in(json_t *o, const char *key)
{
	json_object_set_new(o, key, json_integer(json_integer_value(json_object_get(o, key)) + 1));
}

/* The document `snap prune --json` prints. */
static json_t *new_doc(const struct bs_prune_request *rq, const char *desc)
{
	return json_pack("{s:s,s:o,s:b,s:i,s:i,s:[],s:[]}", "policy", desc, "database",
			 rq->database ? json_string(rq->database) : json_null(), "dry_run", rq->dry_run,
			 "kept", 0, "deleted", 0, "databases", "decisions");
}

struct slot {
	const char *db; /* NULL for an orphan: after every database */
	size_t i;
};

/* By database name, then oldest first (catalog order); orphans last. */
static int by_database(const void *a, const void *b)
{
	const struct slot *x = a, *y = b;
	int c;

	if (!x->db != !y->db)
		return x->db ? -1 : 1;
	c = x->db ? strcmp(x->db, y->db) : 0;
	if (c)
		return c;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Delete what was decided (unless dry run), adding one decision per item
 * to doc, grouped by database. */
static int carry_out(struct bs_repo *repo, const struct bs_prune_request *rq, const struct bs_catalog *cat,
		     const struct scan *s, const struct bs_retention_item *items,
		     const struct bs_retention_decision *dec, size_t n, json_t *doc, struct bs_err *err)
{
	json_t *arr = json_object_get(doc, "decisions"), *dbs = json_object_get(doc, "databases");
	struct slot *order = calloc(n ? n : 1, sizeof(*order));
	size_t k;
	int rc = -1;

	if (!order)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	for (k = 0; k < n; k++) {
		order[k].db = k < cat->n ? db_of(&cat->recs[k]) : NULL;
		order[k].i = k;
	}
	qsort(order, n, sizeof(*order), by_database);
	for (k = 0; k < n; k++) {
		size_t i = order[k].i;
		int del = dec[i].verdict == BS_RETAIN_DELETE, is_orphan = i >= cat->n;
		const char *what = is_orphan ? "orphan" : "snapshot";
		json_t *o;

		if (del && !rq->dry_run) {
			int r = !is_orphan ? delete_snapshot(repo, &cat->recs[i], err)
				: s->v[i - cat->n].upload ? bs_repo_remove_unfinished(repo, items[i].id, err)
							  : bs_repo_remove(repo, items[i].id, err);
			if (r < 0) {
				bs_err_prefix(err, "unable to delete %s %s", what, items[i].id);
				goto out;
			}
		}
		count_in(doc, del ? "deleted" : "kept");
		if (!is_orphan)
			count_in(db_summary(dbs, db_of(&cat->recs[i])), del ? "deleted" : "kept");
		o = json_pack("{s:s,s:s,s:o,s:s,s:s}", "id", items[i].id, "kind", what, "database",
			      is_orphan ? json_null() : json_string(db_of(&cat->recs[i])), "verdict",
			      del ? "delete" : "keep", "reasons", dec[i].reasons);
		if (!o || json_array_append_new(arr, o) < 0) {
			bs_err_set(err, BS_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	rc = 0;
out:
	free(order);
	return rc;
}

/* Prune never deletes while a record under snapshots/ is untrusted. */
static int refuse_untrusted(const struct bs_catalog *all, struct bs_err *err)
{
	char more[1024];
	size_t i, len = 0;

	if (all->nbad == 0)
		return 0;
	more[0] = '\0';
	for (i = 1; i < all->nbad && len < sizeof(more); i++)
		len += (size_t)snprintf(more + len, sizeof(more) - len, "%s'%s': %s", i > 1 ? "; " : "",
					all->bad[i].key, all->bad[i].why);
	bs_err_set(err, BS_ERR_FORMAT,
		   "prune stopped before deleting anything: catalog record '%s' cannot be trusted: %s",
		   all->bad[0].key, all->bad[0].why);
	if (all->nbad > 1)
		bs_err_detail(err, "%zu more untrusted record(s): %s", all->nbad - 1, more);
	bs_err_hint(err, "fix the record or move it out of the repository (restore it from another "
			 "copy if you have one); while it is there, prune cannot tell which archives "
			 "are orphans");
	return -1;
}

static void fill_items(const struct bs_prune_request *rq, const struct bs_catalog *cat, const struct scan *s,
		       struct bs_retention_item *items)
{
	size_t i;

	for (i = 0; i < cat->n; i++) {
		const struct bs_snap_record *r = &cat->recs[i];

		items[i].id = r->id;
		items[i].start = r->start;
		items[i].complete = 1;
		items[i].pinned = r->pinned;
		items[i].drill_passed = r->drill_verdict && strcmp(r->drill_verdict, "pass") == 0;
		items[i].protect = protected_by(rq, r);
	}
	for (i = 0; i < s->n; i++) {
		items[cat->n + i].id = s->v[i].key;
		items[cat->n + i].start = s->v[i].mtime;
		items[cat->n + i].complete = 0;
	}
}

int bs_cmd_prune(struct bs_repo *repo, const struct bs_prune_request *rq, struct json_t **out,
		 struct bs_err *err)
{
	struct bs_catalog cat, all;
	struct scan s;
	struct bs_retention_item *items = NULL;
	struct bs_retention_decision *dec = NULL;
	time_t now = rq->now ? rq->now : time(NULL);
	json_t *doc = NULL;
	size_t i, n;
	int rc = -1;
	char desc[512];

	*out = NULL;
	bs_catalog_init(&cat);
	bs_catalog_init(&all);
	memset(&s, 0, sizeof(s));

	/* step: validate before anything is touched */
	if (bs_retention_policy_validate(rq->policy, err) < 0)
		return -1;
	bs_retention_policy_describe(rq->policy, desc, sizeof(desc));

	/* step: exclusive lock: no snap or drill is writing */
	if (!rq->dry_run && bs_repo_lock(repo, BS_REPO_LOCK_EXCLUSIVE, rq->lock_wait_ms, err) < 0)
		return -1;

	/* step: catalog (orphans are judged against every database's records);
	 * a record it cannot trust stops everything: its archive would look
	 * like an orphan, and its snapshot like a gap in the policy */
	if (bs_catalog_load_flags(repo, NULL, BS_CATALOG_QUIET, &all, err) < 0 ||
	    refuse_untrusted(&all, err) < 0 ||
	    bs_catalog_load_flags(repo, rq->database, BS_CATALOG_QUIET, &cat, err) < 0)
		goto out;
	s.cat = &all;
	s.repo = repo;
	if (bs_repo_list(repo, "archives/", scan_archive, &s, err) < 0 ||
	    bs_repo_list_unfinished(repo, add_upload, &s, err) < 0 ||
	    bs_repo_list(repo, "drills/", scan_drill, &s, err) < 0)
		goto out;

	/* step: decide, per database */
	n = cat.n + s.n;
	items = calloc(n ? n : 1, sizeof(*items));
	dec = calloc(n ? n : 1, sizeof(*dec));
	doc = new_doc(rq, desc);
	if (!items || !dec || !doc) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	fill_items(rq, &cat, &s, items);
	if (decide(rq, &cat, items, n, now, dec, err) < 0)
		goto out;

	/* step: delete (records first), or only report under --dry-run */
	if (carry_out(repo, rq, &cat, &s, items, dec, n, doc, err) < 0)
		goto out;
	*out = doc;
	doc = NULL;
	rc = 0;
out:
	json_decref(doc);
	free(items);
	free(dec);
	for (i = 0; i < s.n; i++)
		free(s.v[i].key);
	free(s.v);
	bs_catalog_release(&cat);
	bs_catalog_release(&all);
	if (!rq->dry_run)
		bs_repo_unlock(repo);
	return rc;
}

/* ---- text rendering of the document ---- */

static const char *str_or(const json_t *o, const char *key, const char *dflt)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : dflt;
}

static json_int_t int_of(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

void bs_prune_print_text(const struct json_t *doc, FILE *f)
{
	const json_t *arr = json_object_get(doc, "decisions"), *o;
	const char *filter = str_or(doc, "database", NULL);
	int dry = json_is_true(json_object_get(doc, "dry_run"));
	const char *gone = dry ? "would delete" : "deleted";
	size_t i, wdb = 8, wid = 24;

	if (json_array_size(arr) == 0) {
		if (filter)
			fprintf(f, "nothing to prune: the repository holds no snapshot of database '%s'\n",
				bs_esc(filter));
		else
			fprintf(f, "nothing to prune: the repository holds no snapshot\n");
		return;
	}
	json_array_foreach(arr, i, o) {
		size_t ld = strlen(str_or(o, "database", "-")), li = strlen(str_or(o, "id", ""));

		wdb = ld > wdb ? ld : wdb;
		wid = li > wid ? li : wid;
	}
	fprintf(f, "policy: %s\n", str_or(doc, "policy", ""));
	json_array_foreach(arr, i, o) {
		int del = strcmp(str_or(o, "verdict", ""), "delete") == 0;

		fprintf(f, "%-*s %-8s %-*s %s: %s\n", (int)wdb, bs_esc(str_or(o, "database", "-")),
			str_or(o, "kind", ""), (int)wid, bs_esc(str_or(o, "id", "")), del ? gone : "kept",
			bs_esc(str_or(o, "reasons", "")));
	}
	arr = json_object_get(doc, "databases");
	if (json_array_size(arr) > 1)
		json_array_foreach(arr, i, o)
			fprintf(f, "database '%s': %lld kept, %lld %s\n", bs_esc(str_or(o, "database", "")),
				(long long)int_of(o, "kept"), (long long)int_of(o, "deleted"),
				dry ? "would be deleted" : "deleted");
	fprintf(f, "%lld kept, %lld %s\n", (long long)int_of(doc, "kept"),
		(long long)int_of(doc, "deleted"), dry ? "would be deleted (dry run)" : "deleted");
}
