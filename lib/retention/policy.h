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

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"

#define BS_RETENTION_UNSET (-1)
/* "unlimited" for a count (restic's -1): keep the newest snapshot of every
 * bucket.  -1 already means "not given" here, so a YAML "unlimited" must be
 * stored as this value and a negative number in YAML must be rejected. */
#define BS_RETENTION_UNLIMITED INT_MAX

struct bs_retention_policy {
	/* restic-style counts; BS_RETENTION_UNSET (-1) when not given, 0 = rule off.
	 * A negative count other than -1 is invalid; BS_RETENTION_UNLIMITED keeps
	 * every bucket. */
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

/* One snapshot or orphaned archive.  The caller owns the array and the
 * strings; the engine only reads them during bs_retention_apply. */
struct bs_retention_item {
	const char *id;
	time_t start;      /* UTC seconds.  For an orphan (complete == 0) pass the
			    * later of the id's time and the archive's mtime:
			    * the grace period runs from the last write. */
	int complete;      /* has a committed catalog record */
	int pinned;
	int drill_passed;  /* the newest drill of this snapshot passed */
	const char *protect; /* non-NULL: never delete it, and say why ("taken
			      * by a concurrent snap"); it still counts in
			      * every rule, as a pinned snapshot does */
};

enum bs_retention_verdict { BS_RETAIN_KEEP = 1, BS_RETAIN_DELETE = 2 };

#define BS_RETENTION_REASON_MAX 256

struct bs_retention_decision {
	enum bs_retention_verdict verdict;
	/* Why, for `prune --dry-run`: every rule that keeps the snapshot, in a
	 * fixed order ("pinned, daily 2026-11-20, weekly 2026-W47"), or why it
	 * goes ("outside all rules", "orphan older than 1d grace ...").
	 * Truncated with "..." if it would not fit. */
	char reasons[BS_RETENTION_REASON_MAX];
};

/* Check a policy before use: a negative count or keep_within/keep_window
 * other than -1 (unset, like 0), a negative min_keep or orphan_grace, no keep rule at all ("empty policy")
 * or an unknown time zone -> -1 with BS_ERR_POLICY (message names the first
 * problem, detail lists all of them, hint says what to write).  An empty
 * timezone means UTC.  Looks the zone up in $TZDIR or /usr/share/zoneinfo. */
int bs_retention_policy_validate(const struct bs_retention_policy *p, struct bs_err *err);

/* Decide for items[0..n) (any order; decisions[i] answers items[i]).
 * now is used for keep_window, for spotting future (clock-skewed) start
 * times and for the orphan grace period.  Validates p first.
 *
 * Returns 0, or -1 with err set and every decision BS_RETAIN_KEEP (so a
 * careless caller deletes nothing): BS_ERR_POLICY for an invalid policy or
 * one that would delete every complete snapshot, BS_ERR_NOMEM, BS_ERR_USAGE
 * for NULL arrays with n > 0.
 *
 * Thread safety: with a time zone other than UTC the engine switches TZ
 * under a process-wide mutex (setenv, tzset, localtime_r, restore) once per
 * call.  Other threads that call localtime() or getenv() at that moment are
 * not protected; prune is single-threaded.  See docs/retention.md. */
int bs_retention_apply(const struct bs_retention_policy *p, const struct bs_retention_item *items,
		       size_t n, time_t now, struct bs_retention_decision *decisions,
		       struct bs_err *err);

/* An archive with no catalog record may be deleted only when it was last
 * written more than orphan_grace seconds before now.  1 = expired, 0 = keep
 * (also for an mtime in the future). */
int bs_retention_orphan_expired(const struct bs_retention_policy *p, time_t archive_mtime,
				time_t now);

/* "kept" or "deleted", for dry-run output ("kept: daily 2026-11-20"). */
const char *bs_retention_verdict_name(enum bs_retention_verdict v);

/* One line summary of the rules, e.g. "keep_daily 35, keep_weekly 8,
 * keep_window 30d; min_keep 3, keep_newest, keep_newest_verified,
 * orphan_grace 1d; timezone UTC".  Always NUL-terminates; returns buf. */
char *bs_retention_policy_describe(const struct bs_retention_policy *p, char *buf, size_t n);

#endif
