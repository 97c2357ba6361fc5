#!/usr/bin/env bash
# snap_restore.sh - the must-hold behaviour of snap and restore, run against
# the real binaries and a real PostgreSQL 15 cluster (docs/cli.md is the
# contract; docs/format.md the archive layout):
#
#   * --help / bad options / the git-style dispatcher
#   * round trip of tests/data/rich.sql: schema, rows, sequences, large objects
#   * snap list (text and --json)
#   * a consistent snapshot under concurrent transfers (constant sum)
#   * bad input: each a clear error, the documented exit code, no snapshot
#   * damaged archives: truncated, one flipped byte in a data chunk
#   * crash safety: kill -9 at several points, then list / restore / snap
#   * the escape hatch: tar + zstd + pg_restore + psql \copy, no backstop
#
# Run alone with `bash tests/integration/snap_restore.sh` (starts its own
# cluster) or through tests/run.sh.  Needs root for the tmpfs tests (a
# read-only and a full filesystem); they skip otherwise.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BS_CMD_TIMEOUT=${BS_CMD_TIMEOUT_SNAP_RESTORE:-120}
ID_RE='^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$'
REPO=$BS_TMP/repo
"$BS_BIN/backstop" repo init --repo "$REPO" -q || exit 1

# ------------------------------------------------------------------ helpers

# snap REPO DB [ARGS..]: backstop snap of database DB into REPO, unencrypted.
snap() {
	local repo=$1 db=$2
	shift 2
	bs repo init --repo "$repo" -q || return
	bs snap --repo "$repo" --db "$(db_conninfo "$db")" --no-encryption "$@"
}

# restore_create REPO ID DB [ARGS..]: restore ID into a new database DB.
restore_create() {
	local repo=$1 id=$2 db=$3
	shift 3
	bs restore "$id" --repo "$repo" --target "$(db_conninfo "$db")" --create "$@"
}

# snapshot_ids REPO: the ids `snap list --json` reports, sorted (status is
# that of snap list).
snapshot_ids() {
	local rc=0
	bs snap list --repo "$1" --json >"$BS_TMP/list.json" 2>"$BS_TMP/list.err" </dev/null || rc=$?
	[ "$rc" -eq 0 ] || return "$rc"
	jq -r '.snapshots[].id' "$BS_TMP/list.json" | LC_ALL=C sort
}

# record_ids REPO: the ids of the catalog records present in REPO, sorted.
record_ids() {
	local f
	for f in "$1"/snapshots/*.json; do
		[ -e "$f" ] || continue
		f=${f##*/}
		echo "${f%.json}"
	done | LC_ALL=C sort
}

# expect_no_new_snapshot REPO BEFORE: neither the catalog records nor
# `snap list` have more than BEFORE (a newline-separated id list).
expect_no_new_snapshot() {
	local repo=$1 before=$2 now
	now=$(record_ids "$repo")
	check_eq "no new snapshot record in $repo/snapshots" "$now" "$before"
	if [ -d "$repo/snapshots" ]; then
		now=$(snapshot_ids "$repo") || {
			t_fail "snap list failed after the error: $(cat "$BS_TMP/list.err")"
			return 1
		}
		check_eq "snap list shows no new snapshot" "$now" "$before"
	fi
}

# expect_no_db NAME: the --create target must not exist afterwards.
expect_no_db() {
	if db_exists "$1"; then
		t_fail "database '$1' exists after the failed restore (--create must drop it)"
		return 1
	fi
}

# mount_tmpfs DIR OPTIONS: a tmpfs at DIR, unmounted at exit; status 1 when
# this process may not mount (then the caller skips).
mount_tmpfs() {
	mkdir -p "$1" || return 1
	mount -t tmpfs -o "$2" tmpfs "$1" 2>/dev/null || return 1
	bs_on_exit umount_quiet "$1"
}

umount_quiet() {
	umount "$1" 2>/dev/null || umount -l "$1" 2>/dev/null || true
}

