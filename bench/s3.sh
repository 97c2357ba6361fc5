#!/usr/bin/env bash
# bench/s3.sh - snap and restore against an S3 repository (s3rver on
# loopback, from tests/node) beside the same operations on a local
# repository, in one run, with peak RSS.
#
#   bash bench/s3.sh [MB]          (default 1024: incompressible bytes plus pgbench rows)
#
# Environment: REPEAT (default 2), JOBS (default: cores), BUILD, BS_PGBIN,
# BENCH_DIR (default /var/tmp/backstop-bench-s3), BENCH_OS_USER, BENCH_PORT
# (default 55498).  Reports wall seconds, peak RSS of the client and the
# ratios issue 13 sets (S3 <= 1.2x local, for snap and for restore).
# s3rver is a Node.js test server writing to the local disk: it measures
# backstop's S3 path (signing, multipart, ranged reads, retries), not a real
# object store's bandwidth.  Not a test: it never fails CI.
set -euo pipefail

MB=${1:-1024}
REPEAT=${REPEAT:-2}
JOBS=${JOBS:-$(nproc)}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
BIN=$ROOT/$BUILD/bin
PGBIN=${BS_PGBIN:-/usr/lib/postgresql/15/bin}
WORK=${BENCH_DIR:-/var/tmp/backstop-bench-s3}
PGUSER_OS=${BENCH_OS_USER:-backstop-test}
PORT=${BENCH_PORT:-55498}
S3RVER=$ROOT/tests/node/node_modules/.bin/s3rver

[ -x "$S3RVER" ] || { echo "bench/s3.sh: s3rver is not installed (bash scripts/install-deps.sh)" >&2; exit 1; }
command -v /usr/bin/time >/dev/null || apt-get install -y -qq time >/dev/null
id "$PGUSER_OS" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$PGUSER_OS"
mkdir -p "$WORK"
chown "$PGUSER_OS" "$WORK"
export PGHOST=$WORK PGPORT=$PORT PGUSER=postgres
as_pg() { runuser -u "$PGUSER_OS" -- "$@"; }

S3PID=
cleanup() {
	[ -z "$S3PID" ] || kill "$S3PID" 2>/dev/null || true
	as_pg "$PGBIN/pg_ctl" -D "$WORK/data" -m fast stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
[ -f "$WORK/data/PG_VERSION" ] || as_pg "$PGBIN/initdb" -D "$WORK/data" -U postgres --auth=trust >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w start -o \
	"-k $WORK -p $PORT -c listen_addresses='' -c shared_buffers=256MB -c max_wal_size=8GB \
	 -c maintenance_work_mem=256MB -c checkpoint_timeout=30min" >/dev/null

DB=s3bench_$MB
if [ "$(psql -X -d postgres -Atc "select count(*) from pg_database where datname='$DB'")" = 0 ]; then
	echo "building $DB (about $MB MB) ..." >&2
	createdb "$DB"
	"$PGBIN/pgbench" -i -q -s "$(((MB / 2 + 14) / 15))" "$DB" >/dev/null 2>&1
	# half of it incompressible: what dominates an upload
	psql -X -q -d "$DB" -c "create table blobs (id int primary key, b bytea);
		insert into blobs select g, decode(string_agg(md5(g::text || ':' || j::text), ''), 'hex')
		  from generate_series(1, $((MB * 1024 / 2 / 8))) g, generate_series(1, 512) j group by g;"
fi

rm -rf "$WORK/s3data" "$WORK/local"
mkdir -p "$WORK/s3data"
S3PORT=$((20000 + RANDOM % 10000))
node --openssl-legacy-provider "$ROOT/tests/net/s3rver.js" "$WORK/s3data" 127.0.0.1 "$S3PORT" bench >/dev/null 2>&1 &
S3PID=$!
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$S3PORT") 2>/dev/null && break; sleep 0.1; done
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
S3="s3://bench/r?endpoint=http://127.0.0.1:$S3PORT"
"$BIN/backstop" repo init --repo "$WORK/local" -q
"$BIN/backstop" repo init --repo "$S3" -q
if [ ! -s "$WORK/id.pub" ]; then
	rm -f "$WORK/id.txt"
	"$BIN/backstop" keygen -o "$WORK/id.txt" >"$WORK/id.pub"
fi
REC=$(cat "$WORK/id.pub")

RESULTS=$WORK/results.tsv
: >"$RESULTS"
# measure NAME CMD..: wall seconds and peak RSS (KiB) of one run, appended
measure() {
	local name=$1 t0 t1 rss
	shift
	t0=$(date +%s.%N)
	/usr/bin/time -f %M -o "$WORK/rss" "$@" >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; return 1; }
	t1=$(date +%s.%N)
	rss=$(tail -n 1 "$WORK/rss")
	printf '%s\t%.2f\t%s\n' "$name" "$(echo "$t1 - $t0" | bc)" "$rss" >>"$RESULTS"
}

for ((i = 1; i <= REPEAT; i++)); do
	for repo in local s3; do
		loc=$WORK/local
		[ $repo = s3 ] && loc=$S3
		measure "snap ($repo)" "$BIN/backstop-snap" -d "$DB" --repo "$loc" --recipient "$REC" -j "$JOBS" -q
		dropdb --if-exists "${DB}_r" >/dev/null 2>&1
		measure "restore ($repo)" "$BIN/backstop-restore" latest --repo "$loc" --identity "$WORK/id.txt" \
			-d "dbname=${DB}_r" --create -j "$JOBS" -q
		dropdb --if-exists "${DB}_r" >/dev/null 2>&1
	done
done

echo
echo "bench/s3.sh: $DB ($(psql -X -d "$DB" -Atc "select pg_size_pretty(pg_database_size('$DB'))")), $REPEAT runs, jobs $JOBS, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-18s %10s %12s   %s\n' operation "median s" "peak RSS MiB" "every run (s)"
med() { sort -n | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else printf "%.2f\n", (a[NR/2]+a[NR/2+1])/2}'; }
for op in "snap (local)" "snap (s3)" "restore (local)" "restore (s3)"; do
	printf '%-18s %10s %12s   %s\n' "$op" \
		"$(awk -F'\t' -v n="$op" '$1 == n {print $2}' "$RESULTS" | med)" \
		"$(awk -F'\t' -v n="$op" '$1 == n {print $3}' "$RESULTS" | sort -n | tail -1 | awk '{printf "%.0f", $1/1024}')" \
		"$(awk -F'\t' -v n="$op" '$1 == n {printf "%s ", $2}' "$RESULTS")"
done
for op in snap restore; do
	l=$(awk -F'\t' -v n="$op (local)" '$1 == n {print $2}' "$RESULTS" | med)
	s=$(awk -F'\t' -v n="$op (s3)" '$1 == n {print $2}' "$RESULTS" | med)
	printf '%s: S3 / local = %.2f (target <= 1.2)\n' "$op" "$(echo "$s / $l" | bc -l)"
done
