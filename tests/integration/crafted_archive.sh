#!/usr/bin/env bash
# crafted_archive.sh - a crafted chunk number in an archive is refused
# before restore allocates anything for it (it used to allocate and zero
# 512 MiB per table for data/<no>/4294967295.copy.zst).
. "$(dirname "$0")/lib.sh"

SRC=$(new_db cr_src)
pg "$SRC" "create table t (id int primary key, v text); insert into t select g, md5(g::text) from generate_series(1, 1000) g;
           create table u (id int); insert into u select generate_series(1, 10);" >/dev/null
REPO=$BS_TMP/repo
"$BS_BIN/backstop" repo init --repo "$REPO" -q || exit 1

# rename_chunk ARCHIVE NEW-SEQ: rewrite the tar with every table's first
# chunk renamed to data/<tno>/<NEW-SEQ>.copy.zst
rename_chunk() {
	python3 - "$1" "$2" <<'PY'
import sys, tarfile, io, re
path, seq = sys.argv[1], sys.argv[2]
src = tarfile.open(path)
members = [(m, src.extractfile(m).read() if m.isfile() else None) for m in src.getmembers()]
src.close()
out = tarfile.open(path, "w", format=tarfile.PAX_FORMAT)
for m, data in members:
    mm = re.fullmatch(r"data/(\d+)/000000\.copy\.zst", m.name)
    if mm:
        m.name = "data/%s/%s.copy.zst" % (mm.group(1), seq)
    out.addfile(m, io.BytesIO(data) if data is not None else None)
out.close()
PY
}

t_crafted_seq() {
	local id a dst maxkb
	run_cmd bs snap -d "$SRC" --repo "$REPO" --no-encryption -q
	expect_exit 0 || return
	id=$OUT
	a=$REPO/archives/$id.tar
	rename_chunk "$a" 4294967295 || {
		t_fail "could not craft the archive"
		return
	}
	dst=$(fresh_db_name cr_dst)
	run_cmd /usr/bin/time -f '%M' -o "$BS_TMP/rss" "$BS_BIN/backstop-restore" "$id" --repo "$REPO" -d "$dst" -C -q
	expect_exit 3
	expect_stderr_contains "chunk 4294967295 of table"
	expect_stderr_contains "not an archive snap wrote"
	if db_exists "$dst"; then
		t_fail "the database the refused restore created is still there"
	fi
	maxkb=$(tail -n 1 "$BS_TMP/rss")
	diag "peak RSS of the refused restore: ${maxkb} KiB"
	check "peak RSS stays far below the 512 MiB the crafted number asked for" test "$maxkb" -lt 262144
	run_cmd bs verify-restore "$id" --repo "$REPO" --archive-only
	expect_exit 1
	run_cmd bs verify-restore "$id" --repo "$REPO" --scratch "$(db_conninfo postgres)" --stale-grace 0s
	expect_exit 1 "the full drill fails too (exit 1)"
	check "the drill left no scratch database" bash -c "[ -z \"\$1\" ]" _ \
		"$(pg postgres "select datname from pg_database where datname like 'backstop\_drill\_%'")"
	printf 'keep_last: 5\nmin_keep: 1\n' >"$BS_TMP/keep5.yaml"
	run_cmd bs snap prune --repo "$REPO" --policy "$BS_TMP/keep5.yaml"
	expect_exit 0
	check "prune kept the crafted snapshot (its policy keeps it)" test -f "$a" -a -f "$REPO/snapshots/$id.json"
}
run_test "a crafted chunk number is refused before anything is allocated for it (exit 3)" t_crafted_seq

done_testing
