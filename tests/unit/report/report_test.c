/* report_test.c - lib/report/report.c: the findings model, copies,
 * bounds, the overall state and verdict rules. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "report/report.h"

static void add(struct bs_report *r, const char *check, enum bs_state st)
{
	struct bs_finding f = {.check = check, .state = st, .seconds = -1};
	CHECK(bs_report_add(r, &f) != NULL);
}

TEST(empty_report_passes)
{
	struct bs_report r;

	bs_report_init(&r);
	CHECK_INT(bs_report_overall(&r), BS_STATE_OK);
	CHECK(bs_report_passed(&r, 0));
	CHECK(bs_report_passed(&r, BS_REPORT_WARN_FAILS));
	bs_report_release(&r);
	bs_report_release(&r); /* twice is safe */
}

TEST(state_rules)
{
	struct bs_report r;

	bs_report_init(&r);
	add(&r, "a", BS_STATE_OK);
	add(&r, "b", BS_STATE_SKIPPED);
	add(&r, "c", BS_STATE_WAIVED);
	CHECK_INT(bs_report_overall(&r), BS_STATE_OK);
	CHECK(bs_report_passed(&r, BS_REPORT_WARN_FAILS));
	add(&r, "d", BS_STATE_WARN);
	CHECK_INT(bs_report_overall(&r), BS_STATE_WARN);
	CHECK(bs_report_passed(&r, 0));
	CHECK(!bs_report_passed(&r, BS_REPORT_WARN_FAILS));
	add(&r, "e", BS_STATE_UNKNOWN);
	CHECK_INT(bs_report_overall(&r), BS_STATE_UNKNOWN);
	CHECK(!bs_report_passed(&r, 0)); /* UNKNOWN never passes */
	add(&r, "f", BS_STATE_FAIL);
	CHECK_INT(bs_report_overall(&r), BS_STATE_FAIL);
	CHECK(!bs_report_passed(&r, 0));
	CHECK_INT(r.nfindings, 6);
	CHECK_INT(r.counts[BS_STATE_WAIVED], 1);
	bs_report_release(&r);
	CHECK_INT(r.nfindings, 0);
	CHECK_INT(r.counts[BS_STATE_FAIL], 0);
}

TEST(unknown_alone_fails)
{
	struct bs_report r;

	bs_report_init(&r);
	add(&r, "a", BS_STATE_OK);
	add(&r, "b", BS_STATE_UNKNOWN);
	CHECK(!bs_report_passed(&r, 0));
	bs_report_release(&r);
}

TEST(add_copies_everything)
{
	struct bs_report r;
	char group[] = "g", check[] = "c", exp[] = "e", obs[] = "o", det[] = "d", file[] = "f.yaml";
	char mname[] = "t", unit[] = "s";
	struct bs_measure m = {.name = mname, .value = 1.5, .unit = unit};
	struct bs_finding f = {.group = group, .check = check, .state = BS_STATE_FAIL, .expected = exp,
			       .observed = obs, .detail = det, .seconds = 2, .measures = &m, .nmeasures = 1,
			       .file = file, .line = 3, .column = 4};
	const struct bs_finding *s;

	bs_report_init(&r);
	s = bs_report_add(&r, &f);
	CHECK(s != NULL);
	group[0] = check[0] = exp[0] = obs[0] = det[0] = file[0] = mname[0] = unit[0] = 'X';
	m.value = 9;
	CHECK_STR(s->group, "g");
	CHECK_STR(s->check, "c");
	CHECK_STR(s->expected, "e");
	CHECK_STR(s->observed, "o");
	CHECK_STR(s->detail, "d");
	CHECK_STR(s->file, "f.yaml");
	CHECK_STR(s->measures[0].name, "t");
	CHECK_STR(s->measures[0].unit, "s");
	CHECK(s->measures[0].value == 1.5);
	CHECK_INT(s->line, 3);
	CHECK_INT(s->column, 4);
	CHECK(s->measures != &m);
	bs_report_release(&r);
}

TEST(null_fields_and_bad_state)
{
	struct bs_report r;
	struct bs_finding f = {.state = (enum bs_state)42, .seconds = -1};
	const struct bs_finding *s;

	bs_report_init(&r);
	s = bs_report_add(&r, &f);
	CHECK(s != NULL);
	CHECK_STR(s->check, "?");
	CHECK(s->group == NULL && s->expected == NULL && s->observed == NULL && s->detail == NULL);
	CHECK_INT(s->state, BS_STATE_UNKNOWN); /* an out-of-range state never passes */
	CHECK(!bs_report_passed(&r, 0));
	bs_report_release(&r);
}

