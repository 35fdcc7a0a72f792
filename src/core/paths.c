/*
 * paths.c - where bbtbench finds its own files (see paths.h): the build
 * tree by the marker configure writes, the install prefix relative to the
 * program, the per-user folder, and the task folders.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/paths.h"
#include "core/util.h"

static int is_dir(const char *path)
{
	struct stat st;
	return path != NULL && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* path without its last component ("/a/b" -> "/a", "/a" -> "/"). */
static char *parent_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		return bbt_strdup(".");
	if (slash == path)
		return bbt_strdup("/");
	return bbt_strndup(path, (size_t)(slash - path));
}

const char *bbt_paths_exe_dir(void)
{
	static char *dir;
	static int checked;
	if (checked)
		return dir;
	checked = 1;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	dir = parent_of(exe);
	/* libtool's wrapper script runs the real program from .libs/ */
	const char *base = dir != NULL ? strrchr(dir, '/') : NULL;
	if (base != NULL && strcmp(base, "/.libs") == 0) {
		char *up = parent_of(dir);
		free(dir);
		dir = up;
	}
	return dir;
}

/* ------------------------------------------------------------------ */
/* Build tree */

/* The srcdir= line of the marker at `marker`, resolved against the
 * marker's folder `root`; NULL when absent or not a folder. */
static char *marker_srcdir(const char *marker, const char *root)
{
	char *text = NULL;
	size_t len;
	if (bbt_file_read(marker, &text, &len, NULL, 0) != BBT_OK)
		return NULL;
	char *found = NULL, *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line != NULL && found == NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		line = bbt_trim(line);
		if (strncmp(line, "srcdir", 6) != 0)
			continue;
		char *v = line + 6;
		v += strspn(v, " \t");
		if (*v != '=')
			continue;
		v = bbt_trim(v + 1);
		char *joined = v[0] != '\0' ? bbt_path_join(root, v) : NULL;
		char resolved[PATH_MAX];
		if (joined != NULL && realpath(joined, resolved) != NULL && is_dir(resolved))
			found = bbt_strdup(resolved);
		free(joined);
	}
	free(text);
	return found;
}

int bbt_paths_find_build_tree(const char *exe_dir, char **root, char **srcdir)
{
	*root = *srcdir = NULL;
	if (exe_dir == NULL)
		return 0;
	char *dir = bbt_strdup(exe_dir);
	for (int up = 0; dir != NULL && up < 2; up++) {
		char *marker = bbt_path_join(dir, BBT_BUILD_MARKER);
		struct stat st;
		if (marker == NULL) {
			free(dir);
			return BBT_ENOMEM;
		}
		if (stat(marker, &st) == 0 && S_ISREG(st.st_mode)) {
			*srcdir = marker_srcdir(marker, dir);
			free(marker);
			*root = dir;
			return 1;
		}
		free(marker);
		if (strcmp(dir, "/") == 0)
			break;
		char *next = parent_of(dir);
		free(dir);
		dir = next;
	}
	if (dir == NULL)
		return BBT_ENOMEM;
	free(dir);
	return 0;
}

static char *tree_root, *tree_srcdir;

static void find_tree(void)
{
	static int checked;
	if (!checked) {
		checked = 1;
		if (bbt_paths_find_build_tree(bbt_paths_exe_dir(), &tree_root, &tree_srcdir) <= 0)
			tree_root = tree_srcdir = NULL;
	}
}

const char *bbt_build_tree(void)
{
	find_tree();
	return tree_root;
}

const char *bbt_build_srcdir(void)
{
	find_tree();
	return tree_srcdir;
}

/* ------------------------------------------------------------------ */
/* Install prefix */

/* The components of an absolute path ("/a//b/./c" -> a, b, c) into a
 * copy of it; -1 when not absolute, when a component is "..", or when
 * there are more than cap. */
static int components(char *path, char **out, int cap)
{
	if (path[0] != '/')
		return -1;
	int n = 0;
	char *save = NULL;
	for (char *c = strtok_r(path, "/", &save); c != NULL; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0 || n == cap)
			return -1;
		out[n++] = c;
	}
	return n;
}

