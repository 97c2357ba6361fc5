/* probe_config_test.c - lib/probe/probe_config.c and probe_report.c: the
 * duration and HTTP status parsers, 'probes:' and 'probe:' in backstop.yaml
 * (every kind, defaults, relative paths, and each error with its
 * file:line:column), ad hoc probes from flags and their names, Prometheus
 * text exposition and report findings of hand-made results, and the
 * watch's thresholds, outages and availability. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "harness.h"
#include "probe/probe.h"
#include "report/report.h"

#define CHECK_HAS(s, part)     CHECK(strstr((s), (part)) != NULL)
#define CHECK_NOT_HAS(s, part) CHECK(strstr((s), (part)) == NULL)

static struct bs_config cfg;
static struct bs_err err;

/* Load text as "p.yaml" over a fresh configuration. */
static int load(const char *text, const char *base_dir)
{
	bs_config_release(&cfg);
	bs_err_init(&err);
	return bs_config_load_string(&cfg, "p.yaml", text, base_dir, &err);
}

static const struct bs_probe *probe(const char *name)
{
	const struct bs_probe *p = bs_probe_find(&cfg.probes, name);

	if (!p)
		printf("#   no probe '%s'\n", name);
	return p;
}

/* ---- bs_probe_ms_parse ------------------------------------------------------ */

TEST(ms_parse_accepts)
{
	static const struct {
		const char *s;
		int64_t ms;
	} ok[] = {
	    {"500ms", 500},   {"0ms", 0},	 {"2s", 2000},	   {"1.5s", 1500},    {"0.25s", 250},
	    {"1m30s", 90000}, {"26h", 93600000}, {"1m", 60000},	   {"1d", 86400000},  {"1h30m", 5400000},
	    {"2.0s", 2000},   {"0", 0},		 {"1500ms", 1500}, {"7d", 604800000},
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int64_t v = -42;
		int rc = bs_probe_ms_parse(ok[i].s, &v);

		if (rc != 0 || v != ok[i].ms)
			printf("#   '%s': rc %d, %lld (want %lld)\n", ok[i].s, rc, (long long)v,
			       (long long)ok[i].ms);
		CHECK_INT(rc, 0);
		CHECK_INT(v, ok[i].ms);
	}
}

TEST(ms_parse_rejects)
{
	static const char *const bad[] = {"",
					  "5 seconds",
					  "-1s",
					  "-500ms",
					  "-1.5s",
					  "ms",
					  "s",
					  "1.5.5s",
					  "nan s",
					  "nans",
					  "infs",
					  "1.5",
					  "1.5h",
					  "2 ms",
					  " 2s",
					  "2s ",
					  "1x",
					  "1.5xs",
					  "abc",
					  "s1",
					  "1,5s",
					  "1ss",
					  "1mss",
					  "1s1m",
					  "1h1h",
					  ".5s",
					  "1e400ms",
					  "99999999999999999999s",
					  "1.s",
					  "1.ms",
					  "1..5s",
					  "1.5",
					  "99999999999999999999ms"};
	int64_t v;

	CHECK_INT(bs_probe_ms_parse(NULL, &v), -1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc;

		v = -42;
		rc = bs_probe_ms_parse(bad[i], &v);
		if (rc != -1)
			printf("#   '%s' accepted as %lldms\n", bad[i], (long long)v);
		CHECK_INT(rc, -1);
	}
}

/* Number forms strtod reads but a duration is not written with: hex,
 * exponents, "inf"/"nan" after a digit. */
TEST(ms_parse_rejects_strtod_forms)
{
	static const char *const bad[] = {"0x10ms", "0x1.8s", "1e3ms", "1.5e3s", "1E3ms", "0x1p4ms"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t v = -42;
		int rc = bs_probe_ms_parse(bad[i], &v);

		if (rc != -1)
			printf("#   '%s' accepted as %lldms\n", bad[i], (long long)v);
		CHECK_INT(rc, -1);
	}
}

/* Too many milliseconds for an int64_t: refused, not wrapped (UBSan:
 * no signed overflow on the way). */
TEST(ms_parse_rejects_overflow)
{
	static const char *const bad[] = {"10000000000000000.5s", "99999999999999999.5s",
					  "9223372036854775.5s", "9223372036854776s"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t v = -42;
		int rc = bs_probe_ms_parse(bad[i], &v);

		if (rc != -1)
			printf("#   '%s' accepted as %lldms\n", bad[i], (long long)v);
		CHECK_INT(rc, -1);
	}
}

/* ---- bs_probe_status_parse ------------------------------------------------- */

TEST(status_parse)
{
	static const struct {
		const char *s;
		int lo, hi;
	} ok[] = {
	    {"200", 200, 200}, {"200-299", 200, 299}, {"2xx", 200, 299},
	    {"5XX", 500, 599}, {"1xx", 100, 199},     {"100", 100, 100},
	    {"599", 599, 599}, {"301-308", 301, 308}, {"204-204", 204, 204},
	};
	static const char *const bad[] = {
	    "99",   "600", "300-200", "2x",	 "abc",	    "200-",
	    "",	    "6xx", "0xx",     "x00",	 "200-600", "-200",
	    "2xxx", "20x", "200-2xx", "2xx-3xx", "200,204", "99999999999999999999"};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int lo = -1, hi = -1;

		CHECK_INT(bs_probe_status_parse(ok[i].s, &lo, &hi), 0);
		CHECK_INT(lo, ok[i].lo);
		CHECK_INT(hi, ok[i].hi);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int lo = -1, hi = -1, rc = bs_probe_status_parse(bad[i], &lo, &hi);

		if (rc != -1)
			printf("#   '%s' accepted as %d-%d\n", bad[i], lo, hi);
		CHECK_INT(rc, -1);
		CHECK_INT(lo, -1); /* left alone */
	}
}

/* strtol skips leading white space and takes a sign: a status is digits. */
TEST(status_parse_rejects_space_and_sign)
{
	static const char *const bad[] = {" 200", "+200", "200- 299", "200-+299", "\t200", "200 "};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int lo = -1, hi = -1, rc = bs_probe_status_parse(bad[i], &lo, &hi);

		if (rc != -1)
			printf("#   '%s' accepted as %d-%d\n", bad[i], lo, hi);
		CHECK_INT(rc, -1);
	}
}

/* ---- loading backstop.yaml -------------------------------------------------- */

