/*
 * smoke.c - the drill policy's smoke queries, run in the scratch database
 * (drill.h).  Each runs in a READ ONLY transaction with the policy's
 * statement_timeout and is rolled back; the session keeps libpq's defaults
 * (search_path "$user", public) so queries read as the application's would.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "drill/drill.h"
#include "pg/conn.h"

static char *dupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *dupf(const char *fmt, ...)
{
	char buf[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return strdup(buf);
}

/* Judge one result: 1 ok, 0 not; *detail says what it returned. */
static int judge(const struct bs_drill_smoke *s, PGresult *res, char **detail)
{
	int n = PQntuples(res);

	if (s->expect != BS_DRILL_UNSET) {
		const char *v;
		int b;
		if (PQresultStatus(res) != PGRES_TUPLES_OK || n != 1 || PQnfields(res) != 1) {
			*detail = dupf("returned %d rows of %d columns, expected one boolean", n, PQnfields(res));
			return 0;
		}
		v = PQgetisnull(res, 0, 0) ? NULL : PQgetvalue(res, 0, 0);
		if (!v) {
			*detail = dupf("returned NULL, expected %s", s->expect ? "true" : "false");
			return 0;
		}
		if (strcmp(v, "t") == 0 || strcmp(v, "true") == 0)
			b = 1;
		else if (strcmp(v, "f") == 0 || strcmp(v, "false") == 0)
			b = 0;
		else {
			*detail = dupf("returned '%.100s', expected a boolean", v);
			return 0;
		}
		*detail = dupf("returned %s%s", b ? "true" : "false",
			       b == s->expect ? "" : s->expect ? ", expected true" : ", expected false");
		return b == s->expect;
	}
	if (s->min_rows != BS_DRILL_UNSET && n < s->min_rows) {
		*detail = dupf("returned %d rows, expected at least %d", n, s->min_rows);
		return 0;
	}
	if (s->max_rows != BS_DRILL_UNSET && n > s->max_rows) {
		*detail = dupf("returned %d rows, expected at most %d", n, s->max_rows);
		return 0;
	}
	*detail = dupf("returned %d rows", n);
	return 1;
}

int bs_drill_smoke(const char *conninfo, const struct bs_drill_policy *p, struct bs_drill_report *r,
		   struct bs_err *err)
{
	PGconn *c = NULL;
	size_t i;
	char sql[96];

	if (!p || p->nsmoke == 0)
		return 0;
	r->smoke = calloc(p->nsmoke, sizeof(*r->smoke));
	if (!r->smoke)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	if (bs_pg_connect(conninfo, NULL, &c, err) < 0)
		return -1;
	for (i = 0; i < p->nsmoke; i++) {
		const struct bs_drill_smoke *s = &p->smoke[i];
		struct bs_drill_smoke_result *sr = &r->smoke[i];
		struct bs_err e;
		PGresult *res;
		double t0 = bs_now();

		sr->name = strdup(s->name);
		r->nsmoke++;
		if (!sr->name)
			goto nomem;
		bs_err_init(&e);
		snprintf(sql, sizeof(sql), "BEGIN READ ONLY; SET LOCAL statement_timeout = %" PRId64,
			 p->smoke_timeout_ms);
		if (bs_pg_exec(c, sql, &e) < 0) {
			PQfinish(c);
			*err = e;
			return -1;
		}
		res = PQexec(c, s->sql);
		if (!res || (PQresultStatus(res) != PGRES_TUPLES_OK && PQresultStatus(res) != PGRES_COMMAND_OK)) {
			const char *em = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
			sr->detail = dupf("error: %s", em ? em : PQerrorMessage(c));
			sr->ok = 0;
		} else {
			sr->ok = judge(s, res, &sr->detail);
		}
		PQclear(res);
		sr->seconds = bs_now() - t0;
		if (PQstatus(c) != CONNECTION_OK) {
			bs_pg_error(err, BS_ERR_PG, c, NULL, "lost the connection to the scratch database");
			PQfinish(c);
			return -1;
		}
		bs_err_init(&e);
		bs_pg_exec(c, "ROLLBACK", &e);
		if (!sr->detail)
			goto nomem;
		if (!sr->ok && bs_drill_report_add(r, BS_DRILL_AREA_SMOKE, s->name, "%s", sr->detail) < 0)
			goto nomem;
		bs_debug("smoke query '%s': %s (%s)", s->name, sr->ok ? "ok" : "failed", sr->detail);
	}
	PQfinish(c);
	return 0;
nomem:
	PQfinish(c);
	return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
}
