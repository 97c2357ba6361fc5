#!/usr/bin/env bash
# format_reader.sh - docs/format.md is precise enough for an independent
# reader: tests/tools/bsread.py, written from that page alone (Python's
# standard library, the zstd and age tools), reads snapshots that snap
# wrote, plain and age-encrypted:
#   * it verifies both (record, archive as stored, tar layer, member order,
#     every SHA-256, zstd frame, row digest, table end member, large object
#     and manifest sum), and so does backstop's own --archive-only check;
#   * a table large enough for several chunks (--chunk-size 64KiB) is split;
#   * its --dump-table output of every table equals `COPY ... TO STDOUT`
#     from the source in the session settings the page prescribes (sorted:
#     the page says row order is not part of the format), for text with
#     tabs, newlines and backslashes, bytea, jsonb, numeric, timestamptz,
#     interval, float8, arrays, regclass, NULLs, an empty table with quoted
#     names and a table without columns;
#   * damaged copies of the repository (a byte flipped in a chunk, in
#     schema.dump, in manifest.json, in the encrypted archive; record
#     fields edited; another snapshot's archive in place; bytes appended;
#     the archive cut short; the wrong identity) make it fail (exit 1),
#     naming the problem, and --dump-table then writes nothing;
#   * the page's order rules: a table's chunks out of seq order are
#     accepted, a chunk after its table's end member is refused, by bsread
#     and by backstop's own reader alike.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BSREAD=$BS_ROOT/tests/tools/bsread.py
REPO=$BS_TMP/repo
"$BS_BIN/backstop" repo init --repo "$REPO" -q || exit 1

