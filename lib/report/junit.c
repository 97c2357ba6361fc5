/* junit.c - the report as JUnit XML, and XML escaping (see report.h). */
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "report/report_int.h"

/* 1 when XML 1.0 may carry code point cp. */
static int xml_char(uint32_t cp)
{
	if (cp < 0x20)
		return cp == '\t' || cp == '\n' || cp == '\r';
	return cp != 0xFFFE && cp != 0xFFFF;
}

void bs_report_xml_escape(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");

	while (*s) {
		uint32_t cp;
		size_t n = bs_utf8_seq(s, &cp);

		if (n == 0 || !xml_char(cp)) {
			/* U+FFFD for each byte, as drill/report.c's escaper did */
			fputs("\xEF\xBF\xBD", f);
			s++;
			continue;
		}
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f); /* also keeps "]]>" out of content */
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&apos;", f);
			break;
		case '\n':
			fputs("&#10;", f); /* kept in attributes, where a raw one is normalised away */
			break;
		case '\r':
			fputs("&#13;", f);
			break;
		case '\t':
			fputs("&#9;", f);
			break;
		default:
			fwrite(s, 1, n, f);
		}
		s += n;
	}
}

struct tally {
	size_t tests, failures, errors, skipped;
	double seconds;
};

static int is_failure(const struct bs_finding *x, unsigned flags)
{
	return x->state == BS_STATE_FAIL || (x->state == BS_STATE_WARN && (flags & BS_REPORT_WARN_FAILS));
}

static void count(const struct bs_finding *x, unsigned flags, struct tally *t)
{
	t->tests++;
	if (is_failure(x, flags))
		t->failures++;
	else if (x->state == BS_STATE_UNKNOWN)
		t->errors++;
	else if (x->state == BS_STATE_SKIPPED)
		t->skipped++;
	if (x->seconds > 0)
		t->seconds += x->seconds;
}

static void attr(FILE *f, const char *name, const char *value)
{
	fprintf(f, " %s=\"", name);
	bs_report_xml_escape(f, value);
	fputc('"', f);
}

static void tally_attrs(FILE *f, const struct tally *t)
{
	fprintf(f, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\"", t->tests,
		t->failures, t->errors, t->skipped, t->seconds);
}

/* The body of <failure>/<error>/<system-out>: observed, expected, detail, measurements. */
static void body(const struct bs_finding *x, FILE *f)
{
	size_t i;

	if (x->observed) {
		fputs("observed: ", f);
		bs_report_xml_escape(f, x->observed);
		fputc('\n', f);
	}
	if (x->expected) {
		fputs("expected: ", f);
		bs_report_xml_escape(f, x->expected);
		fputc('\n', f);
	}
	if (x->detail) {
		bs_report_xml_escape(f, x->detail);
		fputc('\n', f);
	}
	for (i = 0; i < x->nmeasures; i++) {
		bs_report_xml_escape(f, x->measures[i].name);
		fprintf(f, "=%g", x->measures[i].value);
		bs_report_xml_escape(f, x->measures[i].unit);
		fputc('\n', f);
	}
	if (x->file) {
		fputs("at ", f);
		bs_report_xml_escape(f, x->file);
		if (x->line)
			fprintf(f, ":%u", x->line);
		fputc('\n', f);
	}
}

static int testcase(const struct bs_report *r, const struct bs_finding *x, unsigned flags, FILE *f)
{
	char *sum = bs_report_summary(x);
	const char *elem = NULL;

	if (!sum)
		return -1;
	fputs("    <testcase", f);
	attr(f, "classname", bs_report_group_of(r, x));
	attr(f, "name", x->check);
	fprintf(f, " time=\"%.3f\"", x->seconds > 0 ? x->seconds : 0.0);
	if (x->state == BS_STATE_OK && !x->observed && !x->detail && !x->nmeasures && !x->file) {
		fputs("/>\n", f); /* a pass with nothing to say */
		free(sum);
		return 0;
	}
	fputs(">\n", f);
	if (is_failure(x, flags))
		elem = "failure";
	else if (x->state == BS_STATE_UNKNOWN)
		elem = "error";
	if (elem) {
		fprintf(f, "      <%s", elem);
		attr(f, "message", sum);
		attr(f, "type", x->category ? x->category : bs_state_name(x->state));
		fputs(">", f);
		body(x, f);
		fprintf(f, "</%s>\n", elem);
	} else if (x->state == BS_STATE_SKIPPED) {
		fputs("      <skipped", f);
		attr(f, "message", x->detail ? x->detail : "skipped");
		fputs("/>\n", f);
	} else if (x->state != BS_STATE_OK || x->observed || x->detail || x->nmeasures) {
		/* OK, WARN (not failing) and WAIVED: passing, with what was seen */
		fprintf(f, "      <system-out>%s",
			x->state == BS_STATE_WAIVED ? "waived: a failure accepted by approval\n"
			: x->state == BS_STATE_WARN ? "warning\n"
						    : "");
		body(x, f);
		fputs("</system-out>\n", f);
	}
	fputs("    </testcase>\n", f);
	free(sum);
	return 0;
}

