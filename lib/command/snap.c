/*
 * snap.c - take a snapshot into the repository.
 *
 * Steps: choose keys -> open repository -> take the shared lock -> open the
 * archive object (temporary until committed) -> stack encryption -> run the
 * snapshot engine -> make the archive durable -> commit the catalog record.
 * A failure at any step before the commit leaves no record, and the
 * unfinished archive object is discarded.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "command/command.h"
#include "common/hook.h"
#include "common/log.h"
#include "common/metrics.h"
#include "pg/conn.h"
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

static int size_cb(void *ud, const struct bs_repo_entry *e, struct bs_err *err)
{
	*(uint64_t *)ud = e->size;
	return 0;
}

/* Size of an object as stored (after compression and encryption). */
static uint64_t stored_size(struct bs_repo *repo, const char *key)
{
	struct bs_err err;
	uint64_t size = 0;

	bs_err_init(&err);
	bs_repo_list(repo, key, size_cb, &size, &err);
	return size;
}

static int take_snapshot(const struct bs_snap_request *rq, struct bs_snap_outcome *out,
			 struct bs_err *err)
{
	const struct bs_config *cfg = rq->cfg;
	struct bs_age_recipients *rcp = NULL;
	struct bs_repo *repo = NULL;
	struct bs_wstream *archive = NULL;
	struct bs_snap_opts so;
	struct bs_snap_result res;
	struct bs_progress prog;
	char id[BS_ID_MAX], key[128];
	time_t start = time(NULL);
	double t0 = bs_now();
	int rc = -1;

	memset(out, 0, sizeof(*out));
	memset(&res, 0, sizeof(res));
	bs_progress_init(&prog, "snap");

	/* step: keys (before touching anything, so a refusal changes nothing) */
	if (bs_keys_recipients(cfg, rq->recipients, rq->recipients_file, rq->no_encryption, &rcp, err) < 0)
		goto out;

	/* step: repository, shared lock (prune takes it exclusively) */
	if (bs_repo_open(cfg->repository, 1, &repo, err) < 0)
		goto out;
	if (bs_repo_lock(repo, BS_REPO_LOCK_SHARED, (int)cfg->snap.lock_timeout_ms, err) < 0)
		goto out;

	/* step: archive object, encryption stacked on it */
	bs_catalog_new_id(start, id);
	snprintf(key, sizeof(key), "archives/%s.tar%s", id, rcp ? ".age" : "");
	if (bs_repo_put(repo, key, &archive, err) < 0)
		goto out;
	if (rcp) {
		archive = bs_age_encrypt_new(archive, rcp, err);
		if (!archive)
			goto out;
	}

	/* step: the snapshot engine writes the whole archive */
	memset(&so, 0, sizeof(so));
	so.conninfo = cfg->database;
	so.id = id;
	so.jobs = bs_cmd_jobs(cfg->snap.jobs);
	so.compress_level = cfg->snap.compress_level;
	so.chunk_size = cfg->snap.chunk_size;
	so.lock_timeout_ms = (int)cfg->snap.lock_timeout_ms;
	so.pg_bindir = cfg->snap.pg_bindir;
	so.progress = &prog;
	bs_info("snapshot %s: %d jobs, zstd level %d%s", id, so.jobs, so.compress_level,
		rcp ? ", encrypted" : ", NOT encrypted");
	bs_progress_start(&prog, rq->progress);
	rc = bs_snap_run(&so, archive, &res, err);
	bs_progress_stop(&prog);
	if (rc < 0)
		goto out;
	rc = -1;

	/* step: make the archive durable (encryption final chunk, fsync, rename) */
	if (bs_wstream_finish(archive, err) < 0) {
		bs_err_prefix(err, "unable to store the archive of snapshot %s", id);
		goto out;
	}

	/* step: commit the record: only now does the snapshot exist */
	if (fill_record(&out->rec, id, key, &res, rcp, stored_size(repo, key), bs_now() - t0) < 0) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (bs_catalog_commit(repo, &out->rec, err) < 0) {
		bs_err_prefix(err, "unable to commit snapshot %s", id);
		goto out;
	}
	out->rows = res.rows;
	out->raw_bytes = res.raw_bytes;
	out->seconds = bs_now() - t0;
	rc = 0;
out:
	bs_wstream_free(archive);
	bs_repo_close(repo);
	bs_age_recipients_free(rcp);
	if (rc < 0)
		bs_snap_record_release(&out->rec);
	return rc;
}

