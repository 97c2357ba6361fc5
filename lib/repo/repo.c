/* repo.c - the backend table, the checks every operation shares, and the
 * convenience calls of repo.h */
#include "repo/repo.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "repo/repo_int.h"


static const struct bs_repo_ops *const backends[] = {
	&bs_repo_local_ops,
	&bs_repo_s3_ops,
	&bs_repo_azure_ops,
};

static int refuse_location(const char *location, struct bs_err *err)
{
	bs_err_set(err, BS_ERR_CONFIG, "unsupported repository '%s'", location);
	bs_err_hint(err, "use a local directory path, s3://bucket/prefix or azure://account/container/prefix");
	return -1;
}

static const struct bs_repo_ops *pick_backend(const char *location, const char **path)
{
	size_t i;
	const char *colon = strstr(location, "://");

	if (!colon) {
		*path = location;
		return &bs_repo_local_ops;
	}
	if (strncmp(location, "file://", 7) == 0) {
		*path = location + 7;
		return &bs_repo_local_ops;
	}
	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		size_t n = strlen(backends[i]->scheme);
		if (strncmp(location, backends[i]->scheme, n) == 0 && location + n == colon) {
			*path = location;
			return backends[i];
		}
	}
	return NULL;
}

static int repo_new(const char *location, struct bs_repo **out, const char **path, struct bs_err *err)
{
	const struct bs_repo_ops *ops;
	struct bs_repo *r;

	*out = NULL;
	if (!location || !*location) {
		bs_err_set(err, BS_ERR_CONFIG, "no repository configured");
		bs_err_hint(err, "pass --repo DIR, set BACKSTOP_REPO, or set 'repository:' in backstop.yaml");
		return -1;
	}
	ops = pick_backend(location, path);
	if (!ops)
		return refuse_location(location, err);
	r = calloc(1, sizeof(*r));
	if (!r || !(r->location = strdup(location))) {
		free(r);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	r->ops = ops;
	r->lock_ttl_ms = BS_REPO_LEASE_TTL_MS;
	pthread_mutex_init(&r->lease_mu, NULL);
	*out = r;
	return 0;
}

static void repo_free(struct bs_repo *r)
{
	pthread_mutex_destroy(&r->lease_mu);
	free(r->location);
	free(r);
}

int bs_repo_open_with(const char *location, const struct bs_repo_settings *set, struct bs_repo **out,
		      struct bs_err *err)
{
	struct bs_repo *r;
	const char *path;

	if (repo_new(location, &r, &path, err) < 0)
		return -1;
	if (set && set->lease_ttl_ms > 0)
		r->lock_ttl_ms = set->lease_ttl_ms;
	if (r->ops->open(r, path, set, err) < 0) {
		repo_free(r);
		return -1;
	}
	*out = r;
	return 0;
}

int bs_repo_open(const char *location, struct bs_repo **out, struct bs_err *err)
{
	return bs_repo_open_with(location, NULL, out, err);
}

int bs_repo_init(const char *location, int *existed, struct bs_repo **out, struct bs_err *err)
{
	return bs_repo_init_with(location, NULL, existed, out, err);
}

int bs_repo_init_with(const char *location, const struct bs_repo_settings *set, int *existed,
		      struct bs_repo **out, struct bs_err *err)
{
	struct bs_repo *r;
	const char *path;

	if (repo_new(location, &r, &path, err) < 0)
		return -1;
	if (set && set->lease_ttl_ms > 0)
		r->lock_ttl_ms = set->lease_ttl_ms;
	if (r->ops->init(r, path, set, existed, err) < 0) {
		repo_free(r);
		return -1;
	}
	*out = r;
	return 0;
}

void bs_repo_close(struct bs_repo *r)
{
	struct bs_repo_lease *l, *next;
	struct bs_err e;

	if (!r)
		return;
	bs_repo_unlock(r);
	/* leases the caller did not release: let go of them in the store, and
	 * leave the structs to their owner's bs_repo_lease_release */
	for (l = r->leases; l; l = next) {
		next = l->next;
		bs_err_init(&e);
		r->ops->lease_release(r, l, &e);
		l->priv = NULL;
		l->repo = NULL;
		l->next = NULL;
	}
	r->ops->close(r);
	repo_free(r);
}

const char *bs_repo_location(const struct bs_repo *r)
{
	return r->location;
}

const char *bs_repo_scheme(const struct bs_repo *r)
{
	return r->ops->scheme;
}

unsigned bs_repo_features(const struct bs_repo *r)
{
	return r->ops->features;
}

/* ---- the key grammar (repo.h) ---- */

static int key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
	       c == '_' || c == '-';
}

