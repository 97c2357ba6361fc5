/*
 * crit_approval.c - 'approval': N of a role's M signers signed off this
 * gate for this release, recently, and (when the policy says so) none of
 * them is the person who deploys.
 *
 *   - kind: approval
 *     role: security          a role of 'roles:' (its allowed signers)
 *     min: 2                  distinct signers needed (default 1)
 *     max_age: 7d             default 7d
 *     not_deployer: true      the deployer's own sign-off does not count
 *
 * Sign-offs are records in the repository (approval.c, record.c); each is
 * verified here, and every one that does not count is listed with why.
 */
#include "gate/gate_int.h"

#include <stdlib.h>
#include <string.h>

#include "common/duration.h"
#include "common/human.h"

static void approval_init(struct bs_gate_criterion *c)
{
	c->min = 1;
	c->max_age_ms = 7LL * 86400 * 1000;
}

static int approval_check(const struct bs_gate_criterion *c, const struct bs_gate_policy *p, struct bs_err *err)
{
	const struct bs_gate_role *r;

	if (!c->role)
		return bs_err_set(err, BS_ERR_POLICY, "an approval criterion needs 'role:', a role of 'roles:'");
	if (!(r = bs_gate_role_find(p, c->role))) {
		bs_err_set(err, BS_ERR_POLICY, "role '%s' is not defined under 'roles:'", c->role);
		bs_err_hint(err, "roles:\n  %s:\n    signers:\n      - alice ssh-ed25519 AAAA...", c->role);
		return -1;
	}
	if (r->nkeys && (size_t)c->min > r->nkeys)
		return bs_err_set(err, BS_ERR_POLICY, "'min: %d' asks for more sign-offs than role '%s' has signers (%zu)",
				  c->min, c->role, r->nkeys);
	return 0;
}

static const char *const why_word[] = {
	[BS_SIGNOFF_OK] = "counted",
	[BS_SIGNOFF_BAD_SIGNATURE] = "bad signature",
	[BS_SIGNOFF_NOT_SIGNER] = "not a signer of the role",
	[BS_SIGNOFF_OTHER_RELEASE] = "another release",
	[BS_SIGNOFF_EXPIRED] = "expired",
	[BS_SIGNOFF_FUTURE] = "dated in the future",
	[BS_SIGNOFF_DEPLOYER] = "by the deployer",
	[BS_SIGNOFF_DUPLICATE] = "same signer again",
};

static void approval_eval(struct bs_gate_eval *ev, const struct bs_gate *g, const struct bs_gate_criterion *c,
			  struct bs_gate_outcome *o)
{
	const struct bs_gate_role *role = bs_gate_role_find(ev->policy, c->role);
	const struct bs_gate_env *env = ev->env;
	char expected[256], lim[BS_DURATION_FMT_MAX], who[BS_GATE_NAME_MAX * 4], why[256];
	char signers[512] = "";
	const struct bs_gate_signer **counted = NULL;
	size_t ncounted = 0, considered = 0;

