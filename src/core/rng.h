/*
 * rng.h - the host's random numbers, bit-compatible with numpy's legacy
 * RandomState (MT19937).
 *
 * Why numpy: the reference implementations of BBT, BBTv2 and BDPL are
 * Python; with the same seed, bbtbench draws the same few-shot split
 * (np.random.seed(s); np.random.shuffle(idx)) and can be cross-checked
 * against them number for number.
 *
 *     bbt_rng_t *r = bbt_rng_alloc(42);
 *     double u = bbt_rng_uniform(r);   == np.random.RandomState(42).random_sample()
 *     bbt_rng_free(r);
 *
 * Sequences match RandomState(seed) for: random_sample, standard_normal
 * (legacy polar Box-Muller, one cached deviate), randint(0, n) for n < 2^32
 * (masked rejection sampling, rk_interval), and shuffle of a 1-D array.
 */
#ifndef BBT_RNG_H
#define BBT_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct bbt_rng bbt_rng_t;

/* A generator seeded as np.random.RandomState(seed). NULL on out of memory. */
bbt_rng_t *bbt_rng_alloc(uint32_t seed);
void bbt_rng_free(bbt_rng_t *rng);

/* Raw 32-bit output of MT19937 (genrand_int32). */
uint32_t bbt_rng_u32(bbt_rng_t *rng);
/* Uniform on [0, 1) with 53 random bits: RandomState.random_sample(). */
double bbt_rng_uniform(bbt_rng_t *rng);
/* Standard normal: RandomState.standard_normal(). */
double bbt_rng_normal(bbt_rng_t *rng);
/* Uniform integer on {0, ..., n-1}, n >= 1: RandomState.randint(0, n)
 * for n <= 2^32, 64-bit masked rejection beyond. */
uint64_t bbt_rng_uint(bbt_rng_t *rng, uint64_t n);
/* In-place shuffle: RandomState.shuffle(idx) on a 1-D array. */
void bbt_rng_shuffle(bbt_rng_t *rng, size_t *idx, size_t n);

/* The generator's whole state as BBT_RNG_STATE_WORDS 64-bit words (the
 * key, the position, the cached normal deviate), for a run's checkpoint;
 * set_state refuses words that are no state of this generator
 * (BBT_EFORMAT) and leaves the generator as it was then. */
#define BBT_RNG_STATE_WORDS 627
void bbt_rng_get_state(const bbt_rng_t *rng, uint64_t *words);
int bbt_rng_set_state(bbt_rng_t *rng, const uint64_t *words);

/* A 32-bit seed for an independent stream named `purpose` ("optimizer",
 * "projection", ...) of the run seed `seed`; a fixed hash, so stable across
 * builds and platforms. */
uint32_t bbt_rng_derive_seed(uint64_t seed, const char *purpose);

#endif /* BBT_RNG_H */
