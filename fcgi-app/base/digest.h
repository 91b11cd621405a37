/*
 * digest.h - SHA-256 as lower-case hex (OpenSSL's libcrypto), the one way
 * fnrun names content: a version's source, the code it runs, the compiler.
 */
#ifndef FNRUN_DIGEST_H
#define FNRUN_DIGEST_H

#include <stddef.h>

#define DIGEST_SHA256_HEX_LEN	64

/* hex[0..2n] = the lower-case hex of in[0..n), NUL-terminated. */
void	digest_hex(const unsigned char *in, size_t n, char *hex);

/* hex = SHA-256 of p[0..len) (p may be NULL when len is 0). Returns 0, or
 * -1 when libcrypto fails. */
int	digest_sha256_hex(const void *p, size_t len,
	    char hex[DIGEST_SHA256_HEX_LEN + 1]);

#endif
