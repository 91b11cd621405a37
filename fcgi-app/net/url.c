/*
 * url.c - WHATWG URLs on top of libcurl's URL API (url.h). curl parses:
 * scheme, authority, ports (range, leading zeros), IPv4 forms (0x7f.1),
 * IPv6 syntax, dot segments, and relative references against a base.
 * This file only does what the URL Standard asks and curl does otherwise
 * (README "The JavaScript", URL): before curl, the input becomes a
 * sequence of scalar values (CESU-8 surrogates, invalid bytes -> U+FFFD),
 * leading and trailing C0/space go, tabs and newlines go, '\' is '/' in
 * special URLs, "https:host" gets its slashes, each component is
 * percent-encoded with its own encode set, %2e dot segments are dots, and
 * the fragment is kept apart (curl's own resolution of "" and "#f" drops
 * the base's last segment and query); after curl, hosts are lower case
 * (Punycode by curl's own IDN conversion, CURLU_PUNYCODE: libidn2's UTS
 * #46 non-transitional mapping, as the Standard),
 * IPv6 is written the Standard's way, and default ports go.
 * Never hand-parses what curl parses; never does I/O.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"
#include "utf8.h"

/* The URL Standard's percent-encode sets (§1.3), each a superset of the
 * one before it; bytes >= 0x7F are in all of them. */
enum encode_set {
	SET_FRAGMENT,
	SET_QUERY,
	SET_SPECIAL_QUERY,
	SET_PATH,
	SET_USERINFO
};

static int
in_set(enum encode_set set, unsigned char c)
{
	if (c < 0x20 || c >= 0x7f)
		return 1;
	switch (set) {
	case SET_USERINFO:
		if (strchr("/:;=@[\\]^|", c) != NULL)
			return 1;
		/* FALLTHROUGH */
	case SET_PATH:
		if (strchr("?`{}", c) != NULL)
			return 1;
		/* FALLTHROUGH */
	case SET_SPECIAL_QUERY:
		if (set == SET_SPECIAL_QUERY && c == '\'')
			return 1;
		/* FALLTHROUGH */
	case SET_QUERY:
		if (c == '#')
			return 1;
		return c != 0 && strchr(" \"<>", c) != NULL;
	case SET_FRAGMENT:
		return c != 0 && strchr(" \"<>`", c) != NULL;
	}
	return 1;
}

static void
put_pct(struct buf *out, unsigned char c)
{
	static const char hex[] = "0123456789ABCDEF";
	char e[3] = { '%', hex[c >> 4], hex[c & 15] };

	buf_append(out, e, 3);
}

static void
encode(struct buf *out, const char *s, size_t len, enum encode_set set)
{
	size_t i, run;

	for (i = 0; i < len; i += run) {
		for (run = 0; i + run < len &&
		    !in_set(set, (unsigned char)s[i + run]); run++)
			;
		buf_append(out, s + i, run);
		if (i + run < len)
			put_pct(out, (unsigned char)s[i + run++]);
	}
}

/* Appends s[0..len) as UTF-8 of scalar values: a CESU-8 surrogate pair
 * (how the engine keeps "\ud83d\ude00") becomes its 4-byte form, a lone
 * surrogate one U+FFFD, any other invalid byte U+FFFD (WebIDL's
 * USVString). */
static void
to_scalars(struct buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;
	unsigned hi, lo, cp;
	unsigned char u[4];

	while (i < len) {
		if ((n = utf8_seq(p + i, len - i)) > 0) {
			buf_append(out, p + i, n);
			i += n;
			continue;
		}
		if (len - i >= 3 && p[i] == 0xed && p[i + 1] >= 0xa0 &&
		    (p[i + 2] & 0xc0) == 0x80) {
			if (p[i + 1] < 0xb0 && len - i >= 6 && p[i + 3] == 0xed &&
			    p[i + 4] >= 0xb0 && p[i + 4] <= 0xbf &&
			    (p[i + 5] & 0xc0) == 0x80) {
				hi = ((p[i + 1] & 0x0fu) << 6) | (p[i + 2] & 0x3fu);
				lo = ((p[i + 4] & 0x0fu) << 6) | (p[i + 5] & 0x3fu);
				cp = 0x10000 + (hi << 10) + lo;
				u[0] = (unsigned char)(0xf0 | (cp >> 18));
				u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
				u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
				u[3] = (unsigned char)(0x80 | (cp & 0x3f));
				buf_append(out, u, 4);
				i += 6;
				continue;
			}
			i += 3;
		} else
			i++;
		buf_append(out, "\xef\xbf\xbd", 3);
	}
}

