/*
 * zo_adam.c - the `zo-adam` optimizer: Adam (Kingma & Ba, ICLR 2015; the
 * step is in zo_common/adam_step.c) on a finite-difference estimate g of the
 * gradient (zo.h), as ZO-AdaMM (Chen et al., NeurIPS 2019) without its
 * max-normalisation.
 */
#include "config.h"

#include <bbtbench/plugin.h>

#include "../zo_common/zo.h"

/* The unit test links zo-sgd and zo-adam into one program; it renames the
 * descriptors apart. The module exports bbt_plugin. */
#ifndef ZO_ADAM_DESCRIPTOR
#define ZO_ADAM_DESCRIPTOR bbt_plugin
#endif

/* lr 0.1: the best of 0.02 .. 1 on the synthetic backend's toy task (d = 100,
 * budget 2000, seeds 1-3, see README); Adam moves about lr per coordinate
 * and step, and the useful region of the BBT subspace is a few units wide at
 * sigma0 = 1. beta1, beta2, eps: Adam's defaults (Kingma & Ba 2015). */
static const struct bbt_option_spec options[] = {
	ZO_COMMON_OPTIONS,
	ZO_ADAM_OPTIONS("0.1"),
	{ 0 },
};

static const struct zo_rule rule = {
	.name = "zo-adam",
	.n_moments = 2,
	.configure = zo_adam_configure,
	.step = zo_adam_step,
	.hyper_names = zo_adam_hyper_names,
};

ZO_OPTIMIZER_OPS(ops, rule, zo_gradient_estimate);

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
