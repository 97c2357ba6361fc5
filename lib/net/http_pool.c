/* http_pool.c - see http_pool.h */
#include "net/http_pool.h"

void bs_http_pool_init(struct bs_http_pool *p, const struct bs_http_opts *opts)
{
	pthread_mutex_init(&p->mu, NULL);
	p->opts = *opts;
	p->n = 0;
}

struct bs_http *bs_http_pool_get(struct bs_http_pool *p, struct bs_err *err)
{
	struct bs_http *c = NULL;

	pthread_mutex_lock(&p->mu);
	if (p->n)
		c = p->idle[--p->n];
	pthread_mutex_unlock(&p->mu);
	return c ? c : bs_http_new(&p->opts, err);
}

void bs_http_pool_put(struct bs_http_pool *p, struct bs_http *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&p->mu);
	if (p->n < BS_HTTP_POOL_MAX) {
		p->idle[p->n++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&p->mu);
	bs_http_free(c);
}

void bs_http_pool_release(struct bs_http_pool *p)
{
	while (p->n)
		bs_http_free(p->idle[--p->n]);
	pthread_mutex_destroy(&p->mu);
}
