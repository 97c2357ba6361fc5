# shellcheck shell=bash
# tests/net/webfix.sh - a real web server for the probe tests: one nginx
# master (nginx-light, from scripts/install-deps.sh) on loopback with a plain
# HTTP server and one TLS server per test certificate, all made fresh by
# openssl at start.  Sourced after tests/integration/lib.sh (for
# bs_free_port; BS_LIB_NOINIT=1 sources it without a cluster).
#
#   web_start DIR   make certificates and config in DIR (a fresh directory:
#                   it holds everything, nginx runs with -p DIR) and start
#                   nginx; exports the variables below.  Returns 1 (and says
#                   why on stderr, with nginx's log) when it cannot.  Takes
#                   about 0.4 s (mostly openssl).
#   web_stop        stop nginx and wait for it to exit; unsets the exports.
#                   Safe when not started (and from another shell: it finds
#                   the master by $BS_WEB_DIR/nginx.pid).
#   web_down        /flap answers 503 from now on (on every server)
#   web_up          /flap answers 200 again
#
# Exports
#   BS_WEB_DIR          DIR
#   BS_WEB_HTTP         http://127.0.0.1:PORT  (BS_WEB_PORT_HTTP: the port)
#   BS_WEB_HTTPS_VALID, BS_WEB_HTTPS_EXPIRING, BS_WEB_HTTPS_EXPIRED,
#   BS_WEB_HTTPS_WRONGHOST, BS_WEB_HTTPS_SHORTCHAIN, BS_WEB_HTTPS_MTLS
#                       https://localhost:PORT: the host name localhost, so
#                       that host name verification is exercised (every
#                       server listens on 127.0.0.1 only); BS_WEB_PORT_VALID,
#                       BS_WEB_PORT_EXPIRING, ... are the bare ports
#   BS_WEB_CA           the root CA certificate (PEM): the only trust anchor
#   BS_WEB_CLIENT_CERT, BS_WEB_CLIENT_KEY
#                       a client certificate (signed by the root, extended
#                       key usage clientAuth) and its key, PEM, for MTLS
#   BS_WEB_CERTS        DIR/certs, every certificate and key (names below)
#   BS_WEB_TOKEN        s3cret, the bearer token /auth wants
#   BS_WEB_CLOSED_PORT  a free loopback port nothing listens on (connection
#                       refused)
#   BS_WEB_VALID_DAYS=90 BS_WEB_EXPIRING_DAYS=5 BS_WEB_SHORTCHAIN_DAYS=3
#   BS_WEB_NOTAFTER_VALID, _EXPIRING, _EXPIRED, _WRONGHOST, _SHORTCHAIN,
#   _SHORT_INTERMEDIATE
#                       notAfter of each leaf (and of the short intermediate)
#                       as Unix seconds, for exact checks
#
# Endpoints, the same on every server
#   /healthz    200 application/json {"status":"ok","db":{"up":true},"version":"1.4.2"}
#   /wrongbody  200 application/json {"status":"degraded","db":{"up":false},"version":"1.4.2"}
#   /fail       500 text/plain "internal error"
#   /slow       200, 48 KiB of "." sent at 20 KiB/s (limit_rate): the status
#               line and headers arrive at once (under 10 ms), the whole
#               response takes 2.0 s (curl's time_total 2.00-2.02 s on
#               loopback, also four at once).  nginx paces in whole seconds:
#               16 KiB/s gives 3.0 s, 17-20 KiB/s 2.0 s.  A timeout that
#               covers only the wait for headers does not fire here.
#   /redirect   302, Location: <same scheme, host and port>/healthz
#   /flap       200 "ok"; 503 "unavailable" between web_down and web_up
#               (nginx tests for DIR/down on every request)
#   /auth       200 "ok" with "Authorization: Bearer s3cret", otherwise 401
#               "unauthorized" with WWW-Authenticate: Bearer realm="backstop-test"
#   /notfound and everything else: 404 "not found"
# Bodies have no trailing newline.
#
# Certificates: EC P-256 keys, SHA-256, issued with `openssl ca` so that
# dates can lie in the past.  Every date is counted from T, the time of
# web_start; the day counts have an hour to spare (notAfter is T + N days
# + 1 hour) so that "days left" rounded down is still N while tests run.
#   certs/root.pem      root CA "backstop test root", T-60d .. T+3650d
#   certs/good.pem      intermediate, signed by root, T-60d .. T+1826d
#   certs/short.pem     intermediate, signed by root, T-60d .. T+3d+1h
#   leaf certificates (certs/NAME.pem; certs/NAME.chain.pem is the leaf then
#   its intermediate, which is what the servers send; key certs/leaf.key, the
#   same for all of them), SAN DNS:localhost, IP:127.0.0.1 unless stated:
#     valid       by good,  T-1h .. T+90d+1h
#     expiring    by good,  T-1h .. T+5d+1h
#     expired     by good,  T-30d .. T-1d
#     wronghost   by good,  T-1h .. T+90d+1h, SAN DNS:wrong.example.test only
#                 (and that CN)
#     shortchain  by short, T-1h .. T+90d+1h: the chain expires in 3 days,
#                 before the leaf
#   certs/client.pem, certs/client.key   by root, T-1h .. T+90d+1h
# The MTLS server sends the valid chain and requires a client certificate
# issued by the root (ssl_verify_client on).  Note that nginx completes the
# TLS handshake either way and answers HTTP 400 ("No required SSL
# certificate was sent" / "The SSL certificate error") when the client
# certificate is missing or not trusted: it is not a TLS alert.
#
# nginx: one master in daemon mode, one worker, everything in DIR (config
# nginx.conf and locations.conf, pid nginx.pid, logs error.log and
# access.log, temp/, www/).  Run as root the workers run as root too (user
# root), so DIR need not be readable by nobody.  If a chosen port is taken
# before nginx binds it, web_start picks new ports and tries again (three
# attempts; nginx itself retries a taken port for 2.5 s before giving up,
# so such a start takes about 3 s).  BS_WEB_NGINX, when set, names the
# nginx binary (else nginx on PATH, else /usr/sbin/nginx).  The
# certificates and the client key are mode 0644, so that a test can run
# the client as another user; the server keys stay 0600.

