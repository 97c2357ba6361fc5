#!/usr/bin/env bash
# rollback_registry.sh - backstop rollback with the registry driver against
# a real registry (tests/net/registry.sh: docker-registry on loopback,
# htpasswd authentication): small images pushed through the API in Docker
# schema 2 and OCI types and a multi-arch OCI index; the deployment tag
# 'prod' moved as a deploy pipeline would (a manifest PUT), each deploy
# recorded.  Then: a rollback re-points prod at the known-good digest with
# the byte-identical manifest and keeps the old one under
# prod-rollback-<time>; --dry-run changes nothing; wrong credentials, a
# digest the registry does not have, and a tag moved by someone else are
# refused with a clear message and leave the tag where it was; replacing a
# multi-arch index with a single-platform manifest warns.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$BS_ROOT/tests/net/registry.sh"

reg_start_for_tests "$BS_TMP/reg" htpasswd "rollback against a registry"
reg_rollback_service "$BS_TMP/w" || exit 1

# a digest of nothing ever pushed
NOPE=sha256:$(printf 'never pushed %s' "$$" | sha256sum | cut -d' ' -f1)

if ! { V1=$(reg_push_image "$NAME" v1 docker one) &&
	V2=$(reg_push_image "$NAME" v2 oci two) &&
	V3=$(reg_push_image "$NAME" v3 docker three) &&
	IX=$(reg_push_index "$NAME" multi four); }; then
	echo "Bail out! cannot push the test images"
	exit 1
fi
reg_get_manifest "$NAME" v1 "$W/m/v1" >/dev/null || exit 1
diag "v1 $V1 (docker), v2 $V2 (oci), v3 $V3 (docker), multi $IX (oci index)"

# ---- deploys ---------------------------------------------------------------------

t_record_absent() {
	# recorded long ago; its image is not (or no longer) in the registry
	run_cmd rb record api "$IMG@$NOPE" --reason "an image that was never pushed" --actor ci
	expect_exit 0
	expect_stdout_contains "recorded release"
}
run_test "record by digest needs no registry: an image that is not there is recorded" t_record_absent

t_record_v1() {
	check "prod -> v1 (manifest PUT)" reg_tag "$NAME" v1 prod
	run_cmd rb record api "$IMG:v1" --reason "deploy v1" --actor ci
	expect_exit 0
	expect_stdout_contains "recorded release"
	check_eq "the tag is resolved to v1's digest through the registry" "$(current_digest)" "$V1"
	run_cmd rb mark api --good --reason "verified in production"
	expect_exit 0
}
run_test "record v1 (tag resolved through the registry with credentials), mark it good" t_record_v1

t_record_v2() {
	check "prod -> v2" reg_tag "$NAME" v2 prod
	run_cmd rb record api "$IMG:v2" --reason "deploy v2" --actor ci
	expect_exit 0
	check_eq "v2 is current" "$(current_digest)" "$V2"
}
run_test "record v2" t_record_v2

t_record_unknown_tag() {
	run_cmd rb record api "$IMG:nosuch" --reason "typo"
	expect_exit 2
	expect_stderr_contains "nosuch"
	expect_stderr_contains "$IMG"
	check_eq "nothing recorded: v2 is still current" "$(current_digest)" "$V2"
}
run_test "record of a tag the registry does not have: exit 2, nothing recorded" t_record_unknown_tag

t_record_wrong_credentials() {
	run_cmd rb_bad record api "$IMG:v3" --reason "deploy v3"
	expect_exit 3
	expect_stderr_contains "refused the credentials of user '$BS_REG_USER'"
	expect_stderr_contains "401"
	check_eq "nothing recorded: v2 is still current" "$(current_digest)" "$V2"
}
run_test "record with wrong registry credentials: exit 3, nothing recorded" t_record_wrong_credentials

# ---- rollback ----------------------------------------------------------------------

