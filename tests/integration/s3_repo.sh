#!/usr/bin/env bash
# s3_repo.sh - a repository in an S3 bucket (lib/repo/s3*.c), against the
# s3rver that tests/run.sh starts (tests/net/s3rver.sh):
#   * repo init, then snap (encrypted, multipart: 5 MiB parts), list, show,
#     restore and a drill, all from the bucket, configured by the
#     'repository:' mapping; the restored database equals the source;
#   * an unknown access key: exit 3, naming the endpoint and the bucket,
#     never the key; nothing listed;
#   * the right access key with a wrong secret key (the server verifies
#     Signature V4): exit 3, naming the endpoint and the bucket, never the
#     secret; nothing written to the bucket;
#   * a snap killed with SIGKILL during its multipart upload: no snapshot
#     listed; the next prune (after the lease of the dead snap expired)
#     removes its unfinished upload: the marker, and the parts the server
#     holds (aborted, not left with a warning);
#   * storage_class and sse are sent with every object (s3rver keeps and
#     returns the storage class, and refuses one it does not know);
#   * two snaps and a prune from three host names at once (UTS namespaces):
#     the prune waits or says the repository is locked; every snapshot
#     listed afterwards restores exactly; no lease is left;
#   * plain http to a host that is not loopback is refused (exit 2).
# The server (tests/net/s3rver.js) verifies Signature V4 on every signed
# request, so every scenario here also checks the signer
# (tests/unit/repo/s3_sign_test.c checks it against AWS's examples).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=../net/objstore_cases.sh
. "$BS_ROOT/tests/net/objstore_cases.sh"

if [ -z "${BS_TEST_S3_ENDPOINT:-}" ]; then
	skip "S3 repository scenarios" "no S3 test server (tests/run.sh starts s3rver when it is installed)"
	done_testing
fi
export AWS_ACCESS_KEY_ID=$BS_TEST_S3_KEY AWS_SECRET_ACCESS_KEY=$BS_TEST_S3_SECRET
unset AWS_SESSION_TOKEN AWS_PROFILE
PREFIX=s3repo-$$
SRC=$(new_db s3_src)
bs_on_exit drop_db "$SRC"
K=$BS_TMP/keys
mkdir -p "$K"
"$BS_BIN/backstop" keygen -o "$K/id.txt" >"$K/id.pub" 2>/dev/null || exit 1
CFG=$BS_TMP/backstop.yaml
cat >"$CFG" <<Y
database: "$(db_conninfo "$SRC")"
repository:
  bucket: $BS_TEST_S3_BUCKET
  prefix: $PREFIX
  endpoint: $BS_TEST_S3_ENDPOINT
  part_size: 5MiB
  lease_ttl: 4s
Y

# s3_keys PREFIX: the keys under PREFIX in the bucket (s3rver lists for
# anonymous callers), one per line.
s3_keys() {
	python3 - "$BS_TEST_S3_ENDPOINT" "$BS_TEST_S3_BUCKET" "$1" <<'P'
import sys, urllib.request, urllib.parse, xml.etree.ElementTree as ET
ep, bucket, prefix = sys.argv[1:4]
token = None
while True:
    q = {"list-type": "2", "prefix": prefix}
    if token:
        q["continuation-token"] = token
    body = urllib.request.urlopen(f"{ep}/{bucket}?{urllib.parse.urlencode(q)}").read()
    root = ET.fromstring(body)
    ns = root.tag.split("}")[0] + "}" if root.tag.startswith("{") else ""
    for c in root.findall(ns + "Contents"):
        print(c.find(ns + "Key").text)
    if root.findtext(ns + "IsTruncated") != "true":
        break
    token = root.findtext(ns + "NextContinuationToken")
P
}

objstore_fill "$SRC" || exit 1

ID=
t_init() {
	run_cmd bs repo init --config "$CFG"
	expect_exit 0 && expect_stderr_contains "created repository 's3://$BS_TEST_S3_BUCKET/$PREFIX"
	check_eq "backstop-repo.json under the prefix" "$(s3_keys "$PREFIX/backstop-repo.json")" "$PREFIX/backstop-repo.json"
	run_cmd bs repo init --config "$CFG"
	expect_exit 0 && expect_stderr_contains "already a backstop repository"
}
run_test "repo init on a bucket prefix, and again (nothing changed)" t_init

