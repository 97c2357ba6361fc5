/* scratch_test.c - lib/drill/scratch.c: scratch database names.  The name
 * shape is what keeps a drill away from databases it did not create, so it
 * is checked strictly.  (Creating, locking and dropping run against a real
 * server in tests/integration/verify_restore.sh.) */
#include <string.h>

#include "drill/drill.h"
#include "harness.h"

TEST(generated_names_are_valid)
{
	char a[64], b[64];
	time_t t = 1795515300, c = 0; /* 2026-11-24T10:15:00Z */

	bs_drill_scratch_name(t, a);
	bs_drill_scratch_name(t, b);
	CHECK_INT(strlen(a), BS_DRILL_NAME_LEN);
	CHECK(strncmp(a, "backstop_drill_20261124101500_", 30) == 0);
	CHECK(strcmp(a, b) != 0); /* random suffix */
	CHECK_INT(bs_drill_scratch_name_valid(a, &c), 1);
	CHECK_INT(c, t);
}

TEST(rejected_names)
{
	static const char *bad[] = {
		"backstop_drill_",
		"backstop_drill_20261124101500_a1b2c",    /* short */
		"backstop_drill_20261124101500_a1b2c3d",  /* long */
		"backstop_drill_20261124101500_A1B2C3",   /* upper case */
		"backstop_drill_20261124101500-a1b2c3",   /* separator */
		"backstop_drill_2026112410150x_a1b2c3",   /* not a time */
		"backstop_drill_20261324101500_a1b2c3",   /* month 13 */
		"backstop_drill_19991124101500_a1b2c3",   /* before 2000 */
		"backstop_drill_20261124251500_a1b2c3",   /* hour 25 */
		"backstop_drill_20261124101500_a1b2g3",   /* not hex */
		"Backstop_drill_20261124101500_a1b2c3",
		"xbackstop_drill_20261124101500_a1b2c",
		"postgres",
		"app",
		"",
		"backstop_drill_20261124101500_a1b2c3\" ; DROP DATABASE app; --",
		NULL,
	};
	size_t i;

	for (i = 0; bad[i]; i++) {
		if (bs_drill_scratch_name_valid(bad[i], NULL))
			printf("#   accepted: %s\n", bad[i]);
		CHECK_INT(bs_drill_scratch_name_valid(bad[i], NULL), 0);
	}
	CHECK_INT(bs_drill_scratch_name_valid(NULL, NULL), 0);
	CHECK_INT(bs_drill_scratch_name_valid("backstop_drill_20261124101500_a1b2c3", NULL), 1);
}

TEST(drop_refuses_foreign_names)
{
	struct bs_drill_scratch s;
	struct bs_err err;

	/* not owned: nothing to do, whatever the name */
	bs_drill_scratch_init(&s);
	bs_err_init(&err);
	snprintf(s.name, sizeof(s.name), "app");
	CHECK_INT(bs_drill_scratch_drop(&s, &err), 0);
	/* kept: nothing to do */
	s.owned = 1;
	s.keep = 1;
	CHECK_INT(bs_drill_scratch_drop(&s, &err), 0);
	bs_drill_scratch_release(&s);
}

TEST(guard_without_drill)
{
	struct bs_drill_guard g;
	struct bs_err err;
	char name[64];
	int kept = 1;

	bs_drill_guard_init(&g);
	bs_err_init(&err);
	CHECK_INT(bs_drill_guard_abort(&g, name, &kept, &err), 0);
	CHECK_STR(name, "");
	CHECK_INT(kept, 0);
}

int main(void)
{
	RUN(generated_names_are_valid);
	RUN(rejected_names);
	RUN(drop_refuses_foreign_names);
	RUN(guard_without_drill);
	return DONE();
}
