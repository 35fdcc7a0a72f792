/*
 * paths.h - where bbtbench finds its own files: the build tree it runs
 * from, the install prefix it was copied or moved to, and the plugin and
 * task folders that follow from them.
 *
 * Nothing here depends on where the tree was configured or built: no
 * absolute source or build path is compiled in.
 *
 *   build tree   configure writes BBT_BUILD_MARKER ("bbtbench-build-tree")
 *                at the top of the build tree, naming the source tree
 *                (`srcdir=..`, relative to the marker or absolute). A
 *                program whose folder (libtool's .libs/ left out) or that
 *                folder's parent holds the marker runs from that build
 *                tree: ./bbtbench, t/NAME, fuzz/NAME, and .libs/ copies.
 *   installed    the program's folder is taken for bindir, and pkglibdir
 *                and pkgdatadir are found as configure laid them out
 *                relative to bindir (../lib/bbtbench, ../share/bbtbench),
 *                so `make install prefix=P`, DESTDIR staging, and a moved
 *                or copied prefix all work; when no such folder exists
 *                there (a lone copy of the program), the configure-time
 *                folders are used.
 *   per-user     $XDG_DATA_HOME/bbtbench (XDG_DATA_HOME absolute), else
 *                $HOME/.local/share/bbtbench.
 *
 * Plugin search order (plugin/registry.c): --plugin-dir, $BBTBENCH_PLUGIN_PATH,
 * the build tree (its plugins/KIND/NAME/ folders, then plugins/ itself), the
 * per-user plugins/ folder, the installed pkglibdir.
 * Task search order (bbt_task_dirs): $BBTBENCH_TASKS_PATH, the build
 * tree's source tasks/, the per-user tasks/ folder, the installed
 * pkgdatadir/tasks.
 */
#ifndef BBT_PATHS_H
#define BBT_PATHS_H

#include <stddef.h>

/* The file configure writes at the top of the build tree. */
#define BBT_BUILD_MARKER "bbtbench-build-tree"

/* The folder of the running program (/proc/self/exe, symlinks resolved),
 * with a trailing libtool ".libs" left out; NULL when unknown. */
const char *bbt_paths_exe_dir(void);

/* The build tree's top folder when the running program lives in it
 * (tests and ./bbtbench before `make install`), else NULL. */
const char *bbt_build_tree(void);

/* That build tree's source tree (the same folder unless VPATH), or NULL
 * when not in a build tree or the source tree is gone. */
const char *bbt_build_srcdir(void);

/* Installed plugin folder (pkglibdir) and data folder (pkgdatadir), as
 * described above. Never NULL; the strings live until the program exits. */
const char *bbt_paths_pkglibdir(void);
const char *bbt_paths_pkgdatadir(void);

/* The per-user folder SUB of bbtbench ("plugins"): $XDG_DATA_HOME/bbtbench/SUB,
 * else $HOME/.local/share/bbtbench/SUB; NULL when neither variable gives
 * an absolute path, or out of memory. Read from the environment at each
 * call; the caller frees. */
char *bbt_paths_user_dir(const char *sub);

/* Folders searched for task YAML files, in order: $BBTBENCH_TASKS_PATH
 * (colon-separated), the source tree's tasks/ when running from the build
 * tree, the per-user folder (bbt_paths_user_dir("tasks"), whether or not it
 * exists), the installed pkgdatadir/tasks. Returns how many were written
 * (at most cap); the environment is read at the first call, and the
 * strings live until the program exits. */
size_t bbt_task_dirs(const char **dirs, size_t cap);

/* The building blocks, for tests. */

/* The relative path that leads from folder `from` to `to`, both absolute,
 * by their names alone ("/usr/bin", "/usr/lib/bbtbench" -> "../lib/bbtbench");
 * NULL when either is not absolute or holds a ".." (the answer would
 * depend on symlinks). The caller frees. */
char *bbt_paths_relative(const char *from, const char *to);

/* The build tree holding the program folder exe_dir (see above): 1 with
 * *root (the marker's folder) and *srcdir (NULL when the source tree named
 * cannot be found) allocated, 0 when none, negative on out of memory. */
int bbt_paths_find_build_tree(const char *exe_dir, char **root, char **srcdir);

/* `configured` (a configure-time folder) as seen from a program in exe_dir
 * that was configured for `bindir`: exe_dir/relative(bindir, configured)
 * when that is a folder (symlinks resolved), else a copy of `configured`.
 * exe_dir NULL: a copy of `configured`. The caller frees. */
char *bbt_paths_installed(const char *exe_dir, const char *bindir, const char *configured);

#endif /* BBT_PATHS_H */
