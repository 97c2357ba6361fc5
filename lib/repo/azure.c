/*
 * azure.c - repository in an Azure Blob Storage container.
 *
 * Location: azure://account/container[/prefix][?endpoint=URL] (the
 * 'repository:' mapping builds azure://account/container/prefix and passes
 * endpoint and sas_token_file as settings; a query in the location wins).
 * Without an endpoint the store is https://<account>.blob.core.windows.net;
 * an endpoint with a path (Azurite: http://127.0.0.1:10000/devstoreaccount1)
 * puts that path before /container/key.  An http:// endpoint is accepted
 * only on loopback: anywhere else keys and data would cross the network in
 * clear.
 *
 * Credentials: a SAS token (the sas_token_file setting), else the account
 * key in AZURE_STORAGE_KEY (Shared Key; AZURE_STORAGE_ACCOUNT, when set,
 * must name the location's account), else AZURE_STORAGE_SAS_TOKEN.  Both
 * are secrets: held by common/secret, never in a message or a log.
 *
 * Layout under the prefix: the same keys as a local repository
 * (backstop-repo.json written by init; tmp/uploads/<h>.json marks an
 * upload under way so prune finds abandoned ones - their uncommitted
 * blocks are dropped by Azure itself after a week; leases/ holds lease
 * objects).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/log.h"
#include "common/secret.h"
#include "net/xml.h"
#include "repo/azure_int.h"
#include "repo/object_lease.h"

#define MARKER "backstop-repo.json"

/* ---- location ---- */

static int loopback_host(const char *h, size_t n)
{
	return (n == 9 && strncmp(h, "localhost", 9) == 0) || (n >= 4 && strncmp(h, "127.", 4) == 0) ||
	       (n == 5 && strncmp(h, "[::1]", 5) == 0);
}

static int query_param(const char *q, const char *name, char *out, size_t n)
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

static int name_ok(const char *s, size_t min, size_t max, int hyphen)
{
	size_t n = strlen(s), i;

	if (n < min || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || (hyphen && s[i] == '-')))
			return 0;
	return s[0] != '-' && s[n - 1] != '-' && !strstr(s, "--");
}

static int set_endpoint(struct az *a, const char *endpoint, const char *loc, struct bs_err *err)
{
	char def[300];
	const char *h, *path;
	size_t hl, pl;

	if (!endpoint || !*endpoint) {
		snprintf(def, sizeof(def), "https://%s.blob.core.windows.net", a->account);
		endpoint = def;
	}
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
		char host[256];
		const char *colon;
		snprintf(host, sizeof(host), "%.*s", (int)hl, h);
		colon = host[0] == '[' ? strchr(host, ']') : strchr(host, ':');
		if (!loopback_host(host, colon && host[0] != '[' ? (size_t)(colon - host)
				   : colon ? (size_t)(colon - host + 1) : strlen(host))) {
			bs_err_set(err, BS_ERR_CONFIG, "repository '%s': refusing plain http to '%.*s': credentials "
						       "and data would cross the network unencrypted", loc, (int)hl, h);
			bs_err_hint(err, "use an https:// endpoint (http:// is accepted on loopback only)");
			return -1;
		}
	}
	path = h + hl;
	pl = strlen(path);
	while (pl && path[pl - 1] == '/')
		pl--;
	a->base = strndup(endpoint, (size_t)(h - endpoint) + hl);
	a->path0 = strndup(path, pl);
	if (asprintf(&a->where, "container '%s' of account '%s' at %.*s", a->container, a->account,
		     (int)((size_t)(h - endpoint) + hl + pl), endpoint) < 0)
		a->where = NULL;
	if (!a->base || !a->path0 || !a->where)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	return 0;
}

