/*
 * azure_int.h - the Azure Blob backend's pieces, shared by its files:
 *   azure.c       location, credentials, open/init, requests and their
 *                 errors, stat, list, remove, unfinished uploads, leases;
 *                 the ops table
 *   azure_io.c    the read stream (ranged GETs) and the write stream (one
 *                 Put Blob, or Put Block + Put Block List)
 *   azure_sign.c  Shared Key signatures
 * Leases are object leases (object_lease.c), as on S3: one mechanism for
 * every store, with the holder's host, pid and expiry readable.
 */
#ifndef BS_REPO_AZURE_INT_H
#define BS_REPO_AZURE_INT_H

#include <pthread.h>
#include <stdint.h>

#include "net/http.h"
#include "net/http_pool.h"
#include "repo/azure_sign.h"
#include "repo/repo_int.h"

#define AZ_BLOCK_MIN (1ull << 20)
#define AZ_BLOCK_DEFAULT (16ull << 20)
#define AZ_BLOCK_LIMIT (4000ull << 20)   /* Azure's largest block */
#define AZ_BLOCKS_MAX 50000              /* committed blocks per blob */
#define AZ_BLOCKS_IN_FLIGHT 4
#define AZ_READ_BLOCK (8u << 20)         /* a read stream's ranged GET */
#define AZ_UPLOADS "tmp/uploads/"        /* markers of uploads under way */

struct az {
	char *account;
	char *container;
	char *prefix;        /* "" or "a/b/" */
	char *base;          /* scheme://host[:port] the URLs start with */
	char *path0;         /* "" or "/account" (path-style endpoints such as Azurite) */
	char *where;         /* "container 'c' of account 'a' at https://host" */
	unsigned char *key;  /* Shared Key (decoded), or NULL: secret */
	size_t keylen;
	char *sas;           /* SAS token without '?', or NULL: secret */
	uint64_t block_size;
	int retry_max;       /* < 0: the client's default */
	int64_t retry_time_ms;
	struct bs_http_pool pool;
};

/* A signed request and the storage its strings live in. */
struct az_req {
	struct bs_http_req http;
	char url[8192];      /* may carry the SAS token: wiped on release */
	char date[64], auth[256];
	char extra[6][256];
	const char *hdr[16];
};

/* Fill r (zeroed first) for method on object key (the prefix is added;
 * NULL: the container) with query q (unencoded) and extra header lines;
 * len is the body length (Content-Length). */
int az_prepare(struct az *a, struct az_req *r, const char *method, const char *key,
	       const struct bs_az_query *q, size_t nq, const char *const *extra, const void *body,
	       size_t len, struct bs_err *err);
void az_req_release(struct az_req *r);

struct bs_http *az_client(struct az *a, struct bs_err *err);
void az_client_put(struct az *a, struct bs_http *c);

/* Run r on a pooled client.  0 on 2xx; else -1 with err from az_fail. */
int az_run(struct az *a, struct az_req *r, const char *what, const char *key, struct bs_err *err);
/* The error of a failed request: 404 BS_ERR_NOT_FOUND (not for a missing
 * container), 412 and 409 BlobAlreadyExists BS_ERR_EXISTS, else
 * BS_ERR_NET naming the operation, key, container, account and endpoint,
 * the status and Azure's error code (never a key or SAS); 401/403 with a
 * hint about credentials or SAS permissions. */
int az_fail(struct az *a, const struct bs_http_result *res, const char *what, const char *key,
	    struct bs_err *err);

int az_delete(struct az *a, const char *key, struct bs_err *err);
/* HEAD of key: 0 with *size (may be NULL), or -1 (BS_ERR_NOT_FOUND when missing). */
int az_head(struct az *a, const char *key, uint64_t *size, struct bs_err *err);
/* One Put Blob of a small object (markers). */
int az_small_put(struct az *a, const char *key, const void *buf, size_t len, struct bs_err *err);


/* azure_io.c */
int az_get(struct bs_repo *r, const char *key, uint64_t offset, uint64_t length, struct bs_rstream **out,
	   struct bs_err *err);
int az_put(struct bs_repo *r, const char *key, const struct bs_repo_put_opts *opts,
	   const struct bs_repo_put_ops **ops, void **priv, struct bs_err *err);

#endif
