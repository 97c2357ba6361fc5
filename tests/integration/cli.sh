#!/usr/bin/env bash
# cli.sh - the command line as a PostgreSQL operator and cron see it:
# pg_dump's connection options, explicit repositories, stdout that scripts
# can capture, per-verb help, refusals instead of guesses.
. "$(dirname "$0")/lib.sh"

ID_RE='^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$'
SRC=$(new_db cli_src)
pg "$SRC" "create table t (id int primary key, v text); insert into t select g, md5(g::text) from generate_series(1, 500) g;" >/dev/null
OTHER=$(new_db cli_other)
pg "$OTHER" "create table u (id int primary key); insert into u select generate_series(1, 10);" >/dev/null
REPO=$BS_TMP/repo
printf 'keep_last: 1\n' >"$BS_TMP/keep1.yaml"

count_snapshots() { ls "$1/snapshots" 2>/dev/null | wc -l; }

# ------------------------------------------------------------ repositories

t_repo_required() {
	run_cmd bs snap -d "$SRC" --repo "$BS_TMP/typo" --no-encryption
	expect_exit 2
	expect_stderr_contains "repository '$BS_TMP/typo' does not exist"
	expect_stderr_contains "backstop repo init --repo $BS_TMP/typo"
	check "no directory was created for the mistyped path" test ! -e "$BS_TMP/typo"
	mkdir "$BS_TMP/plain-dir"
	run_cmd bs snap list --repo "$BS_TMP/plain-dir"
	expect_exit 2
	expect_stderr_contains "is not a backstop repository"
}
run_test "a path that is not a repository is refused (exit 2, hint: repo init), nothing created" t_repo_required

t_repo_init() {
	run_cmd bs repo init --repo "$REPO"
	expect_exit 0
	expect_stderr_contains "created repository"
	check "marker written" test -f "$REPO/backstop-repo.json"
	check "mode 0700" test "$(stat -c %a "$REPO")" = 700
	run_cmd bs repo init --repo "$REPO"
	expect_exit 0
	expect_stderr_contains "already a backstop repository"
	mkdir -p "$BS_TMP/data" && echo precious >"$BS_TMP/data/file"
	run_cmd bs repo init --repo "$BS_TMP/data"
	expect_exit 2
	expect_stderr_contains "not empty and not a backstop repository"
	check "the directory's file is untouched" test "$(cat "$BS_TMP/data/file")" = precious
	check "nothing was added to it" test "$(ls "$BS_TMP/data")" = file
	run_cmd bs repo init --help
	expect_exit 0
	expect_stdout_contains "usage: backstop repo init"
}
run_test "repo init creates a repository, is idempotent, refuses a non-empty directory" t_repo_init

t_repo_permission() {
	local u=${BS_PG_OSUSER:-}
	if [ -z "$u" ] || [ "$(id -u)" != 0 ] || ! command -v runuser >/dev/null; then
		t_skip "needs root and the harness's unprivileged user"
		return
	fi
	mkdir -p "$BS_TMP/private" && chmod 0755 "$BS_TMP/private"
	bs repo init --repo "$BS_TMP/private/repo" -q || return
	chmod 0700 "$BS_TMP/private/repo"
	run_cmd runuser -u "$u" -- "$BS_BIN/backstop-snap" list --repo "$BS_TMP/private/repo"
	expect_exit 3
	expect_stderr_contains "permission denied"
	if grep -q "not a backstop repository" "$ERR_FILE"; then
		t_fail "permission denied was reported as 'not a backstop repository'"
	fi
}
run_test "an unreadable repository is reported as permission denied" t_repo_permission

# ------------------------------------------------- PostgreSQL's connection options

t_pg_options() {
	local id
	run_cmd bs snap -d "$SRC" -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" --repo "$REPO" --no-encryption -q
	expect_exit 0
	expect_stdout_matches "$ID_RE" "stdout is the new snapshot id"
	id=$OUT
	run_cmd bs snap show "$id" --repo "$REPO" --json
	expect_exit 0
	check "the snapshot is of the database named by -d" python3 -c '
import json, sys; assert json.loads(sys.argv[1])["database"] == sys.argv[2]' "$OUT" "$SRC"
	run_cmd bs snap --dbname "host=$PGHOST port=$PGPORT dbname=$SRC" --repo "$REPO" --no-encryption -q
	expect_exit 0
	expect_stdout_matches "$ID_RE" "--dbname takes a whole connection string"
}
run_test "snap -d NAME -h HOST -p PORT -U USER backs up (not help), as pg_dump does" t_pg_options

