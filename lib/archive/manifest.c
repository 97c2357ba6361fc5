/* manifest.c - see manifest.h; JSON through jansson. */
#include "archive/manifest.h"
#include "common/hash.h"

#include <inttypes.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HEADER_FORMAT "backstop-snapshot"
#define MANIFEST_FORMAT "backstop-manifest"

/* ---- init / release ---- */

void bs_manifest_init(struct bs_manifest *m)
{
	memset(m, 0, sizeof(*m));
	bs_digest_init(&m->blob_digest);
}

static void table_release(struct bs_mtable *t)
{
	size_t i;

	free(t->schema);
	free(t->name);
	for (i = 0; i < t->ncolumns; i++)
		free(t->columns[i]);
	free(t->columns);
	free(t->chunks);
	free(t->extension);
	free(t->filter);
}

void bs_manifest_release(struct bs_manifest *m)
{
	size_t i;

	if (!m)
		return;
	free(m->id);
	free(m->database);
	free(m->encoding);
	free(m->server_version);
	free(m->start);
	free(m->end);
	for (i = 0; i < m->ntables; i++)
		table_release(&m->tables[i]);
	free(m->tables);
	for (i = 0; i < m->nseqs; i++) {
		free(m->seqs[i].schema);
		free(m->seqs[i].name);
	}
	free(m->seqs);
	for (i = 0; i < m->nunpopulated; i++) {
		free(m->unpopulated[i].schema);
		free(m->unpopulated[i].name);
	}
	free(m->unpopulated);
	free(m->blobs);
	for (i = 0; i < m->ninv; i++) {
		free(m->inv[i].kind);
		free(m->inv[i].name);
		free(m->inv[i].def);
	}
	free(m->inv);
	bs_manifest_init(m);
}

/* ---- builders ---- */

/* Make room for one more element of size sz in *arr (count n, capacity *cap). */
static int grow(void **arr, size_t n, size_t *cap, size_t sz)
{
	void *na;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	na = realloc(*arr, ncap * sz);
	if (!na)
		return -1;
	*arr = na;
	*cap = ncap;
	return 0;
}

struct bs_mtable *bs_manifest_add_table(struct bs_manifest *m, uint32_t no, const char *schema,
					const char *name, const char *const *columns, size_t ncolumns)
{
	struct bs_mtable *t;
	size_t i;

	if (grow((void **)&m->tables, m->ntables, &m->tables_cap, sizeof(*m->tables)) < 0)
		return NULL;
	t = &m->tables[m->ntables];
	memset(t, 0, sizeof(*t));
	t->no = no;
	bs_digest_init(&t->digest);
	t->schema = strdup(schema);
	t->name = strdup(name);
	t->columns = calloc(ncolumns ? ncolumns : 1, sizeof(*t->columns));
	if (!t->schema || !t->name || !t->columns)
		goto fail;
	for (i = 0; i < ncolumns; i++) {
		t->columns[i] = strdup(columns[i]);
		if (!t->columns[i])
			goto fail;
		t->ncolumns++;
	}
	m->ntables++;
	return t;
fail:
	table_release(t);
	return NULL;
}

struct bs_mtable *bs_manifest_table(struct bs_manifest *m, uint32_t no)
{
	size_t i;

	/* tables are normally numbered 1..n in order */
	if (no >= 1 && no <= m->ntables && m->tables[no - 1].no == no)
		return &m->tables[no - 1];
	for (i = 0; i < m->ntables; i++)
		if (m->tables[i].no == no)
			return &m->tables[i];
	return NULL;
}

int bs_mtable_set_extension(struct bs_mtable *t, const char *extension, const char *condition)
{
	const char *c = condition ? condition : "";

	while (*c == ' ')
		c++;
	if (strncasecmp(c, "WHERE", 5) == 0 && (c[5] == ' ' || c[5] == '\t' || c[5] == '\n' || c[5] == '('))
		c += 5;
	while (*c == ' ' || *c == '\t' || *c == '\n')
		c++;
	free(t->extension);
	free(t->filter);
	t->extension = strdup(extension);
	t->filter = strdup(c);
	return t->extension && t->filter ? 0 : -1;
}

int bs_mtable_add_chunk(struct bs_mtable *t, const struct bs_mchunk *c)
{
	if (grow((void **)&t->chunks, t->nchunks, &t->chunks_cap, sizeof(*t->chunks)) < 0)
		return -1;
	t->chunks[t->nchunks++] = *c;
	return 0;
}

int bs_manifest_add_seq(struct bs_manifest *m, const char *schema, const char *name,
			int64_t last_value, int is_called)
{
	struct bs_mseq *s;

	if (grow((void **)&m->seqs, m->nseqs, &m->seqs_cap, sizeof(*m->seqs)) < 0)
		return -1;
	s = &m->seqs[m->nseqs];
	s->schema = strdup(schema);
	s->name = strdup(name);
	s->last_value = last_value;
	s->is_called = is_called ? 1 : 0;
	if (!s->schema || !s->name) {
		free(s->schema);
		free(s->name);
		return -1;
	}
	m->nseqs++;
	return 0;
}

int bs_manifest_add_unpopulated(struct bs_manifest *m, const char *schema, const char *name)
{
	struct bs_mrel *r;

	if (grow((void **)&m->unpopulated, m->nunpopulated, &m->unpopulated_cap, sizeof(*m->unpopulated)) < 0)
		return -1;
	r = &m->unpopulated[m->nunpopulated];
	r->schema = strdup(schema);
	r->name = strdup(name);
	if (!r->schema || !r->name) {
		free(r->schema);
		free(r->name);
		return -1;
	}
	m->nunpopulated++;
	return 0;
}

int bs_manifest_is_unpopulated(const struct bs_manifest *m, const char *schema, const char *name)
{
	size_t i;

	for (i = 0; i < m->nunpopulated; i++)
		if (strcmp(m->unpopulated[i].schema, schema) == 0 && strcmp(m->unpopulated[i].name, name) == 0)
			return 1;
	return 0;
}

