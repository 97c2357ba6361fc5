/* sshsig.c - SSH signatures (OpenSSH PROTOCOL.sshsig) with Ed25519 keys,
 * OpenSSH public key lines and allowed-signers entries (see sshsig.h).
 *
 * Everything read here comes from outside (a signature next to a release
 * statement, an allowed-signers file), so every length is checked against
 * the bytes left, inputs are bounded (SSHSIG_ARMOR_MAX, LINE_MAX_BYTES)
 * and nothing may trail a structure.  OpenSSL does the hashing and the
 * Ed25519 verification; base64 is the crypt module's strict decoder, with
 * the '=' padding OpenSSH writes checked here. */
#include "gate/sshsig.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "common/base64.h"

#define SSH_ED25519	    "ssh-ed25519"
#define SSH_ED25519_SIG_LEN 64
/* string("ssh-ed25519") string(pk) */
#define SSH_ED25519_BLOB_LEN (4 + sizeof(SSH_ED25519) - 1 + 4 + BS_SSH_ED25519_LEN)

#define SSHSIG_MAGIC	 "SSHSIG"
#define SSHSIG_MAGIC_LEN 6
#define SSHSIG_VERSION	 1
#define SSHSIG_BEGIN	 "-----BEGIN SSH SIGNATURE-----"
#define SSHSIG_END	 "-----END SSH SIGNATURE-----"
#define SSHSIG_ARMOR_MAX (16 * 1024)

/* A public key or allowed-signers line longer than this is not one. */
#define LINE_MAX_BYTES (16 * 1024)
/* How much of a foreign string an error message quotes. */
#define QUOTE_MAX 64

/* ---- small helpers ---- */

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static const char *skip_space(const char *p)
{
	while (is_space(*p))
		p++;
	return p;
}

/* Length of the token at p: up to unquoted whitespace; a '"' opens a
 * quoted part that may hold spaces (a backslash escapes a quote inside).
 * *unclosed is set when a quote is never closed. */
static size_t token_len(const char *p, int *unclosed)
{
	const char *q = p;
	int quoted = 0;

	*unclosed = 0;
	for (; *q != '\0'; q++) {
		if (quoted && q[0] == '\\' && q[1] == '"') {
			q++;
			continue;
		}
		if (*q == '"')
			quoted = !quoted;
		else if (!quoted && is_space(*q))
			break;
	}
	*unclosed = quoted;
	return (size_t)(q - p);
}

/* Standard base64 with the '=' padding OpenSSH writes (also accepted
 * without it), strict otherwise: no other byte, canonical trailing bits. */
static int b64_decode_padded(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
	size_t pad = 0;

	while (pad < 2 && len > 0 && in[len - 1] == '=') {
		len--;
		pad++;
	}
	if (pad > 0 && (len + pad) % 4 != 0)
		return -1;
	return bs_b64_decode(in, len, out, cap, out_len);
}

/* A read cursor over an SSH wire-format buffer. */
struct rd {
	const uint8_t *p;
	size_t left;
};

static int rd_u32(struct rd *r, uint32_t *v)
{
	if (r->left < 4)
		return -1;
	*v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	r->left -= 4;
	return 0;
}

/* string: uint32 length, then that many bytes (pointed to, not copied). */
static int rd_string(struct rd *r, const uint8_t **s, size_t *n)
{
	uint32_t len;

	if (rd_u32(r, &len) < 0 || len > r->left)
		return -1;
	*s = r->p;
	*n = len;
	r->p += len;
	r->left -= len;
	return 0;
}

static int str_is(const uint8_t *s, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(s, want, n) == 0;
}

static uint8_t *put_u32(uint8_t *o, uint32_t v)
{
	o[0] = (uint8_t)(v >> 24);
	o[1] = (uint8_t)(v >> 16);
	o[2] = (uint8_t)(v >> 8);
	o[3] = (uint8_t)v;
	return o + 4;
}

static uint8_t *put_string(uint8_t *o, const void *s, size_t n)
{
	o = put_u32(o, (uint32_t)n);
	memcpy(o, s, n);
	return o + n;
}

/* A copy of at most QUOTE_MAX bytes of s fit to quote in a message:
 * non-printable bytes become '?'. */
