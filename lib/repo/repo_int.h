/*
 * repo_int.h - what a repository backend implements (repo.h is what
 * callers see).  Each backend is one file defining one struct bs_repo_ops,
 * listed in the table in repo.c.
 *
 * repo.c has already checked every key and prefix against the grammar,
 * every lease name, and that the handle is open, before an operation is
 * called.  Operations fill err themselves (messages name the key and the
 * repository).  Modelled on pgBackRest's storage.intern.h: a driver table
 * with feature flags, and one public layer in front of it.
 */
#ifndef BS_REPO_REPO_INT_H
#define BS_REPO_REPO_INT_H

#include <pthread.h>

#include "repo/repo.h"

/* An unfinished put, as the backend sees it; repo.c wraps it in a
 * bs_wstream.  After finish or abort only free is called. */
struct bs_repo_put_ops {
	int (*write)(void *priv, const void *buf, size_t len, struct bs_err *err);
	int (*finish)(void *priv, struct bs_err *err);   /* durable and visible */
	int (*abort)(void *priv, struct bs_err *err);    /* discard; -1 if it could not */
	void (*free)(void *priv);                        /* unfinished: discard silently */
};

struct bs_repo_lease {
	struct bs_repo *repo;          /* NULL once the repository was closed under it */
	struct bs_repo_lease *next;    /* the handle's list of leases held */
	char name[33];
	enum bs_repo_lock_mode mode;
	int64_t ttl_ms;
	time_t expires;
	int64_t expires_ms;            /* the same in ms where the backend knows it, else 0 */
	void *priv;                    /* backend state */
};

struct bs_repo_ops {
	const char *scheme;  /* "local", "s3", "azure" */
	unsigned features;   /* BS_REPO_F_* */
	/* location: what follows the scheme ("/path" for local); set may be NULL */
	int (*open)(struct bs_repo *r, const char *location, const struct bs_repo_settings *set,
		    struct bs_err *err);
	/* create an empty repository (or find an existing one: *existed = 1), left open */
	int (*init)(struct bs_repo *r, const char *location, const struct bs_repo_settings *set, int *existed,
		    struct bs_err *err);
	void (*close)(struct bs_repo *r);

	int (*stat)(struct bs_repo *r, const char *key, struct bs_repo_stat *st, struct bs_err *err);
	/* length already cut to BS_REPO_TO_END or a count; past the end: empty */
	int (*get)(struct bs_repo *r, const char *key, uint64_t offset, uint64_t length,
		   struct bs_rstream **out, struct bs_err *err);
	int (*put)(struct bs_repo *r, const char *key, const struct bs_repo_put_opts *opts,
		   const struct bs_repo_put_ops **ops, void **priv, struct bs_err *err);
	int (*list)(struct bs_repo *r, const char *prefix, bs_repo_list_fn fn, void *ud,
		    struct bs_err *err);
	int (*remove)(struct bs_repo *r, const char *key, struct bs_err *err);
	/* optional (NULL: remove one by one): several keys in few requests */
	int (*remove_many)(struct bs_repo *r, const char *const *keys, size_t n, struct bs_err *err);
	/* optional (NULL: nothing to do, as on object stores): make room for
	 * keys under path/ (local: the directory) */
	int (*path_create)(struct bs_repo *r, const char *path, struct bs_err *err);

	int (*list_unfinished)(struct bs_repo *r, bs_repo_upload_fn fn, void *ud, struct bs_err *err);
	int (*remove_unfinished)(struct bs_repo *r, const char *id, struct bs_err *err);

	/* l->name, mode, ttl_ms are set; fill l->expires and l->priv */
	int (*lease_acquire)(struct bs_repo *r, struct bs_repo_lease *l, int wait_ms, struct bs_err *err);
	int (*lease_renew)(struct bs_repo *r, struct bs_repo_lease *l, struct bs_err *err);
	/* always frees l->priv */
	int (*lease_release)(struct bs_repo *r, struct bs_repo_lease *l, struct bs_err *err);
};

struct bs_repo {
	const struct bs_repo_ops *ops;
	char *location;      /* as given by the user */
	void *priv;          /* backend state */
	struct bs_repo_lease *leases;  /* held, newest first */
	struct bs_repo_lease *lock;    /* the one bs_repo_lock took */
	int64_t lock_ttl_ms;           /* its TTL */
	pthread_mutex_t lease_mu;      /* one renewal at a time (streams on several threads) */
};

extern const struct bs_repo_ops bs_repo_local_ops;
extern const struct bs_repo_ops bs_repo_s3_ops;
extern const struct bs_repo_ops bs_repo_azure_ops;

#endif
