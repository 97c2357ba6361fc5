/* catalog.c - loading, finding, committing and pinning snapshots (catalog.h) */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "common/log.h"

#define RECORD_MAX (1 << 20)

void bs_catalog_init(struct bs_catalog *c)
{
	memset(c, 0, sizeof(*c));
}

void bs_catalog_release(struct bs_catalog *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		bs_snap_record_release(&c->recs[i]);
	free(c->recs);
	for (i = 0; i < c->nbad; i++) {
		free(c->bad[i].key);
		free(c->bad[i].why);
	}
	free(c->bad);
	memset(c, 0, sizeof(*c));
}

int bs_catalog_layout_create(struct bs_repo *repo, struct bs_err *err)
{
	static const char *const folders[] = { "snapshots", "archives", "pins", "drills" };
	size_t i;

	for (i = 0; i < sizeof(folders) / sizeof(folders[0]); i++)
		if (bs_repo_path_create(repo, folders[i], err) < 0)
			return -1;
	return 0;
}

int bs_catalog_commit(struct bs_repo *repo, const struct bs_snap_record *r, struct bs_err *err)
{
	char key[128], *json = NULL;
	size_t len;
	int rc;

	if (bs_snap_record_to_json(r, &json, &len, err) < 0)
		return -1;
	snprintf(key, sizeof(key), "snapshots/%s.json", r->id);
	rc = bs_repo_put_bytes(repo, key, json, len, err);
	free(json);
	return rc;
}

/*
 * Loading.  Every listed record is read and validated as before ("Trusted
 * records", docs/format.md), but not one round trip at a time: the keys
 * are listed first, then fetched in batches of LOAD_BATCH with
 * bs_repo_get_many (up to BS_REPO_GET_MANY_JOBS in flight), and judged in
 * key order, so the outcome and the warnings are those of a serial load.
 * Batches bound the memory: at most LOAD_BATCH records of RECORD_MAX.
 */
#define LOAD_BATCH 64

struct listed {
	char *key;
	int is_link;
};

struct load_ctx {
	struct bs_repo *repo;
	const char *database;
	int flags;
	struct bs_catalog *c;
	size_t cap, badcap;
	struct listed *v;        /* the listing being loaded */
	size_t n, vcap;
};

/* An untrusted record: kept aside (prune stops on it) and reported. */
static int distrust(struct load_ctx *lc, const char *key, const char *why, struct bs_err *err)
{
	struct bs_catalog *c = lc->c;
	struct bs_catalog_problem *p;

	if (c->nbad == lc->badcap) {
		size_t ncap = lc->badcap ? lc->badcap * 2 : 4;
		p = realloc(c->bad, ncap * sizeof(*p));
		if (!p)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		c->bad = p;
		lc->badcap = ncap;
	}
	p = &c->bad[c->nbad];
	p->key = strdup(key);
	p->why = strdup(why);
	if (!p->key || !p->why) {
		free(p->key);
		free(p->why);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	c->nbad++;
	if (!(lc->flags & BS_CATALOG_QUIET))
		bs_warn("catalog record '%s' is not trusted and is ignored: %s", key, why);
	return 0;
}

/* The id a key snapshots/<id>.json names, or "" when its name is not an id. */
static void key_id(const char *key, char id[BS_ID_MAX])
{
	const char *base = key + strlen("snapshots/");
	size_t n = strlen(base) - 5;

	id[0] = '\0';
	if (n < BS_ID_MAX && !strchr(base, '/')) {
		memcpy(id, base, n);
		id[n] = '\0';
		if (!bs_catalog_valid_id(id))
			id[0] = '\0';
	}
}

static int add_record(struct load_ctx *lc, struct bs_snap_record *r, struct bs_err *err)
{
	if (lc->c->n == lc->cap) {
		size_t ncap = lc->cap ? lc->cap * 2 : 32;
		struct bs_snap_record *nv = realloc(lc->c->recs, ncap * sizeof(*nv));
		if (!nv) {
			bs_snap_record_release(r);
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		}
		lc->c->recs = nv;
		lc->cap = ncap;
	}
	lc->c->recs[lc->c->n++] = *r;
	return 0;
}

static struct bs_snap_record *find_id(struct bs_catalog *c, const char *id)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->recs[i].id, id) == 0)
			return &c->recs[i];
	return NULL;
}

static int is_json(const char *key)
{
	size_t kl = strlen(key);

	return kl >= 5 && strcmp(key + kl - 5, ".json") == 0;
}

/* snapshots/<id>.json: fetched when its name can be a record */
static int want_record(struct load_ctx *lc, const struct listed *e)
{
	char id[BS_ID_MAX];

	if (!is_json(e->key) || e->is_link)
		return 0;
	key_id(e->key, id);
	return id[0] != '\0';
}

