/*
 * reader.h - the archive grammar, once: every reader of a snapshot archive
 * (restore, verify-restore --archive-only, the drill, restore --list and
 * --globals-only) walks it through this reader.
 *
 * The reader classifies members and enforces their order (docs/format.md):
 *
 *   backstop.json  [globals.json]  schema.dump  { data/..., blobs/... }
 *   [blobs/acl.sql]  manifest.json  <end of archive>  [zero padding]
 *
 * From format version 3 on, each table's chunks are followed by its end
 * member data/<tno>/end.json, which says how many chunks the table has
 * (an end member in an archive whose header gives an older version is
 * checked all the same):
 * the reader checks that the table is in the header, that the member is
 * its only one, that it counts the table's chunks before it, that no chunk
 * of the table follows it, and (when the manifest is read) that its count
 * is the manifest's and that every table has one when any has (an archive
 * without any end member is read as one of version 2: no table is known
 * complete before the manifest).  A caller may take
 * a table's data as complete once its end member has been returned.
 *
 * and binds the archive to what its catalog record says (struct
 * bs_archive_expect, docs/format.md "Binding"): the header's snapshot id,
 * database and table count; the SHA-256 of backstop.json, schema.dump and
 * manifest.json; the chunk count; and at the end the size and SHA-256 of
 * the archive as stored.  Each member is checked as soon as it has been
 * read, before the caller uses it: backstop.json before it is parsed,
 * schema.dump when its last byte is read (before pg_restore sees it).  The
 * manifest's own "members" digests are checked when the manifest is read.
 *
 * Two modes.  Strict (note == NULL): the first problem is an error
 * (BS_ERR_FORMAT, naming the member).  Verifier (note != NULL): a problem
 * is handed to note() and reading goes on where it can (an extra member is
 * skipped, a digest mismatch noted), as pg_verifybackup reports every
 * problem; errors of the stream itself (decryption, truncation) still end
 * the walk with -1.
 *
 * What the reader does not judge: which tables a chunk belongs to and
 * whether it was seen before (the callers track chunks), and the rows
 * inside chunks (zstd checksums and row digests, checked by the callers
 * against the manifest).
 */
#ifndef BS_ARCHIVE_READER_H
#define BS_ARCHIVE_READER_H

#include <stdint.h>
#include <sys/types.h>

#include "archive/manifest.h"
#include "common/err.h"
#include "common/hash.h"
#include "common/stream.h"

/* What the catalog record says the archive is.  Strings are borrowed.
 * A zeroed struct with tables = chunks = -1 checks nothing. */
struct bs_archive_expect {
	const char *what;          /* the archive's repository key, for messages */
	const char *id;            /* snapshot id the header must carry (NULL: any) */
	const char *database;      /* database the header must name (NULL: any) */
	int64_t tables, chunks;    /* -1: not checked */
	int has_digests;           /* the four digests and bytes below are set */
	unsigned char archive_sha256[32], header_sha256[32], schema_sha256[32], manifest_sha256[32];
	uint64_t bytes;            /* size as stored */
	/* digest tap over the stored bytes (hash.h), owned by the stream
	 * chain; NULL: the archive's size and digest are not checked */
	const struct bs_sha256_ctx *stored;
};

void bs_archive_expect_init(struct bs_archive_expect *x);

enum bs_amember_kind {
	BS_AM_GLOBALS,    /* globals.json */
	BS_AM_SCHEMA,     /* schema.dump */
	BS_AM_CHUNK,      /* data/<tno>/<seq>.copy.zst: a = table number, b = seq */
	BS_AM_BLOB,       /* blobs/<oid>/<seq>.zst: a = oid, b = seq */
	BS_AM_BLOB_ACL,   /* blobs/acl.sql */
	BS_AM_MANIFEST,   /* manifest.json: call bs_areader_finish */
	BS_AM_TABLE_END,  /* data/<tno>/end.json (version 3): a = table number, b = its
			   * chunks; read and checked by the reader already */
};

struct bs_amember {
	enum bs_amember_kind kind;
	const char *name;          /* valid until the next call */
	const char *uname;         /* tar owner name, may be NULL */
	uint64_t size;
	uint32_t a, b;
};

/* Verifier mode: one problem.  member may be NULL (the archive as a
 * whole).  Returns 0, or -1 to stop (out of memory). */
typedef int (*bs_areader_note_fn)(void *ud, const char *member, const char *msg);

struct bs_areader;

/* Open the archive on in (borrowed; must outlive the reader): reads,
 * checks and parses backstop.json into m (initialised by the caller,
 * owned by the caller).  x may be NULL.  A header that is not first, not
 * valid, or not the expected snapshot's is an error in both modes. */
int bs_areader_open(struct bs_rstream *in, const struct bs_archive_expect *x, struct bs_manifest *m,
		    bs_areader_note_fn note, void *ud, struct bs_areader **out, struct bs_err *err);

/* The next member: 1 with *mem, 0 at the end, -1 on error.  Members the
 * caller does not read are skipped (and still digested where they must
 * be).  After BS_AM_MANIFEST the caller calls bs_areader_finish; calling
 * next instead finishes, then returns 0.  In verifier mode 0 also comes
 * when the archive ends early (noted). */
int bs_areader_next(struct bs_areader *r, struct bs_amember *mem, struct bs_err *err);

/* Read the current member's data: >0 bytes, 0 at its end (when its digest
 * has been checked), -1 on error. */
ssize_t bs_areader_read(struct bs_areader *r, void *buf, size_t len, struct bs_err *err);
/* The whole current member into a malloc'd NUL-terminated buffer; more
 * than max bytes is BS_ERR_FORMAT. */
int bs_areader_read_all(struct bs_areader *r, size_t max, char **buf, size_t *len, struct bs_err *err);

/* After BS_AM_MANIFEST: read manifest.json into m, check it against the
 * record and the members read, check that nothing follows it, read the
 * stream to its end and check the archive's size and digest. */
int bs_areader_finish(struct bs_areader *r, struct bs_err *err);

/* Members read so far (header included). */
uint64_t bs_areader_members(const struct bs_areader *r);

void bs_areader_free(struct bs_areader *r);

#endif
