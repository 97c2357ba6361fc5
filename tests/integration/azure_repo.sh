#!/usr/bin/env bash
# azure_repo.sh - a repository in an Azure Blob container
# (lib/repo/azure*.c), against the Azurite that tests/run.sh starts
# (tests/net/azurite.sh), which checks Shared Key and SAS signatures:
#   * repo init, then snap (encrypted, in several 5 MiB blocks), list, show,
#     restore and a drill, all from the container, configured by the
#     'repository:' mapping with the account key in AZURE_STORAGE_KEY; the
#     restored database equals the source;
#   * a wrong account key: exit 3, naming the endpoint, account and
#     container, never the key;
#   * a SAS token with read and list permissions only: the catalog reads,
#     and a snap fails clearly (exit 3, the missing permission named) and
#     lists nothing new;
#   * a snap killed with SIGKILL once its blocks are on the server: no
#     snapshot listed; the next prune removes its upload marker and discards
#     its uncommitted blocks, leaving no blob behind;
#   * two snaps and a prune from three host names at once (UTS namespaces):
#     the prune waits or says the repository is locked; every snapshot
#     listed afterwards restores exactly; no lease is left;
#   * plain http to a host that is not loopback is refused (exit 2).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=../net/objstore_cases.sh
. "$BS_ROOT/tests/net/objstore_cases.sh"

if [ -z "${BS_TEST_AZURE_ENDPOINT:-}" ]; then
	skip "Azure repository scenarios" "no Azure test server (tests/run.sh starts Azurite when it is installed)"
	done_testing
fi
export AZURE_STORAGE_ACCOUNT=$BS_TEST_AZURE_ACCOUNT AZURE_STORAGE_KEY=$BS_TEST_AZURE_KEY
unset AZURE_STORAGE_SAS_TOKEN
PREFIX=azrepo-$$
SRC=$(new_db az_src)
bs_on_exit drop_db "$SRC"
K=$BS_TMP/keys
mkdir -p "$K"
"$BS_BIN/backstop" keygen -o "$K/id.txt" >"$K/id.pub" 2>/dev/null || exit 1
CFG=$BS_TMP/backstop.yaml
cat >"$CFG" <<Y
database: "$(db_conninfo "$SRC")"
repository:
  account: $BS_TEST_AZURE_ACCOUNT
  container: $BS_TEST_AZURE_CONTAINER
  prefix: $PREFIX
  endpoint: $BS_TEST_AZURE_ENDPOINT
  part_size: 5MiB
  lease_ttl: 4s
Y
WHERE="container '$BS_TEST_AZURE_CONTAINER' of account '$BS_TEST_AZURE_ACCOUNT' at $BS_TEST_AZURE_ENDPOINT"

# az_keys PREFIX: the blob names under PREFIX in the container, one per line
# (a Shared Key listing made by the test's own Python, not by backstop).
az_keys() {
	python3 "$BS_ROOT/tests/net/azure_admin.py" list "$BS_TEST_AZURE_ENDPOINT" "$BS_TEST_AZURE_ACCOUNT" \
		"$BS_TEST_AZURE_CONTAINER" "$1"
}
# az_admin VERB BLOB: azure_admin.py's uncommitted / get on one blob
az_admin() {
	python3 "$BS_ROOT/tests/net/azure_admin.py" "$1" "$BS_TEST_AZURE_ENDPOINT" "$BS_TEST_AZURE_ACCOUNT" \
		"$BS_TEST_AZURE_CONTAINER" "$2"
}

objstore_fill "$SRC" || exit 1

ID=
t_init() {
	run_cmd bs repo init --config "$CFG"
	expect_exit 0 && expect_stderr_contains "created repository 'azure://$BS_TEST_AZURE_ACCOUNT/$BS_TEST_AZURE_CONTAINER/$PREFIX"
	check_eq "backstop-repo.json under the prefix" "$(az_keys "$PREFIX/backstop-repo.json")" "$PREFIX/backstop-repo.json"
	run_cmd bs repo init --config "$CFG"
	expect_exit 0 && expect_stderr_contains "already a backstop repository"
}
run_test "repo init on a container prefix, and again (nothing changed)" t_init

t_round_trip() {
	local target
	run_cmd bs snap --config "$CFG" --recipient "$(cat "$K/id.pub")" -q
	expect_exit 0 || return 1
	ID=$(tr -d '\n' <"$OUT_FILE")
	check_eq "archive blob" "$(az_keys "$PREFIX/archives/" | grep -c "$ID.tar.age")" 1
	check_eq "committed as 3 blocks of 5 MiB" "$(python3 "$BS_ROOT/tests/net/azure_admin.py" blocks \
		"$BS_TEST_AZURE_ENDPOINT" "$BS_TEST_AZURE_ACCOUNT" "$BS_TEST_AZURE_CONTAINER" \
		"$(az_keys "$PREFIX/archives/" | grep "$ID.tar.age")")" 3
	check_eq "no unfinished upload left" "$(az_keys "$PREFIX/tmp/" | wc -l)" 0
	check_eq "no lease left" "$(az_keys "$PREFIX/leases/" | wc -l)" 0
	run_cmd bs snap list --config "$CFG" --json
	expect_exit 0 && check_eq "listed" "$(jq -r '.snapshots[0].id' "$OUT_FILE")" "$ID"
	run_cmd bs snap show "$ID" --config "$CFG"
	expect_exit 0 && expect_stdout_contains "$ID"
	target=$(fresh_db_name az_rs)
	bs_on_exit drop_db "$target"
	run_cmd bs restore latest --config "$CFG" --identity "$K/id.txt" -d "$(db_conninfo "$target")" --create -q
	expect_exit 0 || return 1
	db_compare "$SRC" "$target"
	run_cmd bs verify-restore latest --config "$CFG" --identity "$K/id.txt" --scratch "$(db_conninfo postgres)" -q
	expect_exit 0
	check_eq "drill record" "$(az_keys "$PREFIX/drills/$ID/" | wc -l)" 1
}
run_test "snap (3 blocks), list, show, restore and a drill, all from the container" t_round_trip

