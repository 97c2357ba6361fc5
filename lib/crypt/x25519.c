/* x25519.c - the X25519 recipient type: key pairs and stanzas
 *   -> X25519 <base64 ephemeral share>
 *   <base64 of the wrapped file key>
 * wrap key = HKDF-SHA256(ikm = X25519(eph, recipient), salt = share || recipient,
 *                        info = "age-encryption.org/v1/X25519") */
#include "crypt/age_int.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

static EVP_PKEY *pkey_secret(const uint8_t sk[AGE_KEY_LEN])
{
	return EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sk, AGE_KEY_LEN);
}

int age_x25519_public(const uint8_t sk[AGE_KEY_LEN], uint8_t pk[AGE_KEY_LEN], struct bs_err *err)
{
	EVP_PKEY *k = pkey_secret(sk);
	size_t len = AGE_KEY_LEN;
	int rc = 0;

	if (!k || EVP_PKEY_get_raw_public_key(k, pk, &len) != 1 || len != AGE_KEY_LEN)
		rc = bs_err_set(err, BS_ERR_CRYPTO, "unable to compute an X25519 public key (OpenSSL)");
	EVP_PKEY_free(k);
	return rc;
}

int age_x25519_generate(uint8_t sk[AGE_KEY_LEN], uint8_t pk[AGE_KEY_LEN], struct bs_err *err)
{
	if (age_random(sk, AGE_KEY_LEN, err) < 0)
		return -1;
	return age_x25519_public(sk, pk, err);
}

/* shared = X25519(sk, peer).  Returns 0, or 1 when the result is all zero
 * (peer is a low-order point; OpenSSL reports that as a derive failure), or
 * -1 on another failure. */
static int x25519_shared(const uint8_t sk[AGE_KEY_LEN], const uint8_t peer[AGE_KEY_LEN],
			 uint8_t shared[AGE_KEY_LEN], struct bs_err *err)
{
	static const uint8_t zero[AGE_KEY_LEN];
	EVP_PKEY *k = pkey_secret(sk);
	EVP_PKEY *p = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, AGE_KEY_LEN);
	EVP_PKEY_CTX *ctx = k ? EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL) : NULL;
	size_t len = AGE_KEY_LEN;
	int rc = -1;

	if (!ctx || !p || EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, p) != 1) {
		bs_err_set(err, BS_ERR_CRYPTO, "unable to set up X25519 (OpenSSL)");
		goto out;
	}
	if (EVP_PKEY_derive(ctx, shared, &len) != 1 || len != AGE_KEY_LEN ||
	    CRYPTO_memcmp(shared, zero, AGE_KEY_LEN) == 0) {
		ERR_clear_error();
		rc = 1;
		goto out;
	}
	rc = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(p);
	EVP_PKEY_free(k);
	return rc;
}

static int wrap_key_for(const uint8_t shared[AGE_KEY_LEN], const uint8_t share[AGE_KEY_LEN],
			const uint8_t pk[AGE_KEY_LEN], uint8_t key[AGE_KEY_LEN], struct bs_err *err)
{
	uint8_t salt[2 * AGE_KEY_LEN];

	memcpy(salt, share, AGE_KEY_LEN);
	memcpy(salt + AGE_KEY_LEN, pk, AGE_KEY_LEN);
	return age_hkdf(shared, AGE_KEY_LEN, salt, sizeof(salt), AGE_X25519_INFO, key, err);
}

int age_x25519_wrap(const uint8_t pk[AGE_KEY_LEN], const uint8_t file_key[AGE_FILE_KEY_LEN],
		    struct age_stanza *st, struct bs_err *err)
{
	uint8_t eph[AGE_KEY_LEN], share[AGE_KEY_LEN], shared[AGE_KEY_LEN], key[AGE_KEY_LEN];
	uint8_t body[AGE_FILE_KEY_LEN + AGE_TAG_LEN];
	char share64[64];
	const char *args[3] = {"X25519", share64, NULL};
	int rc = -1, r;

	if (age_x25519_generate(eph, share, err) < 0)
		goto out;
	r = x25519_shared(eph, pk, shared, err);
	if (r != 0) {
		if (r > 0)
			bs_err_set(err, BS_ERR_CONFIG, "invalid X25519 recipient (low-order point)");
		goto out;
	}
	if (wrap_key_for(shared, share, pk, key, err) < 0 || age_wrap_key(key, file_key, body, err) < 0)
		goto out;
	bs_b64_encode(share, AGE_KEY_LEN, share64);
	rc = age_stanza_set(st, args, body, sizeof(body), err);
out:
	OPENSSL_cleanse(eph, sizeof(eph));
	OPENSSL_cleanse(shared, sizeof(shared));
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

int age_x25519_check(const struct age_stanza *st, struct bs_err *err)
{
	uint8_t share[AGE_KEY_LEN];
	size_t n;

	if (st->nargs != 2)
		return bs_err_set(err, BS_ERR_FORMAT,
				  "malformed X25519 stanza in age header: %zu arguments, expected 1",
				  st->nargs - 1);
	if (bs_b64_decode(st->args[1], strlen(st->args[1]), share, sizeof(share), &n) < 0 ||
	    n != AGE_KEY_LEN)
		return bs_err_set(err, BS_ERR_FORMAT,
				  "malformed X25519 stanza in age header: the share is not a canonical 32-byte value");
	if (st->body_len != AGE_FILE_KEY_LEN + AGE_TAG_LEN)
		return bs_err_set(err, BS_ERR_FORMAT,
				  "malformed X25519 stanza in age header: the wrapped file key is %zu bytes, expected 32",
				  st->body_len);
	return 0;
}

int age_x25519_unwrap(const struct age_stanza *st, const uint8_t sk[AGE_KEY_LEN],
		      const uint8_t pk[AGE_KEY_LEN], uint8_t file_key[AGE_FILE_KEY_LEN],
		      struct bs_err *err)
{
	uint8_t share[AGE_KEY_LEN], shared[AGE_KEY_LEN], key[AGE_KEY_LEN];
	size_t n;
	int rc = -1, r;

	if (age_x25519_check(st, err) < 0)
		return -1;
	bs_b64_decode(st->args[1], strlen(st->args[1]), share, sizeof(share), &n);
	r = x25519_shared(sk, share, shared, err);
	if (r != 0) {
		if (r > 0)
			bs_err_set(err, BS_ERR_FORMAT,
				   "invalid X25519 stanza in age header: the share is a low-order point");
		goto out;
	}
	if (wrap_key_for(shared, share, pk, key, err) < 0)
		goto out;
	rc = age_unwrap_key(key, st->body, file_key, err);
out:
	OPENSSL_cleanse(shared, sizeof(shared));
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}