t_help_spelling() {
	run_cmd bs snap -?
	expect_exit 0
	expect_stdout_contains "usage: backstop snap"
	expect_stdout_contains "-h, --host HOST"
	run_cmd bs snap -h
	expect_exit 2
	expect_stderr_contains "option '-h' requires a value"
	run_cmd bs snap -V
	expect_exit 0
	expect_stdout_contains "backstop snap"
}
run_test "-? is help and -V the version; -h is --host and needs a value" t_help_spelling

t_restore_d_is_target() {
	local dst
	dst=$(fresh_db_name cli_dst)
	run_cmd bs restore latest --database "$SRC" --repo "$REPO" -d "$dst" -h "$PGHOST" -p "$PGPORT" -C -q
	expect_exit 0
	check "restored into the database named by -d" db_exists "$dst"
	check_eq "rows restored" "$(pg "$dst" "select count(*) from t")" 500
	drop_db "$dst"
	run_cmd bs restore latest --database "$SRC" --repo "$REPO" -h "$PGHOST" -C
	expect_exit 2
	expect_stderr_contains "no target database"
	run_cmd bs restore latest --database "$SRC" --repo "$REPO" -d "$dst"
	expect_exit 3
	expect_stderr_contains "hint: create the database first, or pass --create"
	if db_exists "$dst"; then
		t_fail "a restore without --create created $dst"
	fi
}
run_test "restore -d is the target (as pg_restore), -C creates it; a target is never a libpq default" t_restore_d_is_target

t_filter_has_its_own_name() {
	local n
	n=$(count_snapshots "$REPO")
	run_cmd bs snap list --repo "$REPO" -d "$SRC"
	expect_exit 2
	expect_stderr_contains "--database NAME"
	run_cmd bs snap list --repo "$REPO" --db "host=$PGHOST dbname=$SRC"
	expect_exit 2
	expect_stderr_contains "--database NAME"
	run_cmd bs snap list --repo "$REPO" --database "host=$PGHOST dbname=$SRC"
	expect_exit 2
	expect_stderr_contains "not a connection string"
	run_cmd bs snap prune --repo "$REPO" -d "$SRC" --policy "$BS_TMP/keep1.yaml"
	expect_exit 2
	check_eq "prune with a refused option deleted nothing" "$(count_snapshots "$REPO")" "$n"
	run_cmd bs snap list --repo "$REPO" --database "$SRC" --json
	expect_exit 0
	check "--database filters" python3 -c '
import json, sys; s = json.loads(sys.argv[1])["snapshots"]; assert len(s) == 2 and all(x["database"] == sys.argv[2] for x in s), s' "$OUT" "$SRC"
}
run_test "the snapshot filter is --database; -d/--db are refused there with a pointer" t_filter_has_its_own_name

# --------------------------------------------------- several databases, one repository

t_latest_refuses_to_guess() {
	run_cmd bs snap -d "$OTHER" --repo "$REPO" --no-encryption -q
	expect_exit 0
	run_cmd bs restore latest --repo "$REPO" -d "$(fresh_db_name cli_guess)" -C
	expect_exit 2
	expect_stderr_contains "several databases"
	expect_stderr_contains "$SRC"
	expect_stderr_contains "$OTHER"
	expect_stderr_contains "--database NAME"
	run_cmd bs verify-restore latest --repo "$REPO" --archive-only
	expect_exit 2
	expect_stderr_contains "several databases"
	run_cmd bs snap show latest --repo "$REPO"
	expect_exit 2
	run_cmd bs verify-restore latest --repo "$REPO" --archive-only --database "$OTHER" -q
	expect_exit 0
	run_cmd bs snap show latest --repo "$REPO" --database "$OTHER" --json
	expect_exit 0
	check "latest of --database is that database's" python3 -c '
import json, sys; assert json.loads(sys.argv[1])["database"] == sys.argv[2]' "$OUT" "$OTHER"
}
run_test "latest in a repository of several databases refuses and lists them; --database picks" t_latest_refuses_to_guess

