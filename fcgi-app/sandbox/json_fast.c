/*
 * json_fast.c - JSON text to a Duktape value without Duktape's parser, for
 * request payloads (issue 3: Duktape parses every decimal with bignum
 * arithmetic, most of JSON.parse's time on a typical body).
 *
 * It must never produce a value duk_json_decode would not. Whatever it is
 * not sure to reproduce bit for bit it declines: it returns 0 with nothing
 * pushed, and the caller runs Duktape's parser, which also owns every
 * error. It never runs JavaScript: properties are put on objects that have
 * no prototype yet (so no inherited setter can fire, and "__proto__" is an
 * own property, as CreateDataProperty makes it), and the intrinsic
 * prototype is attached when the container is complete.
 *
 * The reference is Duktape 2.7's JSON decoder (duk_bi_json.c) and number
 * parser (duk_numconv.c); tests/check_json_fast.c compares the two on many
 * thousands of inputs. What they do, and so what this file does:
 *  - whitespace is SP, HT, LF, CR only; a NUL byte ends the text (so
 *    one anywhere is an error);
 *  - in strings, bytes >= 0x20 other than '"' and '\' are copied verbatim,
 *    valid UTF-8 or not; escapes are the eight of RFC 8259 plus \uXXXX,
 *    each \uXXXX encoded on its own in (extended) UTF-8, so a surrogate
 *    pair becomes two 3-byte sequences;
 *  - numbers follow the JSON grammar; only the first 20 significant digits
 *    count (later ones are read as zeros), and Dragon4 rounds the exact
 *    value of those digits to 53 bits half up, with no sticky bit. That is
 *    correct rounding (strtod's) except on an exact tie (1e23,
 *    9007199254740993), which goes away from zero;
 *  - containers nest at most DUK_USE_JSON_DEC_RECLIMIT deep.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "duktape.h"
#include "json_fast.h"

#if defined(DUK_USE_JSON_DEC_RECLIMIT)
#define JF_MAX_DEPTH	DUK_USE_JSON_DEC_RECLIMIT
#else
#define JF_MAX_DEPTH	1000
#endif
#define JF_SIG_DIGITS	20	/* duk__str2num_digits_for_radix[10 - 2] */
/* Duktape throws a RangeError past an exponent of 10^7; far below that,
 * let it decide anyway. */
#define JF_MAX_EXP	100000L
#define JF_SCRATCH	1024	/* unescaped strings up to this size */
#define JF_STACK	8	/* value stack slots one nesting level uses */
#define JF_2P53		((uint64_t)1 << 53)

typedef unsigned __int128 jf_u128;

struct jf {
	duk_context		*ctx;
	const unsigned char	*p;
	const unsigned char	*end;
	int			 depth;
	void			*obj_proto;	/* the intrinsics, found lazily */
	void			*arr_proto;
	unsigned char		 scratch[JF_SCRATCH];
};

