/* json.c - the report as JSON (see report.h and docs/architecture.md). */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "report/report_int.h"

/* Set key to s as a JSON string (invalid UTF-8 -> U+FFFD); NULL leaves
 * the key out.  -1 when out of memory. */
static int set_str(json_t *o, const char *key, const char *s)
{
	char *c;
	int rc;

	if (!s)
		return 0;
	c = bs_report_utf8_clean(s);
	if (!c)
		return -1;
	rc = json_object_set_new(o, key, json_string(c));
	free(c);
	return rc;
}

json_t *bs_json_text(const char *s)
{
	char *c;
	json_t *j;

	if (!s)
		return json_null();
	if (!(c = bs_report_utf8_clean(s)))
		return NULL;
	j = json_string(c);
	free(c);
	return j;
}

char *bs_json_get_text(const json_t *o, const char *k, int *bad)
{
	json_t *v = json_object_get(o, k);
	char *d;

	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_string(v) || !(d = strdup(json_string_value(v)))) {
		*bad = 1;
		return NULL;
	}
	return d;
}

/* Non-finite numbers have no JSON form: they become null. */
static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *measures_json(const struct bs_finding *x)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < x->nmeasures; i++) {
		const struct bs_measure *m = &x->measures[i];
		json_t *o = json_object();
		int rc = !o || json_array_append_new(a, o) < 0;

		rc |= set_str(o, "name", m->name) < 0 || set_str(o, "unit", m->unit) < 0;
		rc |= json_object_set_new(o, "value", num(m->value)) < 0;
		if (m->set & BS_MEASURE_WARN)
			rc |= json_object_set_new(o, "warn", num(m->warn)) < 0;
		if (m->set & BS_MEASURE_CRIT)
			rc |= json_object_set_new(o, "crit", num(m->crit)) < 0;
		if (m->set & BS_MEASURE_MIN)
			rc |= json_object_set_new(o, "min", num(m->min)) < 0;
		if (m->set & BS_MEASURE_MAX)
			rc |= json_object_set_new(o, "max", num(m->max)) < 0;
		if (rc) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *finding_json(const struct bs_report *r, const struct bs_finding *x)
{
	json_t *o = json_object();
	int rc = !o;

	rc = rc || set_str(o, "group", bs_report_group_of(r, x)) < 0 || set_str(o, "check", x->check) < 0 ||
	     set_str(o, "category", x->category) < 0 ||
	     json_object_set_new(o, "state", json_string(bs_state_name(x->state))) < 0 ||
	     set_str(o, "expected", x->expected) < 0 || set_str(o, "observed", x->observed) < 0 ||
	     set_str(o, "detail", x->detail) < 0;
	if (!rc && x->seconds > 0)
		rc = json_object_set_new(o, "seconds", num(x->seconds)) < 0;
	if (!rc && x->nmeasures)
		rc = json_object_set_new(o, "measurements", measures_json(x)) < 0;
	if (!rc && x->file) {
		json_t *loc = json_object();
		rc = !loc || json_object_set_new(o, "location", loc) < 0 || set_str(loc, "file", x->file) < 0;
		if (!rc && x->line)
			rc = json_object_set_new(loc, "line", json_integer(x->line)) < 0;
		if (!rc && x->line && x->column)
			rc = json_object_set_new(loc, "column", json_integer(x->column)) < 0;
	}
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int head_json(const struct bs_report *r, json_t *o, unsigned flags)
{
	json_t *counts = json_object(), *props = json_object();
	char a[32], b[32];
	size_t i;
	int rc = !counts || !props;

	if (rc) {
		json_decref(counts);
		json_decref(props);
		return -1;
	}
	rc |= json_object_set_new(o, "state", json_string(bs_state_name(bs_report_overall(r)))) < 0;
	rc |= json_object_set_new(o, "passed", json_boolean(bs_report_passed(r, flags))) < 0;
	rc |= set_str(o, "title", r->title ? r->title : "backstop") < 0 ||
	      set_str(o, "subject", r->subject) < 0;
	bs_report_iso(r->start, a);
	bs_report_iso(r->end, b);
	rc |= (a[0] && set_str(o, "start", a) < 0) || (b[0] && set_str(o, "end", b) < 0);
	for (i = 0; i < BS_STATE_COUNT; i++)
		rc |= json_object_set_new(counts, bs_state_name((enum bs_state)i),
					  json_integer(r->counts[i])) < 0;
	rc |= json_object_set_new(o, "counts", counts) < 0;
	rc |= json_object_set_new(o, "findings_not_listed", json_integer(r->dropped)) < 0;
	for (i = 0; i < r->nprops; i++) {
		char *k = bs_report_utf8_clean(r->props[i].key);
		rc |= !k || set_str(props, k, r->props[i].value) < 0;
		free(k);
	}
	rc |= json_object_set_new(o, "properties", props) < 0;
	return rc ? -1 : 0;
}

json_t *bs_report_json(const struct bs_report *r, unsigned flags)
{
	json_t *o = json_object(), *a = json_array();
	size_t i;

	if (!o || !a || json_object_set_new(o, "findings", a) < 0 || head_json(r, o, flags) < 0) {
		if (!o)
			json_decref(a);
		json_decref(o);
		return NULL;
	}
	for (i = 0; i < r->nfindings; i++) {
		if (json_array_append_new(a, finding_json(r, &r->findings[i])) < 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

int bs_report_write_json(const struct bs_report *r, FILE *f, unsigned flags)
{
	return bs_json_doc_write(bs_report_json(r, flags), f);
}
