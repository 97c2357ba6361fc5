/*
 * report.c - the drill report: findings, verdict, and its renderings as
 * human text, JSON (record.c builds the object) and JUnit XML.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/escape.h"
#include "common/human.h"
#include "drill/drill.h"
#include "report/report.h"
#include "drill/drill_int.h"

void bs_drill_report_init(struct bs_drill_report *r, enum bs_drill_mode mode)
{
	memset(r, 0, sizeof(*r));
	r->mode = mode;
	r->rto_ms = -1;
	r->rpo_ms = -1;
	bs_err_init(&r->error);
}

void bs_drill_report_release(struct bs_drill_report *r)
{
	size_t i;

	if (!r)
		return;
	free(r->database);
	free(r->scratch_server);
	for (i = 0; i < r->ntables; i++) {
		free(r->tables[i].schema);
		free(r->tables[i].name);
	}
	free(r->tables);
	for (i = 0; i < r->nsmoke; i++) {
		free(r->smoke[i].name);
		free(r->smoke[i].detail);
	}
	free(r->smoke);
	for (i = 0; i < r->nfindings; i++) {
		free(r->findings[i].object);
		free(r->findings[i].message);
	}
	free(r->findings);
	bs_drill_report_init(r, r->mode);
}

int bs_drill_report_add(struct bs_drill_report *r, const char *area, const char *object, const char *fmt,
			...)
{
	struct bs_drill_finding *f;
	char msg[1024];
	va_list ap;

	r->findings_total++;
	if (r->nfindings >= BS_DRILL_FINDINGS_MAX)
		return 0;
	if (r->nfindings == r->findings_cap) {
		size_t cap = r->findings_cap ? r->findings_cap * 2 : 16;
		struct bs_drill_finding *nf = realloc(r->findings, cap * sizeof(*nf));
		if (!nf)
			return -1;
		r->findings = nf;
		r->findings_cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	f = &r->findings[r->nfindings];
	f->area = area;
	f->object = object ? strdup(object) : NULL;
	f->message = strdup(msg);
	if (!f->message || (object && !f->object)) {
		free(f->object);
		free(f->message);
		return -1;
	}
	r->nfindings++;
	return 0;
}

int bs_drill_report_tables(struct bs_drill_report *r, const struct bs_manifest *m)
{
	size_t i;

	if (r->tables)
		return 0;
	r->tables = calloc(m->ntables ? m->ntables : 1, sizeof(*r->tables));
	if (!r->tables)
		return -1;
	for (i = 0; i < m->ntables; i++) {
		struct bs_drill_table *t = &r->tables[i];
		t->schema = strdup(m->tables[i].schema);
		t->name = strdup(m->tables[i].name);
		r->ntables++;
		if (!t->schema || !t->name)
			return -1;
		t->rows_expected = m->tables[i].rows;
		t->expected = m->tables[i].digest;
	}
	return 0;
}

const char *bs_drill_verdict(const struct bs_drill_report *r)
{
	if (r->could_not_run)
		return "error";
	return r->findings_total ? "fail" : "pass";
}

const char *bs_drill_mode_name(enum bs_drill_mode m)
{
	switch (m) {
	case BS_DRILL_FULL:
		return "full";
	case BS_DRILL_ARCHIVE:
		return "archive-only";
	case BS_DRILL_REVERIFY:
		return "reverify";
	}
	return "?";
}

int bs_drill_exit_code(const struct bs_drill_report *r)
{
	if (r->could_not_run)
		return 3;
	return r->findings_total ? 1 : 0;
}

void bs_drill_qname(char *out, size_t n, const char *schema, const char *name)
{
	snprintf(out, n, "%s.%s", schema ? schema : "?", name ? name : "?");
}

static void fmt_s(double s, char *out, size_t n)
{
	bs_human_ms((int64_t)(s * 1000.0 + 0.5), out, n);
}

/* ---- text ---------------------------------------------------------------- */

static void text_limits(const struct bs_drill_report *r, FILE *f)
{
	char a[32], b[32];

	if (!r->max_rto_ms && !r->max_snapshot_age_ms)
		return;
	fprintf(f, "  limits       ");
	if (r->max_rto_ms) {
		bs_human_ms(r->max_rto_ms, a, sizeof(a));
		fprintf(f, "max_rto %s%s", a,
			r->rto_ms < 0 ? " (not measured)" : r->rto_ms > r->max_rto_ms ? " EXCEEDED" : " ok");
	}
	if (r->max_snapshot_age_ms) {
		bs_human_ms(r->max_snapshot_age_ms, b, sizeof(b));
		fprintf(f, "%smax_snapshot_age %s%s", r->max_rto_ms ? ", " : "", b,
			r->rpo_ms > r->max_snapshot_age_ms ? " EXCEEDED" : " ok");
	}
	fputc('\n', f);
}

