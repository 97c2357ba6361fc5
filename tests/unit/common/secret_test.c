/* secret_test.c - the one secret-file reader: permission refusal, symbolic
 * links, size limit, NUL bytes, the trailing newline, empty files.
 * (Wipe-on-free cannot be observed from outside and is not tested.) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/secret.h"
#include "harness.h"

static char dir[64];

static const char *tmp(const char *name)
{
	static char paths[4][128];
	static int next;
	char *p = paths[next++ % 4];

	snprintf(p, sizeof(paths[0]), "%s/%s", dir, name);
	return p;
}

static void put_bytes(const char *path, const char *data, size_t n, mode_t mode)
{
	FILE *f;

	unlink(path);
	f = fopen(path, "w");
	if (!f)
		return;
	fwrite(data, 1, n, f);
	fclose(f);
	chmod(path, mode);
}

static void put(const char *path, const char *text, mode_t mode)
{
	put_bytes(path, text, strlen(text), mode);
}

TEST(reads_and_strips_one_newline)
{
	static const struct {
		const char *content, *want;
	} cases[] = {
		{ "s3cret\n", "s3cret" },
		{ "s3cret", "s3cret" },
		{ "s3cret\r\n", "s3cret" },
		{ "s3cret\n\n", "s3cret\n" }, /* only one */
		{ " spaces kept \n", " spaces kept " },
		{ "line1\nline2\n", "line1\nline2" },
	};
	const char *path = tmp("key");
	struct bs_err err;
	char *out = NULL;
	size_t i, len = 0;

	bs_err_init(&err);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		put(path, cases[i].content, 0600);
		CHECK_INT(bs_secret_read_file(path, "token file", 0, 0, &out, &len, &err), 0);
		CHECK_STR(out, cases[i].want);
		CHECK_INT(len, strlen(cases[i].want));
		bs_secret_free(out);
		out = NULL;
	}
	/* 0400 is fine too: only group and other bits matter */
	put(path, "x\n", 0400);
	CHECK_INT(bs_secret_read_file(path, NULL, 0, 0, &out, NULL, &err), 0);
	CHECK_STR(out, "x");
	bs_secret_free(out);
	bs_secret_free(NULL);
	unlink(path);
}

TEST(refuses_group_or_other_access)
{
	static const mode_t modes[] = { 0640, 0604, 0660, 0644, 0610, 0601 };
	const char *path = tmp("key");
	struct bs_err err;
	char *out = (char *)"untouched", want[256], mode[32];
	size_t i;

	bs_err_init(&err);
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		put(path, "s3cret\n", modes[i]);
		CHECK_INT(bs_secret_read_file(path, "token file", 0, 0, &out, NULL, &err), -1);
		CHECK(out == NULL);
		CHECK_INT(err.code, BS_ERR_SECRET_PERM);
		snprintf(mode, sizeof(mode), "(mode %04o)", (unsigned)modes[i]);
		snprintf(want, sizeof(want), "token file '%s' is accessible by group or others %s", path,
			 mode);
		CHECK_STR(err.msg, want);
		snprintf(want, sizeof(want), "chmod 600 %s", path);
		CHECK_STR(err.hint, want);
		CHECK_INT(bs_err_exit_code(&err), 2);
		CHECK(strstr(err.msg, "s3cret") == NULL);
	}
	unlink(path);
}

TEST(symlinks_refused_unless_followed)
{
	const char *path = tmp("key"), *link = tmp("key-link");
	struct bs_err err;
	char *out = NULL, want[256];

	bs_err_init(&err);
	put(path, "s3cret\n", 0600);
	unlink(link);
	CHECK_INT(symlink(path, link), 0);
	CHECK_INT(bs_secret_read_file(link, "token file", 0, 0, &out, NULL, &err), -1);
	CHECK(out == NULL);
	CHECK_INT(err.code, BS_ERR_CONFIG);
	snprintf(want, sizeof(want), "token file '%s' is a symbolic link", link);
	CHECK_STR(err.msg, want);

	/* BS_SECRET_FOLLOW (secret mounts): the link is followed, and the
	 * checks apply to the file it points to */
	CHECK_INT(bs_secret_read_file(link, "token file", 0, BS_SECRET_FOLLOW, &out, NULL, &err), 0);
	CHECK_STR(out, "s3cret");
	bs_secret_free(out);
	out = NULL;
	chmod(path, 0644);
	CHECK_INT(bs_secret_read_file(link, "token file", 0, BS_SECRET_FOLLOW, &out, NULL, &err), -1);
	CHECK_INT(err.code, BS_ERR_SECRET_PERM);
	unlink(link);
	unlink(path);
}

