/*
 * auth.h - constant-time checks of the two secrets (SPEC §3).
 */
#ifndef FNRUN_AUTH_H
#define FNRUN_AUTH_H

/* Returns 1 when presented equals secret, else 0. Time does not depend on
 * where they differ (CRYPTO_memcmp); values of another length fail at
 * once (the length of a generated secret is public). A NULL or empty
 * presented value never matches. */
int	auth_equal(const char *presented, const char *secret);

/* Returns 1 when the Authorization header value is "Bearer <secret>". */
int	auth_bearer(const char *authorization, const char *secret);

#endif
