/*
 * fuzz_store_format.c - the store's on-disk text formats
 * (fcgi-app/store/store_format.c): every input is given, as the whole
 * file, to the "meta" parser, the "active" parser, a project's ".limits"
 * parser and the version directory name parser. The bytes sit in a buffer
 * of exactly their length with no NUL after it, so a read past the end is
 * an ASan report. What a parser
 * accepts must be canonical: a version reads back as exactly its decimal
 * text, a meta's hashes are lower-case hex of the right length.
 * Corpus: tests/fuzz/corpus/store_format/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_format.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

static int
is_hex(const char *s, size_t n)
{
	return strspn(s, "0123456789abcdef") == n && s[n] == '\0';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_version	 v;
	struct store_project_limits l;
	char			*buf, text[32];
	unsigned		 n;
	int			 len;

	if ((buf = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(buf, data, size);

	memset(&v, 0xa5, sizeof(v));
	v.version = 7;
	if (store_format_meta(buf, size, &v) == 0) {
		CHECK(size > 0 && buf[size - 1] == '\n');
		CHECK(is_hex(v.sha256, 64));
		/* uid is optional: untouched (here 0xa5) when absent. */
		CHECK((unsigned char)v.uid[0] == 0xa5 || is_hex(v.uid, 32));
		/* Optional too: run_sha256 (lowered versions), language. */
		CHECK((unsigned char)v.run_sha256[0] == 0xa5 ||
		    is_hex(v.run_sha256, 64));
		CHECK(v.typescript == 0xa5a5a5a5u || v.typescript <= 1);
		CHECK(v.version == 7);
		CHECK(v.created_at >= 0);
	}

	if (store_format_active(buf, size, &n) == 0) {
		len = snprintf(text, sizeof(text), "%u\n", n);
		CHECK(n >= 1 && (size_t)len == size &&
		    memcmp(text, buf, size) == 0);
	}

	memset(&l, 0xa5, sizeof(l));
	if (store_format_limits(buf, size, &l) == 0) {
		CHECK(size == 0 || buf[size - 1] == '\n');
		/* Untouched (0xa5...) when absent, else a real limit. */
		CHECK(l.concurrency >= 1);
	}

	if (store_format_version(buf, size, &n) == 0) {
		len = snprintf(text, sizeof(text), "%u", n);
		CHECK(n >= 1 && (size_t)len == size &&
		    memcmp(text, buf, size) == 0);
	}
	free(buf);
	return 0;
}
