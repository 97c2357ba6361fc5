/* age_stream.c - age payload as bs_wstream / bs_rstream layers.
 *
 * Payload: a 16-byte nonce, then STREAM chunks of 64 KiB plaintext, each
 * sealed with ChaCha20-Poly1305 under
 *   payload key = HKDF-SHA256(ikm = file key, salt = nonce, info = "payload")
 * and the 12-byte nonce  11-byte big-endian chunk counter || last flag.
 * The final chunk has flag 1; it may be full, and it is empty only when the
 * whole payload is empty.
 *
 * One EVP_CIPHER_CTX per stream keyed once; each chunk only resets the
 * nonce.  No allocation per chunk.  The writer holds back a full chunk until
 * more data arrives, so that a payload of exactly k * 64 KiB ends with a
 * full final chunk (as age writes it).  The reader looks one byte past a
 * full chunk to learn whether it is the final one, and releases a chunk's
 * plaintext only after its tag verified. */
#include "crypt/age_int.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

int bs_age_is_encrypted(const void *buf, size_t len)
{
	static const char magic[] = AGE_VERSION_LINE "\n";

	return len >= sizeof(magic) - 1 && memcmp(buf, magic, sizeof(magic) - 1) == 0;
}

static void chunk_nonce(uint8_t nonce[12], uint64_t counter, int last)
{
	int i;

	memset(nonce, 0, 12);
	for (i = 0; i < 8; i++)
		nonce[10 - i] = (uint8_t)(counter >> (8 * i));
	nonce[11] = last ? 1 : 0;
}

static EVP_CIPHER_CTX *payload_ctx(const uint8_t file_key[AGE_FILE_KEY_LEN],
				   const uint8_t nonce[AGE_NONCE_LEN], int enc, struct bs_err *err)
{
	uint8_t key[AGE_KEY_LEN];
	EVP_CIPHER_CTX *ctx = NULL;

	if (age_hkdf(file_key, AGE_FILE_KEY_LEN, nonce, AGE_NONCE_LEN, "payload", key, err) < 0)
		return NULL;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx || EVP_CipherInit_ex2(ctx, EVP_chacha20_poly1305(), key, NULL, enc, NULL) != 1) {
		EVP_CIPHER_CTX_free(ctx);
		ctx = NULL;
		bs_err_set(err, BS_ERR_CRYPTO, "unable to set up ChaCha20-Poly1305 (OpenSSL)");
	}
	OPENSSL_cleanse(key, sizeof(key));
	return ctx;
}

/* ================= encryption ================= */

struct age_enc {
	struct bs_wstream *inner;
	EVP_CIPHER_CTX *ctx;
	uint64_t counter;
	size_t fill;                 /* plaintext bytes in buf */
	uint8_t buf[AGE_ENC_CHUNK];  /* plaintext, sealed in place, + tag */
};

static int enc_seal(struct age_enc *e, int last, struct bs_err *err)
{
	uint8_t nonce[12];
	int l1 = 0, l2 = 0;

	chunk_nonce(nonce, e->counter, last);
	if (EVP_CipherInit_ex2(e->ctx, NULL, NULL, nonce, 1, NULL) != 1 ||
	    (e->fill && EVP_EncryptUpdate(e->ctx, e->buf, &l1, e->buf, (int)e->fill) != 1) ||
	    EVP_EncryptFinal_ex(e->ctx, e->buf + l1, &l2) != 1 ||
	    EVP_CIPHER_CTX_ctrl(e->ctx, EVP_CTRL_AEAD_GET_TAG, AGE_TAG_LEN, e->buf + e->fill) != 1)
		return bs_err_set(err, BS_ERR_CRYPTO, "encrypting payload chunk %llu failed (OpenSSL)",
				  (unsigned long long)e->counter);
	if (bs_wstream_write(e->inner, e->buf, e->fill + AGE_TAG_LEN, err) < 0)
		return -1;
	e->counter++;
	e->fill = 0;
	return 0;
}

