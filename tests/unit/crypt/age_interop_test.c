/* age_interop_test.c - interoperability with the real age CLI (Debian
 * `age` / `age-keygen`), both ways, and backstop's errors on files age
 * wrote.  Skipped (SKIP, never passed) when age is not installed.
 *
 * The passphrase direction is automated through a pseudo-terminal: age
 * reads passphrases only from the terminal (age 1.1 has no environment
 * variable or file option for it). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <ftw.h>

#include <openssl/rand.h>

#include "harness.h"
#include "exec_helper.h"
#include "crypt/age.h"
#include "crypt/age_int.h"

static const char *age_bin, *age_keygen_bin, *bs_keygen_bin;
static char dir[64];

/* Path of name in the test directory.  Each call returns a new buffer
 * (never reused), so paths stay valid for the whole run. */
static const char *tmp(const char *name)
{
	static char path[1024][96];
	static int k;

	if (k == 1024)
		abort();
	snprintf(path[k], sizeof(path[k]), "%s/%s", dir, name);
	return path[k++];
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	*len = fread(buf, 1, (size_t)n, f);
	fclose(f);
	return buf;
}

static void spit(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	fwrite(data, 1, len, f);
	fclose(f);
}

static uint8_t *random_bytes(size_t n)
{
	uint8_t *p = malloc(n ? n : 1);

	RAND_bytes(p, (int)n);
	return p;
}

/* Decrypt the file at path with ids; returns 0 and the plaintext, or -1. */
static int bs_decrypt_file(const char *path, const struct bs_age_identities *ids, uint8_t **out,
			   size_t *out_len, struct bs_err *err)
{
	int fd = open(path, O_RDONLY);
	struct bs_rstream *d = bs_age_decrypt_new(bs_rstream_fd(fd, 1), ids, err);
	size_t cap = 1 << 16, len = 0;
	ssize_t n = 0;

	*out = NULL;
	*out_len = 0;
	if (!d)
		return -1;
	*out = malloc(cap);
	for (;;) {
		if (cap - len < 65536) {
			cap *= 2;
			*out = realloc(*out, cap);
		}
		n = bs_rstream_read(d, *out + len, 65536, err);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	bs_rstream_free(d);
	*out_len = len;
	return n < 0 ? -1 : 0;
}

/* Encrypt data to r into the file at path. */
static int bs_encrypt_file(const char *path, const struct bs_age_recipients *r, const uint8_t *data,
			   size_t len, struct bs_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	struct bs_wstream *e = bs_age_encrypt_new(bs_wstream_fd(fd, 1), r, err);
	int rc = -1;

	if (e && bs_wstream_write(e, data, len, err) == 0 && bs_wstream_finish(e, err) == 0)
		rc = 0;
	bs_wstream_free(e);
	return rc;
}

/* age-keygen -o path; returns its recipient (static). */
static const char *age_keygen(const char *path)
{
	static char rcpt[128];
	const char *gen[] = {age_keygen_bin, "-o", path, NULL};
	const char *y[] = {age_keygen_bin, "-y", path, NULL};
	struct proc p;

	unlink(path);
	if (run_cmd(gen, NULL, &p) != 0)
		return NULL;
	if (run_cmd(y, NULL, &p) != 0)
		return NULL;
	snprintf(rcpt, sizeof(rcpt), "%.*s", (int)strcspn(p.out, "\n"), p.out);
	return rcpt;
}

static const size_t sizes[] = {0, 1, 65535, 65536, 3 * 65536, 3 * 65536 + 5};

#define NEED_AGE()                                                                       \
	do {                                                                             \
		if (!age_bin || !age_keygen_bin)                                         \
			SKIP("the age CLI (age, age-keygen) is not installed");           \
	} while (0)

TEST(age_encrypts_backstop_decrypts)
{
	struct bs_age_identities *ids = bs_age_identities_new();
	const char *rcpt;
	struct bs_err err;
	size_t i;

	NEED_AGE();
	bs_err_init(&err);
	rcpt = age_keygen(tmp("age-key.txt")); /* static buffer: no other age_keygen call here */
	CHECK(rcpt != NULL);
	CHECK_INT(bs_age_identities_load_file(ids, tmp("age-key.txt"), &err), 0);
	CHECK_STR(bs_age_identities_recipient(ids, 0), rcpt);
	for (i = 0; rcpt && i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *data = random_bytes(sizes[i]), *pt = NULL;
		size_t pt_len = 0;
		const char *enc[] = {age_bin, "-r", rcpt, "-o", tmp("a.age"), tmp("plain"), NULL};
		struct proc p;

		spit(tmp("plain"), data, sizes[i]);
		unlink(tmp("a.age"));
		CHECK_INT(run_cmd(enc, NULL, &p), 0);
		CHECK_INT(bs_decrypt_file(tmp("a.age"), ids, &pt, &pt_len, &err), 0);
		CHECK_INT(pt_len, sizes[i]);
		CHECK(pt_len == sizes[i] && memcmp(pt, data, pt_len) == 0);
		if (th_cur_failed)
			printf("#   size %zu: %s / %s\n", sizes[i], err.msg, p.err);
		free(pt);
		free(data);
	}
	bs_age_identities_free(ids);
}

TEST(backstop_keygen_and_encrypt_age_decrypts)
{
	struct bs_age_recipients *r = bs_age_recipients_new();
	const char *key = tmp("bs-key.txt");
	const char *gen[] = {bs_keygen_bin, "-o", key, NULL};
	const char *y[] = {age_keygen_bin, "-y", key, NULL};
	struct proc p, py;
	struct bs_err err;
	char rcpt[128];
	size_t i;

	NEED_AGE();
	if (!bs_keygen_bin)
		SKIP("backstop-keygen is not built");
	bs_err_init(&err);
	unlink(key);
	CHECK_INT(run_cmd(gen, NULL, &p), 0);
	snprintf(rcpt, sizeof(rcpt), "%.*s", (int)strcspn(p.out, "\n"), p.out);
	/* age derives the same public key from the identity file */
	CHECK_INT(run_cmd(y, NULL, &py), 0);
	CHECK(strncmp(py.out, rcpt, strlen(rcpt)) == 0 && strlen(rcpt) == 62);
	CHECK_INT(bs_age_recipients_add(r, rcpt, &err), 0);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *data = random_bytes(sizes[i]), *pt;
		size_t pt_len = 0;
		const char *dec[] = {age_bin, "-d", "-i", key, "-o", tmp("out"), tmp("b.age"), NULL};
		struct proc pd;

		CHECK_INT(bs_encrypt_file(tmp("b.age"), r, data, sizes[i], &err), 0);
		unlink(tmp("out"));
		CHECK_INT(run_cmd(dec, NULL, &pd), 0);
		pt = slurp(tmp("out"), &pt_len);
		/* age creates its -o file on the first byte of output */
		if (!pt && sizes[i] == 0)
			pt = calloc(1, 1);
		CHECK(pt != NULL);
		CHECK_INT(pt_len, sizes[i]);
		CHECK(pt && pt_len == sizes[i] && memcmp(pt, data, pt_len) == 0);
		if (th_cur_failed)
			printf("#   size %zu: %s\n", sizes[i], pd.err);
		free(pt);
		free(data);
	}
	bs_age_recipients_free(r);
}

