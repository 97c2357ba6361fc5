#!/usr/bin/env bash
# gate.sh - backstop gate against real evidence (docs/gate.md): a
# repository with a real snapshot and a real restore drill, SARIF and JUnit
# files of the shapes scanners and test runners write, sign-offs made with
# the real `ssh-keygen -Y sign` (and checked back with `ssh-keygen -Y
# verify`), tcp probes to the harness's PostgreSQL and to a closed port.
# Each case: the criterion's state and the line saying expected against
# observed; the exit code; the recorded decision.  Fail-closed cases
# (missing file, failed scan, unreachable probe, empty repository, unknown
# kind, a gate without criteria), waivers before and after expiry, and the
# Markdown, JUnit and JSON outputs parsed, not eyeballed.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v ssh-keygen >/dev/null || {
	t_skip "ssh-keygen is not installed"
	done_testing
}

W=$BS_TMP/w
mkdir -p "$W/keys" "$W/ev"
REPO=$BS_TMP/repo
EMPTY=$BS_TMP/empty
CFG=$W/backstop.yaml
PY=/usr/bin/python3

SRC=$(new_db gate_src)
bs_on_exit drop_db "$SRC"
pg "$SRC" "create table t (id int primary key); insert into t select generate_series(1, 100)" >/dev/null || exit 1
bs repo init --repo "$REPO" -q && bs repo init --repo "$EMPTY" -q || exit 1
bs snap --repo "$REPO" -d "$(db_conninfo "$SRC")" --no-encryption -q >/dev/null || exit 1
CLOSED=$(bs_free_port)

for who in alice bob carol mallory; do
	ssh-keygen -q -t ed25519 -N '' -C "$who@example.com" -f "$W/keys/$who" || exit 1
done
# the security role: alice and bob (bob's line in a file); mallory is no signer
printf 'bob %s\n' "$(cut -d' ' -f1,2 "$W/keys/bob.pub")" >"$W/security.allowed_signers"
printf 'carol %s\n' "$(cut -d' ' -f1,2 "$W/keys/carol.pub")" >"$W/business.allowed_signers"
ALICE="alice $(cut -d' ' -f1,2 "$W/keys/alice.pub")"

cat >"$CFG" <<EOF
repository: $REPO
gate:
  policies: $W/policies
probe:
  timeout: 3s
  deadline: 10s
probes:
  db-port:
    kind: tcp
    host: 127.0.0.1:$PGPORT
  closed:
    kind: tcp
    host: 127.0.0.1:$CLOSED
EOF
mkdir -p "$W/policies"

# ---- evidence files ------------------------------------------------------------

# sarif NAME: a SARIF 2.1.0 document from stdin-provided runs JSON
sarif() {
	printf '{"version":"2.1.0","$schema":"https://json.schemastore.org/sarif-2.1.0.json","runs":%s}\n' "$2" >"$W/ev/$1.sarif"
}
TRIVY_RULES='[{"id":"CVE-2026-0001","properties":{"security-severity":"9.8"}},{"id":"CVE-2026-0002","properties":{"security-severity":"9.1"}},{"id":"CVE-2026-0003","properties":{"security-severity":"7.5"}},{"id":"CVE-2026-0004","properties":{"security-severity":"5.0"}}]'
sarif criticals '[{"tool":{"driver":{"name":"Trivy","rules":'"$TRIVY_RULES"'}},"results":[
 {"ruleId":"CVE-2026-0001","ruleIndex":0,"level":"error","message":{"text":"openssl"}},
 {"ruleId":"CVE-2026-0002","ruleIndex":1,"level":"error","message":{"text":"zlib"}},
 {"ruleId":"CVE-2026-0003","ruleIndex":2,"level":"error","message":{"text":"curl"}},
 {"ruleId":"CVE-2026-0004","ruleIndex":3,"level":"warning","message":{"text":"libxml2"}}]}]'
sarif highs '[{"tool":{"driver":{"name":"Trivy","rules":'"$TRIVY_RULES"'}},"results":[
 {"ruleId":"CVE-2026-0003","ruleIndex":2,"level":"error","message":{"text":"curl"}},
 {"ruleId":"CVE-2026-0004","ruleIndex":3,"level":"warning","message":{"text":"libxml2"}}]}]'
