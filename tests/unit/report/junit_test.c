/* junit_test.c - lib/report/junit.c: the JUnit XML parsed back with libxml2
 * (strict: no recovery, no network); the tests/failures/errors/skipped
 * attributes of every suite and of <testsuites> match the elements present;
 * names come back exactly; what XML 1.0 cannot carry becomes U+FFFD. */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

#include "fixture.h"
#include "harness.h"

static xmlDocPtr parse(const struct bs_report *r, unsigned flags)
{
	int rc;
	char *s = render(bs_report_write_junit, r, flags, &rc);
	xmlDocPtr d;

	CHECK_INT(rc, 0);
	d = xmlReadMemory(s, (int)strlen(s), "junit.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!d)
		printf("# not well-formed XML:\n%s\n", s);
	free(s);
	return d;
}

static int is(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static long attr_l(xmlNodePtr n, const char *a)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)a);
	long x = v ? strtol((const char *)v, NULL, 10) : -1;
	xmlFree(v);
	return x;
}

struct counts {
	long tests, failures, errors, skipped;
};

/* Count what a suite holds, and check its attributes say the same. */
static void check_suite(xmlNodePtr s, struct counts *total)
{
	struct counts c = {0, 0, 0, 0};
	xmlNodePtr t, e;

	for (t = s->children; t; t = t->next) {
		if (!is(t, "testcase"))
			continue;
		c.tests++;
		for (e = t->children; e; e = e->next) {
			c.failures += is(e, "failure");
			c.errors += is(e, "error");
			c.skipped += is(e, "skipped");
		}
	}
	CHECK_INT(attr_l(s, "tests"), c.tests);
	CHECK_INT(attr_l(s, "failures"), c.failures);
	CHECK_INT(attr_l(s, "errors"), c.errors);
	CHECK_INT(attr_l(s, "skipped"), c.skipped);
	total->tests += c.tests;
	total->failures += c.failures;
	total->errors += c.errors;
	total->skipped += c.skipped;
}

static struct counts check_doc(xmlDocPtr d, size_t *nsuites)
{
	xmlNodePtr root = xmlDocGetRootElement(d), s;
	struct counts total = {0, 0, 0, 0};

	*nsuites = 0;
	CHECK(root && is(root, "testsuites"));
	for (s = root ? root->children : NULL; s; s = s->next) {
		if (!is(s, "testsuite"))
			continue;
		(*nsuites)++;
		check_suite(s, &total);
	}
	CHECK_INT(attr_l(root, "tests"), total.tests);
	CHECK_INT(attr_l(root, "failures"), total.failures);
	CHECK_INT(attr_l(root, "errors"), total.errors);
	CHECK_INT(attr_l(root, "skipped"), total.skipped);
	return total;
}

TEST(counts_match_elements)
{
	struct bs_report r;
	struct counts c;
	size_t nsuites;
	xmlDocPtr d;

	fixture(&r);
	d = parse(&r, 0);
	CHECK(d != NULL);
	if (d) {
		c = check_doc(d, &nsuites);
		CHECK_INT(nsuites, 2); /* a suite per group */
		CHECK_INT(c.tests, 7 + NHOSTILE);
		CHECK_INT(c.failures, 5);
		CHECK_INT(c.errors, 1);  /* UNKNOWN */
		CHECK_INT(c.skipped, 1);
		xmlFreeDoc(d);
	}
	d = parse(&r, BS_REPORT_WARN_FAILS);
	CHECK(d != NULL);
	if (d) {
		c = check_doc(d, &nsuites);
		CHECK_INT(c.failures, 6); /* the WARN now fails */
		xmlFreeDoc(d);
	}
	bs_report_release(&r);
}

/* Every testcase: classname and name as given (valid strings exactly,
 * others with U+FFFD where XML cannot carry a character). */
