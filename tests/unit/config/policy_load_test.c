/* policy_load_test.c - lib/config/policy_load.c: the generic policy loader,
 * on a made-up "widget" policy kind (a string, an integer with bounds, a
 * duration, a list, a nested mapping, a kind/version header and a rule
 * that spans keys). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/policy_load.h"
#include "harness.h"

struct widget_limits {
	int burst;
	int64_t window_ms;
};

struct widget {
	char *name;
	int replicas;
	int64_t timeout_ms;
	char **tags;
	size_t ntags;
	struct widget_limits limits;
	int version;
	int inits; /* times init ran */
};

#define W struct widget
#define L struct widget_limits

static const struct bs_bind_field limits_fields[] = {
	BS_BIND_F_INT("burst", L, burst, 0, 1000),
	BS_BIND_F_DURATION("window", L, window_ms, 1000),
	BS_BIND_F_END,
};

static const struct bs_bind_field widget_fields[] = {
	BS_BIND_F_STRING("name", W, name, BS_BIND_REQUIRED),
	BS_BIND_F_INT("replicas", W, replicas, 1, 10),
	{ .key = "timeout", .type = BS_BIND_DURATION, .offset = offsetof(W, timeout_ms), .scale = 1000,
	  .min = 1, .max = 3600 },
	BS_BIND_F_STRLIST("tags", W, tags, ntags),
	BS_BIND_F_TABLE("limits", W, limits, limits_fields),
	BS_BIND_F_END,
};

static void widget_init(void *dest)
{
	W *w = dest;
	int inits = w->inits;

	memset(w, 0, sizeof(*w));
	w->replicas = 1;
	w->timeout_ms = 30000;
	w->limits.window_ms = 60000;
	w->inits = inits + 1;
}

/* The timeout must fit in the rate-limit window. */
static int widget_validate(void *dest, const struct bs_policy_src *src, struct bs_err *err)
{
	W *w = dest;

	w->version = src->version;
	if (w->timeout_ms > w->limits.window_ms) {
		bs_ynode_error(err, BS_ERR_POLICY, bs_ynode_get(src->map, "timeout"),
			       "timeout is longer than limits.window");
		bs_err_hint(err, "shorten the timeout");
		return -1;
	}
	return 0;
}

static const struct bs_policy_kind widget_kind = {
	.what = "widget policy",
	.section = "widget",
	.kind = "widget",
	.max_version = 2,
	.fields = widget_fields,
	.init = widget_init,
	.validate = widget_validate,
};

/* The same schema without a header or hooks. */
static const struct bs_policy_kind bare_kind = {
	.what = "bare policy",
	.fields = widget_fields,
};

static struct bs_err err;
static W w;
static char dir[] = "/tmp/bs-policy-load.XXXXXX";
static char path[PATH_MAX];

static int load(const char *text)
{
	bs_err_init(&err);
	bs_bind_release(widget_fields, &w);
	return bs_policy_load_buf(&widget_kind, "w.yaml", text, strlen(text), &w, &err);
}

static const char *write_file(const char *name, const char *text, size_t len)
{
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0)
		return NULL;
	return path;
}

static const char good[] = "kind: widget\n"
			   "version: 2\n"
			   "name: front door\n"
			   "replicas: 3\n"
			   "timeout: 45s\n"
			   "tags: [web, edge]\n"
			   "limits:\n"
			   "  burst: 20\n"
			   "  window: 2m\n";

TEST(good_file)
{
	const char *p = write_file("good.yaml", good, strlen(good));

	CHECK(p != NULL);
	bs_err_init(&err);
	CHECK_INT(bs_policy_load(&widget_kind, p, &w, &err), 0);
	CHECK_STR(err.msg, "");
	CHECK_STR(w.name, "front door");
	CHECK_INT(w.replicas, 3);
	CHECK_INT(w.timeout_ms, 45000);
	CHECK_INT(w.ntags, 2);
	CHECK_STR(w.tags[0], "web");
	CHECK_STR(w.tags[1], "edge");
	CHECK_INT(w.limits.burst, 20);
	CHECK_INT(w.limits.window_ms, 120000);
	CHECK_INT(w.version, 2);
	bs_bind_release(widget_fields, &w);
	CHECK(w.name == NULL && w.tags == NULL);
}

