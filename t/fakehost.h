/*
 * fakehost.h - a stand-in for the host's plugin services in the optimizer
 * unit tests (t/zo.c, t/bdpl.c): a plugin's default options with overrides,
 * a seeded splitmix64 stream and a log on stderr. Header-only, like tap.h.
 *
 *     struct fake_host fh;
 *     bbt_host_t host;
 *     const char *over[] = { "q=50", NULL };
 *     fake_init(&fh, &host, plugin.options, 42, over);
 */
#ifndef BBT_FAKEHOST_H
#define BBT_FAKEHOST_H

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bbtbench/plugin.h>

#define FAKE_MAX_OPTS 16

#if defined(__GNUC__)
#define FAKE_FN static __attribute__((unused))
#else
#define FAKE_FN static
#endif

struct fake_host {
	const char *key[FAKE_MAX_OPTS];
	char val[FAKE_MAX_OPTS][64];
	size_t n;
	uint64_t rng;
	int have_spare;
	double spare;
	int warnings;   /* log lines at BBT_LOG_WARNING or worse */
};

FAKE_FN const char *fake_value(struct fake_host *f, const char *key)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->key[i], key) == 0)
			return f->val[i];
	return NULL;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
FAKE_FN void fake_log(void *ctx, enum bbt_log_level level, const char *fmt, ...)
{
	struct fake_host *f = ctx;
	va_list ap;
	if (level <= BBT_LOG_WARNING)
		f->warnings++;
	fprintf(stderr, "# plugin[%d]: ", (int)level);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}

FAKE_FN uint64_t fake_next(struct fake_host *f)
{
	uint64_t z = (f->rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

FAKE_FN double fake_uniform(void *ctx)
{
	return (double)(fake_next(ctx) >> 11) * 0x1.0p-53;
}

FAKE_FN double fake_normal(void *ctx)
{
	struct fake_host *f = ctx;
	if (f->have_spare) {
		f->have_spare = 0;
		return f->spare;
	}
	double u1 = 1.0 - fake_uniform(ctx), u2 = fake_uniform(ctx);
	double r = sqrt(-2.0 * log(u1));
	f->spare = r * sin(6.283185307179586 * u2);
	f->have_spare = 1;
	return r * cos(6.283185307179586 * u2);
}

FAKE_FN uint64_t fake_uint(void *ctx, uint64_t n)
{
	return fake_next(ctx) % n;
}

FAKE_FN long fake_int(void *ctx, const char *key)
{
	const char *v = fake_value(ctx, key);
	return v ? strtol(v, NULL, 10) : 0;
}

FAKE_FN double fake_double(void *ctx, const char *key)
{
	const char *v = fake_value(ctx, key);
	return v ? strtod(v, NULL) : 0;
}

FAKE_FN int fake_bool(void *ctx, const char *key)
{
	return fake_int(ctx, key) != 0;
}

FAKE_FN const char *fake_string(void *ctx, const char *key)
{
	const char *v = fake_value(ctx, key);
	return v ? v : "";
}

/* Defaults of `spec`, then the "key=value" strings of `over` (NULL-ended). */
FAKE_FN void fake_init(struct fake_host *f, bbt_host_t *h, const struct bbt_option_spec *spec,
                      uint64_t seed, const char *const *over)
{
	memset(f, 0, sizeof *f);
	f->rng = seed;
	for (const struct bbt_option_spec *o = spec; o && o->name && f->n < FAKE_MAX_OPTS; o++) {
		f->key[f->n] = o->name;
		snprintf(f->val[f->n], sizeof f->val[0], "%s", o->def ? o->def : "");
		f->n++;
	}
	for (; over && *over; over++) {
		const char *eq = strchr(*over, '=');
		for (size_t i = 0; eq && i < f->n; i++)
			if (strncmp(f->key[i], *over, (size_t)(eq - *over)) == 0 &&
			    f->key[i][eq - *over] == '\0')
				snprintf(f->val[i], sizeof f->val[0], "%s", eq + 1);
	}
	h->ctx = f;
	h->log = fake_log;
	h->rng_uniform = fake_uniform;
	h->rng_normal = fake_normal;
	h->rng_uint = fake_uint;
	h->opt_int = fake_int;
	h->opt_double = fake_double;
	h->opt_bool = fake_bool;
	h->opt_string = fake_string;
}

#endif /* BBT_FAKEHOST_H */
