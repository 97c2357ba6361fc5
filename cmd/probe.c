/*
 * backstop-probe - health checks: HTTP(S), TLS expiry, TCP, PostgreSQL,
 * backup age; one round, or a watch over a window.
 * Thin: options -> struct bs_probe_cmd -> lib/command/probe.c -> exit code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command/probe.h"
#include "command/setup.h"
#include "common/log.h"
#include "common/opts.h"
#include "common/sigwatch.h"

static struct bs_common_opts co;
static struct bs_strlist o_url, o_tls, o_tcp, o_pg, o_backup, o_status, o_json_checks, o_headers;
static const char *o_format, *o_junit, *o_textfile, *o_max_latency, *o_warn_latency, *o_body_regex, *o_ca,
	*o_cert, *o_key, *o_timeout, *o_deadline, *o_interval, *o_for, *o_outage, *o_avail, *o_query, *o_expect,
	*o_max_age, *o_repo, *o_servername;
static int o_nagios, o_follow, o_retries = -1, o_warn_days = -1, o_crit_days = -1, o_watch, o_fail_on_warn;

#define NO_CONN "probe a database with --postgres CONNINFO (or a 'postgres' probe in 'probes:')"

static const struct bs_opt opts[] = {
	BS_OPTS_COMMON(&co),
	{ BS_OPT_GROUP, 0, NULL, NULL, NULL, "output", 0, 0 },
	{ BS_OPT_STR, 0, "format", &o_format, "FMT", "text (default), json, nagios, junit or prometheus, on stdout", 0, 0 },
	{ BS_OPT_FLAG, 0, "json", &co.json, NULL, "the same as --format json", 0, 0 },
	{ BS_OPT_FLAG, 0, "nagios", &o_nagios, NULL, "the same as --format nagios (exit codes 0/1/2/3 of a monitoring plugin)", 0, 0 },
	{ BS_OPT_STR, 0, "junit", &o_junit, "FILE", "also write a JUnit XML report to FILE", 0, 0 },
	{ BS_OPT_STR, 0, "textfile", &o_textfile, "DIR", "also write DIR/backstop_probe.prom for node_exporter's textfile collector (default: probe.textfile)", 0, 0 },
	{ BS_OPT_FLAG, 0, "fail-on-warn", &o_fail_on_warn, NULL, "a WARN fails too (exit 1)", 0, 0 },
	{ BS_OPT_GROUP, 0, NULL, NULL, NULL, "ad hoc probes (repeatable; without probe names only these run)", 0, 0 },
	{ BS_OPT_LIST, 0, "url", &o_url, "URL", "an http probe of URL", 0, 0 },
	{ BS_OPT_LIST, 0, "tls", &o_tls, "HOST[:PORT]", "a tls probe: certificate expiry and verification (port 443)", 0, 0 },
	{ BS_OPT_LIST, 0, "tcp", &o_tcp, "HOST:PORT", "a tcp probe: a connection", 0, 0 },
	{ BS_OPT_LIST, 0, "postgres", &o_pg, "CONNINFO", "a postgres probe: a connection (and --query)", 0, 0 },
	{ BS_OPT_LIST, 0, "backup", &o_backup, "DATABASE", "a backup probe: age of the newest snapshot of DATABASE", 0, 0 },
	{ BS_OPT_GROUP, 0, NULL, NULL, NULL, "settings of ad hoc probes", 0, 0 },
	{ BS_OPT_LIST, 0, "expect-status", &o_status, "STATUS", "http: an expected status, range or class (200, 200-204, 2xx; default 2xx)", 0, 0 },
	{ BS_OPT_STR, 0, "max-latency", &o_max_latency, "DURATION", "http: slower is FAIL (500ms, 2s)", 0, 0 },
	{ BS_OPT_STR, 0, "warn-latency", &o_warn_latency, "DURATION", "http: slower is WARN", 0, 0 },
	{ BS_OPT_STR, 0, "body-regex", &o_body_regex, "REGEX", "http: the body must match (POSIX extended)", 0, 0 },
	{ BS_OPT_LIST, 0, "expect-json", &o_json_checks, "PATH=VALUE", "http: a JSON field's value (status=ok, db.up=true)", 0, 0 },
	{ BS_OPT_LIST, 0, "header", &o_headers, "'NAME: VALUE'", "http: a request header (secrets: use 'probes:' with a header file)", 0, 0 },
	{ BS_OPT_FLAG, 0, "follow-redirects", &o_follow, NULL, "http: follow up to 5 redirects (default: a redirect is the answer)", 0, 0 },
	{ BS_OPT_STR, 0, "ca-file", &o_ca, "FILE", "http, tls: CA bundle instead of the system's", 0, 0 },
	{ BS_OPT_STR, 0, "client-cert", &o_cert, "FILE", "http: PEM client certificate", 0, 0 },
	{ BS_OPT_STR, 0, "client-key", &o_key, "FILE", "http: its PEM private key", 0, 0 },
	{ BS_OPT_STR, 0, "servername", &o_servername, "NAME", "tls: SNI and the name verified (default: the host)", 0, 0 },
	{ BS_OPT_INT, 0, "warn-days", &o_warn_days, "N", "tls: fewer days left is WARN (default 21)", 0, 3650 },
	{ BS_OPT_INT, 0, "crit-days", &o_crit_days, "N", "tls: fewer days left is FAIL (default 7)", 0, 3650 },
	{ BS_OPT_STR, 0, "query", &o_query, "SQL", "postgres: run this query", 0, 0 },
	{ BS_OPT_STR, 0, "expect", &o_expect, "VALUE", "postgres: the query's first value", 0, 0 },
	{ BS_OPT_STR, 0, "max-age", &o_max_age, "DURATION", "backup: an older newest snapshot is FAIL (default 26h)", 0, 0 },
	{ BS_OPT_STR, 'r', "repo", &o_repo, "REPO", "backup: the repository (default: 'repository:', $BACKSTOP_REPO)", 0, 0 },
	{ BS_OPT_STR, 0, "timeout", &o_timeout, "DURATION", "per attempt (default: probe.timeout, 10s)", 0, 0 },
	{ BS_OPT_INT, 0, "retries", &o_retries, "N", "attempts after a failed one (default: probe.retries, 0)", 0, 10 },
	{ BS_OPT_GROUP, 0, NULL, NULL, NULL, "round and watch", 0, 0 },
	{ BS_OPT_STR, 0, "deadline", &o_deadline, "DURATION", "a round's total time; later answers are UNKNOWN (default: probe.deadline, 30s)", 0, 0 },
	{ BS_OPT_FLAG, 'w', "watch", &o_watch, NULL, "repeat rounds; report availability and outages", 0, 0 },
	{ BS_OPT_STR, 0, "interval", &o_interval, "DURATION", "watch: period of rounds (default: probe.interval, 10s)", 0, 0 },
	{ BS_OPT_STR, 0, "for", &o_for, "DURATION", "watch: the window (default: until interrupted)", 0, 0 },
	{ BS_OPT_STR, 0, "outage-limit", &o_outage, "DURATION", "watch: stop with exit 1 once a probe is down this long (default: probe.outage_limit)", 0, 0 },
	{ BS_OPT_STR, 0, "min-availability", &o_avail, "PERCENT", "watch: lower availability over the window fails (99.9)", 0, 0 },
	BS_OPTS_NO_CONN(NO_CONN),
	{ BS_OPT_END, 0, NULL, NULL, NULL, NULL, 0, 0 },
};

static const struct bs_cmd_spec spec = {
	"probe",
	"probe [NAME...] [--format text|json|nagios|junit|prometheus] [--junit FILE] [--textfile DIR]\n"
	"probe --url URL|--tls HOST[:PORT]|--tcp HOST:PORT|--postgres CONNINFO|--backup DB ...\n"
	"probe [NAME...] --watch [--interval 10s] [--for 30m] [--outage-limit 5m] [--min-availability 99.9]\n"
	"probe validate [--config FILE]",
	"Health checks, all at once: the probes configured under 'probes:' in backstop.yaml\n"
	"(or those NAMEd), and ad hoc ones from flags.  Kinds: http (status, latency with the\n"
	"connect/TLS/first-byte split, body regex, JSON fields), tls (days left on the leaf and\n"
	"the chain, verification, host name), tcp, postgres (connection, query, replication lag),\n"
	"backup (age of the newest complete snapshot and drill).  Each probe is OK, WARN, FAIL or\n"
	"UNKNOWN (could not be evaluated: never a pass), with one line saying why: expected\n"
	"against observed.  Probes that did not pass are also logged on stderr, one line each.\n"
	"--watch repeats rounds (Kubernetes-style failure_threshold/success_threshold per probe)\n"
	"and reports availability and the longest outage over the window; it stops with exit 1\n"
	"as soon as a probe has been down for the outage limit.  See docs/probe.md.",
	opts,
	"examples:\n"
	"  backstop probe\n"
	"  backstop probe api-health tls\n"
	"  backstop probe --url https://app.example.com/healthz --expect-status 200 --max-latency 2s\n"
	"  backstop probe --tls app.example.com:443 --tcp db:5432 --postgres 'host=db dbname=app'\n"
	"  backstop probe --watch --interval 10s --for 30m --outage-limit 5m --min-availability 99.9\n"
	"  backstop probe --nagios api-health\n"
	"  backstop probe --textfile /var/lib/prometheus/node-exporter\n",
	"exit codes: 0 every probe OK (or WARN); 1 a probe FAILed (or WARNed under --fail-on-warn), or a\n"
	"watch saw an outage over the limit or availability under the minimum; 2 usage or\n"
	"configuration error; 3 a probe was UNKNOWN (could not be evaluated) and none failed.\n"
	"With --nagios (--format nagios): 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n",
};

static struct bs_common_opts vco;
static const struct bs_opt validate_opts[] = {
	BS_OPTS_COMMON(&vco),
	BS_OPTS_NO_CONN("probe validate reads the configuration only"),
	{ BS_OPT_END, 0, NULL, NULL, NULL, NULL, 0, 0 },
};

static const struct bs_cmd_spec validate_spec = {
	"probe validate",
	"probe validate [NAME...] [--config FILE]",
	"Check the configuration's 'probes:' and 'probe:' (kinds, URLs, durations, thresholds) and\n"
	"that the NAMEd probes exist, without running anything: for CI.  Prints how many probes\n"
	"there are of each kind.",
	validate_opts,
	"examples:\n"
	"  backstop probe validate --config backstop.yaml\n",
	"exit codes: 0 the configuration is valid; 2 it is not (each error names file:line:column).\n",
};


static int ms_flag(const char *flag, const char *v, int64_t *out)
{
	if (!v)
		return 0;
	if (bs_probe_ms_parse(v, out) < 0)
		return bs_opts_fail(&spec, "invalid duration '%s' for --%s (e.g. 500ms, 2s, 10m)", v, flag);
	return 0;
}

/* The flags of the ad hoc probes, for lib/command/probe_adhoc.c. */
static struct bs_probe_flags adhoc_flags(void)
{
	struct bs_probe_flags f = {
		.url = &o_url, .tls = &o_tls, .tcp = &o_tcp, .postgres = &o_pg, .backup = &o_backup,
		.status = &o_status, .json = &o_json_checks, .headers = &o_headers,
		.max_latency = o_max_latency, .warn_latency = o_warn_latency, .timeout = o_timeout,
		.max_age = o_max_age, .body_regex = o_body_regex, .ca_file = o_ca, .client_cert = o_cert,
		.client_key = o_key, .servername = o_servername, .query = o_query, .expect = o_expect,
		.repo = o_repo, .follow_redirects = o_follow, .retries = o_retries, .warn_days = o_warn_days,
		.crit_days = o_crit_days,
	};
	return f;
}

