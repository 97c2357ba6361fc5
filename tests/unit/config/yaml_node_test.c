/* yaml_node_test.c - lib/config/yaml_node.c: tree, positions, interpolation. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/yaml_node.h"
#include "harness.h"

static struct bs_err err;

/* Load text named "t.yaml"; returns the document or NULL (err set). */
static struct bs_ydoc *load(const char *text, unsigned flags)
{
	struct bs_ydoc *doc = NULL;

	bs_err_init(&err);
	if (bs_ydoc_load_string(&doc, "t.yaml", text, strlen(text), flags, &err) < 0)
		return NULL;
	return doc;
}

/* Load text that must fail; returns the error code. */
static int load_fail(const char *text)
{
	struct bs_ydoc *doc = load(text, 0);

	if (doc) {
		bs_ydoc_free(doc);
		return 0;
	}
	return err.code;
}

TEST(tree_and_positions)
{
	struct bs_ydoc *doc = load("a: 1\nb:\n  c: [x, 'y']\n  d:\n    - \"z\"\n", 0);
	const struct bs_ynode *b, *c, *d;

	CHECK(doc != NULL);
	if (!doc)
		return;
	CHECK_STR(doc->file, "t.yaml");
	CHECK(doc->root->kind == BS_YNODE_MAPPING);
	CHECK_INT(doc->root->count, 2);
	CHECK_INT(doc->root->line, 1);
	CHECK_INT(doc->root->column, 1);
	CHECK_STR(doc->root->pairs[0].key->value, "a");
	CHECK_INT(doc->root->pairs[0].value->line, 1);
	CHECK_INT(doc->root->pairs[0].value->column, 4);
	CHECK_STR(doc->root->pairs[0].value->value, "1");
	CHECK(doc->root->pairs[0].value->plain);

	b = bs_ynode_get(doc->root, "b");
	CHECK(b && b->kind == BS_YNODE_MAPPING);
	CHECK_INT(b->line, 3);
	CHECK_INT(b->column, 3);
	c = bs_ynode_get(b, "c");
	CHECK(c && c->kind == BS_YNODE_SEQUENCE && c->count == 2);
	if (c && c->count == 2) {
		CHECK_INT(c->line, 3);
		CHECK_INT(c->column, 6);
		CHECK_STR(c->items[0]->value, "x");
		CHECK_INT(c->items[0]->column, 7);
		CHECK_STR(c->items[1]->value, "y");
		CHECK_INT(c->items[1]->column, 10);
		CHECK(!c->items[1]->plain);
	}
	d = bs_ynode_get(b, "d");
	CHECK(d && d->kind == BS_YNODE_SEQUENCE && d->count == 1);
	if (d && d->count == 1) {
		CHECK_INT(d->items[0]->line, 5);
		CHECK_INT(d->items[0]->column, 7);
	}
	CHECK(bs_ynode_key(b, "d") && bs_ynode_key(b, "d")->line == 4);
	CHECK(bs_ynode_get(doc->root, "zz") == NULL);
	CHECK(bs_ynode_get(c, "x") == NULL); /* not a mapping */
	CHECK_STR(bs_ynode_kind_name(b), "a mapping");
	CHECK_STR(bs_ynode_kind_name(c), "a sequence");
	CHECK_STR(bs_ynode_kind_name(c->items[0]), "a scalar");
	bs_ydoc_free(doc);
}

TEST(nulls)
{
	struct bs_ydoc *doc = load("a:\nb: ~\nc: null\nd: ''\ne: \"\"\nf: nul\n", 0);

	CHECK(doc != NULL);
	if (!doc)
		return;
	CHECK(bs_ynode_get(doc->root, "a")->null);
	CHECK(bs_ynode_get(doc->root, "b")->null);
	CHECK(bs_ynode_get(doc->root, "c")->null);
	CHECK(!bs_ynode_get(doc->root, "d")->null);
	CHECK(!bs_ynode_get(doc->root, "e")->null);
	CHECK(!bs_ynode_get(doc->root, "f")->null);
	CHECK_STR(bs_ynode_get(doc->root, "d")->value, "");
	bs_ydoc_free(doc);
}

