#!/usr/bin/env bash
# retention.sh - snap list/show/prune/pin against a real repository: the
# catalog interface scripts rely on, prune decisions and their explanations,
# safety rules, bad policies refused before anything is deleted, orphans,
# and prune running next to a snap.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SRC=$(new_db ret_src)
pg "$SRC" "create table t (id int primary key, v text); insert into t select g, md5(g::text) from generate_series(1, 2000) g;" >/dev/null
REPO=$BS_TMP/repo
"$BS_BIN/backstop" repo init --repo "$REPO" -q || exit 1

# A history of snapshots at chosen times: one real snapshot, then copies of
# its record and archive under ids/times we pick (what a year of nightly
# cron would have left).
fake_history() { # REPO TEMPLATE_ID ISO_TIME...
	python3 - "$@" <<'PY'
import json, os, random, shutil, sys, datetime
repo, tid, times = sys.argv[1], sys.argv[2], sys.argv[3:]
rec = json.load(open(os.path.join(repo, "snapshots", tid + ".json")))
for t in times:
    dt = datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ")
    nid = dt.strftime("%Y%m%dT%H%M%SZ") + "-%06x" % random.randrange(1 << 24)
    r = dict(rec)
    r["id"] = nid
    r["start"] = t
    r["end"] = t
    ext = rec["archive"].split(".", 1)[1]
    r["archive"] = "archives/%s.%s" % (nid, ext)
    shutil.copy(os.path.join(repo, rec["archive"]), os.path.join(repo, r["archive"]))
    json.dump(r, open(os.path.join(repo, "snapshots", nid + ".json"), "w"))
    print(nid)
PY
}

count_snapshots() { ls "$1/snapshots" 2>/dev/null | wc -l; }
tree_sum() { (cd "$1" && find . -type f ! -name lock -printf '%p %s\n' | sort | md5sum); }

t_first_snap() {
	run_cmd bs snap --db "dbname=$SRC" --repo "$REPO" --no-encryption -q
	expect_exit 0
	TEMPLATE=$(echo "$OUT" | tail -1)
	check "snap prints the new id" test -n "$TEMPLATE"
}
run_test "snap into a new repository" t_first_snap

t_list_json() {
	run_cmd bs snap list --repo "$REPO" --json
	expect_exit 0
	check "list --json has the documented fields" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
s = d["snapshots"]
assert len(s) == 1, s
for k in ("id", "database", "start", "end", "bytes", "status", "encrypted", "pinned", "drill", "duration_ms", "kept_by"):
    assert k in s[0], k
assert s[0]["status"] == "complete" and s[0]["encrypted"] is False and s[0]["bytes"] > 0
assert s[0]["database"] == sys.argv[2]
' "$OUT" "$SRC"
}
run_test "snap list --json: a snapshots array with id, database, start, end, bytes, status, encrypted, pinned, drill" t_list_json

t_list_text() {
	run_cmd bs snap list --repo "$REPO"
	expect_exit 0
	expect_stdout_contains "$TEMPLATE"
	expect_stdout_contains "complete"
	run_cmd bs snap list --repo "$REPO" --database no_such_db --json
	expect_exit 0
	check "list --database filters by database" python3 -c 'import json,sys; assert json.loads(sys.argv[1])["snapshots"] == []' "$OUT"
}
run_test "snap list shows id, database, status; --database filters" t_list_text

t_show() {
	run_cmd bs snap show latest --repo "$REPO"
	expect_exit 0
	expect_stdout_contains "$TEMPLATE"
	expect_stdout_contains "encryption     none"
	run_cmd bs snap show "$TEMPLATE" --repo "$REPO" --json
	expect_exit 0
	check "show --json is the record" python3 -c 'import json,sys; assert json.loads(sys.argv[1])["id"] == sys.argv[2]' "$OUT" "$TEMPLATE"
	run_cmd bs snap show 20200101T000000Z-000000 --repo "$REPO"
	expect_exit 2
	expect_stderr_contains "not found"
}
run_test "snap show latest|ID (text, --json); unknown id exits 2" t_show

# history: nightly 02:00 for 60 days before 2026-11-20, plus two on one day
make_history() {
	local times=() d
	for d in $(seq 1 60); do
		times+=("$(date -u -d "2026-11-20 02:00:00 UTC - $d days" +%Y-%m-%dT%H:%M:%SZ)")
	done
	times+=("2026-11-20T02:00:00Z" "2026-11-20T14:00:00Z")
	fake_history "$REPO" "$TEMPLATE" "${times[@]}" >/dev/null
}

