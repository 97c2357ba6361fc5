/*
 * local.c - repository in a local directory.
 *
 * Layout (the repository's own; what keys exist is the catalog's business):
 *   <repo>/backstop-repo.json   marker written by init
 *   <repo>/<key>                every object, directories made on demand
 *   <repo>/tmp/                 unfinished puts: <key, '/' as '+'>.<pid>.<n>.tmp
 *   <repo>/lock                 flock(2) of the repository lease ("lock")
 *   <repo>/leases/              <name>.lock for other leases, and one
 *                               <name>.<host>.<pid>.<n>.json per holder
 *
 * put writes the temp file (O_EXCL, O_NOFOLLOW, 0600); finish fsyncs it,
 * renames it to <repo>/<key> (create_only: link(2), which fails if the key
 * exists, then unlink), and fsyncs the directory, so a key is either absent
 * or complete.  An aborted put is unlinked.
 *
 * Leases: local_lease.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/durable.h"
#include "common/log.h"
#include "repo/local_int.h"

#define TMP_NAME_MAX 200 /* the key part of a temp file's name */

struct local_put {
	struct local *l;
	int fd;
	int create_only;
	char tmp[PATH_MAX];
	char dest[PATH_MAX];
	char key[PATH_MAX];
	int done;
};

static atomic_uint put_seq;

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	char *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* key follows the grammar (repo.c checked it) */
static int path_of(struct local *l, const char *key, char *out, struct bs_err *err)
{
	if (snprintf(out, PATH_MAX, "%s/%s", l->root, key) >= PATH_MAX)
		return bs_err_set(err, BS_ERR_IO, "path too long: '%s/%s'", l->root, key);
	return 0;
}

static int is_empty_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int empty = 1;

	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = 0;
	closedir(d);
	return empty;
}

static int write_marker(struct local *l, struct bs_err *err)
{
	char path[PATH_MAX], body[256], ts[32];
	time_t now = time(NULL);
	struct tm tm;
	int n;

	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(body, sizeof(body),
		     "{\"format\": \"backstop-repo\", \"version\": 1, \"created\": \"%s\"}\n", ts);
	snprintf(path, sizeof(path), "%s/" MARKER, l->root);
	if (bs_durable_write_bytes(path, 0600, body, (size_t)n, err) < 0) {
		bs_err_prefix(err, "unable to initialize repository '%s'", l->root);
		return -1;
	}
	return 0;
}


static struct local *local_new(const char *location, struct bs_err *err)
{
	struct local *l = calloc(1, sizeof(*l));
	size_t n = strlen(location);

	if (!l) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		return NULL;
	}
	while (n > 1 && location[n - 1] == '/')
		n--;
	if (n >= sizeof(l->root) - 64) {
		free(l);
		bs_err_set(err, BS_ERR_CONFIG, "repository path too long");
		return NULL;
	}
	memcpy(l->root, location, n);
	l->root[n] = '\0';
	return l;
}

static int open_error(struct local *l, int e, struct bs_err *err)
{
	if (e == ENOENT) {
		bs_err_set(err, BS_ERR_NOT_FOUND, "repository '%s' does not exist", l->root);
		bs_err_hint(err, "check --repo / BACKSTOP_REPO / 'repository:'; a new repository is "
				 "created with 'backstop repo init --repo %s'", l->root);
	} else {
		bs_err_sys(err, BS_ERR_IO, e, "unable to open repository '%s'", l->root);
		if (e == EACCES)
			bs_err_hint(err, "the repository must be readable (and, to write, writable) by the "
					 "user running backstop");
	}
	return -1;
}

