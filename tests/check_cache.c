/*
 * check_cache.c - unit tests for cache.c (SPEC §9, issue 3): the sealed
 * frame (every single-byte change, truncation, extension, a wrong key or
 * secret is refused), the memcached key and the engine build it carries
 * (recomputed here from build/duk, so a different Duktape configuration
 * gives a different key), and the client against a closed port and
 * against a real memcached this test starts on a free port (hits, misses,
 * values overwritten with garbage through memcached's own text protocol,
 * a server that goes away and comes back).
 *
 * Nothing here measures time: the tcase timeouts are the safety net that
 * turns libmemcached's multi-second defaults into a failure.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "duktape.h"

#include "cache.h"
#include "sandbox.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define HEADER_LEN	12	/* "FNBC", format, 3 zero bytes, u32 BE length */
#define MAC_LEN		32

#define KEY	"fnrun:bc:duk20700-0123456789abcdef:" \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SECRET	"8c1f2a6b0d4e3f5a7b9c8d0e1f2a3b4c" \
	"5d6e7f8091a2b3c4d5e6f708192a3b4c"

/* ------------------------------------------------------------ helpers */

static unsigned char *
pattern(size_t len, unsigned seed)
{
	unsigned char *p = malloc(len > 0 ? len : 1);
	size_t i;

	ck_assert_ptr_nonnull(p);
	for (i = 0; i < len; i++)
		p[i] = (unsigned char)((i * 131u + seed * 7u + (i >> 8)) & 0xff);
	return p;
}

static unsigned char *
seal(const char *key, const char *secret, const void *payload, size_t len,
    size_t *flen)
{
	unsigned char *f;

	*flen = 0;
	f = cache_frame_seal(key, secret, payload, len, flen);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(*flen, HEADER_LEN + len + MAC_LEN);
	return f;
}

static int
open_frame(const char *key, const char *secret, const void *frame,
    size_t flen, const void **payload, size_t *len)
{
	const void *p = NULL;
	size_t n = 0;
	int rc;

	rc = cache_frame_open(key, secret, frame, flen, &p, &n);
	if (payload != NULL)
		*payload = p;
	if (len != NULL)
		*len = n;
	return rc;
}

/* The frame as the documentation describes it, built independently with
 * OpenSSL's one-shot HMAC(): the Python integration test relies on it. */
static unsigned char *
reference_frame(const char *key, const char *secret, const void *payload,
    size_t len, size_t *flen)
{
	unsigned char *f, *msg, mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	size_t klen = strlen(key);

	f = malloc(HEADER_LEN + len + MAC_LEN);
	msg = malloc(klen + HEADER_LEN + len);
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(msg);
	memcpy(f, "FNBC", 4);
	f[4] = 1;
	f[5] = f[6] = f[7] = 0;
	f[8] = (unsigned char)(len >> 24);
	f[9] = (unsigned char)(len >> 16);
	f[10] = (unsigned char)(len >> 8);
	f[11] = (unsigned char)len;
	if (len > 0)
		memcpy(f + HEADER_LEN, payload, len);
	memcpy(msg, key, klen);
	memcpy(msg + klen, f, HEADER_LEN + len);
	ck_assert_ptr_nonnull(HMAC(EVP_sha256(), secret, (int)strlen(secret),
	    msg, klen + HEADER_LEN + len, mac, &maclen));
	ck_assert_uint_eq(maclen, MAC_LEN);
	memcpy(f + HEADER_LEN + len, mac, MAC_LEN);
	free(msg);
	*flen = HEADER_LEN + len + MAC_LEN;
	return f;
}

static void
sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	unsigned int i;

	ck_assert_int_eq(EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL),
	    1);
	ck_assert_uint_eq(mdlen, 32);
	for (i = 0; i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* A sha256 hex unique to this test process and tag, so tests sharing one
 * memcached never see each other's entries. */
static void
unique_sha(const char *tag, char out[65])
{
	char buf[128];
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(buf, sizeof(buf), "%s/%ld/%lld.%09ld", tag, (long)getpid(),
	    (long long)ts.tv_sec, ts.tv_nsec);
	sha256_hex(buf, strlen(buf), out);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f;
	char *data = NULL;
	size_t cap = 0, n = 0, r;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			data = realloc(data, cap);
			ck_assert_ptr_nonnull(data);
		}
		if ((r = fread(data + n, 1, cap - n, f)) == 0)
			break;
		n += r;
	}
	ck_assert_msg(!ferror(f), "read %s failed", path);
	fclose(f);
	*len = n;
	return data;
}

/* The directory holding the duk_config.h and duktape.h this binary was
 * built with: <BUILD>/duk, where the test binary is <BUILD>/tests/x. */
static int
duk_dir(char *out, size_t outlen)
{
	char exe[PATH_MAX], *slash;
	ssize_t n;
	int i;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		for (i = 0; i < 2; i++) {
			if ((slash = strrchr(exe, '/')) == NULL)
				break;
			*slash = '\0';
		}
		if (i == 2 && snprintf(out, outlen, "%s/duk", exe) <
		    (int)outlen && access(out, R_OK) == 0)
			return 0;
	}
	/* The Makefile runs the tests from the repository root. */
	snprintf(out, outlen, "build/duk");
	return access(out, R_OK) == 0 ? 0 : -1;
}

/* "duk<DUK_VERSION>-<first 16 hex of sha256(duk_config.h || duktape.h)>",
 * recomputed from the files, with extra appended to the config when not
 * NULL (a different configuration). */
static void
expected_engine(const char *extra, char *out, size_t outlen)
{
	char dir[PATH_MAX], path[PATH_MAX + 32], hex[65];
	char *cfg, *hdr, *all;
	size_t cfglen, hdrlen, xlen = extra != NULL ? strlen(extra) : 0;

	ck_assert_msg(duk_dir(dir, sizeof(dir)) == 0,
	    "cannot find build/duk (run from the repository root)");
	snprintf(path, sizeof(path), "%s/duk_config.h", dir);
	ck_assert_msg((cfg = slurp(path, &cfglen)) != NULL, "read %s", path);
	snprintf(path, sizeof(path), "%s/duktape.h", dir);
	ck_assert_msg((hdr = slurp(path, &hdrlen)) != NULL, "read %s", path);
	all = malloc(cfglen + xlen + hdrlen + 1);
	ck_assert_ptr_nonnull(all);
	memcpy(all, cfg, cfglen);
	if (xlen > 0)
		memcpy(all + cfglen, extra, xlen);
	memcpy(all + cfglen + xlen, hdr, hdrlen);
	sha256_hex(all, cfglen + xlen + hdrlen, hex);
	snprintf(out, outlen, "duk%ld-%.16s-%s", (long)DUK_VERSION, hex,
	    SANDBOX_CODE_FORM);
	free(all);
	free(cfg);
	free(hdr);
}

