/*
 * restore.c - restore a snapshot from the repository.
 *
 * Steps: open the repository -> resolve the snapshot in the catalog ->
 * load the keys it needs -> open and decrypt the archive -> run the restore
 * engine (or, with --list, read the header and manifest; with
 * --globals-only, the roles).  Rendering is bs_restore_list_write's.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command/event.h"
#include "command/keys.h"
#include "command/metrics.h"
#include "command/restore.h"
#include "command/setup.h"
#include "common/escape.h"
#include "common/log.h"
#include "common/progress.h"
#include "common/sigwatch.h"
#include "pg/conn.h"
#include "report/report.h"
#include "restore/restore.h"

int bs_restore_list_write(const struct bs_snap_record *rec, const struct bs_manifest *m, int json, FILE *f,
			  struct bs_err *err)
{
	size_t i;

	if (json) {
		json_t *o = json_object(), *a = json_array();
		for (i = 0; i < m->ntables; i++) {
			const struct bs_mtable *t = &m->tables[i];
			json_array_append_new(a, json_pack("{s:s,s:s,s:I,s:I,s:I}", "schema", t->schema,
							   "name", t->name, "rows", (json_int_t)t->rows,
							   "bytes", (json_int_t)t->raw_bytes,
							   "chunks", (json_int_t)t->nchunks));
		}
		json_object_set_new(o, "id", json_string(rec->id));
		json_object_set_new(o, "database", json_string(rec->database));
		json_object_set_new(o, "tables", a);
		json_object_set_new(o, "sequences", json_integer((json_int_t)m->nseqs));
		json_object_set_new(o, "large_objects", json_integer((json_int_t)m->nblobs));
		if (bs_json_doc_write(o, f) < 0)
			return bs_err_set(err, BS_ERR_IO, "unable to write output");
		return 0;
	}
	fprintf(f, "snapshot %s of database '%s': %zu tables, %zu sequences, %zu large objects\n",
		rec->id, bs_esc(rec->database), m->ntables, m->nseqs, m->nblobs);
	fprintf(f, "%-48s %14s %12s %7s\n", "TABLE", "ROWS", "BYTES", "CHUNKS");
	for (i = 0; i < m->ntables; i++) {
		const struct bs_mtable *t = &m->tables[i];
		char name[512];
		snprintf(name, sizeof(name), "%s.%s", t->schema, t->name);
		fprintf(f, "%-48s %14llu %12llu %7zu\n", bs_esc(name), (unsigned long long)t->rows,
			(unsigned long long)t->raw_bytes, t->nchunks);
	}
	return ferror(f) ? bs_err_set(err, BS_ERR_IO, "unable to write output") : 0;
}

/* A restore event: the snapshot, its database, the target. */
static void restore_event(struct bs_event *ev, const char *name, enum bs_event_kind kind,
			  const struct bs_restore_request *rq, const struct bs_snap_record *rec)
{
	char *target = bs_pg_conninfo_dbname(rq->engine->target);

	bs_event_init(ev, name, kind);
	bs_event_add(ev, "REPOSITORY", "%s", rq->cfg->repository ? rq->cfg->repository : "");
	bs_event_add(ev, "DATABASE", "%s", rec->database ? rec->database : rq->database ? rq->database : "");
	if (*rec->id)
		bs_event_add(ev, "SNAPSHOT_ID", "%s", rec->id);
	bs_event_add(ev, "TARGET", "%s", target ? target : "");
	free(target);
}

/* post-restore after every restore attempt (not --list, --globals-only). */
static void post_restore(const struct bs_restore_request *rq, const struct bs_snap_record *rec,
			 const struct bs_restore_result *res, double t0, const struct bs_err *err)
{
	struct bs_event ev;

	restore_event(&ev, "post-restore", err ? BS_EVENT_FAILURE : BS_EVENT_SUCCESS, rq, rec);
	bs_event_add(&ev, "RESULT", "%s", err ? "failed" : "ok");
	if (err)
		bs_event_add(&ev, "ERROR", "%s", err->msg);
	else
		bs_event_add(&ev, "ROWS", "%llu", (unsigned long long)res->rows);
	bs_event_add(&ev, "DURATION_SECONDS", "%.1f", bs_now() - t0);
	bs_cmd_event_after(rq->cfg, rq->cfg->hooks.post_restore, &ev, 0, NULL);
	bs_event_release(&ev);
}