/* An existing repository: the directory and its marker file. */
static int check_repo(struct local *l, struct bs_err *err)
{
	char marker[PATH_MAX];
	struct stat st;

	if (stat(l->root, &st) < 0)
		return open_error(l, errno, err);
	if (!S_ISDIR(st.st_mode))
		return bs_err_set(err, BS_ERR_CONFIG, "repository '%s' is not a directory", l->root);
	snprintf(marker, sizeof(marker), "%s/" MARKER, l->root);
	if (access(marker, R_OK) < 0) {
		if (errno != ENOENT)
			return open_error(l, errno, err);
		bs_err_set(err, BS_ERR_NOT_FOUND, "'%s' is not a backstop repository", l->root);
		bs_err_hint(err, "no %s found there; check the path, or create a repository with "
				 "'backstop repo init --repo DIR'", MARKER);
		return -1;
	}
	return 0;
}

static int local_open(struct bs_repo *r, const char *location, const struct bs_repo_settings *set,
		      struct bs_err *err)
{
	struct local *l = local_new(location, err);

	if (!l)
		return -1;
	if (check_repo(l, err) < 0) {
		free(l);
		return -1;
	}
	r->priv = l;
	return 0;
}

static int local_init(struct bs_repo *r, const char *location, const struct bs_repo_settings *set,
		      int *existed, struct bs_err *err)
{
	(void)set;
	struct local *l = local_new(location, err);
	char marker[PATH_MAX], sub[PATH_MAX];
	struct stat st;

	if (!l)
		return -1;
	*existed = 0;
	snprintf(marker, sizeof(marker), "%s/" MARKER, l->root);
	if (stat(l->root, &st) == 0 && !S_ISDIR(st.st_mode)) {
		bs_err_set(err, BS_ERR_CONFIG, "'%s' exists and is not a directory", l->root);
		goto fail;
	}
	if (stat(l->root, &st) == 0 && access(marker, F_OK) == 0) {
		*existed = 1;
		if (check_repo(l, err) < 0)
			goto fail;
	} else if (errno != ENOENT) {
		open_error(l, errno, err);
		goto fail;
	} else if (mkdir_p(l->root, 0700) < 0) {
		bs_err_sys(err, BS_ERR_IO, errno, "unable to create repository '%s'", l->root);
		bs_err_hint(err, "the parent directory must exist or be creatable by this user");
		goto fail;
	} else if (!is_empty_dir(l->root)) {
		bs_err_set(err, BS_ERR_REFUSED, "'%s' is not empty and not a backstop repository", l->root);
		bs_err_hint(err, "use an empty or new directory for the repository");
		goto fail;
	}
	snprintf(sub, sizeof(sub), "%s/" TMP_DIR, l->root);
	if (mkdir(sub, 0700) < 0 && errno != EEXIST) {
		bs_err_sys(err, BS_ERR_IO, errno, "unable to create '%s'", sub);
		goto fail;
	}
	if (!*existed && write_marker(l, err) < 0)
		goto fail;
	r->priv = l;
	return 0;
fail:
	free(l);
	return -1;
}

static void local_close(struct bs_repo *r)
{
	struct local *l = r->priv;

	free(l);
	r->priv = NULL;
}

/* ---- put ---- */

