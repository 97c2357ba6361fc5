/*
 * snap.c - take a snapshot into the repository.
 *
 * Steps: choose keys -> open repository -> take the shared lock -> open the
 * archive object (temporary until committed) -> stack encryption -> run the
 * snapshot engine -> make the archive durable -> commit the catalog record.
 * A failure at any step before the commit leaves no record, and the
 * unfinished archive object is discarded.  Every outcome runs a hook
 * (post-snap or snap-failed) and writes metrics (command/metrics.h);
 * SIGINT/SIGTERM go through the guard (command/snap_guard.h).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "command/keys.h"
#include "command/prune.h"
#include "command/setup.h"
#include "command/snap.h"
#include "command/metrics.h"
#include "command/snap_guard.h"
#include "common/hash.h"
#include "command/event.h"
#include "common/hook.h"
#include "common/log.h"
#include "snap/snap.h"


void bs_snap_outcome_release(struct bs_snap_outcome *o)
{
	bs_snap_record_release(&o->rec);
}

static int fill_record(struct bs_snap_record *rec, const char *id, const char *key,
		       const struct bs_snap_result *res, const struct bs_age_recipients *rcp,
		       uint64_t bytes, double seconds)
{
	size_t i, n = rcp ? bs_age_recipients_count(rcp) : 0;

	snprintf(rec->id, sizeof(rec->id), "%s", id);
	rec->database = strdup(res->database);
	rec->server_version = strdup(res->server_version);
	rec->start = res->start;
	rec->end = res->end;
	rec->duration_ms = (uint64_t)(seconds * 1000.0);
	rec->bytes = bytes;
	rec->archive = strdup(key);
	rec->status = strdup("complete");
	rec->encrypted = rcp != NULL;
	rec->passphrase = rcp ? bs_age_recipients_has_passphrase(rcp) : 0;
	rec->tool_version = strdup(BS_VERSION);
	rec->tables = res->tables;
	rec->chunks = res->chunks;
	if (n > 0) {
		rec->recipients = calloc(n, sizeof(char *));
		if (!rec->recipients)
			return -1;
		for (i = 0; i < n; i++) {
			const char *s = bs_age_recipients_get(rcp, i);
			if (s)
				rec->recipients[rec->nrecipients++] = strdup(s);
		}
	}
	return rec->database && rec->server_version && rec->archive && rec->status && rec->tool_version
		       ? 0
		       : -1;
}

/* The record could not be committed (a full disk, an I/O error): the
 * durable archive belongs to no snapshot, so it is removed now rather than
 * by a prune a day later, on what is likely an already full filesystem.
 * Unless the record did reach the repository after all (a failure after
 * its rename): then the archive is what it names, and it stays. */
static void discard_archive(struct bs_repo *repo, const char *id, const char *key, struct bs_err *err)
{
	char rkey[128];
	struct bs_repo_stat st;
	struct bs_err e2;

	bs_err_init(&e2);
	snprintf(rkey, sizeof(rkey), "snapshots/%s.json", id);
	if (bs_repo_stat(repo, rkey, &st, &e2) == 0 || e2.code != BS_ERR_NOT_FOUND) {
		bs_err_detail(err, "the archive '%s' was kept: the record may have been written; "
				   "'backstop snap list' shows whether the snapshot exists", key);
		return;
	}
	if (bs_repo_remove(repo, key, &e2) < 0)
		bs_err_detail(err, "the archive '%s' could not be removed (%s); the next prune removes it",
			      key, e2.msg);
	else
		bs_err_detail(err, "the snapshot does not exist; its archive '%s' was removed", key);
}

/* ---- the interrupt guard (command/snap_guard.h) ---------------------------- */

void bs_snap_guard_init(struct bs_snap_guard *g)
{
	memset(g, 0, sizeof(*g));
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	g->state = BS_SNAP_GUARD_IDLE;
}

