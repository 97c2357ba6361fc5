/*
 * contract_test.c - the same cases against every repository backend.
 *
 * Each backend in the table below makes a fresh, empty repository for
 * every case; the cases use repo.h only, so what they check is what every
 * caller may rely on whatever the backend.  A backend that needs a server
 * (S3, Azure) gets an entry whose make() starts nothing itself but skips
 * when the server's address is not in the environment.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "common/hash.h"
#include "repo/repo.h"

struct backend {
	const char *name;
	/* a location for a new empty repository, or NULL with why set (skip) */
	const char *(*make)(char *buf, size_t n, char *why, size_t wn);
};

static char tmp_root[256];
static int seq;

static const char *make_local(char *buf, size_t n, char *why, size_t wn)
{
	snprintf(buf, n, "%s/repo%d", tmp_root, seq++);
	return buf;
}

/* S3: the server tests/run.sh started (s3rver), when it did. */
static const char *make_s3(char *buf, size_t n, char *why, size_t wn)
{
	const char *ep = getenv("BS_TEST_S3_ENDPOINT"), *bucket = getenv("BS_TEST_S3_BUCKET");

	if (!ep || !bucket) {
		snprintf(why, wn, "no S3 test server (BS_TEST_S3_ENDPOINT, BS_TEST_S3_BUCKET unset)");
		return NULL;
	}
	setenv("AWS_ACCESS_KEY_ID", getenv("BS_TEST_S3_KEY") ? getenv("BS_TEST_S3_KEY") : "S3RVER", 1);
	setenv("AWS_SECRET_ACCESS_KEY", getenv("BS_TEST_S3_SECRET") ? getenv("BS_TEST_S3_SECRET") : "S3RVER", 1);
	snprintf(buf, n, "s3://%s/contract-%d-%d?endpoint=%s", bucket, (int)getpid(), seq++, ep);
	return buf;
}

/* Azure Blob: the server tests/run.sh started (Azurite, which checks
 * Shared Key signatures), when it did. */
static const char *make_azure(char *buf, size_t n, char *why, size_t wn)
{
	const char *ep = getenv("BS_TEST_AZURE_ENDPOINT"), *acct = getenv("BS_TEST_AZURE_ACCOUNT");
	const char *cont = getenv("BS_TEST_AZURE_CONTAINER"), *key = getenv("BS_TEST_AZURE_KEY");

	if (!ep || !acct || !cont || !key) {
		snprintf(why, wn, "no Azure test server (BS_TEST_AZURE_ENDPOINT, _ACCOUNT, _CONTAINER, _KEY unset)");
		return NULL;
	}
	setenv("AZURE_STORAGE_ACCOUNT", acct, 1);
	setenv("AZURE_STORAGE_KEY", key, 1);
	snprintf(buf, n, "azure://%s/%s/contract-%d-%d?endpoint=%s", acct, cont, (int)getpid(), seq++, ep);
	return buf;
}

static const struct backend backends[] = {
	{ "local", make_local },
	{ "s3", make_s3 },
	{ "azure", make_azure },
};

static const struct backend *B;
static char LOC[512];
static struct bs_repo *R;

/* A fresh repository for a case: 0, or -1 (skip, the reason printed). */
static int fresh(void)
{
	char why[256] = "";
	int existed = 0;
	struct bs_err err;

	bs_err_init(&err);
	R = NULL;
	if (!B->make(LOC, sizeof(LOC), why, sizeof(why)))
		return -1;
	if (bs_repo_init(LOC, &existed, &R, &err) < 0) {
		printf("# init '%s': %s\n", LOC, err.msg);
		return -1;
	}
	return existed ? -1 : 0;
}

static void done(void)
{
	bs_repo_close(R);
	R = NULL;
}

static int put_str(const char *key, const char *s)
{
	struct bs_err err;

	bs_err_init(&err);
	return bs_repo_put_bytes(R, key, s, strlen(s), &err);
}

/* The object's contents, or NULL (missing: *code holds the error). */
static char *get_str(struct bs_repo *r, const char *key, int *code)
{
	struct bs_err err;
	char *buf = NULL;
	size_t len;

	bs_err_init(&err);
	*code = 0;
	if (bs_repo_get_bytes(r, key, 1 << 20, &buf, &len, &err) < 0) {
		*code = err.code;
		return NULL;
	}
	return buf;
}

