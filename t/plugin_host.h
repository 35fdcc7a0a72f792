/*
 * plugin_host.h - the host's real services for a plugin compiled into a
 * test program: its option table resolved with "key=value" overrides
 * (src/plugin/options.c, the same checks as -O on the command line) and a
 * bbt_hostsvc (src/plugin/services.c) for its log, random stream and options.
 *
 *     #include "plugin_host.h"
 *     extern const struct bbt_plugin bbt_plugin;
 *     struct plugin_host ph = { 0 };
 *     const char *over[] = { "radius=0.1", NULL };
 *     const bbt_host_t *h = plugin_host_init(&ph, &bbt_plugin, 42, over);
 *     ... bbt_plugin.optimizer->create(h, ...); h->rng_normal(h->ctx) ...
 *     ... ph.warnings: the plugin's log lines at warning or worse ...
 *     plugin_host_release(&ph);   (after the plugin instance is freed)
 *
 * The host handed out lives in `ph` (its log is counted on the way to the
 * real one): `ph` must stay where it is until plugin_host_release.
 * Header-only, like tap.h; the program links libbbthost.
 */
#ifndef BBT_T_PLUGIN_HOST_H
#define BBT_T_PLUGIN_HOST_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bbtbench/plugin.h>

#include "plugin/services.h"
#include "core/log.h"
#include "plugin/options.h"
#include "tap.h"
#include "core/util.h"

struct plugin_host {
	bbt_options_t *opts;
	bbt_hostsvc_t *svc;
	bbt_host_t host;       /* svc's services, ctx this struct, the log counted */
	const char *name;      /* the plugin's */
	int quiet;             /* set to 1: the plugin's log lines are dropped */
	int warnings;          /* log lines at BBT_LOG_WARNING or worse so far */
	char err[BBT_ERRLEN];  /* why plugin_host_init failed ("" if it did not) */
};

/* The host's own services behind ph->host. */
TAP_FN const bbt_host_t *plugin_host_real(void *ctx)
{
	return bbt_hostsvc_host(((struct plugin_host *)ctx)->svc);
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
TAP_FN void plugin_host_log(void *ctx, enum bbt_log_level level, const char *fmt, ...)
{
	struct plugin_host *ph = ctx;
	va_list ap;
	if (level <= BBT_LOG_WARNING)
		ph->warnings++;
	if (ph->quiet)
		return;
	va_start(ap, fmt);
	bbt_logv(level, ph->name, fmt, ap);   /* what src/plugin/services.c's log does */
	va_end(ap);
}

TAP_FN double plugin_host_uniform(void *ctx)
{
	const bbt_host_t *h = plugin_host_real(ctx);
	return h->rng_uniform(h->ctx);
}

TAP_FN double plugin_host_normal(void *ctx)
{
	const bbt_host_t *h = plugin_host_real(ctx);
	return h->rng_normal(h->ctx);
}

TAP_FN uint64_t plugin_host_uint(void *ctx, uint64_t n)
{
	const bbt_host_t *h = plugin_host_real(ctx);
	return h->rng_uint(h->ctx, n);
}

TAP_FN long plugin_host_opt_int(void *ctx, const char *key)
{
	const bbt_host_t *h = plugin_host_real(ctx);
	return h->opt_int(h->ctx, key);
}

TAP_FN double plugin_host_opt_double(void *ctx, const char *key)
{
	const bbt_host_t *h = plugin_host_real(ctx);
	return h->opt_double(h->ctx, key);
}

TAP_FN int plugin_host_opt_bool(void *ctx, const char *key)
{
	const bbt_host_t *h = plugin_host_real(ctx);
	return h->opt_bool(h->ctx, key);
}

TAP_FN const char *plugin_host_opt_string(void *ctx, const char *key)
{
	const bbt_host_t *h = plugin_host_real(ctx);
	return h->opt_string(h->ctx, key);
}

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
 * with `seed`. NULL, with a diag() and the reason in ph->err, on a
 * malformed, unknown or out-of-range override or out of memory; `ph` holds
 * nothing to release then. The host stays valid until
 * plugin_host_release(ph). */
TAP_FN const bbt_host_t *plugin_host_init(struct plugin_host *ph, const struct bbt_plugin *plugin,
                                          uint32_t seed, const char *const *over)
{
	bbt_kvlist_t given = { 0 };
	int rc = BBT_OK;

	memset(ph, 0, sizeof *ph);
	for (; rc == BBT_OK && over != NULL && *over != NULL; over++) {
		const char *eq = strchr(*over, '=');
		char *key;
		if (eq == NULL || eq == *over) {
			snprintf(ph->err, sizeof ph->err, "override '%s' is not key=value", *over);
			rc = BBT_EINVAL;
		} else if ((key = bbt_strndup(*over, (size_t)(eq - *over))) == NULL) {
			rc = BBT_ENOMEM;
		} else {
			rc = bbt_kvlist_set(&given, key, eq + 1, "test");
			free(key);
		}
	}
	if (rc == BBT_OK) {
		rc = bbt_options_resolve(plugin->options, plugin->name, &given, &ph->opts, ph->err,
		                         sizeof ph->err);
	}
	bbt_kvlist_clear(&given);
	if (rc == BBT_OK && (ph->svc = bbt_hostsvc_alloc(plugin->name, seed, ph->opts)) == NULL)
		rc = BBT_ENOMEM;
	if (rc == BBT_ENOMEM)
		snprintf(ph->err, sizeof ph->err, "out of memory");
	if (rc != BBT_OK) {
		diag("plugin_host: %s", ph->err);
		plugin_host_release(ph);
		return NULL;
	}
	ph->name = plugin->name;
	ph->host = (bbt_host_t){
		.ctx = ph,
		.log = plugin_host_log,
		.rng_uniform = plugin_host_uniform,
		.rng_normal = plugin_host_normal,
		.rng_uint = plugin_host_uint,
		.opt_int = plugin_host_opt_int,
		.opt_double = plugin_host_opt_double,
		.opt_bool = plugin_host_opt_bool,
		.opt_string = plugin_host_opt_string,
	};
	return &ph->host;
}

#endif /* BBT_T_PLUGIN_HOST_H */
