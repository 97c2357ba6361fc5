/* github.c - the report as GitHub Actions workflow commands (see report.h). */
#include <stdlib.h>
#include <string.h>

#include "common/escape.h"
#include "report/report.h"
#include "report/report_int.h"

/* Terminal-escape s (ESC would colour the log), then percent-encode what a
 * workflow command cannot carry: '%', CR and LF everywhere (so no string
 * can start a command of its own on a new line), and in properties also
 * ':' and ','. */
static int put(FILE *f, const char *s, int property)
{
	size_t n = 4 * strlen(s ? s : "") + 8;
	char *b = malloc(n), *p;

	if (!b)
		return -1;
	bs_escape_term(b, n, s, BS_ESC_KEEP_NL);
	for (p = b; *p; p++) {
		if (*p == '%')
			fputs("%25", f);
		else if (*p == '\n')
			fputs("%0A", f);
		else if (*p == '\t')
			fputc(' ', f);
		else if (property && *p == ':')
			fputs("%3A", f);
		else if (property && *p == ',')
			fputs("%2C", f);
		else
			fputc(*p, f);
	}
	free(b);
	return 0;
}

static const char *command(enum bs_state s, unsigned flags)
{
	switch (s) {
	case BS_STATE_FAIL:
	case BS_STATE_UNKNOWN:
		return "error";
	case BS_STATE_WARN:
		return flags & BS_REPORT_WARN_FAILS ? "error" : "warning";
	case BS_STATE_WAIVED:
		return "notice";
	default:
		return NULL;
	}
}

int bs_report_write_github(const struct bs_report *r, FILE *f, unsigned flags)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < r->nfindings && rc == 0; i++) {
		const struct bs_finding *x = &r->findings[i];
		const char *cmd = command(x->state, flags);
		char *sum, title[32];

		if (!cmd)
			continue;
		sum = bs_report_summary(x);
		if (!sum)
			return -1;
		fprintf(f, "::%s ", cmd);
		if (x->file) {
			fputs("file=", f);
			rc |= put(f, x->file, 1);
			if (x->line)
				fprintf(f, ",line=%u", x->line);
			if (x->line && x->column)
				fprintf(f, ",col=%u", x->column);
			fputc(',', f);
		}
		fputs("title=", f);
		rc |= put(f, bs_report_group_of(r, x), 1);
		snprintf(title, sizeof(title), " %s ", bs_state_label(x->state));
		rc |= put(f, title, 1);
		rc |= put(f, x->check, 1);
		fputs("::", f);
		rc |= put(f, sum, 0);
		fputc('\n', f);
		free(sum);
	}
	if (rc == 0 && r->dropped)
		fprintf(f, "::%s title=backstop::%zu findings not listed\n",
			bs_report_passed(r, flags) ? "notice" : "error", r->dropped);
	return rc < 0 || ferror(f) ? -1 : 0;
}
