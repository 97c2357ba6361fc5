#!/usr/bin/env bash
# clean_restore.sh - restore --clean is all or nothing for the target: the
# snapshot is restored into a temporary database (backstop_clean_<time>_<hex>)
# and swapped in under the target's name only once complete; the previous
# database is kept as <db>_backstop_old_<time> (or dropped with --drop-old).
#
#   * --clean onto a database with foreign keys, views and materialized
#     views (tests/data/rich.sql), changed since: equals the snapshot; the
#     previous contents are kept under the _backstop_old_ name
#   * --drop-old; sessions on the target are refused (named), unless
#     --terminate-sessions; --drop-old without --clean is a usage error
#   * a damaged archive: the restore fails, the target is untouched, no
#     temporary database is left (with --keep-on-error it is kept, and the
#     clean-up of leftovers leaves it)
#   * SIGTERM at several points: exit 143 (or 0 when the restore had
#     finished), the target intact or fully replaced, never partial, and no
#     temporary database left
#   * kill -9 at several points: the target intact or fully replaced; the
#     temporary database left behind is dropped by the next restore --clean
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPO=$BS_TMP/repo
"$BS_BIN/backstop" repo init --repo "$REPO" -q || exit 1

SRC=$(new_db cr_src)
bs_on_exit drop_db "$SRC"
pg_file "$SRC" "$BS_ROOT/tests/data/rich.sql" >/dev/null || exit 1
TARGET=cr_target_$$
REF=cr_ref_$$