int bs_manifest_add_blob(struct bs_manifest *m, uint32_t oid, uint64_t bytes, uint32_t chunks)
{
	if (grow((void **)&m->blobs, m->nblobs, &m->blobs_cap, sizeof(*m->blobs)) < 0)
		return -1;
	m->blobs[m->nblobs].oid = oid;
	m->blobs[m->nblobs].bytes = bytes;
	m->blobs[m->nblobs].chunks = chunks;
	m->nblobs++;
	return 0;
}

int bs_manifest_add_inv(struct bs_manifest *m, const char *kind, const char *name, const char *def)
{
	struct bs_minv *v;

	if (grow((void **)&m->inv, m->ninv, &m->inv_cap, sizeof(*m->inv)) < 0)
		return -1;
	v = &m->inv[m->ninv];
	v->kind = strdup(kind);
	v->name = strdup(name);
	v->def = strdup(def ? def : "");
	if (!v->kind || !v->name || !v->def) {
		free(v->kind);
		free(v->name);
		free(v->def);
		return -1;
	}
	m->ninv++;
	return 0;
}

const char *bs_mm_name(enum bs_mm k)
{
	switch (k) {
	case BS_MM_HEADER:
		return BS_MEMBER_HEADER;
	case BS_MM_SCHEMA:
		return BS_MEMBER_SCHEMA;
	case BS_MM_BLOB_ACL:
		return BS_MEMBER_BLOB_ACL;
	default:
		return "?";
	}
}

void bs_manifest_set_globals(struct bs_manifest *m, uint64_t bytes, const unsigned char sha256[32])
{
	m->has_globals = 1;
	m->globals_bytes = bytes;
	memcpy(m->globals_sha256, sha256, 32);
}

static void hex32(const unsigned char *b, char out[65])
{
	static const char x[] = "0123456789abcdef";
	int i;

	for (i = 0; i < 32; i++) {
		out[2 * i] = x[b[i] >> 4];
		out[2 * i + 1] = x[b[i] & 15];
	}
	out[64] = '\0';
}

int bs_manifest_check_globals(const struct bs_manifest *m, const char *buf, size_t len, struct bs_err *err)
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	if (!m->has_globals)
		return bs_err_set(err, BS_ERR_FORMAT, "unexpected member '%s': %s does not list it",
				  BS_MEMBER_GLOBALS_JSON, BS_MEMBER_MANIFEST);
	if (!EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return bs_err_set(err, BS_ERR_CRYPTO, "unable to compute a SHA-256 digest");
	if ((uint64_t)len != m->globals_bytes || memcmp(md, m->globals_sha256, 32) != 0) {
		bs_err_set(err, BS_ERR_FORMAT, "archive member '%s' does not match its digest in %s",
			   BS_MEMBER_GLOBALS_JSON, BS_MEMBER_MANIFEST);
		bs_err_hint(err, "the archive is damaged; restore another snapshot");
		return -1;
	}
	return 0;
}

/* ---- serialization ---- */

/* Builders below collect the first failure in *bad and keep going with
 * NULL-tolerant jansson calls; the caller reports one error at the end. */
struct jb {
	int bad;
	char what[128]; /* which value failed (non-UTF-8 string) */
};

static json_t *jstr(struct jb *b, const char *field, const char *s)
{
	json_t *v;

	if (!s)
		return json_null();
	v = json_string(s);
	if (!v && !b->bad) {
		b->bad = 1;
		snprintf(b->what, sizeof(b->what), "%s", field);
	}
	return v;
}

static json_t *jint(struct jb *b, uint64_t x)
{
	json_t *v;

	if (x > (uint64_t)INT64_MAX) {
		if (!b->bad) {
			b->bad = 1;
			snprintf(b->what, sizeof(b->what), "integer out of range");
		}
		return NULL;
	}
	v = json_integer((json_int_t)x);
	if (!v)
		b->bad = 1;
	return v;
}

static json_t *jdigest(const struct bs_digest *d)
{
	char hex[BS_DIGEST_HEX_LEN + 1];

	bs_digest_hex(d, hex);
	return json_string(hex);
}

static void jset(struct jb *b, json_t *obj, const char *key, json_t *v)
{
	if (!v || !obj || json_object_set_new(obj, key, v) < 0)
		b->bad = 1;
}

static void jappend(struct jb *b, json_t *arr, json_t *v)
{
	if (!v || !arr || json_array_append_new(arr, v) < 0)
		b->bad = 1;
}

static int dump(json_t *root, struct jb *b, const char *member, char **out, size_t *len,
		struct bs_err *err)
{
	char *s = NULL;

	*out = NULL;
	*len = 0;
	if (!b->bad && root)
		s = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!s) {
		if (b->what[0])
			return bs_err_set(err, BS_ERR_FORMAT,
					  "unable to write %s: %s is not valid UTF-8", member, b->what);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory writing %s", member);
	}
	*len = strlen(s);
	/* hand out a plain malloc'd buffer with a trailing newline */
	*out = malloc(*len + 2);
	if (!*out) {
		free(s);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory writing %s", member);
	}
	memcpy(*out, s, *len);
	(*out)[(*len)++] = '\n';
	(*out)[*len] = '\0';
	free(s);
	return 0;
}

