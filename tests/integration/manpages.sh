#!/usr/bin/env bash
# manpages.sh - the man pages (docs/man/*.scd, built by `make man`) render
# cleanly and keep up with the tool.  Everything the pages are checked
# against is read from the built binaries at test time, never from a list
# kept here:
#   * the commands: `backstop --help` ("commands:" section);
#   * each command's verbs: the words after "backstop CMD" in its usage
#     lines and "subcommands" lines that `backstop CMD WORD --help` accepts
#     as a verb (its usage line starts "usage: backstop CMD WORD");
#   * the options: every "-x, --long", "-x" and "--long" line of the
#     options section of each command's and each verb's --help.
# What a page must hold:
#   * an option is documented where a term line (a line starting with "*-"
#     in the .scd, the scdoc form of an option heading) names its long
#     form as *--long*, and on the same line its short form as *-x* and
#     its argument (the metavariable --help shows, e.g. _DIR_);
#   * a verb has a SYNOPSIS line "backstop CMD VERB ..." or a heading
#     "## ... CMD VERB ...";
#   * the first line is "PAGE(SECTION)" and the NAME line "PAGE - ...",
#     PAGE and SECTION being those of the file name (PAGE.SECTION.scd).
# The checkers run on a damaged copy of a page too, so the test can fail.
# Needs no database (the harness's cluster is not used).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MAN_SRC=$BS_ROOT/docs/man
HELP=$BS_TMP/help
mkdir -p "$HELP" "$BS_TMP/man"

# ------------------------------------------------------- reading --help

# help_commands FILE: the commands of `backstop --help`, one a line.
help_commands() {
	local line in=0
	while IFS= read -r line; do
		if [ "$line" = "commands:" ]; then
			in=1
		elif [ "$in" = 1 ]; then
			[[ $line =~ ^\ \ ([a-z][a-z0-9-]*)\ \  ]] || break
			echo "${BASH_REMATCH[1]}"
		fi
	done <"$1"
}

