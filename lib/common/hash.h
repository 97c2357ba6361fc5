/*
 * hash.h - SHA-256 as the archive format uses it: one-shot digests, hex,
 * and "taps" that digest every byte passing through a stream.
 *
 * A tap is a stream layer: bs_wstream_sha256 / bs_rstream_sha256 take
 * ownership of the inner stream like every layer (stream.h) and hand back
 * a pointer to the running digest, which the tap owns: it is valid until
 * the stream is freed.  Snap puts a write tap right above the repository
 * object (so it digests the bytes as stored: ciphertext when encrypted);
 * readers put a read tap right above the repository get and compare its
 * digest with the catalog record at the end (archive/reader.h).
 */
#ifndef BS_COMMON_HASH_H
#define BS_COMMON_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/stream.h"

#define BS_SHA256_LEN 32
#define BS_SHA256_HEX_LEN 64

/* One-shot SHA-256 of a buffer.  -1 with BS_ERR_CRYPTO if OpenSSL fails. */
int bs_sha256(const void *buf, size_t len, unsigned char out[BS_SHA256_LEN], struct bs_err *err);
/* SHA-256 of exactly size bytes of fd from offset 0 (pread: the file
 * offset is not moved).  A short file is BS_ERR_IO. */
int bs_sha256_fd(int fd, uint64_t size, unsigned char out[BS_SHA256_LEN], struct bs_err *err);

/* Lowercase hex of n bytes into out (2n + 1 bytes). */
void bs_hex(const unsigned char *b, size_t n, char *out);
/* Exactly 2n lowercase hex digits into n bytes; -1 if malformed. */
int bs_unhex(const char *hex, unsigned char *out, size_t n);

/* Incremental digest: new/update/final; owned by the caller. */
struct bs_sha256_ctx;
struct bs_sha256_ctx *bs_sha256_new(void);               /* NULL if out of memory */
void bs_sha256_update(struct bs_sha256_ctx *c, const void *buf, size_t len);
/* The digest of everything so far (the context can go on). */
void bs_sha256_peek(const struct bs_sha256_ctx *c, unsigned char out[BS_SHA256_LEN]);
uint64_t bs_sha256_bytes(const struct bs_sha256_ctx *c);
void bs_sha256_reset(struct bs_sha256_ctx *c);
void bs_sha256_free(struct bs_sha256_ctx *c);

/* Taps (see above).  On allocation failure the inner stream is freed and
 * NULL returned. */
struct bs_wstream *bs_wstream_sha256(struct bs_wstream *inner, const struct bs_sha256_ctx **tap);
struct bs_rstream *bs_rstream_sha256(struct bs_rstream *inner, const struct bs_sha256_ctx **tap);

#endif