TEST(multiple_recipients_both_ways)
{
	struct bs_age_identities *ida = bs_age_identities_new(), *idb = bs_age_identities_new();
	struct bs_age_recipients *r = bs_age_recipients_new();
	char ra[128], rb[128];
	const char *k;
	uint8_t *data = random_bytes(200000), *pt;
	size_t pt_len;
	struct bs_err err;
	struct proc p;

	NEED_AGE();
	bs_err_init(&err);
	k = age_keygen(tmp("ka.txt"));
	CHECK(k != NULL);
	snprintf(ra, sizeof(ra), "%s", k ? k : "");
	k = age_keygen(tmp("kb.txt"));
	CHECK(k != NULL);
	snprintf(rb, sizeof(rb), "%s", k ? k : "");
	CHECK_INT(bs_age_identities_load_file(ida, tmp("ka.txt"), &err), 0);
	CHECK_INT(bs_age_identities_load_file(idb, tmp("kb.txt"), &err), 0);
	spit(tmp("plain"), data, 200000);

	/* age -r A -r B: backstop opens it with either identity */
	{
		const char *enc[] = {age_bin, "-r", ra, "-r", rb, "-o", tmp("m.age"), tmp("plain"), NULL};
		unlink(tmp("m.age"));
		CHECK_INT(run_cmd(enc, NULL, &p), 0);
		CHECK_INT(bs_decrypt_file(tmp("m.age"), ida, &pt, &pt_len, &err), 0);
		CHECK(pt_len == 200000 && memcmp(pt, data, pt_len) == 0);
		free(pt);
		CHECK_INT(bs_decrypt_file(tmp("m.age"), idb, &pt, &pt_len, &err), 0);
		CHECK(pt_len == 200000 && memcmp(pt, data, pt_len) == 0);
		free(pt);
	}
	/* backstop to A and B: age opens it with either identity file */
	{
		const char *da[] = {age_bin, "-d", "-i", tmp("ka.txt"), "-o", tmp("oa"), tmp("n.age"), NULL};
		const char *db[] = {age_bin, "-d", "-i", tmp("kb.txt"), "-o", tmp("ob"), tmp("n.age"), NULL};
		CHECK_INT(bs_age_recipients_add(r, ra, &err), 0);
		CHECK_INT(bs_age_recipients_add(r, rb, &err), 0);
		CHECK_INT(bs_encrypt_file(tmp("n.age"), r, data, 200000, &err), 0);
		unlink(tmp("oa"));
		unlink(tmp("ob"));
		CHECK_INT(run_cmd(da, NULL, &p), 0);
		pt = slurp(tmp("oa"), &pt_len);
		CHECK(pt && pt_len == 200000 && memcmp(pt, data, pt_len) == 0);
		free(pt);
		CHECK_INT(run_cmd(db, NULL, &p), 0);
		pt = slurp(tmp("ob"), &pt_len);
		CHECK(pt && pt_len == 200000 && memcmp(pt, data, pt_len) == 0);
		free(pt);
	}
	free(data);
	bs_age_recipients_free(r);
	bs_age_identities_free(ida);
	bs_age_identities_free(idb);
}

