/*
 * auth.c - secret comparison with OpenSSL's CRYPTO_memcmp. Never logs or
 * returns the secrets.
 */
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "auth.h"

int
auth_equal(const char *presented, const char *secret)
{
	size_t plen, slen;

	if (presented == NULL || secret == NULL)
		return 0;
	plen = strlen(presented);
	slen = strlen(secret);
	/* Only the length can differ early, and it is no secret: the
	 * generated secrets are always 64 hex characters. The bytes are
	 * compared in constant time. */
	if (plen == 0 || plen != slen)
		return 0;
	return CRYPTO_memcmp(presented, secret, slen) == 0;
}

int
auth_bearer(const char *authorization, const char *secret)
{
	if (authorization == NULL || strncasecmp(authorization, "Bearer ", 7))
		return 0;
	return auth_equal(authorization + 7, secret);
}