TEST(names_round_trip)
{
	struct bs_report r;
	xmlNodePtr root, s, t;
	xmlDocPtr d;
	size_t i = 0, k, exact = 0;

	fixture(&r);
	d = parse(&r, 0);
	CHECK(d != NULL);
	if (!d)
		goto out;
	root = xmlDocGetRootElement(d);
	for (s = root->children; s; s = s->next) {
		if (!is(s, "testsuite"))
			continue;
		for (t = s->children; t; t = t->next) {
			xmlChar *cls, *name;
			if (!is(t, "testcase"))
				continue;
			cls = xmlGetProp(t, (const xmlChar *)"classname");
			name = xmlGetProp(t, (const xmlChar *)"name");
			CHECK(i < r.nfindings);
			if (i < r.nfindings) {
				CHECK_STR((const char *)cls, r.findings[i].group);
				for (k = 0; k < NCLEAN; k++)
					if (strcmp(r.findings[i].check, clean_hostile[k]) == 0) {
						CHECK_STR((const char *)name, clean_hostile[k]);
						exact++;
					}
			}
			if (i == 7) /* hostile[0]: ESC and BEL replaced, DEL and CR kept */
				CHECK_STR((const char *)name, "ctl \xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD[31mred\xEF\xBF\xBD[0m "
							      "del\x7f cr\r!");
			if (i == 7 + 4) /* invalid UTF-8: one U+FFFD per bad byte */
				CHECK(strstr((const char *)name, "bad \xEF\xBF\xBD\xEF\xBF\xBD ") != NULL);
			if (i == 7 + 5) /* U+FFFE is not an XML character: U+FFFD for each of its bytes */
				CHECK(strstr((const char *)name, "nonchar \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD bidi") != NULL);
			xmlFree(cls);
			xmlFree(name);
			i++;
		}
	}
	CHECK_INT(i, r.nfindings);
	CHECK(exact >= NCLEAN); /* every clean hostile string was seen and matched */
	xmlFreeDoc(d);
out:
	bs_report_release(&r);
}

/* The failure message carries observed, expected and detail; newlines survive
 * attribute normalisation. */
TEST(failure_message)
{
	struct bs_report r;
	xmlNodePtr root, t, e;
	xmlDocPtr d;
	int seen = 0;

	fixture(&r);
	d = parse(&r, 0);
	root = d ? xmlDocGetRootElement(d) : NULL;
	for (t = root ? root->children->next->children : NULL; t; t = t->next) {
		xmlChar *name;
		if (!is(t, "testcase"))
			continue;
		name = xmlGetProp(t, (const xmlChar *)"name");
		if (strcmp((const char *)name, "drill.passed") == 0) {
			for (e = t->children; e; e = e->next) {
				if (is(e, "failure")) {
					xmlChar *m = xmlGetProp(e, (const xmlChar *)"message");
					CHECK_STR((const char *)m, "observed fail, expected pass: 2 tables differ\n"
								   "public.accounts: row count");
					xmlFree(m);
					seen = 1;
				}
			}
		}
		xmlFree(name);
	}
	CHECK(seen);
	xmlFreeDoc(d);
	bs_report_release(&r);
}

/* Findings past the bound are not listed, but a failure among them still
 * fails the document. */
TEST(dropped_failure_still_fails)
{
	struct bs_report r;
	struct bs_finding ok = {.check = "ok", .state = BS_STATE_OK, .seconds = -1};
	struct bs_finding bad = {.check = "bad", .state = BS_STATE_FAIL, .seconds = -1};
	struct counts c;
	size_t n;
	xmlDocPtr d;

	bs_report_init(&r);
	r.max_findings = 1;
	bs_report_add(&r, &ok);
	bs_report_add(&r, &bad);
	d = parse(&r, 0);
	CHECK(d != NULL);
	if (d) {
		c = check_doc(d, &n);
		CHECK_INT(c.tests, 2);
		CHECK_INT(c.failures, 1);
		xmlFreeDoc(d);
	}
	bs_report_release(&r);
}

TEST(empty_report)
{
	struct bs_report r;
	struct counts c;
	size_t n;
	xmlDocPtr d;

	bs_report_init(&r);
	d = parse(&r, 0);
	CHECK(d != NULL);
	if (d) {
		c = check_doc(d, &n);
		CHECK_INT(c.tests, 0);
		CHECK_INT(n, 0);
		xmlFreeDoc(d);
	}
	bs_report_release(&r);
}

