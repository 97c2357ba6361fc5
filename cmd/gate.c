/*
 * backstop-gate - go/no-go gates for pipelines: check a policy's gates
 * against evidence, sign a gate off, show sign-offs and waivers.
 * Thin: options -> lib/command/gate.c -> exit code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command/gate.h"
#include "command/setup.h"
#include "common/log.h"
#include "common/opts.h"
#include "common/sigwatch.h"

#define NO_CONN "gate reads the policy, the evidence files and the repository; probes are configured in backstop.yaml"


/* ---- check ------------------------------------------------------------------- */

static struct bs_common_opts cco;
static const char *c_policy, *c_gate, *c_release, *c_commit, *c_digest, *c_actor, *c_deployer, *c_junit, *c_json_file,
	*c_md_file, *c_repo;
static int c_markdown, c_fail_on_warn, c_no_record;

static const struct bs_opt check_opts[] = {
	BS_OPTS_COMMON(&cco),
	{ BS_OPT_STR, 0, "policy", &c_policy, "FILE", "the policy file (default: NAME.yaml in gate.policies, or policies/ beside the configuration)", 0, 0 },
	{ BS_OPT_STR, 0, "gate", &c_gate, "GATE", "check only this gate of the policy", 0, 0 },
	{ BS_OPT_STR, 'r', "repo", &c_repo, "REPO", "the repository of snapshots, drills, sign-offs and decisions (default: 'repository:', $BACKSTOP_REPO)", 0, 0 },
	{ BS_OPT_GROUP, 0, NULL, NULL, NULL, "the release decided on (sign-offs are bound to it)", 0, 0 },
	{ BS_OPT_STR, 0, "release", &c_release, "VERSION", "the release: v1.4.2", 0, 0 },
	{ BS_OPT_STR, 0, "commit", &c_commit, "SHA", "its commit: sign-offs must name the same", 0, 0 },
	{ BS_OPT_STR, 0, "digest", &c_digest, "DIGEST", "its image digest (sha256:...): sign-offs must name the same", 0, 0 },
	{ BS_OPT_STR, 0, "actor", &c_actor, "NAME", "who runs the check (default: GITHUB_ACTOR, GITLAB_USER_LOGIN, $USER)", 0, 0 },
	{ BS_OPT_STR, 0, "deployer", &c_deployer, "NAME", "who deploys, for not_deployer (default: the actor)", 0, 0 },
	{ BS_OPT_GROUP, 0, NULL, NULL, NULL, "output", 0, 0 },
	{ BS_OPT_FLAG, 0, "json", &cco.json, NULL, "JSON on stdout instead of the text report", 0, 0 },
	{ BS_OPT_FLAG, 0, "markdown", &c_markdown, NULL, "Markdown on stdout instead (for $GITHUB_STEP_SUMMARY); with --json, the JSON in a <details> block of it", 0, 0 },
	{ BS_OPT_STR, 0, "junit", &c_junit, "FILE", "also write JUnit XML to FILE: a test case per criterion", 0, 0 },
	{ BS_OPT_STR, 0, "json-file", &c_json_file, "FILE", "also write the JSON report to FILE", 0, 0 },
	{ BS_OPT_STR, 0, "markdown-file", &c_md_file, "FILE", "also write the Markdown summary to FILE", 0, 0 },
	{ BS_OPT_FLAG, 0, "fail-on-warn", &c_fail_on_warn, NULL, "a WARN is NO-GO too (exit 1)", 0, 0 },
	{ BS_OPT_FLAG, 0, "no-record", &c_no_record, NULL, "do not record the decision in the repository", 0, 0 },
	BS_OPTS_NO_CONN(NO_CONN),
	{ BS_OPT_END, 0, NULL, NULL, NULL, NULL, 0, 0 },
};

