/*
 * drill_int.h - internal to lib/drill.
 */
#ifndef BS_DRILL_DRILL_INT_H
#define BS_DRILL_DRILL_INT_H

#include <jansson.h>

#include "drill/drill.h"

/* The report as JSON: full = every table and smoke query (for --json);
 * otherwise the record form (per-table mismatches only). */
json_t *bs_drill_json(const struct bs_drill_report *r, int full);

/* "schema.name" into out. */
void bs_drill_qname(char *out, size_t n, const char *schema, const char *name);

#endif
