/*
 * age.h - the age v1 encryption format (https://age-encryption.org/v1),
 * interoperable with the age / age-keygen command-line tools.
 *
 * Supported recipient types: X25519 ("age1..." public keys,
 * "AGE-SECRET-KEY-1..." identities) and scrypt (a passphrase).  Not
 * supported: ASCII armor, post-quantum hybrid (mlkem768x25519, needs ML-KEM
 * which OpenSSL 3.0 lacks), tagged recipients, plugins, SSH keys.  Headers
 * carrying unknown stanza types are still decrypted with a known one.
 *
 * Vocabulary: a *recipient* is a public key (or a passphrase) that an
 * archive is encrypted to; an *identity* is the secret that opens it.
 *
 * Ownership: every *_new returns an object owned by the caller, released
 * with the matching *_free (NULL is a no-op).  Objects holding secrets wipe
 * them with OPENSSL_cleanse before freeing; secret strings returned to the
 * caller are released with bs_secret_free (common/secret.h).  String
 * arguments are copied; returned const char * point into the object and
 * live as long as it.
 *
 * Errors: functions return 0 (or a pointer) on success and -1 (or NULL) with
 * err filled.  Codes: BS_ERR_CONFIG for bad keys and key files (messages name
 * "path:line"), BS_ERR_SECRET_PERM for secret files readable by group or
 * others, BS_ERR_REFUSED for an encryption with no or conflicting
 * recipients, BS_ERR_FORMAT for a malformed or truncated archive,
 * BS_ERR_CRYPTO for a wrong key, a header MAC mismatch or a modified chunk.
 *
 * Threads: objects are not shared between threads while being modified;
 * const recipient/identity lists may be used by several streams at once.
 */
#ifndef BS_CRYPT_AGE_H
#define BS_CRYPT_AGE_H

#include <stddef.h>
#include <time.h>

#include "common/err.h"
#include "common/secret.h" /* bs_secret_free, bs_secret_protect_process */
#include "common/stream.h"

/* ---- recipients: what an archive is encrypted to ---- */

/* Opaque list of X25519 public keys and/or one scrypt passphrase.  A
 * passphrase cannot be combined with public keys (age requires an scrypt
 * stanza to be alone in the header). */
struct bs_age_recipients;

struct bs_age_recipients *bs_age_recipients_new(void);   /* NULL: out of memory */
void bs_age_recipients_free(struct bs_age_recipients *r); /* wipes the passphrase */
/* Add one "age1..." public key (surrounding whitespace ignored).  Duplicates
 * are ignored. */
int bs_age_recipients_add(struct bs_age_recipients *r, const char *age1_str, struct bs_err *err);
/* Add every recipient of a file: one "age1..." per line, '#' comments and
 * blank lines ignored.  Errors name "path:line". */
int bs_age_recipients_load_file(struct bs_age_recipients *r, const char *path, struct bs_err *err);
/* Encrypt with this passphrase (copied) instead of public keys. */
int bs_age_recipients_set_passphrase(struct bs_age_recipients *r, const char *pass,
				     struct bs_err *err);
/* Number of X25519 public keys (the passphrase is not counted). */
size_t bs_age_recipients_count(const struct bs_age_recipients *r);
/* The i-th public key as a canonical "age1..." string, or NULL for an index
 * past the X25519 keys.  Owned by r. */
const char *bs_age_recipients_get(const struct bs_age_recipients *r, size_t i);
int bs_age_recipients_has_passphrase(const struct bs_age_recipients *r);

/* ---- identities: what opens an archive ---- */

/* Opaque list of X25519 secret keys and/or passphrases. */
struct bs_age_identities;

struct bs_age_identities *bs_age_identities_new(void);    /* NULL: out of memory */
void bs_age_identities_free(struct bs_age_identities *ids); /* wipes secrets (OPENSSL_cleanse) */
/* Add one "AGE-SECRET-KEY-1..." string (surrounding whitespace ignored). */
int bs_age_identities_add(struct bs_age_identities *ids, const char *secret_key,
			  struct bs_err *err);
/* Add every identity of an age-keygen style file: one "AGE-SECRET-KEY-1..."
 * per line, '#' comments and blank lines ignored.  Refuses
 * (BS_ERR_SECRET_PERM, hint "chmod 600 <path>") a file accessible by group
 * or others (bs_secret_read_file's rules).  Symbolic links are followed
 * (secret mounts use them); the permission check applies to the file
 * itself.  Errors name "path:line". */
int bs_age_identities_load_file(struct bs_age_identities *ids, const char *path,
				struct bs_err *err);
/* Also try this passphrase (copied) on scrypt-encrypted archives. */
int bs_age_identities_add_passphrase(struct bs_age_identities *ids, const char *pass,
				     struct bs_err *err);
