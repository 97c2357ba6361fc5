/*
 * backstop-verify-restore - restore drills that prove a snapshot restores
 * and matches, with RTO and RPO on record; archive checks without a
 * database; the list of past drills.
 * Thin: options -> request -> lib/command/drill.c -> report -> exit code.
 *
 * Signals (common/sigwatch): on SIGINT/SIGTERM a watcher thread drops the
 * scratch database of the drill in progress (unless --keep) through the
 * drill guard and ends the process with 130/143, as restore does for a
 * database it created: the main thread may be blocked inside libpq or the
 * restore engine, and the scratch database must be gone before the
 * process is.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "command/drill.h"
#include "command/setup.h"
#include "common/duration.h"
#include "common/durable.h"
#include "common/log.h"
#include "common/opts.h"
#include "common/sigwatch.h"
#include "drill/drill.h"
#include "report/report.h"

static struct bs_common_opts co;
static struct bs_conn_opts conn;
static const char *o_repo, *o_scratch, *o_reverify, *o_policy, *o_junit, *o_identity, *o_grace, *o_database;
static int o_all, o_archive, o_keep, o_jobs;

#define REFUSE_D "the drill server is --scratch CONNINFO (or -h/-p/-U); select snapshots with --database NAME"

static const struct bs_opt opts[] = {
	BS_OPTS_COMMON(&co),
	{ BS_OPT_FLAG, 0, "json", &co.json, NULL, "print the report as JSON on stdout", 0, 0 },
	{ BS_OPT_STR, 0, "junit", &o_junit, "FILE", "also write a JUnit XML report (a test case per table) to FILE", 0, 0 },
	{ BS_OPT_GROUP, 0, NULL, NULL, NULL, "which snapshot", 0, 0 },
	{ BS_OPT_STR, 'r', "repo", &o_repo, "DIR", "repository (default: $BACKSTOP_REPO or 'repository:')", 0, 0 },
	{ BS_OPT_STR, 0, "database", &o_database, "NAME", "only snapshots of this source database (needed for latest when the repository holds several)", 0, 0 },
	{ BS_OPT_FLAG, 'a', "all", &o_all, NULL, "every snapshot in the repository, oldest first", 0, 0 },
	{ BS_OPT_STR, 'i', "identity", &o_identity, "FILE", "age identity file to decrypt (default: restore.identity_file, $BACKSTOP_IDENTITY_FILE)", 0, 0 },
	{ BS_OPT_GROUP, 0, NULL, NULL, NULL, "how", 0, 0 },
	{ BS_OPT_FLAG, 0, "archive-only", &o_archive, NULL, "no database: decrypt, decompress and check every chunk's rows and digest", 0, 0 },
	{ BS_OPT_STR, 0, "scratch", &o_scratch, "CONNINFO", "server for scratch databases, as a conninfo of its maintenance database (default: drill.scratch, $BACKSTOP_SCRATCH)", 0, 0 },
	{ BS_OPT_STR, 'h', "host", &conn.host, "HOST", "scratch server host or socket directory (overrides --scratch's)", 0, 0 },
	{ BS_OPT_STR, 'p', "port", &conn.port, "PORT", "scratch server port", 0, 0 },
	{ BS_OPT_STR, 'U', "username", &conn.user, "USER", "user on the scratch server (needs CREATEDB)", 0, 0 },
	{ BS_OPT_REFUSED, 'd', "dbname", NULL, NULL, REFUSE_D, 0, 0 },
	{ BS_OPT_REFUSED, 0, "db", NULL, NULL, REFUSE_D, 0, 0 },
	{ BS_OPT_FLAG, 'k', "keep", &o_keep, NULL, "leave the scratch database in place and print its name", 0, 0 },
	{ BS_OPT_STR, 0, "reverify", &o_reverify, "DBNAME", "verify a drill database kept with --keep against the snapshot, without restoring", 0, 0 },
	{ BS_OPT_STR, 0, "policy", &o_policy, "FILE", "drill policy: smoke queries and limits (default: drill.policy)", 0, 0 },
	{ BS_OPT_INT, 'j', "jobs", &o_jobs, "N", "parallel connections / threads (default: restore.jobs, else the CPUs this process may use, at most 16)", 1, 64 },
	{ BS_OPT_STR, 0, "stale-grace", &o_grace, "DURATION", "drop unlocked drill databases older than this (default: policy's stale_grace, else 60s)", 0, 0 },
	{ BS_OPT_END, 0, NULL, NULL, NULL, NULL, 0, 0 },
};

static const struct bs_cmd_spec spec = {
	"verify-restore",
	"verify-restore ID|latest [--scratch CONNINFO] [--keep] [--policy FILE] [--junit FILE] [--json]\n"
	"verify-restore ID|latest --archive-only\n"
	"verify-restore --all [--archive-only]\n"
	"verify-restore ID --reverify DBNAME --scratch CONNINFO\n"
	"verify-restore list [ID] [--json]",
	"Restore drill: create a scratch database on the drill server, restore the snapshot\n"
	"into it, recompute every table's row count and row digest, sequences, large objects\n"
	"and the schema inventory and compare them with the manifest, run the policy's smoke\n"
	"queries, measure RTO and RPO, drop the scratch database and record the drill in the\n"
	"catalog.  --archive-only checks the archive alone (decryption, zstd checksums, every\n"
	"chunk's rows and digest, complete and nothing extra) without a database.  An ID may be\n"
	"abbreviated to a unique prefix of at least 8 characters.  A drill that does not pass\n"
	"prints one line per failed drill on stderr, also under --quiet.",
	opts,
	"examples:\n"
	"  backstop verify-restore latest\n"
	"  backstop verify-restore 20261123T021500Z-3fa9c1 --scratch 'postgresql://drill@scratch-db/postgres' --keep\n"
	"  backstop verify-restore --all --archive-only\n"
	"  backstop verify-restore list --json\n",
	"exit codes: 0 the drill passed; 1 it found differences (all are reported); 2 usage or\n"
	"configuration error, or refused for safety; 3 the drill could not run (scratch server\n"
	"down, wrong key).\n",
};

static struct bs_common_opts list_co;
static const char *list_repo;
static const struct bs_opt list_opts[] = {
	BS_OPTS_COMMON(&list_co),
	{ BS_OPT_FLAG, 0, "json", &list_co.json, NULL, "print JSON: {\"drills\": [...]}", 0, 0 },
	{ BS_OPT_STR, 'r', "repo", &list_repo, "DIR", "repository (default: $BACKSTOP_REPO or 'repository:')", 0, 0 },
	BS_OPTS_NO_CONN("verify-restore list reads the repository only"),
	{ BS_OPT_END, 0, NULL, NULL, NULL, NULL, 0, 0 },
};

static const struct bs_cmd_spec list_spec = {
	"verify-restore list",
	"verify-restore list [ID] [--repo DIR] [--json]",
	"Past drills (of one snapshot if ID is given), oldest first: when, which snapshot,\n"
	"mode, verdict, RTO, RPO, number of findings.",
	list_opts,
	NULL,
	NULL,
};

/* ---- signals ---------------------------------------------------------------- */

