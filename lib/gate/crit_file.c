/*
 * crit_file.c - the escape hatches: 'file' (a file exists) and 'command'
 * (a command exits 0 within its timeout), for what no other kind decides.
 *
 *   - kind: file
 *     path: docs/runbook.md        a regular file, not empty
 *   - kind: command
 *     run: [./scripts/smoke.sh, --quick]    argv, no shell
 *     timeout: 60s
 */
#include "gate/gate_int.h"

#include "release/ledger.h"
#include "repo/repo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/human.h"
#include "common/run.h"

/* ---- file ------------------------------------------------------------------ */

static int file_check(const struct bs_gate_criterion *c, const struct bs_gate_policy *p, struct bs_err *err)
{
	(void)p;
	if (!c->path || !*c->path)
		return bs_err_set(err, BS_ERR_POLICY, "a file criterion needs 'path:'");
	return 0;
}

static void file_eval(struct bs_gate_eval *ev, const struct bs_gate *g, const struct bs_gate_criterion *c,
		      struct bs_gate_outcome *o)
{
	struct stat st;

	(void)ev, (void)g;
	if (stat(c->path, &st) < 0) {
		if (errno == ENOENT)
			bs_gate_set(o, BS_STATE_FAIL, "the file exists", "'%s' does not exist", c->path);
		else
			bs_gate_set(o, BS_STATE_UNKNOWN, "the file exists", "'%s' cannot be checked: %s", c->path,
				    strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		bs_gate_set(o, BS_STATE_FAIL, "a regular file", "'%s' is not a regular file", c->path);
	} else if (st.st_size == 0) {
		bs_gate_set(o, BS_STATE_FAIL, "a file with content", "'%s' is empty", c->path);
	} else {
		char sz[32];
		bs_human_bytes((uint64_t)st.st_size, sz, sizeof(sz));
		bs_gate_set(o, BS_STATE_OK, "the file exists", "'%s' exists (%s)", c->path, sz);
	}
}

static const struct bs_bind_field file_fields[] = {
	BS_CRIT_COMMON_FIELDS,
	BS_BIND_F_STRING("path", struct bs_gate_criterion, path, BS_BIND_REQUIRED),
	BS_BIND_F_END,
};

const struct bs_gate_kind_ops bs_crit_file = {
	.name = "file",
	.fields = file_fields,
	.check = file_check,
	.eval = file_eval,
};

/* ---- command --------------------------------------------------------------- */

static void command_init(struct bs_gate_criterion *c)
{
	c->timeout_ms = 60000;
}

static int command_check(const struct bs_gate_criterion *c, const struct bs_gate_policy *p, struct bs_err *err)
{
	(void)p;
	if (c->nrun == 0 || !*c->run[0]) {
		bs_err_set(err, BS_ERR_POLICY, "a command criterion needs 'run:', the program and its arguments");
		bs_err_hint(err, "run: [./scripts/smoke.sh, --quick]  (no shell: write [sh, -c, '...'] for one)");
		return -1;
	}
	return 0;
}

static void command_eval(struct bs_gate_eval *ev, const struct bs_gate *g, const struct bs_gate_criterion *c,
			 struct bs_gate_outcome *o)
{
	const char **argv = calloc(c->nrun + 1, sizeof(*argv));
	struct bs_run r;
	struct bs_err e;
	char lim[32];
	int rc;

