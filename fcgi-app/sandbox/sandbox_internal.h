/*
 * sandbox_internal.h - the state shared by sandbox.c (lifecycle, deadline)
 * and sandbox_api.c (the C functions visible to JavaScript), and the
 * entry points sandbox/lower uses for the compiler's heap. Not for any
 * file outside fcgi-app/sandbox/.
 */
#ifndef FNRUN_SANDBOX_INTERNAL_H
#define FNRUN_SANDBOX_INTERNAL_H

#include <stdint.h>

#include "duktape.h"
#include "lib.h"
#include "sandbox.h"
#include "sandbox_alloc.h"
#include "sandbox_lines.h"

/* How the promise the handler returned has settled (lib_promise.c). */
enum sandbox_settled {
	SETTLED_NO = 0,		/* pending, or nothing was returned */
	SETTLED_EMPTY,		/* fulfilled, with no answer */
	SETTLED_REJECTED	/* rejected: the reason is in the stash */
};

/* The library in this heap (lib/lib.h) and the call's event loop. */
struct sandbox_lib {
	unsigned		 loaded;	/* bit per enum lib_family */
	unsigned		 assigned;	/* lazy names set by the function */
	uint32_t		 builtins;	/* lib_builtins_scan of the code */
	uint32_t		 named;		/* lib_named_scan of the code */
	int			 in_call;	/* timers and fetch: calls only */
	int			 watching;	/* the handler returned a thenable */
	enum sandbox_settled	 settled;
	struct lib_promise_refs	 promise;
	struct lib_timers	 timers;
	/* fetch: made by the call's first request, ended with the call. */
	struct outbound		*net;
	const struct outbound_conf *net_conf;
};

/* The headers of a res.send in progress (sandbox_api.c). */
struct sandbox_pending {
	struct sandbox_header	*headers;
	size_t			 nheaders;
};

/* Frees p's headers and empties it. */
void	sandbox_pending_free(struct sandbox_pending *p);

struct sandbox {
	struct sandbox_alloc	 alloc;	/* first: the heap udata points here */
	duk_context		*ctx;
	struct sandbox_limits	 lim;
	int64_t			 deadline_ns;	/* 0: none */
	int			 timed_out;
	/* State of the call in progress, written by res.send/res.json. */
	unsigned long		 call_seq;	/* ties res objects to their call */
	int			 sent;
	int			 sending;	/* inside res.send/res.json */
	int			 sent_twice;
	int			 too_large;	/* res->message says what */
	struct sandbox_result	*res;
	/* Headers of a res.send in progress; moved to res only when the
	 * send succeeds, so a send that throws leaves nothing behind. Only
	 * the headers: a whole struct sandbox_result is 16 KiB of message
	 * every warm heap would carry. */
	struct sandbox_pending	 pending;
	struct sandbox_log	 log;
	struct sandbox_lib	 lib;
	/* Lowered code: its lines -> the uploaded source's (n == 0: none). */
	struct sandbox_lines	 lines;
};

/* The heap of sb, for json_in.c, which parses in a sandbox of its own so
 * the heap's udata is what the timeout check expects. */
duk_context	*sandbox_context(struct sandbox *sb);

/* The struct sandbox of the heap ctx belongs to. */
struct sandbox	*sandbox_of(duk_context *ctx);

/* A heap for the runtime's own JavaScript (the compiler of sandbox/lower):
 * the capped allocator and the deadline, none of a function's globals.
 * Free with sandbox_free. */
struct sandbox	*sandbox_new_bare(const struct sandbox_limits *lim);

/* Calls fn (a duk_safe_call function taking the nargs values at the top
 * of the stack) under a deadline lim.timeout_ms from now and the heap's
 * cap. Leaves one value on the stack: fn's result, or the error. Returns
 * 0 (res->outcome OUT_OK), or -1 with res->outcome OUT_TIMEOUT,
 * OUT_MEMORY_LIMIT or OUT_FUNCTION_ERROR and res->message set. */
int	sandbox_run(struct sandbox *sb, duk_safe_call_function fn,
	    void *udata, duk_idx_t nargs, struct sandbox_result *res);

/* [ fn ] -> [ fn ]: a malloc'd copy of fn's bytecode (the caller frees;
 * *len its size), or NULL. Allocates in the heap: protected calls only. */
void	*sandbox_dump_top(duk_context *ctx, size_t *len);

/* [ ] -> [ fn ]: the function whose bytecode bc[0..len) is, which must come
 * from sandbox_dump_top in this build and be verified (cache.c): Duktape
 * does not check bytecode. Protected calls only. */
void	 sandbox_push_bytecode(duk_context *ctx, const void *bc, size_t len);

/* sandbox_text.c: the only way bytes from outside enter a heap: pushes
 * s[0..len) (or the NUL-terminated s) as a string of valid UTF-8, every
 * invalid byte replaced by U+FFFD. Allocates in the heap: call it inside
 * a protected call. */
void	sandbox_push_text(duk_context *ctx, const char *s, size_t len);
void	sandbox_push_ctext(duk_context *ctx, const char *s);

/* sandbox_json.c: [ req body ] -> [ req ]: defines req.payload, the body
 * parsed as JSON on its first read (else the string), and keeps body for
 * it. Allocates in the heap: protected calls only. */
void	sandbox_json_define_payload(duk_context *ctx);
/* Replaces the global JSON.parse with one that tries json_fast.c first and
 * gives exactly what the engine's gives. */
void	sandbox_json_install(duk_context *ctx);

/* sandbox_api.c: installs console on the global object and removes
 * Duktape; pushes a new res object. */
void	sandbox_api_install(duk_context *ctx);
void	sandbox_api_push_res(duk_context *ctx);
/* Releases the captured console entries. */
void	sandbox_api_log_clear(struct sandbox_log *log);
/* Keeps one console entry of the call at level ("log", "error", ...),
 * within the call's console limits. */
void	sandbox_api_log(struct sandbox *sb, const char *level, const char *msg,
	    size_t len);

/* sandbox_loop.c: the event loop of one call (SPEC §11 "When an
 * invocation ends"). Runs microtasks, timers and outbound requests until
 * the answer is known, nothing is left that could produce it, or the
 * deadline; sets sb->timed_out at the deadline. */
void	sandbox_loop_run(struct sandbox *sb);
/* Whether running JavaScript must stop: the answer is known, or the
 * deadline or the memory cap was hit. */
int	sandbox_loop_must_stop(struct sandbox *sb);
/* Whether the answer is known: res.send/res.json returned or failed for
 * good, or the handler's promise rejected. */
int	sandbox_loop_answered(const struct sandbox *sb);
/* Whether a timer or an outbound request is still pending. */
int	sandbox_loop_pending(const struct sandbox *sb);
/* Cancels what the call left pending (timers, transfers, microtasks),
 * giving res (if not NULL) the record of the call's outbound requests.
 * Called once the call's outcome is decided and its deadline cleared. */
void	sandbox_loop_end(struct sandbox *sb, struct sandbox_result *res);

#endif