static int
free_port(void)
{
	struct sockaddr_in sa;
	socklen_t slen = sizeof(sa);
	int fd, port;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = 0;
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &slen), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------ the frame */

START_TEST(test_frame_round_trip)
{
	static const size_t sizes[] = { 1, 2, 31, 32, 33, 255, 256, 4096,
	    65537, 1u << 20 };
	unsigned char *p, *f;
	const void *out;
	size_t i, flen, n;

	for (i = 0; i < NELEM(sizes); i++) {
		p = pattern(sizes[i], (unsigned)i);
		f = seal(KEY, SECRET, p, sizes[i], &flen);
		ck_assert_int_eq(memcmp(f, "FNBC", 4), 0);
		ck_assert_uint_eq(f[4], 1);
		ck_assert_uint_eq(f[5] | f[6] | f[7], 0);
		ck_assert_uint_eq(((size_t)f[8] << 24 | (size_t)f[9] << 16 |
		    (size_t)f[10] << 8 | f[11]), sizes[i]);
		ck_assert_int_eq(open_frame(KEY, SECRET, f, flen, &out, &n), 0);
		ck_assert_uint_eq(n, sizes[i]);
		/* Points into the frame, right after the header. */
		ck_assert_ptr_eq(out, f + HEADER_LEN);
		ck_assert_int_eq(memcmp(out, p, n), 0);
		free(f);
		free(p);
	}
}
END_TEST

/* The documented layout, byte for byte, including the MAC's input. */
START_TEST(test_frame_matches_documented_layout)
{
	unsigned char *p = pattern(777, 3), *f, *ref;
	size_t flen, rlen;

	f = seal(KEY, SECRET, p, 777, &flen);
	ref = reference_frame(KEY, SECRET, p, 777, &rlen);
	ck_assert_uint_eq(flen, rlen);
	ck_assert_int_eq(memcmp(f, ref, flen), 0);
	/* And a frame made by anyone holding the secret opens. */
	ck_assert_int_eq(open_frame(KEY, SECRET, ref, rlen, NULL, NULL), 0);
	free(ref);
	free(f);
	free(p);
}
END_TEST

START_TEST(test_frame_empty_payload)
{
	unsigned char *f, *ref;
	const void *out = NULL;
	size_t flen, rlen, n = 99;

	f = seal(KEY, SECRET, "", 0, &flen);
	ck_assert_uint_eq(flen, HEADER_LEN + MAC_LEN);
	ck_assert_int_eq(open_frame(KEY, SECRET, f, flen, &out, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_eq(out, f + HEADER_LEN);
	ref = reference_frame(KEY, SECRET, "", 0, &rlen);
	ck_assert_uint_eq(rlen, flen);
	ck_assert_int_eq(memcmp(f, ref, flen), 0);
	/* Still bound to key and secret. */
	ck_assert_int_eq(open_frame(KEY "x", SECRET, f, flen, NULL, NULL), -1);
	ck_assert_int_eq(open_frame(KEY, SECRET "x", f, flen, NULL, NULL), -1);
	free(ref);
	free(f);
}
END_TEST

/* Every byte of the frame, header, payload and MAC, is covered. */
START_TEST(test_frame_any_flipped_byte_fails)
{
	static const unsigned char masks[] = { 0x01, 0x80, 0xff, 0x5a };
	unsigned char *p = pattern(300, 9), *f;
	size_t flen, i, m;

	f = seal(KEY, SECRET, p, 300, &flen);
	for (i = 0; i < flen; i++)
		for (m = 0; m < NELEM(masks); m++) {
			f[i] ^= masks[m];
			ck_assert_msg(open_frame(KEY, SECRET, f, flen, NULL,
			    NULL) == -1, "frame with byte %zu ^ 0x%02x opened",
			    i, masks[m]);
			f[i] ^= masks[m];
		}
	/* Untouched, it still opens. */
	ck_assert_int_eq(open_frame(KEY, SECRET, f, flen, NULL, NULL), 0);
	free(f);
	free(p);
}
END_TEST

START_TEST(test_frame_flipped_byte_empty_payload_fails)
{
	unsigned char *f;
	size_t flen, i;

	f = seal(KEY, SECRET, "", 0, &flen);
	for (i = 0; i < flen; i++) {
		f[i] ^= 0x01;
		ck_assert_msg(open_frame(KEY, SECRET, f, flen, NULL, NULL) == -1,
		    "empty frame with byte %zu flipped opened", i);
		f[i] ^= 0x01;
	}
	free(f);
}
END_TEST

START_TEST(test_frame_wrong_secret_fails)
{
	static const char *const wrong[] = {
	    "8c1f2a6b0d4e3f5a7b9c8d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4d",
	    "8c1f2a6b0d4e3f5a7b9c8d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4",
	    "x", "8C1F2A6B0D4E3F5A7B9C8D0E1F2A3B4C5D6E7F8091A2B3C4D5E6F708192A3B4C",
	};
	unsigned char *p = pattern(128, 1), *f;
	size_t flen, i;

	f = seal(KEY, SECRET, p, 128, &flen);
	for (i = 0; i < NELEM(wrong); i++)
		ck_assert_msg(open_frame(KEY, wrong[i], f, flen, NULL, NULL) ==
		    -1, "opened with secret %s", wrong[i]);
	free(f);
	free(p);
}
END_TEST

/* The same bytes found under another key (another source, another engine
 * build) are refused: the key is under the MAC. */
START_TEST(test_frame_wrong_key_fails)
{
	static const char *const other[] = {
	    "fnrun:bc:duk20700-0123456789abcdef:"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b856",
	    "fnrun:bc:duk20700-0123456789abcdee:"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "fnrun:bc:duk20600-0123456789abcdef:"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    /* A prefix and an extension of the key. */
	    "fnrun:bc:duk20700-0123456789abcdef:"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
	    "fnrun:bc:duk20700-0123456789abcdef:"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8550",
	    "",
	};
	unsigned char *p = pattern(64, 2), *f;
	size_t flen, i;

	f = seal(KEY, SECRET, p, 64, &flen);
	for (i = 0; i < NELEM(other); i++)
		ck_assert_msg(open_frame(other[i], SECRET, f, flen, NULL,
		    NULL) == -1, "opened under key '%s'", other[i]);
	ck_assert_int_eq(open_frame(KEY, SECRET, f, flen, NULL, NULL), 0);
	free(f);
	free(p);
}
END_TEST

/* Every truncation, including into the header, fails. */
START_TEST(test_frame_truncated_fails)
{
	unsigned char *p = pattern(100, 4), *f, *copy;
	size_t flen, n;

	f = seal(KEY, SECRET, p, 100, &flen);
	for (n = 0; n < flen; n++) {
		/* An exact-size copy, so ASan sees any read past the end. */
		copy = malloc(n > 0 ? n : 1);
		ck_assert_ptr_nonnull(copy);
		memcpy(copy, f, n);
		ck_assert_msg(open_frame(KEY, SECRET, copy, n, NULL, NULL) == -1,
		    "frame truncated to %zu of %zu bytes opened", n, flen);
		free(copy);
	}
	free(f);
	free(p);
}
END_TEST

START_TEST(test_frame_extended_fails)
{
	static const size_t extra[] = { 1, 2, 31, 32, 33, 1000 };
	unsigned char *p = pattern(100, 5), *f, *big;
	size_t flen, i, j;

	f = seal(KEY, SECRET, p, 100, &flen);
	for (i = 0; i < NELEM(extra); i++) {
		big = malloc(flen + extra[i]);
		ck_assert_ptr_nonnull(big);
		memcpy(big, f, flen);
		for (j = 0; j < extra[i]; j++)
			big[flen + j] = (unsigned char)j;
		ck_assert_msg(open_frame(KEY, SECRET, big, flen + extra[i], NULL,
		    NULL) == -1, "frame with %zu extra bytes opened", extra[i]);
		/* Extra bytes that repeat the MAC do not help either. */
		memcpy(big + flen, f + flen - (extra[i] < MAC_LEN ? extra[i] :
		    MAC_LEN), extra[i] < MAC_LEN ? extra[i] : MAC_LEN);
		ck_assert_int_eq(open_frame(KEY, SECRET, big, flen + extra[i],
		    NULL, NULL), -1);
		free(big);
	}
	free(f);
	free(p);
}
END_TEST

static void
put_len(unsigned char *f, uint32_t n)
{
	f[8] = (unsigned char)(n >> 24);
	f[9] = (unsigned char)(n >> 16);
	f[10] = (unsigned char)(n >> 8);
	f[11] = (unsigned char)n;
}

/* A length field that disagrees with the frame's size, in either
 * direction and at the extremes, fails; so does a frame re-cut so that the
 * length matches but payload and MAC moved. */
START_TEST(test_frame_length_inconsistent_fails)
{
	static const uint32_t lens[] = { 0, 1, 99, 101, 132, 0x7fffffff,
	    0x80000000u, 0xffffffffu, 0x00010064, 0x01000064 };
	unsigned char *p = pattern(100, 6), *f, *cut;
	size_t flen, i;

	f = seal(KEY, SECRET, p, 100, &flen);
	for (i = 0; i < NELEM(lens); i++) {
		put_len(f, lens[i]);
		ck_assert_msg(open_frame(KEY, SECRET, f, flen, NULL, NULL) == -1,
		    "length field %u in a frame of %zu payload bytes opened",
		    lens[i], (size_t)100);
		put_len(f, 100);
	}
	ck_assert_int_eq(open_frame(KEY, SECRET, f, flen, NULL, NULL), 0);

	/* Drop the last payload byte and say 99: consistent, but the MAC
	 * covered a different header and payload. */
	cut = malloc(flen - 1);
	ck_assert_ptr_nonnull(cut);
	memcpy(cut, f, HEADER_LEN + 99);
	memcpy(cut + HEADER_LEN + 99, f + HEADER_LEN + 100, MAC_LEN);
	put_len(cut, 99);
	ck_assert_int_eq(open_frame(KEY, SECRET, cut, flen - 1, NULL, NULL), -1);
	free(cut);

	/* A header with a length but nothing after it. */
	ck_assert_int_eq(open_frame(KEY, SECRET, f, HEADER_LEN, NULL, NULL), -1);
	free(f);
	free(p);
}
END_TEST

/* A value that is someone else's format or plain garbage. */
START_TEST(test_frame_garbage_fails)
{
	unsigned char buf[256];
	unsigned char *f;
	size_t i, flen;

	memset(buf, 0, sizeof(buf));
	for (i = 0; i <= sizeof(buf); i++)
		ck_assert_int_eq(open_frame(KEY, SECRET, buf, i, NULL, NULL), -1);
	memset(buf, 0xff, sizeof(buf));
	for (i = 0; i <= sizeof(buf); i++)
		ck_assert_int_eq(open_frame(KEY, SECRET, buf, i, NULL, NULL), -1);
	/* A frame of format 2 whose MAC is right for its bytes. */
	f = reference_frame(KEY, SECRET, "abc", 3, &flen);
	f[4] = 2;
	{
		unsigned char mac[EVP_MAX_MD_SIZE], msg[CACHE_KEY_MAX + 64];
		unsigned int maclen = 0;
		size_t klen = strlen(KEY);

		memcpy(msg, KEY, klen);
		memcpy(msg + klen, f, HEADER_LEN + 3);
		HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), msg,
		    klen + HEADER_LEN + 3, mac, &maclen);
		memcpy(f + HEADER_LEN + 3, mac, MAC_LEN);
	}
	ck_assert_int_eq(open_frame(KEY, SECRET, f, flen, NULL, NULL), -1);
	free(f);
}
END_TEST

