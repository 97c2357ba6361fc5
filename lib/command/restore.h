/*
 * restore.h (command layer) - the restore operation (restore.c): resolve a
 * snapshot, open (and decrypt) its archive, and restore it, or list its
 * tables or roles to the FILE the command gives.
 */
#ifndef BS_COMMAND_RESTORE_H
#define BS_COMMAND_RESTORE_H

#include <stdio.h>
#include <time.h>

#include "catalog/catalog.h"
#include "common/err.h"
#include "config/config.h"

struct bs_restore_opts;
struct bs_restore_result;

struct bs_restore_request {
	struct bs_config *cfg;
	const char *spec;               /* id, unique id prefix, or "latest" */
	time_t before;                  /* --before: newest snapshot started before this; 0: unused */
	const char *database;           /* only snapshots of this database (for latest/--before) */
	const char *identity_file;      /* --identity */
	struct bs_restore_opts *engine; /* target, create, clean, jobs, filters... */
	int list;                       /* --list: print the tables, restore nothing */
	int globals_only;               /* --globals-only: print (or with engine->target apply) the roles */
	int json;
	int progress;
	int tell;                       /* run the restore hooks and webhooks (the restore
					 * command; a rollback's restore does not) */
};

/* Resolve the snapshot, open (and decrypt) its archive, and restore it.
 * rec receives the snapshot's record, res what was restored.  With list,
 * nothing is restored: res->manifest holds the archive's header and
 * manifest (render with bs_restore_list_write).  With globals_only and no
 * target, *text receives the roles and tablespaces as SQL (malloc'd, the
 * caller frees; NULL otherwise). */
int bs_cmd_restore(const struct bs_restore_request *rq, struct bs_snap_record *rec,
		   struct bs_restore_result *res, char **text, struct bs_err *err);
/* restore --list: the tables of a snapshot as text or JSON
 * ({"id", "database", "tables": [{"schema","name","rows","bytes","chunks"}],
 * "sequences", "large_objects"}).  BS_ERR_IO when f fails. */
struct bs_manifest;
int bs_restore_list_write(const struct bs_snap_record *rec, const struct bs_manifest *m, int json, FILE *f,
			  struct bs_err *err);

#endif
