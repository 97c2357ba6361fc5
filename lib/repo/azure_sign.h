/*
 * azure_sign.h - Azure Storage Shared Key authorization for Blob requests
 * (docs: "Authorize with Shared Key", the string-to-sign of version
 * 2009-09-19 and later).  Pure functions: no I/O, no clock.
 *
 *   StringToSign = VERB \n Content-Encoding \n Content-Language \n
 *                  Content-Length (empty when 0) \n Content-MD5 \n
 *                  Content-Type \n Date \n If-Modified-Since \n If-Match \n
 *                  If-None-Match \n If-Unmodified-Since \n Range \n
 *                  CanonicalizedHeaders CanonicalizedResource
 *
 * CanonicalizedHeaders: every x-ms-* header, name lower-cased, value
 * trimmed, sorted by name, "name:value\n" each.  CanonicalizedResource:
 * "/" account, the URI path as sent (with Azurite's path-style URLs that
 * path starts with the account again), then "\nname:value" for each query
 * parameter, names lower-cased and sorted, values unencoded.
 * Authorization: "SharedKey <account>:" base64(HMAC-SHA256(key, sts)),
 * with the key base64-decoded.
 */
#ifndef BS_REPO_AZURE_SIGN_H
#define BS_REPO_AZURE_SIGN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"

#define BS_AZ_VERSION "2021-08-06"   /* x-ms-version sent with every request */

struct bs_az_query {
	const char *name;    /* unencoded */
	const char *value;   /* unencoded */
};

struct bs_az_sign_in {
	const char *method;
	const char *account;
	const char *path;               /* the URI path as sent: "/container/key" */
	const struct bs_az_query *query;
	size_t nquery;
	const char *const *headers;     /* "Name: value" lines the request sends, NULL-terminated */
	uint64_t content_length;        /* body bytes */
};

/* The encoded path + "?" + encoded query (in the order given); -1 when out
 * is too small. */
int bs_az_target(const struct bs_az_sign_in *in, char *out, size_t outsz);

/* The string to sign; -1 when out is too small. */
int bs_az_string_to_sign(const struct bs_az_sign_in *in, char *out, size_t outsz);

/* "Sun, 06 Nov 1994 08:49:37 GMT" (x-ms-date). */
void bs_az_date(time_t now, char out[32]);

/* Decode a base64 account key into *key (a secret: wipe and free it;
 * *len its length).  BS_ERR_CONFIG when it is not base64 (the message
 * never shows it). */
int bs_az_key_decode(const char *b64, unsigned char **key, size_t *len, struct bs_err *err);

/* The Authorization header value "SharedKey account:signature". */
int bs_az_sign(const struct bs_az_sign_in *in, const unsigned char *key, size_t keylen, char *auth,
	       size_t authsz, struct bs_err *err);

#endif
