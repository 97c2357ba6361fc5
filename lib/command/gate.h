/*
 * gate.h (command layer) - backstop gate: find and load the policy, run a
 * check and write it in the formats asked and into the catalog, record a
 * sign-off, show the status.  cmd/gate.c parses flags into these structs
 * and maps the return to the exit code.  docs/gate.md.
 */
#ifndef BS_COMMAND_GATE_H
#define BS_COMMAND_GATE_H

#include <stdio.h>

#include "common/err.h"
#include "config/config.h"
#include "gate/gate.h"

/* Load the policy: path (--policy) if given, else <dir>/<name>.yaml where
 * dir is 'gate.policies' of the configuration, else 'policies' beside the
 * configuration file (or in the working directory without one).  When
 * both are given, the file's name must be name.  BS_ERR_USAGE for a bad
 * name, BS_ERR_CONFIG when there is no such policy, BS_ERR_POLICY for
 * its content. */
int bs_cmd_gate_policy(const struct bs_config *cfg, const char *name, const char *path, struct bs_gate_policy *p,
		       struct bs_err *err);

/* What goes to stdout.  MARKDOWN_JSON (--markdown --json): the Markdown,
 * then the JSON document in a collapsed <details> block of it, so that
 * one redirection into $GITHUB_STEP_SUMMARY carries both. */
enum bs_gate_format { BS_GATE_FMT_TEXT = 0, BS_GATE_FMT_JSON, BS_GATE_FMT_MARKDOWN, BS_GATE_FMT_MARKDOWN_JSON };

struct bs_gate_cmd {
	struct bs_config *cfg;
	const char *name;          /* the policy's name, or NULL with policy_path */
	const char *policy_path;   /* --policy, or NULL */
	const char *only;          /* --gate: only this gate, or NULL */
	struct bs_gate_release rel;
	const char *actor;         /* --actor, or NULL (common/actor.h) */
	const char *deployer;      /* --deployer, or NULL: the actor */
	int fail_on_warn;
	int no_record;             /* --no-record: do not write the decision */
	enum bs_gate_format format;/* on out */
	const char *json_file, *markdown_file, *junit_file; /* also these, or NULL */
	FILE *annotations;         /* GitHub Actions annotations go here, or NULL: none */
	FILE *out;
	const volatile int *cancel;
};

/* gate check.  Returns the exit code (0 GO, 1 NO-GO, 3 could not evaluate
 * or record), or -1 with err when it could not start (2: the policy). */
int bs_cmd_gate_check(const struct bs_gate_cmd *c, struct bs_err *err);
/* gate status: sign-offs (verified, for c->rel.release when given),
 * waivers and their expiry, the last decision.  0, or -1 with err. */
int bs_cmd_gate_status(const struct bs_gate_cmd *c, struct bs_err *err);
/* gate validate: the policy and the probes it names.  0, or -1 with err. */
int bs_cmd_gate_validate(const struct bs_gate_cmd *c, struct bs_err *err);

struct bs_gate_approve_cmd {
	struct bs_config *cfg;
	const char *gate;
	const char *policy_path;   /* optional: check the key is a signer for the gate */
	struct bs_gate_release rel;
	const char *key;           /* ssh key file for ssh-keygen -Y sign -f */
	const char *reason;
	const char *actor;
	FILE *out;
};
/* gate approve: sign the statement and record it.  0, or -1 with err. */
int bs_cmd_gate_approve(const struct bs_gate_approve_cmd *a, struct bs_err *err);

#endif
