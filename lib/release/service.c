/*
 * service.c - 'services:' in backstop.yaml: what rollback needs to know
 * about each service (docs/rollback.md, docs/config.md).
 */
#include "release/release.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "config/bind.h"
#include "config/config.h"
#include "config/yaml_node.h"

#define S struct bs_service
#define DEF_VERIFY_TIMEOUT_MS (5LL * 60 * 1000)
#define DEF_COMMAND_TIMEOUT_MS (10LL * 60 * 1000)

static const struct bs_bind_enum drivers[] = {
	{ "compose", BS_DRIVER_COMPOSE },
	{ "registry", BS_DRIVER_REGISTRY },
	{ "exec", BS_DRIVER_EXEC },
	{ NULL, 0 },
};

static const struct bs_bind_field registry_fields[] = {
	BS_BIND_F_STRING("url", struct bs_service_registry, url, 0),
	BS_BIND_F_STRING("username", struct bs_service_registry, username, 0),
	BS_BIND_F_PATH("password_file", struct bs_service_registry, password_file, BS_BIND_SECRET_FILE),
	BS_BIND_F_PATH("ca_file", struct bs_service_registry, ca_file, 0),
	BS_BIND_F_STRING("tag", struct bs_service_registry, tag, 0),
	BS_BIND_F_END,
};

static const struct bs_bind_field compose_fields[] = {
	BS_BIND_F_PATH("file", struct bs_service_compose, file, 0),
	BS_BIND_F_STRING("service", struct bs_service_compose, service, 0),
	BS_BIND_F_STRLIST("command", struct bs_service_compose, command, ncommand),
	BS_BIND_F_END,
};

static const struct bs_bind_field exec_fields[] = {
	BS_BIND_F_STRLIST("command", struct bs_service_exec, command, ncommand),
	BS_BIND_F_END,
};

static const struct bs_bind_field service_fields[] = {
	BS_BIND_F_STRING("image", S, image, BS_BIND_REQUIRED),
	{ .key = "driver", .type = BS_BIND_ENUM, .offset = offsetof(S, driver), .enums = drivers,
	  .flags = BS_BIND_REQUIRED },
	BS_BIND_F_STRING("repository", S, repository, 0),
	{ .key = "database", .type = BS_BIND_STRING, .offset = offsetof(S, database), .flags = BS_BIND_SECRET,
	  .has_secret = bs_conninfo_has_password,
	  .hint = "a libpq connection string of the service's database, e.g. 'host=db dbname=app'" },
	BS_BIND_F_STRLIST("probes", S, probes, nprobes),
	{ .key = "verify_timeout", .type = BS_BIND_DURATION, .offset = offsetof(S, verify_timeout_ms), .scale = 1000,
	  .min = 1, .max = 7 * 86400 },
	{ .key = "command_timeout", .type = BS_BIND_DURATION, .offset = offsetof(S, command_timeout_ms),
	  .scale = 1000, .min = 1, .max = 7 * 86400 },
	BS_BIND_F_TABLE("registry", S, registry, registry_fields),
	BS_BIND_F_TABLE("compose", S, compose, compose_fields),
	BS_BIND_F_TABLE("exec", S, exec, exec_fields),
	BS_BIND_F_END,
};

void bs_service_set_init(struct bs_service_set *s)
{
	memset(s, 0, sizeof(*s));
}

void bs_service_set_release(struct bs_service_set *s)
{
	for (size_t i = 0; s && i < s->n; i++) {
		bs_bind_release(service_fields, &s->v[i]);
		free(s->v[i].name);
	}
	if (s)
		free(s->v);
	bs_service_set_init(s);
}

const struct bs_service *bs_service_find(const struct bs_service_set *s, const char *name)
{
	for (size_t i = 0; name && i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	return NULL;
}

int bs_service_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > BS_SERVICE_NAME_MAX || !islower((unsigned char)name[0]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)name[i]) && !isdigit((unsigned char)name[i]) && name[i] != '-')
			return 0;
	return 1;
}

static struct bs_service *service_new(struct bs_service_set *s, const char *name)
{
	struct bs_service *v;

	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 4;
		struct bs_service *nv = realloc(s->v, nc * sizeof(*nv));
		if (!nv)
			return NULL;
		s->v = nv, s->cap = nc;
	}
	v = &s->v[s->n];
	memset(v, 0, sizeof(*v));
	if (!(v->name = strdup(name)))
		return NULL;
	s->n++;
	return v;
}

/* What a driver needs, checked where the file says it (the driver's own
 * check runs again before anything is done). */
