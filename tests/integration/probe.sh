#!/usr/bin/env bash
# probe.sh - backstop probe against real servers (docs/probe.md): nginx on
# loopback (tests/net/webfix.sh) with healthy, failing, slow, wrong-body,
# redirecting and flapping endpoints and TLS certificates made by openssl
# (valid, expiring in 5 days, expired, wrong host name, an intermediate
# that expires before its leaf, a server asking for a client certificate);
# a closed port; the harness's PostgreSQL (up, wrong password, a port where
# none listens); a repository with a fresh snapshot, a stale one, and none.
# Each case: the state, and the one line that says why.  Then the outputs
# (Nagios perfdata, the .prom file through an independent parser, JUnit),
# exit codes, config errors naming file:line, and watch mode stopping
# within one period of the outage limit.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$BS_ROOT/tests/net/webfix.sh"

if ! web_start "$BS_TMP/web" >"$BS_TMP/web.out" 2>&1; then
	t_skip "nginx could not start: $(tail -3 "$BS_TMP/web.out" | tr '\n' ' ')"
	done_testing
	exit 0
fi
bs_on_exit web_stop

H=$BS_WEB_HTTP
CFG=$BS_TMP/backstop.yaml
PROM_PY=/usr/bin/python3
ROLE=probe_user_$$
pg postgres "create role $ROLE login password 'right-secret'" >/dev/null || exit 1
bs_on_exit pg postgres "drop role if exists $ROLE"
printf 'Bearer %s\n' "$BS_WEB_TOKEN" >"$BS_TMP/token"
chmod 600 "$BS_TMP/token"
CLOSED=$BS_WEB_CLOSED_PORT
# the fixture's client key is readable by all (for other users); ours is not
install -m 600 "$BS_WEB_CLIENT_KEY" "$BS_TMP/client.key"
BS_WEB_CLIENT_KEY=$BS_TMP/client.key
TCP="host=127.0.0.1 port=$PGPORT dbname=postgres user=$ROLE"

# repositories: one with a fresh snapshot, one with none
REPO=$BS_TMP/repo
EMPTY=$BS_TMP/empty
SRC=$(new_db probe_src)
bs_on_exit drop_db "$SRC"
pg "$SRC" "create table t (id int primary key); insert into t select generate_series(1, 10)" >/dev/null || exit 1
bs repo init --repo "$REPO" -q && bs repo init --repo "$EMPTY" -q || exit 1
bs snap --repo "$REPO" -d "$(db_conninfo "$SRC")" --no-encryption -q >/dev/null || exit 1

cat >"$CFG" <<EOF
repository: $REPO
probe:
  timeout: 5s
  deadline: 20s
