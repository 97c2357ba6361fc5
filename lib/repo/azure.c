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
 * objects).  All of that, and the streams, is the object store layer's
 * (objstore.h); this file is what only Azure does: its addressing and
 * credentials, Shared Key and SAS, its errors and listings, and blocks
 * (Put Block with fixed-length ids, committed in order by Put Block List;
 * nothing is visible before that).
 */
#include <ctype.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/secret.h"
#include "net/xml.h"
#include "repo/azure_int.h"

#define AZ_BLOB "x-ms-blob-type: BlockBlob"

static const struct objstore_driver az_driver;

/* ---- location, credentials ---- */

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
	if (objstore_endpoint(endpoint, loc, &h, &hl, err) < 0)
		return -1;
	path = h + hl;
	pl = strlen(path);
	while (pl && path[pl - 1] == '/')
		pl--;
	a->base = strndup(endpoint, (size_t)(h - endpoint) + hl);
	a->path0 = strndup(path, pl);
	if (asprintf(&a->os.where, "container '%s' of account '%s' at %.*s", a->container, a->account,
		     (int)((size_t)(h - endpoint) + hl + pl), endpoint) < 0)
		a->os.where = NULL;
	if (!a->base || !a->path0 || !a->os.where)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	return 0;
}

static int parse_location(struct az *a, const char *loc, const struct bs_repo_settings *set, struct bs_err *err)
{
	const char *p = loc + strlen("azure://"), *q = strchr(p, '?');
	size_t l = strcspn(p, "/?");
	char endpoint[512] = "";

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
	if (objstore_set_prefix(&a->os, p, q ? (size_t)(q - p) : strlen(p), loc, err) < 0)
		return -1;
	if (!objstore_query_param(q ? q + 1 : NULL, "endpoint", endpoint, sizeof(endpoint)) && set && set->endpoint)
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
		bs_err_set(err, BS_ERR_CONFIG, "the SAS token for %s has no signature ('sig=')", a->os.where);
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
						       "(AZURE_STORAGE_ACCOUNT), not of %s", acct, a->os.where);
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
	bs_err_set(err, BS_ERR_CONFIG, "no Azure credentials for %s", a->os.where);
	bs_err_hint(err, "set AZURE_STORAGE_KEY to the account key, or 'sas_token_file' under 'repository:' "
			 "(or AZURE_STORAGE_SAS_TOKEN) to a SAS token");
	return -1;
}

static void az_destroy(struct objstore *os)
{
	struct az *a = (struct az *)os;

	if (!a)
		return;
	objstore_release(&a->os);
	if (a->key) {
		bs_secret_wipe(a->key, a->keylen);
		free(a->key);
	}
	bs_secret_free(a->sas);
	free(a->account);
	free(a->container);
	free(a->base);
	free(a->path0);
	free(a);
}

static struct objstore *az_create(const char *loc, const struct bs_repo_settings *set, struct bs_err *err)
{
	struct az *a = calloc(1, sizeof(*a));

	if (!a) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		return NULL;
	}
	objstore_setup(&a->os, &az_driver, set, AZ_BLOCK_DEFAULT, AZ_BLOCK_MIN);
	if (parse_location(a, loc, set, err) < 0 || load_cred(a, set, err) < 0) {
		az_destroy(&a->os);
		return NULL;
	}
	return &a->os;
}

static const char *const *az_object_headers(struct objstore *os, int small)
{
	static const char *const blob[] = { AZ_BLOB, NULL };

	(void)os;
	(void)small;
	return blob;
}

/* ---- requests ---- */

/* Fill r (zeroed first) for method on key (the prefix is added; NULL: the
 * container) with query q (unencoded) and extra header lines; len is the
 * body length (Content-Length). */
static int az_prepare(struct az *a, struct os_req *r, const char *method, const char *key,
		      const struct bs_az_query *q, size_t nq, const char *const *extra, const void *body, size_t len,
		      struct bs_err *err)
{
	char path[2048], target[sizeof(r->url)];
	struct bs_az_sign_in in;
	size_t nh = 0, i;
	int n;

