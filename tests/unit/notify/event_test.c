/* event_test.c - an event's fields, its hook environment, its summary and
 * its three webhook payloads. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "notify/event.h"
#include "notify/webhook.h"

static void failed_snap(struct bs_event *ev)
{
	bs_event_init(ev, "snap-failed", BS_EVENT_FAILURE);
	bs_event_add(ev, "DATABASE", "%s", "app");
	bs_event_add(ev, "RESULT", "%s", "failed");
	bs_event_add(ev, "ERROR", "%s: <%s> & more\nsecond line", "pre-snap hook", "x");
}

TEST(fields_one_line_last_value_wins)
{
	struct bs_event ev;

	failed_snap(&ev);
	CHECK_STR(bs_event_get(&ev, "ERROR"), "pre-snap hook: <x> & more");
	bs_event_add(&ev, "RESULT", "%s", "interrupted");
	CHECK_STR(bs_event_get(&ev, "RESULT"), "interrupted");
	CHECK_INT(ev.n, 3);
	bs_event_add(&ev, "NOTHING", NULL);
	CHECK(bs_event_get(&ev, "NOTHING") == NULL);
	for (int i = 0; i < 40; i++)
		bs_event_add(&ev, i % 2 ? "A" : "B", "%d", i); /* replaced, never more than the room */
	CHECK_INT(ev.n, 5);
	bs_event_release(&ev);
}

TEST(too_many_fields_are_dropped_not_overflowed)
{
	struct bs_event ev;
	char key[16];

	bs_event_init(&ev, "post-snap", BS_EVENT_SUCCESS);
	for (int i = 0; i < BS_EVENT_FIELDS_MAX + 5; i++) {
		snprintf(key, sizeof(key), "K%d", i);
		bs_event_add(&ev, key, "%d", i);
	}
	CHECK_INT(ev.n, BS_EVENT_FIELDS_MAX);
	CHECK(bs_event_get(&ev, "K0") != NULL);
	CHECK(bs_event_get(&ev, "K20") == NULL);
	bs_event_release(&ev);
}

TEST(hook_environment)
{
	struct bs_event ev;
	char *env[BS_EVENT_FIELDS_MAX + 1];

	failed_snap(&ev);
	bs_event_env(&ev, env);
	CHECK_STR(env[0], "BACKSTOP_DATABASE=app");
	CHECK_STR(env[1], "BACKSTOP_RESULT=failed");
	CHECK_STR(env[2], "BACKSTOP_ERROR=pre-snap hook: <x> & more");
	CHECK(env[3] == NULL);
	bs_event_env_free(env);
	bs_event_release(&ev);
}

TEST(summary)
{
	struct bs_event ev;
	char s[512];

	failed_snap(&ev);
	bs_event_summary(&ev, "db1", s, sizeof(s));
	CHECK_STR(s, "backstop snap-failed (database app) on db1: failed, pre-snap hook: <x> & more");
	bs_event_release(&ev);
	bs_event_init(&ev, "post-rollback", BS_EVENT_SUCCESS);
	bs_event_add(&ev, "SERVICE", "%s", "api");
	bs_event_add(&ev, "DATABASE", "%s", "app");
	bs_event_add(&ev, "RESULT", "%s", "ok");
	bs_event_summary(&ev, "", s, sizeof(s));
	CHECK_STR(s, "backstop post-rollback (service api): ok");
	bs_event_summary(&ev, "host", s, 12); /* truncated, terminated */
	CHECK_STR(s, "backstop po");
	bs_event_release(&ev);
}

TEST(generic_payload)
{
	struct bs_event ev;
	json_t *p;

	failed_snap(&ev);
	p = bs_event_payload(&ev, BS_PAYLOAD_GENERIC, "db1");
	CHECK(p != NULL);
	CHECK_STR(json_string_value(json_object_get(p, "source")), "backstop");
	CHECK_INT(json_integer_value(json_object_get(p, "version")), 1);
	CHECK_STR(json_string_value(json_object_get(p, "event")), "snap-failed");
	CHECK_STR(json_string_value(json_object_get(p, "kind")), "failure");
	CHECK_STR(json_string_value(json_object_get(p, "host")), "db1");
	CHECK_STR(json_string_value(json_object_get(json_object_get(p, "fields"), "database")), "app");
	CHECK_STR(json_string_value(json_object_get(json_object_get(p, "fields"), "error")), "pre-snap hook: <x> & more");
	CHECK_INT(strlen(json_string_value(json_object_get(p, "time"))), 20);
	json_decref(p);
	bs_event_release(&ev);
}

