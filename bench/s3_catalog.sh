#!/usr/bin/env bash
# bench/s3_catalog.sh - how long `snap list` takes on an S3 repository
# (s3rver on loopback) that holds N snapshot records, each with a drill
# record, against the same catalog in a local repository.
#
#   bash bench/s3_catalog.sh [N]      (default 1000)
#
# The records are written directly (well-formed version 2 records and
# drill records; no archives: listing reads records only).  The catalog
# loads records with parallel GETs (BS_REPO_GET_MANY_JOBS in flight), so
# a remote repository should cost about N / 8 round trips, not N.  Not a
# test: it never fails CI.
set -euo pipefail

N=${1:-1000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/${BUILD:-build}/bin
S3RVER=$ROOT/tests/net/s3rver.js # s3rver with Signature V4 checked
WORK=$(mktemp -d /tmp/bs-catalog.XXXXXX)
PORT=$((20000 + RANDOM % 10000))
trap 'kill $S3PID 2>/dev/null; rm -rf "$WORK"' EXIT
node --openssl-legacy-provider "$S3RVER" "$WORK/s3" 127.0.0.1 "$PORT" bench >/dev/null 2>&1 &
S3PID=$!
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
S3="s3://bench/cat?endpoint=http://127.0.0.1:$PORT"
"$BIN/backstop" repo init --repo "$S3" -q
"$BIN/backstop" repo init --repo "$WORK/local" -q

python3 - "$N" "http://127.0.0.1:$PORT/bench/cat" "$WORK/local" <<'P'
import json, os, sys, time, urllib.request, secrets
n, base, local = int(sys.argv[1]), sys.argv[2], sys.argv[3]
t0 = 1793491200  # 2026-11-01T00:00:00Z
def iso(t): return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
def ident(t): return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(t)) + "-" + secrets.token_hex(3)
def put(key, obj):
    body = json.dumps(obj).encode()
    urllib.request.urlopen(urllib.request.Request(f"{base}/{key}", data=body, method="PUT")).read()
    path = os.path.join(local, key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(body)
for i in range(n):
    t = t0 + i * 3600
    sid, did = ident(t), ident(t + 1800)
    put(f"snapshots/{sid}.json", {
        "format": "backstop-snapshot-record", "version": 2, "id": sid, "database": "app",
        "server_version": "15.18", "start": iso(t), "end": iso(t + 60), "duration_ms": 60000,
        "bytes": 123456789, "archive": f"archives/{sid}.tar.age", "status": "complete",
        "encrypted": True, "recipients": [], "passphrase": False, "tool_version": "0.3.0",
        "tables": 12, "chunks": 40, "archive_sha256": secrets.token_hex(32),
        "header_sha256": secrets.token_hex(32), "schema_sha256": secrets.token_hex(32),
        "manifest_sha256": secrets.token_hex(32)})
    put(f"drills/{sid}/{did}.json", {
        "format": "backstop-drill-record", "version": 1, "id": did, "snapshot": sid, "database": "app",
        "mode": "full", "verdict": "pass", "start": iso(t + 1800), "end": iso(t + 1900),
        "snapshot_start": iso(t), "rto_ms": 100000, "rpo_ms": 1800000})
P

for repo in "$WORK/local" "$S3"; do
	t0=$(date +%s.%N)
	"$BIN/backstop" snap list --repo "$repo" --json >"$WORK/list.json"
	t1=$(date +%s.%N)
	printf '%-6s snap list of %d snapshots with a drill each: %.2f s (%s listed, %s with a passing drill)\n' \
		"$([ "$repo" = "$S3" ] && echo s3 || echo local)" "$N" "$(echo "$t1 - $t0" | bc)" \
		"$(jq '.snapshots | length' "$WORK/list.json")" \
		"$(jq '[.snapshots[] | select(.drill.verdict == "pass")] | length' "$WORK/list.json")"
done
