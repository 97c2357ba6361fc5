#!/usr/bin/env bash
# harness_selftest.sh - proves the integration harness itself works: the
# cluster is up and reached the documented way, databases come and go, and
# run_cmd / expect_* report exit codes and output faithfully.  Needs no
# backstop binary.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

t_cluster_up() {
	check "PGHOST is a socket directory" test -S "$PGHOST/.s.PGSQL.$PGPORT"
	run_cmd pg postgres "select current_user || ' ' || current_setting('server_version_num')::int / 10000"
	expect_exit 0
	check_eq "connected as superuser postgres to PostgreSQL 15" "$OUT" "postgres 15"
	run_cmd pg postgres "select rolsuper from pg_roles where rolname = current_user"
	check_eq "role is superuser" "$OUT" "t"
}
run_test "cluster is up: socket in PGHOST, superuser postgres, server 15" t_cluster_up

t_server_not_root() {
	local owner
	if [ -z "${BS_PG_DIR:-}" ]; then
		# A cluster started by tests/run.sh: ask the server for its data dir.
		owner=$(stat -c %U "$(pg postgres 'show data_directory')" 2>/dev/null)
	else
		owner=$(stat -c %U "$BS_PG_DIR/data")
	fi
	[ -n "$owner" ] || {
		t_skip "data directory not visible from here"
		return
	}
	[ "$owner" != root ] || t_fail "the server's data directory is owned by root"
}
run_test "server runs as an unprivileged user" t_server_not_root

t_databases() {
	local db
	db=$(new_db selftest) || {
		t_fail "new_db failed"
		return
	}
	check "new database exists" db_exists "$db"
	check "create a table in it" pg "$db" "create table t (a int, b text); insert into t values (1, 'x'), (2, null)"
	check_eq "read the rows back" "$(pg "$db" 'select count(*) from t')" 2
	drop_db "$db"
	if db_exists "$db"; then t_fail "database still exists after drop_db"; fi
}
run_test "new_db creates a database, drop_db drops it" t_databases

t_run_cmd() {
	run_cmd bash -c 'echo out-text; echo err-text >&2; exit 7'
	expect_exit 7
	expect_stdout_contains "out-text"
	expect_stderr_contains "ERR-TEXT" "stderr match is case-insensitive"
	check_eq "OUT holds stdout only" "$OUT" "out-text"
	check_eq "ERR holds stderr only" "$ERR" "err-text"
	run_cmd true
	expect_exit 0
	check_eq "OUT is reset" "$OUT" ""
	# A function: its status must come through, too.
	f() {
		echo "in f"
		return 3
	}
	run_cmd f
	expect_exit 3
	expect_stdout_contains "in f"
	# stdin is /dev/null: a command waiting for input must not hang.
	run_cmd cat
	expect_exit 0
}
run_test "run_cmd captures stdout, stderr and a non-zero exit status" t_run_cmd

# The assertions must fail when they should: run them in a subshell test
# and look at what it printed.
t_negative() {
	local out
	out=$(
		_bs_n=0
		_bs_nfail=0
		t() {
			run_cmd bash -c 'echo hello; exit 5'
			expect_exit 0
		}
		run_test "inner" t
		t2() {
			run_cmd bash -c 'echo hello; exit 0'
			expect_stderr_contains "nothing-like-this"
		}
		run_test "inner2" t2
		t3() { t_skip "because"; }
		run_test "inner3" t3
		t4() { check "false fails" false; }
		run_test "inner4" t4
		echo "nfail=$_bs_nfail"
	)
	case $out in *"not ok 1 - inner"*) ;; *) t_fail "expect_exit 0 on a status 5 was not a failure" "$out" ;; esac
	case $out in *"expected exit status 0, got 5"*) ;; *) t_fail "no exit status diagnostic" "$out" ;; esac
	case $out in *"not ok 2 - inner2"*) ;; *) t_fail "expect_stderr_contains did not fail" "$out" ;; esac
	case $out in *"ok 3 - inner3 # SKIP because"*) ;; *) t_fail "t_skip did not skip" "$out" ;; esac
	case $out in *"not ok 4 - inner4"*) ;; *) t_fail "check false did not fail" "$out" ;; esac
	case $out in *"nfail=3"*) ;; *) t_fail "failure count is not 3" "$out" ;; esac
}
run_test "failing assertions are reported as not ok with diagnostics" t_negative

