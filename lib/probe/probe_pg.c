/*
 * probe_pg.c - the postgres probe: a libpq connection made without
 * blocking on the round's loop (probe_round.c), an optional query and its
 * first value, and the replication lag of a standby.
 *
 * One attempt, as a list of phases (r->pg_phase):
 *
 *   connecting   PQconnectStartParams + PQconnectPoll; the socket to wait
 *                on may change at every poll (several hosts or addresses)
 *   query        the probe's query (one statement: extended protocol), its
 *                first column of the first row as text
 *   lag          pg_is_in_recovery() and the age of the last replayed
 *                transaction, when max_replication_lag is set
 *   pause        200 ms between a failed attempt and the next one
 *
 * A failed connection is told apart as libpq's ping does: a server that
 * answered and refused (an error with a SQLSTATE - 28P01, 3D000, 57P03,
 * 53300 - or a password it asked for and did not get) or no response at
 * all (refused, unreachable, no answer in time).  libpq has no accessor
 * for the SQLSTATE of a failed connection, so the connection runs with
 * PQERRORS_VERBOSE, where the server's error always reads
 * "<severity>:  <SQLSTATE>: <message>": the code is read from that
 * position, never from the (translatable) message text.
 *
 * Nothing here blocks but host name resolution, which libpq does in
 * PQconnectPoll (give hostaddr to avoid it), and nothing is printed; a
 * reason never holds the conninfo (it may hold a password): the server is
 * named host:port from PQhost/PQport.
 */
#include "probe/probe_int.h"

#include <ctype.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/escape.h"
#include "common/log.h"
#include "pg/conn.h"

/* r->pg_phase; probe_int.h names the first three */
enum {
	PG_CONNECTING = 0,
	PG_QUERY = 1,
	PG_LAG = 2,
	PG_PAUSE = 3,	 /* between attempts; pg_attempt_end is the next start */
	PG_FINISHED = 4, /* r->res is filled */
};

#define PG_RETRY_PAUSE_MS 200
#define PG_POLLS_MAX	  8  /* connection polls per step while the socket is ready */
#define PG_SHOWN_MAX	  96 /* bytes of a value shown in a reason */
#define PG_MSG_MAX	  256
#define PG_SERVER_MAX	  160

/* The lag in whole milliseconds (bigint text: no locale in the parsing). */
static const char lag_sql[] = "SELECT pg_is_in_recovery(),"
			      " (extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000)::bigint";

/* ---- small helpers --------------------------------------------------------- */

static double since_start(const struct probe_run *r, int64_t now)
{
	return (double)(now - r->start_ms) / 1000.0;
}

/* The first line of s, without leading blanks. */
static void first_line(char *dst, size_t n, const char *s)
{
	size_t len;

	s = s ? s : "";
	while (*s == ' ' || *s == '\t')
		s++;
	len = strcspn(s, "\r\n");
	if (len >= n)
		len = n - 1;
	memcpy(dst, s, len);
	dst[len] = '\0';
}

/* "127.0.0.1:5432", "[::1]:5432", or a socket "/run/postgresql/.s.PGSQL.5432". */
static void server_name(PGconn *c, char *out, size_t n)
{
	const char *h = c ? PQhost(c) : NULL, *port = c ? PQport(c) : NULL;

	if (!h || !*h)
		h = "localhost";
	if (!port || !*port)
		port = "5432";
	if (h[0] == '/' || h[0] == '@')
		snprintf(out, n, "%s/.s.PGSQL.%s", h, port);
	else if (strchr(h, ':'))
		snprintf(out, n, "[%s]:%s", h, port);
	else
		snprintf(out, n, "%s:%s", h, port);
}

/* A value from the server, one line and escaped, for a reason. */
static const char *shown(const char *v, char *buf, size_t n)
{
	bs_escape_term(buf, n, v ? v : "", 0);
	return buf;
}

