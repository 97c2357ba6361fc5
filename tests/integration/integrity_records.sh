#!/usr/bin/env bash
# integrity_records.sh - catalog records are validated against their key
# (docs/format.md, "Trusted records"; docs/retention.md):
#   * a record whose id is not its file name, a symlinked record, and a
#     table of records with one malformed or out-of-bounds field are each
#     reported on stderr by `snap list` (naming the key and what is wrong)
#     and never listed;
#   * `snap show`, `restore`, `verify-restore --archive-only` and the full
#     drill of such a snapshot fail naming the record (exit 3), and create
#     nothing;
#   * prune (and prune --dry-run) stops before deleting anything, exit 3,
#     naming the record with a hint; the repository is byte-for-byte
#     unchanged, so no archive is ever deleted as an "orphan";
#   * once the record is moved aside, prune runs again.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SRC=$(new_db rec_src)
pg "$SRC" "create table t (id int primary key, v text); insert into t select g, md5(g::text) from generate_series(1, 500) g;" >/dev/null
REPO=$BS_TMP/repo
"$BS_BIN/backstop" repo init --repo "$REPO" -q || exit 1

cat >"$BS_TMP/keep1.yaml" <<'Y'
keep_last: 1
min_keep: 1
Y

tree_sum() { (cd "$1" && find . ! -name lock \( -type f -o -type l \) -printf '%p %s %l\n' | sort | md5sum); }

# copy_snapshot REPO ID ISO_TIME: a second snapshot (record + archive) at another time
copy_snapshot() {
	python3 - "$@" <<'PY'
import json, os, random, shutil, sys, datetime
repo, tid, t = sys.argv[1:4]
rec = json.load(open(os.path.join(repo, "snapshots", tid + ".json")))
dt = datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ")
nid = dt.strftime("%Y%m%dT%H%M%SZ") + "-%06x" % random.randrange(1 << 24)
rec.update(id=nid, start=t, end=t, archive="archives/%s.tar" % nid)
shutil.copy(os.path.join(repo, "archives", tid + ".tar"), os.path.join(repo, rec["archive"]))
json.dump(rec, open(os.path.join(repo, "snapshots", nid + ".json"), "w"))
print(nid)
PY
}

# edit_record FILE PYTHON-STATEMENT (on dict r)
edit_record() {
	python3 - "$1" "$2" <<'PY'
import json, sys
path, stmt = sys.argv[1], sys.argv[2]
r = json.load(open(path))
exec(stmt)
open(path, "w").write(json.dumps(r))
PY
}

t_setup() {
	run_cmd bs snap --db "dbname=$SRC" --repo "$REPO" --no-encryption -q
	expect_exit 0
	A=$OUT
	OLD=$(copy_snapshot "$REPO" "$A" 2026-01-02T03:04:05Z)
	check "two snapshots" test -f "$REPO/snapshots/$OLD.json" -a -f "$REPO/archives/$OLD.tar"
	run_cmd bs snap list --repo "$REPO"
	expect_exit 0
	check_eq "no warning about good records" "$ERR" ""
}
run_test "a real snapshot and a copy of it at an older time" t_setup

# untrusted: the record $OLD is edited in place; everything must refuse it
expect_untrusted() { # WHAT-IS-WRONG-ERE
	local want=$1 before
	before=$(tree_sum "$REPO")
	run_cmd bs snap list --repo "$REPO"
	expect_exit 0
	expect_stderr_contains "snapshots/$OLD.json"
	expect_stderr_matches "not trusted.*$want"
	check "the untrusted snapshot is not listed" bash -c "! grep -q '$OLD' <<<\"\$1\"" _ "$OUT"
	check "the good snapshot is still listed once" test "$(grep -c "$A" <<<"$OUT")" -eq 1
	run_cmd bs snap show "$OLD" --repo "$REPO"
	expect_exit 3
	expect_stderr_contains "not trusted"
	# every reader refuses it: restore, --archive-only, the full drill
	run_cmd bs restore "$OLD" --repo "$REPO" -d "$(db_conninfo rec_never_created)" --create
	expect_exit 3
	expect_stderr_contains "not trusted"
	check "restore created nothing" bash -c "[ -z \"\$1\" ]" _ "$(pg postgres "select 1 from pg_database where datname = 'rec_never_created'")"
	run_cmd bs verify-restore "$OLD" --repo "$REPO" --archive-only
	expect_exit 3
	expect_stderr_contains "not trusted"
	run_cmd bs verify-restore "$OLD" --repo "$REPO" --scratch "$(db_conninfo postgres)"
	expect_exit 3
	expect_stderr_contains "not trusted"
	check "the refused drill left no scratch database" bash -c "[ -z \"\$1\" ]" _ \
		"$(pg postgres "select datname from pg_database where datname like 'backstop\_drill\_%'")"
	run_cmd bs snap prune --repo "$REPO" --policy "$BS_TMP/keep1.yaml" --dry-run
	expect_exit 3
	expect_stderr_contains "prune stopped before deleting anything"
	run_cmd bs snap prune --repo "$REPO" --policy "$BS_TMP/keep1.yaml"
	expect_exit 3
	expect_stderr_contains "snapshots/$OLD.json"
	expect_stderr_matches "$want"
	expect_stderr_contains "move it out of the repository"
	check_eq "prune deleted nothing (repository unchanged)" "$(tree_sum "$REPO")" "$before"
}

