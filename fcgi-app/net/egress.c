/*
 * egress.c - the egress policy of SPEC §12 as pure functions: the default
 * ranges (IANA's special-purpose registries, RFC 6890 and its updates),
 * the operator's allow and deny lists (a project's host allowlist is
 * egress_hosts.c). It decides; lib_fetch.c asks it about every address libcurl is about to
 * connect to. Never does I/O.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "egress.h"
#include "egress_hosts.h"

struct range {
	unsigned char		net[16];
	unsigned		prefix;
	enum egress_range	range;
	const char		*text;
};

static const char *const range_names[] = {
	[EGRESS_PUBLIC] = "public",
	[EGRESS_LOOPBACK] = "loopback",
	[EGRESS_UNSPECIFIED] = "unspecified",
	[EGRESS_PRIVATE] = "private",
	[EGRESS_LINK_LOCAL] = "link-local",
	[EGRESS_CGNAT] = "shared address space (CGNAT)",
	[EGRESS_MULTICAST] = "multicast",
	[EGRESS_BROADCAST] = "broadcast",
	[EGRESS_RESERVED] = "reserved",
	[EGRESS_DOCUMENTATION] = "documentation",
	[EGRESS_BENCHMARK] = "benchmarking",
};

/* IPv4, most specific first where they nest (broadcast inside 240/4). */
static const struct range v4_ranges[] = {
	{ { 255, 255, 255, 255 }, 32, EGRESS_BROADCAST, "255.255.255.255/32" },
	{ { 0 }, 8, EGRESS_UNSPECIFIED, "0.0.0.0/8" },
	{ { 10 }, 8, EGRESS_PRIVATE, "10.0.0.0/8" },
	{ { 100, 64 }, 10, EGRESS_CGNAT, "100.64.0.0/10" },
	{ { 127 }, 8, EGRESS_LOOPBACK, "127.0.0.0/8" },
	{ { 169, 254 }, 16, EGRESS_LINK_LOCAL, "169.254.0.0/16" },
	{ { 172, 16 }, 12, EGRESS_PRIVATE, "172.16.0.0/12" },
	{ { 192, 0, 0 }, 24, EGRESS_RESERVED, "192.0.0.0/24" },
	{ { 192, 0, 2 }, 24, EGRESS_DOCUMENTATION, "192.0.2.0/24" },
	{ { 192, 88, 99 }, 24, EGRESS_RESERVED, "192.88.99.0/24" },
	{ { 192, 168 }, 16, EGRESS_PRIVATE, "192.168.0.0/16" },
	{ { 198, 18 }, 15, EGRESS_BENCHMARK, "198.18.0.0/15" },
	{ { 198, 51, 100 }, 24, EGRESS_DOCUMENTATION, "198.51.100.0/24" },
	{ { 203, 0, 113 }, 24, EGRESS_DOCUMENTATION, "203.0.113.0/24" },
	{ { 224 }, 4, EGRESS_MULTICAST, "224.0.0.0/4" },
	{ { 240 }, 4, EGRESS_RESERVED, "240.0.0.0/4" },
};

/* IPv6 ranges that are not an embedding of IPv4 (those are below). */
static const struct range v6_ranges[] = {
	{ { 0 }, 128, EGRESS_UNSPECIFIED, "::/128" },
	{ { [15] = 1 }, 128, EGRESS_LOOPBACK, "::1/128" },
	{ { 0x01, 0x00 }, 64, EGRESS_RESERVED, "100::/64" },
	{ { 0x20, 0x01, 0x00, 0x02, 0x00, 0x00 }, 48, EGRESS_BENCHMARK,
	    "2001:2::/48" },
	{ { 0x20, 0x01, 0x0d, 0xb8 }, 32, EGRESS_DOCUMENTATION,
	    "2001:db8::/32" },
	{ { 0x3f, 0xff }, 20, EGRESS_DOCUMENTATION, "3fff::/20" },
	{ { 0xfc }, 7, EGRESS_PRIVATE, "fc00::/7" },
	{ { 0xfe, 0x80 }, 10, EGRESS_LINK_LOCAL, "fe80::/10" },
	{ { 0xfe, 0xc0 }, 10, EGRESS_PRIVATE, "fec0::/10" },
	{ { 0xff }, 8, EGRESS_MULTICAST, "ff00::/8" },
};

static int
in_prefix(const unsigned char *a, const unsigned char *net, unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;
	unsigned char mask;

	if (memcmp(a, net, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - rest));
	return (a[full] & mask) == (net[full] & mask);
}

static void
say(char *rule, size_t rulelen, enum egress_range r, const char *text,
    const char *via)
{
	if (rule == NULL || rulelen == 0)
		return;
	if (via != NULL)
		snprintf(rule, rulelen, "%s %s embedded in %s", range_names[r],
		    text, via);
	else
		snprintf(rule, rulelen, "%s %s", range_names[r], text);
}