# flip_data_byte ARCHIVE: invert one byte in the middle of the largest
# data/... member's content (a zstd frame); prints the member name.
flip_data_byte() {
	local tarf=$1 listing block size name start off byte
	listing=$(tar -R -tvf "$tarf" 2>/dev/null) || return 1
	read -r block size name < <(printf '%s\n' "$listing" |
		awk '$1 == "block" && $NF ~ /^data\// { sub(":", "", $2); print $2, $5, $NF }' |
		sort -k2,2n | tail -n 1)
	[ -n "${name:-}" ] || return 1
	# The member's content starts with the zstd magic 28 b5 2f fd; its header
	# (and any pax extended header) comes first, at block*512.
	start=$(LC_ALL=C grep -obUaP '\x28\xb5\x2f\xfd' "$tarf" |
		awk -F: -v min=$((block * 512)) '$1 >= min { print $1; exit }')
	[ -n "$start" ] || return 1
	off=$((start + size / 2))
	byte=$(od -An -tu1 -j "$off" -N1 "$tarf" | tr -d ' ')
	printf "\\x$(printf %02x $((byte ^ 0xff)))" |
		dd of="$tarf" bs=1 seek="$off" conv=notrunc status=none || return 1
	echo "$name"
}

need_snapshot() {
	if [ -z "${1:-}" ]; then
		t_fail "no snapshot from the earlier test to work with"
		return 1
	fi
}

# ------------------------------------------------------------------ fixtures

SRC=$(new_db rich) && pg_file "$SRC" "$BS_ROOT/tests/data/rich.sql" >/dev/null || {
	echo "Bail out! cannot load tests/data/rich.sql"
	exit 1
}

# ledger database: two big tables whose sum is constant under transfers,
# and a log of the transfers.  Also the victim of the crash tests.
LEDGER_N=150000
LEDGER=$(new_db ledger) && pg "$LEDGER" "
	create table ledger_a (id int primary key, bal bigint not null, filler text);
	create table ledger_b (id int primary key, bal bigint not null, filler text);
	create table ledger_log (n bigserial primary key, x int, y int, amt int);
	insert into ledger_a select g, 1000, repeat(md5(g::text), 2) from generate_series(1, $LEDGER_N) g;
	insert into ledger_b select g, 1000, repeat(md5((-g)::text), 2) from generate_series(1, $LEDGER_N) g;" >/dev/null &&
	pg "$LEDGER" "vacuum analyze" >/dev/null || {
	echo "Bail out! cannot create the ledger database"
	exit 1
}
LEDGER_SUM=$((2 * LEDGER_N * 1000))

# small database for the damaged-archive tests
SMALL=$(new_db small) && pg "$SMALL" "
	create table t (id int primary key, v text);
	insert into t select g, md5(g::text) || md5((g * 3)::text) from generate_series(1, 60000) g;
	create sequence s; select nextval('s');" >/dev/null || {
	echo "Bail out! cannot create the small database"
	exit 1
}

# ----------------------------------------------------------- usage and help

t_help() {
	local cmd=$1 what=$2
	run_cmd "$BS_BIN/$cmd" --help
	expect_exit 0 || return
	expect_stdout_matches 'usage' "stdout shows a usage line"
	[ -z "$what" ] || expect_stdout_contains "$what"
}
run_test "backstop --help exits 0 and prints usage" t_help backstop ""
run_test "backstop-snap --help exits 0 and prints usage" t_help backstop-snap "--repo"
run_test "backstop-restore --help exits 0 and prints usage" t_help backstop-restore "--target"

t_version() {
	run_cmd "$BS_BIN/backstop-snap" --version
	expect_exit 0 && expect_stdout_contains "$(cat "$BS_ROOT/VERSION")"
}
run_test "backstop-snap --version prints the version" t_version

t_dispatch_help() {
	local direct
	run_cmd "$BS_BIN/backstop-snap" --help
	expect_exit 0 || return
	direct=$(printf '%s' "$OUT" | sed 's/backstop-snap/backstop snap/g')
	run_cmd bs snap --help
	expect_exit 0 || return
	check_eq "'backstop snap --help' prints what 'backstop-snap --help' prints" \
		"$(printf '%s' "$OUT" | sed 's/backstop-snap/backstop snap/g')" "$direct"
}
run_test "'backstop snap' dispatches to backstop-snap" t_dispatch_help

t_bad_option() {
	local name=$1
	shift
	run_cmd "$@" --no-such-option
	expect_exit 2 || return
	expect_stderr_contains "Try 'backstop $name --help'."
	check_eq "nothing on stdout" "$OUT" ""
	[ "$(printf '%s\n' "$ERR" | wc -l)" -le 3 ] || t_fail "misuse should print one short message, got:" "$ERR"
}
run_test "backstop-snap with a bad option exits 2 with a Try line" t_bad_option snap "$BS_BIN/backstop-snap"
run_test "backstop snap (dispatcher) with a bad option exits 2 with a Try line" t_bad_option snap bs snap
run_test "backstop-restore with a bad option exits 2 with a Try line" t_bad_option restore "$BS_BIN/backstop-restore"