static const char all_kinds[] = "probes:\n"
				"  api:\n"
				"    kind: http\n"
				"    url: https://app.example.com/healthz\n"
				"    method: HEAD\n"
				"    headers:\n"
				"      Authorization: { file: secrets/token }\n"
				"      X-Trace: abc\n"
				"      X-Abs: { file: /run/secrets/x }\n"
				"    expect_status: [200, 204, 3xx]\n"
				"    expect_json:\n"
				"      status: ok\n"
				"      db.up: true\n"
				"      items.0.id: 3\n"
				"      gone: null\n"
				"    redirects: follow\n"
				"    max_latency: 500ms\n"
				"    warn_latency: 250ms\n"
				"    body_regex: \"ok|fine\"\n"
				"    client_cert: certs/client.pem\n"
				"    client_key: /etc/keys/client.key\n"
				"    ca_file: certs/ca.pem\n"
				"    timeout: 2s\n"
				"    retries: 2\n"
				"    failure_threshold: 3\n"
				"  plain:\n"
				"    kind: http\n"
				"    url: http://localhost:8080/\n"
				"  cert:\n"
				"    kind: tls\n"
				"    host: h:8443\n"
				"    servername: www.example.com\n"
				"    ca_file: ca.pem\n"
				"  cert2:\n"
				"    kind: tls\n"
				"    host: h2\n"
				"    port: 9443\n"
				"    warn_days: 30\n"
				"    crit_days: 10\n"
				"    verify_hostname: false\n"
				"    check_chain: no\n"
				"  cert3:\n"
				"    kind: tls\n"
				"    host: h3\n"
				"  db:\n"
				"    kind: tcp\n"
				"    host: db:5432\n"
				"  db6:\n"
				"    kind: tcp\n"
				"    host: \"[::1]:5433\"\n"
				"  db-split:\n"
				"    kind: tcp\n"
				"    host: db2\n"
				"    port: 6432\n"
				"  pg:\n"
				"    kind: postgres\n"
				"    conninfo: host=db port=5432 dbname=app user=monitor\n"
				"    query: select 1\n"
				"    expect: \"1\"\n"
				"    max_replication_lag: 30s\n"
				"  nightly:\n"
				"    kind: backup\n"
				"    database: app\n"
				"    repository: offsite\n"
				"    max_age: 26h\n"
				"    warn_age: 20h\n"
				"    drill_max_age: 7d\n"
				"  nightly2:\n"
				"    kind: backup\n";

static const char settings[] = "probe:\n"
			       "  timeout: 5s\n"
			       "  retries: 1\n"
			       "  deadline: 1m\n"
			       "  parallel: 8\n"
			       "  interval: 30s\n"
			       "  failure_threshold: 2\n"
			       "  success_threshold: 3\n"
			       "  outage_limit: 10m\n"
			       "  min_availability: \"99.9\"\n"
			       "  textfile: metrics\n";

/* The fields of every probe of all_kinds (settings loaded too). */
static void check_all_kinds(unsigned api_line)
{
	const struct bs_probe *p;

	CHECK_INT(cfg.probes.n, 11);
	if ((p = probe("api"))) {
		CHECK_INT(p->kind, BS_PROBE_HTTP);
		CHECK_STR(bs_probe_kind_name(p->kind), "http");
		CHECK_STR(p->file, "p.yaml");
		CHECK_INT(p->line, api_line);
		CHECK_STR(p->url, "https://app.example.com/healthz");
		CHECK_STR(p->method, "HEAD");
		CHECK_INT(p->nheaders, 3);
		if (p->nheaders == 3) {
			CHECK_STR(p->headers[0].name, "Authorization");
			CHECK(p->headers[0].value == NULL);
			CHECK_STR(p->headers[0].file, "/etc/backstop/secrets/token");
			CHECK_STR(p->headers[1].name, "X-Trace");
			CHECK_STR(p->headers[1].value, "abc");
			CHECK(p->headers[1].file == NULL);
			CHECK_STR(p->headers[2].file, "/run/secrets/x");
		}
		CHECK_INT(p->nstatus, 3);
		CHECK_INT(p->status_lo[0], 200);
		CHECK_INT(p->status_hi[0], 200);
		CHECK_INT(p->status_lo[1], 204);
		CHECK_INT(p->status_hi[1], 204);
		CHECK_INT(p->status_lo[2], 300);
		CHECK_INT(p->status_hi[2], 399);
		CHECK_INT(p->njson, 4);
		if (p->njson == 4) {
			CHECK_STR(p->json[0].path, "status");
			CHECK_STR(p->json[0].value, "ok");
			CHECK_STR(p->json[1].path, "db.up");
			CHECK_STR(p->json[1].value, "true");
			CHECK_STR(p->json[2].path, "items.0.id");
			CHECK_STR(p->json[2].value, "3");
			CHECK_STR(p->json[3].path, "gone");
			CHECK_STR(p->json[3].value, "null");
		}
		CHECK_INT(p->follow_redirects, 1);
		CHECK_INT(p->max_latency_ms, 500);
		CHECK_INT(p->warn_latency_ms, 250);
		CHECK_STR(p->body_regex, "ok|fine");
		CHECK_STR(p->client_cert, "/etc/backstop/certs/client.pem");
		CHECK_STR(p->client_key, "/etc/keys/client.key");
		CHECK_STR(p->ca_file, "/etc/backstop/certs/ca.pem");
		CHECK_INT(p->timeout_ms, 2000);
		CHECK_INT(p->retries, 2);
		CHECK_INT(p->failure_threshold, 3);
		CHECK_INT(p->success_threshold, 3); /* from probe: */
	}
	if ((p = probe("plain"))) {
		CHECK_INT(p->kind, BS_PROBE_HTTP);
		CHECK(p->method == NULL);
		CHECK_INT(p->nheaders, 0);
		CHECK_INT(p->nstatus, 0); /* 200-299 */
		CHECK_INT(p->njson, 0);
		CHECK_INT(p->follow_redirects, 0);
		CHECK_INT(p->max_latency_ms, 0);
		CHECK_INT(p->warn_latency_ms, 0);
		CHECK(p->body_regex == NULL && p->client_cert == NULL && p->ca_file == NULL);
		CHECK_INT(p->timeout_ms, 5000); /* probe.timeout */
		CHECK_INT(p->retries, 1);
		CHECK_INT(p->failure_threshold, 2);
		CHECK_INT(p->success_threshold, 3);
	}
	if ((p = probe("cert"))) {
		CHECK_INT(p->kind, BS_PROBE_TLS);
		CHECK_STR(p->host, "h");
		CHECK_INT(p->port, 8443);
		CHECK_STR(p->servername, "www.example.com");
		CHECK_STR(p->ca_file, "/etc/backstop/ca.pem");
		CHECK_INT(p->warn_days, 21);
		CHECK_INT(p->crit_days, 7);
		CHECK_INT(p->verify_hostname, 1);
		CHECK_INT(p->check_chain, 1);
		CHECK_INT(p->timeout_ms, 5000);
	}
	if ((p = probe("cert2"))) {
		CHECK_STR(p->host, "h2");
		CHECK_INT(p->port, 9443);
		CHECK_INT(p->warn_days, 30);
		CHECK_INT(p->crit_days, 10);
		CHECK_INT(p->verify_hostname, 0);
		CHECK_INT(p->check_chain, 0);
		CHECK(p->servername == NULL);
	}
	if ((p = probe("cert3"))) {
		CHECK_STR(p->host, "h3");
		CHECK_INT(p->port, 443);
	}
	if ((p = probe("db"))) {
		CHECK_INT(p->kind, BS_PROBE_TCP);
		CHECK_STR(bs_probe_kind_name(p->kind), "tcp");
		CHECK_STR(p->host, "db");
		CHECK_INT(p->port, 5432);
	}
	if ((p = probe("db6"))) {
		CHECK_STR(p->host, "::1");
		CHECK_INT(p->port, 5433);
	}
	if ((p = probe("db-split"))) {
		CHECK_STR(p->host, "db2");
		CHECK_INT(p->port, 6432);
	}
	if ((p = probe("pg"))) {
		CHECK_INT(p->kind, BS_PROBE_POSTGRES);
		CHECK_STR(p->conninfo, "host=db port=5432 dbname=app user=monitor");
		CHECK_STR(p->query, "select 1");
		CHECK_STR(p->expect, "1");
		CHECK_INT(p->max_lag_ms, 30000);
	}
	if ((p = probe("nightly"))) {
		CHECK_INT(p->kind, BS_PROBE_BACKUP);
		CHECK_STR(p->database, "app");
		CHECK_STR(p->repository, "offsite");
		CHECK_INT(p->max_age_ms, 26LL * 3600 * 1000);
		CHECK_INT(p->warn_age_ms, 20LL * 3600 * 1000);
		CHECK_INT(p->drill_max_age_ms, 7LL * 86400 * 1000);
	}
	if ((p = probe("nightly2"))) {
		CHECK(p->database == NULL && p->repository == NULL);
		CHECK_INT(p->max_age_ms, 26LL * 3600 * 1000);
		CHECK_INT(p->warn_age_ms, 0);
		CHECK_INT(p->drill_max_age_ms, 0);
		CHECK_INT(p->timeout_ms, 5000);
	}
	CHECK(bs_probe_find(&cfg.probes, "nope") == NULL);

	CHECK_INT(cfg.probes.settings.timeout_ms, 5000);
	CHECK_INT(cfg.probes.settings.retries, 1);
	CHECK_INT(cfg.probes.settings.deadline_ms, 60000);
	CHECK_INT(cfg.probes.settings.parallel, 8);
	CHECK_INT(cfg.probes.settings.interval_ms, 30000);
	CHECK_INT(cfg.probes.settings.failure_threshold, 2);
	CHECK_INT(cfg.probes.settings.success_threshold, 3);
	CHECK_INT(cfg.probes.settings.outage_limit_ms, 600000);
	CHECK_STR(cfg.probes.settings.min_availability, "99.9");
	CHECK_STR(cfg.probes.settings.textfile, "/etc/backstop/metrics");
}

