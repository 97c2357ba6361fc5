/* report.c - the findings model (see report.h) and helpers the writers share. */
#include <errno.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/escape.h"
#include "report/report.h"
#include "report/report_int.h"

static const char *const state_names[BS_STATE_COUNT] = {"ok", "warn", "fail", "unknown", "skipped", "waived"};
static const char *const state_labels[BS_STATE_COUNT] = {"OK",	    "WARN",    "FAIL",
							 "UNKNOWN", "SKIPPED", "WAIVED"};

const char *bs_state_name(enum bs_state s)
{
	return (unsigned)s < BS_STATE_COUNT ? state_names[s] : "unknown";
}

const char *bs_state_label(enum bs_state s)
{
	return (unsigned)s < BS_STATE_COUNT ? state_labels[s] : "UNKNOWN";
}

int bs_state_parse(const char *s)
{
	int i;

	for (i = 0; s && i < BS_STATE_COUNT; i++)
		if (strcasecmp(s, state_names[i]) == 0)
			return i;
	return -1;
}

void bs_report_init(struct bs_report *r)
{
	memset(r, 0, sizeof(*r));
	r->max_findings = BS_REPORT_FINDINGS_MAX;
}

static void finding_free(struct bs_finding *f)
{
	size_t i;

	free((char *)f->group);
	free((char *)f->check);
	free((char *)f->category);
	free((char *)f->expected);
	free((char *)f->observed);
	free((char *)f->detail);
	free((char *)f->file);
	for (i = 0; i < f->nmeasures; i++) {
		free((char *)f->measures[i].name);
		free((char *)f->measures[i].unit);
	}
	free((struct bs_measure *)f->measures);
}

void bs_report_release(struct bs_report *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->nfindings; i++)
		finding_free(&r->findings[i]);
	free(r->findings);
	for (i = 0; i < r->nprops; i++) {
		free(r->props[i].key);
		free(r->props[i].value);
	}
	free(r->title);
	free(r->subject);
	bs_report_init(r);
}

/* A copy of s cut at BS_REPORT_STR_MAX bytes, not inside a UTF-8 sequence.
 * NULL stays NULL (*oom untouched). */
static char *copy_str(const char *s, int *oom)
{
	size_t n;
	char *c;

	if (!s)
		return NULL;
	n = strlen(s);
	if (n > BS_REPORT_STR_MAX) {
		n = BS_REPORT_STR_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	c = malloc(n + 1);
	if (!c) {
		*oom = 1;
		return NULL;
	}
	memcpy(c, s, n);
	c[n] = '\0';
	return c;
}

int bs_report_set_title(struct bs_report *r, const char *title, const char *subject)
{
	int oom = 0;
	char *t = copy_str(title, &oom), *s = copy_str(subject, &oom);

	if (oom) {
		free(t);
		free(s);
		errno = ENOMEM;
		return -1;
	}
	free(r->title);
	free(r->subject);
	r->title = t;
	r->subject = s;
	return 0;
}

int bs_report_prop(struct bs_report *r, const char *key, const char *value)
{
	int oom = 0;
	char *v, *k;
	size_t i;

	if (!key)
		return -1;
	v = copy_str(value ? value : "", &oom);
	if (oom)
		return -1;
	for (i = 0; i < r->nprops; i++) {
		if (strcmp(r->props[i].key, key) == 0) {
			free(r->props[i].value);
			r->props[i].value = v;
			return 0;
		}
	}
	k = copy_str(key, &oom);
	if (oom || r->nprops >= BS_REPORT_PROPS_MAX) {
		free(k);
		free(v);
		return -1;
	}
	r->props[r->nprops].key = k;
	r->props[r->nprops].value = v;
	r->nprops++;
	return 0;
}

static int copy_measures(struct bs_finding *d, const struct bs_finding *f)
{
	struct bs_measure *m;
	int oom = 0;
	size_t i;

	if (!f->measures || f->nmeasures == 0)
		return 0;
	m = calloc(f->nmeasures, sizeof(*m));
	if (!m)
		return -1;
	d->measures = m;
	for (i = 0; i < f->nmeasures; i++) {
		m[i] = f->measures[i];
		m[i].name = copy_str(f->measures[i].name ? f->measures[i].name : "value", &oom);
		m[i].unit = copy_str(f->measures[i].unit ? f->measures[i].unit : "", &oom);
		d->nmeasures = i + 1;
		if (oom)
			return -1;
	}
	return 0;
}

static int grow(struct bs_report *r)
{
	size_t cap;
	struct bs_finding *nf;

	if (r->nfindings < r->cap)
		return 0;
	cap = r->cap ? r->cap * 2 : 16;
	nf = realloc(r->findings, cap * sizeof(*nf));
	if (!nf)
		return -1;
	r->findings = nf;
	r->cap = cap;
	return 0;
}

const struct bs_finding *bs_report_add(struct bs_report *r, const struct bs_finding *f)
{
	struct bs_finding *d;
	unsigned st = (unsigned)f->state < BS_STATE_COUNT ? (unsigned)f->state : BS_STATE_UNKNOWN;
	int oom = 0;

	if (r->nfindings >= r->max_findings) {
		r->counts[st]++;
		r->dropped++;
		return NULL;
	}
	if (grow(r) < 0) {
		errno = ENOMEM;
		return NULL;
	}
	d = &r->findings[r->nfindings];
	memset(d, 0, sizeof(*d));
	d->state = (enum bs_state)st;
	d->seconds = f->seconds;
	d->line = f->line;
	d->column = f->column;
	d->group = f->group && f->group[0] ? copy_str(f->group, &oom) : NULL;
	d->check = copy_str(f->check ? f->check : "?", &oom);
	d->category = f->category && f->category[0] ? copy_str(f->category, &oom) : NULL;
	d->expected = copy_str(f->expected, &oom);
	d->observed = copy_str(f->observed, &oom);
	d->detail = copy_str(f->detail, &oom);
	d->file = f->file && f->file[0] ? copy_str(f->file, &oom) : NULL;
	if (oom || copy_measures(d, f) < 0) {
		finding_free(d);
		errno = ENOMEM;
		return NULL;
	}
	r->counts[st]++;
	r->nfindings++;
	return d;
}

const struct bs_finding *bs_report_addf(struct bs_report *r, const struct bs_finding *f, const char *fmt, ...)
{
	struct bs_finding c = *f;
	char *detail = NULL;
	const struct bs_finding *res;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&detail, fmt, ap);
	va_end(ap);
	if (n < 0) {
		errno = ENOMEM;
		return NULL;
	}
	c.detail = detail;
	res = bs_report_add(r, &c);
	free(detail);
	return res;
}

