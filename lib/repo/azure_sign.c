/* azure_sign.c - Shared Key authorization (see azure_sign.h) */
#include "repo/azure_sign.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/secret.h"
#include "net/url.h"

int bs_az_target(const struct bs_az_sign_in *in, char *out, size_t outsz)
{
	size_t i, o;

	if (bs_url_encode(in->path, 1, out, outsz) < 0)
		return -1;
	o = strlen(out);
	for (i = 0; i < in->nquery; i++) {
		if (o + 2 >= outsz)
			return -1;
		out[o++] = i ? '&' : '?';
		if (bs_url_encode(in->query[i].name, 0, out + o, outsz - o) < 0)
			return -1;
		o += strlen(out + o);
		if (o + 2 >= outsz)
			return -1;
		out[o++] = '=';
		if (bs_url_encode(in->query[i].value, 0, out + o, outsz - o) < 0)
			return -1;
		o += strlen(out + o);
	}
	out[o] = '\0';
	return 0;
}

/* Value of header name among in->headers (trimmed; "" when absent). */
static void header_value(const struct bs_az_sign_in *in, const char *name, char *out, size_t outsz)
{
	size_t nl = strlen(name), i;

	out[0] = '\0';
	for (i = 0; in->headers && in->headers[i]; i++) {
		const char *h = in->headers[i], *v, *e;
		if (strncasecmp(h, name, nl) != 0 || h[nl] != ':')
			continue;
		v = h + nl + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		e = v + strlen(v);
		while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		snprintf(out, outsz, "%.*s", (int)(e - v), v);
		return;
	}
}

struct line {
	char name[64];
	const char *value;
	size_t vlen;
};

static int cmp_line(const void *a, const void *b)
{
	return strcmp(((const struct line *)a)->name, ((const struct line *)b)->name);
}

static int cmp_query(const void *a, const void *b)
{
	return strcasecmp(((const struct bs_az_query *)a)->name, ((const struct bs_az_query *)b)->name);
}

#define APPEND(...)                                                              \
	do {                                                                     \
		int n_ = snprintf(out + o, outsz - o, __VA_ARGS__);              \
		if (n_ < 0 || (size_t)n_ >= outsz - o)                           \
			goto toolong;                                            \
		o += (size_t)n_;                                                 \
	} while (0)

int bs_az_string_to_sign(const struct bs_az_sign_in *in, char *out, size_t outsz)
{
	static const char *const std[] = { "Content-Encoding", "Content-Language", NULL, "Content-MD5",
					   "Content-Type", "Date", "If-Modified-Since", "If-Match",
					   "If-None-Match", "If-Unmodified-Since", "Range" };
	struct line lines[32];
	struct bs_az_query q[16];
	size_t nl = 0, i, j, o = 0;
	char v[512];

	APPEND("%s\n", in->method);
	for (i = 0; i < sizeof(std) / sizeof(std[0]); i++) {
		if (!std[i]) {
			if (in->content_length)
				APPEND("%llu\n", (unsigned long long)in->content_length);
			else
				APPEND("\n");
			continue;
		}
		header_value(in, std[i], v, sizeof(v));
		APPEND("%s\n", v);
	}
	for (i = 0; in->headers && in->headers[i]; i++) {
		const char *h = in->headers[i], *colon = strchr(h, ':'), *e;
		if (!colon || strncasecmp(h, "x-ms-", 5) != 0)
			continue;
		if (nl == sizeof(lines) / sizeof(lines[0]) || (size_t)(colon - h) >= sizeof(lines[0].name))
			return -1;
		for (j = 0; j < (size_t)(colon - h); j++)
			lines[nl].name[j] = (char)tolower((unsigned char)h[j]);
		lines[nl].name[j] = '\0';
		while (j && lines[nl].name[j - 1] == ' ')
			lines[nl].name[--j] = '\0';
		lines[nl].value = colon + 1;
		while (*lines[nl].value == ' ' || *lines[nl].value == '\t')
			lines[nl].value++;
		e = lines[nl].value + strlen(lines[nl].value);
		while (e > lines[nl].value && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		lines[nl].vlen = (size_t)(e - lines[nl].value);
		nl++;
	}
	qsort(lines, nl, sizeof(lines[0]), cmp_line);
	for (i = 0; i < nl; i++)
		APPEND("%s:%.*s\n", lines[i].name, (int)lines[i].vlen, lines[i].value);
	APPEND("/%s%s", in->account, in->path);
	if (in->nquery > sizeof(q) / sizeof(q[0]))
		return -1;
	if (in->nquery)
		memcpy(q, in->query, in->nquery * sizeof(q[0]));
	qsort(q, in->nquery, sizeof(q[0]), cmp_query);
	for (i = 0; i < in->nquery; i++) {
		APPEND("\n");
		for (j = 0; q[i].name[j]; j++)
			APPEND("%c", tolower((unsigned char)q[i].name[j]));
		APPEND(":%s", q[i].value);
	}
	return 0;
toolong:
	return -1;
}

void bs_az_date(time_t now, char out[32])
{
	static const char *const wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const mo[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	gmtime_r(&now, &tm);
	snprintf(out, 32, "%s, %02d %s %04d %02d:%02d:%02d GMT", wd[tm.tm_wday], tm.tm_mday, mo[tm.tm_mon],
		 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int bs_az_key_decode(const char *b64, unsigned char **key, size_t *len, struct bs_err *err)
{
	size_t n = strlen(b64), pad = 0, i;
	unsigned char *k;
	int got;

	*key = NULL;
	*len = 0;
	for (i = 0; i < n; i++)
		if (!(isalnum((unsigned char)b64[i]) || b64[i] == '+' || b64[i] == '/' || b64[i] == '='))
			break;
	if (n == 0 || n % 4 || i != n)
		return bs_err_set(err, BS_ERR_CONFIG, "the Azure storage account key is not base64");
	if (!(k = malloc(n / 4 * 3 + 1)))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	got = EVP_DecodeBlock(k, (const unsigned char *)b64, (int)n);
	if (got < 0) {
		free(k);
		return bs_err_set(err, BS_ERR_CONFIG, "the Azure storage account key is not base64");
	}
	if (b64[n - 1] == '=')
		pad++;
	if (n > 1 && b64[n - 2] == '=')
		pad++;
	*key = k;
	*len = (size_t)got - pad;
	return 0;
}

int bs_az_sign(const struct bs_az_sign_in *in, const unsigned char *key, size_t keylen, char *auth,
	       size_t authsz, struct bs_err *err)
{
	char *sts;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int ml = 0;
	char b64[64];
	int n, rc = 0;

	if (!(sts = malloc(16384)))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	if (bs_az_string_to_sign(in, sts, 16384) < 0) {
		free(sts);
		return bs_err_set(err, BS_ERR_INTERNAL, "Azure request for '%s' too large to sign", in->path);
	}
	if (!HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)sts, strlen(sts), mac, &ml))
		rc = bs_err_set(err, BS_ERR_INTERNAL, "HMAC-SHA256 failed");
	free(sts);
	if (rc < 0)
		return rc;
	EVP_EncodeBlock((unsigned char *)b64, mac, (int)ml);
	bs_secret_wipe(mac, sizeof(mac));
	n = snprintf(auth, authsz, "SharedKey %s:%s", in->account, b64);
	if (n < 0 || (size_t)n >= authsz)
		return bs_err_set(err, BS_ERR_INTERNAL, "Azure authorization header too long");
	return 0;
}
