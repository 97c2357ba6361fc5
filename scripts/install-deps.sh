#!/usr/bin/env bash
# install-deps.sh - install what backstop needs to build and to run its tests
# on Debian 12.  Idempotent: when every package is already installed it only
# asks dpkg and returns (well under a second).  Never prompts.
#
#   bash scripts/install-deps.sh            install what is missing
#   bash scripts/install-deps.sh --check    exit 1 (and list them) if any are missing
#
# The Debian postgresql-15 package may create and start its default cluster
# on port 5432; the tests never use it (tests/run.sh starts its own).
set -euo pipefail

PKGS=(
	# build
	build-essential pkg-config
	libpq-dev libarchive-dev libzstd-dev libssl-dev libcurl4-openssl-dev
	libyaml-dev libjansson-dev libxml2-dev
	# PostgreSQL 15: server for the test cluster (contrib modules such as
	# citext ship in this package on Debian), client tools (pg_dump,
	# pg_restore, psql) that snap and restore run
	postgresql-15 postgresql-client-15
	# archive escape hatch and age interop in the tests
	zstd age tar
	# test harness: runuser/mount (util-linux), useradd (passwd), ps/pkill-free
	# process checks (procps), timeout/mktemp (coreutils), JSON in tests (jq,
	# python3)
	util-linux passwd procps coreutils findutils grep sed jq python3 time
	# fuzzing (tests/fuzz, make fuzz): clang and its libFuzzer runtime
	clang libclang-rt-14-dev
	# a German locale for tests/integration/localized.sh (a server whose
	# messages are translated: errors are classified by SQLSTATE)
	locales
	# the probe tests' web server (tests/net/webfix.sh: nginx on loopback
	# with test certificates)
	nginx-light
	# the probe tests parse Prometheus text output with an independent
	# parser; run it as /usr/bin/python3 (python3 on PATH may be a pyenv
	# one without Debian's packages)
	python3-prometheus-client
	# gate sign-offs: `backstop gate approve` signs with ssh-keygen -Y sign,
	# and the gate tests check records back with ssh-keygen -Y verify
	openssh-client
	# the rollback tests' OCI registry (tests/net/registry.sh: the CNCF
	# distribution registry on loopback) and its bcrypt htpasswd file
	# (htpasswd -B)
	docker-registry apache2-utils
	# man pages: docs/man/*.scd -> build/man/* (make man, tests/integration/manpages.sh)
	scdoc
	debhelper dpkg-dev man-db # packaging: dpkg-buildpackage, dh (debian/); man -l (tests/integration/packaging.sh)
	python3-yaml # contrib's YAML files parsed by /usr/bin/python3 (tests/integration/contrib.sh)
)
# Node.js and npm run the S3 and Azure test servers (s3rver, Azurite; tests/node/package.json,
# installed into tests/node/node_modules by npm ci from the lock file).
# A machine with Node.js from elsewhere (NodeSource bundles npm) keeps it.
command -v npm >/dev/null 2>&1 || PKGS+=(nodejs npm)

# npm_deps: the test servers from the npm registry, pinned by
# tests/node/package-lock.json; a no-op when they are installed already.
npm_deps() {
	local dir
	dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/node"
	[ -x "$dir/node_modules/.bin/s3rver" ] && [ -x "$dir/node_modules/.bin/azurite-blob" ] &&
		[ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ] && return 0
	echo "install-deps: installing the test servers (npm ci in tests/node)" >&2
	(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error </dev/null) || {
		echo "install-deps: npm ci failed in $dir" >&2
		return 1
	}
}

# promtool_deps: promtool, with which the metrics tests check the alert rules
# (promtool check rules, promtool test rules) and every .prom file (promtool
# check metrics).  Debian has it only in the prometheus package, which would
# also install and start a Prometheus server: so the package is fetched with
# apt-get download, unpacked with dpkg-deb, and only promtool is kept, as
# tests/.cache/prometheus/promtool (gitignored).  A no-op once it is there
# (or when a promtool is on PATH).  A failure is only a warning: the tests
# then skip their promtool checks and say why.
promtool_deps() {
	local cache tmp
	cache="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/.cache/prometheus"
	[ -x "$cache/promtool" ] && return 0
	command -v promtool >/dev/null 2>&1 && return 0
	echo "install-deps: fetching promtool (apt-get download prometheus, unpacked into $cache)" >&2
	if mkdir -p "$cache" && tmp=$(mktemp -d "$cache/.fetch.XXXXXX") &&
		(cd "$tmp" && apt-get download -q prometheus </dev/null >"$tmp/apt.log" 2>&1) &&
		dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/root" && [ -x "$tmp/root/usr/bin/promtool" ] &&
		mv "$tmp/root/usr/bin/promtool" "$cache/promtool"; then
		rm -rf "$tmp"
		return 0
	fi
	echo "install-deps: warning: could not fetch promtool; the tests will skip their promtool checks" >&2
	[ -n "${tmp:-}" ] && [ -f "$tmp/apt.log" ] && sed 's/^/install-deps:   /' "$tmp/apt.log" >&2
	echo "install-deps: hint: a stale package list is the usual cause: apt-get update" >&2
	[ -n "${tmp:-}" ] && rm -rf "$tmp"
	return 0
}
LOCALE=de_DE.UTF-8

have_locale() { locale -a 2>/dev/null | grep -qix 'de_DE\.utf-\?8'; }

missing=()
for p in "${PKGS[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ] && have_locale; then
	[ "${1:-}" = --check ] && exit 0
	promtool_deps
	npm_deps
	exit
fi

if [ "${1:-}" = --check ]; then
	[ ${#missing[@]} -eq 0 ] || echo "missing packages: ${missing[*]}" >&2
	have_locale || echo "missing locale: $LOCALE" >&2
	exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=(sudo -n)
	else
		echo "install-deps: not root and sudo is not available; install: ${missing[*]} (and locale $LOCALE)" >&2
		exit 1
	fi
fi

gen_locale() {
	have_locale && return 0
	echo "install-deps: generating locale $LOCALE" >&2
	if grep -q "^# *$LOCALE UTF-8" /etc/locale.gen 2>/dev/null; then
		"${SUDO[@]}" sed -i "s/^# *\($LOCALE UTF-8\)/\1/" /etc/locale.gen
	elif ! grep -q "^$LOCALE UTF-8" /etc/locale.gen 2>/dev/null; then
		echo "$LOCALE UTF-8" | "${SUDO[@]}" tee -a /etc/locale.gen >/dev/null
	fi
	"${SUDO[@]}" locale-gen >/dev/null
}

if [ ${#missing[@]} -eq 0 ]; then
	gen_locale
	promtool_deps
	npm_deps
	exit
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-y -q --no-install-recommends -o Dpkg::Options::=--force-confdef
	-o Dpkg::Options::=--force-confold)
# A stale package list is the usual reason an install fails: update first,
# and retry once (mirrors do hiccup).
for attempt in 1 2; do
	if "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null &&
		"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
			apt-get install "${APT_OPTS[@]}" "${missing[@]}" </dev/null; then
		gen_locale
		promtool_deps
		npm_deps
		exit
	fi
	echo "install-deps: apt-get failed (attempt $attempt)" >&2
	sleep 5
done
exit 1
