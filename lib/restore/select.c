/* select.c - table filters and TOC selection; see select.h */
#include "restore/select.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ---- table filters ---- */

/* Parse one identifier at *p: quoted ("a""b") or unquoted (folded to lower
 * case, up to the next '.').  Returns a malloc'd string, NULL on error
 * (*bad set) or allocation failure. */
static char *parse_ident(const char **p, int *bad)
{
	const char *s = *p;
	size_t n = strlen(s), j = 0;
	char *out = malloc(n + 1);

	if (!out)
		return NULL;
	if (*s == '"') {
		s++;
		for (;;) {
			if (*s == '\0') {
				*bad = 1;
				free(out);
				return NULL;
			}
			if (*s == '"') {
				if (s[1] == '"') {
					out[j++] = '"';
					s += 2;
					continue;
				}
				s++;
				break;
			}
			out[j++] = *s++;
		}
	} else {
		while (*s && *s != '.' && *s != '"')
			out[j++] = (char)tolower((unsigned char)*s++);
	}
	out[j] = '\0';
	if (j == 0) {
		*bad = 1;
		free(out);
		return NULL;
	}
	*p = s;
	return out;
}

int bs_rfilter_parse(const char *spec, struct bs_rfilter *f, struct bs_err *err)
{
	const char *p = spec;
	char *a = NULL, *b = NULL;
	int bad = 0;

	memset(f, 0, sizeof(*f));
	a = parse_ident(&p, &bad);
	if (!a)
		goto fail;
	if (*p == '.') {
		p++;
		b = parse_ident(&p, &bad);
		if (!b)
			goto fail;
	}
	if (*p != '\0') {
		bad = 1;
		goto fail;
	}
	if (b) {
		f->schema = a;
		f->name = b;
	} else {
		f->name = a;
	}
	return 0;
fail:
	free(a);
	free(b);
	if (!bad)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	bs_err_set(err, BS_ERR_USAGE, "invalid table name '%s'", spec);
	bs_err_hint(err, "write NAME or SCHEMA.NAME; double-quote a part that has upper case letters or dots");
	return -1;
}

void bs_rfilter_release(struct bs_rfilter *f)
{
	if (!f)
		return;
	free(f->schema);
	free(f->name);
	f->schema = f->name = NULL;
}

int bs_rfilter_match(struct bs_rfilter *f, size_t n, const char *schema, const char *name)
{
	size_t i;
	int any = 0;

	for (i = 0; i < n; i++) {
		if (strcmp(f[i].name, name) != 0)
			continue;
		if (f[i].schema && strcmp(f[i].schema, schema) != 0)
			continue;
		f[i].matched = 1;
		any = 1;
	}
	return any;
}

/* ---- TOC ---- */

struct desc_kind {
	const char *desc;
	enum bs_toc_kind kind;
};

/* Longer descriptions before their prefixes ("TABLE DATA" before "TABLE"). */
static const struct desc_kind descs[] = {
	{ "MATERIALIZED VIEW DATA", BS_TOC_ATTACHED },
	{ "MATERIALIZED VIEW", BS_TOC_RELATION },
	{ "FOREIGN TABLE", BS_TOC_RELATION },
	{ "TABLE DATA", BS_TOC_ATTACHED },
	{ "TABLE ATTACH", BS_TOC_ATTACHED },
	{ "TABLE", BS_TOC_TABLE },
	{ "VIEW", BS_TOC_RELATION },
	{ "SEQUENCE OWNED BY", BS_TOC_ATTACHED },
	{ "SEQUENCE SET", BS_TOC_ATTACHED },
	{ "SEQUENCE", BS_TOC_SEQUENCE },
	{ "DEFAULT ACL", BS_TOC_OTHER },
	{ "DEFAULT", BS_TOC_DEFAULT },
	{ "INDEX ATTACH", BS_TOC_ATTACHED },
	{ "INDEX", BS_TOC_ATTACHED },
	{ "FK CONSTRAINT", BS_TOC_ATTACHED },
	{ "CHECK CONSTRAINT", BS_TOC_ATTACHED },
	{ "CONSTRAINT", BS_TOC_ATTACHED },
	{ "EVENT TRIGGER", BS_TOC_OTHER },
	{ "TRIGGER", BS_TOC_ATTACHED },
	{ "RULE", BS_TOC_ATTACHED },
	{ "POLICY", BS_TOC_ATTACHED },
	{ "ROW SECURITY", BS_TOC_ATTACHED },
	{ "COMMENT", BS_TOC_ATTACHED },
	{ "ACL", BS_TOC_ATTACHED },
	{ "SECURITY LABEL", BS_TOC_ATTACHED },
	{ "STATISTICS DATA", BS_TOC_ATTACHED },
	{ "STATISTICS", BS_TOC_ATTACHED },
	{ "PUBLICATION TABLES IN SCHEMA", BS_TOC_ATTACHED },
	{ "PUBLICATION TABLE", BS_TOC_ATTACHED },
	{ "ENCODING", BS_TOC_ALWAYS },
	{ "STDSTRINGS", BS_TOC_ALWAYS },
	{ "SEARCHPATH", BS_TOC_ALWAYS },
};

