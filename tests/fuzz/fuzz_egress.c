/*
 * fuzz_egress.c - the egress policy (fcgi-app/net/egress.c), the parser of
 * egress_allow / egress_deny and the classifier every connected address
 * goes through. The input's first 16 bytes are an address (classified as
 * IPv6, and their first 4 as IPv4); the rest is a policy list, parsed as
 * both the allow and the deny list. Invariants: an
 * IPv4-mapped address classifies as its IPv4 address; a parsed list's
 * entries are well-formed; a denied address is never allowed by the same
 * list as allow list once that list is also the deny list. Project host
 * allowlists have their own harness (fuzz_egress_hosts.c). Corpus:
 * tests/fuzz/corpus/egress/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "egress.h"
#include "egress_hosts.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct egress_addr a6, a4, mapped;
	struct egress_policy p;
	char rule[256], rule2[256], err[256], *text;
	char name[256];
	unsigned port;
	size_t i;
	int ok;

	if (size < 18)
		return 0;
	memset(&a6, 0, sizeof(a6));
	memcpy(a6.a, data, 16);
	a6.len = 16;
	memset(&a4, 0, sizeof(a4));
	memcpy(a4.a, data, 4);
	a4.len = 4;
	memset(&mapped, 0, sizeof(mapped));
	mapped.a[10] = mapped.a[11] = 0xff;
	memcpy(mapped.a + 12, data, 4);
	mapped.len = 16;
	(void)egress_classify(&a6, rule, sizeof(rule));
	CHECK(strlen(rule) < sizeof(rule));
	CHECK(egress_classify(&a4, NULL, 0) ==
	    egress_classify(&mapped, NULL, 0));
	port = (unsigned)data[16] << 8 | data[17];

	if ((text = malloc(size - 18 + 1)) == NULL)
		abort();
	memcpy(text, data + 18, size - 18);
	text[size - 18] = '\0';
	memset(&p, 0, sizeof(p));
	if (egress_list_parse(text, &p.allow, err, sizeof(err)) == 0) {
		for (i = 0; i < p.allow.n; i++) {
			const struct egress_entry *e = &p.allow.v[i];

			CHECK(e->port <= 65535);
			if (e->is_host)
				CHECK(egress_hosts_name(e->host,
				    strlen(e->host), name, sizeof(name)) == 0 &&
				    strcmp(name, e->host) == 0);
			else
				CHECK((e->net.len == 4 && e->prefix <= 32) ||
				    (e->net.len == 16 && e->prefix <= 128));
		}
		ok = egress_check(&p, "fuzz.example", &a6, port, rule,
		    sizeof(rule));
		/* The same list as deny list refuses whatever it admitted by
		 * name or address. */
		p.deny = p.allow;
		if (ok && p.allow.n > 0 &&
		    egress_check(&p, "fuzz.example", &a6, port, rule2,
		    sizeof(rule2)))
			CHECK(egress_classify(&a6, NULL, 0) == EGRESS_PUBLIC);
		egress_list_free(&p.allow);
	} else
		CHECK(p.allow.n == 0 && p.allow.v == NULL);
	free(text);
	return 0;
}
