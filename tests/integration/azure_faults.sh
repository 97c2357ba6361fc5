#!/usr/bin/env bash
# azure_faults.sh - an Azure Blob repository behind a proxy that injects
# faults (tests/net/faultproxy.py --errors azure in front of the harness's
# Azurite):
#   * every third request answered 503 ServerBusy, 429 with Retry-After,
#     cut mid-answer by a TCP reset, or dropped before its answer: snap
#     (Put Block, Put Block List) and restore succeed through them, every
#     retry logged; the restored database equals the source; neither the
#     account key nor, with a SAS token, its signature is ever printed;
#   * a restore whose archive download stalls mid-body for longer than the
#     client's stall limit (stall_timeout: 3s in the repository mapping),
#     then is cut mid-body: the client gives up on the stalled attempt
#     itself, retries both, and the restore succeeds;
#   * every request answered 503: snap fails cleanly (exit 3, the endpoint,
#     account, container and status named), nothing listed;
#   * every Put Block answered 503: snap fails cleanly (exit 3), removes
#     its upload marker and lease itself, nothing listed;
#   * every request answered 503 once the upload has begun (its clean-up
#     fails too): exit 3, nothing listed, and once the faults stop a prune
#     leaves no upload marker or lease behind.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=../net/objstore_cases.sh
. "$BS_ROOT/tests/net/objstore_cases.sh"

if [ -z "${BS_TEST_AZURE_ENDPOINT:-}" ]; then
	skip "Azure fault scenarios" "no Azure test server (tests/run.sh starts Azurite when it is installed)"
	done_testing
fi
export AZURE_STORAGE_ACCOUNT=$BS_TEST_AZURE_ACCOUNT AZURE_STORAGE_KEY=$BS_TEST_AZURE_KEY
unset AZURE_STORAGE_SAS_TOKEN
PREFIX=azfaults-$$
STALL_SECS=20 # longer than the client's stall limit (stall_timeout 3s): only the client can end it sooner
objstore_proxy "$BS_TEST_AZURE_ENDPOINT" --errors azure --stall-secs "$STALL_SECS"
# path-style, like the harness's endpoint: http://127.0.0.1:PORT/ACCOUNT
EP=http://127.0.0.1:$PROXY_PORT/${BS_TEST_AZURE_ENDPOINT#http://*/}
WHERE="container '$BS_TEST_AZURE_CONTAINER' of account '$BS_TEST_AZURE_ACCOUNT' at $EP"

# az_keys PREFIX: the blob names under PREFIX, listed by the test's own
# Python straight from Azurite (not through the proxy, not by backstop).
az_keys() {
	python3 "$BS_ROOT/tests/net/azure_admin.py" list "$BS_TEST_AZURE_ENDPOINT" "$BS_TEST_AZURE_ACCOUNT" \
		"$BS_TEST_AZURE_CONTAINER" "$1"
}

SRC=$(new_db azf_src)
bs_on_exit drop_db "$SRC"
objstore_fill "$SRC" || exit 1
CFG=$BS_TMP/backstop.yaml
cat >"$CFG" <<Y
database: "$(db_conninfo "$SRC")"
encryption: none
repository:
  account: $BS_TEST_AZURE_ACCOUNT
  container: $BS_TEST_AZURE_CONTAINER
  prefix: $PREFIX
  endpoint: $EP
  part_size: 5MiB
  retries: 4
  stall_timeout: 3s
  lease_ttl: 4s
Y
"$BS_BIN/backstop" repo init --config "$CFG" -q || exit 1

# counts: "requests faults felt" of the proxy (tests/net/faultproxy.py);
# felt: the faults the client must see (503, 429, a cut body, a stall), all
# of which it must retry and log; drops: those libcurl may resend unseen
counts() { cat "$MODE.count" 2>/dev/null || echo "0 0 0"; }
felt() { counts | awk '{print $3}'; }
drops() { grep -c '^drop ' "$MODE.log" 2>/dev/null; }
retries_logged() { grep -c "retrying in" "$ERR_FILE"; }

