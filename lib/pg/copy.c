/* copy.c - see copy.h */
#include "pg/copy.h"

#include <string.h>

#include "pg/conn.h"

static void cancel_query(PGconn *c)
{
	PGcancel *cn = PQgetCancel(c);
	char buf[256];
	PGresult *r;

	if (cn) {
		PQcancel(cn, buf, sizeof(buf));
		PQfreeCancel(cn);
	}
	/* drain the rest of the COPY and its result */
	for (;;) {
		char *row = NULL;
		int n = PQgetCopyData(c, &row, 0);
		if (row)
			PQfreemem(row);
		if (n < 0)
			break;
	}
	while ((r = PQgetResult(c)) != NULL)
		PQclear(r);
}

int bs_pg_copy_out(PGconn *c, const char *copy_sql, bs_pg_row_fn fn, void *ud, uint64_t *rows,
		   struct bs_err *err)
{
	PGresult *r;
	uint64_t n = 0;
	int rc = 0;

	r = PQexec(c, copy_sql);
	if (!r || PQresultStatus(r) != PGRES_COPY_OUT) {
		bs_pg_error(err, BS_ERR_PG, c, r, "COPY failed");
		PQclear(r);
		return -1;
	}
	PQclear(r);
	for (;;) {
		char *row = NULL;
		int len = PQgetCopyData(c, &row, 0);
		if (len == -1)
			break;
		if (len == -2) {
			bs_pg_error(err, BS_ERR_PG, c, NULL, "COPY failed");
			rc = -1;
			break;
		}
		n++;
		if (fn(ud, row, (size_t)len, err) < 0) {
			PQfreemem(row);
			cancel_query(c);
			return -1;
		}
		PQfreemem(row);
	}
	while ((r = PQgetResult(c)) != NULL) {
		if (rc == 0 && PQresultStatus(r) != PGRES_COMMAND_OK) {
			bs_pg_error(err, BS_ERR_PG, c, r, "COPY failed");
			rc = -1;
		}
		PQclear(r);
	}
	if (rows)
		*rows = n;
	return rc;
}

int bs_pg_copy_in_begin(PGconn *c, const char *copy_sql, struct bs_err *err)
{
	PGresult *r = PQexec(c, copy_sql);

	if (!r || PQresultStatus(r) != PGRES_COPY_IN) {
		bs_pg_error(err, BS_ERR_PG, c, r, "COPY failed");
		PQclear(r);
		return -1;
	}
	PQclear(r);
	return 0;
}

int bs_pg_copy_in_send(PGconn *c, const void *buf, size_t len, struct bs_err *err)
{
	const char *p = buf;

	while (len > 0) {
		int n = len > (1 << 30) ? (1 << 30) : (int)len;
		if (PQputCopyData(c, p, n) != 1)
			return bs_pg_error(err, BS_ERR_PG, c, NULL, "COPY failed");
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int bs_pg_copy_in_end(PGconn *c, const char *abort_msg, struct bs_err *err)
{
	PGresult *r;
	int rc = 0;

	if (PQputCopyEnd(c, abort_msg) != 1)
		return bs_pg_error(err, BS_ERR_PG, c, NULL, "COPY failed");
	while ((r = PQgetResult(c)) != NULL) {
		if (rc == 0 && !abort_msg && PQresultStatus(r) != PGRES_COMMAND_OK) {
			bs_pg_error(err, BS_ERR_PG, c, r, "COPY failed");
			rc = -1;
		}
		PQclear(r);
	}
	return rc;
}
