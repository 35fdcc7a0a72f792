/*
 * options.h - plugin options: the key=value pairs a user gave (command line
 * -O, INI sections) and their resolution against a plugin's declared table
 * (struct bbt_option_spec in bbtbench/host.h).
 *
 *     bbt_kvlist_t given = { 0 };
 *     bbt_kvlist_set(&given, "q", "20", "command line");
 *     bbt_options_t *opts;
 *     if (bbt_options_resolve(desc->options, "zo-adam", &given, &opts, err, n) < 0)
 *         ... "zo-adam: unknown option 'qq' (command line); known: q, mu, lr"
 *     long q = bbt_options_int(opts, "q");
 *     bbt_options_free(opts);
 *     bbt_kvlist_clear(&given);
 */
#ifndef BBT_OPTIONS_H
#define BBT_OPTIONS_H

#include <stddef.h>
#include <bbtbench/host.h>

/* One given pair and where it came from ("command line", "run.ini:14"). */
struct bbt_kv {
	char *key;
	char *value;
	char *origin;
};

/* An ordered list of pairs; a key set twice keeps the last value (so the
 * command line, applied after the INI file, wins). Zero-initialise. */
typedef struct bbt_kvlist {
	size_t n, cap;
	struct bbt_kv *items;
} bbt_kvlist_t;

int bbt_kvlist_set(bbt_kvlist_t *list, const char *key, const char *value, const char *origin);
const struct bbt_kv *bbt_kvlist_get(const bbt_kvlist_t *list, const char *key);
/* Append every pair of `from` (later pairs replace earlier ones). */
int bbt_kvlist_merge(bbt_kvlist_t *into, const bbt_kvlist_t *from);
void bbt_kvlist_clear(bbt_kvlist_t *list);

typedef struct bbt_options bbt_options_t;

/* Check every given key against `spec` (unknown key, bad value, out of
 * range: BBT_EINVAL naming the plugin, key, origin and what was expected)
 * and fill in defaults. spec may be NULL (a plugin without options). */
int bbt_options_resolve(const struct bbt_option_spec *spec, const char *plugin,
                        const bbt_kvlist_t *given, bbt_options_t **out,
                        char *err, size_t errlen);
void bbt_options_free(bbt_options_t *opts);

/* Typed values of a resolved option; a key outside the table is a
 * programmer error (logged; returns 0 or ""). */
long bbt_options_int(const bbt_options_t *opts, const char *key);
double bbt_options_double(const bbt_options_t *opts, const char *key);
int bbt_options_bool(const bbt_options_t *opts, const char *key);
const char *bbt_options_string(const bbt_options_t *opts, const char *key);

/* All resolved options in table order, as text (for config.ini and
 * result.json). */
size_t bbt_options_count(const bbt_options_t *opts);
const char *bbt_options_key(const bbt_options_t *opts, size_t i);
const char *bbt_options_text(const bbt_options_t *opts, size_t i);

/* Whether `key` is declared in `spec`. */
int bbt_options_declares(const struct bbt_option_spec *spec, const char *key);

#endif /* BBT_OPTIONS_H */
