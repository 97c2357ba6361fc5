/*
 * sarif_in.c - SARIF 2.1.0 scan results read into a severity summary
 * (evidence.h), with jansson.
 *
 * A file is read into a summary of its own first and added to the
 * caller's only when all of it was read, so a file that fails adds
 * nothing.  Every string kept is copied out of the JSON tree.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/escape.h"
#include "common/stream.h"
#include "gate/evidence.h"

#define EXAMPLE_MAX 80	/* bytes of a result message kept as an example */
#define QUOTE_MAX   300 /* bytes of a tool's message quoted in an error */

/* Where a result is counted besides the severities (evidence.h). */
enum { B_NOT_FAIL = BS_SEV_COUNT, B_SUPPRESSED, B_UNCHANGED, B_ABSENT };

static const char *const sev_names[BS_SEV_COUNT] = {"critical", "high", "medium", "low", "none"};

/* SARIF's result.kind values; only "fail" is a finding. */
static const char *const kinds[] = {"fail", "pass", "open", "review", "informational", "notApplicable"};

/* One run being read: its tool and where its rules are. */
struct run_ctx {
	const char *name;   /* file name, for messages */
	size_t run;	    /* 1-based, for messages */
	const char *tool;   /* driver name, or "(unnamed)" */
	json_t *driver;	    /* run.tool.driver, or NULL */
	json_t *extensions; /* run.tool.extensions, or NULL */
};

const char *bs_sev_name(enum bs_sev v)
{
	return (unsigned)v < BS_SEV_COUNT ? sev_names[v] : "unknown";
}

int bs_sev_parse(const char *name)
{
	int i;

	for (i = 0; name && i < BS_SEV_COUNT; i++)
		if (strcmp(name, sev_names[i]) == 0)
			return i;
	return -1;
}

void bs_sarif_summary_init(struct bs_sarif_summary *s)
{
	memset(s, 0, sizeof(*s));
}

void bs_sarif_summary_release(struct bs_sarif_summary *s)
{
	size_t v, i;

	if (!s)
		return;
	for (v = 0; v < BS_SEV_COUNT; v++)
		for (i = 0; i < s->nexamples[v]; i++)
			free(s->examples[v][i]);
	free(s->tools);
	bs_sarif_summary_init(s);
}

/* Length of the first line of s, at most max bytes, cut at a UTF-8
 * character boundary (an invalid byte counts as one character). */
static size_t line_len(const char *s, size_t max)
{
	size_t n = 0;

	while (s[n] && s[n] != '\n' && s[n] != '\r') {
		uint32_t cp;
		size_t k = bs_utf8_seq((const unsigned char *)s + n, &cp);

		if (!k)
			k = 1;
		if (n + k > max)
			break;
		n += k;
	}
	return n;
}

/* Is v the JSON string str? */
static int str_is(json_t *v, const char *str)
{
	const char *x = json_string_value(v);

	return x && strcmp(x, str) == 0;
}

/* ---- the file ---------------------------------------------------------- */


/* ---- rules ------------------------------------------------------------- */

/* The rule of comp (a toolComponent) whose id is id, or NULL. */
static json_t *rule_by_id(json_t *comp, const char *id)
{
	json_t *rules = json_object_get(comp, "rules"), *r;
	size_t i;

	for (i = 0; (r = json_array_get(rules, i)); i++) {
		const char *rid = json_string_value(json_object_get(r, "id"));

		if (rid && strcmp(rid, id) == 0)
			return r;
	}
	return NULL;
}

/* Is comp the toolComponent of this guid (if given) or name? */
static int names_component(json_t *comp, const char *name, const char *guid)
{
	const char *n = json_string_value(json_object_get(comp, "name"));
	const char *g = json_string_value(json_object_get(comp, "guid"));

	return guid ? g && strcasecmp(g, guid) == 0 : n && strcmp(n, name) == 0;
}

/* The toolComponent a toolComponentReference names: an extension by index,
 * else the driver or an extension by name or guid; NULL if none. */
