#!/usr/bin/env bash
# integrity_binding.sh - every archive is bound to its record, and every
# byte of an unencrypted archive is checked (docs/format.md, "Binding";
# issue 10 items 1 and 4).  The table of tampering cases runs against
# restore (exit 3, nothing created), verify-restore --archive-only (exit 1),
# the full drill (exit 1, no scratch database left) and prune (nothing
# deleted that its policy keeps):
#   * another snapshot's archive copied in place (unencrypted and encrypted);
#   * record fields edited: database, tables, chunks, archive digest, bytes;
#   * one byte flipped in each member kind of an unencrypted archive:
#     backstop.json, globals.json, schema.dump, a data chunk, blobs/acl.sql,
#     manifest.json;
#   * bytes appended after the end of the archive (both kinds);
#   * a record downgraded to version 1 still refuses another snapshot's
#     archive (the header names its snapshot).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BS_CMD_TIMEOUT=${BS_CMD_TIMEOUT_INTEGRITY:-180}
SCRATCH=$(db_conninfo postgres)
REPO=$BS_TMP/repo
"$BS_BIN/backstop" repo init --repo "$REPO" -q || exit 1

SRC=$(new_db bind_src)
bs_on_exit drop_db "$SRC"
pg "$SRC" "create role bind_reader;
	create table t (id int primary key, v text constraint v_not_empty check (v <> ''));
	insert into t select g, md5(g::text) from generate_series(1, 3000) g;
	create table u (id int primary key, n numeric);
	insert into u select g, g * 1.5 from generate_series(1, 500) g;
	grant select on t to bind_reader;
	select lo_from_bytea(0, 'large object bytes');
	do \$\$ begin execute format('grant select on large object %s to bind_reader',
		(select max(oid) from pg_largeobject_metadata)); end \$\$;" >/dev/null
bs_on_exit "pg postgres 'drop role if exists bind_reader' >/dev/null"
OTHER=$(new_db bind_other)
bs_on_exit drop_db "$OTHER"
pg "$OTHER" "create table t (id int primary key, v text); insert into t values (1, 'other');" >/dev/null

drill_dbs() { pg postgres "select datname from pg_database where datname like 'backstop\_drill\_%'"; }

# tamper.py REPO ACTION ID [OTHER]: one change to the repository
cat >"$BS_TMP/tamper.py" <<'PY'
import json, os, shutil, sys, tarfile
repo, action, sid = sys.argv[1:4]
other = sys.argv[4] if len(sys.argv) > 4 else None
rec_path = os.path.join(repo, "snapshots", sid + ".json")
rec = json.load(open(rec_path))
arc = os.path.join(repo, rec["archive"])

def save(r):
    open(rec_path, "w").write(json.dumps(r, indent=2))

def flip(member):
    with tarfile.open(arc) as t:
        m = next(m for m in t.getmembers() if m.name == member or
                 (member == "chunk" and m.name.startswith("data/")))
        off = m.offset_data + m.size // 2
    with open(arc, "r+b") as f:
        f.seek(off)
        b = f.read(1)
        f.seek(off)
        f.write(bytes([b[0] ^ 0x01]))
    print("flipped byte %d of %s" % (off, m.name))

if action == "swap":
    orec = json.load(open(os.path.join(repo, "snapshots", other + ".json")))
    shutil.copy(os.path.join(repo, orec["archive"]), arc)
elif action == "swap-v1":
    orec = json.load(open(os.path.join(repo, "snapshots", other + ".json")))
    shutil.copy(os.path.join(repo, orec["archive"]), arc)
    for k in ("archive_sha256", "header_sha256", "schema_sha256", "manifest_sha256"):
        rec.pop(k)
    rec["version"] = 1
    save(rec)
elif action == "database":
    rec["database"] = "payroll"; save(rec)
elif action == "tables":
    rec["tables"] += 1; save(rec)
elif action == "chunks":
    rec["chunks"] += 3; save(rec)
