/* policy_file_test.c - lib/config/policy_file.c: retention policies from YAML. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/policy_file.h"
#include "drill/drill.h"
#include "harness.h"

static struct bs_err err;
static struct bs_retention_policy p;

static int load_str(const char *text)
{
	bs_err_init(&err);
	return bs_retention_policy_load_string(&p, "r.yaml", text, &err);
}

TEST(file_top_level)
{
	bs_err_init(&err);
	CHECK_INT(bs_retention_policy_load(&p, "tests/data/config/policies/retention.yaml", &err), 0);
	CHECK_STR(err.msg, "");
	CHECK_INT(p.keep_last, BS_RETENTION_UNSET);
	CHECK_INT(p.keep_hourly, 24);
	CHECK_INT(p.keep_daily, 35);
	CHECK_INT(p.keep_weekly, 8);
	CHECK_INT(p.keep_monthly, BS_RETENTION_UNSET);
	CHECK_INT(p.keep_yearly, 0);
	CHECK_INT(p.keep_window, 30 * 86400);
	CHECK_INT(p.keep_within, 0);
	CHECK_INT(p.keep_newest, 1);
	/* defaults from bs_retention_policy_init */
	CHECK_INT(p.min_keep, 1);
	CHECK_INT(p.keep_newest_verified, 1);
	CHECK_INT(p.orphan_grace, 86400);
	CHECK_STR(p.timezone, "UTC");
}

TEST(file_wrapped)
{
	bs_err_init(&err);
	CHECK_INT(bs_retention_policy_load(&p, "tests/data/config/policies/retention_wrapped.yaml",
					   &err),
		  0);
	CHECK_INT(p.keep_daily, 10);
}

TEST(file_errors)
{
	bs_err_init(&err);
	CHECK_INT(bs_retention_policy_load(&p, "tests/data/config/policies/retention_bad.yaml", &err),
		  -1);
	CHECK_INT(err.code, BS_ERR_POLICY);
	CHECK_STR(err.msg, "tests/data/config/policies/retention_bad.yaml:2:14: negative count -3 "
			   "for 'keep_weekly'");

	bs_err_init(&err);
	CHECK_INT(bs_retention_policy_load(&p, "tests/data/config/policies/retention_empty.yaml",
					   &err),
		  -1);
	CHECK_INT(err.code, BS_ERR_POLICY);
	CHECK_STR(err.msg, "tests/data/config/policies/retention_empty.yaml: invalid retention "
			   "policy: no keep rule is set (empty policy)");

	bs_err_init(&err);
	CHECK_INT(bs_retention_policy_load(&p, "tests/data/config/policies/none.yaml", &err), -1);
	CHECK_INT(err.code, BS_ERR_POLICY);
	CHECK_STR(err.msg, "unable to read retention policy 'tests/data/config/policies/none.yaml': "
			   "No such file or directory");
}

TEST(counts)
{
	CHECK_INT(load_str("keep_last: 0\nkeep_daily: unlimited\nkeep_weekly: UNLIMITED\n"
			   "keep_monthly: 12\nkeep_yearly: ~\n"),
		  0);
	CHECK_INT(p.keep_last, 0);
	CHECK_INT(p.keep_daily, BS_RETENTION_UNLIMITED);
	CHECK_INT(p.keep_weekly, BS_RETENTION_UNLIMITED);
	CHECK_INT(p.keep_monthly, 12);
	CHECK_INT(p.keep_yearly, BS_RETENTION_UNSET);

	CHECK_INT(load_str("keep_daily: -2\n"), -1);
	CHECK_INT(err.code, BS_ERR_POLICY);
	CHECK_STR(err.msg, "r.yaml:1:13: negative count -2 for 'keep_daily'");
	CHECK(strstr(err.hint, "'unlimited'") != NULL);
	/* -1 is restic's "unlimited" but our "unset": refused, never guessed */
	CHECK_INT(load_str("keep_hourly: -1\n"), -1);
	CHECK_STR(err.msg, "r.yaml:1:14: negative count -1 for 'keep_hourly'");
	CHECK_INT(load_str("keep_last: seven\n"), -1);
	CHECK_STR(err.msg, "r.yaml:1:12: invalid integer 'seven' for 'keep_last'");
	CHECK_STR(err.hint, "write a count (0 turns the rule off) or 'unlimited'");
	CHECK_INT(load_str("keep_last: [1]\n"), -1);
	CHECK_STR(err.msg, "r.yaml:1:12: expected an integer for 'keep_last', got a sequence");
	CHECK_INT(load_str("keep_last: 3\nmin_keep: -1\n"), -1);
	CHECK_STR(err.msg, "r.yaml:2:11: value -1 for 'min_keep' is out of range (minimum 0)");
}