static struct bs_drill_guard guard;
static struct bs_drill_current current;

/* Clean-up steps (common/sigwatch), newest first: the drill in progress
 * gets its hooks and metrics, then its scratch database is dropped (unless
 * --keep). */
static void on_interrupt_drill(int sig, void *ud)
{
	struct bs_err err;

	(void)ud;
	bs_err_init(&err);
	if (bs_cmd_drill_interrupted(&current, sig, &err) < 0)
		bs_log(BS_LOG_WARN, "%s", err.msg);
}

static void on_interrupt_scratch(int sig, void *ud)
{
	char name[64];
	struct bs_err err;
	int kept, rc;

	(void)sig;
	(void)ud;
	bs_err_init(&err);
	rc = bs_drill_guard_abort(&guard, name, &kept, &err);
	if (rc > 0)
		bs_log(BS_LOG_WARN, "dropped scratch database '%s'", name);
	else if (rc == 0 && kept)
		bs_log(BS_LOG_WARN, "kept scratch database '%s' (--keep)", name);
	else if (rc < 0)
		bs_log(BS_LOG_ERROR, "%s (the next drill removes it)", err.msg);
}

static int start_watcher(struct bs_err *err)
{
	bs_drill_guard_init(&guard);
	bs_drill_current_init(&current);
	if (bs_sigwatch_start(err) < 0 || bs_sigwatch_on(on_interrupt_scratch, NULL, 0, err) < 0 ||
	    bs_sigwatch_on(on_interrupt_drill, NULL, 0, err) < 0)
		return -1;
	return 0;
}

