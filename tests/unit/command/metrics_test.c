/* metrics_test.c - snap/drill/prune metrics: one file per database, last
 * success carried over failures, a damaged previous file not trusted. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "command/metrics.h"
#include "common/log.h"
#include "common/metrics.h"
#include "drill/drill.h"
#include "harness.h"

static char dir[] = "/tmp/bs-cmd-metrics-test.XXXXXX";

static void cfg_init(struct bs_config *cfg)
{
	bs_config_init(cfg);
	cfg->metrics_dir = dir;
	cfg->repository = "/var/backups/bs";
}

/* value of name{database=db} in file, or -1 when absent */
static double value(const char *file, const char *name, const char *db)
{
	struct bs_metrics mx;
	struct bs_err err;
	const struct bs_metric *m;
	char path[512];

	bs_err_init(&err);
	snprintf(path, sizeof(path), "%s/%s.prom", dir, file);
	if (bs_metrics_read(path, &mx, &err) < 0) {
		printf("#   %s\n", err.msg);
		return -2;
	}
	m = bs_metrics_find(&mx, name, "database", db);
	return m ? m->value : -1;
}

static void snap_run(struct bs_config *cfg, const char *db, int ok, time_t start)
{
	struct bs_snap_metrics m;
	struct bs_err err;

	memset(&m, 0, sizeof(m));
	m.database = db;
	m.ok = ok;
	m.seconds = 2;
	m.snapshot_start = start;
	m.snapshot_seconds = 1.5;
	m.bytes = 4096;
	m.rows = 100;
	bs_err_init(&err);
	CHECK(bs_cmd_metrics_snap(cfg, &m, &err) == 0);
}

TEST(file_names)
{
	char f[256];

	bs_cmd_metrics_file("snap", "app", f);
	CHECK_STR(f, "backstop_snap_app");
	bs_cmd_metrics_file("snap", "app-1_x", f);
	CHECK_STR(f, "backstop_snap_app-1_x");
	bs_cmd_metrics_file("prune", NULL, f);
	CHECK_STR(f, "backstop_prune");
	/* replaced characters get a hash: no two names share a file */
	bs_cmd_metrics_file("snap", "a.b", f);
	CHECK(strncmp(f, "backstop_snap_a_b_", 18) == 0 && strlen(f) == 26);
	{
		char g[256];
		bs_cmd_metrics_file("snap", "a/b", g);
		CHECK(strcmp(f, g) != 0);
		bs_cmd_metrics_file("snap", "../x", g);
		CHECK(strchr(g, '/') == NULL && strncmp(g, "backstop_snap_", 14) == 0);
	}
}

TEST(snap_failure_keeps_last_success)
{
	struct bs_config cfg;

	cfg_init(&cfg);
	snap_run(&cfg, "app", 1, 1764000000);
	CHECK(value("backstop_snap_app", "backstop_snap_last_run_success", "app") == 1);
	CHECK(value("backstop_snap_app", "backstop_snap_last_success_timestamp_seconds", "app") == 1764000000);
	snap_run(&cfg, "app", 0, 0);
	snap_run(&cfg, "app", 0, 0); /* twice: carried from a carried value */
	CHECK(value("backstop_snap_app", "backstop_snap_last_run_success", "app") == 0);
	CHECK(value("backstop_snap_app", "backstop_snap_last_success_timestamp_seconds", "app") == 1764000000);
	CHECK(value("backstop_snap_app", "backstop_snap_last_success_bytes", "app") == 4096);
	CHECK(value("backstop_snap_app", "backstop_snap_last_failure_timestamp_seconds", "app") > 0);
	/* a success after failures keeps the failure time */
	snap_run(&cfg, "app", 1, 1764100000);
	CHECK(value("backstop_snap_app", "backstop_snap_last_success_timestamp_seconds", "app") == 1764100000);
	CHECK(value("backstop_snap_app", "backstop_snap_last_failure_timestamp_seconds", "app") > 0);
}

