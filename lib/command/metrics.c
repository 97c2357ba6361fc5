/*
 * metrics.c - the textfile metrics of snap, drills, prune, restore, gate
 * check and rollback (see command/metrics.h), on top of common/metrics
 * (format, durable write, strict reader).
 *
 * Each write: read the previous file of the same command and database ->
 * build this run's series -> carry the last-success series forward when
 * this run failed -> write the file durably.
 */
#include "command/metrics.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/metrics.h"
#include "drill/drill.h"
#include "pg/conn.h"
#include "report/report.h"

char *bs_cmd_metrics_dbname(const struct bs_config *cfg)
{
	char *db = bs_pg_conninfo_dbname(cfg->database);
	struct passwd *pw;

	if (db)
		return db;
	pw = getpwuid(geteuid()); /* libpq's default: the login name */
	return strdup(pw && pw->pw_name ? pw->pw_name : "unknown");
}

void bs_cmd_metrics_file(const char *command, const char *database, char out[256])
{
	char safe[128];
	size_t i, j = 0;
	int changed = 0;
	uint32_t h = 2166136261u; /* FNV-1a of the real name */

	if (!database) {
		snprintf(out, 256, "backstop_%s", command);
		return;
	}
	for (i = 0; database[i]; i++) {
		unsigned char c = (unsigned char)database[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			 c == '_' || c == '-';
		h = (h ^ c) * 16777619u;
		if (j + 1 < 64)
			safe[j++] = ok ? (char)c : '_';
		changed |= !ok || j + 1 >= 64;
	}
	safe[j] = '\0';
	if (changed || j == 0)
		snprintf(out, 256, "backstop_%s_%s_%08x", command, safe, h);
	else
		snprintf(out, 256, "backstop_%s_%s", command, safe);
}

/* One metrics file being rebuilt. */
struct mfile {
	const struct bs_config *cfg;
	char file[256];
	const char *labels[2 * BS_METRICS_LABELS_MAX + 1]; /* key/value pairs, NULL */
	const char *database;
	struct bs_metrics prev;    /* the previous file (empty if none or not trusted) */
	struct bs_metrics cur;
	struct bs_err err;         /* first error while adding */
};

/* The file of command and name (NULL: none), its previous content read;
 * no labels yet.  Returns 1 when there was a previous file (trusted or not). */
static int mfile_begin(struct mfile *f, const struct bs_config *cfg, const char *command, const char *name)
{
	char path[4096];
	struct bs_err e;
	int rc;

	memset(f, 0, sizeof(*f));
	f->cfg = cfg;
	bs_cmd_metrics_file(command, name, f->file);
	bs_metrics_init(&f->cur);
	bs_err_init(&f->err);
	bs_err_init(&e);
	snprintf(path, sizeof(path), "%s/%s.prom", cfg->metrics_dir, f->file);
	rc = bs_metrics_read(path, &f->prev, &e);
	if (rc < 0 && e.code != BS_ERR_NOT_FOUND)
		bs_warn("not carrying the last-success metrics forward: %s", e.msg);
	return rc == 0 || e.code != BS_ERR_NOT_FOUND;
}

static void mfile_open(struct mfile *f, const struct bs_config *cfg, const char *command,
		       const char *database, const char *mode)
{
	size_t n = 0;

	mfile_begin(f, cfg, command, database);
	f->database = database;
	if (database) {
		f->labels[n++] = "database";
		f->labels[n++] = database;
	}
	f->labels[n++] = "repository";
	f->labels[n++] = cfg->repository ? cfg->repository : "";
	if (mode) {
		f->labels[n++] = "mode";
		f->labels[n++] = mode;
	}
	f->labels[n] = NULL;
}

/* Set the labels of the series added next: key, value, ..., NULL (a NULL
 * value leaves its label out). */
static void mfile_labels(struct mfile *f, const char *const *kv)
{
	size_t n = 0;

	for (; kv[0] && n + 2 < sizeof(f->labels) / sizeof(f->labels[0]); kv += 2) {
		if (!kv[1])
			continue;
		f->labels[n++] = kv[0];
		f->labels[n++] = kv[1];
	}
	f->labels[n] = NULL;
}

static void add(struct mfile *f, const char *name, const char *help, double v)
{
	struct bs_err e;

	bs_err_init(&e);
	if (bs_metrics_add(&f->cur, name, help, f->labels, v, &e) < 0 && !f->err.code)
		f->err = e;
}

/* This run failed: keep the previous value of a last-success series, if the
 * previous file has it for the same database. */
static void carry(struct mfile *f, const char *name, const char *help)
{
	const struct bs_metric *m = f->database ? bs_metrics_find(&f->prev, name, "database", f->database)
						: bs_metrics_find(&f->prev, name, NULL, NULL);

	if (m && (f->database || !bs_metric_label(m, "database")))
		add(f, name, help, m->value);
}

/* Add a sample with labels of its own (kv as mfile_labels'). */
static void add_labelled(struct mfile *f, const char *name, const char *help, const char *const *kv, double v)
{
	const char *keep[2 * BS_METRICS_LABELS_MAX + 1];

	memcpy(keep, f->labels, sizeof(keep));
	mfile_labels(f, kv);
	add(f, name, help, v);
	memcpy(f->labels, keep, sizeof(keep));
}

/* Keep every series of the previous file whose name starts with prefix as
 * it was, labels and all (the part of a shared file this run is not about,
 * or a last-success series labelled with the run it comes from). */
static void keep_prefix(struct mfile *f, const char *prefix)
{
	for (size_t i = 0; i < f->prev.n; i++) {
		const struct bs_metric *m = &f->prev.m[i];
		const char *kv[2 * BS_METRICS_LABELS_MAX + 1];
		size_t k;

		if (strncmp(m->name, prefix, strlen(prefix)) != 0)
			continue;
		for (k = 0; k < m->nlabels; k++) {
			kv[2 * k] = m->label_key[k];
			kv[2 * k + 1] = m->label_value[k];
		}
		kv[2 * k] = NULL;
		add_labelled(f, m->name, m->help, kv, m->value);
	}
}

static int mfile_write(struct mfile *f, struct bs_err *err)
{
	if (f->err.code) {
		*err = f->err;
		return -1;
	}
	return bs_metrics_write(&f->cur, f->cfg->metrics_dir, f->file, err);
}

static int enabled(const struct bs_config *cfg)
{
	return cfg->metrics_dir && *cfg->metrics_dir;
}

/* ---- snap ------------------------------------------------------------------- */

/* HELP texts of series that earlier versions wrote stay the same: node_exporter
 * refuses one family with two HELP texts in two files. */
#define H_SNAP_SUCC_TS "start time of the newest complete snapshot"
#define H_SNAP_SUCC_DUR "wall time of the newest completed snapshot"
#define H_SNAP_SUCC_BYTES "stored size of the newest completed snapshot"
#define H_SNAP_SUCC_ROWS "rows in the newest completed snapshot"
#define H_SNAP_FAIL_TS "when a snap last failed or was interrupted (Unix time)"

/* Versions before per-database files wrote one backstop_snap.prom.  Left
 * alone, its frozen series would set off "backup too old".  When every
 * sample in it is this database's: carry from it (if there is no newer
 * file) and remove it once the new file is written. */
static int legacy_snap_file(struct mfile *f, char *path, size_t n)
{
	struct bs_metrics *old = malloc(sizeof(*old));
	struct bs_err e;
	size_t i;
	int mine = 0;

	if (!old)
		return 0;
	bs_err_init(&e);
	snprintf(path, n, "%s/backstop_snap.prom", f->cfg->metrics_dir);
	if (bs_metrics_read(path, old, &e) == 0 && old->n > 0) {
		mine = 1;
		for (i = 0; i < old->n; i++) {
			const char *db = bs_metric_label(&old->m[i], "database");
			mine &= db && strcmp(db, f->database) == 0;
		}
		if (mine && f->prev.n == 0)
			f->prev = *old;
	}
	free(old);
	return mine;
}

int bs_cmd_metrics_snap(const struct bs_config *cfg, const struct bs_snap_metrics *m, struct bs_err *err)
{
	struct mfile *f;
	char legacy[4096];
	int rc, had_legacy;

	if (!enabled(cfg))
		return 0;
	f = malloc(sizeof(*f));
	if (!f)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	mfile_open(f, cfg, "snap", m->database, NULL);
	had_legacy = legacy_snap_file(f, legacy, sizeof(legacy));
	add(f, "backstop_snap_last_run_timestamp_seconds", "when the last snap ended", (double)time(NULL));
	add(f, "backstop_snap_last_run_success", "1 if the last snap succeeded, else 0", m->ok ? 1 : 0);
	add(f, "backstop_snap_last_run_duration_seconds", "wall time of the last snap, whatever its outcome",
	    m->seconds);
	if (m->ok) {
		add(f, "backstop_snap_last_success_timestamp_seconds", H_SNAP_SUCC_TS, (double)m->snapshot_start);
		add(f, "backstop_snap_last_success_duration_seconds", H_SNAP_SUCC_DUR, m->snapshot_seconds);
		add(f, "backstop_snap_last_success_bytes", H_SNAP_SUCC_BYTES, (double)m->bytes);
		add(f, "backstop_snap_last_success_rows", H_SNAP_SUCC_ROWS, (double)m->rows);
		carry(f, "backstop_snap_last_failure_timestamp_seconds", H_SNAP_FAIL_TS);
	} else {
		carry(f, "backstop_snap_last_success_timestamp_seconds", H_SNAP_SUCC_TS);
		carry(f, "backstop_snap_last_success_duration_seconds", H_SNAP_SUCC_DUR);
		carry(f, "backstop_snap_last_success_bytes", H_SNAP_SUCC_BYTES);
		carry(f, "backstop_snap_last_success_rows", H_SNAP_SUCC_ROWS);
		add(f, "backstop_snap_last_failure_timestamp_seconds", H_SNAP_FAIL_TS, (double)time(NULL));
	}
	rc = mfile_write(f, err);
	if (rc == 0 && had_legacy && unlink(legacy) == 0)
		bs_info("replaced the metrics file '%s' by '%s/%s.prom'", legacy, cfg->metrics_dir, f->file);
	free(f);
	return rc;
}

/* ---- drills ----------------------------------------------------------------- */

#define H_DRILL_SUCC_TS "when the last passing drill ended (Unix time)"
#define H_DRILL_SUCC_SNAP "start time of the snapshot the last passing drill verified (Unix time)"
#define H_DRILL_SUCC_RTO "RTO measured by the last passing full drill"

struct drill_run {
	const char *database;
	int mode;                           /* enum bs_drill_mode */
	int ok, error;                      /* all passed; some could not run */
	uint64_t findings;
	double seconds;
	const struct bs_drill_report *last; /* newest snapshot's report (NULL: could not start) */
};

static int write_drill(const struct bs_config *cfg, const struct drill_run *d, struct bs_err *err)
{
	const struct bs_drill_report *r = d->last;
	int archive = d->mode == BS_DRILL_ARCHIVE;
	double now = (double)time(NULL);
	struct mfile *f;
	int rc;

	f = malloc(sizeof(*f));
	if (!f)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	mfile_open(f, cfg, archive ? "archive_check" : "drill", d->database, archive ? "archive" : "full");
	add(f, "backstop_drill_last_run_timestamp_seconds", "when the last drill ended (Unix time)",
	    r && r->end ? (double)r->end : now);
	add(f, "backstop_drill_last_run_success", "1 if the last drill passed, 0 if it failed or could not run",
	    d->ok ? 1 : 0);
	add(f, "backstop_drill_last_run_error", "1 if the last drill could not run (no verdict), else 0",
	    d->error ? 1 : 0);
	add(f, "backstop_drill_last_run_findings", "problems the last drill found", (double)d->findings);
	add(f, "backstop_drill_last_run_duration_seconds", "wall time of the last drill", d->seconds);
	if (r) {
		add(f, "backstop_drill_last_run_snapshot_timestamp_seconds",
		    "start time of the snapshot the last drill checked (Unix time)", (double)r->snapshot_start);
		add(f, "backstop_drill_last_run_snapshot_age_seconds",
		    "age of that snapshot when the drill started (RPO)", (double)r->rpo_ms / 1000.0);
	}
	if (r && !archive && r->rto_ms > 0 && !r->could_not_run)
		add(f, "backstop_drill_last_run_rto_seconds",
		    "time from the start of the restore to a verified database in the last full drill",
		    (double)r->rto_ms / 1000.0);
	if (d->ok && r) {
		add(f, "backstop_drill_last_success_timestamp_seconds", H_DRILL_SUCC_TS,
		    r->end ? (double)r->end : now);
		add(f, "backstop_drill_last_success_snapshot_timestamp_seconds", H_DRILL_SUCC_SNAP,
		    (double)r->snapshot_start);
		if (!archive && r->rto_ms > 0)
			add(f, "backstop_drill_last_success_rto_seconds", H_DRILL_SUCC_RTO, (double)r->rto_ms / 1000.0);
	} else {
		carry(f, "backstop_drill_last_success_timestamp_seconds", H_DRILL_SUCC_TS);
		carry(f, "backstop_drill_last_success_snapshot_timestamp_seconds", H_DRILL_SUCC_SNAP);
		if (!archive)
			carry(f, "backstop_drill_last_success_rto_seconds", H_DRILL_SUCC_RTO);
	}
	rc = mfile_write(f, err);
	free(f);
	return rc;
}

int bs_cmd_metrics_drill(const struct bs_config *cfg, const struct bs_drill_report *reports, size_t n,
			 struct bs_err *err)
{
	size_t i, j;
	int rc = 0;

	if (!enabled(cfg))
		return 0;
	for (i = 0; i < n; i++) {
		struct drill_run d;
		const char *db = reports[i].database ? reports[i].database : "?";
		struct bs_err e;

		if (reports[i].mode == BS_DRILL_REVERIFY)
			continue;
		for (j = 0; j < i; j++)
			if (strcmp(reports[j].database ? reports[j].database : "?", db) == 0)
				break;
		if (j < i)
			continue; /* this database was written with an earlier report */
		memset(&d, 0, sizeof(d));
		d.database = db;
		d.mode = reports[i].mode;
		d.ok = 1;
		for (j = i; j < n; j++) {
			const struct bs_drill_report *r = &reports[j];
			if (strcmp(r->database ? r->database : "?", db) != 0)
				continue;
			d.ok &= strcmp(bs_drill_verdict(r), "pass") == 0;
			d.error |= r->could_not_run;
			d.findings += r->findings_total;
			d.seconds += r->t_total;
			if (!d.last || r->snapshot_start >= d.last->snapshot_start)
				d.last = r;
		}
		bs_err_init(&e);
		if (write_drill(cfg, &d, &e) < 0 && rc == 0) {
			*err = e;
			rc = -1;
		}
	}
	return rc;
}

int bs_cmd_metrics_drill_failed(const struct bs_config *cfg, const char *database, int archive_only,
				struct bs_err *err)
{
	struct drill_run d;
	char *db = NULL;
	int rc;

	if (!enabled(cfg))
		return 0;
	if (!database && !cfg->database)
		return 0; /* no database to say it about */
	if (!database && !(database = db = bs_cmd_metrics_dbname(cfg)))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	memset(&d, 0, sizeof(d));
	d.database = database;
	d.mode = archive_only ? BS_DRILL_ARCHIVE : BS_DRILL_FULL;
	d.error = 1;
	rc = write_drill(cfg, &d, err);
	free(db);
	return rc;
}

/* ---- prune ------------------------------------------------------------------ */

int bs_cmd_metrics_prune(const struct bs_config *cfg, const char *database, size_t kept, size_t deleted,
			 int ok, double seconds, struct bs_err *err)
{
	static const char h_succ[] = "when a prune last succeeded (Unix time)";
	struct mfile *f;
	int rc;

	if (!enabled(cfg))
		return 0;
	f = malloc(sizeof(*f));
	if (!f)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	mfile_open(f, cfg, "prune", database, NULL);
	add(f, "backstop_prune_last_run_timestamp_seconds", "when the last prune ended (Unix time)", (double)time(NULL));
	add(f, "backstop_prune_last_run_success", "1 if the last prune succeeded, else 0", ok ? 1 : 0);
	add(f, "backstop_prune_last_run_duration_seconds", "wall time of the last prune", seconds);
	if (ok) {
		add(f, "backstop_prune_last_run_kept_snapshots", "snapshots the last prune kept", (double)kept);
		add(f, "backstop_prune_last_run_deleted_snapshots", "snapshots the last prune deleted", (double)deleted);
		add(f, "backstop_prune_last_success_timestamp_seconds", h_succ, (double)time(NULL));
	} else {
		carry(f, "backstop_prune_last_success_timestamp_seconds", h_succ);
	}
	rc = mfile_write(f, err);
	free(f);
	return rc;
}

/* ---- restore, gate, rollback ------------------------------------------------- */

/* Write f and free it; err NULL: a failure is a warning. */
static int finish(struct mfile *f, struct bs_err *err)
{
	struct bs_err e;
	int rc;

	bs_err_init(&e);
	rc = mfile_write(f, err ? err : &e);
	if (rc < 0 && !err)
		bs_warn("%s", e.msg);
	free(f);
	return rc;
}

static struct mfile *mfile_new(struct bs_err *err)
{
	struct mfile *f = malloc(sizeof(*f));

	if (!f) {
		if (err)
			bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		else
			bs_warn("metrics not written: out of memory");
	}
	return f;
}

#define H_RESTORE_SUCC_TS "when the last successful restore ended (Unix time)"
#define H_RESTORE_SUCC_DUR "wall time of the last successful restore"

int bs_cmd_metrics_restore(const struct bs_config *cfg, const struct bs_restore_metrics *m, struct bs_err *err)
{
	struct mfile *f;
	double now = (double)time(NULL);
	const char *database = m->database;
	char *db = NULL;
	int rc;

	if (!enabled(cfg))
		return 0;
	if (!database && cfg->database && !(database = db = bs_cmd_metrics_dbname(cfg)))
		return err ? bs_err_set(err, BS_ERR_NOMEM, "out of memory") : -1;
	if (!database)
		return 0; /* no database to say it about */
	if (!(f = mfile_new(err))) {
		free(db);
		return -1;
	}
	mfile_begin(f, cfg, "restore", database);
	{
		const char *kv[] = { "database", database, "repository", cfg->repository ? cfg->repository : "",
				     "target", m->target && *m->target ? m->target : NULL, NULL };
		mfile_labels(f, kv);
	}
	add(f, "backstop_restore_last_run_timestamp_seconds", "when the last restore ended (Unix time)", now);
	add(f, "backstop_restore_last_run_success", "1 if the last restore succeeded, else 0", m->ok ? 1 : 0);
	add(f, "backstop_restore_last_run_duration_seconds", "wall time of the last restore, whatever its outcome",
	    m->seconds);
	if (m->ok && m->snapshot_start)
		add(f, "backstop_restore_last_run_snapshot_timestamp_seconds",
		    "start time of the snapshot the last restore loaded (Unix time)", (double)m->snapshot_start);
	if (m->ok) {
		add(f, "backstop_restore_last_run_bytes", "bytes of table data the last restore loaded (COPY text)",
		    (double)m->bytes);
		add(f, "backstop_restore_last_run_rows", "rows the last restore loaded", (double)m->rows);
		add(f, "backstop_restore_last_run_tables", "tables the last restore loaded", (double)m->tables);
		add(f, "backstop_restore_last_success_timestamp_seconds", H_RESTORE_SUCC_TS, now);
		add(f, "backstop_restore_last_success_duration_seconds", H_RESTORE_SUCC_DUR, m->seconds);
	} else {
		/* with the labels of the run they come from (its target) */
		keep_prefix(f, "backstop_restore_last_success_");
	}
	rc = finish(f, err);
	free(db);
	return rc;
}

#define H_GATE_GO_TS "when the last GO decision was made (Unix time); release: what it let through"

int bs_cmd_metrics_gate(const struct bs_config *cfg, const struct bs_gate_metrics *m, struct bs_err *err)
{
	static const char *const state_value[BS_STATE_COUNT] = { "ok", "warn", "fail", "unknown", "skipped", "waived" };
	struct mfile *f;
	char key[256];
	double now = (double)time(NULL);
	int decided = m->rc >= 0, go = decided && m->go, existed;

	if (!enabled(cfg) || !m->policy)
		return 0;
	if (!(f = mfile_new(err)))
		return -1;
	if (m->gate)
		snprintf(key, sizeof(key), "%s_gate_%s", m->policy, m->gate);
	else
		snprintf(key, sizeof(key), "%s", m->policy);
	existed = mfile_begin(f, cfg, "gate", key);
	if (!decided && !existed) {
		free(f);
		return 0;
	}
	{
		const char *kv[] = { "policy", m->policy, "gate", m->gate, "release", m->release, NULL };
		mfile_labels(f, kv);
	}
	add(f, "backstop_gate_last_decision_timestamp_seconds", "when the last gate check ended (Unix time)", now);
	add(f, "backstop_gate_last_decision_go", "1 if the last gate check decided GO, else 0", go ? 1 : 0);
	add(f, "backstop_gate_last_decision_error",
	    "1 if the last gate check could not evaluate every criterion or record its decision, else 0",
	    !go && m->rc != 1 ? 1 : 0);
	add(f, "backstop_gate_last_decision_duration_seconds", "wall time of the last gate check", m->seconds);
	for (int s = 0; decided && m->counts && s < BS_STATE_COUNT; s++) {
		const char *kv[] = { "policy", m->policy, "gate", m->gate, "release", m->release, "state", state_value[s],
				     NULL };
		add_labelled(f, "backstop_gate_last_decision_criteria", "criteria of the last gate check in each state",
			     kv, (double)m->counts[s]);
	}
	if (go)
		add(f, "backstop_gate_last_go_timestamp_seconds", H_GATE_GO_TS, now);
	else
		keep_prefix(f, "backstop_gate_last_go_timestamp_seconds");
	return finish(f, err);
}

#define H_RB_SUCC_TS "when the last rollback that left the service healthy ended (Unix time)"

int bs_cmd_metrics_rollback(const struct bs_config *cfg, const struct bs_rollback_metrics *m, struct bs_err *err)
{
	static const char *const results[] = { "ok", "unhealthy", "interrupted", "failed" };
	const char *result = m->rc == 0 ? "ok" : m->rc == 1 ? "unhealthy"
			     : m->result && strcmp(m->result, "interrupted") == 0 ? "interrupted" : "failed";
	double now = (double)time(NULL);
	struct mfile *f;

	if (!enabled(cfg) || !m->service)
		return 0;
	if (!(f = mfile_new(err)))
		return -1;
	mfile_begin(f, cfg, "rollback", m->service);
	{
		const char *kv[] = { "service", m->service, "repository", cfg->repository ? cfg->repository : "",
				     "release", m->release, NULL };
		mfile_labels(f, kv);
	}
	add(f, "backstop_rollback_last_run_timestamp_seconds", "when the last rollback ended (Unix time)", now);
	add(f, "backstop_rollback_last_run_success", "1 if the last rollback left the service healthy, else 0",
	    m->rc == 0 ? 1 : 0);
	for (size_t i = 0; i < sizeof(results) / sizeof(results[0]); i++) {
		const char *kv[] = { "service", m->service, "repository", cfg->repository ? cfg->repository : "",
				     "release", m->release, "result", results[i], NULL };
		add_labelled(f, "backstop_rollback_last_run_result",
			     "1 for the outcome of the last rollback: ok, unhealthy, interrupted or failed", kv,
			     strcmp(result, results[i]) == 0 ? 1 : 0);
	}
	add(f, "backstop_rollback_last_run_duration_seconds", "wall time of the last rollback, whatever its outcome",
	    m->seconds);
	if (m->rc == 0)
		add(f, "backstop_rollback_last_success_timestamp_seconds", H_RB_SUCC_TS, now);
	else
		keep_prefix(f, "backstop_rollback_last_success_timestamp_seconds");
	keep_prefix(f, "backstop_rollback_watch_");
	return finish(f, err);
}

int bs_cmd_metrics_rollback_watch(const struct bs_config *cfg, const struct bs_rollback_watch_metrics *m,
				  struct bs_err *err)
{
	static const char *const verdicts[] = { "good", "bad", "down", "error" };
	struct mfile *f;

	if (!enabled(cfg) || !m->service)
		return 0;
	if (!(f = mfile_new(err)))
		return -1;
	mfile_begin(f, cfg, "rollback", m->service);
	/* the rollback part first, as it was */
	keep_prefix(f, "backstop_rollback_last_");
	{
		const char *kv[] = { "service", m->service, "repository", cfg->repository ? cfg->repository : "",
				     "release", m->release && *m->release ? m->release : NULL, NULL };
		mfile_labels(f, kv);
	}
	add(f, "backstop_rollback_watch_last_run_timestamp_seconds", "when the last rollback watch ended (Unix time)",
	    (double)time(NULL));
	for (size_t i = 0; i < sizeof(verdicts) / sizeof(verdicts[0]); i++) {
		const char *kv[] = { "service", m->service, "repository", cfg->repository ? cfg->repository : "",
				     "release", m->release && *m->release ? m->release : NULL, "verdict", verdicts[i],
				     NULL };
		add_labelled(f, "backstop_rollback_watch_last_run_verdict",
			     "1 for the verdict of the last watch: good (healthy throughout), bad (down past the outage limit), down (down at its end), error",
			     kv, m->verdict && strcmp(m->verdict, verdicts[i]) == 0 ? 1 : 0);
	}
	add(f, "backstop_rollback_watch_last_run_duration_seconds", "how long the last watch probed", m->seconds);
	add(f, "backstop_rollback_watch_last_run_outage_seconds", "the longest outage the last watch saw",
	    m->outage_seconds);
	add(f, "backstop_rollback_watch_last_run_rounds", "probe rounds of the last watch", (double)m->rounds);
	add(f, "backstop_rollback_watch_last_run_failed_rounds", "probe rounds of the last watch in which a probe failed",
	    (double)m->failed_rounds);
	return finish(f, err);
}
