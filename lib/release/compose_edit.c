/* compose_edit.c - see compose_edit.h
 *
 * The text is parsed twice by libyaml: the parser's events build a small
 * tree (every node with its marks, anchors resolved to their nodes, every
 * alias counted on the node it names), and the scanner's tokens give the
 * exact start of the image's scalar (an event's start mark is where the
 * node's anchor or tag begins).  libyaml's mark indexes count characters
 * (a UTF-8 byte order mark not included), so they are turned into byte
 * offsets by walking the UTF-8 text. */
#include "release/compose_edit.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#define MAX_DEPTH   64
#define MAX_NODES   200000
#define MAX_ANCHORS 4096
#define MAX_IMAGE   4096

enum { N_SCALAR = 1, N_MAP, N_SEQ, N_ALIAS };

struct cnode {
	int kind;
	int style;		/* scalar: yaml_scalar_style_t */
	yaml_mark_t start, end; /* of the event (anchor and tag included) */
	char *anchor;		/* &name on this node, or NULL */
	char *value;		/* scalar text, or the alias's anchor name */
	size_t len;
	struct cnode *target; /* alias: the node it names */
	struct cnode *parent; /* the mapping or sequence holding it */
	size_t idx;	      /* its index in parent->kids */
	struct cnode **kids;  /* mapping: key, value, key, value...; sequence: items */
	size_t n, cap;
	unsigned aliased; /* aliases naming this node */
};

struct anchor {
	const char *name; /* owned by the node */
	struct cnode *node;
};

struct tree {
	const char *file;
	yaml_parser_t parser;
	struct cnode *root; /* NULL: an empty document */
	struct anchor *anchors;
	size_t nanchors, capanchors;
	struct cnode **aliases; /* every alias node, in file order */
	size_t naliases, capaliases;
	size_t nnodes;
	struct bs_err *err;
};

/* What locate found: the image scalar, and where its text is. */
struct found {
	const struct cnode *img;
	size_t b0, b1; /* byte range of the scalar itself (edit mode) */
};

/* ---- errors ---------------------------------------------------------------- */

static int pos_err(struct tree *t, int code, yaml_mark_t m, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int pos_err(struct tree *t, int code, yaml_mark_t m, const char *fmt, ...)
{
	char msg[BS_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return bs_err_set(t->err, code, "%s:%u:%u: %s", t->file, (unsigned)m.line + 1, (unsigned)m.column + 1,
			  msg);
}

static int nomem(struct tree *t)
{
	return bs_err_set(t->err, BS_ERR_NOMEM, "out of memory parsing '%s'", t->file);
}

static int syntax_error(struct tree *t)
{
	const yaml_parser_t *p = &t->parser;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return nomem(t);
	case YAML_READER_ERROR:
		bs_err_set(t->err, BS_ERR_CONFIG, "%s: invalid YAML at byte %zu: %s", t->file,
			   p->problem_offset, p->problem ? p->problem : "cannot read input");
		bs_err_hint(t->err, "a compose file must be UTF-8 text");
		return -1;
	default:
		pos_err(t, BS_ERR_CONFIG, p->problem_mark, "invalid YAML: %s",
			p->problem ? p->problem : "syntax error");
		if (p->context)
			bs_err_detail(t->err, "%s at %s:%u:%u", p->context, t->file,
				      (unsigned)p->context_mark.line + 1,
				      (unsigned)p->context_mark.column + 1);
		bs_err_hint(t->err,
			    "fix the file ('docker compose -f %s config' shows what compose makes of it)",
			    t->file);
		return -1;
	}
}

/* ---- the tree -------------------------------------------------------------- */

static void node_free(struct cnode *n)
{
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n->n; i++)
		node_free(n->kids[i]);
	free(n->kids);
	free(n->anchor);
	free(n->value);
	free(n);
}

static void tree_release(struct tree *t)
{
	node_free(t->root);
	free(t->anchors);
	free(t->aliases);
	t->root = NULL;
	t->anchors = NULL;
	t->aliases = NULL;
}

