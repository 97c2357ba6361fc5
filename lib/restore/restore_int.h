/*
 * restore_int.h - the restore engine's internals, shared by the files of
 * lib/restore (not part of the library's interface).
 *
 *   restore.c   orchestration: the steps, in order; options; result
 *   target.c    the target database: create, check empty, drop on failure
 *   schema.c    schema.dump: spool, TOC selection, pre-data, post-data,
 *               materialized views, event triggers
 *   swap.c      --clean: restore into a new database, swap names
 *   data.c      the archive's members after schema.dump; checks against
 *               manifest.json; sequences
 *   loaders.c   the pool of loader connections (COPY chunks, run SQL)
 *   blobs.c     large objects
 *   select.c    table filters and TOC selection (pure)
 */
#ifndef BS_RESTORE_RESTORE_INT_H
#define BS_RESTORE_RESTORE_INT_H

#include <libpq-fe.h>
#include <limits.h>
#include <stdint.h>

#include "archive/digest.h"
#include "archive/manifest.h"
#include "archive/tar.h"
#include "common/err.h"
#include "restore/dbscript.h"
#include "restore/restore.h"
#include "restore/select.h"

/* Largest archive member read into memory (a data chunk is a few MiB). */
#define RS_MEMBER_MAX ((size_t)512 << 20)
/* Largest header / manifest / ACL script. */
#define RS_META_MAX ((size_t)128 << 20)
/* Bytes queued or being loaded at once (besides one member): compressed,
 * or decompressed for chunks prepared by the reader (loaders.c). */
#define RS_QUEUE_BYTES ((size_t)96 << 20)
/* Largest chunk the reader decompresses ahead of its loader. */
#define RS_PREP_MAX ((size_t)32 << 20)
/* COPY data is handed to libpq in pieces of this size. */
#define RS_SEND_PIECE ((size_t)256 << 10)

/* One chunk as loaded. */
struct rs_chunk {
	uint32_t seq;
	uint64_t raw;
	struct bs_digest digest;   /* digest.rows = rows loaded */
};

/* One table of the archive header. */
struct rs_table {
	size_t idx;                /* index in manifest.tables */
	uint32_t no;
	char *schema, *name;       /* copies: the manifest grows while loaders run */
	char *qname;               /* "schema"."name" */
	char *copy_sql;            /* COPY "s"."t" ("c", ...) FROM STDIN */
	char *copy_freeze_sql;     /* ... WITH (FREEZE) */
	int selected;              /* its data is loaded */
	int keep_rows;             /* an extension's configuration table: the rows its
				    * CREATE EXTENSION inserted stay (no TRUNCATE, no FREEZE) */

	/* loaders, under the pool lock: the first chunks of a table the
	 * restore created go to one loader, in one transaction that starts
	 * with TRUNCATE, as COPY FREEZE (see loaders.c) */
	enum { RS_FRESH, RS_FREEZING, RS_LOADED } state;
	int release;               /* another loader starves: end the lane */
	int active;                /* loaders loading a chunk of it now */

	/* reader thread: chunk members seen (bitmap by seq) */
	uint8_t *seen;
	size_t seen_bytes;
	uint64_t nseen;

	/* loaders, under the pool lock: chunks loaded */
	struct rs_chunk *loaded;
	size_t nloaded, loaded_cap;
	uint64_t raw_loaded;       /* their COPY bytes */

	/* under the pool lock: the archive's end member for the table came
	 * (format version 3), and how many chunks it says the table has */
	int ended;
	uint64_t claimed;

	/* post-data that needs this table alone (indexes, PRIMARY KEY, UNIQUE,
	 * CHECK, EXCLUDE; schema.c): indices into cx->toc.  A loader runs them
	 * once the table's data is in, while other tables still load
	 * (loaders.c); the final post-data pass skips those that ran. */
	size_t *early;
	size_t nearly;
	enum { RS_PD_NONE, RS_PD_WAIT, RS_PD_READY, RS_PD_RUNNING, RS_PD_DONE } pd;
};

struct rs_pool;

/* A private temporary file for pg_restore (schema.c). */
struct rs_spool {
	int fd;
	char path[PATH_MAX];       /* what pg_restore opens, "" = none */
	char name[PATH_MAX];       /* its name while it has one, else "" */
};

