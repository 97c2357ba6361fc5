#!/usr/bin/env bash
# age_messages.sh - damage to an encrypted archive is named for what it is
# (docs/encryption.md, "Errors and what they mean"), and classified by error
# code, never by message text:
#   * one byte appended: "unexpected data after the final chunk", not
#     "truncated"; a drill finding (exit 1);
#   * a flipped byte in the first payload chunk: the chunk is named, without
#     a "not a backstop archive" prefix;
#   * a damaged recipient stanza of the key the record lists: "header is
#     damaged", not "no identity matches"; a drill finding (exit 1);
#   * a key that is not a recipient: "no identity matches", the drill could
#     not run (exit 3), not a finding.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SRC=$(new_db agem_src)
pg "$SRC" "create table t (id int primary key, v text); insert into t select g, md5(g::text) from generate_series(1, 3000) g;" >/dev/null
REPO=$BS_TMP/repo
"$BS_BIN/backstop" repo init --repo "$REPO" -q || exit 1
"$BS_BIN/backstop" keygen -o "$BS_TMP/key.txt" 2>/dev/null
"$BS_BIN/backstop" keygen -o "$BS_TMP/other.txt" 2>/dev/null
PUB=$(grep -o 'age1[0-9a-z]*' "$BS_TMP/key.txt" | head -1)

t_snap() {
	run_cmd bs snap -d "dbname=$SRC" --repo "$REPO" --recipient "$PUB" -q
	expect_exit 0
	SNAP=$OUT
	ARCHIVE=$REPO/archives/$SNAP.tar.age
	check "encrypted archive written" test -s "$ARCHIVE"
	cp "$ARCHIVE" "$BS_TMP/good.age"
}
run_test "an encrypted snapshot" t_snap

mutate() { # how
	python3 - "$ARCHIVE" "$1" <<'PY'
import sys
path, how = sys.argv[1], sys.argv[2]
data = bytearray(open(path, "rb").read())
if how == "append":
    data += b"\n"
elif how == "chunk0":
    hdr_end = data.index(b"\n", data.index(b"\n---")+1) + 1
    data[hdr_end + 16 + 100] ^= 0x01          # inside chunk 0, after the nonce
elif how == "stanza":
    i = data.index(b"-> X25519 ")
    body = data.index(b"\n", i) + 1             # first body line of the stanza
    c = data[body + 5]
    data[body + 5] = ord("B") if c == ord("A") else ord("A")   # still base64
open(path, "wb").write(bytes(data))
PY
}

restore_damaged() { # how ERE-expected ERE-not-expected
	cp "$BS_TMP/good.age" "$ARCHIVE"
	mutate "$1"
	run_cmd bs restore "$SNAP" --repo "$REPO" -i "$BS_TMP/key.txt" -d "dbname=${SRC}_x" --create
	expect_exit 3
	expect_stderr_matches "$2"
	check "stderr does not say: $3" bash -c '! grep -Eq "$1" "$2"' _ "$3" "$ERR_FILE"
	check "no target database left" bash -c '! db_exists "$1"' _ "${SRC}_x"
	cp "$BS_TMP/good.age" "$ARCHIVE"
}

run_test "one byte appended: trailing data, not truncated" restore_damaged append \
	"1 byte\\(s\\) of unexpected data after the final chunk" "truncated"
run_test "flipped byte in the first chunk: the chunk named, not 'not a backstop archive'" restore_damaged chunk0 \
	"chunk 0 .*failed authentication" "not a backstop archive"
run_test "damaged stanza of the listed key: damage, not a wrong key" restore_damaged stanza \
	"header is damaged.*$PUB" "no identity matches"

drill_damaged() { # how ERE
	cp "$BS_TMP/good.age" "$ARCHIVE"
	mutate "$1"
	run_cmd bs verify-restore "$SNAP" --repo "$REPO" -i "$BS_TMP/key.txt" --archive-only
	expect_exit 1
	expect_stdout_matches "$2"
	cp "$BS_TMP/good.age" "$ARCHIVE"
}
run_test "archive check: appended byte is a finding (exit 1)" drill_damaged append "unexpected data after the final chunk"
run_test "archive check: damaged stanza is a finding (exit 1)" drill_damaged stanza "header is damaged"

t_wrong_key() {
	run_cmd bs verify-restore "$SNAP" --repo "$REPO" -i "$BS_TMP/other.txt" --archive-only
	expect_exit 3
	check "the report or stderr says no identity matches" grep -q "no identity matches" "$OUT_FILE" "$ERR_FILE"
	run_cmd bs restore "$SNAP" --repo "$REPO" -i "$BS_TMP/other.txt" -d "dbname=${SRC}_y" --create
	expect_exit 3
	expect_stderr_contains "no identity matches"
	check "stderr does not call it damage" bash -c '! grep -q "damaged" "$1"' _ "$ERR_FILE"
}
run_test "a key that is not a recipient: could not run (exit 3), not damage" t_wrong_key

t_intact() {
	run_cmd bs verify-restore "$SNAP" --repo "$REPO" -i "$BS_TMP/key.txt" --archive-only
	expect_exit 0
}
run_test "the intact archive still passes" t_intact

done_testing