TEST(load_every_kind_settings_first)
{
	char text[sizeof(all_kinds) + sizeof(settings)];

	snprintf(text, sizeof(text), "%s%s", settings, all_kinds);
	if (load(text, "/etc/backstop") < 0)
		printf("#   %s\n#   %s\n", err.msg, err.detail);
	CHECK_INT(err.code, BS_OK);
	check_all_kinds(13); /* after the 11 lines of 'probe:' */
	bs_config_release(&cfg);
}

/* 'probe:' after 'probes:': the settings still give the probes their
 * defaults (timeout, retries, thresholds). */
TEST(load_every_kind_settings_after)
{
	char text[sizeof(all_kinds) + sizeof(settings)];

	snprintf(text, sizeof(text), "%s%s", all_kinds, settings);
	if (load(text, "/etc/backstop") < 0)
		printf("#   %s\n#   %s\n", err.msg, err.detail);
	CHECK_INT(err.code, BS_OK);
	check_all_kinds(2);
	bs_config_release(&cfg);
}

TEST(defaults_without_probe_settings)
{
	const struct bs_probe *p;

	CHECK_INT(load("probes:\n  web:\n    kind: http\n    url: http://web/\n"
		       "  t:\n    kind: tls\n    host: example.com\n",
		       NULL),
		  0);
	CHECK_INT(cfg.probes.settings.timeout_ms, 10000);
	CHECK_INT(cfg.probes.settings.retries, 0);
	CHECK_INT(cfg.probes.settings.deadline_ms, 30000);
	CHECK_INT(cfg.probes.settings.parallel, 50);
	CHECK_INT(cfg.probes.settings.interval_ms, 10000);
	CHECK_INT(cfg.probes.settings.failure_threshold, 1);
	CHECK_INT(cfg.probes.settings.success_threshold, 1);
	CHECK_INT(cfg.probes.settings.outage_limit_ms, 0);
	CHECK(cfg.probes.settings.min_availability == NULL);
	CHECK(cfg.probes.settings.textfile == NULL);
	if ((p = probe("web"))) {
		CHECK_INT(p->timeout_ms, 10000);
		CHECK_INT(p->retries, 0);
		CHECK_INT(p->failure_threshold, 1);
		CHECK_INT(p->success_threshold, 1);
		CHECK_INT(p->nstatus, 0);
	}
	if ((p = probe("t"))) {
		CHECK_INT(p->port, 443);
		CHECK_INT(p->warn_days, 21);
		CHECK_INT(p->crit_days, 7);
	}
	/* no 'probes:' at all */
	CHECK_INT(load("probe:\n  timeout: 3s\n", NULL), 0);
	CHECK_INT(cfg.probes.n, 0);
	CHECK_INT(cfg.probes.settings.timeout_ms, 3000);
	CHECK_INT(load("probes:\nprobe:\n", NULL), 0);
	CHECK_INT(cfg.probes.n, 0);
	bs_config_release(&cfg);
}

/* Without a base_dir relative paths stay as written. */
TEST(relative_paths_without_base_dir)
{
	const struct bs_probe *p;

	CHECK_INT(load("probes:\n  api:\n    kind: http\n    url: https://a/\n"
		       "    headers: { Authorization: { file: tok } }\n"
		       "    client_cert: c.pem\n    ca_file: ca.pem\n"
		       "probe:\n  textfile: m\n",
		       NULL),
		  0);
	if ((p = probe("api"))) {
		CHECK_INT(p->nheaders, 1);
		if (p->nheaders)
			CHECK_STR(p->headers[0].file, "tok");
		CHECK_STR(p->client_cert, "c.pem");
		CHECK_STR(p->ca_file, "ca.pem");
	}
	CHECK_STR(cfg.probes.settings.textfile, "m");
	bs_config_release(&cfg);
}

/* ---- errors ------------------------------------------------------------------ */

/* text must fail with BS_ERR_CONFIG, "p.yaml:<line>:<col>: " first, and
 * each of the parts in msg (or, for a "hint:" part, in the hint). */
static void check_error(const char *what, const char *text, unsigned line, unsigned col, const char *part1,
			const char *part2)
{
	char prefix[64];
	int rc = load(text, NULL);

	snprintf(prefix, sizeof(prefix), "p.yaml:%u:%u: ", line, col);
	if (rc != -1 || err.code != BS_ERR_CONFIG || strncmp(err.msg, prefix, strlen(prefix)) != 0 ||
	    (part1 && !strstr(err.msg, part1) && !strstr(err.hint, part1)) ||
	    (part2 && !strstr(err.msg, part2) && !strstr(err.hint, part2))) {
		printf("#   %s: rc %d, %s: %s\n#     hint: %s\n#     want %s... %s / %s\n", what, rc,
		       bs_err_name(err.code), err.msg, err.hint, prefix, part1 ? part1 : "",
		       part2 ? part2 : "");
		th_cur_failed = 1;
	}
	bs_config_release(&cfg);
}

