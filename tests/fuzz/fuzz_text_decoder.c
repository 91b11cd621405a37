/*
 * fuzz_text_decoder.c - the engine's TextDecoder and TextEncoder (WHATWG
 * Encoding, Duktape's own), which the crypto family relies on for bytes a
 * function holds (README "WebCrypto, TextEncoder and TextDecoder"): the
 * strict decoder it uses instead of sandbox_push_text.
 *
 * Checked on any bytes, in a real heap: decoding (ignoreBOM) then
 * encoding gives exactly the UTF-8 of what a reference decoder written
 * from the WHATWG Encoding standard's "UTF-8 decoder" makes of them (one
 * U+FFFD per maximal invalid subpart); fatal decoding throws exactly when
 * the bytes are not valid UTF-8 (utf8_valid_prefix), and valid bytes come
 * back unchanged; the decoded string never starts with a byte Duktape
 * reads as a symbol (0x80-0xBF, 0xFF).
 * Corpus: tests/fuzz/corpus/text_decoder/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox_internal.h"
#include "utf8.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

static const char ROUND_TRIP[] =
    "(function (bytes) {\n"
    "  var s = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes),"
    " ok = true;\n"
    "  try { new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })"
    ".decode(bytes); } catch (e) { ok = false; }\n"
    "  return [s, ok, new TextEncoder().encode(s)];\n"
    "})";

static size_t
put_utf8(uint8_t *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (uint8_t)(0xc0 | cp >> 6);
		o[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (uint8_t)(0xe0 | cp >> 12);
		o[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (uint8_t)(0xf0 | cp >> 18);
	o[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

/* WHATWG Encoding §8.1.1 "UTF-8 decoder", step for step, its code points
 * written to out as UTF-8 (at most 3 bytes per input byte, plus 3).
 * Returns the length written. */
static size_t
reference_decode(const uint8_t *s, size_t n, uint8_t *out)
{
	uint32_t cp = 0;
	unsigned needed = 0, seen = 0;
	uint8_t lower = 0x80, upper = 0xbf, b;
	size_t i = 0, o = 0;

	while (i < n) {
		b = s[i++];
		if (needed == 0) {
			if (b <= 0x7f)
				o += put_utf8(out + o, b);
			else if (b >= 0xc2 && b <= 0xdf) {
				needed = 1;
				cp = b & 0x1f;
			} else if (b >= 0xe0 && b <= 0xef) {
				if (b == 0xe0)
					lower = 0xa0;
				if (b == 0xed)
					upper = 0x9f;
				needed = 2;
				cp = b & 0xf;
			} else if (b >= 0xf0 && b <= 0xf4) {
				if (b == 0xf0)
					lower = 0x90;
				if (b == 0xf4)
					upper = 0x8f;
				needed = 3;
				cp = b & 0x7;
			} else
				o += put_utf8(out + o, 0xfffd);
			continue;
		}
		if (b < lower || b > upper) {
			cp = 0;
			needed = seen = 0;
			lower = 0x80;
			upper = 0xbf;
			i--;	/* the byte is read again */
			o += put_utf8(out + o, 0xfffd);
			continue;
		}
		lower = 0x80;
		upper = 0xbf;
		cp = cp << 6 | (b & 0x3f);
		if (++seen == needed) {
			o += put_utf8(out + o, cp);
			cp = 0;
			needed = seen = 0;
		}
	}
	if (needed != 0)
		o += put_utf8(out + o, 0xfffd);
	return o;
}

struct run {
	const uint8_t	*data;
	size_t		 size;
};

/* [ fn ] -> [ fn result ]: fn stays for the next input. */
static duk_ret_t
round_trip_safe(duk_context *ctx, void *udata)
{
	struct run *r = udata;
	void *p = duk_push_fixed_buffer(ctx, r->size);

	if (r->size > 0)
		memcpy(p, r->data, r->size);
	duk_push_buffer_object(ctx, -1, 0, r->size, DUK_BUFOBJ_UINT8ARRAY);
	duk_remove(ctx, -2);
	duk_dup(ctx, -2);
	duk_swap(ctx, -1, -2);
	duk_call(ctx, 1);
	return 1;
}

static struct sandbox *sb;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sandbox_limits lim = { .memory_bytes = 64 << 20,
	    .timeout_ms = 1000 };
	struct run r = { data, size };
	duk_context *ctx;
	uint8_t *want;
	const uint8_t *got, *s;
	duk_size_t got_len, s_len;
	size_t want_len;
	int ok;

	if (sb == NULL) {
		if ((sb = sandbox_new(&lim)) == NULL)
			abort();
		/* Our own source, compiled once, kept at the stack's bottom. */
		duk_eval_string(sandbox_context(sb), ROUND_TRIP);
	}
	ctx = sandbox_context(sb);
	CHECK(duk_safe_call(ctx, round_trip_safe, &r, 0, 1) ==
	    DUK_EXEC_SUCCESS);
	duk_get_prop_index(ctx, -1, 0);
	s = (const uint8_t *)duk_require_lstring(ctx, -1, &s_len);
	CHECK(s_len == 0 || ((s[0] & 0xc0) != 0x80 && s[0] != 0xff));
	duk_get_prop_index(ctx, -2, 1);
	ok = duk_require_boolean(ctx, -1);
	duk_get_prop_index(ctx, -3, 2);
	got = duk_require_buffer_data(ctx, -1, &got_len);

	CHECK(ok == (utf8_valid_prefix((const char *)data, size) == size));
	if ((want = malloc(3 * size + 3)) == NULL)
		abort();
	want_len = reference_decode(data, size, want);
	/* (An empty buffer's data may be NULL: no memcmp of 0 bytes.) */
	CHECK(got_len == want_len &&
	    (want_len == 0 || memcmp(got, want, want_len) == 0));
	if (ok)
		CHECK(got_len == size &&
		    (size == 0 || memcmp(got, data, size) == 0));
	free(want);
	duk_pop_n(ctx, 4);
	return 0;
}
