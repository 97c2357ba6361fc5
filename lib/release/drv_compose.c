/*
 * drv_compose.c - the compose driver: pin the service's image: line in the
 * compose file to <image>@<digest> (compose_edit.h: only that scalar's
 * bytes change), keep the previous file beside it, and run
 * `docker compose -f {file} up -d --no-deps {service}` (or the configured
 * argv template) without a shell.  When the command fails, the file gets
 * its previous content back, so a failed apply leaves nothing changed.
 *
 * The file may be a symbolic link: it is followed, and the file it names
 * is the one rewritten (and kept beside itself), so the link stays.  The
 * command gets the file's path as configured.
 */
#include "release/driver_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/durable.h"
#include "common/stream.h"
#include "release/compose_edit.h"
#include "release/template.h"


static char *const default_command[] = {"docker", "compose", "-f",	  "{file}",
					"up",	  "-d",	     "--no-deps", "{service}"};

static const char *compose_service(const struct bs_service *svc)
{
	return svc->compose.service && svc->compose.service[0] ? svc->compose.service : svc->name;
}

static void command_template(const struct bs_service *svc, char *const **tmpl, size_t *n)
{
	if (svc->compose.command) {
		*tmpl = svc->compose.command;
		*n = svc->compose.ncommand;
	} else {
		*tmpl = default_command;
		*n = sizeof(default_command) / sizeof(default_command[0]);
	}
}

static int check(const struct bs_service *svc, struct bs_err *err)
{
	char what[96];

	if (!svc->compose.file || !svc->compose.file[0]) {
		bs_err_set(err, BS_ERR_CONFIG,
			   "service '%s' uses the compose driver but has no 'compose.file'", svc->name);
		bs_err_hint(err, "compose:\n  file: /srv/app/compose.yaml");
		return -1;
	}
	if (svc->compose.command) {
		snprintf(what, sizeof(what), "services.%s.compose.command", svc->name);
		if (bs_release_template_check(svc->compose.command, svc->compose.ncommand, what, err) < 0)
			return -1;
	}
	return 0;
}

/* The sha256:... of an image reference pinned by digest, or "". */
static void digest_of(const char *image, char out[BS_DIGEST_MAX])
{
	const char *at = strrchr(image, '@');

	out[0] = 0;
	if (at && bs_digest_ok(at + 1))
		snprintf(out, BS_DIGEST_MAX, "%s", at + 1);
}

static int current(const struct bs_release_ctx *ctx, char digest[BS_DIGEST_MAX], struct bs_err *err)
{
	const struct bs_service *svc = ctx->svc;
	char image[BS_IMAGE_MAX], *text = NULL;
	size_t len = 0;
	int rc;

	digest[0] = 0;
	if (check(svc, err) < 0)
		return -1;
	if (bs_read_file(svc->compose.file, BS_COMPOSE_MAX_BYTES, &text, &len, err) < 0)
		return bs_err_prefix(err, "reading the compose file");
	rc = bs_compose_image(text, len, svc->compose.file, compose_service(svc), image, sizeof(image), err);
	free(text);
	if (rc < 0)
		return -1;
	digest_of(image, digest);
	return 0;
}

/* ---- files ----------------------------------------------------------------- */

static void dir_of(const char *path, char *dir, size_t n)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, n, ".");
	else if (slash == path)
		snprintf(dir, n, "/");
	else
		snprintf(dir, n, "%.*s", (int)(slash - path), path);
}

/* Give path the owner it had when we run as root (a rename leaves ours). */
static void keep_owner(const char *path, int fd, const struct stat *st, char *warning, size_t wn)
{
	int rc;

	if (geteuid() != 0 || (st->st_uid == 0 && st->st_gid == 0))
		return;
	rc = fd >= 0 ? fchown(fd, st->st_uid, st->st_gid) : lchown(path, st->st_uid, st->st_gid);
	if (rc < 0 && !warning[0])
		snprintf(warning, wn, "unable to give '%s' back its owner %u:%u: %s", path,
			 (unsigned)st->st_uid, (unsigned)st->st_gid, strerror(errno));
}

/* Write buf to a new file beside real ("<real>.backstop-<UTC time>", -2,
 * -3 ... when taken), create-only, with the file's mode; its path into kept. */