/* The names a backend keeps for itself (local: tmp/, leases/, lock, the
 * marker) are never keys, whatever the backend. */
static const char *const reserved[] = { "tmp", "leases", "lock", "backstop-repo.json" };

static const char *key_problem(const char *key, int prefix)
{
	const char *p, *part = key;
	size_t i, n = strlen(key);

	if (n == 0)
		return prefix ? NULL : "it is empty";
	if (n > BS_REPO_KEY_MAX)
		return "it is longer than 512 bytes";
	if (key[0] == '/')
		return "it starts with '/'";
	if (strstr(key, ".."))
		return "it contains '..'";
	for (p = key; *p; p++) {
		if (*p == '/') {
			if (p == part)
				return "it has an empty part ('//')";
			part = p + 1;
			continue;
		}
		if (!key_char(*p))
			return "it holds a character other than letters, digits, '.', '_', '-' and '/'";
		if (p == part && *p == '.')
			return "a part starts with '.'";
	}
	if (!prefix && key[n - 1] == '/')
		return "it ends with '/'";
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		size_t rl = strlen(reserved[i]);
		if (strncmp(key, reserved[i], rl) == 0 && (key[rl] == '\0' || key[rl] == '/'))
			return "it names a place the repository keeps for itself";
	}
	return NULL;
}

static int check(const char *key, int prefix, struct bs_err *err)
{
	const char *why = key ? key_problem(key, prefix) : "it is missing";

	if (!why)
		return 0;
	bs_err_set(err, BS_ERR_INTERNAL, "invalid repository %s '%s': %s", prefix ? "prefix" : "key",
		   key ? key : "", why);
	return -1;
}

int bs_repo_check_key(const char *key, struct bs_err *err)
{
	return check(key, 0, err);
}

/* ---- objects ---- */

int bs_repo_stat(struct bs_repo *r, const char *key, struct bs_repo_stat *st, struct bs_err *err)
{
	memset(st, 0, sizeof(*st));
	if (check(key, 0, err) < 0)
		return -1;
	return r->ops->stat(r, key, st, err);
}

static int keep_lease(struct bs_repo *r, struct bs_err *err);

/* The stream callers get around a backend's get: reading keeps the
 * handle's lease too (a drill reads for a long time and writes little). */
struct get_wrap {
	struct bs_repo *r;
	struct bs_rstream *in;
};

static ssize_t wrap_read(void *p, void *buf, size_t len, struct bs_err *err)
{
	struct get_wrap *w = p;

	if (keep_lease(w->r, err) < 0)
		return -1;
	return bs_rstream_read(w->in, buf, len, err);
}

static void wrap_read_free(void *p)
{
	struct get_wrap *w = p;

	bs_rstream_free(w->in);
	free(w);
}

static const struct bs_rstream_ops get_wrap_ops = { wrap_read, wrap_read_free };

int bs_repo_get_range(struct bs_repo *r, const char *key, uint64_t offset, uint64_t length,
		      struct bs_rstream **out, struct bs_err *err)
{
	struct get_wrap *w;

	*out = NULL;
	if (check(key, 0, err) < 0)
		return -1;
	if (!(w = calloc(1, sizeof(*w))))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	w->r = r;
	if (r->ops->get(r, key, offset, length, &w->in, err) < 0) {
		free(w);
		return -1;
	}
	*out = bs_rstream_new(&get_wrap_ops, w); /* frees w (and its stream) on failure */
	if (!*out)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	return 0;
}

int bs_repo_get(struct bs_repo *r, const char *key, struct bs_rstream **out, struct bs_err *err)
{
	return bs_repo_get_range(r, key, 0, BS_REPO_TO_END, out, err);
}

/* The handle's repository lease is renewed while its holder reads or
 * writes, once half its TTL has passed: a long snap or drill keeps it
 * without a timer.  Where the store ties the lease to the holder's life
 * (BS_REPO_F_LEASE) only the record for operators is refreshed, and a
 * failure there stops nothing.  Streams of one handle may be read on
 * several threads: one renews, the others go on. */
