/*
 * manifest.h - the snapshot's description: header (backstop.json, first
 * member) and manifest (manifest.json, last member).  See docs/format.md.
 *
 * One struct holds both: the header fills id/database/encoding/versions/
 * start and the table list (no, schema, name, columns); the manifest adds
 * rows, digests, chunks, sequences, large objects and the schema inventory.
 * Every string and array is owned by the struct; bs_manifest_release frees
 * them all.  Size scales with the schema (tables, chunks), never with rows.
 */
#ifndef BS_ARCHIVE_MANIFEST_H
#define BS_ARCHIVE_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "archive/digest.h"
#include "common/err.h"

/* 2: globals.json (roles, tablespaces) after backstop.json, and its
 * digest in manifest.json; 3: an end member data/<tno>/end.json after
 * each table's last chunk (docs/format.md, "Table end members").
 * Versions 1 and 2 are still read. */
#define BS_FORMAT_VERSION 3
/* the first version with table end members */
#define BS_FORMAT_VERSION_TABLE_END 3
#define BS_FORMAT_VERSION_MIN 1

struct bs_mchunk {
	uint32_t seq;
	uint64_t rows;
	uint64_t zbytes;            /* compressed size of the member */
	uint64_t raw_bytes;         /* uncompressed COPY bytes */
	struct bs_digest digest;
};

struct bs_mtable {
	uint32_t no;                /* 1-based table number; member data/<no>/... */
	char *schema;
	char *name;
	char **columns;             /* COPY column order */
	size_t ncolumns;
	uint64_t rows;
	uint64_t raw_bytes;
	struct bs_digest digest;
	struct bs_mchunk *chunks;   /* sorted by seq after bs_manifest_from_json */
	size_t nchunks, chunks_cap;
	/* an extension's configuration table (pg_extension_config_dump): the
	 * extension, and the rows it registered ("" = all, else a condition
	 * without its WHERE); NULL for other tables */
	char *extension;
	char *filter;
};

struct bs_mseq {
	char *schema;
	char *name;
	int64_t last_value;
	int is_called;
};

struct bs_mrel {
	char *schema;
	char *name;
};

struct bs_mblob {
	uint32_t oid;
	uint64_t bytes;
	uint32_t chunks;
};

struct bs_minv {
	char *kind;                 /* "table", "index", "constraint", "view", "function", "trigger", "sequence", ... */
	char *name;                 /* qualified, unique within kind */
	char *def;                  /* md5 hex of the definition */
};

/* The members whose bytes the manifest's "members" object digests. */
enum bs_mm { BS_MM_HEADER, BS_MM_SCHEMA, BS_MM_BLOB_ACL, BS_MM_COUNT };

struct bs_mmember {
	int has;
	uint64_t bytes;
	unsigned char sha256[32];
};

/* The member name of a bs_mm ("backstop.json", ...). */
const char *bs_mm_name(enum bs_mm k);

struct bs_manifest {
	char *id;
	char *database;
	char *encoding;
	char *server_version;
	int server_version_num;
	char *start;                /* ISO 8601 UTC */
	char *end;

	struct bs_mtable *tables;
	size_t ntables, tables_cap;

	/* header: materialized views that were not populated (WITH NO DATA);
	 * restore refreshes every other one */
	struct bs_mrel *unpopulated;
	size_t nunpopulated, unpopulated_cap;

	struct bs_mseq *seqs;
	size_t nseqs, seqs_cap;

	struct bs_mblob *blobs;
	size_t nblobs, blobs_cap;
	struct bs_digest blob_digest;
	uint64_t blob_bytes;

	struct bs_minv *inv;
	size_t ninv, inv_cap;
	int inv_version;            /* schema inventory version (snap/inventory.h); "inventory_version"
				     * in manifest.json, absent (= 1) in archives of backstop < 0.2 */

	int has_manifest;           /* manifest.json was merged in */
	int version;                /* of the header as read (1 or 2); written: BS_FORMAT_VERSION */

	/* manifest (version 2): size and SHA-256 of globals.json */
	int has_globals;
	uint64_t globals_bytes;
	unsigned char globals_sha256[32];

	/* manifest "members": size and SHA-256 of the members no other digest
	 * covers (absent in archives of backstop < 0.3; blobs/acl.sql only
	 * when the archive has it) */
	struct bs_mmember members[BS_MM_COUNT];
};

