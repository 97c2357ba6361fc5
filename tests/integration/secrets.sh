#!/usr/bin/env bash
# secrets.sh - secrets never leave backstop (docs/encryption.md, "Secrets in
# memory and child processes"), and names never drive the terminal:
#   * a crash (SIGSEGV, with `ulimit -c unlimited`) while a passphrase from
#     BACKSTOP_PASSPHRASE, a passphrase file or an identity file is loaded
#     writes no core; the same crash without a secret does (so the machine
#     can capture cores and the test can fail);
#   * a hook's environment holds no BACKSTOP_PASSPHRASE, no PGPASSWORD, no
#     variable a config ${VAR} could name, but its event variables and HOOK_*;
#   * pg_dump's and pg_restore's environment (a wrapper in snap.pg_bindir
#     records it) holds no BACKSTOP_* variable, but PG* ones;
#   * a table and a database named with ESC sequences and newlines: restore
#     --list, snap list/show, verify-restore --archive-only and error
#     messages print them escaped (\x1b, \x0a), no raw control byte.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SRC=$(new_db sec_src)
pg "$SRC" "create table t (id int primary key, v text); insert into t select g, md5(g::text) from generate_series(1, 300) g;" >/dev/null
REPO=$BS_TMP/repo
"$BS_BIN/backstop" repo init --repo "$REPO" -q || exit 1
PASS='correct horse battery staple 7Qx'

# ---- no core dumps while a secret is held --------------------------------

cores() { find "$1" -maxdepth 1 -name 'core*' -type f 2>/dev/null; }

# Under the sanitizers, let SIGSEGV kill the process and dump core as it
# does in a plain build (ASan would catch it, and disables cores by default).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0:disable_coredump=0"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}handle_segv=0"

# crash_at_lock DIR ENV.. -- CMD..: run CMD (backstop-snap, stuck waiting for
# the repository lock we hold) in DIR with cores enabled, SIGSEGV it once it
# waits, and leave its exit status in CRASH_RC.
crash_at_lock() {
	local dir=$1 pid i
	shift
	mkdir -p "$dir"
	exec 8>"$REPO/lock"
	flock -x 8
	(cd "$dir" && ulimit -c unlimited && exec env "$@") &
	pid=$!
	for i in $(seq 1 100); do # until it waits for the lock (keys are read before)
		[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = S ] &&
			grep -q "$REPO/lock" <(ls -l "/proc/$pid/fd" 2>/dev/null) && break
		sleep 0.1
	done
	sleep 0.3
	kill -SEGV "$pid"
	wait "$pid"
	CRASH_RC=$?
	exec 8>&-
}

t_core_control() {
	crash_at_lock "$BS_TMP/c0" "$BS_BIN/backstop-snap" -d "dbname=$SRC" --repo "$REPO" --no-encryption --lock-timeout 60s -q
	check_eq "killed by SIGSEGV" "$CRASH_RC" 139
	if [ -z "$(cores "$BS_TMP/c0")" ]; then
		CORES_OK=0
		t_skip "this machine writes no core file (core_pattern: $(cat /proc/sys/kernel/core_pattern))"
		return
	fi
	CORES_OK=1
}
run_test "control: a crash of a snap holding no secret writes a core here" t_core_control

core_test() { # NAME ENV-ASSIGNMENTS.. -- ARGS..
	local name=$1 dir=$BS_TMP/$1 c
	shift
	[ "${CORES_OK:-0}" = 1 ] || { t_skip "no core capture on this machine"; return; }
	crash_at_lock "$dir" "$@"
	check_eq "killed by SIGSEGV" "$CRASH_RC" 139
	c=$(cores "$dir")
	check_eq "no core file written" "$c" ""
	if [ -n "$c" ]; then
		check "the core does not hold the passphrase" bash -c '! grep -aq "$1" "$2"' _ "$PASS" "$c"
	fi
}

run_test "crash with BACKSTOP_PASSPHRASE loaded: no core" core_test env_pass \
	BACKSTOP_PASSPHRASE="$PASS" "$BS_BIN/backstop-snap" -d "dbname=$SRC" --repo "$REPO" --lock-timeout 60s -q

printf '%s\n' "$PASS" >"$BS_TMP/pass.txt"
chmod 600 "$BS_TMP/pass.txt"
run_test "crash with a passphrase file loaded: no core" core_test file_pass \
	BACKSTOP_PASSPHRASE_FILE="$BS_TMP/pass.txt" "$BS_BIN/backstop-snap" -d "dbname=$SRC" --repo "$REPO" --lock-timeout 60s -q

