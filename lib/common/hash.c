/* hash.c - SHA-256 helpers and stream taps (hash.h).  The incremental
 * context is the low-level SHA256_CTX (deprecated in OpenSSL 3, still
 * exported; archive/digest.c says why): a copy of it is a struct copy, so
 * peeking at a running digest allocates nothing. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "common/hash.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int bs_sha256(const void *buf, size_t len, unsigned char out[BS_SHA256_LEN], struct bs_err *err)
{
	unsigned int n = 0;

	if (!EVP_Digest(buf, len, out, &n, EVP_sha256(), NULL) || n != BS_SHA256_LEN)
		return bs_err_set(err, BS_ERR_CRYPTO, "unable to compute a SHA-256 digest");
	return 0;
}

int bs_sha256_fd(int fd, uint64_t size, unsigned char out[BS_SHA256_LEN], struct bs_err *err)
{
	struct bs_sha256_ctx *c = bs_sha256_new();
	char *buf = malloc(1 << 16);
	uint64_t off = 0;
	int rc = -1;

	if (!c || !buf) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	while (off < size) {
		size_t want = size - off < (1 << 16) ? (size_t)(size - off) : (1 << 16);
		ssize_t n = pread(fd, buf, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			bs_err_sys(err, BS_ERR_IO, errno, "reading a file to digest it");
			goto out;
		}
		if (n == 0) {
			bs_err_set(err, BS_ERR_IO, "reading a file to digest it: it shrank to %llu bytes",
				   (unsigned long long)off);
			goto out;
		}
		bs_sha256_update(c, buf, (size_t)n);
		off += (uint64_t)n;
	}
	bs_sha256_peek(c, out);
	rc = 0;
out:
	free(buf);
	bs_sha256_free(c);
	return rc;
}

void bs_hex(const unsigned char *b, size_t n, char *out)
{
	static const char x[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = x[b[i] >> 4];
		out[2 * i + 1] = x[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int bs_unhex(const char *hex, unsigned char *out, size_t n)
{
	size_t i;

	if (!hex || strlen(hex) != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* ---- incremental ---- */

struct bs_sha256_ctx {
	SHA256_CTX c;   /* low-level API: no allocation per copy (peek) */
	uint64_t bytes;
};

struct bs_sha256_ctx *bs_sha256_new(void)
{
	struct bs_sha256_ctx *c = malloc(sizeof(*c));

	if (c)
		bs_sha256_reset(c);
	return c;
}

void bs_sha256_reset(struct bs_sha256_ctx *c)
{
	SHA256_Init(&c->c);
	c->bytes = 0;
}

void bs_sha256_update(struct bs_sha256_ctx *c, const void *buf, size_t len)
{
	SHA256_Update(&c->c, buf, len);
	c->bytes += len;
}

void bs_sha256_peek(const struct bs_sha256_ctx *c, unsigned char out[BS_SHA256_LEN])
{
	SHA256_CTX copy = c->c;

	SHA256_Final(out, &copy);
}

uint64_t bs_sha256_bytes(const struct bs_sha256_ctx *c)
{
	return c->bytes;
}

void bs_sha256_free(struct bs_sha256_ctx *c)
{
	free(c);
}

/* ---- taps ---- */

struct wtap {
	struct bs_wstream *inner;
	struct bs_sha256_ctx h;
};

static int wtap_write(void *priv, const void *buf, size_t len, struct bs_err *err)
{
	struct wtap *t = priv;

	if (bs_wstream_write(t->inner, buf, len, err) < 0)
		return -1;
	bs_sha256_update(&t->h, buf, len);
	return 0;
}

static int wtap_finish(void *priv, struct bs_err *err)
{
	struct wtap *t = priv;

	return bs_wstream_finish(t->inner, err);
}

static void wtap_free(void *priv)
{
	struct wtap *t = priv;

	bs_wstream_free(t->inner);
	free(t);
}

static const struct bs_wstream_ops wtap_ops = { wtap_write, wtap_finish, wtap_free };

struct bs_wstream *bs_wstream_sha256(struct bs_wstream *inner, const struct bs_sha256_ctx **tap)
{
	struct wtap *t = malloc(sizeof(*t));
	struct bs_wstream *s;

	*tap = NULL;
	if (!t) {
		bs_wstream_free(inner);
		return NULL;
	}
	t->inner = inner;
	bs_sha256_reset(&t->h);
	s = bs_wstream_new(&wtap_ops, t);
	if (s)
		*tap = &t->h;
	return s;
}

struct rtap {
	struct bs_rstream *inner;
	struct bs_sha256_ctx h;
};

static ssize_t rtap_read(void *priv, void *buf, size_t len, struct bs_err *err)
{
	struct rtap *t = priv;
	ssize_t n = bs_rstream_read(t->inner, buf, len, err);

	if (n > 0)
		bs_sha256_update(&t->h, buf, (size_t)n);
	return n;
}

static void rtap_free(void *priv)
{
	struct rtap *t = priv;

	bs_rstream_free(t->inner);
	free(t);
}

static const struct bs_rstream_ops rtap_ops = { rtap_read, rtap_free };

struct bs_rstream *bs_rstream_sha256(struct bs_rstream *inner, const struct bs_sha256_ctx **tap)
{
	struct rtap *t = malloc(sizeof(*t));
	struct bs_rstream *s;

	*tap = NULL;
	if (!t) {
		bs_rstream_free(inner);
		return NULL;
	}
	t->inner = inner;
	bs_sha256_reset(&t->h);
	s = bs_rstream_new(&rtap_ops, t);
	if (s)
		*tap = &t->h;
	return s;
}
