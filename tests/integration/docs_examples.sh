#!/usr/bin/env bash
# docs_examples.sh - every backstop example in README.md, docs/*.md and
# contrib/ runs against the harness's cluster and exits as the doc implies,
# so the docs cannot drift from the tool.
#
# What is extracted (the Python below, run with --list to see it):
#   * Markdown: fenced blocks in sh/shell/bash/console or no language.  A line
#     whose first word is backstop, backstop-<cmd> or /usr/local/bin/backstop
#     is an example (in a block with "$ " prompts, only the prompted lines;
#     backslash continuations are joined, comments dropped).  A line that is
#     backstop's own message ("backstop snap prune: error: ...") is output.
#     Inline code spans `backstop <cmd> ... -x` (with an option) count too.
#   * contrib/ (not contrib/prometheus): the command part of cron lines,
#     systemd ExecStart= lines, and comment lines "backstop <cmd> ...".
# Kinds:
#   cmd       run (bash -c, after substitution); must exit 0, or N when its
#             comment says "# exit N"
#   synopsis  a usage line (brackets, "|", or metavariables such as ID,
#             CONNINFO, FILE): every option it names must appear in
#             `backstop <cmd> [<verb>] --help`
#   setup     mkdir/install/chmod lines in a block with backstop commands:
#             run too (e.g. creating /etc/backstop before keygen)
#   hatch     README's "Escape hatch" block: run as one script (test below)
# An extracted line that is neither run nor listed in EXCEPTIONS fails; an
# exception that matches no extracted line fails too (it is stale).
#
# Substitution table (docs placeholder -> harness value), applied to every
# extracted line and to contrib/backstop.yaml.example, which becomes the
# configuration of every example (BACKSTOP_CONFIG; the docs assume
# /etc/backstop/backstop.yaml):
#   /usr/local/bin/backstop          backstop ($BS_BIN first on PATH)
#   postgresql://USER@HOST/DB        host=$PGHOST port=$PGPORT user=postgres dbname=DB,
#                                    DB: app -> $SRC, postgres -> postgres,
#                                    anything else (app_restored) -> a new name
#   -h/--host HOST, -U/--username U  the harness socket, postgres
#   -d/--dbname/--db/--database/--target NAME (a bare name): as DB above
#   /var/backups/backstop            $REPO (repo init + one snapshot of $SRC); but
#                                    in a block that takes snapshots into it:
#                                    $BS_TMP/fresh/<block>/var/backups/backstop,
#                                    which does not exist (the block must create it)
#   /etc/backstop/hooks/NAME         $BS_ROOT/hooks/NAME (so a hook path that
#                                    is not a shipped hook fails)
#   /etc/backstop in keygen and setup lines
#                                    a fresh machine: $BS_TMP/fresh/<block>/etc/backstop
#                                    (etc/ exists, etc/backstop does not)
#   /etc/backstop otherwise          $ETC (backstop.yaml, restore-key.txt = the
#                                    fixture identity, mode 0600)
#   /usr/local/share/backstop/       $BS_ROOT/
#   /var/lib/backstop, /var/lib/prometheus/node-exporter
#                                    directories below $BS_TMP
#   age1... and any age1<58 chars>   the fixture's recipient
#   YYYYMMDDTHHMMSSZ-xxxxxx, <id>    $SNAPID, a real snapshot of $SRC
#   DBNAME                           the scratch database the last --keep kept
#   <cmd>                            each command in turn
#   https://app.example.com          the web fixture (tests/net/webfix.sh, nginx on
#                                    loopback), plain http
#   app.example.com:443 (a flag)     its TLS server, with --ca-file of the fixture's CA
#   host: app.example.com (config)   the same, as host: and ca_file: of a tls probe
#   db:5432, host=db[.internal]      the harness cluster over TCP / its socket, with
#                                    user=postgres; user=monitor -> user=postgres;
#                                    dbname=app -> $SRC
#   --interval 10s, --for 30m/60m    --interval 1s, --for 2s (a watch of minutes)
#   "$GITHUB_STEP_SUMMARY"           a file below $BS_TMP
#   ~/.ssh/id_ed25519                an ed25519 key made for the run (gate approve);
#                                    policies/ is installed as /etc/backstop/policies
# Each example runs in a directory of its own (so keygen -o restore-key.txt
# writes there).  $SRC is a database loaded with pgbench -i -s 1.
#
# Besides running the examples, it checks what the docs say around them:
#   * the hooks the docs name (/etc/backstop/hooks/NAME) are shipped in hooks/;
#   * the fields of the JSON documents docs/cli.md and docs/drill.md show are
#     in the tool's output (snap list/show/prune --json, verify-restore
#     --json), and snap --prune --json prints one document with "prune";
#   * docs/drill.md lists every verdict the tool gives ("error" included);
#   * contrib/cron's promise: a successful --quiet run prints nothing on
#     stderr, and snap's stdout is exactly the snapshot id;
#   * every --option named anywhere in the docs is in some --help (or in
#     FOREIGN_OPTIONS, other programs' options), and every -x/--long pair
#     is paired so by --help;
#   * README's escape hatch, run literally, loads the table it names.
# `bash docs_examples.sh --list` prints what is extracted, and runs nothing.
[ "${1:-}" != --list ] || BS_LIB_NOINIT=1
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$BS_ROOT/tests/net/webfix.sh"

