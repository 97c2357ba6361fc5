/*
 * listing.h (command layer) - snap list and snap show (listing.c): the
 * operations load the catalog (and, with a policy, the retention
 * decisions) into a listing; the writers render it as text or JSON.
 */
#ifndef BS_COMMAND_LISTING_H
#define BS_COMMAND_LISTING_H

#include <stdio.h>

#include "catalog/catalog.h"
#include "common/err.h"
#include "repo/repo.h"
#include "retention/policy.h"

/* What snap list / snap show show: the records, and with a policy which
 * rules keep each one.  Owned by the caller: bs_snap_listing_release. */
struct bs_snap_listing {
	struct bs_catalog cat;   /* trusted records, oldest first */
	int has_policy;          /* a policy was given */
	char **kept_by;          /* with a policy that could decide: per record, the rules
				  * that keep it, NULL when the next prune deletes it;
				  * NULL when there is no policy or it could not decide */
	size_t shown;            /* snap show: the record shown (an index into cat) */
};
void bs_snap_listing_release(struct bs_snap_listing *l);

/* `snap list`: every snapshot (of one database if given), oldest first.
 * An empty listing of one database warns naming the databases the
 * repository does hold. */
int bs_cmd_snap_list(struct bs_repo *repo, const char *database,
		     const struct bs_retention_policy *policy, struct bs_snap_listing *out, struct bs_err *err);
/* `snap show ID|latest` (latest of database if not NULL): out->cat holds
 * the snapshot's database's records (what "kept by" is decided among),
 * out->shown the one asked for. */
int bs_cmd_snap_show(struct bs_repo *repo, const char *spec, const char *database,
		     const struct bs_retention_policy *policy, struct bs_snap_listing *out, struct bs_err *err);

/* Render as text (aligned columns; every name escaped for the terminal) or
 * JSON.  list: {"snapshots": [record + "kept_by"...]}; show: one record +
 * "kept_by" (docs/cli.md documents both).  location names the repository
 * in text.  BS_ERR_IO when f fails. */
int bs_snap_list_write(const struct bs_snap_listing *l, const char *database, const char *location, int json,
		       FILE *f, struct bs_err *err);
int bs_snap_show_write(const struct bs_snap_listing *l, const char *location, int json, FILE *f,
		       struct bs_err *err);

/* One record as a JSON object (owned by the caller: json_decref). */
struct json_t *bs_snap_record_json(const struct bs_snap_record *r);

#endif
