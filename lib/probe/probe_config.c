/* probe_config.c - 'probes:' and 'probe:' in backstop.yaml, ad hoc probes
 * from flags, and the checks a probe must pass whatever made it. */
#include "probe/probe.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/duration.h"
#include "config/bind.h"
#include "config/config.h"
#include "config/yaml_node.h"
#include "net/http.h"

#include <libpq-fe.h>

#define P struct bs_probe
#define S struct bs_probe_settings

#define DEF_TIMEOUT_MS 10000
#define DEF_DEADLINE_MS 30000
#define DEF_INTERVAL_MS 10000
#define DEF_PARALLEL 50
#define DEF_MAX_AGE_MS (26LL * 3600 * 1000)

static const struct bs_bind_enum kinds[] = {
	{ "http", BS_PROBE_HTTP },	   { "tls", BS_PROBE_TLS },	  { "tcp", BS_PROBE_TCP },
	{ "postgres", BS_PROBE_POSTGRES }, { "backup", BS_PROBE_BACKUP }, { NULL, 0 },
};

const char *bs_probe_kind_name(enum bs_probe_kind k)
{
	for (const struct bs_bind_enum *e = kinds; e->name; e++)
		if (e->value == (int)k)
			return e->name;
	return "?";
}

/* ---- values ---------------------------------------------------------------- */

/* "500ms", "2s", "1.5s", "1m30s" into milliseconds; -1 when bad.  A
 * number with a fraction or in ms is read here (digits, at most one '.',
 * then "ms" or "s"); anything else goes to bs_duration_parse. */
static int ms_parse(const char *s, int64_t *out)
{
	const char *c = s;
	int64_t whole = 0, frac = 0, scale = 1;
	int64_t secs;

	while (isdigit((unsigned char)*c) && whole < INT64_MAX / 100)
		whole = whole * 10 + (*c++ - '0');
	if (c > s && *c == '.') {
		const char *f = ++c;
		while (isdigit((unsigned char)*c) && scale < 1000000000)
			frac = frac * 10 + (*c++ - '0'), scale *= 10;
		if (c == f)
			return -1;
		if (strcmp(c, "s") == 0) {
			if (whole > INT64_MAX / 1000 - 1)
				return -1;
			*out = whole * 1000 + (frac * 1000 + scale / 2) / scale;
			return 0;
		}
		if (strcmp(c, "ms") == 0) {
			*out = whole + (frac + scale / 2) / scale;
			return 0;
		}
		return -1;
	}
	if (c > s && strcmp(c, "ms") == 0) {
		*out = whole;
		return 0;
	}
	if (bs_duration_parse(s, &secs, NULL) < 0 || secs > INT64_MAX / 1000)
		return -1;
	*out = secs * 1000;
	return 0;
}

int bs_probe_ms_parse(const char *s, int64_t *out)
{
	return s && *s ? ms_parse(s, out) : -1;
}

static int bind_ms(struct bs_bind_ctx *ctx, const struct bs_bind_field *f, const struct bs_ynode *node,
		   const char *keypath, void *base, struct bs_err *err)
{
	int64_t v;

	if (node->kind == BS_YNODE_SCALAR && node->null)
		return 0;
	if (node->kind != BS_YNODE_SCALAR || ms_parse(node->value, &v) < 0)
		return bs_bind_error(ctx, f, node, err, "invalid duration '%s' for '%s'",
				     node->kind == BS_YNODE_SCALAR ? node->value : bs_ynode_kind_name(node), keypath);
	if (v < f->min)
		return bs_bind_error(ctx, f, node, err, "'%s' must be at least %lldms", keypath, (long long)f->min);
	*(int64_t *)((char *)base + f->offset) = v;
	return 0;
}

#define MS(k, T, m, lo)                                                                                   \
	{ .key = (k), .type = BS_BIND_CUSTOM, .offset = offsetof(T, m), .custom = bind_ms, .min = (lo),   \
	  .hint = "a duration: 500ms, 2s, 1.5s, 1m30s, 26h" }

