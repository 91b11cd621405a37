/*
 * sandbox.c - Duktape heap lifecycle, the execution deadline, and
 * compile / run / call. User code only ever runs inside duk_pcall here.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "clock.h"
#include "sandbox_internal.h"
#include "sandbox_lines.h"
#include "utf8.h"

_Static_assert(offsetof(struct sandbox, alloc) == 0,
    "the heap udata must point at the allocator accounting");

/* Process-wide on purpose: Duktape's fatal callback gets only the heap's
 * udata, and the reaction (answer, exit) is the process's, set once by
 * guard.c. A heap's limits and state live in its struct sandbox. */
static void	(*fatal_handler)(const char *msg);

void
sandbox_set_fatal_handler(void (*fn)(const char *msg))
{
	fatal_handler = fn;
}

/* Duktape calls this when an error escapes every protected call. Returning
 * would continue in undefined state, so it never does. */
static void
on_fatal(void *udata, const char *msg)
{
	(void)udata;
	if (fatal_handler != NULL)
		fatal_handler(msg != NULL ? msg : "fatal error");
	abort();
}

/* DUK_USE_EXEC_TIMEOUT_CHECK (duk_overrides.h). Once the deadline passed it
 * keeps answering 1, so catch-and-continue and finally loops are stopped
 * again at their next interrupt. */
duk_bool_t
sandbox_exec_timeout_check(void *udata)
{
	struct sandbox *sb = udata;

	if (sb == NULL || sb->deadline_ns == 0)
		return 0;
	if (sb->timed_out || clock_ns() >= sb->deadline_ns) {
		sb->timed_out = 1;
		return 1;
	}
	return 0;
}

/* Native calls (a regexp, a join) run between interrupts: code can finish
 * past its deadline without the check ever firing. It ran too long all the
 * same, so its result must not count. Returns sb->timed_out. */
static int
overran(struct sandbox *sb)
{
	if (sb->deadline_ns != 0 && clock_ns() >= sb->deadline_ns)
		sb->timed_out = 1;
	return sb->timed_out;
}

struct sandbox *
sandbox_of(duk_context *ctx)
{
	duk_memory_functions funcs;

	duk_get_memory_functions(ctx, &funcs);
	return funcs.udata;
}

/* The globals a function sees, and the library's lazy names. A heap
 * too small for them fails here, protected, instead of fatally. */
static duk_ret_t
install_safe(duk_context *ctx, void *udata)
{
	(void)udata;
	sandbox_api_install(ctx);
	sandbox_json_install(ctx);
	lib_install(ctx);
	return 0;
}

/* lim, its zero fields the SPEC §6 defaults, becomes sb's: the cap, the
 * budgets and the response and console bounds, all read when used. */
static void
set_limits(struct sandbox *sb, const struct sandbox_limits *lim)
{
	sb->lim = *lim;
	if (sb->lim.headers_max == 0)
		sb->lim.headers_max = SANDBOX_HEADERS_MAX;
	if (sb->lim.header_bytes_max == 0)
		sb->lim.header_bytes_max = SANDBOX_HEADER_BYTES_MAX;
	if (sb->lim.log_entries_max == 0)
		sb->lim.log_entries_max = SANDBOX_LOG_ENTRIES_MAX;
	sb->alloc.limit = lim->memory_bytes;
}

/* A heap with the capped allocator and the deadline of sb, and nothing
 * else installed. */
static struct sandbox *
heap_new(const struct sandbox_limits *lim)
{
	struct sandbox *sb;

	if ((sb = calloc(1, sizeof(*sb))) == NULL)
		return NULL;
	set_limits(sb, lim);
	/* The cap applies once the heap exists: an allocation refused while
	 * Duktape makes its built-ins throws an error whose own allocation
	 * fails in turn, recursing until the stack overflows (a cap of 16 to
	 * 56 KiB did, 24 to 96 KiB before lightfuncs). A heap that is already
	 * over the cap is refused here instead. */
	sb->alloc.limit = SIZE_MAX;
	sb->ctx = duk_create_heap(sandbox_alloc_malloc, sandbox_alloc_realloc,
	    sandbox_alloc_free, sb, on_fatal);
	if (sb->ctx != NULL && sb->alloc.used > lim->memory_bytes) {
		duk_destroy_heap(sb->ctx);
		sb->ctx = NULL;
	}
	if (sb->ctx == NULL) {
		free(sb);
		return NULL;
	}
	sb->alloc.limit = lim->memory_bytes;
	return sb;
}

