/* bind.c - see bind.h */
#include "config/bind.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "common/duration.h"
#include "common/log.h"
#include "common/secret.h"

#define KEYPATH_MAX 256

static int errcode(const struct bs_bind_ctx *ctx)
{
	return ctx && ctx->errcode ? ctx->errcode : BS_ERR_CONFIG;
}

int bs_bind_error(struct bs_bind_ctx *ctx, const struct bs_bind_field *f,
		  const struct bs_ynode *node, struct bs_err *err, const char *fmt, ...)
{
	char msg[BS_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	bs_ynode_error(err, errcode(ctx), node, "%s", msg);
	if (f && f->hint)
		bs_err_hint(err, "%s", f->hint);
	return -1;
}

/* ---- scalar parsers ---------------------------------------------------- */

int bs_bool_parse(const char *s, int *out)
{
	static const char *const yes[] = {"true", "yes", "on"};
	static const char *const no[] = {"false", "no", "off"};
	size_t i;

	for (i = 0; i < 3; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static const struct {
	const char *name;
	uint64_t mult;
} size_units[] = {
	{"", 1},
	{"b", 1},
	{"k", 1ULL << 10}, {"kb", 1ULL << 10}, {"kib", 1ULL << 10},
	{"m", 1ULL << 20}, {"mb", 1ULL << 20}, {"mib", 1ULL << 20},
	{"g", 1ULL << 30}, {"gb", 1ULL << 30}, {"gib", 1ULL << 30},
	{"t", 1ULL << 40}, {"tb", 1ULL << 40}, {"tib", 1ULL << 40},
};

static int size_bad(struct bs_err *err, const char *s, const char *why)
{
	bs_err_set(err, BS_ERR_CONFIG, "invalid size '%s': %s", s, why);
	bs_err_hint(err, "write a number of bytes with an optional unit B, KiB, MiB, "
			 "GiB or TiB (powers of 1024), e.g. '8MiB'");
	return -1;
}

int bs_size_parse(const char *s, uint64_t *out, struct bs_err *err)
{
	const char *p = s;
	uint64_t num = 0;
	size_t i;

	if (!s || !*s)
		return size_bad(err, s ? s : "", "empty value");
	if (*p < '0' || *p > '9')
		return size_bad(err, s, *p == '-' ? "negative sizes are not allowed"
						 : "expected a number");
	while (*p >= '0' && *p <= '9') {
		unsigned d = (unsigned)(*p - '0');

		if (num > (UINT64_MAX - d) / 10)
			return size_bad(err, s, "value too large");
		num = num * 10 + d;
		p++;
	}
	if (*p == ' ')
		p++;
	for (i = 0; i < sizeof(size_units) / sizeof(size_units[0]); i++) {
		if (strcasecmp(p, size_units[i].name) == 0) {
			if (num > UINT64_MAX / size_units[i].mult)
				return size_bad(err, s, "value too large");
			*out = num * size_units[i].mult;
			return 0;
		}
	}
	return size_bad(err, s, *p == '.' ? "fractions are not allowed" : "unknown unit");
}

char *bs_size_format(uint64_t bytes, char *buf, size_t n)
{
	static const struct {
		const char *unit;
		unsigned shift;
	} u[] = {{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}};
	size_t i;

	if (n == 0)
		return buf;
	for (i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		if (bytes && bytes % (1ULL << u[i].shift) == 0) {
			snprintf(buf, n, "%" PRIu64 "%s", bytes >> u[i].shift, u[i].unit);
			return buf;
		}
	}
	snprintf(buf, n, "%" PRIu64 "B", bytes);
	return buf;
}

static int parse_int(const char *s, long long *out)
{
	char *end;

	if (!*s || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	*out = strtoll(s, &end, 10);
	if (errno || *end)
		return -1;
	return 0;
}

/* ---- key suggestions ---------------------------------------------------- */

/* Optimal string alignment distance (Levenshtein plus adjacent
 * transpositions), case-insensitive; capped for long strings. */
static size_t osa_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t d[33][33];

	if (la > 32 || lb > 32)
		return SIZE_MAX;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]);
			int cb = tolower((unsigned char)b[j - 1]);
			size_t cost = ca != cb, v;

			v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 &&
			    ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

static void unknown_key_hint(const struct bs_bind_field *fields, const char *key,
			     const char *path, struct bs_err *err)
{
	const struct bs_bind_field *f, *best = NULL;
	size_t best_d = SIZE_MAX, limit = strlen(key) >= 6 ? 2 : 1;
	char list[BS_ERR_HINT_MAX];
	size_t n = 0;

	for (f = fields; f->key; f++) {
		size_t d = osa_distance(key, f->key);

		if (d < best_d) {
			best_d = d;
			best = f;
		}
	}
	if (best && best_d <= limit) {
		bs_err_hint(err, "did you mean '%s'?", best->key);
		return;
	}
	list[0] = '\0';
	for (f = fields; f->key && n < sizeof(list); f++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", n ? ", " : "", f->key);
	if (path)
		bs_err_hint(err, "valid keys in '%s' are: %s", path, list);
	else
		bs_err_hint(err, "valid keys are: %s", list);
}

/* ---- binding ----------------------------------------------------------- */

static const char *type_desc(const struct bs_bind_field *f)
{
	switch (f->type) {
	case BS_BIND_STRING:
	case BS_BIND_STRBUF:
		return "a string";
	case BS_BIND_PATH:
		return "a path";
	case BS_BIND_INT:
		return "an integer";
	case BS_BIND_BOOL:
		return "a boolean";
	case BS_BIND_DURATION:
		return "a duration";
	case BS_BIND_SIZE:
		return "a size";
	case BS_BIND_STRLIST:
		return "a list of strings";
	case BS_BIND_ENUM:
		return "a name";
	case BS_BIND_TABLE:
		return "a mapping";
	case BS_BIND_CUSTOM:
		return "a value";
	}
	return "a value";
}

static int wrong_kind(struct bs_bind_ctx *ctx, const struct bs_bind_field *f,
		      const struct bs_ynode *node, const char *keypath, struct bs_err *err)
{
	return bs_bind_error(ctx, f, node, err, "expected %s for '%s', got %s", type_desc(f),
			     keypath, bs_ynode_kind_name(node));
}

/* The file's own text of a scalar: the raw text with $$ unescaped and each
 * ${...} shown as '' (an empty quoted value): what the environment supplies
 * is not in the file. */
static char *file_text(const struct bs_ynode *n)
{
	const char *s = n->raw;
	char *out, *o;

	if (!s)
		return strdup(n->value);
	out = o = malloc(2 * strlen(s) + 1);
	if (!out)
		return NULL;
	while (*s) {
		if (s[0] == '$' && s[1] == '$') {
			*o++ = '$';
			s += 2;
		} else if (s[0] == '$' && s[1] == '{') {
			const char *close = strchr(s, '}');

			*o++ = '\'';
			*o++ = '\'';
			s = close ? close + 1 : s + strlen(s);
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	return out;
}

static void note_secret(struct bs_bind_ctx *ctx, const struct bs_bind_field *f,
			const struct bs_ynode *n)
{
	char *text;

	if (!ctx || !f->has_secret)
		return;
	text = file_text(n);
	if (text && f->has_secret(text)) {
		if (!ctx->inline_secrets++) {
			ctx->secret_line = n->line;
			ctx->secret_column = n->column;
			ctx->secret_what = f->secret_what;
			ctx->secret_fix = f->secret_fix;
		}
	}
	bs_secret_free(text);
}

static void check_secret_file(const struct bs_bind_field *f, const struct bs_ynode *n,
			      const char *keypath, const char *path)
{
	struct stat st;

	if (!(f->flags & BS_BIND_SECRET_FILE) || stat(path, &st) < 0)
		return;
	if (S_ISREG(st.st_mode) && (st.st_mode & (S_IRWXG | S_IRWXO)))
		bs_warn("%s:%u:%u: secret file '%s' (%s) is accessible by group or others "
			"(mode %04o); run 'chmod 600 %s'",
			n->file, n->line, n->column, path, keypath,
			(unsigned)(st.st_mode & 07777), path);
}

static int store_string(const struct bs_bind_field *f, void *base, char *s)
{
	char **slot = (char **)((char *)base + f->offset);

	if (f->flags & BS_BIND_SECRET)
		bs_secret_free(*slot);
	else
		free(*slot);
	*slot = s;
	return 0;
}

static char *resolve_path(const struct bs_bind_ctx *ctx, const char *v)
{
	char *out;
	size_t n;

	if (!ctx || !ctx->base_dir || !*ctx->base_dir || v[0] == '/' ||
	    strstr(v, "://") || strcmp(ctx->base_dir, ".") == 0)
		return strdup(v);
	n = strlen(ctx->base_dir) + 1 + strlen(v) + 1;
	out = malloc(n);
	if (out)
		snprintf(out, n, "%s%s%s", ctx->base_dir,
			 ctx->base_dir[strlen(ctx->base_dir) - 1] == '/' ? "" : "/", v);
	return out;
}

static int bind_strlist(struct bs_bind_ctx *ctx, const struct bs_bind_field *f,
			const struct bs_ynode *node, const char *keypath, void *base,
			struct bs_err *err)
{
	char ***slot = (char ***)((char *)base + f->offset);
	size_t *count = (size_t *)((char *)base + f->count_offset);
	size_t max = f->max > 0 ? (size_t)f->max : BS_BIND_STRLIST_MAX, i;
	char **list;

	if (node->kind != BS_YNODE_SEQUENCE) {
		wrong_kind(ctx, f, node, keypath, err);
		if (!f->hint)
			bs_err_hint(err, "write '[value]' for a single item");
		return -1;
	}
	if (node->count > max)
		return bs_bind_error(ctx, f, node, err, "too many items in '%s' (at most %zu)",
				     keypath, max);
	list = calloc(node->count + 1, sizeof(*list));
	if (!list)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	for (i = 0; i < node->count; i++) {
		const struct bs_ynode *it = node->items[i];

		if (it->bad) {
			list[i] = strdup("");
			if (!list[i]) {
				bs_err_set(err, BS_ERR_NOMEM, "out of memory");
				goto fail;
			}
			continue;
		}
		if (it->kind != BS_YNODE_SCALAR) {
			bs_bind_error(ctx, f, it, err, "expected a string in '%s', got %s",
				      keypath, bs_ynode_kind_name(it));
			goto fail;
		}
		if (it->null || !*it->value) {
			bs_bind_error(ctx, f, it, err, "empty item in '%s'", keypath);
			goto fail;
		}
		if (f->check && f->check(keypath, it->value, err) < 0) {
			bs_err_prefix(err, "%s:%u:%u", it->file, it->line, it->column);
			err->code = errcode(ctx);
			if (f->hint)
				bs_err_hint(err, "%s", f->hint);
			goto fail;
		}
		note_secret(ctx, f, it);
		list[i] = strdup(it->value);
		if (!list[i]) {
			bs_err_set(err, BS_ERR_NOMEM, "out of memory");
			goto fail;
		}
	}
	if (*slot) {
		for (i = 0; i < *count; i++)
			bs_secret_free((*slot)[i]);
		free(*slot);
	}
	*slot = list;
	*count = node->count;
	return 0;
fail:
	for (i = 0; i < node->count; i++)
		bs_secret_free(list[i]);
	free(list);
	return -1;
}

static int range_error(struct bs_bind_ctx *ctx, const struct bs_bind_field *f,
		       const struct bs_ynode *node, const char *keypath, const char *what,
		       const char *val, const char *lo, const char *hi, struct bs_err *err)
{
	if (hi)
		return bs_bind_error(ctx, f, node, err,
				     "%s %s for '%s' is out of range (%s..%s)", what, val,
				     keypath, lo, hi);
	return bs_bind_error(ctx, f, node, err,
			     "%s %s for '%s' is out of range (minimum %s)", what, val,
			     keypath, lo);
}

static int bind_int(struct bs_bind_ctx *ctx, const struct bs_bind_field *f, const struct bs_ynode *node,
		 const char *keypath, const char *v, void *slot, int limited, struct bs_err *err)
{
	long long n;
	char val[32], lo[32], hi[32];
	long long min = limited ? f->min : INT_MIN, max = limited ? f->max : INT_MAX;

	if (parse_int(v, &n) < 0) {
		bs_bind_error(ctx, f, node, err, "invalid integer '%s' for '%s'", v,
			      keypath);
		if (!f->hint)
			bs_err_hint(err, "write a whole number in decimal, e.g. '4'");
		return -1;
	}
	if (n < min || n > max || n < INT_MIN || n > INT_MAX) {
		snprintf(val, sizeof(val), "%lld", n);
		snprintf(lo, sizeof(lo), "%lld", min);
		snprintf(hi, sizeof(hi), "%lld", max);
		return range_error(ctx, f, node, keypath, "value", val, lo,
				   limited && max >= INT_MAX ? NULL : hi, err);
	}
	*(int *)slot = (int)n;
	return 0;
}

static int bind_bool(struct bs_bind_ctx *ctx, const struct bs_bind_field *f, const struct bs_ynode *node,
		 const char *keypath, const char *v, void *slot, int limited, struct bs_err *err)
{
	int b;

	if (bs_bool_parse(v, &b) < 0) {
		bs_bind_error(ctx, f, node, err, "invalid boolean '%s' for '%s'", v,
			      keypath);
		if (!f->hint)
			bs_err_hint(err, "write true or false");
		return -1;
	}
	*(int *)slot = b;
	return 0;
}

static int bind_enum(struct bs_bind_ctx *ctx, const struct bs_bind_field *f, const struct bs_ynode *node,
		 const char *keypath, const char *v, void *slot, int limited, struct bs_err *err)
{
	const struct bs_bind_enum *e;
	char list[BS_ERR_HINT_MAX];
	size_t n = 0;

	for (e = f->enums; e->name; e++) {
		if (strcasecmp(v, e->name) == 0) {
			*(int *)slot = e->value;
			return 0;
		}
	}
	list[0] = '\0';
	for (e = f->enums; e->name && n < sizeof(list); e++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
				      n ? ", " : "", e->name);
	bs_bind_error(ctx, f, node, err, "invalid value '%s' for '%s'", v, keypath);
	if (!f->hint)
		bs_err_hint(err, "expected one of: %s", list);
	return -1;
}

static int bind_duration(struct bs_bind_ctx *ctx, const struct bs_bind_field *f, const struct bs_ynode *node,
		 const char *keypath, const char *v, void *slot, int limited, struct bs_err *err)
{
	struct bs_err derr;
	int64_t secs, scale = f->scale > 0 ? f->scale : 1;
	char lo[BS_DURATION_FMT_MAX], hi[BS_DURATION_FMT_MAX], val[BS_DURATION_FMT_MAX];

	bs_err_init(&derr);
	if (bs_duration_parse(v, &secs, &derr) < 0) {
		/* reword "invalid duration 'x': why" to name the key */
		const char *why = derr.msg;
		char prefix[BS_ERR_MSG_MAX];

		snprintf(prefix, sizeof(prefix), "invalid duration '%s': ", v);
		if (strncmp(derr.msg, prefix, strlen(prefix)) == 0)
			why = derr.msg + strlen(prefix);
		bs_bind_error(ctx, f, node, err, "invalid duration '%s' for '%s': %s", v,
			      keypath, why);
		if (!f->hint && derr.hint[0])
			bs_err_hint(err, "%s", derr.hint);
		return -1;
	}
	if (limited && (secs < f->min || (f->max && secs > f->max))) {
		bs_duration_format(secs, val, sizeof(val));
		bs_duration_format(f->min, lo, sizeof(lo));
		bs_duration_format(f->max, hi, sizeof(hi));
		return range_error(ctx, f, node, keypath, "duration", val, lo,
				   f->max ? hi : NULL, err);
	}
	if (secs > INT64_MAX / scale)
		return bs_bind_error(ctx, f, node, err, "duration '%s' for '%s' is too large",
				     v, keypath);
	*(int64_t *)slot = secs * scale;
	return 0;
}

static int bind_size(struct bs_bind_ctx *ctx, const struct bs_bind_field *f, const struct bs_ynode *node,
		 const char *keypath, const char *v, void *slot, int limited, struct bs_err *err)
{
	struct bs_err serr;
	uint64_t bytes;
	char lo[32], hi[32], val[32];

	bs_err_init(&serr);
	if (bs_size_parse(v, &bytes, &serr) < 0) {
		const char *why = serr.msg;
		char prefix[BS_ERR_MSG_MAX];

		snprintf(prefix, sizeof(prefix), "invalid size '%s': ", v);
		if (strncmp(serr.msg, prefix, strlen(prefix)) == 0)
			why = serr.msg + strlen(prefix);
		bs_bind_error(ctx, f, node, err, "invalid size '%s' for '%s': %s", v,
			      keypath, why);
		if (!f->hint)
			bs_err_hint(err, "%s", serr.hint);
		return -1;
	}
	if (limited && (bytes < (uint64_t)f->min || (f->max && bytes > (uint64_t)f->max))) {
		bs_size_format(bytes, val, sizeof(val));
		bs_size_format((uint64_t)f->min, lo, sizeof(lo));
		bs_size_format((uint64_t)f->max, hi, sizeof(hi));
		return range_error(ctx, f, node, keypath, "size", val, lo,
				   f->max ? hi : NULL, err);
	}
	*(uint64_t *)slot = bytes;
	return 0;
}

int bs_bind_value(struct bs_bind_ctx *ctx, const struct bs_bind_field *f,
		  const struct bs_ynode *node, const char *keypath, void *base,
		  struct bs_err *err)
{
	void *slot = (char *)base + f->offset;
	const char *v;
	int limited = f->min != 0 || f->max != 0;

	if (node->bad)
		return 0; /* reported by the loader */
	switch (f->type) {
	case BS_BIND_TABLE:
		return bs_bind_table(ctx, f->table, node, keypath, slot, err);
	case BS_BIND_CUSTOM:
		return f->custom(ctx, f, node, keypath, base, err);
	case BS_BIND_STRLIST:
		return bind_strlist(ctx, f, node, keypath, base, err);
	default:
		break;
	}
	if (node->kind != BS_YNODE_SCALAR)
		return wrong_kind(ctx, f, node, keypath, err);
	v = node->value;
	if (f->type == BS_BIND_STRBUF && strlen(v) >= f->size)
		return bs_bind_error(ctx, f, node, err,
				     "value for '%s' is too long (at most %zu bytes)", keypath,
				     f->size - 1);
	if (f->check && f->check(keypath, v, err) < 0) {
		bs_err_prefix(err, "%s:%u:%u", node->file, node->line, node->column);
		err->code = errcode(ctx);
		if (f->hint)
			bs_err_hint(err, "%s", f->hint);
		return -1;
	}

	switch (f->type) {
	case BS_BIND_STRING:
	case BS_BIND_PATH: {
		char *s;

		if (f->type == BS_BIND_PATH && !*v)
			return bs_bind_error(ctx, f, node, err, "empty path for '%s'", keypath);
		s = f->type == BS_BIND_PATH ? resolve_path(ctx, v) : strdup(v);
		if (!s)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		note_secret(ctx, f, node);
		if (f->type == BS_BIND_PATH)
			check_secret_file(f, node, keypath, s);
		return store_string(f, base, s);
	}
	case BS_BIND_STRBUF:
		note_secret(ctx, f, node);
		memcpy(slot, v, strlen(v) + 1);
		return 0;
	case BS_BIND_INT:
		return bind_int(ctx, f, node, keypath, v, slot, limited, err);
	case BS_BIND_BOOL:
		return bind_bool(ctx, f, node, keypath, v, slot, limited, err);
	case BS_BIND_ENUM:
		return bind_enum(ctx, f, node, keypath, v, slot, limited, err);
	case BS_BIND_DURATION:
		return bind_duration(ctx, f, node, keypath, v, slot, limited, err);
	case BS_BIND_SIZE:
		return bind_size(ctx, f, node, keypath, v, slot, limited, err);
	default:
		return bs_err_set(err, BS_ERR_INTERNAL, "bad bind type %d for '%s'",
				  (int)f->type, keypath);
	}
}

static const struct bs_bind_field *find_field(const struct bs_bind_field *fields,
					      const char *key)
{
	const struct bs_bind_field *f;

	for (f = fields; f->key; f++)
		if (strcmp(f->key, key) == 0)
			return f;
	return NULL;
}

static void join_path(char *buf, size_t n, const char *path, const char *key)
{
	if (path && *path)
		snprintf(buf, n, "%s.%s", path, key);
	else
		snprintf(buf, n, "%s", key);
}

static int not_a_mapping(struct bs_bind_ctx *ctx, const struct bs_bind_field *fields,
			 const struct bs_ynode *map, const char *path, struct bs_err *err)
{
	const struct bs_bind_field *f;
	char list[BS_ERR_HINT_MAX];
	size_t n = 0;

	if (path && *path)
		bs_ynode_error(err, errcode(ctx), map, "expected a mapping for '%s', got %s", path,
			       bs_ynode_kind_name(map));
	else
		bs_ynode_error(err, errcode(ctx), map, "expected a mapping at the top level, got %s",
			       bs_ynode_kind_name(map));
	list[0] = '\0';
	for (f = fields; f->key && n < sizeof(list); f++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", n ? ", " : "", f->key);
	bs_err_hint(err, "write 'key: value' lines%s%s%s, with keys: %s",
		    path && *path ? " indented under '" : "", path && *path ? path : "",
		    path && *path ? ":'" : "", list);
	return -1;
}

/* Record the error in err unless a nested table already did (the count
 * moved since before).  -1: a fatal error, stop. */
static int record(struct bs_bind_ctx *ctx, unsigned before, struct bs_err *err)
{
	if (ctx->errors.count != before)
		return 0;
	return bs_yerrors_add(&ctx->errors, err);
}

/* One key of a table; -1 with err set on error (not yet recorded, unless a
 * nested table recorded it). */
static int bind_pair(struct bs_bind_ctx *ctx, const struct bs_bind_field *fields,
		     const struct bs_ypair *pair, const char *path, void *base, struct bs_err *err)
{
	const struct bs_ynode *k = pair->key, *v = pair->value;
	const struct bs_bind_field *f = find_field(fields, k->value);
	char keypath[KEYPATH_MAX];

	if (k->bad || v->bad)
		return 0; /* reported by the loader */
	if (!f) {
		if (path && *path)
			bs_ynode_error(err, errcode(ctx), k, "unknown key '%s' in '%s'", k->value,
				       path);
		else
			bs_ynode_error(err, errcode(ctx), k, "unknown key '%s'", k->value);
		unknown_key_hint(fields, k->value, path && *path ? path : NULL, err);
		return -1;
	}
	join_path(keypath, sizeof(keypath), path, f->key);
	if (v->kind == BS_YNODE_SCALAR && v->null && f->type != BS_BIND_CUSTOM) {
		if (f->flags & BS_BIND_REQUIRED)
			return bs_bind_error(ctx, f, v, err, "missing value for '%s'", keypath);
		return 0;
	}
	return bs_bind_value(ctx, f, v, keypath, base, err);
}

static int bind_keys(struct bs_bind_ctx *ctx, const struct bs_bind_field *fields,
		     const struct bs_ynode *map, const char *path, void *base, struct bs_err *err)
{
	const struct bs_bind_field *f;
	char keypath[KEYPATH_MAX];
	size_t i;

	if (map && map->kind != BS_YNODE_MAPPING) {
		not_a_mapping(ctx, fields, map, path, err);
		return record(ctx, ctx->errors.count, err);
	}
	for (i = 0; map && i < map->count; i++) {
		unsigned before = ctx->errors.count;

		if (bind_pair(ctx, fields, &map->pairs[i], path, base, err) < 0 &&
		    record(ctx, before, err) < 0)
			return -1;
	}
	for (f = fields; f->key; f++) {
		if (!(f->flags & BS_BIND_REQUIRED) || bs_ynode_key(map, f->key))
			continue;
		join_path(keypath, sizeof(keypath), path, f->key);
		if (map)
			bs_bind_error(ctx, f, map, err, "missing required key '%s'", keypath);
		else
			bs_err_set(err, errcode(ctx), "missing required key '%s'", keypath);
		if (record(ctx, ctx->errors.count, err) < 0)
			return -1;
	}
	return 0;
}

int bs_bind_table(struct bs_bind_ctx *ctx, const struct bs_bind_field *fields,
		  const struct bs_ynode *map, const char *path, void *base,
		  struct bs_err *err)
{
	struct bs_bind_ctx local;
	unsigned before;
	int rc;

	if (!ctx) {
		memset(&local, 0, sizeof(local));
		ctx = &local;
	}
	if (map && map->kind == BS_YNODE_SCALAR && map->null)
		map = NULL;
	if (ctx->depth == 0) { /* a new walk: a ctx may be used again */
		if (ctx->seed)
			ctx->errors = *ctx->seed;
		else
			bs_yerrors_init(&ctx->errors);
	}
	before = ctx->errors.count;
	ctx->depth++;
	rc = bind_keys(ctx, fields, map, path, base, err);
	ctx->depth--;
	if (rc < 0)
		return -1; /* fatal: err as it is */
	if (ctx->depth == 0)
		return bs_yerrors_result(&ctx->errors, map ? map->file : NULL, err);
	return ctx->errors.count != before ? -1 : 0;
}

void bs_bind_release(const struct bs_bind_field *fields, void *base)
{
	const struct bs_bind_field *f;

	if (!fields || !base)
		return;
	for (f = fields; f->key; f++) {
		void *slot = (char *)base + f->offset;

		switch (f->type) {
		case BS_BIND_STRING:
		case BS_BIND_PATH:
			store_string(f, base, NULL);
			break;
		case BS_BIND_STRBUF:
			if (f->flags & BS_BIND_SECRET)
				OPENSSL_cleanse(slot, f->size);
			break;
		case BS_BIND_STRLIST: {
			char ***list = (char ***)slot;
			size_t *count = (size_t *)((char *)base + f->count_offset), i;

			if (*list) {
				for (i = 0; i < *count; i++)
					bs_secret_free((*list)[i]);
				free(*list);
			}
			*list = NULL;
			*count = 0;
			break;
		}
		case BS_BIND_TABLE:
		case BS_BIND_CUSTOM:
			if (f->table)
				bs_bind_release(f->table, slot);
			break;
		default:
			break;
		}
	}
}

int bs_bind_entries(struct bs_bind_ctx *ctx, const struct bs_ynode *node, const char *keypath, const char *what,
		    const char *hint, bs_bind_entry_fn fn, void *ud, struct bs_err *err)
{
	unsigned before = ctx->errors.count;

	if (node->kind == BS_YNODE_SCALAR && node->null)
		return 0;
	if (node->kind != BS_YNODE_MAPPING) {
		bs_ynode_error(err, BS_ERR_CONFIG, node, "'%s' must be a mapping of %s", keypath, what);
		if (hint)
			bs_err_hint(err, "%s", hint);
		return -1;
	}
	for (size_t i = 0; i < node->count; i++) {
		unsigned b = ctx->errors.count;
		if (node->pairs[i].key->bad || node->pairs[i].value->bad)
			continue;
		if (fn(ctx, &node->pairs[i], keypath, ud, err) < 0 && ctx->errors.count == b &&
		    bs_yerrors_add(&ctx->errors, err) < 0)
			return -1;
	}
	return ctx->errors.count != before ? -1 : 0;
}
