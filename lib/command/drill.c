/*
 * drill.c - verify-restore: restore drills and archive checks.
 *
 * A full drill, step by step:
 *   repository + catalog -> snapshot -> scratch server (maintenance
 *   connection) -> drop stale drill databases -> claim a scratch name (lock)
 *   -> [RTO clock starts] keys -> open + decrypt the archive -> restore into
 *   a new database (the restore engine's create mode) -> verify against the
 *   manifest -> smoke queries [RTO clock stops] -> limits -> drop the scratch
 *   database (unless --keep) -> record the drill in the catalog.
 * An archive check: repository + catalog -> snapshot -> keys -> open +
 *   decrypt -> stream and check every member -> record it if it failed.
 * A re-verification: like a full drill, but adopts an existing drill
 *   database instead of restoring, and records nothing.
 *
 * Failures of the backup itself (damaged archive, mismatching data, failed
 * index builds, smoke queries, limits) are findings; a drill that cannot
 * run (scratch server down, wrong key) is a report with could_not_run.
 */
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "command/keys.h"
#include "command/setup.h"
#include "command/drill.h"
#include "command/metrics.h"
#include "common/escape.h"
#include "command/event.h"
#include "common/hook.h"
#include "common/human.h"
#include "common/log.h"
#include "pg/conn.h"
#include "report/report.h"
#include "restore/restore.h"

void bs_drill_outcome_release(struct bs_drill_outcome *o)
{
	size_t i;

	if (!o)
		return;
	for (i = 0; i < o->n; i++)
		bs_drill_report_release(&o->reports[i]);
	free(o->reports);
	o->reports = NULL;
	o->n = 0;
}

/* The drill cannot run: keep the cause in the report. */
static void cannot_run(struct bs_drill_report *r, const struct bs_err *e)
{
	r->could_not_run = 1;
	r->error = *e;
	bs_log(BS_LOG_ERROR, "the drill of snapshot %s could not run: %s", r->snapshot, e->msg);
}

/* Errors about the user's keys and settings stop everything (exit 2). */
static int is_setup_error(const struct bs_err *e)
{
	return e->code == BS_ERR_CONFIG || e->code == BS_ERR_USAGE || e->code == BS_ERR_SECRET_PERM ||
	       e->code == BS_ERR_REFUSED || e->code == BS_ERR_POLICY;
}

/* An error from reading the archive: damage (a finding) or not? */
static int is_damage(const struct bs_err *e)
{
	/* a key that opens nothing is BS_ERR_NO_IDENTITY: the drill cannot run */
	return e->code == BS_ERR_FORMAT || e->code == BS_ERR_VERIFY || e->code == BS_ERR_CRYPTO;
}

static void add_err_finding(struct bs_drill_report *r, const char *area, const struct bs_err *e)
{
	if (e->detail[0])
		bs_drill_report_add(r, area, NULL, "%s (%s)", e->msg, e->detail);
	else
		bs_drill_report_add(r, area, NULL, "%s", e->msg);
}

struct drill_ctx {
	const struct bs_drill_request *rq;
	struct bs_repo *repo;
	int jobs;
	int64_t grace_ms;
};

/* step: keys, archive stream (timed) */
static int open_stream(struct drill_ctx *dc, const struct bs_snap_record *rec, struct bs_drill_report *r,
		       struct bs_rstream **in, struct bs_archive_expect *x, struct bs_err *err)
{
	struct bs_age_identities *ids = NULL;
	struct bs_rstream *raw = NULL;
	struct bs_err e;

