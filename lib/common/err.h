/*
 * err.h - error reporting for the backstop library.
 *
 * Library functions return 0 on success or a negative value on failure and
 * fill a caller-owned struct bs_err.  The library never prints errors and
 * never exits; commands print the error once (bs_err_print) and map the
 * error class to an exit code (bs_err_exit_code).
 *
 * Error codes are stable numbers: never renumber or reuse one.  Add new codes
 * at the end of their class.
 */
#ifndef BS_COMMON_ERR_H
#define BS_COMMON_ERR_H

#include <stdarg.h>
#include <stdio.h>

enum bs_errcode {
	BS_OK = 0,

	/* usage and configuration: exit 2 */
	BS_ERR_USAGE = 100,      /* bad command line */
	BS_ERR_CONFIG = 101,     /* bad configuration file or value */
	BS_ERR_POLICY = 102,     /* bad policy file */
	BS_ERR_NOT_FOUND = 103,  /* named object (snapshot id, key) does not exist */
	BS_ERR_REFUSED = 104,    /* refused for safety (non-empty target, no recipients) */
	BS_ERR_SECRET_PERM = 105,/* secret file readable by group/others */

	/* negative verdicts: exit 1 */
	BS_ERR_VERIFY = 200,     /* verification found a mismatch */
	BS_ERR_GATE = 201,       /* gate NO-GO */
	BS_ERR_PROBE = 202,      /* probe critical */

	/* runtime failures: exit 3 */
	BS_ERR_IO = 300,         /* file or stream I/O */
	BS_ERR_NOMEM = 301,
	BS_ERR_PG = 302,         /* PostgreSQL server or protocol */
	BS_ERR_PG_CONNECT = 303, /* cannot connect / authenticate */
	BS_ERR_CRYPTO = 304,     /* decryption/authentication failed */
	BS_ERR_FORMAT = 305,     /* archive corrupt or not a backstop archive */
	BS_ERR_SUBPROCESS = 306, /* pg_dump/pg_restore/hook failed or missing */
	BS_ERR_LOCKED = 307,     /* repository locked by another process */
	BS_ERR_INTERRUPTED = 308,/* SIGINT/SIGTERM */
	BS_ERR_NET = 309,        /* network / HTTP */
	BS_ERR_NO_IDENTITY = 310,/* no identity or passphrase given opens the archive */
	BS_ERR_EXISTS = 311,     /* a create-only write found the object there (another writer won) */
	BS_ERR_INTERNAL = 399,
};

#define BS_ERR_MSG_MAX 1024
#define BS_ERR_DETAIL_MAX 4096
#define BS_ERR_HINT_MAX 512

struct bs_err {
	int code;                        /* enum bs_errcode, BS_OK when clear */
	int sys_errno;                   /* errno captured where the call failed, or 0 */
	char msg[BS_ERR_MSG_MAX];        /* "unable to open repository '/x': permission denied" */
	char detail[BS_ERR_DETAIL_MAX];  /* optional extra facts */
	char hint[BS_ERR_HINT_MAX];      /* optional: what the user can do */
	char sqlstate[6];                /* PostgreSQL's SQLSTATE ("42501") when the server
					  * reported the error, else "": classify errors
					  * by it, never by message text (messages are
					  * translated by lc_messages) */
};

void bs_err_init(struct bs_err *err);
void bs_err_clear(struct bs_err *err);

/* Set code and message; clears detail and hint.  Returns -1 so callers can
 * write "return bs_err_set(err, ...);".  err may be NULL. */
int bs_err_set(struct bs_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int bs_err_vset(struct bs_err *err, int code, const char *fmt, va_list ap);

/* Like bs_err_set, appends ": strerror(errno)" and records errno. */
int bs_err_sys(struct bs_err *err, int code, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Prefix the existing message with context: "restoring table 'x': <old>". */
int bs_err_prefix(struct bs_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void bs_err_detail(struct bs_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void bs_err_hint(struct bs_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Print "backstop <cmd>: error: msg\n detail: ...\n hint: ...\n" to f. */
void bs_err_print(const struct bs_err *err, const char *prog, FILE *f);

/* Is err a server error with this SQLSTATE ("42501")? */
int bs_err_is_sqlstate(const struct bs_err *err, const char *sqlstate);

/* Exit code for an error class: 1 verdict, 2 usage/config, 3 runtime. */
int bs_err_exit_code(const struct bs_err *err);

/* Stable symbolic name, e.g. "BS_ERR_IO". */
const char *bs_err_name(int code);

#endif
