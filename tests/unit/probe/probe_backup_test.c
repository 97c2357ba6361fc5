/* probe_backup_test.c - the backup probe on local repositories made here:
 * never backed up is FAIL (never age 0), a fresh snapshot OK, a stale one
 * FAIL, one in the warn band WARN, several databases without 'database'
 * UNKNOWN, and the newest passing drill against drill_max_age. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog/catalog.h"
#include "harness.h"
#include "probe/probe_int.h"

#define HOUR 3600
#define DAY  (24 * HOUR)

static char top[128];
static int nrepo;

/* A new empty repository; its location in out. */
static struct bs_repo *new_repo(char *out, size_t n)
{
	struct bs_repo *repo = NULL;
	struct bs_err err;
	int existed;

	snprintf(out, n, "%s/repo%d", top, ++nrepo);
	bs_err_init(&err);
	if (bs_repo_init(out, &existed, &repo, &err) < 0)
		printf("#   cannot make %s: %s\n", out, err.msg);
	return repo;
}

static int put(struct bs_repo *repo, const char *key, const char *text)
{
	struct bs_err err;

	bs_err_init(&err);
	return bs_repo_put_bytes(repo, key, text, strlen(text), &err);
}

/* A complete snapshot of db started age seconds ago; its id in id. */
static int put_snapshot(struct bs_repo *repo, const char *db, long age, char id[BS_ID_MAX])
{
	time_t start = time(NULL) - age;
	char key[128], text[1024], st[32], en[32];

	bs_catalog_new_id(start, id);
	bs_time_iso(start, st);
	bs_time_iso(start + 60, en);
	snprintf(text, sizeof(text),
		 "{\"format\": \"backstop-snapshot-record\", \"version\": 1, \"id\": \"%s\","
		 " \"database\": \"%s\", \"server_version\": \"15.18\", \"start\": \"%s\", \"end\": \"%s\","
		 " \"duration_ms\": 60000, \"bytes\": 10, \"archive\": \"archives/%s.tar\","
		 " \"status\": \"complete\", \"encrypted\": false, \"recipients\": [],"
		 " \"passphrase\": false, \"tool_version\": \"0.1.0\", \"tables\": 1, \"chunks\": 1}",
		 id, db, st, en, id);
	snprintf(key, sizeof(key), "snapshots/%s.json", id);
	return put(repo, key, text);
}

/* A drill of snapshot snap (of db) started age seconds ago. */
static int put_drill(struct bs_repo *repo, const char *snap, const char *db, const char *verdict, long age)
{
	time_t start = time(NULL) - age;
	char id[BS_ID_MAX], key[160], text[512], st[32];

	bs_catalog_new_id(start, id);
	bs_time_iso(start, st);
	snprintf(
	    text, sizeof(text),
	    "{\"format\": \"backstop-drill-record\", \"version\": 1, \"id\": \"%s\", \"snapshot\": \"%s\","
	    " \"database\": \"%s\", \"mode\": \"full\", \"verdict\": \"%s\", \"start\": \"%s\"}",
	    id, snap, db, verdict, st);
	snprintf(key, sizeof(key), "drills/%s/%s.json", snap, id);
	return put(repo, key, text);
}

static int open_repo(void *ud, const char *repository, struct bs_repo **out, struct bs_err *err)
{
	return bs_repo_open(repository ? repository : ud, out, err);
}

/* Run a backup probe on the repository at location. */
static void run(const char *location, const char *db, int64_t max_age_s, int64_t warn_age_s,
		int64_t drill_max_age_s, struct bs_probe_result *res)
{
	struct bs_probe p;
	struct probe_run r;

	memset(&p, 0, sizeof(p));
	memset(&r, 0, sizeof(r));
	memset(res, 0, sizeof(*res));
	p.name = "backup";
	p.kind = BS_PROBE_BACKUP;
	p.database = (char *)db;
	p.max_age_ms = max_age_s * 1000;
	p.warn_age_ms = warn_age_s * 1000;
	p.drill_max_age_ms = drill_max_age_s * 1000;
	res->probe = &p;
	res->state = BS_STATE_SKIPPED; /* none of the probe's states: it must set one */
	r.p = &p;
	r.res = res;
	r.pg_fd = -1;
	probe_backup_run(&r, open_repo, (void *)location);
	CHECK_INT(r.done, 1);
	res->probe = NULL; /* p is gone */
	printf("#   %s: %s\n", bs_state_label(res->state), res->reason);
}