static int grow(void *pv, size_t *cap, size_t need, size_t size)
{
	void **p = pv;
	size_t ncap;
	void *np;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	while (ncap < need)
		ncap *= 2;
	np = realloc(*p, ncap * size);
	if (!np)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

static struct cnode *lookup_anchor(struct tree *t, const char *name)
{
	size_t i;

	/* the latest definition of a name wins */
	for (i = t->nanchors; i-- > 0;)
		if (strcmp(t->anchors[i].name, name) == 0)
			return t->anchors[i].node;
	return NULL;
}

/* A new node for ev, attached to parent (or made the root) at once, so
 * that freeing the root frees it whatever happens next. */
static int node_new(struct tree *t, const yaml_event_t *ev, struct cnode *parent, int kind,
		    struct cnode **out)
{
	const yaml_char_t *anchor = NULL;
	struct cnode *n;

	if (++t->nnodes > MAX_NODES)
		return pos_err(t, BS_ERR_CONFIG, ev->start_mark, "too many nodes (more than %d)", MAX_NODES);
	n = calloc(1, sizeof(*n));
	if (!n)
		return nomem(t);
	n->kind = kind;
	n->start = ev->start_mark;
	n->end = ev->end_mark;
	n->parent = parent;
	if (parent) {
		if (grow(&parent->kids, &parent->cap, parent->n + 1, sizeof(*parent->kids)) < 0) {
			free(n);
			return nomem(t);
		}
		n->idx = parent->n;
		parent->kids[parent->n++] = n;
	} else {
		t->root = n;
	}
	if (ev->type == YAML_SCALAR_EVENT) {
		anchor = ev->data.scalar.anchor;
		n->style = ev->data.scalar.style;
		n->len = ev->data.scalar.length;
		n->value = malloc(n->len + 1);
		if (!n->value)
			return nomem(t);
		memcpy(n->value, ev->data.scalar.value, n->len);
		n->value[n->len] = '\0';
	} else if (ev->type == YAML_MAPPING_START_EVENT) {
		anchor = ev->data.mapping_start.anchor;
	} else if (ev->type == YAML_SEQUENCE_START_EVENT) {
		anchor = ev->data.sequence_start.anchor;
	} else if (ev->type == YAML_ALIAS_EVENT) {
		n->value = strdup((const char *)ev->data.alias.anchor);
		if (!n->value)
			return nomem(t);
		n->len = strlen(n->value);
	}
	if (anchor) {
		if (t->nanchors >= MAX_ANCHORS)
			return pos_err(t, BS_ERR_CONFIG, ev->start_mark, "too many anchors (more than %d)",
				       MAX_ANCHORS);
		n->anchor = strdup((const char *)anchor);
		if (!n->anchor || grow(&t->anchors, &t->capanchors, t->nanchors + 1, sizeof(*t->anchors)) < 0)
			return nomem(t);
		t->anchors[t->nanchors].name = n->anchor;
		t->anchors[t->nanchors].node = n;
		t->nanchors++;
	}
	*out = n;
	return 0;
}

static int next_event(struct tree *t, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&t->parser, ev))
		return syntax_error(t);
	return 0;
}

