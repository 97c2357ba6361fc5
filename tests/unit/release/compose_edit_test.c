/* compose_edit_test.c - lib/release/compose_edit.c: pinning a service's
 * image in compose files of the shapes people write (comments, an x- anchor
 * merged into services, flow mappings, quoted styles, CRLF, no final
 * newline, a byte order mark and non-ASCII text before the image, anchors
 * and tags on the image), each checked to change the image's bytes and
 * nothing else; reading the image through aliases and merge keys; and every
 * refusal, with its file:line:column. */
#include <stdlib.h>
#include <string.h>

#include "release/compose_edit.h"
#include "harness.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define NEW "registry.example.com/acme/api@" D1

static struct bs_err err;
static char old[512];

/* Pin service in text to new_image and check that the output is the input
 * with old_lit (as written, found right after marker) replaced by new_lit:
 * the bytes before it and after it equal, byte for byte. */
static void pin_only_image(const char *text, size_t len, const char *service, const char *new_image,
			   const char *marker, const char *old_lit, const char *new_lit, const char *want_old)
{
	const char *m;
	char *out = NULL;
	size_t out_len = 0, p, ol = strlen(old_lit), nl = strlen(new_lit);
	int rc;

	bs_err_init(&err);
	old[0] = 0;
	rc = bs_compose_pin(text, len, "compose.yaml", service, new_image, &out, &out_len, old, sizeof(old), &err);
	CHECK_INT(rc, 0);
	if (rc < 0) {
		printf("#   error: %s\n#   detail: %s\n", err.msg, err.detail);
		return;
	}
	CHECK_STR(old, want_old);
	m = strstr(text, marker);
	CHECK(m != NULL);
	if (!m || !out) {
		free(out);
		return;
	}
	p = (size_t)(m - text) + strlen(marker);
	CHECK(memcmp(text + p, old_lit, ol) == 0);
	CHECK_INT(out_len, len - ol + nl);
	if (out_len == len - ol + nl) {
		CHECK(memcmp(out, text, p) == 0);                                /* prefix */
		CHECK(memcmp(out + p, new_lit, nl) == 0);                        /* the image */
		CHECK(memcmp(out + p + nl, text + p + ol, len - p - ol) == 0);   /* suffix */
	}
	CHECK(out[out_len] == '\0');
	free(out);
}

static int pin_fails(const char *text, const char *service)
{
	char *out = (char *)"x";
	size_t out_len = 1;
	int rc;

	bs_err_init(&err);
	rc = bs_compose_pin(text, strlen(text), "compose.yaml", service, NEW, &out, &out_len, old, sizeof(old), &err);
	CHECK(out == NULL);
	CHECK_INT(out_len, 0);
	return rc;
}

static int contains(const char *s, const char *sub)
{
	if (strstr(s, sub))
		return 1;
	printf("#   '%s' does not contain '%s'\n", s, sub);
	return 0;
}

/* ---- edits ------------------------------------------------------------------ */

TEST(block_with_comments)
{
	static const char y[] =
		"# Production stack for acme.\n"
		"name: acme\n"
		"\n"
		"services:\n"
		"  # the public API\n"
		"  api:\n"
		"    image: registry.example.com/acme/api:1.4.2   # bumped by CI\n"
		"    ports:\n"
		"      - \"8080:80\"   # host:container\n"
		"\n"
		"  db:\n"
		"    image: postgres:15\n"
		"    volumes: [pgdata:/var/lib/postgresql/data]\n"
		"volumes:\n"
		"  pgdata: {}\n";

	pin_only_image(y, strlen(y), "api", NEW, "  api:\n    image: ", "registry.example.com/acme/api:1.4.2", NEW,
		       "registry.example.com/acme/api:1.4.2");
	pin_only_image(y, strlen(y), "db", "postgres@" D2, "  db:\n    image: ", "postgres:15", "postgres@" D2,
		       "postgres:15");
}