static const char *quote(const void *s, size_t n, char out[QUOTE_MAX + 4])
{
	const unsigned char *c = s;
	size_t i;

	for (i = 0; i < n && i < QUOTE_MAX; i++)
		out[i] = isprint(c[i]) ? (char)c[i] : '?';
	if (n > QUOTE_MAX) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
	return out;
}

static void key_blob(const unsigned char pk[BS_SSH_ED25519_LEN], uint8_t blob[SSH_ED25519_BLOB_LEN])
{
	uint8_t *o = put_string(blob, SSH_ED25519, sizeof(SSH_ED25519) - 1);

	put_string(o, pk, BS_SSH_ED25519_LEN);
}

/* pk into key, with the fingerprint ssh-keygen -l prints. */
static int key_set(struct bs_ssh_key *key, const uint8_t *pk, struct bs_err *err)
{
	uint8_t blob[SSH_ED25519_BLOB_LEN], md[32];
	unsigned int mdlen = 0;
	char b64[64];

	memcpy(key->pk, pk, BS_SSH_ED25519_LEN);
	key_blob(key->pk, blob);
	if (EVP_Digest(blob, sizeof(blob), md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != sizeof(md)) {
		ERR_clear_error();
		return bs_err_set(err, BS_ERR_CRYPTO, "unable to compute a key fingerprint (OpenSSL)");
	}
	bs_b64_encode(md, sizeof(md), b64);
	snprintf(key->fingerprint, sizeof(key->fingerprint), "SHA256:%s", b64);
	return 0;
}

/* A key blob: string(type) string(pk), nothing after.  what names the
 * place for messages ("public key", "signature key"). */
static int key_from_blob(const uint8_t *blob, size_t n, const char *what, struct bs_ssh_key *key,
			 struct bs_err *err)
{
	struct rd r = {blob, n};
	const uint8_t *type, *pk;
	size_t tlen, pklen;
	char q[QUOTE_MAX + 4];

	if (rd_string(&r, &type, &tlen) < 0)
		return bs_err_set(err, BS_ERR_FORMAT, "%s is truncated (no key type)", what);
	if (!str_is(type, tlen, SSH_ED25519))
		return bs_err_set(err, BS_ERR_FORMAT, "only ssh-ed25519 keys are supported, not '%s'",
				  quote(type, tlen, q));
	if (rd_string(&r, &pk, &pklen) < 0)
		return bs_err_set(err, BS_ERR_FORMAT, "%s is truncated (no ed25519 key)", what);
	if (pklen != BS_SSH_ED25519_LEN)
		return bs_err_set(err, BS_ERR_FORMAT, "%s has an ed25519 key of %zu bytes, expected %d", what,
				  pklen, BS_SSH_ED25519_LEN);
	if (r.left != 0)
		return bs_err_set(err, BS_ERR_FORMAT, "%s has %zu trailing bytes", what, r.left);
	return key_set(key, pk, err);
}

/* ---- public key lines ---- */

/* "ssh-ed25519 AAAA... [comment]" at p (leading whitespace allowed). */
static int pubkey_parse(const char *p, struct bs_ssh_key *key, struct bs_err *err)
{
	uint8_t blob[SSH_ED25519_BLOB_LEN + 3];
	const char *type, *data;
	size_t tlen, dlen, n;
	char q[QUOTE_MAX + 4];

	type = skip_space(p);
	for (tlen = 0; type[tlen] != '\0' && !is_space(type[tlen]); tlen++)
		;
	if (tlen == 0)
		return bs_err_set(err, BS_ERR_FORMAT, "public key line is empty");
	if (tlen != sizeof(SSH_ED25519) - 1 || memcmp(type, SSH_ED25519, tlen) != 0)
		return bs_err_set(err, BS_ERR_FORMAT, "only ssh-ed25519 keys are supported, not '%s'",
				  quote(type, tlen, q));
	data = skip_space(type + tlen);
	for (dlen = 0; data[dlen] != '\0' && !is_space(data[dlen]); dlen++)
		;
	if (dlen == 0)
		return bs_err_set(err, BS_ERR_FORMAT, "public key line has no key data after 'ssh-ed25519'");
	if (b64_decode_padded(data, dlen, blob, sizeof(blob), &n) < 0)
		return bs_err_set(err, BS_ERR_FORMAT,
				  "public key data '%s' is not valid base64 of an ed25519 key",
				  quote(data, dlen, q));
	/* the rest of the line is a comment */
	return key_from_blob(blob, n, "public key", key, err);
}

int bs_ssh_pubkey_parse(const char *line, struct bs_ssh_key *key, struct bs_err *err)
{
	struct bs_ssh_key k;

	memset(key, 0, sizeof(*key));
	if (!line)
		return bs_err_set(err, BS_ERR_FORMAT, "public key line is empty");
	if (strnlen(line, LINE_MAX_BYTES + 1) > LINE_MAX_BYTES)
		return bs_err_set(err, BS_ERR_FORMAT, "public key line is longer than %d bytes",
				  LINE_MAX_BYTES);
	if (pubkey_parse(line, &k, err) < 0)
		return -1;
	*key = k;
	return 0;
}

int bs_ssh_pubkey_format(const struct bs_ssh_key *key, char *out, size_t n)
{
	uint8_t blob[SSH_ED25519_BLOB_LEN];
	size_t b64len = (SSH_ED25519_BLOB_LEN + 2) / 3 * 4; /* padded */
	size_t raw = bs_b64_len(SSH_ED25519_BLOB_LEN);
	size_t off = sizeof(SSH_ED25519); /* "ssh-ed25519 " */

	if (!out || n < off + b64len + 1)
		return -1;
	key_blob(key->pk, blob);
	memcpy(out, SSH_ED25519 " ", off);
	bs_b64_encode(blob, sizeof(blob), out + off);
	while (raw < b64len)
		out[off + raw++] = '=';
	out[off + raw] = '\0';
	return 0;
}

/* ---- allowed-signers entries ---- */

void bs_allowed_signer_init(struct bs_allowed_signer *s)
{
	memset(s, 0, sizeof(*s));
}

void bs_allowed_signer_release(struct bs_allowed_signer *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nprincipals && i < BS_SSH_PRINCIPALS_MAX; i++)
		free(s->principals[i]);
	free(s->namespaces);
	bs_allowed_signer_init(s);
}

