/* policy_file.c - see policy_file.h */
#include "config/policy_file.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "config/policy_file_int.h"
#include "config/policy_load.h"

#define P struct bs_retention_policy

/* Counts: 0 (off) or more, or "unlimited".  A negative number is refused,
 * -1 included: restic reads -1 as "unlimited", struct bs_retention_policy
 * as "unset", so accepting it would silently mean the opposite of what a
 * restic user wrote.  Runs before the integer parse, so text that is not a
 * number gets the INT binder's message. */
static int check_count(const char *keypath, const char *v, struct bs_err *err)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || *end || end == v || n >= 0)
		return 0;
	bs_err_set(err, BS_ERR_POLICY, "negative count %lld for '%s'", n, keypath);
	bs_err_hint(err, "a count is 0 (off) or more; write 'unlimited' to keep every "
			 "bucket (restic's -1), or leave the key out");
	return -1;
}

static int is_integer(const char *s)
{
	char *end;

	if (!s || !*s)
		return 0;
	errno = 0;
	(void)strtoll(s, &end, 10);
	return errno == 0 && *end == '\0';
}

static int bind_count(struct bs_bind_ctx *ctx, const struct bs_bind_field *f,
		      const struct bs_ynode *node, const char *keypath, void *base,
		      struct bs_err *err)
{
	struct bs_bind_field in = {
		.key = f->key, .type = BS_BIND_INT, .offset = f->offset, .min = 0,
		.max = INT_MAX, .check = check_count,
	};

	if (node->kind == BS_YNODE_SCALAR && node->null)
		return 0;
	if (node->kind == BS_YNODE_SCALAR && strcasecmp(node->value, "unlimited") == 0) {
		*(int *)(void *)((char *)base + f->offset) = BS_RETENTION_UNLIMITED;
		return 0;
	}
	if (bs_bind_value(ctx, &in, node, keypath, base, err) < 0) {
		if (err->code != BS_ERR_NOMEM && !is_integer(node->value))
			bs_err_hint(err, "write a count (0 turns the rule off) or 'unlimited'");
		return -1;
	}
	return 0;
}

static int check_timezone(const char *keypath, const char *v, struct bs_err *err)
{
	const char *dir = getenv("TZDIR");
	char path[PATH_MAX];
	struct stat st;
	const char *c;

	if (!*v)
		return 0; /* empty means UTC */
	for (c = v; *c; c++) {
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		      (*c >= '0' && *c <= '9') || *c == '/' || *c == '_' || *c == '-' ||
		      *c == '+'))
			break;
	}
	if (*c || v[0] == '/' || strstr(v, "..")) {
		bs_err_set(err, BS_ERR_POLICY, "invalid time zone '%s' for '%s'", v, keypath);
		bs_err_hint(err, "use an IANA zone name such as 'UTC' or 'Europe/Paris'");
		return -1;
	}
	if (strcmp(v, "UTC") == 0)
		return 0;
	if (!dir || !*dir)
		dir = "/usr/share/zoneinfo";
	/* Only judge names when the zone database is installed. */
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	snprintf(path, sizeof(path), "%s/%s", dir, v);
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
		bs_err_set(err, BS_ERR_POLICY, "unknown time zone '%s' for '%s'", v, keypath);
		bs_err_hint(err, "use an IANA zone name such as 'UTC' or 'Europe/Paris' "
				 "(see %s)", dir);
		return -1;
	}
	return 0;
}

/* A retention duration never means what a restic user would not expect:
 * restic's keep-within reads "6m" as six months, every other backstop
 * duration as six minutes.  'm' is refused here (both readings); the other
 * units mean the same in both tools or exist only here (s, w). */
static int check_retention_duration(const char *keypath, const char *v, struct bs_err *err)
{
	const char *c;

	for (c = v; *c && *c != 'm'; c++)
		;
	if (!*c || c == v || c[-1] < '0' || c[-1] > '9')
		return 0; /* no 'm' unit: the duration parser judges the rest */
	bs_err_set(err, BS_ERR_POLICY, "ambiguous unit 'm' in '%s' for '%s'", v, keypath);
	bs_err_detail(err, "restic reads 'm' as months, backstop's other durations as "
			   "minutes, so a retention duration accepts neither");
	bs_err_hint(err, "write months as days or weeks (six months: '183d' or '26w'), and "
			 "hours as 'h' (e.g. '36h'); units are y (365d), w, d, h and s");
	return -1;
}

#define RDURATION(k)                                                               \
	{ .key = #k, .type = BS_BIND_DURATION, .offset = offsetof(P, k), .scale = 1,   \
	  .check = check_retention_duration }

