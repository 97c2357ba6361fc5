#!/usr/bin/env bash
# scripts/demo.sh - what `make demo` runs after building: a guided tour on a
# throwaway PostgreSQL 15 cluster.
#
#   1. start a cluster (tests/integration/lib.sh pg_start_cluster)
#   2. load sample data: pgbench -i -s 5 and tests/data/rich.sql
#   3. backstop keygen, snap encrypted to that key (unencrypted if this build
#      has no keygen yet), snap list
#   4. verify-restore latest into a scratch database (skipped, with a note,
#      if backstop-verify-restore is not built yet)
#   5. restore into a new database with --create, row counts side by side
#   6. stop the cluster; the repository and the key stay in the demo directory
#
# BUILD selects the build directory (default build); BS_DEMO_DIR the place
# for the files (default: a new /tmp/backstop-demo.XXXXXX).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BS_LIB_NOINIT=1
# shellcheck source=../tests/integration/lib.sh
. "$ROOT/tests/integration/lib.sh"
set -e

DEMO=${BS_DEMO_DIR:-$(mktemp -d /tmp/backstop-demo.XXXXXX)}
mkdir -p "$DEMO"
chmod 0755 "$DEMO"
REPO=$DEMO/repo
BIN=$BS_BIN

if [ -t 1 ]; then
	say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
else
	say() { printf '\n==> %s\n' "$*"; }
fi
run() {
	printf '$ %s\n' "$*" >&2
	"$@"
}

for v in $(compgen -e | grep '^BACKSTOP_' || true); do unset "$v"; done
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGPASSWORD PGSERVICE

if [ ! -x "$BIN/backstop-snap" ] || [ ! -x "$BIN/backstop-restore" ]; then
	echo "demo: $BIN/backstop-snap and backstop-restore are needed; run make first" >&2
	exit 1
fi

say "starting a throwaway PostgreSQL cluster"
trap 'pg_stop_cluster' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
pg_start_cluster "$DEMO/pg"
echo "PGHOST=$PGHOST PGPORT=$PGPORT PGUSER=$PGUSER (server runs as $BS_PG_OSUSER)"

say "loading sample data into database 'demo' (pgbench -i -s 5, tests/data/rich.sql)"
pg postgres "create database demo" >/dev/null
run "$BS_PGBIN/pgbench" -i -s 5 -q demo 2>&1 | tail -n 1
run "$BS_PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d demo -f "$ROOT/tests/data/rich.sql" >/dev/null
echo "database size: $(pg demo "select pg_size_pretty(pg_database_size('demo'))")"

ENC=(--no-encryption)
IDENT=()
if [ -x "$BIN/backstop-keygen" ]; then
	say "creating an age key"
	recipient=$(run "$BIN/backstop" keygen -o "$DEMO/key.txt" | tail -n 1)
	echo "recipient: $recipient"
	ENC=(--recipient "$recipient")
	IDENT=(--identity "$DEMO/key.txt")
else
	say "no backstop-keygen in this build: snapping without encryption"
fi

say "snapshot"
id=$(run "$BIN/backstop" snap --repo "$REPO" --db "$(db_conninfo demo)" --jobs 2 "${ENC[@]}")
echo "snapshot id: $id"

say "listing"
run "$BIN/backstop" snap list --repo "$REPO"

if [ -x "$BIN/backstop-verify-restore" ]; then
	say "restore drill: verify-restore latest"
	# --scratch names the server (its maintenance database) where the drill
	# creates and drops its scratch database (docs/drill.md)
	if ! run "$BIN/backstop" verify-restore latest --repo "$REPO" \
		--scratch "$(db_conninfo postgres)" "${IDENT[@]}"; then
		echo "(verify-restore failed; see above)"
	fi
else
	say "backstop-verify-restore is not built yet: skipping the restore drill"
fi

say "restore into a new database 'demo_restored'"
run "$BIN/backstop" restore "$id" --repo "$REPO" --target "$(db_conninfo demo_restored)" \
	--create --jobs 2 "${IDENT[@]}"

say "row counts, source vs restored"
printf '%-45s %12s %12s\n' table demo demo_restored
while IFS= read -r t; do
	a=$(pg demo "select count(*) from only $t")
	b=$(pg demo_restored "select count(*) from only $t" 2>/dev/null || echo missing)
	mark=
	[ "$a" = "$b" ] || mark="  <-- differs"
	printf '%-45s %12s %12s%s\n' "$t" "$a" "$b" "$mark"
done < <(db_tables demo)

say "stopping the cluster"
pg_stop_cluster
trap - EXIT
rm -rf "$DEMO/pg"

say "done"
echo "repository:  $REPO"
echo "  archives:  $(ls "$REPO/archives" 2>/dev/null | tr '\n' ' ')"
echo "  catalog:   $REPO/snapshots/"
[ ! -f "$DEMO/key.txt" ] || echo "age key:     $DEMO/key.txt (restore with --identity $DEMO/key.txt)"
echo "(the cluster and its databases are gone; remove $DEMO when done)"