/* ------------------------------------------------- key and engine build */

START_TEST(test_engine_build)
{
	const char *eb = cache_engine_build();
	char want[128], prefix[32];
	size_t i, plen;

	ck_assert_ptr_nonnull(eb);
	plen = (size_t)snprintf(prefix, sizeof(prefix), "duk%ld-",
	    (long)DUK_VERSION);
	ck_assert_msg(strncmp(eb, prefix, plen) == 0,
	    "engine build '%s' does not start with '%s'", eb, prefix);
	ck_assert_uint_eq(strlen(eb), plen + 16 + 1 + strlen(SANDBOX_CODE_FORM));
	ck_assert_str_eq(eb + plen + 16, "-" SANDBOX_CODE_FORM);
	for (i = plen; i < plen + 16; i++)
		ck_assert_msg((eb[i] >= '0' && eb[i] <= '9') ||
		    (eb[i] >= 'a' && eb[i] <= 'f'), "'%s': not lower-case hex",
		    eb);
	expected_engine(NULL, want, sizeof(want));
	ck_assert_str_eq(eb, want);
	/* Stable. */
	ck_assert_ptr_eq(cache_engine_build(), eb);
}
END_TEST

/* Bytecode of the form before SANDBOX_CODE_FORM (a program, keyed by
 * the engine build alone) is never looked up: its key differs, and a
 * frame sealed for it does not open under the new one. */
START_TEST(test_engine_build_changes_with_form)
{
	char old[128], key[CACHE_KEY_MAX], old_key[CACHE_KEY_MAX + 128];
	const char *sha =
	    "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";
	const char *eb = cache_engine_build();
	unsigned char *f;
	size_t flen;

	snprintf(old, sizeof(old), "%.*s", (int)(strlen(eb) - 1 -
	    strlen(SANDBOX_CODE_FORM)), eb);
	cache_key(sha, key);
	snprintf(old_key, sizeof(old_key), "fnrun:bc:%s:%s", old, sha);
	ck_assert_str_ne(key, old_key);
	f = seal(old_key, SECRET, "bc", 2, &flen);
	ck_assert_int_eq(open_frame(key, SECRET, f, flen, NULL, NULL), -1);
	free(f);
}
END_TEST