/* Build the node that starts with ev (consumed here) and its children. */
static int build(struct tree *t, yaml_event_t *ev, struct cnode *parent, int depth)
{
	struct cnode *n;
	yaml_event_type_t end;
	int kind, rc;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		rc = node_new(t, ev, parent, N_SCALAR, &n);
		yaml_event_delete(ev);
		return rc;
	case YAML_ALIAS_EVENT:
		rc = node_new(t, ev, parent, N_ALIAS, &n);
		yaml_event_delete(ev);
		if (rc < 0)
			return rc;
		n->target = lookup_anchor(t, n->value);
		if (!n->target)
			return pos_err(t, BS_ERR_CONFIG, n->start,
				       "alias *%s refers to no anchor &%s before it", n->value, n->value);
		n->target->aliased++;
		if (grow(&t->aliases, &t->capaliases, t->naliases + 1, sizeof(*t->aliases)) < 0)
			return nomem(t);
		t->aliases[t->naliases++] = n;
		return 0;
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		break;
	default:
		rc = pos_err(t, BS_ERR_CONFIG, ev->start_mark, "unexpected YAML event");
		yaml_event_delete(ev);
		return rc;
	}
	kind = ev->type == YAML_MAPPING_START_EVENT ? N_MAP : N_SEQ;
	end = kind == N_MAP ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;
	if (depth >= MAX_DEPTH) {
		rc = pos_err(t, BS_ERR_CONFIG, ev->start_mark, "nesting deeper than %d levels", MAX_DEPTH);
		yaml_event_delete(ev);
		return rc;
	}
	rc = node_new(t, ev, parent, kind, &n);
	yaml_event_delete(ev);
	if (rc < 0)
		return rc;
	for (;;) {
		if (next_event(t, ev) < 0)
			return -1;
		if (ev->type == end) {
			n->end = ev->end_mark;
			yaml_event_delete(ev);
			return 0;
		}
		if (build(t, ev, n, depth + 1) < 0)
			return -1;
	}
}

static int parse(struct tree *t, const char *text, size_t len)
{
	yaml_event_t ev;
	int rc = -1;

	if (len >= 2 && (((unsigned char)text[0] == 0xFE && (unsigned char)text[1] == 0xFF) ||
			 ((unsigned char)text[0] == 0xFF && (unsigned char)text[1] == 0xFE))) {
		bs_err_set(t->err, BS_ERR_CONFIG, "%s: the file is UTF-16 text", t->file);
		bs_err_hint(t->err, "backstop edits compose files in UTF-8 only");
		return -1;
	}
	if (len > BS_COMPOSE_MAX_BYTES)
		return bs_err_set(t->err, BS_ERR_CONFIG, "%s: too large (over %u bytes)", t->file,
				  BS_COMPOSE_MAX_BYTES);
	if (!yaml_parser_initialize(&t->parser))
		return nomem(t);
	yaml_parser_set_input_string(&t->parser, (const unsigned char *)text, len);

	if (next_event(t, &ev) < 0)
		goto out;
	yaml_event_delete(&ev); /* stream start */
	if (next_event(t, &ev) < 0)
		goto out;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		rc = 0; /* empty: no root */
		goto out;
	}
	yaml_event_delete(&ev); /* document start */
	if (next_event(t, &ev) < 0 || build(t, &ev, NULL, 0) < 0)
		goto out;
	if (next_event(t, &ev) < 0)
		goto out;
	yaml_event_delete(&ev); /* document end */
	if (next_event(t, &ev) < 0)
		goto out;
	if (ev.type == YAML_DOCUMENT_START_EVENT) {
		pos_err(t, BS_ERR_CONFIG, ev.start_mark, "a second YAML document");
		bs_err_hint(t->err,
			    "a compose file holds one document; backstop will not guess which one to edit");
		yaml_event_delete(&ev);
		goto out;
	}
	yaml_event_delete(&ev);
	rc = 0;
out:
	yaml_parser_delete(&t->parser);
	return rc;
}

/* ---- looking things up ----------------------------------------------------- */

static const struct cnode *deref(const struct cnode *n)
{
	return n && n->kind == N_ALIAS ? n->target : n;
}

static int is_null(const struct cnode *n)
{
	return n->kind == N_SCALAR && n->style == YAML_PLAIN_SCALAR_STYLE &&
	       (n->len == 0 || strcmp(n->value, "~") == 0 || strcmp(n->value, "null") == 0 ||
		strcmp(n->value, "Null") == 0 || strcmp(n->value, "NULL") == 0);
}

/* The key's text, or NULL when it is not a scalar. */
static const char *key_text(const struct cnode *k)
{
	k = deref(k);
	return k && k->kind == N_SCALAR ? k->value : NULL;
}

