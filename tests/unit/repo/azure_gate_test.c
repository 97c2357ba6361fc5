/*
 * azure_gate_test.c - the repository lock on Azure Blob uses a blob lease
 * (objstore.h gate_enter/gate_leave, object_lease.h): while the gate of a
 * lease is held, nobody takes or renews that lease; a gate whose holder
 * died is freed by the store itself.  Against Azurite (tests/run.sh starts
 * it and sets BS_TEST_AZURE_*); skipped without it.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "repo/objstore.h"
#include "repo/repo.h"
#include "repo/repo_int.h"

static struct bs_repo *open_fresh(char *why, size_t wn)
{
	const char *ep = getenv("BS_TEST_AZURE_ENDPOINT"), *acct = getenv("BS_TEST_AZURE_ACCOUNT");
	const char *cont = getenv("BS_TEST_AZURE_CONTAINER"), *key = getenv("BS_TEST_AZURE_KEY");
	static int seq;
	char loc[512];
	struct bs_repo *r = NULL;
	struct bs_err err;
	int existed = 0;

	if (!ep || !acct || !cont || !key) {
		snprintf(why, wn, "no Azure test server (BS_TEST_AZURE_ENDPOINT, _ACCOUNT, _CONTAINER, _KEY unset)");
		return NULL;
	}
	setenv("AZURE_STORAGE_ACCOUNT", acct, 1);
	setenv("AZURE_STORAGE_KEY", key, 1);
	snprintf(loc, sizeof(loc), "azure://%s/%s/gate-%d-%d?endpoint=%s", acct, cont, (int)getpid(), seq++, ep);
	bs_err_init(&err);
	if (bs_repo_init(loc, &existed, &r, &err) < 0) {
		snprintf(why, wn, "init '%s': %s", loc, err.msg);
		return NULL;
	}
	return r;
}

TEST(a_held_gate_keeps_the_lease_out_until_left)
{
	char why[512] = "", token[64], other[64];
	struct bs_repo *r = open_fresh(why, sizeof(why));
	struct bs_repo_lease *l = NULL;
	struct objstore *os;
	struct bs_err err;

	if (!r)
		SKIP("%s", why);
	os = r->priv;
	CHECK(os->drv->gate_enter != NULL);
	bs_err_init(&err);
	CHECK_INT(os->drv->gate_enter(os, BS_REPO_LEASE_NAME, token, &err), 0);
	/* a second taker of the gate is told at once */
	CHECK_INT(os->drv->gate_enter(os, BS_REPO_LEASE_NAME, other, &err), -1);
	CHECK_INT(err.code, BS_ERR_LOCKED);
	/* the lease itself cannot be had while the gate is held */
	bs_err_init(&err);
	CHECK_INT(bs_repo_lease_acquire(r, BS_REPO_LEASE_NAME, BS_REPO_LOCK_SHARED, 60000, 0, &l, &err), -1);
	CHECK_INT(err.code, BS_ERR_LOCKED);
	CHECK(strstr(err.detail, "taking or renewing") != NULL);
	bs_err_init(&err);
	CHECK_INT(os->drv->gate_leave(os, BS_REPO_LEASE_NAME, token, &err), 0);
	/* left: the lease is had at once, and the gate is free again after */
	CHECK_INT(bs_repo_lease_acquire(r, BS_REPO_LEASE_NAME, BS_REPO_LOCK_SHARED, 60000, 0, &l, &err), 0);
	CHECK_INT(bs_repo_lease_renew(l, &err), 0);
	CHECK_INT(os->drv->gate_enter(os, BS_REPO_LEASE_NAME, token, &err), 0);
	CHECK_INT(os->drv->gate_leave(os, BS_REPO_LEASE_NAME, token, &err), 0);
	CHECK_INT(bs_repo_lease_release(l, &err), 0);
	bs_repo_close(r);
}

TEST(a_gate_whose_holder_died_is_freed_by_the_store)
{
	char why[512] = "", token[64];
	struct bs_repo *r = open_fresh(why, sizeof(why));
	struct bs_repo_lease *l = NULL;
	struct objstore *os;
	struct bs_err err;
	time_t t0;

	if (!r)
		SKIP("%s", why);
	os = r->priv;
	bs_err_init(&err);
	CHECK_INT(os->drv->gate_enter(os, BS_REPO_LEASE_NAME, token, &err), 0);
	/* never left, as by a process killed inside it: Azure ends the blob
	 * lease after its 15 s, and an acquire that may wait gets in */
	t0 = time(NULL);
	CHECK_INT(bs_repo_lease_acquire(r, BS_REPO_LEASE_NAME, BS_REPO_LOCK_EXCLUSIVE, 60000, 30000, &l, &err), 0);
	CHECK(time(NULL) - t0 >= 13);
	CHECK(time(NULL) - t0 <= 25);
	CHECK_INT(bs_repo_lease_release(l, &err), 0);
	bs_repo_close(r);
}

int main(void)
{
	RUN(a_held_gate_keeps_the_lease_out_until_left);
	RUN(a_gate_whose_holder_died_is_freed_by_the_store);
	return DONE();
}
