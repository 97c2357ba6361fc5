/*
 * s3.c - repository in an S3 bucket (AWS or any S3-compatible store).
 *
 * Location: s3://bucket[/prefix][?region=R&endpoint=URL&addressing=path|virtual]
 * (the 'repository:' mapping builds s3://bucket/prefix and passes endpoint,
 * region and credential files as settings; a query in the location wins
 * over them: --repo with a URL is the more specific).
 * Without an endpoint the store is AWS (https://s3.<region>.amazonaws.com,
 * virtual-hosted addressing); with one, path-style addressing unless the
 * query says otherwise.  An http:// endpoint is accepted only on loopback:
 * anywhere else the keys and the data would cross the network in clear.
 *
 * Layout under the prefix: the same keys as a local repository
 * (backstop-repo.json written by init; tmp/uploads/<h>.json marks a
 * multipart upload under way, so prune finds abandoned ones even on stores
 * without ListMultipartUploads; leases/ holds lease objects).
 *
 * Errors: s3_fail.  Credentials: s3_cred.c.  Streams: s3_io.c.
 */
#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/secret.h"
#include "net/xml.h"
#include "repo/object_lease.h"
#include "repo/s3_int.h"

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

static int bucket_ok(const char *b)
{
	size_t n = strlen(b), i;

	if (n < 3 || n > 63)
		return 0;
	for (i = 0; i < n; i++)
		if (!(islower((unsigned char)b[i]) || isdigit((unsigned char)b[i]) || b[i] == '-' || b[i] == '.'))
			return 0;
	return 1;
}

/* Endpoint "scheme://host[:port]" -> base and Host; path-style unless told. */
static int set_endpoint(struct s3 *s, const char *endpoint, const char *addressing, const char *loc,
			struct bs_err *err)
{
	const char *h;
	size_t hl;
	int custom = endpoint && *endpoint;
	char aws[256];

	if (!custom) {
		snprintf(aws, sizeof(aws), "https://s3.%s.amazonaws.com", s->region);
		endpoint = aws;
	}
	if (strncmp(endpoint, "https://", 8) == 0)
		h = endpoint + 8;
	else if (strncmp(endpoint, "http://", 7) == 0)
		h = endpoint + 7;
	else
		return bs_err_set(err, BS_ERR_CONFIG, "repository '%s': endpoint '%s' is not an http(s) URL", loc,
				  endpoint);
	hl = strcspn(h, "/?#");
	if (hl == 0 || strchr(endpoint, '@'))
		return bs_err_set(err, BS_ERR_CONFIG, "repository '%s': endpoint '%s' has no host (or has user "
						      "info)", loc, endpoint);
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
	s->path_style = custom;
	if (addressing && strcmp(addressing, "virtual") == 0)
		s->path_style = 0;
	else if (addressing && strcmp(addressing, "path") == 0)
		s->path_style = 1;
	else if (addressing && *addressing)
		return bs_err_set(err, BS_ERR_CONFIG, "repository '%s': addressing '%s' is neither 'path' nor "
						      "'virtual'", loc, addressing);
	if (s->path_style) {
		s->host = strndup(h, hl);
		if (asprintf(&s->base, "%.*s%.*s", (int)(h - endpoint), endpoint, (int)hl, h) < 0)
			s->base = NULL;
	} else {
		if (asprintf(&s->host, "%s.%.*s", s->bucket, (int)hl, h) < 0)
			s->host = NULL;
		if (asprintf(&s->base, "%.*s%s", (int)(h - endpoint), endpoint, s->host ? s->host : "") < 0)
			s->base = NULL;
	}
	if (asprintf(&s->where, "bucket '%s' at %.*s%.*s", s->bucket, (int)(h - endpoint), endpoint, (int)hl, h) < 0)
		s->where = NULL;
	if (!s->host || !s->base || !s->where)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	return 0;
}

