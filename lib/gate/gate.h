/*
 * gate.h - go/no-go gates: a policy of gates, each with an owner and
 * criteria, decided from evidence (probes, backups, drills, scan results,
 * test reports, signed sign-offs) with waivers that expire.
 *
 * Files, one concern each:
 *   policy.c      the policy file (kind: gate): binding and the rules that
 *                 span keys (unknown criterion kinds, a gate without
 *                 criteria, duplicate ids, waivers naming no criterion...)
 *   criteria.c    the table of criterion kinds; crit_<kind>.c one file per
 *                 kind: probe, backup, drill, sarif, junit, approval,
 *                 rollback_ready, file, command
 *   check.c       a check: every criterion evaluated, waivers applied, the
 *                 findings of the report, the verdict
 *   approval.c    sign-offs: the canonical statement, signing through
 *                 ssh-keygen, verification (sshsig.h) against a role
 *   record.c      catalog records: approvals/<gate>/<id>.json and
 *                 decisions/<policy>/<id>.json
 *   evidence.h    SARIF and JUnit readers (sarif_in.c, junit_in.c)
 * docs/gate.md is the user's documentation of all of it.
 *
 * Fail closed.  A criterion whose evidence is missing (no file, no
 * snapshot, no sign-off) is FAIL; one that could not be evaluated (a
 * repository that cannot be read, a scan that says it failed, a probe
 * target that does not answer within the round) is UNKNOWN.  Neither ever
 * passes.  A criterion with severity warn turns FAIL into WARN; UNKNOWN
 * stays UNKNOWN whatever the severity.
 *
 * Ownership: struct bs_gate_policy owns everything beneath it
 * (bs_gate_policy_release).  Check results borrow the policy.
 */
#ifndef BS_GATE_GATE_H
#define BS_GATE_GATE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "gate/evidence.h"
#include "gate/sshsig.h"
#include "report/report.h"

#define BS_GATE_NAME_MAX 64    /* gate, policy, role and criterion ids */
#define BS_GATE_GATES_MAX 64
#define BS_GATE_CRITERIA_MAX 128
#define BS_GATE_SIGNERS_MAX 256
#define BS_GATE_REASON_MAX 1000 /* bytes of a sign-off's or waiver's reason */
/* The SSHSIG namespace of sign-offs (ssh-keygen -Y sign -n ...). */
#define BS_GATE_SIG_NAMESPACE "backstop-gate"

enum bs_gate_kind {
	BS_CRIT_PROBE = 1,
	BS_CRIT_BACKUP,
	BS_CRIT_DRILL,
	BS_CRIT_SARIF,
	BS_CRIT_JUNIT,
	BS_CRIT_APPROVAL,
	BS_CRIT_ROLLBACK_READY,
	BS_CRIT_FILE,
	BS_CRIT_COMMAND,
};
#define BS_CRIT_KINDS 10 /* one more than the last kind: index by kind */

struct bs_gate_criterion {
	char *id;           /* unique in its gate; default: the kind's name */
	int kind;           /* enum bs_gate_kind */
	int warn;           /* severity: warn (a FAIL reads WARN) */
	char *description;  /* optional */
	const char *file;   /* where it is written (borrowed from the policy's path) */
	unsigned line, column;

	/* probe */
	char **probes;
	size_t nprobes;
	/* backup, drill */
	char *database;     /* NULL: the repository's only database */
	char *repository;   /* a name of 'repositories:' or a location; NULL: the configured one */
	int64_t max_age_ms; /* backup: default 26h; drill: default 8d; approval: default 7d */
	int encrypted;      /* backup: the snapshot must be encrypted (default 1) */
	int64_t max_rto_ms; /* drill: 0: not checked */
	/* sarif, junit */
	char **files;       /* glob patterns, relative to the working directory */
	size_t nfiles;
	int max[BS_SEV_COUNT]; /* sarif: limit per severity, -1: none (default critical 0, high 0) */
	int min_tests;      /* junit: default 1 */
	/* approval */
	char *role;
	int min;            /* N of the role's M signers (default 1) */
	int not_deployer;   /* the deployer's own sign-off does not count */
	/* rollback_ready */
	char *service;
	/* file */
	char *path;
	/* command */
	char **run;         /* argv; run[0] a program (PATH is searched) */
	size_t nrun;
	int64_t timeout_ms; /* default 60s */
};

struct bs_gate {
	char *name;
	char *owner;
	char *description;
	struct bs_gate_criterion *criteria;
	size_t ncriteria;
	unsigned line, column;
};

struct bs_gate_signer {
	struct bs_allowed_signer s;
	char *where; /* "policy.yaml:12" or "security.allowed_signers:3" */
};

struct bs_gate_role {
	char *name;
	char **signers;      /* allowed-signers lines written in the policy */
	size_t nsigners_text;
	char *signers_file;  /* an allowed_signers file (relative: to the policy's directory) */
	struct bs_gate_signer *keys; /* parsed from both */
	size_t nkeys;
	unsigned line, column;
};