# verb_candidates CMD FILE: words that may be verbs of CMD: the first word
# after "backstop CMD" in the usage lines at the top ("a|b|c" gives each),
# and the second word of "  CMD VERB ..." lines (a "subcommands" list).
verb_candidates() {
	local cmd=$1 line w rest usage=1
	while IFS= read -r line; do
		[ -n "$line" ] || usage=0
		if [ "$usage" = 1 ] && [[ $line =~ ^(usage:)?\ +backstop\ $cmd\ ([^ ]+) ]]; then
			rest=${BASH_REMATCH[2]}
			for w in ${rest//|/ }; do echo "$w"; done
		elif [[ $line =~ ^\ \ $cmd\ ([a-z][a-z0-9-]*) ]]; then
			echo "${BASH_REMATCH[1]}"
		fi
	done <"$2" | sort -u | grep -E '^[a-z][a-z0-9-]*$'
}

# help_options FILE: the options an --help lists, one a line: SHORT, LONG
# and ARG (the metavariable, e.g. DIR) separated by $US; any may be empty.
US=$'\x1f'
help_options() {
	local line s l rest
	while IFS= read -r line; do
		if [[ $line =~ ^\ \ -([^-,\ ])(,\ --([a-z0-9][a-z0-9-]*))?(\ |$)(.*) ]]; then
			s=${BASH_REMATCH[1]} l=${BASH_REMATCH[3]} rest=${BASH_REMATCH[5]}
		elif [[ $line =~ ^\ {6}--([a-z0-9][a-z0-9-]*)(\ |$)(.*) ]]; then
			s='' l=${BASH_REMATCH[1]} rest=${BASH_REMATCH[3]}
		else
			continue
		fi
		# the left column ends at two spaces (or the line: a long one)
		echo "$s$US$l$US${rest%%  *}"
	done <"$1"
}

# collect: every command's and verb's --help into $HELP: CMD.txt,
# CMD.verbs (the verbs, one a line), CMD.VERB.txt.  Problems go to stdout.
collect() {
	local cmd w
	run_cmd bs --help
	[ "$RC" = 0 ] || echo "backstop --help exited $RC"
	cp "$OUT_FILE" "$HELP/backstop.txt"
	help_commands "$HELP/backstop.txt" >"$HELP/commands"
	while IFS= read -r cmd; do
		run_cmd bs "$cmd" --help
		[ "$RC" = 0 ] || echo "backstop $cmd --help exited $RC"
		cp "$OUT_FILE" "$HELP/$cmd.txt"
		: >"$HELP/$cmd.verbs"
		for w in $(verb_candidates "$cmd" "$HELP/$cmd.txt"); do
			run_cmd bs "$cmd" "$w" --help
			if [ "$RC" = 0 ] && [[ $(head -n 1 "$OUT_FILE") == "usage: backstop $cmd $w"* ]]; then
				echo "$w" >>"$HELP/$cmd.verbs"
				cp "$OUT_FILE" "$HELP/$cmd.$w.txt"
			fi
		done
	done <"$HELP/commands"
}

# ------------------------------------------------------------- checkers

# page_of CMD: the man page source of a command.
page_of() { echo "$MAN_SRC/backstop-$1.1.scd"; }

# check_options CMD PAGE: print "CMD[ VERB]: ..." for every option of the
# command's or a verb's --help that PAGE does not document on one term line
# with its short form and its argument; status 1 if any.
check_options() {
	local cmd=$1 page=$2 verb f s l a i t best bad=0 where p
	local terms=() plain=()
	p=$(basename "$page")
	mapfile -t terms < <(grep -E '^\*-' "$page")
	mapfile -t plain < <(grep -E '^\*-' "$page" | strip_format)
	for f in "$HELP/$cmd.txt" $(sed "s|.*|$HELP/$cmd.&.txt|" "$HELP/$cmd.verbs"); do
		verb=${f#"$HELP/$cmd"}
		verb=${verb%.txt}
		where="$cmd${verb:+ ${verb#.}}"
		while IFS=$US read -r s l a; do
			# best: 0 no line names it, 1 only without the short form,
			# 2 only without the argument, 3 documented
			best=0
			for i in "${!terms[@]}"; do
				t=${terms[i]}
				if [ -n "$l" ]; then
					[[ $t == *"*--$l*"* ]] || continue
					[ "$best" -ge 1 ] || best=1
					[ -z "$s" ] || [[ $t == *"*-$s*"* ]] || continue
				else
					[[ $t == *"*-$s*"* ]] || continue
				fi
				[ "$best" -ge 2 ] || best=2
				if [ -z "$a" ] || [[ ${plain[i]} == *"$a"* ]]; then
					best=3
					break
				fi
			done
			case $best in
			3) continue ;;
			0) echo "$where: ${l:+--$l}${s:+${l:+ (}-$s${l:+)}} is not in $p" ;;
			1) echo "$where: -$s, the short form of --$l, is not on the line of --$l in $p" ;;
			2) echo "$where: $([ -n "$l" ] && echo "--$l" || echo "-$s"): its argument $a is not on its line in $p" ;;
			esac
			bad=1
		done < <(help_options "$f")
	done
	return "$bad"
}

# strip_format TEXT: scdoc source without its emphasis marks.
strip_format() { sed -e 's/\\\(.\)/\1/g' -e 's/[*_]//g'; }

# section PAGE NAME: the lines of a "# NAME" section of a page.
section() {
	awk -v s="# $2" '$0 == s {in_s = 1; next} /^# / {in_s = 0} in_s' "$1"
}

# check_verbs CMD PAGE: print the verbs of CMD that PAGE has neither a
# SYNOPSIS line nor a heading for; status 1 if any.
check_verbs() {
	local cmd=$1 page=$2 verb syn heads bad=0
	syn=$(section "$page" SYNOPSIS | strip_format)
	heads=$(grep -E '^##+ ' "$page" | strip_format)
	while IFS= read -r verb; do
		grep -qE "(^|[^a-z-])backstop $cmd $verb([^a-z-]|\$)" <<<"$syn" && continue
		grep -qE "(^|[^a-z-])$cmd $verb([^a-z-]|\$)" <<<"$heads" && continue
		echo "$cmd: verb '$verb' has no SYNOPSIS line and no section in $(basename "$page")"
		bad=1
	done <"$HELP/$cmd.verbs"
	return "$bad"
}