static int write_kept(const char *real, const struct stat *st, const char *buf, size_t len, char *kept,
		      size_t kn, char *warning, size_t wn, struct bs_err *err)
{
	char stamp[32], dir[PATH_MAX];
	struct tm tm;
	time_t now = time(NULL);
	size_t off = 0;
	int fd = -1, i, e;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (i = 1; i < 100 && fd < 0; i++) {
		if (i == 1)
			snprintf(kept, kn, "%s.backstop-%s", real, stamp);
		else
			snprintf(kept, kn, "%s.backstop-%s-%d", real, stamp, i);
		fd = open(kept, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st->st_mode & 07777);
		if (fd < 0 && errno != EEXIST)
			return bs_err_sys(err, BS_ERR_IO, errno,
					  "unable to keep the previous compose file as '%s'", kept);
	}
	if (fd < 0)
		return bs_err_set(err, BS_ERR_IO,
				  "unable to keep the previous compose file: '%s' and 98 more are taken",
				  kept);
	if (fchmod(fd, st->st_mode & 07777) < 0)
		goto fail;
	keep_owner(kept, fd, st, warning, wn);
	while (off < len) {
		ssize_t w = write(fd, buf + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			goto fail;
		off += (size_t)w;
	}
	if (fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	dir_of(kept, dir, sizeof(dir));
	if (bs_fsync_dir(dir) < 0) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlink(kept);
	bs_err_sys(err, BS_ERR_IO, e, "unable to keep the previous compose file as '%s'", kept);
	kept[0] = 0;
	return -1;
}

/* Replace real with buf, atomically, keeping its mode (and owner). */
static int replace(const char *real, const struct stat *st, const char *buf, size_t len, char *warning,
		   size_t wn, struct bs_err *err)
{
	if (bs_durable_write_bytes(real, st->st_mode & 07777, buf, len, err) < 0)
		return -1;
	/* the temporary file was created under our umask */
	if (chmod(real, st->st_mode & 07777) < 0)
		return bs_err_sys(err, BS_ERR_IO, errno, "unable to set the mode of '%s'", real);
	keep_owner(real, -1, st, warning, wn);
	return 0;
}

/* ---- apply ----------------------------------------------------------------- */

/* "docker compose" for docker compose, else "the compose command". */
static const char *command_label(char **argv)
{
	const char *b = strrchr(argv[0], '/');

	b = b ? b + 1 : argv[0];
	if (strcmp(b, "docker") == 0 && argv[1] && strcmp(argv[1], "compose") == 0)
		return "docker compose";
	if (strcmp(b, "docker-compose") == 0)
		return "docker-compose";
	return "the compose command";
}

static int apply(const struct bs_release_ctx *ctx, const struct bs_release_target *to,
		 struct bs_release_change *out, struct bs_err *err)
{
	const struct bs_service *svc = ctx->svc;
	const char *file = svc->compose.file, *csvc;
	char ref[BS_IMAGE_MAX + BS_DIGEST_MAX], old[BS_IMAGE_MAX], old_digest[BS_DIGEST_MAX];
	char real[PATH_MAX], line[768], kept[PATH_MAX + 64];
	char *text = NULL, *pinned = NULL, *again = NULL, **argv = NULL;
	char *const *tmpl;
	size_t len = 0, plen = 0, alen = 0, ntmpl;
	struct bs_release_vars v;
	struct stat st;
	int changed, rc = -1;

	kept[0] = 0;
	if (check(svc, err) < 0)
		return -1;
	csvc = compose_service(svc);
	if (!to->image || !to->image[0] || !to->digest || !bs_digest_ok(to->digest))
		return bs_err_set(err, BS_ERR_INTERNAL, "compose driver: no image and digest to pin");
	if (snprintf(ref, sizeof(ref), "%s@%s", to->image, to->digest) >= (int)sizeof(ref))
		return bs_err_set(err, BS_ERR_USAGE, "image reference too long: '%s'", to->image);

	/* The file, following a symbolic link to the one to rewrite. */
	if (!realpath(file, real))
		return bs_err_sys(err, errno == ENOENT ? BS_ERR_NOT_FOUND : BS_ERR_IO, errno,
				  "unable to open the compose file '%s'", file);
	if (stat(real, &st) < 0)
		return bs_err_sys(err, BS_ERR_IO, errno, "unable to open the compose file '%s'", file);
	if (!S_ISREG(st.st_mode))
		return bs_err_set(err, BS_ERR_CONFIG, "the compose file '%s' is not a regular file", file);
	if (bs_read_file(real, BS_COMPOSE_MAX_BYTES, &text, &len, err) < 0) {
		bs_err_prefix(err, "reading the compose file");
		goto out;
	}
	if (bs_compose_pin(text, len, file, csvc, ref, &pinned, &plen, old, sizeof(old), err) < 0)
		goto out;
	changed = plen != len || memcmp(pinned, text, len) != 0;

	digest_of(old, old_digest);
	if (ctx->expect_digest && ctx->expect_digest[0] && old_digest[0] &&
	    strcmp(old_digest, ctx->expect_digest) != 0)
		snprintf(out->warning, sizeof(out->warning),
			 "%s pins services.%s.image to %s, but the ledger says %s is deployed: the file was "
			 "edited outside backstop",
			 file, csvc, old_digest, ctx->expect_digest);

	command_template(svc, &tmpl, &ntmpl);
	v = (struct bs_release_vars){
	    .service = csvc, .image = to->image, .digest = to->digest, .ref = ref, .file = file};
	argv = bs_release_template_expand(tmpl, ntmpl, &v);
	if (!argv) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	bs_release_argv_text(argv, line, sizeof(line));
	if (changed)
		snprintf(out->detail, sizeof(out->detail), "%s%s: services.%s.image: %s -> %s\n%s: %s",
			 ctx->dry_run ? "would write " : "", file, csvc, old, ref,
			 ctx->dry_run ? "would run" : "ran", line);
	else
		snprintf(out->detail, sizeof(out->detail),
			 "%s: services.%s.image is already %s (file unchanged)\n%s: %s", file, csvc, ref,
			 ctx->dry_run ? "would run" : "ran", line);
	if (ctx->dry_run) {
		rc = 0;
		goto out;
	}
	if (ctx->cancel && *ctx->cancel) {
		bs_err_set(err, BS_ERR_INTERRUPTED, "interrupted before changing '%s'", file);
		goto out;
	}

	if (changed) {
		if (write_kept(real, &st, text, len, kept, sizeof(kept), out->warning, sizeof(out->warning),
			       err) < 0)
			goto out;
		/* Someone else's edit since we read it would be lost: refuse. */
		if (bs_read_file(real, BS_COMPOSE_MAX_BYTES, &again, &alen, err) < 0) {
			bs_err_prefix(err, "reading the compose file again");
			unlink(kept);
			goto out;
		}
		if (alen != len || memcmp(again, text, len) != 0) {
			unlink(kept);
			bs_err_set(err, BS_ERR_REFUSED,
				   "the compose file '%s' changed while backstop was editing it", file);
			bs_err_hint(err, "run the rollback again");
			goto out;
		}
		if (replace(real, &st, pinned, plen, out->warning, sizeof(out->warning), err) < 0) {
			unlink(kept);
			bs_err_prefix(err, "pinning services.%s.image in '%s'", csvc, file);
			goto out;
		}
	}

	if (bs_release_command_run(argv, ctx->svc->name, &v, ctx->svc->command_timeout_ms, err) < 0) {
		struct bs_err rerr;

		if (!changed) {
			bs_err_prefix(err, "%s failed (%s was already pinned to the target and is unchanged)",
				      command_label(argv), file);
			goto out;
		}
		bs_err_init(&rerr);
		if (replace(real, &st, text, len, out->warning, sizeof(out->warning), &rerr) < 0) {
			char cmd_msg[BS_ERR_MSG_MAX];

			snprintf(cmd_msg, sizeof(cmd_msg), "%s", err->msg);
			bs_err_set(err, rerr.code, "%s failed, and '%s' could not be restored: %s",
				   command_label(argv), file, rerr.msg);
			bs_err_detail(
			    err, "the command: %s\nthe file now pins %s; its previous content is in '%s'",
			    cmd_msg, ref, kept);
			bs_err_hint(err, "copy '%s' over '%s'", kept, real);
			snprintf(out->kept, sizeof(out->kept), "%s", kept);
			goto out;
		}
		unlink(kept); /* the file is the previous one again */
		kept[0] = 0;
		bs_err_prefix(err, "%s failed; %s restored to its previous content", command_label(argv),
			      file);
		/* the file is back; what the command did before it failed is not
		 * undone here */
		bs_err_hint(err, "the command may have recreated containers before it failed: check what the service runs "
				 "(docker compose ps), and run the command again to match the restored file");
		goto out;
	}
	snprintf(out->kept, sizeof(out->kept), "%s", kept);
	rc = 0;
out:
	bs_release_argv_free(argv);
	free(text);
	free(pinned);
	free(again);
	return rc;
}

const struct bs_release_driver bs_release_driver_compose = {"compose", check, current, apply};
