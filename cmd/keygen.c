/* keygen.c - backstop keygen: create an age X25519 identity.
 *
 * Thin: the option table and output only; keys, the identity file format
 * and the safe file creation live in lib/crypt (age.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"
#include "common/opts.h"
#include "crypt/age.h"

static struct bs_common_opts co;
static const char *o_output;

static const struct bs_opt keygen_opts[] = {
	BS_OPTS_BASIC(&co),
	{BS_OPT_STR, 'o', "output", &o_output, "FILE",
	 "write the identity to FILE (created with mode 0600, never overwritten) and print its "
	 "public key (age1...) on stdout; without -o the identity goes to stdout", 0, 0},
	{BS_OPT_END, 0, NULL, NULL, NULL, NULL, 0, 0},
};

static const struct bs_cmd_spec keygen_spec = {
	"keygen",
	"keygen [-o FILE]",
	"Create an age identity (an X25519 key pair) for encrypting snapshots. The identity file\n"
	"has age-keygen's format and also works with 'age -d -i FILE'. keygen reads no configuration.",
	keygen_opts,
	"Give the age1... public key to 'backstop snap --recipient' (or the configuration). Keep the\n"
	"identity file secret and safe: without it, encrypted snapshots cannot be restored.\n"
	"An existing FILE is refused with exit status 2.",
	NULL,
};

int main(int argc, char **argv)
{
	char *identity = NULL, *recipient = NULL, *text = NULL;
	struct bs_strlist pos = {0};
	struct bs_err err;
	int rc;

	bs_err_init(&err);
	bs_log_set_prog("backstop keygen");
	if (bs_opts_parse(&keygen_spec, argc, argv, &pos, &err) < 0) {
		bs_strlist_release(&pos);
		return bs_cmd_error(&keygen_spec, &err);
	}
	if (bs_opts_common(&keygen_spec, &co)) {
		bs_strlist_release(&pos);
		return bs_stdout_close(&keygen_spec);
	}
	if (pos.n > 0) {
		rc = bs_opts_fail(&keygen_spec, "unexpected argument '%s'", pos.v[0]);
		bs_strlist_release(&pos);
		return rc;
	}
	bs_strlist_release(&pos);

	if (bs_age_keygen(&identity, &recipient, &err) < 0 ||
	    bs_age_identity_file_text(identity, recipient, time(NULL), &text, &err) < 0)
		goto fail;
	if (o_output) {
		if (bs_age_write_secret_file(o_output, text, &err) < 0) {
			if (err.sys_errno == ENOENT) {
				char dir[4096], *slash;
				snprintf(dir, sizeof(dir), "%s", o_output);
				slash = strrchr(dir, '/');
				if (slash && slash != dir)
					*slash = '\0';
				else
					snprintf(dir, sizeof(dir), ".");
				bs_err_set(&err, BS_ERR_CONFIG, "directory '%s' does not exist", dir);
				bs_err_hint(&err, "create it first, readable only by you: install -d -m 0700 %s", dir);
			}
			goto fail;
		}
		printf("%s\n", recipient);
		bs_info("wrote the identity to '%s' (keep it secret; it is the only way to restore)",
			o_output);
	} else {
		fputs(text, stdout);
	}
	rc = bs_stdout_close(&keygen_spec);
	goto out;
fail:
	rc = bs_cmd_error(&keygen_spec, &err);
out:
	bs_secret_free(text);
	bs_secret_free(identity);
	free(recipient);
	return rc;
}
