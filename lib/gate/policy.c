/*
 * policy.c - the gate policy file (docs/gate.md, "The policy"):
 *
 *   kind: gate
 *   version: 1
 *   name: go-live
 *   roles:
 *     security:
 *       signers: ["alice ssh-ed25519 AAAA..."]
 *       signers_file: security.allowed_signers
 *   gates:
 *     - name: technical
 *       owner: Technical lead
 *       criteria:
 *         - kind: backup
 *           database: shop
 *   waivers:
 *     - criterion: technical.backup
 *       reason: ...
 *       approver: alice
 *       expires: 2026-12-15
 *
 * Binding goes through config/policy_load.h like every policy; the lists
 * (gates, criteria, waivers) and the roles mapping have binders here, and
 * validate() checks what spans keys, every problem at its position.
 */
#include "gate/gate_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/catalog.h"
#include "common/hash.h"
#include "common/stream.h"
#include "config/policy_load.h"

#define SIGNER_LINE_MAX 16384

int bs_gate_name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n >= BS_GATE_NAME_MAX || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return 0;
	return 1;
}

/* ---- lists ---------------------------------------------------------------- */

typedef int (*item_fn)(struct bs_bind_ctx *ctx, const struct bs_ynode *item, const char *path, void *elem,
		       struct bs_err *err);

/* Bind a sequence of mappings into a growable array of elsize-byte
 * elements (zeroed, then fn).  Errors of one item are recorded and the
 * next is bound. */
static int seq_bind(struct bs_bind_ctx *ctx, const struct bs_ynode *node, const char *keypath, const char *hint,
		    size_t elsize, size_t max, void **arr, size_t *n, item_fn fn, struct bs_err *err)
{
	unsigned before = ctx->errors.count;

	if (node->kind != BS_YNODE_SEQUENCE) {
		bs_ynode_error(err, BS_ERR_POLICY, node, "'%s' must be a list, not %s", keypath, bs_ynode_kind_name(node));
		bs_err_hint(err, "%s", hint);
		return -1;
	}
	if (node->count > max)
		return bs_ynode_error(err, BS_ERR_POLICY, node, "'%s' has %zu entries, at most %zu are allowed", keypath,
				      node->count, max);
	if (node->count && !(*arr = calloc(node->count, elsize)))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < node->count; i++) {
		const struct bs_ynode *it = node->items[i];
		char path[160];
		void *elem = (char *)*arr + (*n) * elsize;
		unsigned b = ctx->errors.count;

		if (it->bad)
			continue;
		snprintf(path, sizeof(path), "%s[%zu]", keypath, i);
		(*n)++;
		if (it->kind != BS_YNODE_MAPPING) {
			bs_ynode_error(err, BS_ERR_POLICY, it, "'%s' must be a mapping, not %s", path, bs_ynode_kind_name(it));
			bs_err_hint(err, "%s", hint);
			if (bs_yerrors_add(&ctx->errors, err) < 0)
				return -1;
			continue;
		}
		if (fn(ctx, it, path, elem, err) < 0 && ctx->errors.count == b && bs_yerrors_add(&ctx->errors, err) < 0)
			return -1;
	}
	return ctx->errors.count != before ? -1 : 0;
}

/* ---- criteria ------------------------------------------------------------- */

static int crit_item(struct bs_bind_ctx *ctx, const struct bs_ynode *it, const char *path, void *elem,
		     struct bs_err *err)
{
	static const struct bs_bind_field kind_only = { .key = "kind", .type = BS_BIND_ENUM, .enums = bs_gate_kind_enums };
	struct bs_gate_criterion *c = elem;
	const struct bs_ynode *kn = bs_ynode_get(it, "kind");
	const struct bs_gate_kind_ops *ops;
	char kp[200];

