/*
 * rollback.h (command layer) - the rollback verbs (rollback.c): record a
 * release, list and verify the ledger, mark a release good or bad, roll a
 * service back (or forward) with its database if asked, and watch a new
 * release.  cmd/rollback.c parses options into these requests.
 */
#ifndef BS_COMMAND_ROLLBACK_H
#define BS_COMMAND_ROLLBACK_H

#include <stdint.h>
#include <stdio.h>

#include "common/err.h"
#include "config/config.h"

struct bs_rollback_cmd {
	struct bs_config *cfg;
	const char *service;
	const char *actor;           /* --actor, or NULL: the environment (common/actor.h) */
	const char *reason;
	int json;
	int quiet;
	int64_t wait_ms;             /* how long to wait for another change of the service to end (0: none) */
	int dry_run;                 /* record, mark, watch: say what would be written, write nothing */
	FILE *out;
	const volatile int *cancel;
};

/* rollback record: IMAGE (tag resolved through the registry, or
 * @digest), with a pre-deploy snapshot when snap. */
int bs_cmd_rollback_record(const struct bs_rollback_cmd *c, const char *image, int snap, struct bs_err *err);

/* rollback list: 0, or (verify) 1 when the ledger fails verification. */
int bs_cmd_rollback_list(const struct bs_rollback_cmd *c, int verify, struct bs_err *err);

/* rollback mark: release NULL = the current one. */
int bs_cmd_rollback_mark(const struct bs_rollback_cmd *c, const char *release, int good, struct bs_err *err);

struct bs_rollback_to {
	const char *to;              /* release id, digest, or NULL: last-good */
	int with_db;
	const char *snapshot;        /* --snapshot: the one to restore instead of the ledger's */
	const char *identity_file;   /* --identity, to decrypt the snapshot */
	int dry_run, yes, force, no_verify;
	int automatic;               /* from watch --auto: the confirmation is the flag */
};
/* rollback to: 0 done and healthy, 1 done but the probes did not pass. */
int bs_cmd_rollback_to(const struct bs_rollback_cmd *c, const struct bs_rollback_to *o, struct bs_err *err);

struct bs_rollback_watch {
	int64_t for_ms;              /* how long to watch */
	int64_t outage_limit_ms;     /* an outage this long fails the release (0: probe.outage_limit, else 5m) */
	int64_t interval_ms;         /* between probe rounds (0: probe.interval) */
	int automatic;               /* --auto: roll back when the limit is passed */
	const char *release;         /* the release watched (NULL: the current one) */
};
/* rollback watch: 0 the release stayed healthy (marked known-good); 1 the
 * outage limit was passed (marked bad; rolled back under automatic). */
int bs_cmd_rollback_watch(const struct bs_rollback_cmd *c, const struct bs_rollback_watch *o, struct bs_err *err);

#endif
