/* A second optimizer named "random": when found after the real one it is
 * skipped with a message naming both files. */
#include "config.h"

#include <bbtbench/plugin.h>

static const struct bbt_optimizer_ops ops;

BBT_PLUGIN_EXPORT const struct bbt_plugin bbt_plugin = {
	.abi_major = BBT_ABI_MAJOR,
	.abi_minor = BBT_ABI_MINOR,
	.kind = BBT_PLUGIN_OPTIMIZER,
	.name = "random",
	.version = "0",
	.description = "test module that duplicates a name",
	.optimizer = &ops,
};
