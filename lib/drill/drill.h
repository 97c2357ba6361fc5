/*
 * drill.h - restore drills: prove that a snapshot restores and matches.
 *
 * A full drill restores a snapshot into a scratch database it creates
 * itself (scratch.c), recomputes every table's row count and row digest,
 * the sequences, the large objects and the schema inventory from the
 * restored data and compares them with the manifest (verify.c), runs the
 * smoke queries of the drill policy (policy.c), measures RTO and RPO, and
 * records the outcome in the catalog (record.c).  An archive check
 * (archive_check.c) does the archive half alone: decrypt, decompress, and
 * recompute every chunk's rows and digest, without a database.
 * report.c renders a report as text, JSON or JUnit XML.  See docs/drill.md.
 *
 * Verifiers collect: every difference becomes a finding in the report and
 * the work goes on; a function returns -1 only when the drill cannot run at
 * all (scratch server down, out of memory), with err set.  The library never
 * prints (bs_log only) and never exits.
 *
 * Ownership: structs are caller-allocated (an init and a release function each); every string
 * and array beneath them is owned by the struct.
 */
#ifndef BS_DRILL_DRILL_H
#define BS_DRILL_DRILL_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "archive/digest.h"
#include "archive/manifest.h"
#include "catalog/catalog.h"
#include "common/err.h"
#include "common/progress.h"
#include "common/stream.h"
#include "repo/repo.h"
#include "restore/restore.h"

/* ---- drill policy (policy.c) -------------------------------------------
 *
 * policies/drill.yaml, at the top level or under a single "drill:" key:
 *
 *   max_rto: 15m              the drill fails when RTO exceeds this (0: no limit)
 *   max_snapshot_age: 26h     ... or the snapshot is older than this at drill time
 *   stale_grace: 60s          age after which an unlocked scratch database is stale
 *   smoke_timeout: 60s        statement_timeout of each smoke query (0: none)
 *   smoke:
 *     - name: at least one admin user exists
 *       sql: SELECT count(*) > 0 FROM users WHERE is_admin
 *       expect: true          one row, one column, equal to this boolean
 *     - name: orders are there
 *       sql: SELECT id FROM orders LIMIT 10
 *       min_rows: 1           row count in [min_rows, max_rows] (either may be left out)
 *       max_rows: 10
 *
 * Unknown keys, wrong types, a smoke query with both or neither of expect
 * and min_rows/max_rows, min_rows > max_rows and duplicate names are
 * BS_ERR_POLICY errors with "file:line:column: ...". */

#define BS_DRILL_SMOKE_MAX 256
#define BS_DRILL_UNSET (-1)

struct bs_drill_smoke {
	char *name;
	char *sql;
	int expect;            /* BS_DRILL_UNSET, or 0/1 */
	int min_rows, max_rows;/* BS_DRILL_UNSET when not given */
};

struct bs_drill_policy {
	char *path;                    /* file loaded, or NULL */
	int64_t max_rto_ms;            /* BS_DRILL_UNSET: not in the file; 0: no limit */
	int64_t max_snapshot_age_ms;   /* likewise */
	int64_t stale_grace_ms;        /* BS_DRILL_UNSET: default BS_DRILL_STALE_GRACE_MS */
	int64_t smoke_timeout_ms;      /* default 60 s */
	struct bs_drill_smoke *smoke;
	size_t nsmoke;
};

void bs_drill_policy_init(struct bs_drill_policy *p);
void bs_drill_policy_release(struct bs_drill_policy *p);
/* Initialize p and read the file over it. */
int bs_drill_policy_load(struct bs_drill_policy *p, const char *path, struct bs_err *err);
/* The same from a string; name is used in positions. */
int bs_drill_policy_load_string(struct bs_drill_policy *p, const char *name, const char *text,
				struct bs_err *err);

/* ---- the report: what was checked and what differed ------------------- */

enum bs_drill_mode {
	BS_DRILL_FULL = 0,      /* restore into a scratch database, then verify */
	BS_DRILL_ARCHIVE,       /* --archive-only */
	BS_DRILL_REVERIFY,      /* verify an existing (kept) drill database */
};

/* Finding areas (stable strings, used in JSON and JUnit). */
#define BS_DRILL_AREA_ARCHIVE "archive"
#define BS_DRILL_AREA_RESTORE "restore"
#define BS_DRILL_AREA_TABLE "table"
#define BS_DRILL_AREA_SEQUENCE "sequence"
#define BS_DRILL_AREA_BLOB "large object"
#define BS_DRILL_AREA_SCHEMA "schema"
#define BS_DRILL_AREA_SMOKE "smoke"
#define BS_DRILL_AREA_LIMIT "limit"

