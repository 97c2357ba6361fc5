/*
 * s3_sign.h - AWS Signature Version 4 for S3 requests, in the
 * Authorization header (docs: "Signature Calculations for the
 * Authorization Header").  Pure functions: no I/O, no clock.
 *
 * The canonical request is
 *   METHOD \n canonical-URI \n canonical-query \n canonical-headers \n
 *   signed-headers \n payload-hash
 * with the URI path encoded per segment ('/' kept, nothing encoded twice:
 * S3's rule), the query sorted by name and every name and value encoded,
 * and the headers signed: host, range, content-md5, content-type and every
 * x-amz-* header the request sends, lower-cased, values trimmed, sorted.
 */
#ifndef BS_REPO_S3_SIGN_H
#define BS_REPO_S3_SIGN_H

#include <stddef.h>
#include <time.h>

#include "common/err.h"

#define BS_S3_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define BS_S3_UNSIGNED "UNSIGNED-PAYLOAD"

struct bs_s3_cred {
	char *access_key;    /* secrets: bs_secret_free */
	char *secret_key;
	char *session_token; /* or NULL */
};

struct bs_s3_query {
	const char *name;    /* unencoded */
	const char *value;   /* unencoded; "" for a bare name ("uploads") */
};

struct bs_s3_sign_in {
	const char *method;
	const char *host;          /* the Host header: host[:port], port only when not the default */
	const char *path;          /* unencoded absolute path, "/bucket/key" or "/key" */
	const struct bs_s3_query *query;
	size_t nquery;
	const char *const *headers; /* "Name: value" lines the request sends, NULL-terminated */
	const char *payload;       /* hex SHA-256 of the body, or BS_S3_UNSIGNED */
	const char *region;
	time_t now;
};

/* The encoded path + "?" + encoded query (sorted), for the URL; -1 when
 * out is too small. */
int bs_s3_target(const struct bs_s3_sign_in *in, char *out, size_t outsz);

/* Sign: fills amz_date ("20130524T000000Z": send it as x-amz-date, which
 * must also be among in->headers for the signature to cover it - the
 * caller adds it first with bs_s3_amz_date) and the Authorization header
 * value.  -1 with err when a buffer is too small or hashing failed. */
void bs_s3_amz_date(time_t now, char out[17]);
int bs_s3_sign(const struct bs_s3_sign_in *in, const struct bs_s3_cred *c, char *auth, size_t authsz,
	       struct bs_err *err);

#endif
