/*
 * backstop-snap - take a snapshot; list, show, prune, pin and unpin them.
 * Thin: options -> request -> lib/command -> exit code.
 *
 * stdout carries exactly the result: the new snapshot's id, or with --json
 * one JSON document (the record, with the prune report inside when pruning
 * ran).  Everything else (progress, the prune report in text mode) goes to
 * stderr.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "command/copy.h"
#include "command/listing.h"
#include "command/metrics.h"
#include "command/prune.h"
#include "command/setup.h"
#include "command/snap.h"
#include "command/snap_guard.h"
#include "common/duration.h"
#include "common/log.h"
#include "common/opts.h"
#include "common/progress.h"
#include "common/sigwatch.h"
#include "config/bind.h"
#include "config/policy_file.h"
#include "report/report.h"

static struct bs_common_opts co;
static struct bs_conn_opts conn;
static const char *o_db, *o_repo, *o_chunk, *o_lock, *o_rfile, *o_policy, *o_reason, *o_database;
static const char *o_from, *o_to;
static int o_jobs, o_level, o_noenc, o_prune, o_noprune, o_dry;
static struct bs_strlist o_recipients;

#define FILTER_HELP "only snapshots of this source database (the name 'snap list' shows)"
#define NO_CONN BS_OPTS_NO_CONN("select the snapshots of one database with --database NAME")
#define OPT_REPO { BS_OPT_STR, 'r', "repo", &o_repo, "DIR", "repository (default: $BACKSTOP_REPO or 'repository:')", 0, 0 }
#define OPT_DATABASE(help) { BS_OPT_STR, 0, "database", &o_database, "NAME", help, 0, 0 }
#define OPT_END { BS_OPT_END, 0, NULL, NULL, NULL, NULL, 0, 0 }

static const struct bs_opt snap_opts[] = {
	BS_OPTS_COMMON(&co),
	{ BS_OPT_FLAG, 0, "json", &co.json, NULL, "print the result as one JSON document on stdout", 0, 0 },
	{ BS_OPT_GROUP, 0, NULL, NULL, NULL, "what to back up and where", 0, 0 },
	BS_OPTS_CONN(&conn, "database to back up: a name or a connection string (key=value or URI), as "
			    "pg_dump -d takes it (default: 'database:' or the PG* variables)"),
	{ BS_OPT_STR, 0, "db", &o_db, "CONNINFO", "the same as -d/--dbname", 0, 0 },
	OPT_REPO,
	{ BS_OPT_INT, 'j', "jobs", &o_jobs, "N", "parallel COPY connections (default: planned, see docs/cli.md)", 1, 64 },
	{ BS_OPT_INT, 0, "compress-level", &o_level, "N", "zstd level 1..19 (default 3)", 1, 19 },
	{ BS_OPT_STR, 0, "chunk-size", &o_chunk, "SIZE", "uncompressed bytes per data chunk (default 8MiB)", 0, 0 },
	{ BS_OPT_STR, 0, "lock-timeout", &o_lock, "DURATION", "how long to wait for table locks (default 30s)", 0, 0 },
	{ BS_OPT_GROUP, 0, NULL, NULL, NULL, "encryption", 0, 0 },
	{ BS_OPT_LIST, 0, "recipient", &o_recipients, "AGE1...", "encrypt to this age public key (repeatable; adds to the config's)", 0, 0 },
	{ BS_OPT_STR, 0, "recipients-file", &o_rfile, "FILE", "encrypt to the age public keys in FILE", 0, 0 },
	{ BS_OPT_FLAG, 0, "no-encryption", &o_noenc, NULL, "write the archive unencrypted (logged as a warning)", 0, 0 },
	{ BS_OPT_GROUP, 0, NULL, NULL, NULL, "retention", 0, 0 },
	{ BS_OPT_FLAG, 0, "prune", &o_prune, NULL, "after a successful snap, prune this database's snapshots by the retention policy (checked before the snap starts)", 0, 0 },
	{ BS_OPT_FLAG, 0, "no-prune", &o_noprune, NULL, "do not prune, even if the configuration says snap.prune: true", 0, 0 },
	{ BS_OPT_STR, 0, "policy", &o_policy, "FILE", "retention policy file for --prune (default: 'retention:')", 0, 0 },
	OPT_END,
};

static const struct bs_cmd_spec snap_spec = {
	"snap",
	"snap [-d DBNAME|CONNINFO] [-h HOST] [-p PORT] [-U USER] [--repo DIR] [--jobs N] [--prune] [options]\n"
	"snap list|show|prune|pin|unpin|copy ...",
	"Take a consistent logical snapshot of one PostgreSQL database: schema through pg_dump,\n"
	"data through parallel COPY workers sharing one exported snapshot, in zstd chunks,\n"
	"encrypted with age, written to the repository and committed atomically.\n"
	"Prints the new snapshot id on stdout (with --json, one JSON document); logs and the\n"
	"prune report go to stderr.  The repository must exist: 'backstop repo init' creates it.",
	snap_opts,
	"subcommands (each has its own --help):\n"
	"  snap list [--database NAME] [--json]         snapshots in the repository\n"
	"  snap show ID|latest [--json]                 everything the catalog knows about one\n"
	"  snap prune [--dry-run] [--policy FILE]       apply the retention policy, per database\n"
	"  snap pin ID|latest [--reason TEXT]           never prune this snapshot\n"
	"  snap unpin ID|latest\n"
	"  snap copy ID --to REPO [--from REPO]         copy a snapshot to another repository\n"
	"An ID may be abbreviated to a unique prefix of at least 8 characters.\n",
	"exit codes: 0 success, 2 usage/configuration error or refused, 3 runtime failure\n"
	"            (server, I/O, crypto), 4 with several repositories: committed to the\n"
	"            primary, not copied to every other one\n",
};

static const struct bs_opt list_opts[] = {
	BS_OPTS_COMMON(&co),
	{ BS_OPT_FLAG, 0, "json", &co.json, NULL, "print JSON: {\"snapshots\": [...]}", 0, 0 },
	OPT_REPO,
	OPT_DATABASE(FILTER_HELP),
	{ BS_OPT_STR, 0, "policy", &o_policy, "FILE", "retention policy: show which rules keep each snapshot (default: 'retention:')", 0, 0 },
	NO_CONN,
	OPT_END,
};

static const struct bs_opt show_opts[] = {
	BS_OPTS_COMMON(&co),
	{ BS_OPT_FLAG, 0, "json", &co.json, NULL, "print the record as JSON", 0, 0 },
	OPT_REPO,
	OPT_DATABASE("with latest: the newest snapshot of this source database"),
	{ BS_OPT_STR, 0, "policy", &o_policy, "FILE", "retention policy: show which rules keep it (default: 'retention:')", 0, 0 },
	NO_CONN,
	OPT_END,
};

static const struct bs_opt prune_opts[] = {
	BS_OPTS_COMMON(&co),
	{ BS_OPT_FLAG, 0, "json", &co.json, NULL, "print the decisions as JSON", 0, 0 },
	OPT_REPO,
	OPT_DATABASE("prune only the snapshots of this source database"),
	{ BS_OPT_STR, 0, "policy", &o_policy, "FILE", "retention policy file (default: 'retention:')", 0, 0 },
	{ BS_OPT_FLAG, 'n', "dry-run", &o_dry, NULL, "show what would be deleted and why, delete nothing", 0, 0 },
	NO_CONN,
	OPT_END,
};

static const struct bs_opt pin_opts[] = {
	BS_OPTS_COMMON(&co),
	OPT_REPO,
	OPT_DATABASE("with latest: the newest snapshot of this source database"),
	{ BS_OPT_STR, 0, "reason", &o_reason, "TEXT", "why the snapshot is pinned (shown by list and show)", 0, 0 },
	NO_CONN,
	OPT_END,
};

static const struct bs_opt unpin_opts[] = {
	BS_OPTS_COMMON(&co),
	OPT_REPO,
	OPT_DATABASE("with latest: the newest snapshot of this source database"),
	NO_CONN,
	OPT_END,
};

static const struct bs_opt copy_opts[] = {
	BS_OPTS_COMMON(&co),
	{ BS_OPT_STR, 0, "from", &o_from, "REPO", "the repository to copy from: a name of 'repositories:', a path or a URL (default: the primary)", 0, 0 },
	{ BS_OPT_STR, 0, "to", &o_to, "REPO", "the repository to copy to: a name, a path or a URL (required)", 0, 0 },
	OPT_DATABASE("with latest: the newest snapshot of this source database"),
	NO_CONN,
	OPT_END,
};

static const char id_note[] = "An ID may be abbreviated to a unique prefix of at least 8 characters;\n"
			      "'latest' is the newest snapshot (of --database NAME when the repository\n"
			      "holds several databases).\n";

static const struct bs_cmd_spec list_spec = {
	"snap list", "snap list [--repo DIR] [--database NAME] [--policy FILE] [--json]",
	"List the snapshots in the repository, oldest first, with size, duration, encryption,\n"
	"pin and the newest drill's verdict.",
	list_opts, NULL, NULL,
};
static const struct bs_cmd_spec show_spec = {
	"snap show", "snap show ID|latest [--repo DIR] [--database NAME] [--json]",
	"Show everything the catalog knows about one snapshot.", show_opts, id_note, NULL,
};
static const struct bs_cmd_spec prune_spec = {
	"snap prune", "snap prune [--repo DIR] [--database NAME] [--policy FILE] [--dry-run] [--json]",
	"Apply the retention policy to each database's snapshots separately (a shared repository\n"
	"never trades one database's snapshots for another's) and remove orphans after a grace\n"
	"period.  Prints every decision with its reason.",
	prune_opts, NULL, NULL,
};
static const struct bs_cmd_spec pin_spec = {
	"snap pin", "snap pin ID|latest [--reason TEXT] [--repo DIR]",
	"Pin a snapshot: prune never deletes it.", pin_opts, id_note, NULL,
};
static const struct bs_cmd_spec copy_spec = {
	"snap copy", "snap copy ID|latest --to REPO [--from REPO] [--database NAME]",
	"Copy a snapshot to another repository byte for byte (an encrypted archive stays\n"
	"encrypted: nothing is decrypted).  The copy is checked against the snapshot's record\n"
	"(size and SHA-256) before its record is committed there; a snapshot already there\n"
	"is left alone.  REPO is a name of 'repositories:' in backstop.yaml, a path or a URL.",
	copy_opts, NULL, NULL,
};
static const struct bs_cmd_spec unpin_spec = {
	"snap unpin", "snap unpin ID|latest [--repo DIR]",
	"Remove a snapshot's pin.", unpin_opts, id_note, NULL,
};

/* ---- retention ---------------------------------------------------------- */

