/*
 * template.c - argv templates of driver commands: {service} {image}
 * {digest} {ref} {file} expanded in each argument, never through a shell
 * (driver_int.h).
 */
#include "release/template.h"

#include <stdlib.h>
#include <stddef.h>
#include <string.h>

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
