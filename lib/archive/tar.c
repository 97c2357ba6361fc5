/* tar.c - see tar.h; pax tar through libarchive. */
#include "archive/tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IO_BUF (64 * 1024)

/* libarchive converts header strings (uname, names) through the current
 * locale and silently drops non-ASCII ones under the C locale, which is what
 * cron gives us.  Header work runs in a thread-local UTF-8 locale instead;
 * the process locale is never touched. */
static locale_t utf8_locale(void)
{
	locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);

	return l ? l : newlocale(LC_CTYPE_MASK, "en_US.UTF-8", (locale_t)0);
}

static locale_t enter_locale(locale_t l)
{
	return l ? uselocale(l) : (locale_t)0;
}

static void leave_locale(locale_t old)
{
	if (old)
		uselocale(old);
}

/* ---- writer ---- */

struct bs_tar_writer {
	struct archive *a;
	struct bs_wstream *out;
	struct archive_entry *e;
	locale_t loc;          /* UTF-8 for header strings, or 0 */
	struct bs_err serr;    /* error of the stream beneath, if it failed */
	int failed;            /* an error was returned: refuse further members */
	int closed;
	int discard;           /* freeing an unclosed writer: write nothing more */
};

static la_ssize_t w_write(struct archive *a, void *ud, const void *buf, size_t len)
{
	struct bs_tar_writer *w = ud;

	if (w->discard)
		return (la_ssize_t)len;
	if (bs_wstream_write(w->out, buf, len, &w->serr) < 0) {
		archive_set_error(a, EIO, "%s", w->serr.msg);
		return -1;
	}
	return (la_ssize_t)len;
}

/* Report a libarchive failure: the stream's own error if it caused it. */
static int w_fail(struct bs_tar_writer *w, const char *name, struct bs_err *err)
{
	w->failed = 1;
	if (w->serr.code != BS_OK) {
		*err = w->serr;
		return bs_err_prefix(err, "writing archive member '%s'", name);
	}
	return bs_err_set(err, BS_ERR_IO, "writing archive member '%s': %s", name,
			  archive_error_string(w->a) ? archive_error_string(w->a) : "unknown error");
}

