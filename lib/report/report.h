/*
 * report.h - findings and their writers: the one report layer.
 *
 * Every command that checks something (verify-restore, probe, gate) collects
 * findings into a struct bs_report and renders it in one place, in the
 * format the caller asks for:
 *
 *   text      aligned table for a terminal, every string escaped (text.c)
 *   JSON      one document, jansson (json.c)
 *   JUnit     XML, a <testsuite> per group, a <testcase> per finding (junit.c)
 *   Markdown  a table for $GITHUB_STEP_SUMMARY (markdown.c)
 *   SARIF     2.1.0, for code-scanning uploads (sarif.c)
 *   Nagios    a monitoring-plugin status line with perfdata (nagios.c)
 *   GitHub    Actions annotations, ::error file=..::message (github.c)
 *
 * The model.  A report has a title ("gate check go-live"), a subject (what
 * was checked: "database shop, snapshot 20261129T101500Z-ab12cd"), start and
 * end times, ordered key/value properties, and an ordered list of findings.
 * A finding is one check's outcome: a check id (stable, machine-readable:
 * "backup.fresh", "http.status", "public.accounts"), the group it belongs to
 * (a gate, a probe, a table set: JUnit suites and text/Markdown sections
 * follow groups in the order they first appear), a state, what was expected,
 * what was observed, a free-text detail, an optional duration, optional
 * numeric measurements with units (perfdata, metrics) and an optional
 * location (file:line:column, for SARIF).
 *
 * States:
 *   OK       the check passed
 *   WARN     passed, with a warning; fails only under BS_REPORT_WARN_FAILS
 *   FAIL     the check failed
 *   UNKNOWN  the check could not be evaluated (server down, no data): it
 *            NEVER passes - a gate must not say GO on what it could not see
 *   SKIPPED  not evaluated on purpose (not applicable, disabled by policy,
 *            "no limit set"); neutral
 *   WAIVED   failed, but an approval accepted it (gate approve); passes, and
 *            every writer still shows it as waived with its detail (the
 *            justification), never as plain OK
 * The overall state is the worst present: FAIL > UNKNOWN > WARN > OK
 * (SKIPPED and WAIVED count as OK; an empty report is OK).
 * bs_report_passed() is the verdict a command maps to its exit code.
 *
 * Ownership.  struct bs_report is caller-allocated: bs_report_init, then
 * bs_report_release frees everything it holds (release of an initialised
 * or released report is safe, and leaves it initialised).  bs_report_add
 * COPIES the finding it is given: every string and the measurement array are
 * borrowed from the caller for the duration of the call only; the stored
 * finding (returned, and in r->findings) owns its copies, which stay valid
 * until release.  Callers must not modify stored findings except through
 * this API.
 *
 * Bounds.  At most max_findings findings are stored (default
 * BS_REPORT_FINDINGS_MAX); further ones are counted (counts[] and dropped,
 * so the verdict stays right) but not kept.  Each string is cut at
 * BS_REPORT_STR_MAX bytes (at a UTF-8 boundary).  Writers escape whatever a
 * database user, a server or a policy file put into a string: control
 * characters, invalid UTF-8, markup of the target format.
 *
 * Writers write to a FILE * the caller opened (a durable file write is the
 * caller's: temporary name, fsync, rename); they return 0, or -1 when the
 * stream reports an error (ferror) or memory runs out.  They never print
 * anything else and never close the stream.
 */
#ifndef BS_REPORT_REPORT_H
#define BS_REPORT_REPORT_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

enum bs_state {
	BS_STATE_OK = 0,
	BS_STATE_WARN,
	BS_STATE_FAIL,
	BS_STATE_UNKNOWN,
	BS_STATE_SKIPPED,
	BS_STATE_WAIVED,
};
#define BS_STATE_COUNT 6

#define BS_REPORT_FINDINGS_MAX 10000
#define BS_REPORT_STR_MAX      65536
#define BS_REPORT_PROPS_MAX    64

/* Which of a measurement's thresholds and bounds are set. */
#define BS_MEASURE_WARN 0x1
#define BS_MEASURE_CRIT 0x2
#define BS_MEASURE_MIN	0x4
#define BS_MEASURE_MAX	0x8

/*
 * A number a check measured: Nagios perfdata ('name'=value[unit];warn;crit;
 * min;max) and metrics.  unit: "" (a count), "s", "ms", "us", "%", "B",
 * "KB", "MB", "GB", "TB", "c" (a counter) - the monitoring-plugin units;
 * other units are kept in JSON but left out of perfdata.
 */
struct bs_measure {
	const char *name; /* label: letters, digits, '_', '.', '-' are safest */
	double value;
	const char *unit; /* NULL: "" */
	unsigned set;	  /* BS_MEASURE_* bits: which of the four below are set */
	double warn, crit, min, max;
};

