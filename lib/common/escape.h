/*
 * escape.h - text from a database or an archive made safe for a terminal.
 *
 * Table, schema and database names, role names, messages quoting them:
 * anything a database user or an archive can choose is escaped before it
 * is printed as text (JSON output is escaped by jansson, XML by
 * bs_report_xml_escape).  Escaped, as \xNN per byte:
 *   - C0 controls (0x00-0x1f; with BS_ESC_KEEP_NL, newline and tab pass),
 *     DEL (0x7f), so ESC never reaches the terminal;
 *   - C1 controls U+0080-U+009F (e.g. U+009B, a one-character CSI);
 *   - Unicode line/paragraph separators and bidirectional overrides
 *     (U+2028, U+2029, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), which
 *     make a terminal show text in another order than it is;
 *   - every byte that is not part of valid UTF-8.
 * Everything else, backslashes included, is printed as it is.
 */
#ifndef BS_COMMON_ESCAPE_H
#define BS_COMMON_ESCAPE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BS_ESC_KEEP_NL 1   /* multi-line text (error details): keep \n and \t */

/* Escape src into dst (n bytes, always NUL-terminated; a cut is marked
 * "..." at a character boundary).  Returns the length written. */
size_t bs_escape_term(char *dst, size_t n, const char *src, int flags);

/* The escaped form of s (NULL -> "") in one of 8 thread-local buffers of
 * BS_ESC_BUF bytes used in turn: for up to 8 arguments of one printf.
 * Valid until the same thread's 8th next call. */
#define BS_ESC_BUF 4096
const char *bs_esc(const char *s);

/* Length (1-4) of the valid UTF-8 sequence at s and its code point, or 0
 * (invalid byte, overlong form, surrogate, beyond U+10FFFF).  The one
 * UTF-8 decoder: the terminal escaper and the report writers use it. */
size_t bs_utf8_seq(const unsigned char *s, uint32_t *cp);

/* 1 if s holds anything bs_escape_term would escape (flags as there). */
int bs_escape_needed(const char *s, int flags);

#endif
