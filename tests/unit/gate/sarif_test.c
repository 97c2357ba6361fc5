/* sarif_test.c - lib/gate/sarif_in.c: severities from security-severity
 * (on the result, on rules found by ruleIndex, ruleId or rule reference,
 * in the driver or an extension) and from levels; what is counted apart
 * (kind, suppressions, baseline); failed runs, malformed logs and missing
 * files as errors; several files adding up; examples. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gate/evidence.h"
#include "harness.h"

/* The logs below are written with ' for " (readable C strings). */
#define LOG(runs) "{'version':'2.1.0','$schema':'https://json.schemastore.org/sarif-2.1.0.json','runs':[" runs "]}"
#define RUN1(tool, rules, results) "{'tool':{'driver':{'name':'" tool "','rules':[" rules "]}},'results':[" results "]}"

static int read_log(const char *name, const char *text, struct bs_sarif_summary *s, struct bs_err *err)
{
	char *j = strdup(text), *p;
	int rc;

	for (p = j; *p; p++)
		if (*p == '\'')
			*p = '"';
	bs_err_init(err);
	rc = bs_sarif_read_buf(name, j, strlen(j), s, err);
	free(j);
	return rc;
}

static void check_counts(const struct bs_sarif_summary *s, size_t c, size_t h, size_t m, size_t l, size_t n)
{
	CHECK_INT(s->by_sev[BS_SEV_CRITICAL], c);
	CHECK_INT(s->by_sev[BS_SEV_HIGH], h);
	CHECK_INT(s->by_sev[BS_SEV_MEDIUM], m);
	CHECK_INT(s->by_sev[BS_SEV_LOW], l);
	CHECK_INT(s->by_sev[BS_SEV_NONE], n);
}

static int starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Trivy's shape: rules with security-severity, results by ruleIndex. */
TEST(critical_by_rule_index)
{
	static const char log[] = LOG(RUN1(
		"Trivy",
		"{'id':'CVE-2026-1','properties':{'security-severity':'9.8'}},"
		"{'id':'CVE-2026-2','properties':{'security-severity':'7.5'}},"
		"{'id':'CVE-2026-3','properties':{'security-severity':'9.0'}}",
		"{'ruleId':'CVE-2026-1','ruleIndex':0,'level':'error','message':{'text':'openssl'}},"
		"{'ruleId':'CVE-2026-1','ruleIndex':0,'level':'error','message':{'text':'openssl again'}},"
		"{'ruleId':'CVE-2026-2','ruleIndex':1,'level':'error','message':{'text':'zlib'}},"
		"{'ruleId':'CVE-2026-3','ruleIndex':2,'level':'note','message':{'text':'glibc'}}"));
	struct bs_sarif_summary s;
	struct bs_err err;

	bs_sarif_summary_init(&s);
	CHECK_INT(read_log("trivy.sarif", log, &s, &err), 0);
	CHECK_INT(s.runs, 1);
	CHECK_INT(s.results, 4);
	check_counts(&s, 3, 1, 0, 0, 0);
	CHECK_INT(s.nexamples[BS_SEV_CRITICAL], 2);
	CHECK_STR(s.examples[BS_SEV_CRITICAL][0], "CVE-2026-1");
	CHECK_STR(s.examples[BS_SEV_CRITICAL][1], "CVE-2026-3");
	CHECK_INT(s.nexamples[BS_SEV_HIGH], 1);
	CHECK_STR(s.examples[BS_SEV_HIGH][0], "CVE-2026-2");
	CHECK_STR(s.tools, "Trivy");
	CHECK_INT(s.suppressed + s.unchanged + s.not_fail, 0);
	bs_sarif_summary_release(&s);
	CHECK(s.tools == NULL && s.results == 0);
}

/* No ruleIndex: the rule is found by ruleId; a hierarchical id by its
 * first part; the index wins over a wrong id. */
