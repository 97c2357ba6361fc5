/*
 * policy_int.h - internals of the retention engine, exposed for unit tests.
 * Not part of the library's API.
 */
#ifndef BS_RETENTION_POLICY_INT_H
#define BS_RETENTION_POLICY_INT_H

#include "retention/policy.h"

/* The last check of bs_retention_apply: if items holds at least one complete
 * snapshot and decisions delete all of them, turn every decision into
 * BS_RETAIN_KEEP ("refused: ...") and return -1 with BS_ERR_POLICY.
 * Otherwise return 0 and change nothing.  No valid policy reaches this with
 * the current rules (each keeps at least the newest snapshot); it guards
 * against a future rule or a bug, so it is tested on its own. */
int bs_retention_guard_delete_all(const struct bs_retention_item *items, size_t n,
				  struct bs_retention_decision *decisions, struct bs_err *err);

/* Fill out[0..n) with the calendar time of ts[i] in the IANA zone tz ("" or
 * "UTC": gmtime_r, no global state).  Returns 0 or -1 with BS_ERR_POLICY
 * (unknown zone) / BS_ERR_NOMEM / BS_ERR_INTERNAL. */
int bs_retention_localtimes(const char *tz, const time_t *ts, size_t n, struct tm *out,
			    struct bs_err *err);

#endif
