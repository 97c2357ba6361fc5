/* s3_sign.c - AWS Signature Version 4 (see s3_sign.h) */
#include "repo/s3_sign.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/hash.h"
#include "common/secret.h"
#include "net/url.h"

static int cmp_query(const void *a, const void *b)
{
	const struct bs_s3_query *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->value, y->value);
}

/* name=value&... sorted by encoded name (names here are plain ASCII, so
 * the order of the unencoded names is the same) */
static int canonical_query(const struct bs_s3_sign_in *in, char *out, size_t outsz)
{
	struct bs_s3_query *q;
	size_t i, o = 0;
	char name[1024], value[2048];
	int rc = 0;

	out[0] = '\0';
	if (!in->nquery)
		return 0;
	if (!(q = malloc(in->nquery * sizeof(*q))))
		return -1;
	memcpy(q, in->query, in->nquery * sizeof(*q));
	qsort(q, in->nquery, sizeof(*q), cmp_query);
	for (i = 0; i < in->nquery && rc == 0; i++) {
		int n;
		if (bs_url_encode(q[i].name, 0, name, sizeof(name)) < 0 ||
		    bs_url_encode(q[i].value, 0, value, sizeof(value)) < 0) {
			rc = -1;
			break;
		}
		n = snprintf(out + o, outsz - o, "%s%s=%s", i ? "&" : "", name, value);
		if (n < 0 || (size_t)n >= outsz - o)
			rc = -1;
		else
			o += (size_t)n;
	}
	free(q);
	return rc;
}

int bs_s3_target(const struct bs_s3_sign_in *in, char *out, size_t outsz)
{
	char query[4096];
	size_t n;

	if (bs_url_encode(in->path, 1, out, outsz) < 0 || canonical_query(in, query, sizeof(query)) < 0)
		return -1;
	if (!query[0])
		return 0;
	n = strlen(out);
	if (n + 1 + strlen(query) >= outsz)
		return -1;
	out[n] = '?';
	strcpy(out + n + 1, query);
	return 0;
}

void bs_s3_amz_date(time_t now, char out[17])
{
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

/* A header the signature covers: lower-cased name and trimmed value. */
struct hdr {
	char name[64];
	const char *value;
	size_t vlen;
};

static int signed_header(const char *name)
{
	return strcmp(name, "host") == 0 || strcmp(name, "range") == 0 || strcmp(name, "content-md5") == 0 ||
	       strcmp(name, "content-type") == 0 || strncmp(name, "x-amz-", 6) == 0;
}

static int cmp_hdr(const void *a, const void *b)
{
	return strcmp(((const struct hdr *)a)->name, ((const struct hdr *)b)->name);
}

/* The signed headers of the request, host first added, sorted. */
static size_t collect_headers(const struct bs_s3_sign_in *in, struct hdr *h, size_t max)
{
	size_t n = 0, i;

	snprintf(h[n].name, sizeof(h[n].name), "host");
	h[n].value = in->host;
	h[n++].vlen = strlen(in->host);
	for (i = 0; in->headers && in->headers[i] && n < max; i++) {
		const char *line = in->headers[i], *colon = strchr(line, ':');
		size_t k, len;
		if (!colon || (size_t)(colon - line) >= sizeof(h[n].name))
			continue;
		for (k = 0; line + k < colon; k++)
			h[n].name[k] = (char)tolower((unsigned char)line[k]);
		h[n].name[k] = '\0';
		if (!signed_header(h[n].name) || strcmp(h[n].name, "host") == 0)
			continue;
		colon++;
		while (*colon == ' ' || *colon == '\t')
			colon++;
		len = strlen(colon);
		while (len && (colon[len - 1] == ' ' || colon[len - 1] == '\t'))
			len--;
		h[n].value = colon;
		h[n++].vlen = len;
	}
	qsort(h, n, sizeof(*h), cmp_hdr);
	return n;
}

static int hmac(const void *key, size_t klen, const char *msg, unsigned char out[32])
{
	unsigned int len = 32;

	return HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &len) ? 0 : -1;
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), "s3"), "aws4_request") */
static int signing_key(const struct bs_s3_cred *c, const char *date, const char *region, unsigned char k[32])
{
	size_t slen = strlen(c->secret_key);
	char *first = malloc(slen + 5);
	int rc;

	if (!first)
		return -1;
	memcpy(first, "AWS4", 4);
	memcpy(first + 4, c->secret_key, slen + 1);
	rc = hmac(first, slen + 4, date, k);
	bs_secret_wipe(first, slen + 4);
	free(first);
	if (rc < 0 || hmac(k, 32, region, k) < 0 || hmac(k, 32, "s3", k) < 0 || hmac(k, 32, "aws4_request", k) < 0)
		return -1;
	return 0;
}