struct sandbox *
sandbox_new(const struct sandbox_limits *lim)
{
	struct sandbox *sb;

	if ((sb = heap_new(lim)) == NULL)
		return NULL;
	if (duk_safe_call(sb->ctx, install_safe, NULL, 0, 1) !=
	    DUK_EXEC_SUCCESS) {
		sandbox_free(sb);
		return NULL;
	}
	duk_pop(sb->ctx);
	return sb;
}

int
sandbox_set_limits(struct sandbox *sb, const struct sandbox_limits *lim)
{
	if (sb->alloc.used > lim->memory_bytes)
		return -1;
	set_limits(sb, lim);
	/* Its first call's peak starts from what the heap holds now. */
	sb->alloc.peak = sb->alloc.used;
	return 0;
}

static duk_ret_t
compact_safe(duk_context *ctx, void *udata)
{
	(void)udata;
	duk_gc(ctx, DUK_GC_COMPACT);
	return 0;
}

void
sandbox_compact(struct sandbox *sb)
{
	/* No user code runs in a collection: finalizers went away with the
	 * Duktape object (sandbox_api_install). */
	(void)duk_safe_call(sb->ctx, compact_safe, NULL, 0, 1);
	duk_pop(sb->ctx);
}

struct sandbox *
sandbox_new_bare(const struct sandbox_limits *lim)
{
	return heap_new(lim);
}

int
sandbox_set_lines(struct sandbox *sb, const char *text, size_t len)
{
	sandbox_lines_free(&sb->lines);
	return sandbox_lines_parse(text, len, &sb->lines);
}

void
sandbox_free(struct sandbox *sb)
{
	if (sb == NULL)
		return;
	/* No user code runs here: finalizers are registered with Duktape.fin,
	 * which went away with the Duktape object (sandbox_api_install). */
	duk_destroy_heap(sb->ctx);
	lib_timers_free(&sb->lib.timers);
	sandbox_pending_free(&sb->pending);
	sandbox_api_log_clear(&sb->log);
	sandbox_lines_free(&sb->lines);
	free(sb);
}

void
sandbox_result_init(struct sandbox_result *res)
{
	res->outcome = OUT_OK;
	res->message[0] = '\0';
	res->line = 0;
	res->stack = NULL;
	res->status = 0;
	res->headers = NULL;
	res->nheaders = 0;
	res->body = NULL;
	res->body_len = 0;
	res->fetches.v = NULL;
	res->fetches.n = 0;
}

static void
begin(struct sandbox *sb, struct sandbox_result *res)
{
	sandbox_result_init(res);
	sandbox_api_log_clear(&sb->log);
	sb->alloc.hit_limit = 0;
	sb->timed_out = 0;
	sb->sent = sb->sending = sb->sent_twice = sb->too_large = 0;
	sb->lib.watching = 0;
	sb->lib.settled = SETTLED_NO;
	sb->res = res;
	sb->call_seq++;
	/* The peak reported for a call is that call's, on a warm heap too. */
	sb->alloc.peak = sb->alloc.used;
	sb->deadline_ns = clock_ns() + (int64_t)sb->lim.timeout_ms * 1000000;
}

static void
end(struct sandbox *sb)
{
	sandbox_pending_free(&sb->pending);
	sb->deadline_ns = 0;
	sb->res = NULL;
}

static void
set_message(struct sandbox_result *res, const char *fmt, const char *s)
{
	snprintf(res->message, sizeof(res->message), fmt, s);
}

/* The length of s[0..len) cut to at most max bytes, at a UTF-8 sequence
 * boundary. */