	memset(r, 0, sizeof(*r));
	n = snprintf(path, sizeof(path), "%s/%s%s%s%s", a->path0, a->container, key ? "/" : "",
		     key ? a->os.prefix : "", key ? key : "");
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

static int az_prepare_plain(struct objstore *os, struct os_req *r, const char *method, const char *key,
			    const char *const *extra, const void *body, size_t len, struct bs_err *err)
{
	return az_prepare((struct az *)os, r, method, key, NULL, 0, extra, body, len, err);
}

static int az_fail(struct objstore *os, const struct bs_http_result *res, const char *what, const char *key,
		   struct bs_err *err)
{
	struct az *a = (struct az *)os;
	struct bs_xml_error x;
	struct bs_err e;
	const char *hc, *rid;
	char *nl;

	memset(&x, 0, sizeof(x));
	bs_err_init(&e);
	if (res->status && res->body && res->body_len)
		bs_xml_error_parse(res->body, res->body_len, &x, &e);
	/* HEAD answers carry no body: the code is in a header */
	if (!x.code[0] && (hc = bs_http_header(res, "x-ms-error-code")))
		snprintf(x.code, sizeof(x.code), "%s", hc);
	if ((nl = strchr(x.message, '\n'))) /* "...\nRequestId:...\nTime:..." */
		*nl = '\0';
	if ((rid = bs_http_header(res, "x-ms-request-id")))
		snprintf(x.request_id, sizeof(x.request_id), "%s", rid);
	if (res->status == 409 && strcmp(x.code, "BlobAlreadyExists") == 0) {
		bs_err_set(err, BS_ERR_EXISTS, "'%s' already exists in %s", key ? key : "", os->where);
		return -1;
	}
	objstore_error(os, res, what, key, &x, "ContainerNotFound", err);
	if (res->status == 403 && strncmp(x.code, "AuthorizationPermission", 23) == 0)
		bs_err_hint(err, "the SAS token does not allow this; backstop needs read, add, create, write, delete "
				 "and list permissions on the container (sp=racwdl)");
	else if (res->status == 401 || res->status == 403)
		bs_err_hint(err, a->key ? "check the account key (AZURE_STORAGE_KEY) and the account name: a "
					  "wrong key is refused as AuthenticationFailed or AuthorizationFailure"
					: "check the SAS token: its signature, expiry, permissions and the container "
					  "it was made for");
	return -1;
}

static int az_request(struct az *a, struct os_req *r, const char *method, const char *key,
		      const struct bs_az_query *q, size_t nq, const char *const *extra, const void *body, size_t len,
		      const char *what, struct bs_err *err)
{
	if (az_prepare(a, r, method, key, q, nq, extra, body, len, err) < 0)
		return -1;
	return objstore_run(&a->os, r, what, key, err);
}

/* ---- list ---- */

static int list_page(struct az *a, struct os_req *q, const char *prefix, bs_repo_list_fn fn, void *ud,
		     int internal, char *next, size_t nsz, struct bs_err *err)
{
	struct bs_xml *x = bs_xml_parse(q->http.res.body, q->http.res.body_len, "Azure listing", err);
	const struct _xmlNode *n;
	char key[BS_REPO_KEY_MAX * 2], size[32], mod[64];
	size_t pl = strlen(a->os.prefix);
	int rc = 0;

	if (!x)
		return bs_err_prefix(err, "listing '%s' in %s", prefix, a->os.where);
	for (n = bs_xml_child(bs_xml_root(x), "Blobs/Blob"); n && rc == 0; n = bs_xml_next(n, "Blob")) {
		struct bs_repo_entry e;
		if (bs_xml_text(n, "Name", key, sizeof(key)) < 0 || strncmp(key, a->os.prefix, pl) != 0)
			continue;
		if (objstore_internal_key(key + pl) != internal)
			continue;
		size[0] = mod[0] = '\0';
		bs_xml_text(n, "Properties/Content-Length", size, sizeof(size));
		bs_xml_text(n, "Properties/Last-Modified", mod, sizeof(mod));
		e.key = key + pl;
		e.size = strtoull(size, NULL, 10);
		e.mtime = objstore_http_date(mod);
		e.is_link = 0;
		rc = fn(ud, &e, err);
	}
	next[0] = '\0';
	if (bs_xml_text(bs_xml_root(x), "NextMarker", next, nsz) >= (long)nsz)
		rc = rc ? rc : bs_err_set(err, BS_ERR_FORMAT, "Azure listing of %s: continuation marker too long",
					  a->os.where);
	bs_xml_free(x);
	return rc;
}

/* List Blobs under the prefix + prefix, every page. */
static int az_list_keys(struct objstore *os, const char *prefix, int internal, bs_repo_list_fn fn, void *ud,
			struct bs_err *err)
{
	struct az *a = (struct az *)os;
	char full[BS_REPO_KEY_MAX * 2], marker[2048] = "";
	int rc = 0;