static const struct bs_cmd_spec check_spec = {
	"gate check",
	"gate check NAME [--policy FILE] [--release VERSION] [--json|--markdown] [--junit FILE]\n"
	"gate check --policy FILE ...",
	"Decide GO or NO-GO: evaluate every criterion of every gate of the policy NAME (or of\n"
	"--gate GATE only) against its evidence - probes, backups, drills, SARIF scans, JUnit\n"
	"reports, signed sign-offs, files, commands - and apply the policy's waivers.  Each\n"
	"criterion is PASS (OK), WARN, FAIL, UNKNOWN (could not be evaluated: never a pass) or\n"
	"WAIVED, with what was expected and what was observed.  Missing evidence is FAIL or\n"
	"UNKNOWN, never a pass.  The decision is recorded in the repository (time, policy hash,\n"
	"release, actor, every criterion).  Under GitHub Actions (GITHUB_ACTIONS=true) every\n"
	"problem is also an annotation (::error::) on stderr.  See docs/gate.md.",
	check_opts,
	"examples:\n"
	"  backstop gate check go-live\n"
	"  backstop gate check go-live --policy policies/go-live.yaml\n"
	"  backstop gate check go-live --release v1.4.2 --markdown --junit gate.xml --json >> \"$GITHUB_STEP_SUMMARY\"\n",
	"exit codes (whatever the output flags): 0 GO; 1 NO-GO (a criterion FAILed, or WARNed under\n"
	"--fail-on-warn); 2 usage or policy error (file:line:column); 3 NO-GO because a criterion\n"
	"could not be evaluated (UNKNOWN) and none failed, or the decision could not be recorded.\n",
};

/* A verb's options parsed (--help and --version handled): -1 to go on,
 * else the exit code. */
static int parse_verb(const struct bs_verb *v, const struct bs_common_opts *co, int argc, char **argv,
		      struct bs_strlist *pos)
{
	struct bs_err err;

	bs_err_init(&err);
	if (bs_opts_parse(v->spec, argc, argv, pos, &err) < 0)
		return bs_cmd_error(v->spec, &err);
	return bs_opts_common(v->spec, co) ? 0 : -1;
}

/* The policy a verb works on: its NAME or --policy FILE. */
static int policy_args(const struct bs_cmd_spec *spec, const struct bs_strlist *pos, const char *policy)
{
	if (pos->n > 1)
		return bs_opts_fail(spec, "one policy at a time (got %zu names)", pos->n);
	if (pos->n == 0 && !policy)
		return bs_opts_fail(spec, "which policy? give its NAME or --policy FILE");
	return 0;
}

static int load_config(const struct bs_cmd_spec *spec, struct bs_config *cfg, const struct bs_common_opts *co,
		       const char *repo)
{
	struct bs_err err;

	bs_err_init(&err);
	if (bs_cmd_config(cfg, co->config, co->quiet, co->verbose, &err) < 0 ||
	    (repo && bs_cmd_repo_choose(cfg, repo, &err) < 0))
		return bs_cmd_error(spec, &err);
	return 0;
}

static int check_main(const struct bs_verb *v, int argc, char **argv)
{
	struct bs_config cfg;
	struct bs_strlist pos = { 0 };
	struct bs_gate_cmd c = { 0 };
	struct bs_err err;
	const char *gh = getenv("GITHUB_ACTIONS");
	int rc = 0;

	bs_log_set_prog("backstop gate check");
	bs_err_init(&err);
	bs_config_init(&cfg);
	if ((rc = parse_verb(v, &cco, argc, argv, &pos)) >= 0)
		goto out;
	if ((rc = policy_args(v->spec, &pos, c_policy)))
		goto out;
	if (c_deployer && !*c_deployer) {
		rc = bs_opts_fail(v->spec, "--deployer needs a name");
		goto out;
	}
	if ((c_commit || c_digest) && !c_release) {
		rc = bs_opts_fail(v->spec, "--commit and --digest describe a release: give --release too");
		goto out;
	}
	if ((rc = load_config(v->spec, &cfg, &cco, c_repo)))
		goto out;
	c.cfg = &cfg;
	c.name = pos.n ? pos.v[0] : NULL;
	c.policy_path = c_policy;
	c.only = c_gate;
	c.rel.release = c_release;
	c.rel.commit = c_commit;
	c.rel.digest = c_digest;
	c.actor = c_actor;
	c.deployer = c_deployer;
	c.fail_on_warn = c_fail_on_warn;
	c.no_record = c_no_record;
	c.format = cco.json && c_markdown ? BS_GATE_FMT_MARKDOWN_JSON
		   : cco.json		  ? BS_GATE_FMT_JSON
		   : c_markdown		  ? BS_GATE_FMT_MARKDOWN
					  : BS_GATE_FMT_TEXT;
	c.json_file = c_json_file;
	c.markdown_file = c_md_file;
	c.junit_file = c_junit;
	c.annotations = gh && strcmp(gh, "true") == 0 ? stderr : NULL; /* the runner reads both streams */
	c.out = stdout;
	c.cancel = bs_cancel_on_signals();
	rc = bs_cmd_gate_check(&c, &err);
	if (rc < 0) {
		rc = bs_cmd_error(v->spec, &err);
		goto out;
	}
	{
		int orc = bs_stdout_close(v->spec);
		if (orc && !rc)
			rc = orc;
	}
out:
	bs_config_release(&cfg);
	bs_strlist_release(&pos);
	return rc;
}