/* Bytes that end the verbatim run inside a string. */
static const unsigned char str_stop[256] = {
	[0x00 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1,
};

static const double pow10_exact[23] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static int	parse_value(struct jf *);

static void
skip_ws(struct jf *jf)
{
	const unsigned char	*p = jf->p;

	while (p < jf->end &&
	    (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	jf->p = p;
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Pushes the string s[0..n) (the bytes between the quotes) unescaped.
 * Unescaping never lengthens: a 2-byte escape gives 1 byte, \uXXXX at most
 * 3. Returns 0, or -1 with nothing pushed on a bad escape. */
static int
push_unescaped(struct jf *jf, const unsigned char *s, size_t n)
{
	duk_context	*ctx = jf->ctx;
	unsigned char	*out, *q;
	size_t		 i = 0;
	int		 big = n > sizeof(jf->scratch), k, h;
	unsigned	 cp;

	out = big ? duk_push_fixed_buffer(ctx, n) : jf->scratch;
	q = out;
	while (i < n) {
		if (s[i] != '\\') {
			*q++ = s[i++];
			continue;
		}
		/* The scan guaranteed a byte after every backslash. */
		i++;
		switch (s[i++]) {
		case '"':	*q++ = '"'; break;
		case '\\':	*q++ = '\\'; break;
		case '/':	*q++ = '/'; break;
		case 'b':	*q++ = 0x08; break;
		case 'f':	*q++ = 0x0c; break;
		case 'n':	*q++ = 0x0a; break;
		case 'r':	*q++ = 0x0d; break;
		case 't':	*q++ = 0x09; break;
		case 'u':
			if (n - i < 4)
				goto bad;
			cp = 0;
			for (k = 0; k < 4; k++) {
				if ((h = hexval(s[i++])) < 0)
					goto bad;
				cp = cp << 4 | (unsigned)h;
			}
			/* Duktape's xUTF-8: surrogates encode like any other
			 * code point (3 bytes), never combined. */
			if (cp < 0x80)
				*q++ = (unsigned char)cp;
			else if (cp < 0x800) {
				*q++ = (unsigned char)(0xc0 | cp >> 6);
				*q++ = (unsigned char)(0x80 | (cp & 0x3f));
			} else {
				*q++ = (unsigned char)(0xe0 | cp >> 12);
				*q++ = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
				*q++ = (unsigned char)(0x80 | (cp & 0x3f));
			}
			break;
		default:
			goto bad;
		}
	}
	duk_push_lstring(ctx, (const char *)out, (duk_size_t)(q - out));
	if (big)
		duk_remove(ctx, -2);
	return 0;
bad:
	if (big)
		duk_pop(ctx);
	return -1;
}

/* At the byte after the opening quote: pushes the string. */
static int
parse_string(struct jf *jf)
{
	const unsigned char	*start = jf->p, *p = jf->p, *end = jf->end;
	int			 escaped = 0;

	for (;;) {
		while (p < end && !str_stop[*p])
			p++;
		if (p == end)
			return -1;
		if (*p == '"')
			break;
		if (*p != '\\')
			return -1;	/* a control character or NUL */
		if (end - p < 2)
			return -1;
		escaped = 1;
		p += 2;
	}
	jf->p = p + 1;
	if (!escaped) {
		duk_push_lstring(jf->ctx, (const char *)start,
		    (duk_size_t)(p - start));
		return 0;
	}
	return push_unescaped(jf, start, (size_t)(p - start));
}

/* Whether D * 10^E lies exactly halfway between two doubles, where
 * Duktape's half-up rounding and strtod's half-even may differ. If so,
 * stores Duktape's choice, the neighbour of larger magnitude, in *up.
 * A tie is M * 2^k with M odd and exactly 54 bits long; the neighbour
 * above is (M + 1) * 2^k, and (M + 1) / 2 fits in 53 bits. D > 0 and
 * D < 10^20, which keeps every tie in the normal range. */
static int
tie_round_up(jf_u128 d, long e, double *up)
{
	static const uint64_t pow5[28] = {
		1ULL, 5ULL, 25ULL, 125ULL, 625ULL, 3125ULL, 15625ULL,
		78125ULL, 390625ULL, 1953125ULL, 9765625ULL, 48828125ULL,
		244140625ULL, 1220703125ULL, 6103515625ULL, 30517578125ULL,
		152587890625ULL, 762939453125ULL, 3814697265625ULL,
		19073486328125ULL, 95367431640625ULL, 476837158203125ULL,
		2384185791015625ULL, 11920928955078125ULL,
		59604644775390625ULL, 298023223876953125ULL,
		1490116119384765625ULL, 7450580596923828125ULL,
	};
	jf_u128	m = d, p5;
	int	k = 0;

	if (e >= 0) {
		/* D * 10^E = odd(D) * 5^E * 2^(twos(D) + E); 5^24 alone
		 * has 56 bits. */
		if (e > 23)
			return 0;
		for (; (m & 1) == 0; k++)
			m >>= 1;
		if (m >> 54)
			return 0;
		m *= pow5[e];
		k += (int)e;
	} else {
		/* Only a dyadic rational can be a tie: 5^-E must divide D,
		 * impossible once 5^-E > D (5^29 > 10^20). */
		if (e < -28)
			return 0;
		p5 = e == -28 ? (jf_u128)pow5[27] * 5 : pow5[-e];
		if (m % p5 != 0)
			return 0;
		m /= p5;
		for (k = (int)e; (m & 1) == 0; k++)
			m >>= 1;
	}
	if ((m >> 53) != 1)
		return 0;
	*up = ldexp((double)(uint64_t)((m + 1) >> 1), k + 1);
	return 1;
}

/* At '-' or a digit: pushes the number. */
static int
parse_number(struct jf *jf)
{
	const unsigned char	*p = jf->p, *end = jf->end;
	char			 buf[JF_SIG_DIGITS + 32], *b;
	jf_u128			 d = 0;
	long			 adj = 0, ex = 0, e;
	int			 neg = 0, eneg = 0, nd = 0, i, saved_errno;
	char			 tmp[24];
	double			 v;

	if (*p == '-') {
		neg = 1;
		p++;
	}
	if (p == end)
		return -1;
	if (*p == '0') {
		p++;
		if (p < end && *p >= '0' && *p <= '9')
			return -1;	/* leading zero */
	} else if (*p >= '1' && *p <= '9') {
		for (; p < end && *p >= '0' && *p <= '9'; p++) {
			if (nd < JF_SIG_DIGITS) {
				d = d * 10 + (unsigned)(*p - '0');
				buf[nd++] = (char)*p;
			} else
				adj++;	/* dropped, read as zero */
		}
	} else
		return -1;
	if (p < end && *p == '.') {
		p++;
		if (p == end || *p < '0' || *p > '9')
			return -1;
		for (; p < end && *p >= '0' && *p <= '9'; p++) {
			if (d == 0 && *p == '0')
				adj--;	/* leading zero, not significant */
			else if (nd < JF_SIG_DIGITS) {
				d = d * 10 + (unsigned)(*p - '0');
				buf[nd++] = (char)*p;
				adj--;
			}
		}
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		if (p == end || *p < '0' || *p > '9')
			return -1;
		for (; p < end && *p >= '0' && *p <= '9'; p++) {
			ex = ex * 10 + (*p - '0');
			if (ex > JF_MAX_EXP)
				return -1;
		}
	}
	jf->p = p;
	e = (eneg ? -ex : ex) + adj;

	if (d == 0)
		v = 0.0;
	else if (d <= JF_2P53 && e >= -22 && e <= 22) {
		/* Clinger's fast path: both operands exact, one rounding.
		 * D / 10^n is never a tie (if 5^n divides D the quotient is
		 * exact); D * 10^n may be (5e22). */
		if (e <= 0 || !tie_round_up(d, e, &v))
			v = e >= 0 ? (double)(uint64_t)d * pow10_exact[e] :
			    (double)(uint64_t)d / pow10_exact[-e];
	} else if (!tie_round_up(d, e, &v)) {
		/* glibc's strtod rounds correctly; the text has no radix
		 * character, so the locale cannot matter. */
		b = buf + nd;
		*b++ = 'e';
		if (e < 0) {
			*b++ = '-';
			e = -e;
		}
		i = 0;
		do {
			tmp[i++] = (char)('0' + e % 10);
			e /= 10;
		} while (e > 0);
		while (i > 0)
			*b++ = tmp[--i];
		*b = '\0';
		saved_errno = errno;	/* ERANGE is no news here */
		v = strtod(buf, NULL);
		errno = saved_errno;
	}
	duk_push_number(jf->ctx, neg ? -v : v);
	return 0;
}

static int
match(struct jf *jf, const char *lit, size_t n)
{
	if ((size_t)(jf->end - jf->p) < n || memcmp(jf->p, lit, n) != 0)
		return -1;
	jf->p += n;
	return 0;
}

/* Gives the container on top its intrinsic prototype, which a fresh
 * duk_push_object() / duk_push_array() would have had. */
static void
set_intrinsic_proto(struct jf *jf, void **cache, int array)
{
	duk_context	*ctx = jf->ctx;

	if (*cache == NULL) {
		if (array)
			duk_push_array(ctx);
		else
			duk_push_object(ctx);
		duk_get_prototype(ctx, -1);
		/* Intrinsics live as long as the heap. */
		*cache = duk_get_heapptr(ctx, -1);
		duk_pop_2(ctx);
	}
	duk_push_heapptr(ctx, *cache);
	duk_set_prototype(ctx, -2);
}

/* At '{': pushes the object. */
static int
parse_object(struct jf *jf)
{
	duk_context	*ctx = jf->ctx;

	jf->p++;
	if (++jf->depth > JF_MAX_DEPTH)
		return -1;
	duk_require_stack(ctx, JF_STACK);
	duk_push_bare_object(ctx);
	skip_ws(jf);
	if (jf->p < jf->end && *jf->p == '}')
		jf->p++;
	else
		for (;;) {
			if (jf->p == jf->end || *jf->p != '"')
				return -1;
			jf->p++;
			if (parse_string(jf) != 0)
				return -1;
			skip_ws(jf);
			if (jf->p == jf->end || *jf->p != ':')
				return -1;
			jf->p++;
			if (parse_value(jf) != 0)
				return -1;
			/* No prototype yet: a plain own data property, the
			 * last of duplicate keys winning in the first's
			 * place, as JSON.parse's CreateDataProperty. */
			duk_put_prop(ctx, -3);
			skip_ws(jf);
			if (jf->p == jf->end)
				return -1;
			if (*jf->p == '}') {
				jf->p++;
				break;
			}
			if (*jf->p != ',')
				return -1;
			jf->p++;
			skip_ws(jf);
		}
	set_intrinsic_proto(jf, &jf->obj_proto, 0);
	jf->depth--;
	return 0;
}

/* At '[': pushes the array. */
static int
parse_array(struct jf *jf)
{
	duk_context	*ctx = jf->ctx;
	duk_uarridx_t	 i = 0;

	jf->p++;
	if (++jf->depth > JF_MAX_DEPTH)
		return -1;
	duk_require_stack(ctx, JF_STACK);
	duk_push_bare_array(ctx);
	skip_ws(jf);
	if (jf->p < jf->end && *jf->p == ']')
		jf->p++;
	else
		for (;;) {
			if (parse_value(jf) != 0)
				return -1;
			duk_put_prop_index(ctx, -2, i++);
			skip_ws(jf);
			if (jf->p == jf->end)
				return -1;
			if (*jf->p == ']') {
				jf->p++;
				break;
			}
			if (*jf->p != ',')
				return -1;
			jf->p++;
		}
	set_intrinsic_proto(jf, &jf->arr_proto, 1);
	jf->depth--;
	return 0;
}

/* Skips leading whitespace and pushes one value; trailing whitespace is
 * the caller's. */
static int
parse_value(struct jf *jf)
{
	skip_ws(jf);
	if (jf->p == jf->end)
		return -1;
	switch (*jf->p) {
	case '{':
		return parse_object(jf);
	case '[':
		return parse_array(jf);
	case '"':
		jf->p++;
		return parse_string(jf);
	case 't':
		if (match(jf, "true", 4) != 0)
			return -1;
		duk_push_true(jf->ctx);
		return 0;
	case 'f':
		if (match(jf, "false", 5) != 0)
			return -1;
		duk_push_false(jf->ctx);
		return 0;
	case 'n':
		if (match(jf, "null", 4) != 0)
			return -1;
		duk_push_null(jf->ctx);
		return 0;
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		return parse_number(jf);
	default:
		return -1;
	}
}

int
json_fast_push(duk_context *ctx, const char *s, size_t len)
{
	struct jf	 jf;
	duk_idx_t	 top;

	if (len == 0)
		return 0;
	top = duk_get_top(ctx);
	jf.ctx = ctx;
	jf.p = (const unsigned char *)s;
	jf.end = jf.p + len;
	jf.depth = 0;
	jf.obj_proto = jf.arr_proto = NULL;
	duk_require_stack(ctx, JF_STACK);
	if (parse_value(&jf) != 0)
		goto decline;
	skip_ws(&jf);
	if (jf.p != jf.end)
		goto decline;
	return 1;
decline:
	/* Drops whatever was built; nothing else was touched. */
	duk_set_top(ctx, top);
	return 0;
}