TEST(defaults_wrapper_and_env)
{
	setenv("BS_TEST_WIDGET_NAME", "from env", 1);
	CHECK_INT(load("widget:\n  name: ${BS_TEST_WIDGET_NAME}\n"), 0);
	CHECK_STR(w.name, "from env");
	CHECK_INT(w.replicas, 1);         /* init's defaults */
	CHECK_INT(w.timeout_ms, 30000);
	CHECK_INT(w.limits.window_ms, 60000);
	CHECK_INT(w.ntags, 0);
	CHECK_INT(w.version, 1);          /* no "version:": 1 */
	/* a top-level mapping with other keys is not a wrapper */
	CHECK_INT(load("widget:\n  name: x\nreplicas: 2\n"), -1);
	CHECK_STR(err.msg, "w.yaml: 2 errors");
	CHECK(strstr(err.detail, "w.yaml:1:1: unknown key 'widget'") == err.detail);
	CHECK(strstr(err.detail, "w.yaml:1:1: missing required key 'name'") != NULL);
}

TEST(unknown_key)
{
	CHECK_INT(load("name: a\nreplica: 3\n"), -1);
	CHECK_INT(err.code, BS_ERR_POLICY);
	CHECK_STR(err.msg, "w.yaml:2:1: unknown key 'replica'");
	CHECK_STR(err.hint, "did you mean 'replicas'?");
	CHECK_INT(load("widget:\n  name: a\n  limits:\n    burts: 3\n"), -1);
	CHECK_STR(err.msg, "w.yaml:4:5: unknown key 'burts' in 'widget.limits'");
	CHECK_STR(err.hint, "did you mean 'burst'?");
	CHECK_INT(load("name: a\ncolour: red\n"), -1);
	CHECK_STR(err.msg, "w.yaml:2:1: unknown key 'colour'");
	CHECK_STR(err.hint, "valid keys are: kind, version, name, replicas, timeout, tags, limits");
	/* a kind without a header has no "kind:" key */
	bs_err_init(&err);
	CHECK_INT(bs_policy_load_buf(&bare_kind, "b.yaml", "kind: widget\nname: a\n", 21, &w, &err), -1);
	CHECK_STR(err.msg, "b.yaml:1:1: unknown key 'kind'");
	bs_bind_release(widget_fields, &w);
}

TEST(wrong_type)
{
	CHECK_INT(load("name: a\ntags: web\n"), -1);
	CHECK_INT(err.code, BS_ERR_POLICY);
	CHECK_STR(err.msg, "w.yaml:2:7: expected a list of strings for 'tags', got a scalar");
	CHECK_INT(load("name: a\nlimits: 5\n"), -1);
	CHECK_STR(err.msg, "w.yaml:2:9: expected a mapping for 'limits', got a scalar");
	CHECK_INT(load("name: [a]\n"), -1);
	CHECK_STR(err.msg, "w.yaml:1:7: expected a string for 'name', got a sequence");
	CHECK_INT(load("name: a\nreplicas: three\n"), -1);
	CHECK_STR(err.msg, "w.yaml:2:11: invalid integer 'three' for 'replicas'");
	CHECK_INT(load("name: a\ntimeout: soon\n"), -1);
	CHECK(strncmp(err.msg, "w.yaml:2:10: invalid duration 'soon' for 'timeout'", 50) == 0);
}

TEST(out_of_range)
{
	CHECK_INT(load("name: a\nreplicas: 11\n"), -1);
	CHECK_INT(err.code, BS_ERR_POLICY);
	CHECK_STR(err.msg, "w.yaml:2:11: value 11 for 'replicas' is out of range (1..10)");
	CHECK_INT(load("name: a\nreplicas: 0\n"), -1);
	CHECK_STR(err.msg, "w.yaml:2:11: value 0 for 'replicas' is out of range (1..10)");
	CHECK_INT(load("widget:\n  name: a\n  limits:\n    burst: 1001\n"), -1);
	CHECK_STR(err.msg, "w.yaml:4:12: value 1001 for 'widget.limits.burst' is out of range (0..1000)");
	CHECK_INT(load("name: a\ntimeout: 2h\n"), -1);
	CHECK_STR(err.msg, "w.yaml:2:10: duration 2h for 'timeout' is out of range (1s..1h)");
}

TEST(missing_required)
{
	CHECK_INT(load("replicas: 2\n"), -1);
	CHECK_INT(err.code, BS_ERR_POLICY);
	CHECK_STR(err.msg, "w.yaml:1:1: missing required key 'name'");
	CHECK_INT(load("name:\n"), -1);
	CHECK_STR(err.msg, "w.yaml:1:6: missing value for 'name'");
	/* nothing in the file at all: the file is named */
	CHECK_INT(load(""), -1);
	CHECK_STR(err.msg, "w.yaml: missing required key 'name'");
	CHECK_INT(load("# only a comment\n"), -1);
	CHECK_STR(err.msg, "w.yaml: missing required key 'name'");
	CHECK_INT(load("widget:\n"), -1);
	CHECK(strncmp(err.msg, "w.yaml:1:", 9) == 0);
	CHECK(strstr(err.msg, ": missing required key 'widget.name'") != NULL);
}