# every database this script may leave: the target, its reference copy,
# the replaced copies, temporaries of restores killed here
cleanup_dbs() {
	local d
	for d in $(pg postgres "select datname from pg_database where datname like 'cr\_target\_$$%' or datname = '$REF'
	                         or datname ~ '^backstop_clean_[0-9]{14}_[0-9a-f]{6}\$'"); do
		drop_db "$d"
	done
}
bs_on_exit cleanup_dbs

temp_dbs() { pg postgres "select datname from pg_database where datname ~ '^backstop_clean_' order by 1"; }
old_dbs() { pg postgres "select datname from pg_database where datname like 'cr\_target\_$$\_backstop\_old\_%' order by 1"; }
drop_old_dbs() {
	local d
	for d in $(old_dbs); do drop_db "$d"; done
}

expect_no_temp_db() {
	local left
	left=$(temp_dbs)
	[ -z "$left" ] && return 0
	t_fail "temporary databases left behind: $left"
}

# The target as a changed copy of the snapshot, and a reference copy of that
# state (to tell "intact" from "partial").  The changed state is restored
# once (into $CHANGED) and copied from there for every case.
CHANGED=cr_target_$$_changed
make_changed_target() {
	drop_db "$TARGET"
	drop_db "$REF"
	if [ -z "$(pg postgres "select 1 from pg_database where datname = '$CHANGED'")" ]; then
		bs restore latest --repo "$REPO" -d "$CHANGED" --create -q >/dev/null 2>&1 || return 1
		pg "$CHANGED" "delete from app.orders where id % 3 = 0;
		  update app.customers set name = 'changed' where id < 10;
		  drop materialized view app.kind_counts_later;
		  create table public.extra (x int primary key);
		  insert into public.extra values (1), (2)" >/dev/null || return 1
	fi
	pg postgres "create database $TARGET template $CHANGED" >/dev/null || return 1
	pg postgres "create database $REF template $CHANGED" >/dev/null
}

intact_or_replaced() {
	local what=$1
	if db_compare "$REF" "$TARGET" >/dev/null 2>&1; then
		diag "$what: the target is intact"
		return 0
	fi
	if db_compare "$SRC" "$TARGET" >"$BS_TMP/cmp.out" 2>&1; then
		diag "$what: the target is fully replaced"
		return 0
	fi
	t_fail "$what: the target is neither intact nor the snapshot" "$(head -n 20 "$BS_TMP/cmp.out")"
}

t_snap() {
	run_cmd bs snap --db "dbname=$SRC" --repo "$REPO" --no-encryption -q
	expect_exit 0 || return
	check "a changed copy of the snapshot as target" make_changed_target
}
run_test "snapshot of rich.sql (foreign keys, views, materialized views) and a changed copy" t_snap

t_clean() {
	run_cmd bs restore latest --repo "$REPO" -d "$TARGET" --clean
	expect_exit 0 || return
	expect_stderr_contains "is kept as \"${TARGET}_backstop_old_"
	check "the target equals the snapshot" db_compare "$SRC" "$TARGET"
	check_eq "the materialized view dropped in the target is back and populated" \
		"$(pg "$TARGET" "select relispopulated from pg_class where oid = 'app.kind_counts_later'::regclass")" \
		"$(pg "$SRC" "select relispopulated from pg_class where oid = 'app.kind_counts_later'::regclass")"
	check_eq "one replaced database kept" "$(old_dbs | wc -l)" 1
	check "the kept database holds the previous contents" db_compare "$REF" "$(old_dbs | head -n 1)"
	expect_no_temp_db
}
run_test "--clean onto a changed copy with foreign keys, views, matviews: equals the snapshot, the old one kept" t_clean

t_clean_again_drop_old() {
	drop_old_dbs
	run_cmd bs restore latest --repo "$REPO" -d "$TARGET" --clean --drop-old -q -j 2
	expect_exit 0 || return
	check "--clean onto its own restore equals the snapshot" db_compare "$SRC" "$TARGET"
	check_eq "--drop-old: no replaced database kept" "$(old_dbs | wc -l)" 0
	expect_no_temp_db
	run_cmd bs restore latest --repo "$REPO" -d "$TARGET" --drop-old
	expect_exit 2 "--drop-old without --clean: exit 2" && expect_stderr_contains "--clean"
}
run_test "--clean --drop-old onto the snapshot's own restore; --drop-old alone is refused" t_clean_again_drop_old

t_missing_target() {
	run_cmd bs restore latest --repo "$REPO" -d "cr_target_$$_nope" --clean -q
	expect_exit 2 && expect_stderr_contains "does not exist" && expect_stderr_contains "--create"
	check "no database created" bash -c "! psql -X -At -d postgres -c \"select 1 from pg_database where datname = 'cr_target_$$_nope'\" | grep -q 1"
	expect_no_temp_db
}
run_test "--clean onto a database that does not exist: exit 2, hint --create" t_missing_target

t_sessions() {
	local pid
	check "a changed copy as target" make_changed_target || return
	"$BS_PGBIN/psql" -X -q -d "$TARGET" -c "select pg_sleep(60)" >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 50); do
		[ "$(pg postgres "select count(*) from pg_stat_activity where datname = '$TARGET'")" -gt 0 ] && break
		sleep 0.1
	done
	run_cmd bs restore latest --repo "$REPO" -d "$TARGET" --clean -q
	expect_exit 2 "another session on the target: refused, exit 2"
	expect_stderr_contains "other session"
	expect_stderr_contains "--terminate-sessions"
	check "refused: the target is intact" db_compare "$REF" "$TARGET"
	expect_no_temp_db
	run_cmd bs restore latest --repo "$REPO" -d "$TARGET" --clean --terminate-sessions --drop-old -q
	expect_exit 0 "--terminate-sessions: the session is ended and the target replaced"
	check "the target equals the snapshot" db_compare "$SRC" "$TARGET"
	check "the other session was ended" bash -c "! kill -0 $pid 2>/dev/null || { sleep 1; ! kill -0 $pid 2>/dev/null; }"
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	expect_no_temp_db
}
run_test "sessions on the target are refused by name; --terminate-sessions ends them" t_sessions

t_damaged() {
	local repo=$BS_TMP/repo-damaged id arch member
	check "a changed copy as target" make_changed_target || return
	mkdir -p "$repo" && cp -a "$REPO/." "$repo/"
	id=$(basename "$(ls "$repo"/snapshots/*.json | tail -n 1)" .json)
	arch=$repo/archives/$id.tar
	# flip a byte in the middle of the largest data chunk
	member=$(tar -tvf "$arch" | awk '$6 ~ /^data\// {print $3, $6}' | sort -n | tail -n 1 | cut -d' ' -f2)
	python3 - "$arch" "$member" <<-'PY'
		import sys, tarfile
		path, name = sys.argv[1], sys.argv[2]
		with tarfile.open(path) as t:
		    m = t.getmember(name)
		    off = m.offset_data + m.size // 2
		with open(path, "r+b") as f:
		    f.seek(off)
		    b = f.read(1)
		    f.seek(off)
		    f.write(bytes([b[0] ^ 0xff]))
	PY
	run_cmd bs restore "$id" --repo "$repo" -d "$TARGET" --clean -q
	expect_exit 3 "a damaged archive fails the restore"
	expect_stderr_contains "is unchanged"
	check "the target is intact" db_compare "$REF" "$TARGET"
	check_eq "no replaced database" "$(old_dbs | wc -l)" 0
	expect_no_temp_db
	DAMAGED_REPO=$repo DAMAGED_ID=$id
}
run_test "a damaged archive: the restore fails, the target is untouched, nothing left" t_damaged

