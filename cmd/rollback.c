/*
 * backstop-rollback - a service back to its last known-good image, with
 * the pre-deploy database if asked; every step in the service's release
 * ledger.  Verbs: record, list, mark, to, watch.
 * Thin: options -> lib/command/rollback.c -> exit code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command/rollback.h"
#include "command/setup.h"
#include "common/log.h"
#include "common/opts.h"
#include "common/sigwatch.h"
#include "probe/probe.h"
#include "release/ledger.h"
#include "release/release.h"

#define NO_CONN "the service's database is services.NAME.database (or 'database:') in backstop.yaml"


/* Options every verb shares. */
static struct bs_common_opts co;
static const char *o_repo, *o_actor, *o_reason, *o_wait;
static int o_dry_run;

#define COMMON_OPTS                                                                                                  \
	BS_OPTS_COMMON(&co),                                                                                         \
	{ BS_OPT_STR, 'r', "repo", &o_repo, "REPO", "the repository of the ledger and snapshots (default: services.NAME.repository, else 'repository:')", 0, 0 }, \
	{ BS_OPT_FLAG, 0, "json", &co.json, NULL, "JSON on stdout", 0, 0 }

#define CHANGE_OPTS                                                                                                  \
	{ BS_OPT_STR, 0, "actor", &o_actor, "NAME", "who does this (default: GITHUB_ACTOR, GITLAB_USER_LOGIN, $USER)", 0, 0 }, \
	{ BS_OPT_STR, 0, "wait", &o_wait, "DURATION", "wait this long for another change of the service to end (default: fail at once)", 0, 0 }

static int setup(const struct bs_verb *v, int argc, char **argv, struct bs_strlist *pos, size_t npos,
		 const char *what, struct bs_config *cfg, struct bs_rollback_cmd *c)
{
	struct bs_err err;
	int64_t wait = 0;

	bs_err_init(&err);
	if (bs_opts_parse(v->spec, argc, argv, pos, &err) < 0)
		return bs_cmd_error(v->spec, &err);
	if (bs_opts_common(v->spec, &co))
		return 0;
	if (pos->n == 0)
		return bs_opts_fail(v->spec, "which service? give its NAME (from 'services:' in backstop.yaml)");
	if (pos->n != npos)
		return bs_opts_fail(v->spec, "%s", what);
	if (o_reason && strlen(o_reason) > BS_LEDGER_TEXT_MAX)
		return bs_opts_fail(v->spec, "--reason is %zu bytes: at most %d", strlen(o_reason), BS_LEDGER_TEXT_MAX);
	if (o_actor && (!*o_actor || strlen(o_actor) > 100))
		return bs_opts_fail(v->spec, "--actor needs a name of at most 100 bytes");
	if (o_wait && (bs_probe_ms_parse(o_wait, &wait) < 0 || wait < 0))
		return bs_opts_fail(v->spec, "invalid --wait '%s': a duration such as 30s or 5m", o_wait);
	if (bs_cmd_config(cfg, co.config, co.quiet, co.verbose, &err) < 0 ||
	    (o_repo && bs_cmd_repo_choose(cfg, o_repo, &err) < 0))
		return bs_cmd_error(v->spec, &err);
	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	c->service = pos->v[0];
	c->actor = o_actor;
	c->reason = o_reason;
	c->json = co.json;
	c->quiet = co.quiet;
	c->wait_ms = wait;
	c->dry_run = o_dry_run;
	c->out = stdout;
	c->cancel = bs_cancel_on_signals();
	return -1;
}

static int finish(const struct bs_verb *v, int rc, struct bs_err *err)
{
	if (rc < 0)
		return bs_cmd_error(v->spec, err);
	{
		int orc = bs_stdout_close(v->spec);
		return orc && !rc ? orc : rc;
	}
}

/* A verb: set-up (options, configuration), then its call.  check (may be
 * NULL) refuses option combinations: -1 to go on, else the exit code. */
typedef int (*verb_check_fn)(const struct bs_verb *v, const struct bs_config *cfg);
typedef int (*verb_call_fn)(struct bs_rollback_cmd *c, const struct bs_strlist *pos, struct bs_err *err);

