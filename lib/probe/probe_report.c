/* probe_report.c - results into the report layer (text, JSON, JUnit,
 * Nagios...) and into Prometheus text exposition.
 *
 * The exposition is written here rather than through a struct bs_metrics:
 * that one holds a few dozen samples by value for the backup commands, a
 * round may have hundreds of probes.  Escaping is common/metrics.h's. */
#include "probe/probe_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/metrics.h"

int bs_probe_report_add(struct bs_report *r, const struct bs_probe_result *res, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct bs_probe_result *x = &res[i];
		const struct bs_probe *p = x->probe;
		struct bs_measure m[3];
		char mn[3][640]; /* ad hoc names are URLs */
		size_t nm = 0;
		struct bs_finding f = {
			.group = "probes",
			.check = p->name,
			.category = bs_probe_kind_name(p->kind),
			.state = x->state,
			.expected = x->expected[0] ? x->expected : NULL,
			.observed = x->observed[0] ? x->observed : NULL,
			.detail = x->reason,
			.seconds = x->seconds,
			.file = p->file,
			.line = p->line,
		};

		if (x->seconds >= 0) {
			snprintf(mn[nm], sizeof(mn[nm]), "%s_time", p->name);
			m[nm] = (struct bs_measure){ .name = mn[nm], .value = round((x->t_total > 0 ? x->t_total : x->seconds) * 1000) / 1000,
						     .unit = "s" };
			if (p->max_latency_ms) {
				m[nm].set |= BS_MEASURE_CRIT;
				m[nm].crit = p->max_latency_ms / 1000.0;
			}
			if (p->warn_latency_ms) {
				m[nm].set |= BS_MEASURE_WARN;
				m[nm].warn = p->warn_latency_ms / 1000.0;
			}
			nm++;
		}
		if (x->tls_leaf_expiry) {
			snprintf(mn[nm], sizeof(mn[nm]), "%s_days", p->name);
			m[nm] = (struct bs_measure){ .name = mn[nm], .value = floor(x->tls_leaf_days * 10) / 10,
						     .set = BS_MEASURE_WARN | BS_MEASURE_CRIT,
						     .warn = p->warn_days, .crit = p->crit_days };
			nm++;
		}
		if (x->backup_age_s >= 0) {
			snprintf(mn[nm], sizeof(mn[nm]), "%s_age", p->name);
			m[nm] = (struct bs_measure){ .name = mn[nm], .value = floor(x->backup_age_s), .unit = "s",
						     .set = BS_MEASURE_CRIT, .crit = p->max_age_ms / 1000.0 };
			nm++;
		} else if (x->lag_s >= 0 && nm < 3) {
			snprintf(mn[nm], sizeof(mn[nm]), "%s_lag", p->name);
			m[nm] = (struct bs_measure){ .name = mn[nm], .value = x->lag_s, .unit = "s" };
			nm++;
		}
		f.measures = m;
		f.nmeasures = nm;
		if (!bs_report_add(r, &f) && errno == ENOMEM)
			return -1;
	}
	return 0;
}

struct family {
	const char *name, *help;
	int (*has)(const struct bs_probe_result *x);
	double (*value)(const struct bs_probe_result *x);
};

static int always(const struct bs_probe_result *x) { (void)x; return 1; }
static double v_success(const struct bs_probe_result *x)
{
	return x->state == BS_STATE_OK || x->state == BS_STATE_WARN;
}
static double v_state(const struct bs_probe_result *x) { return (double)x->state; }
static int h_duration(const struct bs_probe_result *x) { return x->seconds >= 0; }
static double v_duration(const struct bs_probe_result *x) { return x->t_total > 0 ? x->t_total : x->seconds; }
static int h_status(const struct bs_probe_result *x) { return x->status > 0; }
static double v_status(const struct bs_probe_result *x) { return (double)x->status; }
static int h_leaf(const struct bs_probe_result *x) { return x->tls_leaf_expiry != 0; }
static double v_leaf(const struct bs_probe_result *x) { return (double)x->tls_leaf_expiry; }
static int h_chain(const struct bs_probe_result *x) { return x->tls_chain_expiry != 0; }
static double v_chain(const struct bs_probe_result *x) { return (double)x->tls_chain_expiry; }
static int h_backup(const struct bs_probe_result *x) { return x->backup_age_s >= 0; }
static double v_backup(const struct bs_probe_result *x) { return x->backup_age_s; }
static int h_drill(const struct bs_probe_result *x) { return x->drill_age_s >= 0; }
static double v_drill(const struct bs_probe_result *x) { return x->drill_age_s; }
static int h_lag(const struct bs_probe_result *x) { return x->lag_s >= 0; }
static double v_lag(const struct bs_probe_result *x) { return x->lag_s; }

