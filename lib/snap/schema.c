/* schema.c - the schema member: pg_dump --schema-only in the exported
 * snapshot, into an unlinked temporary file, then into the archive.
 *
 * The file is unlinked as soon as it is created and handed to pg_dump as
 * its stdout (a regular file, so the custom format can still seek), so a
 * killed snap leaves nothing behind in $TMPDIR. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/secret.h"
#include "pg/conn.h"
#include "snap/snap_int.h"

int snap_schema_start(struct snap_ctx *ctx, struct bs_err *err)
{
	char tool[PATH_MAX], a_snap[192], a_lock[64];
	char *child = NULL, *password = NULL, *a_db = NULL, *penv = NULL, *oenv = NULL;
	const char *argv[12], *env[3] = { NULL, NULL, NULL };
	const char *tmpdir = getenv("TMPDIR");
	int argc = 0, nenv = 0, rc = -1;

	if (bs_pg_find_tool(ctx->o->pg_bindir, "pg_dump", ctx->server_version_num, tool, err) < 0)
		return -1;
	if (!tmpdir || !*tmpdir)
		tmpdir = "/tmp";
	snprintf(ctx->dump_path, sizeof(ctx->dump_path), "%s/backstop-schema-XXXXXX", tmpdir);
	ctx->dump_fd = mkostemp(ctx->dump_path, O_CLOEXEC);
	if (ctx->dump_fd < 0) {
		bs_err_sys(err, BS_ERR_IO, errno, "unable to create a temporary file in '%s'", tmpdir);
		bs_err_hint(err, "set TMPDIR to a writable directory");
		ctx->dump_path[0] = '\0';
		return -1;
	}
	unlink(ctx->dump_path);
	ctx->dump_path[0] = '\0';
	if (bs_pg_conninfo_for_child(ctx->o->conninfo, NULL, &child, &password, err) < 0)
		goto out;
	snprintf(a_snap, sizeof(a_snap), "--snapshot=%s", ctx->snapshot_id);
	snprintf(a_lock, sizeof(a_lock), "--lock-wait-timeout=%d",
		 ctx->o->lock_timeout_ms > 0 ? ctx->o->lock_timeout_ms : 0);
	argv[argc++] = tool;
	argv[argc++] = "--format=custom";
	argv[argc++] = "--schema-only";
	/* the database's own properties (DATABASE, DATABASE PROPERTIES and its
	 * COMMENT/ACL entries), which pg_restore applies only with --create */
	argv[argc++] = "--create";
	argv[argc++] = a_snap;
	argv[argc++] = "--no-sync";
	if (ctx->o->lock_timeout_ms > 0)
		argv[argc++] = a_lock;
	if (child && *child) {
		a_db = malloc(strlen(child) + 16);
		if (!a_db) {
			bs_err_set(err, BS_ERR_NOMEM, "out of memory");
			goto out;
		}
		sprintf(a_db, "--dbname=%s", child);
		argv[argc++] = a_db;
	}
	argv[argc] = NULL;
	if (password) {
		penv = malloc(strlen(password) + 16);
		if (!penv) {
			bs_err_set(err, BS_ERR_NOMEM, "out of memory");
			goto out;
		}
		sprintf(penv, "PGPASSWORD=%s", password);
		env[nenv++] = penv;
	}
	/* no JIT in pg_dump's session either: its index query, over every
	 * index, passes jit_above_cost on databases of thousands of tables.
	 * Options given in the conninfo win over these. */
	if (!(oenv = bs_pg_child_pgoptions(ctx->server_version_num, NULL))) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	env[nenv++] = oenv;
	bs_run_init(&ctx->dump);
	ctx->dump.argv = argv;
	ctx->dump.env = env;
	ctx->dump.stdout_fd = ctx->dump_fd;
	bs_debug("snap: running %s --schema-only --snapshot=%s", tool, ctx->snapshot_id);
	if (bs_run_start(&ctx->dump, err) < 0)
		goto out;
	ctx->dump_started = 1;
	rc = 0;
out:
	/* the full argv/env are only needed by posix_spawn */
	snprintf(ctx->dump_tool, sizeof(ctx->dump_tool), "%s", tool);
	ctx->dump_argv0[0] = ctx->dump_tool;
	ctx->dump_argv0[1] = NULL;
	ctx->dump.argv = ctx->dump_argv0;
	ctx->dump.env = NULL;
	free(child);
	free(a_db);
	free(oenv);
	bs_secret_free(password);
	bs_secret_free(penv);
	return rc;
}

int snap_schema_finish(struct snap_ctx *ctx, struct bs_err *err)
{
	struct stat st;

	ctx->dump_started = 0;
	if (bs_run_wait(&ctx->dump, err) < 0) {
		if (strstr(ctx->dump.stderr_tail, "version mismatch"))
			bs_err_hint(err, "pg_dump must be at least as new as the server (%d); install a newer"
					 " postgresql-client or set the PostgreSQL bin directory",
				    ctx->server_version_num / 10000);
		bs_err_prefix(err, "dumping the schema");
		return -1;
	}
	if (fstat(ctx->dump_fd, &st) < 0 || lseek(ctx->dump_fd, 0, SEEK_SET) < 0)
		return bs_err_sys(err, BS_ERR_IO, errno, "reading the schema dump");
	if (st.st_size == 0)
		return bs_err_set(err, BS_ERR_SUBPROCESS, "dumping the schema: pg_dump wrote nothing");
	if (snap_member_digest(ctx, BS_MM_SCHEMA, ctx->dump_fd, (uint64_t)st.st_size, err) < 0)
		return -1;
	return snap_writer_fd(&ctx->w, BS_MEMBER_SCHEMA, ctx->dump_fd, (uint64_t)st.st_size, err);
}

void snap_schema_abort(struct snap_ctx *ctx)
{
	if (ctx->dump_started) {
		bs_run_kill(&ctx->dump);
		ctx->dump_started = 0;
	}
	if (ctx->dump_path[0]) {
		unlink(ctx->dump_path);
		ctx->dump_path[0] = '\0';
	}
	if (ctx->dump_fd >= 0) {
		close(ctx->dump_fd);
		ctx->dump_fd = -1;
	}
}
