/* bind_test.c - lib/config/bind.c: the declarative schema binder. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/bind.h"
#include "config/yaml_node.h"
#include "harness.h"

struct sub {
	int x;
	char *s;
};

struct t {
	char *name;
	char *path;
	char buf[8];
	int n;
	int any;
	int flag;
	int64_t dur_ms;
	int64_t dur_s;
	uint64_t size;
	char **list;
	size_t list_count;
	int color;
	struct sub sub;
	char *secret;
	char *keyfile;
	char *lower;
};

static const struct bs_bind_enum colors[] = {{"red", 1}, {"green", 2}, {"blue", 3}, {NULL, 0}};

static int has_pw(const char *v)
{
	return strstr(v, "pw=") != NULL;
}

static int check_lower(const char *keypath, const char *v, struct bs_err *err)
{
	const char *c;

	for (c = v; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			return bs_err_set(err, BS_ERR_CONFIG, "'%s' must be lower case for '%s'", v,
					  keypath);
	return 0;
}

static const struct bs_bind_field sub_fields[] = {
	BS_BIND_F_INT("x", struct sub, x, 0, 10),
	BS_BIND_F_STRING("s", struct sub, s, 0),
	BS_BIND_F_END,
};

static const struct bs_bind_field fields[] = {
	BS_BIND_F_STRING("name", struct t, name, 0),
	BS_BIND_F_PATH("path", struct t, path, 0),
	{ .key = "buf", .type = BS_BIND_STRBUF, .offset = offsetof(struct t, buf), .size = 8 },
	BS_BIND_F_INT("n", struct t, n, 1, 64),
	BS_BIND_F_INT("any", struct t, any, 0, 0),
	BS_BIND_F_BOOL("flag", struct t, flag),
	BS_BIND_F_DURATION("dur_ms", struct t, dur_ms, 1000),
	{ .key = "dur_s", .type = BS_BIND_DURATION, .offset = offsetof(struct t, dur_s),
	  .min = 60, .max = 3600 },
	BS_BIND_F_SIZE("size", struct t, size, 1024, 1 << 30),
	{ .key = "list", .type = BS_BIND_STRLIST, .offset = offsetof(struct t, list),
	  .count_offset = offsetof(struct t, list_count), .max = 3 },
	BS_BIND_F_ENUM("color", struct t, color, colors),
	BS_BIND_F_TABLE("sub", struct t, sub, sub_fields),
	{ .key = "secret", .type = BS_BIND_STRING, .offset = offsetof(struct t, secret),
	  .flags = BS_BIND_SECRET, .has_secret = has_pw, .hint = "secrets go in files" },
	BS_BIND_F_PATH("keyfile", struct t, keyfile, BS_BIND_SECRET_FILE),
	{ .key = "lower", .type = BS_BIND_STRING, .offset = offsetof(struct t, lower),
	  .check = check_lower },
	BS_BIND_F_END,
};

static struct bs_err err;
static struct bs_bind_ctx ctx;
static struct t t;

static void reset(void)
{
	bs_bind_release(fields, &t);
	memset(&t, 0, sizeof(t));
	memset(&ctx, 0, sizeof(ctx));
	bs_err_init(&err);
}

/* Bind text into t (over what t holds).  Returns the bind result, or -2 if
 * the YAML did not load. */
static int bind_text(const char *text, const struct bs_bind_field *fl, void *base)
{
	struct bs_ydoc *doc = NULL;
	int rc;

	bs_err_init(&err);
	if (bs_ydoc_load_string(&doc, "b.yaml", text, strlen(text), 0, &err) < 0)
		return -2;
	rc = bs_bind_table(&ctx, fl, doc->root, NULL, base, &err);
	bs_ydoc_free(doc);
	return rc;
}

static int bind(const char *text)
{
	return bind_text(text, fields, &t);
}

/* Capture what the library logs to stderr while running fn. */
static char captured[4096];