t_history() {
	make_history
	check_eq "63 snapshots in the catalog" "$(count_snapshots "$REPO")" 63
}
run_test "a fabricated history of 63 snapshots" t_history

cat >"$BS_TMP/keep7.yaml" <<'Y'
keep_daily: 7
min_keep: 1
Y

t_dry_run() {
	local before
	before=$(tree_sum "$REPO")
	run_cmd bs snap prune --repo "$REPO" --policy "$BS_TMP/keep7.yaml" --dry-run
	expect_exit 0
	expect_stdout_contains "kept: daily 2026-11-20"
	expect_stdout_contains "would delete: outside all rules"
	check_eq "dry run changes nothing" "$(tree_sum "$REPO")" "$before"
	run_cmd bs snap prune --repo "$REPO" --policy "$BS_TMP/keep7.yaml" --dry-run --json
	expect_exit 0
	check "dry-run --json lists every decision" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["dry_run"] is True
dec = d["decisions"]
assert len([x for x in dec if x["kind"] == "snapshot"]) == 63, len(dec)
assert all(x["reasons"] for x in dec)
' "$OUT"
}
run_test "prune --dry-run explains every decision and deletes nothing" t_dry_run

t_pin() {
	PINNED=$(ls "$REPO/snapshots" | sort | sed -n 2p | sed 's/\.json$//')
	run_cmd bs snap pin "$PINNED" --reason "legal hold" --repo "$REPO"
	expect_exit 0
	run_cmd bs snap show "$PINNED" --repo "$REPO" --json
	check "show says pinned with reason" python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["pinned"] and d["pin_reason"] == "legal hold"' "$OUT"
}
run_test "snap pin ID --reason: recorded and shown" t_pin

t_prune() {
	run_cmd bs snap prune --repo "$REPO" --policy "$BS_TMP/keep7.yaml"
	expect_exit 0
	expect_stdout_contains "kept: pinned"
	# 7 daily buckets (the newest of 2026-11-20 and six days before) + the pinned one
	check_eq "7 daily + 1 pinned kept" "$(count_snapshots "$REPO")" 8
	check "pinned snapshot survives" test -f "$REPO/snapshots/$PINNED.json"
	check_eq "archives match records" "$(ls "$REPO/archives" | wc -l)" 8
	run_cmd bs snap list --repo "$REPO" --json
	check "every listed snapshot has its archive" python3 -c '
import json, os, sys
for s in json.loads(sys.argv[1])["snapshots"]:
    assert os.path.exists(os.path.join(sys.argv[2], s["archive"])), s["id"]
' "$OUT" "$REPO"
}
run_test "prune deletes what no rule keeps, keeps pinned, records and archives stay paired" t_prune

t_unpin() {
	run_cmd bs snap unpin "$PINNED" --repo "$REPO"
	expect_exit 0
	run_cmd bs snap prune --repo "$REPO" --policy "$BS_TMP/keep7.yaml"
	expect_exit 0
	check_eq "unpinned snapshot pruned" "$(count_snapshots "$REPO")" 7
}
run_test "snap unpin: the snapshot is prunable again" t_unpin

bad_policy() { # NAME YAML EXPECTED_TEXT
	local before
	printf '%s\n' "$2" >"$BS_TMP/bad.yaml"
	before=$(tree_sum "$REPO")
	run_cmd bs snap prune --repo "$REPO" --policy "$BS_TMP/bad.yaml"
	expect_exit 2
	expect_stderr_contains "$3"
	check_eq "nothing deleted" "$(tree_sum "$REPO")" "$before"
}
run_test "empty policy is refused before anything is deleted" bad_policy empty "min_keep: 1" "no keep rule"
run_test "negative count is refused (file:line:col)" bad_policy neg "keep_daily: -3" "bad.yaml:1:"
run_test "unknown key is refused (file:line:col)" bad_policy unknown "keep_dayly: 3" "bad.yaml:1:1"

t_no_policy() {
	run_cmd bs snap prune --repo "$REPO"
	expect_exit 2
	expect_stderr_contains "no retention policy"
}
run_test "prune without any policy: exit 2 with a hint" t_no_policy