static int renew_due(const struct bs_repo_lease *l)
{
	struct timespec ts;
	int64_t now, until = l->expires_ms ? l->expires_ms : (int64_t)l->expires * 1000;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	return now >= until - l->ttl_ms / 2;
}

static int keep_lease(struct bs_repo *r, struct bs_err *err)
{
	struct bs_repo_lease *l = r->lock;
	struct bs_err e2;
	int rc = 0;

	if (!l || !renew_due(l))
		return 0;
	if (pthread_mutex_trylock(&r->lease_mu) != 0)
		return 0;
	bs_err_init(&e2);
	if (renew_due(l) && bs_repo_lease_renew(l, &e2) < 0 &&
	    !(r->ops->features & BS_REPO_F_LEASE)) {
		*err = e2;
		rc = -1;
	}
	pthread_mutex_unlock(&r->lease_mu);
	return rc;
}

/* The stream callers get around a backend's put. */
struct put_wrap {
	struct bs_repo *r;
	const struct bs_repo_put_ops *ops;
	void *priv;
	int ended; /* finished or aborted */
};

static int wrap_write(void *p, const void *buf, size_t len, struct bs_err *err)
{
	struct put_wrap *w = p;

	if (keep_lease(w->r, err) < 0)
		return -1;
	return w->ops->write(w->priv, buf, len, err);
}

static int wrap_finish(void *p, struct bs_err *err)
{
	struct put_wrap *w = p;

	w->ended = 1;
	return w->ops->finish(w->priv, err);
}

static void wrap_free(void *p)
{
	struct put_wrap *w = p;

	w->ops->free(w->priv);
	free(w);
}

static const struct bs_wstream_ops wrap_ops = { wrap_write, wrap_finish, wrap_free };

int bs_repo_put_with(struct bs_repo *r, const char *key, const struct bs_repo_put_opts *opts,
		     struct bs_wstream **out, struct bs_err *err)
{
	static const struct bs_repo_put_opts none;
	struct put_wrap *w;

	*out = NULL;
	if (check(key, 0, err) < 0)
		return -1;
	w = calloc(1, sizeof(*w));
	if (!w)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	w->r = r;
	if (r->ops->put(r, key, opts ? opts : &none, &w->ops, &w->priv, err) < 0) {
		free(w);
		return -1;
	}
	*out = bs_wstream_new(&wrap_ops, w); /* frees w on failure */
	if (!*out)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	return 0;
}

int bs_repo_put(struct bs_repo *r, const char *key, struct bs_wstream **out, struct bs_err *err)
{
	return bs_repo_put_with(r, key, NULL, out, err);
}

int bs_repo_put_abort(struct bs_wstream *s, struct bs_err *err)
{
	struct put_wrap *w;
	int rc = 0;

	if (!s)
		return 0;
	if (s->ops != &wrap_ops) {
		bs_wstream_free(s);
		return bs_err_set(err, BS_ERR_INTERNAL, "bs_repo_put_abort: not a repository put stream");
	}
	w = s->priv;
	if (!w->ended) {
		w->ended = 1;
		rc = w->ops->abort(w->priv, err);
	}
	bs_wstream_free(s);
	return rc;
}

int bs_repo_list(struct bs_repo *r, const char *prefix, bs_repo_list_fn fn, void *ud,
		 struct bs_err *err)
{
	if (check(prefix, 1, err) < 0)
		return -1;
	return r->ops->list(r, prefix, fn, ud, err);
}

int bs_repo_remove(struct bs_repo *r, const char *key, struct bs_err *err)
{
	if (check(key, 0, err) < 0)
		return -1;
	return r->ops->remove(r, key, err);
}

int bs_repo_remove_many(struct bs_repo *r, const char *const *keys, size_t n, struct bs_err *err)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (check(keys[i], 0, err) < 0)
			return -1;
	if (n == 0)
		return 0;
	if (r->ops->remove_many)
		return r->ops->remove_many(r, keys, n, err);
	for (i = 0; i < n; i++)
		if (r->ops->remove(r, keys[i], err) < 0)
			return -1;
	return 0;
}