TEST(addf_formats_detail)
{
	struct bs_report r;
	struct bs_finding f = {.check = "rows", .state = BS_STATE_FAIL, .detail = "ignored", .seconds = -1};
	const struct bs_finding *s;

	bs_report_init(&r);
	s = bs_report_addf(&r, &f, "%d rows, expected %s", 41, "42");
	CHECK(s != NULL);
	CHECK_STR(s->detail, "41 rows, expected 42");
	bs_report_release(&r);
}

TEST(bounded_findings_keep_the_verdict)
{
	struct bs_report r;
	size_t i;

	bs_report_init(&r);
	r.max_findings = 3;
	for (i = 0; i < 3; i++)
		add(&r, "ok", BS_STATE_OK);
	{
		struct bs_finding f = {.check = "late", .state = BS_STATE_FAIL, .seconds = -1};
		CHECK(bs_report_add(&r, &f) == NULL);
	}
	CHECK_INT(r.nfindings, 3);
	CHECK_INT(r.dropped, 1);
	CHECK_INT(r.counts[BS_STATE_FAIL], 1);
	CHECK_INT(bs_report_overall(&r), BS_STATE_FAIL);
	CHECK(!bs_report_passed(&r, 0));
	bs_report_release(&r);
}

TEST(long_strings_cut_at_utf8_boundary)
{
	struct bs_report r;
	size_t n = BS_REPORT_STR_MAX + 10, i;
	char *big = malloc(n + 1);
	struct bs_finding f = {.check = "big", .state = BS_STATE_OK, .seconds = -1};
	const struct bs_finding *s;

	/* "é" (2 bytes) repeated, after one ASCII byte: the limit falls inside one */
	big[0] = 'x';
	for (i = 1; i + 1 < n; i += 2) {
		big[i] = (char)0xC3;
		big[i + 1] = (char)0xA9;
	}
	big[i] = '\0';
	f.detail = big;
	bs_report_init(&r);
	s = bs_report_add(&r, &f);
	CHECK(s != NULL);
	CHECK(strlen(s->detail) <= BS_REPORT_STR_MAX);
	CHECK(strlen(s->detail) >= BS_REPORT_STR_MAX - 1);
	CHECK((unsigned char)s->detail[strlen(s->detail) - 1] == 0xA9); /* ends on a whole character */
	bs_report_release(&r);
	free(big);
}

TEST(properties_and_title)
{
	struct bs_report r;

	bs_report_init(&r);
	CHECK(r.title == NULL);
	CHECK_INT(bs_report_set_title(&r, "gate check go-live", "api"), 0);
	CHECK_STR(r.title, "gate check go-live");
	CHECK_STR(r.subject, "api");
	CHECK_INT(bs_report_prop(&r, "mode", "full"), 0);
	CHECK_INT(bs_report_prop(&r, "mode", "archive-only"), 0);
	CHECK_INT(r.nprops, 1);
	CHECK_STR(r.props[0].value, "archive-only");
	CHECK_INT(bs_report_prop(&r, NULL, "x"), -1);
	bs_report_release(&r);
	CHECK(r.title == NULL && r.nprops == 0);
}

TEST(state_names)
{
	int i;

	for (i = 0; i < BS_STATE_COUNT; i++)
		CHECK_INT(bs_state_parse(bs_state_name((enum bs_state)i)), i);
	CHECK_INT(bs_state_parse("WAIVED"), BS_STATE_WAIVED);
	CHECK_INT(bs_state_parse("nope"), -1);
	CHECK_INT(bs_state_parse(NULL), -1);
	CHECK_STR(bs_state_label(BS_STATE_UNKNOWN), "UNKNOWN");
}

int main(void)
{
	RUN(empty_report_passes);
	RUN(state_rules);
	RUN(unknown_alone_fails);
	RUN(add_copies_everything);
	RUN(null_fields_and_bad_state);
	RUN(addf_formats_detail);
	RUN(bounded_findings_keep_the_verdict);
	RUN(long_strings_cut_at_utf8_boundary);
	RUN(properties_and_title);
	RUN(state_names);
	return DONE();
}