/* The URL Standard's first steps: scalar values, no leading or trailing
 * C0 control or space, no ASCII tab or newline anywhere. */
static void
clean(struct buf *out, const char *s, size_t len)
{
	struct buf tmp = { 0 };
	size_t a = 0, z, i;

	to_scalars(&tmp, s, len);
	z = tmp.len;
	while (a < z && (unsigned char)tmp.data[a] <= 0x20)
		a++;
	while (z > a && (unsigned char)tmp.data[z - 1] <= 0x20)
		z--;
	buf_append(out, "", 0);
	for (i = a; i < z; i++)
		if (tmp.data[i] != '\t' && tmp.data[i] != '\n' &&
		    tmp.data[i] != '\r')
			buf_append(out, tmp.data + i, 1);
	buf_free(&tmp);
}

int
url_scheme_special(const char *scheme)
{
	static const char *const special[] = { "ftp", "file", "http",
	    "https", "ws", "wss" };
	size_t i;

	for (i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		if (strcmp(scheme, special[i]) == 0)
			return 1;
	return 0;
}

static const char *
default_port(const char *scheme)
{
	if (strcmp(scheme, "http") == 0 || strcmp(scheme, "ws") == 0)
		return "80";
	if (strcmp(scheme, "https") == 0 || strcmp(scheme, "wss") == 0)
		return "443";
	if (strcmp(scheme, "ftp") == 0)
		return "21";
	return NULL;
}

/* RFC 3986 §3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ). */
static int
scheme_char(char c, int first)
{
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
		return 1;
	return !first && ((c >= '0' && c <= '9') || c == '+' || c == '-' ||
	    c == '.');
}

/* The length of s's scheme (before its ':'), or 0 when it has none. */
static size_t
scheme_len(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len && s[i] != ':'; i++)
		if (!scheme_char(s[i], i == 0))
			return 0;
	return i < len ? i : 0;
}

static int
is_slash(char c, int special)
{
	return c == '/' || (special && c == '\\');
}

/* Whether seg[0..n) is ".", "..", or one of them with %2e for a dot. */
static int
dot_segment(const char *seg, size_t n)
{
	size_t i = 0, dots = 0;

	while (i < n) {
		if (seg[i] == '.')
			i++;
		else if (n - i >= 3 && seg[i] == '%' && seg[i + 1] == '2' &&
		    (seg[i + 2] | 0x20) == 'e')
			i += 3;
		else
			return 0;
		dots++;
	}
	return dots == 1 || dots == 2 ? (int)dots : 0;
}

static void
encode_path(struct buf *out, const char *s, size_t len, int special)
{
	size_t i = 0, n;
	int dots;

	while (i < len) {
		if (is_slash(s[i], special)) {
			buf_append(out, "/", 1);
			i++;
			continue;
		}
		for (n = 0; i + n < len && !is_slash(s[i + n], special); n++)
			;
		if ((dots = dot_segment(s + i, n)) > 0)
			buf_append(out, "..", (size_t)dots);
		else
			encode(out, s + i, n, SET_PATH);
		i += n;
	}
}

/* Appends the authority s[0..len) with its userinfo percent-encoded
 * (everything before the last '@'; its first ':' separates the password)
 * and its host and port as they are, for curl to judge. */
static void
encode_authority(struct buf *out, const char *s, size_t len)
{
	const char *at = NULL, *colon;
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] == '@')
			at = s + i;
	if (at != NULL) {
		colon = memchr(s, ':', (size_t)(at - s));
		encode(out, s, (size_t)((colon != NULL ? colon : at) - s),
		    SET_USERINFO);
		if (colon != NULL) {
			buf_append(out, ":", 1);
			encode(out, colon + 1, (size_t)(at - colon - 1),
			    SET_USERINFO);
		}
		buf_append(out, "@", 1);
		len -= (size_t)(at + 1 - s);
		s = at + 1;
	}
	buf_append(out, s, len);
}