static size_t
cut_at(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

/* SPEC §6: message and stack are bounded, and say so when cut. */
static void
copy_bounded(char *dst, const char *s, size_t len)
{
	size_t n = cut_at(s, len, SANDBOX_ERROR_TEXT_MAX);

	memcpy(dst, s, n);
	if (n < len) {
		memcpy(dst + n, SANDBOX_TRUNCATED_MARKER,
		    sizeof(SANDBOX_TRUNCATED_MARKER));
		return;
	}
	dst[n] = '\0';
}

static char *
dup_bounded(const char *s, size_t len)
{
	char *d;

	if ((d = malloc(SANDBOX_ERROR_TEXT_MAX +
	    sizeof(SANDBOX_TRUNCATED_MARKER))) == NULL)
		abort();
	copy_bounded(d, s, len);
	return d;
}

/* Duktape's compiler reports the line only in the message, as
 * "SyntaxError: ... (line N)"; its lineNumber property is the C source
 * line of the compiler. Returns N, or 0 when absent. */
static int
syntax_line(const char *msg)
{
	const char *p = strstr(msg, "(line ");
	long v;

	if (p == NULL)
		return 0;
	v = strtol(p + 6, NULL, 10);
	return v > 0 && v < 1000000000 ? (int)v : 0;
}

/* Points *s, *n at the text with the lines of lowered code made lines of
 * the source as uploaded (SPEC §4), kept in tmp, when sb runs lowered
 * code; else leaves them. */
static void
uploaded_lines(const struct sandbox *sb, const char **s, duk_size_t *n,
    struct buf *tmp)
{
	if (sb->lines.n == 0)
		return;
	buf_reset(tmp);
	sandbox_lines_rewrite(&sb->lines, *s, *n, tmp);
	*s = tmp->data != NULL ? tmp->data : "";
	*n = tmp->len;
}

struct describe {
	struct sandbox		*sb;
	struct sandbox_result	*res;
	struct buf		 tmp;
};

/* [ err ] -> []: String(err) and err.stack into res. Both may run the
 * function's own code (a toString, a stack getter) that throws, loops or
 * allocates: hence a protected call, under the deadline and the cap. */
static duk_ret_t
describe_safe(duk_context *ctx, void *udata)
{
	struct describe *d = udata;
	/* A safe call runs in its caller's frame: the argument is the top. */
	duk_idx_t err = duk_normalize_index(ctx, -1);
	const char *s;
	duk_size_t n;

	duk_dup(ctx, err);
	s = duk_to_lstring(ctx, -1, &n);
	uploaded_lines(d->sb, &s, &n, &d->tmp);
	copy_bounded(d->res->message, s, n);
	if (duk_is_error(ctx, err)) {
		duk_get_prop_string(ctx, err, "stack");
		if (duk_is_string(ctx, -1)) {
			s = duk_get_lstring(ctx, -1, &n);
			uploaded_lines(d->sb, &s, &n, &d->tmp);
			d->res->stack = dup_bounded(s, n);
		}
	}
	return 0;
}

/* Fills res from the error at the top of the stack (left there); the
 * outcome depends on why it was thrown, not on what the code did with it,
 * and reading the error can itself run out of time or memory. */
static void
take_error(struct sandbox *sb, struct sandbox_result *res,
    enum outcome otherwise)
{
	duk_context *ctx = sb->ctx;
	struct describe d = { sb, res, { 0 } };

	if (!sb->timed_out && !sb->alloc.hit_limit) {
		duk_dup(ctx, -1);
		if (duk_safe_call(ctx, describe_safe, &d, 1, 1) != 0 &&
		    res->message[0] == '\0')
			set_message(res, "%s", "a value was thrown whose "
			    "description could not be read");
		duk_pop(ctx);
		buf_free(&d.tmp);
		overran(sb);
	}
	if (sb->timed_out || sb->alloc.hit_limit) {
		free(res->stack);
		res->stack = NULL;
	}
	if (sb->timed_out) {
		res->outcome = OUT_TIMEOUT;
		snprintf(res->message, sizeof(res->message),
		    "function exceeded its time limit of %u ms",
		    sb->lim.timeout_ms);
		return;
	}
	if (sb->alloc.hit_limit) {
		res->outcome = OUT_MEMORY_LIMIT;
		snprintf(res->message, sizeof(res->message),
		    "function exceeded its memory limit of %zu bytes",
		    sb->lim.memory_bytes);
		return;
	}
	res->outcome = otherwise;
	if (otherwise == OUT_SYNTAX_ERROR)
		res->line = syntax_line(res->message);
}

struct load_args {
	const char	*src;
	size_t		 len;
	const char	*filename;
};

/* A source is compiled as Node compiles a CommonJS module (README "The
 * JavaScript"): the body of a function whose parameters are module and
 * exports, so its top-level var and function declarations are the
 * module's, not the global object's, and a call finds them in the
 * closure instead of by a lookup in the global object. The head shares
 * the source's first line (lines in errors and stacks stay the source's);
 * the tail hands back a function named action when the scope has one. */
#define MODULE_HEAD	"function (module, exports) {"
#define MODULE_TAIL	"\n;return typeof action === 'function' ? action : " \
			"void 0;\n}"

/* [ ] -> [ module function ]. Duktape compiles a function expression
 * (DUK_COMPILE_FUNCTION) up to its closing brace and ignores what
 * follows: a source that closes the head's brace early would cut the
 * tail off and be silently shortened. So the source is first compiled
 * as a program: one that compiles is a complete statement list, lexed
 * the same from the start of a function body (no open brace, comment,
 * string or regular expression at its end; no return), so the function
 * ends at the tail's brace. Its syntax errors, with their lines, are the
 * program's. */
static duk_ret_t
compile_safe(duk_context *ctx, void *udata)
{
	const struct load_args *a = udata;

	/* The source was checked to be valid UTF-8: it goes in verbatim. */
	sandbox_push_text(ctx, a->src, a->len);
	duk_push_string(ctx, a->filename);
	duk_compile(ctx, 0);
	duk_pop(ctx);
	duk_push_string(ctx, MODULE_HEAD);
	sandbox_push_text(ctx, a->src, a->len);
	duk_push_string(ctx, MODULE_TAIL);
	duk_concat(ctx, 3);
	duk_push_string(ctx, a->filename);
	duk_compile(ctx, DUK_COMPILE_FUNCTION);
	return 1;
}

struct dump_out {
	void	*bytes;
	size_t	 len;
};

void *
sandbox_dump_top(duk_context *ctx, size_t *len)
{
	const void *p;
	void *out = NULL;
	duk_size_t n;

	*len = 0;
	duk_dup(ctx, -1);
	duk_dump_function(ctx);
	p = duk_get_buffer(ctx, -1, &n);
	if (p != NULL && n > 0 && (out = malloc(n)) != NULL) {
		memcpy(out, p, n);
		*len = n;
	}
	duk_pop(ctx);
	return out;
}

void
sandbox_push_bytecode(duk_context *ctx, const void *bc, size_t len)
{
	void *p = duk_push_fixed_buffer(ctx, len);

	memcpy(p, bc, len);
	duk_load_function(ctx);
}

/* [ fn ] -> [ fn ]; copies the function's bytecode out of the heap. */
static duk_ret_t
dump_safe(duk_context *ctx, void *udata)
{
	struct dump_out *out = udata;

	out->bytes = sandbox_dump_top(ctx, &out->len);
	return 0;
}

/* What of the library the code names (lib_named_scan, lib_builtins_scan):
 * its bytecode, whose string constants hold every global and property
 * name it reads. */
static void
lib_scan_code(struct sandbox *sb, const void *code, size_t len)
{
	sb->lib.named = lib_named_scan(code, len);
	sb->lib.builtins = lib_builtins_scan(code, len);
}

/* [ module function ] -> [ handler found ]: runs the top level with a
 * new module and exports (this is exports, as in Node), then finds the
 * handler (SPEC §5, the first that applies: export default, which the
 * lowering makes exports.default; a module.exports function; function
 * action, which the module function returns) and keeps it in the global
 * stash. Reading them may run a getter of the function's: everything
 * here is protected. */
static duk_ret_t
top_level_safe(duk_context *ctx, void *udata)
{
	(void)udata;
	/* The library names the code names, before any of it runs. */
	lib_install_named(ctx, sandbox_of(ctx)->lib.named);
	lib_builtins_install(ctx, sandbox_of(ctx)->lib.builtins);
	/* [ fn ] -> [ module exports fn exports module exports ] */
	duk_push_object(ctx);
	duk_push_object(ctx);
	duk_dup(ctx, -1);
	duk_put_prop_string(ctx, -3, "exports");
	duk_pull(ctx, -3);
	duk_dup(ctx, -2);
	duk_dup(ctx, -4);
	duk_dup(ctx, -4);
	duk_call_method(ctx, 2);
	/* [ module exports action ] */
	duk_push_global_stash(ctx);
	duk_get_prop_string(ctx, -3, "default");
	if (!duk_is_function(ctx, -1)) {
		duk_pop(ctx);
		duk_get_prop_string(ctx, -4, "exports");
	}
	if (!duk_is_function(ctx, -1)) {
		duk_pop(ctx);
		duk_dup(ctx, -2);
	}
	if (!duk_is_function(ctx, -1)) {
		duk_push_false(ctx);
		return 1;
	}
	duk_put_prop_string(ctx, -2, "handler");
	/* The heap is compacted once kept warm, after the first call's
	 * answer is sent (sandbox_compact): not on the first call's path. */
	duk_push_true(ctx);
	return 1;
}

/* [ module function ] -> []. Returns 0 when the handler was found. */
static int
run_top_level(struct sandbox *sb, struct sandbox_result *res)
{
	duk_context *ctx = sb->ctx;
	int rc = -1;

	/* Promise jobs the top level queued run in its budget; timers and
	 * outbound requests are for calls only (lib_timers.c). */
	if (duk_safe_call(ctx, top_level_safe, NULL, 1, 1) != DUK_EXEC_SUCCESS ||
	    lib_promise_drain(sb) == -1 || overran(sb))
		take_error(sb, res, OUT_FUNCTION_ERROR);
	else if (!duk_get_boolean(ctx, -1)) {
		res->outcome = OUT_NO_HANDLER;
		set_message(res, "%s", "the source provides no handler: write "
		    "export default function (req, res) {...}, assign "
		    "module.exports = function (req, res) {...} or define "
		    "function action(req, res) {...}");
	} else
		rc = 0;
	duk_pop(ctx);
	return rc;
}

/* The 1-based line of byte off in src. */
static int
line_of(const char *src, size_t off)
{
	int line = 1;
	size_t i;

	for (i = 0; i < off; i++)
		if (src[i] == '\n')
			line++;
	return line;
}

int
sandbox_source_utf8(const char *src, size_t len, struct sandbox_result *res)
{
	size_t ok;

	if ((ok = utf8_valid_prefix(src, len)) == len)
		return 0;
	res->outcome = OUT_SYNTAX_ERROR;
	res->line = line_of(src, ok);
	snprintf(res->message, sizeof(res->message), "SyntaxError: "
	    "the source is not valid UTF-8 (line %d)", res->line);
	return -1;
}

int
sandbox_load(struct sandbox *sb, const char *src, size_t len,
    const char *filename, void **dump, size_t *dump_len,
    struct sandbox_result *res)
{
	duk_context *ctx = sb->ctx;
	struct load_args a = { src, len, filename };
	struct dump_out out = { NULL, 0 };
	int rc = -1;

	begin(sb, res);
	if (dump != NULL) {
		*dump = NULL;
		*dump_len = 0;
	}
	if (sandbox_source_utf8(src, len, res) == -1)
		goto out;
	if (duk_safe_call(ctx, compile_safe, &a, 0, 1) != DUK_EXEC_SUCCESS) {
		take_error(sb, res, OUT_SYNTAX_ERROR);
		duk_pop(ctx);
		goto out;
	}
	/* With no return values, a failed dump leaves the stack as it was:
	 * [ module function ]. It then simply is not cached. The library
	 * the code names is read from the bytecode, as in a heap loaded from
	 * it (the source only when there is none: it names more, never
	 * less). */
	if (duk_safe_call(ctx, dump_safe, &out, 0, 0) == 0 &&
	    out.bytes != NULL)
		lib_scan_code(sb, out.bytes, out.len);
	else
		lib_scan_code(sb, src, len);
	if (dump != NULL) {
		*dump = out.bytes;
		*dump_len = out.len;
	} else
		free(out.bytes);
	rc = run_top_level(sb, res);
out:
	end(sb);
	return rc;
}

int
sandbox_run(struct sandbox *sb, duk_safe_call_function fn, void *udata,
    duk_idx_t nargs, struct sandbox_result *res)
{
	int rc = -1;

	begin(sb, res);
	if (duk_safe_call(sb->ctx, fn, udata, nargs, 1) != DUK_EXEC_SUCCESS ||
	    overran(sb))
		take_error(sb, res, OUT_FUNCTION_ERROR);
	else {
		res->outcome = OUT_OK;
		rc = 0;
	}
	end(sb);
	return rc;
}

struct bytecode_args {
	const void	*bc;
	size_t		 len;
};

/* Bytecode of another form (a program, as sources were compiled before
 * MODULE_HEAD) is never run as a module function: its engine build
 * differs (cache.c keys it with SANDBOX_CODE_FORM), and what is loaded
 * must take module and exports as the module function does. */
static duk_ret_t
load_safe(duk_context *ctx, void *udata)
{
	const struct bytecode_args *a = udata;

	sandbox_push_bytecode(ctx, a->bc, a->len);
	duk_get_prop_string(ctx, -1, "length");
	if (duk_get_int(ctx, -1) != 2)
		(void)duk_error(ctx, DUK_ERR_ERROR, "the bytecode is not of "
		    "a module function");
	duk_pop(ctx);
	return 1;
}

int
sandbox_load_bytecode(struct sandbox *sb, const void *bc, size_t len,
    struct sandbox_result *res)
{
	duk_context *ctx = sb->ctx;
	struct bytecode_args a = { bc, len };
	int rc = -1;

	begin(sb, res);
	lib_scan_code(sb, bc, len);
	if (duk_safe_call(ctx, load_safe, &a, 0, 1) != DUK_EXEC_SUCCESS) {
		take_error(sb, res, OUT_FUNCTION_ERROR);
		duk_pop(ctx);
		goto out;
	}
	rc = run_top_level(sb, res);
out:
	end(sb);
	return rc;
}

static void
push_kv_object(duk_context *ctx, const struct sandbox_kv *kv, size_t n)
{
	size_t i;

	duk_push_object(ctx);
	for (i = 0; i < n; i++) {
		/* Defined, not assigned: a query key "__proto__" must become an
		 * own property, not call Object.prototype's __proto__ setter. */
		sandbox_push_ctext(ctx, kv[i].name);
		sandbox_push_text(ctx, kv[i].value, kv[i].value_len);
		duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE |
		    DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_SET_ENUMERABLE |
		    DUK_DEFPROP_SET_CONFIGURABLE | DUK_DEFPROP_FORCE);
	}
}

