/* sarif.c - the report as SARIF 2.1.0 (see report.h). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "report/report_int.h"

#ifndef BS_VERSION
#define BS_VERSION "0.0.0"
#endif

#define SARIF_SCHEMA "https://json.schemastore.org/sarif-2.1.0.json"

/* Invalid UTF-8 becomes U+FFFD; NULL when out of memory. */
static json_t *str(const char *s)
{
	char *c = bs_report_utf8_clean(s);
	json_t *j;

	if (!c)
		return NULL;
	j = json_string(c);
	free(c);
	return j;
}

static json_t *text_obj(const char *s)
{
	return json_pack("{s:o}", "text", str(s));
}

static const char *level(enum bs_state s)
{
	switch (s) {
	case BS_STATE_FAIL:
	case BS_STATE_UNKNOWN:
	case BS_STATE_WAIVED:
		return "error";
	case BS_STATE_WARN:
		return "warning";
	default:
		return "none";
	}
}

static const char *kind(enum bs_state s)
{
	return s == BS_STATE_OK ? "pass" : s == BS_STATE_SKIPPED ? "notApplicable" : "fail";
}

/* rules: one per distinct check id, in order of first appearance; idx[i]
 * is finding i's rule index. */
static json_t *rules(const struct bs_report *r, size_t *idx)
{
	json_t *a = json_array();
	size_t i, j, n = 0;

	for (i = 0; a && i < r->nfindings; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(r->findings[j].check, r->findings[i].check) == 0)
				break;
		if (j < i) {
			idx[i] = idx[j];
			continue;
		}
		idx[i] = n++;
		if (json_array_append_new(a, json_pack("{s:o}", "id", str(r->findings[i].check))) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *location(const struct bs_finding *x)
{
	json_t *region = NULL;

	if (x->line) {
		region = json_pack("{s:I}", "startLine", (json_int_t)x->line);
		if (region && x->column)
			json_object_set_new(region, "startColumn", json_integer(x->column));
		if (!region)
			return NULL;
	}
	return json_pack("[{s:{s:{s:o}, s:o*}}]", "physicalLocation", "artifactLocation", "uri", str(x->file),
			 "region", region);
}

static json_t *result(const struct bs_report *r, const struct bs_finding *x, size_t rule)
{
	char *msg = bs_report_summary(x);
	json_t *o, *props;

	if (!msg)
		return NULL;
	props =
	    json_pack("{s:o, s:s}", "group", str(bs_report_group_of(r, x)), "state", bs_state_name(x->state));
	if (props && x->category)
		json_object_set_new(props, "category", str(x->category));
	if (props && x->expected)
		json_object_set_new(props, "expected", str(x->expected));
	if (props && x->observed)
		json_object_set_new(props, "observed", str(x->observed));
	o = json_pack("{s:o, s:I, s:s, s:s, s:o, s:o}", "ruleId", str(x->check), "ruleIndex",
		      (json_int_t)rule, "kind", kind(x->state), "level", level(x->state), "message",
		      text_obj(msg), "properties", props);
	free(msg);
	if (o && x->file && json_object_set_new(o, "locations", location(x)) < 0) {
		json_decref(o);
		return NULL;
	}
	if (o && x->state == BS_STATE_WAIVED) {
		json_t *s = json_pack("[{s:s, s:s, s:o}]", "kind", "external", "status", "accepted",
				      "justification", str(x->detail ? x->detail : "waived"));
		if (json_object_set_new(o, "suppressions", s) < 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

static json_t *invocation(const struct bs_report *r)
{
	json_t *inv = json_pack("{s:b}", "executionSuccessful", 1);
	char a[32], b[32];

	bs_report_iso(r->start, a);
	bs_report_iso(r->end, b);
	if (inv && a[0])
		json_object_set_new(inv, "startTimeUtc", json_string(a));
	if (inv && b[0])
		json_object_set_new(inv, "endTimeUtc", json_string(b));
	return inv;
}

json_t *bs_report_sarif(const struct bs_report *r, unsigned flags)
{
	size_t *idx = calloc(r->nfindings ? r->nfindings : 1, sizeof(*idx)), i;
	json_t *doc = NULL, *results = json_array(), *rl = idx ? rules(r, idx) : NULL;

	if (!idx || !results || !rl)
		goto fail;
	for (i = 0; i < r->nfindings; i++) {
		if (!bs_report_shown(&r->findings[i], flags))
			continue;
		if (json_array_append_new(results, result(r, &r->findings[i], idx[i])) < 0)
			goto fail;
	}
	doc = json_pack("{s:s, s:s, s:[{s:{s:{s:s, s:s, s:o}}, s:[o], s:o, s:{s:o, s:o*}}]}", "$schema",
			SARIF_SCHEMA, "version", "2.1.0", "runs", "tool", "driver", "name", "backstop",
			"version", BS_VERSION, "rules", rl, "invocations", invocation(r), "results", results,
			"properties", "title", str(r->title ? r->title : "backstop"), "subject",
			r->subject ? str(r->subject) : NULL);
	rl = results = NULL; /* json_pack "o" steals them, also on failure */
	free(idx);
	return doc;
fail:
	json_decref(rl);
	json_decref(results);
	free(idx);
	return NULL;
}

int bs_report_write_sarif(const struct bs_report *r, FILE *f, unsigned flags)
{
	return bs_json_doc_write(bs_report_sarif(r, flags), f);
}
