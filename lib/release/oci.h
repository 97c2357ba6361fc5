/*
 * oci.h - a client of the OCI Distribution API (the Docker Registry HTTP
 * API V2) for one repository of one registry, over the one HTTP client
 * (net/http.h): manifests only (HEAD, GET by digest, PUT under a tag).
 * Blobs are never touched and nothing is ever deleted.
 *
 *   struct bs_oci *c;
 *   if (bs_oci_open(&opts, &c, &err) < 0) ...        GET /v2/ and log in
 *   bs_oci_head(c, "prod", &m, &err);               m.exists, m.digest, m.media_type
 *   bs_oci_get(c, m.digest, &m2, &err);             m2.bytes: exact, sha256 checked
 *   bs_oci_put(c, "prod", m2.bytes, m2.len, m2.media_type, digest, &err);
 *   bs_oci_manifest_release(&m2);
 *   bs_oci_free(c);
 *
 * Authentication (discovered by bs_oci_open with GET /v2/):
 *   - 200: none needed; requests go without credentials.
 *   - 401 with "WWW-Authenticate: Basic realm=...": every request carries
 *     the username and password (Basic).  Without a username that is an
 *     error saying which settings to fill in; with one, a second GET /v2/
 *     checks them, and a 401 is "the registry refused the credentials of
 *     user U", naming the registry, the user, the HTTP status and the
 *     settings to check (opts.config_key: "services.api.registry").
 *   - 401 with "WWW-Authenticate: Bearer realm=R,service=S[,scope=...]":
 *     the token flow: GET R?service=S&scope=repository:<path>:pull,push,
 *     with Basic credentials when a username is given (anonymously
 *     otherwise); the JSON answer's "token" (or "access_token") then goes
 *     as "Authorization: Bearer ...".  A 401/403 from R is a refusal of
 *     the credentials as above.  A later 401 (an expired token) gets one
 *     new token, with the scope that 401 asked for, and one retry.
 * Secrets: the password and every Authorization value stay in this
 * client, are never logged or put into an error message, and are wiped
 * (OPENSSL_cleanse) by bs_oci_free.
 *
 * Errors: BS_ERR_NET (exit 3) for network failures, refused credentials
 * and unexpected HTTP answers (the registry's own error code and message,
 * from its JSON error body, are added); BS_ERR_NOT_FOUND for a manifest
 * that is not there (bs_oci_get); BS_ERR_FORMAT when bytes do not hash to
 * the digest the registry claims or was asked for; BS_ERR_INTERRUPTED when
 * *opts.cancel became non-zero.
 *
 * Ownership: bs_oci_open copies every string of opts (only *opts.cancel is
 * read later and must outlive the client).  A struct bs_oci_manifest is
 * the caller's; bytes in it are heap memory it owns after bs_oci_get,
 * freed by bs_oci_manifest_release (which also makes it reusable).
 * Threads: a client belongs to one thread at a time.
 */
#ifndef BS_RELEASE_OCI_H
#define BS_RELEASE_OCI_H

#include <stddef.h>

#include "common/err.h"
#include "release/release.h"

/* Manifest media types. */
#define BS_OCI_INDEX	   "application/vnd.oci.image.index.v1+json"
#define BS_OCI_MANIFEST	   "application/vnd.oci.image.manifest.v1+json"
#define BS_DOCKER_LIST	   "application/vnd.docker.distribution.manifest.list.v2+json"
#define BS_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"

struct bs_oci;

struct bs_oci_opts {
	const char *url;	    /* http(s)://host[:port]; NULL: https://<host> (docker.io:
				     * https://registry-1.docker.io) */
	const char *host;	    /* the registry host of the image reference (required) */
	const char *path;	    /* the repository path in it, e.g. "acme/api" (required) */
	const char *username;	    /* NULL: anonymous */
	const char *password;	    /* with username (may be NULL: empty) */
	const char *ca_file;	    /* PEM CA bundle replacing the system one; NULL: system */
	const char *config_key;	    /* where the credentials are configured, for hints
				     * ("services.api.registry"); NULL: "the service's registry" */
	const volatile int *cancel; /* may be NULL */
};

