#!/usr/bin/env bash
# contrib.sh - the files in contrib/ (but contrib/prometheus, tested with the
# alert rules) are checked with the tools that exist here:
#   * systemd units: `systemd-analyze verify` (ExecStart rewritten to the
#     built binary), which must also fail on broken copies of them; the
#     sandboxing directives; the timers' catch-up and spread;
#   * the cron file: five time fields, a user, a backstop command;
#   * every YAML file parses (python3-yaml), and the workflows, the
#     CronJobs and the compose file have the structure they promise;
#   * every backstop command line in contrib (ExecStart, cron, workflow
#     steps, CronJob commands, the compose loop, comments, README) names a
#     real command and verb and only options its --help lists; the checker
#     must flag broken lines;
#   * the configurations load: compose/backstop.yaml with the go-live
#     policy's probes, the CronJobs' ConfigMap; the CronJobs' and the
#     compose loop's commands run against the test cluster with them; the
#     read-only role the compose file documents can snap;
#   * the compose file's image line: pinned by the pipelines' deploy edit,
#     and pinned back by `backstop rollback to` through the compose driver
#     (a stand-in for docker compose);
#   * bash completion, sourced in `bash --norc` and driven as bash drives
#     it; zsh's, with `zsh -n` when zsh is installed.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

C=$BS_ROOT/contrib
PY=/usr/bin/python3
HELPER=$BS_TMP/contrib_check.py
have_yaml() { "$PY" -c 'import yaml' 2>/dev/null; }

cat >"$HELPER" <<'PY'
"""contrib.sh's helper: extract and check backstop command lines, parse and
inspect the YAML files.  Usage: contrib_check.py MODE ARGS.. (see below)."""
import json, os, re, shlex, subprocess, sys

BIN = os.environ["BS_BIN"]
ROOT = os.environ["BS_ROOT"]
HELP = {}


def helptext(args):
    """`backstop ARGS --help`: (exit status, text), cached."""
    key = tuple(args)
    if key not in HELP:
        p = subprocess.run([BIN + "/backstop"] + list(args) + ["--help"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        HELP[key] = (p.returncode, p.stdout)
    return HELP[key]


def first_line(args):
    rc, text = helptext(args)
    return text.split("\n", 1)[0] if rc == 0 else ""


def is_verb(cmd, word):
    return re.match(r"[a-z][a-z-]*$", word) is not None and \
        (first_line([cmd, word]) + " ").startswith("usage: backstop %s %s " % (cmd, word))


def options(args):
    """{option: takes a value} of `backstop ARGS --help`, short and long."""
    opts = {}
    for line in helptext(args)[1].split("\n"):
        m = re.match(r"^ {2,8}(?:(-[^ -]), )?(--[a-z0-9][a-z0-9-]*)( [A-Z'][^ ]*)?", line)
        if m:
            for o in (m.group(1), m.group(2)):
                if o:
                    opts[o] = bool(m.group(3))
    return opts


OPS = set(";&|<>()")


def command_argvs(script):
    """The backstop command lines of a shell script: argv lists from each
    'backstop ...' or 'backstop-CMD ...' in command position to the first
    shell operator."""
    script = re.sub(r"\\\n[ \t]*", " ", script)
    found = []
    for line in script.split("\n"):
        for m in re.finditer(r"(?:^|[;&|(]|\b(?:then|do|if|else|!))\s*((?:/usr/local/bin/)?backstop(?:-[a-z-]+)?)(?=\s|$)", line):
            lex = shlex.shlex(line[m.start(1):], posix=True, punctuation_chars=True)
            lex.whitespace_split = True
            argv = []
            try:
                for tok in lex:
                    if tok and all(c in OPS for c in tok):
                        break
                    if tok.startswith("#"):
                        break
                    argv.append(tok)
            except ValueError as e:
                argv.append("<unparsable: %s>" % e)
            found.append(argv)
    return found


def comment_argvs(text):
    """Comment lines that are a backstop command, indented as code is:
    '#   backstop CMD ...' (not prose: '# backstop counts ...')."""
    out = []
    for n, line in enumerate(text.split("\n"), 1):
        m = re.match(r"^\s*#+\s{2,}((/usr/local/bin/)?backstop(-[a-z-]+)? .*)$", line)
        if m:
            out += [(n, a) for a in command_argvs(m.group(1))]
    return out


def load_yaml(path):
    import yaml
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f)]


def extract(path):
    """(line or key, argv) for every backstop command line of a contrib file."""
    text = open(path, encoding="utf-8").read()
    rel = os.path.relpath(path, ROOT)
    out = comment_argvs(text)
    if rel.startswith("contrib/systemd/"):
        for n, line in enumerate(text.split("\n"), 1):
            if line.startswith("ExecStart="):
                out += [(n, a) for a in command_argvs(line[len("ExecStart="):].lstrip("-@:+!"))]
    elif rel.startswith("contrib/cron/"):
        for n, line in enumerate(text.split("\n"), 1):
            f = line.split(None, 6)
            if line.strip() and not line.lstrip().startswith("#") and "=" not in f[0] and len(f) == 7:
                out += [(n, a) for a in command_argvs(f[6])]
    elif rel.endswith("README.md"):
        for n, line in enumerate(text.split("\n"), 1):
            # a command in a code span: the name alone, or with a verb, is
            # prose ('backstop rollback'); with an option it is a command line
            for span in re.findall(r"`(backstop[^`]*)`", line):
                if len(span.split()) > 2 and any(w.startswith("-") for w in span.split()):
                    out += [(n, a) for a in command_argvs(span)]
    elif rel.endswith((".yml", ".yaml")):
        for d in load_yaml(path):
            for where, script in scripts_of(d):
                out += [(where, a) for a in command_argvs(script)]
    return out