static int parse_location(struct s3 *s, const char *loc, const struct bs_repo_settings *set, struct bs_err *err)
{
	const char *p = loc + strlen("s3://"), *q = strchr(p, '?');
	size_t bl = strcspn(p, "/?");
	char endpoint[512] = "", region[64] = "", addressing[16] = "", prefix[BS_REPO_KEY_MAX + 2];
	size_t pl;
	struct bs_err e;

	s->bucket = strndup(p, bl);
	if (!s->bucket)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	if (!bucket_ok(s->bucket))
		return bs_err_set(err, BS_ERR_CONFIG, "repository '%s': '%s' is not a valid bucket name (3 to 63 "
						      "of a-z, 0-9, '.', '-')", loc, s->bucket);
	p += bl;
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
	s->prefix = strdup(prefix);
	/* the location's own query wins: --repo URL is the more specific */
	if (!query_param(q ? q + 1 : NULL, "endpoint", endpoint, sizeof(endpoint)) && set && set->endpoint)
		snprintf(endpoint, sizeof(endpoint), "%s", set->endpoint);
	if (!query_param(q ? q + 1 : NULL, "region", region, sizeof(region)) && set && set->region)
		snprintf(region, sizeof(region), "%s", set->region);
	query_param(q ? q + 1 : NULL, "addressing", addressing, sizeof(addressing));
	if (!region[0] && getenv("AWS_REGION"))
		snprintf(region, sizeof(region), "%s", getenv("AWS_REGION"));
	if (!region[0] && getenv("AWS_DEFAULT_REGION"))
		snprintf(region, sizeof(region), "%s", getenv("AWS_DEFAULT_REGION"));
	s->region = strdup(region[0] ? region : "us-east-1");
	if (!s->prefix || !s->region)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	return set_endpoint(s, endpoint, addressing, loc, err);
}

static void s3_free(struct s3 *s)
{
	size_t i;

	if (!s)
		return;
	bs_http_pool_release(&s->pool);
	s3_cred_release(&s->cred);
	free(s->bucket);
	free(s->prefix);
	free(s->base);
	free(s->host);
	free(s->region);
	free(s->where);
	for (i = 0; s->object_hdr[i]; i++)
		free(s->object_hdr[i]);
	free(s);
}

/* What every object written carries: storage class, server-side encryption. */
static int object_headers(struct s3 *s, const struct bs_repo_settings *set, struct bs_err *err)
{
	int n = 0;

	if (!set)
		return 0;
	if (set->storage_class && asprintf(&s->object_hdr[n++], "x-amz-storage-class: %s", set->storage_class) < 0)
		goto nomem;
	if (set->sse && asprintf(&s->object_hdr[n++], "x-amz-server-side-encryption: %s", set->sse) < 0)
		goto nomem;
	if (set->sse_kms_key_id && asprintf(&s->object_hdr[n++], "x-amz-server-side-encryption-aws-kms-key-id: %s",
					    set->sse_kms_key_id) < 0)
		goto nomem;
	return 0;
nomem:
	s->object_hdr[n - 1] = NULL;
	return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
}

/* Every client of the handle: the retry limits of the settings, room for
 * a read block in memory, the parts of an upload in flight at once. */
static void pool_init(struct s3 *s)
{
	struct bs_http_opts o;

	bs_http_opts_default(&o);
	if (s->retry_max >= 0)
		o.retry.max_attempts = s->retry_max + 1;
	if (s->retry_time_ms > 0)
		o.retry.budget_ms = (long)s->retry_time_ms;
	o.max_parallel = S3_PARTS_IN_FLIGHT + 1;
	o.max_body = S3_BLOCK + (1u << 20);
	bs_http_pool_init(&s->pool, &o);
}

static struct s3 *s3_new(const char *loc, const struct bs_repo_settings *set, struct bs_err *err)
{
	struct s3 *s = calloc(1, sizeof(*s));

	if (!s) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		return NULL;
	}
	s->retry_max = set ? set->retry_max : -1;
	s->retry_time_ms = set ? set->retry_time_ms : 0;
	pool_init(s);
	s->part_size = set && set->part_size ? set->part_size : S3_PART_DEFAULT;
	if (s->part_size < S3_PART_MIN)
		s->part_size = S3_PART_MIN;
	if (parse_location(s, loc, set, err) < 0 || object_headers(s, set, err) < 0 ||
	    s3_cred_load(&s->cred, set, s->where, err) < 0) {
		s3_free(s);
		return NULL;
	}
	return s;
}

/* ---- requests ---- */

struct bs_http *s3_client(struct s3 *s, struct bs_err *err)
{
	return bs_http_pool_get(&s->pool, err);
}

void s3_client_put(struct s3 *s, struct bs_http *c)
{
	bs_http_pool_put(&s->pool, c);
}