TEST(size_limit)
{
	const char *path = tmp("key");
	struct bs_err err;
	char *out = NULL, big[BS_SECRET_FILE_MAX + 2], want[256];

	bs_err_init(&err);
	put(path, "0123456789", 0600); /* exactly max */
	CHECK_INT(bs_secret_read_file(path, "token file", 10, 0, &out, NULL, &err), 0);
	CHECK_STR(out, "0123456789");
	bs_secret_free(out);
	out = NULL;
	put(path, "0123456789A", 0600);
	CHECK_INT(bs_secret_read_file(path, "token file", 10, 0, &out, NULL, &err), -1);
	CHECK(out == NULL);
	CHECK_INT(err.code, BS_ERR_CONFIG);
	snprintf(want, sizeof(want), "token file '%s' is larger than 10 bytes", path);
	CHECK_STR(err.msg, want);

	/* max 0: the default limit */
	memset(big, 'k', sizeof(big));
	put_bytes(path, big, BS_SECRET_FILE_MAX, 0600);
	CHECK_INT(bs_secret_read_file(path, NULL, 0, 0, &out, NULL, &err), 0);
	CHECK(out && strlen(out) == BS_SECRET_FILE_MAX);
	bs_secret_free(out);
	out = NULL;
	put_bytes(path, big, BS_SECRET_FILE_MAX + 1, 0600);
	CHECK_INT(bs_secret_read_file(path, NULL, 0, 0, &out, NULL, &err), -1);
	CHECK(strstr(err.msg, "is larger than") != NULL);
	unlink(path);
}

TEST(refuses_empty_nul_and_non_regular)
{
	const char *path = tmp("key");
	struct bs_err err;
	char *out = NULL, want[256];

	bs_err_init(&err);
	put(path, "", 0600);
	CHECK_INT(bs_secret_read_file(path, "token file", 0, 0, &out, NULL, &err), -1);
	snprintf(want, sizeof(want), "token file '%s' is empty", path);
	CHECK_STR(err.msg, want);
	CHECK_INT(err.code, BS_ERR_CONFIG);
	put(path, "\r\n", 0600);
	CHECK_INT(bs_secret_read_file(path, "token file", 0, 0, &out, NULL, &err), -1);
	CHECK_STR(err.msg, want);

	put_bytes(path, "ab\0cd", 5, 0600);
	CHECK_INT(bs_secret_read_file(path, "token file", 0, 0, &out, NULL, &err), -1);
	CHECK(out == NULL);
	CHECK(strstr(err.msg, "contains a NUL byte") != NULL);
	unlink(path);

	CHECK_INT(bs_secret_read_file(path, "token file", 0, 0, &out, NULL, &err), -1);
	CHECK_INT(err.code, BS_ERR_NOT_FOUND);
	CHECK_INT(err.sys_errno, ENOENT);

	CHECK_INT(bs_secret_read_file(dir, "token file", 0, 0, &out, NULL, &err), -1);
	CHECK_INT(err.code, BS_ERR_CONFIG);
	CHECK(strstr(err.msg, "is not a regular file") != NULL);

	/* a FIFO: refused without blocking on open */
	CHECK_INT(mkfifo(path, 0600), 0);
	CHECK_INT(bs_secret_read_file(path, "token file", 0, 0, &out, NULL, &err), -1);
	CHECK(strstr(err.msg, "is not a regular file") != NULL);
	unlink(path);
}

/* BS_SECRET_STREAM: a FIFO is read to its end (identities handed over
 * through a named pipe); still only with owner-only permissions. */
TEST(fifo_read_with_stream)
{
	const char *path = tmp("key.fifo");
	struct bs_err err;
	char *out = NULL;
	pid_t pid;
	int status = 0, hold;

	bs_err_init(&err);
	unlink(path);
	CHECK_INT(mkfifo(path, 0600), 0);
	pid = fork();
	if (pid == 0) {
		int fd = open(path, O_WRONLY);
		_exit(fd >= 0 && write(fd, "s3cret\n", 7) == 7 ? 0 : 1);
	}
	CHECK(pid > 0);
	if (pid <= 0)
		return;
	CHECK_INT(bs_secret_read_file(path, "identity file", 0, BS_SECRET_STREAM, &out, NULL, &err),
		  0);
	CHECK_STR(out, "s3cret");
	bs_secret_free(out);
	out = NULL;
	waitpid(pid, &status, 0);
	CHECK_INT(status, 0);

	chmod(path, 0640);
	hold = open(path, O_RDWR); /* a writer, so that the open does not wait */
	CHECK(hold >= 0);
	CHECK_INT(bs_secret_read_file(path, "identity file", 0, BS_SECRET_STREAM, &out, NULL, &err),
		  -1);
	CHECK_INT(err.code, BS_ERR_SECRET_PERM);
	if (hold >= 0)
		close(hold);
	unlink(path);
}

TEST(wipe)
{
	char buf[8] = "secret!";

	bs_secret_wipe(buf, sizeof(buf));
	CHECK_INT(memcmp(buf, "\0\0\0\0\0\0\0\0", 8), 0);
	bs_secret_wipe(NULL, 4);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/bs-secret.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	RUN(reads_and_strips_one_newline);
	RUN(refuses_group_or_other_access);
	RUN(symlinks_refused_unless_followed);
	RUN(size_limit);
	RUN(refuses_empty_nul_and_non_regular);
	RUN(fifo_read_with_stream);
	RUN(wipe);
	rmdir(dir);
	return DONE();
}
