/* probe_tcp.c - the tcp probe: a connection within the timeout, nothing
 * sent (a connect-only transfer of the round's HTTP client). */
#include "probe/probe_int.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* scheme://host:port/ with brackets around an IPv6 address; owned by r. */
int probe_endpoint_url(struct probe_run *r, const char *scheme, struct bs_err *err)
{
	const struct bs_probe *p = r->p;
	int v6 = strchr(p->host, ':') != NULL;

	if (asprintf(&r->url, "%s://%s%s%s:%d/", scheme, v6 ? "[" : "", p->host, v6 ? "]" : "", p->port) < 0) {
		r->url = NULL;
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	r->req.url = r->url;
	return 0;
}

int probe_tcp_start(struct probe_run *r, struct bs_err *err)
{
	if (probe_endpoint_url(r, "http", err) < 0)
		return -1;
	r->req.connect_only = 1;
	return 0;
}

void probe_tcp_judge(struct probe_run *r)
{
	const struct bs_http_result *res = &r->req.res;
	char took[32];

	r->res->t_connect = res->timing.connect;
	r->res->t_total = res->timing.total;
	probe_secs(res->timing.total > 0 ? res->timing.total : r->res->seconds, took, sizeof(took));
	if (res->ok) {
		probe_set_result(r, BS_STATE_OK, "connect", "connected", "connected to %s:%d in %s", r->p->host,
				 r->p->port, took);
		return;
	}
	if (res->err.code == BS_ERR_INTERRUPTED)
		probe_set_result(r, BS_STATE_UNKNOWN, NULL, NULL, "interrupted");
	else if (res->curl_code == CURLE_OPERATION_TIMEDOUT)
		probe_timed_out(r, "no connection");
	else
		probe_set_result(r, BS_STATE_FAIL, "connect", curl_easy_strerror((CURLcode)res->curl_code),
				 "no connection to %s:%d: %s after %s", r->p->host, r->p->port,
				 curl_easy_strerror((CURLcode)res->curl_code), took);
}