	c->line = it->line;
	c->column = it->column;
	if (!kn || kn->kind != BS_YNODE_SCALAR || kn->null) {
		bs_ynode_error(err, BS_ERR_POLICY, kn ? kn : it, "criterion '%s' has no 'kind:'", path);
		bs_err_hint(err, "kind is one of probe, backup, drill, sarif, junit, approval, rollback_ready, file, command");
		return -1;
	}
	snprintf(kp, sizeof(kp), "%s.kind", path);
	if (bs_bind_value(ctx, &kind_only, kn, kp, &c->kind, err) < 0)
		return -1;
	ops = bs_gate_kinds[c->kind];
	if (ops->init)
		ops->init(c);
	return bs_bind_table(ctx, ops->fields, it, path, c, err);
}

static int bind_criteria(struct bs_bind_ctx *ctx, const struct bs_bind_field *f, const struct bs_ynode *node,
			 const char *keypath, void *base, struct bs_err *err)
{
	struct bs_gate *g = base;
	void *arr = NULL;
	int rc;

	(void)f;
	rc = seq_bind(ctx, node, keypath, "criteria:\n  - kind: backup\n    database: shop\n    max_age: 26h",
		      sizeof(struct bs_gate_criterion), BS_GATE_CRITERIA_MAX, &arr, &g->ncriteria, crit_item, err);
	g->criteria = arr;
	return rc;
}

/* ---- gates ----------------------------------------------------------------- */

static const struct bs_bind_field gate_fields[] = {
	BS_BIND_F_STRING("name", struct bs_gate, name, BS_BIND_REQUIRED),
	BS_BIND_F_STRING("owner", struct bs_gate, owner, 0),
	BS_BIND_F_STRING("description", struct bs_gate, description, 0),
	{ .key = "criteria", .type = BS_BIND_CUSTOM, .custom = bind_criteria },
	BS_BIND_F_END,
};

static int gate_item(struct bs_bind_ctx *ctx, const struct bs_ynode *it, const char *path, void *elem,
		     struct bs_err *err)
{
	struct bs_gate *g = elem;

	g->line = it->line;
	g->column = it->column;
	return bs_bind_table(ctx, gate_fields, it, path, g, err);
}

static int bind_gates(struct bs_bind_ctx *ctx, const struct bs_bind_field *f, const struct bs_ynode *node,
		      const char *keypath, void *base, struct bs_err *err)
{
	struct bs_gate_policy *p = base;
	void *arr = NULL;
	int rc;

	(void)f;
	rc = seq_bind(ctx, node, keypath, "gates:\n  - name: technical\n    owner: Technical lead\n    criteria: [...]",
		      sizeof(struct bs_gate), BS_GATE_GATES_MAX, &arr, &p->ngates, gate_item, err);
	p->gates = arr;
	return rc;
}

/* ---- waivers --------------------------------------------------------------- */

static const struct bs_bind_field waiver_fields[] = {
	BS_BIND_F_STRING("criterion", struct bs_gate_waiver, criterion, BS_BIND_REQUIRED),
	BS_BIND_F_STRING("reason", struct bs_gate_waiver, reason, BS_BIND_REQUIRED),
	BS_BIND_F_STRING("approver", struct bs_gate_waiver, approver, BS_BIND_REQUIRED),
	BS_BIND_F_STRING("expires", struct bs_gate_waiver, expires, BS_BIND_REQUIRED),
	BS_BIND_F_END,
};

static int waiver_item(struct bs_bind_ctx *ctx, const struct bs_ynode *it, const char *path, void *elem,
		       struct bs_err *err)
{
	struct bs_gate_waiver *w = elem;

	w->line = it->line;
	w->column = it->column;
	return bs_bind_table(ctx, waiver_fields, it, path, w, err);
}

