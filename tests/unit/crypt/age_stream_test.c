/* age_stream_test.c - lib/crypt/age_stream.c: encrypt/decrypt round trips
 * at chunk boundaries, recipients, passphrases, and a table of damaged
 * archives (wrong key, tampered header, flipped payload byte, truncation). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "harness.h"
#include "crypt/age.h"
#include "crypt/age_int.h"

#define CHUNK 65536

/* ---- helpers ---- */

static uint8_t *pattern(size_t n)
{
	uint8_t *p = malloc(n ? n : 1);
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 131 + (i >> 16) * 7);
	return p;
}

/* Encrypt data to r, writing in pieces of step bytes (0: all at once). */
static uint8_t *encrypt(const struct bs_age_recipients *r, const uint8_t *data, size_t n,
			size_t step, size_t *out_len, struct bs_err *err)
{
	struct bs_wstream *mem = bs_wstream_mem(n + 1024 * 1024);
	struct bs_wstream *e;
	const void *buf;
	uint8_t *copy = NULL;
	size_t off = 0, len;

	/* e owns mem; its data is copied out before e is freed */
	e = bs_age_encrypt_new(mem, r, err);
	if (!e)
		return NULL;
	while (off < n) {
		size_t k = step && step < n - off ? step : n - off;
		if (bs_wstream_write(e, data + off, k, err) < 0)
			goto out;
		off += k;
	}
	if (bs_wstream_finish(e, err) < 0)
		goto out;
	buf = bs_wstream_mem_data(mem, &len);
	copy = malloc(len ? len : 1);
	memcpy(copy, buf, len);
	*out_len = len;
out:
	bs_wstream_free(e);
	return copy;
}

/* Decrypt; returns 0 and the plaintext, or -1 with err and the plaintext
 * released before the failure (in *out, *out_len). */
static int decrypt(const struct bs_age_identities *ids, const uint8_t *ct, size_t n, uint8_t **out,
		   size_t *out_len, size_t readsz, struct bs_err *err)
{
	struct bs_rstream *d = bs_age_decrypt_new(bs_rstream_mem(ct, n), ids, err);
	size_t cap = 1 << 16, len = 0;
	uint8_t *buf;
	ssize_t k;

	*out = NULL;
	*out_len = 0;
	if (!d)
		return -1;
	buf = malloc(cap);
	for (;;) {
		if (cap - len < readsz) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
		k = bs_rstream_read(d, buf + len, readsz, err);
		if (k <= 0)
			break;
		len += (size_t)k;
	}
	/* a failed stream keeps failing */
	if (k < 0) {
		struct bs_err e2;
		uint8_t b[16];
		bs_err_init(&e2);
		CHECK(bs_rstream_read(d, b, sizeof(b), &e2) == -1);
		CHECK_INT(e2.code, err->code);
	}
	bs_rstream_free(d);
	*out = buf;
	*out_len = len;
	return k < 0 ? -1 : 0;
}

static struct bs_age_identities *ids_key(char **recipient)
{
	struct bs_age_identities *ids = bs_age_identities_new();
	char *id = NULL;
	struct bs_err err;

	bs_err_init(&err);
	CHECK_INT(bs_age_keygen(&id, recipient, &err), 0);
	CHECK_INT(bs_age_identities_add(ids, id, &err), 0);
	bs_secret_free(id);
	return ids;
}

static size_t expected_payload_len(size_t n)
{
	size_t chunks = n == 0 ? 1 : (n + CHUNK - 1) / CHUNK;
	return AGE_NONCE_LEN + n + chunks * AGE_TAG_LEN;
}

/* ---- shared fixture: one key pair, one 3-chunk archive ---- */

static struct bs_age_identities *fx_ids;
static struct bs_age_recipients *fx_r;
static char *fx_rcpt;
static uint8_t *fx_plain, *fx_ct;
static size_t fx_plain_len = 2 * CHUNK + 1000, fx_ct_len, fx_hdr_len;

static void fixture(void)
{
	struct bs_err err;
	const uint8_t *p;

	bs_err_init(&err);
	fx_ids = ids_key(&fx_rcpt);
	fx_r = bs_age_recipients_new();
	CHECK_INT(bs_age_recipients_add(fx_r, fx_rcpt, &err), 0);
	fx_plain = pattern(fx_plain_len);
	fx_ct = encrypt(fx_r, fx_plain, fx_plain_len, 0, &fx_ct_len, &err);
	p = (const uint8_t *)strstr((const char *)fx_ct, "\n--- ");
	fx_hdr_len = (size_t)(p - fx_ct) + 5 + 43 + 1;
}

