/* report_test.c - lib/drill/report.c and record.c: findings, verdicts, XML
 * escaping, JUnit, text, the record JSON and reading it back. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "drill/drill.h"
#include "report/report.h"
#include "harness.h"

static char *render_escape(const char *in)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	bs_report_xml_escape(f, in);
	fclose(f);
	return buf;
}

TEST(xml_escape_specials)
{
	char *s = render_escape("a<b>&\"c\"'d'");
	CHECK_STR(s, "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;");
	free(s);
}

TEST(xml_escape_whitespace_and_controls)
{
	char *s = render_escape("x\ty\nz\r\x01\x1f end");
	CHECK_STR(s, "x&#9;y&#10;z&#13;\xEF\xBF\xBD\xEF\xBF\xBD end");
	free(s);
}

TEST(xml_escape_utf8)
{
	char *s;

	s = render_escape("Odd Schema \xC3\xBC \xE2\x82\xAC \xF0\x9F\x98\x80");
	CHECK_STR(s, "Odd Schema \xC3\xBC \xE2\x82\xAC \xF0\x9F\x98\x80");
	free(s);
	/* invalid: lone continuation, truncated sequence, overlong, surrogate, U+FFFE */
	s = render_escape("a\x80" "b\xC3" "c\xC0\xAF" "d\xED\xA0\x80" "e\xEF\xBF\xBE" "f");
	CHECK_STR(s, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c\xEF\xBF\xBD\xEF\xBF\xBD" "d\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
		     "e\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" "f");
	free(s);
	s = render_escape(NULL);
	CHECK_STR(s, "");
	free(s);
}

static void fill(struct bs_drill_report *r)
{
	struct bs_manifest m;
	const char *cols[] = { "id" };

	bs_manifest_init(&m);
	bs_manifest_add_table(&m, 1, "public", "accounts", cols, 1)->rows = 100;
	bs_manifest_add_table(&m, 2, "public", "a<b>&\"c\"", cols, 1)->rows = 3;
	bs_drill_report_init(r, BS_DRILL_FULL);
	snprintf(r->id, sizeof(r->id), "20261124T101500Z-a1b2c3");
	snprintf(r->snapshot, sizeof(r->snapshot), "20261123T021500Z-3fa9c1");
	r->database = strdup("app");
	r->start = 1795515300; /* 2026-11-24T10:15:00Z */
	r->end = r->start + 72;
	r->snapshot_start = 1795400100;
	r->rto_ms = 72000;
	r->rpo_ms = (int64_t)(r->start - r->snapshot_start) * 1000;
	r->max_rto_ms = 15 * 60000;
	snprintf(r->scratch_db, sizeof(r->scratch_db), "backstop_drill_20261124101500_a1b2c3");
	r->scratch_server = strdup("/tmp/sock:5432");
	bs_drill_report_tables(r, &m);
	r->tables[0].checked = 1;
	r->tables[0].ok = 1;
	r->tables[0].rows_actual = 100;
	r->tables[1].checked = 1;
	r->tables[1].rows_actual = 2;
	bs_manifest_release(&m);
}

TEST(verdicts)
{
	struct bs_drill_report r;

	fill(&r);
	CHECK_STR(bs_drill_verdict(&r), "pass");
	CHECK_INT(bs_drill_exit_code(&r), 0);
	CHECK_INT(bs_drill_report_add(&r, BS_DRILL_AREA_TABLE, "public.a<b>&\"c\"", "%d rows, the snapshot has %d", 2, 3), 0);
	CHECK_STR(bs_drill_verdict(&r), "fail");
	CHECK_INT(bs_drill_exit_code(&r), 1);
	r.could_not_run = 1;
	CHECK_STR(bs_drill_verdict(&r), "error");
	CHECK_INT(bs_drill_exit_code(&r), 3);
	bs_drill_report_release(&r);
}

TEST(findings_are_bounded)
{
	struct bs_drill_report r;
	int i;

	bs_drill_report_init(&r, BS_DRILL_ARCHIVE);
	for (i = 0; i < BS_DRILL_FINDINGS_MAX + 50; i++)
		CHECK_INT(bs_drill_report_add(&r, BS_DRILL_AREA_ARCHIVE, NULL, "finding %d", i), 0);
	CHECK_INT(r.nfindings, BS_DRILL_FINDINGS_MAX);
	CHECK_INT(r.findings_total, BS_DRILL_FINDINGS_MAX + 50);
	bs_drill_report_release(&r);
}

static char *junit_of(const struct bs_drill_report *r)
{
	const struct bs_drill_report *v[1] = { r };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CHECK_INT(bs_drill_junit(v, 1, f), 0);
	fclose(f);
	return buf;
}