DOCS=()
while IFS= read -r f; do DOCS+=("$f"); done < <(
	cd "$BS_ROOT" && ls README.md docs/*.md &&
		find contrib -type f ! -path 'contrib/prometheus/*' ! -name '*.yaml.example' | sort
)

# EXCEPTIONS: "FILE|EXAMPLE TEXT|why it does not run here".  Keep it short.
EXCEPTIONS=(
)

# ------------------------------------------------------------ extraction
docs_py() {
	python3 - "$@" <<'PY'
import os, re, sys

COMMANDS = ("snap", "restore", "keygen", "verify-restore", "repo", "probe", "gate", "rollback", "help")
SHELL_LANGS = ("", "sh", "shell", "bash", "console")
METAVARS = {"ID", "CONNINFO", "DIR", "FILE", "N", "NAME", "TEXT", "DUR", "SIZE",
            "TIME", "F", "TARGET", "AGE1..", "SCHEMA.NAME", "S.T", "H", "P", "U"}
SETUP_WORDS = ("mkdir", "install", "chmod", "chown")
FIRST = re.compile(r"^(/usr/local/bin/)?backstop(-[a-z-]+)?(\s|$)")
MESSAGE = re.compile(r"^backstop(-[a-z-]+)?( [a-z-]+)*: ")
CRON = re.compile(r"^\s*([0-9*/,-]+\s+){5}(\S+)\s+(.*\S)\s*$")
out = []
# the block being read: [file, first line, takes a new snapshot into
# /var/backups/backstop]; fresh-machine directories are per block
block_id = ["", 0, False]
SNAP_TAKE = re.compile(r"^(/usr/local/bin/)?backstop snap(?! (list|show|prune|pin|unpin)\b)(\s|$)")

def split_comment(line):
    q = None
    for i, c in enumerate(line):
        if q:
            if c == q:
                q = None
        elif c in "'\"":
            q = c
        elif c == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip(), line[i + 1:].strip()
    return line.rstrip(), ""

def unquoted(code):
    return re.sub(r"'[^']*'|\"[^\"]*\"", "''", code)

def is_synopsis(code):
    bare = unquoted(code)
    if "[" in bare or "|" in bare.replace("||", ""):
        return True
    return any(t in METAVARS for t in bare.split())

def emit(path, n, kind, ex, text):
    out.append((path, n, kind, ex, re.sub(r"\s+", " ", text).strip(), list(block_id)))

def classify(path, n, raw):
    code, comment = split_comment(raw)
    code = code.strip()
    if not code or not FIRST.match(code) or MESSAGE.match(code):
        return False
    if is_synopsis(code):
        emit(path, n, "synopsis", "-", code)
    else:
        m = re.search(r"\bexit (\d+)\b", comment)
        emit(path, n, "cmd", m.group(1) if m else "0", code)
    return True

def joined(lines):
    res, buf, start = [], None, 0
    for n, l in lines:
        s = l.strip()
        # a synopsis continued on an indented line: "      [--json]"
        if buf is None and res and l[:1] in " \t" and s[:1] in "[-" and FIRST.match(res[-1][1].strip()):
            res[-1] = (res[-1][0], res[-1][1] + " " + s)
            continue
        if buf is None:
            buf, start = "", n
        if l.rstrip().endswith("\\"):
            buf += l.rstrip()[:-1] + " "
            continue
        res.append((start, buf + l))
        buf = None
    if buf is not None:
        res.append((start, buf))
    return res

def code_block(path, block, heading):
    items = joined(block)
    takes = any(SNAP_TAKE.match(l.strip()) and "/var/backups/backstop" in l for _, l in items)
    block_id[:] = [path, block[0][0] if block else 0, takes]
    if any(l.lstrip().startswith("$ ") for _, l in block):
        items = [(n, l.lstrip()[2:]) for n, l in items if l.lstrip().startswith("$ ")]
    if path == "README.md" and heading.startswith("escape hatch"):
        for n, l in items:
            if split_comment(l)[0].strip():
                emit(path, n, "hatch", "0", l)
        return
    has_backstop = any(FIRST.match(split_comment(l)[0].strip()) for _, l in items)
    for n, l in items:
        code = split_comment(l)[0].strip()
        if not classify(path, n, l) and has_backstop and code.split(" ")[0] in SETUP_WORDS:
            emit(path, n, "setup", "0", code)

