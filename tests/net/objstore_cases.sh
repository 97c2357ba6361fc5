# tests/net/objstore_cases.sh - what the object store tests share
# (tests/integration/s3_*.sh, azure_*.sh), sourced after
# tests/integration/lib.sh.
#
#   objstore_fill DB
#       about 14 MB that zstd cannot shrink (three 5 MiB parts or blocks):
#       a bytea table, and a small one with a sequence and a unique index
#   objstore_proxy UPSTREAM [FAULTPROXY ARGS..]
#       start tests/net/faultproxy.py in front of UPSTREAM (stopped when the
#       test exits); sets PROXY (its pid), MODE (its mode file, "off") and
#       PROXY_PORT; says not ok and ends the test if it does not start
#
# The scenarios read the test's globals: CFG (a config whose repository is
# the store), PREFIX (the repository's prefix in the bucket or container),
# SRC (the source database, filled by objstore_fill), K (keys: id.txt).
#
#   objstore_cross_host KEYS TAG
#       two snaps and a prune from three host names at once (UTS
#       namespaces): the prune finishes or says the repository is locked;
#       afterwards no lease and no unfinished upload is left, the two
#       snapshots kept are the two snaps', and each restores exactly.
#       KEYS is the test's function printing the object names under a
#       prefix, read straight from the server (not by backstop); TAG names
#       the scratch databases.

objstore_fill() {
	pg "$1" "create table docs (id int primary key, body bytea);
		insert into docs select i, decode(string_agg(md5(i::text || ':' || j::text), ''), 'hex')
		  from generate_series(1, 7000) i, generate_series(1, 128) j group by i;
		create table small (id serial primary key, name text unique);
		insert into small (name) select 'n' || g from generate_series(1, 500) g;" >/dev/null
}

objstore_proxy() {
	local upstream=$1 i
	shift
	MODE=$BS_TMP/proxy.mode
	echo off >"$MODE"
	python3 "$BS_ROOT/tests/net/faultproxy.py" --upstream "$upstream" --port-file "$BS_TMP/proxy.port" \
		--mode-file "$MODE" --parent $$ "$@" &
	PROXY=$!
	bs_on_exit kill "$PROXY"
	for ((i = 0; i < 100; i++)); do
		[ -s "$BS_TMP/proxy.port" ] && break
		sleep 0.1
	done
	[ -s "$BS_TMP/proxy.port" ] || { not_ok "the fault proxy started"; done_testing; }
	PROXY_PORT=$(cat "$BS_TMP/proxy.port")
}

objstore_cross_host() {
	local keys=$1 tag=$2 a b c rc_a=0 rc_b=0 rc_c=0 id target n=0
	printf 'keep_last: 2\nmin_keep: 1\nkeep_newest_verified: false\norphan_grace: 1h\n' >"$BS_TMP/keep2.yaml"
	unshare --uts bash -c 'hostname host-a; exec "$0" --config "$1" --no-encryption -q' \
		"$BS_BIN/backstop-snap" "$CFG" >"$BS_TMP/a.out" 2>"$BS_TMP/a.err" </dev/null &
	a=$!
	unshare --uts bash -c 'hostname host-b; exec "$0" --config "$1" --no-encryption -q' \
		"$BS_BIN/backstop-snap" "$CFG" >"$BS_TMP/b.out" 2>"$BS_TMP/b.err" </dev/null &
	b=$!
	sleep 0.3
	unshare --uts bash -c 'hostname host-c; exec "$0" prune --config "$1" --policy "$2"' \
		"$BS_BIN/backstop-snap" "$CFG" "$BS_TMP/keep2.yaml" >"$BS_TMP/c.out" 2>"$BS_TMP/c.err" </dev/null &
	c=$!
	wait "$a" || rc_a=$?
	wait "$b" || rc_b=$?
	wait "$c" || rc_c=$?
	check_eq "snap on host-a" "$rc_a" 0
	check_eq "snap on host-b" "$rc_b" 0
	if [ "$rc_c" -ne 0 ]; then # it may have found the repository busy, and said so
		check "prune on host-c: done, or 'is locked' (exit 3)" grep -q "is locked" "$BS_TMP/c.err"
	fi
	run_cmd bs snap prune --config "$CFG" --policy "$BS_TMP/keep2.yaml"
	expect_exit 0 || return 1
	check_eq "no lease left behind" "$("$keys" "$PREFIX/leases/" | wc -l)" 0
	check_eq "no unfinished upload left" "$("$keys" "$PREFIX/tmp/" | wc -l)" 0
	run_cmd bs snap list --config "$CFG" --json
	expect_exit 0 || return 1
	check_eq "two snapshots kept" "$(jq -r '.snapshots | length' "$OUT_FILE")" 2
	check_eq "the snapshots of host-a and host-b are the ones kept" \
		"$(jq -r '.snapshots[].id' "$OUT_FILE" | sort | tr '\n' ' ')" \
		"$(cat "$BS_TMP/a.out" "$BS_TMP/b.out" | sort | tr '\n' ' ')"
	for id in $(jq -r '.snapshots[].id' "$OUT_FILE"); do
		target=$(fresh_db_name "$tag")
		bs_on_exit drop_db "$target"
		run_cmd bs restore "$id" --config "$CFG" --identity "$K/id.txt" -d "$(db_conninfo "$target")" --create -q
		expect_exit 0 && db_compare "$SRC" "$target" && n=$((n + 1))
	done
	check_eq "every listed snapshot restores" "$n" 2
}
