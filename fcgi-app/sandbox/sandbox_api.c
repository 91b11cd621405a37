/*
 * sandbox_api.c - every C function visible to JavaScript, in one file:
 * console.log/info/warn/error/debug and res.send/res.json. They write only
 * into the struct sandbox of their own heap; none touches files, the
 * network or the process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "response.h"
#include "sandbox_internal.h"

static const char *const levels[] = { "log", "info", "warn", "error",
    "debug" };

#define HIDDEN_SEQ	DUK_HIDDEN_SYMBOL("seq")

static duk_ret_t
json_encode_safe(duk_context *ctx, void *udata)
{
	(void)udata;
	duk_json_encode(ctx, -1);
	return 1;
}

static void
log_append_entry(struct sandbox_log *log, const char *level, const char *msg,
    size_t len)
{
	struct sandbox_log_entry *e = &log->entries[log->n++];

	e->level = level;
	if ((e->message = malloc(len + 1)) == NULL)
		abort();
	memcpy(e->message, msg, len);
	e->message[len] = '\0';
	e->len = len;
	e->cut = 0;
	log->bytes += len;
}

/* Ends the call's console output with a marker (SPEC §6: truncated, with
 * a marker); nothing is kept after it. */
static void
log_truncate(struct sandbox_log *log, const char *why, size_t limit)
{
	struct sandbox_log_entry *e = &log->entries[log->n++];
	char marker[96];

	log->truncated = 1;
	e->level = "warn";
	e->cut = 0;
	e->len = (size_t)snprintf(marker, sizeof(marker),
	    "[fnrun: console output truncated at %zu %s]", limit, why);
	if ((e->message = strdup(marker)) == NULL)
		abort();
}

/* Keeps one console entry, within log_max bytes and log_entries_max
 * entries per call: an empty entry counts too. */
void
sandbox_api_log(struct sandbox *sb, const char *level, const char *msg,
    size_t len)
{
	struct sandbox_log *log = &sb->log;
	struct sandbox_log_entry *ne;
	size_t room, cap;

	if (log->truncated)
		return;
	/* Room for this entry and a marker. */
	if (log->n + 2 > log->cap) {
		cap = log->cap > 0 ? log->cap * 2 : 16;
		if ((ne = realloc(log->entries, cap * sizeof(*ne))) == NULL)
			abort();
		log->entries = ne;
		log->cap = cap;
	}
	if (log->n >= sb->lim.log_entries_max) {
		log_truncate(log, "entries", sb->lim.log_entries_max);
		return;
	}
	room = sb->lim.log_max > log->bytes ? sb->lim.log_max - log->bytes : 0;
	if (len > room) {
		if (room > 0) {
			log_append_entry(log, level, msg, room);
			log->entries[log->n - 1].cut = 1;
		}
		log_truncate(log, "bytes", sb->lim.log_max);
		return;
	}
	log_append_entry(log, level, msg, len);
}

void
sandbox_api_log_clear(struct sandbox_log *log)
{
	size_t i;

	for (i = 0; i < log->n; i++)
		free(log->entries[i].message);
	free(log->entries);
	memset(log, 0, sizeof(*log));
}

/* console.<level>(...args): strings as they are, other values as JSON
 * where they have a JSON form, else String(value); joined by spaces. */
static duk_ret_t
console_write(duk_context *ctx)
{
	struct sandbox *sb = sandbox_of(ctx);
	duk_idx_t i, n = duk_get_top(ctx);
	const char *s;
	duk_size_t len;

	/* Past the cap nothing is kept: spend nothing on it either. */
	if (sb->log.truncated)
		return 0;
	for (i = 0; i < n; i++) {
		if (duk_is_string(ctx, i))
			continue;
		if (duk_is_object(ctx, i) && !duk_is_function(ctx, i) &&
		    !duk_is_error(ctx, i)) {
			duk_dup(ctx, i);
			if (duk_safe_call(ctx, json_encode_safe, NULL, 1, 1) == 0 &&
			    duk_is_string(ctx, -1)) {
				duk_replace(ctx, i);
				continue;
			}
			duk_pop(ctx);
		}
		duk_safe_to_string(ctx, i);
	}
	duk_push_string(ctx, " ");
	duk_insert(ctx, 0);
	duk_join(ctx, n);
	s = duk_get_lstring(ctx, -1, &len);
	sandbox_api_log(sb, levels[duk_get_current_magic(ctx)], s, len);
	return 0;
}

