/* reader.c - the archive grammar and its binding to the record (reader.h) */
#include "archive/reader.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/tar.h"

#define META_MAX ((size_t)128 << 20) /* backstop.json, globals.json, manifest.json */

enum state {
	ST_PRE,        /* after backstop.json: globals.json or schema.dump next */
	ST_BODY,       /* after schema.dump: data, blobs, acl, manifest */
	ST_MANIFEST,   /* manifest.json is the current member */
	ST_DONE,       /* finished (or ended early in verifier mode) */
};

struct bs_areader {
	struct bs_tar_reader *tar;
	struct bs_rstream *in;
	const struct bs_archive_expect *x;
	struct bs_manifest *m;
	bs_areader_note_fn note;
	void *ud;
	enum state st;
	int seen_globals, seen_schema;
	uint64_t members;

	/* the current member */
	enum bs_amember_kind kind;
	int in_member, hashing, checked;
	struct bs_sha256_ctx *h;
	struct bs_mmember got[BS_MM_COUNT]; /* digests of the members read */
	int globals_ok;

	/* format version 3: per table of the header (sorted by number), its
	 * chunks read and its end member */
	struct tend {
		uint32_t no;
		size_t idx;        /* in m->tables */
		uint64_t seen;     /* chunk members before the end member */
		uint64_t claimed;  /* what the end member says */
		int ended;
	} *te;
	size_t nte;
};

void bs_archive_expect_init(struct bs_archive_expect *x)
{
	memset(x, 0, sizeof(*x));
	x->tables = x->chunks = -1;
}

/* A problem: in strict mode the error, in verifier mode a note.  Returns
 * -1 in strict mode (and when note fails), 0 when reading may go on. */
static int problem(struct bs_areader *r, const char *member, struct bs_err *err, const char *hint,
		   const char *fmt, ...)
{
	char msg[BS_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r->note) {
		if (r->note(r->ud, member, msg) < 0)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		return 0;
	}
	bs_err_set(err, BS_ERR_FORMAT, "%s", msg);
	if (hint)
		bs_err_hint(err, "%s", hint);
	return -1;
}

#define HINT_DAMAGED "the archive is damaged or was replaced; restore another snapshot"
#define HINT_BINDING "the archive or its catalog record was replaced or edited; restore another snapshot, " \
		     "and find out who changed the repository"

static const char *what(const struct bs_areader *r)
{
	return r->x && r->x->what ? r->x->what : "the archive";
}

/* ---- member data and digests ---- */

static void hash_start(struct bs_areader *r, int on)
{
	r->hashing = on;
	r->checked = 0;
	if (on)
		bs_sha256_reset(r->h);
}

static int member_end(struct bs_areader *r, struct bs_err *err);

ssize_t bs_areader_read(struct bs_areader *r, void *buf, size_t len, struct bs_err *err)
{
	ssize_t n;

	if (!r->in_member)
		return 0;
	n = bs_tar_read(r->tar, buf, len, err);
	if (n > 0 && r->hashing)
		bs_sha256_update(r->h, buf, (size_t)n);
	if (n == 0 && member_end(r, err) < 0)
		return -1;
	return n;
}

static ssize_t areader_read_fn(void *ud, void *buf, size_t len, struct bs_err *err)
{
	return bs_areader_read(ud, buf, len, err);
}

int bs_areader_read_all(struct bs_areader *r, size_t max, char **out, size_t *outlen, struct bs_err *err)
{
	return bs_read_all(areader_read_fn, r, "archive member", max, out, outlen, err);
}

/* The rest of a hashed member the caller did not read. */
static int drain(struct bs_areader *r, struct bs_err *err)
{
	char buf[16384];
	ssize_t n;

	while ((n = bs_areader_read(r, buf, sizeof(buf), err)) > 0)
		;
	return n < 0 ? -1 : 0;
}

