/* hook.c - see hook.h */
#include "common/hook.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/run.h"

#define HOOK_ENV_MAX 32

int bs_hook_run(const char *path, const char *event, const char *const *env, int timeout_s,
		struct bs_err *err)
{
	const char *argv[3] = { path, event, NULL };
	const char *envv[HOOK_ENV_MAX + 2];
	char ev[96];
	struct bs_run r;
	size_t n = 0;
	time_t deadline;

	if (!path || !*path)
		return 0;
	snprintf(ev, sizeof(ev), "BACKSTOP_EVENT=%s", event);
	envv[n++] = ev;
	while (env && *env && n < HOOK_ENV_MAX)
		envv[n++] = *env++;
	envv[n] = NULL;
	bs_run_init(&r);
	r.argv = argv;
	r.env = envv;
	r.env_policy = BS_RUN_ENV_HOOK; /* never our secrets (common/run.h) */
	r.stdout_fd = 2; /* hook output is log output */
	r.pass_stderr = 1;
	bs_debug("running %s hook '%s'", event, path);
	if (bs_run_start(&r, err) < 0) {
		bs_err_prefix(err, "%s hook", event);
		bs_err_hint(err, "hooks must be executable files; check hooks: in backstop.yaml");
		return -1;
	}
	/* bounded wait: a hung notification must not hang the nightly job */
	deadline = time(NULL) + (timeout_s > 0 ? timeout_s : 300);
	for (;;) {
		int status;
		pid_t p = waitpid(r.pid, &status, WNOHANG);
		if (p == r.pid) {
			r.pid = -1;
			if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
				return 0;
			return bs_err_set(err, BS_ERR_SUBPROCESS, "%s hook '%s' failed (%s %d)", event, path,
					  WIFEXITED(status) ? "exit" : "signal",
					  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		}
		if (p < 0 && errno != EINTR)
			return bs_err_sys(err, BS_ERR_SUBPROCESS, errno, "waiting for %s hook '%s'", event, path);
		if (time(NULL) > deadline) {
			bs_run_kill(&r);
			return bs_err_set(err, BS_ERR_SUBPROCESS, "%s hook '%s' timed out after %ds", event,
					  path, timeout_s);
		}
		usleep(20000);
	}
}
