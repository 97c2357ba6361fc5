/* sigwatch.c - see sigwatch.h */
#include "common/sigwatch.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

struct step {
	bs_cleanup_fn fn;
	void *ud;
	unsigned flags;
};

static int sig_pipe[2] = { -1, -1 };
static pthread_mutex_t steps_mu = PTHREAD_MUTEX_INITIALIZER;
static struct step steps[BS_SIGWATCH_STEPS_MAX];
static size_t nsteps;
static atomic_int fired;

const char *bs_signame(int sig)
{
	static char other[32];

	if (sig == SIGINT)
		return "SIGINT";
	if (sig == SIGTERM)
		return "SIGTERM";
	snprintf(other, sizeof(other), "signal %d", sig);
	return other;
}

static void on_signal(int sig)
{
	unsigned char b = (unsigned char)sig;
	int saved = errno;

	if (write(sig_pipe[1], &b, 1) < 0) {
		/* nothing safe to do in a handler */
	}
	errno = saved;
}

/* The steps, newest first; the registry stays locked: nothing registers
 * after the process started ending. */
static void run_steps(int sig)
{
	size_t i;
	int reported = 0;

	pthread_mutex_lock(&steps_mu);
	for (i = 0; i < nsteps; i++)
		reported |= (steps[i].flags & BS_SIGWATCH_REPORTS) != 0;
	if (!reported)
		bs_log(BS_LOG_WARN, "interrupted by %s", bs_signame(sig));
	for (i = nsteps; i-- > 0;)
		steps[i].fn(sig, steps[i].ud);
	fflush(stdout);
	_exit(128 + sig);
}

static void *watcher(void *arg)
{
	unsigned char b;
	ssize_t n;

	(void)arg;
	do
		n = read(sig_pipe[0], &b, 1);
	while (n < 0 && errno == EINTR);
	if (n == 1) {
		atomic_store(&fired, 1);
		run_steps(b);
	}
	return NULL;
}

int bs_sigwatch_start(struct bs_err *err)
{
	struct sigaction sa;
	pthread_t th;

	if (pipe2(sig_pipe, O_CLOEXEC) < 0)
		return bs_err_sys(err, BS_ERR_INTERNAL, errno, "unable to set up signal handling");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
		return bs_err_sys(err, BS_ERR_INTERNAL, errno, "unable to set up signal handling");
	if (pthread_create(&th, NULL, watcher, NULL) != 0)
		return bs_err_set(err, BS_ERR_INTERNAL, "unable to start the signal watcher");
	pthread_detach(th);
	return 0;
}

int bs_sigwatch_on(bs_cleanup_fn fn, void *ud, unsigned flags, struct bs_err *err)
{
	int rc = 0;

	pthread_mutex_lock(&steps_mu);
	if (nsteps == BS_SIGWATCH_STEPS_MAX)
		rc = bs_err_set(err, BS_ERR_INTERNAL, "too many clean-up steps for signals (at most %d)",
				BS_SIGWATCH_STEPS_MAX);
	else
		steps[nsteps++] = (struct step){fn, ud, flags};
	pthread_mutex_unlock(&steps_mu);
	return rc;
}

int bs_sigwatch_fired(void)
{
	return atomic_load(&fired) != 0;
}

void bs_sigwatch_settle(void)
{
	if (!atomic_load(&fired))
		return;
	for (;;)
		pause();
}

static volatile sig_atomic_t cancel_flag;

static void set_cancel(int sig)
{
	cancel_flag = sig;
}

const volatile int *bs_cancel_on_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = set_cancel;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	return (const volatile int *)&cancel_flag;
}