TEST(two_databases)
{
	struct bs_config cfg;

	cfg_init(&cfg);
	snap_run(&cfg, "one", 1, 1764000001);
	snap_run(&cfg, "two", 1, 1764000002);
	snap_run(&cfg, "two", 0, 0);
	CHECK(value("backstop_snap_one", "backstop_snap_last_success_timestamp_seconds", "one") == 1764000001);
	CHECK(value("backstop_snap_one", "backstop_snap_last_run_success", "one") == 1);
	CHECK(value("backstop_snap_two", "backstop_snap_last_success_timestamp_seconds", "two") == 1764000002);
	CHECK(value("backstop_snap_two", "backstop_snap_last_run_success", "two") == 0);
}

TEST(damaged_previous_file)
{
	struct bs_config cfg;
	char path[512];
	FILE *f;

	cfg_init(&cfg);
	snprintf(path, sizeof(path), "%s/backstop_snap_dmg.prom", dir);
	f = fopen(path, "w");
	fputs("backstop_snap_last_success_timestamp_seconds{database=\"dmg\"} 17640\ngarbage\n", f);
	fclose(f);
	snap_run(&cfg, "dmg", 0, 0); /* warns, carries nothing */
	CHECK(value("backstop_snap_dmg", "backstop_snap_last_success_timestamp_seconds", "dmg") == -1);
	CHECK(value("backstop_snap_dmg", "backstop_snap_last_run_success", "dmg") == 0);
}

TEST(legacy_file)
{
	struct bs_config cfg;
	char path[512];
	FILE *f;

	cfg_init(&cfg);
	snprintf(path, sizeof(path), "%s/backstop_snap.prom", dir);
	f = fopen(path, "w");
	fputs("# HELP backstop_snap_last_success_timestamp_seconds x\n"
	      "# TYPE backstop_snap_last_success_timestamp_seconds gauge\n"
	      "backstop_snap_last_success_timestamp_seconds{database=\"old\"} 1763000000\n", f);
	fclose(f);
	snap_run(&cfg, "other", 0, 0); /* another database's: left alone */
	CHECK(access(path, F_OK) == 0);
	CHECK(value("backstop_snap_other", "backstop_snap_last_success_timestamp_seconds", "other") == -1);
	snap_run(&cfg, "old", 0, 0); /* its own: carried, then removed */
	CHECK(value("backstop_snap_old", "backstop_snap_last_success_timestamp_seconds", "old") == 1763000000);
	CHECK(access(path, F_OK) != 0);
}

TEST(no_metrics_dir)
{
	struct bs_config cfg;
	struct bs_snap_metrics m;
	struct bs_err err;

	bs_config_init(&cfg);
	memset(&m, 0, sizeof(m));
	m.database = "x";
	bs_err_init(&err);
	CHECK(bs_cmd_metrics_snap(&cfg, &m, &err) == 0);
	CHECK(bs_cmd_metrics_prune(&cfg, NULL, 1, 2, 1, 0.5, &err) == 0);
}

static void report(struct bs_drill_report *r, const char *db, time_t snap_start, int findings, int error)
{
	bs_drill_report_init(r, BS_DRILL_FULL);
	r->database = strdup(db);
	snprintf(r->snapshot, sizeof(r->snapshot), "20261129T000000Z-abcdef");
	r->snapshot_start = snap_start;
	r->start = time(NULL) - 10;
	r->end = time(NULL);
	r->rpo_ms = 3600000;
	r->rto_ms = 4500;
	r->t_total = 10;
	r->could_not_run = error;
	while (findings-- > 0)
		bs_drill_report_add(r, BS_DRILL_AREA_LIMIT, "max_rto", "too slow");
}