# --------------------------------------------------------------- round trip

RICH_ID=
t_snap_rich() {
	run_cmd snap "$REPO" "$SRC" --jobs 2
	expect_exit 0 || return
	if [[ $OUT =~ $ID_RE ]]; then
		RICH_ID=$OUT
	else
		t_fail "stdout is not a snapshot id: '$OUT'"
		return
	fi
	check "catalog record snapshots/$RICH_ID.json exists" test -f "$REPO/snapshots/$RICH_ID.json"
	check "archive archives/$RICH_ID.tar exists" test -f "$REPO/archives/$RICH_ID.tar"
	check "no leftover files in tmp/" test -z "$(find "$REPO/tmp" -type f 2>/dev/null)"
}
run_test "snap of the rich database succeeds and prints the snapshot id" t_snap_rich

RICH_DST=
t_restore_rich() {
	need_snapshot "$RICH_ID" || return
	RICH_DST=$(fresh_db_name richcopy)
	run_cmd restore_create "$REPO" "$RICH_ID" "$RICH_DST" --jobs 2
	expect_exit 0 || {
		RICH_DST=
		return
	}
	db_exists "$RICH_DST" || t_fail "target database was not created"
}
run_test "restore --create of the rich snapshot succeeds" t_restore_rich

t_rich_same() {
	local what=$1
	[ -n "$RICH_DST" ] || {
		t_fail "no restored copy to compare"
		return
	}
	check "$what of restored copy equals source" "db_compare_$what" "$SRC" "$RICH_DST"
}
run_test "round trip: pg_dump --schema-only of source and restored copy identical" t_rich_same schema
run_test "round trip: every table's rows equal (order independent)" t_rich_same rows
run_test "round trip: sequence states equal (last_value, is_called)" t_rich_same sequences
run_test "round trip: large objects equal (data, owner, comment, ACL)" t_rich_same large_objects

t_rich_no_triggers_fired() {
	[ -n "$RICH_DST" ] || {
		t_fail "no restored copy"
		return
	}
	check_eq "BEFORE INSERT trigger did not fire during the load" \
		"$(pg "$RICH_DST" "select string_agg(name, ',' order by id) from app.shouty")" "quiet,calm"
	check_eq "AFTER INSERT audit trigger did not add rows during the load" \
		"$(pg "$RICH_DST" "select count(*) from app.audit_log")" \
		"$(pg "$SRC" "select count(*) from app.audit_log")"
	check_eq "materialized view is populated" \
		"$(pg "$RICH_DST" "select relispopulated from pg_class where oid = 'app.kind_counts'::regclass")" "t"
	check_eq "materialized view created WITH NO DATA stays unpopulated" \
		"$(pg "$RICH_DST" "select relispopulated from pg_class where oid = 'app.kind_counts_later'::regclass")" "f"
}
run_test "round trip: triggers do not fire on load, matviews populated as in the source" t_rich_no_triggers_fired

# ------------------------------------------------------------------ listing

t_list_text() {
	need_snapshot "$RICH_ID" || return
	run_cmd bs snap list --repo "$REPO"
	expect_exit 0 || return
	expect_stdout_contains "$RICH_ID"
	expect_stdout_contains "$SRC" "the listing names the database"
}
run_test "snap list shows the snapshot" t_list_text

t_list_json() {
	need_snapshot "$RICH_ID" || return
	run_cmd bs snap list --repo "$REPO" --json
	expect_exit 0 || return
	check "--json output is a JSON object with a snapshots array" \
		jq -e '.snapshots | type == "array"' "$OUT_FILE"
	check "the snapshot has id, database, start, end, bytes, status" \
		jq -e --arg id "$RICH_ID" --arg db "$SRC" '
			.snapshots[] | select(.id == $id)
			| (.database == $db) and (.status == "complete")
			  and (.start | type == "string") and (.end | type == "string")
			  and (.bytes | type == "number") and (.bytes > 0)' "$OUT_FILE"
}
run_test "snap list --json has a snapshots array with id/database/start/end/bytes/status" t_list_json

# -------------------------------------------------------------- consistency