static int bind_waivers(struct bs_bind_ctx *ctx, const struct bs_bind_field *f, const struct bs_ynode *node,
			const char *keypath, void *base, struct bs_err *err)
{
	struct bs_gate_policy *p = base;
	void *arr = NULL;
	int rc;

	(void)f;
	rc = seq_bind(ctx, node, keypath,
		      "waivers:\n  - criterion: security.sarif\n    reason: ...\n    approver: alice\n    expires: 2026-12-31",
		      sizeof(struct bs_gate_waiver), 1024, &arr, &p->nwaivers, waiver_item, err);
	p->waivers = arr;
	return rc;
}

/* ---- roles ----------------------------------------------------------------- */

static const struct bs_bind_field role_fields[] = {
	BS_BIND_F_STRLIST("signers", struct bs_gate_role, signers, nsigners_text),
	BS_BIND_F_STRING("signers_file", struct bs_gate_role, signers_file, 0),
	BS_BIND_F_END,
};

static int bind_roles(struct bs_bind_ctx *ctx, const struct bs_bind_field *f, const struct bs_ynode *node,
		      const char *keypath, void *base, struct bs_err *err)
{
	struct bs_gate_policy *p = base;
	unsigned before = ctx->errors.count;

	(void)f;
	if (node->kind != BS_YNODE_MAPPING) {
		bs_ynode_error(err, BS_ERR_POLICY, node, "'%s' must be a mapping of role names to signers", keypath);
		bs_err_hint(err, "roles:\n  security:\n    signers:\n      - alice ssh-ed25519 AAAA... alice@example.com");
		return -1;
	}
	if (node->count && !(p->roles = calloc(node->count, sizeof(*p->roles))))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < node->count; i++) {
		const struct bs_ypair *pr = &node->pairs[i];
		struct bs_gate_role *r = &p->roles[p->nroles];
		char path[160];
		unsigned b = ctx->errors.count;

		if (pr->key->bad || pr->value->bad)
			continue;
		p->nroles++;
		r->line = pr->key->line;
		r->column = pr->key->column;
		snprintf(path, sizeof(path), "%s.%s", keypath, pr->key->value);
		if (!(r->name = strdup(pr->key->value)))
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		if (!bs_gate_name_ok(r->name))
			bs_ynode_error(err, BS_ERR_POLICY, pr->key,
				       "invalid role name '%s': lowercase letters, digits, '-', '_'", r->name);
		else if (pr->value->kind != BS_YNODE_MAPPING)
			bs_ynode_error(err, BS_ERR_POLICY, pr->value, "'%s' must be a mapping with 'signers:' or 'signers_file:'",
				       path);
		else if (bs_bind_table(ctx, role_fields, pr->value, path, r, err) == 0)
			continue;
		if (ctx->errors.count == b && bs_yerrors_add(&ctx->errors, err) < 0)
			return -1;
	}
	return ctx->errors.count != before ? -1 : 0;
}

/* ---- the policy ------------------------------------------------------------ */

static const struct bs_bind_field policy_fields[] = {
	BS_BIND_F_STRING("name", struct bs_gate_policy, name, 0),
	{ .key = "roles", .type = BS_BIND_CUSTOM, .custom = bind_roles },
	{ .key = "gates", .type = BS_BIND_CUSTOM, .custom = bind_gates, .flags = BS_BIND_REQUIRED },
	{ .key = "waivers", .type = BS_BIND_CUSTOM, .custom = bind_waivers },
	BS_BIND_F_END,
};

void bs_gate_policy_init(struct bs_gate_policy *p)
{
	memset(p, 0, sizeof(*p));
}

static void role_release(struct bs_gate_role *r)
{
	for (size_t k = 0; k < r->nkeys; k++) {
		bs_allowed_signer_release(&r->keys[k].s);
		free(r->keys[k].where);
	}
	free(r->keys);
	bs_bind_release(role_fields, r);
	free(r->name);
}

