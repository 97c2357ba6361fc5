/* catalog_test.c - loading a catalog of many records (fetched in parallel
 * batches) gives what a serial load gives: every trusted record in order,
 * every untrusted one reported, pins and the newest drill attached. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/catalog.h"
#include "harness.h"

#define NREC 150 /* more than two batches */

static char root[128];
static struct bs_repo *repo;

static void id_of(int i, char out[BS_ID_MAX])
{
	snprintf(out, BS_ID_MAX, "202611%02dT%02d%02d00Z-%06x", 1 + i / 24 % 28, i % 24, i / 24 / 28, i);
}

static int put(const char *key, const char *text)
{
	struct bs_err err;

	bs_err_init(&err);
	return bs_repo_put_bytes(repo, key, text, strlen(text), &err);
}

static int put_record(int i)
{
	char id[BS_ID_MAX], key[128], text[1024], ts[32];

	id_of(i, id);
	snprintf(ts, sizeof(ts), "2026-11-%02dT%02d:%02d:00Z", 1 + i / 24 % 28, i % 24, i / 24 / 28);
	snprintf(text, sizeof(text),
		 "{\"format\": \"backstop-snapshot-record\", \"version\": 1, \"id\": \"%s\","
		 " \"database\": \"%s\", \"server_version\": \"15.18\", \"start\": \"%s\", \"end\": \"%s\","
		 " \"duration_ms\": 1000, \"bytes\": 10, \"archive\": \"archives/%s.tar\","
		 " \"status\": \"complete\", \"encrypted\": false, \"recipients\": [],"
		 " \"passphrase\": false, \"tool_version\": \"0.1.0\", \"tables\": 1, \"chunks\": 1}",
		 id, i % 3 == 0 ? "other" : "app", ts, ts, id);
	snprintf(key, sizeof(key), "snapshots/%s.json", id);
	return put(key, text);
}

static int setup(void)
{
	struct bs_err err;
	char id[BS_ID_MAX], key[160], text[256];
	int existed, i;

	snprintf(root, sizeof(root), "/tmp/bs-catalog-test.XXXXXX");
	if (!mkdtemp(root))
		return -1;
	strcat(root, "/repo");
	bs_err_init(&err);
	if (bs_repo_init(root, &existed, &repo, &err) < 0)
		return -1;
	for (i = 0; i < NREC; i++) {
		if (i == 70) { /* damaged: not trusted, reported */
			id_of(i, id);
			snprintf(key, sizeof(key), "snapshots/%s.json", id);
			if (put(key, "{\"format\": \"backstop-snapshot-record\", \"version\": 1") < 0)
				return -1;
			continue;
		}
		if (put_record(i) < 0)
			return -1;
	}
	/* a record under a name that is no id */
	if (put("snapshots/not-an-id.json", "{}") < 0)
		return -1;
	/* pins and drills (two drills of one snapshot: the newer wins) */
	id_of(5, id);
	snprintf(key, sizeof(key), "pins/%s.json", id);
	if (put(key, "{\"id\": \"x\", \"reason\": \"audit\"}") < 0)
		return -1;
	id_of(130, id);
	snprintf(key, sizeof(key), "pins/%s.json", id);
	if (put(key, "{\"reason\": \"release 2\"}") < 0)
		return -1;
	id_of(131, id);
	snprintf(key, sizeof(key), "drills/%s/a.json", id);
	snprintf(text, sizeof(text), "{\"id\": \"a\", \"verdict\": \"fail\", \"start\": \"2026-12-02T00:00:00Z\"}");
	if (put(key, text) < 0)
		return -1;
	snprintf(key, sizeof(key), "drills/%s/b.json", id);
	snprintf(text, sizeof(text), "{\"id\": \"b\", \"verdict\": \"pass\", \"start\": \"2026-12-01T00:00:00Z\"}");
	if (put(key, text) < 0)
		return -1;
	return 0;
}

TEST(every_record_of_a_large_catalog)
{
	struct bs_catalog c;
	struct bs_err err;
	char id[BS_ID_MAX];
	size_t i;
	int j;

	bs_err_init(&err);
	CHECK_INT(bs_catalog_load_flags(repo, NULL, BS_CATALOG_QUIET, &c, &err), 0);
	CHECK_INT(c.n, NREC - 1);
	/* in id order, none missing but the damaged one */
	for (i = 0, j = 0; i < c.n && j < NREC; i++, j++) {
		if (j == 70)
			j++;
		id_of(j, id);
		CHECK_STR(c.recs[i].id, id);
	}
	for (i = 1; i < c.n; i++)
		CHECK(strcmp(c.recs[i - 1].id, c.recs[i].id) < 0);
	/* the untrusted, by key, with why */
	CHECK_INT(c.nbad, 2);
	id_of(70, id);
	CHECK(c.nbad == 2 && strstr(c.bad[0].key, id) != NULL);
	CHECK(c.nbad == 2 && strcmp(c.bad[1].key, "snapshots/not-an-id.json") == 0);
	CHECK(c.nbad == 2 && strstr(c.bad[1].why, "not <snapshot id>.json") != NULL);
	/* pins and drills */
	for (i = 0; i < c.n; i++) {
		char id5[BS_ID_MAX], id130[BS_ID_MAX], id131[BS_ID_MAX];
		id_of(5, id5);
		id_of(130, id130);
		id_of(131, id131);
		if (strcmp(c.recs[i].id, id5) == 0) {
			CHECK_INT(c.recs[i].pinned, 1);
			CHECK_STR(c.recs[i].pin_reason, "audit");
		} else if (strcmp(c.recs[i].id, id130) == 0) {
			CHECK_INT(c.recs[i].pinned, 1);
			CHECK_STR(c.recs[i].pin_reason, "release 2");
		} else if (strcmp(c.recs[i].id, id131) == 0) {
			CHECK_STR(c.recs[i].drill_verdict, "fail"); /* the newer drill */
			CHECK_STR(c.recs[i].drill_id, "a");
		} else {
			CHECK_INT(c.recs[i].pinned, 0);
			CHECK(c.recs[i].drill_verdict == NULL);
		}
	}
	bs_catalog_release(&c);
}

TEST(one_database_of_a_large_catalog)
{
	struct bs_catalog c;
	struct bs_err err;
	size_t i;

	bs_err_init(&err);
	CHECK_INT(bs_catalog_load_flags(repo, "other", BS_CATALOG_QUIET, &c, &err), 0);
	CHECK_INT(c.n, NREC / 3);
	for (i = 0; i < c.n; i++)
		CHECK_STR(c.recs[i].database, "other");
	CHECK_INT(c.nbad, 2); /* untrusted records of every database */
	bs_catalog_release(&c);
}

int main(void)
{
	char cmd[200];
	int rc;

	if (setup() < 0) {
		printf("Bail out! cannot make a repository under /tmp\n");
		return 1;
	}
	RUN(every_record_of_a_large_catalog);
	RUN(one_database_of_a_large_catalog);
	bs_repo_close(repo);
	rc = DONE();
	*strrchr(root, '/') = '\0';
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", root);
	return rc;
}
