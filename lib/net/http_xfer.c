/* http_xfer.c - one request's easy handle: options, callbacks, and what an
 * ended attempt means (success, retry after a wait, or final failure). */
#include "net/http_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"

static int is_2xx(long status)
{
	return status >= 200 && status < 300;
}

/* Append to a bounded, NUL-terminated heap buffer.  Returns the bytes kept
 * (fewer than len when the bound is reached), or -1 without memory. */
static long buf_append(char **buf, size_t *len, size_t *cap, size_t max, const void *p, size_t n)
{
	size_t keep = n;

	if (*len >= max)
		return 0;
	if (keep > max - *len)
		keep = max - *len;
	if (*len + keep + 1 > *cap) {
		size_t ncap = *cap ? *cap : 1024;
		char *nb;

		while (ncap < *len + keep + 1)
			ncap *= 2;
		if (ncap > max + 1)
			ncap = max + 1;
		nb = realloc(*buf, ncap);
		if (!nb)
			return -1;
		*buf = nb;
		*cap = ncap;
	}
	memcpy(*buf + *len, p, keep);
	*len += keep;
	(*buf)[*len] = '\0';
	return (long)keep;
}

static size_t on_header(char *data, size_t size, size_t nitems, void *ud)
{
	struct bs_http_xfer *x = ud;
	struct bs_http_result *res = &x->req->res;
	size_t n = size * nitems, len = n;

	while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	if (len > 5 && strncmp(data, "HTTP/", 5) == 0) {
		/* a new response (after 100-continue or a redirect) starts over */
		const char *sp = memchr(data, ' ', len);

		x->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		res->headers_len = 0;
		res->body_len = 0;
		if (res->body)
			res->body[0] = '\0';
		return n;
	}
	if (!len)
		return n;
	if (buf_append(&res->headers, &res->headers_len, &x->headers_cap, BS_HTTP_MAX_HEADERS - 1, data,
		       len) == (long)len)
		buf_append(&res->headers, &res->headers_len, &x->headers_cap, BS_HTTP_MAX_HEADERS, "", 1);
	/* a 2xx body we keep in memory and know is too big: refuse it now */
	if (is_2xx(x->status) && !x->req->sink && len > 15 && strncasecmp(data, "content-length:", 15) == 0) {
		unsigned long long cl = strtoull(data + 15, NULL, 10);

		if (cl > x->c->opts.max_body && strcmp(x->method, "HEAD") != 0) {
			x->too_big = 1;
			return 0;
		}
	}
	return n;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct bs_http_xfer *x = ud;
	struct bs_http_req *req = x->req;
	struct bs_http_result *res = &req->res;
	size_t n = size * nmemb;
	long kept;

	if (is_2xx(x->status) && req->sink) {
		x->sink_used = 1;
		if (req->sink->write(req->sink->priv, data, n, &res->err) < 0) {
			x->cb_failed = 1;
			return 0;
		}
		return n;
	}
	kept = buf_append(&res->body, &res->body_len, &x->body_cap, x->c->opts.max_body, data, n);
	if (kept < 0) {
		x->cb_failed = 1;
		bs_err_set(&res->err, BS_ERR_NOMEM, "out of memory reading the response of %s '%s'",
			   x->method, x->url_log);
		return 0;
	}
	if ((size_t)kept < n && is_2xx(x->status)) {
		x->too_big = 1;
		return 0;
	}
	return n; /* an error body is only kept up to the bound */
}

static size_t on_read(char *buf, size_t size, size_t nitems, void *ud)
{
	struct bs_http_xfer *x = ud;
	struct bs_http_req *req = x->req;
	size_t n = size * nitems;
	ssize_t got;

	if (!req->reader) {
		if (n > req->body_len - x->body_off)
			n = req->body_len - x->body_off;
		if (n)
			memcpy(buf, (const char *)req->body + x->body_off, n);
		x->body_off += n;
		return n;
	}
	got = req->reader->read(req->reader->priv, buf, n, &req->res.err);
	if (got < 0) {
		x->cb_failed = 1;
		return CURL_READFUNC_ABORT;
	}
	return (size_t)got;
}

