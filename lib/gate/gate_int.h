/*
 * gate_int.h - what the gate module's files share: the table of criterion
 * kinds (criteria.c) and a check's state while it runs (check.c).
 */
#ifndef BS_GATE_GATE_INT_H
#define BS_GATE_GATE_INT_H

#include <stdio.h>

#include "config/bind.h"
#include "gate/gate.h"
#include "probe/probe.h"

/* A check's state, shared by the criteria as they are evaluated. */
struct bs_gate_eval {
	const struct bs_gate_policy *policy;
	const struct bs_gate_env *env;
	/* probe criteria: every probe they name, run in one round first */
	const struct bs_probe **probes;
	struct bs_probe_result *probe_res;
	size_t nprobes;
	/* the configured repository, opened on first use */
	struct bs_repo *repo;
	int repo_tried;
	struct bs_err repo_err;
	/* sign-offs, loaded on first use */
	struct bs_gate_approvals approvals;
	int approvals_tried, approvals_rc;
	struct bs_err approvals_err;
};

/* The repository a criterion reads (repository NULL: the configured one,
 * kept open for the whole check), or NULL with why set.  *own is 1 when
 * the caller must close it. */
struct bs_repo *bs_gate_eval_repo(struct bs_gate_eval *ev, const char *repository, int *own, struct bs_err *why);

struct bs_gate_kind_ops {
	const char *name;
	const struct bs_bind_field *fields; /* common fields included */
	/* Set the kind's defaults before binding. */
	void (*init)(struct bs_gate_criterion *c);
	/* Rules spanning keys, once bound: 0, or -1 with a message (no
	 * position: the caller adds the criterion's). */
	int (*check)(const struct bs_gate_criterion *c, const struct bs_gate_policy *p, struct bs_err *err);
	/* Fill o->raw, expected, observed, detail. */
	void (*eval)(struct bs_gate_eval *ev, const struct bs_gate *g, const struct bs_gate_criterion *c,
		     struct bs_gate_outcome *o);
};

/* Indexed by enum bs_gate_kind; NULL at 0. */
extern const struct bs_gate_kind_ops *const bs_gate_kinds[BS_CRIT_KINDS];
extern const struct bs_bind_enum bs_gate_kind_enums[];
/* Every criterion field of every kind (release). */
extern const struct bs_bind_field bs_gate_criterion_all_fields[];

extern const struct bs_gate_kind_ops bs_crit_probe, bs_crit_backup, bs_crit_drill, bs_crit_sarif, bs_crit_junit,
	bs_crit_approval, bs_crit_rollback_ready, bs_crit_file, bs_crit_command;

/* The fields every kind has: kind (bound before the rest), id, severity,
 * description. */
int bs_gate_kind_bound(struct bs_bind_ctx *ctx, const struct bs_bind_field *f, const struct bs_ynode *node,
		       const char *keypath, void *base, struct bs_err *err);
extern const struct bs_bind_enum bs_gate_severity_enums[];
#define BS_CRIT_COMMON_FIELDS                                                                              \
	{ .key = "kind", .type = BS_BIND_CUSTOM, .custom = bs_gate_kind_bound },                          \
	BS_BIND_F_STRING("id", struct bs_gate_criterion, id, 0),                                           \
	BS_BIND_F_ENUM("severity", struct bs_gate_criterion, warn, bs_gate_severity_enums),                \
	BS_BIND_F_STRING("description", struct bs_gate_criterion, description, 0)

/* Outcome helpers: set raw state and the three texts (printf). */
void bs_gate_set(struct bs_gate_outcome *o, enum bs_state s, const char *expected, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void bs_gate_detail(struct bs_gate_outcome *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));


/* Append printf output to the NUL-terminated text in buf (n bytes), cut at
 * the end of buf (never past it, never inside a UTF-8 character). */
void bs_gate_appendf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Expand glob patterns (relative to the working directory) into paths;
 * a pattern matching nothing is listed in *missing (", "-separated).
 * Caller frees with bs_gate_paths_free. */
int bs_gate_paths(char *const *patterns, size_t n, char ***paths, size_t *npaths, char *missing, size_t missn,
		  struct bs_err *err);
void bs_gate_paths_free(char **paths, size_t n);

#endif