	*in = NULL;
	bs_err_init(&e);
	if (rec->encrypted && bs_keys_identities(dc->rq->cfg, dc->rq->identity_file, rec, &ids, &e) < 0) {
		if (is_setup_error(&e)) {
			*err = e;
			return -1;
		}
		cannot_run(r, &e);
		return 0;
	}
	if (bs_open_archive(dc->repo, rec, ids, &raw, x, &e) < 0) {
		bs_age_identities_free(ids);
		if (is_damage(&e)) {
			add_err_finding(r, BS_DRILL_AREA_ARCHIVE, &e);
			return 0;
		}
		if (e.code == BS_ERR_NO_IDENTITY)
			bs_err_hint(&e, "pass the identity whose recipient the snapshot was encrypted to "
					"(--identity FILE); 'backstop snap show %s' lists its recipients",
				    rec->id);
		cannot_run(r, &e);
		return 0;
	}
	bs_age_identities_free(ids);
	*in = bs_drill_timed_stream(raw, &r->t_fetch);
	if (!*in)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	return 0;
}

static void apply_limits(struct bs_drill_report *r)
{
	char a[32], b[32];

	if (r->max_rto_ms && r->rto_ms > r->max_rto_ms) {
		bs_human_ms(r->rto_ms, a, sizeof(a));
		bs_human_ms(r->max_rto_ms, b, sizeof(b));
		bs_drill_report_add(r, BS_DRILL_AREA_LIMIT, "max_rto", "RTO %s exceeds the limit of %s", a, b);
	}
	if (r->max_snapshot_age_ms && r->rpo_ms > r->max_snapshot_age_ms) {
		bs_human_ms(r->rpo_ms, a, sizeof(a));
		bs_human_ms(r->max_snapshot_age_ms, b, sizeof(b));
		bs_drill_report_add(r, BS_DRILL_AREA_LIMIT, "max_snapshot_age",
				    "the snapshot is %s old at drill time, the limit is %s", a, b);
	}
}

/* ---- archive-only ----------------------------------------------------------- */

static int run_archive(struct drill_ctx *dc, const struct bs_snap_record *rec, struct bs_drill_report *r,
		       struct bs_err *err)
{
	struct bs_rstream *in = NULL;
	struct bs_archive_expect x;
	struct bs_progress prog;
	int rc;

	bs_progress_init(&prog, "check");
	if (open_stream(dc, rec, r, &in, &x, err) < 0)
		return -1;
	if (!in)
		return 0;
	bs_info("checking the archive of snapshot %s (%s)", rec->id, rec->encrypted ? "encrypted" : "unencrypted");
	bs_progress_start(&prog, dc->rq->progress);
	rc = bs_drill_archive_check(in, &x, dc->jobs, &prog, r, NULL, err);
	bs_progress_stop(&prog);
	bs_rstream_free(in);
	r->archive_bytes = rec->bytes;
	return rc;
}

/* ---- full drill and re-verification --------------------------------------- */

/* After a restore that stopped at damage in the archive: read the whole
 * archive once more, without a database, so that the report names every
 * damaged member and table, not only the first. */
static int check_damage(struct drill_ctx *dc, const struct bs_snap_record *rec, struct bs_drill_report *r,
			struct bs_err *err)
{
	struct bs_rstream *in = NULL;
	struct bs_archive_expect x;
	double fetch = r->t_fetch;
	int rc;

	bs_info("the restore stopped at damage in the archive; checking the whole archive");
	if (open_stream(dc, rec, r, &in, &x, err) < 0)
		return -1;
	if (!in)
		return 0;
	r->chunks = r->rows = r->raw_bytes = 0;
	rc = bs_drill_archive_check(in, &x, dc->jobs, NULL, r, NULL, err);
	bs_rstream_free(in);
	r->t_fetch = fetch;
	return rc;
}

/* Is the scratch server still there?  Decides whether a failed restore is a
 * finding (it is up: the backup is at fault) or a drill that could not run. */
static int server_up(const struct bs_drill_scratch *s)
{
	struct bs_err e;
	PGconn *c = NULL;

	bs_err_init(&e);
	if (bs_pg_connect(s->server, NULL, &c, &e) < 0)
		return 0;
	PQfinish(c);
	return 1;
}

/* Steps after the restore: verify the scratch database against the
 * manifest, then the policy's smoke queries; the RTO ends here.  A failure
 * to run is recorded in r (0); -1 only when out of memory. */
