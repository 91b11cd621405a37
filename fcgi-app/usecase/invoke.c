/*
 * invoke.c - SPEC §6: POST /invoke/{project}/{request}/{fn}. Resolve the
 * version and read the project's environment, run the handler under the
 * hard bound in this worker's warm heap of that version (or a new one,
 * from cached bytecode or the source), and answer with what it sent, a
 * JSON error, or (X-Fn-Debug: 1) the debug envelope. Secret values are
 * kept out of everything but the function's own answer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "clock.h"
#include "concurrency.h"
#include "fcgi.h"
#include "guard.h"
#include "handlers.h"
#include "hotset.h"
#include "limits.h"
#include "log.h"
#include "metrics.h"
#include "outbound.h"
#include "outcome.h"
#include "redact.h"
#include "self.h"
#include "spare.h"
#include "store.h"
#include "store_egress.h"
#include "store_view.h"

/* Not passed from a function to the caller: hop-by-hop (RFC 9110 §7.6.1),
 * framing, and the headers the runtime itself sets. */
static const char *const dropped_headers[] = {
	"connection", "keep-alive", "proxy-connection", "transfer-encoding",
	"te", "trailer", "upgrade", "proxy-authenticate",
	"proxy-authorization", "content-length", "status", "x-fn-version",
	"server-timing", NULL
};

/* Secrets never reach a function (SPEC §5). */
static const char *const secret_headers[] = {
	"x-fn-key", "authorization", NULL
};

static int
listed(const char *name, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcasecmp(name, *list) == 0)
			return 1;
	return 0;
}

/* SPEC §5: hop-by-hop and framing headers, and X-Accel-*, which nginx
 * would act on (an internal redirect, buffering, rate limits). */
static int
dropped(const char *name)
{
	return strncasecmp(name, "x-accel-", 8) == 0 ||
	    listed(name, dropped_headers);
}

/*
 * The project's own host allowlist (SPEC §12, PUT /projects/{p}/egress),
 * asked by outbound.c for the host of the first request and of every
 * redirect hop, on top of the operator's policy at connect time. The
 * list comes from the store's per-worker cache (one open and fstat per
 * ask; read again only when the file changed). A list that cannot be
 * read refuses: it must not open the way. arg is the struct app.
 * Returns 1 (allowed), or 0 with reason filled.
 */
static int
project_egress_allows(void *arg, const char *project, const char *host,
    char *reason, size_t reasonlen)
{
	struct app *app = arg;
	const struct egress_hosts *list;
	const char *why = "not listed";
	char err[256];

	if (store_egress_cached(app->store, project, &list, err,
	    sizeof(err)) != STORE_OK) {
		log_warnx("invoke: %s", err);
		snprintf(reason, reasonlen, "the project's host allowlist "
		    "could not be read");
		return 0;
	}
	if (egress_hosts_allowed(list, host, &why))
		return 1;
	snprintf(reason, reasonlen, "%s", why);
	return 0;
}

struct call {
	struct app		*app;
	const struct fn_id	*id;
	unsigned		 version;
	struct store_version	 meta;
	int			 debug;
	struct sandbox_limits	 lim;
	struct sandbox		*sb;	/* the heap that ran, or NULL */
	unsigned		 calls;	/* calls it served before this one */
	char			 key[APP_HEAP_KEY_MAX];	/* warm-set key */
	const char		*heap;	/* "warm", "bytecode" or "source" */
	int			 spare;	/* the new heap was the spare */
	struct outbound_conf	 net;	/* what fetch obeys */
	struct redactor		 red;	/* the project's secret values */
	double			 duration_ms;
	size_t			 peak;
	/* Last: 16 KiB that invoke_handle does not zero (see there). */
	struct sandbox_result	 res;
};

static void
json_logs(struct buf *b, const struct sandbox_log *log,
    const struct redactor *red)
{
	struct buf msg = { 0 };
	size_t i;

	buf_append(b, "[", 1);
	for (i = 0; log != NULL && i < log->n; i++) {
		if (i > 0)
			buf_append(b, ",", 1);
		buf_puts(b, "{\"level\":");
		buf_json_string(b, log->entries[i].level,
		    strlen(log->entries[i].level));
		buf_puts(b, ",\"message\":");
		buf_reset(&msg);
		(log->entries[i].cut ? redact_append_cut : redact_append)(red,
		    &msg, log->entries[i].message, log->entries[i].len);
		buf_json_string(b, msg.data, msg.len);
		buf_append(b, "}", 1);
	}
	buf_append(b, "]", 1);
	buf_free(&msg);
}

