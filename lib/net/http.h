/*
 * http.h - the one HTTP client: a libcurl multi loop running many transfers
 * at once, each with its own retry state.
 *
 * Users: object storage (S3, Azure Blob), probe, webhooks, the OCI registry
 * driver.  Nothing else in backstop speaks HTTP.
 *
 *   struct bs_http *c = bs_http_new(&opts, &err);     (opts may be NULL)
 *   struct bs_http_req r = { .method = "GET", .url = u };
 *   if (bs_http_do(c, &r, &err) < 0) ... r.res.status, r.res.transient ...
 *   bs_http_req_release(&r);
 *   bs_http_free(c);
 *
 * Many at once: bs_http_run(c, reqs, n, &err) runs an array to completion;
 * or keep a window of transfers in flight (multipart upload parts):
 * bs_http_add() each, and bs_http_next() hands back completed ones.
 *
 * Success is a completed transfer with a 2xx status.  Anything else is a
 * failure of that request: its res.err is filled (code BS_ERR_NET, or the
 * error a body reader/sink returned, or BS_ERR_INTERRUPTED), and res.status,
 * res.curl_code and res.transient say what happened.  Callers that expect a
 * given non-2xx answer (404 on a HEAD, 412 on a conditional PUT) test
 * res.status; a bounded copy of an error body is in res.body for them to
 * read (S3/Azure error XML: see net/xml.h).
 *
 * Retries (inside the loop, never blocking other transfers).  An attempt is
 * transient when it ended with: connection refused/reset, send/receive error,
 * empty reply, partial body, timeout or stall (the low-speed limit), DNS or
 * TLS handshake failure that is not a verification failure, or HTTP 408, 429,
 * 500, 502, 503, 504.  A transient attempt is retried while attempts remain
 * (retry.max_attempts, or req->max_attempts) and the total budget allows:
 * the wait is Retry-After when the server sent one (seconds or an HTTP-date),
 * else exponential backoff with jitter: a random value in
 * [d/2, d] for d = min(retry.max_ms, retry.base_ms * 2^(attempt-1)).  A
 * retry is not made when its wait would end after start + retry.budget_ms
 * (Retry-After is not shortened: waiting less than the server asked is
 * pointless), so the budget caps the time spent retrying; a single attempt
 * in progress is bounded by timeout_ms and the low-speed limit instead (a
 * long streaming download is not cut by the budget).  Every retry is logged
 * with bs_warn: method, URL without query string or user info, the status
 * or curl error, attempt n/m and the wait.  A request body must be sent
 * again on retry: a memory body always can; a reader needs a rewind
 * function, and a streaming sink a reset function, else the failure is
 * final (transient flag still set so the caller may retry at a higher
 * level).  Non-transient failures (4xx other than 408/429, TLS verification,
 * a body over the limit, a reader/sink error) are never retried.
 *
 * TLS: peer and host name verification are always on; there is no option to
 * turn them off.  ca_file replaces the system CA bundle.  Only http and https
 * URLs are accepted (also after redirects, which are followed only when the
 * request asks).
 *
 * Secrets: request headers are never logged (Authorization, x-amz-*,
 * x-ms-* carry keys and signatures), nor URL query strings (presigned URLs,
 * SAS tokens) or user info.  Error messages use the same redacted URL.
 *
 * Threads: a client and its requests belong to one thread at a time.
 * Several clients may be used by several threads.
 *
 * Idempotence: a retry sends the request again, so a POST whose effect
 * must not happen twice (rare: webhooks tolerate duplicates, S3 and Azure
 * writes are idempotent) sets max_attempts = 1 and decides itself.
 *
 * Ownership: bs_http_new copies opts and its strings (opts may go away
 * after it returns; only *cancel is read later and must outlive the
 * client).  The caller owns every struct bs_http_req, which must be
 * zero-initialised before its first use, and the URL, headers, body and
 * reader/sink it points to; all must stay valid until the request is
 * returned by bs_http_next (or bs_http_run/bs_http_do return).  res.body
 * and res.headers belong to the request and are freed by
 * bs_http_req_release (and on reuse by bs_http_add).
 *
 * Scale: bs_http_run suits tens to hundreds of requests; for thousands,
 * keep a window of a few hundred in flight with bs_http_add/bs_http_next.
 *
 * Probes (probe/) ask more of a request: a per-request timeout, CA bundle
 * and client certificate; a fresh connection (so connect and TLS times are
 * measured, not skipped by reuse); the time split of the last attempt
 * (res.timing); a connection alone, with nothing sent (connect_only: a TCP
 * check, or with https a TLS handshake); and, only together with
 * connect_only, inspect_tls: a handshake WITHOUT verification that keeps
 * the certificates the server sent (res.certs) for the caller to verify
 * and judge itself.  No request is ever sent over an unverified
 * connection.  Other sockets (libpq's non-blocking connections) can share
 * the loop's wait: bs_http_next_fds.
 */
