/*
 * rollback.c (command layer) - the rollback verbs (rollback.h,
 * docs/rollback.md).  Strings together: the service's configuration, its
 * ledger (release/ledger.h) under the service's lease, a driver
 * (release/release.h), snap and restore for the database, and probes for
 * verification.
 */
#include "command/rollback.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "catalog/catalog.h"
#include "command/restore.h"
#include "command/setup.h"
#include "command/snap.h"
#include "common/actor.h"
#include "command/event.h"
#include "command/metrics.h"
#include "common/human.h"
#include "common/log.h"
#include "common/progress.h"
#include "probe/probe.h"
#include "release/ledger.h"
#include "release/oci.h"
#include "repo/repo.h"
#include "report/report.h"
#include "restore/restore.h"

/* ---- the service and its repository ------------------------------------------ */

struct svc_env {
	const struct bs_service *svc;
	const struct bs_release_driver *drv;
	struct bs_repo *repo;
	struct bs_repo_lease *lease;
	struct bs_ledger ledger;
	struct bs_release_state st;
	char actor[128];
};

static void env_release(struct svc_env *e)
{
	struct bs_err err;

	bs_err_init(&err);
	bs_release_state_release(&e->st);
	bs_ledger_release(&e->ledger);
	if (e->lease && bs_repo_lease_release(e->lease, &err) < 0)
		bs_warn("%s", err.msg);
	e->lease = NULL;
	bs_repo_close(e->repo);
	e->repo = NULL;
}

static int find_service(const struct bs_rollback_cmd *c, struct svc_env *e, struct bs_err *err)
{
	const struct bs_service_set *s = &c->cfg->services;
	char names[256] = "";

	if ((e->svc = bs_service_find(s, c->service)))
		goto found;
	for (size_t i = 0; i < s->n && strlen(names) + strlen(s->v[i].name) + 3 < sizeof(names); i++)
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", i ? ", " : "", s->v[i].name);
	bs_err_set(err, BS_ERR_CONFIG, "no service '%s' in %s", c->service,
		   c->cfg->config_path ? c->cfg->config_path : "the configuration (no backstop.yaml was found)");
	if (s->n)
		bs_err_hint(err, "the services configured are: %s", names);
	else
		bs_err_hint(err, "describe it under 'services:' (docs/rollback.md)");
	return -1;
found:
	e->drv = bs_release_driver_get(e->svc->driver);
	if (!e->drv)
		return bs_err_set(err, BS_ERR_INTERNAL, "service '%s': no driver", c->service);
	for (size_t i = 0; i < e->svc->nprobes; i++)
		if (!bs_probe_find(&c->cfg->probes, e->svc->probes[i]))
			return bs_err_set(err, BS_ERR_CONFIG, "service '%s' names probe '%s', which 'probes:' does not define",
					  c->service, e->svc->probes[i]);
	bs_actor(c->actor, e->actor, sizeof(e->actor), NULL);
	return e->drv->check(e->svc, err);
}

/* The service's repository becomes the configured one: its ledger, its
 * pre-deploy snapshots and its restores all live there. */
static int open_env(const struct bs_rollback_cmd *c, struct svc_env *e, int lock, struct bs_err *err)
{
	char lease[40];
	int64_t ttl;

	memset(e, 0, sizeof(*e));
	bs_ledger_init(&e->ledger);
	e->st.current = -1;
	if (find_service(c, e, err) < 0)
		return -1;
	/* --repo (or BACKSTOP_REPO) wins over the service's own repository */
	if (e->svc->repository && !c->cfg->repo_chosen && bs_cmd_repo_choose(c->cfg, e->svc->repository, err) < 0)
		return -1;
	if (!c->cfg->repository)
		return bs_err_set(err, BS_ERR_CONFIG, "no repository for the ledger of '%s': set 'repository:' or services.%s.repository",
				  c->service, c->service);
	if (bs_cmd_repo_open(c->cfg, &e->repo, err) < 0)
		return -1;
	if (lock) {
		/* On object stores a lease lives until it expires: long enough for
		 * the driver's command and the verification, renewed between the
		 * steps (local repositories hold it while the process lives). */
		ttl = e->svc->command_timeout_ms + e->svc->verify_timeout_ms + 5 * 60 * 1000;
		if (ttl < BS_REPO_LEASE_TTL_MS)
			ttl = BS_REPO_LEASE_TTL_MS;
		bs_ledger_lease_name(e->svc->name, lease);
		if (bs_repo_lease_acquire(e->repo, lease, BS_REPO_LOCK_EXCLUSIVE, ttl,
					  c->wait_ms > INT32_MAX ? INT32_MAX : (int)c->wait_ms, &e->lease, err) < 0) {
			if (err->code == BS_ERR_LOCKED)
				bs_err_hint(err, "another rollback, record or watch of '%s' is changing it; wait with --wait DURATION",
					    c->service);
			return -1;
		}
	}
	if (bs_ledger_load(e->repo, e->svc->name, &e->ledger, err) < 0 ||
	    bs_release_state_build(&e->ledger, &e->st, err) < 0)
		return -1;
	if (e->ledger.nproblems)
		bs_warn("the release ledger of '%s' fails verification (%zu problem%s; `backstop rollback list %s --verify`): %.*s",
			c->service, e->ledger.nproblems, e->ledger.nproblems == 1 ? "" : "s", c->service,
			(int)strcspn(e->ledger.problems, "\n"), e->ledger.problems);
	return 0;
}

static int append(const struct bs_rollback_cmd *c, struct svc_env *e, struct bs_ledger_record *r, struct bs_err *err)
{
	if (!r->time)
		r->time = time(NULL);
	r->actor = e->actor;
	if (c->reason && !r->reason)
		r->reason = (char *)c->reason;
	return bs_ledger_append(e->repo, &e->ledger, r, err);
}

