/*
 * oci.c - the OCI Distribution API client (oci.h): log-in discovery,
 * Basic and Bearer (token) authentication, manifests by tag and digest.
 */
#include "release/oci.h"

#include <ctype.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/hash.h"
#include "config/config.h"
#include "net/http.h"
#include "net/url.h"

#define ACCEPT_ALL "Accept: " BS_OCI_INDEX ", " BS_OCI_MANIFEST ", " BS_DOCKER_LIST ", " BS_DOCKER_MANIFEST

enum { AUTH_NONE, AUTH_BASIC, AUTH_BEARER };

struct bs_oci {
	struct bs_http *http;
	char base[512]; /* http(s)://host[:port][/prefix], no trailing '/' */
	char host[256]; /* the registry host of the references */
	char path[256]; /* the repository path */
	char repo[520]; /* host/path */
	char key[160];	/* config key for hints, or "" */
	char *user;	/* NULL: anonymous */
	char *pass;	/* secret */
	size_t pass_len;
	int scheme; /* AUTH_* in use */
	char *auth; /* "Authorization: ..." (secret), or NULL */
	size_t auth_len;
};

/* A parsed WWW-Authenticate challenge. */
struct challenge {
	char scheme[16];
	char realm[1024];
	char service[256];
	char scope[512];
};

static void free_secret(char **s, size_t *len)
{
	if (*s) {
		OPENSSL_cleanse(*s, len && *len ? *len : strlen(*s));
		free(*s);
	}
	*s = NULL;
	if (len)
		*len = 0;
}

static void wipe_body(struct bs_http_req *r)
{
	if (r->res.body)
		OPENSSL_cleanse(r->res.body, r->res.body_len);
}

/* ---- small helpers -------------------------------------------------------- */

/* Content-Type without parameters, lowercased. */
static void media_type_of(const char *ct, char *out, size_t n)
{
	size_t i = 0;

	out[0] = '\0';
	if (!ct || !n)
		return;
	while (*ct == ' ')
		ct++;
	for (; ct[i] && ct[i] != ';' && ct[i] != ' ' && i + 1 < n; i++)
		out[i] = (char)tolower((unsigned char)ct[i]);
	out[i] = '\0';
}

static int known_type(const char *mt)
{
	return bs_oci_is_index(mt) || bs_oci_is_manifest(mt);
}

int bs_oci_is_index(const char *mt)
{
	return mt && (!strcmp(mt, BS_OCI_INDEX) || !strcmp(mt, BS_DOCKER_LIST));
}

int bs_oci_is_manifest(const char *mt)
{
	return mt && (!strcmp(mt, BS_OCI_MANIFEST) || !strcmp(mt, BS_DOCKER_MANIFEST));
}

/* The media type a manifest says it has, when the registry's Content-Type
 * does not tell: its "mediaType" field, else its shape. */
static void media_type_sniff(const char *bytes, size_t len, char *out, size_t n)
{
	json_t *root = json_loadb(bytes, len, 0, NULL);
	const char *mt;

	if (!root)
		return;
	mt = json_string_value(json_object_get(root, "mediaType"));
	if (mt)
		snprintf(out, n, "%s", mt);
	else if (json_is_array(json_object_get(root, "manifests")))
		snprintf(out, n, "%s", BS_OCI_INDEX);
	else if (json_is_object(json_object_get(root, "config")))
		snprintf(out, n, "%s", BS_OCI_MANIFEST);
	json_decref(root);
}

static int digest_of(const void *b, size_t len, char out[BS_DIGEST_MAX], struct bs_err *err)
{
	unsigned char h[BS_SHA256_LEN];

	if (bs_sha256(b, len, h, err) < 0)
		return -1;
	memcpy(out, "sha256:", 7);
	bs_hex(h, sizeof(h), out + 7);
	return 0;
}

