/* probe_round.c - one round: every probe at once, on one HTTP client's loop
 * (postgres sockets on the same wait), backup probes in a thread beside it,
 * under the round's deadline. */
#include "probe/probe_int.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/http_int.h"

#define PROBE_MAX_BODY (1u << 20) /* a health endpoint's body: 1 MiB is plenty */

char *probe_secs(double s, char *buf, size_t n)
{
	if (s < 0)
		snprintf(buf, n, "?");
	else if (s < 1)
		snprintf(buf, n, "%.0fms", s * 1000);
	else if (s < 100)
		snprintf(buf, n, "%.2fs", s);
	else
		snprintf(buf, n, "%.0fs", s);
	return buf;
}

void probe_set_result(struct probe_run *r, enum bs_state st, const char *exp, const char *obs, const char *fmt,
		      ...)
{
	struct bs_probe_result *res = r->res;
	va_list ap;

	res->state = st;
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
	snprintf(res->expected, sizeof(res->expected), "%s", exp ? exp : "");
	snprintf(res->observed, sizeof(res->observed), "%s", obs ? obs : "");
	for (char *c = res->reason; *c; c++) /* one line, whatever a server sent */
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	r->done = 1;
}

long probe_budget_ms(const struct probe_run *r, int64_t now_ms)
{
	int64_t left = r->deadline_ms - now_ms;

	if (r->p->timeout_ms > 0 && r->p->timeout_ms < left)
		left = r->p->timeout_ms;
	return left > 0 ? (long)left : 0;
}

void probe_timed_out(struct probe_run *r, const char *what)
{
	char lim[32];

	if (r->p->timeout_ms > 0 && r->req.timeout_ms < r->p->timeout_ms) /* the round's deadline cut it */
		probe_set_result(r, BS_STATE_UNKNOWN, NULL, NULL, "no answer within the round's deadline of %s",
				 probe_secs((r->deadline_ms - r->start_ms) / 1000.0, lim, sizeof(lim)));
	else
		probe_set_result(r, BS_STATE_FAIL, NULL, "timeout", "%s within %s", what,
				 probe_secs(r->req.timeout_ms / 1000.0, lim, sizeof(lim)));
}

void probe_note_attempts(struct probe_run *r)
{
	struct bs_probe_result *res = r->res;
	size_t len = strlen(res->reason);

	if (res->attempts > 1 && len + 24 < sizeof(res->reason))
		snprintf(res->reason + len, sizeof(res->reason) - len,
			 res->state == BS_STATE_OK || res->state == BS_STATE_WARN ? " (attempt %d)" : " (%d attempts)",
			 res->attempts);
}

static void result_init(struct bs_probe_result *res, const struct bs_probe *p)
{
	memset(res, 0, sizeof(*res));
	res->probe = p;
	res->state = BS_STATE_UNKNOWN;
	res->seconds = -1;
	res->status = -1;
	res->t_connect = res->t_tls = res->t_first_byte = res->t_total = -1;
	res->tls_leaf_days = res->tls_chain_days = -1;
	res->backup_age_s = res->drill_age_s = res->lag_s = -1;
}

static void run_release(struct probe_run *r)
{
	bs_http_req_release(&r->req);
	free(r->url);
	free(r->connect_to);
	for (size_t i = 0; r->hdr[i]; i++)
		free(r->hdr[i]);
	probe_pg_stop(r);
	free(r->pg_value);
}

/* ---- backup probes: a thread beside the loop ------------------------------ */

struct backups {
	struct probe_run **runs;
	size_t n;
	bs_probe_repo_open_fn open_repo;
	void *ud;
	pthread_t thread;
	int started;
	atomic_int finished;
};

static void *backups_main(void *arg)
{
	struct backups *b = arg;

	for (size_t i = 0; i < b->n; i++)
		probe_backup_run(b->runs[i], b->open_repo, b->ud);
	atomic_store(&b->finished, 1);
	return NULL;
}

/* ---- the loop ---------------------------------------------------------------- */

static int start_transfer(struct bs_http *c, struct probe_run *r, struct bs_err *err)
{
	struct bs_err e;
	int rc;

	bs_err_init(&e);
	switch (r->p->kind) {
	case BS_PROBE_HTTP: rc = probe_http_start(r, &e); break;
	case BS_PROBE_TLS: rc = probe_tls_start(r, &e); break;
	default: rc = probe_tcp_start(r, &e); break;
	}
	if (rc == 0) {
		r->req.user = r;
		r->req.max_attempts = r->p->retries + 1;
		r->req.timeout_ms = probe_budget_ms(r, bs_http_now_ms());
		r->req.fresh_connect = 1;
		rc = bs_http_add(c, &r->req, &e);
	}
	if (rc < 0) {
		if (e.code == BS_ERR_NOMEM) {
			*err = e;
			return -1;
		}
		probe_set_result(r, BS_STATE_UNKNOWN, NULL, NULL, "could not start: %s", e.msg);
	}
	return 0;
}

