/* http_retry.c - which failures are transient, how long to wait, and the
 * URL form that may be logged.  See http.h for the policy. */
#include "net/http_int.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

int64_t bs_http_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int bs_http_status_transient(long status)
{
	switch (status) {
	case 408: /* request timeout */
	case 429: /* too many requests */
	case 500:
	case 502:
	case 503:
	case 504:
		return 1;
	default:
		return 0;
	}
}

int bs_http_curl_transient(int curl_code)
{
	switch ((CURLcode)curl_code) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST: /* resolvers fail temporarily too */
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT: /* includes the low-speed (stall) limit */
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:	      /* connection reset */
	case CURLE_GOT_NOTHING:	      /* empty reply: server closed early */
	case CURLE_PARTIAL_FILE:      /* body shorter than Content-Length */
	case CURLE_SSL_CONNECT_ERROR: /* handshake cut; verification is CURLE_PEER_FAILED_VERIFICATION */
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_HTTP3:
	case CURLE_QUIC_CONNECT_ERROR:
		return 1;
	default:
		return 0;
	}
}

long bs_http_backoff_ms(const struct bs_http_retry *r, int attempt, uint32_t rnd)
{
	long d = r->base_ms > 0 ? r->base_ms : 1;
	int i;

	for (i = 1; i < attempt && d < r->max_ms; i++)
		d = d > LONG_MAX / 2 ? LONG_MAX : d * 2;
	if (d > r->max_ms)
		d = r->max_ms;
	if (d < 2)
		return d;
	/* "equal jitter": at least half the backoff, so retries of many
	 * transfers spread out without ever hammering at once. */
	return d / 2 + (long)(rnd % (uint32_t)(d / 2 + 1));
}

long bs_http_retry_after_ms(const char *value, time_t now)
{
	const char *p = value;
	time_t when;

	if (!value)
		return -1;
	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p)
		return -1;
	if (isdigit((unsigned char)*p)) {
		char *end;
		long long s = strtoll(p, &end, 10);

		while (*end == ' ' || *end == '\t')
			end++;
		if (*end || s < 0)
			return -1;
		if (s > 365LL * 86400) /* nonsense; the budget refuses it anyway */
			s = 365LL * 86400;
		return (long)(s * 1000);
	}
	when = curl_getdate(p, NULL);
	if (when == (time_t)-1)
		return -1;
	if (when <= now)
		return 0;
	if (when - now > 365L * 86400)
		return 365L * 86400 * 1000;
	return (long)(when - now) * 1000;
}

uint32_t bs_http_rand(uint32_t *state)
{
	/* xorshift32: jitter needs spread, not secrecy */
	uint32_t x = *state ? *state : 0x9e3779b9u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

void bs_http_redact_url(const char *url, char *out, size_t outsz)
{
	const char *host, *at, *end, *slash;
	size_t n, scheme_len = 0;

	if (!outsz)
		return;
	if (!url) {
		snprintf(out, outsz, "(null)");
		return;
	}
	host = strstr(url, "://");
	if (host) {
		host += 3;
		scheme_len = (size_t)(host - url);
	} else {
		host = url;
	}
	/* user info: "user:pass@" before the first '/', '?' or '#' */
	slash = host + strcspn(host, "/?#");
	at = memchr(host, '@', (size_t)(slash - host));
	if (at) {
		const char *a;

		while ((a = memchr(at + 1, '@', (size_t)(slash - at - 1))))
			at = a;
		host = at + 1;
	}
	end = host + strcspn(host, "?#");
	n = scheme_len;
	if (n >= outsz)
		n = outsz - 1;
	memcpy(out, url, n);
	if ((size_t)(end - host) >= outsz - n)
		end = host + (outsz - n - 1);
	memcpy(out + n, host, (size_t)(end - host));
	out[n + (size_t)(end - host)] = '\0';
}