/* Number of X25519 identities (passphrases not counted). */
size_t bs_age_identities_count(const struct bs_age_identities *ids);
/* Public key ("age1...") of the i-th X25519 identity, or NULL past the end.
 * Owned by ids.  Not secret: safe to print. */
const char *bs_age_identities_recipient(const struct bs_age_identities *ids, size_t i);
/* What the snapshot's catalog record says the archive was encrypted to
 * (its "recipients", age1... strings; only read during the call).  With it,
 * an identity whose public key is listed but opens no stanza is reported as
 * a damaged header (BS_ERR_CRYPTO), not as a wrong key. */
void bs_age_identities_note_recipients(struct bs_age_identities *ids, const char *const *recipients,
				       size_t n);

/* ---- streams (see common/stream.h) ----
 *
 * Both constructors take ownership of inner, also on failure (they free it).
 * Memory is bounded: about 64 KiB to encrypt, 128 KiB to decrypt, whatever
 * the size of the payload.
 */

/* Writes the age header to inner at once, then encrypts everything written
 * to the returned stream in 64 KiB chunks; bs_wstream_finish writes the
 * final chunk and finishes inner.  Uses r's X25519 keys, or its passphrase
 * (scrypt, work factor 2^18).  r is only read during the call. */
struct bs_wstream *bs_age_encrypt_new(struct bs_wstream *inner, const struct bs_age_recipients *r,
				      struct bs_err *err);

/* Reads and authenticates the header (and the payload nonce) inside the
 * call: NULL with BS_ERR_NO_IDENTITY when no identity or passphrase
 * matches ("no identity matches any recipient of this archive"),
 * BS_ERR_CRYPTO on a "header MAC mismatch" or a stanza that should open
 * with a noted recipient (bs_age_identities_note_recipients) but does not,
 * BS_ERR_FORMAT for a malformed header.  Reads of the returned stream
 * release only authenticated plaintext and return -1 (never 0) on a chunk
 * that fails authentication (BS_ERR_CRYPTO, the message names the chunk),
 * on truncation (BS_ERR_FORMAT, "truncated") or on bytes after the final
 * chunk (BS_ERR_FORMAT, "unexpected data after the final chunk"); 0 only
 * after the authenticated final chunk.  Scrypt work factors above 2^22 are refused.
 * ids is only read during the call. */
struct bs_rstream *bs_age_decrypt_new(struct bs_rstream *inner, const struct bs_age_identities *ids,
				      struct bs_err *err);

/* 1 if buf starts with the age v1 version line ("age-encryption.org/v1\n"). */
int bs_age_is_encrypted(const void *buf, size_t len);

/* ---- keys ---- */

/* New X25519 key pair.  *identity_out ("AGE-SECRET-KEY-1...") is secret:
 * release it with bs_secret_free.  *recipient_out ("age1...") with free. */
int bs_age_keygen(char **identity_out, char **recipient_out, struct bs_err *err);
/* Public key of a secret key string.  *recipient_out is freed with free. */
int bs_age_identity_to_recipient(const char *identity, char **recipient_out, struct bs_err *err);
/* The text of an identity file as age-keygen writes it:
 *   # created: 2026-11-23T02:15:00Z      (RFC 3339, local time zone)
 *   # public key: age1...
 *   AGE-SECRET-KEY-1...
 * *out is secret: release with bs_secret_free. */
int bs_age_identity_file_text(const char *identity, const char *recipient, time_t created,
			      char **out, struct bs_err *err);
/* Create path with mode 0600 (O_CREAT|O_EXCL|O_NOFOLLOW: never overwrites,
 * never follows a symlink), write text, fsync the file and its directory.
 * A partial file is removed on failure.  BS_ERR_REFUSED if path exists. */
int bs_age_write_secret_file(const char *path, const char *text, struct bs_err *err);

/* ---- passphrase sources (never argv: it leaks into ps) ---- */

/* Read a passphrase file (bs_secret_read_file's rules, symbolic links
 * followed, at most 4096 bytes): one trailing newline ("\n" or "\r\n") is
 * stripped.  Same permission rule as identity files.  *out: bs_secret_free. */
int bs_passphrase_read_file(const char *path, char **out, struct bs_err *err);
/* Copy the value of environment variable name (e.g. "BACKSTOP_PASSPHRASE").
 * BS_ERR_CONFIG if unset or empty.  *out: bs_secret_free. */
int bs_passphrase_from_env(const char *name, char **out, struct bs_err *err);
/* Prompt on /dev/tty with echo off (the only text the library writes outside
 * the log, and it goes to the terminal, not stdout/stderr).  confirm asks a
 * second time and requires both to match.  BS_ERR_USAGE if there is no
 * controlling terminal.  Ctrl-C restores the terminal, then the signal is
 * delivered as usual.  *out: bs_secret_free. */
int bs_passphrase_prompt(const char *prompt, int confirm, char **out, struct bs_err *err);

#endif
