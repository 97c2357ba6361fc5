/*
 * crit_evidence.c - criteria read from files a pipeline produced: 'sarif'
 * (security scan results under limits per severity) and 'junit' (test
 * reports without failures or errors).
 *
 *   - kind: sarif
 *     files: [trivy.sarif]     glob patterns, from the working directory
 *     max: {critical: 0, high: 0, medium: -1}    -1: no limit; default critical 0, high 0
 *   - kind: junit
 *     files: [report.xml]      glob patterns too
 *     min_tests: 1
 *
 * A pattern that matches no file is missing evidence: FAIL.  A file that
 * cannot be read as the format, or a scan that says its run failed, is
 * UNKNOWN: the scan's verdict is not known.
 */
#include "gate/gate_int.h"

#include <stdlib.h>
#include <string.h>

static int files_check(const struct bs_gate_criterion *c, const struct bs_gate_policy *p, struct bs_err *err)
{
	(void)p;
	if (c->nfiles == 0) {
		bs_err_set(err, BS_ERR_POLICY, "a %s criterion needs 'files:'", bs_gate_kind_name(c->kind));
		bs_err_hint(err, "files: [scan.sarif] (glob patterns, read from the working directory)");
		return -1;
	}
	return 0;
}

/* The evidence files, or an outcome saying why there are none. */
static int evidence_paths(const struct bs_gate_criterion *c, struct bs_gate_outcome *o, const char *expected,
			  char ***paths, size_t *n)
{
	char missing[512];
	struct bs_err e;

	bs_err_init(&e);
	if (bs_gate_paths(c->files, c->nfiles, paths, n, missing, sizeof(missing), &e) < 0) {
		bs_gate_set(o, BS_STATE_UNKNOWN, expected, "%s", e.msg);
		return -1;
	}
	if (missing[0]) {
		bs_gate_set(o, BS_STATE_FAIL, expected, "no evidence: no file matches %s", missing);
		bs_gate_paths_free(*paths, *n);
		return -1;
	}
	return 0;
}

/* ---- sarif ---------------------------------------------------------------- */

static void sarif_init(struct bs_gate_criterion *c)
{
	c->max[BS_SEV_CRITICAL] = 0;
	c->max[BS_SEV_HIGH] = 0;
	c->max[BS_SEV_MEDIUM] = -1;
	c->max[BS_SEV_LOW] = -1;
	c->max[BS_SEV_NONE] = -1;
}

static void sarif_eval(struct bs_gate_eval *ev, const struct bs_gate *g, const struct bs_gate_criterion *c,
		       struct bs_gate_outcome *o)
{
	struct bs_sarif_summary s;
	char expected[256] = "", over[1024] = "", counts[256] = "";
	char **paths = NULL;
	size_t n = 0;
	struct bs_err e;

	(void)ev, (void)g;
	for (int v = 0; v < BS_SEV_COUNT; v++)
		if (c->max[v] >= 0)
			bs_gate_appendf(expected, sizeof(expected), "%s%s <= %d", expected[0] ? ", " : "",
					bs_sev_name((enum bs_sev)v), c->max[v]);
	if (evidence_paths(c, o, expected, &paths, &n) < 0)
		return;
	bs_sarif_summary_init(&s);
	bs_err_init(&e);
	for (size_t i = 0; i < n; i++) {
		if (bs_sarif_read(paths[i], &s, &e) < 0) {
			bs_gate_set(o, e.code == BS_ERR_NOT_FOUND ? BS_STATE_FAIL : BS_STATE_UNKNOWN, expected, "%s", e.msg);
			goto out;
		}
	}
	for (int v = 0; v < BS_SEV_COUNT; v++) {
		size_t cnt = s.by_sev[v];
		if (v == BS_SEV_NONE && !cnt)
			continue;
		bs_gate_appendf(counts, sizeof(counts), "%s%zu %s", counts[0] ? ", " : "", cnt, bs_sev_name((enum bs_sev)v));
	}
	for (int v = 0; v < BS_SEV_COUNT; v++) {
		if (c->max[v] < 0 || s.by_sev[v] <= (size_t)c->max[v])
			continue;
		bs_gate_appendf(over, sizeof(over), "%s%zu %s finding%s (limit %d)", over[0] ? "; " : "", s.by_sev[v],
				bs_sev_name((enum bs_sev)v), s.by_sev[v] == 1 ? "" : "s", c->max[v]);
		for (size_t k = 0; k < s.nexamples[v]; k++)
			bs_gate_appendf(over, sizeof(over), "%s%s", k ? ", " : ": ", s.examples[v][k]);
		if (s.by_sev[v] > s.nexamples[v])
			bs_gate_appendf(over, sizeof(over), ", ...");
	}
	if (over[0])
		bs_gate_set(o, BS_STATE_FAIL, expected, "%s", over);
	else
		bs_gate_set(o, BS_STATE_OK, expected, "%s", counts);
	bs_gate_detail(o, "%zu file%s, %zu run%s (%s), %zu result%s: %s", n, n == 1 ? "" : "s", s.runs,
		       s.runs == 1 ? "" : "s", s.tools ? s.tools : "no tool named", s.results, s.results == 1 ? "" : "s",
		       counts);
	if (s.suppressed || s.unchanged || s.absent || s.not_fail)
		bs_gate_detail(o, "not counted: %zu suppressed, %zu unchanged from the baseline, %zu gone since it, %zu not a failure (kind)",
			       s.suppressed, s.unchanged, s.absent, s.not_fail);
out:
	bs_sarif_summary_release(&s);
	bs_gate_paths_free(paths, n);
}

