/*
 * upload.c - SPEC §5: both upload forms. Check the size, compile and run
 * the top level once in a sandbox under the hard bound, find the handler,
 * then store a new version (or find the identical active one).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "guard.h"
#include "handlers.h"
#include "json_in.h"
#include "limits.h"
#include "log.h"
#include "metrics.h"
#include "outcome.h"
#include "store.h"

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
	    "\"memoryMb\":%u,\"isolation\":\"%s\"}", v->version,
	    v->sha256, v->size, active ? "true" : "false",
	    (long long)v->created_at, v->limits.timeout_ms,
	    v->limits.memory_mb, v->limits.per_call ? "per-call" : "warm");
	response_json(rs, created ? 201 : 200, &b);
	buf_free(&b);
}

/* Compiles and runs src's top level; on failure fills rs. On success
 * *bc is the compiled bytecode (malloc'd, the caller frees; NULL if it
 * could not be dumped). */
static int
check_source(struct app *app, const char *src, size_t len,
    const struct store_limits *ask, void **bc, size_t *bclen,
    struct resp *rs)
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
	/* Shared bytecode must not name a project (see invoke.c). */
	rc = sandbox_load(sb, src, len, SANDBOX_FILENAME, bc, bclen, &res);
	sandbox_free(sb);
	guard_end();
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

static void
upload(struct app *app, const struct fn_id *id, const char *src, size_t len,
    const struct store_limits *ask, int activate, struct resp *rs)
{
	struct store_version v;
	char err[ERRSTR_MAX];
	void *bc = NULL;
	size_t bclen = 0;
	int existed = 0, st;

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
	if (check_source(app, src, len, ask, &bc, &bclen, rs) != 0) {
		metrics_add(M_UPLOADS_REJECTED, 1);
		return;
	}
	st = store_write_version(app->store, id, src, len, ask, activate, &v,
	    &existed, err, sizeof(err));
	if (st == STORE_QUOTA) {
		/* SPEC §13: nothing was stored; err names the quota. */
		metrics_add(M_UPLOADS_REJECTED, 1);
		response_error(rs, OUT_QUOTA_EXCEEDED, NULL, "%s", err);
		free(bc);
		return;
	}
	if (st != STORE_OK) {
		log_warnx("upload %s/%s/%s: %s", id->project, id->request,
		    id->fn, err);
		response_error(rs, OUT_UNAVAILABLE, NULL,
		    "the store could not save the version");
		free(bc);
		return;
	}
	/* SPEC §9 / issue 3: the first invocation anywhere is a hit. The
	 * store has hashed the source already: its sha256 is the key. */
	if (bc != NULL && app->cache != NULL)
		cache_put_bytecode(app->cache, v.sha256, bc, bclen);
	free(bc);
	log_info("upload %s/%s/%s version=%u %s", id->project, id->request,
	    id->fn, v.version, existed ? "unchanged" : "stored");
	metrics_add(existed ? M_UPLOADS_UNCHANGED : M_UPLOADS_CREATED, 1);
	answer(rs, id, &v, existed || activate, !existed);
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
	upload(app, &a->id, r->body, r->body_len, &ask, activate_flag(r), rs);
}

void
upload_json(struct app *app, const struct route_args *a, struct req *r,
    struct resp *rs)
{
	enum { PROJECT, REQUEST, FN, SOURCE, TIMEOUT, MEMORY, ISOLATION,
	    NFIELDS };
	struct json_in_field f[NFIELDS] = {
		[PROJECT] = { "projectId", JSON_IN_STRING, 0, NULL, 0, 0 },
		[REQUEST] = { "requestId", JSON_IN_STRING, 0, NULL, 0, 0 },
		[FN] = { "fnName", JSON_IN_STRING, 0, NULL, 0, 0 },
		[SOURCE] = { "fnDefinition", JSON_IN_STRING, 0, NULL, 0, 0 },
		[TIMEOUT] = { "timeoutMs", JSON_IN_UINT, 0, NULL, 0, 0 },
		[MEMORY] = { "memoryMb", JSON_IN_UINT, 0, NULL, 0, 0 },
		[ISOLATION] = { "isolation", JSON_IN_STRING, 0, NULL, 0, 0 },
	};
	struct store_limits ask;
	struct fn_id id;
	char err[ERRSTR_MAX];
	int i;

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
	upload(app, &id, f[SOURCE].str, f[SOURCE].len, &ask, activate_flag(r),
	    rs);
out:
	for (i = 0; i < NFIELDS; i++)
		free(f[i].str);
}