static int parse_location(struct az *a, const char *loc, const struct bs_repo_settings *set, struct bs_err *err)
{
	const char *p = loc + strlen("azure://"), *q = strchr(p, '?');
	size_t l = strcspn(p, "/?");
	char endpoint[512] = "", prefix[BS_REPO_KEY_MAX + 2];
	size_t pl;
	struct bs_err e;

	a->account = strndup(p, l);
	p += l;
	if (*p == '/')
		p++;
	l = strcspn(p, "/?");
	a->container = strndup(p, l);
	p += l;
	if (!a->account || !a->container)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	if (!name_ok(a->account, 3, 24, 0))
		return bs_err_set(err, BS_ERR_CONFIG, "repository '%s': '%s' is not a valid storage account name "
						      "(3 to 24 of a-z, 0-9)", loc, a->account);
	if (!name_ok(a->container, 3, 63, 1))
		return bs_err_set(err, BS_ERR_CONFIG, "repository '%s': '%s' is not a valid container name (3 to "
						      "63 of a-z, 0-9, '-')", loc, a->container);
	if (*p == '/')
		p++;
	pl = q ? (size_t)(q - p) : strlen(p);
	while (pl && p[pl - 1] == '/')
		pl--;
	if (pl > BS_REPO_KEY_MAX)
		return bs_err_set(err, BS_ERR_CONFIG, "repository '%s': prefix too long", loc);
	snprintf(prefix, sizeof(prefix), "%.*s", (int)pl, p);
	bs_err_init(&e);
	if (pl && bs_repo_check_key(prefix, &e) < 0)
		return bs_err_set(err, BS_ERR_CONFIG, "repository '%s': prefix '%s' is not valid: %s", loc, prefix,
				  e.msg);
	if (pl)
		strcat(prefix, "/");
	if (!(a->prefix = strdup(prefix)))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	if (!query_param(q ? q + 1 : NULL, "endpoint", endpoint, sizeof(endpoint)) && set && set->endpoint)
		snprintf(endpoint, sizeof(endpoint), "%s", set->endpoint);
	return set_endpoint(a, endpoint, loc, err);
}

static int set_sas(struct az *a, char *tok, struct bs_err *err)
{
	char *t = tok;

	if (*t == '?')
		t++;
	if (!*t || !strstr(t, "sig=")) {
		bs_secret_free(tok);
		bs_err_set(err, BS_ERR_CONFIG, "the SAS token for %s has no signature ('sig=')", a->where);
		bs_err_hint(err, "give the query string of a SAS URL: sv=...&sp=...&sig=...");
		return -1;
	}
	memmove(tok, t, strlen(t) + 1);
	a->sas = tok;
	return 0;
}

static int load_cred(struct az *a, const struct bs_repo_settings *set, struct bs_err *err)
{
	const char *key = getenv("AZURE_STORAGE_KEY"), *acct = getenv("AZURE_STORAGE_ACCOUNT");
	const char *sas = getenv("AZURE_STORAGE_SAS_TOKEN");
	char *tok = NULL;

	if (set && set->sas_token_file) {
		if (bs_secret_read_file(set->sas_token_file, "SAS token file", 8192, BS_SECRET_FOLLOW, &tok, NULL,
					err) < 0)
			return -1;
		return set_sas(a, tok, err);
	}
	if (key && *key) {
		if (acct && *acct && strcmp(acct, a->account) != 0) {
			bs_err_set(err, BS_ERR_CONFIG, "AZURE_STORAGE_KEY is the key of account '%s' "
						       "(AZURE_STORAGE_ACCOUNT), not of %s", acct, a->where);
			bs_err_hint(err, "set AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY for account '%s'",
				    a->account);
			return -1;
		}
		bs_secret_protect_process();
		if (bs_az_key_decode(key, &a->key, &a->keylen, err) < 0)
			return bs_err_prefix(err, "%s", "AZURE_STORAGE_KEY");
		return 0;
	}
	if (sas && *sas) {
		bs_secret_protect_process();
		if (!(tok = strdup(sas)))
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		return set_sas(a, tok, err);
	}
	bs_err_set(err, BS_ERR_CONFIG, "no Azure credentials for %s", a->where);
	bs_err_hint(err, "set AZURE_STORAGE_KEY to the account key, or 'sas_token_file' under 'repository:' "
			 "(or AZURE_STORAGE_SAS_TOKEN) to a SAS token");
	return -1;
}

static void az_free(struct az *a)
{
	if (!a)
		return;
	bs_http_pool_release(&a->pool);
	if (a->key) {
		bs_secret_wipe(a->key, a->keylen);
		free(a->key);
	}
	bs_secret_free(a->sas);
	free(a->account);
	free(a->container);
	free(a->prefix);
	free(a->base);
	free(a->path0);
	free(a->where);
	free(a);
}

/* Every client of the handle: the retry limits of the settings, room for
 * a read block in memory, the blocks of an upload in flight at once. */