TEST(empty_documents)
{
	static const char *texts[] = {"", "# only a comment\n", "---\n", "~\n", "---\n...\n"};
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct bs_ydoc *doc = load(texts[i], 0);

		CHECK(doc != NULL);
		if (doc)
			CHECK(doc->root == NULL);
		bs_ydoc_free(doc);
	}
	bs_ydoc_free(NULL);
}

TEST(interpolation)
{
	struct bs_ydoc *doc;

	setenv("BS_T_A", "alpha", 1);
	setenv("BS_T_EMPTY", "", 1);
	unsetenv("BS_T_UNSET");
	doc = load("a: ${BS_T_A}\n"
		   "b: x-${BS_T_A}-${BS_T_A}-y\n"
		   "c: ${BS_T_UNSET:-dflt}\n"
		   "d: ${BS_T_EMPTY:-dflt}\n"
		   "e: ${BS_T_EMPTY-dflt}\n"
		   "f: ${BS_T_UNSET-dflt}\n"
		   "g: a$$b$${X}\n"
		   "h: \"${BS_T_UNSET:-}\"\n"
		   "i: ${BS_T_UNSET:-}\n"
		   "j: plain\n"
		   "${BS_T_A}: 1\n"
		   "k: ${BS_T_UNSET:-a b:c}\n",
		   0);
	CHECK(doc != NULL);
	if (!doc)
		return;
	CHECK_STR(bs_ynode_get(doc->root, "a")->value, "alpha");
	CHECK_STR(bs_ynode_get(doc->root, "a")->raw, "${BS_T_A}");
	CHECK_STR(bs_ynode_get(doc->root, "b")->value, "x-alpha-alpha-y");
	CHECK_STR(bs_ynode_get(doc->root, "c")->value, "dflt");
	CHECK_STR(bs_ynode_get(doc->root, "d")->value, "dflt");
	CHECK_STR(bs_ynode_get(doc->root, "e")->value, "");
	CHECK_STR(bs_ynode_get(doc->root, "f")->value, "dflt");
	CHECK_STR(bs_ynode_get(doc->root, "g")->value, "a$b${X}");
	/* quoted empty is an empty string, plain empty after interpolation is null */
	CHECK(!bs_ynode_get(doc->root, "h")->null);
	CHECK(bs_ynode_get(doc->root, "i")->null);
	CHECK(bs_ynode_get(doc->root, "j")->raw == NULL);
	/* keys are never interpolated */
	CHECK(bs_ynode_get(doc->root, "${BS_T_A}") != NULL);
	CHECK_STR(bs_ynode_get(doc->root, "k")->value, "a b:c");
	bs_ydoc_free(doc);

	/* BS_YAML_NO_ENV keeps the text */
	doc = load("a: ${BS_T_UNSET}\n", BS_YAML_NO_ENV);
	CHECK(doc != NULL);
	if (doc)
		CHECK_STR(bs_ynode_get(doc->root, "a")->value, "${BS_T_UNSET}");
	bs_ydoc_free(doc);
	unsetenv("BS_T_A");
	unsetenv("BS_T_EMPTY");
}