/* ---- validate ---------------------------------------------------------------- */

static struct bs_common_opts vco;
static const char *v_policy;
static const struct bs_opt validate_opts[] = {
	BS_OPTS_COMMON(&vco),
	{ BS_OPT_STR, 0, "policy", &v_policy, "FILE", "the policy file (default: NAME.yaml in gate.policies)", 0, 0 },
	BS_OPTS_NO_CONN(NO_CONN),
	{ BS_OPT_END, 0, NULL, NULL, NULL, NULL, 0, 0 },
};

static const struct bs_cmd_spec validate_spec = {
	"gate validate",
	"gate validate NAME|--policy FILE [--config FILE]",
	"Check a gate policy without evaluating it: keys and values, criterion kinds, gates with\n"
	"criteria, roles and their signer keys, waivers naming real criteria, and that the probes\n"
	"it names are configured.  For CI, before the policy is relied on.",
	validate_opts,
	"examples:\n"
	"  backstop gate validate go-live\n"
	"  backstop gate validate --policy policies/go-live.yaml\n",
	"exit codes: 0 the policy is valid; 2 it is not (each error names file:line:column).\n",
};

static int validate_main(const struct bs_verb *v, int argc, char **argv)
{
	struct bs_config cfg;
	struct bs_strlist pos = { 0 };
	struct bs_gate_cmd c = { 0 };
	struct bs_err err;
	int rc = 0;

	bs_log_set_prog("backstop gate validate");
	bs_err_init(&err);
	bs_config_init(&cfg);
	if ((rc = parse_verb(v, &vco, argc, argv, &pos)) >= 0)
		goto out;
	if ((rc = policy_args(v->spec, &pos, v_policy)))
		goto out;
	if ((rc = load_config(v->spec, &cfg, &vco, NULL)))
		goto out;
	c.cfg = &cfg;
	c.name = pos.n ? pos.v[0] : NULL;
	c.policy_path = v_policy;
	c.out = stdout;
	if (bs_cmd_gate_validate(&c, &err) < 0) {
		rc = bs_cmd_error(v->spec, &err);
		goto out;
	}
	rc = bs_stdout_close(v->spec);
out:
	bs_config_release(&cfg);
	bs_strlist_release(&pos);
	return rc;
}

/* ---- approve ----------------------------------------------------------------- */