TEST(errors)
{
	check_error("unknown kind", "probes:\n  x:\n    kind: htp\n    url: http://a/\n", 3, 11, "htp",
		    "http");
	check_error("unknown kind far off", "probes:\n  x:\n    kind: smtp\n", 3, 11, "smtp", NULL);
	check_error("missing kind", "probes:\n  x:\n    url: http://a/\n", 3, 5, "no 'kind:'", "http, tls");
	check_error("null kind", "probes:\n  x:\n    kind:\n    url: http://a/\n", 3, 10, "no 'kind:'", NULL);
	check_error("not a mapping", "probes:\n  x: http://a/\n", 2, 6, "'probes.x' must be a mapping", NULL);
	check_error("probes not a mapping", "probes: [a, b]\n", 1, 9, "mapping of probe names", NULL);
	check_error("bad duration",
		    "probes:\n  x:\n    kind: tcp\n    host: db:5432\n    timeout: 5 seconds\n", 5, 14,
		    "invalid duration '5 seconds'", "probes.x.timeout");
	check_error("bad duration hint",
		    "probes:\n  x:\n    kind: tcp\n    host: db:5432\n    timeout: 5 seconds\n", 5, 14,
		    "1m30s", NULL);
	check_error("zero timeout", "probes:\n  x:\n    kind: tcp\n    host: db:5432\n    timeout: 0s\n", 5,
		    14, "at least", NULL);
	check_error("bad duration in probe:", "probe:\n  deadline: soon\n", 2, 13, "invalid duration 'soon'",
		    "probe.deadline");
	check_error("ftp URL", "probes:\n  x:\n    kind: http\n    url: ftp://files/\n", 4, 10,
		    "invalid URL 'ftp://files/'", "probe 'x'");
	check_error("empty host URL", "probes:\n  x:\n    kind: http\n    url: \"http://\"\n", 4, 10,
		    "invalid URL 'http://'", NULL);
	check_error("URL with a space", "probes:\n  x:\n    kind: http\n    url: \"http://a b/\"\n", 4, 10,
		    "invalid URL", NULL);
	check_error("URL without a host", "probes:\n  x:\n    kind: http\n    url: http:///p\n", 4, 10,
		    "invalid URL", NULL);
	check_error("http without url", "probes:\n  x:\n    kind: http\n", 3, 5, "url", NULL);
	check_error("tcp without port", "probes:\n  x:\n    kind: tcp\n    host: db\n", 4, 11, "no port",
		    "probe 'x'");
	check_error("tcp bad port", "probes:\n  x:\n    kind: tcp\n    host: db:http\n", 4, 11,
		    "invalid host 'db:http'", NULL);
	check_error("tcp port 0", "probes:\n  x:\n    kind: tcp\n    host: db:0\n", 4, 11, "invalid host",
		    NULL);
	check_error("tcp port: 70000", "probes:\n  x:\n    kind: tcp\n    host: db\n    port: 70000\n", 5, 11,
		    "port", NULL);
	check_error("tls crit above warn", "probes:\n  x:\n    kind: tls\n    host: h\n    crit_days: 30\n",
		    4, 11, "crit_days (30) is above warn_days (21)", NULL);
	check_error("url on tcp", "probes:\n  x:\n    kind: tcp\n    host: db:5432\n    url: http://a/\n", 5,
		    5, "unknown key 'url' in 'probes.x'", "valid keys in 'probes.x' are: ");
	check_error("typo on tls", "probes:\n  x:\n    kind: tls\n    host: h\n    warn_dayz: 3\n", 5, 5,
		    "unknown key 'warn_dayz'", "did you mean 'warn_days'?");
	check_error("name with a space", "probes:\n  my probe:\n    kind: tcp\n    host: db:5432\n", 2, 3,
		    "invalid probe name 'my probe'", NULL);
	check_error("name with a slash", "probes:\n  a/b:\n    kind: tcp\n    host: db:5432\n", 2, 3,
		    "invalid probe name", NULL);
	check_error(
	    "name too long",
	    "probes:\n  aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:\n    kind: tcp\n"
	    "    host: db:5432\n",
	    2, 3, "invalid probe name", NULL);
	check_error("expect without query",
		    "probes:\n  x:\n    kind: postgres\n    conninfo: dbname=app\n    expect: x\n", 4, 15,
		    "expect without query", NULL);
	check_error("postgres without conninfo", "probes:\n  x:\n    kind: postgres\n", 3, 5, "conninfo",
		    NULL);
	check_error(
	    "bad header name",
	    "probes:\n  x:\n    kind: http\n    url: http://a/\n    headers:\n      \"Bad Header\": v\n", 6,
	    7, "invalid header name 'Bad Header'", NULL);
	check_error("header name with a colon",
		    "probes:\n  x:\n    kind: http\n    url: http://a/\n    headers:\n      \"X:Y\": v\n", 6,
		    7, "invalid header name", NULL);
	check_error("header value with a newline",
		    "probes:\n  x:\n    kind: http\n    url: http://a/\n    headers:\n      X-A: \"a\\nb\"\n",
		    6, 12, "header 'X-A'", "one-line value");
	check_error("header value with a CR",
		    "probes:\n  x:\n    kind: http\n    url: http://a/\n    headers:\n      X-A: \"a\\rb\"\n",
		    6, 12, "header 'X-A'", NULL);
	check_error(
	    "header file mapping wrong",
	    "probes:\n  x:\n    kind: http\n    url: http://a/\n    headers:\n      X-A: { path: /x }\n", 6,
	    12, "{ file: PATH }", NULL);
	check_error("expect_status 99",
		    "probes:\n  x:\n    kind: http\n    url: http://a/\n    expect_status: 99\n", 5, 20,
		    "invalid HTTP status '99'", NULL);
	check_error("expect_status 99 in a list",
		    "probes:\n  x:\n    kind: http\n    url: http://a/\n    expect_status: [200, 99]\n", 5,
		    26, "invalid HTTP status '99'", NULL);
	check_error("expect_status empty list",
		    "probes:\n  x:\n    kind: http\n    url: http://a/\n    expect_status: []\n", 5, 20,
		    "expect_status", NULL);
	check_error("bad JSON path",
		    "probes:\n  x:\n    kind: http\n    url: http://a/\n    expect_json: { a..b: 1 }\n", 5,
		    20, "invalid JSON path 'a..b'", NULL);
	check_error("bad redirects",
		    "probes:\n  x:\n    kind: http\n    url: http://a/\n    redirects: always\n", 5, 16,
		    "'follow' or 'none'", NULL);
	check_error("bad regex", "probes:\n  x:\n    kind: http\n    url: http://a/\n    body_regex: \"(\"\n",
		    4, 10, "invalid body_regex", NULL);
	check_error(
	    "warn above max latency",
	    "probes:\n  x:\n    kind: http\n    url: http://a/\n    max_latency: 1s\n    warn_latency: 2s\n",
	    4, 10, "warn_latency is above max_latency", NULL);
	check_error("key without cert",
		    "probes:\n  x:\n    kind: http\n    url: http://a/\n    client_key: /k.pem\n", 4, 10,
		    "client_key without client_cert", NULL);
	check_error("min_availability 101", "probe:\n  min_availability: \"101\"\n", 2, 21,
		    "invalid 'probe.min_availability' '101'", NULL);
	check_error("min_availability abc", "probe:\n  min_availability: abc\n", 2, 21, "min_availability",
		    NULL);
	check_error("min_availability -1", "probe:\n  min_availability: \"-1\"\n", 2, 21, "min_availability",
		    NULL);
	check_error("unknown settings key", "probe:\n  timout: 5s\n", 2, 3, "unknown key 'timout' in 'probe'",
		    "did you mean 'timeout'?");
	check_error("parallel 0", "probe:\n  parallel: 0\n", 2, 13, "parallel", NULL);
}