static json_t *component(const struct run_ctx *rc, json_t *ref)
{
	json_t *idx = json_object_get(ref, "index"), *c;
	const char *name = json_string_value(json_object_get(ref, "name"));
	const char *guid = json_string_value(json_object_get(ref, "guid"));
	size_t i;

	if (json_is_integer(idx))
		return json_integer_value(idx) < 0
			   ? NULL
			   : json_array_get(rc->extensions, (size_t)json_integer_value(idx));
	if (!name && !guid)
		return rc->driver;
	if (names_component(rc->driver, name, guid))
		return rc->driver;
	for (i = 0; (c = json_array_get(rc->extensions, i)); i++) {
		if (names_component(c, name, guid))
			return c;
	}
	return NULL;
}

/* By id in comp, or without comp in the driver and then each extension;
 * a hierarchical id ("CA2101/1") also finds its first part's rule. */
static json_t *rule_by_id_anywhere(const struct run_ctx *rc, json_t *comp, const char *id)
{
	json_t *r = NULL, *ext;
	size_t i;

	if (comp)
		return rule_by_id(comp, id);
	r = rule_by_id(rc->driver, id);
	for (i = 0; (ext = json_array_get(rc->extensions, i)); i++) {
		if (r)
			break;
		r = rule_by_id(ext, id);
	}
	return r;
}

/* The rule (reportingDescriptor) a result refers to, or NULL: result.rule
 * {index, id, toolComponent} first, then ruleIndex / ruleId in the driver
 * (an id also in the extensions). */
static json_t *find_rule(const struct run_ctx *rc, json_t *res)
{
	json_t *ref = json_object_get(res, "rule"), *tc, *comp = NULL, *idx, *r;
	const char *id = NULL;
	char part[256];
	size_t n;

	tc = json_object_get(ref, "toolComponent");
	if (json_is_object(tc) && !(comp = component(rc, tc)))
		return NULL;
	idx = json_object_get(ref, "index");
	if (!json_is_integer(idx))
		idx = json_object_get(res, "ruleIndex");
	if (json_is_integer(idx) && json_integer_value(idx) >= 0) {
		r = json_array_get(json_object_get(comp ? comp : rc->driver, "rules"),
				   (size_t)json_integer_value(idx));
		if (json_is_object(r))
			return r;
	}
	id = json_string_value(json_object_get(ref, "id"));
	if (!id)
		id = json_string_value(json_object_get(res, "ruleId"));
	if (!id)
		return NULL;
	if ((r = rule_by_id_anywhere(rc, comp, id)))
		return r;
	n = strcspn(id, "/");
	if (!id[n] || n >= sizeof(part))
		return NULL;
	memcpy(part, id, n);
	part[n] = '\0';
	return rule_by_id_anywhere(rc, comp, part);
}

/* ---- one result -------------------------------------------------------- */

/* Severity from a property bag's "security-severity" (a number, as a
 * string or not); 0 when there is none or it is not a finite number. */
static int score_sev(json_t *props, int *sev)
{
	json_t *v = json_object_get(props, "security-severity");
	const char *str, *p;
	char *end;
	double d;

	if (json_is_number(v)) {
		d = json_number_value(v);
	} else if ((str = json_string_value(v))) {
		for (p = str; *p == ' ' || *p == '\t'; p++)
			;
		if (!(*p >= '0' && *p <= '9') && *p != '.' && *p != '-')
			return 0; /* no "inf", "nan" or "+x" */
		d = strtod(p, &end);
		while (*end == ' ' || *end == '\t')
			end++;
		if (end == p || *end)
			return 0;
	} else {
		return 0;
	}
	if (!isfinite(d))
		return 0;
	*sev = d >= 9.0 ? BS_SEV_CRITICAL : d >= 7.0 ? BS_SEV_HIGH : d >= 4.0 ? BS_SEV_MEDIUM : BS_SEV_LOW;
	return 1;
}

