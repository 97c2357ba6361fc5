/*
 * duration.h - parse and format durations such as "30d", "12h", "1d12h".
 *
 * A duration is one or more <digits><unit> terms, units in descending
 * order, each at most once:
 *
 *   y  year   = 365 days (fixed length; there are no calendar months)
 *   w  week   = 7 days
 *   d  day    = 86400 s (fixed length, a DST day is not 23 or 25 h)
 *   h  hour, m  minute (not month!), s  second
 *
 * "0" alone is accepted as zero.  Units are lower case; signs, spaces and
 * fractions are rejected.  Used by the retention policy (keep_within,
 * keep_window, orphan_grace), the configuration and drills.  Pure functions,
 * no global state.
 */
#ifndef BS_COMMON_DURATION_H
#define BS_COMMON_DURATION_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Longest string bs_duration_format writes, with the NUL. */
#define BS_DURATION_FMT_MAX 32

/* Parse s into seconds.  Returns 0, or -1 with BS_ERR_CONFIG in err (and
 * *out untouched) on NULL/empty input, unknown or repeated unit, a unit out
 * of order, a missing number or unit, or a value above INT64_MAX seconds. */
int bs_duration_parse(const char *s, int64_t *out, struct bs_err *err);

/* Format secs (>= 0) with the largest unit that divides it exactly:
 * 2592000 -> "30d", 5400 -> "90m", 45 -> "45s", 0 -> "0s".  Weeks and years
 * are not used on output ("14d", "365d"): days read unambiguously.
 * A negative value is written as "-" followed by its magnitude.
 * Always NUL-terminates when n > 0; returns buf. */
char *bs_duration_format(int64_t secs, char *buf, size_t n);

#endif