static void
put_lower(struct buf *out, const char *s, size_t len)
{
	size_t i;
	char c;

	for (i = 0; i < len; i++) {
		c = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] | 0x20) : s[i];
		buf_append(out, &c, 1);
	}
}

/* Rewrites the cleaned input s[0..len) for curl: the scheme lower case,
 * the components percent-encoded, without its fragment, which goes to
 * *frag (NULL: none). base_scheme: the base's, or NULL. Returns 1 when
 * the input has a scheme of its own, 0 when it is relative, -1 when it is
 * a URL curl cannot represent. */
static int
rewrite(struct buf *out, const char *s, size_t len, const char *base_scheme,
    char **frag)
{
	struct buf f = { 0 };
	size_t sl = scheme_len(s, len), end;
	const char *hash;
	char scheme[8] = "";
	int special, slashes, own = 0, authority = 0, file;

	*frag = NULL;
	if ((hash = memchr(s, '#', len)) != NULL) {
		encode(&f, hash + 1, len - (size_t)(hash + 1 - s),
		    SET_FRAGMENT);
		buf_append(&f, "", 0);
		*frag = f.data;
		len = (size_t)(hash - s);
	}
	buf_append(out, "", 0);
	if (sl > 0) {
		if (sl < sizeof(scheme)) {
			memcpy(scheme, s, sl);
			for (end = 0; end < sl; end++)
				if (scheme[end] >= 'A' && scheme[end] <= 'Z')
					scheme[end] |= 0x20;
		}
		special = url_scheme_special(scheme);
		slashes = len > sl + 1 && is_slash(s[sl + 1], special);
		/* "https:rel" against an https: base is relative. */
		if (special && !slashes && base_scheme != NULL &&
		    strcmp(base_scheme, scheme) == 0) {
			s += sl + 1;
			len -= sl + 1;
		} else {
			put_lower(out, s, sl + 1);
			s += sl + 1;
			len -= sl + 1;
			own = 1;
			/* Any number of slashes, even none, start the
			 * authority of a special URL ("https:x.com",
			 * "https:\\\\x.com"). Other schemes need "//": a URL
			 * with an opaque path ("mailto:a@b") is refused. */
			if (special && strcmp(scheme, "file") != 0) {
				buf_append(out, "//", 2);
				authority = 1;
			} else if (!(len >= 2 && is_slash(s[0], special) &&
			    is_slash(s[1], special)))
				return -1;
		}
	} else
		special = base_scheme != NULL && url_scheme_special(base_scheme);
	file = strcmp(own ? scheme : base_scheme != NULL ? base_scheme : "",
	    "file") == 0;
	if (!authority && len >= 2 && is_slash(s[0], special) &&
	    is_slash(s[1], special)) {
		buf_append(out, "//", 2);
		s += 2;
		len -= 2;
		authority = 1;
	}
	if (authority) {
		while (special && !file && len > 0 && is_slash(s[0], special)) {
			s++;
			len--;
		}
		for (end = 0; end < len && !is_slash(s[end], special) &&
		    s[end] != '?'; end++)
			;
		/* "foo:///x" has an empty host; curl would take x for it. */
		if (end == 0 && !special)
			return -1;
		encode_authority(out, s, end);
		s += end;
		len -= end;
	}
	for (end = 0; end < len && s[end] != '?'; end++)
		;
	/* A relative path whose first segment has a ':' ("a:b", "-tp://x")
	 * is a path; curl would read a scheme in it. */
	if (!own && !authority && end > 0 && !is_slash(s[0], special) &&
	    memchr(s, ':', end) != NULL)
		buf_append(out, "./", 2);
	encode_path(out, s, end, special);
	if (end < len) {
		buf_append(out, "?", 1);
		encode(out, s + end + 1, len - end - 1,
		    special ? SET_SPECIAL_QUERY : SET_QUERY);
	}
	return own;
}

/* Appends the IPv6 address a in the Standard's form (§3.6): lower-case
 * hex pieces, the first longest run of two or more zero pieces as "::". */
