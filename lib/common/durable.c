/* durable.c - see durable.h */
#include "common/durable.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

int bs_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc, e;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

/* dir and base name of path ("x" -> ".", "x") */
static void split(const char *path, char *dir, const char **base)
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		strcpy(dir, ".");
		*base = path;
	} else if (slash == path) {
		strcpy(dir, "/");
		*base = slash + 1;
	} else {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
		*base = slash + 1;
	}
}

static int write_file(const char *path, mode_t mode, int exact, bs_durable_fill_fn fill, void *ud,
		      struct bs_err *err)
{
	static atomic_uint seq;
	char dir[PATH_MAX], tmp[PATH_MAX + 64];
	const char *base;
	FILE *f;
	int fd, e, rc;

	if (strlen(path) >= PATH_MAX)
		return bs_err_set(err, BS_ERR_IO, "path too long: '%s'", path);
	split(path, dir, &base);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp.%d.%u", dir, base, (int)getpid(), atomic_fetch_add(&seq, 1));
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return bs_err_sys(err, BS_ERR_IO, errno, "unable to write '%s'", path);
	if (exact && fchmod(fd, mode) < 0) {
		e = errno;
		close(fd);
		unlink(tmp);
		return bs_err_sys(err, BS_ERR_IO, e, "unable to write '%s'", path);
	}
	f = fdopen(fd, "w");
	if (!f) {
		e = errno;
		close(fd);
		unlink(tmp);
		return bs_err_sys(err, BS_ERR_IO, e, "unable to write '%s'", path);
	}
	rc = fill(f, ud, err);
	if (rc == 0 && (fflush(f) != 0 || ferror(f) || fsync(fd) < 0)) {
		bs_err_sys(err, BS_ERR_IO, errno ? errno : EIO, "unable to write '%s'", path);
		rc = -1;
	}
	if (fclose(f) != 0 && rc == 0) {
		bs_err_sys(err, BS_ERR_IO, errno, "unable to write '%s'", path);
		rc = -1;
	}
	if (rc == 0 && rename(tmp, path) < 0) {
		bs_err_sys(err, BS_ERR_IO, errno, "unable to write '%s'", path);
		rc = -1;
	}
	if (rc < 0) {
		unlink(tmp);
		return -1;
	}
	if (bs_fsync_dir(dir) < 0)
		return bs_err_sys(err, BS_ERR_IO, errno, "unable to sync directory '%s'", dir);
	return 0;
}

int bs_durable_write(const char *path, mode_t mode, bs_durable_fill_fn fill, void *ud, struct bs_err *err)
{
	return write_file(path, mode, 0, fill, ud, err);
}

int bs_durable_write_exact(const char *path, mode_t mode, bs_durable_fill_fn fill, void *ud, struct bs_err *err)
{
	return write_file(path, mode, 1, fill, ud, err);
}

struct bytes {
	const void *buf;
	size_t len;
};

/* a short write leaves f in error, which bs_durable_write reports */
static int fill_bytes(FILE *f, void *ud, struct bs_err *err)
{
	const struct bytes *b = ud;

	if (b->len)
		fwrite(b->buf, 1, b->len, f);
	return 0;
}

int bs_durable_write_bytes(const char *path, mode_t mode, const void *buf, size_t len,
			   struct bs_err *err)
{
	struct bytes b = { buf, len };

	return bs_durable_write(path, mode, fill_bytes, &b, err);
}
