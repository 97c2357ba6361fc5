/*
 * snap.h - the snapshot engine: one transactionally consistent logical copy
 * of one database, written as an archive (docs/format.md) into a stream.
 *
 * A coordinator connection locks the tables and exports its snapshot;
 * pg_dump captures the schema within it; N worker connections import it and
 * COPY whole tables in parallel (plain COPY; a table is cut into ctid ranges
 * only when it would otherwise leave jobs idle: tables.c), cutting the rows into
 * zstd chunks that one writer appends to the tar stream.  Sequences, large
 * objects and a schema inventory are read in the same snapshot; manifest.json
 * closes the archive.  Memory is bounded by jobs x chunk size, never by the
 * size of the database.
 */
#ifndef BS_SNAP_SNAP_H
#define BS_SNAP_SNAP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "archive/manifest.h"
#include "common/err.h"
#include "common/progress.h"
#include "common/stream.h"

struct bs_snap_opts {
	const char *conninfo;         /* libpq conninfo/URI (may be NULL: PG* env) */
	const char *id;               /* snapshot id, assigned by the caller */
	int jobs;                     /* worker connections; 0: planned (bs_snap_plan_jobs) */
	int cores;                    /* this machine's cores, for the planner (0: 2) */
	int compress_level;           /* zstd level */
	uint64_t chunk_size;          /* uncompressed bytes per chunk, e.g. 8 MiB */
	int lock_timeout_ms;
	const char *pg_bindir;        /* NULL: bs_pg_find_tool search */
	int role_passwords;           /* capture role password hashes when pg_authid is readable */
	struct bs_progress *progress; /* may be NULL */
};

struct bs_snap_result {
	char database[256];
	char server_version[32];
	int server_version_num;
	time_t start, end;
	uint64_t tables, chunks, rows, raw_bytes, blobs, sequences;
	/* SHA-256 of backstop.json, schema.dump and manifest.json, for the
	 * catalog record (docs/format.md, "Binding") */
	unsigned char header_sha256[32], schema_sha256[32], manifest_sha256[32];
};

/* Write the whole archive (all members incl. manifest.json and the tar end)
 * into out.  out is NOT owned: the caller finishes (commits) or frees
 * (aborts) it.  On error nothing more is written and err names what failed
 * (table, member, server message).  res may be NULL. */
int bs_snap_run(const struct bs_snap_opts *o, struct bs_wstream *out, struct bs_snap_result *res,
		struct bs_err *err);

/* How tables are cut for parallel COPY (lib/snap/tables.c says why, with
 * the measurements): from each table's heap size and its work (heap plus
 * TOAST, bytes), the estimated work of building its indexes in a restore
 * (post, same unit; NULL: not known), the number of jobs, the chunk size
 * and the server version, parts[i] receives how many ctid ranges table i is
 * cut into (1: whole, plain COPY) and *piece (may be NULL) the target size
 * of a range.  Snap and the drill's digest recomputation share it.  Returns
 * how many tables are cut. */
size_t bs_snap_plan_cut(const uint64_t *heap, const uint64_t *work, const uint64_t *post, size_t n, int jobs,
			uint64_t chunk, int server_version_num, uint32_t *parts, uint64_t *piece);

/* How many worker connections a snap opens when --jobs is not given: one
 * per core of this machine (the client compresses and encrypts what each
 * connection sends; beside a local server the two share the cores), but no
 * more than there are work items (whole tables or ctid ranges, as cut for
 * that many jobs), nor than chunks of work (total bytes / chunk size: a
 * small database gains nothing from a second connection), nor than half of
 * the server's free connection slots (the application keeps the rest;
 * free_slots < 0: unknown).  At least 1. */
int bs_snap_plan_jobs(int cores, long free_slots, size_t items, uint64_t work, uint64_t chunk);

/* The COPY statement for a table's rows in COPY order (docs/format.md):
 * with where == NULL the whole table (that table only, never inheritance
 * children or partitions), else "COPY (SELECT cols FROM ONLY t WHERE <where>)".
 * The verifier uses it to recompute digests.  malloc'd; NULL if out of memory. */
char *bs_snap_copy_sql(const struct bs_mtable *t, const char *where);

#endif