int bs_drill_report_text(const struct bs_drill_report *r, FILE *f)
{
	char a[32], b[32], c[32], d[32], e[32], g[32], h[32], k[32];
	const char *verdict = bs_drill_verdict(r);
	size_t i, bad = 0;

	for (i = 0; i < r->ntables; i++)
		if (r->tables[i].checked && !r->tables[i].ok)
			bad++;
	if (r->mode == BS_DRILL_ARCHIVE)
		fprintf(f, "archive check of snapshot %s (database '%s'): %s\n", r->snapshot,
			r->database ? bs_esc(r->database) : "?", strcmp(verdict, "pass") == 0 ? "PASS"
							 : strcmp(verdict, "fail") == 0 ? "FAIL" : "ERROR");
	else
		fprintf(f, "drill %s of snapshot %s (database '%s'): %s\n", r->id, r->snapshot,
			r->database ? bs_esc(r->database) : "?", strcmp(verdict, "pass") == 0 ? "PASS"
							 : strcmp(verdict, "fail") == 0 ? "FAIL" : "ERROR");
	if (r->mode != BS_DRILL_ARCHIVE && r->scratch_db[0])
		fprintf(f, "  scratch      %s on %s (%s)\n", bs_esc(r->scratch_db),
			r->scratch_server ? bs_esc(r->scratch_server) : "?",
			r->kept ? "kept" : r->mode == BS_DRILL_REVERIFY ? "re-verified, dropped" : "dropped");
	if (r->mode == BS_DRILL_ARCHIVE) {
		bs_human_bytes(r->archive_bytes, a, sizeof(a));
		bs_human_bytes(r->raw_bytes, b, sizeof(b));
		fmt_s(r->t_total, c, sizeof(c));
		fprintf(f, "  checked      %" PRIu64 " members: %" PRIu64 " chunks with %" PRIu64
			   " rows in %zu tables (%zu differ), %" PRIu64 " large objects; %s read, %s "
			   "uncompressed, in %s\n",
			r->members, r->chunks, r->rows, r->ntables, bad, r->blobs, a, b, c);
	} else {
		fprintf(f, "  checked      %zu tables (%zu differ) with %" PRIu64 " rows, %" PRIu64
			   " sequences, %" PRIu64 " large objects, %" PRIu64 " schema objects, %zu smoke "
			   "queries\n",
			r->ntables, bad, r->rows, r->sequences, r->blobs, r->schema_objects, r->nsmoke);
		if (r->rto_ms >= 0) {
			bs_human_ms(r->rto_ms, a, sizeof(a));
			fmt_s(r->t_setup, b, sizeof(b));
			fmt_s(r->t_schema, c, sizeof(c));
			fmt_s(r->t_data, d, sizeof(d));
			fmt_s(r->t_postdata, e, sizeof(e));
			fmt_s(r->t_verify, g, sizeof(g));
			fmt_s(r->t_smoke, h, sizeof(h));
			fmt_s(r->t_fetch, k, sizeof(k));
			fprintf(f, "  RTO          %s = setup %s + schema %s + data %s + post-data %s + "
				   "verification %s + smoke %s\n"
				   "               (archive download and decryption: %s, overlapping schema and data)\n",
				a, b, c, d, e, g, h, k);
		} else if (r->mode == BS_DRILL_REVERIFY) {
			fmt_s(r->t_verify + r->t_smoke, a, sizeof(a));
			fprintf(f, "  verification %s (re-verify: no restore, no RTO)\n", a);
		}
	}
	if (r->rpo_ms >= 0) {
		bs_human_ms(r->rpo_ms, a, sizeof(a));
		fprintf(f, "  RPO          %s (age of the snapshot at drill time)\n", a);
	}
	text_limits(r, f);
	if (r->could_not_run) {
		fprintf(f, "  error        the drill could not run: %s\n", bs_esc(r->error.msg));
		if (r->error.hint[0])
			fprintf(f, "               hint: %s\n", bs_esc(r->error.hint));
	}
	if (r->findings_total == 0) {
		if (!r->could_not_run)
			fprintf(f, "  findings     none\n");
	} else {
		fprintf(f, "findings (%" PRIu64 "):\n", r->findings_total);
		for (i = 0; i < r->nfindings; i++) {
			const struct bs_drill_finding *x = &r->findings[i];
			fprintf(f, "  - %s%s%s: %s\n", x->area, x->object ? " " : "",
				x->object ? bs_esc(x->object) : "", bs_esc(x->message));
		}
		if (r->findings_total > r->nfindings)
			fprintf(f, "  ... and %" PRIu64 " more\n", r->findings_total - r->nfindings);
	}
	for (i = 0; i < r->nsmoke; i++)
		fprintf(f, "  smoke        %-4s %s (%s)\n", r->smoke[i].ok ? "ok" : "FAIL",
			bs_esc(r->smoke[i].name), r->smoke[i].detail ? bs_esc(r->smoke[i].detail) : "");
	if (r->recorded)
		fprintf(f, "  recorded     %s\n", r->record_key);
	return ferror(f) ? -1 : 0;
}