static void pool_init(struct az *a)
{
	struct bs_http_opts o;

	bs_http_opts_default(&o);
	if (a->retry_max >= 0)
		o.retry.max_attempts = a->retry_max + 1;
	if (a->retry_time_ms > 0)
		o.retry.budget_ms = (long)a->retry_time_ms;
	o.max_parallel = AZ_BLOCKS_IN_FLIGHT + 1;
	o.max_body = AZ_READ_BLOCK + (1u << 20);
	bs_http_pool_init(&a->pool, &o);
}

static struct az *az_new(const char *loc, const struct bs_repo_settings *set, struct bs_err *err)
{
	struct az *a = calloc(1, sizeof(*a));

	if (!a) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		return NULL;
	}
	a->retry_max = set ? set->retry_max : -1;
	a->retry_time_ms = set ? set->retry_time_ms : 0;
	pool_init(a);
	a->block_size = set && set->part_size ? set->part_size : AZ_BLOCK_DEFAULT;
	if (a->block_size < AZ_BLOCK_MIN)
		a->block_size = AZ_BLOCK_MIN;
	if (a->block_size > AZ_BLOCK_LIMIT)
		a->block_size = AZ_BLOCK_LIMIT;
	if (parse_location(a, loc, set, err) < 0 || load_cred(a, set, err) < 0) {
		az_free(a);
		return NULL;
	}
	return a;
}

/* ---- requests ---- */

struct bs_http *az_client(struct az *a, struct bs_err *err)
{
	return bs_http_pool_get(&a->pool, err);
}

void az_client_put(struct az *a, struct bs_http *c)
{
	bs_http_pool_put(&a->pool, c);
}

int az_prepare(struct az *a, struct az_req *r, const char *method, const char *key,
	       const struct bs_az_query *q, size_t nq, const char *const *extra, const void *body,
	       size_t len, struct bs_err *err)
{
	char path[2048], target[sizeof(r->url)];
	struct bs_az_sign_in in;
	size_t nh = 0, i;
	int n;

	memset(r, 0, sizeof(*r));
	n = snprintf(path, sizeof(path), "%s/%s%s%s%s", a->path0, a->container, key ? "/" : "", key ? a->prefix : "",
		     key ? key : "");
	if (n < 0 || (size_t)n >= sizeof(path))
		return bs_err_set(err, BS_ERR_INTERNAL, "Azure request path too long for '%s'", key ? key : "");
	strcpy(r->date, "x-ms-date: ");
	bs_az_date(time(NULL), r->date + strlen(r->date));
	r->hdr[nh++] = r->date;
	r->hdr[nh++] = "x-ms-version: " BS_AZ_VERSION;
	for (i = 0; extra && extra[i] && i < 6; i++) {
		snprintf(r->extra[i], sizeof(r->extra[i]), "%s", extra[i]);
		r->hdr[nh++] = r->extra[i];
	}
	r->hdr[nh] = NULL;
	memset(&in, 0, sizeof(in));
	in.method = method;
	in.account = a->account;
	in.path = path;
	in.query = q;
	in.nquery = nq;
	in.headers = r->hdr;
	in.content_length = body ? len : 0;
	if (bs_az_target(&in, target, sizeof(target)) < 0)
		return bs_err_set(err, BS_ERR_INTERNAL, "Azure request URL too long for '%s'", key ? key : "");
	n = snprintf(r->url, sizeof(r->url), "%s%s%s%s", a->base, target, a->sas ? (nq ? "&" : "?") : "",
		     a->sas ? a->sas : "");
	if (n < 0 || (size_t)n >= sizeof(r->url))
		return bs_err_set(err, BS_ERR_INTERNAL, "Azure request URL too long for '%s'", key ? key : "");
	if (a->key) {
		strcpy(r->auth, "Authorization: ");
		if (bs_az_sign(&in, a->key, a->keylen, r->auth + strlen(r->auth), sizeof(r->auth) - strlen(r->auth),
			       err) < 0)
			return -1;
		r->hdr[nh++] = r->auth;
		r->hdr[nh] = NULL;
	}
	r->http.method = method;
	r->http.url = r->url;
	r->http.headers = r->hdr;
	r->http.body = body;
	r->http.body_len = body ? len : 0;
	return 0;
}

