/*
 * durable.h - the one way backstop writes a whole file: atomically and
 * durably (metrics, reports, repository markers).
 *
 * A temporary file is created beside the target (".<name>.tmp.<pid>.<n>",
 * O_CREAT|O_EXCL|O_NOFOLLOW, the given mode less the umask), filled by the caller's
 * callback, flushed and fsynced, renamed over the target, and the directory
 * is fsynced.  Readers see the old file or the new one, never a part; after
 * a crash the target is the old or the new file.  On any failure the
 * temporary file is removed and the target is untouched.
 *
 * Repository objects that stream (archives) use the repository's own put,
 * which follows the same protocol (repo/local.c).
 */
#ifndef BS_COMMON_DURABLE_H
#define BS_COMMON_DURABLE_H

#include <stdio.h>
#include <sys/types.h>

#include "common/err.h"

/* Write the file's contents to f; return 0, or -1 with err set (a write
 * error on f itself is detected afterwards and need not be reported). */
typedef int (*bs_durable_fill_fn)(FILE *f, void *ud, struct bs_err *err);

/* Replace path with what fill writes.  Errors name path: "unable to write
 * '<path>': <reason>" (BS_ERR_IO), or fill's own error. */
int bs_durable_write(const char *path, mode_t mode, bs_durable_fill_fn fill, void *ud,
		     struct bs_err *err);

/* The same with exactly mode, whatever the umask: files another program
 * must read (metrics, for node_exporter under a service's UMask=0077). */
int bs_durable_write_exact(const char *path, mode_t mode, bs_durable_fill_fn fill, void *ud,
			   struct bs_err *err);

/* The same for a buffer. */
int bs_durable_write_bytes(const char *path, mode_t mode, const void *buf, size_t len,
			   struct bs_err *err);

/* fsync a directory (after a rename or unlink in it). */
int bs_fsync_dir(const char *dir);

#endif