probes:
  healthy:
    kind: http
    url: $H/healthz
    expect_status: 200
    expect_json:
      status: ok
      db.up: true
    body_regex: '"version": *"1\\.4\\.[0-9]+"'
  failing:
    kind: http
    url: $H/fail
    expect_status: 200
  slow:
    kind: http
    url: $H/slow
    max_latency: 1s
  slow-warn:
    kind: http
    url: $H/slow
    warn_latency: 1s
    max_latency: 10s
  wrong-body:
    kind: http
    url: $H/wrongbody
    expect_json:
      db.up: true
  wrong-regex:
    kind: http
    url: $H/wrongbody
    body_regex: '"status": *"ok"'
  redirect:
    kind: http
    url: $H/redirect
  redirect-followed:
    kind: http
    url: $H/redirect
    redirects: follow
    expect_json:
      status: ok
  auth:
    kind: http
    url: $H/auth
    headers:
      Authorization:
        file: $BS_TMP/token
  no-auth:
    kind: http
    url: $H/auth
  flap-retried:
    kind: http
    url: $H/flap
    retries: 2
  teapot-ok:
    kind: http
    url: $H/fail
    expect_status: [5xx]
  mtls:
    kind: http
    url: $BS_WEB_HTTPS_MTLS/healthz
    ca_file: $BS_WEB_CA
    client_cert: $BS_WEB_CLIENT_CERT
    client_key: $BS_WEB_CLIENT_KEY
  mtls-nocert:
    kind: http
    url: $BS_WEB_HTTPS_MTLS/healthz
    ca_file: $BS_WEB_CA
  https-untrusted:
    kind: http
    url: $BS_WEB_HTTPS_VALID/healthz
  tls-valid:
    kind: tls
    host: localhost:$BS_WEB_PORT_VALID
    ca_file: $BS_WEB_CA
  tls-expiring:
    kind: tls
    host: localhost
    port: $BS_WEB_PORT_EXPIRING
    ca_file: $BS_WEB_CA
  tls-expiring-warn:
    kind: tls
    host: localhost:$BS_WEB_PORT_EXPIRING
    ca_file: $BS_WEB_CA
    crit_days: 2
  tls-expired:
    kind: tls
    host: localhost:$BS_WEB_PORT_EXPIRED
    ca_file: $BS_WEB_CA
  tls-wronghost:
    kind: tls
    host: localhost:$BS_WEB_PORT_WRONGHOST
    ca_file: $BS_WEB_CA
  tls-sni:
    kind: tls
    host: 127.0.0.1:$BS_WEB_PORT_WRONGHOST
    servername: wrong.example.test
    ca_file: $BS_WEB_CA
  tls-shortchain:
    kind: tls
    host: localhost:$BS_WEB_PORT_SHORTCHAIN
    ca_file: $BS_WEB_CA
  tls-untrusted:
    kind: tls
    host: localhost:$BS_WEB_PORT_VALID
  tcp-open:
    kind: tcp
    host: 127.0.0.1:$BS_WEB_PORT_HTTP
  tcp-closed:
    kind: tcp
    host: 127.0.0.1
    port: $CLOSED
  pg-up:
    kind: postgres
    conninfo: "$TCP password=right-secret"
    query: select 'ok'
    expect: ok
  pg-wrong-value:
    kind: postgres
    conninfo: "$TCP password=right-secret"
    query: select 41 + 0
    expect: "42"
  pg-bad-query:
    kind: postgres
    conninfo: "$TCP password=right-secret"
    query: select * from no_such_table
  pg-lag-primary:
    kind: postgres
    conninfo: "$TCP password=right-secret"
    max_replication_lag: 5s
  pg-wrong-password:
    kind: postgres
    conninfo: "$TCP password=wrong"
  pg-down:
    kind: postgres
    conninfo: "host=127.0.0.1 port=$CLOSED dbname=postgres user=$ROLE password=x"
  backup-fresh:
    kind: backup
    database: $SRC
    max_age: 1h
  backup-stale:
    kind: backup
    database: $SRC
    max_age: 1s
  backup-warn:
    kind: backup
    database: $SRC
    max_age: 1h
    warn_age: 1s
  backup-none:
    kind: backup
    repository: $EMPTY
  backup-other-db:
    kind: backup
    database: no_such_database_here
  backup-unreadable:
    kind: backup
    repository: $BS_TMP/not-a-repository
EOF
chmod 600 "$CFG"
sleep 2 # the snapshot is now older than backup-stale's 1s

# probe NAME...: run them with --json (from $PCFG, else $CFG); FIELD NAME
# prints a field of NAME's finding
probe() { run_cmd bs probe --config "${PCFG:-$CFG}" --json "$@"; }
field() { jq -r --arg c "$2" '.findings[] | select(.check == $c) | .'"$1" "$OUT_FILE"; }