t_consistency() {
	local script=$BS_TMP/transfer.sql pgb pid id dst n_before n_after a b l
	cat >"$script" <<-'EOF'
		\set x random(1, :n)
		\set y random(1, :n)
		\set amt random(1, 100)
		BEGIN;
		UPDATE ledger_a SET bal = bal - :amt WHERE id = :x;
		UPDATE ledger_b SET bal = bal + :amt WHERE id = :y;
		INSERT INTO ledger_log (x, y, amt) VALUES (:x, :y, :amt);
		END;
	EOF
	pgb=$BS_TMP/pgbench.log
	"$BS_PGBIN/pgbench" -n -c 2 -j 2 -T 60 -D n="$LEDGER_N" -f "$script" "$LEDGER" \
		>"$pgb" 2>&1 </dev/null &
	pid=$!
	# Wait until transfers are flowing.
	for _ in $(seq 100); do
		n_before=$(pg "$LEDGER" "select count(*) from ledger_log")
		[ "${n_before:-0}" -gt 50 ] && break
		sleep 0.1
	done
	run_cmd snap "$REPO" "$LEDGER" --jobs 2
	local snap_rc=$RC snap_out=$OUT
	local still_running=0
	kill -0 "$pid" 2>/dev/null && still_running=1
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	n_after=$(pg "$LEDGER" "select count(*) from ledger_log")
	expect_exit 0 "snap under concurrent transfers exits 0" || return
	check_eq "transfers were still running when snap finished" "$still_running" 1
	[[ $snap_out =~ $ID_RE ]] || {
		t_fail "no snapshot id on stdout: '$snap_out'"
		return
	}
	id=$snap_out
	dst=$(fresh_db_name ledgercopy)
	run_cmd restore_create "$REPO" "$id" "$dst" --jobs 2
	expect_exit 0 "restore of the ledger snapshot" || return
	a=$(pg "$dst" "select sum(bal) from ledger_a")
	b=$(pg "$dst" "select sum(bal) from ledger_b")
	l=$(pg "$dst" "select coalesce(sum(amt), 0) || ' ' || count(*) from ledger_log")
	check_eq "restored sum(a) + sum(b) is the constant" "$((a + b))" "$LEDGER_SUM"
	check_eq "restored sum(a) matches the restored transfer log" "$a" "$((LEDGER_N * 1000 - ${l% *}))"
	diag "transfers: ${n_before} before snap, ${l#* } in the snapshot, ${n_after} at the end"
	[ "${l#* }" -gt 0 ] || t_fail "the snapshot saw no transfer at all"
	LEDGER_ID=$id
	drop_db "$dst"
}
LEDGER_ID=
run_test "consistency: concurrent transfers during snap --jobs 2, restored sum is constant" t_consistency

# ---------------------------------------------------------------- bad input

t_unreachable() {
	local before port
	before=$(record_ids "$REPO")
	port=$(bs_free_port)
	run_cmd bs snap --repo "$REPO" --no-encryption \
		--db "host=127.0.0.1 port=$port dbname=nothere user=postgres connect_timeout=5"
	expect_exit 3 || return
	expect_stderr_contains "refused" "stderr says the connection was refused"
	expect_no_new_snapshot "$REPO" "$before"
}
run_test "snap of an unreachable server exits 3 with a clear error, no snapshot" t_unreachable

t_wrong_password() {
	local before
	[ "${BS_PG_TCP:-}" = 1 ] || {
		t_skip "cluster without the harness pg_hba.conf (TCP + scram-sha-256)"
		return
	}
	pg postgres "drop role if exists bs_sr_pw; create role bs_sr_pw login superuser password 'right'" >/dev/null
	before=$(record_ids "$REPO")
	PGPASSWORD=wrong PGPASSFILE=/dev/null run_cmd bs snap --repo "$REPO" --no-encryption \
		--db "host=$BS_PG_HOSTADDR port=$PGPORT user=bs_sr_pw dbname=$SMALL"
	expect_exit 3 || return
	expect_stderr_contains "password authentication failed"
	expect_no_new_snapshot "$REPO" "$before"
}
run_test "snap with a wrong password exits 3 mentioning password authentication" t_wrong_password

