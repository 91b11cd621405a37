/*
 * lib_crypto.c - loads crypto.js (the `crypto` global: getRandomValues,
 * randomUUID, and crypto.subtle's digest and HMAC keys, SPEC §11) into a
 * heap with its natives. Every cryptographic operation is OpenSSL's
 * libcrypto: RAND_bytes, EVP digests, EVP_MAC's HMAC, CRYPTO_memcmp;
 * nothing of it is written here. A key's bytes and hash live under hidden symbols of its
 * CryptoKey object, which no JavaScript (the function's or crypto.js)
 * can name: only these natives read them.
 *
 * Data arrives as buffer data (ArrayBuffer, typed array, DataView, plain
 * buffer); its pointer is read after the last allocation of a native and
 * used before the next, so nothing can move it in between.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "crypto_js.h"
#include "digest.h"
#include "lib.h"
#include "sandbox_internal.h"

#define HIDDEN_KEY_BYTES	DUK_HIDDEN_SYMBOL("cryptoKeyBytes")
#define HIDDEN_KEY_HASH		DUK_HIDDEN_SYMBOL("cryptoKeyHash")
#define HIDDEN_KEY_SLOTS	DUK_HIDDEN_SYMBOL("cryptoKeySlots")

/* Web Cryptography API, Crypto.getRandomValues: at most 65536 bytes. */
#define RANDOM_MAX_BYTES	65536

/* Data is hashed this much at a time, the call's deadline checked between
 * two pieces: one native call over a whole heap of data (SHA-512 of
 * 256 MiB takes seconds here) must not outlast it. */
#define CHUNK_BYTES		(256 * 1024)

static const struct {
	const char	*name;		/* the Web Cryptography API's */
	const char	*ossl;		/* OpenSSL's */
	const EVP_MD	*(*md)(void);
} hashes[] = {
	{ "SHA-1", "SHA1", EVP_sha1 },
	{ "SHA-256", "SHA256", EVP_sha256 },
	{ "SHA-384", "SHA384", EVP_sha384 },
	{ "SHA-512", "SHA512", EVP_sha512 },
};

/* The index in hashes of the digest named by the string at idx
 * (crypto.js passes only these canonical names); throws otherwise. */
static size_t
require_hash(duk_context *ctx, duk_idx_t idx)
{
	const char *name = duk_require_string(ctx, idx);
	size_t i;

	for (i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++)
		if (strcmp(hashes[i].name, name) == 0)
			return i;
	(void)duk_error(ctx, DUK_ERR_TYPE_ERROR, "unknown digest");
	return 0;
}

enum feed {
	FEED_OK,
	FEED_FAILED,	/* libcrypto said no */
	FEED_LATE	/* the deadline passed */
};

typedef int	(*update_fn)(void *c, const unsigned char *p, size_t n);

static int
digest_update(void *c, const unsigned char *p, size_t n)
{
	return EVP_DigestUpdate(c, p, n);
}

static int
mac_update(void *c, const unsigned char *p, size_t n)
{
	return EVP_MAC_update(c, p, n);
}

/* Feeds p[0..n) to update(c, ...) a chunk at a time. Allocates nothing in
 * the heap, so p stays valid throughout. */
static enum feed
feed(duk_context *ctx, update_fn update, void *c, const void *p, size_t n)
{
	struct sandbox *sb = sandbox_of(ctx);
	const unsigned char *at = p != NULL ? p : (const unsigned char *)"";
	size_t k;

	do {
		k = n < CHUNK_BYTES ? n : CHUNK_BYTES;
		if (update(c, at, k) != 1)
			return FEED_FAILED;
		at += k;
		n -= k;
		if (n > 0 && sandbox_exec_timeout_check(sb))
			return FEED_LATE;
	} while (n > 0);
	return FEED_OK;
}

/* Throws for what feed (or libcrypto around it) returned; what is past
 * the deadline is the call's timeout (sb->timed_out is set). */
static void
feed_check(duk_context *ctx, enum feed r, const char *what)
{
	if (r == FEED_LATE)
		(void)duk_error(ctx, DUK_ERR_RANGE_ERROR, "%s: the call's time "
		    "limit was reached", what);
	if (r != FEED_OK)
		(void)duk_error(ctx, DUK_ERR_ERROR, "%s failed", what);
}

/* out = the digest h of p[0..n), its length in *len. */
static enum feed
digest_of(duk_context *ctx, size_t h, const void *p, size_t n,
    unsigned char out[EVP_MAX_MD_SIZE], unsigned int *len)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	enum feed r = FEED_FAILED;

	if (c != NULL && EVP_DigestInit_ex(c, hashes[h].md(), NULL) == 1 &&
	    (r = feed(ctx, digest_update, c, p, n)) == FEED_OK &&
	    EVP_DigestFinal_ex(c, out, len) != 1)
		r = FEED_FAILED;
	EVP_MD_CTX_free(c);
	return r;
}

