/*
 * egress.h - which addresses and hosts a function's outbound request may
 * reach (SPEC §12): the classifier of addresses into the default-denied
 * ranges, the operator's egress_allow / egress_deny lists, the check made
 * on every address actually connected to (a project's host allowlist,
 * which only narrows further, is egress_hosts.h). Pure: no I/O, no DNS;
 * nothing here connects anywhere.
 */
#ifndef FNRUN_EGRESS_H
#define FNRUN_EGRESS_H

#include <stddef.h>
#include <sys/socket.h>

/* An IPv4 (len 4) or IPv6 (len 16) address, network byte order. */
struct egress_addr {
	unsigned char	a[16];
	unsigned	len;
};

enum egress_range {
	EGRESS_PUBLIC = 0,
	EGRESS_LOOPBACK,
	EGRESS_UNSPECIFIED,
	EGRESS_PRIVATE,
	EGRESS_LINK_LOCAL,
	EGRESS_CGNAT,
	EGRESS_MULTICAST,
	EGRESS_BROADCAST,
	EGRESS_RESERVED,
	EGRESS_DOCUMENTATION,
	EGRESS_BENCHMARK
};

/* The range of addr, and in rule (if not NULL) its name and prefix, e.g.
 * "loopback 127.0.0.0/8" or, for an IPv4 address embedded in IPv6,
 * "loopback 127.0.0.0/8 embedded in ::ffff:0:0/96". */
enum egress_range egress_classify(const struct egress_addr *addr, char *rule,
	    size_t rulelen);

/* One entry of egress_allow / egress_deny: an address or CIDR range, or a
 * host name; each with a port (0: any). */
struct egress_entry {
	int			is_host;
	struct egress_addr	net;
	unsigned		prefix;
	char			host[256];	/* lower case */
	unsigned		port;
	char			text[300];	/* as written, for messages */
};

struct egress_list {
	struct egress_entry	*v;
	size_t			 n;
};

/* Parses a comma-separated list ("127.0.0.1:9000, 10.1.0.0/16,
 * api.internal, [::1]:8080, fd00::/8"). Returns 0, or -1 with err naming
 * the bad entry; out is then empty. Free with egress_list_free. */
int	egress_list_parse(const char *text, struct egress_list *out, char *err,
	    size_t errlen);
void	egress_list_free(struct egress_list *l);

struct egress_policy {
	struct egress_list	allow;
	struct egress_list	deny;
};

/* Whether a connection to addr:port, made for a URL whose host is host,
 * may go ahead: an egress_deny entry refuses, then an egress_allow entry
 * admits, then the default ranges refuse. Returns 1 when allowed, else 0
 * with rule saying which rule refused. */
int	egress_check(const struct egress_policy *p, const char *host,
	    const struct egress_addr *addr, unsigned port, char *rule,
	    size_t rulelen);

/* addr and port of an AF_INET or AF_INET6 sockaddr. Returns 0, or -1 for
 * any other family. */
int	egress_from_sockaddr(const struct sockaddr *sa, struct egress_addr *addr,
	    unsigned *port);

#endif
