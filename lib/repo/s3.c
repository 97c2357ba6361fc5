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
 * (backstop-repo.json written by init; tmp/uploads/<h>.json marks an
 * upload under way, naming its multipart upload, so prune aborts abandoned
 * ones even on stores without ListMultipartUploads; leases/ holds lease
 * objects).  All of that, and the streams, is the object store layer's
 * (objstore.h); this file is what only S3 does: addressing, signing, its
 * errors and listings, DeleteObjects.  Multipart: s3_mpu.c.
 */
#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/hash.h"
#include "common/secret.h"
#include "net/xml.h"
#include "repo/s3_int.h"

static const struct objstore_driver s3_driver;

/* ---- location ---- */

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
	if (objstore_endpoint(endpoint, loc, &h, &hl, err) < 0)
		return -1;
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
	if (asprintf(&s->os.where, "bucket '%s' at %.*s%.*s", s->bucket, (int)(h - endpoint), endpoint, (int)hl,
		     h) < 0)
		s->os.where = NULL;
	if (!s->host || !s->base || !s->os.where)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	return 0;
}

static int parse_location(struct s3 *s, const char *loc, const struct bs_repo_settings *set, struct bs_err *err)
{
	const char *p = loc + strlen("s3://"), *q = strchr(p, '?');
	size_t bl = strcspn(p, "/?");
	char endpoint[512] = "", region[64] = "", addressing[16] = "";

	s->bucket = strndup(p, bl);
	if (!s->bucket)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	if (!bucket_ok(s->bucket))
		return bs_err_set(err, BS_ERR_CONFIG, "repository '%s': '%s' is not a valid bucket name (3 to 63 "
						      "of a-z, 0-9, '.', '-')", loc, s->bucket);
	p += bl;
	if (*p == '/')
		p++;
	if (objstore_set_prefix(&s->os, p, q ? (size_t)(q - p) : strlen(p), loc, err) < 0)
		return -1;
	/* the location's own query wins: --repo URL is the more specific */
	if (!objstore_query_param(q ? q + 1 : NULL, "endpoint", endpoint, sizeof(endpoint)) && set && set->endpoint)
		snprintf(endpoint, sizeof(endpoint), "%s", set->endpoint);
	if (!objstore_query_param(q ? q + 1 : NULL, "region", region, sizeof(region)) && set && set->region)
		snprintf(region, sizeof(region), "%s", set->region);
	objstore_query_param(q ? q + 1 : NULL, "addressing", addressing, sizeof(addressing));
	if (!region[0] && getenv("AWS_REGION"))
		snprintf(region, sizeof(region), "%s", getenv("AWS_REGION"));
	if (!region[0] && getenv("AWS_DEFAULT_REGION"))
		snprintf(region, sizeof(region), "%s", getenv("AWS_DEFAULT_REGION"));
	if (!(s->region = strdup(region[0] ? region : "us-east-1")))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	return set_endpoint(s, endpoint, addressing, loc, err);
}

static void s3_destroy(struct objstore *os)
{
	struct s3 *s = (struct s3 *)os;
	size_t i;

	if (!s)
		return;
	objstore_release(&s->os);
	s3_cred_release(&s->cred);
	free(s->bucket);
	free(s->base);
	free(s->host);
	free(s->region);
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

static struct objstore *s3_create(const char *loc, const struct bs_repo_settings *set, struct bs_err *err)
{
	struct s3 *s = calloc(1, sizeof(*s));

	if (!s) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		return NULL;
	}
	objstore_setup(&s->os, &s3_driver, set, S3_PART_DEFAULT, S3_PART_MIN);
	if (parse_location(s, loc, set, err) < 0 || object_headers(s, set, err) < 0 ||
	    s3_cred_load(&s->cred, set, s->os.where, err) < 0) {
		s3_destroy(&s->os);
		return NULL;
	}
	return &s->os;
}

static const char *const *s3_object_headers(struct objstore *os, int small)
{
	return small ? NULL : (const char *const *)((struct s3 *)os)->object_hdr;
}

/* ---- requests ---- */