TEST(interpolation_errors)
{
	unsetenv("BS_T_UNSET");
	/* position of the '$' in a one-line plain scalar */
	CHECK_INT(load_fail("k: x${BS_T_UNSET}y\n"), BS_ERR_CONFIG);
	CHECK_STR(err.msg, "t.yaml:1:5: environment variable 'BS_T_UNSET' is not set");
	CHECK_STR(err.hint, "set BS_T_UNSET, or give a default with '${BS_T_UNSET:-default}'");
	/* in a quoted one-line scalar: after the quote */
	CHECK_INT(load_fail("k: \"ab${BS_T_UNSET}\"\n"), BS_ERR_CONFIG);
	CHECK_STR(err.msg, "t.yaml:1:7: environment variable 'BS_T_UNSET' is not set");
	/* escapes make the text differ from the source: the scalar's start */
	CHECK_INT(load_fail("k: \"\\t${BS_T_UNSET}\"\n"), BS_ERR_CONFIG);
	CHECK_STR(err.msg, "t.yaml:1:4: environment variable 'BS_T_UNSET' is not set");
	/* multi-line plain scalar: the scalar's start */
	CHECK_INT(load_fail("k: first\n  ${BS_T_UNSET}\n"), BS_ERR_CONFIG);
	CHECK_STR(err.msg, "t.yaml:1:4: environment variable 'BS_T_UNSET' is not set");
	/* non-ASCII before the '$' counts characters, not bytes */
	CHECK_INT(load_fail("k: \xc3\xa9${BS_T_UNSET}\n"), BS_ERR_CONFIG);
	CHECK_STR(err.msg, "t.yaml:1:5: environment variable 'BS_T_UNSET' is not set");

	CHECK_INT(load_fail("k: /home/$USER/x\n"), BS_ERR_CONFIG);
	CHECK_STR(err.msg, "t.yaml:1:10: '$' must be followed by '{' or '$'");
	CHECK(strstr(err.hint, "'$$'") != NULL);
	CHECK_INT(load_fail("k: cost$\n"), BS_ERR_CONFIG);
	CHECK_STR(err.msg, "t.yaml:1:8: '$' must be followed by '{' or '$'");
	CHECK_INT(load_fail("k: ${1A}\n"), BS_ERR_CONFIG);
	CHECK_STR(err.msg, "t.yaml:1:4: invalid variable name after '${'");
	CHECK_INT(load_fail("k: ${}\n"), BS_ERR_CONFIG);
	CHECK_STR(err.msg, "t.yaml:1:4: invalid variable name after '${'");
	CHECK_INT(load_fail("k: ${A\n"), BS_ERR_CONFIG);
	CHECK_STR(err.msg, "t.yaml:1:4: unterminated '${' (missing '}')");
	CHECK_INT(load_fail("k: ${A:-x\n"), BS_ERR_CONFIG);
	CHECK_STR(err.msg, "t.yaml:1:4: unterminated '${' (missing '}')");
	CHECK_INT(load_fail("k: ${A?x}\n"), BS_ERR_CONFIG);
	CHECK_STR(err.msg, "t.yaml:1:4: unexpected '?' in '${...}'");
}

TEST(duplicate_keys)
{
	CHECK_INT(load_fail("a: 1\nb:\n  x: 1\n  y: 2\n  x: 3\n"), BS_ERR_CONFIG);
	CHECK_STR(err.msg, "t.yaml:5:3: duplicate key 'x'");
	CHECK_STR(err.detail, "'x' is first defined at t.yaml:3:3");
	CHECK_INT(load_fail("a: 1\n'a': 2\n"), BS_ERR_CONFIG);
	CHECK_STR(err.msg, "t.yaml:2:1: duplicate key 'a'");
}

TEST(unsupported_constructs)
{
	struct bs_ydoc *doc;

	CHECK_INT(load_fail("a: &x 1\nb: *x\n"), BS_ERR_CONFIG);
	CHECK_STR(err.msg, "t.yaml:2:4: YAML aliases (*x) are not supported");
	/* an anchor alone is harmless */
	doc = load("a: &x 1\n", 0);
	CHECK(doc != NULL);
	bs_ydoc_free(doc);
	CHECK_INT(load_fail("? [a, b]\n: 1\n"), BS_ERR_CONFIG);
	CHECK_STR(err.msg, "t.yaml:1:3: mapping keys must be scalars, not a sequence");
	CHECK_INT(load_fail("a: 1\n---\nb: 2\n"), BS_ERR_CONFIG);
	CHECK_STR(err.msg, "t.yaml:2:1: more than one YAML document");
	CHECK_INT(load_fail("k: \"a\\0b\"\n"), BS_ERR_CONFIG);
	CHECK_STR(err.msg, "t.yaml:1:4: NUL byte in a value");
}

