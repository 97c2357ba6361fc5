/* junit_test.c - lib/gate/junit_in.c: counts from the <testcase> elements
 * (not the suites' attributes) under <testsuites> or <testsuite>, nested
 * suites, examples of failed tests; what is not a JUnit report (not XML,
 * another root, a DTD) and missing files as errors; files adding up. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gate/evidence.h"
#include "harness.h"

static int read_report(const char *name, const char *text, struct bs_junit_summary *s, struct bs_err *err)
{
	bs_err_init(err);
	return bs_junit_read_buf(name, text, strlen(text), s, err);
}

static int starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* pytest's shape; the suite's attributes are wrong on purpose. */
TEST(passing_report)
{
	static const char xml[] =
		"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		"<testsuites><testsuite name=\"pytest\" errors=\"3\" failures=\"9\" skipped=\"0\" tests=\"99\" "
		"time=\"0.5\">\n"
		"  <testcase classname=\"tests.test_a\" name=\"test_one\" time=\"0.1\"/>\n"
		"  <!-- a comment -->\n"
		"  <testcase classname=\"tests.test_a\" name=\"test_two\" time=\"0.1\">"
		"<system-out>hello</system-out></testcase>\n"
		"  <testcase classname=\"tests.test_b\" name=\"test_three\"></testcase>\n"
		"  <properties><property name=\"x\" value=\"y\"/></properties>\n"
		"</testsuite></testsuites>\n";
	struct bs_junit_summary s;
	struct bs_err err;

	bs_junit_summary_init(&s);
	CHECK_INT(read_report("junit.xml", xml, &s, &err), 0);
	CHECK_INT(s.files, 1);
	CHECK_INT(s.tests, 3);
	CHECK_INT(s.failures + s.errors + s.skipped, 0);
	CHECK_INT(s.nexamples, 0);
	bs_junit_summary_release(&s);
	CHECK_INT(s.files + s.tests, 0);
}

TEST(failures_and_errors)
{
	static const char xml[] =
		"<testsuites>"
		"<testsuite name=\"unit\">"
		"<testcase classname=\"pkg.Foo\" name=\"bar\"><failure message=\"expected 1\">trace</failure></testcase>"
		"<testcase classname=\"pkg.Foo\" name=\"baz\"><error type=\"IOError\"/></testcase>"
		"<testcase name=\"lonely\"><failure/></testcase>"
		"<testcase classname=\"only.Class\"><error/></testcase>"
		"<testcase classname=\"pkg.Foo\" name=\"later\"><skipped message=\"no db\"/></testcase>"
		"<testcase classname=\"pkg.Foo\" name=\"ok\"/>"
		/* failed, then its teardown errored: one failure */
		"<testcase classname=\"pkg.Foo\" name=\"both\"><failure/><error/></testcase>"
		/* rerun and passed: not a failure */
		"<testcase classname=\"pkg.Foo\" name=\"flaky\"><flakyFailure/></testcase>"
		"</testsuite></testsuites>";
	struct bs_junit_summary s;
	struct bs_err err;

	bs_junit_summary_init(&s);
	CHECK_INT(read_report("junit.xml", xml, &s, &err), 0);
	CHECK_INT(s.tests, 8);
	CHECK_INT(s.failures, 3);
	CHECK_INT(s.errors, 2);
	CHECK_INT(s.skipped, 1);
	CHECK_INT(s.nexamples, 5);
	CHECK_STR(s.examples[0], "pkg.Foo.bar");
	CHECK_STR(s.examples[1], "pkg.Foo.baz");
	CHECK_STR(s.examples[2], "lonely");
	CHECK_STR(s.examples[3], "only.Class");
	CHECK_STR(s.examples[4], "pkg.Foo.both");
	bs_junit_summary_release(&s);
}

TEST(zero_tests)
{
	static const char *docs[] = {
		"<testsuites/>",
		"<testsuites tests=\"5\"><testsuite name=\"empty\" tests=\"5\"/></testsuites>",
		"<testsuite name=\"empty\"></testsuite>",
	};
	struct bs_junit_summary s;
	struct bs_err err;
	size_t i;

	bs_junit_summary_init(&s);
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		CHECK_INT(read_report("empty.xml", docs[i], &s, &err), 0);
	CHECK_INT(s.files, 3);
	CHECK_INT(s.tests, 0);
	bs_junit_summary_release(&s);
}

/* Suites nest (Maven surefire aggregates, Bazel); testcases are counted
 * at every level, examples in document order. */