t_dry_run() {
	run_cmd rb to api --reason "500s after deploy" --yes --dry-run
	expect_exit 0
	expect_output_contains "$V1"
	expect_output_contains "would"
	prod_is "$V2" "prod still points at v2"
	check_eq "no rollback tag was made" "$(rollback_tags)" ""
	check_eq "the ledger still says v2" "$(current_digest)" "$V2"
}
run_test "rollback to --dry-run: the plan names v1, nothing changes" t_dry_run

t_wrong_credentials() {
	run_cmd rb_bad to api --reason "500s after deploy" --yes
	expect_exit 3
	expect_stderr_contains "registry $BS_REG_HOST refused the credentials of user '$BS_REG_USER'"
	expect_stderr_contains "HTTP 401"
	expect_stderr_contains "services.api.registry.password_file"
	if grep -qF "not-the-password" "$OUT_FILE" "$ERR_FILE"; then
		t_fail "the password is in the output"
	fi
	prod_is "$V2" "prod still points at v2"
	check_eq "no rollback tag was made" "$(rollback_tags)" ""
}
run_test "rollback with wrong credentials: exit 3, clear error, tag unchanged" t_wrong_credentials

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
	if [[ $kept =~ ^prod-rollback-[0-9]{8}T[0-9]{6}Z$ ]]; then
		_bs_assert 1 "named prod-rollback-<UTC time>"
	else
		_bs_assert 0 "named prod-rollback-<UTC time>" "  got: $kept"
	fi
	check_eq "it keeps v2's digest" "$(reg_get_manifest "$NAME" "$kept" 2>&1)" "$V2"
	check_eq "the ledger says v1 is current" "$(current_digest)" "$V1"
}
run_test "rollback to: prod is v1's exact manifest again, v2 kept under prod-rollback-*" t_rollback

t_unknown_digest() {
	local before
	before=$(rollback_tags)
	run_cmd rb to api --to "$NOPE" --reason "back to the old one" --yes
	expect_exit 2
	expect_stderr_contains "$NOPE"
	expect_stderr_contains "is not in $IMG"
	prod_is "$V1" "prod still points at v1"
	check_eq "no new rollback tag" "$(rollback_tags)" "$before"
}
run_test "rollback to a digest the registry does not have: exit 2, tag unchanged" t_unknown_digest

t_race() {
	local before
	check "prod -> v2" reg_tag "$NAME" v2 prod
	run_cmd rb record api "$IMG:v2" --reason "deploy v2 again" --actor ci
	expect_exit 0
	# someone moves prod behind backstop's back
	check "prod -> v3, unrecorded" reg_tag "$NAME" v3 prod
	before=$(rollback_tags)
	run_cmd rb to api --reason "500s after deploy" --yes
	expect_exit 2
	expect_stderr_contains "someone else moved it"
	expect_stderr_contains "$V3"
	expect_stderr_contains "$V2"
	prod_is "$V3" "prod still points at v3"
	check_eq "no new rollback tag" "$(rollback_tags)" "$before"
}
run_test "a tag moved by someone else: rollback refuses, tag left at v3" t_race

t_index_to_single() {
	check "prod -> the multi-arch index" reg_tag "$NAME" multi prod
	run_cmd rb record api "$IMG:multi" --reason "deploy multi-arch" --actor ci
	expect_exit 0
	check_eq "the index is current" "$(current_digest)" "$IX"
	run_cmd rb to api --reason "500s after deploy" --yes
	expect_exit 0
	expect_output_contains "multi-platform"
	prod_is "$V1" "prod points at v1"
	check "the index is kept under a rollback tag" bash -c "
		. '$BS_ROOT/tests/net/registry.sh'
		for t in \$(reg_tags '$NAME' | grep '^prod-rollback-'); do
			[ \"\$(reg_get_manifest '$NAME' \"\$t\")\" = '$IX' ] && exit 0
		done
		exit 1"
}
run_test "replacing a multi-arch index with a single manifest warns" t_index_to_single

done_testing