static const struct family families[] = {
	{ "backstop_probe_success", "1 when the probe passed (OK or WARN), 0 when it failed or could not be evaluated",
	  always, v_success },
	{ "backstop_probe_state", "State of the probe: 0 OK, 1 WARN, 2 FAIL, 3 UNKNOWN", always, v_state },
	{ "backstop_probe_duration_seconds", "How long the probe took", h_duration, v_duration },
	{ "backstop_probe_http_status_code", "HTTP status of the last response", h_status, v_status },
	{ "backstop_probe_tls_leaf_expiry_timestamp_seconds", "When the leaf certificate expires (Unix time)", h_leaf,
	  v_leaf },
	{ "backstop_probe_tls_chain_expiry_timestamp_seconds",
	  "When the first certificate of the chain above the leaf expires (Unix time)", h_chain, v_chain },
	{ "backstop_probe_backup_age_seconds", "Age of the newest complete snapshot", h_backup, v_backup },
	{ "backstop_probe_drill_age_seconds", "Age of the newest passing restore drill", h_drill, v_drill },
	{ "backstop_probe_replication_lag_seconds", "Replay lag of a standby", h_lag, v_lag },
};

int bs_probe_prom_write(const struct bs_probe_result *res, size_t n, FILE *f)
{
	for (size_t k = 0; k < sizeof(families) / sizeof(families[0]); k++) {
		const struct family *fam = &families[k];
		int any = 0;

		for (size_t i = 0; i < n && !any; i++)
			any = fam->has(&res[i]);
		if (!any)
			continue;
		fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", fam->name, fam->help, fam->name);
		for (size_t i = 0; i < n; i++) {
			if (!fam->has(&res[i]))
				continue;
			fprintf(f, "%s{probe=\"", fam->name);
			bs_metrics_put_escaped(f, res[i].probe->name, 1);
			fprintf(f, "\",kind=\"%s\"} %.15g\n", bs_probe_kind_name(res[i].probe->kind), fam->value(&res[i]));
		}
	}
	return ferror(f) ? -1 : 0;
}

/* ---- watch ------------------------------------------------------------------ */

void bs_probe_watch_init(struct bs_probe_watch *w)
{
	memset(w, 0, sizeof(*w));
	w->up = 1;
}

void bs_probe_watch_step(struct bs_probe_watch *w, const struct bs_probe *p, const struct bs_probe_result *r,
			 double now)
{
	int pass = r->state == BS_STATE_OK || r->state == BS_STATE_WARN;

	w->rounds++;
	if (pass) {
		w->passed++;
		w->passes++;
		w->fails = 0;
		if (!w->up && w->passes >= p->success_threshold) {
			/* the outage lasted until this round */
			if (now - w->first_fail > w->longest_s)
				w->longest_s = now - w->first_fail;
			w->up = 1;
			w->first_fail = 0;
			w->outage_s = 0;
		}
		if (w->up)
			w->first_fail = 0;
	} else {
		w->fails++;
		w->passes = 0;
		if (w->fails == 1 && w->up)
			w->first_fail = now;
		if (w->up && w->fails >= p->failure_threshold) {
			w->up = 0;
			w->outages++;
		}
	}
	if (!w->up) {
		w->outage_s = now - w->first_fail;
		if (w->outage_s > w->longest_s)
			w->longest_s = w->outage_s;
	}
}

double bs_probe_watch_availability(const struct bs_probe_watch *w)
{
	return w->rounds ? 100.0 * (double)w->passed / (double)w->rounds : 100.0;
}
