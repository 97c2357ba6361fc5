/* url.h - percent-encoding for URLs and for what object stores sign
 * (RFC 3986: A-Z a-z 0-9 - _ . ~ kept, everything else %XX in upper case). */
#ifndef BS_NET_URL_H
#define BS_NET_URL_H

#include <stddef.h>

/* Encode s into out ('/' kept when keep_slash).  -1 when out is too small. */
int bs_url_encode(const char *s, int keep_slash, char *out, size_t outsz);

#endif
