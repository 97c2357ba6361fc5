/*
 * snap_int.h - internals shared by the lib/snap sources; nothing outside lib/snap
 * includes it.
 *
 * One struct snap_ctx lives for one bs_snap_run.  The coordinator thread
 * owns it; worker threads read the table/item lists (immutable once workers
 * start), take items through an atomic index and add chunks through the
 * writer, whose mutex also guards the manifest's chunk lists.
 */
#ifndef BS_SNAP_INT_H
#define BS_SNAP_INT_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "archive/manifest.h"
#include "archive/tar.h"
#include "common/run.h"
#include "snap/snap.h"

#define SNAP_DEFAULT_CHUNK (8 * 1024 * 1024ULL)

struct snap_table {
	uint32_t no;
	uint32_t oid;
	char *qname;                  /* "schema"."name", quoted */
	uint64_t size;                /* pg_relation_size, bytes */
	uint64_t weight;              /* heap + TOAST main forks, bytes: the work */
	uint64_t post;                /* its indexes' estimated build work, same unit */
	struct bs_mtable *mt;         /* in ctx->m; set once the list is complete */
	_Atomic uint32_t next_seq;    /* next chunk number */
	_Atomic uint32_t items_left;  /* work items not yet done */
};

struct snap_item {
	struct snap_table *t;
	int ranged;                   /* ctid range [from, to) in pages; to 0: open-ended */
	uint64_t from_page, to_page;
	uint64_t est;                 /* estimated bytes, for largest-first order */
};

/* The one writer of the tar stream.  Data chunks wait until schema.dump is
 * in (ready) so members keep the documented order; the coordinator writes
 * its own members without waiting. */
/* Until schema.dump is in the archive (ready), data members wait in a
 * spool, in the order they came, up to SNAP_SPOOL_MAX bytes; past that a
 * worker waits.  On thousands of small tables the copies then overlap
 * pg_dump instead of following it. */
#define SNAP_SPOOL_MAX (32u << 20)

struct snap_spooled {
	struct snap_spooled *next;
	size_t len;
	char name[64];
	unsigned char data[]; /* len bytes */
};

struct snap_writer {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct bs_tar_writer *tw;
	struct bs_wstream *out;
	struct bs_progress *progress;
	time_t mtime;
	uint64_t chunks;
	int ready;
	int stop;
	struct snap_spooled *spool, **spool_tail;
	size_t spool_bytes;
};

struct snap_worker;

struct snap_ctx {
	const struct bs_snap_opts *o;
	double t0; /* bs_now() at the start, for the phase times -v logs */
	PGconn *coord;
	int server_version_num;
	int block_size;
	char snapshot_id[128];
	time_t start;
	uint64_t chunk_size;           /* o->chunk_size, or the default */

	struct bs_manifest m;
	unsigned char manifest_sha256[32]; /* of manifest.json as written */
	struct snap_table *tables;
	size_t ntables;
	struct snap_item *items;
	size_t nitems;
	_Atomic size_t next_item;

	struct snap_writer w;
	int writer_inited;

	/* pg_dump */
	struct bs_run dump;
	int dump_started;
	int dump_fd;
	char dump_path[4096];
	char dump_tool[4096];
	const char *dump_argv0[2];    /* bs_run_wait names the program from argv[0] */

	/* workers */
	struct snap_worker *workers;
	int nworkers;
	int jobs;                      /* planned (snap_plan_items), or --jobs */
	pthread_mutex_t cancel_mu;

	/* globals.json, between collection and writing (may hold password hashes) */
	char *globals_json;
	size_t globals_len;

	/* the first error wins; later ones (often caused by the cancel) are dropped */
	pthread_mutex_t err_mu;
	_Atomic int failed;
	struct bs_err first_err;
};

/* snap.c */
void snap_fail(struct snap_ctx *ctx, const struct bs_err *err);
/* The setting of every snap connection after bs_pg_session_setup: no
 * row-level security (every row or an error). */
#define SNAP_SESSION_SQL "SET row_security = off"

/* tables.c */
int snap_list_tables(struct snap_ctx *ctx, struct bs_err *err);
int snap_lock_tables(struct snap_ctx *ctx, struct bs_err *err);
int snap_table_sizes(struct snap_ctx *ctx, struct bs_err *err);
int snap_plan_items(struct snap_ctx *ctx, struct bs_err *err);
/* SQL fragment excluding system schemas and extension members for relation c / namespace n */
#define SNAP_USER_REL_FILTER                                                                        \
	"n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'"                                 \
	" AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d"                                     \
	" WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid"         \
	" AND d.deptype = 'e')"

/* writer.c */
int snap_writer_init(struct snap_writer *w, struct bs_wstream *out, struct bs_progress *p,
		     time_t mtime, struct bs_err *err);
void snap_writer_release(struct snap_writer *w);
int snap_writer_member(struct snap_writer *w, const char *name, const void *buf, size_t len,
		       const char *uname, struct bs_err *err);
int snap_writer_fd(struct snap_writer *w, const char *name, int fd, uint64_t size,
		   struct bs_err *err);
/* Append a table chunk and record it in the table's manifest entry. */
int snap_writer_chunk(struct snap_writer *w, struct bs_mtable *mt, const struct bs_mchunk *c,
		      const void *z, size_t zlen, struct bs_err *err);
/* After a table's last chunk: its end member data/<tno>/end.json with the
 * number of chunks written (docs/format.md, format version 3). */
int snap_writer_table_end(struct snap_writer *w, const struct bs_mtable *mt, struct bs_err *err);
/* schema.dump is in: write what was spooled, then let data through. */
int snap_writer_set_ready(struct snap_writer *w, struct bs_err *err);
void snap_writer_stop(struct snap_writer *w);
int snap_writer_close(struct snap_writer *w, struct bs_err *err);

/* schema.c: pg_dump --schema-only in the exported snapshot */
int snap_schema_start(struct snap_ctx *ctx, struct bs_err *err);
int snap_schema_finish(struct snap_ctx *ctx, struct bs_err *err);
void snap_schema_abort(struct snap_ctx *ctx);
/* snap.c: size and SHA-256 of a member written from a file, into the
 * manifest's "members" (docs/format.md, "Binding") */
int snap_member_digest(struct snap_ctx *ctx, enum bs_mm k, int fd, uint64_t size, struct bs_err *err);

/* workers.c */
int snap_workers_start(struct snap_ctx *ctx, struct bs_err *err);
/* Join all workers; returns -1 if any failed (the error is in ctx). */
int snap_workers_join(struct snap_ctx *ctx);
void snap_workers_cancel(struct snap_ctx *ctx);

/* globals.c: the globals.json member (roles, memberships, tablespaces) */
int snap_globals_collect(struct snap_ctx *ctx, struct bs_err *err); /* before the header */
int snap_globals_write(struct snap_ctx *ctx, struct bs_err *err);   /* after it */

/* sequences.c, blobs.c */
int snap_sequences(struct snap_ctx *ctx, struct bs_err *err);
int snap_blobs(struct snap_ctx *ctx, struct bs_err *err);

#endif
