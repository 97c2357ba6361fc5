/* keys.c - recipient and identity lists, key files, key generation.
 *
 *   recipient  "age1" + bech32(X25519 public key)             (lowercase)
 *   identity   "AGE-SECRET-KEY-1" + bech32(X25519 secret key)  (uppercase)
 *
 * Key files hold one key per line; '#' comments and blank lines are
 * ignored; surrounding whitespace (and a CR before the LF) is tolerated. */
#include "crypt/age_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define KEY_FILE_MAX (1024 * 1024)

/* ---- parsing one key ---- */

/* Copy s without surrounding whitespace into out (cap bytes); -1 if longer. */
static int trim_copy(const char *s, size_t len, char *out, size_t cap)
{
	while (len > 0 && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (len + 1 > cap)
		return -1;
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

static int starts_with_ci(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* Why a recipient string is not supported, or NULL if it may be X25519. */
static const char *recipient_kind_error(const char *s)
{
	if (starts_with_ci(s, "age1pq1"))
		return "post-quantum (mlkem768x25519) recipients are not supported";
	if (starts_with_ci(s, "age1tag"))
		return "tagged (hardware key) recipients are not supported";
	if (starts_with_ci(s, "ssh-"))
		return "SSH public keys are not supported as recipients; use an age1... key";
	if (starts_with_ci(s, "age1") && strchr(s + 4, '1'))
		return "age plugin recipients are not supported";
	if (starts_with_ci(s, "AGE-SECRET-KEY-"))
		return "this is a secret key (identity), not a public key: never share it; "
		       "use its 'public key' line instead";
	return NULL;
}

/* A string that may be quoted in an error message (not a secret key). */
static int quotable(const char *s)
{
	return strcasestr(s, "SECRET-KEY") == NULL;
}

static int parse_recipient(const char *s, uint8_t pk[AGE_KEY_LEN], const char **why)
{
	char hrp[8];
	size_t n;

	*why = recipient_kind_error(s);
	if (*why)
		return -1;
	if (age_bech32_decode(s, hrp, sizeof(hrp), pk, AGE_KEY_LEN, &n, why) < 0)
		return -1;
	if (strcmp(hrp, AGE_HRP_RECIPIENT) != 0) {
		*why = "not an age1... public key";
		return -1;
	}
	if (n != AGE_KEY_LEN) {
		*why = "wrong key length";
		return -1;
	}
	return 0;
}

static int parse_identity(const char *s, uint8_t sk[AGE_KEY_LEN], const char **why)
{
	char hrp[24];
	size_t n;

	if (starts_with_ci(s, "AGE-SECRET-KEY-PQ-")) {
		*why = "post-quantum (mlkem768x25519) identities are not supported";
		return -1;
	}
	if (starts_with_ci(s, "AGE-PLUGIN-")) {
		*why = "age plugin identities are not supported";
		return -1;
	}
	if (starts_with_ci(s, "age1")) {
		*why = "this is a public key (recipient), not an identity";
		return -1;
	}
	if (strncmp(s, "-----BEGIN", 10) == 0) {
		*why = "SSH or PEM private keys are not supported; use an age-keygen identity";
		return -1;
	}
	if (age_bech32_decode(s, hrp, sizeof(hrp), sk, AGE_KEY_LEN, &n, why) < 0)
		return -1;
	if (strcmp(hrp, AGE_HRP_IDENTITY) != 0) {
		*why = "not an AGE-SECRET-KEY-1... identity";
		return -1;
	}
	if (n != AGE_KEY_LEN) {
		*why = "wrong key length";
		return -1;
	}
	return 0;
}

static int encode_recipient(const uint8_t pk[AGE_KEY_LEN], char *out, size_t cap)
{
	return age_bech32_encode(AGE_HRP_RECIPIENT, pk, AGE_KEY_LEN, 0, out, cap);
}

/* ---- recipients ---- */

struct bs_age_recipients *bs_age_recipients_new(void)
{
	struct bs_age_recipients *r = calloc(1, sizeof(*r));

	if (r)
		r->scrypt_log_n = AGE_SCRYPT_DEFAULT_LOG_N;
	return r;
}

void bs_age_recipients_free(struct bs_age_recipients *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++)
		free(r->strs[i]);
	free(r->strs);
	free(r->keys);
	bs_secret_free(r->passphrase);
	free(r);
}

static int recipients_push(struct bs_age_recipients *r, const uint8_t pk[AGE_KEY_LEN],
			   struct bs_err *err)
{
	char str[96];
	size_t i;

	for (i = 0; i < r->n; i++)
		if (memcmp(r->keys[i], pk, AGE_KEY_LEN) == 0)
			return 0;
	if (r->n == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 4;
		uint8_t(*nk)[AGE_KEY_LEN] = realloc(r->keys, ncap * sizeof(*nk));
		char **ns;
		if (!nk)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		r->keys = nk;
		ns = realloc(r->strs, ncap * sizeof(*ns));
		if (!ns)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		r->strs = ns;
		r->cap = ncap;
	}
	encode_recipient(pk, str, sizeof(str));
	r->strs[r->n] = strdup(str);
	if (!r->strs[r->n])
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	memcpy(r->keys[r->n], pk, AGE_KEY_LEN);
	r->n++;
	return 0;
}

static int passphrase_conflict(struct bs_err *err)
{
	bs_err_set(err, BS_ERR_REFUSED,
		   "cannot encrypt to a passphrase and to age1 public keys at the same time");
	bs_err_hint(err, "age allows a passphrase only as the sole recipient; use one or the other");
	return -1;
}

int bs_age_recipients_add(struct bs_age_recipients *r, const char *age1_str, struct bs_err *err)
{
	char s[1024];
	uint8_t pk[AGE_KEY_LEN];
	const char *why = NULL;

	if (r->passphrase)
		return passphrase_conflict(err);
	if (trim_copy(age1_str, strlen(age1_str), s, sizeof(s)) < 0 ||
	    parse_recipient(s, pk, &why) < 0) {
		if (quotable(s))
			bs_err_set(err, BS_ERR_CONFIG, "invalid age recipient '%.100s': %s", s,
				   why ? why : "too long");
		else
			bs_err_set(err, BS_ERR_CONFIG, "invalid age recipient: %s", why ? why : "too long");
		OPENSSL_cleanse(s, sizeof(s));
		bs_err_hint(err, "a recipient is an age1... public key, as printed by "
				 "'backstop keygen' or 'age-keygen -y'");
		return -1;
	}
	return recipients_push(r, pk, err);
}

/* Call fn for each key line of buf; errors name path:line.  Lines of a
 * secret file are never quoted in errors; neither is anything that looks
 * like a secret key in a recipients file. */
static int for_each_key_line(const char *path, const char *buf, size_t len, int secret,
			     int (*fn)(void *ctx, const char *key, const char **why, struct bs_err *err),
			     void *ctx, size_t *nkeys, struct bs_err *err)
{
	size_t pos = 0;
	int line = 0, rc = 0;
	char s[1024];

	*nkeys = 0;
	while (pos < len && rc == 0) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		const char *why = NULL;

		line++;
		if (trim_copy(buf + pos, n, s, sizeof(s)) < 0) {
			rc = bs_err_set(err, BS_ERR_CONFIG, "%s:%d: line too long", path, line);
			break;
		}
		pos += n + (nl ? 1 : 0);
		if (s[0] == '\0' || s[0] == '#')
			continue;
		rc = fn(ctx, s, &why, err);
		if (rc == 0)
			(*nkeys)++;
		else if (!why)
			bs_err_prefix(err, "%s:%d", path, line);
		else if (secret)
			bs_err_set(err, BS_ERR_CONFIG, "%s:%d: invalid identity: %s", path, line, why);
		else if (!quotable(s))
			bs_err_set(err, BS_ERR_CONFIG, "%s:%d: invalid recipient: %s", path, line, why);
		else
			bs_err_set(err, BS_ERR_CONFIG, "%s:%d: invalid recipient '%.100s': %s", path,
				   line, s, why);
	}
	OPENSSL_cleanse(s, sizeof(s));
	return rc;
}

static int recipient_line(void *ctx, const char *key, const char **why, struct bs_err *err)
{
	uint8_t pk[AGE_KEY_LEN];

	if (parse_recipient(key, pk, why) < 0)
		return -1;
	return recipients_push(ctx, pk, err);
}

static int read_plain_file(const char *path, char **out, size_t *out_len, struct bs_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	size_t len = 0, cap = 4096;
	char *buf = NULL;

	if (fd < 0)
		return bs_err_sys(err, BS_ERR_CONFIG, errno, "unable to open recipients file '%s'", path);
	buf = malloc(cap + 1);
	if (!buf)
		goto nomem;
	for (;;) {
		ssize_t n;
		if (len == cap) {
			char *nb;
			if (cap >= KEY_FILE_MAX) {
				close(fd);
				free(buf);
				return bs_err_set(err, BS_ERR_CONFIG, "recipients file '%s' is larger than %d bytes",
						  path, KEY_FILE_MAX);
			}
			cap *= 2;
			nb = realloc(buf, cap + 1);
			if (!nb)
				goto nomem;
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			free(buf);
			return bs_err_sys(err, BS_ERR_CONFIG, e, "unable to read recipients file '%s'", path);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	return 0;
nomem:
	close(fd);
	free(buf);
	return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
}

int bs_age_recipients_load_file(struct bs_age_recipients *r, const char *path, struct bs_err *err)
{
	char *buf = NULL;
	size_t len = 0, nkeys = 0;
	int rc;

	if (r->passphrase)
		return passphrase_conflict(err);
	if (read_plain_file(path, &buf, &len, err) < 0)
		return -1;
	rc = for_each_key_line(path, buf, len, 0, recipient_line, r, &nkeys, err);
	free(buf);
	if (rc == 0 && nkeys == 0) {
		bs_err_set(err, BS_ERR_CONFIG, "recipients file '%s' contains no recipient", path);
		bs_err_hint(err, "add one age1... public key per line");
		return -1;
	}
	return rc;
}

int bs_age_recipients_set_passphrase(struct bs_age_recipients *r, const char *pass,
				     struct bs_err *err)
{
	char *copy;

	if (r->n > 0)
		return passphrase_conflict(err);
	if (!pass || !*pass)
		return bs_err_set(err, BS_ERR_CONFIG, "empty passphrase");
	bs_secret_protect_process();
	copy = strdup(pass);
	if (!copy)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	bs_secret_free(r->passphrase);
	r->passphrase = copy;
	return 0;
}

size_t bs_age_recipients_count(const struct bs_age_recipients *r)
{
	return r ? r->n : 0;
}

const char *bs_age_recipients_get(const struct bs_age_recipients *r, size_t i)
{
	return r && i < r->n ? r->strs[i] : NULL;
}

int bs_age_recipients_has_passphrase(const struct bs_age_recipients *r)
{
	return r && r->passphrase != NULL;
}

void bs_age_recipients_set_scrypt_log_n(struct bs_age_recipients *r, int log_n)
{
	r->scrypt_log_n = log_n;
}

/* ---- identities ---- */

struct bs_age_identities *bs_age_identities_new(void)
{
	return calloc(1, sizeof(struct bs_age_identities));
}

void bs_age_identities_free(struct bs_age_identities *ids)
{
	size_t i;

	if (!ids)
		return;
	if (ids->x)
		OPENSSL_cleanse(ids->x, ids->cap * sizeof(*ids->x));
	free(ids->x);
	for (i = 0; i < ids->npass; i++)
		bs_secret_free(ids->pass[i]);
	free(ids->pass);
	free(ids);
}

static int identity_push(struct bs_age_identities *ids, const uint8_t sk[AGE_KEY_LEN],
			 struct bs_err *err)
{
	struct age_x25519_id *id;
	size_t i;

	for (i = 0; i < ids->n; i++)
		if (CRYPTO_memcmp(ids->x[i].sk, sk, AGE_KEY_LEN) == 0)
			return 0;
	if (ids->n == ids->cap) {
		/* not realloc: the old block holds secrets and must be wiped */
		size_t ncap = ids->cap ? ids->cap * 2 : 4;
		struct age_x25519_id *nx = calloc(ncap, sizeof(*nx));
		if (!nx)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		if (ids->x) {
			memcpy(nx, ids->x, ids->n * sizeof(*nx));
			OPENSSL_cleanse(ids->x, ids->cap * sizeof(*ids->x));
			free(ids->x);
		}
		ids->x = nx;
		ids->cap = ncap;
	}
	id = &ids->x[ids->n];
	memcpy(id->sk, sk, AGE_KEY_LEN);
	if (age_x25519_public(sk, id->pk, err) < 0) {
		OPENSSL_cleanse(id, sizeof(*id));
		return -1;
	}
	encode_recipient(id->pk, id->recipient, sizeof(id->recipient));
	ids->n++;
	return 0;
}

static int identity_line(void *ctx, const char *key, const char **why, struct bs_err *err)
{
	uint8_t sk[AGE_KEY_LEN];
	int rc;

	if (parse_identity(key, sk, why) < 0)
		return -1;
	rc = identity_push(ctx, sk, err);
	OPENSSL_cleanse(sk, sizeof(sk));
	return rc;
}

int bs_age_identities_add(struct bs_age_identities *ids, const char *secret_key, struct bs_err *err)
{
	char s[1024];
	const char *why = NULL;
	size_t n = strlen(secret_key);
	int rc;

	bs_secret_protect_process();
	if (trim_copy(secret_key, n, s, sizeof(s)) < 0) {
		why = "too long";
		rc = -1;
	} else {
		rc = identity_line(ids, s, &why, err);
	}
	OPENSSL_cleanse(s, sizeof(s));
	if (rc < 0 && why) {
		bs_err_set(err, BS_ERR_CONFIG, "invalid age identity: %s", why);
		bs_err_hint(err, "an identity is an AGE-SECRET-KEY-1... line, as written by "
				 "'backstop keygen' or 'age-keygen'");
	}
	return rc;
}

int bs_age_identities_load_file(struct bs_age_identities *ids, const char *path,
				struct bs_err *err)
{
	char *buf = NULL;
	size_t len = 0, nkeys = 0;
	int rc;

	if (bs_secret_read_file(path, "identity file", KEY_FILE_MAX,
				BS_SECRET_FOLLOW | BS_SECRET_STREAM, &buf, &len, err) < 0)
		return -1;
	if (bs_age_is_encrypted(buf, len)) {
		bs_secret_free(buf);
		bs_err_set(err, BS_ERR_CONFIG, "identity file '%s' is itself age-encrypted", path);
		bs_err_hint(err, "passphrase-protected identity files are not supported; decrypt it "
				 "with 'age -d' to a file with mode 0600");
		return -1;
	}
	rc = for_each_key_line(path, buf, len, 1, identity_line, ids, &nkeys, err);
	bs_secret_free(buf);
	if (rc == 0 && nkeys == 0) {
		bs_err_set(err, BS_ERR_CONFIG, "identity file '%s' contains no identity", path);
		bs_err_hint(err, "expected an AGE-SECRET-KEY-1... line, as written by 'backstop keygen'");
		return -1;
	}
	return rc;
}

int bs_age_identities_add_passphrase(struct bs_age_identities *ids, const char *pass,
				     struct bs_err *err)
{
	char *copy;

	if (!pass || !*pass)
		return bs_err_set(err, BS_ERR_CONFIG, "empty passphrase");
	bs_secret_protect_process();
	if (ids->npass == ids->passcap) {
		size_t ncap = ids->passcap ? ids->passcap * 2 : 2;
		char **np = realloc(ids->pass, ncap * sizeof(*np)); /* pointers only */
		if (!np)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		ids->pass = np;
		ids->passcap = ncap;
	}
	copy = strdup(pass);
	if (!copy)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	ids->pass[ids->npass++] = copy;
	return 0;
}

size_t bs_age_identities_count(const struct bs_age_identities *ids)
{
	return ids ? ids->n : 0;
}

const char *bs_age_identities_recipient(const struct bs_age_identities *ids, size_t i)
{
	return ids && i < ids->n ? ids->x[i].recipient : NULL;
}

void bs_age_identities_note_recipients(struct bs_age_identities *ids, const char *const *recipients,
				       size_t n)
{
	size_t i, j;

	if (!ids)
		return;
	for (i = 0; i < ids->n; i++)
		for (j = 0; j < n; j++)
			if (recipients[j] && strcasecmp(recipients[j], ids->x[i].recipient) == 0)
				ids->x[i].listed = 1;
}

/* ---- key generation and identity files ---- */

int bs_age_keygen(char **identity_out, char **recipient_out, struct bs_err *err)
{
	uint8_t sk[AGE_KEY_LEN], pk[AGE_KEY_LEN];
	char id[128], rcpt[96];
	int rc = -1;

	*identity_out = *recipient_out = NULL;
	bs_secret_protect_process();
	if (age_x25519_generate(sk, pk, err) < 0)
		goto out;
	age_bech32_encode(AGE_HRP_IDENTITY, sk, AGE_KEY_LEN, 1, id, sizeof(id));
	encode_recipient(pk, rcpt, sizeof(rcpt));
	*identity_out = strdup(id);
	*recipient_out = strdup(rcpt);
	if (!*identity_out || !*recipient_out) {
		bs_secret_free(*identity_out);
		free(*recipient_out);
		*identity_out = *recipient_out = NULL;
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(sk, sizeof(sk));
	OPENSSL_cleanse(id, sizeof(id));
	return rc;
}

int bs_age_identity_to_recipient(const char *identity, char **recipient_out, struct bs_err *err)
{
	struct bs_age_identities *ids = bs_age_identities_new();
	int rc = -1;

	*recipient_out = NULL;
	if (!ids)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	if (bs_age_identities_add(ids, identity, err) == 0) {
		*recipient_out = strdup(ids->x[0].recipient);
		rc = *recipient_out ? 0 : bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	bs_age_identities_free(ids);
	return rc;
}

int bs_age_identity_file_text(const char *identity, const char *recipient, time_t created,
			      char **out, struct bs_err *err)
{
	char ts[40], *buf;
	struct tm tm;
	size_t need;
	long off;

	/* RFC 3339 in local time, "Z" for UTC, like age-keygen */
	if (!localtime_r(&created, &tm) || !strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm))
		return bs_err_set(err, BS_ERR_INTERNAL, "unable to format the creation time");
	off = tm.tm_gmtoff / 60;
	if (off == 0)
		strcat(ts, "Z");
	else
		snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), "%c%02ld:%02ld", off < 0 ? '-' : '+',
			 labs(off) / 60, labs(off) % 60);
	need = strlen(ts) + strlen(recipient) + strlen(identity) + 64;
	buf = malloc(need);
	if (!buf)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	snprintf(buf, need, "# created: %s\n# public key: %s\n%s\n", ts, recipient, identity);
	*out = buf;
	return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int bs_age_write_secret_file(const char *path, const char *text, struct bs_err *err)
{
	char *dcopy = NULL;
	int fd, dfd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		int e = errno;
		bs_err_sys(err, e == EEXIST ? BS_ERR_REFUSED : BS_ERR_IO, e,
			   "unable to create identity file '%s'", path);
		if (e == EEXIST)
			bs_err_hint(err, "refusing to overwrite an existing file (it may be the only key "
					 "to existing archives); choose another name");
		return -1;
	}
	/* the umask may only have removed bits; make sure nobody else can read */
	if (fchmod(fd, 0600) < 0 || write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
		int e = errno;
		close(fd);
		unlink(path);
		return bs_err_sys(err, BS_ERR_IO, e, "unable to write identity file '%s'", path);
	}
	if (close(fd) < 0) {
		int e = errno;
		unlink(path);
		return bs_err_sys(err, BS_ERR_IO, e, "unable to write identity file '%s'", path);
	}
	dcopy = strdup(path);
	if (dcopy) {
		dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
		free(dcopy);
	}
	return 0;
}
