/*
 * policy.h - retention policy: which snapshots to keep and why.
 *
 * Semantics follow restic's `forget` for the keep_* rules (see
 * docs/retention.md for where and why ours differ), plus a Barman-style
 * recovery window and safety rules that are on by default.
 *
 * The engine is pure: it takes an array of snapshot descriptions and a
 * policy and fills one decision per snapshot.  It does not touch any
 * repository.  Parsing a policy from YAML lives in lib/config/.
 */
#ifndef BS_RETENTION_POLICY_H
#define BS_RETENTION_POLICY_H

#include <stdint.h>
#include <time.h>

#include "common/err.h"

#define BS_RETENTION_UNSET (-1)

struct bs_retention_policy {
	/* restic-style counts; BS_RETENTION_UNSET (-1) when not given, 0 = rule off.
	 * A negative count other than -1 is invalid. */
	int keep_last;
	int keep_hourly;
	int keep_daily;
	int keep_weekly;
	int keep_monthly;
	int keep_yearly;
	int64_t keep_within;   /* seconds, measured back from the newest snapshot; 0 = off */
	int64_t keep_window;   /* seconds, Barman recovery window from "now"; 0 = off */

	/* safety rules (all on by default) */
	int min_keep;                 /* never keep fewer complete snapshots; default 1 */
	int keep_newest;              /* never delete the newest complete snapshot; default 1 */
	int keep_newest_verified;     /* keep the newest snapshot with a passing drill; default 1 */
	int64_t orphan_grace;         /* seconds before an orphaned archive may be deleted; default 86400 */

	char timezone[64];            /* IANA zone for buckets, default "UTC" */
};

/* Fill defaults: every count unset, safety rules on, min_keep 1, grace 24h, UTC. */
void bs_retention_policy_init(struct bs_retention_policy *p);

#endif
