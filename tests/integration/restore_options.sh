#!/usr/bin/env bash
# restore_options.sh - restore's selection and safety options at the
# command line: --list, --table, --schema-only then --data-only, --clean
# over a changed copy, --before, and --json.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SRC=$(new_db ro)
pg "$SRC" "create schema shop;
  create table shop.customer (id int primary key, name text not null);
  create table shop.orders (id bigserial primary key, customer int references shop.customer, total numeric(10,2));
  create table public.audit (at timestamptz default now(), what text);
  insert into shop.customer select g, 'c' || g from generate_series(1, 500) g;
  insert into shop.orders (customer, total) select 1 + g % 500, g / 7.0 from generate_series(1, 5000) g;
  insert into public.audit (what) select 'e' || g from generate_series(1, 50) g;" >/dev/null
REPO=$BS_TMP/repo
"$BS_BIN/backstop" repo init --repo "$REPO" -q || exit 1

t_snap() {
	run_cmd bs snap --db "dbname=$SRC" --repo "$REPO" --no-encryption -q
	expect_exit 0
	FIRST=$(echo "$OUT" | head -1)
	sleep 1.1
	pg "$SRC" "insert into public.audit (what) values ('after first snapshot')" >/dev/null
	run_cmd bs snap --db "dbname=$SRC" --repo "$REPO" --no-encryption -q
	expect_exit 0
	SECOND=$(echo "$OUT" | head -1)
}
run_test "two snapshots a second apart" t_snap

t_list() {
	run_cmd bs restore latest --repo "$REPO" --list
	expect_exit 0
	expect_stdout_contains "shop.orders"
	expect_stdout_matches 'shop\.orders +5000 '
	run_cmd bs restore "$FIRST" --repo "$REPO" --list --json
	expect_exit 0
	check "--list --json names tables with row counts" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
t = {x["schema"] + "." + x["name"]: x["rows"] for x in d["tables"]}
assert t == {"shop.customer": 500, "shop.orders": 5000, "public.audit": 50}, t
' "$OUT"
}
run_test "--list (text and --json): tables and row counts, nothing restored" t_list

t_before() {
	local when
	when=$(python3 -c 'import sys; s=sys.argv[1]; print("%s-%s-%sT%s:%s:%sZ" % (s[0:4], s[4:6], s[6:8], s[9:11], s[11:13], s[13:15]))' "$SECOND")
	run_cmd bs restore --before "$when" --repo "$REPO" --list --json
	expect_exit 0
	check "--before picks the older snapshot" python3 -c 'import json,sys; assert json.loads(sys.argv[1])["id"] == sys.argv[2]' "$OUT" "$FIRST"
	run_cmd bs restore --before 2001-01-01T00:00:00Z --repo "$REPO" --list
	expect_exit 2
	expect_stderr_contains "no snapshot started before"
}
run_test "--before TIME picks the newest snapshot started before it" t_before

t_table() {
	local db=${SRC}_tab
	run_cmd bs restore latest --repo "$REPO" --target "dbname=$db" --create --table shop.customer -q
	expect_exit 0
	check_eq "the named table is restored with its rows" "$(pg "$db" 'select count(*) from shop.customer')" 500
	check_eq "other tables are not restored" \
		"$(pg "$db" "select count(*) from pg_tables where schemaname in ('shop','public') and tablename <> 'customer'")" 0
	check_eq "its primary key came with it" \
		"$(pg "$db" "select count(*) from pg_indexes where schemaname='shop' and tablename='customer'")" 1
	drop_db "$db"
	run_cmd bs restore latest --repo "$REPO" --target "dbname=$db" --create --table shop.nope -q
	expect_exit 2
	expect_stderr_contains "shop.nope"
	check "no database for an unknown table" bash -c "! psql -XAtc 'select 1' -d '$db' >/dev/null 2>&1"
}
run_test "--table restores one table with its indexes; an unknown table exits 2" t_table

t_schema_then_data() {
	local db=${SRC}_sd
	run_cmd bs restore latest --repo "$REPO" --target "dbname=$db" --create --schema-only -q
	expect_exit 0
	check_eq "schema-only: tables exist" "$(pg "$db" "select count(*) from pg_tables where schemaname in ('shop','public')")" 3
	check_eq "schema-only: no rows" "$(pg "$db" 'select count(*) from shop.orders')" 0
	run_cmd bs restore latest --repo "$REPO" --target "dbname=$db" --data-only -q
	expect_exit 0
	check "schema-only then data-only equals the source" db_compare "$SRC" "$db"
	run_cmd bs restore latest --repo "$REPO" --target "dbname=$db" --data-only --create -q
	expect_exit 2
	drop_db "$db"
}
run_test "--schema-only, then --data-only into it, equals the source; --data-only --create is refused" t_schema_then_data

