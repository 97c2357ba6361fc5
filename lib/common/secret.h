/*
 * secret.h - the one home of secrets in memory: reading a secret file,
 * wiping, freeing, and protecting the process that holds them.
 *
 * Every secret the library holds (age identities, passphrases, a database
 * password, and later object-store keys, registry tokens, SSH keys) is read
 * by bs_secret_read_file or copied into a heap string, and released with
 * bs_secret_free.  A secret is never logged and never put on a command line.
 */
#ifndef BS_COMMON_SECRET_H
#define BS_COMMON_SECRET_H

#include <stddef.h>

#include "common/err.h"

/* Default and usual limit of a secret file (max 0 below). */
#define BS_SECRET_FILE_MAX (64 * 1024)

/* Flags of bs_secret_read_file. */
#define BS_SECRET_FOLLOW 0x1 /* follow a symbolic link (secret mounts, as in
			      * Kubernetes, are links); the checks apply to
			      * the file it points to.  Without it a link is
			      * refused (O_NOFOLLOW). */
#define BS_SECRET_STREAM 0x2 /* a FIFO or a device is read too, until end of
			      * file (an identity handed over through a
			      * named pipe or /dev/stdin); the open blocks
			      * until a FIFO has a writer.  A directory is
			      * still refused. */

/* Read a secret file into a NUL-terminated heap string.  The rules, for
 * every secret file:
 *   - a regular file (no directory; no FIFO or device unless
 *     BS_SECRET_STREAM; no symbolic link unless BS_SECRET_FOLLOW): else
 *     BS_ERR_CONFIG;
 *   - not accessible by group or others, as ssh demands of private keys:
 *     else BS_ERR_SECRET_PERM "<what> '<path>' is accessible by group or
 *     others (mode 0640)", hint "chmod 600 <path>";
 *   - at most max bytes (0: BS_SECRET_FILE_MAX), no NUL byte: else
 *     BS_ERR_CONFIG;
 *   - one trailing newline ("\n" or "\r\n") is removed, everything else is
 *     kept; what remains must not be empty: else BS_ERR_CONFIG "is empty".
 * A missing file is BS_ERR_NOT_FOUND, another open failure BS_ERR_CONFIG.
 * what names the file in messages ("identity file"; NULL: "secret file").
 * Calls bs_secret_protect_process first.  *out (NULL on failure) is owned by
 * the caller: bs_secret_free.  *len (may be NULL) is strlen(*out).  On
 * failure, whatever was read is wiped. */
int bs_secret_read_file(const char *path, const char *what, size_t max, int flags, char **out,
			size_t *len, struct bs_err *err);

/* Overwrite n bytes at p with zeros in a way the compiler cannot drop
 * (explicit_bzero).  p NULL or n 0: no-op. */
void bs_secret_wipe(void *p, size_t n);

/* Wipe the string (strlen bytes), then free it.  NULL is a no-op. */
void bs_secret_free(char *s);

/* Before the first secret enters memory, once per process: no core dump
 * (RLIMIT_CORE 0) and not dumpable (PR_SET_DUMPABLE 0: no core, no
 * ptrace attach and no /proc/<pid>/mem, environ or fd access by other
 * processes of the same user).  bs_secret_read_file calls it, and so does
 * every other reader of secrets (BACKSTOP_PASSPHRASE, the prompt, secret
 * keys, keygen, a configuration file holding a database password).
 * Children inherit RLIMIT_CORE 0; exec makes them dumpable again.  Failures
 * are ignored (a secret is still better used than refused). */
void bs_secret_protect_process(void);

#endif
