/* writer.c - the single, mutex-protected writer of the snapshot's tar stream.
 *
 * Workers compress a chunk outside the lock and hold the lock only to append
 * it, so at most one compressed chunk per worker is in memory at any time,
 * besides the spool that holds data members until schema.dump is written
 * (snap_int.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/tar.h"
#include "snap/snap_int.h"

int snap_writer_init(struct snap_writer *w, struct bs_wstream *out, struct bs_progress *p,
		     time_t mtime, struct bs_err *err)
{
	memset(w, 0, sizeof(*w));
	w->spool_tail = &w->spool;
	w->out = out;
	w->progress = p;
	w->mtime = mtime;
	if (bs_tar_writer_new(out, &w->tw, err) < 0)
		return -1;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	return 0;
}

void snap_writer_release(struct snap_writer *w)
{
	struct snap_spooled *sp;

	while ((sp = w->spool) != NULL) {
		w->spool = sp->next;
		free(sp);
	}
	/* not closed: bs_tar_writer_free writes nothing more */
	bs_tar_writer_free(w->tw);
	w->tw = NULL;
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
}

static void account(struct snap_writer *w)
{
	if (w->progress)
		atomic_store(&w->progress->bytes, w->out->bytes);
}

/* With w->mu held: write a data member, or spool it while schema.dump is
 * not in yet; waits while the spool is full.  0, or -1 with err set. */
static int put_data(struct snap_writer *w, const char *name, const void *buf, size_t len, struct bs_err *err)
{
	struct snap_spooled *sp;

	while (!w->ready && !w->stop && w->spool_bytes + len > SNAP_SPOOL_MAX && w->spool)
		pthread_cond_wait(&w->cv, &w->mu);
	if (w->stop)
		return bs_err_set(err, BS_ERR_INTERRUPTED, "snapshot abandoned");
	if (w->ready || w->spool_bytes + len > SNAP_SPOOL_MAX) {
		/* ready, or one member larger than the whole spool: wait */
		while (!w->ready && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->stop)
			return bs_err_set(err, BS_ERR_INTERRUPTED, "snapshot abandoned");
		if (bs_tar_write_member(w->tw, name, buf, len, NULL, w->mtime, err) < 0)
			return -1;
		account(w);
		return 0;
	}
	if (!(sp = malloc(sizeof(*sp) + len)))
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	sp->next = NULL;
	sp->len = len;
	snprintf(sp->name, sizeof(sp->name), "%s", name);
	memcpy(sp->data, buf, len);
	*w->spool_tail = sp;
	w->spool_tail = &sp->next;
	w->spool_bytes += len;
	return 0;
}

int snap_writer_member(struct snap_writer *w, const char *name, const void *buf, size_t len,
		       const char *uname, struct bs_err *err)
{
	int rc;

	pthread_mutex_lock(&w->mu);
	rc = bs_tar_write_member(w->tw, name, buf, len, uname, w->mtime, err);
	account(w);
	pthread_mutex_unlock(&w->mu);
	return rc;
}

int snap_writer_fd(struct snap_writer *w, const char *name, int fd, uint64_t size, struct bs_err *err)
{
	int rc;

	pthread_mutex_lock(&w->mu);
	rc = bs_tar_write_fd(w->tw, name, fd, size, w->mtime, err);
	account(w);
	pthread_mutex_unlock(&w->mu);
	return rc;
}

int snap_writer_chunk(struct snap_writer *w, struct bs_mtable *mt, const struct bs_mchunk *c,
		      const void *z, size_t zlen, struct bs_err *err)
{
	char name[64];
	int rc = -1;

	bs_member_chunk_name(name, mt->no, c->seq);
	pthread_mutex_lock(&w->mu);
	if (put_data(w, name, z, zlen, err) < 0)
		goto out;
	if (bs_mtable_add_chunk(mt, c) < 0) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	mt->rows += c->rows;
	mt->raw_bytes += c->raw_bytes;
	bs_digest_merge(&mt->digest, &c->digest);
	w->chunks++;
	if (w->progress) {
		atomic_fetch_add(&w->progress->rows, c->rows);
		atomic_fetch_add(&w->progress->raw_bytes, c->raw_bytes);
	}
	rc = 0;
out:
	pthread_mutex_unlock(&w->mu);
	return rc;
}

int snap_writer_table_end(struct snap_writer *w, const struct bs_mtable *mt, struct bs_err *err)
{
	char name[64], body[64];
	size_t len;
	int rc = -1;

	bs_member_table_end_name(name, mt->no);
	pthread_mutex_lock(&w->mu);
	/* every chunk of the table is in (the caller finished its last item),
	 * and nchunks is guarded by this lock */
	len = bs_table_end_json(mt->nchunks, body);
	rc = put_data(w, name, body, len, err);
	pthread_mutex_unlock(&w->mu);
	return rc;
}

int snap_writer_set_ready(struct snap_writer *w, struct bs_err *err)
{
	struct snap_spooled *sp;
	int rc = 0;

	pthread_mutex_lock(&w->mu);
	while (rc == 0 && (sp = w->spool) != NULL) {
		rc = bs_tar_write_member(w->tw, sp->name, sp->data, sp->len, NULL, w->mtime, err);
		account(w);
		w->spool = sp->next;
		w->spool_bytes -= sp->len;
		free(sp);
	}
	if (!w->spool)
		w->spool_tail = &w->spool;
	/* on failure the caller stops the writer: nobody writes past a gap */
	if (rc == 0)
		w->ready = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return rc;
}

void snap_writer_stop(struct snap_writer *w)
{
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

int snap_writer_close(struct snap_writer *w, struct bs_err *err)
{
	int rc;

	pthread_mutex_lock(&w->mu);
	rc = bs_tar_writer_close(w->tw, err);
	account(w);
	pthread_mutex_unlock(&w->mu);
	return rc;
}
