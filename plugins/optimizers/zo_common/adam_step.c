/*
 * adam_step.c - the Adam step (Kingma & Ba, ICLR 2015) shared by zo-adam (on
 * a finite-difference estimate) and adam (on the true gradient):
 *
 *     m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2
 *     z <- z - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 */
#include "config.h"

#include <math.h>
#include <stdio.h>

#include "zo.h"

enum { H_LR, H_BETA1, H_BETA2, H_EPS };

const char *const zo_adam_hyper_names[] = { "lr", "beta1", "beta2", "eps", NULL };

int zo_adam_configure(const bbt_host_t *host, double *hyper, char *err, size_t errlen)
{
	hyper[H_LR] = host->opt_double(host->ctx, "lr");
	hyper[H_BETA1] = host->opt_double(host->ctx, "beta1");
	hyper[H_BETA2] = host->opt_double(host->ctx, "beta2");
	hyper[H_EPS] = host->opt_double(host->ctx, "eps");
	if (!(hyper[H_LR] > 0) || !isfinite(hyper[H_LR]) || !(hyper[H_BETA1] >= 0) ||
	    !(hyper[H_BETA1] < 1) || !(hyper[H_BETA2] >= 0) || !(hyper[H_BETA2] < 1) ||
	    !(hyper[H_EPS] >= 0)) {
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "need lr > 0 (%g), beta1 and beta2 in [0, 1) (%g, %g), eps >= 0 (%g)",
		                 hyper[H_LR], hyper[H_BETA1], hyper[H_BETA2], hyper[H_EPS]);
	}
	return BBT_OK;
}

void zo_adam_step(const double *hyper, size_t t, size_t d, const double *g, double **moments,
                  double *z)
{
	double lr = hyper[H_LR], b1 = hyper[H_BETA1], b2 = hyper[H_BETA2], eps = hyper[H_EPS];
	double c1 = 1.0 - pow(b1, (double)t), c2 = 1.0 - pow(b2, (double)t);
	double *m = moments[0], *v = moments[1];
	for (size_t i = 0; i < d; i++) {
		m[i] = b1 * m[i] + (1 - b1) * g[i];
		v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
		z[i] -= lr * (m[i] / c1) / (sqrt(v[i] / c2) + eps);
	}
}