t_orphans() {
	local young old
	# a killed snap's leftovers: an archive without record, and a temp file
	young=$REPO/archives/20261122T000000Z-aaaaaa.tar
	old=$REPO/archives/20251122T000000Z-bbbbbb.tar
	echo partial >"$young"
	echo partial >"$old"
	touch -d '3 days ago' "$old"
	echo partial >"$REPO/tmp/x.tar.1.0.tmp"
	touch -d '3 days ago' "$REPO/tmp/x.tar.1.0.tmp"
	run_cmd bs snap prune --repo "$REPO" --policy "$BS_TMP/keep7.yaml"
	expect_exit 0
	check "young orphan kept (a snap may be writing it)" test -f "$young"
	check "old orphan deleted" test ! -e "$old"
	check "stale temp file deleted" test ! -e "$REPO/tmp/x.tar.1.0.tmp"
	rm -f "$young"
}
run_test "orphaned archives and temp files: deleted only after the grace period" t_orphans

t_interrupted_prune() {
	local victim
	# a prune killed after deleting the record: the archive is an orphan,
	# never a listed snapshot without data
	victim=$(ls "$REPO/snapshots" | sort | head -1 | sed 's/\.json$//')
	rm "$REPO/snapshots/$victim.json"
	touch -d '3 days ago' "$REPO"/archives/"$victim".*
	run_cmd bs snap list --repo "$REPO" --json
	check "not listed without its record" python3 -c 'import json,sys; assert sys.argv[2] not in [s["id"] for s in json.loads(sys.argv[1])["snapshots"]]' "$OUT" "$victim"
	run_cmd bs snap prune --repo "$REPO" --policy "$BS_TMP/keep7.yaml"
	expect_exit 0
	check "the next prune removes the orphaned archive" bash -c "! ls '$REPO'/archives/$victim.* 2>/dev/null | grep -q ."
}
run_test "an interrupted prune leaves an orphan that the next prune removes" t_interrupted_prune

t_failed_snap_no_prune() {
	local before
	cat >"$BS_TMP/keep1.yaml" <<'Y'
keep_last: 1
Y
	before=$(count_snapshots "$REPO")
	run_cmd bs snap --db "host=$BS_TMP/nowhere dbname=x" --repo "$REPO" --no-encryption --prune --policy "$BS_TMP/keep1.yaml" -q
	expect_exit 3
	check_eq "a failed snap prunes nothing" "$(count_snapshots "$REPO")" "$before"
}
run_test "snap --prune: a failed snap never prunes" t_failed_snap_no_prune

t_snap_prune() {
	local newest
	run_cmd bs snap --db "dbname=$SRC" --repo "$REPO" --no-encryption --prune --policy "$BS_TMP/keep7.yaml" -q
	expect_exit 0
	newest=$(echo "$OUT" | head -1)
	check "the new snapshot is kept" test -f "$REPO/snapshots/$newest.json"
}
run_test "snap --prune: snap, then prune by the policy" t_snap_prune

t_concurrent() {
	local big pid i ok=1 id
	big=$(new_db ret_big)
	pg "$big" "create table b (id int, pad text); insert into b select g, repeat(md5(g::text), 8) from generate_series(1, 400000) g;" >/dev/null
	cat >"$BS_TMP/keep1.yaml" <<'Y'
keep_last: 1
min_keep: 1
orphan_grace: 0s
Y
	"$BS_BIN/backstop" snap --db "dbname=$big" --repo "$REPO" --no-encryption -q --jobs 2 >"$BS_TMP/snap.out" 2>"$BS_TMP/snap.err" &
	pid=$!
	for i in 1 2 3 4 5 6; do
		sleep 0.3
		"$BS_BIN/backstop" snap prune --repo "$REPO" --policy "$BS_TMP/keep1.yaml" >/dev/null 2>&1 || true
	done
	wait "$pid" || ok=0
	check "snap succeeded while prunes ran" test "$ok" = 1
	id=$(head -1 "$BS_TMP/snap.out")
	check "its record exists" test -f "$REPO/snapshots/$id.json"
	check "its archive exists" bash -c "ls '$REPO'/archives/$id.* >/dev/null"
	run_cmd bs restore "$id" --repo "$REPO" --list
	expect_exit 0
	expect_stdout_contains "public.b"
	drop_db "$big"
}
run_test "concurrent snap and prune never lose the snapshot being written" t_concurrent

# ---- a repository shared by several databases: each is its own history ----