/* " (CODE: message)" from a registry's JSON error body, or "". */
static void registry_error(const struct bs_http_result *res, char *out, size_t n)
{
	json_t *root, *e;
	const char *code, *msg;

	out[0] = '\0';
	if (!res->body || !res->body_len)
		return;
	root = json_loadb(res->body, res->body_len, 0, NULL);
	if (!root)
		return;
	e = json_array_get(json_object_get(root, "errors"), 0);
	code = json_string_value(json_object_get(e, "code"));
	msg = json_string_value(json_object_get(e, "message"));
	if (code || msg)
		snprintf(out, n, " (%s%s%s)", code ? code : "", code && msg ? ": " : "", msg ? msg : "");
	json_decref(root);
}

/* Parse 'Scheme k="v", k2=v2' (RFC 7235, one challenge). */
static int parse_challenge(const char *h, struct challenge *ch)
{
	size_t i = 0;

	memset(ch, 0, sizeof(*ch));
	if (!h)
		return -1;
	while (*h == ' ')
		h++;
	while (*h && *h != ' ' && i + 1 < sizeof(ch->scheme))
		ch->scheme[i++] = *h++;
	ch->scheme[i] = '\0';
	if (!i)
		return -1;
	while (*h) {
		char key[32], val[1024];
		size_t k = 0, v = 0;

		while (*h == ' ' || *h == ',')
			h++;
		if (!*h)
			break;
		while (*h && *h != '=' && *h != ',' && *h != ' ') {
			if (k + 1 < sizeof(key))
				key[k++] = (char)tolower((unsigned char)*h);
			h++;
		}
		key[k] = '\0';
		while (*h == ' ')
			h++;
		if (*h != '=')
			continue;
		h++;
		while (*h == ' ')
			h++;
		if (*h == '"') {
			h++;
			while (*h && *h != '"') {
				if (*h == '\\' && h[1])
					h++;
				if (v + 1 < sizeof(val))
					val[v++] = *h;
				h++;
			}
			if (*h == '"')
				h++;
		} else {
			while (*h && *h != ',' && *h != ' ') {
				if (v + 1 < sizeof(val))
					val[v++] = *h;
				h++;
			}
		}
		val[v] = '\0';
		if (!strcmp(key, "realm"))
			snprintf(ch->realm, sizeof(ch->realm), "%s", val);
		else if (!strcmp(key, "service"))
			snprintf(ch->service, sizeof(ch->service), "%s", val);
		else if (!strcmp(key, "scope"))
			snprintf(ch->scope, sizeof(ch->scope), "%s", val);
	}
	return 0;
}

static void cred_hint(const struct bs_oci *c, struct bs_err *err, const char *verb)
{
	if (c->key[0])
		bs_err_hint(err, "%s %s.username and %s.password_file", verb, c->key, c->key);
	else
		bs_err_hint(err,
			    "%s registry.username and registry.password_file of the service in backstop.yaml",
			    verb);
}

/* The registry said no to who we are (status from the registry or its
 * token server). */
static int refused(const struct bs_oci *c, long status, struct bs_err *err)
{
	if (c->user) {
		bs_err_set(err, BS_ERR_NET, "registry %s refused the credentials of user '%s' (HTTP %ld)",
			   c->host, c->user, status);
		cred_hint(c, err, "check");
	} else {
		bs_err_set(err, BS_ERR_NET,
			   "registry %s requires credentials and none are configured (HTTP %ld)", c->host,
			   status);
		cred_hint(c, err, "set");
	}
	return -1;
}

static int set_auth(struct bs_oci *c, const char *scheme, const char *value, size_t vlen, struct bs_err *err)
{
	size_t n = strlen("Authorization: ") + strlen(scheme) + 1 + vlen + 1;
	char *a = malloc(n);

	if (!a)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	snprintf(a, n, "Authorization: %s %.*s", scheme, (int)vlen, value);
	free_secret(&c->auth, &c->auth_len);
	c->auth = a;
	c->auth_len = n;
	return 0;
}

