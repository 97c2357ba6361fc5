/* sshsig_test.c - lib/gate/sshsig.c: OpenSSH public key lines,
 * allowed-signers entries and SSHSIG signatures, against vectors made with
 * OpenSSH 9.2p1's own tools:
 *
 *   ssh-keygen -t ed25519 -N '' -C release@backstop -f k
 *   ssh-keygen -t rsa -b 2048 -N '' -C rsa@x -f r
 *   printf 'backstop gate statement v1\nrelease=1.2.3\n' > msg
 *   ssh-keygen -Y sign -f k -n backstop-gate msg                      (SIG512)
 *   ssh-keygen -Y sign -f k -n backstop-gate -O hashalg=sha256 msg    (SIG256)
 *   ssh-keygen -Y sign -f k -n file msg                               (SIG_FILE_NS)
 *   ssh-keygen -Y sign -f r -n backstop-gate msg                      (SIG_RSA)
 *   ssh-keygen -lf k.pub                                              (PUB_FP)
 *
 * Only public material is here; the private keys were thrown away. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "crypt/age_int.h"
#include "gate/sshsig.h"

#define PUB_B64	 "AAAAC3NzaC1lZDI1NTE5AAAAINfIL9rVtilFvLoLo600UM/sWOX8eLH+ru0NsPXP6XJX"
#define PUB_LINE "ssh-ed25519 " PUB_B64 " release@backstop"
#define PUB_FP	 "SHA256:YWurh3/SwEu/0ikwwtK39IQ9m6JoNdRmk0ZtK3nZdJY"

#define RSA_LINE                                                                                             \
	"ssh-rsa "                                                                                           \
	"AAAAB3NzaC1yc2EAAAADAQABAAABAQDeXJkHhqqjQoX87yofmqOWQQQyFrIwwIItE6J6cFHJGiWDBDdRNZQCPTsQK3cWRIA"    \
	"0zrz/7Hx2vnH/"                                                                                      \
	"5h+dyEVQyB3KS1ITPSTAURl4W3TxiWCOjp9yMd4wZczYt3SzDslGBcyGefFDTBBQLDX9Dbx7LYXYnkaqPCQG0O+te"          \
	"mFVfipoSG18TbU5mOFXvJZeaW21rJo1TjWGLqZzh6ZQKojIzrkeaR2oGDwKexiZJe4+pW1x7fdkGAToK6CsYBZQSyvh/"       \
	"d+F+gVlJKj"                                                                                         \
	"CK3QUhBcAM5d+Ggt1RNJoToGYhPjZwsMqW+9+oG6fd9WPYBafA3UkvdG/dtVyIma8N2D0oWl/ rsa@x"

#define NS  "backstop-gate"
#define MSG "backstop gate statement v1\nrelease=1.2.3\n"

static const char SIG512[] = "-----BEGIN SSH SIGNATURE-----\n"
			     "U1NIU0lHAAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAg18gv2tW2KUW8ugujrTRQz+xY5f\n"
			     "x4sf6u7Q2w9c/pclcAAAANYmFja3N0b3AtZ2F0ZQAAAAAAAAAGc2hhNTEyAAAAUwAAAAtz\n"
			     "c2gtZWQyNTUxOQAAAECSzPQ98y8a5nP6OrxGLb8ul0rK1dhMDEfg6JrbYIseewWThy/56d\n"
			     "4fFBUGz5yu84vncJnKZjnywoBQlK3pSy8G\n"
			     "-----END SSH SIGNATURE-----\n";

static const char SIG256[] = "-----BEGIN SSH SIGNATURE-----\n"
			     "U1NIU0lHAAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAg18gv2tW2KUW8ugujrTRQz+xY5f\n"
			     "x4sf6u7Q2w9c/pclcAAAANYmFja3N0b3AtZ2F0ZQAAAAAAAAAGc2hhMjU2AAAAUwAAAAtz\n"
			     "c2gtZWQyNTUxOQAAAEDSuX3inFTX8xMAXsMwsCWWOparRVyyhZAbkgNJoxBkNKI9a0QygH\n"
			     "KOpjabdk3XuS357ec3IvHQWHJyIglYAgsA\n"
			     "-----END SSH SIGNATURE-----\n";

static const char SIG_FILE_NS[] = "-----BEGIN SSH SIGNATURE-----\n"
				  "U1NIU0lHAAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAg18gv2tW2KUW8ugujrTRQz+xY5f\n"
				  "x4sf6u7Q2w9c/pclcAAAAEZmlsZQAAAAAAAAAGc2hhNTEyAAAAUwAAAAtzc2gtZWQyNTUx\n"
				  "OQAAAEAQIQT/e6yRjvymmPBhfVBpzX3y4zadaoUST7n8aA3Csl2jJ0uj7Snkg6dk1PzH7Q\n"
				  "jDQgWsr+oumMPkoSfpBqYI\n"
				  "-----END SSH SIGNATURE-----\n";

static const char SIG_RSA[] = "-----BEGIN SSH SIGNATURE-----\n"
			      "U1NIU0lHAAAAAQAAARcAAAAHc3NoLXJzYQAAAAMBAAEAAAEBAN5cmQeGqqNChfzvKh+ao5\n"
			      "ZBBDIWsjDAgi0TonpwUckaJYMEN1E1lAI9OxArdxZEgDTOvP/sfHa+cf/mH53IRVDIHcpL\n"
			      "UhM9JMBRGXhbdPGJYI6On3Ix3jBlzNi3dLMOyUYFzIZ58UNMEFAsNf0NvHsthdieRqo8JA\n"
			      "bQ7616YVV+KmhIbXxNtTmY4Ve8ll5pbbWsmjVONYYupnOHplAqiMjOuR5pHagYPAp7GJkl\n"
			      "7j6lbXHt92QYBOgroKxgFlBLK+H934X6BWUkqMIrdBSEFwAzl34aC3VE0mhOgZiE+NnCwy\n"
			      "pb736gbp931Y9gFp8DdSS90b921XIiZrw3YPShaX8AAAANYmFja3N0b3AtZ2F0ZQAAAAAA\n"
			      "AAAGc2hhNTEyAAABFAAAAAxyc2Etc2hhMi01MTIAAAEAJEtursAQ0AZnY6APELiXnj5Cwz\n"
			      "j2hPpeLXKUajDqV64CZoBENt4+2a9iAmeDkfFpcdoQnJBYcsmMszZQAHH2denoC6uItlRs\n"
			      "+ybWsC0G3IoPZ27TlvBJRTqdO/QiGG7/vyD0F7Da3VIlZF+ubiNZPiTB8yXkD54rnmPNr3\n"
			      "qlrxkhxy8fR5fXDDcYxib0i7oeE+Et9IU8V/8gJsyGK6phSRGkJpNwScUs4YyUSz52kVdY\n"
			      "6POdQj0zreY8L9otJ/5jDOMRK8rEglcYJyFhw/S+hCWN+EvL2cjzen75m8WGTOZTGBOjWS\n"
			      "l5kMNnqbk7lcdupXitN0irrLgFzIT8lBbJlA==\n"
			      "-----END SSH SIGNATURE-----\n";

/* Offsets in SIG512's 183-byte blob (PROTOCOL.sshsig layout). */
#define OFF_VERSION 6	/* uint32 */
#define OFF_PK	    33	/* the 32 key bytes inside string(publickey) */
#define OFF_HASHALG 90	/* "sha512" */
#define OFF_SIGTYPE 104 /* "ssh-ed25519" inside string(signature) */
#define OFF_SIG	    119 /* the 64 signature bytes */
#define BLOB_LEN    183

