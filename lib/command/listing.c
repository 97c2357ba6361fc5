/* listing.c - snap list / snap show: the operations load the catalog and
 * the retention decisions into a struct bs_snap_listing; the writers
 * render it as text or JSON (listing.h). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "command/listing.h"
#include "common/escape.h"
#include "common/human.h"
#include "common/log.h"
#include "report/report.h"

json_t *bs_snap_record_json(const struct bs_snap_record *r)
{
	json_t *o = bs_snap_record_object(r), *drill = json_null();

	json_object_del(o, "format");
	json_object_del(o, "version");
	if (r->drill_verdict) {
		char dt[32];
		bs_time_iso(r->drill_time, dt);
		drill = json_object();
		json_object_set_new(drill, "verdict", json_string(r->drill_verdict));
		json_object_set_new(drill, "time", json_string(dt));
		json_object_set_new(drill, "id", json_string(r->drill_id));
	}
	json_object_set_new(o, "pinned", json_boolean(r->pinned));
	json_object_set_new(o, "pin_reason", r->pin_reason ? json_string(r->pin_reason) : json_null());
	json_object_set_new(o, "drill", drill);
	return o;
}

static int dump_json(json_t *o, FILE *f, struct bs_err *err)
{
	if (bs_json_doc_write(o, f) < 0)
		return bs_err_set(err, BS_ERR_IO, "unable to write JSON output");
	return 0;
}

/* Apply the policy to the snapshots of one database (cat->recs[i] with
 * that database), filling their entries of dec. */
static int decide_one(const struct bs_retention_policy *policy, const struct bs_catalog *cat,
		      const char *database, struct bs_retention_item *items, size_t *idx,
		      struct bs_retention_decision *dec, struct bs_retention_decision *tmp)
{
	struct bs_err err;
	size_t i, n = 0;

	for (i = 0; i < cat->n; i++) {
		if (strcmp(cat->recs[i].database, database) != 0)
			continue;
		memset(&items[n], 0, sizeof(items[n]));
		items[n].id = cat->recs[i].id;
		items[n].start = cat->recs[i].start;
		items[n].complete = 1;
		items[n].pinned = cat->recs[i].pinned;
		items[n].drill_passed = cat->recs[i].drill_verdict &&
					strcmp(cat->recs[i].drill_verdict, "pass") == 0;
		idx[n++] = i;
	}
	bs_err_init(&err);
	if (bs_retention_apply(policy, items, n, time(NULL), tmp, &err) < 0)
		return -1;
	for (i = 0; i < n; i++)
		dec[idx[i]] = tmp[i];
	return 0;
}

/* What the retention policy would do with each snapshot, for "kept by":
 * decided per database, as prune decides.  Returns NULL without a policy
 * or when it cannot decide (never fatal). */
static struct bs_retention_decision *decide(const struct bs_retention_policy *policy,
					     const struct bs_catalog *cat)
{
	struct bs_retention_item *items = NULL;
	struct bs_retention_decision *dec = NULL, *tmp = NULL;
	struct bs_err err;
	size_t i, j, *idx = NULL;

	bs_err_init(&err);
	if (!policy || cat->n == 0 || bs_retention_policy_validate(policy, &err) < 0)
		return NULL;
	items = calloc(cat->n, sizeof(*items));
	dec = calloc(cat->n, sizeof(*dec));
	tmp = calloc(cat->n, sizeof(*tmp));
	idx = calloc(cat->n, sizeof(*idx));
	if (!items || !dec || !tmp || !idx)
		goto fail;
	for (i = 0; i < cat->n; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(cat->recs[j].database, cat->recs[i].database) == 0)
				break;
		if (j == i && decide_one(policy, cat, cat->recs[i].database, items, idx, dec, tmp) < 0)
			goto fail;
	}
	free(items);
	free(tmp);
	free(idx);
	return dec;
fail:
	free(items);
	free(dec);
	free(tmp);
	free(idx);
	return NULL;
}

void bs_snap_listing_release(struct bs_snap_listing *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; l->kept_by && i < l->cat.n; i++)
		free(l->kept_by[i]);
	free(l->kept_by);
	bs_catalog_release(&l->cat);
	memset(l, 0, sizeof(*l));
}

