#!/usr/bin/env bash
# packaging.sh - backstop as a user or a distribution installs it:
# `make install` with PREFIX and DESTDIR (and BINDIR/MANDIR), `make
# uninstall`, the `make dist` tarball, and the Debian package built from that
# tarball and installed into a fresh root with dpkg.
#
# make dist archives HEAD, so that the tree as it is now is what gets tested
# (uncommitted changes included, as before a commit) the dist tests copy the
# work tree's files (tracked, and untracked but not ignored) into a scratch
# repository, commit them there and run make dist in it.  The tarball is
# compiled once: by dpkg-buildpackage -b (make all man underneath), or by
# make -j2 all man when debhelper is not installed (then the package tests
# skip, saying so); "the tarball builds" and the package tests share that
# build.  The cluster the harness starts is not used.
. "$(dirname "$0")/lib.sh"

VERSION=$(cat "$BS_ROOT/VERSION")
# A make started by this script must not join the jobserver of a make that
# started the suite (make check).
unset MAKEFLAGS MFLAGS MAKELEVEL
EMPTY_PATH=$BS_TMP/empty-path # a PATH with no backstop anywhere on it
mkdir -p "$EMPTY_PATH"

# What the source tree says install must put below PREFIX, one relative path
# a line, sorted: the commands, the man pages, policies, hooks, contrib,
# docs and (when they exist) the shell completions.
expected_files() {
	local prefix=$1 f p
	(
		cd "$BS_ROOT" || exit 1
		echo "$prefix/bin/backstop"
		for f in cmd/*.c; do
			[ "$f" = cmd/backstop.c ] || echo "$prefix/bin/backstop-$(basename "$f" .c)"
		done
		for f in docs/man/*.scd; do
			[ -e "$f" ] || continue
			p=$(basename "$f" .scd)
			echo "$prefix/share/man/man${p##*.}/$p"
		done
		find policies contrib -type f | sed "s|^|$prefix/share/backstop/|"
		find hooks -maxdepth 1 -type f | sed "s|^|$prefix/share/backstop/|"
		echo "$prefix/share/doc/backstop/README.md"
		for f in docs/*.md; do echo "$prefix/share/doc/backstop/$(basename "$f")"; done
		if [ -f contrib/completion/backstop.bash ]; then
			echo "$prefix/share/bash-completion/completions/backstop"
			for f in cmd/*.c; do # symlinks, so bash-completion loads it for each backstop-<cmd>
				[ "$f" = cmd/backstop.c ] || echo "$prefix/share/bash-completion/completions/backstop-$(basename "$f" .c)"
			done
		fi
		[ ! -f contrib/completion/_backstop ] || echo "$prefix/share/zsh/vendor-completions/_backstop"
	) | sed 's|^/||' | sort
}

# Every file and symlink below DIR, relative, sorted.
files_below() { (cd "$1" && find . \( -type f -o -type l \) | sed 's|^\./||' | sort); }

# The commands of this tree: backstop and backstop-<cmd> for cmd/<cmd>.c.
COMMANDS=(backstop)
for f in "$BS_ROOT"/cmd/*.c; do
	[ "$(basename "$f")" = backstop.c ] || COMMANDS+=("backstop-$(basename "$f" .c)")
done

# check_versions BINDIR: every command's --version and -V print VERSION, and
# the dispatcher passes --version on to a command.
check_versions() {
	local bin=$1 c opt got
	for c in "${COMMANDS[@]}"; do
		for opt in --version -V; do
			run_cmd env PATH="$EMPTY_PATH" "$bin/$c" "$opt"
			got=${OUT##* }
			if [ "$RC" != 0 ] || [ "${OUT%% *}" != backstop ] || [ "$got" != "$VERSION" ]; then
				t_fail "$c $opt printed '$OUT' (exit $RC); want 'backstop ... $VERSION'" "$(_bs_cmd_context)"
			fi
		done
	done
	run_cmd env PATH="$EMPTY_PATH" "$bin/backstop" snap --version
	expect_exit 0
	check_eq "backstop snap --version through the dispatcher" "$OUT" "backstop snap $VERSION"
}

# ------------------------------------------------------------ make install

D=$BS_TMP/destdir
P=$D/usr/local
mkdir -p "$D"
chmod 0755 "$D"

t_install() {
	local want
	run_cmd make -C "$BS_ROOT" -j2 install DESTDIR="$D" PREFIX=/usr/local BUILD="$BUILD"
	expect_exit 0 || return
	want=$(expected_files /usr/local)
	if [ "$(files_below "$D")" != "$want" ]; then
		t_fail "the files below DESTDIR are not the expected ones (< installed, > expected)" \
			"$(diff <(files_below "$D") <(echo "$want") | head -20)"
	fi
	check "hooks are executable (0755)" test "$(stat -c %a "$P/share/backstop/hooks/notify-failure")" = 755
	check "policies are 0644" test "$(stat -c %a "$P/share/backstop/policies/retention.yaml")" = 644
	check "go-live.d/ is installed beside go-live.yaml (its signers_file paths are relative)" \
		test -f "$P/share/backstop/policies/go-live.d/security.allowed_signers"
	# Everything install needs was built before it: a second install
	# (the one a user runs with sudo after make all man) compiles nothing.
	run_cmd make -C "$BS_ROOT" -n install DESTDIR="$D" PREFIX=/usr/local BUILD="$BUILD"
	expect_exit 0
	if grep -qE '(^| )-c [^ ]+\.c( |$)|scdoc' "$OUT_FILE"; then
		t_fail "make install after make install would build again" "$(grep -E ' -c |scdoc' "$OUT_FILE" | head -5)"
	fi
}
run_test "make install DESTDIR=.. PREFIX=/usr/local installs exactly the expected files and builds nothing itself" t_install

t_installed_help() {
	local c
	[ -x "$P/bin/backstop" ] || {
		t_fail "$P/bin/backstop is not installed (see the install test)"
		return
	}
	run_cmd env PATH="$EMPTY_PATH" "$P/bin/backstop" --help
	expect_exit 0
	expect_stdout_contains "usage: backstop <command>"
	for c in "${COMMANDS[@]:1}"; do
		expect_stdout_matches "^  ${c#backstop-} " "--help lists ${c#backstop-}"
	done
}
run_test "the installed backstop --help exits 0 and lists every command" t_installed_help

t_installed_dispatch() {
	[ -x "$P/bin/backstop-snap" ] || {
		t_fail "$P/bin/backstop-snap is not installed (see the install test)"
		return
	}
	# No backstop on PATH at all: the command must be the one beside the
	# dispatcher.
	run_cmd env PATH="$EMPTY_PATH" "$P/bin/backstop" snap --help
	expect_exit 0
	expect_stdout_contains "usage: backstop snap"
	# Without it there, the dispatcher must not find another (the build tree's).
	mv "$P/bin/backstop-snap" "$BS_TMP/backstop-snap.aside"
	run_cmd env PATH="$EMPTY_PATH" "$P/bin/backstop" snap --help
	mv "$BS_TMP/backstop-snap.aside" "$P/bin/backstop-snap"
	expect_exit 3
	expect_stderr_contains "unable to run 'backstop-snap'"
}
run_test "the installed dispatcher runs the backstop-<cmd> beside itself, with no backstop on PATH" t_installed_dispatch

t_installed_versions() {
	[ -x "$P/bin/backstop" ] || {
		t_fail "not installed (see the install test)"
		return
	}
	check_versions "$P/bin"
}
run_test "every installed command's --version and -V print the VERSION file's $VERSION" t_installed_versions

t_installed_man() {
	local f p s n1=0 n5=0
	for f in "$BS_ROOT"/docs/man/*.scd; do
		[ -e "$f" ] || continue
		p=$(basename "$f" .scd)
		s=${p##*.}
		case $s in 1) n1=$((n1 + 1)) ;; 5) n5=$((n5 + 1)) ;; esac
		check "man page $p installed in man$s" test -f "$P/share/man/man$s/$p" || continue
		run_cmd env MANPAGER=cat MANWIDTH=80 man -l "$P/share/man/man$s/$p"
		expect_exit 0 "man -l reads $p"
		expect_stdout_contains "NAME" "$p has a NAME section"
	done
	[ "$n1" -gt 0 ] || t_fail "no section 1 page in docs/man (backstop.1.scd, backstop-<cmd>.1.scd)"
	[ "$n5" -gt 0 ] || t_fail "no section 5 page in docs/man (the configuration and policy files)"
}
run_test "man pages for sections 1 and 5 are installed under share/man and man -l reads them" t_installed_man

t_dir_overrides() {
	local d2=$BS_TMP/destdir2
	mkdir -p "$d2"
	run_cmd make -C "$BS_ROOT" install DESTDIR="$d2" PREFIX=/usr BINDIR=/opt/backstop/bin \
		MANDIR=/opt/backstop/man BUILD="$BUILD"
	expect_exit 0 || return
	check "BINDIR holds the commands" test -x "$d2/opt/backstop/bin/backstop-snap"
	check "nothing in PREFIX/bin" test ! -e "$d2/usr/bin"
	[ -z "$(ls "$BS_ROOT"/docs/man/*.1.scd 2>/dev/null)" ] ||
		check "MANDIR holds the man pages" test -n "$(ls "$d2/opt/backstop/man/man1")"
	check "the rest stays below PREFIX" test -f "$d2/usr/share/backstop/policies/retention.yaml"
	check "contrib's systemd unit runs the command from BINDIR" \
		grep -qx 'ExecStart=/opt/backstop/bin/backstop snap --prune --quiet' \
		"$d2/usr/share/backstop/contrib/systemd/backstop-snap.service"
	run_cmd make -C "$BS_ROOT" uninstall DESTDIR="$d2" PREFIX=/usr BINDIR=/opt/backstop/bin \
		MANDIR=/opt/backstop/man BUILD="$BUILD"
	expect_exit 0
	check_eq "uninstall with the same overrides leaves no file" "$(files_below "$d2")" ""
}
run_test "BINDIR and MANDIR override PREFIX's layout; contrib's units name BINDIR; uninstall follows" t_dir_overrides

t_uninstall() {
	[ -d "$P" ] || {
		t_fail "nothing installed (see the install test)"
		return
	}
	run_cmd make -C "$BS_ROOT" uninstall DESTDIR="$D" PREFIX=/usr/local BUILD="$BUILD"
	expect_exit 0
	check_eq "no file is left below DESTDIR" "$(files_below "$D")" ""
	check "share/backstop is gone" test ! -e "$P/share/backstop"
	check "share/doc/backstop is gone" test ! -e "$P/share/doc/backstop"
}
run_test "make uninstall with the same DESTDIR and PREFIX removes everything install put there" t_uninstall

# --------------------------------------------------------------- make dist

SRC=$BS_TMP/src # the scratch repository: the work tree, committed
TARBALL=$SRC/build-dist/backstop-$VERSION.tar.gz
TOP=backstop-$VERSION
UNPACK=$BS_TMP/unpack # the tarball, unpacked and built here

t_changelog() {
	local v
	v=$(sed -n '1s/^backstop (\([^)]*\)).*/\1/p' "$BS_ROOT/debian/changelog")
	check_eq "debian/changelog's version" "$v" "$VERSION"
}
run_test "debian/changelog names the VERSION file's version" t_changelog

t_dist() {
	local sum1 sum2 want got when
	if ! git -C "$BS_ROOT" rev-parse --git-dir >/dev/null 2>&1; then
		t_skip "$BS_ROOT is not a git checkout (make dist needs one)"
		return
	fi
	mkdir -p "$SRC"
	git -C "$BS_ROOT" ls-files -z -c -o --exclude-standard |
		tar -C "$BS_ROOT" --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -C "$SRC" -xf - ||
		{
			t_fail "could not copy the work tree to $SRC"
			return
		}
	git -C "$SRC" init -q &&
		git -C "$SRC" add -A &&
		git -C "$SRC" -c user.name=packaging.sh -c user.email=test@invalid commit -q -m "the work tree" ||
		{
			t_fail "could not commit the copy in $SRC"
			return
		}
	run_cmd make -C "$SRC" dist BUILD=build-dist
	expect_exit 0 || return
	check "the tarball is build-dist/backstop-$VERSION.tar.gz" test -f "$TARBALL" || return
	expect_stdout_contains "build-dist/backstop-$VERSION.tar.gz" "make dist prints the tarball's path"
	run_cmd tar -tzf "$TARBALL"
	expect_exit 0
	if grep -qv "^$TOP/" "$OUT_FILE"; then
		t_fail "entries outside $TOP/" "$(grep -v "^$TOP/" "$OUT_FILE" | head -5)"
	fi
	for f in VERSION Makefile debian/control debian/rules debian/changelog debian/copyright \
		debian/source/format; do
		grep -qx "$TOP/$f" "$OUT_FILE" || t_fail "the tarball has no $TOP/$f"
	done
	if grep -qE '/build[^/]*/|\.o$|\.a$' "$OUT_FILE"; then
		t_fail "the tarball holds build output" "$(grep -E '/build[^/]*/|\.o$|\.a$' "$OUT_FILE" | head -5)"
	fi
	want=$(git -C "$SRC" ls-files | sort)
	got=$(grep -v '/$' "$OUT_FILE" | sed "s|^$TOP/||" | sort)
	if [ "$got" != "$want" ]; then
		t_fail "the tarball does not hold exactly the tracked files (< tarball, > git ls-files)" \
			"$(diff <(echo "$got") <(echo "$want") | head -20)"
	fi
	# Reproducible: every member has the last commit's time, and a second
	# make dist writes the same bytes.
	when=$(git -C "$SRC" log -1 --format=%ct)
	got=$(python3 -c 'import sys, tarfile
print(" ".join(sorted({str(int(m.mtime)) for m in tarfile.open(sys.argv[1])})))' "$TARBALL")
	check_eq "every member's mtime is the commit's" "$got" "$when"
	sum1=$(sha256sum <"$TARBALL")
	sleep 1
	run_cmd make -C "$SRC" dist BUILD=build-dist
	expect_exit 0
	sum2=$(sha256sum <"$TARBALL")
	check_eq "a second make dist writes the same bytes" "$sum2" "$sum1"
}
run_test "make dist writes backstop-$VERSION.tar.gz: exactly the tracked files under $TOP/, reproducibly" t_dist

t_dist_no_git() {
	[ -f "$TARBALL" ] || {
		t_fail "no tarball (see the make dist test)"
		return
	}
	mkdir -p "$UNPACK"
	tar -C "$UNPACK" -xzf "$TARBALL" || {
		t_fail "cannot unpack $TARBALL"
		return
	}
	check "the unpacked tree has no .git" test ! -e "$UNPACK/$TOP/.git"
	run_cmd env GIT_CEILING_DIRECTORIES="$BS_TMP" make -C "$UNPACK/$TOP" dist
	expect_exit 2
	expect_stderr_contains "is not a git checkout"
	check "it wrote nothing" test ! -e "$UNPACK/$TOP/build"
}
run_test "make dist outside a git checkout (the unpacked tarball) refuses, saying it needs one" t_dist_no_git

# --------------------------------------------------- build from the tarball

DEB=
t_dist_builds() {
	local T=$UNPACK/$TOP reason=
	[ -f "$T/Makefile" ] || {
		t_fail "no unpacked tarball (see the make dist tests)"
		return
	}
	command -v dpkg-buildpackage >/dev/null || reason="dpkg-buildpackage is not installed (dpkg-dev)"
	[ -n "$reason" ] || command -v dh >/dev/null || reason="debhelper is not installed"
	if [ -z "$reason" ]; then
		# -b: binary packages only; the build runs `make all man` (debian/rules).
		# BUILD (set by the harness) must not leak in: debian/rules drops it.
		# noopt (-O0) and noddebs (no -dbgsym package) keep the test's compile
		# short; they change nothing the tests look at.
		run_cmd bash -c 'cd "$1" && DEB_BUILD_OPTIONS="parallel=2 noopt noddebs" dpkg-buildpackage -us -uc -b' _ "$T"
		expect_exit 0 || return
		DEB=$(ls "$UNPACK"/backstop_"$VERSION"_*.deb 2>/dev/null | head -1)
		check "dpkg-buildpackage wrote backstop_${VERSION}_<arch>.deb" test -n "$DEB"
	else
		diag "$reason: building with make only; the package tests skip"
		run_cmd make -C "$T" -j2 all man BUILD=build
		expect_exit 0 || return
	fi
	check_versions "$T/build/bin"
}
run_test "the dist tarball, unpacked, builds (dpkg-buildpackage -b, else make all man) and knows its version" t_dist_builds

deb_skip() {
	if ! command -v dpkg-buildpackage >/dev/null; then
		t_skip "dpkg-buildpackage is not installed (dpkg-dev)"
	elif ! command -v dh >/dev/null; then
		t_skip "debhelper is not installed"
	elif [ -z "$DEB" ]; then
		t_fail "no .deb (see the build test)"
	else
		return 1
	fi
	return 0
}

t_deb_contents() {
	local c f p
	deb_skip && return
	run_cmd dpkg-deb -c "$DEB"
	expect_exit 0
	for c in "${COMMANDS[@]}"; do
		expect_stdout_matches " \./usr/bin/$c\$" "the package has /usr/bin/$c"
	done
	for f in "$BS_ROOT"/docs/man/*.scd; do
		[ -e "$f" ] || continue
		p=$(basename "$f" .scd)
		expect_stdout_matches " \./usr/share/man/man${p##*.}/$p(\.gz)?\$" "the package has the man page $p"
	done
	expect_stdout_matches " \./usr/share/backstop/policies/retention\.yaml\$"
	expect_stdout_matches " \./usr/share/doc/backstop/copyright\$"
	if grep -q '/usr/local' "$OUT_FILE"; then
		t_fail "the package installs below /usr/local" "$(grep /usr/local "$OUT_FILE" | head -3)"
	fi
	run_cmd dpkg-deb -f "$DEB" Version Depends Recommends
	expect_stdout_contains "Version: $VERSION"
	expect_stdout_contains "libpq5"
	expect_stdout_contains "Recommends: postgresql-client-15 | postgresql-client, age"
}
run_test "the .deb holds /usr/bin/backstop, every command and the man pages, nothing in /usr/local" t_deb_contents

# dpkg_root ARGS..: dpkg on the fresh root $R, as an unprivileged user could
# run it: --force-not-root, maintainer scripts (there are none today) not
# chrooted, its log in the root (not the host's /var/log/dpkg.log), and
# ldconfig/start-stop-daemon found on PATH as dpkg insists.
dpkg_root() {
	env PATH="/usr/sbin:/usr/bin:/sbin:/bin" dpkg --root="$R" --admindir="$R/var/lib/dpkg" \
		--force-not-root --force-script-chrootless --log="$R/var/log/dpkg.log" "$@"
}

t_deb_fresh_root() {
	local left
	deb_skip && return
	R=$BS_TMP/root
	mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates" "$R/var/log"
	: >"$R/var/lib/dpkg/status"
	: >"$R/var/lib/dpkg/available"
	# The shared libraries come from the host; the fresh root has no
	# packages, so the dependencies are forced.
	run_cmd dpkg_root --force-depends -i "$DEB"
	expect_exit 0 || return
	run_cmd dpkg_root -s backstop
	expect_stdout_contains "Status: install ok installed"
	run_cmd env PATH="$EMPTY_PATH" "$R/usr/bin/backstop" --help
	expect_exit 0
	expect_stdout_contains "usage: backstop <command>"
	run_cmd env PATH="$EMPTY_PATH" "$R/usr/bin/backstop" --version
	expect_exit 0
	check_eq "the installed package's backstop --version" "$OUT" "backstop $VERSION"
	run_cmd env PATH="$EMPTY_PATH" "$R/usr/bin/backstop" snap --help
	expect_exit 0
	expect_stdout_contains "usage: backstop snap"
	check "the packaged systemd unit runs /usr/bin/backstop" \
		grep -qx 'ExecStart=/usr/bin/backstop snap --prune --quiet' \
		"$R/usr/share/backstop/contrib/systemd/backstop-snap.service"
	run_cmd dpkg_root -r backstop
	expect_exit 0
	left=$(cd "$R" && find . \( -type f -o -type l \) ! -path './var/lib/dpkg/*' ! -path './var/log/*' | sort)
	check_eq "dpkg -r leaves no file outside dpkg's database" "$left" ""
	check "and no /usr" test ! -e "$R/usr"
	run_cmd dpkg_root -s backstop
	expect_exit 1 "dpkg -s backstop: not installed any more"
}
run_test "the .deb installs into a fresh root (dpkg --root), backstop runs from it, dpkg -r removes it cleanly" \
	t_deb_fresh_root

done_testing
