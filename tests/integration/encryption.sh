#!/usr/bin/env bash
# encryption.sh - the encryption issue at the command line: refusal without
# keys, explicit plaintext, keygen, several recipients recorded in the
# catalog, interop with the age CLI both ways, passphrases from a file, and
# every bad key or damaged archive failing with its cause named while the
# restore target gets no rows.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v age >/dev/null || {
	skip "encryption tests" "the age CLI is not installed"
	done_testing
}

SRC=$(new_db enc)
pg "$SRC" "create table acct (id int primary key, owner text, balance numeric);
           insert into acct select g, 'owner ' || g, g * 1.5 from generate_series(1, 20000) g;
           create table note (id serial primary key, body text);
           insert into note (body) select repeat('n', g % 50) from generate_series(1, 3000) g;" >/dev/null
REPO=$BS_TMP/repo
"$BS_BIN/backstop" repo init --repo "$REPO" -q || exit 1
K=$BS_TMP/keys
mkdir -p "$K"

restore_to() { # NEWDB ARGS...
	local db=$1
	shift
	run_cmd bs restore latest --repo "$REPO" --target "dbname=$db" --create "$@"
}
no_db() { ! db_exists "$1"; }
archive_of_latest() { ls -t "$REPO"/archives/*.age | head -1; }

t_refuse() {
	run_cmd bs snap --db "dbname=$SRC" --repo "$BS_TMP/refused"
	expect_exit 2
	expect_stderr_contains "no encryption recipients"
	expect_stderr_contains "backstop keygen"
	check "nothing written" test ! -e "$BS_TMP/refused/snapshots"
}
run_test "snap with no recipients and no passphrase refuses (exit 2, hint: keygen), writes nothing" t_refuse

t_plain_config() {
	printf 'encryption: none\n' >"$BS_TMP/plain.yaml"
	bs repo init --repo "$BS_TMP/plainrepo" -q
	run_cmd bs snap --config "$BS_TMP/plain.yaml" --db "dbname=$SRC" --repo "$BS_TMP/plainrepo"
	expect_exit 0
	expect_stderr_contains "UNENCRYPTED"
	run_cmd bs snap show latest --repo "$BS_TMP/plainrepo" --json
	check "catalog marks it unencrypted" python3 -c 'import json,sys; assert json.loads(sys.argv[1])["encrypted"] is False' "$OUT"
}
run_test "encryption: none: snap warns and the catalog marks the snapshot unencrypted" t_plain_config

t_keygen() {
	run_cmd bs keygen -o "$K/ops.txt"
	expect_exit 0
	expect_stdout_matches '^age1[0-9a-z]{58}$'
	echo "$OUT" >"$K/ops.pub"
	check_eq "identity file is mode 600" "$(stat -c %a "$K/ops.txt")" 600
	run_cmd bs keygen -o "$K/ops.txt"
	check "refuses to overwrite" test "$RC" -ne 0
	expect_stderr_contains "exists"
	check "key file unchanged" grep -q "$(cat "$K/ops.pub")" "$K/ops.txt"
	age-keygen -o "$K/escrow.txt" 2>/dev/null
	age-keygen -y "$K/escrow.txt" >"$K/escrow.pub"
	age-keygen -o "$K/stranger.txt" 2>/dev/null
	chmod 600 "$K"/*.txt
}
run_test "keygen writes a 0600 identity, prints age1..., refuses to overwrite" t_keygen

t_snap_two() {
	run_cmd bs snap --db "dbname=$SRC" --repo "$REPO" --recipient "$(cat "$K/ops.pub")" --recipient "$(cat "$K/escrow.pub")" -q
	expect_exit 0
	run_cmd bs snap show latest --repo "$REPO" --json
	check "catalog records both recipients in plaintext" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["encrypted"] is True
assert sorted(d["recipients"]) == sorted([sys.argv[2], sys.argv[3]]), d["recipients"]
' "$OUT" "$(cat "$K/ops.pub")" "$(cat "$K/escrow.pub")"
	check "catalog record holds no table names" bash -c "! grep -q acct '$REPO'/snapshots/*.json"
	check "archive holds no table names in clear" bash -c "! grep -aq 'acct' '$(archive_of_latest)'"
}
run_test "snap to two recipients: both recorded in the catalog, nothing readable in the archive" t_snap_two

t_age_cli_reads() {
	local a
	a=$(archive_of_latest)
	mkdir -p "$BS_TMP/x"
	check "age -d -i (age-keygen identity) | tar -x" bash -c "set -o pipefail; age -d -i '$K/escrow.txt' '$a' | tar -x -C '$BS_TMP/x'"
	check "manifest and schema are there" test -s "$BS_TMP/x/manifest.json" -a -s "$BS_TMP/x/schema.dump"
	check_eq "zstd -d of the data gives every row" \
		"$(cat "$BS_TMP"/x/data/*/*.copy.zst | zstd -dc | wc -l)" 23000
}
run_test "the age CLI decrypts a snap archive (escrow key from age-keygen); tar and zstd unpack it" t_age_cli_reads

