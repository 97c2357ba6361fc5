/* plan_test.c - snap_plan_items: which tables are copied whole (plain COPY)
 * and which are cut into ctid page ranges, from sizes and the job count. */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "harness.h"
#include "snap/snap_int.h"

#define MIB (1024ull * 1024)
#define GIB (1024 * MIB)

static struct bs_snap_opts opts;
static struct snap_ctx ctx;

/* A context with the given table sizes (bytes), jobs and server version. */
static void setup(const uint64_t *sizes, size_t n, int jobs, int version)
{
	size_t i;

	memset(&opts, 0, sizeof(opts));
	memset(&ctx, 0, sizeof(ctx));
	opts.jobs = jobs;
	ctx.o = &opts;
	ctx.server_version_num = version;
	ctx.block_size = 8192;
	ctx.chunk_size = SNAP_DEFAULT_CHUNK;
	ctx.tables = calloc(n, sizeof(*ctx.tables));
	ctx.ntables = n;
	for (i = 0; i < n; i++) {
		ctx.tables[i].no = (uint32_t)(i + 1);
		ctx.tables[i].size = sizes[i];
	}
}

static int plan(void)
{
	struct bs_err err;

	bs_err_init(&err);
	return snap_plan_items(&ctx, &err);
}

static void teardown(void)
{
	free(ctx.items);
	free(ctx.tables);
}

/* items of table number no that are ctid ranges */
static size_t ranged_items(uint32_t no)
{
	size_t i, k = 0;

	for (i = 0; i < ctx.nitems; i++)
		if (ctx.items[i].t->no == no && ctx.items[i].ranged)
			k++;
	return k;
}

/* The ranges of table no cover pages 0.. with no gap, no overlap, the last
 * one open-ended, and each holds at least 32 MiB and at most 1 GiB of pages
 * (the last may be shorter). */
static int ranges_tile(uint32_t no)
{
	uint64_t next = 0, bs = 8192;
	size_t k, n = ranged_items(no), seen = 0;

	for (k = 0; k < n; k++) {
		size_t i;
		const struct snap_item *it = NULL;
		for (i = 0; i < ctx.nitems; i++)
			if (ctx.items[i].t->no == no && ctx.items[i].ranged && ctx.items[i].from_page == next)
				it = &ctx.items[i];
		if (!it)
			return 0;
		seen++;
		if (it->to_page == 0)
			return seen == n;
		if (it->to_page <= it->from_page || (it->to_page - it->from_page) * bs > GIB ||
		    (it->to_page - it->from_page) * bs < 32 * MIB)
			return 0;
		next = it->to_page;
	}
	return 0;
}

/* The ranges of table no cover pages 0.. with no gap or overlap, the last
 * one open-ended. */
static int ranges_tile_pages(uint32_t no)
{
	uint64_t next = 0;
	size_t k, n = ranged_items(no);

	for (k = 0; k < n; k++) {
		size_t i;
		const struct snap_item *it = NULL;
		for (i = 0; i < ctx.nitems; i++)
			if (ctx.items[i].t->no == no && ctx.items[i].ranged && ctx.items[i].from_page == next)
				it = &ctx.items[i];
		if (!it)
			return 0;
		if (it->to_page == 0)
			return k + 1 == n;
		if (it->to_page <= it->from_page)
			return 0;
		next = it->to_page;
	}
	return 0;
}

TEST(one_large_table_among_small_ones_is_split)
{
	uint64_t sizes[] = { 2 * MIB, 3 * GIB, 5 * MIB, 40 * MIB };

	setup(sizes, 4, 2, 150000);
	CHECK_INT(plan(), 0);
	CHECK(ranged_items(2) >= 2);
	CHECK(ranges_tile(2));
	CHECK_INT(ranged_items(1) + ranged_items(3) + ranged_items(4), 0);
	/* largest first */
	CHECK(ctx.items[0].t->no == 2);
	teardown();
}

TEST(as_many_comparable_tables_as_jobs_none_is_split)
{
	uint64_t sizes[] = { 3 * GIB, 2 * GIB, 10 * MIB };

	setup(sizes, 3, 2, 150000);
	CHECK_INT(plan(), 0);
	CHECK_INT(ctx.nitems, 3);
	CHECK_INT(ranged_items(1) + ranged_items(2), 0);
	teardown();
}

TEST(more_jobs_than_comparable_tables_splits_the_largest)
{
	uint64_t sizes[] = { 3 * GIB, 2 * GIB, 10 * MIB };

	setup(sizes, 3, 4, 150000);
	CHECK_INT(plan(), 0);
	CHECK(ranged_items(1) >= 2);
	CHECK(ranges_tile(1));
	teardown();
}

TEST(one_job_never_splits)
{
	uint64_t sizes[] = { 3 * GIB, 1 * MIB };

	setup(sizes, 2, 1, 150000);
	CHECK_INT(plan(), 0);
	CHECK_INT(ctx.nitems, 2);
	CHECK_INT(ranged_items(1), 0);
	teardown();
}

