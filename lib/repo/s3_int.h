/*
 * s3_int.h - the S3 backend's pieces, shared by its files:
 *   s3.c       location, open/init, requests and their errors, stat, list,
 *              remove, unfinished uploads; the ops table
 *   s3_cred.c  credentials: configured files, AWS_* environment, the shared
 *              credentials file
 *   s3_io.c    the read stream (ranged GETs) and the write stream (single
 *              PUT or multipart upload)
 *   s3_sign.c  Signature Version 4
 * Leases are object leases (object_lease.c), as on every store without
 * native ones.
 */
#ifndef BS_REPO_S3_INT_H
#define BS_REPO_S3_INT_H

#include <pthread.h>
#include <stdint.h>

#include "net/http.h"
#include "net/http_pool.h"
#include "repo/repo_int.h"
#include "repo/s3_sign.h"

#define S3_PART_MIN (5ull << 20)          /* S3's smallest part but the last */
#define S3_PART_DEFAULT (16ull << 20)
#define S3_PARTS_MAX 10000
#define S3_PARTS_IN_FLIGHT 4
#define S3_BLOCK (8u << 20)               /* a read stream's ranged GET */
#define S3_UPLOADS "tmp/uploads/"         /* markers of multipart uploads under way */

struct s3 {
	char *bucket;
	char *prefix;        /* "" or "a/b/" */
	char *base;          /* scheme://host[:port] the URLs start with */
	char *host;          /* the Host header (and what is signed) */
	int path_style;      /* /bucket/key rather than bucket.host/key */
	char *region;
	char *where;         /* "bucket 'b' at https://host" for messages */
	char *object_hdr[4]; /* header lines for every object written (storage class, SSE), NULL-ended */
	struct bs_s3_cred cred;
	uint64_t part_size;
	int retry_max;       /* < 0: the client's default */
	int64_t retry_time_ms;
	struct bs_http_pool pool;
};

/* A signed request and the storage its strings live in. */
struct s3_req {
	struct bs_http_req http;
	char url[4096];
	char date[64], sha[128], auth[640], ctype[64];
	char *token;         /* x-amz-security-token line, or NULL */
	char extra[6][256];
	const char *hdr[16];
};

/* Fill r (zeroed first) for method on object key (the repository's
 * prefix is added; NULL: the bucket itself) with query q and extra
 * header lines; body (may be NULL) is signed by its SHA-256. */
int s3_prepare(struct s3 *s, struct s3_req *r, const char *method, const char *key,
	       const struct bs_s3_query *q, size_t nq, const char *const *extra, const void *body,
	       size_t len, struct bs_err *err);
void s3_req_release(struct s3_req *r);

/* An HTTP client from the pool (or a new one), and back. */
struct bs_http *s3_client(struct s3 *s, struct bs_err *err);
void s3_client_put(struct s3 *s, struct bs_http *c);

/* Run r on a pooled client.  0 on 2xx; else -1 with err from s3_fail. */
int s3_run(struct s3 *s, struct s3_req *r, const char *what, const char *key, struct bs_err *err);
/* The error of a failed request: 404 BS_ERR_NOT_FOUND, 412 BS_ERR_EXISTS,
 * else BS_ERR_NET naming the operation, the key, the bucket and the
 * endpoint, the status and S3's error code and message (never a
 * credential); 401/403 with a hint about credentials. */
int s3_fail(struct s3 *s, const struct bs_http_result *res, const char *what, const char *key,
	    struct bs_err *err);

/* Credentials (s3_cred.c): files from set, else AWS_ACCESS_KEY_ID /
 * AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, else the shared credentials
 * file (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, profile
 * AWS_PROFILE or "default").  BS_ERR_CONFIG when none is found. */
int s3_cred_load(struct bs_s3_cred *c, const struct bs_repo_settings *set, const char *where,
		 struct bs_err *err);
void s3_cred_release(struct bs_s3_cred *c);

/* ListObjectsV2 of the repository's prefix + prefix, every page; internal:
 * the backend's own keys (tmp/, leases/, the marker) instead of the
 * repository's.  DELETE of key (missing: fine). */
int s3_list_keys(struct s3 *s, const char *prefix, int internal, bs_repo_list_fn fn, void *ud,
		 struct bs_err *err);
int s3_delete(struct s3 *s, const char *key, struct bs_err *err);
/* HEAD of key: st (may be NULL) gets size and time; missing: BS_ERR_NOT_FOUND. */
int s3_head(struct s3 *s, const char *key, struct bs_repo_stat *st, struct bs_err *err);

/* s3_io.c */
int s3_get(struct bs_repo *r, const char *key, uint64_t offset, uint64_t length, struct bs_rstream **out,
	   struct bs_err *err);
int s3_put(struct bs_repo *r, const char *key, const struct bs_repo_put_opts *opts,
	   const struct bs_repo_put_ops **ops, void **priv, struct bs_err *err);
/* Abort multipart upload id of key (full key, prefix included). */
int s3_abort_upload(struct s3 *s, const char *key, const char *id, struct bs_err *err);

#endif
