/*
 * lower.c - the compiler's heap (lower.h): the library's collections
 * and built-ins (sandbox/lib: what typescript.js needs and Duktape 2.7
 * lacks), then
 * TypeScript's compiler (typescript.js, from verified bytecode or its
 * source), then lower_driver.js, whose lower() is kept in the heap's stash
 * and called once per upload. The heap is a sandbox of its own
 * (sandbox_new_bare), so the capped allocator and the deadline bound the
 * compiler as they bound a function: a source that makes it loop, recurse
 * or grow fails its upload, never the worker. The uploaded source enters
 * the heap through the UTF-8 door like any outside text.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lower.h"
#include "lower_driver_js.h"
#include "lib.h"
#include "sandbox_internal.h"

#define STASH_LOWER	"lower"

/* The compiler's garbage is mostly cyclic (TypeScript's syntax trees link
 * parents and children), which only a mark-and-sweep frees: one runs when
 * a lowering leaves the heap this many times its size once loaded. */
#define GC_GROWTH	3

struct lower {
	struct sandbox		*sb;
	struct lower_limits	 lim;
	size_t			 loaded;	/* heap bytes once loaded */
	int			 usable;
};

static void
set_error(struct lower_result *res, enum outcome o, const char *fmt, ...)
{
	va_list ap;

	res->outcome = o;
	va_start(ap, fmt);
	vsnprintf(res->message, sizeof(res->message), fmt, ap);
	va_end(ap);
}

/* [ ] -> [ completion value ]: runs JavaScript of our own, built into the
 * binary (not outside text: no UTF-8 door needed). */
static void
run_builtin(duk_context *ctx, const char *js, size_t len, const char *name)
{
	duk_push_lstring(ctx, js, len);
	duk_push_string(ctx, name);
	duk_compile(ctx, 0);
	duk_call(ctx, 0);
}

struct load_args {
	const void	*bc;
	size_t		 bclen;
	const char	*src;
	size_t		 srclen;
	int		 want_dump;
	void		*dump;
	size_t		 dumplen;
};

/* [ ] -> [ true ]: the whole load, in one budget. */
static duk_ret_t
load_safe(duk_context *ctx, void *udata)
{
	struct load_args *a = udata;

	/* What typescript.js calls and the engine lacks (Map, Set,
	 * Array.from, find, includes, Object.entries, padStart, ...): the
	 * library a function gets, all of it. */
	lib_require(ctx, LIB_COLLECTIONS);
	lib_builtins_install(ctx, UINT32_MAX);
	if (a->bc != NULL)
		sandbox_push_bytecode(ctx, a->bc, a->bclen);
	else {
		/* A file of the system, not ours: through the door. */
		sandbox_push_text(ctx, a->src, a->srclen);
		duk_push_string(ctx, "typescript.js");
		duk_compile(ctx, 0);
		if (a->want_dump)
			a->dump = sandbox_dump_top(ctx, &a->dumplen);
	}
	/* Its top level defines the global ts. */
	duk_call(ctx, 0);
	duk_pop(ctx);
	run_builtin(ctx, lower_driver_js, sizeof(lower_driver_js),
	    "lower_driver.js");
	if (!duk_get_global_string(ctx, "ts"))
		(void)duk_error(ctx, DUK_ERR_ERROR, "typescript.js defined no ts");
	duk_call(ctx, 1);
	if (!duk_is_function(ctx, -1))
		(void)duk_error(ctx, DUK_ERR_ERROR, "lower_driver.js gave no "
		    "function");
	duk_push_global_stash(ctx);
	duk_swap(ctx, -1, -2);
	duk_put_prop_string(ctx, -2, STASH_LOWER);
	duk_pop(ctx);
	duk_push_true(ctx);
	return 1;
}

struct lower *
lower_load(const struct lower_limits *lim, const void *bc, size_t bclen,
    const char *src, size_t srclen, void **dump, size_t *dumplen,
    struct lower_result *res)
{
	struct sandbox_limits sl;
	struct sandbox_result sr;
	struct load_args a;
	struct lower *lw;

