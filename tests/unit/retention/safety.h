/*
 * safety.h - the retention engine's safety rules, as a check over one
 * decision set.  Shared by tests/unit/retention/property_test.c (random
 * snapshot sets and policies) and tests/fuzz/fuzz_retention_policy.c
 * (policies read from fuzzed YAML).
 *
 * The rules (lib/retention/policy.h, docs/retention.md):
 *   - a call that fails decides KEEP for everything;
 *   - a pinned item, and a protected complete snapshot, are kept;
 *   - with keep_newest, the newest complete snapshot is kept;
 *   - with keep_newest_verified, the newest complete snapshot whose drill
 *     passed is kept;
 *   - at least min_keep complete snapshots are kept (all, if fewer exist);
 *   - a call that succeeds keeps at least one complete snapshot if any
 *     exists;
 *   - an orphan is kept while its grace period runs;
 *   - a snapshot that starts in the future (clock skew) is kept;
 *   - every decision says why.
 * "Newest" is by start time; among equal start times any one will do.
 */
#ifndef BS_TEST_RETENTION_SAFETY_H
#define BS_TEST_RETENTION_SAFETY_H

#include <stdio.h>
#include <string.h>

#include "retention/policy.h"

#define SAFETY_DEFAULT_GRACE 86400

/* Is some complete item with the newest start among those matching
 * (drill_passed if verified) kept?  1 if none match. */
static int safety_newest_kept(const struct bs_retention_item *it, size_t n,
			      const struct bs_retention_decision *d, int verified)
{
	size_t i;
	int found = 0, kept = 0;
	time_t newest = 0;

	for (i = 0; i < n; i++) {
		if (!it[i].complete || (verified && !it[i].drill_passed))
			continue;
		if (!found || it[i].start > newest) {
			newest = it[i].start;
			kept = 0;
		}
		found = 1;
		if (it[i].start == newest && d[i].verdict == BS_RETAIN_KEEP)
			kept = 1;
	}
	return !found || kept;
}

/* NULL when every rule holds; else a description of the first rule broken
 * (static storage) and *bad = the item concerned (n if none). */
static const char *safety_violation(const struct bs_retention_policy *p,
				    const struct bs_retention_item *it, size_t n, time_t now,
				    int rc, const struct bs_retention_decision *d, size_t *bad)
{
	static char msg[512];
	size_t i, complete = 0, kept = 0, need;
	int64_t grace = p->orphan_grace >= 0 ? p->orphan_grace : SAFETY_DEFAULT_GRACE;

	*bad = n;
	for (i = 0; i < n; i++) {
		*bad = i;
		if (d[i].verdict != BS_RETAIN_KEEP && d[i].verdict != BS_RETAIN_DELETE)
			return "a decision is neither keep nor delete";
		if (!d[i].reasons[0] || !memchr(d[i].reasons, 0, sizeof(d[i].reasons)))
			return "a decision gives no reason";
		if (d[i].verdict == BS_RETAIN_KEEP) {
			if (it[i].complete)
				kept++;
			continue;
		}
		if (rc < 0)
			return "a failed call deletes something";
		if (it[i].pinned)
			return "a pinned item is deleted";
		if (it[i].protect && it[i].complete)
			return "a protected snapshot is deleted";
		if (!it[i].complete && (it[i].start >= now || (int64_t)(now - it[i].start) <= grace))
			return "an orphan within its grace period is deleted";
		if (it[i].complete && it[i].start > now)
			return "a snapshot that starts in the future is deleted";
	}
	*bad = n;
	for (i = 0; i < n; i++)
		complete += it[i].complete != 0;
	if (p->keep_newest && !safety_newest_kept(it, n, d, 0))
		return "the newest complete snapshot is deleted";
	if (p->keep_newest_verified && !safety_newest_kept(it, n, d, 1))
		return "the newest snapshot with a passing drill is deleted";
	need = p->min_keep > 0 ? (size_t)p->min_keep : 0;
	if (need > complete)
		need = complete;
	if (kept < need) {
		snprintf(msg, sizeof(msg), "min_keep %d: only %zu of %zu complete snapshots kept",
			 p->min_keep, kept, complete);
		return msg;
	}
	if (complete > 0 && kept == 0)
		return "every complete snapshot is deleted";
	return NULL;
}

#endif
