/* text.c - the human report: aligned table per group (see report.h). */
#include <stdlib.h>
#include <string.h>

#include "common/escape.h"
#include "report/report.h"
#include "report/report_int.h"

#define COL_MAX 40 /* a wider cell is printed whole, but does not widen its column */

/* The terminal-safe form of s (NULL -> "-"), malloc'd, never cut. */
static char *esc(const char *s, int flags)
{
	size_t n;
	char *b;

	if (!s)
		s = "-";
	n = 4 * strlen(s) + 8;
	b = malloc(n);
	if (b)
		bs_escape_term(b, n, s, flags);
	return b;
}

/* Columns a string takes (code points; wide characters count as one). */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	return w;
}

/* s, then spaces up to col (which includes a gap of 2); a wider s is
 * followed by the 2-space gap alone. */
static void pad(FILE *f, const char *s, size_t col)
{
	size_t w = width(s);

	fputs(s, f);
	if (w + 2 > col)
		col = w + 2;
	while (w++ < col)
		fputc(' ', f);
}

struct cols {
	size_t state, check, observed;
};

static void measure_cols(const struct bs_report *r, const char *group, unsigned flags, struct cols *c)
{
	size_t i, w;

	c->state = strlen("STATE");
	c->check = strlen("CHECK");
	c->observed = strlen("OBSERVED");
	for (i = 0; i < r->nfindings; i++) {
		const struct bs_finding *x = &r->findings[i];
		char *a, *b;
		if (!bs_report_shown(x, flags) || strcmp(bs_report_group_of(r, x), group) != 0)
			continue;
		if ((w = strlen(bs_state_label(x->state))) > c->state)
			c->state = w;
		a = esc(x->check, 0);
		b = esc(x->observed, 0);
		if (a && (w = width(a)) > c->check && w <= COL_MAX)
			c->check = w;
		if (b && (w = width(b)) > c->observed && w <= COL_MAX)
			c->observed = w;
		free(a);
		free(b);
	}
}

/* Detail lines, measurements and location under a row, indented. */
static void row_extra(const struct bs_finding *x, size_t indent, FILE *f)
{
	char *d = x->detail ? esc(x->detail, BS_ESC_KEEP_NL) : NULL, *p, *nl;
	size_t i;

	for (p = d; p && *p; p = nl ? nl + 1 : p + strlen(p)) {
		nl = strchr(p, '\n');
		fprintf(f, "%*s%.*s\n", (int)indent, "", (int)(nl ? (size_t)(nl - p) : strlen(p)), p);
	}
	free(d);
	if (x->nmeasures) {
		fprintf(f, "%*s", (int)indent, "");
		for (i = 0; i < x->nmeasures; i++) {
			char *n = esc(x->measures[i].name, 0), *u = esc(x->measures[i].unit, 0);
			fprintf(f, "%s%s=%g%s%s", i ? ", " : "", n ? n : "?", x->measures[i].value,
				u && u[0] ? " " : "", u ? u : "");
			free(n);
			free(u);
		}
		fputc('\n', f);
	}
	if (x->file) {
		char *file = esc(x->file, 0);
		fprintf(f, "%*sat %s", (int)indent, "", file ? file : "?");
		if (x->line)
			fprintf(f, ":%u", x->line);
		if (x->line && x->column)
			fprintf(f, ":%u", x->column);
		fputc('\n', f);
		free(file);
	}
}

static int group_table(const struct bs_report *r, const char *group, int heading, unsigned flags, FILE *f)
{
	struct cols c;
	size_t i;
	int any = 0;

	measure_cols(r, group, flags, &c);
	for (i = 0; i < r->nfindings; i++) {
		const struct bs_finding *x = &r->findings[i];
		char *chk, *obs, *exp;
		if (!bs_report_shown(x, flags) || strcmp(bs_report_group_of(r, x), group) != 0)
			continue;
		if (!any) {
			if (heading) {
				char *g = esc(group, 0);
				fprintf(f, "%s\n", g ? g : "?");
				free(g);
			}
			fputs("  ", f);
			pad(f, "STATE", c.state + 2);
			pad(f, "CHECK", c.check + 2);
			pad(f, "OBSERVED", c.observed + 2);
			fputs("EXPECTED\n", f);
			any = 1;
		}
		chk = esc(x->check, 0);
		obs = esc(x->observed, 0);
		exp = esc(x->expected, 0);
		if (!chk || !obs || !exp) {
			free(chk);
			free(obs);
			free(exp);
			return -1;
		}
		fputs("  ", f);
		pad(f, bs_state_label(x->state), c.state + 2);
		pad(f, chk, c.check + 2);
		pad(f, obs, c.observed + 2);
		fprintf(f, "%s\n", exp);
		free(chk);
		free(obs);
		free(exp);
		row_extra(x, 2 + c.state + 2, f);
	}
	return 0;
}

static void header(const struct bs_report *r, FILE *f)
{
	char *t = esc(r->title ? r->title : "backstop", 0), *s = r->subject ? esc(r->subject, 0) : NULL;
	char a[32], b[32];
	size_t i;

	fprintf(f, "%s%s%s: %s\n", t ? t : "?", s ? " - " : "", s ? s : "",
		bs_state_label(bs_report_overall(r)));
	free(t);
	free(s);
	bs_report_iso(r->start, a);
	bs_report_iso(r->end, b);
	if (a[0])
		fprintf(f, "  started %s%s%s\n", a, b[0] ? ", ended " : "", b);
	for (i = 0; i < r->nprops; i++) {
		char *k = esc(r->props[i].key, 0), *v = esc(r->props[i].value, 0);
		fprintf(f, "  %s: %s\n", k ? k : "?", v ? v : "?");
		free(k);
		free(v);
	}
}

static void summary(const struct bs_report *r, FILE *f)
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
	if (r->dropped)
		fprintf(f, " (%zu not listed)", r->dropped);
	fputc('\n', f);
}

int bs_report_write_text(const struct bs_report *r, FILE *f, unsigned flags)
{
	const char **groups;
	size_t n, i;
	int heading, rc = 0;

	if (bs_report_groups(r, &groups, &n) < 0)
		return -1;
	header(r, f);
	heading = n > 1 || (n == 1 && strcmp(groups[0], r->title ? r->title : "backstop") != 0);
	for (i = 0; i < n && rc == 0; i++)
		rc = group_table(r, groups[i], heading, flags, f);
	free(groups);
	summary(r, f);
	return rc < 0 || ferror(f) ? -1 : 0;
}