static void capture(void (*fn)(void))
{
	FILE *tmp = tmpfile();
	int saved;
	ssize_t n;

	fflush(stderr);
	saved = dup(2);
	dup2(fileno(tmp), 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = (ssize_t)fread(captured, 1, sizeof(captured) - 1, tmp);
	captured[n > 0 ? n : 0] = '\0';
	fclose(tmp);
}

TEST(all_types)
{
	reset();
	CHECK_INT(bind("name: backstop\n"
		       "path: /abs/file\n"
		       "buf: seven77\n"
		       "n: 64\n"
		       "any: -12\n"
		       "flag: yes\n"
		       "dur_ms: 1m30s\n"
		       "dur_s: 1h\n"
		       "size: 8MiB\n"
		       "list: [a, \"b c\"]\n"
		       "color: Green\n"
		       "sub:\n  x: 10\n  s: inner\n"
		       "secret: \"pw=x\"\n"
		       "lower: fine\n"),
		  0);
	CHECK_STR(err.msg, "");
	CHECK_STR(t.name, "backstop");
	CHECK_STR(t.path, "/abs/file");
	CHECK_STR(t.buf, "seven77");
	CHECK_INT(t.n, 64);
	CHECK_INT(t.any, -12);
	CHECK_INT(t.flag, 1);
	CHECK_INT(t.dur_ms, 90000);
	CHECK_INT(t.dur_s, 3600);
	CHECK(t.size == 8ULL << 20);
	CHECK_INT(t.list_count, 2);
	if (t.list_count == 2) {
		CHECK_STR(t.list[0], "a");
		CHECK_STR(t.list[1], "b c");
	}
	CHECK_INT(t.color, 2);
	CHECK_INT(t.sub.x, 10);
	CHECK_STR(t.sub.s, "inner");
	CHECK_STR(t.secret, "pw=x");
	CHECK_INT(ctx.inline_secrets, 1);
	CHECK_INT(ctx.secret_line, 15);
	CHECK_INT(ctx.secret_column, 9);

	/* binding again replaces (the old strings are freed: ASan would see a leak) */
	CHECK_INT(bind("name: other\nlist: [z]\nsub:\n  s: again\n"), 0);
	CHECK_STR(t.name, "other");
	CHECK_INT(t.list_count, 1);
	CHECK_STR(t.sub.s, "again");
	CHECK_INT(t.sub.x, 10);

	bs_bind_release(fields, &t);
	CHECK(t.name == NULL && t.list == NULL && t.list_count == 0 && t.sub.s == NULL);
	CHECK(t.secret == NULL);
	bs_bind_release(fields, NULL);
	bs_bind_release(NULL, &t);
}

TEST(null_keeps_default)
{
	reset();
	t.n = 7;
	t.flag = 1;
	CHECK_INT(bind("n:\nflag: ~\nsub:\nname: null\n"), 0);
	CHECK_INT(t.n, 7);
	CHECK_INT(t.flag, 1);
	CHECK(t.name == NULL);
	CHECK_INT(bind(""), 0);
	CHECK_INT(bind("~\n"), 0);
}

TEST(paths)
{
	reset();
	ctx.base_dir = "/etc/backstop";
	CHECK_INT(bind("path: hooks/pre\n"), 0);
	CHECK_STR(t.path, "/etc/backstop/hooks/pre");
	CHECK_INT(bind("path: /abs\n"), 0);
	CHECK_STR(t.path, "/abs");
	CHECK_INT(bind("path: s3://bucket/prefix\n"), 0);
	CHECK_STR(t.path, "s3://bucket/prefix");
	ctx.base_dir = "/";
	CHECK_INT(bind("path: x\n"), 0);
	CHECK_STR(t.path, "/x");
	ctx.base_dir = "conf/";
	CHECK_INT(bind("path: x\n"), 0);
	CHECK_STR(t.path, "conf/x");
	ctx.base_dir = ".";
	CHECK_INT(bind("path: x\n"), 0);
	CHECK_STR(t.path, "x");
	ctx.base_dir = NULL;
	CHECK_INT(bind("path: rel/x\n"), 0);
	CHECK_STR(t.path, "rel/x");
	/* strings are never resolved */
	ctx.base_dir = "/etc";
	CHECK_INT(bind("name: rel/x\n"), 0);
	CHECK_STR(t.name, "rel/x");
	CHECK_INT(bind("path: \"\"\n"), -1);
	CHECK_STR(err.msg, "b.yaml:1:7: empty path for 'path'");
}

TEST(scalar_errors)
{
	reset();
	CHECK_INT(bind("n: abc\n"), -1);
	CHECK_INT(err.code, BS_ERR_CONFIG);
	CHECK_STR(err.msg, "b.yaml:1:4: invalid integer 'abc' for 'n'");
	CHECK_INT(bind("n: 4.0\n"), -1);
	CHECK_STR(err.msg, "b.yaml:1:4: invalid integer '4.0' for 'n'");
	CHECK_INT(bind("n: \" 4\"\n"), -1);
	CHECK_STR(err.msg, "b.yaml:1:4: invalid integer ' 4' for 'n'");
	CHECK_INT(bind("n: 65\n"), -1);
	CHECK_STR(err.msg, "b.yaml:1:4: value 65 for 'n' is out of range (1..64)");
	CHECK_INT(bind("n: 0\n"), -1);
	CHECK_STR(err.msg, "b.yaml:1:4: value 0 for 'n' is out of range (1..64)");
	CHECK_INT(bind("any: 99999999999\n"), -1);
	CHECK_STR(err.msg,
		  "b.yaml:1:6: value 99999999999 for 'any' is out of range (-2147483648..2147483647)");
	CHECK_INT(bind("any: 99999999999999999999\n"), -1);
	CHECK_STR(err.msg, "b.yaml:1:6: invalid integer '99999999999999999999' for 'any'");
	CHECK_INT(bind("n: \"12\"\n"), 0); /* quoted numbers are fine */
	CHECK_INT(t.n, 12);

	CHECK_INT(bind("flag: maybe\n"), -1);
	CHECK_STR(err.msg, "b.yaml:1:7: invalid boolean 'maybe' for 'flag'");
	CHECK_STR(err.hint, "write true or false");
	CHECK_INT(bind("buf: eightchr\n"), -1);
	CHECK_STR(err.msg, "b.yaml:1:6: value for 'buf' is too long (at most 7 bytes)");
	CHECK_INT(bind("color: purple\n"), -1);
	CHECK_STR(err.msg, "b.yaml:1:8: invalid value 'purple' for 'color'");
	CHECK_STR(err.hint, "expected one of: red, green, blue");

	CHECK_INT(bind("dur_ms: 5 minutes\n"), -1);
	CHECK_STR(err.msg, "b.yaml:1:9: invalid duration '5 minutes' for 'dur_ms': unknown unit");
	CHECK(strstr(err.hint, "'m' means minutes") != NULL);
	CHECK_INT(bind("dur_s: 30s\n"), -1);
	CHECK_STR(err.msg, "b.yaml:1:8: duration 30s for 'dur_s' is out of range (1m..1h)");
	CHECK_INT(bind("dur_ms: 300000000y\n"), -1);
	CHECK_STR(err.msg, "b.yaml:1:9: duration '300000000y' for 'dur_ms' is too large");

	CHECK_INT(bind("size: 12 parsecs\n"), -1);
	CHECK_STR(err.msg, "b.yaml:1:7: invalid size '12 parsecs' for 'size': unknown unit");
	CHECK_INT(bind("size: 512\n"), -1);
	CHECK_STR(err.msg, "b.yaml:1:7: size 512B for 'size' is out of range (1KiB..1GiB)");
	CHECK_INT(bind("size: 2G\n"), -1);
	CHECK_STR(err.msg, "b.yaml:1:7: size 2GiB for 'size' is out of range (1KiB..1GiB)");

	CHECK_INT(bind("lower: ABC\n"), -1);
	CHECK_STR(err.msg, "b.yaml:1:8: 'ABC' must be lower case for 'lower'");

	/* the field's hint wins */
	CHECK_INT(bind("secret: [a]\n"), -1);
	CHECK_STR(err.msg, "b.yaml:1:9: expected a string for 'secret', got a sequence");
	CHECK_STR(err.hint, "secrets go in files");
}

TEST(kind_errors)
{
	reset();
	CHECK_INT(bind("name:\n  a: 1\n"), -1);
	CHECK_STR(err.msg, "b.yaml:2:3: expected a string for 'name', got a mapping");
	CHECK_INT(bind("n: [1]\n"), -1);
	CHECK_STR(err.msg, "b.yaml:1:4: expected an integer for 'n', got a sequence");
	CHECK_INT(bind("sub: 3\n"), -1);
	CHECK_STR(err.msg, "b.yaml:1:6: expected a mapping for 'sub', got a scalar");
	CHECK_STR(err.hint, "write 'key: value' lines indented under 'sub:', with keys: x, s");
	CHECK_INT(bind("sub: [1]\n"), -1);
	CHECK_STR(err.msg, "b.yaml:1:6: expected a mapping for 'sub', got a sequence");
	CHECK_INT(bind("- a\n"), -1);
	CHECK_STR(err.msg, "b.yaml:1:1: expected a mapping at the top level, got a sequence");
	CHECK_INT(bind("list: a\n"), -1);
	CHECK_STR(err.msg, "b.yaml:1:7: expected a list of strings for 'list', got a scalar");
	CHECK_STR(err.hint, "write '[value]' for a single item");
	CHECK_INT(bind("list: [a, {b: 1}]\n"), -1);
	CHECK_STR(err.msg, "b.yaml:1:11: expected a string in 'list', got a mapping");
	CHECK_INT(bind("list: [a, '']\n"), -1);
	CHECK_STR(err.msg, "b.yaml:1:11: empty item in 'list'");
	CHECK_INT(bind("list: [a, b, c, d]\n"), -1);
	CHECK_STR(err.msg, "b.yaml:1:7: too many items in 'list' (at most 3)");
	CHECK_INT(bind("sub:\n  x: 11\n"), -1);
	CHECK_STR(err.msg, "b.yaml:2:6: value 11 for 'sub.x' is out of range (0..10)");
	CHECK(t.list == NULL); /* failed lists leave nothing behind */
}

TEST(unknown_keys)
{
	reset();
	CHECK_INT(bind("nmae: x\n"), -1);
	CHECK_STR(err.msg, "b.yaml:1:1: unknown key 'nmae'");
	CHECK_STR(err.hint, "did you mean 'name'?");
	CHECK_INT(bind("Name: x\n"), -1);
	CHECK_STR(err.hint, "did you mean 'name'?");
	CHECK_INT(bind("keyfiel: x\n"), -1);
	CHECK_STR(err.hint, "did you mean 'keyfile'?");
	CHECK_INT(bind("zzzzzz: x\n"), -1);
	CHECK_STR(err.msg, "b.yaml:1:1: unknown key 'zzzzzz'");
	CHECK_STR(err.hint, "valid keys are: name, path, buf, n, any, flag, dur_ms, dur_s, size, "
			    "list, color, sub, secret, keyfile, lower");
	CHECK_INT(bind("sub:\n  y: 1\n"), -1);
	CHECK_STR(err.msg, "b.yaml:2:3: unknown key 'y' in 'sub'");
	CHECK_STR(err.hint, "did you mean 'x'?");
	CHECK_INT(bind("sub:\n  long_unknown: 1\n"), -1);
	CHECK_STR(err.hint, "valid keys in 'sub' are: x, s");
}

TEST(errcode_and_required)
{
	static const struct bs_bind_field req[] = {
		{ .key = "must", .type = BS_BIND_STRING, .offset = offsetof(struct t, name),
		  .flags = BS_BIND_REQUIRED },
		BS_BIND_F_INT("n", struct t, n, 0, 5),
		BS_BIND_F_END,
	};

	reset();
	ctx.errcode = BS_ERR_POLICY;
	CHECK_INT(bind("n: 99\n"), -1);
	CHECK_INT(err.code, BS_ERR_POLICY);
	CHECK_INT(bind_text("n: 1\n", req, &t), -1);
	CHECK_STR(err.msg, "b.yaml:1:1: missing required key 'must'");
	CHECK_INT(bind_text("must:\n", req, &t), -1);
	CHECK_STR(err.msg, "b.yaml:1:6: missing value for 'must'");
	CHECK_INT(bind_text("", req, &t), -1);
	CHECK_STR(err.msg, "missing required key 'must'");
	CHECK_INT(err.code, BS_ERR_POLICY);
	CHECK_INT(bind_text("must: here\n", req, &t), 0);
	CHECK_STR(t.name, "here");
}

TEST(secrets)
{
	reset();
	setenv("BS_T_PW", "pw=hidden", 1);
	/* interpolated from the environment: not in the file */
	CHECK_INT(bind("secret: \"${BS_T_PW}\"\n"), 0);
	CHECK_STR(t.secret, "pw=hidden");
	CHECK_INT(ctx.inline_secrets, 0);
	CHECK_INT(bind("secret: \"user=a pw=$$x\"\n"), 0);
	CHECK_INT(ctx.inline_secrets, 1);
	unsetenv("BS_T_PW");
}

static char secret_path[64];

static void bind_keyfile(void)
{
	char text[128];

	snprintf(text, sizeof(text), "keyfile: %s\n", secret_path);
	CHECK_INT(bind(text), 0);
}

TEST(secret_file_permissions)
{
	int fd;

	reset();
	strcpy(secret_path, "/tmp/bs-bind-test-XXXXXX");
	fd = mkstemp(secret_path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	close(fd);
	chmod(secret_path, 0600);
	capture(bind_keyfile);
	CHECK_STR(captured, "");
	chmod(secret_path, 0640);
	capture(bind_keyfile);
	CHECK(strstr(captured, "b.yaml:1:10: secret file '") != NULL);
	CHECK(strstr(captured, "(keyfile) is accessible by group or others (mode 0640)") != NULL);
	unlink(secret_path);
	/* a missing file is not judged here (the reader reports it) */
	capture(bind_keyfile);
	CHECK_STR(captured, "");
}

TEST(size_parse_and_format)
{
	static const struct {
		const char *in;
		uint64_t want;
	} good[] = {
		{"0", 0},          {"512", 512},          {"512B", 512},
		{"64KiB", 65536},  {"64k", 65536},        {"64 KB", 65536},
		{"8MiB", 8 << 20}, {"8m", 8 << 20},       {"1G", 1ULL << 30},
		{"1gib", 1ULL << 30}, {"2TiB", 2ULL << 40},
	};
	static const char *bad[] = {"", "MiB", "-1", "1.5G", "8 MiB extra", "8  MiB", "1PiB",
				    "18446744073709551616", "17179869184GiB"};
	char buf[32];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint64_t v = 1;

		bs_err_init(&err);
		CHECK(bs_size_parse(good[i].in, &v, &err) == 0);
		if (v != good[i].want)
			printf("#   size '%s' -> %llu\n", good[i].in, (unsigned long long)v);
		CHECK(v == good[i].want);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 0;

		bs_err_init(&err);
		if (bs_size_parse(bad[i], &v, &err) == 0)
			printf("#   size '%s' accepted\n", bad[i]);
		CHECK(err.code == BS_ERR_CONFIG);
	}
	bs_size_parse("1.5G", &(uint64_t){0}, &err);
	CHECK_STR(err.msg, "invalid size '1.5G': fractions are not allowed");
	bs_size_parse("-1", &(uint64_t){0}, &err);
	CHECK_STR(err.msg, "invalid size '-1': negative sizes are not allowed");
	bs_size_parse("17179869184GiB", &(uint64_t){0}, &err);
	CHECK_STR(err.msg, "invalid size '17179869184GiB': value too large");

	CHECK_STR(bs_size_format(8ULL << 20, buf, sizeof(buf)), "8MiB");
	CHECK_STR(bs_size_format(65536, buf, sizeof(buf)), "64KiB");
	CHECK_STR(bs_size_format(1000, buf, sizeof(buf)), "1000B");
	CHECK_STR(bs_size_format(0, buf, sizeof(buf)), "0B");
	CHECK_STR(bs_size_format(3ULL << 40, buf, sizeof(buf)), "3TiB");
	CHECK_STR(bs_size_format((1ULL << 20) + 1024, buf, sizeof(buf)), "1025KiB");
}

TEST(bool_parse)
{
	static const char *yes[] = {"true", "True", "TRUE", "yes", "on", "Yes"};
	static const char *no[] = {"false", "False", "no", "off", "OFF"};
	static const char *bad[] = {"", "1", "0", "y", "n", "maybe", "truee"};
	size_t i;
	int b;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		CHECK(bs_bool_parse(yes[i], &b) == 0 && b == 1);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		CHECK(bs_bool_parse(no[i], &b) == 0 && b == 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(bs_bool_parse(bad[i], &b) == -1);
}

int main(void)
{
	RUN(all_types);
	RUN(null_keeps_default);
	RUN(paths);
	RUN(scalar_errors);
	RUN(kind_errors);
	RUN(unknown_keys);
	RUN(errcode_and_required);
	RUN(secrets);
	RUN(secret_file_permissions);
	RUN(size_parse_and_format);
	RUN(bool_parse);
	reset();
	return DONE();
}