void bs_toc_init(struct bs_toc *t)
{
	memset(t, 0, sizeof(*t));
}

void bs_toc_release(struct bs_toc *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->n; i++) {
		free(t->e[i].line);
		free(t->e[i].deps);
	}
	free(t->e);
	bs_toc_init(t);
}

/* Skip one unsigned number and the spaces after it; NULL if none. */
static const char *skip_num(const char *p)
{
	if (!isdigit((unsigned char)*p))
		return NULL;
	while (isdigit((unsigned char)*p))
		p++;
	while (*p == ' ')
		p++;
	return p;
}

static void classify(struct bs_toc_entry *e, const char *p)
{
	size_t i;

	e->desc = "?";
	e->rest = p + strlen(p);
	e->kind = BS_TOC_OTHER;
	for (i = 0; i < sizeof(descs) / sizeof(descs[0]); i++) {
		size_t n = strlen(descs[i].desc);
		if (strncmp(p, descs[i].desc, n) == 0 && (p[n] == ' ' || p[n] == '\0')) {
			e->desc = descs[i].desc;
			e->kind = descs[i].kind;
			e->rest = p[n] ? p + n + 1 : p + n;
			return;
		}
	}
	/* an unlisted description: its first words up to the schema are unknown,
	 * which only matters for name matching; keep the whole text as rest */
	e->rest = p;
}

static int add_entry(struct bs_toc *t, const char *line, size_t len, struct bs_err *err)
{
	struct bs_toc_entry *e;
	const char *p;

	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 64;
		struct bs_toc_entry *ne = realloc(t->e, ncap * sizeof(*ne));
		if (!ne)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		t->e = ne;
		t->cap = ncap;
	}
	e = &t->e[t->n];
	memset(e, 0, sizeof(*e));
	e->line = strndup(line, len);
	if (!e->line)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	e->id = atoi(e->line);
	/* "<id>; <catalog oid> <oid> <desc> <schema> <tag> <owner>" */
	p = strchr(e->line, ';');
	p = p ? p + 1 : e->line;
	while (*p == ' ')
		p++;
	if (!(p = skip_num(p)) || !(p = skip_num(p))) {
		free(e->line);
		return bs_err_set(err, BS_ERR_FORMAT, "unexpected line in the schema TOC: '%.*s'",
				  (int)(len > 200 ? 200 : len), line);
	}
	classify(e, p);
	t->n++;
	return 0;
}

static int add_deps(struct bs_toc *t, const char *p, const char *end, struct bs_err *err)
{
	struct bs_toc_entry *e;

	if (t->n == 0)
		return 0;
	e = &t->e[t->n - 1];
	while (p < end) {
		int *nd;
		if (!isdigit((unsigned char)*p)) {
			p++;
			continue;
		}
		nd = realloc(e->deps, (e->ndeps + 1) * sizeof(*nd));
		if (!nd)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		e->deps = nd;
		e->deps[e->ndeps++] = atoi(p);
		while (p < end && isdigit((unsigned char)*p))
			p++;
	}
	return 0;
}

