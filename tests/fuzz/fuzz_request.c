/*
 * fuzz_request.c - FastCGI params -> struct req (fcgi-app/edge/request.c).
 *
 * The input is an environment, one "NAME=value" entry per line ('\n'
 * ends an entry, a NUL byte ends it early as it would in C). Every field
 * request_from_params fills is read byte for byte, the lookups run on
 * names taken from the request itself, and invariants that hold for any
 * input abort when broken. Corpus: tests/fuzz/corpus/request/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"

#define MAX_ENTRIES	512

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned char sink;

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

/* Reads n bytes of p, so ASan sees every one. */
static void
touch(const void *p, size_t n)
{
	const unsigned char	*b = p;
	unsigned char		 x = 0;
	size_t			 i;

	for (i = 0; i < n; i++)
		x ^= b[i];
	sink = x;
}

static void
check_uint(const struct req *r, const char *name)
{
	unsigned	v = 99;
	int		rc;

	rc = request_query_uint(r, name, &v);
	CHECK(rc >= -1 && rc <= 1);
	CHECK(rc == 1 ? v >= 1 : v == 0);
}

/* A decoded string never grows, and without '%' or '+' it is a copy. */
static void
check_decode(const char *s, size_t len)
{
	char	*out;
	size_t	 olen;
	int	 plus;

	for (plus = 0; plus <= 1; plus++) {
		out = request_decode(s, len, plus, &olen);
		CHECK(olen <= len && out[olen] == '\0');
		if (memchr(s, '%', len) == NULL && memchr(s, '+', len) == NULL)
			CHECK(olen == len && memcmp(out, s, len) == 0);
		touch(out, olen + 1);
		free(out);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*env[MAX_ENTRIES + 1], *text, *p, *nl;
	struct req	 r;
	size_t		 n = 0, i;
	unsigned	 u;
	int		 rc;

	check_decode((const char *)data, size);
	if (request_parse_uint((const char *)data, size, &u) == 0)
		CHECK(u >= 1);

	if ((text = malloc(size + 1)) == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	for (p = text; n < MAX_ENTRIES && p < text + size; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(text + size - p))) == NULL)
			nl = text + size;
		*nl = '\0';
		env[n++] = p;
	}
	env[n] = NULL;

	rc = request_from_params(&r, env);
	CHECK(rc == 0 || rc == -1);
	touch(r.method, sizeof(r.method));
	touch(r.request_id, sizeof(r.request_id));
	CHECK(memchr(r.request_id, '\0', sizeof(r.request_id)) != NULL);
	CHECK(r.nsegments <= REQ_MAX_SEGMENTS);
	CHECK(r.nquery <= REQ_MAX_QUERY);
	CHECK(r.nheaders <= REQ_MAX_HEADERS);
	if (rc == 0) {
		CHECK(r.method[0] != '\0' && r.path != NULL);
		CHECK(strlen(r.path) <= REQ_MAX_URI);
		touch(r.path, strlen(r.path) + 1);
	}
	for (i = 0; i < r.nsegments; i++) {
		CHECK(r.segment[i] != NULL && r.segment[i][r.segment_len[i]]
		    == '\0');
		touch(r.segment[i], r.segment_len[i] + 1);
	}
	for (i = 0; i < r.nquery; i++) {
		CHECK(r.query[i].value[r.query[i].value_len] == '\0');
		touch(r.query[i].name, strlen(r.query[i].name) + 1);
		touch(r.query[i].value, r.query[i].value_len + 1);
		/* Last one wins: the lookup finds this value or a later one. */
		CHECK(request_query(&r, r.query[i].name) != NULL);
		check_uint(&r, r.query[i].name);
	}
	for (i = 0; i < r.nheaders; i++) {
		CHECK(strlen(r.header[i].value) == r.header[i].value_len);
		CHECK(strpbrk(r.header[i].name, "_ABCDEFGHIJKLMNOPQRSTUVWXYZ")
		    == NULL);
		touch(r.header[i].name, strlen(r.header[i].name) + 1);
		touch(r.header[i].value, r.header[i].value_len + 1);
		/* First one wins. */
		CHECK(request_header(&r, r.header[i].name) != NULL);
	}
	check_uint(&r, "version");
	check_uint(&r, "");
	touch(request_header(&r, "content-type"), 0);
	sink ^= (unsigned char)r.content_length;

	if ((p = malloc(size + 1)) == NULL)
		abort();
	memcpy(p, data, size);
	p[size] = '\0';
	request_set_body(&r, p, size);
	touch(r.body, r.body_len + 1);
	request_free(&r);
	free(text);
	return 0;
}
