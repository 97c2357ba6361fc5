/*
 * record.c - drill records in the catalog: drills/<snapshot-id>/<drill-id>.json
 * (docs/drill.md), and listing them.
 *
 * The record holds what the gate, retention and `snap list` need (verdict,
 * start, RTO, RPO, limits) and the per-table mismatches; row contents never
 * appear in it (digests of a table that differs are the only derived data,
 * as in the manifest they are compared with).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "drill/drill.h"
#include "drill/drill_int.h"

#define RECORD_MAX (4u << 20)
#define DRILL_LIST_MAX 100000

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *ms_or_null(int64_t ms)
{
	return ms >= 0 ? json_integer((json_int_t)ms) : json_null();
}

static json_t *table_json(const struct bs_drill_table *t)
{
	char q[512], he[BS_DIGEST_HEX_LEN + 1], ha[BS_DIGEST_HEX_LEN + 1];
	json_t *o = json_object();

	bs_drill_qname(q, sizeof(q), t->schema, t->name);
	bs_digest_hex(&t->expected, he);
	bs_digest_hex(&t->actual, ha);
	json_object_set_new(o, "table", json_string(q));
	json_object_set_new(o, "status", json_string(!t->checked ? "not checked" : t->ok ? "ok" : "mismatch"));
	json_object_set_new(o, "rows_expected", json_integer((json_int_t)t->rows_expected));
	json_object_set_new(o, "rows_actual", t->checked ? json_integer((json_int_t)t->rows_actual) : json_null());
	json_object_set_new(o, "digest_expected", json_string(he));
	json_object_set_new(o, "digest_actual", t->checked ? json_string(ha) : json_null());
	json_object_set_new(o, "seconds", json_real(t->seconds));
	return o;
}

json_t *bs_drill_json(const struct bs_drill_report *r, int full)
{
	json_t *o = json_object(), *ph = json_object(), *ck = json_object(), *lim = json_object();
	json_t *fa = json_array(), *ta = json_array(), *sc;
	char st[32], en[32], ss[32], host[256];
	size_t i;

	bs_time_iso(r->start, st);
	bs_time_iso(r->end ? r->end : r->start, en);
	bs_time_iso(r->snapshot_start, ss);
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "?");
	host[sizeof(host) - 1] = '\0';

	json_object_set_new(o, "format", json_string("backstop-drill-record"));
	json_object_set_new(o, "version", json_integer(1));
	json_object_set_new(o, "id", json_string(r->id));
	json_object_set_new(o, "snapshot", json_string(r->snapshot));
	json_object_set_new(o, "database", str_or_null(r->database));
	json_object_set_new(o, "mode", json_string(bs_drill_mode_name(r->mode)));
	json_object_set_new(o, "verdict", json_string(bs_drill_verdict(r)));
	json_object_set_new(o, "start", json_string(st));
	json_object_set_new(o, "end", json_string(en));
	json_object_set_new(o, "snapshot_start", json_string(ss));
	json_object_set_new(o, "rto_ms", ms_or_null(r->rto_ms));
	json_object_set_new(o, "rpo_ms", ms_or_null(r->rpo_ms));

	json_object_set_new(ph, "setup", json_integer((json_int_t)(r->t_setup * 1000)));
	json_object_set_new(ph, "fetch_decrypt", json_integer((json_int_t)(r->t_fetch * 1000)));
	json_object_set_new(ph, "schema", json_integer((json_int_t)(r->t_schema * 1000)));
	json_object_set_new(ph, "data", json_integer((json_int_t)(r->t_data * 1000)));
	json_object_set_new(ph, "post_data", json_integer((json_int_t)(r->t_postdata * 1000)));
	json_object_set_new(ph, "verify", json_integer((json_int_t)(r->t_verify * 1000)));
	json_object_set_new(ph, "smoke", json_integer((json_int_t)(r->t_smoke * 1000)));
	json_object_set_new(ph, "total", json_integer((json_int_t)(r->t_total * 1000)));
	json_object_set_new(o, "phases_ms", ph);

	json_object_set_new(lim, "max_rto_ms", r->max_rto_ms ? json_integer((json_int_t)r->max_rto_ms) : json_null());
	json_object_set_new(lim, "max_snapshot_age_ms",
			    r->max_snapshot_age_ms ? json_integer((json_int_t)r->max_snapshot_age_ms) : json_null());
	json_object_set_new(o, "limits", lim);

	json_object_set_new(ck, "tables", json_integer((json_int_t)r->ntables));
	json_object_set_new(ck, "rows", json_integer((json_int_t)r->rows));
	json_object_set_new(ck, "chunks", json_integer((json_int_t)r->chunks));
	json_object_set_new(ck, "sequences", json_integer((json_int_t)r->sequences));
	json_object_set_new(ck, "large_objects", json_integer((json_int_t)r->blobs));
	json_object_set_new(ck, "schema_objects", json_integer((json_int_t)r->schema_objects));
	json_object_set_new(ck, "smoke_queries", json_integer((json_int_t)r->nsmoke));
	json_object_set_new(ck, "archive_bytes", json_integer((json_int_t)r->archive_bytes));
	json_object_set_new(o, "checked", ck);

	for (i = 0; i < r->nfindings; i++) {
		const struct bs_drill_finding *x = &r->findings[i];
		json_array_append_new(fa, json_pack("{s:s,s:o,s:s}", "area", x->area, "object",
						    str_or_null(x->object), "message", x->message));
	}
	json_object_set_new(o, "findings_total", json_integer((json_int_t)r->findings_total));
	json_object_set_new(o, "findings", fa);

	for (i = 0; i < r->ntables; i++)
		if (full || (r->tables[i].checked && !r->tables[i].ok))
			json_array_append_new(ta, table_json(&r->tables[i]));
	json_object_set_new(o, full ? "tables" : "table_mismatches", ta);

	if (full) {
		json_t *sa = json_array();
		for (i = 0; i < r->nsmoke; i++)
			json_array_append_new(sa, json_pack("{s:s,s:b,s:o,s:f}", "name", r->smoke[i].name, "ok",
							    r->smoke[i].ok, "detail", str_or_null(r->smoke[i].detail),
							    "seconds", r->smoke[i].seconds));
		json_object_set_new(o, "smoke", sa);
	}

	sc = json_object();
	json_object_set_new(sc, "server", str_or_null(r->scratch_server));
	json_object_set_new(sc, "database", r->scratch_db[0] ? json_string(r->scratch_db) : json_null());
	json_object_set_new(sc, "kept", json_boolean(r->kept));
	json_object_set_new(o, "scratch", sc);
	json_object_set_new(o, "error", r->could_not_run ? json_string(r->error.msg) : json_null());
	json_object_set_new(o, "host", json_string(host));
	json_object_set_new(o, "tool_version", json_string(BS_VERSION));
	if (full && r->recorded)
		json_object_set_new(o, "record", json_string(r->record_key));
	return o;
}

int bs_drill_record_json(const struct bs_drill_report *r, char **out, size_t *len, struct bs_err *err)
{
	json_t *o = bs_drill_json(r, 0);

	*out = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	if (!*out)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory writing the drill record");
	*len = strlen(*out);
	return 0;
}

int bs_drill_record_put(struct bs_repo *repo, struct bs_drill_report *r, struct bs_err *err)
{
	char *buf = NULL;
	size_t len;
	int rc;

	if (!bs_catalog_valid_id(r->snapshot) || !bs_catalog_valid_id(r->id))
		return bs_err_set(err, BS_ERR_INTERNAL, "drill record with an invalid id '%s/%s'", r->snapshot,
				  r->id);
	if (bs_drill_record_json(r, &buf, &len, err) < 0)
		return -1;
	snprintf(r->record_key, sizeof(r->record_key), "drills/%s/%s.json", r->snapshot, r->id);
	rc = bs_repo_put_bytes(repo, r->record_key, buf, len, err);
	free(buf);
	if (rc < 0)
		return bs_err_prefix(err, "unable to record drill %s", r->id);
	r->recorded = 1;
	return 0;
}

/* ---- reading ------------------------------------------------------------- */

