/* http.c - the client: one multi handle, the queue of requests, the loop
 * that runs them and hands completed ones back.  See http.h. */
#include "net/http_int.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#ifndef BS_VERSION
#define BS_VERSION "0"
#endif

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void bs_http_opts_default(struct bs_http_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->connect_timeout_ms = 10000;
	o->low_speed_bytes = 1;
	o->low_speed_secs = 30;
	o->max_body = 8u << 20;
	o->max_parallel = 16;
	o->retry.max_attempts = 5;
	o->retry.base_ms = 250;
	o->retry.max_ms = 20000;
	o->retry.budget_ms = 120000;
}

static void def_long(long *v, long d)
{
	if (*v <= 0)
		*v = d;
}

static void fill_defaults(struct bs_http_opts *o)
{
	struct bs_http_opts d;

	bs_http_opts_default(&d);
	def_long(&o->connect_timeout_ms, d.connect_timeout_ms);
	def_long(&o->low_speed_bytes, d.low_speed_bytes);
	def_long(&o->low_speed_secs, d.low_speed_secs);
	def_long(&o->retry.base_ms, d.retry.base_ms);
	def_long(&o->retry.max_ms, d.retry.max_ms);
	def_long(&o->retry.budget_ms, d.retry.budget_ms);
	if (o->max_parallel <= 0)
		o->max_parallel = d.max_parallel;
	if (o->retry.max_attempts <= 0)
		o->retry.max_attempts = d.retry.max_attempts;
	if (!o->max_body)
		o->max_body = d.max_body;
	if (o->timeout_ms < 0)
		o->timeout_ms = 0;
}

struct bs_http *bs_http_new(const struct bs_http_opts *opts, struct bs_err *err)
{
	struct bs_http *c;

	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK) {
		bs_err_set(err, BS_ERR_NET, "unable to initialise libcurl: %s",
			   curl_easy_strerror(global_rc));
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		return NULL;
	}
	if (opts)
		c->opts = *opts;
	else
		bs_http_opts_default(&c->opts);
	fill_defaults(&c->opts);
	c->ca_file = c->opts.ca_file ? strdup(c->opts.ca_file) : NULL;
	c->user_agent = strdup(c->opts.user_agent ? c->opts.user_agent : "backstop/" BS_VERSION);
	c->opts.ca_file = c->ca_file;
	c->opts.user_agent = c->user_agent;
	c->multi = curl_multi_init();
	c->rnd = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 16) ^ (uint32_t)(uintptr_t)c;
	if (!c->multi || !c->user_agent || (opts && opts->ca_file && !c->ca_file)) {
		bs_err_set(err, BS_ERR_NOMEM, "unable to create the HTTP client: out of memory");
		bs_http_free(c);
		return NULL;
	}
	return c;
}

static void push_done(struct bs_http *c, struct bs_http_xfer *x)
{
	x->state = BS_X_DONE;
	x->next = NULL;
	if (c->done_tail)
		c->done_tail->next = x;
	else
		c->done = x;
	c->done_tail = x;
}

static void unlink_active(struct bs_http *c, struct bs_http_xfer *x)
{
	struct bs_http_xfer **pp;

	for (pp = &c->active; *pp; pp = &(*pp)->next) {
		if (*pp == x) {
			*pp = x->next;
			return;
		}
	}
}

static void stop_running(struct bs_http *c, struct bs_http_xfer *x)
{
	if (x->state == BS_X_RUNNING) {
		curl_multi_remove_handle(c->multi, x->easy);
		c->running--;
	}
}

/* End x for good (its res is already filled) and queue it as done. */
static void finish(struct bs_http *c, struct bs_http_xfer *x)
{
	stop_running(c, x);
	unlink_active(c, x);
	if (!x->req->res.ok && !x->req->res.err.code)
		bs_err_set(&x->req->res.err, BS_ERR_INTERNAL, "%s '%s' failed", x->method, x->url_log);
	x->req->res.elapsed_ms = (long)(bs_http_now_ms() - x->start_ms);
	push_done(c, x);
}

static void interrupt(struct bs_http *c, struct bs_http_xfer *x, const char *why)
{
	struct bs_http_result *res = &x->req->res;

	res->ok = 0;
	res->transient = 0;
	bs_err_set(&res->err, BS_ERR_INTERRUPTED, "%s '%s' %s", x->method, x->url_log, why);
	finish(c, x);
}

