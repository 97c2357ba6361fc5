/*
 * drv_registry.c - the registry driver: the platform runs whatever a
 * deployment tag (services.<name>.registry.tag, e.g. "prod") of the
 * service's image points at, so a rollback re-points that tag.
 *
 * apply, in order (every step before the tag moves is read-only but one:
 * the kept tag, which only adds a name):
 *   1. HEAD the tag: D0.  When the ledger says what is deployed
 *      (ctx->expect_digest) and D0 is something else, someone else moved
 *      the tag: refused, nothing changed.  D0 = target: nothing to do.
 *   2. GET the target manifest by digest (exact bytes and media type,
 *      sha256 checked); absent: not found, nothing changed.  A
 *      multi-platform index replaced by a single manifest is a warning.
 *   3. Keep D0 reachable: its exact bytes go under the new tag
 *      <tag>-rollback-<UTC yyyymmddThhmmssZ>.
 *   4. HEAD the tag again; moved meanwhile: refused, nothing changed but
 *      the kept tag.
 *   5. PUT the target's bytes under the tag, then HEAD it once more: it
 *      must be the target.
 * Nothing is ever deleted.  Under dry_run only steps 1 and 2 run.
 */
#include "release/driver_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "release/oci.h"

#define KEEP_INFIX "-rollback-"

/* 1 if tag follows the tag grammar. */
static int tag_valid(const char *tag)
{
	char ref[200];
	struct bs_image_ref r;
	struct bs_err e;

	if (strlen(tag) > 128)
		return 0;
	snprintf(ref, sizeof(ref), "x:%s", tag);
	bs_err_init(&e);
	return bs_image_ref_parse(ref, &r, &e) == 0 && !strcmp(r.tag, tag) && !r.digest[0];
}

static int reg_check(const struct bs_service *svc, struct bs_err *err)
{
	const struct bs_service_registry *reg = &svc->registry;
	struct bs_image_ref ref;

	if (!reg->tag || !*reg->tag) {
		bs_err_set(err, BS_ERR_CONFIG,
			   "service '%s' uses the registry driver without services.%s.registry.tag",
			   svc->name, svc->name);
		bs_err_hint(err, "set it to the deployment tag the platform runs, e.g. 'tag: prod'");
		return -1;
	}
	if (!tag_valid(reg->tag))
		return bs_err_set(
		    err, BS_ERR_CONFIG,
		    "services.%s.registry.tag '%s' is not a valid tag (1 to 128 of A-Z a-z 0-9 _ . -, "
		    "not starting with '.' or '-')",
		    svc->name, reg->tag);
	if (strlen(reg->tag) + strlen(KEEP_INFIX) + 19 > 128)
		return bs_err_set(
		    err, BS_ERR_CONFIG,
		    "services.%s.registry.tag '%s' is too long to keep a rollback tag beside it "
		    "(at most %zu characters)",
		    svc->name, reg->tag, 128 - strlen(KEEP_INFIX) - 19);
	if (!svc->image || !*svc->image)
		return bs_err_set(err, BS_ERR_CONFIG,
				  "service '%s' uses the registry driver without services.%s.image",
				  svc->name, svc->name);
	if (bs_image_ref_parse(svc->image, &ref, err) < 0) {
		err->code = BS_ERR_CONFIG;
		return bs_err_prefix(err, "services.%s.image", svc->name);
	}
	if (reg->url && strncmp(reg->url, "http://", 7) && strncmp(reg->url, "https://", 8))
		return bs_err_set(err, BS_ERR_CONFIG,
				  "services.%s.registry.url '%s' is not an http:// or https:// URL",
				  svc->name, reg->url);
	if (reg->password_file && !reg->username)
		return bs_err_set(
		    err, BS_ERR_CONFIG,
		    "services.%s.registry.password_file is set without services.%s.registry.username",
		    svc->name, svc->name);
	return 0;
}

static int reg_current(const struct bs_release_ctx *ctx, char digest[BS_DIGEST_MAX], struct bs_err *err)
{
	struct bs_oci *c = NULL;
	int rc;

	digest[0] = '\0';
	if (reg_check(ctx->svc, err) < 0 || bs_oci_open_service(ctx->svc, ctx->cancel, &c, err) < 0)
		return -1;
	rc = bs_oci_tag_digest(c, ctx->svc->registry.tag, digest, err);
	bs_oci_free(c);
	return rc;
}