with_edit() { # NAME PYTHON-STATEMENT WHAT-IS-WRONG-ERE
	cp "$REPO/snapshots/$OLD.json" "$BS_TMP/saved.json"
	edit_record "$REPO/snapshots/$OLD.json" "$2"
	expect_untrusted "$3"
	cp "$BS_TMP/saved.json" "$REPO/snapshots/$OLD.json"
}

# the issue's case: another snapshot's record under this name (it would be
# listed twice, and prune would delete the real record of a kept snapshot)
run_test "record id differs from its file name" with_edit id "r = json.load(open('$REPO/snapshots/' + '$A' + '.json'))" "id .* is not its file name"
run_test "record naming the archive of another snapshot" with_edit archive "r['archive'] = 'archives/' + '$A' + '.tar'" "'archive' is not the archive key"
run_test "record archive key outside archives/" with_edit archive2 "r['archive'] = '../../etc/passwd'" "'archive' is not the archive key"
run_test "record with an empty database name" with_edit db_empty "r['database'] = ''" "'database'"
run_test "record with a NUL byte in the database name" with_edit db_nul "r['database'] = 'app\\u0000x'" "'database'|JSON"
run_test "record with a database name over 63 bytes" with_edit db_long "r['database'] = 'x' * 64" "'database'"
run_test "record with negative bytes" with_edit bytes "r['bytes'] = -1" "not a count within bounds"
run_test "record with tables as a string" with_edit tables "r['tables'] = '12'" "not a count within bounds"
run_test "record with a start that is not the id's time" with_edit start "r['start'] = '2020-01-01T00:00:00Z'" "does not match the time in the snapshot id"
run_test "record with a malformed end" with_edit end "r['end'] = 'yesterday'" "'end'"
run_test "record claiming encryption without recipients" with_edit enc "r['encrypted'] = True" "'archive' is not the archive key"
run_test "record with an unknown version" with_edit version "r['version'] = 99" "'version'"
run_test "record with status other than complete" with_edit status "r['status'] = 'running'" "'status'"
run_test "record that is not JSON" with_edit json "r = None" "not a snapshot record|JSON"

t_symlink() {
	mv "$REPO/snapshots/$OLD.json" "$BS_TMP/outside.json"
	ln -s "$BS_TMP/outside.json" "$REPO/snapshots/$OLD.json"
	expect_untrusted "symbolic link"
	rm "$REPO/snapshots/$OLD.json"
	mv "$BS_TMP/outside.json" "$REPO/snapshots/$OLD.json"
}
run_test "symlinked record: reported, never followed, its archive kept" t_symlink

t_bad_name() {
	cp "$REPO/snapshots/$OLD.json" "$REPO/snapshots/not-an-id.json"
	run_cmd bs snap list --repo "$REPO"
	expect_exit 0
	expect_stderr_contains "snapshots/not-an-id.json"
	run_cmd bs snap prune --repo "$REPO" --policy "$BS_TMP/keep1.yaml"
	expect_exit 3
	expect_stderr_contains "not-an-id.json"
	rm "$REPO/snapshots/not-an-id.json"
}
run_test "a record whose file name is not a snapshot id stops prune" t_bad_name

t_prune_after_fix() {
	run_cmd bs snap prune --repo "$REPO" --policy "$BS_TMP/keep1.yaml"
	expect_exit 0
	check "the old snapshot is pruned" test ! -e "$REPO/snapshots/$OLD.json" -a ! -e "$REPO/archives/$OLD.tar"
	check "the newest is kept" test -e "$REPO/snapshots/$A.json" -a -e "$REPO/archives/$A.tar"
}
run_test "with every record trusted again, prune runs" t_prune_after_fix

done_testing
