#!/usr/bin/env bash
# snap_plan.sh - how many connections a snap opens (lib/snap/tables.c,
# bs_snap_plan_jobs; docs/cli.md "snap"): --jobs wins; without it one per
# core, but one for a database under two chunks of data, and never more
# than there are tables to copy.  The plan is logged, and the snapshot
# restores the same either way.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPO=$BS_TMP/repo
"$BS_BIN/backstop" repo init --repo "$REPO" -q || exit 1
# the cores backstop may use: nproc (the affinity mask), bounded by a cgroup
# v2 CPU quota (a container's limit), at most 16
CORES=$(nproc)
if read -r quota period </sys/fs/cgroup/cpu.max 2>/dev/null && [ "$quota" != max ]; then
	q=$(((quota + period - 1) / period))
	[ "$q" -lt "$CORES" ] && CORES=$q
fi
[ "$CORES" -gt 16 ] && CORES=16

TINY=$(new_db plan_tiny)
bs_on_exit drop_db "$TINY"
pg "$TINY" "create table a (id int primary key, v text);
  insert into a select g, 'v' || g from generate_series(1, 100) g;
  create table b (id int);
  insert into b select generate_series(1, 100);" >/dev/null || exit 1

FOUR=$(new_db plan_four)
bs_on_exit drop_db "$FOUR"
pg "$FOUR" "do \$\$ begin for i in 1..4 loop
    execute format('create table t%s (id int primary key, v text)', i);
    execute format('insert into t%s select g, md5(g::text) from generate_series(1, 20000) g', i);
  end loop; end \$\$;" >/dev/null || exit 1

# the number of connections of the snap's sessions, from its info line
jobs_logged() { sed -n 's/.*on disk: \([0-9]*\) jobs\{0,1\}.*/\1/p' "$ERR_FILE"; }

t_tiny() {
	run_cmd bs snap --repo "$REPO" -d "$(db_conninfo "$TINY")" --no-encryption
	expect_exit 0 || return 1
	expect_stderr_contains "2 tables, "
	check_eq "a database under two chunks gets one connection" "$(jobs_logged)" 1
	expect_stderr_contains "(planned; --jobs sets them)"
}
run_test "a tiny database is copied on one connection, and the plan is logged" t_tiny

t_cores() {
	local want=$CORES db id
	# four tables of ~2.6 MB with 256 KiB chunks: 4 items, ~40 chunks
	[ "$want" -gt 4 ] && want=4
	run_cmd bs snap --repo "$REPO" -d "$(db_conninfo "$FOUR")" --no-encryption --chunk-size 256KiB
	expect_exit 0 || return 1
	check_eq "one connection per core, no more than tables ($CORES cores, 4 tables)" "$(jobs_logged)" "$want"
	id=$OUT
	db=$(fresh_db_name plan_four_dst)
	bs_on_exit drop_db "$db"
	run_cmd bs restore "$id" --repo "$REPO" -d "$(db_conninfo "$db")" --create
	expect_exit 0 || return 1
	check "the restore equals the source" db_compare "$FOUR" "$db"
}
run_test "without --jobs: one connection per core, at most one per table" t_cores

t_affinity() {
	# a process allowed one CPU (taskset, a container's cpuset) plans one connection
	command -v taskset >/dev/null || {
		t_skip "taskset is not installed"
		return
	}
	run_cmd taskset -c 0 "$BS_BIN/backstop" snap --repo "$REPO" -d "$(db_conninfo "$FOUR")" --no-encryption --chunk-size 256KiB
	expect_exit 0 || return 1
	check_eq "one CPU allowed: one connection" "$(jobs_logged)" 1
}
run_test "without --jobs: the CPUs the process may use (its affinity), not the machine's" t_affinity

t_override() {
	run_cmd bs snap --repo "$REPO" -d "$(db_conninfo "$TINY")" --no-encryption --jobs 3
	expect_exit 0 || return 1
	check_eq "--jobs 3 opens 3 connections even for a tiny database" "$(jobs_logged)" 3
	check "and says nothing of a plan" bash -c '! grep -q "planned" "$1"' _ "$ERR_FILE"
}
run_test "--jobs overrides the plan" t_override

done_testing