/* The name to keep the old digest under: <tag>-rollback-<UTC time>, with
 * -2, -3 ... when that tag holds something else already.  0, or -1. */
static int keep_name(struct bs_oci *c, const char *tag, const char *old, char *out, size_t n, int *exists,
		     struct bs_err *err)
{
	char stamp[32], base[160];
	struct tm tm;
	time_t now = time(NULL);
	struct bs_oci_manifest m = {0};

	*exists = 0;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(base, sizeof(base), "%s%s%s", tag, KEEP_INFIX, stamp);
	for (int i = 1; i < 100; i++) {
		if (i == 1)
			snprintf(out, n, "%s", base);
		else
			snprintf(out, n, "%s-%d", base, i);
		if (bs_oci_head(c, out, &m, err) < 0)
			return -1;
		if (!m.exists || !strcmp(m.digest, old)) {
			*exists = m.exists;
			return 0;
		}
	}
	return bs_err_set(err, BS_ERR_EXISTS, "tags %s... of %s are all taken", base, bs_oci_repo(c));
}

static int reg_apply(const struct bs_release_ctx *ctx, const struct bs_release_target *to,
		     struct bs_release_change *out, struct bs_err *err)
{
	const struct bs_service *svc = ctx->svc;
	const char *tag = svc->registry.tag;
	struct bs_oci *c = NULL;
	struct bs_oci_manifest cur = {0}, target = {0}, old = {0}, now = {0};
	char keep[200], put[BS_DIGEST_MAX], d0[BS_DIGEST_MAX] = "";
	const char *repo;
	int keep_exists = 0, rc = -1;

	memset(out, 0, sizeof(*out));
	if (reg_check(svc, err) < 0)
		return -1;
	if (!to->digest || !bs_digest_ok(to->digest))
		return bs_err_set(err, BS_ERR_USAGE, "release %s has no sha256 digest to roll back to",
				  to->release ? to->release : "?");
	if (to->image && *to->image) {
		struct bs_image_ref a, b;

		if (bs_image_ref_parse(svc->image, &a, err) < 0 || bs_image_ref_parse(to->image, &b, err) < 0)
			return -1;
		if (strcmp(a.host, b.host) || strcmp(a.path, b.path))
			return bs_err_set(
			    err, BS_ERR_REFUSED,
			    "release %s is of image %s/%s, but the registry driver of service '%s' moves "
			    "tag %s of %s/%s: nothing changed",
			    to->release ? to->release : "?", b.host, b.path, svc->name, tag, a.host, a.path);
	}
	if (bs_oci_open_service(svc, ctx->cancel, &c, err) < 0)
		return -1;
	repo = bs_oci_repo(c);

	/* 1. where the tag is now */
	if (bs_oci_head(c, tag, &cur, err) < 0)
		goto out;
	if (cur.exists)
		snprintf(d0, sizeof(d0), "%s", cur.digest);
	if (ctx->expect_digest && *ctx->expect_digest && strcmp(d0, ctx->expect_digest) != 0) {
		if (cur.exists)
			bs_err_set(
			    err, BS_ERR_REFUSED,
			    "tag %s of %s points at %s, not %s the ledger records as deployed: someone else "
			    "moved it; nothing changed",
			    tag, repo, d0, ctx->expect_digest);
		else
			bs_err_set(err, BS_ERR_REFUSED,
				   "tag %s of %s does not exist, but the ledger records %s as deployed: "
				   "someone else "
				   "removed it; nothing changed",
				   tag, repo, ctx->expect_digest);
		bs_err_hint(err,
			    "find out who changed the tag; to accept what it holds now, record it with "
			    "'backstop rollback record %s %s:%s' and try again",
			    svc->name, repo, tag);
		goto out;
	}
	if (cur.exists && !strcmp(d0, to->digest)) {
		snprintf(out->detail, sizeof(out->detail), "tag %s of %s already points at %s: nothing to do",
			 tag, repo, to->digest);
		rc = 0;
		goto out;
	}