/* A different configuration (one more define, as a rebuild with another
 * duk_overrides.h would have) names a different engine, hence a different
 * key for the same source. */
START_TEST(test_engine_build_changes_with_config)
{
	char other[128], key[CACHE_KEY_MAX], other_key[CACHE_KEY_MAX + 128];
	const char *sha =
	    "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";

	expected_engine("#define DUK_USE_FNRUN_TEST_ONLY\n", other,
	    sizeof(other));
	ck_assert_str_ne(other, cache_engine_build());
	cache_key(sha, key);
	snprintf(other_key, sizeof(other_key), "fnrun:bc:%s:%s", other, sha);
	ck_assert_str_ne(key, other_key);
	/* And bytecode sealed for the other build's key is refused here. */
	{
		unsigned char *f;
		size_t flen;

		f = seal(other_key, SECRET, "bc", 2, &flen);
		ck_assert_int_eq(open_frame(key, SECRET, f, flen, NULL, NULL),
		    -1);
		free(f);
	}
}
END_TEST

START_TEST(test_cache_key)
{
	const char *sha =
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	const char *sha2 =
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b856";
	char key[CACHE_KEY_MAX], key2[CACHE_KEY_MAX], want[CACHE_KEY_MAX + 64];
	size_t i;

	memset(key, 'Z', sizeof(key));
	cache_key(sha, key);
	snprintf(want, sizeof(want), "fnrun:bc:%s:%s", cache_engine_build(),
	    sha);
	ck_assert_str_eq(key, want);
	ck_assert_ptr_nonnull(strstr(key, cache_engine_build()));
	ck_assert_ptr_nonnull(strstr(key, sha));
	/* A valid memcached key: at most 250 bytes, no space or control. */
	ck_assert_uint_lt(strlen(key), CACHE_KEY_MAX);
	ck_assert_uint_le(strlen(key), 250);
	for (i = 0; key[i] != '\0'; i++)
		ck_assert_msg(key[i] > ' ' && key[i] < 0x7f,
		    "byte %zu of key is 0x%02x", i, (unsigned char)key[i]);
	cache_key(sha2, key2);
	ck_assert_str_ne(key, key2);
}
END_TEST

/* ------------------------------------------------- a port nobody serves */

START_TEST(test_closed_port_is_a_miss)
{
	char servers[64], sha[65];
	struct cache *c;
	void *bc = (void *)0x1;
	size_t len = 12345;
	int i;

	snprintf(servers, sizeof(servers), "127.0.0.1:%d", free_port());
	c = cache_open(servers, SECRET);
	ck_assert_ptr_nonnull(c);
	unique_sha("closed", sha);
	/* With libmemcached's default timeouts (seconds each) this many calls
	 * would run past the tcase timeout. */
	for (i = 0; i < 40; i++) {
		ck_assert_int_eq(cache_get_bytecode(c, sha, &bc, &len), 1);
		cache_put_bytecode(c, sha, "bytecode", 8);
	}
	ck_assert_ptr_eq(bc, (void *)0x1);
	ck_assert_uint_eq(len, 12345);
	ck_assert_uint_eq(cache_stats(c)->misses, 40);
	ck_assert_uint_eq(cache_stats(c)->hits, 0);
	ck_assert_uint_eq(cache_stats(c)->rejects, 0);
	ck_assert_uint_eq(cache_stats(c)->sets, 0);
	ck_assert_int_eq(cache_ping(c), -1);
	cache_close(c);
}
END_TEST

/* A server that takes connections and never answers (a stuck or
 * overloaded memcached): every call is a miss. Calls go on for 5 s, across
 * several retry pauses, so a client waiting libmemcached's default seconds
 * per attempt runs past the tcase timeout. */
START_TEST(test_silent_server_is_a_miss)
{
	struct sockaddr_in sa;
	socklen_t slen = sizeof(sa);
	char servers[64], sha[65];
	struct cache *c;
	void *bc = NULL;
	size_t len;
	unsigned long n = 0;
	double end;
	int lfd;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(lfd, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(lfd, 128), 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sa, &slen), 0);
	snprintf(servers, sizeof(servers), "127.0.0.1:%d", ntohs(sa.sin_port));
	c = cache_open(servers, SECRET);
	ck_assert_ptr_nonnull(c);
	unique_sha("silent", sha);
	end = now_s() + 5;
	while (now_s() < end) {
		ck_assert_int_eq(cache_get_bytecode(c, sha, &bc, &len), 1);
		cache_put_bytecode(c, sha, "bytecode", 8);
		n++;
		usleep(10000);
	}
	ck_assert_ptr_null(bc);
	ck_assert_uint_eq(cache_stats(c)->misses, n);
	ck_assert_uint_eq(cache_stats(c)->hits, 0);
	ck_assert_uint_eq(cache_stats(c)->sets, 0);
	ck_assert_int_eq(cache_ping(c), -1);
	cache_close(c);
	close(lfd);
}
END_TEST

START_TEST(test_open_bad_servers)
{
	static const char *const bad[] = { "", "localhost", "127.0.0.1:",
	    "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:99999999999" };
	struct cache *c;
	size_t i;

	for (i = 0; i < NELEM(bad); i++)
		ck_assert_msg(cache_open(bad[i], SECRET) == NULL,
		    "cache_open('%s') accepted", bad[i]);
	/* A good one opens without connecting. */
	c = cache_open("127.0.0.1:1", SECRET);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(cache_stats(c)->hits + cache_stats(c)->misses +
	    cache_stats(c)->rejects + cache_stats(c)->errors +
	    cache_stats(c)->sets, 0);
	cache_close(c);
	cache_close(NULL);
}
END_TEST

/* ----------------------------------------------------- a real memcached */

static pid_t	mc_pid;
static int	mc_port;		/* 0: no memcached could be started */
static char	mc_servers[64];

