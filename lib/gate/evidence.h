/*
 * evidence.h - reading the files a gate decides from: SARIF 2.1.0 scan
 * results (sarif_in.c) and JUnit XML test reports (junit_in.c).
 *
 * Readers never pass what they could not read: a missing file, a file that
 * is not the format, or a scan that says its own run failed is an error
 * (-1 with err set), never "zero findings".  The gate criterion maps
 * those errors to FAIL (missing) or UNKNOWN (unreadable, failed run).
 *
 * Ownership: the summary structs are caller-allocated (init / release);
 * every string and array beneath them is owned by the struct.  A summary
 * may be filled from several files in turn (the counts add up).  A file
 * that fails to read adds nothing: the summary is as it was before.
 * Example strings are cut at a UTF-8 character boundary, never escaped
 * (writers escape them).  Out of memory is BS_ERR_NOMEM.
 */
#ifndef BS_GATE_EVIDENCE_H
#define BS_GATE_EVIDENCE_H

#include <stddef.h>

#include "common/err.h"

/* Largest evidence file read (bytes). */
#define BS_EVIDENCE_MAX_BYTES (64u << 20)
/* How many example ids are kept per severity / failed tests kept. */
#define BS_EVIDENCE_EXAMPLES 5

/* ---- SARIF (sarif_in.c) --------------------------------------------------
 *
 * Severity of a result: from the rule's "security-severity" property (a
 * number as a string, as GitHub code scanning reads it; on the result's
 * properties first, then on the rule found by ruleIndex / ruleId / rule
 * reference in tool.driver.rules or tool.extensions[].rules) when present:
 * >= 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, < 4.0 low.  Else from the
 * level (result.level, else the rule's defaultConfiguration.level, else
 * "warning"): error -> high, warning -> medium, note -> low, none -> none.
 *
 * Counted apart, never in the severity counts: results whose kind is not
 * "fail" (absent means "fail"), suppressed results (a suppression whose
 * status is absent or "accepted"; "underReview" and "rejected" do not
 * suppress), results with baselineState "unchanged", and results with
 * baselineState "absent" (gone since the baseline: no longer a finding).
 *
 * A result is counted in exactly one place, the first that applies: not
 * "fail", suppressed, unchanged, absent, else its severity; so results is
 * the sum of by_sev[], suppressed, unchanged, absent and not_fail.  A security-severity
 * that is not a finite number is ignored (the next source decides).
 *
 * A run whose invocations say executionSuccessful: false is an error
 * (BS_ERR_FORMAT) naming the tool and the first error notification's
 * message (toolExecutionNotifications, else toolConfigurationNotifications;
 * level "error", else the first).  So is a run without a "results" array
 * (SARIF's sign of a tool that failed before it produced results; a scan
 * that found nothing writes "results": []), a log with no runs, and a
 * result whose kind or level is none of SARIF's values (a guess could pass
 * a finding).  A run with "results": [] and no failed invocation is a
 * valid, empty run.  A file that is not JSON, has no "runs" array, or a
 * "version" other than "2.1.0" is BS_ERR_FORMAT; missing is
 * BS_ERR_NOT_FOUND; more than BS_EVIDENCE_MAX_BYTES BS_ERR_FORMAT; other
 * read failures BS_ERR_IO.  Messages start "<path>: ". */
enum bs_sev { BS_SEV_CRITICAL = 0, BS_SEV_HIGH, BS_SEV_MEDIUM, BS_SEV_LOW, BS_SEV_NONE };
#define BS_SEV_COUNT 5

struct bs_sarif_summary {
	size_t runs;                      /* runs read */
	size_t results;                   /* every result seen */
	size_t by_sev[BS_SEV_COUNT];      /* counted results (kind fail, not suppressed, not baseline-unchanged) */
	size_t suppressed, unchanged, absent, not_fail; /* counted apart */
	/* The first BS_EVIDENCE_EXAMPLES distinct rule ids (else the result
	 * message's first 80 bytes, up to its first line break) per severity,
	 * for "2 critical findings (limit 0): CVE-2026-1, CVE-2026-2". */
	char *examples[BS_SEV_COUNT][BS_EVIDENCE_EXAMPLES];
	size_t nexamples[BS_SEV_COUNT];
	char *tools;                      /* driver names seen, ", "-separated, or NULL */
};

void bs_sarif_summary_init(struct bs_sarif_summary *s);
void bs_sarif_summary_release(struct bs_sarif_summary *s);
/* "critical", "high", "medium", "low", "none" ("unknown" for a value out
 * of range); parse: the exact lowercase name, -1 if none of them. */
const char *bs_sev_name(enum bs_sev v);
int bs_sev_parse(const char *name);
/* Read one SARIF file and add it to s. */
int bs_sarif_read(const char *path, struct bs_sarif_summary *s, struct bs_err *err);
/* The same from memory (tests, fuzzing); name is used in messages. */
int bs_sarif_read_buf(const char *name, const char *buf, size_t len, struct bs_sarif_summary *s,
		      struct bs_err *err);

/* ---- JUnit XML (junit_in.c) ----------------------------------------------
 *
 * The root is <testsuites> or <testsuite> (suites may nest).  Counts come
 * from the <testcase> elements themselves, not from the suites'
 * attributes (which tools get wrong): a testcase with a <failure> child is
 * a failure, with an <error> child an error, with <skipped> skipped; a
 * testcase is counted in at most one of them, in that order (pytest puts
 * both <failure> and <error> in a test that failed and then failed its
 * teardown), so tests - failures - errors - skipped passed.  Read with
 * net/xml.h (no DTD, no network; a file over BS_XML_MAX_INPUT, 16 MiB, is
 * refused, below BS_EVIDENCE_MAX_BYTES).  Missing file BS_ERR_NOT_FOUND;
 * not XML or another root element BS_ERR_FORMAT ("<path>: not a JUnit
 * report (root element 'x')"); messages start "<path>: ". */
struct bs_junit_summary {
	size_t files;
	size_t tests, failures, errors, skipped;
	/* the first BS_EVIDENCE_EXAMPLES failed or errored tests, as
	 * "classname.name" (or "name") */
	char *examples[BS_EVIDENCE_EXAMPLES];
	size_t nexamples;
};

void bs_junit_summary_init(struct bs_junit_summary *s);
void bs_junit_summary_release(struct bs_junit_summary *s);
int bs_junit_read(const char *path, struct bs_junit_summary *s, struct bs_err *err);
int bs_junit_read_buf(const char *name, const char *buf, size_t len, struct bs_junit_summary *s,
		      struct bs_err *err);

#endif
