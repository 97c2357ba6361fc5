#!/usr/bin/env bash
# commit_failure.sh - a snap whose catalog record cannot be written (disk
# full at the commit) leaves nothing behind: no record, no archive, no
# temporary file (issue: the complete archive used to stay on the full
# filesystem until a prune a day later).
. "$(dirname "$0")/lib.sh"

SRC=$(new_db cf_src)
pg "$SRC" "create table t (id int primary key, v text); insert into t select g, md5(g::text) from generate_series(1, 2000) g;" >/dev/null
REPO=$BS_TMP/repo
"$BS_BIN/backstop" repo init --repo "$REPO" -q || exit 1

# A preload library that fails rename(2) into a path containing
# $BS_FAIL_RENAME_PATTERN with ENOSPC, as a full disk would fail the record.
SHIM=
build_shim() {
	command -v cc >/dev/null 2>&1 || return 1
	cat >"$BS_TMP/failrename.c" <<-'C'
		#define _GNU_SOURCE
		#include <dlfcn.h>
		#include <errno.h>
		#include <stdlib.h>
		#include <string.h>

		static int hit(const char *to)
		{
			const char *pat = getenv("BS_FAIL_RENAME_PATTERN");
			return pat && *pat && to && strstr(to, pat);
		}

		int rename(const char *from, const char *to)
		{
			int (*real)(const char *, const char *) =
				(int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
			if (hit(to)) {
				errno = ENOSPC;
				return -1;
			}
			return real(from, to);
		}

		int renameat(int fd1, const char *from, int fd2, const char *to)
		{
			int (*real)(int, const char *, int, const char *) =
				(int (*)(int, const char *, int, const char *))dlsym(RTLD_NEXT, "renameat");
			if (hit(to)) {
				errno = ENOSPC;
				return -1;
			}
			return real(fd1, from, fd2, to);
		}
	C
	cc -shared -fPIC -O1 -o "$BS_TMP/failrename.so" "$BS_TMP/failrename.c" -ldl 2>"$BS_TMP/shim.err" || return 1
	SHIM=$BS_TMP/failrename.so
}

t_record_commit_fails() {
	build_shim || {
		t_skip "no C compiler for the preload shim"
		return
	}
	run_cmd env BS_FAIL_RENAME_PATTERN=/snapshots/ LD_PRELOAD="$SHIM" \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		"$BS_BIN/backstop-snap" -d "$SRC" --repo "$REPO" --no-encryption -q
	expect_exit 3
	expect_stderr_contains "unable to commit snapshot"
	expect_stderr_contains "No space left on device"
	expect_stderr_contains "was removed"
	check_eq "no record" "$(ls "$REPO/snapshots")" ""
	check_eq "no archive left" "$(ls "$REPO/archives")" ""
	check_eq "no temporary file left" "$(ls "$REPO/tmp")" ""
	run_cmd bs snap list --repo "$REPO" --json
	expect_exit 0
	check "snap list shows no snapshot" python3 -c '
import json, sys; assert json.load(open(sys.argv[1]))["snapshots"] == []' "$OUT_FILE"
	# and a snap without the fault commits normally
	run_cmd bs snap -d "$SRC" --repo "$REPO" --no-encryption -q
	expect_exit 0
	check "the next snap's archive is there" test -n "$(ls "$REPO/archives")"
}
run_test "a snap whose record cannot be committed removes its archive (exit 3, nothing left)" t_record_commit_fails

done_testing