t_restore_ok() {
	local db=${SRC}_r1
	restore_to "$db" --identity "$K/escrow.txt"
	expect_exit 0
	check "restored copy equals the source" db_compare "$SRC" "$db"
	drop_db "$db"
	db=${SRC}_r2
	BACKSTOP_IDENTITY_FILE=$K/ops.txt run_cmd bs restore latest --repo "$REPO" --target "dbname=$db" --create -q
	expect_exit 0
	drop_db "$db"
}
run_test "restore with either recipient's identity (--identity, BACKSTOP_IDENTITY_FILE)" t_restore_ok

t_wrong_key() {
	local db=${SRC}_wrong
	restore_to "$db" --identity "$K/stranger.txt"
	expect_exit 3
	expect_stderr_contains "no identity matches"
	check "no target database created" no_db "$db"
}
run_test "wrong key: exit 3 naming the cause, no database created" t_wrong_key

t_no_key() {
	local db=${SRC}_nokey
	restore_to "$db"
	expect_exit 2
	expect_stderr_contains "--identity"
	expect_stderr_contains "$(cat "$K/ops.pub" | cut -c1-20)"
	check "no target database created" no_db "$db"
}
run_test "no key given: exit 2 naming the recipients that can open it" t_no_key

t_perm() {
	cp "$K/ops.txt" "$K/loose.txt"
	chmod 644 "$K/loose.txt"
	restore_to "${SRC}_perm" --identity "$K/loose.txt"
	expect_exit 2
	expect_stderr_contains "chmod 600"
	check "no target database created" no_db "${SRC}_perm"
}
run_test "identity file readable by others is refused with a chmod hint" t_perm

t_no_secret_flags() {
	run_cmd bs snap --passphrase hunter2 --db "dbname=$SRC" --repo "$REPO"
	expect_exit 2
	expect_stderr_contains "unknown option"
}
run_test "secrets are never taken from the command line (--passphrase is no option)" t_no_secret_flags

t_no_password_flags() {
	run_cmd bs snap --db "postgresql://postgres:hunter2@localhost/$SRC" --repo "$BS_TMP/pw" --no-encryption
	expect_exit 2
	expect_stderr_contains "refusing a password in --db"
	check "nothing written" test ! -e "$BS_TMP/pw"
	run_cmd bs restore latest --repo "$REPO" --target "dbname=x password=hunter2" --create
	expect_exit 2
	expect_stderr_contains "refusing a password in --target"
	run_cmd bs verify-restore latest --repo "$REPO" --scratch "dbname=postgres password=hunter2"
	expect_exit 2
	expect_stderr_contains "refusing a password in --scratch"
}
run_test "a password inside --db/--target/--scratch is refused (it would show in ps)" t_no_password_flags