static int level_sev(const char *level)
{
	if (strcmp(level, "error") == 0)
		return BS_SEV_HIGH;
	if (strcmp(level, "warning") == 0)
		return BS_SEV_MEDIUM;
	if (strcmp(level, "note") == 0)
		return BS_SEV_LOW;
	if (strcmp(level, "none") == 0)
		return BS_SEV_NONE;
	return -1;
}

static int suppressed(json_t *res)
{
	json_t *sup;
	size_t i;

	for (i = 0; (sup = json_array_get(json_object_get(res, "suppressions"), i)); i++) {
		json_t *st = json_object_get(sup, "status");

		if (json_is_object(sup) && (!st || json_is_null(st) || str_is(st, "accepted")))
			return 1;
	}
	return 0;
}

/* Where result k (0-based) of the run is counted (a severity or B_*), and
 * the rule it refers to (*rule, may be NULL).  -1 with err set for a
 * result that cannot be judged. */
static int classify(const struct run_ctx *rc, json_t *res, size_t k, json_t **rule, struct bs_err *err)
{
	json_t *kind = json_object_get(res, "kind"), *level;
	const char *lv;
	size_t i;
	int sev;

	*rule = NULL;
	if (json_is_null(kind))
		kind = NULL;
	if (!json_is_object(res))
		return bs_err_set(err, BS_ERR_FORMAT, "%s: run %zu, result %zu is not an object", rc->name,
				  rc->run, k + 1);
	if (kind) {
		for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			if (json_is_string(kind) && strcmp(json_string_value(kind), kinds[i]) == 0)
				break;
		if (i == sizeof(kinds) / sizeof(kinds[0]))
			return bs_err_set(err, BS_ERR_FORMAT,
					  "%s: run %zu, result %zu has an unknown kind '%.64s'", rc->name,
					  rc->run, k + 1,
					  json_is_string(kind) ? json_string_value(kind) : "(not a string)");
		if (i != 0)
			return B_NOT_FAIL;
	}
	if (suppressed(res))
		return B_SUPPRESSED;
	if (str_is(json_object_get(res, "baselineState"), "unchanged"))
		return B_UNCHANGED;
	if (str_is(json_object_get(res, "baselineState"), "absent"))
		return B_ABSENT;
	*rule = find_rule(rc, res);
	if (!*rule) {
		/* a reference that points nowhere would fall back to "warning"
		 * (medium) and let a critical finding through: not read */
		json_t *ref = json_object_get(res, "rule"), *ix = json_object_get(res, "ruleIndex");
		if ((json_is_integer(ix) && json_integer_value(ix) >= 0) || json_is_integer(json_object_get(ref, "index")) ||
		    json_is_object(json_object_get(ref, "toolComponent")))
			return bs_err_set(err, BS_ERR_FORMAT,
					  "%s: run %zu, result %zu refers to a rule (index or tool component) the run does not define",
					  rc->name, rc->run, k + 1);
	}
	if (score_sev(json_object_get(res, "properties"), &sev) ||
	    score_sev(json_object_get(*rule, "properties"), &sev))
		return sev;
	level = json_object_get(res, "level");
	if (!level || json_is_null(level))
		level = json_object_get(json_object_get(*rule, "defaultConfiguration"), "level");
	lv = level && !json_is_null(level) ? json_string_value(level) : "warning";
	if (!lv || (sev = level_sev(lv)) < 0)
		return bs_err_set(err, BS_ERR_FORMAT, "%s: run %zu, result %zu has an unknown level '%.64s'",
				  rc->name, rc->run, k + 1, lv ? lv : "(not a string)");
	return sev;
}

/* Keep the result's rule id (else its message's first line) as an example
 * of severity sev, once. */
