/* blobs.c - large objects, read in the snapshot on the coordinator:
 * data as blobs/<oid>/<seq>.zst members (uname = owner), and
 * blobs/acl.sql with the GRANT/COMMENT statements for non-default ACLs and
 * comments.  Owners are restored from the members' uname. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libpq/libpq-fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/chunk.h"
#include "common/log.h"
#include "pg/conn.h"
#include "snap/snap_int.h"

#define LO_PIECE (256 * 1024)
#define FETCH_ROWS 1000

/* lo_* calls leave only the connection's message: "ERROR:  text\n". */
/* lo_open through SQL rather than libpq's fast path, so a failure comes
 * back as a result with its SQLSTATE.  Returns the descriptor or -1. */
static int open_blob(PGconn *c, Oid oid, struct bs_err *err)
{
	char q[96];
	PGresult *r;
	int fd;

	snprintf(q, sizeof(q), "SELECT pg_catalog.lo_open(%u, %d)", (unsigned)oid, INV_READ);
	r = bs_pg_query(c, q, 0, NULL, err);
	if (!r) {
		bs_err_prefix(err, "unable to open it");
		return -1;
	}
	fd = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	return fd;
}

static int lo_error(struct bs_err *err, PGconn *c, const char *what)
{
	const char *m = PQerrorMessage(c);
	char msg[512];
	size_t n;

	if (strncmp(m, "ERROR:  ", 8) == 0)
		m += 8;
	snprintf(msg, sizeof(msg), "%s", m);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	if (!msg[0] && PQstatus(c) != CONNECTION_OK)
		snprintf(msg, sizeof(msg), "connection to server lost");
	return bs_err_set(err, BS_ERR_PG, "%s: %s", what, msg);
}

static int write_blob_chunk(struct snap_ctx *ctx, struct bs_chunk_compressor *cc, uint32_t oid,
			    uint32_t seq, const char *owner, struct bs_err *err)
{
	char name[64];
	const void *z;
	size_t zlen;

	if (bs_chunk_finish(cc, &z, &zlen, err) < 0)
		return -1;
	bs_member_blob_name(name, oid, seq);
	return snap_writer_member(&ctx->w, name, z, zlen, owner, err);
}

static int copy_blob(struct snap_ctx *ctx, struct bs_chunk_compressor *cc, char *buf, uint32_t oid,
		     const char *owner, struct bs_err *err)
{
	PGconn *c = ctx->coord;
	struct bs_digest_obj *obj;
	char label[16];
	uint64_t bytes = 0;
	uint32_t seq = 0;
	int fd, rc = -1;

	fd = open_blob(c, oid, err);
	if (fd < 0) {
		if (bs_err_is_sqlstate(err, "42501"))
			bs_err_hint(err, "the snapshot role needs SELECT on every large object: grant it, or"
					 " connect as their owner or a superuser");
		return -1;
	}
	snprintf(label, sizeof(label), "%" PRIu32, oid);
	obj = bs_digest_obj_begin(label);
	if (!obj) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		int n = lo_read(c, fd, buf, LO_PIECE);
		if (n < 0) {
			lo_error(err, c, "unable to read it");
			goto out;
		}
		if (n == 0)
			break;
		bs_digest_obj_update(obj, buf, (size_t)n);
		if (bs_chunk_add(cc, buf, (size_t)n, err) < 0)
			goto out;
		bytes += (uint64_t)n;
		if (bs_chunk_raw_size(cc) >= ctx->chunk_size) {
			if (write_blob_chunk(ctx, cc, oid, seq++, owner, err) < 0)
				goto out;
		}
	}
	/* the rest; an empty object still gets one (empty) chunk to carry its owner */
	if (bs_chunk_raw_size(cc) > 0 || seq == 0) {
		if (write_blob_chunk(ctx, cc, oid, seq++, owner, err) < 0)
			goto out;
	}
	bs_digest_obj_end(&ctx->m.blob_digest, obj);
	obj = NULL;
	if (bs_manifest_add_blob(&ctx->m, oid, bytes, seq) < 0) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	ctx->m.blob_bytes += bytes;
	if (ctx->o->progress)
		atomic_fetch_add(&ctx->o->progress->raw_bytes, bytes);
	rc = 0;
out:
	bs_digest_obj_free(obj);
	if (rc == 0 && lo_close(c, fd) < 0)
		rc = lo_error(err, c, "unable to close it");
	return rc;
}

