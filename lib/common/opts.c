/* opts.c - see opts.h */
#include "common/opts.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

void bs_strlist_release(struct bs_strlist *l)
{
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

int bs_strlist_push(struct bs_strlist *l, const char *s)
{
	if (l->n + 2 > l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 8;
		const char **nv = realloc(l->v, ncap * sizeof(*nv));
		if (!nv)
			return -1;
		l->v = nv;
		l->cap = ncap;
	}
	l->v[l->n++] = s;
	l->v[l->n] = NULL;
	return 0;
}

static const struct bs_opt *find_long(const struct bs_opt *o, const char *name, size_t len)
{
	for (; o->kind != BS_OPT_END; o++)
		if (o->long_name && strlen(o->long_name) == len && strncmp(o->long_name, name, len) == 0)
			return o;
	return NULL;
}

static const struct bs_opt *find_short(const struct bs_opt *o, char c)
{
	for (; o->kind != BS_OPT_END; o++)
		if (o->kind != BS_OPT_GROUP && o->short_name == c)
			return o;
	return NULL;
}

static void opt_name(const struct bs_opt *o, char *buf, size_t n)
{
	if (o->long_name)
		snprintf(buf, n, "--%s", o->long_name);
	else
		snprintf(buf, n, "-%c", o->short_name);
}

static int refuse(const struct bs_cmd_spec *spec, const struct bs_opt *o, const char *as_given,
		  struct bs_err *err)
{
	return bs_err_set(err, BS_ERR_USAGE, "backstop %s takes no option '%s': %s", spec->name, as_given,
			  o->help);
}

static int apply(const struct bs_opt *o, const char *val, struct bs_err *err)
{
	char name[64];
	char *end;
	long v;

	opt_name(o, name, sizeof(name));
	switch (o->kind) {
	case BS_OPT_FLAG:
		*(int *)o->dest = 1;
		return 0;
	case BS_OPT_STR:
		*(const char **)o->dest = val;
		return 0;
	case BS_OPT_INT:
		errno = 0;
		v = strtol(val, &end, 10);
		if (errno || end == val || *end || v < INT_MIN || v > INT_MAX)
			return bs_err_set(err, BS_ERR_USAGE, "invalid value '%s' for %s: expected an integer",
					  val, name);
		if (o->min < o->max && (v < o->min || v > o->max))
			return bs_err_set(err, BS_ERR_USAGE, "invalid value '%s' for %s: must be %d..%d",
					  val, name, o->min, o->max);
		*(int *)o->dest = (int)v;
		return 0;
	case BS_OPT_LIST:
		if (bs_strlist_push(o->dest, val) < 0)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		return 0;
	default:
		return bs_err_set(err, BS_ERR_INTERNAL, "bad option table entry");
	}
}

int bs_opts_parse(const struct bs_cmd_spec *spec, int argc, char **argv, struct bs_strlist *pos,
		  struct bs_err *err)
{
	int i, only_pos = 0;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const struct bs_opt *o;

		if (only_pos || a[0] != '-' || a[1] == '\0') {
			if (bs_strlist_push(pos, a) < 0)
				return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_pos = 1;
			continue;
		}
		if (a[1] == '-') {
			const char *name = a + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			o = find_long(spec->opts, name, len);
			if (!o || o->kind == BS_OPT_GROUP)
				return bs_err_set(err, BS_ERR_USAGE, "unknown option '--%.*s'", (int)len, name);
			if (o->kind == BS_OPT_REFUSED) {
				char given[80];
				snprintf(given, sizeof(given), "--%.*s", (int)len, name);
				return refuse(spec, o, given, err);
			}
			if (o->kind == BS_OPT_FLAG) {
				if (eq)
					return bs_err_set(err, BS_ERR_USAGE, "option '--%s' takes no value",
							  o->long_name);
				if (apply(o, NULL, err) < 0)
					return -1;
				continue;
			}
			if (!eq && i + 1 >= argc)
				return bs_err_set(err, BS_ERR_USAGE, "option '--%s' requires a value (%s)",
						  o->long_name, o->arg ? o->arg : "VALUE");
			if (apply(o, eq ? eq + 1 : argv[++i], err) < 0)
				return -1;
			continue;
		}
		/* short options, possibly bundled: -qv, -j4, -j 4 */
		for (a++; *a; a++) {
			o = find_short(spec->opts, *a);
			if (!o)
				return bs_err_set(err, BS_ERR_USAGE, "unknown option '-%c'", *a);
			if (o->kind == BS_OPT_REFUSED) {
				char given[4] = { '-', *a, '\0', '\0' };
				return refuse(spec, o, given, err);
			}
			if (o->kind == BS_OPT_FLAG) {
				if (apply(o, NULL, err) < 0)
					return -1;
				continue;
			}
			if (a[1]) {
				if (apply(o, a + 1, err) < 0)
					return -1;
			} else if (i + 1 < argc) {
				if (apply(o, argv[++i], err) < 0)
					return -1;
			} else {
				return bs_err_set(err, BS_ERR_USAGE, "option '-%c' requires a value (%s)",
						  *a, o->arg ? o->arg : "VALUE");
			}
			break;
		}
	}
	return 0;
}