# expect_probe NAME STATE REASON-REGEX: one probe, its state and its one line
expect_probe() {
	local name=$1 state=$2 re=$3 detail
	probe "$name"
	detail=$(field detail "$name")
	check_eq "$name: state" "$(field state "$name")" "$state"
	check "$name: reason /$re/ (got: $detail)" grep -Eq -- "$re" <<<"$detail"
	check_eq "$name: the reason is one line" "$(printf '%s' "$detail" | wc -l)" 0
	check "$name: stderr says it in one line when it did not pass" \
		bash -c '[ "$1" = ok ] || grep -Fq -- "$2: $3 " "$4"' _ "$state" "$name" "${state^^}" "$ERR_FILE"
}

t_http() {
	expect_probe healthy ok '^status 200 in [0-9.]+m?s \(connect [0-9.]+s, first byte [0-9.]+s\)$'
	expect_exit 0
	expect_probe failing fail '^status 500 \(expected 200\) after [0-9.]+m?s$'
	expect_exit 1
	expect_probe slow fail '^took 2\.[0-9]+s \(expected at most 1\.00s\): connect [0-9.]+s, first byte 0\.[0-9]+s$'
	expect_probe slow-warn warn '^status 200 but slow: took 2\.[0-9]+s \(warn above 1\.00s\)'
	expect_exit 0 "a WARN alone exits 0"
	run_cmd bs probe --config "$CFG" slow-warn --fail-on-warn
	expect_exit 1 "... and 1 under --fail-on-warn"
	expect_probe wrong-body fail '^JSON db\.up is false \(expected true\) after'
	expect_probe wrong-regex fail '^body does not match /"status": \*"ok"/ \(starts: .\{"status":"degraded"'
	expect_probe redirect fail '^status 302 \(expected 2xx\) after [0-9.]+m?s; Location: http://127\.0\.0\.1:[0-9]+/healthz$'
	expect_probe redirect-followed ok '^status 200 in'
	expect_probe auth ok '^status 200 in'
	expect_probe no-auth fail '^status 401 \(expected 2xx\)'
	expect_probe teapot-ok ok '^status 500 in'
	expect_probe mtls ok '^status 200 in .*TLS [0-9.]+s'
	expect_probe mtls-nocert fail '^status 400 \(expected 2xx\)'
	expect_probe https-untrusted fail 'SSL certificate problem: unable to get local issuer certificate'
}
run_test "http: status, latency with its split, JSON fields, body regex, redirects, header from a file, client certificate" t_http

t_header_secret() {
	probe auth -v
	check "the header's secret is not logged" bash -c '! grep -rq "$1" "$2" "$3"' _ "$BS_WEB_TOKEN" "$OUT_FILE" "$ERR_FILE"
	chmod 644 "$BS_TMP/token"
	expect_probe auth unknown "could not start: header 'Authorization'.*(group|others)"
	expect_exit 3 "UNKNOWN alone exits 3"
	chmod 600 "$BS_TMP/token"
}
t_retries() {
	web_down
	expect_probe flap-retried fail '^status 503 \(expected 2xx\) after [0-9.]+m?s \(3 attempts\)$'
	web_up
	expect_probe flap-retried ok '^status 200 in [^(]*\([^)]*\)$'
}
run_test "retries: a 503 is tried again, and the reason says how many attempts were made" t_retries

run_test "a header from a file: never logged; a file readable by others is refused (UNKNOWN, exit 3)" t_header_secret

t_tls() {
	expect_probe tls-valid ok "^leaf expires in (89|90) days \([0-9-]+\), chain [0-9-]+; verified for localhost$"
	check_eq "tls-valid: leaf days in the measurements" "$(jq -r '.findings[0].measurements[] | select(.name | endswith("_days")) | .value' "$OUT_FILE")" 90
	expect_probe tls-expiring fail '^leaf certificate expires in 5 days \([0-9-]+, expected at least 7\)$'
	expect_probe tls-expiring-warn warn '^leaf certificate expires in 5 days \([0-9-]+, expected at least 21\)$'
	expect_probe tls-expired fail '^leaf certificate expired 1 day ago \(notAfter [0-9-]+\)$'
	expect_probe tls-wronghost fail '^certificate is for wrong\.example\.test, not localhost$'
	expect_probe tls-sni ok 'verified for wrong\.example\.test$'
	expect_probe tls-shortchain fail "^chain certificate '.*short.*' expires in 3 days \([0-9-]+, expected at least 7\), before the leaf \([0-9-]+\)$"
	expect_probe tls-untrusted fail '^certificate not trusted: unable to get local issuer certificate'
}
run_test "tls: days left of the leaf and of the chain apart, expired, wrong host name, SNI, untrusted" t_tls

