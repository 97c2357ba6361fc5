/* scrypt.c - the scrypt (passphrase) recipient type:
 *   -> scrypt <base64 16-byte salt> <log2 N>
 *   <base64 of the wrapped file key>
 * wrap key = scrypt(N, r = 8, p = 1, S = "age-encryption.org/v1/scrypt" || salt,
 *                   P = passphrase), via OpenSSL's EVP_KDF "SCRYPT".
 * Memory use is 128 * r * N bytes: 256 MiB at the default 2^18, 4 GiB at the
 * 2^22 limit. */
#include "crypt/age_int.h"

#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#define SCRYPT_R 8u
#define SCRYPT_P 1u

static int scrypt_key(const char *pass, const uint8_t salt[AGE_SCRYPT_SALT_LEN], int log_n,
		      uint8_t key[AGE_KEY_LEN], struct bs_err *err)
{
	uint8_t s[sizeof(AGE_SCRYPT_LABEL) - 1 + AGE_SCRYPT_SALT_LEN];
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	uint64_t n = (uint64_t)1 << log_n;
	uint64_t maxmem = 128 * SCRYPT_R * (n + 2) + 128 * SCRYPT_R * SCRYPT_P + (1 << 20);
	uint32_t r = SCRYPT_R, p = SCRYPT_P;
	OSSL_PARAM params[7];
	int rc = -1;

	memcpy(s, AGE_SCRYPT_LABEL, sizeof(AGE_SCRYPT_LABEL) - 1);
	memcpy(s + sizeof(AGE_SCRYPT_LABEL) - 1, salt, AGE_SCRYPT_SALT_LEN);
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)pass, strlen(pass));
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, s, sizeof(s));
	params[2] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
	params[3] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r);
	params[4] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p);
	params[5] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem);
	params[6] = OSSL_PARAM_construct_end();
	if (!ctx) {
		bs_err_set(err, BS_ERR_CRYPTO, "unable to set up scrypt (OpenSSL)");
		goto out;
	}
	if (EVP_KDF_derive(ctx, key, AGE_KEY_LEN, params) != 1) {
		ERR_clear_error();
		bs_err_set(err, BS_ERR_CRYPTO, "scrypt key derivation failed (work factor 2^%d needs %llu MiB)",
			   log_n, (unsigned long long)(maxmem >> 20));
		goto out;
	}
	rc = 0;
out:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return rc;
}

int age_scrypt_wrap(const char *pass, int log_n, const uint8_t file_key[AGE_FILE_KEY_LEN],
		    struct age_stanza *st, struct bs_err *err)
{
	uint8_t salt[AGE_SCRYPT_SALT_LEN], key[AGE_KEY_LEN], body[AGE_FILE_KEY_LEN + AGE_TAG_LEN];
	char salt64[32], logn[8];
	const char *args[4] = {"scrypt", salt64, logn, NULL};
	int rc = -1;

	if (log_n < 1 || log_n > AGE_SCRYPT_MAX_LOG_N)
		return bs_err_set(err, BS_ERR_INTERNAL, "scrypt work factor 2^%d out of range", log_n);
	if (age_random(salt, sizeof(salt), err) < 0 || scrypt_key(pass, salt, log_n, key, err) < 0 ||
	    age_wrap_key(key, file_key, body, err) < 0)
		goto out;
	bs_b64_encode(salt, sizeof(salt), salt64);
	snprintf(logn, sizeof(logn), "%d", log_n);
	rc = age_stanza_set(st, args, body, sizeof(body), err);
out:
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

/* ^[1-9][0-9]*$; values above 99 are reported as 100 (too large anyway). */
static int parse_log_n(const char *s)
{
	int v = 0;
	size_t i;

	if (s[0] < '1' || s[0] > '9')
		return -1;
	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v < 100)
			v = v * 10 + (s[i] - '0');
	}
	return v > 100 ? 100 : v;
}

int age_scrypt_check(const struct age_stanza *st, int *log_n, struct bs_err *err)
{
	uint8_t salt[AGE_SCRYPT_SALT_LEN];
	size_t n;

	if (st->nargs != 3)
		return bs_err_set(err, BS_ERR_FORMAT,
				  "malformed scrypt stanza in age header: %zu arguments, expected 2",
				  st->nargs - 1);
	if (bs_b64_decode(st->args[1], strlen(st->args[1]), salt, sizeof(salt), &n) < 0 ||
	    n != AGE_SCRYPT_SALT_LEN)
		return bs_err_set(err, BS_ERR_FORMAT,
				  "malformed scrypt stanza in age header: the salt is not a canonical 16-byte value");
	*log_n = parse_log_n(st->args[2]);
	if (*log_n < 0)
		return bs_err_set(err, BS_ERR_FORMAT,
				  "malformed scrypt stanza in age header: invalid work factor '%.20s'",
				  st->args[2]);
	if (st->body_len != AGE_FILE_KEY_LEN + AGE_TAG_LEN)
		return bs_err_set(err, BS_ERR_FORMAT,
				  "malformed scrypt stanza in age header: the wrapped file key is %zu bytes, expected 32",
				  st->body_len);
	return 0;
}

int age_scrypt_unwrap(const struct age_stanza *st, const char *pass,
		      uint8_t file_key[AGE_FILE_KEY_LEN], struct bs_err *err)
{
	uint8_t salt[AGE_SCRYPT_SALT_LEN], key[AGE_KEY_LEN];
	size_t n;
	int log_n, rc;

	if (age_scrypt_check(st, &log_n, err) < 0)
		return -1;
	if (log_n > AGE_SCRYPT_MAX_LOG_N) {
		bs_err_set(err, BS_ERR_REFUSED,
			   "refusing to decrypt: the archive's scrypt work factor 2^%s exceeds the limit 2^%d",
			   st->args[2], AGE_SCRYPT_MAX_LOG_N);
		bs_err_hint(err, "age and backstop write 2^%d; a larger factor would take minutes "
				 "and gigabytes of memory to try",
			    AGE_SCRYPT_DEFAULT_LOG_N);
		return -1;
	}
	bs_b64_decode(st->args[1], strlen(st->args[1]), salt, sizeof(salt), &n);
	if (scrypt_key(pass, salt, log_n, key, err) < 0)
		return -1;
	rc = age_unwrap_key(key, st->body, file_key, err);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}
