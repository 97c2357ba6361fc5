/*
 * prune.c - apply a retention policy to the repository.
 *
 * Steps: validate the policy -> take the exclusive lock (no snap is
 * writing) -> load the catalog -> find orphans (archives without a record,
 * stale temporary files) -> decide -> delete in a crash-safe order ->
 * report every decision.
 *
 * Order of deletion per snapshot: the record (the snapshot stops existing),
 * then its drills and the archive.  A prune killed in between leaves an
 * orphaned archive, which the next prune removes once the grace period
 * (measured from the archive's last write) has passed.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "command/command.h"
#include "common/log.h"

struct orphan {
	char *key;
	time_t mtime;
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

/* Also the list callback for tmp/: unfinished writes of running or killed processes. */
static int add_orphan(void *ud, const struct bs_repo_entry *e, struct bs_err *err)
{
	struct scan *s = ud;

	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 16;
		struct orphan *nv = realloc(s->v, ncap * sizeof(*nv));
		if (!nv)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		s->v = nv;
		s->cap = ncap;
	}
	s->v[s->n].key = strdup(e->key);
	s->v[s->n].mtime = e->mtime;
	if (!s->v[s->n].key)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	s->n++;
	return 0;
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

static int remove_prefix_cb(void *ud, const struct bs_repo_entry *e, struct bs_err *err)
{
	return bs_repo_remove(ud, e->key, err);
}

static int delete_snapshot(struct bs_repo *repo, const struct bs_snap_record *r, struct bs_err *err)
{
	char key[160];

	snprintf(key, sizeof(key), "snapshots/%s.json", r->id);
	if (bs_repo_remove(repo, key, err) < 0)
		return -1;
	snprintf(key, sizeof(key), "drills/%s/", r->id);
	if (bs_repo_list(repo, key, remove_prefix_cb, repo, err) < 0)
		return -1;
	return bs_repo_remove(repo, r->archive, err);
}

int bs_cmd_prune(struct bs_repo *repo, const struct bs_prune_request *rq, FILE *f, struct bs_err *err)
{
	struct bs_catalog cat, all;
	struct scan s;
	struct bs_retention_item *items = NULL;
	struct bs_retention_decision *dec = NULL;
	time_t now = rq->now ? rq->now : time(NULL);
	json_t *jout = NULL, *jarr = NULL;
	size_t i, n, kept = 0, deleted = 0;
	int rc = -1;
	char desc[512];

	bs_catalog_init(&cat);
	bs_catalog_init(&all);
	memset(&s, 0, sizeof(s));

	/* step: validate before anything is touched */
	if (bs_retention_policy_validate(rq->policy, err) < 0)
		return -1;

	/* step: exclusive lock: no snap or drill is writing */
	if (!rq->dry_run && bs_repo_lock(repo, BS_REPO_LOCK_EXCLUSIVE, rq->lock_wait_ms, err) < 0)
		return -1;

	/* step: catalog (orphans are judged against every database's records) */
	if (bs_catalog_load(repo, rq->database, &cat, err) < 0 ||
	    bs_catalog_load(repo, NULL, &all, err) < 0)
		goto out;
	s.cat = &all;
	s.repo = repo;
	if (bs_repo_list(repo, "archives/", scan_archive, &s, err) < 0 ||
	    bs_repo_list(repo, "tmp/", add_orphan, &s, err) < 0 ||
	    bs_repo_list(repo, "drills/", scan_drill, &s, err) < 0)
		goto out;

	/* step: decide */
	n = cat.n + s.n;
	items = calloc(n ? n : 1, sizeof(*items));
	dec = calloc(n ? n : 1, sizeof(*dec));
	if (!items || !dec) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < cat.n; i++) {
		items[i].id = cat.recs[i].id;
		items[i].start = cat.recs[i].start;
		items[i].complete = 1;
		items[i].pinned = cat.recs[i].pinned;
		items[i].drill_passed = cat.recs[i].drill_verdict &&
					strcmp(cat.recs[i].drill_verdict, "pass") == 0;
	}
	for (i = 0; i < s.n; i++) {
		items[cat.n + i].id = s.v[i].key;
		items[cat.n + i].start = s.v[i].mtime;
		items[cat.n + i].complete = 0;
	}
	if (cat.n == 0 && s.n == 0) {
		if (rq->json) {
			jout = json_pack("{s:[],s:b}", "decisions", "dry_run", rq->dry_run);
		} else {
			fprintf(f, "nothing to prune: the repository holds no snapshot\n");
		}
		rc = 0;
		goto report;
	}
	if (bs_retention_apply(rq->policy, items, n, now, dec, err) < 0)
		goto out;

	/* step: delete (records first), or only report under --dry-run */
	if (rq->json) {
		jout = json_object();
		jarr = json_array();
	}
	bs_retention_policy_describe(rq->policy, desc, sizeof(desc));
	if (!rq->json)
		fprintf(f, "policy: %s\n", desc);
	for (i = 0; i < n; i++) {
		int del = dec[i].verdict == BS_RETAIN_DELETE;
		int is_orphan = i >= cat.n;
		const char *what = is_orphan ? "orphan" : "snapshot";
		if (del && !rq->dry_run) {
			int r = is_orphan ? bs_repo_remove(repo, items[i].id, err)
					  : delete_snapshot(repo, &cat.recs[i], err);
			if (r < 0) {
				bs_err_prefix(err, "unable to delete %s %s", what, items[i].id);
				goto out;
			}
		}
		del ? deleted++ : kept++;
		if (jarr) {
			json_t *o = json_object();
			json_object_set_new(o, "id", json_string(items[i].id));
			json_object_set_new(o, "kind", json_string(what));
			json_object_set_new(o, "verdict", json_string(del ? "delete" : "keep"));
			json_object_set_new(o, "reasons", json_string(dec[i].reasons));
			json_array_append_new(jarr, o);
		} else {
			fprintf(f, "%-8s %-28s %s: %s\n", what, items[i].id,
				del ? (rq->dry_run ? "would delete" : "deleted") : "kept", dec[i].reasons);
		}
	}
	if (jout) {
		json_object_set_new(jout, "policy", json_string(desc));
		json_object_set_new(jout, "dry_run", json_boolean(rq->dry_run));
		json_object_set_new(jout, "kept", json_integer((json_int_t)kept));
		json_object_set_new(jout, "deleted", json_integer((json_int_t)deleted));
		json_object_set_new(jout, "decisions", jarr);
		jarr = NULL;
	} else {
		fprintf(f, "%zu kept, %zu %s\n", kept, deleted, rq->dry_run ? "would be deleted (dry run)" : "deleted");
	}
	rc = 0;
report:
	if (jout) {
		json_dumpf(jout, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', f);
	}
out:
	json_decref(jout);
	json_decref(jarr);
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
