/*
 * repo.h - repositories: where archives and catalog records live.
 *
 * One opaque handle, several backends (a local directory, S3, Azure
 * Blob).  A backend is one file with a table of operations
 * (repo_int.h); repo.c checks every argument once (the key grammar below)
 * and then calls the backend.  Adding one is that file plus one entry in
 * the table in repo.c.
 *
 * Keys are relative names such as "snapshots/<id>.json": 1 to
 * BS_REPO_KEY_MAX bytes of [A-Za-z0-9._-] in '/'-separated parts, no empty
 * part, no part starting with '.', no "..", no leading or trailing '/'.
 * Which keys exist is the catalog's business (docs/format.md), not the
 * repository's.  A key outside the grammar is refused with BS_ERR_INTERNAL
 * before any backend sees it (callers build keys; a bad one is a bug).
 *
 * put: nothing is visible under the key until bs_wstream_finish succeeds,
 * which makes the object durable and visible atomically (local: temp file,
 * fsync, rename, fsync dir; S3: completed multipart upload; Azure: Put
 * Block List).  Until then it
 * is an unfinished upload (bs_repo_list_unfinished).  bs_repo_put_abort
 * discards it and says whether that worked; freeing an unfinished stream
 * discards it too, silently (for error paths).
 *
 * Threads: get, stat and list may run concurrently on one handle (the
 * catalog loads records in parallel); put streams are independent of each
 * other.  Leases and open/close belong to one thread.
 *
 * Ownership: bs_repo_open/init return a handle freed by bs_repo_close;
 * streams are the caller's (bs_wstream_free, bs_rstream_free) and end
 * before the handle is closed; a lease is
 * the caller's until bs_repo_lease_release, which frees it, and must be
 * released before its repository is closed (close releases what is left).
 */
#ifndef BS_REPO_REPO_H
#define BS_REPO_REPO_H

#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "common/stream.h"

#define BS_REPO_KEY_MAX 512

struct bs_repo;
struct bs_repo_lease;

/* What a backend provides natively (bs_repo_features). */
#define BS_REPO_F_RANGED_GET 0x01      /* a ranged get reads only the range */
#define BS_REPO_F_CREATE_ONLY 0x02     /* create_only is decided atomically by the store */
#define BS_REPO_F_LEASE 0x04           /* a lease lives exactly as long as its holder (local:
				        * flock); without it a lease is a lock object that
				        * expires unless renewed, and is then taken over */
#define BS_REPO_F_UNFINISHED_LIST 0x08 /* unfinished uploads can be listed and removed */

/* Settings for backends beyond a path, from the 'repository:' mapping
 * (docs/config.md).  Every field may be NULL / 0 (the backend's default);
 * the strings are borrowed for the duration of bs_repo_open_with. */
struct bs_repo_settings {
	const char *endpoint;          /* object stores: https://host[:port] */
	const char *region;
	const char *access_key_file;   /* credentials: files, never the secret itself */
	const char *secret_key_file;
	const char *session_token_file;
	const char *sas_token_file;    /* Azure: a SAS token (else AZURE_STORAGE_KEY, ...) */
	uint64_t part_size;            /* bytes per uploaded part (Azure: block); 0: the default */
	int retry_max;                 /* attempts per request beyond the first; < 0: the default */
	int64_t retry_time_ms;         /* total time a request may spend retrying; 0: the default */
	int64_t stall_ms;              /* no byte moving this long ends an attempt (retried); 0: 30 s */
	int64_t lease_ttl_ms;          /* bs_repo_lock's lease; 0: BS_REPO_LEASE_TTL_MS */
	const char *storage_class;     /* S3: x-amz-storage-class of every object written */
	const char *sse;               /* S3: server-side encryption, "AES256" or "aws:kms" */
	const char *sse_kms_key_id;    /* S3: the KMS key of "aws:kms" */
};

/* Open an existing repository: "/path" or "file:///path" -> local.  A
 * path that does not exist or is not a repository is BS_ERR_NOT_FOUND with
 * a hint to `backstop repo init`; nothing is ever created here.
 * s3://bucket/prefix and azure://account/container/prefix name object
 * stores; any other scheme is BS_ERR_CONFIG.  Caller frees with
 * bs_repo_close. */
int bs_repo_open(const char *location, struct bs_repo **out, struct bs_err *err);
int bs_repo_open_with(const char *location, const struct bs_repo_settings *set, struct bs_repo **out,
		      struct bs_err *err);