static int rewind_body(struct bs_http_xfer *x)
{
	struct bs_http_req *req = x->req;

	x->body_off = 0;
	if (!req->reader)
		return 0;
	if (!req->reader->rewind)
		return bs_err_set(&req->res.err, BS_ERR_NET, "cannot send the body of %s '%s' again",
				  x->method, x->url_log);
	return req->reader->rewind(req->reader->priv, &req->res.err);
}

static int on_seek(void *ud, curl_off_t offset, int origin)
{
	struct bs_http_xfer *x = ud;

	/* curl rewinds to resend after a redirect or an auth negotiation */
	if (offset != 0 || origin != SEEK_SET)
		return CURL_SEEKFUNC_CANTSEEK;
	if (x->req->reader && !x->req->reader->rewind)
		return CURL_SEEKFUNC_CANTSEEK;
	return rewind_body(x) < 0 ? CURL_SEEKFUNC_FAIL : CURL_SEEKFUNC_OK;
}

static int set_method(struct bs_http_xfer *x, struct bs_err *err)
{
	struct bs_http_req *req = x->req;
	CURL *e = x->easy;
	int has_body = req->body_len > 0 || req->reader;
	curl_off_t size = req->reader ? (curl_off_t)req->reader->size : (curl_off_t)req->body_len;

	if (req->body_len && req->reader)
		return bs_err_set(err, BS_ERR_INTERNAL, "http request to '%s' has both a body and a reader",
				  x->url_log);
	if (!strcmp(x->method, "GET") || !strcmp(x->method, "HEAD")) {
		if (has_body)
			return bs_err_set(err, BS_ERR_INTERNAL, "a %s request cannot have a body ('%s')",
					  x->method, x->url_log);
		if (!strcmp(x->method, "HEAD"))
			curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
		else
			curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
		return 0;
	}
	if (!strcmp(x->method, "POST")) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, size);
	} else if (!strcmp(x->method, "PUT") || has_body) {
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, size);
		if (strcmp(x->method, "PUT"))
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, x->method);
	} else {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, x->method);
	}
	if (!strcmp(x->method, "POST") && size < 0) {
		struct curl_slist *h = curl_slist_append(x->hdrs, "Transfer-Encoding: chunked");

		if (!h)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		x->hdrs = h;
	}
	curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(e, CURLOPT_READDATA, x);
	curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
	curl_easy_setopt(e, CURLOPT_SEEKDATA, x);
	return 0;
}

static int set_headers(struct bs_http_xfer *x, struct bs_err *err)
{
	const char *const *h;

	for (h = x->req->headers; h && *h; h++) {
		struct curl_slist *n = curl_slist_append(x->hdrs, *h);

		if (!n)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		x->hdrs = n;
	}
	return 0;
}

/* Options that do not change between attempts. */
int bs_http_xfer_setup(struct bs_http_xfer *x, struct bs_err *err)
{
	const struct bs_http_opts *o = &x->c->opts;
	struct bs_http_req *req = x->req;
	CURL *e;

	if (req->log_name)
		snprintf(x->url_log, sizeof(x->url_log), "%s", req->log_name);
	else
		bs_http_redact_url(req->url, x->url_log, sizeof(x->url_log));
	if (!req->url || (strncasecmp(req->url, "http://", 7) && strncasecmp(req->url, "https://", 8)))
		return bs_err_set(err, BS_ERR_INTERNAL, "unsupported URL '%s': only http and https",
				  x->url_log);
	x->easy = e = curl_easy_init();
	if (!e)
		return bs_err_set(err, BS_ERR_NOMEM, "unable to create a transfer for '%s'", x->url_log);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_URL, req->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, req->follow_redirects ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
	if (req->inspect_tls && !req->connect_only)
		return bs_err_set(err, BS_ERR_INTERNAL, "inspect_tls without connect_only ('%s')", x->url_log);
	/* TLS verification is always on for anything sent; inspect_tls only
	 * reads the certificates of a connection that carries nothing */
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, req->inspect_tls ? 0L : 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, req->inspect_tls ? 0L : 2L);
	if (req->inspect_tls)
		curl_easy_setopt(e, CURLOPT_CERTINFO, 1L);
	if (req->connect_only)
		curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
	if (req->ca_file || x->c->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, req->ca_file ? req->ca_file : x->c->ca_file);
	if (req->client_cert)
		curl_easy_setopt(e, CURLOPT_SSLCERT, req->client_cert);
	if (req->client_key)
		curl_easy_setopt(e, CURLOPT_SSLKEY, req->client_key);
	if (req->connect_to) {
		x->connect_to = curl_slist_append(NULL, req->connect_to);
		if (!x->connect_to)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		curl_easy_setopt(e, CURLOPT_CONNECT_TO, x->connect_to);
	}
	if (req->fresh_connect) {
		curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	}
	curl_easy_setopt(e, CURLOPT_USERAGENT, x->c->user_agent);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : o->timeout_ms);
	if (req->timeout_ms > 0 && req->timeout_ms < o->connect_timeout_ms)
		curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, req->timeout_ms);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, o->low_speed_bytes);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, o->low_speed_secs);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	if (req->range_len > 0)
		snprintf(x->range, sizeof(x->range), "%" PRId64 "-%" PRId64, req->range_off,
			 req->range_off + req->range_len - 1);
	else if (req->range_len < 0)
		snprintf(x->range, sizeof(x->range), "%" PRId64 "-", req->range_off);
	if (x->range[0])
		curl_easy_setopt(e, CURLOPT_RANGE, x->range);
	if (set_headers(x, err) < 0 || set_method(x, err) < 0)
		return -1;
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
	return 0;
}

