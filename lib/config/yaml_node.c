/* yaml_node.c - see yaml_node.h */
#include "config/yaml_node.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <yaml.h>

struct loader {
	yaml_parser_t parser;
	struct bs_ydoc *doc;
	const char *text;     /* the input, to place reader errors */
	size_t text_len;
	unsigned flags;
	struct bs_err *err;
};

/* ---- errors ------------------------------------------------------------ */

static int pos_verror(struct bs_err *err, int code, const char *file, unsigned line,
		      unsigned col, const char *fmt, va_list ap)
{
	char msg[BS_ERR_MSG_MAX];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	return bs_err_set(err, code, "%s:%u:%u: %s", file, line, col, msg);
}

static int pos_error(struct bs_err *err, const char *file, unsigned line, unsigned col,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int pos_error(struct bs_err *err, const char *file, unsigned line, unsigned col,
		     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pos_verror(err, BS_ERR_CONFIG, file, line, col, fmt, ap);
	va_end(ap);
	return -1;
}

int bs_ynode_error(struct bs_err *err, int code, const struct bs_ynode *node,
		   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (node) {
		pos_verror(err, code, node->file, node->line, node->column, fmt, ap);
	} else {
		bs_err_vset(err, code, fmt, ap);
	}
	va_end(ap);
	return -1;
}

/* ---- collected errors --------------------------------------------------- */

#define YERR_INDENT "        " /* under the text after "detail: " */

void bs_yerrors_init(struct bs_yerrors *e)
{
	memset(e, 0, sizeof(*e));
	bs_err_init(&e->first);
}

/* Append "<indent><prefix><s>" line by line (s may hold newlines). */
static void yerr_lines(char *buf, size_t cap, size_t *len, const char *indent,
		       const char *prefix, const char *s)
{
	while (*s && *len < cap) {
		size_t n = strcspn(s, "\n");
		int w = snprintf(buf + *len, cap - *len, "%s%s%s%.*s", *len ? "\n" : "", indent,
				 prefix, (int)n, s);

		*len = w < 0 || (size_t)w >= cap - *len ? cap : *len + (size_t)w;
		prefix = "";
		s += n;
		if (*s == '\n')
			s++;
	}
}

int bs_yerrors_add(struct bs_yerrors *e, const struct bs_err *err)
{
	char entry[BS_ERR_MSG_MAX + BS_ERR_DETAIL_MAX + BS_ERR_HINT_MAX];
	size_t elen = 0, tlen = strlen(e->text);

	if (err->code < 100 || err->code >= 200)
		return -1;
	if (e->count++ == 0)
		e->first = *err;
	entry[0] = '\0';
	yerr_lines(entry, sizeof(entry), &elen, e->count > 1 ? YERR_INDENT : "", "", err->msg);
	yerr_lines(entry, sizeof(entry), &elen, YERR_INDENT "  ", "", err->detail);
	yerr_lines(entry, sizeof(entry), &elen, YERR_INDENT "  ", "hint: ", err->hint);
	/* keep room for the "... and N more" line */
	if (elen < sizeof(entry) && tlen + 1 + elen + 48 < sizeof(e->text)) {
		snprintf(e->text + tlen, sizeof(e->text) - tlen, "%s%s", tlen ? "\n" : "", entry);
		e->listed++;
	}
	return 0;
}

int bs_yerrors_result(const struct bs_yerrors *e, const char *file, struct bs_err *err)
{
	if (e->count == 0)
		return 0;
	if (!err)
		return -1;
	if (e->count == 1) {
		*err = e->first;
		return -1;
	}
	if (file)
		bs_err_set(err, e->first.code, "%s: %u errors", file, e->count);
	else
		bs_err_set(err, e->first.code, "%u errors", e->count);
	if (e->listed < e->count)
		bs_err_detail(err, "%s\n" YERR_INDENT "... and %u more", e->text,
			      e->count - e->listed);
	else
		bs_err_detail(err, "%s", e->text);
	return -1;
}

const char *bs_ynode_kind_name(const struct bs_ynode *node)
{
	if (!node)
		return "nothing";
	switch (node->kind) {
	case BS_YNODE_MAPPING:
		return "a mapping";
	case BS_YNODE_SEQUENCE:
		return "a sequence";
	case BS_YNODE_SCALAR:
		return "a scalar";
	}
	return "an unknown node";
}

/* Line and column (1-based) of a byte offset in the input. */
static void offset_pos(const struct loader *L, size_t off, unsigned *line, unsigned *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off && i < L->text_len; i++) {
		unsigned char c = (unsigned char)L->text[i];

		if (c == '\n') {
			(*line)++;
			*col = 1;
		} else if ((c & 0xC0) != 0x80) {
			(*col)++;
		}
	}
}