static int verify_and_smoke(struct drill_ctx *dc, struct bs_drill_scratch *sc, const struct bs_manifest *m,
			    struct bs_drill_report *r, double t_rto, struct bs_progress *prog, struct bs_err *err)
{
	const struct bs_drill_request *rq = dc->rq;
	struct bs_drill_verify_opts vo = { sc->target, m, dc->jobs, prog };
	struct bs_err e;
	double t = bs_now();

	bs_info("verifying %zu tables, %zu sequences, %zu large objects and %zu schema objects", m->ntables,
		m->nseqs, m->nblobs, m->ninv);
	bs_progress_init(prog, "verify");
	bs_progress_start(prog, rq->progress);
	bs_err_init(&e);
	if (bs_drill_verify(&vo, r, &e) < 0) {
		bs_progress_stop(prog);
		r->t_verify = bs_now() - t;
		if (e.code == BS_ERR_NOMEM) {
			*err = e;
			return -1;
		}
		cannot_run(r, &e);
		return 0;
	}
	bs_progress_stop(prog);
	r->t_verify = bs_now() - t;
	bs_debug("drill: verify: %.3f s", r->t_verify);

	t = bs_now();
	bs_err_init(&e);
	if (bs_drill_smoke(sc->target, rq->policy, r, &e) < 0) {
		if (e.code == BS_ERR_NOMEM) {
			*err = e;
			return -1;
		}
		cannot_run(r, &e);
		return 0;
	}
	r->t_smoke = bs_now() - t;
	if (!rq->reverify)
		r->rto_ms = (int64_t)((bs_now() - t_rto) * 1000.0 + 0.5);
	return 0;
}

/* The last step, also after findings or errors: drop the scratch
 * database, or keep it (--keep), marked so that the next drill leaves it. */
static void dispose_scratch(struct drill_ctx *dc, struct bs_drill_scratch *sc, struct bs_drill_report *r)
{
	if (dc->rq->keep) {
		struct bs_err ke;
		int marked;
		bs_err_init(&ke);
		marked = bs_drill_scratch_mark_kept(sc, r->id, &ke);
		if (marked < 0)
			bs_warn("unable to mark '%s' as kept (the next drill may remove it): %s", sc->name, ke.msg);
		if (marked != 0) {
			r->kept = 1;
			bs_info("kept scratch database '%s' on %s (--keep): drop it when done", sc->name, sc->where);
		}
	} else {
		struct bs_err de;
		bs_err_init(&de);
		if (bs_drill_scratch_drop(sc, &de) < 0)
			bs_warn("%s (the next drill removes it)", de.msg);
	}
}

/* The full drill's restore into the scratch database: 1 when restored, 0
 * when the drill ends here (a finding, or it could not run: in r), -1 on
 * an error of the drill itself.  *in may be consumed (freed) here. */
static int restore_into(struct drill_ctx *dc, const struct bs_snap_record *rec, struct bs_drill_report *r,
			struct bs_drill_scratch *sc, struct bs_rstream **in, const struct bs_archive_expect *x,
			struct bs_restore_result *res, struct bs_progress *prog, struct bs_err *err)
{
	const struct bs_drill_request *rq = dc->rq;
	struct bs_restore_opts eng;
	struct bs_err e;
	int rc;

