/*
 * lib_builtins.c - the methods ES2015-ES2022 added to Array, Object and
 * String that Duktape 2.7 lacks (SPEC §11), installed into a heap only
 * when the function's code mentions their names.
 *
 * Why a scan: these are properties of built-in objects, not globals, so
 * the lazy accessors of lib.c cannot load them on first use, and an
 * accessor per method would cost every heap a property slot and an
 * interned name each. Instead sandbox.c passes the function's bytecode
 * (whose string constants hold every property name the code reads, after
 * the compiler folded constant expressions: 'pad' + 'Start' is one) to
 * lib_builtins_scan, and installs what it found before the top level
 * runs. A heap whose code mentions none of them pays nothing. A name
 * built at run time (['pad', 'Start'].join(''), code given to eval from
 * input) is not seen: such a method is then absent (README).
 *
 * Most are C functions (the searching ones for speed, the others
 * because code that names them is common: formatting with padStart,
 * Object.entries over a query): a small object each, where named. Their
 * loops check the deadline themselves (no bytecode runs in them). The
 * others (iterables, recursion, replacement patterns) are builtins.js,
 * loaded as family LIB_BUILTINS when one is wanted.
 */
#include <math.h>
#include <string.h>

#include "builtins_js.h"
#include "lib.h"
#include "sandbox_internal.h"

/* Which built-in object a method is installed on. */
enum target {
	T_ARRAY,
	T_ARRAY_PROTO,
	T_OBJECT,
	T_STRING_PROTO
};

/* magic of object_entries, string_pad, string_trim */
#define ENTRIES		0
#define VALUES		1
#define AT_START	0
#define AT_END		1

/* magic of the find family */
#define FIND_LAST	1	/* search from the end */
#define FIND_INDEX	2	/* answer the index, not the element */

/* A C loop checks the deadline every this many elements. */
#define TICK_MASK	0xfffu

struct method {
	const char	*name;
	enum target	 target;
	duk_c_function	 fn;	/* NULL: builtins.js's export js */
	const char	*js;
	duk_idx_t	 nargs;
	duk_int_t	 length;
	duk_int_t	 magic;
};

static duk_ret_t	array_includes(duk_context *);
static duk_ret_t	array_at(duk_context *);
static duk_ret_t	array_fill(duk_context *);
static duk_ret_t	array_find(duk_context *);
static duk_ret_t	object_entries(duk_context *);
static duk_ret_t	string_at(duk_context *);
static duk_ret_t	string_pad(duk_context *);
static duk_ret_t	string_trim(duk_context *);

#define C_METHOD(t, n, f, nargs, len, magic) \
	{ n, t, f, NULL, nargs, len, magic }
#define JS_METHOD(t, n, js) \
	{ n, t, NULL, js, 0, 0, 0 }

static const struct method methods[] = {
	JS_METHOD(T_ARRAY, "from", "from"),
	JS_METHOD(T_ARRAY, "of", "of"),
	C_METHOD(T_ARRAY_PROTO, "includes", array_includes, 2, 1, 0),
	C_METHOD(T_ARRAY_PROTO, "at", array_at, 1, 1, 0),
	C_METHOD(T_ARRAY_PROTO, "fill", array_fill, 3, 1, 0),
	C_METHOD(T_ARRAY_PROTO, "find", array_find, 2, 1, 0),
	C_METHOD(T_ARRAY_PROTO, "findIndex", array_find, 2, 1, FIND_INDEX),
	C_METHOD(T_ARRAY_PROTO, "findLast", array_find, 2, 1, FIND_LAST),
	C_METHOD(T_ARRAY_PROTO, "findLastIndex", array_find, 2, 1,
	    FIND_LAST | FIND_INDEX),
	JS_METHOD(T_ARRAY_PROTO, "flat", "flat"),
	JS_METHOD(T_ARRAY_PROTO, "flatMap", "flatMap"),
	C_METHOD(T_OBJECT, "entries", object_entries, 1, 1, ENTRIES),
	C_METHOD(T_OBJECT, "values", object_entries, 1, 1, VALUES),
	JS_METHOD(T_OBJECT, "fromEntries", "fromEntries"),
	C_METHOD(T_STRING_PROTO, "padStart", string_pad, 2, 2, AT_START),
	C_METHOD(T_STRING_PROTO, "padEnd", string_pad, 2, 2, AT_END),
	C_METHOD(T_STRING_PROTO, "trimStart", string_trim, 0, 0, AT_START),
	C_METHOD(T_STRING_PROTO, "trimEnd", string_trim, 0, 0, AT_END),
	C_METHOD(T_STRING_PROTO, "at", string_at, 1, 1, 0),
	JS_METHOD(T_STRING_PROTO, "replaceAll", "replaceAll"),
};

