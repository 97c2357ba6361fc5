/* probe.c (command layer) - backstop probe: selection, one round or a
 * watch, output.  See probe.h. */
#include "command/probe.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "command/setup.h"
#include "common/durable.h"
#include "common/log.h"
#include "common/progress.h"
#include "common/opts.h"
#include "repo/repo.h"
#include "report/report.h"

#define PROM_FILE "backstop_probe.prom"

/* ---- selection -------------------------------------------------------------- */

int bs_cmd_probe_select(const struct bs_probe_cmd *c, const struct bs_probe ***out, size_t *n,
			struct bs_err *err)
{
	const struct bs_probe_set *cs = &c->cfg->probes;
	size_t nadhoc = c->adhoc ? c->adhoc->n : 0, cap, k = 0;
	const struct bs_probe **v;

	cap = (c->nnames ? c->nnames : (nadhoc ? 0 : cs->n)) + nadhoc;
	*out = NULL;
	*n = 0;
	if (!cap) {
		bs_err_set(err, BS_ERR_USAGE, "no probes to run: %s has no 'probes:'",
			   c->cfg->config_path ? c->cfg->config_path : "no configuration file was found and it");
		bs_err_hint(err, "configure probes under 'probes:' (docs/probe.md), or give one with --url, --tls, "
				 "--tcp, --postgres or --backup");
		return -1;
	}
	v = calloc(cap, sizeof(*v));
	if (!v)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < c->nnames; i++) {
		const struct bs_probe *p = bs_probe_find(cs, c->names[i]);

		if (!p) {
			const char **names = calloc(cs->n + 1, sizeof(*names));
			const char *guess;
			for (size_t j = 0; names && j < cs->n; j++)
				names[j] = cs->v[j].name;
			guess = names ? bs_did_you_mean(c->names[i], names) : NULL;
			bs_err_set(err, BS_ERR_USAGE, "no probe named '%s' in %s%s%s%s", c->names[i],
				   c->cfg->config_path ? c->cfg->config_path : "the configuration", guess ? "; did you mean '" : "",
				   guess ? guess : "", guess ? "'?" : "");
			free(names);
			free(v);
			return -1;
		}
		v[k++] = p;
	}
	if (!c->nnames && !nadhoc)
		for (size_t i = 0; i < cs->n; i++)
			v[k++] = &cs->v[i];
	for (size_t i = 0; i < nadhoc; i++)
		v[k++] = &c->adhoc->v[i];
	*out = v;
	*n = k;
	return 0;
}

/* ---- repositories for backup probes ------------------------------------------ */

static int open_repo(void *ud, const char *repository, struct bs_repo **out, struct bs_err *err)
{
	return bs_cmd_repo_open_named(ud, repository, out, err);
}

/* ---- output ----------------------------------------------------------------- */

struct prom_ud {
	const struct bs_probe_result *res;
	size_t n;
};

static int fill_prom(FILE *f, void *ud, struct bs_err *err)
{
	const struct prom_ud *p = ud;

	if (bs_probe_prom_write(p->res, p->n, f) < 0)
		return bs_err_set(err, BS_ERR_IO, "unable to write the metrics");
	return 0;
}

static int fill_junit(FILE *f, void *ud, struct bs_err *err)
{
	if (bs_report_write_junit(ud, f, 0) < 0)
		return bs_err_set(err, BS_ERR_IO, "unable to render the JUnit report");
	return 0;
}

/* DIR/backstop_probe.prom from one round's results (every round of a watch). */
static int write_prom(const struct bs_probe_cmd *c, const struct bs_probe_result *res, size_t n, struct bs_err *err)
{
	const char *dir = c->textfile_dir ? c->textfile_dir : c->cfg->probes.settings.textfile;

	if (dir) {
		struct prom_ud ud = { res, n };
		char *path;

		if (asprintf(&path, "%s/%s", dir, PROM_FILE) < 0)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		if (bs_durable_write_exact(path, 0644, fill_prom, &ud, err) < 0) {
			bs_err_prefix(err, "metrics file '%s'", path);
			free(path);
			return -1;
		}
		free(path);
	}
	return 0;
}

