/* age_header.c - the age v1 text header: parse, encode, MAC.
 *
 *   age-encryption.org/v1
 *   -> X25519 <arg>...            one or more stanzas: an argument line,
 *   <base64 body, 64 columns>     then the body wrapped at 64 columns and
 *   <last body line, < 64>        ended by a shorter (maybe empty) line
 *   --- <base64 HMAC-SHA256>
 *
 * The MAC covers the header through "---" under
 * HKDF-SHA256(ikm = file key, salt = empty, info = "header").  Parsing is
 * strict as the spec asks: LF line ends only, canonical unpadded base64,
 * non-empty printable arguments. */
#include "crypt/age_int.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

void age_stanza_release(struct age_stanza *st)
{
	size_t i;

	if (!st)
		return;
	for (i = 0; i < st->nargs; i++)
		free(st->args[i]);
	free(st->args);
	free(st->body);
	memset(st, 0, sizeof(*st));
}

int age_stanza_set(struct age_stanza *st, const char *const *args, const uint8_t *body,
		   size_t body_len, struct bs_err *err)
{
	size_t n = 0, i;

	while (args[n])
		n++;
	memset(st, 0, sizeof(*st));
	st->args = calloc(n, sizeof(*st->args));
	st->body = body_len ? malloc(body_len) : NULL;
	if (!st->args || (body_len && !st->body))
		goto nomem;
	for (i = 0; i < n; i++) {
		st->args[i] = strdup(args[i]);
		if (!st->args[i])
			goto nomem;
		st->nargs++;
	}
	if (body_len)
		memcpy(st->body, body, body_len);
	st->body_len = body_len;
	return 0;
nomem:
	age_stanza_release(st);
	return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
}

void age_header_release(struct age_header *h)
{
	size_t i;

	if (!h)
		return;
	for (i = 0; i < h->n; i++)
		age_stanza_release(&h->st[i]);
	free(h->st);
	memset(h, 0, sizeof(*h));
}

int age_header_mac(const uint8_t file_key[AGE_FILE_KEY_LEN], const void *buf, size_t len,
		   uint8_t mac[AGE_KEY_LEN], struct bs_err *err)
{
	uint8_t key[AGE_KEY_LEN];
	int rc;

	rc = age_hkdf(file_key, AGE_FILE_KEY_LEN, NULL, 0, "header", key, err);
	if (rc == 0)
		rc = age_hmac(key, buf, len, mac, err);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

/* ---- parsing ---- */

struct hparser {
	const char *buf;
	size_t len, pos;
	int line;           /* 1-based number of the current line */
	struct bs_err *err;
};

static int hp_fail(struct hparser *p, const char *what)
{
	return bs_err_set(p->err, BS_ERR_FORMAT, "malformed age header: %s (line %d)", what, p->line);
}

/* Next line without its LF; -1 if the buffer ends without one. */
static int hp_line(struct hparser *p, const char **line, size_t *n)
{
	const char *nl;

	if (p->pos >= p->len)
		return -1;
	nl = memchr(p->buf + p->pos, '\n', p->len - p->pos);
	if (!nl)
		return -1;
	*line = p->buf + p->pos;
	*n = (size_t)(nl - *line);
	p->pos += *n + 1;
	p->line++;
	return 0;
}

static int is_b64_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

static int parse_args(struct hparser *p, const char *s, size_t n, struct age_stanza *st)
{
	size_t i, start = 0, nargs = 1;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == ' ')
			nargs++;
		else if (c < 33 || c > 126)
			return hp_fail(p, "invalid character in a stanza argument");
	}
	st->args = calloc(nargs, sizeof(*st->args));
	if (!st->args)
		return bs_err_set(p->err, BS_ERR_NOMEM, "out of memory");
	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != ' ')
			continue;
		if (i == start)
			return hp_fail(p, "empty stanza argument");
		st->args[st->nargs] = strndup(s + start, i - start);
		if (!st->args[st->nargs])
			return bs_err_set(p->err, BS_ERR_NOMEM, "out of memory");
		st->nargs++;
		start = i + 1;
	}
	return 0;
}

/* Body lines after an argument line, up to and including the short one. */
static int parse_body(struct hparser *p, struct age_stanza *st)
{
	size_t start = p->pos, b64len = 0, n, i;
	const char *line;
	char *b64;
	int rc;

	for (;;) {
		if (hp_line(p, &line, &n) < 0)
			return hp_fail(p, "stanza body does not end with a short line");
		if (n > AGE_BODY_COLUMNS)
			return hp_fail(p, "stanza body line longer than 64 columns");
		for (i = 0; i < n; i++)
			if (!is_b64_char((unsigned char)line[i]))
				return hp_fail(p, "invalid stanza body line");
		b64len += n;
		if (n < AGE_BODY_COLUMNS)
			break;
	}
	b64 = malloc(b64len + 1);
	st->body = malloc(b64len / 4 * 3 + 3);
	if (!b64 || !st->body) {
		free(b64);
		return bs_err_set(p->err, BS_ERR_NOMEM, "out of memory");
	}
	/* join the lines: every line but the last is exactly 64 columns + LF */
	for (i = 0, n = 0; n < b64len; i++) {
		size_t k = b64len - n < AGE_BODY_COLUMNS ? b64len - n : AGE_BODY_COLUMNS;
		memcpy(b64 + n, p->buf + start + i * (AGE_BODY_COLUMNS + 1), k);
		n += k;
	}
	rc = bs_b64_decode(b64, b64len, st->body, b64len / 4 * 3 + 3, &st->body_len);
	free(b64);
	if (rc < 0)
		return hp_fail(p, "stanza body is not canonical base64");
	return 0;
}

