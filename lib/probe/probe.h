/*
 * probe.h - health checks: what a probe is, one round of probes run at
 * once, and the watch that repeats rounds.
 *
 * Kinds (one file each, probe_<kind>.c):
 *   http      a request; status set, latency (connect/TLS/first byte/total),
 *             body regex, JSON fields, redirects, client certificate, CA
 *   tls       certificate days left, leaf and chain apart; verification
 *             (chain and host name) done here with OpenSSL, so an expired or
 *             misnamed certificate is described, not just refused
 *   tcp       a connection within the timeout
 *   postgres  a connection (libpq ping semantics: up, rejecting, no
 *             response), an optional query and its expected first value,
 *             replication lag on a standby
 *   backup    age of the newest complete snapshot of a database in a
 *             repository, and of its newest passing drill; none is FAIL
 *
 * A round (probe_round.c) runs every probe at once: http, tls and tcp as
 * transfers of the one HTTP client (net/http.h), postgres with libpq's
 * non-blocking connect on the same wait (bs_http_next_fds), backup probes
 * in a thread of their own (they read a repository).  Each probe has its
 * timeout and retries; the round has a deadline, after which what is still
 * running is UNKNOWN ("no answer within the deadline").
 *
 * A result has one of four states - OK, WARN, FAIL, UNKNOWN (could not be
 * evaluated: never a pass) - and one line saying why, expected against
 * observed: "status 503 (expected 200) after 1.84s".
 *
 * Configuration (probe_config.c): backstop.yaml's 'probes:' mapping (name ->
 * probe) and 'probe:' settings; docs/probe.md has every key.  Ad hoc probes
 * from command-line flags are made with bs_probe_adhoc.
 *
 * Ownership: a struct bs_probe_set owns its probes and every string in
 * them (bs_probe_set_release).  Results borrow their probe.
 */
#ifndef BS_PROBE_PROBE_H
#define BS_PROBE_PROBE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "report/report.h"

enum bs_probe_kind {
	BS_PROBE_HTTP = 1,
	BS_PROBE_TLS,
	BS_PROBE_TCP,
	BS_PROBE_POSTGRES,
	BS_PROBE_BACKUP,
};

#define BS_PROBE_NAME_MAX 64
#define BS_PROBE_STATUS_MAX 16
#define BS_PROBE_JSON_MAX 16
#define BS_PROBE_HEADERS_MAX 32

struct bs_probe_header {
	char *name;
	char *value; /* the value, or ... */
	char *file;  /* ... a file holding it (a secret: never logged) */
};

struct bs_probe_json {
	char *path;  /* "status", "db.up", "items.0.id" */
	char *value; /* expected, compared as text: "ok", "true", "3", "null" */
};

struct bs_probe {
	char *name;
	enum bs_probe_kind kind;
	char *file;	   /* where it was configured, or NULL (ad hoc) */
	unsigned line;
	int64_t timeout_ms; /* per attempt */
	int retries;	    /* attempts after the first */
	int failure_threshold, success_threshold; /* watch: rounds to go down / up */
	unsigned own_; /* private (probe_config.c): which of the four above the probe set itself */

	/* http */
	char *url;
	char *method;
	struct bs_probe_header *headers;
	size_t nheaders;
	int status_lo[BS_PROBE_STATUS_MAX], status_hi[BS_PROBE_STATUS_MAX];
	size_t nstatus;		 /* 0: 200-299 */
	int64_t max_latency_ms;	 /* total time over this is FAIL; 0: none */
	int64_t warn_latency_ms; /* ... over this WARN; 0: none */
	char *body_regex;	 /* POSIX extended */
	struct bs_probe_json json[BS_PROBE_JSON_MAX];
	size_t njson;
	int follow_redirects;
	char *client_cert, *client_key, *ca_file; /* ca_file: tls too */

	/* tls, tcp */
	char *host; /* host name or address */
	int port;
	char *servername;   /* tls: SNI and the name verified; NULL: host */
	int warn_days;	    /* tls: fewer days left is WARN (default 21) */
	int crit_days;	    /* ... FAIL (default 7) */
	int verify_hostname; /* tls: default 1 */
	int check_chain;     /* tls: the chain's expiry too (default 1) */

	/* postgres */
	char *conninfo;
	char *query;
	char *expect;	    /* first column of the first row, as text */
	int64_t max_lag_ms; /* on a standby: replay lag over this is FAIL; 0: not checked */

	/* backup */
	char *repository; /* location, or a name of 'repositories:'; NULL: the configured one */
	char *database;	  /* source database name; NULL: the only one there */
	int64_t max_age_ms;	  /* older newest snapshot is FAIL (default 26h) */
	int64_t warn_age_ms;	  /* ... WARN; 0: none */
	int64_t drill_max_age_ms; /* newest passing drill older is FAIL; 0: not checked */
};

/* 'probe:' settings. */
struct bs_probe_settings {
	int64_t timeout_ms;  /* default per-probe timeout (10s) */
	int retries;	     /* default retries (0) */
	int64_t deadline_ms; /* a round's total deadline (default 30s) */
	int parallel;	     /* transfers at once (default 50) */
	int64_t interval_ms; /* watch: period between rounds (default 10s) */
	int failure_threshold, success_threshold; /* defaults for probes (1, 1) */
	int64_t outage_limit_ms; /* watch: an outage this long ends it (0: none) */
	char *min_availability;	 /* watch: "99.9" (percent), or NULL */
	char *textfile;		 /* directory for backstop_probe.prom, or NULL */
};

struct bs_probe_set {
	struct bs_probe *v;
	size_t n, cap;
	struct bs_probe_settings settings;
};

