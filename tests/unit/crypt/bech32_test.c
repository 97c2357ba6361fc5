/* bech32_test.c - lib/crypt/bech32.c and base64.c: BIP173 vectors, the
 * age spec's example key, and the strictness age requires. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "crypt/age.h"
#include "crypt/age_int.h"

TEST(bip173_valid_strings_decode_and_reencode)
{
	/* BIP173 valid bech32 strings whose data part is whole bytes */
	static const char *valid[] = {
		"A12UEL5L",
		"a12uel5l",
		"an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
		"abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
		"11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j",
		"split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
		"?1ezyfcl",
	};
	size_t i;

	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		char hrp[100], again[200];
		uint8_t data[100];
		size_t n = 0;
		const char *why = NULL;
		int upper = valid[i][0] == 'A';

		if (age_bech32_decode(valid[i], hrp, sizeof(hrp), data, sizeof(data), &n, &why) != 0) {
			printf("#   %s: %s\n", valid[i], why);
			CHECK(!"valid string decodes");
			continue;
		}
		CHECK_INT(age_bech32_encode(hrp, data, n, upper, again, sizeof(again)), 0);
		CHECK_STR(again, valid[i]);
	}
}

TEST(bip173_invalid_strings_rejected)
{
	static const char *invalid[] = {
		"pzry9x0s0muk",   /* no separator */
		"1pzry9x0s0muk",  /* empty hrp */
		"x1b4n0q5v",      /* invalid data character */
		"li1dgmt3",       /* checksum too short */
		"de1lg7wt\xff",   /* invalid character */
		"A1G7SGD8",       /* checksum computed over an uppercase hrp */
		"10a06t8",        /* empty hrp */
		"1qzzfhee",       /* empty hrp */
		"a12UEL5L",       /* mixed case */
		"a12uel5m",       /* bad checksum */
		"abc def1qqqqqqqq", /* space */
	};
	size_t i;

	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		char hrp[100];
		uint8_t data[100];
		size_t n;
		const char *why = NULL;

		if (age_bech32_decode(invalid[i], hrp, sizeof(hrp), data, sizeof(data), &n, &why) == 0) {
			printf("#   accepted '%s'\n", invalid[i]);
			CHECK(!"invalid string rejected");
		}
		CHECK(why != NULL);
	}
}

TEST(age_spec_example_key)
{
	/* from the age specification (C2SP age.md) */
	char *rcpt = NULL;
	struct bs_err err;

	bs_err_init(&err);
	CHECK_INT(bs_age_identity_to_recipient(
			  "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX",
			  &rcpt, &err),
		  0);
	CHECK_STR(rcpt, "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj");
	free(rcpt);
}

TEST(base64_strict)
{
	uint8_t out[64];
	char enc[100];
	size_t n = 0, i;

	/* round trips of every length 0..40 */
	for (i = 0; i <= 40; i++) {
		uint8_t in[40];
		size_t k;
		for (k = 0; k < i; k++)
			in[k] = (uint8_t)(k * 37 + i);
		bs_b64_encode(in, i, enc);
		CHECK_INT(strlen(enc), bs_b64_len(i));
		CHECK(strchr(enc, '=') == NULL);
		CHECK_INT(bs_b64_decode(enc, strlen(enc), out, sizeof(out), &n), 0);
		CHECK_INT(n, i);
		CHECK(memcmp(in, out, i) == 0);
	}
	CHECK_INT(bs_b64_decode("YQ", 2, out, sizeof(out), &n), 0);
	CHECK(n == 1 && out[0] == 'a');
	CHECK_INT(bs_b64_decode("YR", 2, out, sizeof(out), &n), -1);   /* non-canonical bits */
	CHECK_INT(bs_b64_decode("YQ==", 4, out, sizeof(out), &n), -1); /* padding */
	CHECK_INT(bs_b64_decode("Y", 1, out, sizeof(out), &n), -1);    /* impossible length */
	CHECK_INT(bs_b64_decode("YW Jj", 5, out, sizeof(out), &n), -1); /* whitespace */
	CHECK_INT(bs_b64_decode("YW-j", 4, out, sizeof(out), &n), -1); /* URL alphabet */
	CHECK_INT(bs_b64_decode("YWJjZGVm", 8, out, 5, &n), -1);       /* too long for cap */
}

int main(void)
{
	RUN(bip173_valid_strings_decode_and_reencode);
	RUN(bip173_invalid_strings_rejected);
	RUN(age_spec_example_key);
	RUN(base64_strict);
	return DONE();
}