	memset(&eng, 0, sizeof(eng));
	eng.target = sc->target;
	eng.create = 1;
	eng.keep_on_error = 1; /* the drill drops it, also after a failure */
	eng.guard = rq->guard ? &rq->guard->creating : NULL;
	eng.caller_drops = 1;
	eng.jobs = dc->jobs;
	eng.pg_bindir = rq->cfg->snap.pg_bindir;
	eng.progress = prog;
	eng.expect = x;
	bs_info("drill %s: restoring snapshot %s of '%s' into scratch database '%s' on %s", r->id, rec->id,
		rec->database, sc->name, sc->where);
	bs_progress_start(prog, rq->progress);
	bs_err_init(&e);
	rc = bs_restore_run(&eng, *in, res, &e);
	bs_progress_stop(prog);
	r->t_schema = res->t_predata;
	r->t_data = res->t_data;
	r->t_postdata = res->t_postdata;
	r->chunks = res->chunks;
	r->raw_bytes = res->bytes;
	if (rc == 0)
		return 1;
	if (e.code == BS_ERR_NOMEM || e.code == BS_ERR_INTERNAL || e.code == BS_ERR_INTERRUPTED ||
	    e.code == BS_ERR_PG_CONNECT || (!is_damage(&e) && !server_up(sc))) {
		cannot_run(r, &e);
		return 0;
	}
	add_err_finding(r, BS_DRILL_AREA_RESTORE, &e);
	if (is_damage(&e)) {
		/* the restore stops at the first damage: list all of it */
		bs_rstream_free(*in);
		*in = NULL;
		return check_damage(dc, rec, r, err) < 0 ? -1 : 0;
	}
	if (res->manifest.ntables)
		bs_drill_report_tables(r, &res->manifest);
	return 0;
}

static int run_db(struct drill_ctx *dc, const struct bs_snap_record *rec, struct bs_drill_report *r,
		  struct bs_err *err)
{
	const struct bs_drill_request *rq = dc->rq;
	struct bs_drill_scratch sc;
	struct bs_restore_result res;
	struct bs_manifest mloc;
	const struct bs_manifest *m = NULL;
	struct bs_rstream *in = NULL;
	struct bs_archive_expect x;
	struct bs_progress prog;
	struct bs_err e;
	double t_rto = 0, t;
	int rc = -1, dropped_stale = 0;

	bs_drill_scratch_init(&sc);
	bs_restore_result_init(&res);
	bs_manifest_init(&mloc);
	bs_progress_init(&prog, "drill");
	bs_err_init(&e);
	sc.keep = rq->keep;

	/* step: scratch server */
	t = bs_now();
	if (bs_drill_scratch_connect(&sc, rq->cfg->drill.scratch, &e) < 0) {
		if (is_setup_error(&e)) {
			*err = e;
			goto out;
		}
		cannot_run(r, &e);
		rc = 0;
		goto out;
	}
	r->scratch_server = strdup(sc.where);
	r->archive_bytes = rec->bytes;

	/* step: claim a new scratch database, or adopt the one to re-verify
	 * (before the clean-up, which would take a kept one for abandoned) */
	if (rq->reverify ? bs_drill_scratch_adopt(&sc, rq->reverify, &e) < 0 : bs_drill_scratch_claim(&sc, &e) < 0) {
		if (is_setup_error(&e) || e.code == BS_ERR_NOT_FOUND) {
			*err = e;
			goto out;
		}
		cannot_run(r, &e);
		rc = 0;
		goto out;
	}

	/* step: stale drill databases (killed drills) */
	bs_err_init(&e);
	if (bs_drill_scratch_cleanup(&sc, dc->grace_ms, &dropped_stale, &e) < 0)
		bs_warn("%s", e.msg);
	snprintf(r->scratch_db, sizeof(r->scratch_db), "%s", sc.name);
	bs_drill_guard_set(rq->guard, &sc);
	r->t_setup = bs_now() - t;

	/* step: archive (RTO starts: what a real recovery does from here) */
	t_rto = bs_now();
	if (open_stream(dc, rec, r, &in, &x, err) < 0)
		goto out;
	if (!in) {
		rc = 0;
		goto cleanup;
	}
	r->t_setup += bs_now() - t_rto;