int bs_manifest_header_json(const struct bs_manifest *m, char **out, size_t *len, struct bs_err *err)
{
	struct jb b = { 0, "" };
	json_t *root = json_object(), *tables = json_array();
	size_t i, j;

	jset(&b, root, "format", json_string(HEADER_FORMAT));
	jset(&b, root, "version", json_integer(BS_FORMAT_VERSION));
	jset(&b, root, "id", jstr(&b, "id", m->id));
	jset(&b, root, "database", jstr(&b, "database name", m->database));
	jset(&b, root, "encoding", jstr(&b, "encoding", m->encoding));
	jset(&b, root, "server_version", jstr(&b, "server_version", m->server_version));
	jset(&b, root, "server_version_num", json_integer(m->server_version_num));
	jset(&b, root, "start", jstr(&b, "start", m->start));
	if (m->has_globals) {
		char hex[65];
		json_t *jg = json_object();
		hex32(m->globals_sha256, hex);
		jset(&b, jg, "bytes", jint(&b, m->globals_bytes));
		jset(&b, jg, "sha256", json_string(hex));
		jset(&b, root, "globals", jg);
	}
	if (m->nunpopulated > 0) {
		json_t *arr = json_array();
		for (i = 0; i < m->nunpopulated && !b.bad; i++) {
			json_t *jr = json_object();
			jset(&b, jr, "schema", jstr(&b, "a schema name", m->unpopulated[i].schema));
			jset(&b, jr, "name", jstr(&b, "a materialized view name", m->unpopulated[i].name));
			jappend(&b, arr, jr);
		}
		jset(&b, root, "unpopulated_matviews", arr);
	}
	for (i = 0; i < m->ntables && !b.bad; i++) {
		const struct bs_mtable *t = &m->tables[i];
		json_t *jt = json_object(), *cols = json_array();

		jset(&b, jt, "no", json_integer(t->no));
		jset(&b, jt, "schema", jstr(&b, "a schema name", t->schema));
		jset(&b, jt, "name", jstr(&b, "a table name", t->name));
		for (j = 0; j < t->ncolumns; j++)
			jappend(&b, cols, jstr(&b, "a column name", t->columns[j]));
		jset(&b, jt, "columns", cols);
		if (t->extension) {
			jset(&b, jt, "extension", jstr(&b, "an extension name", t->extension));
			jset(&b, jt, "filter", jstr(&b, "an extension's filter", t->filter ? t->filter : ""));
		}
		jappend(&b, tables, jt);
	}
	jset(&b, root, "tables", tables);
	return dump(root, &b, BS_MEMBER_HEADER, out, len, err);
}

/* "members": {"backstop.json": {"bytes": N, "sha256": "<64 hex>"}, ...} */
static void members_json(struct jb *b, const struct bs_manifest *m, json_t *root)
{
	json_t *jm = json_object();
	int k, any = 0;

	for (k = 0; k < BS_MM_COUNT; k++) {
		char hex[65];
		json_t *jo;
		if (!m->members[k].has)
			continue;
		jo = json_object();
		hex32(m->members[k].sha256, hex);
		jset(b, jo, "bytes", jint(b, m->members[k].bytes));
		jset(b, jo, "sha256", json_string(hex));
		jset(b, jm, bs_mm_name((enum bs_mm)k), jo);
		any = 1;
	}
	if (any)
		jset(b, root, "members", jm);
	else
		json_decref(jm);
}

int bs_manifest_json(const struct bs_manifest *m, char **out, size_t *len, struct bs_err *err)
{
	struct jb b = { 0, "" };
	json_t *root = json_object(), *tables = json_array(), *seqs = json_array();
	json_t *blobs = json_object(), *items = json_array(), *inv = json_array(), *tot = json_object();
	uint64_t trows = 0, tbytes = 0, tchunks = 0;
	size_t i, j;

	jset(&b, root, "format", json_string(MANIFEST_FORMAT));
	jset(&b, root, "version", json_integer(BS_FORMAT_VERSION));
	jset(&b, root, "id", jstr(&b, "id", m->id));
	jset(&b, root, "end", jstr(&b, "end", m->end));
	for (i = 0; i < m->ntables && !b.bad; i++) {
		const struct bs_mtable *t = &m->tables[i];
		json_t *jt = json_object(), *chunks = json_array();

		jset(&b, jt, "no", json_integer(t->no));
		jset(&b, jt, "schema", jstr(&b, "a schema name", t->schema));
		jset(&b, jt, "name", jstr(&b, "a table name", t->name));
		jset(&b, jt, "rows", jint(&b, t->rows));
		jset(&b, jt, "digest", jdigest(&t->digest));
		jset(&b, jt, "bytes", jint(&b, t->raw_bytes));
		for (j = 0; j < t->nchunks && !b.bad; j++) {
			const struct bs_mchunk *c = &t->chunks[j];
			json_t *jc = json_object();
			jset(&b, jc, "seq", json_integer(c->seq));
			jset(&b, jc, "rows", jint(&b, c->rows));
			jset(&b, jc, "digest", jdigest(&c->digest));
			jset(&b, jc, "zbytes", jint(&b, c->zbytes));
			jset(&b, jc, "bytes", jint(&b, c->raw_bytes));
			jappend(&b, chunks, jc);
		}
		jset(&b, jt, "chunks", chunks);
		jappend(&b, tables, jt);
		trows += t->rows;
		tbytes += t->raw_bytes;
		tchunks += t->nchunks;
	}
	jset(&b, root, "tables", tables);
	for (i = 0; i < m->nseqs && !b.bad; i++) {
		json_t *js = json_object();
		jset(&b, js, "schema", jstr(&b, "a sequence schema", m->seqs[i].schema));
		jset(&b, js, "name", jstr(&b, "a sequence name", m->seqs[i].name));
		jset(&b, js, "last_value", json_integer(m->seqs[i].last_value));
		jset(&b, js, "is_called", json_boolean(m->seqs[i].is_called));
		jappend(&b, seqs, js);
	}
	jset(&b, root, "sequences", seqs);
	jset(&b, blobs, "count", jint(&b, m->nblobs));
	jset(&b, blobs, "bytes", jint(&b, m->blob_bytes));
	jset(&b, blobs, "digest", jdigest(&m->blob_digest));
	for (i = 0; i < m->nblobs && !b.bad; i++) {
		json_t *jo = json_object();
		jset(&b, jo, "oid", json_integer(m->blobs[i].oid));
		jset(&b, jo, "bytes", jint(&b, m->blobs[i].bytes));
		jset(&b, jo, "chunks", json_integer(m->blobs[i].chunks));
		jappend(&b, items, jo);
	}
	jset(&b, blobs, "items", items);
	jset(&b, root, "blobs", blobs);
	for (i = 0; i < m->ninv && !b.bad; i++) {
		json_t *jv = json_object();
		jset(&b, jv, "kind", jstr(&b, "an inventory kind", m->inv[i].kind));
		jset(&b, jv, "name", jstr(&b, "an inventory name", m->inv[i].name));
		jset(&b, jv, "def", jstr(&b, "an inventory definition", m->inv[i].def));
		jappend(&b, inv, jv);
	}
	jset(&b, root, "inventory", inv);
	if (m->inv_version > 1)
		jset(&b, root, "inventory_version", json_integer(m->inv_version));
	if (m->has_globals) {
		char hex[65];
		json_t *jg = json_object();
		hex32(m->globals_sha256, hex);
		jset(&b, jg, "bytes", jint(&b, m->globals_bytes));
		jset(&b, jg, "sha256", json_string(hex));
		jset(&b, root, "globals", jg);
	}
	members_json(&b, m, root);
	jset(&b, tot, "rows", jint(&b, trows));
	jset(&b, tot, "bytes", jint(&b, tbytes));
	jset(&b, tot, "chunks", jint(&b, tchunks));
	jset(&b, root, "totals", tot);
	return dump(root, &b, BS_MEMBER_MANIFEST, out, len, err);
}

