/* repository_test.c - lib/config/config.c: 'repository:' as a path or a mapping. */
#include <stdlib.h>
#include <string.h>

#include "command/setup.h"
#include "config/config.h"
#include "harness.h"
#include "repo/repo.h"

static struct bs_err err;
static struct bs_config cfg;

static int load(const char *text)
{
	bs_config_release(&cfg);
	bs_config_init(&cfg);
	bs_err_init(&err);
	return bs_config_load_string(&cfg, "backstop.yaml", text, "/etc/backstop", &err);
}

TEST(a_plain_path_is_still_accepted)
{
	CHECK_INT(load("repository: /var/backups/backstop\n"), 0);
	CHECK_STR(cfg.repository, "/var/backups/backstop");
	CHECK_INT(load("repository: backups\n"), 0);
	CHECK_STR(cfg.repository, "/etc/backstop/backups");
	CHECK_INT(load("repository:\n"), 0);
	CHECK(cfg.repository == NULL);
}

TEST(a_mapping_with_a_path)
{
	CHECK_INT(load("repository:\n  path: /srv/backups\n"), 0);
	CHECK_STR(cfg.repository, "/srv/backups");
	CHECK_STR(cfg.repo.path, "/srv/backups");
	CHECK_INT(load("repository: { path: rel }\n"), 0);
	CHECK_STR(cfg.repository, "/etc/backstop/rel");
}

TEST(a_bucket_opens_the_s3_backend)
{
	struct bs_repo *r = NULL;

	CHECK_INT(load("repository:\n  bucket: acme-backups\n  prefix: prod/\n  region: eu-west-1\n"
		       "  endpoint: https://s3.example.com\n  part_size: 64MiB\n  retries: 5\n"
		       "  retry_timeout: 2m\n  stall_timeout: 45s\n"),
		  0);
	CHECK_STR(cfg.repository, "s3://acme-backups/prod/");
	CHECK_STR(cfg.repo.bucket, "acme-backups");
	CHECK_STR(cfg.repo.region, "eu-west-1");
	CHECK_STR(cfg.repo.endpoint, "https://s3.example.com");
	CHECK(cfg.repo.part_size == 64ULL << 20);
	CHECK_INT(cfg.repo.retries, 5);
	CHECK_INT(cfg.repo.retry_timeout_ms, 120000);
	CHECK_INT(cfg.repo.stall_timeout_ms, 45000);
	/* the S3 backend opens it; without credentials it stops before any
	 * request, naming what is missing and where it comes from */
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
	setenv("HOME", "/nonexistent-backstop-home", 1);
	bs_err_init(&err);
	CHECK_INT(bs_cmd_repo_open(&cfg, &r, &err), -1);
	CHECK(r == NULL);
	CHECK_INT(err.code, BS_ERR_CONFIG);
	CHECK(strstr(err.msg, "no S3 credentials for bucket 'acme-backups' at https://s3.example.com") != NULL);
	CHECK(strstr(err.hint, "AWS_ACCESS_KEY_ID") != NULL);
	/* so does repo init: nothing is created */
	bs_err_init(&err);
	CHECK_INT(bs_cmd_repo_init(&cfg, &(int){ 0 }, &r, &err), -1);
	CHECK_INT(err.code, BS_ERR_CONFIG);
}

TEST(an_azure_container)
{
	CHECK_INT(load("repository: { account: acme, container: prod, sas_token_file: /etc/sas }\n"), 0);
	CHECK_STR(cfg.repository, "azure://acme/prod/");
	CHECK_STR(cfg.repo.sas_token_file, "/etc/sas");
	/* the Azure backend opens it; without credentials it stops before any
	 * request, naming what is missing */
	{
		struct bs_repo *r = NULL;
		unsetenv("AZURE_STORAGE_KEY");
		unsetenv("AZURE_STORAGE_SAS_TOKEN");
		unsetenv("AZURE_STORAGE_ACCOUNT");
		CHECK_INT(load("repository: { account: acme, container: prod }\n"), 0);
		bs_err_init(&err);
		CHECK_INT(bs_cmd_repo_open(&cfg, &r, &err), -1);
		CHECK(r == NULL);
		CHECK_INT(err.code, BS_ERR_CONFIG);
		CHECK(strstr(err.msg, "no Azure credentials for container 'prod' of account 'acme'") != NULL);
	}
	CHECK_INT(load("repository: { container: prod }\n"), -1);
	CHECK_INT(err.code, BS_ERR_CONFIG);
	CHECK(strstr(err.msg, "'repository.container' needs 'repository.account'") != NULL);
}