int bs_repo_path_create(struct bs_repo *r, const char *path, struct bs_err *err)
{
	if (check(path, 0, err) < 0)
		return -1;
	return r->ops->path_create ? r->ops->path_create(r, path, err) : 0;
}

int bs_repo_list_unfinished(struct bs_repo *r, bs_repo_upload_fn fn, void *ud, struct bs_err *err)
{
	return r->ops->list_unfinished(r, fn, ud, err);
}

int bs_repo_remove_unfinished(struct bs_repo *r, const char *id, struct bs_err *err)
{
	if (!id || !*id || strstr(id, "..") || id[0] == '/')
		return bs_err_set(err, BS_ERR_INTERNAL, "invalid unfinished upload id '%s'", id ? id : "");
	return r->ops->remove_unfinished(r, id, err);
}

/* ---- leases ---- */

static int lease_name_ok(const char *name)
{
	size_t n = 0;

	if (!name || !(name[0] >= 'a' && name[0] <= 'z'))
		return 0;
	for (; name[n]; n++)
		if (!((name[n] >= 'a' && name[n] <= 'z') || (name[n] >= '0' && name[n] <= '9') ||
		      name[n] == '-'))
			return 0;
	return n <= 32;
}

int bs_repo_lease_acquire(struct bs_repo *r, const char *name, enum bs_repo_lock_mode mode,
			  int64_t ttl_ms, int wait_ms, struct bs_repo_lease **out, struct bs_err *err)
{
	struct bs_repo_lease *l;

	*out = NULL;
	if (!lease_name_ok(name))
		return bs_err_set(err, BS_ERR_INTERNAL, "invalid lease name '%s'", name ? name : "");
	if (mode != BS_REPO_LOCK_SHARED && mode != BS_REPO_LOCK_EXCLUSIVE)
		return bs_err_set(err, BS_ERR_INTERNAL, "invalid lease mode %d", (int)mode);
	if (ttl_ms <= 0)
		ttl_ms = BS_REPO_LEASE_TTL_MS;
	l = calloc(1, sizeof(*l));
	if (!l)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->mode = mode;
	l->ttl_ms = ttl_ms;
	if (r->ops->lease_acquire(r, l, wait_ms, err) < 0) {
		free(l);
		return -1;
	}
	l->repo = r;
	l->next = r->leases;
	r->leases = l;
	*out = l;
	return 0;
}

int bs_repo_lease_renew(struct bs_repo_lease *l, struct bs_err *err)
{
	if (!l || !l->repo)
		return bs_err_set(err, BS_ERR_LOCKED, "lease '%s' is no longer held", l ? l->name : "");
	return l->repo->ops->lease_renew(l->repo, l, err);
}

int bs_repo_lease_release(struct bs_repo_lease *l, struct bs_err *err)
{
	struct bs_repo *r;
	struct bs_repo_lease **pp;
	int rc = 0;

	if (!l)
		return 0;
	r = l->repo;
	if (r) {
		for (pp = &r->leases; *pp; pp = &(*pp)->next)
			if (*pp == l) {
				*pp = l->next;
				break;
			}
		rc = r->ops->lease_release(r, l, err);
	}
	free(l);
	return rc;
}

time_t bs_repo_lease_expires(const struct bs_repo_lease *l)
{
	return l ? l->expires : 0;
}

int bs_repo_lock(struct bs_repo *r, enum bs_repo_lock_mode mode, int wait_ms, struct bs_err *err)
{
	if (r->lock)
		return 0;
	return bs_repo_lease_acquire(r, BS_REPO_LEASE_NAME, mode, r->lock_ttl_ms, wait_ms, &r->lock, err);
}

void bs_repo_unlock(struct bs_repo *r)
{
	struct bs_err e;

	if (!r || !r->lock)
		return;
	bs_err_init(&e);
	bs_repo_lease_release(r->lock, &e);
	r->lock = NULL;
}

/* ---- whole small objects ---- */

static int put_bytes(struct bs_repo *r, const char *key, const void *buf, size_t len, int create_only,
		     struct bs_err *err)
{
	struct bs_repo_put_opts o = { create_only, len };
	struct bs_wstream *w = NULL;
	int rc = -1;

