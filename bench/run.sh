#!/usr/bin/env bash
# bench/run.sh - backstop against the anchors, measured in one run.
#
#   bash bench/run.sh [SCALE] [MIXED_ROWS]      (defaults: 100, 2000000 -> about 2 GB)
#
# Builds a sample database (pgbench tables at SCALE plus a wide mixed-type
# table), then times, one after the other on the same cluster:
#   snap:    pg_dump -Fc | pg_dump -Fd -j J | pg_dump -Fc -Z0 | zstd -T0 -3 |
#            backstop snap (unencrypted) | backstop snap (age)
#   restore: pg_restore -j J (from the directory dump) | backstop restore (unencrypted) |
#            backstop restore (age)
#   drills:  backstop verify-restore (full) | --archive-only vs age -d | tar -xO | zstd -dc
# and prints wall time, client CPU (user+sys of the client processes; the
# server's CPU is not included), peak RSS of the client, output bytes and
# the ratios the issues set as targets.  Not a test: it never fails CI.
# bench/shapes.sh runs several data shapes side by side, with server CPU.
set -euo pipefail

SCALE=${1:-100}
MIXED_ROWS=${2:-2000000}
JOBS=${JOBS:-$(nproc)}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
BIN=$ROOT/$BUILD/bin
PGBIN=${BS_PGBIN:-/usr/lib/postgresql/15/bin}
WORK=${BENCH_DIR:-/var/tmp/backstop-bench}
PGUSER_OS=${BENCH_OS_USER:-backstop-test}
PORT=${BENCH_PORT:-55499}

command -v /usr/bin/time >/dev/null && command -v bc >/dev/null || apt-get install -y -qq time bc >/dev/null

id "$PGUSER_OS" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$PGUSER_OS"
mkdir -p "$WORK"
chown "$PGUSER_OS" "$WORK"
export PGHOST=$WORK PGPORT=$PORT PGUSER=postgres

as_pg() { runuser -u "$PGUSER_OS" -- "$@"; }

stop_cluster() { as_pg "$PGBIN/pg_ctl" -D "$WORK/data" -m fast stop >/dev/null 2>&1 || true; }
trap stop_cluster EXIT

if [ ! -f "$WORK/data/PG_VERSION" ]; then
	as_pg "$PGBIN/initdb" -D "$WORK/data" -U postgres --auth=trust >/dev/null
fi
as_pg "$PGBIN/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w start -o \
	"-k $WORK -p $PORT -c listen_addresses='' -c shared_buffers=512MB -c max_wal_size=8GB \
	 -c maintenance_work_mem=512MB -c checkpoint_timeout=30min -c max_connections=50" >/dev/null

DB=bench_s${SCALE}_m${MIXED_ROWS}
if [ "$(psql -d postgres -Atc "select count(*) from pg_database where datname='$DB'")" = 0 ]; then
	echo "building $DB (pgbench scale $SCALE + $MIXED_ROWS mixed rows) ..." >&2
	createdb "$DB"
	"$PGBIN/pgbench" -i -q -s "$SCALE" "$DB" >/dev/null 2>&1
	psql -q -d "$DB" -v ON_ERROR_STOP=1 <<SQL
CREATE TABLE mixed (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  label text, doc jsonb, at timestamptz, amount numeric(14,2), raw bytea,
  tags int[], uid uuid, flag boolean, note text);
INSERT INTO mixed (label, doc, at, amount, raw, tags, uid, flag, note)
SELECT md5(i::text) || repeat('x', i % 40),
       jsonb_build_object('k', i, 'v', md5(i::text), 'nested', jsonb_build_object('a', i % 7)),
       timestamptz '2026-01-01' + i * interval '17 seconds',
       (i % 1000000) / 100.0, decode(md5(i::text), 'hex'), ARRAY[i, i % 13, i % 101],
       md5(i::text)::uuid, i % 3 = 0, CASE WHEN i % 5 = 0 THEN NULL ELSE 'note ' || i END
FROM generate_series(1, $MIXED_ROWS) i;
CREATE INDEX ON mixed (at);
CREATE INDEX ON mixed USING gin (doc);
VACUUM ANALYZE;
SQL
fi
SIZE=$(psql -d "$DB" -Atc "select pg_size_pretty(pg_database_size('$DB'))")

OUT=$WORK/out
rm -rf "$OUT"
mkdir -p "$OUT"
"$BIN/backstop-keygen" -o "$OUT/key.txt" >"$OUT/key.pub"
"$BIN/backstop-repo" init --repo "$OUT/repo-plain" >/dev/null 2>&1
"$BIN/backstop-repo" init --repo "$OUT/repo-age" >/dev/null 2>&1
RESULTS=$OUT/results.tsv
: >"$RESULTS"

# measure NAME BYTES_PATH -- command...   (bytes: size of a file or directory, or - )
measure() {
	local name=$1 path=$2
	shift 3
	sync
	local t0 t1
	t0=$(date +%s.%N)
	/usr/bin/time -f "%U %S %M" -o "$OUT/time.txt" "$@" >"$OUT/cmd.out" 2>"$OUT/cmd.err" || {
		echo "FAILED: $name" >&2
		tail -5 "$OUT/cmd.err" >&2
		printf '%s\tFAILED\t-\t-\t-\n' "$name" >>"$RESULTS"
		return 0
	}
	t1=$(date +%s.%N)
	local u s m bytes=-
	read -r u s m <"$OUT/time.txt"
	[ "$path" != - ] && bytes=$(du -sb "$path" | cut -f1)
	printf '%s\t%.2f\t%.2f\t%.0f\t%s\n' "$name" "$(echo "$t1 - $t0" | bc)" "$(echo "$u + $s" | bc)" \
		"$(echo "$m / 1024" | bc)" "$bytes" >>"$RESULTS"
}

