/* metrics.c - see metrics.h */
#include "common/metrics.h"

#include "common/durable.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void bs_metrics_init(struct bs_metrics *mx)
{
	mx->n = 0;
}

/* ---- names and escaping ---------------------------------------------------- */

static int valid_name(const char *s, int metric)
{
	const char *p = s;

	if (!*p)
		return 0;
	for (; *p; p++) {
		int alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
			    (metric && *p == ':');
		if (!alpha && !(p > s && *p >= '0' && *p <= '9'))
			return 0;
	}
	return 1;
}

/* Escape for a label value (\\ \" \n) or a HELP text (\\ \n). */
void bs_metrics_put_escaped(FILE *f, const char *v, int quote)
{
	for (; *v; v++) {
		if (*v == '\\')
			fputs("\\\\", f);
		else if (*v == '\n')
			fputs("\\n", f);
		else if (quote && *v == '"')
			fputs("\\\"", f);
		else
			fputc(*v, f);
	}
}

/* ---- building --------------------------------------------------------------- */

int bs_metrics_add(struct bs_metrics *mx, const char *name, const char *help,
		   const char *const *labels, double value, struct bs_err *err)
{
	struct bs_metric *m;

	if (mx->n >= BS_METRICS_MAX)
		return bs_err_set(err, BS_ERR_INTERNAL, "too many metrics (at most %d per file)", BS_METRICS_MAX);
	if (!valid_name(name, 1) || strlen(name) >= sizeof(m->name))
		return bs_err_set(err, BS_ERR_INTERNAL, "invalid metric name '%s'", name);
	m = &mx->m[mx->n];
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	snprintf(m->help, sizeof(m->help), "%s", help ? help : "");
	for (; labels && labels[0]; labels += 2) {
		if (!labels[1])
			continue;
		if (m->nlabels == BS_METRICS_LABELS_MAX || !valid_name(labels[0], 0) ||
		    strlen(labels[0]) >= sizeof(m->label_key[0]) || strlen(labels[1]) >= sizeof(m->label_value[0]))
			return bs_err_set(err, BS_ERR_INTERNAL, "invalid label '%s' on metric '%s'", labels[0], name);
		snprintf(m->label_key[m->nlabels], sizeof(m->label_key[0]), "%s", labels[0]);
		snprintf(m->label_value[m->nlabels], sizeof(m->label_value[0]), "%s", labels[1]);
		m->nlabels++;
	}
	m->value = value;
	mx->n++;
	return 0;
}

const char *bs_metric_label(const struct bs_metric *m, const char *key)
{
	size_t i;

	for (i = 0; i < m->nlabels; i++)
		if (strcmp(m->label_key[i], key) == 0)
			return m->label_value[i];
	return NULL;
}

const struct bs_metric *bs_metrics_find(const struct bs_metrics *mx, const char *name,
					const char *key, const char *value)
{
	size_t i;

	for (i = 0; i < mx->n; i++) {
		const char *v;
		if (strcmp(mx->m[i].name, name) != 0)
			continue;
		if (!key)
			return &mx->m[i];
		v = bs_metric_label(&mx->m[i], key);
		if (v && value && strcmp(v, value) == 0)
			return &mx->m[i];
	}
	return NULL;
}

/* ---- writing ---------------------------------------------------------------- */

/* The short form when it reads back exactly (durations print as 0.335, not
 * 0.33515637200002857 when that is the same double). */
static int strtod_round_trips(double v)
{
	char buf[40];

	snprintf(buf, sizeof(buf), "%.15g", v);
	return strtod(buf, NULL) == v;
}

static void put_value(FILE *f, double v)
{
	if (isnan(v))
		fputs("NaN", f);
	else if (isinf(v))
		fputs(v > 0 ? "+Inf" : "-Inf", f);
	else if (strtod_round_trips(v))
		fprintf(f, "%.15g", v);
	else
		fprintf(f, "%.17g", v);
}

static void put_sample(FILE *f, const struct bs_metric *m)
{
	size_t k;

	fputs(m->name, f);
	for (k = 0; k < m->nlabels; k++) {
		fprintf(f, "%s%s=\"", k ? "," : "{", m->label_key[k]);
		bs_metrics_put_escaped(f, m->label_value[k], 1);
		fputc('"', f);
	}
	if (m->nlabels)
		fputc('}', f);
	fputc(' ', f);
	put_value(f, m->value);
	fputc('\n', f);
}

