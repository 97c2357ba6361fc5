#!/usr/bin/env bash
# drill_inventory.sh - the drill's schema inventory (inventory version 2)
# compares full definitions, owners, grants, comments and enable states:
# a drill kept with --keep, tampered one way, and re-verified reports the
# object.  One tampering at a time: a changed column default, SET NOT NULL,
# DROP NOT NULL, DETACH PARTITION, a changed function body (beyond the 63
# bytes version 1 compared), a changed view query, a revoked grant, a new
# owner, a changed comment, a disabled trigger.  And a source database
# with an invalid index (a failed CREATE UNIQUE INDEX CONCURRENTLY) passes
# a drill: pg_dump leaves such an index out, as the restore does.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BS_CMD_TIMEOUT=${BS_CMD_TIMEOUT_VERIFY_RESTORE:-180}
REPO=$BS_TMP/repo
"$BS_BIN/backstop" repo init --repo "$REPO" -q || exit 1
SCRATCH=$(db_conninfo postgres)
ROLE_R=bs_drill_inv_reader
ROLE_O=bs_drill_inv_owner

pg postgres "do \$\$ begin
  if not exists (select from pg_roles where rolname = '$ROLE_R') then create role $ROLE_R nologin; end if;
  if not exists (select from pg_roles where rolname = '$ROLE_O') then create role $ROLE_O nologin; end if;
end \$\$" >/dev/null || exit 1
bs_on_exit pg postgres "drop role if exists $ROLE_R; drop role if exists $ROLE_O"

SRC=$(new_db di_src)
bs_on_exit drop_db "$SRC" # (new_db's own clean-up is lost in the $(...) subshell)
pg "$SRC" "create schema app;
  create table app.t (id int primary key,
    v text default 'a default value that is longer than sixty-three bytes, so version 1 cut it',
    n int not null, w int);
  insert into app.t (id, n, w) select g, g, g from generate_series(1, 100) g;
  create table app.p (id int, k int) partition by range (k);
  create table app.p1 partition of app.p for values from (0) to (100);
  create table app.p2 partition of app.p for values from (100) to (200);
  insert into app.p select g, g from generate_series(0, 199) g;
  create function app.f(x int) returns int language plpgsql as \$f\$
  begin
    -- a body longer than sixty-three bytes: version 1 of the inventory compared only its start
    return x + 1;
  end \$f\$;
  create view app.v as select id, v from app.t where n > 0;
  create function app.trgf() returns trigger language plpgsql as \$f\$ begin return new; end \$f\$;
  create trigger trg before insert on app.t for each row execute function app.trgf();
  grant select on app.t to $ROLE_R;
  alter table app.t owner to $ROLE_O;
  comment on table app.t is 'the t table';
  create table app.dup (x int);
  insert into app.dup values (1), (1), (2);" >/dev/null || exit 1
# fails on the duplicate and leaves the index behind, invalid
pg "$SRC" "create unique index concurrently dup_x_key on app.dup (x)" >/dev/null 2>&1

vr() {
	bs verify-restore --repo "$REPO" "$@"
}

t_snap() {
	check_eq "the source has an invalid index" \
		"$(pg "$SRC" "select indisvalid from pg_index where indexrelid = 'app.dup_x_key'::regclass")" f
	run_cmd bs snap --db "$(db_conninfo "$SRC")" --repo "$REPO" --no-encryption -q
	expect_exit 0
	ID=$(head -n 1 "$OUT_FILE")
}
run_test "snapshot of a database with an invalid index" t_snap

t_drill_passes() {
	run_cmd vr "$ID" --scratch "$SCRATCH"
	expect_exit 0 "a drill of a database with an invalid index passes" && expect_stdout_contains "PASS"
}
run_test "a drill passes although the source has an invalid index" t_drill_passes