/* "Basic base64(user:pass)" into c->auth. */
static int basic_auth(struct bs_oci *c, char **out, size_t *outlen, struct bs_err *err)
{
	size_t ulen = strlen(c->user), plain_len = ulen + 1 + c->pass_len;
	size_t b64_cap = 4 * ((plain_len + 2) / 3) + 1;
	char *plain = malloc(plain_len + 1), *b64 = malloc(b64_cap);
	int n;

	if (!plain || !b64) {
		free(plain);
		free(b64);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	memcpy(plain, c->user, ulen);
	plain[ulen] = ':';
	if (c->pass_len)
		memcpy(plain + ulen + 1, c->pass, c->pass_len);
	n = EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)plain, (int)plain_len);
	OPENSSL_cleanse(plain, plain_len);
	free(plain);
	*out = b64;
	*outlen = n > 0 ? (size_t)n : 0;
	return 0;
}

/* ---- requests ------------------------------------------------------------- */

static int authenticate(struct bs_oci *c, const struct bs_http_result *res, struct bs_err *err);

/* Run r with the client's credentials.  A 401 on a client that does not
 * send Basic credentials gets one (new) log-in from its challenge and one
 * retry.  Returns 0 for a 2xx; else -1 with err set (r->res.status says
 * what the registry answered; callers judge 404 and 403 themselves). */
static int oci_do(struct bs_oci *c, struct bs_http_req *r, const char *extra, struct bs_err *err)
{
	for (int attempt = 0;; attempt++) {
		const char *hv[4];
		int n = 0;

		if (extra)
			hv[n++] = extra;
		if (c->auth)
			hv[n++] = c->auth;
		hv[n] = NULL;
		r->headers = hv;
		if (bs_http_do(c->http, r, err) == 0) {
			r->headers = NULL;
			return 0;
		}
		r->headers = NULL;
		if (r->res.status != 401)
			return -1;
		if (c->scheme == AUTH_BASIC || attempt > 0)
			return refused(c, 401, err);
		if (authenticate(c, &r->res, err) < 0)
			return -1;
	}
}

