/*
 * object_lease.h - leases as objects, for stores without native leases
 * (S3; any backend that can put, get, list and delete small objects).
 * As restic does with its lock files:
 *
 *   leases/<name>/<holder>.json   {"mode": "shared"|"exclusive", "host": ...,
 *                                  "pid": ..., "renewed_ms": ..., "expires_ms": unix ms}
 *
 * acquire: list the holders; delete the ones past their expiry (taken
 * over, with a warning naming the host and pid); if none that is left
 * conflicts (an exclusive lease conflicts with every other holder, a shared
 * one with an exclusive holder), write our holder object, list again, and
 * keep it only if still nothing conflicts (two writers racing both back
 * off, then retry after a random wait of about a second, until wait_ms).
 * renew: our object must still be there (else BS_ERR_LOCKED: it was taken
 * over), then it is rewritten with a new expiry.  release: deleted.
 * Expiry is judged by each reader's clock: hosts sharing a repository need
 * clocks within a small part of the TTL of each other.
 *
 * A store with native locks (Azure's blob leases) provides a gate: a mutex
 * whose expiry the store keeps.  Then every scan-and-write (acquire, with
 * its take-overs) and every renewal runs inside the gate, so two hosts
 * never decide at once and a renewal never races a take-over; no back-off
 * and re-scan is needed.  Holders stay objects either way: a native lock
 * has one holder, and the repository lease has many shared ones (snaps,
 * drills) besides the exclusive one (prune), each readable by an operator.
 */
#ifndef BS_REPO_OBJECT_LEASE_H
#define BS_REPO_OBJECT_LEASE_H

#include "repo/repo_int.h"

/* What the lease needs from the backend, on the backend's own keys
 * (leases/... are never repository keys). */
struct bs_object_store {
	void *ctx;
	int (*put)(void *ctx, const char *key, const void *buf, size_t len, struct bs_err *err);
	/* missing: BS_ERR_NOT_FOUND; *buf NUL-terminated, caller frees */
	int (*get)(void *ctx, const char *key, char **buf, size_t *len, struct bs_err *err);
	int (*list)(void *ctx, const char *prefix, bs_repo_list_fn fn, void *ud, struct bs_err *err);
	int (*remove)(void *ctx, const char *key, struct bs_err *err); /* missing: fine */
	/* optional (both or neither): enter the gate of lease name, or
	 * BS_ERR_LOCKED at once when another holds it (token: what leave
	 * needs); leave it. */
	int (*gate_enter)(void *ctx, const char *name, char token[64], struct bs_err *err);
	int (*gate_leave)(void *ctx, const char *name, const char *token, struct bs_err *err);
	const char *where; /* the store, for messages */
};

int bs_object_lease_acquire(const struct bs_object_store *st, struct bs_repo_lease *l, int wait_ms,
			    struct bs_err *err);
int bs_object_lease_renew(const struct bs_object_store *st, struct bs_repo_lease *l, struct bs_err *err);
int bs_object_lease_release(const struct bs_object_store *st, struct bs_repo_lease *l, struct bs_err *err);

#endif
