/* escape_test.c - names from databases and archives made safe for a terminal. */
#include <string.h>

#include "common/escape.h"
#include "harness.h"

static const char *esc(const char *s, int flags)
{
	static char b[512];

	bs_escape_term(b, sizeof(b), s, flags);
	return b;
}

TEST(plain_text_passes)
{
	CHECK_STR(esc("public.accounts", 0), "public.accounts");
	CHECK_STR(esc("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac", 0), "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac");
	CHECK_STR(esc("a\\b", 0), "a\\b");
	CHECK_STR(esc(NULL, 0), "");
	CHECK(!bs_escape_needed("public.accounts", 0));
}

TEST(controls_are_escaped)
{
	CHECK_STR(esc("evil\x1b[31mred\nline", 0), "evil\\x1b[31mred\\x0aline");
	CHECK_STR(esc("a\rb\tc\x7f" "d", 0), "a\\x0db\\x09c\\x7f" "d");
	CHECK_STR(esc("bell\a", 0), "bell\\x07");
	CHECK(bs_escape_needed("x\x1b", 0));
}

TEST(keep_newlines_for_details)
{
	CHECK_STR(esc("one\ntwo\tx\x1b", BS_ESC_KEEP_NL), "one\ntwo\tx\\x1b");
	CHECK(!bs_escape_needed("one\ntwo", BS_ESC_KEEP_NL));
}

TEST(c1_bidi_and_invalid_utf8)
{
	/* U+009B (a one-character CSI), U+202E (right-to-left override), U+2028 */
	CHECK_STR(esc("a\xc2\x9b" "2J", 0), "a\\xc2\\x9b2J");
	CHECK_STR(esc("x\xe2\x80\xaey", 0), "x\\xe2\\x80\\xaey");
	CHECK_STR(esc("x\xe2\x80\xa8y", 0), "x\\xe2\\x80\\xa8y");
	/* a raw C1 byte (not UTF-8) and a truncated sequence */
	CHECK_STR(esc("a\x9b" "b", 0), "a\\x9bb");
	CHECK_STR(esc("a\xc3", 0), "a\\xc3");
	/* an overlong encoding of ESC */
	CHECK_STR(esc("\xc0\x9b", 0), "\\xc0\\x9b");
}

TEST(cut_at_a_boundary)
{
	char b[12];
	size_t n = bs_escape_term(b, sizeof(b), "\x1b\x1b\x1b\x1b", 0);

	CHECK_STR(b, "\\x1b\\x1b...");
	CHECK_INT((int)n, 11);
	bs_escape_term(b, sizeof(b), "abcdefghijklmnop", 0);
	CHECK_STR(b, "abcdefgh...");
}

TEST(ring_of_buffers)
{
	const char *a = bs_esc("a\x1b"), *b = bs_esc("b\n");

	CHECK_STR(a, "a\\x1b");
	CHECK_STR(b, "b\\x0a");
}

int main(void)
{
	RUN(plain_text_passes);
	RUN(controls_are_escaped);
	RUN(keep_newlines_for_details);
	RUN(c1_bidi_and_invalid_utf8);
	RUN(cut_at_a_boundary);
	RUN(ring_of_buffers);
	return DONE();
}
