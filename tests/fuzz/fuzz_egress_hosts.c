/*
 * fuzz_egress_hosts.c - a project's host allowlist
 * (fcgi-app/net/egress_hosts.c): its patterns come from a PUT body, its
 * stored form from a file anyone with write access to the store could
 * have written, and the hosts it is asked about from a function's URLs.
 * The input up to its first NUL is a list's stored form (parsed, and each
 * line added as a pattern the way a PUT adds it); what follows is a host.
 * Invariants: a parsed list formats back to exactly its text; every
 * accepted pattern is in normal form (lower case, no trailing dot, at
 * most 253 bytes) and allows the host it names (a wildcard, a name under
 * it) but never the name it is a wildcard of; an IP address is never
 * allowed; no list (NULL) allows everything; an empty list nothing.
 * Corpus: tests/fuzz/corpus/egress_hosts/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "egress_hosts.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

/* Every pattern of l allows its own name (a wildcard: a name under it,
 * not the name itself). */
static void
check_entries(const struct egress_hosts *l)
{
	char name[EGRESS_HOST_MAX_LEN + 8];
	const char *e;
	size_t i, len, j;

	for (i = 0; i < egress_hosts_count(l); i++) {
		e = egress_hosts_entry(l, i);
		len = strlen(e);
		CHECK(len > 0 && len <= EGRESS_HOST_MAX_LEN && e[len - 1] != '.');
		for (j = 0; j < len; j++)
			CHECK(!(e[j] >= 'A' && e[j] <= 'Z'));
		if (e[0] == '*') {
			CHECK(!egress_hosts_allowed(l, e + 2, NULL) ||
			    /* another entry may list it */
			    egress_hosts_count(l) > 1);
			if (len + 1 <= EGRESS_HOST_MAX_LEN) {
				name[0] = 'a';
				memcpy(name + 1, e + 1, len);	/* "a.x.com" */
				CHECK(egress_hosts_allowed(l, name, NULL));
			}
		} else {
			CHECK(egress_hosts_allowed(l, e, NULL));
			memcpy(name, e, len);
			memcpy(name + len, ".", 2);	/* trailing dot */
			CHECK(egress_hosts_allowed(l, name, NULL));
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *nul, *line, *why;
	struct egress_hosts *l = NULL, *added;
	struct buf b = { 0 };
	char err[128], *host;
	size_t tlen, hlen, n;

	nul = memchr(text, '\0', size);
	tlen = nul != NULL ? (size_t)(nul - text) : size;
	hlen = nul != NULL ? size - tlen - 1 : 0;
	if ((host = malloc(hlen + 1)) == NULL)
		abort();
	if (hlen > 0)
		memcpy(host, nul + 1, hlen);
	host[hlen] = '\0';

	/* The stored form: a parsed list is exactly what it formats to. */
	if (egress_hosts_parse(text, tlen, &l, err, sizeof(err)) == 0) {
		egress_hosts_format(l, &b);
		CHECK(b.len == tlen && (tlen == 0 ||
		    memcmp(b.data, text, tlen) == 0));
		check_entries(l);
		if (egress_hosts_allowed(l, host, NULL))
			CHECK(egress_hosts_count(l) > 0);
		egress_hosts_free(l);
	} else
		CHECK(l == NULL && err[0] != '\0');

	/* Each line as a PUT adds it. */
	if ((added = egress_hosts_new()) == NULL)
		abort();
	for (line = text; line < text + tlen; line += n + 1) {
		const char *nl = memchr(line, '\n', (size_t)(text + tlen - line));

		n = nl != NULL ? (size_t)(nl - line) : (size_t)(text + tlen - line);
		why = NULL;
		if (egress_hosts_add(added, line, n, &why) == -1)
			CHECK(why != NULL && why[0] != '\0');
	}
	check_entries(added);
	/* An IP address is never a host name on the list. */
	CHECK(!egress_hosts_allowed(added, "127.0.0.1", NULL));
	CHECK(!egress_hosts_allowed(added, "0x7f.1", NULL));
	CHECK(!egress_hosts_allowed(added, "[::1]", NULL));
	(void)egress_hosts_allowed(added, host, &why);
	egress_hosts_free(added);

	CHECK(egress_hosts_allowed(NULL, host, NULL));
	if ((added = egress_hosts_new()) == NULL)
		abort();
	CHECK(!egress_hosts_allowed(added, host, NULL));
	egress_hosts_free(added);
	buf_free(&b);
	free(host);
	return 0;
}
