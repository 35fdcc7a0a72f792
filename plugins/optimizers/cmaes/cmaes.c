/*
 * cmaes.c - the `cmaes` optimizer: CMA-ES with a full covariance matrix,
 * BBT's optimizer (Sun et al., ICML 2022). The algorithm is in
 * cma_common.c, shared with `sepcmaes`; this file is the descriptor.
 */
#include "config.h"

#include <stddef.h>

#include <bbtbench/plugin.h>

#include "cma_common.h"

static int cmaes_create(const bbt_host_t *host, const struct bbt_optimizer_params *params,
                        void **state, struct bbt_optimizer_info *info,
                        char *err, size_t errlen)
{
	return bbt_cma_create(host, params, BBT_CMA_FULL, state, info, err, errlen);
}

static const struct bbt_optimizer_ops ops = {
	.create = cmaes_create,
	.ask = bbt_cma_ask,
	.tell = bbt_cma_tell,
	.recommend = bbt_cma_recommend,
	.stop_reason = bbt_cma_stop_reason,
	.stats = bbt_cma_stats,
	.free = bbt_cma_free,
};

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