_WEB_PID=
_WEB_DIR=
_WEB_VARS=(BS_WEB_DIR BS_WEB_HTTP BS_WEB_PORT_HTTP BS_WEB_CA BS_WEB_CLIENT_CERT BS_WEB_CLIENT_KEY
	BS_WEB_CERTS BS_WEB_TOKEN BS_WEB_CLOSED_PORT BS_WEB_VALID_DAYS BS_WEB_EXPIRING_DAYS
	BS_WEB_SHORTCHAIN_DAYS BS_WEB_NOTAFTER_SHORT_INTERMEDIATE)
_WEB_TLS=(valid expiring expired wronghost shortchain mtls)
for _web_n in "${_WEB_TLS[@]}"; do
	_WEB_VARS+=("BS_WEB_HTTPS_${_web_n^^}" "BS_WEB_PORT_${_web_n^^}")
	[ "$_web_n" = mtls ] || _WEB_VARS+=("BS_WEB_NOTAFTER_${_web_n^^}")
done
unset _web_n

# _web_nginx: print the nginx binary (not always on a normal user's PATH).
_web_nginx() {
	local b
	for b in "${BS_WEB_NGINX:-}" "$(command -v nginx 2>/dev/null)" /usr/sbin/nginx; do
		if [ -n "$b" ] && [ -x "$b" ]; then
			echo "$b"
			return 0
		fi
	done
	return 1
}

# _web_date SECONDS: the openssl ca date (UTCTime, YYMMDDHHMMSSZ) of Unix time SECONDS.
_web_date() { date -u -d "@$1" +%y%m%d%H%M%SZ; }

# _web_issue DIR NAME SUBJECT EXT START END [SIGNER]: a new key (certs/NAME.key,
# unless NAME.key exists: then a request from it) and certificate certs/NAME.pem,
# valid from START to END (Unix seconds), with the extensions of section EXT,
# signed by certs/SIGNER.pem (self-signed without SIGNER).
_web_issue() {
	local dir=$1 name=$2 subj=$3 ext=$4 start=$5 end=$6 signer=${7:-} c=$1/certs
	local key=$c/$name.key keyopt
	case $name in valid | expiring | expired | wronghost | shortchain) key=$c/leaf.key ;; esac
	if [ -f "$key" ]; then
		keyopt=(-key "$key")
	else
		keyopt=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$key")
	fi
	openssl req -new -config "$dir/ca.cnf" "${keyopt[@]}" -subj "$subj" -out "$c/$name.csr" || return 1
	if [ -n "$signer" ]; then
		openssl ca -batch -config "$dir/ca.cnf" -notext -extensions "$ext" \
			-cert "$c/$signer.pem" -keyfile "$c/$signer.key" -in "$c/$name.csr" -out "$c/$name.pem" \
			-startdate "$(_web_date "$start")" -enddate "$(_web_date "$end")" || return 1
	else
		openssl ca -batch -config "$dir/ca.cnf" -notext -extensions "$ext" -selfsign \
			-keyfile "$key" -in "$c/$name.csr" -out "$c/$name.pem" \
			-startdate "$(_web_date "$start")" -enddate "$(_web_date "$end")" || return 1
	fi
	rm -f "$c/$name.csr"
}