int bs_tar_writer_new(struct bs_wstream *out, struct bs_tar_writer **wp, struct bs_err *err)
{
	struct bs_tar_writer *w = calloc(1, sizeof(*w));

	*wp = NULL;
	if (!w)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	w->out = out;
	bs_err_init(&w->serr);
	w->loc = utf8_locale();
	w->a = archive_write_new();
	w->e = archive_entry_new();
	if (!w->a || !w->e) {
		bs_tar_writer_free(w);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	if (archive_write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
	    archive_write_add_filter_none(w->a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(w->a, 1) != ARCHIVE_OK ||
	    archive_write_open2(w->a, w, NULL, w_write, NULL, NULL) != ARCHIVE_OK) {
		w_fail(w, "(start)", err);
		bs_err_prefix(err, "unable to start the archive");
		w->discard = 1;
		bs_tar_writer_free(w);
		return -1;
	}
	*wp = w;
	return 0;
}

static int begin_member(struct bs_tar_writer *w, const char *name, uint64_t size, const char *uname,
			time_t mtime, struct bs_err *err)
{
	locale_t old;
	int rc;

	if (w->failed || w->closed)
		return bs_err_set(err, BS_ERR_INTERNAL, "archive member '%s' written to a %s archive",
				  name, w->closed ? "closed" : "failed");
	archive_entry_clear(w->e);
	archive_entry_set_pathname_utf8(w->e, name);
	archive_entry_set_filetype(w->e, AE_IFREG);
	archive_entry_set_perm(w->e, 0600);
	archive_entry_set_size(w->e, (la_int64_t)size);
	archive_entry_set_mtime(w->e, mtime, 0);
	archive_entry_set_uid(w->e, 0);
	archive_entry_set_gid(w->e, 0);
	if (uname)
		archive_entry_set_uname_utf8(w->e, uname);
	old = enter_locale(w->loc);
	rc = archive_write_header(w->a, w->e);
	leave_locale(old);
	if (rc < ARCHIVE_WARN)
		return w_fail(w, name, err);
	return 0;
}

static int put_data(struct bs_tar_writer *w, const char *name, const void *buf, size_t len,
		    struct bs_err *err)
{
	const char *p = buf;

	while (len > 0) {
		la_ssize_t n = archive_write_data(w->a, p, len);
		if (n <= 0)
			return w_fail(w, name, err);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int end_member(struct bs_tar_writer *w, const char *name, struct bs_err *err)
{
	if (archive_write_finish_entry(w->a) < ARCHIVE_WARN)
		return w_fail(w, name, err);
	return 0;
}

int bs_tar_write_member(struct bs_tar_writer *w, const char *name, const void *buf, size_t len,
			const char *uname, time_t mtime, struct bs_err *err)
{
	if (begin_member(w, name, len, uname, mtime, err) < 0 || put_data(w, name, buf, len, err) < 0 ||
	    end_member(w, name, err) < 0)
		return -1;
	return 0;
}

int bs_tar_write_fd(struct bs_tar_writer *w, const char *name, int fd, uint64_t size, time_t mtime,
		    struct bs_err *err)
{
	char *buf;
	uint64_t left = size;
	int rc = -1;

	if (begin_member(w, name, size, NULL, mtime, err) < 0)
		return -1;
	buf = malloc(IO_BUF);
	if (!buf) {
		w->failed = 1;
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	while (left > 0) {
		ssize_t n = read(fd, buf, left < IO_BUF ? (size_t)left : IO_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			w->failed = 1;
			bs_err_sys(err, BS_ERR_IO, errno, "reading the data of archive member '%s'", name);
			goto out;
		}
		if (n == 0) {
			w->failed = 1;
			bs_err_set(err, BS_ERR_IO, "reading the data of archive member '%s': file shrank by %llu bytes",
				   name, (unsigned long long)left);
			goto out;
		}
		if (put_data(w, name, buf, (size_t)n, err) < 0)
			goto out;
		left -= (uint64_t)n;
	}
	rc = end_member(w, name, err);
out:
	free(buf);
	return rc;
}

int bs_tar_writer_close(struct bs_tar_writer *w, struct bs_err *err)
{
	if (w->failed || w->closed)
		return bs_err_set(err, BS_ERR_INTERNAL, "closing a %s archive",
				  w->closed ? "closed" : "failed");
	if (archive_write_close(w->a) != ARCHIVE_OK)
		return w_fail(w, "(end of archive)", err);
	w->closed = 1;
	return 0;
}

void bs_tar_writer_free(struct bs_tar_writer *w)
{
	if (!w)
		return;
	/* archive_write_free closes (writes the end blocks) if not closed:
	 * an aborted archive must not look complete, so discard that. */
	if (!w->closed)
		w->discard = 1;
	if (w->a)
		archive_write_free(w->a);
	archive_entry_free(w->e);
	if (w->loc)
		freelocale(w->loc);
	free(w);
}

/* ---- reader ---- */

struct bs_tar_reader {
	struct archive *a;
	struct bs_rstream *in;
	locale_t loc;
	char *buf;
	struct bs_err serr;   /* error of the stream beneath */
	char *name;           /* current member (copy) */
	int in_member;
	int done;             /* clean end seen */
	int failed;
	uint64_t handed;      /* bytes read from the stream beneath */
	uint64_t last_nonzero;/* 1 + offset of the last non-zero byte read (0: none) */
};

/* Remember where the last non-zero byte was: whatever follows the
 * end-of-archive blocks must be zero padding (bs_tar_reader_finish).
 * Scans from the end, so a buffer of data costs a byte or two. */
static void note_bytes(struct bs_tar_reader *r, const char *p, size_t n)
{
	size_t i = n;

	while (i > 0 && p[i - 1] == 0)
		i--;
	if (i > 0)
		r->last_nonzero = r->handed + i;
	r->handed += n;
}

static la_ssize_t r_read(struct archive *a, void *ud, const void **out)
{
	struct bs_tar_reader *r = ud;
	ssize_t n = bs_rstream_read(r->in, r->buf, IO_BUF, &r->serr);

	if (n < 0) {
		archive_set_error(a, EIO, "%s", r->serr.msg);
		return -1;
	}
	note_bytes(r, r->buf, (size_t)n);
	*out = r->buf;
	return n;
}

static int r_fail(struct bs_tar_reader *r, struct bs_err *err)
{
	const char *what = r->name ? r->name : "(header)";
	const char *es = archive_error_string(r->a);

	r->failed = 1;
	if (r->serr.code != BS_OK) {
		/* the stream beneath failed (decryption, I/O): its error as it is */
		*err = r->serr;
		return r->name ? bs_err_prefix(err, "reading archive member '%s'", what) : -1;
	}
	if (es && strstr(es, "runcated")) {
		bs_err_set(err, BS_ERR_FORMAT, "archive is truncated in member '%s'", what);
		bs_err_hint(err, "the archive was cut short (interrupted upload or copy?)");
		return -1;
	}
	if (!r->name)
		return bs_err_set(err, BS_ERR_FORMAT, "not a backstop archive (not a tar stream: %s)",
				  es ? es : "unknown error");
	return bs_err_set(err, BS_ERR_FORMAT, "reading archive member '%s': %s", what,
			  es ? es : "unknown error");
}

int bs_tar_reader_new(struct bs_rstream *in, struct bs_tar_reader **rp, struct bs_err *err)
{
	struct bs_tar_reader *r = calloc(1, sizeof(*r));

	*rp = NULL;
	if (!r)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	r->in = in;
	bs_err_init(&r->serr);
	r->loc = utf8_locale();
	r->buf = malloc(IO_BUF);
	r->a = archive_read_new();
	if (!r->buf || !r->a) {
		bs_tar_reader_free(r);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	if (archive_read_support_format_tar(r->a) != ARCHIVE_OK ||
	    archive_read_open(r->a, r, NULL, r_read, NULL) != ARCHIVE_OK) {
		r_fail(r, err);
		bs_err_prefix(err, "unable to open the archive");
		bs_tar_reader_free(r);
		return -1;
	}
	*rp = r;
	return 0;
}

int bs_tar_next(struct bs_tar_reader *r, const char **name, uint64_t *size, const char **uname,
		struct bs_err *err)
{
	struct archive_entry *e;
	const char *n;
	locale_t old;
	int rc;

	if (r->failed)
		return bs_err_set(err, BS_ERR_INTERNAL, "reading on from a failed archive");
	if (r->done)
		return 0;
	old = enter_locale(r->loc);
	rc = archive_read_next_header(r->a, &e);
	leave_locale(old);
	if (rc == ARCHIVE_EOF) {
		/* libarchive also says EOF when the stream simply stops at a member
		 * boundary or after one zero block; only the two end-of-archive
		 * zero blocks (which libarchive consumes) make a clean end. */
		if (archive_filter_bytes(r->a, 0) < archive_read_header_position(r->a) + 1024) {
			r->failed = 1;
			bs_err_set(err, BS_ERR_FORMAT, "archive is truncated after member '%s'",
				   r->name ? r->name : "(none)");
			bs_err_hint(err, "the archive was cut short (interrupted upload or copy?)");
			return -1;
		}
		r->done = 1;
		r->in_member = 0;
		return 0;
	}
	if (rc < ARCHIVE_WARN)
		return r_fail(r, err);
	old = enter_locale(r->loc);
	n = archive_entry_pathname_utf8(e);
	if (!n)
		n = archive_entry_pathname(e);
	free(r->name);
	r->name = strdup(n ? n : "");
	leave_locale(old);
	if (!r->name) {
		r->failed = 1;
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	r->in_member = 1;
	if (name)
		*name = r->name;
	if (size)
		*size = archive_entry_size_is_set(e) ? (uint64_t)archive_entry_size(e) : 0;
	if (uname) {
		old = enter_locale(r->loc);
		*uname = archive_entry_uname_utf8(e);
		if (!*uname)
			*uname = archive_entry_uname(e);
		leave_locale(old);
	}
	return 1;
}

ssize_t bs_tar_read(struct bs_tar_reader *r, void *buf, size_t len, struct bs_err *err)
{
	la_ssize_t n;

	if (r->failed)
		return bs_err_set(err, BS_ERR_INTERNAL, "reading on from a failed archive");
	if (!r->in_member)
		return 0;
	n = archive_read_data(r->a, buf, len);
	if (n < 0)
		return r_fail(r, err);
	return (ssize_t)n;
}

static ssize_t tar_read_fn(void *ud, void *buf, size_t len, struct bs_err *err)
{
	return bs_tar_read(ud, buf, len, err);
}

int bs_tar_read_all(struct bs_tar_reader *r, size_t max, char **out, size_t *outlen, struct bs_err *err)
{
	char what[600];

	snprintf(what, sizeof(what), "archive member '%.500s'", r->name ? r->name : "?");
	return bs_read_all(tar_read_fn, r, what, max, out, outlen, err);
}

int bs_tar_reader_finish(struct bs_tar_reader *r, struct bs_err *err)
{
	uint64_t end;

	if (r->failed)
		return bs_err_set(err, BS_ERR_INTERNAL, "reading on from a failed archive");
	if (!r->done)
		return bs_err_set(err, BS_ERR_INTERNAL, "archive end checked before the end of archive");
	end = (uint64_t)archive_filter_bytes(r->a, 0);
	for (;;) {
		ssize_t n = bs_rstream_read(r->in, r->buf, IO_BUF, err);
		if (n < 0) {
			r->failed = 1;
			return bs_err_prefix(err, "reading past the end of the archive");
		}
		if (n == 0)
			break;
		note_bytes(r, r->buf, (size_t)n);
	}
	if (r->last_nonzero > end) {
		r->failed = 1;
		bs_err_set(err, BS_ERR_FORMAT, "%llu bytes of data follow the end of the archive",
			   (unsigned long long)(r->handed - end));
		bs_err_detail(err, "nothing but zero padding may follow the tar end-of-archive blocks");
		bs_err_hint(err, "the archive was appended to or replaced; restore another snapshot");
		return -1;
	}
	return 0;
}

void bs_tar_reader_free(struct bs_tar_reader *r)
{
	if (!r)
		return;
	if (r->a)
		archive_read_free(r->a);
	free(r->buf);
	free(r->name);
	if (r->loc)
		freelocale(r->loc);
	free(r);
}
