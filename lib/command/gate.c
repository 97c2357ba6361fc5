/*
 * gate.c (command layer) - backstop gate check|approve|status|validate
 * (command/gate.h).  The evaluation is lib/gate's; here: finding the
 * policy, opening the repository, the outputs, the decision record.
 */
#include "command/gate.h"

#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "catalog/catalog.h"
#include "command/event.h"
#include "command/metrics.h"
#include "command/setup.h"
#include "common/actor.h"
#include "common/durable.h"
#include "common/escape.h"
#include "common/log.h"
#include "common/progress.h"
#include "repo/repo.h"
#include "report/report.h"

/* ---- the policy ------------------------------------------------------------ */

int bs_cmd_gate_policy(const struct bs_config *cfg, const char *name, const char *path, struct bs_gate_policy *p,
		       struct bs_err *err)
{
	char buf[PATH_MAX], dir[PATH_MAX];
	struct stat st;

	if (name && !bs_gate_name_ok(name)) {
		bs_err_set(err, BS_ERR_USAGE, "invalid policy name '%s'", name);
		bs_err_hint(err, "a policy name is lowercase letters, digits, '-' and '_' (go-live); a file is --policy FILE");
		return -1;
	}
	if (!path) {
		if (!name)
			return bs_err_set(err, BS_ERR_USAGE, "which policy? give its name (go-live) or --policy FILE");
		if (cfg->gate.policies) {
			snprintf(dir, sizeof(dir), "%s", cfg->gate.policies);
		} else if (cfg->config_path) {
			char tmp[PATH_MAX];
			snprintf(tmp, sizeof(tmp), "%s", cfg->config_path);
			snprintf(dir, sizeof(dir), "%s/policies", dirname(tmp));
		} else {
			snprintf(dir, sizeof(dir), "policies");
		}
		snprintf(buf, sizeof(buf), "%s/%s.yaml", dir, name);
		if (stat(buf, &st) < 0) {
			bs_err_sys(err, BS_ERR_CONFIG, errno, "no gate policy '%s': unable to read '%s'", name, buf);
			bs_err_hint(err, "policies are read from 'gate.policies' in backstop.yaml (default: policies/ beside it); or give --policy FILE");
			return -1;
		}
		path = buf;
	}
	if (bs_gate_policy_load(p, path, err) < 0)
		return -1;
	if (name && strcmp(p->name, name) != 0) {
		bs_err_set(err, BS_ERR_USAGE, "the policy in '%s' is named '%s', not '%s'", path, p->name, name);
		bs_gate_policy_release(p);
		return -1;
	}
	return 0;
}

static int open_repo(void *ud, const char *repository, struct bs_repo **out, struct bs_err *err)
{
	return bs_cmd_repo_open_named(ud, repository, out, err);
}

static int have_repository(const struct bs_config *cfg)
{
	return cfg->repository && *cfg->repository;
}

/* ---- check ----------------------------------------------------------------- */

struct out_ud {
	const struct bs_report *r;
	unsigned flags;
	json_t *doc;
};

static int fill_junit(FILE *f, void *ud, struct bs_err *err)
{
	const struct out_ud *o = ud;

	if (bs_report_write_junit(o->r, f, o->flags) < 0)
		return bs_err_set(err, BS_ERR_IO, "unable to write the JUnit report");
	return 0;
}

static int fill_markdown(FILE *f, void *ud, struct bs_err *err)
{
	const struct out_ud *o = ud;

	if (bs_report_write_markdown(o->r, f, o->flags) < 0)
		return bs_err_set(err, BS_ERR_IO, "unable to write the Markdown summary");
	return 0;
}

static int fill_json(FILE *f, void *ud, struct bs_err *err)
{
	const struct out_ud *o = ud;

	if (bs_json_doc_write(json_incref(o->doc), f) < 0)
		return bs_err_set(err, BS_ERR_IO, "unable to write the JSON report");
	return 0;
}

