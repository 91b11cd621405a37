/*
 * response.c - status, headers and JSON errors; an outcome's code and
 * status come from the one table (outcome.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "response.h"
#include "sandbox.h"

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
response_error(struct resp *rs, enum outcome e, const char *extra,
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
	rs->status = outcome_status(e);
	(void)response_header(rs, "Content-Type", "application/json", 16);
	buf_puts(&rs->body, "{\"error\":");
	buf_json_string(&rs->body, outcome_code(e), strlen(outcome_code(e)));
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

void
response_result_error(struct resp *rs, const struct sandbox_result *res)
{
	struct buf extra = { 0 };

	if (res->outcome == OUT_SYNTAX_ERROR ||
	    res->outcome == OUT_UNSUPPORTED_SYNTAX) {
		buf_printf(&extra, "\"line\":%d", res->line);
		if (res->column > 0)
			buf_printf(&extra, ",\"column\":%d", res->column);
	} else if (res->outcome == OUT_FUNCTION_ERROR && res->stack != NULL) {
		buf_puts(&extra, "\"stack\":");
		buf_json_string(&extra, res->stack, strlen(res->stack));
	}
	response_error(rs, res->outcome, extra.data, "%s", res->message);
	buf_free(&extra);
}