t_round_trip() {
	local target
	run_cmd bs snap --config "$CFG" --recipient "$(cat "$K/id.pub")" -q
	expect_exit 0 || return 1
	ID=$(tr -d '\n' <"$OUT_FILE")
	check_eq "archive key" "$(s3_keys "$PREFIX/archives/" | grep -c "$ID.tar.age")" 1
	check_eq "no unfinished upload left" "$(s3_keys "$PREFIX/tmp/" | wc -l)" 0
	check_eq "no lease left" "$(s3_keys "$PREFIX/leases/" | wc -l)" 0
	run_cmd bs snap list --config "$CFG" --json
	expect_exit 0 && check_eq "listed" "$(jq -r '.snapshots[0].id' "$OUT_FILE")" "$ID"
	run_cmd bs snap show "$ID" --config "$CFG"
	expect_exit 0 && expect_stdout_contains "$ID"
	target=$(fresh_db_name s3_rs)
	bs_on_exit drop_db "$target"
	run_cmd bs restore latest --config "$CFG" --identity "$K/id.txt" -d "$(db_conninfo "$target")" --create -q
	expect_exit 0 || return 1
	db_compare "$SRC" "$target"
	run_cmd bs verify-restore latest --config "$CFG" --identity "$K/id.txt" --scratch "$(db_conninfo postgres)" -q
	expect_exit 0
	check_eq "drill record" "$(s3_keys "$PREFIX/drills/$ID/" | wc -l)" 1
}
run_test "snap (3 parts), list, show, restore and a drill, all from the bucket" t_round_trip

# gate: backup and drill criteria, a sign-off and the decision, all in the bucket
t_gate() {
	ssh-keygen -q -t ed25519 -N '' -f "$K/approver" || return 1
	cat >"$BS_TMP/gate.yaml" <<G
kind: gate
roles:
  ops:
    signers: ["ops $(cut -d' ' -f1,2 "$K/approver.pub")"]
gates:
  - name: ops
    criteria:
      - {kind: backup, max_age: 1h}
      - {kind: drill, max_age: 1h}
      - {kind: approval, role: ops}
G
	run_cmd bs gate approve ops --release v1 --key "$K/approver" --reason "ok" --config "$CFG"
	expect_exit 0 || return 1
	check_eq "the sign-off is in the bucket" "$(s3_keys "$PREFIX/approvals/ops/" | wc -l)" 1
	run_cmd bs gate check --policy "$BS_TMP/gate.yaml" --release v1 --config "$CFG" --json
	expect_exit 0 "GO from evidence in the bucket"
	check_eq "every criterion passed" "$(jq -r '[.findings[].state] | join(" ")' "$OUT_FILE")" "ok ok ok"
	check_eq "the decision is in the bucket" "$(s3_keys "$PREFIX/decisions/gate/" | wc -l)" 1
	run_cmd bs gate status --policy "$BS_TMP/gate.yaml" --config "$CFG"
	expect_exit 0 && expect_stdout_matches "^last decision: GO at "
}
run_test "gate: backup, drill and sign-off criteria and the decision record, in the bucket" t_gate

t_bad_key() {
	AWS_ACCESS_KEY_ID=AKIANOSUCHKEY00000000 AWS_SECRET_ACCESS_KEY=wrong-secret-value \
		run_cmd bs snap list --config "$CFG"
	expect_exit 3 && expect_stderr_contains "bucket '$BS_TEST_S3_BUCKET' at $BS_TEST_S3_ENDPOINT" &&
		expect_stderr_contains "403" && expect_stderr_contains "check the access key"
	check "the secret is never shown" bash -c "! grep -q wrong-secret-value '$ERR_FILE' '$OUT_FILE'"
}
run_test "an unknown access key: exit 3 naming endpoint and bucket, never the secret" t_bad_key

t_wrong_secret() {
	local before
	before=$(s3_keys "$PREFIX/")
	AWS_SECRET_ACCESS_KEY=not-the-secret-Zq7xW2 run_cmd bs snap --config "$CFG" --no-encryption -q
	# (its first request is a HEAD: S3 answers 403 without a body, so no
	# error code to show; the server refuses it only for the signature)
	expect_exit 3 && expect_stderr_contains "bucket '$BS_TEST_S3_BUCKET' at $BS_TEST_S3_ENDPOINT" &&
		expect_stderr_contains "HTTP 403" && expect_stderr_contains "check the access key"
	check "the secret is never shown" bash -c "! grep -q not-the-secret-Zq7xW2 '$ERR_FILE' '$OUT_FILE'"
	check_eq "nothing written to the bucket" "$(s3_keys "$PREFIX/")" "$before"
}
run_test "a wrong secret key: exit 3 naming the endpoint and bucket, never the secret" t_wrong_secret

