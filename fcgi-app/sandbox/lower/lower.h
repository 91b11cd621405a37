/*
 * lower.h - lowering at upload (SPEC §5, §11): TypeScript's own compiler
 * (Debian's node-typescript, typescript.js) run inside the engine, in a
 * heap of its own with its own limits and never in a function's, turns
 * ES2022 and TypeScript into the ECMAScript 5.1 Duktape runs, with a line
 * map back to the source as uploaded, and refuses what cannot be lowered.
 * Transpiling only: TypeScript's types are erased, never checked.
 *
 * A worker loads the compiler once (lower_load) and keeps it; loading
 * from bytecode is several times faster than compiling typescript.js, so
 * the caller caches the dump (usecase/compiler.c).
 */
#ifndef FNRUN_LOWER_H
#define FNRUN_LOWER_H

#include <stddef.h>

#include "outcome.h"

struct lower_limits {
	size_t		memory_bytes;	/* the compiler's heap, compiler included */
	unsigned	timeout_ms;	/* loading the compiler; each lowering */
};

/* Everything is owned by the result; free with lower_result_free. */
struct lower_result {
	enum outcome	 outcome;
	char		 message[1024];	/* when not OUT_OK */
	int		 line;		/* syntax or unsupported: 1-based */
	int		 column;
	char		*code;		/* OUT_OK: the lowered code, UTF-8 */
	size_t		 code_len;
	char		*lines;		/* OUT_OK: its line map (sandbox_lines.h) */
	size_t		 lines_len;
};

struct lower;

/* A compiler heap within lim: the library's collections and built-ins
 * (sandbox/lib), then typescript.js from
 * bytecode bc (made by an earlier load's dump, and verified: Duktape does
 * not check bytecode) when bc is not NULL, else compiled from its source
 * src[0..srclen), then lower_driver.js. When compiled from source and dump
 * is not NULL, *dump is the compiler's bytecode (malloc'd, the caller
 * frees; NULL if it could not be dumped). Returns the heap, or NULL with
 * res->outcome OUT_TIMEOUT or OUT_UNAVAILABLE and res->message set. */
struct lower	*lower_load(const struct lower_limits *lim, const void *bc,
		    size_t bclen, const char *src, size_t srclen, void **dump,
		    size_t *dumplen, struct lower_result *res);
void		 lower_free(struct lower *lw);

/* Lowers src[0..len) (JavaScript, or TypeScript when typescript is set).
 * Returns 0 with res->code and res->lines, or -1 with res->outcome:
 *   OUT_SYNTAX_ERROR        line and column in src
 *   OUT_UNSUPPORTED_SYNTAX  line and column of a construct the engine
 *                           cannot run (BigInt, a regexp feature, import,
 *                           require, ...), named in the message
 *   OUT_TIMEOUT             the compiler ran past lim.timeout_ms
 *   OUT_PAYLOAD_TOO_LARGE   past lim.memory_bytes, or nested too deeply
 *   OUT_UNAVAILABLE         the compiler failed otherwise
 * After the last three the heap must not be used again (lower_usable). */
int	lower_source(struct lower *lw, const char *src, size_t len,
	    int typescript, struct lower_result *res);

/* Frees the garbage of past lowerings (TypeScript's syntax trees are
 * cyclic: only a mark-and-sweep frees them) once the heap has grown to
 * three times its size when loaded. Runs no JavaScript; takes time in
 * proportion to the heap (bounded by lim.memory_bytes), so call it after
 * the answer's deadline, not under it. */
void	lower_collect(struct lower *lw);

/* 0 once a lowering left the compiler's heap in doubt. */
int	lower_usable(const struct lower *lw);

/* Heap bytes the compiler holds now. */
size_t	lower_memory_used(const struct lower *lw);

/* 1 when JavaScript src[0..len), even if the engine compiles it as it
 * is, must go through the compiler all the same: it names something only
 * the compiler can check (require, import, BigInt, RegExp) or uses const,
 * which the engine scopes to the function (ES2015: the block). A plain
 * substring test, so it errs towards the compiler. */
int	lower_wanted(const char *src, size_t len);

void	lower_result_free(struct lower_result *res);

#endif