	memset(res, 0, sizeof(*res));
	memset(&a, 0, sizeof(a));
	memset(&sr, 0, sizeof(sr));
	if (dump != NULL) {
		*dump = NULL;
		*dumplen = 0;
	}
	if ((lw = calloc(1, sizeof(*lw))) == NULL) {
		set_error(res, OUT_UNAVAILABLE, "out of memory");
		return NULL;
	}
	lw->lim = *lim;
	memset(&sl, 0, sizeof(sl));
	sl.memory_bytes = lim->memory_bytes;
	sl.timeout_ms = lim->timeout_ms;
	if ((lw->sb = sandbox_new_bare(&sl)) == NULL) {
		set_error(res, OUT_UNAVAILABLE, "no heap for the compiler "
		    "within %zu bytes", lim->memory_bytes);
		goto fail;
	}
	a.bc = bc;
	a.bclen = bclen;
	a.src = src;
	a.srclen = srclen;
	a.want_dump = dump != NULL;
	if (sandbox_run(lw->sb, load_safe, &a, 0, &sr) != 0) {
		set_error(res, sr.outcome == OUT_TIMEOUT ? OUT_TIMEOUT :
		    OUT_UNAVAILABLE, "the compiler could not be loaded "
		    "(transpile_timeout_ms %u, transpile_memory_mb %zu): %s",
		    lim->timeout_ms, lim->memory_bytes >> 20, sr.message);
		free(a.dump);
		goto fail;
	}
	duk_pop(lw->sb->ctx);
	sandbox_result_free(&sr);
	if (dump != NULL) {
		*dump = a.dump;
		*dumplen = a.dumplen;
	}
	lw->loaded = sandbox_memory_used(lw->sb);
	lw->usable = 1;
	res->outcome = OUT_OK;
	return lw;
fail:
	sandbox_result_free(&sr);
	lower_free(lw);
	return NULL;
}

void
lower_free(struct lower *lw)
{
	if (lw == NULL)
		return;
	sandbox_free(lw->sb);
	free(lw);
}

int
lower_usable(const struct lower *lw)
{
	return lw != NULL && lw->usable;
}

size_t
lower_memory_used(const struct lower *lw)
{
	return sandbox_memory_used(lw->sb);
}

struct source_args {
	const char		*src;
	size_t			 len;
	int			 typescript;
	struct lower_result	*res;
};

/* Copies the string property key of the object at the top (or "") into a
 * malloc'd buffer. */
static char *
copy_prop(duk_context *ctx, const char *key, size_t *len)
{
	const char *s;
	duk_size_t n = 0;
	char *out;

	duk_get_prop_string(ctx, -1, key);
	s = duk_get_lstring(ctx, -1, &n);
	if (s == NULL)
		n = 0;
	if ((out = malloc(n + 1)) == NULL)
		(void)duk_error(ctx, DUK_ERR_ERROR, "out of memory");
	if (n > 0)
		memcpy(out, s, n);
	out[n] = '\0';
	duk_pop(ctx);
	*len = n;
	return out;
}

static int
int_prop(duk_context *ctx, const char *key)
{
	double v;

	duk_get_prop_string(ctx, -1, key);
	v = duk_get_number_default(ctx, -1, 0);
	duk_pop(ctx);
	return v >= 1 && v < 1e9 ? (int)v : 0;
}

/* [ ] -> [ result ]: calls the driver's lower(src, typescript) and reads
 * its answer (an object of the driver's own, plain data) into a->res. */
