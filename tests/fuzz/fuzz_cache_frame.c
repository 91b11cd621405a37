/*
 * fuzz_cache_frame.c - the signed bytecode frame (fcgi-app/cache/cache.c), the
 * only thing between memcached's bytes and duk_load_function. The first
 * input byte picks the mode:
 *  - even: the rest is a memcached value handed to cache_frame_open. If it
 *    opens, the payload lies inside it and sealing that payload again
 *    gives back exactly these bytes (nothing else can open);
 *  - odd: bytes 1-4 describe a mutation (position, xor mask, kind) and the
 *    rest is a payload. It is sealed, must open to the same payload, must
 *    not open under another key or HMAC key, and must not open once one
 *    byte is flipped, the frame truncated or extended.
 * Key and HMAC key are fixed, so the committed seeds (real bytecode from
 * duk_dump_function, sealed; tests/fuzz/corpus/cache_frame/) stay valid
 * whatever the engine build.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

#define KEY	"fnrun:bc:duk20700-fuzz:" \
		"4c8b4ec5c7e9b8a9d9c0b7cb2e9a6c2f1e0d3b5a79f8e6d4c3b2a19f8e7d6c5b"
#define OTHER_KEY	KEY "0"
#define HMAC_KEY	"fuzz-hmac-key-0123456789abcdef"
#define OTHER_HMAC_KEY	"fuzz-hmac-key-0123456789abcdeF"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

static volatile unsigned char sink;

static void
open_raw(const uint8_t *f, size_t n)
{
	const void	*payload;
	const uint8_t	*p;
	unsigned char	*again;
	size_t		 len, alen, i;

	if (cache_frame_open(KEY, HMAC_KEY, f, n, &payload, &len) != 0)
		return;
	p = payload;
	CHECK(p >= f && p + len <= f + n);
	for (i = 0; i < len; i++)
		sink ^= p[i];
	again = cache_frame_seal(KEY, HMAC_KEY, p, len, &alen);
	CHECK(again != NULL && alen == n && memcmp(again, f, n) == 0);
	free(again);
}

static int
opens(const char *key, const char *hmac_key, const void *f, size_t n)
{
	const void	*payload;
	size_t		 len;

	return cache_frame_open(key, hmac_key, f, n, &payload, &len) == 0;
}

static void
seal_and_mutate(const uint8_t *data, size_t size)
{
	const uint8_t	*pl = data + 5, *payload;
	size_t		 plen = size - 5, flen, len, pos, i;
	unsigned char	*f, *g, mask;

	f = cache_frame_seal(KEY, HMAC_KEY, pl, plen, &flen);
	CHECK(f != NULL);
	CHECK(cache_frame_open(KEY, HMAC_KEY, f, flen, (const void **)&payload,
	    &len) == 0);
	CHECK(len == plen && memcmp(payload, pl, plen) == 0);
	CHECK(!opens(OTHER_KEY, HMAC_KEY, f, flen));
	CHECK(!opens(KEY, OTHER_HMAC_KEY, f, flen));

	pos = ((size_t)data[1] << 8 | data[2]) % flen;
	mask = data[3] != 0 ? data[3] : 0x80;
	if ((g = malloc(flen + 8)) == NULL)
		abort();
	memcpy(g, f, flen);
	switch (data[4] % 3) {
	case 0:		/* one byte flipped, anywhere */
		g[pos] ^= mask;
		CHECK(!opens(KEY, HMAC_KEY, g, flen));
		break;
	case 1:		/* truncated */
		CHECK(!opens(KEY, HMAC_KEY, g, pos));
		break;
	default:	/* extended */
		for (i = 0; i <= pos % 8; i++)
			g[flen + i] = mask;
		CHECK(!opens(KEY, HMAC_KEY, g, flen + pos % 8 + 1));
		break;
	}
	free(g);
	free(f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t	*copy;

	if (size == 0)
		return 0;
	/* An exact-size copy: a read past the value is an ASan report. */
	if ((copy = malloc(size)) == NULL)
		abort();
	memcpy(copy, data, size);
	if ((copy[0] & 1) == 0)
		open_raw(copy + 1, size - 1);
	else if (size >= 5)
		seal_and_mutate(copy, size);
	free(copy);
	return 0;
}
