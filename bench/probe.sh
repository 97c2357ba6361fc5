#!/usr/bin/env bash
# bench/probe.sh - backstop probe against curl --parallel, measured in one run.
#
#   bash bench/probe.sh
#
# Starts nginx on loopback (tests/net/webfix.sh, no PostgreSQL), then times,
# one after the other in each of REPEAT rounds, for plain HTTP and for HTTPS
# (the fixture's valid certificate, its root CA given to both clients):
#   curl        curl --parallel --parallel-max P -K FILE: the N requests,
#               each -o /dev/null (the issue's anchor).  curl reuses its
#               connections: it opens between 1 and P of them, a number
#               that changes from run to run (printed: "connections
#               opened"), and so does its time, most with HTTPS (one
#               connection: one handshake; P: P handshakes)
#   curl-close  the same with -H 'Connection: close' --parallel-immediate: a
#               fresh connection (and a full TLS handshake: this nginx
#               resumes no sessions) per request, as backstop probe opens one
#               per probe (CURLOPT_FRESH_CONNECT, FORBID_REUSE), so that its
#               connect/TLS times are real.  The like-for-like comparison.
#               --parallel-immediate because without it curl holds each new
#               transfer back to see whether a connection being set up could
#               multiplex it (about 1.5x slower with fresh connections).
#               (--no-keepalive is no such thing: it turns off TCP keepalive
#               probes; connections are still reused.)
#   backstop    backstop probe --config FILE -q --format json, FILE holding N
#               'probes:' (kind http, expect_status 200), parallel P
#   ad hoc      backstop probe --url URL (N of them) --expect-status 200
# The N URLs are distinct: /healthz?n=1..N on the same server.  Prints wall
# time (median and every run), client CPU (user+sys; nginx's not included)
# and the ratios backstop / curl the issue sets as target (at most 1.5x of
# curl --parallel --parallel-max 50 for 200 probes).  Every run is checked
# (curl: N answers 200; backstop: N probes OK, exit 0), else the bench
# stops.  Not a test: it never fails CI.
#
# Environment: REPEAT (default 5), N (default 200), PARALLEL (default 50;
# when not 50, written as probe.parallel), PROTOS (default "http https"),
# BUILD (default build), BENCH_DIR (default /var/tmp/backstop-bench-probe),
# BS_WEB_NGINX (the nginx binary, see webfix.sh).
set -euo pipefail

REPEAT=${REPEAT:-5}
N=${N:-200}
PARALLEL=${PARALLEL:-50}
PROTOS=${PROTOS:-http https}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
BIN=$ROOT/$BUILD/bin
WORK=${BENCH_DIR:-/var/tmp/backstop-bench-probe}
TARGET=1.5

if [ ! -x "$BIN/backstop" ] || [ ! -x "$BIN/backstop-probe" ]; then
	echo "bench/probe.sh: build first (make -j2 BUILD=$BUILD all)" >&2
	exit 1
fi
for c in curl jq bc; do
	command -v $c >/dev/null || { echo "bench/probe.sh: $c is not installed" >&2; exit 1; }
done
for v in $(compgen -e | grep '^BACKSTOP_' || true); do unset "$v"; done

# bs_free_port without a cluster, then the web fixture
# shellcheck source=tests/integration/lib.sh disable=SC1091
BS_LIB_NOINIT=1 . "$ROOT/tests/integration/lib.sh"
# shellcheck source=tests/net/webfix.sh disable=SC1091
. "$ROOT/tests/net/webfix.sh"
set -e

rm -rf "$WORK/web"
mkdir -p "$WORK"
cd "$WORK" # no ./backstop.yaml applies
trap web_stop EXIT
if ! web_start "$WORK/web" >"$WORK/web.out" 2>&1; then
	echo "bench/probe.sh: nginx could not start:" >&2
	cat "$WORK/web.out" >&2
	exit 1
fi

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date -u '+%Y-%m-%d %H:%M')

