#!/usr/bin/env bash
# metrics.sh - the Prometheus textfile metrics of every command (docs/config.md,
# "Hooks, webhooks and metrics") and the alert rules on them (contrib/prometheus):
# gate check GO and NO-GO (the last GO carried over a NO-GO), rollback to
# (ok, failed, unhealthy; a dry run writes nothing) and rollback watch with
# the exec driver and real probes, restore (success, failure keeping the last
# success), snap, a drill, prune and a TLS probe - then every .prom file the
# scenario left is read by an independent parser (prometheus_client), by the
# strict prom_check and by promtool check metrics (which lints the names);
# every series is documented; the alert rules pass promtool check rules,
# their unit tests (tests/prometheus/alerts_test.yaml: promtool test rules),
# and name only series the scenario wrote.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$BS_ROOT/tests/integration/lib_prom.sh"
. "$BS_ROOT/tests/net/webfix.sh"

W=$BS_TMP/w
M=$BS_TMP/metrics
REPO=$BS_TMP/repo
CFG=$W/backstop.yaml
CALLS=$W/calls.log
RULES=$BS_ROOT/contrib/prometheus/alerts.yaml
CLOSED=$(bs_free_port)
mkdir -p "$W/policies" "$W/ev" "$M"
bs repo init --repo "$REPO" -q || exit 1
SRC=$(new_db mx_src)
bs_on_exit drop_db "$SRC"
pg "$SRC" "create table t (id int primary key, v text); insert into t select g, 'x' from generate_series(1, 300) g" >/dev/null || exit 1

IMG=registry.example.com/acme/api
D1=sha256:$(printf '1%.0s' {1..64})
D2=sha256:$(printf '2%.0s' {1..64})
# the platform's command: logs its argv; exits with the code in $W/exitcode
cat >"$W/platform.sh" <<EOF
#!/bin/sh
echo "start \$*" >>"$CALLS"
exit "\$(cat "$W/exitcode" 2>/dev/null || echo 0)"
EOF
chmod +x "$W/platform.sh"

cat >"$CFG" <<EOF
repository: $REPO
database: $(db_conninfo "$SRC")
encryption: none
metrics_dir: $M
gate:
  policies: $W/policies
probe:
  timeout: 2s
  deadline: 5s
probes:
  db-port:
    kind: tcp
    host: 127.0.0.1:$PGPORT
  closed:
    kind: tcp
    host: 127.0.0.1:$CLOSED
services:
  api:
    image: $IMG
    driver: exec
    probes: [db-port]
    exec:
      command: [$W/platform.sh, deploy, "{service}", "{ref}"]
  down:
    image: $IMG
    driver: exec
    probes: [closed]
    verify_timeout: 1s
    exec:
      command: [$W/platform.sh, deploy, "{service}", "{ref}"]
EOF
# one gate whose only criterion is a file: there, GO; gone, NO-GO
cat >"$W/policies/release.yaml" <<EOF
kind: gate
version: 1
gates:
  - name: technical
    owner: Technical Lead
    criteria:
      - kind: file
        path: $W/ev/runbook.md
EOF

# val FILE NAME [KEY=VALUE..]: a sample's value through prometheus_client
val() { prom_value "$M/$1" "${@:2}"; }
rb() { bs rollback "$@" --config "$CFG"; }
release_id() { sed -n 's/^recorded release \([^ ]*\) .*/\1/p' "$OUT_FILE"; }
GATE=backstop_gate_release.prom

# ---- gate ----------------------------------------------------------------------