static char *read_all(struct bs_rstream *s)
{
	static char out[4096];
	struct bs_err err;
	size_t n = 0;
	ssize_t got;

	bs_err_init(&err);
	while ((got = bs_rstream_read(s, out + n, sizeof(out) - 1 - n, &err)) > 0)
		n += (size_t)got;
	out[n] = '\0';
	return got < 0 ? NULL : out;
}

#define FRESH()                                                                \
	do {                                                                   \
		if (fresh() < 0)                                               \
			SKIP("no %s repository here", B->name);                \
	} while (0)

/* ---- objects ---- */

TEST(put_get_round_trip)
{
	char *big = malloc(300000), *got;
	struct bs_err err;
	size_t i, len;
	int code;

	FRESH();
	for (i = 0; i < 300000; i++)
		big[i] = (char)('a' + i % 26);
	bs_err_init(&err);
	CHECK_INT(bs_repo_put_bytes(R, "snapshots/x.json", big, 300000, &err), 0);
	CHECK_INT(bs_repo_get_bytes(R, "snapshots/x.json", 1 << 20, &got, &len, &err), 0);
	CHECK_INT(len, 300000);
	CHECK(got && memcmp(got, big, 300000) == 0);
	free(got);
	/* a put replaces */
	CHECK_INT(put_str("snapshots/x.json", "second"), 0);
	got = get_str(R, "snapshots/x.json", &code);
	CHECK_STR(got, "second");
	free(got);
	free(big);
	done();
}

TEST(get_missing_is_not_found)
{
	struct bs_rstream *s = NULL;
	struct bs_repo_stat st;
	struct bs_err err;

	FRESH();
	bs_err_init(&err);
	CHECK_INT(bs_repo_get(R, "archives/none.tar", &s, &err), -1);
	CHECK_INT(err.code, BS_ERR_NOT_FOUND);
	CHECK(strstr(err.msg, "archives/none.tar") != NULL);
	CHECK(s == NULL);
	bs_err_init(&err);
	CHECK_INT(bs_repo_stat(R, "archives/none.tar", &st, &err), -1);
	CHECK_INT(err.code, BS_ERR_NOT_FOUND);
	CHECK_INT(st.exists, 0);
	done();
}

TEST(stat_reports_size_and_time)
{
	struct bs_repo_stat st;
	struct bs_err err;
	time_t now = time(NULL);

	FRESH();
	CHECK_INT(put_str("a/b", "12345"), 0);
	bs_err_init(&err);
	CHECK_INT(bs_repo_stat(R, "a/b", &st, &err), 0);
	CHECK_INT(st.exists, 1);
	CHECK_INT(st.size, 5);
	CHECK(st.mtime >= now - 5 && st.mtime <= now + 5);
	/* a "folder" is not an object, made or not */
	bs_err_init(&err);
	CHECK_INT(bs_repo_stat(R, "a", &st, &err), -1);
	CHECK_INT(err.code, BS_ERR_NOT_FOUND);
	CHECK_INT(bs_repo_path_create(R, "f/g", &err), 0);
	CHECK_INT(bs_repo_path_create(R, "f/g", &err), 0);
	bs_err_init(&err);
	CHECK_INT(bs_repo_stat(R, "f/g", &st, &err), -1);
	CHECK_INT(err.code, BS_ERR_NOT_FOUND);
	bs_err_init(&err);
	CHECK_INT(bs_repo_path_create(R, "../up", &err), -1);
	CHECK_INT(err.code, BS_ERR_INTERNAL);
	done();
}

