/*
 * calibrate.c - contextual calibration and fitted label offsets.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "run/calibrate.h"

/* Most labels a task has (DBpedia: 14), bounding the Newton system. */
#define MAX_LABELS 64

/* A tiny ridge on b keeps the fit strictly convex, so a label absent from
 * the examples (whose offset would run to -inf) still gets a finite one. */
#define RIDGE 1e-4

static void softmax_row(const float *l, const double *b, size_t n_labels, double *p)
{
	double m = -INFINITY;
	for (size_t j = 0; j < n_labels; j++)
		m = fmax(m, (double)l[j] + (b ? b[j] : 0));
	double s = 0;
	for (size_t j = 0; j < n_labels; j++)
		s += p[j] = exp((double)l[j] + (b ? b[j] : 0) - m);
	for (size_t j = 0; j < n_labels; j++)
		p[j] /= s;
}

void bbt_calibrate_contextual(const float *cf, size_t n_cf, size_t n_labels, double *b)
{
	double p[MAX_LABELS], mean[MAX_LABELS] = { 0 };
	for (size_t i = 0; i < n_cf; i++) {
		softmax_row(cf + i * n_labels, NULL, n_labels, p);
		for (size_t j = 0; j < n_labels; j++)
			mean[j] += p[j] / (double)n_cf;
	}
	for (size_t j = 0; j < n_labels; j++)
		b[j] = -log(mean[j]);
}

/* Mean cross-entropy of logits + b, ridge included. */
static double objective(const float *logits, size_t n, size_t L, const int *labels,
                        const double *b)
{
	double f = 0;
	for (size_t i = 0; i < n; i++) {
		const float *l = logits + i * L;
		double m = -INFINITY, s = 0;
		for (size_t j = 0; j < L; j++)
			m = fmax(m, (double)l[j] + b[j]);
		for (size_t j = 0; j < L; j++)
			s += exp((double)l[j] + b[j] - m);
		f += m + log(s) - ((double)l[labels[i]] + b[labels[i]]);
	}
	double r = 0;
	for (size_t j = 0; j < L; j++)
		r += b[j] * b[j];
	return f / (double)n + 0.5 * RIDGE * r;
}

/* Solve H x = g in place (Gaussian elimination with partial pivoting);
 * H is symmetric positive definite here. */
static void solve(double *H, double *g, size_t n)
{
	for (size_t c = 0; c < n; c++) {
		size_t piv = c;
		for (size_t r = c + 1; r < n; r++)
			if (fabs(H[r * n + c]) > fabs(H[piv * n + c]))
				piv = r;
		for (size_t k = 0; k < n && piv != c; k++) {
			double t = H[c * n + k];
			H[c * n + k] = H[piv * n + k];
			H[piv * n + k] = t;
		}
		double t = g[c];
		g[c] = g[piv];
		g[piv] = t;
		for (size_t r = c + 1; r < n; r++) {
			double f = H[r * n + c] / H[c * n + c];
			for (size_t k = c; k < n; k++)
				H[r * n + k] -= f * H[c * n + k];
			g[r] -= f * g[c];
		}
	}
	for (size_t c = n; c-- > 0;) {
		for (size_t k = c + 1; k < n; k++)
			g[c] -= H[c * n + k] * g[k];
		g[c] /= H[c * n + c];
	}
}

int bbt_calibrate_fit(const float *logits, size_t n, size_t L, const int *labels, double *b)
{
	memset(b, 0, L * sizeof *b);
	if (n == 0 || L < 2 || L > MAX_LABELS)
		return 0;
	double p[MAX_LABELS], g[MAX_LABELS], step[MAX_LABELS], trial[MAX_LABELS];
	double *H = malloc(L * L * sizeof *H);
	if (H == NULL)
		return -1;
	double f = objective(logits, n, L, labels, b);
	int iter;
	for (iter = 1; iter <= 100; iter++) {
		memset(g, 0, L * sizeof *g);
		memset(H, 0, L * L * sizeof *H);
		for (size_t i = 0; i < n; i++) {
			softmax_row(logits + i * L, b, L, p);
			for (size_t j = 0; j < L; j++) {
				g[j] += (p[j] - (labels[i] == (int)j)) / (double)n;
				for (size_t k = 0; k < L; k++)
					H[j * L + k] += (p[j] * ((j == k) - p[k])) / (double)n;
			}
		}
		double gnorm = 0;
		for (size_t j = 0; j < L; j++) {
			g[j] += RIDGE * b[j];
			H[j * L + j] += RIDGE;
			gnorm = fmax(gnorm, fabs(g[j]));
		}
		if (gnorm < 1e-10)
			break;
		memcpy(step, g, L * sizeof *g);
		solve(H, step, L);
		/* Backtracking: Newton's full step can overshoot far from b*. */
		double t = 1, ft;
		for (;;) {
			for (size_t j = 0; j < L; j++)
				trial[j] = b[j] - t * step[j];
			ft = objective(logits, n, L, labels, trial);
			if (ft <= f || t < 1e-8)
				break;
			t *= 0.5;
		}
		if (ft > f)
			break;
		memcpy(b, trial, L * sizeof *b);
		f = ft;
	}
	free(H);
	/* Only differences matter to an arg-max or a softmax: centre b. */
	double mean = 0;
	for (size_t j = 0; j < L; j++)
		mean += b[j] / (double)L;
	for (size_t j = 0; j < L; j++)
		b[j] -= mean;
	return iter > 100 ? -1 : iter;
}

void bbt_calibrate_apply(const float *logits, size_t n, size_t L, const double *b, float *out)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < L; j++)
			out[i * L + j] = (float)((double)logits[i * L + j] + b[j]);
}
