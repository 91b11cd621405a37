/*
 * egress_hosts.h - a project's host allowlist (SPEC §7, §12: PUT
 * /projects/{project}/egress {"allow": ["api.paystack.co", "*.stripe.com"]}):
 * DNS host names, validated and normalised once, and the match of a URL's
 * host against them. It only narrows: the address check of egress.h runs
 * on every connection whatever this list says. Pure: no I/O, no DNS.
 *
 * A pattern is a DNS name (letters, digits, '-', dots; labels of 1..63
 * bytes not starting or ending with '-'; at most 253 bytes, one trailing
 * dot ignored), stored in lower case; or "*." and such a name, which
 * matches every name under it (any depth) and not the name itself. An IP
 * address in any spelling inet_aton(3) accepts ("127.0.0.1", "0x7f.1",
 * "2130706433") or a name whose last label is all digits is refused: a
 * project lists names, and an IP literal never matches one.
 */
#ifndef FNRUN_EGRESS_HOSTS_H
#define FNRUN_EGRESS_HOSTS_H

#include <stddef.h>

#include "buf.h"

#define EGRESS_HOSTS_MAX	100	/* patterns in one list */
#define EGRESS_HOST_MAX_LEN	253	/* bytes of a name (RFC 1035 §2.3.4) */

struct egress_hosts;

/* A DNS name s[0..len) (no wildcard, no trailing dot) lower-cased into
 * out, which must hold len + 1 bytes. Returns 0, or -1 when it is not
 * one. egress.c reads the host entries of egress_allow with it. */
int	egress_hosts_name(const char *s, size_t len, char *out, size_t outlen);

/* A new empty list (which allows nothing), or NULL when out of memory.
 * Free with egress_hosts_free. */
struct egress_hosts	*egress_hosts_new(void);
void	egress_hosts_free(struct egress_hosts *l);

/* Validates the pattern s[0..len) and appends its normal form; a pattern
 * already there is not added twice. Returns 0, or -1 with *why a static
 * sentence saying what is wrong (the list is unchanged): not a pattern,
 * or the list already holds EGRESS_HOSTS_MAX (or memory ran out). */
int	egress_hosts_add(struct egress_hosts *l, const char *s, size_t len,
	    const char **why);

/* The list's stored form (store_egress.c): each pattern followed by
 * '\n'. egress_hosts_parse reads it back, strictly: text[0..len) is
 * lines of valid patterns, each ending in '\n' (an empty text is an empty
 * list). Returns 0 with *out the caller's, or -1 with err naming the line
 * and why. */
void	egress_hosts_format(const struct egress_hosts *l, struct buf *b);
int	egress_hosts_parse(const char *text, size_t len,
	    struct egress_hosts **out, char *err, size_t errlen);

/* The patterns in the order added; entry i is borrowed from l. */
size_t	 egress_hosts_count(const struct egress_hosts *l);
const char	*egress_hosts_entry(const struct egress_hosts *l, size_t i);

/* Whether an outbound request to host (a URL's host: any case, one
 * trailing dot ignored) may go ahead as far as this list is concerned.
 * A NULL list (the project set none) allows everything; an empty one
 * nothing. Returns 1, or 0 with *why (if why is not NULL) a static
 * sentence naming the rule that refused. */
int	egress_hosts_allowed(const struct egress_hosts *list,
	    const char *host, const char **why);

#endif