static int load_policy(const struct bs_config *cfg, struct bs_retention_policy *p, struct bs_err *err)
{
	if (o_policy)
		return bs_retention_policy_load(p, o_policy, err);
	if (cfg->repo.retention) /* the chosen entry of 'repositories:' has its own */
		return bs_retention_policy_load(p, cfg->repo.retention, err);
	if (cfg->has_retention) {
		*p = cfg->retention;
		return bs_retention_policy_validate(p, err);
	}
	bs_err_set(err, BS_ERR_CONFIG, "no retention policy configured");
	bs_err_hint(err, "pass --policy FILE (e.g. /usr/local/share/backstop/policies/retention.yaml) "
			 "or add 'retention:' to backstop.yaml");
	return -1;
}

/* ---- verbs --------------------------------------------------------------- */

static int verb_args(const struct bs_verb *v, const struct bs_strlist *pos)
{
	int needs_id = v->spec != &list_spec && v->spec != &prune_spec;

	if (needs_id && pos->n != 1)
		return bs_opts_fail(v->spec, pos->n ? "unexpected argument '%s'"
						    : "expected one snapshot id (or 'latest')",
				    pos->n ? pos->v[1] : "");
	if (!needs_id && pos->n != 0)
		return bs_opts_fail(v->spec, "unexpected argument '%s'", pos->v[0]);
	return 0;
}