static int load_one(struct load_ctx *lc, const struct listed *e, struct bs_repo_fetch *f,
		    struct bs_err *err)
{
	struct bs_snap_record r;
	struct bs_err e2;
	char id[BS_ID_MAX], why[BS_ERR_MSG_MAX + 64];

	if (!is_json(e->key))
		return 0;
	key_id(e->key, id);
	if (!id[0])
		return distrust(lc, e->key, "its file name is not <snapshot id>.json", err);
	if (e->is_link)
		return distrust(lc, e->key, "it is a symbolic link (records are never followed)", err);
	if (f->rc < 0) {
		if (f->err.code == BS_ERR_NOMEM)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		snprintf(why, sizeof(why), "unreadable: %s", f->err.msg);
		return distrust(lc, e->key, why, err);
	}
	bs_err_init(&e2);
	if (bs_snap_record_from_json(&r, f->buf, f->len, e->key, &e2) < 0) {
		const char *m = e2.msg;
		size_t pl;
		if (e2.code == BS_ERR_NOMEM)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		/* "catalog record '<key>': <why>" -> "<why>" (the key is named once) */
		snprintf(why, sizeof(why), "catalog record '%s'", e->key);
		pl = strlen(why);
		if (strncmp(m, why, pl) == 0)
			m += pl + (m[pl] == ':') + (m[pl] != '\0');
		snprintf(why, sizeof(why), "%s", m);
		return distrust(lc, e->key, why, err);
	}
	if (strcmp(r.id, id) != 0) {
		snprintf(why, sizeof(why), "its id '%s' is not its file name", r.id);
		bs_snap_record_release(&r);
		return distrust(lc, e->key, why, err);
	}
	if (lc->database && strcmp(r.database, lc->database) != 0) {
		bs_snap_record_release(&r);
		return 0;
	}
	return add_record(lc, &r, err);
}

/* "pins/<id>.json" -> the loaded record it pins, or NULL */
static struct bs_snap_record *pin_target(struct load_ctx *lc, const char *key)
{
	char id[BS_ID_MAX];
	const char *base = key + strlen("pins/");
	size_t n = strlen(base);

	if (n < 5 || n - 5 >= sizeof(id))
		return NULL;
	memcpy(id, base, n - 5);
	id[n - 5] = '\0';
	return find_id(lc->c, id);
}

static int want_pin(struct load_ctx *lc, const struct listed *e)
{
	return !e->is_link && pin_target(lc, e->key) != NULL;
}

static int load_pin(struct load_ctx *lc, const struct listed *e, struct bs_repo_fetch *f,
		    struct bs_err *err)
{
	struct bs_snap_record *r = pin_target(lc, e->key);

	if (!r)
		return 0;
	r->pinned = 1;
	if (f->key && f->rc == 0) {
		json_t *o = json_loadb(f->buf, f->len, 0, NULL);
		const char *reason = o ? json_string_value(json_object_get(o, "reason")) : NULL;
		if (reason)
			r->pin_reason = strdup(reason);
		json_decref(o);
	}
	return 0;
}

/* "drills/<id>/<drill-id>.json" -> the loaded record it is a drill of, or NULL */
static struct bs_snap_record *drill_target(struct load_ctx *lc, const char *key)
{
	char id[BS_ID_MAX];
	const char *p = key + strlen("drills/"), *slash = strchr(p, '/');

	if (!slash || (size_t)(slash - p) >= sizeof(id))
		return NULL;
	memcpy(id, p, (size_t)(slash - p));
	id[slash - p] = '\0';
	return find_id(lc->c, id);
}

static int want_drill(struct load_ctx *lc, const struct listed *e)
{
	return drill_target(lc, e->key) != NULL;
}

/* sorted by key, so the last one wins */
static int load_drill(struct load_ctx *lc, const struct listed *e, struct bs_repo_fetch *f,
		      struct bs_err *err)
{
	struct bs_snap_record *r = drill_target(lc, e->key);
	json_t *o;

	if (!r)
		return 0;
	if (f->rc < 0) {
		if (f->err.code == BS_ERR_NOMEM)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		return 0; /* an unreadable drill record does not hide the snapshot */
	}
	o = json_loadb(f->buf, f->len, 0, NULL);
	if (!o)
		return 0; /* a damaged drill record does not hide the snapshot */
	{
		const char *v = json_string_value(json_object_get(o, "verdict"));
		const char *did = json_string_value(json_object_get(o, "id"));
		time_t t = 0;
		bs_time_parse(json_string_value(json_object_get(o, "start")), &t);
		if (v && t >= r->drill_time) {
			free(r->drill_verdict);
			r->drill_verdict = strdup(v);
			r->drill_time = t;
			snprintf(r->drill_id, sizeof(r->drill_id), "%s", did ? did : "");
		}
	}
	json_decref(o);
	return 0;
}

