/*
 * names.h - validation of the names that reach the store (SPEC §2, §7).
 * Every name is checked here before any path is built from it.
 */
#ifndef FNRUN_NAMES_H
#define FNRUN_NAMES_H

#include <stddef.h>

#define NAME_MAX_LEN 64		/* ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$ */
#define ENV_NAME_MAX_LEN 128	/* ^[A-Z_][A-Z0-9_]{0,127}$ */

/* A validated function identity; each member is NUL-terminated. */
struct fn_id {
	char	project[NAME_MAX_LEN + 1];
	char	request[NAME_MAX_LEN + 1];
	char	fn[NAME_MAX_LEN + 1];
};

/* Returns 1 if s[0..len) is a valid project/request/fn name, else 0.
 * A NUL byte anywhere in the range makes it invalid. */
int	name_valid(const char *s, size_t len);

/* Returns 1 if s[0..len) is a valid environment variable name, else 0. */
int	name_env_valid(const char *s, size_t len);

/* Fills id from three candidate names. Returns 0, or -1 if any is invalid
 * (id is then left zeroed). */
int	name_fn_id(struct fn_id *id, const char *project, size_t plen,
	    const char *request, size_t rlen, const char *fn, size_t flen);

/* The longest text name_fn_key writes, its NUL included. */
#define NAME_FN_KEY_MAX	(3 * (NAME_MAX_LEN + 1) + 11)

/* Writes "project/request/fn@version" and a NUL into out (room for
 * NAME_FN_KEY_MAX bytes); returns its length. A function's key in the
 * worker's tables, written on every call (snprintf took ~1,500
 * instructions a key). */
size_t	name_fn_key(char *out, const struct fn_id *id, unsigned version);

#endif
