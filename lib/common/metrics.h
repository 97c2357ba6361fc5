/*
 * metrics.h - Prometheus textfile-collector output.
 *
 * A command collects a few gauges and writes them to <dir>/<name>.prom
 * atomically (temporary file, rename), so node_exporter never reads half a
 * file.  Labels are escaped per the exposition format.
 */
#ifndef BS_COMMON_METRICS_H
#define BS_COMMON_METRICS_H

#include <stddef.h>

#include "common/err.h"

#define BS_METRICS_MAX 32

struct bs_metrics {
	size_t n;
	struct {
		char name[96];
		char help[160];
		char labels[256];   /* rendered: database="app" */
		double value;
	} m[BS_METRICS_MAX];
};

void bs_metrics_init(struct bs_metrics *mx);
/* label_key/label_value may be NULL. Extra metrics beyond the maximum are dropped. */
void bs_metrics_add(struct bs_metrics *mx, const char *name, const char *help,
		    const char *label_key, const char *label_value, double value);
/* dir NULL or "": nothing written, returns 0. */
int bs_metrics_write(const struct bs_metrics *mx, const char *dir, const char *file_name,
		     struct bs_err *err);

#endif
