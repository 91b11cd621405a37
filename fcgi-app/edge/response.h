/*
 * response.h - the answer being built for one request: status, header
 * lines and body; and the one table mapping an error code to its HTTP
 * status (SPEC §4).
 */
#ifndef FNRUN_RESPONSE_H
#define FNRUN_RESPONSE_H

#include <stddef.h>

#include "buf.h"
#include "outcome.h"


/* A function's headers (at most 100, SPEC §6) and the runtime's own. */
#define RESP_MAX_HEADERS	128

/* One header: offsets of its name and value in the answer's text. */
struct resp_header {
	size_t	name, name_len;
	size_t	value, value_len;
};

/* Headers are kept as validated pairs; fcgi.c alone writes them out. */
struct resp {
	int			status;
	struct buf		text;	/* the headers' names and values */
	struct resp_header	hdr[RESP_MAX_HEADERS];
	size_t			nheaders;
	struct buf		body;
};

/* Returns 1 when name[0..nlen) is an HTTP token of 1..256 characters
 * (RFC 9110 §5.6.2) and value[0..vlen) holds no CR, LF or NUL; else 0. */
int		 response_header_ok(const char *name, size_t nlen,
		    const char *value, size_t vlen);


/* Adds one header. Returns -1 (and adds nothing) when the name is not an
 * HTTP token, the value holds CR, LF or NUL, or RESP_MAX_HEADERS are
 * there already. */
int		 response_header(struct resp *rs, const char *name,
		    const char *value, size_t value_len);

/* Header i of rs (i < rs->nheaders): its name and value, pointers into rs
 * valid until rs changes. */
const char	*response_header_name(const struct resp *rs, size_t i,
		    size_t *len);
const char	*response_header_value(const struct resp *rs, size_t i,
		    size_t *len);

/* Makes dst a copy of src. */
void		 response_copy(struct resp *dst, const struct resp *src);

/* Replaces the whole answer with a JSON error:
 * {"error": code, "message": msg <, extra>} where extra, if not NULL, is
 * already-encoded JSON members without braces ("\"line\":3"). */
void		 response_error(struct resp *rs, enum outcome e,
		    const char *extra, const char *fmt, ...)
		    __attribute__((format(printf, 4, 5)));

/* Replaces rs with the JSON error for a sandbox result: with "line" for
 * syntax errors and "stack" for function errors where known. */
struct sandbox_result;
void		 response_result_error(struct resp *rs,
		    const struct sandbox_result *res);

/* Replaces the whole answer with status and a JSON body taken from b. */
void		 response_json(struct resp *rs, int status, const struct buf *b);

void		 response_reset(struct resp *rs);
void		 response_free(struct resp *rs);

#endif