/* Every family once: HELP, TYPE, then all its samples, in the order the
 * families were first added. */
static void put_all(FILE *f, const struct bs_metrics *mx)
{
	size_t i, j;

	for (i = 0; i < mx->n; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(mx->m[j].name, mx->m[i].name) == 0)
				break;
		if (j < i)
			continue; /* family already written */
		fprintf(f, "# HELP %s ", mx->m[i].name);
		bs_metrics_put_escaped(f, mx->m[i].help, 0);
		fprintf(f, "\n# TYPE %s gauge\n", mx->m[i].name);
		for (j = i; j < mx->n; j++)
			if (strcmp(mx->m[j].name, mx->m[i].name) == 0)
				put_sample(f, &mx->m[j]);
	}
}

static int fill_metrics(FILE *f, void *ud, struct bs_err *err)
{
	put_all(f, ud);
	return 0;
}

int bs_metrics_write(const struct bs_metrics *mx, const char *dir, const char *file_name,
		     struct bs_err *err)
{
	char path[4096];

	if (!dir || !*dir)
		return 0;
	if (snprintf(path, sizeof(path), "%s/%s.prom", dir, file_name) >= (int)sizeof(path))
		return bs_err_set(err, BS_ERR_IO, "metrics path too long: '%s/%s.prom'", dir, file_name);
	/* the temporary file is a dot name: the textfile collector reads only *.prom */
	if (bs_durable_write_exact(path, 0644, fill_metrics, (void *)mx, err) < 0) {
		bs_err_prefix(err, "metrics");
		bs_err_hint(err, "metrics_dir must be a directory writable by the user running backstop");
		return -1;
	}
	return 0;
}

/* ---- reading ---------------------------------------------------------------- */

#define FAMILIES_MAX (BS_METRICS_MAX * 2)

struct family {
	char name[96];
	int has_help, has_type, has_samples;
	char help[192];
};

struct parser {
	const char *src;
	size_t line;
	struct bs_metrics *mx;
	struct family fam[FAMILIES_MAX];
	size_t nfam;
	char last[96]; /* family of the previous sample */
	struct bs_err *err;
};

static int perr(struct parser *p, const char *what, const char *obj)
{
	return bs_err_set(p->err, BS_ERR_FORMAT, "%s:%zu: %s%s%s%s", p->src, p->line, what,
			  obj ? " '" : "", obj ? obj : "", obj ? "'" : "");
}

static struct family *family(struct parser *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nfam; i++)
		if (strcmp(p->fam[i].name, name) == 0)
			return &p->fam[i];
	if (p->nfam == FAMILIES_MAX)
		return NULL;
	memset(&p->fam[p->nfam], 0, sizeof(p->fam[0]));
	snprintf(p->fam[p->nfam].name, sizeof(p->fam[0].name), "%s", name);
	return &p->fam[p->nfam++];
}

/* A name at *s (metric names allow ':'); copies it to out. */
static int take_name(const char **s, char *out, size_t n, int metric)
{
	const char *b = *s;
	size_t len;

	while ((**s >= 'a' && **s <= 'z') || (**s >= 'A' && **s <= 'Z') || **s == '_' ||
	       (metric && **s == ':') || (*s > b && **s >= '0' && **s <= '9'))
		(*s)++;
	len = (size_t)(*s - b);
	if (len == 0 || len >= n)
		return -1;
	memcpy(out, b, len);
	out[len] = '\0';
	return 0;
}

/* Unescape \\, \n (and \" when quoted) from s up to the closing quote (quoted)
 * or the end; strict about anything else. */
static int unescape(const char **s, char *out, size_t n, int quoted)
{
	size_t j = 0;

	for (; **s && !(quoted && **s == '"'); (*s)++) {
		char c = **s;
		if (c == '\\') {
			(*s)++;
			c = **s == '\\' ? '\\' : **s == 'n' ? '\n' : (quoted && **s == '"') ? '"' : 0;
			if (!c)
				return -1;
		}
		if (j + 1 >= n)
			return -1;
		out[j++] = c;
	}
	if (quoted && **s != '"')
		return -1;
	out[j] = '\0';
	return 0;
}

