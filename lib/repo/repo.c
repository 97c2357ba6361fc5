/* repo.c - backend table and the convenience calls of repo.h */
#include "repo/repo.h"

#include <stdlib.h>
#include <string.h>

#include "repo/repo_int.h"

static const struct bs_repo_ops *const backends[] = {
	&bs_repo_local_ops,
};

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
	if (!ops) {
		bs_err_set(err, BS_ERR_CONFIG, "unsupported repository '%s'", location);
		bs_err_hint(err, "use a local directory path");
		return -1;
	}
	r = calloc(1, sizeof(*r));
	if (!r || !(r->location = strdup(location))) {
		free(r);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	r->ops = ops;
	*out = r;
	return 0;
}

int bs_repo_open(const char *location, struct bs_repo **out, struct bs_err *err)
{
	struct bs_repo *r;
	const char *path;

	if (repo_new(location, &r, &path, err) < 0)
		return -1;
	if (r->ops->open(r, path, err) < 0) {
		free(r->location);
		free(r);
		return -1;
	}
	*out = r;
	return 0;
}

int bs_repo_init(const char *location, int *existed, struct bs_repo **out, struct bs_err *err)
{
	struct bs_repo *r;
	const char *path;

	if (repo_new(location, &r, &path, err) < 0)
		return -1;
	if (r->ops->init(r, path, existed, err) < 0) {
		free(r->location);
		free(r);
		return -1;
	}
	*out = r;
	return 0;
}

void bs_repo_close(struct bs_repo *r)
{
	if (!r)
		return;
	r->ops->unlock(r);
	r->ops->close(r);
	free(r->location);
	free(r);
}

int bs_repo_put(struct bs_repo *r, const char *key, struct bs_wstream **out, struct bs_err *err)
{
	return r->ops->put(r, key, out, err);
}

int bs_repo_get(struct bs_repo *r, const char *key, struct bs_rstream **out, struct bs_err *err)
{
	return r->ops->get(r, key, out, err);
}

int bs_repo_list(struct bs_repo *r, const char *prefix, bs_repo_list_fn fn, void *ud,
		 struct bs_err *err)
{
	return r->ops->list(r, prefix, fn, ud, err);
}

int bs_repo_remove(struct bs_repo *r, const char *key, struct bs_err *err)
{
	return r->ops->remove(r, key, err);
}

int bs_repo_lock(struct bs_repo *r, enum bs_repo_lock_mode mode, int wait_ms, struct bs_err *err)
{
	return r->ops->lock(r, mode, wait_ms, err);
}

void bs_repo_unlock(struct bs_repo *r)
{
	r->ops->unlock(r);
}

int bs_repo_put_bytes(struct bs_repo *r, const char *key, const void *buf, size_t len,
		      struct bs_err *err)
{
	struct bs_wstream *w = NULL;
	int rc = -1;

	if (bs_repo_put(r, key, &w, err) < 0)
		return -1;
	if (bs_wstream_write(w, buf, len, err) == 0 && bs_wstream_finish(w, err) == 0)
		rc = 0;
	bs_wstream_free(w);
	if (rc < 0)
		bs_err_prefix(err, "unable to write '%s'", key);
	return rc;
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
