#!/usr/bin/env bash
# restore_overlap.sh - a table's indexes and key constraints are built as
# soon as its data is in, while other tables still load (format version 3:
# each table's end member, docs/format.md "Table end members").  Archives
# without end members (version 2) still restore, without the overlap; an
# end member that contradicts the archive or the manifest is refused,
# naming the table, and the refused restore leaves nothing behind.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# ov_first (~11 MB of COPY text) ends long before ov_last (~33 MB, too small to be cut into ctid ranges): snap
# copies both at once, so the archive holds ov_first's end member while
# most of ov_last's chunks are still to come.
SRC=$(new_db ov)
pg "$SRC" "create table ov_first (id int primary key, v text not null);
  insert into ov_first select g, md5(g::text) || md5((g * 7)::text) from generate_series(1, 150000) g;
  create index ov_first_v_idx on ov_first (v);
  create table ov_last (id int primary key, v text not null, f int references ov_first (id));
  insert into ov_last select g, md5(g::text) || md5((g * 3)::text), 1 + g % 1000 from generate_series(1, 450000) g;
  create index ov_last_v_idx on ov_last (v);
  create table ov_small (k text primary key, n int check (n > 0));
  insert into ov_small select 'k' || g, g from generate_series(1, 50) g;
  create table ov_empty (id int primary key);
  comment on index ov_first_v_idx is 'built early';" >/dev/null || exit 1
REPO=$BS_TMP/repo
"$BS_BIN/backstop" repo init --repo "$REPO" -q || exit 1
ID=

# table_no NAME ARCHIVE: the table's number in backstop.json
table_no() {
	tar -xOf "$2" backstop.json | python3 -c '
import json, sys
for t in json.load(sys.stdin)["tables"]:
    if t["name"] == sys.argv[1]:
        print("%06d" % t["no"])' "$1"
}

# log_line PATTERN FROM first|last: line number (after byte offset FROM) in
# the server log of the first or last line matching PATTERN, or 0
log_line() {
	tail -c +"$(($2 + 1))" "$BS_PG_LOG" | grep -n -E "$1" | { if [ "$3" = first ]; then head -n 1; else tail -n 1; fi; } |
		cut -d: -f1 | grep . || echo 0
}

# restore_logged DB ARCHIVE-ID: restore with every statement in the server
# log (log_statement=all for the restore's sessions and its pg_restore);
# sets FROM to the log's size before it
restore_logged() {
	FROM=$(stat -c %s "$BS_PG_LOG")
	run_cmd env PGOPTIONS="-c log_statement=all" "$BS_BIN/backstop-restore" "$2" --repo "$REPO" \
		-d "$(db_conninfo "$1")" --create -j 2 -v
}

t_snap() {
	local a
	run_cmd bs snap --db "dbname=$SRC" --repo "$REPO" --no-encryption -q --jobs 2 --chunk-size 1MiB
	expect_exit 0 || return
	ID=$OUT
	a=$REPO/archives/$ID.tar
	check_eq "backstop.json says format version 3" \
		"$(tar -xOf "$a" backstop.json | python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])')" 3
	check_eq "every table has one end member" "$(tar -tf "$a" | grep -c '^data/[0-9]*/end\.json$')" 4
	check "ov_first's end member comes before ov_last's last chunk" bash -c '
		tar -tf "$1" | grep -n -E "^data/($2/end\.json|$3/[0-9]+\.copy\.zst)$" | tail -n 1 | grep -q "/$3/"' _ \
		"$a" "$(table_no ov_first "$a")" "$(table_no ov_last "$a")"
	check_eq "the end member counts the table's chunks" \
		"$(tar -xOf "$a" "data/$(table_no ov_last "$a")/end.json" | python3 -c 'import json, sys; print(json.load(sys.stdin)["chunks"])')" \
		"$(tar -tf "$a" | grep -c "^data/$(table_no ov_last "$a")/[0-9]*\.copy\.zst$")"
}
run_test "snap writes an end member after each table's last chunk" t_snap