/* ---- output ------------------------------------------------------------------ */

static int fill_junit(FILE *f, void *ud, struct bs_err *err)
{
	const struct bs_drill_outcome *o = ud;
	const struct bs_drill_report **v = calloc(o->n ? o->n : 1, sizeof(*v));
	size_t i;
	int rc;

	if (!v)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	for (i = 0; i < o->n; i++)
		v[i] = &o->reports[i];
	rc = bs_drill_junit(v, o->n, f);
	free(v);
	if (rc < 0)
		return bs_err_set(err, BS_ERR_IO, "unable to render the JUnit report");
	return 0;
}

static int write_junit(const struct bs_drill_outcome *o, const char *path, struct bs_err *err)
{
	if (bs_durable_write(path, 0644, fill_junit, (void *)o, err) < 0) {
		bs_err_prefix(err, "JUnit report");
		return -1;
	}
	return 0;
}

static void print_reports(const struct bs_drill_outcome *o)
{
	size_t i;

	if (co.json) {
		json_t *j;
		if (!o_all && o->n == 1) {
			j = bs_drill_report_json(&o->reports[0]);
		} else {
			json_t *a = json_array();
			size_t pass = 0, fail = 0, error = 0;
			for (i = 0; i < o->n; i++) {
				const char *v = bs_drill_verdict(&o->reports[i]);
				json_array_append_new(a, bs_drill_report_json(&o->reports[i]));
				*(strcmp(v, "pass") == 0 ? &pass : strcmp(v, "fail") == 0 ? &fail : &error) += 1;
			}
			j = json_pack("{s:o,s:I,s:I,s:I}", "drills", a, "passed", (json_int_t)pass, "failed",
				      (json_int_t)fail, "errors", (json_int_t)error);
		}
		bs_json_doc_write(j, stdout);
		return;
	}
	for (i = 0; i < o->n; i++) {
		if (i)
			fputc('\n', stdout);
		bs_drill_report_text(&o->reports[i], stdout);
	}
}

/* ---- main -------------------------------------------------------------------- */

static int list_main(const struct bs_verb *v, int argc, char **argv)
{
	struct bs_config cfg;
	struct bs_strlist pos = { 0 };
	struct bs_repo *repo = NULL;
	struct bs_drill_list drills;
	struct bs_err err;
	int rc = 0, loaded = 0;

	bs_log_set_prog("backstop verify-restore list");
	bs_err_init(&err);
	bs_config_init(&cfg);
	if (bs_opts_parse(v->spec, argc, argv, &pos, &err) < 0) {
		rc = bs_cmd_error(v->spec, &err);
		goto out;
	}
	if (bs_opts_common(v->spec, &list_co))
		goto out;
	if (pos.n > 1) {
		rc = bs_opts_fail(v->spec, "unexpected argument '%s'", pos.v[1]);
		goto out;
	}
	if (bs_cmd_config(&cfg, list_co.config, list_co.quiet, list_co.verbose, &err) < 0 ||
	    bs_cmd_repo_choose(&cfg, list_repo, &err) < 0 ||
	    bs_cmd_repo_open(&cfg, &repo, &err) < 0 ||
	    bs_drill_list_load(repo, pos.n ? pos.v[0] : NULL, &drills, &err) < 0) {
		rc = bs_cmd_error(v->spec, &err);
		goto out;
	}
	loaded = 1;
	if (bs_drill_list_write(&drills, bs_repo_location(repo), list_co.json, stdout, &err) < 0) {
		rc = bs_cmd_error(v->spec, &err);
		goto out;
	}
	rc = bs_stdout_close(v->spec);
out:
	if (loaded)
		bs_drill_list_release(&drills);
	bs_repo_close(repo);
	bs_config_release(&cfg);
	bs_strlist_release(&pos);
	return rc;
}