/* Push the service's lease ahead before a long step; a lease lost
 * meanwhile (taken over after it expired) stops the operation. */
static int renew(struct svc_env *e, struct bs_err *err)
{
	if (e->lease && bs_repo_lease_renew(e->lease, err) < 0)
		return bs_err_prefix(err, "the lease serializing changes of '%s' was lost", e->svc->name);
	return 0;
}

/* What append borrowed is not the record's to free. */
static void record_forget(struct bs_ledger_record *r)
{
	free(r->service);
	memset(r, 0, sizeof(*r));
}

static void short_digest(const char *d, char *out, size_t n)
{
	snprintf(out, n, "%.19s", d && *d ? d : "-");
}

/* ---- hooks ---------------------------------------------------------------------- */

/* A rollback event (docs/config.md, "hooks") with the release in its
 * fields, to the hook at path and the webhooks; any value may be NULL.
 * Returns the hook's result. */
static int run_hook(const struct bs_rollback_cmd *c, const char *path, const char *event, const char *release,
		    const char *digest, const char *from, const char *result, const char *error, struct bs_err *err)
{
	/* a dry run's event is only information: webhooks hear of it only
	 * when they list it */
	enum bs_event_kind kind = strcmp(event, "pre-rollback") == 0	? BS_EVENT_BEFORE
				  : c->dry_run				? BS_EVENT_INFO
				  : result && strcmp(result, "ok") == 0 ? BS_EVENT_SUCCESS
									: BS_EVENT_FAILURE;
	struct bs_event ev;
	int rc;

	bs_event_init(&ev, event, kind);
	bs_event_add(&ev, "SERVICE", "%s", c->service);
	if (c->cfg->repository)
		bs_event_add(&ev, "REPOSITORY", "%s", c->cfg->repository);
	if (release)
		bs_event_add(&ev, "RELEASE", "%s", release);
	if (digest)
		bs_event_add(&ev, "DIGEST", "%s", digest);
	if (from)
		bs_event_add(&ev, "FROM_RELEASE", "%s", from);
	if (result)
		bs_event_add(&ev, "RESULT", "%s", result);
	if (c->reason)
		bs_event_add(&ev, "REASON", "%s", c->reason);
	if (error)
		bs_event_add(&ev, "ERROR", "%s", error);
	rc = bs_cmd_event(c->cfg, path, &ev, 0, err);
	bs_event_release(&ev);
	return rc;
}

/* A hook after the fact: its failure is logged, never changes the outcome. */
static void run_hook_after(const struct bs_rollback_cmd *c, const char *path, const char *event, const char *release,
			   const char *digest, const char *from, const char *result, const char *error)
{
	struct bs_err e;

	bs_err_init(&e);
	if (run_hook(c, path, event, release, digest, from, result, error, &e) < 0)
		bs_warn("%s", e.msg);
}

/* ---- record ------------------------------------------------------------------- */

static int take_snapshot(const struct bs_rollback_cmd *c, const struct bs_service *svc, char id[BS_ID_MAX],
			 time_t *when, struct bs_err *err)
{
	struct bs_snap_request rq;
	struct bs_snap_outcome out;

	if (svc->database && bs_config_set_string(&c->cfg->database, svc->database, err) < 0)
		return -1;
	memset(&rq, 0, sizeof(rq));
	memset(&out, 0, sizeof(out));
	rq.cfg = c->cfg;
	if (bs_cmd_snap(&rq, &out, err) < 0)
		return -1;
	snprintf(id, BS_ID_MAX, "%s", out.rec.id);
	if (when)
		*when = out.rec.start;
	bs_snap_outcome_release(&out);
	return 0;
}

int bs_cmd_rollback_record(const struct bs_rollback_cmd *c, const char *image, int snap, struct bs_err *err)
{
	struct svc_env e;
	struct bs_image_ref ref, own;
	struct bs_ledger_record r;
	char repo_of[BS_IMAGE_MAX], own_repo[BS_IMAGE_MAX], digest[BS_DIGEST_MAX], snap_id[BS_ID_MAX] = "";
	int rc = -1;

	memset(&r, 0, sizeof(r));
	if (bs_image_ref_parse(image, &ref, err) < 0)
		return -1;
	if (open_env(c, &e, 0, err) < 0)
		goto out;
	bs_image_ref_parse(e.svc->image, &own, err);
	bs_image_ref_repo(&ref, repo_of, sizeof(repo_of));
	bs_image_ref_repo(&own, own_repo, sizeof(own_repo));
	if (strcmp(repo_of, own_repo) != 0) {
		bs_err_set(err, BS_ERR_USAGE, "%s is not an image of service '%s' (%s)", image, c->service, own_repo);
		bs_err_hint(err, "record an image of %s, or change services.%s.image", own_repo, c->service);
		goto out;
	}
	if (ref.digest[0])
		snprintf(digest, sizeof(digest), "%s", ref.digest);
	else if (bs_oci_resolve(&e.svc->registry, &ref, digest, err) < 0) {
		bs_err_prefix(err, "unable to resolve %s to a digest", image);
		if (!err->hint[0])
			bs_err_hint(err, "give the digest yourself: %s@sha256:...", repo_of);
		goto out;
	}
	if (c->dry_run && c->json) {
		json_t *o = json_pack("{s:s, s:b, s:s, s:s, s:n, s:b}", "service", c->service, "dry_run", 1, "image",
				      image, "digest", digest, "snapshot", "would_snapshot", snap);
		bs_json_doc_write(o, c->out);
		rc = 0;
		goto out;
	}
	if (c->dry_run) {
		fprintf(c->out, "would record a release of %s: %s@%s%s (--dry-run: nothing recorded)\n", c->service, repo_of,
			digest, snap ? ", after a pre-deploy snapshot of its database" : "");
		rc = 0;
		goto out;
	}
	/* The snapshot first (it takes the repository lease itself), then
	 * the service's lease for the append. */
	if (snap && take_snapshot(c, e.svc, snap_id, NULL, err) < 0) {
		bs_err_prefix(err, "no release recorded: the pre-deploy snapshot failed");
		goto out;
	}
	env_release(&e);
	if (open_env(c, &e, 1, err) < 0)
		goto out;
	r.event = BS_EV_DEPLOY;
	r.image = (char *)image;
	snprintf(r.digest, sizeof(r.digest), "%s", digest);
	r.snapshot = snap_id[0] ? snap_id : NULL;
	r.time = time(NULL);
	bs_catalog_new_id(r.time, r.id);
	r.release = r.id;
	if (append(c, &e, &r, err) < 0)
		goto out;
	if (c->json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s}", "service", c->service, "release", r.id, "image", image,
				      "digest", digest, "snapshot", snap_id[0] ? json_string(snap_id) : json_null(), "actor",
				      e.actor);
		bs_json_doc_write(o, c->out);
	} else {
		fprintf(c->out, "recorded release %s of %s: %s@%s%s%s\n", r.id, c->service, repo_of, digest,
			snap_id[0] ? ", pre-deploy snapshot " : "", snap_id);
	}
	rc = 0;
