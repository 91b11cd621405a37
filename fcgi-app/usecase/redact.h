/*
 * redact.h - keeps a project's environment values out of the runtime's own
 * channels (error bodies, console lines in the error stream, the debug
 * envelope's logs): every byte of every occurrence of a value longer than 5
 * bytes is hidden, each run of hidden bytes becoming one "***". A function's
 * own response is its business and is not touched.
 *
 * The work is one pass over the text for all values (an Aho-Corasick
 * automaton), so it is O(text + total value bytes) however many values or
 * hits there are. The automaton is built on the first call that has text:
 * an invocation that logs nothing and succeeds pays nothing for it. So the
 * const functions below fill r in: one redactor, one thread at a time.
 */
#ifndef FNRUN_REDACT_H
#define FNRUN_REDACT_H

#include <stddef.h>

#include "buf.h"
#include "store.h"

#define REDACT_MIN_LEN	6

struct redact_ac;	/* the automaton, redact.c */

struct redactor {
	const struct store_env_var *vars;	/* borrowed: must outlive r */
	size_t			    nvars;
	size_t			    n;	/* values of REDACT_MIN_LEN bytes or more */
	struct redact_ac	   *ac;	/* NULL until the first text */
};

/* Remembers the values to hide (vars must outlive r). Allocates nothing. */
void	redact_init(struct redactor *r, const struct store_env_var *vars,
	    size_t n);
void	redact_free(struct redactor *r);

/* Appends s[0..len) to out with every value hidden. Values and text may hold
 * any bytes, NUL included. Aborts when memory runs out, as buf.h does. */
void	redact_append(const struct redactor *r, struct buf *out, const char *s,
	    size_t len);

/* As redact_append, for s cut from a longer text: its last bytes, if they
 * could be the start of a value that went on past the cut, are dropped. */
void	redact_append_cut(const struct redactor *r, struct buf *out,
	    const char *s, size_t len);

/* Redacts a NUL-terminated string in place (it can only shrink: "***" is
 * shorter than any value). s may be NULL. When s ends with cut_marker (if
 * not NULL), the text before the marker is taken as cut. */
void	redact_inplace(const struct redactor *r, char *s,
	    const char *cut_marker);

/* Operations done so far (building and scanning): the unit tests' proof
 * that the work stays linear. 0 before the automaton is built. */
unsigned long long redact_steps(const struct redactor *r);

#endif
