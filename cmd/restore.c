/*
 * backstop-restore - restore a snapshot into a database, safe by default.
 * Thin: options -> request -> lib/command -> exit code.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "command/restore.h"
#include "command/setup.h"
#include "common/escape.h"
#include "common/log.h"
#include "common/opts.h"
#include "common/sigwatch.h"
#include "report/report.h"
#include "restore/restore.h"

static struct bs_common_opts co;
static struct bs_conn_opts conn;
static const char *o_repo, *o_target, *o_before, *o_identity, *o_database, *o_role;
static int o_create, o_clean, o_jobs, o_schema_only, o_data_only, o_list, o_keep;
static int o_no_owner, o_no_privileges, o_globals_only;
static struct bs_strlist o_tables;
static int o_drop_old, o_terminate;

static const struct bs_opt opts[] = {
	BS_OPTS_COMMON(&co),
	{ BS_OPT_FLAG, 0, "json", &co.json, NULL, "print the result as JSON on stdout", 0, 0 },
	{ BS_OPT_GROUP, 0, NULL, NULL, NULL, "which snapshot", 0, 0 },
	{ BS_OPT_STR, 'r', "repo", &o_repo, "DIR", "repository (default: $BACKSTOP_REPO or 'repository:')", 0, 0 },
	{ BS_OPT_STR, 0, "database", &o_database, "NAME", "with latest/--before: the snapshots of this source database (needed when the repository holds several)", 0, 0 },
	{ BS_OPT_STR, 0, "before", &o_before, "TIME", "the newest snapshot started before TIME (2026-11-20T03:00:00Z)", 0, 0 },
	{ BS_OPT_STR, 'i', "identity", &o_identity, "FILE", "age identity file to decrypt (default: restore.identity_file, $BACKSTOP_IDENTITY_FILE)", 0, 0 },
	{ BS_OPT_GROUP, 0, NULL, NULL, NULL, "where to (as pg_restore)", 0, 0 },
	BS_OPTS_CONN(&conn, "target database: a name or a connection string (key=value or URI), as "
			    "pg_restore -d takes it (default: restore.target)"),
	{ BS_OPT_STR, 0, "target", &o_target, "CONNINFO", "the same as -d/--dbname", 0, 0 },
	{ BS_OPT_FLAG, 'C', "create", &o_create, NULL, "create the target database (it must not exist)", 0, 0 },
	{ BS_OPT_FLAG, 'c', "clean", &o_clean, NULL, "replace the target database: restore into a new database, then swap names (all or nothing)", 0, 0 },
	{ BS_OPT_FLAG, 0, "drop-old", &o_drop_old, NULL, "with --clean: drop the replaced database after the swap (default: keep it as <db>_backstop_old_<time>)", 0, 0 },
	{ BS_OPT_FLAG, 0, "terminate-sessions", &o_terminate, NULL, "with --clean: end other sessions on the target at the swap (default: refuse, naming them)", 0, 0 },
	{ BS_OPT_FLAG, 0, "keep-on-error", &o_keep, NULL, "keep a database created by this restore if it fails", 0, 0 },
	{ BS_OPT_GROUP, 0, NULL, NULL, NULL, "what and how", 0, 0 },
	{ BS_OPT_INT, 'j', "jobs", &o_jobs, "N", "parallel loader connections (default: restore.jobs, else the CPUs this process may use, at most 16)", 1, 64 },
	{ BS_OPT_LIST, 't', "table", &o_tables, "SCHEMA.NAME", "restore only this table (repeatable)", 0, 0 },
	{ BS_OPT_FLAG, 's', "schema-only", &o_schema_only, NULL, "restore the schema, no data", 0, 0 },
	{ BS_OPT_FLAG, 'a', "data-only", &o_data_only, NULL, "load data into an existing schema", 0, 0 },
	{ BS_OPT_FLAG, 'l', "list", &o_list, NULL, "print the snapshot's tables and restore nothing", 0, 0 },
	{ BS_OPT_FLAG, 0, "globals-only", &o_globals_only, NULL, "only the roles and tablespaces the database needs: print them as SQL, or with -d create the missing roles", 0, 0 },
	{ BS_OPT_GROUP, 0, NULL, NULL, NULL, "ownership and privileges (as pg_restore)", 0, 0 },
	{ BS_OPT_FLAG, 'O', "no-owner", &o_no_owner, NULL, "do not give objects their owners: the restoring user owns everything", 0, 0 },
	{ BS_OPT_FLAG, 'x', "no-privileges", &o_no_privileges, NULL, "do not restore grants (GRANT/REVOKE) on objects and the database", 0, 0 },
	{ BS_OPT_FLAG, 0, "no-acl", &o_no_privileges, NULL, "the same as --no-privileges", 0, 0 },
	{ BS_OPT_STR, 0, "role", &o_role, "ROLE", "run the restore as ROLE (SET ROLE after connecting)", 0, 0 },
	{ BS_OPT_END, 0, NULL, NULL, NULL, NULL, 0, 0 },
};

static const struct bs_cmd_spec spec = {
	"restore",
	"restore ID|latest -d DBNAME|CONNINFO [-h HOST] [-p PORT] [-U USER] [--create | --clean] [--jobs N] [options]\n"
	"restore ID|latest --list\n"
	"restore ID|latest --globals-only [-d DBNAME|CONNINFO]",
	"Restore a snapshot: pre-data schema with pg_restore, data chunks loaded on N\n"
	"connections, sequences and large objects, post-data in parallel, ANALYZE.  Every\n"
	"chunk is checked against the manifest's row counts and digests.  Refuses a non-empty\n"
	"target unless --clean; a database created with --create is dropped again if the\n"
	"restore fails (unless --keep-on-error).  An ID may be abbreviated to a unique prefix\n"
	"of at least 8 characters.",
	opts,
	"examples:\n"
	"  backstop restore latest -d 'postgresql://postgres@db/app_restored' --create\n"
	"  backstop restore latest --database app -h db -U postgres -d app_restored --create\n"
	"  backstop restore 20261123T021500Z-3fa9c1 --table public.accounts -d app_restored --create\n"
	"  backstop restore latest -d 'host=newdb user=postgres dbname=app' --create   # new cluster: roles created as needed\n"
	"  backstop restore latest -d 'host=db user=app dbname=app_copy' --create --no-owner --no-privileges\n"
	"  backstop restore latest --globals-only > roles.sql\n",
	NULL,
};

static struct bs_restore_guard guard;

/* Clean-up step (common/sigwatch): a database this restore created is
 * dropped before the process ends, so an interrupted restore leaves
 * nothing. */
