/*
 * sqlcheck.h - a small SQL lexer for fuzz properties: text the library
 * generates from archive contents (role names, settings, comments,
 * tablespace locations) must come out with every quote closed, whatever
 * the names hold.  An archive is data written by whoever can write to the
 * repository; restore runs the SQL as a superuser.
 *
 * Knows '...' (with '' inside), E'...' (with backslash escapes),
 * "..." (with "" inside), $tag$...$tag$, -- comments and nested block
 * comments.  Returns NULL when all are closed, else what is left open.
 */
#ifndef BS_FUZZ_SQLCHECK_H
#define BS_FUZZ_SQLCHECK_H

#include <ctype.h>
#include <string.h>

static int sql_ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '$' || (unsigned char)c >= 0x80;
}

static int sql_tag_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || (unsigned char)c >= 0x80;
}

static const char *sql_unclosed(const char *s)
{
	const char *p = s;

	while (*p) {
		if (*p == '\'' || ((*p == 'E' || *p == 'e') && p[1] == '\'' &&
				   (p == s || !sql_ident_char(p[-1])))) {
			int esc = *p != '\'';
			p += esc ? 2 : 1;
			for (;;) {
				if (!*p)
					return "a string literal";
				if (esc && *p == '\\' && p[1]) {
					p += 2;
					continue;
				}
				if (*p == '\'' && p[1] == '\'') {
					p += 2;
					continue;
				}
				if (*p == '\'')
					break;
				p++;
			}
			p++;
		} else if (*p == '"') {
			for (p++;; p++) {
				if (!*p)
					return "a quoted identifier";
				if (*p == '"' && p[1] == '"')
					p++;
				else if (*p == '"')
					break;
			}
			p++;
		} else if (*p == '$' && (p == s || !sql_ident_char(p[-1]))) {
			const char *q = p + 1, *end;
			while (sql_tag_char(*q))
				q++;
			if (*q != '$' || isdigit((unsigned char)p[1])) {
				p++;
				continue;
			}
			{
				size_t tl = (size_t)(q - p) + 1;
				char tag[128];
				if (tl >= sizeof(tag))
					return "a dollar quote tag";
				memcpy(tag, p, tl);
				tag[tl] = 0;
				end = strstr(q + 1, tag);
				if (!end)
					return "a dollar-quoted string";
				p = end + tl;
			}
		} else if (*p == '-' && p[1] == '-') {
			while (*p && *p != '\n')
				p++;
		} else if (*p == '/' && p[1] == '*') {
			int depth = 1;
			for (p += 2; depth; p++) {
				if (!*p)
					return "a block comment";
				if (*p == '/' && p[1] == '*')
					depth++, p++;
				else if (*p == '*' && p[1] == '/')
					depth--, p++;
			}
		} else {
			p++;
		}
	}
	return NULL;
}

#endif