void az_req_release(struct az_req *r)
{
	bs_http_req_release(&r->http);
	bs_secret_wipe(r->auth, sizeof(r->auth));
	bs_secret_wipe(r->url, sizeof(r->url));
}

int az_fail(struct az *a, const struct bs_http_result *res, const char *what, const char *key,
	    struct bs_err *err)
{
	struct bs_xml_error x;
	struct bs_err e;
	const char *hc, *rid;
	char *nl;
	int code = BS_ERR_NET;

	memset(&x, 0, sizeof(x));
	bs_err_init(&e);
	if (res->status == 0) { /* no answer: the transport's own message */
		*err = res->err;
		return bs_err_prefix(err, "Azure %s '%s' in %s", what, key ? key : "", a->where);
	}
	if (res->body && res->body_len)
		bs_xml_error_parse(res->body, res->body_len, &x, &e);
	/* HEAD answers carry no body: the code is in a header */
	if (!x.code[0] && (hc = bs_http_header(res, "x-ms-error-code")))
		snprintf(x.code, sizeof(x.code), "%s", hc);
	if ((nl = strchr(x.message, '\n'))) /* "...\nRequestId:...\nTime:..." */
		*nl = '\0';
	if ((rid = bs_http_header(res, "x-ms-request-id")))
		snprintf(x.request_id, sizeof(x.request_id), "%s", rid);
	if (res->status == 404 && strcmp(x.code, "ContainerNotFound") != 0)
		code = BS_ERR_NOT_FOUND;
	else if (res->status == 412 || (res->status == 409 && strcmp(x.code, "BlobAlreadyExists") == 0))
		code = BS_ERR_EXISTS;
	if (code == BS_ERR_NOT_FOUND)
		bs_err_set(err, code, "'%s' not found in %s", key ? key : "", a->where);
	else if (code == BS_ERR_EXISTS)
		bs_err_set(err, code, "'%s' already exists in %s", key ? key : "", a->where);
	else
		bs_err_set(err, code, "Azure %s%s%s%s in %s failed: HTTP %ld%s%s%s%s", what, key ? " '" : "",
			   key ? key : "", key ? "'" : "", a->where, res->status, x.code[0] ? " " : "",
			   x.code[0] ? x.code : res->status == 403 ? " (access denied)" : "",
			   x.message[0] ? ": " : "", x.message);
	if (x.request_id[0])
		bs_err_detail(err, "request id %s%s", x.request_id,
			      res->transient ? "; the error persisted through the retries" : "");
	if (res->status == 403 && strncmp(x.code, "AuthorizationPermission", 23) == 0)
		bs_err_hint(err, "the SAS token does not allow this; backstop needs read, add, create, write, delete "
				 "and list permissions on the container (sp=racwdl)");
	else if (res->status == 401 || res->status == 403)
		bs_err_hint(err, a->key ? "check the account key (AZURE_STORAGE_KEY) and the account name: a "
					  "wrong key is refused as AuthenticationFailed or AuthorizationFailure"
					: "check the SAS token: its signature, expiry, permissions and the container "
					  "it was made for");
	else if (strcmp(x.code, "ContainerNotFound") == 0)
		bs_err_hint(err, "create the container first; backstop never creates containers");
	return -1;
}

int az_run(struct az *a, struct az_req *r, const char *what, const char *key, struct bs_err *err)
{
	struct bs_http *c = az_client(a, err);
	struct bs_err e;

	if (!c)
		return -1;
	bs_err_init(&e);
	if (bs_http_do(c, &r->http, &e) < 0) {
		az_client_put(a, c);
		return az_fail(a, &r->http.res, what, key, err);
	}
	az_client_put(a, c);
	return 0;
}

/* ---- stat, list, remove ---- */

static time_t parse_http_date(const char *v)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!v || !strptime(v, "%a, %d %b %Y %H:%M:%S", &tm))
		return 0;
	return timegm(&tm);
}

static int az_stat(struct bs_repo *r, const char *key, struct bs_repo_stat *st, struct bs_err *err)
{
	struct az *a = r->priv;
	struct az_req q;
	const char *v;
	int rc;

	memset(st, 0, sizeof(*st));
	rc = az_prepare(a, &q, "HEAD", key, NULL, 0, NULL, NULL, 0, err);
	if (rc == 0)
		rc = az_run(a, &q, "HEAD", key, err);
	if (rc == 0) {
		st->exists = 1;
		v = bs_http_header(&q.http.res, "Content-Length");
		st->size = v ? strtoull(v, NULL, 10) : 0;
		st->mtime = parse_http_date(bs_http_header(&q.http.res, "Last-Modified"));
	}
	az_req_release(&q);
	return rc;
}