TEST(create_only_refuses_an_existing_key)
{
	struct bs_repo_put_opts o = { 1, 0 };
	struct bs_wstream *a = NULL, *b = NULL, *w = NULL;
	struct bs_err err;
	char *got;
	int code, rc;

	FRESH();
	CHECK_INT(put_str("pins/p.json", "first"), 0);
	/* refused at put or at finish, with BS_ERR_EXISTS (exit 3: another writer won, not a usage error) naming the key */
	bs_err_init(&err);
	rc = bs_repo_put_with(R, "pins/p.json", &o, &w, &err);
	if (rc == 0) {
		CHECK_INT(bs_wstream_write(w, "second", 6, &err), 0);
		rc = bs_wstream_finish(w, &err);
	}
	bs_wstream_free(w);
	CHECK_INT(rc, -1);
	CHECK_INT(err.code, BS_ERR_EXISTS);
	CHECK(strstr(err.msg, "already exists") != NULL);
	CHECK(strstr(err.msg, "pins/p.json") != NULL);
	got = get_str(R, "pins/p.json", &code);
	CHECK_STR(got, "first");
	free(got);

	/* two create-only writers of a new key: the first to finish wins */
	bs_err_init(&err);
	CHECK_INT(bs_repo_put_with(R, "pins/q.json", &o, &a, &err), 0);
	CHECK_INT(bs_repo_put_with(R, "pins/q.json", &o, &b, &err), 0);
	CHECK_INT(bs_wstream_write(a, "A", 1, &err), 0);
	CHECK_INT(bs_wstream_write(b, "B", 1, &err), 0);
	CHECK_INT(bs_wstream_finish(a, &err), 0);
	bs_err_init(&err);
	CHECK_INT(bs_wstream_finish(b, &err), -1);
	CHECK_INT(err.code, BS_ERR_EXISTS);
	bs_wstream_free(a);
	bs_wstream_free(b);
	got = get_str(R, "pins/q.json", &code);
	CHECK_STR(got, "A");
	free(got);
	done();
}

static int count_cb(void *ud, const struct bs_repo_entry *e, struct bs_err *err)
{
	(*(int *)ud)++;
	return 0;
}

static int count_upload(void *ud, const struct bs_repo_upload *u, struct bs_err *err)
{
	(*(int *)ud)++;
	return 0;
}

TEST(abort_leaves_nothing)
{
	struct bs_wstream *w = NULL;
	struct bs_err err;
	int n = 0, up = 0, code;

	FRESH();
	bs_err_init(&err);
	CHECK_INT(bs_repo_put(R, "archives/a.tar", &w, &err), 0);
	CHECK_INT(bs_wstream_write(w, "partial", 7, &err), 0);
	CHECK_INT(bs_repo_list_unfinished(R, count_upload, &up, &err), 0);
	CHECK_INT(up, 1);
	CHECK_INT(bs_repo_put_abort(w, &err), 0);
	CHECK(get_str(R, "archives/a.tar", &code) == NULL);
	CHECK_INT(code, BS_ERR_NOT_FOUND);
	CHECK_INT(bs_repo_list(R, "", count_cb, &n, &err), 0);
	CHECK_INT(n, 0);
	up = 0;
	CHECK_INT(bs_repo_list_unfinished(R, count_upload, &up, &err), 0);
	CHECK_INT(up, 0);

	/* freeing an unfinished stream discards it too */
	CHECK_INT(bs_repo_put(R, "archives/b.tar", &w, &err), 0);
	CHECK_INT(bs_wstream_write(w, "partial", 7, &err), 0);
	bs_wstream_free(w);
	CHECK(get_str(R, "archives/b.tar", &code) == NULL);
	CHECK_INT(bs_repo_list_unfinished(R, count_upload, &up, &err), 0);
	CHECK_INT(up, 0);
	/* abort of something that is not a repository put is refused */
	bs_err_init(&err);
	CHECK_INT(bs_repo_put_abort(bs_wstream_mem(16), &err), -1);
	CHECK_INT(err.code, BS_ERR_INTERNAL);
	done();
}

TEST(remove_many_removes_every_key)
{
	const char *keys[] = { "drills/x/a.json", "drills/x/b.json", "archives/gone.tar", "archives/a.tar" };
	const char *bad[] = { "archives/keep.tar", "../x" };
	struct bs_err err;
	int n = 0, code;
	char *got;

	FRESH();
	CHECK_INT(put_str("drills/x/a.json", "a"), 0);
	CHECK_INT(put_str("drills/x/b.json", "b"), 0);
	CHECK_INT(put_str("archives/a.tar", "t"), 0);
	bs_err_init(&err);
	/* a missing key among them is fine */
	CHECK_INT(bs_repo_remove_many(R, keys, 4, &err), 0);
	CHECK_INT(bs_repo_list(R, "", count_cb, &n, &err), 0);
	CHECK_INT(n, 0);
	/* a bad key refuses the whole call before anything is removed */
	CHECK_INT(put_str("archives/keep.tar", "k"), 0);
	bs_err_init(&err);
	CHECK_INT(bs_repo_remove_many(R, bad, 2, &err), -1);
	CHECK_INT(err.code, BS_ERR_INTERNAL);
	got = get_str(R, "archives/keep.tar", &code);
	CHECK_STR(got, "k");
	free(got);
	done();
}

