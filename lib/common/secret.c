/* secret.c - see secret.h.
 *
 * Like ssh with private keys, a secret file accessible by group or others is
 * refused rather than used: a key that others can read is compromised. */
#include "common/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static void protect_once(void)
{
	struct rlimit rl = { 0, 0 };

	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

void bs_secret_protect_process(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, protect_once);
}

void bs_secret_wipe(void *p, size_t n)
{
	if (p && n)
		explicit_bzero(p, n);
}

void bs_secret_free(char *s)
{
	if (!s)
		return;
	bs_secret_wipe(s, strlen(s));
	free(s);
}

/* A regular file; with BS_SECRET_STREAM also a FIFO or a device. */
static int kind_ok(mode_t mode, int flags)
{
	if (S_ISREG(mode))
		return 1;
	return (flags & BS_SECRET_STREAM) && (S_ISFIFO(mode) || S_ISCHR(mode));
}

/* open(2) the file under the rules: a regular file (or, with
 * BS_SECRET_STREAM, a FIFO or device), a link only if allowed; without
 * BS_SECRET_STREAM never blocking on a FIFO.  Returns the fd or -1 (err). */
static int open_secret(const char *path, const char *what, int flags, struct bs_err *err)
{
	int oflags = O_RDONLY | O_CLOEXEC | O_NOCTTY;
	struct stat st;
	int fd;

	if (!(flags & BS_SECRET_FOLLOW))
		oflags |= O_NOFOLLOW;
	if (!(flags & BS_SECRET_STREAM))
		oflags |= O_NONBLOCK; /* reads of a regular file ignore it */
	fd = open(path, oflags);
	if (fd < 0 && errno == ELOOP && !(flags & BS_SECRET_FOLLOW)) {
		bs_err_set(err, BS_ERR_CONFIG, "%s '%s' is a symbolic link", what, path);
		bs_err_hint(err, "name the file itself, not a link to it");
		return -1;
	}
	if (fd < 0)
		return bs_err_sys(err, errno == ENOENT ? BS_ERR_NOT_FOUND : BS_ERR_CONFIG, errno,
				  "unable to open %s '%s'", what, path);
	if (fstat(fd, &st) < 0) {
		bs_err_sys(err, BS_ERR_IO, errno, "unable to stat %s '%s'", what, path);
		goto fail;
	}
	if (!kind_ok(st.st_mode, flags)) {
		bs_err_set(err, BS_ERR_CONFIG, "%s '%s' is not a regular file%s", what, path,
			   S_ISDIR(st.st_mode) ? " (a directory)" : "");
		goto fail;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		bs_err_set(err, BS_ERR_SECRET_PERM,
			   "%s '%s' is accessible by group or others (mode %04o)", what, path,
			   (unsigned)(st.st_mode & 07777));
		bs_err_hint(err, "chmod 600 %s", path);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

int bs_secret_read_file(const char *path, const char *what, size_t max, int flags, char **out,
			size_t *lenp, struct bs_err *err)
{
	size_t len = 0, cap;
	char *buf = NULL;
	int fd, rc = -1;

	*out = NULL;
	if (lenp)
		*lenp = 0;
	if (!what)
		what = "secret file";
	if (!max)
		max = BS_SECRET_FILE_MAX;
	cap = max + 2; /* one byte more than allowed, to see a file that is too large */
	bs_secret_protect_process();
	fd = open_secret(path, what, flags, err);
	if (fd < 0)
		return -1;
	buf = malloc(cap);
	if (!buf) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, max + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			bs_err_sys(err, BS_ERR_IO, errno, "unable to read %s '%s'", what, path);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			bs_err_set(err, BS_ERR_CONFIG, "%s '%s' is larger than %zu bytes", what, path,
				   max);
			goto out;
		}
	}
	if (memchr(buf, '\0', len)) {
		bs_err_set(err, BS_ERR_CONFIG, "%s '%s' contains a NUL byte", what, path);
		goto out;
	}
	if (len && buf[len - 1] == '\n') {
		len--;
		if (len && buf[len - 1] == '\r')
			len--;
	}
	if (!len) {
		bs_err_set(err, BS_ERR_CONFIG, "%s '%s' is empty", what, path);
		goto out;
	}
	bs_secret_wipe(buf + len, cap - len); /* the stripped newline: harmless, but tidy */
	buf[len] = '\0';
	*out = buf;
	buf = NULL;
	if (lenp)
		*lenp = len;
	rc = 0;
out:
	if (buf) {
		bs_secret_wipe(buf, cap);
		free(buf);
	}
	close(fd);
	return rc;
}
