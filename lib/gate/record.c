/*
 * record.c - the gate's catalog records (docs/gate.md, "Records"):
 *
 *   approvals/<gate>/<id>.json     a sign-off: its fields, the statement
 *                                  signed and the armored signature
 *   decisions/<policy>/<id>.json   a check's decision: who, when, what
 *                                  policy (path and SHA-256), the release,
 *                                  the verdict and every criterion
 *
 * Ids are snapshot-style ("<UTC time>-<random>"), so keys sort by time.
 * Records are written create-only and never rewritten.
 */
#include "gate/gate_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "common/log.h"
#include "repo/repo.h"
#include "report/report.h"

#define RECORD_MAX (64 * 1024)   /* a sign-off is about 2 KiB; a decision more */
#define FETCH_BATCH 256
#define APPROVALS_MAX 10000

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

int bs_gate_approval_put(struct bs_repo *repo, struct bs_gate_approval *a, struct bs_err *err)
{
	char key[256], *stmt = NULL, *text = NULL;
	json_t *o;
	int rc = -1;
	char t[32];

	if (!bs_gate_name_ok(a->gate))
		return bs_err_set(err, BS_ERR_USAGE, "invalid gate name '%s'", a->gate);
	if (!a->has_signer || !a->signature)
		return bs_err_set(err, BS_ERR_INTERNAL, "a sign-off to record must be signed first");
	if (!a->id[0])
		bs_catalog_new_id(a->time, a->id);
	if (bs_gate_statement(a, &stmt, err) < 0)
		return -1;
	bs_time_iso(a->time, t);
	o = json_pack("{s:i, s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:o, s:s, s:s, s:s}", "version", 1, "id", a->id, "gate",
		      a->gate, "release", a->release, "commit", str_or_null(a->commit), "digest", str_or_null(a->digest),
		      "time", t, "reason", a->reason, "actor", str_or_null(a->actor), "signer", a->signer.fingerprint, "statement",
		      stmt, "signature", a->signature);
	free(stmt);
	if (!o || !(text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER))) {
		json_decref(o);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	json_decref(o);
	snprintf(key, sizeof(key), "approvals/%s/%s.json", a->gate, a->id);
	rc = bs_repo_create_bytes(repo, key, text, strlen(text), err);
	free(text);
	if (rc < 0)
		return bs_err_prefix(err, "unable to record the sign-off");
	free(a->key);
	a->key = strdup(key);
	return 0;
}

/* One record into a (fields only; the signature decides what it is worth). */
static int parse_approval(struct bs_gate_approval *a, const char *buf, size_t len, const char *key, struct bs_err *err)
{
	json_error_t je;
	json_t *o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je), *id;
	int bad = 0;
	const char *t;

	if (!o || !json_is_object(o)) {
		json_decref(o);
		return bs_err_set(err, BS_ERR_FORMAT, "%s: not a sign-off record (%s)", key, o ? "not an object" : je.text);
	}
	id = json_object_get(o, "id");
	if (json_is_string(id))
		snprintf(a->id, sizeof(a->id), "%s", json_string_value(id));
	a->gate = bs_json_get_text(o, "gate", &bad);
	a->release = bs_json_get_text(o, "release", &bad);
	a->commit = bs_json_get_text(o, "commit", &bad);
	a->digest = bs_json_get_text(o, "digest", &bad);
	a->reason = bs_json_get_text(o, "reason", &bad);
	a->actor = bs_json_get_text(o, "actor", &bad);
	a->signature = bs_json_get_text(o, "signature", &bad);
	a->key = strdup(key);
	t = json_string_value(json_object_get(o, "time"));
	if (!t || bs_time_parse(t, &a->time) < 0)
		bad = 1;
	json_decref(o);
	if (bad || !a->gate || !a->release || !a->reason || !a->signature || !a->key || !a->id[0])
		return bs_err_set(err, BS_ERR_FORMAT, "%s: a sign-off record with a missing or malformed field", key);
	return 0;
}

void bs_gate_approvals_init(struct bs_gate_approvals *l)
{
	memset(l, 0, sizeof(*l));
}