# keep_drill: a drill with --keep; prints the scratch database's name.
keep_drill() {
	local rc=0
	vr "$ID" --scratch "$SCRATCH" --keep --json >"$BS_TMP/keep.json" 2>"$BS_TMP/keep.err" </dev/null || rc=$?
	[ "$rc" -eq 0 ] || { cat "$BS_TMP/keep.err" >&2; return 1; }
	jq -r .scratch.database "$BS_TMP/keep.json"
}

# t_tamper SQL FINDING: keep, change the scratch database, re-verify.
t_tamper() {
	local sql=$1 finding=$2 db
	db=$(keep_drill) || { t_fail "drill with --keep failed"; return 1; }
	pg "$db" "$sql" >/dev/null || { t_fail "tampering failed: $sql"; drop_db "$db"; return 1; }
	run_cmd vr "$ID" --scratch "$SCRATCH" --reverify "$db"
	expect_exit 1 "re-verify exits 1"
	expect_stdout_contains "$finding"
	drop_db "$db"
}

T="schema table app.t: definition differs"
run_test "tampered: a changed column default" t_tamper \
	"alter table app.t alter column v set default 'a default value that is longer than sixty-three bytes, so version 1 cut IT'" "$T"
run_test "tampered: SET NOT NULL" t_tamper "alter table app.t alter column w set not null" "$T"
run_test "tampered: DROP NOT NULL" t_tamper "alter table app.t alter column n drop not null" "$T"
run_test "tampered: DETACH PARTITION" t_tamper "alter table app.p detach partition app.p2" \
	"schema table app.p2: definition differs"
run_test "tampered: a changed function body" t_tamper "create or replace function app.f(x int) returns int language plpgsql as \$f\$
  begin
    -- a body longer than sixty-three bytes: version 1 of the inventory compared only its start
    return x + 2;
  end \$f\$" "schema function app.f(x integer): definition differs"
run_test "tampered: a changed view query" t_tamper \
	"create or replace view app.v as select id, v from app.t where n > 1" "schema view app.v: definition differs"
run_test "tampered: a revoked grant" t_tamper "revoke select on app.t from $ROLE_R" "$T"
run_test "tampered: another owner" t_tamper "alter table app.t owner to postgres" "$T"
run_test "tampered: a changed comment" t_tamper "comment on table app.t is 'another comment'" "$T"
run_test "tampered: a disabled trigger" t_tamper "alter table app.t disable trigger trg" \
	"schema trigger app.t.trg: definition differs"
run_test "tampered: an index left invalid is named" t_tamper \
	"update pg_index set indisvalid = false where indexrelid = 'app.t_pkey'::regclass" \
	"schema index app.t_pkey: is invalid in the restored database"

# A snapshot of backstop before inventory version 2 (tests/data/v1-snapshot)
# still verifies, and its inventory still catches what version 1 compared.
t_v1_snapshot() {
	local repo=$BS_TMP/repo-v1 id db
	run_cmd bs repo init --repo "$repo" -q
	expect_exit 0 || return
	cp "$BS_ROOT"/tests/data/v1-snapshot/archives/*.tar "$repo/archives/" &&
		cp "$BS_ROOT"/tests/data/v1-snapshot/snapshots/*.json "$repo/snapshots/" || { t_fail "cannot copy the fixture"; return; }
	id=$(basename "$BS_ROOT"/tests/data/v1-snapshot/snapshots/*.json .json)
	run_cmd bs verify-restore "$id" --repo "$repo" --scratch "$SCRATCH" --keep --json
	expect_exit 0 "a drill of a version 1 snapshot passes" || return
	db=$(jq -r .scratch.database "$OUT_FILE")
	pg "$db" "drop index items_name_idx" >/dev/null
	run_cmd bs verify-restore "$id" --repo "$repo" --scratch "$SCRATCH" --reverify "$db"
	expect_exit 1 "a tampered restore of a version 1 snapshot fails"
	expect_stdout_contains "schema index public.items_name_idx: missing in the restored database"
	drop_db "$db"
}
run_test "a snapshot taken before inventory version 2 still verifies (and catches a dropped index)" t_v1_snapshot

done_testing
