/*
 * ledger_test.c - the release ledger against a real local repository
 * (release/ledger.c): appends chain each record to the one before and keep
 * head.json; load finds every kind of damage as a problem (an edited
 * record, the newest edited, a deleted one, the newest deleted, a record
 * moved to another number, an unreadable one, a planted one) and never
 * fails on it; an append after damage takes a number no record ever had;
 * an interrupted append (no head update) is a note, not a problem.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "release/ledger.h"
#include "repo/repo.h"

static char root[256];
static struct bs_repo *repo;

static int open_repo(void)
{
	struct bs_err err;
	int existed;

	snprintf(root, sizeof(root), "/tmp/bs-ledger-test.XXXXXX");
	if (!mkdtemp(root))
		return -1;
	strcat(root, "/repo");
	bs_err_init(&err);
	return bs_repo_init(root, &existed, &repo, &err);
}

static char path_buf[512];
static const char *path(const char *key)
{
	snprintf(path_buf, sizeof(path_buf), "%s/%s", root, key);
	return path_buf;
}

/* Append n records of alternating kinds to the ledger of svc. */
static int fill(const char *svc, int n)
{
	struct bs_ledger l;
	struct bs_err err;
	int rc = 0;

	bs_ledger_init(&l);
	bs_err_init(&err);
	if (bs_ledger_load(repo, svc, &l, &err) < 0)
		return -1;
	for (int i = 0; i < n && rc == 0; i++) {
		struct bs_ledger_record r;
		memset(&r, 0, sizeof(r));
		r.time = time(NULL);
		r.actor = (char *)"tester";
		if (i % 2 == 0) {
			r.event = BS_EV_DEPLOY;
			r.image = (char *)"ghcr.io/acme/api:1";
			snprintf(r.digest, sizeof(r.digest), "sha256:%064d", i);
		} else {
			r.event = BS_EV_GOOD;
			r.release = (char *)"x";
		}
		rc = bs_ledger_append(repo, &l, &r, &err);
		free(r.service);
	}
	bs_ledger_release(&l);
	return rc;
}

static struct bs_ledger L;
static int load(const char *svc)
{
	struct bs_err err;

	bs_err_init(&err);
	return bs_ledger_load(repo, svc, &L, &err);
}