int bs_http_xfer_begin(struct bs_http_xfer *x)
{
	struct bs_http_req *req = x->req;
	struct bs_http_result *res = &req->res;

	if (res->attempts > 0) {
		if (rewind_body(x) < 0)
			return -1;
		if (x->sink_used && req->sink->reset(req->sink->priv, &res->err) < 0)
			return -1;
	}
	x->sink_used = x->too_big = x->cb_failed = 0;
	x->status = 0;
	x->errbuf[0] = '\0';
	res->body_len = res->headers_len = 0;
	if (res->body)
		res->body[0] = '\0';
	res->attempts++;
	return 0;
}

/* Fill res->err for a failed attempt; returns whether it is transient. */
static int describe_failure(struct bs_http_xfer *x, CURLcode rc)
{
	struct bs_http_result *res = &x->req->res;

	if (x->cb_failed) /* the reader or sink said why in res->err */
		return 0;
	if (x->too_big) {
		bs_err_set(&res->err, BS_ERR_NET, "response to %s '%s' is larger than the limit of %zu bytes",
			   x->method, x->url_log, x->c->opts.max_body);
		return 0;
	}
	if (rc != CURLE_OK) {
		bs_err_set(&res->err, BS_ERR_NET, "%s '%s' failed: %s", x->method, x->url_log,
			   x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
		if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE)
			bs_err_hint(&res->err,
				    "TLS verification is always on: give the CA bundle that signed "
				    "the server's certificate (ca_file)");
		return bs_http_curl_transient(rc);
	}
	bs_err_set(&res->err, BS_ERR_NET, "%s '%s' failed: HTTP %ld", x->method, x->url_log, res->status);
	return bs_http_status_transient(res->status);
}

/* The wait before the next attempt, or -1 when there is none to make. */
static long retry_wait(struct bs_http_xfer *x, int64_t now_ms, int *from_header)
{
	struct bs_http *c = x->c;
	struct bs_http_req *req = x->req;
	struct bs_http_result *res = &req->res;
	long wait = -1;

	*from_header = 0;
	if (res->attempts >= x->max_attempts)
		return -1;
	if ((req->reader && !req->reader->rewind) || (x->sink_used && !req->sink->reset))
		return -1;
	if (res->status)
		wait = bs_http_retry_after_ms(bs_http_header(res, "Retry-After"), time(NULL));
	if (wait >= 0)
		*from_header = 1;
	else
		wait = bs_http_backoff_ms(&c->opts.retry, res->attempts, bs_http_rand(&c->rnd));
	if (now_ms + wait > x->start_ms + c->opts.retry.budget_ms) {
		bs_err_detail(&res->err,
			      "gave up after %d attempt%s: waiting %.1f s more would exceed "
			      "the retry budget of %.1f s",
			      res->attempts, res->attempts == 1 ? "" : "s", wait / 1000.0,
			      c->opts.retry.budget_ms / 1000.0);
		return -1;
	}
	return wait;
}