static int run_verb(const struct bs_verb *v, int argc, char **argv, size_t npos, const char *what, verb_check_fn check,
		    verb_call_fn call)
{
	struct bs_config cfg;
	struct bs_strlist pos = { 0 };
	struct bs_rollback_cmd c;
	struct bs_err err;
	char prog[64];
	int rc;

	snprintf(prog, sizeof(prog), "backstop %s", v->spec->name);
	bs_log_set_prog(prog);
	bs_err_init(&err);
	bs_config_init(&cfg);
	rc = setup(v, argc, argv, &pos, npos, what, &cfg, &c);
	if (rc < 0 && check)
		rc = check(v, &cfg);
	if (rc < 0)
		rc = finish(v, call(&c, &pos, &err), &err);
	bs_config_release(&cfg);
	bs_strlist_release(&pos);
	return rc;
}

/* ---- record ------------------------------------------------------------------- */

static int r_snap;
static const struct bs_opt record_opts[] = {
	COMMON_OPTS,
	CHANGE_OPTS,
	{ BS_OPT_STR, 0, "reason", &o_reason, "TEXT", "why (recorded)", 0, 0 },
	{ BS_OPT_FLAG, 0, "snap", &r_snap, NULL, "take a pre-deploy snapshot of the service's database first (rollback to --with-db restores it)", 0, 0 },
	{ BS_OPT_FLAG, 0, "dry-run", &o_dry_run, NULL, "resolve the digest and say what would be recorded; record and snap nothing", 0, 0 },
	BS_OPTS_NO_CONN(NO_CONN),
	{ BS_OPT_END, 0, NULL, NULL, NULL, NULL, 0, 0 },
};
static const struct bs_cmd_spec record_spec = {
	"rollback record",
	"rollback record NAME IMAGE[:TAG|@DIGEST] [--snap] [--reason TEXT] [--actor NAME]",
	"Record a deploy of service NAME in its release ledger: the image, its digest (a tag is\n"
	"resolved through the registry: services.NAME.registry), who and when, and with --snap a\n"
	"snapshot of the service's database taken first, before the new release migrates it.\n"
	"Run it in the deploy pipeline, before the deploy.  It deploys nothing.",
	record_opts,
	"examples:\n"
	"  backstop rollback record api ghcr.io/acme/api:1.4.2 --snap\n"
	"  backstop rollback record api ghcr.io/acme/api@sha256:4f1c... --reason \"hotfix 1.4.3\"\n",
	"exit codes: 0 recorded; 2 usage or configuration error; 3 the registry, the snapshot or the\n"
	"repository failed (nothing recorded).\n",
};

static int record_call(struct bs_rollback_cmd *c, const struct bs_strlist *pos, struct bs_err *err)
{
	return bs_cmd_rollback_record(c, pos->v[1], r_snap, err);
}

static int record_main(const struct bs_verb *v, int argc, char **argv)
{
	return run_verb(v, argc, argv, 2, "give the service and the image: rollback record NAME IMAGE", NULL, record_call);
}

/* ---- list --------------------------------------------------------------------- */

static int l_verify;
static const struct bs_opt list_opts[] = {
	COMMON_OPTS,
	{ BS_OPT_FLAG, 0, "verify", &l_verify, NULL, "check the ledger's hash chain: an edited, deleted or moved record is reported (exit 1)", 0, 0 },
	BS_OPTS_NO_CONN(NO_CONN),
	{ BS_OPT_END, 0, NULL, NULL, NULL, NULL, 0, 0 },
};
static const struct bs_cmd_spec list_spec = {
	"rollback list",
	"rollback list NAME [--verify] [--json]",
	"The releases of service NAME, newest first: id, when, digest, who, the pre-deploy snapshot,\n"
	"and the state (current, known-good, bad); then every rollback and roll-forward with who did\n"
	"it, why and how it ended.",
	list_opts,
	"examples:\n"
	"  backstop rollback list api\n"
	"  backstop rollback list api --verify\n",
	"exit codes: 0 listed (and with --verify, the chain is intact); 1 --verify found a problem;\n"
	"2 usage or configuration error; 3 the repository could not be read.\n",
};

