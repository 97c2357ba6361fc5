/*
 * approval.c - sign-offs: the canonical statement (gate.h), signing it
 * with the approver's own SSH key through `ssh-keygen -Y sign`, and
 * verifying a recorded sign-off against a role (sshsig.h, OpenSSL).
 */
#include "gate/gate_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/catalog.h"
#include "common/duration.h"
#include "common/escape.h"
#include "common/human.h"
#include "common/run.h"

#define FIELD_MAX 256             /* release, commit, digest, gate */
#define CLOCK_SKEW 300            /* seconds a sign-off may be dated ahead of us */
#define SIG_MAX (16 * 1024)

void bs_gate_approval_init(struct bs_gate_approval *a)
{
	memset(a, 0, sizeof(*a));
}

void bs_gate_approval_release(struct bs_gate_approval *a)
{
	if (!a)
		return;
	free(a->gate);
	free(a->release);
	free(a->commit);
	free(a->digest);
	free(a->reason);
	free(a->actor);
	free(a->signature);
	free(a->key);
	bs_gate_approval_init(a);
}

/* One line of text: no control characters (tab included), at most max bytes. */
static int line_ok(const char *what, const char *s, size_t max, int required, struct bs_err *err)
{
	if (!s || !*s) {
		if (required)
			return bs_err_set(err, BS_ERR_USAGE, "the sign-off's %s is empty", what);
		return 0;
	}
	if (strlen(s) > max)
		return bs_err_set(err, BS_ERR_USAGE, "the sign-off's %s is longer than %zu bytes", what, max);
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		uint32_t cp;
		size_t n = bs_utf8_seq(p, &cp);

		if (n == 0)
			return bs_err_set(err, BS_ERR_USAGE, "the sign-off's %s is not valid UTF-8", what);
		/* C0, DEL, C1, and the bidirectional overrides that make text
		 * read other than it is */
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || (cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069))
			return bs_err_set(err, BS_ERR_USAGE,
					  "the sign-off's %s holds a control character (one line of text)", what);
		p += n;
	}
	if (s[0] == ' ' || s[strlen(s) - 1] == ' ')
		return bs_err_set(err, BS_ERR_USAGE, "the sign-off's %s starts or ends with a space", what);
	return 0;
}