# per protocol: the base URL, the curl config, the probe config, the ad hoc flags
for proto in $PROTOS; do
	case $proto in
	http) base=$BS_WEB_HTTP ca= ;;
	https) base=$BS_WEB_HTTPS_VALID ca=$BS_WEB_CA ;;
	*) echo "bench/probe.sh: unknown protocol '$proto' in PROTOS" >&2; exit 1 ;;
	esac
	{
		for ((i = 1; i <= N; i++)); do
			printf 'url = "%s/healthz?n=%d"\noutput = "/dev/null"\n' "$base" "$i"
		done
	} >"$WORK/curl-$proto.cfg"
	{
		if [ "$PARALLEL" != 50 ]; then
			printf 'probe:\n  parallel: %d\n' "$PARALLEL"
		fi
		echo "probes:"
		for ((i = 1; i <= N; i++)); do
			printf '  p%d:\n    kind: http\n    url: %s/healthz?n=%d\n    expect_status: 200\n' "$i" "$base" "$i"
			[ -z "$ca" ] || printf '    ca_file: %s\n' "$ca"
		done
	} >"$WORK/probe-$proto.yaml"
	{
		[ "$PARALLEL" = 50 ] || printf 'probe:\n  parallel: %d\n' "$PARALLEL"
	} >"$WORK/adhoc-$proto.yaml"
	: >"$WORK/adhoc-$proto.args"
	for ((i = 1; i <= N; i++)); do
		printf -- '--url\n%s/healthz?n=%d\n' "$base" "$i" >>"$WORK/adhoc-$proto.args"
	done
	"$BIN/backstop" probe validate --config "$WORK/probe-$proto.yaml" >/dev/null
done

RESULTS=$WORK/results.tsv
: >"$RESULTS"
TIMEFORMAT='%R %U %S'

# check_curl FILE: FILE (curl's -w: status and connections made, a line
# per request) has N lines of 200; sets CONNS
check_curl() {
	local ok
	ok=$(grep -c '^200 ' "$1" || true)
	CONNS=$(awk '{s += $2} END {print s + 0}' "$1")
	[ "$ok" = "$N" ] || {
		echo "bench/probe.sh: curl: $ok of $N answers were 200 ($(cut -d' ' -f1 "$1" | sort | uniq -c | tr '\n' ' '))" >&2
		return 1
	}
}
# check_backstop FILE: the JSON report has N probes OK
check_backstop() {
	local ok
	ok=$(jq -r '.counts.ok' "$1" 2>/dev/null || echo "?")
	[ "$ok" = "$N" ] || {
		echo "bench/probe.sh: backstop: $ok of $N probes OK:" >&2
		jq -r '.findings[] | select(.state != "ok") | "\(.check): \(.state): \(.detail)"' "$1" 2>/dev/null | head -5 >&2
		return 1
	}
}

