/*
 * s3_int.h - the S3 backend's pieces, shared by its files:
 *   s3.c       location, signed requests and their errors, listing, batch
 *              delete; the driver of objstore.h and the ops table
 *   s3_mpu.c   multipart upload: initiate, parts, complete, abort
 *   s3_cred.c  credentials: configured files, AWS_* environment, the shared
 *              credentials file
 *   s3_sign.c  Signature Version 4
 * Streams, markers of unfinished uploads, leases and open/init are the
 * object store layer's (objstore.h), shared with Azure.
 */
#ifndef BS_REPO_S3_INT_H
#define BS_REPO_S3_INT_H

#include <stdint.h>

#include "repo/objstore.h"
#include "repo/s3_sign.h"

#define S3_PART_MIN (5ull << 20)          /* S3's smallest part but the last */
#define S3_PART_DEFAULT (16ull << 20)

struct s3 {
	struct objstore os;  /* first: the repository's priv is both */
	char *bucket;
	char *base;          /* scheme://host[:port] the URLs start with */
	char *host;          /* the Host header (and what is signed) */
	int path_style;      /* /bucket/key rather than bucket.host/key */
	char *region;
	char *object_hdr[4]; /* header lines for every object written (storage class, SSE), NULL-ended */
	struct bs_s3_cred cred;
};

/* Fill r (zeroed first) for method on key (the prefix is added; NULL: the
 * bucket itself) with query q and extra header lines; body (may be NULL)
 * is signed by its SHA-256. */
int s3_prepare(struct s3 *s, struct os_req *r, const char *method, const char *key, const struct bs_s3_query *q,
	       size_t nq, const char *const *extra, const void *body, size_t len, struct bs_err *err);
/* s3_prepare, then run it (objstore_run); r is the caller's to read and
 * release (os_req_release) either way. */
int s3_request(struct s3 *s, struct os_req *r, const char *method, const char *key, const struct bs_s3_query *q,
	       size_t nq, const char *const *extra, const void *body, size_t len, const char *what,
	       struct bs_err *err);

/* Credentials (s3_cred.c): files from set, else AWS_ACCESS_KEY_ID /
 * AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, else the shared credentials
 * file (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, profile
 * AWS_PROFILE or "default").  BS_ERR_CONFIG when none is found. */
int s3_cred_load(struct bs_s3_cred *c, const struct bs_repo_settings *set, const char *where,
		 struct bs_err *err);
void s3_cred_release(struct bs_s3_cred *c);

/* s3_mpu.c: the multipart hooks of the driver (objstore_driver). */
int s3_mpu_begin(struct objstore *os, const char *key, char **upload, struct bs_err *err);
int s3_mpu_part(struct objstore *os, struct os_req *r, const char *key, const char *upload, int no,
		const void *buf, size_t len, struct bs_err *err);
int s3_mpu_complete(struct objstore *os, struct os_req *q, const char *key, const char *upload,
		    char *const *etags, int n, int create_only, struct bs_err *err);
int s3_mpu_abort(struct objstore *os, const char *key, const char *upload, struct bs_err *err);

#endif