static int add_example(const struct run_ctx *rc, struct bs_sarif_summary *t, int sev, json_t *res,
		       json_t *rule, struct bs_err *err)
{
	const char *id = json_string_value(json_object_get(res, "ruleId"));
	size_t i, n;
	char *copy;

	if (!id)
		id = json_string_value(json_object_get(json_object_get(res, "rule"), "id"));
	if (!id)
		id = json_string_value(json_object_get(rule, "id"));
	if (id && *id) {
		n = strlen(id);
	} else {
		id = json_string_value(json_object_get(json_object_get(res, "message"), "text"));
		if (!id)
			return 0;
		id += strspn(id, " \t\r\n");
		n = line_len(id, EXAMPLE_MAX);
		if (!n)
			return 0;
	}
	if (t->nexamples[sev] == BS_EVIDENCE_EXAMPLES)
		return 0;
	for (i = 0; i < t->nexamples[sev]; i++)
		if (strncmp(t->examples[sev][i], id, n) == 0 && !t->examples[sev][i][n])
			return 0;
	if (!(copy = strndup(id, n)))
		return bs_err_set(err, BS_ERR_NOMEM, "%s: out of memory", rc->name);
	t->examples[sev][t->nexamples[sev]++] = copy;
	return 0;
}

/* ---- one run ----------------------------------------------------------- */

/* The notification to quote for a failed invocation: the first of level
 * "error" in toolExecutionNotifications, else toolConfigurationNotifications,
 * else the first of either; NULL if there is none. */
static json_t *failure_notification(json_t *inv)
{
	static const char *const lists[] = {"toolExecutionNotifications", "toolConfigurationNotifications"};
	json_t *first = NULL, *n;
	size_t l, i;

	for (l = 0; l < 2; l++) {
		for (i = 0; (n = json_array_get(json_object_get(inv, lists[l]), i)); i++) {
			if (!json_is_object(n))
				continue;
			if (str_is(json_object_get(n, "level"), "error"))
				return n;
			if (!first)
				first = n;
		}
	}
	return first;
}

/* -1 with err set when an invocation of the run says it failed. */
static int check_invocations(const struct run_ctx *rc, json_t *run, struct bs_err *err)
{
	json_t *invs = json_object_get(run, "invocations"), *inv, *code;
	const char *text;
	size_t i, first;
	int more;

	if (invs && !json_is_array(invs))
		return bs_err_set(err, BS_ERR_FORMAT, "%s: run %zu: 'invocations' is not an array", rc->name,
				  rc->run);
	for (i = 0; (inv = json_array_get(invs, i)); i++) {
		if (!json_is_false(json_object_get(inv, "executionSuccessful")))
			continue;
		text = json_string_value(
		    json_object_get(json_object_get(failure_notification(inv), "message"), "text"));
		if (text)
			text += strspn(text, " \t\r\n");
		first = text ? line_len(text, QUOTE_MAX) : 0;
		more = text && text[first]; /* the message goes on: all of it in the detail */
		if (text) {
			bs_err_set(err, BS_ERR_FORMAT,
				   "%s: the scan did not complete: tool '%.128s' reported: %.*s", rc->name,
				   rc->tool, (int)first, text);
		} else {
			bs_err_set(err, BS_ERR_FORMAT,
				   "%s: the scan did not complete: tool '%.128s' reported a failed run "
				   "without a message",
				   rc->name, rc->tool);
		}
		code = json_object_get(inv, "exitCode");
		if (json_is_integer(code))
			bs_err_detail(err, "exit code %" JSON_INTEGER_FORMAT "%s%s", json_integer_value(code),
				      more ? "\n" : "", more ? text : "");
		else if (more)
			bs_err_detail(err, "%s", text);
		bs_err_hint(err, "a gate cannot judge a scan that did not finish: make the scan succeed, "
				 "then run the gate again");
		return -1;
	}
	return 0;
}

