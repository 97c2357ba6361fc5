/* nagios.c - the report as monitoring-plugin output (see report.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/escape.h"
#include "report/report.h"
#include "report/report_int.h"

#define STATUS_MAX 1024 /* bytes of findings in the first line */

int bs_report_nagios_code(const struct bs_report *r)
{
	switch (bs_report_overall(r)) {
	case BS_STATE_OK:
		return 0;
	case BS_STATE_WARN:
		return 1;
	case BS_STATE_FAIL:
		return 2;
	default:
		return 3;
	}
}

static const char *nagios_word(enum bs_state s)
{
	return s == BS_STATE_OK	    ? "OK"
	       : s == BS_STATE_WARN ? "WARNING"
	       : s == BS_STATE_FAIL ? "CRITICAL"
				    : "UNKNOWN";
}

/* Plugin text: terminal-escaped, on one line ('|' would start perfdata, a
 * newline the long output: both become safe characters). */
static void plain(FILE *f, const char *s, size_t max)
{
	size_t n = 4 * strlen(s ? s : "") + 8;
	char *b = malloc(n < max + 8 ? n : max + 8), *p;

	if (!b)
		return;
	bs_escape_term(b, n < max + 8 ? n : max + 8, s, 0);
	for (p = b; *p; p++)
		if (*p == '|')
			*p = '/';
	fputs(b, f);
	free(b);
}

static int unit_ok(const char *u)
{
	static const char *const units[] = {"", "s", "ms", "us", "%", "B", "KB", "MB", "GB", "TB", "c", NULL};
	const char *const *p;

	for (p = units; *p; p++)
		if (strcmp(u, *p) == 0)
			return 1;
	return 0;
}

/* A perfdata number: digits, '-', '.', never an exponent; "U" when unknown. */
static void number(FILE *f, double v)
{
	char b[64];
	size_t n;

	if (!isfinite(v) || fabs(v) >= 1e15) {
		fputc('U', f);
		return;
	}
	snprintf(b, sizeof(b), "%.6f", v);
	n = strlen(b);
	while (n > 1 && b[n - 1] == '0')
		b[--n] = '\0';
	if (b[n - 1] == '.')
		b[--n] = '\0';
	fputs(strcmp(b, "-0") == 0 ? "0" : b, f);
}

/* 'label'=value[unit];warn;crit;min;max - the label quoted, a quote doubled,
 * '=', '|' and control characters as '_' (they would end the label or the
 * perfdata). */
static void perf(FILE *f, const struct bs_measure *m)
{
	const char *u = m->unit ? m->unit : "";
	char *label = bs_report_utf8_clean(m->name), *p;

	if (!label)
		return;
	fputs(" '", f);
	for (p = label; *p; p++) {
		if (*p == '\'')
			fputs("''", f);
		else if (*p == '=' || *p == '|' || (unsigned char)*p < 0x20 || *p == 0x7f)
			fputc('_', f);
		else
			fputc(*p, f);
	}
	free(label);
	fputs("'=", f);
	number(f, m->value);
	if (unit_ok(u))
		fputs(u, f);
	fputc(';', f);
	if (m->set & BS_MEASURE_WARN)
		number(f, m->warn);
	fputc(';', f);
	if (m->set & BS_MEASURE_CRIT)
		number(f, m->crit);
	fputc(';', f);
	if (m->set & BS_MEASURE_MIN)
		number(f, m->min);
	fputc(';', f);
	if (m->set & BS_MEASURE_MAX)
		number(f, m->max);
}

/* "check: summary" of the worst findings first, up to STATUS_MAX bytes. */
static void status_text(const struct bs_report *r, FILE *f)
{
	static const enum bs_state order[] = {BS_STATE_FAIL, BS_STATE_UNKNOWN, BS_STATE_WARN};
	size_t i, k, shown = 0, used = 0;

	for (k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		for (i = 0; i < r->nfindings; i++) {
			const struct bs_finding *x = &r->findings[i];
			char *sum;
			if (x->state != order[k])
				continue;
			if (used >= STATUS_MAX) {
				shown++;
				continue;
			}
			sum = bs_report_summary(x);
			fputs(shown++ ? "; " : ": ", f);
			plain(f, x->check, 120);
			fputc(' ', f);
			plain(f, sum, 240);
			used += strlen(x->check) + (sum ? strlen(sum) : 0);
			free(sum);
		}
	}
}

int bs_report_write_nagios(const struct bs_report *r, FILE *f, unsigned flags)
{
	enum bs_state st = bs_report_overall(r);
	size_t i, j, total = 0, bad;

	for (i = 0; i < BS_STATE_COUNT; i++)
		total += r->counts[i];
	bad = r->counts[BS_STATE_FAIL] + r->counts[BS_STATE_UNKNOWN] + r->counts[BS_STATE_WARN];
	plain(f, r->title ? r->title : "backstop", 120);
	fprintf(f, " %s - ", nagios_word(st));
	if (bad)
		fprintf(f, "%zu of %zu checks not ok", bad, total);
	else
		fprintf(f, "%zu check%s ok", total, total == 1 ? "" : "s");
	status_text(r, f);
	fputs(" |", f);
	for (i = 0; i < r->nfindings; i++)
		for (j = 0; j < r->findings[i].nmeasures; j++)
			perf(f, &r->findings[i].measures[j]);
	fputc('\n', f);
	for (i = 0; i < r->nfindings; i++) {
		const struct bs_finding *x = &r->findings[i];
		char *sum;
		if (!bs_report_shown(x, flags))
			continue;
		sum = bs_report_summary(x);
		if (x->state == BS_STATE_SKIPPED || x->state == BS_STATE_WAIVED)
			fprintf(f, "OK (%s) ", bs_state_name(x->state));
		else
			fprintf(f, "%s ", nagios_word(x->state));
		plain(f, x->check, 200);
		fputs(": ", f);
		plain(f, sum, 1000);
		fputc('\n', f);
		free(sum);
	}
	return ferror(f) ? -1 : 0;
}
