/*
 * backstop-snap - take a snapshot; list, show, prune, pin and unpin them.
 * Thin: options -> request -> lib/command -> exit code.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "command/command.h"
#include "common/duration.h"
#include "common/log.h"
#include "common/opts.h"
#include "config/bind.h"
#include "config/policy_file.h"

static struct bs_common_opts co;
static const char *o_db, *o_repo, *o_chunk, *o_lock, *o_rfile, *o_policy, *o_reason;
static int o_jobs, o_level, o_noenc, o_prune, o_dry;
static struct bs_strlist o_recipients;

static const struct bs_opt snap_opts[] = {
	BS_OPTS_COMMON(&co),
	{ BS_OPT_FLAG, 0, "json", &co.json, NULL, "print the result as JSON on stdout", 0, 0 },
	{ BS_OPT_GROUP, 0, NULL, NULL, NULL, "what to back up and where", 0, 0 },
	{ BS_OPT_STR, 'd', "db", &o_db, "CONNINFO", "database (libpq conninfo or URI; default: 'database:' or PG* variables)", 0, 0 },
	{ BS_OPT_STR, 'r', "repo", &o_repo, "DIR", "repository (default: $BACKSTOP_REPO or 'repository:')", 0, 0 },
	{ BS_OPT_INT, 'j', "jobs", &o_jobs, "N", "parallel COPY connections (default: number of cores)", 1, 64 },
	{ BS_OPT_INT, 0, "compress-level", &o_level, "N", "zstd level 1..19 (default 3)", 1, 19 },
	{ BS_OPT_STR, 0, "chunk-size", &o_chunk, "SIZE", "uncompressed bytes per data chunk (default 8MiB)", 0, 0 },
	{ BS_OPT_STR, 0, "lock-timeout", &o_lock, "DURATION", "how long to wait for table locks (default 30s)", 0, 0 },
	{ BS_OPT_GROUP, 0, NULL, NULL, NULL, "encryption", 0, 0 },
	{ BS_OPT_LIST, 0, "recipient", &o_recipients, "AGE1...", "encrypt to this age public key (repeatable; adds to the config's)", 0, 0 },
	{ BS_OPT_STR, 0, "recipients-file", &o_rfile, "FILE", "encrypt to the age public keys in FILE", 0, 0 },
	{ BS_OPT_FLAG, 0, "no-encryption", &o_noenc, NULL, "write the archive unencrypted (logged as a warning)", 0, 0 },
	{ BS_OPT_GROUP, 0, NULL, NULL, NULL, "retention", 0, 0 },
	{ BS_OPT_FLAG, 0, "prune", &o_prune, NULL, "after a successful snap, prune by the retention policy", 0, 0 },
	{ BS_OPT_STR, 0, "policy", &o_policy, "FILE", "retention policy file for --prune", 0, 0 },
	{ BS_OPT_END, 0, NULL, NULL, NULL, NULL, 0, 0 },
};

static const struct bs_cmd_spec snap_spec = {
	"snap",
	"snap [--db CONNINFO] [--repo DIR] [--jobs N] [--prune] [options]\n"
	"snap list|show|prune|pin|unpin ...",
	"Take a consistent logical snapshot of one PostgreSQL database: schema through pg_dump,\n"
	"data through parallel COPY workers sharing one exported snapshot, in zstd chunks,\n"
	"encrypted with age, written to the repository and committed atomically.\n"
	"Prints the new snapshot id on stdout.",
	snap_opts,
	"subcommands:\n"
	"  snap list [--db NAME] [--json]          snapshots in the repository\n"
	"  snap show ID|latest [--json]            everything the catalog knows about one\n"
	"  snap prune [--dry-run] [--policy FILE]  apply the retention policy\n"
	"  snap pin ID [--reason TEXT]             never prune this snapshot\n"
	"  snap unpin ID\n",
};

static const struct bs_opt list_opts[] = {
	BS_OPTS_COMMON(&co),
	{ BS_OPT_FLAG, 0, "json", &co.json, NULL, "print JSON: {\"snapshots\": [...]}", 0, 0 },
	{ BS_OPT_STR, 'r', "repo", &o_repo, "DIR", "repository", 0, 0 },
	{ BS_OPT_STR, 'd', "db", &o_db, "NAME", "only snapshots of this database (name, not conninfo)", 0, 0 },
	{ BS_OPT_STR, 0, "policy", &o_policy, "FILE", "retention policy (prune)", 0, 0 },
	{ BS_OPT_FLAG, 'n', "dry-run", &o_dry, NULL, "show what prune would delete and why, delete nothing", 0, 0 },
	{ BS_OPT_STR, 0, "reason", &o_reason, "TEXT", "why the snapshot is pinned (pin)", 0, 0 },
	{ BS_OPT_END, 0, NULL, NULL, NULL, NULL, 0, 0 },
};

static struct bs_cmd_spec verb_spec = { NULL, NULL, NULL, list_opts, NULL };

static int apply_flags(struct bs_config *cfg, struct bs_err *err)
{
	if (bs_cmd_no_password("--db", o_db, err) < 0 || bs_cmd_override(&cfg->database, o_db, err) < 0 ||
	    bs_cmd_override(&cfg->repository, o_repo, err) < 0)
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
	if (o_prune)
		cfg->snap.prune = 1;
	return 0;
}

static int load_policy(struct bs_config *cfg, struct bs_retention_policy *p, struct bs_err *err)
{
	if (o_policy)
		return bs_retention_policy_load(p, o_policy, err);
	if (cfg->has_retention) {
		*p = cfg->retention;
		return 0;
	}
	bs_err_set(err, BS_ERR_CONFIG, "no retention policy configured");
	bs_err_hint(err, "pass --policy FILE (e.g. /usr/local/share/backstop/policies/retention.yaml) "
			 "or add 'retention:' to backstop.yaml");
	return -1;
}

static int do_prune(struct bs_config *cfg, struct bs_repo *repo, const char *database, int dry,
		    struct bs_err *err)
{
	struct bs_retention_policy pol;
	struct bs_prune_request rq;

	if (load_policy(cfg, &pol, err) < 0)
		return -1;
	memset(&rq, 0, sizeof(rq));
	rq.policy = &pol;
	rq.database = database;
	rq.dry_run = dry;
	rq.json = co.json;
	rq.lock_wait_ms = (int)cfg->snap.lock_timeout_ms;
	return bs_cmd_prune(repo, &rq, stdout, err);
}

static int verb_main(const char *verb, int argc, char **argv)
{
	static char name[32];
	struct bs_config cfg;
	struct bs_strlist pos = { 0 };
	struct bs_repo *repo = NULL;
	struct bs_err err;
	int rc = 0, needs_id = strcmp(verb, "show") == 0 || strcmp(verb, "pin") == 0 ||
			       strcmp(verb, "unpin") == 0;

	snprintf(name, sizeof(name), "snap %s", verb);
	verb_spec.name = name;
	verb_spec.synopsis = strcmp(verb, "list") == 0	  ? "snap list [--repo DIR] [--db NAME] [--json]"
			     : strcmp(verb, "show") == 0  ? "snap show ID|latest [--repo DIR] [--json]"
			     : strcmp(verb, "prune") == 0 ? "snap prune [--repo DIR] [--policy FILE] [--dry-run] [--json]"
			     : strcmp(verb, "pin") == 0	  ? "snap pin ID [--reason TEXT] [--repo DIR]"
							  : "snap unpin ID [--repo DIR]";
	bs_err_init(&err);
	bs_config_init(&cfg);
	if (bs_opts_parse(&verb_spec, argc, argv, &pos, &err) < 0) {
		rc = bs_cmd_error(&verb_spec, &err);
		goto out;
	}
	if (bs_opts_common(&verb_spec, &co))
		goto out;
	if (needs_id && pos.n != 1) {
		rc = bs_opts_fail(&verb_spec, "expected one snapshot id (or 'latest')");
		goto out;
	}
	if (!needs_id && pos.n != 0) {
		rc = bs_opts_fail(&verb_spec, "unexpected argument '%s'", pos.v[0]);
		goto out;
	}
	if (bs_cmd_config(&cfg, co.config, co.quiet, co.verbose, &err) < 0 ||
	    bs_cmd_override(&cfg.repository, o_repo, &err) < 0 ||
	    bs_repo_open(cfg.repository, 0, &repo, &err) < 0) {
		rc = bs_cmd_error(&verb_spec, &err);
		goto out;
	}
	if (strcmp(verb, "list") == 0) {
		struct bs_retention_policy pol;
		struct bs_err perr;
		int have;
		bs_err_init(&perr);
		have = load_policy(&cfg, &pol, o_policy ? &err : &perr) == 0;
		rc = o_policy && !have ? -1
				       : bs_cmd_snap_list(repo, o_db, have ? &pol : NULL, co.json, stdout, &err);
	}
	else if (strcmp(verb, "show") == 0)
		rc = bs_cmd_snap_show(repo, pos.v[0], co.json, stdout, &err);
	else if (strcmp(verb, "prune") == 0)
		rc = do_prune(&cfg, repo, o_db, o_dry, &err);
	else {
		struct bs_catalog cat;
		const struct bs_snap_record *r;
		rc = bs_catalog_load(repo, NULL, &cat, &err);
		if (rc == 0) {
			r = bs_catalog_find(&cat, pos.v[0], 0, &err);
			if (!r)
				rc = -1;
			else if (strcmp(verb, "pin") == 0)
				rc = bs_catalog_pin(repo, r->id, o_reason, &err);
			else
				rc = bs_catalog_unpin(repo, r->id, &err);
			if (rc == 0)
				printf("%s %s\n", r->id, strcmp(verb, "pin") == 0 ? "pinned" : "unpinned");
			bs_catalog_release(&cat);
		}
	}
	rc = rc < 0 ? bs_cmd_error(&verb_spec, &err) : bs_stdout_close(&verb_spec);
out:
	bs_repo_close(repo);
	bs_config_release(&cfg);
	bs_strlist_release(&pos);
	return rc;
}

static void print_outcome(const struct bs_snap_outcome *o)
{
	if (co.json) {
		json_t *j = bs_snap_record_json(&o->rec);
		json_object_set_new(j, "rows", json_integer((json_int_t)o->rows));
		json_object_set_new(j, "raw_bytes", json_integer((json_int_t)o->raw_bytes));
		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(j);
		return;
	}
	printf("%s\n", o->rec.id);
	bs_info("snapshot %s of '%s' complete: %llu tables, %llu rows, %.1f MiB raw -> %.1f MiB stored in %.1fs",
		o->rec.id, o->rec.database, (unsigned long long)o->rec.tables,
		(unsigned long long)o->rows, (double)o->raw_bytes / 1048576.0,
		(double)o->rec.bytes / 1048576.0, o->seconds);
}

int main(int argc, char **argv)
{
	static const char *verbs[] = { "list", "show", "prune", "pin", "unpin" };
	struct bs_config cfg;
	struct bs_strlist pos = { 0 };
	struct bs_snap_request rq;
	struct bs_snap_outcome out;
	struct bs_err err;
	size_t i;
	int rc = 0;

	bs_log_set_prog("backstop snap");
	if (argc > 1)
		for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
			if (strcmp(argv[1], verbs[i]) == 0)
				return verb_main(verbs[i], argc - 1, argv + 1);

	bs_err_init(&err);
	bs_config_init(&cfg);
	memset(&out, 0, sizeof(out));
	if (bs_opts_parse(&snap_spec, argc, argv, &pos, &err) < 0) {
		rc = bs_cmd_error(&snap_spec, &err);
		goto done;
	}
	if (bs_opts_common(&snap_spec, &co))
		goto done;
	if (pos.n > 0) {
		rc = bs_opts_fail(&snap_spec, "unknown subcommand '%s'", pos.v[0]);
		goto done;
	}
	if (bs_cmd_config(&cfg, co.config, co.quiet, co.verbose, &err) < 0 ||
	    apply_flags(&cfg, &err) < 0) {
		rc = bs_cmd_error(&snap_spec, &err);
		goto done;
	}
	memset(&rq, 0, sizeof(rq));
	rq.cfg = &cfg;
	rq.recipients = o_recipients.v;
	rq.recipients_file = o_rfile;
	rq.no_encryption = o_noenc;
	rq.progress = !co.quiet && !co.json;
	if (bs_cmd_snap(&rq, &out, &err) < 0) {
		rc = bs_cmd_error(&snap_spec, &err);
		goto done;
	}
	print_outcome(&out);
	/* prune only after a successful snap */
	if (cfg.snap.prune) {
		struct bs_repo *repo = NULL;
		if (bs_repo_open(cfg.repository, 0, &repo, &err) < 0 ||
		    do_prune(&cfg, repo, out.rec.database, 0, &err) < 0) {
			bs_err_prefix(&err, "snapshot %s was taken, but pruning failed", out.rec.id);
			rc = bs_cmd_error(&snap_spec, &err);
		}
		bs_repo_close(repo);
	}
	if (rc == 0)
		rc = bs_stdout_close(&snap_spec);
done:
	bs_snap_outcome_release(&out);
	bs_config_release(&cfg);
	bs_strlist_release(&pos);
	bs_strlist_release(&o_recipients);
	return rc;
}
