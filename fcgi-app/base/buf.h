/*
 * buf.h - a growable byte buffer for building answers, and the JSON string
 * escaping used to write them. JSON is only ever *parsed* by Duktape
 * (json_in.c); this side only writes.
 */
#ifndef FNRUN_BUF_H
#define FNRUN_BUF_H

#include <stddef.h>

struct buf {
	char	*data;		/* NUL-terminated when non-NULL */
	size_t	 len;
	size_t	 cap;
};

/* All appenders abort the process when memory runs out: a worker that
 * cannot allocate outside the sandbox is replaced by its supervisor. */
void	buf_append(struct buf *b, const void *p, size_t len);
void	buf_puts(struct buf *b, const char *s);
void	buf_printf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Appends s[0..len) as a quoted JSON string. Control characters, quotes and
 * backslashes are escaped; bytes that are not valid UTF-8 become U+FFFD so
 * the output is always valid JSON. */
void	buf_json_string(struct buf *b, const char *s, size_t len);
/* Appends v in decimal; and ms as "<int>.<3 decimals>" (rounded). Both
 * avoid printf, which costs on every request. */
void	buf_uint(struct buf *b, unsigned long long v);
void	buf_ms(struct buf *b, double ms);
/* A malloc'd copy of p[0..len) with a NUL after it; the caller frees. */
char	*buf_memdup(const void *p, size_t len);
void	buf_reset(struct buf *b);	/* len = 0, keeps the memory */
void	buf_free(struct buf *b);	/* releases, leaves an empty buf */

#endif