static int verify(const char *armored, size_t len, const char *ns, const char *msg, struct bs_ssh_key *k,
		  struct bs_err *err)
{
	bs_err_clear(err);
	return bs_sshsig_verify(armored, len, ns, msg, strlen(msg), k, err);
}

static int verify_s(const char *armored, const char *ns, struct bs_ssh_key *k, struct bs_err *err)
{
	return verify(armored, strlen(armored), ns, MSG, k, err);
}

/* The blob inside an armored signature (whitespace and padding dropped). */
static size_t dearmor(const char *armored, uint8_t *out, size_t cap)
{
	const char *p = strchr(armored, '\n') + 1, *end = strstr(armored, "-----END");
	char b64[8192];
	size_t n = 0, len = 0;

	for (; p < end; p++)
		if (*p != '\n' && *p != '=')
			b64[n++] = *p;
	if (bs_b64_decode(b64, n, out, cap, &len) != 0)
		return 0;
	return len;
}

/* Armor blob as ssh-keygen does: padded base64, 70 columns. */
static char *armor(const uint8_t *blob, size_t n)
{
	char *b64 = malloc(bs_b64_len(n) + 4), *out = malloc(bs_b64_len(n) * 2 + 128), *o = out;
	size_t len, i;

	bs_b64_encode(blob, n, b64);
	len = strlen(b64);
	while (len % 4)
		b64[len++] = '=';
	o += sprintf(o, "-----BEGIN SSH SIGNATURE-----\n");
	for (i = 0; i < len; i += 70) {
		size_t k = len - i < 70 ? len - i : 70;
		memcpy(o, b64 + i, k);
		o += k;
		*o++ = '\n';
	}
	sprintf(o, "-----END SSH SIGNATURE-----\n");
	free(b64);
	return out;
}

/* Verify blob (n bytes) re-armored; returns the result, err filled. */
static int verify_blob(const uint8_t *blob, size_t n, struct bs_err *err)
{
	struct bs_ssh_key k;
	char *a = armor(blob, n);
	int rc = verify_s(a, NS, &k, err);

	free(a);
	return rc;
}

static void sig512_blob(uint8_t blob[BLOB_LEN + 16])
{
	size_t n = dearmor(SIG512, blob, BLOB_LEN + 16);

	if (n != BLOB_LEN)
		printf("#   SIG512 blob is %zu bytes\n", n);
}

/* ---- public key lines ---- */

TEST(pubkey_parse_matches_ssh_keygen_fingerprint)
{
	static const char *lines[] = {
	    PUB_LINE,
	    PUB_LINE "\n",
	    PUB_LINE "\r\n",
	    "ssh-ed25519 " PUB_B64,
	    "  \tssh-ed25519\t" PUB_B64 "   a comment with spaces\n",
	};
	struct bs_ssh_key k, first;
	struct bs_err err;
	size_t i;

	bs_err_init(&err);
	CHECK_INT(bs_ssh_pubkey_parse(PUB_LINE, &first, &err), 0);
	CHECK_STR(first.fingerprint, PUB_FP);
	/* the key bytes are the last 32 of the blob: 0xd7 0xc8 ... 0x57 */
	CHECK_INT(first.pk[0], 0xd7);
	CHECK_INT(first.pk[31], 0x57);
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		CHECK_INT(bs_ssh_pubkey_parse(lines[i], &k, &err), 0);
		CHECK_STR(k.fingerprint, PUB_FP);
		CHECK(memcmp(k.pk, first.pk, BS_SSH_ED25519_LEN) == 0);
	}
}