TEST(anchors_and_merges_elsewhere)
{
	static const char y[] =
		"x-common: &common\n"
		"  restart: always\n"
		"  logging:\n"
		"    driver: json-file\n"
		"    options: {max-size: \"10m\"}\n"
		"x-env: &env\n"
		"  TZ: UTC\n"
		"services:\n"
		"  api:\n"
		"    <<: *common\n"
		"    image: registry.example.com/acme/api:1.4.2\n"
		"    environment: *env\n"
		"  worker:\n"
		"    <<: *common\n"
		"    image: registry.example.com/acme/worker:1.4.2\n"
		"    environment:\n"
		"      <<: *env\n"
		"      QUEUE: jobs\n";
	char img[512];

	pin_only_image(y, strlen(y), "api", NEW, "  api:\n    <<: *common\n    image: ",
		       "registry.example.com/acme/api:1.4.2", NEW, "registry.example.com/acme/api:1.4.2");
	pin_only_image(y, strlen(y), "worker", "registry.example.com/acme/worker@" D2,
		       "  worker:\n    <<: *common\n    image: ", "registry.example.com/acme/worker:1.4.2",
		       "registry.example.com/acme/worker@" D2, "registry.example.com/acme/worker:1.4.2");
	bs_err_init(&err);
	CHECK_INT(bs_compose_image(y, strlen(y), "compose.yaml", "worker", img, sizeof(img), &err), 0);
	CHECK_STR(img, "registry.example.com/acme/worker:1.4.2");
}

TEST(flow_mappings)
{
	static const char y[] =
		"services: {\n"
		"  api: {image: registry.example.com/acme/api:1.4.2, ports: [\"8080:80\"]},\n"
		"  db: {image: 'postgres:15'}\n"
		"}\n";
	static const char y2[] = "services:\n  api: {image: \"registry.example.com/acme/api:1\", ports: [80]}\n";

	pin_only_image(y, strlen(y), "api", NEW, "{image: ", "registry.example.com/acme/api:1.4.2", NEW,
		       "registry.example.com/acme/api:1.4.2");
	pin_only_image(y, strlen(y), "db", "postgres@" D1, "db: {image: ", "'postgres:15'", "'postgres@" D1 "'",
		       "postgres:15");
	pin_only_image(y2, strlen(y2), "api", NEW, "{image: ", "\"registry.example.com/acme/api:1\"",
		       "\"" NEW "\"", "registry.example.com/acme/api:1");
}

TEST(quoted_styles)
{
	static const char single[] = "services:\n  api:\n    image: 'registry.example.com/acme/api:1.4.2'\n";
	static const char dbl[] = "services:\n  api:\n    image: \"registry.example.com/acme/api:1.4.2\"\n";
	/* escapes in the old value are read, and the new value is escaped */
	static const char esc_s[] = "services:\n  api:\n    image: 'it''s:1'\n";
	static const char esc_d[] = "services:\n  api:\n    image: \"reg.example.com/a\\u0070i:1\\t\"\n";

	pin_only_image(single, strlen(single), "api", NEW, "image: ", "'registry.example.com/acme/api:1.4.2'",
		       "'" NEW "'", "registry.example.com/acme/api:1.4.2");
	pin_only_image(dbl, strlen(dbl), "api", NEW, "image: ", "\"registry.example.com/acme/api:1.4.2\"",
		       "\"" NEW "\"", "registry.example.com/acme/api:1.4.2");
	pin_only_image(esc_s, strlen(esc_s), "api", "o'k", "image: ", "'it''s:1'", "'o''k'", "it's:1");
	pin_only_image(esc_d, strlen(esc_d), "api", "a\"b\\c", "image: ", "\"reg.example.com/a\\u0070i:1\\t\"",
		       "\"a\\\"b\\\\c\"", "reg.example.com/api:1\t");
}

