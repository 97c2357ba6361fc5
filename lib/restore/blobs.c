/* blobs.c - large objects: blobs/<oid>/<seq>.zst members are written with
 * lo_create/lo_write on the main session (one transaction per member),
 * owned by the member's tar uname when that role exists.  Every object is
 * digested (docs/format.md) and checked against the manifest at the end;
 * blobs/acl.sql (grants, comments) is run after that check. */
#include "restore/restore_int.h"

#include <libpq/libpq-fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "archive/chunk.h"
#include "common/log.h"
#include "pg/conn.h"

void rs_blobs_init(struct rs_blobs *b)
{
	memset(b, 0, sizeof(*b));
	bs_digest_init(&b->digest);
}

void rs_blobs_release(struct rs_blobs *b)
{
	bs_digest_obj_free(b->obj);
	free(b->seen);
	free(b->role);
	free(b->acl);
	rs_blobs_init(b);
}

/* Finish the object being written: its digest and what was seen of it. */
int rs_blobs_finish(struct rs_ctx *cx, struct bs_err *err)
{
	struct rs_blobs *b = &cx->blobs;

	if (!b->oid)
		return 0;
	if (b->nseen == b->seen_cap) {
		size_t ncap = b->seen_cap ? b->seen_cap * 2 : 64;
		struct rs_blob_seen *ns = realloc(b->seen, ncap * sizeof(*ns));
		if (!ns)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		b->seen = ns;
		b->seen_cap = ncap;
	}
	b->seen[b->nseen].oid = b->oid;
	b->seen[b->nseen].chunks = b->next_seq;
	b->seen[b->nseen].bytes = b->bytes;
	b->nseen++;
	bs_digest_obj_end(&b->digest, b->obj);
	b->obj = NULL;
	b->count++;
	b->total += b->bytes;
	b->oid = 0;
	return 0;
}

static int role_exists(struct rs_ctx *cx, const char *role, int *exists, struct bs_err *err)
{
	struct rs_blobs *b = &cx->blobs;
	const char *params[1] = { role };
	PGresult *r;

	if (b->role && strcmp(b->role, role) == 0) {
		*exists = b->role_ok;
		return 0;
	}
	r = bs_pg_query(cx->conn, "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1", 1, params, err);
	if (!r)
		return -1;
	*exists = PQntuples(r) > 0;
	PQclear(r);
	free(b->role);
	b->role = strdup(role);
	b->role_ok = *exists;
	if (!*exists)
		bs_warn("role \"%s\" does not exist: its large objects are owned by the restoring user", role);
	return 0;
}

static int set_owner(struct rs_ctx *cx, uint32_t oid, const char *role, struct bs_err *err)
{
	char *q;
	char sql[64 + 2 * 256];
	int exists = 0, rc;

	if (!role || !*role || strlen(role) > 255 || cx->o->no_owner)
		return 0;
	if (role_exists(cx, role, &exists, err) < 0)
		return -1;
	if (!exists)
		return 0;
	if (!(q = bs_pg_quote_ident(role)))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	snprintf(sql, sizeof(sql), "ALTER LARGE OBJECT %u OWNER TO %s", oid, q);
	free(q);
	rc = bs_pg_exec(cx->conn, sql, err);
	return rc;
}

struct lo_sink {
	struct rs_ctx *cx;
	int fd;
};

static int lo_sink_fn(void *ud, const void *buf, size_t len, struct bs_err *err)
{
	struct lo_sink *s = ud;
	struct rs_blobs *b = &s->cx->blobs;
	const char *p = buf;

	while (len > 0) {
		size_t n = len > (1 << 20) ? (1 << 20) : len;
		int w = lo_write(s->cx->conn, s->fd, p, n);
		if (w < 0 || (size_t)w != n)
			return bs_pg_error(err, BS_ERR_PG, s->cx->conn, NULL, "lo_write failed");
		bs_digest_obj_update(b->obj, p, n);
		b->bytes += n;
		p += n;
		len -= n;
	}
	return 0;
}