/* min_availability is a percentage: "nan" is none. */
TEST(min_availability_rejects_nan)
{
	check_error("min_availability nan", "probe:\n  min_availability: nan\n", 2, 21, "min_availability",
		    NULL);
	CHECK_INT(load("probe:\n  min_availability: \"99.5%\"\n", NULL), 0);
	CHECK_STR(cfg.probes.settings.min_availability, "99.5%");
	CHECK_INT(load("probe:\n  min_availability: 100\n", NULL), 0);
	bs_config_release(&cfg);
}

/* One that is not a probe error still stops the load: a tls host:port
 * contradicting port: is not silently resolved. */
TEST(tls_host_port_and_port_disagree)
{
	int rc = load("probes:\n  x:\n    kind: tls\n    host: h:8443\n    port: 9443\n", NULL);

	if (rc == 0 && cfg.probes.n == 1)
		printf("#   accepted: host '%s' port %d\n", cfg.probes.v[0].host, cfg.probes.v[0].port);
	CHECK_INT(rc, -1);
	CHECK_INT(err.code, BS_ERR_CONFIG);
	bs_config_release(&cfg);
}

TEST(several_errors_at_once)
{
	int rc = load("probes:\n"
		      "  a:\n"
		      "    kind: htp\n"
		      "  b c:\n"
		      "    kind: tcp\n"
		      "    host: db\n"
		      "  d:\n"
		      "    kind: tcp\n"
		      "    host: db\n"
		      "  e:\n"
		      "    kind: http\n"
		      "    url: http://ok/\n"
		      "    expect_status: 99\n"
		      "probe:\n"
		      "  min_availability: \"101\"\n",
		      NULL);

	CHECK_INT(rc, -1);
	CHECK_INT(err.code, BS_ERR_CONFIG);
	CHECK_STR(err.msg, "p.yaml: 5 errors");
	CHECK_HAS(err.detail, "p.yaml:3:11: ");
	CHECK_HAS(err.detail, "'htp'");
	CHECK_HAS(err.detail, "p.yaml:4:3: invalid probe name 'b c'");
	CHECK_HAS(err.detail, "p.yaml:9:11: probe 'd': no port");
	CHECK_HAS(err.detail, "p.yaml:13:20: invalid HTTP status '99'");
	CHECK_HAS(err.detail, "p.yaml:15:21: invalid 'probe.min_availability' '101'");
	/* in file order */
	CHECK(strstr(err.detail, "p.yaml:3:") < strstr(err.detail, "p.yaml:4:"));
	CHECK(strstr(err.detail, "p.yaml:9:") < strstr(err.detail, "p.yaml:13:"));
	if (th_cur_failed)
		printf("#   %s\n#   %s\n", err.msg, err.detail);
	bs_config_release(&cfg);
}

/* ---- ad hoc ------------------------------------------------------------------ */

static struct bs_probe *adhoc(struct bs_probe_set *s, enum bs_probe_kind kind, const char *arg)
{
	struct bs_probe *p;

	bs_err_init(&err);
	p = bs_probe_adhoc(s, kind, arg, &err);
	if (!p)
		printf("#   adhoc '%s': %s: %s\n", arg, bs_err_name(err.code), err.msg);
	return p;
}

TEST(adhoc_names)
{
	struct bs_probe_set s;
	struct bs_probe *p;

	bs_probe_set_init(&s);
	s.settings.timeout_ms = 3000;
	s.settings.retries = 2;
	if ((p = adhoc(&s, BS_PROBE_HTTP, "https://user:pw@app.example.com:8443/healthz?token=s3cret#top"))) {
		CHECK_STR(p->name, "https://app.example.com:8443/healthz");
		CHECK_STR(p->url, "https://user:pw@app.example.com:8443/healthz?token=s3cret#top");
		CHECK(p->file == NULL);
		CHECK_INT(p->timeout_ms, 3000);
		CHECK_INT(p->retries, 2);
		CHECK_INT(p->failure_threshold, 1);
		CHECK_INT(bs_probe_check(p, &err), 0);
	}
	if ((p = adhoc(&s, BS_PROBE_TLS, "example.com"))) {
		CHECK_STR(p->name, "tls:example.com:443");
		CHECK_STR(p->host, "example.com");
		CHECK_INT(p->port, 443);
		CHECK_INT(bs_probe_check(p, &err), 0);
	}
	if ((p = adhoc(&s, BS_PROBE_TLS, "example.com:8443")))
		CHECK_STR(p->name, "tls:example.com:8443");
	if ((p = adhoc(&s, BS_PROBE_TCP, "[::1]:5432"))) {
		CHECK_STR(p->name, "tcp:[::1]:5432");
		CHECK_STR(p->host, "::1");
		CHECK_INT(p->port, 5432);
		CHECK_INT(bs_probe_check(p, &err), 0);
	}
	if ((p = adhoc(&s, BS_PROBE_TCP, "db:5432")))
		CHECK_STR(p->name, "tcp:db:5432");
	if ((p = adhoc(&s, BS_PROBE_POSTGRES,
		       "host=db port=5433 dbname=app user=monitor password=hunter2"))) {
		CHECK_STR(p->name, "postgres:db:5433/app");
		CHECK_NOT_HAS(p->name, "hunter2");
	}
	if ((p = adhoc(&s, BS_PROBE_POSTGRES,
		       "postgresql://monitor:hunter2@pg1:5434/billing?sslmode=require"))) {
		CHECK_STR(p->name, "postgres:pg1:5434/billing");
		CHECK_NOT_HAS(p->name, "hunter2");
	}
	if ((p = adhoc(&s, BS_PROBE_POSTGRES, "dbname=app")))
		CHECK_STR(p->name, "postgres:local/app");
	if ((p = adhoc(&s, BS_PROBE_POSTGRES, "hostaddr=10.0.0.5 port=5432")))
		CHECK_STR(p->name, "postgres:10.0.0.5:5432");
	if ((p = adhoc(&s, BS_PROBE_BACKUP, "app"))) {
		CHECK_STR(p->name, "backup:app");
		CHECK_STR(p->database, "app");
		CHECK_INT(p->max_age_ms, 26LL * 3600 * 1000);
	}
	if ((p = adhoc(&s, BS_PROBE_BACKUP, ""))) {
		CHECK_STR(p->name, "backup:*");
		CHECK(p->database == NULL);
	}
	/* control characters never reach a name */
	if ((p = adhoc(&s, BS_PROBE_HTTP, "http://h/a\x01z")))
		CHECK_STR(p->name, "http://h/a?z");
	CHECK(bs_probe_find(&s, "tcp:db:5432") != NULL);
	bs_probe_set_release(&s);
	CHECK_INT(s.n, 0);
}

TEST(adhoc_duplicates)
{
	struct bs_probe_set s;
	struct bs_probe *p;

	bs_probe_set_init(&s);
	CHECK(adhoc(&s, BS_PROBE_TCP, "db:5432") != NULL);
	if ((p = adhoc(&s, BS_PROBE_TCP, "db:5432")))
		CHECK_STR(p->name, "tcp:db:5432 #2");
	if ((p = adhoc(&s, BS_PROBE_TCP, "db:5432")))
		CHECK_STR(p->name, "tcp:db:5432 #3");
	/* the same URL with another secret is the same name */
	CHECK(adhoc(&s, BS_PROBE_HTTP, "http://h/x?k=1") != NULL);
	if ((p = adhoc(&s, BS_PROBE_HTTP, "http://h/x?k=2")))
		CHECK_STR(p->name, "http://h/x #2");
	CHECK_INT(s.n, 5);
	bs_probe_set_release(&s);
}