/* The last byte of the current member was read: record and check its digest. */
static int member_end(struct bs_areader *r, struct bs_err *err)
{
	unsigned char md[32];
	uint64_t bytes;

	r->in_member = 0;
	if (!r->hashing || r->checked)
		return 0;
	r->checked = 1;
	bs_sha256_peek(r->h, md);
	bytes = bs_sha256_bytes(r->h);
	switch (r->kind) {
	case BS_AM_GLOBALS:
		if (!r->m->has_globals)
			return problem(r, BS_MEMBER_GLOBALS_JSON, err, NULL,
				       "unexpected member '%s': %s does not list it", BS_MEMBER_GLOBALS_JSON,
				       BS_MEMBER_HEADER);
		if (bytes != r->m->globals_bytes || memcmp(md, r->m->globals_sha256, 32) != 0)
			return problem(r, BS_MEMBER_GLOBALS_JSON, err, HINT_DAMAGED,
				       "archive member '%s' does not match its digest in %s", BS_MEMBER_GLOBALS_JSON,
				       BS_MEMBER_HEADER);
		r->globals_ok = 1;
		return 0;
	case BS_AM_SCHEMA:
	case BS_AM_BLOB_ACL: {
		enum bs_mm k = r->kind == BS_AM_SCHEMA ? BS_MM_SCHEMA : BS_MM_BLOB_ACL;
		r->got[k].has = 1;
		r->got[k].bytes = bytes;
		memcpy(r->got[k].sha256, md, 32);
		if (k == BS_MM_SCHEMA && r->x && r->x->has_digests && memcmp(md, r->x->schema_sha256, 32) != 0)
			return problem(r, BS_MEMBER_SCHEMA, err, HINT_BINDING,
				       "archive member '%s' of %s does not match the digest in the snapshot's record",
				       BS_MEMBER_SCHEMA, what(r));
		return 0;
	}
	default:
		return 0;
	}
}

/* ---- table end members (format version 3) ---- */

static int cmp_tend(const void *a, const void *b)
{
	uint32_t x = ((const struct tend *)a)->no, y = ((const struct tend *)b)->no;

	return x < y ? -1 : x > y;
}

static int tend_init(struct bs_areader *r, struct bs_err *err)
{
	size_t i;

	/* (built whatever the version: an archive whose header says 1 or 2
	 * has no end members, but one it holds is checked all the same) */
	if (r->m->ntables == 0)
		return 0;
	if (!(r->te = calloc(r->m->ntables, sizeof(*r->te))))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	for (i = 0; i < r->m->ntables; i++) {
		r->te[i].no = r->m->tables[i].no;
		r->te[i].idx = i;
	}
	r->nte = r->m->ntables;
	qsort(r->te, r->nte, sizeof(*r->te), cmp_tend);
	return 0;
}

static struct tend *tend_find(struct bs_areader *r, uint32_t no)
{
	struct tend key;

	key.no = no;
	return r->nte ? bsearch(&key, r->te, r->nte, sizeof(*r->te), cmp_tend) : NULL;
}

static const struct bs_mtable *tend_table(const struct bs_areader *r, const struct tend *t)
{
	return &r->m->tables[t->idx];
}

/* A chunk member: its table's end member must not have come yet. */
static int tend_chunk(struct bs_areader *r, const struct bs_amember *mem, struct bs_err *err)
{
	struct tend *t = tend_find(r, mem->a);
	char end[64];

	if (!t)
		return 0; /* a table not in the header: the caller says so */
	if (t->ended) {
		bs_member_table_end_name(end, t->no);
		return problem(r, mem->name, err, HINT_DAMAGED,
			       "archive member '%s' of table %s.%s comes after the table's end member '%s'",
			       mem->name, tend_table(r, t)->schema, tend_table(r, t)->name, end);
	}
	t->seen++;
	return 0;
}

/* data/<tno>/end.json: 1 with *mem filled, 0 to skip it (verifier: noted),
 * -1 on error. */
