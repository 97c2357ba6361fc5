/* escape.c - see escape.h */
#include "common/escape.h"

#include <stdint.h>
#include <string.h>

size_t bs_utf8_seq(const unsigned char *s, uint32_t *cp)
{
	size_t n, i;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xE0) == 0xC0) {
		n = 2;
		c = s[0] & 0x1F;
	} else if ((s[0] & 0xF0) == 0xE0) {
		n = 3;
		c = s[0] & 0x0F;
	} else if ((s[0] & 0xF8) == 0xF0) {
		n = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF)
		return 0;
	*cp = c;
	return n;
}

static int unsafe(uint32_t c, int flags)
{
	if (c < 0x20)
		return !((flags & BS_ESC_KEEP_NL) && (c == '\n' || c == '\t'));
	if (c == 0x7F || (c >= 0x80 && c <= 0x9F))
		return 1;
	return c == 0x2028 || c == 0x2029 || c == 0x200E || c == 0x200F || (c >= 0x202A && c <= 0x202E) ||
	       (c >= 0x2066 && c <= 0x2069);
}

size_t bs_escape_term(char *dst, size_t n, const char *src, int flags)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)(src ? src : "");
	size_t o = 0, i;

	if (n == 0)
		return 0;
	while (*s) {
		uint32_t c;
		size_t k = bs_utf8_seq(s, &c), need;
		int esc = k == 0 || unsafe(c, flags);

		if (k == 0)
			k = 1; /* one invalid byte */
		need = esc ? 4 * k : k;
		if (o + need + 4 > n) { /* room for "..." and the NUL */
			if (o + 4 <= n) {
				memcpy(dst + o, "...", 3);
				o += 3;
			}
			break;
		}
		for (i = 0; i < k; i++) {
			if (esc) {
				dst[o++] = '\\';
				dst[o++] = 'x';
				dst[o++] = hex[s[i] >> 4];
				dst[o++] = hex[s[i] & 15];
			} else {
				dst[o++] = (char)s[i];
			}
		}
		s += k;
	}
	dst[o] = '\0';
	return o;
}

int bs_escape_needed(const char *src, int flags)
{
	const unsigned char *s = (const unsigned char *)(src ? src : "");

	while (*s) {
		uint32_t c;
		size_t k = bs_utf8_seq(s, &c);
		if (k == 0 || unsafe(c, flags))
			return 1;
		s += k;
	}
	return 0;
}

const char *bs_esc(const char *s)
{
	static _Thread_local char ring[8][BS_ESC_BUF];
	static _Thread_local unsigned next;
	char *b = ring[next++ % 8];

	bs_escape_term(b, BS_ESC_BUF, s, 0);
	return b;
}
