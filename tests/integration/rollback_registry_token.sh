#!/usr/bin/env bash
# rollback_registry_token.sh - backstop rollback with the registry driver
# against a registry that wants Bearer tokens (tests/net/registry.sh in
# token mode: docker-registry on loopback with auth: token:, and a token
# server that checks Basic credentials and signs RS256 tokens the registry
# verifies against its rootcertbundle).  backstop logs in through the token
# flow: GET /v2/ -> 401 Bearer realm=..,service=.. -> GET realm?service=..
# &scope=repository:acme/api:pull,push with the configured user and
# password -> Authorization: Bearer.  Then: a release recorded by tag (the
# tag resolved with a token), a rollback that re-points the tag at the
# known-good manifest byte for byte, and a wrong password refused by the
# token server: exit 3, the user named, the tag where it was.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$BS_ROOT/tests/net/registry.sh"

reg_start_for_tests "$BS_TMP/reg" token "rollback against a token-auth registry"
reg_rollback_service "$BS_TMP/w" || exit 1

if ! { V1=$(reg_push_image "$NAME" v1 docker one) &&
	V2=$(reg_push_image "$NAME" v2 oci two); }; then
	echo "Bail out! cannot push the test images"
	exit 1
fi
reg_get_manifest "$NAME" v1 "$W/m/v1" >/dev/null || exit 1
diag "v1 $V1 (docker), v2 $V2 (oci); tokens from $BS_REG_TOKEN_URL"

# token_log_mark: the token server's log so far (for token_log_since)
token_log_mark() { wc -l <"$BS_REG_TOKEN_LOG"; }

# token_log_since N TEXT: a line after the first N of the token server's
# log, from backstop (its User-Agent), has TEXT
token_log_since() {
	if tail -n +"$(($1 + 1))" "$BS_REG_TOKEN_LOG" | grep -F "(backstop/" | grep -qF -e "$2"; then
		_bs_assert 1 "the token server saw backstop: $2"
	else
		_bs_assert 0 "the token server saw backstop: $2" "$(sed 's/^/  | /' "$BS_REG_TOKEN_LOG")"
	fi
}

# ---- the fixture ---------------------------------------------------------------

t_fixture() {
	local code
	code=$(curl -s -o /dev/null -w '%{http_code} %header{www-authenticate}' "$BS_REG_URL/v2/")
	check_eq "GET /v2/ without a token: 401 with a Bearer challenge naming the token server" \
		"$code" "401 Bearer realm=\"$BS_REG_TOKEN_URL\",service=\"backstop-test-registry\""
	code=$(curl -s -o /dev/null -w '%{http_code}' -u "$BS_REG_USER:not-the-password" \
		"$BS_REG_TOKEN_URL?service=backstop-test-registry&scope=repository:$NAME:pull")
	check_eq "the token server refuses a wrong password" "$code" 401
	code=$(curl -s -o /dev/null -w '%{http_code}' -u "$BS_REG_USER:$BS_REG_PASSWORD" "$BS_REG_URL/v2/")
	check_eq "the registry refuses Basic credentials" "$code" 401
}
run_test "the registry wants Bearer tokens; the token server checks the password" t_fixture

# ---- deploys ---------------------------------------------------------------------

t_record_v1() {
	local mark
	mark=$(token_log_mark)
	check "prod -> v1 (manifest PUT)" reg_tag "$NAME" v1 prod
	run_cmd rb record api "$IMG:v1" --reason "deploy v1" --actor ci
	expect_exit 0
	expect_stdout_contains "recorded release"
	check_eq "the tag is resolved to v1's digest through the token flow" "$(current_digest)" "$V1"
	token_log_since "$mark" "issued a token to $BS_REG_USER for repository:$NAME:pull,push"
	run_cmd rb mark api --good --reason "verified in production"
	expect_exit 0
}
run_test "record v1 by tag (resolved with a Bearer token), mark it good" t_record_v1

t_record_v2() {
	check "prod -> v2" reg_tag "$NAME" v2 prod
	run_cmd rb record api "$IMG:v2" --reason "deploy v2" --actor ci
	expect_exit 0
	check_eq "v2 is current" "$(current_digest)" "$V2"
}
run_test "record v2 by tag" t_record_v2

t_record_wrong_password() {
	run_cmd rb_bad record api "$IMG:v1" --reason "deploy v1 again"
	expect_exit 3
	expect_stderr_contains "registry $BS_REG_HOST refused the credentials of user '$BS_REG_USER'"
	expect_stderr_contains "HTTP 401"
	check_eq "nothing recorded: v2 is still current" "$(current_digest)" "$V2"
}
run_test "record with a wrong password: the token server refuses, exit 3, nothing recorded" \
	t_record_wrong_password

# ---- rollback ----------------------------------------------------------------------

t_wrong_password() {
	local mark
	mark=$(token_log_mark)
	run_cmd rb_bad to api --reason "500s after deploy" --yes
	expect_exit 3
	expect_stderr_contains "registry $BS_REG_HOST refused the credentials of user '$BS_REG_USER'"
	expect_stderr_contains "HTTP 401"
	expect_stderr_contains "services.api.registry.password_file"
	if grep -qF "not-the-password" "$OUT_FILE" "$ERR_FILE"; then
		t_fail "the password is in the output"
	fi
	token_log_since "$mark" "refused user '$BS_REG_USER'"
	prod_is "$V2" "prod still points at v2"
	check_eq "no rollback tag was made" "$(rollback_tags)" ""
	check_eq "the ledger still says v2" "$(current_digest)" "$V2"
}
run_test "rollback with a wrong password: exit 3, the user named, tag unchanged" t_wrong_password

t_rollback() {
	local kept
	run_cmd rb to api --reason "500s after deploy" --yes
	expect_exit 0
	expect_output_contains "$V1"
	prod_is "$V1" "prod points at v1 again"
	reg_get_manifest "$NAME" prod "$W/m/prod" >/dev/null
	check "the manifest bytes are v1's, byte for byte" cmp "$W/m/v1" "$W/m/prod"
	check_eq "with v1's media type" "$(cat "$W/m/prod.type")" "$(cat "$W/m/v1.type")"
	kept=$(rollback_tags)
	check_eq "one rollback tag" "$(printf '%s\n' "$kept" | grep -c .)" 1
	check_eq "it keeps v2's digest" "$(reg_get_manifest "$NAME" "$kept" 2>&1)" "$V2"
	check_eq "the ledger says v1 is current" "$(current_digest)" "$V1"
}
run_test "rollback to: prod is v1's exact manifest again (pushed with a token), v2 kept" t_rollback

done_testing