t_gate() {
	echo runbook >"$W/ev/runbook.md"
	run_cmd bs gate check release --release v1 --config "$CFG"
	expect_exit 0 "GO"
	check "the gate's metrics file" test -f "$M/$GATE"
	check_eq "GO: go 1" "$(val $GATE backstop_gate_last_decision_go policy=release release=v1)" 1
	check_eq "GO: error 0" "$(val $GATE backstop_gate_last_decision_error release=v1)" 0
	check_eq "GO: one criterion ok" "$(val $GATE backstop_gate_last_decision_criteria state=ok)" 1
	check_eq "GO: none failed" "$(val $GATE backstop_gate_last_decision_criteria state=fail)" 0
	check "GO: its duration" val $GATE backstop_gate_last_decision_duration_seconds
	local go_ts
	go_ts=$(val $GATE backstop_gate_last_go_timestamp_seconds release=v1)
	check "GO: the last GO, labelled with the release it let through" test -n "$go_ts"

	rm "$W/ev/runbook.md"
	sleep 1 # a later timestamp
	run_cmd bs gate check release --release v2 --config "$CFG"
	expect_exit 1 "NO-GO"
	check_eq "NO-GO: go 0" "$(val $GATE backstop_gate_last_decision_go release=v2)" 0
	check_eq "NO-GO: not an error" "$(val $GATE backstop_gate_last_decision_error release=v2)" 0
	check_eq "NO-GO: one failed criterion" "$(val $GATE backstop_gate_last_decision_criteria release=v2 state=fail)" 1
	check_eq "NO-GO: the last GO is carried over, still for v1" \
		"$(val $GATE backstop_gate_last_go_timestamp_seconds release=v1)" "$go_ts"
	check "NO-GO: the decision is newer than the last GO" \
		test "$(val $GATE backstop_gate_last_decision_timestamp_seconds)" -gt "$go_ts"
	check_eq "NO-GO: no series of v1 but the last GO" "$(grep -c 'release="v1"' "$M/$GATE")" 1

	run_cmd bs gate check nosuch-policy --config "$CFG"
	expect_exit 2 "an unknown policy"
	check "an unknown policy leaves no file" test ! -e "$M/backstop_gate_nosuch-policy.prom"
}
run_test "gate check: GO and NO-GO write the decision, criteria per state and the last GO (carried over a NO-GO)" t_gate

# ---- rollback --------------------------------------------------------------------

t_rollback() {
	local f=backstop_rollback_api.prom v1 v2 ok_ts
	run_cmd rb record api "$IMG:1@$D1"
	v1=$(release_id)
	rb mark api --good >/dev/null 2>&1
	run_cmd rb record api "$IMG:2@$D2"
	v2=$(release_id)
	run_cmd rb to api --dry-run
	expect_exit 0 "a dry run"
	check "a dry run writes no metrics" test ! -e "$M/$f"

	run_cmd rb to api --reason "500s" --yes
	expect_exit 0 "rolled back, healthy"
	check_eq "ok: success 1" "$(val $f backstop_rollback_last_run_success service=api release="$v1")" 1
	check_eq "ok: result ok" "$(val $f backstop_rollback_last_run_result result=ok)" 1
	check_eq "ok: not failed" "$(val $f backstop_rollback_last_run_result result=failed)" 0
	check_eq "ok: labelled with the repository" "$(val $f backstop_rollback_last_run_success repository="$REPO")" 1
	ok_ts=$(val $f backstop_rollback_last_success_timestamp_seconds release="$v1")
	check "ok: the last success" test -n "$ok_ts"

	echo 3 >"$W/exitcode"
	run_cmd rb to api --to "$v2" --force --reason "try 2 again" --yes
	rm -f "$W/exitcode"
	expect_exit 3 "the platform's command failed"
	check_eq "failed: success 0" "$(val $f backstop_rollback_last_run_success release="$v2")" 0
	check_eq "failed: result failed" "$(val $f backstop_rollback_last_run_result release="$v2" result=failed)" 1
	check_eq "failed: the last success is kept, with its release" \
		"$(val $f backstop_rollback_last_success_timestamp_seconds release="$v1")" "$ok_ts"

	local sum
	sum=$(sha256sum <"$M/$f")
	run_cmd rb to api --to "$v2" --force --reason "x"
	expect_exit 2 "not confirmed: no attempt"
	check_eq "a refusal changes no metrics: the file is unchanged" "$(sha256sum <"$M/$f")" "$sum"

	rb record down "$IMG@$D1" >/dev/null 2>&1 && rb mark down --good >/dev/null 2>&1 &&
		rb record down "$IMG@$D2" >/dev/null 2>&1
	run_cmd rb to down --reason "test" --yes
	expect_exit 1 "moved, but the probes fail"
	check_eq "unhealthy: result unhealthy" \
		"$(val backstop_rollback_down.prom backstop_rollback_last_run_result result=unhealthy)" 1
	check_eq "unhealthy: success 0" "$(val backstop_rollback_down.prom backstop_rollback_last_run_success)" 0
}
run_test "rollback to: ok, failed and unhealthy attempts, the last success carried; dry runs and refusals write nothing" t_rollback