int s3_prepare(struct s3 *s, struct s3_req *r, const char *method, const char *key,
	       const struct bs_s3_query *q, size_t nq, const char *const *extra, const void *body,
	       size_t len, struct bs_err *err)
{
	char path[BS_REPO_KEY_MAX * 2 + 128], target[sizeof(r->url)];
	unsigned char d[BS_SHA256_LEN];
	struct bs_s3_sign_in in;
	size_t nh = 0, i;

	memset(r, 0, sizeof(*r));
	snprintf(path, sizeof(path), "%s%s%s%s%s", s->path_style ? "/" : "", s->path_style ? s->bucket : "",
		 "/", key ? s->prefix : "", key ? key : "");
	if (bs_sha256(body ? body : "", body ? len : 0, d, err) < 0)
		return -1;
	strcpy(r->sha, "x-amz-content-sha256: ");
	bs_hex(d, BS_SHA256_LEN, r->sha + strlen(r->sha));
	strcpy(r->date, "x-amz-date: ");
	bs_s3_amz_date(time(NULL), r->date + strlen(r->date));
	r->hdr[nh++] = r->date;
	r->hdr[nh++] = r->sha;
	if (s->cred.session_token) {
		if (asprintf(&r->token, "x-amz-security-token: %s", s->cred.session_token) < 0)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		r->hdr[nh++] = r->token;
	}
	for (i = 0; extra && extra[i] && i < 6; i++) {
		snprintf(r->extra[i], sizeof(r->extra[i]), "%s", extra[i]);
		r->hdr[nh++] = r->extra[i];
	}
	r->hdr[nh] = NULL;
	memset(&in, 0, sizeof(in));
	in.method = method;
	in.host = s->host;
	in.path = path;
	in.query = q;
	in.nquery = nq;
	in.headers = r->hdr;
	in.payload = r->sha + strlen("x-amz-content-sha256: ");
	in.region = s->region;
	in.now = time(NULL);
	strcpy(r->auth, "Authorization: ");
	if (bs_s3_target(&in, target, sizeof(target)) < 0 ||
	    snprintf(r->url, sizeof(r->url), "%s%s", s->base, target) >= (int)sizeof(r->url))
		return bs_err_set(err, BS_ERR_INTERNAL, "S3 request URL too long for '%s'", key ? key : "");
	if (bs_s3_sign(&in, &s->cred, r->auth + strlen(r->auth), sizeof(r->auth) - strlen(r->auth), err) < 0)
		return -1;
	r->hdr[nh++] = r->auth;
	r->hdr[nh] = NULL;
	r->http.method = method;
	r->http.url = r->url;
	r->http.headers = r->hdr;
	r->http.body = body;
	r->http.body_len = body ? len : 0;
	return 0;
}

void s3_req_release(struct s3_req *r)
{
	bs_http_req_release(&r->http);
	if (r->token)
		bs_secret_free(r->token);
	r->token = NULL;
	bs_secret_wipe(r->auth, sizeof(r->auth));
}

int s3_fail(struct s3 *s, const struct bs_http_result *res, const char *what, const char *key,
	    struct bs_err *err)
{
	struct bs_xml_error x;
	struct bs_err e;
	int code = BS_ERR_NET;

	memset(&x, 0, sizeof(x));
	bs_err_init(&e);
	if (res->status == 0) { /* no answer: the transport's own message */
		*err = res->err;
		return bs_err_prefix(err, "S3 %s '%s' in %s", what, key ? key : "", s->where);
	}
	if (res->body && res->body_len)
		bs_xml_error_parse(res->body, res->body_len, &x, &e);
	if (res->status == 404 && strcmp(x.code, "NoSuchBucket") != 0)
		code = BS_ERR_NOT_FOUND;
	else if (res->status == 412)
		code = BS_ERR_EXISTS;
	if (code == BS_ERR_NOT_FOUND)
		bs_err_set(err, code, "'%s' not found in %s", key ? key : "", s->where);
	else if (code == BS_ERR_EXISTS)
		bs_err_set(err, code, "'%s' already exists in %s", key ? key : "", s->where);
	else
		bs_err_set(err, code, "S3 %s%s%s%s in %s failed: HTTP %ld%s%s%s%s", what, key ? " '" : "",
			   key ? key : "", key ? "'" : "", s->where, res->status, x.code[0] ? " " : "",
			   x.code[0] ? x.code : res->status == 403 ? " (access denied)" : "",
			   x.message[0] ? ": " : "", x.message);
	if (x.request_id[0])
		bs_err_detail(err, "request id %s%s", x.request_id,
			      res->transient ? "; the error persisted through the retries" : "");
	if (res->status == 401 || res->status == 403)
		bs_err_hint(err, "check the access key and secret key (a wrong secret key shows as "
				 "SignatureDoesNotMatch), the region, and that the key may use this bucket");
	else if (strcmp(x.code, "NoSuchBucket") == 0)
		bs_err_hint(err, "create the bucket first; backstop never creates buckets");
	return -1;
}

