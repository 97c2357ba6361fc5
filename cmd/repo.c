/*
 * backstop-repo - repositories: `repo init` creates one, the explicit step
 * every other command relies on (they refuse a path that is not a
 * repository, so a mistyped --repo never starts a new one).
 * Thin: options -> lib/repo -> exit code.
 */
#include <stdio.h>
#include <string.h>

#include "catalog/catalog.h"
#include "command/setup.h"
#include "common/log.h"
#include "common/opts.h"
#include "repo/repo.h"

static struct bs_common_opts co;
static const char *o_repo;

static const struct bs_opt init_opts[] = {
	BS_OPTS_COMMON(&co),
	{ BS_OPT_STR, 'r', "repo", &o_repo, "DIR", "the repository to create (default: $BACKSTOP_REPO or 'repository:')", 0, 0 },
	BS_OPTS_NO_CONN("a repository is not tied to one database; snap takes -d/--dbname"),
	{ BS_OPT_END, 0, NULL, NULL, NULL, NULL, 0, 0 },
};

static const struct bs_cmd_spec init_spec = {
	"repo init",
	"repo init [--repo DIR]",
	"Create a repository: a new or empty directory (mode 0700) with the catalog's folders and\n"
	"the marker file backstop-repo.json.  Every other command refuses a path that is not a\n"
	"repository.  Running it on an existing repository changes nothing and says so.",
	init_opts,
	"examples:\n"
	"  backstop repo init --repo /var/backups/backstop\n",
	NULL,
};

static const struct bs_opt repo_opts[] = {
	BS_OPTS_BASIC(&co),
	{ BS_OPT_END, 0, NULL, NULL, NULL, NULL, 0, 0 },
};

static const struct bs_cmd_spec repo_spec = {
	"repo",
	"repo init [--repo DIR]",
	"Manage repositories.",
	repo_opts,
	"subcommands:\n"
	"  repo init [--repo DIR]    create a repository\n"
	"Run 'backstop repo init --help' for its options.\n",
	NULL,
};

static int init_main(const struct bs_verb *v, int argc, char **argv)
{
	struct bs_config cfg;
	struct bs_strlist pos = { 0 };
	struct bs_repo *repo = NULL;
	struct bs_err err;
	int rc = 0, existed = 0;

	bs_err_init(&err);
	bs_config_init(&cfg);
	if (bs_opts_parse(v->spec, argc, argv, &pos, &err) < 0) {
		rc = bs_cmd_error(v->spec, &err);
		goto out;
	}
	if (bs_opts_common(v->spec, &co))
		goto out;
	if (pos.n > 0) {
		rc = bs_opts_fail(v->spec, "unexpected argument '%s' (the path goes with --repo)", pos.v[0]);
		goto out;
	}
	if (bs_cmd_config(&cfg, co.config, co.quiet, co.verbose, &err) < 0 ||
	    bs_cmd_repo_choose(&cfg, o_repo, &err) < 0 ||
	    bs_cmd_repo_init(&cfg, &existed, &repo, &err) < 0 ||
	    bs_catalog_layout_create(repo, &err) < 0) {
		rc = bs_cmd_error(v->spec, &err);
		goto out;
	}
	if (existed)
		bs_info("'%s' is already a backstop repository; nothing changed", cfg.repository);
	else
		bs_info("created repository '%s'", cfg.repository);
out:
	bs_repo_close(repo);
	bs_config_release(&cfg);
	bs_strlist_release(&pos);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct bs_verb verbs[] = {
		{ "init", init_main, &init_spec },
		{ NULL, NULL, NULL },
	};
	struct bs_strlist pos = { 0 };
	struct bs_err err;
	int rc = 0;

	bs_log_set_prog("backstop repo");
	if (bs_verbs_dispatch(verbs, argc, argv, &rc))
		return rc;
	bs_err_init(&err);
	if (bs_opts_parse(&repo_spec, argc, argv, &pos, &err) < 0)
		rc = bs_cmd_error(&repo_spec, &err);
	else if (bs_opts_common(&repo_spec, &co))
		rc = 0;
	else if (pos.n > 0)
		rc = bs_opts_fail(&repo_spec, "unknown subcommand '%s'", pos.v[0]);
	else
		rc = bs_opts_fail(&repo_spec, "which subcommand? (init)");
	bs_strlist_release(&pos);
	return rc;
}