"$BS_BIN/backstop" keygen -o "$BS_TMP/id.txt" 2>/dev/null
PUB=$(grep -o 'age1[0-9a-z]*' "$BS_TMP/id.txt" | head -1)

t_identity_fifo() {
	local dir=$BS_TMP/idfifo fifo=$BS_TMP/id.fifo pid i c
	[ "${CORES_OK:-0}" = 1 ] || { t_skip "no core capture on this machine"; return; }
	run_cmd bs snap -d "dbname=$SRC" --repo "$REPO" --recipient "$PUB" -q
	expect_exit 0
	mkdir -p "$dir"
	mkfifo -m 600 "$fifo"
	exec 7<>"$fifo"
	cat "$BS_TMP/id.txt" >&7 # the key is read, then the reader waits for more
	(cd "$dir" && ulimit -c unlimited && exec "$BS_BIN/backstop-restore" "$OUT" --repo "$REPO" -i "$fifo" -d "dbname=${SRC}_never" --create -q) &
	pid=$!
	for i in $(seq 1 100); do
		ls -l "/proc/$pid/fd" 2>/dev/null | grep -q id.fifo && break
		sleep 0.1
	done
	sleep 0.5
	kill -SEGV "$pid"
	wait "$pid"
	check_eq "restore killed by SIGSEGV while reading its identity" "$?" 139
	exec 7>&-
	c=$(cores "$dir")
	check_eq "no core file written" "$c" ""
	check "the target was not created" bash -c '! db_exists "$1"' _ "${SRC}_never"
}
run_test "crash of a restore with an identity loaded: no core" t_identity_fifo

# A non-dumpable process's /proc/<pid>/fd is closed to its own children when
# they are not root: restore hands pg_restore its spooled files as the
# child's /proc/self/fd/N instead.  Only a restore run by an ordinary user
# shows it.
t_nonroot_restore() {
	local u=${BS_PG_OSUSER:-} d=$BS_TMP/nonroot db=${SRC}_nonroot
	[ "$(id -u)" = 0 ] && [ -n "$u" ] && id -u "$u" >/dev/null 2>&1 ||
		{ t_skip "needs root and the unprivileged server user to switch to"; return; }
	run_cmd bs snap -d "dbname=$SRC" --repo "$REPO" --recipient "$PUB" -q
	expect_exit 0
	mkdir -p "$d"
	cp -a "$REPO" "$d/repo"
	cp "$BS_TMP/id.txt" "$d/id.txt"
	chown -R "$u" "$d"
	chmod 600 "$d/id.txt"
	run_cmd runuser -u "$u" -- env PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" \
		"$BS_BIN/backstop" restore "$OUT" --repo "$d/repo" -i "$d/id.txt" -d "dbname=$db" --create -q
	expect_exit 0
	check "restored copy equals the source" db_compare "$SRC" "$db"
	drop_db "$db"
}
run_test "an ordinary user restores an encrypted snapshot (pg_restore reads our spooled files)" t_nonroot_restore

# The same user cannot read the process's memory or environment (what a
# ptrace attach or a debugger needs) while it holds a secret; without one,
# it can (the control).
proc_readable_by_owner() { # plain|secret: 0 when the user could read /proc/<pid>/environ of its blocked snap
	local u=$BS_PG_OSUSER d=$BS_TMP/procrepo pid= i rc envs=() args=()
	if [ "$1" = plain ]; then args=(--no-encryption); else envs=(BACKSTOP_PASSPHRASE="$PASS"); fi
	rm -rf "$d"
	cp -a "$REPO" "$d"
	chown -R "$u" "$d"
	exec 8>"$d/lock"
	flock -x 8
	runuser -u "$u" -- env PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" "${envs[@]}" \
		"$BS_BIN/backstop-snap" -d "dbname=$SRC" --repo "$d" --lock-timeout 60s -q "${args[@]}" &
	for i in $(seq 1 100); do
		pid=$(pgrep -u "$u" -f "backstop-snap -d dbname=$SRC --repo $d" | head -1)
		[ -n "$pid" ] && ls -l "/proc/$pid/fd" 2>/dev/null | grep -q "$d/lock" && break
		sleep 0.1
	done
	sleep 0.3
	if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
		rc=2 # the snap is not waiting there: no answer
	elif runuser -u "$u" -- cat "/proc/$pid/environ" >/dev/null 2>&1; then
		rc=0
	else
		rc=1
	fi
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	wait
	exec 8>&-
	return $rc
}
proc_closed_to_owner() {
	proc_readable_by_owner "$@"
	[ $? = 1 ]
}

