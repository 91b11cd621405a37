/*
 * cache.c - memcached through libmemcached, one client per worker. The
 * frame check is the security boundary: Duktape's doc/bytecode.rst says
 * loading bad bytecode is memory-unsafe, so a value whose MAC does not
 * verify (constant time) is never returned.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmemcached/memcached.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "cache.h"
#include "num.h"
#include "engine_build.h"
#include "metrics.h"
#include "sandbox.h"

#define MAGIC		"FNBC"
#define FORMAT		1
#define HEADER_LEN	12
#define MAC_LEN		32
#define PAYLOAD_MAX	(16u << 20)

struct cache {
	memcached_st		*mc;
	char			*hmac_key;
	struct cache_stats	 stats;
};

/* Duktape's build, and the form sandbox.c compiles sources to: bytecode
 * of another form is never looked up. */
#define ENGINE_BUILD	FNRUN_ENGINE_BUILD "-" SANDBOX_CODE_FORM

const char *
cache_engine_build(void)
{
	return ENGINE_BUILD;
}

void
cache_key(const char *sha256hex, char *key)
{
	snprintf(key, CACHE_KEY_MAX, "fnrun:bc:%s:%s", ENGINE_BUILD,
	    sha256hex);
}

/* The compiler's key: a prefix of its own, so that no function whose
 * source happens to be typescript.js shares it. */
static void
compiler_key(const char *sha256hex, char *key)
{
	snprintf(key, CACHE_KEY_MAX, "fnrun:tsc:%s:%s", ENGINE_BUILD,
	    sha256hex);
}

static int
mac(const char *key, const char *hmac_key, const unsigned char *header,
    const void *payload, size_t len, unsigned char out[MAC_LEN])
{
	EVP_MAC *m = NULL;
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	size_t outl = 0;
	int rc = -1;

	if ((m = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (ctx = EVP_MAC_CTX_new(m)) == NULL)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(ctx, (const unsigned char *)hmac_key,
	    strlen(hmac_key), params) != 1 ||
	    EVP_MAC_update(ctx, (const unsigned char *)key, strlen(key)) != 1 ||
	    EVP_MAC_update(ctx, header, HEADER_LEN) != 1 ||
	    EVP_MAC_update(ctx, payload, len) != 1 ||
	    EVP_MAC_final(ctx, out, &outl, MAC_LEN) != 1 || outl != MAC_LEN)
		goto out;
	rc = 0;
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(m);
	return rc;
}

static void
header_encode(unsigned char *h, size_t len)
{
	memcpy(h, MAGIC, 4);
	h[4] = FORMAT;
	h[5] = h[6] = h[7] = 0;
	h[8] = (unsigned char)(len >> 24);
	h[9] = (unsigned char)(len >> 16);
	h[10] = (unsigned char)(len >> 8);
	h[11] = (unsigned char)len;
}

void *
cache_frame_seal(const char *key, const char *hmac_key, const void *payload,
    size_t len, size_t *frame_len)
{
	unsigned char *f;

	if (len > PAYLOAD_MAX ||
	    (f = malloc(HEADER_LEN + len + MAC_LEN)) == NULL)
		return NULL;
	header_encode(f, len);
	memcpy(f + HEADER_LEN, payload, len);
	if (mac(key, hmac_key, f, payload, len, f + HEADER_LEN + len) == -1) {
		free(f);
		return NULL;
	}
	*frame_len = HEADER_LEN + len + MAC_LEN;
	return f;
}

int
cache_frame_open(const char *key, const char *hmac_key, const void *frame,
    size_t frame_len, const void **payload, size_t *len)
{
	const unsigned char *f = frame;
	unsigned char want[MAC_LEN], h[HEADER_LEN];
	size_t n;

	if (frame_len < HEADER_LEN + MAC_LEN)
		return -1;
	n = (size_t)f[8] << 24 | (size_t)f[9] << 16 | (size_t)f[10] << 8 |
	    f[11];
	if (n != frame_len - HEADER_LEN - MAC_LEN || n > PAYLOAD_MAX)
		return -1;
	header_encode(h, n);
	/* The header must be exactly what we would have written. */
	if (memcmp(h, f, HEADER_LEN) != 0)
		return -1;
	if (mac(key, hmac_key, f, f + HEADER_LEN, n, want) == -1 ||
	    CRYPTO_memcmp(want, f + HEADER_LEN + n, MAC_LEN) != 0)
		return -1;
	*payload = f + HEADER_LEN;
	*len = n;
	return 0;
}

/*
 * Adds one "host:port" or "[v6]:port" of a memcached_servers list (len
 * bytes at s) to mc. Returns 0, or -1 when it does not parse.
 */