# measure PROTO CLIENT: one timed run, appended to RESULTS (proto, client,
# wall s, client CPU s, connections opened: backstop's are N by design)
measure() {
	local proto=$1 client=$2 t rc=0 ca=() out=$WORK/out err=$WORK/err
	CONNS=$N
	[ "$proto" = https ] && ca=(--cacert "$BS_WEB_CA")
	local adhoc_ca=()
	[ "$proto" = https ] && adhoc_ca=(--ca-file "$BS_WEB_CA")
	case $client in
	curl)
		t=$({ time curl --parallel --parallel-max "$PARALLEL" -sS --no-progress-meter "${ca[@]}" \
			-w '%{http_code} %{num_connects}\n' -K "$WORK/curl-$proto.cfg" >"$out" 2>"$err"; } 2>&1) || rc=$?
		[ $rc = 0 ] && check_curl "$out" || rc=1
		;;
	curl-close)
		t=$({ time curl --parallel --parallel-max "$PARALLEL" --parallel-immediate -sS --no-progress-meter \
			"${ca[@]}" -H 'Connection: close' -w '%{http_code} %{num_connects}\n' -K "$WORK/curl-$proto.cfg" >"$out" 2>"$err"; } 2>&1) || rc=$?
		[ $rc = 0 ] && check_curl "$out" || rc=1
		;;
	backstop)
		t=$({ time "$BIN/backstop" probe --config "$WORK/probe-$proto.yaml" -q --format json \
			>"$out" 2>"$err"; } 2>&1) || rc=$?
		[ $rc = 0 ] && check_backstop "$out" || rc=1
		;;
	adhoc)
		local args=()
		mapfile -t args <"$WORK/adhoc-$proto.args"
		t=$({ time "$BIN/backstop" probe --config "$WORK/adhoc-$proto.yaml" "${args[@]}" "${adhoc_ca[@]}" \
			--expect-status 200 -q --format json >"$out" 2>"$err"; } 2>&1) || rc=$?
		[ $rc = 0 ] && check_backstop "$out" || rc=1
		;;
	esac
	if [ $rc != 0 ]; then
		echo "bench/probe.sh: $client ($proto) failed:" >&2
		head -20 "$err" >&2
		exit 1
	fi
	# shellcheck disable=SC2086
	set -- $t
	printf '%s\t%s\t%s\t%.3f\t%s\n' "$proto" "$client" "$1" "$(echo "$2 + $3" | bc)" "$CONNS" >>"$RESULTS"
}

CLIENTS="curl curl-close backstop adhoc"
# one untimed round first: libraries and certificates into the page cache
for proto in $PROTOS; do
	for client in $CLIENTS; do measure "$proto" "$client"; done
done
: >"$RESULTS"
for ((r = 1; r <= REPEAT; r++)); do
	for proto in $PROTOS; do
		for client in $CLIENTS; do measure "$proto" "$client"; done
	done
done
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

med() { sort -n | awk '{a[NR]=$1} END {if (NR % 2) printf "%.3f\n", a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }
col() { awk -F'\t' -v p="$1" -v c="$2" -v k="$3" '$1 == p && $2 == c {print $k}' "$RESULTS"; }
label() {
	case $1 in
	curl) echo "curl -Z --parallel-max $PARALLEL" ;;
	curl-close) echo "curl -Z, fresh connections" ;;
	backstop) echo "backstop probe --config" ;;
	adhoc) echo "backstop probe --url x$N" ;;
	esac
}

echo
echo "bench/probe.sh: $N probes of /healthz?n=1..$N on nginx (loopback, 1 worker), parallel $PARALLEL, $REPEAT runs"
echo "  $START UTC, commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores," \
	"load average before $LOAD0, after $LOAD1; $(curl --version | head -1 | cut -d' ' -f1-2)"
printf '%-6s %-30s %8s %8s   %-36s %s\n' proto client "median s" "CPU s" "every run (s)" "connections opened"
for proto in $PROTOS; do
	for client in $CLIENTS; do
		printf '%-6s %-30s %8s %8s   %-36s %s\n' "$proto" "$(label "$client")" \
			"$(col "$proto" "$client" 3 | med)" "$(col "$proto" "$client" 4 | med)" \
			"$(col "$proto" "$client" 3 | tr '\n' ' ')" "$(col "$proto" "$client" 5 | tr '\n' ' ')"
	done
done
echo
for proto in $PROTOS; do
	c=$(col "$proto" curl 3 | med)
	cc=$(col "$proto" curl-close 3 | med)
	for client in backstop adhoc; do
		b=$(col "$proto" "$client" 3 | med)
		ratio=$(echo "scale=4; $b / $c" | bc)
		verdict=met
		[ "$(echo "$ratio <= $TARGET" | bc)" = 1 ] || verdict=MISSED
		printf '%-5s %-26s / curl = %.2fx (target <= %s: %s);  / curl, fresh connections = %.2fx\n' "$proto" \
			"$(label "$client")" "$ratio" "$TARGET" "$verdict" "$(echo "scale=4; $b / $cc" | bc)"
	done
done