/* A manifest as the registry has it. */
struct bs_oci_manifest {
	int exists;		    /* bs_oci_head: 0 when the registry answered 404 */
	char digest[BS_DIGEST_MAX]; /* sha256:... */
	char media_type[128];	    /* Content-Type without parameters (or the manifest's mediaType) */
	char *bytes;		    /* bs_oci_get: the exact bytes (NUL-terminated too); else NULL */
	size_t len;
};

/* Create a client and log in (see above).  On success *out is the
 * caller's, freed by bs_oci_free. */
int bs_oci_open(const struct bs_oci_opts *opts, struct bs_oci **out, struct bs_err *err);

/* The client for a service's registry driver: the repository of
 * svc->image, the base URL svc->registry.url (or https://<host>), the
 * username and the password read from registry.password_file
 * (bs_config_read_secret: a file readable by group or others is refused). */
int bs_oci_open_service(const struct bs_service *svc, const volatile int *cancel, struct bs_oci **out,
			struct bs_err *err);

/* Wipe the credentials and free.  NULL is a no-op. */
void bs_oci_free(struct bs_oci *c);

/* "host/path" of the client's repository, for messages (the client owns it). */
const char *bs_oci_repo(const struct bs_oci *c);

/* HEAD /v2/<path>/manifests/<reference> (a tag or a digest) with every
 * manifest media type accepted.  Returns 0 with m->exists 0 on 404; else
 * m->exists 1, m->digest (Docker-Content-Digest; when the registry sends
 * none, the manifest is fetched and hashed) and m->media_type.  m->bytes
 * is left NULL. */
int bs_oci_head(struct bs_oci *c, const char *reference, struct bs_oci_manifest *m, struct bs_err *err);
/* The digest tag points at; a tag that is not there is BS_ERR_NOT_FOUND
 * "tag 'T' is not in host/path". */
int bs_oci_tag_digest(struct bs_oci *c, const char *tag, char digest[BS_DIGEST_MAX], struct bs_err *err);

/* GET the manifest with this digest: exact bytes and media type; the
 * sha256 of the bytes must equal digest (BS_ERR_FORMAT otherwise).  404
 * is BS_ERR_NOT_FOUND ("manifest sha256:... is not in host/path"). */
int bs_oci_get(struct bs_oci *c, const char *digest, struct bs_oci_manifest *m, struct bs_err *err);

/* PUT bytes as the manifest under tag with Content-Type media_type.
 * digest gets the digest the registry reports, which must equal the
 * sha256 of bytes (BS_ERR_FORMAT otherwise). */
int bs_oci_put(struct bs_oci *c, const char *tag, const void *bytes, size_t len, const char *media_type,
	       char digest[BS_DIGEST_MAX], struct bs_err *err);

/* Free m->bytes and clear m (safe on a cleared or released manifest). */
void bs_oci_manifest_release(struct bs_oci_manifest *m);

/* Tag to digest, for `backstop rollback record`: ref->digest when it has
 * one (no request); else HEAD of ref->tag ("latest" when empty).  The
 * registry: reg->url when set and its host[:port] is ref->host (default
 * ports 80/443 ignored), with reg's credentials; https://<ref->host> with
 * reg's credentials when reg->url is NULL; https://<ref->host> anonymously
 * when reg->url names another registry; reg may be NULL (anonymous).
 * A tag that does not exist is BS_ERR_NOT_FOUND. */
int bs_oci_resolve(const struct bs_service_registry *reg, const struct bs_image_ref *ref,
		   char digest[BS_DIGEST_MAX], struct bs_err *err);

/* 1 for a multi-platform index (OCI image index, Docker manifest list). */
int bs_oci_is_index(const char *media_type);
/* 1 for a single-platform image manifest (OCI, Docker schema 2). */
int bs_oci_is_manifest(const char *media_type);

#endif
