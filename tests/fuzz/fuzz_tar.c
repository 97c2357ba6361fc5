/*
 * fuzz_tar.c - the tar container reader (lib/archive/tar.c over libarchive):
 * bs_tar_next, bs_tar_read and bs_tar_read_all on arbitrary bytes, then the
 * member-name parsers restore uses to route members (chunks, blobs).
 *
 * Properties: a member never yields more bytes than its header's size;
 * bs_tar_read_all honours its maximum; a failure sets a message.
 */
#include "archive/manifest.h"
#include "archive/tar.h"
#include "fuzz.h"

#define MEMBERS_MAX 256
#define READ_ALL_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char chunk[1000];
	struct bs_rstream *in = bs_rstream_mem(data, size);
	struct bs_tar_reader *r = NULL;
	const char *name, *uname;
	struct bs_err err;
	uint64_t msize, got;
	uint32_t a, b;
	size_t len, i;
	char *buf;
	ssize_t n;
	int rc = 0;

	fuzz_quiet();
	bs_err_init(&err);
	FUZZ_ASSERT(in);
	if (bs_tar_reader_new(in, &r, &err) < 0) {
		fuzz_check_err(-1, &err);
		goto out;
	}
	for (i = 0; i < MEMBERS_MAX; i++) {
		rc = bs_tar_next(r, &name, &msize, &uname, &err);
		if (rc <= 0)
			break;
		FUZZ_ASSERT(name);
		(void)bs_member_parse_chunk(name, &a, &b);
		(void)bs_member_parse_blob(name, &a, &b);
		if (i % 2 == 0) {
			/* alternate between the two ways restore reads members */
			rc = bs_tar_read_all(r, READ_ALL_MAX, &buf, &len, &err);
			if (rc == 0) {
				FUZZ_ASSERT(len <= READ_ALL_MAX && len <= msize);
				FUZZ_ASSERT(buf[len] == '\0');
				free(buf);
			}
		} else {
			got = 0;
			while ((n = bs_tar_read(r, chunk, sizeof(chunk), &err)) > 0) {
				FUZZ_ASSERT((size_t)n <= sizeof(chunk));
				got += (uint64_t)n;
			}
			FUZZ_ASSERT(got <= msize);
			rc = (int)n;
		}
		if (rc < 0)
			break;
	}
	fuzz_check_err(rc, &err);
out:
	bs_tar_reader_free(r);
	bs_rstream_free(in);
	return 0;
}
