/* tar_test.c - tar writer -> reader round trips, truncation and corruption. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/chunk.h"
#include "archive/tar.h"
#include "harness.h"

/* Build an archive in memory: header, a zstd chunk, an fd member, manifest. */
static char *chunk_z;
static size_t chunk_zlen;

static void *make_archive(size_t *len, int close_it)
{
	struct bs_wstream *out = bs_wstream_mem(1 << 24);
	struct bs_tar_writer *w = NULL;
	struct bs_chunk_compressor *c = bs_chunk_compressor_new(3);
	struct bs_err err;
	const void *z;
	const void *data;
	char row[64];
	void *copy;
	int i, fd;
	char tmpl[] = "/tmp/bs-tar-test-XXXXXX";

	bs_err_init(&err);
	CHECK_INT(bs_tar_writer_new(out, &w, &err), 0);
	CHECK_INT(bs_tar_write_member(w, "backstop.json", "{\"a\":1}\n", 8, NULL, 1700000000, &err), 0);
	for (i = 0; i < 5000; i++) {
		int n = snprintf(row, sizeof(row), "%d\trow number %d\n", i, i * 7);
		bs_chunk_add(c, row, (size_t)n, &err);
	}
	CHECK_INT(bs_chunk_finish(c, &z, &chunk_zlen, &err), 0);
	free(chunk_z);
	chunk_z = malloc(chunk_zlen);
	memcpy(chunk_z, z, chunk_zlen);
	CHECK_INT(bs_tar_write_member(w, "data/000001/000000.copy.zst", z, chunk_zlen, NULL, 1700000000, &err), 0);
	fd = mkstemp(tmpl);
	unlink(tmpl);
	CHECK(write(fd, "schema-bytes", 12) == 12);
	lseek(fd, 0, SEEK_SET);
	CHECK_INT(bs_tar_write_fd(w, "schema.dump", fd, 12, 1700000000, &err), 0);
	close(fd);
	CHECK_INT(bs_tar_write_member(w, "blobs/16400/000000.zst", "", 0, "rôle \"x\"", 1700000000, &err), 0);
	CHECK_INT(bs_tar_write_member(w, "manifest.json", "{}\n", 3, NULL, 1700000000, &err), 0);
	if (close_it)
		CHECK_INT(bs_tar_writer_close(w, &err), 0);
	bs_tar_writer_free(w);
	bs_chunk_compressor_free(c);
	data = bs_wstream_mem_data(out, len);
	copy = malloc(*len);
	memcpy(copy, data, *len);
	bs_wstream_free(out);
	return copy;
}

static int count_rows(void *ud, const void *buf, size_t len, struct bs_err *err)
{
	size_t *n = ud, i;

	for (i = 0; i < len; i++)
		if (((const char *)buf)[i] == '\n')
			(*n)++;
	return 0;
}

/* Read all members; returns members read or -1; fills err. */
static int read_archive(const void *buf, size_t len, struct bs_err *err, int check_chunks)
{
	struct bs_rstream *in = bs_rstream_mem(buf, len);
	struct bs_tar_reader *r = NULL;
	const char *name, *uname;
	uint64_t size;
	int n = 0, rc;

	if (bs_tar_reader_new(in, &r, err) < 0) {
		bs_rstream_free(in);
		return -1;
	}
	while ((rc = bs_tar_next(r, &name, &size, &uname, err)) == 1) {
		char *data;
		size_t dl;
		if (bs_tar_read_all(r, 1 << 20, &data, &dl, err) < 0) {
			rc = -1;
			break;
		}
		if (dl != size) {
			rc = -1;
			free(data);
			break;
		}
		if (check_chunks && strstr(name, ".zst") && dl > 0) {
			size_t rows = 0;
			if (bs_chunk_decompress(data, dl, count_rows, &rows, err) < 0) {
				free(data);
				rc = -1;
				break;
			}
		}
		free(data);
		n++;
	}
	bs_tar_reader_free(r);
	bs_rstream_free(in);
	return rc < 0 ? -1 : n;
}

