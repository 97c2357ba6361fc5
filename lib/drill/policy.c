/*
 * policy.c - the drill policy file (drill.h, docs/drill.md): its field
 * table and the rules of a smoke query; reading the file, the "drill:"
 * wrapper and the error handling are the policy loader's
 * (config/policy_load.h).
 */
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config/bind.h"
#include "config/policy_load.h"
#include "config/yaml_node.h"
#include "drill/drill.h"

#define P struct bs_drill_policy
#define S struct bs_drill_smoke

#define SMOKE_TIMEOUT_MS_DEFAULT 60000

static const struct bs_bind_field smoke_fields[] = {
	BS_BIND_F_STRING("name", S, name, BS_BIND_REQUIRED),
	BS_BIND_F_STRING("sql", S, sql, BS_BIND_REQUIRED),
	BS_BIND_F_BOOL("expect", S, expect),
	BS_BIND_F_INT("min_rows", S, min_rows, 0, INT_MAX),
	BS_BIND_F_INT("max_rows", S, max_rows, 0, INT_MAX),
	BS_BIND_F_END,
};

static void smoke_release(S *s)
{
	bs_bind_release(smoke_fields, s);
}

/* One item of "smoke:": a mapping bound into a new element, then the rules
 * that span keys (expect xor a row range, min <= max, unique names). */
static int bind_item(struct bs_bind_ctx *ctx, const struct bs_ynode *node, const char *keypath, P *p,
		     struct bs_err *err)
{
	S *s = &p->smoke[p->nsmoke];
	size_t i;

	if (node->bad)
		return 0; /* reported by the YAML loader */
	memset(s, 0, sizeof(*s));
	s->expect = s->min_rows = s->max_rows = BS_DRILL_UNSET;
	if (node->kind != BS_YNODE_MAPPING) {
		bs_ynode_error(err, BS_ERR_POLICY, node, "expected a mapping for '%s', got %s", keypath,
			       bs_ynode_kind_name(node));
		bs_err_hint(err, "write each smoke query as '- name: ...' with 'sql:' and 'expect: true' "
				 "or 'min_rows:'/'max_rows:' indented under it");
		return -1;
	}
	if (bs_bind_table(ctx, smoke_fields, node, keypath, s, err) < 0) {
		smoke_release(s);
		return -1;
	}
	p->nsmoke++; /* owned by p from here: released with it on error */
	for (i = 0; i < node->count; i++)
		if (node->pairs[i].value->bad)
			return 0; /* the YAML loader reported it: the rules below would only guess */
	if (!*s->name || !*s->sql) {
		const struct bs_ynode *v = bs_ynode_get(node, *s->name ? "sql" : "name");
		bs_ynode_error(err, BS_ERR_POLICY, v, "empty '%s' in '%s'", *s->name ? "sql" : "name", keypath);
		return -1;
	}
	if (s->expect != BS_DRILL_UNSET && (s->min_rows != BS_DRILL_UNSET || s->max_rows != BS_DRILL_UNSET)) {
		bs_ynode_error(err, BS_ERR_POLICY, bs_ynode_key(node, "expect"),
			       "smoke query '%s' has both 'expect' and a row range", s->name);
		bs_err_hint(err, "use 'expect: true' for a query returning one boolean, or "
				 "'min_rows'/'max_rows' to check how many rows it returns");
		return -1;
	}
	if (s->expect == BS_DRILL_UNSET && s->min_rows == BS_DRILL_UNSET && s->max_rows == BS_DRILL_UNSET) {
		bs_ynode_error(err, BS_ERR_POLICY, node, "smoke query '%s' says nothing about its result",
			       s->name);
		bs_err_hint(err, "add 'expect: true' (one row, one boolean column) or 'min_rows'/'max_rows'");
		return -1;
	}
	if (s->min_rows != BS_DRILL_UNSET && s->max_rows != BS_DRILL_UNSET && s->min_rows > s->max_rows) {
		bs_ynode_error(err, BS_ERR_POLICY, bs_ynode_get(node, "max_rows"),
			       "max_rows %d is less than min_rows %d in smoke query '%s'", s->max_rows,
			       s->min_rows, s->name);
		return -1;
	}
	for (i = 0; i + 1 < p->nsmoke; i++) {
		if (p->smoke[i].name && strcmp(p->smoke[i].name, s->name) == 0) {
			bs_ynode_error(err, BS_ERR_POLICY, bs_ynode_get(node, "name"),
				       "duplicate smoke query name '%s'", s->name);
			bs_err_hint(err, "names identify smoke queries in reports and JUnit: make them unique");
			return -1;
		}
	}
	return 0;
}