damaged() { # NAME MUTATOR EXPECTED_TEXT
	local mut=$2 text=$3 a copy db=${SRC}_dmg
	a=$(archive_of_latest)
	copy=$BS_TMP/good.age
	cp "$a" "$copy"
	python3 - "$a" "$mut" <<'PY'
import os, sys
path, mut = sys.argv[1], sys.argv[2]
data = bytearray(open(path, "rb").read())
hdr_end = data.index(b"\n---") + 1
if mut == "header":
    i = data.index(b"-> X25519 ") + 12       # inside the first stanza's argument
    data[i] ^= 0x01
elif mut == "mac":
    i = data.index(b"\n", hdr_end) - 5        # inside the header MAC
    data[i] = ord("A") if data[i] != ord("A") else ord("B")
elif mut == "lastchunk":
    data[len(data) - 40] ^= 0x01              # inside the final STREAM chunk
elif mut == "truncate":
    data = data[: len(data) * 2 // 3]
open(path, "wb").write(bytes(data))
PY
	restore_to "$db" --identity "$K/ops.txt"
	expect_exit 3
	expect_stderr_matches "$text"
	check "target database does not exist afterwards" no_db "$db"
	cp "$copy" "$a"
}
# a changed stanza is either no longer canonical base64 (malformed) or no
# longer opens with the key the record lists: damage, never "wrong key"
run_test "tampered header stanza: exit 3, cause named, no database" damaged header header "header is damaged|malformed X25519 stanza"
run_test "tampered header MAC: exit 3, cause named, no database" damaged mac mac "header"
run_test "flipped byte in the last chunk: exit 3, created database dropped" damaged lastchunk lastchunk "chunk"
run_test "truncated encrypted archive: exit 3, created database dropped" damaged truncate truncate "truncated"

t_passphrase() {
	local db=${SRC}_pp
	printf 'correct horse battery staple\n' >"$K/pass"
	chmod 600 "$K/pass"
	bs repo init --repo "$BS_TMP/pprepo" -q
	BACKSTOP_PASSPHRASE_FILE=$K/pass run_cmd bs snap --db "dbname=$SRC" --repo "$BS_TMP/pprepo" -q
	expect_exit 0
	run_cmd bs snap show latest --repo "$BS_TMP/pprepo" --json
	check "catalog says a passphrase opens it" python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["passphrase"] is True and d["encrypted"] is True' "$OUT"
	BACKSTOP_PASSPHRASE_FILE=$K/pass run_cmd bs restore latest --repo "$BS_TMP/pprepo" --target "dbname=$db" --create -q
	expect_exit 0
	check "restored copy equals the source" db_compare "$SRC" "$db"
	drop_db "$db"
	printf 'wrong horse\n' >"$K/badpass"
	chmod 600 "$K/badpass"
	BACKSTOP_PASSPHRASE_FILE=$K/badpass run_cmd bs restore latest --repo "$BS_TMP/pprepo" --target "dbname=$db" --create -q
	expect_exit 3
	expect_stderr_contains "passphrase"
	check "wrong passphrase: no database" no_db "$db"
}
run_test "passphrase (scrypt) from BACKSTOP_PASSPHRASE_FILE: snap, restore; a wrong passphrase fails cleanly" t_passphrase

t_age_cli_writes() {
	# an archive encrypted by the age CLI (not by backstop) restores
	local plain db=${SRC}_agecli rec
	bs repo init --repo "$BS_TMP/ager" -q
	run_cmd bs snap --db "dbname=$SRC" --repo "$BS_TMP/ager" --no-encryption -q
	expect_exit 0
	rec=$(ls "$BS_TMP"/ager/snapshots/*.json)
	plain=$(ls "$BS_TMP"/ager/archives/*.tar)
	age -r "$(cat "$K/escrow.pub")" -o "$plain.age" "$plain" && rm "$plain"
	# the record names the new object: its key, and (docs/format.md,
	# "Binding") its size and SHA-256 as stored
	python3 - "$rec" "$plain.age" <<'PY'
import hashlib, json, os, sys
p, arc = sys.argv[1:3]
r = json.load(open(p))
r["archive"] += ".age"
r["encrypted"] = True
r["bytes"] = os.path.getsize(arc)
r["archive_sha256"] = hashlib.sha256(open(arc, "rb").read()).hexdigest()
json.dump(r, open(p, "w"))
PY
	run_cmd bs restore latest --repo "$BS_TMP/ager" --identity "$K/escrow.txt" --target "dbname=$db" --create -q
	expect_exit 0
	check "restored copy equals the source" db_compare "$SRC" "$db"
	drop_db "$db"
}
run_test "an archive encrypted by 'age -r' restores with backstop" t_age_cli_writes

done_testing
