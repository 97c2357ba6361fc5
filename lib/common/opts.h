/*
 * opts.h - one declarative option table per command drives both parsing
 * and --help (as git's parse-options does).
 *
 * Values point into argv (strings) or into caller variables; nothing is
 * allocated except list arrays, released with bs_strlist_release.  Parsing
 * permutes: options and positional arguments may be mixed; "--" ends
 * options.  Errors are BS_ERR_USAGE; bs_opts_fail prints them the way every
 * command does ("...\nTry 'backstop snap --help'.") and returns exit code 2.
 */
#ifndef BS_COMMON_OPTS_H
#define BS_COMMON_OPTS_H

#include <stdio.h>

#include "common/err.h"

enum bs_opt_kind {
	BS_OPT_END = 0,
	BS_OPT_FLAG,    /* int *: set to 1 */
	BS_OPT_STR,     /* const char **: the argument */
	BS_OPT_INT,     /* int *: a decimal integer */
	BS_OPT_LIST,    /* struct bs_strlist *: repeatable, each argument appended */
	BS_OPT_GROUP,   /* a heading in --help; no option */
	BS_OPT_REFUSED, /* an option this command does not take although a similar
			 * one might expect it: refused with `help` as the pointer
			 * ("the snapshot filter is --database NAME"); not in --help */
};

struct bs_strlist {
	const char **v;
	size_t n, cap;
};
void bs_strlist_release(struct bs_strlist *l);
int bs_strlist_push(struct bs_strlist *l, const char *s);

struct bs_opt {
	enum bs_opt_kind kind;
	char short_name;        /* 0: none */
	const char *long_name;  /* NULL: none */
	void *dest;
	const char *arg;        /* argument name in help: "N", "FILE" */
	const char *help;       /* NULL: an alias, accepted but not listed in --help */
	int min, max;           /* BS_OPT_INT bounds when min < max */
};

struct bs_cmd_spec {
	const char *name;       /* "snap", "snap list" */
	const char *synopsis;   /* lines after "usage: backstop " */
	const char *description;
	const struct bs_opt *opts; /* terminated by an entry of kind BS_OPT_END */
	const char *epilog;     /* examples; may be NULL */
	const char *exit_codes; /* this command's exit codes; NULL: the generic list */
};

/* Options every command takes.  Put BS_OPTS_COMMON(&c) in each table
 * (BS_OPTS_BASIC in a command that reads no configuration).  As in
 * PostgreSQL's clients, -? is help and -V the version: -h is --host. */
struct bs_common_opts {
	int help, version, quiet, verbose, json;
	const char *config;
};
#define BS_OPTS_BASIC(c)                                                                   \
	{ BS_OPT_FLAG, '?', "help", &(c)->help, NULL, "show this help and exit", 0, 0 },        \
	{ BS_OPT_FLAG, 'V', "version", &(c)->version, NULL, "show the version and exit", 0, 0 }, \
	{ BS_OPT_FLAG, 'q', "quiet", &(c)->quiet, NULL, "only log warnings and errors", 0, 0 },  \
	{ BS_OPT_FLAG, 'v', "verbose", &(c)->verbose, NULL, "log debug detail", 0, 0 }
#define BS_OPTS_COMMON(c)                                                                  \
	BS_OPTS_BASIC(c),                                                                   \
	{ BS_OPT_STR, 0, "config", &(c)->config, "FILE", "configuration file (default: $BACKSTOP_CONFIG, ./backstop.yaml, /etc/backstop/backstop.yaml)", 0, 0 }

/* PostgreSQL connection options, spelled as pg_dump and pg_restore spell
 * them.  -d takes a database name or a whole connection string (key=value
 * or URI); -h/-p/-U override that string's host, port and user.  Turn them
 * into one conninfo with bs_cmd_conninfo (command/setup.h). */
struct bs_conn_opts {
	const char *dbname, *host, *port, *user;
};
#define BS_OPTS_CONN(c, dbname_help)                                                       \
	{ BS_OPT_STR, 'd', "dbname", &(c)->dbname, "DBNAME", dbname_help, 0, 0 },               \
	{ BS_OPT_STR, 'h', "host", &(c)->host, "HOST", "database server host or socket directory", 0, 0 }, \
	{ BS_OPT_STR, 'p', "port", &(c)->port, "PORT", "database server port", 0, 0 },          \
	{ BS_OPT_STR, 'U', "username", &(c)->user, "USER", "database user name", 0, 0 }

/* The connection options refused by a command that takes none, with a
 * pointer to what it takes instead. */
#define BS_OPTS_NO_CONN(why)                                                               \
	{ BS_OPT_REFUSED, 'd', "dbname", NULL, NULL, why, 0, 0 },                              \
	{ BS_OPT_REFUSED, 0, "db", NULL, NULL, why, 0, 0 },                                    \
	{ BS_OPT_REFUSED, 'h', "host", NULL, NULL, why, 0, 0 },                                \
	{ BS_OPT_REFUSED, 'p', "port", NULL, NULL, why, 0, 0 },                                \
	{ BS_OPT_REFUSED, 'U', "username", NULL, NULL, why, 0, 0 }

/* Parse argv[1..argc).  Positional arguments are collected in pos (its
 * array owned by the caller: release with bs_strlist_release). */
int bs_opts_parse(const struct bs_cmd_spec *spec, int argc, char **argv, struct bs_strlist *pos,
		  struct bs_err *err);

/* Print full help to f. */
void bs_opts_help(const struct bs_cmd_spec *spec, FILE *f);
/* Print a usage error and the "Try" line to stderr; returns 2. */
int bs_opts_fail(const struct bs_cmd_spec *spec, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Handle --help/--version/-q/-v after parsing: returns 1 if the command
 * should exit 0 now (help or version printed). */
int bs_opts_common(const struct bs_cmd_spec *spec, const struct bs_common_opts *c);

/* Print an error once and return its exit code (commands end with this). */
int bs_cmd_error(const struct bs_cmd_spec *spec, const struct bs_err *err);

/* Check stdout for write errors at exit: returns 0 or 3 (and prints why). */
int bs_stdout_close(const struct bs_cmd_spec *spec);

/* Subcommands (as git's commands[]): `backstop snap list ...`. */
struct bs_verb {
	const char *name;
	int (*run)(const struct bs_verb *v, int argc, char **argv); /* argv[0] is the verb */
	const struct bs_cmd_spec *spec;
};
/* If argv[1] names a verb of the NULL-terminated table, run it and return
 * 1 with its exit code in *rc; else return 0.  Options may come before the
 * verb ("gate --config F check NAME"): when every argument before a verb's
 * name is an option of that verb (with its value), argv is reordered to put
 * the verb first, and it runs. */
int bs_verbs_dispatch(const struct bs_verb *verbs, int argc, char **argv, int *rc);

/* The main of a command that is verbs only (gate, rollback): run the verb
 * argv[1] names; else parse spec's options (--help, --version) and fail
 * with a usage error: a verb is needed, or the word is no verb (with "did
 * you mean" for a likely typo, else the list of verbs, else what
 * unknown_hint (may be NULL) writes into buf about that word).  Returns the
 * exit code. */
int bs_verbs_main(const struct bs_cmd_spec *spec, struct bs_common_opts *co, const struct bs_verb *verbs, int argc,
		  char **argv, int (*unknown_hint)(const char *word, char *buf, size_t n));

/* The closest of names (NULL-terminated) to s, if close enough to be a
 * likely typo ("snapp" -> "snap"); NULL otherwise. */
const char *bs_did_you_mean(const char *s, const char *const *names);

#endif
