/*
 * http_pool.h - idle HTTP clients kept for reuse (their connections stay
 * open), for users whose requests come from several threads: a thread
 * takes a client, uses it alone (http.h: a client belongs to one thread at
 * a time) and gives it back.  The object-store backends keep one per
 * repository handle.
 */
#ifndef BS_NET_HTTP_POOL_H
#define BS_NET_HTTP_POOL_H

#include <pthread.h>

#include "net/http.h"

#define BS_HTTP_POOL_MAX 16 /* idle clients kept; more are freed when given back */

struct bs_http_pool {
	pthread_mutex_t mu;
	struct bs_http_opts opts;  /* every client's (strings borrowed: keep them alive) */
	struct bs_http *idle[BS_HTTP_POOL_MAX];
	size_t n;
};

void bs_http_pool_init(struct bs_http_pool *p, const struct bs_http_opts *opts);
/* An idle client, or a new one (NULL with err when it cannot be made). */
struct bs_http *bs_http_pool_get(struct bs_http_pool *p, struct bs_err *err);
/* Give c back (NULL: nothing); its transfers must be done. */
void bs_http_pool_put(struct bs_http_pool *p, struct bs_http *c);
/* Free the idle clients. */
void bs_http_pool_release(struct bs_http_pool *p);

#endif
