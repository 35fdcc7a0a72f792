/*
 * paths.c - where bbtbench finds its own files.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/paths.h"
#include "core/util.h"
#include "plugin/registry.h"   /* bbt_build_tree */

size_t bbt_task_dirs(const char **dirs, size_t cap)
{
	static char *env_copy, *tree_dir;
	size_t n = 0;
	const char *env = getenv("BBTBENCH_TASKS_PATH");
	if (env != NULL && env_copy == NULL)
		env_copy = bbt_strdup(env);
	if (env_copy != NULL) {
		/* split in place once: the pieces live as long as the program */
		static int split;
		static const char *pieces[16];
		static size_t n_pieces;
		if (!split) {
			char *save = NULL;
			for (char *t = strtok_r(env_copy, ":", &save); t && n_pieces < 16;
			     t = strtok_r(NULL, ":", &save))
				pieces[n_pieces++] = t;
			split = 1;
		}
		for (size_t i = 0; i < n_pieces && n < cap; i++)
			dirs[n++] = pieces[i];
	}
	if (bbt_build_tree() != NULL && tree_dir == NULL)
		tree_dir = bbt_asprintf("%s/tasks", BBT_ABS_SRCDIR);
	if (bbt_build_tree() != NULL && tree_dir != NULL && n < cap)
		dirs[n++] = tree_dir;
	if (n < cap)
		dirs[n++] = BBT_PKGDATADIR "/tasks";
	return n;
}

