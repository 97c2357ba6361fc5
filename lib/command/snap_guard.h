/*
 * snap_guard.h - what SIGINT/SIGTERM do to a running snap (command/snap.c).
 *
 * The command hands bs_cmd_snap a guard (bs_snap_request.guard) and starts
 * the signal watcher (common/sigwatch.h), whose callback calls
 * bs_snap_guard_abort and then ends the process with 128+signal.  The
 * guard makes the watcher and the main thread agree on who reports what:
 *
 *   - the main thread commits a snapshot (archive finish + catalog record)
 *     only while holding the guard, and only if no abort came first;
 *   - an abort while the snap runs marks it abandoned, removes the
 *     unfinished archive from the repository's tmp/, runs the on_failure
 *     hook (event snap-failed, BACKSTOP_ERROR "interrupted by SIGTERM:
 *     snapshot abandoned, nothing committed") and writes failure metrics
 *     (the last-success series carried forward); the main thread, failing
 *     because of the same signal, then reports nothing itself;
 *   - an abort while the main thread is already reporting a failure waits
 *     for it to finish, and adds nothing.
 *
 * Ownership: caller-allocated; lives as long as the process (the watcher
 * may use it until the process ends).  Nothing to release.
 */
#ifndef BS_COMMAND_SNAP_GUARD_H
#define BS_COMMAND_SNAP_GUARD_H

#include <pthread.h>
#include <time.h>

#include "catalog/catalog.h"
#include "command/metrics.h"
#include "common/err.h"
#include "config/config.h"

enum bs_snap_guard_state {
	BS_SNAP_GUARD_IDLE = 0,  /* no snap started yet */
	BS_SNAP_GUARD_RUNNING,   /* nothing committed */
	BS_SNAP_GUARD_COMMITTED, /* the snapshot exists; post-snap steps running */
	BS_SNAP_GUARD_REPORTING, /* the main thread is reporting a failure */
	BS_SNAP_GUARD_ABANDONED, /* an abort took over */
	BS_SNAP_GUARD_DONE,      /* the main thread has reported everything */
};

struct bs_snap_guard {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	enum bs_snap_guard_state state;
	const struct bs_config *cfg;  /* set when the snap starts */
	char id[BS_ID_MAX];           /* the snapshot being taken, "" before its id exists */
	char database[256];           /* source database (for metrics and hooks) */
	double t0;                    /* bs_now() at the start */
	struct bs_snap_metrics done;  /* when committed: its success metrics */
};

void bs_snap_guard_init(struct bs_snap_guard *g);

enum {
	BS_SNAP_ABORT_ABANDONED = 0, /* nothing committed; temp removed, hook run, metrics written */
	BS_SNAP_ABORT_COMMITTED = 1, /* the snapshot g->id was already committed */
	BS_SNAP_ABORT_NOTHING = 2,   /* no snap was running, or its outcome was already reported */
};

/* For the signal watcher thread (sig: SIGINT or SIGTERM).  Returns one of
 * BS_SNAP_ABORT_*, or -1 with err when a clean-up step failed (the others
 * were still done; nothing was committed). */
int bs_snap_guard_abort(struct bs_snap_guard *g, int sig, struct bs_err *err);

#endif