void bs_http_certs_free(struct bs_http_result *res)
{
	for (size_t i = 0; i < res->ncerts; i++)
		free(res->certs[i]);
	free(res->certs);
	res->certs = NULL;
	res->ncerts = 0;
}

/* The time split of the attempt that just ended. */
static void read_timing(struct bs_http_xfer *x)
{
	struct bs_http_timing *t = &x->req->res.timing;
	curl_off_t us;

	memset(t, 0, sizeof(*t));
	if (curl_easy_getinfo(x->easy, CURLINFO_CONNECT_TIME_T, &us) == CURLE_OK)
		t->connect = us / 1e6;
	if (curl_easy_getinfo(x->easy, CURLINFO_APPCONNECT_TIME_T, &us) == CURLE_OK)
		t->tls = us / 1e6;
	if (curl_easy_getinfo(x->easy, CURLINFO_STARTTRANSFER_TIME_T, &us) == CURLE_OK)
		t->first_byte = us / 1e6;
	if (curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME_T, &us) == CURLE_OK)
		t->total = us / 1e6;
}

/* inspect_tls: keep the PEM of every certificate the server sent. */
static int read_certs(struct bs_http_xfer *x)
{
	struct bs_http_result *res = &x->req->res;
	struct curl_certinfo *ci = NULL;

	bs_http_certs_free(res);
	if (curl_easy_getinfo(x->easy, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci || ci->num_of_certs <= 0)
		return 0;
	res->certs = calloc((size_t)ci->num_of_certs, sizeof(*res->certs));
	if (!res->certs)
		return -1;
	for (int i = 0; i < ci->num_of_certs; i++) {
		for (struct curl_slist *l = ci->certinfo[i]; l; l = l->next) {
			if (strncmp(l->data, "Cert:", 5) == 0) {
				res->certs[res->ncerts] = strdup(l->data + 5);
				if (!res->certs[res->ncerts])
					return -1;
				res->ncerts++;
				break;
			}
		}
	}
	return 0;
}

int bs_http_xfer_end(struct bs_http_xfer *x, CURLcode rc, int64_t now_ms)
{
	struct bs_http_result *res = &x->req->res;
	long wait;
	int from_header;

	res->status = x->status;
	res->curl_code = rc;
	res->elapsed_ms = (long)(now_ms - x->start_ms);
	read_timing(x);
	if (x->req->inspect_tls && rc == CURLE_OK && read_certs(x) < 0) {
		bs_err_set(&res->err, BS_ERR_NOMEM, "out of memory");
		res->ok = 0;
		return 0;
	}
	if (rc == CURLE_OK && x->req->connect_only) {
		res->ok = 1;
		res->transient = 0;
		bs_err_clear(&res->err);
		return 0;
	}
	if (rc == CURLE_OK && is_2xx(x->status) && !x->cb_failed) {
		res->ok = 1;
		res->transient = 0;
		bs_err_clear(&res->err);
		return 0;
	}
	res->ok = 0;
	res->transient = describe_failure(x, rc);
	if (!res->transient)
		return 0;
	wait = retry_wait(x, now_ms, &from_header);
	if (wait < 0) {
		if (!res->err.detail[0])
			bs_err_detail(&res->err, "gave up after %d attempt%s in %.1f s", res->attempts,
				      res->attempts == 1 ? "" : "s", res->elapsed_ms / 1000.0);
		return 0;
	}
	if (rc != CURLE_OK)
		bs_warn("%s %s: %s (attempt %d/%d), retrying in %.2f s", x->method, x->url_log,
			x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc), res->attempts, x->max_attempts,
			wait / 1000.0);
	else
		bs_warn("%s %s: HTTP %ld (attempt %d/%d), retrying in %.2f s%s", x->method, x->url_log,
			res->status, res->attempts, x->max_attempts, wait / 1000.0,
			from_header ? " (Retry-After)" : "");
	x->state = BS_X_WAITING;
	x->wake_ms = now_ms + wait;
	return 1;
}

void bs_http_xfer_free(struct bs_http_xfer *x)
{
	if (!x)
		return;
	if (x->easy)
		curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->hdrs);
	curl_slist_free_all(x->connect_to);
	free(x);
}
