# shellcheck shell=bash
# tests/integration/lib_prom.sh - checks of the Prometheus files backstop
# writes, shared by hooks_metrics.sh and metrics.sh.  Source it after lib.sh:
#
#   prom_check FILE         the text format, strictly, as backstop must write
#                           it (status 1 and the offending line if not)
#   prom_parse FILE..       an independent parser (prometheus_client, run as
#                           /usr/bin/python3) reads every file; prints
#                           "name{label="value",...} value" per sample, labels
#                           sorted, so tests can grep exact lines
#   prom_value FILE NAME [KEY=VALUE..]
#                           the value of the one sample of NAME with those
#                           labels (others may be there), through the same
#                           parser; status 1 (and says why) if none or several
#   PROMTOOL                promtool's path, or empty when there is none
#                           (scripts/install-deps.sh unpacks one into
#                           tests/.cache/prometheus/; else one on PATH)
#   PROMTOOL_MISSING        why it is empty, for t_skip
#   promtool_metrics FILE   promtool check metrics < FILE: parses and lints
#                           the names (status 1 and promtool's words if not)
#
# tests/run.sh runs every tests/integration/*.sh but lib.sh, so this file
# is also a test script: run, it checks that the checkers reject what they
# must (a checker that accepts anything proves nothing).

PROM_PY=/usr/bin/python3

# prom_check FILE: the Prometheus text format, strictly, as backstop must
# write it: HELP and TYPE once per family and before its samples, samples of
# a family together, well-formed names, escaped label values, plain values,
# no timestamps, no duplicate series, a final newline.
prom_check() {
	[ -s "$1" ] || {
		echo "$1: missing or empty"
		return 1
	}
	[ -z "$(tail -c 1 "$1")" ] || {
		echo "$1: no final newline"
		return 1
	}
	awk '
	function fail(msg) { printf "%s:%d: %s: %s\n", FILENAME, FNR, msg, $0; bad = 1; exit 1 }
	BEGIN {
		name = "[a-zA-Z_:][a-zA-Z0-9_:]*"
		lval = "\"([^\"\\\\]|\\\\[\\\\\"n])*\""
		lbl = "[a-zA-Z_][a-zA-Z0-9_]*=" lval
		num = "([-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?|[-+]Inf|NaN)"
		sample = "^" name "([{]" lbl "(," lbl ")*[}])? " num "$"
	}
	/^# HELP / {
		if ($0 !~ "^# HELP " name " [^ ]") fail("bad HELP")
		if (help[$3]++) fail("second HELP")
		if (seen[$3]) fail("HELP after samples")
		next
	}
	/^# TYPE / {
		if ($0 !~ "^# TYPE " name " (gauge|counter|untyped)$") fail("bad TYPE")
		if (type[$3]++) fail("second TYPE")
		if (seen[$3]) fail("TYPE after samples")
		next
	}
	{
		if ($0 !~ sample) fail("malformed line")
		n = $0; sub(/[{ ].*/, "", n)
		if (!help[n] || !type[n]) fail("sample before its HELP and TYPE")
		if (seen[n] && last != n) fail("samples of a family not together")
		key = $0; sub(/ [^ ]*$/, "", key)
		if (series[key]++) fail("duplicate series")
		seen[n] = 1; last = n
	}
	' "$1"
}

# prom_parse FILE..: every sample as prometheus_client reads it.
prom_parse() {
	"$PROM_PY" - "$@" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
for path in sys.argv[1:]:
    for fam in text_string_to_metric_families(open(path).read()):
        if fam.type != "gauge":
            sys.exit("%s: %s is a %s, not a gauge" % (path, fam.name, fam.type))
        for s in fam.samples:
            labels = ",".join('%s="%s"' % (k, v) for k, v in sorted(s.labels.items()))
            print("%s{%s} %r" % (s.name, labels, s.value))
PY
}

# prom_value FILE NAME [KEY=VALUE..]: one sample's value (as %.15g).
prom_value() {
	"$PROM_PY" - "$@" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
path, name = sys.argv[1], sys.argv[2]
want = dict(a.split("=", 1) for a in sys.argv[3:])
found = [s for fam in text_string_to_metric_families(open(path).read()) for s in fam.samples
         if s.name == name and all(s.labels.get(k) == v for k, v in want.items())]
if len(found) != 1:
    sys.exit("%s: %d samples of %s%s" % (path, len(found), name, want))
print("%.15g" % found[0].value)
PY
}

