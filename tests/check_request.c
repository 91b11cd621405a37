/*
 * check_request.c - unit tests for request.c: FastCGI params -> struct req.
 * This is the first code that touches untrusted request metadata, so the
 * malformed cases matter as much as the good ones.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* Value of query parameter name with its length (the first match from the
 * end, as request_query), or NULL. */
static const struct req_pair *
query_pair(const struct req *r, const char *name)
{
	size_t	i;

	for (i = r->nquery; i > 0; i--)
		if (strcmp(r->query[i - 1].name, name) == 0)
			return &r->query[i - 1];
	return NULL;
}

static char *
env_entry(const char *name, char fill, size_t n)
{
	size_t	 nlen = strlen(name);
	char	*s = malloc(nlen + n + 1);

	ck_assert_ptr_nonnull(s);
	memcpy(s, name, nlen);
	memset(s + nlen, fill, n);
	s[nlen + n] = '\0';
	return s;
}

START_TEST(test_params_basic)
{
	char *envp[] = { "REQUEST_METHOD=POST",
	    "REQUEST_URI=/invoke/p/r/f?x=1&y=a%20b&z=c+d",
	    "HTTP_X_FN_KEY=k", "CONTENT_LENGTH=5",
	    "CONTENT_TYPE=application/json", NULL };
	struct req	r;

	ck_assert_int_eq(request_from_params(&r, envp), 0);
	ck_assert_str_eq(r.method, "POST");
	ck_assert_str_eq(r.path, "/invoke/p/r/f");
	ck_assert_uint_eq(r.nsegments, 4);
	ck_assert_int_eq(r.too_many_segments, 0);
	ck_assert_str_eq(r.segment[0], "invoke");
	ck_assert_str_eq(r.segment[1], "p");
	ck_assert_str_eq(r.segment[2], "r");
	ck_assert_str_eq(r.segment[3], "f");
	ck_assert_uint_eq(r.segment_len[0], 6);
	ck_assert_uint_eq(r.segment_len[3], 1);

	ck_assert_uint_eq(r.nquery, 3);
	ck_assert_str_eq(request_query(&r, "x"), "1");
	ck_assert_str_eq(request_query(&r, "y"), "a b");
	ck_assert_str_eq(request_query(&r, "z"), "c d");
	ck_assert_uint_eq(query_pair(&r, "y")->value_len, 3);
	ck_assert_ptr_null(request_query(&r, "w"));
	ck_assert_ptr_null(request_query(&r, "X"));

	ck_assert_str_eq(request_header(&r, "x-fn-key"), "k");
	ck_assert_str_eq(request_header(&r, "content-type"),
	    "application/json");
	ck_assert_ptr_null(request_header(&r, "X-Fn-Key"));
	ck_assert_ptr_null(request_header(&r, "x_fn_key"));
	ck_assert_ptr_null(request_header(&r, "content-length"));
	ck_assert_uint_eq(r.content_length, 5);
	ck_assert_ptr_null(r.body);
	ck_assert_uint_eq(r.body_len, 0);
	request_free(&r);
	/* request_free leaves r empty: a second call is harmless */
	request_free(&r);
}
END_TEST

/* The struct's query and header arrays are not zeroed (request.h): over
 * garbage, every pair taken is whole (a key without '=' has value_len 0;
 * found by fuzz_request). */
START_TEST(test_params_over_garbage)
{
	char *envp[] = { "REQUEST_METHOD=GET",
	    "REQUEST_URI=/invoke/p/r/f?d&e=12&=f&g=",
	    "HTTP_X_A=1", "HTTP_=empty", NULL };
	struct req	r;
	size_t		i;

	memset(&r, 0xa5, sizeof(r));
	ck_assert_int_eq(request_from_params(&r, envp), 0);
	ck_assert_uint_eq(r.nquery, 4);
	ck_assert_str_eq(r.query[0].name, "d");
	ck_assert_str_eq(r.query[0].value, "");
	ck_assert_uint_eq(r.query[0].value_len, 0);
	ck_assert_uint_eq(r.query[1].value_len, 2);
	ck_assert_str_eq(r.query[2].name, "");
	ck_assert_uint_eq(r.query[2].value_len, 1);
	ck_assert_uint_eq(r.query[3].value_len, 0);
	for (i = 0; i < r.nquery; i++)
		ck_assert_uint_eq(strlen(r.query[i].value),
		    r.query[i].value_len);
	ck_assert_uint_eq(r.nheaders, 2);
	for (i = 0; i < r.nheaders; i++)
		ck_assert_uint_eq(strlen(r.header[i].value),
		    r.header[i].value_len);
	ck_assert_str_eq(r.header[1].name, "");
	ck_assert_ptr_null(r.body);
	request_free(&r);
}
END_TEST

