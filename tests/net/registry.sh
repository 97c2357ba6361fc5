# shellcheck shell=bash
# tests/net/registry.sh - a real OCI registry for the rollback tests:
# Debian's docker-registry (the CNCF distribution registry 2.8, package
# docker-registry, from scripts/install-deps.sh) on loopback, plain HTTP,
# htpasswd (bcrypt) or token authentication, filesystem storage in a fresh
# directory, deletes disabled.  Sourced after tests/integration/lib.sh (for
# bs_free_port; BS_LIB_NOINIT=1 sources it without a cluster).
#
#   reg_start DIR [AUTH]
#                   write the config, the credentials and the password
#                   file into DIR (a fresh directory: it holds everything,
#                   data in DIR/data) and start the registry; exports the
#                   variables below.  Returns 1 (and says why on stderr,
#                   with the registry's log) when it cannot.  Waits until
#                   GET /v2/ answers (401: authentication is on) and the
#                   credentials work.  AUTH:
#                     htpasswd  (the default) Basic authentication against
#                               DIR/htpasswd.
#                     token     Bearer tokens (auth: token: in the config):
#                               the registry sends clients to a token
#                               server (below) on another loopback port,
#                               and trusts the tokens it signs.
#   reg_stop        stop it (and its token server) and wait for them to
#                   exit; unsets the exports.  Safe when not started.
#   reg_start_for_tests DIR AUTH WHAT
#                   reg_start, stopped at exit; when it cannot start: a
#                   failure under CI (install-deps installs the registry),
#                   a skip of WHAT elsewhere, and the script ends there
#   reg_rollback_service W
#                   for the rollback tests: a repository, service 'api'
#                   (registry driver, tag prod) in $CFG and, with a wrong
#                   password, in $BAD; the helpers rb, rb_bad, prod_is,
#                   rollback_tags, current_digest, expect_output_contains
#
# Exports
#   BS_REG_DIR            DIR
#   BS_REG_URL            http://127.0.0.1:PORT
#   BS_REG_HOST           127.0.0.1:PORT (the host part of image references)
#   BS_REG_USER           ci
#   BS_REG_PASSWORD       its password (random per start)
#   BS_REG_PASSWORD_FILE  DIR/password: the password, mode 0600, no newline
#   BS_REG_AUTH           htpasswd or token
#   BS_REG_TOKEN_URL      (token) the realm: http://127.0.0.1:PORT2/token
#   BS_REG_TOKEN_LOG      (token) DIR/token.log: the token server's log, a
#                         line a request ("issued a token to USER for
#                         SCOPE.. (USER-AGENT)", "refused user 'USER'
#                         (USER-AGENT)")
#
# The token server (token mode): /usr/bin/python3's http.server on
# 127.0.0.1, GET /token?service=S&scope=repository:NAME:ACTIONS (scope
# repeatable) with Basic credentials.  Wrong or missing credentials: 401
# (WWW-Authenticate: Basic).  Right ones: 200 {"token", "access_token",
# "expires_in", "issued_at"}, an RS256 JWT whose header carries the signing
# certificate ("x5c", base64 DER; the registry checks it against its
# rootcertbundle, DIR/token.crt) and whose claims are iss, sub (the user),
# aud (the service), exp (5 minutes), nbf, iat, jti and access: the pull
# and push actions each repository scope asked for.  The key and the
# self-signed certificate are made with the openssl CLI at start
# (DIR/token.key, mode 0600); each token is signed by `openssl dgst
# -sha256 -sign`.
#
# Talking to it (with the credentials above, as Basic or through the token
# server; every function returns non-zero and says why on stderr when the
# registry refuses):
#   reg_push_image NAME TAG KIND SEED
#                   push a small image: a config blob and two layer blobs
#                   (POST /v2/NAME/blobs/uploads/ then PUT ?digest=), then
#                   its manifest under TAG (or by digest when TAG is "").
#                   KIND: docker (application/vnd.docker.distribution.
#                   manifest.v2+json) or oci (application/vnd.oci.image.
#                   manifest.v1+json).  SEED makes the content (and so the
#                   digest) different.  Prints the manifest digest.
#   reg_push_index NAME TAG SEED
#                   a multi-arch OCI index (application/vnd.oci.image.
#                   index.v1+json) over two platform manifests, linux/amd64
#                   and linux/arm64 (each pushed by digest first).  Prints
#                   the index digest.
#   reg_get_manifest NAME REF [FILE]
#                   GET /v2/NAME/manifests/REF (tag or digest) with every
#                   manifest media type accepted; prints the digest the
#                   registry reports (Docker-Content-Digest, checked against
#                   the sha256 of the bytes); saves the exact bytes to FILE
#                   and the Content-Type to FILE.type.  Status 3 when there
#                   is no such manifest (404).
#   reg_put_manifest NAME TAG FILE [MEDIATYPE]
#                   PUT FILE's bytes as the manifest under TAG, with
#                   MEDIATYPE (default: the content of FILE.type); prints
#                   the digest.
#   reg_tag NAME REF TAG
#                   point TAG at REF's manifest (GET then PUT of the same
#                   bytes, as `docker tag && docker push` does); prints the
#                   digest.
#   reg_tags NAME   the repository's tags, one a line, sorted.
#
# The registry runs in the foreground of a background job of this shell
# (its pid in _REG_PID; the token server's in _REG_TOKEN_PID); its log is
# DIR/registry.log.  If a chosen port is taken before the registry or the
# token server binds it, reg_start tries new ports (three attempts).  BS_REG_BIN, when set, names the registry binary (else
# /usr/bin/docker-registry).  The htpasswd file is made with `htpasswd -B`
# (apache2-utils) when it is installed, else with Python's crypt module
# (bcrypt, $2b$), which Debian 12's /usr/bin/python3 has.

