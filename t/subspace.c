/*
 * t/subspace.c - the random projection: the statistics of A, determinism,
 * and the BLAS products against plain double loops.
 */
#include "config.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>

#include "core/rng.h"
#include "run/subspace.h"
#include "tap.h"

#include <bbtbench/status.h>

/* Mean and std (population) of n floats, in double. */
static void moments(const float *a, size_t n, double *mean, double *sd)
{
	double s = 0.0, ss = 0.0;
	for (size_t i = 0; i < n; i++)
		s += a[i];
	double m = s / (double)n;
	for (size_t i = 0; i < n; i++)
		ss += ((double)a[i] - m) * ((double)a[i] - m);
	*mean = m;
	*sd = sqrt(ss / (double)n);
}

static bbt_subspace_t *make(size_t d, size_t big_d, enum bbt_projection proj, uint32_t seed,
                            const float *p0)
{
	char err[BBT_ERRLEN] = "";
	struct bbt_subspace_params sp = bbt_subspace_default_params();
	sp.dim = d;
	sp.out_dim = big_d;
	sp.projection = proj;
	sp.embed_std = 0.05;
	sp.seed = seed;
	sp.p0 = p0;
	bbt_subspace_t *s = bbt_subspace_alloc(&sp, err, sizeof err);
	if (s == NULL)
		diag("bbt_subspace_alloc: %s", err);
	return s;
}

/* Worst |got - want| relative to the size of the terms that were summed
 * (sum of |A_ij x_j|): the honest yardstick for a float dot product, where
 * an entry near 0 by cancellation has no relative accuracy to speak of. */
static void check_project(const bbt_subspace_t *s, const float *p0, size_t n, uint32_t seed,
                          const char *what)
{
	size_t d = bbt_subspace_dim(s), big_d = bbt_subspace_out_dim(s);
	const float *a = bbt_subspace_matrix(s);
	double *z = malloc(n * d * sizeof *z);
	float *p = malloc(n * big_d * sizeof *p);
	bbt_rng_t *r = bbt_rng_alloc(seed);
	for (size_t k = 0; k < n * d; k++)
		z[k] = bbt_rng_normal(r);
	bbt_rng_free(r);

	bbt_subspace_project(s, z, n, p);
	double worst = 0.0;
	for (size_t v = 0; v < n; v++)
		for (size_t i = 0; i < big_d; i++) {
			double ref = p0 != NULL ? p0[i] : 0.0, mag = fabs(ref);
			for (size_t j = 0; j < d; j++) {
				double t = (double)a[i * d + j] * z[v * d + j];
				ref += t;
				mag += fabs(t);
			}
			double e = fabs((double)p[v * big_d + i] - ref) / mag;
			if (e > worst)
				worst = e;
		}
	ok(worst <= 1e-5, "%s: projection equals the double loop (worst relative error %.2g)",
	   what, worst);
	free(z);
	free(p);
}

static void check_pullback(const bbt_subspace_t *s, size_t n, uint32_t seed, const char *what)
{
	size_t d = bbt_subspace_dim(s), big_d = bbt_subspace_out_dim(s);
	const float *a = bbt_subspace_matrix(s);
	float *g = malloc(n * big_d * sizeof *g);
	double *gz = malloc(n * d * sizeof *gz);
	double *ref = calloc(n * d, sizeof *ref), *mag = calloc(n * d, sizeof *mag);
	bbt_rng_t *r = bbt_rng_alloc(seed);
	for (size_t k = 0; k < n * big_d; k++)
		g[k] = (float)bbt_rng_normal(r);
	bbt_rng_free(r);

	for (size_t k = 0; k < n * d; k++)
		gz[k] = 12345.0; /* must be overwritten, not added to */
	bbt_subspace_pullback(s, g, n, gz);
	for (size_t v = 0; v < n; v++)
		for (size_t i = 0; i < big_d; i++)
			for (size_t j = 0; j < d; j++) {
				double t = (double)a[i * d + j] * g[v * big_d + i];
				ref[v * d + j] += t;
				mag[v * d + j] += fabs(t);
			}
	double worst = 0.0;
	for (size_t k = 0; k < n * d; k++) {
		double e = fabs(gz[k] - ref[k]) / mag[k];
		if (e > worst)
			worst = e;
	}
	ok(worst <= 1e-5, "%s: pullback equals the double loop A^T g (worst relative error %.2g)",
	   what, worst);
	free(g);
	free(gz);
	free(ref);
	free(mag);
}