/* ---- parsing ---- */

/* Field accessors: each sets err naming member and field path on failure. */
struct jp {
	const char *member;
	struct bs_err *err;
};

static int bad_field(struct jp *p, const char *path, const char *want)
{
	return bs_err_set(p->err, BS_ERR_FORMAT, "invalid %s: field '%s' %s", p->member, path, want);
}

static json_t *get(struct jp *p, json_t *obj, const char *key, const char *path, json_type type,
		   const char *want)
{
	json_t *v = json_object_get(obj, key);

	if (!v) {
		bs_err_set(p->err, BS_ERR_FORMAT, "invalid %s: field '%s' is missing", p->member, path);
		return NULL;
	}
	if (type == JSON_TRUE ? !json_is_boolean(v) : json_typeof(v) != type) {
		bad_field(p, path, want);
		return NULL;
	}
	return v;
}

static int get_str(struct jp *p, json_t *obj, const char *key, const char *path, char **out)
{
	json_t *v = get(p, obj, key, path, JSON_STRING, "must be a string");

	if (!v)
		return -1;
	free(*out);
	*out = strdup(json_string_value(v));
	if (!*out)
		return bs_err_set(p->err, BS_ERR_NOMEM, "out of memory reading %s", p->member);
	if (strlen(*out) != json_string_length(v))
		return bad_field(p, path, "must not contain NUL characters");
	return 0;
}

static int get_u64(struct jp *p, json_t *obj, const char *key, const char *path, uint64_t max,
		   uint64_t *out)
{
	json_t *v = get(p, obj, key, path, JSON_INTEGER, "must be an integer");
	json_int_t x;

	if (!v)
		return -1;
	x = json_integer_value(v);
	if (x < 0 || (uint64_t)x > max)
		return bad_field(p, path, "is out of range");
	*out = (uint64_t)x;
	return 0;
}

static int get_digest(struct jp *p, json_t *obj, const char *key, const char *path,
		      struct bs_digest *d)
{
	json_t *v = get(p, obj, key, path, JSON_STRING, "must be a string");

	if (!v)
		return -1;
	if (bs_digest_from_hex(d, json_string_value(v)) < 0)
		return bad_field(p, path, "must be 32 lowercase hex digits");
	return 0;
}

static json_t *get_array(struct jp *p, json_t *obj, const char *key, const char *path)
{
	return get(p, obj, key, path, JSON_ARRAY, "must be an array");
}

static json_t *load(struct jp *p, const char *buf, size_t len, const char *format, int *version)
{
	json_error_t je;
	json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	json_t *v;

	if (!root) {
		bs_err_set(p->err, BS_ERR_FORMAT, "invalid %s: %s at line %d column %d", p->member,
			   je.text, je.line, je.column);
		return NULL;
	}
	if (!json_is_object(root)) {
		bs_err_set(p->err, BS_ERR_FORMAT, "invalid %s: not a JSON object", p->member);
		goto bad;
	}
	if (!(v = get(p, root, "format", "format", JSON_STRING, "must be a string")))
		goto bad;
	if (strcmp(json_string_value(v), format) != 0) {
		bs_err_set(p->err, BS_ERR_FORMAT, "invalid %s: field 'format' is '%s', expected '%s'",
			   p->member, json_string_value(v), format);
		bs_err_hint(p->err, "is this a backstop snapshot archive?");
		goto bad;
	}
	if (!(v = get(p, root, "version", "version", JSON_INTEGER, "must be an integer")))
		goto bad;
	if (json_integer_value(v) < BS_FORMAT_VERSION_MIN || json_integer_value(v) > BS_FORMAT_VERSION) {
		bs_err_set(p->err, BS_ERR_FORMAT, "unsupported %s version %lld (this backstop reads version %d)",
			   p->member, (long long)json_integer_value(v), BS_FORMAT_VERSION);
		bs_err_hint(p->err, "use a newer backstop to read this snapshot");
		goto bad;
	}
	if (version)
		*version = (int)json_integer_value(v);
	return root;
bad:
	json_decref(root);
	return NULL;
}

static int parse_globals(struct jp *p, struct bs_manifest *m, json_t *root);

