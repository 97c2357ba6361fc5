/* keys_test.c - lib/crypt/keys.c and secret.c: parsing recipients and
 * identities, key files (comments, errors naming path:line, permission
 * refusal), key generation, the identity file format and its safe creation. */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "crypt/age.h"

/* the age spec's example key pair */
#define SPEC_ID "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"
#define SPEC_RCPT "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"
/* the CCTV vectors' key */
#define CCTV_ID "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0"

static char tmpdir[64];

static const char *tmp(const char *name)
{
	static char path[4][256];
	static int k;

	k = (k + 1) % 4;
	snprintf(path[k], sizeof(path[k]), "%s/%s", tmpdir, name);
	return path[k];
}

static void put(const char *path, const char *text, mode_t mode)
{
	FILE *f;

	unlink(path);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

TEST(recipient_strings)
{
	struct bs_age_recipients *r = bs_age_recipients_new();
	struct bs_err err;

	bs_err_init(&err);
	CHECK_INT(bs_age_recipients_add(r, "  " SPEC_RCPT "\n", &err), 0);
	CHECK_INT(bs_age_recipients_count(r), 1);
	CHECK_STR(bs_age_recipients_get(r, 0), SPEC_RCPT);
	CHECK(!bs_age_recipients_has_passphrase(r));

	/* a changed character breaks the checksum */
	CHECK_INT(bs_age_recipients_add(r, "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwq", &err), -1);
	CHECK_INT(err.code, BS_ERR_CONFIG);
	CHECK(strstr(err.msg, "invalid age recipient 'age1zvk") != NULL);
	CHECK(strstr(err.msg, "checksum") != NULL);
	CHECK(strstr(err.hint, "backstop keygen") != NULL);
	/* age requires lowercase recipients */
	CHECK_INT(bs_age_recipients_add(r, "AGE1ZVKYG2LQZRAA2LNJVQEJ32NKUU0UES2S82HZRYE869XEEXVN73EQUNUJWJ", &err), -1);
	CHECK_INT(bs_age_recipients_add(r, "age1pq1x34nzsvr0rxjsgdn8zgyhfe8j7ceq5r9rdelk", &err), -1);
	CHECK(strstr(err.msg, "post-quantum") != NULL);
	CHECK_INT(bs_age_recipients_add(r, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI user@host", &err), -1);
	CHECK(strstr(err.msg, "SSH") != NULL);
	CHECK_INT(bs_age_recipients_add(r, "age1yubikey1qwe", &err), -1);
	CHECK(strstr(err.msg, "plugin") != NULL);
	/* a secret key given by mistake is refused and never echoed */
	CHECK_INT(bs_age_recipients_add(r, SPEC_ID, &err), -1);
	CHECK(strstr(err.msg, "secret key") != NULL);
	CHECK(strstr(err.msg, "GFPYYSJZ") == NULL);
	CHECK_INT(bs_age_recipients_count(r), 1);
	bs_age_recipients_free(r);
}

TEST(recipients_file)
{
	struct bs_age_recipients *r = bs_age_recipients_new();
	struct bs_err err;
	char *id = NULL, *rc = NULL, text[512];
	const char *path = tmp("recipients.txt");

	bs_err_init(&err);
	CHECK_INT(bs_age_keygen(&id, &rc, &err), 0);
	snprintf(text, sizeof(text),
		 "# team keys\n\n  %s  \r\n# ops\n%s\n\n", SPEC_RCPT, rc);
	put(path, text, 0644); /* public keys: no permission rule */
	CHECK_INT(bs_age_recipients_load_file(r, path, &err), 0);
	CHECK_INT(bs_age_recipients_count(r), 2);
	CHECK_STR(bs_age_recipients_get(r, 1), rc);

	put(path, "# keys\n" SPEC_RCPT "\nage1notakey\n", 0644);
	CHECK_INT(bs_age_recipients_load_file(r, path, &err), -1);
	CHECK_INT(err.code, BS_ERR_CONFIG);
	snprintf(text, sizeof(text), "%s:3: invalid recipient 'age1notakey'", path);
	CHECK(strncmp(err.msg, text, strlen(text)) == 0);

	put(path, "# keys\n" SPEC_ID "\n", 0600);
	CHECK_INT(bs_age_recipients_load_file(r, path, &err), -1);
	CHECK(strstr(err.msg, ":2: invalid recipient: this is a secret key") != NULL);
	CHECK(strstr(err.msg, "GFPYYSJZ") == NULL);

	put(path, "# nothing here\n\n", 0644);
	CHECK_INT(bs_age_recipients_load_file(r, path, &err), -1);
	CHECK(strstr(err.msg, "contains no recipient") != NULL);

	CHECK_INT(bs_age_recipients_load_file(r, tmp("missing.txt"), &err), -1);
	CHECK(strstr(err.msg, "missing.txt") != NULL);
	CHECK_INT(err.sys_errno, ENOENT);
	bs_secret_free(id);
	free(rc);
	bs_age_recipients_free(r);
}

TEST(identities_file)
{
	struct bs_age_identities *ids = bs_age_identities_new();
	struct bs_err err;
	char text[512], *cctv_rcpt = NULL;
	const char *path = tmp("key.txt"), *link = tmp("key-link.txt");

	bs_err_init(&err);
	put(path,
	    "# created: 2026-11-23T02:15:00Z\n# public key: " SPEC_RCPT "\n" SPEC_ID "\n\n"
	    "# second key\r\n" CCTV_ID "\r\n" SPEC_ID "\n",
	    0600);
	CHECK_INT(bs_age_identities_load_file(ids, path, &err), 0);
	CHECK_INT(bs_age_identities_count(ids), 2); /* the duplicate is ignored */
	CHECK_STR(bs_age_identities_recipient(ids, 0), SPEC_RCPT);
	CHECK_INT(bs_age_identity_to_recipient(CCTV_ID, &cctv_rcpt, &err), 0);
	CHECK_STR(bs_age_identities_recipient(ids, 1), cctv_rcpt);
	CHECK(bs_age_identities_recipient(ids, 2) == NULL);

	/* symlinks are followed (secret mounts use them) */
	unlink(link);
	CHECK_INT(symlink(path, link), 0);
	CHECK_INT(bs_age_identities_load_file(ids, link, &err), 0);

	/* readable by group or others: refused, with the fix */
	chmod(path, 0640);
	CHECK_INT(bs_age_identities_load_file(ids, path, &err), -1);
	CHECK_INT(err.code, BS_ERR_SECRET_PERM);
	CHECK(strstr(err.msg, "mode 0640") != NULL);
	snprintf(text, sizeof(text), "chmod 600 %s", path);
	CHECK_STR(err.hint, text);
	CHECK_INT(bs_err_exit_code(&err), 2);
	chmod(path, 0604);
	CHECK_INT(bs_age_identities_load_file(ids, path, &err), -1);
	CHECK_INT(err.code, BS_ERR_SECRET_PERM);

	/* a bad line: path:line, and the line itself is never quoted */
	put(path, "# key\n\nAGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEQ\n", 0600);
	CHECK_INT(bs_age_identities_load_file(ids, path, &err), -1);
	CHECK_INT(err.code, BS_ERR_CONFIG);
	snprintf(text, sizeof(text), "%s:3: invalid identity: invalid checksum", path);
	CHECK_STR(err.msg, text);
	CHECK(strstr(err.msg, "GFPYYSJZ") == NULL);

	put(path, "AGE-SECRET-KEY-PQ-1XX76JRALNLXDMEW0CRK45QMCCH4X06SE84UN3VPM33W6HWDX0H3SK3ZQFR\n", 0600);
	CHECK_INT(bs_age_identities_load_file(ids, path, &err), -1);
	CHECK(strstr(err.msg, ":1: invalid identity: post-quantum") != NULL);

	put(path, SPEC_RCPT "\n", 0600);
	CHECK_INT(bs_age_identities_load_file(ids, path, &err), -1);
	CHECK(strstr(err.msg, "public key (recipient), not an identity") != NULL);

	put(path, "# only comments\n", 0600);
	CHECK_INT(bs_age_identities_load_file(ids, path, &err), -1);
	CHECK(strstr(err.msg, "contains no identity") != NULL);

	put(path, "age-encryption.org/v1\n-> scrypt abc 18\n", 0600);
	CHECK_INT(bs_age_identities_load_file(ids, path, &err), -1);
	CHECK(strstr(err.msg, "itself age-encrypted") != NULL);

	CHECK_INT(bs_age_identities_load_file(ids, tmp("nope.txt"), &err), -1);
	CHECK_INT(err.code, BS_ERR_NOT_FOUND);
	CHECK_INT(bs_age_identities_count(ids), 2);

	/* identity strings */
	CHECK_INT(bs_age_identities_add(ids, "age-secret-key-1gfpyysjzgfpyysjzgfpyysjzgfpyysjzgfpyysjzgfpyysjzgfpq4egaex", &err), -1);
	CHECK(strstr(err.msg, "invalid age identity") != NULL);
	CHECK_INT(bs_age_identities_add_passphrase(ids, "", &err), -1);
	CHECK_INT(bs_age_identities_add_passphrase(ids, "x", &err), 0);
	CHECK_INT(bs_age_identities_count(ids), 2);
	free(cctv_rcpt);
	unlink(link);
	bs_age_identities_free(ids);
}

TEST(keygen_pairs)
{
	char *id = NULL, *rc = NULL, *again = NULL, *id2 = NULL, *rc2 = NULL;
	struct bs_err err;

	bs_err_init(&err);
	CHECK_INT(bs_age_keygen(&id, &rc, &err), 0);
	CHECK_INT(bs_age_keygen(&id2, &rc2, &err), 0);
	CHECK(strncmp(id, "AGE-SECRET-KEY-1", 16) == 0);
	CHECK_INT(strlen(id), 74);
	CHECK(strncmp(rc, "age1", 4) == 0);
	CHECK_INT(strlen(rc), 62);
	CHECK(strcmp(id, id2) != 0);
	CHECK_INT(bs_age_identity_to_recipient(id, &again, &err), 0);
	CHECK_STR(again, rc);
	bs_secret_free(id);
	bs_secret_free(id2);
	free(rc);
	free(rc2);
	free(again);
}

TEST(identity_file_text_like_age_keygen)
{
	char *text = NULL;
	struct bs_err err;
	time_t t = 1795400100; /* 2026-11-23T02:15:00Z */
	const char *old = getenv("TZ");
	char *saved = old ? strdup(old) : NULL;

	bs_err_init(&err);
	setenv("TZ", "UTC", 1);
	tzset();
	CHECK_INT(bs_age_identity_file_text(SPEC_ID, SPEC_RCPT, t, &text, &err), 0);
	CHECK_STR(text, "# created: 2026-11-23T02:15:00Z\n# public key: " SPEC_RCPT "\n" SPEC_ID "\n");
	bs_secret_free(text);
	setenv("TZ", "XST-05:30", 1); /* five and a half hours east of UTC */
	tzset();
	CHECK_INT(bs_age_identity_file_text(SPEC_ID, SPEC_RCPT, t, &text, &err), 0);
	CHECK(strncmp(text, "# created: 2026-11-23T07:45:00+05:30\n", 37) == 0);
	bs_secret_free(text);
	if (saved)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
}

TEST(write_secret_file)
{
	const char *path = tmp("new-key.txt"), *link = tmp("link-key.txt");
	struct bs_err err;
	struct stat st;
	mode_t old = umask(0);
	char buf[64] = "";
	FILE *f;

	bs_err_init(&err);
	unlink(path);
	CHECK_INT(bs_age_write_secret_file(path, "secret\n", &err), 0);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 07777, 0600);
	f = fopen(path, "r");
	CHECK(f && fgets(buf, sizeof(buf), f));
	if (f)
		fclose(f);
	CHECK_STR(buf, "secret\n");
	/* never overwrites */
	CHECK_INT(bs_age_write_secret_file(path, "other\n", &err), -1);
	CHECK_INT(err.code, BS_ERR_REFUSED);
	CHECK_INT(err.sys_errno, EEXIST);
	CHECK_INT(bs_err_exit_code(&err), 2);
	CHECK(strstr(err.hint, "refusing to overwrite") != NULL);
	/* never follows a symlink, even a dangling one */
	unlink(link);
	CHECK_INT(symlink(tmp("elsewhere.txt"), link), 0);
	CHECK_INT(bs_age_write_secret_file(link, "x\n", &err), -1);
	CHECK(access(tmp("elsewhere.txt"), F_OK) != 0);
	CHECK_INT(bs_age_write_secret_file(tmp("no/such/dir.txt"), "x\n", &err), -1);
	CHECK_INT(err.code, BS_ERR_IO);
	umask(old);
	unlink(link);
	unlink(path);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/bs-keys-test-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(recipient_strings);
	RUN(recipients_file);
	RUN(identities_file);
	RUN(keygen_pairs);
	RUN(identity_file_text_like_age_keygen);
	RUN(write_secret_file);
	nftw(tmpdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return DONE();
}
