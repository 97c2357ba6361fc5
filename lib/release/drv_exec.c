/*
 * drv_exec.c - the exec driver: the operator's own command (helm, nomad,
 * aws ecs, az containerapp ...) from an argv template with {service}
 * {image} {digest} {ref}, run without a shell (docs/rollback.md).
 */
#include "release/driver_int.h"

#include <stdio.h>
#include <string.h>

#include "release/template.h"

static int check(const struct bs_service *svc, struct bs_err *err)
{
	char what[96];

	snprintf(what, sizeof(what), "services.%s.exec.command", svc->name);
	return bs_release_template_check(svc->exec.command, svc->exec.ncommand, what, err);
}

static int current(const struct bs_release_ctx *ctx, char digest[BS_DIGEST_MAX], struct bs_err *err)
{
	digest[0] = 0; /* the platform is the command's business: the ledger says */
	return 0;
}

static int apply(const struct bs_release_ctx *ctx, const struct bs_release_target *to, struct bs_release_change *out,
		 struct bs_err *err)
{
	char ref[BS_IMAGE_MAX + BS_DIGEST_MAX], line[768];
	struct bs_release_vars v = { .service = ctx->svc->name, .image = to->image, .digest = to->digest, .ref = ref };
	char **argv;
	int rc;

	if (check(ctx->svc, err) < 0)
		return -1;
	snprintf(ref, sizeof(ref), "%s@%s", to->image, to->digest);
	if (!(argv = bs_release_template_expand(ctx->svc->exec.command, ctx->svc->exec.ncommand, &v)))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	bs_release_argv_text(argv, line, sizeof(line));
	snprintf(out->detail, sizeof(out->detail), "%s: %s", ctx->dry_run ? "would run" : "ran", line);
	if (ctx->dry_run) {
		bs_release_argv_free(argv);
		return 0;
	}
	rc = bs_release_command_run(argv, ctx->svc->name, &v, ctx->svc->command_timeout_ms, err);
	bs_release_argv_free(argv);
	if (rc < 0)
		return bs_err_prefix(err, "the exec driver's command failed (what it changed is its own business: check the service)");
	return 0;
}

const struct bs_release_driver bs_release_driver_exec = { "exec", check, current, apply };
