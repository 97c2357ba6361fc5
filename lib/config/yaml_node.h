/*
 * yaml_node.h - load one YAML document into a small tree of positioned nodes.
 *
 * The first layer of configuration parsing (backstop.yaml, retention and
 * drill policies, later gate and probe policies): libyaml reads the text, and
 * this module keeps only what the binders need:
 *
 *   - three kinds of node: mapping, sequence, scalar;
 *   - every node knows its file, line and column (1-based), so that every
 *     later error can say "backstop.yaml:7:3: ...";
 *   - mapping keys are scalars and unique: a duplicate key is an error
 *     naming both places;
 *   - ${VAR} interpolation is applied to scalar values (never to keys) at
 *     load time, unless BS_YAML_NO_ENV is given:
 *
 *         ${VAR}           value of VAR; an error if VAR is unset
 *         ${VAR:-default}  default when VAR is unset or empty
 *         ${VAR-default}   default when VAR is unset
 *         $$               a literal '$'
 *
 *     Any other '$' is an error (so that "$HOME/x" is not silently taken
 *     literally).  Interpolated text is not parsed as YAML again.
 *
 * Not supported, and reported as errors with a position: aliases (*name),
 * non-scalar keys, more than one document, nesting deeper than
 * BS_YAML_MAX_DEPTH, NUL bytes in scalars, files over BS_YAML_MAX_BYTES.
 *
 * Errors: a YAML syntax error stops the load (libyaml cannot go on).  The
 * other errors ("content errors": ${VAR} problems, duplicate keys, aliases,
 * non-scalar keys, NUL bytes, over-long values, a second document) are
 * recorded and loading goes on, a null node flagged `bad` standing in for
 * the value (a duplicate pair is dropped), so that every such error of a
 * file is reported at once; the load then fails with all of them (see
 * struct bs_yerrors), or with BS_YAML_KEEP_GOING returns the document with
 * them in doc->errors.  Nesting too deep and too many entries still stop
 * at once.
 *
 * Ownership: a struct bs_ydoc owns every node and string below it; free it
 * with bs_ydoc_free(), which wipes scalar text (it may hold secrets).
 * Errors are BS_ERR_CONFIG (BS_ERR_IO when the file cannot be read); the
 * policy loader (policy_load.h) turns them into BS_ERR_POLICY.
 */
#ifndef BS_CONFIG_YAML_NODE_H
#define BS_CONFIG_YAML_NODE_H

#include <stddef.h>
#include <sys/types.h>

#include "common/err.h"

#define BS_YAML_MAX_BYTES (1024 * 1024)     /* largest file or string accepted */
#define BS_YAML_MAX_DEPTH 64                 /* nesting of mappings/sequences */
#define BS_YAML_MAX_SCALAR (64 * 1024)       /* longest scalar after interpolation */
#define BS_YAML_MAX_KEYS 4096                /* keys in one mapping, items in one sequence */

/* flags for the loaders */
#define BS_YAML_NO_ENV 0x1 /* do not interpolate ${VAR} (text is taken as is) */
#define BS_YAML_KEEP_GOING 0x2 /* content errors (see below) do not fail the
				* load: they are left in doc->errors, for the
				* binder to report with its own (bind.h) */

/* ---- every error of a file at once ----------------------------------------
 *
 * A file is checked to the end, like pg_verifybackup: each error (with its
 * file:line:column) is recorded, and the caller gets one struct bs_err for
 * all of them.  With a single error that error is returned unchanged; with
 * several, the message is "<file>: N errors" and the detail lists each on
 * its own line ("<file>:<line>:<col>: <message>", then its own detail and
 * hint indented below it); entries that do not fit in the detail are
 * counted ("... and N more").  The code is the first error's.  No heap. */
struct bs_yerrors {
	unsigned count;                 /* errors recorded */
	unsigned listed;                /* of which written to text */
	struct bs_err first;            /* returned as is when it is the only one */
	char text[BS_ERR_DETAIL_MAX];   /* the listed entries */
};