static void on_interrupt(int sig, void *ud)
{
	char name[256];
	struct bs_err err;
	int rc;

	(void)sig;
	(void)ud;
	bs_err_init(&err);
	rc = bs_restore_guard_abort(&guard, name, &err);
	if (rc > 0)
		bs_log(BS_LOG_WARN, "dropped the partially restored database '%s'", name);
	else if (rc < 0)
		bs_log(BS_LOG_ERROR, "%s", err.msg);
}

static void print_result(const struct bs_snap_record *rec, const struct bs_restore_result *r)
{
	if (co.json) {
		json_t *o = json_pack("{s:s,s:s,s:b,s:I,s:I,s:I,s:I,s:I,s:{s:f,s:f,s:f,s:f}}",
				      "snapshot", rec->id, "database", r->database, "created", r->created,
				      "tables", (json_int_t)r->tables, "rows", (json_int_t)r->rows,
				      "chunks", (json_int_t)r->chunks, "sequences", (json_int_t)r->sequences,
				      "large_objects", (json_int_t)r->blobs, "seconds", "pre_data",
				      r->t_predata, "data", r->t_data, "post_data", r->t_postdata, "total",
				      r->t_total);
		bs_json_doc_write(o, stdout);
		return;
	}
	printf("restored snapshot %s into database '%s': %llu tables, %llu rows, %llu sequences, "
	       "%llu large objects in %.1fs (schema %.1fs, data %.1fs, indexes and constraints %.1fs)\n",
	       rec->id, bs_esc(r->database), (unsigned long long)r->tables, (unsigned long long)r->rows,
	       (unsigned long long)r->sequences, (unsigned long long)r->blobs, r->t_total, r->t_predata,
	       r->t_data, r->t_postdata);
}