TEST(junit_pass)
{
	struct bs_drill_report r;
	char *x;

	fill(&r);
	r.tables[1].rows_actual = 3;
	r.tables[1].ok = 1;
	x = junit_of(&r);
	CHECK(strstr(x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites") == x);
	CHECK(strstr(x, "tests=\"9\" failures=\"0\" errors=\"0\" skipped=\"1\"") != NULL);
	CHECK(strstr(x, "name=\"public.accounts\"") != NULL);
	CHECK(strstr(x, "name=\"public.a&lt;b&gt;&amp;&quot;c&quot;\"") != NULL);
	CHECK(strstr(x, "<property name=\"rto_ms\" value=\"72000\"/>") != NULL);
	CHECK(strstr(x, "<failure") == NULL);
	CHECK(strstr(x, "</testsuites>\n") != NULL);
	free(x);
	bs_drill_report_release(&r);
}

TEST(junit_failures_per_table)
{
	struct bs_drill_report r;
	char *x, *tc;

	fill(&r);
	bs_drill_report_add(&r, BS_DRILL_AREA_TABLE, "public.a<b>&\"c\"", "2 rows, the snapshot has 3 (1 missing)");
	bs_drill_report_add(&r, BS_DRILL_AREA_SCHEMA, "index public.accounts_email_idx", "missing in the restored database");
	bs_drill_report_add(&r, BS_DRILL_AREA_LIMIT, "max_rto", "RTO 20m00s exceeds the limit of 15m00s");
	x = junit_of(&r);
	CHECK(strstr(x, "failures=\"3\"") != NULL);
	tc = strstr(x, "name=\"public.a&lt;b&gt;&amp;&quot;c&quot;\"");
	CHECK(tc != NULL);
	CHECK(tc && strstr(tc, "<failure message=\"2 rows, the snapshot has 3 (1 missing)\" type=\"table\">") != NULL);
	CHECK(strstr(x, "index public.accounts_email_idx: missing in the restored database") != NULL);
	CHECK(strstr(x, "name=\"max_rto\" time=\"0.000\">\n      <failure message=\"RTO 20m00s") != NULL);
	/* the accounts case passes */
	CHECK(strstr(x, "name=\"public.accounts\" time=\"0.000\"/>") != NULL);
	free(x);
	bs_drill_report_release(&r);
}

TEST(junit_could_not_run)
{
	struct bs_drill_report r;
	char *x;

	fill(&r);
	r.could_not_run = 1;
	bs_err_set(&r.error, BS_ERR_PG_CONNECT, "unable to connect to database 'postgres': <refused>");
	x = junit_of(&r);
	CHECK(strstr(x, "errors=\"1\"") != NULL);
	CHECK(strstr(x, "<error message=\"unable to connect to database &apos;postgres&apos;: &lt;refused&gt;\"") != NULL);
	free(x);
	bs_drill_report_release(&r);
}

TEST(junit_unlisted_findings_still_fail)
{
	struct bs_drill_report r;
	char *x;
	int i;

	fill(&r);
	for (i = 0; i < BS_DRILL_FINDINGS_MAX + 7; i++)
		bs_drill_report_add(&r, BS_DRILL_AREA_SCHEMA, "index public.i", "finding %d", i);
	x = junit_of(&r);
	/* every kept finding is its own failing case of "schema", naming its object */
	CHECK(strstr(x, "name=\"schema\" time=\"0.000\">\n      <failure message=\"index public.i: finding 0\" type=\"schema\">") != NULL);
	CHECK(strstr(x, "<property name=\"findings_not_listed\" value=\"7\"/>") != NULL);
	CHECK(strstr(x, "<failure message=\"7 more findings (the report keeps the first") != NULL);
	free(x);
	bs_drill_report_release(&r);
}

TEST(text_report)
{
	struct bs_drill_report r;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	fill(&r);
	r.t_schema = 2.0;
	r.t_data = 40.2;
	bs_drill_report_add(&r, BS_DRILL_AREA_SEQUENCE, "public.accounts_id_seq", "last_value 5 (is_called true), the snapshot has 100000 (is_called true)");
	f = open_memstream(&buf, &len);
	CHECK_INT(bs_drill_report_text(&r, f), 0);
	fclose(f);
	CHECK(strstr(buf, "drill 20261124T101500Z-a1b2c3 of snapshot 20261123T021500Z-3fa9c1 (database 'app'): FAIL\n") == buf);
	CHECK(strstr(buf, "  scratch      backstop_drill_20261124101500_a1b2c3 on /tmp/sock:5432 (dropped)\n") != NULL);
	CHECK(strstr(buf, "  RTO          1m12s = setup 0.0s + schema 2.0s + data 40.2s") != NULL);
	CHECK(strstr(buf, "  RPO          32h00m (age of the snapshot at drill time)\n") != NULL);
	CHECK(strstr(buf, "  limits       max_rto 15m00s ok\n") != NULL);
	CHECK(strstr(buf, "findings (1):\n  - sequence public.accounts_id_seq: last_value 5") != NULL);
	free(buf);
	bs_drill_report_release(&r);
}

/* names from the database reach the text report escaped: no control byte */
TEST(text_report_escapes_names)
{
	struct bs_drill_report r;
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f;

	fill(&r);
	free(r.database);
	r.database = strdup("app\x1b[31m\nfake");
	bs_drill_report_add(&r, BS_DRILL_AREA_TABLE, "public.evil\x1b]0;pwned\a\nx",
			    "rows differ in \"evil\x1b[2J\xc2\x9b\"");
	f = open_memstream(&buf, &len);
	CHECK_INT(bs_drill_report_text(&r, f), 0);
	fclose(f);
	for (i = 0; i < len; i++)
		if ((unsigned char)buf[i] < 0x20 && buf[i] != '\n')
			break;
	CHECK(i == len);
	CHECK(strstr(buf, "\xc2\x9b") == NULL);
	CHECK(strstr(buf, "(database 'app\\x1b[31m\\x0afake')") != NULL);
	CHECK(strstr(buf, "  - table public.evil\\x1b]0;pwned\\x07\\x0ax: rows differ in \"evil\\x1b[2J\\xc2\\x9b\"\n") != NULL);
	free(buf);
	bs_drill_report_release(&r);
}

TEST(record_json_and_back)
{
	struct bs_drill_report r;
	struct bs_drill_summary s;
	struct bs_err err;
	char *buf = NULL;
	size_t len;
	json_t *o, *tm;

	fill(&r);
	bs_drill_report_add(&r, BS_DRILL_AREA_TABLE, "public.a<b>&\"c\"", "2 rows, the snapshot has 3 (1 missing)");
	bs_err_init(&err);
	CHECK_INT(bs_drill_record_json(&r, &buf, &len, &err), 0);
	o = json_loadb(buf, len, 0, NULL);
	CHECK(o != NULL);
	CHECK_STR(json_string_value(json_object_get(o, "format")), "backstop-drill-record");
	CHECK_STR(json_string_value(json_object_get(o, "verdict")), "fail");
	CHECK_STR(json_string_value(json_object_get(o, "start")), "2026-11-24T10:15:00Z");
	CHECK_INT(json_integer_value(json_object_get(o, "rto_ms")), 72000);
	CHECK_INT(json_integer_value(json_object_get(json_object_get(o, "limits"), "max_rto_ms")), 900000);
	CHECK(json_is_null(json_object_get(json_object_get(o, "limits"), "max_snapshot_age_ms")));
	tm = json_object_get(o, "table_mismatches");
	CHECK_INT(json_array_size(tm), 1); /* only the table that differs */
	CHECK_STR(json_string_value(json_object_get(json_array_get(tm, 0), "table")), "public.a<b>&\"c\"");
	CHECK_INT(json_integer_value(json_object_get(json_array_get(tm, 0), "rows_actual")), 2);
	CHECK(json_object_get(o, "tables") == NULL);
	CHECK_STR(json_string_value(json_object_get(o, "tool_version")), BS_VERSION);
	json_decref(o);

	CHECK_INT(bs_drill_summary_parse(&s, buf, len, &err), 0);
	CHECK_STR(s.id, "20261124T101500Z-a1b2c3");
	CHECK_STR(s.snapshot, "20261123T021500Z-3fa9c1");
	CHECK_STR(s.verdict, "fail");
	CHECK_STR(s.mode, "full");
	CHECK_STR(s.database, "app");
	CHECK_INT(s.start, 1795515300);
	CHECK_INT(s.rto_ms, 72000);
	CHECK_INT(s.findings, 1);
	bs_drill_summary_release(&s);
	free(buf);

	/* the full form (--json) lists every table */
	o = bs_drill_report_json(&r);
	CHECK_INT(json_array_size(json_object_get(o, "tables")), 2);
	json_decref(o);
	bs_drill_report_release(&r);
}

TEST(summary_rejects)
{
	struct bs_drill_summary s;
	struct bs_err err;

	bs_err_init(&err);
	CHECK_INT(bs_drill_summary_parse(&s, "{", 1, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK_INT(bs_drill_summary_parse(&s, "{\"id\":\"x\"}", 10, &err), -1);
	CHECK(strstr(err.msg, "lacks") != NULL);
	/* the minimum catalog.c reads: id, verdict, start */
	{
		const char *min = "{\"id\":\"d\",\"verdict\":\"pass\",\"start\":\"2026-01-01T00:00:00Z\"}";
		CHECK_INT(bs_drill_summary_parse(&s, min, strlen(min), &err), 0);
	}
	CHECK_INT(s.rto_ms, -1);
	bs_drill_summary_release(&s);
}

int main(void)
{
	RUN(xml_escape_specials);
	RUN(xml_escape_whitespace_and_controls);
	RUN(xml_escape_utf8);
	RUN(verdicts);
	RUN(findings_are_bounded);
	RUN(junit_pass);
	RUN(junit_failures_per_table);
	RUN(junit_could_not_run);
	RUN(junit_unlisted_findings_still_fail);
	RUN(text_report);
	RUN(text_report_escapes_names);
	RUN(record_json_and_back);
	RUN(summary_rejects);
	return DONE();
}