static int validate_main(const struct bs_verb *v, int argc, char **argv)
{
	struct bs_config cfg;
	struct bs_strlist pos = { 0 };
	struct bs_probe_cmd c = { 0 };
	const struct bs_probe **sel = NULL;
	struct bs_err err;
	size_t n = 0, count[6] = { 0 };
	int rc = 0;

	bs_log_set_prog("backstop probe validate");
	bs_err_init(&err);
	bs_config_init(&cfg);
	if (bs_opts_parse(v->spec, argc, argv, &pos, &err) < 0) {
		rc = bs_cmd_error(v->spec, &err);
		goto out;
	}
	if (bs_opts_common(v->spec, &vco))
		goto out;
	c.cfg = &cfg;
	c.names = pos.v;
	c.nnames = pos.n;
	if (bs_cmd_config(&cfg, vco.config, vco.quiet, vco.verbose, &err) < 0 ||
	    bs_cmd_probe_select(&c, &sel, &n, &err) < 0) {
		if (err.code == BS_ERR_USAGE)
			err.code = BS_ERR_CONFIG;
		rc = bs_cmd_error(v->spec, &err);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		count[sel[i]->kind]++;
	printf("%s: %zu probe%s valid (http %zu, tls %zu, tcp %zu, postgres %zu, backup %zu)\n",
	       cfg.config_path ? cfg.config_path : "configuration", n, n == 1 ? "" : "s", count[BS_PROBE_HTTP],
	       count[BS_PROBE_TLS], count[BS_PROBE_TCP], count[BS_PROBE_POSTGRES], count[BS_PROBE_BACKUP]);
	rc = bs_stdout_close(v->spec);
out:
	free(sel);
	bs_config_release(&cfg);
	bs_strlist_release(&pos);
	return rc;
}

static int parse_format(struct bs_probe_cmd *c)
{
	static const char *const names[] = { "text", "json", "nagios", "junit", "prometheus", NULL };
	const char *f = o_format;

	if (co.json && o_nagios)
		return bs_opts_fail(&spec, "--json and --nagios exclude each other");
	if (f && (co.json || o_nagios) && strcmp(f, co.json ? "json" : "nagios") != 0)
		return bs_opts_fail(&spec, "--format %s and --%s exclude each other", f, co.json ? "json" : "nagios");
	if (!f)
		f = co.json ? "json" : o_nagios ? "nagios" : "text";
	for (int i = 0; names[i]; i++) {
		if (strcmp(f, names[i]) == 0) {
			c->format = (enum bs_probe_format)i;
			return 0;
		}
	}
	return bs_opts_fail(&spec, "unknown --format '%s': text, json, nagios, junit or prometheus", f);
}

int main(int argc, char **argv)
{
	static const struct bs_verb verbs[] = {
		{ "validate", validate_main, &validate_spec },
		{ NULL, NULL, NULL },
	};
	struct bs_config cfg;
	struct bs_strlist pos = { 0 };
	struct bs_probe_set adhoc;
	struct bs_probe_cmd c = { 0 };
	struct bs_err err;
	int rc = 0;

	bs_log_set_prog("backstop probe");
	if (bs_verbs_dispatch(verbs, argc, argv, &rc))
		return rc;
	bs_err_init(&err);
	bs_config_init(&cfg);
	bs_probe_set_init(&adhoc);
	if (bs_opts_parse(&spec, argc, argv, &pos, &err) < 0) {
		rc = bs_cmd_error(&spec, &err);
		goto out;
	}
	if (bs_opts_common(&spec, &co))
		goto out;
	c.cfg = &cfg;
	c.names = pos.v;
	c.nnames = pos.n;
	c.adhoc = &adhoc;
	c.out = stdout;
	c.cancel = bs_cancel_on_signals();
	c.min_availability = -1;
	c.junit_path = o_junit;
	c.textfile_dir = o_textfile;
	c.fail_on_warn = o_fail_on_warn;
	c.watch = o_watch;
	if ((rc = parse_format(&c)) || (rc = ms_flag("deadline", o_deadline, &c.deadline_ms)) ||
	    (rc = ms_flag("interval", o_interval, &c.interval_ms)) || (rc = ms_flag("for", o_for, &c.for_ms)) ||
	    (rc = ms_flag("outage-limit", o_outage, &c.outage_limit_ms)))
		goto out;
	if (o_avail) {
		char *end;
		c.min_availability = strtod(o_avail, &end);
		if (!(o_avail[0] >= '0' && o_avail[0] <= '9') || strpbrk(o_avail, "xXeEnN") || (*end && strcmp(end, "%")) ||
		    !(c.min_availability >= 0 && c.min_availability <= 100)) {
			rc = bs_opts_fail(&spec, "invalid --min-availability '%s': a percentage such as 99.9", o_avail);
			goto out;
		}
	}
	if (!o_watch && (o_interval || o_for || o_outage || o_avail)) {
		rc = bs_opts_fail(&spec, "--interval, --for, --outage-limit and --min-availability need --watch");
		goto out;
	}
	if (c.watch && c.format == BS_PROBE_FMT_PROMETHEUS) {
		rc = bs_opts_fail(&spec, "--format prometheus describes one round; with --watch use --textfile DIR");
		goto out;
	}
	if (bs_cmd_config(&cfg, co.config, co.quiet, co.verbose, &err) < 0) {
		rc = bs_cmd_error(&spec, &err);
		goto out;
	}
	{
		struct bs_probe_flags f = adhoc_flags();
		if (bs_cmd_probe_adhoc(&adhoc, &cfg.probes.settings, &f, &err) < 0) {
			rc = bs_cmd_error(&spec, &err);
			goto out;
		}
	}
	rc = bs_cmd_probe(&c, &err);
	if (rc < 0) {
		rc = bs_cmd_error(&spec, &err);
		goto out;
	}
	{
		int orc = bs_stdout_close(&spec);
		if (orc && !rc)
			rc = orc;
	}
out:
	bs_probe_set_release(&adhoc);
	bs_config_release(&cfg);
	bs_strlist_release(&pos);
	bs_strlist_release(&o_url);
	bs_strlist_release(&o_tls);
	bs_strlist_release(&o_tcp);
	bs_strlist_release(&o_pg);
	bs_strlist_release(&o_backup);
	bs_strlist_release(&o_status);
	bs_strlist_release(&o_json_checks);
	bs_strlist_release(&o_headers);
	return rc;
}
