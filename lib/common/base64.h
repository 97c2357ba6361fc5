/*
 * base64.h - strict, unpadded base64 (RFC 4648 standard alphabet): the age
 * header's encoding, and the body of OpenSSH keys and signatures once
 * their '=' padding is taken off (gate/sshsig.c).  OpenSSL's
 * EVP_DecodeBlock accepts padding, whitespace and non-canonical trailing
 * bits, which both formats must reject.
 */
#ifndef BS_COMMON_BASE64_H
#define BS_COMMON_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Length of the encoding of n bytes (without NUL). */
size_t bs_b64_len(size_t n);
/* Encode n bytes into out (bs_b64_len(n) + 1 bytes, NUL-terminated). */
void bs_b64_encode(const uint8_t *in, size_t n, char *out);
/* Strict decode of len chars: rejects '=', any non-alphabet byte, a length
 * of 1 mod 4 and non-zero trailing bits.  Returns 0 and *out_len, or -1
 * (also when the result would exceed cap). */
int bs_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len);

#endif