void bs_opts_help(const struct bs_cmd_spec *spec, FILE *f)
{
	const struct bs_opt *o;
	const char *s = spec->synopsis, *nl;
	int first = 1;

	while (s && *s) {
		nl = strchr(s, '\n');
		fprintf(f, "%s backstop %.*s\n", first ? "usage:" : "      ",
			(int)(nl ? nl - s : (long)strlen(s)), s);
		first = 0;
		s = nl ? nl + 1 : NULL;
	}
	if (spec->description)
		fprintf(f, "\n%s\n", spec->description);
	fprintf(f, "\noptions:\n");
	for (o = spec->opts; o->kind != BS_OPT_END; o++) {
		char left[96];
		int n = 0;
		if (o->kind == BS_OPT_GROUP) {
			fprintf(f, "\n%s:\n", o->help);
			continue;
		}
		if (o->kind == BS_OPT_REFUSED || !o->help)
			continue;
		if (o->short_name)
			n += snprintf(left + n, sizeof(left) - (size_t)n, "-%c%s", o->short_name,
				      o->long_name ? ", " : "");
		else
			n += snprintf(left + n, sizeof(left) - (size_t)n, "    ");
		if (o->long_name)
			n += snprintf(left + n, sizeof(left) - (size_t)n, "--%s", o->long_name);
		if (o->kind != BS_OPT_FLAG)
			snprintf(left + n, sizeof(left) - (size_t)n, " %s", o->arg ? o->arg : "VALUE");
		if (strlen(left) > 26)
			fprintf(f, "  %s\n  %-26s  %s\n", left, "", o->help);
		else
			fprintf(f, "  %-26s  %s\n", left, o->help);
	}
	if (spec->epilog)
		fprintf(f, "\n%s", spec->epilog);
	if (spec->exit_codes)
		fprintf(f, "\n%s", spec->exit_codes);
	else
		fprintf(f, "\nexit codes: 0 success, 1 negative verdict, 2 usage/configuration error or refused,\n"
			   "            3 runtime failure (server, I/O, crypto, corrupt archive)\n");
}

int bs_opts_fail(const struct bs_cmd_spec *spec, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "backstop %s: ", spec->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'backstop %s --help'.\n", spec->name);
	return 2;
}

int bs_opts_common(const struct bs_cmd_spec *spec, const struct bs_common_opts *c)
{
	if (c->help) {
		bs_opts_help(spec, stdout);
		return 1;
	}
	if (c->version) {
		printf("backstop %s %s\n", spec->name, BS_VERSION);
		return 1;
	}
	if (c->quiet)
		bs_log_set_level(BS_LOG_WARN);
	if (c->verbose)
		bs_log_set_level(BS_LOG_DEBUG);
	return 0;
}

int bs_cmd_error(const struct bs_cmd_spec *spec, const struct bs_err *err)
{
	char prog[96];

	if (err->code == BS_ERR_USAGE) {
		fprintf(stderr, "backstop %s: %s\n", spec->name, err->msg);
		if (err->detail[0])
			fprintf(stderr, "detail: %s\n", err->detail);
		if (err->hint[0])
			fprintf(stderr, "hint: %s\n", err->hint);
		fprintf(stderr, "Try 'backstop %s --help'.\n", spec->name);
		return 2;
	}
	snprintf(prog, sizeof(prog), "backstop %s", spec->name);
	bs_err_print(err, prog, stderr);
	return bs_err_exit_code(err);
}

int bs_stdout_close(const struct bs_cmd_spec *spec)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "backstop %s: error: unable to write to standard output: %s\n", spec->name,
			strerror(errno));
		return 3;
	}
	return 0;
}

/* The option of spec that tok (after its dashes) names, or NULL. */
static const struct bs_opt *find_opt(const struct bs_cmd_spec *spec, const char *tok, int is_long)
{
	for (const struct bs_opt *o = spec->opts; o && o->kind != BS_OPT_END; o++) {
		if (o->kind == BS_OPT_GROUP || o->kind == BS_OPT_REFUSED)
			continue;
		if (is_long && o->long_name) {
			size_t n = strlen(o->long_name);
			if (strncmp(tok, o->long_name, n) == 0 && (tok[n] == '\0' || tok[n] == '='))
				return o;
		} else if (!is_long && o->short_name && tok[0] == o->short_name) {
			return o;
		}
	}
	return NULL;
}

