/* keys.c - which keys encrypt a new snapshot and which open an old one */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "command/keys.h"
#include "common/log.h"

int bs_keys_recipients(const struct bs_config *cfg, const char *const *extra, const char *extra_file,
		       int no_encryption, struct bs_age_recipients **out, struct bs_err *err)
{
	struct bs_age_recipients *r;
	char *pass = NULL;
	size_t i;

	*out = NULL;
	if (no_encryption || cfg->encryption.mode == BS_ENC_NONE) {
		if (extra && extra[0])
			return bs_err_set(err, BS_ERR_USAGE, "--recipient conflicts with --no-encryption");
		bs_warn("the snapshot is written UNENCRYPTED (%s); anyone who can read the repository can read the data",
			no_encryption ? "--no-encryption" : "encryption: none");
		return 0;
	}
	r = bs_age_recipients_new();
	if (!r)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	for (i = 0; i < cfg->encryption.recipients_count; i++)
		if (bs_age_recipients_add(r, cfg->encryption.recipients[i], err) < 0)
			goto fail;
	if (cfg->encryption.recipients_file &&
	    bs_age_recipients_load_file(r, cfg->encryption.recipients_file, err) < 0)
		goto fail;
	for (i = 0; extra && extra[i]; i++)
		if (bs_age_recipients_add(r, extra[i], err) < 0)
			goto fail;
	if (extra_file && bs_age_recipients_load_file(r, extra_file, err) < 0)
		goto fail;
	if (cfg->encryption.passphrase_file) {
		if (bs_passphrase_read_file(cfg->encryption.passphrase_file, &pass, err) < 0)
			goto fail;
	} else if (getenv("BACKSTOP_PASSPHRASE") && *getenv("BACKSTOP_PASSPHRASE")) {
		if (bs_passphrase_from_env("BACKSTOP_PASSPHRASE", &pass, err) < 0)
			goto fail;
	}
	if (pass) {
		int rc = bs_age_recipients_set_passphrase(r, pass, err);
		bs_secret_free(pass);
		if (rc < 0)
			goto fail;
	}
	if (bs_age_recipients_count(r) == 0 && !bs_age_recipients_has_passphrase(r)) {
		bs_age_recipients_free(r);
		bs_err_set(err, BS_ERR_REFUSED, "no encryption recipients configured: refusing to write an unencrypted backup");
		bs_err_hint(err, "run 'backstop keygen -o restore-key.txt' and put the printed age1... key under "
				 "'encryption: { recipients: [...] }' in backstop.yaml (or pass --recipient); "
				 "to write in clear on purpose, set 'encryption: none' or pass --no-encryption");
		return -1;
	}
	*out = r;
	return 0;
fail:
	bs_age_recipients_free(r);
	return -1;
}

int bs_keys_identities(const struct bs_config *cfg, const char *identity_file,
		       const struct bs_snap_record *rec, struct bs_age_identities **out,
		       struct bs_err *err)
{
	struct bs_age_identities *ids;
	const char *idf = identity_file ? identity_file : cfg->restore.identity_file;
	const char *pf = cfg->restore.passphrase_file ? cfg->restore.passphrase_file
						      : cfg->encryption.passphrase_file;
	char *pass = NULL;
	int have_pass = 0;

	*out = NULL;
	ids = bs_age_identities_new();
	if (!ids)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	if (idf && bs_age_identities_load_file(ids, idf, err) < 0)
		goto fail;
	if (rec)
		bs_age_identities_note_recipients(ids, (const char *const *)rec->recipients,
						  rec->nrecipients);
	if (pf) {
		if (bs_passphrase_read_file(pf, &pass, err) < 0)
			goto fail;
	} else if (getenv("BACKSTOP_PASSPHRASE") && *getenv("BACKSTOP_PASSPHRASE")) {
		if (bs_passphrase_from_env("BACKSTOP_PASSPHRASE", &pass, err) < 0)
			goto fail;
	} else if (rec && rec->passphrase && !idf && isatty(0)) {
		if (bs_passphrase_prompt("passphrase for the snapshot: ", 0, &pass, err) < 0)
			goto fail;
	}
	if (pass) {
		int rc = bs_age_identities_add_passphrase(ids, pass, err);
		bs_secret_free(pass);
		if (rc < 0)
			goto fail;
		have_pass = 1;
	}
	if (bs_age_identities_count(ids) == 0 && !have_pass) {
		bs_age_identities_free(ids);
		bs_err_set(err, BS_ERR_CONFIG, "snapshot %s is encrypted and no identity or passphrase was given",
			   rec ? rec->id : "");
		if (rec && rec->nrecipients > 0)
			bs_err_hint(err, "pass --identity FILE (or restore.identity_file, BACKSTOP_IDENTITY_FILE) with the secret key of one of: %s%s",
				    rec->recipients[0], rec->nrecipients > 1 ? ", ..." : "");
		else
			bs_err_hint(err, "set BACKSTOP_PASSPHRASE_FILE or restore.passphrase_file");
		return -1;
	}
	*out = ids;
	return 0;
fail:
	bs_age_identities_free(ids);
	return -1;
}

int bs_open_archive(struct bs_repo *repo, const struct bs_snap_record *rec,
		    const struct bs_age_identities *ids, struct bs_rstream **out,
		    struct bs_archive_expect *x, struct bs_err *err)
{
	struct bs_rstream *raw = NULL, *dec;

	*out = NULL;
	bs_snap_record_expect(rec, x);
	if (bs_repo_get(repo, rec->archive, &raw, err) < 0) {
		if (err->code == BS_ERR_NOT_FOUND) {
			err->code = BS_ERR_FORMAT;
			bs_err_prefix(err, "snapshot %s is listed but its archive is missing", rec->id);
		}
		return -1;
	}
	/* the digest of the bytes as stored, compared with the record at the end */
	if (!(raw = bs_rstream_sha256(raw, &x->stored)))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	if (!rec->encrypted) {
		*out = raw;
		return 0;
	}
	dec = bs_age_decrypt_new(raw, ids, err);
	if (!dec) {
		bs_err_prefix(err, "unable to decrypt snapshot %s", rec->id);
		return -1;
	}
	*out = dec;
	return 0;
}