static void check_bad(struct bbt_subspace_params sp, const char *needle, const char *what)
{
	char err[BBT_ERRLEN] = "";
	bbt_subspace_t *s = bbt_subspace_alloc(&sp, err, sizeof err);
	ok(s == NULL, "%s is rejected", what);
	like(err, needle, "%s: the message names it", what);
	bbt_subspace_free(s);
}

int main(void)
{
	plan(57);

	/* --- parameters and names --- */
	struct bbt_subspace_params dp = bbt_subspace_default_params();
	ok(dp.projection == BBT_PROJECTION_NORMAL && dp.alpha == 1.0 && dp.sigma0 == 1.0 &&
	   dp.seed == 0 && dp.p0 == NULL, "default params: normal, alpha 1, sigma0 1, seed 0");
	is_string(bbt_projection_name(BBT_PROJECTION_UNIFORM), "uniform", "projection name");
	is_int(bbt_projection_parse("normal"), BBT_PROJECTION_NORMAL, "parse normal");
	is_int(bbt_projection_parse("gaussian"), 0, "unknown projection is 0");
	{
		struct bbt_subspace_params sp = dp;
		sp.dim = 100;
		sp.embed_std = 0.3;
		sp.alpha = 2.0;
		sp.sigma0 = 0.5;
		is_double(bbt_subspace_scale(&sp), 2.0 * 0.3 / (10.0 * 0.5), 1e-15,
		          "scale = alpha * embed_std / (sqrt(d) * sigma0)");
	}

	/* --- statistics of A at the paper's d, for a small hidden size --- */
	const size_t d = 500, big_d = 50 * 64;
	const double s_rule = 0.05 / sqrt(500.0);
	double mean, sd;

	bbt_subspace_t *sn = make(d, big_d, BBT_PROJECTION_NORMAL, 42, NULL);
	ok(sn != NULL, "normal subspace d=500, D=3200");
	if (sn == NULL)
		return done_testing();
	is_int((long long)bbt_subspace_dim(sn), 500, "dim");
	is_int((long long)bbt_subspace_out_dim(sn), 3200, "out_dim");
	moments(bbt_subspace_matrix(sn), big_d * d, &mean, &sd);
	ok(fabs(sd / s_rule - 1.0) < 0.02, "normal: std %.6g within 2%% of the rule %.6g", sd, s_rule);
	ok(fabs(mean) < 0.01 * s_rule, "normal: mean %.3g near 0", mean);
	{
		/* Drawn row by row from bbt_rng(seed): the first entries of row 0
		 * and row 1 are the stream's first and (d+1)-th deviates. */
		bbt_rng_t *r = bbt_rng_alloc(42);
		const float *a = bbt_subspace_matrix(sn);
		int same = 1;
		for (size_t k = 0; k < d + 3; k++)
			same &= a[k] == (float)(s_rule * bbt_rng_normal(r));
		bbt_rng_free(r);
		ok(same, "normal: A is s * standard_normal() in row-major order");
	}

	bbt_subspace_t *su = make(d, big_d, BBT_PROJECTION_UNIFORM, 42, NULL);
	ok(su != NULL, "uniform subspace");
	if (su != NULL) {
		const float *a = bbt_subspace_matrix(su);
		moments(a, big_d * d, &mean, &sd);
		ok(fabs(sd / s_rule - 1.0) < 0.02, "uniform: std %.6g within 2%% of the rule %.6g",
		   sd, s_rule);
		ok(fabs(mean) < 0.01 * s_rule, "uniform: mean %.3g near 0", mean);
		float bound = (float)(sqrt(3.0) * s_rule), lo = 0, hi = 0;
		for (size_t k = 0; k < big_d * d; k++) {
			if (a[k] < lo)
				lo = a[k];
			if (a[k] > hi)
				hi = a[k];
		}
		ok(lo >= -bound && hi <= bound, "uniform: every entry within +-sqrt(3) s");
		ok(lo < -0.999f * bound && hi > 0.999f * bound, "uniform: and the range is used");
		bbt_rng_t *r = bbt_rng_alloc(42);
		float first = (float)(sqrt(3.0) * s_rule * (2.0 * bbt_rng_uniform(r) - 1.0));
		bbt_rng_free(r);
		ok(a[0] == first, "uniform: A[0] = sqrt(3) s (2u - 1)");
	} else {
		skip(6, "no uniform subspace");
	}
	bbt_subspace_free(su);

	/* --- determinism --- */
	{
		bbt_subspace_t *same = make(d, big_d, BBT_PROJECTION_NORMAL, 42, NULL);
		bbt_subspace_t *other = make(d, big_d, BBT_PROJECTION_NORMAL, 43, NULL);
		size_t bytes = big_d * d * sizeof(float);
		ok(same != NULL && memcmp(bbt_subspace_matrix(same), bbt_subspace_matrix(sn), bytes) == 0,
		   "same seed: bit-identical A");
		size_t differ = 0;
		if (other != NULL) {
			const float *x = bbt_subspace_matrix(other), *y = bbt_subspace_matrix(sn);
			for (size_t k = 0; k < big_d * d; k++)
				differ += x[k] != y[k];
		}
		ok(other != NULL && differ > big_d * d / 2, "different seed: a different A");
		bbt_subspace_free(same);
		bbt_subspace_free(other);
	}

	/* --- products --- */
	check_project(sn, NULL, 20, 1, "d=500 D=3200 n=20");
	check_pullback(sn, 3, 2, "d=500 D=3200 n=3");
	{
		/* <A z, g> = <z, A^T g>: project and pullback are adjoint. */
		double z[500];
		float *p = malloc(big_d * sizeof *p), *g = malloc(big_d * sizeof *g);
		double gz[500], lhs = 0.0, rhs = 0.0, mag = 0.0;
		bbt_rng_t *r = bbt_rng_alloc(5);
		for (size_t j = 0; j < d; j++)
			z[j] = bbt_rng_normal(r);
		for (size_t i = 0; i < big_d; i++)
			g[i] = (float)bbt_rng_normal(r);
		bbt_rng_free(r);
		bbt_subspace_project(sn, z, 1, p);
		bbt_subspace_pullback(sn, g, 1, gz);
		for (size_t i = 0; i < big_d; i++) {
			lhs += (double)p[i] * g[i];
			mag += fabs((double)p[i] * g[i]);
		}
		for (size_t j = 0; j < d; j++)
			rhs += z[j] * gz[j];
		ok(fabs(lhs - rhs) <= 1e-5 * mag, "<Az, g> = <z, A^T g> (%.9g vs %.9g)", lhs, rhs);
		free(p);
		free(g);
	}
	bbt_subspace_free(sn);

	/* p0: added to every row, and copied at alloc. */
	{
		const size_t dd = 40, bd = 300;
		float *p0 = malloc(bd * sizeof *p0), *p0_keep = malloc(bd * sizeof *p0_keep);
		for (size_t i = 0; i < bd; i++)
			p0[i] = p0_keep[i] = (float)(0.5 * sin((double)i));
		bbt_subspace_t *with = make(dd, bd, BBT_PROJECTION_NORMAL, 9, p0);
		bbt_subspace_t *without = make(dd, bd, BBT_PROJECTION_NORMAL, 9, NULL);
		for (size_t i = 0; i < bd; i++)
			p0[i] = 1e6f; /* the subspace must hold its own copy */
		ok(with != NULL && without != NULL, "subspaces with and without p0");
		if (with != NULL && without != NULL) {
			check_project(with, p0_keep, 7, 3, "with p0");
			double z[3 * 40];
			float pw[3 * 300], pn[3 * 300];
			for (size_t k = 0; k < 3 * dd; k++)
				z[k] = (double)k / 50.0 - 1.0;
			bbt_subspace_project(with, z, 3, pw);
			bbt_subspace_project(without, z, 3, pn);
			double worst = 0.0;
			for (size_t v = 0; v < 3; v++)
				for (size_t i = 0; i < bd; i++) {
					double e = fabs((double)pw[v * bd + i] - pn[v * bd + i] - p0_keep[i]);
					if (e > worst)
						worst = e;
				}
			ok(worst < 1e-6, "p0 is added to every candidate (worst %.2g)", worst);
			double zero[40] = { 0 };
			float pz[300];
			bbt_subspace_project(with, zero, 1, pz);
			ok(memcmp(pz, p0_keep, sizeof pz) == 0, "z = 0 projects to p0 exactly");
			check_pullback(with, 2, 4, "with p0 (pullback ignores it)");
		} else {
			skip(4, "no subspace");
		}
		bbt_subspace_free(with);
		bbt_subspace_free(without);
		free(p0);
		free(p0_keep);
	}

	/* Shapes that exercise the chunking: a pullback over more rows of A
	 * than one block (4096), and a population larger than the scratch
	 * buffer (2^20 values of z). */
	{
		bbt_subspace_t *tall = make(8, 10000, BBT_PROJECTION_UNIFORM, 11, NULL);
		ok(tall != NULL, "d=8 D=10000 subspace");
		if (tall != NULL) {
			check_pullback(tall, 5, 6, "pullback over 3 blocks of A");
			check_project(tall, NULL, 5, 7, "d=8 D=10000");
		} else {
			skip(2, "no subspace");
		}
		bbt_subspace_free(tall);

		bbt_subspace_t *wide = make(1024, 4, BBT_PROJECTION_NORMAL, 12, NULL);
		ok(wide != NULL, "d=1024 D=4 subspace");
		if (wide != NULL) {
			check_project(wide, NULL, 1100, 8, "n=1100 x d=1024, two chunks");
			check_pullback(wide, 1100, 9, "pullback n=1100, two chunks");
		} else {
			skip(2, "no subspace");
		}
		bbt_subspace_free(wide);
	}

	/* --- bad parameters --- */
	{
		struct bbt_subspace_params ok_p = bbt_subspace_default_params(), sp;
		ok_p.dim = 10;
		ok_p.out_dim = 20;
		ok_p.embed_std = 0.1;

		sp = ok_p; sp.dim = 0;
		check_bad(sp, "dim must be >= 1", "dim 0");
		sp = ok_p; sp.out_dim = 0;
		check_bad(sp, "out_dim must be >= 1", "out_dim 0");
		sp = ok_p; sp.embed_std = 0.0;
		check_bad(sp, "embed_std", "embed_std 0 (unset)");
		sp = ok_p; sp.embed_std = NAN;
		check_bad(sp, "embed_std", "embed_std NaN");
		sp = ok_p; sp.sigma0 = 0.0;
		check_bad(sp, "sigma0", "sigma0 0");
		sp = ok_p; sp.alpha = -1.0;
		check_bad(sp, "alpha", "alpha -1");
		sp = ok_p; sp.projection = (enum bbt_projection)7;
		check_bad(sp, "unknown projection", "projection 7");
		sp = ok_p; sp.dim = SIZE_MAX / 4; sp.out_dim = 2;
		check_bad(sp, "too big", "a D x d that overflows");
		sp = ok_p; sp.out_dim = (size_t)INT_MAX + 1;
		check_bad(sp, "BLAS limit", "out_dim beyond int");
		sp = ok_p; sp.dim = (size_t)INT_MAX + 1; sp.out_dim = 1;
		check_bad(sp, "BLAS limit", "dim beyond int");
		sp = ok_p; sp.dim = (size_t)1 << 20; sp.out_dim = (size_t)1 << 30;
		check_bad(sp, "out of memory", "a 4 PiB matrix");
		char err[BBT_ERRLEN] = "";
		ok(bbt_subspace_alloc(NULL, err, sizeof err) == NULL, "NULL params rejected");
	}

	bbt_subspace_free(NULL);
	ok(1, "bbt_subspace_free(NULL) is a no-op");
	return done_testing();
}