#define C struct bs_gate_criterion
static const struct bs_bind_field sarif_max_fields[] = {
	{ .key = "critical", .type = BS_BIND_INT, .offset = offsetof(C, max[BS_SEV_CRITICAL]), .min = -1, .max = 1000000 },
	{ .key = "high", .type = BS_BIND_INT, .offset = offsetof(C, max[BS_SEV_HIGH]), .min = -1, .max = 1000000 },
	{ .key = "medium", .type = BS_BIND_INT, .offset = offsetof(C, max[BS_SEV_MEDIUM]), .min = -1, .max = 1000000 },
	{ .key = "low", .type = BS_BIND_INT, .offset = offsetof(C, max[BS_SEV_LOW]), .min = -1, .max = 1000000 },
	BS_BIND_F_END,
};

static int bind_max(struct bs_bind_ctx *ctx, const struct bs_bind_field *f, const struct bs_ynode *node,
		    const char *keypath, void *base, struct bs_err *err)
{
	(void)f;
	return bs_bind_table(ctx, sarif_max_fields, node, keypath, base, err);
}

static const struct bs_bind_field sarif_fields[] = {
	BS_CRIT_COMMON_FIELDS,
	BS_BIND_F_STRLIST("files", C, files, nfiles),
	{ .key = "max", .type = BS_BIND_CUSTOM, .custom = bind_max,
	  .hint = "max: {critical: 0, high: 0, medium: 10}  (-1: no limit)" },
	BS_BIND_F_END,
};

const struct bs_gate_kind_ops bs_crit_sarif = {
	.name = "sarif",
	.fields = sarif_fields,
	.init = sarif_init,
	.check = files_check,
	.eval = sarif_eval,
};

/* ---- junit ------------------------------------------------------------------ */

static void junit_init(struct bs_gate_criterion *c)
{
	c->min_tests = 1;
}

static void junit_eval(struct bs_gate_eval *ev, const struct bs_gate *g, const struct bs_gate_criterion *c,
		       struct bs_gate_outcome *o)
{
	struct bs_junit_summary s;
	char expected[128], ex[768] = "";
	char **paths = NULL;
	size_t n = 0;
	struct bs_err e;

	(void)ev, (void)g;
	snprintf(expected, sizeof(expected), "0 failures, 0 errors, at least %d test%s run", c->min_tests,
		 c->min_tests == 1 ? "" : "s");
	if (evidence_paths(c, o, expected, &paths, &n) < 0)
		return;
	bs_junit_summary_init(&s);
	bs_err_init(&e);
	for (size_t i = 0; i < n; i++) {
		if (bs_junit_read(paths[i], &s, &e) < 0) {
			bs_gate_set(o, e.code == BS_ERR_NOT_FOUND ? BS_STATE_FAIL : BS_STATE_UNKNOWN, expected, "%s", e.msg);
			goto out;
		}
	}
	for (size_t k = 0; k < s.nexamples; k++)
		bs_gate_appendf(ex, sizeof(ex), "%s%s", k ? ", " : ": ", s.examples[k]);
	if (s.failures + s.errors > s.nexamples && s.nexamples)
		bs_gate_appendf(ex, sizeof(ex), ", ...");
	if (s.failures || s.errors)
		bs_gate_set(o, BS_STATE_FAIL, expected, "%zu failure%s, %zu error%s in %zu tests%s", s.failures,
			    s.failures == 1 ? "" : "s", s.errors, s.errors == 1 ? "" : "s", s.tests, ex);
	else if (s.tests - s.skipped < (size_t)c->min_tests)
		bs_gate_set(o, BS_STATE_FAIL, expected, "%zu test%s run (at least %d expected)%s", s.tests - s.skipped,
			    s.tests - s.skipped == 1 ? "" : "s", c->min_tests, s.skipped ? ", the others skipped" : "");
	else
		bs_gate_set(o, BS_STATE_OK, expected, "%zu tests, 0 failures, 0 errors (%zu skipped)", s.tests, s.skipped);
	bs_gate_detail(o, "%zu file%s", s.files, s.files == 1 ? "" : "s");
out:
	bs_junit_summary_release(&s);
	bs_gate_paths_free(paths, n);
}

static const struct bs_bind_field junit_fields[] = {
	BS_CRIT_COMMON_FIELDS,
	BS_BIND_F_STRLIST("files", C, files, nfiles),
	BS_BIND_F_INT("min_tests", C, min_tests, 0, 100000000),
	BS_BIND_F_END,
};
#undef C

const struct bs_gate_kind_ops bs_crit_junit = {
	.name = "junit",
	.fields = junit_fields,
	.init = junit_init,
	.check = files_check,
	.eval = junit_eval,
};