static int get_token(struct bs_oci *c, const struct challenge *ch, struct bs_err *err)
{
	char url[4096], enc[1200], scope[600], rurl[512];
	struct bs_http_req r = {0};
	char *basic = NULL, *hdr = NULL;
	size_t basic_len = 0, off;
	const char *hv[2] = {NULL, NULL};
	json_t *root = NULL;
	const char *tok;
	int rc = -1;

	bs_http_redact_url(ch->realm, rurl, sizeof(rurl));
	if (strncasecmp(ch->realm, "https://", 8) && strncasecmp(ch->realm, "http://", 7))
		return bs_err_set(err, BS_ERR_NET,
				  "registry %s sent a token realm '%s' that is not an http(s) URL", c->host,
				  rurl);
	/* credentials go to the realm: never over plain http when the
	 * registry itself is https (a downgrade would show them to the
	 * network) */
	if (c->user && !strncasecmp(c->base, "https://", 8) && !strncasecmp(ch->realm, "http://", 7))
		return bs_err_set(err, BS_ERR_REFUSED,
				  "registry %s sent a token realm over plain http (%s): the credentials of user '%s' are not sent there",
				  c->host, rurl, c->user);
	off = (size_t)snprintf(url, sizeof(url), "%s%c", ch->realm, strchr(ch->realm, '?') ? '&' : '?');
	if (ch->service[0] && bs_url_encode(ch->service, 0, enc, sizeof(enc)) == 0)
		off += (size_t)snprintf(url + off, sizeof(url) - off, "service=%s&", enc);
	snprintf(scope, sizeof(scope), "repository:%s:pull,push", c->path);
	if (bs_url_encode(scope, 0, enc, sizeof(enc)) == 0)
		off += (size_t)snprintf(url + off, sizeof(url) - off, "scope=%s", enc);
	if (ch->scope[0] && strcmp(ch->scope, scope) && bs_url_encode(ch->scope, 0, enc, sizeof(enc)) == 0)
		off += (size_t)snprintf(url + off, sizeof(url) - off, "&scope=%s", enc);
	if (off >= sizeof(url))
		return bs_err_set(err, BS_ERR_NET, "registry %s: the token realm URL is too long", c->host);

	if (c->user) {
		size_t n;

		if (basic_auth(c, &basic, &basic_len, err) < 0)
			return -1;
		n = strlen("Authorization: Basic ") + basic_len + 1;
		hdr = malloc(n);
		if (!hdr) {
			bs_err_set(err, BS_ERR_NOMEM, "out of memory");
			goto out;
		}
		snprintf(hdr, n, "Authorization: Basic %s", basic);
		hv[0] = hdr;
		r.headers = hv;
	}
	r.method = "GET";
	r.url = url;
	if (bs_http_do(c->http, &r, err) < 0) {
		if (r.res.status == 401 || r.res.status == 403)
			refused(c, r.res.status, err);
		else
			bs_err_prefix(err, "unable to get a token for registry %s from '%s'", c->host, rurl);
		goto out;
	}
	root = json_loadb(r.res.body ? r.res.body : "", r.res.body_len, 0, NULL);
	tok = json_string_value(json_object_get(root, "token"));
	if (!tok || !*tok)
		tok = json_string_value(json_object_get(root, "access_token"));
	if (!tok || !*tok || strpbrk(tok, "\r\n")) {
		bs_err_set(err, BS_ERR_NET, "the token server '%s' of registry %s answered without a token",
			   rurl, c->host);
		goto out;
	}
	if (set_auth(c, "Bearer", tok, strlen(tok), err) < 0)
		goto out;
	OPENSSL_cleanse((char *)tok, strlen(tok));
	c->scheme = AUTH_BEARER;
	rc = 0;
out:
	if (root)
		json_decref(root);
	wipe_body(&r);
	bs_http_req_release(&r);
	free_secret(&basic, &basic_len);
	free_secret(&hdr, NULL);
	return rc;
}

/* Log in as the challenge in res asks. */
static int authenticate(struct bs_oci *c, const struct bs_http_result *res, struct bs_err *err)
{
	struct challenge ch;
	const char *h = bs_http_header(res, "WWW-Authenticate");

	if (parse_challenge(h, &ch) < 0)
		return bs_err_set(err, BS_ERR_NET,
				  "registry %s answered HTTP 401 without a WWW-Authenticate challenge",
				  c->host);
	if (!strcasecmp(ch.scheme, "Basic")) {
		char *b64 = NULL;
		size_t len = 0;
		int rc;

		if (!c->user)
			return refused(c, 401, err);
		if (basic_auth(c, &b64, &len, err) < 0)
			return -1;
		rc = set_auth(c, "Basic", b64, len, err);
		free_secret(&b64, &len);
		if (rc < 0)
			return -1;
		c->scheme = AUTH_BASIC;
		return 0;
	}
	if (!strcasecmp(ch.scheme, "Bearer")) {
		if (!ch.realm[0])
			return bs_err_set(err, BS_ERR_NET,
					  "registry %s asked for a Bearer token without a realm", c->host);
		return get_token(c, &ch, err);
	}
	return bs_err_set(err, BS_ERR_NET,
			  "registry %s asks for authentication of scheme '%s', which backstop does "
			  "not speak (Basic and Bearer only)",
			  c->host, ch.scheme);
}

static void manifest_url(const struct bs_oci *c, const char *ref, char *out, size_t n)
{
	snprintf(out, n, "%s/v2/%s/manifests/%s", c->base, c->path, ref);
}

