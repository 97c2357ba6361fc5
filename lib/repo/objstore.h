/*
 * objstore.h - what every HTTP object store backend (S3, Azure Blob)
 * shares, under their own files; internal to lib/repo.
 *
 *   objstore.c     requests on pooled clients, HEAD/DELETE/small objects,
 *                  endpoint checks, open/init/close, stat, list, unfinished
 *                  uploads (markers), leases (object_lease.c)
 *   objstore_io.c  the read stream (ranged GETs, one block ahead, pinned to
 *                  the first answer's ETag) and the write stream (one PUT,
 *                  or parts/blocks with a bounded number in flight)
 *
 * A backend is a struct whose first member is struct objstore (so the
 * repository's priv is both), plus a struct objstore_driver: how it signs
 * a request, reads its errors and listings, and runs a multipart upload.
 * Everything else (the streams, the markers of unfinished uploads under
 * tmp/uploads/, the lease adapter, the repository marker) is here once.
 *
 * Keys given to these functions are relative to the repository's prefix
 * (the driver adds it); NULL where allowed names the bucket/container.
 */
#ifndef BS_REPO_OBJSTORE_H
#define BS_REPO_OBJSTORE_H

#include <stdint.h>

#include "net/http.h"
#include "net/http_pool.h"
#include "net/xml.h"
#include "repo/repo_int.h"

#define OS_REPO_MARKER "backstop-repo.json"
#define OS_UPLOADS "tmp/uploads/"       /* markers of uploads under way */
#define OS_READ_BLOCK (8u << 20)        /* a read stream's ranged GET */
#define OS_PARTS_IN_FLIGHT 4

/* A signed request and the storage its strings live in (secrets in auth,
 * token and url are wiped on release). */
struct os_req {
	struct bs_http_req http;
	char url[8192];      /* may carry a SAS token */
	char date[64], sha[128], auth[640];
	char *token;         /* S3: x-amz-security-token line, or NULL */
	char extra[6][256];
	const char *hdr[16];
};

struct objstore;

struct objstore_driver {
	const char *name;             /* "S3", "Azure": for messages */
	const char *container_word;   /* "bucket", "container" */
	const char *range_header;     /* "Range", "x-ms-range" */
	int create_only_atomic;       /* If-None-Match: * is decided by the store: no HEAD before commit */
	int part_etag;                /* parts come back with an ETag the completion needs */
	/* parts: at most parts_max; the size doubles every double_every parts,
	 * up to part_limit; a size hint asks for hint / hint_div at least */
	int parts_max, double_every;
	uint64_t part_limit, hint_div;

	/* A new handle of the store for location (NULL with err on failure). */
	struct objstore *(*create)(const char *location, const struct bs_repo_settings *set, struct bs_err *err);
	void (*destroy)(struct objstore *os);
	/* Fill r (zeroed first) for method on key with extra header lines
	 * (NULL-terminated, at most 6) and a body of len bytes (may be NULL). */
	int (*prepare)(struct objstore *os, struct os_req *r, const char *method, const char *key,
		       const char *const *extra, const void *body, size_t len, struct bs_err *err);
	/* The error of a failed answer (objstore_error and the store's hints). */
	int (*fail)(struct objstore *os, const struct bs_http_result *res, const char *what, const char *key,
		    struct bs_err *err);
	/* Every key under prefix, all pages; internal: the backend's own keys
	 * (objstore_internal_key) instead of the repository's. */
	int (*list)(struct objstore *os, const char *prefix, int internal, bs_repo_list_fn fn, void *ud,
		    struct bs_err *err);
	/* Header lines of every object written (NULL-terminated; small: a
	 * marker or lease rather than repository data). */
	const char *const *(*object_headers)(struct objstore *os, int small);

	/* Multipart upload.  begin: start one (*upload: its id, malloc'd), or
	 * NULL when the store needs none (Azure's blocks).  part: fill r for
	 * part no (1-based) of len bytes.  complete: commit n parts in order
	 * (etags[i] from part i + 1 when part_etag) with If-None-Match: * when
	 * create_only, using q (the caller releases it: it reads the attempts
	 * and the error).  abort: discard the parts sent for key (upload: the
	 * id begin gave, or NULL when unknown or the store needs none); an
	 * object already committed under key is left alone. */
	int (*begin)(struct objstore *os, const char *key, char **upload, struct bs_err *err);
	int (*part)(struct objstore *os, struct os_req *r, const char *key, const char *upload, int no,
		    const void *buf, size_t len, struct bs_err *err);
	int (*complete)(struct objstore *os, struct os_req *q, const char *key, const char *upload,
			char *const *etags, int n, int create_only, struct bs_err *err);
	int (*abort)(struct objstore *os, const char *key, const char *upload, struct bs_err *err);

	/* Optional (both or neither): the gate of object leases
	 * (object_lease.h), a mutex whose expiry the store keeps. */
	int (*gate_enter)(struct objstore *os, const char *name, char token[64], struct bs_err *err);
	int (*gate_leave)(struct objstore *os, const char *name, const char *token, struct bs_err *err);
};