/* Marks the answer too large (SPEC §6: response_too_large) and throws. */
static duk_ret_t
too_large(duk_context *ctx, struct sandbox *sb, const char *fmt, size_t n)
{
	sb->too_large = 1;
	snprintf(sb->res->message, sizeof(sb->res->message), fmt, n);
	return duk_range_error(ctx, fmt, n);
}

static void
add_header(struct sandbox_pending *res, const char *name, size_t nlen,
    const char *value, size_t vlen)
{
	struct sandbox_header *nh;

	nh = realloc(res->headers, (res->nheaders + 1) * sizeof(*nh));
	if (nh == NULL)
		abort();
	res->headers = nh;
	nh[res->nheaders].name = buf_memdup(name, nlen);
	nh[res->nheaders].value = buf_memdup(value, vlen);
	res->nheaders++;
}

/* Copies the headers object at idx into res, within the count and byte
 * caps (they are copied out of the heap, so its cap does not bound them);
 * throws on a bad header. */
static void
take_headers(duk_context *ctx, struct sandbox *sb, duk_idx_t idx,
    struct sandbox_pending *res)
{
	const char *k, *v;
	duk_size_t klen, vlen;
	size_t bytes = 0;

	if (duk_is_undefined(ctx, idx) || duk_is_null(ctx, idx))
		return;
	if (!duk_is_object(ctx, idx))
		(void)duk_type_error(ctx, "headers must be an object");
	duk_enum(ctx, idx, DUK_ENUM_OWN_PROPERTIES_ONLY);
	while (duk_next(ctx, -1, 1)) {
		k = duk_safe_to_lstring(ctx, -2, &klen);
		v = duk_safe_to_lstring(ctx, -1, &vlen);
		if (res->nheaders >= sb->lim.headers_max)
			(void)too_large(ctx, sb, "more than %zu response headers",
			    sb->lim.headers_max);
		bytes += klen + vlen;
		if (bytes > sb->lim.header_bytes_max)
			(void)too_large(ctx, sb, "response headers exceed %zu "
			    "bytes", sb->lim.header_bytes_max);
		if (!response_header_ok(k, klen, v, vlen))
			(void)duk_type_error(ctx, "invalid header '%s'", k);
		add_header(res, k, klen, v, vlen);
		duk_pop_2(ctx);
	}
	duk_pop(ctx);
}

static int
has_content_type(const struct sandbox_pending *res)
{
	size_t i;

	for (i = 0; i < res->nheaders; i++)
		if (strcasecmp(res->headers[i].name, "content-type") == 0)
			return 1;
	return 0;
}

/* The work of res.send/res.json (magic 0/1) on the arguments [ body,
 * status, headers ] of its caller's frame (a safe call runs in it). Any
 * of it may run the function's code: toJSON, toString, getters. */
