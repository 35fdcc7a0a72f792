/*
 * t/rng.c - bbt_rng against numpy's legacy RandomState.
 *
 * Every expected value below was printed by numpy 1.24 (Debian 12's
 * python3-numpy), e.g.
 *     r = np.random.RandomState(42); [r.random_sample() for _ in range(6)]
 * repr() of a double round-trips, so doubles are compared exactly: the
 * point of this module is bit-compatibility, and "close" would hide a
 * drifted stream (a wrongly cached Gaussian shifts everything after it).
 */
#include "config.h"

#include <stdint.h>

#include "core/rng.h"
#include "tap.h"

struct seed_case {
	uint32_t seed;
	uint32_t u32[4];          /* randint(0, 2**32, dtype=uint64): raw draws */
	double uniform[6];        /* random_sample() x 6 */
	double normal[7];         /* standard_normal() x 7 (odd: ends on a fresh pair) */
	int randint10[10];        /* randint(0, 10) x 10 */
	uint64_t randint_mix[9];  /* randint(0, n) for n in MIX_N, in turn */
	size_t shuffle20[20];     /* a = arange(20); shuffle(a) */
	/* random_sample, standard_normal, randint(0, 7), standard_normal x 2:
	 * the cached deviate survives other draws in between. */
	double mixed_u, mixed_g1;
	int mixed_i;
	double mixed_g2, mixed_g3;
	double u1999;             /* random_sample(2000)[1999]: past a regeneration */
	double u_sum2000;         /* its sum (numpy sums pairwise: tolerance) */
	double g1999, g2000;      /* standard_normal() x 2001, last two */
	size_t sh1000_head[8];    /* a = arange(1000); shuffle(a); a[:8] */
	unsigned long long sh1000_dot; /* sum(a * arange(1000)) */
	size_t sh5[5];            /* shuffle(arange(5)) and then ... */
	double sh5_u;             /* ... random_sample() */
};

static const uint64_t MIX_N[9] = {
	1, 2, 3, 1000, 2147483648ULL, 4294967296ULL, 4294967297ULL,
	1099511627776ULL, 1000000000000000000ULL,
};

static const struct seed_case cases[] = {
	{
		0,
		{ 2357136044U, 2546248239U, 3071714933U, 3626093760U },
		{ 0.5488135039273248, 0.7151893663724195, 0.6027633760716439,
		  0.5448831829968969, 0.4236547993389047, 0.6458941130666561 },
		{ 1.764052345967664, 0.4001572083672233, 0.9787379841057392,
		  2.240893199201458, 1.8675579901499675, -0.977277879876411,
		  0.9500884175255894 },
		{ 5, 0, 3, 3, 7, 9, 3, 5, 2, 4 },
		{ 0, 0, 1, 192, 441365315ULL, 3684848379ULL, 1277901399ULL,
		  300891291096ULL, 482617814000913804ULL },
		{ 18, 1, 19, 8, 10, 17, 6, 13, 4, 2, 5, 14, 9, 7, 16, 11, 3, 0, 15, 12 },
		0.5488135039273248, 0.7415917408091613, 3, 1.5529137219128164,
		0.37025538490846127,
		0.5017731306999452, 1007.2715210152523,
		-1.3109703704412123, -1.5329210534301279,
		{ 993, 859, 298, 553, 672, 971, 27, 231 }, 247872640ULL,
		{ 2, 0, 1, 3, 4 }, 0.6027633760716439,
	},
	{
		42,
		{ 1608637542U, 3421126067U, 4083286876U, 787846414U },
		{ 0.3745401188473625, 0.9507143064099162, 0.7319939418114051,
		  0.5986584841970366, 0.15601864044243652, 0.15599452033620265 },
		{ 0.4967141530112327, -0.13826430117118466, 0.6476885381006925,
		  1.5230298564080254, -0.23415337472333597, -0.23413695694918055,
		  1.5792128155073915 },
		{ 6, 3, 7, 4, 6, 9, 2, 6, 7, 4 },
		{ 0, 0, 0, 270, 996406378ULL, 3348747335ULL, 2563451924ULL,
		  440001501305ULL, 571748048327668950ULL },
		{ 0, 17, 15, 1, 8, 5, 11, 3, 18, 16, 13, 2, 9, 19, 4, 12, 7, 10, 14, 6 },
		0.3745401188473625, -1.1118801180469204, 2, 0.31890218468938336,
		-0.09462100189797196,
		0.28218707469320015, 997.2738584993373,
		-0.7449026448064491, -0.6751782749743815,
		{ 521, 737, 740, 660, 411, 678, 626, 513 }, 251374799ULL,
		{ 1, 4, 2, 0, 3 }, 0.7796910002727693,
	},
	{
		4294967295U,
		{ 419326371U, 479346978U, 3918654476U, 2416749639U },
		{ 0.0976320289940138, 0.9123828453026218, 0.78903530185164,
		  0.7800035981134678, 0.01793967398674523, 0.9695059322147525 },
		{ 0.6484086742306527, 0.6693235306338161, -1.0805437227474493,
		  0.2845010447986309, 0.11388773652167104, 0.8676218937929382,
		  -0.044026015448043285 },
		{ 3, 2, 7, 4, 0, 6, 9, 0, 2, 6 },
		{ 0, 1, 2, 12, 269265991ULL, 3388880820ULL, 3350089942ULL,
		  1073818874329ULL, 619103253366409855ULL },
		{ 11, 17, 19, 15, 1, 5, 8, 16, 13, 18, 14, 9, 10, 6, 0, 4, 7, 12, 2, 3 },
		0.0976320289940138, 0.0813036681172692, 3, 0.4096851233481656,
		-0.8751756260760788,
		0.17947030169391298, 1006.8821783792849,
		1.445097548120407, -0.6381570355087288,
		{ 94, 405, 819, 632, 217, 169, 449, 275 }, 249935792ULL,
		{ 4, 1, 0, 2, 3 }, 0.78903530185164,
	},
};