/* ---- tests ---- */

TEST(round_trip_sizes)
{
	static const size_t sizes[] = {0, 1, 15, 16, 17, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK,
				       2 * CHUNK + 1, 5 * CHUNK + 12345};
	static const size_t steps[] = {0, 1000, CHUNK, 7};
	size_t i, j;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (j = 0; j < sizeof(steps) / sizeof(steps[0]); j++) {
			size_t n = sizes[i], ct_len = 0, pt_len = 0;
			uint8_t *data, *ct, *pt = NULL;
			struct bs_err err;

			if (steps[j] == 7 && n > 3 * CHUNK)
				continue; /* tiny writes only for the smaller sizes */
			data = pattern(n);
			bs_err_init(&err);
			ct = encrypt(fx_r, data, n, steps[j], &ct_len, &err);
			CHECK(ct != NULL);
			if (ct) {
				CHECK(bs_age_is_encrypted(ct, ct_len));
				CHECK_INT(ct_len - fx_hdr_len, expected_payload_len(n));
				CHECK_INT(decrypt(fx_ids, ct, ct_len, &pt, &pt_len, j == 1 ? 1000 : 65536, &err), 0);
				CHECK_INT(pt_len, n);
				CHECK(n == 0 || (pt && memcmp(pt, data, n) == 0));
			}
			if (th_cur_failed) {
				printf("#   size %zu step %zu: %s\n", n, steps[j], err.msg);
				free(ct);
				free(pt);
				free(data);
				return;
			}
			free(ct);
			free(pt);
			free(data);
		}
	}
}

TEST(multiple_recipients_each_decrypts)
{
	struct bs_age_identities *a, *b, *c;
	struct bs_age_recipients *r = bs_age_recipients_new();
	char *ra, *rb, *rc;
	uint8_t *data = pattern(100000), *ct, *pt;
	size_t ct_len = 0, pt_len;
	struct bs_err err;

	bs_err_init(&err);
	a = ids_key(&ra);
	b = ids_key(&rb);
	c = ids_key(&rc);
	CHECK_INT(bs_age_recipients_add(r, ra, &err), 0);
	CHECK_INT(bs_age_recipients_add(r, rb, &err), 0);
	CHECK_INT(bs_age_recipients_add(r, ra, &err), 0); /* duplicate ignored */
	CHECK_INT(bs_age_recipients_count(r), 2);
	CHECK_STR(bs_age_recipients_get(r, 0), ra);
	CHECK_STR(bs_age_recipients_get(r, 1), rb);
	CHECK(bs_age_recipients_get(r, 2) == NULL);
	ct = encrypt(r, data, 100000, 0, &ct_len, &err);
	CHECK_INT(decrypt(a, ct, ct_len, &pt, &pt_len, 65536, &err), 0);
	CHECK(pt_len == 100000 && memcmp(pt, data, pt_len) == 0);
	free(pt);
	CHECK_INT(decrypt(b, ct, ct_len, &pt, &pt_len, 65536, &err), 0);
	CHECK(pt_len == 100000 && memcmp(pt, data, pt_len) == 0);
	free(pt);
	/* a third key is not a recipient */
	CHECK_INT(decrypt(c, ct, ct_len, &pt, &pt_len, 65536, &err), -1);
	CHECK_INT(err.code, BS_ERR_NO_IDENTITY);
	CHECK_STR(err.msg, "no identity matches any recipient of this archive");
	CHECK(strstr(err.detail, "2 X25519 recipient(s)") != NULL);
	CHECK(strstr(err.detail, rc) != NULL); /* names the public key it tried */
	free(pt);
	free(ct);
	free(data);
	free(ra);
	free(rb);
	free(rc);
	bs_age_identities_free(a);
	bs_age_identities_free(b);
	bs_age_identities_free(c);
	bs_age_recipients_free(r);
}

