/*
 * response.c - status, headers and JSON errors. The only place that maps
 * an error code to an HTTP status.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "response.h"

static const struct {
	const char	*code;
	int		 status;
} errors[] = {
	[ERR_NONE] = { "none", 200 },
	[ERR_INVALID_NAME] = { "invalid_name", 400 },
	[ERR_UNAUTHORIZED] = { "unauthorized", 401 },
	[ERR_NOT_FOUND] = { "not_found", 404 },
	[ERR_METHOD_NOT_ALLOWED] = { "method_not_allowed", 405 },
	[ERR_BAD_REQUEST] = { "bad_request", 400 },
	[ERR_PAYLOAD_TOO_LARGE] = { "payload_too_large", 413 },
	[ERR_INVALID_JSON] = { "invalid_json", 400 },
	[ERR_SYNTAX] = { "syntax_error", 422 },
	[ERR_NO_HANDLER] = { "no_handler", 422 },
	[ERR_FUNCTION] = { "function_error", 500 },
	[ERR_NO_RESPONSE] = { "no_response", 500 },
	[ERR_MEMORY_LIMIT] = { "memory_limit", 500 },
	[ERR_RESPONSE_TOO_LARGE] = { "response_too_large", 500 },
	[ERR_TIMEOUT] = { "timeout", 504 },
	[ERR_UNAVAILABLE] = { "unavailable", 503 },
	[ERR_INTERNAL] = { "internal", 500 },
};

const char *
response_error_code(enum resp_error e)
{
	return errors[e].code;
}

/* RFC 9110 §5.6.2 token characters. */
static int
is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

int
response_header_ok(const char *name, size_t nlen, const char *value,
    size_t vlen)
{
	size_t i;

	if (nlen == 0 || nlen > 256)
		return 0;
	for (i = 0; i < nlen; i++)
		if (!is_tchar((unsigned char)name[i]))
			return 0;
	return memchr(value, '\r', vlen) == NULL &&
	    memchr(value, '\n', vlen) == NULL &&
	    memchr(value, '\0', vlen) == NULL;
}

int
response_header(struct resp *rs, const char *name, const char *value,
    size_t value_len)
{
	struct resp_header *h;
	size_t nlen = strlen(name);

	if (rs->nheaders == RESP_MAX_HEADERS ||
	    !response_header_ok(name, nlen, value, value_len))
		return -1;
	h = &rs->hdr[rs->nheaders++];
	h->name = rs->text.len;
	h->name_len = nlen;
	buf_append(&rs->text, name, nlen);
	h->value = rs->text.len;
	h->value_len = value_len;
	buf_append(&rs->text, value, value_len);
	return 0;
}

const char *
response_header_name(const struct resp *rs, size_t i, size_t *len)
{
	*len = rs->hdr[i].name_len;
	return rs->text.data + rs->hdr[i].name;
}

const char *
response_header_value(const struct resp *rs, size_t i, size_t *len)
{
	*len = rs->hdr[i].value_len;
	return rs->text.data + rs->hdr[i].value;
}

void
response_copy(struct resp *dst, const struct resp *src)
{
	response_reset(dst);
	dst->status = src->status;
	buf_append(&dst->text, src->text.data, src->text.len);
	memcpy(dst->hdr, src->hdr, src->nheaders * sizeof(src->hdr[0]));
	dst->nheaders = src->nheaders;
	buf_append(&dst->body, src->body.data, src->body.len);
}

void
response_error(struct resp *rs, enum resp_error e, const char *extra,
    const char *fmt, ...)
{
	/* Room for a function's error message: SPEC §6 bounds it at 16 KiB
	 * and a marker (sandbox.h). */
	char msg[17 * 1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		msg[0] = '\0';
	response_reset(rs);
	rs->status = errors[e].status;
	(void)response_header(rs, "Content-Type", "application/json", 16);
	buf_puts(&rs->body, "{\"error\":");
	buf_json_string(&rs->body, errors[e].code, strlen(errors[e].code));
	buf_puts(&rs->body, ",\"message\":");
	buf_json_string(&rs->body, msg, strlen(msg));
	if (extra != NULL && *extra != '\0') {
		buf_append(&rs->body, ",", 1);
		buf_puts(&rs->body, extra);
	}
	buf_append(&rs->body, "}", 1);
}

void
response_json(struct resp *rs, int status, const struct buf *b)
{
	response_reset(rs);
	rs->status = status;
	(void)response_header(rs, "Content-Type", "application/json", 16);
	buf_append(&rs->body, b->data, b->len);
}

void
response_reset(struct resp *rs)
{
	rs->status = 200;
	buf_reset(&rs->text);
	rs->nheaders = 0;
	buf_reset(&rs->body);
}

void
response_free(struct resp *rs)
{
	buf_free(&rs->text);
	rs->nheaders = 0;
	buf_free(&rs->body);
}
