/* chunk_test.c - zstd chunk round trips and corruption detection. */
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "archive/chunk.h"
#include "harness.h"

struct sink {
	char *buf;
	size_t len, cap;
	size_t calls, max_piece;
};

static int collect(void *ud, const void *buf, size_t len, struct bs_err *err)
{
	struct sink *s = ud;

	if (s->len + len > s->cap) {
		s->cap = (s->len + len) * 2;
		s->buf = realloc(s->buf, s->cap);
	}
	memcpy(s->buf + s->len, buf, len);
	s->len += len;
	s->calls++;
	if (len > s->max_piece)
		s->max_piece = len;
	return 0;
}

static char *pseudo_text(size_t n)
{
	char *b = malloc(n);
	uint32_t x = 12345;
	size_t i;

	for (i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		b[i] = (x >> 16) % 7 == 0 ? '\n' : (char)('a' + (x >> 16) % 26);
	}
	return b;
}

TEST(roundtrip_several_frames_reusing_the_compressor)
{
	struct bs_chunk_compressor *c = bs_chunk_compressor_new(3);
	struct bs_err err;
	size_t sizes[] = { 0, 1, 1000, 3u << 20 }, k;

	bs_err_init(&err);
	CHECK(c != NULL);
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		char *raw = pseudo_text(sizes[k] + 1);
		struct sink s = { 0 };
		const void *z;
		size_t zlen, off;

		for (off = 0; off < sizes[k]; off += 777) {
			size_t n = sizes[k] - off < 777 ? sizes[k] - off : 777;
			CHECK_INT(bs_chunk_add(c, raw + off, n, &err), 0);
		}
		CHECK_INT(bs_chunk_raw_size(c), sizes[k]);
		CHECK_INT(bs_chunk_finish(c, &z, &zlen, &err), 0);
		CHECK_INT(bs_chunk_raw_size(c), 0);
		CHECK_INT(ZSTD_getFrameContentSize(z, zlen), sizes[k]);
		CHECK_INT(bs_chunk_decompress(z, zlen, collect, &s, &err), 0);
		CHECK_INT(s.len, sizes[k]);
		CHECK(s.len == 0 || memcmp(s.buf, raw, s.len) == 0);
		/* output arrives in bounded pieces */
		CHECK(s.max_piece <= ZSTD_DStreamOutSize());
		free(s.buf);
		free(raw);
	}
	bs_chunk_compressor_free(c);
	bs_chunk_compressor_free(NULL);
}

/* Compress sizes bytes, return a copy of the frame. */
static char *frame(size_t n, size_t *zlen)
{
	struct bs_chunk_compressor *c = bs_chunk_compressor_new(3);
	char *raw = pseudo_text(n), *out;
	const void *z;
	struct bs_err err;

	bs_chunk_add(c, raw, n, &err);
	bs_chunk_finish(c, &z, zlen, &err);
	out = malloc(*zlen + 16);
	memcpy(out, z, *zlen);
	bs_chunk_compressor_free(c);
	free(raw);
	return out;
}

TEST(corrupt_frames_detected)
{
	size_t zlen, i, detected = 0, tried = 0;
	char *z = frame(200000, &zlen);
	struct bs_err err;
	struct sink s = { 0 };

	bs_err_init(&err);
	/* flip one bit anywhere: always an error, never silently different data */
	for (i = 0; i < zlen; i += zlen / 200 + 1) {
		z[i] ^= 0x01;
		s.len = 0;
		if (bs_chunk_decompress(z, zlen, collect, &s, &err) < 0 && err.code == BS_ERR_FORMAT &&
		    strncmp(err.msg, "corrupt chunk", 13) == 0)
			detected++;
		tried++;
		z[i] ^= 0x01;
	}
	CHECK_INT(detected, tried);
	/* the checksum itself */
	z[zlen - 1] ^= 0xff;
	CHECK_INT(bs_chunk_decompress(z, zlen, collect, &s, &err), -1);
	CHECK(strstr(err.msg, "checksum") != NULL);
	z[zlen - 1] ^= 0xff;
	/* truncated at several points */
	for (i = 0; i < zlen; i += zlen / 50 + 1) {
		CHECK_INT(bs_chunk_decompress(z, i, collect, &s, &err), -1);
		CHECK_INT(err.code, BS_ERR_FORMAT);
	}
	CHECK_INT(bs_chunk_decompress(z, zlen - 1, collect, &s, &err), -1);
	/* trailing garbage */
	memcpy(z + zlen, "garbage", 7);
	CHECK_INT(bs_chunk_decompress(z, zlen + 7, collect, &s, &err), -1);
	CHECK(strstr(err.msg, "trailing") != NULL);
	s.len = 0;
	CHECK_INT(bs_chunk_decompress(z, zlen, collect, &s, &err), 0);
	CHECK_INT(s.len, 200000);
	free(s.buf);
	free(z);
}

TEST(frame_without_checksum_refused)
{
	char raw[100], z[256];
	size_t n;
	struct bs_err err;
	struct sink s = { 0 };

	bs_err_init(&err);
	memset(raw, 'x', sizeof(raw));
	n = ZSTD_compress(z, sizeof(z), raw, sizeof(raw), 3); /* no checksum by default */
	CHECK(!ZSTD_isError(n));
	CHECK_INT(bs_chunk_decompress(z, n, collect, &s, &err), -1);
	CHECK(strstr(err.msg, "checksum") != NULL);
	CHECK_INT(bs_chunk_decompress("not zstd at all", 15, collect, &s, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	free(s.buf);
}

static int stop_cb(void *ud, const void *buf, size_t len, struct bs_err *err)
{
	return bs_err_set(err, BS_ERR_IO, "sink failed");
}

TEST(callback_error_propagates)
{
	size_t zlen;
	char *z = frame(1000, &zlen);
	struct bs_err err;

	bs_err_init(&err);
	CHECK_INT(bs_chunk_decompress(z, zlen, stop_cb, NULL, &err), -1);
	CHECK_INT(err.code, BS_ERR_IO);
	CHECK_STR(err.msg, "sink failed");
	free(z);
}

int main(void)
{
	RUN(roundtrip_several_frames_reusing_the_compressor);
	RUN(corrupt_frames_detected);
	RUN(frame_without_checksum_refused);
	RUN(callback_error_propagates);
	return DONE();
}
