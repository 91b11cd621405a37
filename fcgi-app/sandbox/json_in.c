/*
 * json_in.c - JSON request bodies through Duktape's JSON.parse, in a
 * sandbox of their own (no user code runs there) capped at 8x the input,
 * so hostile nesting or size fails cleanly instead of growing the worker.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "duktape.h"
#include "json_in.h"
#include "sandbox_internal.h"

struct json_text {
	const char	*s;
	size_t		 len;
};

static duk_ret_t
decode_safe(duk_context *ctx, void *udata)
{
	const struct json_text *t = udata;

	sandbox_push_text(ctx, t->s, t->len);
	duk_json_decode(ctx, -1);
	return 1;
}

/* The array at the top of ctx's stack into f (JSON_IN_STRINGS), or -1
 * when it is not an array of strings without NUL. The heap is capped, and
 * its strings are bounded by the body: so is what is copied here. */
static int
strings_field(duk_context *ctx, struct json_in_field *f)
{
	struct buf	 b = { 0 };
	const char	*s;
	duk_size_t	 slen, i, n;

	if (!duk_is_array(ctx, -1))
		return -1;
	n = duk_get_length(ctx, -1);
	for (i = 0; i < n; i++) {
		duk_get_prop_index(ctx, -1, (duk_uarridx_t)i);
		s = duk_is_string(ctx, -1) ? duk_get_lstring(ctx, -1, &slen) :
		    NULL;
		if (s == NULL || memchr(s, '\0', slen) != NULL) {
			duk_pop(ctx);
			buf_free(&b);
			return -1;
		}
		buf_append(&b, s, slen);
		buf_append(&b, "", 1);
		duk_pop(ctx);
	}
	f->str = b.data != NULL ? b.data : buf_memdup("", 0);
	f->len = b.len;
	f->num = (unsigned long)n;
	return 0;
}

enum json_in_result
json_in_fields(const char *json, size_t len, struct json_in_field *f,
    size_t n, char *err, size_t errlen)
{
	struct sandbox_limits lim = { .timeout_ms = 1000 };
	struct json_text text = { json, len };
	struct sandbox *sb;
	duk_context *ctx;
	const char *s;
	duk_size_t slen;
	double d;
	size_t i;
	enum json_in_result rc = JSON_IN_NOT_OBJECT;

	lim.memory_bytes = 8 * len + (1u << 20);
	for (i = 0; i < n; i++) {
		f[i].present = 0;
		f[i].str = NULL;
		f[i].len = 0;
		f[i].num = 0;
	}
	if ((sb = sandbox_new(&lim)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ctx = sandbox_context(sb);
	if (duk_safe_call(ctx, decode_safe, &text, 0, 1) != 0) {
		snprintf(err, errlen, "body is not valid JSON: %s",
		    duk_safe_to_string(ctx, -1));
		goto out;
	}
	if (!duk_is_object(ctx, -1) || duk_is_array(ctx, -1)) {
		snprintf(err, errlen, "body must be a JSON object");
		goto out;
	}
	rc = JSON_IN_BAD_FIELD;
	for (i = 0; i < n; i++) {
		if (!duk_get_prop_string(ctx, -1, f[i].name) ||
		    duk_is_null(ctx, -1)) {
			duk_pop(ctx);
			continue;
		}
		if (f[i].type == JSON_IN_STRINGS) {
			if (strings_field(ctx, &f[i]) == -1)
				goto wrong;
		} else if (f[i].type == JSON_IN_STRING) {
			if (!duk_is_string(ctx, -1))
				goto wrong;
			s = duk_get_lstring(ctx, -1, &slen);
			f[i].str = buf_memdup(s, slen);
			f[i].len = slen;
		} else {
			if (!duk_is_number(ctx, -1))
				goto wrong;
			d = duk_get_number(ctx, -1);
			if (!(d >= 0 && d <= 4294967295.0) ||
			    d != (double)(unsigned long)d)
				goto wrong;
			f[i].num = (unsigned long)d;
		}
		f[i].present = 1;
		duk_pop(ctx);
	}
	rc = JSON_IN_OK;
	goto out;
wrong:
	snprintf(err, errlen, "field '%s' must be %s", f[i].name,
	    f[i].type == JSON_IN_STRING ? "a string" :
	    f[i].type == JSON_IN_STRINGS ? "an array of strings" :
	    "a non-negative integer");
out:
	if (rc != 0)
		for (i = 0; i < n; i++) {
			free(f[i].str);
			f[i].str = NULL;
		}
	sandbox_free(sb);
	return rc;
}
