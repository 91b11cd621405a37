/*
 * lib_fetch.c - loads fetch.js (fetch, Headers, Request, Response,
 * AbortController, AbortSignal) into a heap with its natives, turns a
 * Response the handler returned into the call's answer (SPEC §5), and
 * joins fetch() to net/outbound.c: a request is started here, its
 * resolving functions wait in the heap's stash, and the event loop
 * (sandbox_loop.c) polls libcurl and settles them here. Bytes from the
 * network (status text, headers, URL, error) become strings only through
 * sandbox_push_text; a body enters the heap as a buffer, allocated by the
 * heap's capped allocator, and is counted against the memory limit while
 * it is still arriving (outbound_set_budget).
 */
#include <string.h>

#include "fetch_js.h"
#include "lib.h"
#include "outbound.h"
#include "sandbox_internal.h"

#define HIDDEN_RESPONSE	DUK_HIDDEN_SYMBOL("response")
#define HIDDEN_FETCHES	DUK_HIDDEN_SYMBOL("fetches")

/* A call given no settings (the unit tests' sandboxes): SPEC §12's
 * defaults and the default egress ranges, no project list. */
static const struct outbound_conf default_conf = {
	.policy = NULL,
	.ca_file = NULL,
	.max_per_call = OUTBOUND_MAX_PER_CALL,
	.max_in_flight = OUTBOUND_MAX_IN_FLIGHT,
	.request_body_max = OUTBOUND_BODY_MAX,
	.project = "",
	.host_check = NULL,
	.host_check_arg = NULL,
};

/* [ ] -> [ fetches ]: id -> [ resolve, reject ] of the call's requests. */
static void
push_fetches(duk_context *ctx)
{
	lib_push_stash_object(ctx, HIDDEN_FETCHES);
}

/* A string argument as C text: one with a NUL inside cannot be sent. */
static const char *
require_text(duk_context *ctx, duk_idx_t idx, const char *what)
{
	duk_size_t n;
	const char *s = duk_require_lstring(ctx, idx, &n);

	if (strlen(s) != n)
		(void)duk_type_error(ctx, "fetch: the %s holds a NUL", what);
	return s;
}

/* SPEC §12: bodies count against the memory limit from their first byte,
 * not only once they are in the heap: what is held outside it may not
 * exceed what the heap may still allocate. */
static void
set_budget(struct sandbox *sb)
{
	struct sandbox_alloc *a = &sb->alloc;

	outbound_set_budget(sb->lib.net, a->limit > a->used ?
	    a->limit - a->used : 0);
}

/* ready(): fetch is for calls; the top level, run once per heap, gets an
 * error it cannot mistake for a network failure. */
static duk_ret_t
native_ready(duk_context *ctx)
{
	if (!sandbox_of(ctx)->lib.in_call)
		return duk_error(ctx, DUK_ERR_ERROR, "fetch is not available "
		    "at the top level: call it from the handler");
	return 0;
}

/* start(method, url, [[name, value]...], body, redirect, resolve, reject)
 * -> id. body is null or a Uint8Array. */
static duk_ret_t
native_start(duk_context *ctx)
{
	struct sandbox *sb = sandbox_of(ctx);
	struct outbound_request rq;
	struct outbound_header *h;
	const char *redirect;
	char err[512];
	duk_size_t i, n;
	unsigned id;

	(void)native_ready(ctx);
	memset(&rq, 0, sizeof(rq));
	rq.method = require_text(ctx, 0, "method");
	rq.url = require_text(ctx, 1, "URL");
	n = duk_get_length(ctx, 2);
	/* The pointers live in the heap: nothing leaks if anything throws. */
	h = duk_push_fixed_buffer(ctx, (n > 0 ? n : 1) * sizeof(*h));
	for (i = 0; i < n; i++) {
		duk_get_prop_index(ctx, 2, (duk_uarridx_t)i);
		duk_get_prop_index(ctx, -1, 0);
		duk_get_prop_index(ctx, -2, 1);
		/* Strings held by the header list itself (argument 2). */
		h[i].name = (char *)require_text(ctx, -2, "header name");
		h[i].value = (char *)require_text(ctx, -1, "header value");
		duk_pop_3(ctx);
	}
	rq.headers = h;
	rq.nheaders = n;
	if (duk_is_buffer_data(ctx, 3))
		rq.body = duk_get_buffer_data(ctx, 3, &rq.body_len);
	if (rq.body == NULL && duk_is_buffer_data(ctx, 3))
		rq.body = "";
	redirect = duk_require_string(ctx, 4);
	rq.redirect = strcmp(redirect, "manual") == 0 ? OUTBOUND_MANUAL :
	    strcmp(redirect, "error") == 0 ? OUTBOUND_ERROR : OUTBOUND_FOLLOW;
	if (sb->lib.net == NULL && (sb->lib.net = outbound_new(
	    sb->lib.net_conf != NULL ? sb->lib.net_conf : &default_conf)) ==
	    NULL)
		return duk_type_error(ctx, "fetch: libcurl is not available");
	set_budget(sb);
	if ((id = outbound_start(sb->lib.net, &rq, err, sizeof(err))) == 0) {
		sandbox_push_ctext(ctx, err);
		return duk_type_error(ctx, "%s", duk_get_string(ctx, -1));
	}
	/* Kept until it settles, is aborted or the call ends; after
	 * outbound_start nothing may throw but this, whose failure (the
	 * heap is full) ends the call anyway. */
	push_fetches(ctx);
	duk_push_array(ctx);
	duk_dup(ctx, 5);
	duk_put_prop_index(ctx, -2, 0);
	duk_dup(ctx, 6);
	duk_put_prop_index(ctx, -2, 1);
	duk_put_prop_index(ctx, -2, (duk_uarridx_t)id);
	duk_push_uint(ctx, id);
	return 1;
}

