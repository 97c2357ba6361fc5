#!/usr/bin/env bash
# bench/shapes.sh - backstop against the anchors on several data shapes, in one run.
#
#   bash bench/shapes.sh [MB_PER_SHAPE]        (default 1024)
#
# Environment:
#   SHAPES   which shapes, in order (default: "pgbench saas wide small toast gin multi")
#   OPS      any of "snap restore drill" (default: all three)
#   REPEAT   runs of every operation (default 3); the table shows the median
#   JOBS     client jobs (default: number of cores)
#   NSMALL   tables in the "small" shape (default 5000, a few rows each; that
#            shape is about the number of tables, not bytes: MB_PER_SHAPE is
#            ignored there)
#   ANCHORS  0: skip the pg_dump runs of OPS=snap (to compare two snaps only)
#   COMPARE_SNAP  another backstop-snap binary (an older build, say) timed
#            beside this one as "backstop snap (age, compare)"
#   BUILD, BS_PGBIN, BENCH_DIR, BENCH_OS_USER, BENCH_PORT as in bench/run.sh;
#   BENCH_SERVER_OPTS replaces the server settings below
#
# Shapes (one database each, built once and kept in BENCH_DIR):
#   pgbench  narrow compressible rows: pgbench_accounts and friends
#   saas     a small-SaaS schema: customers, events (jsonb), invoices
#            (numeric), tickets (text), attachments (bytea); btree, GIN and
#            foreign keys
#   wide     bench/run.sh's wide mixed-type rows (text, jsonb, timestamptz,
#            numeric, bytea, int[], uuid, boolean; btree and GIN)
#   small    NSMALL tables of 5 rows each
#   toast    one table of ~16 KiB text documents (out of line, TOAST)
#   gin      a jsonb events table with a GIN index
#   multi    four narrow tables of a quarter each (pgbench_accounts rows):
#            as many comparable tables as jobs, where splitting cannot pay
#   pgbgin   issue 12's shape B: pgbench (two thirds) plus the gin shape's
#            events table with its GIN index (one third) in one database,
#            where a restore can build one table's indexes while the other
#            loads (not in the default list)
#
# Operations, each timed REPEAT times:
#   snap:    pg_dump -Fc | pg_dump -Fd -j J | backstop snap (age)
#   restore: pg_restore -j J (from the directory dump) | backstop restore (age)
#   drill:   backstop verify-restore (age): a full drill, restore and checks
#
# backstop runs with -v; its phase times (snap: when each step was done;
# restore and drill: each step's duration) are printed per run after the
# table, from the logs kept in $BENCH_DIR/out/log/.
#
# Reported per operation: wall time, client CPU (user+sys of the command and
# its children, /usr/bin/time), SERVER CPU and output bytes.  Server CPU is
# the growth, over the operation, of
#     utime+stime+cutime+cstime of the postmaster (/proc/PID/stat)
#   + utime+stime of every live child of the postmaster
# Backends are children of the postmaster; when one exits the postmaster
# reaps it and the kernel adds its CPU to the postmaster's cutime/cstime, so
# the sum counts every backend of the operation whether it is still alive at
# the second sample or not (the bench waits for the operation's backends to
# be gone first).  It includes the server's background processes
# (checkpointer, WAL writer...): the cluster runs with autovacuum off so
# that what is measured is the operation's own work.
#
# Not a test: it never fails CI.
set -euo pipefail

MB=${1:-1024}
SHAPES=${SHAPES:-pgbench saas wide small toast gin multi}
OPS=${OPS:-snap restore drill}
REPEAT=${REPEAT:-3}
JOBS=${JOBS:-$(nproc)}
NSMALL=${NSMALL:-5000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
BIN=$ROOT/$BUILD/bin
PGBIN=${BS_PGBIN:-/usr/lib/postgresql/15/bin}
WORK=${BENCH_DIR:-/var/tmp/backstop-bench}
PGUSER_OS=${BENCH_OS_USER:-backstop-test}
PORT=${BENCH_PORT:-55499}
SERVER_OPTS=${BENCH_SERVER_OPTS:-"-c shared_buffers=512MB -c max_wal_size=8GB -c maintenance_work_mem=512MB -c checkpoint_timeout=30min -c max_connections=50 -c autovacuum=off"}

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
as_pg "$PGBIN/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w start \
	-o "-k $WORK -p $PORT -c listen_addresses='' $SERVER_OPTS" >/dev/null
PM=$(head -1 "$WORK/data/postmaster.pid")
TCK=$(getconf CLK_TCK)

q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# ---------------------------------------------------------------- shapes
build_pgbench() { "$PGBIN/pgbench" -i -q -s "$(((MB + 14) / 15))" "$1" >/dev/null 2>&1; }

build_saas() {
	local n=$((MB * 2050)) # ~500 bytes of rows and indexes per "n" over all tables
	q -d "$1" <<SQL
CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL, email text UNIQUE,
  plan text, created timestamptz, settings jsonb);
CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id bigint REFERENCES customers, kind text, at timestamptz, payload jsonb);
CREATE TABLE invoices (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers,
  issued date, amount numeric(12,2), tax numeric(12,2), status text, lines jsonb);
