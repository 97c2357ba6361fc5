/*
 * event.h - what a command tells the outside world: an event (pre-snap,
 * snap-failed, post-restore, gate-no-go...) with its facts, handed to the
 * operator's hook (as BACKSTOP_* environment variables) and to webhooks (as
 * a JSON payload: generic, Slack or Microsoft Teams).  docs/config.md,
 * "Hooks" and "Webhooks", lists every event and field.
 *
 *   struct bs_event ev;
 *   bs_event_init(&ev, "snap-failed", BS_EVENT_FAILURE);
 *   bs_event_add(&ev, "DATABASE", "%s", db);
 *   bs_event_add(&ev, "ERROR", "%s", err->msg);
 *   ... bs_cmd_event(cfg, cfg->hooks.snap_failed, &ev, 0, &e) (command/event.h) ...
 *   bs_event_release(&ev);
 *
 * Field keys are upper case (the hook sees BACKSTOP_<KEY>, a payload
 * "<key>" in lower case).  Values are one line: bs_event_add keeps what
 * comes before the first newline.
 *
 * Ownership: the event owns its values (malloc'd); bs_event_release frees
 * them.  A value that cannot be stored (out of memory, too many fields) is
 * left out: telling must never fail the command it tells about.
 */
#ifndef BS_NOTIFY_EVENT_H
#define BS_NOTIFY_EVENT_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#define BS_EVENT_FIELDS_MAX 16
#define BS_EVENT_VALUE_MAX 4096

/* What the event says, for webhooks' filters: BEFORE an operation (a hook
 * may stop it; no webhook by default), the operation SUCCEEDED, it FAILED,
 * or INFO (after the fact, neither: post-drill of a failed drill, whose
 * failure is drill-failed). */
enum bs_event_kind { BS_EVENT_BEFORE = 0, BS_EVENT_SUCCESS, BS_EVENT_FAILURE, BS_EVENT_INFO };

struct bs_event_field {
	char key[32];
	char *value;
};

struct bs_event {
	char name[32];         /* "snap-failed" */
	enum bs_event_kind kind;
	time_t time;           /* when it happened (bs_event_init) */
	size_t n;
	struct bs_event_field f[BS_EVENT_FIELDS_MAX];
};

void bs_event_init(struct bs_event *ev, const char *name, enum bs_event_kind kind);
/* Add KEY=value (printf format).  A NULL fmt adds nothing; a key given
 * twice keeps the last value. */
void bs_event_add(struct bs_event *ev, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The value of key, or NULL. */
const char *bs_event_get(const struct bs_event *ev, const char *key);
void bs_event_release(struct bs_event *ev);

/* The names of every event, NULL-terminated (config checks webhook
 * filters against it). */
extern const char *const bs_event_names[];
int bs_event_name_known(const char *name);

/* The environment a hook gets: "BACKSTOP_<KEY>=value" entries in buf
 * (caller's array of at least BS_EVENT_FIELDS_MAX + 1), NULL-terminated;
 * each string is malloc'd: free with bs_event_env_free. */
void bs_event_env(const struct bs_event *ev, char **env);
void bs_event_env_free(char **env);

/* One line saying what happened, for humans: "backstop snap-failed
 * (database app) on db1: failed, <error>" (the service, policy or database
 * the event is about; the host; the result; the error).  Written into out
 * (size n), valid UTF-8 even when cut. */
void bs_event_summary(const struct bs_event *ev, const char *host, char *out, size_t n);

enum bs_payload_format { BS_PAYLOAD_GENERIC = 0, BS_PAYLOAD_SLACK, BS_PAYLOAD_TEAMS };

/* The webhook payload (a new reference; NULL when out of memory).
 *   generic: {"source":"backstop","version":1,"event","kind","summary",
 *             "host","time","fields":{"<key>": "<value>", ...}}
 *   slack:   an incoming-webhook message: "text" (the summary) and blocks
 *   teams:   a "message" with one Adaptive Card attachment (Workflows'
 *            "post to a channel when a webhook request is received") */
json_t *bs_event_payload(const struct bs_event *ev, enum bs_payload_format fmt, const char *host);

#endif
