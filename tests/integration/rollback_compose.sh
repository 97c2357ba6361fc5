#!/usr/bin/env bash
# rollback_compose.sh - backstop rollback through the compose driver
# (docs/rollback.md).  Docker cannot run here, so the compose command is a
# recording script: it appends its argv and its environment to a log and
# exits with the code the test writes to a file (and a compose-like error
# on stderr when that is not 0).  Cases: a compose file of the shape people
# write (comments, an x- anchor merged into two services, quoted strings,
# mode 0640) is rewritten so that exactly the image line changes, in its
# quoted style; the command gets exactly the argv and the environment it
# should (BACKSTOP_SERVICE/IMAGE/DIGEST, none of our PG* variables); the
# kept copy equals the original; a failing command leaves the file
# byte-identical with exit 3 and the command's stderr in the message;
# --dry-run changes and runs nothing; a service without image: and an
# aliased image are refused (exit 2) with the file untouched; a compose
# file that is a symbolic link stays one.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

W=$BS_TMP/w
REPO=$BS_TMP/repo
CFG=$W/backstop.yaml
COMPOSE=$W/app/compose.yaml
COMPOSE2=$W/app2/compose.yaml
COMPOSE3=$W/app3/compose.yaml
LOG=$W/calls.log
CODE=$W/exit_code
D1=sha256:$(printf 'v1' | sha256sum | cut -c1-64)
D2=sha256:$(printf 'v2' | sha256sum | cut -c1-64)
IMG=registry.example.com/acme/api
mkdir -p "$W/app" "$W/app2" "$W/app3" "$W/real"
bs repo init --repo "$REPO" -q || exit 1

cat >"$W/record.sh" <<EOF
#!/usr/bin/env bash
# the stand-in for docker compose: log argv and environment, exit as told
{
	echo "argv0=\$0"
	for a in "\$@"; do printf 'arg=%s\n' "\$a"; done
	env | grep '^BACKSTOP_' | sort
	printf 'PGHOST=%s\n' "\${PGHOST-unset}"
	echo "--"
} >>"$LOG"
[ -e "$W/sleep" ] && exec sleep 30
code=\$(cat "$CODE" 2>/dev/null || echo 0)
if [ "\$code" != 0 ]; then
	echo "Pulling api ..." >&2
	echo "Error response from daemon: manifest for $IMG not found: manifest unknown" >&2
fi
exit "\$code"
EOF
chmod 0755 "$W/record.sh"

cat >"$COMPOSE" <<'EOF'
# acme production stack
name: acme

x-common: &common
  restart: unless-stopped
  logging:
    driver: "json-file"
    options: { max-size: '10m' }

services:
  api:
    <<: *common
    # pinned by `backstop rollback`; CI bumps the tag
    image: "registry.example.com/acme/api:1.4.2"
    environment:
      DATABASE_URL: "postgres://api@db/acme"
    ports: ["8080:80"]

  worker:
    <<: *common
    image: registry.example.com/acme/worker:1.4.2
    command: ["worker", "--queue", 'jobs']
EOF
chmod 0640 "$COMPOSE"
cp -p "$COMPOSE" "$W/orig.yaml"

cat >"$COMPOSE2" <<'EOF'
x-img: &img registry.example.com/acme/api:1.4.2
services:
  builder:
    build: ./app        # built here, no image: line
  aliased:
    image: *img
EOF
cp -p "$COMPOSE2" "$W/orig2.yaml"

cp -p "$W/orig.yaml" "$COMPOSE3"

# a compose file reached through a symbolic link
cp "$W/orig.yaml" "$W/real/compose.yaml"
ln -s "$W/real/compose.yaml" "$W/link.yaml"

svc() { # NAME FILE COMPOSE-SERVICE [COMMAND-TIMEOUT]
	cat <<EOF
  $1:
    image: $IMG
    driver: compose
    command_timeout: ${4:-1m}
    compose:
      file: $2
      service: $3
      command: [$W/record.sh, -f, "{file}", up, -d, --no-deps, "{service}"]
EOF
}
{
	echo "repository: $REPO"
	echo "services:"
	svc api "$COMPOSE" api
	svc builder "$COMPOSE2" builder
	svc aliased "$COMPOSE2" aliased
	svc linked "$W/link.yaml" api
	svc slow "$COMPOSE3" api 1s
} >"$CFG"

rb() { bs rollback "$@" --config "$CFG"; }

# Each service: v1 recorded and marked good, then v2 deployed (current).
for s in api builder aliased linked slow; do
	rb record "$s" "$IMG@$D1" --reason "release 1.4.1" --actor ci -q >/dev/null &&
		rb mark "$s" --good --reason "verified" -q >/dev/null &&
		rb record "$s" "$IMG@$D2" --reason "release 1.4.2" --actor ci -q >/dev/null || {
		echo "Bail out! cannot record releases of $s"
		exit 1
	}
done

kept_copies() { ls "$W/app" | grep -c '^compose\.yaml\.backstop-' || true; }

t_dry_run() {
	rm -f "$LOG"
	run_cmd rb to api --dry-run
	expect_exit 0
	expect_stdout_contains "$IMG@$D1"
	check "the compose file is unchanged" cmp "$W/orig.yaml" "$COMPOSE"
	check "nothing ran" test ! -e "$LOG"
	check_eq "no kept copy" "$(kept_copies)" 0
}
run_test "--dry-run changes nothing and runs nothing" t_dry_run

