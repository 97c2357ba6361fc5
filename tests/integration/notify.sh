#!/usr/bin/env bash
# notify.sh - hooks on every event and webhooks: a failing pre-hook stops
# the operation with nothing written, a hanging hook is killed at
# hooks.timeout, hook output reaches the log; webhooks (generic, Slack,
# Teams) reach a real local receiver as valid JSON with the documented
# fields, a receiver answering 500 is retried, then reported without
# failing the backup, and a webhook's URL (its secret) is never logged.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BS_CMD_TIMEOUT=${BS_CMD_TIMEOUT_NOTIFY:-180}
SRC=$(new_db nt)
pg "$SRC" "create table t (id int primary key, v text); insert into t select g, 'v' || g from generate_series(1, 500) g;" >/dev/null
REPO=$BS_TMP/repo
H=$BS_TMP/h
RX=$BS_TMP/rx
mkdir -p "$H" "$RX"
bs repo init --repo "$REPO" -q >/dev/null || exit 1

# the receiver (tests/net/webhook_receiver.py): every request in $RX/NNNN.json
/usr/bin/python3 "$BS_ROOT/tests/net/webhook_receiver.py" --dir "$RX" --port-file "$BS_TMP/rx.port" \
	--parent $$ >"$BS_TMP/rx.log" 2>&1 &
RX_PID=$!
bs_on_exit kill "$RX_PID"
for _ in $(seq 50); do [ -s "$BS_TMP/rx.port" ] && break; sleep 0.1; done
[ -s "$BS_TMP/rx.port" ] || not_ok "the webhook receiver did not start: $(cat "$BS_TMP/rx.log")"
URL=http://127.0.0.1:$(cat "$BS_TMP/rx.port")

# hook NAME: a hook that records its environment and argument, prints a line
# on stdout and on stderr, and exits with $HOOK_EXIT_<NAME> (default 0)
hook() {
	cat >"$H/$1" <<HK
#!/bin/sh
env | grep '^BACKSTOP_' | sort > "$H/$1.env"
echo "stdout of hook $1"
echo "stderr of hook $1" >&2
exit \${HOOK_EXIT_$1:-0}
HK
	chmod +x "$H/$1"
}
for h in pre post failed prerestore postrestore nogo; do hook "$h"; done

# config EXTRA: the config file with the hooks, plus EXTRA (YAML) appended;
# PRE_SNAP replaces the pre-snap hook, HOOK_TIMEOUT sets hooks.timeout
config() {
	cat >"$BS_TMP/backstop.yaml" <<Y
database: "dbname=$SRC"
repository: $REPO
encryption: none
hooks:
  timeout: ${HOOK_TIMEOUT:-5m}
  pre_snap: ${PRE_SNAP:-$H/pre}
  post_snap: $H/post
  snap_failed: $H/failed
  pre_restore: $H/prerestore
  post_restore: $H/postrestore
  gate_no_go: $H/nogo
$1
Y
}

