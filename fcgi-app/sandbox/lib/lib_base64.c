/*
 * lib_base64.c - atob and btoa (HTML Standard, "Base64 utility methods")
 * in a heap. btoa takes a string of code units up to U+00FF; atob follows
 * the Infra Standard's forgiving-base64 decode (ASCII whitespace ignored,
 * padding optional, leftover bits ignored). The base64 itself is
 * libcrypto's (EVP_EncodeBlock, EVP_DecodeBlock); every scratch byte lives
 * in the heap, so a throw leaks nothing and the heap's cap counts it.
 */
#include <openssl/evp.h>
#include <stdint.h>
#include <string.h>

#include "lib.h"
#include "sandbox_internal.h"

/* Throws the error the HTML Standard names (a DOMException there; an
 * Error with that name and code here). */
static duk_ret_t
throw_invalid_character(duk_context *ctx, const char *msg)
{
	duk_push_error_object(ctx, DUK_ERR_ERROR, "%s", msg);
	duk_push_string(ctx, "InvalidCharacterError");
	duk_put_prop_string(ctx, -2, "name");
	duk_push_int(ctx, 5);
	duk_put_prop_string(ctx, -2, "code");
	return duk_throw(ctx);
}

/* btoa(data): data's code units (each at most U+00FF) as bytes, in
 * base64. */
static duk_ret_t
native_btoa(duk_context *ctx)
{
	const unsigned char *s;
	unsigned char *bytes, *out;
	duk_size_t len, i, n = 0;

	s = (const unsigned char *)duk_to_lstring(ctx, 0, &len);
	bytes = duk_push_fixed_buffer(ctx, len > 0 ? len : 1);
	/* The engine keeps U+0080-U+00FF as two bytes, C2 or C3 and a
	 * continuation; anything longer is above U+00FF. */
	for (i = 0; i < len; i++) {
		if (s[i] < 0x80)
			bytes[n++] = s[i];
		else if ((s[i] == 0xc2 || s[i] == 0xc3) && i + 1 < len &&
		    (s[i + 1] & 0xc0) == 0x80) {
			bytes[n++] = (unsigned char)((s[i] & 0x1f) << 6 |
			    (s[i + 1] & 0x3f));
			i++;
		} else
			return throw_invalid_character(ctx, "btoa: the string "
			    "has a character outside Latin-1 (above U+00FF)");
	}
	if (n > ((duk_size_t)INT32_MAX / 4) * 3)
		return duk_error(ctx, DUK_ERR_RANGE_ERROR, "btoa: too long");
	out = duk_push_fixed_buffer(ctx, (n + 2) / 3 * 4 + 1);
	n = (duk_size_t)EVP_EncodeBlock(out, bytes, (int)n);
	duk_push_lstring(ctx, (const char *)out, n);
	return 1;
}

static int
is_ascii_whitespace(unsigned char c)
{
	return c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' ';
}

static int
is_base64(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* atob(data): forgiving-base64 decode; each byte becomes one code unit
 * U+0000-U+00FF. */
static duk_ret_t
native_atob(duk_context *ctx)
{
	const unsigned char *s;
	unsigned char *in, *bytes, *text;
	duk_size_t len, i, n = 0, pad, out_len, t = 0;

	s = (const unsigned char *)duk_to_lstring(ctx, 0, &len);
	in = duk_push_fixed_buffer(ctx, len + 4);
	for (i = 0; i < len; i++)
		if (!is_ascii_whitespace(s[i]))
			in[n++] = s[i];
	if (n % 4 == 0 && n > 0 && in[n - 1] == '=') {
		n--;
		if (in[n - 1] == '=')
			n--;
	}
	if (n % 4 == 1)
		return throw_invalid_character(ctx, "atob: the string is not "
		    "correctly encoded (its length)");
	for (i = 0; i < n; i++)
		if (!is_base64(in[i]))
			return throw_invalid_character(ctx, "atob: the string is "
			    "not correctly encoded (a character outside base64)");
	if (n > INT32_MAX)
		return duk_error(ctx, DUK_ERR_RANGE_ERROR, "atob: too long");
	/* EVP_DecodeBlock wants whole quanta: pad, and drop what the padding
	 * decoded to. */
	pad = (4 - n % 4) % 4;
	memset(in + n, '=', pad);
	bytes = duk_push_fixed_buffer(ctx, (n + pad) / 4 * 3 + 1);
	if (EVP_DecodeBlock(bytes, in, (int)(n + pad)) < 0)
		return throw_invalid_character(ctx, "atob: the string is not "
		    "correctly encoded");
	out_len = (n + pad) / 4 * 3 - pad;
	text = duk_push_fixed_buffer(ctx, out_len * 2 + 1);
	for (i = 0; i < out_len; i++) {
		if (bytes[i] < 0x80)
			text[t++] = bytes[i];
		else {
			text[t++] = (unsigned char)(0xc0 | bytes[i] >> 6);
			text[t++] = (unsigned char)(0x80 | (bytes[i] & 0x3f));
		}
	}
	sandbox_push_text(ctx, (const char *)text, t);
	return 1;
}

void
lib_base64_load(duk_context *ctx)
{
	duk_push_c_function(ctx, native_atob, 1);
	lib_define_global(ctx, "atob");
	duk_push_c_function(ctx, native_btoa, 1);
	lib_define_global(ctx, "btoa");
}