t_no_ptrace() {
	[ "$(id -u)" = 0 ] && [ -n "${BS_PG_OSUSER:-}" ] ||
		{ t_skip "needs root and the unprivileged server user to switch to"; return; }
	check "control: without a secret, the owner can read the process's environ" proc_readable_by_owner plain
	check "with BACKSTOP_PASSPHRASE loaded, the owner cannot" proc_closed_to_owner secret
}
run_test "while a secret is held, the same user cannot read the process (no ptrace, no /proc environ)" t_no_ptrace

# ---- children's environment ---------------------------------------------

mkdir -p "$BS_TMP/bin"
for tool in pg_dump pg_restore; do
	cat >"$BS_TMP/bin/$tool" <<EOF
#!/bin/sh
env >>"$BS_TMP/env.$tool"
exec "$BS_PGBIN/$tool" "\$@"
EOF
	chmod 755 "$BS_TMP/bin/$tool"
done
cat >"$BS_TMP/hook" <<EOF
#!/bin/sh
env >"$BS_TMP/env.hook.\$1"
EOF
chmod 755 "$BS_TMP/hook"
cat >"$BS_TMP/cfg.yaml" <<EOF
snap:
  pg_bindir: $BS_TMP/bin
hooks:
  pre_snap: $BS_TMP/hook
  post_snap: $BS_TMP/hook
EOF

t_child_env() {
	rm -f "$BS_TMP"/env.*
	BACKSTOP_PASSPHRASE="$PASS" PGPASSWORD=pg-secret-xyz APP_DB_PASSWORD=cfg-secret-xyz \
		HOOK_WEBHOOK=https://example.invalid/x \
		run_cmd bs snap --config "$BS_TMP/cfg.yaml" -d "dbname=$SRC" --repo "$REPO" -q
	expect_exit 0
	SNAP=$OUT
	check "pg_dump ran through the wrapper" test -s "$BS_TMP/env.pg_dump"
	check "pg_dump got no BACKSTOP_ variable" bash -c '! grep -q "^BACKSTOP_" "$1"' _ "$BS_TMP/env.pg_dump"
	check "pg_dump got no passphrase" bash -c '! grep -qF "$2" "$1"' _ "$BS_TMP/env.pg_dump" "$PASS"
	check "pg_dump got no unrelated variable" bash -c '! grep -q "^APP_DB_PASSWORD=" "$1"' _ "$BS_TMP/env.pg_dump"
	check "pg_dump got libpq's PGHOST" grep -q "^PGHOST=" "$BS_TMP/env.pg_dump"
	check "pg_dump got PATH" grep -q "^PATH=" "$BS_TMP/env.pg_dump"
	for e in pre-snap post-snap; do
		check "$e hook ran" test -s "$BS_TMP/env.hook.$e"
		check "$e hook got no passphrase" bash -c '! grep -qF "$2" "$1"' _ "$BS_TMP/env.hook.$e" "$PASS"
		check "$e hook got no BACKSTOP_PASSPHRASE" bash -c '! grep -q "^BACKSTOP_PASSPHRASE" "$1"' _ "$BS_TMP/env.hook.$e"
		check "$e hook got no PGPASSWORD" bash -c '! grep -q "^PG" "$1"' _ "$BS_TMP/env.hook.$e"
		check "$e hook got no unrelated variable" bash -c '! grep -q "cfg-secret-xyz" "$1"' _ "$BS_TMP/env.hook.$e"
		check "$e hook got its event" grep -q "^BACKSTOP_EVENT=$e\$" "$BS_TMP/env.hook.$e"
		check "$e hook got BACKSTOP_DATABASE" grep -q "^BACKSTOP_DATABASE=" "$BS_TMP/env.hook.$e"
		check "$e hook got HOOK_* settings" grep -q "^HOOK_WEBHOOK=https://example.invalid/x\$" "$BS_TMP/env.hook.$e"
		check "$e hook got PATH" grep -q "^PATH=" "$BS_TMP/env.hook.$e"
	done
}
run_test "hooks and pg_dump get an allow-list of the environment, no secret" t_child_env

