/* dbscript.c - see dbscript.h. */
#include "restore/dbscript.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the list ---- */

/* "<id>; <catalog> <oid> <desc and the rest>": the text after the two numbers. */
static const char *entry_body(const char *line, const char *end)
{
	const char *p = line;
	int i;

	while (p < end && isdigit((unsigned char)*p))
		p++;
	if (p == line || p + 2 > end || p[0] != ';' || p[1] != ' ')
		return NULL;
	p += 2;
	for (i = 0; i < 2; i++) {
		const char *q = p;
		while (p < end && isdigit((unsigned char)*p))
			p++;
		if (p == q || p >= end || *p != ' ')
			return NULL;
		p++;
	}
	return p;
}

static int starts(const char *p, const char *end, const char *prefix)
{
	size_t n = strlen(prefix);

	return (size_t)(end - p) >= n && memcmp(p, prefix, n) == 0;
}

char *bs_dbscript_list(const char *toc, size_t len)
{
	static const char *const wanted[] = { "DATABASE - ", "DATABASE PROPERTIES - ", "COMMENT - DATABASE ",
					      "ACL - DATABASE ", "SECURITY LABEL - DATABASE " };
	const char *p = toc, *end = toc + len;
	/* every kept line gets a newline, also the last one when the listing
	 * does not end with one: len + 1, then the NUL */
	char *out = malloc(len + 2);
	size_t n = 0, i;

	if (!out)
		return NULL;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end, *body;
		if (*p != ';' && (body = entry_body(p, le)) != NULL)
			for (i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
				if (starts(body, le, wanted[i])) {
					memcpy(out + n, p, (size_t)(le - p));
					n += (size_t)(le - p);
					out[n++] = '\n';
					break;
				}
		p = nl ? nl + 1 : end;
	}
	out[n] = '\0';
	return out;
}

/* ---- lexing ---- */

void bs_dbscript_init(struct bs_dbscript *s)
{
	memset(s, 0, sizeof(*s));
}

void bs_dbscript_release(struct bs_dbscript *s)
{
	size_t i;

	free(s->create);
	for (i = 0; i < s->n; i++)
		free(s->stmts[i]);
	free(s->stmts);
	bs_dbscript_init(s);
}

static int is_ident_char(char c);

/* End of the quoted string, identifier, dollar quote or comment starting
 * at p (one past it); p itself when p starts none; NULL if unterminated.
 * As PostgreSQL's lexer: E'...' only where the E starts a token, and no
 * dollar quote inside an identifier ("a$$b" is one identifier). */
static const char *skip_special(const char *base, const char *p)
{
	const char *q;

	if (*p == '\'' || *p == '"') {
		char c = *p;
		int esc = c == '\'' && p > base && (p[-1] == 'E' || p[-1] == 'e') &&
			  (p - 1 == base || !is_ident_char(p[-2]));
		for (q = p + 1; *q; q++) {
			if (esc && *q == '\\' && q[1]) {
				q++;
				continue;
			}
			if (*q == c) {
				if (q[1] == c) {
					q++;
					continue;
				}
				return q + 1;
			}
		}
		return NULL;
	}
	if (p[0] == '-' && p[1] == '-') {
		q = strchr(p, '\n');
		return q ? q + 1 : p + strlen(p);
	}
	if (p[0] == '/' && p[1] == '*') {
		int depth = 1;
		for (q = p + 2; *q; q++) {
			if (q[0] == '/' && q[1] == '*') {
				depth++;
				q++;
			} else if (q[0] == '*' && q[1] == '/') {
				q++;
				if (--depth == 0)
					return q + 1;
			}
		}
		return NULL;
	}
	if (*p == '$' && !(p > base && is_ident_char(p[-1]))) {
		size_t tl;
		for (q = p + 1; *q && (isalnum((unsigned char)*q) || *q == '_' || (unsigned char)*q >= 0x80); q++)
			;
		if (*q != '$' || (q > p + 1 && isdigit((unsigned char)p[1])))
			return p;
		tl = (size_t)(q - p) + 1;
		for (q = q + 1; *q; q++)
			if (*q == '$' && strncmp(q, p, tl) == 0)
				return q + tl;
		return NULL;
	}
	return p;
}

static int is_ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '$' || (unsigned char)c >= 0x80;
}

/* The statement text trimmed of leading space and comments; "" if nothing is left. */
static int only_comments(const char *s, const char *end)
{
	while (s < end) {
		const char *q;
		if (isspace((unsigned char)*s)) {
			s++;
			continue;
		}
		q = skip_special(s, s);
		if (!q || q == s || !(s[0] == '-' || s[0] == '/'))
			return 0;
		s = q;
	}
	return 1;
}

