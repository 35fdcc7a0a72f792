/*
 * t/stats.c - mean/std, quantiles and the Wilcoxon signed-rank test
 * against values computed by hand (by enumerating the 2^n sign patterns)
 * and by an independent Python script (see below).
 */
#include "config.h"

#include <math.h>

#include <gsl/gsl_errno.h>

#include "experiments/stats.h"
#include "tap.h"

static double wilcoxon(const double *d, size_t n, size_t *used, int *exact)
{
	double p = NAN;
	bbt_stats_wilcoxon(d, n, &p, used, exact);
	return p;
}

int main(void)
{
	/* As main() does: GSL's default handler aborts the process. */
	gsl_set_error_handler_off();
	plan(39);
	double mean, sd;
	const double x[] = { 0.80, 0.82, 0.84, 0.86, 0.88, 0.90 };
	bbt_stats_mean_std(x, 6, &mean, &sd);
	is_double(mean, 0.85, 1e-12, "mean");
	is_double(sd, sqrt(0.0014), 1e-12, "sample std: sqrt(sum of squares / (n - 1))");
	bbt_stats_mean_std(x, 1, &mean, &sd);
	ok(mean == 0.80 && isnan(sd), "one value: no std");
	bbt_stats_mean_std(x, 0, &mean, &sd);
	ok(isnan(mean), "no value: no mean");

	const double q[] = { 1, 2, 3, 4, 5 };
	is_double(bbt_stats_quantile_sorted(q, 5, 0.5), 3, 0, "median");
	is_double(bbt_stats_quantile_sorted(q, 5, 0.25), 2, 0, "first quartile");
	is_double(bbt_stats_quantile_sorted(q, 4, 0.5), 2.5, 1e-15, "median of four: interpolated");
	is_double(bbt_stats_quantile_sorted(q, 4, 0.75), 3.25, 1e-15, "type-7 third quartile");
	ok(isnan(bbt_stats_quantile_sorted(q, 5, 1.5)), "q > 1: NaN, not a number GSL made up");
	ok(isnan(bbt_stats_quantile_sorted(q, 5, -0.5)), "q < 0: NaN");

	size_t used;
	int exact;
	/* All five positive: T+ = 15, P(T+ >= 15) = 1/32, p = 2/32. */
	const double d1[] = { 1, 2, 3, 4, 5 };
	is_double(wilcoxon(d1, 5, &used, &exact), 0.0625, 1e-15, "n=5, all positive: p = 2/32");
	ok(used == 5 && exact, "exact, 5 pairs");
	/* T- = 1: patterns with T- <= 1 are {} and {1}: p = 2 * 2/64. */
	const double d2[] = { -1, 2, 3, 4, 5, 6 };
	is_double(wilcoxon(d2, 6, &used, &exact), 0.0625, 1e-15, "n=6, one small negative");
	const double d3[] = { -1, -2, -3, -4, -5, -6 };
	is_double(wilcoxon(d3, 6, &used, &exact), 0.03125, 1e-15, "n=6, all negative: p = 2/64");
	/* Ties: ranks 1.5, 1.5, 3, 4, all positive: p = 2/16. */
	const double d4[] = { 1, 1, 2, 3 };
	is_double(wilcoxon(d4, 4, &used, &exact), 0.125, 1e-15, "tied ranks, all positive");
	/* Zero dropped; n=7, T- = 3: {}, {1}, {2}, {3}, {1,2}: p = 2 * 5/128. */
	const double d5[] = { 0, 1, 2, -3, 4, 5, 6, 7 };
	is_double(wilcoxon(d5, 8, &used, &exact), 0.078125, 1e-15, "a zero difference dropped");
	is_int(used, 7, "seven non-zero differences used");
	/* Ties in floating point: 0.02 from two subtractions. T+ = 1 of
	 * doubled ranks 2,5,5,8,10: patterns with sum <= 2: {} and {2}. */
	const double d6[] = { 0.70 - 0.70, 0.70 - 0.72, 0.72 - 0.74, 0.72 - 0.76, 0.79 - 0.78,
		                  0.75 - 0.80 };
	is_double(wilcoxon(d6, 6, &used, &exact), 0.125, 1e-15, "ties and a zero from subtractions");
	const double d7[] = { 0, 0 };
	is_double(wilcoxon(d7, 2, &used, &exact), 1, 0, "all zero: p = 1");
	/* Symmetric: p = 1 at most. */
	const double d8[] = { -1, 1 };
	is_double(wilcoxon(d8, 2, &used, &exact), 1, 0, "p capped at 1");

	/* Reference values below come from an independent Python 3 script
	 * (the standard library only; scipy was not installed): mid-ranks by
	 * sorting, the exact distribution of T+ over Fraction mid-ranks (for
	 * n = 12 also by brute force over the 4096 sign patterns), and the
	 * normal approximation from statistics.NormalDist with the tie and
	 * continuity corrections of Hollander, Wolfe & Chicken, sec. 3.1. */
	const double d12[] = { 3, -1, 4, -1.5, 5, 9, -2, 6, 5.5, 3.5, -5.8, 9.7 };
	is_double(wilcoxon(d12, 12, &used, &exact), 131.0 / 2048, 1e-15,
	          "n=12, mixed signs: exact p = 131/2048 (Python, brute force)");
	/* 25 pairs, twelve pairs of tied magnitudes, every third negative. */
	const double d25[] = { -1, 1, 2, -2, 3, 3, -4, 4, 5, -5, 6, 6, -7, 7, 8, -8, 9, 9,
		                   -10, 10, 11, -11, 12, 12, -13 };
	is_double(wilcoxon(d25, 25, &used, &exact), 1916121.0 / 8388608, 1e-15,
	          "n=25 with ties: exact p = 1916121/8388608 (Python, Fractions)");
	ok(used == 25 && exact, "25 pairs: still exact");
	/* All 25 positive: 2 / 2^25. */
	double big[30];
	for (int i = 0; i < 30; i++)
		big[i] = i + 1;
	is_double(wilcoxon(big, 25, &used, &exact), 2.0 / 33554432.0, 1e-20,
	          "25 pairs, all positive: p = 2/2^25");
	/* Beyond 25 pairs: the normal approximation. */
	double p = wilcoxon(big, 30, &used, &exact);
	ok(!exact, "30 pairs: normal approximation");
	is_double(p, 1.825371456321001e-06, 1e-9 * p, "30 positive: p (Python NormalDist)");
	double d26[26];
	for (int i = 0; i < 26; i++)
		d26[i] = i == 0 || i == 4 ? -(i + 1) : i + 1;
	p = wilcoxon(d26, 26, &used, &exact);
	ok(used == 26 && !exact, "26 pairs: the first approximated");
	is_double(p, 1.768651436773183e-05, 1e-9 * p, "26 pairs, two negative (Python NormalDist)");
	/* 40 pairs in tied triples 1,1,1, 2,2,2, ..., every fourth negative:
	 * without the tie correction p would be 0.004863. */
	double d40[40];
	for (int i = 0; i < 40; i++)
		d40[i] = (i % 4 == 1 ? -1 : 1) * (double)(i / 3 + 1);
	p = wilcoxon(d40, 40, &used, &exact);
	is_double(p, 0.004838303669616462, 1e-9 * p, "40 pairs in tied triples (Python NormalDist)");

	/* The smallest p n differences can give: 2/2^n while exact; beyond,
	 * n positive ties (Python NormalDist: 3.68610541756631e-07 for 26,
	 * against 8.803669768853162e-06 for 1..26 untied). */
	is_double(bbt_stats_wilcoxon_min_p(2), 0.5, 0, "2 pairs: p >= 0.5");
	is_double(bbt_stats_wilcoxon_min_p(1), 1, 0, "1 pair: p = 1");
	is_double(bbt_stats_wilcoxon_min_p(5), 0.0625, 0, "5 pairs: p >= 2/32");
	p = bbt_stats_wilcoxon_min_p(26);
	is_double(p, 3.68610541756631e-07, 1e-9 * p, "26 pairs: all tied and positive");

	/* Bootstrap: x = {0, 1} resamples to means 0, 1/2, 1 with probability
	 * 1/4, 1/2, 1/4, so the 2.5% and 97.5% quantiles are 0 and 1. */
	double lo, hi, lo2, hi2;
	const double x01[] = { 0, 1 };
	ok(bbt_stats_bootstrap_mean_ci(x01, 2, 0.95, 10000, 1, &lo, &hi) == 0, "bootstrap runs");
	ok(lo == 0 && hi == 1, "{0, 1}: [0, 1]");
	bbt_stats_bootstrap_mean_ci(x, 6, 0.95, 10000, 1, &lo, &hi);
	ok(x[0] < lo && lo < 0.85 && 0.85 < hi && hi < x[5], "six values: min < lo < mean < hi < max");
	bbt_stats_bootstrap_mean_ci(x, 6, 0.95, 10000, 1, &lo2, &hi2);
	ok(lo2 == lo && hi2 == hi, "the same seed, the same interval");
	const double same[] = { 0.8, 0.8, 0.8 };
	bbt_stats_bootstrap_mean_ci(same, 3, 0.95, 1000, 7, &lo, &hi);
	ok(lo == 0.8 && hi == 0.8, "equal values: a point");
	bbt_stats_bootstrap_mean_ci(x, 1, 0.95, 1000, 1, &lo, &hi);
	ok(isnan(lo) && isnan(hi), "one value: no interval");
	return done_testing();
}
