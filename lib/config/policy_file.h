/*
 * policy_file.h - read a retention policy from YAML.
 *
 * A policy file is a mapping of the keys below, at the top level or under
 * a single "retention:" key (so a section cut from backstop.yaml works as a
 * file too):
 *
 *   keep_last, keep_hourly, keep_daily, keep_weekly, keep_monthly,
 *   keep_yearly        counts: 0 turns the rule off, "unlimited" keeps every
 *                      bucket (BS_RETENTION_UNLIMITED); a key left out is
 *                      unset.  Negative numbers are refused, -1 included:
 *                      restic reads -1 as "unlimited", the struct as "unset".
 *   keep_within        duration ("30d"), measured back from the newest snapshot
 *   keep_window        duration, Barman-style recovery window from now
 *   min_keep           integer >= 0
 *   keep_newest        boolean
 *   keep_newest_verified boolean
 *   orphan_grace       duration
 *   timezone           IANA zone name ("UTC", "Europe/Paris")
 *
 * Files are read by the generic policy loader (policy_load.h); this module
 * is the field table and the rules of a retention policy.  Keys left out
 * keep bs_retention_policy_init() defaults.  After binding, the policy is
 * checked with bs_retention_policy_validate (an empty policy is an error).
 * Errors are BS_ERR_POLICY with "file:line:column: ...", every error of the
 * file at once (policy_load.h).
 * The same keys appear inline under "retention:" in backstop.yaml, where
 * "policy: FILE" may name a file instead.
 */
#ifndef BS_CONFIG_POLICY_FILE_H
#define BS_CONFIG_POLICY_FILE_H

#include "common/err.h"
#include "config/bind.h"
#include "config/yaml_node.h"
#include "retention/policy.h"

/* Initialize p with defaults, then read the file at path over it. */
int bs_retention_policy_load(struct bs_retention_policy *p, const char *path,
			     struct bs_err *err);

/* The same from a string (tests); name is used in positions. */
int bs_retention_policy_load_string(struct bs_retention_policy *p, const char *name,
				    const char *text, struct bs_err *err);

/* Bind the policy keys of a mapping node over p (no init).  keypath names
 * the mapping in messages ("retention"), or NULL at top level. */
int bs_retention_policy_bind(struct bs_bind_ctx *ctx, const struct bs_ynode *map,
			     const char *keypath, struct bs_retention_policy *p,
			     struct bs_err *err);

/* The schema, for other binders that embed a policy. */
extern const struct bs_bind_field bs_retention_policy_fields[];

#endif