	/* 2. the target */
	if (bs_oci_get(c, to->digest, &target, err) < 0) {
		if (err->code == BS_ERR_NOT_FOUND) {
			bs_err_set(err, BS_ERR_NOT_FOUND, "manifest %s is not in %s: nothing changed",
				   to->digest, repo);
			bs_err_hint(
			    err, "push that image to %s again, or roll back to another release (--to)", repo);
		}
		goto out;
	}
	if (cur.exists && bs_oci_is_index(cur.media_type) && bs_oci_is_manifest(target.media_type))
		snprintf(out->warning, sizeof(out->warning),
			 "tag %s of %s holds a multi-platform index (%s); %s is a single-platform manifest: "
			 "hosts of other platforms will fail to pull it",
			 tag, repo, d0, to->digest);

	if (ctx->dry_run) {
		if (keep_name(c, tag, d0, keep, sizeof(keep), &keep_exists, err) < 0)
			goto out;
		snprintf(out->detail, sizeof(out->detail), "would move tag %s of %s: %s -> %s%s%s%s", tag,
			 repo, cur.exists ? d0 : "(no such tag)", to->digest,
			 cur.exists ? "\nwould keep " : "", cur.exists ? d0 : "",
			 cur.exists ? " as tag " : "");
		if (cur.exists)
			strncat(out->detail, keep, sizeof(out->detail) - strlen(out->detail) - 1);
		rc = 0;
		goto out;
	}

	/* 3. keep the old manifest reachable */
	if (cur.exists) {
		if (keep_name(c, tag, d0, keep, sizeof(keep), &keep_exists, err) < 0)
			goto out;
		if (!keep_exists) {
			if (bs_oci_get(c, d0, &old, err) < 0) {
				bs_err_prefix(err, "reading the manifest tag %s points at, to keep it", tag);
				goto out;
			}
			if (bs_oci_put(c, keep, old.bytes, old.len, old.media_type, put, err) < 0) {
				bs_err_prefix(err, "keeping %s as tag %s (nothing changed)", d0, keep);
				goto out;
			}
		}
		snprintf(out->kept, sizeof(out->kept), "tag %s of %s (%s)", keep, repo, d0);
	}

	/* 4. nobody moved it meanwhile */
	if (bs_oci_head(c, tag, &now, err) < 0)
		goto out;
	if (strcmp(now.exists ? now.digest : "", d0) != 0) {
		bs_err_set(
		    err, BS_ERR_REFUSED,
		    "tag %s of %s moved from %s to %s while backstop prepared the rollback: someone else "
		    "moved it; nothing changed%s%s%s",
		    tag, repo, cur.exists ? d0 : "(no such tag)", now.exists ? now.digest : "(deleted)",
		    cur.exists ? " (the tag " : "", cur.exists ? keep : "",
		    cur.exists ? " kept for the old digest is harmless)" : "");
		goto out;
	}

	/* 5. move it, and look */
	if (bs_oci_put(c, tag, target.bytes, target.len, target.media_type, put, err) < 0) {
		bs_err_prefix(err, "moving tag %s of %s to %s", tag, repo, to->digest);
		goto out;
	}
	if (bs_oci_head(c, tag, &now, err) < 0) {
		bs_err_prefix(err, "tag %s of %s was moved to %s, but reading it back failed", tag, repo,
			      to->digest);
		goto out;
	}
	if (!now.exists || strcmp(now.digest, to->digest) != 0) {
		bs_err_set(
		    err, BS_ERR_REFUSED,
		    "tag %s of %s points at %s right after backstop moved it to %s: someone else moved it "
		    "meanwhile; the tag is left as they set it",
		    tag, repo, now.exists ? now.digest : "(deleted)", to->digest);
		goto out;
	}
	snprintf(out->detail, sizeof(out->detail), "tag %s of %s: %s -> %s", tag, repo,
		 cur.exists ? d0 : "(no such tag)", to->digest);
	rc = 0;
out:
	bs_oci_manifest_release(&cur);
	bs_oci_manifest_release(&target);
	bs_oci_manifest_release(&old);
	bs_oci_manifest_release(&now);
	bs_oci_free(c);
	return rc;
}

const struct bs_release_driver bs_release_driver_registry = {"registry", reg_check, reg_current, reg_apply};
