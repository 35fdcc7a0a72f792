/*
 * registry.h - finding and loading plugins (all of libltdl lives in
 * registry.c).
 *
 * Search order (first found wins for a name; core/paths.h finds the
 * build tree, the per-user folder and the installed one):
 *   1. --plugin-dir DIR (each one given, in order)
 *   2. BBTBENCH_PLUGIN_PATH, colon-separated
 *   3. when the running program lives in a build tree: its freshly built
 *      plugins/<kind>/<name>/ folders, then its top-level plugins/ folder
 *      (drop a module there), so nothing needs installing
 *   4. the per-user folder, $XDG_DATA_HOME/bbtbench/plugins (default
 *      ~/.local/share/bbtbench/plugins)
 *   5. the installed pkglibdir, found relative to the program (so an
 *      installed tree can move), else the configure-time one
 * The build tree comes before the per-user folder so that a developer's
 * own plugins never shadow the ones just built (make check, pinned runs).
 *
 * Opening a module runs its code (its constructors), so nothing is opened
 * that is not needed:
 *
 *   - A plugin's file is named for it: KIND_NAME.la or KIND_NAME.so, with
 *     '-' written '_' (backend_native.la, optimizer_zo_adam.la for zo-adam),
 *     as Makefile.am names the project's modules. bbt_registry_find opens
 *     only that file, in the first folder that has one; there is no
 *     fallback to opening other files, so a module dropped into a plugin
 *     folder under another name never runs during a run or a grid. Only
 *     when no folder has the file does find open the other KIND_* files,
 *     to learn their names for a "did you mean" (the run fails anyway).
 *   - Where KIND_NAME.so and KIND_NAME.la stand side by side (installed),
 *     the .so is opened: libltdl would take an installed .la's module from
 *     the configure-time libdir first, not from the folder it is in, which
 *     defeats a moved install. A build tree's .la (its .so in .libs/) is
 *     opened through libltdl as before.
 *   - bbt_registry_scan (`bbtbench list`) opens every *.so (or *.la
 *     without a .so beside it) of every folder; a plugin whose file is
 *     not named for it is listed, flagged (named_for_lookup = 0).
 *   - As ssh does with its keys, a folder or module file that is world-
 *     writable, group-writable (unless the group is the owner's private
 *     one, as umask 002 leaves a build tree on Debian), or owned by someone
 *     other than the caller or root, is refused: a folder when it is added (a problem, and the folder is
 *     not searched), a file when it would be opened (for .la files also
 *     the .libs/ folder and the .so libltdl takes).
 *
 * A module must export BBT_PLUGIN_SYMBOL with a matching ABI major. One
 * found while scanning that fails is recorded as a problem ("FILE: not a
 * bbtbench plugin (no symbol bbt_plugin)") and skipped: `bbtbench list`
 * shows problems. The file named for a plugin that a run asks for is
 * fatal when it fails: find returns NULL with its message.
 *
 *     bbt_registry_t *reg = bbt_registry_alloc();
 *     bbt_registry_add_default_dirs(reg, plugin_dirs, n);
 *     const struct bbt_plugin_entry *e =
 *         bbt_registry_find(reg, BBT_PLUGIN_OPTIMIZER, "cmaes", err, sizeof err);
 *     ...
 *     bbt_registry_free(reg);   (unloads every module)
 */
#ifndef BBT_REGISTRY_H
#define BBT_REGISTRY_H

#include <stddef.h>
#include <bbtbench/plugin.h>
#include "core/paths.h"   /* bbt_build_tree */

struct bbt_plugin_entry {
	const struct bbt_plugin *desc;
	char *path;              /* the module file */
	char *dir_origin;        /* which search-path entry found it ("--plugin-dir", ...) */
	int named_for_lookup;    /* the file is KIND_NAME.la/.so, so bbt_registry_find opens it */
};

typedef struct bbt_registry bbt_registry_t;

/* NULL on out of memory or when libltdl cannot start. */
bbt_registry_t *bbt_registry_alloc(void);
void bbt_registry_free(bbt_registry_t *reg);

/* Append a folder to the search path; one that cannot be read, or that
 * others can write, is recorded as a problem and not searched. */
int bbt_registry_add_dir(bbt_registry_t *reg, const char *dir, const char *origin);
/* The build tree's folders of step 3 below the top folder `root`. */
int bbt_registry_add_build_tree(bbt_registry_t *reg, const char *root);
/* The standard order above, after the given --plugin-dir folders. */
int bbt_registry_add_default_dirs(bbt_registry_t *reg, const char *const *plugin_dirs, size_t n);

/* Open every module in the search path (for `bbtbench list`). Returns the
 * number of problems recorded (not an error: see bbt_registry_problem). */
size_t bbt_registry_scan(bbt_registry_t *reg);

/* Open one module file. BBT_EABI / BBT_EFORMAT / BBT_EINVAL (name taken,
 * or writable by others) / BBT_EIO with a one-line message naming the file. */
int bbt_registry_load(bbt_registry_t *reg, const char *path, const char *origin,
                      char *err, size_t errlen);

size_t bbt_registry_count(const bbt_registry_t *reg);
const struct bbt_plugin_entry *bbt_registry_entry(const bbt_registry_t *reg, size_t i);
size_t bbt_registry_problem_count(const bbt_registry_t *reg);
const char *bbt_registry_problem(const bbt_registry_t *reg, size_t i);
/* Log every problem recorded so far as a warning: called before a run
 * opens anything, these are the folders refused or unreadable. NULL: no-op. */
void bbt_registry_warn_problems(const bbt_registry_t *reg);
size_t bbt_registry_dir_count(const bbt_registry_t *reg);
const char *bbt_registry_dir(const bbt_registry_t *reg, size_t i);
/* Which search-path entry added folder i ("--plugin-dir", "build tree",
 * "per-user", "installed" ...), and whether it is searched (it exists and
 * only its owner can write it). */
const char *bbt_registry_dir_origin(const bbt_registry_t *reg, size_t i);
int bbt_registry_dir_usable(const bbt_registry_t *reg, size_t i);

/* The plugin of that kind and name, opening its file when it is not open
 * yet (see above). NULL with the message in err: the file named for it
 * failed to load, or none was found (the message then says why configure
 * skipped it, or offers the nearest name and lists those found). */
const struct bbt_plugin_entry *bbt_registry_find(bbt_registry_t *reg, enum bbt_plugin_kind kind,
                                                 const char *name, char *err, size_t errlen);

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
typedef int (*bbt_backend_hidden_fn)(void *, const struct bbt_batch *, size_t, float *, char *,
                                     size_t);
bbt_backend_hidden_fn bbt_plugin_backend_hidden_states(const struct bbt_plugin *desc);
/* 1 when the optimizer can save and load its state (ABI 1.3, both set). */
int bbt_plugin_saves_state(const struct bbt_plugin *desc);
typedef int (*bbt_backend_transport_fn)(void *, struct bbt_backend_transport *);
bbt_backend_transport_fn bbt_plugin_backend_transport(const struct bbt_plugin *desc);

#endif /* BBT_REGISTRY_H */
