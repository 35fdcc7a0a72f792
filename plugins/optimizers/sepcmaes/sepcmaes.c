/*
 * sepcmaes.c - the `sepcmaes` optimizer: separable CMA-ES (Ros & Hansen,
 * PPSN 2008): a diagonal covariance, O(n) time and memory per sample, for
 * dimensions where a full n x n matrix is too slow to learn or to hold.
 * The algorithm is in ../cmaes/cma_common.c, shared with `cmaes`; this file
 * is the descriptor.
 */
#include "config.h"

#include <stddef.h>

#include <bbtbench/plugin.h>

#include "../cmaes/cma_common.h"

BBT_CMA_OPS(ops, BBT_CMA_SEPARABLE);

BBT_PLUGIN_EXPORT const struct bbt_plugin bbt_plugin = {
	.abi_major = BBT_ABI_MAJOR,
	.abi_minor = BBT_ABI_MINOR,
	.kind = BBT_PLUGIN_OPTIMIZER,
	.name = "sepcmaes",
	.version = "1.0",
	.description = "separable CMA-ES: diagonal covariance, O(n) per sample (Ros & Hansen 2008)",
	.options = bbt_cma_options,
	.flags = 0,
	.optimizer = &ops,
	.backend = NULL,
};