void bs_http_free(struct bs_http *c)
{
	struct bs_http_xfer *x;

	if (!c)
		return;
	while ((x = c->active)) {
		interrupt(c, x, "abandoned: the HTTP client was freed");
	}
	while ((x = c->done)) {
		c->done = x->next;
		x->req->xfer_ = NULL;
		bs_http_xfer_free(x);
	}
	if (c->multi)
		curl_multi_cleanup(c->multi);
	free(c->ca_file);
	free(c->user_agent);
	free(c);
}

void bs_http_req_release(struct bs_http_req *req)
{
	if (!req)
		return;
	free(req->res.body);
	free(req->res.headers);
	req->res.body = req->res.headers = NULL;
	req->res.body_len = req->res.headers_len = 0;
	bs_http_certs_free(&req->res);
}

int bs_http_add(struct bs_http *c, struct bs_http_req *req, struct bs_err *err)
{
	struct bs_http_xfer *x, **pp;

	bs_http_req_release(req);
	memset(&req->res, 0, sizeof(req->res));
	bs_err_init(&req->res.err);
	req->xfer_ = NULL;
	x = calloc(1, sizeof(*x));
	if (!x)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	x->c = c;
	x->req = req;
	x->method = req->method ? req->method : "GET";
	x->max_attempts = req->max_attempts > 0 ? req->max_attempts : c->opts.retry.max_attempts;
	if (bs_http_xfer_setup(x, &req->res.err) < 0) {
		bs_http_xfer_free(x);
		if (err && err != &req->res.err)
			*err = req->res.err;
		return -1;
	}
	x->state = BS_X_QUEUED;
	x->start_ms = bs_http_now_ms();
	for (pp = &c->active; *pp; pp = &(*pp)->next) /* FIFO: started in the order added */
		;
	*pp = x;
	req->xfer_ = x;
	c->pending++;
	return 0;
}

size_t bs_http_pending(const struct bs_http *c)
{
	return c ? c->pending : 0;
}

/* Start queued attempts (and retries whose wait is over) while slots are
 * free.  Returns the earliest wake time of those still waiting, or -1. */
static int64_t start_ready(struct bs_http *c, int64_t now)
{
	struct bs_http_xfer *x, *next;
	int64_t earliest = -1;

	for (x = c->active; x; x = next) {
		next = x->next;
		if (x->state == BS_X_WAITING && x->wake_ms <= now)
			x->state = BS_X_QUEUED;
		if (x->state == BS_X_WAITING && (earliest < 0 || x->wake_ms < earliest))
			earliest = x->wake_ms;
		if (x->state != BS_X_QUEUED || c->running >= (size_t)c->opts.max_parallel)
			continue;
		if (bs_http_xfer_begin(x) < 0) {
			x->req->res.ok = 0;
			finish(c, x);
			continue;
		}
		if (curl_multi_add_handle(c->multi, x->easy) != CURLM_OK) {
			bs_err_set(&x->req->res.err, BS_ERR_NET, "unable to start %s '%s'", x->method,
				   x->url_log);
			finish(c, x);
			continue;
		}
		x->state = BS_X_RUNNING;
		c->running++;
	}
	return earliest;
}

static void collect(struct bs_http *c)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(c->multi, &left))) {
		struct bs_http_xfer *x = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		if (!x)
			continue;
		curl_multi_remove_handle(c->multi, x->easy);
		c->running--;
		x->state = BS_X_QUEUED; /* not running any more */
		if (bs_http_xfer_end(x, m->data.result, bs_http_now_ms()) == 0)
			finish(c, x);
	}
}

static int cancelled(const struct bs_http *c)
{
	return c->opts.cancel && *c->opts.cancel;
}

/* Wait up to t ms for the multi handle's sockets or fds; 1 when one of
 * fds became ready. */
