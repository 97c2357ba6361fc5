/*
 * metrics.h (command layer) - the Prometheus textfile metrics that snap,
 * drills (verify-restore) and prune leave in metrics_dir for
 * node_exporter's textfile collector.  docs/config.md lists every series;
 * contrib/prometheus/backstop-alerts.yaml alerts on them.
 *
 * One file per command and source database, so several databases (or a
 * snap and a drill) sharing one metrics_dir never overwrite each other:
 *
 *   backstop_snap_<db>.prom            snap
 *   backstop_drill_<db>.prom           full restore drills
 *   backstop_archive_check_<db>.prom   verify-restore --archive-only
 *   backstop_prune_<db>.prom           prune of one database's snapshots
 *   backstop_prune.prom                prune over every database
 *
 * <db> is the database name with characters outside [A-Za-z0-9_-] replaced
 * by '_' and, when anything was replaced, a hash of the real name appended
 * (so "a-b" and "a.b" stay apart).  Every series carries the labels
 * database="<name>" and repository="<location>" (drills also mode="full"
 * or "archive").
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

/* The file name (without ".prom") used for command and database (NULL: no
 * database part).  out must hold 256 bytes. */
void bs_cmd_metrics_file(const char *command, const char *database, char out[256]);

#endif