int s3_prepare(struct s3 *s, struct os_req *r, const char *method, const char *key, const struct bs_s3_query *q,
	       size_t nq, const char *const *extra, const void *body, size_t len, struct bs_err *err)
{
	char path[BS_REPO_KEY_MAX * 2 + 128], target[sizeof(r->url)];
	unsigned char d[BS_SHA256_LEN];
	struct bs_s3_sign_in in;
	size_t nh = 0, i;

	memset(r, 0, sizeof(*r));
	snprintf(path, sizeof(path), "%s%s%s%s%s", s->path_style ? "/" : "", s->path_style ? s->bucket : "",
		 "/", key ? s->os.prefix : "", key ? key : "");
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

int s3_request(struct s3 *s, struct os_req *r, const char *method, const char *key, const struct bs_s3_query *q,
	       size_t nq, const char *const *extra, const void *body, size_t len, const char *what,
	       struct bs_err *err)
{
	if (s3_prepare(s, r, method, key, q, nq, extra, body, len, err) < 0)
		return -1;
	return objstore_run(&s->os, r, what, key, err);
}

static int s3_prepare_plain(struct objstore *os, struct os_req *r, const char *method, const char *key,
			    const char *const *extra, const void *body, size_t len, struct bs_err *err)
{
	return s3_prepare((struct s3 *)os, r, method, key, NULL, 0, extra, body, len, err);
}

static int s3_fail(struct objstore *os, const struct bs_http_result *res, const char *what, const char *key,
		   struct bs_err *err)
{
	struct bs_xml_error x;
	struct bs_err e;

	memset(&x, 0, sizeof(x));
	bs_err_init(&e);
	if (res->status && res->body && res->body_len)
		bs_xml_error_parse(res->body, res->body_len, &x, &e);
	objstore_error(os, res, what, key, &x, "NoSuchBucket", err);
	if (res->status == 401 || res->status == 403)
		bs_err_hint(err, "check the access key and secret key (a wrong secret key shows as "
				 "SignatureDoesNotMatch), the region, and that the key may use this bucket");
	return -1;
}

/* ---- list, remove ---- */

/* One page of ListObjectsV2: entries to fn; *next gets the continuation
 * token ("" at the end). */
static int list_page(struct s3 *s, struct os_req *q, const char *prefix, bs_repo_list_fn fn, void *ud,
		     int internal, char *next, size_t nsz, struct bs_err *err)
{
	struct bs_xml *x = bs_xml_parse(q->http.res.body, q->http.res.body_len, "S3 listing", err);
	const struct _xmlNode *n;
	char key[BS_REPO_KEY_MAX * 2], size[32], mod[64], trunc[16];
	size_t pl = strlen(s->os.prefix);
	int rc = 0;

	if (!x)
		return bs_err_prefix(err, "listing '%s' in %s", prefix, s->os.where);
	for (n = bs_xml_child(bs_xml_root(x), "Contents"); n && rc == 0; n = bs_xml_next(n, "Contents")) {
		struct bs_repo_entry e;
		if (bs_xml_text(n, "Key", key, sizeof(key)) < 0 || strncmp(key, s->os.prefix, pl) != 0)
			continue;
		if (objstore_internal_key(key + pl) != internal)
			continue;
		size[0] = mod[0] = '\0';
		bs_xml_text(n, "Size", size, sizeof(size));
		bs_xml_text(n, "LastModified", mod, sizeof(mod));
		e.key = key + pl;
		e.size = strtoull(size, NULL, 10);
		e.mtime = objstore_iso_date(mod);
		e.is_link = 0;
		rc = fn(ud, &e, err);
	}
	next[0] = trunc[0] = '\0';
	bs_xml_text(bs_xml_root(x), "IsTruncated", trunc, sizeof(trunc));
	if (strcmp(trunc, "true") == 0 && bs_xml_text(bs_xml_root(x), "NextContinuationToken", next, nsz) < 0)
		rc = rc ? rc : bs_err_set(err, BS_ERR_FORMAT, "S3 listing of %s is truncated without a "
							       "continuation token", s->os.where);
	bs_xml_free(x);
	return rc;
}

/* ListObjectsV2 of prefix, page after page. */
static int s3_list_keys(struct objstore *os, const char *prefix, int internal, bs_repo_list_fn fn, void *ud,
			struct bs_err *err)
{
	struct s3 *s = (struct s3 *)os;
	char full[BS_REPO_KEY_MAX * 2], token[2048] = "";
	int rc = 0;

	snprintf(full, sizeof(full), "%s%s", os->prefix, prefix);
	do {
		struct bs_s3_query qv[3] = { { "list-type", "2" }, { "prefix", full }, { "continuation-token", token } };
		struct os_req q;
		if (s3_request(s, &q, "GET", NULL, qv, token[0] ? 3 : 2, NULL, NULL, 0, "list", err) < 0) {
			os_req_release(&q);
			return -1;
		}
		rc = list_page(s, &q, prefix, fn, ud, internal, token, sizeof(token), err);
		os_req_release(&q);
	} while (rc == 0 && token[0]);
	return rc;
}

/* The first <Error> of a DeleteObjects answer, if any. */
static int delete_errors(struct s3 *s, const struct bs_http_result *res, struct bs_err *err)
{
	struct bs_xml *x = bs_xml_parse(res->body, res->body_len, "S3 DeleteObjects answer", err);
	const struct _xmlNode *e;
	char key[BS_REPO_KEY_MAX * 2] = "", code[128] = "", msg[512] = "";
	int rc = 0;

	if (!x)
		return bs_err_prefix(err, "deleting objects in %s", s->os.where);
	if ((e = bs_xml_child(bs_xml_root(x), "Error"))) {
		bs_xml_text(e, "Key", key, sizeof(key));
		bs_xml_text(e, "Code", code, sizeof(code));
		bs_xml_text(e, "Message", msg, sizeof(msg));
		rc = bs_err_set(err, BS_ERR_NET, "unable to delete '%s' in %s: %s: %s", key, s->os.where, code, msg);
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
		struct os_req q;
		int rc;

		if (!f)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		fputs("<Delete><Quiet>true</Quiet>", f);
		for (j = i; j < n && j < i + 1000; j++) /* keys are of the grammar: nothing to escape */
			fprintf(f, "<Object><Key>%s%s</Key></Object>", s->os.prefix, keys[j]);
		fputs("</Delete>", f);
		if (fclose(f) != 0 || !EVP_Digest(xml, xl, md5, &mlen, EVP_md5(), NULL)) {
			free(xml);
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		}
		EVP_EncodeBlock((unsigned char *)b64, md5, (int)mlen);
		snprintf(hdr, sizeof(hdr), "Content-MD5: %s", b64);
		rc = s3_request(s, &q, "POST", NULL, qv, 1, extra, xml, xl, "DeleteObjects", err);
		if (rc == 0)
			rc = delete_errors(s, &q.http.res, err);
		os_req_release(&q);
		free(xml);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* ---- the driver and the ops table ---- */

static const struct objstore_driver s3_driver = {
	.name = "S3",
	.container_word = "bucket",
	.range_header = "Range",
	.create_only_atomic = 0, /* most S3-compatible stores ignore If-None-Match on writes */
	.part_etag = 1,
	.parts_max = 10000,
	.double_every = 1000,    /* 16 MiB parts reach 16 TiB */
	.part_limit = 5ull << 30,
	.hint_div = 9000,
	.create = s3_create,
	.destroy = s3_destroy,
	.prepare = s3_prepare_plain,
	.fail = s3_fail,
	.list = s3_list_keys,
	.object_headers = s3_object_headers,
	.begin = s3_mpu_begin,
	.part = s3_mpu_part,
	.complete = s3_mpu_complete,
	.abort = s3_mpu_abort,
};

static int s3_open(struct bs_repo *r, const char *location, const struct bs_repo_settings *set,
		   struct bs_err *err)
{
	return objstore_open(r, &s3_driver, location, set, err);
}

static int s3_init(struct bs_repo *r, const char *location, const struct bs_repo_settings *set, int *existed,
		   struct bs_err *err)
{
	return objstore_init(r, &s3_driver, location, set, existed, err);
}

const struct bs_repo_ops bs_repo_s3_ops = {
	.scheme = "s3",
	.features = BS_REPO_F_RANGED_GET | BS_REPO_F_UNFINISHED_LIST,
	.open = s3_open,
	.init = s3_init,
	.close = objstore_close,
	.stat = objstore_stat,
	.get = objstore_get,
	.put = objstore_put,
	.list = objstore_list,
	.remove = objstore_remove,
	.remove_many = s3_remove_many,
	.path_create = NULL,
	.list_unfinished = objstore_list_unfinished,
	.remove_unfinished = objstore_remove_unfinished,
	.lease_acquire = objstore_lease_acquire,
	.lease_renew = objstore_lease_renew,
	.lease_release = objstore_lease_release,
};
