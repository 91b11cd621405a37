/*
 * lib.h - the JavaScript library of SPEC §11 inside a heap: one family of
 * APIs per file (lib_promise.c, lib_timers.c, lib_fetch.c, lib_crypto.c),
 * each loaded into a heap the first time the function touches one of its
 * global names (lib.c), so a function that uses none of it pays nothing.
 * For sandbox.c, sandbox_loop.c and the families themselves only.
 *
 * Every entry point taking a duk_context allocates in the heap: call it
 * inside a protected call.
 */
#ifndef FNRUN_LIB_H
#define FNRUN_LIB_H

#include <stddef.h>
#include <stdint.h>

#include "duktape.h"

struct sandbox;
struct sandbox_result;

enum lib_family {
	LIB_PROMISE,	/* Promise, queueMicrotask, AggregateError */
	LIB_TIMERS,	/* setTimeout, setInterval and their clears */
	LIB_FETCH,	/* fetch, Request, Response, Headers, AbortController */
	LIB_CRYPTO,	/* crypto (TextEncoder/TextDecoder are the engine's) */
	LIB_URL,	/* URL, URLSearchParams */
	LIB_BASE64,	/* atob, btoa */
	LIB_CLONE,	/* structuredClone */
	LIB_PERFORMANCE,	/* performance */
	LIB_COLLECTIONS,	/* Map, Set, WeakMap, WeakSet */
	LIB_BUILTINS,	/* Array/Object/String methods (lib_builtins.c) */
	LIB_COUNT
};

/* lib.c: defines the library's global names on the global object as
 * accessors that load their family on first use (or take an assignment
 * without loading anything). Called once per heap by sandbox_new. */
void	lib_install(duk_context *ctx);

/* Which of the lazy names that are defined only where the code names
 * them (lib.c, when_named[]) occur in bytecode[0..len) (see
 * lib_builtins_scan): bit i for lazy name i. */
uint32_t	lib_named_scan(const char *bytes, size_t len);
/* Defines the accessors of the names of set want (lib_named_scan). */
void	lib_install_named(duk_context *ctx, uint32_t want);
/* The set of names[0..n) (n <= 32; NULL entries skipped) found as words
 * (of [A-Za-z0-9_$]) of bytes[0..len): bit k for names[k]. */
uint32_t	lib_scan_words(const char *bytes, size_t len,
	    const char *const *names, size_t n);

/* Loads family f (and what it needs) into the heap unless it is loaded;
 * its globals become plain data properties. Throws on failure. */
void	lib_require(duk_context *ctx, enum lib_family f);

/* Whether f is loaded in the heap of sb. */
int	lib_loaded(const struct sandbox *sb, enum lib_family f);

/* Runs JavaScript source src[0..len) of the library (our own bytes, not
 * input) named name; its completion value must be a function, which is
 * called with the object at the top of the stack (its natives). Replaces
 * that object with what the function returns (the family's exports) and
 * keeps the exports in the heap's stash for lib_push_exports. */
void	lib_run_source(duk_context *ctx, enum lib_family f, const char *src,
	    size_t len, const char *name);

/* Pushes the exports object of loaded family f. */
void	lib_push_exports(duk_context *ctx, enum lib_family f);

/* Defines global name as a data property holding the value at the top of
 * the stack (popped), unless the function assigned that name itself. */
void	lib_define_global(duk_context *ctx, const char *name);

/* [ arg1 .. argn ] -> [ result ]: calls exports[name] of loaded family f
 * with the nargs values at the top of the stack. */
void	lib_call_export(duk_context *ctx, enum lib_family f, const char *name,
	    duk_idx_t nargs);

/* Defines each of names as a global holding exports[name], exports being
 * the object at the top of the stack (left there). */
void	lib_define_globals(duk_context *ctx, const char *const *names,
	    size_t n);

/* [ value ] -> [ ]: logs "label value" (an error's stack, else its
 * string) as a console error of the call, like an uncaught exception in
 * a browser. Protected itself: reading the value may run the function's
 * code. */
void	lib_report_uncaught(duk_context *ctx, const char *label);

/* One task of the event loop: runs fn(udata) (a duk_safe_call function
 * taking nothing) and then the microtasks; an error it throws is logged
 * as an uncaught one of the call, unless the loop must stop. Returns 0,
 * or -1 when the loop must stop. */
int	lib_run_task(struct sandbox *sb, duk_safe_call_function fn,
	    void *udata);

/* [ ] -> [ obj ]: the object the stash holds under key, made (bare) the
 * first time: a family's per-call table (timers, requests). */
void	lib_push_stash_object(duk_context *ctx, const char *key);

/* Adds a C function to the object at the top of the stack. */
void	lib_put_native(duk_context *ctx, const char *name, duk_c_function fn,
	    duk_idx_t nargs);

/* lib_promise.c + promise.js. */
/* What the drain, the watch and the natives use of promise.js, as heap
 * pointers (duk_push_heapptr: no lookup by name, no string to intern).
 * Each is kept reachable from the global stash, and none is ever
 * replaced: the pointers stay valid for the heap's life. NULL until the
 * family is loaded. */