# faults_run MODE CMD..: run_cmd CMD.. with the proxy in MODE (off after);
# sets F (faults felt) and D (drops) during it
faults_run() {
	local f0
	f0=$(felt)
	: >"$MODE.log"
	echo "$1" >"$MODE"
	shift
	run_cmd "$@"
	echo off >"$MODE"
	F=$(($(felt) - f0))
	D=$(drops)
}

# retries_check WHAT: every fault felt was retried and logged (a drop may
# have been resent by libcurl instead: logged or not)
retries_check() {
	local n
	n=$(retries_logged)
	check "$1: every fault retried and logged (felt $F, drops $D, retries logged $n)" \
		test "$n" -ge "$F" -a "$n" -le "$((F + D))"
}

# no_secrets WHAT: neither the account key (nor a piece of it), nor a SAS
# signature, nor a Shared Key Authorization value in the last command's output
no_secrets() {
	check "$1: the account key is never shown" bash -c \
		"! grep -qF -e '$BS_TEST_AZURE_KEY' -e '${BS_TEST_AZURE_KEY:0:12}' '$ERR_FILE' '$OUT_FILE'"
	check "$1: no SAS signature or Shared Key signature shown" bash -c \
		"! grep -qE 'sig=|SharedKey' '$ERR_FILE' '$OUT_FILE'"
}

t_transient() {
	local target
	faults_run "every 3 503,429,reset,drop" bs snap --config "$CFG"
	expect_exit 0 || return 1
	check "faults were felt during the snap ($F)" test "$F" -ge 4
	retries_check "snap"
	check "a 503 retried, and logged" grep -qE 'HTTP 503 \(attempt [1-4]/5\), retrying in' "$ERR_FILE"
	check "a 429 retried after its Retry-After, and logged" \
		grep -qE 'HTTP 429 \(attempt [1-4]/5\), retrying in 1\.00 s \(Retry-After\)' "$ERR_FILE"
	expect_stderr_contains "PUT $EP/$BS_TEST_AZURE_CONTAINER/$PREFIX/"
	no_secrets "snap"
	run_cmd bs snap list --config "$CFG" --json
	expect_exit 0 && check_eq "one snapshot listed" "$(jq -r '.snapshots | length' "$OUT_FILE")" 1
	check_eq "committed as 3 blocks of 5 MiB" "$(python3 "$BS_ROOT/tests/net/azure_admin.py" blocks \
		"$BS_TEST_AZURE_ENDPOINT" "$BS_TEST_AZURE_ACCOUNT" "$BS_TEST_AZURE_CONTAINER" \
		"$(az_keys "$PREFIX/archives/" | head -n 1)")" 3
	check_eq "no unfinished upload left" "$(az_keys "$PREFIX/tmp/" | wc -l)" 0
	target=$(fresh_db_name azf_rs)
	bs_on_exit drop_db "$target"
	faults_run "every 2 reset,503,429,drop" bs restore latest --config "$CFG" -d "$(db_conninfo "$target")" --create -q
	expect_exit 0 || return 1
	check "faults were felt during the restore ($F)" test "$F" -ge 3
	check "an answer was cut mid-body during the restore" grep -q '^reset GET ' "$MODE.log"
	retries_check "restore"
	expect_stderr_contains "GET $EP/$BS_TEST_AZURE_CONTAINER/$PREFIX/archives/"
	no_secrets "restore"
	db_compare "$SRC" "$target"
}
run_test "transient 503, 429, resets and drops: snap and restore succeed, every retry logged" t_transient

