/*
 * bbtbench/plugin.h - the one symbol a plugin exports.
 *
 * A plugin is a libtool module (one folder under plugins/<kind>/<name>/)
 * that exports exactly one symbol, BBT_PLUGIN_SYMBOL, a const descriptor:
 *
 *     #include <bbtbench/plugin.h>
 *
 *     static const struct bbt_optimizer_ops ops = {
 *         .create = create, .ask = ask, .tell = tell, .recommend = recommend,
 *         .stop_reason = stop_reason, .free = destroy,
 *     };
 *     BBT_PLUGIN_EXPORT const struct bbt_plugin bbt_plugin = {
 *         .abi_major = BBT_ABI_MAJOR, .abi_minor = BBT_ABI_MINOR,
 *         .kind = BBT_PLUGIN_OPTIMIZER,
 *         .name = "random", .version = "1.0",
 *         .description = "pure random search in a box around the origin",
 *         .options = options,
 *         .optimizer = &ops,
 *     };
 *
 * and links with `-module -avoid-version -export-symbols-regex '^bbt_plugin$'`.
 * The host refuses a module whose abi_major differs from its own (naming
 * the file and both versions); a newer abi_minor than the host's is refused
 * too, an older one is accepted: minor versions only append to the tables.
 *
 * Plugins never call exit() and never write to stdout; errors come back as
 * a negative status (bbtbench/status.h) and one line in the caller's buffer.
 */
#ifndef BBTBENCH_PLUGIN_H
#define BBTBENCH_PLUGIN_H

#include <stdint.h>
#include <bbtbench/status.h>
#include <bbtbench/host.h>
#include <bbtbench/optimizer.h>
#include <bbtbench/backend.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ABI of the structures in these headers. Major: incompatible change.
 * Minor: fields or functions appended at the end of a table.
 *   1.0  the first release
 *   1.1  bbt_backend_ops.gradient, bbt_optimizer_ops.gradient_estimate
 *   1.2  bbt_backend_ops.hidden_states (deep prompts' projection scale)
 *   1.3  bbt_optimizer_ops.save_state/load_state (--resume; bbtbench/state.h)
 *        bbt_backend_ops.transport (bytes and latency of served models) */
#define BBT_ABI_MAJOR 1
#define BBT_ABI_MINOR 3

#define BBT_PLUGIN_SYMBOL "bbt_plugin"

#if defined(__GNUC__)
#define BBT_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define BBT_PLUGIN_EXPORT
#endif

enum bbt_plugin_kind {
	BBT_PLUGIN_OPTIMIZER = 1,
	BBT_PLUGIN_BACKEND = 2,
};

struct bbt_plugin {
	uint16_t abi_major;                    /* BBT_ABI_MAJOR the plugin was built with */
	uint16_t abi_minor;                    /* BBT_ABI_MINOR the plugin was built with */
	enum bbt_plugin_kind kind;
	const char *name;                      /* what --optimizer/--backend select */
	const char *version;                   /* the plugin's own version */
	const char *description;               /* one line */
	const struct bbt_option_spec *options; /* ends in a zeroed entry; NULL: none */
	uint32_t flags;                        /* BBT_OPTIMIZER_* or BBT_BACKEND_* flags */
	const struct bbt_optimizer_ops *optimizer; /* kind == BBT_PLUGIN_OPTIMIZER */
	const struct bbt_backend_ops *backend;     /* kind == BBT_PLUGIN_BACKEND */
};

#ifdef __cplusplus
}
#endif

#endif /* BBTBENCH_PLUGIN_H */
