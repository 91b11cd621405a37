/*
 * fuzz_lib_scan.c - the scans that decide which of the library a heap
 * gets (lib_builtins_scan, lib_named_scan in fcgi-app/sandbox/lib/): they
 * read a function's source or its bytecode, both the function author's.
 * Checks: nothing read past the input (ASan: an exact-size copy); each
 * agrees with a reference written with memmem (a name counts where it is
 * a whole word of [A-Za-z0-9_$]).
 * Corpus: tests/fuzz/corpus/lib_scan/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

/* The names in the order of their bits, as lib_builtins.c lists them. */
static const char *const methods[] = { "from", "of", "includes", "at",
    "fill", "find", "findIndex", "findLast", "findLastIndex", "flat",
    "flatMap", "entries", "values", "fromEntries", "padStart", "padEnd",
    "trimStart", "trimEnd", "at", "replaceAll" };
/* The lazy names lib.c defines only where named. */
static const char *const named_names[] = { "Map", "Set", "WeakMap", "WeakSet" };

static int
word(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '$';
}

/* Bit k for each names[k] found as a whole word of s[0..len). */
static uint32_t
reference(const char *s, size_t len, const char *const *names, size_t n)
{
	uint32_t want = 0;
	size_t m, nlen;
	const char *p, *at, *end = s + len;

	for (m = 0; m < n; m++) {
		nlen = strlen(names[m]);
		for (p = s; (at = memmem(p, (size_t)(end - p), names[m],
		    nlen)) != NULL; p = at + 1)
			if ((at == s || !word((unsigned char)at[-1])) &&
			    (at + nlen == end || !word((unsigned char)at[nlen]))) {
				want |= 1u << m;
				break;
			}
	}
	return want;
}

/* lib_named_scan's answer (bits at lib.c's table positions, learnt by
 * scanning each name alone) as bits of named_names[]. */
static uint32_t
as_named_bits(uint32_t bits)
{
	size_t k, n = sizeof(named_names) / sizeof(named_names[0]);
	uint32_t out = 0, one;

	for (k = 0; k < n; k++) {
		one = lib_named_scan(named_names[k], strlen(named_names[k]));
		CHECK(one != 0 && (one & (one - 1)) == 0);
		if (bits & one)
			out |= 1u << k;
	}
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size ? size : 1);
	uint32_t all, named;

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	all = lib_builtins_scan(s, size);
	named = lib_named_scan(s, size);
	CHECK(all == reference(s, size, methods,
	    sizeof(methods) / sizeof(methods[0])));
	CHECK(as_named_bits(named) == reference(s, size, named_names,
	    sizeof(named_names) / sizeof(named_names[0])));
	free(s);
	return 0;
}
