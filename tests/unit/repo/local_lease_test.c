/* local_lease_test.c - what the local backend's leases add to the
 * contract: <repo>/lock stays the flock file, every holder is visible in
 * <repo>/leases/, and holder files of holders that are gone are swept. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "repo/repo.h"

static char root[128], host[256];
static struct bs_repo *repo;

/* The holder files of lease "lock": how many, and the first one's text. */
static int holders(char *first, size_t n)
{
	char dir[256], path[512];
	DIR *d;
	struct dirent *e;
	int count = 0;

	first[0] = '\0';
	snprintf(dir, sizeof(dir), "%s/leases", root);
	d = opendir(dir);
	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL) {
		FILE *f;
		if (strncmp(e->d_name, "lock.", 5) != 0 || !strstr(e->d_name, ".json"))
			continue;
		if (count++ == 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			f = fopen(path, "r");
			if (f) {
				size_t got = fread(first, 1, n - 1, f);
				first[got] = '\0';
				fclose(f);
			}
		}
	}
	closedir(d);
	return count;
}

static void plant(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/leases", root);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/leases/%s", root, name);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static int exists(const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/leases/%s", root, name);
	return access(path, F_OK) == 0;
}

TEST(a_holder_is_visible_while_it_holds)
{
	struct bs_repo_lease *l = NULL;
	struct bs_err err;
	char text[1024], pid[64];

	bs_err_init(&err);
	CHECK_INT(bs_repo_lease_acquire(repo, "lock", BS_REPO_LOCK_SHARED, 60000, 0, &l, &err), 0);
	CHECK_INT(holders(text, sizeof(text)), 1);
	snprintf(pid, sizeof(pid), "\"pid\": %d", (int)getpid());
	CHECK(strstr(text, pid) != NULL);
	CHECK(strstr(text, host) != NULL);
	CHECK(strstr(text, "\"mode\": \"shared\"") != NULL);
	CHECK(strstr(text, "\"expires\": \"") != NULL);
	CHECK_INT(bs_repo_lease_renew(l, &err), 0);
	CHECK_INT(holders(text, sizeof(text)), 1);
	CHECK_INT(bs_repo_lease_release(l, &err), 0);
	CHECK_INT(holders(text, sizeof(text)), 0);
}

TEST(the_lock_file_is_what_is_locked)
{
	struct bs_repo_lease *l = NULL;
	struct bs_err err;
	char path[256];
	int fd;

	/* as an older backstop (or an operator's flock(1)) holds it */
	snprintf(path, sizeof(path), "%s/lock", root);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	CHECK(fd >= 0 && flock(fd, LOCK_EX) == 0);
	bs_err_init(&err);
	CHECK_INT(bs_repo_lock(repo, BS_REPO_LOCK_SHARED, 100, &err), -1);
	CHECK_INT(err.code, BS_ERR_LOCKED);
	CHECK(strstr(err.hint, "prune is running") != NULL);
	close(fd);
	CHECK_INT(bs_repo_lease_acquire(repo, "lock", BS_REPO_LOCK_EXCLUSIVE, 60000, 0, &l, &err), 0);
	CHECK_INT(bs_repo_lease_release(l, &err), 0);
}

TEST(holder_files_of_gone_holders_are_swept)
{
	struct bs_repo_lease *l = NULL;
	struct bs_err err;
	char dead[300], other[] = "lock.elsewhere.example.42.0.json";
	char gone_ex[] = "lock.elsewhere.example.43.0.json";

	/* a dead process here; a shared holder elsewhere; an exclusive one elsewhere */
	snprintf(dead, sizeof(dead), "lock.%s.999999999.0.json", host);
	plant(dead, "{\"lease\": \"lock\", \"mode\": \"shared\"}\n");
	plant(other, "{\"lease\": \"lock\", \"mode\": \"shared\"}\n");
	plant(gone_ex, "{\"lease\": \"lock\", \"mode\": \"exclusive\"}\n");
	bs_err_init(&err);
	CHECK_INT(bs_repo_lease_acquire(repo, "lock", BS_REPO_LOCK_SHARED, 60000, 0, &l, &err), 0);
	CHECK(!exists(dead));
	CHECK(exists(other)); /* it may be alive: only the kernel lock there knows */
	CHECK(!exists(gone_ex)); /* we share the lock: no exclusive holder can be alive */
	CHECK_INT(bs_repo_lease_release(l, &err), 0);
	/* holding it exclusively, every other holder file is stale */
	CHECK_INT(bs_repo_lease_acquire(repo, "lock", BS_REPO_LOCK_EXCLUSIVE, 60000, 0, &l, &err), 0);
	CHECK(!exists(other));
	CHECK_INT(bs_repo_lease_release(l, &err), 0);
}

/* "renewed": "..." of the only holder file */
static void renewed(char *out, size_t n)
{
	char text[1024], *p;

	out[0] = '\0';
	if (holders(text, sizeof(text)) != 1 || !(p = strstr(text, "\"renewed\": \"")))
		return;
	snprintf(out, n, "%.20s", p + 12);
}

TEST(writing_renews_the_handles_lease)
{
	struct bs_repo_settings set = { .lease_ttl_ms = 2000 };
	struct bs_repo *r2 = NULL;
	struct bs_wstream *w = NULL;
	struct bs_err err;
	char before[32], after[32];

	bs_err_init(&err);
	CHECK_INT(bs_repo_open_with(root, &set, &r2, &err), 0);
	CHECK_INT(bs_repo_lock(r2, BS_REPO_LOCK_SHARED, 0, &err), 0);
	renewed(before, sizeof(before));
	CHECK(before[0] != '\0');
	CHECK_INT(bs_repo_put(r2, "archives/x.tar", &w, &err), 0);
	CHECK_INT(bs_wstream_write(w, "a", 1, &err), 0);
	renewed(after, sizeof(after));
	CHECK_STR(after, before); /* not yet: less than half the TTL has passed */
	usleep(1500000);
	CHECK_INT(bs_wstream_write(w, "b", 1, &err), 0);
	renewed(after, sizeof(after));
	CHECK(after[0] != '\0' && strcmp(after, before) > 0);
	CHECK_INT(bs_wstream_finish(w, &err), 0);
	bs_wstream_free(w);
	bs_repo_close(r2);
	CHECK_INT(holders(after, sizeof(after)), 0);
}

int main(void)
{
	struct bs_err err;
	char cmd[200];
	int existed, rc;

	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "unknown");
	snprintf(root, sizeof(root), "/tmp/bs-lease-test.XXXXXX");
	bs_err_init(&err);
	if (!mkdtemp(root) || bs_repo_init(root, &existed, &repo, &err) < 0) {
		printf("Bail out! cannot make a repository under /tmp: %s\n", err.msg);
		return 1;
	}
	RUN(a_holder_is_visible_while_it_holds);
	RUN(the_lock_file_is_what_is_locked);
	RUN(holder_files_of_gone_holders_are_swept);
	RUN(writing_renews_the_handles_lease);
	bs_repo_close(repo);
	rc = DONE();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", root);
	return rc;
}