t_missing_pg_dump() {
	local before cfg=$BS_TMP/nopgdump.yaml
	printf 'snap:\n  pg_bindir: /nonexistent\n' >"$cfg"
	before=$(record_ids "$REPO")
	run_cmd bs snap --config "$cfg" --repo "$REPO" --db "$(db_conninfo "$SMALL")" --no-encryption
	expect_exit 3 || return
	expect_stderr_contains "pg_dump" "stderr names pg_dump"
	expect_no_new_snapshot "$REPO" "$before"
}
run_test "snap without pg_dump (pg_bindir: /nonexistent) exits 3 naming pg_dump" t_missing_pg_dump

t_repo_parent_is_file() {
	: >"$BS_TMP/a-file"
	run_cmd snap "$BS_TMP/a-file/repo" "$SMALL"
	expect_exit 3 || return
	expect_stderr_contains "$BS_TMP/a-file" "stderr names the repository path"
	expect_stderr_contains "not a directory"
	check "nothing was created" test ! -e "$BS_TMP/a-file/repo"
}
run_test "snap into a repository below a regular file exits 3" t_repo_parent_is_file

t_repo_read_only() {
	local ro=$BS_TMP/ro-repo
	mount_tmpfs "$ro" ro,size=1m || {
		t_skip "cannot mount a tmpfs here (needs root)"
		return
	}
	run_cmd snap "$ro" "$SMALL"
	expect_exit 3 || return
	expect_stderr_contains "read-only file system"
	check_eq "no snapshot listed" "$(record_ids "$ro")" ""
}
run_test "snap into a read-only repository exits 3 (even as root)" t_repo_read_only

t_disk_full() {
	local full=$BS_TMP/full-repo big left
	mount_tmpfs "$full" size=2m || {
		t_skip "cannot mount a tmpfs here (needs root)"
		return
	}
	big=$(new_db big) || return
	# ~100k rows of hex: compresses to far more than 2 MB
	pg "$big" "create table h (id int, v text);
	           insert into h select g, md5(g::text) || md5((g + 1)::text) || md5((g + 2)::text)
	             from generate_series(1, 100000) g" >/dev/null
	run_cmd snap "$full" "$big"
	expect_exit 3 || return
	expect_stderr_contains "no space left on device"
	check_eq "no snapshot record" "$(record_ids "$full")" ""
	if [ -d "$full/snapshots" ]; then
		local ids
		ids=$(snapshot_ids "$full") || t_fail "snap list failed on the full repository: $(cat "$BS_TMP/list.err")"
		check_eq "snap list shows nothing" "$ids" ""
	fi
	left=$(cd "$full" && find . -type f ! -name backstop-repo.json ! -name lock)
	check_eq "no leftover (temporary) files in the repository" "$left" ""
	drop_db "$big"
}
run_test "snap onto a full disk exits 3, lists nothing, leaves no temp file" t_disk_full

t_config_unknown_key() {
	local cfg=$BS_TMP/unknown.yaml
	printf '# test config\nno_such_key: 1\n' >"$cfg"
	run_cmd bs snap --config "$cfg" --repo "$REPO" --db "$(db_conninfo "$SMALL")" --no-encryption
	expect_exit 2 || return
	expect_stderr_contains "$cfg:2:1" "stderr has file:line:column of the key"
	expect_stderr_contains "no_such_key" "stderr names the key"
}
run_test "config with an unknown key exits 2 with file:line:col" t_config_unknown_key

t_config_wrong_type() {
	local cfg=$BS_TMP/wrongtype.yaml
	printf 'snap:\n  jobs: lots\n' >"$cfg"
	run_cmd bs snap --config "$cfg" --repo "$REPO" --db "$(db_conninfo "$SMALL")" --no-encryption
	expect_exit 2 || return
	expect_stderr_matches "$(printf '%s' "$cfg" | sed 's/[.]/[.]/g'):2:[0-9]+" "stderr has file:line:column of the value"
	expect_stderr_contains "jobs" "stderr names the key"
}
run_test "config with a value of the wrong type exits 2 with file:line:col" t_config_wrong_type

t_restore_not_found() {
	local dst bogus=20000101T000000Z-000000
	dst=$(fresh_db_name notfound)
	run_cmd restore_create "$REPO" "$bogus" "$dst"
	expect_exit 2 || return
	expect_stderr_contains "$bogus" "stderr names the id"
	expect_no_db "$dst"
}
run_test "restore of a nonexistent snapshot id exits 2, creates nothing" t_restore_not_found

# --------------------------------------------------------- damaged archives