/* SPEC §12: the call's outbound requests, URLs and errors redacted (a
 * secret may be in a URL's path, or in an error quoting it). */
static void
json_requests(struct buf *b, const struct outbound_records *rec,
    const struct redactor *red)
{
	struct buf tmp = { 0 };
	const struct outbound_record *r;
	size_t i;

	buf_append(b, "[", 1);
	for (i = 0; i < rec->n; i++) {
		r = &rec->v[i];
		if (i > 0)
			buf_append(b, ",", 1);
		buf_puts(b, "{\"method\":");
		buf_json_string(b, r->method, strlen(r->method));
		buf_puts(b, ",\"url\":");
		buf_reset(&tmp);
		redact_append(red, &tmp, r->url, strlen(r->url));
		buf_json_string(b, tmp.data, tmp.len);
		buf_puts(b, ",\"status\":");
		buf_uint(b, (unsigned long long)r->status);
		buf_puts(b, ",\"durationMs\":");
		buf_ms(b, r->duration_ms);
		buf_puts(b, ",\"outcome\":\"");
		buf_puts(b, fetch_outcome_label(r->outcome));
		buf_puts(b, "\"");
		if (r->error != NULL) {
			buf_puts(b, ",\"error\":");
			buf_reset(&tmp);
			redact_append(red, &tmp, r->error, strlen(r->error));
			buf_json_string(b, tmp.data, tmp.len);
		}
		buf_append(b, "}", 1);
	}
	buf_append(b, "]", 1);
	buf_free(&tmp);
}

/* The X-Fn-Debug envelope; error, if not NULL, is the JSON error answer. */
static void
envelope(struct resp *rs, const struct call *c, const struct resp *answer,
    int is_error)
{
	struct buf b = { 0 };
	const char *p;
	size_t i, n;

	buf_printf(&b, "{\"status\":%d,\"headers\":{", answer->status);
	for (i = 0; i < answer->nheaders; i++) {
		if (i > 0)
			buf_append(&b, ",", 1);
		p = response_header_name(answer, i, &n);
		buf_json_string(&b, p, n);
		buf_append(&b, ":", 1);
		p = response_header_value(answer, i, &n);
		buf_json_string(&b, p, n);
	}
	buf_puts(&b, "},\"body\":");
	buf_json_string(&b, answer->body.data != NULL ? answer->body.data : "",
	    answer->body.len);
	buf_puts(&b, ",\"logs\":");
	json_logs(&b, c->sb != NULL ? sandbox_log(c->sb) : NULL, &c->red);
	buf_puts(&b, ",\"requests\":");
	json_requests(&b, &c->res.fetches, &c->red);
	buf_printf(&b, ",\"durationMs\":%.3f,\"memoryPeakBytes\":%zu,"
	    "\"version\":%u", c->duration_ms, c->peak, c->version);
	if (is_error) {
		buf_puts(&b, ",\"error\":");
		buf_append(&b, answer->body.data, answer->body.len);
	}
	buf_append(&b, "}", 1);
	response_json(rs, 200, &b);
	buf_free(&b);
}

/* SPEC §6: console lines go to the FastCGI error stream, one per call of
 * console.*, tagged with the function; newlines are escaped. */
static void
log_console(const struct call *c)
{
	struct buf line = { 0 }, msg = { 0 };
	const struct sandbox_log *log = c->sb != NULL ? sandbox_log(c->sb) :
	    NULL;
	const struct sandbox_log_entry *e;
	size_t i, j;

	for (i = 0; log != NULL && i < log->n; i++) {
		e = &log->entries[i];
		buf_reset(&line);
		buf_printf(&line, "fnrun console project=%s request=%s fn=%s "
		    "version=%u level=%s: ", c->id->project, c->id->request,
		    c->id->fn, c->version, e->level);
		buf_reset(&msg);
		(e->cut ? redact_append_cut : redact_append)(&c->red, &msg,
		    e->message, e->len);
		for (j = 0; j < msg.len; j++) {
			if (msg.data[j] == '\n')
				buf_append(&line, "\\n", 2);
			else if (msg.data[j] == '\r')
				buf_append(&line, "\\r", 2);
			else
				buf_append(&line, &msg.data[j], 1);
		}
		buf_append(&line, "\n", 1);
		fcgi_log_sink(c->app->conn, line.data, line.len);
	}
	buf_free(&line);
	buf_free(&msg);
}

