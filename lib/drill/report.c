/*
 * report.c - the drill report: findings, verdict, and its renderings as
 * human text, JSON (record.c builds the object), and findings of the report
 * layer (lib/report), which writes its JUnit XML.
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

/* ---- the drill as findings of the report layer (JUnit) -------------------- */

/* One JUnit case of the drill: the drill findings of (area, object), or of
 * the whole area when object is NULL. */
struct dcase {
	const char *group;
	const char *check;
	const char *area;
	const char *object;
	double seconds;
	const char *skipped; /* why nothing was checked, or NULL */
};

static int finding_matches(const struct bs_drill_finding *x, const char *area, const char *object)
{
	if (strcmp(x->area, area) != 0)
		return 0;
	if (!object)
		return 1;
	return x->object && strcmp(x->object, object) == 0;
}

/* bs_report_add, -1 only when memory ran out (a finding past the bound is
 * counted, not an error). */
static int add(struct bs_report *out, const struct bs_finding *f)
{
	size_t before = out->nfindings + out->dropped;

	bs_report_add(out, f);
	return out->nfindings + out->dropped > before ? 0 : -1;
}

/* A FAIL finding per drill finding of the case, each with the area as its
 * category (the JUnit failure type); when there is none, one OK finding, or
 * SKIPPED with the reason. */
static int add_case(struct bs_report *out, const struct bs_drill_report *r, const struct dcase *c)
{
	struct bs_finding f = {.group = c->group, .check = c->check, .category = c->area,
			       .seconds = c->seconds};
	size_t i, n = 0;

	for (i = 0; i < r->nfindings; i++) {
		const struct bs_drill_finding *x = &r->findings[i];
		char *detail = NULL;
		int rc;

		if (!finding_matches(x, c->area, c->object))
			continue;
		/* a case of the whole area names the object of each finding */
		if (!c->object && x->object && asprintf(&detail, "%s: %s", x->object, x->message) < 0)
			return -1;
		f.state = BS_STATE_FAIL;
		f.detail = detail ? detail : x->message;
		rc = add(out, &f);
		free(detail);
		if (rc < 0)
			return -1;
		n++;
	}
	if (n)
		return 0;
	f.state = c->skipped ? BS_STATE_SKIPPED : BS_STATE_OK;
	f.detail = c->skipped;
	return add(out, &f);
}

static int add_props(struct bs_report *out, const struct bs_drill_report *r)
{
	char v[32];
	int rc = 0;

	rc |= bs_report_prop(out, "verdict", bs_drill_verdict(r));
	rc |= bs_report_prop(out, "mode", bs_drill_mode_name(r->mode));
	if (r->id[0])
		rc |= bs_report_prop(out, "drill_id", r->id);
	if (r->rto_ms >= 0) {
		snprintf(v, sizeof(v), "%lld", (long long)r->rto_ms);
		rc |= bs_report_prop(out, "rto_ms", v);
	}
	if (r->rpo_ms >= 0) {
		snprintf(v, sizeof(v), "%lld", (long long)r->rpo_ms);
		rc |= bs_report_prop(out, "rpo_ms", v);
	}
	if (r->scratch_db[0])
		rc |= bs_report_prop(out, "scratch_database", r->scratch_db);
	if (r->findings_total > r->nfindings) {
		snprintf(v, sizeof(v), "%llu", (unsigned long long)(r->findings_total - r->nfindings));
		rc |= bs_report_prop(out, "findings_not_listed", v);
	}
	return rc ? -1 : 0;
}

/* The cases of the whole drill: archive, restore; then the areas that
 * come after the restore (tables, large objects, sequences, schema, smoke
 * queries, limits). */
static int add_restore_cases(struct bs_report *out, const struct bs_drill_report *r, const char *cls)
{
	int archive = r->mode == BS_DRILL_ARCHIVE;
	struct dcase c = {.group = cls, .check = "archive", .area = BS_DRILL_AREA_ARCHIVE, .seconds = r->t_fetch};

	if (r->could_not_run) {
		struct bs_finding f = {.group = cls, .check = "archive", .category = "could-not-run",
				       .state = BS_STATE_UNKNOWN, .detail = r->error.msg,
				       .seconds = r->t_fetch};
		if (add(out, &f) < 0)
			return -1;
	} else if (add_case(out, r, &c) < 0) {
		return -1;
	}
	c = (struct dcase){.group = cls, .check = "restore", .area = BS_DRILL_AREA_RESTORE,
			   .seconds = r->t_schema + r->t_data + r->t_postdata,
			   .skipped = archive ? "archive-only check: nothing restored"
				      : r->mode == BS_DRILL_REVERIFY ? "re-verify: nothing restored" : NULL};
	return add_case(out, r, &c);
}