int bs_manifest_parse_header(struct bs_manifest *m, const char *buf, size_t len, struct bs_err *err)
{
	struct jp p = { BS_MEMBER_HEADER, err };
	json_t *root, *tables, *jt;
	uint64_t x;
	size_t i, j;
	char path[96];
	int rc = -1;

	bs_manifest_release(m);
	if (!(root = load(&p, buf, len, HEADER_FORMAT, &m->version)))
		return -1;
	if (get_str(&p, root, "id", "id", &m->id) < 0 ||
	    get_str(&p, root, "database", "database", &m->database) < 0 ||
	    get_str(&p, root, "encoding", "encoding", &m->encoding) < 0 ||
	    get_str(&p, root, "server_version", "server_version", &m->server_version) < 0 ||
	    get_u64(&p, root, "server_version_num", "server_version_num", INT32_MAX, &x) < 0 ||
	    get_str(&p, root, "start", "start", &m->start) < 0)
		goto out;
	m->server_version_num = (int)x;
	if (parse_globals(&p, m, root) < 0)
		goto out;
	/* optional (absent in archives of backstop 0.1.0 before it existed) */
	if (json_object_get(root, "unpopulated_matviews")) {
		json_t *arr = get_array(&p, root, "unpopulated_matviews", "unpopulated_matviews"), *jr;
		if (!arr)
			goto out;
		json_array_foreach(arr, i, jr) {
			const char *s = json_string_value(json_object_get(jr, "schema"));
			const char *n = json_string_value(json_object_get(jr, "name"));
			if (!s || !n) {
				snprintf(path, sizeof(path), "unpopulated_matviews[%zu]", i);
				bad_field(&p, path, "must be an object with string schema and name");
				goto out;
			}
			if (bs_manifest_add_unpopulated(m, s, n) < 0) {
				bs_err_set(err, BS_ERR_NOMEM, "out of memory");
				goto out;
			}
		}
	}
	if (!(tables = get_array(&p, root, "tables", "tables")))
		goto out;
	json_array_foreach(tables, i, jt) {
		char *schema = NULL, *name = NULL, **cols = NULL;
		json_t *jcols, *jc;
		uint64_t no = 0;
		size_t ncols = 0;
		int ok = 0;

		snprintf(path, sizeof(path), "tables[%zu]", i);
		if (!json_is_object(jt)) {
			bad_field(&p, path, "must be an object");
			goto out;
		}
		snprintf(path, sizeof(path), "tables[%zu].no", i);
		if (get_u64(&p, jt, "no", path, UINT32_MAX, &no) < 0)
			goto out;
		snprintf(path, sizeof(path), "tables[%zu].schema", i);
		if (get_str(&p, jt, "schema", path, &schema) < 0)
			goto tfail;
		snprintf(path, sizeof(path), "tables[%zu].name", i);
		if (get_str(&p, jt, "name", path, &name) < 0)
			goto tfail;
		snprintf(path, sizeof(path), "tables[%zu].columns", i);
		if (!(jcols = get_array(&p, jt, "columns", path)))
			goto tfail;
		cols = calloc(json_array_size(jcols) + 1, sizeof(*cols));
		if (!cols) {
			bs_err_set(err, BS_ERR_NOMEM, "out of memory reading %s", p.member);
			goto tfail;
		}
		json_array_foreach(jcols, j, jc) {
			snprintf(path, sizeof(path), "tables[%zu].columns[%zu]", i, j);
			if (!json_is_string(jc)) {
				bad_field(&p, path, "must be a string");
				goto tfail;
			}
			cols[ncols++] = (char *)json_string_value(jc);
		}
		if (no == 0) {
			snprintf(path, sizeof(path), "tables[%zu].no", i);
			bad_field(&p, path, "must be 1 or more");
			goto tfail;
		}
		if (bs_manifest_table(m, (uint32_t)no)) {
			snprintf(path, sizeof(path), "tables[%zu].no", i);
			bad_field(&p, path, "repeats another table's number");
			goto tfail;
		}
		{
			struct bs_mtable *t = bs_manifest_add_table(m, (uint32_t)no, schema, name,
								    (const char *const *)cols, ncols);
			const char *ext = json_string_value(json_object_get(jt, "extension"));
			const char *filter = json_string_value(json_object_get(jt, "filter"));
			if (!t || (ext && bs_mtable_set_extension(t, ext, filter ? filter : "") < 0))
				bs_err_set(err, BS_ERR_NOMEM, "out of memory reading %s", p.member);
			else
				ok = 1;
		}
tfail:
		free(schema);
		free(name);
		free(cols);
		if (!ok)
			goto out;
	}
	rc = 0;
out:
	json_decref(root);
	if (rc < 0)
		bs_manifest_release(m);
	return rc;
}

