#!/usr/bin/env bash
# rollback.sh - backstop rollback with the exec driver, the ledger and the
# database (docs/rollback.md): a recording script stands in for the
# platform's command (it logs its argv and environment); releases are
# recorded with real digests' shape; the database part snaps and restores
# the harness's PostgreSQL for real; watch runs real probes (the cluster's
# port, and a closed one).  Each case checks what an operator would: the
# command run, the ledger's states, the database's rows, what was left
# unchanged on a refusal or a failure.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

W=$BS_TMP/w
mkdir -p "$W"
REPO=$BS_TMP/repo
CFG=$W/backstop.yaml
CALLS=$W/calls.log
CLOSED=$(bs_free_port)
OTHER=$BS_TMP/other
bs repo init --repo "$REPO" -q && bs repo init --repo "$OTHER" -q || exit 1

D1=sha256:$(printf '1%.0s' {1..64})
D2=sha256:$(printf '2%.0s' {1..64})
D3=sha256:$(printf '3%.0s' {1..64})
IMG=registry.example.com/acme/api

# the platform's command: logs "start ARGV", its BACKSTOP_* environment and
# "end"; exits with the code in $W/exitcode; sleeps $W/sleep seconds
cat >"$W/platform.sh" <<EOF
#!/bin/bash
echo "start \$*" >>"$CALLS"
env | grep '^BACKSTOP_' | sort >>"$CALLS"
[ -f "$W/sleep" ] && sleep "\$(cat "$W/sleep")"
echo "end" >>"$CALLS"
code=\$(cat "$W/exitcode" 2>/dev/null || echo 0)
[ "\$code" = 0 ] || echo "platform: deploy refused (code \$code)" >&2
exit "\$code"
EOF
chmod +x "$W/platform.sh"

SRC=$(new_db rb_app)
pg "$SRC" "create table orders (id int primary key, note text); insert into orders select g, 'v1' from generate_series(1, 500) g" >/dev/null || exit 1

# hooks: log the event and its BACKSTOP_* variables; pre-rollback exits
# with the code in $W/pre_exit
HOOKS=$W/hooks.log
cat >"$W/hook.sh" <<EOF
#!/bin/sh
echo "event \$1" >>"$HOOKS"
env | grep '^BACKSTOP_' | sort >>"$HOOKS"
[ "\$1" = pre-rollback ] && exit "\$(cat "$W/pre_exit" 2>/dev/null || echo 0)"
exit 0
EOF
chmod +x "$W/hook.sh"

cat >"$CFG" <<EOF
repository: $REPO
hooks:
  pre_rollback: $W/hook.sh
  post_rollback: $W/hook.sh
  release_bad: $W/hook.sh
  pre_restore: $W/hook.sh
  post_restore: $W/hook.sh
database: $(db_conninfo "$SRC")
encryption: none
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
  offsite:
    image: $IMG
    driver: exec
    repository: $OTHER
    exec:
      command: [$W/platform.sh, deploy, "{service}", "{ref}"]
  down:
    image: $IMG
    driver: exec
    probes: [closed]
    verify_timeout: 2s
    exec:
      command: [$W/platform.sh, deploy, "{service}", "{ref}"]
EOF
rb() { bs rollback "$@" --config "$CFG"; }
# release_state SERVICE ID: its state in `rollback list --json`
release_state() {
	rb list "$1" --json >"$W/list.json" || return 1
	jq -r --arg id "$2" '.releases[] | select(.id == $id) | .state' "$W/list.json"
}
release_id() { sed -n 's/^recorded release \([^ ]*\) .*/\1/p' "$OUT_FILE"; }
nrecords() { ls "$REPO/releases/$1" | grep -c '^[0-9]*\.json$'; }