static const char *range(uint64_t off, uint64_t len)
{
	struct bs_rstream *s = NULL;
	struct bs_err err;
	const char *out;

	bs_err_init(&err);
	if (bs_repo_get_range(R, "r/obj", off, len, &s, &err) < 0)
		return "(error)";
	out = read_all(s);
	bs_rstream_free(s);
	return out ? out : "(read error)";
}

TEST(ranged_get)
{
	FRESH();
	CHECK_INT(put_str("r/obj", "0123456789"), 0);
	CHECK_STR(range(0, BS_REPO_TO_END), "0123456789");
	CHECK_STR(range(2, 3), "234");
	CHECK_STR(range(7, BS_REPO_TO_END), "789");
	CHECK_STR(range(8, 100), "89");
	CHECK_STR(range(9, 1), "9");
	CHECK_STR(range(10, 5), "");
	CHECK_STR(range(50, BS_REPO_TO_END), "");
	CHECK_STR(range(3, 0), "");
	done();
}

struct keys {
	char v[16][64];
	int n;
};

static int keys_cb(void *ud, const struct bs_repo_entry *e, struct bs_err *err)
{
	struct keys *k = ud;

	if (k->n < 16)
		snprintf(k->v[k->n++], 64, "%s", e->key);
	return 0;
}

static int stop_cb(void *ud, const struct bs_repo_entry *e, struct bs_err *err)
{
	(*(int *)ud)++;
	return 7;
}

TEST(list_sorted_with_prefix)
{
	struct keys k;
	struct bs_err err;
	int calls = 0;

	FRESH();
	CHECK_INT(put_str("p/b", "1"), 0);
	CHECK_INT(put_str("p/a", "22"), 0);
	CHECK_INT(put_str("p/c/d", "3"), 0);
	CHECK_INT(put_str("pa", "4"), 0);
	CHECK_INT(put_str("q/a", "5"), 0);
	bs_err_init(&err);
	memset(&k, 0, sizeof(k));
	CHECK_INT(bs_repo_list(R, "p/", keys_cb, &k, &err), 0);
	CHECK_INT(k.n, 3);
	CHECK_STR(k.v[0], "p/a");
	CHECK_STR(k.v[1], "p/b");
	CHECK_STR(k.v[2], "p/c/d");
	memset(&k, 0, sizeof(k));
	CHECK_INT(bs_repo_list(R, "p", keys_cb, &k, &err), 0);
	CHECK_INT(k.n, 4);
	CHECK_STR(k.v[3], "pa");
	memset(&k, 0, sizeof(k));
	CHECK_INT(bs_repo_list(R, "p/a", keys_cb, &k, &err), 0);
	CHECK_INT(k.n, 1);
	memset(&k, 0, sizeof(k));
	CHECK_INT(bs_repo_list(R, "", keys_cb, &k, &err), 0);
	CHECK_INT(k.n, 5); /* the repository's own files are not objects */
	CHECK_STR(k.v[4], "q/a");
	memset(&k, 0, sizeof(k));
	CHECK_INT(bs_repo_list(R, "nothing/", keys_cb, &k, &err), 0);
	CHECK_INT(k.n, 0);
	/* a callback's non-zero return stops the walk */
	CHECK_INT(bs_repo_list(R, "p/", stop_cb, &calls, &err), 7);
	CHECK_INT(calls, 1);
	done();
}

TEST(remove_missing_is_not_an_error)
{
	struct bs_err err;
	int code;

	FRESH();
	bs_err_init(&err);
	CHECK_INT(bs_repo_remove(R, "snapshots/none.json", &err), 0);
	CHECK_INT(put_str("snapshots/one.json", "{}"), 0);
	CHECK_INT(bs_repo_remove(R, "snapshots/one.json", &err), 0);
	CHECK(get_str(R, "snapshots/one.json", &code) == NULL);
	CHECK_INT(code, BS_ERR_NOT_FOUND);
	CHECK_INT(bs_repo_remove(R, "snapshots/one.json", &err), 0);
	done();
}

