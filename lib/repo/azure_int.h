/*
 * azure_int.h - the Azure Blob backend's pieces, shared by its files:
 *   azure.c       location, credentials, signed requests and their errors,
 *                 listing, blocks (Put Block / Put Block List); the driver
 *                 of objstore.h and the ops table
 *   azure_sign.c  Shared Key signatures
 * Streams, markers of unfinished uploads, leases (object leases: one
 * mechanism for every store, with the holder's host, pid and expiry
 * readable) and open/init are the object store layer's (objstore.h),
 * shared with S3.
 */
#ifndef BS_REPO_AZURE_INT_H
#define BS_REPO_AZURE_INT_H

#include <stdint.h>

#include "repo/azure_sign.h"
#include "repo/objstore.h"

#define AZ_BLOCK_MIN (1ull << 20)
#define AZ_BLOCK_DEFAULT (16ull << 20)
#define AZ_BLOCK_LIMIT (4000ull << 20)   /* Azure's largest block */

struct az {
	struct objstore os;  /* first: the repository's priv is both */
	char *account;
	char *container;
	char *base;          /* scheme://host[:port] the URLs start with */
	char *path0;         /* "" or "/account" (path-style endpoints such as Azurite) */
	unsigned char *key;  /* Shared Key (decoded), or NULL: secret */
	size_t keylen;
	char *sas;           /* SAS token without '?', or NULL: secret */
};

#endif