TEST(limits)
{
	char *text;
	size_t i, n;

	/* nesting */
	text = malloc(3 + 2 * 70 + 2);
	strcpy(text, "k: ");
	n = 3;
	for (i = 0; i < 70; i++)
		text[n++] = '[';
	for (i = 0; i < 70; i++)
		text[n++] = ']';
	text[n++] = '\n';
	text[n] = '\0';
	CHECK_INT(load_fail(text), BS_ERR_CONFIG);
	CHECK_STR(err.msg, "t.yaml:1:67: nesting deeper than 64 levels");
	free(text);

	/* entries in one sequence */
	text = malloc(4 + 2 * (BS_YAML_MAX_KEYS + 1) + 3);
	strcpy(text, "k: [");
	n = 4;
	for (i = 0; i <= BS_YAML_MAX_KEYS; i++) {
		text[n++] = '0';
		text[n++] = ',';
	}
	text[n - 1] = ']';
	text[n++] = '\n';
	text[n] = '\0';
	CHECK_INT(load_fail(text), BS_ERR_CONFIG);
	CHECK_STR(err.msg, "t.yaml:1:4: too many entries (more than 4096)");
	free(text);

	/* size */
	n = BS_YAML_MAX_BYTES + 1;
	text = malloc(n);
	memset(text, '#', n);
	{
		struct bs_ydoc *doc = NULL;

		bs_err_init(&err);
		CHECK(bs_ydoc_load_string(&doc, "big.yaml", text, n, 0, &err) < 0);
		CHECK_STR(err.msg, "big.yaml: too large (over 1048576 bytes)");
	}
	free(text);
}

TEST(syntax_errors)
{
	CHECK_INT(load_fail("a:\n  b: 1\n c: 2\n"), BS_ERR_CONFIG);
	CHECK_STR(err.msg, "t.yaml:3:2: invalid YAML: did not find expected key");
	CHECK_STR(err.detail, "while parsing a block mapping at t.yaml:1:1");
	CHECK_INT(load_fail("a: b: c\n"), BS_ERR_CONFIG);
	CHECK_STR(err.msg, "t.yaml:1:5: invalid YAML: mapping values are not allowed in this context");
	CHECK_INT(load_fail("a: 'open\n"), BS_ERR_CONFIG);
	CHECK_STR(err.msg, "t.yaml:2:1: invalid YAML: found unexpected end of stream");
	CHECK_INT(load_fail("a: x\xff\n"), BS_ERR_CONFIG);
	CHECK_STR(err.msg, "t.yaml:1:5: invalid YAML: invalid leading UTF-8 octet");
	CHECK_STR(err.hint, "the file must be UTF-8 text");
	CHECK_INT(load_fail("a:\tb\n\tc: 1\n"), BS_ERR_CONFIG);
	CHECK(strncmp(err.msg, "t.yaml:2:1: invalid YAML: ", 26) == 0);
}

TEST(files)
{
	struct bs_ydoc *doc = NULL;

	bs_err_init(&err);
	CHECK(bs_ydoc_load_file(&doc, "tests/data/config/no-such-file.yaml", 0, &err) < 0);
	CHECK(doc == NULL);
	CHECK_INT(err.code, BS_ERR_IO);
	CHECK_INT(err.sys_errno, ENOENT);
	CHECK_STR(err.msg, "unable to open 'tests/data/config/no-such-file.yaml': "
			   "No such file or directory");

	bs_err_init(&err);
	CHECK(bs_ydoc_load_file(&doc, "tests/data/config", 0, &err) < 0);
	CHECK_INT(err.code, BS_ERR_CONFIG);
	CHECK_STR(err.msg, "'tests/data/config' is not a regular file");

	bs_err_init(&err);
	CHECK(bs_ydoc_load_file(&doc, "tests/data/config/good.yaml", 0, &err) == 0);
	CHECK(doc != NULL);
	if (!doc)
		return;
	CHECK(doc->has_stat);
	CHECK_STR(doc->file, "tests/data/config/good.yaml");
	CHECK(bs_ynode_get(doc->root, "snap") != NULL);
	CHECK_INT(bs_ynode_key(doc->root, "snap")->line, 4);
	CHECK_STR(bs_ynode_get(doc->root, "snap")->file, "tests/data/config/good.yaml");
	bs_ydoc_free(doc);
}