TEST(postgresql_13_never_splits)
{
	uint64_t sizes[] = { 3 * GIB, 1 * MIB };

	setup(sizes, 2, 2, 130000);
	CHECK_INT(plan(), 0);
	CHECK_INT(ctx.nitems, 2);
	CHECK_INT(ranged_items(1), 0);
	teardown();
}

TEST(small_database_is_copied_whole)
{
	/* the largest table dominates, but is too small to be worth a split */
	uint64_t sizes[] = { 60 * MIB, 1 * MIB, 1 * MIB };

	setup(sizes, 3, 2, 150000);
	CHECK_INT(plan(), 0);
	CHECK_INT(ctx.nitems, 3);
	CHECK_INT(ranged_items(1), 0);
	teardown();
}

TEST(balanced_tables_are_copied_whole)
{
	/* five tables of similar size: each job gets whole tables */
	uint64_t sizes[] = { 500 * MIB, 450 * MIB, 400 * MIB, 420 * MIB, 480 * MIB };

	setup(sizes, 5, 2, 150000);
	CHECK_INT(plan(), 0);
	CHECK_INT(ctx.nitems, 5);
	teardown();
}

TEST(every_table_has_its_items_counted)
{
	uint64_t sizes[] = { 8 * GIB, 0, 100 * MIB };
	size_t i, total = 0;

	setup(sizes, 3, 3, 160000);
	CHECK_INT(plan(), 0);
	for (i = 0; i < 3; i++)
		total += atomic_load(&ctx.tables[i].items_left);
	CHECK_INT(total, ctx.nitems);
	CHECK(ranged_items(1) >= 8); /* pieces of at most 1 GiB */
	CHECK(ranges_tile(1));
	CHECK_INT(atomic_load(&ctx.tables[1].items_left), 1);
	teardown();
}

TEST(toast_counts_as_work)
{
	/* a 16 MiB heap whose rows carry 3 GiB of TOAST beside a 700 MiB
	 * table: by heap sizes the 700 MiB table would be the whole snapshot,
	 * by work it is one job's share or less, so neither is cut */
	uint64_t sizes[] = { 16 * MIB, 700 * MIB, 20 * MIB };

	setup(sizes, 3, 2, 150000);
	ctx.tables[0].weight = 3 * GIB + 16 * MIB;
	CHECK_INT(plan(), 0);
	CHECK_INT(ctx.nitems, 3);
	CHECK_INT(ranged_items(1) + ranged_items(2), 0);
	/* largest (by work) first */
	CHECK(ctx.items[0].t->no == 1);
	teardown();
}

TEST(a_toast_heavy_table_with_a_small_heap_is_not_cut)
{
	uint64_t sizes[] = { 8 * MIB, 1 * MIB };

	setup(sizes, 2, 2, 150000);
	ctx.tables[0].weight = 2 * GIB;
	CHECK_INT(plan(), 0);
	CHECK_INT(ctx.nitems, 2);
	CHECK_INT(ranged_items(1), 0);
	teardown();
}

TEST(a_large_heap_with_toast_is_cut_by_its_pages)
{
	uint64_t sizes[] = { 1 * GIB, 1 * MIB };

	setup(sizes, 2, 2, 150000);
	ctx.tables[0].weight = 3 * GIB;
	CHECK_INT(plan(), 0);
	CHECK(ranged_items(1) >= 2);
	CHECK(ranges_tile_pages(1));
	teardown();
}

/* Copy order: tables whose indexes cost more than their rows first,
 * costliest first; then the rest largest first; a cut table's pieces in
 * page order. */
TEST(costly_post_data_goes_first_then_largest_first)
{
	uint64_t sizes[] = { 100 * MIB, 10 * MIB, 40 * MIB, 20 * MIB, 5 * MIB };

	setup(sizes, 5, 2, 150000);
	ctx.tables[1].post = 30 * MIB;  /* a GIN index: 3x its rows */
	ctx.tables[2].post = 14 * MIB;  /* one btree: below its rows */
	ctx.tables[4].post = 10 * MIB;  /* many indexes: 2x its rows */
	CHECK_INT(plan(), 0);
	CHECK_INT(ctx.nitems, 5);
	CHECK_INT(ctx.items[0].t->no, 2);
	CHECK_INT(ctx.items[1].t->no, 5);
	CHECK_INT(ctx.items[2].t->no, 1);
	CHECK_INT(ctx.items[3].t->no, 3);
	CHECK_INT(ctx.items[4].t->no, 4);
	teardown();
}

/* A table whose index builds are the restore's long pole is cut, though
 * another table is comparable and it is under 5/4 of a job's share, so
 * that every job copies it first; one whose indexes cost less is not. */