enum bs_state bs_report_overall(const struct bs_report *r)
{
	if (r->counts[BS_STATE_FAIL])
		return BS_STATE_FAIL;
	if (r->counts[BS_STATE_UNKNOWN])
		return BS_STATE_UNKNOWN;
	if (r->counts[BS_STATE_WARN])
		return BS_STATE_WARN;
	return BS_STATE_OK;
}

int bs_report_passed(const struct bs_report *r, unsigned flags)
{
	enum bs_state s = bs_report_overall(r);

	if (s == BS_STATE_FAIL || s == BS_STATE_UNKNOWN)
		return 0;
	return !(s == BS_STATE_WARN && (flags & BS_REPORT_WARN_FAILS));
}

/* ---- helpers the writers share (report_int.h) ---------------------------- */

char *bs_report_utf8_clean(const char *src)
{
	const unsigned char *s = (const unsigned char *)(src ? src : "");
	size_t len = strlen((const char *)s), o = 0;
	char *out = malloc(3 * len + 1); /* each bad byte becomes 3 */

	if (!out)
		return NULL;
	while (*s) {
		uint32_t cp;
		size_t k = bs_utf8_seq(s, &cp);

		if (k == 0) {
			memcpy(out + o, "\xEF\xBF\xBD", 3);
			o += 3;
			s++;
			continue;
		}
		memcpy(out + o, s, k);
		o += k;
		s += k;
	}
	out[o] = '\0';
	return out;
}

const char *bs_report_group_of(const struct bs_report *r, const struct bs_finding *f)
{
	if (f->group && f->group[0])
		return f->group;
	return r->title ? r->title : "backstop";
}

int bs_report_groups(const struct bs_report *r, const char ***out, size_t *n)
{
	const char **g = NULL;
	size_t i, j, k = 0;

	*out = NULL;
	*n = 0;
	if (r->nfindings == 0)
		return 0;
	g = malloc(r->nfindings * sizeof(*g));
	if (!g)
		return -1;
	for (i = 0; i < r->nfindings; i++) {
		const char *name = bs_report_group_of(r, &r->findings[i]);
		for (j = 0; j < k; j++)
			if (strcmp(g[j], name) == 0)
				break;
		if (j == k)
			g[k++] = name;
	}
	*out = g;
	*n = k;
	return 0;
}

char *bs_report_summary(const struct bs_finding *f)
{
	char *out = NULL;
	const char *o = f->observed, *e = f->expected, *d = f->detail;
	int n;

	if (!o && !e && !d)
		return strdup(bs_state_name(f->state));
	n = asprintf(&out, "%s%s%s%s%s%s%s", o ? "observed " : "", o ? o : "", o && e ? ", " : "",
		     e ? "expected " : "", e ? e : "", (o || e) && d ? ": " : "", d ? d : "");
	return n < 0 ? NULL : out;
}

int bs_report_shown(const struct bs_finding *f, unsigned flags)
{
	if (!(flags & BS_REPORT_PROBLEMS_ONLY))
		return 1;
	return f->state != BS_STATE_OK && f->state != BS_STATE_SKIPPED;
}

void bs_report_iso(time_t t, char out[32])
{
	struct tm tm;

	out[0] = '\0';
	if (t == 0 || !gmtime_r(&t, &tm))
		return;
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int bs_json_doc_write(json_t *o, FILE *f)
{
	int rc;

	if (!o)
		return -1;
	rc = json_dumpf(o, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (rc == 0)
		fputc('\n', f);
	return rc < 0 || ferror(f) ? -1 : 0;
}
