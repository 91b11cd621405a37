/*
 * lib.c - which global name belongs to which library family, and loading
 * a family the first time its name is read (SPEC §11 "Cost": a heap whose
 * function never touches one pays two shared accessor functions and the
 * global properties naming them, nothing more). Assigning one of the
 * names (var Promise = ..., globalThis.fetch = ...) just stores the value,
 * and a family loaded later leaves that name alone.
 */
#include <string.h>

#include "lib.h"
#include "sandbox_internal.h"

#define HIDDEN_EXPORTS	DUK_HIDDEN_SYMBOL("libExports")

struct lazy_name {
	const char	*name;
	enum lib_family	 family;
};

static const struct lazy_name lazy_names[] = {
	{ "Promise", LIB_PROMISE },
	{ "queueMicrotask", LIB_PROMISE },
	{ "AggregateError", LIB_PROMISE },
	{ "setTimeout", LIB_TIMERS },
	{ "clearTimeout", LIB_TIMERS },
	{ "setInterval", LIB_TIMERS },
	{ "clearInterval", LIB_TIMERS },
	{ "Headers", LIB_FETCH },
	{ "Request", LIB_FETCH },
	{ "Response", LIB_FETCH },
	{ "AbortController", LIB_FETCH },
	{ "AbortSignal", LIB_FETCH },
	{ "crypto", LIB_CRYPTO },
	{ "URL", LIB_URL },
	{ "URLSearchParams", LIB_URL },
	{ "atob", LIB_BASE64 },
	{ "btoa", LIB_BASE64 },
	{ "structuredClone", LIB_CLONE },
	{ "performance", LIB_PERFORMANCE },
	{ "fetch", LIB_FETCH },
	{ "Map", LIB_COLLECTIONS },
	{ "Set", LIB_COLLECTIONS },
	{ "WeakMap", LIB_COLLECTIONS },
	{ "WeakSet", LIB_COLLECTIONS },
};

#define NLAZY	(sizeof(lazy_names) / sizeof(lazy_names[0]))
_Static_assert(NLAZY <= 32, "lib_state.assigned is a 32-bit mask");

/* Families whose names get their accessors only in a heap whose code
 * names them (lib_named_scan): other heaps pay not even the slots. */
static const unsigned char when_named[LIB_COUNT] = {
	[LIB_COLLECTIONS] = 1,
};

static void (*const loaders[LIB_COUNT])(duk_context *) = {
	[LIB_PROMISE] = lib_promise_load,
	[LIB_TIMERS] = lib_timers_load,
	[LIB_FETCH] = lib_fetch_load,
	[LIB_CRYPTO] = lib_crypto_load,
	[LIB_URL] = lib_url_load,
	[LIB_BASE64] = lib_base64_load,
	[LIB_CLONE] = lib_clone_load,
	[LIB_PERFORMANCE] = lib_performance_load,
	[LIB_COLLECTIONS] = lib_collections_load,
	[LIB_BUILTINS] = lib_builtins_load,
};

static int
word_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '$';
}

static int
lazy_index(const char *name)
{
	size_t i;

	for (i = 0; i < NLAZY; i++)
		if (strcmp(lazy_names[i].name, name) == 0)
			return (int)i;
	return -1;
}

int
lib_loaded(const struct sandbox *sb, enum lib_family f)
{
	return (sb->lib.loaded & (1u << f)) != 0;
}

void
lib_require(duk_context *ctx, enum lib_family f)
{
	struct sandbox *sb = sandbox_of(ctx);

	if (lib_loaded(sb, f))
		return;
	if (loaders[f] == NULL)
		(void)duk_error(ctx, DUK_ERR_ERROR, "library family %d is "
		    "not built in", (int)f);
	loaders[f](ctx);
	sb->lib.loaded |= 1u << f;
}

/* The getter and the setter of every lazy name, one function for both
 * (one object less in every heap). Duktape passes the property key as an
 * extra argument (DUK_USE_NONSTD_GETTER_KEY_ARGUMENT and ..._SETTER_...):
 * a getter gets (key), a setter (value, key). Reading loads the family;
 * assigning stores the function's own value, which the family, loaded
 * later, will not overwrite. */
