/* sequences.c - last_value/is_called of every user sequence (serial and
 * identity ones included), read in the snapshot on the coordinator. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg/conn.h"
#include "snap/snap_int.h"

#define BATCH 200

static const char *seq_list_sql =
	"SELECT n.nspname, c.relname FROM pg_catalog.pg_class c"
	" JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
	" WHERE c.relkind = 'S' AND c.relpersistence <> 't' AND ((" SNAP_USER_REL_FILTER ")"
	"  OR c.oid IN (SELECT pg_catalog.unnest(extconfig) FROM pg_catalog.pg_extension))"
	" ORDER BY n.nspname, c.relname";

/* Read sequences [from, to) of the list in one UNION ALL query. */
static int read_batch(struct snap_ctx *ctx, PGresult *list, int from, int to, struct bs_err *err)
{
	char *sql = NULL, num[32];
	size_t len = 0, cap = 0;
	PGresult *r;
	int i, *pos;

	for (i = from; i < to; i++) {
		char *q = bs_pg_qualify(PQgetvalue(list, i, 0), PQgetvalue(list, i, 1));
		size_t need;
		if (!q)
			goto nomem;
		snprintf(num, sizeof(num), "%d", i - from);
		need = strlen(q) + 96;
		if (len + need > cap) {
			char *ns;
			cap = (len + need) * 2;
			ns = realloc(sql, cap);
			if (!ns) {
				free(q);
				goto nomem;
			}
			sql = ns;
		}
		len += (size_t)sprintf(sql + len, "%sSELECT %s, last_value, is_called FROM %s",
				       i > from ? " UNION ALL " : "", num, q);
		free(q);
	}
	if (!sql)
		return 0;
	r = PQexec(ctx->coord, sql);
	free(sql);
	sql = NULL;
	if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
		/* the server's message names the sequence */
		bs_pg_error(err, BS_ERR_PG, ctx->coord, r, "reading sequences");
		PQclear(r);
		return -1;
	}
	if (PQntuples(r) != to - from) {
		PQclear(r);
		return bs_err_set(err, BS_ERR_PG, "reading sequences: unexpected result");
	}
	/* UNION ALL keeps no order guarantee: place rows by their number */
	pos = malloc(sizeof(*pos) * (size_t)(to - from));
	if (!pos) {
		PQclear(r);
		goto nomem;
	}
	for (i = 0; i < to - from; i++)
		pos[i] = -1;
	for (i = 0; i < to - from; i++) {
		int k = atoi(PQgetvalue(r, i, 0));
		if (k >= 0 && k < to - from)
			pos[k] = i;
	}
	for (i = 0; i < to - from; i++) {
		int k = pos[i];
		if (k < 0) {
			free(pos);
			PQclear(r);
			return bs_err_set(err, BS_ERR_PG, "reading sequences: unexpected result");
		}
		if (bs_manifest_add_seq(&ctx->m, PQgetvalue(list, from + i, 0), PQgetvalue(list, from + i, 1),
					strtoll(PQgetvalue(r, k, 1), NULL, 10), PQgetvalue(r, k, 2)[0] == 't') < 0) {
			free(pos);
			PQclear(r);
			goto nomem;
		}
	}
	free(pos);
	PQclear(r);
	return 0;
nomem:
	free(sql);
	return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
}

int snap_sequences(struct snap_ctx *ctx, struct bs_err *err)
{
	PGresult *list = bs_pg_query(ctx->coord, seq_list_sql, 0, NULL, err);
	int n, i;

	if (!list)
		return bs_err_prefix(err, "listing sequences");
	n = PQntuples(list);
	for (i = 0; i < n; i += BATCH) {
		if (read_batch(ctx, list, i, i + BATCH < n ? i + BATCH : n, err) < 0) {
			PQclear(list);
			return -1;
		}
	}
	PQclear(list);
	return 0;
}