TEST(plain_refuses_what_plain_cannot_hold)
{
	static const char y[] = "services:\n  api:\n    image: foo\n";
	char *out = NULL;
	size_t n = 0;

	bs_err_init(&err);
	CHECK(bs_compose_pin(y, strlen(y), "compose.yaml", "api", "foo bar: #x", &out, &n, NULL, 0, &err) < 0);
	CHECK(out == NULL);
	CHECK(contains(err.msg, "plain"));
	bs_err_init(&err);
	CHECK(bs_compose_pin(y, strlen(y), "compose.yaml", "api", "foo\nbar", &out, &n, NULL, 0, &err) < 0);
	CHECK_INT(err.code, BS_ERR_USAGE);
	bs_err_init(&err);
	CHECK(bs_compose_pin(y, strlen(y), "compose.yaml", "api", "", &out, &n, NULL, 0, &err) < 0);
	CHECK_INT(err.code, BS_ERR_USAGE);
}

TEST(crlf_line_endings)
{
	static const char y[] =
		"# windows\r\n"
		"services:\r\n"
		"  api:\r\n"
		"    image: registry.example.com/acme/api:1.4.2\r\n"
		"    restart: always\r\n"
		"  db:\r\n"
		"    image: \"postgres:15\"\r\n";

	pin_only_image(y, strlen(y), "api", NEW, "api:\r\n    image: ", "registry.example.com/acme/api:1.4.2", NEW,
		       "registry.example.com/acme/api:1.4.2");
	pin_only_image(y, strlen(y), "db", "postgres@" D1, "db:\r\n    image: ", "\"postgres:15\"",
		       "\"postgres@" D1 "\"", "postgres:15");
}

TEST(no_trailing_newline)
{
	static const char y[] = "services:\n  api:\n    image: registry.example.com/acme/api:1.4.2";
	static const char q[] = "services:\n  api:\n    image: 'x:1'";

	pin_only_image(y, strlen(y), "api", NEW, "image: ", "registry.example.com/acme/api:1.4.2", NEW,
		       "registry.example.com/acme/api:1.4.2");
	pin_only_image(q, strlen(q), "api", NEW, "image: ", "'x:1'", "'" NEW "'", "x:1");
}

TEST(digest_pinned)
{
	static const char y[] = "services:\n  api:\n    image: registry.example.com/acme/api@" D2 "\n";
	char *out = NULL, img[512];
	size_t n = 0;

	pin_only_image(y, strlen(y), "api", NEW, "image: ", "registry.example.com/acme/api@" D2, NEW,
		       "registry.example.com/acme/api@" D2);
	/* already there: a copy of the input */
	bs_err_init(&err);
	CHECK_INT(bs_compose_pin(y, strlen(y), "compose.yaml", "api", "registry.example.com/acme/api@" D2, &out, &n,
				 old, sizeof(old), &err),
		  0);
	CHECK_INT(n, strlen(y));
	CHECK(out && memcmp(out, y, n) == 0);
	free(out);
	bs_err_init(&err);
	CHECK_INT(bs_compose_image(y, strlen(y), "compose.yaml", "api", img, sizeof(img), &err), 0);
	CHECK_STR(img, "registry.example.com/acme/api@" D2);
	/* too small a buffer is an error, not a truncated image */
	bs_err_init(&err);
	CHECK(bs_compose_image(y, strlen(y), "compose.yaml", "api", img, 20, &err) < 0);
}

/* Mark indexes count characters: text before the image with multi-byte
 * characters and a byte order mark must not shift the edit. */
TEST(utf8_before_the_image)
{
	static const char y[] =
		"\xEF\xBB\xBF# Dienste f\xC3\xBCr die \xE2\x82\xAC-Abrechnung \xF0\x9F\x9A\x80\n"
		"services:\n"
		"  api:\n"
		"    labels: {owner: \"J\xC3\xBCrgen\"}\n"
		"    image: registry.example.com/acme/api:1.4.2\n";

	pin_only_image(y, strlen(y), "api", NEW, "    image: ", "registry.example.com/acme/api:1.4.2", NEW,
		       "registry.example.com/acme/api:1.4.2");
}

