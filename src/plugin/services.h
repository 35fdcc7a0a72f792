/*
 * services.h - the services struct (bbtbench/host.h) behind one plugin
 * instance: log lines prefixed with the plugin's name, the instance's own
 * random stream and its resolved options.
 */
#ifndef BBT_HOSTSVC_H
#define BBT_HOSTSVC_H

#include <stdint.h>
#include <bbtbench/host.h>
#include "plugin/options.h"

typedef struct bbt_hostsvc bbt_hostsvc_t;

/* `opts` is borrowed and must outlive the services. NULL on out of memory. */
bbt_hostsvc_t *bbt_hostsvc_alloc(const char *plugin_name, uint32_t seed, const bbt_options_t *opts);
const bbt_host_t *bbt_hostsvc_host(const bbt_hostsvc_t *svc);
void bbt_hostsvc_free(bbt_hostsvc_t *svc);

/* The instance's random stream, for a run's checkpoint (get/set state). */
struct bbt_rng *bbt_hostsvc_rng(bbt_hostsvc_t *svc);

#endif /* BBT_HOSTSVC_H */
