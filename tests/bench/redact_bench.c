/*
 * redact_bench.c - micro-benchmark: redacting 65 KB of log text with 300
 * environment values (issue 8, item 6), with a value on every line, every
 * fifth line, or none. Uses only redact_init / redact_append / redact_free,
 * so it also builds against an older redact.c. Not part of make; by hand:
 *
 *   make build/libfnrun.a
 *   cc -D_GNU_SOURCE -iquote fcgi-app/usecase -iquote fcgi-app/base \
 *       -iquote fcgi-app/store -std=c11 -O2 -o build/redact_bench \
 *       tests/bench/redact_bench.c build/libfnrun.a -lfcgi -lmemcached \
 *       -lcrypto -lm
 *   build/redact_bench [repetitions]
 *
 * The same against another revision's redact.c:
 *
 *   mkdir -p /tmp/old && for f in redact.c redact.h; do \
 *       git show REV:fcgi-app/usecase/$f > /tmp/old/$f; done
 *   cc -D_GNU_SOURCE -iquote /tmp/old -iquote fcgi-app/base \
 *       -iquote fcgi-app/store -std=c11 -O2 -o build/redact_bench_old \
 *       tests/bench/redact_bench.c /tmp/old/redact.c fcgi-app/base/buf.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "redact.h"

#define NVALUES		300
#define TEXT_BYTES	(65 * 1024)

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Lines of about 60 bytes; every `every`-th quotes a value (none if 0). */
static size_t
make_log(char *text, const struct store_env_var *v, int every)
{
	size_t t = 0, i;

	for (i = 0; t + 128 < TEXT_BYTES; i++)
		t += (size_t)sprintf(text + t, "line %zu handled request %s\n",
		    i, every > 0 && i % (size_t)every == 0 ?
		    v[(i * 37) % NVALUES].value : "ok, nothing secret here");
	return t;
}

/* Best of reps: init, one append of text[0..len), free. */
static double
best_ms(const struct store_env_var *v, size_t n, const char *text, size_t len,
    int reps)
{
	struct redactor r;
	struct buf out = { 0 };
	double best = 1e30, t0, dt;
	int k;

	for (k = 0; k < reps; k++) {
		buf_reset(&out);
		t0 = now();
		redact_init(&r, v, n);
		redact_append(&r, &out, text, len);
		redact_free(&r);
		dt = now() - t0;
		if (dt < best)
			best = dt;
	}
	buf_free(&out);
	return best * 1e3;
}

int
main(int argc, char **argv)
{
	static struct store_env_var v[NVALUES];
	static char text[TEXT_BYTES];
	static const int every[] = { 1, 5, 0 };
	int reps = argc > 1 ? atoi(argv[1]) : 5;
	size_t i, len;

	if (reps < 1)
		reps = 1;
	for (i = 0; i < NVALUES; i++) {
		snprintf(v[i].name, sizeof(v[i].name), "V_%03zu", i);
		if ((v[i].value = malloc(64)) == NULL)
			return 1;
		v[i].len = (size_t)snprintf(v[i].value, 64,
		    "sk_live_%03zu_%024zu", i, i * 7919);
	}
	for (i = 0; i < sizeof(every) / sizeof(every[0]); i++) {
		len = make_log(text, v, every[i]);
		printf("%zu bytes, %d values, a value every %d lines: "
		    "%.3f ms (best of %d)\n", len, NVALUES, every[i],
		    best_ms(v, NVALUES, text, len, reps), reps);
	}
	/* Building for all values, on a one-byte text. */
	printf("1 byte, %d values: %.3f ms\n", NVALUES,
	    best_ms(v, NVALUES, "x", 1, reps));
	/* The common case: a few values, nothing logged. */
	printf("0 bytes, 3 values: %.6f ms\n", best_ms(v, 3, "", 0, reps));
	for (i = 0; i < NVALUES; i++)
		free(v[i].value);
	return 0;
}