/* `verify-restore --repo R list ...`: the verb after options, as the
 * command has always accepted; list parses the rest with its own table. */
static int list_anywhere(const struct bs_verb *verbs, int argc, char **argv)
{
	char **v = calloc((size_t)argc + 1, sizeof(*v));
	int i, n = 1, rc, moved = 0;

	if (!v)
		return 3;
	v[0] = "list";
	for (i = 1; i < argc; i++) {
		if (!moved && strcmp(argv[i], "list") == 0) {
			moved = 1;
			continue;
		}
		v[n++] = argv[i];
	}
	rc = verbs[0].run(&verbs[0], n, v);
	free(v);
	return rc;
}

/* Under cron only stderr reaches a person: a drill that did not pass
 * says so there in one line, whatever the output format or --quiet. */
static void complain(const struct bs_drill_outcome *o)
{
	size_t i;

	for (i = 0; i < o->n; i++) {
		const struct bs_drill_report *r = &o->reports[i];
		const char *v = bs_drill_verdict(r);
		if (strcmp(v, "pass") == 0)
			continue;
		if (r->could_not_run)
			bs_log(BS_LOG_ERROR, "drill of snapshot %s (%s): %s: %s", r->snapshot,
				 r->database ? r->database : "?", v, r->error.msg);
		else
			bs_log(BS_LOG_ERROR, "drill of snapshot %s (%s): %s: %llu finding(s)%s%s%s%s", r->snapshot,
				 r->database ? r->database : "?", v, (unsigned long long)r->findings_total,
				 r->nfindings ? "; first: " : "",
				 r->nfindings && r->findings[0].object ? r->findings[0].object : "",
				 r->nfindings && r->findings[0].object ? ": " : "",
				 r->nfindings ? r->findings[0].message : "");
	}
}