static int parse_comment(struct parser *p, const char *s)
{
	char kw[8], name[96];
	struct family *f;
	const char *q = s + 1;

	if (*q != ' ' && *q != '\t')
		return 0; /* "#foo": a plain comment */
	while (*q == ' ' || *q == '\t')
		q++;
	if (strncmp(q, "HELP ", 5) != 0 && strncmp(q, "TYPE ", 5) != 0)
		return 0;
	memcpy(kw, q, 4);
	kw[4] = '\0';
	q += 5;
	if (take_name(&q, name, sizeof(name), 1) < 0 || (*q && *q != ' '))
		return perr(p, "invalid metric name after", kw);
	if (*q)
		q++;
	if (!(f = family(p, name)))
		return perr(p, "too many metric families", NULL);
	if (strcmp(kw, "HELP") == 0) {
		if (f->has_help)
			return perr(p, "second HELP for", name);
		if (unescape(&q, f->help, sizeof(f->help), 0) < 0)
			return perr(p, "invalid escape or text too long in HELP of", name);
		f->has_help = 1;
		return 0;
	}
	if (f->has_type)
		return perr(p, "second TYPE for", name);
	if (f->has_samples)
		return perr(p, "TYPE after the samples of", name);
	if (strcmp(q, "gauge") && strcmp(q, "counter") && strcmp(q, "untyped") && strcmp(q, "summary") &&
	    strcmp(q, "histogram"))
		return perr(p, "unknown TYPE", q);
	f->has_type = 1;
	return 0;
}

/* "+Inf", "-Inf", "NaN" or a plain number, nothing else. */
static int parse_value(const char *tok, size_t len, double *v)
{
	char buf[64], *end;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, tok, len);
	buf[len] = '\0';
	if (strcmp(buf, "+Inf") == 0 || strcmp(buf, "Inf") == 0) {
		*v = INFINITY;
		return 0;
	}
	if (strcmp(buf, "-Inf") == 0) {
		*v = -INFINITY;
		return 0;
	}
	if (strcmp(buf, "NaN") == 0) {
		*v = NAN;
		return 0;
	}
	if (strspn(buf, "0123456789+-.eE") != len)
		return -1;
	errno = 0;
	*v = strtod(buf, &end);
	return *end || errno == ERANGE ? -1 : 0;
}

static int parse_labels(struct parser *p, const char **s, struct bs_metric *m)
{
	size_t k;

	(*s)++; /* '{' */
	while (**s != '}') {
		if (m->nlabels == BS_METRICS_LABELS_MAX)
			return perr(p, "too many labels on", m->name);
		if (take_name(s, m->label_key[m->nlabels], sizeof(m->label_key[0]), 0) < 0)
			return perr(p, "invalid label name on", m->name);
		for (k = 0; k < m->nlabels; k++)
			if (strcmp(m->label_key[k], m->label_key[m->nlabels]) == 0)
				return perr(p, "duplicate label", m->label_key[k]);
		if (**s != '=' || (*s)[1] != '"')
			return perr(p, "expected =\"value\" after label", m->label_key[m->nlabels]);
		*s += 2;
		if (unescape(s, m->label_value[m->nlabels], sizeof(m->label_value[0]), 1) < 0)
			return perr(p, "invalid label value of", m->label_key[m->nlabels]);
		(*s)++; /* closing quote */
		m->nlabels++;
		if (**s == ',')
			(*s)++;
		else if (**s != '}')
			return perr(p, "expected ',' or '}' in the labels of", m->name);
	}
	(*s)++;
	return 0;
}

static int same_series(const struct bs_metric *a, const struct bs_metric *b)
{
	size_t i;

	if (strcmp(a->name, b->name) != 0 || a->nlabels != b->nlabels)
		return 0;
	for (i = 0; i < a->nlabels; i++) {
		const char *v = bs_metric_label(b, a->label_key[i]);
		if (!v || strcmp(v, a->label_value[i]) != 0)
			return 0;
	}
	return 1;
}