TEST(other_keys)
{
	CHECK_INT(load_str("keep_within: 2d12h\nkeep_window: 4w\norphan_grace: 0\nmin_keep: 3\n"
			   "keep_newest: off\nkeep_newest_verified: no\ntimezone: UTC\n"),
		  0);
	CHECK_INT(p.keep_within, 2 * 86400 + 12 * 3600);
	CHECK_INT(p.keep_window, 28 * 86400);
	CHECK_INT(p.orphan_grace, 0);
	CHECK_INT(p.min_keep, 3);
	CHECK_INT(p.keep_newest, 0);
	CHECK_INT(p.keep_newest_verified, 0);

	CHECK_INT(load_str("keep_within: 1 week\n"), -1);
	CHECK_STR(err.msg, "r.yaml:1:14: invalid duration '1 week' for 'keep_within': unknown unit");
	CHECK_INT(load_str("keep_newest: sometimes\n"), -1);
	CHECK_STR(err.msg, "r.yaml:1:14: invalid boolean 'sometimes' for 'keep_newest'");
	CHECK_INT(load_str("keep_daly: 3\n"), -1);
	CHECK_STR(err.msg, "r.yaml:1:1: unknown key 'keep_daly'");
	CHECK_STR(err.hint, "did you mean 'keep_daily'?");
	CHECK_INT(load_str("retention:\n  keep_daly: 3\n"), -1);
	CHECK_STR(err.msg, "r.yaml:2:3: unknown key 'keep_daly' in 'retention'");
	CHECK_INT(load_str("keep_daily: 3\nkeep_daily: 4\n"), -1);
	CHECK_INT(err.code, BS_ERR_POLICY);
	CHECK_STR(err.msg, "r.yaml:2:1: duplicate key 'keep_daily'");
	CHECK_INT(load_str("keep_daily: [3\n"), -1);
	CHECK_INT(err.code, BS_ERR_POLICY);
	CHECK(strncmp(err.msg, "r.yaml:2:1: invalid YAML: ", 26) == 0);
}

TEST(timezones)
{
	struct stat st;

	CHECK_INT(load_str("keep_daily: 1\ntimezone: ../../etc/passwd\n"), -1);
	CHECK_STR(err.msg, "r.yaml:2:11: invalid time zone '../../etc/passwd' for 'timezone'");
	CHECK_INT(load_str("keep_daily: 1\ntimezone: \"Europe/Paris; x\"\n"), -1);
	CHECK_STR(err.msg, "r.yaml:2:11: invalid time zone 'Europe/Paris; x' for 'timezone'");
	CHECK_INT(load_str("keep_daily: 1\ntimezone: "
			   "America/Argentina/ComodRivadavia/And/Much/More/Than/64/Characters\n"),
		  -1);
	CHECK_STR(err.msg, "r.yaml:2:11: value for 'timezone' is too long (at most 63 bytes)");
	if (stat("/usr/share/zoneinfo/Europe/Paris", &st) != 0)
		SKIP("no time zone database in /usr/share/zoneinfo");
	CHECK_INT(load_str("keep_daily: 1\ntimezone: Europe/Paris\n"), 0);
	CHECK_STR(p.timezone, "Europe/Paris");
	CHECK_INT(load_str("keep_daily: 1\ntimezone: Mars/Olympus_Mons\n"), -1);
	CHECK_STR(err.msg, "r.yaml:2:11: unknown time zone 'Mars/Olympus_Mons' for 'timezone'");
}