t_transient_sas() {
	local sas=$BS_TMP/sas sig
	python3 "$BS_ROOT/tests/net/azure_admin.py" sas "$BS_TEST_AZURE_ACCOUNT" "$BS_TEST_AZURE_CONTAINER" racwdl \
		>"$sas" || return 1
	chmod 600 "$sas"
	sig=$(sed 's/.*sig=//; s/&.*//' "$sas")
	sed "s|^  lease_ttl: 4s|&\n  sas_token_file: $sas|" "$CFG" >"$BS_TMP/sas.yaml"
	# the key stays unset: the token alone authorizes
	AZURE_STORAGE_KEY='' faults_run "every 3 429,503,drop,reset" bs snap --config "$BS_TMP/sas.yaml"
	expect_exit 0 || return 1
	check "faults were felt during the snap ($F)" test "$F" -ge 4
	retries_check "snap"
	no_secrets "snap with a SAS token"
	check "the token's signature is never shown" bash -c "! grep -qF -e '$sig' -e 'se=' '$ERR_FILE' '$OUT_FILE'"
	AZURE_STORAGE_KEY='' run_cmd bs snap list --config "$BS_TMP/sas.yaml" --json
	expect_exit 0 && check_eq "two snapshots listed" "$(jq -r '.snapshots | length' "$OUT_FILE")" 2
}
run_test "transient faults with a SAS token: the snap succeeds, the signature is never shown" t_transient_sas

t_stall() {
	local target start secs
	target=$(fresh_db_name azf_st)
	bs_on_exit drop_db "$target"
	# the first archive download stops half-way for STALL_SECS; the next
	# one is cut half-way
	start=$(date +%s)
	faults_run "every 1 stall,reset method=GET path=/archives/ max=2" \
		bs restore latest --config "$CFG" -d "$(db_conninfo "$target")" --create -q
	secs=$(($(date +%s) - start))
	expect_exit 0 || return 1
	check_eq "a stall and a cut injected" "$F" 2
	expect_stderr_contains "GET $EP/$BS_TEST_AZURE_CONTAINER/$PREFIX/archives/"
	expect_stderr_contains "too slow"
	check_eq "both attempts retried, and logged" "$(retries_logged)" 2
	check "the client ended the stall itself (${secs}s < ${STALL_SECS}s)" test "$secs" -lt "$STALL_SECS"
	no_secrets "restore"
	db_compare "$SRC" "$target"
}
run_test "archive downloads stalled and cut mid-body: the client gives up, retries, the restore succeeds" t_stall

t_persistent() {
	local before
	run_cmd bs snap list --config "$CFG" --json
	before=$(jq -r '.snapshots | length' "$OUT_FILE")
	faults_run "always 503" bs snap --config "$CFG"
	expect_exit 3 && expect_stderr_contains "$WHERE" && expect_stderr_contains "failed: HTTP 503 ServerBusy"
	expect_stderr_contains "(attempt 4/5), retrying in"
	check "gave up after 5 attempts: no attempt 5/5 retried" bash -c "! grep -q 'attempt 5/5' '$ERR_FILE'"
	no_secrets "failed snap"
	run_cmd bs snap list --config "$CFG" --json
	expect_exit 0 && check_eq "nothing more listed" "$(jq -r '.snapshots | length' "$OUT_FILE")" "$before"
}
run_test "every request 503: snap fails cleanly (exit 3, named), nothing listed" t_persistent