static int write_files(const struct bs_probe_cmd *c, const struct bs_report *r, const struct bs_probe_result *res,
		       size_t n, struct bs_err *err)
{
	if (c->junit_path && bs_durable_write(c->junit_path, 0644, fill_junit, (void *)r, err) < 0) {
		bs_err_prefix(err, "JUnit report '%s'", c->junit_path);
		return -1;
	}
	return write_prom(c, res, n, err);
}

static int write_report(const struct bs_probe_cmd *c, const struct bs_report *r, const struct bs_probe_result *res,
			size_t n)
{
	unsigned flags = c->fail_on_warn ? BS_REPORT_WARN_FAILS : 0;

	switch (c->format) {
	case BS_PROBE_FMT_JSON: return bs_report_write_json(r, c->out, flags);
	case BS_PROBE_FMT_NAGIOS: return bs_report_write_nagios(r, c->out, flags);
	case BS_PROBE_FMT_JUNIT: return bs_report_write_junit(r, c->out, flags);
	case BS_PROBE_FMT_PROMETHEUS: return bs_probe_prom_write(res, n, c->out);
	case BS_PROBE_FMT_TEXT: break;
	}
	return bs_report_write_text(r, c->out, flags);
}

static int exit_code(const struct bs_probe_cmd *c, const struct bs_report *r)
{
	enum bs_state s = bs_report_overall(r);

	if (c->format == BS_PROBE_FMT_NAGIOS)
		return bs_report_nagios_code(r);
	if (s == BS_STATE_FAIL || (s == BS_STATE_WARN && c->fail_on_warn))
		return 1;
	if (s == BS_STATE_UNKNOWN)
		return 3;
	return 0;
}

/* Under cron only stderr reaches a person: each probe that did not pass
 * says so there in one line, whatever the output format. */
static void complain(const struct bs_probe_result *res, size_t n, int fail_on_warn)
{
	for (size_t i = 0; i < n; i++) {
		enum bs_state s = res[i].state;
		if (s == BS_STATE_FAIL || s == BS_STATE_UNKNOWN || (s == BS_STATE_WARN && fail_on_warn))
			bs_log(BS_LOG_ERROR, "%s: %s %s", res[i].probe->name, bs_state_label(s), res[i].reason);
		else if (s == BS_STATE_WARN)
			bs_log(BS_LOG_WARN, "%s: WARN %s", res[i].probe->name, res[i].reason);
	}
}

static struct bs_probe_round_opts round_opts(const struct bs_probe_cmd *c)
{
	struct bs_probe_round_opts o = {
		.deadline_ms = c->deadline_ms,
		.open_repo = open_repo,
		.open_repo_ud = c->cfg,
		.cancel = c->cancel,
	};
	return o;
}

static int once(const struct bs_probe_cmd *c, const struct bs_probe **v, size_t n, struct bs_err *err)
{
	struct bs_probe_result *res = calloc(n, sizeof(*res));
	struct bs_probe_round_opts o = round_opts(c);
	struct bs_report r;
	int rc = -1;

	bs_report_init(&r);
	if (!res) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	r.start = time(NULL);
	if (bs_probe_round(v, n, &c->cfg->probes.settings, &o, res, err) < 0)
		goto out;
	r.end = time(NULL);
	if (bs_report_set_title(&r, "probe", NULL) < 0 || bs_probe_report_add(&r, res, n) < 0) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (write_report(c, &r, res, n) < 0) {
		bs_err_set(err, BS_ERR_IO, "unable to write the report");
		goto out;
	}
	complain(res, n, c->fail_on_warn);
	if (write_files(c, &r, res, n, err) < 0)
		goto out;
	rc = c->cancel && *c->cancel ? 130 : exit_code(c, &r);
out:
	bs_report_release(&r);
	free(res);
	return rc;
}

/* ---- watch ------------------------------------------------------------------ */

static void dur_text(double s, char *buf, size_t n)
{
	if (s < 60)
		snprintf(buf, n, "%.0fs", s);
	else if (s < 3600)
		snprintf(buf, n, "%dm%02ds", (int)s / 60, (int)s % 60);
	else
		snprintf(buf, n, "%dh%02dm", (int)s / 3600, (int)s % 3600 / 60);
}

struct watch {
	const struct bs_probe_cmd *c;
	const struct bs_probe **v;
	size_t n;
	struct bs_probe_watch *w;
	struct bs_probe_result *last;
	enum bs_state *prev;
	int64_t outage_limit_ms;
	double min_avail; /* < 0: none */
	double started;
	size_t rounds;
	int limit_hit;	  /* index + 1 of the probe whose outage hit the limit */
};

