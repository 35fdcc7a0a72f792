/*
 * stats.c - mean, standard deviation, quantiles, Wilcoxon signed-rank.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include <bbtbench/status.h>
#include "stats.h"

void bbt_stats_mean_std(const double *x, size_t n, double *mean, double *std)
{
	double m = 0, ss = 0;
	for (size_t i = 0; i < n; i++)
		m += x[i];
	m = n ? m / (double)n : NAN;
	/* Two passes: the sum of squares about the mean, not E[x^2] - m^2,
	 * which cancels badly for accuracies close together. */
	for (size_t i = 0; i < n; i++)
		ss += (x[i] - m) * (x[i] - m);
	*mean = m;
	*std = n >= 2 ? sqrt(ss / (double)(n - 1)) : NAN;
}

double bbt_stats_quantile_sorted(const double *x, size_t n, double q)
{
	if (n == 0)
		return NAN;
	double h = q * (double)(n - 1);
	size_t lo = (size_t)floor(h);
	if (lo >= n - 1)
		return x[n - 1];
	return x[lo] + (h - (double)lo) * (x[lo + 1] - x[lo]);
}

struct absd {
	double a;
	int positive;
};

static int cmp_absd(const void *pa, const void *pb)
{
	double a = ((const struct absd *)pa)->a, b = ((const struct absd *)pb)->a;
	return (a > b) - (a < b);
}

int bbt_stats_wilcoxon(const double *d, size_t n, double *p, size_t *n_used, int *exact)
{
	struct absd *v = malloc((n ? n : 1) * sizeof *v);
	unsigned *r2 = malloc((n ? n : 1) * sizeof *r2);  /* doubled mid-ranks */
	if (v == NULL || r2 == NULL) {
		free(v);
		free(r2);
		return BBT_ENOMEM;
	}
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (d[i] != 0)
			v[m++] = (struct absd){ fabs(d[i]), d[i] > 0 };
	*n_used = m;
	*exact = m <= BBT_WILCOXON_EXACT_MAX;
	if (m == 0) {
		*p = 1;
		free(v);
		free(r2);
		return BBT_OK;
	}
	qsort(v, m, sizeof *v, cmp_absd);
	/* Ranks 1..m; a tie group i..j-1 gets (i+1 + j)/2, doubled i+1+j. */
	unsigned long t2 = 0, total2 = 0;
	double tie_term = 0;  /* sum of (t^3 - t) over tie groups */
	for (size_t i = 0; i < m;) {
		size_t j = i + 1;
		/* Equal up to rounding: 0.85 - 0.84 and 0.80 - 0.79 are one tie. */
		while (j < m && v[j].a - v[i].a <= 1e-9 * v[j].a)
			j++;
		for (size_t k = i; k < j; k++) {
			r2[k] = (unsigned)(i + 1 + j);
			total2 += r2[k];
			if (v[k].positive)
				t2 += r2[k];
		}
		double t = (double)(j - i);
		tie_term += t * t * t - t;
		i = j;
	}
	if (*exact) {
		/* count[s]: sign patterns whose doubled T+ is s; at most 2^25,
		 * exact in a double. */
		double *count = calloc(total2 + 1, sizeof *count);
		if (count == NULL) {
			free(v);
			free(r2);
			return BBT_ENOMEM;
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
		double pv = 2 * fmin(lower, upper) / all;
		*p = pv > 1 ? 1 : pv;
		free(count);
	} else {
		double dm = (double)m;
		double mean = dm * (dm + 1) / 4;
		double var = dm * (dm + 1) * (2 * dm + 1) / 24 - tie_term / 48;
		double t = (double)t2 / 2;
		double z = (fabs(t - mean) - 0.5) / sqrt(var);
		if (z < 0)
			z = 0;
		double pv = erfc(z / sqrt(2.0));
		*p = pv > 1 ? 1 : pv;
	}
	free(v);
	free(r2);
	return BBT_OK;
}
