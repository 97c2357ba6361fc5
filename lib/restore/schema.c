/* schema.c - the schema.dump member: spool it to a private temporary file,
 * select what a filtered restore applies, run pg_restore for pre-data and
 * post-data, refresh materialized views, create event triggers last.
 * (--clean never gets here: swap.c restores into a new database.) */
#include "restore/restore_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/run.h"
#include "pg/conn.h"
#include "common/secret.h"

#define SPOOL_BUF (1 << 20)

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- private temporary files ----
 *
 * pg_restore needs a file name (and reopens it in each -j worker).  The
 * files are created with mkstemp and unlinked at once; pg_restore reaches
 * them through /proc/<pid>/fd/<fd> while we hold them open, so nothing is
 * left behind however the process ends.  Without /proc they keep their
 * name until rs_schema_cleanup. */

static int spool_create(struct rs_spool *sp, const char *what, struct bs_err *err)
{
	const char *base = getenv("TMPDIR");
	char proc[64];

	if (!base || !*base)
		base = "/tmp";
	if ((size_t)snprintf(sp->name, sizeof(sp->name), "%s/backstop-restore-%s-XXXXXX", base, what) >=
	    sizeof(sp->name)) {
		sp->name[0] = '\0';
		return bs_err_set(err, BS_ERR_IO, "temporary directory path '%s' is too long", base);
	}
	sp->fd = mkostemp(sp->name, O_CLOEXEC);
	if (sp->fd < 0) {
		int e = errno;
		sp->name[0] = '\0';
		bs_err_sys(err, BS_ERR_IO, e, "unable to create a temporary file in '%s'", base);
		bs_err_hint(err, "set TMPDIR to a writable directory");
		return -1;
	}
	snprintf(proc, sizeof(proc), "/proc/%ld/fd/%d", (long)getpid(), sp->fd);
	if (access(proc, R_OK) == 0 && unlink(sp->name) == 0) {
		snprintf(sp->path, sizeof(sp->path), "%s", proc);
		sp->name[0] = '\0';
	} else {
		snprintf(sp->path, sizeof(sp->path), "%s", sp->name);
	}
	return 0;
}

static void spool_release(struct rs_spool *sp)
{
	if (sp->fd >= 0)
		close(sp->fd);
	if (sp->name[0])
		unlink(sp->name);
	sp->fd = -1;
	sp->name[0] = sp->path[0] = '\0';
}

void rs_schema_init(struct rs_ctx *cx)
{
	cx->dump.fd = cx->list.fd = cx->list_post.fd = cx->list_evt.fd = -1;
}

void rs_schema_cleanup(struct rs_ctx *cx)
{
	spool_release(&cx->dump);
	spool_release(&cx->list);
	spool_release(&cx->list_post);
	spool_release(&cx->list_evt);
}

/* Copy the current member (schema.dump) to a file pg_restore can open. */
int rs_schema_spool(struct rs_ctx *cx, struct bs_err *err)
{
	char *buf = NULL;
	int rc = -1;
	int version = cx->m->server_version_num;

	if (spool_create(&cx->dump, "schema", err) < 0)
		return -1;
	if (!(buf = malloc(SPOOL_BUF)))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	for (;;) {
		ssize_t n = bs_areader_read(cx->ar, buf, SPOOL_BUF, err);
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		if (write_all(cx->dump.fd, buf, (size_t)n) < 0) {
			bs_err_sys(err, BS_ERR_IO, errno, "unable to write a temporary file");
			goto out;
		}
	}
	if (bs_pg_find_tool(cx->o->pg_bindir, "pg_restore", version, cx->pg_restore, err) < 0)
		goto out;
	rc = 0;
out:
	free(buf);
	return rc;
}

/* ---- running pg_restore ---- */

struct child_conn {
	char *conninfo;
	char *password;
	char *dbarg;     /* "--dbname=<conninfo>" */
	char *pwenv;     /* "PGPASSWORD=..." */
	char *optenv;    /* "PGOPTIONS=..." */
};

static void child_conn_release(struct child_conn *cc)
{
	free(cc->conninfo);
	free(cc->dbarg);
	free(cc->optenv);
	bs_secret_free(cc->password);
	bs_secret_free(cc->pwenv);
	memset(cc, 0, sizeof(*cc));
}

