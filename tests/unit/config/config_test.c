/* config_test.c - lib/config/config.c: backstop.yaml, search order, env layer. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "harness.h"

#define DATA "tests/data/config/"

static struct bs_err err;
static struct bs_config cfg;

static const char *const env_vars[] = {
	"BACKSTOP_CONFIG",        "BACKSTOP_DB",      "BACKSTOP_REPO",
	"BACKSTOP_JOBS",          "BACKSTOP_SCRATCH", "BACKSTOP_IDENTITY_FILE",
	"BACKSTOP_PASSPHRASE_FILE",
};

static void clear_env(void)
{
	size_t i;

	for (i = 0; i < sizeof(env_vars) / sizeof(env_vars[0]); i++)
		unsetenv(env_vars[i]);
}

static int load(const char *path)
{
	bs_config_release(&cfg);
	bs_err_init(&err);
	return bs_config_load(&cfg, path, &err);
}

/* Capture what the library logs to stderr while running fn. */
static char captured[4096];

static void capture(void (*fn)(void))
{
	FILE *tmp = tmpfile();
	int saved;
	ssize_t n;

	fflush(stderr);
	saved = dup(2);
	dup2(fileno(tmp), 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = (ssize_t)fread(captured, 1, sizeof(captured) - 1, tmp);
	captured[n > 0 ? n : 0] = '\0';
	fclose(tmp);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return;
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

TEST(defaults)
{
	bs_config_init(&cfg);
	CHECK(cfg.config_path == NULL);
	CHECK(cfg.database == NULL && cfg.repository == NULL);
	CHECK_INT(cfg.snap.jobs, 0);
	CHECK_INT(cfg.snap.compress_level, 3);
	CHECK(cfg.snap.chunk_size == 8ULL << 20);
	CHECK_INT(cfg.snap.lock_timeout_ms, 30000);
	CHECK(cfg.snap.pg_bindir == NULL);
	CHECK_INT(cfg.snap.prune, 0);
	CHECK_INT(cfg.encryption.mode, BS_ENC_UNSET);
	CHECK_INT(cfg.encryption.recipients_count, 0);
	CHECK_INT(cfg.restore.jobs, 0);
	CHECK_INT(cfg.has_retention, 0);
	CHECK_INT(cfg.retention.keep_daily, BS_RETENTION_UNSET);
	CHECK_INT(cfg.retention.min_keep, 1);
	CHECK_INT(cfg.drill.keep, 0);
	CHECK_INT(cfg.drill.max_rto_ms, 0);
	CHECK_INT(cfg.log_level, BS_LOG_INFO);
	CHECK_INT(cfg.has_log_level, 0);
}

TEST(full_good_config)
{
	clear_env();
	CHECK_INT(load(DATA "good.yaml"), 0);
	CHECK_STR(err.msg, "");
	CHECK_STR(cfg.config_path, DATA "good.yaml");
	CHECK_STR(cfg.database, "postgresql://app@db/app");
	CHECK_STR(cfg.repository, "/var/backups/backstop");
	CHECK_INT(cfg.snap.jobs, 4);
	CHECK_INT(cfg.snap.compress_level, 5);
	CHECK(cfg.snap.chunk_size == 16ULL << 20);
	CHECK_INT(cfg.snap.lock_timeout_ms, 60000);
	CHECK_STR(cfg.snap.pg_bindir, "/usr/lib/postgresql/15/bin");
	CHECK_INT(cfg.snap.prune, 1);

	CHECK_INT(cfg.encryption.mode, BS_ENC_AGE);
	CHECK_INT(cfg.encryption.recipients_count, 2);
	if (cfg.encryption.recipients_count == 2) {
		CHECK_STR(cfg.encryption.recipients[0],
			  "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p");
		CHECK_STR(cfg.encryption.recipients[1],
			  "age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg");
	}
	CHECK_STR(cfg.encryption.recipients_file, "/etc/backstop/recipients.txt");
	/* relative paths resolve against the config file's directory */
	CHECK_STR(cfg.encryption.passphrase_file, DATA "secrets/passphrase");

	CHECK_STR(cfg.restore.target, "postgresql://postgres@db/app_restored");
	CHECK_INT(cfg.restore.jobs, 8);
	CHECK_STR(cfg.restore.identity_file, "/etc/backstop/restore-key.txt");
	CHECK_STR(cfg.restore.passphrase_file, "/etc/backstop/pass");

	CHECK_INT(cfg.has_retention, 1);
	CHECK(cfg.retention_path == NULL);
	CHECK_INT(cfg.retention.keep_last, 3);
	CHECK_INT(cfg.retention.keep_hourly, BS_RETENTION_UNSET);
	CHECK_INT(cfg.retention.keep_daily, 7);
	CHECK_INT(cfg.retention.keep_weekly, 4);
	CHECK_INT(cfg.retention.keep_monthly, BS_RETENTION_UNLIMITED);
	CHECK_INT(cfg.retention.keep_within, 2 * 86400);
	CHECK_INT(cfg.retention.min_keep, 2);
	CHECK_INT(cfg.retention.keep_newest, 1);
	CHECK_INT(cfg.retention.keep_newest_verified, 0);
	CHECK_INT(cfg.retention.orphan_grace, 12 * 3600);
	CHECK_STR(cfg.retention.timezone, "UTC");

	CHECK_STR(cfg.drill.scratch, "postgresql://drill@scratch/postgres");
	CHECK_STR(cfg.drill.policy, DATA "policies/drill.yaml");
	CHECK_INT(cfg.drill.keep, 1);
	CHECK_INT(cfg.drill.max_rto_ms, 15 * 60 * 1000);
	CHECK_INT(cfg.drill.max_snapshot_age_ms, 26LL * 3600 * 1000);

	CHECK_STR(cfg.hooks.pre_snap, "/etc/backstop/hooks/pre-snap");
	CHECK_STR(cfg.hooks.post_snap, DATA "hooks/post-snap");
	CHECK_STR(cfg.hooks.on_failure, "/etc/backstop/hooks/on-failure");
	CHECK_INT(cfg.log_level, BS_LOG_DEBUG);
	CHECK_INT(cfg.has_log_level, 1);

	bs_config_release(&cfg);
	CHECK(cfg.database == NULL && cfg.encryption.recipients == NULL);
	CHECK(cfg.config_path == NULL);
	CHECK_INT(cfg.encryption.recipients_count, 0);
	CHECK_INT(cfg.snap.compress_level, 3);
	bs_config_release(&cfg); /* twice is fine */
}

TEST(empty_file_and_encryption_none)
{
	clear_env();
	CHECK_INT(load(DATA "empty.yaml"), 0);
	CHECK_STR(cfg.config_path, DATA "empty.yaml");
	CHECK_INT(cfg.encryption.mode, BS_ENC_UNSET);
	CHECK_INT(cfg.snap.compress_level, 3);
	CHECK_INT(load(DATA "enc_none.yaml"), 0);
	CHECK_INT(cfg.encryption.mode, BS_ENC_NONE);
	CHECK_INT(cfg.encryption.recipients_count, 0);
	bs_config_release(&cfg);
}

TEST(retention_policy_path)
{
	clear_env();
	CHECK_INT(load(DATA "retention_path.yaml"), 0);
	CHECK_INT(cfg.has_retention, 1);
	CHECK_STR(cfg.retention_path, DATA "policies/retention.yaml");
	CHECK_INT(cfg.retention.keep_daily, 35);
	CHECK_INT(cfg.retention.keep_window, 30 * 86400);

	CHECK_INT(load(DATA "retention_bad_path.yaml"), -1);
	CHECK_INT(err.code, BS_ERR_POLICY);
	CHECK_STR(err.msg, DATA "policies/retention_bad.yaml:2:14: negative count -3 for "
				"'keep_weekly'");
	CHECK_STR(err.detail, "the policy file is named by 'retention.policy' at " DATA
			      "retention_bad_path.yaml:2:11");
	bs_config_release(&cfg);
}

TEST(interpolation)
{
	clear_env();
	setenv("BS_TEST_JOBS", "6", 1);
	setenv("BS_TEST_EMPTY", "", 1);
	unsetenv("BS_TEST_UNSET_DB");
	CHECK_INT(load(DATA "env.yaml"), 0);
	CHECK_STR(err.msg, "");
	CHECK_STR(cfg.database, "postgresql://localhost/app");
	CHECK_STR(cfg.repository, "/srv/${X}/backups");
	CHECK_INT(cfg.snap.jobs, 6);
	/* ${VAR-default}: the default only when unset */
	CHECK_STR(cfg.snap.pg_bindir, "/usr/lib/postgresql/15/bin");
	CHECK_STR(cfg.drill.scratch, "postgresql://scratch/postgres");
	/* set but empty: an empty plain value is "no value", the default stands */
	setenv("BS_TEST_BINDIR", "", 1);
	CHECK_INT(load(DATA "env.yaml"), 0);
	CHECK(cfg.snap.pg_bindir == NULL);
	setenv("BS_TEST_BINDIR", "/opt/pg/bin", 1);
	CHECK_INT(load(DATA "env.yaml"), 0);
	CHECK_STR(cfg.snap.pg_bindir, "/opt/pg/bin");
	unsetenv("BS_TEST_BINDIR");

	setenv("BS_TEST_JOBS", "65", 1);
	CHECK_INT(load(DATA "env.yaml"), -1);
	CHECK_STR(err.msg, DATA "env.yaml:4:9: value 65 for 'snap.jobs' is out of range (1..64)");
	unsetenv("BS_TEST_JOBS");
	CHECK_INT(load(DATA "env.yaml"), -1);
	CHECK_STR(err.msg, DATA "env.yaml:4:9: environment variable 'BS_TEST_JOBS' is not set");
	unsetenv("BS_TEST_EMPTY");
	bs_config_release(&cfg);
}

/* Each bad fixture, the exact message, and a piece of the hint (or NULL). */
static const struct {
	const char *file;
	int code;
	const char *msg;
	const char *hint;
} bad[] = {
	{"bad_unknown_top.yaml", BS_ERR_CONFIG, "2:1: unknown key 'databse'",
	 "did you mean 'database'?"},
	{"bad_unknown_nested.yaml", BS_ERR_CONFIG, "7:3: unknown key 'jbos' in 'snap'",
	 "did you mean 'jobs'?"},
	{"bad_unknown_far.yaml", BS_ERR_CONFIG, "2:3: unknown key 'frobnicate' in 'snap'",
	 "valid keys in 'snap' are: jobs, compress_level, chunk_size, lock_timeout, pg_bindir, "
	 "prune"},
	{"bad_int.yaml", BS_ERR_CONFIG, "2:9: invalid integer 'abc' for 'snap.jobs'", NULL},
	{"bad_bool.yaml", BS_ERR_CONFIG, "2:10: invalid boolean 'maybe' for 'snap.prune'",
	 "true or false"},
	{"bad_range.yaml", BS_ERR_CONFIG, "2:9: value 100 for 'snap.jobs' is out of range (1..64)",
	 NULL},
	{"bad_range_level.yaml", BS_ERR_CONFIG,
	 "2:19: value 0 for 'snap.compress_level' is out of range (1..19)", NULL},
	{"bad_duplicate.yaml", BS_ERR_CONFIG, "4:1: duplicate key 'snap'", NULL},
	{"bad_duplicate_nested.yaml", BS_ERR_CONFIG, "4:3: duplicate key 'jobs'", NULL},
	{"bad_size.yaml", BS_ERR_CONFIG,
	 "2:15: invalid size '8 mebibytes' for 'snap.chunk_size': unknown unit", "MiB"},
	{"bad_size_range.yaml", BS_ERR_CONFIG,
	 "2:15: size 1KiB for 'snap.chunk_size' is out of range (64KiB..256MiB)", NULL},
	{"bad_duration.yaml", BS_ERR_CONFIG,
	 "2:17: invalid duration '30 seconds' for 'snap.lock_timeout': unknown unit",
	 "'m' means minutes"},
	{"bad_duration_negative.yaml", BS_ERR_CONFIG,
	 "2:12: invalid duration '-5m' for 'drill.max_rto': negative durations are not allowed",
	 NULL},
	{"bad_env_unset.yaml", BS_ERR_CONFIG,
	 "1:29: environment variable 'BS_TEST_UNSET_HOST' is not set",
	 "${BS_TEST_UNSET_HOST:-default}"},
	{"bad_dollar.yaml", BS_ERR_CONFIG, "1:19: '$' must be followed by '{' or '$'", "'$$'"},
	{"bad_env_unterminated.yaml", BS_ERR_CONFIG, "1:18: unterminated '${' (missing '}')",
	 NULL},
	{"bad_encryption_scalar.yaml", BS_ERR_CONFIG, "1:13: invalid value 'yes' for 'encryption'",
	 "encryption: none"},
	{"bad_encryption_sequence.yaml", BS_ERR_CONFIG,
	 "2:3: expected 'none' or a mapping for 'encryption', got a sequence", NULL},
	{"bad_encryption_empty.yaml", BS_ERR_CONFIG, "2:3: 'encryption' names no recipients",
	 "recipients_file"},
	{"bad_recipients_scalar.yaml", BS_ERR_CONFIG,
	 "2:15: expected a list of strings for 'encryption.recipients', got a scalar", "[value]"},
	{"bad_recipient.yaml", BS_ERR_CONFIG,
	 "3:7: 'ssh-rsa AAAAB3Nza' in 'encryption.recipients' is not an age recipient", "age1"},
	{"bad_recipient_secret.yaml", BS_ERR_CONFIG,
	 "3:7: a secret key was given in 'encryption.recipients'", "identity_file"},
	{"bad_scalar_for_mapping.yaml", BS_ERR_CONFIG,
	 "2:7: expected a mapping for 'snap', got a scalar", "indented under 'snap:'"},
	{"bad_mapping_for_scalar.yaml", BS_ERR_CONFIG,
	 "2:3: expected a string for 'database', got a mapping", "postgresql://"},
	{"bad_top_sequence.yaml", BS_ERR_CONFIG,
	 "1:1: expected a mapping at the top level, got a sequence", NULL},
	{"bad_syntax.yaml", BS_ERR_CONFIG, "3:2: invalid YAML: did not find expected key", NULL},
	{"bad_syntax_flow.yaml", BS_ERR_CONFIG,
	 "3:1: invalid YAML: did not find expected ',' or ']'", NULL},
	/* the alias, and the unknown key 'defaults' holding the anchor */
	{"bad_alias.yaml", BS_ERR_CONFIG, " 2 errors", NULL},
	{"bad_two_docs.yaml", BS_ERR_CONFIG, "3:1: more than one YAML document", NULL},
	{"bad_log_level.yaml", BS_ERR_CONFIG, "1:12: invalid value 'loud' for 'log_level'",
	 "error, warn, info, debug"},
	{"bad_empty_path.yaml", BS_ERR_CONFIG, "2:13: empty path for 'hooks.pre_snap'", NULL},
	{"bad_retention_negative.yaml", BS_ERR_POLICY,
	 "2:15: negative count -2 for 'retention.keep_daily'", "'unlimited'"},
	{"bad_retention_minus_one.yaml", BS_ERR_POLICY,
	 "2:15: negative count -1 for 'retention.keep_daily'", "restic's -1"},
	{"bad_retention_mixed.yaml", BS_ERR_POLICY,
	 "3:3: 'keep_daily' cannot be combined with 'policy' in 'retention'", NULL},
	{"bad_retention_scalar.yaml", BS_ERR_POLICY,
	 "1:12: expected a mapping for 'retention', got a scalar", "policy: FILE"},
	{"bad_retention_unknown.yaml", BS_ERR_POLICY,
	 "2:3: unknown key 'keep_dialy' in 'retention'", "did you mean 'keep_daily'?"},
	{"bad_retention_missing.yaml", BS_ERR_POLICY,
	 "2:11: unable to read retention policy '" DATA "policies/missing.yaml': "
	 "No such file or directory", NULL},
	{"bad_retention_empty.yaml", BS_ERR_POLICY,
	 "2:3: invalid retention policy: no keep rule is set (empty policy)", "keep_daily"},
};

static size_t bad_i;

static void bad_fixture(void)
{
	char want[1024];

	clear_env();
	unsetenv("BS_TEST_UNSET_HOST");
	setenv("BS_TEST_JOBS", "2", 1);
	snprintf(want, sizeof(want), DATA "%s:%s", bad[bad_i].file, bad[bad_i].msg);
	snprintf(captured, sizeof(captured), DATA "%s", bad[bad_i].file);
	CHECK_INT(load(captured), -1);
	CHECK_INT(err.code, bad[bad_i].code);
	CHECK_STR(err.msg, want);
	if (bad[bad_i].hint && !strstr(err.hint, bad[bad_i].hint)) {
		printf("#   hint \"%s\" lacks \"%s\"\n", err.hint, bad[bad_i].hint);
		CHECK(0);
	}
	/* every configuration error maps to exit code 2 */
	CHECK_INT(bs_err_exit_code(&err), 2);
	unsetenv("BS_TEST_JOBS");
	bs_config_release(&cfg);
}

TEST(duplicate_detail)
{
	CHECK_INT(load(DATA "bad_duplicate.yaml"), -1);
	CHECK_STR(err.detail, "'snap' is first defined at " DATA "bad_duplicate.yaml:1:1");
	CHECK_INT(load(DATA "bad_syntax.yaml"), -1);
	CHECK_STR(err.detail, "while parsing a block mapping at " DATA "bad_syntax.yaml:1:1");
	bs_config_release(&cfg);
}

TEST(apply_env)
{
	clear_env();
	CHECK_INT(load(DATA "good.yaml"), 0);
	/* nothing set: the file stands */
	CHECK_INT(bs_config_apply_env(&cfg, &err), 0);
	CHECK_STR(cfg.database, "postgresql://app@db/app");
	CHECK_INT(cfg.snap.jobs, 4);

	setenv("BACKSTOP_DB", "postgresql://env@db/app", 1);
	setenv("BACKSTOP_REPO", "/srv/env-repo", 1);
	setenv("BACKSTOP_JOBS", "12", 1);
	setenv("BACKSTOP_IDENTITY_FILE", "/run/secrets/identity", 1);
	setenv("BACKSTOP_PASSPHRASE_FILE", "/run/secrets/pass", 1);
	setenv("BACKSTOP_SCRATCH", "postgresql://env@scratch/postgres", 1);
	CHECK_INT(bs_config_apply_env(&cfg, &err), 0);
	CHECK_STR(cfg.database, "postgresql://env@db/app");
	CHECK_STR(cfg.repository, "/srv/env-repo");
	CHECK_INT(cfg.snap.jobs, 12);
	CHECK_INT(cfg.restore.jobs, 12);
	CHECK_STR(cfg.restore.identity_file, "/run/secrets/identity");
	CHECK_STR(cfg.encryption.passphrase_file, "/run/secrets/pass");
	CHECK_STR(cfg.restore.passphrase_file, "/run/secrets/pass");
	CHECK_INT(cfg.encryption.mode, BS_ENC_AGE);
	CHECK_STR(cfg.drill.scratch, "postgresql://env@scratch/postgres");
	/* untouched by the environment */
	CHECK_INT(cfg.snap.compress_level, 5);

	/* a passphrase from the environment turns encryption on over "none" */
	CHECK_INT(load(DATA "enc_none.yaml"), 0);
	CHECK_INT(bs_config_apply_env(&cfg, &err), 0);
	CHECK_INT(cfg.encryption.mode, BS_ENC_AGE);

	/* empty variables are ignored */
	clear_env();
	setenv("BACKSTOP_DB", "", 1);
	CHECK_INT(load(DATA "good.yaml"), 0);
	CHECK_INT(bs_config_apply_env(&cfg, &err), 0);
	CHECK_STR(cfg.database, "postgresql://app@db/app");

	/* bad values */
	setenv("BACKSTOP_JOBS", "many", 1);
	bs_err_init(&err);
	CHECK_INT(bs_config_apply_env(&cfg, &err), -1);
	CHECK_INT(err.code, BS_ERR_CONFIG);
	CHECK_STR(err.msg, "invalid BACKSTOP_JOBS 'many': expected an integer from 1 to 64");
	setenv("BACKSTOP_JOBS", "0", 1);
	CHECK_INT(bs_config_apply_env(&cfg, &err), -1);
	setenv("BACKSTOP_JOBS", "65", 1);
	CHECK_INT(bs_config_apply_env(&cfg, &err), -1);
	CHECK_INT(cfg.snap.jobs, 4);
	clear_env();

	/* command line last: a command overrides with bs_config_set_string */
	CHECK_INT(bs_config_set_string(&cfg.database, "postgresql://flag@db/app", &err), 0);
	CHECK_STR(cfg.database, "postgresql://flag@db/app");
	CHECK_INT(bs_config_set_string(&cfg.database, NULL, &err), 0);
	CHECK(cfg.database == NULL);
	bs_config_release(&cfg);
}

static char tmpdir[64];
static char oldcwd[PATH_MAX];

static int enter_tmpdir(void)
{
	strcpy(tmpdir, "/tmp/bs-config-test-XXXXXX");
	if (!mkdtemp(tmpdir) || !getcwd(oldcwd, sizeof(oldcwd)) || chdir(tmpdir) < 0)
		return -1;
	return 0;
}

static void leave_tmpdir(void)
{
	if (chdir(oldcwd) < 0)
		return;
}

static void rm_tmp(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	unlink(path);
}

TEST(search_order)
{
	struct stat st;
	char other[PATH_MAX];

	clear_env();
	if (enter_tmpdir() < 0) {
		CHECK(0);
		return;
	}
	/* nothing found: defaults, unless /etc/backstop/backstop.yaml exists here */
	if (stat(BS_CONFIG_ETC_PATH, &st) != 0) {
		CHECK_INT(load(NULL), 0);
		CHECK(cfg.config_path == NULL);
		CHECK_INT(cfg.snap.compress_level, 3);
	}

	/* ./backstop.yaml */
	write_file("backstop.yaml", "snap:\n  jobs: 3\ndrill:\n  policy: policies/d.yaml\n", 0600);
	CHECK_INT(load(NULL), 0);
	CHECK_STR(cfg.config_path, "backstop.yaml");
	CHECK_INT(cfg.snap.jobs, 3);
	CHECK_STR(cfg.drill.policy, "policies/d.yaml");

	/* $BACKSTOP_CONFIG over ./backstop.yaml */
	write_file("other.yaml", "snap:\n  jobs: 5\n", 0600);
	snprintf(other, sizeof(other), "%s/other.yaml", tmpdir);
	setenv("BACKSTOP_CONFIG", other, 1);
	CHECK_INT(load(NULL), 0);
	CHECK_STR(cfg.config_path, other);
	CHECK_INT(cfg.snap.jobs, 5);

	/* --config over $BACKSTOP_CONFIG */
	CHECK_INT(load("backstop.yaml"), 0);
	CHECK_INT(cfg.snap.jobs, 3);

	/* an explicit path that does not exist is an error */
	CHECK_INT(load("missing.yaml"), -1);
	CHECK_INT(err.code, BS_ERR_CONFIG);
	CHECK_STR(err.msg, "unable to open config file 'missing.yaml': No such file or directory");
	CHECK_INT(bs_err_exit_code(&err), 2);

	/* so is a $BACKSTOP_CONFIG that does not exist */
	setenv("BACKSTOP_CONFIG", "missing.yaml", 1);
	CHECK_INT(load(NULL), -1);
	CHECK_STR(err.msg, "unable to open config file 'missing.yaml': No such file or directory");
	CHECK(strstr(err.hint, "BACKSTOP_CONFIG") != NULL);
	/* an empty one is ignored */
	setenv("BACKSTOP_CONFIG", "", 1);
	CHECK_INT(load(NULL), 0);
	CHECK_STR(cfg.config_path, "backstop.yaml");
	unsetenv("BACKSTOP_CONFIG");

	/* a directory where the file should be */
	CHECK_INT(load("."), -1);
	CHECK_INT(err.code, BS_ERR_CONFIG);

	bs_config_release(&cfg);
	rm_tmp("backstop.yaml");
	rm_tmp("other.yaml");
	leave_tmpdir();
	rmdir(tmpdir);
}

static void load_password_file(void)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/pw.yaml", tmpdir);
	CHECK_INT(load(path), 0);
}

TEST(password_permissions)
{
	char path[PATH_MAX];

	clear_env();
	strcpy(tmpdir, "/tmp/bs-config-test-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		CHECK(0);
		return;
	}
	snprintf(path, sizeof(path), "%s/pw.yaml", tmpdir);

	/* a password in a readable file: warned, with its position */
	write_file(path, "repository: /r\ndatabase: \"postgresql://app:s3cret@db/app\"\n", 0644);
	capture(load_password_file);
	CHECK(strstr(captured, "warning: ") != NULL);
	CHECK(strstr(captured, "pw.yaml:2:11: this config file holds a database password and is "
			       "accessible by group or others (mode 0644)") != NULL);
	CHECK(strstr(captured, "s3cret") == NULL); /* never the secret itself */

	/* private: quiet */
	chmod(path, 0600);
	capture(load_password_file);
	CHECK_STR(captured, "");

	/* no password: quiet */
	write_file(path, "database: \"postgresql://app@db/app\"\n", 0644);
	capture(load_password_file);
	CHECK_STR(captured, "");

	/* the password comes from the environment, not the file: quiet */
	write_file(path, "database: \"host=db password=${BS_TEST_PW:-x} dbname=app\"\n", 0644);
	capture(load_password_file);
	CHECK_STR(captured, "");
	write_file(path, "database: \"postgresql://app:${BS_TEST_PW:-x}@db/app\"\n", 0644);
	capture(load_password_file);
	CHECK_STR(captured, "");
	write_file(path, "database: \"postgresql://app:pw@${BS_TEST_HOST:-db}/app\"\n", 0644);
	capture(load_password_file);
	CHECK(strstr(captured, "pw.yaml:1:11: this config file holds a database password") != NULL);
	write_file(path, "database: \"host=db password=x dbname=app\"\n", 0644);
	capture(load_password_file);
	CHECK(strstr(captured, "pw.yaml:1:11: this config file holds a database password") != NULL);

	bs_config_release(&cfg);
	unlink(path);
	rmdir(tmpdir);
}

TEST(conninfo_password)
{
	static const struct {
		const char *s;
		int want;
	} cases[] = {
		{"postgresql://app@db/app", 0},
		{"postgresql://app:pw@db/app", 1},
		{"postgres://app:pw@db:5432/app?sslmode=require", 1},
		{"postgresql://app:@db/app", 0},
		{"postgresql://db/app?user=x&password=y", 1},
		{"postgresql://db/app?password=", 0},
		{"postgresql://db/app?x=1&password=y", 1},
		{"postgresql://db:5432/app", 0},
		{"postgresql://db/a:b@c", 0},
		{"host=db dbname=app", 0},
		{"host=db password=x dbname=app", 1},
		{"password = x", 1},
		{"host=db password= dbname=app", 1}, /* libpq: password is "dbname=app" */
		{"host=db password='' dbname=app", 0},
		{"postgresql://app:''@db/app", 0},
		{"postgresql://db/app?password=''", 0},
		{"password=''", 0},
		{"host=db password=", 0},
		{"host=db passwordfile=x", 0},
		{"host=db passfile=/x", 0},
		{"", 0},
	};
	size_t i;

	CHECK_INT(bs_conninfo_has_password(NULL), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (bs_conninfo_has_password(cases[i].s) != cases[i].want) {
			printf("#   '%s': want %d\n", cases[i].s, cases[i].want);
			CHECK(0);
		}
	}
}

TEST(read_secret)
{
	char path[64];
	char *s = NULL;
	size_t len = 0;
	int fd;

	strcpy(path, "/tmp/bs-secret-test-XXXXXX");
	fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK(write(fd, "correct horse\n", 14) == 14);
	close(fd);
	chmod(path, 0600);
	bs_err_init(&err);
	CHECK_INT(bs_config_read_secret(path, &s, &len, &err), 0);
	CHECK_STR(s, "correct horse");
	CHECK_INT(len, 13);
	bs_config_free_secret(s, len);

	chmod(path, 0644);
	CHECK_INT(bs_config_read_secret(path, &s, &len, &err), -1);
	CHECK(s == NULL);
	CHECK_INT(err.code, BS_ERR_SECRET_PERM);
	CHECK(strstr(err.msg, "is accessible by group or others (mode 0644)") != NULL);
	CHECK(strstr(err.hint, "chmod 600") != NULL);

	fd = open(path, O_WRONLY | O_TRUNC);
	close(fd);
	chmod(path, 0400);
	CHECK_INT(bs_config_read_secret(path, &s, &len, &err), -1);
	CHECK(strstr(err.msg, "is empty") != NULL);
	unlink(path);

	CHECK_INT(bs_config_read_secret(path, &s, &len, &err), -1);
	CHECK_INT(err.code, BS_ERR_NOT_FOUND);
	bs_config_free_secret(NULL, 0);
}

TEST(load_string)
{
	bs_config_release(&cfg);
	bs_err_init(&err);
	CHECK_INT(bs_config_load_string(&cfg, "inline.yaml", "hooks:\n  pre_snap: hooks/pre\n",
					"/etc/backstop", &err),
		  0);
	CHECK_STR(cfg.hooks.pre_snap, "/etc/backstop/hooks/pre");
	CHECK(cfg.config_path == NULL);
	CHECK_INT(bs_config_load_string(&cfg, "inline.yaml", "hooks: {pre_snap: 1, bad: 2}\n",
					NULL, &err),
		  -1);
	CHECK_STR(err.msg, "inline.yaml:1:22: unknown key 'bad' in 'hooks'");
	bs_config_release(&cfg);
}

/* The shipped example must stay loadable. */
TEST(shipped_example)
{
	clear_env();
	CHECK_INT(load("contrib/backstop.yaml.example"), 0);
	CHECK_STR(err.msg, "");
	CHECK_STR(cfg.database, "postgresql://backup@db.internal/app");
	CHECK_INT(cfg.encryption.mode, BS_ENC_AGE);
	CHECK_INT(cfg.encryption.recipients_count, 1);
	CHECK_INT(cfg.has_retention, 1);
	CHECK_INT(cfg.retention.keep_yearly, BS_RETENTION_UNLIMITED);
	CHECK_INT(cfg.drill.max_rto_ms, 15 * 60 * 1000);
	CHECK_INT(cfg.log_level, BS_LOG_INFO);
	bs_config_release(&cfg);
}

/* A config file reports every error at once, each with file:line:column;
 * minutes stay minutes outside retention. */
TEST(every_error_reported)
{
	bs_config_release(&cfg);
	bs_err_init(&err);
	CHECK_INT(bs_config_load_string(&cfg, "c.yaml",
					"snap:\n"
					"  jbos: 4\n"
					"  compress_level: 25\n"
					"  lock_timeout: 30m\n"
					"repository: /var/backups\n"
					"drill:\n"
					"  max_rto: soon\n"
					"retention:\n"
					"  keep_within: 6m\n",
					NULL, &err),
		  -1);
	CHECK_INT(err.code, BS_ERR_CONFIG);
	CHECK_STR(err.msg, "c.yaml: 4 errors");
	CHECK(strstr(err.detail, "c.yaml:2:3: unknown key 'jbos' in 'snap'\n") == err.detail);
	CHECK(strstr(err.detail, "hint: did you mean 'jobs'?") != NULL);
	CHECK(strstr(err.detail, "c.yaml:3:19: value 25 for 'snap.compress_level' is out of range (1..19)") !=
	      NULL);
	CHECK(strstr(err.detail, "c.yaml:7:12: invalid duration 'soon' for 'drill.max_rto'") != NULL);
	CHECK(strstr(err.detail, "c.yaml:9:16: ambiguous unit 'm' in '6m' for 'retention.keep_within'") !=
	      NULL);
	CHECK(strstr(err.detail, "lock_timeout") == NULL);
	bs_config_release(&cfg);

	/* the loader's errors (unset variables, a duplicate key, an alias) and
	 * the binder's, in one report: the loader's first */
	unsetenv("BS_TEST_UNSET_A");
	unsetenv("BS_TEST_UNSET_B");
	bs_err_init(&err);
	CHECK_INT(bs_config_load_string(&cfg, "c.yaml",
					"database: ${BS_TEST_UNSET_A}\n"
					"snap:\n"
					"  jobs: 2\n"
					"  jobs: 3\n"
					"  compress_level: *x\n"
					"  pg_bindir: /x/${BS_TEST_UNSET_B}\n"
					"  prune: maybe\n"
					"hooks:\n"
					"  pre_snap: [a]\n",
					NULL, &err),
		  -1);
	CHECK_INT(err.code, BS_ERR_CONFIG);
	CHECK_STR(err.msg, "c.yaml: 6 errors");
	CHECK(strstr(err.detail, "c.yaml:1:11: environment variable 'BS_TEST_UNSET_A' is not set") ==
	      err.detail);
	CHECK(strstr(err.detail, "c.yaml:4:3: duplicate key 'jobs'") != NULL);
	CHECK(strstr(err.detail, "'jobs' is first defined at c.yaml:3:3") != NULL);
	CHECK(strstr(err.detail, "c.yaml:5:19: YAML aliases (*x) are not supported") != NULL);
	CHECK(strstr(err.detail, "c.yaml:6:17: environment variable 'BS_TEST_UNSET_B' is not set") !=
	      NULL);
	CHECK(strstr(err.detail, "c.yaml:7:10: invalid boolean 'maybe' for 'snap.prune'") != NULL);
	CHECK(strstr(err.detail, "c.yaml:9:13: expected a path for 'hooks.pre_snap', got a sequence") !=
	      NULL);
	CHECK(strstr(err.detail, "compress_level") == NULL);
	bs_config_release(&cfg);

	/* a syntax error after content errors: all of them */
	bs_err_init(&err);
	CHECK_INT(bs_config_load_string(&cfg, "c.yaml", "database: ${BS_TEST_UNSET_A}\nsnap: [1\n",
					NULL, &err),
		  -1);
	CHECK_STR(err.msg, "c.yaml: 2 errors");
	CHECK(strstr(err.detail, "c.yaml:1:11: environment variable") == err.detail);
	CHECK(strstr(err.detail, "invalid YAML") != NULL);
	bs_config_release(&cfg);

	/* lock_timeout: 30m is thirty minutes */
	bs_err_init(&err);
	CHECK_INT(bs_config_load_string(&cfg, "c.yaml", "snap:\n  lock_timeout: 30m\n", NULL, &err), 0);
	CHECK_INT(cfg.snap.lock_timeout_ms, 30 * 60 * 1000);
	bs_config_release(&cfg);
}

int main(void)
{
	char name[128];

	RUN(defaults);
	RUN(full_good_config);
	RUN(empty_file_and_encryption_none);
	RUN(retention_policy_path);
	RUN(interpolation);
	for (bad_i = 0; bad_i < sizeof(bad) / sizeof(bad[0]); bad_i++) {
		snprintf(name, sizeof(name), "bad fixture %s", bad[bad_i].file);
		RUN_NAMED(name, bad_fixture);
	}
	RUN(duplicate_detail);
	RUN(apply_env);
	RUN(search_order);
	RUN(password_permissions);
	RUN(conninfo_password);
	RUN(read_secret);
	RUN(load_string);
	RUN(shipped_example);
	RUN(every_error_reported);
	return DONE();
}