static int bind_smoke(struct bs_bind_ctx *ctx, const struct bs_bind_field *f, const struct bs_ynode *node,
		      const char *keypath, void *base, struct bs_err *err)
{
	P *p = base;
	size_t i;

	if (node->kind == BS_YNODE_SCALAR && node->null)
		return 0;
	if (node->kind != BS_YNODE_SEQUENCE) {
		bs_ynode_error(err, BS_ERR_POLICY, node, "expected a sequence for '%s', got %s", keypath,
			       bs_ynode_kind_name(node));
		bs_err_hint(err, "list smoke queries as '- name: ...' items under '%s:'", keypath);
		return -1;
	}
	if (node->count > BS_DRILL_SMOKE_MAX)
		return bs_ynode_error(err, BS_ERR_POLICY, node, "too many smoke queries (%zu, at most %d)",
				      node->count, BS_DRILL_SMOKE_MAX);
	/* binding "smoke:" twice replaces the list */
	for (i = 0; i < p->nsmoke; i++)
		smoke_release(&p->smoke[i]);
	free(p->smoke);
	p->nsmoke = 0;
	p->smoke = calloc(node->count ? node->count : 1, sizeof(*p->smoke));
	if (!p->smoke)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	for (i = 0; i < node->count; i++) {
		char kp[128];
		snprintf(kp, sizeof(kp), "%s[%zu]", keypath, i);
		if (bind_item(ctx, node->items[i], kp, p, err) < 0)
			return -1;
	}
	return 0;
}

static const struct bs_bind_field policy_fields[] = {
	BS_BIND_F_DURATION("max_rto", P, max_rto_ms, 1000),
	BS_BIND_F_DURATION("max_snapshot_age", P, max_snapshot_age_ms, 1000),
	BS_BIND_F_DURATION("stale_grace", P, stale_grace_ms, 1000),
	BS_BIND_F_DURATION("smoke_timeout", P, smoke_timeout_ms, 1000),
	{ .key = "smoke", .type = BS_BIND_CUSTOM, .custom = bind_smoke },
	BS_BIND_F_END,
};

void bs_drill_policy_init(struct bs_drill_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->max_rto_ms = BS_DRILL_UNSET;
	p->max_snapshot_age_ms = BS_DRILL_UNSET;
	p->stale_grace_ms = BS_DRILL_UNSET;
	p->smoke_timeout_ms = SMOKE_TIMEOUT_MS_DEFAULT;
}

void bs_drill_policy_release(struct bs_drill_policy *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->nsmoke; i++)
		smoke_release(&p->smoke[i]);
	free(p->smoke);
	free(p->path);
	bs_drill_policy_init(p);
}

static void init(void *dest)
{
	bs_drill_policy_init(dest);
}

static void release(void *dest)
{
	bs_drill_policy_release(dest);
}

static const struct bs_policy_kind drill_kind = {
	.what = "drill policy",
	.section = "drill",
	.fields = policy_fields,
	.init = init,
	.release = release,
};

int bs_drill_policy_load(struct bs_drill_policy *p, const char *path, struct bs_err *err)
{
	if (bs_policy_load(&drill_kind, path, p, err) < 0)
		return -1;
	if (!(p->path = strdup(path))) {
		bs_drill_policy_release(p);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	return 0;
}

int bs_drill_policy_load_string(struct bs_drill_policy *p, const char *name, const char *text,
				struct bs_err *err)
{
	return bs_policy_load_buf(&drill_kind, name, text, strlen(text), p, err);
}