START_TEST(test_params_headers)
{
	char *envp[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/healthz",
	    "HTTP_ACCEPT_ENCODING=gzip, br", "HTTP_AUTHORIZATION=Bearer t",
	    "HTTP_X_EMPTY=", "HTTP_X_EQ=a=b=c", "SERVER_NAME=ignored",
	    "REQUEST_ID=req-42", "no equals sign here", NULL };
	struct req	r;

	ck_assert_int_eq(request_from_params(&r, envp), 0);
	ck_assert_str_eq(r.method, "GET");
	ck_assert_str_eq(r.path, "/healthz");
	ck_assert_uint_eq(r.nsegments, 1);
	ck_assert_str_eq(r.segment[0], "healthz");
	ck_assert_uint_eq(r.nquery, 0);
	ck_assert_str_eq(request_header(&r, "accept-encoding"), "gzip, br");
	ck_assert_str_eq(request_header(&r, "authorization"), "Bearer t");
	ck_assert_str_eq(request_header(&r, "x-empty"), "");
	ck_assert_str_eq(request_header(&r, "x-eq"), "a=b=c");
	ck_assert_ptr_null(request_header(&r, "server-name"));
	ck_assert_ptr_null(request_header(&r, "content-type"));
	ck_assert_str_eq(r.request_id, "req-42");
	ck_assert_uint_eq(r.content_length, 0);
	request_free(&r);
}
END_TEST

START_TEST(test_params_request_id_capped)
{
	struct req	 r;
	char		*rid = env_entry("REQUEST_ID=", 'r', 500);
	char		*envp[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/", rid,
	    NULL };

	ck_assert_int_eq(request_from_params(&r, envp), 0);
	ck_assert_uint_lt(strlen(r.request_id), sizeof(r.request_id));
	ck_assert_uint_gt(strlen(r.request_id), 0);
	ck_assert_int_eq(r.request_id[0], 'r');
	request_free(&r);
	free(rid);
}
END_TEST

START_TEST(test_params_too_many_headers)
{
	char		*envp[REQ_MAX_HEADERS + 20];
	char		 name[64];
	struct req	 r;
	size_t		 i, n = 0;

	envp[n++] = strdup("REQUEST_METHOD=GET");
	envp[n++] = strdup("REQUEST_URI=/");
	for (i = 0; i < REQ_MAX_HEADERS + 10; i++) {
		snprintf(name, sizeof(name), "HTTP_X_H%zu=v%zu", i, i);
		envp[n++] = strdup(name);
	}
	envp[n] = NULL;
	/* Either refused or capped, never beyond the array. */
	if (request_from_params(&r, envp) == 0) {
		ck_assert_uint_le(r.nheaders, REQ_MAX_HEADERS);
		ck_assert_str_eq(request_header(&r, "x-h0"), "v0");
	}
	request_free(&r);
	for (i = 0; i < n; i++)
		free(envp[i]);
}
END_TEST

START_TEST(test_params_decoded_segments)
{
	char *envp[] = { "REQUEST_METHOD=POST",
	    "REQUEST_URI=/invoke/%2e%2e/a%00b/%2F+x%41", NULL };
	struct req	r;

	ck_assert_int_eq(request_from_params(&r, envp), 0);
	/* path stays raw; segments are decoded */
	ck_assert_str_eq(r.path, "/invoke/%2e%2e/a%00b/%2F+x%41");
	ck_assert_uint_eq(r.nsegments, 4);
	ck_assert_str_eq(r.segment[1], "..");
	ck_assert_uint_eq(r.segment_len[1], 2);
	ck_assert_uint_eq(r.segment_len[2], 3);
	ck_assert_mem_eq(r.segment[2], "a\0b", 4);
	/* An encoded '/' stays inside its segment; '+' is not a space in a
	 * path. */
	ck_assert_str_eq(r.segment[3], "/+xA");
	ck_assert_uint_eq(r.segment_len[3], 4);
	request_free(&r);
}
END_TEST

