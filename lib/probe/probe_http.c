/* probe_http.c - the http probe: one request, then status, latency, body
 * regex and JSON fields, in that order; the first that fails says why. */
#include "probe/probe_int.h"

#include <curl/curl.h>
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

int probe_http_start(struct probe_run *r, struct bs_err *err)
{
	const struct bs_probe *p = r->p;
	size_t i;

	for (i = 0; i < p->nheaders; i++) {
		const struct bs_probe_header *h = &p->headers[i];
		char *secret = NULL;
		size_t len = 0;
		int n;

		if (h->file && bs_config_read_secret(h->file, &secret, &len, err) < 0) {
			bs_err_prefix(err, "header '%s'", h->name);
			return -1;
		}
		n = asprintf(&r->hdr[i], "%s: %s", h->name, secret ? secret : h->value);
		bs_config_free_secret(secret, len);
		if (n < 0) {
			r->hdr[i] = NULL;
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		}
		if (strpbrk(r->hdr[i], "\r\n"))
			return bs_err_set(err, BS_ERR_CONFIG, "header '%s' from '%s' holds a line break", h->name,
					  h->file);
		r->hdrv[i] = r->hdr[i];
	}
	r->hdrv[i] = NULL;
	r->req.method = p->method ? p->method : "GET";
	r->req.url = p->url;
	r->req.headers = p->nheaders ? r->hdrv : NULL;
	r->req.follow_redirects = p->follow_redirects;
	r->req.ca_file = p->ca_file;
	r->req.client_cert = p->client_cert;
	r->req.client_key = p->client_key;
	return 0;
}

static int status_expected(const struct bs_probe *p, long st)
{
	if (!p->nstatus)
		return st >= 200 && st <= 299;
	for (size_t i = 0; i < p->nstatus; i++)
		if (st >= p->status_lo[i] && st <= p->status_hi[i])
			return 1;
	return 0;
}

static void status_text(const struct bs_probe *p, char *buf, size_t n)
{
	size_t off = 0;

	if (!p->nstatus) {
		snprintf(buf, n, "2xx");
		return;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < p->nstatus && off < n; i++) {
		if (p->status_lo[i] == p->status_hi[i])
			off += (size_t)snprintf(buf + off, n - off, "%s%d", i ? ", " : "", p->status_lo[i]);
		else if (p->status_lo[i] % 100 == 0 && p->status_hi[i] == p->status_lo[i] + 99)
			off += (size_t)snprintf(buf + off, n - off, "%s%dxx", i ? ", " : "", p->status_lo[i] / 100);
		else
			off += (size_t)snprintf(buf + off, n - off, "%s%d-%d", i ? ", " : "", p->status_lo[i],
						p->status_hi[i]);
	}
}

/* The text of a JSON value as a YAML scalar would say it. */
static void json_text(const json_t *v, char *buf, size_t n)
{
	switch (json_typeof(v)) {
	case JSON_STRING: snprintf(buf, n, "%s", json_string_value(v)); break;
	case JSON_INTEGER: snprintf(buf, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v)); break;
	case JSON_REAL: snprintf(buf, n, "%g", json_real_value(v)); break;
	case JSON_TRUE: snprintf(buf, n, "true"); break;
	case JSON_FALSE: snprintf(buf, n, "false"); break;
	case JSON_NULL: snprintf(buf, n, "null"); break;
	case JSON_OBJECT: snprintf(buf, n, "an object"); break;
	case JSON_ARRAY: snprintf(buf, n, "an array"); break;
	}
}

/* Follow "a.b.0.c" from root; NULL when a step is missing. */
static const json_t *json_walk(const json_t *root, const char *path)
{
	char key[256];
	const json_t *v = root;

	while (v && *path) {
		size_t len = strcspn(path, ".");
		char *end;

		if (len >= sizeof(key))
			return NULL;
		memcpy(key, path, len);
		key[len] = '\0';
		if (json_is_object(v)) {
			v = json_object_get(v, key);
		} else if (json_is_array(v)) {
			unsigned long idx = strtoul(key, &end, 10);
			v = *end || end == key ? NULL : json_array_get(v, idx);
		} else {
			v = NULL;
		}
		path += len;
		if (*path == '.')
			path++;
	}
	return v;
}

/* 0: every field matches; -1: r's result is set. */
static int check_json(struct probe_run *r, const char *took)
{
	const struct bs_probe *p = r->p;
	const struct bs_http_result *res = &r->req.res;
	json_error_t jerr;
	json_t *root;
	int rc = 0;

	root = json_loadb(res->body ? res->body : "", res->body_len, JSON_DECODE_ANY, &jerr);
	if (!root) {
		probe_set_result(r, BS_STATE_FAIL, "JSON", "not JSON", "body is not JSON (%s at %d:%d) after %s", jerr.text,
				 jerr.line, jerr.column, took);
		return -1;
	}
	for (size_t i = 0; i < p->njson && rc == 0; i++) {
		const json_t *v = json_walk(root, p->json[i].path);
		char got[160], exp[200];

		snprintf(exp, sizeof(exp), "%s = %s", p->json[i].path, p->json[i].value);
		if (!v) {
			probe_set_result(r, BS_STATE_FAIL, exp, "missing", "JSON %s is missing (expected %s) after %s",
					 p->json[i].path, p->json[i].value, took);
			rc = -1;
			break;
		}
		json_text(v, got, sizeof(got));
		if (strcmp(got, p->json[i].value) != 0) {
			char obs[200];
			snprintf(obs, sizeof(obs), "%s = %s", p->json[i].path, got);
			probe_set_result(r, BS_STATE_FAIL, exp, obs, "JSON %s is %s (expected %s) after %s", p->json[i].path,
					 got, p->json[i].value, took);
			rc = -1;
		}
	}
	json_decref(root);
	return rc;
}