static int
add_server(memcached_st *mc, const char *s, size_t len)
{
	char host[CACHE_HOST_MAX];
	const char *colon, *h = s;
	size_t hlen;
	uint64_t port;

	colon = memrchr(s, ':', len);
	if (colon == NULL || colon == s ||
	    num_parse(colon + 1, len - (size_t)(colon + 1 - s), 1, 65535,
	    &port) == -1)
		return -1;
	hlen = (size_t)(colon - s);
	if (s[0] == '[') {
		/* An IPv6 address is written in brackets, as in a URL. */
		if (hlen < 3 || s[hlen - 1] != ']')
			return -1;
		h = s + 1;
		hlen -= 2;
	} else if (memchr(s, ':', hlen) != NULL)
		return -1;
	if (hlen >= sizeof(host))
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	return memcached_server_add(mc, host, (in_port_t)port) ==
	    MEMCACHED_SUCCESS ? 0 : -1;
}

struct cache *
cache_open(const char *servers, const char *hmac_key)
{
	struct cache *c;
	const char *p, *comma;
	size_t len, n = 0;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->hmac_key = strdup(hmac_key)) == NULL ||
	    (c->mc = memcached_create(NULL)) == NULL)
		goto fail;
	/*
	 * SPEC §14: consistent hashing (ketama, MD5 points and keys), so a
	 * server joining or leaving moves only its share of the keys, and
	 * every worker of every host maps a key to the same server. The
	 * hash is set first: libmemcached builds the ring when the
	 * distribution is set or a server added, and does not rebuild it
	 * when the hash changes, so the other order leaves a ring whose
	 * points disagree with the one rebuilt after a server is taken out
	 * (every key would move).
	 */
	if (memcached_behavior_set(c->mc, MEMCACHED_BEHAVIOR_HASH,
	    MEMCACHED_HASH_MD5) != MEMCACHED_SUCCESS ||
	    memcached_behavior_set(c->mc, MEMCACHED_BEHAVIOR_DISTRIBUTION,
	    MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA) != MEMCACHED_SUCCESS)
		goto fail;
	for (p = servers; ; p = comma + 1) {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (++n > CACHE_SERVERS_MAX || add_server(c->mc, p, len) == -1)
			goto fail;
		if (comma == NULL)
			break;
	}
	/* libmemcached's defaults wait seconds; an invocation cannot. */
	memcached_behavior_set(c->mc, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, 20);
	memcached_behavior_set(c->mc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, 20);
	memcached_behavior_set(c->mc, MEMCACHED_BEHAVIOR_SND_TIMEOUT, 20000);
	memcached_behavior_set(c->mc, MEMCACHED_BEHAVIOR_RCV_TIMEOUT, 20000);
	memcached_behavior_set(c->mc, MEMCACHED_BEHAVIOR_TCP_NODELAY, 1);
	/* After a failure, leave the server alone for 2 s. */
	memcached_behavior_set(c->mc, MEMCACHED_BEHAVIOR_SERVER_FAILURE_LIMIT, 1);
	memcached_behavior_set(c->mc, MEMCACHED_BEHAVIOR_RETRY_TIMEOUT, 2);
	/* A failed server is taken out of the ring (its keys go to the next
	 * server on it) and put back after the same pause; with a single
	 * server there is nowhere else to go. */
	if (n > 1) {
		memcached_behavior_set(c->mc,
		    MEMCACHED_BEHAVIOR_REMOVE_FAILED_SERVERS, 1);
		memcached_behavior_set(c->mc, MEMCACHED_BEHAVIOR_DEAD_TIMEOUT, 2);
	}
	return c;
fail:
	cache_close(c);
	return NULL;
}

int
cache_server_of(struct cache *c, const char *sha256hex, char *out,
    size_t outlen)
{
	char key[CACHE_KEY_MAX];
	const memcached_instance_st *s;
	memcached_return_t rc;

	cache_key(sha256hex, key);
	if ((s = memcached_server_by_key(c->mc, key, strlen(key), &rc)) ==
	    NULL)
		return -1;
	snprintf(out, outlen, "%s:%u", memcached_server_name(s),
	    (unsigned)memcached_server_port(s));
	return 0;
}

void
cache_close(struct cache *c)
{
	if (c == NULL)
		return;
	if (c->mc != NULL)
		memcached_free(c->mc);
	if (c->hmac_key != NULL) {
		OPENSSL_cleanse(c->hmac_key, strlen(c->hmac_key));
		free(c->hmac_key);
	}
	free(c);
}

/* Counts an event here and in the stack-wide metrics. */
static void
count(struct cache *c, enum metric m)
{
	switch (m) {
	case M_CACHE_HITS: c->stats.hits++; break;
	case M_CACHE_MISSES: c->stats.misses++; break;
	case M_CACHE_REJECTS: c->stats.rejects++; break;
	case M_CACHE_ERRORS: c->stats.errors++; break;
	case M_CACHE_SETS: c->stats.sets++; break;
	default: break;
	}
	metrics_add(m, 1);
}

/*
 * A server that fails is taken out of the ring once libmemcached has seen
 * enough of it: a connection the server dropped fails first (and is only
 * closed), then a connect fails (counted against the server), and the next
 * attempt ejects it without any I/O; its keys belong to the next server on
 * the ring from then on. So one lookup asks again twice whatever happens,
 * then only while its key changes server, REROUTE_TRIES times in all: the
 * death of a server costs its keys a lookup on their new server, not a
 * miss and a compile in every worker that meets it. The price is bounded:
 * at most one more failed connect (refused at once, or the 20 ms connect
 * timeout).
 */