t_watch() {
	local f=backstop_rollback_api.prom
	run_cmd rb watch api --for 1s --interval 300ms --dry-run
	expect_exit 0 "watch --dry-run"
	check "a dry run writes no watch metrics" bash -c '! grep -q backstop_rollback_watch_ "$1"' _ "$M/$f"
	run_cmd rb watch api --for 1s --interval 300ms
	expect_exit 0 "healthy throughout"
	check_eq "good: verdict good" "$(val $f backstop_rollback_watch_last_run_verdict service=api verdict=good)" 1
	check_eq "good: not bad" "$(val $f backstop_rollback_watch_last_run_verdict verdict=bad)" 0
	check_eq "good: no outage" "$(val $f backstop_rollback_watch_last_run_outage_seconds)" 0
	check "good: rounds counted" test "$(val $f backstop_rollback_watch_last_run_rounds)" -ge 2
	check_eq "the rollback part of the file is kept" "$(val $f backstop_rollback_last_run_result result=failed)" 1

	run_cmd rb watch down --for 10s --outage-limit 1s --interval 300ms
	expect_exit 1 "down past the outage limit"
	check_eq "bad: verdict bad" "$(val backstop_rollback_down.prom backstop_rollback_watch_last_run_verdict verdict=bad)" 1
	check "bad: the outage reached the limit" \
		"$PROM_PY" -c 'import sys; sys.exit(float(sys.argv[1]) < 1)' \
		"$(val backstop_rollback_down.prom backstop_rollback_watch_last_run_outage_seconds)"
	check "bad: failed rounds" test "$(val backstop_rollback_down.prom backstop_rollback_watch_last_run_failed_rounds)" -ge 1
	check_eq "bad: the unhealthy rollback is kept" \
		"$(val backstop_rollback_down.prom backstop_rollback_last_run_result result=unhealthy)" 1
}
run_test "rollback watch: verdict good or bad, outage and rounds, beside the rollback's series" t_watch

# ---- snap, restore, drill, prune -------------------------------------------------

t_restore() {
	local f=backstop_restore_$SRC.prom dst ok_ts
	run_cmd bs snap --config "$CFG" -q
	expect_exit 0 "snap"
	dst=$(fresh_db_name mx_copy)
	bs_on_exit drop_db "$dst"
	run_cmd bs restore latest --config "$CFG" -d "$(db_conninfo "$dst")" --create -q
	expect_exit 0 "restore"
	check_eq "ok: success 1, labelled with the source and the target" \
		"$(val "$f" backstop_restore_last_run_success database="$SRC" target="$dst" repository="$REPO")" 1
	check_eq "ok: rows loaded" "$(val "$f" backstop_restore_last_run_rows)" 300
	check_eq "ok: tables loaded" "$(val "$f" backstop_restore_last_run_tables)" 1
	check "ok: bytes loaded" test "$(val "$f" backstop_restore_last_run_bytes)" -gt 0
	check "ok: the snapshot's time" val "$f" backstop_restore_last_run_snapshot_timestamp_seconds
	ok_ts=$(val "$f" backstop_restore_last_success_timestamp_seconds target="$dst")

	local sum
	sum=$(sha256sum <"$M/$f")
	run_cmd bs restore 20991231T000000Z-ffffff --config "$CFG" -d "$(db_conninfo "$dst")" -q
	expect_exit 2 "no such snapshot"
	check_eq "a mistyped id is no failed restore: the file is unchanged" "$(sha256sum <"$M/$f")" "$sum"
	run_cmd bs restore latest --config "$CFG" -d "$(db_conninfo "$dst")" -q
	check "into a database that is not empty, without --clean: refused" test "$RC" -ne 0
	check_eq "failed: success 0" "$(val "$f" backstop_restore_last_run_success database="$SRC")" 0
	check_eq "failed: no rows claimed" "$(grep -c '^backstop_restore_last_run_rows' "$M/$f")" 0
	check_eq "failed: the last success is kept, with its target" \
		"$(val "$f" backstop_restore_last_success_timestamp_seconds target="$dst")" "$ok_ts"
	sum=$(sha256sum <"$M/$f")
	run_cmd bs restore latest --config "$CFG" --list
	expect_exit 0 "--list"
	check_eq "--list restores nothing and writes nothing" "$(sha256sum <"$M/$f")" "$sum"
}
run_test "restore: success with rows, bytes and tables; a failure keeps the last success; --list writes nothing" t_restore