#define N_CASES (sizeof cases / sizeof cases[0])
#define TESTS_PER_CASE 14

static void check_case(const struct seed_case *c)
{
	bbt_rng_t *r;
	int same;
	uint32_t s = c->seed;

	r = bbt_rng_alloc(s);
	same = 1;
	for (int i = 0; i < 4; i++)
		same &= bbt_rng_u32(r) == c->u32[i];
	ok(same, "seed %u: raw 32-bit draws", s);
	bbt_rng_free(r);

	r = bbt_rng_alloc(s);
	same = 1;
	for (int i = 0; i < 6; i++) {
		double u = bbt_rng_uniform(r);
		if (u != c->uniform[i]) {
			diag("  uniform[%d] = %.17g, numpy %.17g", i, u, c->uniform[i]);
			same = 0;
		}
	}
	ok(same, "seed %u: random_sample x 6", s);
	bbt_rng_free(r);

	r = bbt_rng_alloc(s);
	same = 1;
	for (int i = 0; i < 7; i++) {
		double g = bbt_rng_normal(r);
		if (g != c->normal[i]) {
			diag("  normal[%d] = %.17g, numpy %.17g", i, g, c->normal[i]);
			same = 0;
		}
	}
	ok(same, "seed %u: standard_normal x 7", s);
	bbt_rng_free(r);

	r = bbt_rng_alloc(s);
	same = 1;
	for (int i = 0; i < 10; i++)
		same &= bbt_rng_uint(r, 10) == (uint64_t)c->randint10[i];
	ok(same, "seed %u: randint(0, 10) x 10", s);
	bbt_rng_free(r);

	r = bbt_rng_alloc(s);
	same = 1;
	for (int i = 0; i < 9; i++) {
		uint64_t v = bbt_rng_uint(r, MIX_N[i]);
		if (v != c->randint_mix[i]) {
			diag("  randint(0, %llu) = %llu, numpy %llu",
			     (unsigned long long)MIX_N[i], (unsigned long long)v,
			     (unsigned long long)c->randint_mix[i]);
			same = 0;
		}
	}
	ok(same, "seed %u: randint(0, n) for n = 1 .. 10^18 (32- and 64-bit paths)", s);
	bbt_rng_free(r);

	r = bbt_rng_alloc(s);
	size_t a[20];
	for (size_t i = 0; i < 20; i++)
		a[i] = i;
	bbt_rng_shuffle(r, a, 20);
	same = 1;
	for (int i = 0; i < 20; i++)
		same &= a[i] == c->shuffle20[i];
	ok(same, "seed %u: shuffle(arange(20))", s);
	bbt_rng_free(r);

	r = bbt_rng_alloc(s);
	double mu = bbt_rng_uniform(r);
	double g1 = bbt_rng_normal(r);
	uint64_t mi = bbt_rng_uint(r, 7);
	double g2 = bbt_rng_normal(r);
	double g3 = bbt_rng_normal(r);
	ok(mu == c->mixed_u && g1 == c->mixed_g1 && mi == (uint64_t)c->mixed_i &&
	   g2 == c->mixed_g2 && g3 == c->mixed_g3,
	   "seed %u: cached Gaussian survives interleaved uniform/randint draws", s);
	bbt_rng_free(r);

	r = bbt_rng_alloc(s);
	double sum = 0.0, u = 0.0;
	for (int i = 0; i < 2000; i++) {
		u = bbt_rng_uniform(r);
		sum += u;
	}
	is_double(u, c->u1999, 0.0, "seed %u: random_sample #1999 (after state regeneration)", s);
	is_double(sum, c->u_sum2000, 1e-9, "seed %u: sum of 2000 random_sample", s);
	bbt_rng_free(r);

	r = bbt_rng_alloc(s);
	double g = 0.0, gprev = 0.0;
	for (int i = 0; i < 2001; i++) {
		gprev = g;
		g = bbt_rng_normal(r);
	}
	is_double(gprev, c->g1999, 0.0, "seed %u: standard_normal #1999", s);
	is_double(g, c->g2000, 0.0, "seed %u: standard_normal #2000", s);
	bbt_rng_free(r);

	r = bbt_rng_alloc(s);
	size_t *big = malloc(1000 * sizeof *big);
	for (size_t i = 0; i < 1000; i++)
		big[i] = i;
	bbt_rng_shuffle(r, big, 1000);
	same = 1;
	for (int i = 0; i < 8; i++)
		same &= big[i] == c->sh1000_head[i];
	unsigned long long dot = 0;
	for (size_t i = 0; i < 1000; i++)
		dot += (unsigned long long)big[i] * i;
	ok(same && dot == c->sh1000_dot, "seed %u: shuffle(arange(1000))", s);
	free(big);
	bbt_rng_free(r);

	r = bbt_rng_alloc(s);
	size_t b[5] = { 0, 1, 2, 3, 4 };
	bbt_rng_shuffle(r, b, 5);
	same = 1;
	for (int i = 0; i < 5; i++)
		same &= b[i] == c->sh5[i];
	ok(same, "seed %u: shuffle(arange(5))", s);
	is_double(bbt_rng_uniform(r), c->sh5_u, 0.0,
	          "seed %u: random_sample after shuffle: shuffle consumed what numpy does", s);
	bbt_rng_free(r);
}

