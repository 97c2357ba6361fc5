/*
 * progress.h - shared counters for long work, and the stderr progress line.
 *
 * Engines (snap, restore, drill) only bump the atomic counters; a command
 * may start a display thread that redraws one line on stderr when stderr is
 * a TTY (never under cron).  All counters are safe to update from workers.
 */
#ifndef BS_COMMON_PROGRESS_H
#define BS_COMMON_PROGRESS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

struct bs_progress {
	const char *verb;              /* "snap", "restore" */
	_Atomic uint64_t bytes;        /* bytes produced/consumed (archive side) */
	_Atomic uint64_t raw_bytes;    /* uncompressed COPY bytes */
	_Atomic uint64_t raw_total;    /* estimate of raw_bytes at the end (0: unknown) */
	_Atomic uint64_t rows;
	_Atomic uint64_t tables_done;
	_Atomic uint64_t tables_total;

	/* display state (bs_progress_start/stop) */
	pthread_t thread;
	int running;
	_Atomic int stop;
	double t0;
};

void bs_progress_init(struct bs_progress *p, const char *verb);
/* Start the display thread if stderr is a TTY and enabled; no-op otherwise. */
void bs_progress_start(struct bs_progress *p, int enabled);
/* Stop the display and clear the line. */
void bs_progress_stop(struct bs_progress *p);

/* Monotonic seconds. */
double bs_now(void);
/* Sleep until bs_now() reaches t, waking every 100 ms to return early
 * once *cancel (may be NULL) is non-zero. */
void bs_sleep_until(double t, const volatile int *cancel);

#endif