CREATE TABLE tickets (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers,
  subject text, body text, opened timestamptz, closed timestamptz, priority int);
CREATE TABLE attachments (id bigint PRIMARY KEY, ticket_id bigint REFERENCES tickets,
  filename text, mime text, content bytea);
INSERT INTO customers SELECT i, 'customer ' || i, 'c' || i || '@example.com',
  (ARRAY['free','pro','team','enterprise'])[1 + i % 4], timestamptz '2024-01-01' + i * interval '1 min',
  jsonb_build_object('tz', 'UTC', 'seats', i % 50, 'flags', jsonb_build_array(i % 2 = 0, i % 3 = 0))
  FROM generate_series(1, $n / 20) i;
INSERT INTO events (customer_id, kind, at, payload) SELECT 1 + i % ($n / 20),
  (ARRAY['login','view','click','purchase','logout'])[1 + i % 5], timestamptz '2025-01-01' + i * interval '3 s',
  jsonb_build_object('path', '/p/' || (i % 997), 'ms', i % 1500, 'ua', 'agent ' || (i % 37), 'ref', md5(i::text))
  FROM generate_series(1, $n) i;
INSERT INTO invoices SELECT i, 1 + i % ($n / 20), date '2024-01-01' + i % 700, (i % 100000) / 7.0,
  (i % 100000) / 70.0, (ARRAY['open','paid','void'])[1 + i % 3],
  jsonb_build_array(jsonb_build_object('sku', i % 300, 'qty', 1 + i % 4)) FROM generate_series(1, $n / 5) i;
INSERT INTO tickets SELECT i, 1 + i % ($n / 20), 'subject ' || md5(i::text),
  repeat('the quick brown fox ' || i || ' ', 8 + i % 20), timestamptz '2025-01-01' + i * interval '1 min',
  CASE WHEN i % 4 = 0 THEN NULL ELSE timestamptz '2025-01-02' + i * interval '1 min' END, i % 5
  FROM generate_series(1, $n / 10) i;
INSERT INTO attachments SELECT i, 1 + i % ($n / 10), 'file' || i || '.bin', 'application/octet-stream',
  decode(repeat(md5(i::text), 8 + i % 24), 'hex') FROM generate_series(1, $n / 20) i;
CREATE INDEX ON events (customer_id, at);
CREATE INDEX ON events USING gin (payload);
CREATE INDEX ON invoices (customer_id);
CREATE INDEX ON invoices (status, issued);
CREATE INDEX ON tickets (customer_id);
CREATE INDEX ON attachments (ticket_id);
SQL
}

build_wide() {
	local rows=$((MB * 2000))
	q -d "$1" <<SQL
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
FROM generate_series(1, $rows) i;
CREATE INDEX ON mixed (at);
CREATE INDEX ON mixed USING gin (doc);
SQL
}

build_small() {
	q -d "$1" <<SQL
DO \$\$
BEGIN
  FOR i IN 1..$NSMALL LOOP
    EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY, name text, v numeric)', i);
    EXECUTE format('INSERT INTO t%s SELECT g, %L || g, g * 1.5 FROM generate_series(1, 5) g', i, 'row ');
    IF i % 500 = 0 THEN COMMIT; END IF;
  END LOOP;
END
\$\$;
SQL
}

build_toast() {
	local rows=$((MB * 60)) # ~16 KiB of hex text per row, stored out of line
	q -d "$1" <<SQL
CREATE TABLE docs (id bigint PRIMARY KEY, title text, body text);
ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL;
INSERT INTO docs SELECT i, 'doc ' || i,
  (SELECT string_agg(md5((i * 1000 + g)::text), '') FROM generate_series(1, 512) g)
  FROM generate_series(1, $rows) i;
SQL
}