elif action == "digest":
    rec["archive_sha256"] = "0" * 64; save(rec)
elif action == "bytes":
    rec["bytes"] += 512; save(rec)
elif action == "append":
    with open(arc, "ab") as f:
        f.write(b"appended by someone\n")
elif action.startswith("flip:"):
    flip(action[5:])
else:
    sys.exit("unknown action " + action)
PY

copy_repo() { # NAME -> path of a fresh copy of $REPO
	local dir=$BS_TMP/t-$1
	rm -rf "$dir"
	cp -a "$REPO" "$dir"
	rm -rf "$dir/drills"
	echo "$dir"
}

t_setup() {
	run_cmd bs keygen -o "$BS_TMP/key.txt"
	expect_exit 0 || return 1
	RCP=$(cat "$OUT_FILE")
	A=$(bs snap --repo "$REPO" --db "$(db_conninfo "$SRC")" --no-encryption 2>/dev/null) &&
	B=$(bs snap --repo "$REPO" --db "$(db_conninfo "$OTHER")" --no-encryption 2>/dev/null) &&
	EA=$(bs snap --repo "$REPO" --db "$(db_conninfo "$SRC")" --recipient "$RCP" 2>/dev/null) &&
	EB=$(bs snap --repo "$REPO" --db "$(db_conninfo "$OTHER")" --recipient "$RCP" 2>/dev/null) ||
		{ t_fail "snap failed"; return 1; }
	check "the record carries the archive's SHA-256" \
		test "$(jq -r .archive_sha256 "$REPO/snapshots/$A.json")" = "$(sha256sum "$REPO/archives/$A.tar" | cut -c1-64)"
	check "the record carries the archive's exact size" \
		test "$(jq -r .bytes "$REPO/snapshots/$EA.json")" = "$(stat -c %s "$REPO/archives/$EA.tar.age")"
	check_eq "the record is version 2" "$(jq -r .version "$REPO/snapshots/$A.json")" 2
	check "the manifest digests the metadata members" \
		bash -c "tar -xOf '$REPO/archives/$A.tar' manifest.json | jq -e '.members[\"schema.dump\"].sha256 and .members[\"backstop.json\"].sha256 and .members[\"blobs/acl.sql\"].sha256' >/dev/null"
	run_cmd bs verify-restore "$A" --repo "$REPO" --archive-only
	expect_exit 0 "an untouched archive passes --archive-only"
	run_cmd bs verify-restore "$EA" --repo "$REPO" --archive-only --identity "$BS_TMP/key.txt"
	expect_exit 0 "an untouched encrypted archive passes --archive-only"
}
run_test "four snapshots of two databases, two encrypted" t_setup

# t_case NAME ACTION ID CAUSE [OTHER]: every reader refuses, naming CAUSE;
# restore creates nothing; no scratch database remains; prune keeps all.
t_case() {
	local name=$1 action=$2 id=$3 cause=$4 other=${5:-} dir target what idopt=()
	dir=$(copy_repo "$name")
	what=$(python3 "$BS_TMP/tamper.py" "$dir" "$action" "$id" $other) || { t_fail "could not tamper ($action)"; return 1; }
	[ -z "$what" ] || diag "$name: $what"
	case $id in "$EA" | "$EB") idopt=(--identity "$BS_TMP/key.txt") ;; esac
	target=$(fresh_db_name bind_rs)
	run_cmd bs restore "$id" --repo "$dir" -d "$(db_conninfo "$target")" --create "${idopt[@]}"
	expect_exit 3 "restore exits 3" && expect_stderr_contains "$cause"
	check_eq "restore created nothing" "$(pg postgres "select datname from pg_database where datname = '$target'")" ""
	run_cmd bs verify-restore "$id" --repo "$dir" --archive-only "${idopt[@]}"
	expect_exit 1 "--archive-only exits 1" && expect_any_contains "$cause"
	run_cmd bs verify-restore "$id" --repo "$dir" --scratch "$SCRATCH" --stale-grace 0s "${idopt[@]}"
	expect_exit 1 "the full drill exits 1" && expect_any_contains "$cause"
	check_eq "no scratch database is left" "$(drill_dbs)" ""
	run_cmd bs snap prune --repo "$dir" --policy "$BS_TMP/keepall.yaml"
	expect_exit 0 "prune runs"
	check "prune kept the tampered snapshot's archive" test -n "$(ls "$dir/archives/$id".tar* 2>/dev/null)"
	check "prune kept the tampered snapshot's record" test -f "$dir/snapshots/$id.json"
}
cat >"$BS_TMP/keepall.yaml" <<'Y'
keep_last: 10
min_keep: 4
Y

