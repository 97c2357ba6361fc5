/*
 * state_test.c - what a release ledger says (release/state.c): the
 * current release after deploys and rollbacks, marks (the newest counts; a
 * rollback away marks bad), and target selection: last-good never picks
 * the bad previous release, ids by prefix, digests with or without
 * "sha256:", refusals.  The ledger is built in memory: the chain itself is
 * tested against a real repository in tests/integration/rollback.sh.
 */
#include "harness.h"

#include <string.h>

#include "release/ledger.h"

static struct bs_ledger_record recs[32];
static struct bs_ledger led;
static struct bs_release_state st;
static struct bs_err err;

static void reset(void)
{
	memset(recs, 0, sizeof(recs));
	memset(&led, 0, sizeof(led));
	snprintf(led.service, sizeof(led.service), "api");
	led.v = recs;
	bs_err_init(&err);
}

static char *s(const char *v)
{
	return (char *)v;
}

static void digest_of(char out[BS_DIGEST_MAX], char c)
{
	memcpy(out, "sha256:", 7);
	memset(out + 7, c, 64);
	out[71] = 0;
}

static void deploy(const char *id, char c)
{
	struct bs_ledger_record *r = &recs[led.n++];
	r->seq = led.n;
	snprintf(r->id, sizeof(r->id), "%s", id);
	r->event = BS_EV_DEPLOY;
	r->service = s("api");
	r->image = s("ghcr.io/acme/api:x");
	digest_of(r->digest, c);
	r->release = r->id;
}

static void mark(const char *id, int ev)
{
	struct bs_ledger_record *r = &recs[led.n++];
	r->seq = led.n;
	snprintf(r->id, sizeof(r->id), "m%zu", led.n);
	r->event = ev;
	r->service = s("api");
	r->release = s(id);
}

static void moved(const char *from, const char *to, const char *result)
{
	struct bs_ledger_record *r = &recs[led.n++];
	r->seq = led.n;
	snprintf(r->id, sizeof(r->id), "r%zu", led.n);
	r->event = BS_EV_ROLLBACK;
	r->service = s("api");
	r->from_release = s(from);
	r->release = s(to);
	r->result = s(result);
}

static long build(void)
{
	bs_release_state_release(&st);
	CHECK_INT(bs_release_state_build(&led, &st, &err), 0);
	return st.current;
}

static const char *target(const char *spec, int force)
{
	long at;

	bs_err_init(&err);
	at = bs_release_target(&st, spec, force, &err);
	return at < 0 ? NULL : st.v[at].deploy->id;
}

TEST(last_good_skips_the_bad_previous_release)
{
	reset();
	deploy("20261101T000000Z-aaaaaa", '1');
	mark("20261101T000000Z-aaaaaa", BS_EV_GOOD);
	deploy("20261102T000000Z-bbbbbb", '2');
	mark("20261102T000000Z-bbbbbb", BS_EV_BAD);
	deploy("20261103T000000Z-cccccc", '3');
	CHECK_INT(build(), 2);
	CHECK_STR(target(NULL, 0), "20261101T000000Z-aaaaaa");
	CHECK(target("20261102", 0) == NULL);
	CHECK_INT(err.code, BS_ERR_REFUSED);
	CHECK_STR(target("20261102", 1), "20261102T000000Z-bbbbbb");
	CHECK(target("20261103T000000Z-cccccc", 0) == NULL); /* the current one */
	CHECK_INT(err.code, BS_ERR_REFUSED);
	bs_release_state_release(&st);
}