sarif suppressed '[{"tool":{"driver":{"name":"Trivy","rules":'"$TRIVY_RULES"'}},"results":[
 {"ruleId":"CVE-2026-0001","ruleIndex":0,"message":{"text":"openssl"},"suppressions":[{"kind":"external","status":"accepted","justification":"not reachable"}]},
 {"ruleId":"CVE-2026-0002","ruleIndex":1,"message":{"text":"zlib"},"baselineState":"unchanged"},
 {"ruleId":"CVE-2026-0004","ruleIndex":3,"message":{"text":"libxml2"}}]}]'
sarif failed-run '[{"tool":{"driver":{"name":"semgrep"}},"invocations":[{"executionSuccessful":false,"toolExecutionNotifications":[{"level":"error","message":{"text":"rules could not be downloaded"}}]}],"results":[]}]'
sarif clean '[{"tool":{"driver":{"name":"semgrep","rules":[]}},"invocations":[{"executionSuccessful":true}],"results":[]}]'

cat >"$W/ev/pass.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<testsuites><testsuite name="api" tests="3"><testcase classname="api.health" name="ok"/><testcase classname="api.login" name="ok"/><testcase classname="api.skip" name="later"><skipped/></testcase></testsuite></testsuites>
EOF
cat >"$W/ev/fail.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="api" tests="3" failures="0"><testcase classname="api.orders" name="create"><failure message="500">boom</failure></testcase><testcase classname="api.orders" name="list"><error message="timeout"/></testcase><testcase classname="api.health" name="ok"/></testsuite>
EOF
cat >"$W/ev/empty.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="0"/>
EOF
echo "runbook" >"$W/ev/runbook.md"

# policy NAME <<EOF: write a policy into the policies directory
policy() { cat >"$W/policies/$1.yaml"; }

# check ARGS..: backstop gate check with the config, JSON on stdout
gate() { bs gate "$@" --config "$CFG"; }
# state GATE ID: a criterion's state in the last --json output
state() { jq -r --arg g "$1" --arg c "$2" '.findings[] | select(.group == $g and .check == $c) | .state' "$OUT_FILE"; }
observed() { jq -r --arg g "$1" --arg c "$2" '.findings[] | select(.group == $g and .check == $c) | .observed' "$OUT_FILE"; }
detail() { jq -r --arg g "$1" --arg c "$2" '.findings[] | select(.group == $g and .check == $c) | .detail // ""' "$OUT_FILE"; }

# expect_crit GATE ID STATE REGEX: state and observed line of a criterion
expect_crit() {
	local st obs
	st=$(state "$1" "$2")
	obs=$(observed "$1" "$2")
	check_eq "$1.$2 is $3" "$st" "$3"
	if printf '%s' "$obs" | grep -Eq -- "$4"; then
		_bs_assert 1 "$1.$2 observed matches /$4/"
	else
		_bs_assert 0 "$1.$2 observed matches /$4/" "  observed: $obs" "  detail: $(detail "$1" "$2")"
	fi
}

cd "$W" || exit 1

# ---- GO ------------------------------------------------------------------------------

policy release <<EOF
kind: gate
version: 1
roles:
  security:
    signers:
      - $ALICE
    signers_file: ../security.allowed_signers
gates:
  - name: technical
    owner: Technical Lead
    criteria:
      - kind: backup
        database: $SRC
        max_age: 1h
        encrypted: false
      - kind: junit
        files: [ev/pass.xml]
      - kind: probe
        probes: [db-port]
      - kind: file
        path: ev/runbook.md
      - kind: command
        run: [sh, -c, 'test -s ev/runbook.md']
  - name: security
    owner: Security Team Lead
    criteria:
      - kind: sarif
        files: [ev/clean.sarif]
      - kind: approval
        role: security
        min: 1
        max_age: 1h
EOF