t_tcp() {
	expect_probe tcp-open ok "^connected to 127\.0\.0\.1:$BS_WEB_PORT_HTTP in"
	expect_probe tcp-closed fail "^no connection to 127\.0\.0\.1:$CLOSED: Couldn't connect to server after"
}
run_test "tcp: an open port and a closed one" t_tcp

t_postgres() {
	expect_probe pg-up ok "connected.*query returned 'ok'"
	expect_probe pg-wrong-value fail "^query returned '41' \\(expected '42'\\)"
	expect_probe pg-bad-query fail 'query failed: .*42P01'
	expect_probe pg-lag-primary ok 'not a standby'
	expect_probe pg-wrong-password fail '28P01'
	check "pg-wrong-password: no password in the output" bash -c '! grep -q "wrong\b" <(grep -v "pg-wrong" "$1" "$2")' _ "$OUT_FILE" "$ERR_FILE"
	expect_probe pg-down fail "no response.*127\.0\.0\.1:$CLOSED"
}
run_test "postgres: up with a query, a wrong value, a failing query, lag on a primary, wrong password, nothing listening" t_postgres

t_backup() {
	expect_probe backup-fresh ok "^newest snapshot .* ago"
	check "backup-fresh: its age is in the measurements" bash -c '[ "$(jq -r ".findings[0].measurements[] | select(.name | endswith(\"_age\")) | .value" "$1")" -ge 1 ]' _ "$OUT_FILE"
	expect_probe backup-stale fail "^newest snapshot .*ago \(expected at most 1s\)"
	expect_probe backup-warn warn "ago"
	expect_probe backup-none fail "^never backed up"
	expect_probe backup-other-db fail "^never backed up: no complete snapshot of database 'no_such_database_here'"
	expect_probe backup-unreadable unknown "^cannot read repository"
}
run_test "backup: a fresh snapshot, a stale one, none (never backed up is FAIL, not age 0), a repository that cannot be read" t_backup

# A streaming standby, for the lag check on a real standby and for a server
# that was stopped: of a fresh small cluster B (a base backup of the shared
# harness cluster would copy whatever the tests before left there), whose
# pg_hba.conf lets the socket replicate.
SB=$BS_TMP/standby
SB_PORT=
stop_standby() {
	[ -n "$SB_PORT" ] || return 0
	BS_PG_DIR=$B_DIR BS_PG_OSUSER=$B_OSUSER _bs_pg_as "$BS_PGBIN/pg_ctl" -D "$SB/data" -m immediate -w stop >/dev/null 2>&1
	SB_PORT=
}
start_standby() {
	pg_second_start "$BS_TMP/pgb" || return 1
	mkdir -p "$SB" && chmod 755 "$BS_TMP" "$SB" || return 1
	[ "$(id -u)" -ne 0 ] || chown "$B_OSUSER" "$SB"
	BS_PG_DIR=$B_DIR BS_PG_OSUSER=$B_OSUSER _bs_pg_as "$BS_PGBIN/pg_basebackup" -h "$B_HOST" -p "$B_PORT" -U postgres \
		-D "$SB/data" -R -X stream >"$SB/basebackup.log" 2>&1 || { cat "$SB/basebackup.log"; return 1; }
	SB_PORT=$(bs_free_port) || return 1
	printf 'port = %s\nlisten_addresses = %s\n' "$SB_PORT" "''" >>"$SB/data/backstop-test.conf"
	BS_PG_DIR=$B_DIR BS_PG_OSUSER=$B_OSUSER _bs_pg_as "$BS_PGBIN/pg_ctl" -D "$SB/data" -l "$SB/server.log" -w -t 60 start \
		>"$SB/pg_ctl.log" 2>&1 || { cat "$SB/pg_ctl.log" "$SB/server.log"; SB_PORT=; return 1; }
	bs_on_exit stop_standby
}

