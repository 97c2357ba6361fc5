/*
 * release.h - services, their release ledger, and the rollback drivers
 * (docs/rollback.md).
 *
 *   service.c      'services:' in backstop.yaml (struct bs_service)
 *   ledger.c       the append-only, hash-chained release ledger per service
 *                  in the repository catalog: releases/<service>/<seq>.json
 *   state.c        what the ledger says: releases, current, known-good, bad;
 *                  target selection (last-good, a release id, a digest)
 *   imgref.c       image references (host/path:tag@sha256:...)
 *   oci.c/oci.h    the OCI Distribution API client (over net/http.h)
 *   compose_edit.c pinning a service's image: in a compose file, byte-exact
 *   drivers.c      the table of drivers; drv_compose.c, drv_registry.c,
 *                  drv_exec.c one each
 *
 * The command layer (command/rollback.c) opens the repository, takes the
 * service's lease, and strings these together with snap, restore and probe.
 */
#ifndef BS_RELEASE_RELEASE_H
#define BS_RELEASE_RELEASE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "common/err.h"

/* "sha256:" + 64 hex digits + NUL */
#define BS_DIGEST_MAX 80
/* A whole image reference: host[:port]/path[:tag][@digest] */
#define BS_IMAGE_MAX 512
/* Service names: [a-z][a-z0-9-]{0,22} (they name a repository lease,
 * "rollback-<service>", and catalog keys). */
#define BS_SERVICE_NAME_MAX 23

enum bs_release_driver_kind {
	BS_DRIVER_COMPOSE = 1,
	BS_DRIVER_REGISTRY = 2,
	BS_DRIVER_EXEC = 3,
};

/* 'services.<name>.registry:' - where the service's images live, for
 * resolving a tag to a digest (rollback record) and for the registry
 * driver. */
struct bs_service_registry {
	char *url;           /* http(s)://host[:port]; NULL: https://<the image's registry host> */
	char *username;      /* Basic credentials (also used for the Bearer token flow) */
	char *password_file; /* secret file holding the password or token */
	char *ca_file;       /* PEM CA bundle replacing the system one */
	char *tag;           /* registry driver: the deployment tag it re-points (e.g. "prod") */
};

/* 'services.<name>.compose:' */
struct bs_service_compose {
	char *file;          /* the compose file (required for the compose driver) */
	char *service;       /* the compose service; NULL: the backstop service's name */
	char **command;      /* argv template; NULL: docker compose -f {file} up -d --no-deps {service} */
	size_t ncommand;
};

/* 'services.<name>.exec:' */
struct bs_service_exec {
	char **command;      /* argv template with {service} {image} {digest} {ref} (required) */
	size_t ncommand;
};

struct bs_service {
	char *name;
	char *image;             /* the image's repository, e.g. ghcr.io/acme/api (no tag, no digest) */
	int driver;              /* enum bs_release_driver_kind */
	char *repository;        /* where the ledger lives: a 'repositories:' name or a location; NULL: the configured one */
	char *database;          /* conninfo of the service's database (--snap, --with-db); NULL: the top-level 'database' */
	char **probes;           /* names of 'probes:' that say the service is healthy */
	size_t nprobes;
	int64_t verify_timeout_ms;  /* how long probes may take to pass after a change (default 5m) */
	int64_t command_timeout_ms; /* a driver command's time limit (default 10m) */
	struct bs_service_registry registry;
	struct bs_service_compose compose;
	struct bs_service_exec exec;
};

struct bs_service_set {
	struct bs_service *v;
	size_t n, cap;
};

void bs_service_set_init(struct bs_service_set *s);
void bs_service_set_release(struct bs_service_set *s);
const struct bs_service *bs_service_find(const struct bs_service_set *s, const char *name);
/* 1 if name follows the service-name grammar above. */
int bs_service_name_ok(const char *name);

/* Bind 'services:' (config.c calls it).  Errors name file:line:column. */
struct bs_bind_ctx;
struct bs_ynode;
int bs_service_section_bind(struct bs_bind_ctx *ctx, const struct bs_ynode *node, const char *keypath,
			    struct bs_service_set *s, struct bs_err *err);

/* ---- image references (imgref.c) ------------------------------------------ */

/* A parsed reference.  host is the registry ("docker.io" for Docker Hub
 * names, whose API host is registry-1.docker.io; "library/" is added to
 * one-part Hub paths); path the repository inside it; tag and digest may
 * be empty. */
struct bs_image_ref {
	char host[256];
	char path[256];
	char tag[129];
	char digest[BS_DIGEST_MAX];
};
/* Parse ref ("ghcr.io/acme/api:1.4.2", "localhost:5000/x@sha256:...",
 * "nginx").  BS_ERR_USAGE naming what is wrong. */
int bs_image_ref_parse(const char *ref, struct bs_image_ref *out, struct bs_err *err);
/* "host/path" (the repository, no tag or digest) into buf. */
void bs_image_ref_repo(const struct bs_image_ref *r, char *buf, size_t n);
/* 1 if s is "sha256:" followed by 64 lowercase hex digits. */
int bs_digest_ok(const char *s);

/* ---- drivers (drivers.c) -------------------------------------------------- */

/* Where a driver moves the service to. */
struct bs_release_target {
	const char *image;   /* the image's repository (host/path), e.g. ghcr.io/acme/api */
	const char *digest;  /* sha256:... */
	const char *release; /* the release id in the ledger */
};

/* What a driver did (or, dry run, would do). */
struct bs_release_change {
	char detail[1024];   /* one or more lines: what changes, from -> to */
	char kept[512];      /* what was kept to go back: the previous compose file, a rollback tag */
	char warning[512];   /* e.g. a multi-arch index replaced by a single-platform manifest */
};

struct bs_release_ctx {
	const struct bs_service *svc;
	const char *expect_digest;   /* the digest the ledger says is deployed, or NULL: not known */
	int dry_run;                 /* change nothing; fill the change with what would be done */
	const volatile int *cancel;  /* may be NULL */
};

struct bs_release_driver {
	const char *name;    /* "compose", "registry", "exec" */
	/* Configuration the driver needs, checked before anything runs. */
	int (*check)(const struct bs_service *svc, struct bs_err *err);
	/* The digest the platform runs now, when the driver can tell (compose:
	 * a pinned image line; registry: the tag's digest); digest[0] = 0 when
	 * it cannot (exec).  Changes nothing. */
	int (*current)(const struct bs_release_ctx *ctx, char digest[BS_DIGEST_MAX], struct bs_err *err);
	/* Move the service to the target.  On failure nothing is left changed
	 * (or err says exactly what is); under dry_run nothing is changed. */
	int (*apply)(const struct bs_release_ctx *ctx, const struct bs_release_target *to, struct bs_release_change *out,
		     struct bs_err *err);
};

const struct bs_release_driver *bs_release_driver_get(int kind);
const char *bs_release_driver_name(int kind);

#endif
