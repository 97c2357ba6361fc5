#!/usr/bin/env bash
# verify_restore.sh - the must-hold behaviour of verify-restore (docs/drill.md),
# run against the real binaries and a real PostgreSQL 15 cluster:
#
#   * --help, a bad option, missing arguments: exit 0 / 2
#   * a drill of a good snapshot passes, records RTO and RPO, leaves nothing;
#     --json, --junit, `list`, and `snap list --json` shows the verdict
#   * --archive-only and --all --archive-only
#   * a table of damaged archives (flipped byte in a data chunk, truncated,
#     missing chunk member, extra member, manifest disagreeing with the data
#     on a row count and on a digest, wrong key): each fails with the cause
#     named, in both modes, and leaves no scratch database
#   * a restored database that differs from the manifest (--keep, tamper,
#     --reverify): changed row, deleted row, dropped index, changed sequence
#   * smoke queries and limits from the drill policy
#   * a drill killed mid-restore (kill -9) leaves a database the next drill
#     removes; SIGTERM / SIGINT drop it at once (exit 143 / 130)
#   * a drill never touches a database it did not create, whatever the names
#   * scratch server down: exit 3, nothing recorded
#
# Run alone with `bash tests/integration/verify_restore.sh` (starts its own
# cluster) or through tests/run.sh.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BS_CMD_TIMEOUT=${BS_CMD_TIMEOUT_VERIFY_RESTORE:-180}
REPO=$BS_TMP/repo
"$BS_BIN/backstop" repo init --repo "$REPO" -q || exit 1
SCRATCH=$(db_conninfo postgres)

# ------------------------------------------------------------------ helpers

snap() {
	local repo=$1 db=$2
	shift 2
	bs repo init --repo "$repo" -q || return
	bs snap --repo "$repo" --db "$(db_conninfo "$db")" --no-encryption "$@"
}

# vr ARGS..: verify-restore against $REPO (override with --repo later in ARGS).
vr() {
	bs verify-restore --repo "$REPO" "$@"
}

# drill_dbs: the scratch databases on the cluster, one per line.
drill_dbs() {
	pg postgres "select datname from pg_database where datname like 'backstop\_drill\_%' order by 1"
}

expect_no_drill_db() {
	local left
	left=$(drill_dbs)
	if [ -n "$left" ]; then
		t_fail "scratch databases left behind: $left"
		return 1
	fi
}

# json_get FILE JQ-EXPR
json_get() { jq -r "$2" "$1"; }

# The output of the last run_cmd, both streams, for cause checks.
expect_any_contains() {
	if grep -q -i -F -e "$1" "$OUT_FILE" "$ERR_FILE"; then
		_bs_assert 1 "output names '$1'"
	else
		_bs_assert 0 "output names '$1'" "$(_bs_cmd_context)"
	fi
}

# ---------------------------------------------------------------- fixtures

SRC=$(new_db vr_src)
pg_file "$SRC" "$BS_ROOT/tests/data/rich.sql" >/dev/null
SMALL=$(new_db vr_small)
pg "$SMALL" "
	create table t (id serial primary key, v text not null, n int);
	create index t_v_idx on t (v);
	create table other (k int primary key, note text);
	insert into t (v, n) select md5(i::text), i % 97 from generate_series(1, 20000) i;
	insert into other select i, 'note ' || i from generate_series(1, 500) i;
	select lo_from_bytea(0, 'a large object'::bytea);
	create table admins (name text);
	insert into admins values ('root');" >/dev/null

ID_RICH=$(snap "$REPO" "$SRC" 2>/dev/null) || { echo "Bail out! snap of rich failed"; exit 1; }
ID_SMALL=$(snap "$REPO" "$SMALL" --chunk-size 64KiB 2>/dev/null) || { echo "Bail out! snap of small failed"; exit 1; }
diag "snapshots: rich $ID_RICH, small $ID_SMALL"

# ------------------------------------------------------------------- usage

t_help() {
	run_cmd bs verify-restore --help
	expect_exit 0 && expect_stdout_contains "usage: backstop verify-restore" &&
		expect_stdout_contains "--archive-only" && expect_stdout_contains "--reverify"
	run_cmd bs_cmd verify-restore --help
	expect_exit 0
	run_cmd bs verify-restore list --help
	expect_exit 0 && expect_stdout_contains "verify-restore list"
}
run_test "--help exits 0 with usage (also backstop-verify-restore, list --help)" t_help

