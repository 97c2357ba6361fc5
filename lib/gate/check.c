/*
 * check.c - a gate check, as a list of steps:
 *
 *   1. run the probes every probe criterion names, in one round;
 *   2. evaluate each criterion (its kind's eval), timing it;
 *   3. apply severity (warn: FAIL reads WARN) and waivers (an unexpired
 *      waiver turns a problem into WAIVED; an expired one says so and
 *      waives nothing);
 *   4. add a finding per criterion to the report and decide: any FAIL is
 *      NO-GO (exit 1), else any UNKNOWN is NO-GO because it could not be
 *      evaluated (exit 3), else a WARN under fail_on_warn is NO-GO (1),
 *      else GO (0).
 */
#include "gate/gate_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog/catalog.h"
#include "config/yaml_node.h"
#include "repo/repo.h"

void bs_gate_result_init(struct bs_gate_result *r)
{
	memset(r, 0, sizeof(*r));
}

void bs_gate_result_release(struct bs_gate_result *r)
{
	if (!r)
		return;
	free(r->o);
	bs_gate_result_init(r);
}

struct bs_repo *bs_gate_eval_repo(struct bs_gate_eval *ev, const char *repository, int *own, struct bs_err *why)
{
	const struct bs_gate_env *env = ev->env;
	struct bs_repo *r = NULL;

	*own = 0;
	if (!env->open_repo) {
		bs_err_set(why, BS_ERR_CONFIG, "no repository can be opened here");
		return NULL;
	}
	if (repository) {
		if (env->open_repo(env->open_repo_ud, repository, &r, why) < 0)
			return NULL;
		*own = 1;
		return r;
	}
	if (!ev->repo_tried) {
		ev->repo_tried = 1;
		bs_err_init(&ev->repo_err);
		if (!env->have_repository)
			bs_err_set(&ev->repo_err, BS_ERR_CONFIG, "no repository configured (repository: in backstop.yaml, --repo or $BACKSTOP_REPO)");
		else if (env->open_repo(env->open_repo_ud, NULL, &ev->repo, &ev->repo_err) < 0)
			ev->repo = NULL;
	}
	if (!ev->repo)
		*why = ev->repo_err;
	return ev->repo;
}

static int crit_in(const char *only, const struct bs_gate *g)
{
	return !only || strcmp(g->name, only) == 0;
}

int bs_gate_resolve(const struct bs_gate_policy *p, const struct bs_probe_set *probes, struct bs_err *err)
{
	struct bs_yerrors errs;
	struct bs_err e;

	bs_yerrors_init(&errs);
	for (size_t i = 0; i < p->ngates; i++) {
		const struct bs_gate *g = &p->gates[i];
		for (size_t j = 0; j < g->ncriteria; j++) {
			const struct bs_gate_criterion *c = &g->criteria[j];
			for (size_t k = 0; c->kind == BS_CRIT_PROBE && k < c->nprobes; k++) {
				if (probes && bs_probe_find(probes, c->probes[k]))
					continue;
				bs_err_init(&e);
				bs_err_set(&e, BS_ERR_POLICY, "%s:%u:%u: gate '%s', criterion '%s': no probe named '%s' in the configuration",
					   c->file, c->line, c->column, g->name, c->id, c->probes[k]);
				bs_err_hint(&e, "probes are defined under 'probes:' in backstop.yaml (backstop probe validate lists them)");
				bs_yerrors_add(&errs, &e);
			}
		}
	}
	return bs_yerrors_result(&errs, p->path, err);
}

/* Step 1: the probes named by the probe criteria, once each, in one round. */
static int run_probes(struct bs_gate_eval *ev, const char *only, struct bs_err *err)
{
	const struct bs_gate_policy *p = ev->policy;
	size_t cap = 0;

	for (size_t i = 0; i < p->ngates; i++)
		for (size_t j = 0; crit_in(only, &p->gates[i]) && j < p->gates[i].ncriteria; j++)
			cap += p->gates[i].criteria[j].kind == BS_CRIT_PROBE ? p->gates[i].criteria[j].nprobes : 0;
	if (!cap || !ev->env->probes)
		return 0;
	if (!(ev->probes = calloc(cap, sizeof(*ev->probes))) || !(ev->probe_res = calloc(cap, sizeof(*ev->probe_res))))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < p->ngates; i++) {
		const struct bs_gate *g = &p->gates[i];
		for (size_t j = 0; crit_in(only, g) && j < g->ncriteria; j++) {
			const struct bs_gate_criterion *c = &g->criteria[j];
			for (size_t k = 0; c->kind == BS_CRIT_PROBE && k < c->nprobes; k++) {
				const struct bs_probe *pr = bs_probe_find(ev->env->probes, c->probes[k]);
				size_t m;
				for (m = 0; m < ev->nprobes && ev->probes[m] != pr; m++)
					;
				if (pr && m == ev->nprobes)
					ev->probes[ev->nprobes++] = pr;
			}
		}
	}
	struct bs_probe_round_opts o = {
		.open_repo = ev->env->open_repo,
		.open_repo_ud = ev->env->open_repo_ud,
		.cancel = ev->env->cancel,
	};
	return bs_probe_round(ev->probes, ev->nprobes, &ev->env->probes->settings, &o, ev->probe_res, err);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const struct bs_gate_waiver *waiver_for(const struct bs_gate_policy *p, const struct bs_gate *g,
					       const struct bs_gate_criterion *c)
{
	size_t gl = strlen(g->name);

	for (size_t i = 0; i < p->nwaivers; i++) {
		const char *w = p->waivers[i].criterion;
		if (strncmp(w, g->name, gl) == 0 && w[gl] == '.' && strcmp(w + gl + 1, c->id) == 0)
			return &p->waivers[i];
	}
	return NULL;
}