TEST(a_table_with_costly_indexes_is_cut_so_that_it_comes_first)
{
	uint64_t sizes[] = { 450 * MIB, 250 * MIB, 150 * MIB, 100 * MIB };
	size_t i;

	setup(sizes, 4, 2, 150000);
	ctx.tables[0].post = 450 * MIB / 100 * 370; /* primary key, a btree, GIN */
	ctx.tables[1].post = 250 * MIB / 100 * 70;
	CHECK_INT(plan(), 0);
	CHECK_INT(ranged_items(1), 2); /* one piece a job: they end together */
	CHECK(ranges_tile_pages(1));
	for (i = 0; i < ranged_items(1); i++)
		CHECK_INT(ctx.items[i].t->no, 1);
	CHECK_INT(ranged_items(2), 0);
	teardown();

	/* the same indexes on a small share of the snapshot: not cut */
	uint64_t sizes2[] = { 100 * MIB, 900 * MIB, 800 * MIB };
	setup(sizes2, 3, 2, 150000);
	ctx.tables[0].post = 100 * MIB / 100 * 370;
	CHECK_INT(plan(), 0);
	CHECK_INT(ranged_items(1), 0);
	teardown();

	/* before PostgreSQL 14 (no TID range scans) nothing is cut */
	setup(sizes, 4, 2, 130000);
	ctx.tables[0].post = 450 * MIB / 100 * 370;
	CHECK_INT(plan(), 0);
	CHECK_INT(ranged_items(1), 0);
	teardown();
}

TEST(the_pieces_of_a_cut_table_go_in_page_order)
{
	uint64_t sizes[] = { 2 * GIB, 1 * MIB };
	size_t i;
	uint64_t last = 0;

	setup(sizes, 2, 2, 150000);
	ctx.tables[0].post = 8 * GIB;
	CHECK_INT(plan(), 0);
	CHECK(ranged_items(1) >= 2);
	for (i = 0; i < ranged_items(1); i++) {
		CHECK_INT(ctx.items[i].t->no, 1);
		CHECK(i == 0 || ctx.items[i].from_page > last);
		last = ctx.items[i].from_page;
	}
	teardown();
}

/* bs_snap_plan_jobs: the jobs a snap opens when --jobs is not given */
TEST(planned_jobs_one_per_core)
{
	CHECK_INT(bs_snap_plan_jobs(2, 90, 40, 4 * GIB, 8 * MIB), 2);
	CHECK_INT(bs_snap_plan_jobs(8, 90, 40, 4 * GIB, 8 * MIB), 8);
	CHECK_INT(bs_snap_plan_jobs(0, -1, 40, 4 * GIB, 8 * MIB), 2);
}

TEST(planned_jobs_no_more_than_items)
{
	CHECK_INT(bs_snap_plan_jobs(8, 90, 3, 4 * GIB, 8 * MIB), 3);
	CHECK_INT(bs_snap_plan_jobs(8, 90, 1, 4 * GIB, 8 * MIB), 1);
	CHECK_INT(bs_snap_plan_jobs(8, 90, 0, 0, 8 * MIB), 1);
}

TEST(planned_jobs_a_small_database_gets_one)
{
	CHECK_INT(bs_snap_plan_jobs(8, 90, 500, 3 * MIB, 8 * MIB), 1);
	CHECK_INT(bs_snap_plan_jobs(8, 90, 500, 24 * MIB, 8 * MIB), 3);
}

TEST(planned_jobs_leave_half_the_free_connections)
{
	CHECK_INT(bs_snap_plan_jobs(8, 6, 40, 4 * GIB, 8 * MIB), 3);
	CHECK_INT(bs_snap_plan_jobs(8, 1, 40, 4 * GIB, 8 * MIB), 1);
	CHECK_INT(bs_snap_plan_jobs(8, 0, 40, 4 * GIB, 8 * MIB), 1);
	CHECK_INT(bs_snap_plan_jobs(8, -1, 40, 4 * GIB, 8 * MIB), 8);
}

int main(void)
{
	bs_log_set_level(BS_LOG_WARN); /* the planner's info line */
	RUN(costly_post_data_goes_first_then_largest_first);
	RUN(a_table_with_costly_indexes_is_cut_so_that_it_comes_first);
	RUN(the_pieces_of_a_cut_table_go_in_page_order);
	RUN(planned_jobs_one_per_core);
	RUN(planned_jobs_no_more_than_items);
	RUN(planned_jobs_a_small_database_gets_one);
	RUN(planned_jobs_leave_half_the_free_connections);
	RUN(one_large_table_among_small_ones_is_split);
	RUN(as_many_comparable_tables_as_jobs_none_is_split);
	RUN(more_jobs_than_comparable_tables_splits_the_largest);
	RUN(one_job_never_splits);
	RUN(postgresql_13_never_splits);
	RUN(small_database_is_copied_whole);
	RUN(balanced_tables_are_copied_whole);
	RUN(every_table_has_its_items_counted);
	RUN(toast_counts_as_work);
	RUN(a_toast_heavy_table_with_a_small_heap_is_not_cut);
	RUN(a_large_heap_with_toast_is_cut_by_its_pages);
	return DONE();
}