def scripts_of(d, where=""):
    """Shell scripts in a YAML document: workflow 'run:', GitLab
    'script:'/'before_script:'/'after_script:', container 'command:'/'args:'
    lists (joined), compose 'command:'/'entrypoint:'."""
    if isinstance(d, dict):
        for k, v in d.items():
            w = "%s.%s" % (where, k) if where else str(k)
            if k == "run" and isinstance(v, str):
                yield w, v
            elif k in ("script", "before_script", "after_script") and isinstance(v, list):
                yield w, "\n".join(x for x in v if isinstance(x, str))
            elif k in ("command", "args", "entrypoint") and isinstance(v, list) and all(isinstance(x, str) for x in v):
                if v and os.path.basename(v[0]).startswith("backstop"):
                    yield w, " ".join(shlex.quote(x) for x in v)
                else:
                    for x in v:  # sh -c SCRIPT
                        yield w, x.replace("$$", "$") if "services." in w else x
            elif k in ("command", "entrypoint") and isinstance(v, str):
                yield w, v.replace("$$", "$") if "services." in w else v
            else:
                yield from scripts_of(v, w)
    elif isinstance(d, list):
        for i, x in enumerate(d):
            yield from scripts_of(x, "%s[%d]" % (where, i))


def check_argv(argv):
    """Problems with one backstop command line (an empty list: none)."""
    probs = []
    prog = os.path.basename(argv[0])
    rest = argv[1:]
    if prog == "backstop":
        if not rest:
            return ["no command"]
        cmd, rest = rest[0], rest[1:]
    else:
        cmd = prog[len("backstop-"):]
    if not first_line([cmd]).startswith("usage: backstop %s" % cmd):
        return ["'%s' is not a backstop command" % cmd]
    args = [cmd]
    words = [w for w in rest if not w.startswith("-")]
    top = first_line([cmd]).split()
    needs_verb = len(top) > 3 and re.match(r"[a-z][a-z|-]*$", top[3]) and \
        all(is_verb(cmd, v) for v in top[3].split("|"))
    if rest and not rest[0].startswith("-") and is_verb(cmd, rest[0]):
        args.append(rest[0])
        rest = rest[1:]
    elif needs_verb:
        return ["'backstop %s' needs a verb; '%s' is not one" % (cmd, words[0] if words else "")]
    opts = options(args)
    skip = False
    for tok in rest:
        if skip:
            skip = False
            continue
        if tok == "--" or not tok.startswith("-") or tok == "-":
            continue
        name = tok.split("=", 1)[0]
        if name not in opts:
            probs.append("'backstop %s --help' does not list %s" % (" ".join(args), name))
        elif opts[name] and "=" not in tok:
            skip = True
    return probs