static duk_ret_t
lower_safe(duk_context *ctx, void *udata)
{
	struct source_args *a = udata;
	struct lower_result *res = a->res;
	const char *kind;
	char *msg;
	size_t n;

	duk_push_global_stash(ctx);
	duk_get_prop_string(ctx, -1, STASH_LOWER);
	duk_remove(ctx, -2);
	sandbox_push_text(ctx, a->src, a->len);
	duk_push_boolean(ctx, a->typescript);
	duk_call(ctx, 2);
	if (!duk_is_object(ctx, -1))
		(void)duk_error(ctx, DUK_ERR_ERROR, "lower() gave no object");
	duk_get_prop_string(ctx, -1, "error");
	kind = duk_get_string(ctx, -1);
	if (kind != NULL) {
		res->outcome = strcmp(kind, "syntax") == 0 ? OUT_SYNTAX_ERROR :
		    OUT_UNSUPPORTED_SYNTAX;
		duk_pop(ctx);
		res->line = int_prop(ctx, "line");
		res->column = int_prop(ctx, "column");
		msg = copy_prop(ctx, "message", &n);
		snprintf(res->message, sizeof(res->message), "%s", msg);
		free(msg);
		return 1;
	}
	duk_pop(ctx);
	res->code = copy_prop(ctx, "code", &res->code_len);
	res->lines = copy_prop(ctx, "lines", &res->lines_len);
	res->outcome = OUT_OK;
	return 1;
}

int
lower_source(struct lower *lw, const char *src, size_t len, int typescript,
    struct lower_result *res)
{
	struct source_args a = { src, len, typescript, res };
	struct sandbox_result sr;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	memset(&sr, 0, sizeof(sr));
	if (!lower_usable(lw)) {
		set_error(res, OUT_UNAVAILABLE, "the compiler is not loaded");
		return -1;
	}
	if (sandbox_run(lw->sb, lower_safe, &a, 0, &sr) != 0) {
		/* Whatever it was doing, the compiler's state is in doubt. */
		lw->usable = 0;
		lower_result_free(res);
		if (sr.outcome == OUT_TIMEOUT)
			set_error(res, OUT_TIMEOUT, "lowering the source did "
			    "not finish within %u ms (transpile_timeout_ms)",
			    lw->lim.timeout_ms);
		else if (sr.outcome == OUT_MEMORY_LIMIT)
			set_error(res, OUT_PAYLOAD_TOO_LARGE, "lowering the "
			    "source needs more than the compiler's %zu MiB "
			    "(transpile_memory_mb)", lw->lim.memory_bytes >> 20);
		else if (strncmp(sr.message, "RangeError", 10) == 0)
			set_error(res, OUT_PAYLOAD_TOO_LARGE, "the source is "
			    "nested too deeply for the compiler (%s)",
			    sr.message);
		else
			set_error(res, OUT_UNAVAILABLE, "the compiler failed on "
			    "this source: %s", sr.message);
		goto out;
	}
	rc = res->outcome == OUT_OK ? 0 : -1;
out:
	duk_pop(lw->sb->ctx);
	sandbox_result_free(&sr);
	return rc;
}

void
lower_collect(struct lower *lw)
{
	if (lower_usable(lw) &&
	    sandbox_memory_used(lw->sb) > GC_GROWTH * lw->loaded)
		duk_gc(lw->sb->ctx, 0);
}

/* Whether s[0..len) holds word as a whole identifier-like word. */
static int
has_word(const char *s, size_t len, const char *word)
{
	size_t wl = strlen(word);
	const char *p = s, *end = s + len;

	while ((p = memmem(p, (size_t)(end - p), word, wl)) != NULL) {
		int before = p > s ? (unsigned char)p[-1] : ' ';
		int after = p + wl < end ? (unsigned char)p[wl] : ' ';

#define IDENT(c) ((c) == '_' || (c) == '$' || (c) >= 0x80 || \
	((c) >= '0' && (c) <= '9') || ((c) >= 'a' && (c) <= 'z') || \
	((c) >= 'A' && (c) <= 'Z'))
		if (!IDENT(before) && !IDENT(after))
			return 1;
#undef IDENT
		p += wl;
	}
	return 0;
}

int
lower_wanted(const char *src, size_t len)
{
	static const char *const words[] = { "const", "require", "import",
	    "BigInt", "RegExp" };
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (has_word(src, len, words[i]))
			return 1;
	return 0;
}

void
lower_result_free(struct lower_result *res)
{
	free(res->code);
	free(res->lines);
	res->code = res->lines = NULL;
	res->code_len = res->lines_len = 0;
}