TEST(rollback_moves_current_and_marks_the_release_left_bad)
{
	reset();
	deploy("20261101T000000Z-aaaaaa", '1');
	mark("20261101T000000Z-aaaaaa", BS_EV_GOOD);
	deploy("20261102T000000Z-bbbbbb", '2');
	moved("20261102T000000Z-bbbbbb", "20261101T000000Z-aaaaaa", "failed");
	CHECK_INT(build(), 1); /* a failed attempt moves nothing */
	CHECK_INT(st.v[1].mark, BS_MARK_NONE);
	moved("20261102T000000Z-bbbbbb", "20261101T000000Z-aaaaaa", "ok");
	CHECK_INT(build(), 0);
	CHECK_INT(st.v[1].mark, BS_MARK_BAD);
	CHECK_INT(st.v[0].mark, BS_MARK_GOOD);
	/* nothing known-good besides the current release */
	CHECK(target(NULL, 0) == NULL);
	CHECK_INT(err.code, BS_ERR_NOT_FOUND);
	/* a later good mark counts (the newest mark wins) */
	mark("20261102T000000Z-bbbbbb", BS_EV_GOOD);
	build();
	CHECK_INT(st.v[1].mark, BS_MARK_GOOD);
	CHECK_STR(target(NULL, 0), "20261102T000000Z-bbbbbb");
	/* a deploy after a rollback is current; it ran while release 0 did */
	deploy("20261104T000000Z-dddddd", '4');
	CHECK_INT(build(), 2);
	CHECK_INT(st.v[2].before, 0);
	bs_release_state_release(&st);
}

TEST(same_digest_is_no_target)
{
	reset();
	deploy("20261101T000000Z-aaaaaa", '1');
	mark("20261101T000000Z-aaaaaa", BS_EV_GOOD);
	deploy("20261102T000000Z-bbbbbb", '1'); /* the same image again */
	build();
	CHECK(target(NULL, 0) == NULL);
	bs_release_state_release(&st);
}

TEST(find_by_id_prefix_and_digest)
{
	char d[BS_DIGEST_MAX];

	reset();
	deploy("20261101T000000Z-aaaaaa", '1');
	deploy("20261101T000000Z-abbbbb", '2');
	deploy("20261103T000000Z-cccccc", 'c');
	build();
	CHECK_INT(bs_release_find(&st, "20261101T000000Z-a", &err), -1); /* two match */
	CHECK_INT(err.code, BS_ERR_USAGE);
	CHECK_INT(bs_release_find(&st, "20261101T000000Z-ab", &err), 1);
	CHECK_INT(bs_release_find(&st, "202", &err), -1); /* too short to be a prefix */
	digest_of(d, '2');
	CHECK_INT(bs_release_find(&st, d, &err), 1);
	d[7 + 12] = 0;
	CHECK_INT(bs_release_find(&st, d, &err), 1);
	CHECK_INT(bs_release_find(&st, d + 7, &err), 1); /* hex digits alone */
	d[7 + 11] = 0;
	CHECK_INT(bs_release_find(&st, d, &err), -1);
	CHECK_INT(err.code, BS_ERR_USAGE);
	/* "cccccccccccc" could be a digest; it is not one here, nor an id */
	CHECK_INT(bs_release_find(&st, "cccccccccccc", &err), 2);
	CHECK_INT(bs_release_find(&st, "sha256:999999999999", &err), -1);
	CHECK_INT(err.code, BS_ERR_NOT_FOUND);
	CHECK_INT(bs_release_find(&st, "20991231", &err), -1);
	CHECK_INT(err.code, BS_ERR_NOT_FOUND);
	bs_release_state_release(&st);
}

TEST(empty_ledger)
{
	reset();
	CHECK_INT(build(), -1);
	CHECK(target(NULL, 0) == NULL);
	CHECK_INT(err.code, BS_ERR_NOT_FOUND);
	bs_release_state_release(&st);
}

TEST(labels)
{
	char buf[64];
	struct bs_release_info i = { 0 };

	bs_release_state_label(&i, buf, sizeof(buf));
	CHECK_STR(buf, "-");
	i.current = 1;
	i.mark = BS_MARK_GOOD;
	bs_release_state_label(&i, buf, sizeof(buf));
	CHECK_STR(buf, "current, known-good");
	i.current = 0;
	i.mark = BS_MARK_BAD;
	bs_release_state_label(&i, buf, sizeof(buf));
	CHECK_STR(buf, "bad");
}

int main(void)
{
	RUN(last_good_skips_the_bad_previous_release);
	RUN(rollback_moves_current_and_marks_the_release_left_bad);
	RUN(same_digest_is_no_target);
	RUN(find_by_id_prefix_and_digest);
	RUN(empty_ledger);
	RUN(labels);
	return DONE();
}
