/*
 * fuzz_age_header.c - bs_age_decrypt_new and reads of the payload stream, on
 * arbitrary bytes: the age header parser (version line, stanzas, base64,
 * MAC line), the X25519 and scrypt stanza checks, and the STREAM reader.
 *
 * The identities are those of the C2SP CCTV vectors (tests/data/age), from
 * which the seed corpus is made, so that well-formed inputs get past the
 * header.  A passphrase is tried only when every scrypt stanza asks for a
 * work factor of at most 2^12: age allows up to 2^22 (4 GiB, seconds per
 * input), a cost the format lets any file impose and the fuzzer would only
 * rediscover.
 *
 * Properties: a failed call sets a message; the payload reader never
 * returns 0 (a clean end) after an error, and released plaintext never
 * exceeds what the input could hold.
 */
#include "crypt/age.h"
#include "crypt/age_int.h"
#include "fuzz.h"

#define FUZZ_SCRYPT_MAX_LOG_N 12

static struct bs_age_identities *ids_keys, *ids_all;

static void setup(void)
{
	static const char *keys[] = {
		"AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0",
		"AGE-SECRET-KEY-143WN7DCXU4G8R5AXQSSYD9AEPYDNT3HXSLWSPK36CDU6E8M59SSSAGZ3KG",
	};
	struct bs_err err;
	size_t i;

	fuzz_quiet();
	bs_err_init(&err);
	ids_keys = bs_age_identities_new();
	ids_all = bs_age_identities_new();
	FUZZ_ASSERT(ids_keys && ids_all);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		FUZZ_ASSERT(bs_age_identities_add(ids_keys, keys[i], &err) == 0);
		FUZZ_ASSERT(bs_age_identities_add(ids_all, keys[i], &err) == 0);
	}
	FUZZ_ASSERT(bs_age_identities_add_passphrase(ids_all, "password", &err) == 0);
	FUZZ_ASSERT(bs_age_identities_add_passphrase(ids_all, "hunter2", &err) == 0);
}

/* 1 if the header parses and holds an scrypt stanza above the fuzzing
 * limit (or one whose work factor cannot be read: the library refuses it
 * before deriving anything, so a passphrase costs nothing there either,
 * but stay on the safe side). */
static int expensive_scrypt(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size, *mac;
	struct age_header h = {0};
	struct bs_err err;
	size_t i, len;
	int log_n, expensive = 0;

	/* the header ends with the line that starts "---" */
	for (mac = NULL; p < end; p++) {
		if ((p == data || p[-1] == '\n') && end - p >= 3 && memcmp(p, "---", 3) == 0) {
			mac = p;
			break;
		}
	}
	if (!mac)
		return 0;
	p = memchr(mac, '\n', (size_t)(end - mac));
	if (!p)
		return 0;
	len = (size_t)(p - data) + 1;
	bs_err_init(&err);
	if (age_header_parse((const char *)data, len, &h, &err) < 0)
		return 0;
	for (i = 0; i < h.n; i++) {
		if (strcmp(h.st[i].args[0], "scrypt") != 0)
			continue;
		if (age_scrypt_check(&h.st[i], &log_n, &err) < 0 || log_n > FUZZ_SCRYPT_MAX_LOG_N)
			expensive = 1;
	}
	age_header_release(&h);
	return expensive;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[AGE_CHUNK + 1];
	const struct bs_age_identities *ids;
	struct bs_rstream *in, *dec;
	struct bs_err err;
	uint64_t total = 0;
	ssize_t n;

	if (!ids_keys)
		setup();
	bs_err_init(&err);
	(void)bs_age_is_encrypted(data, size);
	ids = expensive_scrypt(data, size) ? ids_keys : ids_all;
	in = bs_rstream_mem(data, size);
	FUZZ_ASSERT(in);
	dec = bs_age_decrypt_new(in, ids, &err);
	if (!dec) {
		fuzz_check_err(-1, &err);
		return 0;
	}
	for (;;) {
		n = bs_rstream_read(dec, buf, sizeof(buf), &err);
		if (n <= 0)
			break;
		FUZZ_ASSERT((size_t)n <= sizeof(buf));
		total += (uint64_t)n;
	}
	fuzz_check_err((int)n, &err);
	/* every chunk carries a 16-byte tag: plaintext is smaller than the input */
	FUZZ_ASSERT(total < size);
	if (n == 0) {
		/* a clean end stays a clean end */
		FUZZ_ASSERT(bs_rstream_read(dec, buf, sizeof(buf), &err) == 0);
	}
	bs_rstream_free(dec);
	return 0;
}