TEST(bad_keys_are_refused)
{
	static const char *const bad[] = {
		"", "/etc/passwd", "a/../b", "..", "a//b", "a/", ".hidden", "a/.b", "a b", "a\nb",
		"tmp/x", "lock", "leases/lock.json", "backstop-repo.json", "a\\b", "a:b",
	};
	char long_key[BS_REPO_KEY_MAX + 2];
	struct bs_wstream *w = NULL;
	struct bs_rstream *s = NULL;
	struct bs_repo_stat st;
	struct bs_err err;
	size_t i;

	FRESH();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bs_err_init(&err);
		CHECK_INT(bs_repo_put(R, bad[i], &w, &err), -1);
		CHECK_INT(err.code, BS_ERR_INTERNAL);
		CHECK(strstr(err.msg, "invalid repository key") != NULL);
		bs_err_init(&err);
		CHECK_INT(bs_repo_get(R, bad[i], &s, &err), -1);
		CHECK_INT(err.code, BS_ERR_INTERNAL);
		bs_err_init(&err);
		CHECK_INT(bs_repo_stat(R, bad[i], &st, &err), -1);
		CHECK_INT(err.code, BS_ERR_INTERNAL);
		bs_err_init(&err);
		CHECK_INT(bs_repo_remove(R, bad[i], &err), -1);
		CHECK_INT(err.code, BS_ERR_INTERNAL);
	}
	memset(long_key, 'k', sizeof(long_key) - 1);
	long_key[sizeof(long_key) - 1] = '\0';
	bs_err_init(&err);
	CHECK_INT(bs_repo_put(R, long_key, &w, &err), -1);
	CHECK_INT(err.code, BS_ERR_INTERNAL);
	long_key[BS_REPO_KEY_MAX] = '\0';
	CHECK_INT(bs_repo_check_key(long_key, &err), 0);
	bs_err_init(&err);
	CHECK_INT(bs_repo_list(R, "../", count_cb, NULL, &err), -1);
	CHECK_INT(err.code, BS_ERR_INTERNAL);
	CHECK(w == NULL && s == NULL);
	done();
}

struct ups {
	char id[4][256];
	char key[4][256];
	uint64_t size[4];
	time_t started[4];
	int n;
};

static int ups_cb(void *ud, const struct bs_repo_upload *u, struct bs_err *err)
{
	struct ups *p = ud;

	if (p->n < 4) {
		snprintf(p->id[p->n], 256, "%s", u->id);
		snprintf(p->key[p->n], 256, "%s", u->key ? u->key : "(null)");
		p->size[p->n] = u->size;
		p->started[p->n] = u->started;
		p->n++;
	}
	return 0;
}

TEST(unfinished_uploads_listed_and_removable)
{
	struct bs_wstream *w = NULL;
	struct ups u;
	struct bs_err err;
	time_t now = time(NULL);
	int n = 0;

	FRESH();
	bs_err_init(&err);
	CHECK_INT(bs_repo_put(R, "archives/20261122T000000Z-aaaaaa.tar.age", &w, &err), 0);
	CHECK_INT(bs_wstream_write(w, "0123456789", 10, &err), 0);
	memset(&u, 0, sizeof(u));
	CHECK_INT(bs_repo_list_unfinished(R, ups_cb, &u, &err), 0);
	CHECK_INT(u.n, 1);
	CHECK_STR(u.key[0], "archives/20261122T000000Z-aaaaaa.tar.age");
	CHECK(u.started[0] >= now - 5 && u.started[0] <= now + 5);
	/* not an object: never listed, never found */
	CHECK_INT(bs_repo_list(R, "", count_cb, &n, &err), 0);
	CHECK_INT(n, 0);
	/* removed (as prune does for an abandoned one): gone, and the writer's
	 * finish then fails rather than commit nothing */
	CHECK_INT(bs_repo_remove_unfinished(R, u.id[0], &err), 0);
	CHECK_INT(bs_repo_remove_unfinished(R, u.id[0], &err), 0);
	memset(&u, 0, sizeof(u));
	CHECK_INT(bs_repo_list_unfinished(R, ups_cb, &u, &err), 0);
	CHECK_INT(u.n, 0);
	bs_err_init(&err);
	CHECK_INT(bs_wstream_finish(w, &err), -1);
	bs_wstream_free(w);
	n = 0;
	CHECK_INT(bs_repo_list(R, "", count_cb, &n, &err), 0);
	CHECK_INT(n, 0);
	/* ids are the backend's: a key is not one */
	bs_err_init(&err);
	CHECK_INT(bs_repo_remove_unfinished(R, "../x", &err), -1);
	CHECK_INT(err.code, BS_ERR_INTERNAL);
	done();
}

