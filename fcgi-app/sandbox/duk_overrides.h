/*
 * duk_overrides.h - fnrun's changes to Duktape's shipped configuration,
 * spliced by the Makefile at the __OVERRIDE_DEFINES__ placeholder of
 * /usr/share/duktape/duk_config.h. Owns nothing else.
 */
/* The execution deadline (SPEC §6): Duktape consults the check from its
 * bytecode interrupt; sandbox.c supplies it and reads the heap's udata. */
#define DUK_USE_INTERRUPT_COUNTER
#define DUK_USE_EXEC_TIMEOUT_CHECK(udata) sandbox_exec_timeout_check((udata))
duk_bool_t sandbox_exec_timeout_check(void *udata);

/* Math.random: Duktape seeds its own generator from the time in ms and
 * the heap address, so two heaps made in the same millisecond can draw
 * the same numbers. sandbox_random.c seeds from the OS instead. */
#define DUK_USE_GET_RANDOM_DOUBLE(udata) sandbox_random_double((udata))
double sandbox_random_double(void *udata);

/* Faster JSON.stringify of plain values; semantics are unchanged. */
#define DUK_USE_JSON_STRINGIFY_FASTPATH

/* Integer fast path in the executor (64-bit host). */
#define DUK_USE_FASTINT

/* Built-in functions as lightfuncs (a tagged C pointer, no object): a
 * warm heap holds ~35 KB less and is made with a third fewer
 * instructions. They have only a virtual length and name (the name
 * without its C address: Makefile) and cannot be extended; README "The
 * JavaScript" lists what differs for a function. */
#define DUK_USE_LIGHTFUNC_BUILTINS

/* The string table starts at 512 slots instead of 1,024: a warm hello
 * heap holds ~300-500 strings, so it ends at 512 either way; 1,024 kept
 * 4 KB of empty slots in every warm heap. It still grows with its load. */
#undef DUK_USE_STRTAB_MINSIZE
#define DUK_USE_STRTAB_MINSIZE 512

/* The literal cache (duk_push_literal, duk_get_prop_literal: strings the
 * C code names) has 64 entries instead of 256: it sits in every heap's
 * struct, 16 bytes an entry, and the runtime names ~20 literals. 3 KB
 * less per warm heap; callgrind counts of a warm call and of a new heap
 * unchanged (within 0.2%). */
#undef DUK_USE_LITCACHE_SIZE
#define DUK_USE_LITCACHE_SIZE 64
