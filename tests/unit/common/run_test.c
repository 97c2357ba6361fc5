/* run_test.c - the run-command helper: bounded stdout capture, timeout
 * (SIGTERM, then SIGKILL), and the environment allow-lists. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/hook.h"
#include "common/run.h"
#include "harness.h"

static char dir[64];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Does the NUL-terminated env listing hold a line starting with var? */
static int has_line(const char *listing, const char *var)
{
	size_t n = strlen(var);
	const char *p = listing;

	while (p && *p) {
		if (strncmp(p, var, n) == 0)
			return 1;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return 0;
}

TEST(capture_small_stdout)
{
	const char *argv[] = { "/bin/sh", "-c", "printf 'hello\\nworld\\n'", NULL };
	struct bs_run r;
	struct bs_err err;

	bs_err_init(&err);
	bs_run_init(&r);
	r.argv = argv;
	r.capture_stdout = 1;
	r.stdout_max = 64;
	CHECK_INT(bs_run_sync(&r, &err), 0);
	CHECK_STR(r.stdout_buf, "hello\nworld\n");
	CHECK_INT(r.stdout_len, 12);
	CHECK_INT(r.stdout_total, 12);
	CHECK_INT(r.stdout_truncated, 0);
	CHECK_INT(r.timed_out, 0);
	bs_run_release(&r);
	CHECK(r.stdout_buf == NULL);
}

/* Far more than the pipe holds: the child is never blocked, we keep
 * stdout_max bytes, count the rest, and say it was cut. */
TEST(capture_oversized_stdout)
{
	const char *argv[] = { "/bin/sh", "-c", "yes abc | head -c 300000", NULL };
	struct bs_run r;
	struct bs_err err;

	bs_err_init(&err);
	bs_run_init(&r);
	r.argv = argv;
	r.capture_stdout = 1;
	r.stdout_max = 10;
	r.timeout_ms = 20000; /* a blocked child would fail, not hang the suite */
	CHECK_INT(bs_run_sync(&r, &err), 0);
	CHECK_INT(r.stdout_len, 10);
	CHECK_INT(r.stdout_total, 300000);
	CHECK_INT(r.stdout_truncated, 1);
	CHECK_STR(r.stdout_buf, "abc\nabc\nab");
	CHECK_INT(r.timed_out, 0);
	bs_run_release(&r);
}

TEST(capture_exactly_max_is_not_truncated)
{
	const char *argv[] = { "/bin/sh", "-c", "printf 0123456789", NULL };
	struct bs_run r;
	struct bs_err err;

	bs_err_init(&err);
	bs_run_init(&r);
	r.argv = argv;
	r.capture_stdout = 1;
	r.stdout_max = 10;
	CHECK_INT(bs_run_sync(&r, &err), 0);
	CHECK_STR(r.stdout_buf, "0123456789");
	CHECK_INT(r.stdout_truncated, 0);
	bs_run_release(&r);
}

TEST(capture_and_redirect_refused)
{
	const char *argv[] = { "/bin/true", NULL };
	struct bs_run r;
	struct bs_err err;

	bs_err_init(&err);
	bs_run_init(&r);
	r.argv = argv;
	r.capture_stdout = 1;
	r.stdout_fd = 1;
	CHECK_INT(bs_run_sync(&r, &err), -1);
	CHECK_INT(err.code, BS_ERR_INTERNAL);
	bs_run_release(&r);
}

/* The existing failure message still quotes the child's error line, and a
 * failing child's stdout is still captured. */
TEST(failure_quotes_stderr)
{
	const char *argv[] = { "/bin/sh", "-c", "echo out; echo 'sh: error: boom' >&2; exit 3", NULL };
	struct bs_run r;
	struct bs_err err;

	bs_err_init(&err);
	bs_run_init(&r);
	r.argv = argv;
	r.capture_stdout = 1;
	r.stdout_max = 100;
	CHECK_INT(bs_run_sync(&r, &err), -1);
	CHECK_INT(err.code, BS_ERR_SUBPROCESS);
	CHECK_STR(err.msg, "sh failed (exit 3): boom");
	CHECK_INT(r.exit_status, 3);
	CHECK_STR(r.stdout_buf, "out\n");
	bs_run_release(&r);
}

TEST(timeout_terminates)
{
	const char *argv[] = { "/bin/sleep", "30", NULL };
	struct bs_run r;
	struct bs_err err;
	double t0 = now_s(), took;

	bs_err_init(&err);
	bs_run_init(&r);
	r.argv = argv;
	r.timeout_ms = 1000;
	CHECK_INT(bs_run_sync(&r, &err), -1);
	took = now_s() - t0;
	CHECK(took >= 0.9 && took < 3.0);
	CHECK_INT(err.code, BS_ERR_SUBPROCESS);
	CHECK_STR(err.msg, "sleep timed out after 1s and was terminated");
	CHECK_INT(r.timed_out, 1);
	CHECK_INT(r.exit_status, 128 + 15);
	bs_run_release(&r);
}

/* SIGTERM is ignored (and stays ignored across exec): SIGKILL after the
 * grace, and the message says so. */
TEST(timeout_kills_a_child_ignoring_sigterm)
{
	const char *argv[] = { "/bin/sh", "-c", "trap '' TERM; exec /bin/sleep 30", NULL };
	struct bs_run r;
	struct bs_err err;
	double t0 = now_s(), took;

	bs_err_init(&err);
	bs_run_init(&r);
	r.argv = argv;
	r.timeout_ms = 1000;
	r.capture_stdout = 1;
	CHECK_INT(bs_run_sync(&r, &err), -1);
	took = now_s() - t0;
	CHECK(took >= 1.0 + BS_RUN_KILL_GRACE_MS / 1000.0 - 0.1);
	CHECK(took < 1.0 + BS_RUN_KILL_GRACE_MS / 1000.0 + 2.0);
	CHECK_STR(err.msg, "sh timed out after 1s and was killed (SIGKILL: still running 2s "
			   "after SIGTERM)");
	CHECK_INT(r.exit_status, 128 + 9);
	bs_run_release(&r);
}

TEST(timeout_not_reached)
{
	const char *argv[] = { "/bin/sh", "-c", "exit 0", NULL };
	struct bs_run r;
	struct bs_err err;

	bs_err_init(&err);
	bs_run_init(&r);
	r.argv = argv;
	r.timeout_ms = 10000;
	CHECK_INT(bs_run_sync(&r, &err), 0);
	CHECK_INT(r.timed_out, 0);
	bs_run_release(&r);
}

TEST(kill_a_child_ignoring_sigterm)
{
	const char *argv[] = { "/bin/sh", "-c", "trap '' TERM; exec /bin/sleep 30", NULL };
	struct bs_run r;
	struct bs_err err;
	double t0, took;

	bs_err_init(&err);
	bs_run_init(&r);
	r.argv = argv;
	CHECK_INT(bs_run_start(&r, &err), 0);
	usleep(200000); /* let sh set the trap */
	t0 = now_s();
	bs_run_kill(&r);
	took = now_s() - t0;
	CHECK(r.pid == -1);
	CHECK(took < BS_RUN_KILL_GRACE_MS / 1000.0 + 2.0);
	bs_run_release(&r);
}

/* Run env(1) under policy and return its output (static). */
static const char *env_under(enum bs_run_env policy, const char *const *extra)
{
	static char out[65536];
	const char *argv[] = { "/usr/bin/env", NULL };
	struct bs_run r;
	struct bs_err err;

	bs_err_init(&err);
	bs_run_init(&r);
	r.argv = argv;
	r.env = extra;
	r.env_policy = policy;
	r.capture_stdout = 1;
	r.stdout_max = sizeof(out) - 1;
	out[0] = '\0';
	if (bs_run_sync(&r, &err) == 0 && r.stdout_buf)
		snprintf(out, sizeof(out), "%s", r.stdout_buf);
	bs_run_release(&r);
	return out;
}

static void set_test_env(void)
{
	setenv("BACKSTOP_PASSPHRASE", "s3cret", 1);
	setenv("BACKSTOP_REPO", "/srv/backups", 1);
	setenv("HOOK_CHANNEL", "ops", 1);
	setenv("PGHOST", "db.example", 1);
	setenv("LC_TIME", "C", 1);
	setenv("TZ", "UTC", 1);
	setenv("USER", "backup", 1);
	setenv("SHELL", "/bin/sh", 1);
	setenv("TMPDIR", "/tmp", 1);
	setenv("RANDOM_SECRET", "x", 1);
}

TEST(env_pg)
{
	const char *out;

	set_test_env();
	out = env_under(BS_RUN_ENV_PG, NULL);
	CHECK(has_line(out, "PATH="));
	CHECK(has_line(out, "PGHOST=db.example"));
	CHECK(has_line(out, "LC_TIME=C"));
	CHECK(has_line(out, "USER=backup"));
	CHECK(!has_line(out, "BACKSTOP_"));
	CHECK(!has_line(out, "HOOK_"));
	CHECK(!has_line(out, "SHELL="));
	CHECK(!has_line(out, "RANDOM_SECRET="));
}

TEST(env_hook)
{
	const char *extra[] = { "BACKSTOP_EVENT=post-snap", "HOME=/override", NULL };
	const char *out;

	set_test_env();
	out = env_under(BS_RUN_ENV_HOOK, extra);
	CHECK(has_line(out, "HOOK_CHANNEL=ops"));
	CHECK(has_line(out, "SHELL=/bin/sh"));
	CHECK(has_line(out, "LC_TIME=C"));
	CHECK(!has_line(out, "PGHOST="));
	CHECK(!has_line(out, "BACKSTOP_PASSPHRASE="));
	CHECK(!has_line(out, "BACKSTOP_REPO="));
	CHECK(!has_line(out, "RANDOM_SECRET="));
	/* the caller's own entries pass, and replace ours */
	CHECK(has_line(out, "BACKSTOP_EVENT=post-snap"));
	CHECK(has_line(out, "HOME=/override"));
	CHECK(strstr(out, "HOME=") == strstr(out, "HOME=/override"));
}

/* PATH, HOME, LANG, LC_*, TZ and nothing else. */
TEST(env_minimal)
{
	const char *out, *p;
	int others = 0;

	set_test_env();
	setenv("HOME", "/root", 1);
	out = env_under(BS_RUN_ENV_MINIMAL, NULL);
	CHECK(has_line(out, "PATH="));
	CHECK(has_line(out, "HOME=/root"));
	CHECK(has_line(out, "LC_TIME=C"));
	CHECK(has_line(out, "TZ=UTC"));
	for (p = out; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p)) {
		if (strncmp(p, "PATH=", 5) && strncmp(p, "HOME=", 5) && strncmp(p, "LANG=", 5) &&
		    strncmp(p, "LC_", 3) && strncmp(p, "TZ=", 3)) {
			printf("#   unexpected variable: %.40s\n", p);
			others++;
		}
	}
	CHECK_INT(others, 0);
}