TEST(adhoc_bad_arguments)
{
	static const char *const bad_tcp[] = {"db:0",	 "db:65536", "db:x", "[::1",
					      "[]:5432", ":5432",    "db:",  "[::1]x"};
	struct bs_probe_set s;
	struct bs_probe *p;

	bs_probe_set_init(&s);
	for (size_t i = 0; i < sizeof(bad_tcp) / sizeof(bad_tcp[0]); i++) {
		bs_err_init(&err);
		p = bs_probe_adhoc(&s, BS_PROBE_TCP, bad_tcp[i], &err);
		if (p)
			printf("#   '%s' accepted: host '%s' port %d\n", bad_tcp[i], p->host, p->port);
		CHECK(p == NULL);
		CHECK_INT(err.code, BS_ERR_USAGE);
		CHECK_HAS(err.msg, "--tcp");
	}
	/* "db" without a port: made, and bs_probe_check refuses it */
	bs_err_init(&err);
	p = bs_probe_adhoc(&s, BS_PROBE_TCP, "db", &err);
	CHECK(p != NULL);
	if (p) {
		CHECK_INT(p->port, 0);
		CHECK_INT(bs_probe_check(p, &err), -1);
		CHECK_INT(err.code, BS_ERR_CONFIG);
		CHECK_HAS(err.msg, "no port");
	}
	/* a URL bs_probe_check refuses */
	p = bs_probe_adhoc(&s, BS_PROBE_HTTP, "ftp://x/", &err);
	CHECK(p != NULL);
	if (p) {
		CHECK_INT(bs_probe_check(p, &err), -1);
		CHECK_HAS(err.msg, "invalid URL");
	}
	bs_probe_set_release(&s);
}

/* A refused argument leaves nothing in the set. */
TEST(adhoc_failure_leaves_set_alone)
{
	struct bs_probe_set s;

	bs_probe_set_init(&s);
	CHECK(adhoc(&s, BS_PROBE_TCP, "db:5432") != NULL);
	bs_err_init(&err);
	CHECK(bs_probe_adhoc(&s, BS_PROBE_TCP, "db:99999", &err) == NULL);
	CHECK_INT(s.n, 1);
	if (s.n > 1)
		printf("#   left behind: '%s' host '%s' timeout %lld\n", s.v[1].name,
		       s.v[1].host ? s.v[1].host : "(null)", (long long)s.v[1].timeout_ms);
	bs_probe_set_release(&s);
}

/* ---- Prometheus ---------------------------------------------------------------- */

static void result_init(struct bs_probe_result *r, const struct bs_probe *p, enum bs_state st)
{
	memset(r, 0, sizeof(*r));
	r->probe = p;
	r->state = st;
	r->seconds = -1;
	r->status = -1;
	r->t_connect = r->t_tls = r->t_first_byte = r->t_total = -1;
	r->tls_leaf_days = r->tls_chain_days = -1;
	r->backup_age_s = r->drill_age_s = r->lag_s = -1;
}

static size_t count(const char *s, const char *part)
{
	size_t n = 0;

	for (const char *q = s; (q = strstr(q, part)); q += strlen(part))
		n++;
	return n;
}

/* The exposition of res[0..n) into buf (NUL-terminated). */
static int prom(const struct bs_probe_result *res, size_t n, char *buf, size_t size)
{
	char *mem = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&mem, &len);
	int rc;

	buf[0] = '\0';
	if (!f)
		return -2;
	rc = bs_probe_prom_write(res, n, f);
	fclose(f);
	snprintf(buf, size, "%s", mem ? mem : "");
	free(mem);
	return rc;
}

TEST(prom_write)
{
	struct bs_probe api = {.name = "api", .kind = BS_PROBE_HTTP};
	struct bs_probe cert = {.name = "cert", .kind = BS_PROBE_TLS};
	struct bs_probe odd = {.name = "http://h/a\"b\\c", .kind = BS_PROBE_HTTP};
	struct bs_probe nl = {.name = "x\ny", .kind = BS_PROBE_TCP};
	struct bs_probe bk = {.name = "nightly", .kind = BS_PROBE_BACKUP};
	struct bs_probe_result r[5];
	char out[8192];

	result_init(&r[0], &api, BS_STATE_OK);
	r[0].seconds = 0.25;
	r[0].t_total = 0.2;
	r[0].status = 200;
	result_init(&r[1], &cert, BS_STATE_WARN);
	r[1].seconds = 0.1;
	r[1].tls_leaf_expiry = 1767225601;
	r[1].tls_chain_expiry = 1893456001;
	r[1].tls_leaf_days = 10.5;
	result_init(&r[2], &odd, BS_STATE_FAIL);
	r[2].status = 503;
	result_init(&r[3], &nl, BS_STATE_UNKNOWN);
	result_init(&r[4], &bk, BS_STATE_OK);
	r[4].seconds = 0.003;
	r[4].backup_age_s = 3600;

	CHECK_INT(prom(r, 5, out, sizeof(out)), 0);
	/* HELP and TYPE once per family present */
	CHECK_INT(count(out, "# HELP backstop_probe_success "), 1);
	CHECK_INT(count(out, "# TYPE backstop_probe_success gauge\n"), 1);
	CHECK_INT(count(out, "# HELP backstop_probe_state "), 1);
	CHECK_INT(count(out, "# TYPE backstop_probe_state gauge\n"), 1);
	CHECK_INT(count(out, "# TYPE backstop_probe_duration_seconds gauge\n"), 1);
	CHECK_INT(count(out, "# TYPE backstop_probe_http_status_code gauge\n"), 1);
	CHECK_INT(count(out, "# TYPE backstop_probe_tls_leaf_expiry_timestamp_seconds gauge\n"), 1);
	CHECK_INT(count(out, "# TYPE backstop_probe_tls_chain_expiry_timestamp_seconds gauge\n"), 1);
	CHECK_INT(count(out, "# TYPE backstop_probe_backup_age_seconds gauge\n"), 1);
	/* families without a value are left out */
	CHECK_NOT_HAS(out, "backstop_probe_drill_age_seconds");
	CHECK_NOT_HAS(out, "backstop_probe_replication_lag_seconds");
	/* values, and label values escaped */
	CHECK_HAS(out, "\nbackstop_probe_success{probe=\"api\",kind=\"http\"} 1\n");
	CHECK_HAS(out, "\nbackstop_probe_success{probe=\"cert\",kind=\"tls\"} 1\n");
	CHECK_HAS(out, "\nbackstop_probe_success{probe=\"http://h/a\\\"b\\\\c\",kind=\"http\"} 0\n");
	CHECK_HAS(out, "\nbackstop_probe_success{probe=\"x\\ny\",kind=\"tcp\"} 0\n");
	CHECK_HAS(out, "\nbackstop_probe_state{probe=\"api\",kind=\"http\"} 0\n");
	CHECK_HAS(out, "\nbackstop_probe_state{probe=\"cert\",kind=\"tls\"} 1\n");
	CHECK_HAS(out, "\nbackstop_probe_state{probe=\"http://h/a\\\"b\\\\c\",kind=\"http\"} 2\n");
	CHECK_HAS(out, "\nbackstop_probe_state{probe=\"x\\ny\",kind=\"tcp\"} 3\n");
	CHECK_HAS(out, "\nbackstop_probe_duration_seconds{probe=\"api\",kind=\"http\"} 0.2\n");
	CHECK_HAS(out, "\nbackstop_probe_duration_seconds{probe=\"cert\",kind=\"tls\"} 0.1\n");
	CHECK_HAS(out, "\nbackstop_probe_duration_seconds{probe=\"nightly\",kind=\"backup\"} 0.003\n");
	CHECK_NOT_HAS(out, "backstop_probe_duration_seconds{probe=\"http://h");
	CHECK_NOT_HAS(out, "backstop_probe_duration_seconds{probe=\"x");
	CHECK_HAS(out, "\nbackstop_probe_http_status_code{probe=\"api\",kind=\"http\"} 200\n");
	CHECK_HAS(out,
		  "\nbackstop_probe_http_status_code{probe=\"http://h/a\\\"b\\\\c\",kind=\"http\"} 503\n");
	CHECK_INT(count(out, "backstop_probe_http_status_code{"), 2);
	CHECK_HAS(out, "\nbackstop_probe_backup_age_seconds{probe=\"nightly\",kind=\"backup\"} 3600\n");
	CHECK_INT(count(out, "backstop_probe_backup_age_seconds{"), 1);
	/* Unix times to the second (10 digits) */
	CHECK_HAS(
	    out,
	    "\nbackstop_probe_tls_leaf_expiry_timestamp_seconds{probe=\"cert\",kind=\"tls\"} 1767225601\n");
	CHECK_HAS(
	    out,
	    "\nbackstop_probe_tls_chain_expiry_timestamp_seconds{probe=\"cert\",kind=\"tls\"} 1893456001\n");
	/* every sample line: name{labels} value, no timestamp */
	for (char *line = out, *nlp; *line; line = nlp + 1) {
		char *close;

		nlp = strchr(line, '\n');
		CHECK(nlp != NULL);
		if (!nlp)
			break;
		*nlp = '\0';
		if (line[0] != '#') {
			close = strrchr(line, '}');
			CHECK(close != NULL && close[1] == ' ' && strchr(close + 2, ' ') == NULL && close[2]);
		}
		*nlp = '\n';
	}
	if (th_cur_failed)
		printf("# ---\n%s# ---\n", out);

	/* nothing at all: no output */
	CHECK_INT(prom(r, 0, out, sizeof(out)), 0);
	CHECK_STR(out, "");
}

