/*
 * bind.h - bind a YAML mapping into a C struct from a declarative table.
 *
 * The second layer of configuration parsing.  A schema is an array of
 * struct bs_bind_field ending with an entry whose key is NULL; each entry
 * says where the value goes (offsetof into the struct) and what it must be.
 * bs_bind_table() walks a mapping node and, for every key:
 *
 *   - reports an unknown key at its position, with a "did you mean" or the
 *     list of valid keys as hint;
 *   - parses the value into the field, or reports a wrong type, a bad value
 *     or an out-of-range value at the value's position, naming the key path
 *     ("snap.jobs").
 *
 * Errors: a bad key or value does not stop the walk.  Each one (an error
 * of class 1xx: config, policy) is recorded in ctx->errors and binding goes
 * on with the next key, so a file reports every problem at once; when the
 * outermost bs_bind_table returns, a single error comes back as it is and
 * several as one error listing all of them (bs_yerrors_result).  Anything
 * else (out of memory) stops at once.  A nested bs_bind_table (TABLE
 * fields, custom binders) returns -1 after recording its errors, so the
 * binder that called it can skip the checks that span keys; the outer
 * table does not record that -1 a second time.  When any error was
 * recorded the struct holds part of the file: release it.  A document
 * loaded with BS_YAML_KEEP_GOING carries the loader's errors: pass them as
 * ctx->seed and they are reported first, with the binder's; nodes the
 * loader flagged `bad` are skipped.
 *
 * A null value ("key:" with nothing, "~", "null") leaves the field as it
 * was (its default).  Strings the binder stores are heap-allocated and owned
 * by the struct; bs_bind_release() frees them (wiping secret fields) and
 * resets the pointers to NULL.  Binding the same field twice replaces (and
 * frees) the previous value, so a struct can be bound from several layers.
 *
 * Types:
 *   STRING    char *                any scalar
 *   PATH      char *                a non-empty scalar; relative paths are made
 *                                   relative to ctx->base_dir (when set), except
 *                                   values containing "://" (URLs)
 *   STRBUF    char[size]            any scalar shorter than size (size = max)
 *   INT       int                   decimal integer in [min, max]
 *   BOOL      int (0/1)             true/false, yes/no, on/off (any case)
 *   DURATION  int64_t               bs_duration_parse ("30s", "1d12h") in
 *                                   [min, max] seconds, stored multiplied by
 *                                   `scale` (1: seconds, 1000: milliseconds)
 *   SIZE      uint64_t              bytes: "512", "64KiB", "8MiB", "1G" (units are
 *                                   powers of 1024; K=KB=KiB) in [min, max]
 *   STRLIST   char ** + size_t      a sequence of scalars; the count lives at
 *                                   count_offset; at most `max` items (0: 1024)
 *   ENUM      int                   one of the names in `enums`
 *   TABLE     nested struct         a mapping bound with `table` into the
 *                                   struct at offset
 *   CUSTOM    anything              `custom` is called with the node; if
 *                                   `table` is set, release uses it on the
 *                                   struct at offset
 *
 * Flags:
 *   BS_BIND_SECRET     the value is a secret: wiped on release, never logged.
 *   BS_BIND_SECRET_FILE the value names a file holding a secret (*_file
 *                      keys): if that file exists and is readable by group
 *                      or others, a warning is logged at bind time.
 *   BS_BIND_REQUIRED   the key must be present (and not null).
 *
 * `check` (optional, scalar types) validates the final text value and sets
 * err (without position; the binder adds it).  `hint` (optional) is added to
 * every error about the field.  `has_secret` (optional) says whether a value
 * written in the file itself carries a secret, e.g. a password in a conninfo
 * string: such values are counted in ctx->inline_secrets so the caller can
 * check the file's permissions.  It is called with the file's text, where
 * each ${VAR} reads as '' (an empty quoted value), since what the
 * environment supplies is not in the file.  `secret_what` names such a
 * secret in the caller's warning (default "a database password") and
 * `secret_fix` says where it belongs instead.
 */
#ifndef BS_CONFIG_BIND_H
#define BS_CONFIG_BIND_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "config/yaml_node.h"

enum bs_bind_type {
	BS_BIND_STRING = 1,
	BS_BIND_PATH,
	BS_BIND_STRBUF,
	BS_BIND_INT,
	BS_BIND_BOOL,
	BS_BIND_DURATION,
	BS_BIND_SIZE,
	BS_BIND_STRLIST,
	BS_BIND_ENUM,
	BS_BIND_TABLE,
	BS_BIND_CUSTOM,
};

#define BS_BIND_SECRET 0x1
#define BS_BIND_SECRET_FILE 0x2
#define BS_BIND_REQUIRED 0x4

#define BS_BIND_STRLIST_MAX 1024

struct bs_bind_enum {
	const char *name;
	int value;
};

struct bs_bind_ctx;
struct bs_bind_field;

/* Custom binder: node is the value (never NULL), keypath its dotted path,
 * base the struct being bound.  Returns 0 or -1 with err set. */
typedef int (*bs_bind_custom_fn)(struct bs_bind_ctx *ctx, const struct bs_bind_field *f,
				 const struct bs_ynode *node, const char *keypath, void *base,
				 struct bs_err *err);

