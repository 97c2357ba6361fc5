/* hook.c - see hook.h */
#include "common/hook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	if (timeout_s <= 0)
		timeout_s = BS_HOOK_TIMEOUT_S;
	r.timeout_ms = (unsigned)timeout_s * 1000u;
	if (bs_run_wait(&r, err) == 0) {
		bs_run_release(&r);
		return 0;
	}
	if (r.timed_out)
		bs_err_set(err, BS_ERR_SUBPROCESS, "%s hook '%s' timed out after %ds", event, path, timeout_s);
	else if (r.exit_status > 0)
		bs_err_set(err, BS_ERR_SUBPROCESS, "%s hook '%s' failed (%s %d)", event, path,
			   r.exit_status >= 128 ? "signal" : "exit",
			   r.exit_status >= 128 ? r.exit_status - 128 : r.exit_status);
	else
		bs_err_prefix(err, "%s hook '%s'", event, path);
	bs_run_release(&r);
	return -1;
}