_REG_PID=
_REG_TOKEN_PID=
_REG_VARS=(BS_REG_DIR BS_REG_URL BS_REG_HOST BS_REG_USER BS_REG_PASSWORD BS_REG_PASSWORD_FILE
	BS_REG_AUTH BS_REG_TOKEN_URL BS_REG_TOKEN_LOG)
_REG_SERVICE=backstop-test-registry
_REG_ISSUER=backstop-test-token-server
_REG_PY=/usr/bin/python3

# The registry client, in Python (standard library only).  argv: command,
# then its arguments; base URL, user and password from the environment.  A
# 401 with a Bearer challenge gets a token from the challenge's realm (for
# pull and push of the repository it names) and one retry with it.
# shellcheck disable=SC2016
_REG_CLIENT='
import base64, hashlib, http.client, json, os, re, sys, urllib.parse

URL = os.environ["BS_REG_URL"]
AUTH = "Basic " + base64.b64encode(
    (os.environ["BS_REG_USER"] + ":" + os.environ["BS_REG_PASSWORD"]).encode()).decode()
BEARER = {}  # the token in use, under "auth"
ACCEPT = ", ".join([
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA = {
    "docker": (DOCKER_MANIFEST, "application/vnd.docker.container.image.v1+json",
               "application/vnd.docker.image.rootfs.diff.tar.gzip"),
    "oci": (OCI_MANIFEST, "application/vnd.oci.image.config.v1+json",
            "application/vnd.oci.image.layer.v1.tar+gzip"),
}


class Fail(Exception):
    pass


def call(url, method, path, body, headers):
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, r.headers, data


def token(challenge):
    # a Bearer challenge: realm="..",service="..",scope=".."
    p = dict(re.findall(r"(\w+)=\"([^\"]*)\"", challenge))
    if "realm" not in p:
        raise Fail("a Bearer challenge without a realm: " + challenge)
    q = [("service", p.get("service", ""))]
    scope = p.get("scope", "")
    if scope.startswith("repository:"):
        q.append(("scope", scope.rpartition(":")[0] + ":pull,push"))
    realm = urllib.parse.urlsplit(p["realm"])
    st, _, body = call(p["realm"], "GET", realm.path + "?" + urllib.parse.urlencode(q), None,
                       {"Authorization": AUTH})
    if st != 200:
        raise Fail("token server %s: HTTP %d %s" % (p["realm"], st, body[:300]))
    j = json.loads(body)
    return j.get("token") or j["access_token"]


def request(method, path, body=None, headers=None, auth=True):
    for attempt in (0, 1):
        h = {"Authorization": BEARER.get("auth", AUTH)} if auth else {}
        h.update(headers or {})
        st, rh, data = call(URL, method, path, body, h)
        ch = rh.get("WWW-Authenticate", "")
        if st != 401 or not auth or attempt or not ch.lower().startswith("bearer "):
            break
        BEARER["auth"] = "Bearer " + token(ch)
    return st, rh, data


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def push_blob(name, data):
    d = sha(data)
    st, _, _ = request("HEAD", "/v2/%s/blobs/%s" % (name, d))
    if st == 200:
        return d
    st, h, body = request("POST", "/v2/%s/blobs/uploads/" % name, b"")
    if st != 202:
        raise Fail("POST blob upload to %s: HTTP %d %s" % (name, st, body[:300]))
    loc = h["Location"]
    u = urllib.parse.urlsplit(loc)
    path = u.path + "?" + (u.query + "&" if u.query else "") + urllib.parse.urlencode({"digest": d})
    st, _, body = request("PUT", path, data, {"Content-Type": "application/octet-stream"})
    if st != 201:
        raise Fail("PUT blob %s to %s: HTTP %d %s" % (d, name, st, body[:300]))
    return d


def put_manifest(name, ref, data, mtype):
    st, h, body = request("PUT", "/v2/%s/manifests/%s" % (name, ref), data, {"Content-Type": mtype})
    if st != 201:
        raise Fail("PUT manifest %s:%s: HTTP %d %s" % (name, ref, st, body[:300]))
    d = h.get("Docker-Content-Digest")
    if d != sha(data):
        raise Fail("PUT manifest %s:%s: the registry says %s, the bytes are %s" % (name, ref, d, sha(data)))
    return d


def image(name, ref, kind, seed, platform=None):
    mtype, ctype, ltype = MEDIA[kind]
    cfg = {"architecture": (platform or {}).get("architecture", "amd64"), "os": "linux",
           "config": {"Env": ["SEED=" + seed]},
           "rootfs": {"type": "layers", "diff_ids": []}}
    layers = []
    for i in (1, 2):
        data = ("layer %d of %s %s\n" % (i, seed, json.dumps(platform or {}))).encode()
        layers.append({"mediaType": ltype, "size": len(data), "digest": push_blob(name, data)})
        cfg["rootfs"]["diff_ids"].append(sha(data))
    cb = json.dumps(cfg, sort_keys=True).encode()
    m = {"schemaVersion": 2, "mediaType": mtype,
         "config": {"mediaType": ctype, "size": len(cb), "digest": push_blob(name, cb)},
         "layers": layers}
    mb = json.dumps(m, indent=3).encode() + b"\n"
    return put_manifest(name, ref or sha(mb), mb, mtype), len(mb)


def index(name, tag, seed):
    entries = []
    for arch in ("amd64", "arm64"):
        plat = {"architecture": arch, "os": "linux"}
        d, n = image(name, "", "oci", seed, plat)
        entries.append({"mediaType": OCI_MANIFEST, "size": n, "digest": d, "platform": plat})
    ib = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}, indent=2).encode()
    return put_manifest(name, tag or sha(ib), ib, OCI_INDEX)