/* A failed request's error, with the registry's own words. */
static int request_failed(const struct bs_oci *c, struct bs_http_req *r, struct bs_err *err, const char *fmt,
			  const char *arg)
{
	char why[400], what[300];

	if (err->code != BS_ERR_NET || !r->res.status)
		return bs_err_prefix(err, "registry %s", c->host);
	snprintf(what, sizeof(what), fmt, arg);
	registry_error(&r->res, why, sizeof(why));
	return bs_err_set(err, BS_ERR_NET, "registry %s: %s of %s: HTTP %ld%s", c->host, what, c->repo,
			  r->res.status, why);
}

/* GET a manifest by reference; want: the digest the bytes must have, or NULL. */
static int fetch(struct bs_oci *c, const char *ref, const char *want, struct bs_oci_manifest *m,
		 struct bs_err *err)
{
	char url[1024], got[BS_DIGEST_MAX];
	struct bs_http_req r = {0};
	const char *claimed;
	int rc = -1;

	bs_oci_manifest_release(m);
	manifest_url(c, ref, url, sizeof(url));
	r.method = "GET";
	r.url = url;
	if (oci_do(c, &r, ACCEPT_ALL, err) < 0) {
		if (r.res.status == 404)
			bs_err_set(err, BS_ERR_NOT_FOUND, "manifest %s is not in %s", ref, c->repo);
		else if (r.res.status != 401)
			request_failed(c, &r, err, "GET manifest %s", ref);
		goto out;
	}
	if (digest_of(r.res.body ? r.res.body : "", r.res.body_len, got, err) < 0)
		goto out;
	if (want && strcmp(want, got) != 0) {
		bs_err_set(err, BS_ERR_FORMAT,
			   "registry %s sent manifest bytes of %s whose sha256 is %s, not %s", c->host,
			   c->repo, got, want);
		goto out;
	}
	claimed = bs_http_header(&r.res, "Docker-Content-Digest");
	if (claimed && bs_digest_ok(claimed) && strcmp(claimed, got) != 0) {
		bs_err_set(err, BS_ERR_FORMAT,
			   "registry %s says manifest %s of %s is %s, but its bytes hash to %s", c->host, ref,
			   c->repo, claimed, got);
		goto out;
	}
	m->bytes = malloc(r.res.body_len + 1);
	if (!m->bytes) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (r.res.body_len)
		memcpy(m->bytes, r.res.body, r.res.body_len);
	m->bytes[r.res.body_len] = '\0';
	m->len = r.res.body_len;
	m->exists = 1;
	snprintf(m->digest, sizeof(m->digest), "%s", got);
	media_type_of(bs_http_header(&r.res, "Content-Type"), m->media_type, sizeof(m->media_type));
	if (!known_type(m->media_type))
		media_type_sniff(m->bytes, m->len, m->media_type, sizeof(m->media_type));
	rc = 0;
out:
	bs_http_req_release(&r);
	if (rc < 0)
		bs_oci_manifest_release(m);
	return rc;
}

/* ---- public --------------------------------------------------------------- */

void bs_oci_manifest_release(struct bs_oci_manifest *m)
{
	if (!m)
		return;
	free(m->bytes);
	memset(m, 0, sizeof(*m));
}

