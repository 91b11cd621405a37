/*
 * json_fast.h - a native fast path for JSON.parse of request bodies
 * (issue 3: Duktape's own parser spends most of its time in bignum
 * arithmetic for numbers). It builds exactly the value Duktape's
 * duk_json_decode would, or declines and leaves the work to Duktape.
 */
#ifndef FNRUN_JSON_FAST_H
#define FNRUN_JSON_FAST_H

#include <stddef.h>

#include "duktape.h"

/* Parses s[0..len) as JSON and pushes the value duk_json_decode would
 * produce for the same bytes: same types, same string bytes, same numbers
 * (bit for bit, -0 included), same key order, duplicate keys resolved the
 * same way, "__proto__" an own property, no setter or other user code run.
 *
 * Returns 1 with the value pushed, or 0 with nothing pushed when it
 * declines: invalid JSON, nesting deeper than Duktape's limit (1000), an
 * exponent beyond 100000 written in a number. The caller then runs
 * duk_json_decode, which gives the result or the proper SyntaxError /
 * RangeError.
 *
 * Throws only when Duktape does (allocation failure, value stack limit),
 * so it must run inside a duk_safe_call; the stack is then unwound by
 * Duktape as usual. s is only read; nothing is kept after the call. */
int	json_fast_push(duk_context *ctx, const char *s, size_t len);

#endif
