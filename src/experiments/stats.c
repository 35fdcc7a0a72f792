/*
 * stats.c - mean, standard deviation, quantiles, bootstrap interval,
 * Wilcoxon signed-rank.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include <bbtbench/status.h>
#include "experiments/stats.h"

void bbt_stats_mean_std(const double *x, size_t n, double *mean, double *std)
{
	/* GSL's mean is a running mean and its sd the two-pass sum of squares
	 * about it, not E[x^2] - m^2, which cancels badly for accuracies close
	 * together. Neither can fail; GSL leaves n = 0 and n = 1 undefined. */
	*mean = n ? gsl_stats_mean(x, 1, n) : NAN;
	*std = n >= 2 ? gsl_stats_sd_m(x, 1, n, *mean) : NAN;
}

int bbt_stats_bootstrap_mean_ci(const double *x, size_t n, double level, size_t resamples,
                                unsigned long seed, double *lo, double *hi)
{
	*lo = *hi = NAN;
	if (n < 2 || resamples == 0)
		return BBT_OK;
	double *resample = malloc(n * sizeof *resample);
	double *means = malloc(resamples * sizeof *means);
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);  /* NULL when out of memory */
	int rc = BBT_ENOMEM;
	if (resample != NULL && means != NULL && rng != NULL) {
		gsl_rng_set(rng, seed);
		for (size_t b = 0; b < resamples; b++) {
			/* n < 2^32, mt19937's range: uniform_int cannot fail. */
			for (size_t i = 0; i < n; i++)
				resample[i] = x[gsl_rng_uniform_int(rng, n)];
			means[b] = gsl_stats_mean(resample, 1, n);
		}
		gsl_sort(means, 1, resamples);
		*lo = bbt_stats_quantile_sorted(means, resamples, (1 - level) / 2);
		*hi = bbt_stats_quantile_sorted(means, resamples, (1 + level) / 2);
		rc = BBT_OK;
	}
	free(resample);
	free(means);
	gsl_rng_free(rng);
	return rc;
}

double bbt_stats_quantile_sorted(const double *x, size_t n, double q)
{
	/* GSL calls its error handler for q outside [0, 1] and returns 0,
	 * a plausible number; NaN cannot be mistaken for a quantile. */
	if (n == 0 || !(q >= 0 && q <= 1))
		return NAN;
	return gsl_stats_quantile_from_sorted_data(x, 1, n, q);
}

/* Two-sided p of T+ = t among n ranks by the large-sample approximation
 * of Hollander, Wolfe & Chicken, Nonparametric Statistical Methods, 3rd ed.
 * (Wiley, 2014), sec. 3.1, "Large-Sample Approximation" and "Ties":
 *   E[T+] = n(n+1)/4,
 *   Var[T+] = [n(n+1)(2n+1) - 1/2 sum_j (t_j - 1) t_j (t_j + 1)] / 24
 * (tie_term is that sum, t_j the size of tie group j), T+ moved 1/2
 * towards its mean before standardising (the continuity correction, as
 * R's wilcox.test(correct = TRUE)); p = 2 Q(z). Q cannot fail. */
static double normal_p(double n, double t, double tie_term)
{
	double mean = n * (n + 1) / 4;
	double var = (n * (n + 1) * (2 * n + 1) - tie_term / 2) / 24;
	double z = (fabs(t - mean) - 0.5) / sqrt(var);
	return 2 * gsl_cdf_ugaussian_Q(z > 0 ? z : 0);
}

int bbt_stats_wilcoxon(const double *d, size_t n, double *p, size_t *n_used, int *exact)
{
	size_t cap = n ? n : 1;
	double *a = malloc(cap * sizeof *a);        /* |d_i| of the non-zero d_i */
	double *sign = malloc(cap * sizeof *sign);  /* their signs, +1 or -1 */
	unsigned *r2 = malloc(cap * sizeof *r2);    /* their doubled mid-ranks */
	double *count = NULL;
	int rc = BBT_OK;
	if (a == NULL || sign == NULL || r2 == NULL) {
		rc = BBT_ENOMEM;
		goto out;
	}
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (d[i] != 0) {
			a[m] = fabs(d[i]);
			sign[m++] = d[i] > 0 ? 1 : -1;
		}
	*n_used = m;
	*exact = m <= BBT_WILCOXON_EXACT_MAX;
	*p = 1;
	if (m == 0)
		goto out;
	gsl_sort2(a, 1, sign, 1, m);  /* the signs follow their magnitudes */
	/* Ranks 1..m; a tie group i..j-1 gets (i+1 + j)/2, doubled i+1+j. */
	unsigned long t2 = 0, total2 = 0;
	double tie_term = 0;  /* sum of (t^3 - t) over tie groups */
	for (size_t i = 0; i < m;) {
		size_t j = i + 1;
		/* Equal up to rounding: 0.85 - 0.84 and 0.80 - 0.79 are one tie. */
		while (j < m && a[j] - a[i] <= 1e-9 * a[j])
			j++;
		for (size_t k = i; k < j; k++) {
			r2[k] = (unsigned)(i + 1 + j);
			total2 += r2[k];
			if (sign[k] > 0)
				t2 += r2[k];
		}
		double t = (double)(j - i);
		tie_term += t * t * t - t;
		i = j;
	}
	double pv;
	if (*exact) {
		/* count[s]: sign patterns whose doubled T+ is s; at most 2^25,
		 * exact in a double. */
		count = calloc(total2 + 1, sizeof *count);
		if (count == NULL) {
			rc = BBT_ENOMEM;
			goto out;
		}
		count[0] = 1;
		unsigned long reach = 0;
		for (size_t k = 0; k < m; k++) {
			reach += r2[k];
			for (unsigned long s = reach; s >= r2[k]; s--)
				count[s] += count[s - r2[k]];
		}
		double lower = 0, upper = 0, all = ldexp(1.0, (int)m);
		for (unsigned long s = 0; s <= total2; s++) {
			if (s <= t2)
				lower += count[s];
			if (s >= t2)
				upper += count[s];
		}
		pv = 2 * fmin(lower, upper) / all;
	} else {
		pv = normal_p((double)m, (double)t2 / 2, tie_term);
	}
	*p = pv > 1 ? 1 : pv;
out:
	free(a);
	free(sign);
	free(r2);
	free(count);
	return rc;
}

double bbt_stats_wilcoxon_min_p(size_t n)
{
	if (n < 2)
		return 1;
	if (n <= BBT_WILCOXON_EXACT_MAX)
		return ldexp(1.0, 1 - (int)n);  /* all positive, or all negative */
	double dn = (double)n;
	return normal_p(dn, dn * (dn + 1) / 2, dn * dn * dn - dn);
}
