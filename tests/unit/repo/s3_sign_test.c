/* s3_sign_test.c - AWS Signature Version 4 against the examples AWS
 * publishes for S3 ("Examples: Signature Calculations", us-east-1,
 * AKIAIOSFODNN7EXAMPLE, 2013-05-24), and the encodings it relies on. */
#include <stdlib.h>
#include <string.h>

#include "net/url.h"
#include "repo/s3_sign.h"
#include "harness.h"

static struct bs_s3_cred cred = {
	.access_key = "AKIAIOSFODNN7EXAMPLE",
	.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
};

#define T20130524 1369353600 /* 2013-05-24T00:00:00Z */
#define PREFIX "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"

TEST(get_object_with_range)
{
	const char *hdr[] = { "Range: bytes=0-9", "x-amz-content-sha256: " BS_S3_EMPTY_SHA256,
			      "x-amz-date: 20130524T000000Z", NULL };
	struct bs_s3_sign_in in = { .method = "GET", .host = "examplebucket.s3.amazonaws.com",
				    .path = "/test.txt", .headers = hdr, .payload = BS_S3_EMPTY_SHA256,
				    .region = "us-east-1", .now = T20130524 };
	char auth[512];
	struct bs_err err;

	bs_err_init(&err);
	CHECK_INT(bs_s3_sign(&in, &cred, auth, sizeof(auth), &err), 0);
	CHECK_STR(auth, PREFIX "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
			       "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(list_objects_query_sorted)
{
	const char *hdr[] = { "x-amz-date: 20130524T000000Z", "x-amz-content-sha256: " BS_S3_EMPTY_SHA256,
			      "Accept: */*", NULL };
	/* given out of order: the canonical query sorts it */
	struct bs_s3_query q[] = { { "prefix", "J" }, { "max-keys", "2" } };
	struct bs_s3_sign_in in = { .method = "GET", .host = "examplebucket.s3.amazonaws.com", .path = "/",
				    .query = q, .nquery = 2, .headers = hdr,
				    .payload = BS_S3_EMPTY_SHA256, .region = "us-east-1", .now = T20130524 };
	char auth[512], target[256];
	struct bs_err err;

	bs_err_init(&err);
	CHECK_INT(bs_s3_sign(&in, &cred, auth, sizeof(auth), &err), 0);
	CHECK_STR(auth, PREFIX "SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
			       "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
	CHECK_INT(bs_s3_target(&in, target, sizeof(target)), 0);
	CHECK_STR(target, "/?max-keys=2&prefix=J");
}

TEST(bare_subresource)
{
	const char *hdr[] = { "x-amz-date: 20130524T000000Z", "x-amz-content-sha256: " BS_S3_EMPTY_SHA256, NULL };
	struct bs_s3_query q[] = { { "lifecycle", "" } };
	struct bs_s3_sign_in in = { .method = "GET", .host = "examplebucket.s3.amazonaws.com", .path = "/",
				    .query = q, .nquery = 1, .headers = hdr,
				    .payload = BS_S3_EMPTY_SHA256, .region = "us-east-1", .now = T20130524 };
	char auth[512];
	struct bs_err err;

	bs_err_init(&err);
	CHECK_INT(bs_s3_sign(&in, &cred, auth, sizeof(auth), &err), 0);
	CHECK_STR(auth, PREFIX "SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
			       "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(a_different_secret_gives_a_different_signature)
{
	const char *hdr[] = { "x-amz-date: 20130524T000000Z", NULL };
	struct bs_s3_sign_in in = { .method = "GET", .host = "h", .path = "/", .headers = hdr,
				    .payload = BS_S3_UNSIGNED, .region = "us-east-1", .now = T20130524 };
	struct bs_s3_cred other = { .access_key = "AKIAIOSFODNN7EXAMPLE", .secret_key = "other" };
	char a[512], b[512];
	struct bs_err err;

	bs_err_init(&err);
	CHECK_INT(bs_s3_sign(&in, &cred, a, sizeof(a), &err), 0);
	CHECK_INT(bs_s3_sign(&in, &other, b, sizeof(b), &err), 0);
	CHECK(strcmp(a, b) != 0);
	CHECK(strstr(a, "other") == NULL && strstr(b, "other") == NULL); /* never the secret */
}

TEST(uri_encoding)
{
	char out[64];

	CHECK_INT(bs_url_encode("test$file.text", 1, out, sizeof(out)), 0);
	CHECK_STR(out, "test%24file.text");
	CHECK_INT(bs_url_encode("a/b c~_-.", 1, out, sizeof(out)), 0);
	CHECK_STR(out, "a/b%20c~_-.");
	CHECK_INT(bs_url_encode("a/b", 0, out, sizeof(out)), 0);
	CHECK_STR(out, "a%2Fb");
	CHECK_INT(bs_url_encode("\xc3\xa9", 0, out, sizeof(out)), 0);
	CHECK_STR(out, "%C3%A9");
	CHECK_INT(bs_url_encode("abcdef", 0, out, 4), -1);
}

int main(void)
{
	RUN(get_object_with_range);
	RUN(list_objects_query_sorted);
	RUN(bare_subresource);
	RUN(a_different_secret_gives_a_different_signature);
	RUN(uri_encoding);
	return DONE();
}