out:
	r.image = NULL, r.snapshot = NULL, r.release = NULL, r.actor = NULL, r.reason = NULL;
	record_forget(&r);
	env_release(&e);
	return rc;
}

/* ---- list ---------------------------------------------------------------------- */

static json_t *jstr(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

int bs_cmd_rollback_list(const struct bs_rollback_cmd *c, int verify, struct bs_err *err)
{
	struct svc_env e;
	char live[BS_DIGEST_MAX] = "";
	int rc = -1;

	if (open_env(c, &e, 0, err) < 0)
		goto out;
	if (c->json) {
		json_t *o = json_object(), *a = json_array();
		for (size_t i = 0; i < e.st.n; i++) {
			const struct bs_release_info *ri = &e.st.v[e.st.n - 1 - i];
			const struct bs_ledger_record *d = ri->deploy;
			char t[32], label[64];
			bs_time_iso(d->time, t);
			bs_release_state_label(ri, label, sizeof(label));
			json_array_append_new(
				a, json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:b, s:o, s:o}", "id", d->id, "image",
					     d->image, "digest", d->digest, "time", t, "actor", d->actor ? d->actor : "",
					     "snapshot", jstr(d->snapshot), "reason", jstr(d->reason), "state",
					     strcmp(label, "-") ? label : "", "current", ri->current, "mark",
					     jstr(ri->mark == BS_MARK_GOOD ? "known-good" : ri->mark == BS_MARK_BAD ? "bad" : NULL),
					     "mark_reason", jstr(ri->mark_rec ? ri->mark_rec->reason : NULL)));
		}
		json_object_set_new(o, "service", json_string(c->service));
		json_object_set_new(o, "driver", json_string(e.drv->name));
		json_object_set_new(o, "records", json_integer((json_int_t)e.ledger.n));
		json_object_set_new(o, "releases", a);
		if (verify) {
			json_t *p = json_array();
			for (const char *s = e.ledger.problems; s && *s; s += strcspn(s, "\n") + 1)
				json_array_append_new(p, json_stringn(s, strcspn(s, "\n")));
			json_object_set_new(o, "verified", json_boolean(e.ledger.nproblems == 0));
			json_object_set_new(o, "problems", p);
		}
		bs_json_doc_write(o, c->out);
	} else {
		(void)live;
		if (!e.st.n)
			fprintf(c->out, "no releases of %s recorded yet (backstop rollback record %s IMAGE)\n", c->service,
				c->service);
		else
			fprintf(c->out, "%-23s  %-20s  %-19s  %-16s  %-23s  %s\n", "RELEASE", "TIME", "DIGEST", "ACTOR",
				"SNAPSHOT", "STATE");
		for (size_t i = 0; i < e.st.n; i++) {
			const struct bs_release_info *ri = &e.st.v[e.st.n - 1 - i];
			const struct bs_ledger_record *d = ri->deploy;
			char t[32], label[64], dg[24];
			bs_time_iso(d->time, t);
			bs_release_state_label(ri, label, sizeof(label));
			short_digest(d->digest, dg, sizeof(dg));
			fprintf(c->out, "%-23s  %-20s  %-19s  %-16.16s  %-23s  %s\n", d->id, t, dg, d->actor ? d->actor : "-",
				d->snapshot ? d->snapshot : "-", label);
		}
		for (size_t i = 0; i < e.ledger.n; i++) {
			const struct bs_ledger_record *r = &e.ledger.v[i];
			char t[32];
			if (r->event != BS_EV_ROLLBACK && r->event != BS_EV_FORWARD)
				continue;
			bs_time_iso(r->time, t);
			fprintf(c->out, "%s %s by %s: %s -> %s (%s): %s\n", t, bs_ledger_event_name(r->event),
				r->actor ? r->actor : "-", r->from_release ? r->from_release : "?", r->release,
				r->result ? r->result : "?", r->reason ? r->reason : "");
		}
		if (verify) {
			if (e.ledger.nproblems)
				fprintf(c->out, "ledger of %s: %zu record%s, FAILS verification:\n%s", c->service, e.ledger.n,
					e.ledger.n == 1 ? "" : "s", e.ledger.problems);
			else
				fprintf(c->out, "ledger of %s: %zu record%s, chain intact\n", c->service, e.ledger.n,
					e.ledger.n == 1 ? "" : "s");
			if (e.ledger.notes)
				fprintf(c->out, "note: %s", e.ledger.notes);
		}
	}
	rc = verify && e.ledger.nproblems ? 1 : 0;
out:
	env_release(&e);
	return rc;
}

/* ---- mark ---------------------------------------------------------------------- */