int bs_probe_status_parse(const char *s, int *lo, int *hi)
{
	char *end;
	long a, b;

	if (strlen(s) == 3 && isdigit((unsigned char)s[0]) && tolower((unsigned char)s[1]) == 'x' &&
	    tolower((unsigned char)s[2]) == 'x') {
		a = (s[0] - '0') * 100;
		b = a + 99;
	} else {
		if (!isdigit((unsigned char)s[0]))
			return -1;
		a = strtol(s, &end, 10);
		b = a;
		if (*end == '-') {
			const char *q = end + 1;
			if (!isdigit((unsigned char)*q))
				return -1;
			b = strtol(q, &end, 10);
		}
		if (*end)
			return -1;
	}
	if (a < 100 || b > 599 || a > b)
		return -1;
	*lo = (int)a;
	*hi = (int)b;
	return 0;
}

static int bind_status(struct bs_bind_ctx *ctx, const struct bs_bind_field *f, const struct bs_ynode *node,
		       const char *keypath, void *base, struct bs_err *err)
{
	struct bs_probe *p = base;
	const struct bs_ynode *one = node;
	size_t i, n = node->kind == BS_YNODE_SEQUENCE ? node->count : 1;

	if (node->kind == BS_YNODE_SCALAR && node->null)
		return 0;
	if (node->kind == BS_YNODE_MAPPING || n > BS_PROBE_STATUS_MAX || n == 0)
		return bs_bind_error(ctx, f, node, err, "'%s' takes a status, a range or a list of them (at most %d)",
				     keypath, BS_PROBE_STATUS_MAX);
	p->nstatus = 0;
	for (i = 0; i < n; i++) {
		if (node->kind == BS_YNODE_SEQUENCE)
			one = node->items[i];
		if (one->kind != BS_YNODE_SCALAR ||
		    bs_probe_status_parse(one->value, &p->status_lo[i], &p->status_hi[i]) < 0)
			return bs_bind_error(ctx, f, one, err, "invalid HTTP status '%s' in '%s'",
					     one->kind == BS_YNODE_SCALAR ? one->value : bs_ynode_kind_name(one),
					     keypath);
		p->nstatus++;
	}
	return 0;
}

static int header_name_ok(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
			return 0;
	return 1;
}

/* headers: { Name: value, Name: { file: /path } } */
static int bind_headers(struct bs_bind_ctx *ctx, const struct bs_bind_field *f, const struct bs_ynode *node,
			const char *keypath, void *base, struct bs_err *err)
{
	struct bs_probe *p = base;

	if (node->kind == BS_YNODE_SCALAR && node->null)
		return 0;
	if (node->kind != BS_YNODE_MAPPING)
		return bs_bind_error(ctx, f, node, err, "'%s' must be a mapping of header names to values", keypath);
	if (node->count > BS_PROBE_HEADERS_MAX)
		return bs_bind_error(ctx, f, node, err, "'%s' has more than %d headers", keypath, BS_PROBE_HEADERS_MAX);
	p->headers = calloc(node->count ? node->count : 1, sizeof(*p->headers));
	if (!p->headers)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < node->count; i++) {
		const struct bs_ynode *k = node->pairs[i].key, *v = node->pairs[i].value;
		struct bs_probe_header *h = &p->headers[p->nheaders];

		if (!header_name_ok(k->value))
			return bs_bind_error(ctx, f, k, err, "invalid header name '%s' in '%s'", k->value, keypath);
		if (v->kind == BS_YNODE_SCALAR && !v->null && !strpbrk(v->value, "\r\n")) {
			h->value = strdup(v->value);
		} else if (v->kind == BS_YNODE_MAPPING && v->count == 1 && strcmp(v->pairs[0].key->value, "file") == 0 &&
			   v->pairs[0].value->kind == BS_YNODE_SCALAR && !v->pairs[0].value->null) {
			const char *path = v->pairs[0].value->value;
			h->file = path[0] == '/' || !ctx->base_dir
					  ? strdup(path)
					  : (asprintf(&h->file, "%s/%s", ctx->base_dir, path) < 0 ? NULL : h->file);
			if (!h->file)
				return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		} else {
			return bs_bind_error(ctx, f, v, err,
					     "header '%s' in '%s' must be a one-line value or { file: PATH }", k->value,
					     keypath);
		}
		h->name = strdup(k->value);
		if (!h->name || (!h->value && !h->file))
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		p->nheaders++;
	}
	return 0;
}