static int parse_sample(struct parser *p, const char *s)
{
	struct bs_metric *m;
	struct family *f;
	const char *tok;
	size_t i, len;

	if (p->mx->n == BS_METRICS_MAX)
		return perr(p, "more samples than backstop writes", NULL);
	m = &p->mx->m[p->mx->n];
	memset(m, 0, sizeof(*m));
	if (take_name(&s, m->name, sizeof(m->name), 1) < 0)
		return perr(p, "invalid metric name", NULL);
	if (*s == '{' && parse_labels(p, &s, m) < 0)
		return -1;
	if (*s != ' ' && *s != '\t')
		return perr(p, "expected a value after", m->name);
	while (*s == ' ' || *s == '\t')
		s++;
	tok = s;
	len = strcspn(s, " \t");
	if (parse_value(tok, len, &m->value) < 0)
		return perr(p, "invalid value of", m->name);
	s += len;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s) { /* an optional timestamp: an integer in milliseconds */
		len = strspn(s + (*s == '-'), "0123456789") + (*s == '-');
		if (len == (size_t)(*s == '-'))
			return perr(p, "invalid timestamp of", m->name);
		s += len;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s)
			return perr(p, "unexpected text after the value of", m->name);
	}
	if (!(f = family(p, m->name)))
		return perr(p, "too many metric families", NULL);
	if (f->has_samples && strcmp(p->last, m->name) != 0)
		return perr(p, "the samples of a family are not together:", m->name);
	for (i = 0; i < p->mx->n; i++)
		if (same_series(&p->mx->m[i], m))
			return perr(p, "duplicate series of", m->name);
	f->has_samples = 1;
	snprintf(p->last, sizeof(p->last), "%s", m->name);
	p->mx->n++;
	return 0;
}

int bs_metrics_parse(const char *name, const char *text, size_t len, struct bs_metrics *mx,
		     struct bs_err *err)
{
	struct parser *p = calloc(1, sizeof(*p));
	char line[4096];
	size_t pos = 0, i, j;
	int rc = 0;

	bs_metrics_init(mx);
	if (!p)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	p->src = name;
	p->mx = mx;
	p->err = err;
	while (pos < len && rc == 0) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		p->line++;
		if (!nl) {
			rc = perr(p, "the last line has no newline (truncated file?)", NULL);
			break;
		}
		if (n >= sizeof(line) || memchr(text + pos, '\0', n)) {
			rc = perr(p, "line too long or not text", NULL);
			break;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + 1;
		if (n == 0)
			continue;
		rc = line[0] == '#' ? parse_comment(p, line) : parse_sample(p, line);
	}
	/* HELP texts may come before or after the samples */
	for (i = 0; rc == 0 && i < mx->n; i++)
		for (j = 0; j < p->nfam; j++)
			if (strcmp(p->fam[j].name, mx->m[i].name) == 0)
				snprintf(mx->m[i].help, sizeof(mx->m[i].help), "%s", p->fam[j].help);
	if (rc < 0)
		bs_metrics_init(mx);
	free(p);
	return rc;
}

int bs_metrics_read(const char *path, struct bs_metrics *mx, struct bs_err *err)
{
	char *buf = NULL;
	struct stat st;
	ssize_t n;
	size_t len = 0;
	int fd, rc;

	bs_metrics_init(mx);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return bs_err_set(err, BS_ERR_NOT_FOUND, "'%s' does not exist", path);
		return bs_err_sys(err, BS_ERR_IO, errno, "unable to read '%s'", path);
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > BS_METRICS_FILE_MAX) {
		close(fd);
		return bs_err_set(err, BS_ERR_FORMAT, "'%s' is not a metrics file of backstop's size", path);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	while ((n = read(fd, buf + len, (size_t)st.st_size + 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || len + (size_t)n > (size_t)st.st_size) {
			int e = n < 0 ? errno : EFBIG;
			close(fd);
			free(buf);
			return bs_err_sys(err, BS_ERR_IO, e, "unable to read '%s'", path);
		}
		len += (size_t)n;
	}
	close(fd);
	rc = bs_metrics_parse(path, buf, len, mx, err);
	free(buf);
	return rc;
}