/* The reason of a transfer that got no HTTP answer. */
static void no_answer(struct probe_run *r, const char *took)
{
	const struct bs_http_result *res = &r->req.res;
	const char *why = strstr(res->err.msg, "failed: ");

	why = why ? why + 8 : res->err.msg;
	if (res->curl_code == CURLE_OPERATION_TIMEDOUT)
		probe_timed_out(r, res->status ? "response not complete" : "no answer");
	else if (res->err.code == BS_ERR_INTERRUPTED)
		probe_set_result(r, BS_STATE_UNKNOWN, NULL, NULL, "interrupted");
	else if (res->err.code != BS_ERR_NET)
		probe_set_result(r, BS_STATE_UNKNOWN, NULL, NULL, "%s", res->err.msg);
	else
		probe_set_result(r, BS_STATE_FAIL, NULL, curl_easy_strerror((CURLcode)res->curl_code), "%s after %s",
				 why, took);
}

void probe_http_judge(struct probe_run *r)
{
	const struct bs_probe *p = r->p;
	const struct bs_http_result *res = &r->req.res;
	struct bs_probe_result *out = r->res;
	char took[32], exp[96], obs[64], split[160], lim[32];
	double total = res->timing.total;

	out->status = res->status ? res->status : -1;
	out->t_connect = res->timing.connect;
	out->t_tls = res->timing.tls;
	out->t_first_byte = res->timing.first_byte;
	out->t_total = total;
	probe_secs(total > 0 ? total : out->seconds, took, sizeof(took));
	if (res->status == 0 || (res->curl_code != CURLE_OK && !res->status)) {
		no_answer(r, took);
		return;
	}
	if (res->curl_code != CURLE_OK && res->curl_code != CURLE_WRITE_ERROR) {
		no_answer(r, took);
		return;
	}
	status_text(p, exp, sizeof(exp));
	snprintf(obs, sizeof(obs), "%ld", res->status);
	if (!status_expected(p, res->status)) {
		const char *loc = res->status >= 300 && res->status < 400 ? bs_http_header(res, "Location") : NULL;
		probe_set_result(r, BS_STATE_FAIL, exp, obs, "status %ld (expected %s) after %s%s%.200s", res->status,
				 exp, took, loc ? "; Location: " : "", loc ? loc : "");
		return;
	}
	if (res->curl_code == CURLE_WRITE_ERROR) { /* the body is over the bound */
		probe_set_result(r, BS_STATE_FAIL, NULL, NULL, "%s", res->err.msg);
		return;
	}
	if (res->timing.tls > 0)
		snprintf(split, sizeof(split), "connect %.3fs, TLS %.3fs, first byte %.3fs", res->timing.connect,
			 res->timing.tls, res->timing.first_byte);
	else
		snprintf(split, sizeof(split), "connect %.3fs, first byte %.3fs", res->timing.connect,
			 res->timing.first_byte);
	if (p->max_latency_ms && total * 1000 > p->max_latency_ms) {
		probe_secs(p->max_latency_ms / 1000.0, lim, sizeof(lim));
		snprintf(exp, sizeof(exp), "at most %s", lim);
		probe_set_result(r, BS_STATE_FAIL, exp, took, "took %s (expected at most %s): %s", took, lim, split);
		return;
	}
	if (p->body_regex) {
		regex_t re;
		int m;

		if (regcomp(&re, p->body_regex, REG_EXTENDED | REG_NOSUB) != 0) {
			probe_set_result(r, BS_STATE_UNKNOWN, NULL, NULL, "invalid body_regex");
			return;
		}
		m = regexec(&re, res->body ? res->body : "", 0, NULL, 0);
		regfree(&re);
		if (m != 0) {
			char body[64];
			size_t k;
			snprintf(body, sizeof(body), "%s", res->body ? res->body : "");
			for (k = 0; body[k]; k++)
				if ((unsigned char)body[k] < 0x20)
					body[k] = ' ';
			snprintf(exp, sizeof(exp), "/%.80s/", p->body_regex);
			probe_set_result(r, BS_STATE_FAIL, exp, body, "body does not match /%s/ (starts: '%s') after %s",
					 p->body_regex, body, took);
			return;
		}
	}
	if (p->njson && check_json(r, took) < 0)
		return;
	if (p->warn_latency_ms && total * 1000 > p->warn_latency_ms) {
		probe_secs(p->warn_latency_ms / 1000.0, lim, sizeof(lim));
		snprintf(exp, sizeof(exp), "at most %s", lim);
		probe_set_result(r, BS_STATE_WARN, exp, took, "status %ld but slow: took %s (warn above %s): %s",
				 res->status, took, lim, split);
		return;
	}
	probe_set_result(r, BS_STATE_OK, exp, obs, "status %ld in %s (%s)", res->status, took, split);
}