TEST(critical_by_rule_id)
{
	static const char log[] = LOG(RUN1(
		"scanner",
		"{'id':'A','properties':{'security-severity':'3.9'}},"
		"{'id':'B','properties':{'security-severity':'10.0'}},"
		"{'id':'C','properties':{'security-severity':8}}",
		"{'ruleId':'B','message':{'text':'x'}},"
		"{'ruleId':'B/7','message':{'text':'x'}},"
		"{'ruleId':'C','message':{'text':'x'}},"
		"{'ruleId':'B','ruleIndex':0,'message':{'text':'x'}},"
		"{'rule':{'id':'C'},'message':{'text':'x'}}"));
	struct bs_sarif_summary s;
	struct bs_err err;

	bs_sarif_summary_init(&s);
	CHECK_INT(read_log("scan.sarif", log, &s, &err), 0);
	check_counts(&s, 2, 2, 0, 1, 0);
	CHECK_INT(s.nexamples[BS_SEV_CRITICAL], 2);
	CHECK_STR(s.examples[BS_SEV_CRITICAL][0], "B");
	CHECK_STR(s.examples[BS_SEV_CRITICAL][1], "B/7");
	CHECK_STR(s.examples[BS_SEV_HIGH][0], "C");
	CHECK_STR(s.examples[BS_SEV_LOW][0], "B"); /* the result's own id is the example */
	bs_sarif_summary_release(&s);
}

/* CodeQL's shape: rules in tool.extensions, results referring to them
 * through result.rule {id, index, toolComponent}. */
TEST(critical_in_extensions)
{
	static const char log[] = LOG(
		"{'tool':{'driver':{'name':'CodeQL','rules':[{'id':'d0','properties':{'security-severity':'2.0'}}]},"
		"'extensions':["
		"{'name':'codeql/cpp-queries','guid':'AB-12','rules':["
		"{'id':'cpp/overflow','properties':{'security-severity':'9.3'}},"
		"{'id':'cpp/uncontrolled','properties':{'security-severity':'7.8'}}]},"
		"{'name':'codeql/js-queries','rules':[{'id':'js/xss','properties':{'security-severity':'6.1'}}]}]},"
		"'results':["
		"{'ruleId':'cpp/overflow','rule':{'id':'cpp/overflow','index':0,'toolComponent':{'index':0}},"
		"'message':{'text':'m'}},"
		"{'rule':{'index':1,'toolComponent':{'name':'codeql/cpp-queries'}},'message':{'text':'m'}},"
		"{'rule':{'index':0,'toolComponent':{'guid':'ab-12'}},'message':{'text':'m'}},"
		"{'ruleId':'js/xss','message':{'text':'m'}},"
		"{'ruleId':'d0','ruleIndex':0,'message':{'text':'m'}}]}");
	struct bs_sarif_summary s;
	struct bs_err err;

	bs_sarif_summary_init(&s);
	CHECK_INT(read_log("codeql.sarif", log, &s, &err), 0);
	check_counts(&s, 2, 1, 1, 1, 0);
	CHECK_INT(s.nexamples[BS_SEV_CRITICAL], 1);
	CHECK_STR(s.examples[BS_SEV_CRITICAL][0], "cpp/overflow");
	CHECK_STR(s.examples[BS_SEV_HIGH][0], "cpp/uncontrolled");
	CHECK_STR(s.examples[BS_SEV_MEDIUM][0], "js/xss");
	CHECK_STR(s.tools, "CodeQL");
	bs_sarif_summary_release(&s);
}

/* The result's own security-severity comes first; a score that is not a
 * number is ignored and the next source decides. */
/* A reference to a rule the run does not define would fall back to the
 * level and let a critical finding through as medium: an error. */