/* Split the principals field "a,b" (or "\"a,b\"") into s. */
static int parse_principals(const char *p, size_t len, struct bs_allowed_signer *s, struct bs_err *err)
{
	const char *end, *comma;
	char q[QUOTE_MAX + 4];

	if (len >= 2 && p[0] == '"' && p[len - 1] == '"') {
		p++;
		len -= 2;
	}
	if (memchr(p, '"', len))
		return bs_err_set(err, BS_ERR_FORMAT, "allowed-signers principals '%s' are badly quoted",
				  quote(p, len, q));
	end = p + len;
	for (;;) {
		comma = memchr(p, ',', (size_t)(end - p));
		if (!comma)
			comma = end;
		if (comma == p)
			return bs_err_set(err, BS_ERR_FORMAT,
					  "allowed-signers principals '%s' include an empty one",
					  quote(end - len, len, q));
		if (s->nprincipals == BS_SSH_PRINCIPALS_MAX)
			return bs_err_set(err, BS_ERR_FORMAT,
					  "allowed-signers entry lists more than %d principals",
					  BS_SSH_PRINCIPALS_MAX);
		s->principals[s->nprincipals] = strndup(p, (size_t)(comma - p));
		if (!s->principals[s->nprincipals])
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		s->nprincipals++;
		if (comma == end)
			return 0;
		p = comma + 1;
	}
}

/* If opts starts with name (case-insensitive, as OpenSSH), skip it. */
static int opt_match(const char **opts, const char *name)
{
	size_t n = strlen(name);

	if (strncasecmp(*opts, name, n) != 0)
		return 0;
	*opts += n;
	return 1;
}

/* A "quoted" option value at *opts (after the '='); returns a heap copy
 * with \" unescaped, or NULL with err set. */
static char *opt_value(const char **opts, const char *name, struct bs_err *err)
{
	const char *s = *opts;
	char *v, *o;

	if (*s != '"') {
		bs_err_set(err, BS_ERR_FORMAT, "allowed-signers option %s must be a quoted value", name);
		return NULL;
	}
	s++;
	v = o = malloc(strlen(s) + 1);
	if (!v) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		return NULL;
	}
	while (*s != '\0' && *s != '"') {
		if (s[0] == '\\' && s[1] == '"')
			s++;
		*o++ = *s++;
	}
	if (*s != '"') {
		free(v);
		bs_err_set(err, BS_ERR_FORMAT, "allowed-signers option %s is missing its closing quote",
			   name);
		return NULL;
	}
	*o = '\0';
	*opts = s + 1;
	return v;
}