	if (bs_repo_put_with(r, key, &o, &w, err) < 0)
		return -1;
	if (bs_wstream_write(w, buf, len, err) == 0 && bs_wstream_finish(w, err) == 0)
		rc = 0;
	bs_wstream_free(w);
	if (rc < 0)
		bs_err_prefix(err, "unable to write '%s'", key);
	return rc;
}

int bs_repo_put_bytes(struct bs_repo *r, const char *key, const void *buf, size_t len, struct bs_err *err)
{
	return put_bytes(r, key, buf, len, 0, err);
}

int bs_repo_create_bytes(struct bs_repo *r, const char *key, const void *buf, size_t len, struct bs_err *err)
{
	return put_bytes(r, key, buf, len, 1, err);
}

int bs_repo_get_bytes(struct bs_repo *r, const char *key, size_t max, char **buf, size_t *len,
		      struct bs_err *err)
{
	struct bs_rstream *s = NULL;
	char *b = NULL;
	size_t n = 0, cap = 0;
	int rc = -1;

	*buf = NULL;
	*len = 0;
	if (bs_repo_get(r, key, &s, err) < 0)
		return -1;
	for (;;) {
		ssize_t got;
		if (n + 4096 + 1 > cap) {
			char *nb;
			cap = cap ? cap * 2 : 8192;
			nb = realloc(b, cap);
			if (!nb) {
				bs_err_set(err, BS_ERR_NOMEM, "out of memory");
				goto out;
			}
			b = nb;
		}
		got = bs_rstream_read(s, b + n, cap - n - 1, err);
		if (got < 0) {
			bs_err_prefix(err, "unable to read '%s'", key);
			goto out;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n > max) {
			bs_err_set(err, BS_ERR_FORMAT, "'%s' is larger than %zu bytes", key, max);
			goto out;
		}
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	b = NULL;
	rc = 0;
out:
	free(b);
	bs_rstream_free(s);
	return rc;
}

/* ---- many small objects: a bounded pool of threads ---- */

struct many {
	struct bs_repo *r;
	struct bs_repo_fetch *v;
	size_t n, max;
	atomic_size_t next;
};

static void fetch_one(struct many *m, size_t i)
{
	struct bs_repo_fetch *f = &m->v[i];

	bs_err_init(&f->err);
	f->buf = NULL;
	f->len = 0;
	f->rc = 0;
	if (f->key)
		f->rc = bs_repo_get_bytes(m->r, f->key, m->max, &f->buf, &f->len, &f->err);
}

static void *many_worker(void *arg)
{
	struct many *m = arg;
	size_t i;

	while ((i = atomic_fetch_add(&m->next, 1)) < m->n)
		fetch_one(m, i);
	return NULL;
}

int bs_repo_get_many(struct bs_repo *r, struct bs_repo_fetch *v, size_t n, size_t max,
		     struct bs_err *err)
{
	struct many m = { r, v, n, max, 0 };
	pthread_t tid[BS_REPO_GET_MANY_JOBS];
	sigset_t all, old;
	size_t i, k, started = 0;

	if (n && !v)
		return bs_err_set(err, BS_ERR_INTERNAL, "bs_repo_get_many: no entries");
	k = n < BS_REPO_GET_MANY_JOBS ? n : BS_REPO_GET_MANY_JOBS;
	if (k > 1) {
		/* the workers take no signals: those stay with the caller's threads */
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		for (i = 1; i < k; i++) {
			if (pthread_create(&tid[started], NULL, many_worker, &m) != 0)
				break; /* fewer threads; the work still gets done */
			started++;
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	many_worker(&m);
	for (i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	return 0;
}

int bs_repo_keys_add(struct bs_repo_keys *k, const char *key, struct bs_err *err)
{
	if (k->n == k->cap) {
		size_t nc = k->cap ? k->cap * 2 : 32;
		char **nv = realloc(k->v, nc * sizeof(*nv));
		if (!nv)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		k->v = nv, k->cap = nc;
	}
	if (!(k->v[k->n] = strdup(key)))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	k->n++;
	return 0;
}

void bs_repo_keys_release(struct bs_repo_keys *k)
{
	for (size_t i = 0; k && i < k->n; i++)
		free(k->v[i]);
	if (k) {
		free(k->v);
		memset(k, 0, sizeof(*k));
	}
}
