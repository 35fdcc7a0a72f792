/*
 * t/fake_host.h - a bbt_host for driving an optimizer plugin without the
 * host: the plugin's option defaults plus `key=value` overrides, a seeded
 * splitmix64 stream (Box-Muller normals), log lines to stderr as TAP
 * comments. Header-only; used by t/cmaes.c and bench/cmaes.c.
 *
 *     struct fake_host fh;
 *     bbt_host_t host;
 *     const char *over[] = { "active=1", NULL };
 *     fake_host_init(&fh, &host, seed, bbt_plugin.options, over);
 */
#ifndef BBT_T_FAKE_HOST_H
#define BBT_T_FAKE_HOST_H

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bbtbench/plugin.h>

#define FAKE_HOST_MAX_OPTS 16

struct fake_host {
	const char *key[FAKE_HOST_MAX_OPTS];
	char val[FAKE_HOST_MAX_OPTS][64];
	size_t n;
	uint64_t rng;
	int have_spare;
	double spare;
	int quiet;         /* 1: drop log lines */
};

static inline const char *fake_host_value(struct fake_host *f, const char *key)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->key[i], key) == 0)
			return f->val[i];
	return NULL;
}

static inline void fake_host_log(void *ctx, enum bbt_log_level level, const char *fmt, ...)
{
	struct fake_host *f = ctx;
	va_list ap;
	if (f->quiet)
		return;
	fprintf(stderr, "# plugin[%d]: ", (int)level);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

static inline uint64_t fake_host_next(struct fake_host *f)
{
	uint64_t z = (f->rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline double fake_host_uniform(void *ctx)
{
	return (double)(fake_host_next(ctx) >> 11) * 0x1.0p-53;
}

static inline double fake_host_normal(void *ctx)
{
	struct fake_host *f = ctx;
	if (f->have_spare) {
		f->have_spare = 0;
		return f->spare;
	}
	double u1 = 1.0 - fake_host_uniform(ctx), u2 = fake_host_uniform(ctx);
	double r = sqrt(-2.0 * log(u1));
	f->spare = r * sin(6.283185307179586 * u2);
	f->have_spare = 1;
	return r * cos(6.283185307179586 * u2);
}

static inline uint64_t fake_host_uint(void *ctx, uint64_t n)
{
	return fake_host_next(ctx) % n;
}

static inline long fake_host_int(void *ctx, const char *key)
{
	const char *v = fake_host_value(ctx, key);
	return v ? strtol(v, NULL, 10) : 0;
}

static inline double fake_host_double(void *ctx, const char *key)
{
	const char *v = fake_host_value(ctx, key);
	return v ? strtod(v, NULL) : 0;
}

static inline int fake_host_bool(void *ctx, const char *key)
{
	const char *v = fake_host_value(ctx, key);
	return v && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 ||
	             strcmp(v, "on") == 0);
}

static inline const char *fake_host_string(void *ctx, const char *key)
{
	const char *v = fake_host_value(ctx, key);
	return v ? v : "";
}

/* Defaults from `options` (may be NULL), then the NULL-terminated
 * "key=value" overrides; an override of an unknown key is ignored here
 * (the real host refuses it). */
static inline void fake_host_init(struct fake_host *f, bbt_host_t *h, uint64_t seed,
                                  const struct bbt_option_spec *options,
                                  const char *const *over)
{
	memset(f, 0, sizeof *f);
	f->rng = seed;
	for (const struct bbt_option_spec *o = options; o && o->name &&
	     f->n < FAKE_HOST_MAX_OPTS; o++) {
		f->key[f->n] = o->name;
		snprintf(f->val[f->n], sizeof f->val[0], "%s", o->def ? o->def : "");
		f->n++;
	}
	for (; over && *over; over++) {
		const char *eq = strchr(*over, '=');
		if (eq == NULL)
			continue;
		for (size_t i = 0; i < f->n; i++)
			if (strncmp(f->key[i], *over, (size_t)(eq - *over)) == 0 &&
			    f->key[i][eq - *over] == '\0')
				snprintf(f->val[i], sizeof f->val[0], "%s", eq + 1);
	}
	h->ctx = f;
	h->log = fake_host_log;
	h->rng_uniform = fake_host_uniform;
	h->rng_normal = fake_host_normal;
	h->rng_uint = fake_host_uint;
	h->opt_int = fake_host_int;
	h->opt_double = fake_host_double;
	h->opt_bool = fake_host_bool;
	h->opt_string = fake_host_string;
}

#endif /* BBT_T_FAKE_HOST_H */