	snprintf(full, sizeof(full), "%s%s", os->prefix, prefix);
	do {
		struct bs_az_query qv[4] = { { "restype", "container" }, { "comp", "list" }, { "prefix", full },
					     { "marker", marker } };
		struct os_req q;
		if (az_request(a, &q, "GET", NULL, qv, marker[0] ? 4 : 3, NULL, NULL, 0, "list", err) < 0) {
			os_req_release(&q);
			return -1;
		}
		rc = list_page(a, &q, prefix, fn, ud, internal, marker, sizeof(marker), err);
		os_req_release(&q);
	} while (rc == 0 && marker[0]);
	return rc;
}

/* ---- blocks: Put Block, Put Block List ---- */

/* Block n's id: base64 of its 6-digit number (8 characters, no padding,
 * never '+' or '/': every id of a blob has the same length, as Azure
 * requires, and needs no escaping). */
static void block_id(int no, char out[16])
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char d[8];
	int i;

	snprintf(d, sizeof(d), "%06d", no);
	for (i = 0; i < 2; i++) {
		const unsigned char *s = (const unsigned char *)d + 3 * i;
		out[4 * i] = b64[s[0] >> 2];
		out[4 * i + 1] = b64[((s[0] & 3) << 4) | (s[1] >> 4)];
		out[4 * i + 2] = b64[((s[1] & 15) << 2) | (s[2] >> 6)];
		out[4 * i + 3] = b64[s[2] & 63];
	}
	out[8] = '\0';
}

static int az_block(struct objstore *os, struct os_req *r, const char *key, const char *upload, int no,
		    const void *buf, size_t len, struct bs_err *err)
{
	char id[16];
	struct bs_az_query qv[2] = { { "comp", "block" }, { "blockid", id } };

	(void)upload;
	block_id(no, id);
	return az_prepare((struct az *)os, r, "PUT", key, qv, 2, NULL, buf, len, err);
}