t_keep_on_error() {
	local kept
	run_cmd bs restore "$DAMAGED_ID" --repo "$DAMAGED_REPO" -d "$TARGET" --clean --keep-on-error -q
	expect_exit 3 "a damaged archive with --keep-on-error fails the restore"
	expect_stderr_contains "was kept (--keep-on-error)"
	check "the target is intact" db_compare "$REF" "$TARGET"
	kept=$(temp_dbs)
	check "the temporary database is kept" test -n "$kept"
	run_cmd bs restore latest --repo "$REPO" -d "$TARGET" --clean --drop-old -q
	expect_exit 0 "the next --clean succeeds"
	check_eq "and leaves the kept temporary database alone" "$(temp_dbs)" "$kept"
	[ -n "$kept" ] && drop_db "$kept"
}
run_test "--keep-on-error keeps the failed temporary database, marked so that clean-up leaves it" t_keep_on_error

# kill_at SIGNAL DELAY: start restore --clean, wait for its temporary
# database, DELAY seconds more, send SIGNAL; sets RC.
kill_at() {
	local sig=$1 delay=$2 pid i
	"$BS_BIN/backstop-restore" latest --repo "$REPO" -d "$TARGET" --clean --drop-old -q -j 2 \
		>"$BS_TMP/kill.out" 2>"$BS_TMP/kill.err" </dev/null &
	pid=$!
	for ((i = 0; i < 200; i++)); do
		[ -n "$(temp_dbs)" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	sleep "$delay"
	kill "-$sig" "$pid" 2>/dev/null
	RC=0
	wait "$pid" 2>/dev/null || RC=$?
}

t_sigterm() {
	local delay
	for delay in 0 0.5 1.5 6; do
		make_changed_target || { t_fail "cannot prepare the target"; return; }
		kill_at TERM "$delay"
		case $RC in
		143 | 0) ;;
		*) t_fail "SIGTERM after ${delay}s: exit $RC, expected 143 (or 0 when done)" "$(cat "$BS_TMP/kill.err")" ;;
		esac
		intact_or_replaced "SIGTERM after ${delay}s (exit $RC)"
		expect_no_temp_db
	done
}
run_test "SIGTERM at several points: the target intact or fully replaced, no temporary database" t_sigterm

# Sessions of a killed restore's children (pg_restore) end on their own.
wait_no_sessions_on_temp() {
	local i
	for ((i = 0; i < 300; i++)); do
		[ "$(pg postgres "select count(*) from pg_stat_activity where datname ~ '^backstop_clean_'")" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}

t_sigkill() {
	local delay left
	for delay in 0.2 1.0 2.0; do
		make_changed_target || { t_fail "cannot prepare the target"; return; }
		kill_at KILL "$delay"
		intact_or_replaced "kill -9 after ${delay}s"
		wait_no_sessions_on_temp
		left=$(temp_dbs)
		drop_db "$REF"
		pg postgres "create database $REF template $TARGET" >/dev/null
		run_cmd bs restore latest --repo "$REPO" -d "$TARGET" --clean --drop-old
		expect_exit 0 "the next restore --clean after kill -9 (${delay}s) succeeds"
		if [ -n "$left" ]; then
			expect_stderr_contains "dropped $left, the temporary database of an interrupted restore --clean"
		fi
		check "kill -9 after ${delay}s, then --clean: equals the snapshot" db_compare "$SRC" "$TARGET"
		expect_no_temp_db
	done
}
run_test "kill -9 at several points: intact or replaced; the next --clean drops the leftover" t_sigkill

done_testing