struct bs_gate_waiver {
	char *criterion;     /* "gate.criterion-id" */
	char *reason;
	char *approver;
	char *expires;       /* as written: "2026-12-15" or an ISO time */
	time_t expires_at;   /* the waiver no longer applies from this time */
	unsigned line, column;
};

struct bs_gate_policy {
	char *path;          /* the file loaded */
	char *name;          /* 'name:', else the file's base name without .yaml */
	char sha256[65];     /* of the file's bytes, hex: decisions record it */
	struct bs_gate *gates;
	size_t ngates;
	struct bs_gate_role *roles;
	size_t nroles;
	struct bs_gate_waiver *waivers;
	size_t nwaivers;
};

void bs_gate_policy_init(struct bs_gate_policy *p);
void bs_gate_policy_release(struct bs_gate_policy *p);
/* Load a gate policy file.  Errors are BS_ERR_POLICY with file:line:column
 * (every error of the file at once), as every policy (config/policy_load.h). */
int bs_gate_policy_load(struct bs_gate_policy *p, const char *path, struct bs_err *err);
int bs_gate_policy_load_string(struct bs_gate_policy *p, const char *name, const char *text,
			       struct bs_err *err);
const struct bs_gate *bs_gate_find(const struct bs_gate_policy *p, const char *name);
/* "technical: Technical Lead; security: Security Team Lead": the owners of
 * the gates (of only, when not NULL) into buf, cut at n bytes. */
void bs_gate_owners(const struct bs_gate_policy *p, const char *only, char *buf, size_t n);
const struct bs_gate_role *bs_gate_role_find(const struct bs_gate_policy *p, const char *name);
/* Is s a valid gate/policy/role/criterion name: 1 to BS_GATE_NAME_MAX-1 of
 * [a-z0-9_-], starting with a letter or digit? */
int bs_gate_name_ok(const char *s);

/* ---- criterion kinds (criteria.c) --------------------------------------- */

const char *bs_gate_kind_name(int kind);

/* ---- sign-offs (approval.c, record.c) -----------------------------------
 *
 * What is signed is the canonical statement (docs/gate.md):
 *
 *   backstop gate approval v1
 *   gate: security
 *   release: v1.4.2
 *   commit: 3f2a...           (empty when not bound to a commit)
 *   digest: sha256:...        (empty when not bound to an image digest)
 *   time: 2026-11-30T10:00:00Z
 *   reason: pen test signed off
 *
 * one field a line, LF-terminated, no other whitespace.  Values are one
 * line of printable UTF-8 (no control characters).  The record keeps the
 * fields, the statement and the armored signature, so that anyone can
 * check it with `ssh-keygen -Y verify -n backstop-gate`; backstop rebuilds
 * the statement from the fields and verifies that. */
struct bs_gate_approval {
	char id[64];         /* "<time>-<random>" as snapshot ids */
	char *gate;
	char *release, *commit, *digest; /* commit, digest: NULL when not bound */
	time_t time;
	char *reason;
	char *actor;         /* who ran `gate approve` (not trusted: the key decides) */
	char *signature;     /* armored SSHSIG */
	char *key;           /* repository key of the record, when loaded or written */
	/* bs_gate_approval_sign: the key that made the signature, verified over
	 * the statement (has_signer 1).  Not read from records: a loaded
	 * sign-off is worth what bs_gate_approval_verify says. */
	struct bs_ssh_key signer;
	int has_signer;
};

void bs_gate_approval_init(struct bs_gate_approval *a);
void bs_gate_approval_release(struct bs_gate_approval *a);
/* The statement into a new string (caller frees); BS_ERR_USAGE when a
 * field is not one line of text or too long. */
int bs_gate_statement(const struct bs_gate_approval *a, char **out, struct bs_err *err);
/* Sign the statement with ssh-keygen -Y sign -f key (a private key, or a
 * public key whose private half ssh-agent holds): fills a->signature, and
 * a->signer once the signature verifies over the statement.
 * ssh-keygen asks for a passphrase on the terminal itself. */
int bs_gate_approval_sign(struct bs_gate_approval *a, const char *key_path, struct bs_err *err);

/* Why a sign-off does or does not count for a criterion. */
enum bs_gate_signoff {
	BS_SIGNOFF_OK = 0,
	BS_SIGNOFF_BAD_SIGNATURE, /* malformed, tampered, or not over this statement */
	BS_SIGNOFF_NOT_SIGNER,    /* a key not listed in the role */
	BS_SIGNOFF_OTHER_RELEASE, /* another release, commit or digest */
	BS_SIGNOFF_EXPIRED,       /* older than max_age */
	BS_SIGNOFF_FUTURE,        /* dated ahead of now (beyond clock skew) */
	BS_SIGNOFF_DEPLOYER,      /* by the deployer, and the policy forbids it */
	BS_SIGNOFF_DUPLICATE,     /* the same signer counted already */
};

/* What a check is about. */
struct bs_gate_release {
	const char *release;  /* --release; NULL: not given */
	const char *commit;   /* --commit; NULL: not given */
	const char *digest;   /* --digest; NULL: not given */
};

/* Verify a sign-off against a role: the signature over the rebuilt
 * statement, the signer among the role's keys (its entry into *signer,
 * its first principal into who, n bytes), then the binding to rel.  why gets one line for a
 * sign-off that does not count.  Returns the verdict. */
