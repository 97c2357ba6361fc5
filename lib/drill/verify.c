/*
 * verify.c - compare a restored database with the snapshot's manifest
 * (drill.h).
 *
 * `jobs` worker threads, each on its own connection, COPY the tables out,
 * largest first, with the very statement snap used (bs_snap_copy_sql) and
 * the same session settings, and recompute rows and row digest.  Meanwhile
 * the calling thread, on one more connection, reads the sequences, the
 * large objects (lo_read, digested as docs/format.md says) and the schema
 * inventory (bs_inventory_collect_version, the version snap recorded;
 * with version 1 also the indexes left invalid).  Differences become findings; only a database that cannot be
 * read at all fails the call.
 */
#include <inttypes.h>
#include <libpq/libpq-fs.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "drill/drill.h"
#include "drill/drill_int.h"
#include "pg/conn.h"
#include "pg/copy.h"
#include "snap/inventory.h"
#include "snap/snap.h"

#define LO_BUF (256 * 1024)


/* One piece of work: a whole table, or a page range of a large one (TID
 * range scans, PostgreSQL 14+), so that one big table does not leave the
 * other connections idle.  The digest is a sum, so pieces add up. */
struct vitem {
	size_t t;             /* index into the manifest's tables */
	int ranged;
	uint64_t from, to;    /* pages; to == 0: to the end */
	uint64_t est;         /* bytes, for the order */
};

struct tacc {
	struct bs_digest d;
	uint32_t left;        /* pieces not done */
	char *error;          /* COPY failed with the connection still up */
};

struct vctx {
	const struct bs_drill_verify_opts *o;
	struct bs_drill_report *r;
	struct tacc *ta;
	struct vitem *items;
	size_t nitems, next;
	pthread_mutex_t mu;
	int fatal;
	struct bs_err fatal_err;
};

struct rowacc {
	struct bs_digest d;
	uint64_t bytes;
};

static int on_row(void *ud, const char *row, size_t len, struct bs_err *err)
{
	struct rowacc *a = ud;

	bs_digest_add_row(&a->d, row, len && row[len - 1] == '\n' ? len - 1 : len);
	a->bytes += len;
	return 0;
}

struct worker_arg {
	struct vctx *v;
	PGconn *c;
};

static void set_fatal(struct vctx *v, const struct bs_err *e, const char *prefix)
{
	pthread_mutex_lock(&v->mu);
	if (!v->fatal) {
		v->fatal = 1;
		v->fatal_err = *e;
		if (prefix)
			bs_err_prefix(&v->fatal_err, "%s", prefix);
	}
	pthread_mutex_unlock(&v->mu);
}

static void *table_worker(void *arg)
{
	struct worker_arg *wa = arg;
	struct vctx *v = wa->v;
	const struct bs_manifest *m = v->o->m;

	for (;;) {
		struct vitem it;
		struct rowacc acc;
		struct bs_err e;
		char where[96], *sql;
		double t0;
		int rc;

		pthread_mutex_lock(&v->mu);
		if (v->fatal || v->next >= v->nitems) {
			pthread_mutex_unlock(&v->mu);
			break;
		}
		it = v->items[v->next++];
		pthread_mutex_unlock(&v->mu);

		bs_err_init(&e);
		bs_digest_init(&acc.d);
		acc.bytes = 0;
		if (it.ranged) {
			if (it.to)
				snprintf(where, sizeof(where), "ctid >= '(%llu,0)' AND ctid < '(%llu,0)'",
					 (unsigned long long)it.from, (unsigned long long)it.to);
			else
				snprintf(where, sizeof(where), "ctid >= '(%llu,0)'", (unsigned long long)it.from);
		}
		t0 = bs_now();
		sql = bs_snap_copy_sql(&m->tables[it.t], it.ranged ? where : NULL);
		if (!sql) {
			bs_err_set(&e, BS_ERR_NOMEM, "out of memory");
			set_fatal(v, &e, NULL);
			break;
		}
		rc = bs_pg_copy_out(wa->c, sql, on_row, &acc, NULL, &e);
		free(sql);
		if (rc < 0 && PQstatus(wa->c) != CONNECTION_OK) {
			set_fatal(v, &e, "lost the connection to the scratch database");
			break;
		}
		pthread_mutex_lock(&v->mu);
		{
			struct tacc *ta = &v->ta[it.t];
			struct bs_drill_table *rt = &v->r->tables[it.t];
			rt->seconds += bs_now() - t0;
			if (rc < 0) {
				if (!ta->error)
					ta->error = strdup(e.msg[0] ? e.msg : "COPY failed");
			} else {
				bs_digest_merge(&ta->d, &acc.d);
			}
			if (--ta->left == 0 && !ta->error) {
				rt->actual = ta->d;
				rt->rows_actual = ta->d.rows;
				rt->checked = 1;
				rt->ok = rt->rows_actual == rt->rows_expected &&
					 bs_digest_equal(&rt->actual, &rt->expected);
			}
		}
		pthread_mutex_unlock(&v->mu);
		if (v->o->progress) {
			atomic_fetch_add(&v->o->progress->rows, acc.d.rows);
			atomic_fetch_add(&v->o->progress->raw_bytes, acc.bytes);
		}
	}
	return NULL;
}

