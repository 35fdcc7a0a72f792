/*
 * catalog.c - the tasks found in the task folders.
 */
#include "config.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "data/catalog.h"
#include "core/paths.h"
#include "core/suggest.h"
#include "core/util.h"

static int yaml_file(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return n > 5 && strcmp(d->d_name + n - 5, ".yaml") == 0;
}

static int has_task(const bbt_catalog_t *cat, const char *name)
{
	for (size_t i = 0; i < cat->n; i++)
		if (strcmp(cat->tasks[i]->name, name) == 0)
			return 1;
	return 0;
}

static int add_task(bbt_catalog_t *cat, bbt_task_t *t)
{
	bbt_task_t **a = realloc(cat->tasks, (cat->n + 1) * sizeof *a);
	if (a == NULL)
		return BBT_ENOMEM;
	a[cat->n++] = t;
	cat->tasks = a;
	return BBT_OK;
}

static int add_problem(bbt_catalog_t *cat, const char *msg)
{
	char **a = realloc(cat->bad, (cat->n_bad + 1) * sizeof *a);
	if (a == NULL)
		return BBT_ENOMEM;
	cat->bad = a;
	if ((a[cat->n_bad] = bbt_strdup(msg)) == NULL)
		return BBT_ENOMEM;
	cat->n_bad++;
	return BBT_OK;
}

bbt_catalog_t *bbt_catalog_load(void)
{
	bbt_catalog_t *cat = calloc(1, sizeof *cat);
	if (cat == NULL)
		return NULL;
	const char *dirs[20];
	size_t nd = bbt_task_dirs(dirs, 20);
	int rc = BBT_OK;
	for (size_t d = 0; d < nd; d++) {
		struct dirent **names = NULL;
		int n = scandir(dirs[d], &names, yaml_file, alphasort);
		for (int i = 0; i < n; i++) {
			char *path = rc == BBT_OK ? bbt_path_join(dirs[d], names[i]->d_name) : NULL;
			bbt_task_t *t = NULL;
			char err[BBT_ERRLEN];
			if (path == NULL) {
				rc = BBT_ENOMEM;
			} else if (bbt_task_load(path, &t, err, sizeof err) != BBT_OK) {
				rc = add_problem(cat, err);
			} else if (has_task(cat, t->name)) {
				bbt_task_free(t);   /* a later folder's task of a known name */
			} else if ((rc = add_task(cat, t)) < 0) {
				bbt_task_free(t);
			}
			free(path);
			free(names[i]);
		}
		free(names);
	}
	if (rc != BBT_OK) {
		bbt_catalog_free(cat);
		return NULL;
	}
	return cat;
}

void bbt_catalog_free(bbt_catalog_t *cat)
{
	if (cat == NULL)
		return;
	for (size_t i = 0; i < cat->n; i++)
		bbt_task_free(cat->tasks[i]);
	for (size_t i = 0; i < cat->n_bad; i++)
		free(cat->bad[i]);
	free(cat->tasks);
	free(cat->bad);
	free(cat);
}

void bbt_catalog_explain_missing(const char *name, char *err, size_t errlen)
{
	bbt_catalog_t *cat = bbt_catalog_load();
	const char **names = cat != NULL ? calloc(cat->n + 1, sizeof *names) : NULL;
	if (names == NULL || err == NULL) {
		free(names);
		bbt_catalog_free(cat);
		return;
	}
	for (size_t i = 0; i < cat->n; i++)
		names[i] = cat->tasks[i]->name;
	const char *guess = bbt_suggest(name, names, cat->n);
	size_t len = strlen(err);
	if (guess != NULL && len < errlen) {
		snprintf(err + len, errlen - len, "; did you mean '%s'?", guess);
		len += strlen(err + len);
	}
	for (size_t i = 0; i < cat->n && len < errlen; i++) {
		snprintf(err + len, errlen - len, "%s%s%s", i ? ", " : " (tasks: ", names[i],
		         i + 1 == cat->n ? ")" : "");
		len += strlen(err + len);
	}
	free(names);
	bbt_catalog_free(cat);
}
