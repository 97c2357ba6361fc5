/* config.c - see config.h */
#include "config/config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/bind.h"
#include "config/policy_file.h"
#include "config/policy_file_int.h"
#include "config/yaml_node.h"
#include "common/secret.h"
#include "crypt/age.h"

/* ---- value checks ------------------------------------------------------ */

int bs_conninfo_has_password(const char *s)
{
	const char *p;

	if (!s)
		return 0;
	if (strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0) {
		const char *auth = strstr(s, "://") + 3;
		size_t alen = strcspn(auth, "/?#");
		const char *at = NULL, *colon;

		for (p = auth; p < auth + alen; p++)
			if (*p == '@')
				at = p;
		if (at) {
			colon = memchr(auth, ':', (size_t)(at - auth));
			if (colon && colon + 1 < at && !(colon + 3 == at && colon[1] == '\'' &&
							  colon[2] == '\''))
				return 1;
		}
		p = strchr(s, '?');
		while (p) {
			if (strncmp(p + 1, "password=", 9) == 0 && p[10] && p[10] != '&' &&
			    strncmp(p + 10, "''", 2) != 0)
				return 1;
			p = strchr(p + 1, '&');
		}
		return 0;
	}
	/* key = value form: a "password" keyword with a non-empty value ('' is
	 * empty; it is also what the binder shows for "password=${PW}", whose
	 * value comes from the environment). */
	for (p = s; (p = strstr(p, "password")) != NULL; p += 8) {
		const char *q = p + 8;

		if (p != s && p[-1] != ' ' && p[-1] != '\t' && p[-1] != '\n')
			continue;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q != '=')
			continue;
		q++;
		while (*q == ' ' || *q == '\t' || *q == '\n')
			q++;
		if (!*q)
			continue;
		if (strncmp(q, "''", 2) == 0 && (!q[2] || q[2] == ' ' || q[2] == '\t'))
			continue;
		return 1;
	}
	return 0;
}