/* Every error of a file at once, each at its line:column, then fail. */
TEST(every_error_reported)
{
	CHECK_INT(load_str("keep_dayly: 3\n"
			   "keep_weekly: -2\n"
			   "keep_monthly: 12\n"
			   "orphan_grace: 1 day\n"),
		  -1);
	CHECK_INT(err.code, BS_ERR_POLICY);
	CHECK_STR(err.msg, "r.yaml: 3 errors");
	CHECK(strstr(err.detail, "r.yaml:1:1: unknown key 'keep_dayly'\n") == err.detail);
	CHECK(strstr(err.detail, "hint: did you mean 'keep_daily'?") != NULL);
	CHECK(strstr(err.detail, "\n        r.yaml:2:14: negative count -2 for 'keep_weekly'") != NULL);
	CHECK(strstr(err.detail, "\n        r.yaml:4:15: invalid duration '1 day' for 'orphan_grace'") !=
	      NULL);
	CHECK(strstr(err.detail, "keep_monthly") == NULL);
	/* one error: as it is, with its own hint */
	CHECK_INT(load_str("keep_daily: 3\nkeep_weekly: -2\n"), -1);
	CHECK_STR(err.msg, "r.yaml:2:14: negative count -2 for 'keep_weekly'");
	CHECK(strstr(err.hint, "'unlimited'") != NULL);
	/* the loader's errors with the binder's, as a policy error */
	unsetenv("BS_TEST_UNSET_A");
	CHECK_INT(load_str("keep_daily: ${BS_TEST_UNSET_A}\nkeep_weekly: -1\nkeep_weekly: 2\n"), -1);
	CHECK_INT(err.code, BS_ERR_POLICY);
	CHECK_STR(err.msg, "r.yaml: 3 errors");
	CHECK(strstr(err.detail, "r.yaml:1:13: environment variable 'BS_TEST_UNSET_A' is not set") ==
	      err.detail);
	CHECK(strstr(err.detail, "r.yaml:3:1: duplicate key 'keep_weekly'") != NULL);
	CHECK(strstr(err.detail, "r.yaml:2:14: negative count -1 for 'keep_weekly'") != NULL);
	/* wrapped under retention: */
	CHECK_INT(load_str("retention:\n  keep_daly: 3\n  min_keep: x\n  keep_within: 6m\n"), -1);
	CHECK_STR(err.msg, "r.yaml: 3 errors");
	CHECK(strstr(err.detail, "r.yaml:2:3: unknown key 'keep_daly' in 'retention'") != NULL);
	CHECK(strstr(err.detail, "r.yaml:3:13: invalid integer 'x' for 'retention.min_keep'") != NULL);
	CHECK(strstr(err.detail, "r.yaml:4:16: ambiguous unit 'm' in '6m' for 'retention.keep_within'") !=
	      NULL);
}

TEST(every_error_in_a_drill_policy)
{
	struct bs_drill_policy d;

	bs_err_init(&err);
	CHECK_INT(bs_drill_policy_load_string(&d, "d.yaml",
					      "max_rto: 5 minutes\n"
					      "max_snapshot_ag: 1d\n"
					      "smoke_timeout: [1]\n",
					      &err),
		  -1);
	CHECK_INT(err.code, BS_ERR_POLICY);
	CHECK_STR(err.msg, "d.yaml: 3 errors");
	CHECK(strstr(err.detail, "d.yaml:1:10: invalid duration '5 minutes' for 'max_rto'") == err.detail);
	CHECK(strstr(err.detail, "d.yaml:2:1: unknown key 'max_snapshot_ag'") != NULL);
	CHECK(strstr(err.detail, "d.yaml:3:16: expected a duration for 'smoke_timeout', got a sequence") !=
	      NULL);
	bs_drill_policy_release(&d);
}

/* Both policies go through config/policy_load: the YAML loader's errors
 * (unset variables, duplicate keys) are reported with the binder's and the
 * drill's own rules, and a value the loader could not read is not judged
 * again (no "says nothing about its result" for an unreadable expect). */
