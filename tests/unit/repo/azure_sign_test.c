/* azure_sign_test.c - Shared Key signatures: the string-to-sign of the
 * example in Microsoft's "Authorize with Shared Key" page, signatures
 * computed independently (Python's hmac) with Azurite's published
 * development key, and the encodings the requests rely on.  Azurite itself
 * checks the signatures of every request in the contract suite. */
#include <stdlib.h>
#include <string.h>

#include "repo/azure_sign.h"
#include "harness.h"

/* devstoreaccount1's well-known key (Azurite, the storage emulator) */
#define DEV_KEY "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

static unsigned char *key;
static size_t keylen;

/* The docs' example: Get Container Metadata with a timeout. */
TEST(docs_example_string_to_sign)
{
	const char *hdr[] = { "x-ms-version: 2015-02-21", "x-ms-date: Fri, 26 Jun 2015 23:39:12 GMT", NULL };
	/* given out of order: the canonical resource sorts them */
	struct bs_az_query q[] = { { "timeout", "20" }, { "restype", "container" }, { "comp", "metadata" } };
	struct bs_az_sign_in in = { .method = "GET", .account = "myaccount", .path = "/mycontainer", .query = q,
				    .nquery = 3, .headers = hdr };
	char sts[1024], auth[256];
	struct bs_err err;

	CHECK_INT(bs_az_string_to_sign(&in, sts, sizeof(sts)), 0);
	CHECK_STR(sts, "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:Fri, 26 Jun 2015 23:39:12 GMT\nx-ms-version:2015-02-21\n"
		       "/myaccount/mycontainer\ncomp:metadata\nrestype:container\ntimeout:20");
	bs_err_init(&err);
	CHECK_INT(bs_az_sign(&in, key, keylen, auth, sizeof(auth), &err), 0);
	CHECK_STR(auth, "SharedKey myaccount:1u9lui2jDxj0+fpbHjQ5m5NnastJRSYM+PSmfi8TXx4=");
}

/* A Put Blob as backstop sends it to Azurite (path-style: the account is
 * in the path too): Content-Length and If-None-Match in their places,
 * x-ms-* names lower-cased, values trimmed, sorted; other headers left out. */
TEST(put_blob_with_conditions)
{
	const char *hdr[] = { "X-MS-Version:2021-08-06", "x-ms-date:  Sun, 29 Nov 2026 17:00:00 GMT ",
			      "If-None-Match: *", "x-ms-blob-type: BlockBlob", "Expect:", "User-Agent: x", NULL };
	struct bs_az_sign_in in = { .method = "PUT", .account = "devstoreaccount1",
				    .path = "/devstoreaccount1/backups/prod/snapshots/ab.json", .headers = hdr,
				    .content_length = 11 };
	char sts[1024], auth[256];
	struct bs_err err;

	CHECK_INT(bs_az_string_to_sign(&in, sts, sizeof(sts)), 0);
	CHECK_STR(sts, "PUT\n\n\n11\n\n\n\n\n\n*\n\n\nx-ms-blob-type:BlockBlob\nx-ms-date:Sun, 29 Nov 2026 17:00:00 GMT\n"
		       "x-ms-version:2021-08-06\n/devstoreaccount1/devstoreaccount1/backups/prod/snapshots/ab.json");
	bs_err_init(&err);
	CHECK_INT(bs_az_sign(&in, key, keylen, auth, sizeof(auth), &err), 0);
	CHECK_STR(auth, "SharedKey devstoreaccount1:/Cv/FTIZaw1QmTGBOoBz+1lB4EO6e5vk/2aKSl3S1qc=");
	/* a body of 0 bytes signs an empty Content-Length (versions since 2015-02-21) */
	in.content_length = 0;
	CHECK_INT(bs_az_string_to_sign(&in, sts, sizeof(sts)), 0);
	CHECK(strncmp(sts, "PUT\n\n\n\n\n", 8) == 0); /* encoding, language, length, MD5 all empty */
}

TEST(url_encodes_query_values_and_signs_them_decoded)
{
	const char *hdr[] = { "x-ms-date: Sun, 29 Nov 2026 17:00:00 GMT", "x-ms-version: 2021-08-06", NULL };
	struct bs_az_query q[] = { { "restype", "container" }, { "comp", "list" }, { "prefix", "p/snapshots/" },
				   { "marker", "2!120!MDAwMDQ1IXAvYS9iITAwMDAyOCE5OTk5LTEyLTMxVDIzOjU5OjU5Ljk5OTk5OTlaIQ--" } };
	struct bs_az_sign_in in = { .method = "GET", .account = "acct", .path = "/c", .query = q, .nquery = 4,
				    .headers = hdr };
	char target[1024], sts[1024];

	CHECK_INT(bs_az_target(&in, target, sizeof(target)), 0);
	CHECK_STR(target, "/c?restype=container&comp=list&prefix=p%2Fsnapshots%2F&marker=2%21120%21"
			  "MDAwMDQ1IXAvYS9iITAwMDAyOCE5OTk5LTEyLTMxVDIzOjU5OjU5Ljk5OTk5OTlaIQ--");
	CHECK_INT(bs_az_string_to_sign(&in, sts, sizeof(sts)), 0);
	CHECK(strstr(sts, "/acct/c\ncomp:list\nmarker:2!120!MDAwMDQ1") != NULL);
	CHECK(strstr(sts, "\nprefix:p/snapshots/\nrestype:container") != NULL);
	/* too small a buffer is refused, never cut */
	CHECK_INT(bs_az_target(&in, target, 20), -1);
	CHECK_INT(bs_az_string_to_sign(&in, sts, 40), -1);
}

TEST(date_is_rfc1123)
{
	char d[32];

	bs_az_date(1795971600, d);
	CHECK_STR(d, "Sun, 29 Nov 2026 17:00:00 GMT");
	bs_az_date(0, d);
	CHECK_STR(d, "Thu, 01 Jan 1970 00:00:00 GMT");
}

TEST(key_must_be_base64_and_is_never_shown)
{
	unsigned char *k = NULL;
	size_t n = 0;
	struct bs_err err;

	CHECK(keylen == 64);
	bs_err_init(&err);
	CHECK_INT(bs_az_key_decode("not base64 at all!", &k, &n, &err), -1);
	CHECK_INT(err.code, BS_ERR_CONFIG);
	CHECK(k == NULL);
	CHECK(strstr(err.msg, "not base64") != NULL);
	CHECK(strstr(err.msg, "at all") == NULL);
	bs_err_init(&err);
	CHECK_INT(bs_az_key_decode("c2VjcmV0", &k, &n, &err), 0); /* "secret" */
	CHECK(n == 6 && memcmp(k, "secret", 6) == 0);
	free(k);
	CHECK_INT(bs_az_key_decode("c2VjcmV0MQ==", &k, &n, &err), 0); /* "secret1" */
	CHECK(n == 7 && memcmp(k, "secret1", 7) == 0);
	free(k);
}

int main(void)
{
	struct bs_err err;

	bs_err_init(&err);
	if (bs_az_key_decode(DEV_KEY, &key, &keylen, &err) < 0) {
		printf("Bail out! %s\n", err.msg);
		return 1;
	}
	RUN(docs_example_string_to_sign);
	RUN(put_blob_with_conditions);
	RUN(url_encodes_query_values_and_signs_them_decoded);
	RUN(date_is_rfc1123);
	RUN(key_must_be_base64_and_is_never_shown);
	free(key);
	return DONE();
}