t_drill_prune() {
	run_cmd bs verify-restore latest --config "$CFG" --scratch "$(db_conninfo postgres)" -q
	expect_exit 0 "a drill"
	printf 'keep_last: 5\n' >"$W/retention.yaml"
	run_cmd bs snap prune --config "$CFG" --policy "$W/retention.yaml" -q
	expect_exit 0 "prune"
	check "the drill's file" test -f "$M/backstop_drill_$SRC.prom"
	check "the prune's file" test -f "$M/backstop_prune.prom"
}
run_test "a drill and a prune, for the whole-scenario checks below" t_drill_prune

t_umask() {
	# contrib's units run with UMask=0077: node_exporter must still read the files
	run_cmd bash -c 'umask 077 && exec "$@"' _ "$BS_BIN/backstop" snap --config "$CFG" -q
	expect_exit 0 "a snap under umask 077"
	check_eq "its metrics file is 0644 whatever the umask" "$(stat -c %a "$M/backstop_snap_$SRC.prom")" 644
}
run_test "under umask 077 the metrics files are still 0644 (readable by node_exporter)" t_umask

t_probe() {
	if ! web_start "$BS_TMP/web" >"$BS_TMP/web.out" 2>&1; then
		t_skip "nginx could not start: $(tail -3 "$BS_TMP/web.out" | tr '\n' ' ')"
		return
	fi
	bs_on_exit web_stop
	sed -i "s|^probes:|probes:\n  tls-valid:\n    kind: tls\n    host: localhost:$BS_WEB_PORT_VALID\n    ca_file: $BS_WEB_CA|" "$CFG"
	run_cmd bs probe tls-valid db-port --config "$CFG" --textfile "$M" -q
	expect_exit 0 "the probes pass"
	check_eq "the certificate's expiry, for BackstopCertificateExpiring" \
		"$(prom_value "$M/backstop_probe.prom" backstop_probe_tls_leaf_expiry_timestamp_seconds probe=tls-valid)" \
		"$BS_WEB_NOTAFTER_VALID"
}
run_test "probe: the TLS certificate's expiry is in backstop_probe.prom" t_probe

# ---- every file, every name, the rules ---------------------------------------------

t_files() {
	local f n=0
	for f in "$M"/*.prom; do
		n=$((n + 1))
		check "$(basename "$f"): strict format" prom_check "$f"
	done
	check "the scenario left its files (gate, rollback x2, restore, snap, drill, prune; probe)" test "$n" -ge 7
	run_cmd prom_parse "$M"/*.prom
	expect_exit 0 "prometheus_client reads every file (all gauges)"
	# every family is in the table of docs/config.md (probes: docs/probe.md)
	cat "$M"/*.prom | awk '/^# TYPE /{ print $3 }' | sort -u >"$BS_TMP/written"
	while read -r f; do
		grep -qF "\`$f\`" "$BS_ROOT/docs/config.md" "$BS_ROOT/docs/probe.md" ||
			t_fail "$f is written but not documented in docs/config.md"
	done <"$BS_TMP/written"
}
run_test "every .prom file: strict, read by prometheus_client (all gauges), every series documented" t_files

t_promtool_files() {
	local f
	if [ -z "$PROMTOOL" ]; then
		t_skip "$PROMTOOL_MISSING"
		return
	fi
	for f in "$M"/*.prom; do
		check "$(basename "$f"): promtool check metrics" promtool_metrics "$f"
	done
}
run_test "every .prom file: promtool check metrics (parses, and lints the names) is clean" t_promtool_files

t_rules() {
	if [ -z "$PROMTOOL" ]; then
		t_skip "$PROMTOOL_MISSING"
		return
	fi
	run_cmd "$PROMTOOL" check rules "$RULES"
	expect_exit 0 "promtool check rules"
	run_cmd "$PROMTOOL" test rules "$BS_ROOT/tests/prometheus/alerts_test.yaml"
	expect_exit 0 "promtool test rules: the alerts fire when they must, not before"
}
run_test "the alert rules: promtool check rules, and their unit tests (promtool test rules)" t_rules

t_rule_names() {
	local name
	grep -o 'backstop_[a-z_]*' "$RULES" | sort -u >"$BS_TMP/used"
	while read -r name; do
		grep -qx "$name" "$BS_TMP/written" || t_fail "the rules use $name, which the scenario did not write"
	done <"$BS_TMP/used"
	check "the rules use the new commands' series" grep -q backstop_gate_ "$BS_TMP/used"
}
run_test "the alert rules name only series backstop writes" t_rule_names

done_testing
