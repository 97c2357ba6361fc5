/* webhook.c - see webhook.h */
#include "notify/webhook.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/secret.h"
#include "config/bind.h"
#include "config/yaml_node.h"
#include "net/http.h"

#define W struct bs_webhook
#define DEF_TIMEOUT_MS 10000
#define DEF_RETRIES 3
#define HURRY_TIMEOUT_MS 10000

static const struct bs_bind_enum formats[] = {
	{ "generic", BS_PAYLOAD_GENERIC },
	{ "slack", BS_PAYLOAD_SLACK },
	{ "teams", BS_PAYLOAD_TEAMS },
	{ NULL, 0 },
};

static int check_event(const char *keypath, const char *v, struct bs_err *err)
{
	char list[512] = "";

	if (bs_event_name_known(v))
		return 0;
	for (size_t i = 0; bs_event_names[i]; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "", bs_event_names[i]);
	bs_err_set(err, BS_ERR_CONFIG, "'%s': unknown event '%s'", keypath, v);
	bs_err_hint(err, "events are: %s", list);
	return -1;
}

/* A URL written in the file carries its secret when it has a path (Slack
 * and Teams put the token there); ${VAR} parts read as ''. */
static int url_in_file(const char *text)
{
	const char *p = strstr(text, "://");

	if (!p || !(p = strchr(p + 3, '/')))
		return 0;
	while (*p == '/' || *p == '\'')
		p++;
	return *p != '\0';
}

static const struct bs_bind_field webhook_fields[] = {
	{ .key = "url", .type = BS_BIND_STRING, .offset = offsetof(W, url), .flags = BS_BIND_SECRET,
	  .has_secret = url_in_file, .secret_what = "a webhook URL",
	  .secret_fix = "move the URL to a file named by url_file (mode 0600), or to ${VAR}" },
	BS_BIND_F_PATH("url_file", W, url_file, BS_BIND_SECRET_FILE),
	BS_BIND_F_ENUM("format", W, format, formats),
	BS_BIND_F_BOOL("on_success", W, on_success),
	{ .key = "events", .type = BS_BIND_STRLIST, .offset = offsetof(W, events),
	  .count_offset = offsetof(W, nevents), .check = check_event },
	{ .key = "timeout", .type = BS_BIND_DURATION, .offset = offsetof(W, timeout_ms), .scale = 1000, .min = 1,
	  .max = 600 },
	BS_BIND_F_INT("retries", W, retries, 0, 10),
	BS_BIND_F_END,
};

void bs_webhook_set_init(struct bs_webhook_set *s)
{
	memset(s, 0, sizeof(*s));
}

void bs_webhook_set_release(struct bs_webhook_set *s)
{
	for (size_t i = 0; s && i < s->n; i++) {
		bs_bind_release(webhook_fields, &s->v[i]);
		free(s->v[i].name);
	}
	if (s)
		free(s->v);
	bs_webhook_set_init(s);
}

static int name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > BS_WEBHOOK_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '-' && name[i] != '_')
			return 0;
	return 1;
}

static struct bs_webhook *webhook_new(struct bs_webhook_set *s, const char *name)
{
	struct bs_webhook *v;

	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 4;
		struct bs_webhook *nv = realloc(s->v, nc * sizeof(*nv));
		if (!nv)
			return NULL;
		s->v = nv, s->cap = nc;
	}
	v = &s->v[s->n];
	memset(v, 0, sizeof(*v));
	v->retries = -1;
	if (!(v->name = strdup(name)))
		return NULL;
	s->n++;
	return v;
}

static int url_ok(const char *u)
{
	return strncmp(u, "https://", 8) == 0 || strncmp(u, "http://", 7) == 0;
}

static int bind_one(struct bs_bind_ctx *ctx, const struct bs_ypair *pair, const char *keypath, void *ud,
		    struct bs_err *err)
{
	struct bs_webhook_set *s = ud;
	const struct bs_ynode *k = pair->key, *v = pair->value;
	struct bs_webhook *w;
	char path[160];
	unsigned before = ctx->errors.count;

