#!/usr/bin/env bash
# hooks_metrics.sh - cron's contract: hooks run on the right events with the
# documented environment, a failing pre-snap hook stops the snap, and the
# Prometheus textfile metrics say whether the last snap and the last drill
# worked, per database, keeping the last success across failures; the
# alert rules in contrib/prometheus use only series backstop writes.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$BS_ROOT/tests/integration/lib_prom.sh" # prom_check

BS_CMD_TIMEOUT=${BS_CMD_TIMEOUT_HOOKS:-180}
SRC=$(new_db hk)
pg "$SRC" "create table t (id int primary key); insert into t select generate_series(1, 100);" >/dev/null
M=$BS_TMP/metrics
REPO=$BS_TMP/repo
SCRATCH=$(db_conninfo postgres)
mkdir -p "$M" "$BS_TMP/h"
for ev in pre post fail postdrill drillfail; do
	cat >"$BS_TMP/h/$ev" <<H
#!/bin/sh
env | grep '^BACKSTOP_' | sort > "$BS_TMP/h/$ev.env"
echo "\$1" > "$BS_TMP/h/$ev.arg"
H
	chmod +x "$BS_TMP/h/$ev"
done
bs repo init --repo "$REPO" -q >/dev/null || exit 1

write_config() { # REPO PRE [DATABASE]
	cat >"$BS_TMP/backstop.yaml" <<Y
database: "dbname=${3:-$SRC}"
repository: $1
encryption: none
metrics_dir: $M
hooks:
  pre_snap: $2
  post_snap: $BS_TMP/h/post
  on_failure: $BS_TMP/h/fail
  post_drill: $BS_TMP/h/postdrill
  drill_failed: $BS_TMP/h/drillfail
Y
}

# metric FILE NAME: the value of NAME (the file holds one series per name).
metric() {
	awk -v n="$2" '{ m = $1; sub(/[{].*/, "", m) } m == n { print $NF; found = 1 } END { exit !found }' "$1"
}

SNAPFILE=$M/backstop_snap_$SRC.prom
DRILLFILE=$M/backstop_drill_$SRC.prom
LABELS="{database=\"$SRC\",repository=\"$REPO\"}"

t_success() {
	write_config "$REPO" "$BS_TMP/h/pre"
	run_cmd bs snap -q
	expect_exit 0
	check "pre-snap hook ran" test -f "$BS_TMP/h/pre.env"
	check "post-snap hook got the snapshot id" grep -q "BACKSTOP_SNAPSHOT_ID=$(echo "$OUT" | head -1)" "$BS_TMP/h/post.env"
	check "post-snap hook got BACKSTOP_EVENT" grep -q "BACKSTOP_EVENT=post-snap" "$BS_TMP/h/post.env"
	check "post-snap hook got BACKSTOP_DATABASE" grep -qx "BACKSTOP_DATABASE=$SRC" "$BS_TMP/h/post.env"
	check "on_failure did not run" test ! -e "$BS_TMP/h/fail.env"
	check "metrics: one file for this database" test -f "$SNAPFILE"
	check "metrics: last run succeeded, labelled by database and repository" \
		grep -qxF "backstop_snap_last_run_success$LABELS 1" "$SNAPFILE"
	check "metrics: last success timestamp" grep -q "^backstop_snap_last_success_timestamp_seconds$LABELS " "$SNAPFILE"
	check "metrics: the text format is strict" prom_check "$SNAPFILE"
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
	write_config "$REPO" "$BS_TMP/h/refuse"
	local before last
	before=$(ls "$REPO/snapshots" | wc -l)
	last=$(metric "$SNAPFILE" backstop_snap_last_success_timestamp_seconds)
	run_cmd bs snap -q
	expect_exit 3
	expect_stderr_contains "pre-snap hook"
	check_eq "no snapshot taken" "$(ls "$REPO/snapshots" | wc -l)" "$before"
	check "on_failure hook got the error" grep -q "BACKSTOP_ERROR=.*pre-snap hook" "$BS_TMP/h/fail.env"
	check "metrics: last run failed" grep -qxF "backstop_snap_last_run_success$LABELS 0" "$SNAPFILE"
	check_eq "metrics: the last success survives the failure" \
		"$(metric "$SNAPFILE" backstop_snap_last_success_timestamp_seconds)" "$last"
	check "metrics: failure time" metric "$SNAPFILE" backstop_snap_last_failure_timestamp_seconds
	check "metrics: still strict" prom_check "$SNAPFILE"
}
run_test "a failing pre-snap hook stops the snap, on_failure runs, metrics say failure and keep the last success" t_failure

