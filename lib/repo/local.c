/*
 * local.c - repository in a local directory.
 *
 * put writes <repo>/tmp/<name>.<pid>.<n>.tmp (O_EXCL, O_NOFOLLOW, 0600);
 * finish fsyncs it, renames it to <repo>/<key>, and fsyncs the directory,
 * so a key is either absent or complete.  An unfinished put is unlinked.
 * Locks are flock(2) on <repo>/lock.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/durable.h"
#include "repo/repo_int.h"

#define MARKER "backstop-repo.json"

struct local {
	char root[PATH_MAX];
	int lock_fd;
};

struct local_put {
	struct local *l;
	int fd;
	char tmp[PATH_MAX];
	char dest[PATH_MAX];
	char key[PATH_MAX];
	int done;
};

static atomic_uint put_seq;

static int valid_key(const char *key)
{
	const char *p = key;

	if (!*key || key[0] == '/' || strstr(key, "..") || strstr(key, "//"))
		return 0;
	for (; *p; p++)
		if (*p < 0x20)
			return 0;
	return 1;
}

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

static int path_of(struct local *l, const char *key, char *out, struct bs_err *err)
{
	if (!valid_key(key))
		return bs_err_set(err, BS_ERR_INTERNAL, "invalid repository key '%s'", key);
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

static const char *const subdirs[] = { "snapshots", "archives", "pins", "drills", "tmp" };

static struct local *local_new(const char *location, struct bs_err *err)
{
	struct local *l = calloc(1, sizeof(*l));
	size_t n = strlen(location);

	if (!l) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		return NULL;
	}
	l->lock_fd = -1;
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

static int local_open(struct bs_repo *r, const char *location, struct bs_err *err)
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

static int local_init(struct bs_repo *r, const char *location, int *existed, struct bs_err *err)
{
	struct local *l = local_new(location, err);
	char marker[PATH_MAX], sub[PATH_MAX];
	struct stat st;
	size_t i;

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
	for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		snprintf(sub, sizeof(sub), "%s/%s", l->root, subdirs[i]);
		if (mkdir(sub, 0700) < 0 && errno != EEXIST) {
			bs_err_sys(err, BS_ERR_IO, errno, "unable to create '%s'", sub);
			goto fail;
		}
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

	if (!l)
		return;
	if (l->lock_fd >= 0)
		close(l->lock_fd);
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
	if (rename(p->tmp, p->dest) < 0)
		return bs_err_sys(err, BS_ERR_IO, errno, "unable to rename '%s' to '%s'", p->tmp, p->dest);
	p->done = 1;
	if (fsync_dir(dir) < 0)
		return bs_err_sys(err, BS_ERR_IO, errno, "unable to sync directory '%s'", dir);
	return 0;
}

static void put_free(void *priv)
{
	struct local_put *p = priv;

	if (p->fd >= 0)
		close(p->fd);
	if (!p->done)
		unlink(p->tmp);
	free(p);
}

static const struct bs_wstream_ops put_ops = { put_write, put_finish, put_free };

static int local_put(struct bs_repo *r, const char *key, struct bs_wstream **out, struct bs_err *err)
{
	struct local *l = r->priv;
	struct local_put *p;
	const char *base;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	p->l = l;
	p->fd = -1;
	if (path_of(l, key, p->dest, err) < 0) {
		free(p);
		return -1;
	}
	snprintf(p->key, sizeof(p->key), "%s", key);
	base = strrchr(key, '/');
	base = base ? base + 1 : key;
	snprintf(p->tmp, sizeof(p->tmp), "%s/tmp/%s.%d.%u.tmp", l->root, base, (int)getpid(),
		 atomic_fetch_add(&put_seq, 1));
	p->fd = open(p->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (p->fd < 0) {
		bs_err_sys(err, BS_ERR_IO, errno, "unable to create '%s'", p->tmp);
		bs_err_hint(err, "the repository must be writable by the user running snap");
		p->done = 1; /* nothing to unlink */
		put_free(p);
		return -1;
	}
	*out = bs_wstream_new(&put_ops, p);
	if (!*out)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	return 0;
}