static void
function_answer(struct resp *rs, const struct call *c)
{
	size_t i;

	response_reset(rs);
	rs->status = c->res.status;
	for (i = 0; i < c->res.nheaders; i++)
		if (!dropped(c->res.headers[i].name))
			(void)response_header(rs, c->res.headers[i].name,
			    c->res.headers[i].value,
			    strlen(c->res.headers[i].value));
	buf_append(&rs->body, c->res.body, c->res.body_len);
}

/* SPEC §12: the call's outbound requests by outcome, for the invocation
 * log ("fetch":{"ok":2,"denied":1}) and /metrics; nothing when none. */
static void
log_fetch_counts(struct buf *b, const struct outbound_records *rec)
{
	unsigned n[FETCH_OUTCOME_COUNT] = { 0 };
	size_t i;
	int first = 1;

	if (rec->n == 0)
		return;
	for (i = 0; i < rec->n; i++)
		n[rec->v[i].outcome]++;
	buf_puts(b, ",\"fetch\":{");
	for (i = 0; i < FETCH_OUTCOME_COUNT; i++) {
		if (n[i] == 0)
			continue;
		if (!first)
			buf_append(b, ",", 1);
		first = 0;
		buf_puts(b, "\"");
		buf_puts(b, fetch_outcome_label((enum fetch_outcome)i));
		buf_puts(b, "\":");
		buf_uint(b, n[i]);
	}
	buf_append(b, "}", 1);
}

/* Issue 5: one structured line per invocation in the invocation log. */
static void
log_call(const struct call *c, const struct req *r, int status)
{
	struct buf b = { 0 };
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	buf_puts(&b, "{\"ts\":");
	buf_uint(&b, (unsigned long long)now.tv_sec);
	buf_puts(&b, ",\"requestId\":");
	buf_json_string(&b, r->request_id, strlen(r->request_id));
	buf_puts(&b, ",\"project\":");
	buf_json_string(&b, c->id->project, strlen(c->id->project));
	buf_puts(&b, ",\"request\":");
	buf_json_string(&b, c->id->request, strlen(c->id->request));
	buf_puts(&b, ",\"fn\":");
	buf_json_string(&b, c->id->fn, strlen(c->id->fn));
	buf_puts(&b, ",\"version\":");
	buf_uint(&b, c->version);
	buf_puts(&b, ",\"status\":");
	buf_uint(&b, (unsigned)status);
	buf_puts(&b, ",\"outcome\":\"");
	buf_puts(&b, outcome_label(c->res.outcome));
	buf_puts(&b, "\",\"ms\":");
	buf_ms(&b, c->duration_ms);
	/* Which worker ran it: a timeout answered by the event loop leaves
	 * it serving, one answered by the watchdog does not. */
	buf_puts(&b, ",\"pid\":");
	buf_uint(&b, (unsigned)self_pid());
	buf_puts(&b, ",\"heapPeak\":");
	buf_uint(&b, c->peak);
	buf_puts(&b, ",\"heap\":\"");
	buf_puts(&b, c->heap != NULL ? c->heap : "none");
	buf_puts(&b, "\"");
	if (c->spare)
		buf_puts(&b, ",\"spare\":true");
	log_fetch_counts(&b, &c->res.fetches);
	buf_puts(&b, "}\n");
	log_invocation(b.data, b.len);
	buf_free(&b);
}

/* SPEC §6: X-Fn-Version and Server-Timing on every invocation answer. */
static void
add_runtime_headers(struct resp *rs, const struct call *c, double dur_ms)
{
	struct buf b = { 0 };

	/* Values built by hand: this runs three times per call. */
	buf_uint(&b, c->version);
	(void)response_header(rs, "X-Fn-Version", b.data, b.len);
	buf_reset(&b);
	buf_puts(&b, "fn;dur=");
	buf_ms(&b, dur_ms);
	(void)response_header(rs, "Server-Timing", b.data, b.len);
	buf_free(&b);
}

