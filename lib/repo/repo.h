/*
 * repo.h - repositories: where archives and catalog records live.
 *
 * One small interface, several backends (local directory now; S3 and Azure
 * Blob later): adding a backend is one file and one entry in the table in
 * repo.c.  Keys are relative names like "snapshots/<id>.json"
 * (docs/format.md).
 *
 * put: bs_repo_put returns a write stream; nothing is visible under the key
 * until bs_wstream_finish succeeds, which makes the object durable and
 * visible atomically (local: temp file, fsync, rename, fsync dir).  Freeing
 * an unfinished stream discards it.
 */
#ifndef BS_REPO_REPO_H
#define BS_REPO_REPO_H

#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "common/stream.h"

struct bs_repo;

struct bs_repo_entry {
	const char *key;     /* valid during the callback */
	uint64_t size;
	time_t mtime;
	int is_link;         /* a symbolic link (local backend): listed, never followed */
};

typedef int (*bs_repo_list_fn)(void *ud, const struct bs_repo_entry *e, struct bs_err *err);

enum bs_repo_lock_mode {
	BS_REPO_LOCK_SHARED = 1,     /* writers of new snapshots (snap, drills) */
	BS_REPO_LOCK_EXCLUSIVE = 2,  /* deleters (prune) */
};

struct bs_repo_ops {
	const char *scheme;  /* "local", "s3", "azure" */
	int (*open)(struct bs_repo *r, const char *location, struct bs_err *err);
	/* create an empty repository (or find an existing one: *existed = 1), left open */
	int (*init)(struct bs_repo *r, const char *location, int *existed, struct bs_err *err);
	void (*close)(struct bs_repo *r);
	int (*put)(struct bs_repo *r, const char *key, struct bs_wstream **out, struct bs_err *err);
	int (*get)(struct bs_repo *r, const char *key, struct bs_rstream **out, struct bs_err *err);
	int (*list)(struct bs_repo *r, const char *prefix, bs_repo_list_fn fn, void *ud,
		    struct bs_err *err);
	int (*remove)(struct bs_repo *r, const char *key, struct bs_err *err);
	int (*lock)(struct bs_repo *r, enum bs_repo_lock_mode mode, int wait_ms, struct bs_err *err);
	void (*unlock)(struct bs_repo *r);
};

struct bs_repo {
	const struct bs_repo_ops *ops;
	char *location;      /* as given by the user */
	void *priv;          /* backend state */
};

/* Open an existing repository: "/path" or "file:///path" -> local.  A
 * path that does not exist or is not a repository is BS_ERR_NOT_FOUND with
 * a hint to `backstop repo init`; nothing is ever created here.  Caller
 * frees with bs_repo_close. */
int bs_repo_open(const char *location, struct bs_repo **out, struct bs_err *err);
/* Create a repository (local: the directory, mode 0700, which must be new
 * or empty), or open the one already there with *existed = 1.  The explicit
 * step of `backstop repo init`, as restic init. */
int bs_repo_init(const char *location, int *existed, struct bs_repo **out, struct bs_err *err);
void bs_repo_close(struct bs_repo *r);

int bs_repo_put(struct bs_repo *r, const char *key, struct bs_wstream **out, struct bs_err *err);
/* Missing key: BS_ERR_NOT_FOUND. */
int bs_repo_get(struct bs_repo *r, const char *key, struct bs_rstream **out, struct bs_err *err);
/* Entries under prefix, sorted by key. */
int bs_repo_list(struct bs_repo *r, const char *prefix, bs_repo_list_fn fn, void *ud,
		 struct bs_err *err);
/* Removing a missing key is not an error. */
int bs_repo_remove(struct bs_repo *r, const char *key, struct bs_err *err);
/* wait_ms < 0: wait forever; 0: fail at once with BS_ERR_LOCKED. */
int bs_repo_lock(struct bs_repo *r, enum bs_repo_lock_mode mode, int wait_ms, struct bs_err *err);
void bs_repo_unlock(struct bs_repo *r);

/* Convenience: whole small objects (records), at most max bytes. */
int bs_repo_put_bytes(struct bs_repo *r, const char *key, const void *buf, size_t len,
		      struct bs_err *err);
int bs_repo_get_bytes(struct bs_repo *r, const char *key, size_t max, char **buf, size_t *len,
		      struct bs_err *err);

#endif