static int build_creq(const struct bs_s3_sign_in *in, const struct hdr *h, size_t nh, char *creq,
		      size_t csz, char *names, size_t nsz)
{
	char path[3 * 1024 + 1], query[4096];
	size_t i, o, no = 0;
	int n;

	if (bs_url_encode(in->path, 1, path, sizeof(path)) < 0 || canonical_query(in, query, sizeof(query)) < 0)
		return -1;
	n = snprintf(creq, csz, "%s\n%s\n%s\n", in->method, path, query);
	if (n < 0 || (size_t)n >= csz)
		return -1;
	o = (size_t)n;
	names[0] = '\0';
	for (i = 0; i < nh; i++) {
		n = snprintf(creq + o, csz - o, "%s:%.*s\n", h[i].name, (int)h[i].vlen, h[i].value);
		if (n < 0 || (size_t)n >= csz - o)
			return -1;
		o += (size_t)n;
		n = snprintf(names + no, nsz - no, "%s%s", i ? ";" : "", h[i].name);
		if (n < 0 || (size_t)n >= nsz - no)
			return -1;
		no += (size_t)n;
	}
	n = snprintf(creq + o, csz - o, "\n%s\n%s", names, in->payload);
	return n < 0 || (size_t)n >= csz - o ? -1 : 0;
}

int bs_s3_sign(const struct bs_s3_sign_in *in, const struct bs_s3_cred *c, char *auth, size_t authsz,
	       struct bs_err *err)
{
	struct hdr h[32];
	char creq[16384], names[1024], amz[17], date[9], sts[512], hex[65];
	unsigned char digest[32], key[32], sig[32];
	size_t nh = collect_headers(in, h, sizeof(h) / sizeof(h[0]));
	int n;

	bs_s3_amz_date(in->now, amz);
	memcpy(date, amz, 8);
	date[8] = '\0';
	if (build_creq(in, h, nh, creq, sizeof(creq), names, sizeof(names)) < 0)
		return bs_err_set(err, BS_ERR_INTERNAL, "S3 request to sign is too long: %s %s", in->method,
				  in->path);
	if (bs_sha256(creq, strlen(creq), digest, err) < 0)
		return -1;
	bs_hex(digest, 32, hex);
	snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256\n%s\n%s/%s/s3/aws4_request\n%s", amz, date, in->region, hex);
	if (signing_key(c, date, in->region, key) < 0 || hmac(key, 32, sts, sig) < 0) {
		bs_secret_wipe(key, sizeof(key));
		return bs_err_set(err, BS_ERR_CRYPTO, "unable to compute the S3 request signature");
	}
	bs_secret_wipe(key, sizeof(key));
	bs_hex(sig, 32, hex);
	n = snprintf(auth, authsz, "AWS4-HMAC-SHA256 Credential=%s/%s/%s/s3/aws4_request,SignedHeaders=%s,Signature=%s",
		     c->access_key, date, in->region, names, hex);
	if (n < 0 || (size_t)n >= authsz)
		return bs_err_set(err, BS_ERR_INTERNAL, "S3 Authorization header too long");
	return 0;
}
