/*
 * lower_cost.c - what lowering costs (make lower-cost): loading the
 * compiler by compiling typescript.js against loading its bytecode, and
 * lowering a 1 KB and a 20 KB TypeScript source with the compiler warm.
 * Prints the median and the range of a few runs of each, and the heap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "lower.h"

#define RUNS	5

static const char unit[] =
    "interface Item%d { id: number; name?: string; tags: string[] }\n"
    "enum Color%d { Red, Green = 4, Blue }\n"
    "class Store%d<T extends Item%d> {\n"
    "  private items = new Map<number, T>();\n"
    "  static count = 0;\n"
    "  constructor(private readonly label: string) { Store%d.count++; }\n"
    "  add(item: T): this { this.items.set(item.id, item); return this; }\n"
    "  get size(): number { return this.items.size; }\n"
    "  find(pred: (t: T) => boolean): T | undefined {\n"
    "    for (const [, v] of this.items) if (pred(v)) return v;\n"
    "    return undefined;\n"
    "  }\n"
    "  names = (): string[] => [...this.items.values()].map(({ name = '?' }) => `${this.label}:${name}`);\n"
    "}\n"
    "async function handle%d(req: { payload: any }, res: any) {\n"
    "  const { a = 1, ...rest } = req.payload ?? {};\n"
    "  const s = new Store%d<Item%d>('s%d');\n"
    "  s.add({ id: a, tags: [] }).add({ id: 2, name: rest?.n as string, tags: ['x'] });\n"
    "  await Promise.resolve(Color%d.Green ** 2);\n"
    "  return s.find((t) => t.id === a)!.tags.length + s.names().length;\n"
    "}\n";

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
report(const char *what, double *ms)
{
	qsort(ms, RUNS, sizeof(*ms), cmp);
	printf("%-40s median %8.1f ms  (min %.1f, max %.1f)\n", what,
	    ms[RUNS / 2], ms[0], ms[RUNS - 1]);
}

static char *
source(int units, size_t *len)
{
	char *s = malloc((size_t)units * 2048);
	size_t n = 0;
	int i;

	for (i = 0; i < units; i++)
		n += (size_t)sprintf(s + n, unit, i, i, i, i, i, i, i, i, i, i);
	*len = n;
	return s;
}

int
main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] :
	    "/usr/share/nodejs/typescript/lib/typescript.js";
	struct lower_limits lim = { 512u << 20, 600000 };
	struct lower_result res;
	struct lower *lw;
	double ms[RUNS], t0, gc_max = 0;
	void *bc = NULL;
	size_t len, bclen = 0, srclen;
	char *ts, *src;
	FILE *f;
	int i;

	if ((f = fopen(path, "rb")) == NULL) {
		perror(path);
		return 1;
	}
	fseek(f, 0, SEEK_END);
	len = (size_t)ftell(f);
	rewind(f);
	ts = malloc(len);
	if (fread(ts, 1, len, f) != len)
		return 1;
	fclose(f);
	for (i = 0; i < RUNS; i++) {
		t0 = clock_ms();
		lw = lower_load(&lim, NULL, 0, ts, len, i == 0 ? &bc : NULL,
		    &bclen, &res);
		ms[i] = clock_ms() - t0;
		if (lw == NULL) {
			fprintf(stderr, "%s\n", res.message);
			return 1;
		}
		if (i == 0)
			printf("compiler: %zu bytes of source, %zu of bytecode, "
			    "%zu bytes of heap loaded\n", len, bclen,
			    lower_memory_used(lw));
		lower_free(lw);
	}
	report("load: compile typescript.js + run", ms);
	for (i = 0; i < RUNS; i++) {
		t0 = clock_ms();
		lw = lower_load(&lim, bc, bclen, NULL, 0, NULL, NULL, &res);
		ms[i] = clock_ms() - t0;
		if (i < RUNS - 1)
			lower_free(lw);
	}
	report("load: bytecode + run", ms);
	for (int units = 1; units <= 20; units += 19) {
		src = source(units, &srclen);
		for (i = 0; i < RUNS; i++) {
			t0 = clock_ms();
			if (lower_source(lw, src, srclen, 1, &res) != 0) {
				fprintf(stderr, "%s\n", res.message);
				return 1;
			}
			ms[i] = clock_ms() - t0;
			lower_result_free(&res);
			/* As the worker does after answering. */
			t0 = clock_ms();
			lower_collect(lw);
			if (clock_ms() - t0 > gc_max)
				gc_max = clock_ms() - t0;
		}
		char what[64];
		snprintf(what, sizeof(what), "lower %zu bytes of TypeScript", srclen);
		report(what, ms);
		free(src);
	}
	printf("longest mark-and-sweep after a lowering (outside the "
	    "answer): %.1f ms\n", gc_max);
	printf("compiler heap after: %zu bytes\n", lower_memory_used(lw));
	lower_free(lw);
	free(bc);
	free(ts);
	return 0;
}
