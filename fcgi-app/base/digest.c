/*
 * digest.c - SHA-256 as lower-case hex (digest.h).
 */
#include <openssl/evp.h>

#include "digest.h"

void
digest_hex(const unsigned char *in, size_t n, char *hex)
{
	static const char	digits[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < n; i++) {
		hex[i * 2] = digits[in[i] >> 4];
		hex[i * 2 + 1] = digits[in[i] & 0xf];
	}
	hex[n * 2] = '\0';
}

int
digest_sha256_hex(const void *p, size_t len,
    char hex[DIGEST_SHA256_HEX_LEN + 1])
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen = 0;

	if (EVP_Digest(p != NULL ? p : "", len, md, &mdlen, EVP_sha256(),
	    NULL) != 1 || mdlen != 32)
		return -1;
	digest_hex(md, mdlen, hex);
	return 0;
}