run_test "another snapshot's archive in place" t_case swap swap "$A" "holds snapshot $B" "$B"
run_test "another snapshot's encrypted archive in place" t_case swap-enc swap "$EA" "holds snapshot $EB" "$EB"
run_test "another archive under a record downgraded to version 1" t_case swap-v1 swap-v1 "$A" "holds snapshot $B" "$B"
run_test "record: database edited" t_case database database "$A" "its catalog record says 'payroll'"
run_test "record: table count edited" t_case tables tables "$A" "tables, its catalog record says"
run_test "record: chunk count edited" t_case chunks chunks "$A" "chunks, its catalog record says"
run_test "record: archive digest edited" t_case digest digest "$A" "does not match the SHA-256 in its catalog record"
run_test "record: size edited" t_case bytes bytes "$EA" "its catalog record says"
run_test "flipped byte: backstop.json" t_case f-header flip:backstop.json "$A" "'backstop.json'"
run_test "flipped byte: globals.json" t_case f-globals flip:globals.json "$A" "'globals.json'"
run_test "flipped byte: schema.dump" t_case f-schema flip:schema.dump "$A" "'schema.dump'"
run_test "flipped byte: a data chunk" t_case f-chunk flip:chunk "$A" "data/"
run_test "flipped byte: blobs/acl.sql" t_case f-acl flip:blobs/acl.sql "$A" "'blobs/acl.sql'"
run_test "flipped byte: manifest.json" t_case f-manifest flip:manifest.json "$A" "'manifest.json'"
run_test "bytes appended to an unencrypted archive" t_case append append "$A" "follow the end of the archive"
run_test "bytes appended to an encrypted archive" t_case append-enc append "$EA" "after the final chunk"

# schema.dump is checked before pg_restore reads it: a flipped byte in a
# constraint name must not come back as a renamed constraint.
t_schema_first() {
	local dir target
	dir=$(copy_repo schema-first)
	python3 - "$dir/archives/$A.tar" <<'PY' || { t_fail "could not edit schema.dump"; return 1; }
import sys, tarfile
p = sys.argv[1]
with tarfile.open(p) as t:
    m = t.getmember("schema.dump")
    data = t.extractfile(m).read()
i = data.index(b"v_not_empty")
with open(p, "r+b") as f:
    f.seek(m.offset_data + i)
    f.write(b"V")
PY
	target=$(fresh_db_name bind_sf)
	run_cmd bs restore "$A" --repo "$dir" -d "$(db_conninfo "$target")" --create
	expect_exit 3 && expect_stderr_contains "'schema.dump'"
	check_eq "no database with a renamed constraint exists" \
		"$(pg postgres "select datname from pg_database where datname = '$target'")" ""
}
run_test "schema.dump is checked before pg_restore reads it" t_schema_first

# the untouched repository still restores exactly
t_untouched() {
	local target
	target=$(fresh_db_name bind_ok)
	run_cmd bs restore "$A" --repo "$REPO" -d "$(db_conninfo "$target")" --create
	expect_exit 0 || return 1
	bs_on_exit drop_db "$target"
	db_compare "$SRC" "$target"
}
run_test "the untouched archive restores exactly" t_untouched

done_testing