/* Log what changed in this round: a probe that went down or came back. */
static void log_changes(struct watch *wt)
{
	for (size_t i = 0; i < wt->n; i++) {
		const struct bs_probe_result *r = &wt->last[i];

		if (r->state != wt->prev[i]) {
			if (r->state == BS_STATE_OK && wt->prev[i] != (enum bs_state)-1) {
				bs_log(BS_LOG_INFO, "%s: OK again: %s", r->probe->name, r->reason);
			} else if (r->state != BS_STATE_OK) {
				bs_log(r->state == BS_STATE_WARN ? BS_LOG_WARN : BS_LOG_ERROR, "%s: %s %s",
				       r->probe->name, bs_state_label(r->state), r->reason);
			}
			wt->prev[i] = r->state;
		}
	}
}

static int watch_report(struct watch *wt, int interrupted, struct bs_err *err)
{
	const struct bs_probe_cmd *c = wt->c;
	struct bs_report r;
	char win[32], sub[96];
	int rc = -1;

	bs_report_init(&r);
	dur_text(bs_now() - wt->started, win, sizeof(win));
	snprintf(sub, sizeof(sub), "watch: %zu rounds in %s%s", wt->rounds, win, interrupted ? " (interrupted)" : "");
	if (bs_report_set_title(&r, "probe --watch", sub) < 0)
		goto nomem;
	for (size_t i = 0; i < wt->n; i++) {
		const struct bs_probe_watch *w = &wt->w[i];
		const struct bs_probe *p = wt->v[i];
		double avail = bs_probe_watch_availability(w);
		char longest[32], lim[32], obs[128], exp[128], detail[768];
		struct bs_measure m[2];
		char mn[2][BS_PROBE_NAME_MAX + 16];
		struct bs_finding f = { .group = "watch", .check = p->name, .category = bs_probe_kind_name(p->kind),
					.state = BS_STATE_OK, .file = p->file, .line = p->line };

		dur_text(w->longest_s, longest, sizeof(longest));
		snprintf(obs, sizeof(obs), "availability %.2f%%, longest outage %s", avail, longest);
		exp[0] = '\0';
		if (wt->min_avail >= 0)
			snprintf(exp, sizeof(exp), "availability at least %g%%", wt->min_avail);
		if (wt->outage_limit_ms) {
			dur_text(wt->outage_limit_ms / 1000.0, lim, sizeof(lim));
			snprintf(exp + strlen(exp), sizeof(exp) - strlen(exp), "%soutage under %s", exp[0] ? ", " : "", lim);
		}
		if (wt->outage_limit_ms && w->longest_s * 1000 >= wt->outage_limit_ms) {
			f.state = BS_STATE_FAIL;
			snprintf(detail, sizeof(detail), "down for %s (limit %s); last: %s", longest, lim, wt->last[i].reason);
		} else if (wt->min_avail >= 0 && avail < wt->min_avail) {
			f.state = BS_STATE_FAIL;
			snprintf(detail, sizeof(detail), "availability %.2f%% (expected at least %g%%): %zu of %zu rounds passed; last: %s",
				 avail, wt->min_avail, w->passed, w->rounds, wt->last[i].reason);
		} else if (!w->up) {
			f.state = BS_STATE_FAIL;
			snprintf(detail, sizeof(detail), "down at the end of the window (for %s): %s", longest, wt->last[i].reason);
		} else {
			snprintf(detail, sizeof(detail), "%zu of %zu rounds passed, %zu outage%s; last: %s", w->passed, w->rounds,
				 w->outages, w->outages == 1 ? "" : "s", wt->last[i].reason);
		}
		snprintf(mn[0], sizeof(mn[0]), "%s_availability", p->name);
		snprintf(mn[1], sizeof(mn[1]), "%s_longest_outage", p->name);
		m[0] = (struct bs_measure){ .name = mn[0], .value = avail, .unit = "%", .set = BS_MEASURE_MIN | BS_MEASURE_MAX,
					    .min = 0, .max = 100 };
		m[1] = (struct bs_measure){ .name = mn[1], .value = w->longest_s, .unit = "s" };
		f.measures = m;
		f.nmeasures = 2;
		f.observed = obs;
		f.expected = exp[0] ? exp : NULL;
		f.detail = detail;
		if (!bs_report_add(&r, &f) && errno == ENOMEM)
			goto nomem;
	}
	if (write_report(c, &r, wt->last, wt->n) < 0) {
		bs_err_set(err, BS_ERR_IO, "unable to write the report");
		goto out;
	}
	for (size_t i = 0; i < r.nfindings; i++)
		if (r.findings[i].state == BS_STATE_FAIL)
			bs_log(BS_LOG_ERROR, "%s: FAIL %s", r.findings[i].check, r.findings[i].detail);
	if (c->junit_path && bs_durable_write(c->junit_path, 0644, fill_junit, &r, err) < 0) {
		bs_err_prefix(err, "JUnit report '%s'", c->junit_path);
		goto out;
	}
	rc = interrupted ? 130 : exit_code(c, &r);
	goto out;
nomem:
	bs_err_set(err, BS_ERR_NOMEM, "out of memory");
out:
	bs_report_release(&r);
	return rc;
}

