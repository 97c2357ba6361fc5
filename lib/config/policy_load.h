/*
 * policy_load.h - read a policy file (retention, drill; later probe, gate,
 * rollback) into a C struct: the one loader every policy kind uses.
 *
 * A policy kind is described once, by a struct bs_policy_kind: its field
 * table (bind.h), the optional top-level key it may be wrapped in, an
 * optional "kind:" / "version:" header, and hooks to initialize, release
 * and validate the struct.  The loader does everything else, the same way
 * for every kind:
 *
 *   1. dest is initialized (kind->init);
 *   2. the file is read with yaml_node.h: at most BS_YAML_MAX_BYTES, a
 *      regular file, one document, ${VAR} interpolated, content errors
 *      (duplicate keys, unset variables, aliases, a second document) kept
 *      to be reported with the binder's (BS_YAML_KEEP_GOING);
 *   3. the policy mapping is found: the document's top level, or the value
 *      of a single top-level key kind->section ("retention:"), so that a
 *      section cut from backstop.yaml works as a file too;
 *   4. the header is checked, when the kind has one: "kind: NAME" (if
 *      present) must be kind->kind, and "version: N" (if present; absent
 *      means 1) must be in 1..kind->max_version.  A wrong header stops the
 *      load before the other keys are bound (a newer format's keys would
 *      only read as unknown);
 *   5. the mapping is bound with bs_bind_table (kind->fields): unknown keys
 *      (with "did you mean"), wrong types, bad or out-of-range values and
 *      missing required keys, each at its file:line:column with its key
 *      path ("retention.keep_daily"), every error of the file at once;
 *   6. the kind's own semantic checks run (kind->validate), once the whole
 *      file bound cleanly.
 *
 * Errors: 0 or -1 with err set.  Every error about the file's content, and
 * a file that cannot be read, is BS_ERR_POLICY (exit status 2); only
 * running out of memory keeps its own code.  Messages:
 *
 *   unable to read <what> '<path>': <strerror>      open/stat/read failed
 *   '<path>' is too large (over 1048576 bytes)       size limit
 *   '<path>' is not a regular file
 *   <file>:<line>:<col>: <message>                   one content error
 *   <file>: N errors                                 several (listed in detail)
 *   <file>: missing required key '<key>'             an empty file
 *
 * Ownership: dest is the caller's.  What the binder stores in it (strings,
 * lists) is owned by dest and freed by kind->release (or, without one, by
 * bs_bind_release(kind->fields, dest)).  On failure dest is released and
 * initialized again, so it owns nothing; on success the caller releases it.
 *
 * Usage (a made-up "probe" policy):
 *
 *     static const struct bs_bind_field probe_fields[] = {
 *             BS_BIND_F_STRING("url", struct probe, url, BS_BIND_REQUIRED),
 *             BS_BIND_F_DURATION("timeout", struct probe, timeout_ms, 1000),
 *             BS_BIND_F_END,
 *     };
 *     static const struct bs_policy_kind probe_kind = {
 *             .what = "probe policy", .section = "probe", .kind = "probe",
 *             .max_version = 1, .fields = probe_fields,
 *             .init = probe_init, .validate = probe_validate,
 *     };
 *     rc = bs_policy_load(&probe_kind, path, &probe, &err);
 */
#ifndef BS_CONFIG_POLICY_LOAD_H
#define BS_CONFIG_POLICY_LOAD_H

#include <stddef.h>

#include "common/err.h"
#include "config/bind.h"
#include "config/yaml_node.h"

/* What kind->validate is told about the file. */
struct bs_policy_src {
	const char *file;             /* the name used in messages (path as given) */
	const struct bs_ynode *map;   /* the policy mapping; NULL for an empty file */
	const char *keypath;          /* kind->section when the file was wrapped, else NULL */
	int version;                  /* the "version:" read, or 1 */
};

struct bs_policy_kind {
	const char *what;             /* "retention policy": "unable to read <what> '<path>'" */
	const char *section;          /* the key the mapping may be wrapped in, or NULL */
	const char *kind;             /* "kind:" value the file may carry, or NULL: no "kind:" key */
	int max_version;              /* newest "version:" understood; 0: no "version:" key */
	const struct bs_bind_field *fields; /* the schema (bind.h) */
	/* Optional hooks.  init sets defaults (without it dest is left as
	 * given); release frees what dest owns (default: bs_bind_release with
	 * fields); validate checks rules that span keys once the file bound
	 * cleanly, and returns 0 or -1 with err set (a complete message: use
	 * src->file or bs_ynode_error for the position). */
	void (*init)(void *dest);
	void (*release)(void *dest);
	int (*validate)(void *dest, const struct bs_policy_src *src, struct bs_err *err);
};

/* Initialize dest (kind->init) and read the policy file at path into it. */
int bs_policy_load(const struct bs_policy_kind *kind, const char *path, void *dest, struct bs_err *err);

/* The same from memory (tests, fuzzing); name is used as the file name in
 * messages.  text need not be NUL-terminated. */
int bs_policy_load_buf(const struct bs_policy_kind *kind, const char *name, const char *text, size_t len,
		       void *dest, struct bs_err *err);

#endif
