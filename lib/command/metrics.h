/*
 * metrics.h (command layer) - the Prometheus textfile metrics that snap,
 * drills (verify-restore), prune, restore, gate check and rollback leave
 * in metrics_dir for node_exporter's textfile collector.  docs/config.md
 * lists every series; contrib/prometheus/alerts.yaml alerts on them
 * (probes write their own file: probe/probe.h).
 *
 * One file per command and source database (policy, service), so several
 * databases (or a snap and a drill) sharing one metrics_dir never
 * overwrite each other:
 *
 *   backstop_snap_<db>.prom            snap
 *   backstop_drill_<db>.prom           full restore drills
 *   backstop_archive_check_<db>.prom   verify-restore --archive-only
 *   backstop_prune_<db>.prom           prune of one database's snapshots
 *   backstop_prune.prom                prune over every database
 *   backstop_restore_<db>.prom         restore (also rollback --with-db)
 *   backstop_gate_<policy>.prom        gate check (with --gate G:
 *                                      backstop_gate_<policy>_gate_<G>.prom)
 *   backstop_rollback_<service>.prom   rollback to and rollback watch
 *
 * <db> is the database name with characters outside [A-Za-z0-9_-] replaced
 * by '_' and, when anything was replaced, a hash of the real name appended
 * (so "a-b" and "a.b" stay apart); the same for policies and services.
 * The snap, drill, prune and restore series carry the labels
 * database="<name>" and repository="<location>" (drills also mode="full"
 * or "archive"); gate's policy= (and release=, gate= when given),
 * rollback's service=, repository= and release=.
 *
 * The last-success series (backstop_*_last_success_*) survive failures:
 * a failed run reads the previous file (strictly; a damaged one is not
 * trusted, with a warning) and carries them forward, so "no backup for
 * 26 hours" can fire however many runs fail in a row.
 *
 * Every function here does nothing when metrics_dir is not set; a write
 * failure is returned in err (callers warn: metrics never fail a backup).
 */
#ifndef BS_COMMAND_METRICS_H
#define BS_COMMAND_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "config/config.h"

struct bs_drill_report;

/* The source database a command is about when it has no snapshot record
 * to say so: the conninfo's dbname (libpq's rules), else the login name.
 * malloc'd; NULL only when out of memory. */
char *bs_cmd_metrics_dbname(const struct bs_config *cfg);

struct bs_snap_metrics {
	const char *database;    /* source database name (not NULL) */
	int ok;                  /* 1: a snapshot was committed */
	double seconds;          /* wall time of this run, whatever its outcome */
	/* when ok: */
	time_t snapshot_start;   /* the snapshot's start time */
	double snapshot_seconds; /* time to take it */
	uint64_t bytes, rows;    /* stored size, rows */
};

/* backstop_snap_<db>.prom: last run (timestamp, success, duration), last
 * success (timestamp = snapshot start, duration, bytes, rows; carried over
 * failures), last failure timestamp. */
int bs_cmd_metrics_snap(const struct bs_config *cfg, const struct bs_snap_metrics *m,
			struct bs_err *err);

/* The drills of one verify-restore run (full drills or archive checks;
 * re-verifications write nothing), one file per source database.  With
 * several reports of one database (--all) the run succeeded only if all
 * passed; the snapshot, RPO and RTO figures are those of its newest
 * snapshot.  Returns -1 with err when a file could not be written (the
 * others are still tried). */
int bs_cmd_metrics_drill(const struct bs_config *cfg, const struct bs_drill_report *reports,
			 size_t n, struct bs_err *err);

/* A drill that could not start at all (no repository, unknown snapshot...):
 * a failed run for database (or, if NULL, the configured database; nothing
 * when neither is known). */
int bs_cmd_metrics_drill_failed(const struct bs_config *cfg, const char *database, int archive_only,
				struct bs_err *err);

/* After `snap prune` / `snap --prune` (not a dry run): database NULL for a
 * prune over every database.  kept/deleted are counted only when ok. */