	(void)ev, (void)g;
	bs_human_ms(c->timeout_ms, lim, sizeof(lim));
	if (!argv) {
		bs_gate_set(o, BS_STATE_UNKNOWN, "exit status 0", "out of memory");
		return;
	}
	for (size_t i = 0; i < c->nrun; i++)
		argv[i] = c->run[i];
	bs_run_init(&r);
	bs_err_init(&e);
	r.argv = argv;
	r.env_policy = BS_RUN_ENV_HOOK;
	r.search_path = 1;
	r.timeout_ms = (unsigned)c->timeout_ms;
	r.capture_stdout = 1;
	r.stdout_max = 4096;
	if (bs_run_start(&r, &e) < 0) {
		bs_gate_set(o, BS_STATE_UNKNOWN, "exit status 0", "'%s' could not run: %s", c->run[0], e.msg);
		bs_run_release(&r);
		free(argv);
		return;
	}
	rc = bs_run_wait(&r, &e);
	if (rc == 0)
		bs_gate_set(o, BS_STATE_OK, "exit status 0", "'%s' exited 0", c->run[0]);
	else if (r.timed_out)
		bs_gate_set(o, BS_STATE_UNKNOWN, "exit status 0", "'%s' did not finish within %s and was stopped", c->run[0],
			    lim);
	else
		bs_gate_set(o, BS_STATE_FAIL, "exit status 0", "%s", e.msg);
	if (rc != 0 && r.stdout_len)
		bs_gate_detail(o, "output: %.*s", (int)(r.stdout_len > 1000 ? 1000 : r.stdout_len), r.stdout_buf);
	bs_run_release(&r);
	free(argv);
}

static const struct bs_bind_field command_fields[] = {
	BS_CRIT_COMMON_FIELDS,
	BS_BIND_F_STRLIST("run", struct bs_gate_criterion, run, nrun),
	{ .key = "timeout", .type = BS_BIND_DURATION, .offset = offsetof(struct bs_gate_criterion, timeout_ms),
	  .scale = 1000, .min = 1, .max = 86400 },
	BS_BIND_F_END,
};

const struct bs_gate_kind_ops bs_crit_command = {
	.name = "command",
	.fields = command_fields,
	.init = command_init,
	.check = command_check,
	.eval = command_eval,
};

/* ---- rollback_ready --------------------------------------------------------- */

/* The service's release ledger (release/ledger.h) in the criterion's
 * repository: a known-good release other than the current one is a PASS;
 * no ledger, or no such release, is missing evidence (FAIL); a ledger that
 * fails verification is FAIL too (the rollback it promises is not to be
 * trusted); one that cannot be read is UNKNOWN. */
static int rollback_check(const struct bs_gate_criterion *c, const struct bs_gate_policy *p, struct bs_err *err)
{
	(void)p;
	if (!c->service || !bs_service_name_ok(c->service))
		return bs_err_set(err, BS_ERR_POLICY, "a rollback_ready criterion needs 'service:' (a service name of 'services:')");
	return 0;
}

static void rollback_eval(struct bs_gate_eval *ev, const struct bs_gate *g, const struct bs_gate_criterion *c,
			  struct bs_gate_outcome *o)
{
	static const char expected[] = "a known-good release to roll back to";
	const char *repository = c->repository;
	const struct bs_service *svc;
	struct bs_ledger l;
	struct bs_release_state st;
	struct bs_repo *repo;
	struct bs_err e;
	int own = 0;
	long at;

	(void)g;
	bs_err_init(&e);
	bs_ledger_init(&l);
	memset(&st, 0, sizeof(st));
	/* the criterion's repository, else the service's own, else the configured one */
	if (!repository && ev->env->services && (svc = bs_service_find(ev->env->services, c->service)))
		repository = svc->repository;
	if (!(repo = bs_gate_eval_repo(ev, repository, &own, &e))) {
		bs_gate_set(o, BS_STATE_UNKNOWN, expected, "%s", e.msg);
		return;
	}
	if (bs_ledger_load(repo, c->service, &l, &e) < 0) {
		bs_gate_set(o, BS_STATE_UNKNOWN, expected, "cannot read the release ledger of '%s': %s", c->service, e.msg);
		goto out;
	}
	if (l.nproblems) {
		bs_gate_set(o, BS_STATE_FAIL, expected, "the release ledger of '%s' fails verification: %.*s", c->service,
			    (int)strcspn(l.problems, "\n"), l.problems);
		goto out;
	}
	if (bs_release_state_build(&l, &st, &e) < 0) {
		bs_gate_set(o, BS_STATE_UNKNOWN, expected, "%s", e.msg);
		goto out;
	}
	if (!st.n) {
		bs_gate_set(o, BS_STATE_FAIL, expected, "no release of '%s' recorded in %s", c->service, bs_repo_location(repo));
		bs_gate_detail(o, "record each deploy: backstop rollback record %s IMAGE --snap", c->service);
		goto out;
	}
	if ((at = bs_release_target(&st, NULL, 0, &e)) < 0) {
		bs_gate_set(o, BS_STATE_FAIL, expected, "no known-good release of '%s' besides the current one", c->service);
		bs_gate_detail(o, "`backstop rollback watch` or `rollback mark --good` marks a verified release");
		goto out;
	}
	bs_gate_set(o, BS_STATE_OK, expected, "release %s (%.19s) is known-good", st.v[at].deploy->id, st.v[at].deploy->digest);
out:
	bs_release_state_release(&st);
	bs_ledger_release(&l);
	if (own)
		bs_repo_close(repo);
}

static const struct bs_bind_field rollback_fields[] = {
	BS_CRIT_COMMON_FIELDS,
	BS_BIND_F_STRING("service", struct bs_gate_criterion, service, BS_BIND_REQUIRED),
	BS_BIND_F_STRING("repository", struct bs_gate_criterion, repository, 0),
	BS_BIND_F_END,
};

const struct bs_gate_kind_ops bs_crit_rollback_ready = {
	.name = "rollback_ready",
	.fields = rollback_fields,
	.check = rollback_check,
	.eval = rollback_eval,
};