t_overlap() {
	local db early last
	db=$(fresh_db_name ov_dst)
	restore_logged "$db" "$ID"
	expect_exit 0 || return
	check "db_compare: the restore equals the source" db_compare "$SRC" "$db"
	expect_stderr_contains "while loading"
	early=$(log_line 'CREATE INDEX ov_first_v_idx|ADD CONSTRAINT ov_first_pkey' "$FROM" first)
	last=$(log_line 'COPY .*ov_last.* FROM STDIN' "$FROM" last)
	diag "server log: first post-data statement of ov_first at line $early, last COPY into ov_last at line $last"
	check "ov_first's index or primary key was built early" test "$early" -gt 0
	check "... before the last chunk of ov_last started loading" test "$early" -lt "$last"
	check "the foreign key waited for the final pass (after the last COPY)" \
		test "$(log_line 'ADD CONSTRAINT ov_last_f_fkey' "$FROM" first)" -gt "$last"
	check_eq "the comment on the early index is restored" \
		"$(pg "$db" "select obj_description('ov_first_v_idx'::regclass, 'pg_class')")" "built early"
}
run_test "post-data of a finished table runs while other tables load (-j 2)" t_overlap

# snap writes first the tables whose indexes cost more to build than their
# rows to load (lib/snap/tables.c, cmp_item): a restore then builds them
# while the rest loads, instead of ending on them.  With one job the order
# in the archive is the order of the copies.
t_costly_post_first() {
	local db repo=$BS_TMP/repo_order a first
	db=$(new_db ov_order)
	bs_on_exit drop_db "$db"
	pg "$db" "create table big (id int primary key, v text);
	  insert into big select g, md5(g::text) from generate_series(1, 100000) g;
	  create table docs (id int, doc jsonb);
	  insert into docs select g, jsonb_build_object('k', g, 'tags', jsonb_build_array(g % 7, g % 11))
	    from generate_series(1, 8000) g;
	  create index docs_doc_idx on docs using gin (doc);
	  create table plain (id int);
	  insert into plain select generate_series(1, 30000);" >/dev/null || { t_fail "could not create the tables"; return 1; }
	check "big holds more than docs" \
		test "$(pg "$db" "select pg_relation_size('big') > 2 * pg_relation_size('docs')")" = t
	"$BS_BIN/backstop" repo init --repo "$repo" -q || return 1
	run_cmd bs snap --db "$(db_conninfo "$db")" --repo "$repo" --no-encryption -q --jobs 1
	expect_exit 0 || return 1
	a=$repo/archives/$OUT.tar
	first=$(tar -tf "$a" | grep -m1 '^data/')
	check_eq "the first data member is docs' (GIN index), then big's, then plain's" \
		"$(tar -tf "$a" | grep -E '^data/[0-9]+/end\.json$' | cut -d/ -f2 | tr '\n' ' ')" \
		"$(table_no docs "$a") $(table_no big "$a") $(table_no plain "$a") "
	check_eq "first data member" "$first" "data/$(table_no docs "$a")/000000.copy.zst"
}
run_test "snap copies first the tables whose indexes cost more than their rows" t_costly_post_first

# rewrite ARCHIVE NEW-ID PYTHON: rewrite the tar member by member as the
# archive of snapshot NEW-ID (the id in backstop.json and manifest.json; the
# manifest's "members" digests dropped, as in archives of backstop < 0.3);
# PYTHON is the body of edit(name, data, tables) returning (name, data), or
# None to drop the member (tables: name -> "%06d" number; all_names: every
# member's name)
rewrite() {
	python3 - "$1" "$2" "$3" <<'PY'
import io, json, sys, tarfile
path, new, body = sys.argv[1], sys.argv[2], sys.argv[3]
src = tarfile.open(path)
members = [(m, src.extractfile(m).read()) for m in src.getmembers() if m.isfile()]
src.close()
ns = {"json": json, "all_names": [m.name for m, _ in members]}
exec("def edit(name, data, tables):\n" + "\n".join("    " + l for l in body.splitlines()), ns)
tables = {t["name"]: "%06d" % t["no"] for t in json.loads(members[0][1])["tables"]}
out = tarfile.open(path, "w", format=tarfile.PAX_FORMAT)
for m, data in members:
    if m.name in ("backstop.json", "manifest.json"):
        j = json.loads(data); j["id"] = new; j.pop("members", None)
        data = (json.dumps(j, indent=1) + "\n").encode()
    r = ns["edit"](m.name, data, tables)
    if r is None:
        continue
    m.name, data = r
    m.size = len(data)
    out.addfile(m, io.BytesIO(data))
out.close()
PY
}