TEST(wrong_key_is_a_clean_crypto_error)
{
	char *rcpt;
	struct bs_age_identities *other = ids_key(&rcpt);
	uint8_t *pt;
	size_t pt_len;
	struct bs_err err;

	bs_err_init(&err);
	CHECK_INT(decrypt(other, fx_ct, fx_ct_len, &pt, &pt_len, 65536, &err), -1);
	CHECK_INT(err.code, BS_ERR_NO_IDENTITY);
	CHECK_STR(err.msg, "no identity matches any recipient of this archive");
	CHECK(strstr(err.hint, "catalog record") != NULL);
	CHECK(pt == NULL);
	free(rcpt);
	bs_age_identities_free(other);
}

/* A flipped bit in the stanza of a key the record lists: damage, not a
 * wrong key; the same archive opened by a key the record does not list is
 * still "no identity matches". */
TEST(damaged_stanza_of_a_listed_key_is_damage)
{
	char *rcpt, *other_rcpt;
	struct bs_age_identities *ids = ids_key(&rcpt), *other = ids_key(&other_rcpt);
	struct bs_age_recipients *r = bs_age_recipients_new();
	uint8_t *data = pattern(100), *ct, *pt = NULL;
	const char *const listed[] = { rcpt };
	size_t ct_len = 0, pt_len;
	char *body;
	struct bs_err err;

	bs_err_init(&err);
	CHECK_INT(bs_age_recipients_add(r, rcpt, &err), 0);
	ct = encrypt(r, data, 100, 0, &ct_len, &err);
	CHECK(ct != NULL);
	body = strchr(strstr((char *)ct, "\n-> X25519 ") + 1, '\n') + 1;
	body[5] = body[5] == 'A' ? 'B' : 'A'; /* still base64, another wrapped key */
	bs_age_identities_note_recipients(ids, listed, 1);
	CHECK_INT(decrypt(ids, ct, ct_len, &pt, &pt_len, 65536, &err), -1);
	CHECK_INT(err.code, BS_ERR_CRYPTO);
	CHECK(strstr(err.msg, "header is damaged") != NULL);
	CHECK(strstr(err.msg, rcpt) != NULL);
	CHECK(strstr(err.msg, "no identity matches") == NULL);
	bs_age_identities_note_recipients(other, listed, 1);
	CHECK_INT(decrypt(other, ct, ct_len, &pt, &pt_len, 65536, &err), -1);
	CHECK_INT(err.code, BS_ERR_NO_IDENTITY);
	CHECK(pt == NULL);
	free(ct);
	free(data);
	free(rcpt);
	free(other_rcpt);
	bs_age_recipients_free(r);
	bs_age_identities_free(ids);
	bs_age_identities_free(other);
}

TEST(passphrase_round_trip_and_wrong_passphrase)
{
	struct bs_age_recipients *r = bs_age_recipients_new();
	struct bs_age_identities *ok = bs_age_identities_new(), *bad = bs_age_identities_new();
	uint8_t *data = pattern(CHUNK + 5), *ct, *pt;
	size_t ct_len = 0, pt_len;
	struct bs_err err;

	bs_err_init(&err);
	CHECK_INT(bs_age_recipients_set_passphrase(r, "correct horse", &err), 0);
	bs_age_recipients_set_scrypt_log_n(r, 10); /* fast; production is 18 */
	CHECK(bs_age_recipients_has_passphrase(r));
	CHECK_INT(bs_age_recipients_count(r), 0);
	ct = encrypt(r, data, CHUNK + 5, 0, &ct_len, &err);
	CHECK(ct != NULL);
	CHECK(strstr((char *)ct, "\n-> scrypt ") != NULL);
	CHECK(strstr((char *)ct, " 10\n") != NULL);
	CHECK_INT(bs_age_identities_add_passphrase(ok, "wrong", &err), 0);
	CHECK_INT(bs_age_identities_add_passphrase(ok, "correct horse", &err), 0);
	CHECK_INT(decrypt(ok, ct, ct_len, &pt, &pt_len, 65536, &err), 0);
	CHECK(pt_len == CHUNK + 5 && memcmp(pt, data, pt_len) == 0);
	free(pt);
	CHECK_INT(bs_age_identities_add_passphrase(bad, "Correct horse", &err), 0);
	CHECK_INT(decrypt(bad, ct, ct_len, &pt, &pt_len, 65536, &err), -1);
	CHECK_INT(err.code, BS_ERR_NO_IDENTITY);
	CHECK_STR(err.msg, "no identity matches any recipient of this archive");
	CHECK(strncmp(err.hint, "the passphrase is wrong", 23) == 0);
	/* an X25519 identity alone: told that a passphrase is needed */
	CHECK_INT(decrypt(fx_ids, ct, ct_len, &pt, &pt_len, 65536, &err), -1);
	CHECK(strstr(err.hint, "encrypted with a passphrase") != NULL);
	free(ct);
	free(data);
	bs_age_recipients_free(r);
	bs_age_identities_free(ok);
	bs_age_identities_free(bad);
}

