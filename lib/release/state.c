/*
 * state.c - what a release ledger says: the releases, which one runs, which
 * are known-good or bad, and the release a rollback goes to (ledger.h).
 */
#include "release/ledger.h"

#include <stdlib.h>
#include <string.h>

static long find_release(const struct bs_release_state *st, const char *id)
{
	for (size_t i = 0; id && i < st->n; i++)
		if (strcmp(st->v[i].deploy->id, id) == 0)
			return (long)i;
	return -1;
}

int bs_release_state_build(const struct bs_ledger *l, struct bs_release_state *st, struct bs_err *err)
{
	memset(st, 0, sizeof(*st));
	st->current = -1;
	if (l->n && !(st->v = calloc(l->n, sizeof(*st->v))))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < l->n; i++) {
		const struct bs_ledger_record *r = &l->v[i];
		long at;

		switch (r->event) {
		case BS_EV_DEPLOY:
			st->v[st->n].deploy = r;
			st->v[st->n].before = st->current;
			st->current = (long)st->n++;
			break;
		case BS_EV_GOOD:
		case BS_EV_BAD:
			if ((at = find_release(st, r->release)) >= 0) {
				st->v[at].mark = r->event == BS_EV_GOOD ? BS_MARK_GOOD : BS_MARK_BAD;
				st->v[at].mark_rec = r;
			}
			break;
		case BS_EV_ROLLBACK:
		case BS_EV_FORWARD:
			if (!r->result || strcmp(r->result, "failed") == 0)
				break;
			/* The release moved away from is bad: a rollback says so. */
			if (r->event == BS_EV_ROLLBACK && (at = find_release(st, r->from_release)) >= 0) {
				st->v[at].mark = BS_MARK_BAD;
				st->v[at].mark_rec = r;
			}
			if ((at = find_release(st, r->release)) >= 0)
				st->current = at;
			break;
		}
	}
	if (st->current >= 0)
		st->v[st->current].current = 1;
	return 0;
}

void bs_release_state_release(struct bs_release_state *st)
{
	free(st->v);
	memset(st, 0, sizeof(*st));
	st->current = -1;
}

void bs_release_state_label(const struct bs_release_info *i, char *out, size_t n)
{
	snprintf(out, n, "%s%s%s", i->current ? "current" : "", i->current && i->mark ? ", " : "",
		 i->mark == BS_MARK_GOOD ? "known-good" : i->mark == BS_MARK_BAD ? "bad" : "");
	if (!out[0])
		snprintf(out, n, "-");
}

static const char *cur_digest(const struct bs_release_state *st)
{
	return st->current >= 0 ? st->v[st->current].deploy->digest : "";
}

/* [0-9a-f]{12,64}: a digest without its "sha256:" */
static int bare_hex(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");
	return s[n] == 0 && n >= 12 && n <= 64;
}

long bs_release_find(const struct bs_release_state *st, const char *spec, struct bs_err *err)
{
	char digest[BS_DIGEST_MAX];
	size_t n;
	long at = -1;
	int many = 0;

	if (bare_hex(spec) || strncmp(spec, "sha256:", 7) == 0) {
		snprintf(digest, sizeof(digest), "%s%s", bare_hex(spec) ? "sha256:" : "", spec);
		n = strlen(digest);
		if (n < 7 + 12)
			return bs_err_set(err, BS_ERR_USAGE, "'%s': give at least 12 hex digits of the digest", spec);
		for (long i = (long)st->n - 1; i >= 0; i--)
			if (strncmp(st->v[i].deploy->digest, digest, n) == 0)
				return i;
		if (!bare_hex(spec))
			return bs_err_set(err, BS_ERR_NOT_FOUND, "no release of this service has digest %s", spec);
	}
	n = strlen(spec);
	for (size_t i = 0; i < st->n; i++) {
		if (strcmp(st->v[i].deploy->id, spec) == 0)
			return (long)i;
		if (n >= 4 && strncmp(st->v[i].deploy->id, spec, n) == 0) {
			many += at >= 0;
			at = (long)i;
		}
	}
	if (many)
		return bs_err_set(err, BS_ERR_USAGE, "'%s' names more than one release: give more of the id", spec);
	if (at < 0) {
		bs_err_set(err, BS_ERR_NOT_FOUND, "no release '%s' in the ledger", spec);
		bs_err_hint(err, "`backstop rollback list SERVICE` shows the release ids and digests");
	}
	return at;
}

long bs_release_target(const struct bs_release_state *st, const char *spec, int allow_bad, struct bs_err *err)
{
	long at = -1;

	if (!st->n) {
		bs_err_set(err, BS_ERR_NOT_FOUND, "the ledger has no releases");
		bs_err_hint(err, "record each deploy: backstop rollback record SERVICE IMAGE");
		return -1;
	}
	if (!spec) {
		for (long i = (long)st->n - 1; i >= 0; i--)
			if (i != st->current && st->v[i].mark == BS_MARK_GOOD &&
			    strcmp(st->v[i].deploy->digest, cur_digest(st)) != 0)
				return i;
		bs_err_set(err, BS_ERR_NOT_FOUND, "no known-good release to go back to (none is marked known-good besides the current one)");
		bs_err_hint(err, "mark one with `backstop rollback mark SERVICE --good --release ID`, or name one with --to");
		return -1;
	}
	if ((at = bs_release_find(st, spec, err)) < 0)
		return -1;
	if (at == st->current)
		return bs_err_set(err, BS_ERR_REFUSED, "release %s is the current one: nothing to roll back to",
				  st->v[at].deploy->id);
	if (st->v[at].mark == BS_MARK_BAD && !allow_bad) {
		bs_err_set(err, BS_ERR_REFUSED, "release %s is marked bad", st->v[at].deploy->id);
		bs_err_hint(err, "choose another with --to, or go there anyway with --force");
		return -1;
	}
	return at;
}