TEST(slack_payload_escapes_mrkdwn)
{
	struct bs_event ev;
	json_t *p, *blocks;
	const char *t;

	failed_snap(&ev);
	p = bs_event_payload(&ev, BS_PAYLOAD_SLACK, "db1");
	CHECK(p != NULL);
	CHECK(strstr(json_string_value(json_object_get(p, "text")), "<x> & more") != NULL); /* plain fallback */
	blocks = json_object_get(p, "blocks");
	CHECK_INT(json_array_size(blocks), 2);
	t = json_string_value(json_object_get(json_object_get(json_array_get(blocks, 0), "text"), "text"));
	CHECK(t && strstr(t, "&lt;x&gt; &amp; more") != NULL);
	CHECK(t && strncmp(t, ":red_circle: *", 14) == 0);
	CHECK_INT(json_array_size(json_object_get(json_array_get(blocks, 1), "fields")), 3);
	json_decref(p);
	bs_event_release(&ev);
}

TEST(teams_payload_is_an_adaptive_card)
{
	struct bs_event ev;
	json_t *p, *att, *card, *facts;

	failed_snap(&ev);
	p = bs_event_payload(&ev, BS_PAYLOAD_TEAMS, "db1");
	CHECK(p != NULL);
	CHECK_STR(json_string_value(json_object_get(p, "type")), "message");
	att = json_array_get(json_object_get(p, "attachments"), 0);
	CHECK_STR(json_string_value(json_object_get(att, "contentType")), "application/vnd.microsoft.card.adaptive");
	card = json_object_get(att, "content");
	CHECK_STR(json_string_value(json_object_get(card, "type")), "AdaptiveCard");
	CHECK_STR(json_string_value(json_object_get(card, "version")), "1.4");
	facts = json_object_get(json_array_get(json_object_get(card, "body"), 1), "facts");
	CHECK_INT(json_array_size(facts), 3);
	CHECK_STR(json_string_value(json_object_get(json_array_get(facts, 0), "title")), "database");
	json_decref(p);
	bs_event_release(&ev);
}

TEST(webhook_filter)
{
	struct bs_webhook w;
	struct bs_event ok, bad, pre;
	char *events[] = { "post-restore" };

	memset(&w, 0, sizeof(w));
	bs_event_init(&ok, "post-snap", BS_EVENT_SUCCESS);
	bs_event_init(&bad, "snap-failed", BS_EVENT_FAILURE);
	bs_event_init(&pre, "pre-snap", BS_EVENT_BEFORE);
	CHECK(!bs_webhook_wants(&w, &ok));
	CHECK(bs_webhook_wants(&w, &bad));
	CHECK(!bs_webhook_wants(&w, &pre));
	w.on_success = 1;
	CHECK(bs_webhook_wants(&w, &ok));
	CHECK(!bs_webhook_wants(&w, &pre));
	w.events = events;
	w.nevents = 1;
	CHECK(!bs_webhook_wants(&w, &bad));
	snprintf(ok.name, sizeof(ok.name), "post-restore");
	CHECK(bs_webhook_wants(&w, &ok));
	CHECK(bs_event_name_known("gate-no-go"));
	CHECK(!bs_event_name_known("gate-nogo"));
}

TEST(values_are_valid_utf8)
{
	struct bs_event ev;
	char big[BS_EVENT_VALUE_MAX + 100], s[64];
	json_t *p;
	size_t i;

	bs_event_init(&ev, "snap-failed", BS_EVENT_FAILURE);
	bs_event_add(&ev, "ERROR", "%s", "caf\xc3\xa9 \xff\xfe latin1 \xe9t\xe9 \xed\xa0\x80 \xc0\xaf");
	CHECK_STR(bs_event_get(&ev, "ERROR"), "caf\xc3\xa9 ?? latin1 ?t? ??? ??");
	/* a value cut at the limit in the middle of a character */
	for (i = 0; i + 2 < sizeof(big); i += 2)
		memcpy(big + i, "\xc3\xa9", 2);
	big[i] = '\0';
	bs_event_add(&ev, "DATABASE", "x%s", big); /* odd offset: the cut splits an é */
	CHECK_INT(strlen(bs_event_get(&ev, "DATABASE")), BS_EVENT_VALUE_MAX - 1);
	for (int f = BS_PAYLOAD_GENERIC; f <= BS_PAYLOAD_TEAMS; f++) {
		p = bs_event_payload(&ev, (enum bs_payload_format)f, "db1");
		CHECK(p != NULL); /* jansson refuses invalid UTF-8: the payload would be lost */
		json_decref(p);
	}
	bs_event_summary(&ev, "h", s, 33); /* "backstop snap-failed (database x" + half an é */
	p = json_string(s);
	CHECK(p != NULL);
	json_decref(p);
	bs_event_release(&ev);
}

int main(void)
{
	RUN(fields_one_line_last_value_wins);
	RUN(too_many_fields_are_dropped_not_overflowed);
	RUN(hook_environment);
	RUN(summary);
	RUN(generic_payload);
	RUN(slack_payload_escapes_mrkdwn);
	RUN(teams_payload_is_an_adaptive_card);
	RUN(webhook_filter);
	RUN(values_are_valid_utf8);
	return DONE();
}