/* The snap starts: 0, or -1 when an interrupt already came. */
static int guard_begin(struct bs_snap_guard *g, const struct bs_config *cfg, const char *database,
		       struct bs_err *err)
{
	int rc = 0;

	if (!g)
		return 0;
	pthread_mutex_lock(&g->mu);
	if (g->state == BS_SNAP_GUARD_IDLE) {
		g->cfg = cfg;
		snprintf(g->database, sizeof(g->database), "%s", database);
		g->t0 = bs_now();
		g->state = BS_SNAP_GUARD_RUNNING;
	} else {
		rc = bs_err_set(err, BS_ERR_INTERRUPTED, "interrupted before the snap started");
	}
	pthread_mutex_unlock(&g->mu);
	return rc;
}

/* Create the archive object under the guard: an interrupt either comes
 * first (then nothing is created) or finds it, by the id, to remove it. */
static int guarded_put(struct bs_snap_guard *g, struct bs_repo *repo, const char *id, const char *key,
		       struct bs_wstream **out, struct bs_err *err)
{
	int rc;

	if (!g)
		return bs_repo_put(repo, key, out, err);
	pthread_mutex_lock(&g->mu);
	if (g->state == BS_SNAP_GUARD_ABANDONED) {
		rc = bs_err_set(err, BS_ERR_INTERRUPTED, "interrupted before snapshot %s was started", id);
	} else {
		snprintf(g->id, sizeof(g->id), "%s", id);
		rc = bs_repo_put(repo, key, out, err);
	}
	pthread_mutex_unlock(&g->mu);
	return rc;
}

/* Take the guard for the commit; refuse if an interrupt took over. */
static int guard_hold(struct bs_snap_guard *g, struct bs_err *err)
{
	if (!g)
		return 0;
	pthread_mutex_lock(&g->mu);
	if (g->state == BS_SNAP_GUARD_ABANDONED) {
		pthread_mutex_unlock(&g->mu);
		return bs_err_set(err, BS_ERR_INTERRUPTED, "interrupted: snapshot %s abandoned", g->id);
	}
	return 0;
}

static void success_metrics(struct bs_snap_metrics *m, const char *database,
			    const struct bs_snap_outcome *out, double seconds)
{
	memset(m, 0, sizeof(*m));
	m->database = database;
	m->ok = 1;
	m->seconds = seconds;
	m->snapshot_start = out->rec.start;
	m->snapshot_seconds = out->seconds;
	m->bytes = out->rec.bytes;
	m->rows = out->rows;
}

/* Let go of the guard after the commit (out: committed, NULL: failed). */
static void guard_release(struct bs_snap_guard *g, const struct bs_snap_outcome *out)
{
	if (!g)
		return;
	if (out) {
		g->state = BS_SNAP_GUARD_COMMITTED;
		success_metrics(&g->done, g->database, out, bs_now() - g->t0);
	}
	pthread_mutex_unlock(&g->mu);
}

/* A failure on the main thread: 1 if it is to be reported here, 0 if an
 * interrupt took over (the watcher reports it). */
static int guard_claim_failure(struct bs_snap_guard *g)
{
	int mine = 1;

	if (!g)
		return 1;
	pthread_mutex_lock(&g->mu);
	if (g->state == BS_SNAP_GUARD_ABANDONED)
		mine = 0;
	else
		g->state = BS_SNAP_GUARD_REPORTING;
	pthread_mutex_unlock(&g->mu);
	return mine;
}

static void guard_done(struct bs_snap_guard *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->mu);
	g->state = BS_SNAP_GUARD_DONE;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

/* The facts every snap event carries. */
static void snap_event(struct bs_event *ev, const char *name, enum bs_event_kind kind, const struct bs_config *cfg,
		       const char *database)
{
	bs_event_init(ev, name, kind);
	bs_event_add(ev, "REPOSITORY", "%s", cfg->repository ? cfg->repository : "");
	bs_event_add(ev, "DATABASE", "%s", database);
}