def get_manifest(name, ref):
    st, h, body = request("GET", "/v2/%s/manifests/%s" % (name, ref), None, {"Accept": ACCEPT})
    if st == 404:
        sys.stderr.write("no manifest %s in %s\n" % (ref, name))
        sys.exit(3)
    if st != 200:
        raise Fail("GET manifest %s:%s: HTTP %d %s" % (name, ref, st, body[:300]))
    d = h.get("Docker-Content-Digest")
    if d != sha(body):
        raise Fail("GET manifest %s:%s: the registry says %s, the bytes are %s" % (name, ref, d, sha(body)))
    return d, body, h.get("Content-Type", "")


def main(argv):
    cmd = argv[0]
    if cmd == "push-image":
        print(image(argv[1], argv[2], argv[3], argv[4])[0])
    elif cmd == "push-index":
        print(index(argv[1], argv[2], argv[3]))
    elif cmd == "get":
        d, body, ctype = get_manifest(argv[1], argv[2])
        if len(argv) > 3:
            with open(argv[3], "wb") as f:
                f.write(body)
            with open(argv[3] + ".type", "w") as f:
                f.write(ctype)
        print(d)
    elif cmd == "put":
        with open(argv[3], "rb") as f:
            body = f.read()
        mtype = argv[4] if len(argv) > 4 and argv[4] else open(argv[3] + ".type").read().strip()
        print(put_manifest(argv[1], argv[2], body, mtype))
    elif cmd == "tag":
        _, body, ctype = get_manifest(argv[1], argv[2])
        print(put_manifest(argv[1], argv[3], body, ctype))
    elif cmd == "tags":
        st, _, body = request("GET", "/v2/%s/tags/list" % argv[1])
        if st != 200:
            raise Fail("GET tags of %s: HTTP %d %s" % (argv[1], st, body[:300]))
        for t in sorted(json.loads(body).get("tags") or []):
            print(t)
    elif cmd == "ping":
        # authentication is on (401 without credentials, with the
        # challenge of the mode), and ours work
        st, h, _ = request("GET", "/v2/", auth=False)
        if st != 401:
            raise Fail("GET /v2/ without credentials: HTTP %d, expected 401" % st)
        want = "bearer " if os.environ.get("BS_REG_AUTH") == "token" else "basic "
        if not h.get("WWW-Authenticate", "").lower().startswith(want):
            raise Fail("GET /v2/ without credentials: challenge %r, expected %s"
                       % (h.get("WWW-Authenticate"), want.strip()))
        st, _, _ = request("GET", "/v2/")
        if st != 200:
            raise Fail("GET /v2/ as %s: HTTP %d" % (os.environ["BS_REG_USER"], st))
    else:
        raise Fail("unknown command " + cmd)


