/* rowhash_test.c - lib/drill/rowhash.c computes exactly bs_digest_add_row. */
#include <string.h>

#include "drill/drill_int.h"
#include "harness.h"

TEST(same_as_digest_add_row)
{
	struct bs_digest a, b;
	char row[300];
	int i;

	bs_digest_init(&a);
	bs_digest_init(&b);
	for (i = 0; i < 5000; i++) {
		/* lengths across SHA-256 block boundaries (55/56/64 bytes) */
		int n = snprintf(row, sizeof(row), "%d\t%.*s\t\\N", i, i % 200, "abcdefghijklmnopqrstuvwxyz"
			"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
			"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
			"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz");
		bs_digest_add_row(&a, row, (size_t)n);
		drill_row_digest(&b, row, (size_t)n);
	}
	bs_digest_add_row(&a, "", 0);
	drill_row_digest(&b, "", 0);
	CHECK(bs_digest_equal(&a, &b));
	CHECK_INT(a.rows, b.rows);
	CHECK_INT(b.rows, 5001);
}

int main(void)
{
	RUN(same_as_digest_add_row);
	return DONE();
}
