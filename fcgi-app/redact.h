/*
 * redact.h - keeps a project's environment values out of the runtime's own
 * channels (error bodies, console lines in the error stream, the debug
 * envelope's logs): every occurrence of a value longer than 5 characters
 * becomes "***". A function's own response is its business and is not
 * touched.
 */
#ifndef FNRUN_REDACT_H
#define FNRUN_REDACT_H

#include <stddef.h>

#include "buf.h"
#include "store.h"

#define REDACT_MIN_LEN	6

struct redactor {
	const char	**val;	/* borrowed from the env list, longest first */
	size_t		 *len;
	size_t		  n;
};

/* Picks the values to hide from vars (which must outlive r). */
void	redact_init(struct redactor *r, const struct store_env_var *vars,
	    size_t n);
void	redact_free(struct redactor *r);

/* Appends s[0..len) to out with every value replaced by "***". */
void	redact_append(const struct redactor *r, struct buf *out, const char *s,
	    size_t len);

/* Redacts a NUL-terminated string in place (it can only shrink). */
void	redact_inplace(const struct redactor *r, char *s);

#endif