try:
    main(sys.argv[1:])
except Fail as e:
    sys.stderr.write("registry.sh: %s\n" % e)
    sys.exit(1)
except (OSError, http.client.HTTPException) as e:
    sys.stderr.write("registry.sh: %s: %s\n" % (URL, e))
    sys.exit(1)
'

_reg_client() {
	if [ -z "${BS_REG_URL:-}" ]; then
		echo "registry.sh: the registry is not started (reg_start)" >&2
		return 1
	fi
	"$_REG_PY" -c "$_REG_CLIENT" "$@"
}

reg_push_image() { _reg_client push-image "$1" "$2" "$3" "$4"; }
reg_push_index() { _reg_client push-index "$1" "$2" "$3"; }
reg_get_manifest() { _reg_client get "$@"; }
reg_put_manifest() { _reg_client put "$1" "$2" "$3" "${4:-}"; }
reg_tag() { _reg_client tag "$1" "$2" "$3"; }
reg_tags() { _reg_client tags "$1"; }

# The token server, in Python (standard library and the openssl CLI).
# argv: DIR PORT; the user, service and issuer from the environment, the
# password from DIR/password, the key and certificate DIR/token.{key,crt}.
# Logs to stderr (DIR/token.log).  Exits 1 when it cannot bind.
# shellcheck disable=SC2016
_REG_TOKEN_SERVER='
import base64, hmac, http.server, json, os, ssl, subprocess, sys, time, uuid, urllib.parse

DIR, PORT = sys.argv[1], int(sys.argv[2])
USER = os.environ["REG_USER"].encode()
SERVICE = os.environ["REG_SERVICE"]
ISSUER = os.environ["REG_ISSUER"]
with open(DIR + "/password", "rb") as f:
    PASSWORD = f.read()
with open(DIR + "/token.crt") as f:
    CERT = ssl.PEM_cert_to_DER_cert(f.read())