/* Create a repository (local: the directory, mode 0700, which must be new
 * or empty), or open the one already there with *existed = 1.  The explicit
 * step of `backstop repo init`, as restic init. */
int bs_repo_init(const char *location, int *existed, struct bs_repo **out, struct bs_err *err);
int bs_repo_init_with(const char *location, const struct bs_repo_settings *set, int *existed,
		      struct bs_repo **out, struct bs_err *err);
void bs_repo_close(struct bs_repo *r);

/* The location as given by the user; the backend's scheme ("local");
 * its BS_REPO_F_* flags. */
const char *bs_repo_location(const struct bs_repo *r);
const char *bs_repo_scheme(const struct bs_repo *r);
unsigned bs_repo_features(const struct bs_repo *r);

/* 0 if key follows the grammar above, else -1 with BS_ERR_INTERNAL naming
 * what is wrong. */
int bs_repo_check_key(const char *key, struct bs_err *err);

struct bs_repo_stat {
	int exists;
	uint64_t size;
	time_t mtime;
	int is_link;         /* a symbolic link (local backend): never followed */
};
/* Missing key: BS_ERR_NOT_FOUND, st->exists = 0. */
int bs_repo_stat(struct bs_repo *r, const char *key, struct bs_repo_stat *st, struct bs_err *err);

/* Missing key: BS_ERR_NOT_FOUND. */
int bs_repo_get(struct bs_repo *r, const char *key, struct bs_rstream **out, struct bs_err *err);
/* Bytes [offset, offset + length) of the object, cut at its end: an
 * offset at or past the end gives an empty stream.  length
 * BS_REPO_TO_END reads to the end. */
#define BS_REPO_TO_END UINT64_MAX
int bs_repo_get_range(struct bs_repo *r, const char *key, uint64_t offset, uint64_t length,
		      struct bs_rstream **out, struct bs_err *err);

struct bs_repo_put_opts {
	int create_only;     /* fail if the key exists: BS_ERR_EXISTS "... already exists"
			      * (put returns BS_ERR_EXISTS for nothing else), at put or at
			      * finish; the existing object is untouched */
	uint64_t size_hint;  /* expected size, 0 if unknown (object stores size their parts) */
};
int bs_repo_put(struct bs_repo *r, const char *key, struct bs_wstream **out, struct bs_err *err);
int bs_repo_put_with(struct bs_repo *r, const char *key, const struct bs_repo_put_opts *opts,
		     struct bs_wstream **out, struct bs_err *err);
/* Discard an unfinished put and free the stream (w must be one returned
 * by bs_repo_put, not a layer stacked on it).  Returns -1 when the backend
 * could not discard it (the upload is then left for prune to remove). */
int bs_repo_put_abort(struct bs_wstream *w, struct bs_err *err);

struct bs_repo_entry {
	const char *key;     /* valid during the callback */
	uint64_t size;
	time_t mtime;
	int is_link;         /* a symbolic link (local backend): listed, never followed */
};
typedef int (*bs_repo_list_fn)(void *ud, const struct bs_repo_entry *e, struct bs_err *err);
/* Entries whose key starts with prefix ("" for all), sorted by key.  A
 * non-zero return from fn stops the walk and is returned. */
int bs_repo_list(struct bs_repo *r, const char *prefix, bs_repo_list_fn fn, void *ud,
		 struct bs_err *err);
/* Removing a missing key is not an error. */
int bs_repo_remove(struct bs_repo *r, const char *key, struct bs_err *err);
/* Remove several keys (missing ones are fine) in as few requests as the
 * store allows (S3: DeleteObjects, 1,000 keys a request); every key is
 * checked first; a key the store could not remove fails the call, named. */
int bs_repo_remove_many(struct bs_repo *r, const char *const *keys, size_t n, struct bs_err *err);
/* Make room for keys under path/ (path follows the key grammar): the
 * local backend creates the directory (mode 0700; existing is fine), so
 * an operator finds it in a new repository; object stores have no folders
 * and do nothing.  Never needed before a put. */
int bs_repo_path_create(struct bs_repo *r, const char *path, struct bs_err *err);

/* Unfinished uploads: puts never finished (running, or of a process that
 * died).  id names the upload for bs_repo_remove_unfinished (local:
 * "tmp/<file>"); key is the key it was meant for, or NULL if unknown. */
struct bs_repo_upload {
	const char *id;
	const char *key;
	uint64_t size;
	time_t started;      /* local: last write */
};
typedef int (*bs_repo_upload_fn)(void *ud, const struct bs_repo_upload *u, struct bs_err *err);
int bs_repo_list_unfinished(struct bs_repo *r, bs_repo_upload_fn fn, void *ud, struct bs_err *err);
/* Removing one that is gone is not an error. */
int bs_repo_remove_unfinished(struct bs_repo *r, const char *id, struct bs_err *err);

