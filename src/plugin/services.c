/*
 * services.c - the services a plugin instance sees.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>

#include "plugin/services.h"
#include "core/log.h"
#include "core/rng.h"
#include "core/util.h"

struct bbt_hostsvc {
	bbt_host_t host;          /* host.ctx points back at this struct */
	char *name;
	bbt_rng_t *rng;
	const bbt_options_t *opts;
};

static void svc_log(void *ctx, enum bbt_log_level level, const char *fmt, ...)
{
	const struct bbt_hostsvc *svc = ctx;
	va_list ap;
	va_start(ap, fmt);
	bbt_logv(level, svc->name, fmt, ap);
	va_end(ap);
}

static double svc_uniform(void *ctx)
{
	return bbt_rng_uniform(((struct bbt_hostsvc *)ctx)->rng);
}

static double svc_normal(void *ctx)
{
	return bbt_rng_normal(((struct bbt_hostsvc *)ctx)->rng);
}

static uint64_t svc_uint(void *ctx, uint64_t n)
{
	return n == 0 ? 0 : bbt_rng_uint(((struct bbt_hostsvc *)ctx)->rng, n);
}

static long svc_opt_int(void *ctx, const char *key)
{
	return bbt_options_int(((struct bbt_hostsvc *)ctx)->opts, key);
}

static double svc_opt_double(void *ctx, const char *key)
{
	return bbt_options_double(((struct bbt_hostsvc *)ctx)->opts, key);
}

static int svc_opt_bool(void *ctx, const char *key)
{
	return bbt_options_bool(((struct bbt_hostsvc *)ctx)->opts, key);
}

static const char *svc_opt_string(void *ctx, const char *key)
{
	return bbt_options_string(((struct bbt_hostsvc *)ctx)->opts, key);
}

bbt_hostsvc_t *bbt_hostsvc_alloc(const char *plugin_name, uint32_t seed, const bbt_options_t *opts)
{
	struct bbt_hostsvc *svc = calloc(1, sizeof *svc);
	if (svc == NULL)
		return NULL;
	svc->name = bbt_strdup(plugin_name);
	svc->rng = bbt_rng_alloc(seed);
	if (svc->name == NULL || svc->rng == NULL) {
		bbt_hostsvc_free(svc);
		return NULL;
	}
	svc->opts = opts;
	svc->host = (bbt_host_t){
		.ctx = svc,
		.log = svc_log,
		.rng_uniform = svc_uniform,
		.rng_normal = svc_normal,
		.rng_uint = svc_uint,
		.opt_int = svc_opt_int,
		.opt_double = svc_opt_double,
		.opt_bool = svc_opt_bool,
		.opt_string = svc_opt_string,
	};
	return svc;
}

const bbt_host_t *bbt_hostsvc_host(const bbt_hostsvc_t *svc)
{
	return &svc->host;
}

struct bbt_rng *bbt_hostsvc_rng(bbt_hostsvc_t *svc)
{
	return svc->rng;
}

void bbt_hostsvc_free(bbt_hostsvc_t *svc)
{
	if (svc == NULL)
		return;
	bbt_rng_free(svc->rng);
	free(svc->name);
	free(svc);
}
