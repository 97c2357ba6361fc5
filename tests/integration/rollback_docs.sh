#!/usr/bin/env bash
# rollback_docs.sh - the examples of docs/rollback.md, run as written, in
# the situation each describes, against a real registry (tests/net/
# registry.sh) and the harness's PostgreSQL.  Substitutions, and nothing
# else: ghcr.io -> the test registry; --for 60m -> --for 2s (probe.interval
# is short); the release id of the --with-db example -> a real one.  Before
# the block runs, the pipeline's history: 1.4.1 deployed, recorded and
# verified known-good; 1.4.2 pushed.  After `rollback record` the "deploy"
# points prod at 1.4.2, as a pipeline would.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$BS_ROOT/tests/net/registry.sh"

reg_start_for_tests "$BS_TMP/reg" htpasswd "the rollback docs' examples"

W=$BS_TMP/w
mkdir -p "$W"
REPO=$BS_TMP/repo
CFG=$W/backstop.yaml
NAME=acme/api
bs repo init --repo "$REPO" -q || exit 1
APP=$(new_db rbdocs_app)
pg "$APP" "create table invoices (id int primary key, total numeric); insert into invoices select g, g * 1.5 from generate_series(1, 300) g" >/dev/null || exit 1

V141=$(reg_push_image "$NAME" 1.4.1 docker one) && V142=$(reg_push_image "$NAME" 1.4.2 oci two) &&
	reg_tag "$NAME" 1.4.1 prod >/dev/null || {
	echo "Bail out! cannot push the test images"
	exit 1
}

cat >"$CFG" <<EOF
repository: $REPO
database: $(db_conninfo "$APP")
encryption: none
probe:
  interval: 300ms
  timeout: 2s
probes:
  db-port:
    kind: tcp
    host: 127.0.0.1:$PGPORT
services:
  api:
    image: $BS_REG_HOST/acme/api
    driver: registry
    probes: [db-port]
    registry:
      url: $BS_REG_URL
      username: $BS_REG_USER
      password_file: $BS_REG_PASSWORD_FILE
      tag: prod
EOF
export BACKSTOP_CONFIG=$CFG

# the history before the docs' block
bs rollback record api "$BS_REG_HOST/acme/api:1.4.1" -q >/dev/null && bs rollback mark api --good -q || exit 1
R141=$(bs rollback list api --json | jq -r '.releases[0].id')

# the first block of docs/rollback.md: its command lines, comments dropped
mapfile -t EXAMPLES < <(awk '/^```text$/ && !done {inb = 1; next} /^```$/ && inb {inb = 0; done = 1} inb' "$BS_ROOT/docs/rollback.md" |
	sed 's/[[:space:]]*#.*$//' | grep '^backstop rollback ')

t_block_shape() {
	check_eq "the docs' block holds the six examples" "${#EXAMPLES[@]}" 6
}
run_test "docs/rollback.md: the examples are found" t_block_shape

substitute() {
	sed -e "s|ghcr\.io|$BS_REG_HOST|g" -e 's|--for 60m|--for 2s|' -e "s|20261130T101500Z-3f9a1c|$R141|"
}

run_example() {
	local line
	line=$(printf '%s\n' "$1" | substitute)
	run_cmd env PATH="$BS_BIN:$PATH" bash -c "$line"
}

t_examples() {
	local i
	for i in "${!EXAMPLES[@]}"; do
		case ${EXAMPLES[$i]} in
		*"--with-db"*)
			# its situation: the current release has a pre-deploy
			# snapshot (1.4.2 again, recorded with --snap and deployed),
			# and the database has been written to since
			bs rollback record api "$BS_REG_HOST/acme/api:1.4.2" --snap -q >/dev/null
			reg_tag "$NAME" 1.4.2 prod >/dev/null
			pg "$APP" "update invoices set total = 0" >/dev/null
			;;
		esac
		run_example "${EXAMPLES[$i]}"
		expect_exit 0 "runs: ${EXAMPLES[$i]}"
		case ${EXAMPLES[$i]} in
		*" record "*)
			reg_tag "$NAME" 1.4.2 prod >/dev/null   # the deploy
			expect_stdout_contains "pre-deploy snapshot" "record --snap took the snapshot"
			;;
		*" watch "*) expect_stdout_contains "marked known-good" ;;
		*" list "*) expect_stdout_contains "current" ;;
		*"--dry-run"*) expect_stdout_contains "$R141" "the plan goes back to 1.4.1" ;;
		*"--with-db"*)
			check_eq "prod is 1.4.1 again" "$(reg_get_manifest "$NAME" prod)" "$V141"
			check_eq "the database is as before 1.4.2's deploy" "$(pg "$APP" "select count(*) from invoices where total > 0")" "300"
			local kept
			kept=$(sed -n 's/.*the previous one is kept as \([^;]*\);.*/\1/p' "$OUT_FILE")
			[ -n "$kept" ] && bs_on_exit drop_db "$kept"
			;;
		*" to "*) check_eq "prod is 1.4.1 again" "$(reg_get_manifest "$NAME" prod)" "$V141" ;;
		esac
	done
	check "the ledger verifies after all of them" bs rollback list api --verify
}
run_test "docs/rollback.md: every example runs as written, in its situation" t_examples

done_testing