/* snap list (spec NULL) or snap show SPEC: load, then render to stdout. */
static int list_verb(struct bs_repo *repo, const char *spec, const char *database,
		     const struct bs_retention_policy *policy, struct bs_err *err)
{
	struct bs_snap_listing l;
	int rc;

	if (!spec)
		rc = bs_cmd_snap_list(repo, database, policy, &l, err);
	else
		rc = bs_cmd_snap_show(repo, spec, database, policy, &l, err);
	if (rc < 0)
		return -1;
	if (!spec)
		rc = bs_snap_list_write(&l, database, bs_repo_location(repo), co.json, stdout, err);
	else
		rc = bs_snap_show_write(&l, bs_repo_location(repo), co.json, stdout, err);
	bs_snap_listing_release(&l);
	return rc;
}

static int pin_verb(struct bs_repo *repo, const char *spec, int pin, struct bs_err *err)
{
	struct bs_catalog cat;
	const struct bs_snap_record *r;
	int rc;

	if (bs_catalog_load(repo, o_database, &cat, err) < 0)
		return -1;
	r = bs_catalog_find(&cat, spec, 0, err);
	rc = !r ? -1 : pin ? bs_catalog_pin(repo, r->id, o_reason, err) : bs_catalog_unpin(repo, r->id, err);
	if (rc == 0)
		printf("%s %s\n", r->id, pin ? "pinned" : "unpinned");
	bs_catalog_release(&cat);
	return rc;
}