void bs_yerrors_init(struct bs_yerrors *e);
/* Record err.  Returns 0, or -1 (nothing recorded) when err is not an
 * error about the file's content (class 1xx: exit status 2) but e.g. out
 * of memory or I/O: then the caller stops and returns err as it is. */
int bs_yerrors_add(struct bs_yerrors *e, const struct bs_err *err);
/* 0 when nothing was recorded; else -1 with err set as described above.
 * file names the file in the summary message (may be NULL). */
int bs_yerrors_result(const struct bs_yerrors *e, const char *file, struct bs_err *err);

enum bs_ynode_kind {
	BS_YNODE_SCALAR = 1,
	BS_YNODE_MAPPING,
	BS_YNODE_SEQUENCE,
};

struct bs_ynode;

struct bs_ypair {
	struct bs_ynode *key;   /* always a scalar */
	struct bs_ynode *value;
};

struct bs_ynode {
	enum bs_ynode_kind kind;
	const char *file;     /* owned by the document */
	unsigned line;        /* 1-based */
	unsigned column;      /* 1-based, in characters */

	/* BS_YNODE_SCALAR */
	char *value;          /* NUL-terminated text after interpolation */
	size_t len;           /* strlen(value) */
	char *raw;            /* the text before interpolation, or NULL if it had no '$' */
	int plain;            /* written without quotes (plain style) */
	int null;             /* plain and empty, "~" or "null": "no value" */
	int bad;              /* an error was recorded here while loading (a null
			       * scalar stands in): binders skip it */

	/* BS_YNODE_MAPPING: pairs in file order */
	struct bs_ypair *pairs;
	/* BS_YNODE_SEQUENCE: items in file order */
	struct bs_ynode **items;
	size_t count;         /* number of pairs or items */
};

struct bs_ydoc {
	char *file;           /* the name used in messages (path as given) */
	struct bs_ynode *root;/* NULL for an empty document (no content, or only "~") */
	int has_stat;         /* the fields below are valid (loaded from a file) */
	mode_t mode;          /* st_mode of the file */
	uid_t uid;            /* owner of the file */
	struct bs_yerrors errors; /* content errors, with BS_YAML_KEEP_GOING */
};

/* Load the file at path.  On success *out is a new document (free with
 * bs_ydoc_free).  A missing file is BS_ERR_IO with sys_errno ENOENT. */
int bs_ydoc_load_file(struct bs_ydoc **out, const char *path, unsigned flags,
		      struct bs_err *err);

/* Load from memory; name is used as the file name in positions. */
int bs_ydoc_load_string(struct bs_ydoc **out, const char *name, const char *text,
			size_t len, unsigned flags, struct bs_err *err);

/* Free the document and every node; wipes scalar text.  NULL is a no-op. */
void bs_ydoc_free(struct bs_ydoc *doc);

/* The value for key in a mapping node, or NULL (also when map is not a mapping). */
const struct bs_ynode *bs_ynode_get(const struct bs_ynode *map, const char *key);
/* A policy file may hold its mapping bare or under one top-level key
 * ("retention:", "drill:").  Returns the mapping to bind and sets *keypath
 * to key when it was wrapped (NULL otherwise), for error positions. */
const struct bs_ynode *bs_ynode_unwrap(const struct bs_ynode *root, const char *key,
				       const char **keypath);
/* The key node for key in a mapping node, or NULL. */
const struct bs_ynode *bs_ynode_key(const struct bs_ynode *map, const char *key);

/* "a mapping", "a sequence", "a scalar" (for messages). */
const char *bs_ynode_kind_name(const struct bs_ynode *node);

/* Set err to "<file>:<line>:<col>: <message>".  Returns -1. */
int bs_ynode_error(struct bs_err *err, int code, const struct bs_ynode *node,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
