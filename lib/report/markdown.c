/* markdown.c - the report as a Markdown table for GitHub step summaries
 * (see report.h).  Worst case per row: 5 text cells of
 * BS_REPORT_MD_CELL_MAX characters, each at most 5 bytes once escaped, so
 * 250 rows stay under GitHub's 1 MiB limit. */
#include <stdlib.h>
#include <string.h>

#include "common/escape.h"
#include "report/report.h"
#include "report/report_int.h"

static const char *icon(enum bs_state s)
{
	switch (s) {
	case BS_STATE_OK:
		return "\xE2\x9C\x85"; /* white heavy check mark */
	case BS_STATE_WARN:
		return "\xE2\x9A\xA0\xEF\xB8\x8F"; /* warning sign */
	case BS_STATE_FAIL:
		return "\xE2\x9D\x8C"; /* cross mark */
	case BS_STATE_UNKNOWN:
		return "\xE2\x9D\x93"; /* question mark */
	case BS_STATE_SKIPPED:
		return "\xE2\x8F\xAD\xEF\xB8\x8F"; /* next track */
	case BS_STATE_WAIVED:
		return "\xE2\x98\x91\xEF\xB8\x8F"; /* ballot box with check */
	}
	return "";
}

/* One cell (or heading text): terminal escaping first (control characters
 * and invalid UTF-8 as \xNN, newlines kept), cut at max characters, then
 * Markdown: a backslash before each of \ | ` * _ [ ] ~ (a cell never starts a line,
 * so list and heading markers cannot take effect), HTML
 * characters as entities, newlines as <br>, tabs as spaces.  NULL -> "". */
static int cell(FILE *f, const char *s, size_t max)
{
	size_t n, chars = 0;
	char *b;
	const char *p;

	if (!s)
		return 0;
	n = 4 * strlen(s) + 8;
	b = malloc(n);
	if (!b)
		return -1;
	bs_escape_term(b, n, s, BS_ESC_KEEP_NL);
	for (p = b; *p; p++) {
		if (((unsigned char)*p & 0xC0) != 0x80 && chars++ == max) {
			fputs("\xE2\x80\xA6", f); /* ellipsis */
			break;
		}
		switch (*p) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '\n':
			fputs("<br>", f);
			break;
		case '\t':
			fputc(' ', f);
			break;
		case '\\':
		case '|':
		case '`':
		case '*':
		case '_':
		case '[':
		case ']':
		case '~':
			fputc('\\', f);
			fputc(*p, f);
			break;
		default:
			fputc(*p, f);
		}
	}
	free(b);
	return 0;
}

static int row(const struct bs_report *r, const struct bs_finding *x, FILE *f)
{
	int rc = 0;

	fprintf(f, "| %s %s | ", icon(x->state), bs_state_label(x->state));
	rc |= cell(f, bs_report_group_of(r, x), BS_REPORT_MD_CELL_MAX);
	fputs(" | ", f);
	rc |= cell(f, x->check, BS_REPORT_MD_CELL_MAX);
	fputs(" | ", f);
	rc |= cell(f, x->observed, BS_REPORT_MD_CELL_MAX);
	fputs(" | ", f);
	rc |= cell(f, x->expected, BS_REPORT_MD_CELL_MAX);
	fputs(" | ", f);
	rc |= cell(f, x->detail, BS_REPORT_MD_CELL_MAX);
	fputs(" |\n", f);
	return rc;
}

static void counts(const struct bs_report *r, FILE *f)
{
	size_t i, total = 0;
	int first = 1;

	for (i = 0; i < BS_STATE_COUNT; i++)
		total += r->counts[i];
	fprintf(f, "%zu check%s", total, total == 1 ? "" : "s");
	for (i = 0; i < BS_STATE_COUNT; i++) {
		if (!r->counts[i])
			continue;
		fprintf(f, "%s%zu %s", first ? ": " : ", ", r->counts[i], bs_state_name((enum bs_state)i));
		first = 0;
	}
	fputs("\n\n", f);
}

int bs_report_write_markdown(const struct bs_report *r, FILE *f, unsigned flags)
{
	enum bs_state st = bs_report_overall(r);
	size_t i, rows = 0, hidden = 0;
	int rc = 0;

	fprintf(f, "### %s ", icon(st));
	rc |= cell(f, r->title ? r->title : "backstop", BS_REPORT_MD_CELL_MAX);
	if (r->subject) {
		fputs(" \xE2\x80\x94 ", f); /* em dash */
		rc |= cell(f, r->subject, BS_REPORT_MD_CELL_MAX);
	}
	fprintf(f, ": %s\n\n", bs_state_label(st));
	counts(r, f);
	for (i = 0; i < r->nfindings && rc == 0; i++) {
		const struct bs_finding *x = &r->findings[i];
		if (!bs_report_shown(x, flags))
			continue;
		if (rows == BS_REPORT_MD_ROWS_MAX) {
			hidden++;
			continue;
		}
		if (rows++ == 0)
			fputs("| State | Group | Check | Observed | Expected | Detail |\n"
			      "|---|---|---|---|---|---|\n",
			      f);
		rc = row(r, x, f);
	}
	if (hidden + r->dropped)
		fprintf(f, "\n%zu more finding%s not shown.\n", hidden + r->dropped,
			hidden + r->dropped == 1 ? "" : "s");
	return rc < 0 || ferror(f) ? -1 : 0;
}