PROMTOOL=
PROMTOOL_MISSING=
if [ -x "$BS_ROOT/tests/.cache/prometheus/promtool" ]; then
	PROMTOOL=$BS_ROOT/tests/.cache/prometheus/promtool
elif command -v promtool >/dev/null 2>&1; then
	PROMTOOL=$(command -v promtool)
else
	PROMTOOL_MISSING="promtool is not there (scripts/install-deps.sh unpacks it into tests/.cache/prometheus/)"
fi

# promtool_metrics FILE: promtool check metrics, which also lints the names
# (units, _total only on counters...).  Exit 0 clean, 3 lint problems, 1 a
# file it cannot parse.
promtool_metrics() {
	local out rc=0
	out=$("$PROMTOOL" check metrics <"$1" 2>&1) || rc=$?
	if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
		echo "$1: promtool check metrics (exit $rc): $out"
		return 1
	fi
}

# ---- run as a test script: the checkers reject what they must -----------------
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

	t_prom_check_rejects() {
		printf 'x{a="1"} 1\n' >"$BS_TMP/bad1.prom"
		printf '# HELP x x\n# TYPE x gauge\nx 1 1764000000\n' >"$BS_TMP/bad2.prom"
		printf '# HELP x x\n# TYPE x gauge\nx{a="1"} 1\n# HELP y y\n# TYPE y gauge\ny 1\nx{a="2"} 1\n' >"$BS_TMP/bad3.prom"
		printf '# HELP x x\n# TYPE x gauge\nx 1' >"$BS_TMP/bad4.prom"
		printf '# HELP x x\n# TYPE x gauge\nx{a="1"} 1\nx{a="1"} 2\n' >"$BS_TMP/bad5.prom"
		printf '# HELP x x\n# TYPE x gauge\nx{a="a\\q"} 1\n' >"$BS_TMP/bad6.prom"
		local b
		for b in 1 2 3 4 5 6; do
			if prom_check "$BS_TMP/bad$b.prom" >/dev/null; then
				t_fail "prom_check accepted bad$b.prom"
			fi
		done
		printf '# HELP x x "quoted" \\\\ \\n\n# TYPE x gauge\nx{a="q\\"\\\\\\n",b="2"} 1.5e+09\nx 0\n' >"$BS_TMP/good.prom"
		check "prom_check accepts a well-formed file" prom_check "$BS_TMP/good.prom"
		run_cmd prom_parse "$BS_TMP/good.prom"
		expect_exit 0 "prometheus_client reads it"
		check_eq "prom_value finds a sample by its labels" "$(prom_value "$BS_TMP/good.prom" x b=2)" 1500000000
		if prom_value "$BS_TMP/good.prom" x >/dev/null 2>&1; then
			t_fail "prom_value picked one of two samples"
		fi
		check_eq "prom_value unescapes label values" "$(prom_value "$BS_TMP/good.prom" x 'a=q"\
')" 1500000000
	}
	run_test "prom_check rejects malformed files and accepts a good one" t_prom_check_rejects

	t_promtool_lints() {
		if [ -z "$PROMTOOL" ]; then
			t_skip "$PROMTOOL_MISSING"
			return
		fi
		printf '# HELP backstop_x_total x\n# TYPE backstop_x_total gauge\nbackstop_x_total 1\n' >"$BS_TMP/lint.prom"
		if promtool_metrics "$BS_TMP/lint.prom" >/dev/null; then
			t_fail "promtool_metrics accepted a gauge named _total"
		fi
		printf '# HELP backstop_x_seconds x\n# TYPE backstop_x_seconds gauge\nbackstop_x_seconds{a="1"} 1\n' >"$BS_TMP/ok.prom"
		check "promtool_metrics accepts a clean file" promtool_metrics "$BS_TMP/ok.prom"
	}
	run_test "promtool check metrics flags badly named series" t_promtool_lints

	done_testing
fi
