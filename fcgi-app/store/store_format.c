/*
 * store_format.c - the store's "meta", "active" and ".limits" files and
 * version directory names, parsed strictly: these bytes come from disk, where
 * anything with write access to the store could have put them. Never
 * touches a file; store.c reads them and calls these.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "num.h"
#include "store_format.h"

/* A version number: 1..UINT_MAX, as a directory name or in "active". */
int
store_format_version(const char *s, size_t len, unsigned *out)
{
	uint64_t	v;

	if (num_parse(s, len, 0, UINT_MAX, &v) == -1 || v == 0)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* The content of "active" as active_write leaves it: "N\n". */
int
store_format_active(const char *buf, size_t len, unsigned *version)
{
	if (len < 2 || buf[len - 1] != '\n' ||
	    store_format_version(buf, len - 1, version) == -1)
		return -1;
	return 0;
}

/* One "key=value\n" line of a meta or limits file, starting at *pos:
 * the key's and the value's bytes, *pos moved past the line. Returns 1, 0
 * at the end, or -1 for a line without '\n' or '='. */
static int
next_line(const char **pos, const char *end, const char **key,
    size_t *klen, const char **val, size_t *vlen)
{
	const char	*line = *pos, *nl, *eq;

	if (line >= end)
		return 0;
	if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
		return -1;
	if ((eq = memchr(line, '=', (size_t)(nl - line))) == NULL)
		return -1;
	*key = line;
	*klen = (size_t)(eq - line);
	*val = eq + 1;
	*vlen = (size_t)(nl - eq - 1);
	*pos = nl + 1;
	return 1;
}

int
store_format_meta(const char *buf, size_t len, struct store_version *v)
{
	const char	*pos = buf, *end = buf + len, *line, *eq;
	uint64_t	 n;
	size_t		 klen, vlen;
	unsigned	 seen = 0;
	int		 r;

	while ((r = next_line(&pos, end, &line, &klen, &eq, &vlen)) == 1) {
#define KEY(k)	(klen == sizeof(k) - 1 && memcmp(line, k, klen) == 0)
		if (KEY("sha256")) {
			if (vlen != 64 || strspn(eq, "0123456789abcdef") < 64)
				return -1;
			memcpy(v->sha256, eq, 64);
			v->sha256[64] = '\0';
			seen |= 1;
		} else if (KEY("size")) {
			if (num_parse(eq, vlen, 0, SIZE_MAX, &n) == -1)
				return -1;
			v->size = (size_t)n;
			seen |= 2;
		} else if (KEY("created_at")) {
			if (num_parse(eq, vlen, 0, INT64_MAX, &n) == -1)
				return -1;
			v->created_at = (time_t)n;
			seen |= 4;
		} else if (KEY("timeout_ms")) {
			if (num_parse(eq, vlen, 0, UINT_MAX, &n) == -1)
				return -1;
			v->limits.timeout_ms = (unsigned)n;
			seen |= 8;
		} else if (KEY("memory_mb")) {
			if (num_parse(eq, vlen, 0, UINT_MAX, &n) == -1)
				return -1;
			v->limits.memory_mb = (unsigned)n;
			seen |= 16;
		} else if (KEY("uid")) {
			/* Optional, like isolation. */
			if (vlen != 32 || strspn(eq, "0123456789abcdef") < 32)
				return -1;
			memcpy(v->uid, eq, 32);
			v->uid[32] = '\0';
		} else if (KEY("run_sha256")) {
			/* Optional: only lowered versions have run.js. */
			if (vlen != 64 || strspn(eq, "0123456789abcdef") < 64)
				return -1;
			memcpy(v->run_sha256, eq, 64);
			v->run_sha256[64] = '\0';
		} else if (KEY("language")) {
			/* Optional: absent means JavaScript. */
			if (vlen == 10 && memcmp(eq, "typescript", 10) == 0)
				v->typescript = 1;
			else if (vlen == 10 && memcmp(eq, "javascript", 10) == 0)
				v->typescript = 0;
			else
				return -1;
		} else if (KEY("isolation")) {
			/* Optional: absent in metas written before it existed. */
			if (vlen == 8 && memcmp(eq, "per-call", 8) == 0)
				v->limits.per_call = 1;
			else if (vlen == 4 && memcmp(eq, "warm", 4) == 0)
				v->limits.per_call = 0;
			else
				return -1;
		}
		/* Unknown keys are left for a later version of this file. */
#undef KEY
	}
	return r == 0 && seen == 31 ? 0 : -1;
}

int
store_format_limits(const char *buf, size_t len,
    struct store_project_limits *l)
{
	const char	*pos = buf, *end = buf + len, *key, *val;
	uint64_t	 n;
	size_t		 klen, vlen;
	int		 r;

	while ((r = next_line(&pos, end, &key, &klen, &val, &vlen)) == 1) {
		if (klen == 11 && memcmp(key, "concurrency", 11) == 0) {
			if (num_parse(val, vlen, 1, UINT_MAX, &n) == -1)
				return -1;
			l->concurrency = (unsigned)n;
		}
		/* Unknown keys: settings of a later version (egress). */
	}
	return r == 0 ? 0 : -1;
}