struct lib_promise_refs {
	void	*watch;		/* watch(value, res, fast) */
	void	*resolve_with;	/* resolveWith(rec, x) */
	void	*report;	/* reportUnhandled() */
	void	*compact;	/* compact(h) */
	void	*queue;		/* the job queue (an array emptied in place) */
	void	*unhandled;	/* rejections to report (the same) */
	void	*key;		/* the hidden key of a promise's record */
	void	*then;		/* Promise.prototype.then as made */
	void	*ctor;		/* Promise as made */
	void	*proto;		/* Promise.prototype */
	void	*target;	/* the watch's reaction target */
	void	*then_species;	/* thenSpecies(rec, C, f, r) */
	void	*resolve_any;	/* resolveAny(x), called as Promise.resolve */
	/* The slot of the queue's next job: the drain's place, kept after
	 * a job that threw out of it. */
	duk_uarridx_t	 head;
};

void	lib_promise_load(duk_context *ctx);
/* Runs queued microtasks until none is left or the loop must stop
 * (sandbox_loop_must_stop), then reports rejections nobody handled as
 * console errors. Returns 0, or -1 when something threw out of the queue
 * (timeout, memory): the error is left on the stack. */
int	lib_promise_drain(struct sandbox *sb);
/* Drops the microtasks still queued (the call has ended). */
void	lib_promise_reset(struct sandbox *sb);
/* [ ] -> [ reason ]: the reason the handler's promise rejected with
 * (SETTLED_REJECTED), forgotten by the heap from then on. */
void	lib_promise_push_rejection(duk_context *ctx);
/* [ value res ] -> []: watches the handler's return value (a thenable)
 * and records how it settles in the sandbox (sandbox_loop_settled). */
void	lib_promise_watch(duk_context *ctx);
/* [ ] -> [ promise resolve reject ]: a new pending promise and its
 * resolving functions, for the other families. */
void	lib_promise_push_deferred(duk_context *ctx);

/* lib_timers.c: one timer of a heap, kept in C so the loop knows when the
 * next one is due; its callback and arguments live in the heap. */
struct lib_timer {
	double		id;
	int64_t		due_ns;
	int64_t		interval_ns;	/* < 0: runs once */
};

struct lib_timers {
	struct lib_timer	*v;	/* sorted by due_ns, then id */
	size_t			 n;
	size_t			 cap;
	double			 next_id;
};

void	lib_timers_load(duk_context *ctx);
/* Pushes the heap's setTimeout (for the other families). */
void	lib_push_timers_set(duk_context *ctx);
/* Due time of the earliest timer, or -1 when there is none. */
int64_t	lib_timers_next_due(const struct sandbox *sb);
/* Runs the timers due at now, each followed by a microtask drain.
 * Returns 0, or -1 when the loop must stop. */
int	lib_timers_run_due(struct sandbox *sb, int64_t now);
/* Forgets every timer (the call has ended). Allocates nothing. */
void	lib_timers_clear(struct sandbox *sb);
void	lib_timers_free(struct lib_timers *t);

/* lib_fetch.c + fetch.js. */
void	lib_fetch_load(duk_context *ctx);
/* Whether the value at idx is a Response made by fetch.js. */
int	lib_fetch_is_response(duk_context *ctx, duk_idx_t idx);
/* [ response res ] -> [ error or undefined ]: sends the Response through
 * res.send. Returns 0, or -1 with the error left. Protected itself. */
int	lib_fetch_answer(duk_context *ctx);
/* Waits at most timeout_ms for the call's requests and does their work
 * (the response bytes held stay within what the heap may still take). */
void	lib_fetch_poll(struct sandbox *sb, int timeout_ms);
/* Settles the promises of the requests that finished, each followed by a
 * microtask drain. Returns 0, or -1 when the loop must stop. */
int	lib_fetch_run_done(struct sandbox *sb);
/* Cancels the call's requests still pending and moves their records to
 * res (if not NULL). Allocates nothing in the heap. */
void	lib_fetch_end(struct sandbox *sb, struct sandbox_result *res);

/* lib_crypto.c + crypto.js. */
void	lib_crypto_load(duk_context *ctx);

/* lib_url.c + url.js. */
void	lib_url_load(duk_context *ctx);

/* lib_base64.c. */
void	lib_base64_load(duk_context *ctx);

/* lib_clone.c + clone.js. */
void	lib_clone_load(duk_context *ctx);

/* lib_performance.c. */
void	lib_performance_load(duk_context *ctx);

/* lib_collections.c + collections.js. */
void	lib_collections_load(duk_context *ctx);

/* lib_builtins.c + builtins.js: the methods ES2015+ added to Array,
 * Object and String that the engine lacks. They are not globals, so no
 * accessor can load them: a function gets those whose names its code
 * mentions (lib_builtins_scan of its bytecode), installed before its top
 * level runs (lib_builtins_install). */
/* The set of the library's method names found as words in bytecode[0..
 * len) made by duk_dump_function: its string constants hold every global
 * and property name the code reads, each after its 32-bit big-endian
 * length and before a type byte or another big-endian length, so a name
 * constant is a word of its own. */
uint32_t	lib_builtins_scan(const char *bytes, size_t len);
/* Installs the methods of set want (from lib_builtins_scan). */
void	lib_builtins_install(duk_context *ctx, uint32_t want);
void	lib_builtins_load(duk_context *ctx);

#endif