#ifndef BS_NET_HTTP_H
#define BS_NET_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

struct bs_http;
struct bs_http_xfer;

struct bs_http_retry {
	int max_attempts; /* attempts in all, first one included; default 5 */
	long base_ms;	  /* first backoff before jitter; default 250 */
	long max_ms;	  /* backoff cap; default 20000 */
	long budget_ms;	  /* no retry wait ends later than start + budget; default 120000 */
};

struct bs_http_opts {
	const char *ca_file;	 /* PEM CA bundle; NULL = system default */
	const char *user_agent;	 /* NULL = "backstop/<version>" */
	long connect_timeout_ms; /* default 10000 */
	long timeout_ms;	 /* per attempt, whole transfer; 0 = none (default) */
	long low_speed_bytes;	 /* a stall: below this many bytes/s ... (default 1) */
	long low_speed_secs;	 /* ... for this long ends the attempt (default 30) */
	size_t max_body;	 /* bound of an in-memory response body; default 8 MiB */
	int max_parallel;	 /* transfers running at once; more are queued; default 16 */
	struct bs_http_retry retry;
	/* Optional: when *cancel becomes non-zero (e.g. set by a signal
	 * callback), every transfer ends with BS_ERR_INTERRUPTED within ~100 ms. */
	const volatile int *cancel;
};

/* A request body read in pieces (streaming uploads).  read returns bytes
 * (>0), 0 at the end, or -1 with err set.  rewind (optional) goes back to
 * the start for a retry; without it a failed attempt is not retried.
 * size is the exact length, or -1 when unknown (chunked encoding). */
struct bs_http_reader {
	ssize_t (*read)(void *priv, void *buf, size_t len, struct bs_err *err);
	int (*rewind)(void *priv, struct bs_err *err);
	void *priv;
	int64_t size;
};

/* Where a 2xx response body goes when it is not kept in memory (streaming
 * downloads).  write returns 0 or -1 with err set.  reset (optional) drops
 * what was written so far, for a retry; without it an attempt that already
 * wrote to the sink is not retried.  Non-2xx bodies never reach the sink:
 * they go to res.body (truncated to max_body). */
struct bs_http_sink {
	int (*write)(void *priv, const void *buf, size_t len, struct bs_err *err);
	int (*reset)(void *priv, struct bs_err *err);
	void *priv;
};

struct bs_http_result {
	int ok;		 /* 1: 2xx and the body fully delivered */
	long status;	 /* HTTP status of the last attempt, 0 when none arrived */
	int curl_code;	 /* CURLcode of the last attempt (0 = CURLE_OK) */
	int transient;	 /* the failure was of a kind worth retrying */
	int attempts;	 /* attempts made */
	long elapsed_ms; /* from the first attempt's start to completion */
	char *body;	 /* NUL-terminated; the 2xx body (no sink) or the error body */
	size_t body_len;
	char *headers; /* last response's header lines, NUL-separated; see bs_http_header */
	size_t headers_len;
	/* seconds from the start of the last attempt until: connected (TCP),
	 * TLS handshake done (0 for http), first response byte, the end */
	struct bs_http_timing {
		double connect, tls, first_byte, total;
	} timing;
	char **certs; /* inspect_tls: PEM of each certificate sent, leaf first */
	size_t ncerts;
	struct bs_err err; /* when !ok */
};