/* expect_json: { "status": ok, "db.up": true } */
static int bind_json(struct bs_bind_ctx *ctx, const struct bs_bind_field *f, const struct bs_ynode *node,
		     const char *keypath, void *base, struct bs_err *err)
{
	struct bs_probe *p = base;

	if (node->kind == BS_YNODE_SCALAR && node->null)
		return 0;
	if (node->kind != BS_YNODE_MAPPING || node->count > BS_PROBE_JSON_MAX)
		return bs_bind_error(ctx, f, node, err,
				     "'%s' must be a mapping of JSON paths to expected values (at most %d)", keypath,
				     BS_PROBE_JSON_MAX);
	for (size_t i = 0; i < node->count; i++) {
		const struct bs_ynode *k = node->pairs[i].key, *v = node->pairs[i].value;

		if (!*k->value || k->value[0] == '.' || strstr(k->value, ".."))
			return bs_bind_error(ctx, f, k, err, "invalid JSON path '%s' in '%s' (e.g. status, db.up, items.0.id)",
					     k->value, keypath);
		if (v->kind != BS_YNODE_SCALAR)
			return bs_bind_error(ctx, f, v, err, "the expected value of '%s' in '%s' must be a scalar",
					     k->value, keypath);
		p->json[p->njson].path = strdup(k->value);
		p->json[p->njson].value = strdup(v->null ? "null" : v->value);
		if (!p->json[p->njson].path || !p->json[p->njson].value)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		p->njson++;
	}
	return 0;
}

static int bind_redirects(struct bs_bind_ctx *ctx, const struct bs_bind_field *f, const struct bs_ynode *node,
			  const char *keypath, void *base, struct bs_err *err)
{
	struct bs_probe *p = base;

	if (node->kind == BS_YNODE_SCALAR && node->null)
		return 0;
	if (node->kind == BS_YNODE_SCALAR && strcmp(node->value, "follow") == 0)
		p->follow_redirects = 1;
	else if (node->kind == BS_YNODE_SCALAR && strcmp(node->value, "none") == 0)
		p->follow_redirects = 0;
	else
		return bs_bind_error(ctx, f, node, err, "'%s' is 'follow' or 'none'", keypath);
	return 0;
}

/* ---- field tables ---------------------------------------------------------- */

#define COMMON_FIELDS                                                                             \
	BS_BIND_F_ENUM("kind", P, kind, kinds), MS("timeout", P, timeout_ms, 1),                   \
		BS_BIND_F_INT("retries", P, retries, 0, 10),                                      \
		BS_BIND_F_INT("failure_threshold", P, failure_threshold, 1, 1000),                \
		BS_BIND_F_INT("success_threshold", P, success_threshold, 1, 1000)

static const struct bs_bind_field http_fields[] = {
	COMMON_FIELDS,
	BS_BIND_F_STRING("url", P, url, BS_BIND_REQUIRED),
	BS_BIND_F_STRING("method", P, method, 0),
	{ .key = "headers", .type = BS_BIND_CUSTOM, .custom = bind_headers },
	{ .key = "expect_status", .type = BS_BIND_CUSTOM, .custom = bind_status,
	  .hint = "e.g. 200, 200-299, 2xx, or a list: [200, 204]" },
	MS("max_latency", P, max_latency_ms, 1),
	MS("warn_latency", P, warn_latency_ms, 1),
	BS_BIND_F_STRING("body_regex", P, body_regex, 0),
	{ .key = "expect_json", .type = BS_BIND_CUSTOM, .custom = bind_json },
	{ .key = "redirects", .type = BS_BIND_CUSTOM, .custom = bind_redirects },
	BS_BIND_F_PATH("client_cert", P, client_cert, 0),
	{ .key = "client_key", .type = BS_BIND_PATH, .offset = offsetof(P, client_key), .flags = BS_BIND_SECRET_FILE },
	BS_BIND_F_PATH("ca_file", P, ca_file, 0),
	BS_BIND_F_END,
};

