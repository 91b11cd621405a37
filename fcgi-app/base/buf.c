/*
 * buf.c - growable byte buffer and JSON string writer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "num.h"
#include "utf8.h"

static void
reserve(struct buf *b, size_t extra)
{
	size_t cap;
	char *p;

	if (b->len + extra + 1 <= b->cap)
		return;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + extra + 1) {
		if (cap > ((size_t)-1) / 2)
			abort();
		cap *= 2;
	}
	if ((p = realloc(b->data, cap)) == NULL)
		abort();
	b->data = p;
	b->cap = cap;
}

void
buf_append(struct buf *b, const void *p, size_t len)
{
	reserve(b, len);
	if (len > 0)
		memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void
buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
buf_json_string(struct buf *b, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run, n;

	reserve(b, len + 2);
	buf_append(b, "\"", 1);
	while (i < len) {
		/* Copy runs of plain bytes at once. */
		for (run = i; run < len && p[run] >= 0x20 && p[run] < 0x80 &&
		    p[run] != '"' && p[run] != '\\'; run++)
			;
		if (run > i) {
			buf_append(b, p + i, run - i);
			i = run;
			continue;
		}
		switch (p[i]) {
		case '"': buf_append(b, "\\\"", 2); i++; continue;
		case '\\': buf_append(b, "\\\\", 2); i++; continue;
		case '\n': buf_append(b, "\\n", 2); i++; continue;
		case '\r': buf_append(b, "\\r", 2); i++; continue;
		case '\t': buf_append(b, "\\t", 2); i++; continue;
		default:
			break;
		}
		if (p[i] < 0x20) {
			buf_printf(b, "\\u%04x", p[i]);
			i++;
		} else if ((n = utf8_seq(p + i, len - i)) > 0) {
			buf_append(b, p + i, n);
			i += n;
		} else {
			buf_append(b, "\xef\xbf\xbd", 3);
			i++;
		}
	}
	buf_append(b, "\"", 1);
}

void
buf_uint(struct buf *b, unsigned long long v)
{
	char digits[NUM_DIGITS_MAX];

	buf_append(b, digits, num_format(digits, v));
}

void
buf_ms(struct buf *b, double ms)
{
	unsigned long long us = ms > 0 ? (unsigned long long)(ms * 1000 + 0.5) :
	    0;
	char frac[4];

	buf_uint(b, us / 1000);
	frac[0] = '.';
	frac[1] = (char)('0' + us % 1000 / 100);
	frac[2] = (char)('0' + us % 100 / 10);
	frac[3] = (char)('0' + us % 10);
	buf_append(b, frac, 4);
}

char *
buf_memdup(const void *p, size_t len)
{
	char *s;

	if ((s = malloc(len + 1)) == NULL)
		abort();
	if (len > 0)
		memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