HEADER = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(CERT).decode()]}
LIFETIME = 300


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def sign(data):
    p = subprocess.run(["openssl", "dgst", "-sha256", "-sign", DIR + "/token.key"],
                       input=data, capture_output=True, check=False)
    if p.returncode or not p.stdout:
        raise RuntimeError("openssl dgst -sign: " + p.stderr.decode(errors="replace"))
    return p.stdout


def access(scopes):
    # "repository:NAME:pull,push" (space-separated in one parameter, or
    # repeated): the pull and push actions asked for, per repository
    out = []
    for one in " ".join(scopes).split():
        typ, _, rest = one.partition(":")
        name, _, actions = rest.rpartition(":")
        if typ == "repository" and name:
            acts = [a for a in ("pull", "push") if a in actions.split(",")]
            out.append({"type": "repository", "name": name, "actions": acts})
    return out


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def note(self, msg):
        sys.stderr.write("%s (%s)\n" % (msg, self.headers.get("User-Agent", "-")))
        sys.stderr.flush()

    def answer(self, status, obj, extra=None):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        if u.path != "/token":
            self.answer(404, {"errors": [{"code": "NOT_FOUND", "message": u.path}]})
            return
        q = urllib.parse.parse_qs(u.query)
        user, pw = b"", b""
        auth = self.headers.get("Authorization", "")
        if auth[:6].lower() == "basic ":
            try:
                user, _, pw = base64.b64decode(auth[6:], validate=True).partition(b":")
            except ValueError:
                pass
        if not (hmac.compare_digest(user, USER) and hmac.compare_digest(pw, PASSWORD)):
            self.note("refused user %r" % user.decode(errors="replace"))
            self.answer(401, {"errors": [{"code": "UNAUTHORIZED", "message": "wrong user or password"}]},
                        {"WWW-Authenticate": "Basic realm=\"backstop-test-token\""})
            return
        if q.get("service") != [SERVICE]:
            self.note("refused service %r" % q.get("service"))
            self.answer(400, {"errors": [{"code": "DENIED", "message": "unknown service"}]})
            return
        now = int(time.time())
        claims = {"iss": ISSUER, "sub": USER.decode(), "aud": SERVICE, "exp": now + LIFETIME,
                  "nbf": now - 5, "iat": now, "jti": uuid.uuid4().hex,
                  "access": access(q.get("scope", []))}
        head = b64url(json.dumps(HEADER).encode()) + "." + b64url(json.dumps(claims).encode())
        try:
            tok = head + "." + b64url(sign(head.encode()))
        except RuntimeError as e:
            self.note(str(e).strip())
            self.answer(500, {"errors": [{"code": "UNKNOWN", "message": "cannot sign"}]})
            return
        self.note("issued a token to %s for %s" % (USER.decode(), " ".join(
            "%s:%s:%s" % (a["type"], a["name"], ",".join(a["actions"])) for a in claims["access"]) or "-"))
        self.answer(200, {"token": tok, "access_token": tok, "expires_in": LIFETIME,
                          "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))})


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


try:
    srv = Server(("127.0.0.1", PORT), Handler)
except OSError as e:
    sys.stderr.write("token server: 127.0.0.1:%d: %s\n" % (PORT, e))
    sys.exit(1)
sys.stderr.write("token server listening on 127.0.0.1:%d\n" % PORT)
sys.stderr.flush()
srv.serve_forever()
'

# _reg_token_files DIR: the token server's key and self-signed certificate.
_reg_token_files() {
	(umask 077 && openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 \
		-subj "/CN=$_REG_ISSUER" -keyout "$1/token.key" -out "$1/token.crt") >"$1/openssl.log" 2>&1
}

# _reg_htpasswd FILE USER PASSWORD: a bcrypt htpasswd line.
_reg_htpasswd() {
	if command -v htpasswd >/dev/null 2>&1; then
		htpasswd -B -b -c "$1" "$2" "$3" >/dev/null 2>&1 && return 0
	fi
	# shellcheck disable=SC2016
	REG_USER=$2 REG_PASSWORD=$3 "$_REG_PY" -W ignore -c '
import crypt, os, sys
h = crypt.crypt(os.environ["REG_PASSWORD"], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 5))
if not h or not h.startswith("$2"):
    sys.exit("python3 crypt cannot make bcrypt hashes; install apache2-utils (htpasswd)")
print(os.environ["REG_USER"] + ":" + h)
' >"$1"
}

# _reg_config DIR PORT AUTH [TOKEN_PORT]: the registry's config.yml.
_reg_config() {
	cat >"$1/config.yml" <<-EOF
		version: 0.1
		log:
		  level: info
		  formatter: text
		  accesslog:
		    disabled: false
		storage:
		  filesystem:
		    rootdirectory: $1/data
		  delete:
		    enabled: false
		  maintenance:
		    uploadpurging:
		      enabled: false
		http:
		  addr: 127.0.0.1:$2
		  secret: backstop-test-$RANDOM$RANDOM
		  headers:
		    X-Content-Type-Options: [nosniff]
		auth:
	EOF
	if [ "$3" = token ]; then
		cat >>"$1/config.yml" <<-EOF
			  token:
			    realm: http://127.0.0.1:$4/token
			    service: $_REG_SERVICE
			    issuer: $_REG_ISSUER
			    rootcertbundle: $1/token.crt
		EOF
	else
		cat >>"$1/config.yml" <<-EOF
			  htpasswd:
			    realm: backstop-test
			    path: $1/htpasswd
		EOF
	fi
}

# _reg_token_start DIR PORT: start the token server; 0 once it listens.
_reg_token_start() {
	local i
	REG_USER=$BS_REG_USER REG_SERVICE=$_REG_SERVICE REG_ISSUER=$_REG_ISSUER \
		"$_REG_PY" -c "$_REG_TOKEN_SERVER" "$1" "$2" >"$1/token.log" 2>&1 &
	_REG_TOKEN_PID=$!
	for ((i = 0; i < 100; i++)); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; then
			kill -0 "$_REG_TOKEN_PID" 2>/dev/null && return 0
		fi
		kill -0 "$_REG_TOKEN_PID" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}

reg_start() {
	local dir=${1:?reg_start DIR [AUTH]} auth=${2:-htpasswd} bin=${BS_REG_BIN:-/usr/bin/docker-registry}
	local i port tport='' pw
	case $auth in
	htpasswd | token) ;;
	*)
		echo "reg_start: unknown authentication '$auth' (htpasswd or token)" >&2
		return 1
		;;
	esac
	if [ ! -x "$bin" ]; then
		echo "docker-registry is not installed (run scripts/install-deps.sh)" >&2
		return 1
	fi
	if [ ! -x "$_REG_PY" ]; then
		echo "$_REG_PY is not installed" >&2
		return 1
	fi
	if ! declare -F bs_free_port >/dev/null; then
		echo "reg_start: source tests/integration/lib.sh first (bs_free_port)" >&2
		return 1
	fi
	[ -z "$_REG_PID$_REG_TOKEN_PID" ] || reg_stop
	mkdir -p "$dir/data" || return 1
	dir=$(cd "$dir" && pwd) || return 1
	pw=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
	(umask 077 && printf '%s' "$pw" >"$dir/password") || return 1
	if [ "$auth" = token ]; then
		if ! _reg_token_files "$dir"; then
			echo "reg_start: cannot make the token server's key and certificate: $(tail -3 "$dir/openssl.log")" >&2
			return 1
		fi
	elif ! _reg_htpasswd "$dir/htpasswd" ci "$pw" 2>"$dir/htpasswd.err"; then
		echo "reg_start: cannot make the htpasswd file: $(cat "$dir/htpasswd.err")" >&2
		return 1
	fi
	for _ in 1 2 3; do
		port=$(bs_free_port) || return 1
		export BS_REG_DIR=$dir BS_REG_URL="http://127.0.0.1:$port" BS_REG_HOST="127.0.0.1:$port"
		export BS_REG_USER=ci BS_REG_PASSWORD=$pw BS_REG_PASSWORD_FILE=$dir/password BS_REG_AUTH=$auth
		if [ "$auth" = token ]; then
			tport=$(bs_free_port) || return 1
			[ "$tport" != "$port" ] || continue
			export BS_REG_TOKEN_URL="http://127.0.0.1:$tport/token" BS_REG_TOKEN_LOG=$dir/token.log
			if ! _reg_token_start "$dir" "$tport"; then
				reg_stop
				grep -q 'already in use' "$dir/token.log" && continue
				echo "the token server did not start on 127.0.0.1:$tport:" >&2
				tail -n 20 "$dir/token.log" >&2
				return 1
			fi
		fi
		_reg_config "$dir" "$port" "$auth" "$tport"
		"$bin" serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
		_REG_PID=$!
		for ((i = 0; i < 100; i++)); do
			if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
				_reg_client ping 2>"$dir/ping.err" && return 0
			fi
			kill -0 "$_REG_PID" 2>/dev/null || break
			sleep 0.1
		done
		if ! grep -q 'address already in use' "$dir/registry.log"; then
			break
		fi
		reg_stop
	done
	echo "docker-registry did not start on 127.0.0.1:$port:" >&2
	cat "$dir/ping.err" >&2 2>/dev/null
	tail -n 20 "$dir/registry.log" >&2
	[ "$auth" != token ] || tail -n 5 "$dir/token.log" >&2
	reg_stop
	return 1
}