void bs_drill_summary_release(struct bs_drill_summary *s)
{
	if (!s)
		return;
	free(s->database);
	free(s->tool_version);
	free(s->key);
	memset(s, 0, sizeof(*s));
}

static void copy_str(char *dst, size_t n, json_t *v)
{
	const char *s = json_string_value(v);

	snprintf(dst, n, "%s", s ? s : "");
}

int bs_drill_summary_parse(struct bs_drill_summary *s, const char *buf, size_t len, struct bs_err *err)
{
	json_error_t je;
	json_t *o = json_loadb(buf, len, 0, &je), *v;
	const char *fmt;

	memset(s, 0, sizeof(*s));
	s->rto_ms = s->rpo_ms = -1;
	if (!o)
		return bs_err_set(err, BS_ERR_FORMAT, "invalid JSON at line %d: %s", je.line, je.text);
	fmt = json_string_value(json_object_get(o, "format"));
	if (!json_is_object(o) || (fmt && strcmp(fmt, "backstop-drill-record") != 0)) {
		json_decref(o);
		return bs_err_set(err, BS_ERR_FORMAT, "not a drill record");
	}
	copy_str(s->id, sizeof(s->id), json_object_get(o, "id"));
	copy_str(s->snapshot, sizeof(s->snapshot), json_object_get(o, "snapshot"));
	copy_str(s->mode, sizeof(s->mode), json_object_get(o, "mode"));
	copy_str(s->verdict, sizeof(s->verdict), json_object_get(o, "verdict"));
	if (!s->mode[0])
		snprintf(s->mode, sizeof(s->mode), "full");
	if (!s->id[0] || !s->verdict[0] ||
	    bs_time_parse(json_string_value(json_object_get(o, "start")), &s->start) < 0) {
		json_decref(o);
		return bs_err_set(err, BS_ERR_FORMAT, "drill record lacks 'id', 'verdict' or 'start'");
	}
	if ((v = json_object_get(o, "database")) && json_is_string(v))
		s->database = strdup(json_string_value(v));
	if ((v = json_object_get(o, "tool_version")) && json_is_string(v))
		s->tool_version = strdup(json_string_value(v));
	if ((v = json_object_get(o, "rto_ms")) && json_is_integer(v))
		s->rto_ms = (int64_t)json_integer_value(v);
	if ((v = json_object_get(o, "rpo_ms")) && json_is_integer(v))
		s->rpo_ms = (int64_t)json_integer_value(v);
	if ((v = json_object_get(o, "findings_total")) && json_is_integer(v))
		s->findings = (uint64_t)json_integer_value(v);
	else if ((v = json_object_get(o, "findings")) && json_is_array(v))
		s->findings = json_array_size(v);
	json_decref(o);
	return 0;
}

