/*
 * registry.h - finding and loading plugins (all of libltdl lives in
 * registry.c).
 *
 * Search order (first found wins for a name):
 *   1. --plugin-dir DIR (each one given, in order)
 *   2. BBTBENCH_PLUGIN_PATH, colon-separated
 *   3. the build tree's plugins/<kind>/<name>/ folders, when the running
 *      program lives in the build tree (so nothing needs installing)
 *   4. the installed pkglibdir
 *
 * Every *.la (or a *.so without a .la beside it) in those folders is opened
 * and must export BBT_PLUGIN_SYMBOL with a matching ABI major. A module
 * that fails is recorded as a problem ("FILE: not a bbtbench plugin (no
 * symbol bbt_plugin)") and skipped: `bbtbench list` shows problems, and
 * a run fails only if the plugin it asked for is missing.
 *
 *     bbt_registry_t *reg = bbt_registry_alloc();
 *     bbt_registry_add_default_dirs(reg, plugin_dirs, n);
 *     bbt_registry_scan(reg);
 *     const struct bbt_plugin_entry *e =
 *         bbt_registry_find(reg, BBT_PLUGIN_OPTIMIZER, "cmaes", err, sizeof err);
 *     ...
 *     bbt_registry_free(reg);   (unloads every module)
 */
#ifndef BBT_REGISTRY_H
#define BBT_REGISTRY_H

#include <stddef.h>
#include <bbtbench/plugin.h>

struct bbt_plugin_entry {
	const struct bbt_plugin *desc;
	char *path;              /* the module file */
	char *dir_origin;        /* which search-path entry found it ("--plugin-dir", ...) */
};

typedef struct bbt_registry bbt_registry_t;

/* NULL on out of memory or when libltdl cannot start. */
bbt_registry_t *bbt_registry_alloc(void);
void bbt_registry_free(bbt_registry_t *reg);

/* Append a folder to the search path. */
int bbt_registry_add_dir(bbt_registry_t *reg, const char *dir, const char *origin);
/* The standard order above, after the given --plugin-dir folders. */
int bbt_registry_add_default_dirs(bbt_registry_t *reg, const char *const *plugin_dirs, size_t n);

/* Open every module in the search path. Returns the number of problems
 * recorded (not an error: see bbt_registry_problem). */
size_t bbt_registry_scan(bbt_registry_t *reg);

/* Open one module file. BBT_EABI / BBT_EFORMAT / BBT_EINVAL (name taken)
 * with a one-line message naming the file. */
int bbt_registry_load(bbt_registry_t *reg, const char *path, const char *origin,
                      char *err, size_t errlen);

size_t bbt_registry_count(const bbt_registry_t *reg);
const struct bbt_plugin_entry *bbt_registry_entry(const bbt_registry_t *reg, size_t i);
size_t bbt_registry_problem_count(const bbt_registry_t *reg);
const char *bbt_registry_problem(const bbt_registry_t *reg, size_t i);
size_t bbt_registry_dir_count(const bbt_registry_t *reg);
const char *bbt_registry_dir(const bbt_registry_t *reg, size_t i);

/* The plugin of that kind and name; BBT_ENOTFOUND lists what was found
 * and where it looked. */
const struct bbt_plugin_entry *bbt_registry_find(const bbt_registry_t *reg,
                                                 enum bbt_plugin_kind kind, const char *name,
                                                 char *err, size_t errlen);

const char *bbt_plugin_kind_name(enum bbt_plugin_kind kind);

/* Optional functions appended by ABI minor versions, or NULL when the
 * plugin lacks them (including plugins built for an older minor, whose
 * tables end before the field). */
typedef int (*bbt_backend_gradient_fn)(void *, const struct bbt_batch *, const float *, size_t,
                                       bbt_logit_grad_fn, void *, float *, float *, char *,
                                       size_t);
typedef int (*bbt_gradient_estimate_fn)(void *, double *, double *);
bbt_backend_gradient_fn bbt_plugin_backend_gradient(const struct bbt_plugin *desc);
bbt_gradient_estimate_fn bbt_plugin_gradient_estimate(const struct bbt_plugin *desc);

/* The build tree root when the running program lives in it (tests and
 * ./bbtbench before `make install`), else NULL. */
const char *bbt_build_tree(void);

#endif /* BBT_REGISTRY_H */
