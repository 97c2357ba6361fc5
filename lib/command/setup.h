/*
 * setup.h (command layer) - set-up every command shares (setup.c): the
 * configuration, the number of jobs, PostgreSQL connection options.
 */
#ifndef BS_COMMAND_SETUP_H
#define BS_COMMAND_SETUP_H

#include "common/err.h"
#include "config/config.h"

/* Load the configuration (file, then BACKSTOP_* environment) and apply its
 * log level unless the command line set one (quiet/verbose). */
int bs_cmd_config(struct bs_config *cfg, const char *explicit_path, int quiet, int verbose,
		  struct bs_err *err);
/* Connections/threads to use: jobs if > 0, else the cores this process may
 * use (its CPU affinity, a cgroup v2 CPU limit), at most 16. */
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
/* Open the configured repository (cfg->repository, which --repo and
 * BACKSTOP_REPO may have replaced) with what the 'repository:' mapping
 * gives a backend beyond the location: endpoint, region, credential files,
 * part size, retry limits (repo/repo.h, struct bs_repo_settings).  Every
 * command opens its repository here.  Caller closes with bs_repo_close. */
struct bs_repo;
int bs_cmd_repo_open(const struct bs_config *cfg, struct bs_repo **out, struct bs_err *err);
/* The repository a check names (a probe's or a gate criterion's
 * 'repository:'): an entry of 'repositories:' by name, else a location
 * opened with the configured settings; NULL: the configured one
 * (BS_ERR_CONFIG when there is none). */
int bs_cmd_repo_open_named(const struct bs_config *cfg, const char *repository, struct bs_repo **out,
			   struct bs_err *err);
/* What a 'repository:' mapping (or an entry of 'repositories:') gives a
 * backend beyond the location; the strings are borrowed from c. */
struct bs_repo_settings;
void bs_cmd_repo_settings(const struct bs_config_repository *c, struct bs_repo_settings *set);
/* --repo: the name of an entry of 'repositories:' (selected), or a path or
 * URL that replaces the location.  A bare word that names no entry while
 * 'repositories:' is configured is a usage error listing the names. */
int bs_cmd_repo_choose(struct bs_config *cfg, const char *flag, struct bs_err *err);
/* The same for `repo init`: create it, or find it there (*existed = 1). */
int bs_cmd_repo_init(const struct bs_config *cfg, int *existed, struct bs_repo **out, struct bs_err *err);
/* --database takes a database name; refuse a connection string there. */
int bs_cmd_database_name(const char *name, struct bs_err *err);

#endif