t_persistent_upload() {
	local before archives
	run_cmd bs snap list --config "$CFG" --json
	before=$(jq -r '.snapshots | length' "$OUT_FILE")
	archives=$(az_keys "$PREFIX/archives/" | wc -l)
	# the lease, the marker and the catalog work; every block upload fails
	faults_run "always 503 method=PUT path=comp=block&blockid=" bs snap --config "$CFG"
	expect_exit 3 && expect_stderr_contains "$WHERE" &&
		expect_stderr_contains " of 'archives/" && expect_stderr_contains "failed: HTTP 503 ServerBusy"
	check "block uploads were refused ($F)" test "$F" -ge 5
	no_secrets "failed snap"
	run_cmd bs snap list --config "$CFG" --json
	expect_exit 0 && check_eq "nothing more listed" "$(jq -r '.snapshots | length' "$OUT_FILE")" "$before"
	check_eq "no archive committed" "$(az_keys "$PREFIX/archives/" | wc -l)" "$archives"
	check_eq "the failed snap removed its own upload marker" "$(az_keys "$PREFIX/tmp/" | wc -l)" 0
	check_eq "and released its lease" "$(az_keys "$PREFIX/leases/" | wc -l)" 0
	printf 'orphan_grace: 1s\nkeep_last: 5\n' >"$BS_TMP/prune.yaml"
	sleep 1.5
	run_cmd bs snap prune --config "$CFG" --policy "$BS_TMP/prune.yaml"
	expect_exit 0 || return 1
	check_eq "no unfinished upload left" "$(az_keys "$PREFIX/tmp/" | wc -l)" 0
	check_eq "no lease left" "$(az_keys "$PREFIX/leases/" | wc -l)" 0
	check_eq "no archive left but the listed ones" "$(az_keys "$PREFIX/archives/" | wc -l)" "$before"
	run_cmd bs snap list --config "$CFG" --json
	expect_exit 0 && check_eq "the snapshots from before are still there" \
		"$(jq -r '.snapshots | length' "$OUT_FILE")" "$before"
}
run_test "every block upload 503: snap fails cleanly (exit 3), cleans up after itself, nothing listed" t_persistent_upload

t_persistent_midway() {
	local before archives pid rc=0 i
	run_cmd bs snap list --config "$CFG" --json
	before=$(jq -r '.snapshots | length' "$OUT_FILE")
	archives=$(az_keys "$PREFIX/archives/" | wc -l)
	: >"$MODE.log"
	echo off >"$MODE"
	"$BS_BIN/backstop-snap" --config "$CFG" -q >"$BS_TMP/mid.out" 2>"$BS_TMP/mid.err" </dev/null &
	pid=$!
	# once its upload has begun, every request fails: its clean-up too
	for ((i = 0; i < 200; i++)); do
		az_keys "$PREFIX/tmp/uploads/" | grep -q . && break
		sleep 0.05
	done
	echo "always 503" >"$MODE"
	wait "$pid" || rc=$?
	echo off >"$MODE"
	check_eq "the snap failed (exit 3)" "$rc" 3
	check "its error names the store and the status" grep -qF "$WHERE" "$BS_TMP/mid.err"
	check "HTTP 503 ServerBusy" grep -qF "failed: HTTP 503 ServerBusy" "$BS_TMP/mid.err"
	check "its retries were logged" grep -q "(attempt 4/5), retrying in" "$BS_TMP/mid.err"
	check "no secret shown" bash -c "! grep -qF -e '${BS_TEST_AZURE_KEY:0:12}' -e SharedKey '$BS_TMP/mid.err' '$BS_TMP/mid.out'"
	run_cmd bs snap list --config "$CFG" --json
	expect_exit 0 && check_eq "nothing more listed" "$(jq -r '.snapshots | length' "$OUT_FILE")" "$before"
	check "its upload marker is left for prune" test "$(az_keys "$PREFIX/tmp/uploads/" | wc -l)" -ge 1
	printf 'orphan_grace: 1s\nkeep_last: 5\n' >"$BS_TMP/prune.yaml"
	sleep 5 # a lease it could not release expires (lease_ttl 4s)
	run_cmd bs snap prune --config "$CFG" --policy "$BS_TMP/prune.yaml"
	expect_exit 0 || return 1
	check_eq "no unfinished upload left" "$(az_keys "$PREFIX/tmp/" | wc -l)" 0
	check_eq "no lease left" "$(az_keys "$PREFIX/leases/" | wc -l)" 0
	check_eq "no archive but the listed ones" "$(az_keys "$PREFIX/archives/" | wc -l)" "$archives"
	run_cmd bs snap list --config "$CFG" --json
	expect_exit 0 && check_eq "the snapshots from before are still there" \
		"$(jq -r '.snapshots | length' "$OUT_FILE")" "$before"
}
run_test "every request 503 once the upload began: exit 3, nothing listed, prune removes what is left" t_persistent_midway

done_testing