/* Is the option at opts (up to end) the flag name (case-insensitive)? */
static int opt_flag(const char *opts, const char *end, const char *name)
{
	size_t n = strlen(name);

	return (size_t)(end - opts) >= n && strncasecmp(opts, name, n) == 0 &&
	       (opts + n == end || opts[n] == ',');
}


/* The options field (opts, len bytes: a token with no unquoted space),
 * read as OpenSSH's sshsigopt_parse reads it. */
static int parse_options(const char *opts, size_t len, struct bs_allowed_signer *s, struct bs_err *err)
{
	const char *end = opts + len;
	char q[QUOTE_MAX + 4];

	while (opts < end) {
		const char *start = opts;

		if (opt_flag(opts, end, "cert-authority")) {
			bs_err_set(err, BS_ERR_FORMAT,
				   "cert-authority entries are not supported in allowed signers");
			bs_err_hint(
			    err, "list each signer's own ssh-ed25519 key instead of a certificate authority");
			return -1;
		} else if (opt_match(&opts, "namespaces=")) {
			if (s->namespaces)
				return bs_err_set(err, BS_ERR_FORMAT,
						  "allowed-signers option namespaces is given twice");
			if (!(s->namespaces = opt_value(&opts, "namespaces", err)))
				return -1;
		} else if (opt_match(&opts, "valid-after=") || opt_match(&opts, "valid-before=")) {
			/* Refused rather than ignored: a key past its valid-before
			 * must never count (fail closed). */
			bs_err_set(err, BS_ERR_FORMAT, "allowed-signers options valid-after/valid-before are not supported");
			bs_err_hint(err, "list only keys that are valid now; remove a key's line to revoke it");
			return -1;
		} else {
			size_t n = strcspn(start, ",=");

			if (n > (size_t)(end - start))
				n = (size_t)(end - start);
			return bs_err_set(err, BS_ERR_FORMAT, "unknown allowed-signers option '%s'",
					  quote(start, n, q));
		}
		if (opts > end)
			return bs_err_set(err, BS_ERR_FORMAT, "allowed-signers options are malformed");
		if (opts == end)
			break;
		if (*opts != ',')
			return bs_err_set(err, BS_ERR_FORMAT,
					  "allowed-signers options are malformed after '%s'",
					  quote(start, (size_t)(opts - start), q));
		opts++;
		if (opts == end)
			return bs_err_set(err, BS_ERR_FORMAT, "allowed-signers options end with a comma");
	}
	return 0;
}

/* Does the token look like a key type (the key, not options)?  As in
 * OpenSSH, a second field that is not a key is read as options. */
static int is_key_type(const char *p, size_t len)
{
	static const char *const prefixes[] = {"ssh-", "ecdsa-", "sk-"};
	size_t i;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (len > strlen(prefixes[i]) && strncmp(p, prefixes[i], strlen(prefixes[i])) == 0 &&
		    !memchr(p, '=', len) && !memchr(p, '"', len))
			return 1;
	return 0;
}

static int allowed_signer_parse(const char *line, struct bs_allowed_signer *s, struct bs_err *err)
{
	const char *p;
	size_t len;
	int unclosed;

	/* principals */
	p = skip_space(line);
	len = token_len(p, &unclosed);
	if (unclosed)
		return bs_err_set(err, BS_ERR_FORMAT,
				  "allowed-signers principals are missing a closing quote");
	if (parse_principals(p, len, s, err) < 0)
		return -1;

	/* options, if the next field is not the key */
	p = skip_space(p + len);
	if (*p == '\0')
		return bs_err_set(err, BS_ERR_FORMAT,
				  "allowed-signers entry has no key after its principals");
	len = token_len(p, &unclosed);
	if (!is_key_type(p, len)) {
		if (unclosed)
			return bs_err_set(err, BS_ERR_FORMAT,
					  "allowed-signers options are missing a closing quote");
		if (parse_options(p, len, s, err) < 0)
			return -1;
		p = skip_space(p + len);
		if (*p == '\0')
			return bs_err_set(err, BS_ERR_FORMAT,
					  "allowed-signers entry has no key after its options");
	}
	return pubkey_parse(p, &s->key, err);
}

/* s must have been initialized; what it held is released first.  The
 * valid-after and valid-before options are refused (not enforced here, so
 * never silently ignored). */