int bs_oci_open(const struct bs_oci_opts *o, struct bs_oci **out, struct bs_err *err)
{
	struct bs_http_opts ho;
	struct bs_http_req r = {0};
	struct bs_oci *c;
	char url[600];
	size_t n;

	*out = NULL;
	if (!o->host || !*o->host || !o->path || !*o->path)
		return bs_err_set(err, BS_ERR_INTERNAL, "bs_oci_open without a host or repository path");
	c = calloc(1, sizeof(*c));
	if (!c)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	snprintf(c->host, sizeof(c->host), "%s", o->host);
	snprintf(c->path, sizeof(c->path), "%s", o->path);
	snprintf(c->repo, sizeof(c->repo), "%s/%s", o->host, o->path);
	snprintf(c->key, sizeof(c->key), "%s", o->config_key ? o->config_key : "");
	if (o->url && *o->url)
		snprintf(c->base, sizeof(c->base), "%s", o->url);
	else
		snprintf(c->base, sizeof(c->base), "https://%s",
			 !strcmp(o->host, "docker.io") ? "registry-1.docker.io" : o->host);
	n = strlen(c->base);
	while (n > 0 && c->base[n - 1] == '/')
		c->base[--n] = '\0';
	if (strncasecmp(c->base, "https://", 8) && strncasecmp(c->base, "http://", 7)) {
		bs_err_set(err, BS_ERR_CONFIG, "registry URL '%s' is not an http:// or https:// URL",
			   c->base);
		goto fail;
	}
	if (o->username) {
		c->user = strdup(o->username);
		c->pass = strdup(o->password ? o->password : "");
		if (!c->user || !c->pass) {
			bs_err_set(err, BS_ERR_NOMEM, "out of memory");
			goto fail;
		}
		c->pass_len = strlen(c->pass);
	}
	bs_http_opts_default(&ho);
	ho.ca_file = o->ca_file;
	ho.cancel = o->cancel;
	ho.retry.budget_ms = 30000;
	c->http = bs_http_new(&ho, err);
	if (!c->http)
		goto fail;

	/* discovery: GET /v2/ */
	snprintf(url, sizeof(url), "%s/v2/", c->base);
	r.method = "GET";
	r.url = url;
	if (bs_http_do(c->http, &r, err) < 0) {
		if (r.res.status == 401) {
			if (authenticate(c, &r.res, err) < 0)
				goto fail;
			if (c->scheme == AUTH_BASIC && oci_do(c, &r, NULL, err) < 0) {
				if (r.res.status && r.res.status != 401)
					request_failed(c, &r, err, "%s", "GET /v2/");
				goto fail;
			}
		} else if (r.res.status) {
			char why[400];
			registry_error(&r.res, why, sizeof(why));
			bs_err_set(err, BS_ERR_NET,
				   "registry %s at '%s' does not answer the OCI distribution API: GET /v2/ "
				   "gave HTTP "
				   "%ld%s",
				   c->host, c->base, r.res.status, why);
			goto fail;
		} else {
			bs_err_prefix(err, "unable to reach registry %s", c->host);
			goto fail;
		}
	}
	bs_http_req_release(&r);
	*out = c;
	return 0;
fail:
	bs_http_req_release(&r);
	bs_oci_free(c);
	return -1;
}

void bs_oci_free(struct bs_oci *c)
{
	if (!c)
		return;
	bs_http_free(c->http);
	free_secret(&c->pass, &c->pass_len);
	free_secret(&c->auth, &c->auth_len);
	free(c->user);
	free(c);
}

const char *bs_oci_repo(const struct bs_oci *c)
{
	return c->repo;
}

int bs_oci_head(struct bs_oci *c, const char *ref, struct bs_oci_manifest *m, struct bs_err *err)
{
	char url[1024];
	struct bs_http_req r = {0};
	const char *d;
	int rc = -1;

	bs_oci_manifest_release(m);
	manifest_url(c, ref, url, sizeof(url));
	r.method = "HEAD";
	r.url = url;
	if (oci_do(c, &r, ACCEPT_ALL, err) < 0) {
		if (r.res.status == 404) {
			bs_err_clear(err);
			rc = 0;
		} else if (r.res.status != 401) {
			request_failed(c, &r, err, "HEAD manifest %s", ref);
		}
		goto out;
	}
	d = bs_http_header(&r.res, "Docker-Content-Digest");
	media_type_of(bs_http_header(&r.res, "Content-Type"), m->media_type, sizeof(m->media_type));
	if (!d || !bs_digest_ok(d) || !known_type(m->media_type)) {
		/* the registry does not say: fetch and hash */
		rc = fetch(c, ref, bs_digest_ok(ref) ? ref : NULL, m, err);
		free(m->bytes);
		m->bytes = NULL;
		m->len = 0;
		goto out;
	}
	m->exists = 1;
	snprintf(m->digest, sizeof(m->digest), "%s", d);
	rc = 0;
out:
	bs_http_req_release(&r);
	return rc;
}

