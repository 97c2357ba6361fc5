/*
 * listing.h (command layer) - snap list and snap show (listing.c): load
 * the catalog (and, with a policy, the retention decisions) and render
 * them as text or JSON to the FILE the command gives.
 */
#ifndef BS_COMMAND_LISTING_H
#define BS_COMMAND_LISTING_H

#include <stdio.h>

#include "catalog/catalog.h"
#include "common/err.h"
#include "repo/repo.h"
#include "retention/policy.h"

/* `snap list`: every snapshot (of one database if given), oldest first.
 * JSON: {"snapshots": [record...]} (docs/cli.md documents the schema). */
int bs_cmd_snap_list(struct bs_repo *repo, const char *database,
		     const struct bs_retention_policy *policy, int json, FILE *f, struct bs_err *err);
/* With a policy, each snapshot also shows which rules keep it ("kept_by"). */
/* `snap show ID|latest` (latest of database if not NULL); with a policy,
 * also which rules keep it ("kept_by", null when the next prune deletes it). */
int bs_cmd_snap_show(struct bs_repo *repo, const char *spec, const char *database,
		     const struct bs_retention_policy *policy, int json, FILE *f, struct bs_err *err);
/* One record as a JSON object (owned by the caller: json_decref). */
struct json_t *bs_snap_record_json(const struct bs_snap_record *r);

#endif