static int enc_write(void *priv, const void *data, size_t len, struct bs_err *err)
{
	struct age_enc *e = priv;
	const uint8_t *p = data;

	while (len > 0) {
		size_t k;
		/* a full chunk is sealed only now that more data follows it */
		if (e->fill == AGE_CHUNK && enc_seal(e, 0, err) < 0)
			return -1;
		k = AGE_CHUNK - e->fill < len ? AGE_CHUNK - e->fill : len;
		memcpy(e->buf + e->fill, p, k);
		e->fill += k;
		p += k;
		len -= k;
	}
	return 0;
}

static int enc_finish(void *priv, struct bs_err *err)
{
	struct age_enc *e = priv;

	if (enc_seal(e, 1, err) < 0)
		return -1;
	return bs_wstream_finish(e->inner, err);
}

static void enc_free(void *priv)
{
	struct age_enc *e = priv;

	if (!e)
		return;
	bs_wstream_free(e->inner);
	EVP_CIPHER_CTX_free(e->ctx);
	OPENSSL_cleanse(e->buf, sizeof(e->buf));
	free(e);
}

static const struct bs_wstream_ops enc_ops = {enc_write, enc_finish, enc_free};

/* Stanzas for r wrapping file_key. */
static int make_stanzas(const struct bs_age_recipients *r, const uint8_t file_key[AGE_FILE_KEY_LEN],
			struct age_stanza **out, size_t *n, struct bs_err *err)
{
	size_t count = r->passphrase ? 1 : r->n, i;
	struct age_stanza *st = calloc(count, sizeof(*st));

	if (!st)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	*out = st;
	*n = 0;
	for (i = 0; i < count; i++) {
		int rc = r->passphrase
				 ? age_scrypt_wrap(r->passphrase, r->scrypt_log_n, file_key, &st[i], err)
				 : age_x25519_wrap(r->keys[i], file_key, &st[i], err);
		if (rc < 0)
			return -1;
		(*n)++;
	}
	return 0;
}

struct bs_wstream *bs_age_encrypt_new(struct bs_wstream *inner, const struct bs_age_recipients *r,
				      struct bs_err *err)
{
	uint8_t file_key[AGE_FILE_KEY_LEN], nonce[AGE_NONCE_LEN];
	struct age_stanza *st = NULL;
	struct age_enc *e = NULL;
	size_t nst = 0, hlen = 0, i;
	char *hdr = NULL;
	struct bs_wstream *s = NULL;