/* After a prune that deleted for real: metrics (a failure is only a warning). */
static void prune_metrics(const struct bs_config *cfg, const char *database, const json_t *doc, int ok,
			  double t0)
{
	struct bs_err e;

	bs_err_init(&e);
	if (bs_cmd_metrics_prune(cfg, database, (size_t)json_integer_value(json_object_get(doc, "kept")),
				 (size_t)json_integer_value(json_object_get(doc, "deleted")), ok, bs_now() - t0,
				 &e) < 0)
		bs_warn("%s", e.msg);
}

static int prune_verb(const struct bs_config *cfg, struct bs_repo *repo, struct bs_err *err)
{
	struct bs_retention_policy pol;
	struct bs_prune_request rq;
	json_t *doc = NULL;
	double t0;
	int rc;

	if (load_policy(cfg, &pol, err) < 0)
		return -1;
	memset(&rq, 0, sizeof(rq));
	rq.policy = &pol;
	rq.database = o_database;
	rq.dry_run = o_dry;
	rq.lock_wait_ms = (int)cfg->snap.lock_timeout_ms;
	t0 = bs_now();
	rc = bs_cmd_prune(repo, &rq, &doc, err);
	if (!o_dry)
		prune_metrics(cfg, o_database, doc, rc == 0, t0);
	if (rc == 0) {
		if (co.json) {
			bs_json_doc_write(json_incref(doc), stdout);
		} else {
			bs_prune_print_text(doc, stdout);
		}
	}
	json_decref(doc);
	return rc;
}

/* snap copy ID --to REPO: from is open (the primary, or --from). */
static int copy_verb(struct bs_config *cfg, struct bs_repo *from, const char *spec, struct bs_err *err)
{
	struct bs_copy_result res;
	struct bs_repo *to = NULL;
	int rc;

	if (!o_to)
		return bs_err_set(err, BS_ERR_USAGE, "snap copy needs --to REPO (a name of 'repositories:', a path or a URL)");
	if (bs_cmd_repo_choose(cfg, o_to, err) < 0 || bs_cmd_repo_open(cfg, &to, err) < 0)
		return -1;
	if (strcmp(bs_repo_location(from), bs_repo_location(to)) == 0) {
		bs_repo_close(to);
		return bs_err_set(err, BS_ERR_USAGE, "--from and --to are the same repository ('%s')", bs_repo_location(to));
	}
	rc = bs_snap_copy(from, to, spec, o_database, &res, err);
	if (rc == 0)
		printf("%s %s %s\n", res.id, res.already ? "already in" : "copied to", bs_repo_location(to));
	bs_repo_close(to);
	return rc;
}