t_bad_key() {
	# a well-formed key of the right length that is not the account's
	local wrong=c2VjcmV0LW5vdC10aGUta2V5LW9mLXRoaXMtYWNjb3VudC0wMDAwMDAwMDAwMDAwMDAwMDA=
	AZURE_STORAGE_KEY=$wrong run_cmd bs snap list --config "$CFG"
	expect_exit 3 && expect_stderr_contains "$WHERE" && expect_stderr_contains "HTTP 403" &&
		expect_stderr_contains "check the account key"
	check "the key is never shown" bash -c "! grep -qF '$wrong' '$ERR_FILE' '$OUT_FILE'"
	check "nor its start" bash -c "! grep -qF 'c2VjcmV0LW5v' '$ERR_FILE' '$OUT_FILE'"
}
run_test "a wrong account key: exit 3 naming endpoint, account and container, never the key" t_bad_key

t_sas_read_only() {
	local sas=$BS_TMP/sas before
	python3 "$BS_ROOT/tests/net/azure_admin.py" sas "$BS_TEST_AZURE_ACCOUNT" "$BS_TEST_AZURE_CONTAINER" rl >"$sas" ||
		return 1
	chmod 600 "$sas"
	sed "s|^  lease_ttl: 4s|&\n  sas_token_file: $sas|" "$CFG" >"$BS_TMP/sas.yaml"
	before=$(az_keys "$PREFIX/snapshots/" | wc -l)
	# the key stays unset: the token alone authorizes
	AZURE_STORAGE_KEY= run_cmd bs snap list --config "$BS_TMP/sas.yaml" --json
	expect_exit 0 && check_eq "the catalog reads with a read-only token" \
		"$(jq -r '.snapshots[0].id' "$OUT_FILE")" "$ID"
	AZURE_STORAGE_KEY= run_cmd bs snap --config "$BS_TMP/sas.yaml" --no-encryption -q
	expect_exit 3 && expect_stderr_contains "AuthorizationPermissionMismatch" &&
		expect_stderr_contains "$WHERE" && expect_stderr_contains "the SAS token does not allow this"
	check "the token's signature is never shown" bash -c \
		"! grep -qF '$(sed 's/.*sig=//; s/&.*//' "$sas")' '$ERR_FILE' '$OUT_FILE'"
	check_eq "nothing new listed" "$(az_keys "$PREFIX/snapshots/" | wc -l)" "$before"
}
run_test "a SAS token without write permission: reads work, a snap fails clearly (exit 3)" t_sas_read_only

t_killed() {
	local pid before blob
	before=$(az_keys "$PREFIX/snapshots/" | wc -l)
	"$BS_BIN/backstop-snap" --config "$CFG" --no-encryption -q >/dev/null 2>"$BS_TMP/kill.err" </dev/null &
	pid=$!
	# the blob the dead snap is writing: named by its marker, with blocks
	blob=$(az_admin wait-blocks "$PREFIX")
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	[ -n "$blob" ] || { t_fail "the snap wrote no block before it ended: $(head -c 300 "$BS_TMP/kill.err")"; return 1; }
	blob=${blob#"$PREFIX/"}
	check_eq "no snapshot recorded" "$(az_keys "$PREFIX/snapshots/" | wc -l)" "$before"
	[ "$(az_keys "$PREFIX/tmp/uploads/" | wc -l)" -ge 1 ] || t_fail "no unfinished upload marker after the kill"
	[ "$(az_admin uncommitted "$PREFIX/$blob")" -gt 0 ] || t_fail "no uncommitted blocks after the kill"
	printf 'orphan_grace: 1s\nkeep_last: 5\n' >"$BS_TMP/prune.yaml"
	sleep 5 # the dead snap's lease expires (lease_ttl 4s); the upload is older than the grace
	run_cmd bs snap prune --config "$CFG" --policy "$BS_TMP/prune.yaml"
	expect_exit 0 || return 1
	check_eq "the unfinished upload is gone" "$(az_keys "$PREFIX/tmp/" | wc -l)" 0
	check_eq "its uncommitted blocks are discarded" "$(az_admin uncommitted "$PREFIX/$blob")" 0
	check_eq "and no blob was left under its key" "$(az_keys "$PREFIX/$blob")" ""
	check_eq "the snapshot is kept" "$(az_keys "$PREFIX/snapshots/" | wc -l)" "$before"
	run_cmd bs snap list --config "$CFG" --json
	expect_exit 0 && check_eq "still listed" "$(jq -r '.snapshots | length' "$OUT_FILE")" "$before"
}
run_test "snap killed during its upload: nothing listed; prune removes the upload and its blocks" t_killed

t_cross_host() {
	objstore_cross_host az_keys az_x
}
run_test "two snaps and a prune from three hosts at once: every listed snapshot restores" t_cross_host

t_plain_http() {
	run_cmd bs snap list --repo "azure://$BS_TEST_AZURE_ACCOUNT/$BS_TEST_AZURE_CONTAINER/x?endpoint=http://backups.example.com/acct"
	expect_exit 2 && expect_stderr_contains "refusing plain http to 'backups.example.com'"
}
run_test "plain http to a host that is not loopback is refused (exit 2)" t_plain_http

done_testing
