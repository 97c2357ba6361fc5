#!/usr/bin/env bash
# demo.sh - `make demo`, run the way README.md tells a newcomer to run it
# (`make demo`, here with the test's BUILD), must work from start to end:
# exit 0, the row-count table with nothing that differs, the closing
# summary.  The demo directory holds an age SECRET key: after success the
# summary must name every file that holds one and say how to remove it;
# after a failure or an interrupt nothing of the demo may be left behind.
#
# The demo makes its directory under $TMPDIR, which each test points at a
# directory of its own, so what is left there is the demo's doing.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# demo_env DIR: the environment of a newcomer's shell, with TMPDIR=DIR: no
# cluster of the harness, no BACKSTOP_* (lib.sh unset those), no BS_BIN (so
# BUILD alone picks the binaries, as in `make demo BUILD=...`).
DEMO_UNSET=(-u PGHOST -u PGPORT -u PGUSER -u PGDATABASE -u BS_PG_DIR -u BS_BIN -u BS_DEMO_DIR -u BS_KEEP_TMP)
demo_env() {
	env "${DEMO_UNSET[@]}" TMPDIR="$1" "${@:2}"
}

# secret_files DIR: every file below DIR that holds an age secret key.
secret_files() {
	grep -rlF 'AGE-SECRET-KEY-' "$1" 2>/dev/null || true
}

t_make_demo() {
	local tmp=$BS_TMP/make-demo f dir leftover
	mkdir -p "$tmp"
	run_cmd demo_env "$tmp" timeout -k 10 600 make -s -C "$BS_ROOT" demo BUILD="$BUILD"
	expect_exit 0 "make demo exits 0" || return
	expect_stdout_contains "==> row counts, source vs restored"
	expect_stdout_matches '^app\.kind_counts_later +unpopulated +unpopulated$' \
		"a materialized view created WITH NO DATA is shown as unpopulated on both sides"
	expect_stdout_matches '^public\.pgbench_accounts +500000 +500000$' "pgbench_accounts: 500000 rows on both sides"
	if grep -qi differs "$OUT_FILE"; then
		t_fail "the row-count table shows a difference" "$(grep -i differs "$OUT_FILE")"
	fi
	expect_stdout_contains "==> done" "the closing summary is printed"
	# Everything left behind that holds a secret key is announced, with
	# the command that removes it.
	leftover=$(secret_files "$tmp")
	[ -n "$leftover" ] || t_fail "no key file was left: the summary promises one"
	for f in $leftover; do
		dir=${f%/*}
		grep -qF "age key:     $f" "$OUT_FILE" ||
			t_fail "$f holds a secret key and the summary does not name it"
		grep -qF "rm -rf $dir" "$OUT_FILE" ||
			t_fail "the summary does not say how to remove $dir"
		grep -qF "SECRET key" "$OUT_FILE" ||
			t_fail "the summary does not say that $f is a secret key"
	done
	for dir in "$tmp"/backstop-demo.*; do
		[ -e "$dir" ] || continue
		[ ! -e "$dir/pg" ] || t_fail "the demo's cluster directory $dir/pg is left behind"
	done
	check_eq "only the one announced demo directory is left in TMPDIR" \
		"$(ls "$tmp" | grep -c '^backstop-demo\.')" 1
}
run_test "make demo, as README says: exit 0, row counts equal, closing summary names what is left" t_make_demo

# fake_bin DIR FAIL_VERB: a copy of the build's bin directory whose
# `backstop FAIL_VERB` fails (exit 3) and everything else is the real thing.
fake_bin() {
	local dir=$1 verb=$2 f
	mkdir -p "$dir"
	for f in "$BS_BIN"/backstop-*; do ln -s "$f" "$dir/"; done
	cat >"$dir/backstop" <<-EOF
		#!/bin/sh
		if [ "\$1" = "$verb" ] && [ "\${2:-}" != list ]; then
		    echo "backstop $verb: error: injected failure (tests/integration/demo.sh)" >&2
		    exit 3
		fi
		exec "$BS_BIN/backstop" "\$@"
	EOF
	chmod 0755 "$dir/backstop"
}

t_demo_fails() {
	local tmp=$BS_TMP/fail
	mkdir -p "$tmp"
	fake_bin "$BS_TMP/fakebin" snap
	run_cmd demo_env "$tmp" BS_BIN="$BS_TMP/fakebin" timeout -k 10 300 bash "$BS_ROOT/scripts/demo.sh"
	expect_exit 3 "the demo exits with the failing command's status"
	expect_stderr_contains "injected failure"
	expect_stderr_matches 'demo: FAILED \(exit 3\); stopped the cluster and removed .*backstop-demo\.' \
		"the demo says it failed and what it removed"
	check_eq "no file with a secret key is left behind" "$(secret_files "$tmp")" ""
	check_eq "the demo directory is removed" "$(ls -A "$tmp")" ""
}
run_test "a demo that fails after keygen stops its cluster and removes its directory and key" t_demo_fails

t_demo_interrupted() {
	local tmp=$BS_TMP/intr pid key= pm= i rc=0
	mkdir -p "$tmp"
	# not through the demo_env function: $! must be the demo's own pid
	env "${DEMO_UNSET[@]}" TMPDIR="$tmp" bash "$BS_ROOT/scripts/demo.sh" \
		>"$BS_TMP/intr.out" 2>"$BS_TMP/intr.err" </dev/null &
	pid=$!
	for ((i = 0; i < 1200; i++)); do
		key=$(secret_files "$tmp")
		[ -z "$key" ] || break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ -z "$key" ]; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid"
		t_fail "the demo made no key within 120 s" "$(tail -n 20 "$BS_TMP/intr.err")"
		return
	fi
	pm=$(head -n 1 "${key%/*}/pg/data/postmaster.pid" 2>/dev/null || true)
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	check_eq "an interrupted demo exits 143" "$rc" 143
	grep -q 'demo: FAILED (exit 143); stopped the cluster and removed' "$BS_TMP/intr.err" ||
		t_fail "the demo does not say what it removed" "$(tail -n 5 "$BS_TMP/intr.err")"
	check_eq "no file with a secret key is left behind" "$(secret_files "$tmp")" ""
	check_eq "the demo directory is removed" "$(ls -A "$tmp")" ""
	if [ -n "$pm" ] && kill -0 "$pm" 2>/dev/null; then
		t_fail "the demo's PostgreSQL server (pid $pm) still runs"
		kill -KILL "$pm" 2>/dev/null
	fi
}
run_test "an interrupted demo (SIGTERM after keygen) stops its cluster and removes its directory and key" t_demo_interrupted

done_testing
