/*
 * json_diff.h - json_fast.c against Duktape's own JSON.parse on one input,
 * in one heap: what tests/check_json_fast.c and the differential fuzzer
 * (tests/fuzz/fuzz_json_fast.c) both assert. When the fast path answers,
 * Duktape must have succeeded with a value equal in everything a script
 * can observe: types, string bytes, number bits (-0 included), own keys
 * with their order and attributes, prototypes, array lengths, and the
 * JSON.stringify text. When Duktape fails, the fast path must decline.
 * json_diff_run_global does the same for the global JSON.parse a
 * function sees (sandbox_json.c: json_fast.c, Duktape's parser behind it),
 * on any bytes as a string of the heap, a Symbol's included; when Duktape
 * fails, it must throw the same error. Included by those two files only.
 */
#ifndef FNRUN_TESTS_JSON_DIFF_H
#define FNRUN_TESTS_JSON_DIFF_H

#include <stdio.h>
#include <string.h>

#include "duktape.h"
#include "json_fast.h"

static duk_ret_t
decode_safe(duk_context *ctx, void *udata)
{
	(void)udata;
	duk_json_decode(ctx, -1);
	return 1;
}

static duk_ret_t
encode_safe(duk_context *ctx, void *udata)
{
	(void)udata;
	duk_json_encode(ctx, -1);
	return 1;
}

struct fast_call {
	const char	*s;
	size_t		 len;
	int		 r;
	duk_idx_t	 pushed;
};

/* As the sandbox runs it: inside a safe call. Pushes the value, or
 * undefined when the fast path declined. */
static duk_ret_t
fast_safe(duk_context *ctx, void *udata)
{
	struct fast_call	*fc = udata;
	duk_idx_t		 top = duk_get_top(ctx);

	fc->r = json_fast_push(ctx, fc->s, fc->len);
	fc->pushed = duk_get_top(ctx) - top;
	if (!fc->r)
		duk_push_undefined(ctx);
	return 1;
}

/* Why the values at a and b differ, or NULL. Data properties only (both
 * parsers make nothing else). */
static const char *
deep_diff(duk_context *ctx, duk_idx_t a, duk_idx_t b)
{
	const duk_uint_t flags = DUK_ENUM_OWN_PROPERTIES_ONLY |
	    DUK_ENUM_INCLUDE_NONENUMERABLE | DUK_ENUM_INCLUDE_HIDDEN |
	    DUK_ENUM_INCLUDE_SYMBOLS | DUK_ENUM_NO_PROXY_BEHAVIOR;
	static const char *const attrs[] = { "writable", "enumerable",
	    "configurable" };
	const char	*why = NULL, *sa, *sb;
	duk_size_t	 la, lb;
	duk_idx_t	 ea, eb, top;
	double		 x, y;
	int		 ha, hb;
	size_t		 i;

	a = duk_normalize_index(ctx, a);
	b = duk_normalize_index(ctx, b);
	duk_require_stack(ctx, 16);
	top = duk_get_top(ctx);
	if (duk_get_type(ctx, a) != duk_get_type(ctx, b))
		return "type";
	switch (duk_get_type(ctx, a)) {
	case DUK_TYPE_NULL:
		return NULL;
	case DUK_TYPE_BOOLEAN:
		return duk_get_boolean(ctx, a) == duk_get_boolean(ctx, b) ?
		    NULL : "boolean";
	case DUK_TYPE_NUMBER:
		x = duk_get_number(ctx, a);
		y = duk_get_number(ctx, b);
		return memcmp(&x, &y, sizeof(x)) == 0 ? NULL : "number bits";
	case DUK_TYPE_STRING:
		sa = duk_get_lstring(ctx, a, &la);
		sb = duk_get_lstring(ctx, b, &lb);
		if (la != lb || memcmp(sa, sb, la) != 0)
			return "string bytes";
		return duk_is_symbol(ctx, a) == duk_is_symbol(ctx, b) ?
		    NULL : "symbol-ness";
	case DUK_TYPE_OBJECT:
		break;
	default:
		return "unexpected type";
	}
	if (duk_is_array(ctx, a) != duk_is_array(ctx, b))
		return "array-ness";
	/* Only an array's: an object's "length" may hold anything. */
	if (duk_is_array(ctx, a) &&
	    duk_get_length(ctx, a) != duk_get_length(ctx, b))
		return "length";
	duk_get_prototype(ctx, a);
	duk_get_prototype(ctx, b);
	if (duk_get_heapptr(ctx, -1) != duk_get_heapptr(ctx, -2))
		why = "prototype";
	duk_set_top(ctx, top);
	if (why != NULL)
		return why;

	duk_enum(ctx, a, flags);
	ea = duk_get_top_index(ctx);
	duk_enum(ctx, b, flags);
	eb = duk_get_top_index(ctx);
	for (;;) {
		ha = duk_next(ctx, ea, 0);
		hb = duk_next(ctx, eb, 0);
		if (ha != hb) {
			why = "number of own properties";
			break;
		}
		if (!ha)
			break;
		/* [ ... ea eb ka kb ] */
		sa = duk_get_lstring(ctx, -2, &la);
		sb = duk_get_lstring(ctx, -1, &lb);
		if (sa == NULL || sb == NULL || la != lb ||
		    memcmp(sa, sb, la) != 0) {
			why = "key or key order";
			break;
		}
		/* The keys have the same bytes: look each up with the other. */
		duk_get_prop_desc(ctx, a, 0);
		duk_swap_top(ctx, -2);
		duk_get_prop_desc(ctx, b, 0);
		/* [ ... ea eb desc_a desc_b ] */
		for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
			duk_get_prop_string(ctx, -1, attrs[i]);
			duk_get_prop_string(ctx, -3, attrs[i]);
			if (duk_to_boolean(ctx, -1) != duk_to_boolean(ctx, -2))
				why = attrs[i];
			duk_pop_2(ctx);
		}
		if (why != NULL)
			break;
		duk_get_prop_string(ctx, -1, "value");
		duk_get_prop_string(ctx, -3, "value");
		why = deep_diff(ctx, -2, -1);
		if (why != NULL)
			break;
		duk_set_top(ctx, eb + 1);
	}
	duk_set_top(ctx, top);
	return why;
}

