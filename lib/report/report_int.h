/*
 * report_int.h - helpers the writers of lib/report share (not public).
 */
#ifndef BS_REPORT_REPORT_INT_H
#define BS_REPORT_REPORT_INT_H

#include <stdint.h>

#include "common/escape.h"
#include "report/report.h"

/* A malloc'd copy of s (NULL -> "") with every invalid UTF-8 byte replaced
 * by U+FFFD, or NULL when out of memory. */
char *bs_report_utf8_clean(const char *s);

/* Write o (consumed; NULL: -1) to f as indented JSON and a newline;
 * -1 on a write error. */
struct json_t;

/* The group a finding is shown under: its own, or the report's title. */
const char *bs_report_group_of(const struct bs_report *r, const struct bs_finding *f);

/* The distinct groups in order of first appearance: a malloc'd array of
 * borrowed pointers (*n of them); NULL with *n 0 when there are none;
 * -1 when out of memory. */
int bs_report_groups(const struct bs_report *r, const char ***out, size_t *n);

/* One line that says what a finding found: "observed X, expected Y: detail"
 * (the parts present), or the state's name when nothing is stated.
 * malloc'd (caller frees), NULL when out of memory; not escaped. */
char *bs_report_summary(const struct bs_finding *f);

/* 1 when a writer given flags shows f (BS_REPORT_PROBLEMS_ONLY hides OK
 * and SKIPPED). */
int bs_report_shown(const struct bs_finding *f, unsigned flags);

/* "2026-11-29T12:00:00Z" into out (at least 21 bytes); "" for 0. */
void bs_report_iso(time_t t, char out[32]);

#endif