static enum egress_range
classify4(const unsigned char *a, char *rule, size_t rulelen, const char *via)
{
	size_t i;

	for (i = 0; i < sizeof(v4_ranges) / sizeof(v4_ranges[0]); i++)
		if (in_prefix(a, v4_ranges[i].net, v4_ranges[i].prefix)) {
			say(rule, rulelen, v4_ranges[i].range, v4_ranges[i].text,
			    via);
			return v4_ranges[i].range;
		}
	return EGRESS_PUBLIC;
}

/* IPv6 forms carrying an IPv4 address (SPEC §12): forbidden when the
 * IPv4 address is. Teredo (2001::/32) carries two: the server's, and the
 * client's with its bits inverted. */
static enum egress_range
classify_embedded(const unsigned char *a, char *rule, size_t rulelen,
    int *found)
{
	static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const unsigned char nat64[12] = { 0x00, 0x64, 0xff, 0x9b };
	static const unsigned char nat64_local[6] = { 0x00, 0x64, 0xff, 0x9b,
	    0x00, 0x01 };
	unsigned char client[4];
	enum egress_range r;
	int i;

	*found = 1;
	if (memcmp(a, mapped, 12) == 0)
		return classify4(a + 12, rule, rulelen, "::ffff:0:0/96");
	if (memcmp(a, nat64, 12) == 0)
		return classify4(a + 12, rule, rulelen, "64:ff9b::/96");
	if (memcmp(a, nat64_local, 6) == 0)
		return classify4(a + 12, rule, rulelen, "64:ff9b:1::/48");
	if (a[0] == 0x20 && a[1] == 0x02)
		return classify4(a + 2, rule, rulelen, "2002::/16");
	if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0 && a[3] == 0) {
		if ((r = classify4(a + 4, rule, rulelen, "2001::/32 (Teredo "
		    "server)")) != EGRESS_PUBLIC)
			return r;
		for (i = 0; i < 4; i++)
			client[i] = (unsigned char)~a[12 + i];
		return classify4(client, rule, rulelen, "2001::/32 (Teredo "
		    "client)");
	}
	*found = 0;
	return EGRESS_PUBLIC;
}

static enum egress_range
classify6(const unsigned char *a, char *rule, size_t rulelen)
{
	static const unsigned char zero[12];
	enum egress_range r;
	size_t i;
	int found;

	for (i = 0; i < sizeof(v6_ranges) / sizeof(v6_ranges[0]); i++)
		if (in_prefix(a, v6_ranges[i].net, v6_ranges[i].prefix)) {
			say(rule, rulelen, v6_ranges[i].range, v6_ranges[i].text,
			    NULL);
			return v6_ranges[i].range;
		}
	r = classify_embedded(a, rule, rulelen, &found);
	if (found)
		return r;
	/* IPv4-compatible addresses (::/96, deprecated) and the rest of the
	 * IETF protocol block 2001::/23 and everything outside global
	 * unicast 2000::/3 reach nothing a function should. */
	if (memcmp(a, zero, 12) == 0) {
		say(rule, rulelen, EGRESS_RESERVED, "::/96", NULL);
		return EGRESS_RESERVED;
	}
	if (a[0] == 0x20 && a[1] == 0x01 && a[2] < 0x02) {
		say(rule, rulelen, EGRESS_RESERVED, "2001::/23", NULL);
		return EGRESS_RESERVED;
	}
	if ((a[0] & 0xe0) != 0x20) {
		say(rule, rulelen, EGRESS_RESERVED, "outside 2000::/3", NULL);
		return EGRESS_RESERVED;
	}
	return EGRESS_PUBLIC;
}

enum egress_range
egress_classify(const struct egress_addr *addr, char *rule, size_t rulelen)
{
	if (rule != NULL && rulelen > 0)
		rule[0] = '\0';
	if (addr->len == 4)
		return classify4(addr->a, rule, rulelen, NULL);
	if (addr->len == 16)
		return classify6(addr->a, rule, rulelen);
	say(rule, rulelen, EGRESS_RESERVED, "(unknown family)", NULL);
	return EGRESS_RESERVED;
}

/* A decimal number of at most max, digits only. */
static int
parse_num(const char *s, unsigned long max, unsigned *out)
{
	unsigned long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max)
			return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static int
parse_port(const char *s, unsigned *port)
{
	return parse_num(s, 65535, port) == -1 || *port == 0 ? -1 : 0;
}

