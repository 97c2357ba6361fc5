/*
 * fuzz_age_stream.c - the age STREAM payload, as a property: whatever is
 * done to an encrypted archive, decryption gives back the plaintext that was
 * encrypted or fails; it never releases a byte that differs, and it never
 * ends cleanly short of the whole plaintext.
 *
 * A fuzzer cannot forge Poly1305 tags, so feeding it ciphertext alone only
 * tests the framing.  Here the input describes a plaintext and damage: the
 * target encrypts the plaintext to a fixed X25519 key (bs_age_encrypt_new,
 * 64 KiB chunks), damages the result, and decrypts it.
 *
 * Input layout:
 *   [0..3)   plaintext length, little-endian, modulo 4 chunks + 100 bytes
 *   [3]      number of damage operations (low 3 bits, at most 7)
 *   5 bytes  per operation: kind, then a 32-bit little-endian argument
 *   rest     the plaintext pattern (repeated to the length; zeros if empty)
 * Operations (kind mod 8): flip a bit; truncate; append bytes; cut a range;
 * swap two chunks; duplicate a chunk; drop a chunk; nothing.
 */
#include "crypt/age.h"
#include "crypt/age_int.h"
#include "fuzz.h"

#define PLAIN_MAX (4 * AGE_CHUNK + 100)

static struct bs_age_recipients *rcpt;
static struct bs_age_identities *ids;

static void setup(void)
{
	static const char *key = "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0";
	struct bs_err err;
	char *pub = NULL;

	fuzz_quiet();
	bs_err_init(&err);
	rcpt = bs_age_recipients_new();
	ids = bs_age_identities_new();
	FUZZ_ASSERT(rcpt && ids);
	FUZZ_ASSERT(bs_age_identities_add(ids, key, &err) == 0);
	FUZZ_ASSERT(bs_age_identity_to_recipient(key, &pub, &err) == 0);
	FUZZ_ASSERT(bs_age_recipients_add(rcpt, pub, &err) == 0);
	free(pub);
}

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void buf_reserve(struct buf *b, size_t need)
{
	if (need <= b->cap)
		return;
	b->cap = need + 1024;
	b->p = realloc(b->p, b->cap);
	FUZZ_ASSERT(b->p);
}

static void encrypt(const uint8_t *plain, size_t plen, struct buf *out)
{
	struct bs_wstream *mem = bs_wstream_mem(PLAIN_MAX * 2), *enc;
	struct bs_err err;
	const void *data;
	size_t len;

	bs_err_init(&err);
	FUZZ_ASSERT(mem);
	enc = bs_age_encrypt_new(mem, rcpt, &err);
	FUZZ_ASSERT(enc);
	FUZZ_ASSERT(bs_wstream_write(enc, plain, plen, &err) == 0);
	FUZZ_ASSERT(bs_wstream_finish(enc, &err) == 0);
	data = bs_wstream_mem_data(mem, &len);
	buf_reserve(out, len);
	memcpy(out->p, data, len);
	out->len = len;
	bs_wstream_free(enc);
}

/* Offset of the payload (after the header's MAC line and the nonce). */
static size_t payload_start(const struct buf *c)
{
	size_t i;

	for (i = 0; i + 4 <= c->len; i++)
		if (c->p[i] == '\n' && memcmp(c->p + i + 1, "---", 3) == 0)
			break;
	FUZZ_ASSERT(i + 4 <= c->len);
	i = (size_t)((uint8_t *)memchr(c->p + i + 1, '\n', c->len - i - 1) - c->p) + 1;
	return i + AGE_NONCE_LEN;
}