static void properties(const struct bs_report *r, FILE *f)
{
	size_t i;

	fputs("    <properties>\n", f);
	fprintf(f, "      <property name=\"state\" value=\"%s\"/>\n", bs_state_name(bs_report_overall(r)));
	if (r->subject) {
		fputs("      <property name=\"subject\"", f);
		attr(f, "value", r->subject);
		fputs("/>\n", f);
	}
	for (i = 0; i < r->nprops; i++) {
		fputs("      <property", f);
		attr(f, "name", r->props[i].key);
		attr(f, "value", r->props[i].value);
		fputs("/>\n", f);
	}
	fputs("    </properties>\n", f);
}

static int suite(const struct bs_report *r, const char *group, unsigned flags, FILE *f)
{
	struct tally t = {0, 0, 0, 0, 0};
	char ts[32];
	size_t i;

	for (i = 0; i < r->nfindings; i++)
		if (strcmp(bs_report_group_of(r, &r->findings[i]), group) == 0)
			count(&r->findings[i], flags, &t);
	bs_report_iso(r->start, ts);
	fputs("  <testsuite", f);
	attr(f, "name", group);
	tally_attrs(f, &t);
	if (ts[0])
		fprintf(f, " timestamp=\"%.19s\"", ts); /* JUnit's schema has no zone: UTC */
	fputs(">\n", f);
	properties(r, f);
	for (i = 0; i < r->nfindings; i++)
		if (strcmp(bs_report_group_of(r, &r->findings[i]), group) == 0 &&
		    testcase(r, &r->findings[i], flags, f) < 0)
			return -1;
	fputs("  </testsuite>\n", f);
	return 0;
}

/* Findings past max_findings are not listed; one test case stands for them
 * so that a dropped failure still fails the build: failing when any of them
 * failed, an error when any was unknown, else passing. */
static enum bs_state dropped_state(const struct bs_report *r, const size_t stored[BS_STATE_COUNT],
				   unsigned flags)
{
	if (r->counts[BS_STATE_FAIL] > stored[BS_STATE_FAIL] ||
	    ((flags & BS_REPORT_WARN_FAILS) && r->counts[BS_STATE_WARN] > stored[BS_STATE_WARN]))
		return BS_STATE_FAIL;
	return r->counts[BS_STATE_UNKNOWN] > stored[BS_STATE_UNKNOWN] ? BS_STATE_UNKNOWN : BS_STATE_OK;
}

static void dropped_suite(const struct bs_report *r, enum bs_state st, FILE *f)
{
	fprintf(f,
		"  <testsuite name=\"not listed\" tests=\"1\" failures=\"%d\" errors=\"%d\" skipped=\"0\" "
		"time=\"0.000\">\n    <testcase classname=\"not listed\" name=\"findings not listed\" "
		"time=\"0.000\">\n",
		st == BS_STATE_FAIL, st == BS_STATE_UNKNOWN);
	if (st != BS_STATE_OK)
		fprintf(f, "      <%s message=\"%zu findings not listed, some %s\" type=\"%s\"/>\n",
			st == BS_STATE_FAIL ? "failure" : "error", r->dropped,
			st == BS_STATE_FAIL ? "failed" : "unknown", bs_state_name(st));
	fputs("    </testcase>\n  </testsuite>\n", f);
}

/* Add r's test cases to *all; stored[] gets the states of its stored findings. */
static void report_tally(const struct bs_report *r, unsigned flags, struct tally *all,
			 size_t stored[BS_STATE_COUNT])
{
	size_t i;

	memset(stored, 0, BS_STATE_COUNT * sizeof(stored[0]));
	for (i = 0; i < r->nfindings; i++) {
		count(&r->findings[i], flags, all);
		stored[r->findings[i].state]++;
	}
	if (r->dropped) {
		struct bs_finding d = {.state = dropped_state(r, stored, flags)};
		count(&d, 0, all);
	}
}

/* r's suites: one per group, then the one standing for unlisted findings. */
static int report_suites(const struct bs_report *r, unsigned flags, FILE *f)
{
	size_t stored[BS_STATE_COUNT];
	struct tally ignored = {0, 0, 0, 0, 0};
	const char **groups;
	size_t n, i;
	int rc = 0;

	if (bs_report_groups(r, &groups, &n) < 0)
		return -1;
	for (i = 0; i < n && rc == 0; i++)
		rc = suite(r, groups[i], flags, f);
	free(groups);
	if (rc == 0 && r->dropped) {
		report_tally(r, flags, &ignored, stored);
		dropped_suite(r, dropped_state(r, stored, flags), f);
	}
	return rc;
}

int bs_report_write_junit_all(const struct bs_report *const *r, size_t n, const char *name, FILE *f,
			      unsigned flags)
{
	struct tally all = {0, 0, 0, 0, 0};
	size_t stored[BS_STATE_COUNT];
	size_t i;
	int rc = 0;

	for (i = 0; i < n; i++)
		report_tally(r[i], flags, &all, stored);
	if (!name)
		name = n && r[0]->title ? r[0]->title : "backstop";
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites", f);
	attr(f, "name", name);
	tally_attrs(f, &all);
	fputs(">\n", f);
	for (i = 0; i < n && rc == 0; i++)
		rc = report_suites(r[i], flags, f);
	fputs("</testsuites>\n", f);
	return rc < 0 || ferror(f) ? -1 : 0;
}

int bs_report_write_junit(const struct bs_report *r, FILE *f, unsigned flags)
{
	return bs_report_write_junit_all(&r, 1, NULL, f, flags);
}