SMALL_ID=
t_small_snap() {
	run_cmd snap "$REPO" "$SMALL"
	expect_exit 0 || return
	[[ $OUT =~ $ID_RE ]] || {
		t_fail "no id on stdout: '$OUT'"
		return
	}
	SMALL_ID=$OUT
	cp "$REPO/archives/$SMALL_ID.tar" "$BS_TMP/pristine.tar" ||
		t_fail "archive archives/$SMALL_ID.tar not found"
	local dst
	dst=$(fresh_db_name smallcopy)
	run_cmd restore_create "$REPO" "$SMALL_ID" "$dst"
	expect_exit 0 "the undamaged archive restores" || return
	check "restored copy equals source" db_compare "$SMALL" "$dst"
	drop_db "$dst"
}
run_test "snap and restore of a small database (control for the damage tests)" t_small_snap

t_restore_non_empty() {
	local dst before after
	need_snapshot "$SMALL_ID" || return
	dst=$(new_db nonempty) || return
	pg "$dst" "create table keep_me (x int); insert into keep_me values (1), (2)" >/dev/null
	before=$(db_dump_schema "$dst"; db_table_rows "$dst" public.keep_me)
	run_cmd bs restore "$SMALL_ID" --repo "$REPO" --target "$(db_conninfo "$dst")"
	expect_exit 2 || return
	expect_stderr_contains "not empty" "stderr says the target is not empty"
	expect_stderr_contains "--clean" "stderr hints at --clean"
	after=$(db_dump_schema "$dst"; db_table_rows "$dst" public.keep_me)
	check_eq "target database unchanged" "$after" "$before"
}
run_test "restore onto a non-empty database without --clean exits 2, database unchanged" t_restore_non_empty

t_damaged() {
	local kind=$1 archive dst member size
	need_snapshot "$SMALL_ID" || return
	archive=$REPO/archives/$SMALL_ID.tar
	cp "$BS_TMP/pristine.tar" "$archive" || return
	case $kind in
	truncated)
		size=$(stat -c %s "$archive")
		truncate -s $((size / 2)) "$archive"
		;;
	flipped)
		member=$(flip_data_byte "$archive") || {
			t_fail "could not find a data member to damage in $archive" "$(tar -R -tvf "$archive" 2>&1 | head)"
			return
		}
		diag "flipped a byte in $member"
		;;
	esac
	dst=$(fresh_db_name damaged)
	run_cmd restore_create "$REPO" "$SMALL_ID" "$dst"
	cp "$BS_TMP/pristine.tar" "$archive"
	expect_exit 3 || {
		expect_no_db "$dst"
		return
	}
	case $kind in
	truncated)
		expect_stderr_matches 'truncat|unexpected end|end of (file|archive)|eof|premature|short|corrupt|damaged' \
			"stderr says the archive is truncated/damaged"
		;;
	flipped)
		expect_stderr_contains "$member" "stderr names the damaged member"
		;;
	esac
	expect_no_db "$dst"
}
run_test "restore of a truncated archive exits 3, --create target gone" t_damaged truncated
run_test "restore with one flipped byte in a data chunk exits 3 naming the member, target gone" t_damaged flipped

# -------------------------------------------------------------- crash safety