int bs_allowed_signer_parse(const char *line, struct bs_allowed_signer *s, struct bs_err *err)
{
	const char *p;

	bs_allowed_signer_release(s);
	if (!line)
		return 1;
	if (strnlen(line, LINE_MAX_BYTES + 1) > LINE_MAX_BYTES)
		return bs_err_set(err, BS_ERR_FORMAT, "allowed-signers line is longer than %d bytes",
				  LINE_MAX_BYTES);
	p = skip_space(line);
	if (*p == '\0' || *p == '#')
		return 1;
	if (allowed_signer_parse(p, s, err) < 0) {
		bs_allowed_signer_release(s);
		return -1;
	}
	return 0;
}

/* OpenSSH's match_pattern: '*' any run, '?' any one character. */
static int glob_match(const char *s, const char *pat, size_t plen)
{
	const char *star_p = NULL, *star_s = NULL;
	const char *pend = pat + plen;

	while (*s != '\0') {
		if (pat < pend && (*pat == '?' || *pat == *s)) {
			pat++;
			s++;
		} else if (pat < pend && *pat == '*') {
			star_p = ++pat;
			star_s = s;
		} else if (star_p) {
			pat = star_p;
			s = ++star_s;
		} else {
			return 0;
		}
	}
	while (pat < pend && *pat == '*')
		pat++;
	return pat == pend;
}

/* As OpenSSH's match_pattern_list: the comma-separated patterns must match
 * ns at least once, and no negated ("!pattern") one may. */
int bs_allowed_signer_ns_ok(const struct bs_allowed_signer *s, const char *ns)
{
	const char *p, *comma;
	int positive = 0;

	if (!s || !ns)
		return 0;
	if (!s->namespaces)
		return 1;
	for (p = s->namespaces;; p = comma + 1) {
		int negated = *p == '!';
		const char *pat = p + negated;

		comma = strchr(pat, ',');
		if (!comma)
			comma = pat + strlen(pat);
		if (glob_match(ns, pat, (size_t)(comma - pat))) {
			if (negated)
				return 0;
			positive = 1;
		}
		if (*comma == '\0')
			break;
	}
	return positive;
}

/* ---- SSHSIG ---- */

/* The base64 body between the armor lines of in (len bytes) into a
 * malloc'd blob. */
static int dearmor(const char *in, size_t len, uint8_t **blob, size_t *blen, struct bs_err *err)
{
	const char *p = in, *end = in + len, *body, *body_end, *e;
	char *b64 = NULL;
	size_t n = 0, cap;
	int rc = -1;

	*blob = NULL;
	while (p < end && is_space(*p))
		p++;
	if ((size_t)(end - p) < sizeof(SSHSIG_BEGIN) - 1 ||
	    memcmp(p, SSHSIG_BEGIN, sizeof(SSHSIG_BEGIN) - 1) != 0)
		return bs_err_set(err, BS_ERR_FORMAT, "not an SSH signature (no '" SSHSIG_BEGIN "' line)");
	body = p + sizeof(SSHSIG_BEGIN) - 1;
	if (body < end && *body == '\r')
		body++;
	if (body == end || *body != '\n')
		return bs_err_set(err, BS_ERR_FORMAT,
				  "SSH signature has text after its '" SSHSIG_BEGIN "' line");
	body_end = memmem(body, (size_t)(end - body), SSHSIG_END, sizeof(SSHSIG_END) - 1);
	if (!body_end)
		return bs_err_set(err, BS_ERR_FORMAT, "SSH signature has no '" SSHSIG_END "' line");
	for (e = body_end + sizeof(SSHSIG_END) - 1; e < end; e++)
		if (!is_space(*e))
			return bs_err_set(err, BS_ERR_FORMAT,
					  "SSH signature has text after its '" SSHSIG_END "' line");

	cap = (size_t)(body_end - body);
	b64 = malloc(cap + 1);
	*blob = malloc(cap / 4 * 3 + 3);
	if (!b64 || !*blob) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (p = body; p < body_end; p++) {
		if (is_space(*p))
			continue;
		if (*p == '\0') {
			bs_err_set(err, BS_ERR_FORMAT, "SSH signature holds a NUL byte");
			goto out;
		}
		b64[n++] = *p;
	}
	if (n == 0) {
		bs_err_set(err, BS_ERR_FORMAT, "SSH signature is empty");
		goto out;
	}
	if (b64_decode_padded(b64, n, *blob, cap / 4 * 3 + 3, blen) < 0) {
		bs_err_set(err, BS_ERR_FORMAT, "SSH signature is not valid base64");
		goto out;
	}
	rc = 0;
out:
	free(b64);
	if (rc < 0) {
		free(*blob);
		*blob = NULL;
	}
	return rc;
}