static int child_conn_init(struct rs_ctx *cx, struct child_conn *cc, struct bs_err *err)
{
	memset(cc, 0, sizeof(*cc));
	if (bs_pg_conninfo_for_child(cx->o->target, cx->dbname, &cc->conninfo, &cc->password, err) < 0)
		return -1;
	cc->dbarg = malloc(strlen(cc->conninfo) + 16);
	if (cc->dbarg)
		sprintf(cc->dbarg, "--dbname=%s", cc->conninfo);
	if (cc->password && (cc->pwenv = malloc(strlen(cc->password) + 16)))
		sprintf(cc->pwenv, "PGPASSWORD=%s", cc->password);
	/* pg_restore commits every statement: don't wait for a WAL flush each
	 * time (the restore ends with one synchronous commit) */
	cc->optenv = bs_pg_child_pgoptions(cx->server_version, rs_target_pgoptions(cx));
	if (!cc->dbarg || !cc->optenv || (cc->password && !cc->pwenv)) {
		child_conn_release(cc);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	return 0;
}

/* pg_restore quotes the server's DETAIL line after the error ("DETAIL:
 * view app.v depends on table app.t"): keep it.  (The server's HINT speaks
 * of SQL the user does not write here.) */
static void server_detail(const char *tail, struct bs_err *err)
{
	const char *p = strstr(tail, "DETAIL:  "), *nl;

	if (!p)
		return;
	p += 9;
	nl = strchr(p, '\n');
	bs_err_detail(err, "%.*s", nl ? (int)(nl - p) : (int)strlen(p), p);
}

/* Run pg_restore with the given options (NULL-terminated) against the
 * target, on the spooled dump.  stdout_fd: -1 or a file for --list. */
static int run_pg_restore(struct rs_ctx *cx, const char *const *opts, int with_db, int stdout_fd,
			  struct bs_err *err)
{
	const char *argv[32];
	const char *env[3] = { NULL, NULL, NULL };
	char rolearg[300];
	size_t ne = 0;
	struct child_conn cc;
	struct bs_run r;
	size_t n = 0;
	int rc;

	memset(&cc, 0, sizeof(cc));
	if (with_db && child_conn_init(cx, &cc, err) < 0)
		return -1;
	argv[n++] = cx->pg_restore;
	while (*opts && n < 18)
		argv[n++] = *opts++;
	n = rs_restore_flags(cx, argv, n, rolearg, sizeof(rolearg));
	if (with_db) {
		argv[n++] = "--no-password";
		argv[n++] = cc.dbarg;
	}
	argv[n++] = cx->dump.path;
	argv[n] = NULL;
	if (cc.pwenv)
		env[ne++] = cc.pwenv;
	if (cc.optenv)
		env[ne++] = cc.optenv;
	bs_run_init(&r);
	r.argv = argv;
	r.env = env;
	r.stdout_fd = stdout_fd;
	rc = bs_run_sync(&r, err);
	if (rc < 0)
		server_detail(r.stderr_tail, err);
	child_conn_release(&cc);
	return rc;
}

/* ---- selection ---- */

/* Read all of fd (from offset 0). */
static int read_fd(int fd, char **out, size_t *len, struct bs_err *err)
{
	struct stat st;
	char *buf;
	size_t got = 0;

	*out = NULL;
	if (fstat(fd, &st) < 0 || st.st_size < 0 || (uint64_t)st.st_size > RS_META_MAX)
		return bs_err_set(err, BS_ERR_IO, "unable to read a temporary file");
	if (!(buf = malloc((size_t)st.st_size + 1)))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	while (got < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + got, (size_t)st.st_size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return bs_err_sys(err, BS_ERR_IO, n < 0 ? errno : EIO, "unable to read a temporary file");
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

/* pg_restore --list --verbose into cx->toc. */
static int load_toc(struct rs_ctx *cx, struct bs_err *err)
{
	static const char *const opts[] = { "--list", "--verbose", NULL };
	struct rs_spool out = { -1, "", "" };
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (spool_create(&out, "toc", err) < 0)
		return -1;
	rc = run_pg_restore(cx, opts, 0, out.fd, err);
	if (rc == 0)
		rc = read_fd(out.fd, &text, &len, err);
	spool_release(&out);
	if (rc < 0)
		return bs_err_prefix(err, "unable to list %s", BS_MEMBER_SCHEMA);
	rc = bs_toc_parse(&cx->toc, text, len, err);
	free(text);
	cx->have_toc = rc == 0;
	return rc;
}

/* The kept TOC entries, as a --use-list file in sp. */
static int write_list_to(struct rs_ctx *cx, struct rs_spool *sp, struct bs_err *err)
{
	size_t len = 0;
	char *list = bs_toc_list(&cx->toc, &len);
	int rc = 0;

	if (!list)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	if (spool_create(sp, "list", err) < 0)
		rc = -1;
	else if (write_all(sp->fd, list, len) < 0)
		rc = bs_err_sys(err, BS_ERR_IO, errno, "unable to write a temporary file");
	free(list);
	return rc;
}

static int write_list(struct rs_ctx *cx, struct bs_err *err)
{
	return write_list_to(cx, &cx->list, err);
}

int rs_schema_select(struct rs_ctx *cx, struct bs_err *err)
{
	size_t i, j;

	/* header tables named by a filter */
	for (i = 0; i < cx->ntables; i++) {
		struct rs_table *t = &cx->tables[i];
		t->selected = cx->nfilters == 0 ||
			      bs_rfilter_match(cx->filters, cx->nfilters, t->schema, t->name);
	}
	if (cx->nfilters == 0)
		return 0;

	if (cx->dump.path[0]) {
		if (load_toc(cx, err) < 0)
			return -1;
		bs_toc_select(&cx->toc, cx->filters, cx->nfilters, cx->o->clean);
		/* tables the selection pulled in (partitions, children) */
		for (j = 0; j < cx->toc.n; j++) {
			const struct bs_toc_entry *e = &cx->toc.e[j];
			if (!e->keep || e->kind != BS_TOC_TABLE)
				continue;
			for (i = 0; i < cx->ntables; i++)
				if (!cx->tables[i].selected &&
				    bs_toc_entry_is(e, cx->tables[i].schema, cx->tables[i].name))
					cx->tables[i].selected = 1;
		}
		if (write_list(cx, err) < 0)
			return -1;
	}
	for (i = 0; i < cx->nfilters; i++) {
		const struct bs_rfilter *f = &cx->filters[i];
		if (f->matched)
			continue;
		bs_err_set(err, BS_ERR_NOT_FOUND, "table '%s%s%s' is not in snapshot %s", f->schema ? f->schema : "",
			   f->schema ? "." : "", f->name, cx->m->id ? cx->m->id : "?");
		bs_err_hint(err, "list the snapshot's tables with --list");
		return -1;
	}
	return 0;
}

/* ---- pre-data, post-data ---- */

int rs_schema_predata(struct rs_ctx *cx, struct bs_err *err)
{
	const char *opts[8];
	char listarg[PATH_MAX + 16];
	size_t n = 0;

	opts[n++] = "--section=pre-data";
	opts[n++] = "--exit-on-error";
	if (cx->list.path[0]) {
		snprintf(listarg, sizeof(listarg), "--use-list=%s", cx->list.path);
		opts[n++] = listarg;
	}
	opts[n] = NULL;
	cx->changed = 1;
	if (run_pg_restore(cx, opts, 1, -1, err) < 0)
		return bs_err_prefix(err, "unable to create the schema (pre-data)");
	return 0;
}

/* ---- post-data of one table while the others load ----
 *
 * An index, PRIMARY KEY, UNIQUE, CHECK or EXCLUDE constraint whose only
 * dependency is one table can be built as soon as that table's data is
 * in, as pg_restore -j does.  Foreign keys (they need the referenced
 * table's key), triggers, rules, policies, comments and everything else
 * wait for the final pass (but the comments and security labels of the
 * early ones go with them).  Whether an entry is matched to the right
 * table is a matter of speed only: PostgreSQL's locks keep an index built
 * early correct whatever is still loading. */

static int early_desc(const char *desc)
{
	return strcmp(desc, "INDEX") == 0 || strcmp(desc, "CONSTRAINT") == 0 ||
	       strcmp(desc, "CHECK CONSTRAINT") == 0;
}

static int early_any(const struct rs_ctx *cx)
{
	size_t i;

	for (i = 0; i < cx->ntables; i++)
		if (cx->tables[i].pd == RS_PD_DONE)
			return 1;
	return 0;
}

/* Unkeep the entries run early (split_event_triggers restores keep). */
static void early_mark_done(struct rs_ctx *cx)
{
	size_t i, k;

	for (i = 0; i < cx->ntables; i++) {
		const struct rs_table *t = &cx->tables[i];
		if (t->pd != RS_PD_DONE)
			continue;
		for (k = 0; k < t->nearly; k++)
			cx->toc.e[t->early[k]].keep = 0;
	}
}

struct idpos {
	int id;
	size_t pos;
};

static int cmp_idpos(const void *a, const void *b)
{
	int x = ((const struct idpos *)a)->id, y = ((const struct idpos *)b)->id;

	return x < y ? -1 : x > y;
}

/* "<schema> <name>" of a table, to look up a TABLE entry's "<schema>
 * <name> <owner>" without its owner. */
struct tkey {
	char *key;
	struct rs_table *t;
};

static int cmp_tkey(const void *a, const void *b)
{
	return strcmp(((const struct tkey *)a)->key, ((const struct tkey *)b)->key);
}

static struct rs_table *table_of_entry(const struct bs_toc_entry *e, struct tkey *keys, size_t nkeys)
{
	const char *sp = strrchr(e->rest, ' ');
	struct tkey k, *f;
	char buf[1200];

	if (!sp || (size_t)(sp - e->rest) >= sizeof(buf))
		return NULL;
	memcpy(buf, e->rest, (size_t)(sp - e->rest));
	buf[sp - e->rest] = '\0';
	k.key = buf;
	f = nkeys ? bsearch(&k, keys, nkeys, sizeof(*keys), cmp_tkey) : NULL;
	return f && bs_toc_entry_is(e, f->t->schema, f->t->name) ? f->t : NULL;
}

static int add_early(struct rs_table *t, size_t pos)
{
	size_t *n = realloc(t->early, (t->nearly + 1) * sizeof(*n));

	if (!n)
		return -1;
	t->early = n;
	t->early[t->nearly++] = pos;
	return 0;
}

int rs_schema_early_plan(struct rs_ctx *cx, struct bs_err *err)
{
	struct bs_toc *toc = &cx->toc;
	struct idpos *ids = NULL;
	struct rs_table **owner = NULL; /* by toc position: the table an early entry waits for */
	struct tkey *keys = NULL;
	size_t i, nkeys = 0, planned = 0, tables = 0;
	int rc = -1;

	if (cx->o->data_only || cx->o->schema_only || !cx->dump.path[0] ||
	    cx->m->version < BS_FORMAT_VERSION_TABLE_END || cx->ntables == 0)
		return 0; /* no end members: post-data after all the data */
	if (!cx->have_toc) {
		if (load_toc(cx, err) < 0)
			return -1;
		for (i = 0; i < toc->n; i++)
			toc->e[i].keep = 1; /* no filter: everything */
	}
	ids = calloc(toc->n ? toc->n : 1, sizeof(*ids));
	owner = calloc(toc->n ? toc->n : 1, sizeof(*owner));
	keys = calloc(cx->ntables, sizeof(*keys));
	if (!ids || !owner || !keys) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < toc->n; i++) {
		ids[i].id = toc->e[i].id;
		ids[i].pos = i;
	}
	qsort(ids, toc->n, sizeof(*ids), cmp_idpos);
	for (i = 0; i < cx->ntables; i++) {
		struct rs_table *t = &cx->tables[i];
		if (!t->selected)
			continue;
		if (!(keys[nkeys].key = malloc(strlen(t->schema) + strlen(t->name) + 2))) {
			bs_err_set(err, BS_ERR_NOMEM, "out of memory");
			goto out;
		}
		sprintf(keys[nkeys].key, "%s %s", t->schema, t->name);
		keys[nkeys++].t = t;
	}
	qsort(keys, nkeys, sizeof(*keys), cmp_tkey);
	for (i = 0; i < toc->n; i++) {
		const struct bs_toc_entry *e = &toc->e[i];
		struct idpos key, *dep;
		struct rs_table *t;
		if (!e->keep || !early_desc(e->desc) || e->ndeps != 1)
			continue;
		key.id = e->deps[0];
		dep = bsearch(&key, ids, toc->n, sizeof(*ids), cmp_idpos);
		if (!dep || toc->e[dep->pos].kind != BS_TOC_TABLE || !toc->e[dep->pos].keep)
			continue;
		if (!(t = table_of_entry(&toc->e[dep->pos], keys, nkeys)))
			continue;
		if (add_early(t, i) < 0) {
			bs_err_set(err, BS_ERR_NOMEM, "out of memory");
			goto out;
		}
		if (t->pd == RS_PD_NONE)
			tables++;
		t->pd = RS_PD_WAIT;
		owner[i] = t;
		planned++;
	}
	/* the comments and security labels of those: pg_restore takes an
	 * entry without a section of its own (a COMMENT) to be in the section
	 * of the entry before it in the list, so one left for the final pass
	 * without its index would be skipped there */
	for (i = 0; i < toc->n; i++) {
		const struct bs_toc_entry *e = &toc->e[i];
		struct rs_table *t = NULL;
		size_t k;
		if (!e->keep || e->kind != BS_TOC_ATTACHED || e->ndeps == 0 ||
		    (strcmp(e->desc, "COMMENT") != 0 && strcmp(e->desc, "SECURITY LABEL") != 0))
			continue;
		for (k = 0; k < e->ndeps; k++) {
			struct idpos key, *dep;
			key.id = e->deps[k];
			dep = bsearch(&key, ids, toc->n, sizeof(*ids), cmp_idpos);
			if (!dep || !owner[dep->pos] || (t && owner[dep->pos] != t))
				break;
			t = owner[dep->pos];
		}
		if (k < e->ndeps)
			continue;
		if (add_early(t, i) < 0) {
			bs_err_set(err, BS_ERR_NOMEM, "out of memory");
			goto out;
		}
		planned++;
	}
	bs_debug("restore: %zu post-data entries of %zu tables may run as soon as their table is loaded", planned,
		 tables);
	rc = 0;
out:
	for (i = 0; i < nkeys; i++)
		free(keys[i].key);
	free(keys);
	free(owner);
	free(ids);
	return rc;
}

int rs_schema_early_run(struct rs_ctx *cx, struct rs_table *const *tabs, size_t n, struct bs_err *err)
{
	struct rs_spool sp = { -1, "", "" };
	const char *opts[4];
	char listarg[PATH_MAX + 16];
	char *text = NULL;
	size_t len = 0, cap = 0, i, k;
	int rc = -1;

	for (i = 0; i < n; i++)
		for (k = 0; k < tabs[i]->nearly; k++) {
			const char *line = cx->toc.e[tabs[i]->early[k]].line;
			size_t l = strlen(line);
			if (len + l + 2 > cap) {
				size_t ncap = cap ? cap * 2 : 4096;
				char *nt;
				while (ncap < len + l + 2)
					ncap *= 2;
				if (!(nt = realloc(text, ncap))) {
					bs_err_set(err, BS_ERR_NOMEM, "out of memory");
					goto out;
				}
				text = nt;
				cap = ncap;
			}
			memcpy(text + len, line, l);
			len += l;
			text[len++] = '\n';
		}
	if (len == 0)
		return 0;
	if (spool_create(&sp, "early", err) < 0)
		goto out;
	if (write_all(sp.fd, text, len) < 0) {
		bs_err_sys(err, BS_ERR_IO, errno, "unable to write a temporary file");
		goto out;
	}
	snprintf(listarg, sizeof(listarg), "--use-list=%s", sp.path);
	opts[0] = "--section=post-data";
	opts[1] = "--exit-on-error";
	opts[2] = listarg;
	opts[3] = NULL;
	if (run_pg_restore(cx, opts, 1, -1, err) < 0) {
		bs_err_prefix(err, "unable to create indexes, constraints and triggers (post-data)");
		goto out;
	}
	rc = 0;
out:
	spool_release(&sp);
	free(text);
	return rc;
}

/* ---- event triggers ----
 *
 * pg_restore creates event triggers in its last pass; a restore here
 * refreshes materialized views after pg_restore's post-data, and REFRESH
 * fires ddl_command_start/end triggers.  So post-data runs without the
 * event triggers (and what is attached to them: comments, security
 * labels), and rs_schema_event_triggers creates them at the very end. */

static int is_event_trigger(const struct bs_toc_entry *e)
{
	return strcmp(e->desc, "EVENT TRIGGER") == 0;
}

static int event_trigger_part(const struct bs_toc_entry *e, const int *ids, size_t nids)
{
	size_t i, j;

	if (is_event_trigger(e))
		return 1;
	if (e->kind != BS_TOC_ATTACHED)
		return 0;
	for (i = 0; i < e->ndeps; i++)
		for (j = 0; j < nids; j++)
			if (e->deps[i] == ids[j])
				return 1;
	return 0;
}

/* Write list_post (everything post-data applies but the event triggers
 * and the entries loaders ran early) and list_evt (the event triggers
 * alone), if the restore creates any event trigger or ran any entry
 * early. */
static int split_event_triggers(struct rs_ctx *cx, struct bs_err *err)
{
	struct bs_toc *t = &cx->toc;
	int *ids = NULL;
	unsigned char *keep = NULL;
	size_t i, nids = 0;
	int rc = -1;

	if (!cx->have_toc) {
		if (load_toc(cx, err) < 0)
			return -1;
		for (i = 0; i < t->n; i++)
			t->e[i].keep = 1; /* no filter: everything */
	}
	for (i = 0; i < t->n; i++)
		if (t->e[i].keep && is_event_trigger(&t->e[i]))
			nids++;
	if (nids == 0 && !early_any(cx))
		return 0;
	ids = calloc(nids ? nids : 1, sizeof(*ids));
	keep = calloc(t->n ? t->n : 1, 1);
	if (!ids || !keep) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0, nids = 0; i < t->n; i++)
		if (t->e[i].keep && is_event_trigger(&t->e[i]))
			ids[nids++] = t->e[i].id;
	for (i = 0; i < t->n; i++)
		keep[i] = (unsigned char)t->e[i].keep;
	early_mark_done(cx);
	for (i = 0; i < t->n; i++)
		t->e[i].keep = t->e[i].keep && keep[i] && !event_trigger_part(&t->e[i], ids, nids);
	if (write_list_to(cx, &cx->list_post, err) < 0)
		goto restore;
	if (nids == 0) {
		rc = 0;
		goto restore;
	}
	for (i = 0; i < t->n; i++)
		t->e[i].keep = keep[i] && event_trigger_part(&t->e[i], ids, nids);
	if (write_list_to(cx, &cx->list_evt, err) < 0)
		goto restore;
	rc = 0;
restore:
	for (i = 0; i < t->n; i++)
		t->e[i].keep = keep[i];
out:
	free(ids);
	free(keep);
	return rc;
}

int rs_schema_event_triggers(struct rs_ctx *cx, struct bs_err *err)
{
	const char *opts[4];
	char listarg[PATH_MAX + 16];

	if (!cx->list_evt.path[0])
		return 0;
	snprintf(listarg, sizeof(listarg), "--use-list=%s", cx->list_evt.path);
	opts[0] = "--section=post-data";
	opts[1] = "--exit-on-error";
	opts[2] = listarg;
	opts[3] = NULL;
	if (run_pg_restore(cx, opts, 1, -1, err) < 0)
		return bs_err_prefix(err, "unable to create the event triggers");
	return 0;
}

int rs_schema_postdata(struct rs_ctx *cx, struct bs_err *err)
{
	const char *opts[10];
	char listarg[PATH_MAX + 16], jobs[32];
	const struct rs_spool *list = &cx->list;
	size_t n = 0;

	if (split_event_triggers(cx, err) < 0)
		return bs_err_prefix(err, "unable to list %s", BS_MEMBER_SCHEMA);
	if (cx->list_post.path[0])
		list = &cx->list_post;

	opts[n++] = "--section=post-data";
	opts[n++] = "--exit-on-error";
	if (cx->jobs > 1) {
		snprintf(jobs, sizeof(jobs), "--jobs=%d", cx->jobs);
		opts[n++] = jobs;
	}
	if (list->path[0]) {
		snprintf(listarg, sizeof(listarg), "--use-list=%s", list->path);
		opts[n++] = listarg;
	}
	opts[n] = NULL;
	if (run_pg_restore(cx, opts, 1, -1, err) < 0)
		return bs_err_prefix(err, "unable to create indexes, constraints and triggers (post-data)");
	return 0;
}

/* ---- materialized views ---- */

/* Was this materialized view restored (filtered restores)? */
static int matview_selected(struct rs_ctx *cx, const char *schema, const char *name)
{
	size_t i;

	if (cx->nfilters == 0)
		return 1;
	if (!cx->have_toc)
		return 0;
	for (i = 0; i < cx->toc.n; i++) {
		const struct bs_toc_entry *e = &cx->toc.e[i];
		if (e->keep && e->kind == BS_TOC_RELATION && strcmp(e->desc, "MATERIALIZED VIEW") == 0 &&
		    bs_toc_entry_is(e, schema, name))
			return 1;
	}
	return 0;
}

/* Refresh the materialized views the restore created (pg_dump's
 * "MATERIALIZED VIEW DATA" entries are not part of a schema-only dump).
 * One may read another, so views that fail because another is not
 * populated yet are retried in the next round. */
int rs_schema_refresh_matviews(struct rs_ctx *cx, struct bs_err *err)
{
	static const char sql[] =
		"SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), n.nspname, c.relname"
		"  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
		" WHERE c.relkind = 'm' AND NOT c.relispopulated ORDER BY c.oid";
	PGresult *r = bs_pg_query(cx->conn, sql, 0, NULL, err);
	char *done = NULL;
	int n, i, left, progress, rc = -1;
	struct bs_err last;

	if (!r)
		return -1;
	n = PQntuples(r);
	if (n == 0 || !(done = calloc((size_t)n, 1))) {
		PQclear(r);
		return n == 0 ? 0 : bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	for (i = 0; i < n; i++)
		done[i] = !matview_selected(cx, PQgetvalue(r, i, 1), PQgetvalue(r, i, 2)) ||
			  bs_manifest_is_unpopulated(cx->m, PQgetvalue(r, i, 1), PQgetvalue(r, i, 2));
	bs_err_init(&last);
	do {
		left = progress = 0;
		for (i = 0; i < n; i++) {
			char q[1100];
			PGresult *x;
			if (done[i])
				continue;
			snprintf(q, sizeof(q), "REFRESH MATERIALIZED VIEW %s", PQgetvalue(r, i, 0));
			x = PQexec(cx->conn, q);
			if (x && PQresultStatus(x) == PGRES_COMMAND_OK) {
				done[i] = 1;
				progress = 1;
			} else {
				const char *state = x ? PQresultErrorField(x, PG_DIAG_SQLSTATE) : NULL;
				char what[1200];
				snprintf(what, sizeof(what), "unable to refresh materialized view %s",
					 PQgetvalue(r, i, 0));
				bs_pg_error(&last, BS_ERR_PG, cx->conn, x, what);
				/* 55000: reads a materialized view not populated yet */
				if (!state || strcmp(state, "55000") != 0) {
					PQclear(x);
					*err = last;
					goto out;
				}
				left++;
			}
			PQclear(x);
		}
	} while (left > 0 && progress);
	if (left > 0) {
		*err = last;
		goto out;
	}
	rc = 0;
out:
	free(done);
	PQclear(r);
	return rc;
}

/* ---- for the other files of lib/restore ---- */

int rs_spool_create(struct rs_spool *sp, const char *what, struct bs_err *err)
{
	return spool_create(sp, what, err);
}

void rs_spool_release(struct rs_spool *sp)
{
	spool_release(sp);
}

int rs_read_fd(int fd, char **out, size_t *len, struct bs_err *err)
{
	return read_fd(fd, out, len, err);
}

int rs_run_pg_restore(struct rs_ctx *cx, const char *const *opts, int with_db, int stdout_fd,
		      struct bs_err *err)
{
	return run_pg_restore(cx, opts, with_db, stdout_fd, err);
}