# A preload library that SIGKILLs the process at a rename(2) whose target
# contains $BS_KILL_RENAME_PATTERN, just before it (BS_KILL_RENAME_WHEN=before)
# or just after it succeeded (=after): deterministic kills inside the commit
# (archive rename, then catalog record rename; docs/format.md).
KILL_SHIM=
build_kill_shim() {
	[ -n "$KILL_SHIM" ] && return 0
	command -v cc >/dev/null 2>&1 || return 1
	cat >"$BS_TMP/killrename.c" <<-'EOF'
		#define _GNU_SOURCE
		#include <dlfcn.h>
		#include <signal.h>
		#include <stdlib.h>
		#include <string.h>

		static int hit(const char *to, int after)
		{
			const char *pat = getenv("BS_KILL_RENAME_PATTERN");
			const char *when = getenv("BS_KILL_RENAME_WHEN");
			if (!pat || !*pat || !to || !strstr(to, pat))
				return 0;
			return (when && strcmp(when, "after") == 0) == after;
		}

		int rename(const char *from, const char *to)
		{
			int (*real)(const char *, const char *) =
				(int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
			if (hit(to, 0))
				raise(SIGKILL);
			int rc = real(from, to);
			if (rc == 0 && hit(to, 1))
				raise(SIGKILL);
			return rc;
		}

		int renameat(int fd1, const char *from, int fd2, const char *to)
		{
			int (*real)(int, const char *, int, const char *) =
				(int (*)(int, const char *, int, const char *))dlsym(RTLD_NEXT, "renameat");
			if (hit(to, 0))
				raise(SIGKILL);
			int rc = real(fd1, from, fd2, to);
			if (rc == 0 && hit(to, 1))
				raise(SIGKILL);
			return rc;
		}

		int renameat2(int fd1, const char *from, int fd2, const char *to, unsigned flags)
		{
			int (*real)(int, const char *, int, const char *, unsigned) =
				(int (*)(int, const char *, int, const char *, unsigned))dlsym(RTLD_NEXT, "renameat2");
			if (hit(to, 0))
				raise(SIGKILL);
			int rc = real(fd1, from, fd2, to, flags);
			if (rc == 0 && hit(to, 1))
				raise(SIGKILL);
			return rc;
		}
	EOF
	cc -shared -fPIC -O1 -o "$BS_TMP/killrename.so" "$BS_TMP/killrename.c" -ldl 2>"$BS_TMP/killrename.err" ||
		return 1
	KILL_SHIM=$BS_TMP/killrename.so
}

# crash_check REPO WHAT: every listed snapshot is complete and has its archive.
crash_check() {
	local repo=$1 what=$2 ids id
	ids=$(snapshot_ids "$repo") || {
		t_fail "after $what: snap list failed: $(cat "$BS_TMP/list.err")"
		return 1
	}
	for id in $ids; do
		[ -f "$repo/archives/$id.tar" ] || t_fail "after $what: $id listed without archives/$id.tar"
		jq -e --arg id "$id" '.snapshots[] | select(.id == $id) | .status == "complete"' \
			"$BS_TMP/list.json" >/dev/null || t_fail "after $what: $id listed with a status other than complete"
	done
	printf '%s\n' "$ids"
}

t_crash() {
	local crepo=$BS_TMP/crash-repo pid f d t0 ms before after id ids dst point pattern when rc
	# A clean snap first: a complete snapshot to keep, and how long one takes.
	t0=$(date +%s%N)
	run_cmd snap "$crepo" "$LEDGER" --jobs 2
	expect_exit 0 "a clean snap into the crash repository" || return
	ms=$((($(date +%s%N) - t0) / 1000000))
	diag "a clean snap of the ledger database takes ${ms} ms"
	# kill -9 at points spread over a snap's run time
	for f in 10 35 60 85; do
		before=$(crash_check "$crepo" "nothing") || return
		d=$(printf '%d.%03d' $((ms * f / 100 / 1000)) $((ms * f / 100 % 1000)))
		"$BS_BIN/backstop-snap" --repo "$crepo" --db "$(db_conninfo "$LEDGER")" \
			--no-encryption --jobs 2 >/dev/null 2>&1 </dev/null &
		pid=$!
		sleep "$d"
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		after=$(crash_check "$crepo" "kill -9 at ${d}s") || return
		diag "kill -9 at ${d}s (${f}%): $(comm -13 <(echo "$before") <(echo "$after") | grep -c .) new snapshot listed"
	done
	# kill -9 inside the commit, at the renames
	if build_kill_shim; then
		for point in before:/archives/ after:/archives/ before:/snapshots/ after:/snapshots/; do
			when=${point%%:*}
			pattern=${point#*:}
			before=$(crash_check "$crepo" "nothing") || return
			rc=0
			# (in a subshell whose stderr is dropped: no "Killed" from bash)
			(BS_KILL_RENAME_PATTERN=$pattern BS_KILL_RENAME_WHEN=$when LD_PRELOAD=$KILL_SHIM \
				ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
				timeout -k 5 120 "$BS_BIN/backstop-snap" --repo "$crepo" --db "$(db_conninfo "$LEDGER")" \
				--no-encryption --jobs 2 >/dev/null 2>"$BS_TMP/crash.err" </dev/null) 2>/dev/null || rc=$?
			after=$(crash_check "$crepo" "kill $when the rename to *$pattern*") || return
			if [ "$rc" -ne 137 ]; then
				t_fail "kill $when the rename to *$pattern*: the snap was not killed there (exit $rc)" \
					"$(tail -n 5 "$BS_TMP/crash.err")"
				continue
			fi
			local new
			new=$(comm -13 <(echo "$before") <(echo "$after") | grep -c .)
			if [ "$point" = after:/snapshots/ ]; then
				check_eq "killed right after the catalog record is in place: the snapshot exists" "$new" 1
			else
				check_eq "killed $when the rename to *$pattern*: no new snapshot listed" "$new" 0
			fi
		done
	else
		diag "no C compiler: commit-point kills not run ($(cat "$BS_TMP/killrename.err" 2>/dev/null))"
	fi
	# Listing = records, and each listed snapshot restores.
	ids=$(snapshot_ids "$crepo") || {
		t_fail "snap list failed after the kills: $(cat "$BS_TMP/list.err")"
		return
	}
	check_eq "snap list and the catalog records agree" "$ids" "$(record_ids "$crepo")"
	for id in $ids; do
		dst=$(fresh_db_name crashcopy)
		run_cmd restore_create "$crepo" "$id" "$dst" --jobs 2
		expect_exit 0 "listed snapshot $id restores" &&
			check_eq "restored $id: sum is the constant" \
				"$(pg "$dst" "select (select sum(bal) from ledger_a) + (select sum(bal) from ledger_b)")" "$LEDGER_SUM"
		drop_db "$dst"
	done
	# A later snap works (no stale lock; orphans do not get in the way).
	run_cmd snap "$crepo" "$LEDGER" --jobs 2
	expect_exit 0 "a snap after the kills succeeds" || return
	id=$OUT
	ids=$(snapshot_ids "$crepo") || ids=
	case $'\n'"$ids"$'\n' in *$'\n'"$id"$'\n'*) ;; *) t_fail "the new snapshot '$id' is not listed" ;; esac
}
run_test "crash safety: kill -9 during snap and inside the commit leaves only complete snapshots; later snap works" t_crash

