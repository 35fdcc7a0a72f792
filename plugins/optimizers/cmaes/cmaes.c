/*
 * cmaes.c - the `cmaes` optimizer: CMA-ES with a full covariance matrix,
 * BBT's optimizer (Sun et al., ICML 2022). The algorithm is in
 * cma_common.c, shared with `sepcmaes`; this file is the descriptor.
 */
#include "config.h"

#include <stddef.h>

#include <bbtbench/plugin.h>

#include "cma_common.h"

BBT_CMA_OPS(ops, BBT_CMA_FULL);

BBT_PLUGIN_EXPORT const struct bbt_plugin bbt_plugin = {
	.abi_major = BBT_ABI_MAJOR,
	.abi_minor = BBT_ABI_MINOR,
	.kind = BBT_PLUGIN_OPTIMIZER,
	.name = "cmaes",
	.version = "1.0",
	.description = "CMA-ES, full covariance (Hansen's tutorial, pycma defaults)",
	.options = bbt_cma_options,
	.flags = 0,
	.optimizer = &ops,
	.backend = NULL,
};
