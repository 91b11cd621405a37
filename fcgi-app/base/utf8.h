/*
 * utf8.h - UTF-8 validation and repair (RFC 3629) for bytes from outside.
 * Duktape stores strings as (extended) UTF-8 and reads a string whose first
 * byte is 0x80-0xBF or 0xFF as a symbol, some of them the engine's own
 * hidden properties: no byte from a request, the store or the network may
 * reach a heap unless it is valid UTF-8 (sandbox_push_text is the door).
 */
#ifndef FNRUN_UTF8_H
#define FNRUN_UTF8_H

#include <stddef.h>

/* The length of the valid UTF-8 sequence at s[0..n) (1 to 4), or 0 when the
 * bytes there are not one: overlong forms, surrogates (U+D800-U+DFFF) and
 * code points above U+10FFFF are invalid. n must be at least 1. */
size_t	utf8_seq(const unsigned char *s, size_t n);

/* The length of the longest prefix of s[0..len) that is valid UTF-8;
 * len when all of it is. */
size_t	utf8_valid_prefix(const char *s, size_t len);

/* Repair: every byte that does not start a valid sequence becomes U+FFFD
 * (EF BF BD), so the result is valid UTF-8. utf8_repaired_len is the
 * length of the result; utf8_repair writes it to out, which has room for
 * utf8_repaired_len(s, len) bytes (not NUL-terminated). */
size_t	utf8_repaired_len(const char *s, size_t len);
void	utf8_repair(char *out, const char *s, size_t len);

#endif
