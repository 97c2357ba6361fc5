/* age_vectors_test.c - every C2SP CCTV age test vector in tests/data/age
 * (see its README.md for the format and the licence).
 *
 * Each vector is one TAP test.  Outcomes are classified as the testkit
 * defines them: "header failure", "no match", "HMAC failure" (from
 * bs_age_decrypt_new), "payload failure" (a read returned -1) or "success";
 * for success and payload failure the SHA-256 of the plaintext the stream
 * released must equal the vector's "payload".
 *
 * Skipped, never passed: armored vectors (ASCII armor is not implemented:
 * backstop archives are binary) and vectors that need an mlkem768x25519
 * (post-quantum hybrid) identity (ML-KEM is not in OpenSSL 3.0).
 *
 * zlib-compressed vectors are inflated with the system libz, loaded with
 * dlopen because the project does not link zlib directly. */
#include <dirent.h>
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "harness.h"
#include "crypt/age.h"

#define VECTOR_DIR "tests/data/age"

static const char *cur;   /* file name of the vector being run */

static int read_file(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0, k;

	if (!f)
		return -1;
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
		}
		k = fread(buf + n, 1, cap - n, f);
		n += k;
	} while (k > 0);
	fclose(f);
	*out = buf;
	*len = n;
	return 0;
}

typedef int (*uncompress_fn)(unsigned char *, unsigned long *, const unsigned char *, unsigned long);

static int inflate_zlib(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
	static uncompress_fn fn;
	unsigned long cap = 1 << 20, n;
	uint8_t *buf;
	int rc;

	if (!fn) {
		void *h = dlopen("libz.so.1", RTLD_NOW | RTLD_LOCAL);
		if (!h)
			return -2;
		fn = (uncompress_fn)(uintptr_t)dlsym(h, "uncompress");
		if (!fn)
			return -2;
	}
	for (;;) {
		buf = malloc(cap);
		n = cap;
		rc = fn(buf, &n, in, len);
		if (rc == 0)
			break;
		free(buf);
		if (rc != -5 /* Z_BUF_ERROR */ || cap > (64ul << 20))
			return -1;
		cap *= 2;
	}
	*out = buf;
	*out_len = n;
	return 0;
}