struct bs_finding {
	const char *group;    /* NULL/"": the report's own group (its title) */
	const char *check;    /* check id; required (NULL is stored as "?") */
	const char *category; /* optional kind of check ("table", "limit", "tls"): JUnit failure type */
	enum bs_state state;
	const char *expected; /* NULL: not stated */
	const char *observed; /* NULL: not stated */
	const char *detail;   /* NULL: none; may hold newlines */
	double seconds;	      /* how long the check took; <= 0: not measured */
	const struct bs_measure *measures;
	size_t nmeasures;
	const char *file;      /* location, or NULL: a path or URI relative to the project */
	unsigned line, column; /* 1-based; 0: not known */
};

struct bs_report_prop {
	char *key, *value;
};

struct bs_report {
	char *title;	   /* "gate check go-live"; NULL: writers say "backstop" */
	char *subject;	   /* what was checked, or NULL */
	time_t start, end; /* 0: not known */

	struct bs_finding *findings; /* stored findings, in the order added */
	size_t nfindings, cap;
	size_t max_findings;	       /* set after init to change the bound */
	size_t counts[BS_STATE_COUNT]; /* every finding added, stored or not */
	size_t dropped;		       /* added past max_findings, not stored */

	struct bs_report_prop props[BS_REPORT_PROPS_MAX];
	size_t nprops;
};

/* Flags for bs_report_passed and the writers. */
#define BS_REPORT_WARN_FAILS	0x1 /* WARN is a failure (verdict, JUnit, exit) */
#define BS_REPORT_PROBLEMS_ONLY 0x2 /* text, Markdown, SARIF: leave OK and SKIPPED out */

void bs_report_init(struct bs_report *r);
void bs_report_release(struct bs_report *r);

/* Set the title (NULL keeps "backstop") and subject (NULL: none); copies.
 * Returns -1 when out of memory. */
int bs_report_set_title(struct bs_report *r, const char *title, const char *subject);

/* Add (or replace) a report property: shown in JSON, JUnit <properties>
 * and the text header.  Copies.  -1: out of memory or BS_REPORT_PROPS_MAX. */
int bs_report_prop(struct bs_report *r, const char *key, const char *value);

/* Add a copy of f.  Returns the stored finding, or NULL when it was only
 * counted (past max_findings: not an error, check r->dropped) or memory ran
 * out (then nothing was counted; errno is ENOMEM). */
const struct bs_finding *bs_report_add(struct bs_report *r, const struct bs_finding *f);

