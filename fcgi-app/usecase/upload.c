/*
 * upload.c - SPEC §5: both upload forms. Check the size; lower the source
 * with the worker's compiler when it needs it (TypeScript, or JavaScript
 * the engine cannot compile as it is); compile and run the top level once
 * in a sandbox under the hard bound, find the handler, then store a new
 * version (or find the identical active one).
 *
 * JavaScript the engine compiles as it is skips the compiler, so an
 * ECMAScript 5 upload costs what it always did, unless it names something
 * only the compiler can check (lower_wanted).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cache.h"
#include "clock.h"
#include "compiler.h"
#include "guard.h"
#include "handlers.h"
#include "json_in.h"
#include "limits.h"
#include "log.h"
#include "metrics.h"
#include "outcome.h"
#include "store.h"

/* What an upload is and what became of it. */
struct upload {
	const char		*src;
	size_t			 len;
	int			 typescript;
	struct lower_result	 low;	/* OUT_OK with code when lowered */
	const char		*compiler;	/* how the compiler was had */
	double			 lower_ms;
};

static void
answer(struct resp *rs, const struct fn_id *id, const struct store_version *v,
    int active, int created)
{
	struct buf b = { 0 };

	buf_puts(&b, "{\"projectId\":");
	buf_json_string(&b, id->project, strlen(id->project));
	buf_puts(&b, ",\"requestId\":");
	buf_json_string(&b, id->request, strlen(id->request));
	buf_puts(&b, ",\"fnName\":");
	buf_json_string(&b, id->fn, strlen(id->fn));
	buf_printf(&b, ",\"version\":%u,\"sha256\":\"%s\",\"size\":%zu,"
	    "\"active\":%s,\"createdAt\":%lld,\"timeoutMs\":%u,"
	    "\"memoryMb\":%u,\"isolation\":\"%s\",\"language\":\"%s\","
	    "\"lowered\":%s}", v->version,
	    v->sha256, v->size, active ? "true" : "false",
	    (long long)v->created_at, v->limits.timeout_ms,
	    v->limits.memory_mb, v->limits.per_call ? "per-call" : "warm",
	    v->typescript ? "typescript" : "javascript",
	    v->run_sha256[0] != '\0' ? "true" : "false");
	response_json(rs, created ? 201 : 200, &b);
	buf_free(&b);
}

/* Compiles and runs src's top level (lowered code when lines, its line
 * map, is not NULL); on failure fills rs and *why. On success *bc is the
 * compiled bytecode (malloc'd, the caller frees; NULL if it could not be
 * dumped). */
static int
check_source(struct app *app, const char *src, size_t len,
    const char *lines, size_t lines_len, const struct store_limits *ask,
    void **bc, size_t *bclen, enum outcome *why, struct resp *rs)
{
	struct sandbox_limits lim;
	struct sandbox_result res;
	struct sandbox *sb;
	struct resp on_timeout = { 0 }, on_fatal = { 0 };
	int rc = -1;

	limits_for(&app->cfg, ask, &lim);
	response_error(&on_timeout, OUT_TIMEOUT, NULL, "the top level of the "
	    "source did not finish within %u ms", lim.timeout_ms);
	response_error(&on_fatal, OUT_FUNCTION_ERROR, NULL, "the engine failed "
	    "fatally while running the top level of the source");
	memset(&res, 0, sizeof(res));
	guard_begin(app->conn, &on_timeout, &on_fatal, lim.timeout_ms,
	    app->cfg.hard_grace_ms);
	if ((sb = sandbox_new(&lim)) == NULL) {
		guard_end();
		response_error(rs, OUT_MEMORY_LIMIT, NULL, "the memory limit is "
		    "too small to create a JavaScript heap");
		goto out;
	}
	if (lines != NULL && sandbox_set_lines(sb, lines, lines_len) == -1)
		log_warnx("upload: the compiler's line map is malformed");
	/* Shared bytecode must not name a project (see invoke.c). */
	rc = sandbox_load(sb, src, len, SANDBOX_FILENAME, bc, bclen, &res);
	sandbox_free(sb);
	guard_end();
	*why = res.outcome;
	if (rc != 0) {
		response_result_error(rs, &res);
		free(*bc);
		*bc = NULL;
	}
out:
	sandbox_result_free(&res);
	response_free(&on_timeout);
	response_free(&on_fatal);
	return rc;
}