def markdown(path, text):
    block_id[:] = ["", 0, False]
    in_block, lang, block, heading = False, "", [], ""
    for n, l in enumerate(text.split("\n"), 1):
        m = re.match(r"^\s*```\s*([A-Za-z]*)", l)
        if m:
            if not in_block:
                in_block, lang, block = True, m.group(1).lower(), []
            else:
                in_block = False
                if lang in SHELL_LANGS:
                    code_block(path, block, heading)
            continue
        if in_block:
            block.append((n, l))
            continue
        if l.startswith("#"):
            heading = l.lstrip("#").strip().lower()
        for span in re.findall(r"`([^`]+)`", l):
            w = span.split()
            if (len(w) > 2 and w[0] == "backstop" and (w[1] in COMMANDS or w[1].startswith("<"))
                    and any(x.startswith("-") for x in w)):
                block_id[:] = ["", 0, False]
                classify(path, n, span)

def other(path, text):
    for n, l in enumerate(text.split("\n"), 1):
        s = l.strip()
        m = CRON.match(l)
        if m and not s.startswith("#") and "backstop" in m.group(3):
            classify(path, n, m.group(3))
        elif s.startswith("ExecStart="):
            block_id[:] = ["", 0, False]
            if not classify(path, n, s[len("ExecStart="):]):
                emit(path, n, "cmd", "0", s[len("ExecStart="):])
        elif s.startswith("#"):
            w = s.lstrip("#").split()
            if len(w) > 1 and w[0] == "backstop" and w[1] in COMMANDS:
                classify(path, n, " ".join(w))

# ---- substitution (values from the environment, see the header)
E = os.environ.get
fresh_n = [0]

def fresh(kind):
    fresh_n[0] += 1
    return "%s%d" % (E("DX_FRESH_PREFIX", "docs_new_") + kind + "_", fresh_n[0])

def map_db(name):
    if name == "app":
        return E("DX_SRC")
    if name == "postgres":
        return "postgres"
    return fresh(re.sub(r"[^a-z0-9_]", "_", name.lower())[:20])

def conninfo(db):
    return "host=%s port=%s user=postgres dbname=%s" % (E("PGHOST"), E("PGPORT"), db)

def subst(text, kind):
    root = ""
    t = text
    t = re.sub(r"/usr/local/bin/backstop", "backstop", t)
    t = re.sub(r"postgresql://[^@/'\" ]+@[^/'\" ]+/([A-Za-z0-9_]+)",
               lambda m: conninfo(map_db(m.group(1))), t)
    if kind == "hatch":
        t = re.sub(r"\bnewdb\b", E("DX_FRESH_PREFIX") + "hatch", t)
    else:
        t = re.sub(r"(\s(?:-d|--dbname|--db|--database|--target)[ =])([a-z][a-z0-9_]*)(?=\s|$)",
                   lambda m: m.group(1) + map_db(m.group(2)), t)
    t = re.sub(r"(\s(?:-h|--host)[ =])([A-Za-z][\w.-]*)", lambda m: m.group(1) + E("PGHOST"), t)
    t = re.sub(r"(\s(?:-p|--port)[ =])(\d+)", lambda m: m.group(1) + E("PGPORT"), t)
    t = re.sub(r"(\s(?:-U|--username)[ =])(\w+)", lambda m: m.group(1) + "postgres", t)
    root = "%s/fresh/%s.%d" % (E("BS_TMP"), re.sub(r"\W", "_", block_id[0]), block_id[1])
    if kind != "config" and block_id[2]:
        # a block that takes snapshots into /var/backups/backstop starts
        # on a machine without that repository: it must create it
        os.makedirs(root + "/var/backups", exist_ok=True)
        t = t.replace("/var/backups/backstop", root + "/var/backups/backstop")
    t = t.replace("/var/backups/backstop", E("DX_REPO"))
    t = t.replace("/etc/backstop/hooks/", E("BS_ROOT") + "/hooks/")
    if kind != "config" and (kind == "setup" or re.search(r"\bkeygen\b", t)) and "/etc/backstop" in t:
        os.makedirs(root + "/etc", exist_ok=True)
        t = t.replace("/etc/backstop", "\0FRESH\0")
    t = t.replace("/etc/backstop", E("DX_ETC")).replace("\0FRESH\0", root + "/etc/backstop")
    t = t.replace("/usr/local/share/backstop/", E("BS_ROOT") + "/")
    # probes: the web fixture, the harness cluster, watches of seconds
    t = t.replace("https://app.example.com", E("DX_WEB_HTTP"))
    t = re.sub(r"(--tls[ =])app\.example\.com:443", lambda m: m.group(1) + "localhost:%s --ca-file %s" % (E("DX_WEB_TLS_PORT"), E("DX_WEB_CA")), t)
    t = re.sub(r"^([ \t]*)host: app\.example\.com[ \t]*$", lambda m: "%shost: localhost:%s\n%sca_file: %s" % (m.group(1), E("DX_WEB_TLS_PORT"), m.group(1), E("DX_WEB_CA")), t, flags=re.M)
    t = re.sub(r"\bdb(\.internal)?:5432\b", "127.0.0.1:%s" % E("PGPORT"), t)
    t = re.sub(r"\bhost=db(\.internal)?\b", "host=%s port=%s" % (E("PGHOST"), E("PGPORT")), t)
    t = re.sub(r"\buser=monitor\b", "user=postgres", t)
    t = re.sub(r"^([ \t]*)database: app[ \t]*$", lambda m: m.group(1) + "database: " + E("DX_SRC", "app"), t, flags=re.M)
    if "host=" + E("PGHOST", "") in t:
        t = re.sub(r"\bdbname=app\b", "dbname=%s" % E("DX_SRC"), t)
        if "user=" not in t:
            t = t.replace("host=%s" % E("PGHOST"), "host=%s user=postgres" % E("PGHOST"))
    t = re.sub(r"(--interval[ =])10s\b", r"\g<1>1s", t)
    t = re.sub(r"(--for[ =])(30|60)m\b", r"\g<1>2s", t)
    t = t.replace("/var/lib/backstop", E("BS_TMP") + "/var-lib-backstop")
    t = t.replace("/var/lib/prometheus/node-exporter", E("BS_TMP") + "/metrics")
    t = re.sub(r"\bage1(\.\.\.|[02-9ac-hj-np-z]{58})", E("DX_RECIPIENT"), t)
    t = re.sub(r"\b\d{8}T\d{6}Z-[0-9a-f]{6}\b|<id>", E("DX_SNAPID"), t)
    t = re.sub(r"\bDBNAME\b", '"$DX_KEPT_DB"', t)
    t = t.replace("~/.ssh/id_ed25519", E("DX_SSH_KEY"))
    t = t.replace('"$GITHUB_STEP_SUMMARY"', E("BS_TMP") + "/step-summary.md")
    return t

