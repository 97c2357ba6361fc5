/*
 * sigwatch.h - SIGINT/SIGTERM: the clean-up registry of an interrupted
 * command, run outside the signal handler.
 *
 * The handler only writes the signal number into a pipe; a watcher thread
 * reads it and runs the clean-up steps the command registered, newest
 * first, then ends the process with 128+signal.  A step undoes what the
 * command has under way (the guard of a snap, a restore or a drill removes
 * the unfinished archive or database) and may use libpq, run hooks and log
 * what it did; it must not exit.  A handler + pipe rather than a blocked
 * mask + sigwait(): a blocked mask is inherited by children (pg_restore)
 * and would make them unkillable.
 *
 * Unless a step says it reports the interruption itself
 * (BS_SIGWATCH_REPORTS: snap, whose one line depends on whether the
 * snapshot was committed), the watcher logs "interrupted by SIGTERM"
 * before the steps run.
 */
#ifndef BS_COMMON_SIGWATCH_H
#define BS_COMMON_SIGWATCH_H

#include "common/err.h"

typedef void (*bs_cleanup_fn)(int sig, void *ud);

#define BS_SIGWATCH_STEPS_MAX 8
#define BS_SIGWATCH_REPORTS   0x1 /* the step logs the interruption itself */

/* Install handlers for SIGINT and SIGTERM and start the watcher.  Call
 * once per process, before starting work. */
int bs_sigwatch_start(struct bs_err *err);

/* Register a clean-up step (at most BS_SIGWATCH_STEPS_MAX).  Register
 * before the work the step undoes starts: a signal between start and
 * registration ends the process without it. */
int bs_sigwatch_on(bs_cleanup_fn fn, void *ud, unsigned flags, struct bs_err *err);

/* For commands with nothing to clean up, only work to stop (gate, probe,
 * rollback): handlers for SIGINT and SIGTERM that set a flag, and the
 * flag (non-zero, the signal's number, once one arrived) to hand to the
 * work as its cancel pointer.  Not together with bs_sigwatch_start. */
const volatile int *bs_cancel_on_signals(void);

/* "SIGINT", "SIGTERM", else "signal N" (static storage for those two). */
const char *bs_signame(int sig);

/* 1 once the watcher has begun handling a signal (the process is ending):
 * work failing now failed because of it, and is reported by the steps. */
int bs_sigwatch_fired(void);

/* Call before main returns: if a signal is being handled, wait for the
 * watcher to end the process instead of racing it to exit (its clean-up
 * may be what made the main thread fail). */
void bs_sigwatch_settle(void);

#endif
