/*
 * command.h - the operations behind the commands, each a list of named
 * steps over the library (as pgBackRest's command/ directory).  The mains in cmd/
 * parse options into a request, call one of these, and map the error to an
 * exit code.  Nothing here prints to stdout: results come back in structs
 * and the command formats them (text or --json).
 */
#ifndef BS_COMMAND_COMMAND_H
#define BS_COMMAND_COMMAND_H

#include <stdio.h>
#include <time.h>

#include "catalog/catalog.h"
#include "archive/reader.h"
#include "common/err.h"
#include "common/progress.h"
#include "config/config.h"
#include "crypt/age.h"
#include "repo/repo.h"
#include "retention/policy.h"

/* ---- encryption set-up shared by snap and restore (keys.c) ---- */

/* Recipients for a new snapshot from the config (recipients, recipients_file,
 * passphrase_file), extra command-line recipients, and $BACKSTOP_PASSPHRASE.
 * *out is NULL when the snapshot is to be written in clear (allowed only by
 * encryption: none or no_encryption); no recipients otherwise is
 * BS_ERR_REFUSED with a hint to run keygen. */
int bs_keys_recipients(const struct bs_config *cfg, const char *const *extra, const char *extra_file,
		       int no_encryption, struct bs_age_recipients **out, struct bs_err *err);

/* Identities to open a snapshot: identity file (flag, config, env), and a
 * passphrase (BACKSTOP_PASSPHRASE_FILE / restore.passphrase_file,
 * $BACKSTOP_PASSPHRASE, or a TTY prompt when the record says a passphrase
 * was used). */
int bs_keys_identities(const struct bs_config *cfg, const char *identity_file,
		       const struct bs_snap_record *rec, struct bs_age_identities **out,
		       struct bs_err *err);

/* Open a snapshot's archive for reading, decrypting if the record says so.
 * *out owns everything beneath it.  x (caller's storage) is filled with
 * what the record says the archive is, for the archive reader to check
 * (archive/reader.h); it borrows from rec and from *out, so it is valid
 * while both are. */
int bs_open_archive(struct bs_repo *repo, const struct bs_snap_record *rec,
		    const struct bs_age_identities *ids, struct bs_rstream **out,
		    struct bs_archive_expect *x, struct bs_err *err);

/* ---- snap ---- */

struct bs_snap_guard;

struct bs_snap_request {
	struct bs_config *cfg;          /* merged: file < env < flags */
	const char *const *recipients;  /* --recipient, NULL-terminated, may be NULL */
	const char *recipients_file;    /* --recipients-file */
	int no_encryption;
	int progress;                   /* show the progress line on a TTY */
	struct bs_snap_guard *guard;    /* for the signal watcher (command/snap_guard.h); may be NULL */
};

struct bs_snap_outcome {
	struct bs_snap_record rec;      /* the committed record */
	uint64_t rows, raw_bytes;
	double seconds;
};

int bs_cmd_snap(const struct bs_snap_request *rq, struct bs_snap_outcome *out, struct bs_err *err);
void bs_snap_outcome_release(struct bs_snap_outcome *o);

#endif

/* ---- snap list / show (listing.c): render to f, text or JSON ---- */

/* `snap list`: every snapshot (of one database if given), oldest first.
 * JSON: {"snapshots": [record...]} (docs/cli.md documents the schema). */
int bs_cmd_snap_list(struct bs_repo *repo, const char *database,
		     const struct bs_retention_policy *policy, int json, FILE *f, struct bs_err *err);
/* With a policy, each snapshot also shows which rules keep it ("kept_by"). */
/* `snap show ID|latest` (latest of database if not NULL); with a policy,
 * also which rules keep it ("kept_by", null when the next prune deletes it). */
int bs_cmd_snap_show(struct bs_repo *repo, const char *spec, const char *database,
		     const struct bs_retention_policy *policy, int json, FILE *f, struct bs_err *err);
/* One record as a JSON object (owned by the caller: json_decref). */
struct json_t *bs_snap_record_json(const struct bs_snap_record *r);

/* ---- snap prune (prune.c) ---- */

struct bs_prune_request {
	const struct bs_retention_policy *policy;
	const char *database;   /* only this database's snapshots; NULL: every database */
	int dry_run;
	int lock_wait_ms;       /* how long to wait for running snaps; <0 forever */
	time_t now;             /* 0: time(NULL) */
	/* For a snap that prunes after itself (manual `snap prune` sets neither): */
	const char *protect_id; /* never delete this snapshot: the one the snap just took */
	time_t protect_since;   /* never delete a snapshot whose end time is >= this (the
				 * snap's start): it finished while the snap was running,
				 * so it is a concurrent snap's; 0: none */
};
/* Decide with the retention engine and delete (unless dry_run) under the
 * exclusive repository lock: the record first, then the archive, pins and
 * drills, so an interrupted prune leaves orphans, never a listed snapshot
 * without its archive.  Each source database is decided on its own (its
 * own keep_last, buckets, min_keep, newest rule); orphaned archives are
 * judged against every database's records.
 *
 * *out receives the document `snap prune --json` prints (owned by the
 * caller: json_decref), also when nothing was deleted:
 *   {"policy": "...", "database": NAME|null, "dry_run": bool,
 *    "kept": N, "deleted": N,
 *    "databases": [{"database": NAME, "kept": N, "deleted": N}...],
 *    "decisions": [{"id", "kind": "snapshot"|"orphan", "database": NAME|null,
 *                   "verdict": "keep"|"delete", "reasons": "..."}...]}
 * On error *out is NULL. */
struct json_t;
int bs_cmd_prune(struct bs_repo *repo, const struct bs_prune_request *rq, struct json_t **out,
		 struct bs_err *err);
/* The same document as text: the policy, one line per decision naming its
 * database, per-database totals when there are several, the totals. */
void bs_prune_print_text(const struct json_t *doc, FILE *f);

/* ---- set-up shared by every command (setup.c) ---- */

/* Load the configuration (file, then BACKSTOP_* environment) and apply its
 * log level unless the command line set one (quiet/verbose). */
int bs_cmd_config(struct bs_config *cfg, const char *explicit_path, int quiet, int verbose,
		  struct bs_err *err);
/* Connections/threads to use: jobs if > 0, else the number of cores (at most 16). */
int bs_cmd_jobs(int jobs);
/* Refuse a connection string with a password given on the command line
 * (flag names the option): it would be visible in the process list. */
int bs_cmd_no_password(const char *flag, const char *conninfo, struct bs_err *err);
/* Override a config string from a flag if the flag was given. */
int bs_cmd_override(char **slot, const char *flag_value, struct bs_err *err);
/* Apply -d/-h/-p/-U (pg_dump's connection options) to the conninfo in
 * *slot (from the configuration, may be NULL): nothing when none was
 * given; a password in -d is refused.  what names the connection in
 * errors ("source database"). */
struct bs_conn_opts;
int bs_cmd_conninfo(char **slot, const struct bs_conn_opts *c, const char *what, struct bs_err *err);
/* --database takes a database name; refuse a connection string there. */
int bs_cmd_database_name(const char *name, struct bs_err *err);

/* ---- restore (restore.c) ---- */

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
};

/* Resolve the snapshot, open (and decrypt) its archive, and restore it, or
 * with list print its tables to f.  rec receives the snapshot's record. */
int bs_cmd_restore(const struct bs_restore_request *rq, struct bs_snap_record *rec,
		   struct bs_restore_result *res, FILE *f, struct bs_err *err);
