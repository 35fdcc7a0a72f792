/*
 * fuzz.c - the fuzz targets' temporary files (see fuzz.h).
 */
#define _XOPEN_SOURCE 700
#include "config.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "core/util.h"

static char *tmp_dir;

static int remove_below_root(const char *path, const struct stat *st, int flag,
                             struct FTW *ftw)
{
	if (ftw->level > 0)
		remove(path);
	return 0;
}

static void empty_dir(void)
{
	nftw(tmp_dir, remove_below_root, 16, FTW_DEPTH | FTW_PHYS);
}

static void remove_dir(void)
{
	empty_dir();
	rmdir(tmp_dir);
	free(tmp_dir);
	tmp_dir = NULL;
}

const char *fuzz_dir_reset(void)
{
	if (tmp_dir != NULL) {
		empty_dir();
		return tmp_dir;
	}
	const char *tmp = getenv("TMPDIR");
	tmp_dir = bbt_asprintf("%s/bbt-fuzz-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	if (tmp_dir == NULL || mkdtemp(tmp_dir) == NULL) {
		free(tmp_dir);
		tmp_dir = NULL;
		return NULL;
	}
	atexit(remove_dir);
	return tmp_dir;
}

char *fuzz_write_file(const char *name, const void *data, size_t size)
{
	if (tmp_dir == NULL && fuzz_dir_reset() == NULL)
		return NULL;
	char *path = bbt_path_join(tmp_dir, name);
	if (path == NULL)
		return NULL;
	char *slash = strrchr(path, '/');
	char err[256];
	*slash = '\0';
	int made = bbt_mkdir_p(path, err, sizeof err);
	*slash = '/';
	FILE *f = made == 0 ? fopen(path, "wb") : NULL;
	if (f == NULL || fwrite(data, 1, size, f) != size) {
		if (f != NULL)
			fclose(f);
		free(path);
		return NULL;
	}
	if (fclose(f) != 0) {
		free(path);
		return NULL;
	}
	return path;
}
