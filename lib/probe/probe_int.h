/*
 * probe_int.h - internals of lib/probe: one probe being run in a round,
 * and what each kind's file provides to the round (probe_round.c).
 *
 * http, tls, tcp:  <kind>_start fills run->req (a transfer of the round's
 *                  HTTP client); <kind>_judge reads run->req.res when the
 *                  client hands it back and fills run->res.
 * postgres:        pg_start opens a non-blocking connection; pg_fd and
 *                  pg_events say which socket to wait on (pg_fd -1: none,
 *                  wait until pg_attempt_end); pg_step advances after the
 *                  wait (or a timeout) and returns 1 when the result is
 *                  filled; pg_stop frees the connection.
 * backup:          backup_run does it all, synchronously (the round runs it
 *                  in a thread beside the loop).
 *
 * Every judge ends in probe_set_result: the state, the one-line reason
 * (which states what was expected and what was observed), the expected and
 * observed fields; it marks the run done.
 */
#ifndef BS_PROBE_PROBE_INT_H
#define BS_PROBE_PROBE_INT_H

#include <libpq-fe.h>

#include "net/http.h"
#include "probe/probe.h"

struct probe_run {
	const struct bs_probe *p;
	struct bs_probe_result *res;
	int64_t start_ms;    /* when the round started it */
	int64_t deadline_ms; /* the round's deadline (absolute, bs_http_now_ms) */
	int done;

	/* http, tls, tcp */
	struct bs_http_req req;
	char *url;			       /* owned */
	char *connect_to;		       /* owned: tls with a servername */
	char *hdr[BS_PROBE_HEADERS_MAX + 1];   /* owned "Name: value" lines */
	const char *hdrv[BS_PROBE_HEADERS_MAX + 1];

	/* postgres */
	PGconn *conn;
	int pg_phase;	   /* probe_pg.c's: connecting, query, lag, pause, finished */
	int pg_attempts;
	int64_t pg_attempt_end; /* this attempt's timeout (absolute ms) */
	int pg_fd, pg_events;	/* what to wait for (BS_HTTP_WAIT_*) */
	char *pg_value;		/* first value of the query (owned) */
};

/* Set the result and mark the run done: state, the reason formatted from
 * fmt (one line: line breaks become blanks), and the expected and observed
 * fields from exp/obs (NULL: not stated). */
void probe_set_result(struct probe_run *r, enum bs_state st, const char *exp, const char *obs,
		      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A transfer ended by its timeout: FAIL "<what> within <timeout>", or
 * UNKNOWN when the round's deadline was the shorter limit. */
void probe_timed_out(struct probe_run *r, const char *what);
/* After more than one attempt, say so at the end of the reason: " (3
 * attempts)" when it did not pass, " (attempt 2)" when it did. */
void probe_note_attempts(struct probe_run *r);
/* Milliseconds left for this probe's attempt: min(timeout, round deadline). */
long probe_budget_ms(const struct probe_run *r, int64_t now_ms);

/* r->url = scheme://host:port/ (IPv6 in brackets), req.url set. */
int probe_endpoint_url(struct probe_run *r, const char *scheme, struct bs_err *err);
int probe_http_start(struct probe_run *r, struct bs_err *err);
void probe_http_judge(struct probe_run *r);
int probe_tls_start(struct probe_run *r, struct bs_err *err);
void probe_tls_judge(struct probe_run *r);
int probe_tcp_start(struct probe_run *r, struct bs_err *err);
void probe_tcp_judge(struct probe_run *r);

void probe_pg_start(struct probe_run *r, int64_t now_ms);
int probe_pg_step(struct probe_run *r, int64_t now_ms); /* 1: result filled */
void probe_pg_stop(struct probe_run *r);

void probe_backup_run(struct probe_run *r, bs_probe_repo_open_fn open_repo, void *ud);

/* A readable figure for a duration in seconds: "1.84s", "320ms". */
char *probe_secs(double s, char *buf, size_t n);

#endif
