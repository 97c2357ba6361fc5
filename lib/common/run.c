/* run.c - see run.h */
#include "common/run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

void bs_run_init(struct bs_run *r)
{
	memset(r, 0, sizeof(*r));
	r->stdin_fd = r->stdout_fd = -1;
	r->stderr_fd = -1;
	r->stdout_pipe = -1;
	r->pid = -1;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/* The allow-lists of run.h, one row per enum bs_run_env: exact names
 * ("PATH=") and name prefixes ("LC_": any LC_x=...). */
struct env_policy {
	const char *const *names;
	const char *const *prefixes;
};

static const char *const pg_names[] = { "PATH=", "HOME=", "USER=", "LOGNAME=", "LANG=",
					"LANGUAGE=", "TZ=", "TMPDIR=", "TZDIR=",
					"LD_LIBRARY_PATH=", "SSL_CERT_FILE=", "SSL_CERT_DIR=",
					NULL };
static const char *const pg_prefixes[] = { "LC_", "PG", "KRB5", NULL };
static const char *const hook_names[] = { "PATH=", "HOME=", "USER=", "LOGNAME=", "LANG=",
					  "LANGUAGE=", "TZ=", "TMPDIR=", "SHELL=",
					  "http_proxy=", "https_proxy=", "no_proxy=",
					  "all_proxy=", "HTTP_PROXY=", "HTTPS_PROXY=",
					  "NO_PROXY=", "ALL_PROXY=", NULL };
static const char *const hook_prefixes[] = { "LC_", "HOOK_", NULL };
static const char *const minimal_names[] = { "PATH=", "HOME=", "LANG=", "TZ=", NULL };
static const char *const minimal_prefixes[] = { "LC_", NULL };

static const struct env_policy env_policies[] = {
	[BS_RUN_ENV_PG] = { pg_names, pg_prefixes },
	[BS_RUN_ENV_HOOK] = { hook_names, hook_prefixes },
	[BS_RUN_ENV_MINIMAL] = { minimal_names, minimal_prefixes },
};
#define ENV_POLICIES (sizeof(env_policies) / sizeof(env_policies[0]))

/* Is the variable "NAME=..." passed to a child under policy? */
static int allowed(const char *var, enum bs_run_env policy)
{
	const struct env_policy *p = &env_policies[policy];
	const char *const *l;

	for (l = p->names; *l; l++)
		if (has_prefix(var, *l))
			return 1;
	for (l = p->prefixes; *l; l++)
		if (has_prefix(var, *l) && strchr(var + strlen(*l), '='))
			return 1;
	return 0;
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

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* The parts of bs_run_start before the spawn: stderr file, stdout pipe and
 * buffer.  On failure the caller closes what was made (bs_run_release). */
static int prepare(struct bs_run *r, int *pipe_w, struct bs_err *err)
{
	char tmpl[] = "/tmp/backstop-stderr-XXXXXX";
	int p[2];

	if ((unsigned)r->env_policy >= ENV_POLICIES)
		return bs_err_set(err, BS_ERR_INTERNAL, "unknown environment policy %d",
				  (int)r->env_policy);
	if (r->capture_stdout && r->stdout_fd >= 0)
		return bs_err_set(err, BS_ERR_INTERNAL, "stdout both captured and redirected");
	if ((!r->search_path || strchr(r->argv[0], '/')) && access(r->argv[0], X_OK) < 0)
		return bs_err_sys(err, BS_ERR_SUBPROCESS, errno, "unable to run '%s'", r->argv[0]);
	if (!r->pass_stderr) {
		r->stderr_fd = mkstemp(tmpl);
		if (r->stderr_fd < 0)
			return bs_err_sys(err, BS_ERR_IO, errno, "unable to create a temporary file");
		unlink(tmpl);
	}
	if (r->capture_stdout) {
		r->stdout_buf = malloc(r->stdout_max + 1);
		if (!r->stdout_buf)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		r->stdout_buf[0] = '\0';
		if (pipe2(p, O_CLOEXEC) < 0)
			return bs_err_sys(err, BS_ERR_IO, errno, "unable to create a pipe");
		fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
		r->stdout_pipe = p[0];
		*pipe_w = p[1];
	}
	return 0;
}

int bs_run_start(struct bs_run *r, struct bs_err *err)
{
	posix_spawn_file_actions_t fa;
	const char *argv[RUN_ARGV_MAX];
	char *copies[RUN_ARGV_MAX] = { NULL };
	char **env;
	int rc, nullfd, pipe_w = -1, out;
	size_t i;

	r->stdout_len = 0;
	r->stdout_total = 0;
	r->stdout_truncated = r->timed_out = 0;
	if (prepare(r, &pipe_w, err) < 0) {
		close_fd(&pipe_w);
		bs_run_release(r);
		return -1;
	}
	env = build_env(r->env, r->env_policy);
	if (!env) {
		close_fd(&pipe_w);
		bs_run_release(r);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	out = pipe_w >= 0 ? pipe_w : r->stdout_fd >= 0 ? r->stdout_fd : nullfd;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, r->stdin_fd >= 0 ? r->stdin_fd : nullfd, 0);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	if (r->stderr_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, r->stderr_fd, 2);
	if (own_fds(r->argv, argv, copies, &fa) < 0)
		rc = ENOMEM;
	else
		rc = (r->search_path ? posix_spawnp : posix_spawn)(&r->pid, r->argv[0], &fa, NULL, (char *const *)argv,
								  env);
	r->start_ms = now_ms();
	posix_spawn_file_actions_destroy(&fa);
	free(env);
	for (i = 0; i < RUN_ARGV_MAX && copies[i]; i++)
		free(copies[i]);
	if (nullfd >= 0)
		close(nullfd);
	close_fd(&pipe_w); /* the child holds its copy: EOF when it (and its children) close it */
	if (rc != 0) {
		r->pid = -1;
		bs_run_release(r);
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

/* Read what the stdout pipe holds now (non-blocking): keep up to
 * stdout_max bytes, count the rest.  Closes the pipe at EOF. */
static void drain_stdout(struct bs_run *r)
{
	char chunk[16384];

	while (r->stdout_pipe >= 0) {
		ssize_t n = read(r->stdout_pipe, chunk, sizeof(chunk));
		size_t keep;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) { /* EOF, or an error we cannot do better with */
			close_fd(&r->stdout_pipe);
			return;
		}
		r->stdout_total += (size_t)n;
		keep = r->stdout_max - r->stdout_len;
		if (keep > (size_t)n)
			keep = (size_t)n;
		memcpy(r->stdout_buf + r->stdout_len, chunk, keep);
		r->stdout_len += keep;
		r->stdout_buf[r->stdout_len] = '\0';
		if (keep < (size_t)n)
			r->stdout_truncated = 1;
	}
}

/* "3s" or "1500ms" */
static void fmt_ms(unsigned ms, char *out, size_t n)
{
	if (ms % 1000 == 0)
		snprintf(out, n, "%us", ms / 1000);
	else
		snprintf(out, n, "%ums", ms);
}

/* Wait for the child while draining the capture and enforcing the timeout.
 * *killed: it needed SIGKILL.  Returns 0 with *status, or -1 with errno. */
static int wait_watching(struct bs_run *r, int *status, int *killed)
{
	long long term_at = -1;

	*killed = 0;
	for (;;) {
		long long now;
		pid_t p;

		if (r->stdout_pipe >= 0) {
			struct pollfd pfd = { .fd = r->stdout_pipe, .events = POLLIN };
			if (poll(&pfd, 1, 20) > 0)
				drain_stdout(r);
		} else {
			poll(NULL, 0, 20);
		}
		p = waitpid(r->pid, status, WNOHANG);
		if (p == r->pid) {
			/* what it wrote before exiting is in the pipe; a grandchild
			 * still holding the pipe open is not waited for */
			drain_stdout(r);
			close_fd(&r->stdout_pipe);
			return 0;
		}
		if (p < 0 && errno != EINTR)
			return -1;
		if (!r->timeout_ms)
			continue;
		now = now_ms();
		if (term_at < 0 && now - r->start_ms >= (long long)r->timeout_ms) {
			kill(r->pid, SIGTERM);
			r->timed_out = 1;
			term_at = now;
		} else if (term_at >= 0 && !*killed && now - term_at >= BS_RUN_KILL_GRACE_MS) {
			kill(r->pid, SIGKILL);
			*killed = 1;
		}
	}
}

int bs_run_wait(struct bs_run *r, struct bs_err *err)
{
	int status, killed = 0;
	char line[512], t[32], grace[32];
	const char *prog;

	if (r->pid < 0)
		return bs_err_set(err, BS_ERR_INTERNAL, "subprocess not started");
	if (r->stdout_pipe >= 0 || r->timeout_ms) {
		if (wait_watching(r, &status, &killed) < 0) {
			int e = errno;
			bs_run_kill(r);
			return bs_err_sys(err, BS_ERR_SUBPROCESS, e, "waitpid failed");
		}
	} else {
		while (waitpid(r->pid, &status, 0) < 0) {
			if (errno != EINTR) {
				r->pid = -1;
				return bs_err_sys(err, BS_ERR_SUBPROCESS, errno, "waitpid failed");
			}
		}
	}
	r->pid = -1;
	read_tail(r);
	if (WIFEXITED(status))
		r->exit_status = WEXITSTATUS(status);
	else
		r->exit_status = 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	if (r->exit_status == 0 && !r->timed_out)
		return 0;
	prog = strrchr(r->argv[0], '/');
	prog = prog ? prog + 1 : r->argv[0];
	last_line(r->stderr_tail, line, sizeof(line));
	if (r->timed_out) {
		fmt_ms(r->timeout_ms, t, sizeof(t));
		fmt_ms(BS_RUN_KILL_GRACE_MS, grace, sizeof(grace));
		if (killed)
			bs_err_set(err, BS_ERR_SUBPROCESS,
				   "%s timed out after %s and was killed (SIGKILL: still running %s "
				   "after SIGTERM)", prog, t, grace);
		else
			bs_err_set(err, BS_ERR_SUBPROCESS, "%s timed out after %s and was terminated",
				   prog, t);
		if (line[0])
			bs_err_detail(err, "its last error line: %s", line);
	} else if (WIFSIGNALED(status)) {
		bs_err_set(err, BS_ERR_SUBPROCESS, "%s was killed by signal %d", prog, WTERMSIG(status));
	} else {
		bs_err_set(err, BS_ERR_SUBPROCESS, "%s failed (exit %d)%s%s", prog, r->exit_status,
			   line[0] ? ": " : "", line);
	}
	return -1;
}

void bs_run_kill(struct bs_run *r)
{
	if (r->pid > 0) {
		long long t0 = now_ms();
		pid_t p;

		kill(r->pid, SIGTERM);
		while ((p = waitpid(r->pid, NULL, WNOHANG)) == 0 ||
		       (p < 0 && errno == EINTR)) {
			if (now_ms() - t0 >= BS_RUN_KILL_GRACE_MS) {
				kill(r->pid, SIGKILL);
				while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
					;
				break;
			}
			poll(NULL, 0, 10);
		}
		r->pid = -1;
	}
	close_fd(&r->stderr_fd);
	close_fd(&r->stdout_pipe);
}

int bs_run_sync(struct bs_run *r, struct bs_err *err)
{
	if (bs_run_start(r, err) < 0)
		return -1;
	return bs_run_wait(r, err);
}

void bs_run_release(struct bs_run *r)
{
	bs_run_kill(r);
	free(r->stdout_buf);
	r->stdout_buf = NULL;
	r->stdout_len = 0;
}
