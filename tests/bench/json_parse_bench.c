/*
 * json_parse_bench.c - micro-benchmark: Duktape's JSON.parse against
 * json_fast_push on the 1.2 KB "after" phase payload of
 * tests/json_payload.h (and a number-heavy variant), in one heap, each
 * inside a duk_safe_call as the sandbox runs them. Not part of make;
 * build by hand:
 *
 *   make build/libfnrun.a
 *   cc -D_GNU_SOURCE -Ibuild/duk -iquote fcgi-app/sandbox \
 *       -iquote fcgi-app/base -std=c11 -O2 \
 *       -o build/json_parse_bench tests/bench/json_parse_bench.c \
 *       build/libfnrun.a -lfcgi -lmemcached -lcrypto -lm
 *   build/json_parse_bench [iterations]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "duktape.h"
#include "json_fast.h"
#include "../json_payload.h"

struct input {
	const char	*s;
	size_t		 len;
};


/* About 1.2 KB of readings: what a metrics or telemetry body looks like. */
static char *
numbers_payload(size_t *lenp)
{
	char	*p = malloc(4096);
	size_t	 n = 0;
	int	 i;

	if (p == NULL)
		abort();
	n += (size_t)snprintf(p + n, 4096 - n, "{\"sensor\":\"t-17\",\"v\":[");
	for (i = 0; n < 1180; i++)
		n += (size_t)snprintf(p + n, 4096 - n, "%s{\"t\":%d,\"c\":%.2f}",
		    i ? "," : "", 1717490142 + i, 20.0 + (i * 37 % 500) / 100.0);
	n += (size_t)snprintf(p + n, 4096 - n, "]}");
	*lenp = n;
	return p;
}

static duk_ret_t
duk_parse(duk_context *ctx, void *udata)
{
	const struct input	*in = udata;

	duk_push_lstring(ctx, in->s, in->len);
	duk_json_decode(ctx, -1);
	return 1;
}

static duk_ret_t
fast_parse(duk_context *ctx, void *udata)
{
	const struct input	*in = udata;

	if (!json_fast_push(ctx, in->s, in->len))
		duk_push_undefined(ctx);
	return 1;
}

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Microseconds per parse. */
static double
run(duk_context *ctx, duk_safe_call_function fn, struct input *in, long n)
{
	double	t0;
	long	i;

	t0 = now();
	for (i = 0; i < n; i++) {
		if (duk_safe_call(ctx, fn, in, 0, 1) != 0 ||
		    duk_is_undefined(ctx, -1)) {
			fprintf(stderr, "parse failed: %s\n",
			    duk_safe_to_string(ctx, -1));
			exit(1);
		}
		duk_pop(ctx);
	}
	return (now() - t0) * 1e6 / (double)n;
}

static void
bench(duk_context *ctx, const char *name, struct input *in, long n)
{
	const char	*a, *b;
	double		 td, tf;

	/* Same value first: the fast path is only worth timing if it
	 * answers, and answers alike. */
	duk_safe_call(ctx, duk_parse, in, 0, 1);
	duk_json_encode(ctx, -1);
	duk_safe_call(ctx, fast_parse, in, 0, 1);
	duk_json_encode(ctx, -1);
	a = duk_get_string(ctx, -2);
	b = duk_get_string(ctx, -1);
	if (a == NULL || b == NULL || strcmp(a, b) != 0) {
		fprintf(stderr, "%s: results differ\n", name);
		exit(1);
	}
	duk_pop_2(ctx);

	run(ctx, duk_parse, in, n / 10);	/* warm up */
	run(ctx, fast_parse, in, n / 10);
	td = run(ctx, duk_parse, in, n);
	tf = run(ctx, fast_parse, in, n);
	printf("%-22s %5zu bytes  duktape %7.2f us  fast %6.2f us  "
	    "ratio %5.1fx\n", name, in->len, td, tf, td / tf);
}

int
main(int argc, char **argv)
{
	long		 n = argc > 1 ? atol(argv[1]) : 100000;
	duk_context	*ctx = duk_create_heap_default();
	struct input	 in;
	char		*p;

	if (ctx == NULL || n < 10)
		return 1;
	printf("%ld parses each, one heap, inside duk_safe_call\n", n);
	in.s = p = json_payload_after(&in.len);
	bench(ctx, "after-phase payload", &in, n);
	free(p);
	in.s = p = numbers_payload(&in.len);
	bench(ctx, "number-heavy payload", &in, n);
	free(p);
	duk_destroy_heap(ctx);
	return 0;
}