struct sshsig {
	struct bs_ssh_key key;
	const uint8_t *ns, *hashalg, *sig;
	size_t nslen, hashlen;
};

static int sshsig_parse(const uint8_t *blob, size_t n, const char *want_ns, struct sshsig *sig,
			struct bs_err *err)
{
	struct rd r = {blob, n}, in;
	const uint8_t *pub, *reserved, *sigblob, *type, *raw;
	size_t publen, reslen, siglen, tlen, rawlen;
	uint32_t version;
	char q[QUOTE_MAX + 4], q2[QUOTE_MAX + 4];

	if (n < SSHSIG_MAGIC_LEN || memcmp(blob, SSHSIG_MAGIC, SSHSIG_MAGIC_LEN) != 0)
		return bs_err_set(err, BS_ERR_FORMAT, "not an SSH signature (no SSHSIG magic)");
	r.p += SSHSIG_MAGIC_LEN;
	r.left -= SSHSIG_MAGIC_LEN;
	if (rd_u32(&r, &version) < 0)
		return bs_err_set(err, BS_ERR_FORMAT, "SSH signature is truncated (no version)");
	if (version != SSHSIG_VERSION)
		return bs_err_set(err, BS_ERR_FORMAT,
				  "SSH signature version %u is not supported, expected %d", version,
				  SSHSIG_VERSION);
	if (rd_string(&r, &pub, &publen) < 0)
		return bs_err_set(err, BS_ERR_FORMAT, "SSH signature is truncated (no public key)");
	if (key_from_blob(pub, publen, "signature public key", &sig->key, err) < 0)
		return -1;
	if (rd_string(&r, &sig->ns, &sig->nslen) < 0)
		return bs_err_set(err, BS_ERR_FORMAT, "SSH signature is truncated (no namespace)");
	if (!str_is(sig->ns, sig->nslen, want_ns))
		return bs_err_set(err, BS_ERR_FORMAT, "signature namespace is '%s', expected '%s'",
				  quote(sig->ns, sig->nslen, q), quote(want_ns, strlen(want_ns), q2));
	/* reserved: ignored, as PROTOCOL.sshsig says (see signed_data) */
	if (rd_string(&r, &reserved, &reslen) < 0)
		return bs_err_set(err, BS_ERR_FORMAT, "SSH signature is truncated (no reserved field)");
	if (rd_string(&r, &sig->hashalg, &sig->hashlen) < 0)
		return bs_err_set(err, BS_ERR_FORMAT, "SSH signature is truncated (no hash algorithm)");
	if (!str_is(sig->hashalg, sig->hashlen, "sha512") && !str_is(sig->hashalg, sig->hashlen, "sha256"))
		return bs_err_set(
		    err, BS_ERR_FORMAT,
		    "signature hash algorithm '%s' is not supported, expected 'sha512' or 'sha256'",
		    quote(sig->hashalg, sig->hashlen, q));
	if (rd_string(&r, &sigblob, &siglen) < 0)
		return bs_err_set(err, BS_ERR_FORMAT, "SSH signature is truncated (no signature)");
	if (r.left != 0)
		return bs_err_set(err, BS_ERR_FORMAT, "SSH signature has %zu trailing bytes", r.left);

	in.p = sigblob;
	in.left = siglen;
	if (rd_string(&in, &type, &tlen) < 0)
		return bs_err_set(err, BS_ERR_FORMAT, "SSH signature is truncated (no signature type)");
	if (!str_is(type, tlen, SSH_ED25519))
		return bs_err_set(err, BS_ERR_FORMAT, "signature type is '%s', expected 'ssh-ed25519'",
				  quote(type, tlen, q));
	if (rd_string(&in, &raw, &rawlen) < 0)
		return bs_err_set(err, BS_ERR_FORMAT, "SSH signature is truncated (no ed25519 signature)");
	if (rawlen != SSH_ED25519_SIG_LEN)
		return bs_err_set(err, BS_ERR_FORMAT, "ed25519 signature is %zu bytes, expected %d", rawlen,
				  SSH_ED25519_SIG_LEN);
	if (in.left != 0)
		return bs_err_set(err, BS_ERR_FORMAT, "ed25519 signature has %zu trailing bytes", in.left);
	sig->sig = raw;
	return 0;
}

