/*
 * rowhash.h - the per-row half of the row digest (docs/format.md, "Row
 * digest") on a reusable context.
 *
 * bs_digest_add_row computes the same value, but OpenSSL 3's one-shot
 * SHA256() looks the algorithm up on every call (a lock, allocations): about
 * 3x slower on short rows, which dominated the client's CPU time in a
 * snapshot.  A snap_rowhash is used by one thread at a time.
 */
#ifndef BS_SNAP_ROWHASH_H
#define BS_SNAP_ROWHASH_H

#include <stddef.h>

#include "archive/digest.h"

struct snap_rowhash;

struct snap_rowhash *snap_rowhash_new(void); /* NULL on allocation failure */
void snap_rowhash_free(struct snap_rowhash *h);
/* Exactly bs_digest_add_row(d, row, len). */
void snap_rowhash_add(struct snap_rowhash *h, struct bs_digest *d, const void *row, size_t len);

#endif
