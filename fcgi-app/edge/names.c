/*
 * names.c - the validators for project, request, function and environment
 * variable names (SPEC §2, §7). Pure functions of their input: they never
 * touch a file and never depend on the locale, so a name that passes here
 * is safe as one path component of the store.
 */
#include <string.h>

#include "names.h"
#include "num.h"

static int
is_alnum(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9');
}

int
name_valid(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i;

	/* ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$: no '.', '/' or NUL can pass. */
	if (s == NULL || len == 0 || len > NAME_MAX_LEN)
		return 0;
	if (!is_alnum(p[0]))
		return 0;
	for (i = 1; i < len; i++)
		if (!is_alnum(p[i]) && p[i] != '_' && p[i] != '-')
			return 0;
	return 1;
}

int
name_env_valid(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i;

	/* ^[A-Z_][A-Z0-9_]{0,127}$ */
	if (s == NULL || len == 0 || len > ENV_NAME_MAX_LEN)
		return 0;
	if (!(p[0] >= 'A' && p[0] <= 'Z') && p[0] != '_')
		return 0;
	for (i = 1; i < len; i++)
		if (!(p[i] >= 'A' && p[i] <= 'Z') &&
		    !(p[i] >= '0' && p[i] <= '9') && p[i] != '_')
			return 0;
	return 1;
}

int
name_fn_id(struct fn_id *id, const char *project, size_t plen,
    const char *request, size_t rlen, const char *fn, size_t flen)
{
	memset(id, 0, sizeof(*id));
	if (!name_valid(project, plen) || !name_valid(request, rlen) ||
	    !name_valid(fn, flen))
		return -1;
	memcpy(id->project, project, plen);
	memcpy(id->request, request, rlen);
	memcpy(id->fn, fn, flen);
	return 0;
}

static char *
put_name(char *o, const char *name, char sep)
{
	size_t n = strlen(name);

	memcpy(o, name, n);
	o[n] = sep;
	return o + n + 1;
}

size_t
name_fn_key(char *out, const struct fn_id *id, unsigned version)
{
	char *o = out;

	o = put_name(o, id->project, '/');
	o = put_name(o, id->request, '/');
	o = put_name(o, id->fn, '@');
	o += num_format(o, version);
	*o = '\0';
	return (size_t)(o - out);
}
