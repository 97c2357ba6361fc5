/*
 * snap.h (command layer) - the snap operation (snap.c) as a list of named
 * steps: keys, repository lease, archive, the snapshot engine, commit of the
 * record.  cmd/snap.c parses options into a request, calls it, formats the
 * outcome and maps the error to an exit code.
 */
#ifndef BS_COMMAND_SNAP_H
#define BS_COMMAND_SNAP_H

#include <stdint.h>

#include "catalog/catalog.h"
#include "common/err.h"
#include "config/config.h"

struct bs_snap_guard;

struct bs_snap_request {
	struct bs_config *cfg;          /* merged: file < env < flags */
	const char *const *recipients;  /* --recipient, NULL-terminated, may be NULL */
	const char *recipients_file;    /* --recipients-file */
	int no_encryption;
	int progress;                   /* show the progress line on a TTY */
	struct bs_snap_guard *guard;    /* for the signal watcher (command/snap_guard.h); may be NULL */
};

struct bs_snap_outcome {
	struct bs_snap_record rec;      /* the committed record */
	uint64_t rows, raw_bytes;
	double seconds;
};

int bs_cmd_snap(const struct bs_snap_request *rq, struct bs_snap_outcome *out, struct bs_err *err);
void bs_snap_outcome_release(struct bs_snap_outcome *o);

#endif