START_TEST(test_params_query)
{
	char *envp[] = { "REQUEST_METHOD=GET",
	    "REQUEST_URI=/f?a=1&a=2&b&&c=&d=x%3Dy%26z&e=%00q&a+b=c%2Bd&=v",
	    NULL };
	struct req		 r;
	const struct req_pair	*qp;

	ck_assert_int_eq(request_from_params(&r, envp), 0);
	ck_assert_str_eq(r.path, "/f");
	ck_assert_str_eq(request_query(&r, "a"), "2");		/* last wins */
	ck_assert_str_eq(request_query(&r, "b"), "");
	ck_assert_str_eq(request_query(&r, "c"), "");
	ck_assert_str_eq(request_query(&r, "d"), "x=y&z");
	ck_assert_str_eq(request_query(&r, "a b"), "c+d");
	qp = query_pair(&r, "e");
	ck_assert_ptr_nonnull(qp);
	ck_assert_uint_eq(qp->value_len, 2);
	ck_assert_mem_eq(qp->value, "\0q", 3);
	request_free(&r);
}
END_TEST

START_TEST(test_params_query_cap)
{
	struct req	 r;
	char		*envp[3];
	char		*uri;
	size_t		 i, off;

	/* 200 parameters, within REQ_MAX_URI */
	uri = malloc(32 + 200 * 8);
	ck_assert_ptr_nonnull(uri);
	off = (size_t)sprintf(uri, "REQUEST_URI=/f?");
	for (i = 0; i < 200; i++)
		off += (size_t)sprintf(uri + off, "k%zu=%zu&", i, i);
	envp[0] = "REQUEST_METHOD=GET";
	envp[1] = uri;
	envp[2] = NULL;
	if (request_from_params(&r, envp) == 0) {
		ck_assert_uint_le(r.nquery, REQ_MAX_QUERY);
		ck_assert_str_eq(request_query(&r, "k0"), "0");
	}
	request_free(&r);
	free(uri);
}
END_TEST

START_TEST(test_params_segments_limit)
{
	char *ok[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/1/2/3/4/5/6/7/8",
	    NULL };
	char *over[] = { "REQUEST_METHOD=GET",
	    "REQUEST_URI=/1/2/3/4/5/6/7/8/9", NULL };
	char *many[] = { "REQUEST_METHOD=GET",
	    "REQUEST_URI=/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p?q=1", NULL };
	struct req	r;

	ck_assert_uint_eq(REQ_MAX_SEGMENTS, 8);
	ck_assert_int_eq(request_from_params(&r, ok), 0);
	ck_assert_uint_eq(r.nsegments, 8);
	ck_assert_int_eq(r.too_many_segments, 0);
	ck_assert_str_eq(r.segment[7], "8");
	request_free(&r);

	ck_assert_int_eq(request_from_params(&r, over), 0);
	ck_assert_int_eq(r.too_many_segments, 1);
	ck_assert_uint_le(r.nsegments, REQ_MAX_SEGMENTS);
	request_free(&r);

	ck_assert_int_eq(request_from_params(&r, many), 0);
	ck_assert_int_eq(r.too_many_segments, 1);
	ck_assert_uint_le(r.nsegments, REQ_MAX_SEGMENTS);
	request_free(&r);
}
END_TEST

