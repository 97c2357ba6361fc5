#!/usr/bin/env bash
# restore_event_triggers.sh - event triggers are created at the very end of
# a restore (after data, post-data and the materialized views), as
# pg_restore creates them in its last pass: a trigger that logs DDL into a
# table gains no rows from the restore's own statements.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SRC=$(new_db evt)
pg "$SRC" "create schema app;
  create table app.ddl_log (id bigserial primary key, tag text not null, obj text);
  create table app.t (id int primary key, v text);
  insert into app.t select g, 'v' || g from generate_series(1, 200) g;
  create materialized view app.mv as select count(*) as n from app.t;
  create materialized view app.mv2 as select n * 2 as n2 from app.mv;
  create function app.log_ddl() returns event_trigger language plpgsql as \$\$
  declare r record;
  begin
    for r in select * from pg_event_trigger_ddl_commands() loop
      insert into app.ddl_log (tag, obj) values (r.command_tag, r.object_identity);
    end loop;
  end \$\$;
  create function app.log_start() returns event_trigger language plpgsql as \$\$
  begin insert into app.ddl_log (tag) values ('start ' || tg_tag); end \$\$;
  create event trigger log_ddl on ddl_command_end execute function app.log_ddl();
  create event trigger log_start on ddl_command_start execute function app.log_start();
  alter event trigger log_start disable;
  comment on event trigger log_ddl is 'audit of DDL';
  create index t_v_idx on app.t (v);
  refresh materialized view app.mv;" >/dev/null || exit 1
REPO=$BS_TMP/repo
"$BS_BIN/backstop" repo init --repo "$REPO" -q || exit 1

t_snap() {
	run_cmd bs snap --db "dbname=$SRC" --repo "$REPO" --no-encryption -q
	expect_exit 0
	check "the source logged its DDL" test "$(pg "$SRC" 'select count(*) from app.ddl_log')" -ge 2
}
run_test "snapshot of a database with DDL-logging event triggers" t_snap

# restore_check DB [ARGS..]: restore latest into DB, then compare.
restore_check() {
	local db=$1
	shift
	run_cmd bs restore latest --repo "$REPO" -d "$db" -q "$@"
	expect_exit 0 || return 1
	check_eq "the DDL log has the source's rows only" \
		"$(pg "$db" 'select id, tag, obj from app.ddl_log order by id')" \
		"$(pg "$SRC" 'select id, tag, obj from app.ddl_log order by id')"
	check_eq "event triggers, their state and comment are restored" \
		"$(pg "$db" "select evtname, evtevent, evtenabled, coalesce(obj_description(oid, 'pg_event_trigger'), '-') from pg_event_trigger order by 1")" \
		"$(pg "$SRC" "select evtname, evtevent, evtenabled, coalesce(obj_description(oid, 'pg_event_trigger'), '-') from pg_event_trigger order by 1")"
	check_eq "materialized views are populated" "$(pg "$db" 'select n2 from app.mv2')" 400
}

t_restore() {
	local db
	db=$(fresh_db_name evt_dst)
	restore_check "$db" --create -j 2 || return
	check "db_compare: the restore equals the source" db_compare "$SRC" "$db"
	# the triggers work after the restore
	pg "$db" "create table app.after_restore (x int)" >/dev/null
	check_eq "the restored trigger fires afterwards" \
		"$(pg "$db" "select count(*) from app.ddl_log where obj = 'app.after_restore'")" 1
}
run_test "restore --create: event triggers last, nothing logged by the restore" t_restore

t_restore_existing() {
	local db
	db=$(new_db evt_empty)
	restore_check "$db"
}
run_test "restore into an empty database: nothing logged by the restore" t_restore_existing

t_schema_only() {
	local db
	db=$(fresh_db_name evt_so)
	run_cmd bs restore latest --repo "$REPO" -d "$db" --create --schema-only -q
	expect_exit 0 || return
	check_eq "schema-only: the DDL log is empty" "$(pg "$db" 'select count(*) from app.ddl_log')" 0
	check_eq "schema-only: the event triggers exist" "$(pg "$db" 'select count(*) from pg_event_trigger')" 2
}
run_test "restore --schema-only creates the event triggers and logs nothing" t_schema_only

done_testing
