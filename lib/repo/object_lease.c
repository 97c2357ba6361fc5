/* object_lease.c - leases as objects (see object_lease.h) */
#include "repo/object_lease.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

struct holder_key {
	char key[BS_REPO_KEY_MAX + 1];
};

struct holders {
	const struct bs_object_store *st;
	const struct bs_repo_lease *l;
	const char *self;     /* our key, or "" */
	int64_t now_ms;
	int conflict;
	char who[512];        /* the conflicting holders, for the message */
	struct bs_err *err;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *mode_name(enum bs_repo_lock_mode m)
{
	return m == BS_REPO_LOCK_EXCLUSIVE ? "exclusive" : "shared";
}

/* One holder: taken over when expired, else checked for a conflict. */
static int one_holder(void *ud, const struct bs_repo_entry *e, struct bs_err *err)
{
	struct holders *h = ud;
	char *buf = NULL;
	size_t len = 0;
	json_t *o;
	const char *mode, *host;
	json_int_t pid, expires;
	int64_t left;
	size_t wl;

	if (strcmp(e->key, h->self) == 0)
		return 0;
	if (h->st->get(h->st->ctx, e->key, &buf, &len, err) < 0) {
		if (err->code != BS_ERR_NOT_FOUND)
			return -1;
		bs_err_init(err); /* released meanwhile */
		return 0;
	}
	o = json_loadb(buf, len, 0, NULL);
	free(buf);
	mode = json_string_value(json_object_get(o, "mode"));
	host = json_string_value(json_object_get(o, "host"));
	pid = json_integer_value(json_object_get(o, "pid"));
	expires = json_integer_value(json_object_get(o, "expires_ms"));
	if (!o || !mode || !host || !expires || expires < h->now_ms) {
		bs_warn("taking over the %s lease '%s' of host '%s' pid %lld in %s: %s", mode ? mode : "?",
			h->l->name, host ? host : "?", (long long)pid, h->st->where,
			o && expires ? "it expired without being renewed" : "its holder object is unreadable");
		json_decref(o);
		return h->st->remove(h->st->ctx, e->key, err);
	}
	if (h->l->mode == BS_REPO_LOCK_EXCLUSIVE || strcmp(mode, "exclusive") == 0) {
		h->conflict = 1;
		wl = strlen(h->who);
		left = (int64_t)expires - h->now_ms;
		if (wl < sizeof(h->who) - 1)
			snprintf(h->who + wl, sizeof(h->who) - wl, "%s%s by host '%s' pid %lld (expires in %llds unless "
				 "renewed)", wl ? "; " : "", mode, host, (long long)pid, (long long)(left + 999) / 1000);
	}
	json_decref(o);
	return 0;
}

static int scan(const struct bs_object_store *st, const struct bs_repo_lease *l, const char *self,
		struct holders *h, struct bs_err *err)
{
	char prefix[128];

	memset(h, 0, sizeof(*h));
	h->st = st;
	h->l = l;
	h->self = self;
	h->now_ms = now_ms();
	snprintf(prefix, sizeof(prefix), "leases/%s/", l->name);
	return st->list(st->ctx, prefix, one_holder, h, err);
}

static int write_holder(const struct bs_object_store *st, struct bs_repo_lease *l, const char *key,
			struct bs_err *err)
{
	char host[256] = "?";
	int64_t now = now_ms(), until = now + l->ttl_ms;
	json_t *o;
	char *body;
	int rc;

	gethostname(host, sizeof(host) - 1);
	l->expires = (time_t)((until + 999) / 1000);
	l->expires_ms = until;
	o = json_pack("{s:s, s:s, s:I, s:I, s:I}", "mode", mode_name(l->mode), "host", host, "pid",
		      (json_int_t)getpid(), "renewed_ms", (json_int_t)now, "expires_ms", (json_int_t)until);
	body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!body)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	rc = st->put(st->ctx, key, body, strlen(body), err);
	free(body);
	return rc;
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Enter the store's gate (if it has one): 1 entered (or no gate), 0 held
 * by another (try again later), -1 error. */
static int gate_try(const struct bs_object_store *st, const struct bs_repo_lease *l, char token[64],
		    struct bs_err *err)
{
	token[0] = '\0';
	if (!st->gate_enter)
		return 1;
	if (st->gate_enter(st->ctx, l->name, token, err) == 0)
		return 1;
	if (err->code != BS_ERR_LOCKED)
		return -1;
	bs_err_init(err);
	return 0;
}

static int gate_leave(const struct bs_object_store *st, const struct bs_repo_lease *l, const char *token,
		      int rc, struct bs_err *err)
{
	struct bs_err e;

	if (!token[0])
		return rc;
	bs_err_init(&e);
	if (st->gate_leave(st->ctx, l->name, token, rc < 0 ? &e : err) < 0 && rc == 0)
		return -1; /* it expires on its own; the caller learns that it failed */
	return rc;
}

/* One try: no conflict -> our holder object written.  1 had, 0 not (h
 * says why), -1 error. */
static int try_once(const struct bs_object_store *st, struct bs_repo_lease *l, const char *key, struct holders *h,
		    struct bs_err *err)
{
	char token[64];
	int in = gate_try(st, l, token, err), rc;

