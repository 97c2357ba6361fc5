/* duration.c - see duration.h */
#include "common/duration.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const struct {
	char unit;
	int64_t secs;
} units[] = {
	{'y', 365 * 86400LL}, {'w', 7 * 86400LL}, {'d', 86400},
	{'h', 3600},          {'m', 60},          {'s', 1},
};
#define NUNITS (sizeof(units) / sizeof(units[0]))

static int bad(struct bs_err *err, const char *s, const char *why)
{
	bs_err_set(err, BS_ERR_CONFIG, "invalid duration '%s': %s", s, why);
	bs_err_hint(err, "write a number followed by a unit (s, m, h, d, w or y), "
			 "e.g. '30d', '12h' or '1d12h'; 'm' means minutes");
	return -1;
}

int bs_duration_parse(const char *s, int64_t *out, struct bs_err *err)
{
	const char *p;
	int64_t total = 0;
	size_t next_unit = 0; /* units must come in descending order */

	if (!s)
		return bad(err, "", "empty value");
	if (!*s)
		return bad(err, s, "empty value");
	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	p = s;
	while (*p) {
		int64_t num = 0;
		size_t u;

		if (*p < '0' || *p > '9')
			return bad(err, s, *p == '-' ? "negative durations are not allowed"
						     : "expected a number");
		while (*p >= '0' && *p <= '9') {
			int d = *p - '0';

			if (num > (INT64_MAX - d) / 10)
				return bad(err, s, "value too large");
			num = num * 10 + d;
			p++;
		}
		if (!*p)
			return bad(err, s, "missing unit after the number");
		for (u = 0; u < NUNITS; u++)
			if (units[u].unit == *p)
				break;
		if (u == NUNITS)
			return bad(err, s, "unknown unit");
		if (u < next_unit)
			return bad(err, s, "units must appear once each, largest first");
		next_unit = u + 1;
		if (num > (INT64_MAX - total) / units[u].secs)
			return bad(err, s, "value too large");
		total += num * units[u].secs;
		p++;
	}
	*out = total;
	return 0;
}

char *bs_duration_format(int64_t secs, char *buf, size_t n)
{
	static const struct {
		char unit;
		int64_t secs;
	} out_units[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
	uint64_t mag;
	size_t i;

	if (n == 0)
		return buf;
	mag = secs < 0 ? (uint64_t)(-(secs + 1)) + 1 : (uint64_t)secs;
	if (mag == 0) {
		snprintf(buf, n, "0s");
		return buf;
	}
	for (i = 0; i < sizeof(out_units) / sizeof(out_units[0]); i++) {
		if (mag % (uint64_t)out_units[i].secs == 0) {
			snprintf(buf, n, "%s%" PRIu64 "%c", secs < 0 ? "-" : "",
				 mag / (uint64_t)out_units[i].secs, out_units[i].unit);
			break;
		}
	}
	return buf;
}