static int is_merge_key(const struct cnode *k)
{
	k = deref(k);
	return k && k->kind == N_SCALAR && k->style == YAML_PLAIN_SCALAR_STYLE && strcmp(k->value, "<<") == 0;
}

/* The value for key in map (a mapping node), and its key node. */
static const struct cnode *map_get(const struct cnode *map, const char *key, const struct cnode **keynode)
{
	size_t i;

	for (i = 0; i + 1 < map->n; i += 2) {
		const char *k = key_text(map->kids[i]);

		if (k && strcmp(k, key) == 0 && !is_merge_key(map->kids[i])) {
			if (keynode)
				*keynode = map->kids[i];
			return map->kids[i + 1];
		}
	}
	return NULL;
}

static int check_dups(struct tree *t, const struct cnode *map, const char *where)
{
	size_t i, j;

	for (j = 2; j + 1 < map->n; j += 2) {
		const char *kj = key_text(map->kids[j]);

		if (!kj)
			continue;
		for (i = 0; i < j; i += 2) {
			const char *ki = key_text(map->kids[i]);

			if (ki && strcmp(ki, kj) == 0) {
				pos_err(t, BS_ERR_CONFIG, map->kids[j]->start,
					"duplicate key '%s' in %s (first at line %u)", kj, where,
					(unsigned)map->kids[i]->start.line + 1);
				bs_err_hint(t->err,
					    "remove one of them; which one compose uses is not defined");
				return -1;
			}
		}
	}
	return 0;
}

/* Find key in the mappings merged into map by its '<<' key (following
 * nested merges, earlier sources first).  *via is the alias through which
 * it was found (NULL: an inline mapping). */
static const struct cnode *merged_get(const struct cnode *map, const char *key, int depth,
				      const struct cnode **via)
{
	size_t i, j;

	if (depth > MAX_DEPTH)
		return NULL;
	for (i = 0; i + 1 < map->n; i += 2) {
		const struct cnode *v = map->kids[i + 1];
		const struct cnode *const *src = &v;
		size_t nsrc = 1;

		if (!is_merge_key(map->kids[i]))
			continue;
		if (v->kind == N_SEQ) {
			src = (const struct cnode *const *)v->kids;
			nsrc = v->n;
		}
		for (j = 0; j < nsrc; j++) {
			const struct cnode *m = deref(src[j]), *hit;

			if (!m || m->kind != N_MAP)
				continue;
			hit = map_get(m, key, NULL);
			if (!hit)
				hit = merged_get(m, key, depth + 1, via);
			if (hit) {
				if (src[j]->kind == N_ALIAS)
					*via = src[j];
				return hit;
			}
		}
	}
	return NULL;
}

static const char *kind_name(const struct cnode *n)
{
	switch (n->kind) {
	case N_MAP:
		return "a mapping";
	case N_SEQ:
		return "a sequence";
	case N_ALIAS:
		return "an alias";
	default:
		return is_null(n) ? "empty" : "a string";
	}
}

/* The mapping in which alias a is merged (it is the value of a '<<' key,
 * or an item of its sequence), or NULL when a is not a merge source. */
static const struct cnode *merging_map(const struct cnode *a)
{
	const struct cnode *p = a->parent;

	if (p && p->kind == N_SEQ) {
		a = p;
		p = p->parent;
	}
	if (!p || p->kind != N_MAP || a->idx % 2 != 1 || !is_merge_key(p->kids[a->idx - 1]))
		return NULL;
	return p;
}

static void hint_own_image(struct tree *t)
{
	bs_err_hint(t->err,
		    "write image: on the service itself (its own image: line, not an alias or a merge "
		    "key), then run the rollback again");
}

/* Refuse when an alias reuses n (on the way to the image): editing would
 * change what the alias stands for too.  An alias merging the service's
 * mapping into one that has its own image: is harmless. */