int az_head(struct az *a, const char *key, uint64_t *size, struct bs_err *err)
{
	struct az_req q;
	const char *v;
	int rc = az_prepare(a, &q, "HEAD", key, NULL, 0, NULL, NULL, 0, err);

	if (rc == 0)
		rc = az_run(a, &q, "HEAD", key, err);
	if (rc == 0 && size) {
		v = bs_http_header(&q.http.res, "Content-Length");
		*size = v ? strtoull(v, NULL, 10) : 0;
	}
	az_req_release(&q);
	return rc;
}

/* Keys of the backend's own (markers, leases): never listed. */
static int internal_key(const char *k)
{
	return strncmp(k, "tmp/", 4) == 0 || strncmp(k, "leases/", 7) == 0 || strcmp(k, MARKER) == 0 ||
	       strcmp(k, "lock") == 0;
}

static int list_page(struct az *a, struct az_req *q, const char *prefix, bs_repo_list_fn fn, void *ud,
		     int internal, char *next, size_t nsz, struct bs_err *err)
{
	struct bs_xml *x = bs_xml_parse(q->http.res.body, q->http.res.body_len, "Azure listing", err);
	const struct _xmlNode *n;
	char key[BS_REPO_KEY_MAX * 2], size[32], mod[64];
	size_t pl = strlen(a->prefix);
	int rc = 0;

	if (!x)
		return bs_err_prefix(err, "listing '%s' in %s", prefix, a->where);
	for (n = bs_xml_child(bs_xml_root(x), "Blobs/Blob"); n && rc == 0; n = bs_xml_next(n, "Blob")) {
		struct bs_repo_entry e;
		if (bs_xml_text(n, "Name", key, sizeof(key)) < 0 || strncmp(key, a->prefix, pl) != 0)
			continue;
		if (internal_key(key + pl) != internal)
			continue;
		size[0] = mod[0] = '\0';
		bs_xml_text(n, "Properties/Content-Length", size, sizeof(size));
		bs_xml_text(n, "Properties/Last-Modified", mod, sizeof(mod));
		e.key = key + pl;
		e.size = strtoull(size, NULL, 10);
		e.mtime = parse_http_date(mod);
		e.is_link = 0;
		rc = fn(ud, &e, err);
	}
	next[0] = '\0';
	if (bs_xml_text(bs_xml_root(x), "NextMarker", next, nsz) >= (long)nsz)
		rc = rc ? rc : bs_err_set(err, BS_ERR_FORMAT, "Azure listing of %s: continuation marker too long",
					  a->where);
	bs_xml_free(x);
	return rc;
}

/* List Blobs under the prefix + prefix, every page; internal: the
 * backend's own keys instead of the repository's. */
static int az_list_keys(struct az *a, const char *prefix, int internal, bs_repo_list_fn fn, void *ud,
			struct bs_err *err)
{
	char full[BS_REPO_KEY_MAX * 2], marker[2048] = "";
	int rc = 0;

	snprintf(full, sizeof(full), "%s%s", a->prefix, prefix);
	do {
		struct bs_az_query qv[4] = { { "restype", "container" }, { "comp", "list" }, { "prefix", full },
					     { "marker", marker } };
		struct az_req q;
		if (az_prepare(a, &q, "GET", NULL, qv, marker[0] ? 4 : 3, NULL, NULL, 0, err) < 0 ||
		    az_run(a, &q, "list", prefix, err) < 0) {
			az_req_release(&q);
			return -1;
		}
		rc = list_page(a, &q, prefix, fn, ud, internal, marker, sizeof(marker), err);
		az_req_release(&q);
	} while (rc == 0 && marker[0]);
	return rc;
}

static int az_list(struct bs_repo *r, const char *prefix, bs_repo_list_fn fn, void *ud, struct bs_err *err)
{
	return az_list_keys(r->priv, prefix, 0, fn, ud, err);
}