/* Step 3. */
static void judge(const struct bs_gate_policy *p, const struct bs_gate_env *env, struct bs_gate_outcome *o)
{
	const struct bs_gate_waiver *w = waiver_for(p, o->gate, o->crit);
	char until[32];

	o->state = o->raw;
	if (o->crit->warn && o->raw == BS_STATE_FAIL)
		o->state = BS_STATE_WARN;
	if (!w)
		return;
	o->waiver = w;
	bs_time_iso(w->expires_at, until);
	if (env->now >= w->expires_at) {
		bs_gate_detail(o, "waiver by %s expired %s: it no longer waives (%s)", w->approver, until, w->reason);
	} else if (o->state == BS_STATE_OK || o->state == BS_STATE_SKIPPED) {
		bs_gate_detail(o, "waiver by %s until %s not needed: the criterion passes", w->approver, until);
	} else {
		bs_gate_detail(o, "WAIVED (was %s) by %s until %s: %s", bs_state_label(o->state), w->approver, until,
			       w->reason);
		o->state = BS_STATE_WAIVED;
	}
}

int bs_gate_check(const struct bs_gate_policy *p, const char *only, const struct bs_gate_env *env, int fail_on_warn,
		  struct bs_gate_result *res, struct bs_report *report, struct bs_err *err)
{
	struct bs_gate_eval ev;
	size_t total = 0, nfail = 0, nunknown = 0, nwarn = 0;
	int rc = -1;

	memset(&ev, 0, sizeof(ev));
	ev.policy = p;
	ev.env = env;
	bs_gate_approvals_init(&ev.approvals);
	for (size_t i = 0; i < p->ngates; i++)
		total += crit_in(only, &p->gates[i]) ? p->gates[i].ncriteria : 0;
	if (total && !(res->o = calloc(total, sizeof(*res->o)))) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (run_probes(&ev, only, err) < 0)
		goto out;
	for (size_t i = 0; i < p->ngates; i++) {
		const struct bs_gate *g = &p->gates[i];
		for (size_t j = 0; crit_in(only, g) && j < g->ncriteria; j++) {
			const struct bs_gate_criterion *c = &g->criteria[j];
			struct bs_gate_outcome *o = &res->o[res->n++];
			double t0 = now_s();

			o->gate = g;
			o->crit = c;
			bs_gate_kinds[c->kind]->eval(&ev, g, c, o);
			o->seconds = now_s() - t0;
			judge(p, env, o);
			nfail += o->state == BS_STATE_FAIL;
			nunknown += o->state == BS_STATE_UNKNOWN;
			nwarn += o->state == BS_STATE_WARN;
			if (report) {
				struct bs_finding f = {
					.group = g->name,
					.check = c->id,
					.category = bs_gate_kind_name(c->kind),
					.state = o->state,
					.expected = o->expected[0] ? o->expected : NULL,
					.observed = o->observed[0] ? o->observed : NULL,
					.detail = o->detail[0] ? o->detail : NULL,
					.seconds = o->seconds,
					.file = c->file,
					.line = c->line,
					.column = c->column,
				};
				errno = 0;
				if (!bs_report_add(report, &f) && errno == ENOMEM) {
					bs_err_set(err, BS_ERR_NOMEM, "out of memory");
					goto out;
				}
			}
		}
	}
	res->exit_code = nfail ? 1 : nunknown ? 3 : (nwarn && fail_on_warn) ? 1 : 0;
	res->go = res->exit_code == 0;
	res->overall = nfail ? BS_STATE_FAIL : nunknown ? BS_STATE_UNKNOWN : nwarn ? BS_STATE_WARN : BS_STATE_OK;
	rc = 0;
out:
	free(ev.probes);
	free(ev.probe_res);
	bs_gate_approvals_release(&ev.approvals);
	if (ev.repo)
		bs_repo_close(ev.repo);
	return rc;
}
