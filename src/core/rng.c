/*
 * rng.c - MT19937 with numpy's legacy RandomState algorithms on top.
 *
 * Every function here mirrors one piece of numpy (numpy/random/src/mt19937,
 * legacy/legacy-distributions.c, distributions.c) closely enough that the
 * sequences agree bit for bit; t/rng.c holds values taken from numpy itself.
 * Where numpy's choice looks odd (53 bits from two draws, the polar method,
 * masked rejection instead of Lemire), the reason is always the same:
 * changing it would break the match.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/util.h"

#define MT_N 624
#define MT_M 397
#define MT_MATRIX_A 0x9908b0dfU
#define MT_UPPER 0x80000000U
#define MT_LOWER 0x7fffffffU

struct bbt_rng {
	uint32_t key[MT_N];
	int pos;
	/* The polar method makes deviates in pairs; numpy keeps the second
	 * for the next call, and so must we to stay in step. */
	int has_gauss;
	double gauss;
};

/* init_genrand of the reference MT19937, which is what RandomState(int)
 * calls (not init_by_array). */
static void mt_seed(bbt_rng_t *r, uint32_t seed)
{
	r->key[0] = seed;
	for (int i = 1; i < MT_N; i++) {
		uint32_t prev = r->key[i - 1];
		r->key[i] = 1812433253U * (prev ^ (prev >> 30)) + (uint32_t)i;
	}
	r->pos = MT_N;
	r->has_gauss = 0;
	r->gauss = 0.0;
}

static void mt_generate(bbt_rng_t *r)
{
	uint32_t *mt = r->key;
	int i;
	uint32_t y;
	for (i = 0; i < MT_N - MT_M; i++) {
		y = (mt[i] & MT_UPPER) | (mt[i + 1] & MT_LOWER);
		mt[i] = mt[i + MT_M] ^ (y >> 1) ^ (-(y & 1U) & MT_MATRIX_A);
	}
	for (; i < MT_N - 1; i++) {
		y = (mt[i] & MT_UPPER) | (mt[i + 1] & MT_LOWER);
		mt[i] = mt[i + (MT_M - MT_N)] ^ (y >> 1) ^ (-(y & 1U) & MT_MATRIX_A);
	}
	y = (mt[MT_N - 1] & MT_UPPER) | (mt[0] & MT_LOWER);
	mt[MT_N - 1] = mt[MT_M - 1] ^ (y >> 1) ^ (-(y & 1U) & MT_MATRIX_A);
	r->pos = 0;
}

bbt_rng_t *bbt_rng_alloc(uint32_t seed)
{
	bbt_rng_t *r = malloc(sizeof *r);
	if (r == NULL)
		return NULL;
	mt_seed(r, seed);
	return r;
}

void bbt_rng_free(bbt_rng_t *rng)
{
	free(rng);
}

uint32_t bbt_rng_u32(bbt_rng_t *rng)
{
	if (rng->pos >= MT_N)
		mt_generate(rng);
	uint32_t y = rng->key[rng->pos++];
	y ^= y >> 11;
	y ^= (y << 7) & 0x9d2c5680U;
	y ^= (y << 15) & 0xefc60000U;
	y ^= y >> 18;
	return y;
}

/* numpy's next_uint64 for MT19937: the first draw is the high word. */
static uint64_t rng_u64(bbt_rng_t *rng)
{
	uint64_t hi = bbt_rng_u32(rng);
	return (hi << 32) | bbt_rng_u32(rng);
}

double bbt_rng_uniform(bbt_rng_t *rng)
{
	uint32_t a = bbt_rng_u32(rng) >> 5, b = bbt_rng_u32(rng) >> 6;
	return ((double)a * 67108864.0 + (double)b) / 9007199254740992.0;
}

double bbt_rng_normal(bbt_rng_t *rng)
{
	if (rng->has_gauss) {
		rng->has_gauss = 0;
		double g = rng->gauss;
		rng->gauss = 0.0;
		return g;
	}
	double x1, x2, r2;
	do {
		x1 = 2.0 * bbt_rng_uniform(rng) - 1.0;
		x2 = 2.0 * bbt_rng_uniform(rng) - 1.0;
		r2 = x1 * x1 + x2 * x2;
	} while (r2 >= 1.0 || r2 == 0.0);
	double f = sqrt(-2.0 * log(r2) / r2);
	/* numpy returns f*x2 now and keeps f*x1: the order matters. */
	rng->gauss = f * x1;
	rng->has_gauss = 1;
	return f * x2;
}

/* numpy's random_interval: a uniform integer on [0, max] by masked
 * rejection, with 32-bit draws while max fits in 32 bits. max == 0 draws
 * nothing, as in numpy (that keeps later draws in step). */
static uint64_t rng_interval(bbt_rng_t *rng, uint64_t max)
{
	if (max == 0)
		return 0;
	uint64_t mask = max;
	mask |= mask >> 1;
	mask |= mask >> 2;
	mask |= mask >> 4;
	mask |= mask >> 8;
	mask |= mask >> 16;
	mask |= mask >> 32;
	uint64_t v;
	if (max <= 0xffffffffU) {
		do
			v = bbt_rng_u32(rng) & mask;
		while (v > max);
	} else {
		do
			v = rng_u64(rng) & mask;
		while (v > max);
	}
	return v;
}

uint64_t bbt_rng_uint(bbt_rng_t *rng, uint64_t n)
{
	/* randint(0, n) is the inclusive range [0, n-1]; n == 0 is a caller
	 * error that we answer with 0 rather than read as 2^64. */
	if (n <= 1)
		return 0;
	return rng_interval(rng, n - 1);
}

void bbt_rng_shuffle(bbt_rng_t *rng, size_t *idx, size_t n)
{
	for (size_t i = n > 0 ? n - 1 : 0; i >= 1; i--) {
		size_t j = (size_t)rng_interval(rng, i);
		size_t t = idx[i];
		idx[i] = idx[j];
		idx[j] = t;
	}
}

void bbt_rng_get_state(const bbt_rng_t *r, uint64_t *words)
{
	for (int i = 0; i < MT_N; i++)
		words[i] = r->key[i];
	words[MT_N] = (uint64_t)r->pos;
	words[MT_N + 1] = (uint64_t)r->has_gauss;
	memcpy(&words[MT_N + 2], &r->gauss, sizeof r->gauss);
}

int bbt_rng_set_state(bbt_rng_t *r, const uint64_t *words)
{
	for (int i = 0; i < MT_N; i++)
		if (words[i] > UINT32_MAX)
			return BBT_EFORMAT;
	if (words[MT_N] > MT_N || words[MT_N + 1] > 1)
		return BBT_EFORMAT;
	for (int i = 0; i < MT_N; i++)
		r->key[i] = (uint32_t)words[i];
	r->pos = (int)words[MT_N];
	r->has_gauss = (int)words[MT_N + 1];
	memcpy(&r->gauss, &words[MT_N + 2], sizeof r->gauss);
	return BBT_OK;
}

/* splitmix64's finaliser: a bijection with full avalanche, so nearby run
 * seeds (42, 43) still give unrelated streams. */
static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

uint32_t bbt_rng_derive_seed(uint64_t seed, const char *purpose)
{
	const char *p = purpose != NULL ? purpose : "";
	uint64_t h = bbt_hash64(p, strlen(p), BBT_HASH64_INIT);
	/* Mix twice so that neither input can cancel the other by XOR. */
	return (uint32_t)(mix64(mix64(seed) ^ h) >> 32);
}