build_gin() {
	local rows=$((MB * 1800))
	q -d "$1" <<SQL
CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at timestamptz, doc jsonb);
INSERT INTO events (at, doc) SELECT timestamptz '2025-01-01' + i * interval '1 s',
  jsonb_build_object('user', i % 50000, 'kind', (ARRAY['a','b','c','d'])[1 + i % 4],
    'tags', jsonb_build_array('t' || (i % 100), 't' || (i % 7)), 'v', i % 1000, 'note', md5(i::text))
  FROM generate_series(1, $rows) i;
CREATE INDEX ON events USING gin (doc);
SQL
}

build_pgbgin() {
	"$PGBIN/pgbench" -i -q -s "$(((MB * 2 / 3 + 14) / 15))" "$1" >/dev/null 2>&1 || return 1
	(MB=$((MB / 3)) && build_gin "$1")
}
build_multi() {
	local rows=$((MB * 7600 / 4)) i
	for i in 1 2 3 4; do
		q -d "$1" <<SQL
CREATE TABLE accounts$i (aid int, bid int, abalance int, filler char(84));
INSERT INTO accounts$i SELECT g, 1 + g / 100000, 0, '' FROM generate_series(1, $rows) g;
ALTER TABLE accounts$i ADD PRIMARY KEY (aid);
SQL
	done
}

shape_db() {
	case $1 in
	small) echo "shape_small_n$NSMALL" ;;
	*) echo "shape_${1}_${MB}mb" ;;
	esac
}

for s in $SHAPES; do
	db=$(shape_db "$s")
	if [ "$(psql -X -d postgres -Atc "select count(*) from pg_database where datname='$db'")" = 0 ]; then
		echo "building $db ..." >&2
		createdb "$db"
		"build_$s" "$db" || { dropdb "$db"; echo "building $db failed" >&2; exit 1; }
		q -d "$db" -c "VACUUM (FREEZE, ANALYZE)" -c CHECKPOINT
	fi
done

# ---------------------------------------------------------------- measuring
OUT=$WORK/out
rm -rf "$OUT"
mkdir -p "$OUT/log"
"$BIN/backstop-keygen" -o "$OUT/key.txt" >"$OUT/key.pub"
RESULTS=$OUT/shapes.tsv # shape, operation, run, wall, client cpu, server cpu, rss MiB, bytes
: >"$RESULTS"

# CPU ticks of the server so far (see the header)
server_ticks() {
	local t=0 f c
	# fields after the ")" of comm: 12 utime, 13 stime, 14 cutime, 15 cstime
	f=$(sed 's/^.*) //' "/proc/$PM/stat")
	t=$(awk '{ print $12 + $13 + $14 + $15 }' <<<"$f")
	for c in $(ps -o pid= --ppid "$PM"); do
		f=$(sed 's/^.*) //' "/proc/$c/stat" 2>/dev/null) || continue
		t=$((t + $(awk '{ print $12 + $13 }' <<<"$f")))
	done
	echo "$t"
}

# wait (bounded) until no client backend is left but ours
backends_gone() {
	local i
	for i in $(seq 50); do
		[ "$(psql -X -d postgres -Atc "select count(*) from pg_stat_activity
			where backend_type = 'client backend' and pid <> pg_backend_pid()")" = 0 ] && return 0
		sleep 0.1
	done
}

# measure SHAPE NAME RUN BYTES_PATH -- command...
measure() {
	local shape=$1 name=$2 run=$3 path=$4
	shift 5
	sync
	backends_gone
	local t0 t1 s0 s1 u s m bytes=-
	s0=$(server_ticks)
	t0=$(date +%s.%N)
	if ! /usr/bin/time -f "%U %S %M" -o "$OUT/time.txt" "$@" >"$OUT/cmd.out" 2>"$OUT/cmd.err"; then
		echo "FAILED: $shape: $name" >&2
		tail -5 "$OUT/cmd.err" >&2
		printf '%s\t%s\t%s\tFAILED\t-\t-\t-\t-\n' "$shape" "$name" "$run" >>"$RESULTS"
		return 0
	fi
	t1=$(date +%s.%N)
	backends_gone
	s1=$(server_ticks)
	read -r u s m <"$OUT/time.txt"
	cp "$OUT/cmd.err" "$OUT/log/$shape.$(tr -c 'a-z0-9\n' _ <<<"$name").$run"
	[ "$path" != - ] && bytes=$(du -sb "$path" | cut -f1)
	printf '%s\t%s\t%s\t%.2f\t%.2f\t%.2f\t%.0f\t%s\n' "$shape" "$name" "$run" "$(echo "$t1 - $t0" | bc)" \
		"$(echo "$u + $s" | bc)" "$(echo "scale=2; ($s1 - $s0) / $TCK" | bc)" "$(echo "$m / 1024" | bc)" \
		"$bytes" >>"$RESULTS"
}