t_clean() {
	local db=${SRC}_cl
	run_cmd bs restore latest --repo "$REPO" --target "dbname=$db" --create -q
	expect_exit 0
	pg "$db" "delete from shop.orders where id < 100; update shop.customer set name = 'x'; drop table public.audit;" >/dev/null
	run_cmd bs restore latest --repo "$REPO" --target "dbname=$db" -q
	expect_exit 2
	expect_stderr_contains "not empty"
	check_eq "refusal changed nothing" "$(pg "$db" 'select count(*) from shop.orders')" 4901
	run_cmd bs restore latest --repo "$REPO" --target "dbname=$db" --clean -q
	expect_exit 0
	check "--clean over a changed copy equals the source" db_compare "$SRC" "$db"
	drop_db "$db"
}
run_test "--clean restores over a changed copy; without it the target is refused untouched" t_clean

t_json() {
	local db=${SRC}_js
	run_cmd bs restore latest --repo "$REPO" --target "dbname=$db" --create --json -q
	expect_exit 0
	check "--json summary" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["snapshot"] == sys.argv[2] and d["created"] is True and d["tables"] == 3 and d["rows"] == 5551, d
assert d["seconds"]["total"] > 0
' "$OUT" "$SECOND"
	drop_db "$db"
}
run_test "restore --json prints a summary (snapshot, tables, rows, timings)" t_json

t_create_exists() {
	run_cmd bs restore latest --repo "$REPO" --target "dbname=$SRC" --create -q
	expect_exit 2
	expect_stderr_contains "already exists"
	check_eq "the existing database is untouched" "$(pg "$SRC" 'select count(*) from shop.orders')" 5000
}
run_test "--create onto an existing database is refused, it stays untouched" t_create_exists

t_keep_on_error() {
	local db=${SRC}_keep r2=$BS_TMP/repo2 a
	cp -a "$REPO" "$r2"
	a=$(ls "$r2"/archives/*.tar | tail -1)
	truncate -s $(( $(stat -c %s "$a") * 2 / 3 )) "$a"
	run_cmd bs restore latest --repo "$r2" --target "dbname=$db" --create -q
	expect_exit 3
	check "a failed restore drops the database it created" bash -c "! psql -XAtc 'select 1' -d '$db' >/dev/null 2>&1"
	run_cmd bs restore latest --repo "$r2" --target "dbname=$db" --create --keep-on-error -q
	expect_exit 3
	expect_stderr_contains "kept"
	check "--keep-on-error keeps it for inspection" db_exists "$db"
	drop_db "$db"
}
run_test "a failed --create restore drops its database; --keep-on-error keeps it and says so" t_keep_on_error

t_interrupt() { # SIGNAL EXIT
	local big db=${SRC}_int$1 pid rc i
	big=$(new_db ro_big)
	pg "$big" "create table b (id int primary key, pad text); insert into b select g, repeat(md5(g::text), 6) from generate_series(1, 600000) g;" >/dev/null
	bs repo init --repo "$BS_TMP/bigrepo" -q
	run_cmd bs snap --db "dbname=$big" --repo "$BS_TMP/bigrepo" --no-encryption -q
	expect_exit 0
	"$BS_BIN/backstop" restore latest --repo "$BS_TMP/bigrepo" --target "dbname=$db" --create -q >/dev/null 2>"$BS_TMP/int.err" &
	pid=$!
	for i in $(seq 1 100); do
		db_exists "$db" && break
		sleep 0.05
	done
	sleep 0.3
	kill -"$1" "$pid"
	wait "$pid"
	rc=$?
	check_eq "exit status 128+signal" "$rc" "$2"
	check "the database it created is gone" bash -c "! psql -XAtc 'select 1' -d '$db' >/dev/null 2>&1"
	check "it says so" grep -q "dropped the partially restored database" "$BS_TMP/int.err"
	drop_db "$big"
	rm -rf "$BS_TMP/bigrepo"
}
run_test "SIGTERM during restore --create: the created database is dropped, exit 143" t_interrupt TERM 143
run_test "SIGINT during restore --create: the created database is dropped, exit 130" t_interrupt INT 130

done_testing