t_record_and_back() {
	: >"$CALLS"
	run_cmd rb record api "$IMG:1.0@$D1" --reason "first" --actor alice
	expect_exit 0 "record v1"
	V1=$(release_id)
	run_cmd rb mark api --good
	expect_exit 0 "mark v1 known-good"
	run_cmd rb record api "$IMG@$D2" --actor bob
	V2=$(release_id)
	run_cmd rb mark api --bad --reason "leaks memory"
	expect_exit 0 "mark v2 bad"
	run_cmd rb record api "$IMG@$D3" --actor carol
	V3=$(release_id)
	check_eq "v3 is current" "$(release_state api "$V3")" "current"
	check_eq "v2 is bad" "$(release_state api "$V2")" "bad"
	check_eq "v1 is known-good" "$(release_state api "$V1")" "known-good"

	run_cmd rb to api --dry-run
	expect_exit 0 "dry run"
	expect_stdout_contains "$V1" "the plan goes to the last known-good release, v1"
	expect_stdout_contains "would run: $W/platform.sh deploy api $IMG@$D1" "the plan names the command"
	check_eq "a dry run runs nothing" "$(cat "$CALLS")" ""

	run_cmd rb to api --reason "500s after deploy" --yes --actor dave
	expect_exit 0 "rolled back, healthy"
	expect_stdout_contains "rolled back to release $V1"
	check_eq "the platform got the known-good image, not the bad previous one" \
		"$(grep '^start' "$CALLS")" "start deploy api $IMG@$D1"
	check "its environment names the release" grep -qx "BACKSTOP_DIGEST=$D1" "$CALLS"
	check "the environment holds nothing else of ours" test "$(grep -c '^BACKSTOP_' "$CALLS")" = 3
	check_eq "v1 is current again" "$(release_state api "$V1")" "current, known-good"
	check_eq "v3 is bad now" "$(release_state api "$V3")" "bad"
	run_cmd rb list api
	expect_stdout_matches "rollback by dave: $V3 -> $V1 \(ok\): 500s after deploy"
}
run_test "record, mark, and roll back to the last known-good release (never the bad previous one)" t_record_and_back

t_refusals() {
	local n
	n=$(nrecords api)
	: >"$CALLS"
	run_cmd rb to api --yes
	expect_exit 2 "no reason"
	expect_stderr_contains "needs a reason"
	run_cmd rb to api --to "$V3" --force --reason x
	expect_exit 2 "no --yes without a terminal"
	expect_stderr_contains "nothing was changed"
	run_cmd rb to api --to "$V2" --reason x --yes
	expect_exit 2 "a bad release is refused"
	expect_stderr_contains "is marked bad"
	run_cmd rb to api --to 20991231T000000Z-ffffff --reason x --yes
	expect_exit 2 "an unknown release"
	expect_stderr_contains "no release '20991231T000000Z-ffffff'"
	run_cmd rb to nosuch --reason x --yes
	expect_exit 2 "an unknown service"
	expect_stderr_contains "the services configured are: api, offsite, down"
	run_cmd rb record api "ghcr.io/other/app@$D1"
	expect_exit 2 "an image of another repository"
	expect_stderr_contains "is not an image of service 'api'"
	run_cmd rb record api "$IMG@sha256:1234"
	expect_exit 2 "a malformed digest"
	run_cmd rb to api --to "$V3" --force --reason "$(head -c 5000 /dev/zero | tr '\0' x)" --yes
	expect_exit 2 "a reason longer than 4096 bytes"
	expect_stderr_contains "--reason is 5000 bytes"
	check_eq "nothing ran" "$(cat "$CALLS")" ""
	check_eq "nothing was recorded" "$(nrecords api)" "$n"
}
run_test "refusals: no reason, no --yes, a bad target, unknown release/service/image: nothing run or recorded" t_refusals

t_failed_command() {
	local n
	n=$(nrecords api)
	echo 3 >"$W/exitcode"
	run_cmd rb to api --to "$V3" --force --reason "try v3 again" --yes
	rm -f "$W/exitcode"
	expect_exit 3 "the platform's command failed"
	expect_stderr_contains "deploy refused (code 3)"
	check_eq "the failed attempt is in the ledger" "$(nrecords api)" "$((n + 1))"
	check_eq "v1 is still current" "$(release_state api "$V1")" "current, known-good"
	check "the record says failed" grep -q '"result": "failed"' "$REPO/releases/api/$(ls "$REPO/releases/api" | grep '^[0-9]' | tail -1)"
}
run_test "a failing platform command: exit 3 with its message, recorded as failed, current release unchanged" t_failed_command

t_unhealthy() {
	run_cmd rb record down "$IMG@$D1"
	local a
	a=$(release_id)
	rb mark down --good >/dev/null 2>&1
	run_cmd rb record down "$IMG@$D2"
	run_cmd rb to down --reason "test" --yes
	expect_exit 1 "applied but the probes fail"
	expect_stderr_contains "not healthy"
	check_eq "the move is recorded: it is current" "$(release_state down "$a")" "current, known-good"
}
run_test "a rollback whose probes do not pass exits 1 (applied, recorded unhealthy)" t_unhealthy