static int verb_main(const struct bs_verb *v, int argc, char **argv)
{
	struct bs_config cfg;
	struct bs_strlist pos = { 0 };
	struct bs_repo *repo = NULL;
	struct bs_err err;
	int rc = 0;

	bs_err_init(&err);
	bs_config_init(&cfg);
	if (bs_opts_parse(v->spec, argc, argv, &pos, &err) < 0) {
		rc = bs_cmd_error(v->spec, &err);
		goto out;
	}
	if (bs_opts_common(v->spec, &co) || (rc = verb_args(v, &pos)) != 0)
		goto out;
	if (bs_cmd_database_name(o_database, &err) < 0 ||
	    bs_cmd_config(&cfg, co.config, co.quiet, co.verbose, &err) < 0 ||
	    bs_cmd_repo_choose(&cfg, v->spec == &copy_spec ? o_from : o_repo, &err) < 0 ||
	    bs_cmd_repo_open(&cfg, &repo, &err) < 0) {
		rc = bs_cmd_error(v->spec, &err);
		goto out;
	}
	if (v->spec == &list_spec || v->spec == &show_spec) {
		struct bs_retention_policy pol;
		struct bs_err perr;
		int have;
		bs_err_init(&perr);
		/* an explicit --policy must load; the configured one is a bonus */
		have = load_policy(&cfg, &pol, o_policy ? &err : &perr) == 0;
		if (o_policy && !have)
			rc = -1;
		else
			rc = list_verb(repo, v->spec == &list_spec ? NULL : pos.v[0], o_database, have ? &pol : NULL,
				       &err);
	} else if (v->spec == &prune_spec) {
		rc = prune_verb(&cfg, repo, &err);
	} else if (v->spec == &copy_spec) {
		rc = copy_verb(&cfg, repo, pos.v[0], &err);
	} else {
		rc = pin_verb(repo, pos.v[0], v->spec == &pin_spec, &err);
	}
	rc = rc < 0 ? bs_cmd_error(v->spec, &err) : bs_stdout_close(v->spec);
out:
	bs_repo_close(repo);
	bs_config_release(&cfg);
	bs_strlist_release(&pos);
	return rc;
}

static const struct bs_verb verbs[] = {
	{ "list", verb_main, &list_spec },
	{ "show", verb_main, &show_spec },
	{ "prune", verb_main, &prune_spec },
	{ "pin", verb_main, &pin_spec },
	{ "unpin", verb_main, &unpin_spec },
	{ "copy", verb_main, &copy_spec },
	{ NULL, NULL, NULL },
};

/* ---- snap ---------------------------------------------------------------- */

static int apply_flags(struct bs_config *cfg, struct bs_err *err)
{
	if (o_db && conn.dbname)
		return bs_err_set(err, BS_ERR_USAGE, "--db and -d/--dbname are the same option; give one");
	if (o_db && bs_cmd_no_password("--db", o_db, err) < 0)
		return -1;
	if (o_db)
		conn.dbname = o_db;
	if (bs_cmd_conninfo(&cfg->database, &conn, "source database", err) < 0 ||
	    bs_cmd_repo_choose(cfg, o_repo, err) < 0)
		return -1;
	if (o_jobs)
		cfg->snap.jobs = o_jobs;
	if (o_level)
		cfg->snap.compress_level = o_level;
	if (o_chunk && bs_size_parse(o_chunk, &cfg->snap.chunk_size, err) < 0)
		return bs_err_set(err, BS_ERR_USAGE, "invalid value '%s' for --chunk-size", o_chunk);
	if (o_chunk && (cfg->snap.chunk_size < BS_CONFIG_CHUNK_SIZE_MIN ||
			cfg->snap.chunk_size > BS_CONFIG_CHUNK_SIZE_MAX))
		return bs_err_set(err, BS_ERR_USAGE, "--chunk-size must be between 64KiB and 256MiB");
	if (o_lock) {
		int64_t s;
		if (bs_duration_parse(o_lock, &s, err) < 0)
			return bs_err_set(err, BS_ERR_USAGE, "invalid value '%s' for --lock-timeout", o_lock);
		cfg->snap.lock_timeout_ms = s * 1000;
	}
	if (o_prune && o_noprune)
		return bs_err_set(err, BS_ERR_USAGE, "--prune and --no-prune exclude each other");
	if (o_prune)
		cfg->snap.prune = 1;
	if (o_noprune)
		cfg->snap.prune = 0;
	if (o_policy && !cfg->snap.prune)
		return bs_err_set(err, BS_ERR_USAGE, "--policy applies to pruning: add --prune (or use 'snap prune')");
	return 0;
}

