/* chunk.c - see chunk.h; zstd frames with content size and checksum.
 *
 * The compressor gathers a chunk's raw bytes and compresses them in one
 * call at bs_chunk_finish, so the frame header carries the content size
 * (zstd -l shows it; the reader can check it).  Memory per compressor is
 * about one chunk raw plus its compressed form; buffers are kept between
 * frames and only the touched part of them is resident.
 */
#include "archive/chunk.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>
#include <zstd_errors.h>

struct bs_chunk_compressor {
	ZSTD_CCtx *cctx;
	int level;
	char *raw;
	size_t raw_len, raw_cap;
	char *z;
	size_t z_cap;
};

struct bs_chunk_compressor *bs_chunk_compressor_new(int level)
{
	struct bs_chunk_compressor *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->level = level;
	c->cctx = ZSTD_createCCtx();
	if (!c->cctx ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_compressionLevel, level)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_checksumFlag, 1)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_contentSizeFlag, 1))) {
		bs_chunk_compressor_free(c);
		return NULL;
	}
	return c;
}

void bs_chunk_compressor_free(struct bs_chunk_compressor *c)
{
	if (!c)
		return;
	ZSTD_freeCCtx(c->cctx);
	free(c->raw);
	free(c->z);
	free(c);
}

int bs_chunk_add(struct bs_chunk_compressor *c, const void *buf, size_t len, struct bs_err *err)
{
	if (len > c->raw_cap - c->raw_len) {
		size_t ncap = c->raw_cap ? c->raw_cap : 64 * 1024;
		char *nb;

		while (ncap - c->raw_len < len) {
			if (ncap > SIZE_MAX / 2)
				return bs_err_set(err, BS_ERR_NOMEM, "chunk too large");
			ncap *= 2;
		}
		nb = realloc(c->raw, ncap);
		if (!nb)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory for a %zu byte chunk", ncap);
		c->raw = nb;
		c->raw_cap = ncap;
	}
	memcpy(c->raw + c->raw_len, buf, len);
	c->raw_len += len;
	return 0;
}

uint64_t bs_chunk_raw_size(const struct bs_chunk_compressor *c)
{
	return c->raw_len;
}

int bs_chunk_finish(struct bs_chunk_compressor *c, const void **out, size_t *len, struct bs_err *err)
{
	size_t bound = ZSTD_compressBound(c->raw_len), n;

	*out = NULL;
	*len = 0;
	if (bound > c->z_cap) {
		char *nb = realloc(c->z, bound);
		if (!nb)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory for a %zu byte chunk", bound);
		c->z = nb;
		c->z_cap = bound;
	}
	n = ZSTD_compress2(c->cctx, c->z, c->z_cap, c->raw, c->raw_len);
	c->raw_len = 0;
	if (ZSTD_isError(n))
		return bs_err_set(err, BS_ERR_INTERNAL, "zstd compression failed: %s", ZSTD_getErrorName(n));
	*out = c->z;
	*len = n;
	return 0;
}

int bs_chunk_decompress(const void *z, size_t zlen, bs_chunk_data_fn fn, void *ud, struct bs_err *err)
{
	const unsigned char *zb = z;
	ZSTD_DCtx *d = NULL;
	ZSTD_inBuffer in = { z, zlen, 0 };
	size_t outcap = ZSTD_DStreamOutSize(), ret = 1;
	unsigned long long total = 0, csize;
	char *obuf = NULL;
	int rc = -1;

	/* RFC 8878: magic 0xFD2FB528 (little endian), then the frame header
	 * descriptor whose bit 2 is Content_Checksum_flag.  A frame without a
	 * checksum would go unverified: refuse it. */
	if (zlen < 6)
		return bs_err_set(err, BS_ERR_FORMAT, "corrupt chunk: truncated frame header");
	if (zb[0] != 0x28 || zb[1] != 0xB5 || zb[2] != 0x2F || zb[3] != 0xFD)
		return bs_err_set(err, BS_ERR_FORMAT, "corrupt chunk: not a zstd frame");
	if (!(zb[4] & 0x04))
		return bs_err_set(err, BS_ERR_FORMAT, "corrupt chunk: frame has no content checksum");
	csize = ZSTD_getFrameContentSize(z, zlen);
	if (csize == ZSTD_CONTENTSIZE_ERROR)
		return bs_err_set(err, BS_ERR_FORMAT, "corrupt chunk: bad frame header");
	d = ZSTD_createDCtx();
	obuf = malloc(outcap);
	if (!d || !obuf) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	while (in.pos < in.size) {
		ZSTD_outBuffer ob = { obuf, outcap, 0 };
		ret = ZSTD_decompressStream(d, &ob, &in);
		if (ZSTD_isError(ret)) {
			if (ZSTD_getErrorCode(ret) == ZSTD_error_checksum_wrong)
				bs_err_set(err, BS_ERR_FORMAT, "corrupt chunk: checksum mismatch");
			else
				bs_err_set(err, BS_ERR_FORMAT, "corrupt chunk: %s", ZSTD_getErrorName(ret));
			goto out;
		}
		if (ob.pos > 0) {
			total += ob.pos;
			if (fn(ud, obuf, ob.pos, err) < 0)
				goto out;
		}
		if (ret == 0)
			break; /* frame complete (checksum verified) */
	}
	/* flush what the decoder still holds for a frame whose input is all consumed */
	while (ret != 0) {
		ZSTD_outBuffer ob = { obuf, outcap, 0 };
		ret = ZSTD_decompressStream(d, &ob, &in);
		if (ZSTD_isError(ret)) {
			if (ZSTD_getErrorCode(ret) == ZSTD_error_checksum_wrong)
				bs_err_set(err, BS_ERR_FORMAT, "corrupt chunk: checksum mismatch");
			else
				bs_err_set(err, BS_ERR_FORMAT, "corrupt chunk: %s", ZSTD_getErrorName(ret));
			goto out;
		}
		if (ob.pos == 0 && ret != 0) {
			bs_err_set(err, BS_ERR_FORMAT, "corrupt chunk: truncated frame");
			goto out;
		}
		total += ob.pos;
		if (ob.pos > 0 && fn(ud, obuf, ob.pos, err) < 0)
			goto out;
	}
	if (in.pos != in.size) {
		bs_err_set(err, BS_ERR_FORMAT, "corrupt chunk: %zu bytes of trailing data after the frame",
			   in.size - in.pos);
		goto out;
	}
	if (csize != ZSTD_CONTENTSIZE_UNKNOWN && total != csize) {
		bs_err_set(err, BS_ERR_FORMAT, "corrupt chunk: content size mismatch");
		goto out;
	}
	rc = 0;
out:
	ZSTD_freeDCtx(d);
	free(obuf);
	return rc;
}