t_verify() {
	local dir=$REPO/releases/api f
	run_cmd rb list api --verify
	expect_exit 0 "an intact ledger verifies"
	expect_stdout_contains "chain intact"
	cp -a "$dir" "$W/ledger.bak"
	f=$dir/0000000002.json
	sed -i 's/"actor": "[^"]*"/"actor": "mallory"/' "$f"
	run_cmd rb list api --verify
	expect_exit 1 "an edited record is detected"
	expect_stdout_contains "record 2 was edited or replaced"
	rm -rf "$dir" && cp -a "$W/ledger.bak" "$dir"
	rm "$dir/0000000003.json"
	run_cmd rb list api --verify
	expect_exit 1 "a deleted record is detected"
	expect_stdout_contains "record 3 is missing"
	rm -rf "$dir" && cp -a "$W/ledger.bak" "$dir"
	rm "$dir/$(ls "$dir" | grep '^[0-9]' | tail -1)"
	run_cmd rb list api --verify
	expect_exit 1 "the newest record deleted is detected"
	expect_stdout_contains "is missing"
	rm -rf "$dir" && cp -a "$W/ledger.bak" "$dir"
	f=$(ls "$dir" | grep '^[0-9]' | tail -1)
	sed -i 's/"reason": "[^"]*"/"reason": "nothing to see"/' "$dir/$f"
	run_cmd rb list api --verify
	expect_exit 1 "the newest record edited is detected (head.json)"
	expect_stdout_contains "its SHA-256 is not the one head.json holds"
	rm -rf "$dir" && cp -a "$W/ledger.bak" "$dir"
	cp "$dir/0000000002.json" "$W/two.json" && cp "$dir/0000000003.json" "$dir/0000000002.json"
	run_cmd rb list api --verify
	expect_exit 1 "a record copied over another is detected"
	expect_stdout_contains "holds record 3: moved or copied"
	rm -rf "$dir" && cp -a "$W/ledger.bak" "$dir"
	mkdir "$dir/x" && cp "$dir/0000000002.json" "$dir/x/0000000099.json"
	run_cmd rb list api --verify
	expect_exit 1 "a record planted below the ledger is reported, not read"
	expect_stdout_contains "is not a ledger record"
	rm -rf "$dir" && cp -a "$W/ledger.bak" "$dir"
	run_cmd rb list api --verify --json
	check_eq "restored: verified" "$(jq -r .verified "$OUT_FILE")" "true"
}
run_test "list --verify detects an edited, a deleted and a removed newest record" t_verify

t_serialized() {
	: >"$CALLS"
	echo 2 >"$W/sleep"
	rb to api --to "$V3" --force --reason "first" --yes >"$W/a.out" 2>&1 &
	local pid=$! i
	# the first one holds the lease once its command runs
	for i in $(seq 100); do grep -q '^start' "$CALLS" && break; sleep 0.1; done
	run_cmd rb to api --to "$V1" --reason "second" --yes
	expect_exit 3 "a second rollback of the service at the same time is refused"
	expect_stderr_contains "rollback-api"
	run_cmd rb to api --to "$V1" --reason "second, waiting" --yes --wait 30s
	local first=0
	wait "$pid" || first=$?
	rm -f "$W/sleep"
	check_eq "the first rollback succeeded" "$first" 0
	expect_exit 0 "with --wait it runs after the first"
	check_eq "the two commands did not interleave" "$(grep -E '^(start|end)' "$CALLS" | cut -c1-5 | tr '\n' ' ')" "start end start end "
	run_cmd rb list api --verify
	expect_exit 0 "the ledger is intact after both"
}
run_test "two rollbacks of one service are serialized (refused at once, or waited for)" t_serialized

