/*
 * run.h - run a subprocess (pg_dump, pg_restore, hooks) from an argv
 * vector, never through a shell.
 *
 * The caller fills struct bs_run, starts it, and waits.  stderr of the child
 * is captured (the last BS_RUN_STDERR_MAX bytes) so errors can quote it.
 */
#ifndef BS_COMMON_RUN_H
#define BS_COMMON_RUN_H

#include <sys/types.h>

#include "common/err.h"

#define BS_RUN_STDERR_MAX 4096

struct bs_run {
	/* inputs, owned by the caller */
	const char *const *argv;   /* argv[0] is the program path */
	const char *const *env;    /* extra "KEY=VALUE" entries, NULL-terminated, or NULL */
	int stdin_fd;              /* -1: /dev/null */
	int stdout_fd;             /* -1: /dev/null */
	int pass_stderr;           /* 1: child's stderr goes to ours instead of being captured */

	/* state and outputs */
	pid_t pid;
	int stderr_fd;             /* capture file */
	int exit_status;           /* exit code, or 128+signal */
	char stderr_tail[BS_RUN_STDERR_MAX + 1];
};

void bs_run_init(struct bs_run *r);
int bs_run_start(struct bs_run *r, struct bs_err *err);
/* Wait for the child.  Returns 0 if it exited 0, else -1 with err
 * (BS_ERR_SUBPROCESS) quoting the last line of its stderr. */
int bs_run_wait(struct bs_run *r, struct bs_err *err);
/* Kill (SIGTERM) and reap a started child; no-op if not started. */
void bs_run_kill(struct bs_run *r);
/* start + wait */
int bs_run_sync(struct bs_run *r, struct bs_err *err);

#endif
