/* setup.c - configuration set-up every command shares */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "command/setup.h"
#include "common/log.h"
#include "common/opts.h"
#include "pg/conn.h"
#include "common/secret.h"
#include "repo/repo.h"

int bs_cmd_config(struct bs_config *cfg, const char *explicit_path, int quiet, int verbose,
		  struct bs_err *err)
{
	bs_config_init(cfg);
	if (bs_config_load(cfg, explicit_path, err) < 0 || bs_config_apply_env(cfg, err) < 0)
		return -1;
	if (!quiet && !verbose && cfg->has_log_level)
		bs_log_set_level(cfg->log_level);
	return 0;
}

int bs_cmd_override(char **slot, const char *flag_value, struct bs_err *err)
{
	if (!flag_value)
		return 0;
	return bs_config_set_string(slot, flag_value, err);
}

/* The CPUs this process may use: its affinity mask (taskset, a container's
 * cpuset), bounded by a cgroup v2 CPU quota (a container's CPU limit:
 * /sys/fs/cgroup/cpu.max "QUOTA PERIOD", rounded up), else the online CPUs. */
static long usable_cores(void)
{
	cpu_set_t set;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	FILE *f;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		n = CPU_COUNT(&set);
	if ((f = fopen("/sys/fs/cgroup/cpu.max", "r"))) {
		long long quota, period;
		if (fscanf(f, "%lld %lld", &quota, &period) == 2 && quota > 0 && period > 0) {
			long q = (long)((quota + period - 1) / period);
			if (q < n || n <= 0)
				n = q;
		}
		fclose(f);
	}
	return n;
}

int bs_cmd_jobs(int jobs)
{
	long n;

	if (jobs > 0)
		return jobs;
	n = usable_cores();
	return n > 0 ? (int)(n > 16 ? 16 : n) : 2;
}

int bs_cmd_no_password(const char *flag, const char *conninfo, struct bs_err *err)
{
	if (!conninfo || !bs_conninfo_has_password(conninfo))
		return 0;
	bs_err_set(err, BS_ERR_REFUSED,
		   "refusing a password in %s: the command line is visible to every user in the process list",
		   flag);
	bs_err_hint(err, "use ~/.pgpass or PGPASSFILE, the PGPASSWORD environment variable, or put the "
			 "connection string in backstop.yaml (mode 600)");
	return -1;
}

int bs_cmd_conninfo(char **slot, const struct bs_conn_opts *c, const char *what, struct bs_err *err)
{
	char *ci;
	int rc;

	if (!c->dbname && !c->host && !c->port && !c->user)
		return 0;
	if (bs_cmd_no_password("-d/--dbname", c->dbname, err) < 0)
		return -1;
	ci = bs_pg_conninfo_build(*slot, c->dbname, c->host, c->port, c->user, err);
	if (!ci) {
		bs_err_prefix(err, "%s", what);
		return -1;
	}
	rc = bs_config_set_string(slot, ci, err);
	bs_secret_free(ci);
	return rc;
}

int bs_cmd_database_name(const char *name, struct bs_err *err)
{
	if (!name || !bs_pg_conninfo_is_string(name))
		return 0;
	bs_err_set(err, BS_ERR_USAGE,
		   "--database takes the name of a snapshot's source database (as 'snap list' shows it), "
		   "not a connection string: '%s'",
		   name);
	return -1;
}

void bs_cmd_repo_settings(const struct bs_config_repository *c, struct bs_repo_settings *set)
{
	*set = (struct bs_repo_settings){
		.endpoint = c->endpoint,
		.region = c->region,
		.access_key_file = c->access_key_file,
		.secret_key_file = c->secret_key_file,
		.session_token_file = c->session_token_file,
		.sas_token_file = c->sas_token_file,
		.part_size = c->part_size,
		.retry_max = c->retries,
		.retry_time_ms = c->retry_timeout_ms,
		.stall_ms = c->stall_timeout_ms,
		.lease_ttl_ms = c->lease_ttl_ms,
		.storage_class = c->storage_class,
		.sse = c->sse,
		.sse_kms_key_id = c->sse_kms_key_id,
	};
}

int bs_cmd_repo_open(const struct bs_config *cfg, struct bs_repo **out, struct bs_err *err)
{
	struct bs_repo_settings set;

	bs_cmd_repo_settings(&cfg->repo, &set);
	return bs_repo_open_with(cfg->repository, &set, out, err);
}

int bs_cmd_repo_init(const struct bs_config *cfg, int *existed, struct bs_repo **out, struct bs_err *err)
{
	struct bs_repo_settings set;

	bs_cmd_repo_settings(&cfg->repo, &set);
	return bs_repo_init_with(cfg->repository, &set, existed, out, err);
}

int bs_cmd_repo_choose(struct bs_config *cfg, const char *flag, struct bs_err *err)
{
	int rc;
	size_t i, n = 0;
	char names[256] = "";

	if (!flag)
		return 0;
	cfg->repo_chosen = 1;
	if ((rc = bs_config_select_repo(cfg, flag, err)) != 0)
		return rc < 0 ? -1 : 0;
	if (cfg->nrepos && !strchr(flag, '/') && !strstr(flag, "://")) {
		for (i = 0; i < cfg->nrepos && n < sizeof(names); i++)
			n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", i ? ", " : "", cfg->repos[i].name);
		bs_err_set(err, BS_ERR_USAGE, "no repository named '%s' in 'repositories:' (%s)", flag, names);
		bs_err_hint(err, "name one of them, or give a path (./%s for a directory here) or a URL", flag);
		return -1;
	}
	cfg->selected_repo = -1;
	return bs_cmd_override(&cfg->repository, flag, err);
}

int bs_cmd_repo_open_named(const struct bs_config *cfg, const char *repository, struct bs_repo **out,
			   struct bs_err *err)
{
	struct bs_repo_settings set;

	if (repository) {
		for (size_t i = 0; i < cfg->nrepos; i++) {
			if (strcmp(cfg->repos[i].name, repository) == 0) {
				bs_cmd_repo_settings(&cfg->repos[i].repo, &set);
				return bs_repo_open_with(cfg->repos[i].location, &set, out, err);
			}
		}
		bs_cmd_repo_settings(&cfg->repo, &set);
		return bs_repo_open_with(repository, &set, out, err);
	}
	if (!cfg->repository || !*cfg->repository) {
		bs_err_set(err, BS_ERR_CONFIG, "no repository: none is named and none is configured");
		bs_err_hint(err, "set 'repository:' in backstop.yaml, or $BACKSTOP_REPO, or --repo");
		return -1;
	}
	return bs_cmd_repo_open(cfg, out, err);
}