t_with_db() {
	local db_svc kept n
	# a release with a pre-deploy snapshot; then the "migration" and writes
	run_cmd rb record api "$IMG@$D2" --snap --reason "v2 with migration"
	expect_exit 0 "record with --snap"
	local pre
	pre=$(sed -n 's/.*pre-deploy snapshot \(.*\)$/\1/p' "$OUT_FILE")
	check "the pre-deploy snapshot is in the catalog" test -f "$REPO/snapshots/$pre.json"
	pg "$SRC" "update orders set note = 'v2-corrupted'; insert into orders values (9999, 'after')" >/dev/null

	# a failing restore (the snapshot's archive is gone) leaves all as it was
	mv "$REPO/archives/$pre.tar" "$W/hidden.tar"
	: >"$CALLS"
	n=$(nrecords api)
	run_cmd rb to api --to "$V1" --with-db --reason "corruption" --yes
	expect_exit 3 "a restore that fails"
	expect_stderr_contains "the current database is untouched"
	check_eq "the database is untouched" "$(pg "$SRC" "select count(*), min(note) from orders")" "501|after"
	check_eq "the image was not changed" "$(cat "$CALLS")" ""
	check_eq "the attempt is recorded" "$(nrecords api)" "$((n + 1))"
	mv "$W/hidden.tar" "$REPO/archives/$pre.tar"

	run_cmd rb to api --to "$V1" --with-db --dry-run
	expect_exit 0 "the plan"
	expect_stdout_contains "WRITES SINCE"
	expect_stdout_contains "$pre"

	run_cmd rb to api --to "$V1" --with-db --reason "corruption" --yes
	expect_exit 0 "rolled back with the database"
	kept=$(sed -n 's/.*the previous one is kept as \([^;]*\);.*/\1/p' "$OUT_FILE")
	bs_on_exit drop_db "$kept"
	check_eq "the database equals the pre-deploy snapshot" "$(pg "$SRC" "select count(*), min(note), max(note) from orders")" "500|v1|v1"
	check_eq "the replaced database is kept with the writes" "$(pg "$kept" "select count(*) from orders where note = 'v2-corrupted'")" "500"
	local safety
	safety=$(sed -n 's/.*safety snapshot \(.*\)$/\1/p' "$OUT_FILE")
	check "the safety snapshot of the bad database exists" test -f "$REPO/snapshots/$safety.json"
	check_eq "the image went back too" "$(grep '^start' "$CALLS")" "start deploy api $IMG@$D1"
	check "the restore inside a rollback runs no restore hooks (the rollback's own hooks tell)" \
		bash -c "! grep -q '^event .*-restore' '$HOOKS'"
	check "the ledger records the snapshot restored and the database kept" \
		grep -q "\"db_kept\": \"$kept\"" "$REPO/releases/api/$(ls "$REPO/releases/api" | grep '^[0-9]' | tail -1)"
}
run_test "--with-db: safety snapshot, the pre-deploy snapshot restored and swapped in, the old one kept; a failing restore changes nothing" t_with_db

t_hooks_dry_runs() {
	local n
	n=$(nrecords api)
	: >"$CALLS"
	: >"$HOOKS"
	echo 1 >"$W/pre_exit"
	run_cmd rb to api --to "$V3" --force --reason "hook says no" --yes
	rm -f "$W/pre_exit"
	expect_exit 3 "a failing pre_rollback hook stops the rollback"
	expect_stderr_contains "the pre_rollback hook stopped the rollback; nothing was changed"
	check_eq "nothing ran" "$(cat "$CALLS")" ""
	check_eq "nothing was recorded" "$(nrecords api)" "$n"
	check "the hook saw the target release" grep -qx "BACKSTOP_RELEASE=$V3" "$HOOKS"

	run_cmd rb record api "$IMG@$D2" --dry-run
	expect_exit 0 "record --dry-run"
	expect_stdout_contains "would record a release of api: $IMG@$D2"
	run_cmd rb record api "$IMG@$D2" --dry-run --json
	expect_exit 0 "record --dry-run --json"
	check_eq "record --dry-run --json prints one JSON plan" \
		"$(jq -r '[.service, .dry_run, .digest, .snapshot, .would_snapshot] | join(" ")' "$OUT_FILE")" "api true $D2  false"
	check_eq "nothing was recorded" "$(nrecords api)" "$n"
	run_cmd rb mark api --bad --reason x --dry-run
	expect_exit 0 "mark --dry-run"
	run_cmd rb watch api --for 1s --interval 300ms --dry-run
	expect_exit 0 "watch --dry-run"
	expect_stdout_contains "it would be marked known-good"
	check_eq "the dry runs recorded nothing" "$(nrecords api)" "$n"

	: >"$HOOKS"
	run_cmd rb to api --to "$V3" --force --reason "hooks run" --yes
	expect_exit 0 "rolled forward"
	check "post-rollback ran" grep -qx "event post-rollback" "$HOOKS"
	check "with the result" grep -qx "BACKSTOP_RESULT=ok" "$HOOKS"
	check "and the reason" grep -qx "BACKSTOP_REASON=hooks run" "$HOOKS"
	run_cmd rb to api --to "$V1" --reason "back again" --yes
	expect_exit 0 "and back"
}
run_test "hooks: a failing pre_rollback stops it, post_rollback gets the result; --dry-run of record, mark and watch records nothing" t_hooks_dry_runs