int s3_run(struct s3 *s, struct s3_req *r, const char *what, const char *key, struct bs_err *err)
{
	struct bs_http *c = s3_client(s, err);
	struct bs_err e;

	if (!c)
		return -1;
	bs_err_init(&e);
	if (bs_http_do(c, &r->http, &e) < 0) {
		s3_client_put(s, c);
		return s3_fail(s, &r->http.res, what, key, err);
	}
	s3_client_put(s, c);
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

static time_t parse_iso(const char *v)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!strptime(v, "%Y-%m-%dT%H:%M:%S", &tm))
		return 0;
	return timegm(&tm);
}

static int s3_stat(struct bs_repo *r, const char *key, struct bs_repo_stat *st, struct bs_err *err)
{
	return s3_head(r->priv, key, st, err);
}

int s3_head(struct s3 *s, const char *key, struct bs_repo_stat *out, struct bs_err *err)
{
	struct bs_repo_stat dummy, *st = out ? out : &dummy;
	struct s3_req q;
	const char *v;
	int rc;

	memset(st, 0, sizeof(*st));
	if (s3_prepare(s, &q, "HEAD", key, NULL, 0, NULL, NULL, 0, err) < 0) {
		s3_req_release(&q);
		return -1;
	}
	rc = s3_run(s, &q, "HEAD", key, err);
	if (rc == 0) {
		st->exists = 1;
		v = bs_http_header(&q.http.res, "Content-Length");
		st->size = v ? strtoull(v, NULL, 10) : 0;
		st->mtime = parse_http_date(bs_http_header(&q.http.res, "Last-Modified"));
	}
	s3_req_release(&q);
	return rc;
}

/* Keys of the backend's own (markers, leases): never listed. */
static int internal_key(const char *k)
{
	return strncmp(k, "tmp/", 4) == 0 || strncmp(k, "leases/", 7) == 0 || strcmp(k, "backstop-repo.json") == 0 ||
	       strcmp(k, "lock") == 0;
}

/* One page of ListObjectsV2: entries to fn; *next gets the continuation
 * token ("" at the end). */
static int list_page(struct s3 *s, struct s3_req *q, const char *prefix, bs_repo_list_fn fn, void *ud,
		     int internal, char *next, size_t nsz, struct bs_err *err)
{
	struct bs_xml *x = bs_xml_parse(q->http.res.body, q->http.res.body_len, "S3 listing", err);
	const struct _xmlNode *n;
	char key[BS_REPO_KEY_MAX * 2], size[32], mod[64], trunc[16];
	size_t pl = strlen(s->prefix);
	int rc = 0;

	if (!x)
		return bs_err_prefix(err, "listing '%s' in %s", prefix, s->where);
	for (n = bs_xml_child(bs_xml_root(x), "Contents"); n && rc == 0; n = bs_xml_next(n, "Contents")) {
		struct bs_repo_entry e;
		if (bs_xml_text(n, "Key", key, sizeof(key)) < 0 || strncmp(key, s->prefix, pl) != 0)
			continue;
		if (internal_key(key + pl) != internal)
			continue;
		size[0] = mod[0] = '\0';
		bs_xml_text(n, "Size", size, sizeof(size));
		bs_xml_text(n, "LastModified", mod, sizeof(mod));
		e.key = key + pl;
		e.size = strtoull(size, NULL, 10);
		e.mtime = parse_iso(mod);
		e.is_link = 0;
		rc = fn(ud, &e, err);
	}
	next[0] = trunc[0] = '\0';
	bs_xml_text(bs_xml_root(x), "IsTruncated", trunc, sizeof(trunc));
	if (strcmp(trunc, "true") == 0 && bs_xml_text(bs_xml_root(x), "NextContinuationToken", next, nsz) < 0)
		rc = rc ? rc : bs_err_set(err, BS_ERR_FORMAT, "S3 listing of %s is truncated without a "
							       "continuation token", s->where);
	bs_xml_free(x);
	return rc;
}