def main():
    mode = sys.argv[1]
    if mode == "extract":
        # extract FILE..: JSON lines {file, where, argv}
        for path in sys.argv[2:]:
            for where, argv in extract(path):
                print(json.dumps({"file": os.path.relpath(path, ROOT), "where": where, "argv": argv}))
    elif mode == "check":
        # check < JSON lines: every problem, one a line; exit 1 if any
        bad = 0
        for line in sys.stdin:
            e = json.loads(line)
            for p in check_argv(e["argv"]):
                print("%s:%s: %s: %s" % (e["file"], e["where"], " ".join(e["argv"]), p))
                bad = 1
        sys.exit(bad)
    elif mode == "scripts":
        # scripts FILE: the shell scripts of a YAML file, as "where<TAB>json"
        for d in load_yaml(sys.argv[2]):
            for where, script in scripts_of(d):
                print("%s\t%s" % (where, json.dumps(script)))
    elif mode == "parse":
        # parse FILE..: every document of each file loads
        bad = 0
        for path in sys.argv[2:]:
            try:
                docs = load_yaml(path)
                if not any(d is not None for d in docs):
                    raise ValueError("no document")
            except Exception as e:
                print("%s: %s" % (os.path.relpath(path, ROOT), e))
                bad = 1
        sys.exit(bad)
    elif mode == "configmap":
        # configmap FILE DIR: the ConfigMap's data files into DIR
        for d in load_yaml(sys.argv[2]):
            if d and d.get("kind") == "ConfigMap":
                for k, v in d["data"].items():
                    with open(os.path.join(sys.argv[3], k), "w") as f:
                        f.write(v)
    elif mode == "cronjob-command":
        # cronjob-command FILE NAME: the CronJob's container command, NUL-separated
        for d in load_yaml(sys.argv[2]):
            if d and d.get("kind") == "CronJob" and d["metadata"]["name"] == sys.argv[3]:
                c = d["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
                sys.stdout.write("\0".join(c["command"] + c.get("args", [])))
    elif mode == "config-copy":
        # config-copy SRC DST KEY.PATH=JSON..: a backstop.yaml with keys replaced
        import yaml
        cfg = load_yaml(sys.argv[2])[0]
        for a in sys.argv[4:]:
            k, v = a.split("=", 1)
            node, keys = cfg, k.split(".")
            for key in keys[:-1]:
                node = node[key]
            node[keys[-1]] = json.loads(v)
        with open(sys.argv[3], "w") as f:
            yaml.safe_dump(cfg, f, default_flow_style=False)
    elif mode == "script-line":
        # script-line FILE PREFIX: the first line of the file's scripts that
        # starts with PREFIX (as the shell gets it: YAML parsed)
        for d in load_yaml(sys.argv[2]):
            for where, script in scripts_of(d):
                for line in re.sub(r"\\\n[ \t]*", " ", script).split("\n"):
                    if line.strip().startswith(sys.argv[3]):
                        print(line.strip())
                        return
        sys.exit(1)
    elif mode == "image":
        # image FILE SERVICE: a compose service's image
        print(load_yaml(sys.argv[2])[0]["services"][sys.argv[3]]["image"])
    else:
        sys.exit("unknown mode " + mode)


main()
PY

# ------------------------------------------------------------------ systemd

# unit_copies DIR: the units in DIR, ExecStart on the built binary.
unit_copies() {
	mkdir -p "$1" && cp "$C"/systemd/*.service "$C"/systemd/*.timer "$1"/ &&
		sed -i "s|/usr/local/bin/backstop|$BS_BIN/backstop|g" "$1"/*.service
}

# verify_units FILE..: systemd-analyze verify, which must exit 0 and say
# nothing (unknown keys and bad values are only warnings there).
verify_units() {
	local out rc=0
	out=$(cd "$(dirname "$1")" && systemd-analyze verify "$@" 2>&1) || rc=$?
	# a user that does not exist on this machine is not the unit's fault
	out=$(grep -v -i "user.*backstop.*\(not found\|does not exist\|unknown\)" <<<"$out")
	if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
		printf 'systemd-analyze verify: exit %s\n%s\n' "$rc" "$out"
		return 1
	fi
}

t_units_verify() {
	command -v systemd-analyze >/dev/null || { t_skip "systemd-analyze is not installed"; return; }
	unit_copies "$BS_TMP/units" || { t_fail "cannot copy the units"; return; }
	check "systemd-analyze verify: every unit, no warning" verify_units "$BS_TMP"/units/*
	check_eq "four units (snap and drill, service and timer)" "$(ls "$BS_TMP/units" | tr '\n' ' ')" \
		"backstop-drill.service backstop-drill.timer backstop-snap.service backstop-snap.timer "
}
run_test "systemd units: systemd-analyze verify passes them" t_units_verify

# The check above must be able to fail: each broken copy is reported.
t_units_broken() {
	local d=$BS_TMP/broken name
	command -v systemd-analyze >/dev/null || { t_skip "systemd-analyze is not installed"; return; }
	for name in typo value exec calendar; do
		mkdir -p "$d/$name"
		unit_copies "$d/$name" || return
	done
	sed -i 's/^ProtectSystem=strict/ProtectSytem=strict/' "$d/typo/backstop-snap.service"
	sed -i 's/^RestrictNamespaces=yes/RestrictNamespaces=maybe/' "$d/value/backstop-snap.service"
	sed -i "s|^ExecStart=$BS_BIN/backstop|ExecStart=$BS_TMP/no-such-backstop|" "$d/exec/backstop-drill.service"
	sed -i 's/^OnCalendar=.*/OnCalendar=Sun *-*-* 25:00:00 UTC/' "$d/calendar/backstop-drill.timer"
	for name in typo value exec calendar; do
		run_cmd verify_units "$d/$name"/*
		[ "$RC" -ne 0 ] || t_fail "a unit broken by '$name' passes the check"
	done
}
run_test "systemd units: the check fails on a misspelt key, a bad value, a missing binary, a bad calendar" t_units_broken

t_units_hardening() {
	local f d
	for f in "$C"/systemd/*.service; do
		for d in 'User=backstop' 'Group=backstop' 'Type=oneshot' 'NoNewPrivileges=yes' 'ProtectSystem=strict' \
			'ProtectHome=yes' 'PrivateTmp=yes' 'PrivateDevices=yes' 'ProtectKernelTunables=yes' \
			'ProtectKernelModules=yes' 'ProtectKernelLogs=yes' 'ProtectControlGroups=yes' \
			'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' 'LockPersonality=yes' \
			'MemoryDenyWriteExecute=yes' 'RestrictNamespaces=yes' 'SystemCallFilter=@system-service' \
			'CapabilityBoundingSet=' 'StateDirectory=backstop' 'Environment=BACKSTOP_CONFIG=/etc/backstop/backstop.yaml'; do
			grep -qxF -- "$d" "$f" || t_fail "${f#"$BS_ROOT"/}: no '$d'"
		done
		grep -qE '^TimeoutStartSec=[0-9]+h$' "$f" || t_fail "${f#"$BS_ROOT"/}: no TimeoutStartSec= in hours"
		grep -qE '^ReadWritePaths=.*/var/backups/backstop' "$f" || t_fail "${f#"$BS_ROOT"/}: the repository is not writable"
		grep -qE '^ReadWritePaths=.*/var/lib/prometheus/node-exporter' "$f" || t_fail "${f#"$BS_ROOT"/}: the metrics directory is not writable"
		grep -q '^OnFailure=' "$f" && t_fail "${f#"$BS_ROOT"/}: OnFailure= names a unit this project does not ship"
	done
	for f in "$C"/systemd/*.timer; do
		grep -qx 'Persistent=true' "$f" || t_fail "${f#"$BS_ROOT"/}: no Persistent=true"
		grep -qE '^RandomizedDelaySec=[0-9]+m$' "$f" || t_fail "${f#"$BS_ROOT"/}: no RandomizedDelaySec="
		grep -qE '^OnCalendar=.* UTC$' "$f" || t_fail "${f#"$BS_ROOT"/}: OnCalendar= is not in UTC"
	done
	# systemd's own rating of the sandbox, where this systemd has it
	command -v systemd-analyze >/dev/null || return 0
	for f in "$BS_TMP"/units/*.service; do
		run_cmd systemd-analyze security --offline=yes "$f"
		[ "$RC" -eq 0 ] || continue
		[[ $OUT =~ exposure\ level\ for\ [^:]*:\ ([0-9]+)\.([0-9]) ]] || continue
		((BASH_REMATCH[1] * 10 + BASH_REMATCH[2] <= 20)) ||
			t_fail "${f##*/}: systemd-analyze security rates it ${BASH_REMATCH[1]}.${BASH_REMATCH[2]} (more than 2.0)"
	done
}
run_test "systemd units: sandboxed, dedicated user, time limits; timers catch up and spread" t_units_hardening