TEST(mistakes_are_reported_where_they_are)
{
	CHECK_INT(load("repository:\n  path: /a\n  bucket: b\n"), -1);
	CHECK_INT(err.code, BS_ERR_CONFIG);
	CHECK(strstr(err.msg, "backstop.yaml:2:3: 'repository' names more than one") != NULL);
	CHECK_INT(load("repository:\n  region: x\n"), -1);
	CHECK(strstr(err.msg, "names no 'path', 'bucket' or 'container'") != NULL);
	CHECK_INT(load("repository:\n  path: /a\n  endpoint: https://x\n"), -1);
	CHECK(strstr(err.msg, "'repository.endpoint' applies to object storage") != NULL);
	CHECK_INT(load("repository:\n  paht: /a\n"), -1);
	CHECK(strstr(err.msg, "backstop.yaml:2:3: unknown key 'paht' in 'repository'") != NULL);
	CHECK(strstr(err.hint, "path") != NULL);
	CHECK_INT(load("repository:\n  bucket: b\n  part_size: 1MiB\n"), -1);
	CHECK(strstr(err.msg, "repository.part_size") != NULL);
	CHECK_INT(load("repository:\n  bucket: b\n  storage_class: DEEP_ARCHIVE\n"), -1);
	CHECK(strstr(err.msg, "backstop.yaml:3:18: 'repository.storage_class' is 'DEEP_ARCHIVE': objects of that class "
			      "must be restored before they can be read") != NULL);
	CHECK(strstr(err.hint, "lifecycle rule") != NULL);
	CHECK_INT(load("repository:\n  bucket: b\n  storage_class: GLACIER_IR\n"), 0);
	CHECK_INT(load("repository:\n  - /a\n"), -1);
	CHECK(strstr(err.msg, "expected a path or a mapping for 'repository'") != NULL);
	CHECK(cfg.repository == NULL);
}

TEST(named_repositories)
{
	CHECK_INT(load("repositories:\n"
		       "  local: { path: backups, retention: keep.yaml }\n"
		       "  offsite:\n"
		       "    s3: { bucket: acme-backups, prefix: prod/, region: eu-west-1 }\n"
		       "    retention: /etc/keep-long.yaml\n"
		       "  url: s3://other/x?endpoint=http://127.0.0.1:9000\n"),
		  0);
	CHECK_INT((int)cfg.nrepos, 3);
	/* the primary is selected */
	CHECK_INT(cfg.selected_repo, 0);
	CHECK_STR(cfg.repository, "/etc/backstop/backups");
	CHECK_STR(cfg.repo.retention, "/etc/backstop/keep.yaml");
	CHECK_STR(cfg.repos[1].location, "s3://acme-backups/prod/");
	CHECK_STR(cfg.repos[1].repo.region, "eu-west-1");
	CHECK_STR(cfg.repos[2].location, "s3://other/x?endpoint=http://127.0.0.1:9000");
	/* by name: a deep copy, the entry untouched */
	CHECK_INT(bs_config_select_repo(&cfg, "offsite", &err), 1);
	CHECK_STR(cfg.repository, "s3://acme-backups/prod/");
	CHECK_STR(cfg.repo.bucket, "acme-backups");
	CHECK_STR(cfg.repo.retention, "/etc/keep-long.yaml");
	CHECK(cfg.repo.bucket != cfg.repos[1].repo.bucket);
	CHECK_INT(bs_config_select_repo(&cfg, "nowhere", &err), 0);
	CHECK_STR(cfg.repository, "s3://acme-backups/prod/");

	CHECK_INT(load("repositories:\n  Bad: /x\n"), -1);
	CHECK(strstr(err.msg, "repository name 'Bad' is not 1 to 32 of a-z") != NULL);
	CHECK_INT(load("repositories:\n  a: /x\n  b: /x\n"), -1);
	CHECK(strstr(err.msg, "'repositories.b' is the same repository as 'repositories.a'") != NULL);
	CHECK_INT(load("repositories:\n  a: { s3: { container: c, account: x } }\n"), -1);
	CHECK(strstr(err.msg, "'repositories.a.s3' needs 'bucket'") != NULL);
	CHECK_INT(load("repository: /x\nrepositories:\n  a: /y\n"), -1);
	CHECK(strstr(err.msg, "'repository' and 'repositories' are both set") != NULL);
	CHECK_INT(load("repository: { path: /x, retention: /k.yaml }\n"), -1);
	CHECK(strstr(err.msg, "'repository.retention' belongs to an entry of 'repositories:'") != NULL);
	CHECK_INT(load("repositories: []\n"), -1);
	CHECK(strstr(err.msg, "expected a mapping of repository names") != NULL);
}

int main(void)
{
	RUN(a_plain_path_is_still_accepted);
	RUN(a_mapping_with_a_path);
	RUN(a_bucket_opens_the_s3_backend);
	RUN(an_azure_container);
	RUN(mistakes_are_reported_where_they_are);
	RUN(named_repositories);
	bs_config_release(&cfg);
	return DONE();
}