int main(void)
{
	plan((int)(N_CASES * TESTS_PER_CASE) + 11);

	for (size_t k = 0; k < N_CASES; k++)
		check_case(&cases[k]);

	/* Shuffles that must draw nothing: numpy's loop runs from n-1 down to
	 * 1, so n = 0 and n = 1 leave the stream untouched. */
	bbt_rng_t *r = bbt_rng_alloc(0);
	size_t one = 7;
	bbt_rng_shuffle(r, NULL, 0);
	bbt_rng_shuffle(r, &one, 1);
	is_int((long long)one, 7, "shuffle of one element leaves it");
	is_double(bbt_rng_uniform(r), 0.5488135039273248, 0.0,
	          "shuffle of 0 or 1 elements draws nothing");
	bbt_rng_free(r);

	/* randint(0, 1) draws nothing either (numpy returns low at once). */
	r = bbt_rng_alloc(0);
	is_int((long long)bbt_rng_uint(r, 1), 0, "randint(0, 1) is 0");
	is_double(bbt_rng_uniform(r), 0.5488135039273248, 0.0, "randint(0, 1) draws nothing");
	bbt_rng_free(r);

	bbt_rng_free(NULL);
	ok(1, "bbt_rng_free(NULL) is a no-op");

	/* derive_seed: a fixed function of (seed, purpose). */
	uint32_t a1 = bbt_rng_derive_seed(42, "optimizer");
	uint32_t a2 = bbt_rng_derive_seed(42, "optimizer");
	uint32_t b1 = bbt_rng_derive_seed(42, "projection");
	uint32_t c1 = bbt_rng_derive_seed(43, "optimizer");
	uint32_t e1 = bbt_rng_derive_seed(42, "");
	ok(a1 == a2, "derive_seed is stable within a run");
	ok(a1 != b1 && a1 != e1 && b1 != e1, "distinct purposes give distinct seeds");
	ok(a1 != c1, "distinct run seeds give distinct seeds");
	/* Pinned (values from an independent Python rendering of the same
	 * splitmix64/FNV-1a formula), so that a change of the hash, which
	 * would change every derived stream and so every published result,
	 * fails loudly. */
	is_int(a1, 0x0423bb94U, "derive_seed(42, \"optimizer\") is pinned");
	is_int(bbt_rng_derive_seed(0, "projection"), 0xb0dd7691U,
	       "derive_seed(0, \"projection\") is pinned");

	/* Many purposes, no collisions among them (a weak hash would collide
	 * on short, similar names). */
	uint32_t seen[64];
	int distinct = 1;
	for (int i = 0; i < 64; i++) {
		char name[32];
		snprintf(name, sizeof name, "layer%d", i);
		seen[i] = bbt_rng_derive_seed(13, name);
		for (int j = 0; j < i; j++)
			distinct &= seen[j] != seen[i];
	}
	ok(distinct, "64 layer purposes give 64 distinct seeds");

	return done_testing();
}
