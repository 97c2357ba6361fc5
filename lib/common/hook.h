/*
 * hook.h - run an operator's hook executable on an event (pre-snap,
 * post-snap, snap-failed, post-drill, drill-failed; docs/config.md), through
 * bs_run: argv, never a shell.
 *
 * The hook gets BACKSTOP_EVENT plus the caller's BACKSTOP_* variables in its
 * environment, its stdout and stderr go to ours (so cron mails them), and it
 * is killed if it runs longer than timeout_s.  Examples live in hooks/.
 */
#ifndef BS_COMMON_HOOK_H
#define BS_COMMON_HOOK_H

#include "common/err.h"

/* How long a hook may run (hooks.timeout overrides the first), and how long
 * after SIGINT/SIGTERM, when the service manager will not wait long. */
#define BS_HOOK_TIMEOUT_S 300
#define BS_HOOK_TIMEOUT_INTERRUPTED_S 60

/* path NULL or "": nothing to run, returns 0.  timeout_s <= 0:
 * BS_HOOK_TIMEOUT_S.  env: "KEY=VALUE" entries,
 * NULL-terminated (copied).  A hook that exits non-zero is a
 * BS_ERR_SUBPROCESS error naming the hook and the event. */
int bs_hook_run(const char *path, const char *event, const char *const *env, int timeout_s,
		struct bs_err *err);

#endif
