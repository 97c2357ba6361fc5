/*
 * sigwatch.h - act on SIGINT/SIGTERM outside the signal handler.
 *
 * The handler only writes the signal number into a pipe; a watcher thread
 * reads it and calls the command's callback, which can use libpq, log, and
 * end the process (the callback decides; the library never exits).  A
 * handler + pipe rather than a blocked mask + sigwait(): a blocked mask is
 * inherited by children (pg_restore) and would make them unkillable.
 */
#ifndef BS_COMMON_SIGWATCH_H
#define BS_COMMON_SIGWATCH_H

#include "common/err.h"

typedef void (*bs_sigwatch_fn)(int sig, void *ud);

/* Install handlers for SIGINT and SIGTERM and start the watcher.  Call
 * once per process, before starting work. */
int bs_sigwatch_start(bs_sigwatch_fn fn, void *ud, struct bs_err *err);

/* Call before main returns: if a signal is being handled, wait for the
 * callback to end the process instead of racing it to exit (its clean-up
 * may be what made the main thread fail). */
void bs_sigwatch_settle(void);

#endif