#define COUNT(k)                                                                   \
	{ .key = #k, .type = BS_BIND_CUSTOM, .offset = offsetof(P, k), .custom = bind_count }

#define RETENTION_FIELDS                                                           \
	COUNT(keep_last), COUNT(keep_hourly), COUNT(keep_daily), COUNT(keep_weekly),  \
	COUNT(keep_monthly), COUNT(keep_yearly),                                      \
	RDURATION(keep_within), RDURATION(keep_window),                               \
	BS_BIND_F_INT("min_keep", P, min_keep, 0, INT_MAX),                           \
	BS_BIND_F_BOOL("keep_newest", P, keep_newest),                                \
	BS_BIND_F_BOOL("keep_newest_verified", P, keep_newest_verified),              \
	RDURATION(orphan_grace),                                                      \
	{ .key = "timezone", .type = BS_BIND_STRBUF, .offset = offsetof(P, timezone), \
	  .size = sizeof(((P *)0)->timezone), .check = check_timezone }

const struct bs_bind_field bs_retention_policy_fields[] = {
	RETENTION_FIELDS,
	BS_BIND_F_END,
};

/* In backstop.yaml "policy" is valid too (handled before binding); listing
 * it here makes it appear in the unknown-key hint. */
static int policy_placeholder(struct bs_bind_ctx *ctx, const struct bs_bind_field *f,
			      const struct bs_ynode *node, const char *keypath, void *base,
			      struct bs_err *err)
{
	/* reached only for "policy:" with no value: nothing to do */
	return 0;
}

static const struct bs_bind_field section_fields[] = {
	{ .key = "policy", .type = BS_BIND_CUSTOM, .custom = policy_placeholder },
	RETENTION_FIELDS,
	BS_BIND_F_END,
};

int bs_retention_policy_bind(struct bs_bind_ctx *ctx, const struct bs_ynode *map,
			     const char *keypath, struct bs_retention_policy *p,
			     struct bs_err *err)
{
	int saved = ctx->errcode, rc;

	ctx->errcode = BS_ERR_POLICY;
	rc = bs_bind_table(ctx, bs_retention_policy_fields, map, keypath, p, err);
	ctx->errcode = saved;
	return rc;
}

/* Rules that span keys (bs_retention_policy_validate), for the whole file. */
static int validate(void *dest, const struct bs_policy_src *src, struct bs_err *err)
{
	if (bs_retention_policy_validate(dest, err) < 0)
		return bs_err_prefix(err, "%s", src->file);
	return 0;
}

static void init(void *dest)
{
	bs_retention_policy_init(dest);
}

static const struct bs_policy_kind retention_kind = {
	.what = "retention policy",
	.section = "retention",
	.fields = bs_retention_policy_fields,
	.init = init,
	.validate = validate,
};

int bs_retention_policy_load(struct bs_retention_policy *p, const char *path,
			     struct bs_err *err)
{
	return bs_policy_load(&retention_kind, path, p, err);
}

int bs_retention_policy_load_string(struct bs_retention_policy *p, const char *name,
				    const char *text, struct bs_err *err)
{
	return bs_policy_load_buf(&retention_kind, name, text, strlen(text), p, err);
}

int bs_retention_section_bind(struct bs_bind_ctx *ctx, const struct bs_ynode *node,
			      const char *keypath, struct bs_retention_policy *p,
			      char **policy_path, struct bs_err *err)
{
	const struct bs_ynode *pol;
	size_t i;
	int saved = ctx->errcode, rc;

	if (node->kind == BS_YNODE_SCALAR && node->null)
		return 0;
	if (node->kind != BS_YNODE_MAPPING) {
		bs_ynode_error(err, BS_ERR_POLICY, node, "expected a mapping for '%s', got %s",
			       keypath, bs_ynode_kind_name(node));
		bs_err_hint(err, "write the policy keys (keep_daily: 7, ...) under '%s:', or "
				 "'policy: FILE'", keypath);
		return -1;
	}
	pol = bs_ynode_get(node, "policy");
	if (!pol || (pol->kind == BS_YNODE_SCALAR && pol->null)) {
		ctx->errcode = BS_ERR_POLICY;
		rc = bs_bind_table(ctx, section_fields, node, keypath, p, err);
		ctx->errcode = saved;
		if (rc < 0)
			return -1;
		if (bs_retention_policy_validate(p, err) < 0)
			return bs_err_prefix(err, "%s:%u:%u", node->file, node->line, node->column);
		return 1;
	}
	for (i = 0; i < node->count; i++) {
		const struct bs_ynode *k = node->pairs[i].key;

		if (strcmp(k->value, "policy") != 0) {
			bs_ynode_error(err, BS_ERR_POLICY, k,
				       "'%s' cannot be combined with 'policy' in '%s'", k->value,
				       keypath);
			bs_err_hint(err, "put the rules in the policy file, or remove 'policy:' "
					 "and write them here");
			return -1;
		}
	}
	{
		/* bind the path through the PATH binder into a local slot */
		struct {
			char *path;
		} slot = {NULL};
		static const struct bs_bind_field f = {
			.key = "policy", .type = BS_BIND_PATH, .offset = 0,
		};
		char sub[256];

		snprintf(sub, sizeof(sub), "%s.policy", keypath);
		ctx->errcode = BS_ERR_POLICY;
		rc = bs_bind_value(ctx, &f, pol, sub, &slot, err);
		ctx->errcode = saved;
		if (rc < 0)
			return -1;
		if (bs_retention_policy_load(p, slot.path, err) < 0) {
			if (err->sys_errno)
				bs_err_prefix(err, "%s:%u:%u", pol->file, pol->line, pol->column);
			else if (!err->detail[0])
				bs_err_detail(err, "the policy file is named by '%s' at %s:%u:%u",
					      sub, pol->file, pol->line, pol->column);
			free(slot.path);
			return -1;
		}
		free(*policy_path);
		*policy_path = slot.path;
	}
	return 1;
}