/* ---- report findings ---------------------------------------------------------- */

static const struct bs_measure *measure(const struct bs_finding *f, const char *name)
{
	for (size_t i = 0; i < f->nmeasures; i++)
		if (strcmp(f->measures[i].name, name) == 0)
			return &f->measures[i];
	return NULL;
}

TEST(report_add)
{
	struct bs_probe api = {.name = "api",
			       .kind = BS_PROBE_HTTP,
			       .file = "p.yaml",
			       .line = 7,
			       .max_latency_ms = 500,
			       .warn_latency_ms = 250};
	struct bs_probe cert = {.name = "cert", .kind = BS_PROBE_TLS, .warn_days = 21, .crit_days = 7};
	struct bs_probe bk = {.name = "nightly", .kind = BS_PROBE_BACKUP, .max_age_ms = 26LL * 3600 * 1000};
	struct bs_probe pg = {.name = "pg", .kind = BS_PROBE_POSTGRES};
	struct bs_probe db = {.name = "db", .kind = BS_PROBE_TCP};
	struct bs_probe_result r[5];
	struct bs_report rep;
	const struct bs_measure *m;

	result_init(&r[0], &api, BS_STATE_OK);
	r[0].seconds = 0.25;
	r[0].t_total = 0.2;
	snprintf(r[0].reason, sizeof(r[0].reason), "status 200 after 200ms");
	snprintf(r[0].expected, sizeof(r[0].expected), "200-299");
	snprintf(r[0].observed, sizeof(r[0].observed), "200");
	result_init(&r[1], &cert, BS_STATE_WARN);
	r[1].seconds = 0.1;
	r[1].tls_leaf_expiry = 1767225601;
	r[1].tls_leaf_days = 10.57;
	snprintf(r[1].reason, sizeof(r[1].reason), "leaf expires in 10 days");
	result_init(&r[2], &bk, BS_STATE_FAIL);
	r[2].seconds = 0.01;
	r[2].backup_age_s = 100000.7;
	result_init(&r[3], &pg, BS_STATE_OK);
	r[3].seconds = 0.02;
	r[3].lag_s = 1.5;
	result_init(&r[4], &db, BS_STATE_UNKNOWN); /* nothing measured */

	bs_report_init(&rep);
	CHECK_INT(bs_probe_report_add(&rep, r, 5), 0);
	CHECK_INT(rep.nfindings, 5);
	if (rep.nfindings == 5) {
		const struct bs_finding *f = rep.findings;

		for (size_t i = 0; i < 5; i++) {
			CHECK_STR(f[i].group, "probes");
			CHECK_STR(f[i].check, r[i].probe->name);
			CHECK_STR(f[i].category, bs_probe_kind_name(r[i].probe->kind));
			CHECK_INT(f[i].state, r[i].state);
		}
		CHECK_STR(f[0].detail, "status 200 after 200ms");
		CHECK_STR(f[0].expected, "200-299");
		CHECK_STR(f[0].observed, "200");
		CHECK_STR(f[0].file, "p.yaml");
		CHECK_INT(f[0].line, 7);
		CHECK_INT(f[0].nmeasures, 1);
		if ((m = measure(&f[0], "api_time"))) {
			CHECK(fabs(m->value - 0.2) < 1e-9);
			CHECK_STR(m->unit, "s");
			CHECK(m->set & BS_MEASURE_CRIT);
			CHECK(m->set & BS_MEASURE_WARN);
			CHECK(fabs(m->crit - 0.5) < 1e-9);
			CHECK(fabs(m->warn - 0.25) < 1e-9);
		} else {
			CHECK(!"api_time");
		}
		CHECK(f[1].expected == NULL || !*f[1].expected);
		CHECK_INT(f[1].nmeasures, 2);
		CHECK(measure(&f[1], "cert_time") != NULL);
		if ((m = measure(&f[1], "cert_days"))) {
			CHECK(fabs(m->value - 10.5) < 1e-9);
			CHECK(fabs(m->warn - 21) < 1e-9);
			CHECK(fabs(m->crit - 7) < 1e-9);
		} else {
			CHECK(!"cert_days");
		}
		CHECK_INT(f[2].nmeasures, 2);
		CHECK(measure(&f[2], "nightly_time") != NULL);
		if ((m = measure(&f[2], "nightly_age"))) {
			CHECK(fabs(m->value - 100000) < 1e-9);
			CHECK_STR(m->unit, "s");
			CHECK(fabs(m->crit - 26 * 3600) < 1e-9);
		} else {
			CHECK(!"nightly_age");
		}
		CHECK(measure(&f[3], "pg_lag") != NULL);
		CHECK_INT(f[4].nmeasures, 0);
	}
	bs_report_release(&rep);
}