static const struct bs_bind_field tls_fields[] = {
	COMMON_FIELDS,
	BS_BIND_F_STRING("host", P, host, BS_BIND_REQUIRED),
	BS_BIND_F_INT("port", P, port, 1, 65535),
	BS_BIND_F_STRING("servername", P, servername, 0),
	BS_BIND_F_INT("warn_days", P, warn_days, 0, 3650),
	BS_BIND_F_INT("crit_days", P, crit_days, 0, 3650),
	BS_BIND_F_BOOL("verify_hostname", P, verify_hostname),
	BS_BIND_F_BOOL("check_chain", P, check_chain),
	BS_BIND_F_PATH("ca_file", P, ca_file, 0),
	BS_BIND_F_END,
};

static const struct bs_bind_field tcp_fields[] = {
	COMMON_FIELDS,
	BS_BIND_F_STRING("host", P, host, BS_BIND_REQUIRED),
	BS_BIND_F_INT("port", P, port, 1, 65535),
	BS_BIND_F_END,
};

static const struct bs_bind_field postgres_fields[] = {
	COMMON_FIELDS,
	{ .key = "conninfo", .type = BS_BIND_STRING, .offset = offsetof(P, conninfo), .flags = BS_BIND_REQUIRED | BS_BIND_SECRET,
	  .has_secret = bs_conninfo_has_password },
	BS_BIND_F_STRING("query", P, query, 0),
	BS_BIND_F_STRING("expect", P, expect, 0),
	MS("max_replication_lag", P, max_lag_ms, 1),
	BS_BIND_F_END,
};

static const struct bs_bind_field backup_fields[] = {
	COMMON_FIELDS,
	BS_BIND_F_STRING("repository", P, repository, 0),
	BS_BIND_F_STRING("database", P, database, 0),
	MS("max_age", P, max_age_ms, 1000),
	MS("warn_age", P, warn_age_ms, 1000),
	MS("drill_max_age", P, drill_max_age_ms, 1000),
	BS_BIND_F_END,
};

static const struct bs_bind_field *kind_fields(enum bs_probe_kind k)
{
	switch (k) {
	case BS_PROBE_HTTP: return http_fields;
	case BS_PROBE_TLS: return tls_fields;
	case BS_PROBE_TCP: return tcp_fields;
	case BS_PROBE_POSTGRES: return postgres_fields;
	case BS_PROBE_BACKUP: return backup_fields;
	}
	return NULL;
}

static const struct bs_bind_field settings_fields[] = {
	MS("timeout", S, timeout_ms, 1),
	BS_BIND_F_INT("retries", S, retries, 0, 10),
	MS("deadline", S, deadline_ms, 1),
	BS_BIND_F_INT("parallel", S, parallel, 1, 1000),
	MS("interval", S, interval_ms, 100),
	BS_BIND_F_INT("failure_threshold", S, failure_threshold, 1, 1000),
	BS_BIND_F_INT("success_threshold", S, success_threshold, 1, 1000),
	MS("outage_limit", S, outage_limit_ms, 1),
	BS_BIND_F_STRING("min_availability", S, min_availability, 0),
	BS_BIND_F_PATH("textfile", S, textfile, 0),
	BS_BIND_F_END,
};

/* ---- the set ---------------------------------------------------------------- */

void bs_probe_set_init(struct bs_probe_set *s)
{
	memset(s, 0, sizeof(*s));
	s->settings.timeout_ms = DEF_TIMEOUT_MS;
	s->settings.deadline_ms = DEF_DEADLINE_MS;
	s->settings.interval_ms = DEF_INTERVAL_MS;
	s->settings.parallel = DEF_PARALLEL;
	s->settings.failure_threshold = 1;
	s->settings.success_threshold = 1;
}

