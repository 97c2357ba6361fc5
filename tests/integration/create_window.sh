#!/usr/bin/env bash
# create_window.sh - SIGINT/SIGTERM that arrive while CREATE DATABASE runs
# (restore --create's target, a drill's scratch database) leave no database
# behind: the server finishes the statement after the client is gone, so
# the watcher waits for it and drops what it made.
#
# To stop inside CREATE DATABASE deterministically, a session holds a lock
# on template0's database object (COMMENT ON DATABASE in an open
# transaction): CREATE DATABASE ... TEMPLATE template0 waits for it.
. "$(dirname "$0")/lib.sh"

SRC=$(new_db cw_src)
pg "$SRC" "create table t (id int primary key, v text); insert into t select g, md5(g::text) from generate_series(1, 1000) g;" >/dev/null
REPO=$BS_TMP/repo
"$BS_BIN/backstop" repo init --repo "$REPO" -q || exit 1
ID=$("$BS_BIN/backstop" snap -d "$SRC" --repo "$REPO" --no-encryption -q </dev/null) || exit 1

# hold_template0 SECONDS: lock template0 in the background; HOLDER is its pid
hold_template0() {
	"$BS_PGBIN/psql" -X -q -d postgres -c "begin; comment on database template0 is 'held by create_window.sh'; select pg_sleep($1); rollback;" >/dev/null 2>&1 &
	HOLDER=$!
	sleep 0.5
}

# waiting_in_create: a backend is blocked in CREATE DATABASE
waiting_in_create() {
	[ "$(pg postgres "select count(*) from pg_stat_activity where query ilike '%create database%' and wait_event_type = 'Lock' and pid <> pg_backend_pid()")" -gt 0 ]
}

# interrupt_in_create SIG CMD..: start CMD, send SIG once it waits inside
# CREATE DATABASE; RC is its exit status
interrupt_in_create() {
	local sig=$1 pid i
	shift
	hold_template0 6
	"$@" >"$BS_TMP/out" 2>"$BS_TMP/err" </dev/null &
	pid=$!
	for i in $(seq 1 100); do
		waiting_in_create && break
		sleep 0.05
	done
	if ! waiting_in_create; then
		t_fail "the command never waited inside CREATE DATABASE"
	fi
	kill "-$sig" "$pid"
	wait "$pid"
	RC=$?
	wait "$HOLDER"
	# the server goes on with a statement whose client is gone: let it end
	for i in $(seq 1 200); do
		[ "$(pg postgres "select count(*) from pg_stat_activity where query ilike '%create database%' and pid <> pg_backend_pid()")" = 0 ] && break
		sleep 0.05
	done
}

t_restore_create() {
	local sig=$1 code=$2 dst
	dst=$(fresh_db_name cw_dst)
	interrupt_in_create "$sig" "$BS_BIN/backstop-restore" "$ID" --repo "$REPO" -d "$dst" -C
	check_eq "exit status" "$RC" "$code"
	if db_exists "$dst"; then
		t_fail "database $dst was left behind ($(tail -n 3 "$BS_TMP/err"))"
		drop_db "$dst"
	fi
	check "stderr says it was interrupted" grep -q "interrupted by SIG$sig" "$BS_TMP/err"
}
run_test "SIGTERM inside CREATE DATABASE of restore --create: nothing left behind" t_restore_create TERM 143
run_test "SIGINT inside CREATE DATABASE of restore --create: nothing left behind" t_restore_create INT 130

t_drill_create() {
	local left
	interrupt_in_create TERM "$BS_BIN/backstop-verify-restore" "$ID" --repo "$REPO" --scratch "$(db_conninfo postgres)"
	check_eq "exit status" "$RC" 143
	left=$(pg postgres "select string_agg(datname, ' ') from pg_database where datname like 'backstop_drill_%'")
	check_eq "no scratch database left" "$left" ""
}
run_test "SIGTERM inside CREATE DATABASE of a drill's scratch database: nothing left behind" t_drill_create

done_testing
