/*
 * metrics.h - Prometheus textfile-collector files: write and read back.
 *
 * A command collects a few gauges and writes them to <dir>/<name>.prom
 * durably (temporary file, fsync, rename, fsync of the directory), so
 * node_exporter never reads half a file and a crash never leaves an empty
 * one.  The writer follows the text exposition format: HELP and TYPE once
 * per family, the samples of a family together, labels escaped, no
 * timestamps.
 *
 * The reader parses such a file strictly (any line that is not a comment,
 * HELP, TYPE or a well-formed sample is an error, as are duplicate series
 * and a TYPE after its samples), so a command can carry values forward
 * from its previous run without trusting a damaged file.
 *
 * Ownership: struct bs_metrics is caller-allocated and holds everything by
 * value (no release needed).
 */
#ifndef BS_COMMON_METRICS_H
#define BS_COMMON_METRICS_H

#include <stddef.h>

#include "common/err.h"

#define BS_METRICS_MAX 48          /* samples per file */
#define BS_METRICS_LABELS_MAX 4    /* labels per sample */
#define BS_METRICS_FILE_MAX 65536  /* bytes the reader accepts */

struct bs_metric {
	char name[96];
	char help[192];
	size_t nlabels;
	char label_key[BS_METRICS_LABELS_MAX][32];
	char label_value[BS_METRICS_LABELS_MAX][256]; /* unescaped */
	double value;
};

struct bs_metrics {
	size_t n;
	struct bs_metric m[BS_METRICS_MAX];
};

void bs_metrics_init(struct bs_metrics *mx);

/* Add a gauge sample.  labels: NULL, or "key", "value", ..., NULL (a NULL
 * value leaves that label out).  Returns -1 with err (BS_ERR_INTERNAL) when
 * the set is full, a name is not a valid metric/label name, or a label value
 * is too long; nothing is added then. */
int bs_metrics_add(struct bs_metrics *mx, const char *name, const char *help,
		   const char *const *labels, double value, struct bs_err *err);

/* Write v onto f escaped as the text exposition format wants it: \\ and
 * newline always, '"' too when quote (a label value; HELP text: no). */
void bs_metrics_put_escaped(FILE *f, const char *v, int quote);

/* Write <dir>/<file_name>.prom.  dir NULL or "": nothing written, returns 0. */
int bs_metrics_write(const struct bs_metrics *mx, const char *dir, const char *file_name,
		     struct bs_err *err);

/* Parse a textfile into mx (initialised here).  A missing file is
 * BS_ERR_NOT_FOUND; a malformed one is BS_ERR_FORMAT "path:line: what". */
int bs_metrics_read(const char *path, struct bs_metrics *mx, struct bs_err *err);
/* The same from a buffer; name is used in error positions. */
int bs_metrics_parse(const char *name, const char *text, size_t len, struct bs_metrics *mx,
		     struct bs_err *err);

/* The value of a sample's label, or NULL if it has none by that key. */
const char *bs_metric_label(const struct bs_metric *m, const char *key);
/* The first sample called name (whose label key equals value, when key is
 * not NULL), or NULL. */
const struct bs_metric *bs_metrics_find(const struct bs_metrics *mx, const char *name,
					const char *key, const char *value);

#endif
