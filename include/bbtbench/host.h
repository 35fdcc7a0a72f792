/*
 * bbtbench/host.h - what the host offers a plugin: logging, a seeded random
 * number generator and the plugin's own, already validated, options.
 *
 * A plugin declares its options as a table of struct bbt_option_spec ending
 * in a zeroed entry. The host reads `key=value` pairs from the command line
 * (-O key=value) and from the plugin's INI section, refuses keys the table
 * does not list and values that do not parse as the declared type or fall
 * outside [min, max], fills in defaults, and only then creates the plugin.
 * The plugin reads the resolved values through the bbt_host functions:
 *
 *     static const struct bbt_option_spec options[] = {
 *         { "q", BBT_OPT_INT, "10", NULL, 1, 1e6, "directions per gradient" },
 *         { "difference", BBT_OPT_CHOICE, "forward", "forward|central", 0, 0,
 *           "finite-difference scheme" },
 *         { 0 }
 *     };
 *     ...
 *     long q = host->opt_int(host->ctx, "q");
 *
 * Each plugin instance gets its own random stream, seeded from the run seed,
 * so two runs with the same seed are bit-identical on the same build.
 */
#ifndef BBTBENCH_HOST_H
#define BBTBENCH_HOST_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum bbt_log_level {
	BBT_LOG_ERROR = 0,
	BBT_LOG_WARNING = 1,
	BBT_LOG_INFO = 2,
	BBT_LOG_DEBUG = 3,
};

enum bbt_option_type {
	BBT_OPT_INT = 1,    /* decimal integer, range-checked against min/max */
	BBT_OPT_DOUBLE = 2, /* floating point, range-checked against min/max */
	BBT_OPT_BOOL = 3,   /* true/false, yes/no, on/off, 1/0 */
	BBT_OPT_STRING = 4, /* any text */
	BBT_OPT_CHOICE = 5, /* one of the '|'-separated words in `choices` */
};

struct bbt_option_spec {
	const char *name;          /* key as written after -O or in the INI section */
	enum bbt_option_type type;
	const char *def;           /* default value, as text; NULL: no default (string "") */
	const char *choices;       /* BBT_OPT_CHOICE: "a|b|c"; otherwise NULL */
	double min, max;           /* numeric range, inclusive; ignored when min >= max */
	const char *help;          /* one line for `bbtbench list --options` */
};

/* Host services handed to a plugin when it is created. Every function takes
 * `ctx` as its first argument; the pointers stay valid until the plugin is
 * freed. None of them fails. */
struct bbt_host {
	void *ctx;

	/* printf-style message on the host's log (stderr), prefixed with the
	 * plugin name; never stdout. */
	void (*log)(void *ctx, enum bbt_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
		__attribute__((format(printf, 3, 4)))
#endif
		;

	/* The plugin's own random stream. */
	double (*rng_uniform)(void *ctx);   /* uniform on [0, 1) */
	double (*rng_normal)(void *ctx);    /* standard normal */
	uint64_t (*rng_uint)(void *ctx, uint64_t n); /* uniform on {0, ..., n-1}, n > 0 */

	/* Resolved options; `key` must be in the plugin's table (asking for
	 * another key is a programmer error and returns 0 / "" ). */
	long (*opt_int)(void *ctx, const char *key);
	double (*opt_double)(void *ctx, const char *key);
	int (*opt_bool)(void *ctx, const char *key);
	const char *(*opt_string)(void *ctx, const char *key); /* also CHOICE */
};

typedef struct bbt_host bbt_host_t;

#ifdef __cplusplus
}
#endif

#endif /* BBTBENCH_HOST_H */
