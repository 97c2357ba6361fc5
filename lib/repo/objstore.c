/* objstore.c - what every HTTP object store backend shares (objstore.h) */
#include "repo/objstore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/secret.h"
#include "repo/object_lease.h"

void objstore_setup(struct objstore *os, const struct objstore_driver *drv, const struct bs_repo_settings *set,
		    uint64_t part_default, uint64_t part_min)
{
	struct bs_http_opts o;

	os->drv = drv;
	bs_http_opts_default(&o);
	/* every client of the handle: the retry limits of the settings, room
	 * for a read block in memory, the parts of an upload in flight */
	if (set && set->retry_max >= 0)
		o.retry.max_attempts = set->retry_max + 1;
	if (set && set->retry_time_ms > 0)
		o.retry.budget_ms = (long)set->retry_time_ms;
	if (set && set->stall_ms > 0) /* whole seconds: libcurl's unit */
		o.low_speed_secs = (long)((set->stall_ms + 999) / 1000);
	o.max_parallel = OS_PARTS_IN_FLIGHT + 1;
	o.max_body = OS_READ_BLOCK + (1u << 20);
	bs_http_pool_init(&os->pool, &o);
	os->part_size = set && set->part_size ? set->part_size : part_default;
	if (os->part_size < part_min)
		os->part_size = part_min;
	if (os->part_size > drv->part_limit)
		os->part_size = drv->part_limit;
}

void objstore_release(struct objstore *os)
{
	bs_http_pool_release(&os->pool);
	free(os->prefix);
	free(os->where);
	os->prefix = os->where = NULL;
}

/* ---- location ---- */

static int loopback_host(const char *h, size_t n)
{
	return (n == 9 && strncmp(h, "localhost", 9) == 0) || (n >= 4 && strncmp(h, "127.", 4) == 0) ||
	       (n == 5 && strncmp(h, "[::1]", 5) == 0);
}

int objstore_endpoint(const char *endpoint, const char *loc, const char **host, size_t *hostlen,
		      struct bs_err *err)
{
	const char *h;
	size_t hl;

	if (strncmp(endpoint, "https://", 8) == 0)
		h = endpoint + 8;
	else if (strncmp(endpoint, "http://", 7) == 0)
		h = endpoint + 7;
	else
		return bs_err_set(err, BS_ERR_CONFIG, "repository '%s': endpoint '%s' is not an http(s) URL", loc,
				  endpoint);
	hl = strcspn(h, "/?#");
	if (hl == 0 || memchr(h, '@', hl) || strchr(endpoint, '?') || strchr(endpoint, '#'))
		return bs_err_set(err, BS_ERR_CONFIG, "repository '%s': endpoint '%s' has no host (or has user "
						      "info or a query)", loc, endpoint);
	if (endpoint[4] == ':') { /* http:// */
		char hp[256];
		const char *colon;
		size_t n;
		snprintf(hp, sizeof(hp), "%.*s", (int)hl, h);
		colon = hp[0] == '[' ? strchr(hp, ']') : strchr(hp, ':');
		n = colon && hp[0] != '[' ? (size_t)(colon - hp) : colon ? (size_t)(colon - hp + 1) : strlen(hp);
		if (!loopback_host(hp, n)) {
			bs_err_set(err, BS_ERR_CONFIG, "repository '%s': refusing plain http to '%.*s': credentials "
						       "and data would cross the network unencrypted", loc, (int)hl, h);
			bs_err_hint(err, "use an https:// endpoint (http:// is accepted on loopback only)");
			return -1;
		}
	}
	*host = h;
	*hostlen = hl;
	return 0;
}

int objstore_query_param(const char *q, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);

	while (q && *q) {
		const char *amp = strchr(q, '&'), *end = amp ? amp : q + strlen(q);
		if ((size_t)(end - q) > nl && strncmp(q, name, nl) == 0 && q[nl] == '=') {
			snprintf(out, n, "%.*s", (int)(end - q - nl - 1), q + nl + 1);
			return 1;
		}
		q = amp ? amp + 1 : NULL;
	}
	return 0;
}

int objstore_set_prefix(struct objstore *os, const char *p, size_t n, const char *loc, struct bs_err *err)
{
	char prefix[BS_REPO_KEY_MAX + 2];
	struct bs_err e;

	while (n && p[n - 1] == '/')
		n--;
	if (n > BS_REPO_KEY_MAX)
		return bs_err_set(err, BS_ERR_CONFIG, "repository '%s': prefix too long", loc);
	snprintf(prefix, sizeof(prefix), "%.*s", (int)n, p);
	bs_err_init(&e);
	if (n && bs_repo_check_key(prefix, &e) < 0)
		return bs_err_set(err, BS_ERR_CONFIG, "repository '%s': prefix '%s' is not valid: %s", loc, prefix,
				  e.msg);
	if (n)
		strcat(prefix, "/");
	if (!(os->prefix = strdup(prefix)))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	return 0;
}

