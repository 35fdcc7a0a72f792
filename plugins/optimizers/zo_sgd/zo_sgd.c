/*
 * zo_sgd.c - the `zo-sgd` optimizer: gradient descent on a finite-difference
 * estimate of the gradient (zo.h), with optional heavy-ball momentum:
 *
 *     v <- momentum * v + g,   z <- z - lr * v
 *
 * (PyTorch's SGD form without dampening; momentum 0 is plain ZO-SGD,
 * Ghadimi & Lan 2013, "Stochastic first- and zeroth-order methods for
 * nonconvex stochastic programming").
 */
#include "config.h"

#include <math.h>
#include <stdio.h>

#include <bbtbench/plugin.h>

#include "../zo_common/zo.h"

/* The unit test links zo-sgd and zo-adam into one program; it renames the
 * descriptors apart. The module exports bbt_plugin. */
#ifndef ZO_SGD_DESCRIPTOR
#define ZO_SGD_DESCRIPTOR bbt_plugin
#endif

enum { H_LR, H_MOMENTUM };

/* lr 1: the best of 0.02 .. 5 on the synthetic backend's toy task (d = 100,
 * budget 2000, seeds 1-3, see README); no paper gives a step for the BBT
 * subspace, where the loss changes little per unit of z (A is scaled so
 * that z ~ N(0, I) gives prompts at the embeddings' scale). */
static const struct bbt_option_spec options[] = {
	ZO_COMMON_OPTIONS,
	{ "lr", BBT_OPT_DOUBLE, "1", NULL, 0, 1e6, "learning rate eta" },
	{ "momentum", BBT_OPT_DOUBLE, "0", NULL, 0, 1, "heavy-ball momentum (0: plain SGD)" },
	{ 0 },
};

static const char *const hyper_names[] = { "lr", "momentum", NULL };

static int sgd_configure(const bbt_host_t *host, double *hyper, char *err, size_t errlen)
{
	hyper[H_LR] = host->opt_double(host->ctx, "lr");
	hyper[H_MOMENTUM] = host->opt_double(host->ctx, "momentum");
	if (!(hyper[H_LR] > 0) || !isfinite(hyper[H_LR]) || !(hyper[H_MOMENTUM] >= 0) ||
	    !(hyper[H_MOMENTUM] < 1)) {
		return bbt_error(err, errlen, BBT_EINVAL,
		                 "zo-sgd: lr %g must be > 0 and momentum %g in [0, 1)",
		                 hyper[H_LR], hyper[H_MOMENTUM]);
	}
	return BBT_OK;
}

static void sgd_step(const double *hyper, size_t t, size_t d, const double *g,
                     double **moments, double *z)
{
	(void)t;
	double lr = hyper[H_LR], beta = hyper[H_MOMENTUM];
	double *v = moments[0];
	for (size_t i = 0; i < d; i++) {
		v[i] = beta * v[i] + g[i];
		z[i] -= lr * v[i];
	}
}

static const struct zo_rule rule = {
	.name = "zo-sgd",
	.n_moments = 1,
	.configure = sgd_configure,
	.step = sgd_step,
	.hyper_names = hyper_names,
};

ZO_OPTIMIZER_OPS(ops, rule, zo_gradient_estimate);

BBT_PLUGIN_EXPORT const struct bbt_plugin ZO_SGD_DESCRIPTOR = {
	.abi_major = BBT_ABI_MAJOR,
	.abi_minor = BBT_ABI_MINOR,
	.kind = BBT_PLUGIN_OPTIMIZER,
	.name = "zo-sgd",
	.version = "1.0",
	.description = "zeroth-order SGD: finite-difference gradient along q random directions",
	.options = options,
	.flags = 0,
	.optimizer = &ops,
	.backend = NULL,
};