static int tend_member(struct bs_areader *r, struct bs_amember *mem, struct bs_err *err)
{
	struct tend *t;
	char *buf = NULL;
	size_t len = 0;
	uint64_t claimed = 0;
	struct bs_err e;
	int rc;

	hash_start(r, 0);
	if (!(t = tend_find(r, mem->a)))
		return problem(r, mem->name, err, HINT_DAMAGED, "unexpected member '%s': table %" PRIu32
			       " is not in %s", mem->name, mem->a, BS_MEMBER_HEADER) < 0 ? -1 : 0;
	if (t->ended)
		return problem(r, mem->name, err, HINT_DAMAGED, "duplicate member '%s'", mem->name) < 0 ? -1 : 0;
	if (mem->size > BS_TABLE_END_MAX)
		return problem(r, mem->name, err, HINT_DAMAGED, "archive member '%s' is too large (%" PRIu64
			       " bytes)", mem->name, mem->size) < 0 ? -1 : 0;
	if (bs_areader_read_all(r, BS_TABLE_END_MAX, &buf, &len, err) < 0)
		return -1;
	bs_err_init(&e);
	rc = bs_table_end_parse(mem->name, buf, len, &claimed, &e);
	free(buf);
	if (rc < 0) {
		if (e.code == BS_ERR_NOMEM) {
			*err = e;
			return -1;
		}
		return problem(r, mem->name, err, HINT_DAMAGED, "%s", e.msg) < 0 ? -1 : 0;
	}
	t->ended = 1;
	t->claimed = claimed;
	if (claimed != t->seen)
		return problem(r, mem->name, err, HINT_DAMAGED,
			       "archive member '%s' says table %s.%s has %" PRIu64 " chunks, the archive holds %"
			       PRIu64 " before it", mem->name, tend_table(r, t)->schema, tend_table(r, t)->name,
			       claimed, t->seen) < 0 ? -1 : 0;
	mem->kind = BS_AM_TABLE_END;
	mem->b = (uint32_t)claimed;
	return 1;
}

/* After the manifest: every table has its end member (when the archive
 * has any: snap writes one for every table), and it agrees. */
static int tend_check_manifest(struct bs_areader *r, struct bs_err *err)
{
	char end[64];
	size_t i, ended = 0;

	for (i = 0; i < r->nte; i++)
		ended += r->te[i].ended ? 1 : 0;
	for (i = 0; i < r->nte && ended > 0; i++) {
		const struct tend *t = &r->te[i];
		const struct bs_mtable *mt = tend_table(r, t);
		bs_member_table_end_name(end, t->no);
		if (!t->ended) {
			if (problem(r, end, err, HINT_DAMAGED, "table %s.%s: archive member '%s' is missing",
				    mt->schema, mt->name, end) < 0)
				return -1;
			continue;
		}
		if (t->claimed != mt->nchunks &&
		    problem(r, end, err, HINT_DAMAGED,
			    "table %s.%s: archive member '%s' says %" PRIu64 " chunks, %s lists %zu", mt->schema,
			    mt->name, end, t->claimed, BS_MEMBER_MANIFEST, mt->nchunks) < 0)
			return -1;
	}
	return 0;
}

/* ---- open: backstop.json ---- */

static int check_header(struct bs_areader *r, const char *buf, size_t len, struct bs_err *err)
{
	const struct bs_archive_expect *x = r->x;
	struct bs_manifest *m = r->m;
	unsigned char md[32];

	if (bs_sha256(buf, len, md, err) < 0)
		return -1;
	r->got[BS_MM_HEADER].has = 1;
	r->got[BS_MM_HEADER].bytes = len;
	memcpy(r->got[BS_MM_HEADER].sha256, md, 32);
	if (x && x->has_digests && memcmp(md, x->header_sha256, 32) != 0) {
		/* say whose it is when it parses: the common case is another
		 * snapshot's archive in this one's place */
		struct bs_manifest other;
		struct bs_err e;
		bs_manifest_init(&other);
		bs_err_init(&e);
		if (bs_manifest_parse_header(&other, buf, len, &e) == 0 && x->id && other.id &&
		    strcmp(other.id, x->id) != 0)
			bs_err_set(err, BS_ERR_FORMAT, "%s is not the archive of snapshot %s: it holds snapshot %s",
				   what(r), x->id, other.id);
		else
			bs_err_set(err, BS_ERR_FORMAT, "archive member '%s' of %s does not match the digest in the "
				   "snapshot's record", BS_MEMBER_HEADER, what(r));
		bs_manifest_release(&other);
		bs_err_hint(err, HINT_BINDING);
		return -1;
	}
	if (bs_manifest_parse_header(m, buf, len, err) < 0)
		return -1;
	if (x && x->id && strcmp(m->id, x->id) != 0) {
		bs_err_set(err, BS_ERR_FORMAT, "%s is not the archive of snapshot %s: it holds snapshot %s", what(r),
			   x->id, m->id);
		bs_err_hint(err, HINT_BINDING);
		return -1;
	}
	if (x && x->database && strcmp(m->database, x->database) != 0) {
		bs_err_set(err, BS_ERR_FORMAT, "%s holds database '%s', its catalog record says '%s'", what(r),
			   m->database, x->database);
		bs_err_hint(err, HINT_BINDING);
		return -1;
	}
	if (x && x->tables >= 0 && (uint64_t)x->tables != m->ntables) {
		bs_err_set(err, BS_ERR_FORMAT, "%s holds %zu tables, its catalog record says %" PRId64, what(r),
			   m->ntables, x->tables);
		bs_err_hint(err, HINT_BINDING);
		return -1;
	}
	return 0;
}

