/*
 * fuzz_lib_scan.c - the scans that decide which of the library a heap
 * gets (lib_builtins_scan, lib_named_scan in fcgi-app/sandbox/lib/): they
 * read a function's source or its bytecode, both the function author's.
 * Checks: nothing read past the input (ASan: an exact-size copy); each
 * agrees with a reference written with memmem (a name counts where a word
 * starts with it); a prefix of the input never finds more than the whole.
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

static int
word(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '$';
}

static uint32_t
reference(const char *s, size_t len)
{
	uint32_t want = 0;
	size_t m, n;
	const char *p, *at;

	for (m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
		n = strlen(methods[m]);
		for (p = s; (at = memmem(p, len - (size_t)(p - s), methods[m],
		    n)) != NULL; p = at + 1)
			if (at == s || !word((unsigned char)at[-1])) {
				want |= 1u << m;
				break;
			}
	}
	return want;
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
	CHECK(all == reference(s, size));
	if (size > 0) {
		CHECK((lib_builtins_scan(s, size - 1) & ~all) == 0);
		CHECK((lib_named_scan(s, size - 1) & ~named) == 0);
		CHECK((lib_builtins_scan(s + 1, size - 1) & ~all) == 0 ||
		    word((unsigned char)s[0]));
	}
	free(s);
	return 0;
}