#define BS_DRILL_FINDINGS_MAX 2000  /* kept in memory; the rest are only counted */

struct bs_drill_finding {
	const char *area;   /* one of BS_DRILL_AREA_* (static) */
	char *object;       /* "public.accounts", "index public.accounts_pkey", a member name; may be NULL */
	char *message;      /* what differs, lowercase, complete sentence-like */
};

struct bs_drill_table {
	char *schema, *name;
	uint64_t rows_expected, rows_actual;
	struct bs_digest expected, actual;
	int checked;        /* actual holds a recomputed value */
	int ok;             /* checked and equal */
	double seconds;
};

struct bs_drill_smoke_result {
	char *name;
	int ok;
	char *detail;       /* what it returned / why it failed */
	double seconds;
};

struct bs_drill_report {
	char id[BS_ID_MAX];            /* drill id, same shape as snapshot ids */
	char snapshot[BS_ID_MAX];
	char *database;                /* the snapshot's source database */
	enum bs_drill_mode mode;
	time_t start, end;             /* wall clock */
	time_t snapshot_start;

	char *scratch_server;          /* "host:port" of the scratch server, or NULL */
	char scratch_db[64];           /* scratch database name, or "" */
	int kept;                      /* the scratch database was left in place */

	/* seconds; fetch overlaps schema and data (the archive is streamed) */
	double t_fetch, t_setup, t_schema, t_data, t_postdata, t_verify, t_smoke, t_total;
	int64_t rto_ms;                /* wall time from start to a verified database; -1: not measured */
	int64_t rpo_ms;                /* the snapshot's age at drill time */
	int64_t max_rto_ms, max_snapshot_age_ms; /* limits applied (0: none) */

	/* what was checked */
	uint64_t rows, chunks, archive_bytes, raw_bytes, sequences, blobs, schema_objects, members;
	struct bs_drill_table *tables; /* one per manifest table, manifest order */
	size_t ntables;
	struct bs_drill_smoke_result *smoke;
	size_t nsmoke;

	struct bs_drill_finding *findings;
	size_t nfindings, findings_cap;
	uint64_t findings_total;       /* including those past BS_DRILL_FINDINGS_MAX */

	int could_not_run;             /* the drill did not reach a verdict */
	struct bs_err error;           /* why, when could_not_run */
	int recorded;                  /* written to the catalog */
	char record_key[160];
};

void bs_drill_report_init(struct bs_drill_report *r, enum bs_drill_mode mode);
void bs_drill_report_release(struct bs_drill_report *r);
/* Add a finding (copies object and the formatted message).  Returns -1 only
 * when out of memory. */
