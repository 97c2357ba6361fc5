/*
 * crit_probe.c - 'probe': named probes of backstop.yaml pass.
 *
 *   - kind: probe
 *     probes: [api-health, db]
 *
 * The probes of every probe criterion run once, in one round, before the
 * criteria are evaluated (check.c); a probe that does not answer within
 * the round is UNKNOWN, one that fails FAIL, one that warns WARN.
 */
#include "gate/gate_int.h"

#include <string.h>

static int probe_check(const struct bs_gate_criterion *c, const struct bs_gate_policy *p, struct bs_err *err)
{
	(void)p;
	if (c->nprobes == 0) {
		bs_err_set(err, BS_ERR_POLICY, "a probe criterion needs 'probes:', the names of probes in backstop.yaml");
		bs_err_hint(err, "probes: [api-health]");
		return -1;
	}
	return 0;
}

static int rank(enum bs_state s)
{
	switch (s) {
	case BS_STATE_FAIL: return 3;
	case BS_STATE_UNKNOWN: return 2;
	case BS_STATE_WARN: return 1;
	default: return 0;
	}
}

static void probe_eval(struct bs_gate_eval *ev, const struct bs_gate *g, const struct bs_gate_criterion *c,
		       struct bs_gate_outcome *o)
{
	enum bs_state worst = BS_STATE_OK;
	char expected[256], obs[1024] = "";

	(void)g;
	snprintf(expected, sizeof(expected), "probe%s pass: ", c->nprobes == 1 ? "" : "s");
	for (size_t i = 0; i < c->nprobes; i++) {
		const struct bs_probe_result *r = NULL;

		bs_gate_appendf(expected, sizeof(expected), "%s%s", i ? ", " : "", c->probes[i]);
		for (size_t k = 0; k < ev->nprobes; k++)
			if (strcmp(ev->probes[k]->name, c->probes[i]) == 0)
				r = &ev->probe_res[k];
		if (!r) { /* bs_gate_resolve refuses this before a check */
			worst = BS_STATE_UNKNOWN;
			continue;
		}
		if (rank(r->state) > rank(worst))
			worst = r->state;
		bs_gate_appendf(obs, sizeof(obs), "%s%s %s: %s", obs[0] ? "; " : "", c->probes[i], bs_state_label(r->state),
				r->reason);
	}
	bs_gate_set(o, worst, expected, "%s", obs);
}

static const struct bs_bind_field probe_fields[] = {
	BS_CRIT_COMMON_FIELDS,
	BS_BIND_F_STRLIST("probes", struct bs_gate_criterion, probes, nprobes),
	BS_BIND_F_END,
};

const struct bs_gate_kind_ops bs_crit_probe = {
	.name = "probe",
	.fields = probe_fields,
	.check = probe_check,
	.eval = probe_eval,
};