/*
 * Leases: named locks with a time-to-live, held shared or exclusive.
 * Snap and drills hold the repository lease (BS_REPO_LEASE_NAME) shared,
 * prune exclusive.  wait_ms < 0 waits forever, 0 fails at once; a lease
 * not had in time is BS_ERR_LOCKED.  Every holder is recorded with its
 * host, pid and expiry where an operator can see it (local:
 * <repo>/leases/).  Renew pushes the expiry ttl_ms ahead; a lease lost
 * meanwhile (taken over after expiry, on backends without
 * BS_REPO_F_LEASE) is BS_ERR_LOCKED.
 */
#define BS_REPO_LEASE_NAME "lock"
#define BS_REPO_LEASE_TTL_MS (5 * 60 * 1000)
enum bs_repo_lock_mode {
	BS_REPO_LOCK_SHARED = 1,     /* writers of new snapshots (snap, drills) */
	BS_REPO_LOCK_EXCLUSIVE = 2,  /* deleters (prune) */
};
/* name: 1 to 32 of [a-z0-9-], starting with a letter. */
int bs_repo_lease_acquire(struct bs_repo *r, const char *name, enum bs_repo_lock_mode mode,
			  int64_t ttl_ms, int wait_ms, struct bs_repo_lease **out, struct bs_err *err);
int bs_repo_lease_renew(struct bs_repo_lease *l, struct bs_err *err);
/* Release and free (NULL: nothing).  -1 when the store could not be told
 * (the lease then expires on its own); l is freed either way. */
int bs_repo_lease_release(struct bs_repo_lease *l, struct bs_err *err);
/* When the lease expires unless renewed (unix seconds). */
time_t bs_repo_lease_expires(const struct bs_repo_lease *l);

/* The repository lease held by the handle itself, for commands that hold
 * it from start to end: acquire BS_REPO_LEASE_NAME with the handle's TTL
 * (bs_repo_settings.lease_ttl_ms, else BS_REPO_LEASE_TTL_MS);
 * renewed by writes to put streams of the handle once half the TTL has
 * passed (a renewal that fails on a TTL backend fails the write with
 * BS_ERR_LOCKED); released by bs_repo_unlock or bs_repo_close. */
int bs_repo_lock(struct bs_repo *r, enum bs_repo_lock_mode mode, int wait_ms, struct bs_err *err);
void bs_repo_unlock(struct bs_repo *r);

/* Many small objects at once (catalog records), at most max bytes each:
 * up to BS_REPO_GET_MANY_JOBS gets in flight, so a remote repository
 * costs about n / jobs round trips instead of n.  Entries with key NULL
 * are skipped.  Each entry gets its own outcome (rc, err: a key outside
 * the grammar or a missing object fails that entry only; buf is the
 * caller's to free); the call itself fails only for bad arguments. */
#define BS_REPO_GET_MANY_JOBS 16
struct bs_repo_fetch {
	const char *key;     /* in */
	char *buf;           /* out: NUL-terminated, or NULL */
	size_t len;
	int rc;              /* 0, or -1 with err */
	struct bs_err err;
};
int bs_repo_get_many(struct bs_repo *r, struct bs_repo_fetch *v, size_t n, size_t max,
		     struct bs_err *err);

/* Convenience: whole small objects (records), at most max bytes. */
int bs_repo_put_bytes(struct bs_repo *r, const char *key, const void *buf, size_t len,
		      struct bs_err *err);
/* The same, create-only: BS_ERR_EXISTS when the key exists (records that
 * are never rewritten: gate sign-offs and decisions). */
int bs_repo_create_bytes(struct bs_repo *r, const char *key, const void *buf, size_t len, struct bs_err *err);
int bs_repo_get_bytes(struct bs_repo *r, const char *key, size_t max, char **buf, size_t *len,
		      struct bs_err *err);

/* Keys gathered from a listing (bs_repo_keys_add from a bs_repo_list
 * callback), in listing order: copies owned by the list, freed by
 * bs_repo_keys_release (which leaves it empty, ready for reuse). */
struct bs_repo_keys {
	char **v;
	size_t n, cap;
};
int bs_repo_keys_add(struct bs_repo_keys *k, const char *key, struct bs_err *err);
void bs_repo_keys_release(struct bs_repo_keys *k);

#endif
