/*
 * zo_adam.c - the `zo-adam` optimizer: Adam (Kingma & Ba, ICLR 2015) on a
 * finite-difference estimate g of the gradient (zo.h), as ZO-AdaMM (Chen et
 * al., NeurIPS 2019) without its max-normalisation:
 *
 *     m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2
 *     z <- z - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 */
#include "config.h"

#include <math.h>
#include <stdio.h>

#include <bbtbench/plugin.h>

#include "../zo_common/zo.h"

/* The unit test links zo-sgd and zo-adam into one program; it renames the
 * descriptors apart. The module exports bbt_plugin. */
#ifndef ZO_ADAM_DESCRIPTOR
#define ZO_ADAM_DESCRIPTOR bbt_plugin
#endif

enum { H_LR, H_BETA1, H_BETA2, H_EPS };

/* beta1, beta2, eps: Adam's defaults (Kingma & Ba 2015). lr 0.1: the best of
 * 0.02 .. 1 on the synthetic backend's toy task (d = 100, budget 2000, seeds
 * 1-3, see README); Adam moves about lr per coordinate and step, and the
 * useful region of the BBT subspace is a few units wide at sigma0 = 1. */
static const struct bbt_option_spec options[] = {
	ZO_COMMON_OPTIONS,
	{ "lr", BBT_OPT_DOUBLE, "0.1", NULL, 0, 1e6, "learning rate" },
	{ "beta1", BBT_OPT_DOUBLE, "0.9", NULL, 0, 1, "first-moment decay" },
	{ "beta2", BBT_OPT_DOUBLE, "0.999", NULL, 0, 1, "second-moment decay" },
	{ "eps", BBT_OPT_DOUBLE, "1e-8", NULL, 0, 1, "added to sqrt(v)" },
	{ 0 },
};

static const char *const hyper_names[] = { "lr", "beta1", "beta2", "eps", NULL };

static int adam_configure(const bbt_host_t *host, double *hyper, char *err, size_t errlen)
{
	hyper[H_LR] = host->opt_double(host->ctx, "lr");
	hyper[H_BETA1] = host->opt_double(host->ctx, "beta1");
	hyper[H_BETA2] = host->opt_double(host->ctx, "beta2");
	hyper[H_EPS] = host->opt_double(host->ctx, "eps");
	if (!(hyper[H_LR] > 0) || !isfinite(hyper[H_LR]) || !(hyper[H_BETA1] >= 0) ||
	    !(hyper[H_BETA1] < 1) || !(hyper[H_BETA2] >= 0) || !(hyper[H_BETA2] < 1) ||
	    !(hyper[H_EPS] >= 0)) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen,
			         "zo-adam: need lr > 0 (%g), beta1 and beta2 in [0, 1) (%g, %g), "
			         "eps >= 0 (%g)",
			         hyper[H_LR], hyper[H_BETA1], hyper[H_BETA2], hyper[H_EPS]);
		return BBT_EINVAL;
	}
	return BBT_OK;
}

static void adam_step(const double *hyper, size_t t, size_t d, const double *g,
                      double **moments, double *z)
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

static const struct zo_rule rule = {
	.name = "zo-adam",
	.n_moments = 2,
	.configure = adam_configure,
	.step = adam_step,
	.hyper_names = hyper_names,
};

static int adam_create(const bbt_host_t *host, const struct bbt_optimizer_params *params,
                       void **state, struct bbt_optimizer_info *info, char *err, size_t errlen)
{
	return zo_create(host, params, &rule, state, info, err, errlen);
}

static const struct bbt_optimizer_ops ops = {
	.create = adam_create,
	.ask = zo_ask,
	.tell = zo_tell,
	.recommend = zo_recommend,
	.stop_reason = zo_stop_reason,
	.stats = zo_stats,
	.free = zo_free,
};

BBT_PLUGIN_EXPORT const struct bbt_plugin ZO_ADAM_DESCRIPTOR = {
	.abi_major = BBT_ABI_MAJOR,
	.abi_minor = BBT_ABI_MINOR,
	.kind = BBT_PLUGIN_OPTIMIZER,
	.name = "zo-adam",
	.version = "1.0",
	.description = "zeroth-order Adam: Adam steps on a finite-difference gradient estimate",
	.options = options,
	.flags = 0,
	.optimizer = &ops,
	.backend = NULL,
};
