#!/usr/bin/env bash
# s3_multi_repo.sh - several repositories in one setup ('repositories:'):
# a local directory (the primary) and an S3 bucket prefix (the harness's
# s3rver), each with its own retention:
#   * one snap writes both; each lists it only once its own copy is
#     complete; the copies are byte for byte the same (encrypted, never
#     decrypted); restore from the off-site copy equals the source;
#   * --repo NAME (or BACKSTOP_REPO=NAME) writes one; snap copy ID --from/--to copies it (and again:
#     "already in"); snap prune --repo NAME applies that repository's policy;
#   * a secondary that fails: exit 4, the id still printed, the primary has
#     the snapshot, stderr names the repository;
#   * bad set-ups: an unknown name (exit 2, the names listed); both
#     'repository' and 'repositories' (exit 2).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ -z "${BS_TEST_S3_ENDPOINT:-}" ]; then
	skip "several repositories" "no S3 test server (tests/run.sh starts s3rver when it is installed)"
	done_testing
fi
export AWS_ACCESS_KEY_ID=$BS_TEST_S3_KEY AWS_SECRET_ACCESS_KEY=$BS_TEST_S3_SECRET
unset AWS_SESSION_TOKEN AWS_PROFILE BACKSTOP_REPO
PREFIX=multi-$$
SRC=$(new_db multi_src)
bs_on_exit drop_db "$SRC"
pg "$SRC" "create table t (id int primary key, v text); insert into t select g, md5(g::text) from generate_series(1, 20000) g;" \
	>/dev/null || exit 1
K=$BS_TMP/keys
mkdir -p "$K"
"$BS_BIN/backstop" keygen -o "$K/id.txt" >"$K/id.pub" 2>/dev/null || exit 1
printf 'keep_last: 10\n' >"$BS_TMP/keep10.yaml"
printf 'keep_last: 1\nkeep_newest_verified: false\n' >"$BS_TMP/keep1.yaml"
LOCAL=$BS_TMP/local
CFG=$BS_TMP/backstop.yaml
cat >"$CFG" <<Y
database: "$(db_conninfo "$SRC")"
encryption:
  recipients: ["$(cat "$K/id.pub")"]
repositories:
  local: { path: $LOCAL, retention: $BS_TMP/keep10.yaml }
  offsite:
    s3: { bucket: $BS_TEST_S3_BUCKET, prefix: $PREFIX, endpoint: $BS_TEST_S3_ENDPOINT }
    retention: $BS_TMP/keep1.yaml
Y
"$BS_BIN/backstop" repo init --config "$CFG" --repo local -q || exit 1
"$BS_BIN/backstop" repo init --config "$CFG" --repo offsite -q || exit 1

ids() { # REPO: the snapshot ids listed there
	"$BS_BIN/backstop" snap list --config "$CFG" --repo "$1" --json 2>/dev/null | jq -r '.snapshots[].id'
}

s3_sha() { # KEY: SHA-256 of an object in the bucket
	python3 -c 'import sys, hashlib, urllib.request; print(hashlib.sha256(urllib.request.urlopen(sys.argv[1]).read()).hexdigest())' \
		"$BS_TEST_S3_ENDPOINT/$BS_TEST_S3_BUCKET/$PREFIX/$1"
}

ID1=
t_fan_out() {
	local target
	run_cmd bs snap --config "$CFG" -q
	expect_exit 0 || return 1
	ID1=$(tr -d '\n' <"$OUT_FILE")
	check_eq "listed in local" "$(ids local)" "$ID1"
	check_eq "listed in offsite" "$(ids offsite)" "$ID1"
	check_eq "the off-site archive is the local one, byte for byte" \
		"$(s3_sha "archives/$ID1.tar.age")" "$(sha256sum "$LOCAL/archives/$ID1.tar.age" | cut -d' ' -f1)"
	target=$(fresh_db_name multi_rs)
	bs_on_exit drop_db "$target"
	run_cmd bs restore latest --config "$CFG" --repo offsite --identity "$K/id.txt" -d "$(db_conninfo "$target")" --create -q
	expect_exit 0 && db_compare "$SRC" "$target"
}
run_test "one snap writes every repository; restore from the off-site copy" t_fan_out