/* ---- leases ---- */

static struct bs_repo *second(void)
{
	struct bs_repo *r2 = NULL;
	struct bs_err err;

	bs_err_init(&err);
	if (bs_repo_open(LOC, &r2, &err) < 0)
		printf("# open '%s': %s\n", LOC, err.msg);
	return r2;
}

TEST(lease_exclusivity)
{
	struct bs_repo *r2;
	struct bs_repo_lease *a = NULL, *b = NULL, *c = NULL;
	struct bs_err err;

	FRESH();
	r2 = second();
	CHECK(r2 != NULL);
	bs_err_init(&err);
	CHECK_INT(bs_repo_lease_acquire(R, "lock", BS_REPO_LOCK_EXCLUSIVE, 60000, 0, &a, &err), 0);
	bs_err_init(&err);
	CHECK_INT(bs_repo_lease_acquire(r2, "lock", BS_REPO_LOCK_SHARED, 60000, 0, &b, &err), -1);
	CHECK_INT(err.code, BS_ERR_LOCKED);
	CHECK(strstr(err.msg, "is locked") != NULL);
	bs_err_init(&err);
	CHECK_INT(bs_repo_lease_acquire(r2, "lock", BS_REPO_LOCK_EXCLUSIVE, 60000, 100, &b, &err), -1);
	CHECK_INT(err.code, BS_ERR_LOCKED);
	/* another name is another lease */
	CHECK_INT(bs_repo_lease_acquire(r2, "other", BS_REPO_LOCK_EXCLUSIVE, 60000, 0, &c, &err), 0);
	CHECK_INT(bs_repo_lease_release(c, &err), 0);
	CHECK_INT(bs_repo_lease_release(a, &err), 0);
	CHECK_INT(bs_repo_lease_acquire(r2, "lock", BS_REPO_LOCK_EXCLUSIVE, 60000, 0, &b, &err), 0);
	CHECK_INT(bs_repo_lease_release(b, &err), 0);

	/* shared with shared; exclusive with neither */
	CHECK_INT(bs_repo_lease_acquire(R, "lock", BS_REPO_LOCK_SHARED, 60000, 0, &a, &err), 0);
	CHECK_INT(bs_repo_lease_acquire(r2, "lock", BS_REPO_LOCK_SHARED, 60000, 0, &b, &err), 0);
	bs_repo_close(r2); /* releases what r2 held; b stays ours to free */
	r2 = second();
	bs_err_init(&err);
	CHECK_INT(bs_repo_lease_acquire(r2, "lock", BS_REPO_LOCK_EXCLUSIVE, 60000, 0, &c, &err), -1);
	CHECK_INT(err.code, BS_ERR_LOCKED);
	CHECK_INT(bs_repo_lease_release(b, &err), 0);
	/* the repository lease of the handle itself */
	CHECK_INT(bs_repo_lease_release(a, &err), 0);
	CHECK_INT(bs_repo_lock(r2, BS_REPO_LOCK_EXCLUSIVE, 0, &err), 0);
	bs_err_init(&err);
	CHECK_INT(bs_repo_lease_acquire(R, "lock", BS_REPO_LOCK_SHARED, 60000, 0, &a, &err), -1);
	CHECK_INT(err.code, BS_ERR_LOCKED);
	bs_repo_unlock(r2);
	CHECK_INT(bs_repo_lease_acquire(R, "lock", BS_REPO_LOCK_SHARED, 60000, 0, &a, &err), 0);
	CHECK_INT(bs_repo_lease_release(a, &err), 0);
	/* bad names */
	bs_err_init(&err);
	CHECK_INT(bs_repo_lease_acquire(R, "../x", BS_REPO_LOCK_SHARED, 60000, 0, &a, &err), -1);
	CHECK_INT(err.code, BS_ERR_INTERNAL);
	bs_repo_close(r2);
	done();
}