static void
ipv6_serialize(struct buf *out, const unsigned char a[16])
{
	unsigned piece[8];
	int i, best = -1, best_n = 1, run;
	static const char hex[] = "0123456789abcdef";
	char t[5];
	int n, shift;

	for (i = 0; i < 8; i++)
		piece[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
	for (i = 0; i < 8; i += run > 0 ? run : 1) {
		for (run = 0; i + run < 8 && piece[i + run] == 0; run++)
			;
		if (run > best_n) {
			best = i;
			best_n = run;
		}
	}
	buf_append(out, "[", 1);
	for (i = 0; i < 8; i++) {
		if (i == best) {
			buf_append(out, i == 0 ? "::" : ":", i == 0 ? 2 : 1);
			i += best_n - 1;
			continue;
		}
		for (n = 0, shift = 12; shift >= 0; shift -= 4)
			if (n > 0 || (piece[i] >> shift) != 0 || shift == 0)
				t[n++] = hex[(piece[i] >> shift) & 15];
		buf_append(out, t, (size_t)n);
		if (i < 7)
			buf_append(out, ":", 1);
	}
	buf_append(out, "]", 1);
}

/* UTF-8 host h in Punycode (curl_free it), or NULL. curl converts with
 * libidn2 (IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL), which reads its input
 * in the locale's charset: the conversion runs under C.UTF-8 for this
 * thread only, whatever the process's locale is. */
static char *
to_punycode(const char *h)
{
	static locale_t utf8;
	struct buf b = { 0 };
	locale_t old;
	CURLU *u;
	char *ace = NULL;
	size_t i;

	/* Only a host goes in: nothing curl would read as another part. */
	for (i = 0; h[i] != '\0'; i++)
		if ((unsigned char)h[i] <= 0x20 ||
		    strchr("#%/:<>?@[\\]^|", h[i]) != NULL)
			return NULL;
	if (utf8 == (locale_t)0 &&
	    (utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0)) ==
	    (locale_t)0)
		return NULL;
	if ((u = curl_url()) == NULL)
		return NULL;
	buf_append(&b, "http://", 7);
	buf_append(&b, h, strlen(h));
	buf_append(&b, "/", 1);
	if (curl_url_set(u, CURLUPART_URL, b.data, 0) == CURLUE_OK) {
		old = uselocale(utf8);
		if (curl_url_get(u, CURLUPART_HOST, &ace, CURLU_PUNYCODE) !=
		    CURLUE_OK) {
			/* 7.88 leaves its copy of the host there when the
			 * conversion fails. */
			curl_free(ace);
			ace = NULL;
		}
		uselocale(old);
	}
	buf_free(&b);
	curl_url_cleanup(u);
	return ace;
}

/* curl's host as the Standard writes it, malloc'd; NULL when it is not a
 * valid host. */
static char *
normalize_host(const char *h)
{
	struct buf b = { 0 };
	unsigned char a[16];
	char *v6, *ace = NULL;
	size_t i, n = strlen(h);
	int ascii = 1;

	if (h[0] == '[') {
		if (n < 3 || h[n - 1] != ']' ||
		    (v6 = buf_memdup(h + 1, n - 2)) == NULL)
			return NULL;
		i = inet_pton(AF_INET6, v6, a) == 1;
		free(v6);
		if (!i)
			return NULL;
		ipv6_serialize(&b, a);
		return b.data;
	}
	for (i = 0; i < n; i++)
		if ((unsigned char)h[i] >= 0x80)
			ascii = 0;
	if (!ascii) {
		if (utf8_valid_prefix(h, n) != n || (ace = to_punycode(h)) ==
		    NULL)
			return NULL;
		h = ace;
		n = strlen(h);
	}
	buf_append(&b, h, n);
	curl_free(ace);
	for (i = 0; i < b.len; i++) {
		/* curl has decoded %XX: the Standard's forbidden domain code
		 * points (§3.2) may be there now. */
		if ((unsigned char)b.data[i] <= 0x20 ||
		    (unsigned char)b.data[i] >= 0x7f ||
		    strchr("#%/:<>?@[\\]^|", b.data[i]) != NULL) {
			buf_free(&b);
			return NULL;
		}
		if (b.data[i] >= 'A' && b.data[i] <= 'Z')
			b.data[i] |= 0x20;
	}
	return b.data;
}

/* A malloc'd copy of curl's part, "" when it has none (want_null: NULL),
 * or NULL with *rc set on another failure. */