TEST(file_not_found)
{
	char missing[PATH_MAX];

	snprintf(missing, sizeof(missing), "%s/none.yaml", dir);
	bs_err_init(&err);
	w.inits = 0;
	CHECK_INT(bs_policy_load(&widget_kind, missing, &w, &err), -1);
	CHECK_INT(err.code, BS_ERR_POLICY);
	CHECK_INT(err.sys_errno, ENOENT);
	CHECK(strstr(err.msg, "unable to read widget policy '") == err.msg);
	CHECK(strstr(err.msg, "/none.yaml': No such file or directory") != NULL);
	CHECK_INT(w.inits, 1); /* initialized all the same */
	/* a directory */
	bs_err_init(&err);
	CHECK_INT(bs_policy_load(&widget_kind, dir, &w, &err), -1);
	CHECK_INT(err.code, BS_ERR_POLICY);
	CHECK(strstr(err.msg, "is not a regular file") != NULL);
}

TEST(file_too_large)
{
	size_t n = BS_YAML_MAX_BYTES + 1;
	char *big = malloc(n), *msg;
	const char *p;

	CHECK(big != NULL);
	if (!big)
		return;
	memset(big, '#', n);
	p = write_file("big.yaml", big, n);
	CHECK(p != NULL);
	bs_err_init(&err);
	CHECK_INT(bs_policy_load(&widget_kind, p, &w, &err), -1);
	CHECK_INT(err.code, BS_ERR_POLICY);
	msg = strstr(err.msg, "' is too large (over 1048576 bytes)");
	CHECK(msg != NULL && msg[strlen(msg) - 1] == ')');
	CHECK(strstr(err.msg, "/big.yaml'") != NULL);
	/* exactly at the limit is read (and judged: only comments, no name) */
	p = write_file("limit.yaml", big, n - 1);
	bs_err_init(&err);
	CHECK_INT(bs_policy_load(&widget_kind, p, &w, &err), -1);
	CHECK_STR(err.msg + strlen(err.msg) - strlen("/limit.yaml: missing required key 'name'"),
		  "/limit.yaml: missing required key 'name'");
	/* from memory too */
	bs_err_init(&err);
	CHECK_INT(bs_policy_load_buf(&widget_kind, "w.yaml", big, n, &w, &err), -1);
	CHECK_INT(err.code, BS_ERR_POLICY);
	CHECK_STR(err.msg, "w.yaml: too large (over 1048576 bytes)");
	free(big);
}

TEST(not_a_mapping)
{
	CHECK_INT(load("- a\n- b\n"), -1);
	CHECK_INT(err.code, BS_ERR_POLICY);
	CHECK_STR(err.msg, "w.yaml:1:1: expected a mapping at the top level, got a sequence");
	CHECK(strstr(err.hint, "name, replicas") != NULL);
	CHECK_INT(load("just text\n"), -1);
	CHECK_STR(err.msg, "w.yaml:1:1: expected a mapping at the top level, got a scalar");
	CHECK_INT(load("widget: [1, 2]\n"), -1);
	CHECK_STR(err.msg, "w.yaml:1:9: expected a mapping for 'widget', got a sequence");
}

TEST(header)
{
	CHECK_INT(load("kind: gate\nname: a\nreplicas: 99\n"), -1);
	CHECK_INT(err.code, BS_ERR_POLICY);
	/* stops before the keys: only the header is reported */
	CHECK_STR(err.msg, "w.yaml:1:7: wrong kind 'gate' for 'kind': this file is read as a widget policy");
	CHECK_STR(err.hint, "give a widget policy here (written with 'kind: widget', or no 'kind:' at all)");
	CHECK_INT(load("widget:\n  kind: [widget]\n  name: a\n"), -1);
	CHECK_STR(err.msg, "w.yaml:2:9: expected a name for 'widget.kind', got a sequence");
	CHECK_INT(load("version: 3\nname: a\nnew_key: 1\n"), -1);
	CHECK_STR(err.msg, "w.yaml:1:10: unsupported version 3 for 'version' (this backstop reads 1..2)");
	CHECK(strstr(err.hint, "newer backstop") != NULL);
	CHECK_INT(load("version: 0\nname: a\n"), -1);
	CHECK_STR(err.msg, "w.yaml:1:10: unsupported version 0 for 'version' (this backstop reads 1..2)");
	CHECK_INT(load("version: 1.5\nname: a\n"), -1);
	CHECK_STR(err.msg, "w.yaml:1:10: invalid version '1.5' for 'version'");
	CHECK_INT(load("version: -1\nname: a\n"), -1);
	CHECK_STR(err.msg, "w.yaml:1:10: invalid version '-1' for 'version'");
	CHECK_INT(load("kind: widget\nversion: 1\nname: a\n"), 0);
	CHECK_INT(w.version, 1);
	CHECK_INT(load("kind:\nversion:\nname: a\n"), 0);
	CHECK_INT(w.version, 1);
	/* with the YAML loader's own errors, all at once */
	CHECK_INT(load("name: a\nname: b\nversion: 9\n"), -1);
	CHECK_INT(err.code, BS_ERR_POLICY);
	CHECK_STR(err.msg, "w.yaml: 2 errors");
	CHECK(strstr(err.detail, "w.yaml:2:1: duplicate key 'name'") == err.detail);
	CHECK(strstr(err.detail, "w.yaml:3:10: unsupported version 9") != NULL);
}