static duk_ret_t
lazy_access(duk_context *ctx)
{
	struct sandbox *sb = sandbox_of(ctx);
	int setting = duk_get_top(ctx) >= 2;
	const char *key = duk_require_string(ctx, setting ? 1 : 0);
	int i = lazy_index(key);

	if (i < 0)
		return 0;
	duk_push_global_object(ctx);
	if (!setting) {
		lib_require(ctx, lazy_names[i].family);
		duk_get_prop_string(ctx, -1, key);
		return 1;
	}
	sb->lib.assigned |= 1u << i;
	duk_push_string(ctx, key);
	duk_dup(ctx, 0);
	duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE |
	    DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_SET_ENUMERABLE |
	    DUK_DEFPROP_SET_CONFIGURABLE | DUK_DEFPROP_FORCE);
	return 0;
}

/* Defines the accessors of the lazy names of set want (bit i: lazy_names[i])
 * on the global object at the top of the stack, with the shared accessor
 * at the top. */
static void
define_accessors(duk_context *ctx, uint32_t want)
{
	size_t i;

	for (i = 0; i < NLAZY; i++) {
		if (!(want & (1u << i)))
			continue;
		duk_push_string(ctx, lazy_names[i].name);
		duk_dup(ctx, -2);
		duk_dup(ctx, -3);
		/* As the built-ins are: not enumerable, configurable. */
		duk_def_prop(ctx, -5, DUK_DEFPROP_HAVE_GETTER |
		    DUK_DEFPROP_HAVE_SETTER | DUK_DEFPROP_CLEAR_ENUMERABLE |
		    DUK_DEFPROP_SET_CONFIGURABLE);
	}
}

void
lib_install(duk_context *ctx)
{
	uint32_t always = 0;
	size_t i;

	for (i = 0; i < NLAZY; i++)
		if (!when_named[lazy_names[i].family])
			always |= 1u << i;
	duk_push_global_object(ctx);
	duk_push_c_function(ctx, lazy_access, DUK_VARARGS);
	define_accessors(ctx, always);
	duk_pop_2(ctx);
}

uint32_t
lib_scan_words(const char *bytes, size_t len, const char *const *names,
    size_t n)
{
	const unsigned char *b = (const unsigned char *)bytes;
	uint32_t first[256] = { 0 }, want = 0, m;
	unsigned char word[256];
	size_t i = 0, k, nlen;

	/* Tables, not branches, per byte: a source can be megabytes. */
	for (k = 0; k < 256; k++)
		word[k] = (unsigned char)word_char((unsigned char)k);
	/* Which names start with each byte: most words start with none. */
	for (k = 0; k < n && k < 32; k++)
		if (names[k] != NULL && names[k][0] != '\0')
			first[(unsigned char)names[k][0]] |= 1u << k;
	for (;;) {
		while (i < len && !word[b[i]])
			i++;
		if (i >= len)
			break;
		for (m = first[b[i]]; m != 0; m &= m - 1) {
			k = (size_t)__builtin_ctz(m);
			nlen = strlen(names[k]);
			if (nlen <= len - i && memcmp(b + i, names[k], nlen) == 0 &&
			    (nlen == len - i || !word[b[i + nlen]]))
				want |= 1u << k;
		}
		while (i < len && word[b[i]])
			i++;
	}
	return want;
}

uint32_t
lib_named_scan(const char *bytes, size_t len)
{
	const char *names[NLAZY];
	size_t i;

	for (i = 0; i < NLAZY; i++)
		names[i] = when_named[lazy_names[i].family] ?
		    lazy_names[i].name : NULL;
	return lib_scan_words(bytes, len, names, NLAZY);
}

void
lib_install_named(duk_context *ctx, uint32_t want)
{
	if (want == 0)
		return;
	/* A second accessor function, in these heaps only: keeping the
	 * first one for this would cost every heap a stash slot. */
	duk_push_global_object(ctx);
	duk_push_c_function(ctx, lazy_access, DUK_VARARGS);
	define_accessors(ctx, want);
	duk_pop_2(ctx);
}

void
lib_define_global(duk_context *ctx, const char *name)
{
	struct sandbox *sb = sandbox_of(ctx);
	int i = lazy_index(name);

	if (i >= 0 && (sb->lib.assigned & (1u << i))) {
		duk_pop(ctx);
		return;
	}
	duk_push_global_object(ctx);
	duk_push_string(ctx, name);
	duk_dup(ctx, -3);
	duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE |
	    DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_CLEAR_ENUMERABLE |
	    DUK_DEFPROP_SET_CONFIGURABLE | DUK_DEFPROP_FORCE);
	duk_pop_2(ctx);
}

