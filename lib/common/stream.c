/* stream.c - see stream.h */
#include "common/stream.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct bs_wstream *bs_wstream_new(const struct bs_wstream_ops *ops, void *priv)
{
	struct bs_wstream *s = calloc(1, sizeof(*s));

	if (!s) {
		ops->free(priv);
		return NULL;
	}
	s->ops = ops;
	s->priv = priv;
	return s;
}

struct bs_rstream *bs_rstream_new(const struct bs_rstream_ops *ops, void *priv)
{
	struct bs_rstream *s = calloc(1, sizeof(*s));

	if (!s) {
		ops->free(priv);
		return NULL;
	}
	s->ops = ops;
	s->priv = priv;
	return s;
}

int bs_wstream_write(struct bs_wstream *s, const void *buf, size_t len, struct bs_err *err)
{
	if (s->failed || s->finished)
		return bs_err_set(err, BS_ERR_INTERNAL, "write to a %s stream",
				  s->failed ? "failed" : "finished");
	if (len == 0)
		return 0;
	if (s->ops->write(s->priv, buf, len, err) < 0) {
		s->failed = 1;
		return -1;
	}
	s->bytes += len;
	return 0;
}

int bs_wstream_finish(struct bs_wstream *s, struct bs_err *err)
{
	if (s->failed || s->finished)
		return bs_err_set(err, BS_ERR_INTERNAL, "finish of a %s stream",
				  s->failed ? "failed" : "finished");
	if (s->ops->finish(s->priv, err) < 0) {
		s->failed = 1;
		return -1;
	}
	s->finished = 1;
	return 0;
}

void bs_wstream_free(struct bs_wstream *s)
{
	if (!s)
		return;
	s->ops->free(s->priv);
	free(s);
}

ssize_t bs_rstream_read(struct bs_rstream *s, void *buf, size_t len, struct bs_err *err)
{
	ssize_t n = s->ops->read(s->priv, buf, len, err);

	if (n > 0)
		s->bytes += (uint64_t)n;
	return n;
}

int bs_rstream_read_full(struct bs_rstream *s, void *buf, size_t len, struct bs_err *err)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = bs_rstream_read(s, (char *)buf + got, len - got, err);
		if (n < 0)
			return -1;
		if (n == 0)
			return bs_err_set(err, BS_ERR_FORMAT, "unexpected end of stream (truncated)");
		got += (size_t)n;
	}
	return 0;
}

void bs_rstream_free(struct bs_rstream *s)
{
	if (!s)
		return;
	s->ops->free(s->priv);
	free(s);
}

/* ---- fd streams ---- */

struct fdstream {
	int fd;
	int own;
};