/* An ad hoc URL can be long (names of configured probes are at most 64):
 * its measurements keep their _time suffix and stay apart. */
TEST(report_add_long_adhoc_name)
{
	struct bs_probe_set s;
	struct bs_probe *p;
	struct bs_probe_result r;
	struct bs_report rep;
	char url[300], want[320];

	memset(url, 'a', sizeof(url));
	memcpy(url, "https://example.com/", 20);
	url[200] = '\0';
	bs_probe_set_init(&s);
	bs_report_init(&rep);
	p = adhoc(&s, BS_PROBE_HTTP, url);
	CHECK(p != NULL);
	if (p) {
		CHECK_STR(p->name, url);
		result_init(&r, p, BS_STATE_OK);
		r.seconds = 0.5;
		r.backup_age_s = 5; /* two measurements at once */
		CHECK_INT(bs_probe_report_add(&rep, &r, 1), 0);
		CHECK_INT(rep.nfindings, 1);
		if (rep.nfindings == 1) {
			CHECK_STR(rep.findings[0].check, url);
			CHECK_INT(rep.findings[0].nmeasures, 2);
			snprintf(want, sizeof(want), "%s_time", url);
			if (rep.findings[0].nmeasures == 2) {
				CHECK_STR(rep.findings[0].measures[0].name, want);
				CHECK(strcmp(rep.findings[0].measures[0].name,
					     rep.findings[0].measures[1].name) != 0);
			}
		}
	}
	bs_report_release(&rep);
	bs_probe_set_release(&s);
}

/* ---- watch --------------------------------------------------------------------- */

static void step(struct bs_probe_watch *w, const struct bs_probe *p, enum bs_state st, double now)
{
	struct bs_probe_result r;

	result_init(&r, p, st);
	bs_probe_watch_step(w, p, &r, now);
}

TEST(watch_thresholds)
{
	struct bs_probe p = {
	    .name = "w", .kind = BS_PROBE_TCP, .failure_threshold = 2, .success_threshold = 2};
	struct bs_probe_watch w;

	bs_probe_watch_init(&w);
	CHECK_INT(w.up, 1);
	CHECK(bs_probe_watch_availability(&w) == 100.0);

	step(&w, &p, BS_STATE_OK, 1); /* t=1 */
	step(&w, &p, BS_STATE_FAIL, 10);
	CHECK_INT(w.up, 1); /* one failing round is no outage */
	CHECK_INT(w.outages, 0);
	CHECK(w.outage_s == 0);
	step(&w, &p, BS_STATE_WARN, 20); /* WARN passes */
	CHECK_INT(w.up, 1);
	CHECK(w.longest_s == 0);

	step(&w, &p, BS_STATE_FAIL, 30);
	CHECK_INT(w.up, 1);
	step(&w, &p, BS_STATE_UNKNOWN, 40); /* UNKNOWN fails */
	CHECK_INT(w.up, 0);
	CHECK_INT(w.outages, 1);
	CHECK(w.outage_s == 10); /* from the first failing round, t=30 */
	CHECK(w.longest_s == 10);

	step(&w, &p, BS_STATE_OK, 50);
	CHECK_INT(w.up, 0); /* one passing round does not end it */
	CHECK(w.outage_s == 20);
	step(&w, &p, BS_STATE_FAIL, 60);
	CHECK_INT(w.up, 0);
	CHECK(w.outage_s == 30);
	step(&w, &p, BS_STATE_OK, 70);
	CHECK_INT(w.up, 0);
	CHECK(w.outage_s == 40);
	CHECK_INT(w.outages, 1);
	step(&w, &p, BS_STATE_OK, 80);
	CHECK_INT(w.up, 1);
	CHECK(w.outage_s == 0);
	CHECK_INT(w.outages, 1);

	/* a shorter second outage: the longest is kept */
	step(&w, &p, BS_STATE_FAIL, 90);
	step(&w, &p, BS_STATE_FAIL, 100);
	CHECK_INT(w.up, 0);
	CHECK_INT(w.outages, 2);
	CHECK(w.outage_s == 10);
	CHECK(w.longest_s >= 40);

	CHECK_INT(w.rounds, 11);
	CHECK_INT(w.passed, 5); /* t=1, 20, 50, 70, 80 */
	CHECK(fabs(bs_probe_watch_availability(&w) - 100.0 * 5 / 11) < 1e-9);
	if (th_cur_failed)
		printf("#   up %d outages %zu outage %.1fs longest %.1fs\n", w.up, w.outages, w.outage_s,
		       w.longest_s);
}

/* The header: an outage is the time from the first failing round of the
 * run that took the probe down to the round that brought it up. */
TEST(watch_outage_ends_at_the_round_that_ends_it)
{
	struct bs_probe p2 = {
	    .name = "w", .kind = BS_PROBE_TCP, .failure_threshold = 2, .success_threshold = 2};
	struct bs_probe p1 = {
	    .name = "w", .kind = BS_PROBE_TCP, .failure_threshold = 1, .success_threshold = 1};
	struct bs_probe_watch w;

	bs_probe_watch_init(&w);
	step(&w, &p2, BS_STATE_FAIL, 30);
	step(&w, &p2, BS_STATE_FAIL, 40);
	step(&w, &p2, BS_STATE_OK, 50);
	step(&w, &p2, BS_STATE_OK, 60); /* up again: down from 30 to 60 */
	CHECK_INT(w.up, 1);
	if (w.longest_s != 30)
		printf("#   thresholds 2/2, down 30..60: longest %.1fs\n", w.longest_s);
	CHECK(w.longest_s == 30);

	/* thresholds 1/1: failing at 10, passing at 20 is a 10s outage */
	bs_probe_watch_init(&w);
	step(&w, &p1, BS_STATE_OK, 1);
	step(&w, &p1, BS_STATE_FAIL, 10);
	CHECK_INT(w.up, 0);
	CHECK_INT(w.outages, 1);
	step(&w, &p1, BS_STATE_OK, 20);
	CHECK_INT(w.up, 1);
	if (w.longest_s != 10)
		printf("#   thresholds 1/1, down 10..20: longest %.1fs\n", w.longest_s);
	CHECK(w.longest_s == 10);
	CHECK(fabs(bs_probe_watch_availability(&w) - 200.0 / 3) < 1e-9);
}

int main(void)
{
	bs_config_init(&cfg);
	RUN(ms_parse_accepts);
	RUN(ms_parse_rejects);
	RUN(ms_parse_rejects_strtod_forms);
	RUN(ms_parse_rejects_overflow);
	RUN(status_parse);
	RUN(status_parse_rejects_space_and_sign);
	RUN(load_every_kind_settings_first);
	RUN(load_every_kind_settings_after);
	RUN(defaults_without_probe_settings);
	RUN(relative_paths_without_base_dir);
	RUN(errors);
	RUN(min_availability_rejects_nan);
	RUN(tls_host_port_and_port_disagree);
	RUN(several_errors_at_once);
	RUN(adhoc_names);
	RUN(adhoc_duplicates);
	RUN(adhoc_bad_arguments);
	RUN(adhoc_failure_leaves_set_alone);
	RUN(prom_write);
	RUN(report_add);
	RUN(report_add_long_adhoc_name);
	RUN(watch_thresholds);
	RUN(watch_outage_ends_at_the_round_that_ends_it);
	bs_config_release(&cfg);
	return DONE();
}