static struct bs_common_opts aco;
static const char *a_release, *a_commit, *a_digest, *a_key, *a_reason, *a_policy, *a_actor, *a_repo;
static const struct bs_opt approve_opts[] = {
	BS_OPTS_COMMON(&aco),
	{ BS_OPT_STR, 0, "release", &a_release, "VERSION", "the release signed off (required)", 0, 0 },
	{ BS_OPT_STR, 0, "commit", &a_commit, "SHA", "bind the sign-off to this commit too", 0, 0 },
	{ BS_OPT_STR, 0, "digest", &a_digest, "DIGEST", "bind the sign-off to this image digest too", 0, 0 },
	{ BS_OPT_STR, 'k', "key", &a_key, "FILE", "your SSH ed25519 key (private, or its .pub with the key in ssh-agent) (required)", 0, 0 },
	{ BS_OPT_STR, 0, "reason", &a_reason, "TEXT", "why: one line, recorded and signed (required)", 0, 0 },
	{ BS_OPT_STR, 0, "policy", &a_policy, "FILE", "refuse unless the key is a signer for GATE in this policy", 0, 0 },
	{ BS_OPT_STR, 0, "actor", &a_actor, "NAME", "who signs, as recorded (default: GITHUB_ACTOR, GITLAB_USER_LOGIN, $USER); the key decides who counts", 0, 0 },
	{ BS_OPT_STR, 'r', "repo", &a_repo, "REPO", "the repository to record the sign-off in", 0, 0 },
	BS_OPTS_NO_CONN(NO_CONN),
	{ BS_OPT_END, 0, NULL, NULL, NULL, NULL, 0, 0 },
};

static const struct bs_cmd_spec approve_spec = {
	"gate approve",
	"gate approve GATE --release VERSION --key FILE --reason TEXT [--commit SHA] [--digest DIGEST]",
	"Sign GATE off for a release: the statement (gate, release, commit, digest, time, reason)\n"
	"is signed with your own SSH key by `ssh-keygen -Y sign -n backstop-gate` (it asks for the\n"
	"key's passphrase itself, or uses ssh-agent) and recorded in the repository.  gate check\n"
	"counts it when the key is listed in the role its approval criterion names, the release\n"
	"matches and it is young enough; `ssh-keygen -Y verify` can check the record independently.",
	approve_opts,
	"examples:\n"
	"  backstop gate approve security --release v1.4.2 --key ~/.ssh/id_ed25519 --reason \"pen test signed off\"\n",
	"exit codes: 0 signed and recorded; 2 usage error, or the key is not a signer (--policy);\n"
	"3 signing or recording failed (nothing recorded).\n",
};

static int approve_main(const struct bs_verb *v, int argc, char **argv)
{
	struct bs_config cfg;
	struct bs_strlist pos = { 0 };
	struct bs_gate_approve_cmd a = { 0 };
	struct bs_err err;
	int rc = 0;

	bs_log_set_prog("backstop gate approve");
	bs_err_init(&err);
	bs_config_init(&cfg);
	if ((rc = parse_verb(v, &aco, argc, argv, &pos)) >= 0)
		goto out;
	if (pos.n != 1) {
		rc = bs_opts_fail(v->spec, "name the one gate you sign off (e.g. security)");
		goto out;
	}
	if (!a_release || !a_key || !a_reason) {
		rc = bs_opts_fail(v->spec, "--release, --key and --reason are required");
		goto out;
	}
	if ((rc = load_config(v->spec, &cfg, &aco, a_repo)))
		goto out;
	a.cfg = &cfg;
	a.gate = pos.v[0];
	a.policy_path = a_policy;
	a.rel.release = a_release;
	a.rel.commit = a_commit;
	a.rel.digest = a_digest;
	a.key = a_key;
	a.reason = a_reason;
	a.actor = a_actor;
	a.out = stdout;
	if (bs_cmd_gate_approve(&a, &err) < 0) {
		if (err.code == BS_ERR_REFUSED)
			err.code = BS_ERR_USAGE;
		else if (err.code == BS_ERR_VERIFY) /* what ssh-keygen made does not verify */
			err.code = BS_ERR_CRYPTO;
		rc = bs_cmd_error(v->spec, &err);
		goto out;
	}
	rc = bs_stdout_close(v->spec);
out:
	bs_config_release(&cfg);
	bs_strlist_release(&pos);
	return rc;
}

/* ---- status ------------------------------------------------------------------ */

