/* human_test.c - sizes and durations for people. */
#include "common/human.h"
#include "harness.h"

TEST(ms)
{
	char b[32];

	bs_human_ms(4200, b, sizeof(b));
	CHECK_STR(b, "4.2s");
	bs_human_ms(185000, b, sizeof(b));
	CHECK_STR(b, "3m05s");
	bs_human_ms(3720000, b, sizeof(b));
	CHECK_STR(b, "1h02m");
	bs_human_ms(-1, b, sizeof(b));
	CHECK_STR(b, "-");
}

TEST(bytes)
{
	char b[32];

	bs_human_bytes(512, b, sizeof(b));
	CHECK_STR(b, "512 B");
	bs_human_bytes(1536, b, sizeof(b));
	CHECK_STR(b, "1.5 KiB");
	bs_human_bytes(5ULL << 30, b, sizeof(b));
	CHECK_STR(b, "5.0 GiB");
}

int main(void)
{
	RUN(ms);
	RUN(bytes);
	return DONE();
}
