#!/usr/bin/env bash
# tests/fuzz/run.sh - run every libFuzzer target for a fixed time, as TAP.
#
#   bash tests/fuzz/run.sh [SECONDS] [TARGET...]
#
# SECONDS per target (default 10; `make fuzz` passes FUZZ_SECONDS, default
# 60).  TARGETs are names like age_header (default: every
# tests/fuzz/fuzz_*.c).  Builds them first (make fuzz-build: clang,
# libFuzzer, ASan + UBSan, into $FUZZ_DIR, default build-fuzz).
#
# Each target starts from its seed corpus tests/fuzz/corpus/<target>/ (read
# only) and a working corpus $FUZZ_DIR/corpus/<target>/ that keeps what
# earlier runs found.  Prints one TAP line per target:
#   ok N - fuzz <target> 10s, 123456 runs
#   not ok N - fuzz <target>: crash, input saved as tests/fuzz/crashes/<target>-crash-...
# with the sanitizer's report as '#' lines.  Inputs that crash are saved in
# tests/fuzz/crashes/ (not committed); reproduce one with
#   build-fuzz/fuzz/fuzz_<target> tests/fuzz/crashes/<file>
# Without clang's libFuzzer the plan is "1..0 # SKIP".  Exit status 1 when
# anything failed.
set -u -o pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
SECS=${1:-10}
shift 2>/dev/null || true
FUZZ_DIR=${FUZZ_DIR:-build-fuzz}
CRASHES=tests/fuzz/crashes

if ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 ||
	! command -v clang >/dev/null 2>&1; then
	echo "1..0 # SKIP clang's libFuzzer is not installed (scripts/install-deps.sh installs clang)"
	exit 0
fi

if [ $# -gt 0 ]; then
	targets=("$@")
else
	targets=()
	for f in tests/fuzz/fuzz_*.c; do
		f=${f##*/fuzz_}
		targets+=("${f%.c}")
	done
fi

log=$(mktemp /tmp/bs-fuzz.XXXXXX) || exit 1
trap 'rm -f "$log"' EXIT

echo "1..${#targets[@]}"
if ! make -s FUZZ_DIR="$FUZZ_DIR" fuzz-build >"$log" 2>&1; then
	echo "# make fuzz-build failed:"
	tail -n 40 "$log" | sed 's/^/#   /'
	n=0
	for t in "${targets[@]}"; do
		n=$((n + 1))
		echo "not ok $n - fuzz $t: not built"
	done
	exit 1
fi

mkdir -p "$CRASHES"
# Targets run side by side, one per core (BS_FUZZ_JOBS): libFuzzer is one
# thread, and the targets share nothing but tests/fuzz/crashes/, where each
# one's inputs carry its name.
JOBS=${BS_FUZZ_JOBS:-$(nproc)}
res=$(mktemp -d /tmp/bs-fuzz-res.XXXXXX) || exit 1
trap 'rm -f "$log"; rm -rf "$res"' EXIT

# fuzz_one N TARGET: run one target, its TAP line (and report) into $res/N
fuzz_one() {
	local n=$1 t=$2 out=$res/$1 tlog=$res/$1.log bin seeds work before saved rc runs kind
	bin=$FUZZ_DIR/fuzz/fuzz_$t
	seeds=tests/fuzz/corpus/$t
	work=$FUZZ_DIR/corpus/$t
	if [ ! -x "$bin" ] || [ ! -d "$seeds" ]; then
		echo "not ok $n - fuzz $t: no such target (or no corpus $seeds)" >"$out"
		return
	fi
	mkdir -p "$work"
	before=$(ls "$CRASHES" | grep "^$t-" | sort)
	# -timeout: one input running 10 s is a finding (a hang), not a slow run;
	# -malloc_limit_mb: one allocation of 256 MiB from a small input is one too
	# (memory must follow checked figures, not counts an input claims)
	"$bin" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=256 -print_final_stats=1 \
		-artifact_prefix="$CRASHES/$t-" "$work" "$seeds" >"$tlog" 2>&1 </dev/null
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tlog" | tail -n 1)
	if [ "$rc" -eq 0 ]; then
		echo "ok $n - fuzz $t ${SECS}s, ${runs:-?} runs" >"$out"
		return
	fi
	saved=$(comm -13 <(printf '%s\n' "$before") <(ls "$CRASHES" | grep "^$t-" | sort) | head -n 1)
	kind=$(sed -n 's/.*ERROR: libFuzzer: \([a-z-]*\).*/\1/p; s/.*ERROR: AddressSanitizer: \([a-z-]*\).*/\1/p; s/.*ERROR: LeakSanitizer: .*/leak/p; s/.*runtime error: .*/undefined behaviour/p; s/.*fuzz property failed.*/property/p' "$tlog" | head -n 1)
	{
		echo "not ok $n - fuzz $t: ${kind:-exit $rc}${saved:+, input saved as $CRASHES/$saved}"
		grep -v '^#[0-9]\+\s' "$tlog" | grep -v '^\(INFO\|MS\|stat\)' | head -n 60 | sed 's/^/#   /'
	} >"$out"
}

n=0
for t in "${targets[@]}"; do
	n=$((n + 1))
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
		wait -n
	done
	fuzz_one "$n" "$t" &
done
wait
failed=0
for ((i = 1; i <= n; i++)); do
	cat "$res/$i"
	grep -q '^not ok' "$res/$i" && failed=1
done
exit "$failed"