/* The hard bound's grace for the compiler, on top of hard_grace_ms: its
 * heap (up to transpile_memory_mb) is collected between two checks of
 * the deadline, and a mark-and-sweep of a few hundred MiB can take more
 * than the grace a function's 32 MiB heap needs (seen under ASan: the
 * deadline passed in a collection and the watchdog replaced the worker).
 * nginx's wait (scripts/config.sh) has room for it twice. */
#define LOWER_GRACE_MS	2000

/* Lowers u->src into u->low with the worker's compiler, loaded first if
 * need be, each step under the hard bound with a budget of
 * transpile_timeout_ms. Returns 0, or -1 with u->low.outcome set (and rs
 * filled, except for OUT_UNAVAILABLE, which the caller decides on). */
static int
lower_upload(struct app *app, struct upload *u, struct resp *rs)
{
	struct resp on_timeout = { 0 }, on_fatal = { 0 };
	struct lower *lw;
	unsigned grace = app->cfg.hard_grace_ms + LOWER_GRACE_MS;
	double t0 = clock_ms();
	int rc = -1;

	response_error(&on_timeout, OUT_TIMEOUT, NULL, "lowering the source "
	    "did not finish within %u ms (transpile_timeout_ms)",
	    app->cfg.transpile_timeout_ms);
	response_error(&on_fatal, OUT_UNAVAILABLE, NULL, "the compiler failed "
	    "fatally while lowering the source");
	guard_begin(app->conn, &on_timeout, &on_fatal,
	    app->cfg.transpile_timeout_ms, grace);
	if ((lw = compiler_get(app, &u->compiler, &u->low)) != NULL) {
		/* Loading the compiler had a budget; lowering has its own. */
		guard_rearm(app->cfg.transpile_timeout_ms, grace);
		rc = lower_source(lw, u->src, u->len, u->typescript, &u->low);
	}
	guard_end();
	compiler_tidy(app);
	u->lower_ms = clock_ms() - t0;
	metrics_add(M_UPLOADS_LOWERED, 1);
	if (rc != 0 && u->low.outcome != OUT_UNAVAILABLE) {
		struct sandbox_result res;

		memset(&res, 0, sizeof(res));
		res.outcome = u->low.outcome;
		res.line = u->low.line;
		res.column = u->low.column;
		snprintf(res.message, sizeof(res.message), "%s",
		    u->low.message);
		response_result_error(rs, &res);
	}
	response_free(&on_timeout);
	response_free(&on_fatal);
	return rc;
}

/* Whether src is not valid UTF-8 (then rs says where): checked before the
 * compiler, whose door would make the bad bytes U+FFFD and go on. */
static int
not_utf8(const char *src, size_t len, struct resp *rs)
{
	struct sandbox_result res;

	memset(&res, 0, sizeof(res));
	if (sandbox_source_utf8(src, len, &res) == 0)
		return 0;
	response_result_error(rs, &res);
	return 1;
}

/* The "media type" of a Content-Type value, without parameters, is
 * TypeScript's. */
static int
typescript_type(const char *ct)
{
	static const char *const types[] = { "application/typescript",
	    "application/x-typescript", "text/typescript", NULL };
	size_t n;
	int i;

	if (ct == NULL)
		return 0;
	n = strcspn(ct, "; \t");
	for (i = 0; types[i] != NULL; i++)
		if (strlen(types[i]) == n && strncasecmp(ct, types[i], n) == 0)
			return 1;
	return 0;
}

/* "typescript"/"ts" -> 1, "javascript"/"js" -> 0, else -1. */
static int
language(const char *s)
{
	if (strcmp(s, "typescript") == 0 || strcmp(s, "ts") == 0)
		return 1;
	if (strcmp(s, "javascript") == 0 || strcmp(s, "js") == 0)
		return 0;
	return -1;
}

static void
upload(struct app *app, const struct fn_id *id, const char *src, size_t len,
    int typescript, const struct store_limits *ask, int activate,
    struct resp *rs)
{
	struct upload u;
	struct store_version v;
	struct store_lowered low;
	const char *code = src, *lines = NULL;
	char err[ERRSTR_MAX];
	enum outcome why = OUT_OK;
	void *bc = NULL;
	size_t bclen = 0, code_len = len, lines_len = 0;
	int existed = 0, checked = 0, st;

	memset(&u, 0, sizeof(u));
	u.src = src;
	u.len = len;
	u.typescript = typescript;