static int list_call(struct bs_rollback_cmd *c, const struct bs_strlist *pos, struct bs_err *err)
{
	return bs_cmd_rollback_list(c, l_verify, err);
}

static int list_main(const struct bs_verb *v, int argc, char **argv)
{
	return run_verb(v, argc, argv, 1, "one service at a time", NULL, list_call);
}

/* ---- mark --------------------------------------------------------------------- */

static int m_good, m_bad;
static const char *m_release;
static const struct bs_opt mark_opts[] = {
	COMMON_OPTS,
	CHANGE_OPTS,
	{ BS_OPT_FLAG, 0, "good", &m_good, NULL, "the release is known-good: a rollback may go back to it", 0, 0 },
	{ BS_OPT_FLAG, 0, "bad", &m_bad, NULL, "the release is bad: a rollback never goes back to it unless forced", 0, 0 },
	{ BS_OPT_STR, 0, "release", &m_release, "ID", "the release to mark (default: the current one)", 0, 0 },
	{ BS_OPT_STR, 0, "reason", &o_reason, "TEXT", "why (recorded; required with --bad)", 0, 0 },
	{ BS_OPT_FLAG, 0, "dry-run", &o_dry_run, NULL, "say what would be marked; record nothing", 0, 0 },
	BS_OPTS_NO_CONN(NO_CONN),
	{ BS_OPT_END, 0, NULL, NULL, NULL, NULL, 0, 0 },
};
static const struct bs_cmd_spec mark_spec = {
	"rollback mark",
	"rollback mark NAME --good|--bad [--release ID] [--reason TEXT]",
	"Mark a release of service NAME known-good (verified in production: `rollback watch` does\n"
	"this) or bad.  The newest mark counts.",
	mark_opts,
	"examples:\n"
	"  backstop rollback mark api --good\n"
	"  backstop rollback mark api --bad --release 20261130T101500Z-3f9a1c --reason \"corrupts invoices\"\n",
	"exit codes: 0 marked; 2 usage or configuration error, or no such release; 3 the repository failed.\n",
};

static int mark_check(const struct bs_verb *v, const struct bs_config *cfg)
{
	if (m_good == m_bad)
		return bs_opts_fail(v->spec, "say --good or --bad");
	if (m_bad && (!o_reason || !*o_reason))
		return bs_opts_fail(v->spec, "--bad needs a --reason (it goes into the ledger)");
	return -1;
}

static int mark_call(struct bs_rollback_cmd *c, const struct bs_strlist *pos, struct bs_err *err)
{
	return bs_cmd_rollback_mark(c, m_release, m_good, err);
}

static int mark_main(const struct bs_verb *v, int argc, char **argv)
{
	return run_verb(v, argc, argv, 1, "one service at a time", mark_check, mark_call);
}

/* ---- to ----------------------------------------------------------------------- */

