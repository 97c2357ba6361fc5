/* markdown_test.c - lib/report/markdown.c: the table read back as GitHub
 * would split it (rows, unescaped pipes), cells decoded and compared,
 * nothing raw that could break the table or the page, the bounds. */
#include <stdlib.h>
#include <string.h>

#include "common/escape.h"
#include "fixture.h"
#include "harness.h"

#define MAXROWS 400
#define NCOLS 6

struct table {
	size_t nrows;
	char *cell[MAXROWS][NCOLS]; /* decoded: \x -> x, entities, <br> -> \n */
	int bad_pipes;              /* rows without exactly NCOLS + 1 unescaped pipes */
	int raw_lt;                 /* a '<' that is not <br> */
	int unsafe;                 /* control characters, invalid UTF-8, bidi */
	int has_more;               /* the "N more findings not shown" line */
};

static char *decode(const char *s, size_t n)
{
	char *o = malloc(n + 1); /* decoding only shortens */
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n)
			o[k++] = s[++i];
		else if (strncmp(s + i, "&lt;", 4) == 0)
			o[k++] = '<', i += 3;
		else if (strncmp(s + i, "&gt;", 4) == 0)
			o[k++] = '>', i += 3;
		else if (strncmp(s + i, "&amp;", 5) == 0)
			o[k++] = '&', i += 4;
		else if (strncmp(s + i, "<br>", 4) == 0)
			o[k++] = '\n', i += 3;
		else
			o[k++] = s[i];
	}
	o[k] = '\0';
	return o;
}

static void split_row(struct table *t, const char *line, size_t len)
{
	size_t i, pipes = 0, start = 0, col = 0;

	for (i = 0; i < len; i++) {
		if (line[i] == '\\') {
			i++;
			continue;
		}
		if (line[i] != '|')
			continue;
		if (pipes > 0 && col < NCOLS && t->nrows < MAXROWS) /* "| x |": x without its spaces */
			t->cell[t->nrows][col++] = decode(line + start + 1, i - start >= 2 ? i - start - 2 : 0);
		pipes++;
		start = i + 1;
	}
	if (pipes != NCOLS + 1)
		t->bad_pipes++;
	t->nrows++;
}

static void parse(const char *md, struct table *t)
{
	const char *p = md, *nl;
	int in_table = 0;

	memset(t, 0, sizeof(*t));
	for (; *p; p = nl + 1) {
		size_t len;
		char *line;
		const char *lt;

		nl = strchr(p, '\n');
		CHECK(nl != NULL); /* every line ends */
		if (!nl)
			break;
		len = (size_t)(nl - p);
		line = strndup(p, len);
		if (bs_escape_needed(line, 0))
			t->unsafe++;
		for (lt = strchr(line, '<'); lt; lt = strchr(lt + 1, '<'))
			if (strncmp(lt, "<br>", 4) != 0)
				t->raw_lt++;
		if (strstr(line, "not shown."))
			t->has_more = 1;
		if (strncmp(line, "|---", 4) == 0)
			in_table = 1;
		else if (in_table && line[0] == '|')
			split_row(t, line, len);
		else
			in_table = 0;
		free(line);
	}
}

static void table_free(struct table *t)
{
	size_t i, j;

	for (i = 0; i < t->nrows && i < MAXROWS; i++)
		for (j = 0; j < NCOLS; j++)
			free(t->cell[i][j]);
}

TEST(rows_and_escaping)
{
	struct bs_report r;
	struct table t;
	char *md;
	int rc;

	fixture(&r);
	md = render(bs_report_write_markdown, &r, 0, &rc);
	CHECK_INT(rc, 0);
	CHECK(strncmp(md, "### ", 4) == 0);
	CHECK(strstr(md, ": FAIL\n") != NULL);
	parse(md, &t);
	CHECK_INT(t.nrows, 7 + NHOSTILE);
	CHECK_INT(t.bad_pipes, 0);
	CHECK_INT(t.raw_lt, 0);
	CHECK_INT(t.unsafe, 0);
	CHECK(strstr(md, "\\|") != NULL); /* pipes in cells are escaped, not dropped */
	CHECK_STR(t.cell[0][0], "\xE2\x9C\x85 OK");
	CHECK_STR(t.cell[0][2], "backup.fresh");
	CHECK_STR(t.cell[0][4], "<= 24 h");
	CHECK_STR(t.cell[2][5], "2 tables differ\npublic.accounts: row count");
	/* hostile strings as checks (column 3) of rows 7..: decoded back */
	CHECK_STR(t.cell[7 + 1][2], hostile[1]);
	CHECK_STR(t.cell[7 + 2][2], hostile[2]);
	CHECK_STR(t.cell[7 + 6][2], hostile[6]);
	CHECK_STR(t.cell[7 + 3][2], "pipes a|b || c\nline two\\x0d\nline three tab");
	CHECK_STR(t.cell[7 + 0][2], "ctl \\x01\\x07 \\x1b[31mred\\x1b[0m del\\x7f cr\\x0d!");
	CHECK_STR(t.cell[7 + 0][1], hostile[2]); /* group */
	table_free(&t);
	free(md);
	bs_report_release(&r);
}

TEST(problems_only)
{
	struct bs_report r;
	struct table t;
	char *md;
	int rc;

	fixture(&r);
	md = render(bs_report_write_markdown, &r, BS_REPORT_PROBLEMS_ONLY, &rc);
	parse(md, &t);
	CHECK_INT(t.nrows, 7 + NHOSTILE - 5 - 1);
	CHECK_INT(t.bad_pipes, 0);
	table_free(&t);
	free(md);
	bs_report_release(&r);
}

TEST(bounded_rows_and_cells)
{
	struct bs_report r;
	struct table t;
	char big[600], *md;
	size_t i;
	int rc;

	memset(big, '&', sizeof(big) - 1); /* the longest escape: 5 bytes a character */
	big[sizeof(big) - 1] = '\0';
	bs_report_init(&r);
	for (i = 0; i < BS_REPORT_MD_ROWS_MAX + 20; i++) {
		struct bs_finding f = {.check = big, .group = big, .observed = big, .expected = big,
				       .state = BS_STATE_FAIL, .detail = big, .seconds = -1};
		bs_report_add(&r, &f);
	}
	md = render(bs_report_write_markdown, &r, 0, &rc);
	CHECK_INT(rc, 0);
	parse(md, &t);
	CHECK_INT(t.nrows, BS_REPORT_MD_ROWS_MAX);
	CHECK(t.has_more);
	CHECK(strstr(md, "\n20 more findings not shown.\n") != NULL);
	CHECK_INT(strlen(t.cell[0][5]), BS_REPORT_MD_CELL_MAX + 3); /* cut, plus an ellipsis */
	CHECK(strlen(md) < 1024 * 1024); /* GitHub's step summary limit */
	table_free(&t);
	free(md);
	bs_report_release(&r);
}

TEST(empty_report_has_no_table)
{
	struct bs_report r;
	struct table t;
	char *md;
	int rc;

	bs_report_init(&r);
	md = render(bs_report_write_markdown, &r, 0, &rc);
	CHECK_INT(rc, 0);
	parse(md, &t);
	CHECK_INT(t.nrows, 0);
	CHECK(strstr(md, "backstop: OK") != NULL);
	free(md);
	bs_report_release(&r);
}

int main(void)
{
	RUN(rows_and_escaping);
	RUN(problems_only);
	RUN(bounded_rows_and_cells);
	RUN(empty_report_has_no_table);
	return DONE();
}