void bs_probe_set_init(struct bs_probe_set *s);
void bs_probe_set_release(struct bs_probe_set *s);
/* The probe called name, or NULL. */
const struct bs_probe *bs_probe_find(const struct bs_probe_set *s, const char *name);
const char *bs_probe_kind_name(enum bs_probe_kind k);

/* Bind 'probes:' (a mapping of names to probes) and 'probe:' into s
 * (config.c calls these for backstop.yaml).  Errors name file:line. */
struct bs_bind_ctx;
struct bs_bind_field;
struct bs_ynode;
int bs_probe_section_bind(struct bs_bind_ctx *ctx, const struct bs_ynode *node, const char *keypath,
			  struct bs_probe_set *s, struct bs_err *err);
int bs_probe_settings_bind(struct bs_bind_ctx *ctx, const struct bs_ynode *node, const char *keypath,
			   struct bs_probe_set *s, struct bs_err *err);

/* An ad hoc probe from a command-line flag: kind, and the flag's argument
 * (http: a URL; tls: host[:port]; tcp: host:port; postgres: a conninfo;
 * backup: a database name).  Named "<kind>:<arg>" (URL and conninfo
 * without secrets).  Added to s with s's defaults.  BS_ERR_USAGE for a bad
 * argument (nothing is added then).  Returns the probe for the caller to
 * refine (expect_status...); the caller runs bs_probe_check when done. */
struct bs_probe *bs_probe_adhoc(struct bs_probe_set *s, enum bs_probe_kind kind, const char *arg,
				struct bs_err *err);
/* Check a probe as a whole (kind-specific rules: a URL, a port); the config
 * binder and bs_probe_adhoc call it.  BS_ERR_CONFIG. */
int bs_probe_check(const struct bs_probe *p, struct bs_err *err);
/* "500ms", "2s", "1.5s", "1m30s", "26h" into milliseconds; -1 when bad. */
int bs_probe_ms_parse(const char *s, int64_t *out);
/* Parse "200", "200-299", "2xx" into [lo, hi].  -1 when bad. */
int bs_probe_status_parse(const char *s, int *lo, int *hi);

/* ---- results ------------------------------------------------------------ */

struct bs_probe_result {
	const struct bs_probe *probe;
	enum bs_state state;
	char reason[512];    /* one line: "status 503 (expected 200) after 1.84s" */
	char expected[160];  /* "" when not stated */
	char observed[256];
	double seconds;	     /* how long it took, all attempts; <0 not measured */
	int attempts;
	/* kind-specific figures; < 0 (or 0 for times) when not measured */
	long status;
	double t_connect, t_tls, t_first_byte, t_total;
	time_t tls_leaf_expiry, tls_chain_expiry; /* 0: not known */
	double tls_leaf_days, tls_chain_days;
	double backup_age_s, drill_age_s, lag_s;
};

/* Opening a repository is the command layer's (configuration, credentials):
 * a round asks for it through this callback. */
struct bs_repo;
typedef int (*bs_probe_repo_open_fn)(void *ud, const char *repository, struct bs_repo **out,
				     struct bs_err *err);

struct bs_probe_round_opts {
	int64_t deadline_ms;	/* 0: the settings' */
	int parallel;		/* 0: the settings' */
	bs_probe_repo_open_fn open_repo;
	void *open_repo_ud;
	const volatile int *cancel; /* non-zero: stop, what runs is UNKNOWN */
};

/* Run probes[0..n) at once; out[i] is probes[i]'s result.  Returns 0 (the
 * states say how it went), or -1 with err when the round itself could not
 * run (out of memory, no HTTP client). */
int bs_probe_round(const struct bs_probe *const *probes, size_t n, const struct bs_probe_settings *set,
		   const struct bs_probe_round_opts *o, struct bs_probe_result *out, struct bs_err *err);

/* Results into a report: a finding per probe (group "probes", check: the
 * probe's name, category: its kind) with its reason, expected/observed and
 * measurements NAME_time, NAME_days (tls), NAME_age (backup), NAME_lag. */
int bs_probe_report_add(struct bs_report *r, const struct bs_probe_result *res, size_t n);

/* Prometheus text exposition of results for node_exporter's textfile
 * collector (backstop_probe_success, _duration_seconds, _state,
 * _http_status_code, _tls_leaf_expiry_timestamp_seconds,
 * _tls_chain_expiry_timestamp_seconds, _backup_age_seconds,
 * _drill_age_seconds, _replication_lag_seconds), labelled probe and kind.
 * No timestamps.  Writes to f; -1 when f fails. */
#include <stdio.h>
int bs_probe_prom_write(const struct bs_probe_result *res, size_t n, FILE *f);

/* ---- watch -------------------------------------------------------------- */

/* Per-probe state across rounds (Kubernetes-style thresholds): a probe is
 * down after failure_threshold failing rounds in a row and up again after
 * success_threshold passing ones; an outage is the time from the first
 * failing round of a run that took it down to the round that brought it up. */
struct bs_probe_watch {
	int up;		   /* current thresholded state (starts up) */
	int fails, passes; /* consecutive raw results */
	size_t rounds, passed;
	double first_fail;   /* start of the run of failures (0: none) */
	double outage_s;     /* the current outage so far (0: up) */
	double longest_s;    /* longest outage (the current one included) */
	size_t outages;
};

void bs_probe_watch_init(struct bs_probe_watch *w); /* up, no rounds */
/* Account one round's result at time now (seconds). */
void bs_probe_watch_step(struct bs_probe_watch *w, const struct bs_probe *p, const struct bs_probe_result *r,
			 double now);
/* Availability in percent: passing rounds / rounds (100 when none). */
double bs_probe_watch_availability(const struct bs_probe_watch *w);

#endif