# a copy of snapshot ID under a new id, its record set to version 1 (no
# digests: docs/format.md, "Binding") so the rewritten archive is bound by
# its header only; prints the new id
copy_snapshot() {
	local new=${ID%-*}-$1
	cp "$REPO/archives/$ID.tar" "$REPO/archives/$new.tar"
	rewrite "$REPO/archives/$new.tar" "$new" "$2" || return 1
	python3 - "$REPO/snapshots/$ID.json" "$REPO/snapshots/$new.json" "$new" "$(stat -c %s "$REPO/archives/$new.tar")" <<-'EOF' || return 1
		import json, sys
		j = json.load(open(sys.argv[1])); j["id"] = sys.argv[3]; j["bytes"] = int(sys.argv[4]); j["version"] = 1
		j["archive"] = "archives/%s.tar" % sys.argv[3]
		for k in ("archive_sha256", "header_sha256", "schema_sha256", "manifest_sha256"):
		    j.pop(k, None)
		open(sys.argv[2], "w").write(json.dumps(j, indent=1) + "\n")
	EOF
	printf '%s\n' "$new"
}

t_old_format() {
	local old db last first_pd
	# the archive as backstop wrote it before end members: version 2
	old=$(copy_snapshot 00000a '
if name.endswith("/end.json"):
    return None
if name in ("backstop.json", "manifest.json"):
    j = json.loads(data); j["version"] = 2
    data = (json.dumps(j, indent=1) + "\n").encode()
return name, data') || { t_fail "could not craft the archive"; return; }
	db=$(fresh_db_name ov_old)
	restore_logged "$db" "$old"
	expect_exit 0 || return
	check "db_compare: a version 2 archive restores the same database" db_compare "$SRC" "$db"
	last=$(log_line 'COPY .*FROM STDIN' "$FROM" last)
	first_pd=$(log_line 'CREATE INDEX|ADD CONSTRAINT' "$FROM" first)
	check "without end members, post-data waits for all the data" test "$first_pd" -gt "$last"
	run_cmd bs verify-restore "$old" --repo "$REPO" --archive-only
	expect_exit 0 "verify-restore --archive-only accepts the version 2 archive"
}
run_test "an archive without end members (format version 2) still restores, without overlap" t_old_format

t_contradicts_chunks() {
	local bad db
	# ov_first's end member claims one chunk more than came before it
	bad=$(copy_snapshot 00000b '
if name == "data/%s/end.json" % tables["ov_first"]:
    j = json.loads(data); j["chunks"] += 1; data = json.dumps(j).encode()
return name, data') || { t_fail "could not craft the archive"; return; }
	db=$(fresh_db_name ov_bad)
	run_cmd bs restore "$bad" --repo "$REPO" -d "$(db_conninfo "$db")" --create -j 2
	expect_exit 3 || return
	expect_stderr_contains "end.json' says table public.ov_first has"
	check "the refused restore left no database" bash -c '! "$@"' _ db_exists "$db"
	run_cmd bs verify-restore "$bad" --repo "$REPO" --archive-only
	expect_exit 1
	expect_stdout_contains "ov_first"
}
run_test "an end member that miscounts the chunks before it is refused, naming the table (exit 3)" t_contradicts_chunks

t_contradicts_manifest() {
	local bad db
	# ov_first's last chunk left out and its end member counting one fewer:
	# consistent in the stream, but not with manifest.json
	bad=$(copy_snapshot 00000c '
t = tables["ov_first"]
n = sum(1 for x in all_names if x.startswith("data/%s/" % t) and x.endswith(".copy.zst"))
if name == "data/%s/%06d.copy.zst" % (t, n - 1):
    return None
if name == "data/%s/end.json" % t:
    data = json.dumps({"chunks": n - 1}).encode()
return name, data') || { t_fail "could not craft the archive"; return; }
	db=$(fresh_db_name ov_bad2)
	run_cmd bs restore "$bad" --repo "$REPO" -d "$(db_conninfo "$db")" --create -j 2
	expect_exit 3 || return
	expect_stderr_contains "table public.ov_first: archive member 'data/"
	expect_stderr_contains "manifest.json lists"
	check "the refused restore left no database" bash -c '! "$@"' _ db_exists "$db"
	run_cmd bs verify-restore "$bad" --repo "$REPO" --archive-only
	expect_exit 1
	expect_stdout_contains "manifest.json lists"
}
run_test "an end member that contradicts the manifest is refused, naming the table (exit 3)" t_contradicts_manifest

done_testing