START_TEST(test_params_root)
{
	char *envp[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/", NULL };
	char *q[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/?", NULL };
	struct req	r;

	ck_assert_int_eq(request_from_params(&r, envp), 0);
	ck_assert_str_eq(r.path, "/");
	ck_assert_uint_eq(r.nsegments, 0);
	request_free(&r);
	ck_assert_int_eq(request_from_params(&r, q), 0);
	ck_assert_str_eq(r.path, "/");
	ck_assert_uint_eq(r.nquery, 0);
	request_free(&r);
}
END_TEST

START_TEST(test_params_malformed)
{
	char *no_method[] = { "REQUEST_URI=/invoke/p/r/f", NULL };
	char *empty_method[] = { "REQUEST_METHOD=", "REQUEST_URI=/x", NULL };
	char *long_method[] = { "REQUEST_METHOD=ABCDEFGHIJKLMNOPQRSTUVWXYZ",
	    "REQUEST_URI=/x", NULL };
	char *no_uri[] = { "REQUEST_METHOD=GET", NULL };
	char *rel_uri[] = { "REQUEST_METHOD=GET", "REQUEST_URI=invoke/p/r/f",
	    NULL };
	char *abs_uri[] = { "REQUEST_METHOD=GET",
	    "REQUEST_URI=http://h/invoke", NULL };
	char *empty_uri[] = { "REQUEST_METHOD=GET", "REQUEST_URI=", NULL };
	char *cl_abc[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/x",
	    "CONTENT_LENGTH=abc", NULL };
	char *cl_neg[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/x",
	    "CONTENT_LENGTH=-1", NULL };
	char *cl_huge[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/x",
	    "CONTENT_LENGTH=99999999999999999999999999", NULL };
	char *cl_max[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/x",
	    "CONTENT_LENGTH=18446744073709551615", NULL };
	char *cl_trail[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/x",
	    "CONTENT_LENGTH=5x", NULL };
	char *cl_space[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/x",
	    "CONTENT_LENGTH= 5", NULL };
	char *cl_plus[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/x",
	    "CONTENT_LENGTH=+5", NULL };
	char **cases[] = { no_method, empty_method, long_method, no_uri,
	    rel_uri, abs_uri, empty_uri, cl_abc, cl_neg, cl_huge, cl_max,
	    cl_trail, cl_space, cl_plus };
	struct req	 r;
	size_t		 i;

	for (i = 0; i < NELEM(cases); i++) {
		ck_assert_msg(request_from_params(&r, cases[i]) == -1,
		    "case %zu (%s, %s) accepted", i, cases[i][0],
		    cases[i][1] != NULL ? cases[i][1] : "-");
		/* r is safe to free after a failure, twice even */
		request_free(&r);
		request_free(&r);
	}
	ck_assert_int_eq(request_from_params(&r, NULL), -1);
	request_free(&r);
}
END_TEST

START_TEST(test_params_content_length)
{
	char *zero[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/x",
	    "CONTENT_LENGTH=0", NULL };
	char *empty[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/x",
	    "CONTENT_LENGTH=", NULL };
	char *big[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/x",
	    "CONTENT_LENGTH=1048576", NULL };
	struct req	r;

	ck_assert_int_eq(request_from_params(&r, zero), 0);
	ck_assert_uint_eq(r.content_length, 0);
	request_free(&r);
	ck_assert_int_eq(request_from_params(&r, empty), 0);
	ck_assert_uint_eq(r.content_length, 0);
	request_free(&r);
	ck_assert_int_eq(request_from_params(&r, big), 0);
	ck_assert_uint_eq(r.content_length, 1048576);
	request_free(&r);
}
END_TEST

START_TEST(test_params_uri_length)
{
	struct req	 r;
	char		*envp[3] = { "REQUEST_METHOD=GET", NULL, NULL };
	char		*uri;

	/* exactly REQ_MAX_URI: accepted */
	uri = env_entry("REQUEST_URI=/", 'a', REQ_MAX_URI - 1);
	envp[1] = uri;
	ck_assert_int_eq(request_from_params(&r, envp), 0);
	ck_assert_uint_eq(strlen(r.path), REQ_MAX_URI);
	request_free(&r);
	free(uri);

	/* one more: refused */
	uri = env_entry("REQUEST_URI=/", 'a', REQ_MAX_URI);
	envp[1] = uri;
	ck_assert_int_eq(request_from_params(&r, envp), -1);
	request_free(&r);
	free(uri);

	/* far more, with a query: refused */
	uri = env_entry("REQUEST_URI=/f?q=", 'b', 10 * REQ_MAX_URI);
	envp[1] = uri;
	ck_assert_int_eq(request_from_params(&r, envp), -1);
	request_free(&r);
	free(uri);
}
END_TEST

START_TEST(test_params_copied)
{
	char		 method[] = "REQUEST_METHOD=PUT";
	char		 uri[] = "REQUEST_URI=/functions/p/r/f?activate=false";
	char		 hdr[] = "HTTP_CONTENT_TYPE=application/javascript";
	char		*envp[] = { method, uri, hdr, NULL };
	struct req	 r;

	ck_assert_int_eq(request_from_params(&r, envp), 0);
	/* Nothing may point into envp (libfcgi reuses it). */
	memset(method, 'X', sizeof(method) - 1);
	memset(uri, 'X', sizeof(uri) - 1);
	memset(hdr, 'X', sizeof(hdr) - 1);
	ck_assert_str_eq(r.method, "PUT");
	ck_assert_str_eq(r.path, "/functions/p/r/f");
	ck_assert_str_eq(r.segment[3], "f");
	ck_assert_str_eq(request_query(&r, "activate"), "false");
	ck_assert_str_eq(request_header(&r, "content-type"),
	    "application/javascript");
	request_free(&r);
}
END_TEST

START_TEST(test_set_body)
{
	char *envp[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/x",
	    "CONTENT_LENGTH=3", NULL };
	struct req	 r;
	char		*body = malloc(4), *body2 = malloc(2);

	ck_assert_ptr_nonnull(body);
	ck_assert_ptr_nonnull(body2);
	memcpy(body, "a\0b", 4);
	memcpy(body2, "z", 2);
	ck_assert_int_eq(request_from_params(&r, envp), 0);
	request_set_body(&r, body, 3);
	ck_assert_ptr_eq(r.body, body);
	ck_assert_uint_eq(r.body_len, 3);
	/* replacing frees the old one (ASan would see a leak otherwise) */
	request_set_body(&r, body2, 1);
	ck_assert_str_eq(r.body, "z");
	request_free(&r);
	ck_assert_ptr_null(r.body);
}
END_TEST

static void
assert_decode(const char *in, int plus, const char *want, size_t wantlen)
{
	char	*out;
	size_t	 outlen = 12345;

	out = request_decode(in, strlen(in), plus, &outlen);
	ck_assert_ptr_nonnull(out);
	ck_assert_msg(outlen == wantlen && memcmp(out, want, wantlen) == 0,
	    "decode(\"%s\", %d) = \"%s\" (%zu), want \"%s\" (%zu)", in, plus,
	    out, outlen, want, wantlen);
	ck_assert_int_eq(out[outlen], '\0');
	free(out);
}

#define DECODE(in, plus, want) \
	assert_decode((in), (plus), (want), sizeof(want) - 1)

START_TEST(test_decode)
{
	DECODE("", 0, "");
	DECODE("abc", 0, "abc");
	DECODE("%41%42", 0, "AB");
	DECODE("%2e%2E", 0, "..");
	DECODE("a%20b", 1, "a b");
	DECODE("a+b", 1, "a b");
	DECODE("a+b", 0, "a+b");
	DECODE("%2B", 1, "+");
	DECODE("%00", 0, "\0");
	DECODE("x%00y", 0, "x\0y");
	DECODE("%ff%FE", 0, "\xff\xfe");
	DECODE("%%41", 0, "%A");
	DECODE("%41%", 0, "A%");
}
END_TEST

START_TEST(test_decode_malformed)
{
	/* kept literally */
	DECODE("%zz", 0, "%zz");
	DECODE("%4", 0, "%4");
	DECODE("%", 0, "%");
	DECODE("abc%", 0, "abc%");
	DECODE("abc%4", 1, "abc%4");
	DECODE("%4g", 0, "%4g");
	DECODE("%g4", 0, "%g4");
	DECODE("% 41", 0, "% 41");
	DECODE("%-1", 0, "%-1");
	DECODE("%%", 0, "%%");
	DECODE("%zz+%4", 1, "%zz %4");
}
END_TEST

START_TEST(test_decode_bounds)
{
	char	*out;
	size_t	 outlen;

	/* Only len bytes are read: the escape is cut by len. */
	out = request_decode("ab%41", 4, 0, &outlen);
	ck_assert_uint_eq(outlen, 4);
	ck_assert_str_eq(out, "ab%4");
	free(out);
	out = request_decode("%41", 2, 0, &outlen);
	ck_assert_str_eq(out, "%4");
	free(out);
	/* outlen may be NULL */
	out = request_decode("x%41", 4, 0, NULL);
	ck_assert_str_eq(out, "xA");
	free(out);
}
END_TEST

static Suite *
request_suite(void)
{
	Suite	*s = suite_create("request");
	TCase	*tc;

	tc = tcase_create("params");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_params_basic);
	tcase_add_test(tc, test_params_over_garbage);
	tcase_add_test(tc, test_params_headers);
	tcase_add_test(tc, test_params_request_id_capped);
	tcase_add_test(tc, test_params_too_many_headers);
	tcase_add_test(tc, test_params_decoded_segments);
	tcase_add_test(tc, test_params_query);
	tcase_add_test(tc, test_params_query_cap);
	tcase_add_test(tc, test_params_segments_limit);
	tcase_add_test(tc, test_params_root);
	tcase_add_test(tc, test_params_malformed);
	tcase_add_test(tc, test_params_content_length);
	tcase_add_test(tc, test_params_uri_length);
	tcase_add_test(tc, test_params_copied);
	tcase_add_test(tc, test_set_body);
	suite_add_tcase(s, tc);

	tc = tcase_create("decode");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_decode);
	tcase_add_test(tc, test_decode_malformed);
	tcase_add_test(tc, test_decode_bounds);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(request_suite());
	int	 failed;

	/* Fork mode unless CK_FORK=no (for a debugger). */
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
