/* metrics_test.c - snap/drill/prune/restore/gate/rollback metrics: one file
 * per database (policy, service), last success carried over failures, a
 * damaged previous file not trusted. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "command/metrics.h"
#include "common/log.h"
#include "common/metrics.h"
#include "drill/drill.h"
#include "harness.h"
#include "report/report.h"

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

/* The file read back (empty when it cannot be read). */
static void load(const char *file, struct bs_metrics *mx)
{
	struct bs_err err;
	char path[512];

	bs_err_init(&err);
	snprintf(path, sizeof(path), "%s/%s.prom", dir, file);
	if (bs_metrics_read(path, mx, &err) < 0)
		printf("#   %s\n", err.msg);
}

/* value of name{key=v} in mx, or -1 when absent */
static double in(const struct bs_metrics *mx, const char *name, const char *key, const char *v)
{
	const struct bs_metric *m = bs_metrics_find(mx, name, key, v);
	return m ? m->value : -1;
}

TEST(restore)
{
	struct bs_config cfg;
	struct bs_metrics mx;
	struct bs_restore_metrics m;
	struct bs_err err;
	const struct bs_metric *s;

	cfg_init(&cfg);
	bs_err_init(&err);
	memset(&m, 0, sizeof(m));
	m.database = "rapp";
	m.target = "rapp_copy";
	m.ok = 1;
	m.seconds = 12.5;
	m.snapshot_start = 1764000000;
	m.bytes = 8192;
	m.rows = 500;
	m.tables = 3;
	CHECK(bs_cmd_metrics_restore(&cfg, &m, &err) == 0);
	load("backstop_restore_rapp", &mx);
	s = bs_metrics_find(&mx, "backstop_restore_last_run_success", "database", "rapp");
	CHECK(s && s->value == 1 && strcmp(bs_metric_label(s, "target"), "rapp_copy") == 0);
	CHECK(in(&mx, "backstop_restore_last_run_rows", "database", "rapp") == 500);
	CHECK(in(&mx, "backstop_restore_last_run_bytes", "database", "rapp") == 8192);
	CHECK(in(&mx, "backstop_restore_last_success_duration_seconds", "database", "rapp") == 12.5);
	/* a failure into another target: the last success keeps its own target */
	m.ok = 0;
	m.target = "";
	m.seconds = 1;
	CHECK(bs_cmd_metrics_restore(&cfg, &m, &err) == 0);
	load("backstop_restore_rapp", &mx);
	s = bs_metrics_find(&mx, "backstop_restore_last_run_success", "database", "rapp");
	CHECK(s && s->value == 0 && !bs_metric_label(s, "target"));
	CHECK(in(&mx, "backstop_restore_last_run_rows", "database", "rapp") == -1);
	CHECK(in(&mx, "backstop_restore_last_success_duration_seconds", "target", "rapp_copy") == 12.5);
	CHECK(in(&mx, "backstop_restore_last_success_timestamp_seconds", "target", "rapp_copy") > 0);
	/* no database known, none configured: nothing */
	m.database = NULL;
	CHECK(bs_cmd_metrics_restore(&cfg, &m, &err) == 0);
}

static int gate_run(struct bs_config *cfg, const char *policy, const char *gate, const char *release, int rc, int go,
		    size_t fail)
{
	size_t counts[BS_STATE_COUNT] = { 0 };
	struct bs_gate_metrics m = { .policy = policy, .gate = gate, .release = release, .rc = rc, .go = go,
				     .counts = counts, .seconds = 0.5 };
	struct bs_err err;

	counts[BS_STATE_OK] = 4;
	counts[BS_STATE_FAIL] = fail;
	bs_err_init(&err);
	return bs_cmd_metrics_gate(cfg, &m, &err);
}