dropdb_q() { dropdb --if-exists "$1" >/dev/null 2>&1 || true; }

# snap_compare SHAPE DB RUN: COMPARE_SNAP into a repository of its own
snap_compare() {
	rm -rf "$OUT/repo-cmp"
	"$BIN/backstop-repo" init --repo "$OUT/repo-cmp" >/dev/null 2>&1
	measure "$1" "backstop snap (age, compare)" "$3" "$OUT/repo-cmp/archives" -- \
		"$COMPARE_SNAP" -v --db "dbname=$2" --repo "$OUT/repo-cmp" --jobs "$JOBS" \
		--recipient "$(cat "$OUT/key.pub")"
	rm -rf "$OUT/repo-cmp"
}

for s in $SHAPES; do
	db=$(shape_db "$s")
	size=$(psql -X -d "$db" -Atc "select pg_database_size('$db')")
	echo "$s: $db, $((size / 1024 / 1024)) MB" >&2
	echo "$s $db $size" >>"$OUT/sizes.txt"
	for run in $(seq "$REPEAT"); do
		if [[ " $OPS " == *" snap "* ]] || [ "$run" = 1 ]; then
			rm -rf "$OUT/dump.fc" "$OUT/dump.dir" "$OUT/repo-age"
			"$BIN/backstop-repo" init --repo "$OUT/repo-age" >/dev/null 2>&1
		fi
		if [[ " $OPS " == *" snap "* ]]; then
			if [ "${ANCHORS:-1}" = 1 ]; then
				measure "$s" "pg_dump -Fc" "$run" "$OUT/dump.fc" -- "$PGBIN/pg_dump" -Fc -f "$OUT/dump.fc" "$db"
				measure "$s" "pg_dump -Fd -j $JOBS" "$run" "$OUT/dump.dir" -- \
					"$PGBIN/pg_dump" -Fd -j "$JOBS" -f "$OUT/dump.dir" "$db"
			fi
			# with COMPARE_SNAP, the two snaps take turns going first
			[ -n "${COMPARE_SNAP:-}" ] && [ $((run % 2)) = 0 ] && snap_compare "$s" "$db" "$run"
			measure "$s" "backstop snap (age)" "$run" "$OUT/repo-age/archives" -- \
				"$BIN/backstop-snap" -v --db "dbname=$db" --repo "$OUT/repo-age" --jobs "$JOBS" \
				--recipient "$(cat "$OUT/key.pub")"
			[ -n "${COMPARE_SNAP:-}" ] && [ $((run % 2)) = 1 ] && snap_compare "$s" "$db" "$run"
		elif [ "$run" = 1 ]; then
			"$PGBIN/pg_dump" -Fd -j "$JOBS" -f "$OUT/dump.dir" "$db"
			"$BIN/backstop-snap" -q --db "dbname=$db" --repo "$OUT/repo-age" --jobs "$JOBS" \
				--recipient "$(cat "$OUT/key.pub")" >/dev/null
		fi
		if [[ " $OPS " == *" restore "* ]]; then
			dropdb_q r_shape
			createdb r_shape
			measure "$s" "pg_restore -j $JOBS" "$run" - -- "$PGBIN/pg_restore" -j "$JOBS" -d r_shape "$OUT/dump.dir"
			dropdb_q r_shape
			measure "$s" "backstop restore (age)" "$run" - -- "$BIN/backstop-restore" -v latest \
				--repo "$OUT/repo-age" --identity "$OUT/key.txt" --target "dbname=r_shape" --create --jobs "$JOBS"
			dropdb_q r_shape
		fi
		if [[ " $OPS " == *" drill "* ]]; then
			measure "$s" "backstop drill (age)" "$run" - -- "$BIN/backstop-verify-restore" -v latest \
				--repo "$OUT/repo-age" --identity "$OUT/key.txt" --scratch "dbname=postgres" --jobs "$JOBS"
		fi
	done