void bs_drill_list_init(struct bs_drill_list *l)
{
	memset(l, 0, sizeof(*l));
}

void bs_drill_list_release(struct bs_drill_list *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->n; i++)
		bs_drill_summary_release(&l->d[i]);
	free(l->d);
	bs_drill_list_init(l);
}

struct list_ctx {
	struct bs_repo *repo;
	struct bs_drill_list *l;
};

static int list_one(void *ud, const struct bs_repo_entry *e, struct bs_err *err)
{
	struct list_ctx *lc = ud;
	struct bs_drill_list *l = lc->l;
	struct bs_drill_summary s;
	struct bs_err perr;
	char *buf = NULL;
	size_t len, n = strlen(e->key);

	if (n < 5 || strcmp(e->key + n - 5, ".json") != 0)
		return 0;
	if (l->n >= DRILL_LIST_MAX)
		return bs_err_set(err, BS_ERR_FORMAT, "more than %d drill records", DRILL_LIST_MAX);
	if (e->is_link) { /* listed so that it is not skipped silently; never followed */
		bs_warn("skipping drill record '%s': it is a symbolic link", e->key);
		l->damaged++;
		return 0;
	}
	if (bs_repo_get_bytes(lc->repo, e->key, RECORD_MAX, &buf, &len, err) < 0)
		return -1;
	bs_err_init(&perr);
	if (bs_drill_summary_parse(&s, buf, len, &perr) < 0) {
		bs_warn("skipping drill record '%s': %s", e->key, perr.msg);
		l->damaged++;
		free(buf);
		return 0;
	}
	free(buf);
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		struct bs_drill_summary *nd = realloc(l->d, cap * sizeof(*nd));
		if (!nd) {
			bs_drill_summary_release(&s);
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		}
		l->d = nd;
		l->cap = cap;
	}
	s.key = strdup(e->key);
	l->d[l->n++] = s;
	return 0;
}

static int cmp_summary(const void *a, const void *b)
{
	const struct bs_drill_summary *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return strcmp(x->id, y->id);
}

int bs_drill_list_load(struct bs_repo *repo, const char *snapshot, struct bs_drill_list *l, struct bs_err *err)
{
	struct list_ctx lc = { repo, l };
	char prefix[128];

	bs_drill_list_init(l);
	if (snapshot && !bs_catalog_valid_id(snapshot))
		return bs_err_set(err, BS_ERR_USAGE, "'%s' is not a snapshot id", snapshot);
	snprintf(prefix, sizeof(prefix), "drills/%s%s", snapshot ? snapshot : "", snapshot ? "/" : "");
	if (bs_repo_list(repo, prefix, list_one, &lc, err) < 0) {
		bs_drill_list_release(l);
		return -1;
	}
	if (l->n)
		qsort(l->d, l->n, sizeof(*l->d), cmp_summary);
	return 0;
}

static int drill_of(const struct bs_drill_summary *d, const char *db, const struct bs_catalog *cat)
{
	if (d->database)
		return strcmp(d->database, db) == 0;
	for (size_t i = 0; i < cat->n; i++)
		if (strcmp(cat->recs[i].id, d->snapshot) == 0)
			return strcmp(cat->recs[i].database, db) == 0;
	return 0;
}

const struct bs_drill_summary *bs_drill_newest_pass(const struct bs_drill_list *l, const char *db,
						    const struct bs_catalog *cat, int full_only)
{
	const struct bs_drill_summary *best = NULL;

	for (size_t i = 0; i < l->n; i++) { /* sorted by start: the last passing one wins */
		const struct bs_drill_summary *d = &l->d[i];

		if (strcmp(d->verdict, "pass") == 0 && (!full_only || strcmp(d->mode, "full") == 0) &&
		    drill_of(d, db, cat))
			best = d;
	}
	return best;
}