/* Large objects, loaded by the reader thread on the main session. */
struct rs_blobs {
	uint32_t oid;              /* object being written, 0 = none */
	uint32_t next_seq;
	uint64_t bytes;            /* of the current object */
	struct bs_digest_obj *obj; /* its digest */
	struct bs_digest digest;   /* sum over finished objects */
	uint64_t count, total;
	int acl_done;
	char *acl;                 /* blobs/acl.sql, applied after the checks */
	/* per object, to check against the manifest */
	struct rs_blob_seen {
		uint32_t oid;
		uint32_t chunks;
		uint64_t bytes;
	} *seen;
	size_t nseen, seen_cap;
	/* owner role cache */
	char *role;
	int role_ok;
};

struct rs_ctx {
	const struct bs_restore_opts *o;
	struct bs_restore_result *res;
	struct bs_manifest *m;     /* &res->manifest */
	struct bs_areader *ar;       /* the archive (archive/reader.h) */
	struct bs_rstream *in;
	int jobs;

	/* target */
	char *dbname;
	PGconn *conn;              /* main session on the target database */
	int server_version;
	int created;               /* we created the database */
	int changed;               /* the target was modified */
	int superuser;             /* may lower deadlock_timeout (see target.c) */

	/* schema */
	struct rs_spool dump;      /* schema.dump */
	struct rs_spool list;      /* --use-list file (path "" = whole schema) */
	struct rs_spool list_post; /* post-data without event triggers (path "" = none) */
	struct rs_spool list_evt;  /* the event triggers alone (path "" = none) */
	char pg_restore[PATH_MAX];
	struct bs_toc toc;
	int have_toc;

	/* selection */
	struct bs_rfilter *filters;
	size_t nfilters;

	/* data */
	struct rs_table *tables;
	size_t ntables;
	struct rs_table **by_no;   /* sorted by no */
	struct rs_pool *pool;
	struct rs_blobs blobs;

	/* database level and roles (dbprops.c, globals.c) */
	struct bs_dbscript dbs;    /* schema.dump's database-level statements (with create) */
	int have_dbs;
	char *globals;             /* globals.json as read, or NULL (archives before version 2) */
	size_t globals_len;
};

/* restore.c */
struct rs_table *rs_table_by_no(struct rs_ctx *cx, uint32_t no);
void rs_progress_archive(struct rs_ctx *cx);

/* target.c */
/* A session on the maintenance database (postgres, else template1) of
 * target's server. */
int rs_target_maintenance(const char *target, PGconn **out, struct bs_err *err);
int rs_target_prepare(struct rs_ctx *cx, struct bs_err *err);
int rs_target_session(struct rs_ctx *cx, PGconn **out, struct bs_err *err);
void rs_target_undo(struct rs_ctx *cx, struct bs_err *err);
/* The restore finished or was undone: the guard no longer drops anything. */
void rs_target_disarm(struct rs_ctx *cx);
/* Session settings for pg_restore (PGOPTIONS), matching rs_target_session's. */
const char *rs_target_pgoptions(const struct rs_ctx *cx);

/* swap.c: restore --clean (restore into a temporary database, swap names) */
int rs_swap_run(const struct bs_restore_opts *o, struct bs_rstream *in, struct bs_restore_result *res,
		struct bs_err *err);
int rs_swap_is_temp_name(const char *name);

/* schema.c */
void rs_schema_init(struct rs_ctx *cx);
int rs_schema_spool(struct rs_ctx *cx, struct bs_err *err);
int rs_schema_select(struct rs_ctx *cx, struct bs_err *err);
int rs_schema_predata(struct rs_ctx *cx, struct bs_err *err);
int rs_schema_postdata(struct rs_ctx *cx, struct bs_err *err);
int rs_schema_refresh_matviews(struct rs_ctx *cx, struct bs_err *err);
int rs_schema_event_triggers(struct rs_ctx *cx, struct bs_err *err);
/* Before the data: find each selected table's post-data entries that need
 * that table alone (the archive must say when a table's data is complete:
 * format version 3; else nothing is planned). */
int rs_schema_early_plan(struct rs_ctx *cx, struct bs_err *err);
/* Run the planned entries of n tables (pg_restore --use-list, one
 * session); called by a loader thread. */