struct json_diff {
	int	duk_ok;		/* duk_json_decode succeeded */
	int	fast;		/* json_fast_push answered */
	char	why[256];	/* the disagreement, or "" */
};

/* Whether the values at a and b are the same to a script: deep_diff, then
 * their JSON.stringify texts; the disagreement goes to d->why, prefixed
 * with who. Leaves the value stack as it was. */
static void
same_values(duk_context *ctx, duk_idx_t a, duk_idx_t b, const char *who,
    struct json_diff *d)
{
	duk_idx_t	 top = duk_get_top(ctx);
	const char	*why, *ja, *jb;
	duk_size_t	 la, lb;

	if ((why = deep_diff(ctx, a, b)) != NULL) {
		snprintf(d->why, sizeof(d->why), "%svalues differ (%s)", who,
		    why);
		return;
	}
	duk_dup(ctx, a);
	if (duk_safe_call(ctx, encode_safe, NULL, 1, 1) == 0) {
		duk_dup(ctx, b);
		if (duk_safe_call(ctx, encode_safe, NULL, 1, 1) == 0)
			goto texts;
	}
	snprintf(d->why, sizeof(d->why), "%sJSON.stringify threw", who);
	goto out;
texts:
	ja = duk_get_lstring(ctx, -2, &la);
	jb = duk_get_lstring(ctx, -1, &lb);
	if (!((ja == NULL && jb == NULL) || (ja != NULL && jb != NULL &&
	    la == lb && memcmp(ja, jb, la) == 0)))
		snprintf(d->why, sizeof(d->why), "%sJSON.stringify differs",
		    who);
out:
	duk_set_top(ctx, top);
}

/* Runs both parsers on s[0..len) in ctx and compares their answers into
 * *d; the value stack is left as it was found. */
static void
json_diff_run(duk_context *ctx, const char *s, size_t len,
    struct json_diff *d)
{
	struct fast_call	 fc = { s, len, 0, 0 };
	duk_idx_t		 top = duk_get_top(ctx);

	d->why[0] = '\0';
	duk_push_lstring(ctx, s, len);
	d->duk_ok = duk_safe_call(ctx, decode_safe, NULL, 1, 1) == 0;
	if (duk_safe_call(ctx, fast_safe, &fc, 0, 1) != 0) {
		snprintf(d->why, sizeof(d->why), "fast path threw: %s",
		    duk_safe_to_string(ctx, -1));
		goto out;
	}
	d->fast = fc.r;
	if (fc.pushed != fc.r || duk_get_top(ctx) != top + 2) {
		snprintf(d->why, sizeof(d->why), "fast path pushed %ld values,"
		    " returned %d", (long)fc.pushed, fc.r);
		goto out;
	}
	if (!fc.r)
		goto out;
	if (!d->duk_ok) {
		snprintf(d->why, sizeof(d->why), "Duktape failed (%s) but the "
		    "fast path accepted", duk_safe_to_string(ctx, top));
		goto out;
	}
	same_values(ctx, top, top + 1, "", d);
out:
	duk_set_top(ctx, top);
}

/* JSON.parse of the global object, in a protected call: [ s ] -> [ r ]. */
static duk_ret_t
global_parse_safe(duk_context *ctx, void *udata)
{
	(void)udata;
	duk_get_global_string(ctx, "JSON");
	duk_get_prop_string(ctx, -1, "parse");
	duk_swap(ctx, -1, -2);
	duk_dup(ctx, -3);
	duk_call_method(ctx, 1);
	return 1;
}

/* Runs Duktape's parser (the C API's, which no script can replace) and
 * the global JSON.parse of ctx (sandbox_json_install) on s[0..len),
 * pushed as it is, and compares their answers into *d (d->fast: the
 * global answered); the value stack is left as it was found. */
static void
json_diff_run_global(duk_context *ctx, const char *s, size_t len,
    struct json_diff *d)
{
	duk_idx_t	 top = duk_get_top(ctx);
	const char	*ja, *jb;
	duk_size_t	 la, lb;

	d->why[0] = '\0';
	duk_push_lstring(ctx, s, len);
	d->duk_ok = duk_safe_call(ctx, decode_safe, NULL, 1, 1) == 0;
	duk_push_lstring(ctx, s, len);
	d->fast = duk_safe_call(ctx, global_parse_safe, NULL, 1, 1) == 0;
	if (d->fast != d->duk_ok) {
		snprintf(d->why, sizeof(d->why), "Duktape %s, the global %s",
		    d->duk_ok ? "succeeded" : "failed",
		    d->fast ? "succeeded" : "failed");
		goto out;
	}
	if (!d->fast) {
		ja = duk_safe_to_lstring(ctx, top, &la);
		jb = duk_safe_to_lstring(ctx, top + 1, &lb);
		if (la != lb || memcmp(ja, jb, la) != 0)
			snprintf(d->why, sizeof(d->why), "errors differ: %s / "
			    "%s", ja, jb);
		goto out;
	}
	same_values(ctx, top, top + 1, "global: ", d);
out:
	duk_set_top(ctx, top);
}

#endif