/* 1 when argv[from..to) are options of spec with their values, nothing else. */
static int options_only(const struct bs_cmd_spec *spec, char **argv, int from, int to)
{
	for (int i = from; i < to; i++) {
		const char *t = argv[i];
		const struct bs_opt *o;
		if (t[0] != '-' || t[1] == '\0' || strcmp(t, "--") == 0)
			return 0;
		if (t[1] == '-') {
			if (!(o = find_opt(spec, t + 2, 1)))
				return 0;
			if (o->kind != BS_OPT_FLAG && !strchr(t, '=') && ++i >= to)
				return 0;
			continue;
		}
		for (const char *c = t + 1; *c; c++) { /* -qv, -j4, -j 4 */
			if (!(o = find_opt(spec, c, 0)))
				return 0;
			if (o->kind == BS_OPT_FLAG)
				continue;
			if (c[1] == '\0' && ++i >= to)
				return 0;
			break;
		}
	}
	return 1;
}

int bs_verbs_dispatch(const struct bs_verb *verbs, int argc, char **argv, int *rc)
{
	const struct bs_verb *v;

	if (argc < 2)
		return 0;
	for (v = verbs; v->name; v++)
		if (strcmp(argv[1], v->name) == 0) {
			*rc = v->run(v, argc - 1, argv + 1);
			return 1;
		}
	/* options before the verb ("gate --config F check go-live"): when
	 * everything before a verb's name is options of that verb, run it with
	 * them after its name */
	if (argv[1][0] != '-')
		return 0;
	for (int k = 2; k < argc; k++)
		for (v = verbs; v->name; v++) {
			char *verb = argv[k];
			if (strcmp(verb, v->name) != 0 || !v->spec || !options_only(v->spec, argv, 1, k))
				continue;
			memmove(argv + 2, argv + 1, (size_t)(k - 1) * sizeof(*argv));
			argv[1] = verb;
			*rc = v->run(v, argc - 1, argv + 1);
			return 1;
		}
	return 0;
}

int bs_verbs_main(const struct bs_cmd_spec *spec, struct bs_common_opts *co, const struct bs_verb *verbs, int argc,
		  char **argv, int (*unknown_hint)(const char *word, char *buf, size_t n))
{
	const char *names[32];
	char list[256] = "", hint[512];
	struct bs_strlist pos = { 0 };
	struct bs_err err;
	size_t n = 0;
	int rc = 0;

	if (bs_verbs_dispatch(verbs, argc, argv, &rc))
		return rc;
	for (const struct bs_verb *v = verbs; v->name && n + 1 < sizeof(names) / sizeof(names[0]); v++)
		names[n++] = v->name;
	names[n] = NULL;
	for (size_t i = 0; i < n; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ",
			 names[i]);
	bs_err_init(&err);
	if (bs_opts_parse(spec, argc, argv, &pos, &err) < 0)
		rc = bs_cmd_error(spec, &err);
	else if (bs_opts_common(spec, co))
		rc = 0;
	else if (!pos.n)
		rc = bs_opts_fail(spec, "a verb is needed: %s", list);
	else if (bs_did_you_mean(pos.v[0], names))
		rc = bs_opts_fail(spec, "unknown verb '%s'; did you mean '%s'?", pos.v[0], bs_did_you_mean(pos.v[0], names));
	else if (unknown_hint && unknown_hint(pos.v[0], hint, sizeof(hint)))
		rc = bs_opts_fail(spec, "unknown verb '%s'; %s", pos.v[0], hint);
	else
		rc = bs_opts_fail(spec, "unknown verb '%s': %s", pos.v[0], list);
	bs_strlist_release(&pos);
	return rc;
}

/* Optimal string alignment distance (adjacent transpositions count one). */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t d[32][32];

	if (la >= 32 || lb >= 32)
		return 99;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1], m = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < m)
				m = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < m)
				m = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < m)
				m = d[i - 2][j - 2] + 1;
			d[i][j] = m;
		}
	return d[la][lb];
}

const char *bs_did_you_mean(const char *s, const char *const *names)
{
	const char *best = NULL;
	size_t bestd = 99, i;

	for (i = 0; names[i]; i++) {
		size_t dist = edit_distance(s, names[i]);
		/* a prefix of a longer name ("verify" for "verify-restore") counts as close */
		if (strlen(s) >= 3 && strncmp(s, names[i], strlen(s)) == 0)
			dist = 1;
		if (dist < bestd) {
			bestd = dist;
			best = names[i];
		}
	}
	return bestd <= 2 ? best : NULL;
}