/* ---- requests ---- */

void os_req_release(struct os_req *r)
{
	bs_http_req_release(&r->http);
	if (r->token)
		bs_secret_free(r->token);
	r->token = NULL;
	bs_secret_wipe(r->auth, sizeof(r->auth));
	bs_secret_wipe(r->url, sizeof(r->url));
}

struct bs_http *objstore_client(struct objstore *os, struct bs_err *err)
{
	return bs_http_pool_get(&os->pool, err);
}

void objstore_client_put(struct objstore *os, struct bs_http *c)
{
	bs_http_pool_put(&os->pool, c);
}

int objstore_run(struct objstore *os, struct os_req *r, const char *what, const char *key, struct bs_err *err)
{
	struct bs_http *c = objstore_client(os, err);
	struct bs_err e;
	int rc;

	if (!c)
		return -1;
	bs_err_init(&e);
	rc = bs_http_do(c, &r->http, &e);
	objstore_client_put(os, c);
	return rc < 0 ? os->drv->fail(os, &r->http.res, what, key, err) : 0;
}

int objstore_simple(struct objstore *os, const char *method, const char *key, const char *const *extra,
		    const void *body, size_t len, struct bs_err *err)
{
	struct os_req q;
	int rc = os->drv->prepare(os, &q, method, key, extra, body, len, err);

	if (rc == 0)
		rc = objstore_run(os, &q, method, key, err);
	os_req_release(&q);
	return rc;
}

int objstore_error(struct objstore *os, const struct bs_http_result *res, const char *what, const char *key,
		   const struct bs_xml_error *x, const char *missing_container, struct bs_err *err)
{
	const char *name = os->drv->name;
	int code = BS_ERR_NET;

	if (res->status == 0) { /* no answer: the transport's own message */
		*err = res->err;
		return bs_err_prefix(err, "%s %s '%s' in %s", name, what, key ? key : "", os->where);
	}
	if (res->status == 404 && strcmp(x->code, missing_container) != 0)
		code = BS_ERR_NOT_FOUND;
	else if (res->status == 412)
		code = BS_ERR_EXISTS;
	if (code == BS_ERR_NOT_FOUND)
		bs_err_set(err, code, "'%s' not found in %s", key ? key : "", os->where);
	else if (code == BS_ERR_EXISTS)
		bs_err_set(err, code, "'%s' already exists in %s", key ? key : "", os->where);
	else
		bs_err_set(err, code, "%s %s%s%s%s in %s failed: HTTP %ld%s%s%s%s", name, what, key ? " '" : "",
			   key ? key : "", key ? "'" : "", os->where, res->status, x->code[0] ? " " : "",
			   x->code[0] ? x->code : res->status == 403 ? " (access denied)" : "",
			   x->message[0] ? ": " : "", x->message);
	if (x->request_id[0])
		bs_err_detail(err, "request id %s%s", x->request_id,
			      res->transient ? "; the error persisted through the retries" : "");
	if (strcmp(x->code, missing_container) == 0)
		bs_err_hint(err, "create the %s first; backstop never creates %ss", os->drv->container_word,
			    os->drv->container_word);
	return -1;
}

time_t objstore_http_date(const char *v)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!v || !strptime(v, "%a, %d %b %Y %H:%M:%S", &tm))
		return 0;
	return timegm(&tm);
}

time_t objstore_iso_date(const char *v)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!v || !strptime(v, "%Y-%m-%dT%H:%M:%S", &tm))
		return 0;
	return timegm(&tm);
}

int objstore_head(struct objstore *os, const char *key, struct bs_repo_stat *out, struct bs_err *err)
{
	struct bs_repo_stat dummy, *st = out ? out : &dummy;
	struct os_req q;
	const char *v;
	int rc;

	memset(st, 0, sizeof(*st));
	rc = os->drv->prepare(os, &q, "HEAD", key, NULL, NULL, 0, err);
	if (rc == 0)
		rc = objstore_run(os, &q, "HEAD", key, err);
	if (rc == 0) {
		st->exists = 1;
		v = bs_http_header(&q.http.res, "Content-Length");
		st->size = v ? strtoull(v, NULL, 10) : 0;
		st->mtime = objstore_http_date(bs_http_header(&q.http.res, "Last-Modified"));
	}
	os_req_release(&q);
	return rc;
}

int objstore_delete(struct objstore *os, const char *key, struct bs_err *err)
{
	int rc = objstore_simple(os, "DELETE", key, NULL, NULL, 0, err);

	if (rc < 0 && err->code == BS_ERR_NOT_FOUND) {
		bs_err_init(err);
		rc = 0;
	}
	return rc;
}

