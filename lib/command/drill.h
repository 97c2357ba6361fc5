/*
 * drill.h (command layer) - verify-restore: restore drills and archive
 * checks over the repository, as a list of named steps (drill.c).  The main
 * in cmd/verify-restore.c parses options into a request, calls these and
 * maps the reports to an exit code.  Nothing here prints to stdout.
 */
#ifndef BS_COMMAND_DRILL_H
#define BS_COMMAND_DRILL_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "config/config.h"
#include "drill/drill.h"

/* The drill in progress, for the signal watcher (bs_cmd_drill_interrupted):
 * set by bs_cmd_drill while a drill runs.  Caller-allocated, lives as long
 * as the process; bs_drill_current_init, nothing to release. */
struct bs_drill_current {
	pthread_mutex_t mu;
	int active;
	int interrupted;               /* the watcher told it: bs_cmd_drill tells nothing more */
	const struct bs_config *cfg;
	enum bs_drill_mode mode;
	char id[BS_ID_MAX], snapshot[BS_ID_MAX];
	char database[256];
	time_t start, snapshot_start;
	int64_t rpo_ms;
};

void bs_drill_current_init(struct bs_drill_current *c);

/* On SIGINT/SIGTERM (from the watcher thread): for the drill in progress,
 * run the post-drill and drill-failed hooks (result error, BACKSTOP_ERROR
 * "interrupted by SIGTERM: drill abandoned") and write its metrics as a
 * drill that could not run.  Returns 1 if a drill was in progress, 0 if
 * none (nothing done), -1 with err if the metrics could not be written. */
int bs_cmd_drill_interrupted(struct bs_drill_current *c, int sig, struct bs_err *err);

struct bs_drill_request {
	struct bs_config *cfg;          /* merged: file < env < flags (drill.scratch, repository) */
	const char *spec;               /* id, unique id prefix, or "latest"; ignored with all */
	const char *database;           /* only snapshots of this source database; NULL: all */
	int all;                        /* every snapshot in the repository, oldest first */
	int archive_only;               /* no database: decrypt, decompress, digests */
	const char *reverify;           /* verify this kept drill database instead of restoring */
	const char *identity_file;      /* --identity */
	const struct bs_drill_policy *policy; /* may be NULL */
	int jobs;                       /* restore loaders, verification connections, checker threads */
	int keep;                       /* leave the scratch database */
	int64_t stale_grace_ms;         /* <0: policy's, else BS_DRILL_STALE_GRACE_MS */
	int progress;                   /* progress line on a TTY */
	struct bs_drill_guard *guard;   /* for the signal watcher; may be NULL */
	struct bs_drill_current *current; /* likewise; may be NULL */
};

struct bs_drill_outcome {
	struct bs_drill_report *reports; /* one per snapshot drilled */
	size_t n;
};

void bs_drill_outcome_release(struct bs_drill_outcome *o);

/* Run the drill(s).  Returns -1 with err only when nothing could start
 * (configuration, repository, unknown snapshot, refused scratch server);
 * a drill that starts and then cannot finish is a report with
 * could_not_run set.  Drills that reach a verdict are recorded in the
 * catalog (archive checks only when they fail; re-verifications never). */
int bs_cmd_drill(const struct bs_drill_request *rq, struct bs_drill_outcome *out, struct bs_err *err);

/* `verify-restore list`: past drills (loaded with bs_drill_list_load, of
 * one snapshot if given), oldest first, as text or JSON {"drills": [...]};
 * location names the repository in text.  BS_ERR_IO when f fails. */
int bs_drill_list_write(const struct bs_drill_list *l, const char *location, int json, FILE *f,
			struct bs_err *err);

#endif