static int fd_write(void *priv, const void *buf, size_t len, struct bs_err *err)
{
	struct fdstream *f = priv;
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(f->fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return bs_err_sys(err, BS_ERR_IO, errno, "write failed");
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fd_finish(void *priv, struct bs_err *err)
{
	struct fdstream *f = priv;
	struct stat st;

	if (fstat(f->fd, &st) == 0 && S_ISREG(st.st_mode) && fsync(f->fd) < 0)
		return bs_err_sys(err, BS_ERR_IO, errno, "fsync failed");
	return 0;
}

static void fd_free(void *priv)
{
	struct fdstream *f = priv;

	if (f->own && f->fd >= 0)
		close(f->fd);
	free(f);
}

static ssize_t fd_read(void *priv, void *buf, size_t len, struct bs_err *err)
{
	struct fdstream *f = priv;

	for (;;) {
		ssize_t n = read(f->fd, buf, len);
		if (n >= 0)
			return n;
		if (errno != EINTR)
			return bs_err_sys(err, BS_ERR_IO, errno, "read failed");
	}
}

static const struct bs_wstream_ops fd_wops = { fd_write, fd_finish, fd_free };
static const struct bs_rstream_ops fd_rops = { fd_read, fd_free };

static struct fdstream *fdstream_alloc(int fd, int own)
{
	struct fdstream *f = malloc(sizeof(*f));

	if (f) {
		f->fd = fd;
		f->own = own;
	}
	return f;
}

struct bs_wstream *bs_wstream_fd(int fd, int own_fd)
{
	struct fdstream *f = fdstream_alloc(fd, own_fd);

	return f ? bs_wstream_new(&fd_wops, f) : NULL;
}

struct bs_rstream *bs_rstream_fd(int fd, int own_fd)
{
	struct fdstream *f = fdstream_alloc(fd, own_fd);

	return f ? bs_rstream_new(&fd_rops, f) : NULL;
}

/* ---- memory streams ---- */

struct memstream {
	char *buf;
	size_t len, cap, max, pos;
};

static int mem_write(void *priv, const void *buf, size_t len, struct bs_err *err)
{
	struct memstream *m = priv;

	if (len > m->max - m->len)
		return bs_err_set(err, BS_ERR_IO, "memory stream exceeds its limit of %zu bytes", m->max);
	if (m->len + len > m->cap) {
		size_t ncap = m->cap ? m->cap : 4096;
		char *nb;
		while (ncap < m->len + len)
			ncap *= 2;
		if (ncap > m->max)
			ncap = m->max;
		nb = realloc(m->buf, ncap);
		if (!nb)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		m->buf = nb;
		m->cap = ncap;
	}
	memcpy(m->buf + m->len, buf, len);
	m->len += len;
	return 0;
}

static int mem_finish(void *priv, struct bs_err *err)
{
	(void)priv;
	(void)err;
	return 0;
}

static ssize_t mem_read(void *priv, void *buf, size_t len, struct bs_err *err)
{
	struct memstream *m = priv;
	size_t n = m->len - m->pos;

	(void)err;
	if (n > len)
		n = len;
	memcpy(buf, m->buf + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

static void mem_free(void *priv)
{
	struct memstream *m = priv;

	free(m->buf);
	free(m);
}

static const struct bs_wstream_ops mem_wops = { mem_write, mem_finish, mem_free };
static const struct bs_rstream_ops mem_rops = { mem_read, mem_free };

struct bs_rstream *bs_rstream_mem(const void *buf, size_t len)
{
	struct memstream *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->buf = malloc(len ? len : 1);
	if (!m->buf) {
		free(m);
		return NULL;
	}
	memcpy(m->buf, buf, len);
	m->len = m->cap = m->max = len;
	return bs_rstream_new(&mem_rops, m);
}

struct bs_wstream *bs_wstream_mem(size_t max)
{
	struct memstream *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->max = max;
	return bs_wstream_new(&mem_wops, m);
}

const void *bs_wstream_mem_data(struct bs_wstream *s, size_t *len)
{
	struct memstream *m = s->priv;

	*len = m->len;
	return m->buf;
}

int bs_read_all(bs_read_fn rd, void *ud, const char *what, size_t max, char **out, size_t *outlen,
		struct bs_err *err)
{
	size_t cap = max < 4096 ? max : 4096, len = 0;
	char *buf = malloc(cap + 1);

	*out = NULL;
	*outlen = 0;
	if (!buf)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	for (;;) {
		ssize_t n;
		if (len == cap) {
			char *nb;
			if (cap >= max) {
				/* one more byte tells whether it is over the limit */
				char c;
				n = rd(ud, &c, 1, err);
				if (n == 0)
					break;
				free(buf);
				if (n < 0)
					return -1;
				return bs_err_set(err, BS_ERR_FORMAT, "%s is larger than %zu bytes", what, max);
			}
			cap = cap * 2 > max ? max : cap * 2;
			if (!(nb = realloc(buf, cap + 1))) {
				free(buf);
				return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
			}
			buf = nb;
		}
		n = rd(ud, buf + len, cap - len, err);
		if (n < 0) {
			free(buf);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
}

/* ---- whole files ---------------------------------------------------------- */

static ssize_t read_fd(void *ud, void *buf, size_t len, struct bs_err *err)
{
	int fd = *(int *)ud;

	for (;;) {
		ssize_t n = read(fd, buf, len);

		if (n >= 0)
			return n;
		if (errno != EINTR)
			return bs_err_sys(err, BS_ERR_IO, errno, "unable to read the file");
	}
}

int bs_read_file(const char *path, size_t max, char **buf, size_t *len, struct bs_err *err)
{
	struct stat st;
	int fd, rc = -1;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int e = errno;

		if (e != ENOENT && e != ENOTDIR)
			return bs_err_sys(err, BS_ERR_IO, e, "%s: unable to open the file", path);
		bs_err_sys(err, BS_ERR_NOT_FOUND, e, "%s: unable to open the file", path);
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		bs_err_sys(err, BS_ERR_IO, errno, "%s: unable to stat the file", path);
	} else if (S_ISDIR(st.st_mode)) {
		bs_err_set(err, BS_ERR_IO, "%s: is a directory, not a file", path);
	} else if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max) {
		bs_err_set(err, BS_ERR_FORMAT, "%s: the file is larger than %zu bytes (%jd bytes)", path, max,
			   (intmax_t)st.st_size);
	} else if ((rc = bs_read_all(read_fd, &fd, "the file", max, buf, len, err)) < 0) {
		bs_err_prefix(err, "%s", path);
	}
	close(fd);
	return rc;
}
