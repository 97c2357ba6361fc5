/*
 * http_int.h - internals of the HTTP client (lib/net/http*.c only).
 *
 * A request being run has one struct bs_http_xfer, owned by the client from
 * bs_http_add until bs_http_next returns the request (then freed).  Its
 * states: QUEUED (waiting for a slot under max_parallel, or a retry whose
 * wait is over), RUNNING (easy handle in the multi handle), WAITING (backoff
 * before the next attempt, until wake_ms), DONE (in the done queue).
 */
#ifndef BS_NET_HTTP_INT_H
#define BS_NET_HTTP_INT_H

#include <curl/curl.h>
#include <stdint.h>
#include <time.h>

#include "net/http.h"

#define BS_HTTP_MAX_HEADERS (64 * 1024) /* bound of kept response headers */

enum bs_http_state { BS_X_QUEUED, BS_X_RUNNING, BS_X_WAITING, BS_X_DONE };

struct bs_http_xfer {
	struct bs_http *c;
	struct bs_http_req *req;
	struct bs_http_xfer *next; /* in c->active or c->done */
	enum bs_http_state state;
	CURL *easy;
	struct curl_slist *hdrs;
	struct curl_slist *connect_to;
	char errbuf[CURL_ERROR_SIZE];
	char range[64];
	char url_log[512]; /* redacted URL for logs and messages */
	const char *method;
	int max_attempts;
	int64_t start_ms; /* first attempt */
	int64_t wake_ms;  /* WAITING: when to start the next attempt */
	/* per attempt */
	size_t body_off; /* memory body: bytes handed to curl */
	size_t body_cap; /* allocated size of res.body */
	size_t headers_cap;
	long status;   /* from the last status line seen */
	int sink_used; /* bytes went to the sink this request */
	int too_big;   /* the 2xx body exceeds max_body */
	int cb_failed; /* reader or sink failed: res.err is set */
};

struct bs_http {
	CURLM *multi;
	struct bs_http_opts opts; /* ca_file/user_agent point to the copies */
	char *ca_file;
	char *user_agent;
	struct bs_http_xfer *active; /* QUEUED, RUNNING, WAITING */
	struct bs_http_xfer *done;   /* FIFO of DONE */
	struct bs_http_xfer *done_tail;
	size_t running;
	size_t pending; /* added and not yet returned */
	uint32_t rnd;
};

/* http_xfer.c */
int bs_http_xfer_setup(struct bs_http_xfer *x, struct bs_err *err);
/* Prepare and start an attempt (rewinds the body, resets per-attempt
 * state).  Returns 0, or -1 with x->req->res.err set (request failed). */
int bs_http_xfer_begin(struct bs_http_xfer *x);
/* An attempt ended with curl code rc: decide success, retry (returns 1,
 * state WAITING) or final failure (returns 0, res filled). */
int bs_http_xfer_end(struct bs_http_xfer *x, CURLcode rc, int64_t now_ms);
void bs_http_xfer_free(struct bs_http_xfer *x);
void bs_http_certs_free(struct bs_http_result *res);

/* http_retry.c: pure policy, unit-tested on its own */
int64_t bs_http_now_ms(void);
int bs_http_status_transient(long status);
int bs_http_curl_transient(int curl_code);
/* Backoff before attempt+1 after attempt (1-based) failed; rnd is random. */
long bs_http_backoff_ms(const struct bs_http_retry *r, int attempt, uint32_t rnd);
/* Retry-After value (delta seconds or an HTTP-date) in ms from now (wall
 * clock now), 0 for a date in the past, -1 when absent or unparsable. */
long bs_http_retry_after_ms(const char *value, time_t now);
uint32_t bs_http_rand(uint32_t *state);

#endif