static void probe_release(struct bs_probe *p)
{
	bs_bind_release(kind_fields(p->kind) ? kind_fields(p->kind) : http_fields, p);
	for (size_t i = 0; i < p->nheaders; i++) {
		free(p->headers[i].name);
		free(p->headers[i].value);
		free(p->headers[i].file);
	}
	free(p->headers);
	for (size_t i = 0; i < p->njson; i++) {
		free(p->json[i].path);
		free(p->json[i].value);
	}
	free(p->name);
	free(p->file);
	free(p->servername);
	free(p->client_cert);
	free(p->client_key);
	free(p->ca_file);
	free(p->url);
	free(p->host);
	free(p->conninfo);
	memset(p, 0, sizeof(*p));
}

void bs_probe_set_release(struct bs_probe_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		probe_release(&s->v[i]);
	free(s->v);
	bs_bind_release(settings_fields, &s->settings);
	bs_probe_set_init(s);
}

const struct bs_probe *bs_probe_find(const struct bs_probe_set *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	return NULL;
}

/* A new probe at the end of s with the settings' defaults. */
static struct bs_probe *probe_new(struct bs_probe_set *s, const char *name, enum bs_probe_kind kind)
{
	struct bs_probe *p;

	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 8;
		struct bs_probe *nv = realloc(s->v, ncap * sizeof(*nv));
		if (!nv)
			return NULL;
		s->v = nv;
		s->cap = ncap;
	}
	p = &s->v[s->n];
	memset(p, 0, sizeof(*p));
	p->name = strdup(name);
	if (!p->name)
		return NULL;
	s->n++;
	p->kind = kind;
	p->timeout_ms = -1; /* from the settings when left so (see own) */
	p->retries = -1;
	p->verify_hostname = 1;
	p->check_chain = 1;
	p->warn_days = 21;
	p->crit_days = 7;
	p->max_age_ms = DEF_MAX_AGE_MS;
	return p;
}

/* What the settings give a probe that did not say (after all is bound:
 * 'probe:' may come after 'probes:' in the file). */
static void apply_defaults(struct bs_probe_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct bs_probe *p = &s->v[i];

		if (!p->own_) { /* first time: what the probe set itself */
			p->own_ = 0x10;
			p->own_ |= (p->timeout_ms >= 0 ? 1 : 0) | (p->retries >= 0 ? 2 : 0) |
				   (p->failure_threshold ? 4 : 0) | (p->success_threshold ? 8 : 0);
		}
		if (!(p->own_ & 1))
			p->timeout_ms = s->settings.timeout_ms;
		if (!(p->own_ & 2))
			p->retries = s->settings.retries;
		if (!(p->own_ & 4))
			p->failure_threshold = s->settings.failure_threshold;
		if (!(p->own_ & 8))
			p->success_threshold = s->settings.success_threshold;
	}
}

/* host[:port] or [v6]:port into p->host/p->port (port kept when absent). */
static int split_hostport(struct bs_probe *p, const char *hp)
{
	const char *colon;
	char *end;
	long port;

	free(p->host);
	p->host = NULL;
	if (hp[0] == '[') {
		const char *rb = strchr(hp, ']');
		if (!rb || rb == hp + 1)
			return -1;
		p->host = strndup(hp + 1, (size_t)(rb - hp - 1));
		colon = rb[1] == ':' ? rb + 1 : NULL;
		if (rb[1] && !colon)
			return -1;
	} else {
		colon = strrchr(hp, ':');
		if (colon && strchr(hp, ':') != colon)
			colon = NULL; /* a bare IPv6 address */
		p->host = colon ? strndup(hp, (size_t)(colon - hp)) : strdup(hp);
	}
	if (!p->host || !*p->host)
		return -1;
	if (colon) {
		port = strtol(colon + 1, &end, 10);
		if (end == colon + 1 || *end || port < 1 || port > 65535)
			return -1;
		p->port = (int)port;
	}
	return 0;
}

static int url_ok(const char *u)
{
	const char *h;

	if (strncasecmp(u, "http://", 7) == 0)
		h = u + 7;
	else if (strncasecmp(u, "https://", 8) == 0)
		h = u + 8;
	else
		return 0;
	{
		const char *at = strchr(h, '@'), *end = h + strcspn(h, "/?#");
		if (at && at < end)
			h = at + 1;
	}
	if (!*h || *h == '/' || *h == ':' || *h == '?' || *h == '#' || strpbrk(u, " \t\r\n"))
		return 0;
	return 1;
}