mode = sys.argv[1]
if mode == "--config":
    sys.stdout.write(subst(open(sys.argv[2], encoding="utf-8").read(), "config"))
    sys.exit(0)
os.chdir(E("BS_ROOT"))
for path in sys.argv[2:]:
    text = open(path, encoding="utf-8").read()
    (markdown if path.endswith(".md") else other)(path, text)
for path, n, kind, ex, text, blk in out:
    block_id[:] = list(blk) if blk[0] else [path, n, False]
    if mode == "--list":
        print("%s\t%s\t%s\t%s\t%s" % (path, n, kind, ex, text))
        continue
    runs = [text]
    if "<cmd>" in text:
        runs = [text.replace("<cmd>", c) for c in E("DX_COMMANDS", "").split()]
    for r in runs:
        print("%s\t%s\t%s\t%s\t%s\t%s" % (path, n, kind, ex, text, subst(r, kind)))
PY
}

if [ "${1:-}" = --list ]; then
	docs_py --list "${DOCS[@]}"
	exit 0
fi

# ------------------------------------------------------------- fixture
SRC=
REPO=$BS_TMP/repo
ETC=$BS_TMP/etc
SNAPID=
RECIPIENT=
setup_fixture() {
	web_start "$BS_TMP/web" >"$BS_TMP/web.log" 2>&1 || { cat "$BS_TMP/web.log"; return 1; }
	bs_on_exit web_stop
	export DX_WEB_HTTP=$BS_WEB_HTTP DX_WEB_TLS_PORT=$BS_WEB_PORT_VALID DX_WEB_CA=$BS_WEB_CA
	SRC=$(new_db docs_app) || return 1
	bs_on_exit drop_db "$SRC"
	"$BS_PGBIN/pgbench" -i -s 1 -q "$SRC" >/dev/null 2>&1 || return 1
	mkdir -p "$ETC" "$BS_TMP/metrics" "$BS_TMP/var-lib-backstop" && chmod 0700 "$ETC" || return 1
	RECIPIENT=$(bs keygen -o "$ETC/restore-key.txt" 2>/dev/null | tail -n 1) || return 1
	bs repo init --repo "$REPO" -q || return 1
	SNAPID=$(bs snap -d "$SRC" -h "$PGHOST" -p "$PGPORT" --repo "$REPO" --recipient "$RECIPIENT" -q) || return 1
	export DX_SRC=$SRC DX_REPO=$REPO DX_ETC=$ETC DX_SNAPID=$SNAPID DX_RECIPIENT=$RECIPIENT
	export DX_FRESH_PREFIX="docs_new_$$_" DX_KEPT_DB=
	# gate: the shipped policies installed beside the configuration, and an
	# approver's SSH key
	cp -r "$BS_ROOT/policies" "$ETC/policies" || return 1
	ssh-keygen -q -t ed25519 -N '' -C approver@example.com -f "$BS_TMP/id_ed25519" || return 1
	export DX_SSH_KEY=$BS_TMP/id_ed25519
	# <cmd> in the docs: every command `backstop --help` lists
	DX_COMMANDS=$(bs --help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' | tr '\n' ' ')
	export DX_COMMANDS
	[ -n "$DX_COMMANDS" ] || return 1
	docs_py --config "$BS_ROOT/contrib/backstop.yaml.example" >"$ETC/backstop.yaml" || return 1
	chmod 0600 "$ETC/backstop.yaml"
}

# Databases the examples create (restore --create targets) are dropped at exit.
drop_fresh_dbs() {
	local d
	for d in $(pg postgres "select datname from pg_database where datname like 'docs\_new\_$$\_%'"); do
		drop_db "$d"
	done
}
bs_on_exit drop_fresh_dbs

t_fixture() {
	setup_fixture || t_fail "could not set up the fixture (database, key, repository, snapshot, config)"
	check "the example configuration (contrib/backstop.yaml.example, substituted) names existing hooks" \
		check_hook_paths "$ETC/backstop.yaml"
	check "every /etc/backstop/hooks/NAME in the docs is a hook shipped in hooks/" check_hook_names
}

# check_hook_names: the docs install hooks/ as /etc/backstop/hooks/, so every
# such path they name (commented-out ones too) must be a shipped hook.
check_hook_names() {
	local bad=0 p
	for p in $(cd "$BS_ROOT" && grep -ohE '/etc/backstop/hooks/[A-Za-z0-9._-]+' README.md docs/*.md contrib -r | sort -u); do
		[ -x "$BS_ROOT/hooks/${p##*/}" ] || {
			echo "$p: no such hook in hooks/ ($(ls "$BS_ROOT/hooks" | tr '\n' ' '))"
			bad=1
		}
	done
	return $bad
}