SRC=$(new_db fmt_src)
pg "$SRC" "create schema \"odd schema\";
	create table public.texts (id int primary key, t text, b bytea, j jsonb, n numeric,
		ts timestamptz, iv interval, f float8, arr int[], r regclass);
	create table \"odd schema\".\"Empty Table\" (x int, \"we\"\"ird\" text);
	create table public.big (id bigint generated always as identity, payload text,
		len int generated always as (length(payload)) stored);
	create table public.nocols ();
	insert into public.texts values
		(1, E'tab\there\nnewline \\\\ backslash \\\\N', '\\x00ff5c0a', '{\"a\": [1, \"x\ty\"], \"b\": null}',
		 12345.678900, '2024-01-02 03:04:05+02', '1 day 02:03:04', 0.1, '{1,NULL,3}', 'public.texts'),
		(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
		(3, '', '', 'null', 'NaN', 'infinity', '-1 mon', 'Infinity', '{}', 'pg_class'),
		(4, E'caf\u00e9 \u2603 \\\\.', '\\x5c2e', '\"\\\\\\\\N\"', -1.5e-10, '1999-12-31 23:59:59.999999+00',
		 '0', 1e300, '{{1,2},{3,4}}', 'public.big');
	insert into public.big (payload) select repeat(md5(i::text), 3) || E'\t' || i from generate_series(1, 5000) i;
	insert into public.nocols default values; insert into public.nocols default values;
	select lo_from_bytea(0, 'large object bytes');" >/dev/null || exit 1

# rows as COPY text, in the session settings docs/format.md ("Row digest") prescribes
source_rows() {
	PGCLIENTENCODING=UTF8 PGOPTIONS="-c DateStyle=ISO,MDY -c TimeZone=UTC -c IntervalStyle=postgres \
-c extra_float_digits=3 -c bytea_output=hex -c search_path=pg_catalog" \
		"$BS_PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$SRC" -c "COPY $1 TO STDOUT" </dev/null
}

bsread() { python3 "$BSREAD" "$@"; }

t_setup() {
	run_cmd bs keygen -o "$BS_TMP/key.txt"
	expect_exit 0 || return 1
	RCP=$(cat "$OUT_FILE")
	run_cmd bs keygen -o "$BS_TMP/other-key.txt"
	expect_exit 0 || return 1
	run_cmd bs snap --repo "$REPO" -d "$SRC" --no-encryption --chunk-size 64KiB -q
	expect_exit 0 "an unencrypted snap" || return 1
	PLAIN=$OUT
	run_cmd bs snap --repo "$REPO" -d "$SRC" --recipient "$RCP" --chunk-size 64KiB -q
	expect_exit 0 "an encrypted snap" || return 1
	ENC=$OUT
	run_cmd bs snap --repo "$REPO" -d "$SRC" --no-encryption -q
	expect_exit 0 "a second unencrypted snap" || return 1
	OTHER=$OUT
	check "the encrypted archive is an age file" test -f "$REPO/archives/$ENC.tar.age"
}
run_test "snapshots of one database: unencrypted, age-encrypted, and one more" t_setup || { done_testing; }

t_verify() {
	run_cmd bsread "$REPO" "$PLAIN"
	expect_exit 0 "bsread verifies the unencrypted snapshot" &&
		expect_stdout_contains "result: every digest matches"
	expect_stdout_contains "blobs/" "the listing shows the large object"
	expect_stdout_matches "public\.big: 5000 rows in ([3-9]|[1-9][0-9]+) chunks" \
		"public.big is split into several chunks at --chunk-size 64KiB"
	expect_stdout_contains "odd schema.Empty Table: 0 rows in 0 chunks"
	expect_stdout_contains "public.nocols: 2 rows in 1 chunks"
	run_cmd bsread "$REPO" "$ENC" --identity "$BS_TMP/key.txt"
	expect_exit 0 "bsread verifies the encrypted snapshot with its identity" &&
		expect_stdout_contains "result: every digest matches"
	run_cmd bsread "$REPO" "$ENC"
	expect_exit 2 "without an identity: a usage error" && expect_stderr_contains "--identity"
	# backstop's own reader agrees
	run_cmd bs verify-restore "$PLAIN" --repo "$REPO" --archive-only -q
	expect_exit 0 "backstop's --archive-only agrees (unencrypted)"
	run_cmd bs verify-restore "$ENC" --repo "$REPO" --archive-only --identity "$BS_TMP/key.txt" -q
	expect_exit 0 "backstop's --archive-only agrees (encrypted)"
}
run_test "bsread verifies both snapshots, as backstop does" t_verify

t_dump() {
	local id=$1 t q idopt=()
	[ "$id" = "$ENC" ] && idopt=(--identity "$BS_TMP/key.txt")
	for t in public.texts public.big public.nocols '"odd schema"."Empty Table"'; do
		q=${t//\"/}
		run_cmd bsread "$REPO" "$id" "${idopt[@]}" --dump-table "$q"
		expect_exit 0 "--dump-table $q exits 0" || continue
		LC_ALL=C sort "$OUT_FILE" >"$BS_TMP/got"
		source_rows "$t" >"$BS_TMP/want.raw" || { t_fail "COPY $t from the source failed"; continue; }
		LC_ALL=C sort "$BS_TMP/want.raw" >"$BS_TMP/want"
		[ "$q" != public.texts ] || cp "$BS_TMP/want" "$BS_TMP/want.texts"
		if cmp -s "$BS_TMP/got" "$BS_TMP/want"; then
			check_eq "$q: as many rows as the source" "$(wc -l <"$BS_TMP/got")" "$(wc -l <"$BS_TMP/want")"
		else
			t_fail "$q: --dump-table differs from COPY TO STDOUT of the source" \
				"$(diff "$BS_TMP/got" "$BS_TMP/want" | head -n 8 | cut -c1-200)"
		fi
	done
	check "the rows of public.texts hold tabs, newlines and backslashes, escaped" \
		grep -qF 'tab\there\nnewline \\ backslash \\N' "$BS_TMP/want.texts"
}
run_test "--dump-table equals COPY TO STDOUT of the source (unencrypted)" t_dump "$PLAIN"
run_test "--dump-table equals COPY TO STDOUT of the source (encrypted)" t_dump "$ENC"

# tamper.py REPO ID ACTION [OTHER]: one change to a copy of the repository
cat >"$BS_TMP/tamper.py" <<'PY'
import json, os, shutil, sys, tarfile
repo, sid, action = sys.argv[1:4]
rec_path = os.path.join(repo, "snapshots", sid + ".json")
rec = json.load(open(rec_path))
arc = os.path.join(repo, rec["archive"])

def save():
    open(rec_path, "w").write(json.dumps(rec, indent=2))

def flip_at(off):
    with open(arc, "r+b") as f:
        f.seek(off)
        b = f.read(1)
        f.seek(off)
        f.write(bytes([b[0] ^ 0x01]))

if action.startswith("flip:"):          # a byte in the middle of a member
    want = action[5:]
    with tarfile.open(arc) as t:
        m = next(m for m in t.getmembers() if m.name == want or
                 (want == "chunk" and m.name.endswith(".copy.zst")))
    flip_at(m.offset_data + m.size // 2)
elif action == "flip-stored":           # a byte in the middle of the stored file
    flip_at(os.path.getsize(arc) // 2)
elif action == "truncate":
    with open(arc, "r+b") as f:
        f.truncate(os.path.getsize(arc) - 2048)
elif action == "append":
    with open(arc, "ab") as f:
        f.write(b"appended by someone\n")
elif action == "swap":
    shutil.copy(os.path.join(repo, "archives", sys.argv[4] + ".tar"), arc)
elif action in ("reorder-seq", "chunk-after-end"):
    # rewrite the tar (Python's ustar, padded to 10240-byte records) with
    # the members of the table with the most chunks moved; the record is
    # made to match, so only the order is at issue
    import hashlib, io
    with tarfile.open(arc) as t:
        ms = [(m, t.extractfile(m).read()) for m in t.getmembers()]
    names = [m.name for m, _ in ms]
    tno = max({n.split("/")[1] for n in names if n.endswith(".copy.zst")},
              key=lambda d: sum(n.startswith("data/%s/" % d) for n in names))
    chunks = [i for i, n in enumerate(names) if n.startswith("data/%s/" % tno) and n.endswith(".copy.zst")]
    if action == "reorder-seq":      # allowed: a table's chunks in any order
        ms[chunks[0]], ms[chunks[-1]] = ms[chunks[-1]], ms[chunks[0]]
    else:                             # refused: a chunk after its table's end member
        end = names.index("data/%s/end.json" % tno)
        ms[chunks[-1]], ms[end] = ms[end], ms[chunks[-1]]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for m, d in ms:
            t.addfile(m, io.BytesIO(d))
    open(arc, "wb").write(buf.getvalue())
    rec["bytes"] = len(buf.getvalue())
    rec["archive_sha256"] = hashlib.sha256(buf.getvalue()).hexdigest()
    save()
elif action == "field:database":
    rec["database"] = "payroll"; save()
elif action == "field:chunks":
    rec["chunks"] += 1; save()
elif action == "field:bytes":
    rec["bytes"] += 512; save()
elif action == "field:schema_sha256":
    rec["schema_sha256"] = "0" * 64; save()
elif action == "field:archive":
    rec["archive"] = "archives/elsewhere.tar"; save()
else:
    sys.exit("unknown action " + action)
PY

# t_damaged NAME ID ACTION CAUSE [OTHER]: bsread --dump-table fails (exit 1)
# naming CAUSE, and writes no row.
t_damaged() {
	local name=$1 id=$2 action=$3 cause=$4 other=${5:-} dir idopt=()
	dir=$BS_TMP/t-$name
	rm -rf "$dir" && cp -a "$REPO" "$dir" || { t_fail "cannot copy the repository"; return 1; }
	python3 "$BS_TMP/tamper.py" "$dir" "$id" "$action" $other || { t_fail "could not tamper ($action)"; return 1; }
	[ "$id" = "$ENC" ] && idopt=(--identity "$BS_TMP/key.txt")
	run_cmd bsread "$dir" "$id" "${idopt[@]}" --dump-table public.big
	expect_exit 1 "bsread exits 1" && expect_stderr_contains "$cause"
	check_eq "--dump-table writes no row of a damaged snapshot" "$(wc -c <"$OUT_FILE")" 0
}
run_test "a byte flipped in a data chunk" t_damaged chunk "$PLAIN" flip:chunk "corrupt chunk"
run_test "a byte flipped in schema.dump" t_damaged schema "$PLAIN" flip:schema.dump \
	"schema.dump does not match schema_sha256"
run_test "a byte flipped in manifest.json" t_damaged manifest "$PLAIN" flip:manifest.json \
	"manifest.json does not match manifest_sha256"
run_test "a byte flipped in backstop.json" t_damaged header "$PLAIN" flip:backstop.json \
	"backstop.json does not match header_sha256"
run_test "a byte flipped in the encrypted archive" t_damaged enc "$ENC" flip-stored "decrypting"
run_test "the archive cut short" t_damaged truncated "$PLAIN" truncate "truncated"
run_test "bytes appended after the end of the archive" t_damaged append "$PLAIN" append \
	"after the end-of-archive blocks are not all zero"
run_test "another snapshot's archive in its place" t_damaged swap "$PLAIN" swap \
	"it holds snapshot $OTHER" "$OTHER"
run_test "record field edited: database" t_damaged f-db "$PLAIN" field:database \
	"the catalog record says 'payroll'"
run_test "record field edited: chunks" t_damaged f-chunks "$PLAIN" field:chunks "the catalog record says"
run_test "record field edited: bytes" t_damaged f-bytes "$ENC" field:bytes "the catalog record says"
run_test "record field edited: schema_sha256" t_damaged f-schema "$PLAIN" field:schema_sha256 \
	"schema.dump does not match schema_sha256"
run_test "record field edited: archive (another key)" t_damaged f-archive "$PLAIN" field:archive "not trusted"

# The order rules of docs/format.md, as both readers apply them.
t_order() {
	local dir=$BS_TMP/t-reorder
	rm -rf "$dir" && cp -a "$REPO" "$dir" && python3 "$BS_TMP/tamper.py" "$dir" "$PLAIN" reorder-seq ||
		{ t_fail "could not rewrite the archive"; return 1; }
	run_cmd bsread "$dir" "$PLAIN"
	expect_exit 0 "bsread accepts a table's chunks out of seq order (and zero padding after the end)"
	run_cmd bs verify-restore "$PLAIN" --repo "$dir" --archive-only -q
	expect_exit 0 "so does backstop's --archive-only"
	dir=$BS_TMP/t-after-end
	rm -rf "$dir" && cp -a "$REPO" "$dir" && python3 "$BS_TMP/tamper.py" "$dir" "$PLAIN" chunk-after-end ||
		{ t_fail "could not rewrite the archive"; return 1; }
	run_cmd bsread "$dir" "$PLAIN"
	expect_exit 1 "bsread refuses a chunk after its table's end member" &&
		expect_stderr_contains "comes after its table's end member"
	run_cmd bs verify-restore "$PLAIN" --repo "$dir" --archive-only -q
	expect_exit 1 "so does backstop's --archive-only" &&
		expect_stdout_contains "comes after the table's end member"
}
run_test "member order: what the page allows both readers accept, what it forbids both refuse" t_order

t_wrong_key() {
	run_cmd bsread "$REPO" "$ENC" --identity "$BS_TMP/other-key.txt"
	expect_exit 1 && expect_stderr_contains "decrypting"
}
run_test "the wrong identity: decryption fails, named" t_wrong_key

done_testing