TEST(drills)
{
	struct bs_config cfg;
	struct bs_drill_report r[3];
	struct bs_err err;
	const char *f = "backstop_drill_dapp";

	cfg_init(&cfg);
	bs_err_init(&err);
	report(&r[0], "dapp", 1764000000, 0, 0);
	CHECK(bs_cmd_metrics_drill(&cfg, r, 1, &err) == 0);
	CHECK(value(f, "backstop_drill_last_run_success", "dapp") == 1);
	CHECK(value(f, "backstop_drill_last_run_rto_seconds", "dapp") == 4.5);
	CHECK(value(f, "backstop_drill_last_run_snapshot_age_seconds", "dapp") == 3600);
	CHECK(value(f, "backstop_drill_last_success_snapshot_timestamp_seconds", "dapp") == 1764000000);
	bs_drill_report_release(&r[0]);

	/* --all: one failing report of two fails the database's run */
	report(&r[0], "dapp", 1764100000, 2, 0);
	report(&r[1], "dapp", 1764200000, 0, 0);
	report(&r[2], "dother", 1764200000, 0, 1);
	CHECK(bs_cmd_metrics_drill(&cfg, r, 3, &err) == 0);
	CHECK(value(f, "backstop_drill_last_run_success", "dapp") == 0);
	CHECK(value(f, "backstop_drill_last_run_findings", "dapp") == 2);
	CHECK(value(f, "backstop_drill_last_run_snapshot_timestamp_seconds", "dapp") == 1764200000);
	CHECK(value(f, "backstop_drill_last_success_snapshot_timestamp_seconds", "dapp") == 1764000000);
	CHECK(value("backstop_drill_dother", "backstop_drill_last_run_error", "dother") == 1);
	CHECK(value("backstop_drill_dother", "backstop_drill_last_run_rto_seconds", "dother") == -1);
	CHECK(value("backstop_drill_dother", "backstop_drill_last_success_timestamp_seconds", "dother") == -1);
	bs_drill_report_release(&r[0]);
	bs_drill_report_release(&r[1]);
	bs_drill_report_release(&r[2]);

	/* a drill that could not start at all */
	CHECK(bs_cmd_metrics_drill_failed(&cfg, "dapp", 0, &err) == 0);
	CHECK(value(f, "backstop_drill_last_run_error", "dapp") == 1);
	CHECK(value(f, "backstop_drill_last_success_snapshot_timestamp_seconds", "dapp") == 1764000000);
}

TEST(prune)
{
	struct bs_config cfg;
	struct bs_metrics mx;
	struct bs_err err;
	char path[512];

	cfg_init(&cfg);
	bs_err_init(&err);
	CHECK(bs_cmd_metrics_prune(&cfg, "papp", 3, 2, 1, 0.25, &err) == 0);
	CHECK(value("backstop_prune_papp", "backstop_prune_last_run_deleted_snapshots", "papp") == 2);
	CHECK(value("backstop_prune_papp", "backstop_prune_last_run_kept_snapshots", "papp") == 3);
	CHECK(bs_cmd_metrics_prune(&cfg, "papp", 0, 0, 0, 0.25, &err) == 0);
	CHECK(value("backstop_prune_papp", "backstop_prune_last_run_success", "papp") == 0);
	CHECK(value("backstop_prune_papp", "backstop_prune_last_success_timestamp_seconds", "papp") > 0);
	/* every database: no database label */
	CHECK(bs_cmd_metrics_prune(&cfg, NULL, 1, 0, 1, 0.1, &err) == 0);
	snprintf(path, sizeof(path), "%s/backstop_prune.prom", dir);
	CHECK(bs_metrics_read(path, &mx, &err) == 0);
	CHECK(bs_metrics_find(&mx, "backstop_prune_last_run_success", "repository", "/var/backups/bs") != NULL);
	CHECK(bs_metrics_find(&mx, "backstop_prune_last_run_success", NULL, NULL) &&
	      !bs_metric_label(bs_metrics_find(&mx, "backstop_prune_last_run_success", NULL, NULL), "database"));
}

int main(void)
{
	char cmd[300];
	int rc;

	bs_log_set_level(BS_LOG_ERROR);
	if (!mkdtemp(dir)) {
		printf("not ok 1 - mkdtemp\n1..1\n");
		return 1;
	}
	RUN(file_names);
	RUN(snap_failure_keeps_last_success);
	RUN(two_databases);
	RUN(damaged_previous_file);
	RUN(legacy_file);
	RUN(no_metrics_dir);
	RUN(drills);
	RUN(prune);
	rc = DONE();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return rc;
}