dropdb_q() { dropdb --if-exists "$1" >/dev/null 2>&1 || true; }

echo "benchmarking on $DB ($SIZE), jobs=$JOBS ..." >&2
measure "pg_dump -Fc" "$OUT/dump.fc" -- "$PGBIN/pg_dump" -Fc -f "$OUT/dump.fc" "$DB"
measure "pg_dump -Fd -j $JOBS" "$OUT/dump.dir" -- "$PGBIN/pg_dump" -Fd -j "$JOBS" -f "$OUT/dump.dir" "$DB"
measure "pg_dump -Fc -Z0 | zstd -T0 -3" "$OUT/dump.zst" -- bash -c \
	"set -o pipefail; '$PGBIN/pg_dump' -Fc -Z0 '$DB' | zstd -q -T0 -3 -o '$OUT/dump.zst'"
measure "backstop snap (no encryption)" "$OUT/repo-plain/archives" -- \
	"$BIN/backstop-snap" -q --db "dbname=$DB" --repo "$OUT/repo-plain" --jobs "$JOBS" --no-encryption
measure "backstop snap (age)" "$OUT/repo-age/archives" -- \
	"$BIN/backstop-snap" -q --db "dbname=$DB" --repo "$OUT/repo-age" --jobs "$JOBS" --recipient "$(cat "$OUT/key.pub")"

dropdb_q r_pgrestore
createdb r_pgrestore
measure "pg_restore -j $JOBS (directory dump)" - -- "$PGBIN/pg_restore" -j "$JOBS" -d r_pgrestore "$OUT/dump.dir"
dropdb_q r_pgrestore
dropdb_q r_plain
measure "backstop restore (no encryption)" - -- "$BIN/backstop-restore" -q latest --repo "$OUT/repo-plain" \
	--target "dbname=r_plain" --create --jobs "$JOBS"
dropdb_q r_plain
dropdb_q r_age
measure "backstop restore (age)" - -- "$BIN/backstop-restore" -q latest --repo "$OUT/repo-age" \
	--identity "$OUT/key.txt" --target "dbname=r_age" --create --jobs "$JOBS"
dropdb_q r_age

if [ -x "$BIN/backstop-verify-restore" ]; then
	measure "backstop verify-restore (full drill, age)" - -- "$BIN/backstop-verify-restore" -q latest \
		--repo "$OUT/repo-age" --identity "$OUT/key.txt" --scratch "dbname=postgres" --jobs "$JOBS"
	measure "backstop verify-restore --archive-only (age)" - -- "$BIN/backstop-verify-restore" -q latest \
		--repo "$OUT/repo-age" --identity "$OUT/key.txt" --archive-only
	ARCH=$(ls "$OUT"/repo-age/archives/*.tar.age | head -1)
	measure "age -d | tar -xO | zstd -dc (unpack only)" - -- bash -c \
		"set -o pipefail; age -d -i '$OUT/key.txt' '$ARCH' | tar -xO --wildcards 'data/*' | zstd -dcq > /dev/null"
fi

echo
echo "database: $DB ($SIZE), client jobs: $JOBS, cores: $(nproc)"
printf '%-48s %9s %9s %9s %14s\n' operation wall_s cpu_s rss_MiB bytes
while IFS=$'\t' read -r n w c r b; do
	printf '%-48s %9s %9s %9s %14s\n' "$n" "$w" "$c" "$r" "$b"
done <"$RESULTS"

wall() { awk -F'\t' -v n="$1" '$1 == n { print $2 }' "$RESULTS"; }
bytes() { awk -F'\t' -v n="$1" '$1 == n { print $5 }' "$RESULTS"; }
ratio() {
	local a b
	a=$(wall "$1")
	b=$(wall "$2")
	if [ -n "$a" ] && [ -n "$b" ] && [ "$a" != FAILED ] && [ "$b" != FAILED ]; then
		printf '  %-70s %6.2f  (target %s)\n' "$1 / $2" "$(echo "scale=4; $a / $b" | bc)" "$3"
	fi
}
echo
echo "ratios (wall time):"
ratio "backstop snap (age)" "pg_dump -Fc" "<= 0.5"
ratio "backstop snap (age)" "pg_dump -Fd -j $JOBS" "<= 1.0"
ratio "backstop snap (age)" "pg_dump -Fc -Z0 | zstd -T0 -3" "<= 1.0"
ratio "backstop snap (age)" "backstop snap (no encryption)" "<= 1.10"
ratio "backstop restore (age)" "pg_restore -j $JOBS (directory dump)" "<= 0.8"
ratio "backstop restore (age)" "backstop restore (no encryption)" "<= 1.10"
ratio "backstop verify-restore (full drill, age)" "backstop restore (age)" "<= 1.3"
ratio "backstop verify-restore --archive-only (age)" "age -d | tar -xO | zstd -dc (unpack only)" "<= 1.5"
b1=$(bytes "backstop snap (age)")
b2=$(bytes "pg_dump -Fc")
[ -n "$b1" ] && [ -n "$b2" ] && [ "$b1" != - ] &&
	printf '  %-70s %6.2f  (target <= 1.0)\n' "size: backstop snap (age) / pg_dump -Fc" "$(echo "scale=4; $b1 / $b2" | bc)"
echo "(peak RSS target for snap and restore: < 256 MiB)"
