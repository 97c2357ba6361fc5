/*
 * restore.h - restore a snapshot archive into a PostgreSQL database.
 *
 * The engine streams the archive once (docs/format.md): the header, then
 * schema.dump (spooled to a private temporary file and applied with
 * pg_restore --section=pre-data), then the data chunks, which a pool of
 * loader connections COPY in parallel, large objects, and finally
 * manifest.json, against which every loaded table is checked (rows and row
 * digest per chunk).  Then sequences are set, post-data is applied with
 * pg_restore -j, materialized views are refreshed and the restored tables
 * analyzed.
 *
 * Safety: without create the target must exist and be empty unless clean;
 * a refusal changes nothing.  With clean the snapshot is restored into a
 * new database (as create) and swapped in under the target's name only
 * once complete (swap.c): the target is untouched or fully replaced.
 * With create the database must not exist; if
 * the restore fails after creating it, it is dropped again (unless
 * keep_on_error).
 *
 * The engine never prints (warnings go through bs_log) and never exits, so
 * commands and restore drills can share it.
 */
#ifndef BS_RESTORE_RESTORE_H
#define BS_RESTORE_RESTORE_H

#include <stdint.h>

#include <pthread.h>

#include "archive/manifest.h"
#include "archive/reader.h"
#include "common/err.h"
#include "common/progress.h"
#include "common/stream.h"

/*
 * Interrupt safety: a command hands the engine a guard; from the moment the
 * engine has created the target database until the restore succeeded (or
 * was undone), bs_restore_guard_abort drops that database.  Meant for a
 * signal watcher thread (common/sigwatch.h).  Not armed under
 * keep_on_error.
 *
 * While CREATE DATABASE runs the guard is "creating": an abort then waits
 * (bounded) until the statement has ended, so a database whose creation
 * the signal interrupted is still dropped instead of appearing after the
 * process is gone (the server finishes the statement anyway).
 */
struct bs_restore_guard {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int armed;
	int creating;                /* CREATE DATABASE in flight */
	const char *target;          /* the opts' conninfo */
	char dbname[256];
};
#define BS_RESTORE_SETTLE_MS 60000 /* how long an abort waits for CREATE DATABASE */
void bs_restore_guard_init(struct bs_restore_guard *g);
/* Wait (at most timeout_ms) until no CREATE DATABASE is in flight; for a
 * caller that drops the database itself (a drill's scratch database). */
void bs_restore_guard_settle(struct bs_restore_guard *g, int timeout_ms);
/* 1: dropped the database (name copied to name), 0: nothing to do, -1: err. */
int bs_restore_guard_abort(struct bs_restore_guard *g, char name[256], struct bs_err *err);

struct bs_restore_opts {
	const char *target;          /* libpq conninfo/URI of the database to restore into */
	int create;                  /* create the target database (must not exist) */
	int clean;                   /* target may be non-empty: drop the snapshot's objects first */
	int jobs;                    /* loader connections and pg_restore -j for post-data (<1: 1) */
	const char *const *tables;   /* NULL or NULL-terminated "schema.name" / "name" filters */
	int schema_only, data_only;
	int no_owner;                /* as pg_restore -O: objects are owned by the restoring user */
	int no_privileges;           /* as pg_restore -x: no GRANT/REVOKE (objects, database) */
	const char *role;            /* as pg_restore --role: SET ROLE after connecting; NULL: none */
	int keep_on_error;           /* don't drop a database we created when the restore fails */
	int drop_old;                /* clean: drop the replaced database after the swap (default: keep) */
	int terminate_sessions;      /* clean: end other sessions on the target at the swap (default: refuse) */
	int caller_drops;            /* with keep_on_error: the caller (a drill) disposes of the
				      * database itself, so errors do not mention it */
	const char *pg_bindir;       /* NULL: bs_pg_find_tool search */
	struct bs_progress *progress;/* may be NULL */
	struct bs_restore_guard *guard; /* may be NULL */
	/* what the catalog record says the archive is (archive/reader.h); NULL:
	 * the archive is only checked against itself */
	const struct bs_archive_expect *expect;
};

struct bs_restore_result {
	char database[256];          /* target database name */
	char replaced[256];          /* clean: the name the replaced database is kept under ("": dropped) */
	int created;                 /* we created it */
	uint64_t tables, chunks, rows, bytes, blobs, sequences; /* loaded; bytes = COPY text bytes */
	double t_predata, t_data, t_postdata, t_total;   /* seconds; t_postdata includes analyze */
	struct bs_manifest manifest; /* header + manifest as read from the archive
				      * (manifest.has_manifest is 0 after a schema-only
				      * restore, which stops reading after schema.dump) */
};

void bs_restore_result_init(struct bs_restore_result *r);
void bs_restore_result_release(struct bs_restore_result *r);

/* Restore the archive read from in (not owned: the tar stream, already
 * decrypted by the caller).  res must have been initialised with
 * bs_restore_result_init; it is filled as far as the restore got, also on
 * failure.  Returns 0 or -1 with err set. */
int bs_restore_run(const struct bs_restore_opts *o, struct bs_rstream *in, struct bs_restore_result *res,
		   struct bs_err *err);

/* Read header + manifest only (for --list and archive checks): streams
 * through the archive, skipping data, and checks the member names and
 * order.  m is initialised here; release it with bs_manifest_release, also
 * on failure. */
int bs_restore_read_manifest(struct bs_rstream *in, const struct bs_archive_expect *expect, struct bs_manifest *m,
			     struct bs_err *err);

/* restore --globals-only: read the archive's globals.json (roles,
 * memberships, tablespaces; checked against the header's digest) from in;
 * with o->target NULL render it as SQL into *sql (malloc'd, the caller
 * frees; sql may be NULL only with a target), else create the missing
 * roles (and their memberships) on o->target's server, never altering an
 * existing role; *created counts them.  A snapshot taken before backstop
 * captured globals (format version 1) is BS_ERR_NOT_FOUND. */
int bs_restore_globals(const struct bs_restore_opts *o, struct bs_rstream *in, char **sql, int *created,
		       struct bs_err *err);

#endif