/* kept_by[i] from the decisions (NULL: the next prune deletes it). */
static int fill_kept_by(struct bs_snap_listing *l, const struct bs_retention_decision *dec)
{
	size_t i;

	l->has_policy = 1;
	if (!dec || l->cat.n == 0)
		return 0;
	if (!(l->kept_by = calloc(l->cat.n, sizeof(char *))))
		return -1;
	for (i = 0; i < l->cat.n; i++)
		if (dec[i].verdict == BS_RETAIN_KEEP && !(l->kept_by[i] = strdup(dec[i].reasons)))
			return -1;
	return 0;
}

int bs_cmd_snap_list(struct bs_repo *repo, const char *database,
		     const struct bs_retention_policy *policy, struct bs_snap_listing *out, struct bs_err *err)
{
	struct bs_retention_decision *dec;
	int rc;

	memset(out, 0, sizeof(*out));
	if (bs_catalog_load(repo, database, &out->cat, err) < 0)
		return -1;
	if (out->cat.n == 0 && database) {
		struct bs_catalog all;
		char names[512] = "";
		struct bs_err e;
		bs_err_init(&e);
		if (bs_catalog_load_flags(repo, NULL, BS_CATALOG_QUIET, &all, &e) == 0) {
			if (bs_catalog_databases(&all, names, sizeof(names)) > 0)
				bs_warn("no snapshots of database '%s'; this repository holds snapshots of: %s",
					database, names);
			bs_catalog_release(&all);
		}
	}
	if (!policy)
		return 0;
	dec = decide(policy, &out->cat);
	rc = fill_kept_by(out, dec);
	free(dec);
	if (rc < 0) {
		bs_snap_listing_release(out);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	return 0;
}

int bs_cmd_snap_show(struct bs_repo *repo, const char *spec, const char *database,
		     const struct bs_retention_policy *policy, struct bs_snap_listing *out, struct bs_err *err)
{
	struct bs_catalog cat;
	const struct bs_snap_record *r;
	struct bs_err e;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	if (bs_catalog_load(repo, database, &cat, err) < 0)
		return -1;
	r = bs_catalog_find(&cat, spec, 0, err);
	if (!r) {
		bs_catalog_release(&cat);
		return -1;
	}
	/* kept_by is decided among the snapshot's own database's snapshots:
	 * the listing is that database's, and the record is chosen from it */
	bs_err_init(&e);
	if (bs_catalog_load_flags(repo, r->database, BS_CATALOG_QUIET, &out->cat, &e) < 0) {
		bs_catalog_release(&cat);
		*err = e;
		return -1;
	}
	out->shown = SIZE_MAX;
	for (i = 0; i < out->cat.n; i++)
		if (strcmp(out->cat.recs[i].id, r->id) == 0)
			out->shown = i;
	bs_catalog_release(&cat);
	if (out->shown == SIZE_MAX) {
		bs_snap_listing_release(out);
		return bs_err_set(err, BS_ERR_NOT_FOUND, "snapshot %s disappeared from the catalog", spec);
	}
	if (!policy)
		return 0;
	{
		struct bs_retention_decision *dec = decide(policy, &out->cat);
		rc = fill_kept_by(out, dec);
		free(dec);
	}
	if (rc < 0) {
		bs_snap_listing_release(out);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	return 0;
}

/* ---- rendering ---- */

/* "kept by" for record i: the rules, "(next prune deletes it)", or "-"
 * (no policy, or it could not decide). */
static const char *kept_text(const struct bs_snap_listing *l, size_t i)
{
	if (!l->has_policy || !l->kept_by)
		return "-";
	return l->kept_by[i] ? l->kept_by[i] : "(next prune deletes it)";
}

static json_t *kept_json(const struct bs_snap_listing *l, size_t i)
{
	return l->kept_by && l->kept_by[i] ? json_string(l->kept_by[i]) : json_null();
}

int bs_snap_list_write(const struct bs_snap_listing *l, const char *database, const char *location, int json,
		       FILE *f, struct bs_err *err)
{
	size_t i;

	if (json) {
		json_t *o = json_object(), *a = json_array();
		for (i = 0; i < l->cat.n; i++) {
			json_t *r = bs_snap_record_json(&l->cat.recs[i]);
			json_object_set_new(r, "kept_by", kept_json(l, i));
			json_array_append_new(a, r);
		}
		json_object_set_new(o, "snapshots", a);
		return dump_json(o, f, err);
	}
	if (l->cat.n == 0) {
		fprintf(f, "no snapshots%s%s%s in %s\n", database ? " of database '" : "",
			database ? bs_esc(database) : "", database ? "'" : "", bs_esc(location));
		return 0;
	}
	fprintf(f, "%-24s %-16s %-20s %10s %8s %-9s %-5s %-6s %-6s %s\n", "ID", "DATABASE",
		"STARTED (UTC)", "SIZE", "TOOK", "STATUS", "ENC", "PINNED", "DRILL", "KEPT BY");
	for (i = 0; i < l->cat.n; i++) {
		const struct bs_snap_record *r = &l->cat.recs[i];
		char st[32], sz[32], took[32];
		bs_time_iso(r->start, st);
		st[10] = ' ';
		st[19] = '\0';
		bs_human_bytes(r->bytes, sz, sizeof(sz));
		bs_human_ms((int64_t)r->duration_ms, took, sizeof(took));
		fprintf(f, "%-24s %-16s %-20s %10s %8s %-9s %-5s %-6s %-6s %s\n", r->id, bs_esc(r->database), st,
			sz, took, r->status ? r->status : "complete", r->encrypted ? "age" : "none",
			r->pinned ? "yes" : "-", r->drill_verdict ? bs_esc(r->drill_verdict) : "-",
			kept_text(l, i));
	}
	return ferror(f) ? bs_err_set(err, BS_ERR_IO, "unable to write output") : 0;
}

int bs_snap_show_write(const struct bs_snap_listing *l, const char *location, int json, FILE *f,
		       struct bs_err *err)
{
	const struct bs_snap_record *r = &l->cat.recs[l->shown];
	char st[32], en[32], sz[32], took[32];
	size_t i;

	if (json) {
		json_t *o = bs_snap_record_json(r);
		json_object_set_new(o, "kept_by", kept_json(l, l->shown));
		return dump_json(o, f, err);
	}
	bs_time_iso(r->start, st);
	bs_time_iso(r->end, en);
	bs_human_bytes(r->bytes, sz, sizeof(sz));
	bs_human_ms((int64_t)r->duration_ms, took, sizeof(took));
	fprintf(f, "snapshot       %s\n", r->id);
	fprintf(f, "database       %s (PostgreSQL %s)\n", bs_esc(r->database), bs_esc(r->server_version));
	fprintf(f, "started        %s\nfinished       %s (%s)\n", st, en, took);
	fprintf(f, "size           %s (%llu bytes), %llu tables, %llu chunks\n", sz,
		(unsigned long long)r->bytes, (unsigned long long)r->tables, (unsigned long long)r->chunks);
	fprintf(f, "status         %s\n", r->status ? r->status : "complete");
	fprintf(f, "archive        %s/%s\n", bs_esc(location), r->archive);
	if (!r->encrypted) {
		fprintf(f, "encryption     none (the archive is readable by anyone who can read the repository)\n");
	} else {
		fprintf(f, "encryption     age; can be opened by:\n");
		for (i = 0; i < r->nrecipients; i++)
			fprintf(f, "                 %s\n", bs_esc(r->recipients[i]));
		if (r->passphrase)
			fprintf(f, "                 the passphrase (scrypt)\n");
	}
	fprintf(f, "pinned         %s%s%s\n", r->pinned ? "yes" : "no",
		r->pin_reason && *r->pin_reason ? ": " : "", r->pin_reason ? bs_esc(r->pin_reason) : "");
	if (r->drill_verdict) {
		char dt[32];
		bs_time_iso(r->drill_time, dt);
		fprintf(f, "last drill     %s at %s (%s)\n", bs_esc(r->drill_verdict), dt, bs_esc(r->drill_id));
	} else {
		fprintf(f, "last drill     never\n");
	}
	if (l->has_policy)
		fprintf(f, "kept by        %s\n", kept_text(l, l->shown));
	fprintf(f, "tool           backstop %s\n", r->tool_version ? bs_esc(r->tool_version) : "?");
	return ferror(f) ? bs_err_set(err, BS_ERR_IO, "unable to write output") : 0;
}