#define CHECK_HAS(s, part) CHECK(strstr((s), (part)) != NULL)

TEST(never_backed_up_is_fail)
{
	struct bs_probe_result res;
	char loc[200];
	struct bs_repo *repo = new_repo(loc, sizeof(loc));

	CHECK(repo != NULL);
	run(loc, "app", 26 * HOUR, 0, 0, &res);
	CHECK_INT(res.state, BS_STATE_FAIL);
	CHECK_HAS(res.reason, "never backed up");
	CHECK_HAS(res.reason, "'app'");
	CHECK_HAS(res.reason, loc);
	CHECK(res.backup_age_s < 0); /* not age 0 */
	/* snapshots of another database do not count */
	CHECK_INT(put_snapshot(repo, "other", HOUR, (char[BS_ID_MAX]){0}), 0);
	run(loc, "app", 26 * HOUR, 0, 0, &res);
	CHECK_INT(res.state, BS_STATE_FAIL);
	CHECK_HAS(res.reason, "never backed up");
	bs_repo_close(repo);
}

TEST(fresh_is_ok)
{
	struct bs_probe_result res;
	char loc[200], id[BS_ID_MAX], old[BS_ID_MAX];
	struct bs_repo *repo = new_repo(loc, sizeof(loc));

	CHECK_INT(put_snapshot(repo, "app", 30 * HOUR, old), 0);
	CHECK_INT(put_snapshot(repo, "app", 3 * HOUR + 12 * 60, id), 0);
	run(loc, "app", 26 * HOUR, 24 * HOUR, 0, &res);
	CHECK_INT(res.state, BS_STATE_OK);
	CHECK_HAS(res.reason, id); /* the newest, not the stale one */
	CHECK_HAS(res.reason, "3h12m ago");
	CHECK(res.backup_age_s >= 3 * HOUR + 12 * 60 && res.backup_age_s < 3 * HOUR + 12 * 60 + 60);
	CHECK(res.drill_age_s < 0);
	bs_repo_close(repo);
}

TEST(stale_is_fail)
{
	struct bs_probe_result res;
	char loc[200], id[BS_ID_MAX];
	struct bs_repo *repo = new_repo(loc, sizeof(loc));

	CHECK_INT(put_snapshot(repo, "app", 27 * HOUR, id), 0);
	run(loc, "app", 26 * HOUR, 0, 0, &res);
	CHECK_INT(res.state, BS_STATE_FAIL);
	CHECK_HAS(res.reason, id);
	CHECK_HAS(res.reason, "27h ago (expected at most 26h)");
	CHECK_STR(res.expected, "at most 26h");
	CHECK_STR(res.observed, "27h");
	bs_repo_close(repo);
}

TEST(warn_band_is_warn)
{
	struct bs_probe_result res;
	char loc[200], id[BS_ID_MAX];
	struct bs_repo *repo = new_repo(loc, sizeof(loc));

	CHECK_INT(put_snapshot(repo, "app", 25 * HOUR, id), 0);
	run(loc, "app", 26 * HOUR, 24 * HOUR, 0, &res);
	CHECK_INT(res.state, BS_STATE_WARN);
	CHECK_HAS(res.reason, "25h ago (warn above 24h)");
	bs_repo_close(repo);
}

TEST(the_only_database_without_database_set)
{
	struct bs_probe_result res;
	char loc[200], id[BS_ID_MAX];
	struct bs_repo *repo = new_repo(loc, sizeof(loc));

	CHECK_INT(put_snapshot(repo, "app", HOUR, id), 0);
	run(loc, NULL, 26 * HOUR, 0, 0, &res);
	CHECK_INT(res.state, BS_STATE_OK);
	CHECK_HAS(res.reason, id);
	bs_repo_close(repo);
}

