/*
 * request.c - FastCGI params + body -> struct req. This is where untrusted
 * request metadata is parsed; every field gets a cap before it is stored.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "num.h"
#include "request.h"

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decodes len bytes of s into out (room for len + 1). */
static void
decode_into(char *out, const char *s, size_t len, int plus_space,
    size_t *outlen)
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len &&
		    (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
		    (lo = hexval((unsigned char)s[i + 2])) >= 0) {
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (plus_space && s[i] == '+')
			out[o++] = ' ';
		else
			out[o++] = s[i];
	}
	out[o] = '\0';
	if (outlen != NULL)
		*outlen = o;
}

char *
request_decode(const char *s, size_t len, int plus_space, size_t *outlen)
{
	char *out;

	if ((out = malloc(len + 1)) == NULL)
		abort();
	decode_into(out, s, len, plus_space, outlen);
	return out;
}

/* As request_decode, into the request's arena. */
static char *
decode(struct req *r, const char *s, size_t len, int plus_space,
    size_t *outlen)
{
	char *out = arena_alloc(&r->arena, len + 1);

	decode_into(out, s, len, plus_space, outlen);
	return out;
}

static void
split_path(struct req *r)
{
	const char *p = r->path, *e;

	while (*p == '/')
		p++;
	while (*p != '\0') {
		e = strchr(p, '/');
		if (e == NULL)
			e = p + strlen(p);
		if (r->nsegments == REQ_MAX_SEGMENTS) {
			r->too_many_segments = 1;
			return;
		}
		r->segment[r->nsegments] = decode(r, p, (size_t)(e - p), 0,
		    &r->segment_len[r->nsegments]);
		r->nsegments++;
		p = *e == '/' ? e + 1 : e;
	}
}

static void
split_query(struct req *r, const char *q)
{
	const char *e, *eq;
	struct req_pair *qp;

	while (*q != '\0') {
		e = strchr(q, '&');
		if (e == NULL)
			e = q + strlen(q);
		if (e > q) {
			if (r->nquery == REQ_MAX_QUERY) {
				r->malformed = "more than 128 query parameters";
				return;
			}
			/* The arrays are not zeroed (request.h): every
			 * field of a pair taken is written here. */
			qp = &r->query[r->nquery++];
			qp->value_len = 0;
			eq = memchr(q, '=', (size_t)(e - q));
			if (eq == NULL)
				eq = e;
			qp->name = decode(r, q, (size_t)(eq - q), 1, NULL);
			qp->value = eq < e ?
			    decode(r, eq + 1, (size_t)(e - eq - 1), 1,
			    &qp->value_len) : arena_memdup(&r->arena, "", 0);
		}
		q = *e == '&' ? e + 1 : e;
	}
}

/* HTTP_X_FN_KEY -> x-fn-key (RFC 3875 §4.1.18 meta-variable naming). */
static void
add_header(struct req *r, const char *name, size_t nlen, const char *value)
{
	struct req_pair *h;
	size_t i;

	if (r->nheaders == REQ_MAX_HEADERS) {
		r->malformed = "more than 128 request headers";
		return;
	}
	h = &r->header[r->nheaders++];
	h->name = arena_memdup(&r->arena, name, nlen);
	for (i = 0; i < nlen; i++)
		h->name[i] = h->name[i] == '_' ? '-' :
		    (char)tolower((unsigned char)h->name[i]);
	h->value_len = strlen(value);
	h->value = arena_memdup(&r->arena, value, h->value_len);
}

int
request_from_params(struct req *r, char *const *envp)
{
	const char *uri = NULL, *method = NULL, *clen = NULL, *ctype = NULL;
	const char *rid = NULL, *q, *v;
	char *const *e;
	uint64_t n;

	memset(r, 0, REQ_ZEROED);
	for (e = envp; e != NULL && *e != NULL; e++) {
		if ((v = strchr(*e, '=')) == NULL)
			continue;
		v++;
		/* The length first (v - *e counts the '='), so each param
		 * costs one memcmp at most, and none reads past its end. */
		if (v - *e > 5 && memcmp(*e, "HTTP_", 5) == 0)
			add_header(r, *e + 5, (size_t)(v - 1 - (*e + 5)), v);
		else if (v - *e == 12 && memcmp(*e, "REQUEST_URI=", 12) == 0)
			uri = v;
		else if (v - *e == 15 && memcmp(*e, "REQUEST_METHOD=", 15) == 0)
			method = v;
		else if (v - *e == 15 && memcmp(*e, "CONTENT_LENGTH=", 15) == 0)
			clen = v;
		else if (v - *e == 13 && memcmp(*e, "CONTENT_TYPE=", 13) == 0)
			ctype = v;
		else if (v - *e == 11 && memcmp(*e, "REQUEST_ID=", 11) == 0)
			rid = v;
	}
	/* RFC 3875 passes Content-Type outside HTTP_*; expose it as a header. */
	if (ctype != NULL && *ctype != '\0')
		add_header(r, "CONTENT_TYPE", 12, ctype);
	if (rid != NULL)
		strncpy(r->request_id, rid, sizeof(r->request_id) - 1);
	if (method == NULL || *method == '\0' ||
	    strlen(method) >= sizeof(r->method) || uri == NULL || *uri != '/' ||
	    strlen(uri) > REQ_MAX_URI) {
		r->malformed = "malformed request";
		return -1;
	}
	strcpy(r->method, method);
	q = strchr(uri, '?');
	r->path = arena_memdup(&r->arena, uri, q != NULL ? (size_t)(q - uri) :
	    strlen(uri));
	split_path(r);
	if (q != NULL)
		split_query(r, q + 1);
	if (clen != NULL && *clen != '\0') {
		if (num_parse_str(clen, 0, SIZE_MAX / 2, &n) == -1) {
			r->malformed = "malformed Content-Length";
			return -1;
		}
		r->content_length = (size_t)n;
	}
	return r->malformed != NULL ? -1 : 0;
}

void
request_set_body(struct req *r, char *body, size_t len)
{
	free(r->body);
	r->body = body;
	r->body_len = len;
}

const char *
request_header(const struct req *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nheaders; i++)
		if (strcmp(r->header[i].name, name) == 0)
			return r->header[i].value;
	return NULL;
}

const char *
request_query(const struct req *r, const char *name)
{
	size_t i;

	for (i = r->nquery; i > 0; i--)
		if (strcmp(r->query[i - 1].name, name) == 0)
			return r->query[i - 1].value;
	return NULL;
}

int
request_parse_uint(const char *s, size_t len, unsigned *out)
{
	uint64_t v;

	if (num_parse(s, len, 1, 0xffffffffu, &v) == -1)
		return -1;
	*out = (unsigned)v;
	return 0;
}

enum query_result
request_query_uint(const struct req *r, const char *name, unsigned *out)
{
	size_t i;

	*out = 0;
	for (i = r->nquery; i > 0; i--)
		if (strcmp(r->query[i - 1].name, name) == 0)
			return request_parse_uint(r->query[i - 1].value,
			    r->query[i - 1].value_len, out) == 0 ? QUERY_OK :
			    QUERY_INVALID;
	return QUERY_ABSENT;
}

void
request_free(struct req *r)
{
	/* Path, segments, query and headers: all in the arena. */
	arena_free(&r->arena);
	free(r->body);
	memset(r, 0, REQ_ZEROED);
}
