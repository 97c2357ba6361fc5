#!/usr/bin/env bash
# hooks_metrics.sh - cron's contract: hooks run on the right events with the
# documented environment, a failing pre-snap hook stops the snap, and the
# Prometheus textfile metrics say whether the last snap worked.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SRC=$(new_db hk)
pg "$SRC" "create table t (id int); insert into t select generate_series(1, 100);" >/dev/null
mkdir -p "$BS_TMP/metrics" "$BS_TMP/h"
for ev in pre post fail; do
	cat >"$BS_TMP/h/$ev" <<H
#!/bin/sh
env | grep '^BACKSTOP_' | sort > "$BS_TMP/h/$ev.env"
echo "\$1" > "$BS_TMP/h/$ev.arg"
H
	chmod +x "$BS_TMP/h/$ev"
done
write_config() { # REPO PRE
	cat >"$BS_TMP/backstop.yaml" <<Y
database: "dbname=$SRC"
repository: $1
encryption: none
metrics_dir: $BS_TMP/metrics
hooks:
  pre_snap: $2
  post_snap: $BS_TMP/h/post
  on_failure: $BS_TMP/h/fail
Y
}

t_success() {
	write_config "$BS_TMP/repo" "$BS_TMP/h/pre"
	run_cmd bs snap -q
	expect_exit 0
	check "pre-snap hook ran" test -f "$BS_TMP/h/pre.env"
	check "post-snap hook got the snapshot id" grep -q "BACKSTOP_SNAPSHOT_ID=$(echo "$OUT" | head -1)" "$BS_TMP/h/post.env"
	check "post-snap hook got BACKSTOP_EVENT" grep -q "BACKSTOP_EVENT=post-snap" "$BS_TMP/h/post.env"
	check "on_failure did not run" test ! -e "$BS_TMP/h/fail.env"
	check "metrics: last run succeeded" grep -q "^backstop_snap_last_run_success{database=\"$SRC\"} 1$" "$BS_TMP/metrics/backstop_snap.prom"
	check "metrics: last success timestamp" grep -q "^backstop_snap_last_success_timestamp_seconds" "$BS_TMP/metrics/backstop_snap.prom"
}
run_test "successful snap: pre and post hooks with the documented environment, metrics say success" t_success

t_failure() {
	rm -f "$BS_TMP"/h/*.env
	cat >"$BS_TMP/h/refuse" <<'H'
#!/bin/sh
echo "not tonight" >&2
exit 4
H
	chmod +x "$BS_TMP/h/refuse"
	write_config "$BS_TMP/repo" "$BS_TMP/h/refuse"
	local before
	before=$(ls "$BS_TMP/repo/snapshots" | wc -l)
	run_cmd bs snap -q
	expect_exit 3
	expect_stderr_contains "pre-snap hook"
	check_eq "no snapshot taken" "$(ls "$BS_TMP/repo/snapshots" | wc -l)" "$before"
	check "on_failure hook got the error" grep -q "BACKSTOP_ERROR=.*pre-snap hook" "$BS_TMP/h/fail.env"
	check "metrics: last run failed" grep -q "^backstop_snap_last_run_success{database=\"$SRC\"} 0$" "$BS_TMP/metrics/backstop_snap.prom"
}
run_test "a failing pre-snap hook stops the snap, on_failure runs, metrics say failure" t_failure

t_server_down() {
	rm -f "$BS_TMP"/h/*.env
	write_config "$BS_TMP/repo" ""
	sed -i "s|^database:.*|database: \"host=$BS_TMP/nowhere dbname=x\"|" "$BS_TMP/backstop.yaml"
	run_cmd bs snap -q
	expect_exit 3
	check "on_failure hook ran for the failed snap" grep -q "BACKSTOP_EVENT=snap-failed" "$BS_TMP/h/fail.env"
}
run_test "server down: exit 3 and the on_failure hook is told" t_server_down

done_testing