/* Write one member's data into the object, in the open transaction. */
static int write_member(struct rs_ctx *cx, uint32_t oid, uint32_t seq, const char *uname, const char *z,
			size_t zlen, struct bs_err *err)
{
	struct rs_blobs *b = &cx->blobs;
	struct lo_sink s = { cx, -1 };
	char sql[128];

	if (seq == 0) {
		if (cx->o->clean) {
			snprintf(sql, sizeof(sql),
				 "SELECT pg_catalog.lo_unlink(oid) FROM pg_catalog.pg_largeobject_metadata "
				 "WHERE oid = %u",
				 oid);
			if (bs_pg_exec(cx->conn, sql, err) < 0)
				return -1;
		}
		if (lo_create(cx->conn, oid) != oid)
			return bs_pg_error(err, BS_ERR_PG, cx->conn, NULL, "lo_create failed");
		if (set_owner(cx, oid, uname, err) < 0)
			return -1;
	}
	s.fd = lo_open(cx->conn, oid, INV_WRITE);
	if (s.fd < 0)
		return bs_pg_error(err, BS_ERR_PG, cx->conn, NULL, "lo_open failed");
	if (b->bytes > 0 && lo_lseek64(cx->conn, s.fd, (pg_int64)b->bytes, SEEK_SET) < 0)
		return bs_pg_error(err, BS_ERR_PG, cx->conn, NULL, "lo_lseek64 failed");
	if (bs_chunk_decompress(z, zlen, lo_sink_fn, &s, err) < 0)
		return -1;
	if (lo_close(cx->conn, s.fd) < 0)
		return bs_pg_error(err, BS_ERR_PG, cx->conn, NULL, "lo_close failed");
	return 0;
}

int rs_blobs_member(struct rs_ctx *cx, const char *name, uint32_t oid, uint32_t seq, const char *uname,
		    uint64_t size, struct bs_err *err)
{
	struct rs_blobs *b = &cx->blobs;
	char label[16];
	char *z = NULL;
	int rc = -1;

	if (b->acl_done)
		return bs_err_set(err, BS_ERR_FORMAT, "unexpected member '%s' after %s", name, BS_MEMBER_BLOB_ACL);
	if (seq == 0) {
		if (rs_blobs_finish(cx, err) < 0)
			return -1;
		if (oid == 0)
			return bs_err_set(err, BS_ERR_FORMAT, "unexpected member '%s'", name);
		snprintf(label, sizeof(label), "%u", oid);
		if (!(b->obj = bs_digest_obj_begin(label)))
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		b->oid = oid;
		b->next_seq = 0;
		b->bytes = 0;
	} else if (oid != b->oid || seq != b->next_seq) {
		return bs_err_set(err, BS_ERR_FORMAT, "archive member '%s' is out of order", name);
	}
	if (rs_read_member(cx->ar, name, size, RS_MEMBER_MAX, &z, err) < 0)
		return -1;
	cx->changed = 1;
	if (bs_pg_exec(cx->conn, "BEGIN", err) < 0)
		goto out;
	if (write_member(cx, oid, seq, uname, z, (size_t)size, err) < 0) {
		bs_pg_exec(cx->conn, "ROLLBACK", NULL);
		goto out;
	}
	if (bs_pg_exec(cx->conn, "COMMIT", err) < 0)
		goto out;
	b->next_seq++;
	rc = 0;
out:
	if (rc < 0)
		bs_err_prefix(err, "loading %s into large object %u", name, oid);
	free(z);
	return rc;
}

int rs_blobs_acl(struct rs_ctx *cx, uint64_t size, struct bs_err *err)
{
	struct rs_blobs *b = &cx->blobs;

	if (b->acl_done)
		return bs_err_set(err, BS_ERR_FORMAT, "duplicate member '%s'", BS_MEMBER_BLOB_ACL);
	if (rs_blobs_finish(cx, err) < 0)
		return -1;
	b->acl_done = 1;
	/* applied once the objects have been checked against the manifest */
	return rs_read_member(cx->ar, BS_MEMBER_BLOB_ACL, size, RS_META_MAX, &b->acl, err);
}