static int refuse_reused(struct tree *t, const struct cnode *n, const char *what, int is_svc)
{
	size_t i;

	if (!n->aliased)
		return 0;
	for (i = 0; i < t->naliases; i++) {
		const struct cnode *a = t->aliases[i], *m;

		if (a->target != n)
			continue;
		m = merging_map(a);
		if (is_svc && m && map_get(m, "image", NULL))
			continue;
		pos_err(t, BS_ERR_CONFIG, a->start,
			"%s is anchored as &%s and reused here by *%s; pinning its image would change it "
			"here too",
			what, n->anchor, a->value);
		hint_own_image(t);
		return -1;
	}
	return 0;
}

/* The services there, for a "no such service" message. */
static void list_services(struct tree *t, const struct cnode *services)
{
	char buf[BS_ERR_DETAIL_MAX - 64];
	size_t i, used = 0, shown = 0, total = 0;

	buf[0] = '\0';
	for (i = 0; i + 1 < services->n; i += 2) {
		const char *k = key_text(services->kids[i]);
		int w;

		if (!k || is_merge_key(services->kids[i]))
			continue;
		total++;
		if (used + strlen(k) + 8 >= sizeof(buf))
			continue;
		w = snprintf(buf + used, sizeof(buf) - used, "%s%s", shown ? ", " : "", k);
		used += (size_t)w;
		shown++;
	}
	if (!total)
		bs_err_detail(t->err, "'services' is empty");
	else if (shown < total)
		bs_err_detail(t->err, "services there: %s and %zu more", buf, total - shown);
	else
		bs_err_detail(t->err, "services there: %s", buf);
}

/* The byte offset of character index idx (libyaml's mark index). */
static int char_to_byte(const char *text, size_t len, size_t idx, size_t *off)
{
	size_t i = 0, c = 0;

	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	while (c < idx && i < len) {
		i++;
		while (i < len && ((unsigned char)text[i] & 0xC0) == 0x80)
			i++;
		c++;
	}
	if (c != idx)
		return -1;
	*off = i;
	return 0;
}

/* The start index of the scalar token that ends at end_index: the
 * scalar's own text, after its anchor and tag. */
static int scalar_token_start(struct tree *t, const char *text, size_t len, size_t end_index, size_t *start)
{
	yaml_parser_t p;
	yaml_token_t tok;
	int rc = -1, done = 0;

	if (!yaml_parser_initialize(&p))
		return nomem(t);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	while (!done) {
		if (!yaml_parser_scan(&p, &tok))
			break;
		if (tok.type == YAML_SCALAR_TOKEN && tok.end_mark.index == end_index) {
			*start = tok.start_mark.index;
			rc = 0;
			done = 1;
		}
		if (tok.type == YAML_STREAM_END_TOKEN)
			done = 1;
		yaml_token_delete(&tok);
	}
	yaml_parser_delete(&p);
	if (rc < 0)
		bs_err_set(t->err, BS_ERR_INTERNAL, "%s: cannot find the image's text", t->file);
	return rc;
}

/* Find services.<service>.image.  edit: it must be the service's own
 * one-line scalar, reused by no alias (see compose_edit.h), and its byte
 * range is computed; else aliases and merge keys are followed. */
static int locate(struct tree *t, const char *text, size_t len, const char *service, int edit,
		  struct found *f)
{
	const struct cnode *root = t->root, *services, *skey = NULL, *svc, *svckey = NULL, *img,
			   *imgkey = NULL;
	const struct cnode *via = NULL;
	char where[128 + BS_ERR_MSG_MAX / 4];
	size_t s0 = 0;