int main(int argc, char **argv)
{
	static const struct bs_verb verbs[] = {
		{ "list", list_main, &list_spec },
		{ NULL, NULL, NULL },
	};
	struct bs_config cfg;
	struct bs_strlist pos = { 0 };
	struct bs_drill_policy pol;
	struct bs_drill_request rq;
	struct bs_drill_outcome out;
	struct bs_err err;
	int64_t grace = -1;
	size_t i;
	int rc = 0, worst = 0;

	bs_log_set_prog("backstop verify-restore");
	if (bs_verbs_dispatch(verbs, argc, argv, &rc))
		return rc;
	bs_err_init(&err);
	bs_config_init(&cfg);
	bs_drill_policy_init(&pol);
	memset(&out, 0, sizeof(out));
	if (bs_opts_parse(&spec, argc, argv, &pos, &err) < 0) {
		rc = bs_cmd_error(&spec, &err);
		goto done;
	}
	if (pos.n > 0 && strcmp(pos.v[0], "list") == 0) {
		rc = list_anywhere(verbs, argc, argv);
		goto done;
	}
	if (bs_opts_common(&spec, &co))
		goto done;
	if (o_all && pos.n > 0) {
		rc = bs_opts_fail(&spec, "--all checks every snapshot: do not name one ('%s')", pos.v[0]);
		goto done;
	}
	if (!o_all && pos.n == 0) {
		rc = bs_opts_fail(&spec, "which snapshot? give an id, 'latest', or --all");
		goto done;
	}
	if (pos.n > 1) {
		rc = bs_opts_fail(&spec, "unexpected argument '%s'", pos.v[1]);
		goto done;
	}
	if (o_reverify && (o_archive || o_all)) {
		rc = bs_opts_fail(&spec, "--reverify takes one snapshot and a database; it excludes %s",
				  o_archive ? "--archive-only" : "--all");
		goto done;
	}
	if (o_archive && (o_keep || o_scratch)) {
		rc = bs_opts_fail(&spec, "--archive-only uses no database: %s does not apply",
				  o_keep ? "--keep" : "--scratch");
		goto done;
	}
	if (o_grace) {
		int64_t s;
		if (bs_duration_parse(o_grace, &s, &err) < 0) {
			rc = bs_opts_fail(&spec, "invalid value '%s' for --stale-grace (e.g. 60s, 10m)", o_grace);
			goto done;
		}
		grace = s * 1000;
	}
	if (o_archive && (conn.host || conn.port || conn.user)) {
		rc = bs_opts_fail(&spec, "--archive-only uses no database: -h/-p/-U do not apply");
		goto done;
	}
	if (bs_cmd_database_name(o_database, &err) < 0 ||
	    bs_cmd_config(&cfg, co.config, co.quiet, co.verbose, &err) < 0 ||
	    bs_cmd_repo_choose(&cfg, o_repo, &err) < 0 ||
	    bs_cmd_no_password("--scratch", o_scratch, &err) < 0 ||
	    bs_cmd_override(&cfg.drill.scratch, o_scratch, &err) < 0 ||
	    bs_cmd_conninfo(&cfg.drill.scratch, &conn, "scratch server", &err) < 0) {
		rc = bs_cmd_error(&spec, &err);
		goto done;
	}
	if (!o_archive && (!cfg.drill.scratch || !*cfg.drill.scratch)) {
		rc = bs_opts_fail(&spec, "no scratch server: pass --scratch CONNINFO (or set drill.scratch or "
					 "$BACKSTOP_SCRATCH), or check the archive alone with --archive-only");
		goto done;
	}
	if ((o_policy || cfg.drill.policy) && bs_drill_policy_load(&pol, o_policy ? o_policy : cfg.drill.policy, &err) < 0) {
		rc = bs_cmd_error(&spec, &err);
		goto done;
	}
	if (start_watcher(&err) < 0) {
		rc = bs_cmd_error(&spec, &err);
		goto done;
	}

	memset(&rq, 0, sizeof(rq));
	rq.cfg = &cfg;
	rq.spec = pos.n ? pos.v[0] : NULL;
	rq.database = o_database;
	rq.all = o_all;
	rq.archive_only = o_archive;
	rq.reverify = o_reverify;
	rq.identity_file = o_identity;
	rq.policy = &pol;
	rq.jobs = o_jobs ? o_jobs : cfg.restore.jobs;
	rq.keep = o_keep || cfg.drill.keep;
	rq.stale_grace_ms = grace;
	rq.progress = !co.quiet && !co.json;
	rq.guard = &guard;
	rq.current = &current;
	if (bs_cmd_drill(&rq, &out, &err) < 0) {
		bs_sigwatch_settle();
		/* a drill that was under way still gets its report */
		if (out.n > 0)
			print_reports(&out);
		rc = bs_cmd_error(&spec, &err);
		goto done;
	}
	print_reports(&out);
	complain(&out);
	for (i = 0; i < out.n; i++) {
		int x = bs_drill_exit_code(&out.reports[i]);
		if (x == 3 || (x == 1 && worst == 0))
			worst = x;
	}
	if (o_junit && write_junit(&out, o_junit, &err) < 0) {
		bs_cmd_error(&spec, &err);
		if (worst == 0)
			worst = 3;
	}
	rc = bs_stdout_close(&spec);
	if (rc == 0)
		rc = worst;
done:
	bs_drill_outcome_release(&out);
	bs_drill_policy_release(&pol);
	bs_config_release(&cfg);
	bs_strlist_release(&pos);
	return rc;
}