SHARED=$BS_TMP/shared
DB_A=$(new_db ret_a)
DB_B=$(new_db ret_b)
pg "$DB_A" "create table a (id int primary key); insert into a select generate_series(1, 100);" >/dev/null
pg "$DB_B" "create table b (id int primary key); insert into b select generate_series(1, 100);" >/dev/null
cat >"$BS_TMP/last1.yaml" <<'Y'
keep_last: 1
Y

snap_into() { # DB -> prints the id
	"$BS_BIN/backstop" snap --db "dbname=$1" --repo "$SHARED" --no-encryption -q
}
ids_of() { # DB: the ids of DB's snapshots in SHARED, oldest first
	python3 - "$SHARED" "$1" <<'PY'
import json, os, sys
d = os.path.join(sys.argv[1], "snapshots")
recs = [json.load(open(os.path.join(d, f))) for f in os.listdir(d) if f.endswith(".json")]
print(" ".join(sorted(r["id"] for r in recs if r["database"] == sys.argv[2])))
PY
}

t_shared_setup() {
	local i
	run_cmd bs repo init --repo "$SHARED"
	expect_exit 0
	# A's history is older than B's: with one repository-wide list, B's
	# newest would be "the last one" and A would lose every snapshot
	for i in 1 2; do snap_into "$DB_A" >/dev/null; done
	for i in 1 2; do snap_into "$DB_B" >/dev/null; done
	check_eq "two snapshots of A" "$(ids_of "$DB_A" | wc -w)" 2
	check_eq "two snapshots of B" "$(ids_of "$DB_B" | wc -w)" 2
}
run_test "a repository shared by two databases, two snapshots each" t_shared_setup

t_shared_dry_run() {
	local newest_a newest_b
	newest_a=$(ids_of "$DB_A" | awk '{print $NF}')
	newest_b=$(ids_of "$DB_B" | awk '{print $NF}')
	run_cmd bs snap prune --repo "$SHARED" --policy "$BS_TMP/last1.yaml" --dry-run
	expect_exit 0
	expect_stdout_matches "^$DB_A +snapshot +$newest_a +kept: newest, last #1"
	expect_stdout_matches "^$DB_B +snapshot +$newest_b +kept: newest, last #1"
	expect_stdout_matches "^$DB_A +snapshot +[0-9A-Za-z-]+ +would delete: outside all rules"
	expect_stdout_matches "^$DB_B +snapshot +[0-9A-Za-z-]+ +would delete: outside all rules"
	expect_stdout_contains "database '$DB_A': 1 kept, 1 would be deleted"
	expect_stdout_contains "database '$DB_B': 1 kept, 1 would be deleted"
	run_cmd bs snap prune --repo "$SHARED" --policy "$BS_TMP/last1.yaml" --dry-run --json
	expect_exit 0
	check "every JSON decision names its database; one summary per database" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
a, b = sys.argv[2], sys.argv[3]
snaps = [x for x in d["decisions"] if x["kind"] == "snapshot"]
assert len(snaps) == 4, snaps
assert sorted(x["database"] for x in snaps) == sorted([a, a, b, b]), snaps
for db in (a, b):
    keep = [x for x in snaps if x["database"] == db and x["verdict"] == "keep"]
    assert len(keep) == 1, (db, snaps)
dbs = {x["database"]: x for x in d["databases"]}
assert dbs[a]["kept"] == 1 and dbs[a]["deleted"] == 1, dbs
assert dbs[b]["kept"] == 1 and dbs[b]["deleted"] == 1, dbs
assert d["kept"] == 2 and d["deleted"] == 2 and d["database"] is None, d
' "$OUT" "$DB_A" "$DB_B"
}
run_test "prune decides per database: keep_last 1 keeps one of each, every line names its database" t_shared_dry_run

t_shared_database_filter() {
	local a_before
	a_before=$(ids_of "$DB_A")
	run_cmd bs snap prune --repo "$SHARED" --policy "$BS_TMP/last1.yaml" --database "$DB_B"
	expect_exit 0
	expect_stdout_contains "$DB_B"
	check "only B's snapshots are listed" bash -c "! grep -q -- '$DB_A' '$OUT_FILE'"
	check_eq "A untouched" "$(ids_of "$DB_A")" "$a_before"
	check_eq "B keeps one" "$(ids_of "$DB_B" | wc -w)" 1
	run_cmd bs snap prune --repo "$SHARED" --policy "$BS_TMP/last1.yaml" --database "$DB_A" --json
	expect_exit 0
	check "--json names the database filter" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["database"] == sys.argv[2], d
assert {x["database"] for x in d["decisions"] if x["kind"] == "snapshot"} == {sys.argv[2]}, d
' "$OUT" "$DB_A"
	check_eq "A keeps its newest" "$(ids_of "$DB_A")" "$(echo "$a_before" | awk '{print $NF}')"
	check_eq "B still one" "$(ids_of "$DB_B" | wc -w)" 1
}
run_test "prune --database NAME prunes that database only" t_shared_database_filter