void bs_gate_approvals_release(struct bs_gate_approvals *l)
{
	for (size_t i = 0; l && i < l->n; i++)
		bs_gate_approval_release(&l->v[i]);
	if (l)
		free(l->v);
	bs_gate_approvals_init(l);
}

static int collect(void *ud, const struct bs_repo_entry *e, struct bs_err *err)
{
	struct bs_repo_keys *k = ud;
	size_t len = strlen(e->key);

	if (e->is_link || len < 6 || strcmp(e->key + len - 5, ".json") != 0)
		return 0;
	if (k->n >= APPROVALS_MAX)
		return bs_err_set(err, BS_ERR_FORMAT, "more than %d sign-off records: remove old ones", APPROVALS_MAX);
	return bs_repo_keys_add(k, e->key, err);
}

static int cmp_approval(const void *x, const void *y)
{
	const struct bs_gate_approval *a = x, *b = y;

	if (a->time != b->time)
		return a->time < b->time ? -1 : 1;
	return strcmp(a->id, b->id);
}

int bs_gate_approvals_load(struct bs_repo *repo, const char *gate, struct bs_gate_approvals *l, struct bs_err *err)
{
	struct bs_repo_keys k = { 0 };
	struct bs_repo_fetch *f = NULL;
	char prefix[128];
	int rc = -1;

	snprintf(prefix, sizeof(prefix), gate ? "approvals/%s/" : "approvals/", gate);
	if (bs_repo_list(repo, prefix, collect, &k, err) != 0) {
		if (err->code == BS_ERR_NOT_FOUND)
			rc = 0;
		goto out;
	}
	if (k.n == 0) {
		rc = 0;
		goto out;
	}
	if (!(f = calloc(FETCH_BATCH, sizeof(*f))) || !(l->v = calloc(k.n, sizeof(*l->v)))) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	l->cap = k.n;
	for (size_t base = 0; base < k.n; base += FETCH_BATCH) { /* bounded memory: a batch at a time */
		size_t nb = k.n - base < FETCH_BATCH ? k.n - base : FETCH_BATCH;

		memset(f, 0, FETCH_BATCH * sizeof(*f));
		for (size_t i = 0; i < nb; i++)
			f[i].key = k.v[base + i];
		if (bs_repo_get_many(repo, f, nb, RECORD_MAX, err) < 0)
			goto out;
		for (size_t i = 0; i < nb; i++) {
			struct bs_gate_approval *a = &l->v[l->n];

			bs_gate_approval_init(a);
			if (f[i].rc < 0 || parse_approval(a, f[i].buf, f[i].len, f[i].key, &f[i].err) < 0) {
				bs_gate_approval_release(a);
				if (f[i].err.code == BS_ERR_NOMEM) {
					*err = f[i].err;
					goto out;
				}
				bs_log(BS_LOG_WARN, "sign-off record skipped: %s", f[i].err.msg);
				l->damaged++;
			} else {
				l->n++;
			}
			free(f[i].buf);
			f[i].buf = NULL;
		}
	}
	qsort(l->v, l->n, sizeof(*l->v), cmp_approval);
	rc = 0;
out:
	for (size_t i = 0; f && i < FETCH_BATCH; i++)
		free(f[i].buf);
	free(f);
	bs_repo_keys_release(&k);
	if (rc < 0)
		bs_gate_approvals_release(l);
	return rc;
}

/* ---- decisions ---------------------------------------------------------------- */

/* o[key] = text (bs_json_text); 0 or -1 when out of memory. */
static int set_text(json_t *o, const char *key, const char *text)
{
	json_t *v = bs_json_text(text);

	return v ? json_object_set_new(o, key, v) : -1;
}