	if (len > app->cfg.source_max_bytes) {
		response_error(rs, OUT_PAYLOAD_TOO_LARGE, NULL,
		    "source is %zu bytes; the limit is %zu", len,
		    app->cfg.source_max_bytes);
		return;
	}
	if (memchr(src, '\0', len) != NULL) {
		response_error(rs, OUT_BAD_REQUEST, NULL,
		    "source must not contain NUL bytes");
		return;
	}
	if (limits_check(&app->cfg, ask, err, sizeof(err)) == -1) {
		response_error(rs, OUT_BAD_REQUEST, NULL, "%s", err);
		return;
	}
	if (not_utf8(src, len, rs))
		goto rejected;
	/* JavaScript the engine compiles as it is runs as it is; one it
	 * cannot may be newer syntax, which the compiler lowers. */
	if (!typescript && !lower_wanted(src, len)) {
		if (check_source(app, src, len, NULL, 0, ask, &bc, &bclen, &why,
		    rs) == 0)
			goto store;
		if (why != OUT_SYNTAX_ERROR)
			goto rejected;
		checked = 1;
	}
	if (lower_upload(app, &u, rs) != 0) {
		if (u.low.outcome != OUT_UNAVAILABLE)
			goto rejected;
		/* No compiler: TypeScript cannot be had; JavaScript is what
		 * the engine makes of it, as it was before lowering. */
		if (typescript) {
			response_error(rs, OUT_UNAVAILABLE, NULL, "%s",
			    u.low.message);
			goto out;
		}
		if (checked || check_source(app, src, len, NULL, 0, ask, &bc,
		    &bclen, &why, rs) != 0)
			goto rejected;
		goto store;
	}
	code = u.low.code;
	code_len = u.low.code_len;
	lines = u.low.lines;
	lines_len = u.low.lines_len;
	response_reset(rs);
	if (check_source(app, code, code_len, lines, lines_len, ask, &bc,
	    &bclen, &why, rs) != 0)
		goto rejected;
store:
	low.code = code;
	low.code_len = code_len;
	low.lines = lines;
	low.lines_len = lines_len;
	st = store_write_lowered(app->store, id, src, len, typescript,
	    lines != NULL ? &low : NULL, ask, activate, &v, &existed, err,
	    sizeof(err));
	if (st == STORE_QUOTA) {
		/* SPEC §13: nothing was stored; err names the quota. */
		response_error(rs, OUT_QUOTA_EXCEEDED, NULL, "%s", err);
		goto rejected;
	}
	if (st != STORE_OK) {
		log_warnx("upload %s/%s/%s: %s", id->project, id->request,
		    id->fn, err);
		response_error(rs, OUT_UNAVAILABLE, NULL,
		    "the store could not save the version");
		goto out;
	}
	/* SPEC §9 / issue 3: the first invocation anywhere is a hit. The
	 * store has hashed what runs already: its sha256 is the key. */
	if (bc != NULL && app->cache != NULL && !existed)
		cache_put_bytecode(app->cache, v.run_sha256[0] != '\0' ?
		    v.run_sha256 : v.sha256, bc, bclen);
	log_info("upload %s/%s/%s version=%u %s language=%s lowered=%s "
	    "compiler=%s lower_ms=%.1f", id->project, id->request, id->fn,
	    v.version, existed ? "unchanged" : "stored",
	    typescript ? "typescript" : "javascript",
	    lines != NULL ? "yes" : "no",
	    u.compiler != NULL ? u.compiler : "none", u.lower_ms);
	metrics_add(existed ? M_UPLOADS_UNCHANGED : M_UPLOADS_CREATED, 1);
	answer(rs, id, &v, existed || activate, !existed);
	goto out;
rejected:
	metrics_add(M_UPLOADS_REJECTED, 1);
out:
	free(bc);
	lower_result_free(&u.low);
}

/* "warm" (default: a heap is reused by later calls of the same version)
 * or "per-call" (a fresh heap every call). */
static int
isolation(const char *s, unsigned *per_call)
{
	*per_call = 0;
	if (s == NULL || strcmp(s, "warm") == 0)
		return 0;
	if (strcmp(s, "per-call") == 0) {
		*per_call = 1;
		return 0;
	}
	return -1;
}

static int
activate_flag(const struct req *r)
{
	const char *s = request_query(r, "activate");

	return s == NULL || strcmp(s, "false") != 0;
}