int bs_areader_open(struct bs_rstream *in, const struct bs_archive_expect *x, struct bs_manifest *m,
		    bs_areader_note_fn note, void *ud, struct bs_areader **out, struct bs_err *err)
{
	struct bs_areader *r = calloc(1, sizeof(*r));
	const char *name = NULL;
	uint64_t size = 0;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if (!r || !(r->h = bs_sha256_new())) {
		free(r);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	r->in = in;
	r->x = x;
	r->m = m;
	r->note = note;
	r->ud = ud;
	/* the tar layer says "not a backstop archive" itself when it is not
	 * tar; an error of the stream beneath (decryption) comes as it is */
	if (bs_tar_reader_new(in, &r->tar, err) < 0)
		goto fail;
	rc = bs_tar_next(r->tar, &name, &size, NULL, err);
	if (rc < 0)
		goto fail;
	if (rc == 0 || strcmp(name, BS_MEMBER_HEADER) != 0) {
		bs_err_set(err, BS_ERR_FORMAT, "not a backstop archive: the first member is %s%s%s, not %s",
			   rc ? "'" : "", rc ? name : "missing", rc ? "'" : "", BS_MEMBER_HEADER);
		goto fail;
	}
	r->members = 1;
	r->in_member = 1;
	hash_start(r, 0);
	if (size > META_MAX) {
		bs_err_set(err, BS_ERR_FORMAT, "archive member '%s' is too large (%" PRIu64 " bytes)", name, size);
		goto fail;
	}
	if (bs_areader_read_all(r, META_MAX, &buf, &len, err) < 0 || check_header(r, buf, len, err) < 0 ||
	    tend_init(r, err) < 0)
		goto fail;
	free(buf);
	r->st = ST_PRE;
	*out = r;
	return 0;
fail:
	free(buf);
	bs_areader_free(r);
	return -1;
}

/* ---- next ---- */

/* The archive ended before manifest.json. */
static int ended_early(struct bs_areader *r, struct bs_err *err)
{
	const char *missing = r->st == ST_PRE ? BS_MEMBER_SCHEMA : BS_MEMBER_MANIFEST;

	r->st = ST_DONE;
	if (r->note)
		return r->note(r->ud, missing, "missing: the archive ends without it") < 0
			       ? bs_err_set(err, BS_ERR_NOMEM, "out of memory")
			       : 0;
	bs_err_set(err, BS_ERR_FORMAT, "archive is truncated: %s missing", missing);
	bs_err_hint(err, "the archive was cut short (interrupted upload or copy?)");
	return -1;
}

/* Skip the rest of the current member (hashed ones are read through). */
static int leave_member(struct bs_areader *r, struct bs_err *err)
{
	if (r->in_member && r->hashing && !r->checked)
		return drain(r, err);
	r->in_member = 0;
	return 0;
}

static int classify(struct bs_areader *r, const char *name, struct bs_amember *mem, struct bs_err *err)
{
	if (bs_member_parse_chunk(name, &mem->a, &mem->b) == 0)
		mem->kind = BS_AM_CHUNK;
	else if (bs_member_parse_blob(name, &mem->a, &mem->b) == 0)
		mem->kind = BS_AM_BLOB;
	else if (bs_member_parse_table_end(name, &mem->a) == 0)
		mem->kind = BS_AM_TABLE_END;
	else if (strcmp(name, BS_MEMBER_BLOB_ACL) == 0)
		mem->kind = BS_AM_BLOB_ACL;
	else if (strcmp(name, BS_MEMBER_MANIFEST) == 0)
		mem->kind = BS_AM_MANIFEST;
	else
		return 1; /* not a body member */
	return 0;
}

int bs_areader_next(struct bs_areader *r, struct bs_amember *mem, struct bs_err *err)
{
	for (;;) {
		const char *name = NULL, *uname = NULL;
		uint64_t size = 0;
		int rc;

		if (r->st == ST_DONE)
			return 0;
		if (r->st == ST_MANIFEST)
			return bs_areader_finish(r, err) < 0 ? -1 : 0;
		if (leave_member(r, err) < 0)
			return -1;
		rc = bs_tar_next(r->tar, &name, &size, &uname, err);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return ended_early(r, err) < 0 ? -1 : 0;
		r->members++;
		memset(mem, 0, sizeof(*mem));
		mem->name = name;
		mem->uname = uname;
		mem->size = size;
		r->in_member = 1;
		if (r->st == ST_PRE && strcmp(name, BS_MEMBER_GLOBALS_JSON) == 0 && !r->seen_globals) {
			r->seen_globals = 1;
			r->kind = mem->kind = BS_AM_GLOBALS;
			if (size > META_MAX && problem(r, name, err, HINT_DAMAGED, "archive member '%s' is too large "
						       "(%" PRIu64 " bytes)", name, size) < 0)
				return -1;
			hash_start(r, 1);
			return 1;
		}
		if (r->st == ST_PRE) {
			r->st = ST_BODY;
			if (r->m->has_globals && !r->seen_globals &&
			    problem(r, BS_MEMBER_GLOBALS_JSON, err, HINT_DAMAGED, "archive member '%s' is missing",
				    BS_MEMBER_GLOBALS_JSON) < 0)
				return -1;
			if (strcmp(name, BS_MEMBER_SCHEMA) == 0) {
				r->seen_schema = 1;
				r->kind = mem->kind = BS_AM_SCHEMA;
				hash_start(r, 1);
				return 1;
			}
			if (problem(r, BS_MEMBER_SCHEMA, err, HINT_DAMAGED,
				    "unexpected member '%s' where %s was expected", name, BS_MEMBER_SCHEMA) < 0)
				return -1;
			/* verifier: read on, as if it were a body member */
		}
		if (classify(r, name, mem, err) != 0) {
			if (problem(r, name, err, HINT_DAMAGED,
				    "unexpected member '%s': an extra member, not part of a backstop archive", name) < 0)
				return -1;
			hash_start(r, 0);
			continue;
		}
		r->kind = mem->kind;
		if (mem->kind == BS_AM_TABLE_END) {
			rc = tend_member(r, mem, err);
			if (rc != 0)
				return rc;
			continue;
		}
		if (mem->kind == BS_AM_CHUNK && tend_chunk(r, mem, err) < 0)
			return -1;
		hash_start(r, mem->kind == BS_AM_BLOB_ACL || mem->kind == BS_AM_MANIFEST);
		if (mem->kind == BS_AM_MANIFEST)
			r->st = ST_MANIFEST;
		return 1;
	}
}

/* ---- finish: manifest.json and the end ---- */

static int check_members(struct bs_areader *r, struct bs_err *err)
{
	int k;

	for (k = 0; k < BS_MM_COUNT; k++) {
		const struct bs_mmember *want = &r->m->members[k], *got = &r->got[k];
		const char *name = bs_mm_name((enum bs_mm)k);
		if (!want->has)
			continue; /* written by backstop < 0.3 */
		if (!got->has) {
			if (k == BS_MM_SCHEMA && !r->seen_schema)
				continue; /* already reported missing */
			if (problem(r, name, err, HINT_DAMAGED, "archive member '%s' is missing: %s lists it", name,
				    BS_MEMBER_MANIFEST) < 0)
				return -1;
			continue;
		}
		if ((got->bytes != want->bytes || memcmp(got->sha256, want->sha256, 32) != 0) &&
		    problem(r, name, err, HINT_DAMAGED, "archive member '%s' does not match its digest in %s", name,
			    BS_MEMBER_MANIFEST) < 0)
			return -1;
	}
	if (r->got[BS_MM_BLOB_ACL].has && r->m->members[BS_MM_SCHEMA].has && !r->m->members[BS_MM_BLOB_ACL].has &&
	    problem(r, BS_MEMBER_BLOB_ACL, err, HINT_DAMAGED, "unexpected member '%s': %s does not list it",
		    BS_MEMBER_BLOB_ACL, BS_MEMBER_MANIFEST) < 0)
		return -1;
	return 0;
}

static int read_manifest(struct bs_areader *r, struct bs_err *err)
{
	const struct bs_archive_expect *x = r->x;
	unsigned char md[32];
	char *buf = NULL;
	size_t len = 0, i;
	uint64_t chunks = 0;
	struct bs_err e;
	int rc;

	if (bs_areader_read_all(r, META_MAX, &buf, &len, err) < 0)
		return -1;
	rc = bs_sha256(buf, len, md, err);
	/* (a verifier reads on: what else differs says what happened) */
	if (rc == 0 && x && x->has_digests && memcmp(md, x->manifest_sha256, 32) != 0 &&
	    problem(r, BS_MEMBER_MANIFEST, err, HINT_BINDING,
		    "archive member '%s' of %s does not match the digest in the snapshot's record",
		    BS_MEMBER_MANIFEST, what(r)) < 0) {
		free(buf);
		return -1;
	}
	bs_err_init(&e);
	if (rc == 0 && bs_manifest_parse(r->m, buf, len, &e) < 0) {
		free(buf);
		if (e.code == BS_ERR_NOMEM || !r->note) {
			*err = e;
			return -1;
		}
		return problem(r, BS_MEMBER_MANIFEST, err, NULL, "%s", e.msg);
	}
	free(buf);
	if (rc < 0)
		return -1;
	if (check_members(r, err) < 0 || tend_check_manifest(r, err) < 0)
		return -1;
	for (i = 0; i < r->m->ntables; i++)
		chunks += r->m->tables[i].nchunks;
	if (x && x->chunks >= 0 && (uint64_t)x->chunks != chunks)
		return problem(r, BS_MEMBER_MANIFEST, err, HINT_BINDING,
			       "%s lists %" PRIu64 " chunks, its catalog record says %" PRId64, what(r), chunks,
			       x->chunks);
	return 0;
}

/* Nothing but the end of the archive (and zero padding) after the manifest;
 * then the archive as stored must be the one the record names. */
static int check_end(struct bs_areader *r, struct bs_err *err)
{
	const struct bs_archive_expect *x = r->x;

	for (;;) {
		const char *name = NULL;
		int rc = bs_tar_next(r->tar, &name, NULL, NULL, err);
		if (rc < 0)
			return -1;
		if (rc == 0)
			break;
		r->members++;
		if (problem(r, name, err, HINT_DAMAGED, "unexpected member '%s' after %s: an extra member", name,
			    BS_MEMBER_MANIFEST) < 0)
			return -1;
	}
	if (bs_tar_reader_finish(r->tar, err) < 0)
		return -1;
	if (x && x->has_digests && x->stored) {
		unsigned char md[32];
		uint64_t bytes = bs_sha256_bytes(x->stored);
		bs_sha256_peek(x->stored, md);
		if (bytes != x->bytes)
			return problem(r, NULL, err, HINT_BINDING,
				       "%s is %" PRIu64 " bytes, its catalog record says %" PRIu64, what(r), bytes,
				       x->bytes);
		if (memcmp(md, x->archive_sha256, 32) != 0)
			return problem(r, NULL, err, HINT_BINDING,
				       "%s does not match the SHA-256 in its catalog record", what(r));
	}
	return 0;
}

int bs_areader_finish(struct bs_areader *r, struct bs_err *err)
{
	if (r->st == ST_DONE)
		return 0;
	if (r->st != ST_MANIFEST)
		return bs_err_set(err, BS_ERR_INTERNAL, "archive finished before its manifest");
	r->st = ST_DONE;
	if (r->in_member && read_manifest(r, err) < 0)
		return -1;
	if (leave_member(r, err) < 0)
		return -1;
	return check_end(r, err);
}

uint64_t bs_areader_members(const struct bs_areader *r)
{
	return r->members;
}

void bs_areader_free(struct bs_areader *r)
{
	if (!r)
		return;
	bs_tar_reader_free(r->tar);
	bs_sha256_free(r->h);
	free(r->te);
	free(r);
}