static int cmp_chunk(const void *a, const void *b)
{
	const struct bs_mchunk *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* tables[i].chunks: the chunk list of table t, which must add up to the
 * table's rows and digest. */
static int parse_chunks(struct jp *p, struct bs_mtable *t, json_t *jt, size_t i)
{
	json_t *chunks, *jc;
	struct bs_digest sum;
	char path[96];
	size_t j;
	uint64_t x;

	snprintf(path, sizeof(path), "tables[%zu].chunks", i);
	if (!(chunks = get_array(p, jt, "chunks", path)))
		return -1;
	bs_digest_init(&sum);
	json_array_foreach(chunks, j, jc) {
		struct bs_mchunk c;

		memset(&c, 0, sizeof(c));
		snprintf(path, sizeof(path), "tables[%zu].chunks[%zu]", i, j);
		if (!json_is_object(jc))
			return bad_field(p, path, "must be an object");
		snprintf(path, sizeof(path), "tables[%zu].chunks[%zu].seq", i, j);
		if (get_u64(p, jc, "seq", path, UINT32_MAX, &x) < 0)
			return -1;
		c.seq = (uint32_t)x;
		snprintf(path, sizeof(path), "tables[%zu].chunks[%zu].rows", i, j);
		if (get_u64(p, jc, "rows", path, INT64_MAX, &c.rows) < 0)
			return -1;
		snprintf(path, sizeof(path), "tables[%zu].chunks[%zu].digest", i, j);
		if (get_digest(p, jc, "digest", path, &c.digest) < 0)
			return -1;
		c.digest.rows = c.rows;
		snprintf(path, sizeof(path), "tables[%zu].chunks[%zu].zbytes", i, j);
		if (get_u64(p, jc, "zbytes", path, INT64_MAX, &c.zbytes) < 0)
			return -1;
		/* "bytes" (uncompressed size) is optional */
		if (json_object_get(jc, "bytes")) {
			snprintf(path, sizeof(path), "tables[%zu].chunks[%zu].bytes", i, j);
			if (get_u64(p, jc, "bytes", path, INT64_MAX, &c.raw_bytes) < 0)
				return -1;
		}
		if (bs_mtable_add_chunk(t, &c) < 0)
			return bs_err_set(p->err, BS_ERR_NOMEM, "out of memory reading %s", p->member);
		bs_digest_merge(&sum, &c.digest);
	}
	if (t->nchunks > 1)
		qsort(t->chunks, t->nchunks, sizeof(*t->chunks), cmp_chunk);
	for (j = 1; j < t->nchunks; j++)
		if (t->chunks[j].seq == t->chunks[j - 1].seq) {
			snprintf(path, sizeof(path), "tables[%zu].chunks", i);
			return bad_field(p, path, "lists a chunk twice");
		}
	if (sum.rows != t->rows || !bs_digest_equal(&sum, &t->digest))
		return bs_err_set(p->err, BS_ERR_FORMAT,
				  "invalid %s: table %s.%s: chunk rows/digests do not add up to the table's",
				  p->member, t->schema, t->name);
	return 0;
}

static int parse_tables(struct jp *p, struct bs_manifest *m, json_t *root, uint64_t *trows,
			uint64_t *tbytes, uint64_t *tchunks)
{
	json_t *tables, *jt;
	char *s = NULL, *seen;
	char path[96];
	size_t i;
	uint64_t x;

	if (!(tables = get_array(p, root, "tables", "tables")))
		return -1;
	seen = calloc(m->ntables + 1, 1);
	if (!seen)
		return bs_err_set(p->err, BS_ERR_NOMEM, "out of memory reading %s", p->member);
	json_array_foreach(tables, i, jt) {
		struct bs_mtable *t;

		snprintf(path, sizeof(path), "tables[%zu]", i);
		if (!json_is_object(jt)) {
			bad_field(p, path, "must be an object");
			goto fail;
		}
		snprintf(path, sizeof(path), "tables[%zu].no", i);
		if (get_u64(p, jt, "no", path, UINT32_MAX, &x) < 0)
			goto fail;
		t = bs_manifest_table(m, (uint32_t)x);
		if (!t) {
			bs_err_set(p->err, BS_ERR_FORMAT, "invalid %s: table number %" PRIu64 " is not in %s",
				   p->member, x, BS_MEMBER_HEADER);
			goto fail;
		}
		if (seen[t - m->tables]) {
			bad_field(p, path, "repeats another table's number");
			goto fail;
		}
		seen[t - m->tables] = 1;
		snprintf(path, sizeof(path), "tables[%zu].schema", i);
		if (get_str(p, jt, "schema", path, &s) < 0)
			goto fail;
		if (strcmp(s, t->schema) != 0)
			goto mismatch;
		snprintf(path, sizeof(path), "tables[%zu].name", i);
		if (get_str(p, jt, "name", path, &s) < 0)
			goto fail;
		if (strcmp(s, t->name) != 0)
			goto mismatch;
		snprintf(path, sizeof(path), "tables[%zu].rows", i);
		if (get_u64(p, jt, "rows", path, INT64_MAX, &t->rows) < 0)
			goto fail;
		snprintf(path, sizeof(path), "tables[%zu].digest", i);
		if (get_digest(p, jt, "digest", path, &t->digest) < 0)
			goto fail;
		t->digest.rows = t->rows;
		snprintf(path, sizeof(path), "tables[%zu].bytes", i);
		if (get_u64(p, jt, "bytes", path, INT64_MAX, &t->raw_bytes) < 0)
			goto fail;
		if (parse_chunks(p, t, jt, i) < 0)
			goto fail;
		*trows += t->rows;
		*tbytes += t->raw_bytes;
		*tchunks += t->nchunks;
	}
	for (i = 0; i < m->ntables; i++)
		if (!seen[i]) {
			struct bs_mtable *t = &m->tables[i];
			bs_err_set(p->err, BS_ERR_FORMAT, "invalid %s: table %u (%s.%s) of %s is missing",
				   p->member, t->no, t->schema, t->name, BS_MEMBER_HEADER);
			goto fail;
		}
	free(s);
	free(seen);
	return 0;
mismatch:
	bs_err_set(p->err, BS_ERR_FORMAT, "invalid %s: field '%s' is '%s', %s says otherwise", p->member,
		   path, s, BS_MEMBER_HEADER);
fail:
	free(s);
	free(seen);
	return -1;
}

static int parse_seqs(struct jp *p, struct bs_manifest *m, json_t *root)
{
	json_t *arr, *js, *v;
	char path[96], *schema = NULL, *name = NULL;
	size_t i;
	int rc = -1;

	if (!(arr = get_array(p, root, "sequences", "sequences")))
		return -1;
	json_array_foreach(arr, i, js) {
		snprintf(path, sizeof(path), "sequences[%zu]", i);
		if (!json_is_object(js)) {
			bad_field(p, path, "must be an object");
			goto out;
		}
		snprintf(path, sizeof(path), "sequences[%zu].schema", i);
		if (get_str(p, js, "schema", path, &schema) < 0)
			goto out;
		snprintf(path, sizeof(path), "sequences[%zu].name", i);
		if (get_str(p, js, "name", path, &name) < 0)
			goto out;
		snprintf(path, sizeof(path), "sequences[%zu].last_value", i);
		if (!(v = get(p, js, "last_value", path, JSON_INTEGER, "must be an integer")))
			goto out;
		snprintf(path, sizeof(path), "sequences[%zu].is_called", i);
		if (!get(p, js, "is_called", path, JSON_TRUE, "must be true or false"))
			goto out;
		if (bs_manifest_add_seq(m, schema, name, (int64_t)json_integer_value(v),
					json_is_true(json_object_get(js, "is_called"))) < 0) {
			bs_err_set(p->err, BS_ERR_NOMEM, "out of memory reading %s", p->member);
			goto out;
		}
	}
	rc = 0;
out:
	free(schema);
	free(name);
	return rc;
}

static int parse_blobs(struct jp *p, struct bs_manifest *m, json_t *root)
{
	json_t *blobs, *items, *jo;
	char path[96];
	uint64_t count, oid, bytes, chunks, sum = 0;
	size_t i;

	if (!(blobs = get(p, root, "blobs", "blobs", JSON_OBJECT, "must be an object")))
		return -1;
	if (get_u64(p, blobs, "count", "blobs.count", INT64_MAX, &count) < 0 ||
	    get_u64(p, blobs, "bytes", "blobs.bytes", INT64_MAX, &m->blob_bytes) < 0 ||
	    get_digest(p, blobs, "digest", "blobs.digest", &m->blob_digest) < 0 ||
	    !(items = get_array(p, blobs, "items", "blobs.items")))
		return -1;
	json_array_foreach(items, i, jo) {
		snprintf(path, sizeof(path), "blobs.items[%zu]", i);
		if (!json_is_object(jo))
			return bad_field(p, path, "must be an object");
		snprintf(path, sizeof(path), "blobs.items[%zu].oid", i);
		if (get_u64(p, jo, "oid", path, UINT32_MAX, &oid) < 0)
			return -1;
		snprintf(path, sizeof(path), "blobs.items[%zu].bytes", i);
		if (get_u64(p, jo, "bytes", path, INT64_MAX, &bytes) < 0)
			return -1;
		snprintf(path, sizeof(path), "blobs.items[%zu].chunks", i);
		if (get_u64(p, jo, "chunks", path, UINT32_MAX, &chunks) < 0)
			return -1;
		if (bs_manifest_add_blob(m, (uint32_t)oid, bytes, (uint32_t)chunks) < 0)
			return bs_err_set(p->err, BS_ERR_NOMEM, "out of memory reading %s", p->member);
		sum += bytes;
	}
	if (count != m->nblobs)
		return bad_field(p, "blobs.count", "does not match the number of items");
	if (sum != m->blob_bytes)
		return bad_field(p, "blobs.bytes", "does not match the sum of the items");
	m->blob_digest.rows = count;
	return 0;
}

static int parse_inv(struct jp *p, struct bs_manifest *m, json_t *root)
{
	json_t *arr, *jv;
	char path[96], *kind = NULL, *name = NULL, *def = NULL;
	size_t i;
	int rc = -1;

	if (!(arr = get_array(p, root, "inventory", "inventory")))
		return -1;
	m->inv_version = 1; /* absent: written before versions were */
	if (json_object_get(root, "inventory_version")) {
		uint64_t v;
		if (get_u64(p, root, "inventory_version", "inventory_version", INT32_MAX, &v) < 0)
			return -1;
		if (v < 1)
			return bad_field(p, "inventory_version", "must be at least 1");
		m->inv_version = (int)v;
	}
	json_array_foreach(arr, i, jv) {
		snprintf(path, sizeof(path), "inventory[%zu]", i);
		if (!json_is_object(jv)) {
			bad_field(p, path, "must be an object");
			goto out;
		}
		snprintf(path, sizeof(path), "inventory[%zu].kind", i);
		if (get_str(p, jv, "kind", path, &kind) < 0)
			goto out;
		snprintf(path, sizeof(path), "inventory[%zu].name", i);
		if (get_str(p, jv, "name", path, &name) < 0)
			goto out;
		snprintf(path, sizeof(path), "inventory[%zu].def", i);
		if (get_str(p, jv, "def", path, &def) < 0)
			goto out;
		if (bs_manifest_add_inv(m, kind, name, def) < 0) {
			bs_err_set(p->err, BS_ERR_NOMEM, "out of memory reading %s", p->member);
			goto out;
		}
	}
	rc = 0;
out:
	free(kind);
	free(name);
	free(def);
	return rc;
}

/* {"bytes": N, "sha256": "<64 hex>"} at path */
static int parse_sized_digest(struct jp *p, json_t *jo, const char *path, uint64_t *bytes,
			      unsigned char sha[32])
{
	char fb[160], fs[160];

	snprintf(fb, sizeof(fb), "%s.bytes", path);
	snprintf(fs, sizeof(fs), "%s.sha256", path);
	if (!json_is_object(jo))
		return bad_field(p, path, "must be an object");
	if (get_u64(p, jo, "bytes", fb, INT64_MAX, bytes) < 0 ||
	    !get(p, jo, "sha256", fs, JSON_STRING, "must be a string"))
		return -1;
	if (bs_unhex(json_string_value(json_object_get(jo, "sha256")), sha, 32) < 0)
		return bad_field(p, fs, "must be 64 lowercase hex digits");
	return 0;
}

/* "globals": {"bytes": N, "sha256": "<64 hex>"}, optional (version 2). */
static int parse_globals(struct jp *p, struct bs_manifest *m, json_t *root)
{
	json_t *jg = json_object_get(root, "globals");

	if (!jg)
		return 0;
	if (parse_sized_digest(p, jg, "globals", &m->globals_bytes, m->globals_sha256) < 0)
		return -1;
	m->has_globals = 1;
	return 0;
}

/* "members": optional (backstop >= 0.3); only the names it knows. */
static int parse_members(struct jp *p, struct bs_manifest *m, json_t *root)
{
	json_t *jm = json_object_get(root, "members");
	int k;

	if (!jm)
		return 0;
	if (!json_is_object(jm))
		return bad_field(p, "members", "must be an object");
	for (k = 0; k < BS_MM_COUNT; k++) {
		const char *name = bs_mm_name((enum bs_mm)k);
		json_t *jo = json_object_get(jm, name);
		char path[96];
		if (!jo)
			continue;
		snprintf(path, sizeof(path), "members.%s", name);
		if (parse_sized_digest(p, jo, path, &m->members[k].bytes, m->members[k].sha256) < 0)
			return -1;
		m->members[k].has = 1;
	}
	return 0;
}

int bs_manifest_parse(struct bs_manifest *m, const char *buf, size_t len, struct bs_err *err)
{
	struct jp p = { BS_MEMBER_MANIFEST, err };
	json_t *root, *tot;
	char *id = NULL;
	unsigned char hdr_sha[32];
	uint64_t hdr_bytes;
	int hdr_globals;
	uint64_t trows = 0, tbytes = 0, tchunks = 0, x;
	int rc = -1;

	if (m->has_manifest || !m->id)
		return bs_err_set(err, BS_ERR_INTERNAL, "manifest parsed without a header or twice");
	if (!(root = load(&p, buf, len, MANIFEST_FORMAT, NULL)))
		return -1;
	if (get_str(&p, root, "id", "id", &id) < 0)
		goto out;
	if (strcmp(id, m->id) != 0) {
		bs_err_set(err, BS_ERR_FORMAT, "invalid %s: snapshot id '%s' differs from %s's '%s'",
			   p.member, id, BS_MEMBER_HEADER, m->id);
		goto out;
	}
	hdr_globals = m->has_globals;
	hdr_bytes = m->globals_bytes;
	memcpy(hdr_sha, m->globals_sha256, sizeof(hdr_sha));
	m->has_globals = 0;
	if (get_str(&p, root, "end", "end", &m->end) < 0 ||
	    parse_tables(&p, m, root, &trows, &tbytes, &tchunks) < 0 || parse_seqs(&p, m, root) < 0 ||
	    parse_blobs(&p, m, root) < 0 || parse_inv(&p, m, root) < 0 || parse_globals(&p, m, root) < 0 ||
	    parse_members(&p, m, root) < 0)
		goto out;
	if (hdr_globals != m->has_globals || (hdr_globals && (hdr_bytes != m->globals_bytes ||
							      memcmp(hdr_sha, m->globals_sha256, 32) != 0))) {
		bs_err_set(err, BS_ERR_FORMAT, "invalid %s: field 'globals' differs from %s's", p.member,
			   BS_MEMBER_HEADER);
		goto out;
	}
	if (!(tot = get(&p, root, "totals", "totals", JSON_OBJECT, "must be an object")))
		goto out;
	if (get_u64(&p, tot, "rows", "totals.rows", INT64_MAX, &x) < 0)
		goto out;
	if (x != trows) {
		bad_field(&p, "totals.rows", "does not match the sum of the tables");
		goto out;
	}
	if (get_u64(&p, tot, "bytes", "totals.bytes", INT64_MAX, &x) < 0)
		goto out;
	if (x != tbytes) {
		bad_field(&p, "totals.bytes", "does not match the sum of the tables");
		goto out;
	}
	if (get_u64(&p, tot, "chunks", "totals.chunks", INT64_MAX, &x) < 0)
		goto out;
	if (x != tchunks) {
		bad_field(&p, "totals.chunks", "does not match the sum of the tables");
		goto out;
	}
	m->has_manifest = 1;
	rc = 0;
out:
	free(id);
	json_decref(root);
	return rc;
}

/* ---- member names ---- */

void bs_member_chunk_name(char *out, uint32_t table_no, uint32_t seq)
{
	snprintf(out, 64, "data/%06" PRIu32 "/%06" PRIu32 ".copy.zst", table_no, seq);
}

void bs_member_blob_name(char *out, uint32_t oid, uint32_t seq)
{
	snprintf(out, 64, "blobs/%" PRIu32 "/%06" PRIu32 ".zst", oid, seq);
}

/* Parse a decimal number of 1..10 digits fitting in uint32 at *p; advance *p. */
static int parse_u32(const char **p, uint32_t *out)
{
	uint64_t v = 0;
	int n = 0;

	while (**p >= '0' && **p <= '9') {
		v = v * 10 + (uint64_t)(**p - '0');
		(*p)++;
		if (++n > 10)
			return -1;
	}
	if (n == 0 || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int parse_two(const char *name, const char *prefix, const char *suffix, uint32_t *a, uint32_t *b)
{
	size_t pl = strlen(prefix);
	const char *p = name;

	if (strncmp(p, prefix, pl) != 0)
		return -1;
	p += pl;
	if (parse_u32(&p, a) < 0 || *p++ != '/' || parse_u32(&p, b) < 0)
		return -1;
	return strcmp(p, suffix) == 0 ? 0 : -1;
}

int bs_member_parse_chunk(const char *name, uint32_t *table_no, uint32_t *seq)
{
	return parse_two(name, "data/", ".copy.zst", table_no, seq);
}

int bs_member_parse_blob(const char *name, uint32_t *oid, uint32_t *seq)
{
	return parse_two(name, "blobs/", ".zst", oid, seq);
}

void bs_member_table_end_name(char *out, uint32_t table_no)
{
	snprintf(out, 64, "data/%06" PRIu32 "/end.json", table_no);
}

int bs_member_parse_table_end(const char *name, uint32_t *table_no)
{
	const char *p = name;

	if (strncmp(p, "data/", 5) != 0)
		return -1;
	p += 5;
	if (parse_u32(&p, table_no) < 0)
		return -1;
	return strcmp(p, "/end.json") == 0 ? 0 : -1;
}

size_t bs_table_end_json(uint64_t chunks, char *out)
{
	return (size_t)snprintf(out, 64, "{\"chunks\": %" PRIu64 "}\n", chunks);
}

int bs_table_end_parse(const char *member, const char *buf, size_t len, uint64_t *chunks, struct bs_err *err)
{
	struct jp p = { member, err };
	json_error_t je;
	json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	int rc;

	if (!root)
		return bs_err_set(err, BS_ERR_FORMAT, "invalid %s: %s at line %d column %d", member, je.text,
				  je.line, je.column);
	if (!json_is_object(root)) {
		json_decref(root);
		return bs_err_set(err, BS_ERR_FORMAT, "invalid %s: not a JSON object", member);
	}
	rc = get_u64(&p, root, "chunks", "chunks", UINT32_MAX, chunks);
	json_decref(root);
	return rc;
}