/* Pushes a new ArrayBuffer holding p[0..n). */
static void
push_array_buffer(duk_context *ctx, const void *p, size_t n)
{
	void *out = duk_push_fixed_buffer(ctx, n);

	if (n > 0)
		memcpy(out, p, n);
	duk_push_buffer_object(ctx, -1, 0, n, DUK_BUFOBJ_ARRAYBUFFER);
	duk_remove(ctx, -2);
}

/* size(x): the byte length of a BufferSource, or -1 when x is none. */
static duk_ret_t
native_size(duk_context *ctx)
{
	duk_size_t n = 0;

	if (!duk_is_buffer_data(ctx, 0))
		duk_push_int(ctx, -1);
	else {
		(void)duk_get_buffer_data(ctx, 0, &n);
		duk_push_number(ctx, (duk_double_t)n);
	}
	return 1;
}

/* random(view): fills the bytes of view (its type checked by crypto.js)
 * from the OS's generator; false, filling nothing, when they are more
 * than the standard allows. */
static duk_ret_t
native_random(duk_context *ctx)
{
	duk_size_t n;
	void *p = duk_require_buffer_data(ctx, 0, &n);

	if (n > RANDOM_MAX_BYTES) {
		duk_push_false(ctx);
		return 1;
	}
	if (n > 0 && RAND_bytes(p, (int)n) != 1)
		(void)duk_error(ctx, DUK_ERR_ERROR, "the random generator failed");
	duk_push_true(ctx);
	return 1;
}

/* uuid(): a random (version 4) UUID, RFC 9562 §5.4, lower-case. */
static duk_ret_t
native_uuid(duk_context *ctx)
{
	static const unsigned char groups[] = { 4, 2, 2, 2, 6 };
	unsigned char b[16];
	char s[37], *o = s;
	size_t i, at = 0;

	if (RAND_bytes(b, sizeof(b)) != 1)
		(void)duk_error(ctx, DUK_ERR_ERROR, "the random generator failed");
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);	/* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);	/* variant 10 */
	for (i = 0; i < sizeof(groups); i++) {
		if (i > 0)
			*o++ = '-';
		digest_hex(b + at, groups[i], o);
		o += groups[i] * 2;
		at += groups[i];
	}
	duk_push_lstring(ctx, s, 36);
	return 1;
}

/* digest(hash, data) -> ArrayBuffer */
static duk_ret_t
native_digest(duk_context *ctx)
{
	size_t h = require_hash(ctx, 0);
	unsigned char out[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	duk_size_t n;
	const void *p = duk_require_buffer_data(ctx, 1, &n);

	feed_check(ctx, digest_of(ctx, h, p, n, out, &len), "digest");
	push_array_buffer(ctx, out, len);
	return 1;
}

/* seal(key, data, hash, slots): makes key a CryptoKey: a copy of data's
 * bytes and the hash name under hidden symbols, and slots (what
 * crypto.js shows of the key) under a third. */
static duk_ret_t
native_seal(duk_context *ctx)
{
	duk_size_t n, again;
	void *copy;
	const void *p;

	duk_require_object(ctx, 0);
	(void)duk_require_buffer_data(ctx, 1, &n);
	(void)require_hash(ctx, 2);
	copy = duk_push_fixed_buffer(ctx, n);
	/* The data's pointer is read after the allocation, which could run
	 * the collector. */
	p = duk_require_buffer_data(ctx, 1, &again);
	if (again != n)
		(void)duk_error(ctx, DUK_ERR_TYPE_ERROR, "key data changed");
	if (n > 0)
		memcpy(copy, p, n);
	duk_put_prop_string(ctx, 0, HIDDEN_KEY_BYTES);
	duk_dup(ctx, 2);
	duk_put_prop_string(ctx, 0, HIDDEN_KEY_HASH);
	duk_dup(ctx, 3);
	duk_put_prop_string(ctx, 0, HIDDEN_KEY_SLOTS);
	return 0;
}

/* slots(key): what seal kept for crypto.js, or undefined for anything
 * that is not a CryptoKey. */
static duk_ret_t
native_slots(duk_context *ctx)
{
	if (!duk_is_object(ctx, 0))
		return 0;
	duk_get_prop_string(ctx, 0, HIDDEN_KEY_SLOTS);
	return 1;
}

/* [ ... key-bytes ]: pushes the bytes of the CryptoKey at key. Throws for
 * anything else. */
static void
push_key_bytes(duk_context *ctx, duk_idx_t key)
{
	duk_require_object(ctx, key);
	if (!duk_get_prop_string(ctx, key, HIDDEN_KEY_BYTES) ||
	    !duk_is_buffer_data(ctx, -1))
		(void)duk_error(ctx, DUK_ERR_TYPE_ERROR, "not a CryptoKey");
}

/* out = the HMAC (RFC 2104) of the bytes at data under the CryptoKey at
 * key; returns its length. Leaves the stack as it found it. A key longer
 * than the hash's block is hashed first, as RFC 2104 §2 says and libcrypto
 * would do, but here a chunk at a time under the deadline. */
static size_t
key_hmac(duk_context *ctx, duk_idx_t key, duk_idx_t data,
    unsigned char out[EVP_MAX_MD_SIZE])
{
	unsigned char short_key[EVP_MAX_MD_SIZE];
	unsigned int short_len = 0;
	OSSL_PARAM params[2];
	EVP_MAC *mac = NULL;
	EVP_MAC_CTX *c = NULL;
	const void *k, *d;
	duk_size_t kn, dn;
	size_t h, len = 0;
	enum feed r = FEED_FAILED;

	push_key_bytes(ctx, key);
	duk_get_prop_string(ctx, key, HIDDEN_KEY_HASH);
	h = require_hash(ctx, -1);
	/* No allocation in the heap from here to the end: both pointers
	 * stay valid. */
	k = duk_require_buffer_data(ctx, -2, &kn);
	d = duk_require_buffer_data(ctx, data, &dn);
	if (kn > (size_t)EVP_MD_get_block_size(hashes[h].md())) {
		if ((r = digest_of(ctx, h, k, kn, short_key, &short_len)) !=
		    FEED_OK)
			goto out;
		k = short_key;
		kn = short_len;
	}
	r = FEED_FAILED;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)hashes[h].ossl, 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (c = EVP_MAC_CTX_new(mac)) == NULL ||
	    EVP_MAC_init(c, k != NULL ? k : (const void *)"", kn, params) != 1)
		goto out;
	if ((r = feed(ctx, mac_update, c, d, dn)) == FEED_OK &&
	    EVP_MAC_final(c, out, &len, EVP_MAX_MD_SIZE) != 1)
		r = FEED_FAILED;