TEST(pubkey_format_round_trip)
{
	struct bs_ssh_key k, again;
	struct bs_err err;
	char line[128], small[80];

	bs_err_init(&err);
	CHECK_INT(bs_ssh_pubkey_parse(PUB_LINE, &k, &err), 0);
	CHECK_INT(bs_ssh_pubkey_format(&k, line, sizeof(line)), 0);
	CHECK_STR(line, "ssh-ed25519 " PUB_B64);
	CHECK_INT(bs_ssh_pubkey_parse(line, &again, &err), 0);
	CHECK(memcmp(k.pk, again.pk, BS_SSH_ED25519_LEN) == 0);
	CHECK_STR(again.fingerprint, PUB_FP);
	/* exactly enough room (80 characters + NUL), and one byte short */
	CHECK_INT(bs_ssh_pubkey_format(&k, line, strlen("ssh-ed25519 " PUB_B64) + 1), 0);
	CHECK_INT(bs_ssh_pubkey_format(&k, small, sizeof(small)), -1);
	CHECK_INT(bs_ssh_pubkey_format(&k, NULL, 0), -1);
}

TEST(pubkey_rejects_other_key_types_naming_them)
{
	struct bs_ssh_key k;
	struct bs_err err;

	bs_err_init(&err);
	CHECK_INT(bs_ssh_pubkey_parse(RSA_LINE, &k, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK_STR(err.msg, "only ssh-ed25519 keys are supported, not 'ssh-rsa'");

	CHECK_INT(bs_ssh_pubkey_parse("sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t",
				      &k, &err),
		  -1);
	CHECK_STR(err.msg, "only ssh-ed25519 keys are supported, not 'sk-ssh-ed25519@openssh.com'");
	CHECK_INT(bs_ssh_pubkey_parse("ssh-ed25519-cert-v01@openssh.com AAAA", &k, &err), -1);
	CHECK(strstr(err.msg, "not 'ssh-ed25519-cert-v01@openssh.com'") != NULL);
	CHECK_INT(bs_ssh_pubkey_parse("ecdsa-sha2-nistp256 AAAA", &k, &err), -1);
	CHECK(strstr(err.msg, "not 'ecdsa-sha2-nistp256'") != NULL);

	/* the line says ed25519 but the blob is an RSA key */
	CHECK_INT(bs_ssh_pubkey_parse("ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAABAQDeXJkHhqqjQoX87yofmqOWQQQy",
				      &k, &err),
		  -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
}

TEST(pubkey_rejects_malformed_lines)
{
	static const struct {
		const char *line, *want;
	} bad[] = {
	    {"", "public key line is empty"},
	    {"   \n", "public key line is empty"},
	    {"ssh-ed25519", "no key data"},
	    {"ssh-ed25519   \n", "no key data"},
	    {"ssh-ed25519 AAAA*AAA", "not valid base64"},
	    /* a changed last character leaves non-zero trailing bits */
	    {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAH9fIL9rVtilFvLoLo600UM/sWOX8eLH+ru0NsPXP6XJ=",
	     "not valid base64"},
	    /* '=' padding in the middle */
	    {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINfIL9rV=ilFvLoLo600UM/sWOX8eLH+ru0NsPXP6XJX",
	     "not valid base64"},
	    /* 48 of the 51 blob bytes: the key string is cut short */
	    {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINfIL9rVtilFvLoLo600UM/sWOX8eLH+ru0NsPXP", "truncated"},
	    /* the blob holds only string("ssh-ed25519") */
	    {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5", "truncated"},
	    /* string("ssh-ed25519") string(31 bytes) */
	    {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAH9fIL9rVtilFvLoLo600UM/sWOX8eLH+ru0NsPXP6XI=",
	     "ed25519 key of 31 bytes"},
	    /* the blob with one byte after the key */
	    {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINfIL9rVtilFvLoLo600UM/sWOX8eLH+ru0NsPXP6XJXAA==",
	     "public key has 1 trailing bytes"},
	    /* padding that does not complete a 4-character group */
	    {"ssh-ed25519 " PUB_B64 "=", "not valid base64"},
	    /* lower-case type: OpenSSH's names are case-sensitive */
	    {"SSH-ED25519 " PUB_B64, "not 'SSH-ED25519'"},
	};
	struct bs_ssh_key k;
	struct bs_err err;
	size_t i;

	bs_err_init(&err);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bs_err_clear(&err);
		memset(&k, 0xaa, sizeof(k));
		CHECK_INT(bs_ssh_pubkey_parse(bad[i].line, &k, &err), -1);
		CHECK_INT(err.code, BS_ERR_FORMAT);
		if (!strstr(err.msg, bad[i].want)) {
			printf("#   line %zu: got '%s', want '%s'\n", i, err.msg, bad[i].want);
			CHECK(!"message names the problem");
		}
		CHECK_STR(k.fingerprint, ""); /* nothing half-filled */
	}
	CHECK_INT(bs_ssh_pubkey_parse(NULL, &k, &err), -1);
}

TEST(pubkey_bounds_long_lines_and_quotes_safely)
{
	struct bs_ssh_key k;
	struct bs_err err;
	size_t n = 20000;
	char *line = malloc(n + 1);

	bs_err_init(&err);
	memset(line, 'A', n);
	memcpy(line, "ssh-ed25519 ", 12);
	line[n] = '\0';
	CHECK_INT(bs_ssh_pubkey_parse(line, &k, &err), -1);
	CHECK(strstr(err.msg, "longer than") != NULL);
	/* a long unknown type is quoted shortened, control bytes masked */
	memset(line, 'x', 300);
	line[0] = '\x1b';
	line[300] = '\0';
	CHECK_INT(bs_ssh_pubkey_parse(line, &k, &err), -1);
	CHECK(strlen(err.msg) < 200);
	CHECK(strchr(err.msg, '\x1b') == NULL);
	CHECK(strstr(err.msg, "...'") != NULL);
	free(line);
}

/* ---- SSHSIG verification ---- */

TEST(valid_sha512_signature_verifies_and_names_the_signer)
{
	struct bs_ssh_key signer, pub;
	struct bs_err err;

	bs_err_init(&err);
	CHECK_INT(verify_s(SIG512, NS, &signer, &err), 0);
	CHECK_INT(err.code, BS_OK);
	CHECK_STR(signer.fingerprint, PUB_FP);
	CHECK_INT(bs_ssh_pubkey_parse(PUB_LINE, &pub, &err), 0);
	CHECK(memcmp(signer.pk, pub.pk, BS_SSH_ED25519_LEN) == 0);
}

TEST(valid_sha256_signature_verifies)
{
	struct bs_ssh_key signer;
	struct bs_err err;

	bs_err_init(&err);
	CHECK_INT(verify_s(SIG256, NS, &signer, &err), 0);
	CHECK_STR(signer.fingerprint, PUB_FP);
}

TEST(armor_variants_that_still_verify)
{
	struct bs_ssh_key signer;
	struct bs_err err;
	char buf[2048], *o = buf;
	const char *p;

	bs_err_init(&err);
	/* CRLF line ends, blank lines around the armor */
	o += sprintf(o, "\n\r\n");
	for (p = SIG512; *p; p++) {
		if (*p == '\n')
			*o++ = '\r';
		*o++ = *p;
	}
	o += sprintf(o, "\r\n\n");
	CHECK_INT(verify(buf, strlen(buf), NS, MSG, &signer, &err), 0);
	/* no final newline */
	CHECK_INT(verify(SIG512, strlen(SIG512) - 1, NS, MSG, &signer, &err), 0);
	/* only len bytes are read: what follows them is not looked at */
	snprintf(buf, sizeof(buf), "%sgarbage after the given length", SIG512);
	CHECK_INT(verify(buf, strlen(SIG512), NS, MSG, &signer, &err), 0);
	/* re-armored by the test's own armor(): the helper is sound */
	{
		uint8_t blob[BLOB_LEN + 16];

		sig512_blob(blob);
		CHECK_INT(verify_blob(blob, BLOB_LEN, &err), 0);
	}
}

TEST(tampered_message_does_not_verify)
{
	struct bs_ssh_key signer;
	struct bs_err err;

	bs_err_init(&err);
	CHECK_INT(
	    verify(SIG512, strlen(SIG512), NS, "backstop gate statement v1\nrelease=1.2.4\n", &signer, &err),
	    -1);
	CHECK_INT(err.code, BS_ERR_VERIFY);
	CHECK_STR(err.msg, "signature does not match the statement");
	CHECK(strstr(err.detail, PUB_FP) != NULL);
	CHECK_STR(signer.fingerprint, ""); /* no signer on failure */
	CHECK_INT(verify(SIG256, strlen(SIG256), NS, "", &signer, &err), -1);
	CHECK_INT(err.code, BS_ERR_VERIFY);
	/* the message without its last newline */
	CHECK_INT(bs_sshsig_verify(SIG512, strlen(SIG512), NS, MSG, strlen(MSG) - 1, &signer, &err), -1);
	CHECK_INT(err.code, BS_ERR_VERIFY);
}

TEST(tampered_signature_does_not_verify)
{
	uint8_t blob[BLOB_LEN + 16];
	struct bs_err err;

	bs_err_init(&err);
	sig512_blob(blob);
	blob[OFF_SIG + 10] ^= 0x01;
	CHECK_INT(verify_blob(blob, BLOB_LEN, &err), -1);
	CHECK_INT(err.code, BS_ERR_VERIFY);
	sig512_blob(blob);
	blob[OFF_SIG + 63] ^= 0x80;
	CHECK_INT(verify_blob(blob, BLOB_LEN, &err), -1);
	CHECK_INT(err.code, BS_ERR_VERIFY);
	/* another key in the signature: verifies against that key, fails */
	sig512_blob(blob);
	blob[OFF_PK + 5] ^= 0x10;
	CHECK_INT(verify_blob(blob, BLOB_LEN, &err), -1);
	CHECK_INT(err.code, BS_ERR_VERIFY);
	/* the SHA-512 signature relabelled sha256 */
	sig512_blob(blob);
	memcpy(blob + OFF_HASHALG, "sha256", 6);
	CHECK_INT(verify_blob(blob, BLOB_LEN, &err), -1);
	CHECK_INT(err.code, BS_ERR_VERIFY);
}

TEST(tampered_base64_character_does_not_verify)
{
	struct bs_ssh_key signer;
	struct bs_err err;
	char buf[sizeof(SIG512)];
	char *last;

	bs_err_init(&err);
	memcpy(buf, SIG512, sizeof(SIG512));
	/* the 10th character of the last body line lies in the signature */
	last = strstr(buf, "4fFBUGz5yu");
	last[9] = last[9] == 'u' ? 'v' : 'u';
	CHECK_INT(verify(buf, strlen(buf), NS, MSG, &signer, &err), -1);
	CHECK_INT(err.code, BS_ERR_VERIFY);
}

/* PROTOCOL.sshsig: "implementations should ignore the reserved field if
 * it is not empty".  OpenSSH verifies over an empty one whatever the blob
 * carries: SIG512 with string(reserved) = "x" passes
 * `ssh-keygen -Y check-novalidate -n backstop-gate`, so it verifies here. */
TEST(reserved_field_is_ignored_as_openssh_does)
{
	uint8_t blob[BLOB_LEN + 16], patched[BLOB_LEN + 32];
	struct bs_err err;
	size_t off_reserved = 82;

	bs_err_init(&err);
	sig512_blob(blob);
	memcpy(patched, blob, off_reserved);
	memcpy(patched + off_reserved, "\0\0\0\1x", 5);
	memcpy(patched + off_reserved + 5, blob + off_reserved + 4, BLOB_LEN - off_reserved - 4);
	CHECK_INT(verify_blob(patched, BLOB_LEN + 1, &err), 0);
	/* a reserved length running past the end is still malformed */
	memcpy(patched + off_reserved, "\0\0\1\0", 4);
	CHECK_INT(verify_blob(patched, BLOB_LEN + 1, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
}

TEST(wrong_namespace_names_both)
{
	struct bs_ssh_key signer;
	struct bs_err err;

	bs_err_init(&err);
	CHECK_INT(verify_s(SIG_FILE_NS, NS, &signer, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK_STR(err.msg, "signature namespace is 'file', expected 'backstop-gate'");
	CHECK_INT(verify_s(SIG512, "file", &signer, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK_STR(err.msg, "signature namespace is 'backstop-gate', expected 'file'");
	/* a prefix is not the namespace */
	CHECK_INT(verify_s(SIG512, "backstop", &signer, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK_INT(verify_s(SIG512, "", &signer, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	/* the file-namespace signature verifies in its own namespace */
	CHECK_INT(verify_s(SIG_FILE_NS, "file", &signer, &err), 0);
	CHECK_STR(signer.fingerprint, PUB_FP);
}

TEST(rsa_signature_is_rejected_naming_the_key_type)
{
	struct bs_ssh_key signer;
	struct bs_err err;

	bs_err_init(&err);
	CHECK_INT(verify_s(SIG_RSA, NS, &signer, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK_STR(err.msg, "only ssh-ed25519 keys are supported, not 'ssh-rsa'");
}

TEST(unsupported_version_hash_and_signature_type)
{
	uint8_t blob[BLOB_LEN + 16];
	struct bs_err err;

	bs_err_init(&err);
	sig512_blob(blob);
	blob[OFF_VERSION + 3] = 2;
	CHECK_INT(verify_blob(blob, BLOB_LEN, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK(strstr(err.msg, "version 2") != NULL);

	sig512_blob(blob);
	memcpy(blob + OFF_HASHALG, "sha384", 6);
	CHECK_INT(verify_blob(blob, BLOB_LEN, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK(strstr(err.msg, "'sha384'") != NULL);

	sig512_blob(blob);
	memcpy(blob + OFF_SIGTYPE, "ssh-ed25518", 11);
	CHECK_INT(verify_blob(blob, BLOB_LEN, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK(strstr(err.msg, "signature type is 'ssh-ed25518'") != NULL);

	sig512_blob(blob);
	memcpy(blob, "SSHSIH", 6);
	CHECK_INT(verify_blob(blob, BLOB_LEN, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK(strstr(err.msg, "magic") != NULL);
}

TEST(every_truncation_is_a_format_error)
{
	uint8_t blob[BLOB_LEN + 16];
	struct bs_err err;
	size_t n;
	int bad = 0;

	bs_err_init(&err);
	sig512_blob(blob);
	for (n = 0; n < BLOB_LEN; n++) {
		if (verify_blob(blob, n, &err) != -1 || err.code != BS_ERR_FORMAT) {
			printf("#   truncated to %zu: code %d '%s'\n", n, err.code, err.msg);
			bad++;
		}
	}
	CHECK_INT(bad, 0);
}

TEST(trailing_bytes_are_a_format_error)
{
	uint8_t blob[BLOB_LEN + 16];
	struct bs_err err;

	bs_err_init(&err);
	sig512_blob(blob);
	blob[BLOB_LEN] = 0;
	CHECK_INT(verify_blob(blob, BLOB_LEN + 1, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK_STR(err.msg, "SSH signature has 1 trailing bytes");
	/* a byte more inside string(publickey) and inside string(signature) */
	{
		uint8_t longer[BLOB_LEN + 16];

		sig512_blob(blob);
		memcpy(longer, blob, 65);
		longer[13] = 52;
		longer[65] = 0;
		memcpy(longer + 66, blob + 65, BLOB_LEN - 65);
		CHECK_INT(verify_blob(longer, BLOB_LEN + 1, &err), -1);
		CHECK_INT(err.code, BS_ERR_FORMAT);
		CHECK_STR(err.msg, "signature public key has 1 trailing bytes");

		memcpy(longer, blob, BLOB_LEN);
		longer[99] = 84;
		longer[BLOB_LEN] = 0;
		CHECK_INT(verify_blob(longer, BLOB_LEN + 1, &err), -1);
		CHECK_INT(err.code, BS_ERR_FORMAT);
		CHECK_STR(err.msg, "ed25519 signature has 1 trailing bytes");
	}
	/* a length that claims more than is there */
	sig512_blob(blob);
	blob[OFF_SIG - 1] = 65;
	CHECK_INT(verify_blob(blob, BLOB_LEN, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	/* a huge length field */
	sig512_blob(blob);
	memset(blob + 10, 0xff, 4);
	CHECK_INT(verify_blob(blob, BLOB_LEN, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK(strstr(err.msg, "truncated") != NULL);
}

TEST(every_flipped_bit_fails)
{
	uint8_t blob[BLOB_LEN + 16];
	struct bs_err err;
	size_t i;
	int bit, bad = 0;

	bs_err_init(&err);
	for (i = 0; i < BLOB_LEN; i++) {
		for (bit = 0; bit < 8; bit++) {
			sig512_blob(blob);
			blob[i] ^= (uint8_t)(1u << bit);
			if (verify_blob(blob, BLOB_LEN, &err) != -1 ||
			    (err.code != BS_ERR_FORMAT && err.code != BS_ERR_VERIFY)) {
				printf("#   byte %zu bit %d: code %d '%s'\n", i, bit, err.code, err.msg);
				bad++;
			}
		}
	}
	CHECK_INT(bad, 0);
}

TEST(garbage_armor_is_a_format_error)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
	    {"", "empty"},
	    {"hello world\n", "not an SSH signature"},
	    {"-----BEGIN SSH SIGNATURE-----\n-----END SSH SIGNATURE-----\n", "empty"},
	    {"-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAQ==\n", "no '-----END SSH SIGNATURE-----'"},
	    {"-----BEGIN SSH SIGNATURE----- x\nU1NIU0lH\n-----END SSH SIGNATURE-----\n", "text after"},
	    {"-----BEGIN PGP SIGNATURE-----\nU1NIU0lH\n-----END PGP SIGNATURE-----\n",
	     "not an SSH signature"},
	    {"-----BEGIN SSH SIGNATURE-----\nU1NI*0lH\n-----END SSH SIGNATURE-----\n", "not valid base64"},
	    {"-----BEGIN SSH SIGNATURE-----\nU1NI=0lH\n-----END SSH SIGNATURE-----\n", "not valid base64"},
	    {"-----BEGIN SSH SIGNATURE-----\nU1NIU0lHA===\n-----END SSH SIGNATURE-----\n",
	     "not valid base64"},
	    {"-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\nmore\n", "text after"},
	    {"-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n"
	     "-----BEGIN SSH SIGNATURE-----\n",
	     "text after"},
	    {"junk\n-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n",
	     "not an SSH signature"},
	    {"-----BEGIN SSH SIGNATURE-----\nQUJDREVGR0g=\n-----END SSH SIGNATURE-----\n", "magic"},
	    {"-----BEGIN SSH SIGNATURE-----\nU1NIU0lH=\n-----END SSH SIGNATURE-----\n", "not valid base64"},
	    {"-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n",
	     "truncated (no version)"},
	};
	struct bs_ssh_key signer;
	struct bs_err err;
	size_t i;

	bs_err_init(&err);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(verify_s(bad[i].text, NS, &signer, &err), -1);
		CHECK_INT(err.code, BS_ERR_FORMAT);
		if (!strstr(err.msg, bad[i].want)) {
			printf("#   case %zu: got '%s', want '%s'\n", i, err.msg, bad[i].want);
			CHECK(!"message names the problem");
		}
	}
	/* a NUL inside the armor */
	{
		char buf[sizeof(SIG512)];

		memcpy(buf, SIG512, sizeof(SIG512));
		buf[40] = '\0';
		CHECK_INT(verify(buf, sizeof(SIG512) - 1, NS, MSG, &signer, &err), -1);
		CHECK_INT(err.code, BS_ERR_FORMAT);
	}
	CHECK_INT(bs_sshsig_verify(NULL, 0, NS, MSG, strlen(MSG), &signer, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
}

TEST(oversized_armor_is_refused)
{
	struct bs_ssh_key signer;
	struct bs_err err;
	size_t n = 16 * 1024 + 1;
	char *big = malloc(n + 1);

	bs_err_init(&err);
	/* the real signature padded with blank lines past 16 KiB */
	memcpy(big, SIG512, strlen(SIG512));
	memset(big + strlen(SIG512), '\n', n - strlen(SIG512));
	big[n] = '\0';
	CHECK_INT(verify(big, n, NS, MSG, &signer, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK(strstr(err.msg, "16384") != NULL);
	/* at exactly 16 KiB it is read */
	CHECK_INT(verify(big, n - 1, NS, MSG, &signer, &err), 0);
	free(big);
}

/* ---- allowed signers ---- */

static int parse_as(const char *line, struct bs_allowed_signer *s, struct bs_err *err)
{
	bs_err_clear(err);
	return bs_allowed_signer_parse(line, s, err);
}

TEST(allowed_signer_principals_and_key)
{
	struct bs_allowed_signer s;
	struct bs_err err;

	bs_err_init(&err);
	bs_allowed_signer_init(&s);
	CHECK_INT(
	    parse_as("alice@example.com,bob@example.com ssh-ed25519 " PUB_B64 " release key\n", &s, &err), 0);
	CHECK_INT(s.nprincipals, 2);
	CHECK_STR(s.principals[0], "alice@example.com");
	CHECK_STR(s.principals[1], "bob@example.com");
	CHECK(s.namespaces == NULL);
	CHECK_STR(s.key.fingerprint, PUB_FP);
	CHECK(bs_allowed_signer_ns_ok(&s, NS));
	CHECK(bs_allowed_signer_ns_ok(&s, "file"));

	/* parsing again into the same struct replaces the entry (no leak) */
	CHECK_INT(parse_as("  \"ci@backstop\"\t" PUB_LINE, &s, &err), 0);
	CHECK_INT(s.nprincipals, 1);
	CHECK_STR(s.principals[0], "ci@backstop");
	CHECK_STR(s.key.fingerprint, PUB_FP);
	bs_allowed_signer_release(&s);
	bs_allowed_signer_release(&s); /* twice is harmless */
	CHECK_INT(s.nprincipals, 0);
}

TEST(allowed_signer_namespaces_option)
{
	struct bs_allowed_signer s;
	struct bs_err err;

	bs_err_init(&err);
	bs_allowed_signer_init(&s);
	CHECK_INT(parse_as("ci@backstop namespaces=\"backstop-gate,file\" ssh-ed25519 " PUB_B64, &s, &err),
		  0);
	CHECK_STR(s.namespaces, "backstop-gate,file");
	CHECK(bs_allowed_signer_ns_ok(&s, "backstop-gate"));
	CHECK(bs_allowed_signer_ns_ok(&s, "file"));
	CHECK(!bs_allowed_signer_ns_ok(&s, "git"));
	CHECK(!bs_allowed_signer_ns_ok(&s, "backstop"));
	CHECK(!bs_allowed_signer_ns_ok(&s, "backstop-gate2"));
	CHECK(!bs_allowed_signer_ns_ok(&s, NULL));

	/* OpenSSH's pattern lists: wildcards and negation (as checked with
	 * ssh-keygen -Y verify against the same line) */
	CHECK_INT(parse_as("ci@backstop NameSpaces=\"backstop-*,!file\" ssh-ed25519 " PUB_B64, &s, &err), 0);
	CHECK(bs_allowed_signer_ns_ok(&s, "backstop-gate"));
	CHECK(!bs_allowed_signer_ns_ok(&s, "file"));
	CHECK(!bs_allowed_signer_ns_ok(&s, "git"));
	CHECK_INT(parse_as("ci@backstop namespaces=\"*,!file\" ssh-ed25519 " PUB_B64, &s, &err), 0);
	CHECK(bs_allowed_signer_ns_ok(&s, "backstop-gate"));
	CHECK(!bs_allowed_signer_ns_ok(&s, "file"));
	CHECK_INT(parse_as("ci@backstop namespaces=\"backstop-?ate\" ssh-ed25519 " PUB_B64, &s, &err), 0);
	CHECK(bs_allowed_signer_ns_ok(&s, "backstop-gate"));
	CHECK(!bs_allowed_signer_ns_ok(&s, "backstop-gatee"));

	/* quoted values may hold spaces and commas */
	CHECK_INT(parse_as("a,b namespaces=\"x y,backstop-gate\" ssh-ed25519 " PUB_B64 " c", &s, &err), 0);
	CHECK_INT(s.nprincipals, 2);
	CHECK_STR(s.namespaces, "x y,backstop-gate");
	CHECK(bs_allowed_signer_ns_ok(&s, NS));
	CHECK(bs_allowed_signer_ns_ok(&s, "x y"));
	CHECK(!bs_allowed_signer_ns_ok(&s, "x"));
	CHECK_STR(s.key.fingerprint, PUB_FP);
	/* an escaped quote inside a value */
	CHECK_INT(parse_as("a namespaces=\"a\\\"b\" ssh-ed25519 " PUB_B64, &s, &err), 0);
	CHECK_STR(s.namespaces, "a\"b");
	bs_allowed_signer_release(&s);
}

TEST(allowed_signer_blank_and_comment_lines)
{
	static const char *lines[] = {"", "\n", "   \t\r\n", "# a comment",
				      "   # indented comment " PUB_LINE};
	struct bs_allowed_signer s;
	struct bs_err err;
	size_t i;

	bs_err_init(&err);
	bs_allowed_signer_init(&s);
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		CHECK_INT(parse_as(lines[i], &s, &err), 1);
		CHECK_INT(s.nprincipals, 0);
		CHECK(s.namespaces == NULL);
		CHECK_INT(err.code, BS_OK);
	}
	bs_allowed_signer_release(&s);
}

TEST(allowed_signer_rejects_bad_entries)
{
	static const struct {
		const char *line, *want;
	} bad[] = {
	    {"ci@backstop cert-authority ssh-ed25519 " PUB_B64, "cert-authority entries are not supported"},
	    {"ci@backstop namespaces=\"x\",cert-authority ssh-ed25519 " PUB_B64, "cert-authority"},
	    {"ci@backstop " RSA_LINE, "only ssh-ed25519 keys are supported, not 'ssh-rsa'"},
	    {"ci@backstop", "no key after its principals"},
	    {"ci@backstop   \n", "no key after its principals"},
	    {"ci@backstop namespaces=\"x\"", "no key after its options"},
	    {"ci@backstop no-touch-required ssh-ed25519 " PUB_B64,
	     "unknown allowed-signers option 'no-touch-required'"},
	    {"ci@backstop verify-required=x ssh-ed25519 " PUB_B64,
	     "unknown allowed-signers option 'verify-required'"},
	    {"ci@backstop namespaces=\"x ssh-ed25519 " PUB_B64, "missing a closing quote"},
	    {"ci@backstop namespaces=x ssh-ed25519 " PUB_B64, "must be a quoted value"},
	    {"ci@backstop namespaces=\"a\",namespaces=\"b\" ssh-ed25519 " PUB_B64, "given twice"},
	    {"ci@backstop namespaces=\"a\", ssh-ed25519 " PUB_B64, "end with a comma"},
	    {"ci@backstop namespaces=\"a\"x ssh-ed25519 " PUB_B64, "malformed"},
	    /* validity windows are refused, never silently ignored */
	    {"ci@backstop valid-after=\"20240101\" ssh-ed25519 " PUB_B64, "valid-after/valid-before are not supported"},
	    {"ci@backstop namespaces=\"x\",valid-before=\"20300101\" ssh-ed25519 " PUB_B64, "not supported"},
	    {"a,,b ssh-ed25519 " PUB_B64, "include an empty one"},
	    {",a ssh-ed25519 " PUB_B64, "include an empty one"},
	    {"a, ssh-ed25519 " PUB_B64, "include an empty one"},
	    {"\"a,b ssh-ed25519 " PUB_B64, "missing a closing quote"},
	    {"a\"b\" ssh-ed25519 " PUB_B64, "badly quoted"},
	    {"ci@backstop ssh-ed25519 AAAA", "truncated"},
	    {"ci@backstop ssh-ed25519", "no key data"},
	};
	struct bs_allowed_signer s;
	struct bs_err err;
	size_t i;

	bs_err_init(&err);
	bs_allowed_signer_init(&s);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(parse_as(bad[i].line, &s, &err), -1);
		CHECK_INT(err.code, BS_ERR_FORMAT);
		if (!strstr(err.msg, bad[i].want)) {
			printf("#   line %zu: got '%s', want '%s'\n", i, err.msg, bad[i].want);
			CHECK(!"message names the problem");
		}
		/* nothing is left behind on error */
		CHECK_INT(s.nprincipals, 0);
		CHECK(s.namespaces == NULL);
	}
	CHECK_INT(parse_as(bad[0].line, &s, &err), -1);
	CHECK(strstr(err.hint, "ssh-ed25519") != NULL);
	bs_allowed_signer_release(&s);
}

TEST(allowed_signer_principal_limit)
{
	struct bs_allowed_signer s;
	struct bs_err err;
	char line[1024], *o;
	int i;

	bs_err_init(&err);
	bs_allowed_signer_init(&s);
	o = line;
	for (i = 0; i < BS_SSH_PRINCIPALS_MAX; i++)
		o += sprintf(o, "%sp%d", i ? "," : "", i);
	sprintf(o, " ssh-ed25519 %s", PUB_B64);
	CHECK_INT(parse_as(line, &s, &err), 0);
	CHECK_INT(s.nprincipals, BS_SSH_PRINCIPALS_MAX);
	CHECK_STR(s.principals[BS_SSH_PRINCIPALS_MAX - 1], "p15");

	o = line;
	for (i = 0; i <= BS_SSH_PRINCIPALS_MAX; i++)
		o += sprintf(o, "%sp%d", i ? "," : "", i);
	sprintf(o, " ssh-ed25519 %s", PUB_B64);
	CHECK_INT(parse_as(line, &s, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK(strstr(err.msg, "more than 16 principals") != NULL);
	CHECK_INT(s.nprincipals, 0);
	bs_allowed_signer_release(&s);
}

TEST(allowed_signer_key_matches_the_signer)
{
	struct bs_allowed_signer s;
	struct bs_ssh_key signer;
	struct bs_err err;

	bs_err_init(&err);
	bs_allowed_signer_init(&s);
	CHECK_INT(parse_as("release@backstop namespaces=\"backstop-gate\" " PUB_LINE, &s, &err), 0);
	CHECK_INT(verify_s(SIG512, NS, &signer, &err), 0);
	CHECK(memcmp(s.key.pk, signer.pk, BS_SSH_ED25519_LEN) == 0);
	CHECK_STR(s.key.fingerprint, signer.fingerprint);
	CHECK(bs_allowed_signer_ns_ok(&s, NS));
	bs_allowed_signer_release(&s);
}

int main(void)
{
	RUN(pubkey_parse_matches_ssh_keygen_fingerprint);
	RUN(pubkey_format_round_trip);
	RUN(pubkey_rejects_other_key_types_naming_them);
	RUN(pubkey_rejects_malformed_lines);
	RUN(pubkey_bounds_long_lines_and_quotes_safely);
	RUN(valid_sha512_signature_verifies_and_names_the_signer);
	RUN(valid_sha256_signature_verifies);
	RUN(armor_variants_that_still_verify);
	RUN(tampered_message_does_not_verify);
	RUN(tampered_signature_does_not_verify);
	RUN(tampered_base64_character_does_not_verify);
	RUN(reserved_field_is_ignored_as_openssh_does);
	RUN(wrong_namespace_names_both);
	RUN(rsa_signature_is_rejected_naming_the_key_type);
	RUN(unsupported_version_hash_and_signature_type);
	RUN(every_truncation_is_a_format_error);
	RUN(trailing_bytes_are_a_format_error);
	RUN(every_flipped_bit_fails);
	RUN(garbage_armor_is_a_format_error);
	RUN(oversized_armor_is_refused);
	RUN(allowed_signer_principals_and_key);
	RUN(allowed_signer_namespaces_option);
	RUN(allowed_signer_blank_and_comment_lines);
	RUN(allowed_signer_rejects_bad_entries);
	RUN(allowed_signer_principal_limit);
	RUN(allowed_signer_key_matches_the_signer);
	return DONE();
}