#define NMETHODS	(sizeof(methods) / sizeof(methods[0]))
_Static_assert(NMETHODS <= 32, "lib_builtins_scan answers a 32-bit set");

uint32_t
lib_builtins_scan(const char *bytes, size_t len)
{
	const char *names[NMETHODS];
	size_t m;

	for (m = 0; m < NMETHODS; m++)
		names[m] = methods[m].name;
	return lib_scan_words(bytes, len, names, NMETHODS);
}

/* Throws (a timeout, as the executor's own check would) once the call's
 * deadline has passed; called every TICK_MASK + 1 elements. */
static void
tick(duk_context *ctx, double k)
{
	/* k <= 2^53: exact in 64 bits. */
	if (((uint64_t)k & TICK_MASK) != 0)
		return;
	if (sandbox_exec_timeout_check(sandbox_of(ctx)))
		(void)duk_error(ctx, DUK_ERR_RANGE_ERROR, "execution timeout");
}

/* Built-in methods are not constructors (ECMAScript 2022 §18); a
 * Duktape/C function is one unless it refuses. */
static void
refuse_new(duk_context *ctx)
{
	if (duk_is_constructor_call(ctx))
		(void)duk_error(ctx, DUK_ERR_TYPE_ERROR, "not a constructor");
}

/* [ ... ] -> [ ... O ]: ToObject(this); returns ToLength(O.length). */
static double
push_this_object(duk_context *ctx)
{
	double n;

	refuse_new(ctx);
	duk_push_this(ctx);
	duk_to_object(ctx, -1);
	duk_get_prop_string(ctx, -1, "length");
	n = duk_to_number(ctx, -1);
	duk_pop(ctx);
	if (isnan(n) || n <= 0)
		return 0;
	n = floor(n);
	return n > 9007199254740991.0 ? 9007199254740991.0 : n;
}

static double
integer_or_infinity(duk_context *ctx, duk_idx_t idx)
{
	double n = duk_to_number(ctx, idx);

	if (isnan(n))
		return 0;
	return isinf(n) ? n : trunc(n);
}

/* A relative index (negative: from len) clamped to [0, len]. */
static double
relative(duk_context *ctx, duk_idx_t idx, double len, double otherwise)
{
	double n;

	if (duk_is_undefined(ctx, idx))
		return otherwise;
	n = integer_or_infinity(ctx, idx);
	if (n < 0)
		return n + len < 0 ? 0 : n + len;
	return n > len ? len : n;
}

/* [ ... ] -> [ ... key ] for index k. */
static void
push_key(duk_context *ctx, double k)
{
	if (k < 4294967295.0)
		duk_push_uint(ctx, (duk_uint_t)k);
	else
		duk_push_number(ctx, k);
}

/* [ ... ] -> [ ... O[k] ], O at idx. */
static void
get_index(duk_context *ctx, duk_idx_t o, double k)
{
	o = duk_normalize_index(ctx, o);
	if (k < 4294967295.0) {
		duk_get_prop_index(ctx, o, (duk_uarridx_t)k);
		return;
	}
	duk_push_number(ctx, k);
	duk_get_prop(ctx, o);
}

/* Array.prototype.includes(search, fromIndex): SameValueZero, holes
 * read as undefined. */
static duk_ret_t
array_includes(duk_context *ctx)
{
	double len = push_this_object(ctx), k;
	duk_idx_t o = duk_get_top(ctx) - 1;
	int nan = duk_is_number(ctx, 0) && isnan(duk_get_number(ctx, 0));

	if (len == 0) {
		duk_push_false(ctx);
		return 1;
	}
	for (k = relative(ctx, 1, len, 0); k < len; k++) {
		tick(ctx, k);
		get_index(ctx, o, k);
		if (nan ? duk_is_number(ctx, -1) &&
		    isnan(duk_get_number(ctx, -1)) :
		    duk_strict_equals(ctx, -1, 0)) {
			duk_push_true(ctx);
			return 1;
		}
		duk_pop(ctx);
	}
	duk_push_false(ctx);
	return 1;
}