TEST(anchor_and_tag_on_the_image_stay)
{
	static const char a[] = "services:\n  api:\n    image: &img registry.example.com/acme/api:1\n";
	static const char t[] = "services:\n  api:\n    image: !!str 'registry.example.com/acme/api:1'\n";
	static const char k[] = "services:\n  \"api\":\n    'image':   registry.example.com/acme/api:1 # x\n";

	pin_only_image(a, strlen(a), "api", NEW, "image: &img ", "registry.example.com/acme/api:1", NEW,
		       "registry.example.com/acme/api:1");
	pin_only_image(t, strlen(t), "api", NEW, "image: !!str ", "'registry.example.com/acme/api:1'",
		       "'" NEW "'", "registry.example.com/acme/api:1");
	pin_only_image(k, strlen(k), "api", NEW, "'image':   ", "registry.example.com/acme/api:1", NEW,
		       "registry.example.com/acme/api:1");
}

/* A service merged into another that has its own image: editing it
 * changes only it. */
TEST(merged_service_with_own_image_elsewhere)
{
	static const char y[] =
		"services:\n"
		"  api: &api\n"
		"    image: registry.example.com/acme/api:1\n"
		"    restart: always\n"
		"  worker:\n"
		"    <<: *api\n"
		"    image: registry.example.com/acme/worker:1\n";

	pin_only_image(y, strlen(y), "api", NEW, "  api: &api\n    image: ", "registry.example.com/acme/api:1", NEW,
		       "registry.example.com/acme/api:1");
}

/* ---- reading ------------------------------------------------------------------ */

TEST(read_follows_aliases_and_merges)
{
	static const char y[] =
		"x-img: &img registry.example.com/acme/api:7\n"
		"x-base: &base\n"
		"  image: registry.example.com/acme/base:3\n"
		"services:\n"
		"  api:\n"
		"    image: *img\n"
		"  job:\n"
		"    <<: *base\n"
		"  blk:\n"
		"    image: |\n"
		"      registry.example.com/acme/blk:1\n";
	char img[512];

	bs_err_init(&err);
	CHECK_INT(bs_compose_image(y, strlen(y), "compose.yaml", "api", img, sizeof(img), &err), 0);
	CHECK_STR(img, "registry.example.com/acme/api:7");
	CHECK_INT(bs_compose_image(y, strlen(y), "compose.yaml", "job", img, sizeof(img), &err), 0);
	CHECK_STR(img, "registry.example.com/acme/base:3");
	CHECK_INT(bs_compose_image(y, strlen(y), "compose.yaml", "blk", img, sizeof(img), &err), 0);
	CHECK_STR(img, "registry.example.com/acme/blk:1");
	CHECK(bs_compose_image(y, strlen(y), "compose.yaml", "nope", img, sizeof(img), &err) < 0);
	CHECK_INT(err.code, BS_ERR_CONFIG);
}

/* ---- refusals ----------------------------------------------------------------- */

TEST(syntax_error)
{
	CHECK(pin_fails("services:\n  api:\n    image: [foo\n", "api") < 0);
	CHECK_INT(err.code, BS_ERR_CONFIG);
	CHECK(contains(err.msg, "compose.yaml:"));
	CHECK(contains(err.msg, "invalid YAML"));
	CHECK(err.hint[0] != 0);
	CHECK(pin_fails("services:\n  api:\n    image: \"\xff\"\n", "api") < 0);
	CHECK_INT(err.code, BS_ERR_CONFIG);
	CHECK(contains(err.hint, "UTF-8"));
}