TEST(nested_suites)
{
	static const char xml[] =
		"<testsuites>"
		"<testsuite name=\"outer\">"
		"<testcase classname=\"o\" name=\"t1\"><failure/></testcase>"
		"<testsuite name=\"inner\">"
		"<testcase classname=\"i\" name=\"t2\"><error/></testcase>"
		"<testsuite name=\"innermost\"><testcase classname=\"ii\" name=\"t3\"/></testsuite>"
		"</testsuite>"
		"<testcase classname=\"o\" name=\"t4\"><failure/></testcase>"
		"</testsuite>"
		"<testsuite name=\"second\"><testcase classname=\"s\" name=\"t5\"><skipped/></testcase></testsuite>"
		"</testsuites>";
	struct bs_junit_summary s;
	struct bs_err err;

	bs_junit_summary_init(&s);
	CHECK_INT(read_report("junit.xml", xml, &s, &err), 0);
	CHECK_INT(s.tests, 5);
	CHECK_INT(s.failures, 2);
	CHECK_INT(s.errors, 1);
	CHECK_INT(s.skipped, 1);
	CHECK_INT(s.nexamples, 3);
	CHECK_STR(s.examples[0], "o.t1");
	CHECK_STR(s.examples[1], "i.t2");
	CHECK_STR(s.examples[2], "o.t4");
	bs_junit_summary_release(&s);
}

/* go-junit-report and Gradle write one <testsuite> as the root. */
TEST(testsuite_root)
{
	static const char xml[] = "<?xml version=\"1.0\"?>\n"
				  "<testsuite name=\"com.example.AppTest\" tests=\"2\">"
				  "<testcase classname=\"com.example.AppTest\" name=\"works\"/>"
				  "<testcase classname=\"com.example.AppTest\" name=\"breaks\">"
				  "<failure message=\"boom\" type=\"java.lang.AssertionError\">at ...</failure>"
				  "</testcase></testsuite>";
	struct bs_junit_summary s;
	struct bs_err err;

	bs_junit_summary_init(&s);
	CHECK_INT(read_report("TEST-AppTest.xml", xml, &s, &err), 0);
	CHECK_INT(s.tests, 2);
	CHECK_INT(s.failures, 1);
	CHECK_INT(s.nexamples, 1);
	CHECK_STR(s.examples[0], "com.example.AppTest.breaks");
	bs_junit_summary_release(&s);
}

TEST(not_xml)
{
	static const char *bad[] = {
		"",
		"{\"version\":\"2.1.0\"}",
		"<testsuites><testcase name=\"x\">",
		"<testsuites></testsuite>",
	};
	struct bs_junit_summary s;
	struct bs_err err;
	size_t i;

	bs_junit_summary_init(&s);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(read_report("junit.xml", bad[i], &s, &err), -1);
		CHECK_INT(err.code, BS_ERR_FORMAT);
		CHECK(starts(err.msg, "junit.xml: "));
	}
	CHECK_INT(read_report("junit.xml", "<testsuites><testcase>", &s, &err), -1);
	CHECK_STR(err.msg, "junit.xml: the file is not well-formed XML");
	bs_err_init(&err);
	CHECK_INT(bs_junit_read_buf("junit.xml", "<testsuites/>\0x", 15, &s, &err), -1);
	CHECK_STR(err.msg, "junit.xml: the file contains a NUL byte");
	CHECK_INT(s.files, 0);
	bs_junit_summary_release(&s);
}

