/*
 * fuzz_age_keys.c - the key strings: bech32 "age1..." recipients and
 * "AGE-SECRET-KEY-1..." identities (bs_age_recipients_add,
 * bs_age_identities_add, bs_age_identity_to_recipient).
 *
 * Properties: an accepted recipient reads back in canonical form, and that
 * form is accepted again to the same key; an accepted identity yields a
 * recipient that is itself accepted.
 */
#include "crypt/age.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_strndup(data, size), *pub = NULL;
	struct bs_age_recipients *r = bs_age_recipients_new(), *r2 = bs_age_recipients_new();
	struct bs_age_identities *ids = bs_age_identities_new();
	struct bs_err err;
	int rc;

	fuzz_quiet();
	FUZZ_ASSERT(r && r2 && ids);
	bs_err_init(&err);
	rc = bs_age_recipients_add(r, s, &err);
	fuzz_check_err(rc, &err);
	if (rc == 0) {
		const char *canon = bs_age_recipients_get(r, 0);
		FUZZ_ASSERT(canon && strncmp(canon, "age1", 4) == 0);
		FUZZ_ASSERT(bs_age_recipients_add(r2, canon, &err) == 0);
		FUZZ_ASSERT(strcmp(bs_age_recipients_get(r2, 0), canon) == 0);
	}

	bs_err_init(&err);
	rc = bs_age_identities_add(ids, s, &err);
	fuzz_check_err(rc, &err);
	if (rc == 0) {
		const char *rec = bs_age_identities_recipient(ids, 0);
		FUZZ_ASSERT(rec);
		FUZZ_ASSERT(bs_age_identity_to_recipient(s, &pub, &err) == 0);
		FUZZ_ASSERT(strcmp(pub, rec) == 0);
		FUZZ_ASSERT(bs_age_recipients_add(r2, rec, &err) == 0);
		free(pub);
	} else {
		bs_err_init(&err);
		FUZZ_ASSERT(bs_age_identity_to_recipient(s, &pub, &err) < 0);
		FUZZ_ASSERT(pub == NULL);
	}

	bs_age_recipients_free(r);
	bs_age_recipients_free(r2);
	bs_age_identities_free(ids);
	free(s);
	return 0;
}
