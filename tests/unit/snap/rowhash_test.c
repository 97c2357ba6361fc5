/* rowhash_test.c - the snapshot's fast row hash equals the format's digest,
 * and the COPY statements the snapshot and the verifier share. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "snap/rowhash.h"
#include "snap/snap.h"

TEST(rowhash_equals_digest_add_row)
{
	struct snap_rowhash *h = snap_rowhash_new();
	struct bs_digest a, b;
	char row[300];
	int i;

	CHECK(h != NULL);
	bs_digest_init(&a);
	bs_digest_init(&b);
	for (i = 0; i < 5000; i++) {
		size_t n = (size_t)snprintf(row, sizeof(row), "%d\tname %d\t%*s", i, i * 7, i % 200, "x");
		bs_digest_add_row(&a, row, n);
		snap_rowhash_add(h, &b, row, n);
	}
	bs_digest_add_row(&a, "", 0);
	snap_rowhash_add(h, &b, "", 0);
	CHECK(bs_digest_equal(&a, &b));
	CHECK_INT(a.rows, b.rows);
	snap_rowhash_free(h);
	snap_rowhash_free(NULL);
}

static struct bs_mtable *table(struct bs_manifest *m, const char *schema, const char *name,
			       const char *const *cols, size_t n)
{
	bs_manifest_init(m);
	return bs_manifest_add_table(m, 1, schema, name, cols, n);
}

TEST(copy_sql_whole_table)
{
	const char *cols[] = { "id", "we\"ird col", "Ünï" };
	struct bs_manifest m;
	struct bs_mtable *t = table(&m, "my \"schema\"", "T", cols, 3);
	char *sql = bs_snap_copy_sql(t, NULL);

	CHECK_STR(sql, "COPY \"my \"\"schema\"\"\".\"T\" (\"id\", \"we\"\"ird col\", \"Ünï\") TO STDOUT");
	free(sql);
	bs_manifest_release(&m);
}

TEST(copy_sql_range)
{
	const char *cols[] = { "a", "b" };
	struct bs_manifest m;
	struct bs_mtable *t = table(&m, "public", "t", cols, 2);
	char *sql = bs_snap_copy_sql(t, "ctid >= '(10,0)'::pg_catalog.tid");

	CHECK_STR(sql, "COPY (SELECT \"a\", \"b\" FROM ONLY \"public\".\"t\" WHERE ctid >= '(10,0)'::pg_catalog.tid) TO STDOUT");
	free(sql);
	bs_manifest_release(&m);
}

TEST(copy_sql_no_columns)
{
	struct bs_manifest m;
	struct bs_mtable *t = table(&m, "public", "nocols", NULL, 0);
	char *sql = bs_snap_copy_sql(t, NULL);

	CHECK_STR(sql, "COPY \"public\".\"nocols\" TO STDOUT");
	free(sql);
	sql = bs_snap_copy_sql(t, "true");
	CHECK_STR(sql, "COPY (SELECT  FROM ONLY \"public\".\"nocols\" WHERE true) TO STDOUT");
	free(sql);
	bs_manifest_release(&m);
}

int main(void)
{
	RUN(rowhash_equals_digest_add_row);
	RUN(copy_sql_whole_table);
	RUN(copy_sql_range);
	RUN(copy_sql_no_columns);
	return DONE();
}
