/*
 * sandbox_random.c - the generator behind Math.random in every heap
 * (DUK_USE_GET_RANDOM_DOUBLE, duk_overrides.h): xoshiro256** seeded from
 * OpenSSL's RAND_bytes once per process, and again after a fork, so no
 * two workers and no two heaps share a sequence. Not for cryptography
 * (neither is Math.random); it only must not repeat or be guessable from
 * the clock.
 */
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

/* Per thread: a worker's spare heap is made by a thread of its own
 * (cache/spare.c), which never runs Math.random, but must not race. */
static _Thread_local uint64_t	state[4];
static _Thread_local pid_t	seeded_by;

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static void
seed(void)
{
	uint64_t t = 0x9e3779b97f4a7c15ULL;
	int i;

	if (RAND_bytes((unsigned char *)state, sizeof(state)) != 1) {
		/* Extremely unlikely; still never start from all zeros. */
		for (i = 0; i < 4; i++)
			state[i] = (t += 0x9e3779b97f4a7c15ULL) ^ (uint64_t)getpid();
	}
	if ((state[0] | state[1] | state[2] | state[3]) == 0)
		state[0] = 1;
	seeded_by = getpid();
}

double	sandbox_random_double(void *udata);

double
sandbox_random_double(void *udata)
{
	uint64_t r, t;

	(void)udata;
	if (seeded_by != getpid())
		seed();
	r = rotl(state[1] * 5, 7) * 9;
	t = state[1] << 17;
	state[2] ^= state[0];
	state[3] ^= state[1];
	state[1] ^= state[2];
	state[0] ^= state[3];
	state[2] ^= t;
	state[3] = rotl(state[3], 45);
	/* 53 random bits -> [0, 1). */
	return (double)(r >> 11) * 0x1.0p-53;
}