t_standby() {
	local sbcfg=$BS_TMP/standby.yaml i PCFG=$BS_TMP/standby.yaml
	start_standby || { t_skip "could not start a primary and its standby"; return; }
	cat >"$sbcfg" <<-EOF
	probes:
	  standby:
	    kind: postgres
	    conninfo: "host=$B_HOST port=$SB_PORT dbname=postgres user=postgres"
	    max_replication_lag: 1h
	  standby-tight:
	    kind: postgres
	    conninfo: "host=$B_HOST port=$SB_PORT dbname=postgres user=postgres"
	    max_replication_lag: 500ms
	EOF
	run_cmd bs probe --config "$sbcfg" standby --json
	if [ "$(field state standby)" = unknown ]; then
		check "before any replayed transaction: UNKNOWN, said so" grep -q "has replayed nothing yet" <<<"$(field detail standby)"
	fi
	PGHOST=$B_HOST PGPORT=$B_PORT pg postgres "create table replicated (id int); insert into replicated values (1)" >/dev/null
	for ((i = 0; i < 100; i++)); do
		[ "$(PGHOST=$B_HOST PGPORT=$SB_PORT pg postgres "select count(*) from replicated" 2>/dev/null)" = 1 ] && break
		sleep 0.1
	done
	expect_probe standby ok "replication lag [0-9.]+m?s \\(at most"
	check "the lag is measured" bash -c '[ "$(jq -r ".findings[0].measurements[] | select(.name == \"standby_lag\") | .value" "$1")" != "" ]' _ "$OUT_FILE"
	sleep 1.2 # the primary is idle: the last replayed transaction ages
	run_cmd bs probe --config "$sbcfg" standby-tight --json
	expect_exit 1
	check "a lag over the limit is FAIL, with the figure: $(field detail standby-tight)" \
		grep -Eq "^replication lag of .* is [0-9.]+s \(expected at most 500ms\)" <<<"$(field detail standby-tight)"
	stop_standby
	run_cmd bs probe --config "$sbcfg" standby --json
	expect_exit 1
	check_eq "a stopped server is FAIL" "$(field state standby)" fail
	check "... with no response: $(field detail standby)" grep -q "^no response from .*\.s\.PGSQL\.$(sed -n 's/.*port=\([0-9]*\).*/\1/p' "$sbcfg" | head -1)" <<<"$(field detail standby)"
}
run_test "postgres on a real standby: replication lag within and over the limit; the same server stopped" t_standby

t_all_at_once() {
	local t0 t1
	t0=$(date +%s.%N)
	run_cmd bs probe --config "$CFG" healthy slow slow-warn tls-valid tcp-open pg-up backup-fresh --json
	t1=$(date +%s.%N)
	expect_exit 1 "slow fails its max_latency"
	check_eq "seven results" "$(jq '.findings | length' "$OUT_FILE")" 7
	check "two 2 s requests and the rest ran at once: under 3.5 s ($(echo "$t1 - $t0" | bc) s)" \
		bash -c '[ "$(echo "$1 - $2 < 3.5" | bc)" = 1 ]' _ "$t1" "$t0"
}
run_test "probes of every kind run concurrently" t_all_at_once