/* Prune this database's snapshots after a successful snap.  The snapshot
 * just taken, and any that finished while this snap ran (a concurrent
 * snap's, whose id that snap has printed), are never deleted. */
static int prune_after(const struct bs_config *cfg, const struct bs_retention_policy *pol,
		       const struct bs_snap_outcome *out, json_t **doc, struct bs_err *err)
{
	struct bs_prune_request rq;
	struct bs_repo *repo = NULL;
	double t0 = bs_now();
	int rc;

	memset(&rq, 0, sizeof(rq));
	rq.policy = pol;
	rq.database = out->rec.database;
	rq.lock_wait_ms = (int)cfg->snap.lock_timeout_ms;
	rq.protect_id = out->rec.id;
	rq.protect_since = out->rec.start;
	rc = bs_cmd_repo_open(cfg, &repo, err);
	if (rc == 0)
		rc = bs_cmd_prune(repo, &rq, doc, err);
	bs_repo_close(repo);
	prune_metrics(cfg, out->rec.database, *doc, rc == 0, t0);
	if (rc < 0)
		bs_err_prefix(err, "snapshot %s was taken, but pruning failed", out->rec.id);
	return rc;
}

static void print_outcome(const struct bs_snap_outcome *o, json_t *prune_doc)
{
	bs_info("snapshot %s of '%s' complete: %llu tables, %llu rows, %.1f MiB raw -> %.1f MiB stored in %.1fs",
		o->rec.id, o->rec.database, (unsigned long long)o->rec.tables,
		(unsigned long long)o->rows, (double)o->raw_bytes / 1048576.0,
		(double)o->rec.bytes / 1048576.0, o->seconds);
	if (co.json) {
		json_t *j = bs_snap_record_json(&o->rec);
		json_object_set_new(j, "rows", json_integer((json_int_t)o->rows));
		json_object_set_new(j, "raw_bytes", json_integer((json_int_t)o->raw_bytes));
		json_object_set(j, "prune", prune_doc ? prune_doc : json_null());
		bs_json_doc_write(j, stdout);
		return;
	}
	if (prune_doc && !co.quiet)
		bs_prune_print_text(prune_doc, stderr);
	printf("%s\n", o->rec.id);
}

static struct bs_snap_guard guard;

/* Clean-up step (common/sigwatch): the guard removes the unfinished
 * archive, runs the on_failure hook and writes the metrics; then one line
 * on stderr (also under --quiet) says what was left. */
static void on_interrupt(int sig, void *ud)
{
	const char *name = bs_signame(sig);
	struct bs_err err;
	int rc;

	(void)ud;
	bs_err_init(&err);
	rc = bs_snap_guard_abort(&guard, sig, &err);
	if (rc < 0)
		bs_log(BS_LOG_ERROR, "%s", err.msg);
	if (rc == BS_SNAP_ABORT_COMMITTED)
		bs_log(BS_LOG_ERROR, "interrupted by %s after snapshot %s was committed; the steps after it did not run",
		       name, guard.id);
	else
		bs_log(BS_LOG_ERROR, "interrupted by %s: snapshot abandoned, nothing committed", name);
}