#define REROUTE_TRIES	4
#define REROUTE_ALWAYS	2

static const memcached_instance_st *
server_for(struct cache *c, const char *key)
{
	memcached_return_t rc;

	return memcached_server_by_key(c->mc, key, strlen(key), &rc);
}

/* Whether rc says the server failed (rather than answered). */
static int
server_failed(memcached_return_t rc)
{
	return rc != MEMCACHED_SUCCESS && rc != MEMCACHED_NOTFOUND &&
	    rc != MEMCACHED_NOTSTORED && rc != MEMCACHED_E2BIG;
}

/* memcached_get, asked again of the key's new server after a failure.
 * Returns what memcached_get returns (the caller frees it). */
static char *
get_rerouted(struct cache *c, const char *key, size_t *vlen,
    uint32_t *flags, memcached_return_t *rc)
{
	const memcached_instance_st *before;
	char *val;
	int i;

	for (i = 0; ; i++) {
		before = server_for(c, key);
		val = memcached_get(c->mc, key, strlen(key), vlen, flags, rc);
		if (val != NULL || !server_failed(*rc) ||
		    i + 1 == REROUTE_TRIES)
			return val;
		count(c, M_CACHE_ERRORS);
		if (i >= REROUTE_ALWAYS && server_for(c, key) == before)
			return val;
	}
}

/* memcached_set, rerouted as get_rerouted is. */
static memcached_return_t
set_rerouted(struct cache *c, const char *key, const void *frame,
    size_t flen)
{
	const memcached_instance_st *before;
	memcached_return_t rc;
	int i;

	for (i = 0; ; i++) {
		before = server_for(c, key);
		rc = memcached_set(c->mc, key, strlen(key), frame, flen, 0, 0);
		if (!server_failed(rc) || i + 1 == REROUTE_TRIES ||
		    (i >= REROUTE_ALWAYS && server_for(c, key) == before))
			return rc;
		count(c, M_CACHE_ERRORS);
	}
}

/* The verified payload stored under key, as cache_get_bytecode. */
static int
get_sealed(struct cache *c, const char *key, void **bc, size_t *len)
{
	char *val;
	size_t vlen = 0;
	uint32_t flags = 0;
	memcached_return_t rc;
	const void *payload;
	size_t plen;

	val = get_rerouted(c, key, &vlen, &flags, &rc);
	if (val == NULL && rc == MEMCACHED_SUCCESS) {
		/* An empty value: present, and no frame. */
		count(c, M_CACHE_REJECTS);
		return 1;
	}
	if (val == NULL) {
		if (rc != MEMCACHED_NOTFOUND)
			count(c, M_CACHE_ERRORS);
		count(c, M_CACHE_MISSES);
		return 1;
	}
	if (cache_frame_open(key, c->hmac_key, val, vlen, &payload,
	    &plen) == -1) {
		count(c, M_CACHE_REJECTS);
		free(val);
		return 1;
	}
	if ((*bc = malloc(plen)) == NULL) {
		free(val);
		count(c, M_CACHE_MISSES);
		return 1;
	}
	memcpy(*bc, payload, plen);
	*len = plen;
	free(val);
	count(c, M_CACHE_HITS);
	return 0;
}

int
cache_get_bytecode(struct cache *c, const char *sha256hex, void **bc,
    size_t *len)
{
	char key[CACHE_KEY_MAX];

	cache_key(sha256hex, key);
	return get_sealed(c, key, bc, len);
}

int
cache_get_compiler(struct cache *c, const char *sha256hex, void **bc,
    size_t *len)
{
	char key[CACHE_KEY_MAX];

	compiler_key(sha256hex, key);
	return get_sealed(c, key, bc, len);
}

/* Seals bc and stores it under key, as cache_put_bytecode. */
static void
put_sealed(struct cache *c, const char *key, const void *bc, size_t len)
{
	void *frame;
	size_t flen;

	if ((frame = cache_frame_seal(key, c->hmac_key, bc, len,
	    &flen)) == NULL) {
		count(c, M_CACHE_ERRORS);
		return;
	}
	if (set_rerouted(c, key, frame, flen) == MEMCACHED_SUCCESS)
		count(c, M_CACHE_SETS);
	else
		count(c, M_CACHE_ERRORS);
	free(frame);
}

void
cache_put_bytecode(struct cache *c, const char *sha256hex, const void *bc,
    size_t len)
{
	char key[CACHE_KEY_MAX];

	cache_key(sha256hex, key);
	put_sealed(c, key, bc, len);
}

void
cache_put_compiler(struct cache *c, const char *sha256hex, const void *bc,
    size_t len)
{
	char key[CACHE_KEY_MAX];

	compiler_key(sha256hex, key);
	put_sealed(c, key, bc, len);
}

int
cache_ping(struct cache *c)
{
	return memcached_version(c->mc) == MEMCACHED_SUCCESS ? 0 : -1;
}

const struct cache_stats *
cache_stats(const struct cache *c)
{
	return &c->stats;
}
