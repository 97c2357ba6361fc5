/*
 * stream.h - byte streams that layers stack on each other.
 *
 * A snapshot is written as   tar (libarchive) -> [age encrypt] -> repository put
 * and read back as           repository get -> [age decrypt] -> tar reader.
 * Each layer is a bs_wstream / bs_rstream that owns the stream beneath it.
 *
 * Ownership: a stream created by a *_new function is owned by the caller and
 * released with bs_wstream_free / bs_rstream_free.  A layer that wraps an
 * inner stream takes ownership of it and frees it when it is freed.
 *
 * Write side: bs_wstream_write any number of times, then bs_wstream_finish
 * exactly once to flush and commit (e.g. write the final age chunk, complete
 * the upload, fsync + rename).  Freeing a write stream that was not finished
 * aborts it: nothing partial is committed.
 *
 * Read side: bs_rstream_read returns bytes read (>0), 0 at a clean end of
 * stream, or -1 with err set.  A layer that detects truncation or tampering
 * returns -1 (never 0) so truncation is never mistaken for a clean end.
 */
#ifndef BS_COMMON_STREAM_H
#define BS_COMMON_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

struct bs_wstream_ops {
	int (*write)(void *priv, const void *buf, size_t len, struct bs_err *err);
	int (*finish)(void *priv, struct bs_err *err);
	void (*free)(void *priv); /* aborts if not finished */
};

struct bs_rstream_ops {
	ssize_t (*read)(void *priv, void *buf, size_t len, struct bs_err *err);
	void (*free)(void *priv);
};

struct bs_wstream {
	const struct bs_wstream_ops *ops;
	void *priv;
	uint64_t bytes;   /* bytes accepted by bs_wstream_write so far */
	int finished;
	int failed;
};

struct bs_rstream {
	const struct bs_rstream_ops *ops;
	void *priv;
	uint64_t bytes;   /* bytes returned by bs_rstream_read so far */
};

/* Construct a stream around ops/priv.  Returns NULL on allocation failure
 * (after calling ops->free(priv)). */
struct bs_wstream *bs_wstream_new(const struct bs_wstream_ops *ops, void *priv);
struct bs_rstream *bs_rstream_new(const struct bs_rstream_ops *ops, void *priv);

int bs_wstream_write(struct bs_wstream *s, const void *buf, size_t len, struct bs_err *err);
int bs_wstream_finish(struct bs_wstream *s, struct bs_err *err);
void bs_wstream_free(struct bs_wstream *s);

ssize_t bs_rstream_read(struct bs_rstream *s, void *buf, size_t len, struct bs_err *err);
/* Read exactly len bytes; a short stream is a BS_ERR_FORMAT error ("truncated"). */
int bs_rstream_read_full(struct bs_rstream *s, void *buf, size_t len, struct bs_err *err);
void bs_rstream_free(struct bs_rstream *s);

/* Read everything a read function gives (until it returns 0) into a
 * malloc'd, NUL-terminated buffer, growing it as needed: the one loop
 * behind the archive readers' "whole member" calls.  More than max bytes
 * is BS_ERR_FORMAT "<what> is larger than <max> bytes". */
typedef ssize_t (*bs_read_fn)(void *ud, void *buf, size_t len, struct bs_err *err);
int bs_read_all(bs_read_fn rd, void *ud, const char *what, size_t max, char **out, size_t *outlen,
		struct bs_err *err);

/* The whole file at path (symbolic links followed; a pipe is fine), at
 * most max bytes, into a malloc'd NUL-terminated *buf (the caller frees
 * it).  Errors start "<path>: ": a missing file (or directory on the way)
 * is BS_ERR_NOT_FOUND, a directory BS_ERR_IO, a larger file BS_ERR_FORMAT
 * (refused by its size before reading when it is a regular file). */
int bs_read_file(const char *path, size_t max, char **buf, size_t *len, struct bs_err *err);

/* File descriptor streams.  If own_fd, the fd is closed on free.
 * finish on an fd write stream fsyncs it unless it is a pipe/tty. */
struct bs_wstream *bs_wstream_fd(int fd, int own_fd);
struct bs_rstream *bs_rstream_fd(int fd, int own_fd);

/* Memory streams (tests, small records).  The read stream copies buf.
 * The write stream accumulates into a heap buffer of at most max bytes;
 * bs_wstream_mem_data gives access to it (owned by the stream). */
struct bs_rstream *bs_rstream_mem(const void *buf, size_t len);
struct bs_wstream *bs_wstream_mem(size_t max);
const void *bs_wstream_mem_data(struct bs_wstream *s, size_t *len);

#endif
