# shellcheck shell=bash
# tests/integration/lib.sh - sourced by every integration test script.
#
# A test script looks like this:
#
#   #!/usr/bin/env bash
#   . "$(dirname "$0")/lib.sh"          # sets up $BS_TMP, a cluster, traps
#
#   t_help() {
#       run_cmd bs snap --help
#       expect_exit 0 && expect_stdout_contains "usage"
#   }
#   run_test "snap --help exits 0 and prints usage" t_help
#
#   done_testing
#
# What sourcing gives you
#   BS_ROOT      the repository root (absolute)
#   BS_BIN       the built commands ($BS_ROOT/$BUILD/bin; BUILD defaults to build)
#   BS_TMP       a scratch directory for this script, removed at exit
#                (kept when BS_KEEP_TMP=1), mode 0755; also the working
#                directory (so no ./backstop.yaml applies); BACKSTOP_*
#                variables are unset
#   BS_PGBIN     PostgreSQL 15 bin directory, also first on PATH
#   PGHOST PGPORT PGUSER PGDATABASE
#                a PostgreSQL 15 cluster reachable over a unix socket with
#                trust authentication as superuser "postgres".  tests/run.sh
#                starts one cluster for all scripts; a script run on its own
#                (PGHOST unset) starts its own and stops it at exit.
#   BS_PG_HOSTADDR / BS_PG_TCP
#                127.0.0.1 and 1 when the cluster also listens on TCP, where
#                pg_hba.conf requires scram-sha-256 passwords (for tests of
#                authentication failures).  Unset for a foreign cluster.
#   BS_PG_OSUSER the operating-system user that runs the server.
#
# TAP
#   run_test NAME FUNC [ARGS..]  runs FUNC as one test: every expect_*/check
#                                that fails inside it marks it "not ok", with
#                                diagnostics; t_skip REASON marks it skipped
#   ok NAME / not_ok NAME [DIAG..] / skip NAME REASON   emit a result directly
#   t_fail MSG, diag MSG..         record a failure / print "# MSG"
#   done_testing                   prints the plan, cleans up, exits 1 on failure
#
# Commands
#   run_cmd CMD [ARGS..]   runs CMD (a program or a shell function) with
#                          stdin from /dev/null; sets RC, OUT, ERR (and the
#                          files $OUT_FILE, $ERR_FILE).  Never pipe the tool
#                          under test into another command: use run_cmd.
#   expect_exit CODE | expect_stdout_contains TEXT | expect_stderr_contains TEXT
#   expect_stdout_matches ERE | expect_stderr_matches ERE | check DESC CMD..
#   bs ARGS..              $BS_BIN/backstop ARGS (under a timeout, BS_CMD_TIMEOUT)
#   bs_cmd NAME ARGS..     $BS_BIN/backstop-NAME ARGS
#
# PostgreSQL
#   new_db PREFIX          creates an empty database with a unique name, prints it
#   drop_db NAME           drops it (WITH FORCE) if it exists
#   db_exists NAME         status 0 when it exists
#   pg NAME SQL            runs SQL in database NAME quietly (-X -q -At,
#                          ON_ERROR_STOP); prints the result rows
#   pg_file NAME FILE      runs a SQL file
#   db_compare A B         compares schema (pg_dump --schema-only), every
#                          table's rows (order independent), sequences and
#                          large objects; prints differences, status 1 if any
#   pg_start_cluster [DIR] / pg_stop_cluster   (used by tests/run.sh too)
#   bs_on_exit CMD..       runs CMD at exit (reverse order of registration)

set -u -o pipefail