t_restore_env() {
	local db=${SRC}_envr
	BACKSTOP_PASSPHRASE="$PASS" APP_DB_PASSWORD=cfg-secret-xyz \
		run_cmd bs restore "$SNAP" --config "$BS_TMP/cfg.yaml" --repo "$REPO" -d "dbname=$db" --create -q
	expect_exit 0
	check "pg_restore ran through the wrapper" test -s "$BS_TMP/env.pg_restore"
	check "pg_restore got no BACKSTOP_ variable" bash -c '! grep -q "^BACKSTOP_" "$1"' _ "$BS_TMP/env.pg_restore"
	check "pg_restore got no passphrase" bash -c '! grep -qF "$2" "$1"' _ "$BS_TMP/env.pg_restore" "$PASS"
	check "pg_restore got no unrelated variable" bash -c '! grep -q "^APP_DB_PASSWORD=" "$1"' _ "$BS_TMP/env.pg_restore"
	check "restored copy equals the source" db_compare "$SRC" "$db"
	drop_db "$db"
}
run_test "restore: pg_restore gets no backstop secret (passphrase archive restores)" t_restore_env

# ---- control characters in names ------------------------------------------

ESCDB="sec_esc_$$"$'\e[31mRED\nfake line'
no_raw_controls() { # FILE: nothing below 0x20 but \n, no DEL, no ESC
	python3 - "$1" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
bad = [b for b in data if (b < 0x20 and b not in (0x0a,)) or b == 0x7f]
c1 = any(0x80 <= ord(ch) <= 0x9f for ch in data.decode("utf-8", "replace"))
sys.exit(1 if bad or c1 else 0)
PY
}

t_escape_setup() {
	run_cmd psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE \"$ESCDB\""
	expect_exit 0
	bs_on_exit psql -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$ESCDB\""
	run_cmd psql -X -q -v ON_ERROR_STOP=1 -d "$ESCDB" -c "CREATE TABLE \"evil"$'\e[2J'"
line2"$'\xc2\x9b'"\" (id int); INSERT INTO \"evil"$'\e[2J'"
line2"$'\xc2\x9b'"\" VALUES (1)"
	expect_exit 0
	bs repo init --repo "$BS_TMP/escrepo" -q
	run_cmd bs snap -d "$ESCDB" --repo "$BS_TMP/escrepo" --no-encryption -q
	expect_exit 0
	ESCSNAP=$OUT
}
run_test "a database and a table named with escape sequences and newlines" t_escape_setup

t_escape_outputs() {
	run_cmd bs restore "$ESCSNAP" --repo "$BS_TMP/escrepo" --list
	expect_exit 0
	check "restore --list: no raw control byte on stdout" no_raw_controls "$OUT_FILE"
	check "restore --list: no raw control byte on stderr" no_raw_controls "$ERR_FILE"
	expect_stdout_contains 'evil\x1b[2J\x0aline2\xc2\x9b'
	expect_stdout_contains 'sec_esc_'
	expect_stdout_contains '\x1b[31mRED\x0afake line'
	run_cmd bs snap list --repo "$BS_TMP/escrepo"
	expect_exit 0
	check "snap list: no raw control byte" no_raw_controls "$OUT_FILE"
	expect_stdout_contains '\x1b[31mRED\x0afake line'
	run_cmd bs snap show "$ESCSNAP" --repo "$BS_TMP/escrepo"
	expect_exit 0
	check "snap show: no raw control byte" no_raw_controls "$OUT_FILE"
	run_cmd bs verify-restore "$ESCSNAP" --repo "$BS_TMP/escrepo" --archive-only
	expect_exit 0
	check "verify-restore report: no raw control byte on stdout" no_raw_controls "$OUT_FILE"
	check "verify-restore report: no raw control byte on stderr" no_raw_controls "$ERR_FILE"
	expect_stdout_contains '\x1b[31mRED\x0afake line'
	run_cmd bs snap list --repo "$BS_TMP/escrepo" --database "$ESCDB"$'\e[1m'
	check "an error quoting a name: no raw control byte" no_raw_controls "$ERR_FILE"
	check "and no raw one on stdout" no_raw_controls "$OUT_FILE"
}
run_test "names with control characters are printed escaped (list, show, restore --list, report, errors)" t_escape_outputs

done_testing
