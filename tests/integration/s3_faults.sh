#!/usr/bin/env bash
# s3_faults.sh - an S3 repository behind a proxy that injects faults
# (tests/net/faultproxy.py in front of the harness's s3rver):
#   * every third request answered 503 SlowDown, 429 with Retry-After, or
#     cut mid-answer by a TCP reset: snap (multipart) and restore succeed
#     through them, each retry logged; the restored database equals the
#     source;
#   * every request answered 503: snap fails cleanly (exit 3, the endpoint,
#     bucket and status named), nothing listed, nothing left that prune
#     does not remove.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=../net/objstore_cases.sh
. "$BS_ROOT/tests/net/objstore_cases.sh"

if [ -z "${BS_TEST_S3_ENDPOINT:-}" ]; then
	skip "S3 fault scenarios" "no S3 test server (tests/run.sh starts s3rver when it is installed)"
	done_testing
fi
export AWS_ACCESS_KEY_ID=$BS_TEST_S3_KEY AWS_SECRET_ACCESS_KEY=$BS_TEST_S3_SECRET
unset AWS_SESSION_TOKEN AWS_PROFILE
PREFIX=s3faults-$$
objstore_proxy "$BS_TEST_S3_ENDPOINT"
EP=http://127.0.0.1:$PROXY_PORT

SRC=$(new_db s3f_src)
bs_on_exit drop_db "$SRC"
objstore_fill "$SRC" || exit 1
CFG=$BS_TMP/backstop.yaml
cat >"$CFG" <<Y
database: "$(db_conninfo "$SRC")"
encryption: none
repository:
  bucket: $BS_TEST_S3_BUCKET
  prefix: $PREFIX
  endpoint: $EP
  part_size: 5MiB
  retries: 4
Y
"$BS_BIN/backstop" repo init --config "$CFG" -q || exit 1

counts() { cat "$MODE.count" 2>/dev/null || echo "0 0"; }

t_transient() {
	local target faults
	echo "every 3 503,429,reset" >"$MODE"
	run_cmd bs snap --config "$CFG"
	expect_exit 0 || return 1
	faults=$(counts | awk '{print $2}')
	check "faults were injected during the snap ($(counts))" test "$faults" -ge 3
	expect_stderr_contains "retrying"
	expect_stderr_contains "HTTP 503"
	run_cmd bs snap list --config "$CFG" --json
	expect_exit 0 && check_eq "one snapshot listed" "$(jq -r '.snapshots | length' "$OUT_FILE")" 1
	target=$(fresh_db_name s3f_rs)
	bs_on_exit drop_db "$target"
	echo "every 3 reset,503,429" >"$MODE"
	run_cmd bs restore latest --config "$CFG" -d "$(db_conninfo "$target")" --create -q
	expect_exit 0 || return 1
	check "faults were injected during the restore ($(counts))" test "$(counts | awk '{print $2}')" -ge 2
	db_compare "$SRC" "$target"
}
run_test "transient 503, 429 and resets: snap and restore succeed, retries logged" t_transient

t_persistent() {
	local before
	echo off >"$MODE"
	run_cmd bs snap list --config "$CFG" --json
	before=$(jq -r '.snapshots | length' "$OUT_FILE")
	echo "always 503" >"$MODE"
	run_cmd bs snap --config "$CFG"
	expect_exit 3 && expect_stderr_contains "bucket '$BS_TEST_S3_BUCKET' at $EP" &&
		expect_stderr_contains "failed: HTTP 503"
	echo off >"$MODE"
	run_cmd bs snap list --config "$CFG" --json
	expect_exit 0 && check_eq "nothing more listed" "$(jq -r '.snapshots | length' "$OUT_FILE")" "$before"
	printf 'orphan_grace: 1s\nkeep_last: 5\n' >"$BS_TMP/prune.yaml"
	sleep 1.5
	run_cmd bs snap prune --config "$CFG" --policy "$BS_TMP/prune.yaml" --json
	expect_exit 0
	run_cmd bs snap list --config "$CFG" --json
	check_eq "the snapshot from before is still there" "$(jq -r '.snapshots | length' "$OUT_FILE")" "$before"
}
run_test "every request 503: snap fails cleanly (exit 3), nothing listed, prune leaves it clean" t_persistent

done_testing