static int check_recipient(const char *keypath, const char *v, struct bs_err *err)
{
	static const char bech32[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
	const char *c;

	if (strncasecmp(v, "AGE-SECRET-KEY-", 15) == 0) {
		/* never echo a secret key */
		bs_err_set(err, BS_ERR_CONFIG, "a secret key was given in '%s'", keypath);
		bs_err_hint(err, "list public keys (age1...) here; the secret key belongs "
				 "in restore.identity_file on the restore host only");
		return -1;
	}
	if (strncmp(v, "age1", 4) != 0 || strlen(v) < 10)
		goto bad;
	for (c = v + 4; *c; c++)
		if (!strchr(bech32, *c))
			goto bad;
	return 0;
bad:
	bs_err_set(err, BS_ERR_CONFIG, "'%s' in '%s' is not an age recipient", v, keypath);
	bs_err_hint(err, "age recipients look like 'age1...' (62 characters); "
			 "'backstop keygen' prints one");
	return -1;
}

/* ---- schema ------------------------------------------------------------ */

#define C struct bs_config
#define S struct bs_config_snap
#define E struct bs_config_encryption
#define R struct bs_config_restore
#define D struct bs_config_drill
#define H struct bs_config_hooks
#define P struct bs_config_repository

#define CONNINFO(k, T, m)                                                       \
	{ .key = (k), .type = BS_BIND_STRING, .offset = offsetof(T, m),            \
	  .flags = BS_BIND_SECRET, .has_secret = bs_conninfo_has_password,            \
	  .hint = "write a libpq connection string, e.g. 'postgresql://user@host/dbname' " \
		  "or 'host=db dbname=app'" }

static const struct bs_bind_field snap_fields[] = {
	BS_BIND_F_INT("jobs", S, jobs, 1, BS_CONFIG_SNAP_JOBS_MAX),
	BS_BIND_F_INT("compress_level", S, compress_level, 1, 19),
	BS_BIND_F_SIZE("chunk_size", S, chunk_size, BS_CONFIG_CHUNK_SIZE_MIN,
		       BS_CONFIG_CHUNK_SIZE_MAX),
	{ .key = "lock_timeout", .type = BS_BIND_DURATION, .offset = offsetof(S, lock_timeout_ms),
	  .scale = 1000, .min = 1, .max = 0 },
	BS_BIND_F_PATH("pg_bindir", S, pg_bindir, 0),
	BS_BIND_F_BOOL("prune", S, prune),
	BS_BIND_F_BOOL("role_passwords", S, role_passwords),
	BS_BIND_F_END,
};

static const struct bs_bind_field encryption_fields[] = {
	{ .key = "recipients", .type = BS_BIND_STRLIST, .offset = offsetof(E, recipients),
	  .count_offset = offsetof(E, recipients_count), .check = check_recipient },
	BS_BIND_F_PATH("recipients_file", E, recipients_file, 0),
	BS_BIND_F_PATH("passphrase_file", E, passphrase_file, BS_BIND_SECRET_FILE),
	BS_BIND_F_END,
};

static const struct bs_bind_field restore_fields[] = {
	CONNINFO("target", R, target),
	BS_BIND_F_INT("jobs", R, jobs, 1, BS_CONFIG_SNAP_JOBS_MAX),
	BS_BIND_F_PATH("identity_file", R, identity_file, BS_BIND_SECRET_FILE),
	BS_BIND_F_PATH("passphrase_file", R, passphrase_file, BS_BIND_SECRET_FILE),
	BS_BIND_F_END,
};

static const struct bs_bind_field gate_fields[] = {
	BS_BIND_F_PATH("policies", struct bs_config_gate, policies, 0),
	BS_BIND_F_END,
};

static const struct bs_bind_field drill_fields[] = {
	CONNINFO("scratch", D, scratch),
	BS_BIND_F_PATH("policy", D, policy, 0),
	BS_BIND_F_BOOL("keep", D, keep),
	BS_BIND_F_DURATION("max_rto", D, max_rto_ms, 1000),
	BS_BIND_F_DURATION("max_snapshot_age", D, max_snapshot_age_ms, 1000),
	BS_BIND_F_END,
};

static const struct bs_bind_field hooks_fields[] = {
	BS_BIND_F_PATH("pre_snap", H, pre_snap, 0),
	BS_BIND_F_PATH("post_snap", H, post_snap, 0),
	BS_BIND_F_PATH("snap_failed", H, snap_failed, 0),
	BS_BIND_F_PATH("on_failure", H, on_failure, 0),
	BS_BIND_F_PATH("post_drill", H, post_drill, 0),
	BS_BIND_F_PATH("drill_failed", H, drill_failed, 0),
	BS_BIND_F_PATH("pre_rollback", H, pre_rollback, 0),
	BS_BIND_F_PATH("post_rollback", H, post_rollback, 0),
	BS_BIND_F_PATH("release_bad", H, release_bad, 0),
	BS_BIND_F_PATH("pre_restore", H, pre_restore, 0),
	BS_BIND_F_PATH("post_restore", H, post_restore, 0),
	BS_BIND_F_PATH("gate_no_go", H, gate_no_go, 0),
	{ .key = "timeout", .type = BS_BIND_DURATION, .offset = offsetof(H, timeout_s), .scale = 1, .min = 1,
	  .max = 86400 },
	BS_BIND_F_END,
};

static int bind_store(struct bs_bind_ctx *ctx, const struct bs_bind_field *f, const struct bs_ynode *node,
		      const char *keypath, void *base, struct bs_err *err);

static int check_sse(const char *keypath, const char *value, struct bs_err *err)
{
	if (strcmp(value, "AES256") == 0 || strcmp(value, "aws:kms") == 0)
		return 0;
	return bs_err_set(err, BS_ERR_CONFIG, "'%s' is '%s': expected AES256 or aws:kms", keypath, value);
}

/* Every object gets the class, catalog records too: a class whose objects
 * must be restored before they can be read would leave the catalog
 * unreadable (snap list, restore, prune). */
static int check_storage_class(const char *keypath, const char *value, struct bs_err *err)
{
	if (strcmp(value, "GLACIER") != 0 && strcmp(value, "DEEP_ARCHIVE") != 0)
		return 0;
	bs_err_set(err, BS_ERR_CONFIG, "'%s' is '%s': objects of that class must be restored before they can be read, "
				       "and every object of the repository gets it, catalog records too", keypath, value);
	bs_err_hint(err, "keep a class that reads at once (STANDARD_IA, GLACIER_IR...) and let a lifecycle rule on the "
			 "bucket move 'archives/' to %s after a while", value);
	return -1;
}

static const struct bs_bind_field repository_fields[] = {
	BS_BIND_F_PATH("path", P, path, 0),
	BS_BIND_F_STRING("bucket", P, bucket, 0),
	BS_BIND_F_STRING("account", P, account, 0),
	BS_BIND_F_STRING("container", P, container, 0),
	BS_BIND_F_STRING("prefix", P, prefix, 0),
	BS_BIND_F_STRING("endpoint", P, endpoint, 0),
	BS_BIND_F_STRING("region", P, region, 0),
	BS_BIND_F_PATH("access_key_file", P, access_key_file, BS_BIND_SECRET_FILE),
	BS_BIND_F_PATH("secret_key_file", P, secret_key_file, BS_BIND_SECRET_FILE),
	BS_BIND_F_PATH("session_token_file", P, session_token_file, BS_BIND_SECRET_FILE),
	BS_BIND_F_PATH("sas_token_file", P, sas_token_file, BS_BIND_SECRET_FILE),
	BS_BIND_F_SIZE("part_size", P, part_size, BS_CONFIG_PART_SIZE_MIN, BS_CONFIG_PART_SIZE_MAX),
	BS_BIND_F_INT("retries", P, retries, 0, BS_CONFIG_RETRIES_MAX),
	{ .key = "retry_timeout", .type = BS_BIND_DURATION, .offset = offsetof(P, retry_timeout_ms),
	  .scale = 1000, .min = 1, .max = 0 },
	{ .key = "stall_timeout", .type = BS_BIND_DURATION, .offset = offsetof(P, stall_timeout_ms),
	  .scale = 1000, .min = 1, .max = 0 },
	{ .key = "lease_ttl", .type = BS_BIND_DURATION, .offset = offsetof(P, lease_ttl_ms),
	  .scale = 1000, .min = 1, .max = 0 },
	BS_BIND_F_PATH("retention", P, retention, 0),
	{ .key = "storage_class", .type = BS_BIND_STRING, .offset = offsetof(P, storage_class),
	  .check = check_storage_class },
	{ .key = "sse", .type = BS_BIND_STRING, .offset = offsetof(P, sse), .check = check_sse },
	BS_BIND_F_STRING("sse_kms_key_id", P, sse_kms_key_id, 0),
	{ .key = "s3", .type = BS_BIND_CUSTOM, .custom = bind_store },
	{ .key = "azure", .type = BS_BIND_CUSTOM, .custom = bind_store },
	BS_BIND_F_END,
};

#define REPOSITORY_HINT                                                                      \
	"write 'repository: DIR', or a mapping with 'path: DIR', 'bucket:' (S3) or " \
	"'account:' and 'container:' (Azure Blob)"

/* The keys that only object storage reads. */
static const char *object_only_key(const struct bs_config_repository *p)
{
	if (p->prefix)
		return "prefix";
	if (p->endpoint)
		return "endpoint";
	if (p->region)
		return "region";
	if (p->account)
		return "account";
	if (p->access_key_file)
		return "access_key_file";
	if (p->secret_key_file)
		return "secret_key_file";
	if (p->session_token_file)
		return "session_token_file";
	if (p->sas_token_file)
		return "sas_token_file";
	if (p->part_size)
		return "part_size";
	if (p->retries >= 0)
		return "retries";
	if (p->retry_timeout_ms)
		return "retry_timeout";
	if (p->stall_timeout_ms)
		return "stall_timeout";
	if (p->storage_class)
		return "storage_class";
	if (p->sse)
		return "sse";
	if (p->sse_kms_key_id)
		return "sse_kms_key_id";
	return NULL;
}

/* The location a mapping names: its path, or s3://bucket/prefix,
 * azure://account/container/prefix. */
static int repository_location(struct bs_bind_ctx *ctx, const struct bs_bind_field *f,
			       const struct bs_ynode *node, const char *keypath,
			       const struct bs_config_repository *p, char **out, struct bs_err *err)
{
	const char *extra;
	char *loc = NULL;
	int kinds = !!p->path + !!p->bucket + !!p->container;

	if (kinds != 1) {
		bs_bind_error(ctx, f, node, err, kinds ? "'%s' names more than one of 'path', 'bucket' "
							 "and 'container'"
						       : "'%s' names no 'path', 'bucket' or 'container'",
			      keypath);
		return -1;
	}
	if (p->path) {
		extra = object_only_key(p);
		if (extra) {
			bs_bind_error(ctx, f, node, err, "'%s.%s' applies to object storage, not to a "
							 "local 'path'", keypath, extra);
			bs_err_hint(err, "remove it, or name a 'bucket' or 'container' instead of 'path'");
			return -1;
		}
		loc = strdup(p->path);
	} else if (p->bucket) {
		if (asprintf(&loc, "s3://%s/%s", p->bucket, p->prefix ? p->prefix : "") < 0)
			loc = NULL;
	} else {
		if (!p->account) {
			bs_bind_error(ctx, f, node, err, "'%s.container' needs '%s.account'", keypath,
				      keypath);
			return -1;
		}
		if (asprintf(&loc, "azure://%s/%s/%s", p->account, p->container,
			     p->prefix ? p->prefix : "") < 0)
			loc = NULL;
	}
	if (!loc)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	free(*out);
	*out = loc;
	return 0;
}

/* 's3:' / 'azure:' inside a repository mapping: the same keys, one level
 * down (repositories: { offsite: { s3: { bucket: ... }, retention: ... } }). */
static int bind_store(struct bs_bind_ctx *ctx, const struct bs_bind_field *f, const struct bs_ynode *node,
		      const char *keypath, void *base, struct bs_err *err)
{
	struct bs_config_repository *p = base;
	int s3 = strcmp(f->key, "s3") == 0;

	if (node->kind != BS_YNODE_MAPPING) {
		bs_bind_error(ctx, f, node, err, "expected a mapping for '%s', got %s", keypath,
			      bs_ynode_kind_name(node));
		return -1;
	}
	if (bs_bind_table(ctx, repository_fields, node, keypath, p, err) < 0)
		return -1;
	if (s3 ? !p->bucket || p->path || p->container : !p->container || p->path || p->bucket) {
		bs_bind_error(ctx, f, node, err, "'%s' needs '%s' (and no %s)", keypath, s3 ? "bucket" : "container",
			      s3 ? "'path' or 'container'" : "'path' or 'bucket'");
		return -1;
	}
	return 0;
}

/* 'repository:' is a path, or a mapping (config.h, struct bs_config_repository). */
static int bind_repository(struct bs_bind_ctx *ctx, const struct bs_bind_field *f,
			   const struct bs_ynode *node, const char *keypath, void *base,
			   struct bs_err *err)
{
	static const struct bs_bind_field as_path = {
		.key = "repository", .type = BS_BIND_PATH, .offset = offsetof(C, repository),
		.hint = REPOSITORY_HINT,
	};
	struct bs_config *cfg = base;

	if (node->kind == BS_YNODE_SCALAR && node->null)
		return 0;
	if (node->kind == BS_YNODE_SCALAR)
		return bs_bind_value(ctx, &as_path, node, keypath, cfg, err);
	if (node->kind != BS_YNODE_MAPPING) {
		bs_bind_error(ctx, f, node, err, "expected a path or a mapping for '%s', got %s",
			      keypath, bs_ynode_kind_name(node));
		return -1;
	}
	bs_bind_release(repository_fields, &cfg->repo);
	cfg->repo.retries = -1;
	if (bs_bind_table(ctx, repository_fields, node, keypath, &cfg->repo, err) < 0)
		return -1;
	if (cfg->repo.retention) {
		bs_bind_error(ctx, f, node, err, "'%s.retention' belongs to an entry of 'repositories:'", keypath);
		bs_err_hint(err, "use the top-level 'retention:' for the one repository");
		return -1;
	}
	return repository_location(ctx, f, node, keypath, &cfg->repo, &cfg->repository, err);
}

/* ---- repositories: named, the first one the primary ---- */

static int name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 32 || !(s[0] >= 'a' && s[0] <= 'z'))
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return 0;
	return 1;
}