t_command_fails() {
	rm -f "$LOG"
	echo 1 >"$CODE"
	run_cmd rb to api --reason "500s after deploy" --yes
	echo 0 >"$CODE"
	expect_exit 3
	expect_stderr_contains "restored to its previous content"
	expect_stderr_contains "manifest unknown"
	check "the compose file is byte-identical to the original" cmp "$W/orig.yaml" "$COMPOSE"
	check_eq "its mode is kept" "$(stat -c %a "$COMPOSE")" 640
	check "the command ran once" test "$(grep -c '^--$' "$LOG" 2>/dev/null)" = 1
	check_eq "no kept copy left (the file is the previous one)" "$(kept_copies)" 0
}
run_test "a failing compose command: exit 3, the file restored byte for byte" t_command_fails

t_rollback() {
	local d n want
	rm -f "$LOG"
	run_cmd rb to api --reason "500s after deploy" --yes
	expect_exit 0
	# exactly one line differs, and it is the image line in its quoted style
	d=$(diff "$W/orig.yaml" "$COMPOSE")
	n=$(grep -c '^[<>]' <<<"$d")
	check_eq "exactly one line changed" "$n" 2
	check_eq "the old line" "$(grep '^<' <<<"$d")" '<     image: "registry.example.com/acme/api:1.4.2"'
	check_eq "the new line" "$(grep '^>' <<<"$d")" "$(printf '>     image: "%s@%s"' "$IMG" "$D1")"
	check_eq "the file keeps its mode" "$(stat -c %a "$COMPOSE")" 640
	# the command: argv and environment
	want=$(printf '%s\n' "argv0=$W/record.sh" "arg=-f" "arg=$COMPOSE" "arg=up" "arg=-d" "arg=--no-deps" \
		"arg=api" "BACKSTOP_DIGEST=$D1" "BACKSTOP_IMAGE=$IMG" "BACKSTOP_SERVICE=api" "PGHOST=unset" "--")
	check_eq "the command got exactly this argv and environment" "$(cat "$LOG" 2>/dev/null)" "$want"
	# the kept copy
	check_eq "one kept copy" "$(kept_copies)" 1
	local kept
	kept=$(ls "$W/app"/compose.yaml.backstop-* 2>/dev/null | head -1)
	check "the kept copy is named <file>.backstop-<UTC time>" \
		grep -Eq '/compose\.yaml\.backstop-[0-9]{8}T[0-9]{6}Z$' <<<"$kept"
	check "the kept copy equals the original" cmp "$W/orig.yaml" "$kept"
	check_eq "the kept copy has the file's mode" "$(stat -c %a "$kept")" 640
	expect_stdout_contains "$IMG@$D1"
}
run_test "rollback pins the image line only, runs the command, keeps the previous file" t_rollback

# Someone pinned another digest by hand since: the rollback goes on, and
# says so.
t_edited_outside() {
	local d3 d
	d3=sha256:$(printf 'v3' | sha256sum | cut -c1-64)
	sed -i "s|api@sha256:[0-9a-f]*|api@$d3|" "$COMPOSE"
	cp -p "$COMPOSE" "$W/edited.yaml"
	run_cmd rb to api --to "$D2" --force --reason "back to 1.4.2" --yes
	expect_exit 0
	expect_stderr_contains "edited outside backstop"
	expect_stderr_contains "$d3"
	d=$(diff "$W/edited.yaml" "$COMPOSE")
	check_eq "only the image line changed" "$(grep '^>' <<<"$d")" "$(printf '>     image: "%s@%s"' "$IMG" "$D2")"
}
run_test "a file edited outside backstop: a warning, and the rollback goes on" t_edited_outside

t_timeout() {
	touch "$W/sleep"
	run_cmd rb to slow --reason "500s after deploy" --yes
	rm -f "$W/sleep"
	expect_exit 3
	expect_stderr_contains "timed out"
	expect_stderr_contains "restored to its previous content"
	check "the compose file is byte-identical to the original" cmp "$W/orig.yaml" "$COMPOSE3"
	check_eq "no kept copy left" "$(ls "$W/app3" | grep -c backstop- || true)" 0
}
run_test "a compose command that times out: exit 3, the file restored" t_timeout

t_list() {
	run_cmd rb list api --verify
	expect_exit 0
}
run_test "the ledger is intact after the rollbacks" t_list

t_no_image() {
	rm -f "$LOG"
	run_cmd rb to builder --reason "bad release" --yes
	expect_exit 2
	expect_stderr_contains "services.builder has no 'image:'"
	expect_stderr_contains "compose.yaml:3:3"
	check "the compose file is untouched" cmp "$W/orig2.yaml" "$COMPOSE2"
	check "nothing ran" test ! -e "$LOG"
}
run_test "a service without image: is refused, file untouched" t_no_image

t_alias() {
	rm -f "$LOG"
	run_cmd rb to aliased --reason "bad release" --yes
	expect_exit 2
	expect_stderr_contains "services.aliased.image is an alias of &img"
	expect_stderr_contains "image: on the service itself"
	check "the compose file is untouched" cmp "$W/orig2.yaml" "$COMPOSE2"
	check "nothing ran" test ! -e "$LOG"
	check_eq "no kept copy" "$(ls "$W/app2" | grep -c backstop- || true)" 0
}
run_test "an aliased image is refused, file untouched" t_alias

t_symlink() {
	run_cmd rb to linked --reason "bad release" --yes
	expect_exit 0
	check "the link is still a link" test -L "$W/link.yaml"
	check "the file it names was pinned" grep -qF "image: \"$IMG@$D1\"" "$W/real/compose.yaml"
	check "the kept copy is beside it" cmp "$W/orig.yaml" "$(ls "$W/real"/compose.yaml.backstop-* | head -1)"
}
run_test "a compose file that is a symbolic link stays one" t_symlink

done_testing