TEST(gate)
{
	struct bs_config cfg;
	struct bs_metrics mx;
	const struct bs_metric *s;
	double go_ts;
	char path[512];

	cfg_init(&cfg);
	CHECK(gate_run(&cfg, "go-live", NULL, "v1", 0, 1, 0) == 0);
	load("backstop_gate_go-live", &mx);
	CHECK(in(&mx, "backstop_gate_last_decision_go", "release", "v1") == 1);
	CHECK(in(&mx, "backstop_gate_last_decision_error", "policy", "go-live") == 0);
	CHECK(in(&mx, "backstop_gate_last_decision_criteria", "state", "ok") == 4);
	CHECK(in(&mx, "backstop_gate_last_decision_criteria", "state", "fail") == 0);
	go_ts = in(&mx, "backstop_gate_last_go_timestamp_seconds", "release", "v1");
	CHECK(go_ts > 0);
	/* NO-GO for v2: the last GO stays, labelled with the release it let through */
	CHECK(gate_run(&cfg, "go-live", NULL, "v2", 1, 0, 2) == 0);
	load("backstop_gate_go-live", &mx);
	CHECK(in(&mx, "backstop_gate_last_decision_go", "release", "v2") == 0);
	CHECK(in(&mx, "backstop_gate_last_decision_error", "release", "v2") == 0);
	CHECK(in(&mx, "backstop_gate_last_decision_criteria", "state", "fail") == 2);
	CHECK(in(&mx, "backstop_gate_last_go_timestamp_seconds", "release", "v1") == go_ts);
	CHECK(in(&mx, "backstop_gate_last_go_timestamp_seconds", "release", "v2") == -1);
	/* could not evaluate (exit 3): NO-GO and error */
	CHECK(gate_run(&cfg, "go-live", NULL, NULL, 3, 0, 0) == 0);
	load("backstop_gate_go-live", &mx);
	s = bs_metrics_find(&mx, "backstop_gate_last_decision_error", NULL, NULL);
	CHECK(s && s->value == 1 && !bs_metric_label(s, "release"));
	/* no decision at all: an existing file says error, keeps the last GO... */
	CHECK(gate_run(&cfg, "go-live", NULL, NULL, -1, 0, 0) == 0);
	load("backstop_gate_go-live", &mx);
	CHECK(in(&mx, "backstop_gate_last_decision_error", "policy", "go-live") == 1);
	CHECK(in(&mx, "backstop_gate_last_decision_criteria", "policy", "go-live") == -1);
	CHECK(in(&mx, "backstop_gate_last_go_timestamp_seconds", "release", "v1") == go_ts);
	/* ...and a policy never checked (a typo) gets no file */
	CHECK(gate_run(&cfg, "go-lvie", NULL, NULL, -1, 0, 0) == 0);
	snprintf(path, sizeof(path), "%s/backstop_gate_go-lvie.prom", dir);
	CHECK(access(path, F_OK) != 0);
	/* --gate: a file of its own, labelled gate */
	CHECK(gate_run(&cfg, "go-live", "security", "v3", 0, 1, 0) == 0);
	load("backstop_gate_go-live_gate_security", &mx);
	CHECK(in(&mx, "backstop_gate_last_decision_go", "gate", "security") == 1);
	load("backstop_gate_go-live", &mx);
	CHECK(in(&mx, "backstop_gate_last_decision_go", "policy", "go-live") == 0);
}

TEST(rollback)
{
	struct bs_config cfg;
	struct bs_metrics mx;
	struct bs_err err;
	struct bs_rollback_metrics rb = { .service = "api", .release = "R1", .rc = 0, .seconds = 3 };
	struct bs_rollback_watch_metrics w = { .service = "api", .release = "R2", .verdict = "bad", .seconds = 60,
					       .outage_seconds = 30, .rounds = 6, .failed_rounds = 4 };
	double ok_ts;

	cfg_init(&cfg);
	bs_err_init(&err);
	CHECK(bs_cmd_metrics_rollback(&cfg, &rb, &err) == 0);
	load("backstop_rollback_api", &mx);
	CHECK(in(&mx, "backstop_rollback_last_run_success", "service", "api") == 1);
	CHECK(in(&mx, "backstop_rollback_last_run_result", "result", "ok") == 1);
	CHECK(in(&mx, "backstop_rollback_last_run_result", "result", "failed") == 0);
	ok_ts = in(&mx, "backstop_rollback_last_success_timestamp_seconds", "release", "R1");
	CHECK(ok_ts > 0);
	/* a watch keeps the rollback part */
	CHECK(bs_cmd_metrics_rollback_watch(&cfg, &w, &err) == 0);
	load("backstop_rollback_api", &mx);
	CHECK(in(&mx, "backstop_rollback_watch_last_run_verdict", "verdict", "bad") == 1);
	CHECK(in(&mx, "backstop_rollback_watch_last_run_verdict", "verdict", "good") == 0);
	CHECK(in(&mx, "backstop_rollback_watch_last_run_outage_seconds", "release", "R2") == 30);
	CHECK(in(&mx, "backstop_rollback_last_run_success", "release", "R1") == 1);
	/* a failed rollback keeps the watch part and the last success */
	rb.rc = -1;
	rb.release = NULL;
	rb.result = "interrupted";
	CHECK(bs_cmd_metrics_rollback(&cfg, &rb, &err) == 0);
	load("backstop_rollback_api", &mx);
	CHECK(in(&mx, "backstop_rollback_last_run_success", "service", "api") == 0);
	CHECK(in(&mx, "backstop_rollback_last_run_result", "result", "interrupted") == 1);
	CHECK(in(&mx, "backstop_rollback_last_success_timestamp_seconds", "release", "R1") == ok_ts);
	CHECK(in(&mx, "backstop_rollback_watch_last_run_failed_rounds", "release", "R2") == 4);
	rb.result = NULL;
	rb.rc = 1;
	CHECK(bs_cmd_metrics_rollback(&cfg, &rb, &err) == 0);
	load("backstop_rollback_api", &mx);
	CHECK(in(&mx, "backstop_rollback_last_run_result", "result", "unhealthy") == 1);
	CHECK(in(&mx, "backstop_rollback_last_run_result", "result", "interrupted") == 0);
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
	RUN(restore);
	RUN(gate);
	RUN(rollback);
	rc = DONE();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return rc;
}
