/*
 * utf8.c - UTF-8 validation and repair (RFC 3629 §4's well-formed byte
 * sequences). Pure functions over bytes; they allocate nothing.
 */
#include <stdint.h>
#include <string.h>

#include "utf8.h"

size_t
utf8_seq(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

size_t
utf8_valid_prefix(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;
	uint64_t w;

	while (i < len) {
		/* Request bodies are mostly ASCII: eight bytes at a time. */
		if (len - i >= 8) {
			memcpy(&w, p + i, 8);
			if ((w & 0x8080808080808080ULL) == 0) {
				i += 8;
				continue;
			}
		}
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((n = utf8_seq(p + i, len - i)) == 0)
			return i;
		i += n;
	}
	return len;
}

size_t
utf8_repaired_len(const char *s, size_t len)
{
	size_t i, n, out = 0;

	for (i = 0; i < len; i += n) {
		n = utf8_valid_prefix(s + i, len - i);
		out += n;
		if (i + n < len) {
			out += 3;
			n++;
		}
	}
	return out;
}

void
utf8_repair(char *out, const char *s, size_t len)
{
	size_t i, n, o = 0;

	for (i = 0; i < len; i += n) {
		n = utf8_valid_prefix(s + i, len - i);
		memcpy(out + o, s + i, n);
		o += n;
		if (i + n < len) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			n++;
		}
	}
}