/* The --json document: the report, and the decision. */
static json_t *check_json(const struct bs_report *r, const struct bs_gate_result *res, const char *record,
			  unsigned flags)
{
	json_t *o = bs_report_json(r, flags);

	if (!o)
		return NULL;
	if (json_object_set_new(o, "decision", json_string(res->go ? "GO" : "NO-GO")) < 0 ||
	    json_object_set_new(o, "exit", json_integer(res->exit_code)) < 0 ||
	    json_object_set_new(o, "record", record ? json_string(record) : json_null()) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static void decision_line(FILE *f, const struct bs_report *r, const struct bs_gate_result *res, int unrecorded)
{
	fprintf(f, "decision: %s", res->go ? "GO" : "NO-GO");
	if (!res->go)
		fprintf(f, " (%zu FAIL, %zu UNKNOWN, %zu WARN)%s", r->counts[BS_STATE_FAIL], r->counts[BS_STATE_UNKNOWN],
			r->counts[BS_STATE_WARN],
			unrecorded ? ": the decision could not be recorded"
			: !r->counts[BS_STATE_FAIL] && r->counts[BS_STATE_UNKNOWN] ? ": could not evaluate every criterion"
										    : "");
	if (r->counts[BS_STATE_WAIVED])
		fprintf(f, ", %zu waived", r->counts[BS_STATE_WAIVED]);
	fputc('\n', f);
}

static int record_decision(const struct bs_gate_cmd *c, const struct bs_gate_policy *p, const struct bs_gate_env *env,
			   const char *actor, const struct bs_gate_result *res, char id[64], struct bs_err *err)
{
	struct bs_repo *repo = NULL;
	int rc;

	if (bs_cmd_repo_open(c->cfg, &repo, err) < 0)
		return -1;
	rc = bs_gate_decision_put(repo, p, env, actor, c->fail_on_warn, res, time(NULL), id, err);
	bs_repo_close(repo);
	return rc;
}

/* gate-go / gate-no-go: hooks.gate_no_go and the webhooks. */
static void decision_event(const struct bs_gate_cmd *c, const struct bs_gate_policy *p,
			   const struct bs_gate_result *res, const char *actor, const char *record)
{
	struct bs_event ev;
	size_t failed = 0;

	bs_event_init(&ev, res->go ? "gate-go" : "gate-no-go", res->go ? BS_EVENT_SUCCESS : BS_EVENT_FAILURE);
	bs_event_add(&ev, "POLICY", "%s", p->name);
	if (c->only)
		bs_event_add(&ev, "GATE", "%s", c->only);
	if (c->rel.release)
		bs_event_add(&ev, "RELEASE", "%s", c->rel.release);
	if (c->rel.commit)
		bs_event_add(&ev, "COMMIT", "%s", c->rel.commit);
	if (c->rel.digest)
		bs_event_add(&ev, "DIGEST", "%s", c->rel.digest);
	bs_event_add(&ev, "RESULT", "%s", res->go ? "go" : "no-go");
	bs_event_add(&ev, "ACTOR", "%s", actor);
	bs_event_add(&ev, "DECISION_ID", "%s", record ? record : "");
	for (size_t i = 0; i < res->n; i++) {
		const struct bs_gate_outcome *o = &res->o[i];
		if (o->state != BS_STATE_FAIL && o->state != BS_STATE_UNKNOWN)
			continue;
		if (failed++ == 0)
			bs_event_add(&ev, "ERROR", "%s %s.%s: %s", bs_state_label(o->state), o->gate->name, o->crit->id,
				     o->observed);
	}
	bs_event_add(&ev, "FAILED_CRITERIA", "%zu", failed);
	bs_cmd_event_after(c->cfg, res->go ? NULL : c->cfg->hooks.gate_no_go, &ev, 0, NULL);
	bs_event_release(&ev);
}

int bs_cmd_gate_check(const struct bs_gate_cmd *c, struct bs_err *err)
{
	struct bs_gate_policy p;
	struct bs_gate_result res;
	struct bs_report r;
	struct bs_gate_env env;
	char actor[256], title[256], id[64] = "", subject[512];
	unsigned flags = c->fail_on_warn ? BS_REPORT_WARN_FAILS : 0;
	struct out_ud ud = { .r = &r, .flags = flags };
	const char *src;
	int rc = -1, recorded = 0, unrecorded = 0;
	double t0 = bs_now();

	bs_gate_policy_init(&p);
	bs_gate_result_init(&res);
	bs_report_init(&r);
	if (bs_cmd_gate_policy(c->cfg, c->name, c->policy_path, &p, err) < 0)
		goto out;
	if (bs_gate_resolve(&p, &c->cfg->probes, err) < 0)
		goto out;
	if (c->only && !bs_gate_find(&p, c->only)) {
		bs_err_set(err, BS_ERR_USAGE, "policy '%s' has no gate '%s'", p.name, c->only);
		goto out;
	}
	bs_actor(c->actor, actor, sizeof(actor), &src);
	memset(&env, 0, sizeof(env));
	env.probes = &c->cfg->probes;
	env.services = &c->cfg->services;
	env.open_repo = open_repo;
	env.open_repo_ud = c->cfg;
	env.have_repository = have_repository(c->cfg);
	env.rel = c->rel;
	env.deployer = c->deployer ? c->deployer : actor;
	env.now = time(NULL);
	env.cancel = c->cancel;
	r.start = env.now;
	if (bs_gate_check(&p, c->only, &env, c->fail_on_warn, &res, &r, err) < 0)
		goto out;
	r.end = time(NULL);

	/* the decision goes into the catalog before anything is shown */
	if (!c->no_record && env.have_repository) {
		if (record_decision(c, &p, &env, actor, &res, id, err) < 0) {
			/* unrecorded is not GO: "who let this through" must have an answer */
			bs_log(BS_LOG_ERROR, "the decision (%s) could not be recorded: %s", res.go ? "GO" : "NO-GO", err->msg);
			res.exit_code = 3;
			res.go = 0;
			unrecorded = 1;
		} else {
			recorded = 1;
		}
	} else if (!c->no_record) {
		bs_log(BS_LOG_WARN, "the decision is not recorded: no repository is configured (--no-record says so on purpose)");
	}

	snprintf(title, sizeof(title), "gate check %s%s%s: %s", p.name, c->only ? " --gate " : "", c->only ? c->only : "",
		 res.go ? "GO" : "NO-GO");
	snprintf(subject, sizeof(subject), "%s%s%s%s%s%s", c->rel.release ? "release " : "policy ",
		 c->rel.release ? c->rel.release : p.path, c->rel.commit ? " commit " : "", c->rel.commit ? c->rel.commit : "",
		 c->rel.digest ? " digest " : "", c->rel.digest ? c->rel.digest : "");
	if (bs_report_set_title(&r, title, subject) < 0 || bs_report_prop(&r, "decision", res.go ? "GO" : "NO-GO") < 0 ||
	    bs_report_prop(&r, "policy", p.path) < 0 || bs_report_prop(&r, "policy_sha256", p.sha256) < 0 ||
	    (c->rel.release && bs_report_prop(&r, "release", c->rel.release) < 0) ||
	    (c->rel.commit && bs_report_prop(&r, "commit", c->rel.commit) < 0) ||
	    (c->rel.digest && bs_report_prop(&r, "digest", c->rel.digest) < 0) || bs_report_prop(&r, "actor", actor) < 0 ||
	    bs_report_prop(&r, "record", recorded ? id : "not recorded") < 0) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	{ /* who answers for each gate, as the runbook names them */
		char owners[1024];
		bs_gate_owners(&p, c->only, owners, sizeof(owners));
		if (owners[0] && bs_report_prop(&r, "owners", owners) < 0) {
			bs_err_set(err, BS_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	if (c->format == BS_GATE_FMT_JSON || c->format == BS_GATE_FMT_MARKDOWN_JSON || c->json_file) {
		if (!(ud.doc = check_json(&r, &res, recorded ? id : NULL, flags))) {
			bs_err_set(err, BS_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	if (c->annotations)
		bs_report_write_github(&r, c->annotations, flags);
	switch (c->format) {
	case BS_GATE_FMT_JSON:
		bs_json_doc_write(json_incref(ud.doc), c->out);
		break;
	case BS_GATE_FMT_MARKDOWN:
		bs_report_write_markdown(&r, c->out, flags);
		break;
	case BS_GATE_FMT_MARKDOWN_JSON:
		bs_report_write_markdown(&r, c->out, flags);
		fputs("\n<details><summary>JSON report</summary>\n\n```json\n", c->out);
		bs_json_doc_write(json_incref(ud.doc), c->out);
		fputs("```\n\n</details>\n", c->out);
		break;
	default:
		bs_report_write_text(&r, c->out, flags);
		decision_line(c->out, &r, &res, unrecorded);
		break;
	}
	/* the files after the decision is shown: one that cannot be written
	 * is an error (exit 3), the decision stands in the record */
	if ((c->junit_file && bs_durable_write(c->junit_file, 0644, fill_junit, &ud, err) < 0) ||
	    (c->markdown_file && bs_durable_write(c->markdown_file, 0644, fill_markdown, &ud, err) < 0) ||
	    (c->json_file && bs_durable_write(c->json_file, 0644, fill_json, &ud, err) < 0)) {
		bs_log(BS_LOG_ERROR, "%s", err->msg);
		res.exit_code = 3;
	}
	/* one line per problem on stderr, for logs that keep only stderr */
	for (size_t i = 0; i < res.n; i++) {
		const struct bs_gate_outcome *o = &res.o[i];
		if (o->state == BS_STATE_FAIL || o->state == BS_STATE_UNKNOWN)
			bs_log(BS_LOG_WARN, "%s %s.%s: %s", bs_state_label(o->state), o->gate->name, o->crit->id, o->observed);
	}
	decision_event(c, &p, &res, actor, recorded ? id : NULL);
	rc = res.exit_code;
out:
	bs_cmd_metrics_gate(c->cfg, &(struct bs_gate_metrics){ .policy = p.name ? p.name : c->name, .gate = c->only,
			    .release = c->rel.release, .rc = rc, .go = res.go, .counts = r.counts,
			    .seconds = bs_now() - t0 }, NULL);
	json_decref(ud.doc);
	bs_report_release(&r);
	bs_gate_result_release(&res);
	bs_gate_policy_release(&p);
	return rc;
}

int bs_cmd_gate_validate(const struct bs_gate_cmd *c, struct bs_err *err)
{
	struct bs_gate_policy p;
	size_t ncrit = 0, nkeys = 0;

	bs_gate_policy_init(&p);
	if (bs_cmd_gate_policy(c->cfg, c->name, c->policy_path, &p, err) < 0 ||
	    bs_gate_resolve(&p, &c->cfg->probes, err) < 0) {
		bs_gate_policy_release(&p);
		return -1;
	}
	for (size_t i = 0; i < p.ngates; i++)
		ncrit += p.gates[i].ncriteria;
	for (size_t i = 0; i < p.nroles; i++)
		nkeys += p.roles[i].nkeys;
	fprintf(c->out, "%s: gate policy '%s' is valid: %zu gate%s, %zu criteria, %zu role%s (%zu signer key%s), %zu waiver%s\n",
		p.path, p.name, p.ngates, p.ngates == 1 ? "" : "s", ncrit, p.nroles, p.nroles == 1 ? "" : "s", nkeys,
		nkeys == 1 ? "" : "s", p.nwaivers, p.nwaivers == 1 ? "" : "s");
	for (size_t i = 0; i < p.nroles; i++)
		if (p.roles[i].nkeys == 0)
			bs_log(BS_LOG_WARN, "role '%s' lists no signers: no sign-off of it can count until keys are listed",
			       p.roles[i].name);
	bs_gate_policy_release(&p);
	return 0;
}

/* ---- approve --------------------------------------------------------------- */

/* With a policy: the gate must be in it and the key must be a signer of
 * the role of one of its approval criteria. */
static int approve_allowed(const struct bs_gate_approve_cmd *a, const struct bs_gate_approval *ap, struct bs_err *err)
{
	struct bs_gate_policy p;
	const struct bs_gate *g;
	int rc = -1, found_role = 0;

	bs_gate_policy_init(&p);
	if (bs_cmd_gate_policy(a->cfg, NULL, a->policy_path, &p, err) < 0)
		return -1;
	if (!(g = bs_gate_find(&p, a->gate))) {
		bs_err_set(err, BS_ERR_USAGE, "policy '%s' has no gate '%s'", p.name, a->gate);
		goto out;
	}
	for (size_t i = 0; i < g->ncriteria; i++) {
		const struct bs_gate_role *role;
		if (g->criteria[i].kind != BS_CRIT_APPROVAL || !(role = bs_gate_role_find(&p, g->criteria[i].role)))
			continue;
		found_role = 1;
		if (bs_gate_role_signer(role, &ap->signer)) {
			rc = 0;
			goto out;
		}
	}
	if (!found_role)
		bs_err_set(err, BS_ERR_USAGE, "gate '%s' of policy '%s' asks for no sign-off (no approval criterion)", a->gate,
			   p.name);
	else
		bs_err_set(err, BS_ERR_REFUSED, "key %s is not a signer for gate '%s' in policy '%s'",
			   ap->signer.fingerprint, a->gate, p.name);
	bs_err_hint(err, "the policy's 'roles:' list who may sign; nothing was recorded");
out:
	bs_gate_policy_release(&p);
	return rc;
}

int bs_cmd_gate_approve(const struct bs_gate_approve_cmd *a, struct bs_err *err)
{
	struct bs_gate_approval ap;
	struct bs_repo *repo = NULL;
	char actor[256];
	int rc = -1;

	bs_gate_approval_init(&ap);
	if (!bs_gate_name_ok(a->gate)) {
		bs_err_set(err, BS_ERR_USAGE, "invalid gate name '%s': lowercase letters, digits, '-', '_'", a->gate);
		return -1;
	}
	bs_actor(a->actor, actor, sizeof(actor), NULL);
	ap.time = time(NULL);
	if (!(ap.gate = strdup(a->gate)) || !(ap.release = strdup(a->rel.release)) ||
	    (a->rel.commit && !(ap.commit = strdup(a->rel.commit))) ||
	    (a->rel.digest && !(ap.digest = strdup(a->rel.digest))) || !(ap.reason = strdup(a->reason)) ||
	    !(ap.actor = strdup(actor))) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* the repository first: a sign-off that cannot be stored is not made */
	if (bs_cmd_repo_open(a->cfg, &repo, err) < 0)
		goto out;
	if (bs_gate_approval_sign(&ap, a->key, err) < 0)
		goto out;
	if (a->policy_path && approve_allowed(a, &ap, err) < 0)
		goto out;
	if (bs_gate_approval_put(repo, &ap, err) < 0)
		goto out;
	fprintf(a->out, "signed off gate '%s' for release %s with key %s\nrecorded %s in %s (by %s)\n", ap.gate,
		ap.release, ap.signer.fingerprint, ap.key, bs_repo_location(repo), actor);
	rc = 0;
out:
	if (repo)
		bs_repo_close(repo);
	bs_gate_approval_release(&ap);
	return rc;
}

/* ---- status ----------------------------------------------------------------- */

static const char *signoff_word(enum bs_gate_signoff v)
{
	static const char *const w[] = { "valid", "bad signature", "not a signer", "other release", "expired",
					 "future", "deployer", "duplicate" };
	return (unsigned)v < sizeof(w) / sizeof(w[0]) ? w[v] : "?";
}

int bs_cmd_gate_status(const struct bs_gate_cmd *c, struct bs_err *err)
{
	struct bs_gate_policy p;
	struct bs_gate_approvals al;
	struct bs_repo *repo = NULL;
	char *last = NULL;
	json_t *doc = NULL, *jsign = NULL, *jwaive = NULL;
	time_t now = time(NULL);
	int rc = -1, json = c->format == BS_GATE_FMT_JSON;
	FILE *f = c->out;

	bs_gate_policy_init(&p);
	bs_gate_approvals_init(&al);
	if (bs_cmd_gate_policy(c->cfg, c->name, c->policy_path, &p, err) < 0)
		goto out;
	if (have_repository(c->cfg)) {
		if (bs_cmd_repo_open(c->cfg, &repo, err) < 0 || bs_gate_approvals_load(repo, NULL, &al, err) < 0 ||
		    bs_gate_decision_last(repo, p.name, &last, err) < 0)
			goto out;
	}
	if (json && (!(doc = json_object()) || !(jsign = json_array()) || !(jwaive = json_array()))) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (!json) {
		fprintf(f, "gate policy %s (%s)\n", p.name, p.path);
		if (!repo)
			fprintf(f, "no repository configured: no sign-offs or decisions to show\n");
		fprintf(f, "\nsign-offs%s%s:\n", c->rel.release ? " for release " : "", c->rel.release ? c->rel.release : "");
	}
	for (size_t gi = 0; gi < p.ngates; gi++) {
		const struct bs_gate *g = &p.gates[gi];
		for (size_t ci = 0; ci < g->ncriteria; ci++) {
			const struct bs_gate_criterion *cr = &g->criteria[ci];
			const struct bs_gate_role *role;
			size_t shown = 0;

			if (cr->kind != BS_CRIT_APPROVAL || !(role = bs_gate_role_find(&p, cr->role)))
				continue;
			if (!json)
				fprintf(f, "  %s.%s: %d of role '%s'\n", g->name, cr->id, cr->min, cr->role);
			for (size_t i = al.n; i-- > 0;) {
				const struct bs_gate_approval *a = &al.v[i];
				struct bs_gate_release rel = c->rel;
				char who[256], why[256], t[32];
				enum bs_gate_signoff v;

				if (strcmp(a->gate, g->name) != 0 || (c->rel.release && strcmp(a->release, c->rel.release) != 0))
					continue;
				if (!rel.release)
					rel.release = a->release, rel.commit = rel.digest = NULL;
				const struct bs_gate_signer *sg;
				v = bs_gate_approval_verify(a, role, &rel, now, cr->max_age_ms, &sg, who, sizeof(who), why,
							    sizeof(why));
				bs_time_iso(a->time, t);
				shown++;
				if (json) {
					json_array_append_new(jsign, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "gate",
									       g->name, "criterion", cr->id, "id", a->id,
									       "release", a->release, "time", t, "signer",
									       who[0] ? who : "", "state", signoff_word(v),
									       "why", why));
					continue;
				}
				fprintf(f, "    %-13s %-16s %-20s %s  ", signoff_word(v), who[0] ? who : "-", a->release, t);
				fputs(bs_esc(a->reason), f);
				if (v != BS_SIGNOFF_OK)
					fprintf(f, " (%s)", why);
				fputc('\n', f);
			}
			if (!shown && !json)
				fprintf(f, "    none\n");
		}
	}
	if (!json)
		fprintf(f, "\nwaivers:\n%s", p.nwaivers ? "" : "  none\n");
	for (size_t i = 0; i < p.nwaivers; i++) {
		const struct bs_gate_waiver *w = &p.waivers[i];
		int active = now < w->expires_at;
		char until[32];
		long days = (long)((w->expires_at - now) / 86400);

		bs_time_iso(w->expires_at, until);
		if (json) {
			json_array_append_new(jwaive, json_pack("{s:s, s:s, s:s, s:s, s:s}", "criterion", w->criterion, "approver",
								w->approver, "expires", until, "state", active ? "active" : "expired",
								"reason", w->reason));
			continue;
		}
		fprintf(f, "  %-24s %-8s %s %s, by %s: ", w->criterion, active ? "active" : "EXPIRED", active ? "until" : "since",
			until, w->approver);
		fputs(bs_esc(w->reason), f);
		if (active)
			fprintf(f, " (%ld day%s left)", days, days == 1 ? "" : "s");
		fputc('\n', f);
	}
	if (json) {
		json_t *ld = last ? json_loads(last, 0, NULL) : json_null();
		json_object_set_new(doc, "policy", json_string(p.name));
		json_object_set_new(doc, "policy_path", json_string(p.path));
		json_object_set_new(doc, "signoffs", jsign);
		json_object_set_new(doc, "waivers", jwaive);
		json_object_set_new(doc, "last_decision", ld ? ld : json_null());
		jsign = jwaive = NULL;
		bs_json_doc_write(doc, f);
		doc = NULL;
	} else {
		fprintf(f, "\nlast decision: ");
		if (!last) {
			fprintf(f, "none recorded\n");
		} else {
			json_t *d = json_loads(last, 0, NULL);
			fprintf(f, "%s at %s, release %s, by %s (%s)\n",
				json_string_value(json_object_get(d, "decision")) ?: "?",
				json_string_value(json_object_get(d, "time")) ?: "?",
				json_string_value(json_object_get(d, "release")) ?: "-",
				json_string_value(json_object_get(d, "actor")) ?: "?",
				json_string_value(json_object_get(d, "id")) ?: "?");
			json_decref(d);
		}
	}
	rc = 0;
out:
	json_decref(doc);
	json_decref(jsign);
	json_decref(jwaive);
	free(last);
	bs_gate_approvals_release(&al);
	if (repo)
		bs_repo_close(repo);
	bs_gate_policy_release(&p);
	return rc;
}