	if (!r || (r->n == 0 && !r->passphrase)) {
		bs_err_set(err, BS_ERR_REFUSED, "no recipients to encrypt to");
		bs_err_hint(err, "give an age1... public key or a recipients file (create a key pair "
				 "with 'backstop keygen'), or a passphrase");
		goto out;
	}
	if (r->n > 0 && r->passphrase) {
		bs_err_set(err, BS_ERR_REFUSED,
			   "cannot encrypt to a passphrase and to age1 public keys at the same time");
		bs_err_hint(err, "age allows a passphrase only as the sole recipient; use one or the other");
		goto out;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (age_random(file_key, sizeof(file_key), err) < 0 ||
	    make_stanzas(r, file_key, &st, &nst, err) < 0 ||
	    age_header_encode(st, nst, file_key, &hdr, &hlen, err) < 0 ||
	    age_random(nonce, sizeof(nonce), err) < 0)
		goto out;
	e->ctx = payload_ctx(file_key, nonce, 1, err);
	if (!e->ctx || bs_wstream_write(inner, hdr, hlen, err) < 0 ||
	    bs_wstream_write(inner, nonce, sizeof(nonce), err) < 0)
		goto out;
	e->inner = inner;
	inner = NULL;
	s = bs_wstream_new(&enc_ops, e);
	e = NULL;
	if (!s)
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
out:
	OPENSSL_cleanse(file_key, sizeof(file_key));
	for (i = 0; i < nst; i++)
		age_stanza_release(&st[i]);
	free(st);
	free(hdr);
	enc_free(e);
	bs_wstream_free(inner);
	return s;
}

/* ================= decryption ================= */

struct age_dec {
	struct bs_rstream *inner;
	EVP_CIPHER_CTX *ctx;
	uint64_t counter;            /* index of the next chunk to open */
	size_t have;                 /* ciphertext bytes in c */
	int eof;                     /* inner reached its end */
	int done;                    /* the final chunk was authenticated */
	int failed;
	struct bs_err ferr;          /* repeated on reads after a failure */
	size_t ppos, plen;           /* unread plaintext is p[ppos..plen) */
	uint8_t c[AGE_ENC_CHUNK + 1]; /* one sealed chunk + one byte of look-ahead */
	uint8_t p[AGE_CHUNK];
};

static int dec_fill(struct age_dec *d, size_t want, struct bs_err *err)
{
	while (!d->eof && d->have < want) {
		ssize_t n = bs_rstream_read(d->inner, d->c + d->have, sizeof(d->c) - d->have, err);
		if (n < 0)
			return -1;
		if (n == 0)
			d->eof = 1;
		d->have += (size_t)n;
	}
	return 0;
}

/* Open c[0..len) as chunk d->counter into p.  0 ok, 1 authentication failed. */
static int dec_open(struct age_dec *d, size_t len, int last)
{
	uint8_t nonce[12];
	int l1 = 0, l2 = 0, n = (int)(len - AGE_TAG_LEN);

	chunk_nonce(nonce, d->counter, last);
	if (EVP_CipherInit_ex2(d->ctx, NULL, NULL, nonce, 0, NULL) != 1 ||
	    (n > 0 && EVP_DecryptUpdate(d->ctx, d->p, &l1, d->c, n) != 1) ||
	    EVP_CIPHER_CTX_ctrl(d->ctx, EVP_CTRL_AEAD_SET_TAG, AGE_TAG_LEN, d->c + n) != 1 ||
	    EVP_DecryptFinal_ex(d->ctx, d->p + l1, &l2) != 1) {
		ERR_clear_error();
		return 1;
	}
	d->ppos = 0;
	d->plen = (size_t)n;
	return 0;
}

static int chunk_failed(struct age_dec *d, int final, struct bs_err *err)
{
	unsigned long long c = (unsigned long long)d->counter;

	if (final)
		bs_err_set(err, BS_ERR_CRYPTO,
			   "age payload chunk %llu (the last one present, %zu bytes) failed "
			   "authentication: the archive is truncated or was modified",
			   c, d->have);
	else
		bs_err_set(err, BS_ERR_CRYPTO,
			   "age payload chunk %llu (plaintext bytes %llu-%llu) failed "
			   "authentication: the archive was modified or is corrupt",
			   c, c * AGE_CHUNK, c * AGE_CHUNK + AGE_CHUNK - 1);
	return -1;
}

/* The payload ended inside chunk d->counter, which fails authentication at
 * its full length: is it a final chunk followed by a few stray bytes (a
 * byte appended by an editor or a bad copy)?  Tries the last
 * AGE_TRAIL_SCAN_MAX lengths only; returns the length that authenticates,
 * or 0. */
#define AGE_TRAIL_SCAN_MAX 1024

static size_t trailing_len(struct age_dec *d)
{
	size_t min = AGE_TAG_LEN + (d->counter > 0 ? 1 : 0), l;

	if (!d->eof)
		return 0;
	for (l = d->have > AGE_ENC_CHUNK ? AGE_ENC_CHUNK : d->have - 1;
	     l >= min && l + AGE_TRAIL_SCAN_MAX >= d->have; l--)
		if (dec_open(d, l, 1) == 0) {
			d->plen = 0;
			return l;
		}
	return 0;
}

static int trailing_failed(struct age_dec *d, size_t l, struct bs_err *err)
{
	return bs_err_set(err, BS_ERR_FORMAT,
			  "invalid age payload: %zu byte(s) of unexpected data after the final chunk %llu",
			  d->have - l, (unsigned long long)d->counter);
}

/* Authenticate the next chunk into p.  As age does (and the testkit
 * expects), a chunk is released as soon as it authenticates; what is wrong
 * after it (no final chunk, data after the final chunk) is reported by the
 * next read.  Never 0 before an authenticated final chunk. */
static int dec_next(struct age_dec *d, struct bs_err *err)
{
	unsigned long long idx = (unsigned long long)d->counter;

	if (dec_fill(d, sizeof(d->c), err) < 0)
		return -1;
	if (d->have >= AGE_ENC_CHUNK) {
		/* a full chunk: normally not the final one, but it may be */
		if (dec_open(d, AGE_ENC_CHUNK, 0) != 0) {
			if (dec_open(d, AGE_ENC_CHUNK, 1) != 0) {
				size_t l = trailing_len(d);
				return l ? trailing_failed(d, l, err)
					 : chunk_failed(d, d->have == AGE_ENC_CHUNK, err);
			}
			if (d->have > AGE_ENC_CHUNK) {
				/* release it, then fail */
				d->failed = 1;
				bs_err_set(&d->ferr, BS_ERR_FORMAT,
					   "invalid age payload: unexpected data after the final chunk %llu",
					   idx);
			} else {
				d->done = 1;
			}
		}
		d->have -= AGE_ENC_CHUNK;
		memmove(d->c, d->c + AGE_ENC_CHUNK, d->have);
		d->counter++;
		return 0;
	}
	/* the data ends inside this chunk: it must be the final one */
	if (d->have == 0) {
		if (d->counter == 0)
			return bs_err_set(err, BS_ERR_FORMAT,
					  "age payload is truncated: it has no chunk after the nonce");
		return bs_err_set(err, BS_ERR_FORMAT,
				  "age payload is truncated: it ends after chunk %llu, which is not the "
				  "final chunk",
				  idx - 1);
	}
	if (d->have < AGE_TAG_LEN)
		return bs_err_set(err, BS_ERR_FORMAT,
				  "age payload is truncated: chunk %llu is %zu bytes, shorter than its "
				  "authentication tag",
				  idx, d->have);
	if (d->have == AGE_TAG_LEN && d->counter > 0)
		return bs_err_set(err, BS_ERR_FORMAT, "invalid age payload: final chunk %llu is empty", idx);
	if (dec_open(d, d->have, 1) != 0) {
		if (dec_open(d, d->have, 0) == 0) {
			d->plen = 0;
			return bs_err_set(err, BS_ERR_FORMAT,
					  "age payload is truncated: chunk %llu is short but not marked final",
					  idx);
		}
		{
			size_t l = trailing_len(d);
			if (l)
				return trailing_failed(d, l, err);
		}
		return chunk_failed(d, 1, err);
	}
	d->have = 0;
	d->counter++;
	d->done = 1;
	return 0;
}

static ssize_t dec_read(void *priv, void *buf, size_t len, struct bs_err *err)
{
	struct age_dec *d = priv;
	size_t k;

	if (len == 0)
		return 0;
	while (d->ppos == d->plen) {
		if (d->failed) {
			if (err)
				*err = d->ferr;
			return -1;
		}
		if (d->done)
			return 0;
		if (dec_next(d, &d->ferr) < 0) {
			/* nothing of a chunk that failed is released */
			d->failed = 1;
			d->ppos = d->plen = 0;
		}
	}
	k = d->plen - d->ppos < len ? d->plen - d->ppos : len;
	memcpy(buf, d->p + d->ppos, k);
	d->ppos += k;
	return (ssize_t)k;
}

static void dec_free(void *priv)
{
	struct age_dec *d = priv;

	if (!d)
		return;
	bs_rstream_free(d->inner);
	EVP_CIPHER_CTX_free(d->ctx);
	OPENSSL_cleanse(d->p, sizeof(d->p));
	free(d);
}

static const struct bs_rstream_ops dec_ops = {dec_read, dec_free};

/* Read the header text (through the MAC line) into *out; the bytes after it
 * stay in d->c[0..d->have). */
static int read_header(struct age_dec *d, char **out, size_t *out_len, struct bs_err *err)
{
	static const char prefix[] = "age-encryption.org/";
	size_t hlen = 0, hcap = 0, line_start = 0, pos = 0;
	char *h = NULL;

	for (;;) {
		const uint8_t *nl;
		size_t end;

		if (pos == d->have) {
			ssize_t n = bs_rstream_read(d->inner, d->c, sizeof(d->c), err);
			if (n < 0)
				goto fail;
			if (n == 0) {
				if (hlen == 0)
					bs_err_set(err, BS_ERR_FORMAT, "not an age-encrypted file: it is empty");
				else
					bs_err_set(err, BS_ERR_FORMAT, "age header is truncated");
				goto fail;
			}
			d->have = (size_t)n;
			pos = 0;
		}
		nl = memchr(d->c + pos, '\n', d->have - pos);
		end = nl ? (size_t)(nl - d->c) + 1 : d->have;
		if (hlen + end - pos > AGE_HEADER_MAX) {
			bs_err_set(err, BS_ERR_FORMAT, "age header is larger than %d bytes", AGE_HEADER_MAX);
			goto fail;
		}
		if (hlen + end - pos > hcap) {
			size_t ncap = hcap ? hcap : 4096;
			char *nh;
			while (ncap < hlen + end - pos)
				ncap *= 2;
			nh = realloc(h, ncap);
			if (!nh) {
				bs_err_set(err, BS_ERR_NOMEM, "out of memory");
				goto fail;
			}
			h = nh;
			hcap = ncap;
		}
		memcpy(h + hlen, d->c + pos, end - pos);
		hlen += end - pos;
		pos = end;
		/* reject a file that is not age at all before reading much of it */
		if (line_start == 0 &&
		    (memcmp(h, prefix, hlen < sizeof(prefix) - 1 ? hlen : sizeof(prefix) - 1) != 0 ||
		     (!nl && hlen > 256))) {
			bs_err_set(err, BS_ERR_FORMAT, "not an age-encrypted file (no '%s' line)",
				   AGE_VERSION_LINE);
			goto fail;
		}
		if (!nl)
			continue;
		if (hlen - line_start >= 3 && memcmp(h + line_start, "---", 3) == 0)
			break;
		line_start = hlen;
	}
	memmove(d->c, d->c + pos, d->have - pos);
	d->have -= pos;
	*out = h;
	*out_len = hlen;
	return 0;
fail:
	free(h);
	return -1;
}

static int no_match(const struct age_header *h, const struct bs_age_identities *ids,
		    struct bs_err *err)
{
	size_t nx = 0, ns = 0, i, o;
	const char *listed = NULL;
	char tried[512];