TEST(passphrase_age_p_to_backstop)
{
	struct bs_age_identities *ids = bs_age_identities_new();
	const char *enc[] = {age_bin, "-p", "-o", tmp("p.age"), tmp("plain"), NULL};
	uint8_t *data = random_bytes(70000), *pt = NULL, *hdr;
	size_t pt_len = 0, hlen = 0;
	struct bs_err err;
	struct proc p;

	NEED_AGE();
	bs_err_init(&err);
	spit(tmp("plain"), data, 70000);
	unlink(tmp("p.age"));
	/* age asks twice (enter, confirm) on the terminal */
	CHECK_INT(run_pty(enc, "correct horse battery", 2, &p), 0);
	if (th_cur_failed)
		printf("#   age -p transcript: %s\n", p.err);
	hdr = slurp(tmp("p.age"), &hlen);
	CHECK(hdr && strstr((char *)hdr, "-> scrypt ") != NULL);
	CHECK(hdr && strstr((char *)hdr, " 18\n") != NULL); /* age's work factor */
	free(hdr);
	CHECK_INT(bs_age_identities_add_passphrase(ids, "correct horse battery", &err), 0);
	CHECK_INT(bs_decrypt_file(tmp("p.age"), ids, &pt, &pt_len, &err), 0);
	CHECK(pt_len == 70000 && memcmp(pt, data, pt_len) == 0);
	free(pt);
	bs_age_identities_free(ids);
	/* the wrong passphrase is a clean error */
	ids = bs_age_identities_new();
	CHECK_INT(bs_age_identities_add_passphrase(ids, "correct horse", &err), 0);
	CHECK_INT(bs_decrypt_file(tmp("p.age"), ids, &pt, &pt_len, &err), -1);
	CHECK_INT(err.code, BS_ERR_NO_IDENTITY);
	CHECK_STR(err.msg, "no identity matches any recipient of this archive");
	free(pt);
	free(data);
	bs_age_identities_free(ids);
}

TEST(passphrase_backstop_to_age_d)
{
	struct bs_age_recipients *r = bs_age_recipients_new();
	const char *dec[] = {age_bin, "-d", "-o", tmp("q.out"), tmp("q.age"), NULL};
	uint8_t *data = random_bytes(131072), *pt;
	size_t pt_len = 0;
	struct bs_err err;
	struct proc p;

	NEED_AGE();
	bs_err_init(&err);
	CHECK_INT(bs_age_recipients_set_passphrase(r, "tr0ub4dor &3", &err), 0);
	bs_age_recipients_set_scrypt_log_n(r, 12); /* fast; age accepts up to 2^22 */
	CHECK_INT(bs_encrypt_file(tmp("q.age"), r, data, 131072, &err), 0);
	unlink(tmp("q.out"));
	CHECK_INT(run_pty(dec, "tr0ub4dor &3", 1, &p), 0);
	if (th_cur_failed)
		printf("#   age -d transcript: %s\n", p.err);
	pt = slurp(tmp("q.out"), &pt_len);
	CHECK(pt && pt_len == 131072 && memcmp(pt, data, pt_len) == 0);
	free(pt);
	free(data);
	bs_age_recipients_free(r);
}