TEST(default_scrypt_work_factor_is_18)
{
	struct bs_age_recipients *r = bs_age_recipients_new();
	struct bs_err err;
	uint8_t *ct;
	size_t ct_len = 0;

	bs_err_init(&err);
	CHECK_INT(bs_age_recipients_set_passphrase(r, "pw", &err), 0);
	ct = encrypt(r, (const uint8_t *)"x", 1, 0, &ct_len, &err);
	CHECK(ct && strstr((char *)ct, " 18\n") != NULL);
	free(ct);
	bs_age_recipients_free(r);
}

TEST(scrypt_work_factor_above_22_refused)
{
	/* a header with work factor 2^23: refused before any scrypt work */
	static const char hdr[] = "age-encryption.org/v1\n"
				  "-> scrypt rF0/NwblUHHTpgQgRpe5CQ 23\n"
				  "gUjEymFKMVXQEKdMMHL24oYexjE3TIC0O0zGSqJ2aUY\n"
				  "--- IOXiQYStkoT1mvZW2tFOqZdhRVvj58egABx/sWfZQbc\n";
	struct bs_age_identities *ids = bs_age_identities_new();
	struct bs_err err;
	time_t t0 = time(NULL);

	bs_err_init(&err);
	CHECK_INT(bs_age_identities_add_passphrase(ids, "password", &err), 0);
	CHECK(bs_age_decrypt_new(bs_rstream_mem(hdr, sizeof(hdr) - 1), ids, &err) == NULL);
	CHECK_INT(err.code, BS_ERR_REFUSED);
	CHECK(strstr(err.msg, "2^23 exceeds the limit 2^22") != NULL);
	CHECK(time(NULL) - t0 < 5);
	bs_age_identities_free(ids);
}

TEST(encrypt_refuses_no_or_mixed_recipients)
{
	struct bs_age_recipients *r = bs_age_recipients_new();
	struct bs_err err;

	bs_err_init(&err);
	CHECK(bs_age_encrypt_new(bs_wstream_mem(1024), r, &err) == NULL);
	CHECK_INT(err.code, BS_ERR_REFUSED);
	CHECK_STR(err.msg, "no recipients to encrypt to");
	CHECK_INT(bs_age_recipients_add(r, fx_rcpt, &err), 0);
	CHECK_INT(bs_age_recipients_set_passphrase(r, "pw", &err), -1);
	CHECK_INT(err.code, BS_ERR_REFUSED);
	bs_age_recipients_free(r);
	r = bs_age_recipients_new();
	CHECK_INT(bs_age_recipients_set_passphrase(r, "pw", &err), 0);
	CHECK_INT(bs_age_recipients_add(r, fx_rcpt, &err), -1);
	CHECK_INT(err.code, BS_ERR_REFUSED);
	bs_age_recipients_free(r);
}

/* ---- bounded memory and throughput: a pipeline with no stored archive ---- */

#define PIPE_TOTAL ((size_t)256 << 20)

/* encrypt -> fifo -> decrypt; the fifo holds at most about one chunk */
struct pipe {
	struct bs_wstream *enc;
	uint8_t fifo[2 * AGE_ENC_CHUNK + 4096];
	size_t head, tail;
	size_t produced;
	uint8_t block[CHUNK];
};