# s3_upload_dir: the directory in which the server keeps the parts of an
# unfinished multipart upload of a key under PREFIX, once it holds a part
# (s3rver's layout: DIR/<bucket>/._S3rver_uploads/<upload id>/{key,1,2,..}).
s3_upload_dir() {
	local d
	for d in "$BS_TEST_S3_DIR/$BS_TEST_S3_BUCKET/._S3rver_uploads"/*/; do
		if [ -f "$d/1" ] && grep -q "^$PREFIX/" "$d/key" 2>/dev/null; then
			echo "${d%/}"
			return 0
		fi
	done
	return 1
}

t_killed() {
	local pid i before parts=
	before=$(s3_keys "$PREFIX/snapshots/" | wc -l)
	"$BS_BIN/backstop-snap" --config "$CFG" --no-encryption -q >/dev/null 2>"$BS_TMP/kill.err" </dev/null &
	pid=$!
	for ((i = 0; i < 1000; i++)); do # until the server holds a part (then ~0.3 s to go)
		parts=$(s3_upload_dir) && break
		sleep 0.02
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	[ -n "$parts" ] || { t_fail "the server never held a part of the snap's upload"; return 1; }
	check_eq "no snapshot recorded" "$(s3_keys "$PREFIX/snapshots/" | wc -l)" "$before"
	[ "$(s3_keys "$PREFIX/tmp/uploads/" | wc -l)" -ge 1 ] || t_fail "no unfinished upload marker after the kill"
	printf 'orphan_grace: 1s\nkeep_last: 5\n' >"$BS_TMP/prune.yaml"
	sleep 5 # the dead snap's lease expires (lease_ttl 4s); the upload is older than the grace
	run_cmd bs snap prune --config "$CFG" --policy "$BS_TMP/prune.yaml"
	expect_exit 0 || return 1
	check_eq "the unfinished upload is gone" "$(s3_keys "$PREFIX/tmp/" | wc -l)" 0
	check_eq "its marker under tmp/uploads/ is gone" "$(s3_keys "$PREFIX/tmp/uploads/" | wc -l)" 0
	check "its parts are gone from the server's disk" test ! -e "$parts"
	check "prune aborted the upload (no 'cannot abort' warning)" bash -c "! grep -qi 'cannot abort' '$ERR_FILE'"
	check_eq "the snapshot is kept" "$(s3_keys "$PREFIX/snapshots/" | wc -l)" "$before"
	run_cmd bs snap list --config "$CFG" --json
	expect_exit 0 && check_eq "still listed" "$(jq -r '.snapshots | length' "$OUT_FILE")" "$before"
}
run_test "snap killed during its upload: nothing listed; prune removes the upload and its parts" t_killed

t_storage_class() {
	local cfg2=$BS_TMP/sc.yaml id sc
	sed 's/^  lease_ttl: 4s$/  lease_ttl: 4s\n  storage_class: STANDARD_IA\n  sse: AES256/' "$CFG" >"$cfg2"
	run_cmd bs snap --config "$cfg2" --no-encryption -q
	expect_exit 0 || return 1
	id=$(tr -d '\n' <"$OUT_FILE")
	sc=$(python3 -c 'import sys, urllib.request; r = urllib.request.urlopen(urllib.request.Request(sys.argv[1], method="HEAD")); print(r.headers.get("x-amz-storage-class"))' \
		"$BS_TEST_S3_ENDPOINT/$BS_TEST_S3_BUCKET/$PREFIX/archives/$id.tar")
	check_eq "the archive was stored STANDARD_IA" "$sc" STANDARD_IA
	sed -i 's/STANDARD_IA/FAST/' "$cfg2"
	run_cmd bs snap --config "$cfg2" --no-encryption -q
	expect_exit 3 && expect_stderr_contains "InvalidStorageClass"
	sed -i 's/sse: AES256/sse: AES128/' "$cfg2"
	run_cmd bs snap list --config "$cfg2"
	expect_exit 2 && expect_stderr_contains "expected AES256 or aws:kms"
}
run_test "storage_class and sse reach the store; a class it refuses is a clear error" t_storage_class

t_cross_host() {
	objstore_cross_host s3_keys s3_x
}
run_test "two snaps and a prune from three hosts at once: every listed snapshot restores" t_cross_host

t_plain_http() {
	run_cmd bs snap list --repo "s3://$BS_TEST_S3_BUCKET/x?endpoint=http://backups.example.com"
	expect_exit 2 && expect_stderr_contains "refusing plain http to 'backups.example.com'"
}
run_test "plain http to a host that is not loopback is refused (exit 2)" t_plain_http

done_testing
