/* passphrase_test.c - lib/crypt/passphrase.c: passphrase files, the
 * environment, and the terminal prompt (driven through a pseudo-terminal:
 * echo must be off, the terminal restored, Ctrl-C honoured). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "harness.h"
#include "crypt/age.h"

static char tmpdir[64];

static const char *tmp(const char *name)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

static void put(const char *path, const char *text, mode_t mode)
{
	FILE *f;

	unlink(path);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

TEST(passphrase_file)
{
	static const struct {
		const char *content, *want;
	} cases[] = {
		{"correct horse\n", "correct horse"},
		{"correct horse", "correct horse"},
		{"correct horse\r\n", "correct horse"},
		{"two newlines\n\n", "two newlines\n"}, /* only one is stripped */
		{" spaces kept \n", " spaces kept "},
	};
	const char *path = tmp("pass.txt");
	struct bs_err err;
	char *out = NULL, hint[300];
	size_t i;

	bs_err_init(&err);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		put(path, cases[i].content, 0600);
		CHECK_INT(bs_passphrase_read_file(path, &out, &err), 0);
		CHECK_STR(out, cases[i].want);
		bs_secret_free(out);
		out = NULL;
	}
	put(path, "correct horse\n", 0644);
	CHECK_INT(bs_passphrase_read_file(path, &out, &err), -1);
	CHECK(out == NULL);
	CHECK_INT(err.code, BS_ERR_SECRET_PERM);
	CHECK(strstr(err.msg, "passphrase file") != NULL);
	snprintf(hint, sizeof(hint), "chmod 600 %s", path);
	CHECK_STR(err.hint, hint);
	put(path, "\n", 0600);
	CHECK_INT(bs_passphrase_read_file(path, &out, &err), -1);
	CHECK(strstr(err.msg, "is empty") != NULL);
	CHECK_INT(bs_passphrase_read_file(tmp("missing"), &out, &err), -1);
	CHECK_INT(err.code, BS_ERR_NOT_FOUND);
	unlink(path);
}

TEST(passphrase_env)
{
	struct bs_err err;
	char *out = NULL;

	bs_err_init(&err);
	setenv("BS_TEST_PASSPHRASE", "from env", 1);
	CHECK_INT(bs_passphrase_from_env("BS_TEST_PASSPHRASE", &out, &err), 0);
	CHECK_STR(out, "from env");
	bs_secret_free(out);
	setenv("BS_TEST_PASSPHRASE", "", 1);
	CHECK_INT(bs_passphrase_from_env("BS_TEST_PASSPHRASE", &out, &err), -1);
	CHECK(strstr(err.msg, "'BS_TEST_PASSPHRASE' is empty") != NULL);
	unsetenv("BS_TEST_PASSPHRASE");
	CHECK_INT(bs_passphrase_from_env("BS_TEST_PASSPHRASE", &out, &err), -1);
	CHECK(strstr(err.msg, "is not set") != NULL);
}

TEST(prompt_without_terminal)
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		struct bs_err err;
		char *out = NULL;
		int rc;
		setsid(); /* a new session has no controlling terminal */
		bs_err_init(&err);
		rc = bs_passphrase_prompt("passphrase: ", 0, &out, &err);
		_exit(rc == -1 && err.code == BS_ERR_USAGE && strstr(err.msg, "no terminal") &&
			      out == NULL
		      ? 0
		      : 1);
	}
	CHECK(pid > 0);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Run bs_passphrase_prompt in a child whose controlling terminal is a new
 * pty; answer each prompt in turn; return the transcript the terminal
 * showed, the child's wait status, and what it read (via a pipe). */
struct pty_run {
	const char *answers[3];
	int send_intr;          /* send ^C instead of the first answer */
	char transcript[4096];
	char result[256];
	int status;
	int echo_after;         /* ECHO set on the terminal after the prompt */
};

