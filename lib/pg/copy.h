/*
 * copy.h - COPY streams over libpq.
 *
 * COPY TO STDOUT in text format delivers exactly one row per
 * PQgetCopyData call; bs_pg_copy_out hands each row (with its trailing
 * newline) to a callback, so callers can cut chunks at row boundaries and
 * digest rows without re-parsing.
 */
#ifndef BS_PG_COPY_H
#define BS_PG_COPY_H

#include <libpq-fe.h>
#include <stdint.h>

#include "common/err.h"

/* row points at one row including its '\n'; valid only during the call.
 * Return 0 to go on, -1 (with err set) to stop. */
typedef int (*bs_pg_row_fn)(void *ud, const char *row, size_t len, struct bs_err *err);

/* Run copy_sql ("COPY ... TO STDOUT") and feed rows to fn.  On callback
 * failure the COPY is cancelled and the connection left usable. */
int bs_pg_copy_out(PGconn *c, const char *copy_sql, bs_pg_row_fn fn, void *ud, uint64_t *rows,
		   struct bs_err *err);

/* COPY FROM STDIN: begin, send any number of buffers, end.  end with
 * abort_msg != NULL aborts the COPY (the server rolls the statement back). */
int bs_pg_copy_in_begin(PGconn *c, const char *copy_sql, struct bs_err *err);
int bs_pg_copy_in_send(PGconn *c, const void *buf, size_t len, struct bs_err *err);
int bs_pg_copy_in_end(PGconn *c, const char *abort_msg, struct bs_err *err);

#endif