static int has(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

static void edit(const char *key, const char *from, const char *to)
{
	FILE *f = fopen(path(key), "r+");
	char buf[8192];
	size_t n;
	char *p;

	if (!f)
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	if ((p = strstr(buf, from)) && strlen(from) == strlen(to)) {
		memcpy(p, to, strlen(to));
		rewind(f);
		fwrite(buf, 1, n, f);
	}
	fclose(f);
}

TEST(chain_intact)
{
	CHECK_INT(fill("api", 5), 0);
	CHECK_INT(load("api"), 0);
	CHECK_INT((int)L.n, 5);
	CHECK_INT((int)L.nproblems, 0);
	CHECK_INT((int)L.head_seq, 5);
	CHECK_STR(L.head_hash, L.v[4].hash);
	for (size_t i = 1; i < L.n; i++)
		CHECK_STR(L.v[i].prev, L.v[i - 1].hash);
	CHECK_STR(L.v[0].prev, "");
	CHECK_INT(L.v[0].event, BS_EV_DEPLOY);
	CHECK_STR(L.v[1].actor, "tester");
}

TEST(edited_record)
{
	CHECK_INT(fill("edit", 4), 0);
	edit("releases/edit/0000000002.json", "tester", "mallor");
	CHECK_INT(load("edit"), 0);
	CHECK(has(L.problems, "record 2 was edited or replaced"));
	CHECK_INT((int)L.n, 4); /* still read */
}

TEST(newest_edited)
{
	CHECK_INT(fill("newest", 3), 0);
	edit("releases/newest/0000000003.json", "tester", "mallor");
	CHECK_INT(load("newest"), 0);
	CHECK(has(L.problems, "record 3 was edited or replaced: its SHA-256 is not the one head.json holds"));
}

TEST(deleted_records)
{
	CHECK_INT(fill("del", 5), 0);
	CHECK_INT(unlink(path("releases/del/0000000003.json")), 0);
	CHECK_INT(load("del"), 0);
	CHECK(has(L.problems, "record 3 is missing"));
	CHECK_INT(unlink(path("releases/del/0000000005.json")), 0);
	CHECK_INT(load("del"), 0);
	CHECK(has(L.problems, "record 5 (the newest, as head.json says) is missing"));
	/* an append after the damage never reuses 5 */
	CHECK_INT(fill("del", 1), 0);
	CHECK_INT(load("del"), 0);
	CHECK_INT((int)L.v[L.n - 1].seq, 6);
	CHECK_INT((int)L.head_seq, 6);
}

TEST(moved_unreadable_planted)
{
	char cmd[1024];

	CHECK_INT(fill("mv", 3), 0);
	snprintf(cmd, sizeof(cmd), "cp %s/releases/mv/0000000001.json %s/releases/mv/0000000002.json", root, root);
	CHECK_INT(system(cmd), 0);
	CHECK_INT(load("mv"), 0);
	CHECK(has(L.problems, "holds record 1: moved or copied"));
	snprintf(cmd, sizeof(cmd), "printf '{\"seq\": 3' > %s/releases/mv/0000000003.json", root);
	CHECK_INT(system(cmd), 0);
	CHECK_INT(load("mv"), 0);
	CHECK(has(L.problems, "0000000003.json is not a valid ledger record"));
	/* an append goes after the unreadable one, not onto it */
	CHECK_INT(fill("mv", 1), 0);
	CHECK(access(path("releases/mv/0000000004.json"), F_OK) == 0);
	snprintf(cmd, sizeof(cmd), "mkdir %s/releases/mv/x && cp %s/releases/mv/0000000004.json %s/releases/mv/x/0000000009.json",
		 root, root, root);
	CHECK_INT(system(cmd), 0);
	CHECK_INT(load("mv"), 0);
	CHECK(has(L.problems, "releases/mv/x/0000000009.json is not a ledger record"));
}

TEST(interrupted_append_is_a_note)
{
	char cmd[1024];

	CHECK_INT(fill("int", 2), 0);
	snprintf(cmd, sizeof(cmd), "cp %s/releases/int/head.json %s/head.bak", root, root);
	CHECK_INT(system(cmd), 0);
	CHECK_INT(fill("int", 1), 0);
	snprintf(cmd, sizeof(cmd), "cp %s/head.bak %s/releases/int/head.json", root, root);
	CHECK_INT(system(cmd), 0);
	CHECK_INT(load("int"), 0);
	CHECK_INT((int)L.nproblems, 0);
	CHECK(has(L.notes, "head.json was not updated after record 3"));
	/* and the first append of a ledger, interrupted before its head */
	CHECK_INT(fill("first", 1), 0);
	CHECK_INT(unlink(path("releases/first/head.json")), 0);
	CHECK_INT(load("first"), 0);
	CHECK_INT((int)L.nproblems, 0);
	CHECK(has(L.notes, "head.json was not written after record 1"));
}

TEST(too_long_is_refused)
{
	struct bs_ledger l;
	struct bs_ledger_record r;
	struct bs_err err;
	char *big = malloc(BS_LEDGER_RECORD_MAX + 10);

	if (!big)
		return;
	memset(big, 'x', BS_LEDGER_RECORD_MAX + 9);
	big[BS_LEDGER_RECORD_MAX + 9] = 0;
	bs_ledger_init(&l);
	bs_err_init(&err);
	CHECK_INT(bs_ledger_load(repo, "long", &l, &err), 0);
	memset(&r, 0, sizeof(r));
	r.event = BS_EV_BAD;
	r.release = (char *)"x";
	r.reason = big;
	CHECK_INT(bs_ledger_append(repo, &l, &r, &err), -1);
	CHECK_INT(err.code, BS_ERR_USAGE);
	CHECK(access(path("releases/long/0000000001.json"), F_OK) != 0);
	free(r.service);
	free(big);
	bs_ledger_release(&l);
}

int main(void)
{
	int rc;

	if (open_repo() < 0) {
		fprintf(stderr, "cannot create a repository under /tmp\n");
		return 1;
	}
	RUN(chain_intact);
	RUN(edited_record);
	RUN(newest_edited);
	RUN(deleted_records);
	RUN(moved_unreadable_planted);
	RUN(interrupted_append_is_a_note);
	RUN(too_long_is_refused);
	bs_ledger_release(&L);
	bs_repo_close(repo);
	{
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf %.*s", (int)(strlen(root) - 5), root);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", root);
	}
	rc = DONE();
	return rc;
}
