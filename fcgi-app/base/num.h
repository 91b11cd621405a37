/*
 * num.h - the one parser of decimal integers from text (config values,
 * request parameters, Content-Length, store files, host:port), in the
 * manner of OpenBSD's strtonum: all or nothing, within bounds; and its
 * inverse, the one writer of an unsigned integer's decimal digits.
 */
#ifndef FNRUN_NUM_H
#define FNRUN_NUM_H

#include <stddef.h>
#include <stdint.h>

/* Parses s[0..len) as a decimal integer from min to max. Only digits; no
 * sign, space or leading zero (but "0" itself). Returns 0 with *out set,
 * or -1 (and *out untouched). */
int	num_parse(const char *s, size_t len, uint64_t min, uint64_t max,
	    uint64_t *out);

/* The same for a NUL-terminated s. */
int	num_parse_str(const char *s, uint64_t min, uint64_t max,
	    uint64_t *out);

/* The most digits num_format writes (2^64 - 1 has 20). */
#define NUM_DIGITS_MAX	20

/* Writes v's decimal digits (no NUL) into out, which has room for
 * NUM_DIGITS_MAX; returns how many. */
size_t	num_format(char *out, uint64_t v);

#endif