	if (rq->reverify) {
		/* step: the manifest only (the data is already in the database) */
		bs_info("re-verifying drill database '%s' against snapshot %s", sc.name, rec->id);
		bs_err_init(&e);
		if (bs_restore_read_manifest(in, &x, &mloc, &e) < 0) {
			if (!is_damage(&e) && e.code != BS_ERR_IO) {
				cannot_run(r, &e);
				rc = 0;
				goto cleanup;
			}
			add_err_finding(r, BS_DRILL_AREA_ARCHIVE, &e);
			rc = 0;
			goto cleanup;
		}
		m = &mloc;
	} else {
		/* step: restore into the new database */
		int restored = restore_into(dc, rec, r, &sc, &in, &x, &res, &prog, err);
		if (restored <= 0) {
			rc = restored;
			goto cleanup;
		}
		m = &res.manifest;
	}
	bs_rstream_free(in);
	in = NULL;

	/* steps: verify against the manifest, smoke queries */
	rc = verify_and_smoke(dc, &sc, m, r, t_rto, &prog, err);

cleanup:
	/* step: drop the scratch database (also after findings or errors) */
	bs_rstream_free(in);
	in = NULL;
	dispose_scratch(dc, &sc, r);
out:
	bs_drill_guard_set(rq->guard, NULL);
	bs_rstream_free(in);
	bs_restore_result_release(&res);
	bs_manifest_release(&mloc);
	bs_drill_scratch_release(&sc);
	return rc;
}

/* The drill in progress for the signal watcher (r NULL: none). */
static void current_set(const struct bs_drill_request *rq, const struct bs_drill_report *r)
{
	struct bs_drill_current *c = rq->current;

	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->active = r != NULL;
	if (r) {
		c->cfg = rq->cfg;
		c->mode = r->mode;
		snprintf(c->id, sizeof(c->id), "%s", r->id);
		snprintf(c->snapshot, sizeof(c->snapshot), "%s", r->snapshot);
		snprintf(c->database, sizeof(c->database), "%s", r->database ? r->database : "?");
		c->start = r->start;
		c->snapshot_start = r->snapshot_start;
		c->rpo_ms = r->rpo_ms;
	}
	pthread_mutex_unlock(&c->mu);
}

static int drill_one(struct drill_ctx *dc, const struct bs_snap_record *rec, struct bs_drill_report *r,
		     struct bs_err *err)
{
	const struct bs_drill_request *rq = dc->rq;
	const struct bs_drill_policy *p = rq->policy;
	double t0 = bs_now();
	int rc;

	/* step: the report's frame: ids, RPO, limits */
	r->start = time(NULL);
	bs_catalog_new_id(r->start, r->id);
	snprintf(r->snapshot, sizeof(r->snapshot), "%s", rec->id);
	r->database = strdup(rec->database ? rec->database : "?");
	if (!r->database)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	r->snapshot_start = rec->start;
	r->rpo_ms = ((int64_t)r->start - (int64_t)rec->start) * 1000;
	if (r->rpo_ms < 0)
		r->rpo_ms = 0;
	r->max_rto_ms = p && p->max_rto_ms >= 0 ? p->max_rto_ms : rq->cfg->drill.max_rto_ms;
	r->max_snapshot_age_ms = p && p->max_snapshot_age_ms >= 0 ? p->max_snapshot_age_ms
								 : rq->cfg->drill.max_snapshot_age_ms;
	if (r->mode == BS_DRILL_ARCHIVE) {
		/* an integrity check of one archive, possibly of every snapshot
		 * (--all): no RTO, and the age limit is about drills of the
		 * newest snapshot, not about keeping old archives readable */
		r->max_rto_ms = 0;
		r->max_snapshot_age_ms = 0;
	}

	current_set(rq, r);
	rc = r->mode == BS_DRILL_ARCHIVE ? run_archive(dc, rec, r, err) : run_db(dc, rec, r, err);
	current_set(rq, NULL);
	if (rc < 0)
		return -1;
	if (!r->could_not_run)
		apply_limits(r);
	r->end = time(NULL);
	r->t_total = bs_now() - t0;

