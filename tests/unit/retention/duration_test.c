/*
 * duration_test.c - bs_duration_parse / bs_duration_format (lib/common/duration.c).
 * Kept next to the retention tests, its main user.
 */
#include <stdint.h>
#include <string.h>

#include "common/duration.h"
#include "harness.h"

TEST(parse_each_unit)
{
	static const struct {
		const char *in;
		int64_t want;
	} ok[] = {
		{"45s", 45},
		{"90m", 5400},
		{"12h", 43200},
		{"30d", 2592000},
		{"2w", 1209600},
		{"1y", 31536000},
		{"1d12h", 129600},
		{"1y2w3d4h5m6s", 31536000 + 1209600 + 3 * 86400 + 4 * 3600 + 5 * 60 + 6},
		{"0", 0},
		{"0s", 0},
		{"007d", 7 * 86400},
		{"9223372036854775807s", INT64_MAX},
	};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct bs_err err;
		int64_t v = -42;

		bs_err_init(&err);
		CHECK_INT(bs_duration_parse(ok[i].in, &v, &err), 0);
		CHECK_INT(v, ok[i].want);
		CHECK_INT(err.code, BS_OK);
		if (v != ok[i].want)
			printf("#   input '%s'\n", ok[i].in);
	}
}

TEST(parse_rejects_bad_input)
{
	static const char *const bad[] = {
		"",      "30",    "d",     "30x",  "-5d",  "+5d",  "1.5h", "30D",
		" 30d",  "30d ",  "30 d",  "1h1d", "1d1d", "5M",   "1mo",  "h12",
		"9223372036854775808s",    "300000000000y",        "106751991167301d",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct bs_err err;
		int64_t v = -42;

		bs_err_init(&err);
		CHECK_INT(bs_duration_parse(bad[i], &v, &err), -1);
		CHECK_INT(err.code, BS_ERR_CONFIG);
		CHECK_INT(v, -42); /* untouched */
		CHECK(strstr(err.msg, "invalid duration '") == err.msg);
		CHECK(err.hint[0] != '\0');
		if (err.code != BS_ERR_CONFIG)
			printf("#   input '%s'\n", bad[i]);
	}
}

TEST(parse_null_and_messages)
{
	struct bs_err err;
	int64_t v = 7;

	bs_err_init(&err);
	CHECK_INT(bs_duration_parse(NULL, &v, &err), -1);
	CHECK_INT(err.code, BS_ERR_CONFIG);
	CHECK_INT(v, 7);

	CHECK_INT(bs_duration_parse("30x", &v, &err), -1);
	CHECK_STR(err.msg, "invalid duration '30x': unknown unit");
	CHECK(strstr(err.hint, "'m' means minutes") != NULL);

	CHECK_INT(bs_duration_parse("-5d", &v, &err), -1);
	CHECK_STR(err.msg, "invalid duration '-5d': negative durations are not allowed");

	CHECK_INT(bs_duration_parse("1h1d", &v, &err), -1);
	CHECK_STR(err.msg, "invalid duration '1h1d': units must appear once each, largest first");

	CHECK_INT(bs_duration_parse("30", &v, &err), -1);
	CHECK_STR(err.msg, "invalid duration '30': missing unit after the number");

	/* err may be NULL */
	CHECK_INT(bs_duration_parse("x", &v, NULL), -1);
}

TEST(format)
{
	char buf[BS_DURATION_FMT_MAX];

	CHECK_STR(bs_duration_format(0, buf, sizeof(buf)), "0s");
	CHECK_STR(bs_duration_format(45, buf, sizeof(buf)), "45s");
	CHECK_STR(bs_duration_format(5400, buf, sizeof(buf)), "90m");
	CHECK_STR(bs_duration_format(43200, buf, sizeof(buf)), "12h");
	CHECK_STR(bs_duration_format(86400, buf, sizeof(buf)), "1d");
	CHECK_STR(bs_duration_format(2592000, buf, sizeof(buf)), "30d");
	CHECK_STR(bs_duration_format(1209600, buf, sizeof(buf)), "14d");
	CHECK_STR(bs_duration_format(31536000, buf, sizeof(buf)), "365d");
	CHECK_STR(bs_duration_format(3601, buf, sizeof(buf)), "3601s");
	CHECK_STR(bs_duration_format(-60, buf, sizeof(buf)), "-1m");
	CHECK_STR(bs_duration_format(INT64_MAX, buf, sizeof(buf)), "9223372036854775807s");
	CHECK_STR(bs_duration_format(INT64_MIN, buf, sizeof(buf)), "-9223372036854775808s");
	CHECK_STR(bs_duration_format(2592000, buf, 3), "30");
}

TEST(format_parse_round_trip)
{
	static const int64_t vals[] = {0, 1, 59, 60, 61, 3599, 3600, 86399, 86400, 604800,
				       31536000, 123456789};
	size_t i;

	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		char buf[BS_DURATION_FMT_MAX];
		int64_t back = -1;

		bs_duration_format(vals[i], buf, sizeof(buf));
		CHECK_INT(bs_duration_parse(buf, &back, NULL), 0);
		CHECK_INT(back, vals[i]);
	}
}

int main(void)
{
	RUN(parse_each_unit);
	RUN(parse_rejects_bad_input);
	RUN(parse_null_and_messages);
	RUN(format);
	RUN(format_parse_round_trip);
	return DONE();
}