/* Apply one operation; returns 1 if the ciphertext changed. */
static int damage(struct buf *c, size_t payload, unsigned kind, uint32_t arg)
{
	size_t nchunks = (c->len - payload + AGE_ENC_CHUNK - 1) / AGE_ENC_CHUNK, a, b, alen, blen;
	size_t pos = c->len ? arg % c->len : 0, n;
	uint8_t *tmp;

	switch (kind % 8) {
	case 0: /* flip one bit */
		if (!c->len)
			return 0;
		c->p[pos] ^= (uint8_t)(1u << (arg >> 29));
		return 1;
	case 1: /* truncate */
		if (pos >= c->len)
			return 0;
		c->len = pos;
		return 1;
	case 2: /* append 1..64 bytes */
		n = (arg & 63) + 1;
		buf_reserve(c, c->len + n);
		memset(c->p + c->len, (int)(arg >> 8), n);
		c->len += n;
		return 1;
	case 3: /* cut a range of 1..256 bytes */
		n = ((arg >> 24) & 255) + 1;
		pos = c->len ? (arg & 0xffffff) % c->len : 0;
		if (pos >= c->len)
			return 0;
		if (n > c->len - pos)
			n = c->len - pos;
		memmove(c->p + pos, c->p + pos + n, c->len - pos - n);
		c->len -= n;
		return 1;
	}
	if (nchunks == 0)
		return 0;
	a = (arg & 0xffff) % nchunks;
	b = (arg >> 16) % nchunks;
	alen = a + 1 == nchunks ? c->len - payload - a * AGE_ENC_CHUNK : AGE_ENC_CHUNK;
	switch (kind % 8) {
	case 4: /* swap two whole (non-final) chunks */
		blen = b + 1 == nchunks ? c->len - payload - b * AGE_ENC_CHUNK : AGE_ENC_CHUNK;
		if (a == b || alen != AGE_ENC_CHUNK || blen != AGE_ENC_CHUNK)
			return 0;
		tmp = malloc(AGE_ENC_CHUNK);
		FUZZ_ASSERT(tmp);
		memcpy(tmp, c->p + payload + a * AGE_ENC_CHUNK, AGE_ENC_CHUNK);
		memcpy(c->p + payload + a * AGE_ENC_CHUNK, c->p + payload + b * AGE_ENC_CHUNK, AGE_ENC_CHUNK);
		memcpy(c->p + payload + b * AGE_ENC_CHUNK, tmp, AGE_ENC_CHUNK);
		free(tmp);
		return 1;
	case 5: /* duplicate chunk a in place */
		buf_reserve(c, c->len + alen);
		pos = payload + a * AGE_ENC_CHUNK;
		memmove(c->p + pos + alen, c->p + pos, c->len - pos);
		c->len += alen;
		return 1;
	case 6: /* drop chunk a */
		pos = payload + a * AGE_ENC_CHUNK;
		memmove(c->p + pos, c->p + pos + alen, c->len - pos - alen);
		c->len -= alen;
		return 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct buf cipher;
	static uint8_t *plain, out[AGE_CHUNK + 7];
	size_t plen, nops, i, payload, got = 0;
	const uint8_t *pattern;
	size_t npattern;
	struct bs_rstream *dec;
	struct bs_err err;
	int changed = 0;
	ssize_t n = 0;

	if (!rcpt)
		setup();
	if (!plain)
		plain = calloc(1, PLAIN_MAX);
	FUZZ_ASSERT(plain);
	if (size < 4)
		return 0;
	plen = ((size_t)data[0] | (size_t)data[1] << 8 | (size_t)data[2] << 16) % (PLAIN_MAX + 1);
	nops = data[3] & 7;
	if (size < 4 + nops * 5)
		return 0;
	pattern = data + 4 + nops * 5;
	npattern = size - 4 - nops * 5;
	for (i = 0; i < plen; i++)
		plain[i] = npattern ? pattern[i % npattern] : 0;

	encrypt(plain, plen, &cipher);
	payload = payload_start(&cipher);
	for (i = 0; i < nops; i++) {
		const uint8_t *op = data + 4 + i * 5;
		uint32_t arg = (uint32_t)op[1] | (uint32_t)op[2] << 8 | (uint32_t)op[3] << 16 |
			       (uint32_t)op[4] << 24;
		changed |= damage(&cipher, payload, op[0], arg);
	}

	bs_err_init(&err);
	dec = bs_age_decrypt_new(bs_rstream_mem(cipher.p, cipher.len), ids, &err);
	if (dec) {
		while ((n = bs_rstream_read(dec, out, sizeof(out), &err)) > 0) {
			/* only authenticated plaintext, in order */
			FUZZ_ASSERT(got + (size_t)n <= plen);
			FUZZ_ASSERT(memcmp(out, plain + got, (size_t)n) == 0);
			got += (size_t)n;
		}
		bs_rstream_free(dec);
	} else {
		n = -1;
	}
	fuzz_check_err((int)n, &err);
	if (n == 0)
		FUZZ_ASSERT(got == plen);   /* a clean end is the whole plaintext */
	if (!changed)
		FUZZ_ASSERT(n == 0);        /* an undamaged archive decrypts */
	return 0;
}