struct json_t *bs_drill_report_json(const struct bs_drill_report *r)
{
	return bs_drill_json(r, 1);
}

/* ---- XML ----------------------------------------------------------------- */

/* One test case: it fails with the findings of (area, object), or of the
 * whole area when object is NULL. */
struct jcase {
	const char *classname;
	const char *name;
	const char *area;
	const char *object;   /* NULL: every finding of the area */
	double seconds;
	const char *skipped;  /* reason, or NULL */
	const char *error;    /* the drill could not run: <error>, or NULL */
};

struct jtally {
	size_t tests, failures, errors, skipped;
};

static int finding_matches(const struct bs_drill_finding *x, const char *area, const char *object)
{
	if (strcmp(x->area, area) != 0)
		return 0;
	if (!object)
		return 1;
	return x->object && strcmp(x->object, object) == 0;
}

static size_t count_area(const struct bs_drill_report *r, const char *area, const char *object)
{
	size_t i, n = 0;

	for (i = 0; i < r->nfindings; i++)
		if (finding_matches(&r->findings[i], area, object))
			n++;
	return n;
}

static void junit_case(const struct bs_drill_report *r, const struct jcase *c, struct jtally *t, FILE *f)
{
	size_t i, nf = count_area(r, c->area, c->object);
	int first = 1;

	t->tests++;
	fprintf(f, "    <testcase classname=\"");
	bs_report_xml_escape(f, c->classname);
	fprintf(f, "\" name=\"");
	bs_report_xml_escape(f, c->name);
	fprintf(f, "\" time=\"%.3f\"", c->seconds);
	if (c->error) {
		t->errors++;
		fprintf(f, ">\n      <error message=\"");
		bs_report_xml_escape(f, c->error);
		fprintf(f, "\" type=\"could-not-run\"/>\n    </testcase>\n");
		return;
	}
	if (nf == 0 && c->skipped) {
		t->skipped++;
		fprintf(f, ">\n      <skipped message=\"");
		bs_report_xml_escape(f, c->skipped);
		fprintf(f, "\"/>\n    </testcase>\n");
		return;
	}
	if (nf == 0) {
		fprintf(f, "/>\n");
		return;
	}
	t->failures++;
	for (i = 0; i < r->nfindings; i++) {
		const struct bs_drill_finding *x = &r->findings[i];
		if (!finding_matches(x, c->area, c->object))
			continue;
		if (first) {
			fprintf(f, ">\n      <failure message=\"");
			bs_report_xml_escape(f, x->message);
			fprintf(f, "\" type=\"");
			bs_report_xml_escape(f, c->area);
			fprintf(f, "\">");
			first = 0;
		}
		bs_report_xml_escape(f, x->area);
		if (x->object) {
			fputc(' ', f);
			bs_report_xml_escape(f, x->object);
		}
		fputs(": ", f);
		bs_report_xml_escape(f, x->message);
		fputs("&#10;", f);
	}
	fprintf(f, "</failure>\n    </testcase>\n");
}

