/* globals.c - see globals.h. */
#include "archive/globals.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define GLOBALS_FORMAT "backstop-globals"
#define GLOBALS_VERSION 1

/* ---- init / release / builders ---- */

void bs_globals_init(struct bs_globals *g)
{
	memset(g, 0, sizeof(*g));
}

static void free_list(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void bs_globals_release(struct bs_globals *g)
{
	size_t i;

	if (!g)
		return;
	for (i = 0; i < g->nroles; i++) {
		struct bs_grole *r = &g->roles[i];
		free(r->name);
		free(r->valid_until);
		if (r->password) {
			explicit_bzero(r->password, strlen(r->password));
			free(r->password);
		}
		free(r->comment);
		free_list(r->config, r->nconfig);
	}
	free(g->roles);
	for (i = 0; i < g->nmembers; i++) {
		free(g->members[i].role);
		free(g->members[i].member);
		free(g->members[i].grantor);
	}
	free(g->members);
	for (i = 0; i < g->ntablespaces; i++) {
		struct bs_gtablespace *t = &g->tablespaces[i];
		free(t->name);
		free(t->owner);
		free(t->location);
		free(t->comment);
		free_list(t->options, t->noptions);
		free_list(t->grantees, t->ngrantees);
		free(t->grantable);
	}
	free(g->tablespaces);
	bs_globals_init(g);
}

static int grow(void **arr, size_t n, size_t *cap, size_t sz)
{
	void *na;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	if (!(na = realloc(*arr, ncap * sz)))
		return -1;
	*arr = na;
	*cap = ncap;
	return 0;
}

static int push_str(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(**v));
	char *c;

	if (!nv)
		return -1;
	*v = nv;
	if (!(c = strdup(s)))
		return -1;
	nv[(*n)++] = c;
	return 0;
}

struct bs_grole *bs_globals_add_role(struct bs_globals *g, const char *name)
{
	struct bs_grole *r;

	if (grow((void **)&g->roles, g->nroles, &g->roles_cap, sizeof(*g->roles)) < 0)
		return NULL;
	r = &g->roles[g->nroles];
	memset(r, 0, sizeof(*r));
	r->connlimit = -1;
	r->inherit = 1;
	if (!(r->name = strdup(name)))
		return NULL;
	g->nroles++;
	return r;
}

int bs_grole_add_config(struct bs_grole *r, const char *setting)
{
	return push_str(&r->config, &r->nconfig, setting);
}

int bs_globals_add_member(struct bs_globals *g, const char *role, const char *member, const char *grantor,
			  int admin)
{
	struct bs_gmember *m;

	if (grow((void **)&g->members, g->nmembers, &g->members_cap, sizeof(*g->members)) < 0)
		return -1;
	m = &g->members[g->nmembers];
	memset(m, 0, sizeof(*m));
	m->role = strdup(role);
	m->member = strdup(member);
	m->grantor = grantor ? strdup(grantor) : NULL;
	m->admin = admin ? 1 : 0;
	if (!m->role || !m->member || (grantor && !m->grantor)) {
		free(m->role);
		free(m->member);
		free(m->grantor);
		return -1;
	}
	g->nmembers++;
	return 0;
}

struct bs_gtablespace *bs_globals_add_tablespace(struct bs_globals *g, const char *name, const char *owner,
						 const char *location)
{
	struct bs_gtablespace *t;

	if (grow((void **)&g->tablespaces, g->ntablespaces, &g->tablespaces_cap, sizeof(*g->tablespaces)) < 0)
		return NULL;
	t = &g->tablespaces[g->ntablespaces];
	memset(t, 0, sizeof(*t));
	t->name = strdup(name);
	t->owner = strdup(owner);
	t->location = strdup(location);
	g->ntablespaces++;
	return t->name && t->owner && t->location ? t : NULL;
}

int bs_gtablespace_add_option(struct bs_gtablespace *t, const char *option)
{
	return push_str(&t->options, &t->noptions, option);
}

