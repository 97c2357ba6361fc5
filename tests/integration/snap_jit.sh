#!/usr/bin/env bash
# snap_jit.sh - snap's sessions run without JIT (lib/snap/snap.c,
# workers.c, schema.c; issue 12): on a database of thousands of tables the
# schema inventory query passes jit_*_above_cost and compiling it cost more
# server CPU than the whole pg_dump.  A database here sets jit_above_cost = 0
# (every query would be compiled) and logs every plan with auto_explain;
# after a snap, no plan of that database's sessions shows a "JIT:" section,
# while a plain psql query on it does (the positive control).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPO=$BS_TMP/repo
"$BS_BIN/backstop" repo init --repo "$REPO" -q || exit 1

DB=$(new_db jit_src)
bs_on_exit drop_db "$DB"

# plans logged since byte FROM of the server log for database $DB: the
# entries (a "LOG:" header line and its tab-indented continuation lines)
# whose header names the database, one per line, continuations joined
plans_since() {
	tail -c +"$(($1 + 1))" "$BS_PG_LOG" | awk -v db="@$DB " '
		/^[0-9]/ { if (cur != "") print cur; cur = (index($0, db) && index($0, "plan:")) ? $0 : "" ; next }
		cur != "" { cur = cur " " $0 }
		END { if (cur != "") print cur }'
}

t_no_jit() {
	local from plans
	[ -n "${BS_PG_LOG:-}" ] && [ -r "$BS_PG_LOG" ] || { t_skip "the server log is not readable"; return 0; }
	pg "$DB" "do \$\$ begin for i in 1..20 loop
		execute format('create table t%s (id serial primary key, v text)', i);
		execute format('insert into t%s (v) select ''row '' || g from generate_series(1, 50) g', i);
	end loop; end \$\$;" >/dev/null || { t_fail "could not create the tables"; return 1; }
	pg postgres "alter database $DB set jit = on; alter database $DB set jit_above_cost = 0;
		alter database $DB set session_preload_libraries = 'auto_explain';
		alter database $DB set auto_explain.log_min_duration = 0" >/dev/null ||
		{ t_fail "could not configure the database"; return 1; }
	from=$(stat -c %s "$BS_PG_LOG")
	pg "$DB" "select count(*) from t1 where v like 'row%'" >/dev/null
	sleep 0.2
	if ! plans_since "$from" | grep -q 'JIT:'; then
		t_skip "this server does not compile queries with JIT (no llvmjit?)"
		return 0
	fi
	from=$(stat -c %s "$BS_PG_LOG")
	run_cmd bs snap --repo "$REPO" -d "$(db_conninfo "$DB")" --no-encryption --jobs 2 -q
	expect_exit 0 || return 1
	sleep 0.2
	plans=$(plans_since "$from")
	# the coordinator's inventory and pg_dump's catalog queries were logged...
	check "snap's inventory query was planned on $DB" grep -q 'WITH ns AS' <<<"$plans"
	check "pg_dump's queries were planned on $DB" grep -q 'pg_get_indexdef' <<<"$plans"
	# ...and none of snap's sessions compiled one
	check_eq "plans of snap's sessions with JIT" "$(grep -c 'JIT:' <<<"$plans")" 0
}
run_test "snap's sessions (coordinator, workers, pg_dump) run without JIT" t_no_jit

done_testing