static int az_commit_blocks(struct objstore *os, struct os_req *q, const char *key, const char *upload,
			    char *const *etags, int n, int create_only, struct bs_err *err)
{
	struct bs_az_query qv[1] = { { "comp", "blocklist" } };
	const char *extra[2] = { create_only ? "If-None-Match: *" : NULL, NULL };
	char *xml = NULL, id[16];
	size_t xl = 0;
	FILE *f = open_memstream(&xml, &xl);
	int i, rc;

	(void)upload;
	(void)etags;
	if (!f)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	fputs("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>", f);
	for (i = 1; i <= n; i++) {
		block_id(i, id);
		fprintf(f, "<Latest>%s</Latest>", id);
	}
	fputs("</BlockList>", f);
	if (fclose(f) != 0) {
		free(xml);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	rc = az_request((struct az *)os, q, "PUT", key, qv, 1, extra, xml, xl, "commit the blocks of", err);
	q->http.body = NULL; /* xml goes now; q is read for its outcome only */
	free(xml);
	return rc;
}

/* ---- the gate of object leases: a blob lease ---- */

#define AZ_GATE_SECONDS 15 /* Azure's shortest lease: a gate whose holder died is free this soon */

/* Enter: make the blob leases/<name>.gate (If-None-Match: *, so two
 * makers are fine) and take a blob lease of AZ_GATE_SECONDS on it; 409
 * LeaseAlreadyPresent is BS_ERR_LOCKED.  Leave: delete the blob with the
 * lease id, which ends the lease and leaves nothing behind (a gate whose
 * lease ran out and went to another holder is theirs: 412, left alone). */
static int az_gate_enter(struct objstore *os, const char *name, char token[64], struct bs_err *err)
{
	struct az *a = (struct az *)os;
	struct bs_az_query qv[1] = { { "comp", "lease" } };
	unsigned char r[16];
	char dur[48], prop[96], key[96];
	const char *lease[4] = { "x-ms-lease-action: acquire", dur, prop, NULL };
	const char *create[3] = { AZ_BLOB, "If-None-Match: *", NULL };
	struct os_req q;
	long status;
	int tries, rc;

	if (RAND_bytes(r, sizeof(r)) != 1)
		return bs_err_set(err, BS_ERR_INTERNAL, "no random bytes for a lease id");
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	snprintf(token, 64, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2],
		 r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
	snprintf(dur, sizeof(dur), "x-ms-lease-duration: %d", AZ_GATE_SECONDS);
	snprintf(prop, sizeof(prop), "x-ms-proposed-lease-id: %s", token);
	snprintf(key, sizeof(key), "leases/%s.gate", name);
	for (tries = 0; tries < 3; tries++) {
		if (objstore_simple(os, "PUT", key, create, "", 0, err) < 0) {
			if (err->code != BS_ERR_EXISTS) /* there already (412/409): fine */
				return -1;
			bs_err_init(err);
		}
		rc = az_request(a, &q, "PUT", key, qv, 1, lease, "", 0, "take the lease gate", err);
		status = q.http.res.status;
		os_req_release(&q);
		if (rc == 0)
			return 0;
		if (status == 409) {
			bs_err_set(err, BS_ERR_LOCKED, "the gate of lease '%s' in %s is taken", name, os->where);
			return -1;
		}
		if (err->code != BS_ERR_NOT_FOUND) /* deleted by its last holder in between: again */
			return -1;
		bs_err_init(err);
	}
	return bs_err_set(err, BS_ERR_LOCKED, "the gate of lease '%s' in %s keeps vanishing", name, os->where);
}

static int az_gate_leave(struct objstore *os, const char *name, const char *token, struct bs_err *err)
{
	char id[96], key[96];
	const char *extra[2] = { id, NULL };
	int rc;

	snprintf(id, sizeof(id), "x-ms-lease-id: %s", token);
	snprintf(key, sizeof(key), "leases/%s.gate", name);
	rc = objstore_simple(os, "DELETE", key, extra, NULL, 0, err);
	if (rc < 0 && (err->code == BS_ERR_NOT_FOUND || err->code == BS_ERR_EXISTS)) {
		bs_err_init(err); /* gone, or (412) no longer ours */
		rc = 0;
	}
	return rc;
}

/* Discard the uncommitted blocks of key.  Azure has no call for that, but
 * a commit drops every uncommitted block: commit an empty block list, only
 * if no blob is there (If-None-Match: *), then delete that empty blob, only
 * if it is still the one just made (If-Match).  A blob already committed
 * under key is left alone (its writer finished; stray blocks of it go with
 * Azure's weekly clean-up). */
static int az_discard_blocks(struct objstore *os, const char *key, const char *upload, struct bs_err *err)
{
	struct az *a = (struct az *)os;
	static const char empty[] = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList></BlockList>";
	struct bs_az_query qv[1] = { { "comp", "blocklist" } };
	const char *extra[2] = { "If-None-Match: *", NULL };
	const char *match[2] = { NULL, NULL };
	char hdr[200];
	const char *etag;
	struct os_req q;
	int rc, resent;

	(void)upload;
	rc = az_request(a, &q, "PUT", key, qv, 1, extra, empty, sizeof(empty) - 1, "discard the blocks of", err);
	etag = rc == 0 ? bs_http_header(&q.http.res, "ETag") : NULL;
	if (etag)
		snprintf(hdr, sizeof(hdr), "If-Match: %s", etag);
	resent = q.http.res.attempts > 1;
	os_req_release(&q);
	if (rc < 0) {
		struct bs_repo_stat st;
		if (err->code != BS_ERR_EXISTS)
			return -1;
		bs_err_init(err);
		/* committed by its writer: not ours to touch; unless it is the
		 * empty blob of our own attempt whose answer was lost (nothing
		 * backstop uploads is empty) */
		if (!resent || objstore_head(os, key, &st, err) < 0 || st.size > 0) {
			bs_err_init(err);
			return 0;
		}
		return objstore_delete(os, key, err);
	}
	if (!etag)
		return bs_err_set(err, BS_ERR_NET, "Azure gave no ETag for the empty blob '%s' in %s", key, os->where);
	match[0] = hdr;
	rc = objstore_simple(os, "DELETE", key, match, NULL, 0, err);
	if (rc < 0 && (err->code == BS_ERR_NOT_FOUND || err->code == BS_ERR_EXISTS)) {
		bs_err_init(err); /* gone, or replaced by a writer meanwhile (412): theirs now */
		rc = 0;
	}
	return rc;
}

/* ---- the driver and the ops table ---- */

static const struct objstore_driver az_driver = {
	.name = "Azure",
	.container_word = "container",
	.range_header = "x-ms-range",
	.create_only_atomic = 1, /* If-None-Match: * on Put Blob and Put Block List */
	.part_etag = 0,
	.parts_max = 50000,      /* committed blocks per blob */
	.double_every = 5000,
	.part_limit = AZ_BLOCK_LIMIT,
	.hint_div = 45000,
	.create = az_create,
	.destroy = az_destroy,
	.prepare = az_prepare_plain,
	.fail = az_fail,
	.list = az_list_keys,
	.object_headers = az_object_headers,
	.begin = NULL,           /* blocks need no upload id */
	.part = az_block,
	.complete = az_commit_blocks,
	.abort = az_discard_blocks,
	.gate_enter = az_gate_enter,
	.gate_leave = az_gate_leave,
};

static int az_open(struct bs_repo *r, const char *location, const struct bs_repo_settings *set,
		   struct bs_err *err)
{
	return objstore_open(r, &az_driver, location, set, err);
}

static int az_init(struct bs_repo *r, const char *location, const struct bs_repo_settings *set, int *existed,
		   struct bs_err *err)
{
	return objstore_init(r, &az_driver, location, set, existed, err);
}

const struct bs_repo_ops bs_repo_azure_ops = {
	.scheme = "azure",
	.features = BS_REPO_F_RANGED_GET | BS_REPO_F_CREATE_ONLY | BS_REPO_F_UNFINISHED_LIST,
	.open = az_open,
	.init = az_init,
	.close = objstore_close,
	.stat = objstore_stat,
	.get = objstore_get,
	.put = objstore_put,
	.list = objstore_list,
	.remove = objstore_remove,
	.path_create = NULL,
	.list_unfinished = objstore_list_unfinished,
	.remove_unfinished = objstore_remove_unfinished,
	.lease_acquire = objstore_lease_acquire,
	.lease_renew = objstore_lease_renew,
	.lease_release = objstore_lease_release,
};