/* The answers written by the guard if the code must be cut off. */
static void
prepare_emergency(const struct call *c, struct resp *on_timeout,
    struct resp *on_fatal)
{
	struct resp err = { 0 };

	response_error(&err, OUT_TIMEOUT, NULL, "function exceeded its time "
	    "limit of %u ms", c->lim.timeout_ms);
	if (c->debug)
		envelope(on_timeout, c, &err, 1);
	else
		response_json(on_timeout, err.status, &err.body);
	response_error(&err, OUT_FUNCTION_ERROR, NULL, "the JavaScript engine "
	    "failed fatally");
	if (c->debug)
		envelope(on_fatal, c, &err, 1);
	else
		response_json(on_fatal, err.status, &err.body);
	add_runtime_headers(on_timeout, c, c->lim.timeout_ms +
	    c->app->cfg.hard_grace_ms);
	add_runtime_headers(on_fatal, c, 0);
	response_free(&err);
}

static void
build_request(const struct req *r, const struct store_env_var *env,
    size_t nenv, struct sandbox_request *rq, struct sandbox_kv *query,
    struct sandbox_kv *headers, struct sandbox_kv *envkv)
{
	size_t i;

	memset(rq, 0, sizeof(*rq));
	rq->method = r->method;
	rq->path = r->path;
	for (i = 0; i < r->nquery; i++) {
		if (strcmp(r->query[i].name, "version") == 0)
			continue;
		query[rq->nquery].name = r->query[i].name;
		query[rq->nquery].value = r->query[i].value;
		query[rq->nquery].value_len = r->query[i].value_len;
		rq->nquery++;
	}
	rq->query = query;
	for (i = 0; i < r->nheaders; i++) {
		if (listed(r->header[i].name, secret_headers))
			continue;
		headers[rq->nheaders].name = r->header[i].name;
		headers[rq->nheaders].value = r->header[i].value;
		headers[rq->nheaders].value_len = r->header[i].value_len;
		rq->nheaders++;
	}
	rq->headers = headers;
	for (i = 0; i < nenv; i++) {
		envkv[i].name = env[i].name;
		envkv[i].value = env[i].value;
		envkv[i].value_len = env[i].len;
	}
	rq->env = envkv;
	rq->nenv = nenv;
	rq->body = r->body != NULL ? r->body : "";
	rq->body_len = r->body_len;
}

/* The line map of a lowered version (sandbox_lines.h), so its errors
 * show lines of the source as uploaded, read from the store. */
static int
load_lines(struct call *c, struct sandbox *sb, char *err, size_t errlen)
{
	char *lines = NULL;
	size_t lines_len;
	int st;

	st = store_read_run(c->app->store, c->id, &c->meta, NULL, NULL, &lines,
	    &lines_len, err, errlen);
	if (st == STORE_OK && sandbox_set_lines(sb, lines, lines_len) == -1)
		log_warnx("invoke: version %u has a malformed line map",
		    c->version);
	free(lines);
	return st;
}

/* A cold heap: verified bytecode from the cache when there is some,
 * else what the version runs from the store (and the bytecode goes to
 * the cache). Bytecode is keyed by what it was compiled from: the
 * lowered code when the upload lowered the source. */
static int
load_cold(struct call *c, struct sandbox *sb, char *err, size_t errlen)
{
	struct app *app = c->app;
	const char *key = c->meta.run_sha256[0] != '\0' ? c->meta.run_sha256 :
	    c->meta.sha256;
	char *src = NULL, *lines = NULL;
	void *bc = NULL;
	size_t len, bclen = 0, lines_len = 0;
	int st;

	if (app->cache != NULL &&
	    cache_get_bytecode(app->cache, key, &bc, &bclen) == 0) {
		c->heap = "bytecode";
		st = c->meta.run_sha256[0] != '\0' ?
		    load_lines(c, sb, err, errlen) : STORE_OK;
		if (st == STORE_OK)
			(void)sandbox_load_bytecode(sb, bc, bclen, &c->res);
		free(bc);
		return st;
	}
	st = store_read_run(app->store, c->id, &c->meta, &src, &len, &lines,
	    &lines_len, err, errlen);
	if (st != STORE_OK)
		return st;
	c->heap = "source";
	if (lines != NULL && sandbox_set_lines(sb, lines, lines_len) == -1)
		log_warnx("invoke: version %u has a malformed line map",
		    c->version);
	/* Bytecode is shared by every function with this source, whatever its
	 * project: the file name compiled into it must name none of them. */
	if (sandbox_load(sb, src, len, SANDBOX_FILENAME, &bc, &bclen,
	    &c->res) == 0 &&
	    bc != NULL && app->cache != NULL)
		cache_put_bytecode(app->cache, key, bc, bclen);
	free(bc);
	free(src);
	free(lines);
	return STORE_OK;
}