static int fifo_write(void *priv, const void *buf, size_t len, struct bs_err *err)
{
	struct pipe *p = priv;

	if (p->tail + len > sizeof(p->fifo)) {
		memmove(p->fifo, p->fifo + p->head, p->tail - p->head);
		p->tail -= p->head;
		p->head = 0;
	}
	if (p->tail + len > sizeof(p->fifo))
		return bs_err_set(err, BS_ERR_INTERNAL, "fifo overflow");
	memcpy(p->fifo + p->tail, buf, len);
	p->tail += len;
	return 0;
}
static int null_write(void *priv, const void *buf, size_t len, struct bs_err *err) { return 0; }
static int fifo_finish(void *priv, struct bs_err *err) { return 0; }
static void fifo_free(void *priv) {}
static const struct bs_wstream_ops fifo_wops = {fifo_write, fifo_finish, fifo_free};
static const struct bs_wstream_ops null_wops = {null_write, fifo_finish, fifo_free};

static ssize_t fifo_read(void *priv, void *buf, size_t len, struct bs_err *err)
{
	struct pipe *p = priv;

	while (p->head == p->tail) {
		if (!p->enc)
			return 0;
		if (p->produced < PIPE_TOTAL) {
			if (bs_wstream_write(p->enc, p->block, CHUNK, err) < 0)
				return -1;
			p->produced += CHUNK;
		} else {
			if (bs_wstream_finish(p->enc, err) < 0)
				return -1;
			bs_wstream_free(p->enc);
			p->enc = NULL;
		}
	}
	if (len > p->tail - p->head)
		len = p->tail - p->head;
	memcpy(buf, p->fifo + p->head, len);
	p->head += len;
	return (ssize_t)len;
}
static void fifo_rfree(void *priv) {}
static const struct bs_rstream_ops fifo_rops = {fifo_read, fifo_rfree};

static long vm_kb(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, field, strlen(field)) == 0)
			v = atol(line + strlen(field) + 1);
	if (f)
		fclose(f);
	return v;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double enc_mbps, pipe_mbps;

/* Runs first, before other tests raise the high-water mark. */
TEST(memory_is_bounded_and_throughput)
{
	static struct pipe p;
	struct bs_err err;
	struct bs_wstream *sink, *e;
	struct bs_rstream *d;
	static uint8_t buf[1 << 20];
	size_t total = 0, i;
	long hwm0, hwm1;
	double t0, t1;
	ssize_t n;

	bs_err_init(&err);
	RAND_bytes(p.block, sizeof(p.block));
	hwm0 = vm_kb("VmHWM:");

	/* encryption alone, into a sink that discards */
	sink = bs_wstream_new(&null_wops, &p);
	e = bs_age_encrypt_new(sink, fx_r, &err);
	CHECK(e != NULL);
	t0 = now();
	for (i = 0; e && i < PIPE_TOTAL / sizeof(buf); i++) {
		CHECK_INT(bs_wstream_write(e, buf, sizeof(buf), &err), 0);
	}
	CHECK_INT(bs_wstream_finish(e, &err), 0);
	t1 = now();
	bs_wstream_free(e);
	enc_mbps = (double)PIPE_TOTAL / (1 << 20) / (t1 - t0);

	/* encrypt -> decrypt pipeline */
	p.head = p.tail = 0;
	p.enc = bs_age_encrypt_new(bs_wstream_new(&fifo_wops, &p), fx_r, &err);
	CHECK(p.enc != NULL);
	t0 = now();
	d = bs_age_decrypt_new(bs_rstream_new(&fifo_rops, &p), fx_ids, &err);
	CHECK(d != NULL);
	while (d && (n = bs_rstream_read(d, buf, sizeof(buf), &err)) > 0)
		total += (size_t)n;
	t1 = now();
	CHECK_INT(total, PIPE_TOTAL);
	bs_rstream_free(d);
	pipe_mbps = (double)PIPE_TOTAL / (1 << 20) / (t1 - t0);
	hwm1 = vm_kb("VmHWM:");
	printf("# 256 MiB: encrypt %.0f MiB/s; encrypt+decrypt pipeline %.0f MiB/s "
	       "(decrypt alone about %.0f MiB/s); peak RSS grew by %ld KiB\n",
	       enc_mbps, pipe_mbps, 1.0 / (1.0 / pipe_mbps - 1.0 / enc_mbps), hwm1 - hwm0);
	/* streaming: nothing scales with the payload (256 MiB went through) */
	if (hwm0 > 0)
		CHECK(hwm1 - hwm0 < 8 * 1024);
	/* a loose floor, to catch a pathological regression without flaking */
	CHECK(enc_mbps > 50);
}