	if (!root || is_null(root)) {
		bs_err_set(t->err, BS_ERR_CONFIG, "%s: no 'services:' mapping (the file is empty)", t->file);
		bs_err_hint(
		    t->err,
		    "is this the compose file? compose lists its services under a top-level 'services:'");
		return -1;
	}
	if (root->kind != N_MAP) {
		pos_err(t, BS_ERR_CONFIG, root->start, "the file is %s, not a mapping with 'services:'",
			kind_name(root));
		bs_err_hint(
		    t->err,
		    "is this the compose file? compose lists its services under a top-level 'services:'");
		return -1;
	}
	if (check_dups(t, root, "the top level") < 0)
		return -1;
	services = map_get(root, "services", &skey);
	if (!services) {
		bs_err_set(t->err, BS_ERR_CONFIG, "%s: no top-level 'services:' mapping", t->file);
		bs_err_hint(
		    t->err,
		    "is this the compose file? compose lists its services under a top-level 'services:'");
		return -1;
	}
	if (services->kind == N_ALIAS) {
		if (edit) {
			pos_err(t, BS_ERR_CONFIG, services->start, "'services' is an alias (*%s)",
				services->value);
			hint_own_image(t);
			return -1;
		}
		services = deref(services);
	}
	if (services->kind != N_MAP) {
		pos_err(t, BS_ERR_CONFIG, services->start, "'services' is %s, not a mapping",
			kind_name(services));
		return -1;
	}
	if (check_dups(t, services, "'services'") < 0)
		return -1;
	svc = map_get(services, service, &svckey);
	if (!svc) {
		pos_err(t, BS_ERR_CONFIG, skey->start, "no service '%s' in 'services'", service);
		list_services(t, services);
		bs_err_hint(t->err,
			    "set compose.service in the backstop service's configuration to the compose "
			    "service's name");
		return -1;
	}
	snprintf(where, sizeof(where), "services.%s", service);
	if (svc->kind == N_ALIAS) {
		if (edit) {
			pos_err(t, BS_ERR_CONFIG, svc->start,
				"%s is an alias of &%s (line %u); pinning its image would change that "
				"service too",
				where, svc->value, (unsigned)svc->target->start.line + 1);
			hint_own_image(t);
			return -1;
		}
		svc = deref(svc);
	}
	if (svc->kind != N_MAP) {
		if (is_null(svc))
			pos_err(t, BS_ERR_CONFIG, svckey->start, "%s has no 'image:'", where);
		else
			pos_err(t, BS_ERR_CONFIG, svc->start, "%s is %s, not a mapping", where,
				kind_name(svc));
		return -1;
	}
	if (check_dups(t, svc, where) < 0)
		return -1;
	img = map_get(svc, "image", &imgkey);
	if (!img) {
		img = merged_get(svc, "image", 0, &via);
		if (img && edit) {
			if (via)
				pos_err(
				    t, BS_ERR_CONFIG, via->start,
				    "%s.image is inherited through the merge key '<<' from &%s (line %u); "
				    "pinning it there would change every service that merges &%s",
				    where, via->value, (unsigned)via->target->start.line + 1, via->value);
			else
				pos_err(t, BS_ERR_CONFIG, img->start,
					"%s.image is inherited through the merge key '<<'", where);
			hint_own_image(t);
			return -1;
		}
		if (!img) {
			pos_err(t, BS_ERR_CONFIG, svckey->start, "%s has no 'image:'%s", where,
				map_get(svc, "build", NULL) ? " (it is built from 'build:')" : "");
			bs_err_hint(t->err,
				    "backstop pins a service by its image: line; give the service one "
				    "(image: <repository>@sha256:<digest>), or use the exec driver");
			return -1;
		}
	}
	snprintf(where, sizeof(where), "services.%s.image", service);
	if (img->kind == N_ALIAS) {
		if (edit) {
			pos_err(
			    t, BS_ERR_CONFIG, img->start,
			    "%s is an alias of &%s (line %u); pinning it there would change every use of &%s",
			    where, img->value, (unsigned)img->target->start.line + 1, img->value);
			hint_own_image(t);
			return -1;
		}
		img = deref(img);
	}
	if (img->kind != N_SCALAR || is_null(img)) {
		pos_err(t, BS_ERR_CONFIG, img->start, "%s is %s, not an image reference", where,
			kind_name(img));
		return -1;
	}
	if (img->style == YAML_LITERAL_SCALAR_STYLE || img->style == YAML_FOLDED_SCALAR_STYLE) {
		if (edit) {
			pos_err(t, BS_ERR_CONFIG, img->start, "%s is a block scalar (| or >)", where);
			bs_err_hint(t->err,
				    "write the image on the image: line itself (image: <repository>:<tag>)");
			return -1;
		}
	}
	f->img = img;
	if (!edit)
		return 0;
	snprintf(where, sizeof(where), "services.%s.image", service);
	if (refuse_reused(t, img, where, 0) < 0)
		return -1;
	snprintf(where, sizeof(where), "services.%s", service);
	if (refuse_reused(t, svc, where, 1) < 0 || refuse_reused(t, services, "'services'", 0) < 0 ||
	    refuse_reused(t, root, "the top-level mapping", 0) < 0)
		return -1;