/* A new heap for c: the worker's spare when it has one that fits c's
 * memory cap (made between requests, so not on this call's path), else
 * one made now. NULL when none can be made within c's limits. */
static struct sandbox *
new_heap(struct call *c)
{
	struct sandbox *sb;

	if (c->app->spare != NULL &&
	    (sb = spare_take(c->app->spare, &c->lim)) != NULL) {
		c->spare = 1;
		return sb;
	}
	return sandbox_new(&c->lim);
}

/* c->key: "project/request/fn@version#sha256#uid". */
_Static_assert(APP_HEAP_KEY_MAX >= NAME_FN_KEY_MAX + 1 +
    sizeof(((struct store_version *)0)->sha256) + 1 +
    sizeof(((struct store_version *)0)->uid), "a heap's key fits");
static void
heap_key(struct call *c)
{
	char *o = c->key;
	size_t n;

	o += name_fn_key(o, c->id, c->version);
	*o++ = '#';
	n = strlen(c->meta.sha256);
	memcpy(o, c->meta.sha256, n);
	o += n;
	*o++ = '#';
	n = strlen(c->meta.uid);
	memcpy(o, c->meta.uid, n + 1);
}

/* Runs the function (under the caller's guard): a warm heap of this exact
 * version if the worker has one, else a new heap. Fills c->res, c->sb,
 * c->duration_ms and c->peak; returns STORE_OK or the store's error. */
static int
run(struct call *c, const struct sandbox_request *rq, char *err,
    size_t errlen)
{
	double t0 = clock_ms();
	int st = STORE_OK;

	/* The uid tells apart a function deleted and uploaded again with
	 * the same source and number: it must not meet the old heaps. */
	heap_key(c);
	if (!c->meta.limits.per_call &&
	    (c->sb = hotset_take(c->app->hot, c->key, &c->calls)) != NULL)
		c->heap = "warm";
	else if ((c->sb = new_heap(c)) == NULL) {
		c->res.outcome = OUT_MEMORY_LIMIT;
		snprintf(c->res.message, sizeof(c->res.message), "the memory "
		    "limit is too small to create a JavaScript heap");
	} else
		st = load_cold(c, c->sb, err, errlen);
	if (st == STORE_OK && c->sb != NULL && c->res.outcome == OUT_OK) {
		sandbox_result_free(&c->res);
		/* SPEC §11: a new heap's top level had a budget of its own;
		 * the call gets a whole one too. */
		if (strcmp(c->heap, "warm") != 0)
			guard_rearm(c->lim.timeout_ms,
			    c->app->cfg.hard_grace_ms);
		(void)sandbox_call(c->sb, rq, &c->res);
	}
	c->duration_ms = clock_ms() - t0;
	if (c->sb != NULL)
		c->peak = sandbox_memory_peak(c->sb);
	return st;
}

/* Keeps the heap warm when it is still sound: not after a timeout or a
 * memory-limit hit (its state may be half-built), nor for per-call
 * isolation. A heap this call made waits in app->fresh for its answer to
 * be sent (invoke_settle). */
static void
release(struct call *c)
{
	struct app *app = c->app;
	enum outcome o = c->res.outcome;

	if (c->sb == NULL)
		return;
	if (c->meta.limits.per_call || (o != OUT_OK &&
	    o != OUT_FUNCTION_ERROR && o != OUT_NO_RESPONSE &&
	    o != OUT_RESPONSE_TOO_LARGE))
		sandbox_free(c->sb);
	else if (c->calls == 0) {	/* a new heap */
		invoke_settle(app);	/* none is left: one per request */
		app->fresh = c->sb;
		snprintf(app->fresh_key, sizeof(app->fresh_key), "%s", c->key);
	} else
		hotset_put(app->hot, c->key, c->sb,
		    sandbox_memory_used(c->sb), c->calls + 1);
	c->sb = NULL;
	metrics_set_warm(hotset_stats(app->hot)->count,
	    hotset_stats(app->hot)->bytes);
}