void
lib_call_export(duk_context *ctx, enum lib_family f, const char *name,
    duk_idx_t nargs)
{
	lib_push_exports(ctx, f);
	duk_get_prop_string(ctx, -1, name);
	duk_remove(ctx, -2);
	duk_insert(ctx, -1 - nargs);
	duk_call(ctx, nargs);
}

void
lib_define_globals(duk_context *ctx, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		duk_get_prop_string(ctx, -1, names[i]);
		lib_define_global(ctx, names[i]);
	}
}

int
lib_run_task(struct sandbox *sb, duk_safe_call_function fn, void *udata)
{
	if (duk_safe_call(sb->ctx, fn, udata, 0, 1) != DUK_EXEC_SUCCESS) {
		if (sandbox_loop_must_stop(sb)) {
			duk_pop(sb->ctx);
			return -1;
		}
		lib_report_uncaught(sb->ctx, "Uncaught");
	} else
		duk_pop(sb->ctx);
	return lib_promise_drain(sb);
}

void
lib_push_stash_object(duk_context *ctx, const char *key)
{
	duk_push_global_stash(ctx);
	if (!duk_get_prop_string(ctx, -1, key)) {
		duk_pop(ctx);
		duk_push_bare_object(ctx);
		duk_dup(ctx, -1);
		duk_put_prop_string(ctx, -3, key);
	}
	duk_remove(ctx, -2);
}

void
lib_put_native(duk_context *ctx, const char *name, duk_c_function fn,
    duk_idx_t nargs)
{
	duk_push_c_function(ctx, fn, nargs);
	duk_put_prop_string(ctx, -2, name);
}

void
lib_run_source(duk_context *ctx, enum lib_family f, const char *src,
    size_t len, const char *name)
{
	/* src is the library's own source, built into the binary: not
	 * outside bytes, so it needs no trip through sandbox_push_text. */
	duk_push_lstring(ctx, src, len);
	duk_push_string(ctx, name);
	duk_compile(ctx, DUK_COMPILE_EVAL);
	duk_call(ctx, 0);
	if (!duk_is_function(ctx, -1))
		(void)duk_error(ctx, DUK_ERR_ERROR, "%s: not a library", name);
	duk_swap(ctx, -1, -2);
	duk_call(ctx, 1);
	duk_push_global_stash(ctx);
	if (!duk_get_prop_string(ctx, -1, HIDDEN_EXPORTS)) {
		duk_pop(ctx);
		duk_push_array(ctx);
		duk_dup(ctx, -1);
		duk_put_prop_string(ctx, -3, HIDDEN_EXPORTS);
	}
	duk_dup(ctx, -3);
	duk_put_prop_index(ctx, -2, (duk_uarridx_t)f);
	duk_pop_2(ctx);
}

void
lib_push_exports(duk_context *ctx, enum lib_family f)
{
	duk_push_global_stash(ctx);
	duk_get_prop_string(ctx, -1, HIDDEN_EXPORTS);
	duk_get_prop_index(ctx, -1, (duk_uarridx_t)f);
	duk_replace(ctx, -3);
	duk_pop(ctx);
}

/* [ value ] -> [ message ]: "label " + the value's stack or string. */
static duk_ret_t
uncaught_message_safe(duk_context *ctx, void *udata)
{
	const char *label = udata;

	if (duk_is_error(ctx, -1)) {
		duk_get_prop_string(ctx, -1, "stack");
		if (duk_is_string(ctx, -1))
			duk_swap(ctx, -1, -2);
		duk_pop(ctx);
	}
	duk_to_string(ctx, -1);
	duk_push_string(ctx, label);
	duk_push_string(ctx, " ");
	duk_dup(ctx, -3);
	duk_concat(ctx, 3);
	return 1;
}

void
lib_report_uncaught(duk_context *ctx, const char *label)
{
	struct sandbox *sb = sandbox_of(ctx);
	const char *s;
	duk_size_t n;

	if (duk_safe_call(ctx, uncaught_message_safe, (void *)label, 1, 1) !=
	    DUK_EXEC_SUCCESS) {
		duk_pop(ctx);
		sandbox_api_log(sb, "error", label, strlen(label));
		return;
	}
	s = duk_get_lstring(ctx, -1, &n);
	sandbox_api_log(sb, "error", s, n);
	duk_pop(ctx);
}
