/* primitives.c - the OpenSSL 3 calls age needs besides X25519, scrypt and
 * the STREAM payload: CSPRNG, HKDF-SHA256, HMAC-SHA256, and wrapping the
 * 16-byte file key with ChaCha20-Poly1305 under a zero nonce. */
#include "crypt/age_int.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

int age_random(void *buf, size_t n, struct bs_err *err)
{
	if (RAND_priv_bytes(buf, (int)n) != 1)
		return bs_err_set(err, BS_ERR_CRYPTO, "unable to read the system random generator");
	return 0;
}

int age_hkdf(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
	     const char *info, uint8_t out[AGE_KEY_LEN], struct bs_err *err)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[5], *p = params;
	int rc = -1;

	if (!ctx) {
		bs_err_set(err, BS_ERR_CRYPTO, "unable to set up HKDF-SHA256 (OpenSSL)");
		goto out;
	}
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len);
	/* an empty salt means HashLen zero bytes (RFC 5869), OpenSSL's default */
	if (salt_len > 0)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info));
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, AGE_KEY_LEN, params) != 1) {
		bs_err_set(err, BS_ERR_CRYPTO, "HKDF-SHA256 derivation failed (OpenSSL)");
		goto out;
	}
	rc = 0;
out:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return rc;
}

int age_hmac(const uint8_t key[AGE_KEY_LEN], const void *data, size_t len,
	     uint8_t out[AGE_KEY_LEN], struct bs_err *err)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[2];
	size_t outl = 0;
	int rc = -1;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!ctx || EVP_MAC_init(ctx, key, AGE_KEY_LEN, params) != 1 ||
	    EVP_MAC_update(ctx, data, len) != 1 ||
	    EVP_MAC_final(ctx, out, &outl, AGE_KEY_LEN) != 1 || outl != AGE_KEY_LEN) {
		bs_err_set(err, BS_ERR_CRYPTO, "HMAC-SHA256 failed (OpenSSL)");
		goto out;
	}
	rc = 0;
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return rc;
}

static const uint8_t zero_nonce[12];

int age_wrap_key(const uint8_t key[AGE_KEY_LEN], const uint8_t file_key[AGE_FILE_KEY_LEN],
		 uint8_t body[AGE_FILE_KEY_LEN + AGE_TAG_LEN], struct bs_err *err)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int l1 = 0, l2 = 0, rc = -1;

	if (!ctx || EVP_EncryptInit_ex2(ctx, EVP_chacha20_poly1305(), key, zero_nonce, NULL) != 1 ||
	    EVP_EncryptUpdate(ctx, body, &l1, file_key, AGE_FILE_KEY_LEN) != 1 ||
	    EVP_EncryptFinal_ex(ctx, body + l1, &l2) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, AGE_TAG_LEN, body + AGE_FILE_KEY_LEN) != 1) {
		bs_err_set(err, BS_ERR_CRYPTO, "ChaCha20-Poly1305 encryption failed (OpenSSL)");
		goto out;
	}
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int age_unwrap_key(const uint8_t key[AGE_KEY_LEN], const uint8_t body[AGE_FILE_KEY_LEN + AGE_TAG_LEN],
		   uint8_t file_key[AGE_FILE_KEY_LEN], struct bs_err *err)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t tmp[AGE_FILE_KEY_LEN];
	int l1 = 0, l2 = 0, rc = -1;

	if (!ctx || EVP_DecryptInit_ex2(ctx, EVP_chacha20_poly1305(), key, zero_nonce, NULL) != 1 ||
	    EVP_DecryptUpdate(ctx, tmp, &l1, body, AGE_FILE_KEY_LEN) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, AGE_TAG_LEN,
				(void *)(body + AGE_FILE_KEY_LEN)) != 1) {
		bs_err_set(err, BS_ERR_CRYPTO, "ChaCha20-Poly1305 decryption failed (OpenSSL)");
		goto out;
	}
	if (EVP_DecryptFinal_ex(ctx, tmp + l1, &l2) != 1) {
		rc = 1; /* authentication failed: not our stanza */
		goto out;
	}
	memcpy(file_key, tmp, AGE_FILE_KEY_LEN);
	rc = 0;
out:
	OPENSSL_cleanse(tmp, sizeof(tmp));
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}
