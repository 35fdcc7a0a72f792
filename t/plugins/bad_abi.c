/* A module built for a future plugin ABI: the registry must refuse it and
 * name both versions. */
#include "config.h"

#include <bbtbench/plugin.h>

static const struct bbt_optimizer_ops ops;

BBT_PLUGIN_EXPORT const struct bbt_plugin bbt_plugin = {
	.abi_major = BBT_ABI_MAJOR + 1,
	.abi_minor = 0,
	.kind = BBT_PLUGIN_OPTIMIZER,
	.name = "future",
	.version = "0",
	.description = "test module with the wrong ABI",
	.optimizer = &ops,
};
