/* metrics_test.c - textfile metrics: the writer's format, the strict reader. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/metrics.h"
#include "harness.h"

static char dir[] = "/tmp/bs-metrics-test.XXXXXX";

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 65536);
	size_t n;

	if (!f || !buf) {
		if (f)
			fclose(f);
		free(buf);
		return NULL;
	}
	n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int parses(const char *text)
{
	struct bs_metrics mx;
	struct bs_err err;

	bs_err_init(&err);
	return bs_metrics_parse("t.prom", text, strlen(text), &mx, &err) == 0;
}

TEST(write_format)
{
	static const char *l1[] = { "database", "app", "repository", "/r \"x\"\\\n", NULL };
	static const char *l2[] = { "database", "other", "repository", NULL, NULL };
	struct bs_metrics mx;
	struct bs_err err;
	char path[256], *text;

	bs_err_init(&err);
	bs_metrics_init(&mx);
	CHECK(bs_metrics_add(&mx, "bs_a_seconds", "help with \\ and\nnewline", l1, 1.5, &err) == 0);
	CHECK(bs_metrics_add(&mx, "bs_b", "b", l1, 2, &err) == 0);
	CHECK(bs_metrics_add(&mx, "bs_a_seconds", "help with \\ and\nnewline", l2, 3, &err) == 0);
	CHECK(bs_metrics_add(&mx, "bad name", "x", NULL, 1, &err) < 0);
	CHECK(bs_metrics_add(&mx, "bs_c", "x", (const char *[]){ "0bad", "v", NULL }, 1, &err) < 0);
	CHECK_INT(mx.n, 3);
	CHECK(bs_metrics_write(&mx, dir, "t", &err) == 0);
	snprintf(path, sizeof(path), "%s/t.prom", dir);
	text = slurp(path);
	CHECK(text != NULL);
	if (!text)
		return;
	/* one HELP/TYPE per family, its samples together, a NULL label left out */
	CHECK_STR(text, "# HELP bs_a_seconds help with \\\\ and\\nnewline\n"
			"# TYPE bs_a_seconds gauge\n"
			"bs_a_seconds{database=\"app\",repository=\"/r \\\"x\\\"\\\\\\n\"} 1.5\n"
			"bs_a_seconds{database=\"other\"} 3\n"
			"# HELP bs_b b\n"
			"# TYPE bs_b gauge\n"
			"bs_b{database=\"app\",repository=\"/r \\\"x\\\"\\\\\\n\"} 2\n");
	free(text);
}

TEST(round_trip)
{
	static const char *l[] = { "database", "a\"b\\c\nd", NULL };
	struct bs_metrics mx, back;
	struct bs_err err;
	const struct bs_metric *m;
	char path[256];

	bs_err_init(&err);
	bs_metrics_init(&mx);
	bs_metrics_add(&mx, "bs_ts_seconds", "when", l, 1764000000, &err);
	bs_metrics_add(&mx, "bs_small", "small", NULL, 0.1, &err);
	CHECK(bs_metrics_write(&mx, dir, "rt", &err) == 0);
	snprintf(path, sizeof(path), "%s/rt.prom", dir);
	CHECK(bs_metrics_read(path, &back, &err) == 0);
	CHECK_INT(back.n, 2);
	m = bs_metrics_find(&back, "bs_ts_seconds", "database", "a\"b\\c\nd");
	CHECK(m != NULL);
	CHECK(m && m->value == 1764000000.0);
	CHECK_STR(m ? m->help : NULL, "when");
	m = bs_metrics_find(&back, "bs_small", NULL, NULL);
	CHECK(m && m->value == 0.1); /* %.17g round-trips */
	CHECK(bs_metrics_find(&back, "bs_ts_seconds", "database", "other") == NULL);
	snprintf(path, sizeof(path), "%s/missing.prom", dir);
	CHECK(bs_metrics_read(path, &back, &err) < 0 && err.code == BS_ERR_NOT_FOUND);
}