/* Pushes req (SPEC §5). */
static void
push_req(duk_context *ctx, const struct sandbox_request *rq)
{
	duk_push_object(ctx);
	sandbox_push_ctext(ctx, rq->method);
	duk_put_prop_string(ctx, -2, "method");
	sandbox_push_ctext(ctx, rq->path);
	duk_put_prop_string(ctx, -2, "path");
	push_kv_object(ctx, rq->query, rq->nquery);
	duk_put_prop_string(ctx, -2, "query");
	push_kv_object(ctx, rq->headers, rq->nheaders);
	duk_put_prop_string(ctx, -2, "headers");
	sandbox_push_text(ctx, rq->body, rq->body_len);
	duk_dup(ctx, -1);
	duk_put_prop_string(ctx, -3, "body");
	/* Parsed when the function first reads it: most never do. */
	sandbox_json_define_payload(ctx);
	push_kv_object(ctx, rq->env, rq->nenv);
	duk_put_prop_string(ctx, -2, "env");
}

/* [] -> [ handler's return value ]: the whole call, prologue included, in
 * one protected call, so a heap at its cap fails as memory_limit instead
 * of a fatal error. A returned thenable (SPEC §5: async handlers) or
 * Response is watched: how it settles is the answer unless res was
 * called. Reading
 * "then" of a plain returned object may run a getter of the function's,
 * hence here. */