TEST(no_services)
{
	CHECK(pin_fails("version: '3'\nnetworks: {}\n", "api") < 0);
	CHECK_INT(err.code, BS_ERR_CONFIG);
	CHECK(contains(err.msg, "no top-level 'services:'"));
	CHECK(err.hint[0] != 0);
	CHECK(pin_fails("", "api") < 0);
	CHECK(contains(err.msg, "empty"));
	CHECK(pin_fails("# only a comment\n", "api") < 0);
	CHECK(pin_fails("- a\n- b\n", "api") < 0);
	CHECK(contains(err.msg, "compose.yaml:1:1:"));
	CHECK(pin_fails("services: [api]\n", "api") < 0);
	CHECK(contains(err.msg, "not a mapping"));
}

TEST(service_not_found)
{
	CHECK(pin_fails("services:\n  web:\n    image: a\n  db:\n    image: b\n", "api") < 0);
	CHECK_INT(err.code, BS_ERR_CONFIG);
	CHECK(contains(err.msg, "compose.yaml:1:1: no service 'api'"));
	CHECK(contains(err.detail, "web, db"));
	CHECK(contains(err.hint, "compose.service"));
}

TEST(service_without_image)
{
	CHECK(pin_fails("services:\n  api:\n    build: .\n    ports: [80]\n", "api") < 0);
	CHECK_INT(err.code, BS_ERR_CONFIG);
	CHECK(contains(err.msg, "compose.yaml:2:3: services.api has no 'image:'"));
	CHECK(contains(err.msg, "build"));
	CHECK(err.hint[0] != 0);
	CHECK(pin_fails("services:\n  api:\n", "api") < 0);
	CHECK(contains(err.msg, "no 'image:'"));
	CHECK(pin_fails("services:\n  api:\n    image:\n", "api") < 0);
	CHECK(contains(err.msg, "empty"));
	CHECK(pin_fails("services:\n  api:\n    image: {name: x}\n", "api") < 0);
	CHECK(contains(err.msg, "a mapping"));
}

TEST(image_alias_refused)
{
	static const char y[] =
		"x-img: &img registry.example.com/acme/api:1\n"
		"services:\n"
		"  api:\n"
		"    image: *img\n";

	CHECK(pin_fails(y, "api") < 0);
	CHECK_INT(err.code, BS_ERR_CONFIG);
	CHECK(contains(err.msg, "compose.yaml:4:12: services.api.image is an alias of &img (line 1)"));
	CHECK(contains(err.hint, "image: on the service itself"));
}

TEST(merged_image_refused)
{
	static const char y[] =
		"x-common: &common\n"
		"  image: registry.example.com/acme/api:1\n"
		"  restart: always\n"
		"services:\n"
		"  api:\n"
		"    <<: *common\n"
		"  worker:\n"
		"    <<: [*common]\n"
		"    command: work\n";
	static const char inl[] = "services:\n  api:\n    <<: {image: foo}\n";

	CHECK(pin_fails(y, "api") < 0);
	CHECK_INT(err.code, BS_ERR_CONFIG);
	CHECK(contains(err.msg, "compose.yaml:6:9: services.api.image is inherited through the merge key '<<' from "
				"&common (line 1)"));
	CHECK(contains(err.hint, "image: on the service itself"));
	CHECK(pin_fails(y, "worker") < 0);
	CHECK(contains(err.msg, "merge key"));
	CHECK(pin_fails(inl, "api") < 0);
	CHECK(contains(err.msg, "merge key"));
}

TEST(anchored_image_reused_refused)
{
	static const char y[] =
		"services:\n"
		"  api:\n"
		"    image: &img registry.example.com/acme/api:1\n"
		"  worker:\n"
		"    image: *img\n";
	static const char svc[] =
		"services:\n"
		"  api: &api\n"
		"    image: registry.example.com/acme/api:1\n"
		"  worker:\n"
		"    <<: *api\n"
		"    command: work\n";
	static const char whole[] =
		"services:\n"
		"  api: &api\n"
		"    image: registry.example.com/acme/api:1\n"
		"  copy: *api\n";

	CHECK(pin_fails(y, "api") < 0);
	CHECK_INT(err.code, BS_ERR_CONFIG);
	CHECK(contains(err.msg, "compose.yaml:5:12: services.api.image is anchored as &img and reused here by *img"));
	CHECK(contains(err.hint, "image: on the service itself"));
	CHECK(pin_fails(svc, "api") < 0);
	CHECK(contains(err.msg, "compose.yaml:5:9: services.api is anchored as &api"));
	CHECK(pin_fails(whole, "api") < 0);
	CHECK(contains(err.msg, "reused"));
	CHECK(pin_fails(whole, "copy") < 0);
	CHECK(contains(err.msg, "services.copy is an alias of &api"));
}

