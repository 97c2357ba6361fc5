/* copy.c (command layer) - see copy.h */
#include "command/copy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog/catalog.h"
#include "command/setup.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/stream.h"
#include "repo/repo.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The archive, streamed: source get -> SHA-256 tap -> destination put. */
static int copy_archive(struct bs_repo *from, struct bs_repo *to, const struct bs_snap_record *rec,
			uint64_t *bytes, struct bs_err *err)
{
	struct bs_repo_put_opts o = { .create_only = 1, .size_hint = rec->bytes };
	struct bs_rstream *in = NULL;
	struct bs_wstream *out = NULL;
	const struct bs_sha256_ctx *tap = NULL;
	struct bs_rstream *tapped;
	unsigned char d[BS_SHA256_LEN];
	char *buf = malloc(1 << 20);
	ssize_t n = 0;
	int rc = -1;

	*bytes = 0;
	if (!buf)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	if (bs_repo_get(from, rec->archive, &in, err) < 0)
		goto out;
	if (!(tapped = bs_rstream_sha256(in, &tap))) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	in = tapped;
	if (bs_repo_put_with(to, rec->archive, &o, &out, err) < 0)
		goto out;
	while ((n = bs_rstream_read(in, buf, 1 << 20, err)) > 0) {
		if (bs_wstream_write(out, buf, (size_t)n, err) < 0)
			goto out;
		*bytes += (uint64_t)n;
	}
	if (n < 0)
		goto out;
	bs_sha256_peek(tap, d);
	if (*bytes != rec->bytes || (rec->has_digests && memcmp(d, rec->archive_sha256, sizeof(d)) != 0)) {
		bs_err_set(err, BS_ERR_FORMAT, "the archive of snapshot %s in %s does not match its record (%s)",
			   rec->id, bs_repo_location(from), *bytes != rec->bytes ? "size" : "SHA-256");
		bs_err_hint(err, "the source copy is damaged; run 'backstop verify-restore %s --archive-only' on it",
			    rec->id);
		goto out;
	}
	if (bs_wstream_finish(out, err) < 0)
		goto out;
	rc = 0;
out:
	if (out && rc < 0) {
		struct bs_err e;
		bs_err_init(&e);
		if (bs_repo_put_abort(out, &e) < 0)
			bs_warn("%s", e.msg);
		out = NULL;
	}
	bs_wstream_free(out);
	bs_rstream_free(in);
	free(buf);
	return rc;
}

/* Is it there already, the same?  1 yes, 0 no, -1 there but different.
 * Reads that one record, not the destination's whole catalog. */
static int already_there(struct bs_repo *to, const struct bs_snap_record *rec, struct bs_err *err)
{
	struct bs_snap_record r;
	char key[128], *buf = NULL;
	size_t len = 0;
	int rc;

	snprintf(key, sizeof(key), "snapshots/%s.json", rec->id);
	if (bs_repo_get_bytes(to, key, 1 << 20, &buf, &len, err) < 0) {
		if (err->code != BS_ERR_NOT_FOUND)
			return -1;
		bs_err_init(err);
		return 0;
	}
	bs_snap_record_init(&r);
	rc = bs_snap_record_from_json(&r, buf, len, key, err) < 0 ? -1 : 1;
	if (rc == 1 && (r.bytes != rec->bytes || (r.has_digests && rec->has_digests &&
						  memcmp(r.archive_sha256, rec->archive_sha256, 32) != 0)))
		rc = bs_err_set(err, BS_ERR_EXISTS, "snapshot %s is in %s already, with another archive", rec->id,
				bs_repo_location(to));
	bs_snap_record_release(&r);
	free(buf);
	return rc;
}

int bs_snap_copy(struct bs_repo *from, struct bs_repo *to, const char *spec, const char *database,
		 struct bs_copy_result *res, struct bs_err *err)
{
	struct bs_catalog c;
	struct bs_snap_record rec;
	const struct bs_snap_record *r;
	double t0 = now_s();
	int rc = -1, there;

	memset(res, 0, sizeof(*res));
	bs_catalog_init(&c);
	bs_snap_record_init(&rec);
	if (bs_catalog_load(from, database, &c, err) < 0 || !(r = bs_catalog_find(&c, spec, 0, err)) ||
	    bs_snap_record_copy(&rec, r) < 0) {
		if (err->code == BS_OK)
			bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	snprintf(res->id, sizeof(res->id), "%s", rec.id);
	if (bs_repo_lock(to, BS_REPO_LOCK_SHARED, 30000, err) < 0)
		goto out;
	if ((there = already_there(to, &rec, err)) < 0)
		goto out;
	if (there) {
		res->already = 1;
		rc = 0;
		goto out;
	}
	if (copy_archive(from, to, &rec, &res->bytes, err) < 0 || bs_catalog_commit(to, &rec, err) < 0) {
		bs_err_prefix(err, "unable to copy snapshot %s to %s", rec.id, bs_repo_location(to));
		goto out;
	}
	rc = 0;
out:
	if (to)
		bs_repo_unlock(to);
	res->seconds = now_s() - t0;
	bs_snap_record_release(&rec);
	bs_catalog_release(&c);
	return rc;
}

int bs_cmd_repo_open_entry(const struct bs_config *cfg, size_t i, struct bs_repo **out, struct bs_err *err)
{
	struct bs_repo_settings set;

	bs_cmd_repo_settings(&cfg->repos[i].repo, &set);
	return bs_repo_open_with(cfg->repos[i].location, &set, out, err);
}

int bs_cmd_snap_fan_out(const struct bs_config *cfg, const char *id, struct bs_err *first_err)
{
	struct bs_repo *from = NULL;
	struct bs_err e;
	size_t i;
	int failed = 0;

	if (cfg->nrepos < 2 || cfg->selected_repo < 0 || cfg->repo_chosen)
		return 0;
	bs_err_init(&e);
	if (bs_cmd_repo_open_entry(cfg, (size_t)cfg->selected_repo, &from, &e) < 0) {
		*first_err = e;
		return (int)cfg->nrepos - 1;
	}
	for (i = 0; i < cfg->nrepos; i++) {
		struct bs_repo *to = NULL;
		struct bs_copy_result res;

		if ((int)i == cfg->selected_repo)
			continue;
		bs_err_init(&e);
		if (bs_cmd_repo_open_entry(cfg, i, &to, &e) < 0 || bs_snap_copy(from, to, id, NULL, &res, &e) < 0) {
			bs_log(BS_LOG_ERROR, "repository '%s': %s", cfg->repos[i].name, e.msg);
			if (!failed++)
				*first_err = e;
		} else {
			bs_info("snapshot %s copied to repository '%s' (%llu bytes in %.1fs)", id, cfg->repos[i].name,
				(unsigned long long)res.bytes, res.seconds);
		}
		bs_repo_close(to);
	}
	bs_repo_close(from);
	return failed;
}
