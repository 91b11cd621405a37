/*
 * redact.c - replacement of secret values by "***". Values are tried
 * longest first, so a value that contains another is hidden whole.
 */
#include <stdlib.h>
#include <string.h>

#include "redact.h"

void
redact_init(struct redactor *r, const struct store_env_var *vars, size_t n)
{
	size_t i, j, k;

	memset(r, 0, sizeof(*r));
	if (n == 0)
		return;
	if ((r->val = calloc(n, sizeof(*r->val))) == NULL ||
	    (r->len = calloc(n, sizeof(*r->len))) == NULL)
		abort();
	for (i = 0; i < n; i++) {
		if (vars[i].value == NULL || vars[i].len < REDACT_MIN_LEN)
			continue;
		/* Insertion by length, longest first. */
		for (j = 0; j < r->n && r->len[j] >= vars[i].len; j++)
			;
		for (k = r->n; k > j; k--) {
			r->val[k] = r->val[k - 1];
			r->len[k] = r->len[k - 1];
		}
		r->val[j] = vars[i].value;
		r->len[j] = vars[i].len;
		r->n++;
	}
}

void
redact_free(struct redactor *r)
{
	free(r->val);
	free(r->len);
	memset(r, 0, sizeof(*r));
}

/* The earliest occurrence of any value in s[0..len), or NULL. */
static const char *
first_hit(const struct redactor *r, const char *s, size_t len, size_t *hitlen)
{
	const char *best = NULL, *p;
	size_t i;

	for (i = 0; i < r->n; i++) {
		p = memmem(s, len, r->val[i], r->len[i]);
		if (p != NULL && (best == NULL || p < best)) {
			best = p;
			*hitlen = r->len[i];
		}
	}
	return best;
}

void
redact_append(const struct redactor *r, struct buf *out, const char *s,
    size_t len)
{
	const char *hit;
	size_t hitlen = 0;

	while (r->n > 0 && (hit = first_hit(r, s, len, &hitlen)) != NULL) {
		buf_append(out, s, (size_t)(hit - s));
		buf_append(out, "***", 3);
		len -= (size_t)(hit - s) + hitlen;
		s = hit + hitlen;
	}
	buf_append(out, s, len);
}

void
redact_inplace(const struct redactor *r, char *s)
{
	struct buf b = { 0 };

	if (r->n == 0 || s == NULL)
		return;
	redact_append(r, &b, s, strlen(s));
	/* "***" is shorter than any redacted value: the result fits. */
	memcpy(s, b.data, b.len + 1);
	buf_free(&b);
}