/* snap-failed (hooks.snap_failed, else on_failure) and webhooks; a failing
 * hook is only logged. */
static void failed_event(const struct bs_config *cfg, const char *database, const char *id, const char *why,
			 int timeout_s)
{
	struct bs_event ev;

	snap_event(&ev, "snap-failed", BS_EVENT_FAILURE, cfg, database);
	bs_event_add(&ev, "RESULT", "%s", "failed");
	bs_event_add(&ev, "ERROR", "%s", why);
	if (id && *id)
		bs_event_add(&ev, "SNAPSHOT_ID", "%s", id);
	bs_cmd_event_after(cfg, cfg->hooks.snap_failed ? cfg->hooks.snap_failed : cfg->hooks.on_failure, &ev,
			   timeout_s, NULL);
	bs_event_release(&ev);
}

static void write_metrics(const struct bs_config *cfg, const struct bs_snap_metrics *m)
{
	struct bs_err err;

	bs_err_init(&err);
	if (bs_cmd_metrics_snap(cfg, m, &err) < 0)
		bs_warn("%s", err.msg);
}

static void failure_metrics(const struct bs_config *cfg, const char *database, double seconds)
{
	struct bs_snap_metrics m;

	memset(&m, 0, sizeof(m));
	m.database = database;
	m.seconds = seconds;
	write_metrics(cfg, &m);
}

struct tmp_keys {
	char prefix[BS_ID_MAX + 16];
	char id[8][256];
	size_t n;
};

static int tmp_cb(void *ud, const struct bs_repo_upload *u, struct bs_err *err)
{
	struct tmp_keys *t = ud;

	if (u->key && strncmp(u->key, t->prefix, strlen(t->prefix)) == 0 &&
	    t->n < sizeof(t->id) / sizeof(t->id[0]))
		snprintf(t->id[t->n++], sizeof(t->id[0]), "%s", u->id);
	return 0;
}

/* Remove the unfinished archive of snapshot id (an unfinished upload of
 * archives/<id>.*), through a handle of our own (the main thread's stays
 * its own). */
static int remove_temp(const struct bs_config *cfg, const char *id, struct bs_err *err)
{
	struct bs_repo *repo = NULL;
	struct tmp_keys t;
	size_t i;
	int rc = 0;

	if (!*id || !cfg->repository)
		return 0;
	memset(&t, 0, sizeof(t));
	snprintf(t.prefix, sizeof(t.prefix), "archives/%s.", id);
	if (bs_cmd_repo_open(cfg, &repo, err) < 0 ||
	    bs_repo_list_unfinished(repo, tmp_cb, &t, err) < 0) {
		bs_repo_close(repo);
		return -1;
	}
	for (i = 0; i < t.n && rc == 0; i++) {
		rc = bs_repo_remove_unfinished(repo, t.id[i], err);
		if (rc == 0)
			bs_debug("removed the unfinished archive '%s'", t.id[i]);
	}
	bs_repo_close(repo);
	return rc;
}

