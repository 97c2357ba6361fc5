#!/usr/bin/env bash
# scripts/demo.sh - what `make demo` runs after building: a guided tour on a
# throwaway PostgreSQL 15 cluster.
#
#   1. start a cluster (tests/integration/lib.sh pg_start_cluster)
#   2. load sample data: pgbench -i -s 5 and tests/data/rich.sql
#   3. backstop keygen, repo init, snap encrypted to that key (unencrypted if
#      this build has no keygen yet), snap list
#   4. verify-restore latest into a scratch database (skipped, with a note,
#      if backstop-verify-restore is not built yet)
#   5. restore into a new database with --create, row counts side by side
#   6. stop the cluster; the repository and the key stay in the demo
#      directory, and the closing summary says so and how to remove them
#
# If anything fails, or the demo is interrupted, the cluster is stopped and
# the demo directory (which holds an age SECRET key) is removed, and the
# last lines say so.
#
# BUILD selects the build directory (default build); BS_DEMO_DIR the place
# for the files (default: a new $TMPDIR/backstop-demo.XXXXXX, TMPDIR
# defaulting to /tmp).  BS_DEMO_DIR must be empty or not exist yet.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Never inherit a cluster from the caller (tests/run.sh exports its own):
# the exit trap below stops and removes the cluster named by BS_PG_DIR.
unset BS_PG_DIR
BS_LIB_NOINIT=1
# shellcheck source=../tests/integration/lib.sh
. "$ROOT/tests/integration/lib.sh"
set -e

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

if [ ! -x "$BIN/backstop-snap" ] || [ ! -x "$BIN/backstop-restore" ] || [ ! -x "$BIN/backstop-repo" ]; then
	echo "demo: $BIN/backstop-repo, backstop-snap and backstop-restore are needed; run make first" >&2
	exit 1
fi

if [ -n "${BS_DEMO_DIR:-}" ]; then
	DEMO=$BS_DEMO_DIR
	if [ -e "$DEMO" ] && [ -n "$(ls -A "$DEMO" 2>/dev/null)" ]; then
		echo "demo: BS_DEMO_DIR $DEMO is not empty (a previous demo?); remove it or name another" >&2
		exit 2
	fi
	mkdir -p "$DEMO"
	DEMO=$(cd "$DEMO" && pwd)
else
	DEMO=$(mktemp -d "${TMPDIR:-/tmp}/backstop-demo.XXXXXX")
fi
# The server runs as another (unprivileged) user and needs to reach $DEMO/pg.
chmod 0755 "$DEMO"
REPO=$DEMO/repo
KEY=$DEMO/key.txt

# On any failure or interrupt: stop the cluster, remove the demo directory
# (it holds the secret key) and say so.
finished=0
on_exit() {
	local rc=$?
	pg_stop_cluster
	[ "$finished" = 1 ] && return 0
	[ "$rc" -ne 0 ] || rc=1
	rm -rf "$DEMO"
	if [ -e "$DEMO" ]; then
		echo "demo: FAILED (exit $rc), and $DEMO could not be removed: it holds an age SECRET key ($KEY); remove it yourself: rm -rf '$DEMO'" >&2
	else
		echo "demo: FAILED (exit $rc); stopped the cluster and removed $DEMO (repository and secret key)" >&2
	fi
	exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "starting a throwaway PostgreSQL cluster"
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
	recipient=$(run "$BIN/backstop" keygen -o "$KEY" | tail -n 1)
	echo "recipient: $recipient"
	echo "identity:  $KEY (the SECRET key: whoever has it can read the backups)"
	ENC=(--recipient "$recipient")
	IDENT=(--identity "$KEY")
else
	say "no backstop-keygen in this build: snapping without encryption"
fi

say "creating the repository"
run "$BIN/backstop" repo init --repo "$REPO"

say "snapshot"
# stdout is exactly the snapshot id (docs/cli.md); progress goes to stderr
id=$(run "$BIN/backstop" snap --repo "$REPO" -d demo -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" \
	--jobs 2 "${ENC[@]}")
echo "snapshot id: $id"

say "listing"
run "$BIN/backstop" snap list --repo "$REPO"

if [ -x "$BIN/backstop-verify-restore" ]; then
	say "restore drill: verify-restore latest"
	# --scratch names the server (its maintenance database) where the drill
	# creates and drops its scratch database (docs/drill.md)
	# a drill that does not pass ends the demo (exit 1)
	run "$BIN/backstop" verify-restore latest --repo "$REPO" \
		--scratch "$(db_conninfo postgres)" "${IDENT[@]}"
else
	say "backstop-verify-restore is not built yet: skipping the restore drill"
fi

say "restore into a new database 'demo_restored'"
run "$BIN/backstop" restore "$id" --repo "$REPO" -d demo_restored -h "$PGHOST" -p "$PGPORT" \
	-U "$PGUSER" --create --jobs 2 "${IDENT[@]}"

# count_rows DB TABLE: the row count, or "unpopulated" for a materialized
# view created WITH NO DATA (it has no rows to read), or "missing".
count_rows() {
	local pop
	pop=$(pg "$1" "select relispopulated from pg_class where oid = to_regclass('${2//\'/\'\'}')" 2>/dev/null) || pop=
	case $pop in
	t) pg "$1" "select count(*) from only $2" ;;
	f) echo unpopulated ;;
	*) echo missing ;;
	esac
}

say "row counts, source vs restored"
printf '%-45s %12s %12s\n' table demo demo_restored
differ=0
while IFS= read -r t; do
	t=${t% (unpopulated)}
	a=$(count_rows demo "$t")
	b=$(count_rows demo_restored "$t")
	mark=
	if [ "$a" != "$b" ]; then
		mark="  <-- differs"
		differ=$((differ + 1))
	fi
	printf '%-45s %12s %12s%s\n' "$t" "$a" "$b" "$mark"
done < <(db_tables demo)
if [ "$differ" -ne 0 ]; then
	echo "demo: $differ table(s) differ between demo and demo_restored" >&2
	exit 1
fi

say "stopping the cluster"
pg_stop_cluster
finished=1

say "done"
echo "The cluster and its databases are gone.  Left behind in $DEMO:"
echo "  repository:  $REPO"
echo "    archives:  $(ls "$REPO/archives" 2>/dev/null | tr '\n' ' ')"
echo "    catalog:   $REPO/snapshots/"
if [ -f "$KEY" ]; then
	echo "  age key:     $KEY"
	echo "               the SECRET key that opens these archives (restore --identity $KEY)"
fi
echo "Remove all of it with:  rm -rf $DEMO"