int bs_oci_get(struct bs_oci *c, const char *digest, struct bs_oci_manifest *m, struct bs_err *err)
{
	if (!bs_digest_ok(digest))
		return bs_err_set(err, BS_ERR_USAGE, "'%s' is not a sha256 digest", digest);
	return fetch(c, digest, digest, m, err);
}

int bs_oci_put(struct bs_oci *c, const char *tag, const void *bytes, size_t len, const char *media_type,
	       char digest[BS_DIGEST_MAX], struct bs_err *err)
{
	char url[1024], ct[200], want[BS_DIGEST_MAX];
	struct bs_http_req r = {0};
	const char *d;
	int rc = -1;

	digest[0] = '\0';
	if (!media_type || !*media_type || strpbrk(media_type, "\r\n") || strlen(media_type) > 150)
		return bs_err_set(err, BS_ERR_INTERNAL, "bs_oci_put: bad media type");
	if (digest_of(bytes, len, want, err) < 0)
		return -1;
	snprintf(ct, sizeof(ct), "Content-Type: %s", media_type);
	manifest_url(c, tag, url, sizeof(url));
	r.method = "PUT";
	r.url = url;
	r.body = bytes;
	r.body_len = len;
	if (oci_do(c, &r, ct, err) < 0) {
		if (r.res.status == 403) {
			char why[400];
			registry_error(&r.res, why, sizeof(why));
			bs_err_set(err, BS_ERR_NET,
				   "registry %s refused to write tag '%s' of %s%s%s%s (HTTP 403)%s", c->host,
				   tag, c->path, c->user ? " for user '" : "", c->user ? c->user : "",
				   c->user ? "'" : "", why);
			bs_err_hint(err, "the registry account needs permission to push to %s", c->repo);
		} else if (r.res.status != 401) {
			request_failed(c, &r, err, "PUT manifest under tag %s", tag);
		}
		goto out;
	}
	d = bs_http_header(&r.res, "Docker-Content-Digest");
	if (d && strcmp(d, want) != 0) {
		bs_err_set(
		    err, BS_ERR_FORMAT,
		    "registry %s stored the manifest put under tag '%s' of %s as %s, but its bytes are %s",
		    c->host, tag, c->path, d, want);
		goto out;
	}
	snprintf(digest, BS_DIGEST_MAX, "%s", want);
	rc = 0;
out:
	bs_http_req_release(&r);
	return rc;
}

/* ---- opening from configuration -------------------------------------------- */

/* host[:port] of an http(s) URL, lowercased, without a default port. */
static int url_hostport(const char *url, char *out, size_t n)
{
	const char *p;
	size_t len;
	int https;

	if (!strncasecmp(url, "https://", 8))
		https = 1, p = url + 8;
	else if (!strncasecmp(url, "http://", 7))
		https = 0, p = url + 7;
	else
		return -1;
	len = strcspn(p, "/?#");
	if (memchr(p, '@', len)) {
		const char *at = memchr(p, '@', len);
		len -= (size_t)(at + 1 - p);
		p = at + 1;
	}
	if (len + 1 > n)
		return -1;
	for (size_t i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)p[i]);
	out[len] = '\0';
	if (https && len > 4 && !strcmp(out + len - 4, ":443"))
		out[len - 4] = '\0';
	if (!https && len > 3 && !strcmp(out + len - 3, ":80"))
		out[len - 3] = '\0';
	if (!strcmp(out, "registry-1.docker.io") || !strcmp(out, "index.docker.io"))
		snprintf(out, n, "docker.io");
	return 0;
}