t_deadline() {
	run_cmd bs probe --config "$CFG" slow healthy --deadline 500ms --json
	expect_exit 3 "an UNKNOWN and no FAIL exits 3"
	check_eq "the slow one is UNKNOWN" "$(field state slow)" unknown
	check_eq "with the deadline as its reason" "$(field detail slow)" "no answer within the round's deadline of 500ms"
	check_eq "the fast one is OK" "$(field state healthy)" ok
}
run_test "a round's deadline: what has not answered is UNKNOWN (exit 3)" t_deadline

t_adhoc() {
	run_cmd bs probe --url "$H/healthz" --expect-status 200 --max-latency 2s --tcp "127.0.0.1:$CLOSED" \
		--tls "localhost:$BS_WEB_PORT_VALID" --ca-file "$BS_WEB_CA" --json
	expect_exit 1
	check_eq "three probes named by what they check" "$(jq -r '[.findings[].check] | join(" ")' "$OUT_FILE")" \
		"$H/healthz tls:localhost:$BS_WEB_PORT_VALID tcp:127.0.0.1:$CLOSED"
	check_eq "states" "$(jq -r '[.findings[].state] | join(" ")' "$OUT_FILE")" "ok ok fail"
	run_cmd bs probe --postgres "$TCP password=right-secret"
	expect_exit 2 "a password on the command line is refused"
	expect_stderr_contains "password"
	PGPASSWORD=right-secret run_cmd bs probe --postgres "$TCP" --query "select 1" --expect 1
	expect_exit 0 "--postgres with the password from the environment"
	run_cmd bs probe --backup "$SRC" --repo "$REPO" --max-age 1h -q
	expect_exit 0 "--backup DB --repo"
	run_cmd bs probe --url "ftp://example.test/x"
	expect_exit 2 "a URL that is not http(s) is a usage error"
	expect_stderr_contains "invalid URL 'ftp://example.test/x'"
	run_cmd bs probe --url "$H/healthz" --expect-status 99x
	expect_exit 2
	expect_stderr_contains "invalid --expect-status '99x'"
	run_cmd bs probe --url "$H/healthz" --max-latency soon
	expect_exit 2
	expect_stderr_contains "invalid duration 'soon' for --max-latency"
	run_cmd bs probe --config "$CFG" healthyy
	expect_exit 2 "an unknown probe name"
	expect_stderr_contains "no probe named 'healthyy'"
	expect_stderr_contains "did you mean 'healthy'"
}
run_test "ad hoc probes from flags, and bad flags (exit 2)" t_adhoc