static int collect(void *ud, const struct bs_repo_entry *e, struct bs_err *err)
{
	struct load_ctx *lc = ud;

	if (lc->n == lc->vcap) {
		size_t ncap = lc->vcap ? lc->vcap * 2 : 64;
		struct listed *nv = realloc(lc->v, ncap * sizeof(*nv));
		if (!nv)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		lc->v = nv;
		lc->vcap = ncap;
	}
	lc->v[lc->n].key = strdup(e->key);
	lc->v[lc->n].is_link = e->is_link;
	if (!lc->v[lc->n].key)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	lc->n++;
	return 0;
}

static void forget_listing(struct load_ctx *lc)
{
	size_t i;

	for (i = 0; i < lc->n; i++)
		free(lc->v[i].key);
	lc->n = 0;
}

typedef int (*want_fn)(struct load_ctx *lc, const struct listed *e);
typedef int (*judge_fn)(struct load_ctx *lc, const struct listed *e, struct bs_repo_fetch *f,
			struct bs_err *err);

/* List prefix, fetch what want() asks for in parallel batches, and hand
 * every entry to judge() in key order. */
static int load_prefix(struct load_ctx *lc, const char *prefix, want_fn want, judge_fn judge,
		       struct bs_err *err)
{
	struct bs_repo_fetch f[LOAD_BATCH];
	size_t b, j, m;
	int rc = 0;

	if (bs_repo_list(lc->repo, prefix, collect, lc, err) < 0) {
		forget_listing(lc);
		return -1;
	}
	for (b = 0; b < lc->n && rc == 0; b += m) {
		m = lc->n - b < LOAD_BATCH ? lc->n - b : LOAD_BATCH;
		memset(f, 0, sizeof(f));
		for (j = 0; j < m; j++)
			f[j].key = want(lc, &lc->v[b + j]) ? lc->v[b + j].key : NULL;
		rc = bs_repo_get_many(lc->repo, f, m, RECORD_MAX, err);
		for (j = 0; j < m; j++) {
			if (rc == 0)
				rc = judge(lc, &lc->v[b + j], &f[j], err);
			free(f[j].buf);
		}
	}
	forget_listing(lc);
	return rc < 0 ? -1 : 0;
}

int bs_catalog_load(struct bs_repo *repo, const char *database, struct bs_catalog *c,
		    struct bs_err *err)
{
	return bs_catalog_load_flags(repo, database, 0, c, err);
}

int bs_catalog_load_flags(struct bs_repo *repo, const char *database, int flags,
			  struct bs_catalog *c, struct bs_err *err)
{
	struct load_ctx lc;
	int rc;

	memset(&lc, 0, sizeof(lc));
	lc.repo = repo;
	lc.database = database;
	lc.flags = flags;
	lc.c = c;
	bs_catalog_init(c);
	rc = load_prefix(&lc, "snapshots/", want_record, load_one, err);
	if (rc == 0)
		rc = load_prefix(&lc, "pins/", want_pin, load_pin, err);
	if (rc == 0)
		rc = load_prefix(&lc, "drills/", want_drill, load_drill, err);
	free(lc.v);
	if (rc < 0)
		bs_catalog_release(c);
	return rc;
}

int bs_catalog_databases(const struct bs_catalog *c, char *out, size_t n)
{
	size_t i, j, len = 0;
	int count = 0;

	if (n)
		out[0] = '\0';
	for (i = 0; i < c->n; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(c->recs[j].database, c->recs[i].database) == 0)
				break;
		if (j < i)
			continue;
		count++;
		if (len < n)
			len += (size_t)snprintf(out + len, n - len, "%s%s", len ? ", " : "",
						c->recs[i].database);
	}
	return count;
}

/* latest and --before pick by time alone: with several databases in the
 * repository that would be a guess, so it is refused. */
static int refuse_guess(const struct bs_catalog *c, const char *what, struct bs_err *err)
{
	char names[512];

	if (bs_catalog_databases(c, names, sizeof(names)) <= 1)
		return 0;
	bs_err_set(err, BS_ERR_REFUSED,
		   "the repository holds snapshots of several databases (%s): %s would have to guess", names,
		   what);
	bs_err_hint(err, "name the source database with --database NAME");
	return -1;
}

static const struct bs_snap_record *find_prefix(const struct bs_catalog *c, const char *spec,
						struct bs_err *err)
{
	const struct bs_snap_record *hit = NULL;
	size_t i, n = strlen(spec), hits = 0, len = 0;
	char list[600];