int bs_toc_parse(struct bs_toc *t, const char *text, size_t len, struct bs_err *err)
{
	const char *p = text, *end = text + len;
	static const char dep_tag[] = "depends on:";

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t n = (size_t)(le - p);

		if (n > 0 && p[0] == ';') {
			const char *d = p + 1;
			while (d < le && (*d == ' ' || *d == '\t'))
				d++;
			if ((size_t)(le - d) >= sizeof(dep_tag) - 1 &&
			    memcmp(d, dep_tag, sizeof(dep_tag) - 1) == 0 &&
			    add_deps(t, d + sizeof(dep_tag) - 1, le, err) < 0)
				return -1;
		} else if (n > 0 && isdigit((unsigned char)p[0])) {
			if (add_entry(t, p, n, err) < 0)
				return -1;
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

/* Does s start with a followed by a space? */
static int starts_word(const char *s, const char *a)
{
	size_t n = strlen(a);

	return strncmp(s, a, n) == 0 && s[n] == ' ';
}

int bs_toc_entry_is(const struct bs_toc_entry *e, const char *schema, const char *name)
{
	size_t n = strlen(schema);

	return strncmp(e->rest, schema, n) == 0 && e->rest[n] == ' ' && starts_word(e->rest + n + 1, name);
}

/* Does the entry name a relation the filters select? */
static int entry_matches(const struct bs_toc_entry *e, struct bs_rfilter *f, size_t nf)
{
	size_t i;
	int any = 0;

	for (i = 0; i < nf; i++) {
		int m = 0;
		if (f[i].schema) {
			m = bs_toc_entry_is(e, f[i].schema, f[i].name);
		} else {
			/* any schema: "<schema> <name> <owner>", taking the schema
			 * to end at the first space (a schema with spaces in its
			 * name must be given explicitly) */
			const char *sp = strchr(e->rest, ' ');
			m = sp && sp > e->rest && starts_word(sp + 1, f[i].name);
		}
		if (m) {
			f[i].matched = 1;
			any = 1;
		}
	}
	return any;
}

/* Index of dump id, or -1.  Entries are not sorted by id; a small open
 * addressing table keeps lookups O(1). */
struct idmap {
	int *slot;      /* entry index + 1, 0 = empty */
	size_t mask;
};

static int idmap_build(struct idmap *m, const struct bs_toc *t)
{
	size_t cap = 16, i;

	while (cap < t->n * 2 + 2)
		cap <<= 1;
	m->slot = calloc(cap, sizeof(int));
	if (!m->slot)
		return -1;
	m->mask = cap - 1;
	for (i = 0; i < t->n; i++) {
		size_t h = ((size_t)(unsigned)t->e[i].id * 2654435761u) & m->mask;
		while (m->slot[h])
			h = (h + 1) & m->mask;
		m->slot[h] = (int)i + 1;
	}
	return 0;
}

static const struct bs_toc_entry *idmap_get(const struct idmap *m, const struct bs_toc *t, int id)
{
	size_t h = ((size_t)(unsigned)id * 2654435761u) & m->mask;

	while (m->slot[h]) {
		const struct bs_toc_entry *e = &t->e[m->slot[h] - 1];
		if (e->id == id)
			return e;
		h = (h + 1) & m->mask;
	}
	return NULL;
}

static int is_rel(enum bs_toc_kind k)
{
	return k == BS_TOC_TABLE || k == BS_TOC_RELATION || k == BS_TOC_SEQUENCE;
}

/* Is d the relation entry e is attached to?  e's "<schema> <tag> <owner>"
 * starts with d's schema and name ("app orders orders_pkey postgres" is
 * attached to "app orders postgres"). */
static int attached_to(const struct bs_toc_entry *e, const struct bs_toc_entry *d)
{
	const char *last = strrchr(d->rest, ' ');
	size_t n;

	if (!last || last == d->rest)
		return 0;
	n = (size_t)(last - d->rest) + 1;
	return strncmp(e->rest, d->rest, n) == 0;
}

/* One pass of the selection rules; returns the number of entries newly kept. */
static size_t select_pass(struct bs_toc *t, const struct idmap *m, int clean)
{
	size_t i, j, changed = 0;

	for (i = 0; i < t->n; i++) {
		struct bs_toc_entry *e = &t->e[i];
		int on_kept_table = 0, any_kept = 0, all_kept = 1, owner_kept = 0;

		for (j = 0; j < e->ndeps; j++) {
			const struct bs_toc_entry *d = idmap_get(m, t, e->deps[j]);
			if (!d)
				continue; /* a dependency outside the archive */
			if (d->keep) {
				any_kept = 1;
				if (d->kind == BS_TOC_TABLE)
					on_kept_table = 1;
				if ((d->kind == BS_TOC_TABLE || d->kind == BS_TOC_RELATION) && attached_to(e, d))
					owner_kept = 1;
			} else if (is_rel(d->kind) || d->kind == BS_TOC_ATTACHED || d->kind == BS_TOC_DEFAULT) {
				all_kept = 0;
			}
			/* supporting objects never block: they are pulled in below,
			 * or (clean) expected to exist */
		}

		if (!e->keep) {
			switch (e->kind) {
			case BS_TOC_TABLE:     /* partitions, inheritance children */
			case BS_TOC_SEQUENCE:  /* serial and identity sequences */
				e->keep = on_kept_table;
				break;
			case BS_TOC_DEFAULT:
				e->keep = on_kept_table;
				break;
			case BS_TOC_ATTACHED:
				/* with clean, what a kept table's constraint refers
				 * to (another table, its key) is in the target */
				e->keep = (any_kept && all_kept) || (clean && owner_kept);
				break;
			case BS_TOC_ALWAYS:
				e->keep = 1;
				break;
			default:
				break;
			}
			if (e->keep)
				changed++;
		}
		if (!e->keep)
			continue;

		/* a kept entry pulls in what it needs: the sequences its
		 * defaults use (pg_dump writes a default on a sequence the
		 * table does not own into CREATE TABLE), and (unless clean)
		 * the supporting objects */
		for (j = 0; j < e->ndeps; j++) {
			struct bs_toc_entry *d = (struct bs_toc_entry *)idmap_get(m, t, e->deps[j]);
			if (!d || d->keep)
				continue;
			if (d->kind == BS_TOC_SEQUENCE || (!clean && d->kind == BS_TOC_OTHER)) {
				d->keep = 1;
				changed++;
			}
		}
	}
	return changed;
}

void bs_toc_select(struct bs_toc *t, struct bs_rfilter *f, size_t nf, int clean)
{
	struct idmap m;
	size_t i;

	for (i = 0; i < t->n; i++) {
		struct bs_toc_entry *e = &t->e[i];
		e->keep = e->kind == BS_TOC_ALWAYS || (is_rel(e->kind) && entry_matches(e, f, nf));
	}
	if (idmap_build(&m, t) < 0) {
		/* out of memory: keep everything rather than restore too little */
		for (i = 0; i < t->n; i++)
			t->e[i].keep = 1;
		return;
	}
	while (select_pass(t, &m, clean) > 0)
		;
	free(m.slot);
}

char *bs_toc_list(const struct bs_toc *t, size_t *len)
{
	size_t i, n = 0, j = 0;
	char *out;

	for (i = 0; i < t->n; i++)
		if (t->e[i].keep)
			n += strlen(t->e[i].line) + 1;
	out = malloc(n + 1);
	if (!out)
		return NULL;
	for (i = 0; i < t->n; i++) {
		size_t l;
		if (!t->e[i].keep)
			continue;
		l = strlen(t->e[i].line);
		memcpy(out + j, t->e[i].line, l);
		out[j + l] = '\n';
		j += l + 1;
	}
	out[j] = '\0';
	if (len)
		*len = j;
	return out;
}
