/* json_test.c - lib/report/json.c: the JSON document parsed back with
 * jansson; every field, counts, hostile strings. */
#include <jansson.h>
#include <string.h>

#include "fixture.h"
#include "harness.h"
#include "report/report_int.h"

static json_t *parse(const struct bs_report *r, unsigned flags)
{
	int rc;
	char *s = render(bs_report_write_json, r, flags, &rc);
	json_error_t e;
	json_t *j;

	CHECK_INT(rc, 0);
	j = json_loads(s, JSON_REJECT_DUPLICATES, &e);
	if (!j)
		printf("# json error: %s at %d:%d\n", e.text, e.line, e.column);
	free(s);
	return j;
}

static const char *get_s(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

TEST(document_shape_and_counts)
{
	struct bs_report r;
	json_t *j, *c, *a;

	fixture(&r);
	j = parse(&r, 0);
	CHECK(j != NULL);
	if (!j)
		goto out;
	CHECK_STR(get_s(j, "state"), "fail");
	CHECK(json_is_false(json_object_get(j, "passed")));
	CHECK_STR(get_s(j, "start"), "2026-11-29T12:00:00Z");
	CHECK_STR(get_s(j, "end"), "2026-11-29T12:01:00Z");
	c = json_object_get(j, "counts");
	CHECK_INT(json_integer_value(json_object_get(c, "ok")), 1 + 4);
	CHECK_INT(json_integer_value(json_object_get(c, "fail")), 2 + 3);
	CHECK_INT(json_integer_value(json_object_get(c, "warn")), 1);
	CHECK_INT(json_integer_value(json_object_get(c, "unknown")), 1);
	CHECK_INT(json_integer_value(json_object_get(c, "skipped")), 1);
	CHECK_INT(json_integer_value(json_object_get(c, "waived")), 1);
	a = json_object_get(j, "findings");
	CHECK_INT(json_array_size(a), 7 + NHOSTILE);
	CHECK_STR(get_s(json_object_get(j, "properties"), "release"), "api 1.4.2");
out:
	json_decref(j);
	bs_report_release(&r);
}

TEST(finding_fields)
{
	struct bs_report r;
	json_t *j, *a, *x, *m, *loc;
	size_t i;

	fixture(&r);
	j = parse(&r, 0);
	a = json_object_get(j, "findings");
	for (i = 0; i < json_array_size(a); i++) {
		x = json_array_get(a, i);
		CHECK_INT(bs_state_parse(get_s(x, "state")), r.findings[i].state);
		CHECK(get_s(x, "group") != NULL);
		CHECK(get_s(x, "check") != NULL);
	}
	x = json_array_get(a, 0);
	CHECK_STR(get_s(x, "group"), "gate go-live");
	CHECK_STR(get_s(x, "check"), "backup.fresh");
	CHECK_STR(get_s(x, "observed"), "3 h");
	CHECK_STR(get_s(x, "expected"), "<= 24 h");
	CHECK(json_real_value(json_object_get(x, "seconds")) == 0.5);
	CHECK(json_object_get(x, "detail") == NULL); /* not stated: absent */
	m = json_object_get(json_array_get(a, 1), "measurements");
	CHECK_INT(json_array_size(m), 2);
	CHECK_STR(get_s(json_array_get(m, 0), "name"), "time");
	CHECK_STR(get_s(json_array_get(m, 0), "unit"), "s");
	CHECK(json_real_value(json_object_get(json_array_get(m, 0), "crit")) == 2);
	CHECK(json_object_get(json_array_get(m, 1), "warn") == NULL);
	loc = json_object_get(json_array_get(a, 2), "location");
	CHECK_STR(get_s(loc, "file"), "policies/go-live.yaml");
	CHECK_INT(json_integer_value(json_object_get(loc, "line")), 12);
	CHECK_INT(json_integer_value(json_object_get(loc, "column")), 3);
	json_decref(j);
	bs_report_release(&r);
}

/* Valid UTF-8 comes back byte for byte (control characters included: JSON
 * escapes them); invalid UTF-8 comes back as U+FFFD. */
TEST(hostile_strings_round_trip)
{
	struct bs_report r;
	json_t *j, *a;
	size_t i;

	fixture(&r);
	j = parse(&r, 0);
	a = json_object_get(j, "findings");
	for (i = 0; i < NHOSTILE; i++) {
		json_t *x = json_array_get(a, 7 + i);
		char *want = bs_report_utf8_clean(hostile[i]);
		CHECK_STR(get_s(x, "check"), want);
		CHECK_STR(get_s(x, "group"), hostile[2]);
		free(want);
	}
	CHECK_STR(get_s(json_array_get(a, 7), "check"), hostile[0]); /* control characters kept */
	CHECK(strstr(get_s(json_array_get(a, 7 + 4), "check"), "\xEF\xBF\xBD") != NULL);
	CHECK_STR(get_s(json_object_get(j, "properties"), hostile[1]), hostile[0]);
	json_decref(j);
	bs_report_release(&r);
}

TEST(warn_fails_flag_and_dropped)
{
	struct bs_report r;
	struct bs_finding f = {.check = "w", .state = BS_STATE_WARN, .seconds = -1};
	json_t *j;

	bs_report_init(&r);
	r.max_findings = 1;
	bs_report_add(&r, &f);
	bs_report_add(&r, &f);
	j = parse(&r, 0);
	CHECK(json_is_true(json_object_get(j, "passed")));
	CHECK_INT(json_integer_value(json_object_get(j, "findings_not_listed")), 1);
	CHECK_INT(json_array_size(json_object_get(j, "findings")), 1);
	CHECK_STR(get_s(j, "title"), "backstop");
	json_decref(j);
	j = parse(&r, BS_REPORT_WARN_FAILS);
	CHECK(json_is_false(json_object_get(j, "passed")));
	json_decref(j);
	bs_report_release(&r);
}

int main(void)
{
	RUN(document_shape_and_counts);
	RUN(finding_fields);
	RUN(hostile_strings_round_trip);
	RUN(warn_fails_flag_and_dropped);
	return DONE();
}