t_watch() {
	run_cmd rb watch api --for 2s --interval 500ms
	expect_exit 0 "healthy for the whole time"
	expect_stdout_contains "marked known-good"
	local n
	n=$(nrecords down)
	run_cmd rb watch down --for 1s --outage-limit 30s --interval 300ms
	expect_exit 1 "still down when the watch ends (under the limit)"
	expect_stderr_contains "still down when the watch ended"
	check_eq "nothing marked" "$(nrecords down)" "$n"
	run_cmd rb watch down --release 2099 --for 1s
	expect_exit 2 "watching a release that is not there"
	run_cmd rb record down "$IMG@$D3"
	local bad
	bad=$(release_id)
	: >"$CALLS"
	run_cmd rb watch down --for 20s --outage-limit 1s --interval 300ms --auto
	expect_exit 1 "the outage limit passed"
	expect_stderr_contains "marked bad"
	check_eq "the watched release is bad" "$(release_state down "$bad")" "bad"
	check_eq "--auto rolled back to the known-good release" "$(grep '^start' "$CALLS")" "start deploy down $IMG@$D1"
	check "the release_bad hook was told" grep -qx "event release-bad" "$HOOKS"
}
run_test "watch: healthy marks known-good; an outage past the limit marks bad and --auto rolls back" t_watch

t_gate() {
	mkdir -p "$W/policies"
	cat >"$W/policies/ready.yaml" <<EOF
kind: gate
gates:
  - name: ops
    criteria:
      - {kind: rollback_ready, service: api, id: api}
      - {kind: rollback_ready, service: nodeploys, id: nodeploys}
      - {kind: rollback_ready, service: offsite, id: offsite}
EOF
	rb record offsite "$IMG@$D1" >/dev/null 2>&1 && rb mark offsite --good >/dev/null 2>&1 &&
		rb record offsite "$IMG@$D2" >/dev/null 2>&1
	check "the offsite service's ledger is in its own repository" test -f "$OTHER/releases/offsite/0000000003.json"
	check "and not in the configured one" test ! -e "$REPO/releases/offsite"
	run_cmd rb list offsite --repo "$REPO"
	expect_stdout_contains "no releases of offsite recorded yet" "--repo wins over services.offsite.repository"
	run_cmd bs gate check --policy "$W/policies/ready.yaml" --config "$CFG" --json --no-record
	check "api runs its only known-good release: nothing to go back to" grep -q "no known-good release of 'api' besides the current one" "$OUT_FILE"
	rb record api "$IMG@$D3" >/dev/null 2>&1
	run_cmd bs gate check --policy "$W/policies/ready.yaml" --config "$CFG" --json --no-record
	expect_exit 1 "one service has a rollback target, the other has no ledger"
	check_eq "api: a known-good release to go back to" \
		"$(jq -r '.findings[] | select(.group == "ops" and .check == "api") | .state' "$OUT_FILE")" "ok"
	check "nodeploys: no release recorded" grep -q "no release of 'nodeploys' recorded" "$OUT_FILE"
	check_eq "offsite: read from the service's own repository" \
		"$(jq -r '.findings[] | select(.group == "ops" and .check == "offsite") | .state' "$OUT_FILE")" "ok"
	cp -a "$REPO/releases/api" "$W/ledger.bak2"
	sed -i 's/"actor": "[^"]*"/"actor": "mallory"/' "$REPO/releases/api/0000000002.json"
	run_cmd bs gate check --policy "$W/policies/ready.yaml" --config "$CFG" --json --no-record
	check "a tampered ledger is no rollback plan" grep -q "fails verification" "$OUT_FILE"
	rm -rf "$REPO/releases/api" && mv "$W/ledger.bak2" "$REPO/releases/api"
}
run_test "gate: rollback_ready passes on a known-good release, fails without a ledger or on a tampered one" t_gate

t_help() {
	for v in record list mark to watch; do
		run_cmd bs rollback "$v" --help
		expect_exit 0 "rollback $v --help"
	done
	run_cmd bs rollback tu api
	expect_exit 2 "an unknown verb"
	expect_stderr_contains "did you mean 'to'"
}
run_test "help on every verb; a mistyped verb is suggested" t_help

done_testing
