/*
 * template.h - driver commands (template.c): argv templates whose
 * arguments may hold {service} {image} {digest} {ref} {file}, and running
 * them.  The command runs without a shell, so a value is always one
 * argument, whatever it holds.
 */
#ifndef BS_RELEASE_TEMPLATE_H
#define BS_RELEASE_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct bs_release_vars {
	const char *service; /* the backstop service (exec) or the compose service */
	const char *image;   /* the image's repository: ghcr.io/acme/api */
	const char *digest;  /* sha256:... */
	const char *ref;     /* image@digest */
	const char *file;    /* the compose file */
};

/* BS_ERR_CONFIG for an empty template or an unknown {placeholder}; what
 * names the setting ("services.api.exec.command"). */
int bs_release_template_check(char *const *tmpl, size_t n, const char *what, struct bs_err *err);
/* A NULL-terminated argv (free with bs_release_argv_free), or NULL when
 * out of memory. */
char **bs_release_template_expand(char *const *tmpl, size_t n, const struct bs_release_vars *v);
void bs_release_argv_free(char **argv);
/* The argv as one line for messages and plans (arguments with spaces or
 * quotes in '...'). */
void bs_release_argv_text(char *const *argv, char *out, size_t n);

/* Run a driver's command: argv[0] looked up in PATH, no shell, the
 * environment PATH, HOME and the locale only (BS_RUN_ENV_MINIMAL) plus
 * BACKSTOP_SERVICE (svc_name), BACKSTOP_IMAGE and BACKSTOP_DIGEST (from v),
 * killed after timeout_ms (<= 0: 10 minutes); its stderr's tail goes into
 * the error.  0 when it exited 0, else -1 with err (BS_ERR_SUBPROCESS). */
int bs_release_command_run(char *const *argv, const char *svc_name, const struct bs_release_vars *v, int64_t timeout_ms,
			   struct bs_err *err);

#endif
