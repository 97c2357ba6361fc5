/* keygen_cmd_test.c - the backstop-keygen command (cmd/keygen.c): --help,
 * --version, misuse, each documented exit code, the identity file it
 * writes (mode 0600, never overwritten), and its stdout contract. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "exec_helper.h"
#include "crypt/age.h"

static const char *bin;
static char dir[64];

static const char *tmp(const char *name)
{
	static char path[64][96];
	static int k;

	if (k == 64)
		abort();
	snprintf(path[k], sizeof(path[k]), "%s/%s", dir, name);
	return path[k++];
}

#define NEED_BIN()                                                                       \
	do {                                                                             \
		if (!bin)                                                                \
			SKIP("backstop-keygen is not built");                            \
	} while (0)

static int lines(const char *s)
{
	return count_str(s, "\n");
}

/* Check an identity file text; return its recipient in rcpt. */
static void check_identity_text(const char *text, char *rcpt, size_t cap)
{
	char idline[128] = "", *derived = NULL;
	const char *pk = strstr(text, "\n# public key: ");
	const char *id = pk ? strchr(pk + 1, '\n') : NULL;
	struct bs_err err;

	bs_err_init(&err);
	CHECK(strncmp(text, "# created: 20", 13) == 0);
	CHECK_INT(lines(text), 3);
	CHECK(pk != NULL && id != NULL);
	if (!pk || !id)
		return;
	snprintf(rcpt, cap, "%.62s", pk + 15);
	snprintf(idline, sizeof(idline), "%.*s", (int)strcspn(id + 1, "\n"), id + 1);
	CHECK(strncmp(idline, "AGE-SECRET-KEY-1", 16) == 0);
	CHECK_INT(bs_age_identity_to_recipient(idline, &derived, &err), 0);
	CHECK_STR(derived, rcpt);
	free(derived);
}

TEST(help)
{
	const char *a1[] = {bin, "--help", NULL}, *a2[] = {bin, "-?", NULL};
	struct proc p;

	NEED_BIN();
	CHECK_INT(run_cmd(a1, NULL, &p), 0);
	CHECK(strncmp(p.out, "usage: backstop keygen [-o FILE]\n", 33) == 0);
	CHECK(strstr(p.out, "-o, --output FILE") != NULL);
	CHECK(strstr(p.out, "0600") != NULL);
	CHECK_STR(p.err, "");
	CHECK_INT(run_cmd(a2, NULL, &p), 0);
	CHECK(strncmp(p.out, "usage: backstop keygen", 22) == 0);
}

TEST(version)
{
	const char *a[] = {bin, "--version", NULL};
	struct proc p;

	NEED_BIN();
	CHECK_INT(run_cmd(a, NULL, &p), 0);
	CHECK(strncmp(p.out, "backstop keygen ", 16) == 0);
	CHECK_INT(lines(p.out), 1);
}

TEST(misuse_exits_2_with_one_line_and_try)
{
	const char *bad[][4] = {
		{bin, "--bogus", NULL, NULL},
		{bin, "-x", NULL, NULL},
		{bin, "-o", NULL, NULL},
		{bin, "extra-argument", NULL, NULL},
	};
	size_t i;

	NEED_BIN();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct proc p;
		CHECK_INT(run_cmd(bad[i], NULL, &p), 2);
		CHECK_STR(p.out, "");
		CHECK_INT(lines(p.err), 2);
		CHECK(strncmp(p.err, "backstop keygen: ", 17) == 0);
		CHECK(strstr(p.err, "\nTry 'backstop keygen --help'.\n") != NULL);
		if (th_cur_failed)
			printf("#   %s: %s", bad[i][1], p.err);
	}
}

TEST(identity_to_stdout)
{
	const char *a[] = {bin, NULL};
	struct proc p;
	char rcpt[80];

	NEED_BIN();
	CHECK_INT(run_cmd(a, NULL, &p), 0);
	check_identity_text(p.out, rcpt, sizeof(rcpt));
	CHECK(strncmp(rcpt, "age1", 4) == 0);
}

TEST(output_file)
{
	const char *path = tmp("id.txt");
	const char *a[] = {bin, "-o", path, NULL}, *b[] = {bin, "--output", path, NULL};
	struct proc p;
	struct stat st;
	char rcpt[80] = "", text[512] = "", again[512] = "";
	FILE *f;

	NEED_BIN();
	CHECK_INT(run_cmd(a, NULL, &p), 0);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0600);
	f = fopen(path, "r");
	CHECK(f != NULL);
	if (f) {
		text[fread(text, 1, sizeof(text) - 1, f)] = '\0';
		fclose(f);
	}
	check_identity_text(text, rcpt, sizeof(rcpt));
	/* stdout is exactly the recipient */
	CHECK_INT(strlen(p.out), 63);
	CHECK(strncmp(p.out, rcpt, 62) == 0 && p.out[62] == '\n');

	/* an existing file is never overwritten: exit 2, file unchanged */
	CHECK_INT(run_cmd(b, NULL, &p), 2);
	CHECK_STR(p.out, "");
	CHECK(strstr(p.err, "backstop keygen: error: unable to create identity file") != NULL);
	CHECK(strstr(p.err, "hint: refusing to overwrite") != NULL);
	f = fopen(path, "r");
	if (f) {
		again[fread(again, 1, sizeof(again) - 1, f)] = '\0';
		fclose(f);
	}
	CHECK_STR(again, text);
}

TEST(output_symlink_refused)
{
	const char *link = tmp("link.txt"), *target = tmp("target.txt");
	const char *a[] = {bin, "-o", link, NULL};
	struct proc p;

	NEED_BIN();
	CHECK_INT(symlink(target, link), 0);
	CHECK_INT(run_cmd(a, NULL, &p), 2);
	CHECK(access(target, F_OK) != 0);
}

TEST(runtime_failures_exit_3)
{
	const char *a[] = {bin, "-o", tmp("no/such/dir/id.txt"), NULL};
	const char *b[] = {bin, NULL};
	struct proc p;
	pid_t pid;

	NEED_BIN();
	/* a missing directory is the user's to create: exit 2, which and how */
	CHECK_INT(run_cmd(a, NULL, &p), 2);
	CHECK(strstr(p.err, "backstop keygen: error: directory '") != NULL);
	CHECK(strstr(p.err, "no/such/dir' does not exist") != NULL);
	CHECK(strstr(p.err, "install -d -m 0700") != NULL);
	/* a full stdout is an error, not a silently lost key */
	pid = fork();
	if (pid == 0) {
		int full = open("/dev/full", O_WRONLY), null = open("/dev/null", O_WRONLY);
		dup2(full, 1);
		dup2(null, 2);
		execv(b[0], (char *const *)b);
		_exit(127);
	}
	CHECK_INT(wait_status(pid), 3);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

int main(void)
{
	static char b[PATH_MAX];
	const char *s = build_bin("backstop-keygen");

	if (s)
		bin = strcpy(b, s);
	snprintf(dir, sizeof(dir), "/tmp/bs-keygen-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(help);
	RUN(version);
	RUN(misuse_exits_2_with_one_line_and_try);
	RUN(identity_to_stdout);
	RUN(output_file);
	RUN(output_symlink_refused);
	RUN(runtime_failures_exit_3);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return DONE();
}
