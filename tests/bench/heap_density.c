/*
 * heap_density.c - what N warm hello heaps cost one process, as a worker
 * keeps them (make bench's many workload, in-process): half loaded from
 * the source, half from its bytecode (one worker compiles a function, the
 * other loads the cached bytecode), each called once with the 1,200-byte
 * forwarding body. Prints the allocator's count per heap, the process's
 * RSS growth per heap (VmRSS before and after) and glibc's view of its
 * arena (mallinfo2: bytes in use against bytes held). With -h, also the
 * histogram of the heaps' live blocks by requested size (it wraps the
 * sandbox allocator: the Makefile links it with --wrap).
 *
 * Usage: bench-heap-density [-h] [N]   (N defaults to 1000)
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox.h"
#include "../json_payload.h"

/* Live blocks by requested size: 8-byte classes up to 1 KiB, then one. */
#define CLASSES	129
static long live[CLASSES];
static int counting;

void	*__real_sandbox_alloc_malloc(void *, size_t);
void	*__real_sandbox_alloc_realloc(void *, void *, size_t);
void	 __real_sandbox_alloc_free(void *, void *);
void	*__wrap_sandbox_alloc_malloc(void *, size_t);
void	*__wrap_sandbox_alloc_realloc(void *, void *, size_t);
void	 __wrap_sandbox_alloc_free(void *, void *);

/* The requested size of a live block: sandbox_alloc.c keeps it in the
 * 8 bytes before the block. */
static size_t
sandbox_alloc_size(void *ptr)
{
	return *(size_t *)(void *)((char *)ptr - 8);
}

static void
count(size_t size, int d)
{
	size_t c = (size + 7) / 8;

	if (counting)
		live[c < CLASSES ? c : CLASSES - 1] += d;
}

void *
__wrap_sandbox_alloc_malloc(void *u, size_t size)
{
	void *p = __real_sandbox_alloc_malloc(u, size);

	if (p != NULL)
		count(size, 1);
	return p;
}

void *
__wrap_sandbox_alloc_realloc(void *u, void *ptr, size_t size)
{
	size_t old = ptr != NULL ? sandbox_alloc_size(ptr) : 0;
	void *p = __real_sandbox_alloc_realloc(u, ptr, size);

	if (p != NULL || size == 0) {
		if (ptr != NULL)
			count(old, -1);
		if (p != NULL)
			count(size, 1);
	}
	return p;
}

void
__wrap_sandbox_alloc_free(void *u, void *ptr)
{
	if (ptr != NULL)
		count(sandbox_alloc_size(ptr), -1);
	__real_sandbox_alloc_free(u, ptr);
}

static long
rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static const char SRC[] =
    "module.exports = function (req, res) { res.send(\"hello\"); };";

int
main(int argc, char **argv)
{
	struct sandbox_limits lim = { .memory_bytes = 32u << 20,
	    .timeout_ms = 1000, .response_max = 6u << 20,
	    .log_max = 64u << 10 };
	static const struct sandbox_kv hdrs[] = {
		{ "content-type", "application/json", 16 },
		{ "user-agent", "wrk", 3 },
		{ "host", "127.0.0.1:8080", 14 },
	};
	struct sandbox_request rq = { "POST", "/invoke/bench/many/f1", NULL,
	    0, hdrs, 3, NULL, 0, NULL, 0, NULL };
	struct sandbox_result res;
	struct sandbox **sbs;
	struct mallinfo2 m0, m1;
	void *bc = NULL;
	size_t bclen = 0, used = 0, blen;
	char *body;
	long r0, r1, n = 1000;
	int hist = 0, i;

	if (argc > 1 && strcmp(argv[1], "-h") == 0) {
		hist = 1;
		argc--, argv++;
	}
	if (argc > 1)
		n = strtol(argv[1], NULL, 10);
	if (n < 1 || (sbs = calloc(n, sizeof(*sbs))) == NULL)
		return 2;
	/* As the worker runs (fcgi-app/process/main.c). */
	(void)mallopt(M_MXFAST, 0);
	rq.body = body = json_payload_after(&blen);
	rq.body_len = blen;
	{
		struct sandbox *sb = sandbox_new(&lim);

		if (sb == NULL || sandbox_load(sb, SRC, strlen(SRC), "f.js",
		    &bc, &bclen, &res) != 0 || bc == NULL)
			return 1;
		sandbox_result_free(&res);
		sandbox_free(sb);
	}
	r0 = rss_kb();
	m0 = mallinfo2();
	counting = 1;
	for (i = 0; i < n; i++) {
		if ((sbs[i] = sandbox_new(&lim)) == NULL)
			return 1;
		if ((i % 2 == 0 ? sandbox_load(sbs[i], SRC, strlen(SRC),
		    "f.js", NULL, NULL, &res) : sandbox_load_bytecode(sbs[i],
		    bc, bclen, &res)) != 0)
			return 1;
		sandbox_result_free(&res);
		if (sandbox_call(sbs[i], &rq, &res) != 0)
			return 1;
		sandbox_result_free(&res);
	}
	counting = 0;
	r1 = rss_kb();
	m1 = mallinfo2();
	for (i = 0; i < n; i++)
		used += sandbox_memory_used(sbs[i]);
	printf("%ld heaps: %.1f KB allocator count, %.1f KB RSS, "
	    "%.1f KB arena held, %.1f KB arena in use per heap\n", n,
	    used / 1024.0 / n, (double)(r1 - r0) / n,
	    ((double)m1.arena + m1.hblkhd - m0.arena - m0.hblkhd) / 1024 / n,
	    ((double)m1.uordblks + m1.hblkhd - m0.uordblks - m0.hblkhd) /
	    1024 / n);
	if (hist) {
		printf("live blocks per heap by requested size (8-byte "
		    "classes; last: larger)\n");
		for (i = 0; i < CLASSES; i++)
			if (live[i] != 0)
				printf("%4d %8.1f %8.0f B\n", i * 8,
				    (double)live[i] / n,
				    (double)live[i] * i * 8 / n);
	}
	for (i = 0; i < n; i++)
		sandbox_free(sbs[i]);
	free(sbs);
	free(bc);
	free(body);
	return 0;
}