int objstore_small_put(struct objstore *os, const char *key, const void *buf, size_t len, struct bs_err *err)
{
	return objstore_simple(os, "PUT", key, os->drv->object_headers(os, 1), buf, len, err);
}

int objstore_small_get(struct objstore *os, const char *key, char **buf, size_t *len, struct bs_err *err)
{
	struct os_req q;
	int rc = os->drv->prepare(os, &q, "GET", key, NULL, NULL, 0, err);

	*buf = NULL;
	if (rc == 0)
		rc = objstore_run(os, &q, "GET", key, err);
	if (rc == 0) {
		*buf = q.http.res.body; /* NUL-terminated, ours now */
		*len = q.http.res.body_len;
		q.http.res.body = NULL;
		if (!*buf && !(*buf = calloc(1, 1)))
			rc = bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	os_req_release(&q);
	return rc;
}

int objstore_internal_key(const char *k)
{
	return strncmp(k, "tmp/", 4) == 0 || strncmp(k, "leases/", 7) == 0 || strcmp(k, OS_REPO_MARKER) == 0 ||
	       strcmp(k, "lock") == 0;
}

/* ---- open, init, close ---- */

static int count_key(void *ud, const struct bs_repo_entry *e, struct bs_err *err)
{
	(void)e;
	(void)err;
	(*(int *)ud)++;
	return 1; /* one is enough */
}

static void drop(struct bs_repo *r)
{
	struct objstore *os = r->priv;

	if (os)
		os->drv->destroy(os);
	r->priv = NULL;
}

int objstore_open(struct bs_repo *r, const struct objstore_driver *drv, const char *location,
		  const struct bs_repo_settings *set, struct bs_err *err)
{
	struct objstore *os = drv->create(location, set, err);
	int n = 0;

	if (!os)
		return -1;
	r->priv = os;
	if (objstore_head(os, OS_REPO_MARKER, NULL, err) == 0)
		return 0;
	/* a HEAD says 404 for a missing bucket too: a listing tells them apart */
	if (err->code == BS_ERR_NOT_FOUND) {
		bs_err_init(err);
		if (drv->list(os, "", 0, count_key, &n, err) >= 0 || err->code == BS_ERR_NOT_FOUND) {
			bs_err_set(err, BS_ERR_NOT_FOUND, "'%s' is not a backstop repository (no %s%s in %s)",
				   location, os->prefix, OS_REPO_MARKER, os->where);
			bs_err_hint(err, "create one with 'backstop repo init --repo %s'", location);
		}
	}
	drop(r);
	return -1;
}

int objstore_init(struct bs_repo *r, const struct objstore_driver *drv, const char *location,
		  const struct bs_repo_settings *set, int *existed, struct bs_err *err)
{
	struct objstore *os = drv->create(location, set, err);
	char body[256], ts[32];
	time_t now = time(NULL);
	struct tm tm;
	int n = 0;

	if (!os)
		return -1;
	r->priv = os;
	*existed = 0;
	if (objstore_head(os, OS_REPO_MARKER, NULL, err) == 0) {
		*existed = 1;
		return 0;
	}
	if (err->code != BS_ERR_NOT_FOUND)
		goto fail;
	bs_err_init(err);
	if (drv->list(os, "", 0, count_key, &n, err) < 0)
		goto fail;
	if (n) {
		bs_err_set(err, BS_ERR_REFUSED, "'%s' is not empty and not a backstop repository", location);
		bs_err_hint(err, "use an empty prefix of the %s for the repository", drv->container_word);
		goto fail;
	}
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(body, sizeof(body), "{\"format\": \"backstop-repo\", \"version\": 1, \"created\": \"%s\"}\n", ts);
	if (objstore_small_put(os, OS_REPO_MARKER, body, (size_t)n, err) == 0)
		return 0;
	bs_err_prefix(err, "unable to initialize repository '%s'", location);
fail:
	drop(r);
	return -1;
}

void objstore_close(struct bs_repo *r)
{
	drop(r);
}

int objstore_stat(struct bs_repo *r, const char *key, struct bs_repo_stat *st, struct bs_err *err)
{
	return objstore_head(r->priv, key, st, err);
}

int objstore_list(struct bs_repo *r, const char *prefix, bs_repo_list_fn fn, void *ud, struct bs_err *err)
{
	struct objstore *os = r->priv;

	return os->drv->list(os, prefix, 0, fn, ud, err);
}

int objstore_remove(struct bs_repo *r, const char *key, struct bs_err *err)
{
	return objstore_delete(r->priv, key, err);
}

/* ---- unfinished uploads: the markers under tmp/uploads/ ---- */

struct unfinished {
	struct objstore *os;
	bs_repo_upload_fn fn;
	void *ud;
};

static int one_marker(void *ud, const struct bs_repo_entry *e, struct bs_err *err)
{
	struct unfinished *u = ud;
	char key[BS_REPO_KEY_MAX + 1] = "", *body = NULL;
	struct bs_repo_upload up;
	size_t len;

	if (strncmp(e->key, OS_UPLOADS, strlen(OS_UPLOADS)) != 0)
		return 0;
	if (objstore_small_get(u->os, e->key, &body, &len, err) < 0) {
		if (err->code != BS_ERR_NOT_FOUND)
			return -1;
		bs_err_init(err); /* finished meanwhile */
		return 0;
	}
	sscanf(body, "%512s", key); /* "<key>\n<upload id or ->\n" */
	free(body);
	up.id = e->key;
	up.key = key[0] ? key : NULL;
	up.size = 0;
	up.started = e->mtime;
	return u->fn(u->ud, &up, err);
}

int objstore_list_unfinished(struct bs_repo *r, bs_repo_upload_fn fn, void *ud, struct bs_err *err)
{
	struct unfinished u = { r->priv, fn, ud };

	return u.os->drv->list(u.os, OS_UPLOADS, 1, one_marker, &u, err);
}

/* Abort the upload the marker names (S3: its multipart upload; Azure: the
 * uncommitted blocks of its key), then remove the marker (which also makes a writer still running fail
 * at its commit). */
int objstore_remove_unfinished(struct bs_repo *r, const char *id, struct bs_err *err)
{
	struct objstore *os = r->priv;
	char key[BS_REPO_KEY_MAX + 1] = "", upload[1024] = "", *body = NULL;
	struct bs_err e;
	size_t len;

	if (strncmp(id, OS_UPLOADS, strlen(OS_UPLOADS)) != 0 || strchr(id + strlen(OS_UPLOADS), '/'))
		return bs_err_set(err, BS_ERR_INTERNAL, "'%s' is not an unfinished upload of %s", id, os->where);
	if (objstore_small_get(os, id, &body, &len, err) < 0) {
		if (err->code != BS_ERR_NOT_FOUND)
			return -1;
		bs_err_init(err);
		return 0;
	}
	sscanf(body, "%512s %1023s", key, upload);
	free(body);
	bs_err_init(&e);
	if (os->drv->abort && key[0] && bs_repo_check_key(key, &e) == 0 && /* a marker is data: check it */
	    os->drv->abort(os, key, upload[0] && strcmp(upload, "-") != 0 ? upload : NULL, err) < 0)
		return -1;
	return objstore_delete(os, id, err);
}

/* ---- leases: objects under leases/ (object_lease.c) ---- */

static int lease_put(void *ctx, const char *key, const void *buf, size_t len, struct bs_err *err)
{
	return objstore_small_put(ctx, key, buf, len, err);
}

static int lease_get(void *ctx, const char *key, char **buf, size_t *len, struct bs_err *err)
{
	return objstore_small_get(ctx, key, buf, len, err);
}

static int lease_list(void *ctx, const char *prefix, bs_repo_list_fn fn, void *ud, struct bs_err *err)
{
	struct objstore *os = ctx;

	return os->drv->list(os, prefix, 1, fn, ud, err);
}

static int lease_remove(void *ctx, const char *key, struct bs_err *err)
{
	return objstore_delete(ctx, key, err);
}

static int lease_gate_enter(void *ctx, const char *name, char token[64], struct bs_err *err)
{
	struct objstore *os = ctx;

	return os->drv->gate_enter(os, name, token, err);
}

static int lease_gate_leave(void *ctx, const char *name, const char *token, struct bs_err *err)
{
	struct objstore *os = ctx;

	return os->drv->gate_leave(os, name, token, err);
}

static void store_of(struct bs_repo *r, struct bs_object_store *st)
{
	struct objstore *os = r->priv;
	int gate = os->drv->gate_enter && os->drv->gate_leave;

	st->ctx = os;
	st->put = lease_put;
	st->get = lease_get;
	st->list = lease_list;
	st->remove = lease_remove;
	st->gate_enter = gate ? lease_gate_enter : NULL;
	st->gate_leave = gate ? lease_gate_leave : NULL;
	st->where = os->where;
}

int objstore_lease_acquire(struct bs_repo *r, struct bs_repo_lease *l, int wait_ms, struct bs_err *err)
{
	struct bs_object_store st;

	store_of(r, &st);
	return bs_object_lease_acquire(&st, l, wait_ms, err);
}

int objstore_lease_renew(struct bs_repo *r, struct bs_repo_lease *l, struct bs_err *err)
{
	struct bs_object_store st;

	store_of(r, &st);
	return bs_object_lease_renew(&st, l, err);
}

int objstore_lease_release(struct bs_repo *r, struct bs_repo_lease *l, struct bs_err *err)
{
	struct bs_object_store st;

	store_of(r, &st);
	return bs_object_lease_release(&st, l, err);
}