# check_name FILE: the header and NAME line match the file's name.
check_name() {
	local f=$1 base page sect name first
	base=$(basename "$f" .scd)
	page=${base%.*}
	sect=${base##*.}
	first=$(head -n 1 "$f")
	[[ $first == "$page($sect)" || $first == "$page($sect) "* ]] ||
		echo "$(basename "$f"): first line is '$first', expected '$page($sect) ...'"
	name=$(section "$f" NAME | grep -m 1 .)
	[[ $name == "$page - "?* ]] ||
		echo "$(basename "$f"): NAME is '$name', expected '$page - ...'"
}

# ------------------------------------------------------------------ tests

t_collect() {
	local out n
	out=$(collect)
	[ -z "$out" ] || t_fail "$out"
	n=$(wc -l <"$HELP/commands")
	[ "$n" -ge 8 ] || t_fail "backstop --help lists only $n commands" "$(cat "$HELP/backstop.txt")"
	grep -qx init "$HELP/repo.verbs" 2>/dev/null || t_fail "no verbs found for repo (expected init): the parsing of --help broke"
	grep -qx list "$HELP/snap.verbs" 2>/dev/null || t_fail "no verbs found for snap (expected list): the parsing of --help broke"
	[ "$(help_options "$HELP/snap.txt" | grep -c .)" -ge 10 ] ||
		t_fail "fewer than 10 options parsed from snap --help: the parsing of --help broke"
	diag "commands: $(tr '\n' ' ' <"$HELP/commands")"
	while IFS= read -r n; do
		[ -s "$HELP/$n.verbs" ] && diag "  $n verbs: $(tr '\n' ' ' <"$HELP/$n.verbs")"
	done <"$HELP/commands"
	return 0
}
run_test "backstop --help lists the commands; every command's and verb's --help exits 0" t_collect

t_pages_exist() {
	local cmd f c
	check "docs/man/backstop.1.scd exists" test -f "$MAN_SRC/backstop.1.scd"
	check "docs/man/backstop.yaml.5.scd exists" test -f "$MAN_SRC/backstop.yaml.5.scd"
	while IFS= read -r cmd; do
		[ -f "$(page_of "$cmd")" ] || t_fail "command '$cmd' has no page docs/man/backstop-$cmd.1.scd"
		section "$MAN_SRC/backstop.1.scd" COMMANDS | grep -qxF "*$cmd*" ||
			t_fail "backstop.1: COMMANDS has no entry *$cmd*"
	done <"$HELP/commands"
	for f in "$MAN_SRC"/backstop-*.1.scd; do
		c=$(basename "$f" .1.scd)
		c=${c#backstop-}
		grep -qxF "$c" "$HELP/commands" || t_fail "$(basename "$f"): no command '$c' in backstop --help (a stale page?)"
	done
}
run_test "every command of backstop --help has a page (and backstop.1 an entry); no page without a command" t_pages_exist

t_names() {
	local f out
	for f in "$MAN_SRC"/*.scd; do
		out=$(check_name "$f")
		[ -z "$out" ] || t_fail "$out"
	done
}
run_test "every page's header and NAME match its file name" t_names

t_sections() {
	local f s want
	for f in "$MAN_SRC"/*.scd; do
		case $(basename "$f") in
		*.5.scd) want="NAME SYNOPSIS DESCRIPTION ENVIRONMENT FILES EXAMPLES" ;;
		*) want="NAME SYNOPSIS DESCRIPTION OPTIONS EXIT_STATUS ENVIRONMENT FILES EXAMPLES" ;;
		esac
		for s in $want SEE_ALSO; do
			grep -qx "# ${s//_/ }" "$f" || t_fail "$(basename "$f"): no '# ${s//_/ }' section"
		done
	done
}
run_test "every page has NAME, SYNOPSIS, DESCRIPTION, (OPTIONS, EXIT STATUS,) ENVIRONMENT, FILES, EXAMPLES, SEE ALSO" t_sections

t_render() {
	local f base
	command -v scdoc >/dev/null || {
		t_fail "scdoc is not installed (scripts/install-deps.sh installs it)"
		return
	}
	for f in "$MAN_SRC"/*.scd; do
		base=$(basename "$f" .scd)
		# not run_cmd: its stdin is /dev/null, and scdoc reads the page there
		scdoc <"$f" >"$BS_TMP/man/$base" 2>"$BS_TMP/man/$base.err"
		RC=$?
		[ "$RC" = 0 ] || t_fail "scdoc $base.scd exits $RC" "$(cat "$BS_TMP/man/$base.err")"
		check_eq "scdoc $base.scd prints nothing on stderr" "$(cat "$BS_TMP/man/$base.err")" ""
		check "scdoc $base.scd writes a man page" grep -q '^\.TH ' "$BS_TMP/man/$base"
	done
}
run_test "every page renders with scdoc, without errors" t_render

# render FILE: the page as man -l shows it on stdout, with every groff
# warning on stderr (groff -ww when man is missing).
render() {
	if command -v man >/dev/null; then
		MANWIDTH=80 MANPAGER=cat PAGER=cat man --warnings=w -E UTF-8 -l "$1"
	else
		groff -man -Tutf8 -ww "$1"
	fi
}

t_man_warnings() {
	local f
	if ! command -v man >/dev/null && ! command -v groff >/dev/null; then
		t_skip "neither man nor groff is installed"
		return
	fi
	ls "$BS_TMP"/man/*.[0-9] >/dev/null 2>&1 || {
		t_fail "no rendered pages (scdoc failed above)"
		return
	}
	for f in "$BS_TMP"/man/*.[0-9]; do
		run_cmd render "$f"
		check_eq "$(basename "$f"): no warnings" "$ERR" ""
		expect_exit 0 "$(basename "$f"): rendered"
		grep -q '^NAME' "$OUT_FILE" || t_fail "$(basename "$f"): the rendered page shows no NAME section"
	done
}
run_test "every rendered page shows with man -l (or groff -ww) without warnings" t_man_warnings

t_options() {
	local cmd out all=
	while IFS= read -r cmd; do
		[ -f "$(page_of "$cmd")" ] || continue
		out=$(check_options "$cmd" "$(page_of "$cmd")") || all+="$out"$'\n'
	done <"$HELP/commands"
	[ -z "$all" ] || t_fail "options of --help missing from the man pages:" "${all%$'\n'}"
}
run_test "every option of every command's and verb's --help is in the command's man page (long and short form, argument)" t_options

t_verbs() {
	local cmd out all=
	while IFS= read -r cmd; do
		[ -f "$(page_of "$cmd")" ] || continue
		out=$(check_verbs "$cmd" "$(page_of "$cmd")") || all+="$out"$'\n'
	done <"$HELP/commands"
	[ -z "$all" ] || t_fail "verbs missing from the man pages:" "${all%$'\n'}"
}
run_test "every verb of a command's --help has a SYNOPSIS line or a section in its page" t_verbs

t_dispatcher_options() {
	# backstop --help lists no option lines; the dispatcher takes these two
	grep -F '*-?*, *--help*' "$MAN_SRC/backstop.1.scd" >/dev/null || t_fail "backstop.1: no *-?*, *--help* entry"
	grep -F '*-V*, *--version*' "$MAN_SRC/backstop.1.scd" >/dev/null || t_fail "backstop.1: no *-V*, *--version* entry"
	run_cmd bs -V
	expect_exit 0 "backstop -V exits 0 (as backstop.1 says)"
	run_cmd bs
	expect_exit 2 "backstop without a command exits 2 (as backstop.1 says)"
	run_cmd bs no-such-command
	expect_exit 2 "an unknown command exits 2 (as backstop.1 says)"
}
run_test "backstop.1 documents the dispatcher's options and exit codes" t_dispatcher_options

t_see_also() {
	local f ref
	for f in "$MAN_SRC"/*.scd; do
		for ref in $(grep -ohE '\*backstop[a-z.-]*\*\([0-9]\)' "$f" | tr -d '*' | sort -u); do
			[ -f "$MAN_SRC/${ref%(*}.${ref//[^0-9]/}.scd" ] ||
				t_fail "$(basename "$f") refers to $ref, which has no page"
		done
	done
}
run_test "every backstop page a page refers to exists" t_see_also

t_config_keys() {
	local key keys page=$MAN_SRC/backstop.yaml.5.scd terms
	terms=$(grep -E '^\*' "$page")
	# the first cell of every table row under "## Keys"; backquotes are
	# Markdown's code spans
	# shellcheck disable=SC2016
	keys=$(awk '/^## /{in_k = ($0 == "## Keys")} in_k && /^\| `/' "$BS_ROOT/docs/config.md" |
		cut -d'|' -f2 | grep -oE '`[a-z_]+`' | tr -d '`' | sort -u)
	[ -n "$keys" ] || t_fail "no keys found in docs/config.md's '## Keys' tables: the parsing broke"
	for key in $keys; do
		grep -qF -- "*$key*" <<<"$terms" ||
			t_fail "backstop.yaml.5: no entry for '$key' (a key of docs/config.md's tables)"
	done
}
run_test "backstop.yaml.5 has an entry for every key in docs/config.md's key tables" t_config_keys

# The checkers must be able to fail: a copy of the snap page without the
# --chunk-size entry, without the short form of --dry-run (a verb's
# option), without the argument of --compress-level, and without anything
# about 'snap copy'; a --help with options
# the page does not have; a keygen page named as if it were repo's.
t_checkers_fail() {
	local damaged=$BS_TMP/damaged out rc
	mkdir -p "$damaged"
	awk '/^\*--chunk-size\*/ {skip = 1; next} skip && /^\t/ {next} {skip = 0; print}' \
		"$(page_of snap)" |
		sed -e 's/^\*-n\*, \*--dry-run\*/*--dry-run*/' -e 's/^\(\*--compress-level\*\) _N_$/\1/' \
			-e '/snap copy/d' >"$damaged/backstop-snap.1.scd"
	check "the damaged copy lost the --chunk-size entry" bash -c "! grep -qF '*--chunk-size*' '$damaged/backstop-snap.1.scd'"
	out=$(check_options snap "$damaged/backstop-snap.1.scd")
	rc=$?
	check_eq "check_options fails on the damaged copy" "$rc" 1
	grep -qF "snap: --chunk-size is not in backstop-snap.1.scd" <<<"$out" ||
		t_fail "the missing --chunk-size is not reported" "$out"
	grep -qF "snap prune: -n, the short form of --dry-run" <<<"$out" ||
		t_fail "the missing short form -n of snap prune's --dry-run is not reported" "$out"
	grep -qF "snap: --compress-level: its argument N is not on its line" <<<"$out" ||
		t_fail "the missing argument of --compress-level is not reported" "$out"
	[ "$(grep -c . <<<"$out")" -eq 3 ] || t_fail "expected exactly the three damaged options, got:" "$out"
	out=$(check_verbs snap "$damaged/backstop-snap.1.scd")
	rc=$?
	check_eq "check_verbs fails on the damaged copy" "$rc" 1
	grep -qF "snap: verb 'copy' has no SYNOPSIS line and no section" <<<"$out" ||
		t_fail "the missing verb copy is not reported" "$out"
	out=$(check_options snap "$(page_of snap)"; check_verbs snap "$(page_of snap)")
	check_eq "no complaint about the intact snap page" "$out" ""
	# an option new in --help, not yet in the page: a copy of snap's --help
	# with two more option lines, checked as the command "snapnew"
	{
		cat "$HELP/snap.txt"
		printf '      --brand-new N           a new option\n  -Z, --zeta                  another\n'
	} >"$HELP/snapnew.txt"
	: >"$HELP/snapnew.verbs"
	out=$(check_options snapnew "$(page_of snap)")
	check_eq "check_options fails on options the page lacks" "$?" 1
	check_eq "it names both new options, and nothing else" "$out" \
		"snapnew: --brand-new is not in backstop-snap.1.scd"$'\n'"snapnew: --zeta (-Z) is not in backstop-snap.1.scd"
	cp "$(page_of keygen)" "$damaged/backstop-repo.1.scd"
	out=$(check_name "$damaged/backstop-repo.1.scd")
	grep -qF "NAME is 'backstop-keygen - " <<<"$out" || t_fail "a NAME that does not match its file is not reported" "$out"
	grep -qF "first line is 'backstop-keygen(1)" <<<"$out" || t_fail "a header that does not match its file is not reported" "$out"
}
run_test "the checkers report a missing option, short form, argument or verb, a new --help option, a wrong NAME" t_checkers_fail

done_testing