void
upload_put(struct app *app, const struct route_args *a, struct req *r,
    struct resp *rs)
{
	struct store_limits ask;
	const char *iso = request_query(r, "isolation");
	const char *lang = request_query(r, "lang");
	int typescript = typescript_type(request_header(r, "content-type"));

	if (request_query_uint(r, "timeoutMs", &ask.timeout_ms) ==
	    QUERY_INVALID ||
	    request_query_uint(r, "memoryMb", &ask.memory_mb) == QUERY_INVALID) {
		response_error(rs, OUT_BAD_REQUEST, NULL,
		    "timeoutMs and memoryMb must be positive integers");
		return;
	}
	if (isolation(iso, &ask.per_call) == -1) {
		response_error(rs, OUT_BAD_REQUEST, NULL,
		    "isolation must be \"warm\" or \"per-call\"");
		return;
	}
	/* ?lang= says it when the Content-Type cannot (curl --data-binary). */
	if (lang != NULL && (typescript = language(lang)) == -1) {
		response_error(rs, OUT_BAD_REQUEST, NULL,
		    "lang must be \"js\" or \"ts\"");
		return;
	}
	upload(app, &a->id, r->body, r->body_len, typescript, &ask,
	    activate_flag(r), rs);
}

void
upload_json(struct app *app, const struct route_args *a, struct req *r,
    struct resp *rs)
{
	enum { PROJECT, REQUEST, FN, SOURCE, TIMEOUT, MEMORY, ISOLATION,
	    LANGUAGE, NFIELDS };
	struct json_in_field f[NFIELDS] = {
		[PROJECT] = { "projectId", JSON_IN_STRING, 0, NULL, 0, 0 },
		[REQUEST] = { "requestId", JSON_IN_STRING, 0, NULL, 0, 0 },
		[FN] = { "fnName", JSON_IN_STRING, 0, NULL, 0, 0 },
		[SOURCE] = { "fnDefinition", JSON_IN_STRING, 0, NULL, 0, 0 },
		[TIMEOUT] = { "timeoutMs", JSON_IN_UINT, 0, NULL, 0, 0 },
		[MEMORY] = { "memoryMb", JSON_IN_UINT, 0, NULL, 0, 0 },
		[ISOLATION] = { "isolation", JSON_IN_STRING, 0, NULL, 0, 0 },
		[LANGUAGE] = { "language", JSON_IN_STRING, 0, NULL, 0, 0 },
	};
	struct store_limits ask;
	struct fn_id id;
	char err[ERRSTR_MAX];
	int i, typescript = 0;

	(void)a;
	if (json_in_fields(r->body, r->body_len, f, NFIELDS, err,
	    sizeof(err)) != JSON_IN_OK) {
		response_error(rs, OUT_INVALID_JSON, NULL, "%s", err);
		return;
	}
	if (!f[PROJECT].present || !f[REQUEST].present || !f[FN].present ||
	    !f[SOURCE].present) {
		response_error(rs, OUT_INVALID_JSON, NULL, "projectId, requestId, "
		    "fnName and fnDefinition are required strings");
		goto out;
	}
	if (name_fn_id(&id, f[PROJECT].str, f[PROJECT].len, f[REQUEST].str,
	    f[REQUEST].len, f[FN].str, f[FN].len) == -1) {
		response_error(rs, OUT_INVALID_NAME, NULL, "names must match "
		    "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$");
		goto out;
	}
	if ((f[TIMEOUT].present && f[TIMEOUT].num == 0) ||
	    (f[MEMORY].present && f[MEMORY].num == 0)) {
		response_error(rs, OUT_BAD_REQUEST, NULL,
		    "timeoutMs and memoryMb must be positive integers");
		goto out;
	}
	ask.timeout_ms = (unsigned)f[TIMEOUT].num;
	ask.memory_mb = (unsigned)f[MEMORY].num;
	if (isolation(f[ISOLATION].str, &ask.per_call) == -1) {
		response_error(rs, OUT_BAD_REQUEST, NULL,
		    "isolation must be \"warm\" or \"per-call\"");
		goto out;
	}
	if (f[LANGUAGE].present &&
	    (typescript = language(f[LANGUAGE].str)) == -1) {
		response_error(rs, OUT_BAD_REQUEST, NULL,
		    "language must be \"javascript\" or \"typescript\"");
		goto out;
	}
	upload(app, &id, f[SOURCE].str, f[SOURCE].len, typescript, &ask,
	    activate_flag(r), rs);
out:
	for (i = 0; i < NFIELDS; i++)
		free(f[i].str);
}