	/* The scalar's own bytes. */
	if (scalar_token_start(t, text, len, img->end.index, &s0) < 0)
		return -1;
	if (char_to_byte(text, len, s0, &f->b0) < 0 || char_to_byte(text, len, img->end.index, &f->b1) < 0 ||
	    f->b1 <= f->b0)
		goto lost;
	switch (img->style) {
	case YAML_SINGLE_QUOTED_SCALAR_STYLE:
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE: {
		char q = img->style == YAML_SINGLE_QUOTED_SCALAR_STYLE ? '\'' : '"';

		if (f->b1 - f->b0 < 2 || text[f->b0] != q || text[f->b1 - 1] != q)
			goto lost;
		break;
	}
	default:
		if (img->start.line == img->end.line &&
		    (f->b1 - f->b0 != img->len || memcmp(text + f->b0, img->value, img->len) != 0))
			goto lost;
		break;
	}
	return 0;
lost:
	return bs_err_set(t->err, BS_ERR_INTERNAL, "%s:%u:%u: cannot find the bytes of %s", t->file,
			  (unsigned)img->start.line + 1, (unsigned)img->start.column + 1, where);
}

/* ---- writing a scalar ------------------------------------------------------ */

/* Image references are ASCII letters, digits and ._/:@+- ; that is safe
 * as a plain scalar in block and flow context alike when it starts with a
 * letter or digit. */
static int plain_ok(const char *s)
{
	const char *p;

	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
		return 0;
	for (p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr("._/:@+-", *p)))
			return 0;
	return 1;
}

/* s written in style into buf (at least 2 * strlen(s) + 2 bytes). */
static int encode(const char *s, int style, char *buf, size_t *n)
{
	size_t o = 0;
	const char *p;

	switch (style) {
	case YAML_PLAIN_SCALAR_STYLE:
		if (!plain_ok(s))
			return -1;
		o = strlen(s);
		memcpy(buf, s, o);
		break;
	case YAML_SINGLE_QUOTED_SCALAR_STYLE:
		buf[o++] = '\'';
		for (p = s; *p; p++) {
			if (*p == '\'')
				buf[o++] = '\'';
			buf[o++] = *p;
		}
		buf[o++] = '\'';
		break;
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
		buf[o++] = '"';
		for (p = s; *p; p++) {
			if (*p == '"' || *p == '\\') {
				buf[o++] = '\\';
				buf[o++] = *p;
			} else {
				buf[o++] = *p;
			}
		}
		buf[o++] = '"';
		break;
	default:
		return -1;
	}
	*n = o;
	return 0;
}

/* ---- the API --------------------------------------------------------------- */

static void copy_trunc(char *dst, size_t n, const char *src)
{
	if (dst && n)
		snprintf(dst, n, "%s", src);
}

int bs_compose_pin(const char *text, size_t len, const char *file_name, const char *service,
		   const char *new_image, char **out, size_t *out_len, char *old_image, size_t old_n,
		   struct bs_err *err)
{
	struct tree t = {0};
	struct found f, g;
	size_t nlen, enc_len = 0, olen;
	char *enc = NULL, *o = NULL;
	const unsigned char *p;
	int rc = -1;

