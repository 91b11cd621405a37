/*
 * cache.h - the bytecode cache (SPEC §9): memcached keys derived from the
 * source's sha256 and the engine build, values sealed with HMAC-SHA256.
 * memcached is treated as hostile and optional: every failure is a miss,
 * and nothing unverified is ever handed to Duktape.
 */
#ifndef FNRUN_CACHE_H
#define FNRUN_CACHE_H

#include <stddef.h>

#define CACHE_KEY_MAX	160
#define CACHE_HOST_MAX	256	/* a server's host name or address, NUL included */
#define CACHE_SERVERS_MAX	64	/* servers in one list */

struct cache_stats {
	unsigned long	hits;
	unsigned long	misses;		/* absent, or memcached unreachable */
	unsigned long	rejects;	/* present but failed the frame or MAC check */
	unsigned long	errors;		/* memcached answered with an error */
	unsigned long	sets;
};

struct cache;

/* A client for servers, a comma-separated list of "host:port" (an IPv6
 * address in brackets, "[::1]:11211"), kept for the worker's life. Keys are
 * spread over the servers by consistent hashing (ketama), the same in every
 * worker of every host (SPEC §14). Short connect/poll timeouts; a failed
 * server is taken out of the ring and tried again after a pause, not on
 * every request. hmac_key is copied. Returns NULL only when out of memory
 * or servers cannot be parsed (an empty entry, no port, a port out of
 * 1..65535, more than CACHE_SERVERS_MAX servers). Connects to nothing. */
struct cache	*cache_open(const char *servers, const char *hmac_key);

/* Writes "host:port" of the server that holds the bytecode of sha256hex
 * now (after any failed server was taken out) into out. Returns 0, or -1
 * when no server is left. Connects to nothing. */
int		 cache_server_of(struct cache *c, const char *sha256hex,
		    char *out, size_t outlen);
void		 cache_close(struct cache *c);

/* The engine build this binary's bytecode belongs to: Duktape's version,
 * a hash of the duk_config.h it was compiled with and the form sources
 * are compiled to (SANDBOX_CODE_FORM). */
const char	*cache_engine_build(void);

/* Writes the memcached key of a source into key (CACHE_KEY_MAX bytes). */
void	cache_key(const char *sha256hex, char *key);

/* Looks up verified bytecode. Returns 0 and a malloc'd copy the caller
 * frees, or 1 on a miss of any kind (counted). */
int	cache_get_bytecode(struct cache *c, const char *sha256hex, void **bc,
	    size_t *len);

/* Stores bytecode for sha256hex; failures are counted and ignored. */
void	cache_put_bytecode(struct cache *c, const char *sha256hex,
	    const void *bc, size_t len);

/* The same for the compiler's bytecode (sandbox/lower), keyed by the
 * engine build and the sha256 of typescript.js under a prefix of its own
 * ("fnrun:tsc:"), in the same signed frame. */
int	cache_get_compiler(struct cache *c, const char *sha256hex, void **bc,
	    size_t *len);
void	cache_put_compiler(struct cache *c, const char *sha256hex,
	    const void *bc, size_t len);

const struct cache_stats	*cache_stats(const struct cache *c);

/* Asks memcached for its version. Returns 0 when it answered. */
int	cache_ping(struct cache *c);

/* The frame: "FNBC", format version, 3 zero bytes, payload length (u32,
 * big-endian), payload, HMAC-SHA256(hmac_key, key || header || payload).
 * cache_frame_seal returns a malloc'd frame; cache_frame_open returns 0 and
 * points *payload into frame when everything checks, else -1. */
void	*cache_frame_seal(const char *key, const char *hmac_key,
	    const void *payload, size_t len, size_t *frame_len);
int	 cache_frame_open(const char *key, const char *hmac_key,
	    const void *frame, size_t frame_len, const void **payload,
	    size_t *len);

#endif
