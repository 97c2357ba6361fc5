/* bech32.c - BIP173 bech32 without the 90-character limit, as age uses it
 * for "age1..." recipients and "AGE-SECRET-KEY-1..." identities.  The
 * checksum is computed over the lowercase string; a string is either all
 * lowercase or all uppercase. */
#include "crypt/age_int.h"

#include <ctype.h>
#include <string.h>

static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t polymod_step(uint32_t chk, uint8_t v)
{
	static const uint32_t gen[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
	uint32_t top = chk >> 25;
	int i;

	chk = (chk & 0x1ffffff) << 5 ^ v;
	for (i = 0; i < 5; i++)
		if (top >> i & 1)
			chk ^= gen[i];
	return chk;
}

static uint32_t hrp_polymod(const char *hrp, size_t hlen)
{
	uint32_t chk = 1;
	size_t i;

	for (i = 0; i < hlen; i++)
		chk = polymod_step(chk, (uint8_t)(tolower((unsigned char)hrp[i]) >> 5));
	chk = polymod_step(chk, 0);
	for (i = 0; i < hlen; i++)
		chk = polymod_step(chk, (uint8_t)(tolower((unsigned char)hrp[i]) & 31));
	return chk;
}

int age_bech32_encode(const char *hrp, const uint8_t *data, size_t n, int upper, char *out,
		      size_t cap)
{
	size_t hlen = strlen(hrp), ndata = (n * 8 + 4) / 5, o = 0, i;
	uint32_t chk = hrp_polymod(hrp, hlen), acc = 0;
	int bits = 0;

	if (hlen + 1 + ndata + 6 + 1 > cap)
		return -1;
	for (i = 0; i < hlen; i++)
		out[o++] = (char)(upper ? toupper((unsigned char)hrp[i]) : tolower((unsigned char)hrp[i]));
	out[o++] = '1';
	for (i = 0; i < n; i++) {
		acc = acc << 8 | data[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			uint8_t v = (uint8_t)(acc >> bits & 31);
			chk = polymod_step(chk, v);
			out[o++] = charset[v];
		}
	}
	if (bits > 0) {
		uint8_t v = (uint8_t)(acc << (5 - bits) & 31);
		chk = polymod_step(chk, v);
		out[o++] = charset[v];
	}
	for (i = 0; i < 6; i++)
		chk = polymod_step(chk, 0);
	chk ^= 1;
	for (i = 0; i < 6; i++)
		out[o++] = charset[chk >> (5 * (5 - i)) & 31];
	out[o] = '\0';
	if (upper)
		for (i = hlen; i < o; i++)
			out[i] = (char)toupper((unsigned char)out[i]);
	return 0;
}

int age_bech32_decode(const char *s, char *hrp, size_t hrp_cap, uint8_t *data, size_t cap,
		      size_t *n, const char **why)
{
	size_t len = strlen(s), hlen, i, o = 0;
	const char *sep = strrchr(s, '1');
	int has_lower = 0, has_upper = 0, bits = 0, overflow = 0;
	uint32_t chk, acc = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 33 || c > 126) {
			*why = "invalid character";
			return -1;
		}
		has_lower |= islower(c) != 0;
		has_upper |= isupper(c) != 0;
	}
	if (has_lower && has_upper) {
		*why = "mixed case";
		return -1;
	}
	if (!sep || sep == s || len - (size_t)(sep - s) - 1 < 6) {
		*why = "missing separator or checksum";
		return -1;
	}
	hlen = (size_t)(sep - s);
	if (hlen + 1 > hrp_cap) {
		*why = "unexpected type prefix";
		return -1;
	}
	memcpy(hrp, s, hlen);
	hrp[hlen] = '\0';
	chk = hrp_polymod(s, hlen);
	for (i = hlen + 1; i < len; i++) {
		const char *p = strchr(charset, tolower((unsigned char)s[i]));
		uint8_t v;
		if (!p || !*p) {
			*why = "invalid character";
			return -1;
		}
		v = (uint8_t)(p - charset);
		chk = polymod_step(chk, v);
		if (i >= len - 6)
			continue; /* checksum characters */
		acc = acc << 5 | v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (o < cap)
				data[o] = (uint8_t)(acc >> bits);
			else
				overflow = 1;
			o++;
			acc &= (1u << bits) - 1;
		}
	}
	if (chk != 1) {
		*why = "invalid checksum";
		return -1;
	}
	if (overflow) {
		*why = "unexpected length";
		return -1;
	}
	if (bits >= 5 || acc != 0) {
		*why = "invalid padding";
		return -1;
	}
	*n = o;
	return 0;
}