void bs_manifest_init(struct bs_manifest *m);
void bs_manifest_release(struct bs_manifest *m);

/* Builders (copy their string arguments).  Return NULL/-1 on allocation failure. */
struct bs_mtable *bs_manifest_add_table(struct bs_manifest *m, uint32_t no, const char *schema,
					const char *name, const char *const *columns, size_t ncolumns);
struct bs_mtable *bs_manifest_table(struct bs_manifest *m, uint32_t no); /* NULL if absent */
/* Mark t as extension's configuration table; condition is extcondition's
 * ("WHERE ..." or ""), stored without the WHERE. -1 when out of memory. */
int bs_mtable_set_extension(struct bs_mtable *t, const char *extension, const char *condition);
int bs_mtable_add_chunk(struct bs_mtable *t, const struct bs_mchunk *c);
int bs_manifest_add_seq(struct bs_manifest *m, const char *schema, const char *name,
			int64_t last_value, int is_called);
int bs_manifest_add_unpopulated(struct bs_manifest *m, const char *schema, const char *name);
int bs_manifest_is_unpopulated(const struct bs_manifest *m, const char *schema, const char *name);
int bs_manifest_add_blob(struct bs_manifest *m, uint32_t oid, uint64_t bytes, uint32_t chunks);
int bs_manifest_add_inv(struct bs_manifest *m, const char *kind, const char *name, const char *def);
void bs_manifest_set_globals(struct bs_manifest *m, uint64_t bytes, const unsigned char sha256[32]);
/* Check a globals.json as read against the manifest's size and digest
 * (BS_ERR_FORMAT when they differ or the manifest has none). */
int bs_manifest_check_globals(const struct bs_manifest *m, const char *buf, size_t len, struct bs_err *err);

/* Serialize: header (backstop.json) and manifest (manifest.json).  *out is
 * malloc'd and owned by the caller. */
int bs_manifest_header_json(const struct bs_manifest *m, char **out, size_t *len, struct bs_err *err);
int bs_manifest_json(const struct bs_manifest *m, char **out, size_t *len, struct bs_err *err);

/* Parse: the header fills a fresh struct; the manifest is merged into a
 * struct that already holds the header (tables matched by number; a table
 * in one but not the other is a BS_ERR_FORMAT error).  Errors name the
 * member and the field.  The manifest parser also checks that chunk rows and
 * digests add up to each table's, and that totals and blob sums agree; a
 * chunk's optional "bytes" (uncompressed size) fills raw_bytes.  After a
 * failed parse the struct holds partial data: release it. */
int bs_manifest_parse_header(struct bs_manifest *m, const char *buf, size_t len, struct bs_err *err);
int bs_manifest_parse(struct bs_manifest *m, const char *buf, size_t len, struct bs_err *err);

/* Member names. out must hold 64 bytes. */
void bs_member_chunk_name(char *out, uint32_t table_no, uint32_t seq);
void bs_member_blob_name(char *out, uint32_t oid, uint32_t seq);
/* Parse "data/<no>/<seq>.copy.zst"; returns 0 if it matches. */
int bs_member_parse_chunk(const char *name, uint32_t *table_no, uint32_t *seq);
int bs_member_parse_blob(const char *name, uint32_t *oid, uint32_t *seq);
/* A table's end member (format version 3): "data/<no>/end.json", holding
 * {"chunks": N}, the number of chunks the table has. */
void bs_member_table_end_name(char *out, uint32_t table_no);
int bs_member_parse_table_end(const char *name, uint32_t *table_no);
/* Its content: writes at most 64 bytes into out, returns the length. */
size_t bs_table_end_json(uint64_t chunks, char *out);
/* Parse it: a JSON object whose "chunks" is an integer 0..2^32-1
 * (BS_ERR_FORMAT naming member otherwise). */
int bs_table_end_parse(const char *member, const char *buf, size_t len, uint64_t *chunks, struct bs_err *err);

#define BS_MEMBER_HEADER "backstop.json"
#define BS_MEMBER_SCHEMA "schema.dump"
#define BS_MEMBER_BLOB_ACL "blobs/acl.sql"
#define BS_MEMBER_MANIFEST "manifest.json"
#define BS_MEMBER_GLOBALS_JSON "globals.json"
/* largest end member a reader accepts */
#define BS_TABLE_END_MAX 4096

#endif
