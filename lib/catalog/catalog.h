/*
 * catalog.h - the snapshot catalog: small plaintext JSON records in the
 * repository (docs/format.md), shared by every host that uses it.
 *
 * A record holds only metadata that does not derive from row contents.
 * Records are immutable once committed; pins and drills are separate
 * objects so that changing them never rewrites a snapshot record.
 */
#ifndef BS_CATALOG_CATALOG_H
#define BS_CATALOG_CATALOG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "repo/repo.h"

#define BS_ID_MAX 64
#define BS_ID_PREFIX_MIN 8   /* shortest abbreviated snapshot id accepted */
#define BS_SNAP_RECORD_VERSION 2 /* newest record version this reader accepts (and the one written) */

struct bs_snap_record {
	char id[BS_ID_MAX];
	char *database;
	char *server_version;
	time_t start, end;
	uint64_t duration_ms;
	uint64_t bytes;
	char *archive;           /* repository key of the archive */
	char *status;            /* "complete" */
	int encrypted;
	char **recipients;       /* age1... public keys */
	size_t nrecipients;
	int passphrase;          /* a scrypt recipient was used */
	char *tool_version;
	uint64_t tables, chunks;
	/* version 2: what binds the archive to this record (docs/format.md,
	 * "Binding"): SHA-256 of the archive as stored (ciphertext when
	 * encrypted), of backstop.json, schema.dump and manifest.json.
	 * has_digests is 0 for version 1 records. */
	int has_digests;
	unsigned char archive_sha256[32], header_sha256[32], schema_sha256[32], manifest_sha256[32];

	/* not stored in the record: filled by bs_catalog_list */
	int pinned;
	char *pin_reason;
	char *drill_verdict;     /* newest drill: "pass", "fail", or NULL */
	time_t drill_time;
	char drill_id[BS_ID_MAX];
};

void bs_snap_record_init(struct bs_snap_record *r);
void bs_snap_record_release(struct bs_snap_record *r);
/* A deep copy of src into dst (every field, the listing's too); -1 when
 * out of memory (dst is then released). */
int bs_snap_record_copy(struct bs_snap_record *dst, const struct bs_snap_record *src);

/* New id from a UTC start time: "YYYYMMDDTHHMMSSZ-xxxxxx". */
void bs_catalog_new_id(time_t start, char out[BS_ID_MAX]);
/* Is s shaped like a snapshot id?  (Never used to build paths unchecked.) */
int bs_catalog_valid_id(const char *s);

/* Record <-> JSON (the record's own fields only).  The object form is
 * owned by the caller (json_decref); listings add their fields to it.
 * Reading validates every field (docs/format.md, "Trusted records"): a
 * record with a malformed or out-of-bounds field, or an 'archive' that is
 * not archives/<id>.tar[.age], is BS_ERR_FORMAT naming what is wrong. */
struct json_t;
struct json_t *bs_snap_record_object(const struct bs_snap_record *r);
int bs_snap_record_to_json(const struct bs_snap_record *r, char **out, size_t *len, struct bs_err *err);
int bs_snap_record_from_json(struct bs_snap_record *r, const char *buf, size_t len, const char *what,
			     struct bs_err *err);

/* What the record says its archive is, for the archive reader
 * (archive/reader.h): borrows rec's strings.  x->stored is left NULL. */
struct bs_archive_expect;
void bs_snap_record_expect(const struct bs_snap_record *rec, struct bs_archive_expect *x);

/* The catalog's folders (snapshots/, archives/, pins/, drills/), made
 * where the repository has folders (bs_repo_path_create): `repo init`
 * shows them in a new local repository. */
int bs_catalog_layout_create(struct bs_repo *repo, struct bs_err *err);

/* Commit: write snapshots/<id>.json (atomic, durable).  The archive must
 * already be durable. */
int bs_catalog_commit(struct bs_repo *repo, const struct bs_snap_record *r, struct bs_err *err);

/* A record under snapshots/ that is not trusted: unreadable, not a regular
 * file (a symbolic link), malformed, or whose id is not its file name. */
struct bs_catalog_problem {
	char *key;               /* "snapshots/<name>.json" */
	char *why;               /* what is wrong, one line */
};

struct bs_catalog {
	struct bs_snap_record *recs;  /* sorted oldest first; trusted records only */
	size_t n;
	struct bs_catalog_problem *bad; /* untrusted records, by key (every database) */
	size_t nbad;
};

void bs_catalog_init(struct bs_catalog *c);
void bs_catalog_release(struct bs_catalog *c);
/* Load every trusted record (optionally of one database), with pins and
 * the newest drill of each.  An untrusted record is never listed: it goes
 * to c->bad and is logged as a warning naming its key and what is wrong
 * (not with BS_CATALOG_QUIET).  Errors: out of memory, or a snapshots/
 * directory that cannot be listed. */
#define BS_CATALOG_QUIET 1
int bs_catalog_load(struct bs_repo *repo, const char *database, struct bs_catalog *c,
		    struct bs_err *err);
int bs_catalog_load_flags(struct bs_repo *repo, const char *database, int flags,
			  struct bs_catalog *c, struct bs_err *err);
/* Resolve "latest", an id or a unique prefix of one (at least
 * BS_ID_PREFIX_MIN characters), or (before != 0) the newest snapshot
 * started before that time.  Returns a pointer into c, or NULL with
 * BS_ERR_NOT_FOUND and a hint; an ambiguous prefix is BS_ERR_USAGE listing
 * the candidates; latest/before over several databases is BS_ERR_REFUSED
 * listing them (load the catalog of one database to choose). */
const struct bs_snap_record *bs_catalog_find(const struct bs_catalog *c, const char *spec,
					      time_t before, struct bs_err *err);

/* The newest snapshot of database db in c (latest start, then greatest
 * id), or NULL when c has none of it.  Records in c are all complete. */
const struct bs_snap_record *bs_catalog_newest(const struct bs_catalog *c, const char *db);

/* The distinct databases of c's records, ", "-separated into out (cut to
 * n bytes); returns how many there are. */
int bs_catalog_databases(const struct bs_catalog *c, char *out, size_t n);

/* Pins: pins/<id>.json. */
int bs_catalog_pin(struct bs_repo *repo, const char *id, const char *reason, struct bs_err *err);
int bs_catalog_unpin(struct bs_repo *repo, const char *id, struct bs_err *err);

/* Times as "2026-11-23T02:15:00Z". */
void bs_time_iso(time_t t, char out[32]);
int bs_time_parse(const char *s, time_t *out); /* ISO 8601 UTC, date-only, or unix seconds; -1 if bad */

#endif