BS_ROOT=${BS_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${BUILD:-build}
case $BUILD in
/*) BS_BUILD_DIR=$BUILD ;;
*) BS_BUILD_DIR=$BS_ROOT/$BUILD ;;
esac
BS_BIN=${BS_BIN:-$BS_BUILD_DIR/bin}
BS_CMD_TIMEOUT=${BS_CMD_TIMEOUT:-300}
BS_PG_TEST_OSUSER=${BS_PG_TEST_OSUSER:-backstop-test}
export BS_ROOT BUILD BS_BIN

# ---------------------------------------------------------------- utilities

_bs_exit_cmds=()

# bs_on_exit CMD [ARGS..]: run at exit, last registered first.
bs_on_exit() {
	local q
	q=$(printf '%q ' "$@")
	_bs_exit_cmds+=("$q")
}

_bs_run_exit_cmds() {
	local i
	for ((i = ${#_bs_exit_cmds[@]} - 1; i >= 0; i--)); do
		eval "${_bs_exit_cmds[$i]}" || true
	done
	_bs_exit_cmds=()
}

bs_find_pgbin() {
	local d
	if [ -n "${BS_PGBIN:-}" ] && [ -x "$BS_PGBIN/postgres" ]; then
		echo "$BS_PGBIN"
		return 0
	fi
	if [ -x /usr/lib/postgresql/15/bin/postgres ]; then
		echo /usr/lib/postgresql/15/bin
		return 0
	fi
	if command -v pg_config >/dev/null 2>&1; then
		d=$(pg_config --bindir 2>/dev/null)
		if [ -x "$d/postgres" ]; then
			echo "$d"
			return 0
		fi
	fi
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [ -x "$d/postgres" ]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

# A TCP port on 127.0.0.1 that nothing listens on right now.
bs_free_port() {
	local port i
	for ((i = 0; i < 50; i++)); do
		port=$((20000 + (RANDOM * 32768 + RANDOM) % 10000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return 0
		fi
	done
	return 1
}

# Elapsed seconds with a fraction, for timing notes.
bs_now() { date +%s.%N; }

# --------------------------------------------------------- the test cluster

# _bs_pg_as CMD..: run CMD as the server's OS user (from the cluster dir).
_bs_pg_as() {
	if [ "$(id -u)" -eq 0 ]; then
		(cd "$BS_PG_DIR" && runuser -u "$BS_PG_OSUSER" -- "$@")
	else
		(cd "$BS_PG_DIR" && "$@")
	fi
}

# Pick (and if needed create) the unprivileged user that runs the server.
_bs_pg_pick_user() {
	if [ "$(id -u)" -ne 0 ]; then
		id -un
		return 0
	fi
	if id -u "$BS_PG_TEST_OSUSER" >/dev/null 2>&1; then
		echo "$BS_PG_TEST_OSUSER"
		return 0
	fi
	if useradd --system --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin --user-group "$BS_PG_TEST_OSUSER" >/dev/null 2>&1 ||
		id -u "$BS_PG_TEST_OSUSER" >/dev/null 2>&1; then
		echo "$BS_PG_TEST_OSUSER"
		return 0
	fi
	# Could not create one (no useradd, read-only /etc): nobody will do.
	echo nobody
}

# pg_start_cluster [DIR]
#   initdb + start a PostgreSQL cluster in DIR (default: a new temp dir) as an
#   unprivileged user; unix socket in DIR/sock, a free port, also listening
#   on 127.0.0.1 (scram-sha-256 there; trust on the socket).  Exports PGHOST,
#   PGPORT, PGUSER=postgres, PGDATABASE=postgres, BS_PGBIN, BS_PG_DIR,
#   BS_PG_OSUSER, BS_PG_HOSTADDR, BS_PG_TCP, BS_PG_LOG.  Returns non-zero (with
#   the server log on stderr) on failure.  The caller stops it with
#   pg_stop_cluster (tests/run.sh and lib.sh's exit trap do).
pg_start_cluster() {
	local dir=${1:-} pgbin user port try log
	pgbin=$(bs_find_pgbin) || {
		echo "pg_start_cluster: PostgreSQL server binaries not found (install postgresql-15)" >&2
		return 1
	}
	user=$(_bs_pg_pick_user)
	if [ -z "$dir" ]; then
		dir=$(mktemp -d /tmp/backstop-pg.XXXXXX) || return 1
	fi
	mkdir -p "$dir" || return 1
	dir=$(cd "$dir" && pwd)
	# The unix socket path must stay below ~107 bytes.
	if [ ${#dir} -gt 80 ]; then
		echo "pg_start_cluster: directory path too long for a unix socket: $dir" >&2
		return 1
	fi
	chmod 0755 "$dir"
	mkdir -p "$dir/sock"
	if [ "$(id -u)" -eq 0 ]; then
		chown "$user" "$dir" "$dir/sock"
	fi
	chmod 0755 "$dir/sock"
	log=$dir/server.log
	BS_PG_DIR=$dir
	BS_PG_OSUSER=$user
	BS_PGBIN=$pgbin
	BS_PG_LOG=$log
	export BS_PG_DIR BS_PG_OSUSER BS_PGBIN BS_PG_LOG

	if ! _bs_pg_as "$pgbin/initdb" -D "$dir/data" -U postgres -A trust \
		-E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1; then
		echo "pg_start_cluster: initdb failed (as $user):" >&2
		cat "$dir/initdb.log" >&2
		return 1
	fi
	cat >"$dir/data/pg_hba.conf" <<-EOF
		# backstop test cluster: trust on the socket, passwords over TCP
		local   all             all                     trust
		local   replication     all                     trust
		host    all             all     127.0.0.1/32    scram-sha-256
		host    all             all     ::1/128         scram-sha-256
	EOF
	echo "include 'backstop-test.conf'" >>"$dir/data/postgresql.conf"
	for try in 1 2 3 4 5; do
		port=$(bs_free_port) || return 1
		cat >"$dir/data/backstop-test.conf" <<-EOF
			port = $port
			listen_addresses = '127.0.0.1'
			unix_socket_directories = '$dir/sock'
			unix_socket_permissions = 0777
			max_connections = 60
			shared_buffers = 128MB
			max_wal_size = 2GB
			fsync = off
			synchronous_commit = off
			full_page_writes = off
			password_encryption = 'scram-sha-256'
			log_line_prefix = '%m [%p] %q%u@%d '
			log_min_messages = warning
			logging_collector = off
		EOF
		if [ "$(id -u)" -eq 0 ]; then
			chown "$user" "$dir/data/pg_hba.conf" "$dir/data/backstop-test.conf"
			touch "$log" && chown "$user" "$log"
		fi
		if _bs_pg_as "$pgbin/pg_ctl" -D "$dir/data" -l "$log" -w -t 60 start \
			>"$dir/pg_ctl.log" 2>&1; then
			export PGHOST=$dir/sock PGPORT=$port PGUSER=postgres PGDATABASE=postgres
			export BS_PG_HOSTADDR=127.0.0.1 BS_PG_TCP=1
			export PATH="$pgbin:$PATH"
			if "$pgbin/psql" -X -q -At -c 'select 1' >/dev/null 2>&1; then
				return 0
			fi
			echo "pg_start_cluster: server started but psql cannot connect" >&2
			pg_stop_cluster
			return 1
		fi
		# Another process may have taken the port between the probe and the
		# bind: try another one.
		if ! grep -qi 'could not bind\|address already in use\|could not create any TCP' "$log" 2>/dev/null; then
			break
		fi
	done
	echo "pg_start_cluster: the server did not start (as $user):" >&2
	cat "$dir/pg_ctl.log" "$log" >&2 2>/dev/null
	return 1
}

# pg_stop_cluster: stop the cluster started by pg_start_cluster (fast, then
# immediate, then SIGKILL of its postmaster by pid), and remove its directory
# unless BS_KEEP_TMP=1.  Idempotent.
pg_stop_cluster() {
	local pid i
	[ -n "${BS_PG_DIR:-}" ] || return 0
	if [ -d "$BS_PG_DIR/data" ]; then
		pid=$(head -n 1 "$BS_PG_DIR/data/postmaster.pid" 2>/dev/null || true)
		if [ -n "$pid" ]; then
			_bs_pg_as "$BS_PGBIN/pg_ctl" -D "$BS_PG_DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
				_bs_pg_as "$BS_PGBIN/pg_ctl" -D "$BS_PG_DIR/data" -m immediate -w -t 15 stop >/dev/null 2>&1 ||
				true
			if kill -0 "$pid" 2>/dev/null; then
				kill -KILL "$pid" 2>/dev/null || true
			fi
			for ((i = 0; i < 100; i++)); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
		fi
	fi
	if [ "${BS_KEEP_TMP:-0}" != 1 ]; then
		rm -rf "$BS_PG_DIR"
	fi
	unset BS_PG_DIR
	return 0
}

# pg_second_start DIR: a second cluster (pg_start_cluster in DIR) for a test
# that needs a fresh one, leaving the harness cluster's environment (PGHOST,
# PGPORT, BS_PG_*) as it was.  Sets B_HOST, B_PORT, B_DIR, B_OSUSER; stopped
# and removed at exit (or by pg_second_stop).  Prints pg_start_cluster's log
# and returns 1 when it cannot start.
B_HOST= B_PORT= B_DIR= B_OSUSER=
pg_second_start() {
	local a_host=$PGHOST a_port=$PGPORT a_dir=${BS_PG_DIR:-} a_osuser=${BS_PG_OSUSER:-} a_log=${BS_PG_LOG:-} rc=0
	if pg_start_cluster "$1" >"$1.log" 2>&1; then
		B_HOST=$PGHOST B_PORT=$PGPORT B_DIR=$BS_PG_DIR B_OSUSER=$BS_PG_OSUSER
		bs_on_exit pg_second_stop
	else
		cat "$1.log" >&2
		rc=1
	fi
	export PGHOST=$a_host PGPORT=$a_port BS_PG_DIR=$a_dir BS_PG_OSUSER=$a_osuser BS_PG_LOG=$a_log
	return $rc
}

pg_second_stop() {
	[ -n "$B_DIR" ] || return 0
	BS_PG_DIR=$B_DIR BS_PG_OSUSER=$B_OSUSER pg_stop_cluster
	B_DIR=
}

# ------------------------------------------------------------------ TAP

_bs_n=0
_bs_nfail=0
_bs_in_test=0
_bs_cur_fail=0
_bs_cur_skip=
_bs_cur_diag=()

diag() {
	local line l
	for line in "$@"; do
		while IFS= read -r l || [ -n "$l" ]; do
			printf '# %s\n' "$l"
		done <<<"$line"
	done
}

ok() {
	_bs_n=$((_bs_n + 1))
	printf 'ok %d - %s\n' "$_bs_n" "$1"
}

not_ok() {
	local name=$1
	shift
	_bs_n=$((_bs_n + 1))
	_bs_nfail=$((_bs_nfail + 1))
	printf 'not ok %d - %s\n' "$_bs_n" "$name"
	[ $# -eq 0 ] || diag "$@"
}

skip() {
	_bs_n=$((_bs_n + 1))
	printf 'ok %d - %s # SKIP %s\n' "$_bs_n" "$1" "${2:-}"
}

# t_fail MSG..: inside run_test, mark the test failed; outside, emit not ok.
t_fail() {
	if [ "$_bs_in_test" = 1 ]; then
		_bs_cur_fail=1
		_bs_cur_diag+=("$@")
	else
		not_ok "$1" "${@:2}"
	fi
	return 1
}

# t_skip REASON: mark the current test skipped (return from it right after).
t_skip() {
	_bs_cur_skip=${1:-skipped}
	return 0
}

# run_test NAME FUNC [ARGS..]
run_test() {
	local name=$1
	shift
	_bs_in_test=1
	_bs_cur_fail=0
	_bs_cur_skip=
	_bs_cur_diag=()
	local t0=${EPOCHREALTIME/./}
	"$@"
	_bs_in_test=0
	# Slow tests say so (CI time is a budget): "# 12.3 s: <name>"
	local ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
	[ "$ms" -lt 5000 ] || printf '# %d.%d s: %s\n' $((ms / 1000)) $((ms % 1000 / 100)) "$name"
	if [ "$_bs_cur_fail" = 1 ]; then
		not_ok "$name" "${_bs_cur_diag[@]}"
		return 1
	elif [ -n "$_bs_cur_skip" ]; then
		skip "$name" "$_bs_cur_skip"
	else
		ok "$name"
	fi
	return 0
}

done_testing() {
	printf '1..%d\n' "$_bs_n"
	[ "$_bs_nfail" -eq 0 ] && exit 0
	exit 1
}

# Report one assertion: inside run_test it only records a failure; outside
# it prints an ok / not ok line of its own.
_bs_assert() {
	local pass=$1 desc=$2
	shift 2
	if [ "$_bs_in_test" = 1 ]; then
		if [ "$pass" != 1 ]; then
			_bs_cur_fail=1
			_bs_cur_diag+=("$desc" "$@")
		fi
	elif [ "$pass" = 1 ]; then
		ok "$desc"
	else
		not_ok "$desc" "$@"
	fi
	[ "$pass" = 1 ]
}

_bs_tail() {
	# _bs_tail LABEL FILE: the last lines of FILE, indented, for a diagnostic
	[ -s "$2" ] || {
		printf '  %s: (empty)\n' "$1"
		return
	}
	printf '  %s:\n' "$1"
	tail -n "${BS_DIAG_LINES:-15}" "$2" | sed 's/^/    /'
}

_bs_cmd_context() {
	printf '  command: %s\n' "${RUN_CMD:-?}"
	printf '  exit status: %s\n' "${RC:-?}"
	_bs_tail stdout "$OUT_FILE"
	echo
	_bs_tail stderr "$ERR_FILE"
}

# run_cmd CMD [ARGS..]: run with stdin </dev/null, capture stdout, stderr
# and exit status into OUT, ERR and RC.  Works with shell functions too.
RC=
OUT=
ERR=
run_cmd() {
	OUT_FILE=$BS_TMP/cmd.out
	ERR_FILE=$BS_TMP/cmd.err
	RUN_CMD=$(printf '%q ' "$@")
	RC=0
	"$@" >"$OUT_FILE" 2>"$ERR_FILE" </dev/null || RC=$?
	OUT=$(cat "$OUT_FILE")
	ERR=$(cat "$ERR_FILE")
	return 0
}

expect_exit() {
	local want=$1 desc=${2:-"exit status is $1"}
	if [ "$RC" = "$want" ]; then
		_bs_assert 1 "$desc"
	else
		_bs_assert 0 "$desc" "expected exit status $want, got $RC" "$(_bs_cmd_context)"
	fi
}

_bs_expect_text() {
	local stream=$1 mode=$2 text=$3 desc=$4 file
	if [ "$stream" = stdout ]; then file=$OUT_FILE; else file=$ERR_FILE; fi
	if grep -q -i "$mode" -e "$text" "$file" 2>/dev/null; then
		_bs_assert 1 "$desc"
	else
		_bs_assert 0 "$desc" "$stream does not contain '$text'" "$(_bs_cmd_context)"
	fi
}

# Case-insensitive fixed-string / extended-regex matches on the last run_cmd.
expect_stdout_contains() { _bs_expect_text stdout -F "$1" "${2:-"stdout contains '$1'"}"; }
expect_stderr_contains() { _bs_expect_text stderr -F "$1" "${2:-"stderr contains '$1'"}"; }
expect_stdout_matches() { _bs_expect_text stdout -E "$1" "${2:-"stdout matches /$1/"}"; }
expect_stderr_matches() { _bs_expect_text stderr -E "$1" "${2:-"stderr matches /$1/"}"; }

# check DESC CMD [ARGS..]: CMD must succeed (its output is shown on failure).
check() {
	local desc=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		_bs_assert 1 "$desc"
	else
		_bs_assert 0 "$desc" "  $(printf '%q ' "$@")-> exit $rc" "$(printf '%s\n' "$out" | tail -n "${BS_DIAG_LINES:-15}" | sed 's/^/    /')"
	fi
}

# check_eq DESC GOT WANT
check_eq() {
	if [ "$2" = "$3" ]; then
		_bs_assert 1 "$1"
	else
		_bs_assert 0 "$1" "  got:  $2" "  want: $3"
	fi
}

# --------------------------------------------------------------- backstop

bs() {
	timeout --foreground -k 10 "$BS_CMD_TIMEOUT" "$BS_BIN/backstop" "$@"
}

bs_cmd() {
	local name=$1
	shift
	timeout --foreground -k 10 "$BS_CMD_TIMEOUT" "$BS_BIN/backstop-$name" "$@"
}

# ------------------------------------------------------------- PostgreSQL

_bs_db_seq=0

# pg DB SQL: run SQL quietly in DB, print unaligned tuples-only rows.
pg() {
	"$BS_PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$1" \
		-c 'set client_min_messages = warning' -c "$2" </dev/null
}

# pg_file DB FILE
pg_file() {
	"$BS_PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$1" -f "$2" </dev/null
}

# Quote an identifier the way PostgreSQL does.
pg_ident() {
	printf '"%s"' "${1//\"/\"\"}"
}

db_exists() {
	[ "$(pg postgres "select count(*) from pg_database where datname = '${1//\'/\'\'}'")" = 1 ]
}

drop_db() {
	pg postgres "drop database if exists $(pg_ident "$1") with (force)" >/dev/null 2>&1
}

# new_db PREFIX: create an empty database named PREFIX_<script>_<pid>_<n>
# (lowercase, unique in the cluster), print its name; dropped at exit.
new_db() {
	local name
	_bs_db_seq=$((_bs_db_seq + 1))
	name="${1:-t}_${BS_SCRIPT_TAG}_$$_${_bs_db_seq}"
	name=$(printf '%s' "$name" | tr 'A-Z' 'a-z' | tr -c 'a-z0-9_' '_' | cut -c1-60)
	if ! pg postgres "create database $(pg_ident "$name")" >/dev/null; then
		echo "new_db: could not create database $name" >&2
		return 1
	fi
	bs_on_exit drop_db "$name"
	echo "$name"
}

# A name for a database that does not exist yet (restore --create targets);
# dropped at exit if something created it.
fresh_db_name() {
	local name
	_bs_db_seq=$((_bs_db_seq + 1))
	name="${1:-t}_${BS_SCRIPT_TAG}_$$_${_bs_db_seq}"
	name=$(printf '%s' "$name" | tr 'A-Z' 'a-z' | tr -c 'a-z0-9_' '_' | cut -c1-60)
	drop_db "$name"
	bs_on_exit drop_db "$name"
	echo "$name"
}

# A conninfo for database NAME over the harness socket.
db_conninfo() {
	printf 'host=%s port=%s user=%s dbname=%s' "$PGHOST" "$PGPORT" "${PGUSER:-postgres}" "$1"
}

# db_dump_schema DB: pg_dump --schema-only, without the version header lines.
db_dump_schema() {
	"$BS_PGBIN/pg_dump" --schema-only --no-sync -d "$1" | grep -v -E '^(-- (Dumped (from|by)|Started on|Completed on)|\\(un)?restrict )'
}

# db_tables DB: every table/partition/materialized view with rows, one
# quoted "schema"."name" per line, sorted; a materialized view that is not
# populated is listed as "schema"."name" (unpopulated), and has no rows to read.
db_tables() {
	pg "$1" "select format('%I.%I', n.nspname, c.relname)
	                || case when c.relkind = 'm' and not c.relispopulated then ' (unpopulated)' else '' end
	         from pg_class c join pg_namespace n on n.oid = c.relnamespace
	        where c.relkind in ('r', 'm')
	          and n.nspname not in ('pg_catalog', 'information_schema')
	          and n.nspname not like 'pg_toast%' and n.nspname not like 'pg_temp%'
	        order by 1" | LC_ALL=C sort
}

# db_table_rows DB TABLE: the rows of TABLE (quoted), COPY text, sorted.
db_table_rows() {
	"$BS_PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$1" \
		-c "copy (select * from only $2) to stdout" </dev/null | LC_ALL=C sort
}

# db_sequences DB: "schema.name last_value is_called" per sequence, sorted.
db_sequences() {
	local db=$1 s
	for s in $(pg "$db" "select format('%I.%I', schemaname, sequencename) from pg_sequences order by 1"); do
		printf '%s %s\n' "$s" "$(pg "$db" "select last_value || ' ' || is_called from $s")"
	done
}

# db_large_objects DB: "oid owner md5 comment" per large object, sorted.
db_large_objects() {
	pg "$1" "select m.oid || ' ' || pg_get_userbyid(m.lomowner) || ' ' ||
	                md5(lo_get(m.oid)) || ' ' || coalesce(obj_description(m.oid, 'pg_largeobject'), '-') ||
	                ' ' || coalesce(m.lomacl::text, '-')
	           from pg_largeobject_metadata m order by m.oid"
}

# db_compare_schema A B / db_compare_rows A B / db_compare_sequences A B /
# db_compare_large_objects A B: one aspect each; status 1 (with what differs
# on stdout) when A and B differ.
db_compare_schema() {
	local d
	d=$(mktemp -d "$BS_TMP/cmp.XXXXXX")
	db_dump_schema "$1" >"$d/a" 2>"$d/err" || { echo "pg_dump of $1 failed: $(cat "$d/err")"; rm -rf "$d"; return 1; }
	db_dump_schema "$2" >"$d/b" 2>"$d/err" || { echo "pg_dump of $2 failed: $(cat "$d/err")"; rm -rf "$d"; return 1; }
	if ! cmp -s "$d/a" "$d/b"; then
		echo "schema differs (pg_dump --schema-only of $1 vs $2):"
		diff -u "$d/a" "$d/b" | head -n 60
		rm -rf "$d"
		return 1
	fi
	rm -rf "$d"
}

db_compare_rows() {
	local d t fails=0
	d=$(mktemp -d "$BS_TMP/cmp.XXXXXX")
	db_tables "$1" >"$d/a.tables"
	db_tables "$2" >"$d/b.tables"
	if ! cmp -s "$d/a.tables" "$d/b.tables"; then
		echo "table lists differ ($1 vs $2):"
		diff "$d/a.tables" "$d/b.tables" | head -n 20
		fails=1
	fi
	while IFS= read -r t; do
		case "$t" in *" (unpopulated)") continue ;; esac
		: >"$d/err"
		db_table_rows "$1" "$t" >"$d/a" 2>>"$d/err"
		db_table_rows "$2" "$t" >"$d/b" 2>>"$d/err"
		if [ -s "$d/err" ]; then
			echo "cannot read rows of $t: $(head -c 400 "$d/err")"
			fails=1
		elif ! cmp -s "$d/a" "$d/b"; then
			echo "rows of $t differ ($(wc -l <"$d/a") vs $(wc -l <"$d/b") rows):"
			diff "$d/a" "$d/b" | head -n 6 | cut -c1-200
			fails=1
		fi
	done <"$d/a.tables"
	rm -rf "$d"
	return "$fails"
}

db_compare_sequences() {
	local a b
	a=$(db_sequences "$1")
	b=$(db_sequences "$2")
	[ "$a" = "$b" ] && return 0
	echo "sequences differ ($1 vs $2):"
	diff <(echo "$a") <(echo "$b") | head -n 20
	return 1
}

db_compare_large_objects() {
	local a b
	a=$(db_large_objects "$1")
	b=$(db_large_objects "$2")
	[ "$a" = "$b" ] && return 0
	echo "large objects differ ($1 vs $2):"
	diff <(echo "$a") <(echo "$b") | head -n 20
	return 1
}

# db_compare A B: status 0 when databases A and B hold the same schema, rows,
# sequence states and large objects; otherwise prints what differs.
db_compare() {
	local fails=0
	db_compare_schema "$1" "$2" || fails=1
	db_compare_rows "$1" "$2" || fails=1
	db_compare_sequences "$1" "$2" || fails=1
	db_compare_large_objects "$1" "$2" || fails=1
	return "$fails"
}

# ------------------------------------------------------------------ setup

_bs_on_exit_trap() {
	local rc=$?
	_bs_run_exit_cmds
	if [ "${_bs_own_cluster:-0}" = 1 ]; then
		pg_stop_cluster
	fi
	if [ -n "${BS_TMP:-}" ] && [ "${BS_KEEP_TMP:-0}" != 1 ]; then
		rm -rf "$BS_TMP"
	elif [ -n "${BS_TMP:-}" ]; then
		echo "# kept $BS_TMP" >&2
	fi
	exit "$rc"
}

bs_init() {
	BS_SCRIPT_TAG=$(basename "${0%.sh}" | tr -c 'A-Za-z0-9' '_' | cut -c1-20)
	BS_TMP=$(mktemp -d "/tmp/bs-${BS_SCRIPT_TAG}.XXXXXX") || {
		echo "Bail out! cannot create a temporary directory"
		exit 1
	}
	chmod 0755 "$BS_TMP"
	export BS_TMP
	# Tests see no configuration of the person running them: no BACKSTOP_*
	# variables, and the working directory is $BS_TMP (no ./backstop.yaml).
	local v
	for v in $(compgen -e | grep '^BACKSTOP_'); do unset "$v"; done
	cd "$BS_TMP" || exit 1
	trap _bs_on_exit_trap EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	_bs_own_cluster=0
	if [ -z "${PGHOST:-}" ]; then
		if ! pg_start_cluster "$BS_TMP/pg"; then
			echo "Bail out! could not start a PostgreSQL cluster"
			exit 1
		fi
		_bs_own_cluster=1
	else
		BS_PGBIN=$(bs_find_pgbin) || {
			echo "Bail out! PostgreSQL binaries not found"
			exit 1
		}
		export BS_PGBIN PATH="$BS_PGBIN:$PATH"
	fi
}

if [ "${BS_LIB_NOINIT:-0}" != 1 ]; then
	bs_init
fi