static char *
part(CURLU *h, CURLUPart what, int want_null, CURLUcode *rc)
{
	char *v = NULL, *copy;
	CURLUcode r = curl_url_get(h, what, &v, 0);

	if (r != CURLUE_OK) {
		if (r == CURLUE_NO_USER || r == CURLUE_NO_PASSWORD ||
		    r == CURLUE_NO_PORT || r == CURLUE_NO_QUERY ||
		    r == CURLUE_NO_FRAGMENT || r == CURLUE_NO_HOST ||
		    r == CURLUE_NO_ZONEID)
			return want_null ? NULL : buf_memdup("", 0);
		*rc = r;
		return NULL;
	}
	copy = buf_memdup(v, strlen(v));
	curl_free(v);
	return copy;
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? buf_memdup(s, strlen(s)) : NULL;
}

static void
copy_url(struct url *dst, const struct url *src)
{
	dst->scheme = dup_or_null(src->scheme);
	dst->username = dup_or_null(src->username);
	dst->password = dup_or_null(src->password);
	dst->host = dup_or_null(src->host);
	dst->port = dup_or_null(src->port);
	dst->path = dup_or_null(src->path);
	dst->query = dup_or_null(src->query);
}

/* Fills u from curl's handle. Returns 0, or -1 with *why. */
static int
from_curl(struct url *u, CURLU *h, const char **why)
{
	CURLUcode rc = CURLUE_OK;
	char *zone = NULL, *host = NULL;
	const char *dp;
	size_t i;
	int ret = -1;

	u->scheme = part(h, CURLUPART_SCHEME, 0, &rc);
	u->username = part(h, CURLUPART_USER, 0, &rc);
	u->password = part(h, CURLUPART_PASSWORD, 0, &rc);
	host = part(h, CURLUPART_HOST, 0, &rc);
	zone = part(h, CURLUPART_ZONEID, 1, &rc);
	u->port = part(h, CURLUPART_PORT, 0, &rc);
	u->path = part(h, CURLUPART_PATH, 0, &rc);
	u->query = part(h, CURLUPART_QUERY, 1, &rc);
	if (rc != CURLUE_OK || u->scheme == NULL || u->username == NULL ||
	    u->password == NULL || host == NULL || u->port == NULL ||
	    u->path == NULL) {
		*why = rc != CURLUE_OK ? curl_url_strerror(rc) : "out of memory";
		goto out;
	}
	/* curl takes more for a scheme than the Standard ("-tp:"). */
	for (i = 0; u->scheme[i] != '\0'; i++)
		if (!scheme_char(u->scheme[i], i == 0))
			break;
	if (i == 0 || u->scheme[i] != '\0') {
		*why = "Bad scheme";
		goto out;
	}
	if (zone != NULL) {
		*why = "an IPv6 zone identifier is not part of a URL";
		goto out;
	}
	if ((u->host = normalize_host(host)) == NULL) {
		*why = "Bad hostname";
		goto out;
	}
	if (u->host[0] == '\0' && strcmp(u->scheme, "file") != 0 &&
	    url_scheme_special(u->scheme)) {
		*why = "No host part in the URL";
		goto out;
	}
	if ((dp = default_port(u->scheme)) != NULL && strcmp(dp, u->port) == 0)
		u->port[0] = '\0';
	ret = 0;
out:
	free(host);
	free(zone);
	return ret;
}

static int
parse_once(struct url *u, const char *in, size_t len, const char *base,
    size_t blen, const char **why)
{
	struct url b = { 0 };
	struct buf cleaned = { 0 }, rewritten = { 0 }, bhref = { 0 };
	CURLU *h = NULL;
	CURLUcode rc;
	char *frag = NULL;
	int own, ret = -1;

	memset(u, 0, sizeof(*u));
	*why = "Invalid URL";
	if (len > URL_MAX_BYTES || blen > URL_MAX_BYTES) {
		*why = "longer than 1 MiB";
		return -1;
	}
	if (base != NULL && url_parse(&b, base, blen, NULL, 0, why) != 0)
		return -1;
	clean(&cleaned, in, len);
	own = rewrite(&rewritten, cleaned.data, cleaned.len,
	    base != NULL ? b.scheme : NULL, &frag);
	if (own < 0) {
		*why = "a URL without an authority (scheme:path) is not "
		    "supported";
		goto out;
	}
	if (!own && base == NULL) {
		*why = "a relative URL without a base";
		goto out;
	}
	if (!own && rewritten.len == 0) {
		/* "" and "#f": the base itself, with the input's fragment. */
		copy_url(u, &b);
		u->fragment = frag;
		frag = NULL;
		ret = 0;
		goto out;
	}
	if ((h = curl_url()) == NULL)
		goto out;
	if (!own) {
		free(b.fragment);
		b.fragment = NULL;
		url_serialize(&b, &bhref);
		if ((rc = curl_url_set(h, CURLUPART_URL, bhref.data,
		    CURLU_NON_SUPPORT_SCHEME)) != CURLUE_OK) {
			*why = curl_url_strerror(rc);
			goto out;
		}
	}
	if ((rc = curl_url_set(h, CURLUPART_URL, rewritten.data,
	    CURLU_NON_SUPPORT_SCHEME)) != CURLUE_OK) {
		*why = curl_url_strerror(rc);
		goto out;
	}
	if (from_curl(u, h, why) != 0)
		goto out;
	u->fragment = frag;
	frag = NULL;
	ret = 0;
out:
	if (ret != 0)
		url_free(u);
	curl_url_cleanup(h);
	free(frag);
	url_free(&b);
	buf_free(&cleaned);
	buf_free(&rewritten);
	buf_free(&bhref);
	return ret;
}