static int read_run(const char *name, size_t k, json_t *run, struct bs_sarif_summary *t, struct bs_err *err)
{
	struct run_ctx rc = {name, k + 1, NULL, NULL, NULL};
	json_t *tool, *results, *res, *rule;
	size_t i;
	int b;

	if (!json_is_object(run))
		return bs_err_set(err, BS_ERR_FORMAT, "%s: run %zu is not an object", name, rc.run);
	tool = json_object_get(run, "tool");
	rc.driver = json_object_get(tool, "driver");
	if (!json_is_object(rc.driver))
		rc.driver = NULL;
	rc.extensions = json_object_get(tool, "extensions");
	rc.tool = json_string_value(json_object_get(rc.driver, "name"));
	if (!rc.tool || !*rc.tool)
		rc.tool = "(unnamed)";
	if (check_invocations(&rc, run, err) < 0)
		return -1;
	results = json_object_get(run, "results");
	if (!json_is_array(results)) {
		bs_err_set(err, BS_ERR_FORMAT, "%s: run %zu (tool '%.128s') has no results array", name,
			   rc.run, rc.tool);
		bs_err_detail(err, "in SARIF a missing or null 'results' means the tool failed before it "
				   "produced results; a scan that found nothing writes \"results\": []");
		return -1;
	}
	for (i = 0; (res = json_array_get(results, i)); i++) {
		if ((b = classify(&rc, res, i, &rule, err)) < 0)
			return -1;
		t->results++;
		if (b == B_NOT_FAIL)
			t->not_fail++;
		else if (b == B_SUPPRESSED)
			t->suppressed++;
		else if (b == B_UNCHANGED)
			t->unchanged++;
		else if (b == B_ABSENT)
			t->absent++;
		else
			t->by_sev[b]++;
		if (b < BS_SEV_COUNT && add_example(&rc, t, b, res, rule, err) < 0)
			return -1;
	}
	t->runs++;
	return 0;
}

/* ---- the summary ------------------------------------------------------- */

/* Is name one of the ", "-separated names in list? */
static int has_tool(const char *list, const char *name)
{
	size_t n = strlen(name);

	while (list && *list) {
		size_t k = strcspn(list, ",");

		if (k == n && memcmp(list, name, n) == 0)
			return 1;
		list += k;
		list += strspn(list, ", ");
	}
	return 0;
}

/* *out: old with the driver names of runs not in it yet added, NULL if
 * there are none at all.  -1 when out of memory. */
static int join_tools(const char *old, json_t *runs, char **out)
{
	size_t cap = old ? strlen(old) : 0, len, i;
	json_t *run;
	char *s;

	for (i = 0; (run = json_array_get(runs, i)); i++) {
		const char *n = json_string_value(
		    json_object_get(json_object_get(json_object_get(run, "tool"), "driver"), "name"));

		cap += n ? strlen(n) + 2 : 0;
	}
	if (!cap) {
		*out = NULL;
		return 0;
	}
	if (!(s = malloc(cap + 1)))
		return -1;
	len = old ? strlen(old) : 0;
	memcpy(s, old ? old : "", len + 1);
	for (i = 0; (run = json_array_get(runs, i)); i++) {
		const char *n = json_string_value(
		    json_object_get(json_object_get(json_object_get(run, "tool"), "driver"), "name"));

		if (!n || !*n || has_tool(s, n))
			continue;
		len += (size_t)sprintf(s + len, "%s%s", len ? ", " : "", n);
	}
	if (!len) {
		free(s);
		s = NULL;
	}
	*out = s;
	return 0;
}

/* Add t (one file, read in full) to s; t is left empty. */
static void merge(struct bs_sarif_summary *s, struct bs_sarif_summary *t, char *tools)
{
	size_t v, i, j;

	s->runs += t->runs;
	s->results += t->results;
	s->suppressed += t->suppressed;
	s->unchanged += t->unchanged;
	s->absent += t->absent;
	s->not_fail += t->not_fail;
	for (v = 0; v < BS_SEV_COUNT; v++) {
		s->by_sev[v] += t->by_sev[v];
		for (i = 0; i < t->nexamples[v]; i++) {
			char *e = t->examples[v][i];

			for (j = 0; j < s->nexamples[v] && strcmp(s->examples[v][j], e) != 0; j++)
				;
			if (j < s->nexamples[v] || s->nexamples[v] == BS_EVIDENCE_EXAMPLES)
				free(e);
			else
				s->examples[v][s->nexamples[v]++] = e;
		}
		t->nexamples[v] = 0;
	}
	free(s->tools);
	s->tools = tools;
}