	for (i = 0; i < h->n; i++) {
		if (strcmp(h->st[i].args[0], "X25519") == 0)
			nx++;
		else if (strcmp(h->st[i].args[0], "scrypt") == 0)
			ns++;
	}
	o = (size_t)snprintf(tried, sizeof(tried), "%s", ids->n ? "" : "none");
	for (i = 0; i < ids->n && o < sizeof(tried); i++) {
		o += (size_t)snprintf(tried + o, sizeof(tried) - o, "%s%s", i ? ", " : "",
				      ids->x[i].recipient);
		if (ids->x[i].listed && !listed)
			listed = ids->x[i].recipient;
	}
	/* the record names this key: the stanza for it must open, unless the
	 * header was damaged (or the archive is not the one the record names) */
	if (listed)
		bs_err_set(err, BS_ERR_CRYPTO,
			   "the archive's header is damaged: no recipient stanza opens with identity %s, "
			   "which the snapshot's catalog record lists as a recipient", listed);
	else
		bs_err_set(err, BS_ERR_NO_IDENTITY, "no identity matches any recipient of this archive");
	bs_err_detail(err,
		      "the archive has %zu X25519 recipient(s), %zu passphrase stanza(s) and %zu of "
		      "other types; tried %zu identity key(s) (public keys: %s) and %zu passphrase(s)",
		      nx, ns, h->n - nx - ns, ids->n, tried, ids->npass);
	if (listed)
		bs_err_hint(err, "the archive was modified, is corrupt, or is not the archive its record "
				 "names; restore another snapshot, or this archive from another copy");
	else if (ns && !ids->npass)
		bs_err_hint(err, "this archive is encrypted with a passphrase: provide the passphrase");
	else if (ns)
		bs_err_hint(err, "the passphrase is wrong (or the archive's passphrase stanza is damaged)");
	else if (nx)
		bs_err_hint(err, "use the identity file whose public key is listed in the snapshot's "
				 "catalog record ('recipients')");
	else
		bs_err_hint(err, "the archive uses a recipient type backstop does not support "
				 "(e.g. post-quantum or a plugin); decrypt it with the age tool");
	return -1;
}

/* Find the file key in the header with one of ids. */
static int unwrap_file_key(const struct age_header *h, const struct bs_age_identities *ids,
			   uint8_t file_key[AGE_FILE_KEY_LEN], struct bs_err *err)
{
	size_t i, j;
	int log_n;

	for (i = 0; i < h->n; i++) {
		const struct age_stanza *st = &h->st[i];
		if (strcmp(st->args[0], "X25519") == 0) {
			if (age_x25519_check(st, err) < 0)
				return -1;
		} else if (strcmp(st->args[0], "scrypt") == 0) {
			if (h->n != 1)
				return bs_err_set(err, BS_ERR_FORMAT,
						  "malformed age header: an scrypt (passphrase) stanza "
						  "must be the only stanza");
			if (age_scrypt_check(st, &log_n, err) < 0)
				return -1;
		}
	}
	for (i = 0; i < h->n; i++) {
		const struct age_stanza *st = &h->st[i];
		if (strcmp(st->args[0], "X25519") == 0) {
			for (j = 0; j < ids->n; j++) {
				int r = age_x25519_unwrap(st, ids->x[j].sk, ids->x[j].pk, file_key, err);
				if (r <= 0)
					return r;
			}
		} else if (strcmp(st->args[0], "scrypt") == 0) {
			for (j = 0; j < ids->npass; j++) {
				int r = age_scrypt_unwrap(st, ids->pass[j], file_key, err);
				if (r <= 0)
					return r;
			}
		}
	}
	return no_match(h, ids, err);
}

struct bs_rstream *bs_age_decrypt_new(struct bs_rstream *inner, const struct bs_age_identities *ids,
				      struct bs_err *err)
{
	uint8_t file_key[AGE_FILE_KEY_LEN], mac[AGE_KEY_LEN], nonce[AGE_NONCE_LEN];
	struct age_header h = {0};
	struct age_dec *d = NULL;
	struct bs_rstream *s = NULL;
	char *hdr = NULL;
	size_t hlen = 0;