TEST(strict_reader_accepts)
{
	CHECK(parses(""));
	CHECK(parses("# a comment\n\nx 1\n"));
	CHECK(parses("# HELP x some help\n# TYPE x gauge\nx{a=\"1\",} 2.5e3\n"));
	CHECK(parses("x{a=\"1\"} 1 1764000000000\n"));    /* a timestamp is legal */
	CHECK(parses("x +Inf\ny -Inf\nz NaN\n"));
	CHECK(parses("x{a=\"1\"} 1\nx{a=\"2\"} 1\n"));
	CHECK(parses("# TYPE x gauge\nx 1\n# HELP x late help\n"));
}

TEST(strict_reader_rejects)
{
	struct bs_metrics mx;
	struct bs_err err;
	const char *bad[] = {
		"x 1",                                  /* truncated: no final newline */
		"x\n",                                  /* no value */
		"x 1abc\n",                             /* not a number */
		"x inf\n",                              /* spelled Inf */
		"x 0x10\n",                             /* not decimal */
		"x{a=1} 1\n",                           /* unquoted label value */
		"x{a=\"\\t\"} 1\n",                     /* unknown escape */
		"x{a=\"1\" 1\n",                        /* unterminated labels */
		"x{a=\"1\",a=\"2\"} 1\n",               /* duplicate label */
		"x{0a=\"1\"} 1\n",                      /* bad label name */
		"x 1\nx 2\n",                           /* duplicate series */
		"x{a=\"1\"} 1\ny 1\nx{a=\"2\"} 1\n",    /* family not together */
		"x 1\n# TYPE x gauge\n",                /* TYPE after samples */
		"# TYPE x gauge\n# TYPE x gauge\nx 1\n",/* second TYPE */
		"# HELP x a\n# HELP x b\n",             /* second HELP */
		"# TYPE x gauges\n",                    /* unknown type */
		"9x 1\n",                               /* bad metric name */
		"x 1 2 3\n",                            /* trailing text */
		"x 1 12a\n",                            /* bad timestamp */
		"x{a=\"1\",b=\"2\",c=\"3\",d=\"4\",e=\"5\"} 1\n", /* more labels than we write */
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bs_err_init(&err);
		if (bs_metrics_parse("t.prom", bad[i], strlen(bad[i]), &mx, &err) == 0) {
			printf("#   accepted: %s\n", bad[i]);
			CHECK(!"malformed text accepted");
		} else {
			CHECK_INT(err.code, BS_ERR_FORMAT);
			CHECK(strncmp(err.msg, "t.prom:", 7) == 0);
			CHECK_INT(mx.n, 0);
		}
	}
	bs_err_init(&err);
	CHECK(bs_metrics_parse("t.prom", "ok 1\nbad line here\n", 18, &mx, &err) < 0);
	CHECK(strstr(err.msg, "t.prom:2:") != NULL);
}

TEST(write_errors)
{
	struct bs_metrics mx;
	struct bs_err err;

	bs_err_init(&err);
	bs_metrics_init(&mx);
	bs_metrics_add(&mx, "x", "x", NULL, 1, &err);
	CHECK(bs_metrics_write(&mx, NULL, "x", &err) == 0); /* no directory: nothing to do */
	CHECK(bs_metrics_write(&mx, "/nonexistent/dir", "x", &err) < 0);
	CHECK_INT(err.code, BS_ERR_IO);
	CHECK(strstr(err.msg, "/nonexistent/dir/x.prom") != NULL);
}

int main(void)
{
	char cmd[300];
	int rc;

	if (!mkdtemp(dir)) {
		printf("not ok 1 - mkdtemp\n1..1\n");
		return 1;
	}
	RUN(write_format);
	RUN(round_trip);
	RUN(strict_reader_accepts);
	RUN(strict_reader_rejects);
	RUN(write_errors);
	rc = DONE();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return rc;
}
