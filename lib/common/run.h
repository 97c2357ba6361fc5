/*
 * run.h - run a subprocess (pg_dump, pg_restore, hooks) from an argv
 * vector, never through a shell.
 *
 * The caller fills struct bs_run, starts it, and waits.  stderr of the child
 * is captured (the last BS_RUN_STDERR_MAX bytes) so errors can quote it.
 * The child's environment is an allow-list (enum bs_run_env) plus env.
 *
 * A file we hold open and name to the child as /proc/<our pid>/fd/<n> (see
 * lib/restore/schema.c) is handed over as the child's own /proc/self/fd/<n>
 * (fd n inherited): while secrets are loaded this process is not dumpable
 * (crypt/age.h, bs_secret_protect_process), and then no other process of
 * the user, our children included, may open our /proc/<pid>/fd.
 */
#ifndef BS_COMMON_RUN_H
#define BS_COMMON_RUN_H

#include <sys/types.h>

#include "common/err.h"

#define BS_RUN_STDERR_MAX 4096

/* Which of our environment variables a child gets (docs/encryption.md,
 * "Secrets and child processes").  Never BACKSTOP_* (the passphrase, and
 * config values that may hold secrets), never an arbitrary variable a
 * config file names in ${VAR}: an allow-list, plus the caller's env.
 *   BS_RUN_ENV_PG    pg_dump, pg_restore: PATH, HOME, USER, LOGNAME, LANG,
 *                    LANGUAGE, LC_*, TZ, TZDIR, TMPDIR, LD_LIBRARY_PATH,
 *                    PG* (libpq's connection and client variables, as our
 *                    own connections use them), KRB5*, SSL_CERT_FILE,
 *                    SSL_CERT_DIR
 *   BS_RUN_ENV_HOOK  hooks: PATH, HOME, USER, LOGNAME, SHELL, LANG,
 *                    LANGUAGE, LC_*, TZ, TMPDIR, the proxy variables
 *                    (http_proxy, https_proxy, no_proxy, all_proxy, either
 *                    case), and HOOK_* (the operator's own settings for
 *                    hooks); no PG* variable */
enum bs_run_env { BS_RUN_ENV_PG = 0, BS_RUN_ENV_HOOK = 1 };

struct bs_run {
	/* inputs, owned by the caller */
	const char *const *argv;   /* argv[0] is the program path */
	const char *const *env;    /* extra "KEY=VALUE" entries, NULL-terminated, or NULL */
	enum bs_run_env env_policy;/* which of our variables pass (default: PG) */
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