TEST(not_age_input)
{
	static const char zip[] = "PK\003\004 this is a zip file, not age, with no newline for a while........"
				  "................................................................................"
				  "................................................................................"
				  "................................................................................";
	struct bs_err err;

	bs_err_init(&err);
	CHECK(bs_age_decrypt_new(bs_rstream_mem("", 0), fx_ids, &err) == NULL);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK_STR(err.msg, "not an age-encrypted file: it is empty");
	CHECK(bs_age_decrypt_new(bs_rstream_mem(zip, sizeof(zip) - 1), fx_ids, &err) == NULL);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK(strstr(err.msg, "not an age-encrypted file") != NULL);
	CHECK(!bs_age_is_encrypted(zip, sizeof(zip) - 1));
	CHECK(!bs_age_is_encrypted("age-encryption.org/v1", 21));
	CHECK(bs_age_is_encrypted("age-encryption.org/v1\n", 22));
}

/* One damaged archive: fx_ct changed as described, then decrypted. */
struct damage {
	const char *name;
	size_t keep;         /* keep only this many bytes (0: all) */
	size_t drop;         /* then drop this many bytes from the end */
	long flip;           /* flip a bit at this offset from the payload start (-1: none) */
	int flip_mac;        /* change one character of the header MAC */
	const char *insert;  /* insert this text before the MAC line */
	const char *append;  /* append this text */
	int at_open;         /* expect bs_age_decrypt_new to fail */
	int code;
	const char *msg;     /* substring of the message */
	size_t released;     /* plaintext bytes released before the error */
};

static void run_damage(const struct damage *dm)
{
	size_t len = fx_ct_len, pt_len = 0, h = fx_hdr_len;
	uint8_t *ct = malloc(fx_ct_len + 64), *pt = NULL;
	struct bs_err err;
	struct bs_rstream *d;

	bs_err_init(&err);
	memcpy(ct, fx_ct, fx_ct_len);
	if (dm->insert) {
		size_t mac = h - 48, k = strlen(dm->insert); /* "--- " + 43 + LF */
		memmove(ct + mac + k, ct + mac, len - mac);
		memcpy(ct + mac, dm->insert, k);
		len += k;
	}
	if (dm->flip >= 0)
		ct[h + (size_t)dm->flip] ^= 0x01;
	if (dm->flip_mac)
		ct[h - 10] = ct[h - 10] == 'A' ? 'B' : 'A'; /* still base64 */
	if (dm->append) {
		memcpy(ct + len, dm->append, strlen(dm->append));
		len += strlen(dm->append);
	}
	if (dm->keep)
		len = dm->keep;
	len -= dm->drop;
	d = bs_age_decrypt_new(bs_rstream_mem(ct, len), fx_ids, &err);
	CHECK_INT(d == NULL, dm->at_open);
	bs_rstream_free(d);
	CHECK_INT(decrypt(fx_ids, ct, len, &pt, &pt_len, 4096, &err), -1);
	CHECK_INT(err.code, dm->code);
	if (!strstr(err.msg, dm->msg)) {
		printf("#   %s: message '%s' lacks '%s'\n", dm->name, err.msg, dm->msg);
		th_cur_failed = 1;
	}
	CHECK_INT(pt_len, dm->released);
	CHECK(pt_len == 0 || memcmp(pt, fx_plain, pt_len) == 0);
	free(pt);
	free(ct);
}

static const struct damage *cur_damage;
static void damage_test(void)
{
	run_damage(cur_damage);
}

