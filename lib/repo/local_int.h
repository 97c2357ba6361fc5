/* local_int.h - what the files of the local backend share (local.c:
 * objects and uploads; local_lease.c: leases). */
#ifndef BS_REPO_LOCAL_INT_H
#define BS_REPO_LOCAL_INT_H

#include <limits.h>

#include "repo/repo_int.h"

#define MARKER "backstop-repo.json"
#define TMP_DIR "tmp"
#define LEASE_DIR "leases"

struct local {
	char root[PATH_MAX];
};

int bs_local_lease_acquire(struct bs_repo *r, struct bs_repo_lease *l, int wait_ms, struct bs_err *err);
int bs_local_lease_renew(struct bs_repo *r, struct bs_repo_lease *l, struct bs_err *err);
int bs_local_lease_release(struct bs_repo *r, struct bs_repo_lease *l, struct bs_err *err);

#endif