static int same_registry(const char *url, const char *host)
{
	char a[300], b[300];
	size_t i;

	if (url_hostport(url, a, sizeof(a)) < 0)
		return 0;
	for (i = 0; host[i] && i + 1 < sizeof(b); i++)
		b[i] = (char)tolower((unsigned char)host[i]);
	b[i] = '\0';
	if (i > 4 && !strcmp(b + i - 4, ":443") && !strncasecmp(url, "https://", 8))
		b[i - 4] = '\0';
	if (i > 3 && !strcmp(b + i - 3, ":80") && !strncasecmp(url, "http://", 7))
		b[i - 3] = '\0';
	return strcmp(a, b) == 0;
}

/* Open a client for ref's repository with reg's settings: url (NULL:
 * https://host), and credentials when with_creds. */
static int open_with(const struct bs_service_registry *reg, const char *url, int with_creds, const char *key,
		     const struct bs_image_ref *ref, const volatile int *cancel, struct bs_oci **out,
		     struct bs_err *err)
{
	struct bs_oci_opts o = {0};
	char *pw = NULL;
	size_t pwlen = 0;
	int rc;

	o.url = url;
	o.host = ref->host;
	o.path = ref->path;
	o.config_key = key;
	o.cancel = cancel;
	if (reg && with_creds) {
		o.ca_file = reg->ca_file;
		o.username = reg->username;
		if (reg->username && reg->password_file) {
			if (bs_config_read_secret(reg->password_file, &pw, &pwlen, err) < 0) {
				bs_err_prefix(err, "%s%spassword_file", key ? key : "registry",
					      key ? "." : " ");
				return -1;
			}
			o.password = pw;
		}
	}
	rc = bs_oci_open(&o, out, err);
	bs_config_free_secret(pw, pwlen);
	return rc;
}

int bs_oci_open_service(const struct bs_service *svc, const volatile int *cancel, struct bs_oci **out,
			struct bs_err *err)
{
	struct bs_image_ref ref;
	char key[160];

	*out = NULL;
	if (!svc->image)
		return bs_err_set(err, BS_ERR_CONFIG, "service '%s' has no image", svc->name);
	if (bs_image_ref_parse(svc->image, &ref, err) < 0) {
		err->code = BS_ERR_CONFIG;
		return bs_err_prefix(err, "services.%s.image", svc->name);
	}
	snprintf(key, sizeof(key), "services.%s.registry", svc->name);
	return open_with(&svc->registry, svc->registry.url, 1, key, &ref, cancel, out, err);
}

int bs_oci_resolve(const struct bs_service_registry *reg, const struct bs_image_ref *ref,
		   char digest[BS_DIGEST_MAX], struct bs_err *err)
{
	struct bs_oci *c = NULL;
	const char *tag = ref->tag[0] ? ref->tag : "latest";
	const char *url = NULL;
	int creds = 1, rc;

	digest[0] = '\0';
	if (ref->digest[0]) {
		snprintf(digest, BS_DIGEST_MAX, "%s", ref->digest);
		return 0;
	}
	if (reg && reg->url) {
		if (same_registry(reg->url, ref->host))
			url = reg->url;
		else
			creds = 0;
	}
	if (open_with(reg, url, creds, NULL, ref, NULL, &c, err) < 0)
		return -1;
	rc = bs_oci_tag_digest(c, tag, digest, err);
	bs_oci_free(c);
	return rc;
}

int bs_oci_tag_digest(struct bs_oci *c, const char *tag, char digest[BS_DIGEST_MAX], struct bs_err *err)
{
	struct bs_oci_manifest m = {0};
	int rc = -1;

	digest[0] = '\0';
	if (bs_oci_head(c, tag, &m, err) < 0)
		goto out;
	if (!m.exists) {
		bs_err_set(err, BS_ERR_NOT_FOUND, "tag '%s' is not in %s", tag, c->repo);
		goto out;
	}
	snprintf(digest, BS_DIGEST_MAX, "%s", m.digest);
	rc = 0;
out:
	bs_oci_manifest_release(&m);
	return rc;
}