TEST(every_error_at_once)
{
	unsetenv("BS_TEST_WIDGET_UNSET");
	CHECK_INT(load("name: ${BS_TEST_WIDGET_UNSET}\n"
		       "replicas: 12\n"
		       "tags: [a, [b]]\n"
		       "limits:\n"
		       "  burst: x\n"
		       "  windw: 1m\n"
		       "replicas: 2\n"),
		  -1);
	CHECK_INT(err.code, BS_ERR_POLICY);
	CHECK_STR(err.msg, "w.yaml: 6 errors");
	CHECK(strstr(err.detail, "w.yaml:1:7: environment variable 'BS_TEST_WIDGET_UNSET' is not set") ==
	      err.detail);
	CHECK(strstr(err.detail, "w.yaml:7:1: duplicate key 'replicas'") != NULL);
	CHECK(strstr(err.detail, "w.yaml:2:11: value 12 for 'replicas' is out of range (1..10)") != NULL);
	CHECK(strstr(err.detail, "w.yaml:3:11: expected a string in 'tags', got a sequence") != NULL);
	CHECK(strstr(err.detail, "w.yaml:5:10: invalid integer 'x' for 'limits.burst'") != NULL);
	CHECK(strstr(err.detail, "w.yaml:6:3: unknown key 'windw' in 'limits'") != NULL);
	/* the struct owns nothing after a failure */
	CHECK(w.name == NULL && w.tags == NULL);
}

TEST(validate)
{
	CHECK_INT(load("name: a\ntimeout: 10m\nlimits:\n  window: 5m\n"), -1);
	CHECK_INT(err.code, BS_ERR_POLICY);
	CHECK_STR(err.msg, "w.yaml:2:10: timeout is longer than limits.window");
	CHECK_STR(err.hint, "shorten the timeout");
	CHECK(w.name == NULL);         /* released */
	CHECK_INT(w.timeout_ms, 30000); /* and initialized again */
	/* not run when binding failed */
	CHECK_INT(load("name: a\ntimeout: 10m\nreplicas: 0\n"), -1);
	CHECK_STR(err.msg, "w.yaml:3:11: value 0 for 'replicas' is out of range (1..10)");
	CHECK_INT(load("name: a\ntimeout: 10m\nlimits:\n  window: 10m\n"), 0);
}

TEST(syntax_error)
{
	CHECK_INT(load("name: [a\n"), -1);
	CHECK_INT(err.code, BS_ERR_POLICY);
	CHECK(strncmp(err.msg, "w.yaml:2:1: invalid YAML: ", 26) == 0);
	CHECK_INT(load("name: a\n---\nname: b\n"), -1);
	CHECK_INT(err.code, BS_ERR_POLICY);
	CHECK_STR(err.msg, "w.yaml:2:1: more than one YAML document");
}

int main(void)
{
	int rc;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(good_file);
	RUN(defaults_wrapper_and_env);
	RUN(unknown_key);
	RUN(wrong_type);
	RUN(out_of_range);
	RUN(missing_required);
	RUN(file_not_found);
	RUN(file_too_large);
	RUN(not_a_mapping);
	RUN(header);
	RUN(every_error_at_once);
	RUN(validate);
	RUN(syntax_error);
	bs_bind_release(widget_fields, &w);
	rc = DONE();
	snprintf(path, sizeof(path), "%s/good.yaml", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/big.yaml", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/limit.yaml", dir);
	unlink(path);
	rmdir(dir);
	return rc;
}