int bs_gate_statement(const struct bs_gate_approval *a, char **out, struct bs_err *err)
{
	char t[32];
	size_t n;

	*out = NULL;
	if (line_ok("gate", a->gate, FIELD_MAX, 1, err) < 0 || line_ok("release", a->release, FIELD_MAX, 1, err) < 0 ||
	    line_ok("commit", a->commit, FIELD_MAX, 0, err) < 0 || line_ok("digest", a->digest, FIELD_MAX, 0, err) < 0 ||
	    line_ok("reason", a->reason, BS_GATE_REASON_MAX, 1, err) < 0)
		return -1;
	if (a->time <= 0)
		return bs_err_set(err, BS_ERR_USAGE, "the sign-off has no time");
	bs_time_iso(a->time, t);
	n = strlen(a->gate) + strlen(a->release) + (a->commit ? strlen(a->commit) : 0) +
	    (a->digest ? strlen(a->digest) : 0) + strlen(a->reason) + strlen(t) + 128;
	if (!(*out = malloc(n)))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	snprintf(*out, n, "backstop gate approval v1\ngate: %s\nrelease: %s\ncommit: %s\ndigest: %s\ntime: %s\nreason: %s\n",
		 a->gate, a->release, a->commit ? a->commit : "", a->digest ? a->digest : "", t, a->reason);
	return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t w = write(fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

int bs_gate_approval_sign(struct bs_gate_approval *a, const char *key_path, struct bs_err *err)
{
	const char *tmp = getenv("TMPDIR");
	char dir[4096], msg[4200], sig[4300], agent[4200];
	const char *argv[] = { "ssh-keygen", "-q", "-Y", "sign", "-f", key_path, "-n", BS_GATE_SIG_NAMESPACE, msg, NULL };
	const char *env[] = { NULL, NULL };
	char *stmt = NULL;
	struct bs_run r;
	int fd = -1, rc = -1;
	char *buf = NULL;
	ssize_t got;
	size_t len = 0;

	if (bs_gate_statement(a, &stmt, err) < 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s/backstop-approve-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		bs_err_sys(err, BS_ERR_IO, errno, "unable to make a temporary directory in '%s'", tmp && *tmp ? tmp : "/tmp");
		free(stmt);
		return -1;
	}
	snprintf(msg, sizeof(msg), "%s/statement", dir);
	snprintf(sig, sizeof(sig), "%s/statement.sig", dir);
	fd = open(msg, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write_all(fd, stmt, strlen(stmt)) < 0 || close(fd) < 0) {
		bs_err_sys(err, BS_ERR_IO, errno, "unable to write '%s'", msg);
		goto out;
	}
	fd = -1;
	bs_run_init(&r);
	r.argv = argv;
	r.env_policy = BS_RUN_ENV_MINIMAL;
	r.search_path = 1;
	if (getenv("SSH_AUTH_SOCK")) { /* a key held by ssh-agent */
		snprintf(agent, sizeof(agent), "SSH_AUTH_SOCK=%s", getenv("SSH_AUTH_SOCK"));
		env[0] = agent;
		r.env = env;
	}
	r.timeout_ms = 300000; /* a passphrase typed at the terminal */
	rc = bs_run_sync(&r, err);
	bs_run_release(&r);
	if (rc < 0) {
		bs_err_prefix(err, "unable to sign with '%s'", key_path);
		bs_err_hint(err, "the key is an OpenSSH ed25519 key (ssh-keygen -t ed25519), or its .pub with the key in ssh-agent");
		goto out;
	}
	rc = -1;
	if ((fd = open(sig, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0 || !(buf = malloc(SIG_MAX + 1))) {
		bs_err_sys(err, fd < 0 ? BS_ERR_IO : BS_ERR_NOMEM, errno, "unable to read the signature '%s'", sig);
		goto out;
	}
	while ((got = read(fd, buf + len, SIG_MAX - len)) > 0)
		len += (size_t)got;
	if (got < 0 || len == 0 || len == SIG_MAX) {
		bs_err_set(err, BS_ERR_FORMAT, "ssh-keygen wrote no usable signature to '%s'", sig);
		goto out;
	}
	buf[len] = '\0';
	a->signature = buf;
	buf = NULL;
	if (bs_sshsig_verify(a->signature, len, BS_GATE_SIG_NAMESPACE, stmt, strlen(stmt), &a->signer, err) < 0) {
		bs_err_prefix(err, "the signature ssh-keygen made with '%s' does not verify", key_path);
		goto out;
	}
	a->has_signer = 1;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(stmt);
	unlink(sig);
	unlink(msg);
	rmdir(dir);
	return rc;
}

const struct bs_gate_signer *bs_gate_role_signer(const struct bs_gate_role *role, const struct bs_ssh_key *key)
{
	for (size_t i = 0; i < role->nkeys; i++)
		if (memcmp(role->keys[i].s.key.pk, key->pk, sizeof(key->pk)) == 0 &&
		    bs_allowed_signer_ns_ok(&role->keys[i].s, BS_GATE_SIG_NAMESPACE))
			return &role->keys[i];
	return NULL;
}

static int same(const char *want, const char *have)
{
	return !want || (have && strcmp(want, have) == 0);
}

enum bs_gate_signoff bs_gate_approval_verify(const struct bs_gate_approval *a, const struct bs_gate_role *role,
					     const struct bs_gate_release *rel, time_t now, int64_t max_age_ms,
					     const struct bs_gate_signer **signer, char *who, size_t n, char *why,
					     size_t whyn)
{
	const struct bs_gate_signer *s;
	struct bs_ssh_key key;
	struct bs_err e;
	char *stmt = NULL;
	char age[32], lim[BS_DURATION_FMT_MAX];
	int64_t secs;

	who[0] = why[0] = '\0';
	*signer = NULL;
	bs_err_init(&e);
	if (!a->signature || bs_gate_statement(a, &stmt, &e) < 0) {
		snprintf(why, whyn, "%s", a->signature ? e.msg : "no signature");
		return BS_SIGNOFF_BAD_SIGNATURE;
	}
	if (bs_sshsig_verify(a->signature, strlen(a->signature), BS_GATE_SIG_NAMESPACE, stmt, strlen(stmt), &key, &e) <
	    0) {
		free(stmt);
		snprintf(why, whyn, "%s", e.msg);
		return BS_SIGNOFF_BAD_SIGNATURE;
	}
	free(stmt);
	if (!(s = bs_gate_role_signer(role, &key))) {
		snprintf(why, whyn, "key %s is not a signer of role '%s'", key.fingerprint, role->name);
		return BS_SIGNOFF_NOT_SIGNER;
	}
	*signer = s;
	snprintf(who, n, "%s", s->s.principals[0]);
	if (strcmp(rel->release, a->release) != 0 || !same(rel->commit, a->commit) || !same(rel->digest, a->digest)) {
		snprintf(why, whyn, "%s signed release %s%s%s%s%s", who, a->release, a->commit ? " commit " : "",
			 a->commit ? a->commit : "", a->digest ? " digest " : "", a->digest ? a->digest : "");
		return BS_SIGNOFF_OTHER_RELEASE;
	}
	secs = (int64_t)now - (int64_t)a->time;
	if (secs < -CLOCK_SKEW) {
		bs_human_ms(-secs * 1000, age, sizeof(age));
		snprintf(why, whyn, "%s's sign-off is dated %s ahead", who, age);
		return BS_SIGNOFF_FUTURE;
	}
	if (secs * 1000 > max_age_ms) {
		bs_human_ms(secs * 1000, age, sizeof(age));
		bs_duration_format(max_age_ms / 1000, lim, sizeof(lim));
		snprintf(why, whyn, "%s signed %s ago (limit %s)", who, age, lim);
		return BS_SIGNOFF_EXPIRED;
	}
	return BS_SIGNOFF_OK;
}

int bs_gate_signer_is(const struct bs_gate_signer *s, const char *name)
{
	for (size_t i = 0; name && *name && i < s->s.nprincipals; i++) {
		const char *p = s->s.principals[i], *at = strchr(p, '@');
		if (strcasecmp(p, name) == 0 ||
		    (at && (size_t)(at - p) == strlen(name) && strncasecmp(p, name, (size_t)(at - p)) == 0))
			return 1;
	}
	return 0;
}

int bs_gate_signer_same(const struct bs_gate_signer *a, const struct bs_gate_signer *b)
{
	if (a == b)
		return 1;
	for (size_t i = 0; i < a->s.nprincipals; i++)
		for (size_t k = 0; k < b->s.nprincipals; k++)
			if (strcasecmp(a->s.principals[i], b->s.principals[k]) == 0)
				return 1;
	return 0;
}