int bs_drill_report_add(struct bs_drill_report *r, const char *area, const char *object,
			const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Size the per-table array from a manifest (names copied, expected values set). */
int bs_drill_report_tables(struct bs_drill_report *r, const struct bs_manifest *m);
/* "pass", "fail", or "error" (could not run). */
const char *bs_drill_verdict(const struct bs_drill_report *r);
const char *bs_drill_mode_name(enum bs_drill_mode m);
/* Exit code of a report: 0 pass, 1 findings, 3 could not run. */
int bs_drill_exit_code(const struct bs_drill_report *r);

/* ---- rendering (report.c) ---------------------------------------------- */

/* Human report: header, what was checked, findings, RTO breakdown. */
int bs_drill_report_text(const struct bs_drill_report *r, FILE *f);
/* Full JSON object (caller json_decref's): the record fields plus every table. */
struct json_t *bs_drill_report_json(const struct bs_drill_report *r);
/* The drill as a report of the report layer (report/report.h): a finding
 * per case - archive, restore, one per table (group <class>.tables), large
 * objects, sequences, schema, one per smoke query (<class>.smoke), max_rto
 * and max_snapshot_age (SKIPPED when no limit is set) - OK when nothing
 * was found, FAIL once per drill finding of the case (the area is the
 * category), UNKNOWN for a drill that could not run.  <class> is
 * backstop.drill.<snapshot> (backstop.archive.<snapshot> for an
 * archive-only check).  out is initialised by the caller. */
struct bs_report;
int bs_drill_report_findings(const struct bs_drill_report *r, struct bs_report *out);
/* JUnit XML of n drills, one document (bs_report_write_junit_all). */
int bs_drill_junit(const struct bs_drill_report *const *r, size_t n, FILE *f);

/* ---- catalog records (record.c) ----------------------------------------
 *
 * drills/<snapshot-id>/<drill-id>.json (docs/drill.md has the schema). */

/* The record as JSON text (malloc'd, caller frees). */
int bs_drill_record_json(const struct bs_drill_report *r, char **out, size_t *len, struct bs_err *err);
/* Write the record into the repository (atomic); sets r->recorded/record_key. */
int bs_drill_record_put(struct bs_repo *repo, struct bs_drill_report *r, struct bs_err *err);

struct bs_drill_summary {
	char id[BS_ID_MAX];
	char snapshot[BS_ID_MAX];
	char mode[16];
	char verdict[8];
	char *database;
	time_t start;
	int64_t rto_ms, rpo_ms;      /* -1 when absent */
	uint64_t findings;
	char *tool_version;
	char *key;                   /* repository key */
};

struct bs_drill_list {
	struct bs_drill_summary *d;  /* sorted by start, then id */
	size_t n, cap;
	size_t damaged;              /* records that could not be parsed (skipped) */
};

void bs_drill_list_init(struct bs_drill_list *l);
void bs_drill_list_release(struct bs_drill_list *l);
/* Every drill record (of one snapshot if snapshot != NULL).  A record that
 * cannot be parsed is skipped with a warning and counted. */
int bs_drill_list_load(struct bs_repo *repo, const char *snapshot, struct bs_drill_list *l,
		       struct bs_err *err);
/* The newest passing drill of a snapshot of database db in l (full drills
 * only when full_only), or NULL.  A record names its database; an older
 * one without is matched by its snapshot in cat. */
const struct bs_drill_summary *bs_drill_newest_pass(const struct bs_drill_list *l, const char *db,
						    const struct bs_catalog *cat, int full_only);
/* Parse one record into s (strings owned by s; release with
 * bs_drill_summary_release). */
int bs_drill_summary_parse(struct bs_drill_summary *s, const char *buf, size_t len, struct bs_err *err);
void bs_drill_summary_release(struct bs_drill_summary *s);

/* ---- scratch databases (scratch.c) -------------------------------------
 *
 * Names: BS_DRILL_PREFIX + "<yyyymmddhhmmss>_<6 hex>" (UTC creation time).
 * While a drill runs, its coordinator session on the scratch server's
 * maintenance database (the conninfo's own database) holds
 * pg_advisory_lock(BS_DRILL_LOCK_CLASS, hashtext(<name>)); the lock is taken
 * before the database exists and held until it is dropped.  A database is
 * stale when its name has that exact shape, no session holds its lock, and
 * it is older than the grace period or nobody is connected to it, and it was
 * not kept on purpose (--keep marks it with a comment). */

#define BS_DRILL_PREFIX "backstop_drill_"
#define BS_DRILL_NAME_LEN (sizeof(BS_DRILL_PREFIX) - 1 + 14 + 1 + 6)
#define BS_DRILL_LOCK_CLASS 1651733604 /* "bstd" */
#define BS_DRILL_STALE_GRACE_MS 60000

/* Make a new name from t.  out must hold 64 bytes. */
void bs_drill_scratch_name(time_t t, char out[64]);
/* 1 if name has exactly the generated shape (then *created, if not NULL,
 * receives the time in it), else 0. */
int bs_drill_scratch_name_valid(const char *name, time_t *created);

struct bs_drill_scratch {
	char *server;          /* maintenance conninfo (secret: may hold a password) */
	char *maint_db;        /* its database name */
	char *where;           /* "host:port" for reports */
	char name[64];         /* the scratch database ("" until chosen) */
	char *target;          /* conninfo of the scratch database (secret) */
	PGconn *lock_conn;     /* holds the advisory lock on name */
	int owned;             /* name is locked and did not exist when chosen: any
				* database of that name was created by this drill */
	int keep;              /* never drop it */
	int dropped;
	pthread_mutex_t mu;    /* drop may come from a signal watcher thread */
};

void bs_drill_scratch_init(struct bs_drill_scratch *s);
/* Connect to the scratch server's maintenance database.  Refuses
 * (BS_ERR_REFUSED) a conninfo whose own database has the drill prefix. */
int bs_drill_scratch_connect(struct bs_drill_scratch *s, const char *server_conninfo, struct bs_err *err);
/* Choose a fresh name, take its lock, check that no such database exists. */
int bs_drill_scratch_claim(struct bs_drill_scratch *s, struct bs_err *err);
/* Adopt an existing drill database for --reverify: the name must have the
 * drill shape, exist, and not be locked by a running drill. */
int bs_drill_scratch_adopt(struct bs_drill_scratch *s, const char *name, struct bs_err *err);
/* Drop every stale drill database on the server (never the claimed one,
 * never the maintenance database).  *ndropped counts them.  Failure to drop
 * one is logged and skipped. */
int bs_drill_scratch_cleanup(struct bs_drill_scratch *s, int64_t grace_ms, int *ndropped,
			     struct bs_err *err);
/* Drop the scratch database (terminate its sessions; DROP ... WITH (FORCE))
 * on a connection of its own, unless keep or not owned.  Idempotent and
 * thread-safe.  Returns 1 if it dropped, 0 if there was nothing to do. */
int bs_drill_scratch_drop(struct bs_drill_scratch *s, struct bs_err *err);
/* Mark the scratch database as kept (COMMENT ON DATABASE "backstop: kept
 * by drill <id> ..."; id may be NULL), on a connection of its own:
 * stale clean-up never drops a kept database; it stays until dropped by
 * hand or re-verified without --keep.  1 marked, 0 no such database, -1 error. */
int bs_drill_scratch_mark_kept(struct bs_drill_scratch *s, const char *drill_id, struct bs_err *err);
/* 1 if a database of that name exists now. */
int bs_drill_scratch_exists(struct bs_drill_scratch *s, const char *name, struct bs_err *err);
/* Close the lock session (releasing the lock) and free everything. */
void bs_drill_scratch_release(struct bs_drill_scratch *s);

/* The scratch database of the drill in progress, for a signal watcher
 * thread: the drill sets it while its database may exist, the watcher calls
 * bs_drill_guard_abort, which drops it (unless kept) and leaves the guard
 * locked so that the drill cannot release it before the process ends. */
struct bs_drill_guard {
	pthread_mutex_t mu;
	struct bs_drill_scratch *active;
	/* handed to the restore engine as its guard: it says when CREATE
	 * DATABASE of the scratch database is in flight, so an abort waits for
	 * it to end before dropping (it never drops on its own: the engine runs
	 * with keep_on_error) */
	struct bs_restore_guard creating;
};

void bs_drill_guard_init(struct bs_drill_guard *g);
void bs_drill_guard_set(struct bs_drill_guard *g, struct bs_drill_scratch *s); /* g may be NULL */
/* 1 if a scratch database was dropped (its name in name), 0 if none was
 * active or it is kept (then marked as kept; name says which), -1 on error.  Never returns the
 * guard to use: call it only on the way out of the process. */
int bs_drill_guard_abort(struct bs_drill_guard *g, char name[64], int *kept, struct bs_err *err);

/* ---- verification of a restored database (verify.c) --------------------- */

struct bs_drill_verify_opts {
	const char *conninfo;            /* the scratch database */
	const struct bs_manifest *m;
	int jobs;                        /* parallel COPY connections (>=1) */
	struct bs_progress *progress;    /* may be NULL */
};

/* Recompute and compare tables (rows, digest), sequences, large objects and
 * the schema inventory (plus indexes left invalid).  Findings go to r.
 * Returns -1 only if the database cannot be read at all. */
int bs_drill_verify(const struct bs_drill_verify_opts *o, struct bs_drill_report *r, struct bs_err *err);

/* Run the policy's smoke queries in the scratch database (each in a
 * read-only transaction that is rolled back).  Findings go to r. */
int bs_drill_smoke(const char *conninfo, const struct bs_drill_policy *p, struct bs_drill_report *r,
		   struct bs_err *err);

/* ---- archive-only check (archive_check.c) ------------------------------ */

/* Stream the (decrypted) tar: member names and order, header, schema.dump,
 * every chunk decompressed (zstd frame checksum) and its rows counted and
 * digested on `jobs` worker threads, large objects, manifest; then compare
 * chunk by chunk and table by table with the manifest: missing, extra and
 * duplicate members, row counts, digests.  Findings go to r (also when the
 * stream fails midway: the cause is named).  If m is not NULL it receives the
 * header and manifest as read (init'ed here; release it).  x (may be NULL)
 * is what the catalog record says the archive is (archive/reader.h): a
 * mismatch is a finding.  Returns -1 only when out of memory or on an
 * internal error. */
struct bs_archive_expect;
int bs_drill_archive_check(struct bs_rstream *in, const struct bs_archive_expect *x, int jobs,
			   struct bs_progress *progress, struct bs_drill_report *r, struct bs_manifest *m,
			   struct bs_err *err);

/* ---- helpers ----------------------------------------------------------- */

/* A read stream over inner (owned) that adds the seconds spent in inner's
 * reads to *seconds (the archive fetch + decrypt time of a streamed
 * restore). */
struct bs_rstream *bs_drill_timed_stream(struct bs_rstream *inner, double *seconds);


#endif