/* ListObjectsV2 of prefix, page after page; internal: list the backend's
 * own keys instead of the repository's. */
int s3_list_keys(struct s3 *s, const char *prefix, int internal, bs_repo_list_fn fn, void *ud, struct bs_err *err)
{
	char full[BS_REPO_KEY_MAX * 2], token[2048] = "";
	int rc = 0;

	snprintf(full, sizeof(full), "%s%s", s->prefix, prefix);
	do {
		struct bs_s3_query qv[3] = { { "list-type", "2" }, { "prefix", full }, { "continuation-token", token } };
		struct s3_req q;
		if (s3_prepare(s, &q, "GET", NULL, qv, token[0] ? 3 : 2, NULL, NULL, 0, err) < 0 ||
		    s3_run(s, &q, "list", prefix, err) < 0) {
			s3_req_release(&q);
			return -1;
		}
		rc = list_page(s, &q, prefix, fn, ud, internal, token, sizeof(token), err);
		s3_req_release(&q);
	} while (rc == 0 && token[0]);
	return rc;
}

static int s3_list(struct bs_repo *r, const char *prefix, bs_repo_list_fn fn, void *ud, struct bs_err *err)
{
	return s3_list_keys(r->priv, prefix, 0, fn, ud, err);
}

int s3_delete(struct s3 *s, const char *key, struct bs_err *err)
{
	struct s3_req q;
	int rc;

	if (s3_prepare(s, &q, "DELETE", key, NULL, 0, NULL, NULL, 0, err) < 0) {
		s3_req_release(&q);
		return -1;
	}
	rc = s3_run(s, &q, "DELETE", key, err);
	if (rc < 0 && err->code == BS_ERR_NOT_FOUND) {
		bs_err_init(err);
		rc = 0;
	}
	s3_req_release(&q);
	return rc;
}

static int s3_remove(struct bs_repo *r, const char *key, struct bs_err *err)
{
	return s3_delete(r->priv, key, err);
}

/* The first <Error> of a DeleteObjects answer, if any. */
static int delete_errors(struct s3 *s, const struct bs_http_result *res, struct bs_err *err)
{
	struct bs_xml *x = bs_xml_parse(res->body, res->body_len, "S3 DeleteObjects answer", err);
	const struct _xmlNode *e;
	char key[BS_REPO_KEY_MAX * 2] = "", code[128] = "", msg[512] = "";
	int rc = 0;

	if (!x)
		return bs_err_prefix(err, "deleting objects in %s", s->where);
	if ((e = bs_xml_child(bs_xml_root(x), "Error"))) {
		bs_xml_text(e, "Key", key, sizeof(key));
		bs_xml_text(e, "Code", code, sizeof(code));
		bs_xml_text(e, "Message", msg, sizeof(msg));
		rc = bs_err_set(err, BS_ERR_NET, "unable to delete '%s' in %s: %s: %s", key, s->where, code, msg);
	}
	bs_xml_free(x);
	return rc;
}