struct bs_http_req {
	/* in */
	const char *method;	    /* "GET" (default when NULL), "HEAD", "PUT", "POST", "DELETE" ... */
	const char *url;	    /* http:// or https:// */
	const char *const *headers; /* NULL-terminated "Name: value" lines, or NULL */
	const void *body;	    /* memory body (sent again on retry) ... */
	size_t body_len;
	const struct bs_http_reader *reader; /* ... or a streamed one (not both) */
	const struct bs_http_sink *sink;     /* NULL: a 2xx body goes to res.body, bounded */
	int64_t range_off;		     /* Range: bytes=off-(off+len-1) when range_len > 0, */
	int64_t range_len;		     /* bytes=off- when range_len < 0, none when 0 */
	int max_attempts;		     /* 0 = client policy; 1 = never retry */
	int follow_redirects;		     /* follow up to 5 redirects (http/https only) */
	long timeout_ms;		     /* per attempt, whole transfer; 0 = the client's */
	const char *ca_file;		     /* PEM CA bundle for this request; NULL = the client's */
	const char *client_cert;	     /* PEM client certificate (TLS client authentication) */
	const char *client_key;		     /* its PEM private key; NULL = in client_cert */
	int fresh_connect;		     /* open a new connection, and do not keep it */
	const char *connect_to;		     /* "HOST:PORT:ADDR:PORT": connect to ADDR for HOST (SNI) */
	int connect_only;		     /* connect (and TLS handshake for https), send nothing */
	int inspect_tls;		     /* with connect_only: no verification, keep res.certs */
	const char *log_name;		     /* shown instead of the URL in logs and errors (a
					      * webhook's URL carries its secret in the path) */
	void *user;			     /* for the caller */
	/* out */
	struct bs_http_result res;
	/* private to the client */
	struct bs_http_xfer *xfer_;
};

/* Fill opts with the defaults above (then change what you need). */
void bs_http_opts_default(struct bs_http_opts *opts);

/* Create a client.  opts NULL = defaults; zero fields also take defaults. */
struct bs_http *bs_http_new(const struct bs_http_opts *opts, struct bs_err *err);
/* Abort transfers still in flight (their requests are left failed with
 * BS_ERR_INTERRUPTED) and free the client.  NULL is a no-op. */
void bs_http_free(struct bs_http *c);

/* Start a request (queued if max_parallel are running).  req is reset
 * (previous results released) and must stay valid until bs_http_next
 * returns it.  Returns 0, or -1 with err set (bad request). */
int bs_http_add(struct bs_http *c, struct bs_http_req *req, struct bs_err *err);

/* Drive transfers until one completes and return it, or return NULL when
 * nothing is in flight or max_wait_ms passed (-1 = no limit: every transfer
 * ends by its own timeouts and budget).  Completed requests are returned in
 * completion order, each exactly once. */
struct bs_http_req *bs_http_next(struct bs_http *c, long max_wait_ms);

/* bs_http_next that also wakes up for other sockets: it returns NULL as
 * well when one of fds (events BS_HTTP_WAIT_IN/OUT) is ready (its revents
 * set) or max_wait_ms passed.  With no transfer in flight it waits on fds
 * alone.  fds may be NULL when nfds is 0. */
#define BS_HTTP_WAIT_IN 0x1
#define BS_HTTP_WAIT_OUT 0x4
struct bs_http_waitfd {
	int fd;
	short events, revents;
};
struct bs_http_req *bs_http_next_fds(struct bs_http *c, long max_wait_ms, struct bs_http_waitfd *fds,
				     size_t nfds);

/* Requests added and not yet returned by bs_http_next. */
size_t bs_http_pending(const struct bs_http *c);

/* Run n requests concurrently to completion.  Returns 0 when all succeeded;
 * else -1 with err a copy of the first failed request's (by index) res.err,
 * prefixed with how many failed.  Each request's own result says the rest. */
int bs_http_run(struct bs_http *c, struct bs_http_req *reqs, size_t n, struct bs_err *err);

/* One request, synchronously.  Returns 0 on success, else -1 with err a
 * copy of req->res.err. */
int bs_http_do(struct bs_http *c, struct bs_http_req *req, struct bs_err *err);

/* Value of response header name (case-insensitive) of the last response,
 * trimmed; NULL when absent.  Points into res->headers. */
const char *bs_http_header(const struct bs_http_result *res, const char *name);

/* Free res.body, res.headers and res.certs.  The request can be added again. */
void bs_http_req_release(struct bs_http_req *req);

/* Copy url into out (size outsz) without user info, query string or
 * fragment: what logs and error messages show. */
void bs_http_redact_url(const char *url, char *out, size_t outsz);

#endif