static int blob_data(struct snap_ctx *ctx, struct bs_err *err)
{
	struct bs_chunk_compressor *cc = bs_chunk_compressor_new(ctx->o->compress_level);
	char *buf = malloc(LO_PIECE);
	int rc = -1;

	if (!cc || !buf) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (bs_pg_exec(ctx->coord,
		       "DECLARE backstop_blobs NO SCROLL CURSOR FOR"
		       " SELECT m.oid, pg_catalog.pg_get_userbyid(m.lomowner)"
		       " FROM pg_catalog.pg_largeobject_metadata m ORDER BY m.oid",
		       err) < 0) {
		bs_err_prefix(err, "listing large objects");
		goto out;
	}
	for (;;) {
		PGresult *r = bs_pg_query(ctx->coord, "FETCH 1000 FROM backstop_blobs", 0, NULL, err);
		int i, n;

		if (!r) {
			bs_err_prefix(err, "listing large objects");
			goto out;
		}
		n = PQntuples(r);
		for (i = 0; i < n; i++) {
			uint32_t oid = (uint32_t)strtoul(PQgetvalue(r, i, 0), NULL, 10);
			if (atomic_load(&ctx->failed) ||
			    copy_blob(ctx, cc, buf, oid, PQgetvalue(r, i, 1), err) < 0) {
				PQclear(r);
				bs_err_prefix(err, "copying large object %" PRIu32, oid);
				goto out;
			}
		}
		PQclear(r);
		if (n < FETCH_ROWS)
			break;
	}
	if (bs_pg_exec(ctx->coord, "CLOSE backstop_blobs", err) < 0)
		goto out;
	rc = 0;
out:
	bs_chunk_compressor_free(cc);
	free(buf);
	return rc;
}

/* The owner's default privileges need no statement; a non-NULL ACL is
 * replayed as REVOKE ALL from the owner then one GRANT per privilege. */
static const char *acl_sql =
	"DECLARE backstop_blob_acl NO SCROLL CURSOR FOR"
	" SELECT s FROM ("
	"  SELECT m.oid AS o, 0 AS k, pg_catalog.format('REVOKE ALL ON LARGE OBJECT %s FROM %I;',"
	"   m.oid, pg_catalog.pg_get_userbyid(m.lomowner)) AS s"
	"  FROM pg_catalog.pg_largeobject_metadata m WHERE m.lomacl IS NOT NULL"
	"  UNION ALL"
	"  SELECT m.oid, 1, pg_catalog.format('GRANT %s ON LARGE OBJECT %s TO %s%s;', a.privilege_type, m.oid,"
	"   CASE WHEN a.grantee = 0 THEN 'PUBLIC'"
	"   ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END,"
	"   CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)"
	"  FROM pg_catalog.pg_largeobject_metadata m, pg_catalog.aclexplode(m.lomacl) a"
	"  WHERE m.lomacl IS NOT NULL"
	"  UNION ALL"
	"  SELECT d.objoid, 2, pg_catalog.format('COMMENT ON LARGE OBJECT %s IS %L;', d.objoid, d.description)"
	"  FROM pg_catalog.pg_description d"
	"  WHERE d.classoid = 'pg_catalog.pg_largeobject'::pg_catalog.regclass AND d.objsubid = 0"
	" ) x ORDER BY o, k, s";

static int blob_acl(struct snap_ctx *ctx, struct bs_err *err)
{
	char path[4096];
	const char *tmpdir = getenv("TMPDIR");
	uint64_t size = 0;
	int fd, rc = -1;

	if (!tmpdir || !*tmpdir)
		tmpdir = "/tmp";
	snprintf(path, sizeof(path), "%s/backstop-blobacl-XXXXXX", tmpdir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		bs_err_sys(err, BS_ERR_IO, errno, "unable to create a temporary file in '%s'", tmpdir);
		return bs_err_prefix(err, "writing %s", BS_MEMBER_BLOB_ACL);
	}
	unlink(path);
	if (bs_pg_exec(ctx->coord, acl_sql, err) < 0) {
		bs_err_prefix(err, "reading large object privileges");
		goto out;
	}
	for (;;) {
		PGresult *r = bs_pg_query(ctx->coord, "FETCH 1000 FROM backstop_blob_acl", 0, NULL, err);
		int i, n;

		if (!r) {
			bs_err_prefix(err, "reading large object privileges");
			goto out;
		}
		n = PQntuples(r);
		for (i = 0; i < n; i++) {
			const char *s = PQgetvalue(r, i, 0);
			size_t len = strlen(s);
			if (write(fd, s, len) != (ssize_t)len || write(fd, "\n", 1) != 1) {
				bs_err_sys(err, BS_ERR_IO, errno, "writing %s to a temporary file", BS_MEMBER_BLOB_ACL);
				PQclear(r);
				goto out;
			}
			size += len + 1;
		}
		PQclear(r);
		if (n < FETCH_ROWS)
			break;
	}
	if (bs_pg_exec(ctx->coord, "CLOSE backstop_blob_acl", err) < 0)
		goto out;
	rc = 0;
	if (size > 0) {
		if (lseek(fd, 0, SEEK_SET) < 0)
			rc = bs_err_sys(err, BS_ERR_IO, errno, "reading back %s", BS_MEMBER_BLOB_ACL);
		else if ((rc = snap_member_digest(ctx, BS_MM_BLOB_ACL, fd, size, err)) == 0)
			rc = snap_writer_fd(&ctx->w, BS_MEMBER_BLOB_ACL, fd, size, err);
	}
out:
	close(fd);
	return rc;
}

int snap_blobs(struct snap_ctx *ctx, struct bs_err *err)
{
	if (blob_data(ctx, err) < 0 || blob_acl(ctx, err) < 0)
		return -1;
	if (ctx->m.nblobs)
		ctx->m.blob_digest.rows = ctx->m.nblobs;
	return 0;
}
