/*
 * lib_collections.c - loads collections.js (Map, Set, WeakMap, WeakSet)
 * into a heap, with the hidden symbols it keys its state by: the function
 * cannot name, list or reach them (SPEC §11).
 */
#include "collections_js.h"
#include "lib.h"

void
lib_collections_load(duk_context *ctx)
{
	static const char *const globals[] = { "Map", "Set", "WeakMap",
	    "WeakSet" };

	duk_push_object(ctx);
	duk_push_string(ctx, DUK_HIDDEN_SYMBOL("collectionId"));
	duk_put_prop_string(ctx, -2, "idKey");
	duk_push_string(ctx, DUK_HIDDEN_SYMBOL("weakValues"));
	duk_put_prop_string(ctx, -2, "weakKey");
	duk_push_string(ctx, DUK_HIDDEN_SYMBOL("collectionState"));
	duk_put_prop_string(ctx, -2, "stateKey");
	lib_run_source(ctx, LIB_COLLECTIONS, collections_js,
	    sizeof(collections_js), "fnrun:collections.js");
	lib_define_globals(ctx, globals, sizeof(globals) / sizeof(globals[0]));
	duk_pop(ctx);
}
