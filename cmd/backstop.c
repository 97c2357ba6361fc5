/*
 * backstop - the dispatcher: `backstop <cmd> ...` runs `backstop-<cmd> ...`,
 * git style.  The command is looked up next to this executable first, then
 * in $PATH.  The table below is the one list of commands.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/opts.h"

static const struct {
	const char *name;
	const char *summary;
} commands[] = {
	{ "snap", "take a consistent, compressed, encrypted logical backup; list, show, prune, pin" },
	{ "restore", "restore a snapshot into a database, in parallel, safe by default" },
	{ "verify-restore", "restore drill: restore into a scratch database and prove it matches" },
	{ "keygen", "create an age identity (secret key) and print its public recipient" },
	{ "repo", "create a repository (repo init)" },
	{ "probe", "health checks: HTTP, TLS expiry, TCP, PostgreSQL, backup age; once or watched" },
	{ "gate", "go/no-go decisions for pipelines from a policy and evidence; signed sign-offs" },
	{ "rollback", "a service back to its last known-good image (and database); release ledger; watch" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: backstop <command> [options]\n"
		   "       backstop help <command>     (the same as backstop <command> --help)\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-16s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nEach command is also its own executable: backstop-<command>.\n"
		   "exit codes: 0 success, 1 negative verdict, 2 usage/configuration error or refused,\n"
		   "            3 runtime failure\n");
}

static int unknown(const char *cmd)
{
	const char *names[NCOMMANDS + 1], *guess;
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		names[i] = commands[i].name;
	names[NCOMMANDS] = NULL;
	guess = bs_did_you_mean(cmd, names);
	fprintf(stderr, "backstop: '%s' is not a backstop command", cmd);
	if (guess)
		fprintf(stderr, "; did you mean '%s'?", guess);
	fprintf(stderr, "\nTry 'backstop --help'.\n");
	return 2;
}

int main(int argc, char **argv)
{
	char self[PATH_MAX], path[PATH_MAX + 64];
	char *help_argv[5];
	const char *cmd;
	ssize_t n;
	size_t i;
	int known = 0;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	cmd = argv[1];
	if (strcmp(cmd, "help") == 0 && argc > 2) {
		/* backstop help CMD [VERB] -> backstop CMD [VERB] --help */
		if (argc > 4) {
			fprintf(stderr, "backstop help: too many arguments\nTry 'backstop --help'.\n");
			return 2;
		}
		help_argv[0] = argv[0];
		help_argv[1] = argv[2];
		help_argv[2] = argc > 3 ? argv[3] : "--help";
		help_argv[3] = argc > 3 ? "--help" : NULL;
		help_argv[4] = NULL;
		argv = help_argv;
		cmd = argv[1];
	}
	if (strcmp(cmd, "-?") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
		printf("backstop %s\n", BS_VERSION);
		return 0;
	}
	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(cmd, commands[i].name) == 0)
			known = 1;
	if (!known)
		return unknown(cmd);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		char *slash;
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(path, sizeof(path), "%s/backstop-%s", self, cmd);
			if (access(path, X_OK) == 0) {
				argv[1] = path;
				execv(path, argv + 1);
			}
		}
	}
	snprintf(path, sizeof(path), "backstop-%s", cmd);
	argv[1] = path;
	execvp(path, argv + 1);
	fprintf(stderr, "backstop: unable to run '%s': %s\n", path, strerror(errno));
	return 3;
}