static int unknown_verb(const char *word)
{
	const char *names[] = { "list", "show", "prune", "pin", "unpin", "copy", NULL };
	const char *guess = bs_did_you_mean(word, names);

	if (guess)
		return bs_opts_fail(&snap_spec, "unknown subcommand '%s'; did you mean '%s'?", word, guess);
	return bs_opts_fail(&snap_spec, "unknown subcommand '%s' (list, show, prune, pin, unpin, copy)", word);
}

int main(int argc, char **argv)
{
	struct bs_config cfg;
	struct bs_strlist pos = { 0 };
	struct bs_snap_request rq;
	struct bs_snap_outcome out;
	struct bs_retention_policy pol;
	struct bs_err err;
	json_t *prune_doc = NULL;
	struct bs_err ferr;
	int rc = 0, missing = 0;

	bs_log_set_prog("backstop snap");
	bs_err_init(&ferr);
	if (bs_verbs_dispatch(verbs, argc, argv, &rc))
		return rc;
	bs_err_init(&err);
	bs_config_init(&cfg);
	memset(&out, 0, sizeof(out));
	bs_snap_guard_init(&guard);
	if (bs_sigwatch_start(&err) < 0 || bs_sigwatch_on(on_interrupt, NULL, BS_SIGWATCH_REPORTS, &err) < 0) {
		rc = bs_cmd_error(&snap_spec, &err);
		goto done;
	}
	if (bs_opts_parse(&snap_spec, argc, argv, &pos, &err) < 0) {
		rc = bs_cmd_error(&snap_spec, &err);
		goto done;
	}
	if (bs_opts_common(&snap_spec, &co))
		goto done;
	if (pos.n > 0) {
		rc = unknown_verb(pos.v[0]);
		goto done;
	}
	/* everything that can be checked before the backup is checked first */
	if (bs_cmd_config(&cfg, co.config, co.quiet, co.verbose, &err) < 0 ||
	    apply_flags(&cfg, &err) < 0 || (cfg.snap.prune && load_policy(&cfg, &pol, &err) < 0)) {
		rc = bs_cmd_error(&snap_spec, &err);
		goto done;
	}
	memset(&rq, 0, sizeof(rq));
	rq.cfg = &cfg;
	rq.recipients = o_recipients.v;
	rq.recipients_file = o_rfile;
	rq.no_encryption = o_noenc;
	rq.progress = !co.quiet && !co.json;
	rq.guard = &guard;
	if (bs_cmd_snap(&rq, &out, &err) < 0) {
		bs_sigwatch_settle(); /* interrupted: the watcher ends the process */
		rc = bs_cmd_error(&snap_spec, &err);
		goto done;
	}
	/* every other repository of 'repositories:' gets a copy, unless --repo
	 * or BACKSTOP_REPO chose one */
	missing = bs_cmd_snap_fan_out(&cfg, out.rec.id, &ferr);
	if (cfg.snap.prune && prune_after(&cfg, &pol, &out, &prune_doc, &err) < 0)
		rc = bs_cmd_error(&snap_spec, &err);
	/* the snapshot exists even when pruning failed: its id is the result */
	print_outcome(&out, prune_doc);
	if (rc == 0)
		rc = bs_stdout_close(&snap_spec);
	if (rc == 0 && missing) {
		bs_log(BS_LOG_ERROR, "snapshot %s is in repository '%s' but not in %d of the %zu others (above); "
		       "copy it later with 'backstop snap copy %s --to NAME'", out.rec.id,
		       cfg.repos[cfg.selected_repo].name, missing, cfg.nrepos - 1, out.rec.id);
		rc = BS_EXIT_PARTIAL;
	}
done:
	bs_sigwatch_settle(); /* the watcher may be using cfg */
	json_decref(prune_doc);
	bs_snap_outcome_release(&out);
	bs_config_release(&cfg);
	bs_strlist_release(&pos);
	bs_strlist_release(&o_recipients);
	return rc;
}