char *bbt_paths_relative(const char *from, const char *to)
{
	enum { MAX_PARTS = 64 };
	char *f = bbt_strdup(from), *t = bbt_strdup(to), *rel = NULL;
	char *fp[MAX_PARTS], *tp[MAX_PARTS];
	int nf = f ? components(f, fp, MAX_PARTS) : -1;
	int nt = t ? components(t, tp, MAX_PARTS) : -1;
	if (nf >= 0 && nt >= 0) {
		int common = 0;
		while (common < nf && common < nt && strcmp(fp[common], tp[common]) == 0)
			common++;
		size_t len = 2;
		for (int i = common; i < nt; i++)
			len += strlen(tp[i]) + 1;
		len += 3 * (size_t)(nf - common);
		rel = malloc(len);
		if (rel != NULL) {
			rel[0] = '\0';
			for (int i = common; i < nf; i++)
				strcat(rel, i + 1 < nf || common < nt ? "../" : "..");
			for (int i = common; i < nt; i++) {
				strcat(rel, tp[i]);
				if (i + 1 < nt)
					strcat(rel, "/");
			}
			if (rel[0] == '\0')
				strcpy(rel, ".");
		}
	}
	free(f);
	free(t);
	return rel;
}

char *bbt_paths_installed(const char *exe_dir, const char *bindir, const char *configured)
{
	char *rel = exe_dir != NULL ? bbt_paths_relative(bindir, configured) : NULL;
	char *cand = rel != NULL ? bbt_path_join(exe_dir, rel) : NULL;
	char resolved[PATH_MAX];
	char *found = NULL;
	if (cand != NULL && realpath(cand, resolved) != NULL && is_dir(resolved))
		found = bbt_strdup(resolved);
	free(rel);
	free(cand);
	return found != NULL ? found : bbt_strdup(configured);
}

/* pkglibdir or pkgdatadir for this program: from the build tree, the
 * configure-time folder (another program may be installed there), else
 * relative to the program. */
static const char *installed_dir(char **cache, const char *configured)
{
	if (*cache == NULL)
		*cache = bbt_paths_installed(bbt_build_tree() ? NULL : bbt_paths_exe_dir(),
		                             BBT_BINDIR, configured);
	return *cache != NULL ? *cache : configured;
}

const char *bbt_paths_pkglibdir(void)
{
	static char *dir;
	return installed_dir(&dir, BBT_PKGLIBDIR);
}

const char *bbt_paths_pkgdatadir(void)
{
	static char *dir;
	return installed_dir(&dir, BBT_PKGDATADIR);
}

/* ------------------------------------------------------------------ */
/* Per-user folder */

char *bbt_paths_user_dir(const char *sub)
{
	/* XDG Base Directory: a relative XDG_DATA_HOME is invalid, ignored. */
	const char *xdg = getenv("XDG_DATA_HOME");
	if (xdg != NULL && xdg[0] == '/')
		return bbt_asprintf("%s/bbtbench/%s", xdg, sub);
	const char *home = getenv("HOME");
	if (home != NULL && home[0] == '/')
		return bbt_asprintf("%s/.local/share/bbtbench/%s", home, sub);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Task folders */

size_t bbt_task_dirs(const char **dirs, size_t cap)
{
	static char *env_copy, *tree_dir, *installed;
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
	if (bbt_build_srcdir() != NULL && tree_dir == NULL)
		tree_dir = bbt_path_join(bbt_build_srcdir(), "tasks");
	if (tree_dir != NULL && n < cap)
		dirs[n++] = tree_dir;
	/* as for plugins: the user's own after the build tree's, before the
	 * installed ones, so that a task of one's own needs no variable set */
	static char *user;
	static int user_checked;
	if (!user_checked) {
		user_checked = 1;
		user = bbt_paths_user_dir("tasks");
	}
	if (user != NULL && n < cap)
		dirs[n++] = user;
	if (installed == NULL)
		installed = bbt_path_join(bbt_paths_pkgdatadir(), "tasks");
	if (n < cap)
		dirs[n++] = installed != NULL ? installed : BBT_PKGDATADIR "/tasks";
	return n;
}
