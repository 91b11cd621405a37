/*
 * egress_hosts.c - a project's host allowlist (egress_hosts.h): DNS names
 * and "*." wildcards validated into one normal form (lower case, no
 * trailing dot), the stored form of a list, and the match of a URL's host.
 * Every byte it reads comes from outside (a PUT body, a store file, a
 * function's URL): lengths are checked before anything is copied. Never
 * does I/O or DNS.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "egress_hosts.h"

/* "*." + a name, and the NUL. */
#define PATTERN_SIZE	(EGRESS_HOST_MAX_LEN + 1)

struct egress_hosts {
	char	v[EGRESS_HOSTS_MAX][PATTERN_SIZE];
	size_t	n;
};

int
egress_hosts_name(const char *s, size_t len, char *out, size_t outlen)
{
	size_t	i, label = 0;

	if (len == 0 || len > EGRESS_HOST_MAX_LEN || len >= outlen)
		return -1;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return -1;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || (c == '-' && label > 0)) {
			if (++label > 63)
				return -1;
		} else
			return -1;
		out[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	if (label == 0 || s[len - 1] == '-')
		return -1;
	out[len] = '\0';
	return 0;
}

/* Is the (valid, lower-case) name an IP address in some spelling? A last
 * label of digits only is what RFC 1123 §2.1 keeps names from having, and
 * inet_aton takes the historical forms ("0x7f.1", "017700000001"). */
static int
looks_like_address(const char *name)
{
	const char	*last = strrchr(name, '.');
	struct in_addr	 a;

	last = last != NULL ? last + 1 : name;
	return strspn(last, "0123456789") == strlen(last) ||
	    inet_aton(name, &a) != 0;
}

/* The normal form of pattern s[0..len) into out (PATTERN_SIZE bytes), or
 * -1 with *why. */
static int
pattern_normalize(const char *s, size_t len, char *out, const char **why)
{
	size_t	skip = 0;

	if (len > 0 && s[len - 1] == '.')	/* "api.x.com." is api.x.com */
		len--;
	if (len >= 2 && s[0] == '*' && s[1] == '.')
		skip = 2;
	if (len == 0 || (skip > 0 && len == 2)) {
		*why = "an empty host name";
		return -1;
	}
	if (len > EGRESS_HOST_MAX_LEN) {
		*why = "longer than 253 bytes";
		return -1;
	}
	memcpy(out, s, skip);
	if (egress_hosts_name(s + skip, len - skip, out + skip,
	    PATTERN_SIZE - skip) == -1) {
		*why = memchr(s + skip, '*', len - skip) != NULL ?
		    "'*' is only allowed as a whole first label (\"*.example.com\")" :
		    "not a DNS host name (letters, digits, '-' and '.', labels "
		    "of 1 to 63 bytes not starting or ending with '-')";
		return -1;
	}
	if (looks_like_address(out + skip)) {
		*why = "an IP address, not a host name (addresses are the "
		    "operator's egress_allow)";
		return -1;
	}
	return 0;
}

struct egress_hosts *
egress_hosts_new(void)
{
	return calloc(1, sizeof(struct egress_hosts));
}

void
egress_hosts_free(struct egress_hosts *l)
{
	free(l);
}

int
egress_hosts_add(struct egress_hosts *l, const char *s, size_t len,
    const char **why)
{
	char	p[PATTERN_SIZE];
	size_t	i;

	if (pattern_normalize(s, len, p, why) == -1)
		return -1;
	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], p) == 0)
			return 0;
	if (l->n == EGRESS_HOSTS_MAX) {
		*why = "more than 100 hosts";
		return -1;
	}
	memcpy(l->v[l->n++], p, strlen(p) + 1);
	return 0;
}

void
egress_hosts_format(const struct egress_hosts *l, struct buf *b)
{
	size_t	i;

	for (i = 0; i < l->n; i++) {
		buf_puts(b, l->v[i]);
		buf_append(b, "\n", 1);
	}
}

int
egress_hosts_parse(const char *text, size_t len, struct egress_hosts **out,
    char *err, size_t errlen)
{
	struct egress_hosts	*l;
	const char		*pos = text, *end = text + len, *nl, *why;
	unsigned		 line = 0;
	size_t			 n;

	*out = NULL;
	if ((l = egress_hosts_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	while (pos < end) {
		line++;
		if ((nl = memchr(pos, '\n', (size_t)(end - pos))) == NULL) {
			snprintf(err, errlen, "line %u: no end of line", line);
			goto bad;
		}
		/* The stored form is normal: a line it would not write (a
		 * duplicate included) is damage, not a pattern to
		 * normalise. */
		n = l->n;
		if (egress_hosts_add(l, pos, (size_t)(nl - pos), &why) == -1 ||
		    l->n == n || strlen(l->v[n]) != (size_t)(nl - pos) ||
		    memcmp(l->v[n], pos, (size_t)(nl - pos)) != 0) {
			snprintf(err, errlen, "line %u: not a pattern in "
			    "normal form", line);
			goto bad;
		}
		pos = nl + 1;
	}
	*out = l;
	return 0;
bad:
	egress_hosts_free(l);
	return -1;
}

size_t
egress_hosts_count(const struct egress_hosts *l)
{
	return l->n;
}

const char *
egress_hosts_entry(const struct egress_hosts *l, size_t i)
{
	return i < l->n ? l->v[i] : NULL;
}

/* Does the normal name host match pattern p? "*.x.com" matches a name
 * ending in ".x.com" (so not "x.com", nor "evilx.com"). */
static int
pattern_matches(const char *p, const char *host, size_t hlen)
{
	size_t	plen;

	if (p[0] != '*')
		return strcmp(p, host) == 0;
	plen = strlen(p + 1);	/* ".x.com" */
	return hlen > plen && memcmp(host + hlen - plen, p + 1, plen) == 0;
}

int
egress_hosts_allowed(const struct egress_hosts *list, const char *host,
    const char **why)
{
	char	name[PATTERN_SIZE];
	size_t	len, i;

	if (list == NULL)
		return 1;
	len = strlen(host);
	if (len > 0 && host[len - 1] == '.')
		len--;
	if (egress_hosts_name(host, len, name, sizeof(name)) == -1 ||
	    looks_like_address(name)) {
		if (why != NULL)
			*why = "the project's egress allowlist admits host "
			    "names only, and this host is not one";
		return 0;
	}
	for (i = 0; i < list->n; i++)
		if (pattern_matches(list->v[i], name, len))
			return 1;
	if (why != NULL)
		*why = "the project's egress allowlist does not list this host";
	return 0;
}
