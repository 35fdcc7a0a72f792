/*
 * catalog.h - every task the program can find: the YAML files of the task
 * folders (bbt_task_dirs), loaded, the first file of each task name kept.
 */
#ifndef BBT_CATALOG_H
#define BBT_CATALOG_H

#include <stddef.h>
#include "data/task.h"

struct bbt_catalog {
	size_t n;
	bbt_task_t **tasks;      /* sorted by folder order, then file name */
	size_t n_bad;
	char **bad;              /* one message per YAML file that did not load */
};

typedef struct bbt_catalog bbt_catalog_t;

/* NULL on out of memory. */
bbt_catalog_t *bbt_catalog_load(void);
void bbt_catalog_free(bbt_catalog_t *cat);

/* After a "task not found" message in err: append the nearest task name
 * and every task there is ("; did you mean 'sst2'? (tasks: agnews, ...)"). */
void bbt_catalog_explain_missing(const char *name, char *err, size_t errlen);

#endif /* BBT_CATALOG_H */