static json_t *outcome_json(const struct bs_gate_outcome *oc)
{
	json_t *c = json_object();
	int bad = !c;

	bad = bad || set_text(c, "gate", oc->gate->name) < 0 || set_text(c, "criterion", oc->crit->id) < 0 ||
	      set_text(c, "kind", bs_gate_kind_name(oc->crit->kind)) < 0 ||
	      set_text(c, "state", bs_state_name(oc->state)) < 0 || set_text(c, "evidence", bs_state_name(oc->raw)) < 0 ||
	      set_text(c, "expected", oc->expected) < 0 || set_text(c, "observed", oc->observed) < 0 ||
	      set_text(c, "detail", oc->detail) < 0;
	if (!bad && oc->waiver) {
		json_t *w = json_object();
		bad = !w || set_text(w, "approver", oc->waiver->approver) < 0 ||
		      set_text(w, "expires", oc->waiver->expires) < 0 || set_text(w, "reason", oc->waiver->reason) < 0 ||
		      json_object_set_new(c, "waiver", w) < 0;
	}
	if (bad) {
		json_decref(c);
		return NULL;
	}
	return c;
}

int bs_gate_decision_put(struct bs_repo *repo, const struct bs_gate_policy *p, const struct bs_gate_env *env,
			 const char *actor, int fail_on_warn, const struct bs_gate_result *res, time_t when,
			 char id[64], struct bs_err *err)
{
	char key[256], t[32], *text = NULL;
	json_t *o = json_object(), *crit = json_array();
	int rc, bad = !o || !crit;

	bs_catalog_new_id(when, id);
	bs_time_iso(when, t);
	for (size_t i = 0; !bad && i < res->n; i++) {
		json_t *c = outcome_json(&res->o[i]);
		bad = !c || json_array_append_new(crit, c) < 0;
		if (!bad && res->o[i].gate->owner)
			bad = set_text(c, "owner", res->o[i].gate->owner) < 0;
	}
	bad = bad || json_object_set_new(o, "version", json_integer(1)) < 0 || set_text(o, "id", id) < 0 ||
	      set_text(o, "time", t) < 0 || set_text(o, "policy", p->name) < 0 || set_text(o, "policy_path", p->path) < 0 ||
	      set_text(o, "policy_sha256", p->sha256) < 0 || set_text(o, "release", env->rel.release) < 0 ||
	      set_text(o, "commit", env->rel.commit) < 0 || set_text(o, "digest", env->rel.digest) < 0 ||
	      set_text(o, "actor", actor) < 0 || set_text(o, "decision", res->go ? "GO" : "NO-GO") < 0 ||
	      json_object_set_new(o, "fail_on_warn", json_boolean(fail_on_warn)) < 0 ||
	      json_object_set_new(o, "exit", json_integer(res->exit_code)) < 0;
	if (!bad) { /* set_new takes crit even when it fails */
		bad = json_object_set_new(o, "criteria", crit) < 0;
		crit = NULL;
	}
	if (bad || !(text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER))) {
		json_decref(o);
		json_decref(crit);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory writing the decision record");
	}
	json_decref(o);
	snprintf(key, sizeof(key), "decisions/%s/%s.json", p->name, id);
	rc = bs_repo_create_bytes(repo, key, text, strlen(text), err);
	free(text);
	if (rc < 0)
		return bs_err_prefix(err, "unable to record the decision");
	return 0;
}

static int newest(void *ud, const struct bs_repo_entry *e, struct bs_err *err)
{
	char **last = ud;
	size_t len = strlen(e->key);

	(void)err;
	if (e->is_link || len < 6 || strcmp(e->key + len - 5, ".json") != 0)
		return 0;
	if (!*last || strcmp(e->key, *last) > 0) {
		char *d = strdup(e->key);
		if (!d)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		free(*last);
		*last = d;
	}
	return 0;
}

int bs_gate_decision_last(struct bs_repo *repo, const char *policy, char **out, struct bs_err *err)
{
	char prefix[128], *key = NULL;
	size_t len;
	int rc;

	*out = NULL;
	snprintf(prefix, sizeof(prefix), "decisions/%s/", policy);
	if (bs_repo_list(repo, prefix, newest, &key, err) != 0) {
		free(key);
		return err->code == BS_ERR_NOT_FOUND ? 0 : -1;
	}
	if (!key)
		return 0;
	rc = bs_repo_get_bytes(repo, key, RECORD_MAX, out, &len, err);
	free(key);
	return rc;
}