/* bs_report_add with the detail formatted from fmt (f->detail ignored). */
const struct bs_finding *bs_report_addf(struct bs_report *r, const struct bs_finding *f, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The worst state present (FAIL > UNKNOWN > WARN > OK). */
enum bs_state bs_report_overall(const struct bs_report *r);

/* 1 when the report passes: no FAIL, no UNKNOWN, and no WARN under
 * BS_REPORT_WARN_FAILS. */
int bs_report_passed(const struct bs_report *r, unsigned flags);

/* "ok", "warn", "fail", "unknown", "skipped", "waived" (JSON, properties). */
const char *bs_state_name(enum bs_state s);
/* "OK", "WARN", "FAIL", "UNKNOWN", "SKIPPED", "WAIVED" (text, Markdown). */
const char *bs_state_label(enum bs_state s);
/* Parse a bs_state_name (case-insensitive); -1 when it is none. */
int bs_state_parse(const char *s);

/* ---- writers ------------------------------------------------------------ */

struct json_t;

/* Text: a header line (title, subject, overall state), properties, a table
 * (STATE, CHECK, OBSERVED, EXPECTED) per group with aligned columns and the
 * detail under its row, and a summary line of counts.  Every string passes
 * through common/escape (control characters, invalid UTF-8, bidi overrides
 * shown as \xNN). */
int bs_report_write_text(const struct bs_report *r, FILE *f, unsigned flags);

/* JSON: the report as an object (caller json_decref's; NULL: out of memory),
 * for embedding in a larger document; and the same written as one document
 * with a final newline.  Invalid UTF-8 becomes U+FFFD. */
struct json_t *bs_report_json(const struct bs_report *r, unsigned flags);
/* Any --json document, written the one way every command writes them:
 * indented, keys in insertion order, a final newline.  Takes o (json_decref
 * even on failure; NULL is a failure, as from a builder out of memory).
 * -1 when o is NULL or f fails. */
int bs_json_doc_write(struct json_t *o, FILE *f);
/* A JSON string of any text (invalid UTF-8 becomes U+FFFD, as in every
 * JSON this layer writes), or JSON null for NULL; NULL when out of memory.
 * For records built outside a report (gate decisions). */
struct json_t *bs_json_text(const char *s);
/* The reverse, for records read back: a copy of o's string member k
 * (malloc'd, the caller frees), or NULL when k is absent or null; a member
 * of another type (or out of memory) sets *bad and gives NULL. */
char *bs_json_get_text(const struct json_t *o, const char *k, int *bad);
int bs_report_write_json(const struct bs_report *r, FILE *f, unsigned flags);

/* JUnit XML: <testsuites> with counts, a <testsuite> per group, a
 * <testcase classname=group name=check> per finding: FAIL -> <failure>
 * (message: observed/expected/detail in one line; type: the category, else
 * "fail"), UNKNOWN -> <error>, SKIPPED -> <skipped>, WARN -> <system-out>
 * (or <failure> under BS_REPORT_WARN_FAILS), WAIVED -> passing, with
 * <system-out> saying it was waived and why; an OK finding with nothing
 * observed, no detail and no measurements is an empty <testcase/>.  Every
 * suite carries the report's properties (plus "state" and "subject").
 * _all: one document for n reports (verify-restore --all), the root named
 * name (NULL: the first report's title). */
int bs_report_write_junit(const struct bs_report *r, FILE *f, unsigned flags);
int bs_report_write_junit_all(const struct bs_report *const *r, size_t n, const char *name, FILE *f,
			      unsigned flags);

/* Markdown for GitHub step summaries: a heading with the overall state,
 * the counts, and one table (State, Group, Check, Observed, Expected,
 * Detail).  Cells are escaped (|, \, markup characters, <, >, &;
 * newlines become <br>; control characters \xNN) and cut at
 * BS_REPORT_MD_CELL_MAX characters; at most BS_REPORT_MD_ROWS_MAX rows
 * (problems first are the caller's choice: BS_REPORT_PROBLEMS_ONLY), then a
 * line saying how many were left out.  GitHub's 1 MiB summary limit holds. */
#define BS_REPORT_MD_ROWS_MAX 250
#define BS_REPORT_MD_CELL_MAX 120
int bs_report_write_markdown(const struct bs_report *r, FILE *f, unsigned flags);

/* SARIF 2.1.0: one run; tool.driver "backstop" with its version and a rule
 * per distinct check id; a result per finding: FAIL and UNKNOWN level
 * "error" (UNKNOWN never reads as a pass), WARN "warning" (kind "fail"),
 * OK kind "pass" and SKIPPED kind "notApplicable" (level "none"), WAIVED
 * level "error" with an accepted external suppression carrying the
 * detail; message.text states observed/expected/detail; a location when the
 * finding has a file. */
struct json_t *bs_report_sarif(const struct bs_report *r, unsigned flags);
int bs_report_write_sarif(const struct bs_report *r, FILE *f, unsigned flags);

/* GitHub Actions workflow commands, one line per problem: FAIL and UNKNOWN
 * "::error", WARN "::warning" ("::error" under BS_REPORT_WARN_FAILS),
 * WAIVED "::notice"; file/line/col when the finding has a location, title
 * "group STATE check", the message as in JUnit.  Strings are
 * terminal-escaped and percent-encoded (%, CR, LF; ':' and ',' in
 * properties): no string can start a workflow command of its own. */
int bs_report_write_github(const struct bs_report *r, FILE *f, unsigned flags);

/* Monitoring-plugin output (Nagios, Icinga, Sensu): the first line is
 * "TITLE STATE - N of M checks not ok: check summary; ... | perfdata" with
 * STATE OK/WARNING/CRITICAL/UNKNOWN from the overall state, the worst
 * findings first (about 1 KiB of them), '|' in text shown as '/', every
 * string terminal-escaped; perfdata is every measurement of every finding,
 * 'name'=value[unit];warn;crit;min;max (names are the measures' own: keep
 * them unique; a unit outside the plugin set is left out; a non-finite
 * value is U).  Then one line per finding shown (long output).  Exit code
 * for the plugin: bs_report_nagios_code (0 OK, 1 WARNING, 2 CRITICAL,
 * 3 UNKNOWN). */
int bs_report_write_nagios(const struct bs_report *r, FILE *f, unsigned flags);
int bs_report_nagios_code(const struct bs_report *r);

/* XML-escape s onto f for element content and attribute values: & < > " '
 * as entities, tab/LF/CR as character references (kept in attributes), and
 * every byte of what XML 1.0 cannot carry (other C0 controls, U+FFFE/U+FFFF,
 * surrogates, invalid UTF-8) as U+FFFD.  NULL writes nothing.  Neither CDATA
 * nor raw '>' is ever written, so "]]>" in a string is harmless. */
void bs_report_xml_escape(FILE *f, const char *s);

#endif
