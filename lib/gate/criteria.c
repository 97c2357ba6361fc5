/*
 * criteria.c - the table of criterion kinds, and what their files share:
 * the common fields, outcome helpers, evidence paths.
 *
 * A new kind is one file (crit_<kind>.c defining a struct bs_gate_kind_ops)
 * and one row in each table below.
 */
#include "gate/gate_int.h"

#include <errno.h>
#include <glob.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const struct bs_gate_kind_ops *const bs_gate_kinds[BS_CRIT_KINDS] = {
	[BS_CRIT_PROBE] = &bs_crit_probe,
	[BS_CRIT_BACKUP] = &bs_crit_backup,
	[BS_CRIT_DRILL] = &bs_crit_drill,
	[BS_CRIT_SARIF] = &bs_crit_sarif,
	[BS_CRIT_JUNIT] = &bs_crit_junit,
	[BS_CRIT_APPROVAL] = &bs_crit_approval,
	[BS_CRIT_ROLLBACK_READY] = &bs_crit_rollback_ready,
	[BS_CRIT_FILE] = &bs_crit_file,
	[BS_CRIT_COMMAND] = &bs_crit_command,
};

const struct bs_bind_enum bs_gate_kind_enums[] = {
	{ "probe", BS_CRIT_PROBE },
	{ "backup", BS_CRIT_BACKUP },
	{ "drill", BS_CRIT_DRILL },
	{ "sarif", BS_CRIT_SARIF },
	{ "junit", BS_CRIT_JUNIT },
	{ "approval", BS_CRIT_APPROVAL },
	{ "rollback_ready", BS_CRIT_ROLLBACK_READY },
	{ "file", BS_CRIT_FILE },
	{ "command", BS_CRIT_COMMAND },
	{ NULL, 0 },
};

const struct bs_bind_enum bs_gate_severity_enums[] = {
	{ "fail", 0 },
	{ "warn", 1 },
	{ NULL, 0 },
};

#define C struct bs_gate_criterion
const struct bs_bind_field bs_gate_criterion_all_fields[] = {
	BS_BIND_F_STRING("id", C, id, 0),
	BS_BIND_F_STRING("description", C, description, 0),
	BS_BIND_F_STRLIST("probes", C, probes, nprobes),
	BS_BIND_F_STRING("database", C, database, 0),
	BS_BIND_F_STRING("repository", C, repository, 0),
	BS_BIND_F_STRLIST("files", C, files, nfiles),
	BS_BIND_F_STRING("role", C, role, 0),
	BS_BIND_F_STRING("service", C, service, 0),
	BS_BIND_F_STRING("path", C, path, 0),
	BS_BIND_F_STRLIST("run", C, run, nrun),
	BS_BIND_F_END,
};
#undef C

const char *bs_gate_kind_name(int kind)
{
	return kind > 0 && kind < BS_CRIT_KINDS && bs_gate_kinds[kind] ? bs_gate_kinds[kind]->name : "?";
}

int bs_gate_kind_bound(struct bs_bind_ctx *ctx, const struct bs_bind_field *f, const struct bs_ynode *node,
		       const char *keypath, void *base, struct bs_err *err)
{
	(void)ctx, (void)f, (void)node, (void)keypath, (void)base, (void)err;
	return 0; /* bound before the kind's table (policy.c) */
}

void bs_gate_set(struct bs_gate_outcome *o, enum bs_state s, const char *expected, const char *fmt, ...)
{
	va_list ap;

	o->raw = s;
	snprintf(o->expected, sizeof(o->expected), "%s", expected ? expected : "");
	va_start(ap, fmt);
	vsnprintf(o->observed, sizeof(o->observed), fmt, ap);
	va_end(ap);
}

void bs_gate_detail(struct bs_gate_outcome *o, const char *fmt, ...)
{
	size_t used = strlen(o->detail);
	va_list ap;

	if (used && used + 1 < sizeof(o->detail))
		o->detail[used++] = '\n', o->detail[used] = '\0';
	if (used + 1 >= sizeof(o->detail))
		return;
	va_start(ap, fmt);
	vsnprintf(o->detail + used, sizeof(o->detail) - used, fmt, ap);
	va_end(ap);
}

void bs_gate_appendf(char *buf, size_t n, const char *fmt, ...)
{
	size_t used = strnlen(buf, n);
	va_list ap;
	int w;

	if (used + 1 >= n)
		return;
	va_start(ap, fmt);
	w = vsnprintf(buf + used, n - used, fmt, ap);
	va_end(ap);
	if (w > 0 && (size_t)w >= n - used) { /* cut: back off to a character boundary */
		size_t end = n - 1;
		while (end > used && ((unsigned char)buf[end - 1] & 0xC0) == 0x80)
			end--;
		if (end > used && ((unsigned char)buf[end - 1] & 0xC0) == 0xC0)
			end--;
		buf[end] = '\0';
	}
}

static void list_add(char *buf, size_t n, const char *s)
{
	bs_gate_appendf(buf, n, "%s%s", buf[0] ? ", " : "", s);
}

/* A directory that does not exist matches nothing (missing evidence); one
 * that cannot be read stops the search (evidence that cannot be seen). */
static int glob_error(const char *path, int e)
{
	(void)path;
	return e != ENOENT && e != ENOTDIR;
}

int bs_gate_paths(char *const *patterns, size_t n, char ***paths, size_t *npaths, char *missing, size_t missn,
		  struct bs_err *err)
{
	char **v = NULL;
	size_t cnt = 0, cap = 0;

	*paths = NULL;
	*npaths = 0;
	if (missn)
		missing[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		glob_t g;
		int rc = glob(patterns[i], 0, glob_error, &g);

		if (rc == GLOB_NOMATCH || (rc == 0 && g.gl_pathc == 0)) {
			list_add(missing, missn, patterns[i]);
			if (rc == 0)
				globfree(&g);
			continue;
		}
		if (rc != 0) { /* an unreadable directory, or out of memory: not "missing" */
			bs_gate_paths_free(v, cnt);
			return bs_err_set(err, rc == GLOB_NOSPACE ? BS_ERR_NOMEM : BS_ERR_IO,
					  "unable to look for '%s': %s", patterns[i],
					  rc == GLOB_NOSPACE ? "out of memory" : "a directory on the way cannot be read");
		}
		for (size_t k = 0; k < g.gl_pathc; k++) {
			if (cnt == cap) {
				size_t nc = cap ? cap * 2 : 8;
				char **nv = nc <= 100000 ? realloc(v, nc * sizeof(*v)) : NULL;
				if (!nv) {
					globfree(&g);
					bs_gate_paths_free(v, cnt);
					return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
				}
				v = nv, cap = nc;
			}
			if (!(v[cnt] = strdup(g.gl_pathv[k]))) {
				globfree(&g);
				bs_gate_paths_free(v, cnt);
				return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
			}
			cnt++;
		}
		globfree(&g);
	}
	*paths = v;
	*npaths = cnt;
	return 0;
}

void bs_gate_paths_free(char **paths, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}
