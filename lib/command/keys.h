/*
 * keys.h (command layer) - encryption set-up shared by snap, restore and
 * drills (keys.c): recipients for a new snapshot, identities to open one,
 * and a snapshot's archive stream with what its record says it is.
 */
#ifndef BS_COMMAND_KEYS_H
#define BS_COMMAND_KEYS_H

#include <stddef.h>

#include "archive/reader.h"
#include "catalog/catalog.h"
#include "common/err.h"
#include "common/stream.h"
#include "config/config.h"
#include "crypt/age.h"
#include "repo/repo.h"

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

#endif