static void hex(const uint8_t *d, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void run_vector(void)
{
	char path[512], expect[64] = "", payload[80] = "", got_hash[65];
	char *ids_lines[8], *pass_lines[8];
	int nid = 0, npass = 0, armored = 0, compressed = 0, i;
	uint8_t *file = NULL, *body = NULL, *plain = NULL, md[32];
	size_t flen = 0, blen = 0, pos = 0;
	const char *outcome;
	struct bs_age_identities *ids = NULL;
	struct bs_rstream *d = NULL;
	struct bs_err err;
	EVP_MD_CTX *sha = NULL;
	int own_body = 0;

	bs_err_init(&err);
	snprintf(path, sizeof(path), "%s/%s", VECTOR_DIR, cur);
	if (read_file(path, &file, &flen) < 0) {
		CHECK(!"vector readable");
		return;
	}
	/* "key: value" lines up to an empty line */
	for (;;) {
		uint8_t *nl = memchr(file + pos, '\n', flen - pos);
		char line[512];
		size_t n;
		if (!nl) {
			CHECK(!"vector header ends with an empty line");
			goto out;
		}
		n = (size_t)(nl - (file + pos));
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, file + pos, n);
		line[n] = '\0';
		pos = (size_t)(nl - file) + 1;
		if (n == 0)
			break;
		if (strncmp(line, "expect: ", 8) == 0)
			snprintf(expect, sizeof(expect), "%s", line + 8);
		else if (strncmp(line, "payload: ", 9) == 0)
			snprintf(payload, sizeof(payload), "%s", line + 9);
		else if (strncmp(line, "identity: ", 10) == 0 && nid < 8)
			ids_lines[nid++] = strdup(line + 10);
		else if (strncmp(line, "passphrase: ", 12) == 0 && npass < 8)
			pass_lines[npass++] = strdup(line + 12);
		else if (strcmp(line, "armored: yes") == 0)
			armored = 1;
		else if (strcmp(line, "compressed: zlib") == 0)
			compressed = 1;
	}
	body = file + pos;
	blen = flen - pos;

	if (armored) {
		th_cur_skipped = 1;
		snprintf(th_skip_reason, sizeof(th_skip_reason),
			 "ASCII armor is not implemented (expect: %s)", expect);
		goto out;
	}
	for (i = 0; i < nid; i++)
		if (strncmp(ids_lines[i], "AGE-SECRET-KEY-PQ-", 18) == 0) {
			th_cur_skipped = 1;
			snprintf(th_skip_reason, sizeof(th_skip_reason),
				 "needs an mlkem768x25519 post-quantum identity (no ML-KEM in OpenSSL 3.0; expect: %s)",
				 expect);
			goto out;
		}
	if (compressed) {
		uint8_t *inflated;
		size_t ilen;
		int rc = inflate_zlib(body, blen, &inflated, &ilen);
		if (rc == -2) {
			th_cur_skipped = 1;
			snprintf(th_skip_reason, sizeof(th_skip_reason), "libz.so.1 not available to inflate it");
			goto out;
		}
		CHECK_INT(rc, 0);
		if (rc < 0)
			goto out;
		body = inflated;
		blen = ilen;
		own_body = 1;
	}

	ids = bs_age_identities_new();
	for (i = 0; i < nid; i++)
		CHECK_INT(bs_age_identities_add(ids, ids_lines[i], &err), 0);
	for (i = 0; i < npass; i++)
		CHECK_INT(bs_age_identities_add_passphrase(ids, pass_lines[i], &err), 0);

	sha = EVP_MD_CTX_new();
	EVP_DigestInit_ex(sha, EVP_sha256(), NULL);
	d = bs_age_decrypt_new(bs_rstream_mem(body, blen), ids, &err);
	if (!d) {
		if (err.code == BS_ERR_NO_IDENTITY)
			outcome = "no match";
		else if (strstr(err.msg, "header MAC mismatch"))
			outcome = "HMAC failure";
		else
			outcome = "header failure";
	} else {
		static uint8_t buf[100000];
		ssize_t n;
		while ((n = bs_rstream_read(d, buf, sizeof(buf), &err)) > 0)
			EVP_DigestUpdate(sha, buf, (size_t)n);
		outcome = n < 0 ? "payload failure" : "success";
	}
	if (strcmp(outcome, expect) != 0)
		printf("#   %s: got '%s' (%s: %s), want '%s'\n", cur, outcome, bs_err_name(err.code),
		       err.msg, expect);
	CHECK_STR(outcome, expect);
	if (d && (strcmp(expect, "success") == 0 || strcmp(expect, "payload failure") == 0)) {
		EVP_DigestFinal_ex(sha, md, NULL);
		hex(md, 32, got_hash);
		CHECK_STR(got_hash, payload);
	}
	/* error classes: malformed -> FORMAT (or REFUSED for a huge work factor) */
	if (!d && strcmp(outcome, "header failure") == 0)
		CHECK(err.code == BS_ERR_FORMAT || err.code == BS_ERR_REFUSED);
	if (!d && strcmp(outcome, "no match") == 0)
		CHECK(strstr(err.msg, "no identity matches") != NULL);
	if (!d && strcmp(outcome, "header failure") != 0 && strcmp(outcome, "no match") != 0)
		CHECK_INT(err.code, BS_ERR_CRYPTO);
out:
	EVP_MD_CTX_free(sha);
	bs_rstream_free(d);
	bs_age_identities_free(ids);
	for (i = 0; i < nid; i++)
		free(ids_lines[i]);
	for (i = 0; i < npass; i++)
		free(pass_lines[i]);
	if (own_body)
		free(body);
	free(plain);
	free(file);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

TEST(vector_directory_present)
{
	DIR *dir = opendir(VECTOR_DIR);
	FILE *f = fopen(VECTOR_DIR "/README.md", "r");

	CHECK(dir != NULL); /* tests run from the repository root */
	CHECK(f != NULL);   /* keeps the licence notice */
	if (dir)
		closedir(dir);
	if (f)
		fclose(f);
}

int main(void)
{
	DIR *dir;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, i;

	RUN(vector_directory_present);
	dir = opendir(VECTOR_DIR);
	while (dir && (de = readdir(dir))) {
		if (de->d_name[0] == '.' || strcmp(de->d_name, "README.md") == 0)
			continue;
		names = realloc(names, (n + 1) * sizeof(*names));
		names[n++] = strdup(de->d_name);
	}
	if (dir)
		closedir(dir);
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		char name[300];
		cur = names[i];
		snprintf(name, sizeof(name), "vector %s", cur);
		RUN_NAMED(name, run_vector);
		free(names[i]);
	}
	free(names);
	return DONE();
}