static struct bs_rollback_to t_opts;
static const char *t_to, *t_snapshot, *t_identity;
static const struct bs_opt to_opts[] = {
	COMMON_OPTS,
	CHANGE_OPTS,
	{ BS_OPT_STR, 0, "reason", &o_reason, "TEXT", "why (required; recorded)", 0, 0 },
	{ BS_OPT_STR, 0, "to", &t_to, "RELEASE|DIGEST", "the release to go to (default: the newest known-good one that is not current)", 0, 0 },
	{ BS_OPT_FLAG, 0, "with-db", &t_opts.with_db, NULL, "also restore the database as it was before the current release was deployed (its pre-deploy snapshot)", 0, 0 },
	{ BS_OPT_STR, 0, "snapshot", &t_snapshot, "ID", "with --with-db: restore this snapshot instead of the ledger's", 0, 0 },
	{ BS_OPT_STR, 0, "identity", &t_identity, "FILE", "age identity to decrypt the snapshot (default: restore.identity_file)", 0, 0 },
	{ BS_OPT_FLAG, 0, "dry-run", &o_dry_run, NULL, "print the plan and change nothing", 0, 0 },
	{ BS_OPT_FLAG, 'y', "yes", &t_opts.yes, NULL, "go ahead without asking (required without a terminal)", 0, 0 },
	{ BS_OPT_FLAG, 0, "force", &t_opts.force, NULL, "go to a release marked bad", 0, 0 },
	{ BS_OPT_FLAG, 0, "no-verify", &t_opts.no_verify, NULL, "do not run the service's probes afterwards", 0, 0 },
	BS_OPTS_NO_CONN(NO_CONN),
	{ BS_OPT_END, 0, NULL, NULL, NULL, NULL, 0, 0 },
};
static const struct bs_cmd_spec to_spec = {
	"rollback to",
	"rollback to NAME [--to RELEASE|DIGEST] [--with-db] --reason TEXT --yes\n"
	"rollback to NAME --dry-run",
	"Move service NAME to another release - by default the newest known-good one that is not\n"
	"current, never merely the previous one - through its driver (compose, registry or exec),\n"
	"then run its probes until they pass.  With --with-db, first snap the current database\n"
	"(nothing is lost), then restore the pre-deploy snapshot into a new database and swap it\n"
	"in; the current database is kept under a new name.  The plan is printed first; --dry-run\n"
	"stops there.  One change of a service at a time (a lease in the repository); every\n"
	"attempt, failed ones too, goes into the ledger with who, why and what changed.",
	to_opts,
	"examples:\n"
	"  backstop rollback to api --dry-run\n"
	"  backstop rollback to api --reason \"500s after deploy\" --yes\n"
	"  backstop rollback to api --to 20261130T101500Z-3f9a1c --with-db --reason \"data corruption\" --yes\n",
	"exit codes: 0 done and the probes pass; 1 done but the service is not healthy; 2 usage,\n"
	"configuration, no target, or refused (no --yes; a bad target; the registry tag moved by\n"
	"someone else); 3 the driver, the restore or the repository failed (see the message for\n"
	"what, if anything, was changed).\n",
};

static int to_check(const struct bs_verb *v, const struct bs_config *cfg)
{
	if (t_snapshot && !t_opts.with_db)
		return bs_opts_fail(v->spec, "--snapshot chooses the database to restore: it needs --with-db");
	return -1;
}

static int to_call(struct bs_rollback_cmd *c, const struct bs_strlist *pos, struct bs_err *err)
{
	t_opts.to = t_to;
	t_opts.snapshot = t_snapshot;
	t_opts.identity_file = t_identity;
	t_opts.dry_run = o_dry_run;
	return bs_cmd_rollback_to(c, &t_opts, err);
}

static int to_main(const struct bs_verb *v, int argc, char **argv)
{
	return run_verb(v, argc, argv, 1, "one service at a time", to_check, to_call);
}

/* ---- watch -------------------------------------------------------------------- */

static const char *w_for, *w_outage, *w_interval, *w_release;
static int w_auto;
static const struct bs_opt watch_opts[] = {
	COMMON_OPTS,
	CHANGE_OPTS,
	{ BS_OPT_STR, 0, "for", &w_for, "DURATION", "how long to watch (required: 60m)", 0, 0 },
	{ BS_OPT_STR, 0, "outage-limit", &w_outage, "DURATION", "down this long fails the release (default: probe.outage_limit, else 5m)", 0, 0 },
	{ BS_OPT_STR, 0, "interval", &w_interval, "DURATION", "between probe rounds (default: probe.interval, 10s)", 0, 0 },
	{ BS_OPT_STR, 0, "release", &w_release, "ID", "the release watched (default: the current one)", 0, 0 },
	{ BS_OPT_FLAG, 0, "auto", &w_auto, NULL, "roll back to the last known-good release when the limit is passed", 0, 0 },
	{ BS_OPT_FLAG, 0, "dry-run", &o_dry_run, NULL, "probe and say what would happen; mark nothing, roll back nothing", 0, 0 },
	BS_OPTS_NO_CONN(NO_CONN),
	{ BS_OPT_END, 0, NULL, NULL, NULL, NULL, 0, 0 },
};
static const struct bs_cmd_spec watch_spec = {
	"rollback watch",
	"rollback watch NAME --for DURATION [--outage-limit DURATION] [--auto]",
	"After a deploy: run service NAME's probes for a while.  When it stays up (no outage as long\n"
	"as the limit), the release is marked known-good; when it is down for the limit, it is\n"
	"marked bad, the command exits 1, and with --auto the service is rolled back to the last\n"
	"known-good release.",
	watch_opts,
	"examples:\n"
	"  backstop rollback watch api --for 60m --outage-limit 5m\n"
	"  backstop rollback watch api --for 60m --outage-limit 5m --auto\n",
	"exit codes: 0 healthy for the whole time (marked known-good); 1 the outage limit was passed\n"
	"(marked bad; rolled back with --auto); 2 usage or configuration error; 3 could not watch or\n"
	"the automatic rollback failed.\n",
};