# check_hook_paths FILE: every hooks: entry names an executable file.
check_hook_paths() {
	local bad=0 p
	for p in $(sed -n 's/^[[:space:]]*\(pre_snap\|post_snap\|on_failure\|post_drill\|drill_failed\):[[:space:]]*\([^#[:space:]]*\).*/\2/p' "$1"); do
		[ -x "$p" ] || {
			echo "hook $p is not an executable file (shipped hooks: $(ls "$BS_ROOT/hooks" | tr '\n' ' '))"
			bad=1
		}
	done
	return $bad
}
run_test "fixture: a database, a key, a repository with a snapshot, the example config" t_fixture

# -------------------------------------------------------------- running
N=0
# run_example ORIG CMD: run CMD (bash -c) in a directory of its own with
# the harness config; sets RC/OUT/ERR.
run_example() {
	N=$((N + 1))
	mkdir -p "$BS_TMP/ex.$N"
	run_cmd in_dir "$BS_TMP/ex.$N" "$2"
}
# in_dir DIR CMD: bash -c CMD in DIR, with the example configuration and
# $BS_BIN first on PATH (a subshell: the test's own directory stays)
in_dir() (
	cd "$1" || exit 99
	export BACKSTOP_CONFIG=$ETC/backstop.yaml PATH=$BS_BIN:$PATH
	exec timeout -k 10 "$BS_CMD_TIMEOUT" bash -c "$2"
)

# options_of TEXT: every -x / --long option named in TEXT
options_of() {
	grep -oE '(^|[ [|(])--?[A-Za-z][A-Za-z0-9-]*' <<<"$1" | sed 's/^[ [|(]//' | sort -u
}

t_synopsis() {
	local text=$1 piece words cmd opt help
	# "backstop snap pin ID ... backstop snap unpin ID": one piece each
	while IFS= read -r piece; do
		[ -n "$piece" ] || continue
		words=()
		for w in $piece; do
			[[ $w =~ ^[a-z][a-z-]*$ ]] || break
			words+=("$w")
		done
		cmd="backstop ${words[*]}"
		help=$("$BS_BIN/backstop" "${words[@]}" --help 2>&1 </dev/null) ||
			{ t_fail "'$cmd --help' fails" "$help"; continue; }
		for opt in $(options_of "${piece#"${words[*]}"}"); do
			grep -qE -- "(^|[^A-Za-z0-9-])$opt([^A-Za-z0-9-]|\$)" <<<"$help" ||
				t_fail "'$cmd --help' does not know $opt"
		done
	done < <(sed 's/\(^\|[[:space:]]\)backstop[[:space:]]/\n/g' <<<"$text")
}

