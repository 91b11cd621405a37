/*
 * lib_clone.c - loads clone.js (structuredClone) into a heap with its one
 * native: an identity key for an object, so the clone of a graph with
 * shared parts and cycles finds what it already copied in one lookup
 * (the engine has no Map of its own). The keys never leave clone.js.
 */
#include "clone_js.h"
#include "lib.h"
#include "sandbox_internal.h"

/* key(object): a string naming that object while it lives. */
static duk_ret_t
native_key(duk_context *ctx)
{
	duk_push_sprintf(ctx, "%p", duk_require_heapptr(ctx, 0));
	return 1;
}

void
lib_clone_load(duk_context *ctx)
{
	static const char *const globals[] = { "structuredClone" };

	duk_push_object(ctx);
	lib_put_native(ctx, "key", native_key, 1);
	lib_run_source(ctx, LIB_CLONE, clone_js, sizeof(clone_js),
	    "fnrun:clone.js");
	lib_define_globals(ctx, globals, sizeof(globals) / sizeof(globals[0]));
	duk_pop(ctx);
}