done

# ---------------------------------------------------------------- report
echo
echo "client jobs: $JOBS, cores: $(nproc), runs: $REPEAT (medians; all runs in $RESULTS)"
awk -F'\t' -v sizes="$OUT/sizes.txt" '
function median(list,   a, n, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j] + 0 < a[j - 1] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
BEGIN { while ((getline l < sizes) > 0) { split(l, f, " "); mb[f[1]] = int(f[3] / 1048576) } }
$4 == "FAILED" { failed[$1 SUBSEP $2]++; next }
{
	k = $1 SUBSEP $2
	if (!(k in seen)) { seen[k] = 1; order[++n] = k }
	w[k] = w[k] " " $4; c[k] = c[k] " " $5; sv[k] = sv[k] " " $6; r[k] = r[k] " " $7; b[k] = $8
	all[k] = all[k] (all[k] == "" ? "" : " ") $4
}
END {
	printf "%-8s %6s  %-28s %8s %8s %8s %6s %13s  %s\n", "shape", "MB", "operation", "wall_s", "client_s", "server_s", "rss", "bytes", "wall of each run"
	for (i = 1; i <= n; i++) {
		split(order[i], kk, SUBSEP)
		printf "%-8s %6s  %-28s %8.2f %8.2f %8.2f %6d %13s  %s%s\n", kk[1], mb[kk[1]], kk[2], median(w[order[i]]),
			median(c[order[i]]), median(sv[order[i]]), median(r[order[i]]), b[order[i]], all[order[i]],
			(order[i] in failed) ? " (" failed[order[i]] " FAILED)" : ""
	}
}' "$RESULTS" | tee "$OUT/shapes.txt"

echo
echo "ratios of medians (wall; server CPU):"
for s in $SHAPES; do
	awk -F'\t' -v s="$s" -v j="$JOBS" '
	function median(list,   a, n, i, jj, t) {
		n = split(list, a, " ")
		for (i = 2; i <= n; i++) for (jj = i; jj > 1 && a[jj] + 0 < a[jj - 1] + 0; jj--) { t = a[jj]; a[jj] = a[jj - 1]; a[jj - 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	$1 == s && $4 != "FAILED" { w[$2] = w[$2] " " $4; sv[$2] = sv[$2] " " $6 }
	function ratio(a, b, target) {
		if (w[a] == "" || w[b] == "" || median(w[b]) == 0) return
		printf "  %-8s %-22s / %-28s %5.2f (target %s); server CPU %5.2f\n", s, a, b,
			median(w[a]) / median(w[b]), target, (median(sv[b]) > 0 ? median(sv[a]) / median(sv[b]) : 0)
	}
	END {
		ratio("backstop snap (age)", "pg_dump -Fc", "<= 0.7")
		ratio("backstop snap (age)", "pg_dump -Fd -j " j, "<= 1.0")
		ratio("backstop restore (age)", "pg_restore -j " j, "<= 0.9")
		ratio("backstop drill (age)", "backstop restore (age)", "<= 1.2")
		ratio("backstop snap (age)", "backstop snap (age, compare)", "-")
	}' "$RESULTS"
done | tee -a "$OUT/shapes.txt"

# The phases of every backstop run, from its -v log: snap says when each
# step was done ("at"), restore and a drill how long each took.
echo
echo "phases (s):"
for s in $SHAPES; do
	for f in "$OUT"/log/"$s".backstop_*; do
		[ -f "$f" ] || continue
		printf '  %-8s %-34s %s\n' "$s" "${f#"$OUT/log/$s."}" "$(sed -n \
			-e 's/.*snap: \(.*\) at \([0-9.]*\) s$/\1 @\2;/p' \
			-e 's/.*restore: \([a-z -]*\): \([0-9.]*\) s$/\1 \2;/p' \
			-e 's/.*drill: \([a-z -]*\): \([0-9.]*\) s$/\1 \2;/p' "$f" |
			awk '{ sub(/;$/, ""); if ($NF !~ /^@?0\.0[0-4]/) printf "%s%s", (n++ ? "; " : ""), $0 } END { print "" }')"
	done
done | tee -a "$OUT/shapes.txt"