static int add_stmt(struct bs_dbscript *s, const char *b, const char *e, const char *from, const char *to)
{
	char *raw, *st;

	while (b < e && isspace((unsigned char)*b))
		b++;
	while (e > b && isspace((unsigned char)e[-1]))
		e--;
	if (b == e || only_comments(b, e))
		return 0;
	if (!(raw = strndup(b, (size_t)(e - b))))
		return -1;
	st = bs_dbscript_rename(raw, from, to);
	free(raw);
	if (!st)
		return -1;
	{
		const char *k = st;
		for (;;) {
			const char *q;
			while (isspace((unsigned char)*k))
				k++;
			if (!((k[0] == '-' && k[1] == '-') || (k[0] == '/' && k[1] == '*')) ||
			    !(q = skip_special(st, k)))
				break;
			k = q;
		}
		if (!s->create && strncasecmp(k, "CREATE DATABASE", 15) == 0) {
			s->create = st;
			return 0;
		}
	}
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 16;
		char **nv = realloc(s->stmts, nc * sizeof(*nv));
		if (!nv) {
			free(st);
			return -1;
		}
		s->stmts = nv;
		s->cap = nc;
	}
	s->stmts[s->n++] = st;
	return 0;
}

int bs_dbscript_parse(struct bs_dbscript *s, const char *script, const char *from, const char *to,
		      struct bs_err *err)
{
	const char *p = script, *start = script;
	int at_start = 1;

	while (*p) {
		const char *q;
		if (at_start && *p == '\\') {
			/* a psql meta-command runs to the end of its line */
			q = strchr(p, '\n');
			p = start = q ? q + 1 : p + strlen(p);
			continue;
		}
		if (isspace((unsigned char)*p)) {
			p++;
			continue;
		}
		if (*p == ';') {
			if (add_stmt(s, start, p, from, to) < 0)
				return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
			start = ++p;
			at_start = 1;
			continue;
		}
		q = skip_special(script, p);
		if (!q)
			return bs_err_set(err, BS_ERR_FORMAT, "unable to read the database-level script: "
							      "an unterminated quote or comment");
		if (q != p) {
			if (!(p[0] == '-' || p[0] == '/'))
				at_start = 0;
			p = q;
			continue;
		}
		at_start = 0;
		p++;
	}
	if (add_stmt(s, start, p, from, to) < 0)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	return 0;
}

/* ---- renaming ---- */

/* Does the identifier token [b, e) name `name`?  Unquoted: folded to lower
 * case; quoted: "" unescaped. */
static int ident_is(const char *b, const char *e, const char *name)
{
	size_t i = 0;

	if (*b == '"') {
		const char *p;
		for (p = b + 1; p < e - 1; p++) {
			if (*p == '"')
				p++; /* "" */
			if (name[i] != *p)
				return 0;
			i++;
		}
		return name[i] == '\0';
	}
	for (; b < e; b++, i++)
		if (name[i] != (char)tolower((unsigned char)*b))
			return 0;
	return name[i] == '\0';
}

static char *quote(const char *name)
{
	size_t n = 3, i, k = 0;
	char *out;

	for (i = 0; name[i]; i++)
		n += name[i] == '"' ? 2 : 1;
	if (!(out = malloc(n)))
		return NULL;
	out[k++] = '"';
	for (i = 0; name[i]; i++) {
		if (name[i] == '"')
			out[k++] = '"';
		out[k++] = name[i];
	}
	out[k++] = '"';
	out[k] = '\0';
	return out;
}

char *bs_dbscript_rename(const char *stmt, const char *from, const char *to)
{
	char *qto = quote(to), *out;
	size_t cap, n = 0;
	const char *p = stmt;
	int after_db = 0;

	if (!qto)
		return NULL;
	cap = strlen(stmt) + 1;
	/* each rename adds at most strlen(qto) bytes */
	{
		const char *x = stmt;
		while ((x = strcasestr(x, "database")) != NULL) {
			cap += strlen(qto);
			x += 8;
		}
	}
	if (!(out = malloc(cap))) {
		free(qto);
		return NULL;
	}
	while (*p) {
		const char *q = skip_special(stmt, p), *b = p;
		if (!q)
			q = p + strlen(p);
		if (q != p && p[0] != '"') {
			/* string, comment or dollar quote: copied as is */
			memcpy(out + n, p, (size_t)(q - p));
			n += (size_t)(q - p);
			p = q;
			continue;
		}
		if (isspace((unsigned char)*p)) {
			out[n++] = *p++;
			continue;
		}
		if (*p == '"') {
			p = q;
		} else if (is_ident_char(*p)) {
			while (*p && is_ident_char(*p))
				p++;
		} else {
			out[n++] = *p++;
			after_db = 0;
			continue;
		}
		/* an identifier or keyword [b, p) */
		if (after_db && ident_is(b, p, from)) {
			memcpy(out + n, qto, strlen(qto));
			n += strlen(qto);
		} else {
			memcpy(out + n, b, (size_t)(p - b));
			n += (size_t)(p - b);
		}
		after_db = *b != '"' && p - b == 8 && strncasecmp(b, "DATABASE", 8) == 0;
	}
	out[n] = '\0';
	free(qto);
	return out;
}