TEST(block_scalar_refused)
{
	CHECK(pin_fails("services:\n  api:\n    image: |\n      registry.example.com/acme/api:1\n", "api") < 0);
	CHECK_INT(err.code, BS_ERR_CONFIG);
	CHECK(contains(err.msg, "compose.yaml:3:12: services.api.image is a block scalar"));
	CHECK(pin_fails("services:\n  api:\n    image: >-\n      registry.example.com/acme/api:1\n", "api") < 0);
	CHECK(contains(err.msg, "block scalar"));
}

TEST(two_documents_refused)
{
	CHECK(pin_fails("services:\n  api:\n    image: a\n---\nservices:\n  api:\n    image: b\n", "api") < 0);
	CHECK_INT(err.code, BS_ERR_CONFIG);
	CHECK(contains(err.msg, "compose.yaml:4:1: a second YAML document"));
	CHECK(err.hint[0] != 0);
}

TEST(duplicate_keys_refused)
{
	CHECK(pin_fails("services:\n  api:\n    image: a\n    ports: [80]\n    image: b\n", "api") < 0);
	CHECK_INT(err.code, BS_ERR_CONFIG);
	CHECK(contains(err.msg, "compose.yaml:5:5: duplicate key 'image' in services.api (first at line 3)"));
	CHECK(pin_fails("services:\n  api:\n    image: a\n  api:\n    image: b\n", "api") < 0);
	CHECK(contains(err.msg, "duplicate key 'api'"));
	CHECK(pin_fails("services:\n  api: {image: a}\nservices: {}\n", "api") < 0);
	CHECK(contains(err.msg, "duplicate key 'services'"));
}

TEST(undefined_alias_refused)
{
	CHECK(pin_fails("services:\n  api:\n    <<: *nothing\n    image: a\n", "api") < 0);
	CHECK_INT(err.code, BS_ERR_CONFIG);
	CHECK(contains(err.msg, "compose.yaml:3:9: alias *nothing refers to no anchor"));
}

TEST(utf16_refused)
{
	static const char y[] = "\xFF\xFEs\0e\0";

	bs_err_init(&err);
	char *out = NULL;
	size_t n = 0;
	CHECK(bs_compose_pin(y, sizeof(y) - 1, "compose.yaml", "api", NEW, &out, &n, NULL, 0, &err) < 0);
	CHECK(contains(err.msg, "UTF-16"));
}

int main(void)
{
	RUN(block_with_comments);
	RUN(anchors_and_merges_elsewhere);
	RUN(flow_mappings);
	RUN(quoted_styles);
	RUN(plain_refuses_what_plain_cannot_hold);
	RUN(crlf_line_endings);
	RUN(no_trailing_newline);
	RUN(digest_pinned);
	RUN(utf8_before_the_image);
	RUN(anchor_and_tag_on_the_image_stay);
	RUN(merged_service_with_own_image_elsewhere);
	RUN(read_follows_aliases_and_merges);
	RUN(syntax_error);
	RUN(no_services);
	RUN(service_not_found);
	RUN(service_without_image);
	RUN(image_alias_refused);
	RUN(merged_image_refused);
	RUN(anchored_image_reused_refused);
	RUN(block_scalar_refused);
	RUN(two_documents_refused);
	RUN(duplicate_keys_refused);
	RUN(undefined_alias_refused);
	RUN(utf16_refused);
	return DONE();
}
