/* text_test.c - lib/report/text.c: nothing unescaped reaches the terminal,
 * columns line up, details/measurements/locations under their row, the
 * summary counts. */
#include <stdlib.h>
#include <string.h>

#include "common/escape.h"
#include "fixture.h"
#include "harness.h"

TEST(every_line_is_terminal_safe)
{
	struct bs_report r;
	char *s, *line, *save = NULL;
	int rc, n = 0;

	fixture(&r);
	s = render(bs_report_write_text, &r, 0, &rc);
	CHECK_INT(rc, 0);
	CHECK(s[strlen(s) - 1] == '\n');
	for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++)
		if (bs_escape_needed(line, BS_ESC_KEEP_NL)) { /* tabs may stay */
			printf("# unsafe line: %s\n", bs_esc(line));
			CHECK(0);
		}
	CHECK(n > 14);
	free(s);
	s = render(bs_report_write_text, &r, 0, &rc);
	CHECK(strstr(s, "\\x1b[31mred") != NULL);       /* ESC shown, not sent */
	CHECK(strstr(s, "bad \\xff\\xfe \\xc3(") != NULL); /* invalid UTF-8 shown as bytes */
	CHECK(strstr(s, "bidi \\xe2\\x80\\xae evil") != NULL);
	CHECK(strstr(s, "14 checks: 5 ok, 1 warn, 5 fail, 1 unknown, 1 skipped, 1 waived\n") != NULL);
	free(s);
	bs_report_release(&r);
}

/* Column of the first occurrence of needle in the line that contains key. */
static long col_of(const char *text, const char *key, const char *needle)
{
	const char *k = strstr(text, key), *bol, *hit;

	if (!k)
		return -1;
	for (bol = k; bol > text && bol[-1] != '\n'; bol--)
		;
	hit = strstr(bol, needle);
	return hit ? (long)(hit - bol) : -1;
}

TEST(columns_align)
{
	struct bs_report r;
	struct bs_measure m = {.name = "age", .value = 3, .unit = "h"};
	struct bs_finding f = {.check = "a", .state = BS_STATE_OK, .observed = "obs-1", .expected = "exp-1",
			       .seconds = -1};
	char *s;
	int rc;

	bs_report_init(&r);
	bs_report_set_title(&r, "probe", NULL);
	bs_report_add(&r, &f);
	f.check = "much.longer.check", f.state = BS_STATE_UNKNOWN, f.observed = "o2", f.expected = "exp-2";
	f.detail = "line one\nline two";
	f.measures = &m, f.nmeasures = 1;
	f.file = "p.yaml", f.line = 7;
	bs_report_add(&r, &f);
	s = render(bs_report_write_text, &r, 0, &rc);
	CHECK_INT(rc, 0);
	CHECK(strncmp(s, "probe: UNKNOWN\n", 15) == 0);
	CHECK(col_of(s, "obs-1", "obs-1") == col_of(s, "o2", "o2"));
	CHECK(col_of(s, "obs-1", "exp-1") == col_of(s, "o2", "exp-2"));
	CHECK(col_of(s, "OBSERVED", "OBSERVED") == col_of(s, "o2", "o2"));
	CHECK(col_of(s, "STATE", "CHECK") == col_of(s, "o2", "much.longer.check"));
	/* detail lines, measurements and the location are indented to the check column */
	CHECK(col_of(s, "line one", "line one") == col_of(s, "o2", "much.longer.check"));
	CHECK(col_of(s, "line two", "line two") == col_of(s, "o2", "much.longer.check"));
	CHECK(strstr(s, "age=3 h\n") != NULL);
	CHECK(strstr(s, "at p.yaml:7\n") != NULL);
	CHECK(strstr(s, "2 checks: 1 ok, 1 unknown\n") != NULL);
	/* a single group named like the report gets no heading of its own */
	CHECK(strstr(s, "\nprobe\n") == NULL);
	free(s);
	bs_report_release(&r);
}

TEST(problems_only_and_groups)
{
	struct bs_report r;
	char *s;
	int rc;

	fixture(&r);
	s = render(bs_report_write_text, &r, BS_REPORT_PROBLEMS_ONLY, &rc);
	CHECK_INT(rc, 0);
	CHECK(strstr(s, "backup.fresh") == NULL);
	CHECK(strstr(s, "tls.expiry") == NULL);
	CHECK(strstr(s, "drill.passed") != NULL);
	CHECK(strstr(s, "\ngate go-live\n") != NULL); /* group headings with two groups */
	free(s);
	bs_report_release(&r);
}

int main(void)
{
	RUN(every_line_is_terminal_safe);
	RUN(columns_align);
	RUN(problems_only_and_groups);
	return DONE();
}