int bs_probe_check(const struct bs_probe *p, struct bs_err *err)
{
	regex_t re;
	int rc;

	switch (p->kind) {
	case BS_PROBE_HTTP:
		if (!p->url || !url_ok(p->url))
			return bs_err_set(err, BS_ERR_CONFIG, "probe '%s': invalid URL '%s': expected http://HOST[:PORT]/PATH or https://...",
					  p->name, p->url ? p->url : "");
		if (p->method && (!*p->method || strpbrk(p->method, " \t\r\n")))
			return bs_err_set(err, BS_ERR_CONFIG, "probe '%s': invalid method '%s'", p->name, p->method);
		if (p->body_regex) {
			rc = regcomp(&re, p->body_regex, REG_EXTENDED | REG_NOSUB);
			if (rc) {
				char msg[128];
				regerror(rc, &re, msg, sizeof(msg));
				return bs_err_set(err, BS_ERR_CONFIG, "probe '%s': invalid body_regex '%s': %s", p->name,
						  p->body_regex, msg);
			}
			regfree(&re);
		}
		if (p->client_key && !p->client_cert)
			return bs_err_set(err, BS_ERR_CONFIG, "probe '%s': client_key without client_cert", p->name);
		if (p->warn_latency_ms && p->max_latency_ms && p->warn_latency_ms > p->max_latency_ms)
			return bs_err_set(err, BS_ERR_CONFIG, "probe '%s': warn_latency is above max_latency", p->name);
		break;
	case BS_PROBE_TLS:
	case BS_PROBE_TCP:
		if (!p->host || !*p->host)
			return bs_err_set(err, BS_ERR_CONFIG, "probe '%s': no host", p->name);
		if (p->kind == BS_PROBE_TCP && !p->port)
			return bs_err_set(err, BS_ERR_CONFIG, "probe '%s': no port: write host: HOST and port: N, or HOST:PORT",
					  p->name);
		if (p->kind == BS_PROBE_TLS && p->crit_days > p->warn_days)
			return bs_err_set(err, BS_ERR_CONFIG, "probe '%s': crit_days (%d) is above warn_days (%d)", p->name,
					  p->crit_days, p->warn_days);
		break;
	case BS_PROBE_POSTGRES: {
		PQconninfoOption *o;
		char *msg = NULL;

		if (!p->conninfo)
			return bs_err_set(err, BS_ERR_CONFIG, "probe '%s': no conninfo", p->name);
		o = PQconninfoParse(p->conninfo, &msg);
		PQconninfoFree(o);
		if (!o) { /* libpq's message names no value: safe with a password in it */
			bs_err_set(err, BS_ERR_CONFIG, "probe '%s': invalid conninfo: %s", p->name,
				   msg ? strtok(msg, "\n") : "out of memory");
			PQfreemem(msg);
			return -1;
		}
		if (p->expect && !p->query)
			return bs_err_set(err, BS_ERR_CONFIG, "probe '%s': expect without query", p->name);
		break;
	}
	case BS_PROBE_BACKUP:
		if (p->warn_age_ms && p->warn_age_ms > p->max_age_ms)
			return bs_err_set(err, BS_ERR_CONFIG, "probe '%s': warn_age is above max_age", p->name);
		break;
	}
	return 0;
}

/* tls/tcp: 'host: db:5432' is accepted as well as host + port. */
static int normalize(struct bs_probe *p)
{
	if ((p->kind == BS_PROBE_TLS || p->kind == BS_PROBE_TCP) && p->host) {
		char *hp = strdup(p->host);
		int port = p->port, rc;
		if (!hp)
			return -1;
		p->port = 0;
		rc = split_hostport(p, hp);
		free(hp);
		if (rc < 0)
			return -2;
		if (port && p->port && p->port != port)
			return -3;
		if (port)
			p->port = port;
		if (p->kind == BS_PROBE_TLS && !p->port)
			p->port = 443;
	}
	return 0;
}

static int name_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > BS_PROBE_NAME_MAX)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return 0;
	return 1;
}