struct objstore {
	const struct objstore_driver *drv;
	char *prefix;        /* "" or "a/b/" */
	char *where;         /* "bucket 'b' at https://host" for messages */
	uint64_t part_size;  /* first parts' size */
	struct bs_http_pool pool;
};

/* Set up the common part from the settings (the driver's part sizes) and
 * release it (pool, prefix, where; not os itself). */
void objstore_setup(struct objstore *os, const struct objstore_driver *drv, const struct bs_repo_settings *set,
		    uint64_t part_default, uint64_t part_min);
void objstore_release(struct objstore *os);

/* ---- location ---- */

/* endpoint "http(s)://host[:port][/path]": *host / *hostlen its host part.
 * BS_ERR_CONFIG for anything else, for user info, and for plain http to
 * a host that is not loopback (credentials and data would cross the
 * network in clear). */
int objstore_endpoint(const char *endpoint, const char *loc, const char **host, size_t *hostlen,
		      struct bs_err *err);
/* name=value of a location's query ("a=1&b=2"; may be NULL) into out. */
int objstore_query_param(const char *q, const char *name, char *out, size_t n);
/* The prefix part of a location: p[0..n) without trailing '/', checked
 * against the key grammar, with one '/' added: "" or "a/b/" in os->prefix. */
int objstore_set_prefix(struct objstore *os, const char *p, size_t n, const char *loc, struct bs_err *err);

/* ---- requests ---- */

void os_req_release(struct os_req *r);
struct bs_http *objstore_client(struct objstore *os, struct bs_err *err);
void objstore_client_put(struct objstore *os, struct bs_http *c);
/* Run r on a pooled client.  0 on 2xx; else -1 with err from drv->fail. */
int objstore_run(struct objstore *os, struct os_req *r, const char *what, const char *key, struct bs_err *err);
/* prepare + run + release of a request without a query. */
int objstore_simple(struct objstore *os, const char *method, const char *key, const char *const *extra,
		    const void *body, size_t len, struct bs_err *err);

/* The error of a failed answer: no answer: the transport's message;
 * 404 BS_ERR_NOT_FOUND (unless x->code is missing_container: the bucket or
 * container itself is missing), 412 BS_ERR_EXISTS, else BS_ERR_NET naming
 * the operation, the key, the store, the status and the store's error code
 * and message (x, as the driver read it) (never a credential); request id as detail.  Returns -1. */
int objstore_error(struct objstore *os, const struct bs_http_result *res, const char *what, const char *key,
		   const struct bs_xml_error *x, const char *missing_container, struct bs_err *err);

/* HEAD of key: st (may be NULL) gets size and time; missing: BS_ERR_NOT_FOUND. */
int objstore_head(struct objstore *os, const char *key, struct bs_repo_stat *st, struct bs_err *err);
/* DELETE of key; missing is fine. */
int objstore_delete(struct objstore *os, const char *key, struct bs_err *err);
/* Small objects (markers, leases): one PUT; one GET into *buf (NUL-terminated, caller frees). */
int objstore_small_put(struct objstore *os, const char *key, const void *buf, size_t len, struct bs_err *err);
int objstore_small_get(struct objstore *os, const char *key, char **buf, size_t *len, struct bs_err *err);
/* A key the backend keeps for itself (markers, leases): never listed as a repository key. */
int objstore_internal_key(const char *key);
/* "Sun, 06 Nov 1994 08:49:37 GMT" and "2026-11-29T10:00:00.000Z" -> unix time (0 if unreadable). */
time_t objstore_http_date(const char *v);
time_t objstore_iso_date(const char *v);

/* ---- the bs_repo_ops every object store shares (r->priv is the objstore) ---- */

int objstore_open(struct bs_repo *r, const struct objstore_driver *drv, const char *location,
		  const struct bs_repo_settings *set, struct bs_err *err);
int objstore_init(struct bs_repo *r, const struct objstore_driver *drv, const char *location,
		  const struct bs_repo_settings *set, int *existed, struct bs_err *err);
void objstore_close(struct bs_repo *r);
int objstore_stat(struct bs_repo *r, const char *key, struct bs_repo_stat *st, struct bs_err *err);
int objstore_list(struct bs_repo *r, const char *prefix, bs_repo_list_fn fn, void *ud, struct bs_err *err);
int objstore_remove(struct bs_repo *r, const char *key, struct bs_err *err);
int objstore_list_unfinished(struct bs_repo *r, bs_repo_upload_fn fn, void *ud, struct bs_err *err);
int objstore_remove_unfinished(struct bs_repo *r, const char *id, struct bs_err *err);
int objstore_lease_acquire(struct bs_repo *r, struct bs_repo_lease *l, int wait_ms, struct bs_err *err);
int objstore_lease_renew(struct bs_repo *r, struct bs_repo_lease *l, struct bs_err *err);
int objstore_lease_release(struct bs_repo *r, struct bs_repo_lease *l, struct bs_err *err);

/* objstore_io.c */
int objstore_get(struct bs_repo *r, const char *key, uint64_t offset, uint64_t length, struct bs_rstream **out,
		 struct bs_err *err);
int objstore_put(struct bs_repo *r, const char *key, const struct bs_repo_put_opts *opts,
		 const struct bs_repo_put_ops **ops, void **priv, struct bs_err *err);

#endif
