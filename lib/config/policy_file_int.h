/*
 * policy_file_int.h - internal to lib/config: the "retention:" section of
 * backstop.yaml.
 */
#ifndef BS_CONFIG_POLICY_FILE_INT_H
#define BS_CONFIG_POLICY_FILE_INT_H

#include "config/bind.h"
#include "retention/policy.h"

/* Bind a "retention:" value: a mapping of policy keys (bound over p), or a
 * mapping with only "policy: FILE" (the file is loaded into p, which is
 * re-initialized, and *policy_path replaced by the resolved path).  A null
 * node does nothing.  Returns 1 if a policy was given, 0 if not, -1 on error
 * (BS_ERR_POLICY). */
int bs_retention_section_bind(struct bs_bind_ctx *ctx, const struct bs_ynode *node,
			      const char *keypath, struct bs_retention_policy *p,
			      char **policy_path, struct bs_err *err);

#endif
