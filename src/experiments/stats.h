/*
 * stats.h - the statistics of results tables and plots: mean and sample
 * standard deviation, quantiles, a bootstrap interval of the mean, and the
 * Wilcoxon signed-rank test, on GSL's statistics, sorting, random numbers
 * and normal distribution.
 *
 * Wilcoxon signed-rank test of paired differences d_i (x_i - y_i):
 *   - zero differences are dropped (Wilcoxon's original convention;
 *     scipy's zero_method="wilcox");
 *   - |d_i| are ranked, ties getting the mean of their ranks (mid-ranks);
 *     values within a relative 1e-9 are ties (differences of accuracies
 *     computed in floating point differ in the last bits);
 *   - T+ is the sum of the ranks of the positive differences;
 *   - exact p-value for n <= BBT_WILCOXON_EXACT_MAX non-zero differences:
 *     the distribution of T+ over all 2^n sign patterns of the actual
 *     (mid-)ranks, counted by dynamic programming on doubled ranks (which
 *     are integers), so it stays exact with ties;
 *   - beyond that, the normal approximation with the tie correction of the
 *     variance and a continuity correction of 1/2 (GSL's normal tail; the
 *     formula and its textbook in stats.c);
 *   - two-sided: p = min(1, 2 min(P(T+ <= t), P(T+ >= t))).
 * Example: d = 1, 2, 3, 4, 5 gives T+ = 15, P(T+ >= 15) = 1/32, p = 0.0625,
 * the smallest p five pairs can give: with five seeds nothing is
 * significant at 0.05.
 */
#ifndef BBT_STATS_H
#define BBT_STATS_H

#include <stddef.h>

#define BBT_WILCOXON_EXACT_MAX 25

/* Mean and sample standard deviation (n - 1); std is NaN when n < 2,
 * both NaN when n == 0. */
void bbt_stats_mean_std(const double *x, size_t n, double *mean, double *std);

/* The q-quantile (0..1) of x[0..n), sorted ascending, by linear
 * interpolation between order statistics (R's type 7, numpy's default);
 * NaN when n == 0 or q is outside [0, 1]. */
double bbt_stats_quantile_sorted(const double *x, size_t n, double q);

/* Two-sided p-value of the signed-rank test of d[0..n); *n_used gets the
 * number of non-zero differences (p = 1 when none) and *exact whether the
 * exact distribution was used. 0 or BBT_ENOMEM. */
int bbt_stats_wilcoxon(const double *d, size_t n, double *p, size_t *n_used, int *exact);

/* Percentile bootstrap interval of the mean of x[0..n) (Efron &
 * Tibshirani, An Introduction to the Bootstrap, 1993, ch. 13): the means
 * of `resamples` resamples with replacement, drawn by GSL's mt19937 seeded
 * with `seed` (the same x and seed give the same interval), and [lo, hi]
 * their (1 - level)/2 and (1 + level)/2 quantiles. Both NaN when n < 2.
 * With few values it is too narrow: 2 values give at most 3 distinct
 * resampled means. 0 or BBT_ENOMEM. */
int bbt_stats_bootstrap_mean_ci(const double *x, size_t n, double level, size_t resamples,
                                unsigned long seed, double *lo, double *hi);

/* The smallest p that test can give with n non-zero differences, whatever
 * their values: all of one sign, and beyond BBT_WILCOXON_EXACT_MAX all
 * tied (the tie correction shrinks the variance most). 1 when n < 2. */
double bbt_stats_wilcoxon_min_p(size_t n);

#endif /* BBT_STATS_H */