static void junit_cases(const struct bs_drill_report *r, struct jtally *t, FILE *f)
{
	char cls[160], tcls[200], scls[200], q[512];
	int archive = r->mode == BS_DRILL_ARCHIVE;
	struct jcase c;
	size_t i;

	snprintf(cls, sizeof(cls), "backstop.%s.%s", archive ? "archive" : "drill", r->snapshot);
	snprintf(tcls, sizeof(tcls), "%s.tables", cls);
	snprintf(scls, sizeof(scls), "%s.smoke", cls);

	memset(&c, 0, sizeof(c));
	c.classname = cls;
	c.name = "archive";
	c.area = BS_DRILL_AREA_ARCHIVE;
	c.seconds = r->t_fetch;
	c.error = r->could_not_run ? r->error.msg : NULL;
	junit_case(r, &c, t, f);

	memset(&c, 0, sizeof(c));
	c.classname = cls;
	c.name = "restore";
	c.area = BS_DRILL_AREA_RESTORE;
	c.seconds = r->t_schema + r->t_data + r->t_postdata;
	c.skipped = archive ? "archive-only check: nothing restored"
		    : r->mode == BS_DRILL_REVERIFY ? "re-verify: nothing restored" : NULL;
	junit_case(r, &c, t, f);

	for (i = 0; i < r->ntables; i++) {
		const struct bs_drill_table *tb = &r->tables[i];
		bs_drill_qname(q, sizeof(q), tb->schema, tb->name);
		memset(&c, 0, sizeof(c));
		c.classname = tcls;
		c.name = q;
		c.area = BS_DRILL_AREA_TABLE;
		c.object = q;
		c.seconds = tb->seconds;
		c.skipped = tb->checked ? NULL : "not checked (the drill stopped before it)";
		junit_case(r, &c, t, f);
	}

	memset(&c, 0, sizeof(c));
	c.classname = cls;
	c.name = "large objects";
	c.area = BS_DRILL_AREA_BLOB;
	junit_case(r, &c, t, f);
	if (!archive) {
		c.name = "sequences";
		c.area = BS_DRILL_AREA_SEQUENCE;
		junit_case(r, &c, t, f);
		c.name = "schema";
		c.area = BS_DRILL_AREA_SCHEMA;
		c.seconds = r->t_verify;
		junit_case(r, &c, t, f);
		for (i = 0; i < r->nsmoke; i++) {
			memset(&c, 0, sizeof(c));
			c.classname = scls;
			c.name = r->smoke[i].name;
			c.area = BS_DRILL_AREA_SMOKE;
			c.object = r->smoke[i].name;
			c.seconds = r->smoke[i].seconds;
			junit_case(r, &c, t, f);
		}
		memset(&c, 0, sizeof(c));
		c.classname = cls;
		c.name = "max_rto";
		c.area = BS_DRILL_AREA_LIMIT;
		c.object = "max_rto";
		c.skipped = r->max_rto_ms ? NULL : "no limit set";
		junit_case(r, &c, t, f);
	}
	memset(&c, 0, sizeof(c));
	c.classname = cls;
	c.name = "max_snapshot_age";
	c.area = BS_DRILL_AREA_LIMIT;
	c.object = "max_snapshot_age";
	c.skipped = r->max_snapshot_age_ms ? NULL : "no limit set";
	junit_case(r, &c, t, f);
}

/* The cases go to a memory buffer first: the suite's counts come before them. */
static int junit_suite(const struct bs_drill_report *r, FILE *f)
{
	struct jtally t = { 0, 0, 0, 0 };
	char suite[256], ts[32], *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return -1;
	junit_cases(r, &t, m);
	if (fclose(m) != 0) {
		free(buf);
		return -1;
	}
	snprintf(suite, sizeof(suite), "%s %s of %s",
		 r->mode == BS_DRILL_ARCHIVE ? "archive check" : "restore drill", r->snapshot,
		 r->database ? r->database : "?");
	bs_time_iso(r->start, ts);
	fprintf(f, "  <testsuite name=\"");
	bs_report_xml_escape(f, suite);
	fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\" "
		   "timestamp=\"%s\">\n",
		t.tests, t.failures, t.errors, t.skipped, r->t_total, ts);
	fprintf(f, "    <properties>\n");
	fprintf(f, "      <property name=\"verdict\" value=\"%s\"/>\n", bs_drill_verdict(r));
	fprintf(f, "      <property name=\"mode\" value=\"%s\"/>\n", bs_drill_mode_name(r->mode));
	if (r->id[0])
		fprintf(f, "      <property name=\"drill_id\" value=\"%s\"/>\n", r->id);
	if (r->rto_ms >= 0)
		fprintf(f, "      <property name=\"rto_ms\" value=\"%lld\"/>\n", (long long)r->rto_ms);
	if (r->rpo_ms >= 0)
		fprintf(f, "      <property name=\"rpo_ms\" value=\"%lld\"/>\n", (long long)r->rpo_ms);
	if (r->scratch_db[0]) {
		fprintf(f, "      <property name=\"scratch_database\" value=\"");
		bs_report_xml_escape(f, r->scratch_db);
		fprintf(f, "\"/>\n");
	}
	if (r->findings_total > r->nfindings)
		fprintf(f, "      <property name=\"findings_not_listed\" value=\"%llu\"/>\n",
			(unsigned long long)(r->findings_total - r->nfindings));
	fprintf(f, "    </properties>\n");
	fwrite(buf, 1, len, f);
	free(buf);
	fprintf(f, "  </testsuite>\n");
	return 0;
}

int bs_drill_junit(const struct bs_drill_report *const *r, size_t n, FILE *f)
{
	size_t i;

	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"backstop verify-restore\">\n");
	for (i = 0; i < n; i++)
		if (junit_suite(r[i], f) < 0)
			return -1;
	fprintf(f, "</testsuites>\n");
	return ferror(f) ? -1 : 0;
}