void bs_gate_policy_release(struct bs_gate_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->ngates; i++) {
		struct bs_gate *g = &p->gates[i];
		for (size_t j = 0; j < g->ncriteria; j++)
			bs_bind_release(bs_gate_criterion_all_fields, &g->criteria[j]);
		free(g->criteria);
		bs_bind_release(gate_fields, g);
	}
	free(p->gates);
	for (size_t i = 0; i < p->nroles; i++)
		role_release(&p->roles[i]);
	free(p->roles);
	for (size_t i = 0; i < p->nwaivers; i++)
		bs_bind_release(waiver_fields, &p->waivers[i]);
	free(p->waivers);
	free(p->name);
	free(p->path);
	bs_gate_policy_init(p);
}

const struct bs_gate *bs_gate_find(const struct bs_gate_policy *p, const char *name)
{
	for (size_t i = 0; i < p->ngates; i++)
		if (p->gates[i].name && strcmp(p->gates[i].name, name) == 0)
			return &p->gates[i];
	return NULL;
}

void bs_gate_owners(const struct bs_gate_policy *p, const char *only, char *buf, size_t n)
{
	if (n)
		buf[0] = '\0';
	for (size_t i = 0; i < p->ngates; i++)
		if (p->gates[i].owner && (!only || strcmp(only, p->gates[i].name) == 0))
			bs_gate_appendf(buf, n, "%s%s: %s", buf[0] ? "; " : "", p->gates[i].name, p->gates[i].owner);
}

const struct bs_gate_role *bs_gate_role_find(const struct bs_gate_policy *p, const char *name)
{
	for (size_t i = 0; i < p->nroles; i++)
		if (strcmp(p->roles[i].name, name) == 0)
			return &p->roles[i];
	return NULL;
}

/* ---- validation ------------------------------------------------------------ */

struct vctx {
	const struct bs_policy_src *src;
	struct bs_yerrors errs;
	int nomem;
};