/* cancel(id) -> whether the request was still pending. */
static duk_ret_t
native_cancel(duk_context *ctx)
{
	struct sandbox *sb = sandbox_of(ctx);
	duk_uarridx_t id = (duk_uarridx_t)duk_require_uint(ctx, 0);
	int was;

	if (sb->lib.net == NULL) {
		duk_push_false(ctx);
		return 1;
	}
	was = outbound_cancel(sb->lib.net, id, "aborted by its signal");
	push_fetches(ctx);
	duk_del_prop_index(ctx, -1, id);
	duk_push_boolean(ctx, was);
	return 1;
}

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
	    "Response", "AbortController", "AbortSignal", "fetch" };
	lib_require(ctx, LIB_PROMISE);
	lib_require(ctx, LIB_TIMERS);
	duk_push_object(ctx);
	duk_push_string(ctx, HIDDEN_RESPONSE);
	duk_put_prop_string(ctx, -2, "key");
	lib_put_native(ctx, "deferred", native_deferred, 0);
	lib_put_native(ctx, "text", native_text, 1);
	lib_put_native(ctx, "start", native_start, 7);
	lib_put_native(ctx, "cancel", native_cancel, 1);
	lib_put_native(ctx, "ready", native_ready, 0);
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

void
lib_fetch_poll(struct sandbox *sb, int timeout_ms)
{
	struct sandbox_alloc *a = &sb->alloc;

	if (sb->lib.net == NULL)
		return;
	set_budget(sb);
	outbound_poll(sb->lib.net, timeout_ms);
	if (outbound_over_budget(sb->lib.net))
		a->hit_limit = 1;
}

/* [ ] -> [ ]: settles the promise of the finished request *udata. */
static duk_ret_t
settle_safe(duk_context *ctx, void *udata)
{
	const struct outbound_response *r = udata;
	void *p;
	size_t i;

	push_fetches(ctx);
	if (!duk_get_prop_index(ctx, -1, (duk_uarridx_t)r->id))
		return 0;	/* aborted meanwhile */
	duk_del_prop_index(ctx, -2, (duk_uarridx_t)r->id);
	if (r->status == 0) {
		duk_get_prop_index(ctx, -1, 1);
		sandbox_push_ctext(ctx, r->error);
		lib_call_export(ctx, LIB_FETCH, "fail", 2);
		return 0;
	}
	duk_get_prop_index(ctx, -1, 0);
	duk_push_bare_object(ctx);
	duk_push_number(ctx, (double)r->status);
	duk_put_prop_string(ctx, -2, "status");
	sandbox_push_ctext(ctx, r->status_text);
	duk_put_prop_string(ctx, -2, "statusText");
	sandbox_push_ctext(ctx, r->url);
	duk_put_prop_string(ctx, -2, "url");
	duk_push_boolean(ctx, r->redirected);
	duk_put_prop_string(ctx, -2, "redirected");
	duk_push_array(ctx);
	for (i = 0; i < r->nheaders; i++) {
		duk_push_array(ctx);
		sandbox_push_ctext(ctx, r->headers[i].name);
		duk_put_prop_index(ctx, -2, 0);
		sandbox_push_ctext(ctx, r->headers[i].value);
		duk_put_prop_index(ctx, -2, 1);
		duk_put_prop_index(ctx, -2, (duk_uarridx_t)i);
	}
	duk_put_prop_string(ctx, -2, "headers");
	p = duk_push_fixed_buffer(ctx, r->body_len);
	if (r->body_len > 0)
		memcpy(p, r->body, r->body_len);
	duk_push_buffer_object(ctx, -1, 0, r->body_len, DUK_BUFOBJ_UINT8ARRAY);
	duk_remove(ctx, -2);
	duk_put_prop_string(ctx, -2, "body");
	lib_call_export(ctx, LIB_FETCH, "complete", 2);
	return 0;
}

int
lib_fetch_run_done(struct sandbox *sb)
{
	struct outbound_response r;
	int rc;

	while (sb->lib.net != NULL && !sandbox_loop_must_stop(sb) &&
	    outbound_take(sb->lib.net, &r)) {
		rc = lib_run_task(sb, settle_safe, &r);
		outbound_response_free(&r);
		if (rc == -1)
			return -1;
	}
	return sandbox_loop_must_stop(sb) ? -1 : 0;
}

void
lib_fetch_end(struct sandbox *sb, struct sandbox_result *res)
{
	if (sb->lib.net != NULL) {
		outbound_free(sb->lib.net, sb->timed_out ? FETCH_TIMEOUT :
		    FETCH_FAILED, sb->timed_out ? "still running at the "
		    "function's time limit" : "cancelled: the call had "
		    "already ended", res != NULL ? &res->fetches : NULL);
		sb->lib.net = NULL;
	}
	sb->lib.net_conf = NULL;
	if (!lib_loaded(sb, LIB_FETCH))
		return;
	duk_push_global_stash(sb->ctx);
	duk_del_prop_string(sb->ctx, -1, HIDDEN_FETCHES);
	duk_pop(sb->ctx);
}
