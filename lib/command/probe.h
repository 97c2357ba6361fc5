/*
 * probe.h (command layer) - backstop probe: choose the probes (named ones
 * from the configuration, ad hoc ones from flags), run one round or a
 * watch, and write the outcome in the format asked.  cmd/probe.c parses
 * flags into a struct bs_probe_cmd and maps the return to the exit code.
 */
#ifndef BS_COMMAND_PROBE_H
#define BS_COMMAND_PROBE_H

#include <stdint.h>
#include <stdio.h>

#include "common/err.h"
#include "config/config.h"
#include "probe/probe.h"

enum bs_probe_format {
	BS_PROBE_FMT_TEXT = 0,
	BS_PROBE_FMT_JSON,
	BS_PROBE_FMT_NAGIOS,
	BS_PROBE_FMT_JUNIT,
	BS_PROBE_FMT_PROMETHEUS,
};

struct bs_probe_cmd {
	struct bs_config *cfg;	    /* loaded; its probes and settings */
	const char *const *names;   /* probes named on the command line */
	size_t nnames;
	struct bs_probe_set *adhoc; /* probes from flags (may be empty) */
	enum bs_probe_format format;
	const char *junit_path;	    /* also a JUnit file, or NULL */
	const char *textfile_dir;   /* also DIR/backstop_probe.prom, or NULL */
	int fail_on_warn;
	int64_t deadline_ms;	    /* 0: the settings' */
	/* watch */
	int watch;
	int64_t interval_ms;	 /* 0: the settings' */
	int64_t for_ms;		 /* 0: until interrupted or the outage limit */
	int64_t outage_limit_ms; /* 0: the settings' (0 there: none) */
	double min_availability; /* percent; < 0: the settings', none if unset */
	FILE *out;
	const volatile int *cancel; /* set by SIGINT/SIGTERM */
};

/* The ad hoc probes' flags: the probes (one list per kind) and the
 * settings flags, each applied to the probes of its kind. */
struct bs_strlist;
struct bs_probe_flags {
	const struct bs_strlist *url, *tls, *tcp, *postgres, *backup;
	const struct bs_strlist *status, *json, *headers; /* --expect-status, --expect-json, --header */
	const char *max_latency, *warn_latency, *timeout, *max_age; /* durations as given */
	const char *body_regex, *ca_file, *client_cert, *client_key, *servername, *query, *expect, *repo;
	int follow_redirects;
	int retries, warn_days, crit_days; /* -1: not given */
};

/* Add the flags' probes to s (probe_adhoc.c), with defaults' timeout,
 * retries and thresholds unless the flags say.  BS_ERR_USAGE for a bad
 * flag value (a password in --postgres included). */
int bs_cmd_probe_adhoc(struct bs_probe_set *s, const struct bs_probe_settings *defaults,
		       const struct bs_probe_flags *f, struct bs_err *err);

/* The probes the command would run (names resolved), for validate too:
 * BS_ERR_USAGE for a name not configured (with a did-you-mean) or when
 * there is nothing to run. */
int bs_cmd_probe_select(const struct bs_probe_cmd *c, const struct bs_probe ***out, size_t *n,
			struct bs_err *err);

/* Run and write.  Returns the exit code (0 OK, 1 FAIL or WARN under
 * fail_on_warn, 3 UNKNOWN; Nagios: 0/1/2/3), or -1 with err when it could
 * not run at all. */
int bs_cmd_probe(const struct bs_probe_cmd *c, struct bs_err *err);

#endif