int rs_schema_early_run(struct rs_ctx *cx, struct rs_table *const *t, size_t n, struct bs_err *err);
void rs_schema_cleanup(struct rs_ctx *cx);

/* data.c */
int rs_data_load(struct rs_ctx *cx, struct bs_err *err);
int rs_data_check(struct rs_ctx *cx, struct bs_err *err);
int rs_data_sequences(struct rs_ctx *cx, struct bs_err *err);
int rs_read_member(struct bs_areader *ar, const char *name, uint64_t size, size_t max, char **buf,
		   struct bs_err *err);

/* loaders.c */
int rs_pool_start(struct rs_ctx *cx, int n, struct rs_pool **out, struct bs_err *err);
/* Queue a chunk (takes buf, malloc'd, in every case). Blocks while the
 * queue is full.  Fails with the pool's error once a loader failed. */
int rs_pool_chunk(struct rs_pool *p, struct rs_table *t, uint32_t seq, void *buf, size_t len,
		  struct bs_err *err);
/* Queue a statement (copied). */
int rs_pool_sql(struct rs_pool *p, const char *sql, struct bs_err *err);
/* Wait until everything queued is done; the first failure, if any. */
int rs_pool_wait(struct rs_pool *p, struct bs_err *err);
/* The archive's end member of t came: t has claimed chunks.  Once they
 * are loaded and committed, t's planned post-data may run on a loader
 * (rs_schema_early_run). */
void rs_pool_table_end(struct rs_pool *p, struct rs_table *t, uint64_t claimed);
/* Stop the loaders (dropping queued work) and close their sessions. */
void rs_pool_free(struct rs_pool *p);

/* blobs.c */
void rs_blobs_init(struct rs_blobs *b);
void rs_blobs_release(struct rs_blobs *b);
int rs_blobs_member(struct rs_ctx *cx, const char *name, uint32_t oid, uint32_t seq, const char *uname,
		    uint64_t size, struct bs_err *err);
int rs_blobs_acl(struct rs_ctx *cx, uint64_t size, struct bs_err *err);
int rs_blobs_apply_acl(struct rs_ctx *cx, struct bs_err *err);
int rs_blobs_finish(struct rs_ctx *cx, struct bs_err *err);
int rs_blobs_check(struct rs_ctx *cx, struct bs_err *err);

/* schema.c, for the other files */
int rs_spool_create(struct rs_spool *sp, const char *what, struct bs_err *err);
void rs_spool_release(struct rs_spool *sp);
int rs_read_fd(int fd, char **out, size_t *len, struct bs_err *err);
int rs_run_pg_restore(struct rs_ctx *cx, const char *const *opts, int with_db, int stdout_fd,
		      struct bs_err *err);

/* dbprops.c: the database-level properties of pg_dump --create */
/* Append --no-owner / --no-privileges / --role=R for pg_restore to argv at
 * n (rolebuf holds the last); returns the new n. */
size_t rs_restore_flags(const struct rs_ctx *cx, const char **argv, size_t n, char *rolebuf, size_t rolelen);
/* SET ROLE on a new session when --role was given. */
int rs_session_role(const struct rs_ctx *cx, PGconn *c, struct bs_err *err);
/* Read the database-level statements of schema.dump (with create). */
int rs_dbprops_load(struct rs_ctx *cx, struct bs_err *err);
/* CREATE DATABASE as the snapshot's (encoding, locale, provider,
 * template0) on the maintenance session c; *done = 0 when the archive has
 * no such statement or the server cannot honour it (a warning says what is
 * lost): the caller then creates the database its own way. */
int rs_dbprops_create(struct rs_ctx *cx, PGconn *c, int *done, struct bs_err *err);
/* After everything else: owner, settings, per-role settings, comment, grants. */
int rs_dbprops_apply(struct rs_ctx *cx, struct bs_err *err);

/* globals.c: roles and tablespaces the snapshot needs */
/* Create the missing roles (never altering existing ones) before the
 * database and its objects; refuse early when the restoring user can
 * neither create them nor do without (--no-owner, --no-privileges). */
int rs_globals_apply(struct rs_ctx *cx, struct bs_err *err);
/* --globals-only -d: create every missing role (strict). */
int bs_restore_globals_apply(const struct bs_restore_opts *o, const char *json, size_t len, int *created,
			     struct bs_err *err);

#endif
