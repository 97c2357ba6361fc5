/* durable_test.c - whole-file writes: atomic replace, nothing left on failure. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/durable.h"
#include "harness.h"

static char dir[64];

static int count_entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	if (d)
		closedir(d);
	return n;
}

static void slurp(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");
	size_t k = f ? fread(buf, 1, n - 1, f) : 0;

	buf[k] = '\0';
	if (f)
		fclose(f);
}

static int fill_fail(FILE *f, void *ud, struct bs_err *err)
{
	fputs("half", f);
	return bs_err_set(err, BS_ERR_IO, "renderer failed");
}

TEST(write_and_replace)
{
	char path[128], buf[64];
	struct bs_err err;
	struct stat st;

	bs_err_init(&err);
	snprintf(path, sizeof(path), "%s/out.txt", dir);
	CHECK_INT(bs_durable_write_bytes(path, 0640, "one\n", 4, &err), 0);
	slurp(path, buf, sizeof(buf));
	CHECK_STR(buf, "one\n");
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640);
	CHECK_INT(bs_durable_write_bytes(path, 0640, "two\n", 4, &err), 0);
	slurp(path, buf, sizeof(buf));
	CHECK_STR(buf, "two\n");
	CHECK_INT(count_entries(), 1);
}

TEST(failure_leaves_the_old_file)
{
	char path[128], buf[64];
	struct bs_err err;

	bs_err_init(&err);
	snprintf(path, sizeof(path), "%s/out.txt", dir);
	CHECK_INT(bs_durable_write(path, 0644, fill_fail, NULL, &err), -1);
	CHECK_STR(err.msg, "renderer failed");
	slurp(path, buf, sizeof(buf));
	CHECK_STR(buf, "two\n");
	CHECK_INT(count_entries(), 1);
}

TEST(unwritable_directory_names_the_path)
{
	struct bs_err err;

	bs_err_init(&err);
	CHECK_INT(bs_durable_write_bytes("/nonexistent-dir/x.prom", 0644, "x", 1, &err), -1);
	CHECK(strstr(err.msg, "unable to write '/nonexistent-dir/x.prom'") != NULL);
	CHECK_INT(err.code, BS_ERR_IO);
}

TEST(fsync_dir)
{
	struct bs_err err;

	bs_err_init(&err);
	CHECK_INT(bs_fsync_dir(dir), 0);
	CHECK_INT(bs_fsync_dir("/nonexistent-dir"), -1);
}

int main(void)
{
	char cmd[128];
	int rc;

	snprintf(dir, sizeof(dir), "/tmp/bs-durable.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	RUN(write_and_replace);
	RUN(failure_leaves_the_old_file);
	RUN(unwritable_directory_names_the_path);
	RUN(fsync_dir);
	rc = DONE();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		rc = 1;
	return rc;
}