TEST(lease_expiry_and_renewal)
{
	struct bs_repo *r2;
	struct bs_repo_lease *a = NULL, *b = NULL;
	struct bs_err err;
	time_t t0 = time(NULL), e1;
	char pid[32];

	FRESH();
	r2 = second();
	bs_err_init(&err);
	CHECK_INT(bs_repo_lease_acquire(R, "lock", BS_REPO_LOCK_EXCLUSIVE, 1000, 0, &a, &err), 0);
	e1 = bs_repo_lease_expires(a);
	CHECK(e1 >= t0 + 1 && e1 <= t0 + 3);
	/* a waiter is told who holds it */
	bs_err_init(&err);
	CHECK_INT(bs_repo_lease_acquire(r2, "lock", BS_REPO_LOCK_SHARED, 1000, 0, &b, &err), -1);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	CHECK(strstr(err.detail, pid) != NULL);
	CHECK(strstr(err.detail, "exclusive") != NULL);
	usleep(1300000);
	if (bs_repo_features(R) & BS_REPO_F_LEASE) {
		/* held as long as the holder lives, renewed or not */
		bs_err_init(&err);
		CHECK_INT(bs_repo_lease_acquire(r2, "lock", BS_REPO_LOCK_EXCLUSIVE, 1000, 0, &b, &err), -1);
		CHECK_INT(err.code, BS_ERR_LOCKED);
		CHECK_INT(bs_repo_lease_renew(a, &err), 0);
		CHECK(bs_repo_lease_expires(a) > e1);
		/* the holder gone without releasing: free at once */
		bs_repo_close(R);
		R = NULL;
		CHECK_INT(bs_repo_lease_acquire(r2, "lock", BS_REPO_LOCK_EXCLUSIVE, 1000, 0, &b, &err), 0);
		bs_err_init(&err);
		CHECK_INT(bs_repo_lease_renew(a, &err), -1); /* a outlived its repository */
		CHECK_INT(err.code, BS_ERR_LOCKED);
		bs_repo_lease_release(a, &err);
	} else {
		/* not renewed within its TTL: taken over, and its holder learns it */
		CHECK_INT(bs_repo_lease_acquire(r2, "lock", BS_REPO_LOCK_EXCLUSIVE, 60000, 0, &b, &err), 0);
		bs_err_init(&err);
		CHECK_INT(bs_repo_lease_renew(a, &err), -1);
		CHECK_INT(err.code, BS_ERR_LOCKED);
		bs_repo_lease_release(a, &err);
	}
	/* renewed in time, a lease is kept */
	CHECK_INT(bs_repo_lease_renew(b, &err), 0);
	CHECK(bs_repo_lease_expires(b) >= time(NULL));
	CHECK_INT(bs_repo_lease_release(b, &err), 0);
	bs_repo_close(r2);
	done();
}

/* Larger than an S3 part and a read block: several parts in flight, reads
 * across block borders, the bytes exactly. */
TEST(large_object_round_trip)
{
	size_t n = (36u << 20) + 12345, i, got = 0;
	unsigned char *data = malloc(n), buf[65536 + 7];
	unsigned char d1[32], d2[32];
	struct bs_sha256_ctx *c = bs_sha256_new();
	struct bs_repo_put_opts o = { 0, 0 };
	struct bs_wstream *w = NULL;
	struct bs_rstream *r = NULL;
	struct bs_repo_stat st;
	struct bs_err err;
	uint32_t x = 2463534242u;
	ssize_t k;

	FRESH();
	for (i = 0; i < n; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		data[i] = (unsigned char)x;
	}
	bs_err_init(&err);
	bs_sha256(data, n, d1, &err);
	o.size_hint = n;
	CHECK_INT(bs_repo_put_with(R, "archives/big.tar", &o, &w, &err), 0);
	for (i = 0; i < n; i += 1000003)
		CHECK_INT(bs_wstream_write(w, data + i, n - i < 1000003 ? n - i : 1000003, &err), 0);
	CHECK_INT(bs_wstream_finish(w, &err), 0);
	bs_wstream_free(w);
	CHECK_INT(bs_repo_stat(R, "archives/big.tar", &st, &err), 0);
	CHECK(st.size == n);
	CHECK_INT(bs_repo_get(R, "archives/big.tar", &r, &err), 0);
	while ((k = bs_rstream_read(r, buf, sizeof(buf), &err)) > 0) {
		bs_sha256_update(c, buf, (size_t)k);
		got += (size_t)k;
	}
	CHECK_INT((int)k, 0);
	CHECK(got == n);
	bs_sha256_peek(c, d2);
	CHECK(memcmp(d1, d2, 32) == 0);
	bs_rstream_free(r);
	/* a range across the borders of the read blocks */
	CHECK_INT(bs_repo_get_range(R, "archives/big.tar", (8u << 20) - 3, 6, &r, &err), 0);
	CHECK_INT(bs_rstream_read_full(r, buf, 6, &err), 0);
	CHECK(memcmp(buf, data + (8u << 20) - 3, 6) == 0);
	CHECK_INT((int)bs_rstream_read(r, buf, 1, &err), 0);
	bs_rstream_free(r);
	bs_sha256_free(c);
	free(data);
	done();
}

