/*
 * sandbox_lines.h - the line map of lowered code (sandbox/lower): for each
 * line of the code that runs, the line of the source as uploaded it came
 * from; and the rewriting of error texts with it, so that every line
 * number a user sees is one of the uploaded source (SPEC §4). Pure
 * functions on bytes (the map is read from the store), fuzzed by
 * tests/fuzz/fuzz_lines.c.
 */
#ifndef FNRUN_SANDBOX_LINES_H
#define FNRUN_SANDBOX_LINES_H

#include <stddef.h>

#include "buf.h"

/* The file name lowered code is compiled under, as in sandbox.h. */
#define SANDBOX_LINES_FILE	"function.js"
/* What a stack frame in code the lowering added (TypeScript's helpers,
 * which have no line of the uploaded source) shows instead. */
#define SANDBOX_LINES_HELPER	"lowering helper"
/* Lines of lowered code a map may describe. */
#define SANDBOX_LINES_MAX	(1u << 22)

struct sandbox_lines {
	unsigned	*line;	/* line[i]: uploaded line of lowered line i + 1;
				 * 0: added by the lowering */
	size_t		 n;
};

/* Parses the map's text: one strict decimal per line of lowered code,
 * each line ending in '\n', at most SANDBOX_LINES_MAX lines. Returns 0
 * with *m filled (free with sandbox_lines_free), or -1 with *m empty. */
int	sandbox_lines_parse(const char *text, size_t len,
	    struct sandbox_lines *m);
void	sandbox_lines_free(struct sandbox_lines *m);

/* The uploaded line of lowered line n (1-based), or 0 when n is not in
 * the map or belongs to code the lowering added. */
unsigned	sandbox_lines_map(const struct sandbox_lines *m, unsigned n);

/* Appends s[0..len) to out with every "function.js:N" (a stack frame)
 * made "function.js:M" (or SANDBOX_LINES_HELPER when M is 0) and every
 * "(line N" (Duktape's syntax errors) made "(line M". */
void	sandbox_lines_rewrite(const struct sandbox_lines *m, const char *s,
	    size_t len, struct buf *out);

#endif