static void named_release(struct bs_config_named_repo *e)
{
	bs_bind_release(repository_fields, &e->repo);
	free(e->name);
	free(e->location);
}

/* One entry: a path or URL, or a mapping as 'repository:' takes (plus
 * 'retention:', and 's3:'/'azure:' one level down). */
static int bind_named(struct bs_bind_ctx *ctx, const struct bs_bind_field *f, const struct bs_ypair *pr,
		      const char *keypath, struct bs_config_named_repo *e, struct bs_err *err)
{
	static const struct bs_bind_field as_path = { .key = "repositories", .type = BS_BIND_PATH,
						      .offset = offsetof(struct bs_config_repository, path) };
	char kp[256];

	snprintf(kp, sizeof(kp), "%s.%s", keypath, pr->key->value);
	e->repo.retries = -1;
	if (!name_ok(pr->key->value)) {
		bs_bind_error(ctx, f, pr->key, err, "repository name '%s' is not 1 to 32 of a-z, 0-9, '-', '_' "
						    "starting with a letter", pr->key->value);
		return -1;
	}
	if (!(e->name = strdup(pr->key->value)))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	if (pr->value->kind == BS_YNODE_SCALAR && !pr->value->null) {
		/* a path, or a location with a scheme (kept as written) */
		if (strstr(pr->value->value, "://"))
			e->location = strdup(pr->value->value);
		else if (bs_bind_value(ctx, &as_path, pr->value, kp, &e->repo, err) == 0)
			e->location = strdup(e->repo.path);
		else
			return -1;
		return e->location ? 0 : bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	if (pr->value->kind != BS_YNODE_MAPPING) {
		bs_bind_error(ctx, f, pr->value, err, "expected a path or a mapping for '%s'", kp);
		return -1;
	}
	if (bs_bind_table(ctx, repository_fields, pr->value, kp, &e->repo, err) < 0)
		return -1;
	return repository_location(ctx, f, pr->value, kp, &e->repo, &e->location, err);
}

static int bind_repositories(struct bs_bind_ctx *ctx, const struct bs_bind_field *f,
			     const struct bs_ynode *node, const char *keypath, void *base,
			     struct bs_err *err)
{
	struct bs_config *cfg = base;
	size_t i, j;

	if (node->kind == BS_YNODE_SCALAR && node->null)
		return 0;
	if (node->kind != BS_YNODE_MAPPING || node->count == 0) {
		bs_bind_error(ctx, f, node, err, "expected a mapping of repository names for '%s'", keypath);
		return -1;
	}
	if (!(cfg->repos = calloc(node->count, sizeof(*cfg->repos))))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	for (i = 0; i < node->count; i++) {
		cfg->nrepos++;
		if (bind_named(ctx, f, &node->pairs[i], keypath, &cfg->repos[i], err) < 0)
			return -1;
		for (j = 0; j < i; j++)
			if (strcmp(cfg->repos[j].location, cfg->repos[i].location) == 0) {
				bs_bind_error(ctx, f, node->pairs[i].value, err, "'%s.%s' is the same repository as "
						  "'%s.%s' (%s)", keypath, cfg->repos[i].name, keypath, cfg->repos[j].name,
						  cfg->repos[i].location);
				return -1;
			}
	}
	return bs_config_select_repo(cfg, cfg->repos[0].name, err) < 0 ? -1 : 0;
}

static int copy_repo(struct bs_config_repository *dst, const struct bs_config_repository *src, struct bs_err *err)
{
	const struct bs_bind_field *f;

	bs_bind_release(repository_fields, dst);
	*dst = *src;
	for (f = repository_fields; f->key; f++) {
		char **slot = (char **)((char *)dst + f->offset);
		if (f->type != BS_BIND_STRING && f->type != BS_BIND_PATH)
			continue;
		if (*slot && !(*slot = strdup(*slot))) {
			for (const struct bs_bind_field *g = repository_fields; g < f; g++)
				if (g->type == BS_BIND_STRING || g->type == BS_BIND_PATH)
					free(*(char **)((char *)dst + g->offset));
			memset(dst, 0, sizeof(*dst));
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		}
	}
	return 0;
}

int bs_config_select_repo(struct bs_config *cfg, const char *name, struct bs_err *err)
{
	size_t i;
	char *loc;

	for (i = 0; i < cfg->nrepos; i++)
		if (strcmp(cfg->repos[i].name, name) == 0)
			break;
	if (i == cfg->nrepos)
		return 0;
	if (!(loc = strdup(cfg->repos[i].location)) || copy_repo(&cfg->repo, &cfg->repos[i].repo, err) < 0) {
		free(loc);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	free(cfg->repository);
	cfg->repository = loc;
	cfg->selected_repo = (int)i;
	return 1;
}

static const struct bs_bind_enum log_levels[] = {
	{"error", BS_LOG_ERROR},
	{"warn", BS_LOG_WARN},
	{"info", BS_LOG_INFO},
	{"debug", BS_LOG_DEBUG},
	{NULL, 0},
};

static int bind_encryption(struct bs_bind_ctx *ctx, const struct bs_bind_field *f,
			   const struct bs_ynode *node, const char *keypath, void *base,
			   struct bs_err *err)
{
	struct bs_config *cfg = base;
	struct bs_config_encryption *enc = &cfg->encryption;

	if (node->kind == BS_YNODE_SCALAR) {
		if (node->null)
			return 0;
		if (strcmp(node->value, "none") == 0) {
			bs_bind_release(encryption_fields, enc);
			enc->mode = BS_ENC_NONE;
			return 0;
		}
		bs_bind_error(ctx, f, node, err, "invalid value '%s' for '%s'", node->value,
			      keypath);
		bs_err_hint(err, "write 'encryption: none', or a mapping with recipients, "
				 "recipients_file or passphrase_file");
		return -1;
	}
	if (node->kind != BS_YNODE_MAPPING) {
		bs_bind_error(ctx, f, node, err, "expected 'none' or a mapping for '%s', got %s",
			      keypath, bs_ynode_kind_name(node));
		bs_err_hint(err, "write 'encryption: none', or a mapping with recipients, "
				 "recipients_file or passphrase_file");
		return -1;
	}
	if (bs_bind_table(ctx, encryption_fields, node, keypath, enc, err) < 0)
		return -1;
	if (!enc->recipients_count && !enc->recipients_file && !enc->passphrase_file) {
		bs_bind_error(ctx, f, node, err, "'%s' names no recipients", keypath);
		bs_err_hint(err, "add recipients, recipients_file or passphrase_file, or write "
				 "'encryption: none' to store archives unencrypted");
		return -1;
	}
	enc->mode = BS_ENC_AGE;
	return 0;
}

static int bind_retention(struct bs_bind_ctx *ctx, const struct bs_bind_field *f,
			  const struct bs_ynode *node, const char *keypath, void *base,
			  struct bs_err *err)
{
	struct bs_config *cfg = base;
	int rc;

	rc = bs_retention_section_bind(ctx, node, keypath, &cfg->retention,
				       &cfg->retention_path, err);
	if (rc < 0)
		return -1;
	if (rc > 0)
		cfg->has_retention = 1;
	return 0;
}

static int bind_log_level(struct bs_bind_ctx *ctx, const struct bs_bind_field *f,
			  const struct bs_ynode *node, const char *keypath, void *base,
			  struct bs_err *err)
{
	static const struct bs_bind_field e = {
		.key = "log_level", .type = BS_BIND_ENUM, .offset = 0, .enums = log_levels,
	};
	struct bs_config *cfg = base;
	int level;

	if (node->kind == BS_YNODE_SCALAR && node->null)
		return 0;
	if (bs_bind_value(ctx, &e, node, keypath, &level, err) < 0)
		return -1;
	cfg->log_level = (enum bs_log_level)level;
	cfg->has_log_level = 1;
	return 0;
}

static int bind_probes(struct bs_bind_ctx *ctx, const struct bs_bind_field *f, const struct bs_ynode *node,
		       const char *keypath, void *base, struct bs_err *err)
{
	return bs_probe_section_bind(ctx, node, keypath, &((struct bs_config *)base)->probes, err);
}

static int bind_probe_settings(struct bs_bind_ctx *ctx, const struct bs_bind_field *f,
			       const struct bs_ynode *node, const char *keypath, void *base,
			       struct bs_err *err)
{
	return bs_probe_settings_bind(ctx, node, keypath, &((struct bs_config *)base)->probes, err);
}

static int bind_services(struct bs_bind_ctx *ctx, const struct bs_bind_field *f, const struct bs_ynode *node,
			 const char *keypath, void *base, struct bs_err *err)
{
	return bs_service_section_bind(ctx, node, keypath, &((struct bs_config *)base)->services, err);
}

static int bind_webhooks(struct bs_bind_ctx *ctx, const struct bs_bind_field *f, const struct bs_ynode *node,
			 const char *keypath, void *base, struct bs_err *err)
{
	return bs_webhook_section_bind(ctx, node, keypath, &((struct bs_config *)base)->webhooks, err);
}

static const struct bs_bind_field config_fields[] = {
	CONNINFO("database", C, database),
	{ .key = "repository", .type = BS_BIND_CUSTOM, .offset = offsetof(C, repo),
	  .custom = bind_repository, .table = repository_fields, .hint = REPOSITORY_HINT },
	{ .key = "repositories", .type = BS_BIND_CUSTOM, .custom = bind_repositories },
	BS_BIND_F_TABLE("snap", C, snap, snap_fields),
	{ .key = "encryption", .type = BS_BIND_CUSTOM, .offset = offsetof(C, encryption),
	  .custom = bind_encryption, .table = encryption_fields },
	BS_BIND_F_TABLE("restore", C, restore, restore_fields),
	{ .key = "retention", .type = BS_BIND_CUSTOM, .custom = bind_retention },
	BS_BIND_F_TABLE("drill", C, drill, drill_fields),
	BS_BIND_F_TABLE("hooks", C, hooks, hooks_fields),
	BS_BIND_F_TABLE("gate", C, gate, gate_fields),
	BS_BIND_F_PATH("metrics_dir", C, metrics_dir, 0),
	{ .key = "log_level", .type = BS_BIND_CUSTOM, .custom = bind_log_level },
	{ .key = "probes", .type = BS_BIND_CUSTOM, .custom = bind_probes },
	{ .key = "probe", .type = BS_BIND_CUSTOM, .custom = bind_probe_settings },
	{ .key = "services", .type = BS_BIND_CUSTOM, .custom = bind_services },
	{ .key = "webhooks", .type = BS_BIND_CUSTOM, .custom = bind_webhooks },
	BS_BIND_F_END,
};

/* ---- init / release ---------------------------------------------------- */

void bs_config_init(struct bs_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->snap.jobs = 0;
	cfg->snap.compress_level = BS_CONFIG_COMPRESS_LEVEL;
	cfg->snap.chunk_size = BS_CONFIG_CHUNK_SIZE;
	cfg->snap.lock_timeout_ms = BS_CONFIG_LOCK_TIMEOUT_MS;
	cfg->snap.prune = 0;
	cfg->encryption.mode = BS_ENC_UNSET;
	cfg->restore.jobs = 0;
	cfg->repo.retries = -1;
	cfg->selected_repo = -1;
	bs_retention_policy_init(&cfg->retention);
	bs_probe_set_init(&cfg->probes);
	bs_service_set_init(&cfg->services);
	bs_webhook_set_init(&cfg->webhooks);
	cfg->log_level = BS_LOG_INFO;
}

void bs_config_release(struct bs_config *cfg)
{
	if (!cfg)
		return;
	bs_bind_release(config_fields, cfg);
	for (size_t i = 0; i < cfg->nrepos; i++)
		named_release(&cfg->repos[i]);
	free(cfg->repos);
	free(cfg->repository);
	free(cfg->config_path);
	free(cfg->retention_path);
	bs_probe_set_release(&cfg->probes);
	bs_service_set_release(&cfg->services);
	bs_webhook_set_release(&cfg->webhooks);
	bs_config_init(cfg);
}

int bs_config_set_string(char **slot, const char *value, struct bs_err *err)
{
	char *s = NULL;

	if (value) {
		s = strdup(value);
		if (!s)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	bs_secret_free(*slot);
	*slot = s;
	return 0;
}

/* ---- loading ----------------------------------------------------------- */

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

static int bind_doc(struct bs_config *cfg, const struct bs_ydoc *doc, const char *base_dir,
		    struct bs_err *err)
{
	struct bs_bind_ctx ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.base_dir = base_dir;
	ctx.errcode = BS_ERR_CONFIG;
	ctx.seed = &doc->errors; /* the loader's errors come first */
	if (bs_bind_table(&ctx, config_fields, doc->root, NULL, cfg, err) < 0)
		return -1;
	if (doc->root && bs_ynode_get(doc->root, "repository") && bs_ynode_get(doc->root, "repositories")) {
		const struct bs_ynode *k = bs_ynode_key(doc->root, "repositories");
		bs_err_set(err, BS_ERR_CONFIG, "%s:%u:%u: 'repository' and 'repositories' are both set", doc->file,
			   k ? k->line : 0, k ? k->column : 0);
		bs_err_hint(err, "keep one: 'repositories:' names several, the first being the primary");
		return -1;
	}
	if (ctx.inline_secrets) /* a database password is now held: no core, no ptrace */
		bs_secret_protect_process();
	if (ctx.inline_secrets && doc->has_stat && (doc->mode & (S_IRWXG | S_IRWXO)))
		bs_warn("%s:%u:%u: this config file holds %s and is "
			"accessible by group or others (mode %04o); run 'chmod 600 %s', or "
			"%s",
			doc->file, ctx.secret_line, ctx.secret_column,
			ctx.secret_what ? ctx.secret_what : "a database password", (unsigned)(doc->mode & 07777),
			doc->file, ctx.secret_fix ? ctx.secret_fix : "move the password to a .pgpass file (PGPASSFILE)");
	return 0;
}

static int load_path(struct bs_config *cfg, const char *path, int must_exist,
		     const char *named_by, struct bs_err *err)
{
	struct bs_ydoc *doc = NULL;
	char *dir = NULL;
	int rc = -1;

	if (bs_ydoc_load_file(&doc, path, BS_YAML_KEEP_GOING, err) < 0) {
		int e = err ? err->sys_errno : 0;

		if (err && err->code == BS_ERR_IO && (e == ENOENT || e == ENOTDIR)) {
			if (!must_exist)
				return 0; /* not found: try the next place */
			bs_err_set(err, BS_ERR_CONFIG, "unable to open config file '%s': %s",
				   path, strerror(e));
			err->sys_errno = e;
			if (named_by)
				bs_err_hint(err, "%s names it; unset it or point it to an "
						 "existing file", named_by);
		} else if (err && err->code == BS_ERR_IO && e) {
			bs_err_sys(err, BS_ERR_CONFIG, e, "unable to read config file '%s'", path);
		} else if (err && err->code == BS_ERR_IO) {
			err->code = BS_ERR_CONFIG;
		}
		return -1;
	}
	dir = dir_of(path);
	if (!dir) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (bind_doc(cfg, doc, dir, err) < 0)
		goto out;
	free(cfg->config_path);
	cfg->config_path = strdup(path);
	if (!cfg->config_path) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = 1;
out:
	free(dir);
	bs_ydoc_free(doc);
	return rc;
}

int bs_config_load(struct bs_config *cfg, const char *explicit_path, struct bs_err *err)
{
	const char *env = getenv("BACKSTOP_CONFIG");
	int rc;

	if (explicit_path)
		return load_path(cfg, explicit_path, 1, NULL, err) < 0 ? -1 : 0;
	if (env && *env)
		return load_path(cfg, env, 1, "BACKSTOP_CONFIG", err) < 0 ? -1 : 0;
	rc = load_path(cfg, BS_CONFIG_CWD_PATH, 0, NULL, err);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	rc = load_path(cfg, BS_CONFIG_ETC_PATH, 0, NULL, err);
	return rc < 0 ? -1 : 0;
}

int bs_config_load_string(struct bs_config *cfg, const char *name, const char *text,
			  const char *base_dir, struct bs_err *err)
{
	struct bs_ydoc *doc = NULL;
	int rc;

	if (bs_ydoc_load_string(&doc, name, text, strlen(text), BS_YAML_KEEP_GOING, err) < 0)
		return -1;
	rc = bind_doc(cfg, doc, base_dir, err);
	bs_ydoc_free(doc);
	return rc;
}

/* ---- environment ------------------------------------------------------- */

static const char *env_value(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static void warn_secret_file(const char *path, const char *what)
{
	struct stat st;

	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & (S_IRWXG | S_IRWXO)))
		bs_warn("secret file '%s' (%s) is accessible by group or others (mode %04o); "
			"run 'chmod 600 %s'",
			path, what, (unsigned)(st.st_mode & 07777), path);
}

int bs_config_apply_env(struct bs_config *cfg, struct bs_err *err)
{
	const char *v;

	if ((v = env_value("BACKSTOP_DB")) && bs_config_set_string(&cfg->database, v, err) < 0)
		return -1;
	if ((v = env_value("BACKSTOP_REPO"))) { /* a name of 'repositories:', or a location */
		int rc = bs_config_select_repo(cfg, v, err);
		if (rc < 0 || (rc == 0 && bs_config_set_string(&cfg->repository, v, err) < 0))
			return -1;
		if (rc == 0)
			cfg->selected_repo = -1;
		cfg->repo_chosen = 1;
	}
	if ((v = env_value("BACKSTOP_JOBS"))) {
		char *end;
		long n;

		errno = 0;
		n = strtol(v, &end, 10);
		if (errno || *end || end == v || n < 1 || n > BS_CONFIG_SNAP_JOBS_MAX) {
			bs_err_set(err, BS_ERR_CONFIG, "invalid BACKSTOP_JOBS '%s': expected an "
						       "integer from 1 to %d", v,
				   BS_CONFIG_SNAP_JOBS_MAX);
			return -1;
		}
		cfg->snap.jobs = (int)n;
		cfg->restore.jobs = (int)n;
	}
	if ((v = env_value("BACKSTOP_IDENTITY_FILE"))) {
		if (bs_config_set_string(&cfg->restore.identity_file, v, err) < 0)
			return -1;
		warn_secret_file(v, "BACKSTOP_IDENTITY_FILE");
	}
	if ((v = env_value("BACKSTOP_PASSPHRASE_FILE"))) {
		if (bs_config_set_string(&cfg->encryption.passphrase_file, v, err) < 0 ||
		    bs_config_set_string(&cfg->restore.passphrase_file, v, err) < 0)
			return -1;
		cfg->encryption.mode = BS_ENC_AGE;
		warn_secret_file(v, "BACKSTOP_PASSPHRASE_FILE");
	}
	if ((v = env_value("BACKSTOP_SCRATCH")) &&
	    bs_config_set_string(&cfg->drill.scratch, v, err) < 0)
		return -1;
	return 0;
}

/* ---- secret files ------------------------------------------------------ */

/* Kept for existing callers; the rules are common/secret.c's. */
void bs_config_free_secret(char *s, size_t len)
{
	(void)len;
	bs_secret_free(s);
}

int bs_config_read_secret(const char *path, char **out, size_t *lenp, struct bs_err *err)
{
	return bs_secret_read_file(path, "secret file", BS_CONFIG_SECRET_MAX, BS_SECRET_FOLLOW, out,
				   lenp, err);
}