t_go() {
	run_cmd bs gate approve security --release v1.4.2 --key "$W/keys/alice" --reason "pen test signed off" --config "$CFG"
	expect_exit 0 "alice signs off with her own key"
	expect_stdout_matches "signed off gate 'security' for release v1.4.2 .*key SHA256:"
	run_cmd gate check release --release v1.4.2 --json
	expect_exit 0 "GO exits 0"
	check_eq "decision GO" "$(jq -r .decision "$OUT_FILE")" GO
	check_eq "the gates' owners are in the report" "$(jq -r .properties.owners "$OUT_FILE")" \
		"technical: Technical Lead; security: Security Team Lead"
	expect_crit technical backup ok "^newest snapshot of '$SRC' is .* old: [0-9T]+Z-"
	expect_crit technical junit ok '^3 tests, 0 failures, 0 errors \(1 skipped\)$'
	expect_crit technical probe ok '^db-port OK: '
	expect_crit technical file ok "^'ev/runbook.md' exists"
	expect_crit technical command ok "exited 0"
	expect_crit security sarif ok '^0 critical, 0 high, 0 medium, 0 low$'
	expect_crit security approval ok '^1 of 1 sign-off for v1.4.2: alice$'
	local rec
	rec=$(jq -r .record "$OUT_FILE")
	check "the decision is recorded in the repository" test -f "$REPO/decisions/release/$rec.json"
	check_eq "the record says GO, the release and the actor" \
		"$(jq -r '[.decision, .release, .actor, (.criteria | length), (.policy_sha256 | length)] | join(" ")' "$REPO/decisions/release/$rec.json")" \
		"GO v1.4.2 $(id -un) 7 64"
	check_eq "the record names each criterion's owner" \
		"$(jq -r '[.criteria[].owner] | unique | join(",")' "$REPO/decisions/release/$rec.json")" "Security Team Lead,Technical Lead"
	check_eq "the record's hash is the policy file's" "$(jq -r .policy_sha256 "$REPO/decisions/release/$rec.json")" \
		"$(sha256sum "$W/policies/release.yaml" | cut -d' ' -f1)"
	# text output: the same decision
	sleep 1 # decisions are ordered by their time, in seconds
	run_cmd gate check release --release v1.4.2 --actor ci-bot
	expect_exit 0
	expect_stdout_contains "decision: GO"
}
run_test "GO: every kind of evidence present; the decision and who made it recorded with the policy's hash" t_go