int az_delete(struct az *a, const char *key, struct bs_err *err)
{
	struct az_req q;
	int rc = az_prepare(a, &q, "DELETE", key, NULL, 0, NULL, NULL, 0, err);

	if (rc == 0)
		rc = az_run(a, &q, "DELETE", key, err);
	if (rc < 0 && err->code == BS_ERR_NOT_FOUND) {
		bs_err_init(err);
		rc = 0;
	}
	az_req_release(&q);
	return rc;
}

static int az_remove(struct bs_repo *r, const char *key, struct bs_err *err)
{
	return az_delete(r->priv, key, err);
}

/* ---- open, init ---- */

static int count_key(void *ud, const struct bs_repo_entry *e, struct bs_err *err)
{
	(void)e;
	(void)err;
	(*(int *)ud)++;
	return 1; /* one is enough */
}

static int az_open(struct bs_repo *r, const char *location, const struct bs_repo_settings *set,
		   struct bs_err *err)
{
	struct az *a = az_new(location, set, err);
	struct bs_repo_stat st;

	if (!a)
		return -1;
	r->priv = a;
	if (az_stat(r, MARKER, &st, err) == 0)
		return 0;
	if (err->code == BS_ERR_NOT_FOUND) {
		int n = 0;
		/* a HEAD says 404 for a missing container too: a listing tells them apart */
		bs_err_init(err);
		if (az_list_keys(a, "", 0, count_key, &n, err) == 0 || err->code == BS_ERR_NOT_FOUND) {
			bs_err_set(err, BS_ERR_NOT_FOUND, "'%s' is not a backstop repository (no %s%s in %s)",
				   location, a->prefix, MARKER, a->where);
			bs_err_hint(err, "create one with 'backstop repo init --repo %s'", location);
		}
	}
	az_free(a);
	r->priv = NULL;
	return -1;
}

static int az_init(struct bs_repo *r, const char *location, const struct bs_repo_settings *set, int *existed,
		   struct bs_err *err)
{
	struct az *a = az_new(location, set, err);
	struct bs_repo_stat st;
	char body[256], ts[32];
	const char *extra[2] = { "x-ms-blob-type: BlockBlob", NULL };
	time_t now = time(NULL);
	struct az_req q;
	struct tm tm;
	int n = 0, rc;

	if (!a)
		return -1;
	r->priv = a;
	*existed = 0;
	if (az_stat(r, MARKER, &st, err) == 0) {
		*existed = 1;
		return 0;
	}
	if (err->code != BS_ERR_NOT_FOUND)
		goto fail;
	bs_err_init(err);
	if (az_list_keys(a, "", 0, count_key, &n, err) < 0)
		goto fail;
	if (n) {
		bs_err_set(err, BS_ERR_REFUSED, "'%s' is not empty and not a backstop repository", location);
		bs_err_hint(err, "use an empty prefix of the container for the repository");
		goto fail;
	}
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(body, sizeof(body), "{\"format\": \"backstop-repo\", \"version\": 1, \"created\": \"%s\"}\n", ts);
	rc = az_prepare(a, &q, "PUT", MARKER, NULL, 0, extra, body, (size_t)n, err);
	if (rc == 0)
		rc = az_run(a, &q, "PUT", MARKER, err);
	az_req_release(&q);
	if (rc == 0)
		return 0;
	bs_err_prefix(err, "unable to initialize repository '%s'", location);
fail:
	az_free(a);
	r->priv = NULL;
	return -1;
}

static void az_close(struct bs_repo *r)
{
	az_free(r->priv);
	r->priv = NULL;
}

/* ---- small objects (markers, leases) ---- */

static int small_put(void *ctx, const char *key, const void *buf, size_t len, struct bs_err *err)
{
	const char *extra[2] = { "x-ms-blob-type: BlockBlob", NULL };
	struct az_req q;
	int rc = az_prepare(ctx, &q, "PUT", key, NULL, 0, extra, buf, len, err);

	if (rc == 0)
		rc = az_run(ctx, &q, "PUT", key, err);
	az_req_release(&q);
	return rc;
}

static int small_get(void *ctx, const char *key, char **buf, size_t *len, struct bs_err *err)
{
	struct az_req q;
	int rc = az_prepare(ctx, &q, "GET", key, NULL, 0, NULL, NULL, 0, err);

	*buf = NULL;
	if (rc == 0)
		rc = az_run(ctx, &q, "GET", key, err);
	if (rc == 0) {
		*buf = q.http.res.body; /* NUL-terminated, ours now */
		*len = q.http.res.body_len;
		q.http.res.body = NULL;
	}
	az_req_release(&q);
	return rc;
}

