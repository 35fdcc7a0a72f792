/*
 * adam.c - the `adam` optimizer: Adam (Kingma & Ba, ICLR 2015) on the true
 * gradient of the training loss with respect to z, which the host gets
 * from a backend that holds the model (bbt_backend_ops.gradient) and
 * pulls back through the projection (grad_z = A^T grad_p).
 *
 * This is the white-box reference of BBT's "CMA-ES vs. Adam" ablation
 * (Sun et al., ICML 2022, Sec. 4.4), where Adam backpropagates through the
 * model: one step is one gradient evaluation over the whole training
 * batch, counted as one API call. The step is zo-adam's (adam_step.c); the
 * gradient is exact instead of estimated.
 */
#include "config.h"

#include <bbtbench/plugin.h>

#include "../zo_common/zo.h"

/* lr 1e-3: Adam's default (Kingma & Ba 2015), as the white-box runs of the
 * BBT ablation use. */
static const struct bbt_option_spec options[] = {
	ZO_ADAM_OPTIONS("1e-3"),
	{ 0 },
};

static const struct zo_rule rule = {
	.name = "adam",
	.first_order = 1,
	.n_moments = 2,
	.configure = zo_adam_configure,
	.step = zo_adam_step,
	.hyper_names = zo_adam_hyper_names,
};

ZO_OPTIMIZER_OPS(ops, rule, NULL);

BBT_PLUGIN_EXPORT const struct bbt_plugin bbt_plugin = {
	.abi_major = BBT_ABI_MAJOR,
	.abi_minor = BBT_ABI_MINOR,
	.kind = BBT_PLUGIN_OPTIMIZER,
	.name = "adam",
	.version = "1.0",
	.description = "white-box Adam on the true gradient (backends with gradients only)",
	.options = options,
	.flags = BBT_OPTIMIZER_WANTS_GRADIENT,
	.optimizer = &ops,
	.backend = NULL,
};