static duk_ret_t
call_safe(duk_context *ctx, void *udata)
{
	struct sandbox *sb = sandbox_of(ctx);
	const struct sandbox_request *rq = udata;

	duk_push_global_stash(ctx);
	duk_get_prop_string(ctx, -1, "handler");
	duk_remove(ctx, -2);
	push_req(ctx, rq);
	sandbox_api_push_res(ctx);
	duk_dup(ctx, -1);
	duk_insert(ctx, -4);
	duk_call(ctx, 2);
	/* [ res ret ] */
	if (sandbox_loop_answered(sb) || !duk_is_object(ctx, -1))
		return 1;
	duk_get_prop_string(ctx, -1, "then");
	if (!duk_is_function(ctx, -1) && !lib_fetch_is_response(ctx, -2)) {
		duk_pop(ctx);
		return 1;
	}
	duk_pop(ctx);
	duk_dup(ctx, -1);
	duk_dup(ctx, -3);
	lib_promise_watch(ctx);
	sb->lib.watching = 1;
	return 1;
}

static duk_ret_t
rejection_safe(duk_context *ctx, void *udata)
{
	(void)udata;
	lib_promise_push_rejection(ctx);
	return 1;
}

/* After the handler and its loop, when no answer was given: why. */
static void
no_answer(struct sandbox *sb, struct sandbox_result *res)
{
	if (sb->lib.watching && sb->lib.settled == SETTLED_NO) {
		/* Nothing is left that could settle it: waiting for the
		 * deadline could only end in this same timeout. */
		res->outcome = OUT_TIMEOUT;
		snprintf(res->message, sizeof(res->message), "the handler's "
		    "promise never settled and nothing was left to settle it "
		    "(time limit %u ms)", sb->lim.timeout_ms);
		return;
	}
	res->outcome = OUT_NO_RESPONSE;
	set_message(res, "%s", sb->lib.watching ? "the handler's promise "
	    "resolved without calling res.send or res.json or resolving to "
	    "a Response" : "the handler returned without calling res.send "
	    "or res.json");
}