/* A connection to 127.0.0.1:port, or -1. */
static int
dial(int port)
{
	struct sockaddr_in sa;
	struct timeval tv = { 5, 0 };
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
send_all(int fd, const void *p, size_t n)
{
	const char *s = p;
	ssize_t w;

	while (n > 0) {
		if ((w = send(fd, s, n, MSG_NOSIGNAL)) <= 0) {
			if (w == -1 && errno == EINTR)
				continue;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads until the buffer ends with term (or holds "VALUE ..." data plus
 * "END\r\n"); returns the bytes read or -1. */
static ssize_t
recv_until(int fd, char *buf, size_t cap, const char *term)
{
	size_t n = 0, tl = strlen(term);
	ssize_t r;

	while (n < cap) {
		if ((r = recv(fd, buf + n, cap - n, 0)) <= 0) {
			if (r == -1 && errno == EINTR)
				continue;
			return -1;
		}
		n += (size_t)r;
		if (n >= tl && memcmp(buf + n - tl, term, tl) == 0)
			return (ssize_t)n;
	}
	return -1;
}

/* memcached answers "version" on port. */
static int
mc_answers(int port)
{
	char buf[128];
	ssize_t n;
	int fd, ok;

	if ((fd = dial(port)) == -1)
		return 0;
	ok = send_all(fd, "version\r\n", 9) == 0 &&
	    (n = recv_until(fd, buf, sizeof(buf) - 1, "\r\n")) > 0 &&
	    strncmp(buf, "VERSION ", 8) == 0;
	close(fd);
	return ok;
}

/* Starts memcached on port; returns its pid, or -1. Waits for it to
 * answer (by its socket, not a sleep), up to 5 s. */
static pid_t
mc_start(int port)
{
	char portstr[16];
	const char *argv[12];
	int i = 0, devnull, status;
	double deadline;
	pid_t pid;

	snprintf(portstr, sizeof(portstr), "%d", port);
	argv[i++] = "memcached";
	argv[i++] = "-p";
	argv[i++] = portstr;
	argv[i++] = "-l";
	argv[i++] = "127.0.0.1";
	argv[i++] = "-U";
	argv[i++] = "0";
	argv[i++] = "-m";
	argv[i++] = "64";
	if (geteuid() == 0) {
		argv[i++] = "-u";
		argv[i++] = "nobody";
	}
	argv[i] = NULL;
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if ((devnull = open("/dev/null", O_RDWR)) != -1) {
			dup2(devnull, 0);
			dup2(devnull, 1);
			dup2(devnull, 2);
		}
		execvp("memcached", (char *const *)argv);
		_exit(127);
	}
	deadline = now_s() + 5;
	while (!mc_answers(port)) {
		if (waitpid(pid, &status, WNOHANG) == pid || now_s() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		usleep(20000);
	}
	return pid;
}

static void
mc_stop(pid_t pid)
{
	int status;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
}

/* Runs once per tcase, in the runner's process. */
static void
mc_setup(void)
{
	int tries;

	mc_port = 0;
	for (tries = 0; tries < 3; tries++) {
		int port = free_port();

		if ((mc_pid = mc_start(port)) > 0) {
			mc_port = port;
			snprintf(mc_servers, sizeof(mc_servers), "127.0.0.1:%d",
			    port);
			return;
		}
	}
	fprintf(stderr, "check_cache: memcached could not be started; the "
	    "real-memcached tests check nothing\n");
}

static void
mc_teardown(void)
{
	mc_stop(mc_pid);
	mc_pid = 0;
}

#define NEED_MEMCACHED() do {						\
	if (mc_port == 0) {						\
		fprintf(stderr, "%s: skipped, no memcached\n", __func__);	\
		return;							\
	}								\
} while (0)

/* set <key> <flags> 0 <len> over the text protocol. */
static void
raw_set(int port, const char *key, const void *val, size_t len)
{
	char line[CACHE_KEY_MAX + 64], buf[64];
	int fd = dial(port);

	ck_assert_int_ge(fd, 0);
	snprintf(line, sizeof(line), "set %s 0 0 %zu\r\n", key, len);
	ck_assert_int_eq(send_all(fd, line, strlen(line)), 0);
	ck_assert_int_eq(send_all(fd, val, len), 0);
	ck_assert_int_eq(send_all(fd, "\r\n", 2), 0);
	ck_assert_int_gt(recv_until(fd, buf, sizeof(buf), "\r\n"), 0);
	ck_assert_msg(strncmp(buf, "STORED\r\n", 8) == 0, "set answered %.20s",
	    buf);
	close(fd);
}

/* The value of key (malloc'd) or NULL when absent. */
static unsigned char *
raw_get(int port, const char *key, size_t *len)
{
	char line[CACHE_KEY_MAX + 64], *buf, *eol;
	unsigned char *val;
	size_t cap = (4u << 20), n;
	ssize_t r;
	int fd = dial(port);
	unsigned long vlen;

	ck_assert_int_ge(fd, 0);
	snprintf(line, sizeof(line), "get %s\r\n", key);
	ck_assert_int_eq(send_all(fd, line, strlen(line)), 0);
	buf = malloc(cap);
	ck_assert_ptr_nonnull(buf);
	r = recv_until(fd, buf, cap, "END\r\n");
	close(fd);
	ck_assert_int_gt(r, 0);
	n = (size_t)r;
	if (n == 5) {
		free(buf);
		return NULL;
	}
	ck_assert_int_eq(strncmp(buf, "VALUE ", 6), 0);
	eol = memmem(buf, n, "\r\n", 2);
	ck_assert_ptr_nonnull(eol);
	*eol = '\0';
	eol = strrchr(buf, ' ');
	ck_assert_ptr_nonnull(eol);
	vlen = strtoul(eol + 1, NULL, 10);
	eol = buf + strlen(buf) + 2;
	ck_assert_uint_eq((size_t)(eol - buf) + vlen + 7, n);
	val = malloc(vlen > 0 ? vlen : 1);
	ck_assert_ptr_nonnull(val);
	memcpy(val, eol, vlen);
	*len = vlen;
	free(buf);
	return val;
}

static struct cache *
mc_client(void)
{
	struct cache *c = cache_open(mc_servers, SECRET);

	ck_assert_ptr_nonnull(c);
	return c;
}

START_TEST(test_mc_put_get_hit)
{
	struct cache *c;
	unsigned char *p = pattern(5000, 11), *val;
	char sha[65], key[CACHE_KEY_MAX];
	void *bc = NULL;
	size_t len = 0, vlen = 0;

	NEED_MEMCACHED();
	c = mc_client();
	ck_assert_int_eq(cache_ping(c), 0);
	unique_sha("hit", sha);
	cache_put_bytecode(c, sha, p, 5000);
	ck_assert_uint_eq(cache_stats(c)->sets, 1);
	ck_assert_uint_eq(cache_stats(c)->errors, 0);
	ck_assert_int_eq(cache_get_bytecode(c, sha, &bc, &len), 0);
	ck_assert_uint_eq(len, 5000);
	ck_assert_int_eq(memcmp(bc, p, 5000), 0);
	free(bc);
	ck_assert_uint_eq(cache_stats(c)->hits, 1);
	ck_assert_uint_eq(cache_stats(c)->misses, 0);
	ck_assert_uint_eq(cache_stats(c)->rejects, 0);
	/* What memcached holds is the sealed frame, under cache_key(). */
	cache_key(sha, key);
	val = raw_get(mc_port, key, &vlen);
	ck_assert_ptr_nonnull(val);
	ck_assert_uint_eq(vlen, HEADER_LEN + 5000 + MAC_LEN);
	ck_assert_int_eq(open_frame(key, SECRET, val, vlen, NULL, NULL), 0);
	free(val);
	free(p);
	cache_close(c);
}
END_TEST

START_TEST(test_mc_absent_is_a_miss)
{
	struct cache *c;
	char sha[65];
	void *bc = NULL;
	size_t len = 0;

	NEED_MEMCACHED();
	c = mc_client();
	unique_sha("absent", sha);
	ck_assert_int_eq(cache_get_bytecode(c, sha, &bc, &len), 1);
	ck_assert_ptr_null(bc);
	ck_assert_uint_eq(cache_stats(c)->misses, 1);
	ck_assert_uint_eq(cache_stats(c)->hits, 0);
	ck_assert_uint_eq(cache_stats(c)->rejects, 0);
	ck_assert_uint_eq(cache_stats(c)->errors, 0);
	cache_close(c);
}
END_TEST

/* A good entry overwritten with garbage through memcached's own protocol
 * is rejected (counted as such, not as a hit), and a put makes it good. */
START_TEST(test_mc_garbage_rejected_then_replaced)
{
	struct cache *c;
	unsigned char *p = pattern(1000, 12);
	char sha[65], key[CACHE_KEY_MAX];
	void *bc = NULL;
	size_t len = 0;

	NEED_MEMCACHED();
	c = mc_client();
	unique_sha("garbage", sha);
	cache_key(sha, key);
	cache_put_bytecode(c, sha, p, 1000);
	raw_set(mc_port, key, "this is not bytecode at all", 27);
	ck_assert_int_eq(cache_get_bytecode(c, sha, &bc, &len), 1);
	ck_assert_ptr_null(bc);
	ck_assert_uint_eq(cache_stats(c)->rejects, 1);
	ck_assert_uint_eq(cache_stats(c)->hits, 0);
	cache_put_bytecode(c, sha, p, 1000);
	ck_assert_int_eq(cache_get_bytecode(c, sha, &bc, &len), 0);
	ck_assert_uint_eq(len, 1000);
	ck_assert_int_eq(memcmp(bc, p, 1000), 0);
	free(bc);
	ck_assert_uint_eq(cache_stats(c)->hits, 1);
	ck_assert_uint_eq(cache_stats(c)->rejects, 1);
	ck_assert_uint_eq(cache_stats(c)->sets, 2);
	free(p);
	cache_close(c);
}
END_TEST

/* One flipped byte anywhere in the stored value (sampled: header, payload
 * start, middle, end, MAC) is rejected end to end. */
START_TEST(test_mc_flipped_byte_rejected)
{
	struct cache *c;
	unsigned char *p = pattern(2000, 13), *good, *bad;
	char sha[65], key[CACHE_KEY_MAX];
	size_t glen = 0, offs[6], i, len;
	unsigned long rejects = 0;
	void *bc;

	NEED_MEMCACHED();
	c = mc_client();
	unique_sha("flip", sha);
	cache_key(sha, key);
	cache_put_bytecode(c, sha, p, 2000);
	good = raw_get(mc_port, key, &glen);
	ck_assert_ptr_nonnull(good);
	offs[0] = 0;
	offs[1] = 11;
	offs[2] = HEADER_LEN;
	offs[3] = glen / 2;
	offs[4] = HEADER_LEN + 1999;
	offs[5] = glen - 1;
	bad = malloc(glen);
	ck_assert_ptr_nonnull(bad);
	for (i = 0; i < NELEM(offs); i++) {
		memcpy(bad, good, glen);
		bad[offs[i]] ^= 0x20;
		raw_set(mc_port, key, bad, glen);
		bc = NULL;
		ck_assert_msg(cache_get_bytecode(c, sha, &bc, &len) == 1,
		    "value with byte %zu flipped was returned", offs[i]);
		ck_assert_ptr_null(bc);
		ck_assert_uint_eq(cache_stats(c)->rejects, ++rejects);
	}
	ck_assert_uint_eq(cache_stats(c)->hits, 0);
	/* The original bytes, put back, are a hit again. */
	raw_set(mc_port, key, good, glen);
	ck_assert_int_eq(cache_get_bytecode(c, sha, &bc, &len), 0);
	free(bc);
	free(bad);
	free(good);
	free(p);
	cache_close(c);
}
END_TEST

/* A well-formed frame sealed for another source's key, or with another
 * secret, or for another engine build, is rejected under this key. */
START_TEST(test_mc_frame_for_other_key_or_secret_rejected)
{
	struct cache *c;
	unsigned char *p = pattern(500, 14), *f;
	char sha[65], sha2[65], key[CACHE_KEY_MAX], key2[CACHE_KEY_MAX];
	char oldbuild[CACHE_KEY_MAX + 64];
	size_t flen, len;
	void *bc = NULL;

	NEED_MEMCACHED();
	c = mc_client();
	unique_sha("other1", sha);
	unique_sha("other2", sha2);
	cache_key(sha, key);
	cache_key(sha2, key2);

	f = seal(key2, SECRET, p, 500, &flen);
	raw_set(mc_port, key, f, flen);
	free(f);
	ck_assert_int_eq(cache_get_bytecode(c, sha, &bc, &len), 1);

	f = seal(key, "another secret", p, 500, &flen);
	raw_set(mc_port, key, f, flen);
	free(f);
	ck_assert_int_eq(cache_get_bytecode(c, sha, &bc, &len), 1);

	snprintf(oldbuild, sizeof(oldbuild), "fnrun:bc:duk10000-"
	    "0000000000000000:%s", sha);
	f = seal(oldbuild, SECRET, p, 500, &flen);
	raw_set(mc_port, key, f, flen);
	free(f);
	ck_assert_int_eq(cache_get_bytecode(c, sha, &bc, &len), 1);

	ck_assert_ptr_null(bc);
	ck_assert_uint_eq(cache_stats(c)->rejects, 3);
	ck_assert_uint_eq(cache_stats(c)->hits, 0);

	/* The right one, made by anyone with the secret, is a hit. */
	f = reference_frame(key, SECRET, p, 500, &flen);
	raw_set(mc_port, key, f, flen);
	free(f);
	ck_assert_int_eq(cache_get_bytecode(c, sha, &bc, &len), 0);
	ck_assert_uint_eq(len, 500);
	ck_assert_int_eq(memcmp(bc, p, 500), 0);
	free(bc);
	free(p);
	cache_close(c);
}
END_TEST

/* Bytecode larger than memcached's item size: the set fails, is counted,
 * and the next get is a plain miss. */
START_TEST(test_mc_too_large_for_memcached)
{
	struct cache *c;
	size_t n = 2u << 20, len;
	unsigned char *p = pattern(n, 15);
	char sha[65];
	void *bc = NULL;

	NEED_MEMCACHED();
	c = mc_client();
	unique_sha("large", sha);
	cache_put_bytecode(c, sha, p, n);
	ck_assert_uint_eq(cache_stats(c)->sets, 0);
	ck_assert_uint_eq(cache_stats(c)->errors, 1);
	ck_assert_int_eq(cache_get_bytecode(c, sha, &bc, &len), 1);
	ck_assert_ptr_null(bc);
	ck_assert_uint_eq(cache_stats(c)->hits, 0);
	ck_assert_uint_eq(cache_stats(c)->rejects, 0);
	/* The client is still usable. */
	cache_put_bytecode(c, sha, p, 1000);
	ck_assert_int_eq(cache_get_bytecode(c, sha, &bc, &len), 0);
	ck_assert_uint_eq(len, 1000);
	free(bc);
	free(p);
	cache_close(c);
}
END_TEST

/* A memcached of its own that goes away mid-life and comes back on the
 * same port: misses while it is gone (never a crash or a stall past the
 * tcase timeout), hits again once the retry pause has passed (polled, at
 * most 15 s). */
START_TEST(test_mc_restart_recovers)
{
	struct cache *c;
	unsigned char *p = pattern(300, 16);
	char servers[64], sha[65];
	void *bc = NULL;
	size_t len;
	double deadline;
	int port = 0, tries, i, got = 0;
	pid_t pid = -1;

	for (tries = 0; tries < 3 && pid <= 0; tries++) {
		port = free_port();
		pid = mc_start(port);
	}
	if (pid <= 0) {
		fprintf(stderr, "%s: skipped, no memcached\n", __func__);
		return;
	}
	snprintf(servers, sizeof(servers), "127.0.0.1:%d", port);
	c = cache_open(servers, SECRET);
	ck_assert_ptr_nonnull(c);
	unique_sha("restart", sha);
	cache_put_bytecode(c, sha, p, 300);
	ck_assert_int_eq(cache_get_bytecode(c, sha, &bc, &len), 0);
	free(bc);
	bc = NULL;

	mc_stop(pid);
	for (i = 0; i < 20; i++) {
		ck_assert_int_eq(cache_get_bytecode(c, sha, &bc, &len), 1);
		cache_put_bytecode(c, sha, p, 300);
	}
	ck_assert_ptr_null(bc);
	ck_assert_uint_eq(cache_stats(c)->hits, 1);
	ck_assert_uint_eq(cache_stats(c)->misses, 20);
	ck_assert_uint_eq(cache_stats(c)->sets, 1);

	pid = mc_start(port);
	ck_assert_msg(pid > 0, "memcached did not restart on port %d", port);
	deadline = now_s() + 15;
	while (now_s() < deadline) {
		cache_put_bytecode(c, sha, p, 300);
		if (cache_get_bytecode(c, sha, &bc, &len) == 0) {
			got = 1;
			break;
		}
		usleep(100000);
	}
	mc_stop(pid);
	ck_assert_msg(got, "no hit within 15 s of memcached coming back");
	ck_assert_uint_eq(len, 300);
	ck_assert_int_eq(memcmp(bc, p, 300), 0);
	free(bc);
	free(p);
	cache_close(c);
}
END_TEST

/* ------------------------------------------------ several servers (SPEC §14) */

#define RING_KEYS	6000

/* The server of key number i (a sha256 of its number) under the list
 * servers, into out[i] as an index into names (which lists every server
 * the test uses); -1 when none. */
static void
ring_map(const char *servers, const char *const *names, size_t nnames,
    int *out)
{
	struct cache *c = cache_open(servers, SECRET);
	char sha[65], num[32], who[CACHE_HOST_MAX + 8];
	size_t i, j;

	ck_assert_msg(c != NULL, "cache_open('%s')", servers);
	for (i = 0; i < RING_KEYS; i++) {
		snprintf(num, sizeof(num), "ring-%zu", i);
		sha256_hex(num, strlen(num), sha);
		ck_assert_int_eq(cache_server_of(c, sha, who, sizeof(who)), 0);
		out[i] = -1;
		for (j = 0; j < nnames; j++)
			if (strcmp(who, names[j]) == 0)
				out[i] = (int)j;
		ck_assert_msg(out[i] >= 0, "key %zu went to unknown '%s'", i, who);
	}
	cache_close(c);
}

/* Adding a fourth server to three moves about a quarter of the keys, all
 * of them to the new server; removing one of four moves exactly the keys
 * it held and no other; the order of the list does not matter (every
 * host may write it differently). Computed with libmemcached's own
 * mapping (memcached_server_by_key); nothing connects. */
START_TEST(test_ring_moves_only_its_share)
{
	static const char *const names[] = { "127.0.0.1:20001",
	    "127.0.0.1:20002", "127.0.0.1:20003", "127.0.0.1:20004" };
	static int three[RING_KEYS], four[RING_KEYS], shuffled[RING_KEYS],
	    less[RING_KEYS];
	size_t i, moved = 0, on[4] = { 0 };

	ring_map("127.0.0.1:20001,127.0.0.1:20002,127.0.0.1:20003", names, 4,
	    three);
	ring_map("127.0.0.1:20001,127.0.0.1:20002,127.0.0.1:20003,"
	    "127.0.0.1:20004", names, 4, four);
	ring_map("127.0.0.1:20004,127.0.0.1:20002,127.0.0.1:20001,"
	    "127.0.0.1:20003", names, 4, shuffled);
	ring_map("127.0.0.1:20001,127.0.0.1:20003,127.0.0.1:20004", names, 4,
	    less);
	for (i = 0; i < RING_KEYS; i++) {
		on[three[i]]++;
		ck_assert_int_eq(four[i], shuffled[i]);
		if (three[i] != four[i]) {
			moved++;
			ck_assert_msg(four[i] == 3, "key %zu moved from %d to "
			    "%d, not to the new server", i, three[i], four[i]);
		}
		/* Removing server 2 of four: its keys go, the others stay. */
		if (four[i] == 1)
			ck_assert_int_ne(less[i], 1);
		else
			ck_assert_int_eq(less[i], four[i]);
	}
	/* Each of three holds about a third, the newcomer takes about a
	 * quarter (ketama's 160 points per server keep it near). */
	for (i = 0; i < 3; i++)
		ck_assert_msg(on[i] > RING_KEYS / 5 && on[i] < RING_KEYS / 2,
		    "server %zu holds %zu of %d keys", i, on[i], RING_KEYS);
	ck_assert_msg(moved > RING_KEYS * 15 / 100 &&
	    moved < RING_KEYS * 35 / 100, "%zu of %d keys moved", moved,
	    RING_KEYS);
}
END_TEST

START_TEST(test_open_server_lists)
{
	static const char *const good[] = { "127.0.0.1:1,127.0.0.1:2",
	    "[::1]:11211", "mc1.internal:11211,[fd00::5]:11211,10.0.0.3:1" };
	static const char *const bad[] = { "127.0.0.1:1,", ",127.0.0.1:1",
	    "127.0.0.1:1,,127.0.0.1:2", "::1:11211", "[::1]11211", "[]:1",
	    "[::1:1", "127.0.0.1:1 ,127.0.0.1:2", "127.0.0.1:01",
	    "127.0.0.1:1,127.0.0.1:+2" };
	char list[65 * 18 + 1] = "", one[24];
	struct cache *c;
	size_t i;

	for (i = 0; i < NELEM(good); i++) {
		c = cache_open(good[i], SECRET);
		ck_assert_msg(c != NULL, "cache_open('%s') refused", good[i]);
		cache_close(c);
	}
	for (i = 0; i < NELEM(bad); i++)
		ck_assert_msg(cache_open(bad[i], SECRET) == NULL,
		    "cache_open('%s') accepted", bad[i]);
	/* At most CACHE_SERVERS_MAX servers. */
	for (i = 0; i < CACHE_SERVERS_MAX; i++) {
		snprintf(one, sizeof(one), "%s127.0.0.1:%zu", i ? "," : "",
		    i + 1);
		strcat(list, one);
	}
	c = cache_open(list, SECRET);
	ck_assert_ptr_nonnull(c);
	cache_close(c);
	strcat(list, ",127.0.0.1:9");
	ck_assert_ptr_null(cache_open(list, SECRET));
}
END_TEST

/* Three memcacheds of its own; one stops. The keys the other two hold are
 * still hits; each key the stopped one held is a miss once (the worker
 * compiles it and stores it on the key's new server) and a hit from then
 * on: the first failure of the dead server is rerouted, not a second miss
 * or a stall. */
START_TEST(test_mc_dead_server_moves_only_its_keys)
{
	enum { N = 40 };
	unsigned char *p = pattern(200, 21);
	char servers[128], names[3][32], who[CACHE_HOST_MAX + 8];
	char sha[N][65], tag[32];
	int port[3], owner[N], i, j, held = 0;
	pid_t pid[3];
	struct cache *c;
	void *bc;
	size_t len, misses0;

	for (j = 0; j < 3; j++) {
		pid[j] = -1;
		for (i = 0; i < 3 && pid[j] <= 0; i++) {
			port[j] = free_port();
			pid[j] = mc_start(port[j]);
		}
		if (pid[j] <= 0) {
			fprintf(stderr, "%s: skipped, no memcached\n", __func__);
			while (--j >= 0)
				mc_stop(pid[j]);
			free(p);
			return;
		}
		snprintf(names[j], sizeof(names[j]), "127.0.0.1:%d", port[j]);
	}
	snprintf(servers, sizeof(servers), "%s,%s,%s", names[0], names[1],
	    names[2]);
	c = cache_open(servers, SECRET);
	ck_assert_ptr_nonnull(c);
	for (i = 0; i < N; i++) {
		snprintf(tag, sizeof(tag), "dead-%d", i);
		unique_sha(tag, sha[i]);
		cache_put_bytecode(c, sha[i], p, 200);
		ck_assert_int_eq(cache_server_of(c, sha[i], who, sizeof(who)), 0);
		for (owner[i] = -1, j = 0; j < 3; j++)
			if (strcmp(who, names[j]) == 0)
				owner[i] = j;
		ck_assert_int_ge(owner[i], 0);
		held += owner[i] == 1;
	}
	ck_assert_uint_eq(cache_stats(c)->sets, N);
	ck_assert_msg(held > 0 && held < N, "server 1 holds %d of %d", held, N);

	mc_stop(pid[1]);
	misses0 = cache_stats(c)->misses;
	for (i = 0; i < N; i++) {
		bc = NULL;
		if (owner[i] == 1) {
			ck_assert_int_eq(cache_get_bytecode(c, sha[i], &bc,
			    &len), 1);
			cache_put_bytecode(c, sha[i], p, 200);
			ck_assert_int_eq(cache_server_of(c, sha[i], who,
			    sizeof(who)), 0);
			ck_assert_str_ne(who, names[1]);
		} else {
			ck_assert_msg(cache_get_bytecode(c, sha[i], &bc,
			    &len) == 0, "key %d of a live server missed", i);
			free(bc);
		}
	}
	ck_assert_uint_eq(cache_stats(c)->misses - misses0, (size_t)held);
	/* Once stored again, every key is a hit. */
	for (i = 0; i < N; i++) {
		bc = NULL;
		ck_assert_msg(cache_get_bytecode(c, sha[i], &bc, &len) == 0,
		    "key %d missed after it was stored again", i);
		ck_assert_uint_eq(len, 200);
		free(bc);
	}
	ck_assert_uint_eq(cache_stats(c)->misses - misses0, (size_t)held);
	cache_close(c);
	mc_stop(pid[0]);
	mc_stop(pid[2]);
	free(p);
}
END_TEST

static Suite *
cache_suite(void)
{
	Suite *s = suite_create("cache");
	TCase *tc;

	tc = tcase_create("frame");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_frame_round_trip);
	tcase_add_test(tc, test_frame_matches_documented_layout);
	tcase_add_test(tc, test_frame_empty_payload);
	tcase_add_test(tc, test_frame_any_flipped_byte_fails);
	tcase_add_test(tc, test_frame_flipped_byte_empty_payload_fails);
	tcase_add_test(tc, test_frame_wrong_secret_fails);
	tcase_add_test(tc, test_frame_wrong_key_fails);
	tcase_add_test(tc, test_frame_truncated_fails);
	tcase_add_test(tc, test_frame_extended_fails);
	tcase_add_test(tc, test_frame_length_inconsistent_fails);
	tcase_add_test(tc, test_frame_garbage_fails);
	suite_add_tcase(s, tc);

	tc = tcase_create("key");
	tcase_add_test(tc, test_engine_build);
	tcase_add_test(tc, test_engine_build_changes_with_config);
	tcase_add_test(tc, test_engine_build_changes_with_form);
	tcase_add_test(tc, test_cache_key);
	suite_add_tcase(s, tc);

	tc = tcase_create("unreachable");
	tcase_set_timeout(tc, 12);
	tcase_add_test(tc, test_closed_port_is_a_miss);
	tcase_add_test(tc, test_silent_server_is_a_miss);
	tcase_add_test(tc, test_open_bad_servers);
	tcase_add_test(tc, test_open_server_lists);
	suite_add_tcase(s, tc);

	tc = tcase_create("ring");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_ring_moves_only_its_share);
	suite_add_tcase(s, tc);

	tc = tcase_create("memcached");
	tcase_set_timeout(tc, 30);
	tcase_add_unchecked_fixture(tc, mc_setup, mc_teardown);
	tcase_add_test(tc, test_mc_put_get_hit);
	tcase_add_test(tc, test_mc_absent_is_a_miss);
	tcase_add_test(tc, test_mc_garbage_rejected_then_replaced);
	tcase_add_test(tc, test_mc_flipped_byte_rejected);
	tcase_add_test(tc, test_mc_frame_for_other_key_or_secret_rejected);
	tcase_add_test(tc, test_mc_too_large_for_memcached);
	tcase_add_test(tc, test_mc_restart_recovers);
	tcase_add_test(tc, test_mc_dead_server_moves_only_its_keys);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(cache_suite());
	int failed;

	signal(SIGPIPE, SIG_IGN);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
