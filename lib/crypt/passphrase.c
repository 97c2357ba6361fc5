/* passphrase.c - where a passphrase may come from: a file, an environment
 * variable, or the terminal.  Never the command line: argv is visible to
 * every user through ps and /proc. */
#include "crypt/age_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define PASSPHRASE_MAX 4096

int bs_passphrase_read_file(const char *path, char **out, struct bs_err *err)
{
	/* the trailing newline and the empty file: bs_secret_read_file's rules */
	return bs_secret_read_file(path, "passphrase file", PASSPHRASE_MAX,
				   BS_SECRET_FOLLOW | BS_SECRET_STREAM, out, NULL, err);
}

int bs_passphrase_from_env(const char *name, char **out, struct bs_err *err)
{
	const char *v = getenv(name);

	*out = NULL;
	bs_secret_protect_process();
	if (!v || !*v)
		return bs_err_set(err, BS_ERR_CONFIG, "environment variable '%s' is %s", name,
				  v ? "empty" : "not set");
	if (strlen(v) > PASSPHRASE_MAX)
		return bs_err_set(err, BS_ERR_CONFIG, "passphrase in '%s' is longer than %d bytes",
				  name, PASSPHRASE_MAX);
	*out = strdup(v);
	if (!*out)
		return bs_err_set(err, BS_ERR_NOMEM, "out of memory");
	return 0;
}

/* ---- terminal prompt ----
 *
 * As readpassphrase(3): while echo is off, the usual terminating signals
 * are caught so the terminal can be restored; the signal is then re-raised
 * under the caller's original disposition. */

static volatile sig_atomic_t caught_signal;

static void on_signal(int sig)
{
	caught_signal = sig;
}

static const int tty_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU};
#define NSIG_TTY (sizeof(tty_signals) / sizeof(tty_signals[0]))

static int write_str(int fd, const char *s)
{
	size_t len = strlen(s);

	while (len > 0) {
		ssize_t n = write(fd, s, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read one line (echo off) into buf.  0 ok, -1 error with err. */
static int read_line(int fd, const char *prompt, char *buf, size_t cap, struct bs_err *err)
{
	struct sigaction sa, old[NSIG_TTY];
	struct termios saved, quiet;
	size_t len = 0, i;
	int have_termios, rc = -1, overflow = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: read() returns EINTR */
	sigemptyset(&sa.sa_mask);
	caught_signal = 0;
	for (i = 0; i < NSIG_TTY; i++)
		sigaction(tty_signals[i], &sa, &old[i]);

	have_termios = tcgetattr(fd, &saved) == 0;
	if (have_termios) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	if (write_str(fd, prompt) < 0) {
		bs_err_sys(err, BS_ERR_IO, errno, "unable to write to the terminal");
		goto out;
	}
	for (;;) {
		char c;
		ssize_t n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR && !caught_signal)
			continue;
		if (n < 0 && caught_signal) {
			bs_err_set(err, BS_ERR_INTERRUPTED, "passphrase prompt interrupted");
			goto out;
		}
		if (n < 0) {
			bs_err_sys(err, BS_ERR_IO, errno, "unable to read from the terminal");
			goto out;
		}
		if (n == 0 || c == '\n')
			break;
		if (len + 1 < cap)
			buf[len++] = c;
		else
			overflow = 1;
		c = 0;
	}
	buf[len] = '\0';
	if (overflow) {
		bs_err_set(err, BS_ERR_CONFIG, "passphrase is longer than %zu bytes", cap - 1);
		goto out;
	}
	rc = 0;
out:
	if (have_termios)
		tcsetattr(fd, TCSAFLUSH, &saved);
	write_str(fd, "\n"); /* the user's Enter was not echoed */
	for (i = 0; i < NSIG_TTY; i++)
		sigaction(tty_signals[i], &old[i], NULL);
	if (caught_signal) {
		int sig = caught_signal;
		caught_signal = 0;
		raise(sig);
	}
	if (rc < 0)
		OPENSSL_cleanse(buf, cap);
	return rc;
}

int bs_passphrase_prompt(const char *prompt, int confirm, char **out, struct bs_err *err)
{
	char *a = NULL, *b = NULL;
	int fd, rc = -1;

	*out = NULL;
	bs_secret_protect_process();
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		bs_err_sys(err, BS_ERR_USAGE, errno, "unable to prompt for a passphrase: no terminal");
		bs_err_hint(err, "provide the passphrase in a file (mode 0600) or an environment variable");
		return -1;
	}
	a = calloc(1, PASSPHRASE_MAX + 1);
	b = calloc(1, PASSPHRASE_MAX + 1);
	if (!a || !b) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (read_line(fd, prompt, a, PASSPHRASE_MAX + 1, err) < 0)
		goto out;
	if (!*a) {
		bs_err_set(err, BS_ERR_CONFIG, "empty passphrase");
		goto out;
	}
	if (confirm) {
		if (read_line(fd, "confirm passphrase: ", b, PASSPHRASE_MAX + 1, err) < 0)
			goto out;
		if (strcmp(a, b) != 0) {
			bs_err_set(err, BS_ERR_USAGE, "passphrases do not match");
			goto out;
		}
	}
	*out = strdup(a);
	if (!*out) {
		bs_err_set(err, BS_ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = 0;
out:
	if (a)
		OPENSSL_cleanse(a, PASSPHRASE_MAX + 1);
	if (b)
		OPENSSL_cleanse(b, PASSPHRASE_MAX + 1);
	free(a);
	free(b);
	close(fd);
	return rc;
}
