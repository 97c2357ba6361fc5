/*
 * event.h (command layer) - tell the operator about an event: run its hook
 * (hooks: in backstop.yaml) and send it to the webhooks that want it
 * (webhooks:).  docs/config.md, "Hooks" and "Webhooks".
 *
 * The hook runs first, through bs_hook_run (common/hook.h), with the
 * event's fields as BACKSTOP_* variables and hooks.timeout (default
 * BS_HOOK_TIMEOUT_S).  Then every webhook that wants the event gets it; a
 * webhook that fails after its retries is a warning and changes nothing.
 * timeout_s > 0 is the hurry of an interrupted command (after SIGINT or
 * SIGTERM: BS_HOOK_TIMEOUT_INTERRUPTED_S): the hook gets that long, each
 * webhook one attempt of at most 10 s.
 *
 * Returns the hook's result: 0 (or no hook), or -1 with err when it failed
 * or timed out.  What that means is the caller's: a pre-* hook stops the
 * operation, any other is logged.
 */
#ifndef BS_COMMAND_EVENT_H
#define BS_COMMAND_EVENT_H

#include "common/err.h"
#include "config/config.h"
#include "notify/event.h"

int bs_cmd_event(const struct bs_config *cfg, const char *hook, const struct bs_event *ev, int timeout_s,
		 struct bs_err *err);

/* The same for an event after the fact: a failing hook is logged as an
 * error (with note appended, e.g. "the snapshot is committed"), never
 * returned. */
void bs_cmd_event_after(const struct bs_config *cfg, const char *hook, const struct bs_event *ev, int timeout_s,
			const char *note);

#endif