# --------------------------------------------------------------------- cron

t_cron() {
	local f=$C/cron/backstop line n=0 fields
	check "the cron file ends with a newline (cron drops a last line without one)" test "$(tail -c 1 "$f" | od -An -c | tr -d ' ')" = '\n'
	while IFS= read -r line; do
		[[ $line =~ ^[[:space:]]*(#|$) ]] && continue
		[[ $line =~ ^[A-Z_]+= ]] && continue
		n=$((n + 1))
		read -ra fields <<<"$line"
		[ "${#fields[@]}" -ge 7 ] || { t_fail "not five time fields, a user and a command: $line"; continue; }
		[[ "${fields[*]:0:5} " =~ ^(([0-9*/,-]+)[[:space:]]+){5}$ ]] || t_fail "bad time fields: $line"
		[ "${fields[5]}" = backstop ] || t_fail "the job does not run as the user backstop: $line"
		[ "${fields[6]}" = /usr/local/bin/backstop ] || t_fail "the command is not /usr/local/bin/backstop: $line"
	done <"$f"
	check_eq "two jobs (snap, drill)" "$n" 2
	# the rest of each line (command, verb, options) is checked with every
	# other command line below
}
run_test "cron: five time fields, the user, the installed binary" t_cron

# --------------------------------------------------------------------- YAML

YAML_FILES=()
while IFS= read -r f; do YAML_FILES+=("$f"); done < <(
	find "$C" \( -path "$C/prometheus" -prune \) -o -type f \( -name '*.yaml' -o -name '*.yml' \) -print | sort
)

t_yaml_parse() {
	have_yaml || { t_skip "python3-yaml is not installed (scripts/install-deps.sh)"; return; }
	check_eq "the YAML files (contrib/prometheus apart)" \
		"$(printf '%s\n' "${YAML_FILES[@]#"$C"/}" | tr '\n' ' ')" \
		"compose/backstop.yaml compose/docker-compose.yaml github/deploy.yml gitlab/gitlab-ci.yml k8s/cronjob.yaml "
	check "every YAML file under contrib/ parses" "$PY" "$HELPER" parse "${YAML_FILES[@]}"
}
run_test "YAML: every file under contrib/ (but prometheus/) parses" t_yaml_parse

t_yaml_structure() {
	have_yaml || { t_skip "python3-yaml is not installed (scripts/install-deps.sh)"; return; }
	check "GitHub workflow: a tag trigger; gate before deploy; the deploy job in an environment, with a timeout beyond the watch" \
		"$PY" - "$C/github/deploy.yml" <<'EOF'
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
on = d.get("on", d.get(True))
assert on["push"]["tags"], "no tag trigger"
j = d["jobs"]
assert j["deploy"]["needs"] == "gate", "deploy does not need gate"
assert j["deploy"]["environment"] == "production"
assert j["deploy"]["timeout-minutes"] > 60
for name, job in j.items():
    assert job["runs-on"] and job["steps"], name
    for s in job["steps"]:
        assert "run" in s or "uses" in s, (name, s)
        assert "${{ secrets." not in s.get("run", ""), "a secret expanded into a script: " + s.get("name", "")
EOF
	check "GitLab CI: stages in order, every job in a stage, production jobs serialized" \
		"$PY" - "$C/gitlab/gitlab-ci.yml" <<'EOF'
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
stages = d["stages"]
assert stages.index("gate") < stages.index("deploy") < stages.index("watch")
jobs = {k: v for k, v in d.items() if isinstance(v, dict) and ("script" in v or "extends" in v)}
for name, job in jobs.items():
    if name.startswith("."):
        continue
    assert job["stage"] in stages, name
    full = dict(d.get(job.get("extends", ""), {}), **job)
    assert "script" in full, name
assert jobs["deploy"]["needs"] == ["gate"] and jobs["watch"]["needs"] == ["deploy"]
assert d[".production"]["resource_group"] == "production"
EOF
	check "CronJobs: non-root, read-only root, no capabilities, RuntimeDefault seccomp, Forbid, limits and deadlines" \
		"$PY" - "$C/k8s/cronjob.yaml" <<'EOF'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
kinds = sorted(d["kind"] for d in docs)
assert kinds == ["ConfigMap", "CronJob", "CronJob"], kinds
for d in docs:
    if d["kind"] != "CronJob":
        assert "backstop.yaml" in d["data"] and "recipients.txt" in d["data"]
        assert "AGE-SECRET-KEY" not in str(d["data"]), "a secret key in the ConfigMap"
        continue
    s = d["spec"]
    assert s["concurrencyPolicy"] == "Forbid", d["metadata"]["name"]
    j = s["jobTemplate"]["spec"]
    assert "backoffLimit" in j and j["activeDeadlineSeconds"] > 0
    p = j["template"]["spec"]
    assert p["restartPolicy"] == "Never" and p["automountServiceAccountToken"] is False
    sc = p["securityContext"]
    assert sc["runAsNonRoot"] is True and sc["runAsUser"] > 0
    assert sc["seccompProfile"]["type"] == "RuntimeDefault"
    for c in p["containers"] + p.get("initContainers", []):
        csc = c["securityContext"]
        assert csc["readOnlyRootFilesystem"] is True and csc["allowPrivilegeEscalation"] is False
        assert csc["capabilities"]["drop"] == ["ALL"], c["name"]
        assert c["resources"]["limits"]["memory"], c["name"]
    env = {e["name"]: e for e in p["containers"][0]["env"]}
    assert env["PGPASSFILE"]["value"].startswith("/run/backstop/")
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        assert "secretKeyRef" in env[k]["valueFrom"], k
EOF
	check "compose: the app, postgres:15 on prod-db-data, backstop with the config, secrets from files" \
		"$PY" - "$C/compose/docker-compose.yaml" <<'EOF'
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
s = d["services"]
assert set(s) >= {"app", "db", "backstop"}, set(s)
assert s["db"]["image"] == "postgres:15"
assert "prod-db-data:/var/lib/postgresql/data" in s["db"]["volumes"] and "prod-db-data" in d["volumes"]
assert any(v.startswith("./backstop.yaml:/etc/backstop/backstop.yaml") for v in s["backstop"]["volumes"])
assert s["backstop"]["environment"]["BACKSTOP_CONFIG"] == "/etc/backstop/backstop.yaml"
for name, sec in d["secrets"].items():
    assert "file" in sec, name
for svc in s.values():
    for k, v in (svc.get("environment") or {}).items():
        assert "PASSWORD" not in k or k.endswith("_FILE"), k
EOF
}
run_test "YAML: the workflows, the CronJobs and the compose file have the promised structure" t_yaml_structure

# ------------------------------------------------- backstop command lines

MY_FILES=()
while IFS= read -r f; do MY_FILES+=("$f"); done < <(
	find "$C/systemd" "$C/cron" "$C/k8s" "$C/github" "$C/gitlab" "$C/compose" -type f | sort
	echo "$C/README.md"
)

t_command_lines() {
	local f file want
	have_yaml || { t_skip "python3-yaml is not installed (scripts/install-deps.sh)"; return; }
	"$PY" "$HELPER" extract "${MY_FILES[@]}" >"$BS_TMP/lines.json" 2>"$BS_TMP/extract.err" ||
		{ t_fail "extracting the command lines failed" "$(cat "$BS_TMP/extract.err")"; return; }
	# each file names at least this many backstop command lines: an
	# extraction that finds nothing must not pass
	for want in systemd/backstop-snap.service:2 systemd/backstop-drill.service:1 cron/backstop:2 \
		k8s/cronjob.yaml:2 github/deploy.yml:4 gitlab/gitlab-ci.yml:4 compose/docker-compose.yaml:2; do
		file=${want%:*}
		f=$(grep -c "\"file\": \"contrib/$file\"" "$BS_TMP/lines.json")
		[ "$f" -ge "${want##*:}" ] || t_fail "contrib/$file: $f backstop command lines found, expected at least ${want##*:}"
	done
	check "every backstop command line names a real command and verb and only options of its --help" \
		"$PY" "$HELPER" check <"$BS_TMP/lines.json"
	for want in "gate check go-live" "rollback record" "rollback watch" "rollback to"; do
		grep -q "\"backstop\", \"${want// /\", \"}\"" "$BS_TMP/lines.json" ||
			t_fail "the pipelines do not run 'backstop $want'"
	done
}
run_test "contrib: every backstop command line is a real command, verb and options (--help)" t_command_lines

# The checker above must flag broken lines.
t_command_lines_broken() {
	local out
	have_yaml || { t_skip "python3-yaml is not installed (scripts/install-deps.sh)"; return; }
	mkdir -p "$BS_TMP/neg/contrib/systemd" "$BS_TMP/neg/contrib/github"
	printf '[Service]\nExecStart=/usr/local/bin/backstop snap --prnue --quiet\n' >"$BS_TMP/neg/contrib/systemd/x.service"
	cat >"$BS_TMP/neg/contrib/github/x.yml" <<-'EOF'
		jobs:
		  a:
		    steps:
		      - run: backstop gate chek go-live --release v1
		      - run: |
		          rc=0
		          backstop rollback watch app --fro 60m || rc=$?
		      - run: backstop-gate check go-live --polcy x.yaml >> out.md
		      - run: backstop snapp
		      - run: backstop rollback app --auto
	EOF
	BS_ROOT=$BS_TMP/neg "$PY" "$HELPER" extract "$BS_TMP"/neg/contrib/*/x.* >"$BS_TMP/neg.json"
	out=$("$PY" "$HELPER" check <"$BS_TMP/neg.json") && t_fail "the checker passed broken lines"
	for want in "does not list --prnue" "'backstop gate' needs a verb; 'chek'" "does not list --fro" \
		"does not list --polcy" "'snapp' is not a backstop command" "'backstop rollback' needs a verb; 'app'"; do
		grep -qF -- "$want" <<<"$out" || t_fail "the checker does not report: $want" "$out"
	done
}
run_test "contrib: the command-line check flags a misspelt option, verb or command" t_command_lines_broken

# ----------------------------------------------------- the configurations

t_configs_load() {
	have_yaml || { t_skip "python3-yaml is not installed (scripts/install-deps.sh)"; return; }
	run_cmd bs probe validate --config "$C/compose/backstop.yaml"
	expect_exit 0 "compose/backstop.yaml loads, and its probes are valid (probe validate)"
	run_cmd bs gate validate go-live --policy "$BS_ROOT/policies/go-live.yaml" --config "$C/compose/backstop.yaml"
	expect_exit 0 "compose/backstop.yaml has every probe the shipped go-live policy names (gate validate)"
	mkdir -p "$BS_TMP/k8s"
	"$PY" "$HELPER" configmap "$C/k8s/cronjob.yaml" "$BS_TMP/k8s" || { t_fail "no ConfigMap"; return; }
	printf 'kind: gate\nversion: 1\ngates:\n  - name: t\n    criteria:\n      - {kind: file, path: x}\n' >"$BS_TMP/tiny.yaml"
	run_cmd bs gate validate --policy "$BS_TMP/tiny.yaml" --config "$BS_TMP/k8s/backstop.yaml"
	expect_exit 0 "the CronJobs' ConfigMap backstop.yaml loads (gate validate with a policy of its own)"
	# and a broken key in either is refused, so the two checks above mean something
	sed 's/^retention:/retentoin:/' "$C/compose/backstop.yaml" >"$BS_TMP/bad.yaml"
	run_cmd bs probe validate --config "$BS_TMP/bad.yaml"
	expect_exit 2 "a misspelt key is refused (exit 2)"
	expect_stderr_contains "unknown key 'retentoin'"
}
run_test "configurations: compose/backstop.yaml and the CronJobs' ConfigMap load" t_configs_load

# run_env DIR VAR=VALUE.. -- ARGV..: ARGV in DIR with only these variables
# (and the harness's PATH and PG* connection)
run_env() {
	local dir=$1
	shift
	(cd "$dir" && exec env -i PATH="$BS_BIN:$PATH" HOME="$BS_TMP" LC_ALL=C.UTF-8 "$@")
}

SRC=$(new_db contrib_src)
pg "$SRC" "create table assessments (id int primary key, title text); insert into assessments select g, 'control ' || g from generate_series(1, 300) g; create table controls (code text primary key); insert into controls values ('A.5.1'), ('A.8.2');" >/dev/null
KEY=$BS_TMP/restore-key.txt
RECIPIENT=$(bs keygen -o "$KEY" 2>/dev/null)

# The CronJobs' own commands, with the ConfigMap's configuration (the
# recipients replaced by the test key's), against the test cluster: the
# bucket becomes a local repository, the database and the scratch server the
# harness's (the variables docs/config.md documents).
t_k8s_run() {
	local -a cmd envs
	have_yaml || { t_skip "python3-yaml is not installed (scripts/install-deps.sh)"; return; }
	[ -f "$BS_TMP/k8s/backstop.yaml" ] || { t_fail "no ConfigMap extracted"; return; }
	printf '# test key\n%s\n' "$RECIPIENT" >"$BS_TMP/k8s/recipients.txt"
	bs repo init --repo "$BS_TMP/k8s-repo" -q || return
	envs=(BACKSTOP_CONFIG="$BS_TMP/k8s/backstop.yaml" BACKSTOP_REPO="$BS_TMP/k8s-repo"
		BACKSTOP_DB="$(db_conninfo "$SRC")" BACKSTOP_SCRATCH="$(db_conninfo postgres)"
		BACKSTOP_IDENTITY_FILE="$KEY" TMPDIR="$BS_TMP")
	mapfile -d '' -t cmd < <("$PY" "$HELPER" cronjob-command "$C/k8s/cronjob.yaml" backstop-snap)
	check_eq "the snap CronJob runs backstop snap --prune" "${cmd[*]}" "backstop snap --prune"
	run_cmd run_env "$BS_TMP" "${envs[@]}" "${cmd[@]}"
	expect_exit 0 "the snap CronJob's command exits 0"
	expect_stdout_matches '^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$' "its stdout is the snapshot id"
	expect_stderr_contains "kept" "stderr has the prune report"
	mapfile -d '' -t cmd < <("$PY" "$HELPER" cronjob-command "$C/k8s/cronjob.yaml" backstop-drill)
	check_eq "the drill CronJob runs backstop verify-restore latest" "${cmd[*]}" "backstop verify-restore latest"
	run_cmd run_env "$BS_TMP" "${envs[@]}" "${cmd[@]}"
	expect_exit 0 "the drill CronJob's command exits 0 (the drill passed)"
}
run_test "k8s: the CronJobs' commands, with the ConfigMap's configuration, snap and drill the test database" t_k8s_run

# The compose stack's backstop loop, with compose/backstop.yaml and the
# environment the compose file gives it (the hosts db and scratch: the
# harness's; the recipient: the test key's).
t_compose_loop() {
	local script line n=0
	local -a envs
	have_yaml || { t_skip "python3-yaml is not installed (scripts/install-deps.sh)"; return; }
	sed "s/age1[0-9a-z]\{58\}/$RECIPIENT/" "$C/compose/backstop.yaml" >"$BS_TMP/compose-backstop.yaml"
	bs repo init --repo "$BS_TMP/compose-repo" -q || return
	envs=(BACKSTOP_CONFIG="$BS_TMP/compose-backstop.yaml" BACKSTOP_REPO="$BS_TMP/compose-repo"
		BACKSTOP_DB="$(db_conninfo "$SRC")" BACKSTOP_SCRATCH="$(db_conninfo postgres)"
		BACKSTOP_IDENTITY_FILE="$KEY" TMPDIR="$BS_TMP")
	script=$("$PY" "$HELPER" scripts "$C/compose/docker-compose.yaml" | grep '^services.backstop.command' | cut -f2-)
	script=$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1]))' "$script")
	check "the loop is valid sh (compose's \$\$ made \$)" sh -n -c "$script"
	while IFS= read -r line; do
		[[ $line =~ ^[[:space:]]*(backstop [^|]*)\ \|\|\  ]] || continue
		n=$((n + 1))
		run_cmd run_env "$BS_TMP" "${envs[@]}" bash -c "${BASH_REMATCH[1]}"
		expect_exit 0 "'${BASH_REMATCH[1]}' exits 0"
		check_eq "'${BASH_REMATCH[1]}': nothing on stderr under --quiet" "$ERR" ""
	done <<<"$script"
	check_eq "the loop runs two backstop commands (snap, drill)" "$n" 2
}
run_test "compose: the backstop service's snap and drill run with compose/backstop.yaml" t_compose_loop

# The read-only role the compose file's header creates can take a snapshot.
t_readonly_role() {
	local role=contrib_ro_$$
	pg postgres "create role $role login in role pg_read_all_data" >/dev/null || { t_fail "cannot create the role"; return; }
	bs_on_exit pg postgres "drop role if exists $role"
	run_cmd bs snap -d "$SRC" -U "$role" --repo "$BS_TMP/compose-repo" --recipient "$RECIPIENT" -q
	expect_exit 0 "a role with only pg_read_all_data snaps the database"
}
run_test "compose: the role 'backstop' of the compose file's header (pg_read_all_data) can snap" t_readonly_role

# The pipelines' deploy, on the compose file and compose/backstop.yaml (the
# repository, the database and the recipient made the test's; docker compose
# a stand-in that logs its argv): `rollback record --snap --json` as the
# pipelines run it, whose digest their edit pins in the compose file; then
# `backstop rollback to` (compose driver) pins the known-good one back.  Each
# change is the app's image line and nothing else.
t_compose_pin() {
	local img d1 d2 digest cf=$BS_TMP/app/docker-compose.yaml cfg=$BS_TMP/rollback.yaml sed_gh sed_gl
	have_yaml || { t_skip "python3-yaml is not installed (scripts/install-deps.sh)"; return; }
	img=$(sed -n 's/^    image: \(.*\)$/\1/p' "$C/compose/backstop.yaml")
	check_eq "the service's image is the compose app's (without the tag)" \
		"$("$PY" "$HELPER" image "$C/compose/docker-compose.yaml" app)" "$img:1.4.2"
	check_eq "the GitHub workflow deploys that image" \
		"$(sed -n 's/^  IMAGE: \(.*\)$/\1/p' "$C/github/deploy.yml")" "$img"
	d1=sha256:$(printf 'release 1' | sha256sum | cut -c1-64)
	d2=sha256:$(printf 'release 2' | sha256sum | cut -c1-64)
	mkdir -p "$BS_TMP/app"
	cp "$C/compose/docker-compose.yaml" "$cf"
	cat >"$BS_TMP/compose-cmd" <<-EOF
		#!/bin/sh
		printf '%s\n' "\$@" >"$BS_TMP/compose-cmd.argv"
	EOF
	chmod 0755 "$BS_TMP/compose-cmd"
	bs repo init --repo "$BS_TMP/ledger" -q || return
	"$PY" "$HELPER" config-copy "$C/compose/backstop.yaml" "$cfg" \
		"repository=\"$BS_TMP/ledger\"" "services.app.compose.file=\"$cf\"" \
		"services.app.compose.command=[\"$BS_TMP/compose-cmd\", \"-f\", \"{file}\", \"up\", \"-d\", \"--no-deps\", \"{service}\"]" \
		"services.app.database=\"$(db_conninfo "$SRC")\"" "encryption.recipients=[\"$RECIPIENT\"]" ||
		{ t_fail "cannot write the configuration"; return; }

	# the release before: known-good
	bs rollback record app "$img@$d1" --reason "1.4.1" --actor ci -q --config "$cfg" >/dev/null &&
		bs rollback mark app --good --actor ci -q --config "$cfg" >/dev/null ||
		{ t_fail "cannot record the first release"; return; }
	# the pipelines' record (by digest here: no registry to resolve a tag)
	run_cmd bs rollback record app "$img@$d2" --snap --reason "deploy v1.4.2 (abc123)" --json --config "$cfg"
	expect_exit 0 "rollback record --snap --json exits 0"
	printf '%s\n' "$OUT" >"$BS_TMP/release.json"
	digest=$("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["snapshot"] and d["release"]; print(d["digest"])' "$BS_TMP/release.json")
	check_eq "its JSON has the digest the pipelines read (.digest), a release and a snapshot" "$digest" "$d2"

	# the deploy steps' edit, as written in both pipelines
	sed_gh=$("$PY" "$HELPER" script-line "$C/github/deploy.yml" "sed -i -E ")
	sed_gl=$("$PY" "$HELPER" script-line "$C/gitlab/gitlab-ci.yml" "sed -i -E ")
	check_eq "both pipelines pin the image with the same edit" "$sed_gh" "$sed_gl"
	[ -n "$sed_gh" ] || { t_fail "no sed line in the deploy step"; return; }
	run_cmd env IMAGE="$img" DIGEST="$digest" APP_COMPOSE_FILE="$cf" bash -c "$sed_gh"
	expect_exit 0 "the deploy edit runs"
	check_eq "the deploy edit pins the app's image to the digest" "$("$PY" "$HELPER" image "$cf" app)" "$img@$d2"
	check_eq "and changes that one line" "$(diff "$C/compose/docker-compose.yaml" "$cf" | grep -c '^[<>]')" 2
	cp "$cf" "$BS_TMP/deployed.yaml"

	# an operator's (or the watch's) rollback through the compose driver
	run_cmd bs rollback to app --reason "500s after deploy" --yes --no-verify --config "$cfg"
	expect_exit 0 "rollback to (compose driver) exits 0"
	check_eq "the app's image is pinned back to the known-good digest" "$("$PY" "$HELPER" image "$cf" app)" "$img@$d1"
	check_eq "only that line changed" "$(diff "$BS_TMP/deployed.yaml" "$cf" | grep -c '^[<>]')" 2
	check_eq "the command ran for the service app" "$(tr '\n' ' ' <"$BS_TMP/compose-cmd.argv" 2>/dev/null)" \
		"-f $cf up -d --no-deps app "
}
run_test "compose: the pipelines' record and deploy edit, and rollback's compose driver, pin the app's image line only" t_compose_pin

# ---------------------------------------------------------- completion

# complete_words WORD..: what _backstop offers for the command line WORD..
# (the last word is the one being completed), in bash --norc.
complete_words() {
	env PATH="$BS_BIN:$PATH" HOME="$BS_TMP" bash --norc --noprofile -c '
		. "$1" || exit 9
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		_backstop "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"
	' complete "$C/completion/backstop.bash" "$@"
}

# has_all WORD.. -- CANDIDATES: every WORD is a candidate
has_all() {
	local miss=()
	while [ "$1" != -- ]; do
		grep -qxF -- "$1" <<<"$OUT" || miss+=("$1")
		shift
	done
	[ ${#miss[@]} -eq 0 ] || t_fail "missing: ${miss[*]}" "  offered: $(tr '\n' ' ' <<<"$OUT")"
}

t_bash_completion() {
	local cmds
	run_cmd bs --help
	cmds=$(sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' "$OUT_FILE" | sort | tr '\n' ' ')

	run_cmd complete_words backstop ""
	expect_exit 0
	check_eq "backstop <TAB>: every command (and help)" "$(grep -vx help <<<"$OUT" | sort | tr '\n' ' ')" "$cmds"
	has_all help --
	run_cmd complete_words backstop sn
	check_eq "backstop sn<TAB>: snap" "$OUT" snap
	run_cmd complete_words backstop snap ""
	has_all list show prune pin unpin copy --
	run_cmd complete_words backstop snap --
	has_all --prune --no-prune --repo --dbname --recipient --policy --json --config --help --
	grep -qx -- --dry-run <<<"$OUT" && t_fail "backstop snap --<TAB> offers snap prune's --dry-run"
	run_cmd complete_words backstop rollback to --
	has_all --with-db --to --snapshot --reason --yes --dry-run --no-verify --
	run_cmd complete_words backstop-gate check --po
	check_eq "backstop-gate check --po<TAB>: --policy" "$OUT" --policy
	run_cmd complete_words backstop rollback ""
	has_all record list mark to watch --
	run_cmd complete_words backstop gate ""
	has_all check approve status validate --
	run_cmd complete_words backstop verify-restore ""
	check_eq "backstop verify-restore <TAB>: list, not 'latest'" "$OUT" list
	run_cmd complete_words backstop help ro
	check_eq "backstop help ro<TAB>: rollback" "$OUT" rollback
	# operands and option values
	run_cmd complete_words backstop snap --repo /nonexistent list ""
	check_eq "after the verb, no verbs again" "$OUT" ""
	mkdir -p "$BS_TMP/pol" && touch "$BS_TMP/pol/go-live.yaml"
	run_cmd complete_words backstop gate check --policy "$BS_TMP/pol/go"
	check_eq "a FILE option completes file names" "$OUT" "$BS_TMP/pol/go-live.yaml"
	run_cmd complete_words backstop gate check --policy = "$BS_TMP/pol/go"
	check_eq "--option=FILE too" "$OUT" "$BS_TMP/pol/go-live.yaml"
}
run_test "bash completion: commands, verbs, options per command and verb, file names" t_bash_completion

t_bash_registration() {
	local c missing=()
	run_cmd env PATH="$BS_BIN:$PATH" bash --norc --noprofile -c '. "$1" && complete -p' x "$C/completion/backstop.bash"
	expect_exit 0 "the script sources cleanly in bash --norc"
	check_eq "and prints nothing" "$(cat "$ERR_FILE")" ""
	for c in "$BS_BIN"/backstop "$BS_BIN"/backstop-*; do
		grep -qE -- "-F _backstop ${c##*/}\$" "$OUT_FILE" || missing+=("${c##*/}")
	done
	[ ${#missing[@]} -eq 0 ] || t_fail "not registered: ${missing[*]}"
	# registered by name too, for a backstop not on PATH when the file is read
	run_cmd env PATH=/usr/bin:/bin bash --norc --noprofile -c '. "$1" && complete -p' x "$C/completion/backstop.bash"
	for c in "$BS_BIN"/backstop-*; do
		grep -qE -- "-F _backstop ${c##*/}\$" "$OUT_FILE" || t_fail "${c##*/} is registered only when it is on PATH"
	done
}
run_test "bash completion: registered for backstop and every backstop-<cmd>" t_bash_registration

t_shellcheck() {
	command -v shellcheck >/dev/null || { t_skip "shellcheck is not installed"; return; }
	check "shellcheck contrib/completion/backstop.bash" shellcheck -s bash "$C/completion/backstop.bash"
}
run_test "bash completion: shellcheck finds nothing" t_shellcheck

t_zsh() {
	command -v zsh >/dev/null || { t_skip "zsh is not installed"; return; }
	check "zsh -n contrib/completion/_backstop" zsh -n "$C/completion/_backstop"
	run_cmd env PATH="$BS_BIN:$PATH" HOME="$BS_TMP" zsh -f -c 'autoload -Uz compinit && compinit -u -D && source "$1" && print -r -- ${_comps[backstop]}' x "$C/completion/_backstop"
	expect_exit 0 "sourced after compinit"
	check_eq "it registers _backstop for backstop" "$OUT" _backstop
}
run_test "zsh completion: valid zsh, registers itself" t_zsh

done_testing