t_cmd() {
	local ex=$1 orig=$2 cmd=$3
	run_example "$orig" "$cmd"
	expect_exit "$ex" "exits $ex"
	case $cmd in *--keep*)
		DX_KEPT_DB=$(grep -ohE 'backstop_drill_[0-9]{14}_[0-9a-f]{6}' "$OUT_FILE" "$ERR_FILE" | tail -n 1)
		export DX_KEPT_DB
		;;
	esac
}

declare -A exception_used=()
exception_for() {
	local key=$1 e
	for e in "${EXCEPTIONS[@]}"; do
		if [ "${e%|*}" = "$key" ]; then
			exception_used[$key]=1
			echo "${e##*|}"
			return 0
		fi
	done
	return 1
}

HATCH=()
if [ -n "$SNAPID" ]; then
	docs_py --run "${DOCS[@]}" >"$BS_TMP/examples.tsv" ||
		not_ok "extracting the examples failed (python3 above)"
	while IFS=$'\t' read -r file line kind ex orig cmd; do
		name="$file:$line: $orig"
		[ ${#name} -le 150 ] || name="${name:0:147}..."
		if reason=$(exception_for "$file|$orig"); then
			skip "$name" "$reason"
			continue
		fi
		case $kind in
		synopsis) run_test "$name: every option is in --help" t_synopsis "${orig}" ;;
		cmd | setup)
			note=
			[[ $orig != *"<cmd>"* ]] || note=" (as: $cmd)"
			run_test "$name$note: exits $ex" t_cmd "$ex" "$orig" "$cmd"
			;;
		hatch) HATCH+=("$cmd") ;;
		*) not_ok "$name: unknown kind $kind" ;;
		esac
	done <"$BS_TMP/examples.tsv"
fi

for e in "${EXCEPTIONS[@]}"; do
	[ -n "${exception_used[${e%|*}]:-}" ] ||
		not_ok "exception '${e%|*}' matches no example any more: remove it"
done

# ------------------------------------------- what the docs say about output

# json_keys_missing DOC HEADING FILE [IGNORED..]: the keys of the first JSON
# block after the heading (containing HEADING) of DOC that the JSON document
# in FILE does not have, at any depth, but the IGNORED ones.  The docs'
# blocks are annotated pseudo-JSON ("a" | "b", // comments), so their keys
# are taken as "key": patterns.
json_keys_missing() {
	python3 - "$BS_ROOT/$1" "$2" "$3" "${@:4}" <<'PY'
import json, re, sys
doc, heading, path = sys.argv[1:4]
ignored = set(sys.argv[4:])
text = open(doc, encoding="utf-8").read()
m = re.search(r"^#+ [^\n]*" + re.escape(heading) + r"[^\n]*\n(.*?)^```json\n(.*?)^```", text, re.S | re.M)
if not m:
    print("no JSON block under a heading with '%s' in %s" % (heading, doc)); sys.exit(1)
documented = set(re.findall(r'"([a-z_]+)":', m.group(2)))
def keys(v, acc):
    if isinstance(v, dict):
        for k, x in v.items():
            acc.add(k); keys(x, acc)
    elif isinstance(v, list):
        for x in v: keys(x, acc)
    return acc
try:
    got = keys(json.load(open(path)), set())
except ValueError as e:
    print("the output is not one JSON document: %s" % e); sys.exit(1)
missing = sorted(documented - got - ignored)
if missing:
    print("documented but not in the output: " + ", ".join(missing)); sys.exit(1)
PY
}

# doc_alternatives DOC KEY: the values a JSON example of DOC lists for KEY
# in its comment ("verdict": "pass",  // "pass" | "fail").
doc_alternatives() {
	grep -E "\"$2\": \"[a-z-]+\",? +// " "$BS_ROOT/$1" | head -n 1 | sed 's|.*// *||' | grep -oE '"[a-z-]+"' | tr -d '"'
}

