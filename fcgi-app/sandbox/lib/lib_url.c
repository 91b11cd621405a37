/*
 * lib_url.c - loads url.js (URL, URLSearchParams) into a heap with its
 * natives, which put fcgi-app/net/url.c (libcurl's URL API, WHATWG
 * normalization, form encoding) at its disposal. Strings cross into the
 * heap through sandbox_push_text only; memory url.c mallocs is freed
 * before anything is thrown.
 */
#include <stdlib.h>

#include "lib.h"
#include "sandbox_internal.h"
#include "url.h"
#include "url_js.h"

struct parsed {
	struct url	u;
	struct buf	href;
};

/* [ ] -> [ parts ]: the parts of udata (a struct parsed) as url.js keeps
 * them: scheme, username, password, host, port, path, query, fragment
 * (null when absent), href. */
static duk_ret_t
push_parts_safe(duk_context *ctx, void *udata)
{
	const struct parsed *p = udata;
	const char *const v[] = { p->u.scheme, p->u.username, p->u.password,
	    p->u.host, p->u.port, p->u.path, p->u.query, p->u.fragment,
	    p->href.data };
	duk_uarridx_t i;

	duk_push_array(ctx);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (v[i] != NULL)
			sandbox_push_ctext(ctx, v[i]);
		else
			duk_push_null(ctx);
		duk_put_prop_index(ctx, -2, i);
	}
	return 1;
}

/* parse(input, base) -> parts (push_parts_safe), or throws TypeError
 * "Invalid URL". base: a string, or undefined. */
static duk_ret_t
native_parse(duk_context *ctx)
{
	struct parsed p = { .href = { 0 } };
	const char *in, *base = NULL, *why;
	duk_size_t len, blen = 0;
	duk_int_t rc;

	in = duk_require_lstring(ctx, 0, &len);
	if (!duk_is_undefined(ctx, 1))
		base = duk_require_lstring(ctx, 1, &blen);
	if (url_parse(&p.u, in, len, base, blen, &why) != 0)
		return duk_error(ctx, DUK_ERR_TYPE_ERROR, "Invalid URL");
	url_serialize(&p.u, &p.href);
	rc = duk_safe_call(ctx, push_parts_safe, &p, 0, 1);
	url_free(&p.u);
	buf_free(&p.href);
	if (rc != DUK_EXEC_SUCCESS)
		return duk_throw(ctx);
	return 1;
}

/* [ ] -> [ string ]: the bytes of udata (a struct buf). */
static duk_ret_t
push_buf_safe(duk_context *ctx, void *udata)
{
	const struct buf *b = udata;

	sandbox_push_text(ctx, b->data, b->len);
	return 1;
}

/* Pushes b as a string (sandbox_push_text) and frees it; throws what the
 * push threw, once b is freed. */
static duk_ret_t
push_buf_free(duk_context *ctx, struct buf *b)
{
	duk_int_t rc = duk_safe_call(ctx, push_buf_safe, b, 0, 1);

	buf_free(b);
	if (rc != DUK_EXEC_SUCCESS)
		return duk_throw(ctx);
	return 1;
}

/* formEncode(string): application/x-www-form-urlencoded bytes of it. */
static duk_ret_t
native_form_encode(duk_context *ctx)
{
	struct buf b = { 0 };
	duk_size_t len;
	const char *s = duk_require_lstring(ctx, 0, &len);

	url_form_encode(&b, s, len);
	return push_buf_free(ctx, &b);
}

/* formDecode(string): '+' as space, %XX decoded, as UTF-8 (invalid bytes
 * U+FFFD). */
static duk_ret_t
native_form_decode(duk_context *ctx)
{
	struct buf b = { 0 };
	duk_size_t len;
	const char *s = duk_require_lstring(ctx, 0, &len);

	url_percent_decode(&b, s, len, 1);
	return push_buf_free(ctx, &b);
}

void
lib_url_load(duk_context *ctx)
{
	static const char *const globals[] = { "URL", "URLSearchParams" };

	duk_push_object(ctx);
	lib_put_native(ctx, "parse", native_parse, 2);
	lib_put_native(ctx, "formEncode", native_form_encode, 1);
	lib_put_native(ctx, "formDecode", native_form_decode, 1);
	lib_run_source(ctx, LIB_URL, url_js, sizeof(url_js), "fnrun:url.js");
	lib_define_globals(ctx, globals, sizeof(globals) / sizeof(globals[0]));
	duk_pop(ctx);
}
