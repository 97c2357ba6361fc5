/*
 * prune.h (command layer) - snap prune (prune.c): retention decisions per
 * database and the deletions, as a JSON document the command prints.
 */
#ifndef BS_COMMAND_PRUNE_H
#define BS_COMMAND_PRUNE_H

#include <stdio.h>
#include <time.h>

#include "common/err.h"
#include "repo/repo.h"
#include "retention/policy.h"

struct bs_prune_request {
	const struct bs_retention_policy *policy;
	const char *database;   /* only this database's snapshots; NULL: every database */
	int dry_run;
	int lock_wait_ms;       /* how long to wait for running snaps; <0 forever */
	time_t now;             /* 0: time(NULL) */
	/* For a snap that prunes after itself (manual `snap prune` sets neither): */
	const char *protect_id; /* never delete this snapshot: the one the snap just took */
	time_t protect_since;   /* never delete a snapshot whose end time is >= this (the
				 * snap's start): it finished while the snap was running,
				 * so it is a concurrent snap's; 0: none */
};
/* Decide with the retention engine and delete (unless dry_run) under the
 * exclusive repository lock: the record first, then the archive, pins and
 * drills, so an interrupted prune leaves orphans, never a listed snapshot
 * without its archive.  Each source database is decided on its own (its
 * own keep_last, buckets, min_keep, newest rule); orphaned archives are
 * judged against every database's records.
 *
 * *out receives the document `snap prune --json` prints (owned by the
 * caller: json_decref), also when nothing was deleted:
 *   {"policy": "...", "database": NAME|null, "dry_run": bool,
 *    "kept": N, "deleted": N,
 *    "databases": [{"database": NAME, "kept": N, "deleted": N}...],
 *    "decisions": [{"id", "kind": "snapshot"|"orphan", "database": NAME|null,
 *                   "verdict": "keep"|"delete", "reasons": "..."}...]}
 * On error *out is NULL. */
struct json_t;
int bs_cmd_prune(struct bs_repo *repo, const struct bs_prune_request *rq, struct json_t **out,
		 struct bs_err *err);
/* The same document as text: the policy, one line per decision naming its
 * database, per-database totals when there are several, the totals. */
void bs_prune_print_text(const struct json_t *doc, FILE *f);

#endif