int age_header_parse(const char *buf, size_t len, struct age_header *h, struct bs_err *err)
{
	struct hparser p = {buf, len, 0, 0, err};
	const char *line;
	size_t n, cap = 0, macn;

	memset(h, 0, sizeof(*h));
	if (hp_line(&p, &line, &n) < 0 || n != strlen(AGE_VERSION_LINE) ||
	    memcmp(line, AGE_VERSION_LINE, n) != 0) {
		if (len >= 19 && memcmp(buf, "age-encryption.org/", 19) == 0)
			bs_err_set(err, BS_ERR_FORMAT, "unsupported age format version (expected '%s')",
				   AGE_VERSION_LINE);
		else
			bs_err_set(err, BS_ERR_FORMAT, "not an age-encrypted file (no '%s' line)",
				   AGE_VERSION_LINE);
		goto fail;
	}
	for (;;) {
		size_t line_start = p.pos;

		if (hp_line(&p, &line, &n) < 0) {
			hp_fail(&p, "header ends without a MAC line");
			goto fail;
		}
		if (n >= 3 && memcmp(line, "---", 3) == 0) {
			if (h->n == 0) {
				hp_fail(&p, "no recipient stanza");
				goto fail;
			}
			if (n != 4 + bs_b64_len(AGE_KEY_LEN) || line[3] != ' ' ||
			    bs_b64_decode(line + 4, n - 4, h->mac, sizeof(h->mac), &macn) < 0 ||
			    macn != AGE_KEY_LEN) {
				hp_fail(&p, "invalid MAC line");
				goto fail;
			}
			if (p.pos != len) {
				hp_fail(&p, "data after the MAC line");
				goto fail;
			}
			h->mac_input_len = line_start + 3;
			return 0;
		}
		if (n < 3 || memcmp(line, "-> ", 3) != 0) {
			hp_fail(&p, "expected a stanza ('-> ') or the MAC line ('--- ')");
			goto fail;
		}
		if (h->n == cap) {
			size_t ncap = cap ? cap * 2 : 4;
			struct age_stanza *ns = realloc(h->st, ncap * sizeof(*ns));
			if (!ns) {
				bs_err_set(err, BS_ERR_NOMEM, "out of memory");
				goto fail;
			}
			h->st = ns;
			cap = ncap;
		}
		memset(&h->st[h->n], 0, sizeof(h->st[h->n]));
		h->n++;
		if (parse_args(&p, line + 3, n - 3, &h->st[h->n - 1]) < 0 ||
		    parse_body(&p, &h->st[h->n - 1]) < 0)
			goto fail;
	}
fail:
	age_header_release(h);
	return -1;
}

/* ---- encoding ---- */

int age_header_encode(const struct age_stanza *st, size_t n,
		      const uint8_t file_key[AGE_FILE_KEY_LEN], char **out, size_t *out_len,
		      struct bs_err *err)
{
	size_t size = sizeof(AGE_VERSION_LINE) + 4 + bs_b64_len(AGE_KEY_LEN) + 2, i, j, o = 0;
	uint8_t mac[AGE_KEY_LEN];
	char *buf, *b64;

	for (i = 0; i < n; i++) {
		size += 3 + st[i].nargs;
		for (j = 0; j < st[i].nargs; j++)
			size += strlen(st[i].args[j]);
		size += bs_b64_len(st[i].body_len) * 65 / 64 + 2;
	}
	buf = malloc(size);
	if (!buf)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	o += (size_t)sprintf(buf, "%s\n", AGE_VERSION_LINE);
	for (i = 0; i < n; i++) {
		size_t blen = bs_b64_len(st[i].body_len), k;
		o += (size_t)sprintf(buf + o, "->");
		for (j = 0; j < st[i].nargs; j++)
			o += (size_t)sprintf(buf + o, " %s", st[i].args[j]);
		buf[o++] = '\n';
		b64 = malloc(blen + 1);
		if (!b64) {
			free(buf);
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		}
		bs_b64_encode(st[i].body, st[i].body_len, b64);
		/* full 64-column lines, then a shorter (possibly empty) last line */
		for (k = 0;; k += AGE_BODY_COLUMNS) {
			size_t m = blen - k < AGE_BODY_COLUMNS ? blen - k : AGE_BODY_COLUMNS;
			memcpy(buf + o, b64 + k, m);
			o += m;
			buf[o++] = '\n';
			if (m < AGE_BODY_COLUMNS)
				break;
		}
		free(b64);
	}
	memcpy(buf + o, "---", 3);
	o += 3;
	if (age_header_mac(file_key, buf, o, mac, err) < 0) {
		free(buf);
		return -1;
	}
	buf[o++] = ' ';
	bs_b64_encode(mac, sizeof(mac), buf + o);
	o += bs_b64_len(sizeof(mac));
	buf[o++] = '\n';
	*out = buf;
	*out_len = o;
	return 0;
}
