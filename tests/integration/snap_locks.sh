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

# Every session that reads a table holds a lock on it until its transaction
# ends, one entry in the server's lock table (sized by
# max_locks_per_transaction x connections) per table and session: the
# coordinator's (all tables) keep DDL away, pg_dump takes its own, and the
# workers used to keep one per table copied, a third entry per table, which
# on 5,000 tables ran a server with max_connections 50 out of shared memory
# once the copies ran beside pg_dump.  A worker now gives its locks back by
# rolling back to a savepoint every 16 tables (lib/snap/workers.c): in the
# server's statement log, no worker session runs more than 16 COPYs without
# a ROLLBACK TO SAVEPOINT in between.
t_worker_locks() {
	local from most
	[ -n "${BS_PG_LOG:-}" ] && [ -r "$BS_PG_LOG" ] || { t_skip "the server log is not readable"; return 0; }
	from=$(stat -c %s "$BS_PG_LOG")
	PGOPTIONS="-c log_statement=all" run_cmd bs snap --repo "$REPO" -d "$(db_conninfo "$MANY")" --no-encryption --jobs 2 -q
	expect_exit 0 || return 1
	# per backend ([pid] in the log line prefix): the longest run of COPYs
	most=$(tail -c +"$((from + 1))" "$BS_PG_LOG" | awk '
		match($0, /\[[0-9]+\]/) { pid = substr($0, RSTART, RLENGTH) }
		/statement: COPY / { n[pid]++; if (n[pid] > most) most = n[pid] }
		/statement: ROLLBACK TO SAVEPOINT backstop_copy/ { n[pid] = 0 }
		END { print most + 0 }')
	diag "longest run of COPYs in one worker session without giving its locks back: $most"
	check "at least one worker copied more than 16 tables (the 300 were copied)" test "$most" -ge 16
	check "no worker held more than 16 tables' locks at once" test "$most" -le 16
}
run_test "workers give their table locks back as they go (300 tables)" t_worker_locks

records() { ls "$REPO/snapshots" 2>/dev/null | wc -l; }

t_lock_timeout() {
	local holder before
	before=$(records)
	# another session holds t270 (in the middle of the second batch)
	"$BS_PGBIN/psql" -X -q -d "$MANY" -c "begin; lock table t270 in access exclusive mode; select pg_sleep(60);" \
		>/dev/null 2>&1 </dev/null &
	holder=$!
	bs_on_exit kill "$holder"
	for _ in $(seq 1 100); do
		[ "$(pg "$MANY" "select count(*) from pg_locks where mode = 'AccessExclusiveLock' and relation = 'public.t270'::regclass" 2>/dev/null)" != 0 ] && break
		sleep 0.1
	done
	run_cmd bs snap --repo "$REPO" -d "$(db_conninfo "$MANY")" --no-encryption --lock-timeout 1s
	expect_exit 3 && expect_stderr_contains 'unable to lock table "public"."t270": lock timeout after 1s' &&
		expect_stderr_contains "another session holds a conflicting lock"
	check_eq "nothing was committed" "$(records)" "$before"
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
	# its server process sleeps on, holding the lock, until told
	pg postgres "select pg_terminate_backend(pid) from pg_stat_activity
		where datname = '$MANY' and query like '%pg_sleep(60)%' and pid <> pg_backend_pid()" >/dev/null
}
run_test "a table held by another session: exit 3 naming it and the timeout, nothing committed" t_lock_timeout

drop_reader() {
	pg "$MANY" "drop owned by locks_reader cascade" >/dev/null 2>&1
	pg postgres "drop role if exists locks_reader" >/dev/null 2>&1
}

t_no_rights() {
	local before
	before=$(records)
	pg postgres "drop role if exists locks_reader; create role locks_reader login" >/dev/null
	bs_on_exit drop_reader
	pg "$MANY" "grant select on all tables in schema public to locks_reader; revoke select on t280 from locks_reader" >/dev/null
	run_cmd bs snap --repo "$REPO" -d "$(db_conninfo "$MANY") user=locks_reader" --no-encryption
	expect_exit 3 && expect_stderr_contains 'unable to lock table "public"."t280"' &&
		expect_stderr_contains "permission denied" &&
		expect_stderr_contains "a role with SELECT on every table"
	check_eq "nothing was committed" "$(records)" "$before"
}
run_test "a table the role may not read: exit 3 naming it, with a hint; nothing committed" t_no_rights

done_testing
