/* rowhash.c - see rowhash.h */
#include "snap/rowhash.h"

#include <openssl/evp.h>
#include <stdlib.h>

struct snap_rowhash {
	EVP_MD *md;
	EVP_MD_CTX *ctx;
};

struct snap_rowhash *snap_rowhash_new(void)
{
	struct snap_rowhash *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	h->ctx = EVP_MD_CTX_new();
	if (!h->md || !h->ctx) {
		snap_rowhash_free(h);
		return NULL;
	}
	return h;
}

void snap_rowhash_free(struct snap_rowhash *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	EVP_MD_free(h->md);
	free(h);
}

void snap_rowhash_add(struct snap_rowhash *h, struct bs_digest *d, const void *row, size_t len)
{
	unsigned char m[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	uint64_t lo = 0, hi = 0, nlo;
	int i;

	EVP_DigestInit_ex2(h->ctx, h->md, NULL);
	EVP_DigestUpdate(h->ctx, row, len);
	EVP_DigestFinal_ex(h->ctx, m, &n);
	/* first 16 bytes as a little-endian 128-bit integer, added mod 2^128 */
	for (i = 7; i >= 0; i--) {
		lo = (lo << 8) | m[i];
		hi = (hi << 8) | m[8 + i];
	}
	nlo = d->lo + lo;
	d->hi += hi + (nlo < d->lo);
	d->lo = nlo;
	d->rows++;
}