/* Through the hook runner itself: HOOK_* reaches the hook, BACKSTOP_* of
 * ours does not (the event's own BACKSTOP_EVENT does). */
TEST(env_reaches_hooks)
{
	char script[128], outfile[128], text[256], buf[65536];
	struct bs_err err;
	FILE *f;
	size_t n;

	set_test_env();
	snprintf(script, sizeof(script), "%s/hook.sh", dir);
	snprintf(outfile, sizeof(outfile), "%s/hook.env", dir);
	snprintf(text, sizeof(text), "#!/bin/sh\n/usr/bin/env > %s\n", outfile);
	f = fopen(script, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
	chmod(script, 0700);
	bs_err_init(&err);
	CHECK_INT(bs_hook_run(script, "post-snap", NULL, 10, &err), 0);
	f = fopen(outfile, "r");
	CHECK(f != NULL);
	if (!f)
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	CHECK(has_line(buf, "HOOK_CHANNEL=ops"));
	CHECK(has_line(buf, "BACKSTOP_EVENT=post-snap"));
	CHECK(!has_line(buf, "BACKSTOP_PASSPHRASE="));
	CHECK(!has_line(buf, "PGHOST="));
	unlink(script);
	unlink(outfile);
}

TEST(missing_program)
{
	const char *argv[] = { "/nonexistent/prog", NULL };
	struct bs_run r;
	struct bs_err err;

	bs_err_init(&err);
	bs_run_init(&r);
	r.argv = argv;
	r.capture_stdout = 1;
	CHECK_INT(bs_run_sync(&r, &err), -1);
	CHECK_INT(err.code, BS_ERR_SUBPROCESS);
	CHECK(strstr(err.msg, "unable to run '/nonexistent/prog'") != NULL);
	bs_run_release(&r);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/bs-run.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	RUN(capture_small_stdout);
	RUN(capture_oversized_stdout);
	RUN(capture_exactly_max_is_not_truncated);
	RUN(capture_and_redirect_refused);
	RUN(failure_quotes_stderr);
	RUN(timeout_terminates);
	RUN(timeout_kills_a_child_ignoring_sigterm);
	RUN(timeout_not_reached);
	RUN(kill_a_child_ignoring_sigterm);
	RUN(env_pg);
	RUN(env_hook);
	RUN(env_minimal);
	RUN(env_reaches_hooks);
	RUN(missing_program);
	rmdir(dir);
	return DONE();
}