	*out = NULL;
	*out_len = 0;
	copy_trunc(old_image, old_n, "");
	t.file = file_name ? file_name : "compose file";
	t.err = err;
	nlen = strlen(new_image);
	if (nlen == 0 || nlen > MAX_IMAGE)
		return bs_err_set(err, BS_ERR_USAGE, "cannot pin '%s' in %s: not an image reference",
				  new_image, t.file);
	for (p = (const unsigned char *)new_image; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return bs_err_set(err, BS_ERR_USAGE,
					  "cannot pin an image with a control character in %s", t.file);

	if (parse(&t, text, len) < 0 || locate(&t, text, len, service, 1, &f) < 0)
		goto out;
	copy_trunc(old_image, old_n, f.img->value);
	if (strcmp(f.img->value, new_image) == 0) {
		o = malloc(len + 1);
		if (!o) {
			nomem(&t);
			goto out;
		}
		memcpy(o, text, len);
		o[len] = '\0';
		*out = o;
		*out_len = len;
		o = NULL;
		rc = 0;
		goto out;
	}
	enc = malloc(2 * nlen + 3);
	if (!enc) {
		nomem(&t);
		goto out;
	}
	if (encode(new_image, f.img->style, enc, &enc_len) < 0) {
		pos_err(&t, BS_ERR_USAGE, f.img->start,
			"cannot write '%s' as a plain (unquoted) YAML value in services.%s.image", new_image,
			service);
		bs_err_hint(err, "quote the image in the compose file (image: \"...\"), then pin it");
		goto out;
	}
	olen = len - (f.b1 - f.b0) + enc_len;
	o = malloc(olen + 1);
	if (!o) {
		nomem(&t);
		goto out;
	}
	memcpy(o, text, f.b0);
	memcpy(o + f.b0, enc, enc_len);
	memcpy(o + f.b0 + enc_len, text + f.b1, len - f.b1);
	o[olen] = '\0';

	/* It must read back as the new image, at the same place. */
	tree_release(&t);
	memset(&t, 0, sizeof(t));
	t.file = file_name ? file_name : "compose file";
	t.err = err;
	if (parse(&t, o, olen) < 0 || locate(&t, o, olen, service, 1, &g) < 0 ||
	    strcmp(g.img->value, new_image) != 0 || g.b0 != f.b0 || g.b1 != f.b0 + enc_len) {
		char why[BS_ERR_MSG_MAX];

		snprintf(why, sizeof(why), "%s", err->code ? err->msg : "it reads back differently");
		bs_err_set(err, BS_ERR_INTERNAL,
			   "%s: pinning services.%s.image to '%s' would not read back: %s", t.file, service,
			   new_image, why);
		goto out;
	}
	*out = o;
	*out_len = olen;
	o = NULL;
	rc = 0;
out:
	tree_release(&t);
	free(enc);
	free(o);
	return rc;
}

int bs_compose_image(const char *text, size_t len, const char *file_name, const char *service, char *image,
		     size_t n, struct bs_err *err)
{
	struct tree t = {0};
	struct found f;
	const char *v;
	size_t vlen;
	int rc = -1;

	if (n)
		image[0] = '\0';
	t.file = file_name ? file_name : "compose file";
	t.err = err;
	if (parse(&t, text, len) < 0 || locate(&t, text, len, service, 0, &f) < 0)
		goto out;
	v = f.img->value;
	vlen = f.img->len;
	/* a block scalar (| or >) ends with its newline */
	while (vlen && (v[vlen - 1] == '\n' || v[vlen - 1] == '\r'))
		vlen--;
	if (vlen == 0 || memchr(v, '\n', vlen) || memchr(v, '\0', vlen)) {
		pos_err(&t, BS_ERR_CONFIG, f.img->start, "services.%s.image is not one line of text",
			service);
		goto out;
	}
	if (vlen >= n) {
		pos_err(&t, BS_ERR_CONFIG, f.img->start, "services.%s.image is too long (over %zu bytes)",
			service, n ? n - 1 : 0);
		goto out;
	}
	memcpy(image, v, vlen);
	image[vlen] = '\0';
	rc = 0;
out:
	tree_release(&t);
	return rc;
}