/* The new heap's compaction (sandbox_compact) was taken off its first
 * call's path: it runs here, once that call's answer is out. */
void
invoke_settle(struct app *app)
{
	struct sandbox *sb = app->fresh;

	if (sb == NULL)
		return;
	app->fresh = NULL;
	sandbox_compact(sb);
	hotset_put(app->hot, app->fresh_key, sb, sandbox_memory_used(sb), 1);
	metrics_set_warm(hotset_stats(app->hot)->count,
	    hotset_stats(app->hot)->bytes);
}

/* SPEC §13: counts this invocation against its project's concurrency, or
 * answers 429 at once. Returns 0 to go on (*taken: release when done), or
 * -1 when rs holds the answer. */
static int
take_slot(struct app *app, struct call *c, const struct req *r,
    struct resp *rs, int *taken)
{
	struct store_project_limits set;
	char err[ERRSTR_MAX];
	unsigned limit;

	*taken = 0;
	if (store_view_limits(app->store, c->id->project, &set, err,
	    sizeof(err)) != STORE_OK)
		log_warnx("invoke: %s: the default concurrency applies", err);
	limit = limits_project_concurrency(&app->cfg, &set);
	switch (concurrency_take(c->id->project, limit)) {
	case CONCURRENCY_TAKEN:
		*taken = 1;
		return 0;
	case CONCURRENCY_OFF:
		return 0;
	case CONCURRENCY_FULL:
		break;
	}
	c->res.outcome = OUT_TOO_MANY_REQUESTS;
	metrics_invocation(OUT_TOO_MANY_REQUESTS, 0);
	response_error(rs, OUT_TOO_MANY_REQUESTS, NULL, "project %s has %u "
	    "invocations running, its limit; try again shortly",
	    c->id->project, limit);
	(void)response_header(rs, "Retry-After", "1", 1);
	log_call(c, r, rs->status);
	return -1;
}

static int
resolve_version(struct app *app, const struct fn_id *id, const struct req *r,
    unsigned *version, struct resp *rs)
{
	char err[ERRSTR_MAX];
	int st;

	switch (request_query_uint(r, "version", version)) {
	case QUERY_OK:
		return 0;
	case QUERY_ABSENT:
		break;
	case QUERY_INVALID:
		response_error(rs, OUT_BAD_REQUEST, NULL,
		    "version must be a positive integer");
		return -1;
	}
	st = store_view_active(app->store, id, version, err, sizeof(err));
	if (st == STORE_OK)
		return 0;
	if (st == STORE_NOT_FOUND) {
		metrics_invocation(OUT_NOT_FOUND, 0);
		response_error(rs, OUT_NOT_FOUND, NULL, "no function %s/%s/%s",
		    id->project, id->request, id->fn);
	} else {
		log_warnx("invoke: %s", err);
		response_error(rs, OUT_UNAVAILABLE, NULL, "the store is not "
		    "readable");
	}
	return -1;
}

void
invoke_handle(struct app *app, const struct route_args *a, struct req *r,
    struct resp *rs)
{
	struct call c;
	const struct store_env_var *env = NULL;
	struct sandbox_request rq;
	struct sandbox_kv query[REQ_MAX_QUERY], headers[REQ_MAX_HEADERS];
	struct sandbox_kv *envkv = NULL;
	struct resp answer = { 0 }, on_timeout = { 0 }, on_fatal = { 0 };
	const char *dbg = request_header(r, "x-fn-debug");
	char err[ERRSTR_MAX];
	size_t nenv = 0;
	uint64_t tag;
	int st, guarded = 0, taken = 0;