TEST(roundtrip)
{
	size_t len;
	void *buf = make_archive(&len, 1);
	struct bs_rstream *in = bs_rstream_mem(buf, len);
	struct bs_tar_reader *r = NULL;
	struct bs_err err;
	const char *name, *uname;
	uint64_t size;
	char *data;
	size_t dl, rows = 0;

	bs_err_init(&err);
	CHECK_INT(len % 512, 0);
	CHECK_INT(bs_tar_reader_new(in, &r, &err), 0);
	CHECK_INT(bs_tar_next(r, &name, &size, &uname, &err), 1);
	CHECK_STR(name, "backstop.json");
	CHECK_INT(size, 8);
	CHECK_INT(bs_tar_read_all(r, 100, &data, &dl, &err), 0);
	CHECK_STR(data, "{\"a\":1}\n");
	free(data);
	CHECK_INT(bs_tar_next(r, &name, &size, &uname, &err), 1);
	CHECK_STR(name, "data/000001/000000.copy.zst");
	CHECK_INT(size, chunk_zlen);
	CHECK_INT(bs_tar_read_all(r, 1 << 20, &data, &dl, &err), 0);
	CHECK(dl == chunk_zlen && memcmp(data, chunk_z, dl) == 0);
	CHECK_INT(bs_chunk_decompress(data, dl, count_rows, &rows, &err), 0);
	CHECK_INT(rows, 5000);
	free(data);
	/* skip a member without reading it */
	CHECK_INT(bs_tar_next(r, &name, &size, &uname, &err), 1);
	CHECK_STR(name, "schema.dump");
	CHECK_INT(bs_tar_next(r, &name, &size, &uname, &err), 1);
	CHECK_STR(name, "blobs/16400/000000.zst");
	CHECK_INT(size, 0);
	CHECK_STR(uname, "rôle \"x\"");
	CHECK_INT(bs_tar_next(r, &name, &size, &uname, &err), 1);
	CHECK_STR(name, "manifest.json");
	/* too large for max */
	CHECK_INT(bs_tar_read_all(r, 2, &data, &dl, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK_INT(bs_tar_next(r, &name, &size, &uname, &err), 0);
	CHECK_INT(bs_tar_next(r, &name, &size, &uname, &err), 0);
	bs_tar_reader_free(r);
	bs_rstream_free(in);
	free(buf);
}

TEST(truncated_everywhere_is_an_error)
{
	size_t len, cut;
	void *buf = make_archive(&len, 1);
	struct bs_err err;
	int failures = 0, clean = 0;

	bs_err_init(&err);
	CHECK_INT(read_archive(buf, len, &err, 1), 5);
	/* every cut short of the full archive: never a clean end */
	for (cut = 0; cut < len; cut += (cut < 2048 || len - cut < 2048) ? 1 : 97) {
		int rc = read_archive(buf, cut, &err, 0);
		if (rc < 0) {
			failures++;
			if (err.code != BS_ERR_FORMAT)
				printf("# cut %zu: code %d %s\n", cut, err.code, err.msg);
			CHECK_INT(err.code, BS_ERR_FORMAT);
		} else {
			clean++;
			printf("# cut %zu of %zu read cleanly (%d members)\n", cut, len, rc);
		}
	}
	CHECK_INT(clean, 0);
	CHECK(failures > 0);
	/* the message names the member */
	read_archive(buf, 1024 + 512 + 100, &err, 0);
	CHECK(strstr(err.msg, "data/000001/000000.copy.zst") != NULL);
	CHECK(strstr(err.msg, "truncated") != NULL);
	free(buf);
}

TEST(unclosed_writer_writes_no_end)
{
	size_t len;
	void *buf = make_archive(&len, 0);
	struct bs_err err;

	bs_err_init(&err);
	/* freed without close: no end-of-archive blocks, so not a clean archive */
	CHECK_INT(read_archive(buf, len, &err, 0), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK(strstr(err.msg, "truncated") != NULL);
	free(buf);
}

TEST(flipped_byte_in_chunk_detected)
{
	size_t len, i, detected = 0, tried = 0;
	char *buf = make_archive(&len, 1);
	struct bs_err err;
	char *p;

	bs_err_init(&err);
	/* find the chunk's data in the archive and flip each of several bytes */
	p = memmem(buf, len, chunk_z, chunk_zlen);
	CHECK(p != NULL);
	if (!p)
		return;
	for (i = 0; i < chunk_zlen; i += chunk_zlen / 50 + 1) {
		int rc;
		p[i] ^= 0x20;
		rc = read_archive(buf, len, &err, 1);
		tried++;
		if (rc < 0 && err.code == BS_ERR_FORMAT && strstr(err.msg, "corrupt chunk"))
			detected++;
		p[i] ^= 0x20;
	}
	CHECK_INT(detected, tried);
	free(buf);
}

static int fail_write(void *priv, const void *buf, size_t len, struct bs_err *err)
{
	int *left = priv;

	if (--*left < 0)
		return bs_err_set(err, BS_ERR_IO, "disk full (test)");
	return 0;
}
static int ok_finish(void *priv, struct bs_err *err)
{
	return 0;
}
static void no_free(void *priv)
{
}
static const struct bs_wstream_ops fail_ops = { fail_write, ok_finish, no_free };

TEST(stream_error_is_reported)
{
	int left = 1;
	struct bs_wstream *out = bs_wstream_new(&fail_ops, &left);
	struct bs_tar_writer *w = NULL;
	struct bs_err err;
	char big[30000];
	int rc;

	bs_err_init(&err);
	memset(big, 'x', sizeof(big));
	CHECK_INT(bs_tar_writer_new(out, &w, &err), 0);
	rc = bs_tar_write_member(w, "a", big, sizeof(big), NULL, 0, &err);
	if (rc == 0)
		rc = bs_tar_write_member(w, "b", big, sizeof(big), NULL, 0, &err);
	CHECK_INT(rc, -1);
	CHECK_INT(err.code, BS_ERR_IO);
	CHECK(strstr(err.msg, "disk full (test)") != NULL);
	CHECK_INT(bs_tar_write_member(w, "c", "x", 1, NULL, 0, &err), -1);
	bs_tar_writer_free(w);
	bs_wstream_free(out);
}

TEST(not_a_tar)
{
	struct bs_err err;
	char junk[4096];

	bs_err_init(&err);
	memset(junk, 'j', sizeof(junk));
	CHECK_INT(read_archive(junk, sizeof(junk), &err, 0), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
}

int main(void)
{
	RUN(roundtrip);
	RUN(truncated_everywhere_is_an_error);
	RUN(unclosed_writer_writes_no_end);
	RUN(flipped_byte_in_chunk_detected);
	RUN(stream_error_is_reported);
	RUN(not_a_tar);
	free(chunk_z);
	return DONE();
}