# _web_certs DIR T: every certificate, dated from T (Unix seconds).
_web_certs() {
	local dir=$1 t=$2 d=86400 h=3600 c=$1/certs n
	mkdir -p "$c" "$dir/ca/new" || return 1
	: >"$dir/ca/index.txt"
	cat >"$dir/ca.cnf" <<-EOF
		[ ca ]
		default_ca = webfix_ca

		[ webfix_ca ]
		database = $dir/ca/index.txt
		new_certs_dir = $dir/ca/new
		rand_serial = yes
		unique_subject = no
		default_md = sha256
		policy = webfix_policy
		email_in_dn = no
		copy_extensions = none

		[ webfix_policy ]
		organizationName = optional
		commonName = supplied

		[ req ]
		distinguished_name = webfix_dn
		default_md = sha256

		[ webfix_dn ]

		[ ext_root ]
		basicConstraints = critical, CA:TRUE
		keyUsage = critical, keyCertSign, cRLSign
		subjectKeyIdentifier = hash

		[ ext_intermediate ]
		basicConstraints = critical, CA:TRUE, pathlen:0
		keyUsage = critical, keyCertSign, cRLSign
		subjectKeyIdentifier = hash
		authorityKeyIdentifier = keyid:always

		[ ext_leaf ]
		basicConstraints = critical, CA:FALSE
		keyUsage = critical, digitalSignature
		extendedKeyUsage = serverAuth
		subjectAltName = DNS:localhost, IP:127.0.0.1
		subjectKeyIdentifier = hash
		authorityKeyIdentifier = keyid:always

		[ ext_wronghost ]
		basicConstraints = critical, CA:FALSE
		keyUsage = critical, digitalSignature
		extendedKeyUsage = serverAuth
		subjectAltName = DNS:wrong.example.test
		subjectKeyIdentifier = hash
		authorityKeyIdentifier = keyid:always

		[ ext_client ]
		basicConstraints = critical, CA:FALSE
		keyUsage = critical, digitalSignature
		extendedKeyUsage = clientAuth
		subjectKeyIdentifier = hash
		authorityKeyIdentifier = keyid:always
	EOF
	_web_issue "$dir" root "/O=backstop test/CN=backstop test root" ext_root $((t - 60 * d)) $((t + 3650 * d)) &&
		_web_issue "$dir" good "/O=backstop test/CN=backstop test intermediate" ext_intermediate \
			$((t - 60 * d)) $((t + 1826 * d)) root &&
		_web_issue "$dir" short "/O=backstop test/CN=backstop test short intermediate" ext_intermediate \
			$((t - 60 * d)) $((t + 3 * d + h)) root &&
		_web_issue "$dir" valid "/O=backstop test/CN=localhost" ext_leaf $((t - h)) $((t + 90 * d + h)) good &&
		_web_issue "$dir" expiring "/O=backstop test/CN=localhost" ext_leaf $((t - h)) $((t + 5 * d + h)) good &&
		_web_issue "$dir" expired "/O=backstop test/CN=localhost" ext_leaf $((t - 30 * d)) $((t - d)) good &&
		_web_issue "$dir" wronghost "/O=backstop test/CN=wrong.example.test" ext_wronghost \
			$((t - h)) $((t + 90 * d + h)) good &&
		_web_issue "$dir" shortchain "/O=backstop test/CN=localhost" ext_leaf $((t - h)) $((t + 90 * d + h)) short &&
		_web_issue "$dir" client "/O=backstop test/CN=backstop probe client" ext_client \
			$((t - h)) $((t + 90 * d + h)) root || return 1
	for n in valid expiring expired wronghost; do
		cat "$c/$n.pem" "$c/good.pem" >"$c/$n.chain.pem" || return 1
	done
	cat "$c/shortchain.pem" "$c/short.pem" >"$c/shortchain.chain.pem" || return 1
	# A test may run the client as another user.
	chmod 0644 "$c/client.key" "$c"/*.pem
}

# _web_conf DIR HTTP_PORT VALID EXPIRING EXPIRED WRONGHOST SHORTCHAIN MTLS: write nginx.conf.
_web_conf() {
	local dir=$1 i cert
	local ports=("${@:3}")
	{
		[ "$(id -u)" -eq 0 ] && echo "user root;"
		cat <<-EOF
			worker_processes 1;
			daemon on;
			pid "$dir/nginx.pid";
			lock_file "$dir/nginx.lock";
			error_log "$dir/error.log" notice;

			events {
			    worker_connections 256;
			}

			http {
			    client_body_temp_path "$dir/temp/body";
			    proxy_temp_path "$dir/temp/proxy";
			    fastcgi_temp_path "$dir/temp/fastcgi";
			    uwsgi_temp_path "$dir/temp/uwsgi";
			    scgi_temp_path "$dir/temp/scgi";
			    log_format webfix '\$remote_addr:\$server_port [\$time_local] "\$request" \$status \$body_bytes_sent '
			                      '\$request_time ssl=\$ssl_protocol client="\$ssl_client_s_dn"';
			    access_log "$dir/access.log" webfix;
			    types { }
			    default_type text/plain;
			    server_tokens off;
			    keepalive_timeout 5s;
			    root "$dir/www";

			    server {
			        listen 127.0.0.1:$2;
			        server_name localhost;
			        include "$dir/locations.conf";
			    }
		EOF
		for i in "${!_WEB_TLS[@]}"; do
			cert=${_WEB_TLS[$i]}
			[ "$cert" = mtls ] && cert=valid
			cat <<-EOF

				    # ${_WEB_TLS[$i]}
				    server {
				        listen 127.0.0.1:${ports[$i]} ssl;
				        server_name localhost;
				        ssl_certificate "$dir/certs/$cert.chain.pem";
				        ssl_certificate_key "$dir/certs/leaf.key";
			EOF
			if [ "${_WEB_TLS[$i]}" = mtls ]; then
				cat <<-EOF
					        ssl_verify_client on;
					        ssl_client_certificate "$dir/certs/root.pem";
				EOF
			fi
			cat <<-EOF
				        include "$dir/locations.conf";
				    }
			EOF
		done
		echo "}"
	} >"$dir/nginx.conf"
}

# _web_locations DIR: the endpoints (one file, included by every server).
_web_locations() {
	cat >"$1/locations.conf" <<-EOF
		location = /healthz {
		    default_type application/json;
		    return 200 '{"status":"ok","db":{"up":true},"version":"1.4.2"}';
		}
		location = /wrongbody {
		    default_type application/json;
		    return 200 '{"status":"degraded","db":{"up":false},"version":"1.4.2"}';
		}
		location = /fail {
		    return 500 'internal error';
		}
		location = /slow {
		    default_type application/octet-stream;
		    limit_rate 20k;
		}
		location = /redirect {
		    return 302 /healthz;
		}
		location = /flap {
		    if (-f "$1/down") {
		        return 503 'unavailable';
		    }
		    return 200 'ok';
		}
		location = /auth {
		    if (\$http_authorization != "Bearer s3cret") {
		        add_header WWW-Authenticate 'Bearer realm="backstop-test"' always;
		        return 401 'unauthorized';
		    }
		    return 200 'ok';
		}
		location / {
		    return 404 'not found';
		}
	EOF
}

# _web_is_ours PID DIR: PID is the nginx master started on DIR.
_web_is_ours() {
	local cmd
	[ -n "$1" ] && [ -r "/proc/$1/cmdline" ] || return 1
	cmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null)
	[[ $cmd == *"nginx: master process"*"$2/nginx.conf"* ]]
}

web_start() {
	local dir=${1:?web_start DIR} nginx t attempt i p port ports out
	if ! nginx=$(_web_nginx); then
		echo "nginx is not installed (run scripts/install-deps.sh)" >&2
		return 1
	fi
	if ! command -v openssl >/dev/null; then
		echo "openssl is not installed" >&2
		return 1
	fi
	if ! declare -F bs_free_port >/dev/null; then
		echo "web_start: source tests/integration/lib.sh first (bs_free_port)" >&2
		return 1
	fi
	[ -z "$_WEB_PID" ] || web_stop
	mkdir -p "$dir" || return 1
	dir=$(cd "$dir" && pwd) || return 1
	mkdir -p "$dir"/temp/{body,proxy,fastcgi,uwsgi,scgi} "$dir/www" || return 1
	rm -f "$dir/down"
	_WEB_DIR=$dir
	t=$(date +%s)
	if ! _web_certs "$dir" "$t" >"$dir/certs.log" 2>&1; then
		echo "web_start: openssl could not make the test certificates:" >&2
		cat "$dir/certs.log" >&2
		return 1
	fi
	head -c 49152 /dev/zero | tr '\0' . >"$dir/www/slow"
	_web_locations "$dir"

	for attempt in 1 2 3; do
		# 7 servers and the closed port, all different.
		ports=()
		while [ ${#ports[@]} -lt 8 ]; do
			port=$(bs_free_port) || {
				echo "web_start: no free port" >&2
				return 1
			}
			for p in "${ports[@]}"; do [ "$p" = "$port" ] && continue 2; done
			ports+=("$port")
		done
		_web_conf "$dir" "${ports[@]:0:7}"
		rm -f "$dir/nginx.pid"
		: >"$dir/error.log"
		if "$nginx" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" \
			</dev/null >"$dir/start.log" 2>&1; then
			# nginx has bound every port when it returns; the daemonized
			# master writes the pid file just after.
			for ((i = 0; i < 100; i++)); do
				_WEB_PID=$(cat "$dir/nginx.pid" 2>/dev/null) || true
				[ -n "$_WEB_PID" ] && break
				sleep 0.02
			done
			if [ -z "$_WEB_PID" ]; then
				echo "web_start: nginx wrote no pid file" >&2
				break
			fi
			for ((i = 0; i < 100; i++)); do
				(exec 3<>"/dev/tcp/127.0.0.1/${ports[0]}") 2>/dev/null && break
				sleep 0.02
			done
			export BS_WEB_DIR=$dir BS_WEB_CERTS=$dir/certs BS_WEB_TOKEN=s3cret
			export BS_WEB_PORT_HTTP=${ports[0]} BS_WEB_HTTP=http://127.0.0.1:${ports[0]}
			for i in "${!_WEB_TLS[@]}"; do
				p=${ports[$((i + 1))]}
				export "BS_WEB_PORT_${_WEB_TLS[$i]^^}=$p" "BS_WEB_HTTPS_${_WEB_TLS[$i]^^}=https://localhost:$p"
			done
			export BS_WEB_CLOSED_PORT=${ports[7]}
			export BS_WEB_CA=$dir/certs/root.pem
			export BS_WEB_CLIENT_CERT=$dir/certs/client.pem BS_WEB_CLIENT_KEY=$dir/certs/client.key
			export BS_WEB_VALID_DAYS=90 BS_WEB_EXPIRING_DAYS=5 BS_WEB_SHORTCHAIN_DAYS=3
			export BS_WEB_NOTAFTER_VALID=$((t + 90 * 86400 + 3600))
			export BS_WEB_NOTAFTER_EXPIRING=$((t + 5 * 86400 + 3600))
			export BS_WEB_NOTAFTER_EXPIRED=$((t - 86400))
			export BS_WEB_NOTAFTER_WRONGHOST=$BS_WEB_NOTAFTER_VALID
			export BS_WEB_NOTAFTER_SHORTCHAIN=$BS_WEB_NOTAFTER_VALID
			export BS_WEB_NOTAFTER_SHORT_INTERMEDIATE=$((t + 3 * 86400 + 3600))
			return 0
		fi
		out=$(cat "$dir/start.log" "$dir/error.log" 2>/dev/null) || true
		[[ $out == *"Address already in use"* ]] || break
		echo "web_start: a port was taken (attempt $attempt), trying others" >&2
	done
	echo "nginx did not start (config $dir/nginx.conf):" >&2
	cat "$dir/start.log" "$dir/error.log" >&2 2>/dev/null || true
	web_stop
	return 1
}

web_stop() {
	local pid=$_WEB_PID dir=${_WEB_DIR:-${BS_WEB_DIR:-}} i workers
	if [ -z "$pid" ] && [ -n "$dir" ]; then
		pid=$(cat "$dir/nginx.pid" 2>/dev/null) || true
	fi
	if [ -n "$pid" ] && [ -n "$dir" ] && _web_is_ours "$pid" "$dir"; then
		workers=$(pgrep -P "$pid" 2>/dev/null) || true
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 250; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.02
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "web_stop: nginx ($pid) did not stop in 5 s; killing it" >&2
			# shellcheck disable=SC2086
			kill -KILL "$pid" $workers 2>/dev/null || true
		fi
	fi
	_WEB_PID=
	_WEB_DIR=
	unset "${_WEB_VARS[@]}"
}

web_down() {
	[ -n "${BS_WEB_DIR:-}" ] || {
		echo "web_down: the web fixture is not started" >&2
		return 1
	}
	: >"$BS_WEB_DIR/down"
}

web_up() {
	[ -n "${BS_WEB_DIR:-}" ] || {
		echo "web_up: the web fixture is not started" >&2
		return 1
	}
	rm -f "$BS_WEB_DIR/down"
}