static int
parse_entry(const char *s, size_t len, struct egress_entry *e)
{
	char buf[sizeof(e->text)], *addr, *port = NULL, *slash, *close, *c;
	struct in6_addr a6;
	struct in_addr a4;
	unsigned colons = 0, max;

	memset(e, 0, sizeof(*e));
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memcpy(e->text, buf, len + 1);
	addr = buf;
	for (c = buf; *c != '\0'; c++)
		colons += *c == ':';
	if (buf[0] == '[') {
		if ((close = strchr(buf, ']')) == NULL)
			return -1;
		*close = '\0';
		addr = buf + 1;
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return -1;
	} else if (colons == 1) {
		port = strchr(buf, ':');
		*port++ = '\0';
	}
	if (port != NULL && parse_port(port, &e->port) == -1)
		return -1;
	if ((slash = strchr(addr, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, addr, &a4) == 1) {
		memcpy(e->net.a, &a4, 4);
		e->net.len = 4;
	} else if (inet_pton(AF_INET6, addr, &a6) == 1) {
		memcpy(e->net.a, &a6, 16);
		e->net.len = 16;
	} else if (slash == NULL && addr == buf && colons <= 1) {
		e->is_host = 1;
		return egress_hosts_name(addr, strlen(addr), e->host,
		    sizeof(e->host));
	} else
		return -1;
	max = e->net.len * 8;
	e->prefix = max;
	if (slash != NULL && parse_num(slash, max, &e->prefix) == -1)
		return -1;
	return 0;
}

int
egress_list_parse(const char *text, struct egress_list *out, char *err,
    size_t errlen)
{
	const char *p = text, *end, *b, *e;
	struct egress_entry *v;

	out->v = NULL;
	out->n = 0;
	if (errlen > 0)
		err[0] = '\0';
	while (p != NULL && *p != '\0') {
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		for (b = p; b < end && (*b == ' ' || *b == '\t'); b++)
			;
		for (e = end; e > b && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		if (e > b) {
			if ((v = realloc(out->v, (out->n + 1) * sizeof(*v))) ==
			    NULL)
				goto fail;
			out->v = v;
			if (parse_entry(b, (size_t)(e - b), &v[out->n]) == -1) {
				snprintf(err, errlen, "'%.*s' is not an address, "
				    "a CIDR range or a host name, with an "
				    "optional :port", (int)(e - b > 200 ? 200 :
				    e - b), b);
				goto fail;
			}
			out->n++;
		}
		p = *end == ',' ? end + 1 : end;
	}
	return 0;
fail:
	if (err[0] == '\0')
		snprintf(err, errlen, "out of memory");
	egress_list_free(out);
	return -1;
}

void
egress_list_free(struct egress_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int
entry_matches(const struct egress_entry *e, const char *host,
    const struct egress_addr *addr, unsigned port)
{
	static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };
	const unsigned char *a = addr->a;
	unsigned len = addr->len;

	if (e->port != 0 && e->port != port)
		return 0;
	if (e->is_host)
		return host != NULL && strcasecmp(e->host, host) == 0;
	/* An IPv4 entry covers the same address written as IPv6. */
	if (e->net.len == 4 && len == 16 && memcmp(a, mapped, 12) == 0) {
		a += 12;
		len = 4;
	}
	return len == e->net.len && in_prefix(a, e->net.a, e->prefix);
}

static const struct egress_entry *
list_match(const struct egress_list *l, const char *host,
    const struct egress_addr *addr, unsigned port)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (entry_matches(&l->v[i], host, addr, port))
			return &l->v[i];
	return NULL;
}

int
egress_check(const struct egress_policy *p, const char *host,
    const struct egress_addr *addr, unsigned port, char *rule,
    size_t rulelen)
{
	const struct egress_entry *e;
	char range[160];

	if ((e = list_match(&p->deny, host, addr, port)) != NULL) {
		snprintf(rule, rulelen, "egress_deny entry '%s'", e->text);
		return 0;
	}
	if (list_match(&p->allow, host, addr, port) != NULL)
		return 1;
	if (egress_classify(addr, range, sizeof(range)) != EGRESS_PUBLIC) {
		snprintf(rule, rulelen, "default egress policy: %s", range);
		return 0;
	}
	return 1;
}

int
egress_from_sockaddr(const struct sockaddr *sa, struct egress_addr *addr,
    unsigned *port)
{
	const struct sockaddr_in *s4;
	const struct sockaddr_in6 *s6;

	memset(addr, 0, sizeof(*addr));
	if (sa->sa_family == AF_INET) {
		s4 = (const struct sockaddr_in *)(const void *)sa;
		memcpy(addr->a, &s4->sin_addr, 4);
		addr->len = 4;
		*port = ntohs(s4->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		s6 = (const struct sockaddr_in6 *)(const void *)sa;
		memcpy(addr->a, &s6->sin6_addr, 16);
		addr->len = 16;
		*port = ntohs(s6->sin6_port);
		return 0;
	}
	return -1;
}