int bs_sarif_read_buf(const char *name, const char *buf, size_t len, struct bs_sarif_summary *s,
		      struct bs_err *err)
{
	struct bs_sarif_summary t;
	json_t *root = NULL, *runs, *version, *run;
	json_error_t je;
	char *tools = NULL;
	size_t i;
	int rc = -1;

	bs_sarif_summary_init(&t);
	if (!name)
		name = "SARIF log";
	if (len > BS_EVIDENCE_MAX_BYTES)
		return bs_err_set(err, BS_ERR_FORMAT, "%s: the file is larger than %u bytes (%zu bytes)",
				  name, BS_EVIDENCE_MAX_BYTES, len);
	if (buf && len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
		buf += 3; /* a UTF-8 byte order mark, as Windows tools write it */
		len -= 3;
	}
	root = json_loadb(buf ? buf : "", buf ? len : 0, 0, &je);
	if (!root) {
		if (json_error_code(&je) == json_error_out_of_memory)
			return bs_err_set(err, BS_ERR_NOMEM, "%s: out of memory reading the file", name);
		bs_err_set(err, BS_ERR_FORMAT, "%s: not a SARIF log: not JSON", name);
		bs_err_detail(err, "line %d, column %d: %s", je.line, je.column, je.text);
		return -1;
	}
	if (!json_is_object(root)) {
		bs_err_set(err, BS_ERR_FORMAT, "%s: not a SARIF log: the top level is not an object", name);
		goto out;
	}
	version = json_object_get(root, "version");
	if (!json_is_string(version)) {
		bs_err_set(err, BS_ERR_FORMAT, "%s: not a SARIF log: no 'version'", name);
		goto out;
	}
	if (strcmp(json_string_value(version), "2.1.0") != 0) {
		bs_err_set(err, BS_ERR_FORMAT, "%s: SARIF version '%.32s' is not supported (only 2.1.0)",
			   name, json_string_value(version));
		bs_err_hint(err,
			    "have the scanner write SARIF 2.1.0, the version GitHub code scanning reads");
		goto out;
	}
	runs = json_object_get(root, "runs");
	if (!json_is_array(runs)) {
		bs_err_set(err, BS_ERR_FORMAT, "%s: not a SARIF log: no 'runs' array", name);
		goto out;
	}
	if (!json_array_size(runs)) {
		bs_err_set(err, BS_ERR_FORMAT, "%s: the SARIF log holds no runs", name);
		bs_err_detail(err, "a log without runs records no scan at all");
		goto out;
	}
	for (i = 0; (run = json_array_get(runs, i)); i++) {
		if (read_run(name, i, run, &t, err) < 0)
			goto out;
	}
	if (join_tools(s->tools, runs, &tools) < 0) {
		bs_err_set(err, BS_ERR_NOMEM, "%s: out of memory", name);
		goto out;
	}
	merge(s, &t, tools);
	rc = 0;
out:
	bs_sarif_summary_release(&t);
	json_decref(root);
	return rc;
}

int bs_sarif_read(const char *path, struct bs_sarif_summary *s, struct bs_err *err)
{
	char *buf;
	size_t len;
	int rc;

	if (bs_read_file(path, BS_EVIDENCE_MAX_BYTES, &buf, &len, err) < 0) {
		if (err->code == BS_ERR_NOT_FOUND)
			bs_err_hint(err, "check that the scan ran and wrote its SARIF file there");
		return -1;
	}
	rc = bs_sarif_read_buf(path, buf, len, s, err);
	free(buf);
	return rc;
}
