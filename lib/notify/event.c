/* event.c - see event.h */
#include "notify/event.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/escape.h"

const char *const bs_event_names[] = {
	"pre-snap",     "post-snap",     "snap-failed",	  "pre-restore", "post-restore", "post-drill",
	"drill-failed", "pre-rollback",  "post-rollback", "release-bad", "gate-go",      "gate-no-go",
	NULL,
};

static const char *const kind_names[] = { "before", "success", "failure", "info" };

/* Make s valid UTF-8 in place: a byte bs_utf8_seq (the one decoder) does
 * not accept becomes '?'.  JSON needs it, and values come from anywhere
 * (paths, server messages, a cut in the middle of a character). */
static void utf8_clean(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p) {
		uint32_t cp;
		size_t k = bs_utf8_seq(p, &cp);
		if (k == 0)
			*p++ = '?';
		else
			p += k;
	}
}

/* Copy at most max bytes of the valid UTF-8 string in into out (size n),
 * never cutting a character. */
static void utf8_copy(char *out, size_t n, const char *in, size_t max)
{
	size_t len = strlen(in);

	if (len > max)
		len = max;
	if (len >= n)
		len = n - 1;
	if (len < strlen(in))
		while (len > 0 && ((unsigned char)in[len] & 0xC0) == 0x80)
			len--;
	memcpy(out, in, len);
	out[len] = '\0';
}

int bs_event_name_known(const char *name)
{
	for (size_t i = 0; name && bs_event_names[i]; i++)
		if (strcmp(bs_event_names[i], name) == 0)
			return 1;
	return 0;
}

void bs_event_init(struct bs_event *ev, const char *name, enum bs_event_kind kind)
{
	memset(ev, 0, sizeof(*ev));
	snprintf(ev->name, sizeof(ev->name), "%s", name);
	ev->kind = kind;
	ev->time = time(NULL);
}

void bs_event_add(struct bs_event *ev, const char *key, const char *fmt, ...)
{
	struct bs_event_field *f = NULL;
	char *v;
	va_list ap;
	size_t i;

	if (!fmt)
		return;
	for (i = 0; i < ev->n; i++)
		if (strcmp(ev->f[i].key, key) == 0)
			f = &ev->f[i];
	if (!f && ev->n == BS_EVENT_FIELDS_MAX)
		return;
	if (!(v = malloc(BS_EVENT_VALUE_MAX)))
		return;
	va_start(ap, fmt);
	vsnprintf(v, BS_EVENT_VALUE_MAX, fmt, ap);
	va_end(ap);
	v[strcspn(v, "\r\n")] = '\0';
	utf8_clean(v);
	if (!f) {
		f = &ev->f[ev->n++];
		snprintf(f->key, sizeof(f->key), "%s", key);
	}
	free(f->value);
	f->value = v;
}

const char *bs_event_get(const struct bs_event *ev, const char *key)
{
	for (size_t i = 0; i < ev->n; i++)
		if (strcmp(ev->f[i].key, key) == 0)
			return ev->f[i].value;
	return NULL;
}

void bs_event_release(struct bs_event *ev)
{
	for (size_t i = 0; i < ev->n; i++)
		free(ev->f[i].value);
	ev->n = 0;
}

void bs_event_env(const struct bs_event *ev, char **env)
{
	size_t n = 0;

	for (size_t i = 0; i < ev->n; i++) {
		size_t len = strlen(ev->f[i].key) + strlen(ev->f[i].value) + sizeof("BACKSTOP_=");
		char *s = malloc(len);
		if (!s)
			continue;
		snprintf(s, len, "BACKSTOP_%s=%s", ev->f[i].key, ev->f[i].value);
		env[n++] = s;
	}
	env[n] = NULL;
}

void bs_event_env_free(char **env)
{
	for (size_t i = 0; env && env[i]; i++)
		free(env[i]);
}

/* The thing the event is about: a service, else a database. */
static const char *subject(const struct bs_event *ev, const char **what)
{
	const char *v;

	if ((v = bs_event_get(ev, "SERVICE"))) {
		*what = "service";
		return v;
	}
	if ((v = bs_event_get(ev, "POLICY"))) {
		*what = "policy";
		return v;
	}
	if ((v = bs_event_get(ev, "DATABASE")) && *v) {
		*what = "database";
		return v;
	}
	*what = NULL;
	return NULL;
}

void bs_event_summary(const struct bs_event *ev, const char *host, char *out, size_t n)
{
	const char *what, *subj = subject(ev, &what), *res = bs_event_get(ev, "RESULT"),
			       *error = bs_event_get(ev, "ERROR");
	size_t len;

	len = (size_t)snprintf(out, n, "backstop %s", ev->name);
	if (subj && len < n)
		len += (size_t)snprintf(out + len, n - len, " (%s %s)", what, subj);
	if (host && *host && len < n)
		len += (size_t)snprintf(out + len, n - len, " on %s", host);
	if (res && *res && len < n)
		len += (size_t)snprintf(out + len, n - len, ": %s", res);
	if (error && *error && len < n)
		snprintf(out + len, n - len, "%s%s", res && *res ? ", " : ": ", error);
	utf8_clean(out); /* a cut may have split a character */
}

