/* sigwatch.c - see sigwatch.h */
#include "common/sigwatch.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static int sig_pipe[2] = { -1, -1 };
static bs_sigwatch_fn watch_fn;
static void *watch_ud;
static atomic_int fired;

static void on_signal(int sig)
{
	unsigned char b = (unsigned char)sig;
	int saved = errno;

	if (write(sig_pipe[1], &b, 1) < 0) {
		/* nothing safe to do in a handler */
	}
	errno = saved;
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
		watch_fn(b, watch_ud);
	}
	return NULL;
}

int bs_sigwatch_start(bs_sigwatch_fn fn, void *ud, struct bs_err *err)
{
	struct sigaction sa;
	pthread_t th;

	watch_fn = fn;
	watch_ud = ud;
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

void bs_sigwatch_settle(void)
{
	if (!atomic_load(&fired))
		return;
	for (;;)
		pause();
}