TEST(error_helper)
{
	struct bs_ydoc *doc = load("a:\n  b: 1\n", 0);

	CHECK(doc != NULL);
	if (!doc)
		return;
	bs_err_init(&err);
	CHECK(bs_ynode_error(&err, BS_ERR_POLICY, bs_ynode_get(bs_ynode_get(doc->root, "a"), "b"),
			     "bad %s", "thing") == -1);
	CHECK_INT(err.code, BS_ERR_POLICY);
	CHECK_STR(err.msg, "t.yaml:2:6: bad thing");
	CHECK(bs_ynode_error(&err, BS_ERR_CONFIG, NULL, "no node") == -1);
	CHECK_STR(err.msg, "no node");
	bs_ydoc_free(doc);
}

/* Content errors do not stop the load: all are reported, and with
 * BS_YAML_KEEP_GOING the document comes back with them and null stand-ins. */
TEST(every_content_error)
{
	struct bs_ydoc *doc;
	const char *text = "a: ${BS_TEST_NOPE_1}\nb: *x\nc: 1\nc: 2\nd: ${BS_TEST_NOPE_2}\n";

	unsetenv("BS_TEST_NOPE_1");
	unsetenv("BS_TEST_NOPE_2");
	CHECK_INT(load_fail(text), BS_ERR_CONFIG);
	CHECK_INT(err.code, BS_ERR_CONFIG);
	CHECK_STR(err.msg, "t.yaml: 4 errors");
	CHECK(strstr(err.detail, "t.yaml:1:4: environment variable 'BS_TEST_NOPE_1' is not set\n") ==
	      err.detail);
	CHECK(strstr(err.detail, "\n        t.yaml:2:4: YAML aliases (*x) are not supported") != NULL);
	CHECK(strstr(err.detail, "\n        t.yaml:4:1: duplicate key 'c'") != NULL);
	CHECK(strstr(err.detail, "\n          'c' is first defined at t.yaml:3:1") != NULL);
	CHECK(strstr(err.detail, "\n        t.yaml:5:4: environment variable 'BS_TEST_NOPE_2' is not set") !=
	      NULL);

	doc = load(text, BS_YAML_KEEP_GOING);
	CHECK(doc != NULL);
	if (!doc)
		return;
	CHECK_INT(doc->errors.count, 4);
	CHECK_INT(doc->root->count, 4); /* the duplicate pair is dropped */
	CHECK_INT(bs_ynode_get(doc->root, "a")->bad, 1);
	CHECK_INT(bs_ynode_get(doc->root, "a")->null, 1);
	CHECK_INT(bs_ynode_get(doc->root, "b")->bad, 1);
	CHECK_STR(bs_ynode_get(doc->root, "c")->value, "1");
	CHECK_INT(bs_ynode_get(doc->root, "c")->bad, 0);
	bs_ydoc_free(doc);

	/* one error: unchanged, with its own hint */
	CHECK_INT(load_fail("a: ${BS_TEST_NOPE_1}\n"), BS_ERR_CONFIG);
	CHECK_STR(err.msg, "t.yaml:1:4: environment variable 'BS_TEST_NOPE_1' is not set");
	CHECK(strstr(err.hint, "BS_TEST_NOPE_1:-default") != NULL);
}

int main(void)
{
	RUN(tree_and_positions);
	RUN(nulls);
	RUN(empty_documents);
	RUN(interpolation);
	RUN(interpolation_errors);
	RUN(duplicate_keys);
	RUN(unsupported_constructs);
	RUN(limits);
	RUN(syntax_errors);
	RUN(files);
	RUN(error_helper);
	RUN(every_content_error);
	return DONE();
}