TEST(several_databases_without_database_set_is_unknown)
{
	struct bs_probe_result res;
	char loc[200], id[BS_ID_MAX];
	struct bs_repo *repo = new_repo(loc, sizeof(loc));

	CHECK_INT(put_snapshot(repo, "app", HOUR, id), 0);
	CHECK_INT(put_snapshot(repo, "billing", 2 * HOUR, id), 0);
	run(loc, NULL, 26 * HOUR, 0, 0, &res);
	CHECK_INT(res.state, BS_STATE_UNKNOWN);
	CHECK_HAS(res.reason, "app");
	CHECK_HAS(res.reason, "billing");
	CHECK_HAS(res.reason, "set 'database'");
	/* naming one decides */
	run(loc, "billing", 26 * HOUR, 0, 0, &res);
	CHECK_INT(res.state, BS_STATE_OK);
	bs_repo_close(repo);
}

TEST(unreadable_repository_is_unknown)
{
	struct bs_probe_result res;
	char loc[200];

	snprintf(loc, sizeof(loc), "%s/no-such-repo", top);
	run(loc, "app", 26 * HOUR, 0, 0, &res);
	CHECK_INT(res.state, BS_STATE_UNKNOWN);
	CHECK_HAS(res.reason, "cannot read repository: ");
}

TEST(drills)
{
	struct bs_probe_result res;
	char loc[200], id[BS_ID_MAX], other[BS_ID_MAX];
	struct bs_repo *repo = new_repo(loc, sizeof(loc));

	CHECK_INT(put_snapshot(repo, "app", 3 * DAY, id), 0);
	CHECK_INT(put_snapshot(repo, "other", 3 * DAY, other), 0);
	/* none at all, then only a failed one, or one of another database */
	run(loc, "app", 4 * DAY, 0, 7 * DAY, &res);
	CHECK_INT(res.state, BS_STATE_FAIL);
	CHECK_HAS(res.reason, "no passing drill");
	CHECK(res.drill_age_s < 0);
	CHECK_INT(put_drill(repo, id, "app", "fail", DAY), 0);
	CHECK_INT(put_drill(repo, other, "other", "pass", DAY), 0);
	run(loc, "app", 4 * DAY, 0, 7 * DAY, &res);
	CHECK_INT(res.state, BS_STATE_FAIL);
	CHECK_HAS(res.reason, "no passing drill");
	/* a passing one 2 days ago */
	CHECK_INT(put_drill(repo, id, "app", "pass", 2 * DAY), 0);
	run(loc, "app", 4 * DAY, 0, 7 * DAY, &res);
	CHECK_INT(res.state, BS_STATE_OK);
	CHECK_HAS(res.reason, "newest passing drill");
	CHECK_HAS(res.reason, "2d ago");
	CHECK(res.drill_age_s >= 2 * DAY && res.drill_age_s < 2 * DAY + 60);
	/* too old for 1d */
	run(loc, "app", 4 * DAY, 0, DAY, &res);
	CHECK_INT(res.state, BS_STATE_FAIL);
	CHECK_HAS(res.reason, "2d ago (expected at most 24h)");
	/* a stale snapshot with a good drill: FAIL, the snapshot's reason first */
	run(loc, "app", 2 * DAY, 0, 7 * DAY, &res);
	CHECK_INT(res.state, BS_STATE_FAIL);
	CHECK(strncmp(res.reason, "newest snapshot", 15) == 0);
	CHECK_HAS(res.reason, "newest passing drill");
	bs_repo_close(repo);
}

int main(void)
{
	char cmd[200];
	int rc;

	snprintf(top, sizeof(top), "/tmp/bs-probe-backup-test.XXXXXX");
	if (!mkdtemp(top)) {
		printf("Bail out! cannot make a directory under /tmp\n");
		return 1;
	}
	RUN(never_backed_up_is_fail);
	RUN(fresh_is_ok);
	RUN(stale_is_fail);
	RUN(warn_band_is_warn);
	RUN(the_only_database_without_database_set);
	RUN(several_databases_without_database_set_is_unknown);
	RUN(unreadable_repository_is_unknown);
	RUN(drills);
	rc = DONE();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", top);
	return rc;
}