/* DeleteObjects, 1,000 keys a request, quiet: only failures are listed. */
static int s3_remove_many(struct bs_repo *r, const char *const *keys, size_t n, struct bs_err *err)
{
	struct s3 *s = r->priv;
	struct bs_s3_query qv[1] = { { "delete", "" } };
	size_t i, j;

	for (i = 0; i < n; i += 1000) {
		unsigned char md5[EVP_MAX_MD_SIZE];
		unsigned int mlen = 0;
		char b64[64], hdr[96], *xml = NULL;
		const char *extra[2] = { hdr, NULL };
		size_t xl = 0;
		FILE *f = open_memstream(&xml, &xl);
		struct s3_req q;
		int rc;

		if (!f)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		fputs("<Delete><Quiet>true</Quiet>", f);
		for (j = i; j < n && j < i + 1000; j++) /* keys are of the grammar: nothing to escape */
			fprintf(f, "<Object><Key>%s%s</Key></Object>", s->prefix, keys[j]);
		fputs("</Delete>", f);
		if (fclose(f) != 0 || !EVP_Digest(xml, xl, md5, &mlen, EVP_md5(), NULL)) {
			free(xml);
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		}
		EVP_EncodeBlock((unsigned char *)b64, md5, (int)mlen);
		snprintf(hdr, sizeof(hdr), "Content-MD5: %s", b64);
		rc = s3_prepare(s, &q, "POST", NULL, qv, 1, extra, xml, xl, err);
		if (rc == 0)
			rc = s3_run(s, &q, "DeleteObjects", NULL, err);
		if (rc == 0)
			rc = delete_errors(s, &q.http.res, err);
		s3_req_release(&q);
		free(xml);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* ---- open, init ---- */

#define MARKER "backstop-repo.json"

static int count_key(void *ud, const struct bs_repo_entry *e, struct bs_err *err)
{
	(void)e;
	(void)err;
	(*(int *)ud)++;
	return 1; /* one is enough */
}

static int s3_open(struct bs_repo *r, const char *location, const struct bs_repo_settings *set,
		   struct bs_err *err)
{
	struct s3 *s = s3_new(location, set, err);
	struct bs_repo_stat st;

	if (!s)
		return -1;
	r->priv = s;
	if (s3_stat(r, MARKER, &st, err) < 0) {
		int n = 0;
		/* a HEAD says 404 for a missing bucket too: a listing tells them apart */
		if (err->code == BS_ERR_NOT_FOUND && s3_list_keys(s, "", 0, count_key, &n, err) < 0) {
			s3_free(s);
			r->priv = NULL;
			return -1;
		}
		if (err->code == BS_ERR_NOT_FOUND || err->code == BS_OK) {
			bs_err_set(err, BS_ERR_NOT_FOUND, "'%s' is not a backstop repository (no %s%s in %s)",
				   location, s->prefix, MARKER, s->where);
			bs_err_hint(err, "create one with 'backstop repo init --repo %s'", location);
		}
		s3_free(s);
		r->priv = NULL;
		return -1;
	}
	return 0;
}

static int s3_init(struct bs_repo *r, const char *location, const struct bs_repo_settings *set, int *existed,
		   struct bs_err *err)
{
	struct s3 *s = s3_new(location, set, err);
	struct bs_repo_stat st;
	char body[256], ts[32];
	time_t now = time(NULL);
	struct s3_req q;
	struct tm tm;
	int n = 0, rc;

	if (!s)
		return -1;
	r->priv = s;
	*existed = 0;
	if (s3_stat(r, MARKER, &st, err) == 0) {
		*existed = 1;
		return 0;
	}
	if (err->code != BS_ERR_NOT_FOUND)
		goto fail;
	bs_err_init(err);
	if ((rc = s3_list_keys(s, "", 0, count_key, &n, err)) < 0)
		goto fail;
	if (n) {
		bs_err_set(err, BS_ERR_REFUSED, "'%s' is not empty and not a backstop repository", location);
		bs_err_hint(err, "use an empty prefix of the bucket for the repository");
		goto fail;
	}
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(body, sizeof(body), "{\"format\": \"backstop-repo\", \"version\": 1, \"created\": \"%s\"}\n", ts);
	rc = s3_prepare(s, &q, "PUT", MARKER, NULL, 0, NULL, body, (size_t)n, err);
	if (rc == 0)
		rc = s3_run(s, &q, "PUT", MARKER, err);
	s3_req_release(&q);
	if (rc == 0)
		return 0;
	bs_err_prefix(err, "unable to initialize repository '%s'", location);
fail:
	s3_free(s);
	r->priv = NULL;
	return -1;
}

static void s3_close(struct bs_repo *r)
{
	s3_free(r->priv);
	r->priv = NULL;
}

/* ---- unfinished uploads: the markers under tmp/uploads/ ---- */

struct unfinished {
	struct s3 *s;
	bs_repo_upload_fn fn;
	void *ud;
};

static int one_marker(void *ud, const struct bs_repo_entry *e, struct bs_err *err)
{
	struct unfinished *u = ud;
	struct s3_req q;
	char key[BS_REPO_KEY_MAX + 1] = "";
	struct bs_repo_upload up;
	int rc;

	if (strncmp(e->key, S3_UPLOADS, strlen(S3_UPLOADS)) != 0)
		return 0;
	if (s3_prepare(u->s, &q, "GET", e->key, NULL, 0, NULL, NULL, 0, err) < 0 ||
	    s3_run(u->s, &q, "GET", e->key, err) < 0) {
		s3_req_release(&q);
		return err->code == BS_ERR_NOT_FOUND ? 0 : -1; /* finished meanwhile */
	}
	/* "<key>\n<upload id>\n" */
	sscanf(q.http.res.body ? q.http.res.body : "", "%512s", key);
	s3_req_release(&q);
	up.id = e->key;
	up.key = key[0] ? key : NULL;
	up.size = 0;
	up.started = e->mtime;
	rc = u->fn(u->ud, &up, err);
	return rc;
}

static int s3_list_unfinished(struct bs_repo *r, bs_repo_upload_fn fn, void *ud, struct bs_err *err)
{
	struct unfinished u = { r->priv, fn, ud };

	return s3_list_keys(r->priv, S3_UPLOADS, 1, one_marker, &u, err);
}

static int s3_remove_unfinished(struct bs_repo *r, const char *id, struct bs_err *err)
{
	struct s3 *s = r->priv;
	struct s3_req q;
	char key[BS_REPO_KEY_MAX + 1] = "", upload[1024] = "";

	if (strncmp(id, S3_UPLOADS, strlen(S3_UPLOADS)) != 0 || strchr(id + strlen(S3_UPLOADS), '/'))
		return bs_err_set(err, BS_ERR_INTERNAL, "'%s' is not an unfinished upload of %s", id, s->where);
	if (s3_prepare(s, &q, "GET", id, NULL, 0, NULL, NULL, 0, err) < 0 || s3_run(s, &q, "GET", id, err) < 0) {
		s3_req_release(&q);
		if (err->code != BS_ERR_NOT_FOUND)
			return -1;
		bs_err_init(err);
		return 0;
	}
	sscanf(q.http.res.body ? q.http.res.body : "", "%512s %1023s", key, upload);
	s3_req_release(&q);
	if (key[0] && upload[0] && strcmp(upload, "-") != 0 && s3_abort_upload(s, key, upload, err) < 0)
		return -1;
	return s3_delete(s, id, err);
}

/* ---- leases: objects under leases/ (object_lease.c) ---- */

static int small_put(void *ctx, const char *key, const void *buf, size_t len, struct bs_err *err)
{
	struct s3_req q;
	int rc = s3_prepare(ctx, &q, "PUT", key, NULL, 0, NULL, buf, len, err);

	if (rc == 0)
		rc = s3_run(ctx, &q, "PUT", key, err);
	s3_req_release(&q);
	return rc;
}

static int small_get(void *ctx, const char *key, char **buf, size_t *len, struct bs_err *err)
{
	struct s3_req q;
	int rc = s3_prepare(ctx, &q, "GET", key, NULL, 0, NULL, NULL, 0, err);

	*buf = NULL;
	if (rc == 0)
		rc = s3_run(ctx, &q, "GET", key, err);
	if (rc == 0) {
		*buf = q.http.res.body; /* NUL-terminated, ours now */
		*len = q.http.res.body_len;
		q.http.res.body = NULL;
	}
	s3_req_release(&q);
	return rc;
}

static int small_list(void *ctx, const char *prefix, bs_repo_list_fn fn, void *ud, struct bs_err *err)
{
	return s3_list_keys(ctx, prefix, 1, fn, ud, err);
}

static int small_remove(void *ctx, const char *key, struct bs_err *err)
{
	return s3_delete(ctx, key, err);
}

static void store_of(struct bs_repo *r, struct bs_object_store *st)
{
	struct s3 *s = r->priv;

	st->ctx = s;
	st->put = small_put;
	st->get = small_get;
	st->list = small_list;
	st->remove = small_remove;
	st->where = s->where;
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

const struct bs_repo_ops bs_repo_s3_ops = {
	.scheme = "s3",
	.features = BS_REPO_F_RANGED_GET | BS_REPO_F_UNFINISHED_LIST,
	.open = s3_open,
	.init = s3_init,
	.close = s3_close,
	.stat = s3_stat,
	.get = s3_get,
	.put = s3_put,
	.list = s3_list,
	.remove = s3_remove,
	.remove_many = s3_remove_many,
	.path_create = NULL,
	.list_unfinished = s3_list_unfinished,
	.remove_unfinished = s3_remove_unfinished,
	.lease_acquire = lease_acquire,
	.lease_renew = lease_renew,
	.lease_release = lease_release,
};
