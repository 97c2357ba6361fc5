/*
 * drill_int.h - internal to lib/drill.
 */
#ifndef BS_DRILL_DRILL_INT_H
#define BS_DRILL_DRILL_INT_H

#include <jansson.h>

#include "drill/drill.h"
#include "snap/rowhash.h"

/* The report as JSON: full = every table and smoke query (for --json);
 * otherwise the record form (per-table mismatches only). */
json_t *bs_drill_json(const struct bs_drill_report *r, int full);

/* Row digests on a reused SHA-256 context (snap/rowhash.h, shared with snap
 * and restore), or bs_digest_add_row when h is NULL (allocation failed):
 * the same value either way. */
static inline void drill_row_digest(struct snap_rowhash *h, struct bs_digest *d, const void *row, size_t len)
{
	if (h)
		snap_rowhash_add(h, d, row, len);
	else
		bs_digest_add_row(d, row, len);
}

/* "schema.name" into out. */
void bs_drill_qname(char *out, size_t n, const char *schema, const char *name);

#endif
