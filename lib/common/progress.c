/* progress.c - see progress.h */
#include "common/progress.h"

#include "common/human.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double bs_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void bs_sleep_until(double t, const volatile int *cancel)
{
	while (!(cancel && *cancel)) {
		double left = t - bs_now();
		if (left <= 0)
			return;
		usleep(left > 0.1 ? 100000 : (useconds_t)(left * 1e6));
	}
}

void bs_progress_init(struct bs_progress *p, const char *verb)
{
	memset(p, 0, sizeof(*p));
	p->verb = verb;
	p->t0 = bs_now();
}

static void draw(struct bs_progress *p)
{
	double el = bs_now() - p->t0;
	uint64_t raw = atomic_load(&p->raw_bytes), tot = atomic_load(&p->raw_total);
	char b[32], r[32], eta[32] = "";
	double rate = el > 0 ? (double)raw / el : 0;

	bs_human_bytes(atomic_load(&p->bytes), b, sizeof(b));
	bs_human_bytes((uint64_t)rate, r, sizeof(r));
	if (tot > raw && rate > 0)
		snprintf(eta, sizeof(eta), " eta %.0fs", (double)(tot - raw) / rate);
	fprintf(stderr, "\r\033[K%s: %s archive, %llu rows, tables %llu/%llu, %s/s%s",
		p->verb, b, (unsigned long long)atomic_load(&p->rows),
		(unsigned long long)atomic_load(&p->tables_done),
		(unsigned long long)atomic_load(&p->tables_total), r, eta);
	fflush(stderr);
}

static void *loop(void *arg)
{
	struct bs_progress *p = arg;

	while (!atomic_load(&p->stop)) {
		int i;
		draw(p);
		for (i = 0; i < 5 && !atomic_load(&p->stop); i++)
			usleep(100000);
	}
	return NULL;
}

void bs_progress_start(struct bs_progress *p, int enabled)
{
	if (!enabled || !isatty(2))
		return;
	if (pthread_create(&p->thread, NULL, loop, p) == 0)
		p->running = 1;
}

void bs_progress_stop(struct bs_progress *p)
{
	if (!p->running)
		return;
	atomic_store(&p->stop, 1);
	pthread_join(p->thread, NULL);
	p->running = 0;
	fprintf(stderr, "\r\033[K");
	fflush(stderr);
}