int main(int argc, char **argv)
{
	struct bs_config cfg;
	struct bs_strlist pos = { 0 };
	struct bs_restore_opts eng;
	struct bs_restore_request rq;
	struct bs_restore_result res;
	struct bs_snap_record rec;
	char *text = NULL;
	struct bs_err err;
	int rc = 0;

	bs_log_set_prog("backstop restore");
	bs_err_init(&err);
	bs_config_init(&cfg);
	bs_restore_result_init(&res);
	bs_snap_record_init(&rec);
	if (bs_opts_parse(&spec, argc, argv, &pos, &err) < 0) {
		rc = bs_cmd_error(&spec, &err);
		goto done;
	}
	if (bs_opts_common(&spec, &co))
		goto done;
	if (pos.n > 1) {
		rc = bs_opts_fail(&spec, "unexpected argument '%s'", pos.v[1]);
		goto done;
	}
	if (pos.n == 0 && !o_before) {
		rc = bs_opts_fail(&spec, "which snapshot? give an id, 'latest', or --before TIME");
		goto done;
	}
	if (o_schema_only && o_data_only) {
		rc = bs_opts_fail(&spec, "--schema-only and --data-only exclude each other");
		goto done;
	}
	if (o_create && o_data_only) {
		rc = bs_opts_fail(&spec, "--data-only needs an existing schema; it cannot be used with --create");
		goto done;
	}
	if ((o_drop_old || o_terminate) && !o_clean) {
		rc = bs_opts_fail(&spec, "--drop-old and --terminate-sessions go with --clean");
		goto done;
	}
	if (o_create && o_clean) {
		rc = bs_opts_fail(&spec, "--create and --clean exclude each other");
		goto done;
	}
	memset(&rq, 0, sizeof(rq));
	if (o_before && bs_time_parse(o_before, &rq.before) < 0) {
		rc = bs_opts_fail(&spec, "invalid time '%s' for --before (use 2026-11-20T03:00:00Z)", o_before);
		goto done;
	}
	if (o_target && conn.dbname) {
		rc = bs_opts_fail(&spec, "--target and -d/--dbname are the same option; give one");
		goto done;
	}
	if (o_target && bs_cmd_no_password("--target", o_target, &err) < 0) {
		rc = bs_cmd_error(&spec, &err);
		goto done;
	}
	if (o_target)
		conn.dbname = o_target;
	if (bs_cmd_database_name(o_database, &err) < 0 ||
	    bs_cmd_config(&cfg, co.config, co.quiet, co.verbose, &err) < 0 ||
	    bs_cmd_repo_choose(&cfg, o_repo, &err) < 0) {
		rc = bs_cmd_error(&spec, &err);
		goto done;
	}
	if (o_globals_only && (o_list || o_create || o_clean || o_schema_only || o_data_only || o_tables.n)) {
		rc = bs_opts_fail(&spec, "--globals-only restores nothing else: it cannot be used with %s",
				  o_list ? "--list" : o_create ? "--create" : o_clean ? "--clean" :
				  o_schema_only ? "--schema-only" : o_data_only ? "--data-only" : "--table");
		goto done;
	}
	/* the target is never a libpq default: -d or restore.target must name it
	 * (--globals-only prints the SQL unless -d names a server) */
	if (!o_list && !o_globals_only && !conn.dbname && !cfg.restore.target) {
		rc = bs_opts_fail(&spec, "no target database: pass -d DBNAME|CONNINFO (or set restore.target)");
		goto done;
	}
	if (bs_cmd_conninfo(&cfg.restore.target, &conn, "target database", &err) < 0) {
		rc = bs_cmd_error(&spec, &err);
		goto done;
	}
	memset(&eng, 0, sizeof(eng));
	eng.target = cfg.restore.target;
	eng.create = o_create;
	eng.clean = o_clean;
	eng.jobs = bs_cmd_jobs(o_jobs ? o_jobs : cfg.restore.jobs);
	eng.tables = o_tables.n ? o_tables.v : NULL;
	eng.schema_only = o_schema_only;
	eng.data_only = o_data_only;
	eng.keep_on_error = o_keep;
	eng.drop_old = o_drop_old;
	eng.terminate_sessions = o_terminate;
	eng.no_owner = o_no_owner;
	eng.no_privileges = o_no_privileges;
	eng.role = o_role;
	if (o_globals_only && !conn.dbname && !conn.host && !conn.port && !conn.user)
		eng.target = NULL;
	eng.pg_bindir = cfg.snap.pg_bindir;
	bs_restore_guard_init(&guard);
	eng.guard = &guard;
	if (bs_sigwatch_start(&err) < 0 || bs_sigwatch_on(on_interrupt, NULL, 0, &err) < 0) {
		rc = bs_cmd_error(&spec, &err);
		goto done;
	}
	rq.cfg = &cfg;
	rq.spec = pos.n ? pos.v[0] : NULL;
	rq.database = o_database;
	rq.identity_file = o_identity;
	rq.engine = &eng;
	rq.list = o_list;
	rq.globals_only = o_globals_only;
	rq.json = co.json;
	rq.progress = !co.quiet && !co.json;
	rq.tell = 1;
	if (bs_cmd_restore(&rq, &rec, &res, &text, &err) < 0) {
		bs_sigwatch_settle(); /* interrupted: the watcher ends the process */
		rc = bs_cmd_error(&spec, &err);
		goto done;
	}
	if (o_list) {
		if (bs_restore_list_write(&rec, &res.manifest, co.json, stdout, &err) < 0) {
			rc = bs_cmd_error(&spec, &err);
			goto done;
		}
	} else if (text) {
		fputs(text, stdout);
	} else if (!o_globals_only) {
		print_result(&rec, &res);
	}
	rc = bs_stdout_close(&spec);
done:
	free(text);
	bs_restore_result_release(&res);
	bs_snap_record_release(&rec);
	bs_config_release(&cfg);
	bs_strlist_release(&pos);
	bs_strlist_release(&o_tables);
	return rc;
}