/* ---- planning: sizes of the restored tables -> work items ---------------- */

struct relsize {
	const char *schema, *name;
	uint64_t bytes;  /* heap */
	uint64_t work;   /* heap and TOAST */
};

static int cmp_relsize(const void *a, const void *b)
{
	const struct relsize *x = a, *y = b;
	int c = strcmp(x->schema, y->schema);

	return c ? c : strcmp(x->name, y->name);
}

static int cmp_item(const void *a, const void *b)
{
	const struct vitem *x = a, *y = b;

	if (x->est != y->est)
		return x->est > y->est ? -1 : 1;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->from < y->from ? -1 : x->from > y->from;
}

/* parts per manifest table into v->ta[i].left: 1 unless bs_snap_plan_cut
 * cuts it (a table missing from the restored database is never cut). */
static int plan_cut(struct vctx *v, const struct relsize *rs, size_t rows, int jobs, int server_version_num,
		    struct bs_err *err)
{
	const struct bs_manifest *m = v->o->m;
	uint64_t *heap = calloc(m->ntables + 1, sizeof(*heap)), *work = calloc(m->ntables + 1, sizeof(*work));
	uint32_t *parts = calloc(m->ntables + 1, sizeof(*parts));
	size_t i;

	if (!heap || !work || !parts) {
		free(heap);
		free(work);
		free(parts);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	for (i = 0; i < m->ntables; i++) {
		struct relsize key = { m->tables[i].schema, m->tables[i].name, 0, 0 };
		const struct relsize *hit = rows ? bsearch(&key, rs, rows, sizeof(*rs), cmp_relsize) : NULL;
		heap[i] = hit ? hit->bytes : 0;
		work[i] = hit ? (hit->work > hit->bytes ? hit->work : hit->bytes) : m->tables[i].raw_bytes;
	}
	bs_snap_plan_cut(heap, work, NULL, m->ntables, jobs, 0, server_version_num, parts, NULL);
	for (i = 0; i < m->ntables; i++)
		v->ta[i].left = parts[i];
	free(heap);
	free(work);
	free(parts);
	return 0;
}

/* Largest first; a table is cut into page ranges only where snap's planner
 * would cut it (bs_snap_plan_cut: when it would leave jobs idle), on the
 * restored tables' own sizes. */
static int plan_items(struct vctx *v, PGconn *c, int jobs, struct bs_err *err)
{
	const struct bs_manifest *m = v->o->m;
	struct relsize *rs = NULL;
	PGresult *res;
	uint64_t block = 8192;
	size_t i, n = 0, cap = 0;
	int rows;

	res = bs_pg_query(c,
			  "SELECT n.nspname, c.relname, pg_catalog.pg_relation_size(c.oid),"
			  " pg_catalog.current_setting('block_size')::int8, pg_catalog.pg_table_size(c.oid)"
			  " FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
			  " WHERE c.relkind IN ('r', 'm')",
			  0, NULL, err);
	if (!res)
		return -1;
	rows = PQntuples(res);
	rs = calloc(rows ? (size_t)rows : 1, sizeof(*rs));
	if (!rs) {
		PQclear(res);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	for (i = 0; i < (size_t)rows; i++) {
		rs[i].schema = PQgetvalue(res, (int)i, 0);
		rs[i].name = PQgetvalue(res, (int)i, 1);
		rs[i].bytes = strtoull(PQgetvalue(res, (int)i, 2), NULL, 10);
		block = strtoull(PQgetvalue(res, (int)i, 3), NULL, 10);
		rs[i].work = strtoull(PQgetvalue(res, (int)i, 4), NULL, 10);
	}
	if (rows)
		qsort(rs, (size_t)rows, sizeof(*rs), cmp_relsize);
	if (block == 0)
		block = 8192;
	if (plan_cut(v, rs, (size_t)rows, jobs, PQserverVersion(c), err) < 0) {
		free(rs);
		PQclear(res);
		return -1;
	}
	for (i = 0; i < m->ntables; i++) {
		struct relsize key = { m->tables[i].schema, m->tables[i].name, 0, 0 }, *hit;
		uint64_t size, parts, pages, step, p;

		hit = rows ? bsearch(&key, rs, (size_t)rows, sizeof(*rs), cmp_relsize) : NULL;
		size = hit ? hit->bytes : m->tables[i].raw_bytes;
		parts = v->ta[i].left;
		if (n + parts > cap) {
			size_t ncap = (n + parts) * 2;
			struct vitem *ni = realloc(v->items, ncap * sizeof(*ni));
			if (!ni) {
				free(rs);
				PQclear(res);
				return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
			}
			v->items = ni;
			cap = ncap;
		}
		v->ta[i].left = (uint32_t)parts;
		pages = size / block;
		step = parts > 1 ? (pages + parts - 1) / parts : 0;
		for (p = 0; p < parts; p++) {
			struct vitem *it = &v->items[n++];
			it->t = i;
			it->ranged = parts > 1;
			it->from = p * step;
			/* the last range is open: the table may have grown since */
			it->to = p + 1 < parts ? (p + 1) * step : 0;
			it->est = size / parts;
		}
	}
	v->nitems = n;
	if (n > 1)
		qsort(v->items, n, sizeof(*v->items), cmp_item);
	bs_debug("verifying %zu tables in %zu pieces on %d connections", m->ntables, n, jobs);
	free(rs);
	PQclear(res);
	return 0;
}

/* ---- per-table findings ------------------------------------------------- */

static int table_findings(struct vctx *v)
{
	struct bs_drill_report *r = v->r;
	char q[512], he[BS_DIGEST_HEX_LEN + 1], ha[BS_DIGEST_HEX_LEN + 1];
	size_t i;
	int rc = 0;

	for (i = 0; i < r->ntables && rc == 0; i++) {
		struct bs_drill_table *t = &r->tables[i];

		bs_drill_qname(q, sizeof(q), t->schema, t->name);
		if (v->ta[i].error) {
			rc = bs_drill_report_add(r, BS_DRILL_AREA_TABLE, q, "cannot be read in the restored database: %s",
						 v->ta[i].error);
			continue;
		}
		if (!t->checked || t->ok)
			continue;
		bs_digest_hex(&t->expected, he);
		bs_digest_hex(&t->actual, ha);
		if (t->rows_actual < t->rows_expected)
			rc = bs_drill_report_add(r, BS_DRILL_AREA_TABLE, q,
						 "%" PRIu64 " rows, the snapshot has %" PRIu64 " (%" PRIu64 " missing)%s",
						 t->rows_actual, t->rows_expected, t->rows_expected - t->rows_actual,
						 bs_digest_equal(&t->actual, &t->expected) ? "" : "; row digest differs");
		else if (t->rows_actual > t->rows_expected)
			rc = bs_drill_report_add(r, BS_DRILL_AREA_TABLE, q,
						 "%" PRIu64 " rows, the snapshot has %" PRIu64 " (%" PRIu64 " extra)%s",
						 t->rows_actual, t->rows_expected, t->rows_actual - t->rows_expected,
						 bs_digest_equal(&t->actual, &t->expected) ? "" : "; row digest differs");
		else
			rc = bs_drill_report_add(r, BS_DRILL_AREA_TABLE, q,
						 "row contents differ from the snapshot: same row count (%" PRIu64
						 "), row digest %s, the snapshot's %s",
						 t->rows_actual, ha, he);
	}
	return rc;
}

/* ---- sequences -------------------------------------------------------------- */

static int check_sequences(PGconn *c, const struct bs_manifest *m, struct bs_drill_report *r, struct bs_err *err)
{
	size_t i;

	for (i = 0; i < m->nseqs; i++) {
		const struct bs_mseq *s = &m->seqs[i];
		char q[512], *qs = bs_pg_qualify(s->schema, s->name), *sql;
		PGresult *res;
		struct bs_err e;
		int64_t lv;
		int called, rc = 0;

		if (!qs)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		bs_drill_qname(q, sizeof(q), s->schema, s->name);
		sql = malloc(strlen(qs) + 64);
		if (!sql) {
			free(qs);
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		}
		sprintf(sql, "SELECT last_value, is_called FROM %s", qs);
		free(qs);
		bs_err_init(&e);
		res = bs_pg_query(c, sql, 0, NULL, &e);
		free(sql);
		if (!res) {
			if (PQstatus(c) != CONNECTION_OK) {
				*err = e;
				return -1;
			}
			if (bs_drill_report_add(r, BS_DRILL_AREA_SEQUENCE, q, "cannot be read in the restored database: %s",
						e.msg) < 0)
				return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
			continue;
		}
		r->sequences++;
		lv = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		called = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
		PQclear(res);
		if (lv != s->last_value || called != s->is_called)
			rc = bs_drill_report_add(r, BS_DRILL_AREA_SEQUENCE, q,
						 "last_value %" PRId64 " (is_called %s), the snapshot has %" PRId64
						 " (is_called %s)",
						 lv, called ? "true" : "false", s->last_value,
						 s->is_called ? "true" : "false");
		if (rc < 0)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	return 0;
}

/* ---- large objects ----------------------------------------------------------- */

struct lo_have {
	uint32_t oid;
	uint64_t bytes;
};

static int cmp_mblob(const void *a, const void *b)
{
	const struct bs_mblob *x = a, *y = b;

	return x->oid < y->oid ? -1 : x->oid > y->oid;
}

static int read_blob(PGconn *c, uint32_t oid, char *buf, struct bs_digest *total, uint64_t *bytes,
		     struct bs_err *err)
{
	struct bs_digest_obj *d;
	char label[16];
	int fd, n;

	*bytes = 0;
	fd = lo_open(c, (Oid)oid, INV_READ);
	if (fd < 0)
		return bs_pg_error(err, BS_ERR_PG, c, NULL, "unable to open large object");
	snprintf(label, sizeof(label), "%u", oid);
	d = bs_digest_obj_begin(label);
	if (!d) {
		lo_close(c, fd);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	while ((n = lo_read(c, fd, buf, LO_BUF)) > 0) {
		bs_digest_obj_update(d, buf, (size_t)n);
		*bytes += (uint64_t)n;
	}
	if (n < 0) {
		bs_digest_obj_free(d);
		lo_close(c, fd);
		return bs_pg_error(err, BS_ERR_PG, c, NULL, "unable to read large object");
	}
	bs_digest_obj_end(total, d);
	lo_close(c, fd);
	return 0;
}

static int check_blobs(PGconn *c, const struct bs_manifest *m, struct bs_drill_report *r, struct bs_err *err)
{
	struct bs_digest total;
	struct bs_mblob *mb = NULL;
	struct lo_have *have = NULL;
	char obj[32], he[BS_DIGEST_HEX_LEN + 1], ha[BS_DIGEST_HEX_LEN + 1], *buf = NULL;
	PGresult *res = NULL;
	size_t n = 0, i = 0, j = 0;
	int rc = -1, in_tx = 0;

	bs_digest_init(&total);
	res = bs_pg_query(c, "SELECT oid FROM pg_catalog.pg_largeobject_metadata ORDER BY oid", 0, NULL, err);
	if (!res)
		return -1;
	n = (size_t)PQntuples(res);
	if (n == 0 && m->nblobs == 0) {
		PQclear(res);
		return 0;
	}
	have = calloc(n ? n : 1, sizeof(*have));
	buf = malloc(LO_BUF);
	if (m->nblobs)
		mb = malloc(m->nblobs * sizeof(*mb));
	if (!have || !buf || (m->nblobs && !mb)) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++)
		have[i].oid = (uint32_t)strtoul(PQgetvalue(res, (int)i, 0), NULL, 10);
	PQclear(res);
	res = NULL;
	if (bs_pg_exec(c, "BEGIN READ ONLY", err) < 0)
		goto out;
	in_tx = 1;
	for (i = 0; i < n; i++) {
		struct bs_err e;
		bs_err_init(&e);
		if (read_blob(c, have[i].oid, buf, &total, &have[i].bytes, &e) < 0) {
			if (e.code == BS_ERR_NOMEM || PQstatus(c) != CONNECTION_OK) {
				*err = e;
				goto out;
			}
			snprintf(obj, sizeof(obj), "%u", have[i].oid);
			if (bs_drill_report_add(r, BS_DRILL_AREA_BLOB, obj, "cannot be read: %s", e.msg) < 0)
				goto nomem;
			/* the transaction is aborted now: start over for the rest */
			bs_pg_exec(c, "ROLLBACK", &e);
			if (bs_pg_exec(c, "BEGIN READ ONLY", err) < 0)
				goto out;
		}
	}
	bs_pg_exec(c, "COMMIT", err);
	in_tx = 0;
	r->blobs = n;
	if (m->nblobs) {
		memcpy(mb, m->blobs, m->nblobs * sizeof(*mb));
		qsort(mb, m->nblobs, sizeof(*mb), cmp_mblob);
	}
	for (i = 0, j = 0; i < m->nblobs || j < n;) {
		int x = 0;
		if (j == n || (i < m->nblobs && mb[i].oid < have[j].oid)) {
			snprintf(obj, sizeof(obj), "%u", mb[i].oid);
			x = bs_drill_report_add(r, BS_DRILL_AREA_BLOB, obj, "missing in the restored database (%" PRIu64 " bytes)",
						mb[i].bytes);
			i++;
		} else if (i == m->nblobs || have[j].oid < mb[i].oid) {
			snprintf(obj, sizeof(obj), "%u", have[j].oid);
			x = bs_drill_report_add(r, BS_DRILL_AREA_BLOB, obj, "in the restored database but not in the snapshot");
			j++;
		} else {
			snprintf(obj, sizeof(obj), "%u", mb[i].oid);
			if (have[j].bytes != mb[i].bytes)
				x = bs_drill_report_add(r, BS_DRILL_AREA_BLOB, obj, "%" PRIu64 " bytes, the snapshot has %" PRIu64,
							have[j].bytes, mb[i].bytes);
			i++;
			j++;
		}
		if (x < 0)
			goto nomem;
	}
	if (!bs_digest_equal(&total, &m->blob_digest)) {
		bs_digest_hex(&total, ha);
		bs_digest_hex(&m->blob_digest, he);
		if (bs_drill_report_add(r, BS_DRILL_AREA_BLOB, NULL,
					"contents differ from the snapshot: digest of all large objects %s, the "
					"snapshot's %s",
					ha, he) < 0)
			goto nomem;
	}
	rc = 0;
	goto out;
nomem:
	bs_err_set(err, BS_ERR_NOMEM, "out of memory");
out:
	if (in_tx) {
		struct bs_err e;
		bs_err_init(&e);
		bs_pg_exec(c, "ROLLBACK", &e);
	}
	PQclear(res);
	free(have);
	free(buf);
	free(mb);
	return rc;
}

/* ---- schema inventory ------------------------------------------------------- */

/* Inventory version 2 lists an index whose build failed as kind "invalid
 * index": compared as an index, with its validity apart. */
#define INVALID_INDEX "invalid index"

static const char *inv_kind(const struct bs_minv *x, int *invalid)
{
	int inv = strcmp(x->kind, INVALID_INDEX) == 0;

	if (invalid)
		*invalid = inv;
	return inv ? "index" : x->kind;
}

static int cmp_inv(const void *a, const void *b)
{
	const struct bs_minv *x = *(const struct bs_minv *const *)a, *y = *(const struct bs_minv *const *)b;
	int c = strcmp(inv_kind(x, NULL), inv_kind(y, NULL));

	return c ? c : strcmp(x->name, y->name);
}

static const struct bs_minv **sorted_inv(const struct bs_manifest *m)
{
	const struct bs_minv **v = calloc(m->ninv ? m->ninv : 1, sizeof(*v));
	size_t i;

	if (!v)
		return NULL;
	for (i = 0; i < m->ninv; i++)
		v[i] = &m->inv[i];
	if (m->ninv)
		qsort(v, m->ninv, sizeof(*v), cmp_inv);
	return v;
}

/* The finding for one object of the snapshot (a, NULL if absent) and of
 * the restored database (b, NULL if absent); NULL when they agree.  An
 * index invalid in the source is never a finding: pg_dump leaves it out,
 * so the restore has none (or, partitioned, an invalid one too). */
static const char *inv_diff(const struct bs_minv *a, const struct bs_minv *b)
{
	int ainv = 0, binv = 0;

	if (a)
		inv_kind(a, &ainv);
	if (b)
		inv_kind(b, &binv);
	if (a && ainv)
		return NULL;
	if (!b)
		return "missing in the restored database";
	if (!a)
		return binv ? "in the restored database (invalid: its build failed) but not in the snapshot"
			    : "in the restored database but not in the snapshot";
	if (binv)
		return "is invalid in the restored database (its build failed); valid in the snapshot";
	if (strcmp(a->def, b->def) != 0)
		return "definition differs from the snapshot";
	return NULL;
}

/* Inventory version 1 listed invalid indexes as indexes: check the
 * restored database for them apart, as backstop did then. */
static int check_invalid_indexes_v1(PGconn *c, struct bs_drill_report *r, struct bs_err *err)
{
	PGresult *res;
	char obj[600];
	int i;

	res = bs_pg_query(c,
			  "SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname)"
			  " FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid"
			  " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
			  " WHERE NOT i.indisvalid OR NOT i.indisready ORDER BY 1",
			  0, NULL, err);
	if (!res)
		return -1;
	for (i = 0; i < PQntuples(res); i++) {
		snprintf(obj, sizeof(obj), "index %s", PQgetvalue(res, i, 0));
		if (bs_drill_report_add(r, BS_DRILL_AREA_SCHEMA, obj, "is invalid: its build failed") < 0) {
			PQclear(res);
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		}
	}
	PQclear(res);
	return 0;
}

static int check_inventory(PGconn *c, const struct bs_manifest *m, struct bs_drill_report *r, struct bs_err *err)
{
	struct bs_manifest got;
	const struct bs_minv **a = NULL, **b = NULL;
	char obj[600];
	size_t i = 0, j = 0;
	int version = m->inv_version > 0 ? m->inv_version : 1, rc = -1;

	bs_manifest_init(&got);
	if (version > BS_INVENTORY_VERSION) {
		/* a newer backstop's snapshot: everything else is still checked */
		snprintf(obj, sizeof(obj), "schema inventory version %d, this backstop compares versions 1 to %d",
			 version, BS_INVENTORY_VERSION);
		rc = bs_drill_report_add(r, BS_DRILL_AREA_SCHEMA, "inventory", "%s", obj) < 0
			     ? bs_err_set(err, BS_ERR_NOMEM, "out of memory") : 0;
		goto out;
	}
	if (bs_inventory_collect_version(c, &got, version, err) < 0) {
		bs_err_prefix(err, "reading the schema of the restored database");
		goto out;
	}
	r->schema_objects = got.ninv;
	a = sorted_inv(m);
	b = sorted_inv(&got);
	if (!a || !b) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	while (i < m->ninv || j < got.ninv) {
		int d = i == m->ninv ? 1 : j == got.ninv ? -1 : cmp_inv(&a[i], &b[j]);
		const struct bs_minv *x = d <= 0 ? a[i] : NULL, *y = d >= 0 ? b[j] : NULL;
		const char *what = inv_diff(x, y);

		if (what) {
			const struct bs_minv *o = x ? x : y;
			snprintf(obj, sizeof(obj), "%s %s", inv_kind(o, NULL), o->name);
			if (bs_drill_report_add(r, BS_DRILL_AREA_SCHEMA, obj, "%s", what) < 0) {
				bs_err_set(err, BS_ERR_NOMEM, "out of memory");
				goto out;
			}
		}
		if (d <= 0)
			i++;
		if (d >= 0)
			j++;
	}
	if (version == 1 && check_invalid_indexes_v1(c, r, err) < 0)
		goto out;
	rc = 0;
out:
	free(a);
	free(b);
	bs_manifest_release(&got);
	return rc;
}

/* ---- driver -------------------------------------------------------------- */

static int open_conn(const char *conninfo, PGconn **c, struct bs_err *err)
{
	if (bs_pg_connect(conninfo, NULL, c, err) < 0)
		return -1;
	if (bs_pg_session_setup(*c, err) < 0) {
		PQfinish(*c);
		*c = NULL;
		return -1;
	}
	return 0;
}

int bs_drill_verify(const struct bs_drill_verify_opts *o, struct bs_drill_report *r, struct bs_err *err)
{
	const struct bs_manifest *m = o->m;
	struct vctx v;
	struct worker_arg *wa = NULL;
	pthread_t *th = NULL;
	PGconn *main_c = NULL;
	int jobs = o->jobs < 1 ? 1 : o->jobs, started = 0, i, rc = -1;
	size_t k;

	memset(&v, 0, sizeof(v));
	v.o = o;
	v.r = r;
	bs_err_init(&v.fatal_err);
	pthread_mutex_init(&v.mu, NULL);
	if (bs_drill_report_tables(r, m) < 0)
		goto nomem;
	v.ta = calloc(m->ntables ? m->ntables : 1, sizeof(*v.ta));
	if (!v.ta)
		goto nomem;
	if (o->progress)
		atomic_store(&o->progress->tables_total, m->ntables);

	/* connect everything first: an unreachable database fails fast */
	if (open_conn(o->conninfo, &main_c, err) < 0)
		goto out;
	if (plan_items(&v, main_c, jobs, err) < 0)
		goto out;
	if ((size_t)jobs > v.nitems)
		jobs = v.nitems ? (int)v.nitems : 1;
	wa = calloc((size_t)jobs, sizeof(*wa));
	th = calloc((size_t)jobs, sizeof(*th));
	if (!wa || !th)
		goto nomem;
	for (i = 0; i < jobs && v.nitems; i++) {
		wa[i].v = &v;
		if (open_conn(o->conninfo, &wa[i].c, err) < 0)
			goto out;
	}
	for (i = 0; i < jobs && v.nitems; i++) {
		if (pthread_create(&th[i], NULL, table_worker, &wa[i]) != 0) {
			bs_err_set(err, BS_ERR_INTERNAL, "unable to start a verification thread");
			pthread_mutex_lock(&v.mu);
			v.fatal = 1;
			pthread_mutex_unlock(&v.mu);
			break;
		}
		started++;
	}

	/* meanwhile, on the main connection */
	if (check_sequences(main_c, m, r, err) < 0 || check_blobs(main_c, m, r, err) < 0 ||
	    check_inventory(main_c, m, r, err) < 0) {
		pthread_mutex_lock(&v.mu);
		v.fatal = 1;
		pthread_mutex_unlock(&v.mu);
		for (i = 0; i < started; i++)
			pthread_join(th[i], NULL);
		started = 0;
		goto out;
	}
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	if (started < jobs && v.nitems)
		goto out;
	started = 0;
	if (v.fatal) {
		*err = v.fatal_err;
		goto out;
	}
	for (k = 0; k < r->ntables; k++)
		if (r->tables[k].checked)
			r->rows += r->tables[k].rows_actual;
	if (table_findings(&v) < 0)
		goto nomem;
	rc = 0;
	goto out;
nomem:
	bs_err_set(err, BS_ERR_NOMEM, "out of memory");
out:
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	for (i = 0; wa && i < jobs; i++)
		if (wa[i].c)
			PQfinish(wa[i].c);
	if (main_c)
		PQfinish(main_c);
	for (k = 0; v.ta && k < m->ntables; k++)
		free(v.ta[k].error);
	free(v.ta);
	free(v.items);
	free(wa);
	free(th);
	pthread_mutex_destroy(&v.mu);
	return rc;
}