int bs_cmd_metrics_prune(const struct bs_config *cfg, const char *database, size_t kept,
			 size_t deleted, int ok, double seconds, struct bs_err *err);

/* ---- restore, gate, rollback --------------------------------------------
 *
 * These take err NULL to mean "log a failure as a warning": their callers
 * call them once, where the outcome is known, and go on. */

/* A restore (not --list, not --globals-only). */
struct bs_restore_metrics {
	const char *database;     /* the snapshot's source database; NULL: not known
				   * (then the configured database's, if any) */
	const char *target;       /* the target database's name (never a conninfo); may be NULL */
	int ok;
	double seconds;           /* wall time, whatever the outcome */
	/* when ok (0: not known): */
	time_t snapshot_start;
	uint64_t bytes, rows, tables; /* loaded (bytes: COPY text) */
};

/* backstop_restore_<db>.prom: last run (timestamp, success, duration,
 * snapshot; loaded bytes, rows and tables when it succeeded), last success
 * (timestamp, duration; carried over failures).  Nothing when no database
 * is known. */
int bs_cmd_metrics_restore(const struct bs_config *cfg, const struct bs_restore_metrics *m, struct bs_err *err);

/* One `gate check`. */
struct bs_gate_metrics {
	const char *policy;       /* the policy's name; NULL: nothing is written */
	const char *gate;         /* --gate: only this gate was checked; NULL: all */
	const char *release;      /* --release, or NULL */
	int rc;                   /* bs_cmd_gate_check's: 0 GO, 1 NO-GO, 2/3 error, -1 no decision */
	int go;                   /* the decision, when rc >= 0 */
	const size_t *counts;     /* criteria per enum bs_state (BS_STATE_COUNT), when rc >= 0 */
	double seconds;
};

/* backstop_gate_<policy>.prom: the last decision (timestamp, go, error,
 * duration, criteria per state) and the last GO (timestamp, carried, with
 * the release it let through).  A check that reached no decision (rc < 0)
 * updates an existing file only: a mistyped policy name leaves no file. */
int bs_cmd_metrics_gate(const struct bs_config *cfg, const struct bs_gate_metrics *m, struct bs_err *err);

/* One `rollback to` attempt: confirmed and past the pre_rollback hook (a
 * plan, a refusal or a veto is not an attempt, as for the ledger). */
struct bs_rollback_metrics {
	const char *service;
	const char *release;      /* the target release */
	int rc;                   /* bs_cmd_rollback_to's: 0 ok, 1 unhealthy, -1 failed */
	const char *result;       /* the ledger's result when recorded ("interrupted"...), or NULL */
	double seconds;
};

/* backstop_rollback_<service>.prom, rollback part: last run (timestamp,
 * success, result as a state set ok/unhealthy/interrupted/failed,
 * duration), last success (timestamp, carried).  The watch part of the
 * file is kept as it was. */
int bs_cmd_metrics_rollback(const struct bs_config *cfg, const struct bs_rollback_metrics *m, struct bs_err *err);

/* One `rollback watch` that probed (not a dry run). */
struct bs_rollback_watch_metrics {
	const char *service;
	const char *release;      /* the release watched */
	const char *verdict;      /* "good", "bad" (down past the limit), "down" (at the end), "error" */
	double seconds;           /* how long it watched */
	double outage_seconds;    /* the longest outage seen */
	size_t rounds, failed_rounds;
};

/* backstop_rollback_<service>.prom, watch part: timestamp, verdict as a
 * state set, duration, longest outage, rounds.  The rollback part of the
 * file is kept as it was. */
int bs_cmd_metrics_rollback_watch(const struct bs_config *cfg, const struct bs_rollback_watch_metrics *m,
				  struct bs_err *err);

/* The file name (without ".prom") used for command and database (NULL: no
 * database part).  out must hold 256 bytes. */
void bs_cmd_metrics_file(const char *command, const char *database, char out[256]);

#endif