static void verr(struct vctx *v, const struct bs_ynode *at, unsigned line, unsigned col, const char *hint,
		 const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void verr(struct vctx *v, const struct bs_ynode *at, unsigned line, unsigned col, const char *hint,
		 const char *fmt, ...)
{
	struct bs_err e;
	char msg[BS_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	bs_err_init(&e);
	if (at)
		bs_ynode_error(&e, BS_ERR_POLICY, at, "%s", msg);
	else if (line)
		bs_err_set(&e, BS_ERR_POLICY, "%s:%u:%u: %s", v->src->file, line, col, msg);
	else /* msg carries its own position (a signers file's line) */
		bs_err_set(&e, BS_ERR_POLICY, "%s", msg);
	if (hint)
		bs_err_hint(&e, "%s", hint);
	bs_yerrors_add(&v->errs, &e);
}

/* The node of gates[gi].criteria[ci].key (or the criterion), for positions. */
static const struct bs_ynode *crit_node(const struct bs_policy_src *src, size_t gi, size_t ci, const char *key)
{
	const struct bs_ynode *g = bs_ynode_get(src->map, "gates"), *c, *k;

	if (!g || g->kind != BS_YNODE_SEQUENCE || gi >= g->count)
		return NULL;
	c = bs_ynode_get(g->items[gi], "criteria");
	if (!c || c->kind != BS_YNODE_SEQUENCE || ci >= c->count)
		return NULL;
	k = key ? bs_ynode_get(c->items[ci], key) : NULL;
	return k ? k : c->items[ci];
}

/* Parse one allowed-signers line into the role. */
static void role_key(struct vctx *v, struct bs_gate_role *r, const char *line, const char *where,
		     const struct bs_ynode *at, unsigned lno)
{
	struct bs_gate_signer *s;
	struct bs_err e;
	int rc;

	if (r->nkeys >= BS_GATE_SIGNERS_MAX) {
		verr(v, at, lno, 1, NULL, "role '%s' has more than %d signers", r->name, BS_GATE_SIGNERS_MAX);
		return;
	}
	if (!r->keys && !(r->keys = calloc(BS_GATE_SIGNERS_MAX, sizeof(*r->keys)))) {
		v->nomem = 1;
		return;
	}
	s = &r->keys[r->nkeys];
	bs_allowed_signer_init(&s->s);
	bs_err_init(&e);
	rc = bs_allowed_signer_parse(line, &s->s, &e);
	if (rc == 1)
		return;
	if (rc < 0) {
		bs_allowed_signer_release(&s->s);
		if (at)
			verr(v, at, 0, 0, "a signer is 'PRINCIPAL ssh-ed25519 AAAA... [comment]', as in ssh-keygen's allowed_signers",
			     "role '%s': %s", r->name, e.msg);
		else
			verr(v, NULL, 0, 0, NULL, "%s:%u: role '%s': %s", where, lno, r->name, e.msg);
		return;
	}
	if (!(s->where = malloc(strlen(where) + 16))) {
		bs_allowed_signer_release(&s->s);
		v->nomem = 1;
		return;
	}
	sprintf(s->where, "%s:%u", where, lno);
	r->nkeys++;
}

static void role_file(struct vctx *v, struct bs_gate_role *r, const struct bs_ynode *at)
{
	char path[PATH_MAX], dir[PATH_MAX];
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f;
	unsigned lno = 0;
	int fd;

	if (r->signers_file[0] == '/') {
		snprintf(path, sizeof(path), "%s", r->signers_file);
	} else {
		snprintf(dir, sizeof(dir), "%s", v->src->file);
		snprintf(path, sizeof(path), "%s/%s", dirname(dir), r->signers_file);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || !(f = fdopen(fd, "r"))) {
		verr(v, at, 0, 0, "a relative signers_file is read from the policy file's directory",
		     "unable to read the signers of role '%s' from '%s': %s", r->name, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		lno++;
		if (lno > 100000 || len > SIGNER_LINE_MAX) {
			/* never cut a line in two: its tail would read as a key of its own */
			verr(v, NULL, 0, 0, NULL, "%s:%u: role '%s': %s", path, lno, r->name,
			     lno > 100000 ? "too many lines" : "line longer than 16384 bytes");
			break;
		}
		line[strcspn(line, "\r\n")] = '\0';
		role_key(v, r, line, path, NULL, lno);
	}
	if (ferror(f))
		verr(v, at, 0, 0, NULL, "unable to read the signers of role '%s' from '%s': %s", r->name, path,
		     strerror(errno));
	free(line);
	fclose(f);
}

static void check_roles(struct vctx *v, struct bs_gate_policy *p)
{
	const struct bs_ynode *roles = bs_ynode_get(v->src->map, "roles");

	for (size_t i = 0; i < p->nroles; i++) {
		struct bs_gate_role *r = &p->roles[i];
		const struct bs_ynode *rn = bs_ynode_get(roles, r->name);
		const struct bs_ynode *sl = bs_ynode_get(rn, "signers");
		char where[PATH_MAX];

		for (size_t k = 0; k < r->nsigners_text; k++) {
			const struct bs_ynode *at = sl && sl->kind == BS_YNODE_SEQUENCE && k < sl->count ? sl->items[k] : rn;
			snprintf(where, sizeof(where), "%s", v->src->file);
			role_key(v, r, r->signers[k], where, at, at ? at->line : r->line);
		}
		if (r->signers_file)
			role_file(v, r, bs_ynode_get(rn, "signers_file"));
	}
}

static void check_gates(struct vctx *v, struct bs_gate_policy *p)
{
	if (p->ngates == 0 && v->errs.count == 0)
		verr(v, bs_ynode_get(v->src->map, "gates"), 0, 0, "gates:\n  - name: technical\n    criteria: [...]",
		     "the policy has no gates: a check of it would decide nothing");
	for (size_t i = 0; i < p->ngates; i++) {
		struct bs_gate *g = &p->gates[i];

		if (!bs_gate_name_ok(g->name)) {
			verr(v, NULL, g->line, g->column, NULL,
			     "invalid gate name '%s': lowercase letters, digits, '-', '_'", g->name);
			continue;
		}
		for (size_t k = 0; k < i; k++)
			if (strcmp(p->gates[k].name, g->name) == 0)
				verr(v, NULL, g->line, g->column, NULL, "gate '%s' is defined twice (also at line %u)",
				     g->name, p->gates[k].line);
		if (g->ncriteria == 0)
			verr(v, NULL, g->line, g->column,
			     "a gate decides from criteria: add at least one (kind: probe, backup, drill, sarif, junit, approval, rollback_ready, file, command)",
			     "gate '%s' has no criteria", g->name);
		for (size_t j = 0; j < g->ncriteria; j++) {
			struct bs_gate_criterion *c = &g->criteria[j];
			const struct bs_gate_kind_ops *ops = bs_gate_kinds[c->kind];
			struct bs_err e;

			if (!c->id && !(c->id = strdup(ops->name))) {
				v->nomem = 1;
				return;
			}
			if (!bs_gate_name_ok(c->id))
				verr(v, crit_node(v->src, i, j, "id"), 0, 0, NULL,
				     "invalid criterion id '%s': lowercase letters, digits, '-', '_'", c->id);
			for (size_t k = 0; k < j; k++)
				if (strcmp(g->criteria[k].id, c->id) == 0)
					verr(v, crit_node(v->src, i, j, NULL), 0, 0,
					     "give each criterion of the same kind its own 'id:'",
					     "gate '%s' has two criteria with the id '%s' (also at line %u)", g->name, c->id,
					     g->criteria[k].line);
			bs_err_init(&e);
			if (ops->check && ops->check(c, p, &e) < 0)
				verr(v, crit_node(v->src, i, j, NULL), 0, 0, e.hint[0] ? e.hint : NULL, "gate '%s', criterion '%s': %s",
				     g->name, c->id, e.msg);
		}
	}
}

/* A waiver's expiry: a date (the waiver ends at 00:00 UTC that day) or
 * an ISO time in UTC. */
static void check_waivers(struct vctx *v, struct bs_gate_policy *p)
{
	const struct bs_ynode *wl = bs_ynode_get(v->src->map, "waivers");

	for (size_t i = 0; i < p->nwaivers; i++) {
		struct bs_gate_waiver *w = &p->waivers[i];
		const struct bs_ynode *wn = wl && wl->kind == BS_YNODE_SEQUENCE && i < wl->count ? wl->items[i] : NULL;
		const char *dot = strchr(w->criterion, '.');
		const struct bs_gate *g = NULL;
		int found = 0;

		if (dot) {
			char gname[BS_GATE_NAME_MAX];
			size_t gl = (size_t)(dot - w->criterion);
			if (gl < sizeof(gname)) {
				memcpy(gname, w->criterion, gl);
				gname[gl] = '\0';
				g = bs_gate_find(p, gname);
			}
			for (size_t j = 0; g && j < g->ncriteria; j++)
				if (g->criteria[j].id && strcmp(g->criteria[j].id, dot + 1) == 0)
					found = 1;
		}
		if (!found)
			verr(v, bs_ynode_get(wn, "criterion"), w->line, w->column,
			     "a waiver names its criterion as GATE.ID, e.g. security.sarif (the id defaults to the kind)",
			     "waiver for '%s' names no criterion of this policy", w->criterion);
		if (strlen(w->expires) < 10 || w->expires[4] != '-' || bs_time_parse(w->expires, &w->expires_at) < 0)
			verr(v, bs_ynode_get(wn, "expires"), w->line, w->column, "a date (2026-12-31) or a UTC time (2026-12-31T18:00:00Z)",
			     "invalid expiry '%s' for the waiver of '%s'", w->expires, w->criterion);
		if (strlen(w->reason) > BS_GATE_REASON_MAX || !w->reason[strspn(w->reason, " \t\n")])
			verr(v, bs_ynode_get(wn, "reason"), w->line, w->column, NULL,
			     "the waiver of '%s' needs a reason (at most %d bytes)", w->criterion, BS_GATE_REASON_MAX);
	}
}

static int validate(void *dest, const struct bs_policy_src *src, struct bs_err *err)
{
	struct bs_gate_policy *p = dest;
	struct vctx v = { .src = src };

	bs_yerrors_init(&v.errs);
	if (p->name && !bs_gate_name_ok(p->name))
		verr(&v, bs_ynode_get(src->map, "name"), 0, 0, NULL,
		     "invalid policy name '%s': lowercase letters, digits, '-', '_'", p->name);
	check_roles(&v, p);
	check_gates(&v, p);
	check_waivers(&v, p);
	if (v.nomem)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	return bs_yerrors_result(&v.errs, src->file, err);
}

static void k_init(void *dest)
{
	bs_gate_policy_init(dest);
}

static void k_release(void *dest)
{
	bs_gate_policy_release(dest);
}

static const struct bs_policy_kind gate_kind = {
	.what = "gate policy",
	.kind = "gate",
	.max_version = 1,
	.fields = policy_fields,
	.init = k_init,
	.release = k_release,
	.validate = validate,
};

/* The policy's name when it has no 'name:': the file's base name without
 * its .yaml/.yml. */
static int default_name(struct bs_gate_policy *p, const char *path, struct bs_err *err)
{
	const char *b = strrchr(path, '/');
	size_t n;

	b = b ? b + 1 : path;
	n = strlen(b);
	if (n > 5 && strcmp(b + n - 5, ".yaml") == 0)
		n -= 5;
	else if (n > 4 && strcmp(b + n - 4, ".yml") == 0)
		n -= 4;
	if (!(p->name = strndup(b, n)))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	if (!bs_gate_name_ok(p->name)) {
		bs_err_set(err, BS_ERR_POLICY, "%s: the policy has no 'name:' and the file name '%s' is not a valid one",
			   path, p->name);
		bs_err_hint(err, "add 'name: go-live' (lowercase letters, digits, '-', '_')");
		return -1;
	}
	return 0;
}

static int finish(struct bs_gate_policy *p, const char *path, const void *bytes, size_t len, struct bs_err *err)
{
	unsigned char h[BS_SHA256_LEN];

	if (!(p->path = strdup(path)))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < p->ngates; i++) /* the document's name died with it */
		for (size_t j = 0; j < p->gates[i].ncriteria; j++)
			p->gates[i].criteria[j].file = p->path;
	if (!p->name && default_name(p, path, err) < 0)
		return -1;
	if (bs_sha256(bytes, len, h, err) < 0)
		return -1;
	bs_hex(h, sizeof(h), p->sha256);
	return 0;
}

int bs_gate_policy_load(struct bs_gate_policy *p, const char *path, struct bs_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	/* one read: the bytes parsed are the bytes hashed into decisions */
	if (bs_read_file(path, BS_YAML_MAX_BYTES, &buf, &len, err) < 0) {
		bs_gate_policy_init(p);
		err->code = err->code == BS_ERR_NOMEM ? BS_ERR_NOMEM : BS_ERR_POLICY;
		return bs_err_prefix(err, "unable to read gate policy");
	}
	rc = bs_policy_load_buf(&gate_kind, path, buf, len, p, err);
	if (rc == 0 && (rc = finish(p, path, buf, len, err)) < 0)
		bs_gate_policy_release(p);
	free(buf);
	return rc;
}

int bs_gate_policy_load_string(struct bs_gate_policy *p, const char *name, const char *text, struct bs_err *err)
{
	if (bs_policy_load_buf(&gate_kind, name, text, strlen(text), p, err) < 0)
		return -1;
	if (finish(p, name, text, strlen(text), err) < 0) {
		bs_gate_policy_release(p);
		return -1;
	}
	return 0;
}