	if (in <= 0) {
		memset(h, 0, sizeof(*h));
		snprintf(h->who, sizeof(h->who), "%s", "another holder is taking or renewing it right now");
		return in;
	}
	rc = scan(st, l, key, h, err);
	if (rc == 0 && !h->conflict) {
		rc = write_holder(st, l, key, err);
		/* without a gate, two writers may have written at once: look again */
		if (rc == 0 && !token[0] && scan(st, l, key, h, err) < 0)
			rc = -1;
		if (rc == 0 && h->conflict && st->remove(st->ctx, key, err) < 0) /* lost the race: back off */
			rc = -1;
	}
	rc = gate_leave(st, l, token, rc, err);
	return rc < 0 ? -1 : !h->conflict;
}

int bs_object_lease_acquire(const struct bs_object_store *st, struct bs_repo_lease *l, int wait_ms,
			    struct bs_err *err)
{
	struct holder_key *me = calloc(1, sizeof(*me));
	struct timespec t0;
	struct holders h;
	char host[64] = "host";
	unsigned seed;
	int rc;

	if (!me)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	gethostname(host, sizeof(host) - 1);
	for (char *p = host; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-'))
			*p = '-';
	clock_gettime(CLOCK_MONOTONIC, &t0);
	seed = (unsigned)(t0.tv_nsec ^ getpid());
	snprintf(me->key, sizeof(me->key), "leases/%s/%s-%ld-%08x.json", l->name, host, (long)getpid(),
		 rand_r(&seed));
	while ((rc = try_once(st, l, me->key, &h, err)) == 0) {
		if (wait_ms >= 0 && elapsed_ms(&t0) >= wait_ms) {
			bs_err_set(err, BS_ERR_LOCKED, "%s is locked (lease '%s')", st->where, l->name);
			bs_err_detail(err, "held %s", h.who);
			bs_err_hint(err, "wait for it to finish; a holder that died is taken over when its lease "
					 "expires");
			break;
		}
		usleep(500000 + (useconds_t)(rand_r(&seed) % 1000) * 1000);
	}
	if (rc == 1) {
		l->priv = me;
		return 0;
	}
	free(me);
	return -1;
}

/* The gate is held for a few requests at a time: wait for it this long
 * at most (beyond the store's expiry of a gate whose holder died). */
#define GATE_WAIT_MS 30000

int bs_object_lease_renew(const struct bs_object_store *st, struct bs_repo_lease *l, struct bs_err *err)
{
	struct holder_key *me = l->priv;
	struct timespec t0;
	char *buf = NULL, token[64];
	size_t len;
	int in, rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((in = gate_try(st, l, token, err)) == 0) {
		if (elapsed_ms(&t0) >= GATE_WAIT_MS) {
			bs_err_set(err, BS_ERR_LOCKED, "unable to renew lease '%s' in %s: its gate stayed taken for "
						       "%ds", l->name, st->where, GATE_WAIT_MS / 1000);
			return -1;
		}
		usleep(200000);
	}
	if (in < 0)
		return -1;
	rc = st->get(st->ctx, me->key, &buf, &len, err);
	if (rc < 0 && err->code == BS_ERR_NOT_FOUND)
		bs_err_set(err, BS_ERR_LOCKED, "lease '%s' in %s was taken over by another host (it expired)", l->name,
			   st->where);
	free(buf);
	if (rc == 0)
		rc = write_holder(st, l, me->key, err);
	return gate_leave(st, l, token, rc, err);
}

int bs_object_lease_release(const struct bs_object_store *st, struct bs_repo_lease *l, struct bs_err *err)
{
	struct holder_key *me = l->priv;
	int rc = me ? st->remove(st->ctx, me->key, err) : 0;

	free(me);
	l->priv = NULL;
	return rc;
}