int bs_cmd_rollback_mark(const struct bs_rollback_cmd *c, const char *release, int good, struct bs_err *err)
{
	struct svc_env e;
	struct bs_ledger_record r;
	long at;
	int rc = -1;

	memset(&r, 0, sizeof(r));
	if (open_env(c, &e, !c->dry_run, err) < 0)
		goto out;
	if (!release) {
		if (e.st.current < 0) {
			bs_err_set(err, BS_ERR_NOT_FOUND, "'%s' has no current release to mark", c->service);
			goto out;
		}
		at = e.st.current;
	} else if ((at = bs_release_find(&e.st, release, err)) < 0) {
		goto out;
	}
	if (c->dry_run) {
		fprintf(c->out, "would mark release %s of %s %s (--dry-run: nothing recorded)\n", e.st.v[at].deploy->id,
			c->service, good ? "known-good" : "bad");
		rc = 0;
		goto out;
	}
	r.event = good ? BS_EV_GOOD : BS_EV_BAD;
	r.release = (char *)e.st.v[at].deploy->id;
	snprintf(r.digest, sizeof(r.digest), "%s", e.st.v[at].deploy->digest);
	if (append(c, &e, &r, err) < 0)
		goto out;
	if (!c->quiet)
		fprintf(c->out, "release %s of %s marked %s\n", e.st.v[at].deploy->id, c->service, good ? "known-good" : "bad");
	rc = 0;
out:
	r.release = NULL, r.actor = NULL, r.reason = NULL;
	record_forget(&r);
	env_release(&e);
	return rc;
}

/* ---- verification: the service's probes ------------------------------------- */

static int open_repo_cb(void *ud, const char *repository, struct bs_repo **out, struct bs_err *err)
{
	return bs_cmd_repo_open_named(ud, repository, out, err);
}

/* The service's probes, and their state across rounds (probe/probe.h:
 * failure and success thresholds, outages). */
struct probing {
	const struct bs_probe **v;
	struct bs_probe_result *res;
	struct bs_probe_watch *w;
	size_t n;
	double t0;
};

static int probing_init(struct probing *p, const struct bs_rollback_cmd *c, const struct bs_service *svc,
			struct bs_err *err)
{
	memset(p, 0, sizeof(*p));
	p->n = svc->nprobes;
	p->v = calloc(p->n, sizeof(*p->v));
	p->res = calloc(p->n, sizeof(*p->res));
	p->w = calloc(p->n, sizeof(*p->w));
	if (!p->v || !p->res || !p->w)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < p->n; i++) {
		p->v[i] = bs_probe_find(&c->cfg->probes, svc->probes[i]);
		bs_probe_watch_init(&p->w[i]);
	}
	p->t0 = bs_now();
	return 0;
}

static void probing_release(struct probing *p)
{
	free(p->v), free(p->res), free(p->w);
	memset(p, 0, sizeof(*p));
}

/* One round: 1 every probe is up (after its thresholds), 0 not, -1 the
 * round could not run.  why gets the failing probes' reasons;
 * *outage_s the longest current outage. */
static int probing_round(struct probing *p, const struct bs_rollback_cmd *c, char *why, size_t whyn, double *outage_s,
			 struct bs_err *err)
{
	struct bs_probe_round_opts o = { .open_repo = open_repo_cb, .open_repo_ud = c->cfg, .cancel = c->cancel };
	int up = 1;

	if (bs_probe_round(p->v, p->n, &c->cfg->probes.settings, &o, p->res, err) < 0)
		return -1;
	why[0] = 0;
	*outage_s = 0;
	for (size_t i = 0; i < p->n; i++) {
		bs_probe_watch_step(&p->w[i], p->v[i], &p->res[i], bs_now() - p->t0);
		if (p->res[i].state != BS_STATE_OK && p->res[i].state != BS_STATE_WARN)
			snprintf(why + strlen(why), whyn - strlen(why), "%s%s: %s", why[0] ? "; " : "", p->v[i]->name,
				 p->res[i].reason);
		if (!p->w[i].up)
			up = 0;
		if (p->w[i].outage_s > *outage_s)
			*outage_s = p->w[i].outage_s;
	}
	return up;
}

/* Probe until every probe is up or the timeout: 1 healthy, 0 not. */
static int verify_healthy(const struct bs_rollback_cmd *c, const struct bs_service *svc, char *why, size_t whyn,
			  struct bs_err *err)
{
	double end = bs_now() + (double)svc->verify_timeout_ms / 1000.0, outage;
	int64_t interval = c->cfg->probes.settings.interval_ms > 0 ? c->cfg->probes.settings.interval_ms : 10000;
	struct probing p;
	int ok;

	if (interval > 5000)
		interval = 5000;
	if (probing_init(&p, c, svc, err) < 0) {
		probing_release(&p);
		return -1;
	}
	for (;;) {
		double t = bs_now();
		if ((ok = probing_round(&p, c, why, whyn, &outage, err)) != 0)
			break;
		if (t + (double)interval / 1000.0 > end || (c->cancel && *c->cancel))
			break;
		bs_sleep_until(t + (double)interval / 1000.0, c->cancel);
	}
	probing_release(&p);
	return ok;
}

/* ---- to ------------------------------------------------------------------------- */

static int confirm(const struct bs_rollback_cmd *c, const struct bs_rollback_to *o, struct bs_err *err)
{
	char line[64];

	if (o->yes || o->automatic)
		return 0;
	if (!isatty(0)) {
		bs_err_set(err, BS_ERR_REFUSED, "not rolling back without confirmation: nothing was changed");
		bs_err_hint(err, "read the plan with --dry-run, then run again with --yes");
		return -1;
	}
	fprintf(stderr, "Roll %s back as planned above? Type the service name to go on: ", c->service);
	fflush(stderr);
	if (!fgets(line, sizeof(line), stdin) || (line[strcspn(line, "\n")] = 0, strcmp(line, c->service) != 0))
		return bs_err_set(err, BS_ERR_REFUSED, "not confirmed: nothing was changed");
	return 0;
}

