/*
 * local_lease.c - leases of the local backend: flock(2), held as long as
 * the holder lives (BS_REPO_F_LEASE): the kernel lets go when a process
 * dies, so a lease never has to expire here.  The repository lease keeps
 * <repo>/lock, the file every backstop version has locked; other names
 * lock <repo>/leases/<name>.lock.  Each holder also writes
 * <repo>/leases/<name>.<host>.<pid>.<n>.json (mode, host, pid, when renewed,
 * expiry) so an operator can see who holds the repository; renew rewrites
 * it, release removes it, and holder files left by dead processes are
 * swept by the next holder.  The expiry there is what a TTL backend would
 * enforce; here the kernel lock is the truth.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

struct local_lease {
	int fd;
	char holder[PATH_MAX]; /* leases/<name>.<host>.<pid>.<n>.json, "" if none */
};

static void lease_lock_path(struct local *l, const char *name, char *out)
{
	/* the repository lease keeps the file every backstop version used */
	if (strcmp(name, BS_REPO_LEASE_NAME) == 0)
		snprintf(out, PATH_MAX, "%s/lock", l->root);
	else
		snprintf(out, PATH_MAX, "%s/" LEASE_DIR "/%s.lock", l->root, name);
}

/* What the holder files of lease name say, "; "-separated, for messages. */
static void lease_holders(struct local *l, const char *name, char *out, size_t n)
{
	char dir[PATH_MAX], path[PATH_MAX], line[512];
	size_t len = 0, nl = strlen(name);
	DIR *d;
	struct dirent *e;

	out[0] = '\0';
	snprintf(dir, sizeof(dir), "%s/" LEASE_DIR, l->root);
	d = opendir(dir);
	if (!d)
		return;
	while ((e = readdir(d)) != NULL && len < n) {
		size_t el = strlen(e->d_name);
		ssize_t got;
		int fd;

		if (strncmp(e->d_name, name, nl) != 0 || e->d_name[nl] != '.' || el < 5 ||
		    strcmp(e->d_name + el - 5, ".json") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		got = read(fd, line, sizeof(line) - 1);
		close(fd);
		if (got <= 0)
			continue;
		line[got] = '\0';
		line[strcspn(line, "\n")] = '\0';
		len += (size_t)snprintf(out + len, n - len, "%s%s", len ? "; " : "", line);
	}
	closedir(d);
}

static int write_holder(struct local *l, struct bs_repo_lease *lease, struct local_lease *ll,
			struct bs_err *err)
{
	char host[256], body[768], since[32], until[32];
	static atomic_uint seq;
	time_t now = time(NULL);
	struct tm tm;
	int n;

	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	for (n = 0; host[n]; n++)
		if (host[n] == '/' || host[n] == '"' || host[n] == '\\' || (unsigned char)host[n] < 0x20)
			host[n] = '_';
	lease->expires = now + (time_t)((lease->ttl_ms + 999) / 1000);
	if (!ll->holder[0]) {
		char dir[PATH_MAX];
		snprintf(dir, sizeof(dir), "%s/" LEASE_DIR, l->root);
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return bs_err_sys(err, BS_ERR_IO, errno, "unable to create '%s'", dir);
		snprintf(ll->holder, sizeof(ll->holder), "%s/%s.%s.%d.%u.json", dir, lease->name, host,
			 (int)getpid(), atomic_fetch_add(&seq, 1));
	}
	gmtime_r(&now, &tm);
	strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
	gmtime_r(&lease->expires, &tm);
	strftime(until, sizeof(until), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(body, sizeof(body),
		     "{\"lease\": \"%s\", \"mode\": \"%s\", \"host\": \"%s\", \"pid\": %d, \"renewed\": \"%s\", "
		     "\"expires\": \"%s\"}\n",
		     lease->name, lease->mode == BS_REPO_LOCK_EXCLUSIVE ? "exclusive" : "shared", host,
		     (int)getpid(), since, until);
	return bs_durable_write_bytes(ll->holder, 0600, body, (size_t)n, err);
}

/* Holder files of name left by holders that are gone: all of them but
 * ours when we hold it exclusively; else those of dead processes here. */
static void sweep_holders(struct local *l, struct bs_repo_lease *lease, struct local_lease *ll)
{
	char dir[PATH_MAX], path[PATH_MAX], host[256];
	size_t nl = strlen(lease->name), hl;
	DIR *d;
	struct dirent *e;

	if (gethostname(host, sizeof(host)) != 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	hl = strlen(host);
	snprintf(dir, sizeof(dir), "%s/" LEASE_DIR, l->root);
	d = opendir(dir);
	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		const char *rest = e->d_name + nl + 1;
		size_t el = strlen(e->d_name);
		int stale = lease->mode == BS_REPO_LOCK_EXCLUSIVE;

		if (strncmp(e->d_name, lease->name, nl) != 0 || e->d_name[nl] != '.' || el < 5 ||
		    strcmp(e->d_name + el - 5, ".json") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (strcmp(path, ll->holder) == 0)
			continue;
		if (!stale) { /* we share it: an exclusive holder is gone */
			char line[256];
			int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			ssize_t got = fd >= 0 ? read(fd, line, sizeof(line) - 1) : -1;
			if (fd >= 0)
				close(fd);
			line[got > 0 ? got : 0] = '\0';
			stale = strstr(line, "\"mode\": \"exclusive\"") != NULL;
		}
		if (!stale && hl && strncmp(rest, host, hl) == 0 && rest[hl] == '.') {
			long pid = strtol(rest + hl + 1, NULL, 10);
			stale = pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
		}
		if (stale)
			unlink(path);
	}
	closedir(d);
}

int bs_local_lease_acquire(struct bs_repo *r, struct bs_repo_lease *lease, int wait_ms,
			   struct bs_err *err)
{
	struct local *l = r->priv;
	struct local_lease *ll = calloc(1, sizeof(*ll));
	char path[PATH_MAX], who[1024];
	int op = lease->mode == BS_REPO_LOCK_EXCLUSIVE ? LOCK_EX : LOCK_SH;
	int waited = 0, ro = 0;
	struct bs_err e2;

	if (!ll)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	lease_lock_path(l, lease->name, path);
	if (strcmp(lease->name, BS_REPO_LEASE_NAME) != 0) {
		char dir[PATH_MAX];
		snprintf(dir, sizeof(dir), "%s/" LEASE_DIR, l->root);
		if (mkdir(dir, 0700) < 0 && errno != EEXIST && errno != EACCES && errno != EROFS) {
			bs_err_sys(err, BS_ERR_IO, errno, "unable to create '%s'", dir);
			goto fail_free;
		}
	}
	ll->fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (ll->fd < 0 && (errno == EACCES || errno == EROFS)) {
		ro = 1;
		ll->fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (ll->fd < 0) {
		bs_err_sys(err, BS_ERR_IO, errno, "unable to open lock file '%s'", path);
		goto fail_free;
	}
	for (;;) {
		if (flock(ll->fd, op | LOCK_NB) == 0)
			break;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			bs_err_sys(err, BS_ERR_IO, errno, "unable to lock repository '%s'", l->root);
			goto fail;
		}
		if (wait_ms >= 0 && waited >= wait_ms) {
			bs_err_set(err, BS_ERR_LOCKED, "repository '%s' is locked by another backstop process",
				   l->root);
			lease_holders(l, lease->name, who, sizeof(who));
			if (who[0])
				bs_err_detail(err, "held by: %s", who);
			bs_err_hint(err, "%s", lease->mode == BS_REPO_LOCK_EXCLUSIVE
					     ? "a snap or drill is writing to it; retry when it has finished"
					     : "a prune is running; retry when it has finished");
			goto fail;
		}
		usleep(50000);
		waited += 50;
	}
	ll->holder[0] = '\0';
	lease->priv = ll;
	/* the holder file is for operators: a read-only repository (drills
	 * from a mounted copy) holds the lease without one */
	bs_err_init(&e2);
	if (ro || write_holder(l, lease, ll, &e2) < 0) {
		ll->holder[0] = '\0';
		lease->expires = time(NULL) + (time_t)((lease->ttl_ms + 999) / 1000);
		if (!ro)
			bs_debug("lease '%s' of '%s' holds no holder file: %s", lease->name, l->root, e2.msg);
	} else {
		sweep_holders(l, lease, ll);
	}
	return 0;
fail:
	close(ll->fd);
fail_free:
	free(ll);
	return -1;
}

int bs_local_lease_renew(struct bs_repo *r, struct bs_repo_lease *lease, struct bs_err *err)
{
	struct local_lease *ll = lease->priv;

	if (!ll->holder[0]) {
		lease->expires = time(NULL) + (time_t)((lease->ttl_ms + 999) / 1000);
		return 0;
	}
	return write_holder(r->priv, lease, ll, err);
}

int bs_local_lease_release(struct bs_repo *r, struct bs_repo_lease *lease, struct bs_err *err)
{
	struct local_lease *ll = lease->priv;
	int rc = 0;

	if (!ll)
		return 0;
	if (ll->holder[0] && unlink(ll->holder) < 0 && errno != ENOENT)
		rc = bs_err_sys(err, BS_ERR_IO, errno, "unable to remove lease file '%s'", ll->holder);
	flock(ll->fd, LOCK_UN);
	close(ll->fd);
	free(ll);
	lease->priv = NULL;
	return rc;
}
