/*
 * run.h - run a subprocess (pg_dump, pg_restore, hooks, rollback drivers,
 * ssh-keygen) from an argv vector, never through a shell.
 *
 * The caller fills struct bs_run (after bs_run_init), starts it, waits, and
 * releases it:
 *
 *   struct bs_run r;
 *   bs_run_init(&r);
 *   r.argv = argv;                      (argv[0]: the program's path, or
 *                                        its name with r.search_path)
 *   r.env_policy = BS_RUN_ENV_MINIMAL;
 *   r.capture_stdout = 1; r.stdout_max = 64 * 1024;
 *   r.timeout_ms = 30000;
 *   rc = bs_run_sync(&r, err);          (0: exited 0)
 *   ... r.stdout_buf, r.stdout_len, r.stdout_truncated ...
 *   bs_run_release(&r);
 *
 * stderr of the child is captured (the last BS_RUN_STDERR_MAX bytes, in a
 * temporary file) so errors can quote it, unless pass_stderr.  stdout goes
 * to stdout_fd, /dev/null, or (capture_stdout) a buffer of at most
 * stdout_max bytes: the rest is read, counted and discarded, so a chatty
 * child never blocks and never grows our memory.  With timeout_ms the child
 * gets SIGTERM when the time is up and SIGKILL BS_RUN_KILL_GRACE_MS later if
 * it is still running; the error then says it timed out.
 * The child's environment is an allow-list (enum bs_run_env) plus env.
 * Signals go to the child's pid only (it stays in our process group, so a
 * Ctrl-C at the terminal reaches it as it reaches us); a grandchild that
 * outlives it is not waited for.
 *
 * A file we hold open and name to the child as /proc/<our pid>/fd/<n> (see
 * lib/restore/schema.c) is handed over as the child's own /proc/self/fd/<n>
 * (fd n inherited): while secrets are loaded this process is not dumpable
 * (common/secret.h, bs_secret_protect_process), and then no other process of
 * the user, our children included, may open our /proc/<pid>/fd.
 */
#ifndef BS_COMMON_RUN_H
#define BS_COMMON_RUN_H

#include <sys/types.h>

#include "common/err.h"

#include <stddef.h>

#define BS_RUN_STDERR_MAX 4096
/* After SIGTERM (a timeout, bs_run_kill), how long a child has to exit
 * before it gets SIGKILL. */
#define BS_RUN_KILL_GRACE_MS 2000

/* Which of our environment variables a child gets (docs/encryption.md,
 * "Secrets and child processes").  Never BACKSTOP_* (the passphrase, and
 * config values that may hold secrets), never an arbitrary variable a
 * config file names in ${VAR}: an allow-list, plus the caller's env (which
 * always passes, and replaces a variable of ours of the same name).
 *   BS_RUN_ENV_PG      pg_dump, pg_restore: PATH, HOME, USER, LOGNAME, LANG,
 *                      LANGUAGE, LC_*, TZ, TZDIR, TMPDIR, LD_LIBRARY_PATH,
 *                      PG* (libpq's connection and client variables, as our
 *                      own connections use them), KRB5*, SSL_CERT_FILE,
 *                      SSL_CERT_DIR
 *   BS_RUN_ENV_HOOK    hooks: PATH, HOME, USER, LOGNAME, SHELL, LANG,
 *                      LANGUAGE, LC_*, TZ, TMPDIR, the proxy variables
 *                      (http_proxy, https_proxy, no_proxy, all_proxy, either
 *                      case), and HOOK_* (the operator's own settings for
 *                      hooks); no PG* variable
 *   BS_RUN_ENV_MINIMAL rollback drivers, ssh-keygen -Y verify: PATH, HOME,
 *                      LANG, LC_*, TZ only
 * A new policy is one enumerator here and one row in run.c's table. */
enum bs_run_env { BS_RUN_ENV_PG = 0, BS_RUN_ENV_HOOK = 1, BS_RUN_ENV_MINIMAL = 2 };
struct bs_run {
	/* inputs, owned by the caller (only read, until bs_run_wait returns) */
	const char *const *argv;   /* argv[0] is the program path */
	const char *const *env;    /* extra "KEY=VALUE" entries, NULL-terminated, or NULL */
	enum bs_run_env env_policy;/* which of our variables pass (default: PG) */
	int stdin_fd;              /* -1: /dev/null */
	int stdout_fd;             /* -1: /dev/null (or the capture, below) */
	int pass_stderr;           /* 1: child's stderr goes to ours instead of being captured */
	int capture_stdout;        /* 1: stdout into stdout_buf (stdout_fd must be -1) */
	size_t stdout_max;         /* capture at most this many bytes (0: none kept) */
	unsigned timeout_ms;       /* 0: wait for ever; else SIGTERM, then SIGKILL */
	int search_path;           /* 1: an argv[0] without '/' is looked up in our PATH
				    * (ssh-keygen, a gate's command); else it is a path */

	/* state and outputs */
	pid_t pid;
	int stderr_fd;             /* capture file */
	int stdout_pipe;           /* read end of the stdout capture, or -1 */
	int exit_status;           /* exit code, or 128+signal */
	int timed_out;             /* 1: killed because timeout_ms passed */
	char stderr_tail[BS_RUN_STDERR_MAX + 1];
	char *stdout_buf;          /* capture: NUL-terminated, stdout_len bytes (it
				    * may hold NULs); owned by r, freed by
				    * bs_run_release.  NULL until captured. */
	size_t stdout_len;         /* bytes kept (<= stdout_max) */
	unsigned long long stdout_total; /* bytes the child wrote to stdout */
	int stdout_truncated;      /* 1: stdout_total > stdout_len, the rest was discarded */
	long long start_ms;        /* monotonic start time, for the timeout */
};

void bs_run_init(struct bs_run *r);
int bs_run_start(struct bs_run *r, struct bs_err *err);
/* Wait for the child (reading the stdout capture meanwhile, and enforcing
 * the timeout).  Returns 0 if it exited 0, else -1 with err
 * (BS_ERR_SUBPROCESS): "<prog> failed (exit N): <last stderr line>",
 * "<prog> was killed by signal N", or, after the timeout,
 * "<prog> timed out after Ns and was terminated" (r->timed_out is set; the
 * message says "killed" if it needed SIGKILL).  The capture and
 * stderr_tail are filled in every case. */
int bs_run_wait(struct bs_run *r, struct bs_err *err);
/* Terminate (SIGTERM; SIGKILL after BS_RUN_KILL_GRACE_MS) and reap a started
 * child; no-op if not started. */
void bs_run_kill(struct bs_run *r);
/* start + wait */
int bs_run_sync(struct bs_run *r, struct bs_err *err);
/* Kill a child still running, close what r holds, free stdout_buf.  r may
 * be used again after bs_run_init.  Safe on an initialised, never-started r. */
void bs_run_release(struct bs_run *r);

#endif