t_sshsig_interop() {
	local rec
	rec=$(ls "$REPO"/approvals/security/*.json | head -1)
	jq -j .statement "$rec" >"$W/stmt.txt"
	jq -j .signature "$rec" >"$W/stmt.sig"
	{ printf '%s\n' "$ALICE"; cat "$W/security.allowed_signers"; } >"$W/all.allowed_signers"
	# (run_cmd gives /dev/null as stdin: the statement goes in by a redirect of our own)
	RC=0
	ssh-keygen -Y verify -f "$W/all.allowed_signers" -I alice -n backstop-gate -s "$W/stmt.sig" <"$W/stmt.txt" >"$BS_TMP/v.out" 2>&1 || RC=$?
	check_eq "ssh-keygen -Y verify accepts the recorded sign-off ($(cat "$BS_TMP/v.out"))" "$RC" 0
	check_eq "the statement names gate, release and reason" "$(sed -n '1,3p;7p' "$W/stmt.txt" | tr '\n' '|')" \
		"backstop gate approval v1|gate: security|release: v1.4.2|reason: pen test signed off|"
}
run_test "a sign-off record verifies independently with ssh-keygen -Y verify" t_sshsig_interop

# ---- approvals ------------------------------------------------------------------------

policy signoffs <<EOF
kind: gate
roles:
  security:
    signers: ["$ALICE"]
    signers_file: ../security.allowed_signers
gates:
  - name: security
    criteria:
      - kind: approval
        id: two
        role: security
        min: 2
        not_deployer: true
      - kind: approval
        id: fresh
        role: security
        max_age: 2s
EOF

t_approvals() {
	run_cmd bs gate approve security --release v2.0.0 --key "$W/keys/mallory" --reason "lgtm" --config "$CFG"
	expect_exit 0 "a key outside the role can sign (without --policy), but it will not count"
	run_cmd bs gate approve security --release v1.9.9 --key "$W/keys/bob" --reason "older release" --config "$CFG"
	run_cmd bs gate approve security --release v2.0.0 --key "$W/keys/alice" --reason "ok" --config "$CFG"
	expect_exit 0
	run_cmd gate check signoffs --release v2.0.0 --json --no-record
	expect_exit 1 "one of two is NO-GO"
	expect_crit security two fail '^1 of 2 sign-offs for v2.0.0: alice$'
	check "mallory's sign-off is listed as not a signer, with her key" \
		grep -Eq 'not counted \(not a signer of the role\): key SHA256:[A-Za-z0-9+/]{43} is not a signer of role .security.' <<<"$(detail security two)"
	check "bob's sign-off of another release is not counted" bash -c '! grep -q v1.9.9 <<<"$1"' _ "$(detail security two)"
	# the deployer's own sign-off does not count when the policy says so
	run_cmd bs gate approve security --release v2.0.0 --key "$W/keys/bob" --reason "ok too" --config "$CFG"
	run_cmd gate check signoffs --release v2.0.0 --json --no-record --deployer bob
	expect_crit security two fail '^1 of 2 sign-offs'
	check "bob deploys, so his sign-off is refused with the reason" \
		grep -q 'not counted (by the deployer): bob deploys this release (as bob) and may not approve it' <<<"$(detail security two)"
	run_cmd gate check signoffs --release v2.0.0 --json --no-record --deployer BOB
	check "the deployer is matched without regard to case" \
		grep -q 'not counted (by the deployer): bob deploys this release (as BOB)' <<<"$(detail security two)"
	run_cmd gate check signoffs --release v2.0.0 --json --no-record --deployer someone-else
	expect_crit security two ok '^2 of 2 sign-offs for v2.0.0: (bob, alice|alice, bob)$'
	# alice signs again: one person counts once
	run_cmd bs gate approve security --release v2.0.0 --key "$W/keys/alice" --reason "again" --config "$CFG"
	run_cmd gate check signoffs --release v2.0.0 --json --no-record --deployer someone-else
	expect_crit security two ok '^2 of 2 sign-offs for v2.0.0: (bob, alice|alice, bob)$'
	check "her second sign-off is listed as counted already" \
		grep -q 'not counted (same signer again): alice is counted already' <<<"$(detail security two)"
	run_cmd bs gate check signoffs --release v2.0.0 --no-record --deployer '' --config "$CFG"
	expect_exit 2 "an empty --deployer is refused"
	# expiry: 'fresh' allows 2 seconds
	sleep 3
	run_cmd gate check signoffs --release v2.0.0 --json --no-record --deployer someone-else
	expect_crit security fresh fail '^0 of 1 sign-off'
	check "an expired sign-off says how old it is and the limit" \
		grep -Eq 'not counted \(expired\): (alice|bob) signed [0-9.]+s ago \(limit 2s\)' <<<"$(detail security fresh)"
	# bound to the commit: a sign-off without it does not count for a check with it
	run_cmd gate check signoffs --release v2.0.0 --commit 3f2a9c1 --json --no-record --deployer x
	expect_crit security two fail '^0 of 2'
	check "a sign-off of the same release without the commit is listed" \
		grep -q 'not counted (another release): alice signed release v2.0.0' <<<"$(detail security two)"
}
run_test "approvals: N of M, a key outside the role, another release, the deployer, expiry, commit binding" t_approvals

t_tampered() {
	local rec before
	rec=$(grep -l '"release": "v2.0.0"' "$REPO"/approvals/security/*.json | xargs grep -l '"reason": "ok"' | head -1)
	cp "$rec" "$BS_TMP/rec.bak"
	jq '.reason = "ok, and anything else too"' "$BS_TMP/rec.bak" >"$rec"
	run_cmd gate check signoffs --release v2.0.0 --json --no-record --deployer x
	expect_crit security two ok '^2 of 2' # alice's second sign-off still counts
	check "the tampered record is named with 'bad signature'" \
		grep -Eq 'not counted \(bad signature\): signature does not match' <<<"$(detail security two)"
	cp "$BS_TMP/rec.bak" "$rec"
	# a record whose release was changed to this one is caught the same way
	jq '.release = "v2.0.0"' "$(grep -l '"release": "v1.9.9"' "$REPO"/approvals/security/*.json)" >"$BS_TMP/moved.json"
	cp "$BS_TMP/moved.json" "$REPO/approvals/security/29990101T000000Z-aaaaaa.json"
	run_cmd gate check signoffs --release v2.0.0 --json --no-record --deployer x
	check "a sign-off moved to another release is a bad signature" \
		grep -q 'not counted (bad signature): signature does not match' <<<"$(detail security two)"
	expect_crit security two ok '^2 of 2'
	rm -f "$REPO/approvals/security/29990101T000000Z-aaaaaa.json"
}
run_test "a tampered sign-off (reason edited, or moved to another release) is rejected as a bad signature" t_tampered

t_approve_refused() {
	local before
	before=$(ls "$REPO"/approvals/security | wc -l)
	run_cmd bs gate approve security --release v3.0.0 --key "$W/keys/mallory" --reason "x" --policy "$W/policies/signoffs.yaml" --config "$CFG"
	expect_exit 2 "a key that is not a signer is refused with --policy"
	expect_stderr_matches "key SHA256:.* is not a signer for gate 'security' in policy 'signoffs'"
	check_eq "nothing recorded" "$(ls "$REPO"/approvals/security | wc -l)" "$before"
	run_cmd bs gate approve security --release v3.0.0 --key "$W/keys/alice" --reason $'two\nlines' --config "$CFG"
	expect_exit 2 "a reason of two lines is refused"
	expect_stderr_contains "control character"
	run_cmd bs gate approve security --release v3.0.0 --key "$W/keys/nokey" --reason "x" --config "$CFG"
	expect_exit 3 "a missing key file fails"
	expect_stderr_matches "unable to sign with '.*nokey'"
	check_eq "still nothing recorded" "$(ls "$REPO"/approvals/security | wc -l)" "$before"
	run_cmd bs gate approve security --release v3.0.0 --key "$W/keys/alice" --config "$CFG"
	expect_exit 2 "--reason is required"
}
run_test "approve: a key outside the role (--policy), a two-line reason, a missing key: refused, nothing recorded" t_approve_refused

# ---- SARIF and JUnit ---------------------------------------------------------------------

policy evidence <<EOF
kind: gate
gates:
  - name: security
    criteria:
      - {kind: sarif, id: criticals, files: [ev/criticals.sarif]}
      - {kind: sarif, id: highs, files: [ev/highs.sarif]}
      - {kind: sarif, id: highs-allowed, files: [ev/highs.sarif], max: {critical: 0, high: 1}}
      - {kind: sarif, id: suppressed, files: [ev/suppressed.sarif]}
      - {kind: sarif, id: failed-run, files: [ev/failed-run.sarif]}
      - {kind: sarif, id: missing, files: [ev/nowhere.sarif]}
      - {kind: sarif, id: clean, files: [ev/clean.sarif]}
  - name: tests
    criteria:
      - {kind: junit, id: failing, files: [ev/fail.xml]}
      - {kind: junit, id: none, files: [ev/empty.xml]}
      - {kind: junit, id: passing, files: [ev/pass.xml, ev/pass.xml], min_tests: 4}
      - {kind: junit, id: skipped-do-not-count, files: [ev/pass.xml, ev/pass.xml], min_tests: 5}
EOF

t_evidence() {
	run_cmd gate check evidence --json --no-record
	expect_exit 1 "NO-GO"
	expect_crit security criticals fail '^2 critical findings \(limit 0\): CVE-2026-0001, CVE-2026-0002; 1 high finding \(limit 0\): CVE-2026-0003$'
	expect_crit security highs fail '^1 high finding \(limit 0\): CVE-2026-0003$'
	expect_crit security highs-allowed ok '^0 critical, 1 high, 1 medium, 0 low$'
	expect_crit security suppressed ok '^0 critical, 0 high, 1 medium, 0 low$'
	check "suppressed and baseline-unchanged results are reported apart" \
		grep -q 'not counted: 1 suppressed, 1 unchanged from the baseline, 0 gone since it' <<<"$(detail security suppressed)"
	expect_crit security failed-run unknown "the scan did not complete.*semgrep.*rules could not be downloaded"
	expect_crit security missing fail '^no evidence: no file matches ev/nowhere.sarif$'
	expect_crit security clean ok '^0 critical, 0 high, 0 medium, 0 low$'
	expect_crit tests failing fail '^1 failure, 1 error in 3 tests: api.orders.create, api.orders.list$'
	expect_crit tests none fail '^0 tests run \(at least 1 expected\)$'
	expect_crit tests passing ok '^6 tests, 0 failures, 0 errors \(2 skipped\)$'
	expect_crit tests skipped-do-not-count fail '^4 tests run \(at least 5 expected\), the others skipped$'
}
run_test "sarif (criticals, highs only, suppressed, failed run, missing, clean) and junit (failures, zero tests)" t_evidence

# ---- fail closed -------------------------------------------------------------------------

t_fail_closed() {
	policy closed <<EOF
kind: gate
gates:
  - name: ops
    criteria:
      - {kind: probe, probes: [closed]}
      - {kind: backup, database: $SRC, repository: $EMPTY}
      - {kind: drill, database: $SRC}
      - {kind: rollback_ready, service: api}
EOF
	run_cmd gate check closed --json --no-record
	expect_exit 1 "NO-GO"
	expect_crit ops probe fail '^closed FAIL: '
	expect_crit ops backup fail "^no snapshot of database '$SRC' in repository "
	expect_crit ops drill fail "^no passing restore drill of database '$SRC'"
	expect_crit ops rollback_ready fail "^no release of 'api' recorded in "
	run_cmd bs gate check --policy "$W/policies/closed.yaml" --gate nope --config "$CFG"
	expect_exit 2 "an unknown --gate is a usage error"
	policy unknown-only <<EOF
kind: gate
gates:
  - name: ops
    criteria:
      - {kind: rollback_ready, service: api, repository: $W/nowhere}
EOF
	run_cmd gate check unknown-only --no-record
	expect_exit 3 "only UNKNOWN: exit 3, could not evaluate"
	expect_stdout_contains "decision: NO-GO (0 FAIL, 1 UNKNOWN, 0 WARN): could not evaluate every criterion"
	# no repository configured at all
	grep -v '^repository:' "$CFG" >"$W/norepo.yaml"
	run_cmd bs gate check release --release v1.4.2 --config "$W/norepo.yaml" --json
	expect_exit 3 "without a repository: NO-GO, could not evaluate"
	expect_crit technical backup unknown "no repository configured"
	expect_crit security approval unknown "no repository configured to read sign-offs from"
	expect_stderr_contains "the decision is not recorded: no repository is configured"
}
run_test "fail closed: closed port, empty repository, no drill, no rollback ledger, no repository" t_fail_closed

t_unrecorded() {
	policy blocked <<'EOF'
kind: gate
gates:
  - name: ops
    criteria:
      - {kind: file, path: ev/runbook.md}
EOF
	run_cmd gate check blocked
	expect_exit 0 "GO when recorded"
	# a file where the policy's decisions directory should be: the record cannot be written
	rm -rf "$REPO/decisions/blocked"
	echo x >"$REPO/decisions/blocked"
	run_cmd gate check blocked
	expect_exit 3 "a GO that cannot be recorded is not GO"
	expect_stderr_contains "the decision (GO) could not be recorded"
	expect_stdout_contains "decision: NO-GO (0 FAIL, 0 UNKNOWN, 0 WARN): the decision could not be recorded"
	rm -f "$REPO/decisions/blocked"
}
run_test "a decision that cannot be recorded: NO-GO, exit 3" t_unrecorded

t_policy_errors() {
	local cnt
	cnt=$(ls "$REPO/decisions/release" | wc -l)
	policy bad-kind <<'EOF'
kind: gate
gates:
  - name: ops
    criteria:
      - kind: sarf
        files: [x.sarif]
EOF
	run_cmd gate check bad-kind
	expect_exit 2 "an unknown criterion kind is a policy error"
	expect_stderr_contains "bad-kind.yaml:5:15: invalid value 'sarf' for 'gates[0].criteria[0].kind'"
	expect_stderr_contains "expected one of: probe, backup, drill, sarif, junit, approval, rollback_ready, file, command"
	policy no-crit <<'EOF'
kind: gate
gates:
  - name: ops
    owner: Operations Lead
  - name: tech
    criteria: []
EOF
	run_cmd gate check no-crit
	expect_exit 2 "a gate without criteria is a policy error"
	expect_stderr_contains "no-crit.yaml:3:5: gate 'ops' has no criteria"
	expect_stderr_contains "no-crit.yaml:5:5: gate 'tech' has no criteria"
	policy bad-refs <<'EOF'
kind: gate
gates:
  - name: ops
    criteria:
      - {kind: approval, role: nobody}
      - {kind: probe, probes: [nope]}
      - {kind: sarif, files: [a.sarif]}
      - {kind: sarif, files: [b.sarif]}
waivers:
  - {criterion: ops.missing, reason: x, approver: y, expires: 2030-01-01}
  - {criterion: ops.approval, reason: x, approver: y, expires: soon}
EOF
	run_cmd gate validate bad-refs
	expect_exit 2
	expect_stderr_contains "role 'nobody' is not defined under 'roles:'"
	expect_stderr_contains "two criteria with the id 'sarif'"
	expect_stderr_contains "waiver for 'ops.missing' names no criterion of this policy"
	expect_stderr_contains "invalid expiry 'soon'"
	run_cmd gate check nonexistent
	expect_exit 2 "a policy that does not exist"
	expect_stderr_matches "no gate policy 'nonexistent': unable to read '.*/policies/nonexistent.yaml'"
	run_cmd gate check ../etc
	expect_exit 2 "a policy name cannot be a path"
	policy probe-ref <<'EOF'
kind: gate
gates:
  - name: ops
    criteria:
      - {kind: probe, probes: [db-port, missing-probe]}
EOF
	run_cmd gate check probe-ref
	expect_exit 2 "a probe that is not configured"
	expect_stderr_contains "probe-ref.yaml:5:9: gate 'ops', criterion 'probe': no probe named 'missing-probe' in the configuration"
	check_eq "no decision recorded for policy errors" "$(ls "$REPO/decisions/release" | wc -l)" "$cnt"
	check "no decision directory for the broken policies" test ! -e "$REPO/decisions/bad-kind"
}
run_test "policy errors exit 2 with file:line: unknown kind, no criteria, bad references, missing policy or probe" t_policy_errors

# ---- waivers, severity ------------------------------------------------------------------

t_waivers() {
	local tomorrow yesterday
	tomorrow=$(date -u -d tomorrow +%Y-%m-%d)
	yesterday=$(date -u -d yesterday +%Y-%m-%d)
	policy waived <<EOF
kind: gate
gates:
  - name: security
    criteria:
      - {kind: sarif, id: scan, files: [ev/highs.sarif]}
      - {kind: sarif, id: old, files: [ev/highs.sarif]}
      - {kind: junit, id: advisory, files: [ev/fail.xml], severity: warn}
waivers:
  - criterion: security.scan
    reason: CVE-2026-0003 is not reachable from the API
    approver: ciso
    expires: $tomorrow
  - criterion: security.old
    reason: accepted last month
    approver: ciso
    expires: $yesterday
EOF
	run_cmd gate check waived --json --no-record
	expect_exit 1 "the expired waiver leaves a FAIL"
	expect_crit security scan waived '^1 high finding \(limit 0\): CVE-2026-0003$'
	check "the waiver is shown with who, until when and why" \
		grep -q "WAIVED (was FAIL) by ciso until ${tomorrow}T00:00:00Z: CVE-2026-0003 is not reachable" <<<"$(detail security scan)"
	expect_crit security old fail '^1 high finding'
	check "an expired waiver says so and waives nothing" \
		grep -q "waiver by ciso expired ${yesterday}T00:00:00Z: it no longer waives" <<<"$(detail security old)"
	expect_crit security advisory warn '^1 failure, 1 error'
	# without the expired one: GO, and --fail-on-warn turns the WARN into NO-GO
	sed -i '/security.old/,$d' "$W/policies/waived.yaml"
	sed -i '/id: old/d' "$W/policies/waived.yaml"
	run_cmd gate check waived --no-record
	expect_exit 0 "WAIVED and WARN: GO"
	expect_stdout_contains "decision: GO, 1 waived"
	expect_stdout_contains "WAIVED"
	run_cmd gate check waived --no-record --fail-on-warn
	expect_exit 1 "--fail-on-warn: a WARN is NO-GO"
	run_cmd gate status waived
	expect_exit 0
	expect_stdout_matches "security.scan +active +until ${tomorrow}T00:00:00Z, by ciso: CVE-2026-0003"
}
run_test "waivers before and after expiry; severity warn; --fail-on-warn" t_waivers

# ---- outputs -----------------------------------------------------------------------------

t_outputs() {
	local rc1 rc2 rc3
	run_cmd gate check evidence --no-record --markdown --junit "$W/gate.xml" --json-file "$W/gate.json"
	rc1=$RC
	cp "$OUT_FILE" "$W/gate.md"
	run_cmd gate check evidence --no-record --json
	rc2=$RC
	run_cmd gate check evidence --no-record
	rc3=$RC
	check_eq "the exit code does not change with the output flags" "$rc1 $rc2 $rc3" "1 1 1"
	check "the JUnit file parses: a test case per criterion, failures and errors as the states say" \
		"$PY" - "$W/gate.xml" <<'EOF'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
cases = root.findall(".//testcase")
assert len(cases) == 11, len(cases)
by = {(c.get("classname"), c.get("name")): c for c in cases}
assert by[("security", "criticals")].find("failure") is not None
assert by[("security", "failed-run")].find("error") is not None
assert by[("security", "clean")].find("failure") is None and by[("security", "clean")].find("error") is None
assert "CVE-2026-0001" in by[("security", "criticals")].find("failure").get("message")
assert int(root.get("failures")) == 6 and int(root.get("errors")) == 1, (root.get("failures"), root.get("errors"))
EOF
	check "the Markdown parses: a heading with NO-GO and a table row per criterion" \
		"$PY" - "$W/gate.md" <<'EOF'
import sys
lines = open(sys.argv[1]).read().splitlines()
heads = [l for l in lines if l.startswith("#")]
assert heads and "NO-GO" in heads[0], heads
rows = [l for l in lines if l.startswith("|")]
header = [c.strip() for c in rows[0].strip("|").split("|")]
assert header[:3] == ["State", "Group", "Check"], header
assert set(rows[1].replace("|", "").strip()) <= set("-: "), rows[1]
body = [[c.strip() for c in r.strip("|").split("|")] for r in rows[2:]]
assert len(body) == 11, len(body)
for r in body:
    assert len(r) == len(header), r
states = {(r[1], r[2]): r[0] for r in body}
assert "FAIL" in states[("security", "criticals")], states
assert "UNKNOWN" in states[("security", "failed-run")], states
EOF
	check_eq "the JSON file holds the decision" "$(jq -r '[.decision, .exit, (.findings | length)] | join(" ")' "$W/gate.json")" "NO-GO 1 11"
	run_cmd env GITHUB_ACTIONS=true "$BS_BIN/backstop" gate check evidence --no-record --config "$CFG"
	expect_exit 1
	check "GitHub Actions annotations on stderr, one per problem" \
		test "$(grep -c '^::error ' "$ERR_FILE")" -eq 7
	expect_stderr_matches '^::error file=.*evidence.yaml,line=[0-9]+.*title=security FAIL criticals::'
	# the issue's own example: Markdown and JSON into one step summary
	GITHUB_STEP_SUMMARY=$W/summary.md
	run_cmd bash -c '"$4" gate check evidence --no-record --config "$1" --markdown --junit "$2" --json >>"$3"' _ \
		"$CFG" "$W/gate2.xml" "$GITHUB_STEP_SUMMARY" "$BS_BIN/backstop"
	expect_exit 1 "--markdown --json: the same exit code"
	check "the summary holds the table, then the JSON in a details block that parses" \
		"$PY" - "$GITHUB_STEP_SUMMARY" <<'EOF'
import sys, json, re
t = open(sys.argv[1]).read()
assert t.startswith("### ") and "| State | Group | Check |" in t, t[:200]
m = re.search(r"<details><summary>JSON report</summary>\n\n```json\n(.*?)```\n\n</details>\n$", t, re.S)
assert m, t[-300:]
d = json.loads(m.group(1))
assert d["decision"] == "NO-GO" and d["exit"] == 1 and len(d["findings"]) == 11
EOF
	check "and the JUnit file" test -s "$W/gate2.xml"
}
run_test "outputs: JUnit and Markdown parsed, JSON, GitHub annotations, exit codes fixed whatever the flags" t_outputs

# ---- drill and status ----------------------------------------------------------------------

t_drill_status() {
	policy ops <<EOF
kind: gate
gates:
  - name: operations
    criteria:
      - {kind: drill, database: $SRC, max_age: 1h, max_rto: 10m}
      - {kind: drill, id: strict, database: $SRC, max_rto: 1s}
EOF
	bs verify-restore latest --repo "$REPO" --scratch "$(db_conninfo postgres)" -q >/dev/null 2>&1
	run_cmd gate check ops --json
	expect_crit operations drill ok "^drill [0-9T]+Z-[0-9a-z]+ of '$SRC' passed [0-9.]+s ago, RTO [0-9.]+m?s$"
	run_cmd gate status release --release v1.4.2
	expect_exit 0
	expect_stdout_matches "valid +alice +v1.4.2 .*pen test signed off"
	expect_stdout_matches "^last decision: GO at .*, release v1.4.2, by ci-bot"
	run_cmd gate status signoffs --json
	check "status --json lists every sign-off with its state" \
		test "$(jq '[.signoffs[] | select(.state == "not a signer")] | length' "$OUT_FILE")" -ge 2
}
run_test "drill criterion after a real drill; gate status shows sign-offs and the last decision" t_drill_status

t_shipped() {
	cp -r "$BS_ROOT/policies" "$W/shipped"
	run_cmd bs gate validate --policy "$W/shipped/go-live.yaml" --config "$BS_ROOT/contrib/backstop.yaml.example"
	expect_exit 0 "the shipped go-live policy is valid against the example configuration"
	expect_stdout_contains "4 gates"
	expect_stderr_contains "role 'security' lists no signers"
	run_cmd bs gate --help
	expect_exit 0
	for v in check approve status validate; do
		run_cmd bs gate $v --help
		expect_exit 0 "gate $v --help"
	done
	run_cmd bs gate
	expect_exit 2 "no verb"
}
run_test "the shipped policy validates; --help on every verb" t_shipped

done_testing