	/* step: record the drill (a verdict only; archive checks only when they fail) */
	if (!r->could_not_run && (r->mode == BS_DRILL_FULL || (r->mode == BS_DRILL_ARCHIVE && r->findings_total))) {
		struct bs_err e;
		bs_err_init(&e);
		if (bs_drill_record_put(dc->repo, r, &e) < 0)
			bs_warn("%s", e.msg);
	}
	return 0;
}

/* ---- telling the operator: hooks and metrics ------------------------------ */

/* post-drill after every drill; drill-failed (hooks.drill_failed, else
 * hooks.on_failure) when the verdict is fail or error; webhooks.  Hook
 * failures are logged: they change no verdict.  timeout_s: bs_cmd_event's. */
static void drill_events(const struct bs_config *cfg, const struct bs_drill_report *r, const char *error, int timeout_s)
{
	const char *verdict = r ? bs_drill_verdict(r) : "error";
	const char *failed_hook = cfg->hooks.drill_failed ? cfg->hooks.drill_failed : cfg->hooks.on_failure;
	int passed = strcmp(verdict, "pass") == 0;
	struct bs_event ev;

	bs_event_init(&ev, "post-drill", passed ? BS_EVENT_SUCCESS : BS_EVENT_INFO);
	bs_event_add(&ev, "REPOSITORY", "%s", cfg->repository ? cfg->repository : "");
	bs_event_add(&ev, "DATABASE", "%s", r && r->database ? r->database : "");
	bs_event_add(&ev, "SNAPSHOT_ID", "%s", r ? r->snapshot : "");
	bs_event_add(&ev, "DRILL_ID", "%s", r ? r->id : "");
	bs_event_add(&ev, "RESULT", "%s", verdict);
	bs_event_add(&ev, "FINDINGS", "%llu", r ? (unsigned long long)r->findings_total : 0ULL);
	if (r && r->could_not_run)
		error = r->error.msg;
	if (error)
		bs_event_add(&ev, "ERROR", "%s", error);
	else if (r && r->nfindings > 0)
		bs_event_add(&ev, "ERROR", "%llu finding%s, the first: %s%s%s", (unsigned long long)r->findings_total,
			     r->findings_total == 1 ? "" : "s", r->findings[0].object ? r->findings[0].object : "",
			     r->findings[0].object ? ": " : "", r->findings[0].message);
	if (r && r->rto_ms > 0)
		bs_event_add(&ev, "RTO_SECONDS", "%.1f", (double)r->rto_ms / 1000.0);
	if (r)
		bs_cmd_event_after(cfg, cfg->hooks.post_drill, &ev, timeout_s, NULL);
	if (!passed) {
		snprintf(ev.name, sizeof(ev.name), "drill-failed");
		ev.kind = BS_EVENT_FAILURE;
		bs_cmd_event_after(cfg, failed_hook, &ev, timeout_s, NULL);
	}
	bs_event_release(&ev);
}

/* After the drills (re-verifications excepted): hooks per drill, metrics
 * per database; when nothing could start (error set), the drill-failed
 * hook and a failed run for the configured database. */
static void tell(const struct bs_drill_request *rq, const struct bs_drill_outcome *out, const struct bs_err *error)
{
	struct bs_err e;
	size_t i;

	if (rq->reverify)
		return;
	if (rq->current) {
		int told;
		pthread_mutex_lock(&rq->current->mu);
		told = rq->current->interrupted;
		pthread_mutex_unlock(&rq->current->mu);
		if (told)
			return; /* the signal watcher has reported the drill */
	}
	/* metrics first: they say what happened even if a hook or webhook hangs */
	bs_err_init(&e);
	if (bs_cmd_metrics_drill(rq->cfg, out->reports, out->n, &e) < 0)
		bs_warn("%s", e.msg);
	bs_err_init(&e);
	if (error && out->n == 0 && bs_cmd_metrics_drill_failed(rq->cfg, rq->database, rq->archive_only, &e) < 0)
		bs_warn("%s", e.msg);
	for (i = 0; i < out->n; i++)
		drill_events(rq->cfg, &out->reports[i], NULL, 0);
	if (error)
		drill_events(rq->cfg, NULL, error->msg, 0);
}