# received: the bodies received so far, one JSON document per line
received() { for f in "$RX"/*.json; do [ -e "$f" ] && jq -c . "$f"; done; }
rx_clear() { rm -f "$RX"/*.json; }
# json_is DOC [JQ ARGS] FILTER: DOC is non-empty JSON and FILTER is true
# (jq -e alone passes on empty input)
json_is() {
	local doc=$1
	shift
	[ -n "$doc" ] && jq -e "$@" <<<"$doc" >/dev/null
}
# rx_event EVENT FILTER: a received payload of EVENT exists, and FILTER is
# true of the newest one
rx_event() {
	local body
	body=$(for f in "$RX"/*.json; do [ -e "$f" ] && jq -r .body "$f"; done | jq -c --arg e "$1" 'select(.event == $e)' | tail -n 1)
	json_is "$body" "$2"
}
# rx_last: the newest request's record
rx_last() { ls "$RX"/*.json | tail -n 1; }
snapshots() { find "$REPO/snapshots" "$REPO/archives" -type f | wc -l; }

t_webhook_success_generic() {
	rx_clear
	rm -f "$H"/*.env
	config "webhooks:
  ops:
    url: $URL/ok/generic
    on_success: true"
	run_cmd bs snap -q
	expect_exit 0
	local id=$OUT body
	check "one request received" test "$(ls "$RX" | wc -l)" -eq 1
	body=$(jq -r .body "$(rx_last)")
	check "the payload is JSON" json_is "$body" .
	check_eq "Content-Type" "$(jq -r .content_type "$(rx_last)")" "application/json"
	check_eq "event, kind, source, version" "$(jq -r '[.event, .kind, .source, .version] | join(" ")' <<<"$body")" \
		"post-snap success backstop 1"
	check_eq "fields: database, snapshot id, result" \
		"$(jq -r '[.fields.database, .fields.snapshot_id, .fields.result] | join(" ")' <<<"$body")" "$SRC $id ok"
	check "fields: bytes is a number" json_is "$body" '.fields.bytes | test("^[0-9]+$")'
	check "time is ISO 8601 UTC" json_is "$body" '.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$")'
	check_eq "host" "$(jq -r .host <<<"$body")" "$(hostname)"
	check "summary names the event and database" json_is "$body" --arg db "$SRC" \
		'.summary | contains("post-snap") and contains($db)'
	check "the hook saw the same facts" grep -qx "BACKSTOP_SNAPSHOT_ID=$id" "$H/post.env"
	check "the hook saw BACKSTOP_RESULT=ok" grep -qx "BACKSTOP_RESULT=ok" "$H/post.env"
}
run_test "snap with a generic webhook on_success: valid JSON with the documented fields" t_webhook_success_generic

t_failures_only_by_default() {
	rx_clear
	config "webhooks:
  ops:
    url: $URL/ok/default"
	run_cmd bs snap -q
	expect_exit 0
	check_eq "a success sends nothing without on_success" "$(ls "$RX" | wc -l)" 0
}
run_test "by default a webhook hears of failures only" t_failures_only_by_default

t_pre_hook_fails() {
	rx_clear
	rm -f "$H"/*.env
	config "webhooks:
  chat:
    url: $URL/ok/slack
    format: slack"
	local before
	before=$(snapshots)
	HOOK_EXIT_pre=4 run_cmd bs snap
	expect_exit 3
	expect_stderr_contains "pre-snap hook '$H/pre' failed (exit 4)"
	expect_stderr_contains "stderr of hook pre"
	expect_stderr_contains "stdout of hook pre"
	check_eq "nothing written to the repository" "$(snapshots)" "$before"
	check "no temporary upload left" test -z "$(ls -A "$REPO/tmp" 2>/dev/null)"
	check "the post-snap hook did not run" test ! -e "$H/post.env"
	check "snap_failed hook got the error" grep -q "^BACKSTOP_ERROR=.*pre-snap hook" "$H/failed.env"
	check "one webhook request (snap-failed)" test "$(ls "$RX" | wc -l)" -eq 1
	local body
	body=$(jq -r .body "$(rx_last)")
	check "slack payload: text names snap-failed and the database" \
		json_is "$body" --arg db "$SRC" '.text | contains("snap-failed") and contains($db)'
	check "slack payload: blocks with mrkdwn sections and fields" \
		json_is "$body" '(.blocks[0].type == "section") and (.blocks[0].text.type == "mrkdwn") and ([.blocks[1].fields[].text] | any(startswith("*error*")))'
}
run_test "a failing pre-snap hook stops the snap: exit 3, nothing written, its output in the log, snap-failed to Slack" t_pre_hook_fails

t_hanging_hook() {
	cat >"$H/hang" <<HK
#!/bin/sh
echo \$\$ > "$H/hang.pid"
echo "hang hook started"
exec sleep 300
HK
	chmod +x "$H/hang"
	PRE_SNAP=$H/hang HOOK_TIMEOUT=2s config ""
	local before t0 t1 pid
	before=$(snapshots)
	t0=$(date +%s.%N)
	run_cmd bs snap
	t1=$(date +%s.%N)
	expect_exit 3
	expect_stderr_contains "pre-snap hook '$H/hang' timed out after 2s"
	expect_stderr_contains "hang hook started"
	check "killed at its timeout (well under the hook's 300 s)" awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 15) }'
	pid=$(cat "$H/hang.pid")
	check "the hook process is gone" bash -c "! kill -0 $pid 2>/dev/null"
	check_eq "nothing written to the repository" "$(snapshots)" "$before"
}
run_test "a hanging hook is killed at hooks.timeout; the snap stops, nothing written" t_hanging_hook

t_webhook_500() {
	rx_clear
	config "webhooks:
  flaky:
    url: $URL/fail/500/0/TOPSECRETTOKEN
    on_success: true
    retries: 2
    timeout: 5s
  later:
    url: $URL/fail/503/1/recovers
    on_success: true
    format: teams"
	local before
	before=$(ls "$REPO/snapshots" | wc -l)
	run_cmd bs snap
	expect_exit 0 "the backup itself succeeds"
	check_eq "the snapshot is committed" "$(ls "$REPO/snapshots" | wc -l)" $((before + 1))
	expect_stderr_contains "webhook 'flaky' (post-snap): HTTP status 500 after 3 attempts"
	check "the webhook's URL (its secret) is never logged" bash -c "! grep -q TOPSECRETTOKEN '$ERR_FILE'"
	check_eq "the failing receiver was tried 1 + retries times" \
		"$(jq -r .path "$RX"/*.json | grep -c TOPSECRETTOKEN)" 3
	check_eq "the 503 receiver got it on the retry" \
		"$(jq -r 'select(.path | endswith("recovers")) | .status' "$RX"/*.json | paste -sd' ')" "503 200"
	local body
	body=$(jq -r 'select(.path | endswith("recovers")) | .body' "$RX"/*.json | tail -1)
	check "teams payload: a message with an Adaptive Card" \
		json_is "$body" '.type == "message" and .attachments[0].contentType == "application/vnd.microsoft.card.adaptive" and .attachments[0].content.type == "AdaptiveCard"'
	check "teams payload: facts include the snapshot id" \
		json_is "$body" '[.attachments[0].content.body[1].facts[] | select(.title == "snapshot_id")] | length == 1'
}
run_test "a receiver answering 500 is retried, then reported; the backup succeeds; a 503 once is retried to success" t_webhook_500

t_restore_hooks() {
	rx_clear
	rm -f "$H"/*.env
	config "webhooks:
  ops:
    url: $URL/ok/restore
    on_success: true"
	local tgt=${SRC}_r1
	HOOK_EXIT_prerestore=1 run_cmd bs restore latest -d "$(db_conninfo "$tgt")" --create
	expect_exit 3 "a failing pre-restore hook stops the restore"
	expect_stderr_contains "pre-restore hook '$H/prerestore' failed (exit 1)"
	check_eq "the target database was not created" \
		"$(pg postgres "select count(*) from pg_database where datname = '$tgt'")" 0
	check "pre-restore hook got the target" grep -qx "BACKSTOP_TARGET=$tgt" "$H/prerestore.env"
	check "pre-restore hook got the snapshot" grep -qx "BACKSTOP_SNAPSHOT_ID=$(ls "$REPO/snapshots" | tail -n 1 | sed 's/\.json$//')" \
		"$H/prerestore.env"
	check "post-restore hook: failed" grep -qx "BACKSTOP_RESULT=failed" "$H/postrestore.env"
	check "webhook: post-restore failed" \
		rx_event post-restore '.kind == "failure" and .fields.result == "failed"'
	rx_clear
	rm -f "$H"/*.env
	run_cmd bs restore latest -d "$(db_conninfo "$tgt")" --create
	expect_exit 0
	drop_db "$tgt"
	check "pre-restore ran" grep -qx "BACKSTOP_EVENT=pre-restore" "$H/prerestore.env"
	check "post-restore hook: ok" grep -qx "BACKSTOP_RESULT=ok" "$H/postrestore.env"
	check "post-restore hook: rows" grep -qx "BACKSTOP_ROWS=500" "$H/postrestore.env"
	check "webhook: post-restore success" \
		rx_event post-restore ".kind == \"success\" and .fields.target == \"$tgt\""
}
run_test "restore: a failing pre-restore hook stops it before the target is touched; post-restore tells ok or failed" t_restore_hooks

t_gate_no_go() {
	rx_clear
	rm -f "$H"/*.env
	mkdir -p "$BS_TMP/policies"
	cat >"$BS_TMP/policies/nt.yaml" <<P
kind: gate
gates:
  - name: ops
    criteria:
      - {kind: backup, database: nosuchdb, repository: $REPO}
P
	cat >"$BS_TMP/policies/ok.yaml" <<P
kind: gate
gates:
  - name: ops
    criteria:
      - {kind: backup, database: $SRC, repository: $REPO, encrypted: false}
P
	config "gate:
  policies: $BS_TMP/policies
webhooks:
  ci:
    url: $URL/ok/gate
    on_success: true"
	run_cmd bs gate check nt --release v9 --no-record
	expect_exit 1
	check "gate_no_go hook ran with the policy and release" grep -qx "BACKSTOP_POLICY=nt" "$H/nogo.env"
	check "... BACKSTOP_RESULT=no-go" grep -qx "BACKSTOP_RESULT=no-go" "$H/nogo.env"
	check "... the failing criterion" grep -q "^BACKSTOP_ERROR=FAIL ops.backup" "$H/nogo.env"
	check "webhook: gate-no-go" \
		rx_event gate-no-go '.fields.release == "v9" and .fields.failed_criteria == "1"'
	rx_clear
	rm -f "$H"/*.env
	run_cmd bs gate check ok --release v9 --no-record
	expect_exit 0
	check "no gate_no_go hook on GO" test ! -e "$H/nogo.env"
	check "webhook: gate-go (on_success)" \
		rx_event gate-go '.fields.result == "go"'
}
run_test "gate check: NO-GO runs gate_no_go and sends gate-no-go; GO sends gate-go with on_success" t_gate_no_go

t_config_errors() {
	local before
	before=$(snapshots)
	config "webhooks:
  nourl:
    format: slack"
	run_cmd bs snap
	expect_exit 2
	expect_stderr_matches "backstop.yaml:[0-9]+:[0-9]+: webhook 'nourl' needs exactly one of 'url' and 'url_file'"
	config "webhooks:
  ftp:
    url: ftp://example.invalid/SECRETPATH"
	run_cmd bs snap
	expect_exit 2
	expect_stderr_contains "'webhooks.ftp.url' must be an http:// or https:// URL"
	check "the bad URL is not echoed" bash -c "! grep -q SECRETPATH '$ERR_FILE'"
	config "webhooks:
  typo:
    url: $URL/ok/x
    events: [snap-failed, snap-faild]"
	run_cmd bs snap
	expect_exit 2
	expect_stderr_contains "unknown event 'snap-faild'"
	config "webhooks:
  teams:
    url: $URL/ok/x
    format: telegram"
	run_cmd bs snap
	expect_exit 2
	expect_stderr_contains "format"
	check_eq "nothing written by refused configs" "$(snapshots)" "$before"
	# a URL written in a file others can read: a warning naming its place, not the URL
	config "webhooks:
  inline:
    url: $URL/ok/INLINESECRET"
	chmod 644 "$BS_TMP/backstop.yaml"
	run_cmd bs snap -q
	expect_exit 0
	expect_stderr_matches "backstop.yaml:[0-9]+:[0-9]+: this config file holds a webhook URL and is accessible by group or others"
	check "the URL is not in the warning" bash -c "! grep -q INLINESECRET '$ERR_FILE'"
	WEBHOOK_URL=$URL/ok/fromenv config "webhooks:
  env:
    url: \${WEBHOOK_URL}"
	chmod 644 "$BS_TMP/backstop.yaml"
	WEBHOOK_URL=$URL/ok/fromenv run_cmd bs snap -q
	expect_exit 0
	check "a URL from the environment is not in the file: no warning" bash -c "! grep -q 'holds a webhook URL' '$ERR_FILE'"
	# a URL file readable by others: refused at send time, the backup goes on
	printf '%s/ok/file\n' "$URL" >"$BS_TMP/url"
	chmod 644 "$BS_TMP/url"
	rx_clear
	config "webhooks:
  f:
    url_file: $BS_TMP/url
    on_success: true"
	run_cmd bs snap
	expect_exit 0
	expect_stderr_contains "is accessible by group or others"
	check_eq "nothing sent from an unsafe URL file" "$(ls "$RX" | wc -l)" 0
	chmod 600 "$BS_TMP/url"
	run_cmd bs snap -q
	expect_exit 0
	check_eq "sent once the file is private" "$(jq -r .path "$RX"/*.json)" "/ok/file"
}
run_test "webhook config errors are reported with their position; an unsafe url_file is refused without failing the backup" t_config_errors

t_events_filter() {
	rx_clear
	config "webhooks:
  only-restore:
    url: $URL/ok/filter
    events: [post-restore]"
	run_cmd bs snap -q
	expect_exit 0
	check_eq "post-snap is not in the list: nothing sent" "$(ls "$RX" | wc -l)" 0
	local tgt=${SRC}_r2
	run_cmd bs restore latest -d "$(db_conninfo "$tgt")" --create -q
	expect_exit 0
	drop_db "$tgt"
	check_eq "post-restore is: sent" "$(jq -r .body "$RX"/*.json | jq -r .event)" "post-restore"
}
run_test "events: a webhook gets exactly the events it lists, successes included" t_events_filter

t_sigterm_hanging_webhook() {
	# SIGTERM while the pre-snap hook runs; the webhook's receiver hangs:
	# the failure metrics are written first, the webhook gets one attempt
	# (its timeout, at most 10 s) instead of 1 + retries, and the process
	# ends well within a service manager's stop timeout
	cat >"$H/slow" <<HK
#!/bin/sh
echo started > "$H/slow.started"
exec sleep 60
HK
	chmod +x "$H/slow"
	mkdir -p "$BS_TMP/prom2"
	PRE_SNAP=$H/slow config "metrics_dir: $BS_TMP/prom2
webhooks:
  stuck:
    url: $URL/hang/120/stuck
    timeout: 4s
    retries: 5"
	rm -f "$H/slow.started"
	local pid t0 t1 rc=0
	"$BS_BIN/backstop" snap --config "$BS_TMP/backstop.yaml" >"$BS_TMP/sig.out" 2>"$BS_TMP/sig.err" &
	pid=$!
	for _ in $(seq 100); do [ -e "$H/slow.started" ] && break; sleep 0.1; done
	check "the pre-snap hook is running" test -e "$H/slow.started"
	t0=$(date +%s)
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	t1=$(date +%s)
	check_eq "exit 143 (SIGTERM)" "$rc" 143
	check "ended within 12 s though the webhook hangs (one 4 s attempt, not 6 with backoff)" test $((t1 - t0)) -lt 12
	check "the failure is in the metrics" grep -q '^backstop_snap_last_run_success{.*} 0$' "$BS_TMP/prom2/backstop_snap_$SRC.prom"
	check "the webhook's failure is reported" grep -q "webhook 'stuck' (snap-failed)" "$BS_TMP/sig.err"
}
run_test "SIGTERM with a webhook receiver that hangs: metrics first, one short attempt, the snap ends in time" t_sigterm_hanging_webhook

t_docs_example() {
	# docs/config.md's example block, as written, with this machine's paths
	local block
	block=$(awk '/^## Hooks, webhooks and metrics/ { on = 1 } on && /^```yaml$/ { inb = 1; next } inb && /^```$/ { exit } inb' \
		"$BS_ROOT/docs/config.md")
	check "the example block was found" test -n "$block"
	mkdir -p "$BS_TMP/prom"
	printf '%s/ok/docs\n' "$URL" >"$BS_TMP/slack-url"
	chmod 600 "$BS_TMP/slack-url"
	{
		printf 'database: "dbname=%s"\nrepository: %s\nencryption: none\n' "$SRC" "$REPO"
		sed -e "s|/etc/backstop/hooks/|$BS_ROOT/hooks/|" -e "s|/etc/backstop/slack-webhook-url|$BS_TMP/slack-url|" \
			-e "s|/var/lib/prometheus/node-exporter|$BS_TMP/prom|" <<<"$block"
	} >"$BS_TMP/backstop.yaml"
	rx_clear
	local before
	before=$(snapshots)
	HOOK_MIN_FREE_MB=999999999 run_cmd bs snap
	expect_exit 3 "the shipped pre-snap-check-space hook refuses (too little space)"
	expect_stderr_contains "less than 999999999 MB"
	check_eq "nothing written" "$(snapshots)" "$before"
	check "the slack webhook heard of snap-failed, with the hook's error" bash -c \
		"cat '$RX'/*.json | jq -r .body | jq -e -s 'map(select(.text | contains(\"snap-failed\") and contains(\"pre-snap hook\"))) | length == 1'"
	check "metrics written" test -s "$BS_TMP/prom/backstop_snap_$SRC.prom"
}
run_test "docs/config.md's hooks and webhooks example works as written (shipped hooks, a slack webhook)" t_docs_example