t_nagios() {
	local line perf
	run_cmd bs probe --config "$CFG" healthy tls-valid tls-expiring-warn --nagios
	expect_exit 1 "WARNING is 1"
	line=$(head -1 "$OUT_FILE")
	check "status line: 'probe WARNING - ...'" grep -Eq '^probe WARNING - ' <<<"$line"
	perf=${line#*| }
	check "perfdata parses: 'label'=value[unit];warn;crit;min;max ($perf)" bash -c '
		q=$(printf "\x27")
		re="^${q}[^${q}=]+${q}=-?[0-9.]+(s|ms|us|%|B|KB|MB|GB|TB|c)?(;-?[0-9.]*){0,4}\$"
		for item in $1; do
			[[ $item =~ $re ]] || { echo "bad: $item"; exit 1; }
		done' _ "$perf"
	check "tls days with warn and crit" grep -q "'tls-valid_days'=90;21;7" <<<"$perf"
	run_cmd bs probe --config "$CFG" failing --nagios
	expect_exit 2 "CRITICAL is 2"
	run_cmd bs probe --config "$CFG" slow --deadline 300ms --nagios
	expect_exit 3 "UNKNOWN is 3"
	check "'probe UNKNOWN - '" grep -q '^probe UNKNOWN - ' "$OUT_FILE"
	run_cmd bs probe --config "$CFG" healthy --nagios
	expect_exit 0 "OK is 0"
}
run_test "--nagios: monitoring-plugin status line, perfdata, exit codes 0/1/2/3" t_nagios

t_prometheus() {
	local dir=$BS_TMP/textfile
	mkdir -p "$dir"
	run_cmd bs probe --config "$CFG" healthy failing tls-valid backup-fresh pg-up --textfile "$dir" -q
	expect_exit 1
	check "the .prom file is there" test -s "$dir/backstop_probe.prom"
	check "no temporary file is left" bash -c '[ "$(ls -A "$1")" = backstop_probe.prom ]' _ "$dir"
	check "an independent parser (prometheus_client) reads it" "$PROM_PY" -c '
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
s = {(x.name, x.labels["probe"]): x for f in fams.values() for x in f.samples}
assert all(x.timestamp is None for x in s.values()), "a sample has a timestamp"
assert s[("backstop_probe_success", "healthy")].value == 1
assert s[("backstop_probe_success", "failing")].value == 0
assert s[("backstop_probe_http_status_code", "failing")].value == 500
leaf = s[("backstop_probe_tls_leaf_expiry_timestamp_seconds", "tls-valid")].value
assert abs(leaf - float(sys.argv[2])) < 120, (leaf, sys.argv[2])
assert s[("backstop_probe_backup_age_seconds", "backup-fresh")].value >= 1
assert s[("backstop_probe_duration_seconds", "pg-up")].value > 0
for f in fams.values():
    assert f.type == "gauge" and f.documentation, f.name
' "$dir/backstop_probe.prom" "$BS_WEB_NOTAFTER_VALID"
	check "strictly: HELP and TYPE once per family, before its samples; sample lines well-formed" bash -c '
		awk '\''/^# HELP /{ if (h[$3]++) exit 1; next } /^# TYPE /{ if (t[$3]++ || seen[$3]) exit 1; next }
		     /^[a-zA-Z_:][a-zA-Z0-9_:]*\{probe="[^"]*",kind="[a-z]+"\} -?[0-9.e+-]+$/ { split($0, a, "{"); seen[a[1]] = 1; next }
		     { exit 1 }'\'' "$1"' _ "$dir/backstop_probe.prom"
	run_cmd bs probe --config "$CFG" healthy --format prometheus
	expect_exit 0
	expect_stdout_contains 'backstop_probe_success{probe="healthy",kind="http"} 1'
}
run_test "Prometheus: the textfile is written atomically and read by an independent parser; --format prometheus" t_prometheus

t_junit() {
	run_cmd bs probe --config "$CFG" healthy failing --junit "$BS_TMP/probe.xml" -q
	expect_exit 1
	check "JUnit: well-formed, one failure of two" "$PROM_PY" -c '
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
cases = r.findall(".//testcase")
assert len(cases) == 2, len(cases)
fails = [c for c in cases if c.find("failure") is not None]
assert [c.get("name") for c in fails] == ["failing"], fails
assert "status 500" in fails[0].find("failure").get("message")
' "$BS_TMP/probe.xml"
}
run_test "--junit FILE: a test case per probe" t_junit

# a config with one error of each kind the issue names
t_config_errors() {
	local bad=$BS_TMP/bad.yaml
	cat >"$bad" <<-EOF
	probes:
	  a:
	    kind: smtp
	    host: x
	  b:
	    kind: http
	    url: http://127.0.0.1/
	    timeout: 5 seconds
	  c:
	    kind: http
	    url: "htp:/nowhere"
	  d:
	    kind: tcp
	    host: db
	EOF
	run_cmd bs probe validate --config "$bad"
	expect_exit 2
	expect_stderr_contains "bad.yaml: 4 errors"
	expect_stderr_matches "bad.yaml:3:11: .*smtp"
	expect_stderr_matches "bad.yaml:8:14: invalid duration '5 seconds' for 'probes.b.timeout'"
	expect_stderr_matches "bad.yaml:11:10: probe 'c': invalid URL 'htp:/nowhere'"
	expect_stderr_matches "bad.yaml:14:11: probe 'd': no port"
	run_cmd bs probe --config "$bad" a
	expect_exit 2 "running with a bad config is exit 2 as well"
	run_cmd bs probe validate --config "$CFG"
	expect_exit 0
	expect_stdout_matches "probes? valid \(http 15, tls 8, tcp 2, postgres 6, backup 6\)"
	run_cmd bs probe validate --config "$CFG" healthy nope
	expect_exit 2
	expect_stderr_contains "no probe named 'nope'"
}
run_test "config errors (unknown kind, bad duration, bad URL, no port) exit 2 naming file:line; probe validate" t_config_errors

t_watch_ok() {
	run_cmd bs probe --config "$CFG" healthy tcp-open --watch --interval 1s --for 3s --min-availability 99.9 --json
	expect_exit 0
	check_eq "three rounds" "$(jq -r .subject "$OUT_FILE" | sed 's/watch: \([0-9]*\) rounds.*/\1/')" 3
	check_eq "availability 100%" "$(jq -r '.findings[0].observed' "$OUT_FILE")" "availability 100.00%, longest outage 0s"
}
run_test "watch: a healthy window passes with availability 100%" t_watch_ok

t_watch_availability() {
	mkdir -p "$BS_TMP/watch-textfile"
	run_cmd bs probe --config "$CFG" failing --watch --interval 500ms --for 2s --min-availability 50 \
		--textfile "$BS_TMP/watch-textfile"
	expect_exit 1
	check "each round's results reach the textfile" grep -q '^backstop_probe_success{probe="failing",kind="http"} 0$' \
		"$BS_TMP/watch-textfile/backstop_probe.prom"
	expect_stderr_matches "failing: FAIL availability 0\.00% \(expected at least 50%\): 0 of [0-9]+ rounds passed"
}
run_test "watch: availability under --min-availability fails the window; --textfile is written every round" t_watch_availability

t_watch_outage() {
	local t0 tdown t1 flap=$BS_TMP/flap.yaml
	cat >"$flap" <<-EOF
	probes:
	  app:
	    kind: http
	    url: $H/flap
	    failure_threshold: 2
	EOF
	web_up
	t0=$(date +%s.%N)
	(sleep 1.5 && web_down) &
	bs probe --config "$flap" --watch --interval 1s --outage-limit 3s >"$BS_TMP/w.out" 2>"$BS_TMP/w.err" </dev/null
	RC=$?
	t1=$(date +%s.%N)
	wait
	web_up
	tdown=$(echo "$t0 + 1.5" | bc)
	OUT_FILE=$BS_TMP/w.out ERR_FILE=$BS_TMP/w.err
	expect_exit 1 "an outage over the limit ends the watch with exit 1"
	check "it stopped within one period (1 s) of the limit (3 s) after the endpoint went down: $(echo "$t1 - $tdown" | bc) s" \
		bash -c '[ "$(echo "$1 - $2 <= 3 + 1 + 0.5" | bc)" = 1 ] && [ "$(echo "$1 - $2 >= 3" | bc)" = 1 ]' _ "$t1" "$tdown"
	expect_stderr_contains "app: FAIL status 503 (expected 2xx)"
	expect_stderr_matches "app has been down for the outage limit of 3s: stopping the watch"
	expect_stdout_matches "FAIL +app"
}
run_test "watch: an endpoint down longer than --outage-limit ends it with exit 1 within one period" t_watch_outage

t_help() {
	run_cmd bs probe --help
	expect_exit 0
	expect_stdout_contains "--watch"
	run_cmd bs probe validate --help
	expect_exit 0
	expect_stdout_contains "usage: backstop probe validate"
	run_cmd bs help probe
	expect_exit 0
}
run_test "--help on the command and its verb" t_help

done_testing