void bs_drill_current_init(struct bs_drill_current *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->mu, NULL);
}

int bs_cmd_drill_interrupted(struct bs_drill_current *c, int sig, struct bs_err *err)
{
	struct bs_drill_report r;
	int rc;

	pthread_mutex_lock(&c->mu);
	if (!c->active || c->mode == BS_DRILL_REVERIFY) {
		pthread_mutex_unlock(&c->mu);
		return 0;
	}
	c->active = 0; /* told once */
	c->interrupted = 1;
	bs_drill_report_init(&r, c->mode);
	snprintf(r.id, sizeof(r.id), "%s", c->id);
	snprintf(r.snapshot, sizeof(r.snapshot), "%s", c->snapshot);
	r.database = strdup(c->database);
	r.start = c->start;
	r.end = time(NULL);
	r.snapshot_start = c->snapshot_start;
	r.rpo_ms = c->rpo_ms;
	r.t_total = difftime(r.end, r.start);
	pthread_mutex_unlock(&c->mu);
	r.could_not_run = 1;
	bs_err_set(&r.error, BS_ERR_INTERRUPTED, "interrupted by %s: drill abandoned",
		   sig == SIGINT ? "SIGINT" : "SIGTERM");
	rc = bs_cmd_metrics_drill(c->cfg, &r, 1, err) < 0 ? -1 : 1; /* first: see tell() */
	drill_events(c->cfg, &r, NULL, BS_HOOK_TIMEOUT_INTERRUPTED_S);
	bs_drill_report_release(&r);
	return rc;
}

int bs_cmd_drill(const struct bs_drill_request *rq, struct bs_drill_outcome *out, struct bs_err *err)
{
	struct drill_ctx dc;
	struct bs_catalog cat;
	const struct bs_snap_record **todo = NULL;
	size_t ntodo = 0, i;
	enum bs_drill_mode mode = rq->archive_only ? BS_DRILL_ARCHIVE : rq->reverify ? BS_DRILL_REVERIFY : BS_DRILL_FULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	memset(&dc, 0, sizeof(dc));
	bs_catalog_init(&cat);
	dc.rq = rq;
	dc.jobs = bs_cmd_jobs(rq->jobs);
	dc.grace_ms = rq->stale_grace_ms >= 0 ? rq->stale_grace_ms
		      : rq->policy && rq->policy->stale_grace_ms >= 0 ? rq->policy->stale_grace_ms
									 : BS_DRILL_STALE_GRACE_MS;

	/* step: repository (shared lock: prune waits for drills), catalog */
	if (!rq->cfg->repository) {
		bs_err_set(err, BS_ERR_USAGE, "no repository: pass --repo DIR (or set 'repository:' or $BACKSTOP_REPO)");
		goto out;
	}
	if (bs_cmd_repo_open(rq->cfg, &dc.repo, err) < 0 ||
	    bs_repo_lock(dc.repo, BS_REPO_LOCK_SHARED, (int)rq->cfg->snap.lock_timeout_ms, err) < 0 ||
	    bs_catalog_load(dc.repo, rq->database, &cat, err) < 0)
		goto out;

	/* step: which snapshots */
	if (rq->all) {
		if (cat.n == 0) {
			bs_err_set(err, BS_ERR_NOT_FOUND, "the repository holds no snapshot");
			bs_err_hint(err, "run 'backstop snap' first");
			goto out;
		}
		ntodo = cat.n;
		todo = calloc(ntodo, sizeof(*todo));
		if (!todo)
			goto nomem;
		for (i = 0; i < ntodo; i++)
			todo[i] = &cat.recs[i];
	} else {
		const struct bs_snap_record *rec = bs_catalog_find(&cat, rq->spec, 0, err);
		if (!rec)
			goto out;
		ntodo = 1;
		todo = calloc(1, sizeof(*todo));
		if (!todo)
			goto nomem;
		todo[0] = rec;
	}
	if (mode != BS_DRILL_ARCHIVE && (!rq->cfg->drill.scratch || !*rq->cfg->drill.scratch)) {
		bs_err_set(err, BS_ERR_USAGE, "no scratch server: pass --scratch CONNINFO (or set drill.scratch or "
					      "$BACKSTOP_SCRATCH), or check the archive alone with --archive-only");
		goto out;
	}

	out->reports = calloc(ntodo, sizeof(*out->reports));
	if (!out->reports)
		goto nomem;
	for (i = 0; i < ntodo; i++) {
		struct bs_drill_report *r = &out->reports[i];
		bs_drill_report_init(r, mode);
		out->n++;
		if (drill_one(&dc, todo[i], r, err) < 0) {
			/* not a drill that ran: no report for it */
			bs_drill_report_release(r);
			out->n--;
			goto out;
		}
	}
	rc = 0;
	goto out;
nomem:
	bs_err_set(err, BS_ERR_NOMEM, "out of memory");
out:
	free(todo);
	bs_catalog_release(&cat);
	if (dc.repo)
		bs_repo_unlock(dc.repo);
	bs_repo_close(dc.repo);
	tell(rq, out, rc < 0 ? err : NULL);
	return rc;
}

