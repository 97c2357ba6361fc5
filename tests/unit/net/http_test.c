/*
 * http_test.c - the HTTP client against a real local server that
 * misbehaves on request (tests/net/faultserver.py): 503s, 429 with
 * Retry-After, connection resets, stalls, oversized bodies, 50 parallel
 * requests, and TLS with a CA made here by openssl.
 *
 * Needs python3 and openssl (CI has both): without them the tests FAIL,
 * they do not skip.  The servers listen on 127.0.0.1 only, die with this
 * process (they watch their parent) and are killed at the end.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "harness.h"
#include "net/http.h"
#include "net/http_int.h"

static char tmpdir[] = "/tmp/bs-http-test.XXXXXX";
static pid_t srv_pid = -1, tls_pid = -1;
static int port, tls_port;
static char base[64], tls_base[64];

/* ---- helpers: processes, server, log capture ---------------------------- */

static int run_argv(char *const argv[])
{
	int st;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Start faultserver.py; returns its port, or -1 (and kills it) when it did
 * not come up within 10 s. */
static int start_server(pid_t *pid, const char *cert, const char *key)
{
	const char *root = getenv("BS_ROOT");
	char script[1024], portfile[512], parent[32];
	int i;

	snprintf(script, sizeof(script), "%s/tests/net/faultserver.py", root ? root : ".");
	snprintf(portfile, sizeof(portfile), "%s/port.%s", tmpdir, cert ? "tls" : "plain");
	snprintf(parent, sizeof(parent), "%d", (int)getpid());
	*pid = fork();
	if (*pid < 0)
		return -1;
	if (*pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		dup2(fd, 0);
		dup2(fd, 1);
		if (cert)
			execlp("python3", "python3", script, "--port-file", portfile, "--parent", parent,
			       "--max-seconds", "200", "--tls", cert, key, (char *)NULL);
		else
			execlp("python3", "python3", script, "--port-file", portfile, "--parent", parent,
			       "--max-seconds", "200", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 200; i++) { /* 10 s */
		FILE *f = fopen(portfile, "r");
		int st, p = -1;

		if (f) {
			if (fscanf(f, "%d", &p) != 1)
				p = -1;
			fclose(f);
			if (p > 0)
				return p;
		}
		if (waitpid(*pid, &st, WNOHANG) == *pid) {
			printf("# faultserver exited (status %d): is python3 installed?\n", st);
			*pid = -1;
			return -1;
		}
		usleep(50000);
	}
	kill(*pid, SIGKILL);
	waitpid(*pid, NULL, 0);
	*pid = -1;
	return -1;
}

static void stop_server(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
		*pid = -1;
	}
}

static void stop_all(void)
{
	stop_server(&srv_pid);
	stop_server(&tls_pid);
}

static int log_fd = -1, saved_fd = -1;
static char log_path[512];

static void capture_start(void)
{
	snprintf(log_path, sizeof(log_path), "%s/log", tmpdir);
	fflush(stderr);
	saved_fd = dup(2);
	log_fd = open(log_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	dup2(log_fd, 2);
}

/* Stop capturing stderr; returns what was logged (static buffer). */
static const char *capture_end(void)
{
	static char buf[65536];
	ssize_t n;

	fflush(stderr);
	dup2(saved_fd, 2);
	close(saved_fd);
	lseek(log_fd, 0, SEEK_SET);
	n = read(log_fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(log_fd);
	if (buf[0])
		printf("# log: %.*s\n", (int)strcspn(buf, "\n"), buf);
	return buf;
}

static int count_lines(const char *s, const char *needle)
{
	int n = 0;

	while ((s = strstr(s, needle))) {
		n++;
		s += strlen(needle);
	}
	return n;
}

static struct bs_http *client(int attempts, long base_ms, long budget_ms)
{
	struct bs_http_opts o;
	struct bs_err err;
	struct bs_http *c;

	bs_http_opts_default(&o);
	o.retry.max_attempts = attempts;
	o.retry.base_ms = base_ms;
	o.retry.max_ms = base_ms * 4;
	o.retry.budget_ms = budget_ms;
	o.connect_timeout_ms = 3000;
	o.timeout_ms = 20000;
	bs_err_init(&err);
	c = bs_http_new(&o, &err);
	if (!c)
		printf("# bs_http_new: %s\n", err.msg);
	return c;
}

static void url(char *out, size_t sz, const char *path)
{
	snprintf(out, sz, "%s%s", base, path);
}

static long elapsed_since(int64_t t0) { return (long)(bs_http_now_ms() - t0); }

#define NEED_SERVER()                                                          \
	do {                                                                   \
		if (port <= 0) {                                               \
			CHECK(!"the fault server is not running");             \
			return;                                                \
		}                                                              \
	} while (0)

/* ---- tests ----------------------------------------------------------------- */

TEST(server_starts)
{
	port = start_server(&srv_pid, NULL, NULL);
	CHECK(port > 0);
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
}

TEST(get_ok)
{
	struct bs_http *c = client(5, 50, 10000);
	struct bs_http_req r = { 0 };
	struct bs_err err;
	char u[128];

	NEED_SERVER();
	url(u, sizeof(u), "/ok");
	r.url = u;
	CHECK_INT(bs_http_do(c, &r, &err), 0);
	CHECK(r.res.ok);
	CHECK_INT(r.res.status, 200);
	CHECK_INT(r.res.attempts, 1);
	CHECK_STR(r.res.body, "ok");
	CHECK_STR(bs_http_header(&r.res, "content-type"), "text/plain");
	CHECK(bs_http_header(&r.res, "X-Not-There") == NULL);
	bs_http_req_release(&r);
	bs_http_free(c);
}

TEST(transient_503_retried_and_logged)
{
	struct bs_http *c = client(5, 50, 10000);
	struct bs_http_req r = { 0 };
	struct bs_err err;
	const char *log;
	char u[128];

	NEED_SERVER();
	url(u, sizeof(u), "/status/503?key=t503&fail=2");
	r.url = u;
	capture_start();
	CHECK_INT(bs_http_do(c, &r, &err), 0);
	log = capture_end();
	CHECK(r.res.ok);
	CHECK_INT(r.res.status, 200);
	CHECK_INT(r.res.attempts, 3);
	CHECK_STR(r.res.body, "ok after 2");
	/* every retry logged: method, URL without query, status, attempt n/m */
	CHECK_INT(count_lines(log, "warning: GET "), 2);
	CHECK(strstr(log, "/status/503: HTTP 503 (attempt 1/5)") != NULL);
	CHECK(strstr(log, "(attempt 2/5)") != NULL);
	CHECK(strstr(log, "key=t503") == NULL);
	bs_http_req_release(&r);
	bs_http_free(c);
}

TEST(persistent_503_fails_transient)
{
	struct bs_http *c = client(3, 20, 10000);
	struct bs_http_req r = { 0 };
	struct bs_err err;
	char u[128];

	NEED_SERVER();
	url(u, sizeof(u), "/status/503?key=p503");
	r.url = u;
	capture_start();
	CHECK_INT(bs_http_do(c, &r, &err), -1);
	capture_end();
	CHECK(!r.res.ok);
	CHECK_INT(err.code, BS_ERR_NET);
	CHECK_INT(r.res.err.code, BS_ERR_NET);
	CHECK_INT(r.res.status, 503);
	CHECK_INT(r.res.curl_code, CURLE_OK);
	CHECK(r.res.transient);
	CHECK_INT(r.res.attempts, 3);
	/* the error body is kept for the caller (S3/Azure error XML) */
	CHECK_STR(r.res.body, "<Error><Code>Status503</Code></Error>");
	bs_http_req_release(&r);
	bs_http_free(c);
}

TEST(not_found_is_not_retried)
{
	struct bs_http *c = client(5, 20, 10000);
	struct bs_http_req r = { 0 }, cnt = { 0 };
	struct bs_err err;
	char u[128], u2[128];

	NEED_SERVER();
	url(u, sizeof(u), "/status/404?key=nf");
	r.url = u;
	CHECK_INT(bs_http_do(c, &r, &err), -1);
	CHECK_INT(r.res.status, 404);
	CHECK(!r.res.transient);
	CHECK_INT(r.res.attempts, 1);
	url(u2, sizeof(u2), "/count?key=nf");
	cnt.url = u2;
	CHECK_INT(bs_http_do(c, &cnt, &err), 0);
	CHECK_STR(cnt.res.body, "1"); /* the server saw exactly one call */
	bs_http_req_release(&r);
	bs_http_req_release(&cnt);
	bs_http_free(c);
}

TEST(retry_after_seconds_honoured)
{
	struct bs_http *c = client(5, 10, 10000);
	struct bs_http_req r = { 0 };
	struct bs_err err;
	const char *log;
	char u[128];
	int64_t t0 = bs_http_now_ms();

	NEED_SERVER();
	url(u, sizeof(u), "/429?key=ra&fail=1&retry-after=1");
	r.url = u;
	capture_start();
	CHECK_INT(bs_http_do(c, &r, &err), 0);
	log = capture_end();
	CHECK_INT(r.res.attempts, 2);
	/* backoff alone would be 5-10 ms: the wait came from Retry-After */
	CHECK(elapsed_since(t0) >= 1000);
	CHECK(elapsed_since(t0) < 4000);
	CHECK(strstr(log, "HTTP 429 (attempt 1/5), retrying in 1.00 s (Retry-After)") != NULL);
	bs_http_req_release(&r);
	bs_http_free(c);
}

TEST(retry_after_date_honoured)
{
	struct bs_http *c = client(5, 10, 10000);
	struct bs_http_req r = { 0 };
	struct bs_err err;
	char u[128];
	int64_t t0 = bs_http_now_ms();

	NEED_SERVER();
	/* an HTTP-date 2 s ahead (whole seconds: at least ~1 s of wait) */
	url(u, sizeof(u), "/status/503?key=rad&fail=1&retry-after-date=2");
	r.url = u;
	capture_start();
	CHECK_INT(bs_http_do(c, &r, &err), 0);
	capture_end();
	CHECK_INT(r.res.attempts, 2);
	CHECK(elapsed_since(t0) >= 900);
	CHECK(elapsed_since(t0) < 5000);
	bs_http_req_release(&r);
	bs_http_free(c);
}

TEST(retry_after_beyond_budget_gives_up_at_once)
{
	struct bs_http *c = client(5, 10, 2000);
	struct bs_http_req r = { 0 };
	struct bs_err err;
	char u[128];
	int64_t t0 = bs_http_now_ms();

	NEED_SERVER();
	url(u, sizeof(u), "/429?key=rab&retry-after=30");
	r.url = u;
	CHECK_INT(bs_http_do(c, &r, &err), -1);
	CHECK(elapsed_since(t0) < 1500);
	CHECK_INT(r.res.status, 429);
	CHECK(r.res.transient);
	CHECK_INT(r.res.attempts, 1);
	CHECK(err.detail[0] != '\0');
	bs_http_req_release(&r);
	bs_http_free(c);
}

TEST(budget_caps_total_time)
{
	struct bs_http *c = client(1000, 100, 1500);
	struct bs_http_req r = { 0 };
	struct bs_err err;
	char u[128];
	int64_t t0 = bs_http_now_ms();
	long ms;

	NEED_SERVER();
	url(u, sizeof(u), "/status/503?key=budget");
	r.url = u;
	capture_start();
	CHECK_INT(bs_http_do(c, &r, &err), -1);
	capture_end();
	ms = elapsed_since(t0);
	printf("# budget 1.5 s: gave up after %ld ms and %d attempts\n", ms, r.res.attempts);
	CHECK(ms <= 2500);
	CHECK(ms >= 700);
	CHECK(r.res.attempts > 2 && r.res.attempts < 1000);
	CHECK(r.res.transient);
	CHECK_INT(r.res.status, 503);
	bs_http_req_release(&r);
	bs_http_free(c);
}

TEST(reset_retried_then_persistent_fails)
{
	struct bs_http *c = client(3, 20, 10000);
	struct bs_http_req r = { 0 };
	struct bs_err err;
	const char *log;
	char u[128];

	NEED_SERVER();
	url(u, sizeof(u), "/reset?key=rst&fail=2");
	r.url = u;
	capture_start();
	CHECK_INT(bs_http_do(c, &r, &err), 0);
	log = capture_end();
	CHECK_INT(r.res.attempts, 3);
	CHECK_STR(r.res.body, "ok");
	CHECK_INT(count_lines(log, "warning: GET "), 2);
	bs_http_req_release(&r);

	url(u, sizeof(u), "/reset?key=rst2");
	r.url = u;
	capture_start();
	CHECK_INT(bs_http_do(c, &r, &err), -1);
	capture_end();
	CHECK_INT(r.res.attempts, 3);
	CHECK(r.res.transient);
	CHECK(r.res.curl_code != CURLE_OK);
	CHECK_INT(r.res.err.code, BS_ERR_NET);
	bs_http_req_release(&r);
	bs_http_free(c);
}

TEST(stall_hits_low_speed_limit_and_is_retried)
{
	struct bs_http_opts o;
	struct bs_http *c;
	struct bs_http_req r = { 0 };
	struct bs_err err;
	char u[128];
	int64_t t0 = bs_http_now_ms();

	NEED_SERVER();
	bs_http_opts_default(&o);
	o.low_speed_bytes = 1000;
	o.low_speed_secs = 1;
	o.retry.base_ms = 20;
	c = bs_http_new(&o, &err);
	url(u, sizeof(u), "/stall?key=stall&fail=1&secs=20");
	r.url = u;
	capture_start();
	CHECK_INT(bs_http_do(c, &r, &err), 0);
	capture_end();
	printf("# stall: %d attempts in %ld ms\n", r.res.attempts, elapsed_since(t0));
	CHECK_INT(r.res.attempts, 2);
	CHECK(elapsed_since(t0) < 8000);
	bs_http_req_release(&r);
	bs_http_free(c);
}

static void big_case(const char *path)
{
	struct bs_http_opts o;
	struct bs_http *c;
	struct bs_http_req r = { 0 };
	struct bs_err err;
	char u[128];

	bs_http_opts_default(&o);
	o.max_body = 1 << 20;
	c = bs_http_new(&o, &err);
	url(u, sizeof(u), path);
	r.url = u;
	CHECK_INT(bs_http_do(c, &r, &err), -1);
	CHECK_INT(err.code, BS_ERR_NET);
	CHECK(!r.res.transient);
	CHECK_INT(r.res.attempts, 1);
	CHECK_INT(r.res.status, 200);
	CHECK(r.res.body_len <= (size_t)1 << 20);
	bs_http_req_release(&r);

	/* just under the bound is fine */
	url(u, sizeof(u), "/big?size=1048576&chunked=1");
	r.url = u;
	CHECK_INT(bs_http_do(c, &r, &err), 0);
	CHECK_INT(r.res.body_len, 1 << 20);
	bs_http_req_release(&r);
	bs_http_free(c);
}

TEST(big_body_refused_content_length)
{
	NEED_SERVER();
	big_case("/big?size=3000000");
}

TEST(big_body_refused_chunked)
{
	NEED_SERVER();
	big_case("/big?size=3000000&chunked=1");
}

struct count_sink {
	size_t bytes;
	int resets;
};

static int sink_write(void *priv, const void *buf, size_t len, struct bs_err *err)
{
	((struct count_sink *)priv)->bytes += len;
	return 0;
}

static int sink_reset(void *priv, struct bs_err *err)
{
	((struct count_sink *)priv)->bytes = 0;
	((struct count_sink *)priv)->resets++;
	return 0;
}

TEST(sink_streams_past_the_bound_and_resets_on_retry)
{
	struct bs_http_opts o;
	struct bs_http *c;
	struct count_sink cs = { 0 };
	struct bs_http_sink sink = { sink_write, sink_reset, &cs };
	struct bs_http_req r = { 0 };
	struct bs_err err;
	char u[128];

	NEED_SERVER();
	bs_http_opts_default(&o);
	o.max_body = 4096;
	o.retry.base_ms = 10;
	c = bs_http_new(&o, &err);
	url(u, sizeof(u), "/big?size=3000000");
	r.url = u;
	r.sink = &sink;
	CHECK_INT(bs_http_do(c, &r, &err), 0);
	CHECK_INT(cs.bytes, 3000000);
	CHECK_INT(r.res.body_len, 0);
	bs_http_req_release(&r);

	/* a reset mid-body: the sink is reset and the retry delivers it all */
	cs.bytes = 0;
	url(u, sizeof(u), "/reset?key=sinkrst&fail=1");
	r.url = u;
	capture_start();
	CHECK_INT(bs_http_do(c, &r, &err), 0);
	capture_end();
	CHECK_INT(cs.resets, 1);
	CHECK_INT(cs.bytes, 2);
	bs_http_req_release(&r);

	/* a sink without reset that received bytes: not retried */
	sink.reset = NULL;
	url(u, sizeof(u), "/reset?key=sinkrst2&fail=1");
	r.url = u;
	capture_start();
	CHECK_INT(bs_http_do(c, &r, &err), -1);
	capture_end();
	CHECK_INT(r.res.attempts, 1);
	CHECK(r.res.transient);
	bs_http_req_release(&r);
	bs_http_free(c);
}

static void sha256_hex(const void *buf, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;
	int i;

	EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL);
	for (i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

struct mem_reader {
	const char *buf;
	size_t len, off;
	int rewinds;
};

static ssize_t mr_read(void *priv, void *buf, size_t len, struct bs_err *err)
{
	struct mem_reader *m = priv;
	size_t n = m->len - m->off;

	if (n > len)
		n = len;
	if (n > 777) /* small pieces: exercise the loop */
		n = 777;
	memcpy(buf, m->buf + m->off, n);
	m->off += n;
	return (ssize_t)n;
}

static int mr_rewind(void *priv, struct bs_err *err)
{
	((struct mem_reader *)priv)->off = 0;
	((struct mem_reader *)priv)->rewinds++;
	return 0;
}

/* Every body the server received for key equals the one we sent. */
static void check_bodies(const char *json, const char *want_hex, int n)
{
	int i;
	const char *p = json;

	for (i = 0; i < n; i++) {
		p = strstr(p, want_hex);
		CHECK(p != NULL);
		if (!p)
			return;
		p += 64;
	}
}

TEST(retry_resends_the_same_body)
{
	struct bs_http *c = client(5, 10, 10000);
	struct bs_http_req r = { 0 };
	struct bs_err err;
	static char body[300000];
	char hex[65], u[128];
	size_t i;
	struct mem_reader mr;
	struct bs_http_reader rd = { mr_read, mr_rewind, &mr, sizeof(body) };

	NEED_SERVER();
	for (i = 0; i < sizeof(body); i++)
		body[i] = (char)(i * 7 + i / 251);
	sha256_hex(body, sizeof(body), hex);

	/* memory body, PUT */
	url(u, sizeof(u), "/echo?key=body1&fail=2");
	r.method = "PUT";
	r.url = u;
	r.body = body;
	r.body_len = sizeof(body);
	capture_start();
	CHECK_INT(bs_http_do(c, &r, &err), 0);
	capture_end();
	CHECK_INT(r.res.attempts, 3);
	CHECK(r.res.body && strstr(r.res.body, "\"method\": \"PUT\""));
	check_bodies(r.res.body ? r.res.body : "", hex, 3);
	bs_http_req_release(&r);

	/* streamed body with rewind, POST of unknown length (chunked) */
	memset(&r, 0, sizeof(r));
	mr = (struct mem_reader){ body, sizeof(body), 0, 0 };
	rd.size = -1;
	url(u, sizeof(u), "/echo?key=body2&fail=1");
	r.method = "POST";
	r.url = u;
	r.reader = &rd;
	capture_start();
	CHECK_INT(bs_http_do(c, &r, &err), 0);
	capture_end();
	CHECK_INT(r.res.attempts, 2);
	CHECK_INT(mr.rewinds, 1);
	CHECK(r.res.body && strstr(r.res.body, "\"method\": \"POST\""));
	check_bodies(r.res.body ? r.res.body : "", hex, 2);
	bs_http_req_release(&r);

	/* a reader without rewind: not retried, the failure says transient */
	mr = (struct mem_reader){ body, sizeof(body), 0, 0 };
	rd.rewind = NULL;
	rd.size = sizeof(body);
	url(u, sizeof(u), "/echo?key=body3&fail=1");
	r.method = "PUT";
	r.url = u;
	r.reader = &rd;
	CHECK_INT(bs_http_do(c, &r, &err), -1);
	CHECK_INT(r.res.attempts, 1);
	CHECK_INT(r.res.status, 503);
	CHECK(r.res.transient);
	bs_http_req_release(&r);
	bs_http_free(c);
}

TEST(secrets_never_logged)
{
	struct bs_http *c = client(3, 10, 10000);
	static const char *hdrs[] = { "Authorization: Bearer sekrit-token-42", "x-amz-date: 20260101T000000Z",
				      NULL };
	struct bs_http_req r = { 0 };
	struct bs_err err;
	const char *log;
	char u[256];

	NEED_SERVER();
	snprintf(u, sizeof(u), "http://user:pa55word@127.0.0.1:%d/echo?key=sec&fail=5&X-Amz-Signature=SIGSIG",
		 port);
	r.method = "DELETE";
	r.url = u;
	r.headers = hdrs;
	capture_start();
	CHECK_INT(bs_http_do(c, &r, &err), -1);
	log = capture_end();
	CHECK_INT(count_lines(log, "warning: DELETE http://127.0.0.1:"), 2);
	CHECK(strstr(log, "sekrit") == NULL);
	CHECK(strstr(log, "SIGSIG") == NULL);
	CHECK(strstr(log, "pa55word") == NULL);
	CHECK(strstr(err.msg, "SIGSIG") == NULL && strstr(err.detail, "SIGSIG") == NULL);
	CHECK(strstr(err.msg, "pa55word") == NULL);
	bs_http_req_release(&r);

	/* the headers were sent */
	url(u, sizeof(u), "/echo?key=sec2&fail=0");
	r.method = "GET";
	r.url = u;
	CHECK_INT(bs_http_do(c, &r, &err), 0);
	CHECK(r.res.body && strstr(r.res.body, "\"Authorization\": \"Bearer sekrit-token-42\""));
	bs_http_req_release(&r);
	bs_http_free(c);
}

TEST(range_header_sent)
{
	struct bs_http *c = client(3, 10, 10000);
	struct bs_http_req r = { 0 };
	struct bs_err err;
	char u[128];

	NEED_SERVER();
	url(u, sizeof(u), "/echo?key=range&fail=0");
	r.url = u;
	r.range_off = 100;
	r.range_len = 50;
	CHECK_INT(bs_http_do(c, &r, &err), 0);
	CHECK(r.res.body && strstr(r.res.body, "\"Range\": \"bytes=100-149\""));
	bs_http_req_release(&r);
	r.range_len = -1;
	CHECK_INT(bs_http_do(c, &r, &err), 0);
	CHECK(r.res.body && strstr(r.res.body, "\"Range\": \"bytes=100-\""));
	bs_http_req_release(&r);
	bs_http_free(c);
}

TEST(fifty_in_parallel)
{
	struct bs_http_opts o;
	struct bs_http *c;
	static struct bs_http_req rs[50];
	struct bs_err err;
	char u[128];
	int64_t t0;
	long ms;
	int i, ok = 0;

	NEED_SERVER();
	bs_http_opts_default(&o);
	o.max_parallel = 50;
	c = bs_http_new(&o, &err);
	url(u, sizeof(u), "/slow?ms=400");
	for (i = 0; i < 50; i++)
		rs[i] = (struct bs_http_req){ .url = u };
	t0 = bs_http_now_ms();
	CHECK_INT(bs_http_run(c, rs, 50, &err), 0);
	ms = elapsed_since(t0);
	for (i = 0; i < 50; i++) {
		ok += rs[i].res.ok;
		bs_http_req_release(&rs[i]);
	}
	printf("# 50 x 400 ms requests: %ld ms (serial: 20000 ms)\n", ms);
	CHECK_INT(ok, 50);
	CHECK(ms < 5000);
	bs_http_free(c);
}

TEST(window_with_add_and_next)
{
	struct bs_http_opts o;
	struct bs_http *c;
	struct bs_http_req rs[4] = { { 0 } }, *done;
	struct bs_err err;
	char u[4][128];
	int seen = 0, rounds = 0;

	NEED_SERVER();
	bs_http_opts_default(&o);
	o.max_parallel = 2; /* 4 requests through 2 slots */
	o.retry.base_ms = 10;
	c = bs_http_new(&o, &err);
	url(u[0], 128, "/slow?ms=300");
	url(u[1], 128, "/ok");
	url(u[2], 128, "/status/503?key=win&fail=1");
	url(u[3], 128, "/status/403?key=win403");
	for (int i = 0; i < 4; i++) {
		rs[i].url = u[i];
		rs[i].user = &rs[i];
		CHECK_INT(bs_http_add(c, &rs[i], &err), 0);
	}
	CHECK_INT(bs_http_pending(c), 4);
	capture_start();
	while ((done = bs_http_next(c, 5000)) && rounds++ < 10) {
		CHECK(done->user == done);
		seen++;
	}
	capture_end();
	CHECK_INT(seen, 4);
	CHECK_INT(bs_http_pending(c), 0);
	CHECK(rs[0].res.ok && rs[1].res.ok && rs[2].res.ok);
	CHECK_INT(rs[2].res.attempts, 2);
	CHECK_INT(rs[3].res.status, 403);
	CHECK(bs_http_next(c, 100) == NULL);
	for (int i = 0; i < 4; i++)
		bs_http_req_release(&rs[i]);
	bs_http_free(c);
}

TEST(max_parallel_bounds_concurrency)
{
	struct bs_http_opts o;
	struct bs_http *c;
	struct bs_http_req rs[6];
	struct bs_err err;
	char u[128];
	int64_t t0;
	long ms;
	int i;

	NEED_SERVER();
	bs_http_opts_default(&o);
	o.max_parallel = 2;
	c = bs_http_new(&o, &err);
	url(u, sizeof(u), "/slow?ms=300");
	for (i = 0; i < 6; i++)
		rs[i] = (struct bs_http_req){ .url = u };
	t0 = bs_http_now_ms();
	CHECK_INT(bs_http_run(c, rs, 6, &err), 0);
	ms = elapsed_since(t0);
	printf("# 6 x 300 ms through 2 slots: %ld ms\n", ms);
	CHECK(ms >= 900);
	CHECK(ms < 4000);
	for (i = 0; i < 6; i++)
		bs_http_req_release(&rs[i]);
	bs_http_free(c);
}

TEST(retry_wait_does_not_block_others)
{
	struct bs_http_opts o;
	struct bs_http *c;
	struct bs_http_req a = { 0 }, b = { 0 }, *first, *second;
	struct bs_err err;
	char ua[128], ub[128];

	NEED_SERVER();
	bs_http_opts_default(&o);
	o.max_parallel = 1; /* one slot: b can only run while a waits */
	c = bs_http_new(&o, &err);
	url(ua, sizeof(ua), "/429?key=noblock&fail=1&retry-after=1");
	url(ub, sizeof(ub), "/slow?ms=200");
	a.url = ua;
	b.url = ub;
	CHECK_INT(bs_http_add(c, &a, &err), 0);
	CHECK_INT(bs_http_add(c, &b, &err), 0);
	capture_start();
	first = bs_http_next(c, 10000);
	second = bs_http_next(c, 10000);
	capture_end();
	CHECK(first == &b);
	CHECK(second == &a);
	CHECK(b.res.ok && b.res.elapsed_ms < 900);
	CHECK(a.res.ok && a.res.attempts == 2 && a.res.elapsed_ms >= 1000);
	bs_http_req_release(&a);
	bs_http_req_release(&b);
	bs_http_free(c);
}

TEST(connection_refused_is_transient)
{
	struct bs_http *c = client(2, 10, 10000);
	struct bs_http_req r = { 0 };
	struct bs_err err;
	char u[128];
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);

	/* a free port nobody listens on: bind, read the port, close */
	CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	close(fd);
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/x", ntohs(sa.sin_port));
	r.url = u;
	capture_start();
	CHECK_INT(bs_http_do(c, &r, &err), -1);
	capture_end();
	CHECK_INT(r.res.curl_code, CURLE_COULDNT_CONNECT);
	CHECK_INT(r.res.status, 0);
	CHECK(r.res.transient);
	CHECK_INT(r.res.attempts, 2);
	bs_http_req_release(&r);
	bs_http_free(c);
}

TEST(bad_requests_refused)
{
	struct bs_http *c = client(2, 10, 10000);
	struct bs_http_req r = { 0 };
	struct bs_err err;

	r.url = "ftp://127.0.0.1/x";
	CHECK_INT(bs_http_do(c, &r, &err), -1);
	CHECK(!r.res.ok);
	r.url = "file:///etc/passwd";
	CHECK_INT(bs_http_do(c, &r, &err), -1);
	r.url = "http://127.0.0.1/x";
	r.body = "abc";
	r.body_len = 3; /* a GET with a body */
	CHECK_INT(bs_http_do(c, &r, &err), -1);
	CHECK_INT(bs_http_pending(c), 0);
	bs_http_req_release(&r);
	bs_http_free(c);
}

static volatile int cancel_flag;

TEST(cancel_interrupts)
{
	struct bs_http_opts o;
	struct bs_http *c;
	struct bs_http_req r = { 0 };
	struct bs_err err;
	char u[128];
	int64_t t0;

	NEED_SERVER();
	bs_http_opts_default(&o);
	o.cancel = &cancel_flag;
	c = bs_http_new(&o, &err);
	url(u, sizeof(u), "/slow?ms=3000");
	r.url = u;
	CHECK_INT(bs_http_add(c, &r, &err), 0);
	t0 = bs_http_now_ms();
	CHECK(bs_http_next(c, 300) == NULL); /* still running after 300 ms */
	cancel_flag = 1;
	CHECK(bs_http_next(c, -1) == &r);
	CHECK(elapsed_since(t0) < 1500);
	CHECK_INT(r.res.err.code, BS_ERR_INTERRUPTED);
	bs_http_req_release(&r);
	bs_http_free(c);
}

/* ---- TLS ------------------------------------------------------------------- */

static int make_ca(const char *name)
{
	char key[600], pem[600], subj[64];
	char *argv[] = { "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
			 "-nodes", "-keyout", key, "-out", pem, "-subj", subj, "-days", "2", NULL };

	snprintf(key, sizeof(key), "%s/%s.key", tmpdir, name);
	snprintf(pem, sizeof(pem), "%s/%s.pem", tmpdir, name);
	snprintf(subj, sizeof(subj), "/CN=backstop test %s", name);
	return run_argv(argv);
}

static int make_server_cert(void)
{
	char key[600], csr[600], pem[600], cakey[600], capem[600], ext[600];
	char *req[] = { "openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
			"-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1", NULL };
	char *sign[] = { "openssl", "x509", "-req", "-in", csr, "-CA", capem, "-CAkey", cakey,
			 "-CAcreateserial", "-out", pem, "-days", "2", "-extfile", ext, NULL };
	FILE *f;

	snprintf(key, sizeof(key), "%s/srv.key", tmpdir);
	snprintf(csr, sizeof(csr), "%s/srv.csr", tmpdir);
	snprintf(pem, sizeof(pem), "%s/srv.pem", tmpdir);
	snprintf(cakey, sizeof(cakey), "%s/ca.key", tmpdir);
	snprintf(capem, sizeof(capem), "%s/ca.pem", tmpdir);
	snprintf(ext, sizeof(ext), "%s/srv.ext", tmpdir);
	f = fopen(ext, "w");
	if (!f)
		return -1;
	fprintf(f, "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
	fclose(f);
	if (run_argv(req) != 0)
		return -1;
	return run_argv(sign);
}

TEST(tls_server_starts)
{
	char cert[600], key[600];

	CHECK_INT(make_ca("ca"), 0);
	CHECK_INT(make_ca("other"), 0);
	CHECK_INT(make_server_cert(), 0);
	snprintf(cert, sizeof(cert), "%s/srv.pem", tmpdir);
	snprintf(key, sizeof(key), "%s/srv.key", tmpdir);
	tls_port = start_server(&tls_pid, cert, key);
	CHECK(tls_port > 0);
	snprintf(tls_base, sizeof(tls_base), "https://127.0.0.1:%d", tls_port);
}

static int tls_get(const char *ca_file, struct bs_http_req *r, struct bs_err *err)
{
	struct bs_http_opts o;
	struct bs_http *c;
	static char u[128];
	int rc;

	bs_http_opts_default(&o);
	o.ca_file = ca_file;
	o.retry.base_ms = 10;
	o.connect_timeout_ms = 3000;
	c = bs_http_new(&o, err);
	if (!c)
		return -2;
	snprintf(u, sizeof(u), "%s/ok", tls_base);
	memset(r, 0, sizeof(*r));
	r->url = u;
	rc = bs_http_do(c, r, err);
	bs_http_free(c);
	return rc;
}

TEST(tls_verification_always_on)
{
	struct bs_http_req r;
	struct bs_err err;
	char ca[600], other[600];

	if (tls_port <= 0) {
		CHECK(!"the TLS fault server is not running");
		return;
	}
	snprintf(ca, sizeof(ca), "%s/ca.pem", tmpdir);
	snprintf(other, sizeof(other), "%s/other.pem", tmpdir);

	/* the system bundle does not know our CA */
	CHECK_INT(tls_get(NULL, &r, &err), -1);
	CHECK_INT(r.res.curl_code, CURLE_PEER_FAILED_VERIFICATION);
	CHECK(!r.res.transient);
	CHECK_INT(r.res.attempts, 1);
	CHECK(err.hint[0] != '\0');
	bs_http_req_release(&r);

	/* another CA does not either */
	CHECK_INT(tls_get(other, &r, &err), -1);
	CHECK_INT(r.res.curl_code, CURLE_PEER_FAILED_VERIFICATION);
	CHECK_INT(r.res.attempts, 1);
	bs_http_req_release(&r);

	/* the right CA bundle passes */
	CHECK_INT(tls_get(ca, &r, &err), 0);
	CHECK_INT(r.res.status, 200);
	CHECK_STR(r.res.body, "ok");
	bs_http_req_release(&r);
}

/* ---- pure policy ----------------------------------------------------------- */

TEST(policy_functions)
{
	struct bs_http_retry rp = { 5, 100, 1000, 10000 };
	char out[256];
	uint32_t st = 1;
	int i;

	for (i = 0; i < 200; i++) {
		long b1 = bs_http_backoff_ms(&rp, 1, bs_http_rand(&st));
		long b3 = bs_http_backoff_ms(&rp, 3, bs_http_rand(&st));
		long b9 = bs_http_backoff_ms(&rp, 9, bs_http_rand(&st));

		CHECK(b1 >= 50 && b1 <= 100);
		CHECK(b3 >= 200 && b3 <= 400);
		CHECK(b9 >= 500 && b9 <= 1000);
	}
	CHECK_INT(bs_http_retry_after_ms("3", 0), 3000);
	CHECK_INT(bs_http_retry_after_ms(" 0 ", 0), 0);
	CHECK_INT(bs_http_retry_after_ms("-1", 0), -1);
	CHECK_INT(bs_http_retry_after_ms("3x", 0), -1);
	CHECK_INT(bs_http_retry_after_ms("", 0), -1);
	CHECK_INT(bs_http_retry_after_ms(NULL, 0), -1);
	CHECK_INT(bs_http_retry_after_ms("soon", 0), -1);
	/* 1445412480 = Wed, 21 Oct 2015 07:28:00 GMT */
	CHECK_INT(bs_http_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", 1445412480 - 7), 7000);
	CHECK_INT(bs_http_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", 1445412480 + 60), 0);
	CHECK(bs_http_status_transient(503) && bs_http_status_transient(429) && bs_http_status_transient(408));
	CHECK(!bs_http_status_transient(404) && !bs_http_status_transient(403) && !bs_http_status_transient(501));
	CHECK(bs_http_curl_transient(CURLE_RECV_ERROR) && bs_http_curl_transient(CURLE_OPERATION_TIMEDOUT));
	CHECK(!bs_http_curl_transient(CURLE_PEER_FAILED_VERIFICATION));
	bs_http_redact_url("https://u:p@h.example:9/a/b?sig=x#f", out, sizeof(out));
	CHECK_STR(out, "https://h.example:9/a/b");
	bs_http_redact_url("http://h/p?x", out, sizeof(out));
	CHECK_STR(out, "http://h/p");
	bs_http_redact_url("https://h?sv=1&sig=2", out, sizeof(out));
	CHECK_STR(out, "https://h");
	bs_http_redact_url("http://a@b@h/p@q", out, sizeof(out));
	CHECK_STR(out, "http://h/p@q");
	bs_http_redact_url("https://h/abcdefgh", out, 12);
	CHECK_STR(out, "https://h/a");
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	atexit(stop_all);
	RUN(policy_functions);
	RUN(server_starts);
	RUN(get_ok);
	RUN(transient_503_retried_and_logged);
	RUN(persistent_503_fails_transient);
	RUN(not_found_is_not_retried);
	RUN(retry_after_seconds_honoured);
	RUN(retry_after_date_honoured);
	RUN(retry_after_beyond_budget_gives_up_at_once);
	RUN(budget_caps_total_time);
	RUN(reset_retried_then_persistent_fails);
	RUN(stall_hits_low_speed_limit_and_is_retried);
	RUN(big_body_refused_content_length);
	RUN(big_body_refused_chunked);
	RUN(sink_streams_past_the_bound_and_resets_on_retry);
	RUN(retry_resends_the_same_body);
	RUN(secrets_never_logged);
	RUN(range_header_sent);
	RUN(fifty_in_parallel);
	RUN(window_with_add_and_next);
	RUN(max_parallel_bounds_concurrency);
	RUN(retry_wait_does_not_block_others);
	RUN(connection_refused_is_transient);
	RUN(bad_requests_refused);
	RUN(cancel_interrupts);
	RUN(tls_server_starts);
	RUN(tls_verification_always_on);
	stop_all();
	{
		char *argv[] = { "rm", "-rf", tmpdir, NULL };

		run_argv(argv);
	}
	return DONE();
}