static int small_list(void *ctx, const char *prefix, bs_repo_list_fn fn, void *ud, struct bs_err *err)
{
	return az_list_keys(ctx, prefix, 1, fn, ud, err);
}

static int small_remove(void *ctx, const char *key, struct bs_err *err)
{
	return az_delete(ctx, key, err);
}

int az_small_put(struct az *a, const char *key, const void *buf, size_t len, struct bs_err *err)
{
	return small_put(a, key, buf, len, err);
}

/* ---- unfinished uploads: the markers under tmp/uploads/ ---- */

struct unfinished {
	struct az *a;
	bs_repo_upload_fn fn;
	void *ud;
};

static int one_marker(void *ud, const struct bs_repo_entry *e, struct bs_err *err)
{
	struct unfinished *u = ud;
	char key[BS_REPO_KEY_MAX + 1] = "", *body = NULL;
	struct bs_repo_upload up;
	size_t len;

	if (strncmp(e->key, AZ_UPLOADS, strlen(AZ_UPLOADS)) != 0)
		return 0;
	if (small_get(u->a, e->key, &body, &len, err) < 0)
		return err->code == BS_ERR_NOT_FOUND ? (bs_err_init(err), 0) : -1; /* finished meanwhile */
	sscanf(body, "%512s", key); /* "<key>\n" */
	free(body);
	up.id = e->key;
	up.key = key[0] ? key : NULL;
	up.size = 0;
	up.started = e->mtime;
	return u->fn(u->ud, &up, err);
}

static int az_list_unfinished(struct bs_repo *r, bs_repo_upload_fn fn, void *ud, struct bs_err *err)
{
	struct unfinished u = { r->priv, fn, ud };

	return az_list_keys(r->priv, AZ_UPLOADS, 1, one_marker, &u, err);
}

/* Uncommitted blocks cannot be deleted one by one: Azure drops them a week
 * after their last Put Block when no commit came.  Removing the marker is
 * what is left to do (and makes a writer still running fail at commit). */
static int az_remove_unfinished(struct bs_repo *r, const char *id, struct bs_err *err)
{
	struct az *a = r->priv;

	if (strncmp(id, AZ_UPLOADS, strlen(AZ_UPLOADS)) != 0 || strchr(id + strlen(AZ_UPLOADS), '/'))
		return bs_err_set(err, BS_ERR_INTERNAL, "'%s' is not an unfinished upload of %s", id, a->where);
	return az_delete(a, id, err);
}

/* ---- leases: objects under leases/ (object_lease.c) ---- */

static void store_of(struct bs_repo *r, struct bs_object_store *st)
{
	struct az *a = r->priv;

	st->ctx = a;
	st->put = small_put;
	st->get = small_get;
	st->list = small_list;
	st->remove = small_remove;
	st->where = a->where;
}

static int lease_acquire(struct bs_repo *r, struct bs_repo_lease *l, int wait_ms, struct bs_err *err)
{
	struct bs_object_store st;

	store_of(r, &st);
	return bs_object_lease_acquire(&st, l, wait_ms, err);
}

static int lease_renew(struct bs_repo *r, struct bs_repo_lease *l, struct bs_err *err)
{
	struct bs_object_store st;

	store_of(r, &st);
	return bs_object_lease_renew(&st, l, err);
}

static int lease_release(struct bs_repo *r, struct bs_repo_lease *l, struct bs_err *err)
{
	struct bs_object_store st;

	store_of(r, &st);
	return bs_object_lease_release(&st, l, err);
}

const struct bs_repo_ops bs_repo_azure_ops = {
	.scheme = "azure",
	.features = BS_REPO_F_RANGED_GET | BS_REPO_F_CREATE_ONLY | BS_REPO_F_UNFINISHED_LIST,
	.open = az_open,
	.init = az_init,
	.close = az_close,
	.stat = az_stat,
	.get = az_get,
	.put = az_put,
	.list = az_list,
	.remove = az_remove,
	.path_create = NULL,
	.list_unfinished = az_list_unfinished,
	.remove_unfinished = az_remove_unfinished,
	.lease_acquire = lease_acquire,
	.lease_renew = lease_renew,
	.lease_release = lease_release,
};