int
sandbox_call(struct sandbox *sb, const struct sandbox_request *rq,
    struct sandbox_result *res)
{
	duk_context *ctx = sb->ctx;
	int rc = -1, failed;

	begin(sb, res);
	sb->lib.in_call = 1;
	sb->lib.net_conf = rq->net;
	failed = duk_safe_call(ctx, call_safe, (void *)rq, 0, 1) !=
	    DUK_EXEC_SUCCESS;
	/* A function that touched none of the library has nothing to wait
	 * for: its call ends here, as a synchronous one always did. */
	if (!failed && sb->lib.loaded != 0)
		sandbox_loop_run(sb);
	overran(sb);
	/* Why the call ended decides the outcome, whatever the code caught. */
	if (sb->timed_out)
		take_error(sb, res, OUT_TIMEOUT);
	else if (sb->too_large)
		res->outcome = OUT_RESPONSE_TOO_LARGE;	/* message set then */
	else if (sb->sent_twice) {
		res->outcome = OUT_FUNCTION_ERROR;
		set_message(res, "%s", "res.send/res.json called more than once");
	} else if (failed)
		take_error(sb, res, OUT_FUNCTION_ERROR);
	else if (sb->sent) {
		res->outcome = OUT_OK;
		rc = 0;
	} else if (sb->alloc.hit_limit)
		take_error(sb, res, OUT_MEMORY_LIMIT);
	else if (sb->lib.settled == SETTLED_REJECTED) {
		(void)duk_safe_call(ctx, rejection_safe, NULL, 0, 1);
		take_error(sb, res, OUT_FUNCTION_ERROR);
		duk_pop(ctx);
	} else
		no_answer(sb, res);
	duk_pop(ctx);
	if (rc != 0) {
		/* No error ever returns a partial response body (SPEC §4). */
		free(res->body);
		res->body = NULL;
		res->body_len = 0;
	}
	end(sb);
	sandbox_loop_end(sb, res);
	return rc;
}

const struct sandbox_log *
sandbox_log(const struct sandbox *sb)
{
	return &sb->log;
}

size_t
sandbox_memory_peak(const struct sandbox *sb)
{
	return sb->alloc.peak;
}

duk_context *
sandbox_context(struct sandbox *sb)
{
	return sb->ctx;
}

size_t
sandbox_memory_used(const struct sandbox *sb)
{
	return sb->alloc.used;
}

static void
headers_free(struct sandbox_header *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].value);
	}
	free(v);
}

void
sandbox_pending_free(struct sandbox_pending *p)
{
	headers_free(p->headers, p->nheaders);
	p->headers = NULL;
	p->nheaders = 0;
}

void
sandbox_result_free(struct sandbox_result *res)
{
	headers_free(res->headers, res->nheaders);
	free(res->body);
	free(res->stack);
	outbound_records_free(&res->fetches);
	sandbox_result_init(res);
}