static void judge_transfer(struct probe_run *r)
{
	r->res->attempts = r->req.res.attempts;
	r->res->seconds = r->req.res.elapsed_ms / 1000.0;
	switch (r->p->kind) {
	case BS_PROBE_HTTP: probe_http_judge(r); break;
	case BS_PROBE_TLS: probe_tls_judge(r); break;
	default: probe_tcp_judge(r); break;
	}
	probe_note_attempts(r);
	r->done = 1;
}

static int cancelled(const struct bs_probe_round_opts *o)
{
	return o && o->cancel && *o->cancel;
}

int bs_probe_round(const struct bs_probe *const *probes, size_t n, const struct bs_probe_settings *set,
		   const struct bs_probe_round_opts *o, struct bs_probe_result *out, struct bs_err *err)
{
	struct probe_run *runs = calloc(n ? n : 1, sizeof(*runs));
	struct bs_http_waitfd *fds = calloc(n ? n : 1, sizeof(*fds));
	struct backups b = { 0 };
	struct bs_http_opts ho;
	struct bs_http *c = NULL;
	int64_t now, deadline, limit;
	size_t i;
	int rc = -1;

	b.runs = calloc(n ? n : 1, sizeof(*b.runs));
	if (!runs || !fds || !b.runs) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	limit = o && o->deadline_ms > 0 ? o->deadline_ms : set->deadline_ms;
	bs_http_opts_default(&ho);
	ho.max_parallel = o && o->parallel > 0 ? o->parallel : set->parallel;
	ho.max_body = PROBE_MAX_BODY;
	ho.retry.max_attempts = 1;
	ho.retry.base_ms = 200;
	ho.retry.max_ms = 2000;
	ho.retry.budget_ms = limit;
	ho.low_speed_secs = 3600; /* the probe's timeout bounds an attempt */
	ho.cancel = o ? o->cancel : NULL;
	c = bs_http_new(&ho, err);
	if (!c)
		goto out;
	now = bs_http_now_ms();
	deadline = now + limit;
	b.open_repo = o ? o->open_repo : NULL;
	b.ud = o ? o->open_repo_ud : NULL;
	for (i = 0; i < n; i++) {
		struct probe_run *r = &runs[i];

		result_init(&out[i], probes[i]);
		r->p = probes[i];
		r->res = &out[i];
		r->start_ms = now;
		r->deadline_ms = deadline;
		r->pg_fd = -1;
		switch (r->p->kind) {
		case BS_PROBE_POSTGRES: probe_pg_start(r, now); break;
		case BS_PROBE_BACKUP: b.runs[b.n++] = r; break;
		default:
			if (start_transfer(c, r, err) < 0)
				goto out;
		}
	}
	if (b.n) {
		if (pthread_create(&b.thread, NULL, backups_main, &b) != 0) {
			bs_err_set(err, BS_ERR_INTERNAL, "unable to start a thread for the backup probes");
			goto out;
		}
		b.started = 1;
	}
	for (;;) {
		struct bs_http_req *req;
		size_t nfds = 0, busy = 0;
		int64_t wake = deadline;

		now = bs_http_now_ms();
		for (i = 0; i < n; i++) {
			struct probe_run *r = &runs[i];
			if (r->p->kind != BS_PROBE_POSTGRES || r->done)
				continue;
			busy++;
			if (r->pg_attempt_end < wake)
				wake = r->pg_attempt_end;
			if (r->pg_fd >= 0) {
				fds[nfds].fd = r->pg_fd;
				fds[nfds].events = (short)r->pg_events;
				nfds++;
			}
		}
		if (!busy && !bs_http_pending(c) && (!b.started || atomic_load(&b.finished)))
			break;
		if (now >= deadline || cancelled(o))
			break;
		if (!busy && !nfds && !bs_http_pending(c)) { /* only the backup thread is left */
			usleep(10000);
			continue;
		}
		if (wake - now > 100)
			wake = now + 100;
		req = bs_http_next_fds(c, (long)(wake > now ? wake - now : 0), fds, nfds);
		if (req) {
			judge_transfer(req->user);
			continue;
		}
		now = bs_http_now_ms();
		for (i = 0; i < n; i++) {
			struct probe_run *r = &runs[i];
			if (r->p->kind == BS_PROBE_POSTGRES && !r->done && probe_pg_step(r, now)) {
				r->done = 1;
				probe_pg_stop(r);
			}
		}
	}
	now = bs_http_now_ms();
	for (i = 0; i < n; i++) {
		struct probe_run *r = &runs[i];
		char lim[32];

		if (r->done || r->p->kind == BS_PROBE_BACKUP)
			continue;
		probe_pg_stop(r);
		r->res->seconds = (now - r->start_ms) / 1000.0;
		if (cancelled(o))
			probe_set_result(r, BS_STATE_UNKNOWN, NULL, NULL, "interrupted");
		else
			probe_set_result(r, BS_STATE_UNKNOWN, NULL, NULL, "no answer within the round's deadline of %s",
					 probe_secs(limit / 1000.0, lim, sizeof(lim)));
	}
	rc = 0;
out:
	bs_http_free(c); /* aborts what still runs */
	if (b.started)
		pthread_join(b.thread, NULL);
	for (i = 0; runs && i < n; i++)
		run_release(&runs[i]);
	free(runs);
	free(fds);
	free(b.runs);
	return rc;
}
