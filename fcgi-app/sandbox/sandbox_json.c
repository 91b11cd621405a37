/*
 * sandbox_json.c - JSON text into a function's heap through json_fast.c
 * (issue 12): req.payload, parsed on its first read rather than on every
 * call, and the function's global JSON.parse. Both give exactly what
 * Duktape's parser gives: json_fast.c answers only what it reproduces bit
 * for bit, and Duktape's own parser runs whenever it declines, so every
 * error, reviver and odd argument stays the engine's.
 *
 * It never runs user code of its own accord; what it calls (the engine's
 * JSON.parse with a reviver, a getter on req's prototype chain) runs under
 * the call's deadline and cap like any other code of the function.
 */
#include "duktape.h"
#include "json_fast.h"
#include "sandbox_internal.h"

/* On a req's payload getter: the body the payload is parsed from, and the
 * payload once read. Hidden symbols: no script can name, forge or
 * enumerate them (sandbox_text.c lets no 0xFF byte into a string). */
#define HIDDEN_BODY		DUK_HIDDEN_SYMBOL("body")
#define HIDDEN_PAYLOAD		DUK_HIDDEN_SYMBOL("payload")
/* In the global stash: the setter every req shares. */
#define STASH_SETTER		DUK_HIDDEN_SYMBOL("payloadSetter")
/* On our JSON.parse: the engine's. */
#define HIDDEN_ENGINE_PARSE	DUK_HIDDEN_SYMBOL("engineParse")

/* [ text ] -> [ value ]: JSON.parse of a string, json_fast.c first.
 * Throws what Duktape's parser throws. */
static void
decode_text(duk_context *ctx)
{
	const char *s;
	duk_size_t len;

	s = duk_get_lstring(ctx, -1, &len);
	if (json_fast_push(ctx, s, len)) {
		duk_remove(ctx, -2);
		return;
	}
	duk_json_decode(ctx, -1);
}

static duk_ret_t
decode_safe(duk_context *ctx, void *udata)
{
	(void)udata;
	decode_text(ctx);
	return 1;
}

/* req.payload's getter, one per req: it keeps the body and, once read,
 * the value, so that, as with a data property, every read gives the same
 * value whatever this is (a Proxy of req, an object made with req as
 * prototype, a frozen req). Arguments are ignored (Duktape passes the
 * key). */
static duk_ret_t
payload_get(duk_context *ctx)
{
	duk_idx_t self = duk_get_top(ctx);

	duk_push_current_function(ctx);
	if (duk_get_prop_literal(ctx, self, HIDDEN_PAYLOAD))
		return 1;
	duk_pop(ctx);
	duk_get_prop_literal(ctx, self, HIDDEN_BODY);
	/* SPEC §5: the body parsed as JSON when it is JSON, else the string.
	 * A parse that fails (not JSON, too deep, the heap's cap) leaves the
	 * string, as the parse before every call did. */
	duk_dup(ctx, -1);
	if (duk_safe_call(ctx, decode_safe, NULL, 1, 1) == 0)
		duk_swap(ctx, -1, -2);
	duk_pop(ctx);
	duk_push_literal(ctx, HIDDEN_PAYLOAD);
	duk_dup(ctx, -2);
	/* Forced: the getter may have been frozen. */
	duk_def_prop(ctx, self, DUK_DEFPROP_HAVE_VALUE |
	    DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_FORCE);
	return 1;
}

/* req.payload = v: makes payload the data property it stands for, on the
 * object assigned to, as an assignment to a data property of req (or of
 * its prototype) would have. On a frozen req it throws a TypeError. */
static duk_ret_t
payload_set(duk_context *ctx)
{
	duk_push_this(ctx);
	if (!duk_is_object(ctx, -1))
		return 0;
	duk_push_literal(ctx, "payload");
	duk_dup(ctx, 0);
	duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE |
	    DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_SET_ENUMERABLE |
	    DUK_DEFPROP_SET_CONFIGURABLE);
	return 0;
}

void
sandbox_json_define_payload(duk_context *ctx)
{
	duk_idx_t req = duk_normalize_index(ctx, -2);

	duk_push_c_function(ctx, payload_get, DUK_VARARGS);
	duk_swap(ctx, -1, -2);
	duk_put_prop_literal(ctx, -2, HIDDEN_BODY);
	duk_push_literal(ctx, "payload");
	duk_swap(ctx, -1, -2);
	duk_push_global_stash(ctx);
	duk_get_prop_literal(ctx, -1, STASH_SETTER);
	duk_remove(ctx, -2);
	/* [ ... req "payload" get set ]: enumerable and configurable, as
	 * the data property it stands for. */
	duk_def_prop(ctx, req, DUK_DEFPROP_HAVE_GETTER |
	    DUK_DEFPROP_HAVE_SETTER | DUK_DEFPROP_SET_ENUMERABLE |
	    DUK_DEFPROP_SET_CONFIGURABLE);
}

/* JSON.parse(text, reviver): a primitive string without a reviver goes to
 * json_fast.c; everything else (a reviver, a String object, a number, an
 * object with a toString, a Symbol, and what json_fast.c declines) goes
 * to the engine's JSON.parse with the same arguments. */
static duk_ret_t
json_parse(duk_context *ctx)
{
	const char *s;
	duk_size_t len;

	if (duk_is_constructor_call(ctx))
		return DUK_RET_TYPE_ERROR;	/* as a built-in: not one */
	if (duk_is_string(ctx, 0) && !duk_is_symbol(ctx, 0) &&
	    !duk_is_callable(ctx, 1)) {
		s = duk_get_lstring(ctx, 0, &len);
		if (json_fast_push(ctx, s, len))
			return 1;
	}
	duk_push_current_function(ctx);
	duk_get_prop_literal(ctx, -1, HIDDEN_ENGINE_PARSE);
	duk_push_undefined(ctx);
	duk_dup(ctx, 0);
	duk_dup(ctx, 1);
	duk_call_method(ctx, 2);
	return 1;
}

void
sandbox_json_install(duk_context *ctx)
{
	/* Made with the heap, before its tables are compacted. */
	duk_push_global_stash(ctx);
	duk_push_c_function(ctx, payload_set, 1);
	duk_put_prop_literal(ctx, -2, STASH_SETTER);
	duk_pop(ctx);
	duk_get_global_literal(ctx, "JSON");
	duk_push_literal(ctx, "parse");
	duk_push_c_function(ctx, json_parse, 2);
	duk_get_prop_literal(ctx, -3, "parse");
	duk_put_prop_literal(ctx, -2, HIDDEN_ENGINE_PARSE);
	/* The built-in's name and attributes (ES2015 §17). */
	duk_push_literal(ctx, "name");
	duk_push_literal(ctx, "parse");
	duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE |
	    DUK_DEFPROP_CLEAR_WRITABLE | DUK_DEFPROP_CLEAR_ENUMERABLE |
	    DUK_DEFPROP_SET_CONFIGURABLE | DUK_DEFPROP_FORCE);
	duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE |
	    DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_CLEAR_ENUMERABLE |
	    DUK_DEFPROP_SET_CONFIGURABLE);
	duk_pop(ctx);
}