reg_stop() {
	local v p
	for p in "$_REG_PID" "$_REG_TOKEN_PID"; do
		[ -n "$p" ] || continue
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	_REG_PID=
	_REG_TOKEN_PID=
	for v in "${_REG_VARS[@]}"; do unset "$v"; done
}

reg_start_for_tests() {
	if reg_start "$1" "$2" >"$1.out" 2>&1; then
		bs_on_exit reg_stop
		return 0
	fi
	if [ "${CI:-}" = true ]; then
		t_fail "the registry ($2) could not start: $(tail -3 "$1.out" | tr '\n' ' ')"
	else
		skip "$3" "the registry ($2) could not start: $(tail -3 "$1.out" | tr '\n' ' ')"
	fi
	done_testing
}

# ---- the rollback tests' service (rollback_registry*.sh) -----------------------

reg_rollback_service() {
	W=$1
	mkdir -p "$W/m"
	REPO=$BS_TMP/repo
	CFG=$W/backstop.yaml
	BAD=$W/bad.yaml
	IMG=$BS_REG_HOST/acme/api
	NAME=acme/api
	bs repo init --repo "$REPO" -q || return 1
	_reg_service_config "$CFG" "$BS_REG_PASSWORD_FILE"
	(umask 077 && printf 'not-the-password' >"$W/wrong-password")
	_reg_service_config "$BAD" "$W/wrong-password"
}