t_json_docs() {
	local repo=(--repo "$REPO") f=$BS_TMP/json.out
	bs snap list "${repo[@]}" --json >"$f" || t_fail "snap list --json failed"
	check "docs/cli.md's 'snap list --json' fields are in 'snap list --json'" json_keys_missing docs/cli.md 'snap list --json' "$f"
	bs snap show "$SNAPID" "${repo[@]}" --json >"$f" || t_fail "snap show --json failed"
	check "'snap show ID --json' prints one such object (docs/cli.md)" json_keys_missing docs/cli.md 'snap list --json' "$f" snapshots
	bs snap -d "$SRC" -h "$PGHOST" -p "$PGPORT" "${repo[@]}" --recipient "$RECIPIENT" --prune \
		--policy "$BS_ROOT/policies/retention.yaml" --json -q >"$f" || t_fail "snap --prune --json failed"
	check "snap --prune --json: stdout is one JSON document, the record with a 'prune' object (docs/cli.md)" \
		python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert "id" in d and "decisions" in d["prune"]' "$f"
	bs snap prune "${repo[@]}" --dry-run --json --policy "$BS_ROOT/policies/retention.yaml" >"$f" || t_fail "snap prune --json failed"
	check "docs/cli.md's 'snap prune --json' fields are in 'snap prune --dry-run --json'" json_keys_missing docs/cli.md 'snap prune --json' "$f"
	bs verify-restore "$SNAPID" "${repo[@]}" -i "$ETC/restore-key.txt" --scratch "$(db_conninfo postgres)" --json -q >"$f" ||
		t_fail "verify-restore --json failed"
	# --json has "tables" (every table) where the record has "table_mismatches"
	# (docs/drill.md, Outputs); a drill that passes has no findings to show
	# the fields of
	check "docs/drill.md's record fields are in 'verify-restore --json'" \
		json_keys_missing docs/drill.md 'drill record' "$f" table_mismatches area object message
}
run_test "the JSON documents the docs show have the fields the tool prints" t_json_docs

t_verdicts() {
	local f=$BS_TMP/verdict.json v documented
	documented=" $(doc_alternatives docs/drill.md verdict | tr '\n' ' ')"
	[ "$documented" != " " ] || { t_fail "docs/drill.md lists no verdicts"; return; }
	# A drill that cannot run: the scratch server is not there.
	bs verify-restore "$SNAPID" --repo "$REPO" -i "$ETC/restore-key.txt" --json -q \
		--scratch "host=$PGHOST port=1 dbname=postgres" >"$f" 2>/dev/null
	v=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["verdict"])' "$f" 2>&1)
	[[ $documented == *" $v "* ]] || t_fail "a drill that cannot run has verdict '$v'; docs/drill.md lists:$documented"
	[[ $documented == *" pass "* && $documented == *" fail "* ]] || t_fail "docs/drill.md lists:$documented"
}
run_test "docs/drill.md lists every drill verdict, 'error' (could not run) included" t_verdicts

# contrib/cron: "under --quiet ... a successful night sends no mail" and
# "snap: the snapshot id" on stdout.  Each cron line runs without its
# >/dev/null: stderr must be empty, and snap's stdout exactly one id.
t_cron_quiet() {
	local line cmd n=0
	while IFS=$'\t' read -r file line kind ex orig cmd; do
		[ "$file" = contrib/cron/backstop ] && [ "$kind" = cmd ] || continue
		n=$((n + 1))
		cmd=${cmd% >/dev/null}
		run_example "$orig" "$cmd"
		expect_exit 0 "line $line exits 0" || continue
		check_eq "line $line: nothing on stderr under --quiet (cron would mail it)" "$ERR" ""
		case $cmd in *" snap "*)
			[[ $OUT =~ ^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$ ]] ||
				t_fail "line $line: stdout is not exactly one snapshot id" "  stdout: $OUT"
			;;
		esac
	done <"$BS_TMP/examples.tsv"
	[ "$n" -gt 0 ] || t_fail "no cron lines found in contrib/cron/backstop"
}
[ -z "$SNAPID" ] || run_test "contrib/cron: a successful --quiet run prints nothing but results (stdout), nothing on stderr" t_cron_quiet