static struct bs_rollback_watch w_opts;

static int watch_check(const struct bs_verb *v, const struct bs_config *cfg)
{
	if (!w_for)
		return bs_opts_fail(v->spec, "how long? --for DURATION (60m)");
	if (bs_probe_ms_parse(w_for, &w_opts.for_ms) < 0 || w_opts.for_ms <= 0)
		return bs_opts_fail(v->spec, "invalid --for '%s': a duration such as 60m", w_for);
	if (w_outage && (bs_probe_ms_parse(w_outage, &w_opts.outage_limit_ms) < 0 || w_opts.outage_limit_ms <= 0))
		return bs_opts_fail(v->spec, "invalid --outage-limit '%s': a duration such as 5m", w_outage);
	if (w_interval && (bs_probe_ms_parse(w_interval, &w_opts.interval_ms) < 0 || w_opts.interval_ms <= 0))
		return bs_opts_fail(v->spec, "invalid --interval '%s': a duration such as 10s", w_interval);
	w_opts.automatic = w_auto;
	w_opts.release = w_release;
	return -1;
}

static int watch_call(struct bs_rollback_cmd *c, const struct bs_strlist *pos, struct bs_err *err)
{
	return bs_cmd_rollback_watch(c, &w_opts, err);
}

static int watch_main(const struct bs_verb *v, int argc, char **argv)
{
	return run_verb(v, argc, argv, 1, "one service at a time", watch_check, watch_call);
}

/* ---- the command -------------------------------------------------------------- */

static const struct bs_opt opts[] = {
	BS_OPTS_COMMON(&co),
	{ BS_OPT_END, 0, NULL, NULL, NULL, NULL, 0, 0 },
};
static const struct bs_cmd_spec spec = {
	"rollback",
	"rollback record|list|mark|to|watch NAME ...",
	"Back to the last known-good image in minutes, with the database if asked, audited.\n"
	"Each service (under 'services:' in backstop.yaml) has a release ledger in the repository:\n"
	"deploys, known-good and bad marks, rollbacks, each with who, when and why, hash-chained.\n"
	"`backstop rollback VERB --help` for each verb.  See docs/rollback.md.",
	opts,
	"examples:\n"
	"  backstop rollback record api ghcr.io/acme/api:1.4.2 --snap\n"
	"  backstop rollback watch api --for 60m --outage-limit 5m\n"
	"  backstop rollback list api\n"
	"  backstop rollback to api --dry-run\n",
	"exit codes: see each verb.\n",
};

/* `backstop rollback api` (the emergency form DESIGN.md names): point at
 * `rollback to`. */
static int service_hint(const char *word, char *buf, size_t n)
{
	if (!bs_service_name_ok(word))
		return 0;
	snprintf(buf, n, "to roll service %s back: backstop rollback to %s --dry-run, then --reason TEXT --yes", word, word);
	return 1;
}

int main(int argc, char **argv)
{
	static const struct bs_verb verbs[] = {
		{ "record", record_main, &record_spec }, { "list", list_main, &list_spec },
		{ "mark", mark_main, &mark_spec },	 { "to", to_main, &to_spec },
		{ "watch", watch_main, &watch_spec },	 { NULL, NULL, NULL },
	};
	bs_log_set_prog("backstop rollback");
	return bs_verbs_main(&spec, &co, verbs, argc, argv, service_hint);
}