	/* Everything but res, which sandbox_result_init empties without
	 * writing its 16 KiB message buffer on every call. */
	memset(&c, 0, offsetof(struct call, res));
	sandbox_result_init(&c.res);
	c.app = app;
	c.id = &a->id;
	c.debug = dbg != NULL && strcmp(dbg, "1") == 0;
	/* What the store said is kept by the view until the store changes:
	 * a change applies to the next call, on every worker and host. */
	store_view_begin(app->store);
	if (resolve_version(app, &a->id, r, &c.version, rs) == -1)
		goto out;
	st = store_view_meta(app->store, &a->id, c.version, &c.meta, err,
	    sizeof(err));
	if (st == STORE_OK)
		st = store_view_env(app->store, a->id.project, &env, &nenv,
		    err, sizeof(err));
	/* Taken before the function runs; released below, or by the
	 * guard, or by the supervisor, however the invocation ends. */
	if (st == STORE_OK && take_slot(app, &c, r, rs, &taken) == -1)
		goto out;
	if (st == STORE_OK) {
		limits_for(&app->cfg, &c.meta.limits, &c.lim);
		redact_init(&c.red, env, nenv);
		if (nenv > 0 && (envkv = calloc(nenv, sizeof(*envkv))) == NULL)
			abort();
		build_request(r, env, nenv, &rq, query, headers, envkv);
		c.net = (struct outbound_conf){ .policy = &app->egress,
		    .ca_file = app->cfg.egress_ca_file,
		    .max_per_call = app->cfg.fetch_max_per_call,
		    .max_in_flight = app->cfg.fetch_max_in_flight,
		    .request_body_max = app->cfg.fetch_body_max_bytes,
		    .project = a->id.project,
		    .host_check = project_egress_allows,
		    .host_check_arg = app };
		rq.net = &c.net;
		/* The hard bound covers the run and the making of its answer:
		 * nothing done for an invocation outlives it (issue 8). Its
		 * answers say only the version and the time limit (the
		 * grace is the worker's), unless the envelope is asked for:
		 * the last call's are used again when those are the same. */
		tag = c.debug ? 0 : (uint64_t)c.version << 32 |
		    c.lim.timeout_ms;
		if (guard_begin_again(app->conn, tag, c.lim.timeout_ms,
		    app->cfg.hard_grace_ms) == -1) {
			prepare_emergency(&c, &on_timeout, &on_fatal);
			guard_begin_tagged(app->conn, &on_timeout, &on_fatal,
			    tag, c.lim.timeout_ms, app->cfg.hard_grace_ms);
		}
		guarded = 1;
		st = run(&c, &rq, err, sizeof(err));
	}
	if (st == STORE_NOT_FOUND) {
		metrics_invocation(OUT_NOT_FOUND, 0);
		response_error(rs, OUT_NOT_FOUND, NULL, "no version %u of "
		    "%s/%s/%s", c.version, a->id.project, a->id.request,
		    a->id.fn);
		goto out;
	}
	if (st != STORE_OK) {
		log_warnx("invoke: %s", err);
		response_error(rs, OUT_UNAVAILABLE, NULL,
		    "the store is not readable");
		goto out;
	}
	/* Issue 4: secret values never leave through our own channels. */
	redact_inplace(&c.red, c.res.message, SANDBOX_TRUNCATED_MARKER);
	redact_inplace(&c.red, c.res.stack, SANDBOX_TRUNCATED_MARKER);
	metrics_add(c.heap != NULL && strcmp(c.heap, "warm") == 0 ?
	    M_HEAPS_WARM : M_HEAPS_COLD, 1);
	if (c.spare)
		metrics_add(M_HEAPS_SPARE, 1);
	metrics_invocation(c.res.outcome, c.duration_ms);
	for (size_t i = 0; i < c.res.fetches.n; i++)
		metrics_fetch(c.res.fetches.v[i].outcome);
	if (c.res.outcome == OUT_OK)
		function_answer(&answer, &c);
	else
		response_result_error(&answer, &c.res);
	if (c.debug)
		envelope(rs, &c, &answer, c.res.outcome != OUT_OK);
	else {
		log_console(&c);
		response_copy(rs, &answer);
	}
	add_runtime_headers(rs, &c, c.duration_ms);
	log_call(&c, r, rs->status);
out:
	if (guarded)
		guard_end();
	if (taken)
		concurrency_release();
	response_free(&on_timeout);
	response_free(&on_fatal);
	redact_free(&c.red);
	release(&c);
	sandbox_result_free(&c.res);
	response_free(&answer);
	free(envkv);
}
