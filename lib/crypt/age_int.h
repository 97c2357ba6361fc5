/*
 * age_int.h - internals shared by the lib/crypt files.  Not a public API:
 * the files of lib/crypt and the crypt unit tests include it.
 *
 * Layout of the module (one concern per file):
 *   base64.c      strict unpadded base64 (the age header encoding)
 *   bech32.c      BIP173 bech32 (age1... / AGE-SECRET-KEY-1... strings)
 *   primitives.c  HKDF-SHA256, HMAC-SHA256, file-key AEAD, CSPRNG (OpenSSL)
 *   x25519.c      X25519 recipient stanzas
 *   scrypt.c      scrypt (passphrase) recipient stanzas
 *   age_header.c  header parse / encode / MAC
 *   age_stream.c  STREAM payload: bs_age_encrypt_new / bs_age_decrypt_new
 *   keys.c        recipient and identity lists, key files, keygen
 *   passphrase.c  passphrase from a file, an environment variable, a TTY
 */
#ifndef BS_CRYPT_AGE_INT_H
#define BS_CRYPT_AGE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "crypt/age.h"

#define AGE_VERSION_LINE "age-encryption.org/v1"
#define AGE_FILE_KEY_LEN 16
#define AGE_KEY_LEN 32           /* X25519 keys, derived keys, MAC */
#define AGE_TAG_LEN 16           /* Poly1305 */
#define AGE_NONCE_LEN 16         /* payload nonce */
#define AGE_CHUNK 65536          /* plaintext bytes per STREAM chunk */
#define AGE_ENC_CHUNK (AGE_CHUNK + AGE_TAG_LEN)
#define AGE_HEADER_MAX (1024 * 1024) /* refuse larger headers */
#define AGE_BODY_COLUMNS 64

#define AGE_SCRYPT_DEFAULT_LOG_N 18  /* as age */
#define AGE_SCRYPT_MAX_LOG_N 22      /* decrypt refuses more, as age */
#define AGE_SCRYPT_SALT_LEN 16
#define AGE_SCRYPT_LABEL "age-encryption.org/v1/scrypt"
#define AGE_X25519_INFO "age-encryption.org/v1/X25519"

#include "common/base64.h"

#define AGE_HRP_RECIPIENT "age"
#define AGE_HRP_IDENTITY "AGE-SECRET-KEY-"

/* ---- bech32.c ---- */

/* Encode data (8-bit bytes) with hrp; upper selects an all-uppercase string.
 * Returns 0, or -1 if out (cap bytes incl. NUL) is too small. */
int age_bech32_encode(const char *hrp, const uint8_t *data, size_t n, int upper,
		      char *out, size_t cap);
/* Decode s.  hrp (hrp_cap bytes) receives the human-readable part in its
 * original case; data (cap bytes) the 8-bit payload.  Returns 0 or -1 and a
 * short static reason in *why. */
int age_bech32_decode(const char *s, char *hrp, size_t hrp_cap, uint8_t *data, size_t cap,
		      size_t *n, const char **why);

/* ---- primitives.c ---- */

int age_random(void *buf, size_t n, struct bs_err *err);
/* HKDF-SHA256 -> 32 bytes. */
int age_hkdf(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
	     const char *info, uint8_t out[AGE_KEY_LEN], struct bs_err *err);
int age_hmac(const uint8_t key[AGE_KEY_LEN], const void *data, size_t len,
	     uint8_t out[AGE_KEY_LEN], struct bs_err *err);
/* ChaCha20-Poly1305 with a zero nonce, for wrapping the 16-byte file key. */
int age_wrap_key(const uint8_t key[AGE_KEY_LEN], const uint8_t file_key[AGE_FILE_KEY_LEN],
		 uint8_t body[AGE_FILE_KEY_LEN + AGE_TAG_LEN], struct bs_err *err);
/* Returns 0 unwrapped, 1 authentication failed (not for us), -1 error. */
int age_unwrap_key(const uint8_t key[AGE_KEY_LEN], const uint8_t body[AGE_FILE_KEY_LEN + AGE_TAG_LEN],
		   uint8_t file_key[AGE_FILE_KEY_LEN], struct bs_err *err);

/* ---- stanzas ---- */