t_bs_missing() {
	# bs keeps the binary's exit status; a missing binary is 127, never 0.
	BS_BIN=$BS_TMP/nowhere run_cmd bs --help
	[ "$RC" -ne 0 ] || t_fail "missing binary reported success"
}
run_test "bs reports a missing binary as a failure" t_bs_missing

t_compare() {
	local a b
	a=$(new_db cmpa) && b=$(new_db cmpb) || {
		t_fail "new_db failed"
		return
	}
	bs_on_exit drop_db "$a"
	bs_on_exit drop_db "$b"
	local sql="create sequence s; select nextval('s'); select nextval('s');
	           create table t (id int primary key, v text);
	           insert into t values (1, E'tab\there'), (2, null), (3, '');"
	pg "$a" "$sql" >/dev/null
	pg "$b" "$sql" >/dev/null
	# same rows, different physical order
	pg "$b" "update t set v = v where id = 1" >/dev/null
	check "identical databases compare equal" db_compare "$a" "$b"
	pg "$b" "update t set v = 'changed' where id = 3" >/dev/null
	if db_compare "$a" "$b" >/dev/null; then t_fail "a changed row was not noticed"; fi
	pg "$b" "update t set v = '' where id = 3; select nextval('s')" >/dev/null
	if db_compare "$a" "$b" >/dev/null; then t_fail "a sequence difference was not noticed"; fi
}
run_test "db_compare sees equal and different databases" t_compare

t_tcp_password() {
	[ "${BS_PG_TCP:-}" = 1 ] || {
		t_skip "cluster not started by the harness"
		return
	}
	pg postgres "drop role if exists bs_selftest_pw; create role bs_selftest_pw login password 'right'" >/dev/null
	PGPASSWORD=right PGPASSFILE=/dev/null run_cmd "$BS_PGBIN/psql" -X -At \
		-d "host=$BS_PG_HOSTADDR port=$PGPORT user=bs_selftest_pw dbname=postgres" -c 'select 1'
	expect_exit 0 "right password over TCP connects"
	PGPASSWORD=wrong PGPASSFILE=/dev/null run_cmd "$BS_PGBIN/psql" -X -At \
		-d "host=$BS_PG_HOSTADDR port=$PGPORT user=bs_selftest_pw dbname=postgres" -c 'select 1'
	expect_exit 2 "wrong password over TCP fails"
	expect_stderr_contains "password authentication failed"
	pg postgres "drop role bs_selftest_pw" >/dev/null
}
run_test "TCP on 127.0.0.1 requires a password (scram-sha-256)" t_tcp_password

t_rich_loads() {
	local db
	db=$(new_db rich) || {
		t_fail "new_db failed"
		return
	}
	run_cmd pg_file "$db" "$BS_ROOT/tests/data/rich.sql"
	expect_exit 0 "tests/data/rich.sql loads without error"
	[ -z "$ERR" ] || t_fail "rich.sql printed to stderr" "$ERR"
	check "rich.sql compares equal to itself via db_compare" db_compare "$db" "$db"
	RICH_DB=$db
	bs_on_exit drop_db "$db"
}
run_test "tests/data/rich.sql loads cleanly into a fresh database" t_rich_loads

# The oracle the snap/restore round trip relies on: pg_dump + pg_restore of
# rich.sql must compare equal, and a real difference must be seen.
t_oracle() {
	local copy
	[ -n "${RICH_DB:-}" ] || {
		t_fail "rich.sql did not load"
		return
	}
	copy=$(new_db richcopy) || return
	bs_on_exit drop_db "$copy"
	run_cmd "$BS_PGBIN/pg_dump" -Fc -f "$BS_TMP/rich.dump" -d "$RICH_DB"
	expect_exit 0 "pg_dump -Fc" || return
	run_cmd "$BS_PGBIN/pg_restore" --exit-on-error -d "$copy" "$BS_TMP/rich.dump"
	expect_exit 0 "pg_restore" || return
	check "pg_dump/pg_restore copy compares equal" db_compare "$RICH_DB" "$copy"
	pg "$copy" "update app.events set payload = payload || 'x' where id = 4242" >/dev/null
	if db_compare "$RICH_DB" "$copy" >/dev/null; then t_fail "a one-row change in app.events went unnoticed"; fi
	pg "$copy" "update app.events set payload = left(payload, -1) where id = 4242;
	            select lo_put(91002, 10, '\\x00')" >/dev/null
	if db_compare "$RICH_DB" "$copy" >/dev/null; then t_fail "a large-object change went unnoticed"; fi
}
run_test "pg_dump/pg_restore round trip of rich.sql compares equal (oracle check)" t_oracle

done_testing