	if (!ids) {
		bs_err_set(err, BS_ERR_INTERNAL, "no identities given");
		goto out;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	d->inner = inner;
	inner = NULL;
	if (read_header(d, &hdr, &hlen, err) < 0 || age_header_parse(hdr, hlen, &h, err) < 0 ||
	    unwrap_file_key(&h, ids, file_key, err) < 0)
		goto out;
	if (age_header_mac(file_key, hdr, h.mac_input_len, mac, err) < 0)
		goto out;
	if (CRYPTO_memcmp(mac, h.mac, sizeof(mac)) != 0) {
		bs_err_set(err, BS_ERR_CRYPTO, "header MAC mismatch: the age header was modified or is corrupt");
		goto out;
	}
	if (dec_fill(d, AGE_NONCE_LEN, err) < 0)
		goto out;
	if (d->have < AGE_NONCE_LEN) {
		bs_err_set(err, BS_ERR_FORMAT, "age payload is truncated: the %d-byte nonce is missing",
			   AGE_NONCE_LEN);
		goto out;
	}
	memcpy(nonce, d->c, AGE_NONCE_LEN);
	memmove(d->c, d->c + AGE_NONCE_LEN, d->have - AGE_NONCE_LEN);
	d->have -= AGE_NONCE_LEN;
	d->ctx = payload_ctx(file_key, nonce, 0, err);
	if (!d->ctx)
		goto out;
	s = bs_rstream_new(&dec_ops, d);
	d = NULL;
	if (!s)
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
out:
	OPENSSL_cleanse(file_key, sizeof(file_key));
	age_header_release(&h);
	free(hdr);
	dec_free(d);
	bs_rstream_free(inner);
	return s;
}
