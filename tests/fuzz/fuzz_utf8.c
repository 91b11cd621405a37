/*
 * fuzz_utf8.c - the UTF-8 door (fcgi-app/utf8.c, sandbox_text.c): every
 * string from outside passes utf8_valid_prefix and, where invalid,
 * utf8_repair before it may enter a heap.
 *
 * Checked on any bytes: utf8_valid_prefix agrees with a plain reference
 * decoder written from RFC 3629's table; a repair is exactly as long as
 * utf8_repaired_len says, is valid UTF-8, keeps valid input as it is, and
 * can never start with a byte Duktape reads as a symbol (0x80-0xBF,
 * 0xFF). Then the bytes go through sandbox_push_text into a real heap,
 * and the string there must be the repair, byte for byte.
 * Corpus: tests/fuzz/corpus/utf8/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox_internal.h"
#include "utf8.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

/* RFC 3629 §4: the well-formed byte sequences, table for table. */
static size_t
reference_seq(const uint8_t *s, size_t n)
{
	static const struct {
		uint8_t lo0, hi0, lo1, hi1;
		size_t len;
	} rows[] = {
		{ 0x00, 0x7f, 0, 0, 1 },
		{ 0xc2, 0xdf, 0x80, 0xbf, 2 },
		{ 0xe0, 0xe0, 0xa0, 0xbf, 3 },
		{ 0xe1, 0xec, 0x80, 0xbf, 3 },
		{ 0xed, 0xed, 0x80, 0x9f, 3 },
		{ 0xee, 0xef, 0x80, 0xbf, 3 },
		{ 0xf0, 0xf0, 0x90, 0xbf, 4 },
		{ 0xf1, 0xf3, 0x80, 0xbf, 4 },
		{ 0xf4, 0xf4, 0x80, 0x8f, 4 },
	};
	size_t r, i;

	for (r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		if (s[0] < rows[r].lo0 || s[0] > rows[r].hi0)
			continue;
		if (rows[r].len == 1)
			return 1;
		if (n < rows[r].len || s[1] < rows[r].lo1 || s[1] > rows[r].hi1)
			return 0;
		for (i = 2; i < rows[r].len; i++)
			if (s[i] < 0x80 || s[i] > 0xbf)
				return 0;
		return rows[r].len;
	}
	return 0;
}

static struct sandbox *sb;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sandbox_limits lim = { .memory_bytes = 64 << 20,
	    .timeout_ms = 1000 };
	const char *s = (const char *)data;
	size_t i, n, ref = 0, len, got_len;
	const char *got;
	char *out;

	for (i = 0; i < size; i += n) {
		if ((n = reference_seq(data + i, size - i)) == 0)
			break;
		ref += n;
	}
	CHECK(utf8_valid_prefix(s, size) == ref);

	len = utf8_repaired_len(s, size);
	CHECK(len >= size && len <= 3 * size);
	if ((out = malloc(len ? len : 1)) == NULL)
		abort();
	utf8_repair(out, s, size);
	CHECK(utf8_valid_prefix(out, len) == len);
	CHECK(len == 0 || (((unsigned char)out[0] & 0xc0) != 0x80 &&
	    (unsigned char)out[0] != 0xff));
	if (ref == size)
		CHECK(len == size && memcmp(out, s, size) == 0);

	if (sb == NULL && (sb = sandbox_new(&lim)) == NULL)
		abort();
	sandbox_push_text(sandbox_context(sb), s, size);
	got = duk_get_lstring(sandbox_context(sb), -1, &got_len);
	CHECK(got != NULL && got_len == len && memcmp(got, out, len) == 0);
	duk_pop(sandbox_context(sb));
	free(out);
	return 0;
}
