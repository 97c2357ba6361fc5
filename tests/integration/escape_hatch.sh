#!/usr/bin/env bash
# escape_hatch.sh - docs/escape-hatch.md's procedure, run literally: every
# fenced block marked `sh escape-hatch` is extracted, in order, and run as
# one script (after `set -euo pipefail` and the page's four settings) on an
# encrypted snapshot of tests/data/rich.sql, with age, tar, zstd, jq, psql
# and pg_restore only.  The result must equal a normal `backstop restore`
# (db_compare: schema, rows, sequences, large objects with owners, grants
# and comments; materialized views populated as in the source).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DOC=$BS_ROOT/docs/escape-hatch.md
REPO=$BS_TMP/repo
"$BS_BIN/backstop" repo init --repo "$REPO" -q || exit 1

SRC=$(new_db eh_src)
bs_on_exit drop_db "$SRC"
pg_file "$SRC" "$BS_ROOT/tests/data/rich.sql" >/dev/null || exit 1
HATCH_DB=eh_hatch_$$
REF_DB=eh_ref_$$
bs_on_exit drop_db "$HATCH_DB"
bs_on_exit drop_db "$REF_DB"

# The marked blocks of the page, in order, as one script.
hatch_blocks() {
	awk '/^```sh escape-hatch[[:space:]]*$/ { on = 1; n++; next }
	     on && /^```[[:space:]]*$/ { on = 0; print ""; next }
	     on { print }
	     END { if (n == 0) exit 1 }' "$DOC"
}

t_doc() {
	check "docs/escape-hatch.md has marked blocks" hatch_blocks
	check "README links the escape hatch page" grep -q "docs/escape-hatch.md" "$BS_ROOT/README.md"
	check "format.md links it" grep -q "escape-hatch.md" "$BS_ROOT/docs/format.md"
	check "encryption.md links it" grep -q "escape-hatch.md" "$BS_ROOT/docs/encryption.md"
	check "the settings block names the four variables" bash -c \
		"grep -q '^ARCHIVE=' '$DOC' && grep -q '^IDENTITY=' '$DOC' && grep -q '^DB=' '$DOC' && grep -q '^WORK=' '$DOC'"
}
run_test "the procedure is written once, marked, and linked from README, format.md, encryption.md" t_doc

t_snap() {
	run_cmd bs keygen -o "$BS_TMP/key.txt"
	expect_exit 0 || return
	RECIPIENT=$(tail -n 1 "$OUT_FILE")
	run_cmd bs snap --db "dbname=$SRC" --repo "$REPO" --recipient "$RECIPIENT" -q
	expect_exit 0 || return
	ID=$(head -n 1 "$OUT_FILE")
	check "the archive is encrypted" test -f "$REPO/archives/$ID.tar.age"
	check "the snapshot has large objects" test "$(pg "$SRC" 'select count(*) from pg_largeobject_metadata')" -gt 0
}
run_test "an encrypted snapshot of rich.sql" t_snap

t_hatch() {
	local script=$BS_TMP/hatch.sh
	{
		echo 'set -euo pipefail'
		printf 'ARCHIVE=%q\nIDENTITY=%q\nDB=%q\nWORK=%q\n' "$REPO/archives/$ID.tar.age" "$BS_TMP/key.txt" \
			"$HATCH_DB" "$BS_TMP/hatch"
		hatch_blocks
	} >"$script"
	run_cmd bash "$script"
	expect_exit 0 "the documented commands run to the end" || { diag "script:" "$(cat "$script")"; return; }
	run_cmd bs restore "$ID" --repo "$REPO" -i "$BS_TMP/key.txt" -d "$REF_DB" --create -q
	expect_exit 0 "backstop restore of the same snapshot" || return
	check "the escape hatch equals backstop restore" db_compare "$REF_DB" "$HATCH_DB"
	check "the escape hatch equals the source" db_compare "$SRC" "$HATCH_DB"
	check_eq "sequences continue where the source was: the next value is not a duplicate" \
		"$(pg "$HATCH_DB" "select nextval('app.invoice_no')")" "$(pg "$SRC" "select nextval('app.invoice_no')")"
	check_eq "materialized views populated as in the source" \
		"$(pg "$HATCH_DB" "select string_agg(relname || ':' || relispopulated, ' ' order by relname) from pg_class where relkind = 'm'")" \
		"$(pg "$SRC" "select string_agg(relname || ':' || relispopulated, ' ' order by relname) from pg_class where relkind = 'm'")"
}
run_test "docs/escape-hatch.md, run literally, restores what backstop restore restores" t_hatch

done_testing
