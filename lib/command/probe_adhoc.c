/* probe_adhoc.c (command layer) - the probes `backstop probe` makes from
 * flags (--url, --tls, --tcp, --postgres, --backup), each with the
 * settings flags of its kind applied.  See probe.h. */
#include "command/probe.h"

#include <stdlib.h>
#include <string.h>

#include "command/setup.h"
#include "common/opts.h"

static int dup_to(char **slot, const char *v, struct bs_err *err)
{
	if (!v)
		return 0;
	free(*slot);
	*slot = strdup(v);
	return *slot ? 0 : bs_err_set(err, BS_ERR_NOMEM, "out of memory");
}

static int ms_flag(const char *flag, const char *v, int64_t *out, struct bs_err *err)
{
	if (v && bs_probe_ms_parse(v, out) < 0)
		return bs_err_set(err, BS_ERR_USAGE, "invalid duration '%s' for --%s (e.g. 500ms, 2s, 10m)", v, flag);
	return 0;
}

static int http_flags(struct bs_probe *p, const struct bs_probe_flags *f, struct bs_err *err)
{
	size_t j;

	for (j = 0; f->status && j < f->status->n; j++) {
		if (p->nstatus == BS_PROBE_STATUS_MAX ||
		    bs_probe_status_parse(f->status->v[j], &p->status_lo[p->nstatus], &p->status_hi[p->nstatus]) < 0)
			return bs_err_set(err, BS_ERR_USAGE, "invalid --expect-status '%s' (e.g. 200, 200-204, 2xx)",
					  f->status->v[j]);
		p->nstatus++;
	}
	for (j = 0; f->json && j < f->json->n; j++) {
		const char *v = f->json->v[j], *eq = strchr(v, '=');

		if (!eq || eq == v || p->njson == BS_PROBE_JSON_MAX)
			return bs_err_set(err, BS_ERR_USAGE, "invalid --expect-json '%s': PATH=VALUE (db.up=true)", v);
		p->json[p->njson].path = strndup(v, (size_t)(eq - v));
		p->json[p->njson].value = strdup(eq + 1);
		p->njson++;
		if (!p->json[p->njson - 1].path || !p->json[p->njson - 1].value)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	if (f->headers && f->headers->n > BS_PROBE_HEADERS_MAX)
		return bs_err_set(err, BS_ERR_USAGE, "more than %d --header", BS_PROBE_HEADERS_MAX);
	if (f->headers && f->headers->n && !(p->headers = calloc(f->headers->n, sizeof(*p->headers))))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	for (j = 0; f->headers && j < f->headers->n; j++) {
		const char *v = f->headers->v[j], *colon = strchr(v, ':'), *val = colon ? colon + 1 : NULL;

		if (!colon || colon == v)
			return bs_err_set(err, BS_ERR_USAGE, "invalid --header '%s': 'Name: value'", v);
		while (*val == ' ')
			val++;
		p->headers[j].name = strndup(v, (size_t)(colon - v));
		p->headers[j].value = strdup(val);
		p->nheaders++;
		if (!p->headers[j].name || !p->headers[j].value)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	p->follow_redirects = f->follow_redirects;
	if (dup_to(&p->body_regex, f->body_regex, err) < 0 || dup_to(&p->client_cert, f->client_cert, err) < 0 ||
	    dup_to(&p->client_key, f->client_key, err) < 0)
		return -1;
	return 0;
}

int bs_cmd_probe_adhoc(struct bs_probe_set *s, const struct bs_probe_settings *defaults,
		       const struct bs_probe_flags *f, struct bs_err *err)
{
	const struct bs_strlist *lists[] = { f->url, f->tls, f->tcp, f->postgres, f->backup };
	const enum bs_probe_kind kinds[] = { BS_PROBE_HTTP, BS_PROBE_TLS, BS_PROBE_TCP, BS_PROBE_POSTGRES,
					     BS_PROBE_BACKUP };
	int64_t max_lat = 0, warn_lat = 0, timeout = 0, max_age = 0;

	s->settings.timeout_ms = defaults->timeout_ms;
	s->settings.retries = defaults->retries;
	s->settings.failure_threshold = defaults->failure_threshold;
	s->settings.success_threshold = defaults->success_threshold;
	if (ms_flag("max-latency", f->max_latency, &max_lat, err) < 0 ||
	    ms_flag("warn-latency", f->warn_latency, &warn_lat, err) < 0 ||
	    ms_flag("timeout", f->timeout, &timeout, err) < 0 || ms_flag("max-age", f->max_age, &max_age, err) < 0)
		return -1;
	if (timeout)
		s->settings.timeout_ms = timeout;
	if (f->retries >= 0)
		s->settings.retries = f->retries;
	for (size_t k = 0; k < 5; k++) {
		for (size_t i = 0; lists[k] && i < lists[k]->n; i++) {
			const char *arg = lists[k]->v[i];
			struct bs_probe *p;

			if (kinds[k] == BS_PROBE_POSTGRES && bs_cmd_no_password("--postgres", arg, err) < 0)
				return -1;
			if (!(p = bs_probe_adhoc(s, kinds[k], arg, err)))
				return -1;
			switch (kinds[k]) {
			case BS_PROBE_HTTP:
				p->max_latency_ms = max_lat;
				p->warn_latency_ms = warn_lat;
				if (http_flags(p, f, err) < 0 || dup_to(&p->ca_file, f->ca_file, err) < 0)
					return -1;
				break;
			case BS_PROBE_TLS:
				if (dup_to(&p->ca_file, f->ca_file, err) < 0 || dup_to(&p->servername, f->servername, err) < 0)
					return -1;
				if (f->warn_days >= 0)
					p->warn_days = f->warn_days;
				if (f->crit_days >= 0)
					p->crit_days = f->crit_days;
				break;
			case BS_PROBE_POSTGRES:
				if (dup_to(&p->query, f->query, err) < 0 || dup_to(&p->expect, f->expect, err) < 0)
					return -1;
				break;
			case BS_PROBE_BACKUP:
				if (dup_to(&p->repository, f->repo, err) < 0)
					return -1;
				if (max_age)
					p->max_age_ms = max_age;
				break;
			case BS_PROBE_TCP: break;
			}
			if (bs_probe_check(p, err) < 0) {
				err->code = BS_ERR_USAGE; /* it came from a flag */
				return -1;
			}
		}
	}
	return 0;
}