/* Damage a file age wrote and check backstop's error. */
TEST(errors_on_files_age_wrote)
{
	struct bs_age_identities *ids = bs_age_identities_new(), *wrong = bs_age_identities_new();
	const char *k = NULL;
	char rcpt[128] = "";
	uint8_t *data = random_bytes(3 * 65536 + 100), *ct = NULL, *pt = NULL;
	size_t ct_len = 0, pt_len = 0, h;
	struct bs_err err;
	struct proc p;

	NEED_AGE();
	bs_err_init(&err);
	k = age_keygen(tmp("ke.txt"));
	CHECK(k != NULL);
	snprintf(rcpt, sizeof(rcpt), "%s", k ? k : "");
	CHECK(age_keygen(tmp("kw.txt")) != NULL);
	CHECK_INT(bs_age_identities_load_file(ids, tmp("ke.txt"), &err), 0);
	CHECK_INT(bs_age_identities_load_file(wrong, tmp("kw.txt"), &err), 0);
	spit(tmp("plain"), data, 3 * 65536 + 100);
	{
		const char *enc[] = {age_bin, "-r", rcpt, "-o", tmp("e.age"), tmp("plain"), NULL};
		unlink(tmp("e.age"));
		CHECK_INT(run_cmd(enc, NULL, &p), 0);
	}
	ct = slurp(tmp("e.age"), &ct_len);
	if (!ct) {
		CHECK(!"age wrote the file");
		goto out;
	}
	h = (size_t)((uint8_t *)strstr((char *)ct, "\n--- ") - ct) + 49; /* header length */

	/* wrong key */
	CHECK_INT(bs_decrypt_file(tmp("e.age"), wrong, &pt, &pt_len, &err), -1);
	CHECK_INT(err.code, BS_ERR_NO_IDENTITY);
	CHECK_STR(err.msg, "no identity matches any recipient of this archive");
	free(pt);

	/* tampered header: a stanza added */
	{
		size_t k = strlen("-> x25519-grease ab\n\n");
		uint8_t *t = malloc(ct_len + k);
		memcpy(t, ct, h - 48);
		memcpy(t + h - 48, "-> x25519-grease ab\n\n", k);
		memcpy(t + h - 48 + k, ct + h - 48, ct_len - (h - 48));
		spit(tmp("t.age"), t, ct_len + k);
		free(t);
		CHECK_INT(bs_decrypt_file(tmp("t.age"), ids, &pt, &pt_len, &err), -1);
		CHECK_INT(err.code, BS_ERR_CRYPTO);
		CHECK(strstr(err.msg, "header MAC mismatch") != NULL);
		free(pt);
	}
	/* one flipped payload byte in chunk 2 */
	ct[h + AGE_NONCE_LEN + 2 * AGE_ENC_CHUNK + 1000] ^= 0x80;
	spit(tmp("t.age"), ct, ct_len);
	ct[h + AGE_NONCE_LEN + 2 * AGE_ENC_CHUNK + 1000] ^= 0x80;
	CHECK_INT(bs_decrypt_file(tmp("t.age"), ids, &pt, &pt_len, &err), -1);
	CHECK_INT(err.code, BS_ERR_CRYPTO);
	CHECK(strstr(err.msg, "chunk 2 (plaintext bytes 131072-196607) failed authentication") != NULL);
	CHECK_INT(pt_len, 2 * 65536); /* only authenticated chunks were released */
	CHECK(memcmp(pt, data, pt_len) == 0);
	free(pt);

	/* truncated at a chunk boundary: never a silent short read */
	spit(tmp("t.age"), ct, h + AGE_NONCE_LEN + 2 * AGE_ENC_CHUNK);
	CHECK_INT(bs_decrypt_file(tmp("t.age"), ids, &pt, &pt_len, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK(strstr(err.msg, "truncated") != NULL);
	free(pt);
	/* truncated inside a chunk */
	spit(tmp("t.age"), ct, ct_len - 50);
	CHECK_INT(bs_decrypt_file(tmp("t.age"), ids, &pt, &pt_len, &err), -1);
	CHECK(strstr(err.msg, "truncated") != NULL);
	free(pt);
out:
	free(ct);
	free(data);
	bs_age_identities_free(ids);
	bs_age_identities_free(wrong);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

int main(void)
{
	static char a[PATH_MAX], k[PATH_MAX], b[PATH_MAX];
	const char *s;

	if ((s = find_in_path("age")))
		age_bin = strcpy(a, s);
	if ((s = find_in_path("age-keygen")))
		age_keygen_bin = strcpy(k, s);
	if ((s = build_bin("backstop-keygen")))
		bs_keygen_bin = strcpy(b, s);
	snprintf(dir, sizeof(dir), "/tmp/bs-interop-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(age_encrypts_backstop_decrypts);
	RUN(backstop_keygen_and_encrypt_age_decrypts);
	RUN(multiple_recipients_both_ways);
	RUN(passphrase_age_p_to_backstop);
	RUN(passphrase_backstop_to_age_d);
	RUN(errors_on_files_age_wrote);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return DONE();
}