enum bs_gate_signoff bs_gate_approval_verify(const struct bs_gate_approval *a, const struct bs_gate_role *role,
					     const struct bs_gate_release *rel, time_t now, int64_t max_age_ms,
					     const struct bs_gate_signer **signer, char *who, size_t n, char *why,
					     size_t whyn);
/* Is name one of the signer's principals, or the part before '@' of one
 * (case-insensitive)?  The deployer "alice" is the signer "alice@example.com". */
int bs_gate_signer_is(const struct bs_gate_signer *s, const char *name);
/* Do two signer entries name the same person (a principal in common)? */
int bs_gate_signer_same(const struct bs_gate_signer *a, const struct bs_gate_signer *b);

/* The role's entry for key (allowed in the sign-off namespace), or NULL. */
const struct bs_gate_signer *bs_gate_role_signer(const struct bs_gate_role *role, const struct bs_ssh_key *key);

/* Catalog records. */
struct bs_repo;
struct bs_gate_approvals {
	struct bs_gate_approval *v; /* oldest first */
	size_t n, cap;
	size_t damaged;              /* records that could not be read (skipped, logged) */
};
void bs_gate_approvals_init(struct bs_gate_approvals *l);
void bs_gate_approvals_release(struct bs_gate_approvals *l);
/* Write approvals/<gate>/<id>.json (create-only) of a signed sign-off
 * (bs_gate_approval_sign; BS_ERR_INTERNAL without a verified signer). */
int bs_gate_approval_put(struct bs_repo *repo, struct bs_gate_approval *a, struct bs_err *err);
/* Every sign-off of gate (NULL: of every gate). */
int bs_gate_approvals_load(struct bs_repo *repo, const char *gate, struct bs_gate_approvals *l,
			   struct bs_err *err);

/* ---- a check (check.c) --------------------------------------------------- */

/* Opening a repository is the command layer's (configuration, credentials). */
typedef int (*bs_gate_repo_open_fn)(void *ud, const char *repository, struct bs_repo **out,
				    struct bs_err *err);

struct bs_probe_set;
struct bs_service_set;
struct bs_gate_env {
	const struct bs_probe_set *probes; /* the configured probes (probe criteria), or NULL */
	const struct bs_service_set *services; /* 'services:' (rollback_ready's repository), or NULL */
	bs_gate_repo_open_fn open_repo;    /* NULL: no repository can be opened */
	void *open_repo_ud;
	int have_repository;               /* a repository is configured (sign-offs, records) */
	struct bs_gate_release rel;
	const char *deployer;              /* who deploys (not_deployer), or NULL */
	time_t now;
	const volatile int *cancel;
};

/* One criterion's outcome, as in the report. */
struct bs_gate_outcome {
	const struct bs_gate *gate;
	const struct bs_gate_criterion *crit;
	enum bs_state state;       /* after severity and waivers */
	enum bs_state raw;         /* what the evidence said */
	char expected[256];
	char observed[1024];
	char detail[2048];
	const struct bs_gate_waiver *waiver; /* applied, or expired (see state) */
	double seconds;
};

struct bs_gate_result {
	struct bs_gate_outcome *o; /* one per criterion, in policy order */
	size_t n;
	enum bs_state overall;
	int go;                    /* 1 GO */
	int exit_code;             /* 0 GO, 1 NO-GO, 3 could not evaluate */
};

void bs_gate_result_init(struct bs_gate_result *r);
void bs_gate_result_release(struct bs_gate_result *r);

/* Probe names and roles the criteria use must exist: BS_ERR_POLICY naming
 * the criterion's file:line (run before a check, and by validate). */
int bs_gate_resolve(const struct bs_gate_policy *p, const struct bs_probe_set *probes, struct bs_err *err);

/* Evaluate every criterion of every gate (or of the gate named only),
 * apply waivers, and fill res and (if not NULL) the report: a finding per
 * criterion (group: the gate, check: the criterion id, category: its
 * kind).  fail_on_warn turns WARN into NO-GO.  Returns 0, or -1 when the
 * check could not run at all (out of memory). */
int bs_gate_check(const struct bs_gate_policy *p, const char *only, const struct bs_gate_env *env,
		  int fail_on_warn, struct bs_gate_result *res, struct bs_report *report, struct bs_err *err);

/* ---- decisions (record.c) ----------------------------------------------- */

/* Write decisions/<policy>/<id>.json: time, policy name, path and hash,
 * release, actor, the verdict, and every criterion's outcome.  id (out,
 * 64 bytes) names it. */
int bs_gate_decision_put(struct bs_repo *repo, const struct bs_gate_policy *p, const struct bs_gate_env *env,
			 const char *actor, int fail_on_warn, const struct bs_gate_result *res, time_t when,
			 char id[64], struct bs_err *err);

/* The newest decision of a policy, as its JSON text (caller frees), or
 * *out NULL when there is none. */
int bs_gate_decision_last(struct bs_repo *repo, const char *policy, char **out, struct bs_err *err);

#endif