	snprintf(path, sizeof(path), "%s.%s", keypath, k->value);
	if (!name_ok(k->value))
		return bs_ynode_error(err, BS_ERR_CONFIG, k,
				      "invalid webhook name '%s': letters, digits, '-' or '_', at most %d", k->value,
				      BS_WEBHOOK_NAME_MAX);
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, k->value) == 0)
			return bs_ynode_error(err, BS_ERR_CONFIG, k, "webhook '%s' is defined twice", k->value);
	if (v->kind != BS_YNODE_MAPPING) {
		bs_ynode_error(err, BS_ERR_CONFIG, v, "'%s' must be a mapping with 'url:' or 'url_file:'", path);
		bs_err_hint(err, "webhooks:\n  ops:\n    url_file: /etc/backstop/webhook-url\n    format: slack");
		return -1;
	}
	if (!(w = webhook_new(s, k->value)))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	if (bs_bind_table(ctx, webhook_fields, v, path, w, err) < 0)
		return -1;
	if (ctx->errors.count != before)
		return -1;
	if (!w->timeout_ms)
		w->timeout_ms = DEF_TIMEOUT_MS;
	if (w->retries < 0)
		w->retries = DEF_RETRIES;
	if (!!w->url == !!w->url_file) {
		bs_ynode_error(err, BS_ERR_CONFIG, v, "webhook '%s' needs exactly one of 'url' and 'url_file'", w->name);
		bs_err_hint(err, "url_file: /etc/backstop/webhook-url   (mode 0600: the URL is a secret)");
		return -1;
	}
	if (w->url && !url_ok(w->url)) {
		/* never echo it: the URL may carry the webhook's secret */
		bs_ynode_error(err, BS_ERR_CONFIG, bs_ynode_get(v, "url"), "'%s.url' must be an http:// or https:// URL",
			       path);
		return -1;
	}
	return 0;
}

int bs_webhook_section_bind(struct bs_bind_ctx *ctx, const struct bs_ynode *node, const char *keypath,
			    struct bs_webhook_set *s, struct bs_err *err)
{
	return bs_bind_entries(ctx, node, keypath, "webhook names to webhooks",
			       "webhooks:\n  ops:\n    url_file: /etc/backstop/webhook-url\n    format: slack", bind_one,
			       s, err);
}

int bs_webhook_wants(const struct bs_webhook *w, const struct bs_event *ev)
{
	if (w->nevents > 0) {
		for (size_t i = 0; i < w->nevents; i++)
			if (strcmp(w->events[i], ev->name) == 0)
				return 1;
		return 0;
	}
	return ev->kind == BS_EVENT_FAILURE || (ev->kind == BS_EVENT_SUCCESS && w->on_success);
}

int bs_webhook_send(const struct bs_webhook *w, const struct bs_event *ev, const char *host, int hurry,
		    struct bs_err *err)
{
	static const char *const headers[] = { "Content-Type: application/json", NULL };
	struct bs_http_opts o;
	struct bs_http *c = NULL;
	struct bs_http_req r;
	char *url = NULL, *body = NULL, label[BS_WEBHOOK_NAME_MAX + 16];
	json_t *doc;
	int rc = -1;

	memset(&r, 0, sizeof(r));
	snprintf(label, sizeof(label), "webhook:%s", w->name);
	if (!(doc = bs_event_payload(ev, (enum bs_payload_format)w->format, host)) ||
	    !(body = json_dumps(doc, JSON_COMPACT))) {
		bs_err_set(err, BS_ERR_INTERNAL, "webhook '%s' (%s): unable to build the payload", w->name, ev->name);
		goto out;
	}
	if (w->url_file) {
		if (bs_secret_read_file(w->url_file, "webhook URL file", 0, BS_SECRET_FOLLOW, &url, NULL, err) < 0)
			goto out;
		if (!url_ok(url)) {
			bs_err_set(err, BS_ERR_CONFIG, "'%s' does not hold an http:// or https:// URL", w->url_file);
			goto out;
		}
	}
	bs_http_opts_default(&o);
	o.timeout_ms = w->timeout_ms;
	o.connect_timeout_ms = w->timeout_ms < 10000 ? w->timeout_ms : 10000;
	o.retry.max_attempts = w->retries + 1;
	o.retry.base_ms = 500;
	o.retry.max_ms = 10000;
	o.retry.budget_ms = 60000;
	if (hurry) {
		o.timeout_ms = w->timeout_ms < HURRY_TIMEOUT_MS ? w->timeout_ms : HURRY_TIMEOUT_MS;
		o.retry.max_attempts = 1;
	}
	o.max_body = 64 * 1024;
	if (!(c = bs_http_new(&o, err)))
		goto out;
	r.method = "POST";
	r.url = url ? url : w->url;
	r.log_name = label;
	r.headers = headers;
	r.body = body;
	r.body_len = strlen(body);
	if (bs_http_do(c, &r, err) < 0) {
		int n = r.res.attempts;
		if (r.res.status)
			bs_err_set(err, BS_ERR_NET, "webhook '%s' (%s): HTTP status %ld after %d attempt%s", w->name,
				   ev->name, r.res.status, n, n == 1 ? "" : "s");
		else
			bs_err_set(err, BS_ERR_NET, "webhook '%s' (%s): %s (%d attempt%s)", w->name, ev->name,
				   r.res.err.msg, n, n == 1 ? "" : "s");
		goto out;
	}
	rc = 0;
out:
	bs_http_req_release(&r);
	bs_http_free(c);
	bs_secret_free(url);
	free(body);
	json_decref(doc);
	return rc;
}
