# shellcheck shell=bash
# contrib/completion/backstop.bash - bash completion for backstop and for
# every backstop-<cmd> executable: commands, verbs (snap list, gate check,
# rollback to, ...) and each command's or verb's long options, and file
# names after an option that takes a FILE or DIR.
#
# The lists come from the binaries' own --help, read when first needed and
# kept for the shell session, so they never drift from the tool (a new
# option is completed as soon as the binary has it).
#
# Install: `make install` puts this file in
# $(PREFIX)/share/bash-completion/completions/backstop, where bash-completion
# finds it; without bash-completion, source it from ~/.bashrc.

declare -gA _backstop_cache=()

# _backstop_help ARGV..: sets _backstop_reply to the output of
# `ARGV.. --help` (nothing if that fails), cached per argv.
_backstop_help() {
	local key="$*"
	if [[ -z ${_backstop_cache[$key]+set} ]]; then
		_backstop_cache[$key]=$("$@" --help 2>/dev/null </dev/null)
	fi
	_backstop_reply=${_backstop_cache[$key]}
}

# _backstop_commands PROG: _backstop_words = the commands `PROG --help` lists.
_backstop_commands() {
	local line in=0 re='^  ([a-z][a-z-]*)  '
	_backstop_words=()
	_backstop_help "$1"
	while IFS= read -r line; do
		if [[ $line == commands:* ]]; then
			in=1
		elif [[ $in == 1 ]]; then
			[[ -n $line ]] || break
			[[ $line =~ $re ]] && _backstop_words+=("${BASH_REMATCH[1]}")
		fi
	done <<<"$_backstop_reply"
}

# _backstop_verbs CMD ARGV..: _backstop_words = the verbs of command CMD,
# whose argv is ARGV (backstop snap, or backstop-snap).  Candidates are the
# words after "backstop CMD" in the help's usage, subcommand and example
# lines; a candidate is a verb when `ARGV.. WORD --help` is that verb's own
# help ("usage: backstop CMD WORD ..."), so ID|latest is not one.
_backstop_verbs() {
	local cmd=$1 line w text first seen=' ' re
	local -a cands
	shift
	_backstop_words=()
	re="^(usage:)?[[:space:]]*(backstop )?$cmd ([a-z][a-z|-]*)"
	_backstop_help "$@"
	text=$_backstop_reply
	while IFS= read -r line; do
		[[ $line =~ $re ]] || continue
		IFS='|' read -ra cands <<<"${BASH_REMATCH[3]}"
		for w in "${cands[@]}"; do
			[[ -n $w && $seen != *" $w "* ]] || continue
			seen+="$w "
			_backstop_help "$@" "$w"
			first=${_backstop_reply%%$'\n'*}
			[[ "$first " == "usage: backstop $cmd $w "* ]] && _backstop_words+=("$w")
		done
	done <<<"$text"
}

# _backstop_options ARGV..: _backstop_words = the long options of
# `ARGV.. --help`; _backstop_args = " --OPTION=METAVAR ... " for those that
# take a value.
_backstop_options() {
	local line re="^ {2,8}(-[^ ], )?(--[a-z0-9][a-z0-9-]*)( [A-Z'][^ ]*)?"
	_backstop_words=()
	_backstop_args=' '
	_backstop_help "$@"
	while IFS= read -r line; do
		[[ $line =~ $re ]] || continue
		_backstop_words+=("${BASH_REMATCH[2]}")
		[[ -z ${BASH_REMATCH[3]} ]] || _backstop_args+="${BASH_REMATCH[2]}=${BASH_REMATCH[3]# } "
	done <<<"$_backstop_reply"
}

_backstop() {
	local cur=${COMP_WORDS[COMP_CWORD]} prog=${COMP_WORDS[0]} prev='' cmd='' verb='' verbs=''
	local name w i meta npos=0
	local -a argv
	COMPREPLY=()
	prog=${prog/#\~/$HOME}
	name=${prog##*/}
	argv=("$prog")
	if [[ $name == backstop-* ]]; then
		cmd=${name#backstop-}
		_backstop_verbs "$cmd" "${argv[@]}"
		verbs=" ${_backstop_words[*]} "
	fi
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	# --OPTION=value: bash splits it at '=' (COMP_WORDBREAKS)
	if [[ $cur == = ]]; then
		cur=
	elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	fi

	# The words before the cursor: the command, its verb, other operands;
	# options, and the values of those that take one, are skipped.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ $w == --* ]]; then
			_backstop_options "${argv[@]}"
			[[ $_backstop_args == *" $w="* && ${COMP_WORDS[i + 1]:-} != = ]] && ((i++))
		elif [[ $w == -* || $w == = ]]; then
			:
		elif [[ -z $cmd ]]; then
			cmd=$w
			[[ $cmd == help ]] && continue
			argv+=("$cmd")
			_backstop_verbs "$cmd" "${argv[@]}"
			verbs=" ${_backstop_words[*]} "
		elif [[ -z $verb && $npos == 0 && $verbs == *" $w "* ]]; then
			verb=$w
			argv+=("$verb")
		else
			npos=$((npos + 1))
		fi
	done

	if [[ -z $cmd || $cmd == help ]]; then
		# backstop <TAB>, backstop help <TAB>
		[[ $npos == 0 && $cur != -* ]] || return 0
		_backstop_commands "$prog"
		[[ -n $cmd ]] || _backstop_words+=(help)
		mapfile -t COMPREPLY < <(compgen -W "${_backstop_words[*]}" -- "$cur")
		return 0
	fi

	_backstop_options "${argv[@]}"
	if [[ $prev == --* && $_backstop_args == *" $prev="* ]]; then
		meta=${_backstop_args#*" $prev="}
		meta=${meta%% *}
		case $meta in
		DIR) mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
		*FILE) mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
		esac
		return 0
	fi
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "${_backstop_words[*]}" -- "$cur")
	elif [[ -z $verb && $npos == 0 ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$verbs" -- "$cur")
	fi
	return 0
}

# backstop, each backstop-<cmd> of this release, and any other backstop-*
# on PATH (commands added later).  With nothing to offer (a snapshot id, a
# service name), bash completes file names.
_backstop_register() {
	local w
	complete -o default -F _backstop backstop backstop-snap backstop-restore \
		backstop-verify-restore backstop-keygen backstop-repo backstop-probe \
		backstop-gate backstop-rollback
	for w in $(compgen -c backstop- 2>/dev/null); do
		[[ $w == *[!a-z-]* ]] || complete -o default -F _backstop "$w"
	done
}
_backstop_register
unset -f _backstop_register
