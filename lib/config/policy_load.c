/* policy_load.c - see policy_load.h */
#include "config/policy_load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEYPATH_MAX 256

static void keypath_join(char *buf, size_t n, const char *path, const char *key)
{
	if (path && *path)
		snprintf(buf, n, "%s.%s", path, key);
	else
		snprintf(buf, n, "%s", key);
}

/* A header value worth judging: present, not flagged by the loader, not null. */
static const struct bs_ynode *header_value(const struct bs_ynode *map, const char *key)
{
	const struct bs_ynode *v = bs_ynode_get(map, key);

	if (!v || v->bad || (v->kind == BS_YNODE_SCALAR && v->null))
		return NULL;
	return v;
}

static int check_kind(const struct bs_policy_kind *k, const struct bs_ynode *map, const char *keypath,
		      struct bs_err *err)
{
	const struct bs_ynode *v = header_value(map, "kind");
	char kp[KEYPATH_MAX];

	if (!k->kind || !v)
		return 0;
	keypath_join(kp, sizeof(kp), keypath, "kind");
	if (v->kind != BS_YNODE_SCALAR)
		return bs_ynode_error(err, BS_ERR_POLICY, v, "expected a name for '%s', got %s", kp,
				      bs_ynode_kind_name(v));
	if (strcmp(v->value, k->kind) == 0)
		return 0;
	bs_ynode_error(err, BS_ERR_POLICY, v, "wrong kind '%s' for '%s': this file is read as a %s", v->value,
		       kp, k->what);
	bs_err_hint(err, "give a %s here (written with 'kind: %s', or no 'kind:' at all)", k->what, k->kind);
	return -1;
}

static int check_version(const struct bs_policy_kind *k, const struct bs_ynode *map, const char *keypath,
			 int *version, struct bs_err *err)
{
	const struct bs_ynode *v = header_value(map, "version");
	char kp[KEYPATH_MAX], *end;
	long long n;

	*version = 1;
	if (k->max_version <= 0 || !v)
		return 0;
	keypath_join(kp, sizeof(kp), keypath, "version");
	if (v->kind != BS_YNODE_SCALAR)
		return bs_ynode_error(err, BS_ERR_POLICY, v, "expected an integer for '%s', got %s", kp,
				      bs_ynode_kind_name(v));
	errno = 0;
	n = strtoll(v->value, &end, 10);
	if (errno || *end || end == v->value || v->value[0] < '0' || v->value[0] > '9') {
		bs_ynode_error(err, BS_ERR_POLICY, v, "invalid version '%s' for '%s'", v->value, kp);
		bs_err_hint(err, "write a whole number, e.g. 'version: 1'");
		return -1;
	}
	if (n < 1 || n > k->max_version) {
		bs_ynode_error(err, BS_ERR_POLICY, v,
			       "unsupported version %lld for '%s' (this backstop reads %s%d)", n, kp,
			       k->max_version > 1 ? "1.." : "", k->max_version);
		if (n > k->max_version)
			bs_err_hint(err,
				    "the %s was written for a newer backstop: upgrade, or write it "
				    "for version %d",
				    k->what, k->max_version);
		return -1;
	}
	*version = (int)n;
	return 0;
}

/* "kind" and "version" are checked before binding; to the binder they are
 * known keys with nothing to do. */
static int header_key(struct bs_bind_ctx *ctx, const struct bs_bind_field *f, const struct bs_ynode *node,
		      const char *keypath, void *base, struct bs_err *err)
{
	return 0;
}

/* The kind's fields, with the header keys first when it has a header; a
 * copy to free with free() when *owned is set. */
static const struct bs_bind_field *schema(const struct bs_policy_kind *k, int *owned, struct bs_err *err)
{
	struct bs_bind_field *t;
	size_t n = 0, i = 0;

	*owned = 0;
	if (!k->kind && k->max_version <= 0)
		return k->fields;
	while (k->fields[n].key)
		n++;
	t = calloc(n + 3, sizeof(*t));
	if (!t) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		return NULL;
	}
	if (k->kind)
		t[i++] = (struct bs_bind_field){.key = "kind", .type = BS_BIND_CUSTOM, .custom = header_key};
	if (k->max_version > 0)
		t[i++] =
		    (struct bs_bind_field){.key = "version", .type = BS_BIND_CUSTOM, .custom = header_key};
	memcpy(t + i, k->fields, (n + 1) * sizeof(*t));
	*owned = 1;
	return t;
}