static int put_write(void *priv, const void *buf, size_t len, struct bs_err *err)
{
	struct local_put *p = priv;
	const char *b = buf;

	while (len > 0) {
		ssize_t n = write(p->fd, b, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			bs_err_sys(err, BS_ERR_IO, errno, "unable to write '%s' in repository '%s'",
				   p->key, p->l->root);
			if (errno == ENOSPC || errno == EDQUOT)
				bs_err_hint(err, "free space on the repository's filesystem, or prune old snapshots");
			return -1;
		}
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

static int exists_error(struct local_put *p, struct bs_err *err)
{
	bs_err_set(err, BS_ERR_EXISTS, "'%s' already exists in repository '%s'", p->key, p->l->root);
	bs_err_hint(err, "objects written create-only are never replaced; another writer made it first");
	return -1;
}

/* create_only: link(2) fails if the key exists, atomically; where the
 * filesystem has no hard links, check then rename */
static int put_place(struct local_put *p, struct bs_err *err)
{
	struct stat st;

	if (!p->create_only) {
		if (rename(p->tmp, p->dest) < 0)
			return bs_err_sys(err, BS_ERR_IO, errno, "unable to rename '%s' to '%s'", p->tmp,
					  p->dest);
		return 0;
	}
	if (link(p->tmp, p->dest) == 0) {
		unlink(p->tmp);
		return 0;
	}
	if (errno == EEXIST)
		return exists_error(p, err);
	if (errno != EPERM && errno != EOPNOTSUPP && errno != ENOSYS)
		return bs_err_sys(err, BS_ERR_IO, errno, "unable to link '%s' to '%s'", p->tmp, p->dest);
	if (lstat(p->dest, &st) == 0)
		return exists_error(p, err);
	if (rename(p->tmp, p->dest) < 0)
		return bs_err_sys(err, BS_ERR_IO, errno, "unable to rename '%s' to '%s'", p->tmp, p->dest);
	return 0;
}

static int put_finish(void *priv, struct bs_err *err)
{
	struct local_put *p = priv;
	char dir[PATH_MAX];
	char *slash;

	if (fsync(p->fd) < 0)
		return bs_err_sys(err, BS_ERR_IO, errno, "unable to sync '%s'", p->tmp);
	if (close(p->fd) < 0) {
		p->fd = -1;
		return bs_err_sys(err, BS_ERR_IO, errno, "unable to close '%s'", p->tmp);
	}
	p->fd = -1;
	snprintf(dir, sizeof(dir), "%s", p->dest);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	if (mkdir_p(dir, 0700) < 0)
		return bs_err_sys(err, BS_ERR_IO, errno, "unable to create '%s'", dir);
	if (put_place(p, err) < 0)
		return -1;
	p->done = 1;
	if (fsync_dir(dir) < 0)
		return bs_err_sys(err, BS_ERR_IO, errno, "unable to sync directory '%s'", dir);
	return 0;
}

static int put_abort(void *priv, struct bs_err *err)
{
	struct local_put *p = priv;

	if (p->fd >= 0) {
		close(p->fd);
		p->fd = -1;
	}
	if (p->done)
		return 0;
	p->done = 1;
	if (unlink(p->tmp) < 0 && errno != ENOENT)
		return bs_err_sys(err, BS_ERR_IO, errno, "unable to remove the unfinished '%s'", p->tmp);
	return 0;
}

static void put_free(void *priv)
{
	struct local_put *p = priv;
	struct bs_err e;

	bs_err_init(&e);
	put_abort(p, &e);
	free(p);
}

static const struct bs_repo_put_ops put_ops = { put_write, put_finish, put_abort, put_free };

/* tmp/<key, '/' as '+'>.<pid>.<n>.tmp: the key can be read back */
static void tmp_name(struct local *l, const char *key, char *out)
{
	char enc[TMP_NAME_MAX + 1];
	size_t i, n = strlen(key);

	if (n > TMP_NAME_MAX) {
		snprintf(enc, sizeof(enc), "long-key");
	} else {
		for (i = 0; i < n; i++)
			enc[i] = key[i] == '/' ? '+' : key[i];
		enc[n] = '\0';
	}
	snprintf(out, PATH_MAX, "%s/" TMP_DIR "/%s.%d.%u.tmp", l->root, enc, (int)getpid(),
		 atomic_fetch_add(&put_seq, 1));
}

static int local_put(struct bs_repo *r, const char *key, const struct bs_repo_put_opts *opts,
		     const struct bs_repo_put_ops **ops, void **priv, struct bs_err *err)
{
	struct local *l = r->priv;
	struct local_put *p;
	struct stat st;

	p = calloc(1, sizeof(*p));
	if (!p)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	p->l = l;
	p->fd = -1;
	p->done = 1; /* nothing to unlink yet */
	p->create_only = opts->create_only;
	snprintf(p->key, sizeof(p->key), "%s", key);
	if (path_of(l, key, p->dest, err) < 0)
		goto fail;
	if (p->create_only && lstat(p->dest, &st) == 0) {
		exists_error(p, err);
		goto fail;
	}
	tmp_name(l, key, p->tmp);
	p->fd = open(p->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (p->fd < 0) {
		bs_err_sys(err, BS_ERR_IO, errno, "unable to create '%s'", p->tmp);
		bs_err_hint(err, "the repository must be writable by the user running snap");
		goto fail;
	}
	p->done = 0;
	*ops = &put_ops;
	*priv = p;
	return 0;
fail:
	put_free(p);
	return -1;
}

/* ---- get, stat ---- */

/* An fd read up to a limit. */
struct range {
	int fd;
	uint64_t left;
};

static ssize_t range_read(void *priv, void *buf, size_t len, struct bs_err *err)
{
	struct range *g = priv;
	ssize_t n;

	if (g->left == 0)
		return 0;
	if ((uint64_t)len > g->left)
		len = (size_t)g->left;
	do
		n = read(g->fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return bs_err_sys(err, BS_ERR_IO, errno, "unable to read from the repository");
	g->left -= (uint64_t)n;
	return n;
}

static void range_free(void *priv)
{
	struct range *g = priv;

	close(g->fd);
	free(g);
}

static const struct bs_rstream_ops range_ops = { range_read, range_free };

static int local_get(struct bs_repo *r, const char *key, uint64_t offset, uint64_t length,
		     struct bs_rstream **out, struct bs_err *err)
{
	struct local *l = r->priv;
	char path[PATH_MAX];
	struct range *g;
	struct stat st;
	int fd;

	if (path_of(l, key, path, err) < 0)
		return -1;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return bs_err_set(err, BS_ERR_NOT_FOUND, "'%s' not found in repository '%s'", key,
					  l->root);
		return bs_err_sys(err, BS_ERR_IO, errno, "unable to open '%s'", path);
	}
	if (offset == 0 && length == BS_REPO_TO_END) {
		*out = bs_rstream_fd(fd, 1);
		if (!*out) {
			close(fd);
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		}
		return 0;
	}
	if (fstat(fd, &st) < 0) {
		close(fd);
		return bs_err_sys(err, BS_ERR_IO, errno, "unable to stat '%s'", path);
	}
	g = calloc(1, sizeof(*g));
	if (!g) {
		close(fd);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	g->fd = fd;
	if (offset < (uint64_t)st.st_size) {
		g->left = (uint64_t)st.st_size - offset;
		if (length < g->left)
			g->left = length;
		if (lseek(fd, (off_t)offset, SEEK_SET) < 0) {
			range_free(g);
			return bs_err_sys(err, BS_ERR_IO, errno, "unable to seek in '%s'", path);
		}
	}
	*out = bs_rstream_new(&range_ops, g);
	if (!*out)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	return 0;
}

static int local_stat(struct bs_repo *r, const char *key, struct bs_repo_stat *st, struct bs_err *err)
{
	struct local *l = r->priv;
	char path[PATH_MAX];
	struct stat s;

	if (path_of(l, key, path, err) < 0)
		return -1;
	if (lstat(path, &s) < 0 && errno != ENOENT && errno != ENOTDIR)
		return bs_err_sys(err, BS_ERR_IO, errno, "unable to stat '%s'", path);
	if (lstat(path, &s) < 0 || S_ISDIR(s.st_mode))
		return bs_err_set(err, BS_ERR_NOT_FOUND, "'%s' not found in repository '%s'", key, l->root);
	st->exists = 1;
	st->size = (uint64_t)s.st_size;
	st->mtime = s.st_mtime;
	st->is_link = S_ISLNK(s.st_mode);
	return 0;
}

/* ---- list ---- */

struct keyvec {
	struct bs_repo_entry *v;
	size_t n, cap;
};

/* The repository's own names at its root: never listed as objects. */
static int internal_name(const char *name)
{
	return strcmp(name, TMP_DIR) == 0 || strcmp(name, LEASE_DIR) == 0 || strcmp(name, "lock") == 0 ||
	       strcmp(name, MARKER) == 0;
}

static int keyvec_add(struct keyvec *kv, const char *key, const struct stat *st, struct bs_err *err)
{
	if (kv->n == kv->cap) {
		size_t ncap = kv->cap ? kv->cap * 2 : 64;
		struct bs_repo_entry *nv = realloc(kv->v, ncap * sizeof(*nv));
		if (!nv)
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		kv->v = nv;
		kv->cap = ncap;
	}
	kv->v[kv->n].key = strdup(key);
	kv->v[kv->n].size = (uint64_t)st->st_size;
	kv->v[kv->n].mtime = st->st_mtime;
	kv->v[kv->n].is_link = S_ISLNK(st->st_mode);
	if (!kv->v[kv->n].key)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	kv->n++;
	return 0;
}

static int collect(const char *root, const char *rel, const char *prefix, struct keyvec *kv,
		   struct bs_err *err)
{
	char path[PATH_MAX];
	DIR *d;
	struct dirent *e;

	snprintf(path, sizeof(path), "%s%s%s", root, *rel ? "/" : "", rel);
	d = opendir(path);
	if (!d) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return bs_err_sys(err, BS_ERR_IO, errno, "unable to list '%s'", path);
	}
	while ((e = readdir(d)) != NULL) {
		char key[PATH_MAX], full[PATH_MAX];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		if (!*rel && internal_name(e->d_name))
			continue;
		snprintf(key, sizeof(key), "%s%s%s", rel, *rel ? "/" : "", e->d_name);
		snprintf(full, sizeof(full), "%s/%s", root, key);
		if (lstat(full, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			/* descend only where the prefix may match */
			size_t kl = strlen(key), pl = strlen(prefix);
			if (strncmp(key, prefix, kl < pl ? kl : pl) == 0 &&
			    collect(root, key, prefix, kv, err) < 0) {
				closedir(d);
				return -1;
			}
			continue;
		}
		/* symbolic links are listed (so a linked record is reported, not
		 * skipped) but never followed: get opens with O_NOFOLLOW */
		if ((!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) ||
		    strncmp(key, prefix, strlen(prefix)) != 0)
			continue;
		if (keyvec_add(kv, key, &st, err) < 0) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct bs_repo_entry *)a)->key, ((const struct bs_repo_entry *)b)->key);
}

static void keyvec_release(struct keyvec *kv)
{
	size_t i;

	for (i = 0; i < kv->n; i++)
		free((char *)kv->v[i].key);
	free(kv->v);
}

static int local_list(struct bs_repo *r, const char *prefix, bs_repo_list_fn fn, void *ud,
		      struct bs_err *err)
{
	struct local *l = r->priv;
	struct keyvec kv = { 0 };
	char start[PATH_MAX];
	char *slash;
	size_t i;
	int rc = 0;

	/* start the walk at the deepest directory named in the prefix */
	snprintf(start, sizeof(start), "%s", prefix);
	slash = strrchr(start, '/');
	if (slash)
		*slash = '\0';
	else
		start[0] = '\0';
	if (collect(l->root, start, prefix, &kv, err) < 0)
		rc = -1;
	if (rc == 0) {
		if (kv.n > 1)
			qsort(kv.v, kv.n, sizeof(*kv.v), cmp_entry);
		for (i = 0; i < kv.n && rc == 0; i++)
			rc = fn(ud, &kv.v[i], err);
	}
	keyvec_release(&kv);
	return rc;
}

static int local_remove(struct bs_repo *r, const char *key, struct bs_err *err)
{
	struct local *l = r->priv;
	char path[PATH_MAX];
	char *slash;

	if (path_of(l, key, path, err) < 0)
		return -1;
	if (unlink(path) < 0 && errno != ENOENT)
		return bs_err_sys(err, BS_ERR_IO, errno, "unable to delete '%s'", path);
	slash = strrchr(path, '/');
	if (slash) {
		*slash = '\0';
		fsync_dir(path);
	}
	return 0;
}

static int local_path_create(struct bs_repo *r, const char *path, struct bs_err *err)
{
	struct local *l = r->priv;
	char dir[PATH_MAX];

	if (path_of(l, path, dir, err) < 0)
		return -1;
	if (mkdir_p(dir, 0700) < 0)
		return bs_err_sys(err, BS_ERR_IO, errno, "unable to create '%s'", dir);
	return 0;
}

/* ---- unfinished uploads: the files in tmp/ ---- */

/* "<enc>.<pid>.<n>.tmp" -> the key it was for, or "" */
static void tmp_key(const char *name, char key[PATH_MAX])
{
	char buf[PATH_MAX];
	size_t n = strlen(name);
	int dots;
	char *p;
	struct bs_err e;

	key[0] = '\0';
	if (n < 5 || n >= sizeof(buf) || strcmp(name + n - 4, ".tmp") != 0)
		return;
	memcpy(buf, name, n - 4);
	buf[n - 4] = '\0';
	for (dots = 0; dots < 2; dots++) {
		p = strrchr(buf, '.');
		if (!p || !p[1] || strspn(p + 1, "0123456789") != strlen(p + 1))
			return;
		*p = '\0';
	}
	for (p = buf; *p; p++)
		if (*p == '+')
			*p = '/';
	bs_err_init(&e);
	if (bs_repo_check_key(buf, &e) == 0)
		snprintf(key, PATH_MAX, "%s", buf);
}

static int local_list_unfinished(struct bs_repo *r, bs_repo_upload_fn fn, void *ud, struct bs_err *err)
{
	struct local *l = r->priv;
	struct keyvec kv = { 0 };
	size_t i;
	int rc;

	rc = collect(l->root, TMP_DIR, TMP_DIR "/", &kv, err);
	if (rc == 0 && kv.n > 1)
		qsort(kv.v, kv.n, sizeof(*kv.v), cmp_entry);
	for (i = 0; i < kv.n && rc == 0; i++) {
		struct bs_repo_upload u;
		char key[PATH_MAX];

		tmp_key(kv.v[i].key + strlen(TMP_DIR "/"), key);
		u.id = kv.v[i].key;
		u.key = key[0] ? key : NULL;
		u.size = kv.v[i].size;
		u.started = kv.v[i].mtime;
		rc = fn(ud, &u, err);
	}
	keyvec_release(&kv);
	return rc;
}

static int local_remove_unfinished(struct bs_repo *r, const char *id, struct bs_err *err)
{
	struct local *l = r->priv;
	char path[PATH_MAX];

	if (strncmp(id, TMP_DIR "/", strlen(TMP_DIR "/")) != 0 || strchr(id + strlen(TMP_DIR "/"), '/'))
		return bs_err_set(err, BS_ERR_INTERNAL, "'%s' is not an unfinished upload of repository '%s'",
				  id, l->root);
	if (snprintf(path, sizeof(path), "%s/%s", l->root, id) >= (int)sizeof(path))
		return bs_err_set(err, BS_ERR_IO, "path too long: '%s/%s'", l->root, id);
	if (unlink(path) < 0 && errno != ENOENT)
		return bs_err_sys(err, BS_ERR_IO, errno, "unable to delete '%s'", path);
	return 0;
}

const struct bs_repo_ops bs_repo_local_ops = {
	.scheme = "local",
	.features = BS_REPO_F_RANGED_GET | BS_REPO_F_CREATE_ONLY | BS_REPO_F_LEASE | BS_REPO_F_UNFINISHED_LIST,
	.open = local_open,
	.init = local_init,
	.close = local_close,
	.stat = local_stat,
	.get = local_get,
	.put = local_put,
	.list = local_list,
	.remove = local_remove,
	.path_create = local_path_create,
	.list_unfinished = local_list_unfinished,
	.remove_unfinished = local_remove_unfinished,
	.lease_acquire = bs_local_lease_acquire,
	.lease_renew = bs_local_lease_renew,
	.lease_release = bs_local_lease_release,
};
