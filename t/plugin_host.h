/*
 * plugin_host.h - the host's real services for a plugin compiled into a
 * test program: its option table resolved with "key=value" overrides
 * (src/options.c, the same checks as -O on the command line) and a
 * bbt_hostsvc (src/host.c) for its log, random stream and options.
 *
 *     #include "plugin_host.h"
 *     extern const struct bbt_plugin bbt_plugin;
 *     struct plugin_host ph = { 0 };
 *     const char *over[] = { "radius=0.1", NULL };
 *     const bbt_host_t *h = plugin_host_init(&ph, &bbt_plugin, 42, over);
 *     ... bbt_plugin.optimizer->create(h, ...); h->rng_normal(h->ctx) ...
 *     plugin_host_release(&ph);   (after the plugin instance is freed)
 *
 * Header-only, like tap.h; the program links libbbthost.
 */
#ifndef BBT_T_PLUGIN_HOST_H
#define BBT_T_PLUGIN_HOST_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bbtbench/plugin.h>

#include "host.h"
#include "options.h"
#include "tap.h"
#include "util.h"

struct plugin_host {
	bbt_options_t *opts;
	bbt_hostsvc_t *svc;
};

/* Free what plugin_host_init made; safe on a zeroed or released struct. */
TAP_FN void plugin_host_release(struct plugin_host *ph)
{
	bbt_hostsvc_free(ph->svc);
	bbt_options_free(ph->opts);
	ph->svc = NULL;
	ph->opts = NULL;
}

/* The plugin's options (its defaults, then `over`, a NULL-terminated list
 * of "key=value", may be NULL) and a host whose random stream is seeded
 * with `seed`. NULL, with a diag(), on a malformed, unknown or out-of-range
 * override or out of memory; `ph` is then zeroed. The host stays valid
 * until plugin_host_release(ph). */
TAP_FN const bbt_host_t *plugin_host_init(struct plugin_host *ph, const struct bbt_plugin *plugin,
                                          uint32_t seed, const char *const *over)
{
	bbt_kvlist_t given = { 0 };
	char err[BBT_ERRLEN] = "";
	int rc = BBT_OK;

	memset(ph, 0, sizeof *ph);
	for (; rc == BBT_OK && over != NULL && *over != NULL; over++) {
		const char *eq = strchr(*over, '=');
		char *key;
		if (eq == NULL || eq == *over) {
			diag("plugin_host: override '%s' is not key=value", *over);
			rc = BBT_EINVAL;
		} else if ((key = bbt_strndup(*over, (size_t)(eq - *over))) == NULL) {
			rc = BBT_ENOMEM;
		} else {
			rc = bbt_kvlist_set(&given, key, eq + 1, "test");
			free(key);
		}
	}
	if (rc == BBT_OK) {
		rc = bbt_options_resolve(plugin->options, plugin->name, &given, &ph->opts, err,
		                         sizeof err);
		if (rc < 0)
			diag("plugin_host: %s", err);
	}
	bbt_kvlist_clear(&given);
	if (rc == BBT_OK && (ph->svc = bbt_hostsvc_alloc(plugin->name, seed, ph->opts)) == NULL)
		rc = BBT_ENOMEM;
	if (rc == BBT_ENOMEM)
		diag("plugin_host: out of memory");
	if (rc != BBT_OK) {
		plugin_host_release(ph);
		return NULL;
	}
	return bbt_hostsvc_host(ph->svc);
}

#endif /* BBT_T_PLUGIN_HOST_H */