static int check_service(const struct bs_service *v, const struct bs_ynode *node, const char *path,
			 struct bs_err *err)
{
	const struct bs_ynode *at;
	struct bs_image_ref ref;

	if (bs_image_ref_parse(v->image, &ref, err) < 0 || ref.tag[0] || ref.digest[0]) {
		at = bs_ynode_get(node, "image");
		if (ref.tag[0] || ref.digest[0])
			bs_ynode_error(err, BS_ERR_CONFIG, at, "'%s.image' is the image's repository, without a tag or digest ('%s')",
				       path, v->image);
		else {
			struct bs_err e = *err;
			bs_ynode_error(err, BS_ERR_CONFIG, at, "'%s.image': %s", path, e.msg);
		}
		bs_err_hint(err, "image: ghcr.io/acme/api");
		return -1;
	}
	if (v->driver == BS_DRIVER_COMPOSE && !v->compose.file) {
		bs_ynode_error(err, BS_ERR_CONFIG, node, "service '%s' uses the compose driver but has no 'compose.file'", v->name);
		bs_err_hint(err, "compose:\n  file: /srv/app/compose.yaml");
		return -1;
	}
	if (v->driver == BS_DRIVER_REGISTRY && !v->registry.tag) {
		bs_ynode_error(err, BS_ERR_CONFIG, node, "service '%s' uses the registry driver but has no 'registry.tag'", v->name);
		bs_err_hint(err, "registry:\n  tag: prod        # the tag the platform deploys");
		return -1;
	}
	if (v->driver == BS_DRIVER_EXEC && v->exec.ncommand == 0) {
		bs_ynode_error(err, BS_ERR_CONFIG, node, "service '%s' uses the exec driver but has no 'exec.command'", v->name);
		bs_err_hint(err, "exec:\n  command: [helm, upgrade, api, ./chart, --reuse-values, --set, \"image.digest={digest}\"]");
		return -1;
	}
	if (v->registry.url && strncmp(v->registry.url, "https://", 8) && strncmp(v->registry.url, "http://", 7)) {
		bs_ynode_error(err, BS_ERR_CONFIG, bs_ynode_get(bs_ynode_get(node, "registry"), "url"),
			       "'%s.registry.url' must be an http:// or https:// URL ('%s')", path, v->registry.url);
		return -1;
	}
	return 0;
}

static int bind_one(struct bs_bind_ctx *ctx, const struct bs_ypair *pair, const char *keypath, void *ud,
		    struct bs_err *err)
{
	struct bs_service_set *s = ud;
	const struct bs_ynode *k = pair->key, *v = pair->value;
	struct bs_service *svc;
	char path[160];
	unsigned before = ctx->errors.count;

	snprintf(path, sizeof(path), "%s.%s", keypath, k->value);
	if (!bs_service_name_ok(k->value)) {
		bs_ynode_error(err, BS_ERR_CONFIG, k, "invalid service name '%s': a lowercase letter, then lowercase letters, digits or '-', at most %d",
			       k->value, BS_SERVICE_NAME_MAX);
		return -1;
	}
	if (bs_service_find(s, k->value))
		return bs_ynode_error(err, BS_ERR_CONFIG, k, "service '%s' is defined twice", k->value);
	if (v->kind != BS_YNODE_MAPPING) {
		bs_ynode_error(err, BS_ERR_CONFIG, v, "'%s' must be a mapping with 'image:' and 'driver:'", path);
		bs_err_hint(err, "services:\n  api:\n    image: ghcr.io/acme/api\n    driver: compose\n    compose:\n      file: /srv/app/compose.yaml");
		return -1;
	}
	if (!(svc = service_new(s, k->value)))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	if (bs_bind_table(ctx, service_fields, v, path, svc, err) < 0)
		return -1;
	if (ctx->errors.count != before)
		return -1;
	if (!svc->verify_timeout_ms)
		svc->verify_timeout_ms = DEF_VERIFY_TIMEOUT_MS;
	if (!svc->command_timeout_ms)
		svc->command_timeout_ms = DEF_COMMAND_TIMEOUT_MS;
	return check_service(svc, v, path, err);
}

int bs_service_section_bind(struct bs_bind_ctx *ctx, const struct bs_ynode *node, const char *keypath,
			    struct bs_service_set *s, struct bs_err *err)
{
	return bs_bind_entries(ctx, node, keypath, "service names to services",
			       "services:\n  api:\n    image: ghcr.io/acme/api\n    driver: compose", bind_one, s, err);
}