/* The server's error in a failed connection's message (PQERRORS_VERBOSE):
 * "<SEVERITY>:  <SQLSTATE>: <message>".  Fills state and msg from the last
 * one (several hosts: the last tried) and returns 1, or 0 when no server
 * answered with an error. */
static int server_error(const char *em, char state[6], char *msg, size_t n)
{
	static const char code_chars[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	const char *p;
	int found = 0;

	for (p = em ? strstr(em, ":  ") : NULL; p; p = strstr(p + 1, ":  ")) {
		const char *s = p + 3;

		if (strspn(s, code_chars) != 5 || s[5] != ':' || s[6] != ' ')
			continue;
		memcpy(state, s, 5);
		state[5] = '\0';
		first_line(msg, n, s + 7);
		found = 1;
	}
	return found;
}

/* What a connection that got no server error says went wrong, short: the
 * first line without the part that names the server (we name it), which is
 * libpq's "connection to server at \"<host>\" ... failed: " or "could not
 * translate host name \"<host>\" to address: " - whatever the language,
 * the host comes before the first ": " (a host holds no ": ").  Lowercased
 * as our messages are. */
static void short_error(const char *em, const char *host, char *out, size_t n)
{
	char line[PG_MSG_MAX * 2];
	const char *p, *h;

	first_line(line, sizeof(line), em);
	p = strstr(line, ": ");
	h = host && *host ? strstr(line, host) : NULL;
	p = p && p[2] && h && h < p ? p + 2 : line;
	snprintf(out, n, "%s", *p ? p : "unknown error");
	if (isupper((unsigned char)out[0]) && islower((unsigned char)out[1]))
		out[0] = (char)tolower((unsigned char)out[0]);
}

/* Is fd ready for what libpq waits for?  Never waits.  No socket: let
 * libpq decide. */
static int fd_ready(int fd, int events)
{
	struct pollfd p = { .fd = fd };

	if (fd < 0)
		return 1;
	if (events & BS_HTTP_WAIT_IN)
		p.events |= POLLIN;
	if (events & BS_HTTP_WAIT_OUT)
		p.events |= POLLOUT;
	return poll(&p, 1, 0) > 0;
}

static void conn_close(struct probe_run *r)
{
	if (r->conn)
		PQfinish(r->conn);
	r->conn = NULL;
	r->pg_fd = -1;
	r->pg_events = 0;
}

/* ---- ending an attempt ------------------------------------------------------ */

/* End the probe: the result, and nothing left to wait for.  Returns 1. */
static int finish(struct probe_run *r, int64_t now, enum bs_state st, const char *exp, const char *obs,
		  const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int finish(struct probe_run *r, int64_t now, enum bs_state st, const char *exp, const char *obs,
		  const char *fmt, ...)
{
	char why[sizeof(r->res->reason)];
	size_t len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	len = strlen(why);
	if (r->pg_attempts > 1 && len < sizeof(why))
		snprintf(why + len, sizeof(why) - len,
			 st == BS_STATE_FAIL ? " (%d attempts)" : " (attempt %d)", r->pg_attempts);
	conn_close(r);
	r->pg_phase = PG_FINISHED;
	r->pg_attempt_end = now;
	r->res->seconds = since_start(r, now);
	r->res->attempts = r->pg_attempts;
	probe_set_result(r, st, exp, obs, "%s", why);
	return 1;
}

/* A failed attempt: another one after a pause while retries and time are
 * left (returns 0), else the probe fails with it (returns 1). */
static int attempt_failed(struct probe_run *r, int64_t now, const char *exp, const char *obs, const char *fmt,
			  ...) __attribute__((format(printf, 5, 6)));
static int attempt_failed(struct probe_run *r, int64_t now, const char *exp, const char *obs, const char *fmt,
			  ...)
{
	char why[sizeof(r->res->reason)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	conn_close(r);
	if (r->pg_attempts <= r->p->retries && now + PG_RETRY_PAUSE_MS < r->deadline_ms) {
		bs_debug("probe '%s': attempt %d failed: %s; trying again", r->p->name, r->pg_attempts, why);
		r->pg_phase = PG_PAUSE;
		r->pg_attempt_end = now + PG_RETRY_PAUSE_MS;
		return 0;
	}
	return finish(r, now, BS_STATE_FAIL, exp, obs, "%s", why);
}

/* The connection broke, or a call on it failed. */
static int conn_lost(struct probe_run *r, int64_t now, const char *doing)
{
	char srv[PG_SERVER_MAX], msg[PG_MSG_MAX];

	server_name(r->conn, srv, sizeof(srv));
	first_line(msg, sizeof(msg), r->conn ? PQerrorMessage(r->conn) : NULL);
	return attempt_failed(r, now, NULL, "connection lost", "connection to %s lost while %s: %s", srv,
			      doing, msg[0] ? msg : "no reason given");
}

/* PQconnectPoll failed; before: the status it was called in. */
static int connect_failed(struct probe_run *r, int64_t now, ConnStatusType before)
{
	const char *em = PQerrorMessage(r->conn);
	char srv[PG_SERVER_MAX], msg[PG_MSG_MAX], state[6], took[32];

	server_name(r->conn, srv, sizeof(srv));
	probe_secs(since_start(r, now), took, sizeof(took));
	if (server_error(em, state, msg, sizeof(msg)))
		return attempt_failed(r, now, NULL, state, "server %s rejected the connection: %s (%s)", srv,
				      msg, state);
	if (PQconnectionNeedsPassword(r->conn))
		return attempt_failed(
		    r, now, NULL, "password required",
		    "server %s rejected the connection: it asks for a password and none was given", srv);
	short_error(em, PQhost(r->conn), msg, sizeof(msg));
	if (before == CONNECTION_NEEDED || before == CONNECTION_STARTED)
		return attempt_failed(r, now, NULL, msg, "no response from %s (%s) after %s", srv, msg, took);
	/* connected, then the handshake failed (SSL, a server that is not
	 * PostgreSQL, a connection closed before any answer) */
	return attempt_failed(r, now, NULL, msg, "no usable answer from %s (%s) after %s", srv, msg, took);
}

/* The attempt's time is up (the round's deadline is the loop's to report). */
static int attempt_timeout(struct probe_run *r, int64_t now)
{
	char srv[PG_SERVER_MAX], lim[32];
	const char *doing = "running the query";

	if (r->pg_phase == PG_LAG)
		doing = "checking replication lag";
	else if (r->pg_phase == PG_CONNECTING)
		doing = !r->conn || PQstatus(r->conn) == CONNECTION_STARTED ||
				PQstatus(r->conn) == CONNECTION_NEEDED
			    ? "connecting"
			    : "logging in";
	server_name(r->conn, srv, sizeof(srv));
	probe_secs((double)r->p->timeout_ms / 1000.0, lim, sizeof(lim));
	return attempt_failed(r, now, NULL, "timeout", "no answer from %s within %s (%s)", srv, lim, doing);
}

/* ---- a successful end ------------------------------------------------------- */

/* "connected to H in T[; query returned 'v'][; more]" */
static int finish_ok(struct probe_run *r, int64_t now, enum bs_state st, const char *exp, const char *obs,
		     const char *more)
{
	char srv[PG_SERVER_MAX], took[32], v[PG_SHOWN_MAX], e[PG_SHOWN_MAX];

	server_name(r->conn, srv, sizeof(srv));
	probe_secs(r->res->t_connect, took, sizeof(took));
	if (r->pg_value && !exp && !obs) { /* the query's value is the observation */
		exp = r->p->expect ? shown(r->p->expect, e, sizeof(e)) : NULL;
		obs = shown(r->pg_value, v, sizeof(v));
	}
	return finish(r, now, st, exp, obs ? obs : "connected", "connected to %s in %s%s%s%s%s%s", srv, took,
		      r->pg_value ? "; query returned '" : "",
		      r->pg_value ? shown(r->pg_value, v, sizeof(v)) : "", r->pg_value ? "'" : "",
		      more ? "; " : "", more ? more : "");
}

/* ---- queries ---------------------------------------------------------------- */

/* Send sql (one statement, extended protocol) and wait for its answer. */
static int send_query(struct probe_run *r, int64_t now, const char *sql, int phase)
{
	const char *doing = phase == PG_LAG ? "checking replication lag" : "sending the query";
	int f;

	if (!PQsendQueryParams(r->conn, sql, 0, NULL, NULL, NULL, NULL, 0))
		return conn_lost(r, now, doing);
	f = PQflush(r->conn);
	if (f < 0)
		return conn_lost(r, now, doing);
	r->pg_phase = phase;
	r->pg_fd = PQsocket(r->conn);
	r->pg_events = f ? BS_HTTP_WAIT_IN | BS_HTTP_WAIT_OUT : BS_HTTP_WAIT_IN;
	return 0;
}

/* Move the query along without waiting: -1 the connection failed, 0 the
 * server is not done, 1 *out is the next result (NULL: no more). */
static int pump(struct probe_run *r, PGresult **out)
{
	*out = NULL;
	if (r->pg_events & BS_HTTP_WAIT_OUT) {
		int f = PQflush(r->conn);

		if (f < 0)
			return -1;
		r->pg_events = f ? BS_HTTP_WAIT_IN | BS_HTTP_WAIT_OUT : BS_HTTP_WAIT_IN;
	}
	if (!PQconsumeInput(r->conn))
		return -1;
	if (PQisBusy(r->conn))
		return 0;
	*out = PQgetResult(r->conn);
	return 1;
}

static int result_failed(const PGresult *res)
{
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

	return st == PGRES_FATAL_ERROR || st == PGRES_NONFATAL_ERROR || st == PGRES_BAD_RESPONSE;
}

/* "relation \"x\" does not exist (42P01)" into msg; the SQLSTATE into state. */
static void result_error(PGconn *c, const PGresult *res, char *msg, size_t n, char state[6])
{
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *code = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	char m[PG_MSG_MAX];

	first_line(m, sizeof(m), primary ? primary : PQerrorMessage(c));
	snprintf(state, 6, "%s", code ? code : "");
	if (state[0])
		snprintf(msg, n, "%s (%s)", m[0] ? m : "error", state);
	else
		snprintf(msg, n, "%s", m[0] ? m : "error without a message");
}

/* The probe's query answered: keep its first value.  Returns 1 when the
 * attempt ended (failed), 0 to go on. */
static int judge_query(struct probe_run *r, int64_t now, const PGresult *res)
{
	const struct bs_probe *p = r->p;
	char msg[PG_MSG_MAX + 16], state[6], v[PG_SHOWN_MAX], e[PG_SHOWN_MAX];

	if (result_failed(res)) {
		result_error(r->conn, res, msg, sizeof(msg), state);
		return attempt_failed(r, now, NULL, state[0] ? state : "error", "query failed: %s", msg);
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) < 1 || PQnfields(res) < 1)
		return attempt_failed(r, now, p->expect ? shown(p->expect, e, sizeof(e)) : NULL, "no rows",
				      "query returned no rows");
	r->pg_value = strdup(PQgetisnull(res, 0, 0) ? "null" : PQgetvalue(res, 0, 0));
	if (!r->pg_value)
		return finish(r, now, BS_STATE_UNKNOWN, NULL, NULL, "out of memory");
	if (p->expect && strcmp(r->pg_value, p->expect) != 0) {
		shown(p->expect, e, sizeof(e));
		shown(r->pg_value, v, sizeof(v));
		return attempt_failed(r, now, e, v, "query returned '%s' (expected '%s')", v, e);
	}
	return 0;
}

/* The lag query answered: the probe's verdict.  Returns 1 when the attempt
 * ended (which it always does, but for a retry). */
static int judge_lag(struct probe_run *r, int64_t now, const PGresult *res)
{
	char msg[PG_MSG_MAX + 16], state[6], srv[PG_SERVER_MAX], lag[32], lim[32], exp[48], more[128];
	long long ms;

	server_name(r->conn, srv, sizeof(srv));
	if (result_failed(res)) {
		result_error(r->conn, res, msg, sizeof(msg), state);
		return finish(r, now, BS_STATE_UNKNOWN, NULL, state[0] ? state : NULL,
			      "cannot check the replication lag of %s: %s", srv, msg);
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 || PQnfields(res) != 2)
		return finish(r, now, BS_STATE_UNKNOWN, NULL, NULL,
			      "cannot check the replication lag of %s: unexpected answer", srv);
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0)
		return finish_ok(r, now, BS_STATE_OK, NULL, NULL,
				 "not a standby: no replication lag to check");
	if (PQgetisnull(res, 0, 1))
		return finish(r, now, BS_STATE_UNKNOWN, NULL, "no replay",
			      "standby %s has replayed nothing yet: no replication lag to measure", srv);
	ms = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	if (ms < 0) /* the standby's clock behind the primary's */
		ms = 0;
	r->res->lag_s = (double)ms / 1000.0;
	probe_secs(r->res->lag_s, lag, sizeof(lag));
	probe_secs((double)r->p->max_lag_ms / 1000.0, lim, sizeof(lim));
	snprintf(exp, sizeof(exp), "at most %s", lim);
	if (ms > r->p->max_lag_ms)
		return attempt_failed(r, now, exp, lag, "replication lag of %s is %s (expected at most %s)",
				      srv, lag, lim);
	snprintf(more, sizeof(more), "replication lag %s (at most %s)", lag, lim);
	return finish_ok(r, now, BS_STATE_OK, exp, lag, more);
}

/* ---- the phases -------------------------------------------------------------- */

/* A new connection.  Returns 1 when the probe ended already. */
static int attempt_begin(struct probe_run *r, int64_t now)
{
	/* application_name before dbname: the user's conninfo may override it */
	const char *keys[] = { "application_name", "dbname", NULL };
	const char *vals[] = { "backstop-probe", r->p->conninfo ? r->p->conninfo : "", NULL };

	free(r->pg_value);
	r->pg_value = NULL;
	r->pg_attempts++;
	r->res->attempts = r->pg_attempts;
	r->pg_phase = PG_CONNECTING;
	r->pg_attempt_end = now + probe_budget_ms(r, now);
	r->conn = PQconnectStartParams(keys, vals, 1);
	if (!r->conn)
		return finish(r, now, BS_STATE_UNKNOWN, NULL, NULL, "out of memory");
	/* before the server can answer: its error then carries the SQLSTATE */
	PQsetErrorVerbosity(r->conn, PQERRORS_VERBOSE);
	if (PQstatus(r->conn) == CONNECTION_BAD)
		return connect_failed(r, now, CONNECTION_NEEDED);
	r->pg_fd = PQsocket(r->conn);
	r->pg_events = BS_HTTP_WAIT_OUT; /* as if PQconnectPoll said PGRES_POLLING_WRITING */
	return 0;
}

/* Connected: the query, the lag query, or done. */
static int connected(struct probe_run *r, int64_t now)
{
	r->res->t_connect = since_start(r, now);
	PQsetErrorVerbosity(r->conn, PQERRORS_DEFAULT);
	if (PQsetnonblocking(r->conn, 1) != 0)
		return conn_lost(r, now, "setting up the session");
	if (r->p->query)
		return send_query(r, now, r->p->query, PG_QUERY);
	if (r->p->max_lag_ms > 0)
		return send_query(r, now, lag_sql, PG_LAG);
	return finish_ok(r, now, BS_STATE_OK, NULL, NULL, NULL);
}

static int step_connect(struct probe_run *r, int64_t now)
{
	int i;

	for (i = 0; i < PG_POLLS_MAX && fd_ready(r->pg_fd, r->pg_events); i++) {
		ConnStatusType before = PQstatus(r->conn);

		switch (PQconnectPoll(r->conn)) {
		case PGRES_POLLING_OK:
			return connected(r, now);
		case PGRES_POLLING_FAILED:
			return connect_failed(r, now, before);
		case PGRES_POLLING_READING:
			r->pg_events = BS_HTTP_WAIT_IN;
			break;
		default:
			r->pg_events = BS_HTTP_WAIT_OUT;
			break;
		}
		r->pg_fd = PQsocket(r->conn);
	}
	return 0;
}

static int step_query(struct probe_run *r, int64_t now)
{
	PGresult *res;
	int rc;

	while (r->pg_phase == PG_QUERY || r->pg_phase == PG_LAG) {
		rc = pump(r, &res);
		if (rc < 0)
			return conn_lost(
			    r, now, r->pg_phase == PG_LAG ? "checking replication lag" : "running the query");
		if (rc == 0)
			return 0;
		if (r->pg_phase == PG_LAG) {
			rc = judge_lag(r, now, res);
			PQclear(res);
			return rc;
		}
		if (!r->pg_value) { /* the query's result */
			rc = judge_query(r, now, res);
			PQclear(res);
			if (rc || r->pg_phase != PG_QUERY)
				return rc;
			if (r->p->max_lag_ms <= 0)
				return finish_ok(r, now, BS_STATE_OK, NULL, NULL, NULL);
		} else if (res) { /* the end of the query's results is still to come */
			PQclear(res);
		} else if (send_query(r, now, lag_sql, PG_LAG)) {
			return 1;
		}
	}
	return r->pg_phase == PG_FINISHED;
}

/* ---- the interface ------------------------------------------------------------ */

/* A malformed conninfo is the configuration's fault: UNKNOWN, never
 * retried.  Returns 1 when it is one. */
static int conninfo_invalid(struct probe_run *r, int64_t now)
{
	const char *ci = r->p->conninfo;
	PQconninfoOption *opts;
	char *msg = NULL, m[PG_MSG_MAX];
	int quiet;

	if (!ci || !bs_pg_conninfo_is_string(ci))
		return 0;
	opts = PQconninfoParse(ci, &msg);
	if (opts) {
		PQconninfoFree(opts);
		return 0;
	}
	/* libpq's message may quote a piece of the string: only without secrets */
	quiet = strstr(ci, "password") || strchr(ci, '@');
	first_line(m, sizeof(m), msg ? msg : "out of memory");
	PQfreemem(msg);
	return finish(r, now, BS_STATE_UNKNOWN, NULL, NULL, "invalid conninfo%s%s", quiet ? "" : ": ",
		      quiet ? "" : m);
}

void probe_pg_start(struct probe_run *r, int64_t now_ms)
{
	r->conn = NULL;
	r->pg_value = NULL;
	r->pg_attempts = 0;
	r->pg_fd = -1;
	r->pg_events = 0;
	r->res->lag_s = -1;
	r->res->attempts = 0;
	if (!conninfo_invalid(r, now_ms))
		attempt_begin(r, now_ms);
}

int probe_pg_step(struct probe_run *r, int64_t now_ms)
{
	switch (r->pg_phase) {
	case PG_FINISHED:
		break;
	case PG_PAUSE:
		if (now_ms >= r->pg_attempt_end && attempt_begin(r, now_ms) == 0)
			step_connect(r, now_ms);
		break;
	case PG_CONNECTING:
		step_connect(r, now_ms);
		break;
	default:
		step_query(r, now_ms);
		break;
	}
	if (r->pg_phase != PG_FINISHED && r->pg_phase != PG_PAUSE && now_ms >= r->pg_attempt_end &&
	    r->pg_attempt_end < r->deadline_ms)
		attempt_timeout(r, now_ms);
	if (r->pg_phase != PG_FINISHED)
		return 0;
	r->done = 1;
	return 1;
}

void probe_pg_stop(struct probe_run *r)
{
	conn_close(r);
	free(r->pg_value);
	r->pg_value = NULL;
}