out:
	EVP_MAC_CTX_free(c);
	EVP_MAC_free(mac);
	OPENSSL_cleanse(short_key, sizeof(short_key));
	feed_check(ctx, r, "HMAC");
	duk_pop_2(ctx);
	return len;
}

/* sign(key, data) -> ArrayBuffer: HMAC (RFC 2104) of data under key. */
static duk_ret_t
native_sign(duk_context *ctx)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	size_t len = key_hmac(ctx, 0, 1, mac);

	push_array_buffer(ctx, mac, len);
	return 1;
}

/* verify(key, signature, data) -> boolean: whether signature is the HMAC
 * of data under key, compared in constant time. */
static duk_ret_t
native_verify(duk_context *ctx)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	size_t len = key_hmac(ctx, 0, 2, mac);
	duk_size_t n;
	const void *sig = duk_require_buffer_data(ctx, 1, &n);

	duk_push_boolean(ctx, n == len && CRYPTO_memcmp(sig, mac, len) == 0);
	OPENSSL_cleanse(mac, sizeof(mac));
	return 1;
}

/* exportRaw(key) -> ArrayBuffer: a copy of the key's bytes (crypto.js
 * checks that the key is extractable). */
static duk_ret_t
native_export_raw(duk_context *ctx)
{
	duk_size_t n;
	void *copy;
	const void *p;

	push_key_bytes(ctx, 0);
	(void)duk_get_buffer_data(ctx, -1, &n);
	copy = duk_push_fixed_buffer(ctx, n);
	p = duk_get_buffer_data(ctx, -2, &n);
	if (n > 0)
		memcpy(copy, p, n);
	duk_push_buffer_object(ctx, -1, 0, n, DUK_BUFOBJ_ARRAYBUFFER);
	return 1;
}

/* promise(): the library's Promise, loaded on first need (a function
 * that only draws random values never loads it). */
static duk_ret_t
native_promise(duk_context *ctx)
{
	lib_require(ctx, LIB_PROMISE);
	lib_push_exports(ctx, LIB_PROMISE);
	duk_get_prop_string(ctx, -1, "Promise");
	return 1;
}

void
lib_crypto_load(duk_context *ctx)
{
	static const char *const globals[] = { "crypto" };

	duk_push_object(ctx);
	lib_put_native(ctx, "promise", native_promise, 0);
	lib_put_native(ctx, "size", native_size, 1);
	lib_put_native(ctx, "random", native_random, 1);
	lib_put_native(ctx, "uuid", native_uuid, 0);
	lib_put_native(ctx, "digest", native_digest, 2);
	lib_put_native(ctx, "seal", native_seal, 4);
	lib_put_native(ctx, "slots", native_slots, 1);
	lib_put_native(ctx, "sign", native_sign, 2);
	lib_put_native(ctx, "verify", native_verify, 3);
	lib_put_native(ctx, "exportRaw", native_export_raw, 1);
	lib_run_source(ctx, LIB_CRYPTO, crypto_js, sizeof(crypto_js),
	    "fnrun:crypto.js");
	lib_define_globals(ctx, globals, sizeof(globals) / sizeof(globals[0]));
	duk_pop(ctx);
}