ID2=
t_one_and_copy() {
	run_cmd bs snap --config "$CFG" --repo offsite -q
	expect_exit 0 || return 1
	ID2=$(tr -d '\n' <"$OUT_FILE")
	check "only offsite has it" bash -c "! grep -q '$ID2' <<<'$(ids local)'"
	run_cmd bs snap copy "$ID2" --config "$CFG" --from offsite --to local
	expect_exit 0 && expect_stdout_contains "$ID2 copied to $LOCAL"
	check "local lists it now" grep -q "$ID2" <<<"$(ids local)"
	run_cmd bs snap copy "$ID2" --config "$CFG" --from offsite --to local
	expect_exit 0 && expect_stdout_contains "$ID2 already in $LOCAL"
	run_cmd bs snap copy "$ID2" --config "$CFG"
	expect_exit 2 && expect_stderr_contains "needs --to REPO"
}
run_test "--repo NAME writes one; snap copy copies it, and again says it is there" t_one_and_copy

t_retention_per_repo() {
	run_cmd bs snap prune --config "$CFG" --repo offsite
	expect_exit 0 || return 1
	check_eq "offsite keeps its newest (keep_last 1)" "$(ids offsite)" "$ID2"
	run_cmd bs snap prune --config "$CFG" --repo local
	expect_exit 0 && check_eq "local keeps both (keep_last 10)" "$(ids local | wc -l)" 2
}
run_test "snap prune --repo NAME applies that repository's retention" t_retention_per_repo

t_env_chooses() {
	local before id
	before=$(ids offsite)
	run_cmd env BACKSTOP_REPO=local "$BS_BIN/backstop" snap --config "$CFG" -q
	expect_exit 0 || return 1
	id=$(tr -d '\n' <"$OUT_FILE")
	check "local has it" grep -q "$id" <<<"$(ids local)"
	check_eq "offsite is unchanged (no fan-out when BACKSTOP_REPO chose one)" "$(ids offsite)" "$before"
}
run_test "BACKSTOP_REPO=NAME writes that one only, as --repo does" t_env_chooses

t_secondary_fails() {
	local bad=$BS_TMP/bad.yaml before id
	sed 's/^    retention: .*keep1.yaml$/    retention: KEEP1/' "$CFG" >"$bad"
	cat >>"$bad" <<Y
  dead:
    s3: { bucket: $BS_TEST_S3_BUCKET, prefix: nowhere, endpoint: http://127.0.0.1:9, retries: 0 }
Y
	sed -i "s|KEEP1|$BS_TMP/keep1.yaml|" "$bad"
	before=$(ids local | wc -l)
	run_cmd bs snap --config "$bad" -q
	expect_exit 4 && expect_stderr_contains "repository 'dead'" &&
		expect_stderr_contains "but not in 1 of the 2 others"
	id=$(tr -d '\n' <"$OUT_FILE")
	check "the id is printed" test -n "$id"
	check_eq "the primary has it" "$(ids local | wc -l)" $((before + 1))
	check "offsite has it too" grep -q "$id" <<<"$(ids offsite)"
}
run_test "a secondary that fails: exit 4, the id printed, the primary has the snapshot" t_secondary_fails

t_bad_setups() {
	run_cmd bs snap list --config "$CFG" --repo elsewhere
	expect_exit 2 && expect_stderr_contains "no repository named 'elsewhere' in 'repositories:' (local, offsite)"
	printf 'repository: /tmp/x\nrepositories:\n  a: /tmp/y\n' >"$BS_TMP/both.yaml"
	run_cmd bs snap list --config "$BS_TMP/both.yaml"
	expect_exit 2 && expect_stderr_contains "'repository' and 'repositories' are both set"
}
run_test "an unknown name, and both 'repository' and 'repositories': exit 2" t_bad_setups

done_testing
