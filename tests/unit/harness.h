/*
 * harness.h - a plain TAP-style unit test harness.
 *
 *   TEST(name) { CHECK(x == 1); CHECK_STR(a, b); }
 *   int main(void) { RUN(name); return DONE(); }
 *
 * Prints "ok N - name" / "not ok N - name" / "ok N - name # SKIP why", and a
 * failing CHECK prints file:line and the expression.  tests/run.sh counts
 * the lines.
 */
#ifndef BS_TEST_HARNESS_H
#define BS_TEST_HARNESS_H

#include <stdio.h>
#include <string.h>

static int th_n, th_failed_total, th_cur_failed, th_cur_skipped;
static char th_skip_reason[256];

#define TEST(name) static void test_##name(void)

#define CHECK(expr)                                                            \
	do {                                                                   \
		if (!(expr)) {                                                 \
			printf("#   %s:%d: check failed: %s\n", __FILE__,       \
			       __LINE__, #expr);                               \
			th_cur_failed = 1;                                     \
		}                                                              \
	} while (0)

#define CHECK_INT(a, b)                                                        \
	do {                                                                   \
		long long th_a = (long long)(a), th_b = (long long)(b);        \
		if (th_a != th_b) {                                            \
			printf("#   %s:%d: %s == %s: got %lld, want %lld\n",    \
			       __FILE__, __LINE__, #a, #b, th_a, th_b);        \
			th_cur_failed = 1;                                     \
		}                                                              \
	} while (0)

#define CHECK_STR(a, b)                                                        \
	do {                                                                   \
		const char *th_a = (a), *th_b = (b);                           \
		if (!th_a || !th_b || strcmp(th_a, th_b) != 0) {               \
			printf("#   %s:%d: %s == %s: got \"%s\", want \"%s\"\n", \
			       __FILE__, __LINE__, #a, #b,                     \
			       th_a ? th_a : "(null)", th_b ? th_b : "(null)"); \
			th_cur_failed = 1;                                     \
		}                                                              \
	} while (0)

/* Mark the current test skipped (counted as skipped, never as passed). */
#define SKIP(...)                                                              \
	do {                                                                   \
		snprintf(th_skip_reason, sizeof(th_skip_reason), __VA_ARGS__); \
		th_cur_skipped = 1;                                            \
		return;                                                        \
	} while (0)

static void th_run(const char *name, void (*fn)(void))
{
	th_cur_failed = th_cur_skipped = 0;
	fn();
	th_n++;
	if (th_cur_failed) {
		th_failed_total++;
		printf("not ok %d - %s\n", th_n, name);
	} else if (th_cur_skipped) {
		printf("ok %d - %s # SKIP %s\n", th_n, name, th_skip_reason);
	} else {
		printf("ok %d - %s\n", th_n, name);
	}
	fflush(stdout);
}

/* Run a test under a dynamic name (for table-driven tests). */
#define RUN_NAMED(name, fn) th_run((name), (fn))
#define RUN(name) th_run(#name, test_##name)
#define DONE() (printf("1..%d\n", th_n), th_failed_total ? 1 : 0)

#endif