/* ---- list ---------------------------------------------------------------- */

int bs_drill_list_write(const struct bs_drill_list *l, const char *location, int json, FILE *f, struct bs_err *err)
{
	size_t i;

	if (json) {
		json_t *o = json_object(), *a = json_array();
		char st[32];
		int rc;
		for (i = 0; i < l->n; i++) {
			const struct bs_drill_summary *d = &l->d[i];
			bs_time_iso(d->start, st);
			json_array_append_new(
				a, json_pack("{s:s,s:s,s:o,s:s,s:s,s:s,s:o,s:o,s:I,s:o,s:s}", "id", d->id, "snapshot",
					     d->snapshot, "database", d->database ? json_string(d->database) : json_null(),
					     "start", st, "mode", d->mode, "verdict", d->verdict, "rto_ms",
					     d->rto_ms >= 0 ? json_integer((json_int_t)d->rto_ms) : json_null(), "rpo_ms",
					     d->rpo_ms >= 0 ? json_integer((json_int_t)d->rpo_ms) : json_null(), "findings",
					     (json_int_t)d->findings, "tool_version",
					     d->tool_version ? json_string(d->tool_version) : json_null(), "record", d->key));
		}
		json_object_set_new(o, "drills", a);
		rc = bs_json_doc_write(o, f);
		return rc < 0 ? bs_err_set(err, BS_ERR_IO, "unable to write JSON output") : 0;
	}
	if (l->n == 0) {
		fprintf(f, "no drills recorded in %s\n", bs_esc(location));
		return 0;
	}
	fprintf(f, "%-24s %-24s %-14s %-20s %-12s %-7s %8s %8s %s\n", "DRILL", "SNAPSHOT", "DATABASE", "STARTED (UTC)",
		"MODE", "VERDICT", "RTO", "RPO", "FINDINGS");
	for (i = 0; i < l->n; i++) {
		const struct bs_drill_summary *d = &l->d[i];
		char st[32], rto[32], rpo[32];
		bs_time_iso(d->start, st);
		st[10] = ' ';
		st[19] = '\0';
		bs_human_ms(d->rto_ms, rto, sizeof(rto));
		bs_human_ms(d->rpo_ms, rpo, sizeof(rpo));
		fprintf(f, "%-24s %-24s %-14s %-20s %-12s %-7s %8s %8s %llu\n", bs_esc(d->id), bs_esc(d->snapshot),
			d->database ? bs_esc(d->database) : "?", st, bs_esc(d->mode), bs_esc(d->verdict), rto, rpo,
			(unsigned long long)d->findings);
	}
	return ferror(f) ? bs_err_set(err, BS_ERR_IO, "unable to write output") : 0;
}
