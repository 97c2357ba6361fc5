/* repo_int.h - backends of repo.c; each backend is one file and one entry
 * in the table in repo.c. */
#ifndef BS_REPO_REPO_INT_H
#define BS_REPO_REPO_INT_H

#include "repo/repo.h"

extern const struct bs_repo_ops bs_repo_local_ops;

#endif