	bs_duration_format(c->max_age_ms / 1000, lim, sizeof(lim));
	snprintf(expected, sizeof(expected), "%d of role '%s' (%zu signer%s) within %s%s", c->min, c->role,
		 role ? role->nkeys : 0, role && role->nkeys == 1 ? "" : "s", lim,
		 c->not_deployer ? ", not the deployer" : "");
	if (role && role->nkeys == 0) {
		bs_gate_set(o, BS_STATE_FAIL, expected, "role '%s' lists no signers: no sign-off can count", c->role);
		bs_gate_detail(o, "list the role's keys under 'signers:' or in its 'signers_file:' (allowed_signers format)");
		return;
	}
	if (c->not_deployer && (!env->deployer || !*env->deployer)) {
		bs_gate_set(o, BS_STATE_UNKNOWN, expected, "not_deployer is set but who deploys is not known");
		bs_gate_detail(o, "give --deployer NAME (or run where GITHUB_ACTOR, GITLAB_USER_LOGIN or $USER says)");
		return;
	}
	if (!env->rel.release) {
		bs_gate_set(o, BS_STATE_UNKNOWN, expected, "no release given: sign-offs are bound to a release");
		bs_gate_detail(o, "give the release the gate decides on: --release v1.4.2");
		return;
	}
	if (!env->have_repository) {
		bs_gate_set(o, BS_STATE_UNKNOWN, expected, "no repository configured to read sign-offs from");
		return;
	}
	if (!ev->approvals_tried) {
		struct bs_err e;
		int own = 0;
		struct bs_repo *repo;

		ev->approvals_tried = 1;
		bs_err_init(&e);
		repo = bs_gate_eval_repo(ev, NULL, &own, &e);
		if (!repo) {
			ev->approvals_rc = -1;
			ev->approvals_err = e;
		} else {
			ev->approvals_rc = bs_gate_approvals_load(repo, NULL, &ev->approvals, &ev->approvals_err);
		}
	}
	if (ev->approvals_rc < 0) {
		bs_gate_set(o, BS_STATE_UNKNOWN, expected, "cannot read the sign-offs: %s", ev->approvals_err.msg);
		return;
	}
	if (!role) { /* the policy's validate refuses this */
		bs_gate_set(o, BS_STATE_UNKNOWN, expected, "role '%s' is not defined", c->role);
		return;
	}
	if (!(counted = calloc(ev->approvals.n + 1, sizeof(*counted)))) {
		bs_gate_set(o, BS_STATE_UNKNOWN, expected, "out of memory");
		return;
	}
	if (ev->approvals.damaged)
		bs_gate_detail(o, "%zu sign-off record%s could not be read and %s not counted (logged)", ev->approvals.damaged,
			       ev->approvals.damaged == 1 ? "" : "s", ev->approvals.damaged == 1 ? "was" : "were");
	for (size_t i = ev->approvals.n; i-- > 0;) { /* newest first */
		const struct bs_gate_approval *a = &ev->approvals.v[i];
		const struct bs_gate_signer *sg;
		enum bs_gate_signoff v;

		if (strcmp(a->gate, g->name) != 0)
			continue;
		considered++;
		v = bs_gate_approval_verify(a, role, &env->rel, env->now, c->max_age_ms, &sg, who, sizeof(who), why,
					    sizeof(why));
		if (v == BS_SIGNOFF_OK && c->not_deployer && bs_gate_signer_is(sg, env->deployer)) {
			v = BS_SIGNOFF_DEPLOYER;
			snprintf(why, sizeof(why), "%s deploys this release (as %s) and may not approve it", who, env->deployer);
		}
		if (v == BS_SIGNOFF_OK) {
			for (size_t k = 0; k < ncounted; k++)
				if (bs_gate_signer_same(counted[k], sg)) {
					v = BS_SIGNOFF_DUPLICATE;
					snprintf(why, sizeof(why), "%s is counted already (one person, one sign-off)", who);
				}
		}
		if (v == BS_SIGNOFF_OK) {
			counted[ncounted++] = sg;
			bs_gate_appendf(signers, sizeof(signers), "%s%s", ncounted > 1 ? ", " : "", who);
			continue;
		}
		if (v == BS_SIGNOFF_OTHER_RELEASE && strcmp(a->release, env->rel.release) != 0)
			continue; /* sign-offs of other releases are the normal case; not listed */
		bs_gate_detail(o, "not counted (%s): %s [%s]", why_word[v], why, a->id);
	}
	if (ncounted >= (size_t)c->min)
		bs_gate_set(o, BS_STATE_OK, expected, "%zu of %d sign-off%s for %s: %s", ncounted, c->min, c->min == 1 ? "" : "s",
			    env->rel.release, signers);
	else
		bs_gate_set(o, BS_STATE_FAIL, expected, "%zu of %d sign-off%s for %s%s%s", ncounted, c->min,
			    c->min == 1 ? "" : "s", env->rel.release, ncounted ? ": " : "", signers);
	if (!considered)
		bs_gate_detail(o, "no sign-off of gate '%s' recorded: backstop gate approve %s --release %s --key KEY --reason ...",
			       g->name, g->name, env->rel.release);
	free(counted);
}

#define C struct bs_gate_criterion
static const struct bs_bind_field approval_fields[] = {
	BS_CRIT_COMMON_FIELDS,
	BS_BIND_F_STRING("role", C, role, BS_BIND_REQUIRED),
	BS_BIND_F_INT("min", C, min, 1, BS_GATE_SIGNERS_MAX),
	{ .key = "max_age", .type = BS_BIND_DURATION, .offset = offsetof(C, max_age_ms), .scale = 1000, .min = 1,
	  .max = 366LL * 86400 },
	BS_BIND_F_BOOL("not_deployer", C, not_deployer),
	BS_BIND_F_END,
};
#undef C

const struct bs_gate_kind_ops bs_crit_approval = {
	.name = "approval",
	.fields = approval_fields,
	.init = approval_init,
	.check = approval_check,
	.eval = approval_eval,
};
