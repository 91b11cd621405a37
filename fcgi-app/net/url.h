/*
 * url.h - URLs parsed and serialized as the WHATWG URL Standard does, for
 * the library's URL class (sandbox/lib/lib_url.c), with libcurl's URL API
 * doing the parsing; and the percent-encoding of
 * application/x-www-form-urlencoded (URLSearchParams). Pure: no I/O, no
 * heap of a function; input is untrusted bytes (tests/fuzz/fuzz_url.c).
 */
#ifndef FNRUN_URL_H
#define FNRUN_URL_H

#include <stddef.h>

#include "buf.h"

/* Longer input is refused (as Invalid URL): every step is linear, but the
 * copies live outside the function's capped heap. */
#define URL_MAX_BYTES	((size_t)1 << 20)

/* A parsed URL: malloc'd, NUL-terminated ASCII strings (non-ASCII is
 * percent-encoded, hosts are Punycode). */
struct url {
	char	*scheme;	/* lower case, without ':' */
	char	*username;	/* "" when none */
	char	*password;	/* "" when none */
	char	*host;		/* lower case; IPv6 in brackets; "" for file: */
	char	*port;		/* decimal, "" when none or the scheme's default */
	char	*path;		/* "/..." */
	char	*query;		/* without '?'; NULL when the URL has no '?' */
	char	*fragment;	/* without '#'; NULL when the URL has no '#' */
};

/* Parses in[0..len) against the URL base[0..blen) (base NULL: none).
 * Bytes that are not UTF-8 count as U+FFFD; the CESU-8 surrogates the
 * engine keeps strings in are read as the characters they encode.
 * Returns 0 and fills *u (free with url_free), or -1 with *u empty and
 * *why a static sentence. */
int	url_parse(struct url *u, const char *in, size_t len, const char *base,
	    size_t blen, const char **why);
/* Appends the URL's serialization (its href). */
void	url_serialize(const struct url *u, struct buf *out);
void	url_free(struct url *u);
/* Whether scheme is one of the URL Standard's special schemes. */
int	url_scheme_special(const char *scheme);

/* application/x-www-form-urlencoded: appends s[0..len) as UTF-8 (see
 * url_parse), every byte but ASCII alphanumerics and *-._ percent-encoded,
 * a space as '+'. */
void	url_form_encode(struct buf *out, const char *s, size_t len);
/* Appends s[0..len) with '+' as a space (when plus) and every %XX decoded;
 * the result is bytes, not necessarily UTF-8. */
void	url_percent_decode(struct buf *out, const char *s, size_t len,
	    int plus);

#endif
