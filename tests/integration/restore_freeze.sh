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

t_freeze() {
	local src dst
	src=$(new_db frz_src)
	bs_on_exit drop_db "$src"
	pg "$src" "create table big (id int primary key, v text);
	  insert into big select g, md5(g::text) || md5((g * 31)::text) from generate_series(1, 60000) g;
	  create table tiny (id int primary key, v text);
	  insert into tiny values (1, 'one'), (2, 'two');" >/dev/null || { t_fail "could not create the tables"; return 1; }
	run_cmd bs snap --db "$(db_conninfo "$src")" --repo "$REPO" --no-encryption -q --chunk-size 1MiB
	expect_exit 0 || return 1
	check "big's first chunk is over 64 KiB" bash -c \
		'[ "$(tar -xOf "$1" manifest.json | jq "[.tables[] | select(.name == \"big\") | .chunks[0].zbytes][0]")" -gt 65536 ]' \
		_ "$REPO/archives/$OUT.tar"
	dst=$(fresh_db_name frz_dst)
	bs_on_exit drop_db "$dst"
	run_cmd bs restore "$OUT" --repo "$REPO" -d "$(db_conninfo "$dst")" --create -j 1
	expect_exit 0 || return 1
	check "the restore equals the source" db_compare "$src" "$dst"
	# ANALYZE (the restore's last step) counts all-visible pages from the
	# visibility map, which COPY FREEZE sets (PostgreSQL 14+)
	check_eq "big: every page all-visible" \
		"$(pg "$dst" "select relallvisible = relpages and relpages > 0 from pg_class where relname = 'big'")" t
	if pg "$dst" "create extension pg_visibility" >/dev/null 2>&1; then
		check_eq "big: every page all-frozen (pg_visibility)" \
			"$(pg "$dst" "select all_frozen = (select relpages from pg_class where relname = 'big')
				from pg_visibility_map_summary('big')")" t
	fi
	check_eq "tiny: restored" "$(pg "$dst" "select string_agg(v, ',' order by id) from tiny")" "one,two"
}
run_test "a table of some size is loaded frozen, a tiny one with plain COPY; both exact" t_freeze

# A table cut into many small chunks (each under FREEZE_MIN_BYTES) is
# loaded with plain COPY from its first chunk to its last: no lane opened
# later may TRUNCATE what the first ones loaded.
t_small_chunks() {
	local src dst id
	src=$(new_db frz_chunks)
	bs_on_exit drop_db "$src"
	pg "$src" "create table many (id int primary key, v text);
	  insert into many select g, 'row ' || g from generate_series(1, 40000) g;" >/dev/null ||
		{ t_fail "could not create the table"; return 1; }
	run_cmd bs snap --db "$(db_conninfo "$src")" --repo "$REPO" --no-encryption -q --chunk-size 64KiB --jobs 2
	expect_exit 0 || return 1
	id=$OUT
	check "many is in more than 5 chunks, each under 64 KiB" bash -c \
		'tar -xOf "$1" manifest.json | jq -e "[.tables[] | select(.name == \"many\") | .chunks[]] | length > 5 and all(.zbytes < 65536)"' \
		_ "$REPO/archives/$id.tar"
	dst=$(fresh_db_name frz_chunks_dst)
	bs_on_exit drop_db "$dst"
	run_cmd bs restore "$id" --repo "$REPO" -d "$(db_conninfo "$dst")" --create -j 2
	expect_exit 0 || return 1
	check_eq "rows restored" "$(pg "$dst" "select count(*) from many")" 40000
	check "the restore equals the source" db_compare "$src" "$dst"
}
run_test "a table in many small chunks loads every chunk (plain COPY throughout)" t_small_chunks

done_testing
