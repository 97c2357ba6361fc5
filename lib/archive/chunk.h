/*
 * chunk.h - zstd chunks: one frame per archive member, with content size
 * and content checksum, so every member is checked on its own.
 *
 * Compression is incremental (rows are appended as they arrive); the
 * compressed bytes accumulate in a buffer owned by the compressor until
 * bs_chunk_finish hands them out.  Decompression streams the content to a
 * callback in bounded pieces, whatever the chunk's size.
 */
#ifndef BS_ARCHIVE_CHUNK_H
#define BS_ARCHIVE_CHUNK_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct bs_chunk_compressor;

struct bs_chunk_compressor *bs_chunk_compressor_new(int level);
void bs_chunk_compressor_free(struct bs_chunk_compressor *c);
/* Append bytes to the current frame. */
int bs_chunk_add(struct bs_chunk_compressor *c, const void *buf, size_t len, struct bs_err *err);
/* Bytes appended to the current frame so far (uncompressed). */
uint64_t bs_chunk_raw_size(const struct bs_chunk_compressor *c);
/* End the frame; *out and *len point into the compressor's buffer, valid until
 * the next bs_chunk_add/finish/reset.  The compressor is ready for a new frame. */
int bs_chunk_finish(struct bs_chunk_compressor *c, const void **out, size_t *len, struct bs_err *err);

/* Decompress one member (a complete zstd frame) and pass the content in
 * pieces to fn.  A bad checksum, truncated frame or trailing garbage is a
 * BS_ERR_FORMAT error ("corrupt chunk: ..."). */
typedef int (*bs_chunk_data_fn)(void *ud, const void *buf, size_t len, struct bs_err *err);
int bs_chunk_decompress(const void *z, size_t zlen, bs_chunk_data_fn fn, void *ud, struct bs_err *err);

#endif