# _reg_service_config FILE PASSWORD_FILE
_reg_service_config() {
	cat >"$1" <<-EOF
		repository: $REPO
		services:
		  api:
		    image: $IMG
		    driver: registry
		    registry:
		      url: $BS_REG_URL
		      username: $BS_REG_USER
		      password_file: $2
		      tag: prod
	EOF
}

rb() { bs rollback "$@" --config "$CFG"; }
rb_bad() { bs rollback "$@" --config "$BAD"; }

# prod_is DIGEST DESC: the registry's prod tag points at DIGEST
prod_is() {
	local got
	got=$(reg_get_manifest "$NAME" prod 2>&1)
	check_eq "$2" "$got" "$1"
}

# rollback_tags: the prod-rollback-* tags, one a line
rollback_tags() { reg_tags "$NAME" | grep '^prod-rollback-' || true; }

# current_digest: the digest of the release the ledger calls current
current_digest() {
	bs rollback list api --json --config "$CFG" >"$W/list.json" 2>/dev/null || return 1
	jq -r '.releases[] | select(.current == true) | .digest' "$W/list.json"
}

# expect_output_contains TEXT: stdout or stderr of the last run_cmd has TEXT
expect_output_contains() {
	if grep -qiF -e "$1" "$OUT_FILE" "$ERR_FILE"; then
		_bs_assert 1 "output contains '$1'"
	else
		_bs_assert 0 "output contains '$1'" "$(_bs_cmd_context)"
	fi
}