static int wait_fds(struct bs_http *c, int t, struct bs_http_waitfd *fds, size_t nfds)
{
	struct curl_waitfd small[64], *w = small;
	size_t i;
	int ready = 0;

	if (nfds > 64 && !(w = calloc(nfds, sizeof(*w)))) {
		w = small; /* out of memory: wait on the first 64, the rest at the next turn */
		nfds = 64;
	}
	for (i = 0; i < nfds; i++) {
		w[i].fd = fds[i].fd;
		w[i].events = fds[i].events;
		w[i].revents = 0;
	}
	curl_multi_poll(c->multi, nfds ? w : NULL, (unsigned)nfds, t, NULL);
	for (i = 0; i < nfds; i++) {
		fds[i].revents = w[i].revents;
		if (w[i].revents)
			ready = 1;
	}
	if (w != small)
		free(w);
	return ready;
}

struct bs_http_req *bs_http_next(struct bs_http *c, long max_wait_ms)
{
	return bs_http_next_fds(c, max_wait_ms, NULL, 0);
}

struct bs_http_req *bs_http_next_fds(struct bs_http *c, long max_wait_ms, struct bs_http_waitfd *fds,
				     size_t nfds)
{
	int64_t deadline = max_wait_ms < 0 ? -1 : bs_http_now_ms() + max_wait_ms;

	for (size_t i = 0; i < nfds; i++)
		fds[i].revents = 0;

	for (;;) {
		struct bs_http_xfer *x = c->done;
		int64_t now, wake;
		long t = -1;
		int still;

		if (x) {
			struct bs_http_req *req = x->req;

			c->done = x->next;
			if (!c->done)
				c->done_tail = NULL;
			c->pending--;
			req->xfer_ = NULL;
			bs_http_xfer_free(x);
			return req;
		}
		if (!c->active) {
			if (nfds && max_wait_ms != 0)
				wait_fds(c, max_wait_ms < 0 || max_wait_ms > INT32_MAX ? -1 : (int)max_wait_ms,
					 fds, nfds);
			return NULL;
		}
		if (cancelled(c)) {
			while (c->active)
				interrupt(c, c->active, "interrupted");
			continue;
		}
		now = bs_http_now_ms();
		wake = start_ready(c, now);
		curl_multi_perform(c->multi, &still);
		collect(c);
		now = bs_http_now_ms();
		wake = start_ready(c, now); /* retries due now, and their wake times */
		if (c->done)
			continue;
		if (deadline >= 0 && now >= deadline)
			return NULL;
		curl_multi_timeout(c->multi, &t);
		if (t < 0 || t > 1000)
			t = 1000;
		if (wake >= 0 && wake - now < t)
			t = wake - now > 0 ? (long)(wake - now) : 0;
		if (deadline >= 0 && deadline - now < t)
			t = (long)(deadline - now);
		if (c->opts.cancel && t > 100)
			t = 100;
		if ((t > 0 || nfds) && wait_fds(c, (int)t, fds, nfds)) {
			curl_multi_perform(c->multi, &still);
			collect(c);
			if (c->done)
				continue;
			return NULL;
		}
	}
}

int bs_http_run(struct bs_http *c, struct bs_http_req *reqs, size_t n, struct bs_err *err)
{
	size_t i, failed = 0, first = n;

	for (i = 0; i < n; i++) {
		if (bs_http_add(c, &reqs[i], &reqs[i].res.err) < 0)
			reqs[i].res.ok = 0;
	}
	while (bs_http_next(c, -1))
		;
	for (i = 0; i < n; i++) {
		if (!reqs[i].res.ok) {
			failed++;
			if (first == n)
				first = i;
		}
	}
	if (!failed)
		return 0;
	if (err) {
		*err = reqs[first].res.err;
		if (n > 1)
			bs_err_prefix(err, "%zu of %zu HTTP requests failed, the first", failed, n);
	}
	return -1;
}

int bs_http_do(struct bs_http *c, struct bs_http_req *req, struct bs_err *err)
{
	return bs_http_run(c, req, 1, err);
}

const char *bs_http_header(const struct bs_http_result *res, const char *name)
{
	size_t nlen = strlen(name), off = 0;

	while (res->headers && off < res->headers_len) {
		const char *line = res->headers + off;
		size_t llen = strlen(line);

		if (llen > nlen && line[nlen] == ':' && strncasecmp(line, name, nlen) == 0) {
			const char *v = line + nlen + 1;

			while (*v == ' ' || *v == '\t')
				v++;
			return v;
		}
		off += llen + 1;
	}
	return NULL;
}
