/*
 * lib_fetch.c - loads fetch.js (Headers, Request, Response,
 * AbortController, AbortSignal) into a heap with its natives, and turns a
 * Response the handler returned into the call's answer (SPEC §5). Bytes
 * of a body become a string only through sandbox_push_text.
 */
#include "fetch_js.h"
#include "lib.h"
#include "sandbox_internal.h"

#define HIDDEN_RESPONSE	DUK_HIDDEN_SYMBOL("response")

/* deferred() -> [ promise, resolve, reject ] */
static duk_ret_t
native_deferred(duk_context *ctx)
{
	lib_promise_push_deferred(ctx);
	duk_push_array(ctx);
	duk_insert(ctx, -4);
	duk_put_prop_index(ctx, -4, 2);
	duk_put_prop_index(ctx, -3, 1);
	duk_put_prop_index(ctx, -2, 0);
	return 1;
}

/* text(bytes): a body's bytes as a string, invalid UTF-8 repaired. */
static duk_ret_t
native_text(duk_context *ctx)
{
	duk_size_t n;
	const char *p = duk_require_buffer_data(ctx, 0, &n);

	sandbox_push_text(ctx, p, n);
	return 1;
}

void
lib_fetch_load(duk_context *ctx)
{
	static const char *const globals[] = { "Headers", "Request",
	    "Response", "AbortController", "AbortSignal" };
	lib_require(ctx, LIB_PROMISE);
	lib_require(ctx, LIB_TIMERS);
	duk_push_object(ctx);
	duk_push_string(ctx, HIDDEN_RESPONSE);
	duk_put_prop_string(ctx, -2, "key");
	lib_put_native(ctx, "deferred", native_deferred, 0);
	lib_put_native(ctx, "text", native_text, 1);
	lib_push_timers_set(ctx);
	duk_put_prop_string(ctx, -2, "setTimeout");
	lib_run_source(ctx, LIB_FETCH, fetch_js, sizeof(fetch_js),
	    "fnrun:fetch.js");
	lib_define_globals(ctx, globals, sizeof(globals) / sizeof(globals[0]));
	duk_pop(ctx);
}

int
lib_fetch_is_response(duk_context *ctx, duk_idx_t idx)
{
	if (!lib_loaded(sandbox_of(ctx), LIB_FETCH) || !duk_is_object(ctx, idx))
		return 0;
	return duk_has_prop_string(ctx, idx, HIDDEN_RESPONSE);
}

/* [ response res ] -> [ ] */
static duk_ret_t
answer_safe(duk_context *ctx, void *udata)
{
	(void)udata;
	lib_call_export(ctx, LIB_FETCH, "answer", 2);
	duk_pop(ctx);
	return 0;
}

int
lib_fetch_answer(duk_context *ctx)
{
	return duk_safe_call(ctx, answer_safe, NULL, 2, 1) ==
	    DUK_EXEC_SUCCESS ? 0 : -1;
}