struct bs_bind_field {
	const char *key;              /* NULL ends the table */
	enum bs_bind_type type;
	size_t offset;                /* offsetof(struct, member) */
	int flags;                    /* BS_BIND_SECRET | BS_BIND_SECRET_FILE | BS_BIND_REQUIRED */
	int64_t min, max;             /* INT, DURATION (seconds), SIZE; min == max == 0: no limit */
	int64_t scale;                /* DURATION: multiplier from seconds (0 = 1) */
	size_t size;                  /* STRBUF: buffer size */
	size_t count_offset;          /* STRLIST: offsetof the size_t count */
	const struct bs_bind_enum *enums;   /* ENUM: ends with name == NULL */
	const struct bs_bind_field *table;  /* TABLE, CUSTOM (for release) */
	bs_bind_custom_fn custom;           /* CUSTOM */
	int (*check)(const char *keypath, const char *value, struct bs_err *err);
	int (*has_secret)(const char *value);
	const char *secret_what, *secret_fix;
	const char *hint;             /* added to every error about this field */
};

struct bs_bind_ctx {
	/* in */
	const char *base_dir;         /* directory for relative PATH values, or NULL */
	int errcode;                  /* BS_ERR_CONFIG (0 means that) or BS_ERR_POLICY */
	void *user;                   /* for custom binders */
	/* out */
	int inline_secrets;           /* values in the file that hold a secret */
	unsigned secret_line;         /* where the first one is (1-based) */
	unsigned secret_column;
	const char *secret_what;      /* its field's secret_what, secret_fix */
	const char *secret_fix;
	/* every error of the file (see "Errors" above); reset by each outermost
	 * bs_bind_table to *seed (or to none), so a ctx may be used again */
	const struct bs_yerrors *seed; /* in: the loader's (doc->errors, loaded
					* with BS_YAML_KEEP_GOING), or NULL */
	struct bs_yerrors errors;
	int depth;                    /* bs_bind_table nesting (internal) */
};

/* Bind mapping node map (NULL or a null scalar: nothing to do) into base.
 * path is the key path of map for messages ("snap"), or NULL at top level. */
int bs_bind_table(struct bs_bind_ctx *ctx, const struct bs_bind_field *fields,
		  const struct bs_ynode *map, const char *path, void *base,
		  struct bs_err *err);

/* Bind one value node to one field (used by custom binders). */
int bs_bind_value(struct bs_bind_ctx *ctx, const struct bs_bind_field *f,
		  const struct bs_ynode *node, const char *keypath, void *base,
		  struct bs_err *err);

/* Bind a mapping of names to entries ('probes:', 'services:'): a null
 * value is nothing; any other kind than a mapping is an error ("'<keypath>'
 * must be a mapping of <what>", with hint as an example); every pair not
 * flagged bad by the loader goes to fn, whose error is recorded in ctx and
 * the walk goes on, so every bad entry is reported at once.  -1 when an
 * entry failed (or out of memory), else 0. */
typedef int (*bs_bind_entry_fn)(struct bs_bind_ctx *ctx, const struct bs_ypair *pair, const char *keypath, void *ud,
				struct bs_err *err);
int bs_bind_entries(struct bs_bind_ctx *ctx, const struct bs_ynode *node, const char *keypath, const char *what,
		    const char *hint, bs_bind_entry_fn fn, void *ud, struct bs_err *err);

/* Free what the binder stored in base for these fields (recursively). */
void bs_bind_release(const struct bs_bind_field *fields, void *base);

/* Parse a size ("8MiB") into bytes.  Returns 0 or -1 (err: BS_ERR_CONFIG). */
int bs_size_parse(const char *s, uint64_t *out, struct bs_err *err);
/* Format bytes with the largest exact binary unit: "8MiB", "1000B". */
char *bs_size_format(uint64_t bytes, char *buf, size_t n);

/* Parse a boolean: true/false, yes/no, on/off, any case.  Returns 0 or -1. */
int bs_bool_parse(const char *s, int *out);

/* Set err to "<file>:<line>:<col>: <message>" for the field at node, with
 * ctx's error code, and add the field's hint (f may be NULL).  Returns -1.
 * For custom binders. */
int bs_bind_error(struct bs_bind_ctx *ctx, const struct bs_bind_field *f,
		  const struct bs_ynode *node, struct bs_err *err, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Field table helpers. */
#define BS_BIND_F_STRING(k, T, m, fl)                                           \
	{ .key = (k), .type = BS_BIND_STRING, .offset = offsetof(T, m), .flags = (fl) }
#define BS_BIND_F_PATH(k, T, m, fl)                                             \
	{ .key = (k), .type = BS_BIND_PATH, .offset = offsetof(T, m), .flags = (fl) }
#define BS_BIND_F_INT(k, T, m, lo, hi)                                          \
	{ .key = (k), .type = BS_BIND_INT, .offset = offsetof(T, m), .min = (lo),  \
	  .max = (hi) }
#define BS_BIND_F_BOOL(k, T, m)                                                 \
	{ .key = (k), .type = BS_BIND_BOOL, .offset = offsetof(T, m) }
#define BS_BIND_F_DURATION(k, T, m, sc)                                         \
	{ .key = (k), .type = BS_BIND_DURATION, .offset = offsetof(T, m), .scale = (sc) }
#define BS_BIND_F_SIZE(k, T, m, lo, hi)                                         \
	{ .key = (k), .type = BS_BIND_SIZE, .offset = offsetof(T, m), .min = (lo), \
	  .max = (hi) }
#define BS_BIND_F_STRLIST(k, T, m, cnt)                                         \
	{ .key = (k), .type = BS_BIND_STRLIST, .offset = offsetof(T, m),          \
	  .count_offset = offsetof(T, cnt) }
#define BS_BIND_F_ENUM(k, T, m, names)                                          \
	{ .key = (k), .type = BS_BIND_ENUM, .offset = offsetof(T, m), .enums = (names) }
#define BS_BIND_F_TABLE(k, T, m, sub)                                           \
	{ .key = (k), .type = BS_BIND_TABLE, .offset = offsetof(T, m), .table = (sub) }
#define BS_BIND_F_END { .key = NULL }

#endif
