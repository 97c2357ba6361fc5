/* secret.c - reading files that hold secrets, and freeing secret strings.
 *
 * Like ssh with private keys, a secret file accessible by group or others is
 * refused rather than used: a key that others can read is compromised. */
#include "crypt/age_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

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

void bs_secret_free(char *s)
{
	if (!s)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

int age_secret_file_read(const char *path, const char *what, size_t max, char **out,
			 size_t *out_len, struct bs_err *err)
{
	struct stat st;
	size_t len = 0;
	char *buf = NULL;
	int fd, rc = -1;

	*out = NULL;
	bs_secret_protect_process();
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return bs_err_sys(err, errno == ENOENT ? BS_ERR_NOT_FOUND : BS_ERR_CONFIG, errno,
				  "unable to open %s '%s'", what, path);
	if (fstat(fd, &st) < 0) {
		bs_err_sys(err, BS_ERR_IO, errno, "unable to stat %s '%s'", what, path);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		bs_err_set(err, BS_ERR_CONFIG, "%s '%s' is a directory", what, path);
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		bs_err_set(err, BS_ERR_SECRET_PERM,
			   "%s '%s' is accessible by group or others (mode %04o)", what, path,
			   (unsigned)(st.st_mode & 07777));
		bs_err_hint(err, "chmod 600 %s", path);
		goto out;
	}
	/* one byte more than allowed, to detect a file that is too large */
	buf = malloc(max + 2);
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
			bs_err_set(err, BS_ERR_CONFIG, "%s '%s' is larger than %zu bytes", what, path, max);
			goto out;
		}
	}
	if (memchr(buf, '\0', len)) {
		bs_err_set(err, BS_ERR_CONFIG, "%s '%s' contains a NUL byte", what, path);
		goto out;
	}
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	buf = NULL;
	rc = 0;
out:
	if (buf) {
		OPENSSL_cleanse(buf, max + 2);
		free(buf);
	}
	close(fd);
	return rc;
}
