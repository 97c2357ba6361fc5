#!/usr/bin/env bash
# restore_freeze.sh - how restore loads a table it created
# (lib/restore/loaders.c, "Lanes"): a table of some size is loaded in one
# transaction that TRUNCATEs it and uses COPY FREEZE, so its rows arrive
# frozen and every page all-visible (no hint-bit writes or anti-wraparound
# VACUUM later); a table whose first chunk is small (FREEZE_MIN_BYTES) is
# loaded with plain COPY, without the TRUNCATE (new files) and the extra
# commit, which on thousands of tiny tables cost most of the data phase.
# Both restore exactly.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPO=$BS_TMP/repo
"$BS_BIN/backstop" repo init --repo "$REPO" -q || exit 1

# snap_then_restore SRC JOBS SNAP-ARGS..: snap SRC (ID: the snapshot), then
# restore it into a new database (DST) with JOBS loaders
snap_then_restore() {
	local src=$1 jobs=$2
	shift 2
	run_cmd bs snap --db "$(db_conninfo "$src")" --repo "$REPO" --no-encryption -q "$@"
	expect_exit 0 || return 1
	ID=$OUT
	DST=$(fresh_db_name "${src%%_snap*}_dst")
	bs_on_exit drop_db "$DST"
	run_cmd bs restore "$ID" --repo "$REPO" -d "$(db_conninfo "$DST")" --create -j "$jobs"
	expect_exit 0
}

# zbytes ID TABLE: the compressed sizes of TABLE's chunks, one per line
zbytes() {
	tar -xOf "$REPO/archives/$1.tar" manifest.json | jq ".tables[] | select(.name == \"$2\") | .chunks[].zbytes"
}

t_freeze() {
	local src
	src=$(new_db frz_src)
	bs_on_exit drop_db "$src"
	pg "$src" "create table big (id int primary key, v text);
	  insert into big select g, md5(g::text) || md5((g * 31)::text) from generate_series(1, 60000) g;
	  create table tiny (id int primary key, v text);
	  insert into tiny values (1, 'one'), (2, 'two');" >/dev/null || { t_fail "could not create the tables"; return 1; }
	snap_then_restore "$src" 1 --chunk-size 1MiB || return 1
	check "big's first chunk is over 64 KiB" test "$(zbytes "$ID" big | head -n 1)" -gt 65536
	check "the restore equals the source" db_compare "$src" "$DST"
	# ANALYZE (the restore's last step) counts all-visible pages from the
	# visibility map, which COPY FREEZE sets (PostgreSQL 14+)
	check_eq "big: every page all-visible" \
		"$(pg "$DST" "select relallvisible = relpages and relpages > 0 from pg_class where relname = 'big'")" t
	if pg "$DST" "create extension pg_visibility" >/dev/null 2>&1; then
		check_eq "big: every page all-frozen (pg_visibility)" \
			"$(pg "$DST" "select all_frozen = (select relpages from pg_class where relname = 'big')
				from pg_visibility_map_summary('big')")" t
	fi
	check_eq "tiny: restored" "$(pg "$DST" "select string_agg(v, ',' order by id) from tiny")" "one,two"
}
run_test "a table of some size is loaded frozen, a tiny one with plain COPY; both exact" t_freeze

# A table cut into many small chunks (each under FREEZE_MIN_BYTES) is
# loaded with plain COPY from its first chunk to its last: no lane opened
# later may TRUNCATE what the first ones loaded.
t_small_chunks() {
	local src
	src=$(new_db frz_chunks)
	bs_on_exit drop_db "$src"
	pg "$src" "create table many (id int primary key, v text);
	  insert into many select g, 'row ' || g from generate_series(1, 40000) g;" >/dev/null ||
		{ t_fail "could not create the table"; return 1; }
	snap_then_restore "$src" 2 --chunk-size 64KiB --jobs 2 || return 1
	check "many is in more than 5 chunks" test "$(zbytes "$ID" many | wc -l)" -gt 5
	check_eq "chunks of many over 64 KiB" "$(zbytes "$ID" many | awk '$1 >= 65536' | wc -l)" 0
	check_eq "rows restored" "$(pg "$DST" "select count(*) from many")" 40000
	check "the restore equals the source" db_compare "$src" "$DST"
}
run_test "a table in many small chunks loads every chunk (plain COPY throughout)" t_small_chunks

done_testing
