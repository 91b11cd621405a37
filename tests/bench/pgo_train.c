/*
 * pgo_train.c - the training run of the profile-guided build (README
 * "Building and testing"), and the in-process micro-benchmark of the same
 * workloads. Linked against the instrumented objects, make runs it to
 * write the profile (.gcda files under build/pgo/) that the optimised
 * build is compiled with; linked against build/libfnrun.a (make
 * pgo-bench) it times them.
 *
 * It drives the bench's functions (tests/bench/functions/<name>.js:
 * hello, json, json_payload, async, cpu) the way a worker does, on the bench's
 * 1.2 KB body (tests/json_payload.h) with the headers nginx passes: each
 * one compiled once as an upload is (source to bytecode), loaded from
 * that bytecode into a few new heaps (cold calls), then called in one
 * warm heap. Fixed inputs and counts; no network, no stack.
 *
 *   pgo_train <functions dir> [scale [name]]
 *
 * prints, per function, the microseconds of a cold and of a warm call.
 * scale (default 1) multiplies the number of calls; name runs that
 * function alone (for callgrind: --toggle-collect=sandbox_call counts
 * the calls alone).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "sandbox.h"
#include "../json_payload.h"

struct workload {
	const char	*name;
	int		 warm_calls;	/* at scale 1 */
	int		 cold_calls;
};

/* Warm calls outweigh cold ones, as in a worker at work (and in make
 * bench); cpu's (a fib(20) each, ~700 times a hello) are few. */
static const struct workload WORKLOADS[] = {
	{ "hello", 2000, 5 },
	{ "json", 2000, 5 },
	{ "json_payload", 2000, 5 },
	{ "async", 2000, 5 },
	{ "cpu", 10, 1 },
};

static const struct sandbox_limits LIMITS = { .memory_bytes = 32u << 20,
    .timeout_ms = 10000, .response_max = 6u << 20, .log_max = 64u << 10 };

static const struct sandbox_kv HEADERS[] = {
	{ "content-type", "application/json", 16 },
	{ "content-length", "1200", 4 },
	{ "user-agent", "fnrun-forwarder/1.4", 19 },
	{ "x-request-id", "7f3c9a2e-5b1d-4e8f-9a6c-2d4b8e1f0a3c", 36 },
};

static const struct sandbox_kv QUERY[] = {
	{ "phase", "after", 5 },
};

static char *
read_file(const char *dir, const char *name, size_t *lenp)
{
	char path[4096];
	char *s;
	long n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.js", dir, name);
	if ((f = fopen(path, "rb")) == NULL || fseek(f, 0, SEEK_END) != 0 ||
	    (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    (s = malloc((size_t)n + 1)) == NULL ||
	    fread(s, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "pgo_train: cannot read %s\n", path);
		exit(1);
	}
	fclose(f);
	s[n] = '\0';
	*lenp = (size_t)n;
	return s;
}

static void
fail(const char *name, const char *what, const struct sandbox_result *res)
{
	fprintf(stderr, "pgo_train: %s: %s: %s %s\n", name, what,
	    outcome_code(res->outcome), res->message);
	exit(1);
}

/* One call; its answer must be 200. */
static void
call(struct sandbox *sb, const char *name, const struct sandbox_request *rq)
{
	struct sandbox_result res;

	if (sandbox_call(sb, rq, &res) != 0 || res.status != 200)
		fail(name, "call", &res);
	sandbox_result_free(&res);
}

static struct sandbox *
new_heap(const char *name)
{
	struct sandbox *sb;

	if ((sb = sandbox_new(&LIMITS)) == NULL) {
		fprintf(stderr, "pgo_train: %s: no heap\n", name);
		exit(1);
	}
	return sb;
}

static struct sandbox *
heap_from(const char *name, const void *bc, size_t bclen)
{
	struct sandbox_result res;
	struct sandbox *sb = new_heap(name);

	if (sandbox_load_bytecode(sb, bc, bclen, &res) != 0)
		fail(name, "load", &res);
	sandbox_result_free(&res);
	return sb;
}

static void
run(const char *dir, const struct workload *w, int scale,
    const struct sandbox_request *rq)
{
	struct sandbox_result res;
	struct sandbox *sb;
	double t0, cold_us, warm_us;
	size_t len, bclen = 0;
	void *bc = NULL;
	char *src;
	int i, n;

	/* The upload: source to bytecode, in a heap of its own. */
	src = read_file(dir, w->name, &len);
	sb = new_heap(w->name);
	if (sandbox_load(sb, src, len, SANDBOX_FILENAME, &bc, &bclen,
	    &res) != 0 || bc == NULL)
		fail(w->name, "upload", &res);
	sandbox_result_free(&res);
	sandbox_free(sb);
	free(src);

	n = w->cold_calls * scale;
	t0 = clock_ms();
	for (i = 0; i < n; i++) {
		sb = heap_from(w->name, bc, bclen);
		call(sb, w->name, rq);
		sandbox_free(sb);
	}
	cold_us = (clock_ms() - t0) * 1000 / n;

	sb = heap_from(w->name, bc, bclen);
	n = w->warm_calls * scale;
	t0 = clock_ms();
	for (i = 0; i < n; i++)
		call(sb, w->name, rq);
	warm_us = (clock_ms() - t0) * 1000 / n;
	sandbox_free(sb);
	free(bc);
	printf("%-13s cold %9.1f us  warm %9.1f us\n", w->name, cold_us,
	    warm_us);
}

int
main(int argc, char **argv)
{
	struct sandbox_request rq = { "POST", "/invoke/p1/r1/f", QUERY,
	    sizeof(QUERY) / sizeof(QUERY[0]), HEADERS,
	    sizeof(HEADERS) / sizeof(HEADERS[0]), NULL, 0, NULL, 0, NULL };
	const char *only = argc > 3 ? argv[3] : NULL;
	char *body;
	size_t i;
	int scale;

	if (argc < 2 || argc > 4 ||
	    (scale = argc > 2 ? atoi(argv[2]) : 1) < 1) {
		fprintf(stderr,
		    "usage: pgo_train <functions dir> [scale [name]]\n");
		return 2;
	}
	rq.body = body = json_payload_after(&rq.body_len);
	for (i = 0; i < sizeof(WORKLOADS) / sizeof(WORKLOADS[0]); i++)
		if (only == NULL || strcmp(only, WORKLOADS[i].name) == 0)
			run(argv[1], &WORKLOADS[i], scale, &rq);
	free(body);
	return 0;
}