	if (n < BS_ID_PREFIX_MIN)
		return NULL;
	list[0] = '\0';
	for (i = 0; i < c->n; i++)
		if (strncmp(c->recs[i].id, spec, n) == 0) {
			hit = &c->recs[i];
			if (hits++ < 8 && len < sizeof(list))
				len += (size_t)snprintf(list + len, sizeof(list) - len, "\n  %s (%s)",
							hit->id, hit->database);
		}
	if (hits <= 1)
		return hit;
	bs_err_set(err, BS_ERR_USAGE, "snapshot id '%s' is ambiguous: it matches %zu snapshots", spec, hits);
	bs_err_detail(err, "candidates:%s%s", list, hits > 8 ? "\n  ..." : "");
	bs_err_hint(err, "give more characters of the id");
	return NULL;
}

const struct bs_snap_record *bs_catalog_find(const struct bs_catalog *c, const char *spec,
					      time_t before, struct bs_err *err)
{
	const struct bs_snap_record *hit;
	size_t i;

	if (before) {
		if (refuse_guess(c, "--before", err) < 0)
			return NULL;
		for (i = c->n; i-- > 0;)
			if (c->recs[i].start < before)
				return &c->recs[i];
		bs_err_set(err, BS_ERR_NOT_FOUND, "no snapshot started before the given time");
		bs_err_hint(err, "run 'backstop snap list' to see the snapshots in the repository");
		return NULL;
	}
	if (!spec || strcmp(spec, "latest") == 0) {
		if (refuse_guess(c, "'latest'", err) < 0)
			return NULL;
		if (c->n > 0)
			return &c->recs[c->n - 1];
		bs_err_set(err, BS_ERR_NOT_FOUND, "no snapshot found");
		bs_err_hint(err, "run 'backstop snap' first, or check --repo and --database");
		return NULL;
	}
	for (i = 0; i < c->n; i++)
		if (strcmp(c->recs[i].id, spec) == 0)
			return &c->recs[i];
	/* a unique prefix is accepted, as git accepts abbreviated ids */
	err->code = BS_OK;
	hit = find_prefix(c, spec, err);
	if (hit || err->code != BS_OK)
		return hit;
	bs_err_set(err, BS_ERR_NOT_FOUND, "snapshot '%s' not found", spec);
	for (i = 0; i < c->nbad && strlen(spec) >= BS_ID_PREFIX_MIN; i++)
		if (strncmp(c->bad[i].key + strlen("snapshots/"), spec, strlen(spec)) == 0) {
			bs_err_set(err, BS_ERR_FORMAT, "snapshot '%s' has a catalog record that is not "
				   "trusted: '%s': %s", spec, c->bad[i].key, c->bad[i].why);
			bs_err_hint(err, "a record that fails validation is never used; restore it from "
					 "another copy of the repository, or move it aside");
			return NULL;
		}
	if (strlen(spec) < BS_ID_PREFIX_MIN)
		bs_err_hint(err, "an abbreviated id needs at least %d characters; run 'backstop snap list' "
				 "to see the snapshots", BS_ID_PREFIX_MIN);
	else
		bs_err_hint(err, "run 'backstop snap list' to see the snapshots in the repository");
	return NULL;
}

int bs_catalog_pin(struct bs_repo *repo, const char *id, const char *reason, struct bs_err *err)
{
	char key[128], ts[32], *json;
	json_t *o = json_object();
	int rc;

	if (!bs_catalog_valid_id(id)) {
		json_decref(o);
		return bs_err_set(err, BS_ERR_USAGE, "'%s' is not a snapshot id", id);
	}
	bs_time_iso(time(NULL), ts);
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "reason", json_string(reason ? reason : ""));
	json_object_set_new(o, "time", json_string(ts));
	json = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!json)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	snprintf(key, sizeof(key), "pins/%s.json", id);
	rc = bs_repo_put_bytes(repo, key, json, strlen(json), err);
	free(json);
	return rc;
}

int bs_catalog_unpin(struct bs_repo *repo, const char *id, struct bs_err *err)
{
	char key[128];

	if (!bs_catalog_valid_id(id))
		return bs_err_set(err, BS_ERR_USAGE, "'%s' is not a snapshot id", id);
	snprintf(key, sizeof(key), "pins/%s.json", id);
	return bs_repo_remove(repo, key, err);
}

const struct bs_snap_record *bs_catalog_newest(const struct bs_catalog *c, const char *db)
{
	const struct bs_snap_record *best = NULL;

	for (size_t i = 0; i < c->n; i++) {
		const struct bs_snap_record *s = &c->recs[i];

		if (strcmp(s->database, db) != 0)
			continue;
		if (!best || s->start > best->start || (s->start == best->start && strcmp(s->id, best->id) > 0))
			best = s;
	}
	return best;
}
