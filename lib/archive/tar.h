/*
 * tar.h - the archive's container: a pax tar stream through libarchive,
 * written to a bs_wstream and read from a bs_rstream.
 *
 * The tar layer never owns the stream beneath it: the caller finishes
 * (commits) or frees it.  Member sizes must be known before the member is
 * written, which is why data chunks are compressed before they are added.
 */
#ifndef BS_ARCHIVE_TAR_H
#define BS_ARCHIVE_TAR_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "common/err.h"
#include "common/stream.h"

struct bs_tar_writer;

int bs_tar_writer_new(struct bs_wstream *out, struct bs_tar_writer **w, struct bs_err *err);
/* One whole member from memory.  uname may be NULL. mtime: member time. */
int bs_tar_write_member(struct bs_tar_writer *w, const char *name, const void *buf, size_t len,
			const char *uname, time_t mtime, struct bs_err *err);
/* One member from a file descriptor (read from its current offset, exactly size bytes). */
int bs_tar_write_fd(struct bs_tar_writer *w, const char *name, int fd, uint64_t size, time_t mtime,
		    struct bs_err *err);
/* Write the end-of-archive blocks.  Does not finish the underlying stream. */
int bs_tar_writer_close(struct bs_tar_writer *w, struct bs_err *err);
void bs_tar_writer_free(struct bs_tar_writer *w);

struct bs_tar_reader;

int bs_tar_reader_new(struct bs_rstream *in, struct bs_tar_reader **r, struct bs_err *err);
/* Advance to the next member: 1 with *name (valid until the next call),
 * *size and *uname (owner name; NULL or "" if none; valid until the next call), 0
 * at a clean end of archive, -1 on error (truncation and corruption
 * are BS_ERR_FORMAT errors naming the member being read). */
int bs_tar_next(struct bs_tar_reader *r, const char **name, uint64_t *size, const char **uname,
		struct bs_err *err);
/* Read the current member's data: >0 bytes, 0 at its end, -1 error. */
ssize_t bs_tar_read(struct bs_tar_reader *r, void *buf, size_t len, struct bs_err *err);
/* Read the whole current member into a malloc'd buffer (NUL-terminated);
 * members larger than max are a BS_ERR_FORMAT error. */
int bs_tar_read_all(struct bs_tar_reader *r, size_t max, char **buf, size_t *len, struct bs_err *err);
/* After the clean end (bs_tar_next returned 0): read the stream beneath to
 * its end (so a decryption layer authenticates all of it) and check that
 * nothing but zero padding follows the end-of-archive blocks; data after
 * them is a BS_ERR_FORMAT error. */
int bs_tar_reader_finish(struct bs_tar_reader *r, struct bs_err *err);
void bs_tar_reader_free(struct bs_tar_reader *r);

#endif
