/*
 * request.h - one HTTP request as the application sees it: FastCGI params
 * (copied, never kept as pointers into libfcgi) and the body, validated
 * into typed fields with size caps. Owns no I/O.
 */
#ifndef FNRUN_REQUEST_H
#define FNRUN_REQUEST_H

#include <stddef.h>

#include "arena.h"

#define REQ_MAX_SEGMENTS	8
#define REQ_MAX_HEADERS		128
#define REQ_MAX_QUERY		128
#define REQ_MAX_URI		8192

struct req_pair {
	char	*name;		/* headers: lower-case, '-' separated */
	char	*value;
	size_t	 value_len;	/* query values may hold NUL after decoding */
};

struct req {
	char		 method[16];
	char		 request_id[64];
	char		*path;			/* raw path, before '?' */
	char		*segment[REQ_MAX_SEGMENTS];	/* percent-decoded */
	size_t		 segment_len[REQ_MAX_SEGMENTS];
	size_t		 nsegments;
	int		 too_many_segments;
	const char	*malformed;	/* why request_from_params failed */
	size_t		 nquery;
	size_t		 nheaders;
	size_t		 content_length;	/* from CONTENT_LENGTH, 0 if absent */
	char		*body;			/* NUL-terminated, may hold NULs */
	size_t		 body_len;
	/* Owns path, segment, query and header strings: one or two
	 * allocations a request instead of two a header. */
	struct arena	 arena;
	/* Last, and never zeroed (6 KB: each memset of them was ~800
	 * instructions a call): only the first nquery and nheaders are
	 * ever written or read. */
	struct req_pair	 query[REQ_MAX_QUERY];
	struct req_pair	 header[REQ_MAX_HEADERS];
};
/* What request_from_params and request_free zero. */
#define REQ_ZEROED	offsetof(struct req, query)

/* Fills r from a FastCGI environment (NULL-terminated "NAME=value" list).
 * Everything is copied. Returns 0, or -1 when the request is malformed
 * (no method, URI too long, bad CONTENT_LENGTH, more than REQ_MAX_HEADERS
 * headers or REQ_MAX_QUERY query parameters: none is dropped silently)
 * with r->malformed saying why (a static string); r is then still safe to
 * pass to request_free. */
int		 request_from_params(struct req *r, char *const *envp);

/* Takes ownership of body (malloc'd, NUL-terminated at len). */
void		 request_set_body(struct req *r, char *body, size_t len);

/* Returns the value of the lower-case header name, or NULL. The pointer
 * lives as long as r. */
const char	*request_header(const struct req *r, const char *name);

/* Returns the decoded value of query parameter name (last one wins), or
 * NULL. */
const char	*request_query(const struct req *r, const char *name);

/* Parses s[0..len) as a positive decimal integer (no sign, no leading
 * zero) that fits 32 bits. Returns 0 with *out set, or -1. */
int		 request_parse_uint(const char *s, size_t len, unsigned *out);

enum query_result {
	QUERY_ABSENT = 0,	/* *out = 0 */
	QUERY_OK = 1,
	QUERY_INVALID = -1	/* present but not a valid number */
};

/* Query parameter name (last one wins) as request_parse_uint. */
enum query_result request_query_uint(const struct req *r, const char *name,
		    unsigned *out);

/* Percent-decodes s[0..len) into a new malloc'd NUL-terminated string;
 * plus_space turns '+' into ' ' (query strings). *outlen gets the decoded
 * length. Malformed escapes are kept literally. */
char		*request_decode(const char *s, size_t len, int plus_space,
		    size_t *outlen);

void		 request_free(struct req *r);

#endif
