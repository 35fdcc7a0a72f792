/*
 * paths.h - where bbtbench finds its own files: the task folders (and, in
 * later steps, the build tree and the install prefix).
 */
#ifndef BBT_PATHS_H
#define BBT_PATHS_H

#include <stddef.h>

/* Folders searched for task YAML files, in order: $BBTBENCH_TASKS_PATH
 * (colon-separated), the source tree's tasks/ when running from the build
 * tree, the installed pkgdatadir/tasks. Returns how many were written
 * (at most cap); the strings live until the program exits. */
size_t bbt_task_dirs(const char **dirs, size_t cap);

#endif /* BBT_PATHS_H */