static int syntax_error(struct loader *L)
{
	const yaml_parser_t *p = &L->parser;
	const char *file = L->doc->file;
	unsigned line, col;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return bs_err_set(L->err, BS_ERR_NOMEM, "%s: out of memory parsing YAML", file);
	case YAML_READER_ERROR:
		offset_pos(L, p->problem_offset, &line, &col);
		pos_error(L->err, file, line, col, "invalid YAML: %s",
			  p->problem ? p->problem : "cannot read input");
		bs_err_hint(L->err, "the file must be UTF-8 text");
		return -1;
	case YAML_SCANNER_ERROR:
	case YAML_PARSER_ERROR:
		pos_error(L->err, file, (unsigned)p->problem_mark.line + 1,
			  (unsigned)p->problem_mark.column + 1, "invalid YAML: %s",
			  p->problem ? p->problem : "syntax error");
		if (p->context)
			bs_err_detail(L->err, "%s at %s:%u:%u", p->context, file,
				      (unsigned)p->context_mark.line + 1,
				      (unsigned)p->context_mark.column + 1);
		return -1;
	default:
		return pos_error(L->err, file, 1, 1, "invalid YAML");
	}
}

/* ---- nodes ------------------------------------------------------------- */

static void wipe_free(char *s, size_t len)
{
	if (!s)
		return;
	OPENSSL_cleanse(s, len);
	free(s);
}

static void node_free(struct bs_ynode *n)
{
	size_t i;

	if (!n)
		return;
	switch (n->kind) {
	case BS_YNODE_SCALAR:
		wipe_free(n->value, n->len);
		if (n->raw)
			wipe_free(n->raw, strlen(n->raw));
		break;
	case BS_YNODE_MAPPING:
		for (i = 0; i < n->count; i++) {
			node_free(n->pairs[i].key);
			node_free(n->pairs[i].value);
		}
		free(n->pairs);
		break;
	case BS_YNODE_SEQUENCE:
		for (i = 0; i < n->count; i++)
			node_free(n->items[i]);
		free(n->items);
		break;
	}
	free(n);
}

void bs_ydoc_free(struct bs_ydoc *doc)
{
	if (!doc)
		return;
	node_free(doc->root);
	free(doc->file);
	free(doc);
}

static struct bs_ynode *node_new(struct loader *L, enum bs_ynode_kind kind,
				 const yaml_mark_t *m)
{
	struct bs_ynode *n = calloc(1, sizeof(*n));

	if (!n) {
		bs_err_set(L->err, BS_ERR_NOMEM, "out of memory");
		return NULL;
	}
	n->kind = kind;
	n->file = L->doc->file;
	n->line = (unsigned)m->line + 1;
	n->column = (unsigned)m->column + 1;
	return n;
}

/* A content error was just set in L->err: record it and go on (0), or stop
 * (-1) when it is not a content error (out of memory). */
static int recorded(struct loader *L)
{
	return L->err ? bs_yerrors_add(&L->doc->errors, L->err) : -1;
}

/* Make n (a scalar whose text was refused) the null stand-in for its value. */
static int make_bad(struct loader *L, struct bs_ynode *n, struct bs_ynode **out)
{
	if (n->value)
		wipe_free(n->value, n->len);
	n->value = strdup("");
	if (!n->value) {
		node_free(n);
		return bs_err_set(L->err, BS_ERR_NOMEM, "out of memory");
	}
	n->kind = BS_YNODE_SCALAR;
	n->len = 0;
	n->plain = n->null = n->bad = 1;
	*out = n;
	return 0;
}