static int local_get(struct bs_repo *r, const char *key, struct bs_rstream **out, struct bs_err *err)
{
	struct local *l = r->priv;
	char path[PATH_MAX];
	int fd;

	*out = NULL;
	if (path_of(l, key, path, err) < 0)
		return -1;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return bs_err_set(err, BS_ERR_NOT_FOUND, "'%s' not found in repository '%s'", key,
					  l->root);
		return bs_err_sys(err, BS_ERR_IO, errno, "unable to open '%s'", path);
	}
	*out = bs_rstream_fd(fd, 1);
	if (!*out) {
		close(fd);
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	}
	return 0;
}

/* ---- list ---- */

struct keyvec {
	struct bs_repo_entry *v;
	size_t n, cap;
};

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
		if (!*rel && !*prefix && strcmp(e->d_name, "tmp") == 0)
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
		if (kv->n == kv->cap) {
			size_t ncap = kv->cap ? kv->cap * 2 : 64;
			struct bs_repo_entry *nv = realloc(kv->v, ncap * sizeof(*nv));
			if (!nv) {
				closedir(d);
				return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
			}
			kv->v = nv;
			kv->cap = ncap;
		}
		kv->v[kv->n].key = strdup(key);
		kv->v[kv->n].size = (uint64_t)st.st_size;
		kv->v[kv->n].mtime = st.st_mtime;
		kv->v[kv->n].is_link = S_ISLNK(st.st_mode);
		if (!kv->v[kv->n].key) {
			closedir(d);
			return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		}
		kv->n++;
	}
	closedir(d);
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct bs_repo_entry *)a)->key, ((const struct bs_repo_entry *)b)->key);
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
	for (i = 0; i < kv.n; i++)
		free((char *)kv.v[i].key);
	free(kv.v);
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

static int local_lock(struct bs_repo *r, enum bs_repo_lock_mode mode, int wait_ms, struct bs_err *err)
{
	struct local *l = r->priv;
	char path[PATH_MAX];
	int op = mode == BS_REPO_LOCK_EXCLUSIVE ? LOCK_EX : LOCK_SH;
	int waited = 0;

	if (l->lock_fd < 0) {
		snprintf(path, sizeof(path), "%s/lock", l->root);
		l->lock_fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (l->lock_fd < 0 && (errno == EACCES || errno == EROFS))
			l->lock_fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (l->lock_fd < 0)
			return bs_err_sys(err, BS_ERR_IO, errno, "unable to open lock file '%s'", path);
	}
	for (;;) {
		if (flock(l->lock_fd, op | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return bs_err_sys(err, BS_ERR_IO, errno, "unable to lock repository '%s'", l->root);
		if (wait_ms >= 0 && waited >= wait_ms) {
			bs_err_set(err, BS_ERR_LOCKED, "repository '%s' is locked by another backstop process",
				   l->root);
			bs_err_hint(err, "%s", mode == BS_REPO_LOCK_EXCLUSIVE
					     ? "a snap or drill is writing to it; retry when it has finished"
					     : "a prune is running; retry when it has finished");
			return -1;
		}
		usleep(50000);
		waited += 50;
	}
}

static void local_unlock(struct bs_repo *r)
{
	struct local *l = r->priv;

	if (l && l->lock_fd >= 0) {
		flock(l->lock_fd, LOCK_UN);
		close(l->lock_fd);
		l->lock_fd = -1;
	}
}

const struct bs_repo_ops bs_repo_local_ops = {
	.scheme = "local",
	.open = local_open,
	.init = local_init,
	.close = local_close,
	.put = local_put,
	.get = local_get,
	.list = local_list,
	.remove = local_remove,
	.lock = local_lock,
	.unlock = local_unlock,
};
