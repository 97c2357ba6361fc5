/* event.c (command layer) - see event.h */
#include "command/event.h"

#include <stdio.h>
#include <unistd.h>

#include "common/hook.h"
#include "common/log.h"
#include "notify/webhook.h"

/* hurry: after SIGINT/SIGTERM, one short attempt per webhook (the service
 * manager's stop timeout is running). */
static void send_webhooks(const struct bs_config *cfg, const struct bs_event *ev, int hurry)
{
	char host[256] = "";

	if (cfg->webhooks.n == 0)
		return;
	if (gethostname(host, sizeof(host) - 1) < 0)
		host[0] = '\0';
	for (size_t i = 0; i < cfg->webhooks.n; i++) {
		const struct bs_webhook *w = &cfg->webhooks.v[i];
		struct bs_err e;
		if (!bs_webhook_wants(w, ev))
			continue;
		bs_err_init(&e);
		if (bs_webhook_send(w, ev, host, hurry, &e) < 0)
			bs_warn("%s; nothing else is affected", e.msg);
		else
			bs_debug("webhook '%s' told of %s", w->name, ev->name);
	}
}

int bs_cmd_event(const struct bs_config *cfg, const char *hook, const struct bs_event *ev, int timeout_s,
		 struct bs_err *err)
{
	char *env[BS_EVENT_FIELDS_MAX + 1];
	int rc, hurry = timeout_s > 0;

	if (timeout_s <= 0)
		timeout_s = cfg->hooks.timeout_s > 0 ? (int)cfg->hooks.timeout_s : BS_HOOK_TIMEOUT_S;
	bs_event_env(ev, env);
	rc = bs_hook_run(hook, ev->name, (const char *const *)env, timeout_s, err);
	bs_event_env_free(env);
	send_webhooks(cfg, ev, hurry);
	return rc;
}

void bs_cmd_event_after(const struct bs_config *cfg, const char *hook, const struct bs_event *ev, int timeout_s,
			const char *note)
{
	struct bs_err e;

	bs_err_init(&e);
	if (bs_cmd_event(cfg, hook, ev, timeout_s, &e) < 0)
		bs_warn("%s%s%s", e.msg, note ? " " : "", note ? note : "");
}