/* One 'probes:' entry; errors recorded in ctx. */
static int bind_one(struct bs_bind_ctx *ctx, const struct bs_ypair *pair, const char *keypath, void *ud,
		    struct bs_err *err)
{
	struct bs_probe_set *s = ud;
	static const struct bs_bind_field kind_only = { .key = "kind", .type = BS_BIND_ENUM, .enums = kinds };
	const struct bs_ynode *k = pair->key, *v = pair->value, *kn;
	char path[160];
	struct bs_probe *p;
	int kind = 0;

	snprintf(path, sizeof(path), "%s.%s", keypath, k->value);
	if (!name_ok(k->value))
		return bs_ynode_error(err, BS_ERR_CONFIG, k,
				      "invalid probe name '%s': letters, digits, '_', '.', '-', at most %d", k->value,
				      BS_PROBE_NAME_MAX);
	if (v->kind != BS_YNODE_MAPPING)
		return bs_ynode_error(err, BS_ERR_CONFIG, v, "'%s' must be a mapping with 'kind:' and its settings", path);
	kn = bs_ynode_get(v, "kind");
	if (!kn || kn->kind != BS_YNODE_SCALAR || kn->null) {
		bs_ynode_error(err, BS_ERR_CONFIG, kn ? kn : v, "probe '%s' has no 'kind:'", k->value);
		bs_err_hint(err, "kind is one of http, tls, tcp, postgres, backup");
		return -1;
	}
	if (bs_bind_value(ctx, &kind_only, kn, "kind", &kind, err) < 0)
		return -1;
	p = probe_new(s, k->value, (enum bs_probe_kind)kind);
	if (!p || !(p->file = strdup(k->file)))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	p->line = k->line;
	if (bs_bind_table(ctx, kind_fields(p->kind), v, path, p, err) < 0)
		return -1;
	switch (normalize(p)) {
	case -1: return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	case -3: {
		const struct bs_ynode *pn = bs_ynode_get(v, "port");
		return bs_ynode_error(err, BS_ERR_CONFIG, pn ? pn : v, "'%s.port' (%d) disagrees with the port in '%s.host'",
				      path, p->port, path);
	}
	case -2: {
		const struct bs_ynode *h = bs_ynode_get(v, "host");
		return bs_ynode_error(err, BS_ERR_CONFIG, h ? h : v, "invalid host '%s' in '%s': HOST, HOST:PORT or [V6]:PORT",
				      h && h->kind == BS_YNODE_SCALAR ? h->value : "", path);
	}
	}
	if (bs_probe_check(p, err) < 0) {
		static const char *const at_key[] = { [BS_PROBE_HTTP] = "url", [BS_PROBE_TLS] = "host",
						      [BS_PROBE_TCP] = "host", [BS_PROBE_POSTGRES] = "conninfo",
						      [BS_PROBE_BACKUP] = "kind" };
		const struct bs_ynode *at = bs_ynode_get(v, at_key[p->kind]);
		struct bs_err e = *err;
		bs_ynode_error(err, BS_ERR_CONFIG, at ? at : v, "%s", e.msg);
		return -1;
	}
	return 0;
}

int bs_probe_section_bind(struct bs_bind_ctx *ctx, const struct bs_ynode *node, const char *keypath,
			  struct bs_probe_set *s, struct bs_err *err)
{
	int rc = bs_bind_entries(ctx, node, keypath, "probe names to probes",
				 "probes:\n  api-health:\n    kind: http\n    url: https://app.example.com/healthz", bind_one, s,
				 err);

	if (node->kind == BS_YNODE_MAPPING)
		apply_defaults(s);
	return rc;
}

int bs_probe_settings_bind(struct bs_bind_ctx *ctx, const struct bs_ynode *node, const char *keypath,
			   struct bs_probe_set *s, struct bs_err *err)
{
	if (bs_bind_table(ctx, settings_fields, node, keypath, &s->settings, err) < 0)
		return -1;
	if (s->settings.min_availability) {
		char *end;
		double v = strtod(s->settings.min_availability, &end);
		if (!isdigit((unsigned char)s->settings.min_availability[0]) || strpbrk(s->settings.min_availability, "xXeEnN") ||
		    (*end && strcmp(end, "%")) || !(v >= 0 && v <= 100))
			return bs_ynode_error(err, BS_ERR_CONFIG, bs_ynode_get(node, "min_availability"),
					      "invalid '%s.min_availability' '%s': a percentage such as 99.9",
					      keypath, s->settings.min_availability);
	}
	apply_defaults(s);
	return 0;
}

