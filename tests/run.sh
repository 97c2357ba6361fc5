#!/usr/bin/env bash
# tests/run.sh - run backstop's tests and count TAP results.
#
#   bash tests/run.sh                 unit tests, then integration tests
#   bash tests/run.sh unit            unit test binaries only ($BUILD/tests/...)
#   bash tests/run.sh integration     tests/integration/*.sh only
#   bash tests/run.sh SUBSTRING       only the tests whose path contains SUBSTRING
#
# BS_UNIT_ELSEWHERE="repo/contract_test ...": unit tests (paths under
# $BUILD/tests) that this pass leaves to another one; .ci/run runs the slow,
# server-backed ones only in the sanitizer pass.
#
# Every unit test binary under $BUILD/tests (BUILD defaults to build) and
# every tests/integration/*.sh but lib.sh runs, in sorted order, under a
# timeout (BS_UNIT_TIMEOUT, default 120 s; BS_INTEGRATION_TIMEOUT, default
# 900 s), with stdin from /dev/null.  Their TAP lines ("ok N - x",
# "not ok N - x", "ok N - x # SKIP why") are printed prefixed with the file
# and counted.  A file that exits non-zero without a "not ok", times out,
# dies of a signal, prints no result, or runs fewer tests than it planned
# counts as one more failure, named.  A unit test source without its binary
# counts as a failure ("not built").
#
# Integration scripts share ONE PostgreSQL 15 cluster started here (see
# tests/integration/lib.sh pg_start_cluster: unprivileged OS user, unix
# socket in a temp dir, free port, superuser role "postgres"); PGHOST,
# PGPORT, PGUSER, PGDATABASE, BS_PGBIN are exported to them.  It is stopped
# at exit, also on failure or interrupt.  Each script makes its own
# databases (new_db) with unique names.
#
# The last line printed is always "N passed, N failed, N skipped"; the exit
# status is 1 when anything failed.
set -u -o pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
BS_ROOT=$(pwd)
BUILD=${BUILD:-build}
case $BUILD in
/*) BUILD_DIR=$BUILD ;;
*) BUILD_DIR=$BS_ROOT/$BUILD ;;
esac
export BS_ROOT BUILD
UNIT_TIMEOUT=${BS_UNIT_TIMEOUT:-120}
INTEGRATION_TIMEOUT=${BS_INTEGRATION_TIMEOUT:-900}
# Sanitizer builds: report and fail on the first error, with stacks.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LC_ALL=C.UTF-8

sel=${1:-}
mode=all
filter=
case $sel in
"" | all) ;;
unit | integration) mode=$sel ;;
*) filter=$sel ;;
esac

passed=0
failed=0
skipped=0
RUN_TMP=$(mktemp -d /tmp/bs-run.XXXXXX) || exit 1
child=

cleanup() {
	if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
		kill -TERM "$child" 2>/dev/null
		wait "$child" 2>/dev/null
	fi
	child=
	if [ -n "${BS_PG_DIR:-}" ]; then
		pg_stop_cluster
	fi
	declare -F s3_stop >/dev/null && s3_stop
	declare -F azurite_stop >/dev/null && azurite_stop
	rm -rf "$RUN_TMP"
}
trap cleanup EXIT
trap 'echo "tests/run.sh: interrupted" >&2; exit 130' INT
trap 'echo "tests/run.sh: terminated" >&2; exit 143' TERM

matches() { [ -z "$filter" ] || [[ $1 == *"$filter"* ]]; }

# report_fail LABEL TEXT: a failure found by the runner itself.
report_fail() {
	failed=$((failed + 1))
	printf '%s: not ok - %s\n' "$1" "$2"
}

# run_one LABEL TIMEOUT CMD..: run a TAP producer and count its results.
run_one() {
	local label=$1 to=$2 log=$RUN_TMP/out rc start end secs
	local n_ok=0 n_fail=0 n_skip=0 n_tests=0 plan= bail=0 line lc
	shift 2
	start=$(date +%s%N)
	timeout -k 10 "$to" "$@" >"$log" 2>&1 </dev/null &
	child=$!
	wait "$child" 2>/dev/null
	rc=$?
	child=
	end=$(date +%s%N)
	secs=$(((end - start) / 1000000))
	secs=$(printf '%d.%01d' $((secs / 1000)) $((secs % 1000 / 100)))
	: >"$RUN_TMP/other"
	while IFS= read -r line || [ -n "$line" ]; do
		lc=${line,,}
		if [[ $line =~ ^not\ ok([[:space:]]|$) ]]; then
			n_tests=$((n_tests + 1))
			if [[ $lc =~ \#[[:space:]]*todo ]]; then
				n_skip=$((n_skip + 1))
			else
				n_fail=$((n_fail + 1))
			fi
			printf '%s: %s\n' "$label" "$line"
		elif [[ $line =~ ^ok([[:space:]]|$) ]]; then
			n_tests=$((n_tests + 1))
			if [[ $lc =~ \#[[:space:]]*skip ]]; then
				n_skip=$((n_skip + 1))
			else
				n_ok=$((n_ok + 1))
			fi
			printf '%s: %s\n' "$label" "$line"
		elif [[ $line =~ ^1\.\.([0-9]+) ]]; then
			plan=${BASH_REMATCH[1]}
			if [ "$plan" = 0 ]; then
				printf '%s: %s\n' "$label" "$line"
			fi
		elif [[ $line =~ ^Bail\ out! ]]; then
			bail=1
			printf '%s: %s\n' "$label" "$line"
		elif [[ $line =~ ^# ]]; then
			printf '    %s\n' "$line"
		else
			printf '%s\n' "$line" >>"$RUN_TMP/other"
		fi
	done <"$log"

	passed=$((passed + n_ok))
	failed=$((failed + n_fail))
	skipped=$((skipped + n_skip))

	local extra= nf=$n_fail
	if [ "$rc" -eq 124 ] || { [ "$rc" -eq 137 ] && [ "${secs%.*}" -ge "$to" ]; }; then
		extra="timed out after ${to}s"
	elif [ "$rc" -gt 128 ] && [ "$rc" -lt 160 ]; then
		extra="killed by signal $((rc - 128))"
	elif [ "$bail" = 1 ] && [ "$n_fail" -eq 0 ]; then
		extra="bailed out"
	elif [ "$rc" -ne 0 ] && [ "$n_fail" -eq 0 ]; then
		extra="exited with status $rc without a failing test"
	elif [ "$rc" -eq 0 ] && [ "$n_tests" -eq 0 ] && [ "$plan" != 0 ]; then
		extra="ran no tests"
	elif [ -n "$plan" ] && [ "$plan" != 0 ] && [ "$plan" -ne "$n_tests" ]; then
		extra="planned $plan tests, ran $n_tests"
	fi
	if [ "$plan" = 0 ] && [ "$n_tests" -eq 0 ] && [ -z "$extra" ]; then
		skipped=$((skipped + 1))
	fi
	if [ -n "$extra" ]; then
		report_fail "$label" "$extra"
		nf=$((nf + 1))
	fi
	if [ "$nf" -gt 0 ] && [ -s "$RUN_TMP/other" ]; then
		printf '    # last output of %s:\n' "$label"
		tail -n "${BS_OUTPUT_LINES:-30}" "$RUN_TMP/other" | sed 's/^/    | /'
	fi
	printf '    # %s: %d ok, %d failed, %d skipped, %ss\n' "$label" "$n_ok" "$nf" "$n_skip" "$secs"
}

# The S3 test server, for every test that names S3 (the repository
# contract suite, the S3 scenarios): started once, here.  Missing in CI is
# a failure; elsewhere those tests skip, saying why.
BS_LIB_NOINIT=1
# shellcheck source=integration/lib.sh
. tests/integration/lib.sh
# shellcheck source=net/s3rver.sh
. tests/net/s3rver.sh
# shellcheck source=net/azurite.sh
. tests/net/azurite.sh
BS_LIB_NOINIT=0
want_s3=
# elsewhere REL: the unit test REL is left to another pass (BS_UNIT_ELSEWHERE)
elsewhere() { [[ " ${BS_UNIT_ELSEWHERE:-} " == *" $1 "* ]]; }
if [ "$mode" != integration ] && matches "unit/repo/contract_test" && ! elsewhere repo/contract_test; then want_s3=1; fi
for f in tests/integration/s3_*.sh; do
	if [ "$mode" != unit ] && [ -f "$f" ] && matches "$f"; then want_s3=1; fi
done
if [ -n "$want_s3" ]; then
	if s3_start "$RUN_TMP/s3" 2>"$RUN_TMP/s3.err"; then
		printf '    # S3 test server (s3rver): %s, bucket %s\n' "$BS_TEST_S3_ENDPOINT" "$BS_TEST_S3_BUCKET"
	elif [ "${CI:-}" = true ]; then
		report_fail "tests/run.sh" "could not start the S3 test server: $(head -c 300 "$RUN_TMP/s3.err")"
	else
		printf '    # no S3 test server: %s\n' "$(head -c 300 "$RUN_TMP/s3.err")"
	fi
fi

# The Azure Blob test server (Azurite), likewise for the contract suite and
# the Azure scenarios.
want_azure=
if [ "$mode" != integration ] && { { matches "unit/repo/contract_test" && ! elsewhere repo/contract_test; } ||
	{ matches "unit/repo/azure_gate_test" && ! elsewhere repo/azure_gate_test; }; }; then want_azure=1; fi
for f in tests/integration/azure_*.sh; do
	if [ "$mode" != unit ] && [ -f "$f" ] && matches "$f"; then want_azure=1; fi
done
if [ -n "$want_azure" ]; then
	if azurite_start "$RUN_TMP/azure" 2>"$RUN_TMP/azure.err"; then
		printf '    # Azure test server (Azurite): %s, container %s\n' "$BS_TEST_AZURE_ENDPOINT" \
			"$BS_TEST_AZURE_CONTAINER"
	elif [ "${CI:-}" = true ]; then
		report_fail "tests/run.sh" "could not start the Azure test server: $(head -c 300 "$RUN_TMP/azure.err")"
	else
		printf '    # no Azure test server: %s\n' "$(head -c 300 "$RUN_TMP/azure.err")"
	fi
fi

# ------------------------------------------------------------ unit tests

if [ "$mode" != integration ]; then
	declare -A built=()
	if [ -d "$BUILD_DIR/tests" ]; then
		while IFS= read -r bin; do
			rel=${bin#"$BUILD_DIR"/tests/}
			built[$rel]=1
			label="unit/$rel"
			matches "$label" || continue
			if elsewhere "$rel"; then
				printf '    # %s: not run in this pass (BS_UNIT_ELSEWHERE: another pass runs it)\n' "$label"
				continue
			fi
			run_one "$label" "$UNIT_TIMEOUT" "$bin"
		done < <(find "$BUILD_DIR/tests" -type f -perm -u+x | sort)
	fi
	# A unit test whose source exists but whose binary does not (it failed
	# to compile, or nobody built tests) must not vanish silently.
	while IFS= read -r src; do
		rel=${src#tests/unit/}
		rel=${rel%.c}
		label="unit/$rel"
		matches "$label" || continue
		if [ -z "${built[$rel]:-}" ]; then
			report_fail "$label" "not built ($BUILD/tests/$rel missing; run make tests)"
		fi
	done < <(find tests/unit -name '*_test.c' 2>/dev/null | sort)
fi

# ------------------------------------------------------------- fuzzing

# tests/fuzz/run.sh: every libFuzzer target for BS_FUZZ_SECONDS each (0:
# off; default 60 s shared out, 4 to 10 s a target: a smoke run that keeps
# CI under its time budget; `make fuzz` is the long run), when clang's
# libFuzzer is installed; in a full run or when the filter names it
# ("fuzz").  Not in a sanitizer build: the fuzz build has ASan and UBSan
# already.
if [ "$mode" = all ] && matches "fuzz/run.sh" && [ "${BS_FUZZ_SECONDS:-}" != 0 ]; then
	n_fuzz=$(find tests/fuzz -maxdepth 1 -name 'fuzz_*.c' | wc -l)
	fuzz_secs=${BS_FUZZ_SECONDS:-$((60 / (n_fuzz > 0 ? n_fuzz : 1)))}
	[ -n "${BS_FUZZ_SECONDS:-}" ] || [ "$fuzz_secs" -le 10 ] || fuzz_secs=10
	[ -n "${BS_FUZZ_SECONDS:-}" ] || [ "$fuzz_secs" -ge 4 ] || fuzz_secs=4
	if ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
		skipped=$((skipped + 1))
		echo "fuzz/run.sh: ok - fuzz # SKIP clang's libFuzzer is not installed (scripts/install-deps.sh)"
	elif [ -f "$BUILD_DIR/libbackstop.a" ] && grep -q __asan_init "$BUILD_DIR/libbackstop.a"; then
		echo "    # fuzz/run.sh: not run in a sanitizer build (the plain build's run covers it)"
	else
		run_one "fuzz/run.sh" $((900 + n_fuzz * (fuzz_secs + 30))) bash tests/fuzz/run.sh "$fuzz_secs"
	fi
fi

# ----------------------------------------------------- integration tests

if [ "$mode" != unit ]; then
	scripts=()
	for f in tests/integration/*.sh; do
		[ -f "$f" ] || continue
		[ "$(basename "$f")" = lib.sh ] && continue
		matches "$f" || continue
		scripts+=("$f")
	done
	if [ ${#scripts[@]} -gt 0 ]; then
		# Never reuse a server from the caller's environment.
		unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGPASSWORD PGSERVICE \
			PGSERVICEFILE PGOPTIONS PGSSLMODE PGCONNECT_TIMEOUT
		BS_LIB_NOINIT=1
		# shellcheck source=integration/lib.sh
		. tests/integration/lib.sh
		BS_LIB_NOINIT=0
		if pg_start_cluster >"$RUN_TMP/pg.err" 2>&1; then
			printf '    # PostgreSQL %s cluster: PGHOST=%s PGPORT=%s PGUSER=%s (server runs as %s)\n' \
				"$("$BS_PGBIN/postgres" --version | awk '{print $3}')" "$PGHOST" "$PGPORT" "$PGUSER" "$BS_PG_OSUSER"
			for f in "${scripts[@]}"; do
				run_one "$f" "$INTEGRATION_TIMEOUT" bash "$f"
				# A script that brought the server down must not take the
				# others with it: note it and start a new one.
				if ! "$BS_PGBIN/psql" -X -q -At -c 'select 1' >/dev/null 2>&1; then
					report_fail "$f" "the PostgreSQL cluster was down after this script"
					pg_stop_cluster
					pg_start_cluster >"$RUN_TMP/pg.err" 2>&1 || {
						sed 's/^/    | /' "$RUN_TMP/pg.err"
						report_fail "tests/run.sh" "could not restart the PostgreSQL cluster; remaining integration scripts not run"
						break
					}
				fi
			done
		else
			report_fail "tests/run.sh" "could not start a PostgreSQL cluster; ${#scripts[@]} integration script(s) not run"
			sed 's/^/    | /' "$RUN_TMP/pg.err"
		fi
		pg_stop_cluster
	fi
fi

if [ $((passed + failed + skipped)) -eq 0 ]; then
	echo "    # no tests were found (mode: $mode${filter:+, filter: $filter}); build them with make tests" >&2
fi
printf '%d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
[ "$failed" -eq 0 ]