TEST(loader_errors_in_a_drill_policy)
{
	struct bs_drill_policy d;

	unsetenv("BS_TEST_UNSET_D");
	bs_err_init(&err);
	CHECK_INT(bs_drill_policy_load_string(&d, "d.yaml",
					      "max_rto: ${BS_TEST_UNSET_D}\n"
					      "smoke:\n"
					      "  - name: ${BS_TEST_UNSET_D}\n"
					      "    sql: select true\n"
					      "    expect: true\n"
					      "  - name: b\n"
					      "    sql: select 1\n"
					      "    expect: true\n"
					      "    min_rows: 1\n"
					      "  - ${BS_TEST_UNSET_D}\n"
					      "  - name: c\n"
					      "    sql: select 1\n"
					      "    expect: ${BS_TEST_UNSET_D}\n"
					      "stale_grace: 1 day\n"
					      "stale_grace: 2s\n",
					      &err),
		  -1);
	CHECK_INT(err.code, BS_ERR_POLICY);
	CHECK_STR(err.msg, "d.yaml: 7 errors");
	CHECK(strstr(err.detail, "d.yaml:1:10: environment variable 'BS_TEST_UNSET_D' is not set") ==
	      err.detail);
	CHECK(strstr(err.detail, "d.yaml:3:11: environment variable 'BS_TEST_UNSET_D' is not set") != NULL);
	CHECK(strstr(err.detail, "d.yaml:10:5: environment variable 'BS_TEST_UNSET_D' is not set") != NULL);
	CHECK(strstr(err.detail, "d.yaml:13:13: environment variable 'BS_TEST_UNSET_D' is not set") != NULL);
	CHECK(strstr(err.detail, "d.yaml:15:1: duplicate key 'stale_grace'") != NULL);
	CHECK(strstr(err.detail, "d.yaml:8:5: smoke query 'b' has both 'expect' and a row range") != NULL);
	CHECK(strstr(err.detail, "d.yaml:14:14: invalid duration '1 day' for 'stale_grace'") != NULL);
	CHECK(strstr(err.detail, "says nothing") == NULL);
	CHECK(d.smoke == NULL && d.nsmoke == 0 && d.path == NULL); /* released */
	bs_drill_policy_release(&d);
}

/* restic reads "6m" as six months; backstop's other durations as minutes:
 * a retention duration refuses the unit, naming what to write instead. */
TEST(no_ambiguous_minutes)
{
	static const char *const refused[] = {
		"keep_within: 6m\n", "keep_window: 1y5m7d2h\n", "keep_daily: 1\norphan_grace: 90m\n",
		"keep_within: 1d30m\n",
	};
	size_t i;

	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		CHECK_INT(load_str(refused[i]), -1);
		CHECK_INT(err.code, BS_ERR_POLICY);
		CHECK(strstr(err.msg, "ambiguous unit 'm'") != NULL);
		CHECK(strstr(err.detail, "restic reads 'm' as months") != NULL);
		CHECK(strstr(err.hint, "'183d'") != NULL && strstr(err.hint, "'26w'") != NULL);
	}
	CHECK_INT(load_str("keep_within: 6m\n"), -1);
	CHECK_STR(err.msg, "r.yaml:1:14: ambiguous unit 'm' in '6m' for 'keep_within'");
	/* the unambiguous spellings */
	CHECK_INT(load_str("keep_within: 183d\nkeep_window: 1y2w3d4h\norphan_grace: 5400s\n"), 0);
	CHECK_INT(p.keep_within, 183 * 86400);
	CHECK_INT(p.keep_window, 365 * 86400 + 17 * 86400 + 4 * 3600);
	CHECK_INT(p.orphan_grace, 5400);
}

int main(void)
{
	RUN(file_top_level);
	RUN(file_wrapped);
	RUN(file_errors);
	RUN(counts);
	RUN(other_keys);
	RUN(timezones);
	RUN(every_error_reported);
	RUN(every_error_in_a_drill_policy);
	RUN(loader_errors_in_a_drill_policy);
	RUN(no_ambiguous_minutes);
	return DONE();
}
