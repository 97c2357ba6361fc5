/* sarif_test.c - lib/report/sarif.c: the SARIF 2.1.0 log parsed back with
 * jansson and checked for the properties the standard requires (version,
 * $schema, runs[].tool.driver.name, results[].message.text, ruleId/ruleIndex
 * naming a rule, levels and kinds as the standard allows them, locations). */
#include <jansson.h>
#include <string.h>

#include "fixture.h"
#include "harness.h"

static json_t *parse(const struct bs_report *r, unsigned flags)
{
	int rc;
	char *s = render(bs_report_write_sarif, r, flags, &rc);
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

static int one_of(const char *s, const char *const *set)
{
	for (; s && *set; set++)
		if (strcmp(s, *set) == 0)
			return 1;
	return 0;
}

/* The rules of SARIF 2.1.0 a consumer (GitHub code scanning) relies on. */
static void check_log(json_t *j, size_t want_results)
{
	static const char *const levels[] = {"none", "note", "warning", "error", NULL};
	static const char *const kinds[] = {"notApplicable", "pass", "fail", "review", "open", "informational", NULL};
	json_t *run, *rules, *results;
	size_t i;

	CHECK_STR(get_s(j, "version"), "2.1.0");
	CHECK(get_s(j, "$schema") != NULL && strstr(get_s(j, "$schema"), "sarif") != NULL);
	CHECK_INT(json_array_size(json_object_get(j, "runs")), 1);
	run = json_array_get(json_object_get(j, "runs"), 0);
	CHECK_STR(get_s(json_object_get(json_object_get(run, "tool"), "driver"), "name"), "backstop");
	rules = json_object_get(json_object_get(json_object_get(run, "tool"), "driver"), "rules");
	CHECK(json_is_array(rules));
	results = json_object_get(run, "results");
	CHECK_INT(json_array_size(results), want_results);
	for (i = 0; i < json_array_size(results); i++) {
		json_t *x = json_array_get(results, i), *rule, *locs;
		const char *level = get_s(x, "level"), *kind = get_s(x, "kind");
		json_int_t idx = json_integer_value(json_object_get(x, "ruleIndex"));

		CHECK(get_s(x, "ruleId") != NULL);
		CHECK(get_s(json_object_get(x, "message"), "text") != NULL);
		CHECK(one_of(level, levels));
		CHECK(one_of(kind, kinds));
		/* level other than "none" only with kind "fail" (SARIF 3.27.9) */
		CHECK(strcmp(kind, "fail") == 0 || strcmp(level, "none") == 0);
		CHECK(idx >= 0 && (size_t)idx < json_array_size(rules));
		rule = json_array_get(rules, (size_t)idx);
		CHECK_STR(get_s(rule, "id"), get_s(x, "ruleId"));
		locs = json_object_get(x, "locations");
		if (locs) {
			json_t *pl = json_object_get(json_array_get(locs, 0), "physicalLocation");
			json_t *region = json_object_get(pl, "region");
			CHECK(get_s(json_object_get(pl, "artifactLocation"), "uri") != NULL);
			CHECK(!region || json_integer_value(json_object_get(region, "startLine")) >= 1);
		}
	}
}

TEST(valid_log)
{
	struct bs_report r;
	json_t *j;

	fixture(&r);
	j = parse(&r, 0);
	CHECK(j != NULL);
	if (j)
		check_log(j, 7 + NHOSTILE);
	json_decref(j);
	bs_report_release(&r);
}

TEST(levels_from_states)
{
	struct bs_report r;
	json_t *j, *res, *rules;

	fixture(&r);
	j = parse(&r, 0);
	res = json_object_get(json_array_get(json_object_get(j, "runs"), 0), "results");
	CHECK_STR(get_s(json_array_get(res, 0), "kind"), "pass");         /* OK */
	CHECK_STR(get_s(json_array_get(res, 0), "level"), "none");
	CHECK_STR(get_s(json_array_get(res, 1), "level"), "warning");     /* WARN */
	CHECK_STR(get_s(json_array_get(res, 2), "level"), "error");       /* FAIL */
	CHECK_STR(get_s(json_array_get(res, 3), "level"), "error");       /* UNKNOWN never reads as a pass */
	CHECK_STR(get_s(json_array_get(res, 4), "kind"), "notApplicable"); /* SKIPPED */
	CHECK_STR(get_s(json_array_get(res, 5), "level"), "error");       /* WAIVED: a suppressed failure */
	CHECK_STR(get_s(json_array_get(json_object_get(json_array_get(res, 5), "suppressions"), 0), "status"),
		  "accepted");
	CHECK_STR(get_s(json_array_get(json_object_get(json_array_get(res, 5), "suppressions"), 0), "justification"),
		  "waived by ops: hotfix");
	CHECK(json_object_get(json_array_get(res, 2), "suppressions") == NULL);
	CHECK_STR(get_s(json_object_get(json_array_get(res, 2), "message"), "text"),
		  "observed fail, expected pass: 2 tables differ\npublic.accounts: row count");
	/* location of the FAIL finding */
	{
		json_t *pl = json_object_get(json_array_get(json_object_get(json_array_get(res, 2), "locations"), 0),
					     "physicalLocation");
		CHECK_STR(get_s(json_object_get(pl, "artifactLocation"), "uri"), "policies/go-live.yaml");
		CHECK_INT(json_integer_value(json_object_get(json_object_get(pl, "region"), "startLine")), 12);
		CHECK_INT(json_integer_value(json_object_get(json_object_get(pl, "region"), "startColumn")), 3);
	}
	/* rules: one per distinct check id (hostile[6] is used twice) */
	rules = json_object_get(json_object_get(json_object_get(json_array_get(json_object_get(j, "runs"), 0), "tool"),
						"driver"),
				"rules");
	CHECK_INT(json_array_size(rules), 7 + NHOSTILE - 1);
	json_decref(j);
	bs_report_release(&r);
}

TEST(problems_only)
{
	struct bs_report r;
	json_t *j;

	fixture(&r);
	j = parse(&r, BS_REPORT_PROBLEMS_ONLY);
	CHECK(j != NULL);
	if (j)
		check_log(j, 7 + NHOSTILE - 5 /* OK */ - 1 /* SKIPPED */);
	json_decref(j);
	bs_report_release(&r);
}

TEST(empty_report)
{
	struct bs_report r;
	json_t *j;

	bs_report_init(&r);
	j = parse(&r, 0);
	CHECK(j != NULL);
	if (j)
		check_log(j, 0);
	json_decref(j);
	bs_report_release(&r);
}

int main(void)
{
	RUN(valid_log);
	RUN(levels_from_states);
	RUN(problems_only);
	RUN(empty_report);
	return DONE();
}
