/*
 * fuzz_policy_load.c - the generic policy loader (bs_policy_load_buf) on a
 * made-up kind that uses every part of it: the "widget:" wrapper, the
 * kind/version header, a required string, a bounded integer, a bounded
 * duration, a list, a nested mapping and a validate hook.  (The retention
 * and drill targets reach the loader through their own kinds.)
 *
 * Properties: a failure is BS_ERR_POLICY (or out of memory) with a message
 * and leaves the struct owning nothing, initialized again; an accepted
 * policy has its required key, every value within its bounds, a version
 * the kind reads, and passed its validate hook.
 */
#include "config/policy_load.h"
#include "fuzz.h"

struct limits {
	int burst;
	int64_t window_ms;
};

struct widget {
	char *name;
	int replicas;
	int64_t timeout_ms;
	char **tags;
	size_t ntags;
	struct limits limits;
	int version;
};

static const struct bs_bind_field limits_fields[] = {
	BS_BIND_F_INT("burst", struct limits, burst, 0, 1000),
	BS_BIND_F_DURATION("window", struct limits, window_ms, 1000),
	BS_BIND_F_END,
};

static const struct bs_bind_field widget_fields[] = {
	BS_BIND_F_STRING("name", struct widget, name, BS_BIND_REQUIRED),
	BS_BIND_F_INT("replicas", struct widget, replicas, 1, 10),
	{.key = "timeout",
	 .type = BS_BIND_DURATION,
	 .offset = offsetof(struct widget, timeout_ms),
	 .scale = 1000,
	 .min = 1,
	 .max = 3600},
	BS_BIND_F_STRLIST("tags", struct widget, tags, ntags),
	BS_BIND_F_TABLE("limits", struct widget, limits, limits_fields),
	BS_BIND_F_END,
};

static void init(void *dest)
{
	struct widget *w = dest;

	memset(w, 0, sizeof(*w));
	w->replicas = 1;
	w->timeout_ms = 30000;
	w->limits.window_ms = 60000;
}

static int validate(void *dest, const struct bs_policy_src *src, struct bs_err *err)
{
	struct widget *w = dest;

	w->version = src->version;
	if (w->timeout_ms > w->limits.window_ms)
		return bs_ynode_error(err, BS_ERR_POLICY, bs_ynode_get(src->map, "timeout"),
				      "timeout is longer than limits.window");
	return 0;
}

static const struct bs_policy_kind widget_kind = {
	.what = "widget policy",
	.section = "widget",
	.kind = "widget",
	.max_version = 2,
	.fields = widget_fields,
	.init = init,
	.validate = validate,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct widget w;
	struct bs_err err;
	size_t i;
	int rc;

	fuzz_quiet();
	bs_err_init(&err);
	rc = bs_policy_load_buf(&widget_kind, "widget.yaml", (const char *)data, size, &w, &err);
	fuzz_check_err(rc, &err);
	if (rc < 0) {
		FUZZ_ASSERT(err.code == BS_ERR_POLICY || err.code == BS_ERR_NOMEM);
		FUZZ_ASSERT(w.name == NULL && w.tags == NULL && w.ntags == 0);
		FUZZ_ASSERT(w.replicas == 1 && w.timeout_ms == 30000);
		return 0;
	}
	FUZZ_ASSERT(w.name != NULL);
	FUZZ_ASSERT(w.replicas >= 1 && w.replicas <= 10);
	FUZZ_ASSERT(w.timeout_ms >= 1000 && w.timeout_ms <= 3600 * 1000);
	FUZZ_ASSERT(w.timeout_ms <= w.limits.window_ms);
	FUZZ_ASSERT(w.limits.burst >= 0 && w.limits.burst <= 1000);
	FUZZ_ASSERT(w.version == 1 || w.version == 2);
	FUZZ_ASSERT(w.ntags <= BS_BIND_STRLIST_MAX);
	for (i = 0; i < w.ntags; i++)
		FUZZ_ASSERT(w.tags[i] != NULL);
	bs_bind_release(widget_fields, &w);
	return 0;
}