/* A header error, after the loader's errors (reported with it). */
static int header_error(const struct bs_ydoc *doc, struct bs_err *err)
{
	struct bs_yerrors all = doc->errors;

	if (bs_yerrors_add(&all, err) < 0)
		return -1;
	bs_yerrors_result(&all, doc->file, err);
	err->code = BS_ERR_POLICY; /* the first may be the YAML loader's BS_ERR_CONFIG */
	return -1;
}

static int bind_doc(const struct bs_policy_kind *k, const struct bs_ydoc *doc, void *dest, struct bs_err *err)
{
	struct bs_policy_src src = {.file = doc->file};
	struct bs_bind_ctx ctx;
	const struct bs_bind_field *fields;
	const struct bs_ynode *map = doc->root, *at;
	int owned, rc;

	if (k->section)
		map = bs_ynode_unwrap(doc->root, k->section, &src.keypath);
	if (check_kind(k, map, src.keypath, err) < 0 ||
	    check_version(k, map, src.keypath, &src.version, err) < 0)
		return header_error(doc, err);
	fields = schema(k, &owned, err);
	if (!fields)
		return -1;
	memset(&ctx, 0, sizeof(ctx));
	ctx.errcode = BS_ERR_POLICY;
	ctx.seed = &doc->errors; /* the loader's errors come first */
	rc = bs_bind_table(&ctx, fields, map, src.keypath, dest, err);
	if (owned)
		free((void *)fields);
	at = map; /* a null wrapped value still has a position */
	if (map && map->kind == BS_YNODE_SCALAR && map->null)
		map = NULL;
	if (rc < 0) {
		if (err->code == BS_ERR_CONFIG) /* the loader's */
			err->code = BS_ERR_POLICY;
		/* nothing to bind: only missing required keys, without a position */
		if (!map && doc->errors.count == 0 && err->code == BS_ERR_POLICY) {
			if (at)
				bs_err_prefix(err, "%s:%u:%u", at->file, at->line, at->column);
			else
				bs_err_prefix(err, "%s", doc->file);
		}
		return -1;
	}
	src.map = map;
	if (k->validate)
		return k->validate(dest, &src, err);
	return 0;
}

static void reset(const struct bs_policy_kind *k, void *dest)
{
	if (k->release)
		k->release(dest);
	else
		bs_bind_release(k->fields, dest);
	if (k->init)
		k->init(dest);
}

static int finish(const struct bs_policy_kind *k, struct bs_ydoc *doc, void *dest, struct bs_err *err)
{
	int rc = bind_doc(k, doc, dest, err);

	bs_ydoc_free(doc);
	if (rc < 0)
		reset(k, dest);
	return rc;
}

int bs_policy_load(const struct bs_policy_kind *k, const char *path, void *dest, struct bs_err *err)
{
	struct bs_ydoc *doc = NULL;

	if (k->init)
		k->init(dest);
	if (bs_ydoc_load_file(&doc, path, BS_YAML_KEEP_GOING, err) < 0) {
		if (err->code == BS_ERR_IO && err->sys_errno)
			bs_err_sys(err, BS_ERR_POLICY, err->sys_errno, "unable to read %s '%s'", k->what,
				   path);
		else if (err->code == BS_ERR_CONFIG || err->code == BS_ERR_IO)
			err->code = BS_ERR_POLICY;
		return -1;
	}
	return finish(k, doc, dest, err);
}

int bs_policy_load_buf(const struct bs_policy_kind *k, const char *name, const char *text, size_t len,
		       void *dest, struct bs_err *err)
{
	struct bs_ydoc *doc = NULL;

	if (k->init)
		k->init(dest);
	if (bs_ydoc_load_string(&doc, name, text, len, BS_YAML_KEEP_GOING, err) < 0) {
		if (err->code == BS_ERR_CONFIG)
			err->code = BS_ERR_POLICY;
		return -1;
	}
	return finish(k, doc, dest, err);
}