/* Whether host could be an IPv4 address in one of its forms (0x7f.1). */
static int
ipv4_like(const char *host)
{
	return host[0] != '\0' && strspn(host, "0123456789abcdefx.") ==
	    strlen(host) && strpbrk(host, "0123456789") != NULL;
}

int
url_parse(struct url *u, const char *in, size_t len, const char *base,
    size_t blen, const char **why)
{
	struct url again;
	struct buf href = { 0 };
	int rc;

	if (parse_once(u, in, len, base, blen, why) != 0)
		return -1;
	if (!ipv4_like(u->host))
		return 0;
	/* curl reads IPv4 forms before it decodes %XX in a host, the
	 * Standard after ("http://%31%32%37.1/" is 127.0.0.1): once more,
	 * over the decoded host. */
	url_serialize(u, &href);
	rc = parse_once(&again, href.data, href.len, NULL, 0, why);
	buf_free(&href);
	url_free(u);
	if (rc != 0)
		return -1;
	*u = again;
	return 0;
}

void
url_serialize(const struct url *u, struct buf *out)
{
	buf_puts(out, u->scheme);
	buf_puts(out, "://");
	if (u->username[0] != '\0' || u->password[0] != '\0') {
		buf_puts(out, u->username);
		if (u->password[0] != '\0') {
			buf_puts(out, ":");
			buf_puts(out, u->password);
		}
		buf_puts(out, "@");
	}
	buf_puts(out, u->host);
	if (u->port[0] != '\0') {
		buf_puts(out, ":");
		buf_puts(out, u->port);
	}
	buf_puts(out, u->path);
	if (u->query != NULL) {
		buf_puts(out, "?");
		buf_puts(out, u->query);
	}
	if (u->fragment != NULL) {
		buf_puts(out, "#");
		buf_puts(out, u->fragment);
	}
}

void
url_free(struct url *u)
{
	free(u->scheme);
	free(u->username);
	free(u->password);
	free(u->host);
	free(u->port);
	free(u->path);
	free(u->query);
	free(u->fragment);
	memset(u, 0, sizeof(*u));
}

void
url_form_encode(struct buf *out, const char *s, size_t len)
{
	struct buf tmp = { 0 };
	size_t i;
	unsigned char c;

	to_scalars(&tmp, s, len);
	buf_append(out, "", 0);
	for (i = 0; i < tmp.len; i++) {
		c = (unsigned char)tmp.data[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '*' || c == '-' ||
		    c == '.' || c == '_')
			buf_append(out, &tmp.data[i], 1);
		else if (c == ' ')
			buf_append(out, "+", 1);
		else
			put_pct(out, c);
	}
	buf_free(&tmp);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

void
url_percent_decode(struct buf *out, const char *s, size_t len, int plus)
{
	size_t i;
	int hi, lo;
	char c;

	buf_append(out, "", 0);
	for (i = 0; i < len; i++) {
		c = s[i];
		if (c == '+' && plus)
			c = ' ';
		else if (c == '%' && len - i >= 3 &&
		    (hi = hexval(s[i + 1])) >= 0 && (lo = hexval(s[i + 2])) >= 0) {
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		buf_append(out, &c, 1);
	}
}