static int watch(const struct bs_probe_cmd *c, const struct bs_probe **v, size_t n, struct bs_err *err)
{
	const struct bs_probe_settings *set = &c->cfg->probes.settings;
	struct bs_probe_round_opts o = round_opts(c);
	struct watch wt = { .c = c, .v = v, .n = n };
	int64_t interval = c->interval_ms ? c->interval_ms : set->interval_ms;
	int rc = -1;

	wt.w = calloc(n, sizeof(*wt.w));
	wt.last = calloc(n, sizeof(*wt.last));
	wt.prev = calloc(n, sizeof(*wt.prev));
	if (!wt.w || !wt.last || !wt.prev) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	wt.outage_limit_ms = c->outage_limit_ms ? c->outage_limit_ms : set->outage_limit_ms;
	wt.min_avail = c->min_availability >= 0 ? c->min_availability
			: set->min_availability ? strtod(set->min_availability, NULL) : -1;
	for (size_t i = 0; i < n; i++) {
		bs_probe_watch_init(&wt.w[i]);
		wt.prev[i] = (enum bs_state)-1;
	}
	/* a round may not outlast the period */
	if (!o.deadline_ms || o.deadline_ms > interval)
		o.deadline_ms = interval < set->deadline_ms ? interval : set->deadline_ms;
	wt.started = bs_now();
	bs_log(BS_LOG_INFO, "watching %zu probe%s every %.1fs%s", n, n == 1 ? "" : "s", interval / 1000.0,
	       c->for_ms ? "" : " until interrupted");
	for (;;) {
		double t0 = bs_now();

		if (bs_probe_round(v, n, set, &o, wt.last, err) < 0)
			goto out;
		if (c->cancel && *c->cancel)
			break;
		wt.rounds++;
		for (size_t i = 0; i < n; i++) {
			bs_probe_watch_step(&wt.w[i], v[i], &wt.last[i], t0 - wt.started + 1e-9);
			if (wt.outage_limit_ms && !wt.w[i].up && wt.w[i].outage_s * 1000 >= wt.outage_limit_ms)
				wt.limit_hit = (int)i + 1;
		}
		log_changes(&wt);
		if (write_prom(c, wt.last, n, err) < 0) /* the collector sees each round */
			goto out;
		if (wt.limit_hit) {
			char lim[32];
			dur_text(wt.outage_limit_ms / 1000.0, lim, sizeof(lim));
			bs_log(BS_LOG_ERROR, "%s has been down for the outage limit of %s: stopping the watch",
			       v[wt.limit_hit - 1]->name, lim);
			break;
		}
		if (c->for_ms && (bs_now() - wt.started) * 1000 + interval > c->for_ms + 1)
			break;
		bs_sleep_until(t0 + interval / 1000.0, c->cancel);
	}
	rc = watch_report(&wt, c->cancel && *c->cancel, err);
out:
	free(wt.w);
	free(wt.last);
	free(wt.prev);
	return rc;
}

int bs_cmd_probe(const struct bs_probe_cmd *c, struct bs_err *err)
{
	const struct bs_probe **v = NULL;
	size_t n = 0;
	int rc;

	if (bs_cmd_probe_select(c, &v, &n, err) < 0)
		return -1;
	rc = c->watch ? watch(c, v, n, err) : once(c, v, n, err);
	free(v);
	return rc;
}
