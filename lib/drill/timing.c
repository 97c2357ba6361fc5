/*
 * timing.c - a read stream that measures the time spent below it (fetching
 * and decrypting the archive), for the RTO breakdown of a streamed restore.
 */
#include <stdlib.h>

#include "drill/drill.h"

struct timed {
	struct bs_rstream *inner;
	double *seconds;
};

static ssize_t timed_read(void *priv, void *buf, size_t len, struct bs_err *err)
{
	struct timed *t = priv;
	double t0 = bs_now();
	ssize_t n = bs_rstream_read(t->inner, buf, len, err);

	*t->seconds += bs_now() - t0;
	return n;
}

static void timed_free(void *priv)
{
	struct timed *t = priv;

	bs_rstream_free(t->inner);
	free(t);
}

static const struct bs_rstream_ops timed_ops = { timed_read, timed_free };

struct bs_rstream *bs_drill_timed_stream(struct bs_rstream *inner, double *seconds)
{
	struct timed *t = malloc(sizeof(*t));

	if (!t) {
		bs_rstream_free(inner);
		return NULL;
	}
	t->inner = inner;
	t->seconds = seconds;
	return bs_rstream_new(&timed_ops, t);
}
