/* policy_test.c - lib/drill/policy.c: drill policies from YAML, and every
 * error with file:line:column. */
#include <string.h>

#include "drill/drill.h"
#include "harness.h"

static struct bs_err err;
static struct bs_drill_policy p;

static int load(const char *text)
{
	bs_err_init(&err);
	bs_drill_policy_release(&p);
	return bs_drill_policy_load_string(&p, "drill.yaml", text, &err);
}

TEST(defaults)
{
	CHECK_INT(load(""), 0);
	CHECK_INT(p.max_rto_ms, BS_DRILL_UNSET);
	CHECK_INT(p.max_snapshot_age_ms, BS_DRILL_UNSET);
	CHECK_INT(p.stale_grace_ms, BS_DRILL_UNSET);
	CHECK_INT(p.smoke_timeout_ms, 60000);
	CHECK_INT(p.nsmoke, 0);
}

TEST(full)
{
	CHECK_INT(load("max_rto: 15m\n"
		       "max_snapshot_age: 26h\n"
		       "stale_grace: 0s\n"
		       "smoke_timeout: 5s\n"
		       "smoke:\n"
		       "  - name: at least one admin user exists\n"
		       "    sql: SELECT count(*) > 0 FROM users WHERE is_admin\n"
		       "    expect: true\n"
		       "  - name: orders\n"
		       "    sql: SELECT id FROM orders LIMIT 10\n"
		       "    min_rows: 1\n"
		       "    max_rows: 10\n"
		       "  - name: nothing broken\n"
		       "    sql: SELECT false\n"
		       "    expect: false\n"),
		  0);
	CHECK_STR(err.msg, "");
	CHECK_INT(p.max_rto_ms, 15 * 60 * 1000);
	CHECK_INT(p.max_snapshot_age_ms, 26LL * 3600 * 1000);
	CHECK_INT(p.stale_grace_ms, 0);
	CHECK_INT(p.smoke_timeout_ms, 5000);
	CHECK_INT(p.nsmoke, 3);
	CHECK_STR(p.smoke[0].name, "at least one admin user exists");
	CHECK_INT(p.smoke[0].expect, 1);
	CHECK_INT(p.smoke[0].min_rows, BS_DRILL_UNSET);
	CHECK_INT(p.smoke[1].expect, BS_DRILL_UNSET);
	CHECK_INT(p.smoke[1].min_rows, 1);
	CHECK_INT(p.smoke[1].max_rows, 10);
	CHECK_INT(p.smoke[2].expect, 0);
}

TEST(wrapped_and_zero_limits)
{
	CHECK_INT(load("drill:\n  max_rto: 0\n  smoke_timeout: 0\n  smoke:\n"), 0);
	CHECK_INT(p.max_rto_ms, 0);
	CHECK_INT(p.smoke_timeout_ms, 0);
	CHECK_INT(p.nsmoke, 0);
}

TEST(shipped_policy_loads)
{
	bs_err_init(&err);
	bs_drill_policy_release(&p);
	CHECK_INT(bs_drill_policy_load(&p, "policies/drill.yaml", &err), 0);
	CHECK_STR(err.msg, "");
	CHECK(p.nsmoke >= 1);
	CHECK_STR(p.path, "policies/drill.yaml");
}

static void expect_error(const char *text, const char *msg)
{
	CHECK_INT(load(text), -1);
	CHECK_INT(err.code, BS_ERR_POLICY);
	CHECK_STR(err.msg, msg);
}

TEST(unknown_key)
{
	expect_error("max_rto: 15m\nmax_rpo: 1h\n", "drill.yaml:2:1: unknown key 'max_rpo'");
}

TEST(unknown_key_in_smoke)
{
	expect_error("smoke:\n  - name: a\n    sql: select true\n    expected: true\n",
		     "drill.yaml:4:5: unknown key 'expected' in 'smoke[0]'");
}

TEST(bad_duration)
{
	CHECK_INT(load("max_rto: 15 minutes\n"), -1);
	CHECK_INT(err.code, BS_ERR_POLICY);
	CHECK(strncmp(err.msg, "drill.yaml:1:10: ", 17) == 0);
}

TEST(smoke_not_a_sequence)
{
	expect_error("smoke:\n  name: a\n", "drill.yaml:2:3: expected a sequence for 'smoke', got a mapping");
}

TEST(smoke_item_not_a_mapping)
{
	expect_error("smoke:\n  - select true\n", "drill.yaml:2:5: expected a mapping for 'smoke[0]', got a scalar");
}

TEST(smoke_missing_sql)
{
	expect_error("smoke:\n  - name: a\n    expect: true\n", "drill.yaml:2:5: missing required key 'smoke[0].sql'");
}

TEST(smoke_both)
{
	expect_error("smoke:\n  - name: a\n    sql: select true\n    expect: true\n    min_rows: 1\n",
		     "drill.yaml:4:5: smoke query 'a' has both 'expect' and a row range");
}

TEST(smoke_neither)
{
	expect_error("smoke:\n  - name: a\n    sql: select true\n",
		     "drill.yaml:2:5: smoke query 'a' says nothing about its result");
}

TEST(smoke_range_reversed)
{
	expect_error("smoke:\n  - name: a\n    sql: select 1\n    min_rows: 5\n    max_rows: 2\n",
		     "drill.yaml:5:15: max_rows 2 is less than min_rows 5 in smoke query 'a'");
}

TEST(smoke_duplicate_name)
{
	expect_error("smoke:\n  - name: a\n    sql: select true\n    expect: true\n"
		     "  - name: a\n    sql: select 1\n    min_rows: 1\n",
		     "drill.yaml:5:11: duplicate smoke query name 'a'");
}

TEST(smoke_negative_rows)
{
	CHECK_INT(load("smoke:\n  - name: a\n    sql: select 1\n    min_rows: -1\n"), -1);
	CHECK_INT(err.code, BS_ERR_POLICY);
	CHECK(strncmp(err.msg, "drill.yaml:4:15: ", 17) == 0);
}

TEST(smoke_bad_bool)
{
	CHECK_INT(load("smoke:\n  - name: a\n    sql: select 1\n    expect: maybe\n"), -1);
	CHECK(strncmp(err.msg, "drill.yaml:4:13: ", 17) == 0);
}

TEST(syntax_error)
{
	CHECK_INT(load("smoke: [\n"), -1);
	CHECK_INT(err.code, BS_ERR_POLICY);
	CHECK(strstr(err.msg, "drill.yaml:") == err.msg);
}

TEST(missing_file)
{
	bs_err_init(&err);
	bs_drill_policy_release(&p);
	CHECK_INT(bs_drill_policy_load(&p, "/nonexistent/drill.yaml", &err), -1);
	CHECK_INT(err.code, BS_ERR_POLICY);
	CHECK(strstr(err.msg, "unable to read drill policy '/nonexistent/drill.yaml'") != NULL);
}

int main(void)
{
	bs_drill_policy_init(&p);
	RUN(defaults);
	RUN(full);
	RUN(wrapped_and_zero_limits);
	RUN(shipped_policy_loads);
	RUN(unknown_key);
	RUN(unknown_key_in_smoke);
	RUN(bad_duration);
	RUN(smoke_not_a_sequence);
	RUN(smoke_item_not_a_mapping);
	RUN(smoke_missing_sql);
	RUN(smoke_both);
	RUN(smoke_neither);
	RUN(smoke_range_reversed);
	RUN(smoke_duplicate_name);
	RUN(smoke_negative_rows);
	RUN(smoke_bad_bool);
	RUN(syntax_error);
	RUN(missing_file);
	bs_drill_policy_release(&p);
	return DONE();
}
