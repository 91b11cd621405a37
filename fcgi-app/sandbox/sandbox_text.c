/*
 * sandbox_text.c - the one door by which bytes from outside (a request,
 * the store, the network) become JavaScript strings. Duktape reads a string
 * whose first byte is 0x80-0xBF or 0xFF as a symbol, and 0x82/0xFF ones as
 * the engine's hidden properties (_Varmap, _Pc2line, ...), which it then
 * trusts: a request byte must never become one. Whatever is not valid
 * UTF-8 is repaired here (U+FFFD), inside the heap, before it is a string.
 * No other file pushes outside bytes with duk_push_lstring/duk_push_string.
 */
#include <string.h>

#include "sandbox_internal.h"
#include "utf8.h"

void
sandbox_push_text(duk_context *ctx, const char *s, size_t len)
{
	void *out;

	if (s == NULL)
		len = 0;
	if (utf8_valid_prefix(s, len) == len) {
		duk_push_lstring(ctx, len > 0 ? s : "", len);
		return;
	}
	/* The copy lives in the heap (counted against its cap, collected if
	 * anything throws), then becomes the string. */
	out = duk_push_fixed_buffer(ctx, utf8_repaired_len(s, len));
	utf8_repair(out, s, len);
	(void)duk_buffer_to_string(ctx, -1);
}

void
sandbox_push_ctext(duk_context *ctx, const char *s)
{
	sandbox_push_text(ctx, s, s != NULL ? strlen(s) : 0);
}
