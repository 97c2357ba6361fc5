/* run.c - see run.h */
#include "common/run.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

void bs_run_init(struct bs_run *r)
{
	memset(r, 0, sizeof(*r));
	r->stdin_fd = r->stdout_fd = -1;
	r->stderr_fd = -1;
	r->pid = -1;
}

static int has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/* Is the variable "NAME=..." passed to a child under policy? */
static int allowed(const char *var, enum bs_run_env policy)
{
	static const char *const common[] = { "PATH=", "HOME=", "USER=", "LOGNAME=", "LANG=",
					      "LANGUAGE=", "TZ=", "TMPDIR=", NULL };
	static const char *const pg[] = { "TZDIR=", "LD_LIBRARY_PATH=", "SSL_CERT_FILE=",
					  "SSL_CERT_DIR=", NULL };
	static const char *const hook[] = { "SHELL=", "http_proxy=", "https_proxy=", "no_proxy=",
					    "all_proxy=", "HTTP_PROXY=", "HTTPS_PROXY=", "NO_PROXY=",
					    "ALL_PROXY=", NULL };
	const char *const *l;

	for (l = common; *l; l++)
		if (has_prefix(var, *l))
			return 1;
	if (has_prefix(var, "LC_") && strchr(var, '='))
		return 1;
	if (policy == BS_RUN_ENV_HOOK) {
		for (l = hook; *l; l++)
			if (has_prefix(var, *l))
				return 1;
		return has_prefix(var, "HOOK_") && strchr(var, '=');
	}
	for (l = pg; *l; l++)
		if (has_prefix(var, *l))
			return 1;
	return (has_prefix(var, "PG") || has_prefix(var, "KRB5")) && strchr(var, '=');
}

static char **build_env(const char *const *extra, enum bs_run_env policy)
{
	size_t n = 0, m = 0, i, j = 0;
	char **env;

	while (environ[n])
		n++;
	while (extra && extra[m])
		m++;
	env = calloc(n + m + 1, sizeof(*env));
	if (!env)
		return NULL;
	for (i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t kl = eq ? (size_t)(eq - environ[i]) + 1 : strlen(environ[i]);
		size_t k;
		int overridden = 0;
		if (!eq || !allowed(environ[i], policy))
			continue;
		for (k = 0; k < m; k++)
			if (strncmp(extra[k], environ[i], kl) == 0)
				overridden = 1;
		if (!overridden)
			env[j++] = environ[i];
	}
	for (i = 0; i < m; i++)
		env[j++] = (char *)extra[i];
	return env;
}

/* "/proc/<our pid>/fd/<n>" ending arg: *fd = n and the offset of "/proc". */
static int own_proc_fd(const char *arg, int *fd, size_t *at)
{
	char mine[64];
	const char *p;
	char *end;
	long v;

	snprintf(mine, sizeof(mine), "/proc/%ld/fd/", (long)getpid());
	p = strstr(arg, mine);
	if (!p)
		return 0;
	v = strtol(p + strlen(mine), &end, 10);
	if (*end || end == p + strlen(mine) || v < 0 || v > 65535)
		return 0;
	*fd = (int)v;
	*at = (size_t)(p - arg);
	return 1;
}

#define RUN_ARGV_MAX 64

/* argv with our /proc/<pid>/fd/<n> names turned into the child's
 * /proc/self/fd/<n>, and fd n kept open across exec (adddup2 of an fd onto
 * itself clears FD_CLOEXEC).  *copies: strings to free. */
static int own_fds(const char *const *argv, const char **out, char **copies,
		   posix_spawn_file_actions_t *fa)
{
	size_t i, nc = 0;

	for (i = 0; argv[i]; i++) {
		int fd;
		size_t at;
		if (i + 1 >= RUN_ARGV_MAX)
			return -1;
		out[i] = argv[i];
		if (!own_proc_fd(argv[i], &fd, &at))
			continue;
		copies[nc] = malloc(at + 32);
		if (!copies[nc])
			return -1;
		snprintf(copies[nc], at + 32, "%.*s/proc/self/fd/%d", (int)at, argv[i], fd);
		out[i] = copies[nc++];
		posix_spawn_file_actions_adddup2(fa, fd, fd);
	}
	out[i] = NULL;
	return 0;
}