TEST(reading_keeps_the_lease)
{
	struct bs_repo_settings set = { .lease_ttl_ms = 2000 };
	struct bs_repo *r2 = NULL;
	struct bs_repo_lease *x = NULL;
	struct bs_rstream *in = NULL;
	struct bs_err err;
	char c;

	FRESH();
	bs_err_init(&err);
	CHECK_INT(put_str("r/x", "0123456789"), 0);
	CHECK_INT(bs_repo_open_with(LOC, &set, &r2, &err), 0);
	CHECK_INT(bs_repo_lock(r2, BS_REPO_LOCK_SHARED, 0, &err), 0);
	CHECK_INT(bs_repo_get(r2, "r/x", &in, &err), 0);
	usleep(1300000);
	CHECK_INT((int)bs_rstream_read(in, &c, 1, &err), 1); /* past half the TTL: renews */
	usleep(1300000);
	/* 2.6 s after it was taken, the lease still holds: it was renewed */
	bs_err_init(&err);
	CHECK_INT(bs_repo_lease_acquire(R, "lock", BS_REPO_LOCK_EXCLUSIVE, 60000, 0, &x, &err), -1);
	CHECK_INT(err.code, BS_ERR_LOCKED);
	bs_rstream_free(in);
	bs_repo_close(r2);
	done();
}

TEST(accessors)
{
	FRESH();
	CHECK_STR(bs_repo_location(R), LOC);
	CHECK_STR(bs_repo_scheme(R), B->name);
	if (strcmp(B->name, "local") == 0)
		CHECK_INT(bs_repo_features(R), BS_REPO_F_RANGED_GET | BS_REPO_F_CREATE_ONLY | BS_REPO_F_LEASE |
							 BS_REPO_F_UNFINISHED_LIST);
	done();
}

static const struct {
	const char *name;
	void (*fn)(void);
} cases[] = {
	{ "put/get round trip", test_put_get_round_trip },
	{ "get of a missing key is not found", test_get_missing_is_not_found },
	{ "stat reports size and time", test_stat_reports_size_and_time },
	{ "create_only refuses an existing key", test_create_only_refuses_an_existing_key },
	{ "abort leaves nothing visible", test_abort_leaves_nothing },
	{ "ranged get", test_ranged_get },
	{ "list is sorted and honours the prefix", test_list_sorted_with_prefix },
	{ "remove of a missing key is not an error", test_remove_missing_is_not_an_error },
	{ "remove_many removes every key; a bad key refuses all", test_remove_many_removes_every_key },
	{ "bad keys are refused", test_bad_keys_are_refused },
	{ "unfinished uploads are listed and removable", test_unfinished_uploads_listed_and_removable },
	{ "lease exclusivity", test_lease_exclusivity },
	{ "lease expiry and renewal", test_lease_expiry_and_renewal },
	{ "a large object round trip (multipart, ranged reads)", test_large_object_round_trip },
	{ "reading keeps the repository lease", test_reading_keeps_the_lease },
	{ "accessors", test_accessors },
};

int main(void)
{
	char name[128], cmd[300];
	size_t i, j;

	snprintf(tmp_root, sizeof(tmp_root), "/tmp/bs-contract.XXXXXX");
	if (!mkdtemp(tmp_root)) {
		perror("mkdtemp");
		return 1;
	}
	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		B = &backends[i];
		for (j = 0; j < sizeof(cases) / sizeof(cases[0]); j++) {
			snprintf(name, sizeof(name), "%s: %s", B->name, cases[j].name);
			RUN_NAMED(name, cases[j].fn);
		}
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_root);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmp_root);
	return DONE();
}
