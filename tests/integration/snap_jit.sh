#!/usr/bin/env bash
# snap_jit.sh - no session of snap, restore or a drill runs with JIT
# (lib/pg/conn.c bs_pg_session_setup, lib/snap/schema.c; issue 12): on a
# database of thousands of tables the schema inventory query passes
# jit_*_above_cost and compiling it cost more server CPU than the whole
# pg_dump.  The commands run with PGOPTIONS forcing JIT on for every query
# and logging every plan with auto_explain; no plan logged meanwhile shows a
# "JIT:" section, while a plain psql query under the same options does (the
# positive control).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPO=$BS_TMP/repo
"$BS_BIN/backstop" repo init --repo "$REPO" -q || exit 1

DB=$(new_db jit_src)
bs_on_exit drop_db "$DB"

# JIT forced on for every session of the commands run under it (every
# query compiled), and every plan logged
JIT_ON="-c jit=on -c jit_above_cost=0 -c session_preload_libraries=auto_explain -c auto_explain.log_min_duration=0"

# plans logged since byte FROM of the server log (the tests of this suite
# run one at a time: whatever was planned meanwhile is ours), one entry (a
# "LOG:" header line and its tab-indented continuation lines) per line
plans_since() {
	tail -c +"$(($1 + 1))" "$BS_PG_LOG" | awk '
		/^[0-9]/ { if (cur != "") print cur; cur = index($0, "plan:") ? $0 : ""; next }
		cur != "" { cur = cur " " $0 }
		END { if (cur != "") print cur }'
}

t_no_jit() {
	local from plans target
	[ -n "${BS_PG_LOG:-}" ] && [ -r "$BS_PG_LOG" ] || { t_skip "the server log is not readable"; return 0; }
	pg "$DB" "do \$\$ begin for i in 1..20 loop
		execute format('create table t%s (id serial primary key, v text)', i);
		execute format('insert into t%s (v) select ''row '' || g from generate_series(1, 50) g', i);
	end loop; end \$\$;" >/dev/null || { t_fail "could not create the tables"; return 1; }
	from=$(stat -c %s "$BS_PG_LOG")
	PGOPTIONS=$JIT_ON pg "$DB" "select count(*) from t1 where v like 'row%'" >/dev/null
	sleep 0.2
	if ! plans_since "$from" | grep -q 'JIT:'; then
		t_skip "this server does not compile queries with JIT (no llvmjit?)"
		return 0
	fi

	from=$(stat -c %s "$BS_PG_LOG")
	PGOPTIONS=$JIT_ON run_cmd bs snap --repo "$REPO" -d "$(db_conninfo "$DB")" --no-encryption --jobs 2 -q
	expect_exit 0 || return 1
	sleep 0.2
	plans=$(plans_since "$from")
	# the coordinator's inventory and pg_dump's catalog queries were logged...
	check "snap's inventory query was planned" grep -q 'WITH ns AS' <<<"$plans"
	check "pg_dump's queries were planned" grep -q 'pg_get_indexdef' <<<"$plans"
	# ...and none of snap's sessions compiled one
	check_eq "plans of snap's sessions with JIT" "$(grep -c 'JIT:' <<<"$plans")" 0

	# a restore drill recomputes the inventory on its scratch copy (the
	# query that was JIT-compiled for seconds on thousands of tables)
	from=$(stat -c %s "$BS_PG_LOG")
	PGOPTIONS=$JIT_ON run_cmd bs verify-restore --repo "$REPO" latest --scratch "$(db_conninfo postgres)" -q
	expect_exit 0 || return 1
	sleep 0.2
	plans=$(plans_since "$from")
	check "the drill's inventory query was planned" grep -q 'WITH ns AS' <<<"$plans"
	check_eq "plans of the drill's sessions with JIT" "$(grep -c 'JIT:' <<<"$plans")" 0

	target=$(fresh_db_name jit_dst)
	bs_on_exit drop_db "$target"
	from=$(stat -c %s "$BS_PG_LOG")
	PGOPTIONS=$JIT_ON run_cmd bs restore latest --repo "$REPO" -d "$(db_conninfo "$target")" --create -j 2 -q
	expect_exit 0 || return 1
	sleep 0.2
	plans=$(plans_since "$from")
	check "the restore's queries were planned" grep -q 'plan:' <<<"$plans"
	check_eq "plans of the restore's sessions with JIT" "$(grep -c 'JIT:' <<<"$plans")" 0
	check_eq "rows restored" "$(pg "$target" "select count(*) from t20")" 50
}
run_test "snap, restore and drill sessions (and their pg_dump, pg_restore) run without JIT" t_no_jit

done_testing
