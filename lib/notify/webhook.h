/*
 * webhook.h - 'webhooks:' in backstop.yaml, and sending an event to one
 * (docs/config.md, "Webhooks").
 *
 *   webhooks:
 *     ops-slack:
 *       url_file: /etc/backstop/slack-webhook   # the URL is a secret
 *       format: slack                           # generic (default), slack, teams
 *       on_success: false                       # failures only (default)
 *       events: [snap-failed, drill-failed]     # optional: only these events
 *       timeout: 10s                            # per attempt
 *       retries: 3                              # after the first attempt
 *
 * Which events a webhook gets: those named in events when given, else
 * every failure event, and the success events too with on_success.
 *
 * A webhook URL carries its secret (Slack and Teams put it in the path), so
 * it is never logged: messages name the webhook by its name.
 *
 * Ownership: the set owns its entries (bs_webhook_set_release).
 */
#ifndef BS_NOTIFY_WEBHOOK_H
#define BS_NOTIFY_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "notify/event.h"

struct bs_bind_ctx;
struct bs_ynode;

#define BS_WEBHOOK_NAME_MAX 63

struct bs_webhook {
	char *name;
	char *url;           /* http(s) URL; secret */
	char *url_file;      /* or a file holding it */
	int format;          /* enum bs_payload_format */
	int on_success;
	char **events;       /* NULL: by kind (above) */
	size_t nevents;
	int64_t timeout_ms;  /* per attempt; default 10 s */
	int retries;         /* attempts after the first; default 3 */
};

struct bs_webhook_set {
	struct bs_webhook *v;
	size_t n, cap;
};

void bs_webhook_set_init(struct bs_webhook_set *s);
void bs_webhook_set_release(struct bs_webhook_set *s);

/* Bind the 'webhooks:' mapping (config/bind.h, bs_bind_entries). */
int bs_webhook_section_bind(struct bs_bind_ctx *ctx, const struct bs_ynode *node, const char *keypath,
			    struct bs_webhook_set *s, struct bs_err *err);

/* 1 when w is to be told about ev. */
int bs_webhook_wants(const struct bs_webhook *w, const struct bs_event *ev);

/* POST ev's payload to w, retrying transient failures (connection errors,
 * 408, 429, 5xx) with backoff.  host names this machine in the payload.
 * hurry: one attempt of at most 10 s (an interrupted command).  Returns 0,
 * or -1 with err naming the webhook and the last status. */
int bs_webhook_send(const struct bs_webhook *w, const struct bs_event *ev, const char *host, int hurry,
		    struct bs_err *err);

#endif
