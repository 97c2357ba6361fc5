/* imgref_test.c - lib/release/imgref.c: Docker's reference grammar (host
 * detection, Docker Hub's library/ prefix, tags, sha256 digests) and the
 * errors naming the reference and what is wrong. */
#include <string.h>

#include "release/release.h"
#include "harness.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int parse(const char *s, struct bs_image_ref *r, struct bs_err *err)
{
	bs_err_init(err);
	return bs_image_ref_parse(s, r, err);
}

struct good_case {
	const char *in, *host, *path, *tag, *digest;
};

static const struct good_case good[] = {
    {"nginx", "docker.io", "library/nginx", "", ""},
    {"nginx:1.25", "docker.io", "library/nginx", "1.25", ""},
    {"acme/api", "docker.io", "acme/api", "", ""},
    {"docker.io/nginx", "docker.io", "library/nginx", "", ""},
    {"index.docker.io/acme/api:v1", "docker.io", "acme/api", "v1", ""},
    {"ghcr.io/acme/api:1.4.2", "ghcr.io", "acme/api", "1.4.2", ""},
    {"localhost/x", "localhost", "x", "", ""},
    {"localhost:5000/x@sha256:" D64, "localhost:5000", "x", "", "sha256:" D64},
    {"127.0.0.1:5000/acme/api:prod", "127.0.0.1:5000", "acme/api", "prod", ""},
    {"127.0.0.1:5000/acme/api:prod@sha256:" D64, "127.0.0.1:5000", "acme/api", "prod", "sha256:" D64},
    {"registry.example.com/a/b/c", "registry.example.com", "a/b/c", "", ""},
    {"Registry.Example.com:443/a_b/c__d/e-f/g--h/i.j", "Registry.Example.com:443", "a_b/c__d/e-f/g--h/i.j",
     "", ""},
    {"foo:5000", "docker.io", "library/foo", "5000", ""},
    {"acme/api:_x.Y-1", "docker.io", "acme/api", "_x.Y-1", ""},
};

TEST(good_references)
{
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct bs_image_ref r;
		struct bs_err err;
		int rc = parse(good[i].in, &r, &err);

		if (rc != 0)
			printf("#   %s: %s\n", good[i].in, err.msg);
		CHECK_INT(rc, 0);
		CHECK_STR(r.host, good[i].host);
		CHECK_STR(r.path, good[i].path);
		CHECK_STR(r.tag, good[i].tag);
		CHECK_STR(r.digest, good[i].digest);
	}
}

struct bad_case {
	const char *in, *msg;
};

static const struct bad_case bad[] = {
    {"", "empty image reference"},
    {"Acme/api", "must be lowercase"},
    {"ghcr.io/Acme/api", "repository path 'Acme/api' must be lowercase"},
    {"acme//api", "empty path component"},
    {"acme/api/", "empty path component"},
    {"ghcr.io/", "empty path component"},
    {"acme/-api", "does not start and end"},
    {"acme/a..b", "separator"},
    {"acme/a___b", "separator"},
    {"acme/a b", "not printable"},
    {"acme/a$b", "not allowed"},
    {"acme/api:", "invalid tag ''"},
    {"acme/api:-x", "invalid tag '-x'"},
    {"acme/api:a/b", "not allowed"},
    {"acme/api:a+b", "invalid tag 'a+b'"},
    {"acme/api@sha512:" D64, "algorithm 'sha512': only sha256 is supported"},
    {"acme/api@sha256:abc", "malformed digest 'sha256:abc'"},
    {"acme/api@sha256:"
     "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
     "malformed digest"},
    {"acme/api@" D64, "malformed digest"},
    {"ghcr.io:x/acme", "invalid registry host 'ghcr.io:x'"},
    {"-ghcr.io/acme", "invalid registry host"},
    {":tag", "no repository name"},
    {"@sha256:" D64, "no repository name"},
};

TEST(bad_references)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct bs_image_ref r;
		struct bs_err err;
		int rc = parse(bad[i].in, &r, &err);

		if (rc == 0 || !strstr(err.msg, bad[i].msg))
			printf("#   '%s': got \"%s\", want \"%s\"\n", bad[i].in, rc ? err.msg : "(accepted)",
			       bad[i].msg);
		CHECK(rc < 0);
		CHECK_INT(err.code, BS_ERR_USAGE);
		CHECK(strstr(err.msg, bad[i].msg) != NULL);
		/* the message names the reference */
		if (*bad[i].in)
			CHECK(strstr(err.msg, bad[i].in) != NULL);
	}
}

TEST(tag_length)
{
	char ref[300], tag[130];
	struct bs_image_ref r;
	struct bs_err err;

	memset(tag, 'a', 128);
	tag[128] = '\0';
	snprintf(ref, sizeof(ref), "acme/api:%s", tag);
	CHECK_INT(parse(ref, &r, &err), 0);
	CHECK_STR(r.tag, tag);
	snprintf(ref, sizeof(ref), "acme/api:%sa", tag);
	CHECK(parse(ref, &r, &err) < 0);
	CHECK(strstr(err.msg, "invalid tag") != NULL);
}

TEST(name_length)
{
	char ref[BS_IMAGE_MAX + 10];
	struct bs_image_ref r;
	struct bs_err err;

	/* host/path of 255 characters is the limit */
	memset(ref, 'a', sizeof(ref));
	memcpy(ref, "r.io/", 5);
	ref[255] = '\0';
	CHECK_INT(parse(ref, &r, &err), 0);
	ref[255] = 'a';
	ref[256] = '\0';
	CHECK(parse(ref, &r, &err) < 0);
	CHECK(strstr(err.msg, "longer than 255") != NULL);
	ref[256] = 'a';
	ref[BS_IMAGE_MAX + 5] = '\0';
	CHECK(parse(ref, &r, &err) < 0);
	CHECK(strstr(err.msg, "too long") != NULL);
}

TEST(repo)
{
	struct bs_image_ref r;
	struct bs_err err;
	char buf[600];

	CHECK_INT(parse("127.0.0.1:5000/acme/api:prod@sha256:" D64, &r, &err), 0);
	bs_image_ref_repo(&r, buf, sizeof(buf));
	CHECK_STR(buf, "127.0.0.1:5000/acme/api");
	CHECK_INT(parse("nginx", &r, &err), 0);
	bs_image_ref_repo(&r, buf, sizeof(buf));
	CHECK_STR(buf, "docker.io/library/nginx");
	bs_image_ref_repo(&r, buf, 10);
	CHECK_STR(buf, "docker.io");
}

TEST(digest_ok)
{
	CHECK(bs_digest_ok("sha256:" D64));
	CHECK(!bs_digest_ok(NULL));
	CHECK(!bs_digest_ok(""));
	CHECK(!bs_digest_ok("sha256:"));
	CHECK(!bs_digest_ok("sha256:" D64 "0"));
	CHECK(!bs_digest_ok("sha256:"
			    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde"));
	CHECK(!bs_digest_ok("SHA256:" D64));
	CHECK(!bs_digest_ok("sha256:"
			    "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"));
	CHECK(!bs_digest_ok("sha512:" D64));
	CHECK(!bs_digest_ok("sha256:"
			    "g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
}

int main(void)
{
	RUN(good_references);
	RUN(bad_references);
	RUN(tag_length);
	RUN(name_length);
	RUN(repo);
	RUN(digest_ok);
	return DONE();
}