int bs_cmd_restore(const struct bs_restore_request *rq, struct bs_snap_record *rec,
		   struct bs_restore_result *res, char **text, struct bs_err *err)
{
	int tell = rq->tell && !rq->list && !rq->globals_only;
	double t0 = bs_now();
	struct bs_event ev;
	struct bs_repo *repo = NULL;
	struct bs_catalog cat;
	const struct bs_snap_record *found;
	struct bs_age_identities *ids = NULL;
	struct bs_rstream *in = NULL;
	struct bs_archive_expect x;
	struct bs_progress prog;
	int rc = -1;

	bs_catalog_init(&cat);
	bs_snap_record_init(rec);
	*text = NULL;
	bs_progress_init(&prog, "restore");

	/* step: repository and catalog */
	if (bs_cmd_repo_open(rq->cfg, &repo, err) < 0 ||
	    bs_catalog_load(repo, rq->database, &cat, err) < 0)
		goto out;
	found = bs_catalog_find(&cat, rq->spec, rq->before, err);
	if (!found)
		goto out;
	if (bs_snap_record_copy(rec, found) < 0) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}

	/* step: keys, then the archive stream (decrypting) */
	if (rec->encrypted && bs_keys_identities(rq->cfg, rq->identity_file, rec, &ids, err) < 0)
		goto out;
	if (bs_open_archive(repo, rec, ids, &in, &x, err) < 0)
		goto out;
	rq->engine->expect = &x;

	/* step: list, or restore */
	if (rq->list) {
		bs_manifest_release(&res->manifest);
		rc = bs_restore_read_manifest(in, &x, &res->manifest, err);
		goto out;
	}
	if (rq->globals_only && !rq->engine->target) {
		int created = 0;
		if ((rc = bs_restore_globals(rq->engine, in, text, &created, err)) < 0)
			bs_err_prefix(err, "snapshot %s", rec->id);
		goto out;
	}
	if (rq->globals_only) {
		int created = 0;
		rc = bs_restore_globals(rq->engine, in, NULL, &created, err);
		if (rc == 0)
			bs_info("snapshot %s: %d role%s created", rec->id, created, created == 1 ? "" : "s");
		if (rc < 0)
			bs_err_prefix(err, "snapshot %s", rec->id);
		goto out;
	}
	if (tell) {
		restore_event(&ev, "pre-restore", BS_EVENT_BEFORE, rq, rec);
		rc = bs_cmd_event(rq->cfg, rq->cfg->hooks.pre_restore, &ev, 0, err);
		bs_event_release(&ev);
		if (rc < 0) {
			bs_err_hint(err, "the pre-restore hook must exit 0 for the restore to run; nothing was changed");
			goto out;
		}
		rc = -1;
	}
	rq->engine->progress = &prog;
	bs_info("restoring snapshot %s of '%s' (%s)", rec->id, rec->database,
		rec->encrypted ? "encrypted" : "unencrypted");
	bs_progress_start(&prog, rq->progress);
	rc = bs_restore_run(rq->engine, in, res, err);
	bs_progress_stop(&prog);
	if (rc < 0)
		bs_err_prefix(err, "restore of snapshot %s failed", rec->id);
out:
	/* Reported once a snapshot was found (a mistyped id is a usage error,
	 * not a failed restore), and not when a signal is ending the process
	 * (its clean-up is what failed the restore). */
	if (!rec->id[0] || bs_sigwatch_fired())
		tell = 0;
	if (tell)
		post_restore(rq, rec, res, t0, rc < 0 ? err : NULL);
	if (rec->id[0] && !bs_sigwatch_fired() && !rq->list && !rq->globals_only)
		/* also a rollback's restore: metrics say what the database went through */
		bs_cmd_metrics_restore(rq->cfg, &(struct bs_restore_metrics){
			.database = rec->database ? rec->database : rq->database, .target = res->database,
			.ok = rc == 0, .seconds = bs_now() - t0, .snapshot_start = rec->start,
			.bytes = res->bytes, .rows = res->rows, .tables = res->tables }, NULL);
	rq->engine->expect = NULL; /* x lives on this stack */
	bs_rstream_free(in);
	bs_age_identities_free(ids);
	bs_catalog_release(&cat);
	bs_repo_close(repo);
	return rc;
}