# ------------------------------------------------------------- escape hatch

t_escape_hatch() {
	local x=$BS_TMP/unpacked db t schema name tno cols rc
	need_snapshot "$RICH_ID" || return
	mkdir -p "$x"
	check "tar -xf unpacks the archive" tar -xf "$REPO/archives/$RICH_ID.tar" -C "$x" || return
	check "backstop.json, schema.dump, manifest.json are there" \
		test -f "$x/backstop.json" -a -f "$x/schema.dump" -a -f "$x/manifest.json" || return
	db=$(new_db hatch) || return
	run_cmd "$BS_PGBIN/pg_restore" --section=pre-data --exit-on-error -d "$db" "$x/schema.dump"
	expect_exit 0 "pg_restore --section=pre-data" || return
	for t in 'app|events' 'Odd Schema ü|Weird "Name" täble' 'app|types'; do
		schema=${t%%|*}
		name=${t#*|}
		tno=$(jq -r --arg s "$schema" --arg n "$name" \
			'.tables[] | select(.schema == $s and .name == $n) | .no' "$x/backstop.json")
		cols=$(jq -r --arg s "$schema" --arg n "$name" \
			'.tables[] | select(.schema == $s and .name == $n)
			 | .columns | map("\"" + gsub("\""; "\"\"") + "\"") | join(", ")' "$x/backstop.json")
		[ -n "$tno" ] || {
			t_fail "table $schema.$name not in backstop.json"
			continue
		}
		tno=$(printf '%06d' "$tno")
		ls "$x/data/$tno/"*.copy.zst >/dev/null 2>&1 || {
			t_fail "no chunks under data/$tno/ for $schema.$name"
			continue
		}
		local qt
		qt="$(pg_ident "$schema").$(pg_ident "$name")"
		rc=0
		zstd -q -dc "$x/data/$tno/"*.copy.zst |
			"$BS_PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$db" -c "\\copy $qt ($cols) from stdin" \
				>"$BS_TMP/hatch.out" 2>&1 || rc=$?
		[ "$rc" -eq 0 ] || {
			t_fail "zstd -dc | psql \\copy into $qt failed" "$(cat "$BS_TMP/hatch.out")"
			continue
		}
		check "rows of $qt loaded by hand equal the source" \
			cmp -s <(db_table_rows "$SRC" "$qt") <(db_table_rows "$db" "$qt")
	done
}
run_test "escape hatch: tar + zstd + pg_restore --section=pre-data + psql \\copy, rows match" t_escape_hatch

done_testing
