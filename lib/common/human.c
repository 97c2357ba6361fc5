/* human.c - see human.h */
#include "common/human.h"

#include <inttypes.h>
#include <stdio.h>

void bs_human_bytes(uint64_t bytes, char *out, size_t n)
{
	static const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = (double)bytes;
	int i = 0;

	while (d >= 1024 && i < 4) {
		d /= 1024;
		i++;
	}
	snprintf(out, n, i ? "%.1f %s" : "%.0f %s", d, u[i]);
}

void bs_human_ms(int64_t ms, char *out, size_t n)
{
	int64_t s;

	if (ms < 0) {
		snprintf(out, n, "-");
		return;
	}
	s = ms / 1000;
	if (s < 60)
		snprintf(out, n, "%.1fs", (double)ms / 1000.0);
	else if (s < 3600)
		snprintf(out, n, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
	else
		snprintf(out, n, "%" PRId64 "h%02" PRId64 "m", s / 3600, s % 3600 / 60);
}
