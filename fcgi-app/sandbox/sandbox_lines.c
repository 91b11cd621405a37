/*
 * sandbox_lines.c - the line map of lowered code and the rewriting of
 * error texts with it (sandbox_lines.h).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "num.h"
#include "sandbox_lines.h"

int
sandbox_lines_parse(const char *text, size_t len, struct sandbox_lines *m)
{
	const char *p = text, *end = text + len, *nl;
	size_t n = 0, i;
	uint64_t v;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < len; i++)
		if (text[i] == '\n')
			n++;
	if (n == 0 || n > SANDBOX_LINES_MAX || text[len - 1] != '\n')
		return -1;
	if ((m->line = calloc(n, sizeof(*m->line))) == NULL)
		return -1;
	for (i = 0; p < end; i++, p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (num_parse(p, (size_t)(nl - p), 0, UINT_MAX, &v) == -1) {
			sandbox_lines_free(m);
			return -1;
		}
		m->line[i] = (unsigned)v;
	}
	m->n = n;
	return 0;
}

void
sandbox_lines_free(struct sandbox_lines *m)
{
	free(m->line);
	memset(m, 0, sizeof(*m));
}

unsigned
sandbox_lines_map(const struct sandbox_lines *m, unsigned n)
{
	if (n == 0 || n > m->n)
		return 0;
	return m->line[n - 1];
}

/* The decimal at s[0..len) (at most 10 digits): its length, 0 if none. */
static size_t
digits(const char *s, size_t len, unsigned *v)
{
	uint64_t x = 0;
	size_t i;

	for (i = 0; i < len && i < 10 && s[i] >= '0' && s[i] <= '9'; i++)
		x = x * 10 + (uint64_t)(s[i] - '0');
	if (i == 0 || x > 0xffffffffu)
		return 0;
	*v = (unsigned)x;
	return i;
}

static int
starts(const char *s, size_t len, const char *word, size_t wlen)
{
	return len >= wlen && memcmp(s, word, wlen) == 0;
}

void
sandbox_lines_rewrite(const struct sandbox_lines *m, const char *s,
    size_t len, struct buf *out)
{
	static const char frame[] = SANDBOX_LINES_FILE ":";
	static const char syntax[] = "(line ";
	size_t i = 0, done = 0, k;
	unsigned n, to;

	while (i < len) {
		if (starts(s + i, len - i, frame, sizeof(frame) - 1) &&
		    (k = digits(s + i + sizeof(frame) - 1,
		    len - i - (sizeof(frame) - 1), &n)) > 0) {
			buf_append(out, s + done, i - done);
			if ((to = sandbox_lines_map(m, n)) == 0)
				buf_puts(out, SANDBOX_LINES_HELPER);
			else
				buf_printf(out, "%s%u", frame, to);
			i += sizeof(frame) - 1 + k;
			done = i;
		} else if (starts(s + i, len - i, syntax, sizeof(syntax) - 1) &&
		    (k = digits(s + i + sizeof(syntax) - 1,
		    len - i - (sizeof(syntax) - 1), &n)) > 0) {
			buf_append(out, s + done, i - done);
			buf_printf(out, "%s%u", syntax, sandbox_lines_map(m, n));
			i += sizeof(syntax) - 1 + k;
			done = i;
		} else
			i++;
	}
	buf_append(out, s + done, len - done);
}
