/* sigwatch_test.c - the clean-up registry: on SIGTERM/SIGINT the steps run
 * newest first, the interruption is said once, and the process ends with
 * 128+signal.  Each case runs in a child process (the watcher ends it). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/sigwatch.h"
#include "harness.h"

static int out_fd = -1;

static void step(int sig, void *ud)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "%s %s\n", (const char *)ud, bs_signame(sig));

	if (write(out_fd, line, (size_t)n) != n)
		_exit(99);
}

static void read_to_end(int fd, char *buf, size_t n)
{
	size_t len = 0;
	ssize_t k;

	while (len < n - 1 && (k = read(fd, buf + len, n - 1 - len)) > 0)
		len += (size_t)k;
	buf[len] = '\0';
}

/* Run a child that registers steps a, b (b with flags) and raises sig;
 * collect what the steps wrote and what was logged, and the exit status. */
static int run_child(int sig, unsigned bflags, char *steps, size_t ns, char *log, size_t nl)
{
	int p[2], e[2], status = -1;
	pid_t pid;

	if (pipe(p) < 0 || pipe(e) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		struct bs_err err;

		close(p[0]);
		close(e[0]);
		dup2(e[1], 2);
		out_fd = p[1];
		bs_err_init(&err);
		bs_log_set_prog("sigwatch_test");
		if (bs_sigwatch_start(&err) < 0 || bs_sigwatch_on(step, "a", 0, &err) < 0 ||
		    bs_sigwatch_on(step, "b", bflags, &err) < 0)
			_exit(98);
		raise(sig);
		bs_sigwatch_settle();
		for (;;)
			pause(); /* the watcher ends the process */
	}
	close(p[1]);
	close(e[1]);
	read_to_end(p[0], steps, ns);
	read_to_end(e[0], log, nl);
	close(p[0]);
	close(e[0]);
	waitpid(pid, &status, 0);
	return status;
}

TEST(steps_run_newest_first_then_exit_128_plus_signal)
{
	char steps[256], log[512];
	int st = run_child(SIGTERM, 0, steps, sizeof(steps), log, sizeof(log));

	CHECK(WIFEXITED(st));
	CHECK_INT(WEXITSTATUS(st), 143);
	CHECK_STR(steps, "b SIGTERM\na SIGTERM\n");
	CHECK(strstr(log, "interrupted by SIGTERM") != NULL);
}

TEST(a_reporting_step_says_it_instead)
{
	char steps[256], log[512];
	int st = run_child(SIGINT, BS_SIGWATCH_REPORTS, steps, sizeof(steps), log, sizeof(log));

	CHECK(WIFEXITED(st));
	CHECK_INT(WEXITSTATUS(st), 130);
	CHECK_STR(steps, "b SIGINT\na SIGINT\n");
	CHECK(strstr(log, "interrupted") == NULL);
}

TEST(registry_is_bounded)
{
	struct bs_err err;
	int i, rc = 0;

	bs_err_init(&err);
	for (i = 0; i <= BS_SIGWATCH_STEPS_MAX && rc == 0; i++)
		rc = bs_sigwatch_on(step, "x", 0, &err);
	CHECK_INT(rc, -1);
	CHECK_INT(i, BS_SIGWATCH_STEPS_MAX + 1);
	CHECK(strstr(err.msg, "too many clean-up steps") != NULL);
}

int main(void)
{
	RUN(steps_run_newest_first_then_exit_128_plus_signal);
	RUN(a_reporting_step_says_it_instead);
	RUN(registry_is_bounded);
	return DONE();
}
