/*
 * log.h - the one place the library writes human text: stderr.
 *
 * Levels: error < warn < info < debug.  Default info; --quiet sets warn,
 * --verbose sets debug.  Never log secrets.  Messages are lowercase and end
 * without a newline (one is added).
 */
#ifndef BS_COMMON_LOG_H
#define BS_COMMON_LOG_H

enum bs_log_level { BS_LOG_ERROR = 0, BS_LOG_WARN, BS_LOG_INFO, BS_LOG_DEBUG };

void bs_log_set_level(enum bs_log_level level);
enum bs_log_level bs_log_get_level(void);
/* Program name used as prefix ("backstop snap"); the string must outlive logging. */
void bs_log_set_prog(const char *prog);

void bs_log(enum bs_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define bs_warn(...) bs_log(BS_LOG_WARN, __VA_ARGS__)
#define bs_info(...) bs_log(BS_LOG_INFO, __VA_ARGS__)
#define bs_debug(...) bs_log(BS_LOG_DEBUG, __VA_ARGS__)

#endif