t_server_down() {
	rm -f "$BS_TMP"/h/*.env
	local last
	last=$(metric "$SNAPFILE" backstop_snap_last_success_timestamp_seconds)
	write_config "$REPO" ""
	sed -i "s|^database:.*|database: \"host=$BS_TMP/nowhere dbname=$SRC\"|" "$BS_TMP/backstop.yaml"
	run_cmd bs snap -q
	expect_exit 3
	check "on_failure hook ran for the failed snap" grep -q "BACKSTOP_EVENT=snap-failed" "$BS_TMP/h/fail.env"
	check_eq "metrics: two failures in a row still keep the last success" \
		"$(metric "$SNAPFILE" backstop_snap_last_success_timestamp_seconds)" "$last"
}
run_test "server down: exit 3, the on_failure hook is told, the last success is kept" t_server_down

t_two_databases() {
	# a name with characters a file name should not carry
	local other="${SRC}.b-x" f
	pg postgres "create database \"$other\"" >/dev/null || return
	bs_on_exit drop_db "$other"
	pg "$other" "create table u (id int primary key); insert into u values (1);" >/dev/null
	bs repo init --repo "$BS_TMP/repo2" -q >/dev/null
	write_config "$BS_TMP/repo2" "" "$other"
	run_cmd bs snap -q
	expect_exit 0
	f=$(grep -l "database=\"$other\"" "$M"/backstop_snap_*.prom)
	check_eq "the second database has its own file" "$(echo "$f" | wc -l)" 1
	check "its series carry its name and repository" \
		grep -qxF "backstop_snap_last_run_success{database=\"$other\",repository=\"$BS_TMP/repo2\"} 1" "$f"
	check "the first database's file is untouched" grep -q "^backstop_snap_last_success_timestamp_seconds$LABELS " "$SNAPFILE"
	check "no file names a database it was not written for" test "$(grep -L "database=\"$SRC\"" "$SNAPFILE")" = ""
	check "the second file is strict" prom_check "$f"
}
run_test "two databases in one metrics_dir keep their own series" t_two_databases

t_drill_pass() {
	rm -f "$BS_TMP"/h/*.env
	write_config "$REPO" ""
	run_cmd bs verify-restore latest --scratch "$SCRATCH" -q
	expect_exit 0
	check "metrics: drill file" test -f "$DRILLFILE"
	check "metrics: the drill passed" grep -qxF "backstop_drill_last_run_success{database=\"$SRC\",repository=\"$REPO\",mode=\"full\"} 1" "$DRILLFILE"
	check "metrics: last passing drill" metric "$DRILLFILE" backstop_drill_last_success_timestamp_seconds
	check "metrics: RTO" metric "$DRILLFILE" backstop_drill_last_run_rto_seconds
	check "metrics: snapshot age" metric "$DRILLFILE" backstop_drill_last_run_snapshot_age_seconds
	check_eq "metrics: no findings" "$(metric "$DRILLFILE" backstop_drill_last_run_findings)" 0
	check "metrics: strict" prom_check "$DRILLFILE"
	check "post-drill hook ran" grep -qx "BACKSTOP_RESULT=pass" "$BS_TMP/h/postdrill.env"
	check "drill-failed hook did not run" test ! -e "$BS_TMP/h/drillfail.env"
}
run_test "a passing drill writes drill metrics (success 1, RTO, RPO) and runs post-drill only" t_drill_pass

t_drill_fail() {
	rm -f "$BS_TMP"/h/*.env
	local last id
	last=$(metric "$DRILLFILE" backstop_drill_last_success_timestamp_seconds)
	id=$(bs snap list --json --repo "$REPO" | jq -r '.snapshots[-1].id')
	printf 'smoke:\n  - name: rows are there\n    sql: select count(*) > 1000 from t\n    expect: true\n' >"$BS_TMP/failing.yaml"
	write_config "$REPO" ""
	run_cmd bs verify-restore latest --scratch "$SCRATCH" --policy "$BS_TMP/failing.yaml" -q
	expect_exit 1
	check "drill-failed hook ran" grep -qx "BACKSTOP_EVENT=drill-failed" "$BS_TMP/h/drillfail.env"
	check "drill-failed hook: result" grep -qx "BACKSTOP_RESULT=fail" "$BS_TMP/h/drillfail.env"
	check "drill-failed hook: snapshot id" grep -qx "BACKSTOP_SNAPSHOT_ID=$id" "$BS_TMP/h/drillfail.env"
	check "drill-failed hook: database" grep -qx "BACKSTOP_DATABASE=$SRC" "$BS_TMP/h/drillfail.env"
	check "drill-failed hook: what failed" grep -q "^BACKSTOP_ERROR=1 finding, the first: rows are there" "$BS_TMP/h/drillfail.env"
	check "drill-failed hook got the event as \$1" grep -qx drill-failed "$BS_TMP/h/drillfail.arg"
	check "post-drill hook ran too" grep -qx "BACKSTOP_RESULT=fail" "$BS_TMP/h/postdrill.env"
	check "metrics: the drill failed" grep -qxF "backstop_drill_last_run_success{database=\"$SRC\",repository=\"$REPO\",mode=\"full\"} 0" "$DRILLFILE"
	check_eq "metrics: one finding" "$(metric "$DRILLFILE" backstop_drill_last_run_findings)" 1
	check_eq "metrics: the last passing drill is kept" "$(metric "$DRILLFILE" backstop_drill_last_success_timestamp_seconds)" "$last"
	check "metrics: strict" prom_check "$DRILLFILE"
}
run_test "a failing drill runs the drill-failed hook and writes success 0, keeping the last pass" t_drill_fail

t_drill_error() {
	rm -f "$BS_TMP"/h/*.env
	write_config "$REPO" ""
	run_cmd bs verify-restore latest --scratch "host=$BS_TMP/nowhere dbname=postgres" -q
	expect_exit 3
	check "drill-failed hook: result error" grep -qx "BACKSTOP_RESULT=error" "$BS_TMP/h/drillfail.env"
	check "drill-failed hook: the cause" grep -q "^BACKSTOP_ERROR=." "$BS_TMP/h/drillfail.env"
	check "metrics: could not run" grep -qxF "backstop_drill_last_run_error{database=\"$SRC\",repository=\"$REPO\",mode=\"full\"} 1" "$DRILLFILE"
}
run_test "a drill that cannot run (scratch server down): drill-failed hook with result error, metrics error 1" t_drill_error

t_archive_check() {
	local f=$M/backstop_archive_check_$SRC.prom
	write_config "$REPO" ""
	run_cmd bs verify-restore latest --archive-only -q
	expect_exit 0
	check "archive check metrics, mode archive" grep -qxF "backstop_drill_last_run_success{database=\"$SRC\",repository=\"$REPO\",mode=\"archive\"} 1" "$f"
	check "the full drill's file is separate" grep -q 'mode="full"' "$DRILLFILE"
	check "strict" prom_check "$f"
}
run_test "--archive-only writes its own metrics file (mode archive)" t_archive_check

t_prune() {
	local f=$M/backstop_prune_$SRC.prom
	printf 'keep_last: 1\n' >"$BS_TMP/retention.yaml"
	write_config "$REPO" ""
	run_cmd bs snap --prune --policy "$BS_TMP/retention.yaml" -q --json
	expect_exit 0
	check "prune metrics written" grep -qxF "backstop_prune_last_run_success$LABELS 1" "$f"
	check_eq "prune metrics: deletions as the prune report says" \
		"$(metric "$f" backstop_prune_last_run_deleted_snapshots)" "$(jq -r .prune.deleted "$OUT_FILE")"
	check_eq "prune metrics: kept as the prune report says" \
		"$(metric "$f" backstop_prune_last_run_kept_snapshots)" "$(jq -r .prune.kept "$OUT_FILE")"
	check "strict" prom_check "$f"
}
run_test "snap --prune writes prune metrics" t_prune

# interrupt SIG CODE [group]: a snap blocked on a table lock (held by another
# session) gets SIG; it must say so on stderr under --quiet, run on_failure
# once, write failure metrics keeping the last success, and leave no
# unfinished archive and no snapshot.
interrupt() {
	local sig=$1 code=$2 locker pid rc=0 i before_snaps before_arch last blocked=0
	rm -f "$BS_TMP"/h/*.env "$BS_TMP/h/fail.count"
	cat >"$BS_TMP/h/failcount" <<H
#!/bin/sh
env | grep '^BACKSTOP_' | sort > "$BS_TMP/h/fail.env"
echo "\$1" >> "$BS_TMP/h/fail.count"
H
	chmod +x "$BS_TMP/h/failcount"
	write_config "$REPO" ""
	sed -i "s|on_failure: .*|on_failure: $BS_TMP/h/failcount|" "$BS_TMP/backstop.yaml"
	before_snaps=$(ls "$REPO/snapshots" | wc -l)
	before_arch=$(ls "$REPO/archives" | wc -l)
	last=$(metric "$SNAPFILE" backstop_snap_last_success_timestamp_seconds)
	"$BS_PGBIN/psql" -X -q -d "$SRC" -c "begin; lock table t in access exclusive mode; select pg_sleep(120);" \
		>/dev/null 2>&1 </dev/null &
	locker=$!
	for ((i = 0; i < 100; i++)); do
		[ "$(pg "$SRC" "select count(*) from pg_locks l join pg_class c on c.oid = l.relation where c.relname = 't' and l.granted and l.mode = 'AccessExclusiveLock'")" = 1 ] && break
		sleep 0.1
	done
	# group: in its own process group, signalled as a whole (Ctrl-C, or
	# systemd stopping the unit): pg_dump gets the signal too
	if [ "${3:-}" = group ]; then
		setsid "$BS_BIN/backstop-snap" -q --lock-timeout 60s >"$BS_TMP/int.out" 2>"$BS_TMP/int.err" </dev/null &
	else
		"$BS_BIN/backstop-snap" -q --lock-timeout 60s >"$BS_TMP/int.out" 2>"$BS_TMP/int.err" </dev/null &
	fi
	pid=$!
	for ((i = 0; i < 200; i++)); do
		if [ -n "$(ls -A "$REPO/tmp")" ] &&
			[ "$(pg "$SRC" "select count(*) from pg_locks l join pg_class c on c.oid = l.relation where c.relname = 't' and not l.granted")" -gt 0 ]; then
			blocked=1
			break
		fi
		sleep 0.1
	done
	check_eq "the snap is under way (unfinished archive in tmp/, waiting for the lock)" "$blocked" 1
	if [ "${3:-}" = group ]; then
		kill -"$sig" -- -"$pid"
	else
		kill -"$sig" "$pid"
	fi
	wait "$pid" || rc=$?
	kill "$locker" 2>/dev/null
	wait "$locker" 2>/dev/null
	pg postgres "select pg_terminate_backend(pid) from pg_stat_activity where datname = '$SRC' and pid <> pg_backend_pid()" >/dev/null
	check_eq "exit status 128+$sig" "$rc" "$code"
	check "stderr says what happened, under --quiet" grep -q "error: interrupted by SIG$sig: snapshot abandoned, nothing committed" "$BS_TMP/int.err"
	check_eq "stdout is empty (no snapshot id)" "$(cat "$BS_TMP/int.out")" ""
	check_eq "the on_failure hook ran once" "$(cat "$BS_TMP/h/fail.count" 2>/dev/null)" snap-failed
	check "the hook was told why" grep -qx "BACKSTOP_ERROR=interrupted by SIG$sig: snapshot abandoned, nothing committed" "$BS_TMP/h/fail.env"
	check "the hook got the database" grep -qx "BACKSTOP_DATABASE=$SRC" "$BS_TMP/h/fail.env"
	check "metrics: last run failed" grep -qxF "backstop_snap_last_run_success$LABELS 0" "$SNAPFILE"
	check_eq "metrics: the last success is kept" "$(metric "$SNAPFILE" backstop_snap_last_success_timestamp_seconds)" "$last"
	check "metrics: strict" prom_check "$SNAPFILE"
	check_eq "nothing left in the repository's tmp/" "$(ls -A "$REPO/tmp")" ""
	check_eq "no snapshot recorded" "$(ls "$REPO/snapshots" | wc -l)" "$before_snaps"
	check_eq "no archive stored" "$(ls "$REPO/archives" | wc -l)" "$before_arch"
}
t_sigterm() { interrupt TERM 143; }
t_sigint() { interrupt INT 130; }
t_sigint_group() { interrupt INT 130 group; }
run_test "SIGTERM during a snap: exit 143, a stderr line under --quiet, on_failure, metrics, no temp file, no snapshot" t_sigterm
run_test "SIGINT during a snap: exit 130, the same" t_sigint
run_test "Ctrl-C (SIGINT to the process group, pg_dump included): the same, the hook once" t_sigint_group

t_sigterm_pre_hook() {
	rm -f "$BS_TMP"/h/*.env "$BS_TMP/h/fail.count" "$BS_TMP/h/slowpre.pid"
	local pid rc=0 i before
	cat >"$BS_TMP/h/slowpre" <<H
#!/bin/sh
echo \$\$ > "$BS_TMP/h/slowpre.pid"
sleep 3
H
	chmod +x "$BS_TMP/h/slowpre"
	write_config "$REPO" "$BS_TMP/h/slowpre"
	sed -i "s|on_failure: .*|on_failure: $BS_TMP/h/failcount|" "$BS_TMP/backstop.yaml"
	before=$(ls "$REPO/snapshots" | wc -l)
	"$BS_BIN/backstop-snap" -q >"$BS_TMP/int.out" 2>"$BS_TMP/int.err" </dev/null &
	pid=$!
	for ((i = 0; i < 100; i++)); do
		[ -s "$BS_TMP/h/slowpre.pid" ] && break
		sleep 0.1
	done
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	check_eq "exit status 143" "$rc" 143
	check "stderr says so under --quiet" grep -q "error: interrupted by SIGTERM" "$BS_TMP/int.err"
	check_eq "the on_failure hook ran once" "$(cat "$BS_TMP/h/fail.count" 2>/dev/null)" snap-failed
	sleep 3.5 # the pre-snap hook ends; the snap must not go on behind it
	check_eq "nothing left in tmp/" "$(ls -A "$REPO/tmp")" ""
	check_eq "no snapshot recorded" "$(ls "$REPO/snapshots" | wc -l)" "$before"
}
run_test "SIGTERM while the pre-snap hook runs: exit 143, on_failure once, no snapshot started" t_sigterm_pre_hook

t_drill_sigterm() {
	rm -f "$BS_TMP"/h/*.env
	local pid rc=0 i busy=0 last
	last=$(metric "$DRILLFILE" backstop_drill_last_success_timestamp_seconds)
	printf 'smoke:\n  - name: slow\n    sql: select pg_sleep(60) is not null\n    expect: true\n' >"$BS_TMP/slow.yaml"
	write_config "$REPO" ""
	"$BS_BIN/backstop-verify-restore" latest --scratch "$SCRATCH" --policy "$BS_TMP/slow.yaml" -q \
		>"$BS_TMP/vr.out" 2>"$BS_TMP/vr.err" </dev/null &
	pid=$!
	for ((i = 0; i < 300; i++)); do
		if [ "$(pg postgres "select count(*) from pg_stat_activity where query like 'select pg_sleep(60)%'")" -gt 0 ]; then
			busy=1
			break
		fi
		sleep 0.1
	done
	check_eq "the drill is under way (in its smoke query)" "$busy" 1
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	check_eq "exit status 143" "$rc" 143
	check "stderr says so under --quiet" grep -q "interrupted by SIGTERM" "$BS_TMP/vr.err"
	check "drill-failed hook: result error" grep -qx "BACKSTOP_RESULT=error" "$BS_TMP/h/drillfail.env"
	check "drill-failed hook: why" grep -qx "BACKSTOP_ERROR=interrupted by SIGTERM: drill abandoned" "$BS_TMP/h/drillfail.env"
	check "drill-failed hook: database" grep -qx "BACKSTOP_DATABASE=$SRC" "$BS_TMP/h/drillfail.env"
	check "metrics: could not run" grep -qxF "backstop_drill_last_run_error{database=\"$SRC\",repository=\"$REPO\",mode=\"full\"} 1" "$DRILLFILE"
	check_eq "metrics: the last passing drill is kept" "$(metric "$DRILLFILE" backstop_drill_last_success_timestamp_seconds)" "$last"
	check "metrics: strict" prom_check "$DRILLFILE"
}
run_test "SIGTERM during a drill: exit 143, drill-failed hook (result error), metrics keep the last pass" t_drill_sigterm

t_alerts() {
	local rules=$BS_ROOT/contrib/prometheus/alerts.yaml
	if ! python3 -c 'import yaml' 2>/dev/null; then
		t_skip "python3 with PyYAML is not installed"
		return
	fi
	# every backstop_snap_/drill_/prune_ name an expression uses is one a
	# .prom file above has (metrics.sh checks the other commands' names)
	cat "$M"/*.prom | awk '/^# TYPE /{ print $3 }' | sort -u >"$BS_TMP/written"
	cat >"$BS_TMP/alerts_check.py" <<'PY'
import re, sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
written = set(open(sys.argv[2]).read().split())
bad, alerts = [], set()
for g in doc["groups"]:
    for r in g["rules"]:
        alerts.add(r["alert"])
        expr = r["expr"]
        if expr.count("(") != expr.count(")") or expr.count("{") != expr.count("}") or expr.count("[") != expr.count("]"):
            bad.append("%s: unbalanced brackets" % r["alert"])
        for name in re.findall(r"backstop_(?:snap|drill|prune)_[a-z_]+", expr):
            if name not in written:
                bad.append("%s: %s is not a metric backstop writes" % (r["alert"], name))
        for k in ("summary",):
            if k not in r.get("annotations", {}):
                bad.append("%s: no %s" % (r["alert"], k))
need = {"BackstopBackupMissing", "BackstopSnapFailed", "BackstopPruneFailed", "BackstopDrillFailed", "BackstopDrillTooOld",
        "BackstopMetricsMissing"}
bad += ["missing alert %s" % a for a in sorted(need - alerts)]
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
	run_cmd python3 "$BS_TMP/alerts_check.py" "$rules" "$BS_TMP/written"
	expect_exit 0 "alert rules parse and use only written series"
}
run_test "contrib/prometheus alert rules parse and use only series backstop writes" t_alerts

done_testing