static duk_ret_t
array_at(duk_context *ctx)
{
	double len = push_this_object(ctx);
	double k = integer_or_infinity(ctx, 0);

	if (k < 0)
		k += len;
	if (k < 0 || k >= len)
		return 0;
	get_index(ctx, -1, k);
	return 1;
}

/* Array.prototype.fill(value, start, end): writes that fail throw, as
 * C calls are strict. */
static duk_ret_t
array_fill(duk_context *ctx)
{
	double len = push_this_object(ctx);
	duk_idx_t o = duk_get_top(ctx) - 1;
	double k = relative(ctx, 1, len, 0);
	double end = relative(ctx, 2, len, len);

	for (; k < end; k++) {
		tick(ctx, k);
		push_key(ctx, k);
		duk_dup(ctx, 0);
		duk_put_prop(ctx, o);
	}
	return 1;
}

/* find, findIndex, findLast, findLastIndex (magic): predicate(value,
 * index, O) called with thisArg for every index, holes included. */
static duk_ret_t
array_find(duk_context *ctx)
{
	duk_int_t magic = duk_get_current_magic(ctx);
	double len = push_this_object(ctx), i, k;
	duk_idx_t o = duk_get_top(ctx) - 1;

	if (!duk_is_callable(ctx, 0))
		return duk_error(ctx, DUK_ERR_TYPE_ERROR,
		    "predicate is not a function");
	for (i = 0; i < len; i++) {
		k = (magic & FIND_LAST) ? len - 1 - i : i;
		tick(ctx, i);
		duk_dup(ctx, 0);
		duk_dup(ctx, 1);
		get_index(ctx, o, k);
		duk_push_number(ctx, k);
		duk_dup(ctx, o);
		duk_call_method(ctx, 3);
		if (duk_to_boolean(ctx, -1)) {
			if (magic & FIND_INDEX)
				duk_push_number(ctx, k);
			else
				get_index(ctx, o, k);
			return 1;
		}
		duk_pop(ctx);
	}
	if (magic & FIND_INDEX) {
		duk_push_int(ctx, -1);
		return 1;
	}
	return 0;
}

/* Object.entries / Object.values (magic): own enumerable string-keyed
 * properties in the engine's Object.keys order, read when reached (a
 * getter that deletes a later one removes it). */
static duk_ret_t
object_entries(duk_context *ctx)
{
	duk_int_t magic = duk_get_current_magic(ctx);
	duk_uarridx_t n = 0;

	refuse_new(ctx);
	duk_to_object(ctx, 0);
	duk_push_array(ctx);
	duk_enum(ctx, 0, DUK_ENUM_OWN_PROPERTIES_ONLY);
	while (duk_next(ctx, -1, 1)) {
		tick(ctx, (double)n);
		if (magic == ENTRIES) {
			/* [ key value ] -> [ [key, value] ] */
			duk_push_array(ctx);
			duk_insert(ctx, -3);
			duk_put_prop_index(ctx, -3, 1);
			duk_put_prop_index(ctx, -2, 0);
		} else
			duk_remove(ctx, -2);
		duk_put_prop_index(ctx, -3, n++);
	}
	duk_pop(ctx);
	return 1;
}

/* [ ... ] -> [ ... S ]: ToString(RequireObjectCoercible(this)). */
static void
push_this_string(duk_context *ctx)
{
	refuse_new(ctx);
	duk_push_this(ctx);
	if (duk_is_null_or_undefined(ctx, -1))
		(void)duk_error(ctx, DUK_ERR_TYPE_ERROR,
		    "String.prototype method called on null or undefined");
	duk_to_string(ctx, -1);
}

static duk_ret_t
string_at(duk_context *ctx)
{
	double len, k;

	push_this_string(ctx);
	len = (double)duk_get_length(ctx, -1);
	k = integer_or_infinity(ctx, 0);
	if (k < 0)
		k += len;
	if (k < 0 || k >= len)
		return 0;
	duk_substring(ctx, -1, (duk_size_t)k, (duk_size_t)k + 1);
	return 1;
}

/* padStart / padEnd (magic): the filler doubled until long enough, so a
 * huge length fails on the heap's cap, never loops. */
