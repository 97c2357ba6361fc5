/* listing.c - snap list / snap show output */
#include <jansson.h>
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

static const char *kept_by(const struct bs_retention_decision *d)
{
	if (!d)
		return "-";
	return d->verdict == BS_RETAIN_KEEP ? d->reasons : "(next prune deletes it)";
}

int bs_cmd_snap_list(struct bs_repo *repo, const char *database,
		     const struct bs_retention_policy *policy, int json, FILE *f, struct bs_err *err)
{
	struct bs_retention_decision *dec;
	struct bs_catalog cat;
	size_t i;

	if (bs_catalog_load(repo, database, &cat, err) < 0)
		return -1;
	dec = decide(policy, &cat);
	if (json) {
		json_t *o = json_object(), *a = json_array();
		for (i = 0; i < cat.n; i++) {
			json_t *r = bs_snap_record_json(&cat.recs[i]);
			json_object_set_new(r, "kept_by", dec && dec[i].verdict == BS_RETAIN_KEEP
								  ? json_string(dec[i].reasons)
								  : json_null());
			json_array_append_new(a, r);
		}
		json_object_set_new(o, "snapshots", a);
		bs_catalog_release(&cat);
		free(dec);
		return dump_json(o, f, err);
	}
	if (cat.n == 0) {
		struct bs_catalog all;
		char names[512] = "";
		if (database && bs_catalog_load_flags(repo, NULL, BS_CATALOG_QUIET, &all, err) == 0) {
			if (bs_catalog_databases(&all, names, sizeof(names)) > 0)
				bs_warn("no snapshots of database '%s'; this repository holds snapshots of: %s",
					database, names);
			bs_catalog_release(&all);
		}
		fprintf(f, "no snapshots%s%s%s in %s\n", database ? " of database '" : "",
			database ? bs_esc(database) : "", database ? "'" : "", bs_esc(bs_repo_location(repo)));
		bs_catalog_release(&cat);
		return 0;
	}
	fprintf(f, "%-24s %-16s %-20s %10s %8s %-9s %-5s %-6s %-6s %s\n", "ID", "DATABASE",
		"STARTED (UTC)", "SIZE", "TOOK", "STATUS", "ENC", "PINNED", "DRILL", "KEPT BY");
	for (i = 0; i < cat.n; i++) {
		const struct bs_snap_record *r = &cat.recs[i];
		char st[32], sz[32], took[32];
		bs_time_iso(r->start, st);
		st[10] = ' ';
		st[19] = '\0';
		bs_human_bytes(r->bytes, sz, sizeof(sz));
		bs_human_ms((int64_t)r->duration_ms, took, sizeof(took));
		fprintf(f, "%-24s %-16s %-20s %10s %8s %-9s %-5s %-6s %-6s %s\n", r->id, bs_esc(r->database), st,
			sz, took, r->status ? r->status : "complete", r->encrypted ? "age" : "none",
			r->pinned ? "yes" : "-", r->drill_verdict ? bs_esc(r->drill_verdict) : "-",
			kept_by(dec ? &dec[i] : NULL));
	}
	free(dec);
	bs_catalog_release(&cat);
	return 0;
}

int bs_cmd_snap_show(struct bs_repo *repo, const char *spec, const char *database,
		     const struct bs_retention_policy *policy, int json, FILE *f, struct bs_err *err)
{
	struct bs_catalog cat, same;
	struct bs_retention_decision *dec = NULL;
	const struct bs_snap_record *r;
	char st[32], en[32], sz[32], took[32], kept[512];
	size_t i;

	if (bs_catalog_load(repo, database, &cat, err) < 0)
		return -1;
	r = bs_catalog_find(&cat, spec, 0, err);
	if (!r) {
		bs_catalog_release(&cat);
		return -1;
	}
	/* kept_by is decided among the snapshot's own database's snapshots */
	snprintf(kept, sizeof(kept), "-");
	if (policy && bs_catalog_load(repo, r->database, &same, err) == 0) {
		dec = decide(policy, &same);
		for (i = 0; dec && i < same.n; i++)
			if (strcmp(same.recs[i].id, r->id) == 0)
				snprintf(kept, sizeof(kept), "%s", kept_by(&dec[i]));
		free(dec);
		bs_catalog_release(&same);
	}
	bs_err_clear(err);
	if (json) {
		json_t *o = bs_snap_record_json(r);
		json_object_set_new(o, "kept_by", policy && strcmp(kept, "-") != 0 &&
							  strcmp(kept, "(next prune deletes it)") != 0
						  ? json_string(kept)
						  : json_null());
		bs_catalog_release(&cat);
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
	fprintf(f, "archive        %s/%s\n", bs_esc(bs_repo_location(repo)), r->archive);
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
	if (policy)
		fprintf(f, "kept by        %s\n", kept);
	fprintf(f, "tool           backstop %s\n", r->tool_version ? bs_esc(r->tool_version) : "?");
	bs_catalog_release(&cat);
	return 0;
}