static duk_ret_t
send_safe(duk_context *ctx, void *udata)
{
	struct sandbox *sb = udata;
	struct sandbox_result *res = sb->res;
	int as_json = duk_get_current_magic(ctx) == 1;
	const char *ctype = "text/plain; charset=utf-8";
	const void *body;
	duk_size_t len;
	duk_double_t st = 200;

	/* SPEC §5: 200-599. 1xx would let a function write a second,
	 * forged response after nginx's interim one. */
	if (!duk_is_undefined(ctx, 1)) {
		st = duk_is_number(ctx, 1) ? duk_get_number(ctx, 1) : -1;
		if (!(st >= 200 && st <= 599) || st != (double)(int)st)
			return duk_range_error(ctx,
			    "status must be an integer from 200 to 599");
	}
	if (as_json) {
		ctype = "application/json";
		duk_dup(ctx, 0);
		duk_json_encode(ctx, -1);
		if (!duk_is_string(ctx, -1)) {
			duk_pop(ctx);
			duk_push_string(ctx, "null");
		}
		duk_replace(ctx, 0);
	} else if (duk_is_undefined(ctx, 0) || duk_is_null(ctx, 0)) {
		duk_push_string(ctx, "");
		duk_replace(ctx, 0);
	} else if (duk_is_buffer_data(ctx, 0)) {
		ctype = "application/octet-stream";
	} else if (duk_is_object(ctx, 0) && !duk_is_function(ctx, 0)) {
		ctype = "application/json";
		duk_json_encode(ctx, 0);
	} else if (!duk_is_string(ctx, 0))
		duk_safe_to_string(ctx, 0);
	if (duk_is_buffer_data(ctx, 0))
		body = duk_get_buffer_data(ctx, 0, &len);
	else
		body = duk_get_lstring(ctx, 0, &len);
	if (len > sb->lim.response_max)
		return too_large(ctx, sb, "response body exceeds %zu bytes",
		    sb->lim.response_max);
	sandbox_pending_free(&sb->pending);
	take_headers(ctx, sb, 2, &sb->pending);
	if (!has_content_type(&sb->pending))
		add_header(&sb->pending, "Content-Type", 12, ctype,
		    strlen(ctype));
	/* Nothing below throws: the answer is taken whole or not at all. */
	free(res->body);
	res->headers = sb->pending.headers;
	res->nheaders = sb->pending.nheaders;
	sb->pending.headers = NULL;
	sb->pending.nheaders = 0;
	res->body = buf_memdup(body != NULL ? body : "", len);
	res->body_len = len;
	res->status = (int)st;
	return 0;
}

/* res.send(body, status = 200, headers = {}) (magic 0) and
 * res.json(value, status = 200, headers = {}) (magic 1). The call is
 * marked as sending before any value of the function's is read, so a
 * getter that calls res.send again is a second send (function_error),
 * never a nested one. */
static duk_ret_t
res_send(duk_context *ctx)
{
	struct sandbox *sb = sandbox_of(ctx);
	double seq;
	int rc;

	duk_set_top(ctx, 3);
	duk_push_current_function(ctx);
	seq = duk_get_prop_string(ctx, -1, HIDDEN_SEQ) ?
	    duk_get_number(ctx, -1) : -1;
	duk_pop_2(ctx);
	/* A res kept from an earlier call cannot answer this one. */
	if (sb->res == NULL || seq != (double)sb->call_seq)
		return duk_error(ctx, DUK_ERR_ERROR,
		    "this res belongs to a call that has ended");
	if (sb->sent || sb->sending) {
		sb->sent_twice = 1;
		return duk_error(ctx, DUK_ERR_ERROR,
		    "res.send/res.json called more than once");
	}
	sb->sending = 1;
	rc = duk_safe_call(ctx, send_safe, sb, 0, 1);
	sb->sending = 0;
	if (rc != DUK_EXEC_SUCCESS)
		return duk_throw(ctx);
	sb->sent = 1;
	return 0;
}

void
sandbox_api_push_res(duk_context *ctx)
{
	struct sandbox *sb = sandbox_of(ctx);
	static const char *const names[] = { "send", "json" };
	int i;

	duk_push_object(ctx);
	for (i = 0; i < 2; i++) {
		duk_push_c_function(ctx, res_send, 3);
		duk_set_magic(ctx, -1, i);
		/* Tie the function to this call's result (see res_send). */
		duk_push_number(ctx, (double)sb->call_seq);
		duk_put_prop_string(ctx, -2, HIDDEN_SEQ);
		duk_put_prop_string(ctx, -2, names[i]);
	}
}

void
sandbox_api_install(duk_context *ctx)
{
	size_t i;

	duk_push_global_object(ctx);
	/* SPEC §1: no engine internals; Duktape 2 has no require by default. */
	duk_del_prop_string(ctx, -1, "Duktape");
	duk_del_prop_string(ctx, -1, "require");
	duk_push_object(ctx);
	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		duk_push_c_function(ctx, console_write, DUK_VARARGS);
		duk_set_magic(ctx, -1, (duk_int_t)i);
		duk_put_prop_string(ctx, -2, levels[i]);
	}
	duk_put_prop_string(ctx, -2, "console");
	/* module and exports (SPEC §5) are the module function's
	 * parameters, not globals (sandbox.c, MODULE_HEAD). */
	duk_pop(ctx);
}