int bs_snap_guard_abort(struct bs_snap_guard *g, int sig, struct bs_err *err)
{
	struct bs_snap_metrics m;
	char why[160], id[BS_ID_MAX];
	int rc;

	pthread_mutex_lock(&g->mu);
	while (g->state == BS_SNAP_GUARD_REPORTING) /* the main thread is telling it */
		pthread_cond_wait(&g->cv, &g->mu);
	if (g->state == BS_SNAP_GUARD_COMMITTED || (g->state == BS_SNAP_GUARD_DONE && g->done.ok)) {
		m = g->done;
		pthread_mutex_unlock(&g->mu);
		/* the post-snap steps may not get to write these */
		return bs_cmd_metrics_snap(g->cfg, &m, err) < 0 ? -1 : BS_SNAP_ABORT_COMMITTED;
	}
	if (g->state != BS_SNAP_GUARD_RUNNING) {
		if (g->state == BS_SNAP_GUARD_IDLE)
			g->state = BS_SNAP_GUARD_ABANDONED; /* a snap must not start now */
		pthread_mutex_unlock(&g->mu);
		return BS_SNAP_ABORT_NOTHING;
	}
	g->state = BS_SNAP_GUARD_ABANDONED; /* from here on the main thread commits and reports nothing */
	snprintf(id, sizeof(id), "%s", g->id);
	pthread_mutex_unlock(&g->mu);

	snprintf(why, sizeof(why), "interrupted by %s: snapshot abandoned, nothing committed",
		 sig == SIGINT ? "SIGINT" : "SIGTERM");
	rc = remove_temp(g->cfg, id, err);
	/* metrics first: the service manager may not wait for the hook */
	failure_metrics(g->cfg, g->database, bs_now() - g->t0);
	failed_event(g->cfg, g->database, id, why, BS_HOOK_TIMEOUT_INTERRUPTED_S);
	return rc < 0 ? -1 : BS_SNAP_ABORT_ABANDONED;
}

static int take_snapshot(const struct bs_snap_request *rq, struct bs_snap_outcome *out,
			 struct bs_err *err)
{
	const struct bs_config *cfg = rq->cfg;
	struct bs_age_recipients *rcp = NULL;
	struct bs_repo *repo = NULL;
	struct bs_wstream *archive = NULL;
	const struct bs_sha256_ctx *stored = NULL; /* owned by the archive stream */
	struct bs_snap_opts so;
	struct bs_snap_result res;
	struct bs_progress prog;
	char id[BS_ID_MAX], key[128];
	time_t start = time(NULL);
	double t0 = bs_now();
	int rc = -1, held = 0;

	memset(out, 0, sizeof(*out));
	memset(&res, 0, sizeof(res));
	bs_progress_init(&prog, "snap");

	/* step: keys (before touching anything, so a refusal changes nothing) */
	if (bs_keys_recipients(cfg, rq->recipients, rq->recipients_file, rq->no_encryption, &rcp, err) < 0)
		goto out;

	/* step: repository, shared lock (prune takes it exclusively) */
	if (bs_cmd_repo_open(cfg, &repo, err) < 0)
		goto out;
	if (bs_repo_lock(repo, BS_REPO_LOCK_SHARED, (int)cfg->snap.lock_timeout_ms, err) < 0)
		goto out;

	/* step: archive object, encryption stacked on it */
	bs_catalog_new_id(start, id);
	snprintf(key, sizeof(key), "archives/%s.tar%s", id, rcp ? ".age" : "");
	if (guarded_put(rq->guard, repo, id, key, &archive, err) < 0)
		goto out;
	/* the digest of the bytes as stored, for the record */
	if (!(archive = bs_wstream_sha256(archive, &stored))) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (rcp) {
		archive = bs_age_encrypt_new(archive, rcp, err);
		if (!archive)
			goto out;
	}

	/* step: the snapshot engine writes the whole archive */
	memset(&so, 0, sizeof(so));
	so.conninfo = cfg->database;
	so.id = id;
	so.jobs = cfg->snap.jobs; /* 0: the engine plans them */
	so.cores = bs_cmd_jobs(0);
	so.compress_level = cfg->snap.compress_level;
	so.chunk_size = cfg->snap.chunk_size;
	so.lock_timeout_ms = (int)cfg->snap.lock_timeout_ms;
	so.pg_bindir = cfg->snap.pg_bindir;
	so.role_passwords = cfg->snap.role_passwords;
	so.progress = &prog;
	bs_info("snapshot %s: zstd level %d%s", id, so.compress_level, rcp ? ", encrypted" : ", NOT encrypted");
	bs_progress_start(&prog, rq->progress);
	rc = bs_snap_run(&so, archive, &res, err);
	bs_progress_stop(&prog);
	if (rc < 0)
		goto out;
	rc = -1;

