#!/usr/bin/env bash
# localized.sh - errors are classified by SQLSTATE, not by message text:
# against a server whose messages are German (lc_messages = de_DE.UTF-8),
# snap still recognises a missing privilege and says what to do.
. "$(dirname "$0")/lib.sh"

if ! locale -a 2>/dev/null | grep -qix 'de_DE\.utf-\?8'; then
	not_ok "the de_DE.UTF-8 locale is installed (scripts/install-deps.sh generates it)"
	done_testing
fi

SRC=$(new_db loc_src)
pg "$SRC" "create table open_t (id int); insert into open_t values (1);
           create table secret_t (id int); insert into secret_t values (1);
           select lo_from_bytea(0, 'blob');" >/dev/null
pg postgres "do \$\$ begin
               if not exists (select from pg_roles where rolname = 'loc_reader') then
                 create role loc_reader login;
               end if; end \$\$;" >/dev/null
pg "$SRC" "grant select on open_t to loc_reader;
           alter database \"$SRC\" set lc_messages = 'de_DE.UTF-8';" >/dev/null
REPO=$BS_TMP/repo
"$BS_BIN/backstop" repo init --repo "$REPO" -q || exit 1

t_server_speaks_german() {
	run_cmd "$BS_PGBIN/psql" -X -d "$SRC" -U loc_reader -c "select * from secret_t"
	expect_stderr_contains "Berechtigung"
}
run_test "the server's messages are German in this database (the premise)" t_server_speaks_german

t_snap_privilege() {
	run_cmd bs snap -d "$SRC" -U loc_reader --repo "$REPO" --no-encryption
	expect_exit 3
	expect_stderr_contains "secret_t"
	expect_stderr_contains "hint: snapshots read every row of every table"
	check_eq "no snapshot listed" "$(ls "$REPO/snapshots")" ""
}
run_test "snap as a role without SELECT: classified by SQLSTATE 42501, hint given (German server)" t_snap_privilege

t_snap_large_object() {
	pg "$SRC" "grant select on secret_t to loc_reader;" >/dev/null
	run_cmd bs snap -d "$SRC" -U loc_reader --repo "$REPO" --no-encryption
	expect_exit 3
	expect_stderr_contains "hint: the snapshot role needs SELECT on every large object"
	pg "$SRC" "revoke select on secret_t from loc_reader;" >/dev/null
}
run_test "snap without SELECT on a large object: classified by SQLSTATE, hint given (German server)" t_snap_large_object

done_testing
