/*
 * digest.h - order-independent digest of a set of rows (docs/format.md).
 *
 * Each row's COPY text line (without newline) is hashed with SHA-256; the
 * first 16 bytes, read as a little-endian 128-bit integer, are added modulo
 * 2^128.  Sums of chunk digests give table digests.  Caller-allocated, no
 * resources: bs_digest_init is all the set-up there is.
 */
#ifndef BS_ARCHIVE_DIGEST_H
#define BS_ARCHIVE_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define BS_DIGEST_HEX_LEN 32

struct bs_digest {
	uint64_t lo, hi;   /* the 128-bit sum */
	uint64_t rows;     /* rows added */
};

void bs_digest_init(struct bs_digest *d);
/* Add one row (COPY text line, without its trailing newline). */
void bs_digest_add_row(struct bs_digest *d, const void *row, size_t len);
/* Add a whole COPY text payload: splits at '\n' and adds each line.
 * A final line without newline is added too. */
void bs_digest_add_payload(struct bs_digest *d, const void *buf, size_t len);
/* Add another digest (sum of chunks). */
void bs_digest_merge(struct bs_digest *d, const struct bs_digest *other);
/* Streamed object digest (large objects): SHA-256 of "<label>:" then the
 * bytes.  begin returns an owned context (NULL on allocation failure);
 * end adds the object's hash to d and frees the context; free discards. */
struct bs_digest_obj;
struct bs_digest_obj *bs_digest_obj_begin(const char *label);
void bs_digest_obj_update(struct bs_digest_obj *o, const void *buf, size_t len);
void bs_digest_obj_end(struct bs_digest *d, struct bs_digest_obj *o);
void bs_digest_obj_free(struct bs_digest_obj *o);
/* Hex (32 chars + NUL) of the sum. */
void bs_digest_hex(const struct bs_digest *d, char out[BS_DIGEST_HEX_LEN + 1]);
int bs_digest_from_hex(struct bs_digest *d, const char *hex); /* -1 if malformed; rows untouched */
int bs_digest_equal(const struct bs_digest *a, const struct bs_digest *b); /* sums only */

#endif