struct age_stanza {
	char **args;          /* args[0] is the stanza type; owned */
	size_t nargs;
	uint8_t *body;        /* owned; may be NULL when body_len == 0 */
	size_t body_len;
};

void age_stanza_release(struct age_stanza *st);
/* Set args from a NULL-terminated list of strings (copied). */
int age_stanza_set(struct age_stanza *st, const char *const *args, const uint8_t *body,
		   size_t body_len, struct bs_err *err);

/* ---- x25519.c ---- */

int age_x25519_generate(uint8_t sk[AGE_KEY_LEN], uint8_t pk[AGE_KEY_LEN], struct bs_err *err);
int age_x25519_public(const uint8_t sk[AGE_KEY_LEN], uint8_t pk[AGE_KEY_LEN], struct bs_err *err);
int age_x25519_wrap(const uint8_t pk[AGE_KEY_LEN], const uint8_t file_key[AGE_FILE_KEY_LEN],
		    struct age_stanza *st, struct bs_err *err);
/* Structural check of an "X25519" stanza (BS_ERR_FORMAT). */
int age_x25519_check(const struct age_stanza *st, struct bs_err *err);
/* 0 unwrapped, 1 not addressed to this key, -1 error (low-order share). */
int age_x25519_unwrap(const struct age_stanza *st, const uint8_t sk[AGE_KEY_LEN],
		      const uint8_t pk[AGE_KEY_LEN], uint8_t file_key[AGE_FILE_KEY_LEN],
		      struct bs_err *err);

/* ---- scrypt.c ---- */

int age_scrypt_wrap(const char *pass, int log_n, const uint8_t file_key[AGE_FILE_KEY_LEN],
		    struct age_stanza *st, struct bs_err *err);
/* Structural check of an "scrypt" stanza (BS_ERR_FORMAT); *log_n gets the
 * work factor. */
int age_scrypt_check(const struct age_stanza *st, int *log_n, struct bs_err *err);
/* 0 unwrapped, 1 wrong passphrase, -1 error (work factor above the limit). */
int age_scrypt_unwrap(const struct age_stanza *st, const char *pass,
		      uint8_t file_key[AGE_FILE_KEY_LEN], struct bs_err *err);

/* ---- age_header.c ---- */

struct age_header {
	struct age_stanza *st;   /* owned array */
	size_t n;
	uint8_t mac[AGE_KEY_LEN];
	size_t mac_input_len;    /* bytes of the header covered by the MAC (through "---") */
};

/* Parse a complete header text (through the MAC line's LF).  Syntax errors
 * are BS_ERR_FORMAT. */
int age_header_parse(const char *buf, size_t len, struct age_header *h, struct bs_err *err);
void age_header_release(struct age_header *h);
/* Serialize stanzas with their MAC under file_key; *out is malloc'd. */
int age_header_encode(const struct age_stanza *st, size_t n,
		      const uint8_t file_key[AGE_FILE_KEY_LEN], char **out, size_t *out_len,
		      struct bs_err *err);
int age_header_mac(const uint8_t file_key[AGE_FILE_KEY_LEN], const void *buf, size_t len,
		   uint8_t mac[AGE_KEY_LEN], struct bs_err *err);

/* ---- keys.c: the opaque lists ---- */

struct age_x25519_id {
	uint8_t sk[AGE_KEY_LEN];
	uint8_t pk[AGE_KEY_LEN];
	char recipient[96];      /* age1... of pk */
	int listed;              /* named by the snapshot's record (note_recipients) */
};

struct bs_age_recipients {
	uint8_t (*keys)[AGE_KEY_LEN];
	char **strs;             /* canonical age1... strings */
	size_t n, cap;
	char *passphrase;        /* secret; wiped on free */
	int scrypt_log_n;
};

struct bs_age_identities {
	struct age_x25519_id *x;  /* secrets; wiped on free */
	size_t n, cap;
	char **pass;              /* secrets; wiped on free */
	size_t npass, passcap;
};

/* TESTS ONLY: lower the scrypt work factor used by bs_age_encrypt_new for
 * r (default AGE_SCRYPT_DEFAULT_LOG_N) so tests do not spend a second per
 * encryption.  There is deliberately no environment variable or option for
 * this: production archives always use 2^18. */
void bs_age_recipients_set_scrypt_log_n(struct bs_age_recipients *r, int log_n);

#endif