t_shared_min_keep_per_database() {
	local older
	printf 'keep_last: 1\nmin_keep: 2\n' >"$BS_TMP/min2.yaml"
	snap_into "$DB_B" >/dev/null
	older=$(ids_of "$DB_B" | awk '{print $1}')
	# repository-wide, the two newest (one of each) would satisfy min_keep 2
	run_cmd bs snap prune --repo "$SHARED" --policy "$BS_TMP/min2.yaml" --dry-run
	expect_exit 0
	expect_stdout_matches "^$DB_B +snapshot +$older +kept: min_keep 2"
}
run_test "min_keep counts per database" t_shared_min_keep_per_database

# A snap that prunes after itself never deletes a snapshot that finished
# while it ran (a concurrent snap's, whose id that snap printed with exit 0)
t_snap_prune_spares_concurrent() {
	local conc mine
	# a concurrent snap of A: started before this snap, finished after it started
	conc=$(python3 - "$SHARED" "$(ids_of "$DB_A" | awk '{print $NF}')" <<'PY'
import datetime, json, os, random, shutil, sys
repo, tid = sys.argv[1], sys.argv[2]
rec = json.load(open(os.path.join(repo, "snapshots", tid + ".json")))
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
start, end = now - datetime.timedelta(minutes=5), now + datetime.timedelta(minutes=30)
nid = start.strftime("%Y%m%dT%H%M%SZ") + "-%06x" % random.randrange(1 << 24)
r = dict(rec, id=nid, start=start.strftime("%Y-%m-%dT%H:%M:%SZ"), end=end.strftime("%Y-%m-%dT%H:%M:%SZ"))
r["archive"] = "archives/%s.%s" % (nid, rec["archive"].split(".", 1)[1])
shutil.copy(os.path.join(repo, rec["archive"]), os.path.join(repo, r["archive"]))
json.dump(r, open(os.path.join(repo, "snapshots", nid + ".json"), "w"))
print(nid)
PY
)
	run_cmd bs snap --db "dbname=$DB_A" --repo "$SHARED" --no-encryption --prune --policy "$BS_TMP/last1.yaml"
	expect_exit 0
	mine=$(echo "$OUT" | head -1)
	check "this snap's snapshot is kept" test -f "$SHARED/snapshots/$mine.json"
	check "the concurrent snap's snapshot is kept" test -f "$SHARED/snapshots/$conc.json"
	expect_stderr_contains "kept: taken by a concurrent snap"
	check_eq "A: older snapshot pruned, these two kept" "$(ids_of "$DB_A" | wc -w)" 2
	# a manual prune protects nothing
	run_cmd bs snap prune --repo "$SHARED" --policy "$BS_TMP/last1.yaml" --database "$DB_A"
	expect_exit 0
	check_eq "manual prune: keep_last 1" "$(ids_of "$DB_A" | wc -w)" 1
}
run_test "snap --prune spares the snapshots of concurrent snaps" t_snap_prune_spares_concurrent

t_policy_every_error() {
	printf 'keep_dayly: 3\nkeep_within: 6m\nmin_keep: x\n' >"$BS_TMP/three.yaml"
	run_cmd bs snap prune --repo "$SHARED" --policy "$BS_TMP/three.yaml"
	expect_exit 2
	expect_stderr_contains "three.yaml: 3 errors"
	expect_stderr_contains "three.yaml:1:1: unknown key 'keep_dayly'"
	expect_stderr_contains "three.yaml:2:14: ambiguous unit 'm' in '6m' for 'keep_within'"
	expect_stderr_contains "three.yaml:3:11: invalid integer 'x' for 'min_keep'"
	expect_stderr_contains "'183d'"
}
run_test "a policy file reports every error with file:line:column, exit 2" t_policy_every_error

done_testing
