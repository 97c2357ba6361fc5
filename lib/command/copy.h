/*
 * copy.h (command layer) - a snapshot from one repository to another,
 * byte for byte (an encrypted archive stays encrypted: nothing is ever
 * decrypted), and snap's fan-out to every configured repository.
 *
 * The copy reads the record and the archive from the source, writes the
 * archive to the destination create-only while a SHA-256 tap measures it,
 * checks size and digest against the record (version 2 records; a
 * version 1 record by size only), and only then commits the record there:
 * the destination lists the snapshot only when its own copy is complete.
 * A snapshot already in the destination with the same archive digest is
 * left as it is ("already there").
 */
#ifndef BS_COMMAND_COPY_H
#define BS_COMMAND_COPY_H

#include "common/err.h"
#include "config/config.h"

struct bs_repo;

/* snap's exit status when the snapshot was committed to the repository it
 * was taken into but not copied to every other one of 'repositories:'. */
#define BS_EXIT_PARTIAL 4

struct bs_copy_result {
	char id[64];
	uint64_t bytes;      /* archive bytes copied (0 when already there) */
	int already;         /* the destination had it */
	double seconds;
};

/* Copy snapshot spec ("latest" over one database, an id, a prefix) from
 * one open repository to another. */
int bs_snap_copy(struct bs_repo *from, struct bs_repo *to, const char *spec, const char *database,
		 struct bs_copy_result *res, struct bs_err *err);

/* Open the repository of entry i of cfg->repos ('repositories:'). */
int bs_cmd_repo_open_entry(const struct bs_config *cfg, size_t i, struct bs_repo **out, struct bs_err *err);

/* After a snap committed snapshot id to entry cfg->selected_repo: copy it
 * (unless --repo or BACKSTOP_REPO chose the repository: cfg->repo_chosen)
 * to every other entry of 'repositories:'.  Each copy's outcome is logged
 * (info on success, error naming the repository on failure); returns the
 * number of repositories that did not get it (0: all did). */
int bs_cmd_snap_fan_out(const struct bs_config *cfg, const char *id, struct bs_err *first_err);

#endif