int bs_run_start(struct bs_run *r, struct bs_err *err)
{
	posix_spawn_file_actions_t fa;
	char tmpl[] = "/tmp/backstop-stderr-XXXXXX";
	const char *argv[RUN_ARGV_MAX];
	char *copies[RUN_ARGV_MAX] = { NULL };
	char **env;
	int rc, nullfd;
	size_t i;

	if (access(r->argv[0], X_OK) < 0)
		return bs_err_sys(err, BS_ERR_SUBPROCESS, errno, "unable to run '%s'", r->argv[0]);
	if (!r->pass_stderr) {
		r->stderr_fd = mkstemp(tmpl);
		if (r->stderr_fd < 0)
			return bs_err_sys(err, BS_ERR_IO, errno, "unable to create a temporary file");
		unlink(tmpl);
	}
	env = build_env(r->env, r->env_policy);
	if (!env)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, r->stdin_fd >= 0 ? r->stdin_fd : nullfd, 0);
	posix_spawn_file_actions_adddup2(&fa, r->stdout_fd >= 0 ? r->stdout_fd : nullfd, 1);
	if (r->stderr_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, r->stderr_fd, 2);
	if (own_fds(r->argv, argv, copies, &fa) < 0)
		rc = ENOMEM;
	else
		rc = posix_spawn(&r->pid, r->argv[0], &fa, NULL, (char *const *)argv, env);
	posix_spawn_file_actions_destroy(&fa);
	free(env);
	for (i = 0; i < RUN_ARGV_MAX && copies[i]; i++)
		free(copies[i]);
	if (nullfd >= 0)
		close(nullfd);
	if (rc != 0) {
		r->pid = -1;
		return bs_err_sys(err, BS_ERR_SUBPROCESS, rc, "unable to run '%s'", r->argv[0]);
	}
	return 0;
}

static void read_tail(struct bs_run *r)
{
	off_t size;
	ssize_t n;
	off_t from;

	r->stderr_tail[0] = '\0';
	if (r->stderr_fd < 0)
		return;
	size = lseek(r->stderr_fd, 0, SEEK_END);
	from = size > BS_RUN_STDERR_MAX ? size - BS_RUN_STDERR_MAX : 0;
	n = pread(r->stderr_fd, r->stderr_tail, BS_RUN_STDERR_MAX, from);
	if (n < 0)
		n = 0;
	r->stderr_tail[n] = '\0';
	close(r->stderr_fd);
	r->stderr_fd = -1;
}

/* Last non-empty line of s, without the program-name prefix pg tools print. */
static void last_line(const char *s, char *out, size_t n)
{
	const char *end = s + strlen(s), *start;
	size_t len;

	while (end > s && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	start = end;
	while (start > s && start[-1] != '\n')
		start--;
	/* prefer the first "error:" line, which pg tools print first */
	{
		const char *e = strstr(s, "error: ");
		if (e) {
			const char *nl = strchr(e, '\n');
			start = e + 7;
			end = nl ? nl : s + strlen(s);
		}
	}
	len = (size_t)(end - start);
	if (len >= n)
		len = n - 1;
	memcpy(out, start, len);
	out[len] = '\0';
}

int bs_run_wait(struct bs_run *r, struct bs_err *err)
{
	int status;
	char line[512];
	const char *prog;

	if (r->pid < 0)
		return bs_err_set(err, BS_ERR_INTERNAL, "subprocess not started");
	while (waitpid(r->pid, &status, 0) < 0) {
		if (errno != EINTR) {
			r->pid = -1;
			return bs_err_sys(err, BS_ERR_SUBPROCESS, errno, "waitpid failed");
		}
	}
	r->pid = -1;
	read_tail(r);
	if (WIFEXITED(status))
		r->exit_status = WEXITSTATUS(status);
	else
		r->exit_status = 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	if (r->exit_status == 0)
		return 0;
	prog = strrchr(r->argv[0], '/');
	prog = prog ? prog + 1 : r->argv[0];
	last_line(r->stderr_tail, line, sizeof(line));
	if (WIFSIGNALED(status))
		bs_err_set(err, BS_ERR_SUBPROCESS, "%s was killed by signal %d", prog, WTERMSIG(status));
	else
		bs_err_set(err, BS_ERR_SUBPROCESS, "%s failed (exit %d)%s%s", prog, r->exit_status,
			   line[0] ? ": " : "", line);
	return -1;
}

void bs_run_kill(struct bs_run *r)
{
	if (r->pid > 0) {
		kill(r->pid, SIGTERM);
		while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
			;
		r->pid = -1;
	}
	if (r->stderr_fd >= 0) {
		close(r->stderr_fd);
		r->stderr_fd = -1;
	}
}

int bs_run_sync(struct bs_run *r, struct bs_err *err)
{
	if (bs_run_start(r, err) < 0)
		return -1;
	return bs_run_wait(r, err);
}
