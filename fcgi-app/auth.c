/*
 * auth.c - secret comparison with OpenSSL's SHA-256 and CRYPTO_memcmp.
 * Never logs or returns the secrets.
 */
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "auth.h"

int
auth_equal(const char *presented, const char *secret)
{
	unsigned char a[EVP_MAX_MD_SIZE], b[EVP_MAX_MD_SIZE];
	unsigned int alen = 0, blen = 0;

	if (presented == NULL || *presented == '\0' || secret == NULL ||
	    *secret == '\0')
		return 0;
	/* Hashing both hides the secret's length from the timing. */
	if (EVP_Digest(presented, strlen(presented), a, &alen, EVP_sha256(),
	    NULL) != 1 ||
	    EVP_Digest(secret, strlen(secret), b, &blen, EVP_sha256(),
	    NULL) != 1 || alen != blen)
		return 0;
	return CRYPTO_memcmp(a, b, alen) == 0;
}

int
auth_bearer(const char *authorization, const char *secret)
{
	if (authorization == NULL || strncasecmp(authorization, "Bearer ", 7))
		return 0;
	return auth_equal(authorization + 7, secret);
}
