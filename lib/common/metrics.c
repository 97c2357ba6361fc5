/* metrics.c - see metrics.h */
#include "common/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void bs_metrics_init(struct bs_metrics *mx)
{
	mx->n = 0;
}

static void escape_label(char *out, size_t n, const char *v)
{
	size_t j = 0;

	for (; *v && j + 3 < n; v++) {
		if (*v == '\\' || *v == '"') {
			out[j++] = '\\';
			out[j++] = *v;
		} else if (*v == '\n') {
			out[j++] = '\\';
			out[j++] = 'n';
		} else {
			out[j++] = *v;
		}
	}
	out[j] = '\0';
}

void bs_metrics_add(struct bs_metrics *mx, const char *name, const char *help,
		    const char *label_key, const char *label_value, double value)
{
	char esc[200];

	if (mx->n >= BS_METRICS_MAX)
		return;
	snprintf(mx->m[mx->n].name, sizeof(mx->m[0].name), "%s", name);
	snprintf(mx->m[mx->n].help, sizeof(mx->m[0].help), "%s", help);
	mx->m[mx->n].labels[0] = '\0';
	if (label_key && label_value) {
		escape_label(esc, sizeof(esc), label_value);
		snprintf(mx->m[mx->n].labels, sizeof(mx->m[0].labels), "%s=\"%s\"", label_key, esc);
	}
	mx->m[mx->n].value = value;
	mx->n++;
}

int bs_metrics_write(const struct bs_metrics *mx, const char *dir, const char *file_name,
		     struct bs_err *err)
{
	char path[4096], tmp[4200];
	FILE *f;
	size_t i;
	int fd;

	if (!dir || !*dir)
		return 0;
	snprintf(path, sizeof(path), "%s/%s.prom", dir, file_name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.prom.%d", dir, file_name, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		if (fd >= 0)
			close(fd);
		return bs_err_sys(err, BS_ERR_IO, errno, "unable to write metrics to '%s'", tmp);
	}
	for (i = 0; i < mx->n; i++) {
		if (i == 0 || strcmp(mx->m[i].name, mx->m[i - 1].name) != 0)
			fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", mx->m[i].name, mx->m[i].help,
				mx->m[i].name);
		fprintf(f, "%s%s%s%s %.17g\n", mx->m[i].name, mx->m[i].labels[0] ? "{" : "",
			mx->m[i].labels, mx->m[i].labels[0] ? "}" : "", mx->m[i].value);
	}
	if (fflush(f) != 0 || ferror(f)) {
		int e = errno;
		fclose(f);
		unlink(tmp);
		return bs_err_sys(err, BS_ERR_IO, e, "unable to write metrics to '%s'", tmp);
	}
	fclose(f);
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return bs_err_sys(err, BS_ERR_IO, e, "unable to write metrics to '%s'", path);
	}
	return 0;
}
