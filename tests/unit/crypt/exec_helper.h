/*
 * exec_helper.h - run external programs from crypt unit tests (the age CLI,
 * backstop-keygen) with fork/exec and argv vectors, never a shell.
 * Included by the *_test.c files that need it; not a test itself.
 */
#ifndef BS_TEST_EXEC_HELPER_H
#define BS_TEST_EXEC_HELPER_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct proc {
	int status;        /* exit code, or 128 + signal, or -1 if it could not run */
	char out[16384];   /* stdout (truncated) */
	char err[8192];    /* stderr, or the terminal transcript for run_pty */
};

/* Full path of prog in $PATH, or NULL. */
static inline const char *find_in_path(const char *prog)
{
	static char buf[PATH_MAX];
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL;

	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	copy = strdup(path);
	for (dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		snprintf(buf, sizeof(buf), "%s/%s", dir, prog);
		if (access(buf, X_OK) == 0) {
			free(copy);
			return buf;
		}
	}
	free(copy);
	return NULL;
}

/* $BUILD/bin/<name> for the build this test binary belongs to
 * (<BUILD>/tests/crypt/<x>_test), or NULL if it is not built. */
static inline const char *build_bin(const char *name)
{
	static char buf[PATH_MAX];
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int i;

	if (n > 0) {
		exe[n] = '\0';
		for (i = 0; i < 3; i++) {
			char *slash = strrchr(exe, '/');
			if (slash)
				*slash = '\0';
		}
		snprintf(buf, sizeof(buf), "%s/bin/%s", exe, name);
		if (access(buf, X_OK) == 0)
			return buf;
	}
	snprintf(buf, sizeof(buf), "%s/bin/%s", getenv("BUILD") ? getenv("BUILD") : "build", name);
	return access(buf, X_OK) == 0 ? buf : NULL;
}

static inline int wait_status(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Read fds[0..n) until all close; into bufs (NUL-terminated, truncated). */
static inline void drain(int *fds, char **bufs, size_t *caps, int n)
{
	size_t len[2] = {0, 0};
	int open_n = n, i;

	while (open_n > 0) {
		struct pollfd p[2];
		for (i = 0; i < n; i++) {
			p[i].fd = fds[i];
			p[i].events = POLLIN;
			p[i].revents = 0;
		}
		if (poll(p, (nfds_t)n, 60000) <= 0)
			break;
		for (i = 0; i < n; i++) {
			char tmp[4096];
			ssize_t k;
			if (fds[i] < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			k = read(fds[i], tmp, sizeof(tmp));
			if (k <= 0) {
				close(fds[i]);
				fds[i] = -1;
				open_n--;
				continue;
			}
			if (len[i] + (size_t)k < caps[i]) {
				memcpy(bufs[i] + len[i], tmp, (size_t)k);
				len[i] += (size_t)k;
			}
			bufs[i][len[i]] = '\0';
		}
	}
}

/* Run argv; stdin from in_path (NULL: /dev/null); capture stdout/stderr. */
static inline int run_cmd(const char *const argv[], const char *in_path, struct proc *p)
{
	int out[2], err[2], fds[2];
	char *bufs[2];
	size_t caps[2];
	pid_t pid;

	memset(p, 0, sizeof(*p));
	if (pipe(out) < 0 || pipe(err) < 0)
		return p->status = -1;
	pid = fork();
	if (pid == 0) {
		int in = open(in_path ? in_path : "/dev/null", O_RDONLY);
		dup2(in, 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(out[0]);
		close(err[0]);
		execv(argv[0], (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	fds[0] = out[0];
	fds[1] = err[0];
	bufs[0] = p->out;
	bufs[1] = p->err;
	caps[0] = sizeof(p->out);
	caps[1] = sizeof(p->err);
	drain(fds, bufs, caps, 2);
	p->status = wait_status(pid);
	return p->status;
}

/* Count occurrences of needle in hay. */
static inline int count_str(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* Run argv in a new session whose controlling terminal is a fresh pty
 * (stdin/stdout/stderr too), and type answer + Enter at each of the first
 * max_answers prompts containing "assphrase".  The transcript goes to
 * p->err.  This is how a TTY-only passphrase prompt (age -p) is driven. */
static inline int run_pty(const char *const argv[], const char *answer, int max_answers, struct proc *p)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY), answered = 0;
	char slave[128];
	size_t len = 0;
	pid_t pid;

	memset(p, 0, sizeof(*p));
	if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0)
		return p->status = -1;
	snprintf(slave, sizeof(slave), "%s", ptsname(master));
	pid = fork();
	if (pid == 0) {
		int s;
		close(master);
		setsid();
		s = open(slave, O_RDWR); /* the controlling terminal */
		dup2(s, 0);
		dup2(s, 1);
		dup2(s, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	for (;;) {
		struct pollfd pf = {master, POLLIN, 0};
		ssize_t k;
		if (poll(&pf, 1, 60000) <= 0)
			break;
		k = read(master, p->err + len, sizeof(p->err) - 1 - len);
		if (k <= 0)
			break; /* EIO: the child closed the terminal */
		len += (size_t)k;
		p->err[len] = '\0';
		while (answered < max_answers && count_str(p->err, "assphrase") > answered) {
			usleep(50000); /* let it switch echo off first */
			if (write(master, answer, strlen(answer)) < 0 || write(master, "\r", 1) < 0)
				break;
			answered++;
		}
	}
	close(master);
	p->status = wait_status(pid);
	return p->status;
}

#endif