static void write_metrics(const struct bs_config *cfg, const struct bs_snap_outcome *out, int ok,
			  double t0_wall)
{
	struct bs_metrics mx;
	struct bs_err err;
	char *db = out->rec.database ? strdup(out->rec.database) : bs_pg_conninfo_dbname(cfg->database);
	const char *label = db ? db : "";

	if (!cfg->metrics_dir)
		goto out;
	bs_metrics_init(&mx);
	bs_metrics_add(&mx, "backstop_snap_last_run_timestamp_seconds", "when the last snap ended",
		       "database", label, (double)time(NULL));
	bs_metrics_add(&mx, "backstop_snap_last_run_success", "1 if the last snap succeeded, else 0",
		       "database", label, ok ? 1 : 0);
	if (ok) {
		bs_metrics_add(&mx, "backstop_snap_last_success_timestamp_seconds",
			       "start time of the newest complete snapshot", "database", label,
			       (double)out->rec.start);
		bs_metrics_add(&mx, "backstop_snap_last_duration_seconds", "wall time of the last snap",
			       "database", label, out->seconds);
		bs_metrics_add(&mx, "backstop_snap_last_bytes", "stored size of the last snapshot",
			       "database", label, (double)out->rec.bytes);
		bs_metrics_add(&mx, "backstop_snap_last_rows", "rows in the last snapshot", "database",
			       label, (double)out->rows);
	} else {
		bs_metrics_add(&mx, "backstop_snap_last_duration_seconds", "wall time of the last snap",
			       "database", label, (double)(time(NULL)) - t0_wall);
	}
	bs_err_init(&err);
	if (bs_metrics_write(&mx, cfg->metrics_dir, "backstop_snap", &err) < 0)
		bs_warn("%s", err.msg);
out:
	free(db);
}

int bs_cmd_snap(const struct bs_snap_request *rq, struct bs_snap_outcome *out, struct bs_err *err)
{
	const struct bs_config *cfg = rq->cfg;
	char e_repo[4200], e_id[128], e_err[BS_ERR_MSG_MAX + 32], e_bytes[64];
	const char *env[5];
	double t0 = (double)time(NULL);
	struct bs_err herr;

	snprintf(e_repo, sizeof(e_repo), "BACKSTOP_REPOSITORY=%s", cfg->repository ? cfg->repository : "");
	env[0] = e_repo;
	env[1] = NULL;
	if (bs_hook_run(cfg->hooks.pre_snap, "pre-snap", env, 300, err) < 0) {
		bs_err_hint(err, "the pre-snap hook must exit 0 for the snap to run");
		memset(out, 0, sizeof(*out));
		goto failed;
	}
	if (take_snapshot(rq, out, err) < 0)
		goto failed;
	snprintf(e_id, sizeof(e_id), "BACKSTOP_SNAPSHOT_ID=%s", out->rec.id);
	snprintf(e_bytes, sizeof(e_bytes), "BACKSTOP_BYTES=%llu", (unsigned long long)out->rec.bytes);
	env[1] = e_id;
	env[2] = e_bytes;
	env[3] = NULL;
	bs_err_init(&herr);
	if (bs_hook_run(cfg->hooks.post_snap, "post-snap", env, 300, &herr) < 0)
		bs_warn("%s (the snapshot is committed)", herr.msg);
	write_metrics(cfg, out, 1, t0);
	return 0;
failed:
	snprintf(e_err, sizeof(e_err), "BACKSTOP_ERROR=%s", err->msg);
	env[1] = e_err;
	env[2] = NULL;
	bs_err_init(&herr);
	if (bs_hook_run(cfg->hooks.on_failure, "snap-failed", env, 300, &herr) < 0)
		bs_warn("%s", herr.msg);
	write_metrics(cfg, out, 0, t0);
	return -1;
}
