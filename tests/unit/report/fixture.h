/*
 * fixture.h - a report for the writer tests: every state, two groups, and a
 * hostile string in every field a writer prints.
 */
#ifndef BS_TEST_REPORT_FIXTURE_H
#define BS_TEST_REPORT_FIXTURE_H

#include <stdlib.h>

#include "report/report.h"

/* Control characters (ESC, BEL, DEL, CR), CDATA end, markup, quotes, pipes,
 * newlines, invalid UTF-8 (lone continuation, truncated sequence, overlong,
 * surrogate), U+FFFE, a bidi override, Markdown markup. */
static const char *const hostile[] = {
	"ctl \x01\x07 \x1b[31mred\x1b[0m del\x7f cr\r!",
	"cdata ]]> <tag a=\"x\">&amp; &#0; </testcase>",
	"quotes \"double\" 'single' `back`",
	"pipes a|b || c\nline two\r\nline three\ttab",
	"bad \xff\xfe \xc3\x28 \xc0\xaf \xed\xa0\x80 \xe2\x82 end",
	"nonchar \xef\xbf\xbe bidi \xe2\x80\xae evil",
	"**bold** _it_ [link](http://x) <script>alert(1)</script> \\ backslash",
};
#define NHOSTILE (sizeof(hostile) / sizeof(hostile[0]))

/* Valid UTF-8 with nothing XML 1.0 forbids: must round-trip exactly. */
static const char *const clean_hostile[] = {
	"cdata ]]> <tag a=\"x\">&amp; &#0; </testcase>",
	"quotes \"double\" 'single' `back`",
	"pipes a|b || c\nline two\r\nline three\ttab",
	"**bold** _it_ [link](http://x) <script>alert(1)</script> \\ backslash",
};
#define NCLEAN (sizeof(clean_hostile) / sizeof(clean_hostile[0]))

/* Fill r: 7 findings in group "gate go-live" (one per state, plus hostile
 * fields), then one per hostile string in a hostile group. */
static void fixture(struct bs_report *r)
{
	struct bs_measure m[2] = {
		{.name = "time", .value = 0.25, .unit = "s", .set = BS_MEASURE_WARN | BS_MEASURE_CRIT, .warn = 1, .crit = 2},
		{.name = "size|x'y\n", .value = 1024, .unit = "B\x1b", .set = BS_MEASURE_MIN, .min = 0},
	};
	struct bs_finding f = {.group = "gate go-live", .seconds = -1};
	size_t i;

	bs_report_init(r);
	bs_report_set_title(r, "gate check <go-live> | \x1b[2J", hostile[4]);
	r->start = 1795953600; /* 2026-11-29T12:00:00Z */
	r->end = 1795953660;
	bs_report_prop(r, "release", "api 1.4.2");
	bs_report_prop(r, hostile[1], hostile[0]);

	f.check = "backup.fresh", f.state = BS_STATE_OK, f.observed = "3 h", f.expected = "<= 24 h", f.seconds = 0.5;
	bs_report_add(r, &f);
	f.check = "drill.recent", f.state = BS_STATE_WARN, f.observed = "6 d", f.expected = "<= 7 d";
	f.measures = m, f.nmeasures = 2;
	bs_report_add(r, &f);
	f.measures = NULL, f.nmeasures = 0;
	f.check = "drill.passed", f.state = BS_STATE_FAIL, f.observed = "fail", f.expected = "pass";
	f.detail = "2 tables differ\npublic.accounts: row count";
	f.file = "policies/go-live.yaml", f.line = 12, f.column = 3;
	bs_report_add(r, &f);
	f.file = NULL, f.line = f.column = 0;
	f.check = "probe.api", f.state = BS_STATE_UNKNOWN, f.observed = NULL, f.expected = "200";
	f.detail = "connection refused";
	bs_report_add(r, &f);
	f.check = "tls.expiry", f.state = BS_STATE_SKIPPED, f.expected = NULL, f.detail = "no TLS endpoint";
	bs_report_add(r, &f);
	f.check = "approvals", f.state = BS_STATE_WAIVED, f.observed = "0", f.expected = ">= 2";
	f.detail = "waived by ops: hotfix";
	bs_report_add(r, &f);
	f.check = hostile[6], f.state = BS_STATE_FAIL, f.observed = hostile[0], f.expected = hostile[1];
	f.detail = hostile[3], f.file = hostile[4], f.line = 1;
	bs_report_add(r, &f);
	f.file = NULL, f.line = 0;
	for (i = 0; i < NHOSTILE; i++) {
		f.group = hostile[2];
		f.check = hostile[i];
		f.state = i % 2 ? BS_STATE_FAIL : BS_STATE_OK;
		f.observed = hostile[(i + 1) % NHOSTILE];
		f.expected = hostile[(i + 2) % NHOSTILE];
		f.detail = hostile[(i + 3) % NHOSTILE];
		bs_report_add(r, &f);
	}
}
/* fixture(): 7 + NHOSTILE findings: OK 1+4, WARN 1, FAIL 2+3, UNKNOWN 1, SKIPPED 1, WAIVED 1 */

/* Render with a writer into a malloc'd NUL-terminated buffer. */
typedef int (*writer_fn)(const struct bs_report *, FILE *, unsigned);
/* noinline: GCC takes open_memstream's &buf for a dangling pointer otherwise */
__attribute__((noinline)) static char *render(writer_fn w, const struct bs_report *r, unsigned flags, int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	*rc = w(r, f, flags);
	fclose(f);
	return buf;
}

#endif
