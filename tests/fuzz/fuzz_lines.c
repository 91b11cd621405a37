/*
 * fuzz_lines.c - the line map of lowered code (fcgi-app/sandbox/
 * sandbox_lines.c), read from a version's "lines" file in the store, and
 * the rewriting of error texts with it. The input up to its first NUL is
 * the map's text, the rest the text to rewrite (an error's stack, which a
 * function controls). A map is accepted only in its canonical form; the
 * rewriting reads nothing past its input (ASan) and grows it at most
 * threefold ("(line 1" -> "(line 4294967295").
 * Corpus: tests/fuzz/corpus/lines/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox_lines.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t maplen = nul != NULL ? (size_t)(nul - data) : size;
	size_t textlen = nul != NULL ? size - maplen - 1 : 0;
	struct sandbox_lines m;
	struct buf out = { 0 }, again = { 0 };
	char *map, *text, num[16];
	size_t i, nl = 0, at = 0;

	/* Exactly their length, no NUL after: a read past is a report. */
	if ((map = malloc(maplen ? maplen : 1)) == NULL ||
	    (text = malloc(textlen ? textlen : 1)) == NULL)
		abort();
	memcpy(map, data, maplen);
	memcpy(text, nul != NULL ? nul + 1 : data, textlen);

	if (sandbox_lines_parse(map, maplen, &m) == 0) {
		for (i = 0; i < maplen; i++)
			nl += map[i] == '\n';
		CHECK(m.n == nl && m.n > 0 && map[maplen - 1] == '\n');
		/* Canonical: the map prints back as its text. */
		for (i = 0; i < m.n; i++) {
			int k = snprintf(num, sizeof(num), "%u\n", m.line[i]);

			CHECK(at + (size_t)k <= maplen &&
			    memcmp(map + at, num, (size_t)k) == 0);
			at += (size_t)k;
		}
		CHECK(at == maplen);
		CHECK(sandbox_lines_map(&m, 0) == 0);
		CHECK(sandbox_lines_map(&m, (unsigned)m.n + 1) == 0);
	} else
		CHECK(m.n == 0 && m.line == NULL);

	sandbox_lines_rewrite(&m, text, textlen, &out);
	CHECK(out.len <= 3 * textlen);
	/* Deterministic. */
	sandbox_lines_rewrite(&m, text, textlen, &again);
	CHECK(again.len == out.len &&
	    (out.len == 0 || memcmp(again.data, out.data, out.len) == 0));

	buf_free(&out);
	buf_free(&again);
	sandbox_lines_free(&m);
	free(map);
	free(text);
	return 0;
}