struct db_part {
	const char *snapshot;        /* the one to restore */
	time_t snapshot_time;
	const char *ran;             /* the release that ran when it was taken, when not the target */
	char safety[BS_ID_MAX];      /* the current database's snapshot, taken first */
	char kept[256];              /* the replaced database's new name */
	char dbname[256];
};

static int snapshot_time(const struct bs_rollback_cmd *c, struct bs_repo *repo, const char *id, time_t *t,
			 struct bs_err *err)
{
	struct bs_catalog cat;
	const struct bs_snap_record *rec;
	int rc = -1;

	bs_catalog_init(&cat);
	if (bs_catalog_load(repo, NULL, &cat, err) < 0)
		goto out;
	if (!(rec = bs_catalog_find(&cat, id, 0, err))) {
		bs_err_prefix(err, "the pre-deploy snapshot is not in the repository (pruned?)");
		goto out;
	}
	*t = rec->start;
	rc = 0;
out:
	bs_catalog_release(&cat);
	return rc;
}

static int restore_db(const struct bs_rollback_cmd *c, const struct bs_service *svc, const struct bs_rollback_to *o,
		      struct db_part *db, struct bs_err *err)
{
	struct bs_restore_opts eng;
	struct bs_restore_result res;
	struct bs_restore_request rq;
	struct bs_snap_record rec;
	const char *target = svc->database ? svc->database : c->cfg->database;
	char *text = NULL;
	int rc;

	memset(&eng, 0, sizeof(eng));
	memset(&rq, 0, sizeof(rq));
	bs_snap_record_init(&rec);
	bs_restore_result_init(&res);
	eng.target = target;
	eng.clean = 1;                 /* into a new database, swapped in when complete */
	eng.terminate_sessions = 1;    /* the service's own sessions end at the swap */
	eng.jobs = bs_cmd_jobs(c->cfg->restore.jobs);
	eng.pg_bindir = c->cfg->snap.pg_bindir;
	rq.cfg = c->cfg;
	rq.spec = db->snapshot;
	rq.identity_file = o->identity_file;
	rq.engine = &eng;
	rc = bs_cmd_restore(&rq, &rec, &res, &text, err);
	free(text);
	snprintf(db->kept, sizeof(db->kept), "%s", res.replaced);
	snprintf(db->dbname, sizeof(db->dbname), "%s", res.database);
	bs_restore_result_release(&res);
	bs_snap_record_release(&rec);
	return rc;
}