static void lower(const char *key, char *out, size_t n)
{
	size_t i;

	for (i = 0; key[i] && i + 1 < n; i++)
		out[i] = (char)tolower((unsigned char)key[i]);
	out[i] = '\0';
}

static char *iso_time(time_t t, char out[32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return out;
}

static json_t *generic(const struct bs_event *ev, const char *summary, const char *host)
{
	json_t *o = json_object(), *fields = json_object();
	char key[32], when[32];

	for (size_t i = 0; o && fields && i < ev->n; i++) {
		lower(ev->f[i].key, key, sizeof(key));
		json_object_set_new(fields, key, json_string(ev->f[i].value));
	}
	if (!o || !fields || json_object_set_new(o, "source", json_string("backstop")) < 0 ||
	    json_object_set_new(o, "version", json_integer(1)) < 0 ||
	    json_object_set_new(o, "event", json_string(ev->name)) < 0 ||
	    json_object_set_new(o, "kind", json_string(kind_names[ev->kind])) < 0 ||
	    json_object_set_new(o, "summary", json_string(summary)) < 0 ||
	    json_object_set_new(o, "host", json_string(host)) < 0 ||
	    json_object_set_new(o, "time", json_string(iso_time(ev->time, when))) < 0 ||
	    json_object_set_new(o, "fields", fields) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Slack's mrkdwn: &, < and > are control characters. */
static void slack_escape(const char *in, char *out, size_t n)
{
	size_t o = 0;

	for (; *in && o + 6 < n; in++) {
		const char *rep = *in == '&' ? "&amp;" : *in == '<' ? "&lt;" : *in == '>' ? "&gt;" : NULL;
		if (rep) {
			memcpy(out + o, rep, strlen(rep));
			o += strlen(rep);
		} else {
			out[o++] = *in;
		}
	}
	out[o] = '\0';
}

static json_t *slack(const struct bs_event *ev, const char *summary)
{
	json_t *o, *fields = json_array();
	char text[BS_EVENT_VALUE_MAX + 64], buf[BS_EVENT_VALUE_MAX + 64], esc[2 * BS_EVENT_VALUE_MAX];
	char cut[3000], key[32];

	/* a section holds at most 10 fields */
	for (size_t i = 0; fields && i < ev->n && json_array_size(fields) < 10; i++) {
		lower(ev->f[i].key, key, sizeof(key));
		slack_escape(ev->f[i].value, esc, sizeof(esc));
		utf8_copy(cut, sizeof(cut), esc, 1900); /* a field's text is at most 2000 characters */
		snprintf(buf, sizeof(buf), "*%s*\n%s", key, cut);
		json_array_append_new(fields, json_pack("{s:s,s:s}", "type", "mrkdwn", "text", buf));
	}
	slack_escape(summary, esc, sizeof(esc));
	utf8_copy(cut, sizeof(cut), esc, 2900); /* a section's text is at most 3000 */
	snprintf(text, sizeof(text), "%s*%s*", ev->kind == BS_EVENT_FAILURE ? ":red_circle: " : "", cut);
	o = json_pack("{s:s,s:[{s:s,s:{s:s,s:s}}]}", "text", summary, "blocks", "type", "section", "text", "type",
		      "mrkdwn", "text", text);
	if (o && fields && json_array_size(fields) > 0)
		json_array_append_new(json_object_get(o, "blocks"),
				      json_pack("{s:s,s:O}", "type", "section", "fields", fields));
	json_decref(fields);
	return o;
}

static json_t *teams(const struct bs_event *ev, const char *summary)
{
	json_t *facts = json_array(), *card;
	char key[32];

	for (size_t i = 0; facts && i < ev->n; i++) {
		lower(ev->f[i].key, key, sizeof(key));
		json_array_append_new(facts, json_pack("{s:s,s:s}", "title", key, "value", ev->f[i].value));
	}
	card = json_pack("{s:s,s:s,s:s,s:[{s:s,s:s,s:s,s:s,s:b,s:s},{s:s,s:o}]}",
			 "$schema", "http://adaptivecards.io/schemas/adaptive-card.json", "type", "AdaptiveCard",
			 "version", "1.4", "body", "type", "TextBlock", "text", summary, "weight", "Bolder", "size",
			 "Medium", "wrap", 1, "color", ev->kind == BS_EVENT_FAILURE ? "Attention" : "Default", "type",
			 "FactSet", "facts", facts);
	if (!card)
		return NULL;
	return json_pack("{s:s,s:[{s:s,s:n,s:o}]}", "type", "message", "attachments", "contentType",
			 "application/vnd.microsoft.card.adaptive", "contentUrl", "content", card);
}

json_t *bs_event_payload(const struct bs_event *ev, enum bs_payload_format fmt, const char *host)
{
	char summary[BS_EVENT_VALUE_MAX + 256];

	bs_event_summary(ev, host, summary, sizeof(summary));
	switch (fmt) {
	case BS_PAYLOAD_SLACK: return slack(ev, summary);
	case BS_PAYLOAD_TEAMS: return teams(ev, summary);
	default: return generic(ev, summary, host);
	}
}