/* One document for several reports (verify-restore --all): the root counts
 * are the sum, the suites of each report follow in order. */
TEST(several_reports)
{
	struct bs_report a, b;
	const struct bs_report *v[2] = {&a, &b};
	struct bs_finding f = {.group = "g1", .check = "x", .state = BS_STATE_FAIL};
	struct counts c;
	size_t nsuites;
	xmlDocPtr d;
	xmlChar *name;
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	bs_report_init(&a);
	bs_report_init(&b);
	bs_report_add(&a, &f);
	f.group = "g2", f.state = BS_STATE_OK;
	bs_report_add(&b, &f);
	f.state = BS_STATE_SKIPPED;
	bs_report_add(&b, &f);
	CHECK_INT(bs_report_write_junit_all(v, 2, "backstop verify-restore", m, 0), 0);
	fclose(m);
	d = xmlReadMemory(buf, (int)len, "all.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR);
	CHECK(d != NULL);
	if (d) {
		c = check_doc(d, &nsuites);
		CHECK_INT(nsuites, 2);
		CHECK_INT(c.tests, 3);
		CHECK_INT(c.failures, 1);
		CHECK_INT(c.skipped, 1);
		name = xmlGetProp(xmlDocGetRootElement(d), (const xmlChar *)"name");
		CHECK_STR((const char *)name, "backstop verify-restore");
		xmlFree(name);
		xmlFreeDoc(d);
	}
	free(buf);
	bs_report_release(&a);
	bs_report_release(&b);
}

/* A report shaped as the drill's (lib/drill/report.c) gives the markup the
 * drill's own tests look for, so the drill can render through lib/report. */
TEST(drill_shaped_report)
{
	struct bs_report r;
	struct bs_finding f = {.group = "backstop.drill.20261129T101500Z-ab12cd.tables", .check = "public.accounts",
			       .category = "table", .state = BS_STATE_OK};
	char *x;
	int rc;

	bs_report_init(&r);
	bs_report_prop(&r, "rto_ms", "72000");
	bs_report_add(&r, &f);
	f.check = "public.a<b>&\"c\"", f.state = BS_STATE_FAIL, f.detail = "2 rows, the snapshot has 3 (1 missing)";
	bs_report_add(&r, &f);
	f.group = "backstop.drill.20261129T101500Z-ab12cd", f.check = "max_rto", f.category = "limit";
	f.detail = "RTO 20m00s exceeds the limit of 15m00s";
	bs_report_add(&r, &f);
	x = render(bs_report_write_junit, &r, 0, &rc);
	CHECK_INT(rc, 0);
	CHECK(strstr(x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites") == x);
	CHECK(strstr(x, "name=\"public.accounts\" time=\"0.000\"/>") != NULL);
	CHECK(strstr(x, "name=\"public.a&lt;b&gt;&amp;&quot;c&quot;\"") != NULL);
	CHECK(strstr(x, "<failure message=\"2 rows, the snapshot has 3 (1 missing)\" type=\"table\">") != NULL);
	CHECK(strstr(x, "name=\"max_rto\" time=\"0.000\">\n      <failure message=\"RTO 20m00s") != NULL);
	CHECK(strstr(x, "<property name=\"rto_ms\" value=\"72000\"/>") != NULL);
	CHECK(strstr(x, "classname=\"backstop.drill.20261129T101500Z-ab12cd.tables\"") != NULL);
	CHECK(strstr(x, "</testsuites>\n") != NULL);
	free(x);
	bs_report_release(&r);
}

int main(void)
{
	RUN(counts_match_elements);
	RUN(names_round_trip);
	RUN(failure_message);
	RUN(dropped_failure_still_fails);
	RUN(empty_report);
	RUN(several_reports);
	RUN(drill_shaped_report);
	xmlCleanupParser();
	return DONE();
}
