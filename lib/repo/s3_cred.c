/* s3_cred.c - where the S3 backend's credentials come from (s3_int.h).
 * Every secret is held by common/secret and never appears in a message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/secret.h"
#include "repo/s3_int.h"

static int from_file(char **slot, const char *path, const char *what, struct bs_err *err)
{
	if (!path)
		return 0;
	return bs_secret_read_file(path, what, 4096, BS_SECRET_FOLLOW, slot, NULL, err);
}

static int dup_secret(char **slot, const char *v, struct bs_err *err)
{
	if (!v || !*v)
		return 0;
	bs_secret_protect_process();
	if (!(*slot = strdup(v)))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* [profile] section of an AWS shared credentials file (INI). */
static int from_shared_file(struct bs_s3_cred *c, struct bs_err *err)
{
	const char *path = getenv("AWS_SHARED_CREDENTIALS_FILE"), *home = getenv("HOME");
	const char *profile = getenv("AWS_PROFILE");
	char def[4096], *text = NULL, *line, *save = NULL;
	int in = 0, rc;

	if (!path) {
		if (!home)
			return 0;
		snprintf(def, sizeof(def), "%s/.aws/credentials", home);
		path = def;
	}
	if (!profile || !*profile)
		profile = "default";
	rc = bs_secret_read_file(path, "AWS shared credentials file", 0, BS_SECRET_FOLLOW, &text, NULL, err);
	if (rc < 0) {
		if (err->code == BS_ERR_NOT_FOUND && !getenv("AWS_SHARED_CREDENTIALS_FILE")) {
			bs_err_init(err);
			return 0; /* no file: not an error, just no credentials from it */
		}
		return -1;
	}
	for (line = strtok_r(text, "\n", &save); line && rc == 0; line = strtok_r(NULL, "\n", &save)) {
		char *t = trim(line), *eq;
		if (*t == '[') {
			char *end = strchr(t, ']');
			if (end)
				*end = '\0';
			in = strcmp(trim(t + 1), profile) == 0;
			continue;
		}
		if (!in || *t == '#' || *t == ';' || !(eq = strchr(t, '=')))
			continue;
		*eq = '\0';
		t = trim(t);
		if (strcmp(t, "aws_access_key_id") == 0 && !c->access_key)
			rc = dup_secret(&c->access_key, trim(eq + 1), err);
		else if (strcmp(t, "aws_secret_access_key") == 0 && !c->secret_key)
			rc = dup_secret(&c->secret_key, trim(eq + 1), err);
		else if (strcmp(t, "aws_session_token") == 0 && !c->session_token)
			rc = dup_secret(&c->session_token, trim(eq + 1), err);
	}
	bs_secret_free(text);
	return rc;
}

int s3_cred_load(struct bs_s3_cred *c, const struct bs_repo_settings *set, const char *where,
		 struct bs_err *err)
{
	memset(c, 0, sizeof(*c));
	if (set && (set->access_key_file || set->secret_key_file)) {
		if (from_file(&c->access_key, set->access_key_file, "S3 access key file", err) < 0 ||
		    from_file(&c->secret_key, set->secret_key_file, "S3 secret key file", err) < 0 ||
		    from_file(&c->session_token, set->session_token_file, "S3 session token file", err) < 0)
			goto fail;
	} else if (getenv("AWS_ACCESS_KEY_ID") && *getenv("AWS_ACCESS_KEY_ID")) {
		if (dup_secret(&c->access_key, getenv("AWS_ACCESS_KEY_ID"), err) < 0 ||
		    dup_secret(&c->secret_key, getenv("AWS_SECRET_ACCESS_KEY"), err) < 0 ||
		    dup_secret(&c->session_token, getenv("AWS_SESSION_TOKEN"), err) < 0)
			goto fail;
	} else if (from_shared_file(c, err) < 0) {
		goto fail;
	}
	if (!c->access_key || !c->secret_key) {
		bs_err_set(err, BS_ERR_CONFIG, "no S3 credentials for %s: %s", where,
			   c->access_key ? "no secret access key" : "no access key id");
		bs_err_hint(err, "set 'access_key_file' and 'secret_key_file' under 'repository:', or "
				 "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile in ~/.aws/credentials "
				 "(AWS_PROFILE)");
		goto fail;
	}
	return 0;
fail:
	s3_cred_release(c);
	return -1;
}

void s3_cred_release(struct bs_s3_cred *c)
{
	bs_secret_free(c->access_key);
	bs_secret_free(c->secret_key);
	bs_secret_free(c->session_token);
	memset(c, 0, sizeof(*c));
}