/* "SSHSIG" string(namespace) string(reserved) string(hash_algorithm)
 * string(H(message)) into a malloc'd buffer.  The reserved field signed
 * over is empty whatever the signature carries, as OpenSSH's
 * sshsig_wrap_verify builds it (ssh-keygen signs an empty one), so a
 * signature ssh-keygen -Y verify accepts is accepted here too. */
static int signed_data(const struct sshsig *sig, const void *msg, size_t msglen, uint8_t **data, size_t *n,
		       struct bs_err *err)
{
	const EVP_MD *md = str_is(sig->hashalg, sig->hashlen, "sha512") ? EVP_sha512() : EVP_sha256();
	uint8_t h[EVP_MAX_MD_SIZE], *o;
	unsigned int hlen = 0;

	if (EVP_Digest(msg ? msg : "", msglen, h, &hlen, md, NULL) != 1) {
		ERR_clear_error();
		return bs_err_set(err, BS_ERR_CRYPTO, "unable to hash the signed message (OpenSSL)");
	}
	*n = SSHSIG_MAGIC_LEN + 4 + sig->nslen + 4 + 4 + sig->hashlen + 4 + hlen;
	*data = o = malloc(*n);
	if (!o)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	memcpy(o, SSHSIG_MAGIC, SSHSIG_MAGIC_LEN);
	o += SSHSIG_MAGIC_LEN;
	o = put_string(o, sig->ns, sig->nslen);
	o = put_u32(o, 0); /* reserved */
	o = put_string(o, sig->hashalg, sig->hashlen);
	put_string(o, h, hlen);
	return 0;
}

/* 0 valid, -1 with BS_ERR_VERIFY or BS_ERR_CRYPTO. */
static int ed25519_verify(const unsigned char pk[BS_SSH_ED25519_LEN], const uint8_t *sig, const uint8_t *data,
			  size_t n, struct bs_err *err)
{
	EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pk, BS_SSH_ED25519_LEN);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc = -1;

	if (!pkey || !ctx || EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) != 1) {
		bs_err_set(err, BS_ERR_CRYPTO, "unable to set up Ed25519 verification (OpenSSL)");
		goto out;
	}
	if (EVP_DigestVerify(ctx, sig, SSH_ED25519_SIG_LEN, data, n) != 1) {
		bs_err_set(err, BS_ERR_VERIFY, "signature does not match the statement");
		goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return rc;
}

int bs_sshsig_verify(const char *armored, size_t len, const char *ns, const void *msg, size_t msglen,
		     struct bs_ssh_key *signer, struct bs_err *err)
{
	struct sshsig sig;
	uint8_t *blob = NULL, *data = NULL;
	size_t blen = 0, dlen = 0;
	int rc = -1;

	memset(signer, 0, sizeof(*signer));
	memset(&sig, 0, sizeof(sig));
	if (!ns)
		return bs_err_set(err, BS_ERR_INTERNAL, "no signature namespace given to verify against");
	if (!armored || len == 0)
		return bs_err_set(err, BS_ERR_FORMAT, "SSH signature is empty");
	if (len > SSHSIG_ARMOR_MAX)
		return bs_err_set(err, BS_ERR_FORMAT, "SSH signature is %zu bytes, more than the %d allowed",
				  len, SSHSIG_ARMOR_MAX);
	if (dearmor(armored, len, &blob, &blen, err) < 0)
		goto out;
	if (sshsig_parse(blob, blen, ns, &sig, err) < 0)
		goto out;
	if (signed_data(&sig, msg, msglen, &data, &dlen, err) < 0)
		goto out;
	if (ed25519_verify(sig.key.pk, sig.sig, data, dlen, err) < 0) {
		if (err && err->code == BS_ERR_VERIFY)
			bs_err_detail(err, "the signature was made in namespace '%s' with key %s (hash %s)",
				      ns, sig.key.fingerprint,
				      str_is(sig.hashalg, sig.hashlen, "sha512") ? "sha512" : "sha256");
		goto out;
	}
	*signer = sig.key;
	rc = 0;
out:
	free(data);
	free(blob);
	return rc;
}