static duk_ret_t
string_pad(duk_context *ctx)
{
	duk_int_t magic = duk_get_current_magic(ctx);
	double max, fill;
	duk_size_t len;

	push_this_string(ctx);
	len = duk_get_length(ctx, -1);
	max = integer_or_infinity(ctx, 0);
	if (max <= (double)len)
		return 1;
	if (duk_is_undefined(ctx, 1))
		duk_push_string(ctx, " ");
	else {
		duk_dup(ctx, 1);
		duk_to_string(ctx, -1);
	}
	if (duk_get_length(ctx, -1) == 0) {
		duk_pop(ctx);
		return 1;
	}
	fill = max - (double)len;
	while ((double)duk_get_length(ctx, -1) < fill) {
		duk_dup_top(ctx);
		duk_concat(ctx, 2);
	}
	duk_substring(ctx, -1, 0, (duk_size_t)fill);
	if (magic == AT_START)
		duk_swap(ctx, -1, -2);
	duk_concat(ctx, 2);
	return 1;
}

/* WhiteSpace and LineTerminator (ECMAScript 2022 §12.2, §12.3), what the
 * engine's trim removes. */
static int
trimmed(duk_codepoint_t c)
{
	return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0xa0 ||
	    c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 ||
	    c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000 ||
	    c == 0xfeff;
}

/* trimStart / trimEnd (magic). */
static duk_ret_t
string_trim(duk_context *ctx)
{
	duk_int_t magic = duk_get_current_magic(ctx);
	duk_size_t start = 0, end;

	push_this_string(ctx);
	end = duk_get_length(ctx, -1);
	if (magic == AT_START)
		while (start < end && trimmed(duk_char_code_at(ctx, -1, start)))
			start++;
	else
		while (end > 0 && trimmed(duk_char_code_at(ctx, -1, end - 1)))
			end--;
	duk_substring(ctx, -1, start, end);
	return 1;
}

void
lib_builtins_load(duk_context *ctx)
{
	duk_push_object(ctx);
	lib_run_source(ctx, LIB_BUILTINS, builtins_js, sizeof(builtins_js),
	    "fnrun:builtins.js");
	duk_pop(ctx);
}

/* [ ... ] -> [ ... obj ]: the built-in object t of the heap. */
static void
push_target(duk_context *ctx, enum target t)
{
	duk_push_global_object(ctx);
	duk_get_prop_string(ctx, -1, t == T_OBJECT ? "Object" :
	    t == T_STRING_PROTO ? "String" : "Array");
	duk_remove(ctx, -2);
	if (t == T_ARRAY_PROTO || t == T_STRING_PROTO) {
		duk_get_prop_string(ctx, -1, "prototype");
		duk_remove(ctx, -2);
	}
}

/* [ ... ] -> [ ... fn ]: method m as a Duktape/C function with its name
 * and length, as the engine's own methods have them. Not a lightfunc,
 * which would save ~150 bytes a method where named: a lightfunc's name
 * and String() show its C address ("light_00005587a79b9360_0012"),
 * telling the function where the worker's code is. */
static void
push_native(duk_context *ctx, const struct method *m)
{
	duk_push_c_function(ctx, m->fn, m->nargs);
	duk_set_magic(ctx, -1, m->magic);
	duk_push_string(ctx, "name");
	duk_push_string(ctx, m->name);
	duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE |
	    DUK_DEFPROP_CLEAR_WRITABLE | DUK_DEFPROP_CLEAR_ENUMERABLE |
	    DUK_DEFPROP_SET_CONFIGURABLE);
	duk_push_string(ctx, "length");
	duk_push_int(ctx, m->length);
	duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE |
	    DUK_DEFPROP_CLEAR_WRITABLE | DUK_DEFPROP_CLEAR_ENUMERABLE |
	    DUK_DEFPROP_SET_CONFIGURABLE);
}

void
lib_builtins_install(duk_context *ctx, uint32_t want)
{
	const struct method *m;
	size_t i;

	for (i = 0; i < NMETHODS; i++) {
		if (!(want & (1u << i)))
			continue;
		m = &methods[i];
		push_target(ctx, m->target);
		duk_push_string(ctx, m->name);
		if (m->fn != NULL)
			push_native(ctx, m);
		else {
			lib_require(ctx, LIB_BUILTINS);
			lib_push_exports(ctx, LIB_BUILTINS);
			duk_get_prop_string(ctx, -1, m->js);
			duk_remove(ctx, -2);
		}
		/* As the engine's own methods: not enumerable (a for-in over
		 * an array must not see them), writable, configurable. */
		duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE |
		    DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_CLEAR_ENUMERABLE |
		    DUK_DEFPROP_SET_CONFIGURABLE);
		duk_pop(ctx);
	}
}