# Options named anywhere in the docs' text (not only in examples): every
# --long option is one that some backstop command's --help lists, or one of
# another program's listed here; every "-x/--long" pair is one --help shows
# as "-x, --long".
FOREIGN_OPTIONS=(
	--section --snapshot --format # pg_dump / pg_restore (escape hatch, format.md)
	--exit-on-error --file --decrypt --template --encoding --locale --lc-collate --analyze-only
	                              # pg_restore, age, createdb, vacuumdb (docs/escape-hatch.md, format.md)
	--arg --slurpfile             # jq (docs/escape-hatch.md)
	--now                         # systemctl enable --now (contrib/systemd)
	--no-deps --reuse-values --set # docker compose up, helm upgrade: rollback driver commands (docs/rollback.md)
	--system --home               # useradd (README: a user for the jobs)
	# restic's forget, compared with in docs/retention.md
	--keep-within --keep-daily --keep-weekly --keep-monthly --keep-yearly --keep-tag
	--keep-within-hourly --keep-within-yearly --unsafe-allow-remove-all --tag --group-by
)
t_doc_options() {
	local help opt files=() f used_foreign=" "
	while IFS= read -r f; do files+=("$BS_ROOT/$f"); done < <(printf '%s\n' "${DOCS[@]}" contrib/backstop.yaml.example)
	files+=("$BS_ROOT"/hooks/*)
	help=$(for c in "" $DX_COMMANDS "snap list" "snap show" "snap prune" "snap pin" "snap unpin" \
		"verify-restore list" "repo init" "probe validate" "gate check" "gate approve" "gate status" "gate validate" \
		"rollback record" "rollback list" "rollback mark" "rollback to" "rollback watch"; do
		# shellcheck disable=SC2086
		"$BS_BIN/backstop" $c --help 2>&1 </dev/null
	done)
	for opt in $(grep -ohE -- '(^|[^A-Za-z0-9-])--[a-z][a-z-]*' "${files[@]}" | sed 's/^[^-]*//' | sort -u); do
		if [[ " ${FOREIGN_OPTIONS[*]} " == *" $opt "* ]]; then
			used_foreign+="$opt "
			continue
		fi
		grep -qE -- "(^|[^a-z-])$opt([^a-z-]|\$)" <<<"$help" ||
			t_fail "the docs name $opt, which no 'backstop ... --help' lists" \
				"  $(grep -lE -- "(^|[^A-Za-z0-9-])$opt([^a-z-]|\$)" "${files[@]}" | sed "s|$BS_ROOT/||" | tr '\n' ' ')"
	done
	for opt in $(grep -ohE -- '(^|[^A-Za-z0-9-])-[A-Za-z?]/--[a-z][a-z-]*' "${files[@]}" | sed 's/^[^-]*//' | sort -u); do
		grep -qF -- "${opt%%/*}, ${opt#*/}" <<<"$help" ||
			t_fail "the docs pair ${opt%%/*} with ${opt#*/}, which no --help does ('${opt%%/*}, ${opt#*/}')"
	done
	for opt in "${FOREIGN_OPTIONS[@]}"; do
		[[ $used_foreign == *" $opt "* ]] || t_fail "FOREIGN_OPTIONS lists $opt, which no doc names any more: remove it"
	done
}
[ -z "$SNAPID" ] || run_test "every option the docs name is one the tool has (-x/--long pairs as --help pairs them)" t_doc_options

# ---------------------------------------------------------- escape hatch
t_hatch() {
	local dir=$BS_TMP/hatch db
	# README now links docs/escape-hatch.md, which escape_hatch.sh runs literally
	[ ${#HATCH[@]} -gt 0 ] || { t_skip "README links docs/escape-hatch.md (tests/integration/escape_hatch.sh runs it)"; return; }
	mkdir -p "$dir"
	install -m 0600 "$ETC/restore-key.txt" "$dir/restore-key.txt"
	db=${DX_FRESH_PREFIX}hatch
	# README's lines, substituted, as one script that stops at the first failure
	{
		echo 'set -e -o pipefail'
		printf '%s\n' "${HATCH[@]}"
	} >"$dir/hatch.sh"
	run_cmd env -C "$dir" bash "$dir/hatch.sh"
	expect_exit 0 "README's escape hatch runs to the end" || { t_fail "script:" "$(cat "$dir/hatch.sh")"; return; }
	check_eq "the table the escape hatch loads has the source's rows" \
		"$(pg "$db" 'select count(*) from public.pgbench_accounts' 2>&1)" \
		"$(pg "$SRC" 'select count(*) from public.pgbench_accounts')"
}
[ -z "$SNAPID" ] || run_test "README.md: the escape hatch, run literally (substituted), restores the table it shows" t_hatch

t_readme_config() {
	# README's getting-started configuration, with this machine's files for
	# the ones it names, loads strictly (every key known, every value valid)
	local y=$BS_TMP/readme-config.yaml f
	awk '/^\*\*3\. Configuration/ { on = 1 } on && /^```yaml$/ { inb = 1; next } inb && /^```$/ { exit } inb' \
		"$BS_ROOT/README.md" >"$y"
	check "README has the configuration block" test -s "$y"
	for f in s3-access-key s3-secret-key slack-webhook-url; do
		printf 'x\n' >"$BS_TMP/$f" && chmod 600 "$BS_TMP/$f"
	done
	sed -i -e "s|/etc/backstop/|$BS_TMP/|" -e "s|/usr/local/share/backstop/|$BS_ROOT/|" \
		-e "s|/var/lib/prometheus/node-exporter|$BS_TMP|" -e "s|age1\.\.\.|$RECIPIENT|" "$y"
	printf 'probes:\n  db:\n    kind: tcp\n    host: 127.0.0.1:%s\n' "$PGPORT" >>"$y"
	run_cmd bs probe validate --config "$y"
	expect_exit 0 "the configuration loads (probe validate reads the whole file strictly)"
}
run_test "README.md: the getting-started configuration loads as written" t_readme_config

done_testing