/* --no-privileges: the script's statements but its GRANTs and REVOKEs. */
static int apply_without_grants(struct rs_ctx *cx, const char *script, struct bs_err *err)
{
	struct bs_dbscript s;
	size_t i;
	int rc = 0;

	bs_dbscript_init(&s);
	if (bs_dbscript_parse(&s, script, "", "", err) < 0)
		rc = -1;
	for (i = 0; rc == 0 && i < s.n; i++)
		if (strncasecmp(s.stmts[i], "GRANT ", 6) != 0 && strncasecmp(s.stmts[i], "REVOKE ", 7) != 0)
			rc = bs_pg_exec(cx->conn, s.stmts[i], err);
	bs_dbscript_release(&s);
	return rc;
}

int rs_blobs_apply_acl(struct rs_ctx *cx, struct bs_err *err)
{
	struct rs_blobs *b = &cx->blobs;
	int rc;

	if (!b->acl)
		return 0;
	cx->changed = 1;
	rc = cx->o->no_privileges ? apply_without_grants(cx, b->acl, err) : bs_pg_exec(cx->conn, b->acl, err);
	free(b->acl);
	b->acl = NULL;
	if (rc < 0)
		return bs_err_prefix(err, "applying %s", BS_MEMBER_BLOB_ACL);
	return 0;
}

static int cmp_seen(const void *a, const void *b)
{
	uint32_t x = ((const struct rs_blob_seen *)a)->oid, y = ((const struct rs_blob_seen *)b)->oid;

	return x < y ? -1 : x > y;
}

int rs_blobs_check(struct rs_ctx *cx, struct bs_err *err)
{
	struct rs_blobs *b = &cx->blobs;
	const struct bs_manifest *m = cx->m;
	size_t i;

	if (b->nseen > 1)
		qsort(b->seen, b->nseen, sizeof(*b->seen), cmp_seen);
	for (i = 0; i + 1 < b->nseen; i++)
		if (b->seen[i].oid == b->seen[i + 1].oid)
			return bs_err_set(err, BS_ERR_FORMAT, "large object %u appears twice in the archive",
					  b->seen[i].oid);
	for (i = 0; i < m->nblobs; i++) {
		const struct bs_mblob *mb = &m->blobs[i];
		struct rs_blob_seen key = { mb->oid, 0, 0 };
		const struct rs_blob_seen *s =
			b->nseen ? bsearch(&key, b->seen, b->nseen, sizeof(*b->seen), cmp_seen) : NULL;
		if (!s) {
			bs_err_set(err, BS_ERR_FORMAT, "large object %u is in the manifest but not in the archive",
				   mb->oid);
			return -1;
		}
		if (s->bytes != mb->bytes || s->chunks != mb->chunks)
			return bs_err_set(err, BS_ERR_FORMAT,
					  "large object %u: %llu bytes in %u chunks restored, the manifest says "
					  "%llu bytes in %u chunks",
					  mb->oid, (unsigned long long)s->bytes, s->chunks,
					  (unsigned long long)mb->bytes, mb->chunks);
	}
	if (b->nseen != m->nblobs)
		return bs_err_set(err, BS_ERR_FORMAT, "the archive holds %zu large objects, the manifest lists %zu",
				  b->nseen, m->nblobs);
	if (!bs_digest_equal(&b->digest, &m->blob_digest)) {
		char a[BS_DIGEST_HEX_LEN + 1], x[BS_DIGEST_HEX_LEN + 1];
		bs_digest_hex(&b->digest, a);
		bs_digest_hex(&m->blob_digest, x);
		bs_err_set(err, BS_ERR_FORMAT, "large objects: digest %s of the restored data differs from the "
					       "manifest's %s",
			   a, x);
		return -1;
	}
	return 0;
}