int bs_cmd_rollback_to(const struct bs_rollback_cmd *c, const struct bs_rollback_to *o, struct bs_err *err)
{
	struct svc_env e;
	struct bs_release_ctx ctx;
	struct bs_release_change plan, done;
	struct bs_release_target to;
	struct bs_ledger_record r;
	struct db_part db;
	struct bs_image_ref ref;
	const struct bs_release_info *from = NULL, *tgt;
	char live[BS_DIGEST_MAX] = "", repo_of[BS_IMAGE_MAX], why[1024] = "", t[32];
	long at;
	int rc = -1, healthy = 1, forward, interrupted = 0;
	double t0 = bs_now();

	memset(&r, 0, sizeof(r));
	memset(&db, 0, sizeof(db));
	memset(&plan, 0, sizeof(plan));
	memset(&done, 0, sizeof(done));
	if (!o->dry_run && (!c->reason || !*c->reason)) {
		bs_err_set(err, BS_ERR_USAGE, "a rollback needs a reason: --reason TEXT (it goes into the ledger)");
		return -1;
	}
	if (open_env(c, &e, !o->dry_run, err) < 0)
		goto out;
	if ((at = bs_release_target(&e.st, o->to, o->force, err)) < 0)
		goto out;
	tgt = &e.st.v[at];
	if (e.st.current >= 0)
		from = &e.st.v[e.st.current];
	forward = from && at > e.st.current;
	if (bs_image_ref_parse(tgt->deploy->image, &ref, err) < 0) {
		struct bs_err e2 = *err;
		bs_err_set(err, BS_ERR_FORMAT, "release %s in the ledger has a malformed image: %s", tgt->deploy->id, e2.msg);
		goto out;
	}
	bs_image_ref_repo(&ref, repo_of, sizeof(repo_of));
	to.image = repo_of;
	to.digest = tgt->deploy->digest;
	to.release = tgt->deploy->id;
	memset(&ctx, 0, sizeof(ctx));
	ctx.svc = e.svc;
	ctx.expect_digest = from ? from->deploy->digest : NULL;
	ctx.cancel = c->cancel;
	if (e.drv->current(&ctx, live, err) < 0)
		goto out;
	if (o->with_db && forward && !o->snapshot) {
		bs_err_set(err, BS_ERR_REFUSED, "--with-db on a roll-forward: the current release's pre-deploy snapshot is older than release %s's schema",
			   tgt->deploy->id);
		bs_err_hint(err, "name the snapshot to restore with --snapshot ID, or roll forward without --with-db");
		goto out;
	}
	if (o->with_db) {
		/* The snapshot taken before the release being left was deployed:
		 * the database as it was before that release's migrations. */
		db.snapshot = o->snapshot ? o->snapshot : from ? from->deploy->snapshot : NULL;
		if (!db.snapshot) {
			bs_err_set(err, BS_ERR_NOT_FOUND, "--with-db: the current release %s has no pre-deploy snapshot",
				   from ? from->deploy->id : "(none recorded)");
			bs_err_hint(err, "record releases with `rollback record --snap`, or name a snapshot with --snapshot ID");
			goto out;
		}
		if (!o->snapshot && from->before >= 0 && from->before != at)
			db.ran = e.st.v[from->before].deploy->id;
		if (!e.svc->database && !c->cfg->database) {
			bs_err_set(err, BS_ERR_CONFIG, "--with-db: no database for '%s': set services.%s.database or 'database:'",
				   c->service, c->service);
			goto out;
		}
		if (snapshot_time(c, e.repo, db.snapshot, &db.snapshot_time, err) < 0)
			goto out;
	}
	/* the plan */
	ctx.dry_run = 1;
	if (e.drv->apply(&ctx, &to, &plan, err) < 0)
		goto out;
	if (c->json && o->dry_run) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:b, s:o, s:o, s:s, s:s, s:s, s:o, s:o, s:o, s:b}", "service", c->service,
				      "event", bs_ledger_event_name(forward ? BS_EV_FORWARD : BS_EV_ROLLBACK), "driver", e.drv->name,
				      "dry_run", 1, "from", jstr(from ? from->deploy->id : NULL), "from_digest",
				      jstr(from ? from->deploy->digest : NULL), "to", tgt->deploy->id, "digest", tgt->deploy->digest,
				      "change", plan.detail, "warning", jstr(plan.warning), "live_digest", jstr(live),
				      "snapshot", jstr(o->with_db ? db.snapshot : NULL), "verify", e.svc->nprobes && !o->no_verify);
		bs_json_doc_write(j, c->out);
	}
	{
		FILE *f = c->json ? stderr : c->out;
		char dg[24];
		fprintf(f, "%s of %s (%s driver)%s\n", forward ? "roll-forward" : "rollback", c->service, e.drv->name,
			o->dry_run ? ": plan, nothing changed (--dry-run)" : "");
		short_digest(from ? from->deploy->digest : NULL, dg, sizeof(dg));
		fprintf(f, "  from: %s %s%s\n", from ? from->deploy->id : "(no current release recorded)", from ? from->deploy->digest : "",
			"");
		if (live[0] && from && strcmp(live, from->deploy->digest))
			fprintf(f, "  live: %s (the platform runs another digest than the ledger's current)\n", live);
		bs_time_iso(tgt->deploy->time, t);
		fprintf(f, "  to:   %s %s (%s, deployed %s by %s)\n", tgt->deploy->id, tgt->deploy->digest,
			tgt->mark == BS_MARK_GOOD ? "known-good" : tgt->mark == BS_MARK_BAD ? "BAD" : "not verified", t,
			tgt->deploy->actor ? tgt->deploy->actor : "?");
		for (const char *l = plan.detail, *first = l; *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] ? 1 : 0))
			fprintf(f, "  %s%.*s\n", l == first ? "change: " : "        ", (int)strcspn(l, "\n"), l);
		if (plan.warning[0])
			fprintf(f, "  warning: %s\n", plan.warning);
		if (o->with_db) {
			char age[64];
			bs_human_ms((int64_t)(time(NULL) - db.snapshot_time) * 1000, age, sizeof(age));
			bs_time_iso(db.snapshot_time, t);
			fprintf(f, "  database: snap the current database first, then restore snapshot %s (taken %s, %s ago)\n"
				   "            into a new database and swap it in; the current one is kept under a new name;\n"
				   "            sessions on it are ended at the swap.  WRITES SINCE %s WILL NOT BE IN IT.\n",
				db.snapshot, t, age, t);
			if (db.ran)
				fprintf(f, "  warning: that snapshot was taken while release %s ran, not the target\n", db.ran);
		}
		fprintf(f, "  verify: %s\n", e.svc->nprobes && !o->no_verify ? "the service's probes until they pass" : "none (no probes)");
	}
	if (o->dry_run) {
		rc = 0;
		goto out;
	}
	if (confirm(c, o, err) < 0)
		goto out;
	if (run_hook(c, c->cfg->hooks.pre_rollback, "pre-rollback", tgt->deploy->id, tgt->deploy->digest,
		     from ? from->deploy->id : NULL, NULL, NULL, err) < 0) {
		bs_err_prefix(err, "the pre_rollback hook stopped the rollback; nothing was changed");
		goto out;
	}

	r.event = forward ? BS_EV_FORWARD : BS_EV_ROLLBACK;
	r.release = (char *)tgt->deploy->id;
	r.image = repo_of;
	snprintf(r.digest, sizeof(r.digest), "%s", tgt->deploy->digest);
	r.from_release = from ? (char *)from->deploy->id : NULL;
	snprintf(r.from_digest, sizeof(r.from_digest), "%s", from ? from->deploy->digest : live);
	r.driver = (char *)e.drv->name;
	r.time = time(NULL);

	if (o->with_db) {
		if (take_snapshot(c, e.svc, db.safety, NULL, err) < 0) {
			bs_err_prefix(err, "the safety snapshot of the current database failed; nothing was changed");
			goto record_failed;
		}
		r.safety_snapshot = db.safety;
		bs_info("safety snapshot of the current database: %s", db.safety);
		if (c->cancel && *c->cancel) {
			bs_err_set(err, BS_ERR_INTERRUPTED, "interrupted after the safety snapshot %s; nothing was changed", db.safety);
			goto record_failed;
		}
		if (renew(&e, err) < 0)
			goto record_failed;
		if (restore_db(c, e.svc, o, &db, err) < 0) {
			bs_err_prefix(err, "the database restore failed; the current database is untouched and the image was not changed");
			goto record_failed;
		}
		r.snapshot = (char *)db.snapshot;
		r.db_kept = db.kept[0] ? db.kept : NULL;
		bs_info("database %s restored from %s; the replaced one is kept as %s", db.dbname, db.snapshot, db.kept);
	}
	if (c->cancel && *c->cancel)
		bs_err_set(err, BS_ERR_INTERRUPTED, "interrupted before the image was changed");
	if ((c->cancel && *c->cancel) || renew(&e, err) < 0) {
		if (o->with_db)
			bs_err_prefix(err, "the database WAS restored (the previous one is kept as %s), but the image was not changed",
				      db.kept);
		goto record_failed;
	}
	ctx.dry_run = 0;
	if (e.drv->apply(&ctx, &to, &done, err) < 0) {
		if (o->with_db)
			bs_err_prefix(err, "the database WAS restored (the previous one is kept as %s), but the image was not changed",
				      db.kept);
		goto record_failed;
	}
	r.detail = done.detail;
	r.kept = done.kept[0] ? done.kept : NULL;
	if (done.warning[0])
		bs_warn("%s", done.warning);
	if (e.svc->nprobes && !o->no_verify) {
		struct bs_err verr;
		bs_err_init(&verr);
		/* The service has moved: whatever the probes say now, the record
		 * says so (an error of the probes is not a failed rollback). */
		if (renew(&e, &verr) < 0 || (healthy = verify_healthy(c, e.svc, why, sizeof(why), &verr)) < 0) {
			healthy = 0;
			snprintf(why, sizeof(why), "%s", verr.msg);
		}
		if (c->cancel && *c->cancel) {
			interrupted = 1;
			snprintf(why, sizeof(why), "interrupted before the probes passed");
		}
	}
	r.result = interrupted ? "interrupted" : healthy ? "ok" : "unhealthy";
	{
		struct bs_err aerr;
		bs_err_init(&aerr);
		if (append(c, &e, &r, &aerr) < 0) {
			*err = aerr;
			bs_err_prefix(err, "the service WAS moved to %s, but the ledger could not record it", tgt->deploy->id);
			goto out;
		}
	}
	if (c->json) {
		json_t *j = json_pack("{s:s, s:s, s:o, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "service", c->service,
				      "event", bs_ledger_event_name(r.event), "from", jstr(r.from_release), "to", r.release,
				      "digest", r.digest, "result", r.result, "detail", done.detail, "kept", jstr(r.kept),
				      "snapshot", jstr(r.snapshot), "safety_snapshot", jstr(r.safety_snapshot), "db_kept",
				      jstr(r.db_kept), "unhealthy", jstr(healthy ? NULL : why));
		bs_json_doc_write(j, c->out);
	} else {
		fprintf(c->out, "%s %s to release %s (%s): %s\n", c->service, forward ? "rolled forward" : "rolled back",
			tgt->deploy->id, tgt->deploy->digest, healthy ? (e.svc->nprobes && !o->no_verify ? "healthy" : "not verified (no probes)") : "UNHEALTHY");
		for (const char *l = done.detail; *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] ? 1 : 0))
			fprintf(c->out, "  %.*s\n", (int)strcspn(l, "\n"), l);
		if (done.kept[0])
			fprintf(c->out, "kept to go back: %s\n", done.kept);
		if (o->with_db)
			fprintf(c->out, "database restored from %s; the previous one is kept as %s; safety snapshot %s\n",
				db.snapshot, db.kept, db.safety);
	}
	if (!healthy)
		bs_log(BS_LOG_ERROR, "%s is not healthy after the %s: %s", c->service, forward ? "roll-forward" : "rollback", why);
	run_hook_after(c, c->cfg->hooks.post_rollback, "post-rollback", r.release, r.digest, r.from_release, r.result,
		       healthy ? NULL : why);
	if (interrupted) {
		bs_err_set(err, BS_ERR_INTERRUPTED, "%s was moved to release %s, but interrupted before its probes passed",
			   c->service, tgt->deploy->id);
		goto out;
	}
	rc = healthy ? 0 : 1;
	goto out;