const struct bs_ynode *bs_ynode_key(const struct bs_ynode *map, const char *key)
{
	size_t i;

	if (!map || map->kind != BS_YNODE_MAPPING)
		return NULL;
	for (i = 0; i < map->count; i++)
		if (strcmp(map->pairs[i].key->value, key) == 0)
			return map->pairs[i].key;
	return NULL;
}

const struct bs_ynode *bs_ynode_get(const struct bs_ynode *map, const char *key)
{
	size_t i;

	if (!map || map->kind != BS_YNODE_MAPPING)
		return NULL;
	for (i = 0; i < map->count; i++)
		if (strcmp(map->pairs[i].key->value, key) == 0)
			return map->pairs[i].value;
	return NULL;
}

/* ---- interpolation ----------------------------------------------------- */

struct sbuf {
	char *p;
	size_t len, cap;
};

static int sbuf_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > BS_YAML_MAX_SCALAR)
		return -1;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		char *np;

		while (cap < b->len + n + 1)
			cap *= 2;
		if (cap > BS_YAML_MAX_SCALAR)
			cap = BS_YAML_MAX_SCALAR;
		np = malloc(cap);
		if (!np)
			return -1;
		if (b->p) {
			memcpy(np, b->p, b->len);
			OPENSSL_cleanse(b->p, b->cap);
			free(b->p);
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static void sbuf_wipe(struct sbuf *b)
{
	if (b->p) {
		OPENSSL_cleanse(b->p, b->cap);
		free(b->p);
	}
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Position of byte offset off within scalar n (exact when the scalar's text
 * equals its source, i.e. a one-line scalar without escapes). */
static void scalar_pos(const struct bs_ynode *n, int exact, int quoted, const char *s,
		       size_t off, unsigned *line, unsigned *col)
{
	size_t i;

	*line = n->line;
	*col = n->column;
	if (!exact)
		return;
	if (quoted)
		(*col)++;
	for (i = 0; i < off; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			(*col)++;
}

static int is_name_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

static int interpolate(struct loader *L, struct bs_ynode *n, const char *s, size_t len,
		       int exact, int quoted, struct sbuf *out)
{
	const char *file = L->doc->file;
	unsigned line, col;
	size_t i = 0;

	while (i < len) {
		const char *dollar = memchr(s + i, '$', len - i);
		size_t lit = dollar ? (size_t)(dollar - (s + i)) : len - i;
		size_t start, name_len, j;
		const char *def = NULL, *val;
		size_t def_len = 0;
		int def_if_empty = 0;
		char name[256];

		if (lit && sbuf_add(out, s + i, lit) < 0)
			goto too_long;
		i += lit;
		if (i >= len)
			break;
		/* s[i] == '$' */
		start = i;
		scalar_pos(n, exact, quoted, s, start, &line, &col);
		if (i + 1 < len && s[i + 1] == '$') {
			if (sbuf_add(out, "$", 1) < 0)
				goto too_long;
			i += 2;
			continue;
		}
		if (i + 1 >= len || s[i + 1] != '{') {
			pos_error(L->err, file, line, col,
				  "'$' must be followed by '{' or '$'");
			bs_err_hint(L->err, "write '$$' for a literal '$', or '${VAR}' to use "
					    "the environment variable VAR");
			return -1;
		}
		j = i + 2;
		if (j >= len || !is_name_start(s[j])) {
			pos_error(L->err, file, line, col,
				  "invalid variable name after '${'");
			bs_err_hint(L->err, "names are letters, digits and '_', not starting "
					    "with a digit, e.g. '${PGHOST}'");
			return -1;
		}
		while (j < len && is_name_char(s[j]))
			j++;
		name_len = j - (i + 2);
		if (j >= len) {
			pos_error(L->err, file, line, col, "unterminated '${' (missing '}')");
			return -1;
		}
		if (s[j] == ':' && j + 1 < len && s[j + 1] == '-') {
			def_if_empty = 1;
			def = s + j + 2;
		} else if (s[j] == '-') {
			def = s + j + 1;
		} else if (s[j] != '}') {
			pos_error(L->err, file, line, col,
				  "unexpected '%c' in '${...}'", s[j]);
			bs_err_hint(L->err, "write '${VAR}', '${VAR:-default}' or '${VAR-default}'");
			return -1;
		}
		if (def) {
			const char *close = memchr(def, '}', len - (size_t)(def - s));

			if (!close) {
				pos_error(L->err, file, line, col,
					  "unterminated '${' (missing '}')");
				return -1;
			}
			def_len = (size_t)(close - def);
			j = (size_t)(close - s);
		}
		/* s[j] == '}' */
		if (name_len >= sizeof(name)) {
			pos_error(L->err, file, line, col, "variable name too long");
			return -1;
		}
		memcpy(name, s + i + 2, name_len);
		name[name_len] = '\0';
		val = getenv(name);
		if (val && !(def_if_empty && !*val)) {
			if (sbuf_add(out, val, strlen(val)) < 0)
				goto too_long;
		} else if (def) {
			if (def_len && sbuf_add(out, def, def_len) < 0)
				goto too_long;
		} else {
			pos_error(L->err, file, line, col,
				  "environment variable '%s' is not set", name);
			bs_err_hint(L->err, "set %s, or give a default with '${%s:-default}'",
				    name, name);
			return -1;
		}
		i = j + 1;
	}
	if (!out->p && sbuf_add(out, "", 0) < 0)
		goto too_long;
	return 0;
too_long:
	return pos_error(L->err, file, n->line, n->column,
			 "value too long after interpolation (over %d bytes)",
			 BS_YAML_MAX_SCALAR);
}

/* ---- tree building ----------------------------------------------------- */

static int next_event(struct loader *L, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&L->parser, ev))
		return syntax_error(L);
	return 0;
}

static int is_null_text(const char *s, size_t len)
{
	return len == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	       strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

static int make_scalar(struct loader *L, yaml_event_t *ev, int is_key, struct bs_ynode **out)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	yaml_scalar_style_t style = ev->data.scalar.style;
	struct bs_ynode *n;
	size_t span, chars, i;
	int exact, quoted;

	n = node_new(L, BS_YNODE_SCALAR, &ev->start_mark);
	if (!n)
		return -1;
	if (memchr(s, '\0', len) || len > BS_YAML_MAX_SCALAR) {
		if (len > BS_YAML_MAX_SCALAR)
			pos_error(L->err, n->file, n->line, n->column,
				  "value too long (over %d bytes)", BS_YAML_MAX_SCALAR);
		else
			pos_error(L->err, n->file, n->line, n->column, "NUL byte in a value");
		if (recorded(L) < 0) {
			node_free(n);
			return -1;
		}
		return make_bad(L, n, out);
	}
	n->plain = style == YAML_PLAIN_SCALAR_STYLE;
	quoted = style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
		 style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	/* The value's text is its source text when it spans one line and as
	 * many characters as it has (mark indexes count characters). */
	span = ev->end_mark.index - ev->start_mark.index;
	chars = 0;
	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			chars++;
	exact = ev->start_mark.line == ev->end_mark.line &&
		((n->plain && span == chars) || (quoted && span == chars + 2));

	if (!is_key && !(L->flags & BS_YAML_NO_ENV) && memchr(s, '$', len)) {
		struct sbuf b = {0};

		if (interpolate(L, n, s, len, exact, quoted, &b) < 0) {
			sbuf_wipe(&b);
			if (recorded(L) < 0) {
				node_free(n);
				return -1;
			}
			return make_bad(L, n, out);
		}
		n->raw = strndup(s, len);
		if (!n->raw) {
			sbuf_wipe(&b);
			node_free(n);
			return bs_err_set(L->err, BS_ERR_NOMEM, "out of memory");
		}
		n->value = b.p;
		n->len = b.len;
		/* the buffer may be larger than the text: wipe_free wipes len bytes,
		 * so clear the slack now */
		if (b.cap > b.len + 1)
			OPENSSL_cleanse(b.p + b.len + 1, b.cap - b.len - 1);
	} else {
		n->value = strndup(s, len);
		if (!n->value) {
			node_free(n);
			return bs_err_set(L->err, BS_ERR_NOMEM, "out of memory");
		}
		n->len = len;
	}
	n->null = n->plain && is_null_text(n->value, n->len);
	*out = n;
	return 0;
}

static int parse_node(struct loader *L, yaml_event_t *ev, int depth, int is_key,
		      struct bs_ynode **out);

static int too_many(struct loader *L, const struct bs_ynode *n)
{
	return pos_error(L->err, n->file, n->line, n->column,
			 "too many entries (more than %d)", BS_YAML_MAX_KEYS);
}

static int grow(struct loader *L, void **arr, size_t *cap, size_t count, size_t elem)
{
	void *np;
	size_t ncap;

	if (count < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	np = realloc(*arr, ncap * elem);
	if (!np)
		return bs_err_set(L->err, BS_ERR_NOMEM, "out of memory");
	*arr = np;
	*cap = ncap;
	return 0;
}

static int parse_sequence(struct loader *L, struct bs_ynode *n, int depth)
{
	size_t cap = 0;

	for (;;) {
		yaml_event_t ev;
		struct bs_ynode *item;

		if (next_event(L, &ev) < 0)
			return -1;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		if (n->count >= BS_YAML_MAX_KEYS) {
			yaml_event_delete(&ev);
			return too_many(L, n);
		}
		if (grow(L, (void **)&n->items, &cap, n->count, sizeof(*n->items)) < 0) {
			yaml_event_delete(&ev);
			return -1;
		}
		if (parse_node(L, &ev, depth + 1, 0, &item) < 0)
			return -1;
		n->items[n->count++] = item;
	}
}

/* Parse the value of a dropped pair and throw it away. */
static int skip_value(struct loader *L, int depth)
{
	yaml_event_t ev;
	struct bs_ynode *value;

	if (next_event(L, &ev) < 0 || parse_node(L, &ev, depth + 1, 0, &value) < 0)
		return -1;
	node_free(value);
	return 0;
}

static int parse_mapping(struct loader *L, struct bs_ynode *n, int depth)
{
	size_t cap = 0, i;

	for (;;) {
		yaml_event_t ev;
		struct bs_ynode *key, *value;

		if (next_event(L, &ev) < 0)
			return -1;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		if (n->count >= BS_YAML_MAX_KEYS) {
			yaml_event_delete(&ev);
			return too_many(L, n);
		}
		if (parse_node(L, &ev, depth + 1, 1, &key) < 0)
			return -1;
		if (key->kind != BS_YNODE_SCALAR) {
			pos_error(L->err, key->file, key->line, key->column,
				  "mapping keys must be scalars, not %s", bs_ynode_kind_name(key));
			node_free(key);
			if (recorded(L) < 0 || skip_value(L, depth) < 0)
				return -1;
			continue;
		}
		for (i = 0; i < n->count; i++) {
			const struct bs_ynode *prev = n->pairs[i].key;

			if (strcmp(prev->value, key->value) == 0) {
				pos_error(L->err, key->file, key->line, key->column,
					  "duplicate key '%s'", key->value);
				bs_err_detail(L->err, "'%s' is first defined at %s:%u:%u",
					      key->value, prev->file, prev->line, prev->column);
				bs_err_hint(L->err, "remove one of the two entries");
				break;
			}
		}
		if (i < n->count) {
			node_free(key);
			if (recorded(L) < 0 || skip_value(L, depth) < 0)
				return -1;
			continue;
		}
		if (grow(L, (void **)&n->pairs, &cap, n->count, sizeof(*n->pairs)) < 0) {
			node_free(key);
			return -1;
		}
		if (next_event(L, &ev) < 0) {
			node_free(key);
			return -1;
		}
		if (parse_node(L, &ev, depth + 1, 0, &value) < 0) {
			node_free(key);
			return -1;
		}
		n->pairs[n->count].key = key;
		n->pairs[n->count].value = value;
		n->count++;
	}
}

/* Build the node that starts with ev (consumed in all cases). */
static int parse_node(struct loader *L, yaml_event_t *ev, int depth, int is_key,
		      struct bs_ynode **out)
{
	struct bs_ynode *n;
	yaml_mark_t mark = ev->start_mark;
	yaml_event_type_t type = ev->type;
	int rc;

	*out = NULL;
	if (type == YAML_SCALAR_EVENT) {
		rc = make_scalar(L, ev, is_key, out);
		yaml_event_delete(ev);
		return rc;
	}
	if (type == YAML_ALIAS_EVENT) {
		pos_error(L->err, L->doc->file, (unsigned)mark.line + 1,
			  (unsigned)mark.column + 1, "YAML aliases (*%s) are not supported",
			  (const char *)ev->data.alias.anchor);
		bs_err_hint(L->err, "write the value out in full");
		yaml_event_delete(ev);
		if (recorded(L) < 0 || !(n = node_new(L, BS_YNODE_SCALAR, &mark)))
			return -1;
		return make_bad(L, n, out);
	}
	yaml_event_delete(ev);
	if (type != YAML_SEQUENCE_START_EVENT && type != YAML_MAPPING_START_EVENT)
		return pos_error(L->err, L->doc->file, (unsigned)mark.line + 1,
				 (unsigned)mark.column + 1, "unexpected YAML event");
	if (depth >= BS_YAML_MAX_DEPTH)
		return pos_error(L->err, L->doc->file, (unsigned)mark.line + 1,
				 (unsigned)mark.column + 1,
				 "nesting deeper than %d levels", BS_YAML_MAX_DEPTH);
	n = node_new(L, type == YAML_MAPPING_START_EVENT ? BS_YNODE_MAPPING
							 : BS_YNODE_SEQUENCE,
		     &mark);
	if (!n)
		return -1;
	rc = n->kind == BS_YNODE_MAPPING ? parse_mapping(L, n, depth)
					 : parse_sequence(L, n, depth);
	if (rc < 0) {
		node_free(n);
		return -1;
	}
	*out = n;
	return 0;
}

static int expect(struct loader *L, yaml_event_type_t type, yaml_event_t *ev)
{
	if (next_event(L, ev) < 0)
		return -1;
	if (ev->type != type) {
		pos_error(L->err, L->doc->file, (unsigned)ev->start_mark.line + 1,
			  (unsigned)ev->start_mark.column + 1, "unexpected YAML event");
		yaml_event_delete(ev);
		return -1;
	}
	return 0;
}

static int load_doc(struct loader *L)
{
	yaml_event_t ev;
	struct bs_ynode *root = NULL;

	if (expect(L, YAML_STREAM_START_EVENT, &ev) < 0)
		return -1;
	yaml_event_delete(&ev);
	if (next_event(L, &ev) < 0)
		return -1;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		return 0; /* no document at all: empty */
	}
	if (ev.type != YAML_DOCUMENT_START_EVENT) {
		yaml_event_delete(&ev);
		return bs_err_set(L->err, BS_ERR_CONFIG, "%s: unexpected YAML event",
				  L->doc->file);
	}
	yaml_event_delete(&ev);
	if (next_event(L, &ev) < 0)
		return -1;
	if (parse_node(L, &ev, 0, 0, &root) < 0)
		return -1;
	L->doc->root = root;
	if (expect(L, YAML_DOCUMENT_END_EVENT, &ev) < 0)
		return -1;
	yaml_event_delete(&ev);
	if (next_event(L, &ev) < 0)
		return -1;
	if (ev.type == YAML_DOCUMENT_START_EVENT) {
		pos_error(L->err, L->doc->file, (unsigned)ev.start_mark.line + 1,
			  (unsigned)ev.start_mark.column + 1,
			  "more than one YAML document");
		bs_err_hint(L->err, "remove the second '---' and what follows it");
		yaml_event_delete(&ev);
		if (recorded(L) < 0)
			return -1;
	}
	yaml_event_delete(&ev);
	if (root->kind == BS_YNODE_SCALAR && root->null) {
		node_free(root);
		L->doc->root = NULL;
	}
	return 0;
}

static int load(struct bs_ydoc **out, struct bs_ydoc *doc, const char *text, size_t len,
		unsigned flags, struct bs_err *err)
{
	struct loader L;
	int rc;

	memset(&L, 0, sizeof(L));
	L.doc = doc;
	L.text = text;
	L.text_len = len;
	L.flags = flags;
	L.err = err;
	if (!yaml_parser_initialize(&L.parser)) {
		bs_ydoc_free(doc);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	yaml_parser_set_input_string(&L.parser, (const unsigned char *)text, len);
	rc = load_doc(&L);
	yaml_parser_delete(&L.parser);
	if (rc < 0) {
		/* a syntax error after content errors: report them all */
		if (doc->errors.count && bs_yerrors_add(&doc->errors, err) == 0)
			bs_yerrors_result(&doc->errors, doc->file, err);
		bs_ydoc_free(doc);
		return -1;
	}
	if (doc->errors.count && !(flags & BS_YAML_KEEP_GOING)) {
		bs_yerrors_result(&doc->errors, doc->file, err);
		bs_ydoc_free(doc);
		return -1;
	}
	*out = doc;
	return 0;
}

static struct bs_ydoc *doc_new(const char *name, struct bs_err *err)
{
	struct bs_ydoc *doc = calloc(1, sizeof(*doc));

	if (doc)
		doc->file = strdup(name ? name : "<string>");
	if (!doc || !doc->file) {
		free(doc);
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		return NULL;
	}
	return doc;
}

int bs_ydoc_load_string(struct bs_ydoc **out, const char *name, const char *text,
			size_t len, unsigned flags, struct bs_err *err)
{
	struct bs_ydoc *doc;

	*out = NULL;
	if (len > BS_YAML_MAX_BYTES)
		return bs_err_set(err, BS_ERR_CONFIG, "%s: too large (over %d bytes)",
				  name ? name : "<string>", BS_YAML_MAX_BYTES);
	doc = doc_new(name, err);
	if (!doc)
		return -1;
	return load(out, doc, text, len, flags, err);
}

int bs_ydoc_load_file(struct bs_ydoc **out, const char *path, unsigned flags,
		      struct bs_err *err)
{
	struct bs_ydoc *doc = NULL;
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd = -1, rc = -1;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		bs_err_sys(err, BS_ERR_IO, errno, "unable to open '%s'", path);
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		bs_err_sys(err, BS_ERR_IO, errno, "unable to stat '%s'", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		bs_err_set(err, BS_ERR_CONFIG, "'%s' is not a regular file", path);
		goto out;
	}
	if (st.st_size > BS_YAML_MAX_BYTES) {
		bs_err_set(err, BS_ERR_CONFIG, "'%s' is too large (over %d bytes)", path,
			   BS_YAML_MAX_BYTES);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t n;

		if (len > (size_t)BS_YAML_MAX_BYTES) {
			bs_err_set(err, BS_ERR_CONFIG, "'%s' is too large (over %d bytes)",
				   path, BS_YAML_MAX_BYTES);
			goto out;
		}
		if (len == (size_t)st.st_size) {
			/* probe for growth since fstat; a file that grew is an error */
			char c;

			n = read(fd, &c, 1);
			if (n == 0)
				break;
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				bs_err_sys(err, BS_ERR_IO, errno, "unable to read '%s'", path);
				goto out;
			}
			bs_err_set(err, BS_ERR_IO, "'%s' changed while being read", path);
			goto out;
		}
		n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			bs_err_sys(err, BS_ERR_IO, errno, "unable to read '%s'", path);
			goto out;
		}
		if (n == 0)
			break; /* shrank: parse what is there */
		len += (size_t)n;
	}
	buf[len] = '\0';
	doc = doc_new(path, err);
	if (!doc)
		goto out;
	doc->has_stat = 1;
	doc->mode = st.st_mode;
	doc->uid = st.st_uid;
	rc = load(out, doc, buf, len, flags, err);
out:
	if (fd >= 0)
		close(fd);
	if (buf) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
	return rc;
}

const struct bs_ynode *bs_ynode_unwrap(const struct bs_ynode *root, const char *key,
				       const char **keypath)
{
	*keypath = NULL;
	if (root && root->kind == BS_YNODE_MAPPING && root->count == 1 &&
	    strcmp(root->pairs[0].key->value, key) == 0) {
		*keypath = key;
		return root->pairs[0].value;
	}
	return root;
}