/* ---- ad hoc ------------------------------------------------------------------ */

/* A name for a flag's probe that shows no secret: the URL without user
 * info, query or fragment; kind:host:port; postgres:host:port/dbname. */
static void adhoc_name(char *buf, size_t n, enum bs_probe_kind kind, const struct bs_probe *p, const char *arg)
{
	if (kind == BS_PROBE_HTTP) {
		bs_http_redact_url(arg, buf, n);
	} else if (kind == BS_PROBE_TLS || kind == BS_PROBE_TCP) {
		snprintf(buf, n, "%s:%s%s%s:%d", bs_probe_kind_name(kind), strchr(p->host, ':') ? "[" : "", p->host,
			 strchr(p->host, ':') ? "]" : "", p->port);
	} else if (kind == BS_PROBE_POSTGRES) {
		PQconninfoOption *o = PQconninfoParse(arg, NULL), *x;
		const char *host = NULL, *port = NULL, *db = NULL;

		for (x = o; x && x->keyword; x++) {
			if (!x->val || !*x->val)
				continue;
			if (!strcmp(x->keyword, "host") || (!host && !strcmp(x->keyword, "hostaddr")))
				host = x->val;
			else if (!strcmp(x->keyword, "port"))
				port = x->val;
			else if (!strcmp(x->keyword, "dbname"))
				db = x->val;
		}
		snprintf(buf, n, "postgres:%s%s%s%s%s", host ? host : "local", port ? ":" : "", port ? port : "",
			 db ? "/" : "", db ? db : "");
		PQconninfoFree(o);
	} else {
		snprintf(buf, n, "backup:%s", *arg ? arg : "*");
	}
	for (char *c = buf; *c; c++) /* no control characters in a name */
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
}

struct bs_probe *bs_probe_adhoc(struct bs_probe_set *s, enum bs_probe_kind kind, const char *arg,
				struct bs_err *err)
{
	char name[600], base[512];
	struct bs_probe *p;
	int rc;

	p = probe_new(s, "-", kind);
	if (!p) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		return NULL;
	}
	switch (kind) {
	case BS_PROBE_HTTP: p->url = strdup(arg); rc = p->url ? 0 : -1; break;
	case BS_PROBE_TLS:
	case BS_PROBE_TCP:
		p->host = strdup(arg);
		rc = p->host ? normalize(p) : -1;
		break;
	case BS_PROBE_POSTGRES: p->conninfo = strdup(arg); rc = p->conninfo ? 0 : -1; break;
	case BS_PROBE_BACKUP: p->database = *arg ? strdup(arg) : NULL; rc = !*arg || p->database ? 0 : -1; break;
	default: rc = -1;
	}
	if (rc < 0) {
		if (rc == -1)
			bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		else
			bs_err_set(err, BS_ERR_USAGE, "invalid --%s '%s': HOST:PORT expected", bs_probe_kind_name(kind), arg);
		probe_release(p); /* the set is left as it was */
		s->n--;
		return NULL;
	}
	adhoc_name(base, sizeof(base), kind, p, arg);
	/* the same base again ("https://h/healthz" with another query): " #N",
	 * N counting those before it; config names hold no blank, so no clash */
	{
		size_t same = 0, bl = strlen(base);
		for (size_t i = 0; i + 1 < s->n; i++)
			if (strncmp(s->v[i].name, base, bl) == 0 &&
			    (s->v[i].name[bl] == '\0' || strncmp(s->v[i].name + bl, " #", 2) == 0))
				same++;
		if (same)
			snprintf(name, sizeof(name), "%s #%zu", base, same + 1);
		else
			snprintf(name, sizeof(name), "%s", base);
	}
	free(p->name);
	p->name = strdup(name);
	if (!p->name) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		return NULL;
	}
	apply_defaults(s);
	return p;
}