TEST(other_root)
{
	struct bs_junit_summary s;
	struct bs_err err;

	bs_junit_summary_init(&s);
	CHECK_INT(read_report("report.html", "<html><body><testcase/></body></html>", &s, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK_STR(err.msg, "report.html: not a JUnit report (root element 'html')");
	CHECK(err.hint[0] != '\0');
	CHECK_INT(read_report("x.xml", "<testcase name=\"a\"/>", &s, &err), -1);
	CHECK_STR(err.msg, "x.xml: not a JUnit report (root element 'testcase')");
	CHECK_INT(s.files + s.tests, 0);
	bs_junit_summary_release(&s);
}

/* net/xml refuses a document type declaration: no entity is expanded. */
TEST(dtd_refused)
{
	static const char xml[] = "<?xml version=\"1.0\"?>\n"
				  "<!DOCTYPE testsuites [<!ENTITY x \"boom\">]>\n"
				  "<testsuites><testsuite><testcase name=\"&x;\"><failure/></testcase></testsuite>"
				  "</testsuites>";
	static const char xxe[] = "<?xml version=\"1.0\"?>\n"
				  "<!DOCTYPE testsuites SYSTEM \"file:///etc/passwd\">\n"
				  "<testsuites/>";
	struct bs_junit_summary s;
	struct bs_err err;

	bs_junit_summary_init(&s);
	CHECK_INT(read_report("junit.xml", xml, &s, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK_STR(err.msg, "junit.xml: the file carries a document type declaration, which is refused");
	CHECK_INT(read_report("junit.xml", xxe, &s, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK_INT(s.files + s.tests + s.failures + s.nexamples, 0);
	bs_junit_summary_release(&s);
}

TEST(missing_file)
{
	struct bs_junit_summary s;
	struct bs_err err;

	bs_junit_summary_init(&s);
	bs_err_init(&err);
	CHECK_INT(bs_junit_read("/nonexistent/backstop/junit.xml", &s, &err), -1);
	CHECK_INT(err.code, BS_ERR_NOT_FOUND);
	CHECK(starts(err.msg, "/nonexistent/backstop/junit.xml: "));
	CHECK_INT(s.files, 0);
	bs_junit_summary_release(&s);
}

/* A real file, a directory, a file over net/xml's limit. */
TEST(files)
{
	static const char xml[] = "<testsuite><testcase classname=\"a\" name=\"b\"><error/></testcase></testsuite>";
	char dir[] = "/tmp/bs_junit_test.XXXXXX", path[64], big[64];
	struct bs_junit_summary s;
	struct bs_err err;
	int fd;

	bs_junit_summary_init(&s);
	if (!mkdtemp(dir))
		SKIP("mkdtemp failed");
	snprintf(path, sizeof(path), "%s/junit.xml", dir);
	snprintf(big, sizeof(big), "%s/big.xml", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0 && write(fd, xml, strlen(xml)) == (ssize_t)strlen(xml));
	close(fd);
	bs_err_init(&err);
	CHECK_INT(bs_junit_read(path, &s, &err), 0);
	CHECK_INT(s.errors, 1);
	CHECK_STR(s.examples[0], "a.b");
	CHECK_INT(bs_junit_read(dir, &s, &err), -1);
	CHECK_INT(err.code, BS_ERR_IO);
	CHECK(starts(err.msg, dir));
	fd = open(big, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0 && ftruncate(fd, (off_t)BS_EVIDENCE_MAX_BYTES) == 0);
	close(fd);
	CHECK_INT(bs_junit_read(big, &s, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK(starts(err.msg, big));
	CHECK(strstr(err.msg, "larger than") != NULL);
	CHECK_INT(s.files, 1);
	unlink(path);
	unlink(big);
	rmdir(dir);
	bs_junit_summary_release(&s);
}

/* Files add up; examples stop at BS_EVIDENCE_EXAMPLES across files. */
TEST(several_files_add_up)
{
	static const char a[] = "<testsuite>"
				"<testcase classname=\"a\" name=\"1\"><failure/></testcase>"
				"<testcase classname=\"a\" name=\"2\"><failure/></testcase>"
				"<testcase classname=\"a\" name=\"3\"><error/></testcase>"
				"<testcase classname=\"a\" name=\"4\"/>"
				"</testsuite>";
	static const char b[] = "<testsuites><testsuite>"
				"<testcase classname=\"b\" name=\"1\"><failure/></testcase>"
				"<testcase classname=\"b\" name=\"2\"><failure/></testcase>"
				"<testcase classname=\"b\" name=\"3\"><failure/></testcase>"
				"<testcase classname=\"b\" name=\"4\"><skipped/></testcase>"
				"</testsuite></testsuites>";
	struct bs_junit_summary s;
	struct bs_err err;

	bs_junit_summary_init(&s);
	CHECK_INT(read_report("a.xml", a, &s, &err), 0);
	CHECK_INT(read_report("b.xml", b, &s, &err), 0);
	CHECK_INT(read_report("c.xml", "<html/>", &s, &err), -1);
	CHECK_INT(s.files, 2);
	CHECK_INT(s.tests, 8);
	CHECK_INT(s.failures, 5);
	CHECK_INT(s.errors, 1);
	CHECK_INT(s.skipped, 1);
	CHECK_INT(s.nexamples, BS_EVIDENCE_EXAMPLES);
	CHECK_STR(s.examples[2], "a.3");
	CHECK_STR(s.examples[3], "b.1");
	CHECK_STR(s.examples[4], "b.2");
	bs_junit_summary_release(&s);
}

/* Namespaced elements are found by local name; long names are cut at a
 * character boundary; entities and character references are decoded. */
TEST(names)
{
	char xml[1024], want[256];
	struct bs_junit_summary s;
	struct bs_err err;
	int n;

	/* 199 ASCII bytes, then a 2-byte character that would end at byte 201 */
	n = snprintf(xml, sizeof(xml), "<j:testsuites xmlns:j=\"urn:x\"><j:testsuite><j:testcase classname=\"%0199d\xC3\xA9z\" "
			  "name=\"a &amp; b &#233;\"><j:failure/></j:testcase></j:testsuite></j:testsuites>", 0);
	CHECK(n > 0 && (size_t)n < sizeof(xml));
	bs_junit_summary_init(&s);
	CHECK_INT(read_report("junit.xml", xml, &s, &err), 0);
	CHECK_INT(s.failures, 1);
	snprintf(want, sizeof(want), "%0199d.a & b \xC3\xA9", 0);
	CHECK_STR(s.examples[0], want);
	bs_junit_summary_release(&s);
}

int main(void)
{
	RUN(passing_report);
	RUN(failures_and_errors);
	RUN(zero_tests);
	RUN(nested_suites);
	RUN(testsuite_root);
	RUN(not_xml);
	RUN(other_root);
	RUN(dtd_refused);
	RUN(missing_file);
	RUN(files);
	RUN(several_files_add_up);
	RUN(names);
	return DONE();
}
