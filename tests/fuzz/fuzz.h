/*
 * fuzz.h - what every libFuzzer target in tests/fuzz shares.
 *
 * A target is one file, tests/fuzz/fuzz_<name>.c, defining
 * LLVMFuzzerTestOneInput; `make fuzz-build` links it with libFuzzer, ASan
 * and UBSan against the library compiled with coverage instrumentation
 * (build-fuzz/).  Its seed corpus is tests/fuzz/corpus/<name>/.
 *
 * A target fails (and libFuzzer saves the input) on a sanitizer report, a
 * leak, a timeout, running out of memory, or a FUZZ_ASSERT: a property the
 * parser promises that the input broke.
 */
#ifndef BS_FUZZ_H
#define BS_FUZZ_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"

/* Abort with the broken property (libFuzzer reports it as a crash). */
#define FUZZ_ASSERT(cond)                                                          \
	do {                                                                       \
		if (!(cond)) {                                                     \
			fprintf(stderr, "%s:%d: fuzz property failed: %s\n", __FILE__, \
				__LINE__, #cond);                                  \
			abort();                                                   \
		}                                                                  \
	} while (0)

/* The library logs warnings about odd input: keep the fuzzer's output
 * readable (errors still show). */
static inline void fuzz_quiet(void)
{
	static int done;

	if (!done) {
		bs_log_set_level(BS_LOG_ERROR);
		done = 1;
	}
}

/* A NUL-terminated heap copy of the input, for text parsers (an embedded
 * NUL ends the text there, as it would for a file read into a C string by
 * a caller that does not check; the YAML loader checks for itself). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* An error must carry a message when a function reports failure: callers
 * print it, and an empty one leaves the user with nothing. */
static inline void fuzz_check_err(int rc, const struct bs_err *err)
{
	if (rc < 0) {
		FUZZ_ASSERT(err->code != BS_OK);
		FUZZ_ASSERT(err->msg[0] != '\0');
	}
}

/* The file loaders take a path (and resolve relative paths in the file
 * against its directory): the input is written to <private dir>/<name>,
 * a directory made once per process and removed at exit.  Returns the
 * path (static storage). */
static char fuzz_dir[64];
static char fuzz_path[128];

static inline void fuzz_dir_remove(void)
{
	if (fuzz_path[0])
		unlink(fuzz_path);
	if (fuzz_dir[0])
		rmdir(fuzz_dir);
}

static inline const char *fuzz_write_file(const char *name, const uint8_t *data, size_t size)
{
	size_t off = 0;
	ssize_t n;
	int fd;

	if (!fuzz_dir[0]) {
		snprintf(fuzz_dir, sizeof(fuzz_dir), "/tmp/bs-fuzz.XXXXXX");
		FUZZ_ASSERT(mkdtemp(fuzz_dir));
		snprintf(fuzz_path, sizeof(fuzz_path), "%s/%s", fuzz_dir, name);
		atexit(fuzz_dir_remove);
	}
	fd = open(fuzz_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FUZZ_ASSERT(fd >= 0);
	while (off < size) {
		n = write(fd, data + off, size - off);
		FUZZ_ASSERT(n > 0);
		off += (size_t)n;
	}
	close(fd);
	return fuzz_path;
}

#endif
