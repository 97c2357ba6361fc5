/* log.c - see log.h.  Thread safe: one fprintf per message under a lock. */
#include "common/log.h"

#include "common/escape.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

static enum bs_log_level cur_level = BS_LOG_INFO;
static const char *cur_prog = "backstop";
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void bs_log_set_level(enum bs_log_level level) { cur_level = level; }
enum bs_log_level bs_log_get_level(void) { return cur_level; }
void bs_log_set_prog(const char *prog) { cur_prog = prog; }

void bs_log(enum bs_log_level level, const char *fmt, ...)
{
	static const char *names[] = { "error", "warning", "info", "debug" };
	char buf[2048], esc[4 * sizeof(buf)];
	va_list ap;

	if (level > cur_level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* names from databases and archives end up in messages: no control
	 * character reaches the terminal (common/escape.h) */
	bs_escape_term(esc, sizeof(esc), buf, 0);
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "%s: %s: %s\n", cur_prog, names[level], esc);
	pthread_mutex_unlock(&log_lock);
}
