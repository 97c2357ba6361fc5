/*
 * fuzz_config.c - backstop.yaml through bs_config_load, the loader every
 * command runs: libyaml, the node tree (anchors, aliases, duplicate keys,
 * ${VAR} interpolation, NUL bytes, long values), the binder (types, ranges,
 * sizes, durations, booleans), the encryption and retention sections and
 * the recipient checks.
 *
 * The input is written to a file in a private temporary directory, so
 * relative paths in it (retention: policy: FILE) resolve there and find
 * nothing.  ${VAR} sees the fuzzer's environment: BS_FUZZ_VAR is set to a
 * short value so that the seeds reach the success path of interpolation.
 *
 * Properties: a failure sets a message and is a configuration error
 * (exit 2) or an I/O error naming a file (exit 3); release frees
 * everything (the leak checker runs after every input).
 */
#include "config/config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bs_config cfg;
	struct bs_err err;
	const char *path;
	int rc;

	fuzz_quiet();
	setenv("BS_FUZZ_VAR", "fuzz", 0);
	path = fuzz_write_file("backstop.yaml", data, size);
	bs_err_init(&err);
	bs_config_init(&cfg);
	rc = bs_config_load(&cfg, path, &err);
	fuzz_check_err(rc, &err);
	if (rc < 0 && err.code != BS_ERR_IO && err.code != BS_ERR_NOMEM && bs_err_exit_code(&err) != 2) {
		fprintf(stderr, "config error of class %s: %s\n", bs_err_name(err.code), err.msg);
		FUZZ_ASSERT(0);
	}
	if (rc == 0 && cfg.has_retention) {
		bs_err_init(&err);
		FUZZ_ASSERT(bs_retention_policy_validate(&cfg.retention, &err) == 0);
	}
	bs_config_release(&cfg);
	return 0;
}