int main(void)
{
	size_t h, p0, i;

	fixture();
	h = fx_hdr_len;
	p0 = h + AGE_NONCE_LEN; /* first chunk */
	{
		const struct damage t[] = {
			{"one byte", 1, 0, -1, 0, NULL, NULL, 1, BS_ERR_FORMAT, "age header is truncated", 0},
			{"truncated in the version line", 10, 0, -1, 0, NULL, NULL, 1, BS_ERR_FORMAT,
			 "age header is truncated", 0},
			{"truncated in the header", h - 20, 0, -1, 0, NULL, NULL, 1, BS_ERR_FORMAT,
			 "age header is truncated", 0},
			{"truncated after the header", h, 0, -1, 0, NULL, NULL, 1, BS_ERR_FORMAT,
			 "truncated: the 16-byte nonce is missing", 0},
			{"truncated in the nonce", h + 8, 0, -1, 0, NULL, NULL, 1, BS_ERR_FORMAT,
			 "nonce is missing", 0},
			{"truncated after the nonce", p0, 0, -1, 0, NULL, NULL, 0, BS_ERR_FORMAT,
			 "truncated: it has no chunk", 0},
			{"truncated inside the tag of chunk 0", p0 + 10, 0, -1, 0, NULL, NULL, 0, BS_ERR_FORMAT,
			 "truncated: chunk 0 is 10 bytes", 0},
			{"truncated after chunk 0", p0 + AGE_ENC_CHUNK, 0, -1, 0, NULL, NULL, 0, BS_ERR_FORMAT,
			 "truncated: it ends after chunk 0, which is not the final chunk", CHUNK},
			{"truncated after chunk 1", p0 + 2 * AGE_ENC_CHUNK, 0, -1, 0, NULL, NULL, 0, BS_ERR_FORMAT,
			 "truncated: it ends after chunk 1", 2 * CHUNK},
			{"truncated inside chunk 1", p0 + AGE_ENC_CHUNK + 500, 0, -1, 0, NULL, NULL, 0,
			 BS_ERR_CRYPTO,
			 "chunk 1 (the last one present, 500 bytes) failed authentication: the archive is truncated",
			 CHUNK},
			{"last byte missing", 0, 1, -1, 0, NULL, NULL, 0, BS_ERR_CRYPTO,
			 "chunk 2 (the last one present, 1015 bytes) failed authentication: the archive is truncated",
			 2 * CHUNK},
			{"changed header MAC", 0, 0, -1, 1, NULL, NULL, 1, BS_ERR_CRYPTO, "header MAC mismatch", 0},
			{"stanza added to the header", 0, 0, -1, 0, "-> grease x\n\n", NULL, 1, BS_ERR_CRYPTO,
			 "header MAC mismatch", 0},
			{"flipped bit in the nonce", 0, 0, 3, 0, NULL, NULL, 0, BS_ERR_CRYPTO,
			 "chunk 0 (plaintext bytes 0-65535) failed authentication", 0},
			{"flipped bit in chunk 0", 0, 0, AGE_NONCE_LEN + 5, 0, NULL, NULL, 0, BS_ERR_CRYPTO,
			 "chunk 0 (plaintext bytes 0-65535) failed authentication: the archive was modified", 0},
			{"flipped bit in chunk 1", 0, 0, AGE_NONCE_LEN + AGE_ENC_CHUNK + 77, 0, NULL, NULL, 0,
			 BS_ERR_CRYPTO, "chunk 1 (plaintext bytes 65536-131071) failed authentication", CHUNK},
			{"flipped bit in the tag of the final chunk", 0, 0, (long)(fx_ct_len - h - 1), 0, NULL,
			 NULL, 0, BS_ERR_CRYPTO, "chunk 2", 2 * CHUNK},
			{"trailing garbage", 0, 0, -1, 0, NULL, "garbage", 0, BS_ERR_FORMAT,
			 "7 byte(s) of unexpected data after the final chunk 2", 2 * CHUNK},
			{"one byte appended", 0, 0, -1, 0, NULL, "\n", 0, BS_ERR_FORMAT,
			 "1 byte(s) of unexpected data after the final chunk 2", 2 * CHUNK},
		};
		RUN(memory_is_bounded_and_throughput);
		RUN(round_trip_sizes);
		RUN(multiple_recipients_each_decrypts);
		RUN(wrong_key_is_a_clean_crypto_error);
		RUN(damaged_stanza_of_a_listed_key_is_damage);
		RUN(passphrase_round_trip_and_wrong_passphrase);
		RUN(default_scrypt_work_factor_is_18);
		RUN(scrypt_work_factor_above_22_refused);
		RUN(encrypt_refuses_no_or_mixed_recipients);
		RUN(not_age_input);
		for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
			char name[128];
			cur_damage = &t[i];
			snprintf(name, sizeof(name), "damaged archive: %s", t[i].name);
			RUN_NAMED(name, damage_test);
		}
	}
	bs_age_identities_free(fx_ids);
	bs_age_recipients_free(fx_r);
	free(fx_rcpt);
	free(fx_plain);
	free(fx_ct);
	return DONE();
}
