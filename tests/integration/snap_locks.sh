#!/usr/bin/env bash
# snap_locks.sh - snap locks every table before it reads (lib/snap/tables.c),
# in batches of statements, and says which table it could not lock:
#   * a database of 300 tables (more than one lock batch) snaps and restores
#     exactly;
#   * a table another session holds ACCESS EXCLUSIVE: exit 3 after
#     --lock-timeout, naming that table and the timeout, nothing committed;
#   * a table the snapping role may not read: exit 3 naming the table, with
#     the hint about the role's rights; nothing committed.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPO=$BS_TMP/repo
"$BS_BIN/backstop" repo init --repo "$REPO" -q || exit 1

MANY=$(new_db locks_many)
bs_on_exit drop_db "$MANY"

t_many_tables() {
	local target
	pg "$MANY" "do \$\$ begin for i in 1..300 loop
		execute format('create table t%s (id int primary key, v text)', i);
		execute format('insert into t%s values (%s, ''row %s'')', i, i, i);
	end loop; end \$\$;" >/dev/null || { t_fail "could not create the tables"; return 1; }
	run_cmd bs snap --repo "$REPO" -d "$(db_conninfo "$MANY")" --no-encryption -q
	expect_exit 0 || return 1
	target=$(fresh_db_name locks_rs)
	bs_on_exit drop_db "$target"
	run_cmd bs restore latest --repo "$REPO" --database "$MANY" -d "$(db_conninfo "$target")" --create -q
	expect_exit 0 || return 1
	db_compare "$MANY" "$target"
}
run_test "300 tables (several lock batches) snap and restore exactly" t_many_tables

records() { ls "$REPO/snapshots" 2>/dev/null | wc -l; }

t_lock_timeout() {
	local holder before
	before=$(records)
	# another session holds t270 (in the middle of the second batch)
	"$BS_PGBIN/psql" -X -q -d "$MANY" -c "begin; lock table t270 in access exclusive mode; select pg_sleep(60);" \
		>/dev/null 2>&1 </dev/null &
	holder=$!
	bs_on_exit "kill $holder 2>/dev/null"
	for _ in $(seq 1 100); do
		[ "$(pg postgres "select count(*) from pg_locks where mode = 'AccessExclusiveLock' and relation = (select oid from pg_class where relname = 't270' and relkind = 'r' limit 1)" 2>/dev/null)" != 0 ] && break
		sleep 0.1
	done
	run_cmd bs snap --repo "$REPO" -d "$(db_conninfo "$MANY")" --no-encryption --lock-timeout 1s
	expect_exit 3 && expect_stderr_contains 'unable to lock table "public"."t270": lock timeout after 1s' &&
		expect_stderr_contains "another session holds a conflicting lock"
	check_eq "nothing was committed" "$(records)" "$before"
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
}
run_test "a table held by another session: exit 3 naming it and the timeout, nothing committed" t_lock_timeout

t_no_rights() {
	local before
	before=$(records)
	pg postgres "drop role if exists locks_reader; create role locks_reader login" >/dev/null
	bs_on_exit "pg postgres 'drop owned by locks_reader cascade; drop role if exists locks_reader' >/dev/null 2>&1"
	pg "$MANY" "grant select on all tables in schema public to locks_reader; revoke select on t280 from locks_reader" >/dev/null
	run_cmd bs snap --repo "$REPO" -d "$(db_conninfo "$MANY") user=locks_reader" --no-encryption
	expect_exit 3 && expect_stderr_contains 'unable to lock table "public"."t280"' &&
		expect_stderr_contains "permission denied" &&
		expect_stderr_contains "a role with SELECT on every table"
	check_eq "nothing was committed" "$(records)" "$before"
}
run_test "a table the role may not read: exit 3 naming it, with a hint; nothing committed" t_no_rights

done_testing
