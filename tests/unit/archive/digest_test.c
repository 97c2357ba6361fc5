/* digest_test.c - properties of the order-independent row digest. */
#include <stdlib.h>
#include <string.h>

#include "archive/digest.h"
#include "harness.h"

TEST(empty_is_zero)
{
	struct bs_digest d;
	char hex[BS_DIGEST_HEX_LEN + 1];

	bs_digest_init(&d);
	bs_digest_hex(&d, hex);
	CHECK_STR(hex, "00000000000000000000000000000000");
	CHECK_INT(d.rows, 0);
}

TEST(known_vector)
{
	/* SHA-256("abc") = ba7816bf 8f01cfea 414140de 5dae2223 ...; the first 16
	 * bytes read little endian, printed most significant first */
	struct bs_digest d;
	char hex[BS_DIGEST_HEX_LEN + 1];

	bs_digest_init(&d);
	bs_digest_add_row(&d, "abc", 3);
	bs_digest_hex(&d, hex);
	CHECK_STR(hex, "2322ae5dde404141eacf018fbf1678ba");
}

TEST(order_independent)
{
	const char *rows[] = { "1\talice\t10", "2\tbob\t\\N", "3\tcarol\t-1.5", "", "4\t\\t\\n" };
	struct bs_digest a, b, p;
	char buf[256];
	size_t i, n = 0;

	bs_digest_init(&a);
	bs_digest_init(&b);
	bs_digest_init(&p);
	for (i = 0; i < 5; i++)
		bs_digest_add_row(&a, rows[i], strlen(rows[i]));
	for (i = 5; i-- > 0;)
		bs_digest_add_row(&b, rows[i], strlen(rows[i]));
	CHECK(bs_digest_equal(&a, &b));
	CHECK_INT(a.rows, 5);
	/* payload form (rows joined by newlines) gives the same digest */
	for (i = 0; i < 5; i++)
		n += (size_t)sprintf(buf + n, "%s\n", rows[(i + 2) % 5]);
	bs_digest_add_payload(&p, buf, n);
	CHECK(bs_digest_equal(&a, &p));
	CHECK_INT(p.rows, 5);
	/* a changed row changes it */
	bs_digest_init(&b);
	for (i = 0; i < 5; i++)
		bs_digest_add_row(&b, i == 2 ? "3\tcarol\t-1.6" : rows[i], strlen(rows[i]));
	CHECK(!bs_digest_equal(&a, &b));
	/* a duplicated row is not a no-op */
	bs_digest_add_row(&b, rows[0], strlen(rows[0]));
	CHECK(!bs_digest_equal(&a, &b));
}

TEST(merge_is_sum)
{
	struct bs_digest all, c1, c2, c3, m;
	char row[32];
	int i;

	bs_digest_init(&all);
	bs_digest_init(&c1);
	bs_digest_init(&c2);
	bs_digest_init(&c3);
	for (i = 0; i < 3000; i++) {
		int n = snprintf(row, sizeof(row), "%d\tx%d", i, i * 31);
		bs_digest_add_row(&all, row, (size_t)n);
		bs_digest_add_row(i % 3 == 0 ? &c1 : i % 3 == 1 ? &c2 : &c3, row, (size_t)n);
	}
	bs_digest_init(&m);
	bs_digest_merge(&m, &c3);
	bs_digest_merge(&m, &c1);
	bs_digest_merge(&m, &c2);
	CHECK(bs_digest_equal(&m, &all));
	CHECK_INT(m.rows, 3000);
}

TEST(carry_and_wraparound)
{
	struct bs_digest a, b;
	char hex[BS_DIGEST_HEX_LEN + 1];

	bs_digest_init(&a);
	bs_digest_init(&b);
	CHECK_INT(bs_digest_from_hex(&a, "0000000000000000ffffffffffffffff"), 0);
	CHECK_INT(bs_digest_from_hex(&b, "00000000000000000000000000000001"), 0);
	bs_digest_merge(&a, &b);
	bs_digest_hex(&a, hex);
	CHECK_STR(hex, "00000000000000010000000000000000");
	CHECK_INT(bs_digest_from_hex(&a, "ffffffffffffffffffffffffffffffff"), 0);
	bs_digest_merge(&a, &b);
	bs_digest_hex(&a, hex);
	CHECK_STR(hex, "00000000000000000000000000000000");
}

TEST(hex_parse)
{
	struct bs_digest d;
	char hex[BS_DIGEST_HEX_LEN + 1];

	CHECK_INT(bs_digest_from_hex(&d, "0123456789abcdef0123456789abcdef"), 0);
	bs_digest_hex(&d, hex);
	CHECK_STR(hex, "0123456789abcdef0123456789abcdef");
	CHECK_INT(bs_digest_from_hex(&d, "0123456789ABCDEF0123456789abcdef"), -1);
	CHECK_INT(bs_digest_from_hex(&d, "0123"), -1);
	CHECK_INT(bs_digest_from_hex(&d, NULL), -1);
	CHECK_INT(bs_digest_from_hex(&d, "0123456789abcdef0123456789abcdeg"), -1);
}

TEST(object_digest)
{
	struct bs_digest a, b;
	struct bs_digest_obj *o;

	/* streamed in pieces = one piece; label matters */
	bs_digest_init(&a);
	bs_digest_init(&b);
	o = bs_digest_obj_begin("16400");
	bs_digest_obj_update(o, "hello ", 6);
	bs_digest_obj_update(o, "world", 5);
	bs_digest_obj_end(&a, o);
	o = bs_digest_obj_begin("16400");
	bs_digest_obj_update(o, "hello world", 11);
	bs_digest_obj_end(&b, o);
	CHECK(bs_digest_equal(&a, &b));
	CHECK_INT(a.rows, 1);
	/* equals a row digest of "16400:hello world" */
	bs_digest_init(&b);
	bs_digest_add_row(&b, "16400:hello world", 17);
	CHECK(bs_digest_equal(&a, &b));
	bs_digest_init(&b);
	o = bs_digest_obj_begin("16401");
	bs_digest_obj_update(o, "hello world", 11);
	bs_digest_obj_end(&b, o);
	CHECK(!bs_digest_equal(&a, &b));
	bs_digest_obj_free(bs_digest_obj_begin("x"));
	bs_digest_obj_free(NULL);
}

int main(void)
{
	RUN(empty_is_zero);
	RUN(known_vector);
	RUN(order_independent);
	RUN(merge_is_sum);
	RUN(carry_and_wraparound);
	RUN(hex_parse);
	RUN(object_digest);
	return DONE();
}