int bs_gtablespace_add_grant(struct bs_gtablespace *t, const char *grantee, int grantable)
{
	int *ng = realloc(t->grantable, (t->ngrantees + 1) * sizeof(*ng));

	if (!ng)
		return -1;
	t->grantable = ng;
	ng[t->ngrantees] = grantable ? 1 : 0;
	return push_str(&t->grantees, &t->ngrantees, grantee);
}

const struct bs_grole *bs_globals_role(const struct bs_globals *g, const char *name)
{
	size_t i;

	for (i = 0; i < g->nroles; i++)
		if (strcmp(g->roles[i].name, name) == 0)
			return &g->roles[i];
	return NULL;
}

/* ---- JSON ---- */

static const struct {
	const char *key;
	unsigned bit;
} uses_names[] = {
	{ "owner", BS_GUSE_OWNER }, { "acl", BS_GUSE_ACL }, { "setting", BS_GUSE_SETTING },
	{ "other", BS_GUSE_OTHER }, { "member", BS_GUSE_MEMBER },
};
#define NUSES (sizeof(uses_names) / sizeof(uses_names[0]))

static json_t *jstr_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *jlist(char **v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

int bs_globals_json(const struct bs_globals *g, char **out, size_t *len, struct bs_err *err)
{
	json_t *root = json_object(), *roles = json_array(), *mem = json_array(), *tss = json_array();
	size_t i, j;
	char *s;

	json_object_set_new(root, "format", json_string(GLOBALS_FORMAT));
	json_object_set_new(root, "version", json_integer(GLOBALS_VERSION));
	json_object_set_new(root, "passwords", json_boolean(g->passwords));
	for (i = 0; i < g->nroles; i++) {
		const struct bs_grole *r = &g->roles[i];
		json_t *o = json_object(), *u = json_array();
		json_object_set_new(o, "name", json_string(r->name));
		json_object_set_new(o, "superuser", json_boolean(r->superuser));
		json_object_set_new(o, "inherit", json_boolean(r->inherit));
		json_object_set_new(o, "createrole", json_boolean(r->createrole));
		json_object_set_new(o, "createdb", json_boolean(r->createdb));
		json_object_set_new(o, "login", json_boolean(r->login));
		json_object_set_new(o, "replication", json_boolean(r->replication));
		json_object_set_new(o, "bypassrls", json_boolean(r->bypassrls));
		json_object_set_new(o, "connlimit", json_integer(r->connlimit));
		json_object_set_new(o, "valid_until", jstr_or_null(r->valid_until));
		if (r->password)
			json_object_set_new(o, "password", json_string(r->password));
		json_object_set_new(o, "comment", jstr_or_null(r->comment));
		json_object_set_new(o, "config", jlist(r->config, r->nconfig));
		for (j = 0; j < NUSES; j++)
			if (r->uses & uses_names[j].bit)
				json_array_append_new(u, json_string(uses_names[j].key));
		json_object_set_new(o, "uses", u);
		json_array_append_new(roles, o);
	}
	for (i = 0; i < g->nmembers; i++) {
		const struct bs_gmember *m = &g->members[i];
		json_array_append_new(mem, json_pack("{s:s,s:s,s:o,s:b}", "role", m->role, "member", m->member,
						     "grantor", jstr_or_null(m->grantor), "admin_option", m->admin));
	}
	for (i = 0; i < g->ntablespaces; i++) {
		const struct bs_gtablespace *t = &g->tablespaces[i];
		json_t *o = json_object(), *gr = json_array();
		json_object_set_new(o, "name", json_string(t->name));
		json_object_set_new(o, "owner", json_string(t->owner));
		json_object_set_new(o, "location", json_string(t->location));
		json_object_set_new(o, "comment", jstr_or_null(t->comment));
		json_object_set_new(o, "options", jlist(t->options, t->noptions));
		for (j = 0; j < t->ngrantees; j++)
			json_array_append_new(gr, json_pack("{s:s,s:b}", "grantee", t->grantees[j], "grantable",
							    t->grantable[j]));
		json_object_set_new(o, "create_granted_to", gr);
		json_array_append_new(tss, o);
	}
	json_object_set_new(root, "roles", roles);
	json_object_set_new(root, "memberships", mem);
	json_object_set_new(root, "tablespaces", tss);
	s = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!s)
		return bs_err_set(err, BS_ERR_FORMAT, "unable to write %s (a name or setting is not valid UTF-8)",
				  BS_MEMBER_GLOBALS);
	*len = strlen(s);
	if (!(*out = malloc(*len + 2))) {
		explicit_bzero(s, *len);
		free(s);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	memcpy(*out, s, *len);
	(*out)[(*len)++] = '\n';
	(*out)[*len] = '\0';
	explicit_bzero(s, strlen(s));
	free(s);
	return 0;
}

static int bad(struct bs_err *err, const char *what)
{
	return bs_err_set(err, BS_ERR_FORMAT, "invalid %s: %s", BS_MEMBER_GLOBALS, what);
}

static const char *ostr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static int str_list(json_t *a, char ***v, size_t *n)
{
	size_t i;
	json_t *x;

	if (!json_is_array(a))
		return -1;
	json_array_foreach(a, i, x) {
		if (!json_is_string(x) || push_str(v, n, json_string_value(x)) < 0)
			return -1;
	}
	return 0;
}

static int parse_role(struct bs_globals *g, json_t *o, struct bs_err *err)
{
	struct bs_grole *r;
	json_t *u, *x;
	size_t i, j;

	if (!json_is_object(o) || !ostr(o, "name"))
		return bad(err, "a role without a name");
	if (!(r = bs_globals_add_role(g, ostr(o, "name"))))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	r->superuser = json_is_true(json_object_get(o, "superuser"));
	r->inherit = json_is_true(json_object_get(o, "inherit"));
	r->createrole = json_is_true(json_object_get(o, "createrole"));
	r->createdb = json_is_true(json_object_get(o, "createdb"));
	r->login = json_is_true(json_object_get(o, "login"));
	r->replication = json_is_true(json_object_get(o, "replication"));
	r->bypassrls = json_is_true(json_object_get(o, "bypassrls"));
	x = json_object_get(o, "connlimit");
	r->connlimit = json_is_integer(x) ? (int)json_integer_value(x) : -1;
	if ((ostr(o, "valid_until") && !(r->valid_until = strdup(ostr(o, "valid_until")))) ||
	    (ostr(o, "password") && !(r->password = strdup(ostr(o, "password")))) ||
	    (ostr(o, "comment") && !(r->comment = strdup(ostr(o, "comment")))))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	if (json_object_get(o, "config") && str_list(json_object_get(o, "config"), &r->config, &r->nconfig) < 0)
		return bad(err, "a role's config is not a list of strings");
	u = json_object_get(o, "uses");
	json_array_foreach(u, i, x)
		for (j = 0; j < NUSES; j++)
			if (json_is_string(x) && strcmp(json_string_value(x), uses_names[j].key) == 0)
				r->uses |= uses_names[j].bit;
	return 0;
}

static int parse_tablespace(struct bs_globals *g, json_t *o, struct bs_err *err)
{
	struct bs_gtablespace *t;
	json_t *x;
	size_t i;

	if (!json_is_object(o) || !ostr(o, "name") || !ostr(o, "owner") || !ostr(o, "location"))
		return bad(err, "a tablespace needs a name, an owner and a location");
	if (!(t = bs_globals_add_tablespace(g, ostr(o, "name"), ostr(o, "owner"), ostr(o, "location"))))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	if (ostr(o, "comment") && !(t->comment = strdup(ostr(o, "comment"))))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	if (json_object_get(o, "options") && str_list(json_object_get(o, "options"), &t->options, &t->noptions) < 0)
		return bad(err, "a tablespace's options are not a list of strings");
	json_array_foreach(json_object_get(o, "create_granted_to"), i, x) {
		if (!ostr(x, "grantee"))
			return bad(err, "a tablespace grant without a grantee");
		if (bs_gtablespace_add_grant(t, ostr(x, "grantee"), json_is_true(json_object_get(x, "grantable"))) < 0)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	return 0;
}

int bs_globals_parse(struct bs_globals *g, const char *buf, size_t len, struct bs_err *err)
{
	json_error_t je;
	json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je), *x;
	size_t i;
	int rc = -1;

	bs_globals_release(g);
	if (!root)
		return bs_err_set(err, BS_ERR_FORMAT, "invalid %s: %s at line %d", BS_MEMBER_GLOBALS, je.text,
				  je.line);
	if (!json_is_object(root) || !ostr(root, "format") || strcmp(ostr(root, "format"), GLOBALS_FORMAT) != 0) {
		bad(err, "not a backstop-globals document");
		goto out;
	}
	x = json_object_get(root, "version");
	if (!json_is_integer(x) || json_integer_value(x) != GLOBALS_VERSION) {
		bs_err_set(err, BS_ERR_FORMAT, "unsupported %s version (this backstop reads version %d)",
			   BS_MEMBER_GLOBALS, GLOBALS_VERSION);
		bs_err_hint(err, "use a newer backstop to read this snapshot");
		goto out;
	}
	if (!json_is_array(json_object_get(root, "roles")) || !json_is_array(json_object_get(root, "memberships")) ||
	    !json_is_array(json_object_get(root, "tablespaces"))) {
		bad(err, "roles, memberships and tablespaces must be arrays");
		goto out;
	}
	g->passwords = json_is_true(json_object_get(root, "passwords"));
	json_array_foreach(json_object_get(root, "roles"), i, x) {
		if (parse_role(g, x, err) < 0)
			goto out;
	}
	json_array_foreach(json_object_get(root, "memberships"), i, x) {
		if (!ostr(x, "role") || !ostr(x, "member")) {
			bad(err, "a membership needs a role and a member");
			goto out;
		}
		if (bs_globals_add_member(g, ostr(x, "role"), ostr(x, "member"), ostr(x, "grantor"),
					  json_is_true(json_object_get(x, "admin_option"))) < 0) {
			bs_err_set(err, BS_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	json_array_foreach(json_object_get(root, "tablespaces"), i, x) {
		if (parse_tablespace(g, x, err) < 0)
			goto out;
	}
	rc = 0;
out:
	json_decref(root);
	if (rc < 0)
		bs_globals_release(g);
	return rc;
}

/* ---- SQL ---- */

struct sb {
	char *s;
	size_t n, cap;
	int bad;
};

static void sb_add(struct sb *b, const char *s, size_t n)
{
	if (b->bad)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t nc = (b->cap + n + 1) * 2;
		char *ns = realloc(b->s, nc);
		if (!ns) {
			b->bad = 1;
			return;
		}
		b->s = ns;
		b->cap = nc;
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

static void sb_puts(struct sb *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void sb_quoted(struct sb *b, const char *s, char q)
{
	const char *p;

	sb_add(b, &q, 1);
	for (p = s; *p; p++) {
		if (*p == q)
			sb_add(b, &q, 1);
		sb_add(b, p, 1);
	}
	sb_add(b, &q, 1);
}

static void sb_ident(struct sb *b, const char *s)
{
	sb_quoted(b, s, '"');
}

static void sb_literal(struct sb *b, const char *s)
{
	sb_quoted(b, s, '\'');
}

static char *sb_done(struct sb *b)
{
	if (b->bad) {
		free(b->s);
		return NULL;
	}
	return b->s ? b->s : strdup("");
}

/* Settings whose value is a list quoted element by element (pg_dumpall's
 * variable_is_guc_list_quote). */
static int list_quoted(const char *name, size_t n)
{
	static const char *const names[] = { "local_preload_libraries", "search_path", "session_preload_libraries",
					     "shared_preload_libraries", "temp_tablespaces",
					     "unix_socket_directories" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && strncasecmp(names[i], name, n) == 0)
			return 1;
	return 0;
}

/* The elements of a list setting ("a, \"B c\""): each as a literal. */
static void sb_list_value(struct sb *b, const char *v)
{
	const char *p = v;
	int first = 1;
	struct sb el = { 0 };

	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		el.n = 0;
		sb_add(&el, "", 0);
		if (*p == '"') {
			for (p++; *p; p++) {
				if (*p == '"') {
					if (p[1] == '"') {
						sb_add(&el, p, 1);
						p++;
						continue;
					}
					p++;
					break;
				}
				sb_add(&el, p, 1);
			}
		} else {
			const char *s = p;
			while (*p && *p != ',')
				p++;
			while (p > s && (p[-1] == ' ' || p[-1] == '\t'))
				p--;
			sb_add(&el, s, (size_t)(p - s));
		}
		while (*p && *p != ',')
			p++;
		if (*p == ',')
			p++;
		if (!first)
			sb_puts(b, ", ");
		sb_literal(b, el.s ? el.s : "");
		first = 0;
	}
	if (first)
		sb_puts(b, "''");
	if (el.bad)
		b->bad = 1;
	free(el.s);
}

char *bs_globals_setting_sql(const char *role, const char *setting)
{
	struct sb b = { 0 };
	const char *eq = strchr(setting, '=');
	size_t nl = eq ? (size_t)(eq - setting) : strlen(setting);
	char *name = strndup(setting, nl);

	if (!name)
		return NULL;
	sb_puts(&b, "ALTER ROLE ");
	sb_ident(&b, role);
	sb_puts(&b, " SET ");
	sb_ident(&b, name);
	sb_puts(&b, " TO ");
	if (list_quoted(setting, nl))
		sb_list_value(&b, eq ? eq + 1 : "");
	else
		sb_literal(&b, eq ? eq + 1 : "");
	sb_puts(&b, ";");
	free(name);
	return sb_done(&b);
}

char *bs_globals_role_sql(const struct bs_grole *r)
{
	struct sb b = { 0 };
	char num[32];
	size_t i;

	sb_puts(&b, "CREATE ROLE ");
	sb_ident(&b, r->name);
	sb_puts(&b, r->superuser ? " WITH SUPERUSER" : " WITH NOSUPERUSER");
	sb_puts(&b, r->inherit ? " INHERIT" : " NOINHERIT");
	sb_puts(&b, r->createrole ? " CREATEROLE" : " NOCREATEROLE");
	sb_puts(&b, r->createdb ? " CREATEDB" : " NOCREATEDB");
	sb_puts(&b, r->login ? " LOGIN" : " NOLOGIN");
	sb_puts(&b, r->replication ? " REPLICATION" : " NOREPLICATION");
	sb_puts(&b, r->bypassrls ? " BYPASSRLS" : " NOBYPASSRLS");
	if (r->connlimit != -1) {
		snprintf(num, sizeof(num), " CONNECTION LIMIT %d", r->connlimit);
		sb_puts(&b, num);
	}
	if (r->password) {
		sb_puts(&b, " PASSWORD ");
		sb_literal(&b, r->password);
	}
	if (r->valid_until) {
		sb_puts(&b, " VALID UNTIL ");
		sb_literal(&b, r->valid_until);
	}
	sb_puts(&b, ";\n");
	for (i = 0; i < r->nconfig; i++) {
		char *s = bs_globals_setting_sql(r->name, r->config[i]);
		if (!s) {
			b.bad = 1;
			break;
		}
		sb_puts(&b, s);
		sb_puts(&b, "\n");
		free(s);
	}
	if (r->comment) {
		sb_puts(&b, "COMMENT ON ROLE ");
		sb_ident(&b, r->name);
		sb_puts(&b, " IS ");
		sb_literal(&b, r->comment);
		sb_puts(&b, ";\n");
	}
	return sb_done(&b);
}

char *bs_globals_member_sql(const struct bs_gmember *m, int with_grantor)
{
	struct sb b = { 0 };

	sb_puts(&b, "GRANT ");
	sb_ident(&b, m->role);
	sb_puts(&b, " TO ");
	sb_ident(&b, m->member);
	if (m->admin)
		sb_puts(&b, " WITH ADMIN OPTION");
	if (with_grantor && m->grantor) {
		sb_puts(&b, " GRANTED BY ");
		sb_ident(&b, m->grantor);
	}
	sb_puts(&b, ";\n");
	return sb_done(&b);
}

char *bs_globals_tablespace_sql(const struct bs_gtablespace *t)
{
	struct sb b = { 0 };
	size_t i;

	sb_puts(&b, "CREATE TABLESPACE ");
	sb_ident(&b, t->name);
	sb_puts(&b, " OWNER ");
	sb_ident(&b, t->owner);
	sb_puts(&b, " LOCATION ");
	sb_literal(&b, t->location);
	sb_puts(&b, ";\n");
	if (t->noptions) {
		sb_puts(&b, "ALTER TABLESPACE ");
		sb_ident(&b, t->name);
		sb_puts(&b, " SET (");
		for (i = 0; i < t->noptions; i++) {
			/* reloptions are "name=value"; both quoted, so an edited
			 * globals.json can never inject SQL here */
			const char *eq = strchr(t->options[i], '=');
			char *name = strndup(t->options[i], eq ? (size_t)(eq - t->options[i]) : strlen(t->options[i]));
			sb_puts(&b, i ? ", " : "");
			sb_ident(&b, name ? name : "");
			sb_puts(&b, " = ");
			sb_literal(&b, eq ? eq + 1 : "");
			free(name);
		}
		sb_puts(&b, ");\n");
	}
	for (i = 0; i < t->ngrantees; i++) {
		sb_puts(&b, "GRANT CREATE ON TABLESPACE ");
		sb_ident(&b, t->name);
		sb_puts(&b, " TO ");
		if (*t->grantees[i])
			sb_ident(&b, t->grantees[i]);
		else
			sb_puts(&b, "PUBLIC");
		sb_puts(&b, t->grantable[i] ? " WITH GRANT OPTION;\n" : ";\n");
	}
	if (t->comment) {
		sb_puts(&b, "COMMENT ON TABLESPACE ");
		sb_ident(&b, t->name);
		sb_puts(&b, " IS ");
		sb_literal(&b, t->comment);
		sb_puts(&b, ";\n");
	}
	return sb_done(&b);
}

int bs_globals_print(const struct bs_globals *g, FILE *f)
{
	size_t i;
	char *s;

	fprintf(f, "--\n-- Roles and tablespaces this database needs (backstop restore --globals-only).\n"
		   "-- CREATE ROLE fails for a role that exists already: existing roles are never altered.\n"
		   "--\n\nSET standard_conforming_strings = on;\n\n");
	if (g->nroles)
		fprintf(f, "-- Roles\n\n");
	for (i = 0; i < g->nroles; i++) {
		if (!(s = bs_globals_role_sql(&g->roles[i])))
			return -1;
		fputs(s, f);
		free(s);
	}
	if (g->nmembers)
		fprintf(f, "\n-- Role memberships\n\n");
	for (i = 0; i < g->nmembers; i++) {
		if (!(s = bs_globals_member_sql(&g->members[i], 1)))
			return -1;
		fputs(s, f);
		free(s);
	}
	if (g->ntablespaces)
		fprintf(f, "\n-- Tablespaces (the directories must exist on the new server)\n\n");
	for (i = 0; i < g->ntablespaces; i++) {
		if (!(s = bs_globals_tablespace_sql(&g->tablespaces[i])))
			return -1;
		fputs(s, f);
		free(s);
	}
	return ferror(f) ? -1 : 0;
}
