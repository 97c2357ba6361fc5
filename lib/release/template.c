/*
 * template.c - driver commands: argv templates ({service} {image}
 * {digest} {ref} {file} expanded in each argument) and running them, never
 * through a shell (template.h).
 */
#include "release/template.h"

#include <limits.h>
#include <stdio.h>

#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "common/run.h"

static const char *lookup(const struct bs_release_vars *v, const char *name, size_t n)
{
	static const struct {
		const char *name;
		size_t off;
	} keys[] = {
		{ "service", offsetof(struct bs_release_vars, service) },
		{ "image", offsetof(struct bs_release_vars, image) },
		{ "digest", offsetof(struct bs_release_vars, digest) },
		{ "ref", offsetof(struct bs_release_vars, ref) },
		{ "file", offsetof(struct bs_release_vars, file) },
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strlen(keys[i].name) == n && strncmp(keys[i].name, name, n) == 0) {
			const char *val = *(const char *const *)((const char *)v + keys[i].off);
			return val ? val : "";
		}
	return NULL;
}

int bs_release_template_check(char *const *tmpl, size_t n, const char *what, struct bs_err *err)
{
	struct bs_release_vars none = { 0 };

	if (!n || !tmpl[0][0])
		return bs_err_set(err, BS_ERR_CONFIG, "%s is empty: give the program and its arguments", what);
	for (size_t i = 0; i < n; i++)
		for (const char *p = strchr(tmpl[i], '{'); p; p = strchr(p + 1, '{')) {
			const char *e = strchr(p, '}');
			if (!e || !lookup(&none, p + 1, (size_t)(e - p - 1))) {
				bs_err_set(err, BS_ERR_CONFIG, "%s: unknown placeholder in '%s'", what, tmpl[i]);
				bs_err_hint(err, "placeholders: {service} {image} {digest} {ref} {file}");
				return -1;
			}
		}
	return 0;
}

static char *expand_one(const char *t, const struct bs_release_vars *v)
{
	size_t cap = strlen(t) + 1, len = 0;
	char *out = malloc(cap);

	if (!out)
		return NULL;
	for (const char *p = t; *p;) {
		const char *e, *val = NULL;
		size_t add;
		if (*p == '{' && (e = strchr(p, '}')) && (val = lookup(v, p + 1, (size_t)(e - p - 1)))) {
			add = strlen(val);
			p = e + 1;
		} else {
			val = p++;
			add = 1;
		}
		if (len + add + 1 > cap) {
			char *n = realloc(out, cap = (len + add + 1) * 2);
			if (!n) {
				free(out);
				return NULL;
			}
			out = n;
		}
		memcpy(out + len, val, add);
		len += add;
	}
	out[len] = 0;
	return out;
}

char **bs_release_template_expand(char *const *tmpl, size_t n, const struct bs_release_vars *v)
{
	char **argv = calloc(n + 1, sizeof(*argv));

	for (size_t i = 0; argv && i < n; i++)
		if (!(argv[i] = expand_one(tmpl[i], v))) {
			bs_release_argv_free(argv);
			return NULL;
		}
	return argv;
}

void bs_release_argv_free(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

void bs_release_argv_text(char *const *argv, char *out, size_t n)
{
	size_t len = 0;

	out[0] = 0;
	for (size_t i = 0; argv && argv[i] && len + 1 < n; i++) {
		int q = !argv[i][0] || strpbrk(argv[i], " \t\"'\\$") != NULL;
		int w = snprintf(out + len, n - len, "%s%s%s%s", i ? " " : "", q ? "'" : "", argv[i], q ? "'" : "");
		if (w < 0)
			break;
		len += (size_t)w;
	}
}

int bs_release_command_run(char *const *argv, const char *svc_name, const struct bs_release_vars *v, int64_t timeout_ms,
			   struct bs_err *err)
{
	char e_svc[128], e_img[640], e_dig[128];
	const char *env[] = { e_svc, e_img, e_dig, NULL };
	struct bs_run r;
	int rc;

	if (timeout_ms <= 0)
		timeout_ms = 10 * 60 * 1000;
	snprintf(e_svc, sizeof(e_svc), "BACKSTOP_SERVICE=%s", svc_name);
	snprintf(e_img, sizeof(e_img), "BACKSTOP_IMAGE=%s", v->image ? v->image : "");
	snprintf(e_dig, sizeof(e_dig), "BACKSTOP_DIGEST=%s", v->digest ? v->digest : "");
	bs_run_init(&r);
	r.argv = (const char *const *)argv;
	r.env = env;
	r.env_policy = BS_RUN_ENV_MINIMAL;
	r.search_path = 1;
	r.timeout_ms = (unsigned)(timeout_ms > (int64_t)UINT_MAX ? UINT_MAX : timeout_ms);
	rc = bs_run_sync(&r, err);
	bs_run_release(&r);
	return rc;
}