static int add_checked_cases(struct bs_report *out, const struct bs_drill_report *r, const char *cls)
{
	char tcls[200], scls[200], q[512];
	int archive = r->mode == BS_DRILL_ARCHIVE;
	struct dcase c;
	size_t i;

	snprintf(tcls, sizeof(tcls), "%s.tables", cls);
	snprintf(scls, sizeof(scls), "%s.smoke", cls);
	for (i = 0; i < r->ntables; i++) {
		const struct bs_drill_table *tb = &r->tables[i];
		bs_drill_qname(q, sizeof(q), tb->schema, tb->name);
		c = (struct dcase){.group = tcls, .check = q, .area = BS_DRILL_AREA_TABLE, .object = q,
				   .seconds = tb->seconds,
				   .skipped = tb->checked ? NULL : "not checked (the drill stopped before it)"};
		if (add_case(out, r, &c) < 0)
			return -1;
	}
	c = (struct dcase){.group = cls, .check = "large objects", .area = BS_DRILL_AREA_BLOB};
	if (add_case(out, r, &c) < 0)
		return -1;
	if (!archive) {
		c.check = "sequences";
		c.area = BS_DRILL_AREA_SEQUENCE;
		if (add_case(out, r, &c) < 0)
			return -1;
		c = (struct dcase){.group = cls, .check = "schema", .area = BS_DRILL_AREA_SCHEMA,
				   .seconds = r->t_verify};
		if (add_case(out, r, &c) < 0)
			return -1;
		for (i = 0; i < r->nsmoke; i++) {
			c = (struct dcase){.group = scls, .check = r->smoke[i].name, .area = BS_DRILL_AREA_SMOKE,
					   .object = r->smoke[i].name, .seconds = r->smoke[i].seconds};
			if (add_case(out, r, &c) < 0)
				return -1;
		}
		c = (struct dcase){.group = cls, .check = "max_rto", .area = BS_DRILL_AREA_LIMIT,
				   .object = "max_rto", .skipped = r->max_rto_ms ? NULL : "no limit set"};
		if (add_case(out, r, &c) < 0)
			return -1;
	}
	c = (struct dcase){.group = cls, .check = "max_snapshot_age", .area = BS_DRILL_AREA_LIMIT,
			   .object = "max_snapshot_age",
			   .skipped = r->max_snapshot_age_ms ? NULL : "no limit set"};
	return add_case(out, r, &c);
}

/* Findings the drill report counted but did not keep still fail the case
 * that stands for them. */
static int add_unlisted(struct bs_report *out, const struct bs_drill_report *r, const char *cls)
{
	struct bs_finding f = {.group = cls, .check = "findings not listed", .category = "unlisted",
			       .state = BS_STATE_FAIL};

	if (r->findings_total <= r->nfindings)
		return 0;
	return bs_report_addf(out, &f, "%llu more findings (the report keeps the first %d)",
			      (unsigned long long)(r->findings_total - r->nfindings), BS_DRILL_FINDINGS_MAX)
		       ? 0
		       : -1;
}

int bs_drill_report_findings(const struct bs_drill_report *r, struct bs_report *out)
{
	char title[256], cls[160];

	snprintf(title, sizeof(title), "%s %s of %s",
		 r->mode == BS_DRILL_ARCHIVE ? "archive check" : "restore drill", r->snapshot,
		 r->database ? r->database : "?");
	snprintf(cls, sizeof(cls), "backstop.%s.%s", r->mode == BS_DRILL_ARCHIVE ? "archive" : "drill",
		 r->snapshot);
	out->start = r->start;
	out->end = r->end;
	if (bs_report_set_title(out, title, NULL) < 0 || add_props(out, r) < 0 ||
	    add_restore_cases(out, r, cls) < 0 || add_checked_cases(out, r, cls) < 0 ||
	    add_unlisted(out, r, cls) < 0)
		return -1;
	return 0;
}

int bs_drill_junit(const struct bs_drill_report *const *r, size_t n, FILE *f)
{
	struct bs_report *reps = calloc(n ? n : 1, sizeof(*reps));
	const struct bs_report **v = calloc(n ? n : 1, sizeof(*v));
	size_t i;
	int rc = reps && v ? 0 : -1;

	for (i = 0; i < n && reps; i++) {
		bs_report_init(&reps[i]);
		v[i] = &reps[i];
		if (rc == 0)
			rc = bs_drill_report_findings(r[i], &reps[i]);
	}
	if (rc == 0)
		rc = bs_report_write_junit_all(v, n, "backstop verify-restore", f, 0);
	for (i = 0; i < n && reps; i++)
		bs_report_release(&reps[i]);
	free(reps);
	free(v);
	return rc;
}