t_ambiguous_id() {
	local prefix
	prefix=$(ls "$REPO/snapshots" | head -1 | cut -c1-8)
	run_cmd bs snap show "$prefix" --repo "$REPO"
	expect_exit 2
	expect_stderr_contains "is ambiguous"
	expect_stderr_contains "candidates"
	for f in "$REPO"/snapshots/*.json; do
		expect_stderr_contains "$(basename "$f" .json)"
	done
	run_cmd bs snap show 2026 --repo "$REPO"
	expect_exit 2
	expect_stderr_contains "at least 8 characters"
}
run_test "an ambiguous id lists its candidates; a too short prefix says the minimum" t_ambiguous_id

# ----------------------------------------------------------- stdout for scripts

t_stdout_quiet_prune() {
	local out
	# snapshots that ended in or after the second a snap started count as a
	# concurrent snap's and are kept by its prune: start a new second
	sleep 1
	run_cmd bs snap -d "$SRC" --repo "$REPO" --no-encryption -q --prune --policy "$BS_TMP/keep1.yaml"
	expect_exit 0
	check "stdout is exactly one line, the id" bash -c '[ "$(wc -l <"$1")" = 1 ] && grep -Eq "$2" "$1"' _ "$OUT_FILE" "$ID_RE"
	sleep 1
	run_cmd bs snap -d "$SRC" --repo "$REPO" --no-encryption --prune --policy "$BS_TMP/keep1.yaml"
	expect_exit 0
	check "without -q too, stdout is only the id" bash -c '[ "$(wc -l <"$1")" = 1 ] && grep -Eq "$2" "$1"' _ "$OUT_FILE" "$ID_RE"
	expect_stderr_contains "kept"
	expect_stderr_contains "$SRC"
	out=$OUT
	run_cmd bs snap list --repo "$REPO" --database "$SRC" --json
	check "keep_last 1 kept the new snapshot of this database" python3 -c '
import json, sys; s = json.loads(sys.argv[1])["snapshots"]; assert [x["id"] for x in s] == [sys.argv[2]], s' "$OUT" "$out"
	run_cmd bs snap list --repo "$REPO" --database "$OTHER" --json
	check "the other database's snapshot is untouched" python3 -c '
import json, sys; assert len(json.loads(sys.argv[1])["snapshots"]) == 1' "$OUT"
}
run_test "stdout carries only the id with --prune, the prune report goes to stderr, per database" t_stdout_quiet_prune

t_json_one_document() {
	run_cmd bs snap -d "$SRC" --repo "$REPO" --no-encryption --json --prune --policy "$BS_TMP/keep1.yaml"
	expect_exit 0
	check "stdout is one JSON document with the record and the prune report" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["database"] == sys.argv[2] and d["id"] and d["prune"]["decisions"], d
' "$OUT_FILE" "$SRC"
	run_cmd bs snap -d "$SRC" --repo "$REPO" --no-encryption --json
	expect_exit 0
	check "without pruning, prune is null" python3 -c '
import json, sys; assert json.load(open(sys.argv[1]))["prune"] is None' "$OUT_FILE"
}
run_test "snap --json prints one JSON document, the prune report inside it" t_json_one_document

t_no_prune() {
	local n
	printf 'repository: %s\nsnap:\n  prune: true\nretention:\n  keep_last: 1\nencryption: none\n' "$REPO" >"$BS_TMP/prune.yaml"
	n=$(count_snapshots "$REPO")
	run_cmd bs snap --config "$BS_TMP/prune.yaml" -d "$SRC" --no-prune -q
	expect_exit 0
	check_eq "--no-prune: nothing was pruned" "$(count_snapshots "$REPO")" $((n + 1))
	run_cmd bs snap --config "$BS_TMP/prune.yaml" -d "$SRC" --prune --no-prune
	expect_exit 2
}
run_test "--no-prune overrides snap.prune: true" t_no_prune

t_prune_checked_first() {
	local n t0 t1
	n=$(count_snapshots "$REPO")
	run_cmd bs snap -d "$SRC" --repo "$REPO" --no-encryption --prune
	expect_exit 2
	expect_stderr_contains "no retention policy configured"
	printf 'keep_last: -1\n' >"$BS_TMP/bad.yaml"
	run_cmd bs snap -d "$SRC" --repo "$REPO" --no-encryption --prune --policy "$BS_TMP/bad.yaml"
	expect_exit 2
	run_cmd bs snap -d "$SRC" --repo "$REPO" --no-encryption --prune --policy "$BS_TMP/missing.yaml"
	expect_exit 2
	check_eq "no snapshot was taken by the refused runs" "$(count_snapshots "$REPO")" "$n"
	check "nothing left in tmp/" test -z "$(ls "$REPO/tmp")"
}
run_test "snap --prune without a usable policy fails before the backup" t_prune_checked_first

t_concurrent_prune() {
	local repo=$BS_TMP/conc lock a b ida idb
	bs repo init --repo "$repo" -q || return
	# both snaps wait on the same table lock, then run side by side
	"$BS_PGBIN/psql" -X -q -d "$SRC" -c "begin; lock table t in access exclusive mode; select pg_sleep(3); commit;" >/dev/null 2>&1 &
	lock=$!
	sleep 0.5
	"$BS_BIN/backstop" snap -d "$SRC" --repo "$repo" --no-encryption -q --prune --policy "$BS_TMP/keep1.yaml" >"$BS_TMP/a.out" 2>"$BS_TMP/a.err" </dev/null &
	a=$!
	"$BS_BIN/backstop" snap -d "$SRC" --repo "$repo" --no-encryption -q --prune --policy "$BS_TMP/keep1.yaml" >"$BS_TMP/b.out" 2>"$BS_TMP/b.err" </dev/null &
	b=$!
	wait "$a" || t_fail "snap A failed: $(cat "$BS_TMP/a.err")"
	wait "$b" || t_fail "snap B failed: $(cat "$BS_TMP/b.err")"
	wait "$lock"
	ida=$(cat "$BS_TMP/a.out")
	idb=$(cat "$BS_TMP/b.out")
	check "snap A's printed id is listed" test -f "$repo/snapshots/$ida.json"
	check "snap B's printed id is listed" test -f "$repo/snapshots/$idb.json"
	run_cmd bs snap prune --repo "$repo" --policy "$BS_TMP/keep1.yaml" -q
	expect_exit 0
	check_eq "a later prune applies the policy" "$(count_snapshots "$repo")" 1
}
run_test "two concurrent snaps with --prune never delete each other's snapshot" t_concurrent_prune

# ------------------------------------------------------------ help and discovery

t_help_discovery() {
	run_cmd bs help snap
	expect_exit 0
	expect_stdout_contains "usage: backstop snap"
	expect_stdout_contains "--dbname"
	run_cmd bs help snap list
	expect_exit 0
	expect_stdout_contains "usage: backstop snap list"
	if grep -q -- "--dry-run\|--reason" "$OUT_FILE"; then
		t_fail "snap list --help lists options of other verbs"
	fi
	run_cmd bs snap list --repo "$REPO" --dry-run
	expect_exit 2
	expect_stderr_contains "unknown option '--dry-run'"
	run_cmd bs snap pin --help
	expect_exit 0
	expect_stdout_contains "--reason"
	expect_stdout_contains "at least 8 characters"
	run_cmd bs snapp
	expect_exit 2
	expect_stderr_contains "did you mean 'snap'?"
	run_cmd bs snap lsit
	expect_exit 2
	expect_stderr_contains "did you mean 'list'?"
	run_cmd bs keygen --help
	expect_exit 0
	if grep -q -- "--config" "$OUT_FILE"; then
		t_fail "keygen --help lists --config, but keygen reads no configuration"
	fi
	run_cmd bs verify-restore --help
	expect_exit 0
	check_eq "verify-restore --help prints its exit codes once" "$(grep -c '^exit codes' "$OUT_FILE")" 1
}
run_test "per-verb help, backstop help CMD, did-you-mean, keygen and verify-restore help" t_help_discovery

t_keygen_missing_dir() {
	run_cmd bs keygen -o "$BS_TMP/no/such/dir/key.txt"
	expect_exit 2
	expect_stderr_contains "directory '$BS_TMP/no/such/dir' does not exist"
	expect_stderr_contains "install -d -m 0700 $BS_TMP/no/such/dir"
	check "nothing was created" test ! -e "$BS_TMP/no"
}
run_test "keygen -o into a missing directory: exit 2, says which directory and how to create it" t_keygen_missing_dir

t_failed_drill_quiet() {
	local id
	run_cmd bs snap show latest --repo "$REPO" --database "$SRC" --json
	expect_exit 0 || return
	id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$OUT_FILE")
	printf 'smoke:\n  - name: impossible\n    sql: SELECT false\n    expect: true\n' >"$BS_TMP/fail-drill.yaml"
	run_cmd bs verify-restore "$id" --repo "$REPO" --scratch "$(db_conninfo postgres)" --policy "$BS_TMP/fail-drill.yaml" --quiet
	expect_exit 1
	expect_stderr_contains "drill of snapshot $id"
	expect_stderr_contains "fail"
}
run_test "a failed drill under --quiet says so on stderr (cron mails it)" t_failed_drill_quiet

t_options_before_verb() {
	run_cmd bs snap --repo "$REPO" -q list --database "$SRC" --json
	expect_exit 0 "snap --repo R -q list: the options belong to the verb"
	check "it listed the snapshots" python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))' "$OUT_FILE"
	printf 'repository: %s\n' "$REPO" >"$BS_TMP/before-verb.yaml"
	run_cmd bs snap --config "$BS_TMP/before-verb.yaml" list --database "$SRC"
	expect_exit 0 "snap --config F list"
	expect_stdout_contains "$SRC"
	run_cmd bs gate --config "$BS_TMP/missing.yaml" check go-live
	expect_exit 2
	expect_stderr_contains "backstop gate check: error: unable to open config file '$BS_TMP/missing.yaml'"
	run_cmd bs gate --nope check go-live
	expect_exit 2 "an option no verb has is still an error"
	expect_stderr_contains "unknown option '--nope'"
	run_cmd bs snap -d list --repo "$REPO" -q --no-encryption
	expect_exit 3 "snap -d list: 'list' is the value of -d (a database named list), not the verb"
	expect_stderr_contains '"list"'
}
run_test "options before the verb (snap --repo R list, gate --config F check) belong to the verb" t_options_before_verb

done_testing
