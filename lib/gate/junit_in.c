/*
 * junit_in.c - JUnit XML test reports read into a summary (evidence.h),
 * through net/xml.h.
 *
 * The counts come from the <testcase> elements, walked in document order
 * through nested <testsuite>s; a file is read into counts of its own and
 * added to the caller's summary only when all of it was read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/escape.h"
#include "common/stream.h"
#include "gate/evidence.h"
#include "net/xml.h"

#define NAME_MAX_BYTES 200 /* of a classname or a test name kept in an example */

/* Read at most this much: net/xml refuses more. */
#define JUNIT_MAX_BYTES (BS_EVIDENCE_MAX_BYTES < BS_XML_MAX_INPUT ? BS_EVIDENCE_MAX_BYTES : BS_XML_MAX_INPUT)

/* One file being read. */
struct walk {
	const char *name;	   /* file name, for messages */
	struct bs_junit_summary t; /* its counts and examples */
};

void bs_junit_summary_init(struct bs_junit_summary *s)
{
	memset(s, 0, sizeof(*s));
}

void bs_junit_summary_release(struct bs_junit_summary *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nexamples; i++)
		free(s->examples[i]);
	bs_junit_summary_init(s);
}

/* ---- the file ---------------------------------------------------------- */


/* ---- the report -------------------------------------------------------- */

/* Cut s to at most max bytes at a UTF-8 character boundary (an invalid
 * byte counts as one character). */
static void cut(char *s, size_t max)
{
	size_t n = 0;

	while (s[n]) {
		uint32_t cp;
		size_t k = bs_utf8_seq((const unsigned char *)s + n, &cp);

		if (!k)
			k = 1;
		if (n + k > max)
			break;
		n += k;
	}
	s[n] = '\0';
}

/* Keep "classname.name" (or the one that is there) of a failed test. */
static int add_example(struct walk *w, const struct _xmlNode *tc, struct bs_err *err)
{
	char cls[NAME_MAX_BYTES + 8], name[NAME_MAX_BYTES + 8], *e;
	size_t n;

	if (w->t.nexamples == BS_EVIDENCE_EXAMPLES)
		return 0;
	bs_xml_attr(tc, "classname", cls, sizeof(cls));
	bs_xml_attr(tc, "name", name, sizeof(name));
	cut(cls, NAME_MAX_BYTES);
	cut(name, NAME_MAX_BYTES);
	n = strlen(cls) + strlen(name) + 2;
	if (!(e = malloc(n)))
		return bs_err_set(err, BS_ERR_NOMEM, "%s: out of memory", w->name);
	if (*cls && *name)
		snprintf(e, n, "%s.%s", cls, name);
	else
		snprintf(e, n, "%s", *name ? name : *cls ? cls : "(unnamed test)");
	w->t.examples[w->t.nexamples++] = e;
	return 0;
}

/* Count one <testcase>: a failure, else an error, else skipped, else
 * passed; keep a failure or error as an example. */
static int testcase(struct walk *w, const struct _xmlNode *tc, struct bs_err *err)
{
	w->t.tests++;
	if (bs_xml_child(tc, "failure")) {
		w->t.failures++;
	} else if (bs_xml_child(tc, "error")) {
		w->t.errors++;
	} else {
		if (bs_xml_child(tc, "skipped"))
			w->t.skipped++;
		return 0;
	}
	return add_example(w, tc, err);
}

/* Every testcase under suite, in document order, nested suites included
 * (libxml2 bounds the depth). */
static int walk_suite(struct walk *w, const struct _xmlNode *suite, struct bs_err *err)
{
	const struct _xmlNode *c;

	for (c = bs_xml_first(suite); c; c = bs_xml_next(c, NULL)) {
		const char *n = bs_xml_name(c);

		if (strcmp(n, "testsuite") == 0 && walk_suite(w, c, err) < 0)
			return -1;
		if (strcmp(n, "testcase") == 0 && testcase(w, c, err) < 0)
			return -1;
	}
	return 0;
}

int bs_junit_read_buf(const char *name, const char *buf, size_t len, struct bs_junit_summary *s,
		      struct bs_err *err)
{
	struct walk w;
	struct bs_xml *x;
	const char *root;
	size_t i;
	int rc = -1;

	if (!name)
		name = "JUnit report";
	memset(&w, 0, sizeof(w));
	w.name = name;
	x = bs_xml_parse(buf, len, "the file", err);
	if (!x) {
		bs_err_prefix(err, "%s", name);
		return -1;
	}
	root = bs_xml_name(bs_xml_root(x));
	if (strcmp(root, "testsuites") != 0 && strcmp(root, "testsuite") != 0) {
		bs_err_set(err, BS_ERR_FORMAT, "%s: not a JUnit report (root element '%.64s')", name, root);
		bs_err_hint(err, "a JUnit XML report has <testsuites> or <testsuite> at its top");
		goto out;
	}
	if (walk_suite(&w, bs_xml_root(x), err) < 0)
		goto out;
	s->files++;
	s->tests += w.t.tests;
	s->failures += w.t.failures;
	s->errors += w.t.errors;
	s->skipped += w.t.skipped;
	for (i = 0; i < w.t.nexamples && s->nexamples < BS_EVIDENCE_EXAMPLES; i++) {
		s->examples[s->nexamples++] = w.t.examples[i];
		w.t.examples[i] = NULL;
	}
	rc = 0;
out:
	bs_junit_summary_release(&w.t);
	bs_xml_free(x);
	return rc;
}

int bs_junit_read(const char *path, struct bs_junit_summary *s, struct bs_err *err)
{
	char *buf;
	size_t len;
	int rc;

	if (bs_read_file(path, JUNIT_MAX_BYTES, &buf, &len, err) < 0)
		return -1;
	rc = bs_junit_read_buf(path, buf, len, s, err);
	free(buf);
	return rc;
}