static void pty_prompt(struct pty_run *pr, int confirm)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY), fds[2], answered = 0;
	size_t tlen = 0;
	char slave_name[128];
	pid_t pid;

	CHECK(master >= 0);
	grantpt(master);
	unlockpt(master);
	snprintf(slave_name, sizeof(slave_name), "%s", ptsname(master));
	CHECK_INT(pipe(fds), 0);
	pid = fork();
	if (pid == 0) {
		struct bs_err err;
		char *out = NULL;
		int slave;
		close(master);
		close(fds[0]);
		setsid();
		slave = open(slave_name, O_RDWR); /* becomes the controlling tty */
		(void)slave;
		bs_err_init(&err);
		if (bs_passphrase_prompt("passphrase: ", confirm, &out, &err) == 0)
			dprintf(fds[1], "ok:%s", out);
		else
			dprintf(fds[1], "error:%s:%s", bs_err_name(err.code), err.msg);
		bs_secret_free(out);
		_exit(0);
	}
	close(fds[1]);
	for (;;) {
		struct pollfd p = {master, POLLIN, 0};
		ssize_t n;
		if (poll(&p, 1, 10000) <= 0)
			break;
		n = read(master, pr->transcript + tlen, sizeof(pr->transcript) - 1 - tlen);
		if (n <= 0)
			break;
		tlen += (size_t)n;
		pr->transcript[tlen] = '\0';
		/* answer each "passphrase: " prompt once */
		{
			int prompts = 0;
			const char *s = pr->transcript;
			while ((s = strstr(s, "passphrase: ")) != NULL) {
				prompts++;
				s += 12;
			}
			while (answered < prompts && answered < 3 && pr->answers[answered]) {
				if (pr->send_intr && answered == 0) {
					usleep(100000);
					CHECK_INT(write(master, "\003", 1), 1);
				} else {
					CHECK(write(master, pr->answers[answered], strlen(pr->answers[answered])) >= 0);
					CHECK_INT(write(master, "\n", 1), 1);
				}
				answered++;
			}
		}
	}
	{
		ssize_t n = read(fds[0], pr->result, sizeof(pr->result) - 1);
		pr->result[n > 0 ? n : 0] = '\0';
	}
	{
		struct termios t;
		pr->echo_after = tcgetattr(master, &t) == 0 && (t.c_lflag & ECHO);
	}
	waitpid(pid, &pr->status, 0);
	close(fds[0]);
	close(master);
}

TEST(prompt_echo_off)
{
	struct pty_run pr = {{"s3cret words", NULL, NULL}, 0, "", "", 0, 0};

	pty_prompt(&pr, 0);
	CHECK_STR(pr.result, "ok:s3cret words");
	CHECK(strstr(pr.transcript, "passphrase: ") != NULL);
	CHECK(strstr(pr.transcript, "s3cret") == NULL); /* never echoed */
	CHECK(pr.echo_after);
}

TEST(prompt_confirm)
{
	struct pty_run ok = {{"abc def", "abc def", NULL}, 0, "", "", 0, 0};
	struct pty_run bad = {{"abc def", "abc deg", NULL}, 0, "", "", 0, 0};
	struct pty_run empty = {{"", NULL, NULL}, 0, "", "", 0, 0};

	pty_prompt(&ok, 1);
	CHECK_STR(ok.result, "ok:abc def");
	CHECK(strstr(ok.transcript, "confirm passphrase: ") != NULL);
	pty_prompt(&bad, 1);
	CHECK_STR(bad.result, "error:BS_ERR_USAGE:passphrases do not match");
	pty_prompt(&empty, 0);
	CHECK_STR(empty.result, "error:BS_ERR_CONFIG:empty passphrase");
}

TEST(prompt_ctrl_c_restores_terminal)
{
	struct pty_run pr = {{"x", NULL, NULL}, 1, "", "", 0, 0};

	pty_prompt(&pr, 0);
	/* the child died of SIGINT (default disposition, re-raised) ... */
	CHECK(WIFSIGNALED(pr.status) && WTERMSIG(pr.status) == SIGINT);
	CHECK_STR(pr.result, "");
	/* ... after turning echo back on */
	CHECK(pr.echo_after);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/bs-pass-test-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(passphrase_file);
	RUN(passphrase_env);
	RUN(prompt_without_terminal);
	RUN(prompt_echo_off);
	RUN(prompt_confirm);
	RUN(prompt_ctrl_c_restores_terminal);
	rmdir(tmpdir);
	return DONE();
}