t_bad_usage() {
	run_cmd bs verify-restore --bogus
	expect_exit 2 && expect_stderr_contains "Try 'backstop verify-restore --help'."
	run_cmd vr
	expect_exit 2 "no snapshot given: exit 2" && expect_stderr_contains "which snapshot"
	run_cmd vr latest --all
	expect_exit 2 "an id with --all: exit 2"
	run_cmd vr latest --archive-only --keep
	expect_exit 2 "--archive-only --keep: exit 2"
	run_cmd vr latest
	expect_exit 2 "no scratch server: exit 2" && expect_stderr_contains "--scratch"
	run_cmd vr 20000101T000000Z-abcdef --scratch "$SCRATCH"
	expect_exit 2 "unknown snapshot: exit 2" && expect_stderr_contains "not found"
	run_cmd vr latest --scratch "$SCRATCH" --stale-grace soon
	expect_exit 2 "bad --stale-grace: exit 2"
	run_cmd vr latest --scratch "$SCRATCH" --policy "$BS_TMP/nope.yaml"
	expect_exit 2 "missing policy file: exit 2"
}
run_test "bad option, missing snapshot/scratch, unknown id: exit 2" t_bad_usage

# ------------------------------------------------------------ a good drill

t_good_drill() {
	local n_before n_after rec
	n_before=$(find "$REPO/drills" -name '*.json' 2>/dev/null | wc -l)
	run_cmd vr "$ID_RICH" --scratch "$SCRATCH" --policy "$BS_ROOT/policies/drill.yaml" --junit "$BS_TMP/junit.xml"
	expect_exit 0 && expect_stdout_contains ": PASS" && expect_stdout_contains "RTO" &&
		expect_stdout_contains "RPO" && expect_stdout_contains "19 tables (0 differ)"
	expect_no_drill_db
	n_after=$(find "$REPO/drills/$ID_RICH" -name '*.json' 2>/dev/null | wc -l)
	check_eq "one drill record more" "$n_after" "$((n_before + 1))"
	rec=$(ls -t "$REPO/drills/$ID_RICH"/*.json 2>/dev/null | head -n 1)
	if [ -n "$rec" ]; then
		check_eq "record verdict" "$(json_get "$rec" .verdict)" pass
		check "record has an RTO in ms" test "$(json_get "$rec" .rto_ms)" -gt 0
		check "record has an RPO in ms" test "$(json_get "$rec" .rpo_ms)" -ge 0
		check_eq "record snapshot" "$(json_get "$rec" .snapshot)" "$ID_RICH"
		check_eq "record tool version" "$(json_get "$rec" .tool_version)" "$(cat "$BS_ROOT/VERSION")"
		check "record has the RTO split" test "$(json_get "$rec" '.phases_ms.data')" -ge 0
	else
		t_fail "no drill record in $REPO/drills/$ID_RICH"
	fi
	if [ -s "$BS_TMP/junit.xml" ]; then
		if command -v xmllint >/dev/null 2>&1; then
			check "JUnit file is well-formed XML" xmllint --noout "$BS_TMP/junit.xml"
		fi
		check "JUnit has a test case per table" grep -q 'name="app.accounts"\|classname="backstop.drill.[^"]*.tables"' "$BS_TMP/junit.xml"
		check "JUnit shows no failure" bash -c "! grep -q '<failure' '$BS_TMP/junit.xml'"
	else
		t_fail "no JUnit file written"
	fi
}
run_test "a drill of a good snapshot passes, records RTO/RPO, leaves no scratch database" t_good_drill

t_json_and_lists() {
	run_cmd vr "$ID_SMALL" --scratch "$SCRATCH" --json
	expect_exit 0
	check_eq "--json verdict" "$(jq -r .verdict "$OUT_FILE")" pass
	check "--json has rto_ms" test "$(jq -r .rto_ms "$OUT_FILE")" -gt 0
	check_eq "--json lists every table" "$(jq -r '.tables | length' "$OUT_FILE")" 3
	check_eq "--json scratch database dropped" "$(jq -r .scratch.kept "$OUT_FILE")" false
	run_cmd vr list --json
	expect_exit 0
	check "list --json holds the drills" test "$(jq -r '.drills | length' "$OUT_FILE")" -ge 2
	check_eq "list --json: the small snapshot's drill passed" \
		"$(jq -r --arg s "$ID_SMALL" '[.drills[] | select(.snapshot == $s)][-1].verdict' "$OUT_FILE")" pass
	run_cmd vr list
	expect_exit 0 && expect_stdout_contains "$ID_SMALL"
	run_cmd bs snap list --repo "$REPO" --json
	expect_exit 0
	check_eq "snap list --json: drill verdict of the snapshot" \
		"$(jq -r --arg s "$ID_SMALL" '.snapshots[] | select(.id == $s) | .drill.verdict' "$OUT_FILE")" pass
}
run_test "--json report; verify-restore list [--json]; snap list --json shows the drill" t_json_and_lists

t_archive_only() {
	run_cmd vr "$ID_RICH" --archive-only
	expect_exit 0 && expect_stdout_contains "archive check of snapshot $ID_RICH" && expect_stdout_contains "PASS"
	run_cmd vr --all --archive-only --json
	expect_exit 0
	check_eq "--all checks every snapshot" "$(jq -r '.drills | length' "$OUT_FILE")" 2
	check_eq "--all: all passed" "$(jq -r .passed "$OUT_FILE")" 2
	expect_no_drill_db
}
run_test "--archive-only and --all --archive-only pass on good archives" t_archive_only

# --------------------------------------------------------- damaged archives

# tarfix REPO ID ACTION: manipulate the archive of ID in REPO (unencrypted).
cat >"$BS_TMP/tarfix.py" <<'EOF'
import json, sys, tarfile, io, os

repo, sid, action = sys.argv[1], sys.argv[2], sys.argv[3]
path = os.path.join(repo, "archives", sid + ".tar")

def members():
    with tarfile.open(path, "r:") as t:
        return [(m, t.extractfile(m).read() if m.isfile() else None) for m in t.getmembers()]

def rewrite(items):
    tmp = path + ".new"
    with tarfile.open(tmp, "w:", format=tarfile.PAX_FORMAT) as t:
        for m, data in items:
            m.size = len(data)
            t.addfile(m, io.BytesIO(data))
    os.replace(tmp, path)

def big_data_member(ms):
    for m, d in ms:
        if m.name.startswith("data/") and m.size > 200:
            return m
    raise SystemExit("no data member")

if action == "flip":
    with tarfile.open(path, "r:") as t:
        m = next(m for m in t.getmembers() if m.name.startswith("data/") and m.size > 200)
        off = m.offset_data + m.size // 2
    with open(path, "r+b") as f:
        f.seek(off)
        b = f.read(1)
        f.seek(off)
        f.write(bytes([b[0] ^ 0x5A]))
    print(m.name)
elif action == "truncate":
    size = os.path.getsize(path)
    os.truncate(path, size * 6 // 10)
elif action == "drop-chunk":
    ms = members()
    # a chunk of a table with several chunks
    names = [m.name for m, _ in ms if m.name.startswith("data/")]
    tables = {}
    for n in names:
        tables.setdefault(n.split("/")[1], []).append(n)
    victim = next(v[1] for v in tables.values() if len(v) > 1)
    rewrite([(m, d) for m, d in ms if m.name != victim])
    print(victim)
elif action == "extra":
    ms = members()
    out = []
    for m, d in ms:
        if m.name == "manifest.json":
            x = tarfile.TarInfo("notes/extra.txt")
            x.mtime = m.mtime
            out.append((x, b"not part of the snapshot\n"))
        out.append((m, d))
    rewrite(out)
elif action in ("rows", "digest"):
    ms = members()
    out = []
    for m, d in ms:
        if m.name == "manifest.json":
            man = json.loads(d)
            t = next(t for t in man["tables"] if t["rows"] > 0 and t["chunks"])
            c = t["chunks"][0]
            if action == "rows":
                c["rows"] += 1
                t["rows"] += 1
                man["totals"]["rows"] += 1
            else:
                for o in (c, t):
                    o["digest"] = "%032x" % ((int(o["digest"], 16) + 1) % (1 << 128))
            print("%s.%s" % (t["schema"], t["name"]))
            d = json.dumps(man).encode()
        out.append((m, d))
    rewrite(out)
else:
    raise SystemExit("unknown action " + action)
EOF

# damaged_repo NAME ACTION: a copy of the repository with the small
# snapshot's archive damaged; prints what python printed.
damaged_repo() {
	local dir=$BS_TMP/dmg-$1
	rm -rf "$dir"
	cp -a "$REPO" "$dir"
	rm -rf "$dir/drills"
	python3 "$BS_TMP/tarfix.py" "$dir" "$ID_SMALL" "$2"
}

# t_damaged NAME ACTION CAUSE: both modes fail (exit 1) naming CAUSE, no
# scratch database remains, and the failure is recorded.
t_damaged() {
	local name=$1 action=$2 cause=$3 dir=$BS_TMP/dmg-$1 what
	what=$(damaged_repo "$name" "$action") || { t_fail "could not damage the archive ($action)"; return 1; }
	[ -z "$what" ] || diag "$name: $what"
	run_cmd bs verify-restore "$ID_SMALL" --repo "$dir" --scratch "$SCRATCH" --stale-grace 0s
	expect_exit 1 "full drill exits 1" && expect_stdout_contains "FAIL" && expect_any_contains "$cause"
	expect_no_drill_db
	check "the failed drill is recorded" test -n "$(ls "$dir/drills/$ID_SMALL"/*.json 2>/dev/null)"
	run_cmd bs verify-restore "$ID_SMALL" --repo "$dir" --archive-only
	expect_exit 1 "--archive-only exits 1" && expect_any_contains "$cause"
	expect_no_drill_db
}

run_test "damaged: flipped byte inside a data chunk" t_damaged flip flip "checksum"
run_test "damaged: truncated archive" t_damaged truncate truncate "truncated"
run_test "damaged: missing chunk member" t_damaged missing drop-chunk "missing"
run_test "damaged: extra member" t_damaged extra extra "notes/extra.txt"
run_test "damaged: manifest row count disagrees with the data" t_damaged rows rows "rows"
run_test "damaged: manifest digest disagrees with the data" t_damaged digest digest "digest"

t_wrong_key() {
	local repo=$BS_TMP/repo-enc id
	bs repo init --repo "$repo" -q || return
	run_cmd bs keygen -o "$BS_TMP/key1.txt"
	expect_exit 0 || return 1
	local r1
	r1=$(cat "$OUT_FILE")
	run_cmd bs keygen -o "$BS_TMP/key2.txt"
	expect_exit 0 || return 1
	id=$(bs snap --repo "$repo" --db "$(db_conninfo "$SMALL")" --recipient "$r1" 2>/dev/null) || {
		t_fail "encrypted snap failed"
		return 1
	}
	run_cmd bs verify-restore "$id" --repo "$repo" --scratch "$SCRATCH" --identity "$BS_TMP/key1.txt"
	expect_exit 0 "the right key: the drill passes"
	run_cmd bs verify-restore "$id" --repo "$repo" --archive-only --identity "$BS_TMP/key1.txt"
	expect_exit 0 "the right key: the archive check passes"
	run_cmd bs verify-restore "$id" --repo "$repo" --scratch "$SCRATCH" --identity "$BS_TMP/key2.txt"
	expect_exit 3 "wrong key: the drill could not run (exit 3)" && expect_any_contains "no identity matches"
	expect_no_drill_db
	run_cmd bs verify-restore "$id" --repo "$repo" --archive-only --identity "$BS_TMP/key2.txt"
	expect_exit 3 "wrong key: the archive check could not run (exit 3)" && expect_any_contains "no identity matches"
	run_cmd bs verify-restore list --repo "$repo" --json
	check_eq "a drill that could not run is not recorded" "$(jq -r '[.drills[] | select(.verdict != "pass")] | length' "$OUT_FILE")" 0
}
run_test "damaged: wrong key (encrypted archive; the right key passes)" t_wrong_key

# ------------------------------------------- restored database != manifest

# keep_drill: a drill of the small snapshot with --keep; prints the name.
keep_drill() {
	local rc=0
	vr "$ID_SMALL" --scratch "$SCRATCH" --keep --json >"$BS_TMP/keep.json" 2>"$BS_TMP/keep.err" </dev/null || rc=$?
	[ "$rc" -eq 0 ] || { cat "$BS_TMP/keep.err" >&2; return 1; }
	jq -r .scratch.database "$BS_TMP/keep.json"
}

# t_tamper NAME SQL CAUSE..: keep, change the scratch database, re-verify.
t_tamper() {
	local name=$1 sql=$2 db c
	shift 2
	db=$(keep_drill) || { t_fail "drill with --keep failed"; return 1; }
	check "kept database $db exists" db_exists "$db"
	pg "$db" "$sql" >/dev/null || { t_fail "tampering failed: $sql"; return 1; }
	run_cmd vr "$ID_SMALL" --scratch "$SCRATCH" --reverify "$db"
	expect_exit 1 "re-verify exits 1"
	for c in "$@"; do
		expect_stdout_contains "$c"
	done
	check "re-verify drops the database (no --keep)" bash -c "! psql -X -At -d postgres -c \"select 1 from pg_database where datname = '$db'\" | grep -q 1"
}

t_reverify_clean() {
	local db
	db=$(keep_drill) || { t_fail "drill with --keep failed"; return 1; }
	check "kept database $db exists" db_exists "$db"
	run_cmd vr "$ID_SMALL" --scratch "$SCRATCH" --reverify "$db" --keep
	expect_exit 0 "re-verify of an untouched database passes" && expect_stdout_contains "PASS"
	check "re-verify --keep keeps it" db_exists "$db"
	run_cmd vr "$ID_SMALL" --scratch "$SCRATCH" --reverify "$db"
	expect_exit 0
	expect_no_drill_db
}
run_test "--keep, then --reverify of an untouched database passes" t_reverify_clean
run_test "tampered: one changed row is named" t_tamper row "update t set v = 'changed' where id = 5" \
	"table public.t: row contents differ"
run_test "tampered: one deleted row is named" t_tamper delete "delete from t where id = 7" \
	"table public.t: 19999 rows, the snapshot has 20000 (1 missing)"
run_test "tampered: one dropped index is named" t_tamper index "drop index t_v_idx" \
	"schema index public.t_v_idx: missing in the restored database"
run_test "tampered: one changed sequence value is named" t_tamper seq "select setval('t_id_seq', 4242)" \
	"sequence public.t_id_seq: last_value 4242"

t_reverify_refuses() {
	run_cmd vr "$ID_SMALL" --scratch "$SCRATCH" --reverify "$SMALL"
	expect_exit 2 "--reverify of a database that is not a drill's: exit 2" && expect_stderr_contains "not a drill database"
	check "that database is untouched" db_exists "$SMALL"
	run_cmd vr "$ID_SMALL" --scratch "$SCRATCH" --reverify backstop_drill_20200101000000_abcdef
	expect_exit 2 "--reverify of a missing drill database: exit 2"
}
run_test "--reverify refuses databases a drill did not create" t_reverify_refuses

# ------------------------------------------------------ policy: smoke, limits

t_policy() {
	cat >"$BS_TMP/policy.yaml" <<-'EOF'
		max_rto: 15m
		smoke:
		  - name: at least one admin exists
		    sql: SELECT count(*) > 0 FROM admins
		    expect: true
		  - name: no more than 10 admins
		    sql: SELECT * FROM admins
		    max_rows: 10
		  - name: there is a superadmin
		    sql: SELECT count(*) > 0 FROM admins WHERE name = 'superadmin'
		    expect: true
		  - name: a missing table
		    sql: SELECT 1 FROM no_such_table
		    min_rows: 1
	EOF
	run_cmd vr "$ID_SMALL" --scratch "$SCRATCH" --policy "$BS_TMP/policy.yaml" --junit "$BS_TMP/smoke.xml"
	expect_exit 1 && expect_stdout_contains "smoke there is a superadmin: returned false, expected true" &&
		expect_stdout_contains "smoke a missing table: error:" &&
		expect_stdout_contains "ok   at least one admin exists"
	check "JUnit names the failing smoke query" grep -q 'name="there is a superadmin"' "$BS_TMP/smoke.xml"
	expect_no_drill_db
	printf 'max_snapshot_age: 1s\n' >"$BS_TMP/age.yaml"
	sleep 2
	run_cmd vr "$ID_SMALL" --scratch "$SCRATCH" --policy "$BS_TMP/age.yaml"
	expect_exit 1 "snapshot older than max_snapshot_age: exit 1" && expect_stdout_contains "limit max_snapshot_age"
	printf 'max_rto: 1s\nsmoke:\n  - name: slow\n    sql: select pg_sleep(1.2) is not null\n    expect: true\n' >"$BS_TMP/rto.yaml"
	run_cmd vr "$ID_SMALL" --scratch "$SCRATCH" --policy "$BS_TMP/rto.yaml" --json
	expect_exit 1 "RTO above max_rto: exit 1"
	check_eq "the finding names max_rto" "$(jq -r '.findings[] | select(.area == "limit") | .object' "$OUT_FILE")" max_rto
	printf 'max_rto: 15m\nsmoke:\n  - name: x\n    sql: select true\n    expectt: true\n' >"$BS_TMP/bad.yaml"
	run_cmd vr "$ID_SMALL" --scratch "$SCRATCH" --policy "$BS_TMP/bad.yaml"
	expect_exit 2 "bad policy: exit 2" && expect_stderr_contains "bad.yaml:5:5: unknown key 'expectt'"
}
run_test "drill policy: smoke queries, max_rto and max_snapshot_age fail the drill, named; bad policy exit 2" t_policy

# ------------------------------------------------------- killed and stopped

BIG=$(new_db vr_big)
pg "$BIG" "create table big (id bigint primary key, a text, b text, c int);
	insert into big select i, md5(i::text), repeat(md5((i*7)::text), 4), i % 1000
	  from generate_series(1, 1500000) i;
	create index big_a on big (a); create index big_c on big (c);" >/dev/null
REPO_BIG=$BS_TMP/repo-big
ID_BIG=$(snap "$REPO_BIG" "$BIG" 2>/dev/null) || { echo "Bail out! snap of big failed"; exit 1; }

t_big_ranges() {
	run_cmd bs verify-restore "$ID_BIG" --repo "$REPO_BIG" --scratch "$SCRATCH" --jobs 2 -v
	expect_exit 0 "a drill of a table verified in page ranges passes" && expect_stdout_contains "PASS" &&
		expect_stderr_matches "verifying 1 tables in [2-9][0-9]* pieces"
	expect_no_drill_db
}
run_test "a large table is verified in ctid page ranges on several connections (digests add up)" t_big_ranges

# start_drill_bg: a drill of the big snapshot in the background; waits until
# it loads data into its scratch database; sets DRILL_PID and DRILL_DB.
start_drill_bg() {
	local i
	"$BS_BIN/backstop-verify-restore" "$ID_BIG" --repo "$REPO_BIG" --scratch "$SCRATCH" --jobs 2 \
		>"$BS_TMP/bg.out" 2>"$BS_TMP/bg.err" </dev/null &
	DRILL_PID=$!
	DRILL_DB=
	for ((i = 0; i < 300; i++)); do
		DRILL_DB=$(pg postgres "select datname from pg_stat_activity where datname like 'backstop\_drill\_%' and query ilike 'copy%' limit 1")
		[ -n "$DRILL_DB" ] && return 0
		kill -0 "$DRILL_PID" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

t_kill9() {
	start_drill_bg || { t_fail "the drill did not reach the data load" "$(cat "$BS_TMP/bg.err")"; kill -9 "$DRILL_PID" 2>/dev/null; return 1; }
	kill -9 "$DRILL_PID"
	wait "$DRILL_PID" 2>/dev/null
	check "the killed drill left its scratch database ($DRILL_DB)" db_exists "$DRILL_DB"
	run_cmd vr "$ID_SMALL" --scratch "$SCRATCH"
	expect_exit 0 "the next drill passes" && expect_stderr_contains "dropped stale drill database '$DRILL_DB'"
	expect_no_drill_db
}
run_test "kill -9 mid-restore, then the next drill: no stray scratch database" t_kill9

t_signal() {
	local sig=$1 code=$2 rc=0
	start_drill_bg || { t_fail "the drill did not reach the data load" "$(cat "$BS_TMP/bg.err")"; kill -9 "$DRILL_PID" 2>/dev/null; return 1; }
	kill "-$sig" "$DRILL_PID"
	wait "$DRILL_PID" || rc=$?
	check_eq "exit status after SIG$sig" "$rc" "$code"
	check "stderr says it dropped the scratch database" grep -q "dropped scratch database '$DRILL_DB'" "$BS_TMP/bg.err"
	expect_no_drill_db
}
run_test "SIGTERM mid-restore: scratch database dropped, exit 143" t_signal TERM 143
run_test "SIGINT mid-restore: scratch database dropped, exit 130" t_signal INT 130

t_signal_keep() {
	local rc=0 db
	"$BS_BIN/backstop-verify-restore" "$ID_BIG" --repo "$REPO_BIG" --scratch "$SCRATCH" --jobs 2 --keep \
		>"$BS_TMP/bg.out" 2>"$BS_TMP/bg.err" </dev/null &
	DRILL_PID=$!
	for ((i = 0; i < 300; i++)); do
		db=$(pg postgres "select datname from pg_stat_activity where datname like 'backstop\_drill\_%' and query ilike 'copy%' limit 1")
		[ -n "$db" ] && break
		sleep 0.05
	done
	[ -n "$db" ] || { t_fail "the drill did not reach the data load"; kill -9 "$DRILL_PID"; return 1; }
	kill -TERM "$DRILL_PID"
	wait "$DRILL_PID" || rc=$?
	check_eq "exit status after SIGTERM" "$rc" 143
	check "stderr says it kept the scratch database" grep -q "kept scratch database '$db'" "$BS_TMP/bg.err"
	check "the database is still there" db_exists "$db"
	run_cmd vr "$ID_SMALL" --scratch "$SCRATCH" --stale-grace 0s
	expect_exit 0
	check "the next drill leaves a kept database alone" db_exists "$db"
	drop_db "$db"
}
run_test "SIGTERM with --keep: the database stays, marked, and the next drill leaves it" t_signal_keep

t_live_drill_is_safe() {
	# a running drill's database is never taken for a stale one
	start_drill_bg || { t_fail "the drill did not reach the data load" "$(cat "$BS_TMP/bg.err")"; kill -9 "$DRILL_PID" 2>/dev/null; return 1; }
	run_cmd vr "$ID_SMALL" --scratch "$SCRATCH" --stale-grace 0s
	expect_exit 0 "a second drill runs alongside"
	local rc=0
	wait "$DRILL_PID" || rc=$?
	check_eq "the first drill was not disturbed" "$rc" 0
	expect_no_drill_db
}
run_test "two drills at once: neither removes the other's database" t_live_drill_is_safe

# ------------------------------------------------------------------- safety

t_never_foreign() {
	local decoys="backstop_drill_decoy backstop_drill_20200101000000_abcdeg backstop_drillx_20200101000000_abcdef" d
	for d in $decoys; do
		pg postgres "create database $d" >/dev/null
		bs_on_exit drop_db "$d"
	done
	run_cmd vr "$ID_SMALL" --scratch "$SCRATCH" --stale-grace 0s
	expect_exit 0
	for d in $decoys "$SRC" "$SMALL"; do
		check "database $d untouched" db_exists "$d"
	done
	for d in $decoys; do drop_db "$d"; done
	# the scratch conninfo may not name a drill-shaped database
	pg postgres "create database backstop_drill_20200101000000_abcdef" >/dev/null
	bs_on_exit drop_db backstop_drill_20200101000000_abcdef
	run_cmd vr "$ID_SMALL" --scratch "$(db_conninfo backstop_drill_20200101000000_abcdef)"
	expect_exit 2 "scratch conninfo with the drill prefix: refused (exit 2)" && expect_stderr_contains "refusing"
	check "it is untouched" db_exists backstop_drill_20200101000000_abcdef
	drop_db backstop_drill_20200101000000_abcdef
	# the source database as the maintenance database: used, never written
	local before after
	before=$(pg "$SMALL" "select count(*) || ':' || sum(n) from t")
	run_cmd vr "$ID_SMALL" --scratch "$(db_conninfo "$SMALL")"
	expect_exit 0 "the source database as the scratch conninfo: the drill runs in its own database"
	after=$(pg "$SMALL" "select count(*) || ':' || sum(n) from t")
	check_eq "the source database is unchanged" "$after" "$before"
	expect_no_drill_db
}
run_test "a drill never touches a database it did not create" t_never_foreign

t_server_down() {
	local n_before n_after
	n_before=$(find "$REPO/drills" -name '*.json' | wc -l)
	run_cmd vr "$ID_SMALL" --scratch "host=$BS_TMP port=1 dbname=postgres connect_timeout=3"
	expect_exit 3 "scratch server down: exit 3" && expect_any_contains "could not run"
	n_after=$(find "$REPO/drills" -name '*.json' | wc -l)
	check_eq "nothing recorded" "$n_after" "$n_before"
}
run_test "scratch server down: exit 3, no record" t_server_down

done_testing