TEST(broken_rule_reference)
{
	static const char ext[] = LOG(
		"{'tool':{'driver':{'name':'CodeQL','rules':[]},'extensions':[]},"
		"'results':[{'rule':{'index':0,'toolComponent':{'index':5}},'message':{'text':'m'}}]}");
	static const char idx[] = LOG(
		"{'tool':{'driver':{'name':'t','rules':[{'id':'a'}]}},"
		"'results':[{'ruleId':'b','ruleIndex':7,'message':{'text':'m'}}]}");
	static const char noref[] = LOG(
		"{'tool':{'driver':{'name':'t'}},'results':[{'ruleId':'undeclared','level':'error','message':{'text':'m'}}]}");
	struct bs_sarif_summary s;
	struct bs_err err;

	bs_sarif_summary_init(&s);
	CHECK_INT(read_log("a.sarif", ext, &s, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK(strstr(err.msg, "refers to a rule") != NULL);
	CHECK_INT(read_log("b.sarif", idx, &s, &err), -1);
	CHECK_INT(s.results, 0);
	/* a ruleId alone, without rules declared, is common: the level decides */
	CHECK_INT(read_log("c.sarif", noref, &s, &err), 0);
	CHECK_INT(s.by_sev[BS_SEV_HIGH], 1);
	bs_sarif_summary_release(&s);
}

TEST(result_properties_first)
{
	static const char log[] = LOG(RUN1(
		"t", "{'id':'R','properties':{'security-severity':'5.0'}}",
		"{'ruleId':'R','ruleIndex':0,'properties':{'security-severity':'9.1'},'message':{'text':'m'}},"
		"{'ruleId':'R','ruleIndex':0,'properties':{'security-severity':'high'},'message':{'text':'m'}},"
		"{'ruleId':'R','ruleIndex':0,'properties':{'security-severity':'nan'},'message':{'text':'m'}},"
		"{'ruleId':'S','properties':{'security-severity':''},'level':'error','message':{'text':'m'}},"
		"{'ruleId':'S','properties':{'security-severity':' 6.9 '},'message':{'text':'m'}}"));
	struct bs_sarif_summary s;
	struct bs_err err;

	bs_sarif_summary_init(&s);
	CHECK_INT(read_log("scan.sarif", log, &s, &err), 0);
	check_counts(&s, 1, 1, 3, 0, 0);
	bs_sarif_summary_release(&s);
}

TEST(highs_only)
{
	static const char log[] = LOG(RUN1(
		"grype", "{'id':'GHSA-1','properties':{'security-severity':'7.0'}}",
		"{'ruleId':'GHSA-1','ruleIndex':0,'message':{'text':'a'}},"
		"{'ruleId':'GHSA-1','ruleIndex':0,'message':{'text':'b'}}"));
	struct bs_sarif_summary s;
	struct bs_err err;

	bs_sarif_summary_init(&s);
	CHECK_INT(read_log("grype.sarif", log, &s, &err), 0);
	check_counts(&s, 0, 2, 0, 0, 0);
	CHECK_INT(s.nexamples[BS_SEV_HIGH], 1);
	CHECK_INT(s.nexamples[BS_SEV_CRITICAL], 0);
	bs_sarif_summary_release(&s);
}

/* Without a score: the result's level, else the rule's default, else
 * "warning". */
TEST(level_fallback)
{
	static const char log[] = LOG(RUN1(
		"semgrep",
		"{'id':'r.err','defaultConfiguration':{'level':'error'}},"
		"{'id':'r.note','defaultConfiguration':{'level':'note'}},"
		"{'id':'r.plain'}",
		"{'ruleId':'x1','level':'error','message':{'text':'m'}},"
		"{'ruleId':'x2','level':'warning','message':{'text':'m'}},"
		"{'ruleId':'x3','level':'note','message':{'text':'m'}},"
		"{'ruleId':'x4','level':'none','message':{'text':'m'}},"
		"{'ruleId':'r.err','message':{'text':'m'}},"
		"{'ruleId':'r.note','ruleIndex':1,'message':{'text':'m'}},"
		"{'ruleId':'r.note','level':'error','message':{'text':'m'}},"
		"{'ruleId':'r.plain','message':{'text':'m'}},"
		"{'ruleId':'nowhere','message':{'text':'m'}}"));
	struct bs_sarif_summary s;
	struct bs_err err;

	bs_sarif_summary_init(&s);
	CHECK_INT(read_log("semgrep.sarif", log, &s, &err), 0);
	check_counts(&s, 0, 3, 3, 2, 1);
	CHECK_INT(s.nexamples[BS_SEV_HIGH], 3);
	CHECK_STR(s.examples[BS_SEV_HIGH][0], "x1");
	CHECK_STR(s.examples[BS_SEV_HIGH][1], "r.err");
	CHECK_STR(s.examples[BS_SEV_HIGH][2], "r.note");
	CHECK_STR(s.examples[BS_SEV_NONE][0], "x4");
	bs_sarif_summary_release(&s);
}

/* A level or kind that is none of SARIF's values is not guessed at. */
TEST(unknown_level_or_kind)
{
	struct bs_sarif_summary s;
	struct bs_err err;

	bs_sarif_summary_init(&s);
	CHECK_INT(read_log("scan.sarif", LOG(RUN1("t", "", "{'ruleId':'a','level':'critical','message':{'text':'m'}}")),
			   &s, &err),
		  -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK_STR(err.msg, "scan.sarif: run 1, result 1 has an unknown level 'critical'");
	CHECK_INT(read_log("scan.sarif", LOG(RUN1("t", "", "{'ruleId':'a','kind':'bad','message':{'text':'m'}}")), &s,
			   &err),
		  -1);
	CHECK_STR(err.msg, "scan.sarif: run 1, result 1 has an unknown kind 'bad'");
	CHECK_INT(read_log("scan.sarif", LOG(RUN1("t", "", "{'ruleId':'a','level':3}")), &s, &err), -1);
	CHECK_INT(read_log("scan.sarif", LOG(RUN1("t", "", "7")), &s, &err), -1);
	CHECK_STR(err.msg, "scan.sarif: run 1, result 1 is not an object");
	CHECK_INT(s.runs + s.results, 0);
	bs_sarif_summary_release(&s);
}

TEST(suppressions)
{
	static const char log[] = LOG(RUN1(
		"t", "{'id':'R','properties':{'security-severity':'9.5'}}",
		"{'ruleId':'R','ruleIndex':0,'suppressions':[{'kind':'inSource'}],'message':{'text':'m'}},"
		"{'ruleId':'R','ruleIndex':0,'suppressions':[{'kind':'external','status':'accepted'}],"
		"'message':{'text':'m'}},"
		"{'ruleId':'R','ruleIndex':0,'suppressions':[{'kind':'external','status':'rejected'}],"
		"'message':{'text':'m'}},"
		"{'ruleId':'R','ruleIndex':0,'suppressions':[{'kind':'external','status':'underReview'}],"
		"'message':{'text':'m'}},"
		"{'ruleId':'R','ruleIndex':0,'suppressions':[{'status':'rejected'},{'status':'accepted'}],"
		"'message':{'text':'m'}},"
		"{'ruleId':'R','ruleIndex':0,'suppressions':[],'message':{'text':'m'}}"));
	struct bs_sarif_summary s;
	struct bs_err err;

	bs_sarif_summary_init(&s);
	CHECK_INT(read_log("scan.sarif", log, &s, &err), 0);
	CHECK_INT(s.results, 6);
	CHECK_INT(s.suppressed, 3);
	check_counts(&s, 3, 0, 0, 0, 0);
	bs_sarif_summary_release(&s);
}

TEST(baseline_unchanged)
{
	static const char log[] = LOG(RUN1(
		"t", "{'id':'R','properties':{'security-severity':'9.5'}}",
		"{'ruleId':'R','ruleIndex':0,'baselineState':'unchanged','message':{'text':'m'}},"
		"{'ruleId':'R','ruleIndex':0,'baselineState':'unchanged','message':{'text':'m'}},"
		"{'ruleId':'R','ruleIndex':0,'baselineState':'new','message':{'text':'m'}},"
		"{'ruleId':'R','ruleIndex':0,'baselineState':'updated','message':{'text':'m'}},"
		"{'ruleId':'R','ruleIndex':0,'baselineState':'absent','message':{'text':'m'}}"));
	struct bs_sarif_summary s;
	struct bs_err err;

	bs_sarif_summary_init(&s);
	CHECK_INT(read_log("scan.sarif", log, &s, &err), 0);
	CHECK_INT(s.unchanged, 2);
	CHECK_INT(s.absent, 1); /* gone since the baseline: not a finding */
	CHECK_INT(s.results, 5);
	check_counts(&s, 2, 0, 0, 0, 0);
	bs_sarif_summary_release(&s);
}

/* kind other than "fail" is counted apart, before suppression. */
TEST(kind_not_fail)
{
	static const char log[] = LOG(RUN1(
		"t", "{'id':'R','properties':{'security-severity':'9.5'}}",
		"{'ruleId':'R','ruleIndex':0,'kind':'pass','level':'none','message':{'text':'m'}},"
		"{'ruleId':'R','ruleIndex':0,'kind':'open','message':{'text':'m'}},"
		"{'ruleId':'R','ruleIndex':0,'kind':'notApplicable','suppressions':[{}],'message':{'text':'m'}},"
		"{'ruleId':'R','ruleIndex':0,'kind':'fail','message':{'text':'m'}},"
		"{'ruleId':'R','ruleIndex':0,'suppressions':[{}],'baselineState':'unchanged','message':{'text':'m'}}"));
	struct bs_sarif_summary s;
	struct bs_err err;

	bs_sarif_summary_init(&s);
	CHECK_INT(read_log("scan.sarif", log, &s, &err), 0);
	CHECK_INT(s.results, 5);
	CHECK_INT(s.not_fail, 3);
	CHECK_INT(s.suppressed, 1);
	CHECK_INT(s.unchanged, 0);
	check_counts(&s, 1, 0, 0, 0, 0);
	bs_sarif_summary_release(&s);
}

/* A scan that says it failed is an error naming the tool and its message,
 * and adds nothing to the summary. */
TEST(failed_run)
{
	static const char log[] = LOG(
		"{'tool':{'driver':{'name':'trivy'}},'invocations':[{'executionSuccessful':false,'exitCode':2,"
		"'toolExecutionNotifications':["
		"{'level':'warning','message':{'text':'cache is old'}},"
		"{'level':'error','message':{'text':'failed to download vulnerability DB\\nretry later'}}]}],"
		"'results':[]}");
	static const char bare[] = LOG("{'tool':{'driver':{'name':'gosec'}},'invocations':[{'executionSuccessful':false}]}");
	static const char first[] = LOG(
		"{'tool':{'driver':{'name':'x'}},'invocations':[{'executionSuccessful':true},{'executionSuccessful':false,"
		"'toolExecutionNotifications':[{'level':'note','message':{'text':'  out of disk'}}]}],'results':[]}");
	struct bs_sarif_summary s;
	struct bs_err err;

	bs_sarif_summary_init(&s);
	CHECK_INT(read_log("scan.sarif", LOG(RUN1("ok", "", "{'ruleId':'a','message':{'text':'m'}}")), &s, &err), 0);
	CHECK_INT(read_log("scan.sarif", log, &s, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK_STR(err.msg, "scan.sarif: the scan did not complete: tool 'trivy' reported: failed to download "
			   "vulnerability DB");
	CHECK_STR(err.detail, "exit code 2\nfailed to download vulnerability DB\nretry later");
	CHECK(err.hint[0] != '\0');
	CHECK_INT(read_log("scan.sarif", bare, &s, &err), -1);
	CHECK_STR(err.msg, "scan.sarif: the scan did not complete: tool 'gosec' reported a failed run without a "
			   "message");
	CHECK_INT(read_log("scan.sarif", first, &s, &err), -1);
	CHECK_STR(err.msg, "scan.sarif: the scan did not complete: tool 'x' reported: out of disk");
	/* the summary holds the first log only */
	CHECK_INT(s.runs, 1);
	CHECK_INT(s.results, 1);
	CHECK_STR(s.tools, "ok");
	bs_sarif_summary_release(&s);
}

TEST(empty_successful_run)
{
	static const char with_inv[] = LOG("{'tool':{'driver':{'name':'trivy','rules':[]}},"
					   "'invocations':[{'executionSuccessful':true}],'results':[]}");
	struct bs_sarif_summary s;
	struct bs_err err;
	size_t v;

	bs_sarif_summary_init(&s);
	CHECK_INT(read_log("a.sarif", with_inv, &s, &err), 0);
	CHECK_INT(s.runs, 1);
	CHECK_INT(s.results, 0);
	for (v = 0; v < BS_SEV_COUNT; v++) {
		CHECK_INT(s.by_sev[v], 0);
		CHECK_INT(s.nexamples[v], 0);
	}
	CHECK_INT(s.suppressed + s.unchanged + s.not_fail, 0);
	CHECK_STR(s.tools, "trivy");
	bs_sarif_summary_release(&s);
	CHECK_INT(read_log("b.sarif", LOG(RUN1("t", "", "")), &s, &err), 0);
	CHECK_INT(s.runs, 1);
	CHECK_INT(s.results, 0);
	/* a UTF-8 byte order mark before the log is allowed */
	CHECK_INT(read_log("c.sarif", "\xEF\xBB\xBF" LOG(RUN1("t", "", "")), &s, &err), 0);
	CHECK_INT(s.runs, 2);
	bs_sarif_summary_release(&s);
}

/* A run without a results array did not produce results. */
TEST(run_without_results)
{
	struct bs_sarif_summary s;
	struct bs_err err;

	bs_sarif_summary_init(&s);
	CHECK_INT(read_log("scan.sarif", LOG("{'tool':{'driver':{'name':'t'}}}"), &s, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK_STR(err.msg, "scan.sarif: run 1 (tool 't') has no results array");
	CHECK_INT(read_log("scan.sarif", LOG("{'tool':{'driver':{'name':'t'}},'results':null}"), &s, &err), -1);
	CHECK_INT(read_log("scan.sarif", LOG(RUN1("t", "", "")",{'results':{}}"), &s, &err), -1);
	CHECK_STR(err.msg, "scan.sarif: run 2 (tool '(unnamed)') has no results array");
	CHECK_INT(s.runs, 0);
	bs_sarif_summary_release(&s);
}

TEST(not_a_sarif_log)
{
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "", "scan.sarif: not a SARIF log: not JSON" },
		{ "<html>502 Bad Gateway</html>", "scan.sarif: not a SARIF log: not JSON" },
		{ "{'version':'2.1.0','runs':[]", "scan.sarif: not a SARIF log: not JSON" },
		{ "[1,2]", "scan.sarif: not a SARIF log: the top level is not an object" },
		{ "{'runs':[]}", "scan.sarif: not a SARIF log: no 'version'" },
		{ "{'version':'2.1.0'}", "scan.sarif: not a SARIF log: no 'runs' array" },
		{ "{'version':'2.1.0','runs':{}}", "scan.sarif: not a SARIF log: no 'runs' array" },
		{ "{'version':'2.1.0','runs':[]}", "scan.sarif: the SARIF log holds no runs" },
		{ "{'version':'2.1.0','runs':[3]}", "scan.sarif: run 1 is not an object" },
		{ "{'version':'2.1.0','runs':[{'invocations':{},'results':[]}]}",
		  "scan.sarif: run 1: 'invocations' is not an array" },
	};
	struct bs_sarif_summary s;
	struct bs_err err;
	size_t i;

	bs_sarif_summary_init(&s);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(read_log("scan.sarif", bad[i].text, &s, &err), -1);
		CHECK_INT(err.code, BS_ERR_FORMAT);
		CHECK_STR(err.msg, bad[i].msg);
	}
	/* the parser's complaint is in the detail */
	read_log("scan.sarif", "{'version':", &s, &err);
	CHECK(strstr(err.detail, "line 1") != NULL);
	bs_err_init(&err);
	CHECK_INT(bs_sarif_read_buf("scan.sarif", NULL, 0, &s, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK_INT(s.runs, 0);
	bs_sarif_summary_release(&s);
}

TEST(wrong_version)
{
	struct bs_sarif_summary s;
	struct bs_err err;

	bs_sarif_summary_init(&s);
	CHECK_INT(read_log("old.sarif", "{'version':'2.0.0','runs':[{'tool':{'driver':{'name':'t'}},'results':[]}]}",
			   &s, &err),
		  -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK_STR(err.msg, "old.sarif: SARIF version '2.0.0' is not supported (only 2.1.0)");
	CHECK(err.hint[0] != '\0');
	CHECK_INT(read_log("old.sarif", "{'version':2.1,'runs':[]}", &s, &err), -1);
	CHECK_STR(err.msg, "old.sarif: not a SARIF log: no 'version'");
	bs_sarif_summary_release(&s);
}

TEST(missing_file)
{
	struct bs_sarif_summary s;
	struct bs_err err;

	bs_sarif_summary_init(&s);
	bs_err_init(&err);
	CHECK_INT(bs_sarif_read("/nonexistent/backstop/scan.sarif", &s, &err), -1);
	CHECK_INT(err.code, BS_ERR_NOT_FOUND);
	CHECK(starts(err.msg, "/nonexistent/backstop/scan.sarif: "));
	CHECK(err.hint[0] != '\0');
	CHECK_INT(s.runs, 0);
	bs_sarif_summary_release(&s);
}

/* The file readers: a real file, a directory, a file over the limit
 * (sparse: refused by its size, never read). */
TEST(files)
{
	static const char log[] = "{\"version\":\"2.1.0\",\"runs\":[{\"tool\":{\"driver\":{\"name\":\"t\"}},"
				  "\"results\":[{\"ruleId\":\"a\",\"level\":\"error\",\"message\":{\"text\":\"m\"}}]}]}";
	char dir[] = "/tmp/bs_sarif_test.XXXXXX", path[64], big[64];
	struct bs_sarif_summary s;
	struct bs_err err;
	int fd;

	bs_sarif_summary_init(&s);
	if (!mkdtemp(dir))
		SKIP("mkdtemp failed");
	snprintf(path, sizeof(path), "%s/scan.sarif", dir);
	snprintf(big, sizeof(big), "%s/big.sarif", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0 && write(fd, log, strlen(log)) == (ssize_t)strlen(log));
	close(fd);
	bs_err_init(&err);
	CHECK_INT(bs_sarif_read(path, &s, &err), 0);
	CHECK_INT(s.by_sev[BS_SEV_HIGH], 1);
	CHECK_INT(bs_sarif_read(dir, &s, &err), -1);
	CHECK_INT(err.code, BS_ERR_IO);
	CHECK(starts(err.msg, dir));
	fd = open(big, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0 && ftruncate(fd, (off_t)BS_EVIDENCE_MAX_BYTES + 1) == 0);
	close(fd);
	CHECK_INT(bs_sarif_read(big, &s, &err), -1);
	CHECK_INT(err.code, BS_ERR_FORMAT);
	CHECK(starts(err.msg, big));
	CHECK(strstr(err.msg, "larger than") != NULL);
	CHECK_INT(s.runs, 1);
	unlink(path);
	unlink(big);
	rmdir(dir);
	bs_sarif_summary_release(&s);
}

/* Several files (and several runs in one) add up; tools are named once;
 * examples stay distinct across files. */
TEST(several_files_add_up)
{
	static const char a[] = LOG(
		RUN1("trivy", "{'id':'CVE-1','properties':{'security-severity':'9.8'}}",
		    "{'ruleId':'CVE-1','ruleIndex':0,'message':{'text':'m'}}") ","
		RUN1("semgrep", "", "{'ruleId':'py.sqli','level':'error','message':{'text':'m'}}"));
	static const char b[] = LOG(
		RUN1("trivy", "{'id':'CVE-1','properties':{'security-severity':'9.8'}},"
			     "{'id':'CVE-2','properties':{'security-severity':'9.8'}}",
		    "{'ruleId':'CVE-1','ruleIndex':0,'message':{'text':'m'}},"
		    "{'ruleId':'CVE-2','ruleIndex':1,'message':{'text':'m'}},"
		    "{'ruleId':'CVE-2','ruleIndex':1,'suppressions':[{}],'message':{'text':'m'}}") ","
		RUN1("gitleaks", "", "{'ruleId':'aws-key','level':'warning','message':{'text':'m'}}"));
	struct bs_sarif_summary s;
	struct bs_err err;

	bs_sarif_summary_init(&s);
	CHECK_INT(read_log("a.sarif", a, &s, &err), 0);
	CHECK_STR(s.tools, "trivy, semgrep");
	CHECK_INT(read_log("b.sarif", b, &s, &err), 0);
	CHECK_INT(s.runs, 4);
	CHECK_INT(s.results, 6);
	CHECK_INT(s.suppressed, 1);
	check_counts(&s, 3, 1, 1, 0, 0);
	CHECK_INT(s.nexamples[BS_SEV_CRITICAL], 2);
	CHECK_STR(s.examples[BS_SEV_CRITICAL][0], "CVE-1");
	CHECK_STR(s.examples[BS_SEV_CRITICAL][1], "CVE-2");
	CHECK_STR(s.tools, "trivy, semgrep, gitleaks");
	bs_sarif_summary_release(&s);
}

/* At most BS_EVIDENCE_EXAMPLES distinct ids per severity, also across
 * files; without an id, the message's first line, at most 80 bytes, cut
 * at a character boundary. */
TEST(examples_limited)
{
	static const char many[] = LOG(RUN1(
		"t", "",
		"{'ruleId':'r1','level':'error'},{'ruleId':'r1','level':'error'},{'ruleId':'r2','level':'error'},"
		"{'ruleId':'r3','level':'error'},{'ruleId':'r2','level':'error'},{'ruleId':'r4','level':'error'},"
		"{'ruleId':'r5','level':'error'},{'ruleId':'r6','level':'error'},{'ruleId':'r7','level':'error'}"));
	static const char more[] = LOG(RUN1("t", "", "{'ruleId':'r0','level':'error'}"));
	static const char few[] = LOG(RUN1("t", "", "{'ruleId':'r3','level':'note'},{'ruleId':'r9','level':'note'}"));
	/* 78 ASCII bytes, then a 3-byte character that would end at byte 81 */
	static const char msg[] = LOG(RUN1(
		"t", "",
		"{'level':'warning','message':{'text':' 0123456789012345678901234567890123456789012345678901234567890"
		"12345678901234567\xE2\x82\xAC tail'}},"
		"{'level':'warning','message':{'text':'first line\\nsecond line'}},"
		"{'level':'warning','message':{'text':'first line\\nother second line'}},"
		"{'level':'warning'}"));
	struct bs_sarif_summary s;
	struct bs_err err;
	size_t i;

	bs_sarif_summary_init(&s);
	CHECK_INT(read_log("a.sarif", many, &s, &err), 0);
	CHECK_INT(s.by_sev[BS_SEV_HIGH], 9);
	CHECK_INT(s.nexamples[BS_SEV_HIGH], BS_EVIDENCE_EXAMPLES);
	for (i = 0; i < BS_EVIDENCE_EXAMPLES; i++) {
		char want[8];

		snprintf(want, sizeof(want), "r%zu", i + 1);
		CHECK_STR(s.examples[BS_SEV_HIGH][i], want);
	}
	CHECK_INT(read_log("b.sarif", more, &s, &err), 0);
	CHECK_INT(s.nexamples[BS_SEV_HIGH], BS_EVIDENCE_EXAMPLES);
	CHECK_STR(s.examples[BS_SEV_HIGH][4], "r5");
	CHECK_INT(read_log("c.sarif", few, &s, &err), 0);
	CHECK_INT(s.nexamples[BS_SEV_LOW], 2);
	CHECK_INT(read_log("d.sarif", msg, &s, &err), 0);
	CHECK_INT(s.by_sev[BS_SEV_MEDIUM], 4);
	CHECK_INT(s.nexamples[BS_SEV_MEDIUM], 2);
	CHECK_STR(s.examples[BS_SEV_MEDIUM][0],
		  "012345678901234567890123456789012345678901234567890123456789012345678901234567");
	CHECK_INT(strlen(s.examples[BS_SEV_MEDIUM][0]), 78);
	CHECK_STR(s.examples[BS_SEV_MEDIUM][1], "first line");
	bs_sarif_summary_release(&s);
}

TEST(severity_names)
{
	CHECK_STR(bs_sev_name(BS_SEV_CRITICAL), "critical");
	CHECK_STR(bs_sev_name(BS_SEV_NONE), "none");
	CHECK_STR(bs_sev_name((enum bs_sev)7), "unknown");
	CHECK_INT(bs_sev_parse("high"), BS_SEV_HIGH);
	CHECK_INT(bs_sev_parse("low"), BS_SEV_LOW);
	CHECK_INT(bs_sev_parse("medium"), BS_SEV_MEDIUM);
	CHECK_INT(bs_sev_parse("severe"), -1);
	CHECK_INT(bs_sev_parse(NULL), -1);
}

int main(void)
{
	RUN(critical_by_rule_index);
	RUN(critical_by_rule_id);
	RUN(critical_in_extensions);
	RUN(broken_rule_reference);
	RUN(result_properties_first);
	RUN(highs_only);
	RUN(level_fallback);
	RUN(unknown_level_or_kind);
	RUN(suppressions);
	RUN(baseline_unchanged);
	RUN(kind_not_fail);
	RUN(failed_run);
	RUN(empty_successful_run);
	RUN(run_without_results);
	RUN(not_a_sarif_log);
	RUN(wrong_version);
	RUN(missing_file);
	RUN(files);
	RUN(several_files_add_up);
	RUN(examples_limited);
	RUN(severity_names);
	return DONE();
}