	/* step: hold the guard to the commit: an interrupt either came first
	 * (then nothing is committed) or waits until the snapshot exists */
	if (guard_hold(rq->guard, err) < 0)
		goto out;
	held = 1;

	/* step: make the archive durable (encryption final chunk, fsync, rename) */
	if (bs_wstream_finish(archive, err) < 0) {
		bs_err_prefix(err, "unable to store the archive of snapshot %s", id);
		goto out;
	}

	/* step: commit the record: only now does the snapshot exist */
	if (fill_record(&out->rec, id, key, &res, rcp, bs_sha256_bytes(stored), bs_now() - t0) < 0) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* what binds the archive to its record (docs/format.md, "Binding") */
	out->rec.has_digests = 1;
	bs_sha256_peek(stored, out->rec.archive_sha256);
	memcpy(out->rec.header_sha256, res.header_sha256, 32);
	memcpy(out->rec.schema_sha256, res.schema_sha256, 32);
	memcpy(out->rec.manifest_sha256, res.manifest_sha256, 32);
	if (bs_catalog_commit(repo, &out->rec, err) < 0) {
		bs_err_prefix(err, "unable to commit snapshot %s", id);
		discard_archive(repo, id, key, err);
		goto out;
	}
	out->rows = res.rows;
	out->raw_bytes = res.raw_bytes;
	out->seconds = bs_now() - t0;
	rc = 0;
out:
	if (held)
		guard_release(rq->guard, rc == 0 ? out : NULL);
	bs_wstream_free(archive);
	bs_repo_close(repo);
	bs_age_recipients_free(rcp);
	if (rc < 0)
		bs_snap_record_release(&out->rec);
	return rc;
}

int bs_cmd_snap(const struct bs_snap_request *rq, struct bs_snap_outcome *out, struct bs_err *err)
{
	const struct bs_config *cfg = rq->cfg;
	char *database = bs_cmd_metrics_dbname(cfg);
	struct bs_snap_metrics m;
	struct bs_event ev;
	double t0 = bs_now();
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!database)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	if (guard_begin(rq->guard, cfg, database, err) < 0)
		goto out; /* the watcher is ending the process */
	snap_event(&ev, "pre-snap", BS_EVENT_BEFORE, cfg, database);
	rc = bs_cmd_event(cfg, cfg->hooks.pre_snap, &ev, 0, err);
	bs_event_release(&ev);
	if (rc < 0) {
		bs_err_hint(err, "the pre-snap hook must exit 0 for the snap to run");
		goto failed;
	}
	rc = -1;
	if (take_snapshot(rq, out, err) < 0)
		goto failed;
	snap_event(&ev, "post-snap", BS_EVENT_SUCCESS, cfg, out->rec.database ? out->rec.database : database);
	bs_event_add(&ev, "RESULT", "%s", "ok");
	bs_event_add(&ev, "SNAPSHOT_ID", "%s", out->rec.id);
	bs_event_add(&ev, "BYTES", "%llu", (unsigned long long)out->rec.bytes);
	bs_event_add(&ev, "DURATION_SECONDS", "%.1f", bs_now() - t0);
	bs_cmd_event_after(cfg, cfg->hooks.post_snap, &ev, 0, "(the snapshot is committed)");
	bs_event_release(&ev);
	success_metrics(&m, out->rec.database ? out->rec.database : database, out, bs_now() - t0);
	write_metrics(cfg, &m);
	guard_done(rq->guard);
	rc = 0;
	goto out;
failed:
	/* after an interrupt the watcher reports it (hook, metrics) */
	if (guard_claim_failure(rq->guard)) {
		failure_metrics(cfg, database, bs_now() - t0);
		failed_event(cfg, database, NULL, err->msg, 0);
		guard_done(rq->guard);
	}
out:
	free(database);
	return rc;
}