static struct bs_common_opts sco;
static const char *s_policy, *s_release, *s_repo;
static const struct bs_opt status_opts[] = {
	BS_OPTS_COMMON(&sco),
	{ BS_OPT_STR, 0, "policy", &s_policy, "FILE", "the policy file (default: NAME.yaml in gate.policies)", 0, 0 },
	{ BS_OPT_STR, 0, "release", &s_release, "VERSION", "only the sign-offs of this release, verified against it", 0, 0 },
	{ BS_OPT_STR, 'r', "repo", &s_repo, "REPO", "the repository", 0, 0 },
	{ BS_OPT_FLAG, 0, "json", &sco.json, NULL, "JSON on stdout", 0, 0 },
	BS_OPTS_NO_CONN(NO_CONN),
	{ BS_OPT_END, 0, NULL, NULL, NULL, NULL, 0, 0 },
};

static const struct bs_cmd_spec status_spec = {
	"gate status",
	"gate status NAME|--policy FILE [--release VERSION] [--json]",
	"Show where a policy's gates stand: every recorded sign-off of its approval criteria, each\n"
	"verified (valid, bad signature, not a signer, expired...), the waivers and when they\n"
	"expire, and the last recorded decision.",
	status_opts,
	"examples:\n"
	"  backstop gate status go-live\n"
	"  backstop gate status go-live --release v1.4.2 --json\n",
	"exit codes: 0 shown; 2 usage, policy or configuration error (no such repository);\n"
	"3 the repository could not be read.\n",
};

static int status_main(const struct bs_verb *v, int argc, char **argv)
{
	struct bs_config cfg;
	struct bs_strlist pos = { 0 };
	struct bs_gate_cmd c = { 0 };
	struct bs_err err;
	int rc = 0;

	bs_log_set_prog("backstop gate status");
	bs_err_init(&err);
	bs_config_init(&cfg);
	if ((rc = parse_verb(v, &sco, argc, argv, &pos)) >= 0)
		goto out;
	if ((rc = policy_args(v->spec, &pos, s_policy)))
		goto out;
	if ((rc = load_config(v->spec, &cfg, &sco, s_repo)))
		goto out;
	c.cfg = &cfg;
	c.name = pos.n ? pos.v[0] : NULL;
	c.policy_path = s_policy;
	c.rel.release = s_release;
	c.format = sco.json ? BS_GATE_FMT_JSON : BS_GATE_FMT_TEXT;
	c.out = stdout;
	if (bs_cmd_gate_status(&c, &err) < 0) {
		rc = bs_cmd_error(v->spec, &err);
		goto out;
	}
	rc = bs_stdout_close(v->spec);
out:
	bs_config_release(&cfg);
	bs_strlist_release(&pos);
	return rc;
}

/* ---- the command ------------------------------------------------------------- */

static struct bs_common_opts co;
static const struct bs_opt opts[] = {
	BS_OPTS_COMMON(&co),
	{ BS_OPT_END, 0, NULL, NULL, NULL, NULL, 0, 0 },
};

static const struct bs_cmd_spec spec = {
	"gate",
	"gate check NAME [--release VERSION] [--json|--markdown] [--junit FILE]\n"
	"gate approve GATE --release VERSION --key FILE --reason TEXT\n"
	"gate status NAME [--release VERSION]\n"
	"gate validate NAME",
	"Go/no-go gates for pipelines.  A policy (policies/go-live.yaml) lists gates, each with an\n"
	"owner and criteria; `gate check` decides from evidence and never passes what it could not\n"
	"see; `gate approve` records a sign-off signed with your SSH key; `gate status` shows\n"
	"sign-offs, waivers and the last decision.  `backstop gate VERB --help` for each verb.\n"
	"See docs/gate.md.",
	opts,
	"examples:\n"
	"  backstop gate check go-live\n"
	"  backstop gate status go-live\n",
	"exit codes: see each verb; gate check: 0 GO, 1 NO-GO, 2 usage or policy error, 3 could not evaluate.\n",
};

int main(int argc, char **argv)
{
	static const struct bs_verb verbs[] = {
		{ "check", check_main, &check_spec },
		{ "approve", approve_main, &approve_spec },
		{ "status", status_main, &status_spec },
		{ "validate", validate_main, &validate_spec },
		{ NULL, NULL, NULL },
	};
	bs_log_set_prog("backstop gate");
	return bs_verbs_main(&spec, &co, verbs, argc, argv, NULL);
}