record_failed : {
	/* The attempt is part of the audit trail too. */
	struct bs_err aerr;
	bs_err_init(&aerr);
	r.result = "failed";
	r.detail = err->msg;
	if (append(c, &e, &r, &aerr) < 0)
		bs_warn("the failed attempt could not be recorded in the ledger: %s", aerr.msg);
	run_hook_after(c, c->cfg->hooks.post_rollback, "post-rollback", r.release, r.digest, r.from_release, "failed",
		       err->msg);
	rc = -1;
}
out:
	if (r.release) /* attempted (confirmed, past pre_rollback): every attempt post_rollback hears of */
		bs_cmd_metrics_rollback(c->cfg, &(struct bs_rollback_metrics){ .service = e.svc->name,
					.release = r.release, .rc = rc, .result = r.result, .seconds = bs_now() - t0 }, NULL);
	r.release = NULL, r.image = NULL, r.from_release = NULL, r.driver = NULL, r.detail = NULL, r.kept = NULL;
	r.snapshot = NULL, r.safety_snapshot = NULL, r.db_kept = NULL, r.result = NULL, r.actor = NULL, r.reason = NULL;
	record_forget(&r);
	env_release(&e);
	return rc;
}

/* ---- watch ---------------------------------------------------------------------- */

int bs_cmd_rollback_watch(const struct bs_rollback_cmd *c, const struct bs_rollback_watch *o, struct bs_err *err)
{
	struct svc_env e;
	struct bs_ledger_record r;
	char id[BS_ID_MAX] = "", why[1024] = "", lim[64], dur[64];
	int64_t interval = o->interval_ms > 0 ? o->interval_ms : c->cfg->probes.settings.interval_ms;
	int64_t limit = o->outage_limit_ms > 0			      ? o->outage_limit_ms
			: c->cfg->probes.settings.outage_limit_ms > 0 ? c->cfg->probes.settings.outage_limit_ms
								      : 5 * 60 * 1000;
	struct probing p = { 0 };
	double longest = 0;
	size_t rounds = 0, failed = 0;
	int rc = -1, exceeded = 0, down = 0;

	memset(&r, 0, sizeof(r));
	if (interval <= 0)
		interval = 10000;
	if (open_env(c, &e, 0, err) < 0)
		goto out;
	if (!e.svc->nprobes) {
		bs_err_set(err, BS_ERR_CONFIG, "watch needs probes: service '%s' names none (services.%s.probes)", c->service,
			   c->service);
		goto out;
	}
	if (o->release) {
		long at = bs_release_find(&e.st, o->release, err);
		if (at < 0)
			goto out;
		if (at != e.st.current) {
			bs_err_set(err, BS_ERR_REFUSED, "release %s is not the current release of '%s': its probes say nothing about it",
				   e.st.v[at].deploy->id, c->service);
			goto out;
		}
		snprintf(id, sizeof(id), "%s", e.st.v[at].deploy->id);
	} else if (e.st.current >= 0) {
		snprintf(id, sizeof(id), "%s", e.st.v[e.st.current].deploy->id);
	} else {
		bs_err_set(err, BS_ERR_NOT_FOUND, "'%s' has no release recorded to watch", c->service);
		bs_err_hint(err, "record the deploy first: backstop rollback record %s IMAGE", c->service);
		goto out;
	}
	env_release(&e);
	bs_human_ms(limit, lim, sizeof(lim));
	bs_human_ms(o->for_ms, dur, sizeof(dur));
	if (!c->quiet)
		fprintf(c->out, "watching %s release %s for %s (outage limit %s)\n", c->service, id, dur, lim);
	fflush(c->out);
	if (probing_init(&p, c, e.svc, err) < 0)
		goto out;
	while (bs_now() - p.t0 < (double)o->for_ms / 1000.0) {
		double t = bs_now(), outage;
		int ok;
		if (c->cancel && *c->cancel) {
			bs_err_set(err, BS_ERR_INTERRUPTED, "watch interrupted after %zu rounds: the release was not marked", rounds);
			goto out;
		}
		if ((ok = probing_round(&p, c, why, sizeof(why), &outage, err)) < 0)
			goto out;
		rounds++;
		failed += why[0] != 0;
		if (!ok && !down) {
			down = 1;
			bs_warn("%s is down: %s", c->service, why);
		} else if (ok && down) {
			down = 0;
			bs_info("%s is up again", c->service);
		}
		if (outage > longest)
			longest = outage;
		if (outage * 1000.0 >= (double)limit) {
			exceeded = 1;
			break;
		}
		bs_sleep_until(t + (double)interval / 1000.0, c->cancel);
	}
	if (!exceeded && down) {
		bs_log(BS_LOG_ERROR, "%s release %s was still down when the watch ended (under the limit %s): not marked: %s",
		       c->service, id, lim, why);
		rc = 1;
		goto out;
	}
	if (exceeded)
		run_hook_after(c, c->cfg->hooks.release_bad, "release-bad", id, NULL, NULL,
			       c->dry_run ? "bad (dry run)" : o->automatic ? "rolling back" : "bad", why);
	if (c->dry_run) {
		fprintf(c->out, "%s release %s %s (--dry-run: not marked%s)\n", c->service, id,
			exceeded ? "was down past the outage limit: it would be marked bad" : "stayed healthy: it would be marked known-good",
			exceeded && o->automatic ? ", not rolled back" : "");
		rc = exceeded ? 1 : 0;
		goto out;
	}
	{
		/* the verdict is worth waiting a minute for the lease */
		struct bs_rollback_cmd cw = *c;
		if (cw.wait_ms < 60000)
			cw.wait_ms = 60000;
		if (open_env(&cw, &e, 1, err) < 0)
			goto out;
	}
	if (e.st.current < 0 || strcmp(e.st.v[e.st.current].deploy->id, id) != 0) {
		bs_warn("the current release of %s changed while watching: release %s not marked", c->service, id);
		rc = exceeded ? 1 : 0;
		goto out;
	}
	r.event = exceeded ? BS_EV_BAD : BS_EV_GOOD;
	r.release = id;
	snprintf(r.digest, sizeof(r.digest), "%s", e.st.v[e.st.current].deploy->digest);
	{
		char reason[1400];
		if (exceeded)
			snprintf(reason, sizeof(reason), "watch: down for %s or more (limit %s): %s", lim, lim, why);
		else
			snprintf(reason, sizeof(reason), "watch: healthy for %s (%zu rounds, %zu failed, longest outage %.0fs)", dur,
				 rounds, failed, longest);
		r.reason = reason;
		if (append(c, &e, &r, err) < 0) {
			r.reason = NULL;
			goto out;
		}
		r.reason = NULL;
	}
	if (!exceeded) {
		if (!c->quiet)
			fprintf(c->out, "release %s of %s stayed healthy for %s: marked known-good\n", id, c->service, dur);
		rc = 0;
		goto out;
	}
	bs_log(BS_LOG_ERROR, "%s release %s has been down for %s (limit %s): marked bad: %s", c->service, id, lim, lim, why);

	env_release(&e);
	if (o->automatic) {
		struct bs_rollback_cmd rc2 = *c;
		struct bs_rollback_to to = { .automatic = 1 };
		char reason[1400];
		snprintf(reason, sizeof(reason), "watch --auto: release %s down for %s or more: %s", id, lim, why);
		rc2.reason = reason;
		if (bs_cmd_rollback_to(&rc2, &to, err) < 0) {
			bs_err_prefix(err, "the automatic rollback failed");
			goto out;
		}
	}
	rc = 1;
out:
	if (!c->dry_run && p.t0 > 0) /* it probed */
		bs_cmd_metrics_rollback_watch(c->cfg, &(struct bs_rollback_watch_metrics){ .service = c->service,
					      .release = id, .verdict = exceeded ? "bad" : rc < 0 ? "error" : down ? "down" : "good",
					      .seconds = bs_now() - p.t0, .outage_seconds = longest, .rounds = rounds,
					      .failed_rounds = failed }, NULL);
	probing_release(&p);
	r.release = NULL, r.actor = NULL, r.reason = NULL;
	record_forget(&r);
	env_release(&e);
	return rc;
}
